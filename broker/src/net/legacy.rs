//! Request and response versions that Kafka 3.9 serves but kafka-protocol 0.18.0 (generated from
//! Kafka 4's message JSON, which dropped them under KIP-896) neither decodes nor encodes:
//! Produce v0-2, Fetch v0-3, ListOffsets v0, OffsetCommit v0-1, OffsetFetch v0, CreateTopics
//! v0-1, DeleteTopics v0, DescribeConfigs v0, DescribeLogDirs v0, OffsetForLeaderEpoch v0-1 and
//! WriteTxnMarkers v0.
//!
//! Requests are turned into the crate's request structs (the fields these versions lack take the
//! defaults Kafka's `*Request.json` gives them), so handlers serve every version with one code
//! path and see the real version in the header. Responses are written here in the old layout
//! from the crate's response structs. ListOffsets v0 answers a list of offsets per partition,
//! which no crate struct holds: it is decoded into [`ListOffsetsV0`] and answered by its own
//! handler.
//!
//! The shape check (`shape.rs`) runs first, so every length read here is known to fit.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::create_topics_request::{
    CreatableReplicaAssignment, CreatableTopic, CreatableTopicConfig,
};
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_for_leader_epoch_request::{
    OffsetForLeaderPartition, OffsetForLeaderTopic,
};
use kafka_protocol::messages::write_txn_markers_request::{
    WritableTxnMarker, WritableTxnMarkerTopic,
};
use kafka_protocol::messages::{
    ApiKey, BrokerId, CreateTopicsRequest, OffsetCommitRequest, OffsetForLeaderEpochRequest,
    ProducerId, RequestHeader, RequestKind, ResponseKind, TopicName, WriteTxnMarkersRequest,
};
use kafka_protocol::protocol::{Decodable, StrBytes};

/// Whether `version` of `key` is below what the crate decodes, so this module handles it.
pub fn is_legacy(key: ApiKey, version: i16) -> bool {
    version < key.valid_versions().min
}

/// The request header version of `key` at `version`: 1 for every legacy version (all of them
/// predate flexible encoding, KIP-482), else the crate's. The crate's answer is wrong below its
/// range (it gives WriteTxnMarkers v0 the flexible header v2).
pub fn request_header_version(key: ApiKey, version: i16) -> i16 {
    if is_legacy(key, version) {
        1
    } else {
        key.request_header_version(version)
    }
}

pub use crate::handlers::{ListOffsetsV0, ListOffsetsV0Answer, ListOffsetsV0Partition};

/// A decoded legacy request.
#[derive(Debug)]
pub enum LegacyRequest {
    /// Served by the usual handler, which sees the real version in the header.
    Crate(Box<RequestKind>),
    ListOffsetsV0(ListOffsetsV0),
    /// OffsetCommit v1, whose per-partition `commit_timestamp` no crate struct holds:
    /// `commit_timestamps[t][p]` belongs to `request.topics[t].partitions[p]` (-1: stamp the
    /// commit with the broker's time, as Kafka's `OffsetCommitRequest.DEFAULT_TIMESTAMP`).
    OffsetCommitV1 {
        request: OffsetCommitRequest,
        commit_timestamps: Vec<Vec<i64>>,
    },
}

/// A bounds-checked reader of the old (non-flexible) encodings.
struct Reader {
    buf: Bytes,
}

