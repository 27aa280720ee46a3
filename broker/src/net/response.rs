//! Response frames as they go to the socket: the size prefix and the response header, then the
//! body, in one or more chunks written with one vectored write. A Fetch response's records are
//! chunks of their own, the very bytes read from the segment files: the response is encoded
//! around them, never copying them into it (the one copy of fetched data is the read from the
//! page cache). Pure: no I/O.

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::fetch_response::PartitionData;
use kafka_protocol::messages::{ApiKey, FetchResponse, ResponseHeader, ResponseKind};
use kafka_protocol::protocol::Encodable;

use super::{legacy, ConnError};

/// Records smaller than this are copied into the surrounding bytes: a separate chunk costs more
/// than copying them.
const SMALL_RECORDS: usize = 512;

/// One response frame, in order: the chunks written back to back make the frame.
#[derive(Debug, Default)]
pub struct ResponseFrame {
    chunks: Vec<Bytes>,
}

impl ResponseFrame {
    /// A frame made of one buffer.
    pub fn whole(frame: Bytes) -> Self {
        ResponseFrame {
            chunks: vec![frame],
        }
    }

    /// A frame made of `chunks`, in order.
    pub fn from_chunks(chunks: Vec<Bytes>) -> Self {
        ResponseFrame { chunks }
    }

    /// The chunks, to be written in order.
    pub fn into_chunks(self) -> Vec<Bytes> {
        self.chunks
    }

    /// The frame's bytes in one buffer (tests).
    pub fn to_bytes(&self) -> Bytes {
        if let [one] = self.chunks.as_slice() {
            return one.clone();
        }
        let mut out = BytesMut::with_capacity(self.len());
        for c in &self.chunks {
            out.put_slice(c);
        }
        out.freeze()
    }

