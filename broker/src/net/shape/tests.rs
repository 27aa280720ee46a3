//! Checks of the walker against the protocol crate. Requests are generated from the schemas with
//! random (seeded) values, decoded by the crate and re-encoded: if a schema disagreed with the
//! crate's decoder, the decode would fail, leave bytes over or re-encode differently.

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, RequestKind};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::schemas::ALL_REQUESTS;
use super::*;
use crate::net::legacy::is_legacy;

/// Every (message, version) pair the schemas cover.
fn all_versions() -> Vec<(&'static Message, i16)> {
    ALL_REQUESTS
        .iter()
        .flat_map(|m| (m.versions.min..=m.versions.max).map(move |v| (*m, v)))
        .collect()
}

/// Writes random but valid values following a schema.
struct Gen<'r> {
    rng: &'r mut StdRng,
    version: i16,
    flexible: bool,
    /// Array lengths are drawn from 0..max_len; nested arrays shrink the frame quickly.
    max_len: u32,
}

impl Gen<'_> {
    fn varint(out: &mut Vec<u8>, mut value: u32) {
        while value >= 0x80 {
            out.push((value as u8) | 0x80);
            value >>= 7;
        }
        out.push(value as u8);
    }

    fn length(&mut self, out: &mut Vec<u8>, len: Option<usize>, wide: bool) {
        match (self.flexible, len) {
            (true, None) => out.push(0),
            (true, Some(n)) => Self::varint(out, n as u32 + 1),
            (false, len) => {
                let n = len.map_or(-1, |n| n as i32);
                if wide {
                    out.extend_from_slice(&n.to_be_bytes());
                } else {
                    out.extend_from_slice(&(n as i16).to_be_bytes());
                }
            }
        }
    }

    fn fields(&mut self, out: &mut Vec<u8>, fields: &'static [Field]) {
        for field in fields {
            if field.tag.is_none() && field.versions.contains(self.version) {
                let nullable = field.nullable.contains(self.version);
                self.value(out, &field.ty, nullable);
            }
        }
        if self.flexible {
            self.tagged(out, fields);
        }
    }

    /// Known tags first, in schema order, then maybe an unknown one: the order the crate's
    /// encoder writes them in, so that re-encoding reproduces the bytes.
    fn tagged(&mut self, out: &mut Vec<u8>, fields: &'static [Field]) {
        let mut entries = Vec::new();
        for field in fields {
            let Some(tag) = field.tag else { continue };
            if tag.versions.contains(self.version) && self.rng.gen_bool(0.5) {
                let mut value = Vec::new();
                // Null known tags are not re-encoded by the crate: generate non-null values.
                self.value(&mut value, &field.ty, false);
                entries.push((tag.tag, value));
            }
        }
        if self.rng.gen_bool(0.25) {
            let len = self.rng.gen_range(0..4);
            let value = (0..len).map(|_| self.rng.gen()).collect();
            entries.push((self.rng.gen_range(100..200), value));
        }
        Self::varint(out, entries.len() as u32);
        for (tag, value) in entries {
            Self::varint(out, tag);
            Self::varint(out, value.len() as u32);
            out.extend_from_slice(&value);
        }
    }

    fn value(&mut self, out: &mut Vec<u8>, ty: &Ty, nullable: bool) {
        let null = nullable && self.rng.gen_bool(0.2);
        match ty {
            Ty::Int8 => out.push(self.rng.gen()),
            Ty::Bool => out.push(self.rng.gen_range(0..2)),
            Ty::Int16 | Ty::Uint16 => out.extend_from_slice(&self.rng.gen::<[u8; 2]>()),
            Ty::Int32 | Ty::Uint32 => out.extend_from_slice(&self.rng.gen::<[u8; 4]>()),
            Ty::Int64 | Ty::Float64 => out.extend_from_slice(&self.rng.gen::<[u8; 8]>()),
            Ty::Uuid => out.extend_from_slice(&self.rng.gen::<[u8; 16]>()),
            Ty::String | Ty::Bytes | Ty::Records => {
                if null {
                    self.length(out, None, !matches!(ty, Ty::String));
                    return;
                }
                let len = self.rng.gen_range(0..6);
                self.length(out, Some(len), !matches!(ty, Ty::String));
                for _ in 0..len {
                    let b = if matches!(ty, Ty::String) {
                        self.rng.gen_range(b'a'..=b'z')
                    } else {
                        self.rng.gen()
                    };
                    out.push(b);
                }
            }
            Ty::Array(element) => {
                if null {
                    self.length(out, None, true);
                    return;
                }
                let len = self.rng.gen_range(0..self.max_len.max(1));
                self.length(out, Some(len as usize), true);
                let saved = self.max_len;
                self.max_len = saved.saturating_sub(1);
                for _ in 0..len {
                    self.value(out, element, false);
                }
                self.max_len = saved;
            }
            Ty::Struct(fields) => self.fields(out, fields),
        }
    }
}