impl Reader {
    fn need(&self, n: usize, what: &str) -> Result<(), String> {
        if self.buf.remaining() < n {
            return Err(format!("{what}: truncated"));
        }
        Ok(())
    }
    fn i16(&mut self, what: &str) -> Result<i16, String> {
        self.need(2, what)?;
        Ok(self.buf.get_i16())
    }
    fn i32(&mut self, what: &str) -> Result<i32, String> {
        self.need(4, what)?;
        Ok(self.buf.get_i32())
    }
    fn i64(&mut self, what: &str) -> Result<i64, String> {
        self.need(8, what)?;
        Ok(self.buf.get_i64())
    }
    fn nullable_string(&mut self, what: &str) -> Result<Option<StrBytes>, String> {
        let len = self.i16(what)?;
        if len < 0 {
            return Ok(None);
        }
        self.need(len as usize, what)?;
        let bytes = self.buf.split_to(len as usize);
        StrBytes::from_utf8(bytes)
            .map(Some)
            .map_err(|e| format!("{what}: {e}"))
    }
    fn string(&mut self, what: &str) -> Result<StrBytes, String> {
        self.nullable_string(what)?
            .ok_or_else(|| format!("{what}: null is not allowed"))
    }
    /// An array count; every element is at least one byte, so a count beyond the bytes left is
    /// refused before anything is allocated.
    fn count(&mut self, what: &str) -> Result<usize, String> {
        let n = self.i32(what)?;
        if n < 0 || n as usize > self.buf.remaining() {
            return Err(format!("{what}: invalid count {n}"));
        }
        Ok(n as usize)
    }
}