    /// Bytes in the frame, size prefix included.
    pub fn len(&self) -> usize {
        self.chunks.iter().map(Bytes::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A response frame around an already encoded body (header v0: the legacy versions).
pub fn frame_response(key: ApiKey, version: i16, correlation_id: i32, body: &[u8]) -> Bytes {
    let mut buf = BytesMut::with_capacity(8 + body.len());
    buf.put_i32((4 + body.len()) as i32);
    buf.put_i32(correlation_id);
    debug_assert_eq!(key.response_header_version(version), 0);
    buf.put_slice(body);
    buf.freeze()
}

fn header_version(key: ApiKey, version: i16) -> i16 {
    if key == ApiKey::ApiVersions {
        0 // the ApiVersions response header is always v0 (KIP-511)
    } else {
        key.response_header_version(version)
    }
}

/// Encodes a response into its frame. A Fetch response (v4 to v12, as the protocol crate
/// encodes them) keeps its records out of the encoded bytes (see [`encode_fetch_chunks`]).
pub fn encode_response(
    key: ApiKey,
    version: i16,
    correlation_id: i32,
    response: ResponseKind,
) -> Result<ResponseFrame, ConnError> {
    let response = match response {
        ResponseKind::Fetch(fetch) if !legacy::is_legacy(key, version) => {
            match encode_fetch_chunks(fetch, version) {
                Ok(body) => {
                    return frame_chunks(key, version, correlation_id, body);
                }
                Err(fetch) => ResponseKind::Fetch(fetch),
            }
        }
        other => other,
    };
    encode_whole(key, version, correlation_id, &response).map(ResponseFrame::whole)
}

/// A frame whose body is `body`'s chunks: the size prefix and header go in front.
fn frame_chunks(
    key: ApiKey,
    version: i16,
    correlation_id: i32,
    body: Vec<Bytes>,
) -> Result<ResponseFrame, ConnError> {
    let fail = |e: anyhow::Error| ConnError::Encode {
        key,
        reason: e.to_string(),
    };
    let mut head = BytesMut::with_capacity(16);
    head.put_i32(0);
    ResponseHeader::default()
        .with_correlation_id(correlation_id)
        .encode(&mut head, header_version(key, version))
        .map_err(fail)?;
    let size = head.len() - 4 + body.iter().map(Bytes::len).sum::<usize>();
    let size = i32::try_from(size).map_err(|_| ConnError::Encode {
        key,
        reason: format!("a response of {size} bytes does not fit in a frame"),
    })?;
    head[..4].copy_from_slice(&size.to_be_bytes());
    let mut chunks = Vec::with_capacity(body.len() + 1);
    chunks.push(head.freeze());
    chunks.extend(body.into_iter().filter(|c| !c.is_empty()));
    Ok(ResponseFrame { chunks })
}

/// Encodes a whole response into one buffer.
fn encode_whole(
    key: ApiKey,
    version: i16,
    correlation_id: i32,
    response: &ResponseKind,
) -> Result<Bytes, ConnError> {
    let fail = |e: anyhow::Error| ConnError::Encode {
        key,
        reason: e.to_string(),
    };
    let mut buf = BytesMut::with_capacity(64);
    buf.extend_from_slice(&[0, 0, 0, 0]);
    ResponseHeader::default()
        .with_correlation_id(correlation_id)
        .encode(&mut buf, header_version(key, version))
        .map_err(fail)?;
    if legacy::is_legacy(key, version) {
        legacy::encode_response(key, version, response, &mut buf)
            .map_err(|reason| ConnError::Encode { key, reason })?;
    } else {
        response.encode(&mut buf, version).map_err(fail)?;
    }
    let size = (buf.len() - 4) as i32;
    buf[..4].copy_from_slice(&size.to_be_bytes());
    Ok(buf.freeze())
}

fn put_uvarint(buf: &mut BytesMut, mut value: u32) {
    while value >= 0x80 {
        buf.put_u8((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    buf.put_u8(value as u8);
}

/// An array's (or compact array's) element count.
fn put_count(buf: &mut BytesMut, flexible: bool, n: usize) -> Option<()> {
    if flexible {
        put_uvarint(buf, u32::try_from(n).ok()?.checked_add(1)?);
    } else {
        buf.put_i32(i32::try_from(n).ok()?);
    }
    Some(())
}

/// Whether a partition carries a tagged field (v12): then its records are not the last bytes
/// before an empty tagged-field section, and the response is encoded whole.
fn has_tagged_fields(p: &PartitionData) -> bool {
    !p.unknown_tagged_fields.is_empty()
        || p.diverging_epoch != Default::default()
        || p.current_leader != Default::default()
        || p.snapshot_id != Default::default()
}

/// The body of a Fetch response (v4 to v12) as chunks, each partition's records a chunk of its
/// own: the bytes around them are encoded as the protocol crate encodes them (each partition by
/// the crate itself, its records set aside, which leaves their null marker last: int32 -1
/// before v12, an unsigned varint 0 and an empty tagged-field section in v12), and the records'
/// length goes where the null marker was. `Err` gives the response back when it is one this
/// does not cover (another version, a tagged field): it is then encoded whole.
pub fn encode_fetch_chunks(
    mut response: FetchResponse,
    version: i16,
) -> Result<Vec<Bytes>, FetchResponse> {
    let covered = (4..=12).contains(&version)
        && (version >= 7 || response.session_id == 0)
        && response.unknown_tagged_fields.is_empty()
        && response.responses.iter().all(|t| {
            t.unknown_tagged_fields.is_empty() && t.partitions.iter().all(|p| !has_tagged_fields(p))
        });
    if !covered {
        return Err(response);
    }
    let records: Vec<Vec<Option<Bytes>>> = response
        .responses
        .iter_mut()
        .map(|t| t.partitions.iter_mut().map(|p| p.records.take()).collect())
        .collect();
    let encoded = fetch_chunks(&response, version, &records);
    match encoded {
        Some(chunks) => Ok(chunks),
        None => {
            // Put the records back and let the crate encode (and report) it whole.
            for (t, recs) in response.responses.iter_mut().zip(records) {
                for (p, r) in t.partitions.iter_mut().zip(recs) {
                    p.records = r;
                }
            }
            Err(response)
        }
    }
}

fn fetch_chunks(
    response: &FetchResponse,
    version: i16,
    records: &[Vec<Option<Bytes>>],
) -> Option<Vec<Bytes>> {
    let flexible = version >= 12;
    let mut chunks = Vec::new();
    let mut buf = BytesMut::with_capacity(256);
    buf.put_i32(response.throttle_time_ms);
    if version >= 7 {
        buf.put_i16(response.error_code);
        buf.put_i32(response.session_id);
    }
    put_count(&mut buf, flexible, response.responses.len())?;
    for (topic, topic_records) in response.responses.iter().zip(records) {
        let name = topic.topic.0.as_bytes();
        if flexible {
            put_uvarint(&mut buf, u32::try_from(name.len()).ok()?.checked_add(1)?);
        } else {
            buf.put_i16(i16::try_from(name.len()).ok()?);
        }
        buf.put_slice(name);
        put_count(&mut buf, flexible, topic.partitions.len())?;
        for (p, recs) in topic.partitions.iter().zip(topic_records) {
            p.encode(&mut buf, version).ok()?;
            // The null marker of the records set aside, and (v12) the empty tagged fields.
            let marker = if flexible { 2 } else { 4 };
            if buf.len() < marker {
                return None;
            }
            buf.truncate(buf.len() - marker);
            match recs.clone() {
                None => {
                    if flexible {
                        buf.put_u8(0);
                    } else {
                        buf.put_i32(-1);
                    }
                }
                Some(r) => {
                    if flexible {
                        put_uvarint(&mut buf, u32::try_from(r.len()).ok()?.checked_add(1)?);
                    } else {
                        buf.put_i32(i32::try_from(r.len()).ok()?);
                    }
                    if r.len() < SMALL_RECORDS {
                        buf.put_slice(&r);
                    } else {
                        chunks.push(buf.split().freeze());
                        chunks.push(r);
                    }
                }
            }
            if flexible {
                buf.put_u8(0);
            }
        }
        if flexible {
            buf.put_u8(0);
        }
    }
    if flexible {
        buf.put_u8(0);
    }
    chunks.push(buf.freeze());
    Some(chunks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::fetch_response::{
        AbortedTransaction, EpochEndOffset, FetchableTopicResponse,
    };
    use kafka_protocol::messages::{BrokerId, ProducerId, TopicName};
    use kafka_protocol::protocol::StrBytes;

    fn partition(index: i32, records: Option<Bytes>, aborted: bool) -> PartitionData {
        PartitionData::default()
            .with_partition_index(index)
            .with_high_watermark(100 + i64::from(index))
            .with_last_stable_offset(90)
            .with_log_start_offset(3)
            .with_records(records)
            .with_aborted_transactions(aborted.then(|| {
                vec![AbortedTransaction::default()
                    .with_producer_id(ProducerId(7))
                    .with_first_offset(12)]
            }))
    }

    fn response(version: i16) -> FetchResponse {
        let big = Bytes::from((0..5000u32).map(|i| i as u8).collect::<Vec<u8>>());
        let small = Bytes::from_static(b"tiny records");
        let topic = |name: &'static str, partitions| {
            FetchableTopicResponse::default()
                .with_topic(TopicName(StrBytes::from_static_str(name)))
                .with_partitions(partitions)
        };
        let mut r = FetchResponse::default()
            .with_throttle_time_ms(5)
            .with_responses(vec![
                topic(
                    "one",
                    vec![
                        partition(0, Some(big.clone()), version >= 4),
                        partition(1, None, false),
                        partition(2, Some(Bytes::new()), false),
                    ],
                ),
                topic("two", vec![partition(0, Some(small), false)]),
                topic("three", vec![]),
            ]);
        if version >= 7 {
            r = r.with_error_code(0).with_session_id(42);
        }
        if version >= 11 {
            r.responses[0].partitions[0].preferred_read_replica = BrokerId(-1);
            r.responses[1].partitions[0].preferred_read_replica = BrokerId(2);
        }
        r
    }

    /// The chunked encoding is byte for byte the protocol crate's, in every version it covers,
    /// and large records are chunks of their own (the same bytes, not a copy).
    #[test]
    fn fetch_chunks_match_the_crates_encoding_without_copying_records() {
        for version in 4..=12 {
            let fetch = response(version);
            let big_ptr = fetch.responses[0].partitions[0]
                .records
                .as_ref()
                .map(|r| r.as_ptr());
            let mut expected = BytesMut::new();
            fetch.encode(&mut expected, version).expect("crate encodes");
            let chunks = encode_fetch_chunks(fetch, version).expect("covered");
            assert!(
                chunks.iter().any(|c| Some(c.as_ptr()) == big_ptr),
                "v{version}: the large records are a chunk of their own"
            );
            let joined: Vec<u8> = chunks.iter().flat_map(|c| c.iter().copied()).collect();
            assert_eq!(joined, expected.to_vec(), "v{version}");
        }
    }

    #[test]
    fn a_fetch_frame_has_the_right_size_prefix_and_header() {
        for version in [4, 11, 12] {
            let fetch = response(version);
            let mut body = BytesMut::new();
            fetch.encode(&mut body, version).expect("crate encodes");
            let frame = encode_response(ApiKey::Fetch, version, 77, ResponseKind::Fetch(fetch))
                .expect("encoded")
                .to_bytes();
            let size = i32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]) as usize;
            assert_eq!(size, frame.len() - 4);
            assert_eq!(&frame[4..8], &77i32.to_be_bytes());
            let header_len = if version >= 12 { 5 } else { 4 };
            assert_eq!(&frame[4 + header_len..], &body[..], "v{version}");
        }
    }

    #[test]
    fn tagged_fields_fall_back_to_the_whole_encoding() {
        let mut fetch = response(12);
        fetch.responses[0].partitions[1].diverging_epoch =
            EpochEndOffset::default().with_epoch(3).with_end_offset(9);
        let mut expected = BytesMut::new();
        fetch.encode(&mut expected, 12).expect("crate encodes");
        let fetch = encode_fetch_chunks(fetch, 12).expect_err("not covered");
        let frame = encode_response(ApiKey::Fetch, 12, 1, ResponseKind::Fetch(fetch))
            .expect("encoded")
            .to_bytes();
        assert_eq!(&frame[9..], &expected[..]);
    }
}