/// A valid frame (header then body) of `message` v`version`, generated from the schema.
fn generate(rng: &mut StdRng, message: &Message, version: i16) -> Vec<u8> {
    let key = message.key;
    let header_version = crate::net::legacy::request_header_version(key, version);
    let mut out = Vec::new();
    out.extend_from_slice(&(key as i16).to_be_bytes());
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(&rng.gen::<[u8; 4]>());
    let mut gen = Gen {
        rng,
        version,
        flexible: false,
        max_len: 3,
    };
    gen.value(&mut out, &Ty::String, true);
    if header_version >= 2 {
        gen.flexible = true;
        gen.tagged(&mut out, &[]);
    }
    gen.flexible = message.flexible.contains(version);
    gen.fields(&mut out, message.fields);
    out
}

/// Decodes a frame with the crate, as the broker does.
fn crate_decode(
    key: ApiKey,
    version: i16,
    frame: &[u8],
) -> anyhow::Result<(RequestHeader, RequestKind, usize)> {
    let mut bytes = Bytes::copy_from_slice(frame);
    let header = RequestHeader::decode(&mut bytes, key.request_header_version(version))?;
    let request = RequestKind::decode(key, &mut bytes, version)?;
    Ok((header, request, bytes.len()))
}

fn legacy_decode(key: ApiKey, version: i16, frame: &[u8]) -> Result<(), String> {
    crate::net::legacy::decode(key, version, Bytes::copy_from_slice(frame)).map(drop)
}

fn crate_encode(
    key: ApiKey,
    version: i16,
    header: &RequestHeader,
    request: &RequestKind,
) -> Vec<u8> {
    let mut buf = BytesMut::new();
    header
        .encode(&mut buf, key.request_header_version(version))
        .unwrap();
    request.encode(&mut buf, version).unwrap();
    buf.to_vec()
}