/// Decodes a legacy request. `frame` is the request after its size prefix, cut to the length the
/// shape check walked.
pub fn decode(
    key: ApiKey,
    version: i16,
    frame: Bytes,
) -> Result<(RequestHeader, LegacyRequest), String> {
    let mut buf = frame;
    let header = RequestHeader::decode(&mut buf, request_header_version(key, version))
        .map_err(|e| format!("header: {e}"))?;
    let crate_decode = |proxy: i16, body: Bytes| -> Result<LegacyRequest, String> {
        let mut body = body;
        let request = RequestKind::decode(key, &mut body, proxy).map_err(|e| e.to_string())?;
        Ok(LegacyRequest::Crate(Box::new(request)))
    };
    let request = match (key, version) {
        // v0-2 are v3 without the transactional id.
        (ApiKey::Produce, 0..=2) => {
            let mut body = BytesMut::with_capacity(buf.len() + 2);
            body.put_i16(-1);
            body.put_slice(&buf);
            crate_decode(3, body.freeze())?
        }
        // v0-2 lack max_bytes (Kafka reads them as Int.MaxValue), v0-3 the isolation level
        // (read uncommitted).
        (ApiKey::Fetch, 0..=3) => {
            let fixed = if version == 3 { 16 } else { 12 };
            if buf.len() < fixed {
                return Err("fetch: truncated".into());
            }
            let mut body = BytesMut::with_capacity(buf.len() + 5);
            body.put_slice(&buf[..12]);
            if version == 3 {
                body.put_slice(&buf[12..16]);
            } else {
                body.put_i32(i32::MAX);
            }
            body.put_i8(0);
            body.put_slice(&buf[fixed..]);
            crate_decode(4, body.freeze())?
        }
        (ApiKey::ListOffsets, 0) => {
            let mut r = Reader { buf };
            let replica_id = r.i32("replica_id")?;
            let mut topics = Vec::new();
            for _ in 0..r.count("topics")? {
                let name = r.string("name")?.to_string();
                let mut partitions = Vec::new();
                for _ in 0..r.count("partitions")? {
                    let partition = r.i32("partition_index")?;
                    let timestamp = r.i64("timestamp")?;
                    let max = r.i32("max_num_offsets")?;
                    partitions.push((partition, timestamp, max));
                }
                topics.push((name, partitions));
            }
            LegacyRequest::ListOffsetsV0(ListOffsetsV0 { replica_id, topics })
        }
        (ApiKey::OffsetCommit, 0 | 1) => {
            let mut r = Reader { buf };
            let group_id = r.string("group_id")?;
            // v0 has no group membership: a "simple" commit (generation -1, no member).
            let (generation, member) = if version == 1 {
                (r.i32("generation_id")?, r.string("member_id")?)
            } else {
                (-1, StrBytes::default())
            };
            let mut topics = Vec::new();
            let mut commit_timestamps = Vec::new();
            for _ in 0..r.count("topics")? {
                let name = r.string("name")?;
                let mut partitions = Vec::new();
                let mut timestamps = Vec::new();
                for _ in 0..r.count("partitions")? {
                    let index = r.i32("partition_index")?;
                    let offset = r.i64("committed_offset")?;
                    if version == 1 {
                        // Kafka's `GroupCoordinatorAdapter.commitOffsets` keeps it as the
                        // commit timestamp unless it is -1.
                        timestamps.push(r.i64("commit_timestamp")?);
                    }
                    let metadata = r.nullable_string("committed_metadata")?;
                    partitions.push(
                        OffsetCommitRequestPartition::default()
                            .with_partition_index(index)
                            .with_committed_offset(offset)
                            .with_committed_leader_epoch(-1)
                            .with_committed_metadata(metadata),
                    );
                }
                topics.push(
                    OffsetCommitRequestTopic::default()
                        .with_name(TopicName(name))
                        .with_partitions(partitions),
                );
                commit_timestamps.push(timestamps);
            }
            let request = OffsetCommitRequest::default()
                .with_group_id(group_id.into())
                .with_generation_id_or_member_epoch(generation)
                .with_member_id(member)
                .with_retention_time_ms(-1)
                .with_topics(topics);
            if version == 1 {
                LegacyRequest::OffsetCommitV1 {
                    request,
                    commit_timestamps,
                }
            } else {
                LegacyRequest::Crate(Box::new(RequestKind::OffsetCommit(request)))
            }
        }
        // v0 has v1's layout (Kafka 3.9 reads v0 offsets from ZooKeeper, where zookeeper-lite
        // keeps every group's offsets).
        (ApiKey::OffsetFetch, 0) => crate_decode(1, buf)?,
        // v0 has v1's layout (v1 only changed how throttling is reported).
        (ApiKey::DescribeLogDirs, 0) => crate_decode(1, buf)?,
        // v0 lacks validate_only; v1 is v2.
        (ApiKey::CreateTopics, 0 | 1) => {
            if version == 1 {
                crate_decode(2, buf)?
            } else {
                let mut r = Reader { buf };
                let mut topics = Vec::new();
                for _ in 0..r.count("topics")? {
                    let name = r.string("name")?;
                    let num_partitions = r.i32("num_partitions")?;
                    let replication_factor = r.i16("replication_factor")?;
                    let mut assignments = Vec::new();
                    for _ in 0..r.count("assignments")? {
                        let partition_index = r.i32("partition_index")?;
                        let mut broker_ids = Vec::new();
                        for _ in 0..r.count("broker_ids")? {
                            broker_ids.push(BrokerId(r.i32("broker_id")?));
                        }
                        assignments.push(
                            CreatableReplicaAssignment::default()
                                .with_partition_index(partition_index)
                                .with_broker_ids(broker_ids),
                        );
                    }
                    let mut configs = Vec::new();
                    for _ in 0..r.count("configs")? {
                        let name = r.string("config name")?;
                        let value = r.nullable_string("config value")?;
                        configs.push(
                            CreatableTopicConfig::default()
                                .with_name(name)
                                .with_value(value),
                        );
                    }
                    topics.push(
                        CreatableTopic::default()
                            .with_name(TopicName(name))
                            .with_num_partitions(num_partitions)
                            .with_replication_factor(replication_factor)
                            .with_assignments(assignments)
                            .with_configs(configs),
                    );
                }
                let timeout_ms = r.i32("timeout_ms")?;
                LegacyRequest::Crate(Box::new(RequestKind::CreateTopics(
                    CreateTopicsRequest::default()
                        .with_topics(topics)
                        .with_timeout_ms(timeout_ms)
                        .with_validate_only(false),
                )))
            }
        }
        // v0 is v1.
        (ApiKey::DeleteTopics, 0) => crate_decode(1, buf)?,
        // v0 lacks include_synonyms (false).
        (ApiKey::DescribeConfigs, 0) => {
            let mut body = BytesMut::with_capacity(buf.len() + 1);
            body.put_slice(&buf);
            body.put_u8(0);
            crate_decode(1, body.freeze())?
        }
        // v0-1 lack the current leader epoch (-1: not checked) and the replica id.
        (ApiKey::OffsetForLeaderEpoch, 0 | 1) => {
            let mut r = Reader { buf };
            let mut topics = Vec::new();
            for _ in 0..r.count("topics")? {
                let topic = r.string("topic")?;
                let mut partitions = Vec::new();
                for _ in 0..r.count("partitions")? {
                    let partition = r.i32("partition")?;
                    let leader_epoch = r.i32("leader_epoch")?;
                    partitions.push(
                        OffsetForLeaderPartition::default()
                            .with_partition(partition)
                            .with_current_leader_epoch(-1)
                            .with_leader_epoch(leader_epoch),
                    );
                }
                topics.push(
                    OffsetForLeaderTopic::default()
                        .with_topic(TopicName(topic))
                        .with_partitions(partitions),
                );
            }
            LegacyRequest::Crate(Box::new(RequestKind::OffsetForLeaderEpoch(
                OffsetForLeaderEpochRequest::default()
                    .with_replica_id(BrokerId(-2))
                    .with_topics(topics),
            )))
        }
        // v0 is v1 without the flexible encoding (Kafka's coordinators before 2.8 send it).
        (ApiKey::WriteTxnMarkers, 0) => {
            let mut r = Reader { buf };
            let mut markers = Vec::new();
            for _ in 0..r.count("markers")? {
                let producer_id = r.i64("producer_id")?;
                let producer_epoch = r.i16("producer_epoch")?;
                r.need(1, "transaction_result")?;
                let transaction_result = r.buf.get_u8() != 0;
                let mut topics = Vec::new();
                for _ in 0..r.count("topics")? {
                    let name = r.string("topic name")?;
                    let mut partition_indexes = Vec::new();
                    for _ in 0..r.count("partition_indexes")? {
                        partition_indexes.push(r.i32("partition index")?);
                    }
                    topics.push(
                        WritableTxnMarkerTopic::default()
                            .with_name(TopicName(name))
                            .with_partition_indexes(partition_indexes),
                    );
                }
                let coordinator_epoch = r.i32("coordinator_epoch")?;
                markers.push(
                    WritableTxnMarker::default()
                        .with_producer_id(ProducerId(producer_id))
                        .with_producer_epoch(producer_epoch)
                        .with_transaction_result(transaction_result)
                        .with_topics(topics)
                        .with_coordinator_epoch(coordinator_epoch),
                );
            }
            LegacyRequest::Crate(Box::new(RequestKind::WriteTxnMarkers(
                WriteTxnMarkersRequest::default().with_markers(markers),
            )))
        }
        _ => return Err(format!("{key:?} v{version} is not a legacy version")),
    };
    Ok((header, request))
}

fn put_string(out: &mut BytesMut, s: &str) {
    out.put_i16(s.len() as i16);
    out.put_slice(s.as_bytes());
}

fn put_nullable_string(out: &mut BytesMut, s: Option<&str>) {
    match s {
        None => out.put_i16(-1),
        Some(s) => put_string(out, s),
    }
}

/// Writes the body of a legacy response into `out`.
pub fn encode_response(
    key: ApiKey,
    version: i16,
    response: &ResponseKind,
    out: &mut BytesMut,
) -> Result<(), String> {
    let crate_encode =
        |proxy: i16, out: &mut BytesMut| response.encode(out, proxy).map_err(|e| e.to_string());
    match (key, version, response) {
        // v2's layout is v3's.
        (ApiKey::Produce, 2, _) => crate_encode(3, out),
        (ApiKey::Produce, 0 | 1, ResponseKind::Produce(r)) => {
            out.put_i32(r.responses.len() as i32);
            for topic in &r.responses {
                put_string(out, &topic.name.0);
                out.put_i32(topic.partition_responses.len() as i32);
                for p in &topic.partition_responses {
                    out.put_i32(p.index);
                    out.put_i16(p.error_code);
                    out.put_i64(p.base_offset);
                }
            }
            if version == 1 {
                out.put_i32(r.throttle_time_ms);
            }
            Ok(())
        }
        (ApiKey::Fetch, 0..=3, ResponseKind::Fetch(r)) => {
            if version >= 1 {
                out.put_i32(r.throttle_time_ms);
            }
            out.put_i32(r.responses.len() as i32);
            for topic in &r.responses {
                put_string(out, &topic.topic.0);
                out.put_i32(topic.partitions.len() as i32);
                for p in &topic.partitions {
                    out.put_i32(p.partition_index);
                    out.put_i16(p.error_code);
                    out.put_i64(p.high_watermark);
                    match &p.records {
                        None => out.put_i32(-1),
                        Some(records) => {
                            out.put_i32(records.len() as i32);
                            out.put_slice(records);
                        }
                    }
                }
            }
            Ok(())
        }
        // v0 and v1 have v2's layout.
        (ApiKey::OffsetCommit, 0 | 1, _) => crate_encode(2, out),
        (ApiKey::OffsetFetch, 0, _) => crate_encode(1, out),
        (ApiKey::DescribeLogDirs, 0, _) => crate_encode(1, out),
        (ApiKey::CreateTopics, 0 | 1, ResponseKind::CreateTopics(r)) => {
            out.put_i32(r.topics.len() as i32);
            for t in &r.topics {
                put_string(out, &t.name.0);
                out.put_i16(t.error_code);
                if version == 1 {
                    put_nullable_string(out, t.error_message.as_deref());
                }
            }
            Ok(())
        }
        (ApiKey::DeleteTopics, 0, ResponseKind::DeleteTopics(r)) => {
            out.put_i32(r.responses.len() as i32);
            for t in &r.responses {
                put_string(out, t.name.as_ref().map_or("", |n| n.0.as_str()));
                out.put_i16(t.error_code);
            }
            Ok(())
        }
        (ApiKey::DescribeConfigs, 0, ResponseKind::DescribeConfigs(r)) => {
            out.put_i32(r.throttle_time_ms);
            out.put_i32(r.results.len() as i32);
            for result in &r.results {
                out.put_i16(result.error_code);
                put_nullable_string(out, result.error_message.as_deref());
                out.put_i8(result.resource_type);
                put_string(out, &result.resource_name);
                out.put_i32(result.configs.len() as i32);
                for c in &result.configs {
                    put_string(out, &c.name);
                    put_nullable_string(out, c.value.as_deref());
                    out.put_u8(u8::from(c.read_only));
                    // is_default: Kafka 3.9's broker never sets it (ConfigHelper fills only
                    // config_source, which v0 cannot carry), so v0 clients always read false.
                    out.put_u8(0);
                    out.put_u8(u8::from(c.is_sensitive));
                }
            }
            Ok(())
        }
        // v0-1 have no throttle time; v0 no leader epoch.
        (ApiKey::OffsetForLeaderEpoch, 0 | 1, ResponseKind::OffsetForLeaderEpoch(r)) => {
            out.put_i32(r.topics.len() as i32);
            for t in &r.topics {
                put_string(out, &t.topic.0);
                out.put_i32(t.partitions.len() as i32);
                for p in &t.partitions {
                    out.put_i16(p.error_code);
                    out.put_i32(p.partition);
                    if version == 1 {
                        out.put_i32(p.leader_epoch);
                    }
                    out.put_i64(p.end_offset);
                }
            }
            Ok(())
        }
        // v0 is v1 without the flexible encoding.
        (ApiKey::WriteTxnMarkers, 0, ResponseKind::WriteTxnMarkers(r)) => {
            out.put_i32(r.markers.len() as i32);
            for m in &r.markers {
                out.put_i64(m.producer_id.0);
                out.put_i32(m.topics.len() as i32);
                for t in &m.topics {
                    put_string(out, &t.name.0);
                    out.put_i32(t.partitions.len() as i32);
                    for p in &t.partitions {
                        out.put_i32(p.partition_index);
                        out.put_i16(p.error_code);
                    }
                }
            }
            Ok(())
        }
        _ => Err(format!(
            "no legacy encoder for a {key:?} v{version} response"
        )),
    }
}