fn default_request(key: ApiKey) -> RequestKind {
    match key {
        ApiKey::Produce => RequestKind::Produce(Default::default()),
        ApiKey::Fetch => RequestKind::Fetch(Default::default()),
        ApiKey::ListOffsets => RequestKind::ListOffsets(Default::default()),
        ApiKey::Metadata => RequestKind::Metadata(Default::default()),
        ApiKey::ApiVersions => RequestKind::ApiVersions(Default::default()),
        ApiKey::CreateTopics => RequestKind::CreateTopics(Default::default()),
        ApiKey::DeleteTopics => RequestKind::DeleteTopics(Default::default()),
        ApiKey::InitProducerId => RequestKind::InitProducerId(Default::default()),
        ApiKey::DescribeConfigs => RequestKind::DescribeConfigs(Default::default()),
        ApiKey::CreatePartitions => RequestKind::CreatePartitions(Default::default()),
        ApiKey::FindCoordinator => RequestKind::FindCoordinator(Default::default()),
        ApiKey::JoinGroup => RequestKind::JoinGroup(Default::default()),
        ApiKey::SyncGroup => RequestKind::SyncGroup(Default::default()),
        ApiKey::Heartbeat => RequestKind::Heartbeat(Default::default()),
        ApiKey::LeaveGroup => RequestKind::LeaveGroup(Default::default()),
        ApiKey::OffsetCommit => RequestKind::OffsetCommit(Default::default()),
        ApiKey::OffsetFetch => RequestKind::OffsetFetch(Default::default()),
        ApiKey::TxnOffsetCommit => RequestKind::TxnOffsetCommit(Default::default()),
        ApiKey::WriteTxnMarkers => RequestKind::WriteTxnMarkers(Default::default()),
        ApiKey::ListGroups => RequestKind::ListGroups(Default::default()),
        ApiKey::DescribeGroups => RequestKind::DescribeGroups(Default::default()),
        ApiKey::DeleteGroups => RequestKind::DeleteGroups(Default::default()),
        ApiKey::OffsetDelete => RequestKind::OffsetDelete(Default::default()),
        ApiKey::DescribeCluster => RequestKind::DescribeCluster(Default::default()),
        ApiKey::AlterConfigs => RequestKind::AlterConfigs(Default::default()),
        ApiKey::IncrementalAlterConfigs => RequestKind::IncrementalAlterConfigs(Default::default()),
        ApiKey::OffsetForLeaderEpoch => RequestKind::OffsetForLeaderEpoch(Default::default()),
        ApiKey::ElectLeaders => RequestKind::ElectLeaders(Default::default()),
        ApiKey::AlterPartitionReassignments => {
            RequestKind::AlterPartitionReassignments(Default::default())
        }
        ApiKey::ListPartitionReassignments => {
            RequestKind::ListPartitionReassignments(Default::default())
        }
        ApiKey::DescribeProducers => RequestKind::DescribeProducers(Default::default()),
        ApiKey::DeleteRecords => RequestKind::DeleteRecords(Default::default()),
        ApiKey::DescribeLogDirs => RequestKind::DescribeLogDirs(Default::default()),
        ApiKey::AddPartitionsToTxn => RequestKind::AddPartitionsToTxn(Default::default()),
        ApiKey::AddOffsetsToTxn => RequestKind::AddOffsetsToTxn(Default::default()),
        ApiKey::EndTxn => RequestKind::EndTxn(Default::default()),
        ApiKey::DescribeTransactions => RequestKind::DescribeTransactions(Default::default()),
        ApiKey::ListTransactions => RequestKind::ListTransactions(Default::default()),
        other => panic!("no default request for {other:?}"),
    }
}

fn header(key: ApiKey, version: i16) -> RequestHeader {
    RequestHeader::default()
        .with_request_api_key(key as i16)
        .with_request_api_version(version)
        .with_correlation_id(7)
        .with_client_id(Some(StrBytes::from_static_str("shape-test")))
}

#[test]
fn every_supported_api_and_version_has_a_schema() {
    for (key, min, max) in crate::handlers::SUPPORTED_APIS {
        let schema = request_schema(*key).unwrap_or_else(|| panic!("no schema for {key:?}"));
        for version in *min..=*max {
            assert!(schema.versions.contains(version), "{key:?} v{version}");
        }
    }
}

#[test]
fn crate_encoded_default_requests_are_accepted_and_fully_consumed() {
    for (message, version) in all_versions() {
        let key = message.key;
        if is_legacy(key, version) {
            continue; // the crate cannot encode versions it dropped
        }
        let frame = crate_encode(key, version, &header(key, version), &default_request(key));
        assert_eq!(
            check_request(key, version, &frame),
            Ok(frame.len()),
            "{key:?} v{version}"
        );
    }
}

#[test]
fn generated_requests_round_trip_through_the_crate_and_are_accepted() {
    let mut rng = StdRng::seed_from_u64(0x5ea7);
    for (message, version) in all_versions() {
        let key = message.key;
        for _ in 0..40 {
            let frame = generate(&mut rng, message, version);
            if is_legacy(key, version) {
                // Versions the crate dropped are decoded by `net::legacy`; it must take them.
                legacy_decode(key, version, &frame)
                    .unwrap_or_else(|e| panic!("{key:?} v{version}: refused {frame:?}: {e}"));
                assert_eq!(check_request(key, version, &frame), Ok(frame.len()));
                continue;
            }
            let (header, request, left) = crate_decode(key, version, &frame)
                .unwrap_or_else(|e| panic!("{key:?} v{version}: crate refused {frame:?}: {e}"));
            assert_eq!(left, 0, "{key:?} v{version}: crate left bytes of {frame:?}");
            let reencoded = crate_encode(key, version, &header, &request);
            assert_eq!(reencoded, frame, "{key:?} v{version}: re-encoding differs");
            assert_eq!(
                check_request(key, version, &reencoded),
                Ok(frame.len()),
                "{key:?} v{version}"
            );
        }
    }
}