/// Writes a ListOffsets v0 response body: per topic, per partition `(partition, error code,
/// offsets)`.
pub fn encode_list_offsets_v0(topics: &[(String, Vec<ListOffsetsV0Answer>)]) -> BytesMut {
    let mut out = BytesMut::new();
    out.put_i32(topics.len() as i32);
    for (name, partitions) in topics {
        put_string(&mut out, name);
        out.put_i32(partitions.len() as i32);
        for (partition, error, offsets) in partitions {
            out.put_i32(*partition);
            out.put_i16(*error);
            out.put_i32(offsets.len() as i32);
            for o in offsets {
                out.put_i64(*o);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::{FetchRequest, ProduceRequest};

    fn header(key: ApiKey, version: i16) -> BytesMut {
        let mut out = BytesMut::new();
        out.put_i16(key as i16);
        out.put_i16(version);
        out.put_i32(9);
        put_string(&mut out, "t");
        out
    }

    #[test]
    fn produce_v0_to_v2_decode_as_v3_without_transactional_id() {
        for version in 0..=2 {
            let mut f = header(ApiKey::Produce, version);
            f.put_i16(1); // acks
            f.put_i32(1500);
            f.put_i32(1);
            put_string(&mut f, "topic");
            f.put_i32(1);
            f.put_i32(0);
            f.put_i32(3);
            f.put_slice(b"abc");
            let (h, r) = decode(ApiKey::Produce, version, f.freeze()).unwrap();
            assert_eq!(h.request_api_version, version);
            let LegacyRequest::Crate(r) = r else {
                panic!("not crate");
            };
            let RequestKind::Produce(p) = *r else {
                panic!("not produce");
            };
            let expected: ProduceRequest = ProduceRequest::default();
            assert_eq!(p.transactional_id, expected.transactional_id);
            assert_eq!(p.acks, 1);
            assert_eq!(p.timeout_ms, 1500);
            let part = &p.topic_data[0].partition_data[0];
            assert_eq!(part.records.as_deref(), Some(&b"abc"[..]));
        }
    }

    #[test]
    fn fetch_v0_to_v3_get_max_bytes_and_isolation_defaults() {
        for version in 0..=3 {
            let mut f = header(ApiKey::Fetch, version);
            f.put_i32(-1);
            f.put_i32(100);
            f.put_i32(1);
            if version == 3 {
                f.put_i32(5000);
            }
            f.put_i32(1);
            put_string(&mut f, "topic");
            f.put_i32(1);
            f.put_i32(2);
            f.put_i64(42);
            f.put_i32(1024);
            let (_, r) = decode(ApiKey::Fetch, version, f.freeze()).unwrap();
            let LegacyRequest::Crate(r) = r else {
                panic!("not crate");
            };
            let RequestKind::Fetch(req) = *r else {
                panic!("not fetch");
            };
            let req: FetchRequest = req;
            let want_max = if version == 3 { 5000 } else { i32::MAX };
            assert_eq!(req.max_bytes, want_max);
            assert_eq!(req.isolation_level, 0);
            let p = &req.topics[0].partitions[0];
            assert_eq!(
                (p.partition, p.fetch_offset, p.partition_max_bytes),
                (2, 42, 1024)
            );
        }
    }

    #[test]
    fn offset_commit_v1_keeps_commit_timestamp_and_v0_is_a_simple_commit() {
        for version in 0..=1 {
            let mut f = header(ApiKey::OffsetCommit, version);
            put_string(&mut f, "g");
            if version == 1 {
                f.put_i32(3);
                put_string(&mut f, "m");
            }
            f.put_i32(1);
            put_string(&mut f, "topic");
            f.put_i32(1);
            f.put_i32(0);
            f.put_i64(77);
            if version == 1 {
                f.put_i64(1_234);
            }
            put_nullable_string(&mut f, Some("meta"));
            let (_, r) = decode(ApiKey::OffsetCommit, version, f.freeze()).unwrap();
            let c = match r {
                LegacyRequest::OffsetCommitV1 {
                    request,
                    commit_timestamps,
                } => {
                    assert_eq!(version, 1);
                    assert_eq!(commit_timestamps, vec![vec![1_234]]);
                    request
                }
                LegacyRequest::Crate(r) => {
                    assert_eq!(version, 0);
                    let RequestKind::OffsetCommit(c) = *r else {
                        panic!("not commit");
                    };
                    c
                }
                other => panic!("not a commit: {other:?}"),
            };
            let (generation, member) = if version == 1 { (3, "m") } else { (-1, "") };
            assert_eq!(c.generation_id_or_member_epoch, generation);
            assert_eq!(c.member_id.as_str(), member);
            let p = &c.topics[0].partitions[0];
            assert_eq!(p.committed_offset, 77);
            assert_eq!(p.committed_metadata.as_deref(), Some("meta"));
        }
    }

    #[test]
    fn list_offsets_v0_keeps_max_num_offsets_and_answers_old_style_offsets() {
        let mut f = header(ApiKey::ListOffsets, 0);
        f.put_i32(-1);
        f.put_i32(1);
        put_string(&mut f, "topic");
        f.put_i32(1);
        f.put_i32(0);
        f.put_i64(-1);
        f.put_i32(5);
        let (_, r) = decode(ApiKey::ListOffsets, 0, f.freeze()).unwrap();
        let LegacyRequest::ListOffsetsV0(v0) = r else {
            panic!("not v0");
        };
        assert_eq!(v0.topics, vec![("topic".to_string(), vec![(0, -1, 5)])]);
        let body = encode_list_offsets_v0(&[("t".into(), vec![(0, 0, vec![9, 0])])]);
        assert_eq!(
            &body[..],
            &[
                0, 0, 0, 1, 0, 1, b't', 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0,
                0, 9, 0, 0, 0, 0, 0, 0, 0, 0
            ][..]
        );
    }

    #[test]
    fn write_txn_markers_v0_is_v1_without_the_flexible_encoding() {
        let mut f = header(ApiKey::WriteTxnMarkers, 0);
        f.put_i32(1); // markers
        f.put_i64(4000);
        f.put_i16(3);
        f.put_u8(1); // commit
        f.put_i32(1); // topics
        f.put_i16(2);
        f.put_slice(b"tp");
        f.put_i32(2);
        f.put_i32(0);
        f.put_i32(5);
        f.put_i32(9); // coordinator epoch
        let (_, r) = decode(ApiKey::WriteTxnMarkers, 0, f.freeze()).unwrap();
        let LegacyRequest::Crate(r) = r else { panic!() };
        let RequestKind::WriteTxnMarkers(r) = *r else {
            panic!()
        };
        let m = &r.markers[0];
        assert_eq!((m.producer_id.0, m.producer_epoch), (4000, 3));
        assert!(m.transaction_result);
        assert_eq!(m.coordinator_epoch, 9);
        assert_eq!(m.topics[0].name.0.as_str(), "tp");
        assert_eq!(m.topics[0].partition_indexes, vec![0, 5]);
    }

    #[test]
    fn forged_counts_are_refused_without_allocating() {
        let mut f = header(ApiKey::ListOffsets, 0);
        f.put_i32(-1);
        f.put_i32(i32::MAX);
        assert!(decode(ApiKey::ListOffsets, 0, f.freeze()).is_err());
    }
}