#[test]
fn every_truncation_of_a_valid_request_is_rejected() {
    let mut rng = StdRng::seed_from_u64(7);
    for (message, version) in all_versions() {
        let key = message.key;
        for _ in 0..3 {
            let frame = generate(&mut rng, message, version);
            for cut in 0..frame.len() {
                assert!(
                    check_request(key, version, &frame[..cut]).is_err(),
                    "{key:?} v{version} accepted a cut at {cut} of {frame:?}"
                );
            }
        }
    }
}

/// A frame with a v1 header (no client id) or v2 header (plus no tagged fields).
fn frame(key: ApiKey, version: i16, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(key as i16).to_be_bytes());
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(&1i32.to_be_bytes());
    out.extend_from_slice(&(-1i16).to_be_bytes());
    if key.request_header_version(version) >= 2 {
        out.push(0);
    }
    out.extend_from_slice(body);
    out
}

#[test]
fn forged_array_count_is_rejected_before_any_element() {
    // Produce v3: transactional_id null, acks, timeout, then 0x7fffffff topics.
    let mut body = vec![0xff, 0xff, 0, 1, 0, 0, 0x75, 0x30];
    body.extend_from_slice(&0x7fff_ffffi32.to_be_bytes());
    body.extend_from_slice(&[0; 64]);
    let err = check_request(ApiKey::Produce, 3, &frame(ApiKey::Produce, 3, &body)).unwrap_err();
    assert!(
        matches!(
            err,
            ShapeError::CountTooLarge {
                field: "topic_data",
                count: 0x7fff_ffff,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn forged_compact_array_count_is_rejected() {
    // Metadata v12: topics as a compact array claiming 0x7fffffff entries.
    let mut body = vec![0xff, 0xff, 0xff, 0xff, 0x07];
    body.extend_from_slice(&[0; 40]);
    let err = check_request(ApiKey::Metadata, 12, &frame(ApiKey::Metadata, 12, &body)).unwrap_err();
    assert!(
        matches!(
            err,
            ShapeError::CountTooLarge {
                field: "topics",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn forged_nested_count_is_rejected() {
    // CreateTopics v2: one topic "t" whose configs array claims 1000 entries of >= 4 bytes each.
    let mut body = vec![0, 0, 0, 1, 0, 1, b't', 0, 0, 0, 1, 0, 1, 0, 0, 0, 0];
    body.extend_from_slice(&1000i32.to_be_bytes());
    body.extend_from_slice(&[0; 100]);
    let err = check_request(
        ApiKey::CreateTopics,
        2,
        &frame(ApiKey::CreateTopics, 2, &body),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            ShapeError::CountTooLarge {
                field: "configs",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn count_exactly_fitting_minimum_elements_is_walked_then_checked() {
    // DescribeGroups v0: 3 group names claimed, room for 3 minimal (2-byte) strings: accepted.
    let body = [0, 0, 0, 3, 0, 0, 0, 0, 0, 0];
    let f = frame(ApiKey::DescribeGroups, 0, &body);
    assert_eq!(check_request(ApiKey::DescribeGroups, 0, &f), Ok(f.len()));
    // Same count, but the first name claims more bytes than follow: rejected while walking.
    let body = [0, 0, 0, 3, 0, 3, 0, 0, 0, 0];
    let err = check_request(
        ApiKey::DescribeGroups,
        0,
        &frame(ApiKey::DescribeGroups, 0, &body),
    )
    .unwrap_err();
    assert!(matches!(err, ShapeError::Truncated { .. }), "{err}");
}

#[test]
fn huge_string_and_bytes_lengths_are_rejected() {
    // Classic string: FindCoordinator v0 key of 0x7fff bytes.
    let body = [0x7f, 0xff, b'g'];
    let err = check_request(
        ApiKey::FindCoordinator,
        0,
        &frame(ApiKey::FindCoordinator, 0, &body),
    )
    .unwrap_err();
    assert!(
        matches!(err, ShapeError::Truncated { field: "key", .. }),
        "{err}"
    );
    // Compact string: ApiVersions v3 client_software_name with length u32::MAX - 1.
    let body = [0xff, 0xff, 0xff, 0xff, 0x0f, b'x'];
    let err = check_request(
        ApiKey::ApiVersions,
        3,
        &frame(ApiKey::ApiVersions, 3, &body),
    )
    .unwrap_err();
    assert!(matches!(err, ShapeError::Truncated { .. }), "{err}");
    // Records: Produce v3 with one topic, one partition, records of 0x7fffffff bytes.
    let mut body = vec![
        0xff, 0xff, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, b't', 0, 0, 0, 1,
    ];
    body.extend_from_slice(&[0, 0, 0, 0]);
    body.extend_from_slice(&0x7fff_ffffi32.to_be_bytes());
    body.extend_from_slice(&[0; 16]);
    let err = check_request(ApiKey::Produce, 3, &frame(ApiKey::Produce, 3, &body)).unwrap_err();
    assert!(
        matches!(
            err,
            ShapeError::Truncated {
                field: "records",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn negative_lengths_other_than_null_are_rejected() {
    // Produce v3 transactional_id is nullable: -1 is fine (with an empty topic list), -2 is not.
    let ok = [0xff, 0xff, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0];
    let f = frame(ApiKey::Produce, 3, &ok);
    assert_eq!(check_request(ApiKey::Produce, 3, &f), Ok(f.len()));
    let bad = [0xff, 0xfe, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0];
    let err = check_request(ApiKey::Produce, 3, &frame(ApiKey::Produce, 3, &bad)).unwrap_err();
    assert!(
        matches!(err, ShapeError::NegativeLength { length: -2, .. }),
        "{err}"
    );
    // A negative array count.
    let bad = [0xff, 0xff, 0, 1, 0, 0, 0, 1, 0x80, 0, 0, 0];
    let err = check_request(ApiKey::Produce, 3, &frame(ApiKey::Produce, 3, &bad)).unwrap_err();
    assert!(matches!(err, ShapeError::NegativeLength { .. }), "{err}");
}

#[test]
fn null_in_a_non_nullable_field_is_rejected() {
    // Heartbeat v0 group_id is not nullable.
    let body = [0xff, 0xff, 0, 0, 0, 1, 0, 0];
    let err = check_request(ApiKey::Heartbeat, 0, &frame(ApiKey::Heartbeat, 0, &body)).unwrap_err();
    assert_eq!(err, ShapeError::UnexpectedNull { field: "group_id" });
    // Metadata v0 topics is not nullable either (null means "all topics" only from v1).
    let body = [0xff, 0xff, 0xff, 0xff];
    let err = check_request(ApiKey::Metadata, 0, &frame(ApiKey::Metadata, 0, &body)).unwrap_err();
    assert_eq!(err, ShapeError::UnexpectedNull { field: "topics" });
    let f = frame(ApiKey::Metadata, 1, &body);
    assert_eq!(check_request(ApiKey::Metadata, 1, &f), Ok(f.len()));
}

#[test]
fn overlong_varints_are_rejected() {
    // ApiVersions v3 with a 6-byte varint length.
    let body = [0x80, 0x80, 0x80, 0x80, 0x80, 0x00];
    let err = check_request(
        ApiKey::ApiVersions,
        3,
        &frame(ApiKey::ApiVersions, 3, &body),
    )
    .unwrap_err();
    assert!(matches!(err, ShapeError::BadVarint { .. }), "{err}");
}

#[test]
fn unknown_tagged_fields_are_skipped_by_size_and_bounded() {
    // ApiVersions v3: empty name and version, then one unknown tag (9) of 2 bytes.
    let ok = [1, 1, 1, 9, 2, 0xab, 0xcd];
    let f = frame(ApiKey::ApiVersions, 3, &ok);
    assert_eq!(check_request(ApiKey::ApiVersions, 3, &f), Ok(f.len()));
    let bad = [1, 1, 1, 9, 200, 0xab, 0xcd];
    let err =
        check_request(ApiKey::ApiVersions, 3, &frame(ApiKey::ApiVersions, 3, &bad)).unwrap_err();
    assert!(matches!(err, ShapeError::Truncated { .. }), "{err}");
    // A tagged-field count far beyond what the frame could hold ends at the frame's end.
    let bad = [1, 1, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 0];
    let err =
        check_request(ApiKey::ApiVersions, 3, &frame(ApiKey::ApiVersions, 3, &bad)).unwrap_err();
    assert!(matches!(err, ShapeError::Truncated { .. }), "{err}");
}

#[test]
fn known_tagged_field_is_walked_with_its_schema() {
    // Fetch v12, all fixed fields zero, no topics, no forgotten topics, empty rack, then the
    // cluster_id tag (0) declaring 3 bytes: a compact string of length 2.
    let mut body = vec![0; 4 * 4 + 1 + 4 + 4];
    body.extend_from_slice(&[1, 1, 1]);
    let mut ok = body.clone();
    ok.extend_from_slice(&[1, 0, 3, 3, b'c', b'1']);
    let f = frame(ApiKey::Fetch, 12, &ok);
    assert_eq!(check_request(ApiKey::Fetch, 12, &f), Ok(f.len()));
    crate_decode(ApiKey::Fetch, 12, &f).unwrap();
    // The same tag with a forged string length inside a plausible size.
    let mut bad = body;
    bad.extend_from_slice(&[1, 0, 3, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    let err = check_request(ApiKey::Fetch, 12, &frame(ApiKey::Fetch, 12, &bad)).unwrap_err();
    assert!(
        matches!(
            err,
            ShapeError::Truncated {
                field: "cluster_id",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn header_must_match_the_key_and_version_checked() {
    let f = frame(ApiKey::Heartbeat, 0, &[0, 0, 0, 0, 0, 0, 0, 0]);
    assert!(check_request(ApiKey::Heartbeat, 0, &f).is_ok());
    let err = check_request(ApiKey::Heartbeat, 1, &f).unwrap_err();
    assert!(matches!(err, ShapeError::HeaderMismatch { .. }), "{err}");
    assert!(matches!(
        check_request(ApiKey::Heartbeat, 99, &f),
        Err(ShapeError::UnsupportedVersion { .. })
    ));
    assert!(matches!(
        check_request(ApiKey::SaslHandshake, 0, &f),
        Err(ShapeError::UnknownApi(ApiKey::SaslHandshake))
    ));
}

/// Applies one random corruption: overwrite a byte with an interesting or random value, insert
/// or delete a byte, or cut the tail.
fn mutate(rng: &mut StdRng, frame: &mut Vec<u8>) {
    if frame.is_empty() {
        frame.push(rng.gen());
        return;
    }
    let at = rng.gen_range(0..frame.len());
    match rng.gen_range(0..6) {
        0 => frame[at] = rng.gen(),
        1 => frame[at] = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff][rng.gen_range(0..6)],
        2 => frame[at] ^= 1 << rng.gen_range(0..8),
        3 => frame.insert(at, rng.gen()),
        4 => {
            frame.remove(at);
        }
        _ => frame.truncate(at),
    }
}

#[test]
fn random_mutations_never_panic_and_accepted_frames_decode_safely() {
    let mut rng = StdRng::seed_from_u64(0xdec0de);
    let versions = all_versions();
    let (mut accepted, mut rejected) = (0, 0);
    for _ in 0..5000 {
        let (message, version) = versions[rng.gen_range(0..versions.len())];
        let key = message.key;
        let mut frame = generate(&mut rng, message, version);
        for _ in 0..rng.gen_range(1..4) {
            mutate(&mut rng, &mut frame);
        }
        match check_request(key, version, &frame) {
            Ok(used) => {
                accepted += 1;
                assert!(used <= frame.len());
                // Must not panic or abort; a decode error (bad UTF-8, a tag the crate refuses) is
                // fine, the broker answers it as a malformed request.
                if is_legacy(key, version) {
                    let _ = legacy_decode(key, version, &frame[..used]);
                } else {
                    let _ = crate_decode(key, version, &frame);
                }
            }
            Err(_) => rejected += 1,
        }
    }
    assert!(
        accepted > 100 && rejected > 100,
        "{accepted} accepted, {rejected} rejected"
    );
}
