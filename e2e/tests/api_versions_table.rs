//! Every (API, version) pair the broker advertises, sent as a raw frame over one TCP connection:
//! each gets a decodable answer (the connection never closes), and the advertised ranges are
//! Kafka 3.9's (`*Request.json` `validVersions`; Fetch stops at 12 until topic ids are served).
//!
//! Versions the protocol crate no longer speaks (Produce v0-2, Fetch v0-3, ListOffsets v0,
//! OffsetCommit v0-1, OffsetFetch v0, CreateTopics v0-1, DeleteTopics v0, DescribeConfigs v0)
//! are written and read by hand here, from the 3.9 message JSON. Beyond "decodable", the answers
//! that matter to old clients are checked: records produced at every version are stored and read
//! back at every Fetch version in the message format that version reads (magic 0 for v0-1, 1 for
//! v2-3, 2 for v4+), offsets committed at every OffsetCommit version are fetched back at every
//! OffsetFetch version, ListOffsets v0 answers `old_style_offsets`, DescribeConfigs v0 answers in
//! its own layout, and topics are created and deleted at every version.

use std::collections::BTreeMap;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use e2e::raw::Conn;
use e2e::Cluster;
use kafka_protocol::messages::api_versions_request::ApiVersionsRequest;
use kafka_protocol::messages::create_partitions_request::CreatePartitionsTopic;
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::elect_leaders_request::TopicPartitions;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_delete_request::{
    OffsetDeleteRequestPartition, OffsetDeleteRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::{
    OffsetFetchRequestGroup, OffsetFetchRequestTopic, OffsetFetchRequestTopics,
};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{
    Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType, IEEE,
};

const TOPIC: &str = "table";

/// Kafka 3.9's range for every API a broker may serve (clients/src/main/resources/common/message).
const KAFKA_3_9: &[(ApiKey, i16, i16)] = &[
    (ApiKey::Produce, 0, 11),
    (ApiKey::Fetch, 0, 17),
    (ApiKey::ListOffsets, 0, 9),
    (ApiKey::Metadata, 0, 12),
    (ApiKey::OffsetCommit, 0, 9),
    (ApiKey::OffsetFetch, 0, 9),
    (ApiKey::FindCoordinator, 0, 6),
    (ApiKey::JoinGroup, 0, 9),
    (ApiKey::Heartbeat, 0, 4),
    (ApiKey::LeaveGroup, 0, 5),
    (ApiKey::SyncGroup, 0, 5),
    (ApiKey::DescribeGroups, 0, 5),
    (ApiKey::ListGroups, 0, 5),
    (ApiKey::ApiVersions, 0, 4),
    (ApiKey::CreateTopics, 0, 7),
    (ApiKey::DeleteTopics, 0, 6),
    (ApiKey::DeleteRecords, 0, 2),
    (ApiKey::InitProducerId, 0, 5),
    (ApiKey::OffsetForLeaderEpoch, 0, 4),
    (ApiKey::DescribeConfigs, 0, 4),
    (ApiKey::AlterConfigs, 0, 2),
    (ApiKey::DescribeLogDirs, 0, 4),
    (ApiKey::CreatePartitions, 0, 3),
    (ApiKey::DeleteGroups, 0, 2),
    (ApiKey::IncrementalAlterConfigs, 0, 1),
    (ApiKey::AlterPartitionReassignments, 0, 0),
    (ApiKey::ListPartitionReassignments, 0, 0),
    (ApiKey::OffsetDelete, 0, 0),
    (ApiKey::ElectLeaders, 0, 2),
    (ApiKey::DescribeCluster, 0, 1),
    (ApiKey::DescribeTopicPartitions, 0, 0),
    (ApiKey::AddPartitionsToTxn, 0, 5),
    (ApiKey::AddOffsetsToTxn, 0, 4),
    (ApiKey::EndTxn, 0, 4),
    (ApiKey::WriteTxnMarkers, 0, 1),
    (ApiKey::TxnOffsetCommit, 0, 4),
    (ApiKey::DescribeProducers, 0, 0),
    (ApiKey::DescribeTransactions, 0, 0),
    (ApiKey::ListTransactions, 0, 1),
];

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

fn put_string(out: &mut BytesMut, v: &str) {
    out.put_i16(v.len() as i16);
    out.put_slice(v.as_bytes());
}

fn get_string(b: &mut Bytes) -> String {
    let n = b.get_i16();
    if n < 0 {
        return String::new();
    }
    String::from_utf8(b.split_to(n as usize).to_vec()).expect("utf-8")
}

/// One v0 (magic 0) or v1 (magic 1) message with its entry header.
fn legacy_message(magic: i8, value: &[u8]) -> BytesMut {
    let mut m = BytesMut::new();
    m.put_i8(magic);
    m.put_i8(0);
    if magic == 1 {
        m.put_i64(1_700_000_000_000);
    }
    m.put_i32(3);
    m.put_slice(b"key");
    m.put_i32(value.len() as i32);
    m.put_slice(value);
    let mut out = BytesMut::new();
    out.put_i64(0);
    out.put_i32(m.len() as i32 + 4);
    out.put_u32(IEEE.checksum(&m));
    out.put_slice(&m);
    out
}

fn v2_batch(value: &[u8]) -> Bytes {
    let record = Record {
        transactional: false,
        control: false,
        delete_horizon: false,
        partition_leader_epoch: -1,
        producer_id: -1,
        producer_epoch: -1,
        timestamp_type: TimestampType::Creation,
        offset: 0,
        sequence: -1,
        timestamp: 1_700_000_000_000,
        key: Some(Bytes::from_static(b"key")),
        value: Some(Bytes::copy_from_slice(value)),
        headers: Default::default(),
    };
    let mut out = BytesMut::new();
    RecordBatchEncoder::encode(
        &mut out,
        [record].iter(),
        &RecordEncodeOptions {
            version: 2,
            compression: Compression::None,
        },
    )
    .expect("encode a batch");
    out.freeze()
}

/// Produce at `version`: v0-1 send a magic 0 message, v2 magic 1, v3+ a v2 batch. Returns the
/// partition's error code and base offset.
fn produce(conn: &mut Conn, version: i16) -> (i16, i64) {
    let value = format!("produced-v{version}");
    if version <= 2 {
        let magic = if version == 2 { 1 } else { 0 };
        let set = legacy_message(magic, value.as_bytes());
        let mut body = BytesMut::new();
        body.put_i16(1); // acks
        body.put_i32(10_000);
        body.put_i32(1);
        put_string(&mut body, TOPIC);
        body.put_i32(1);
        body.put_i32(0);
        body.put_i32(set.len() as i32);
        body.put_slice(&set);
        let mut r = conn.exchange(ApiKey::Produce, version, &body);
        assert_eq!(r.get_i32(), 1);
        assert_eq!(get_string(&mut r), TOPIC);
        assert_eq!(r.get_i32(), 1);
        assert_eq!(r.get_i32(), 0);
        let error = r.get_i16();
        let base = r.get_i64();
        if version == 2 {
            assert_eq!(r.get_i64(), -1, "log_append_time_ms for CreateTime");
        }
        if version >= 1 {
            r.get_i32(); // throttle
        }
        assert_eq!(r.remaining(), 0, "Produce v{version}: bytes left over");
        return (error, base);
    }
    let req = ProduceRequest::default()
        .with_acks(1)
        .with_timeout_ms(10_000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(TopicName(s(TOPIC)))
            .with_partition_data(vec![PartitionProduceData::default()
                .with_index(0)
                .with_records(Some(v2_batch(value.as_bytes())))])]);
    let ResponseKind::Produce(r) = conn.call(version, RequestKind::Produce(req)) else {
        unreachable!()
    };
    let p = &r.responses[0].partition_responses[0];
    (p.error_code, p.base_offset)
}

/// Fetch from offset 0 at `version`: returns the partition's error, high watermark and records.
fn fetch(conn: &mut Conn, version: i16) -> (i16, i64, Bytes) {
    if version <= 3 {
        let mut body = BytesMut::new();
        body.put_i32(-1);
        body.put_i32(0); // max_wait_ms
        body.put_i32(1);
        if version == 3 {
            body.put_i32(1 << 20);
        }
        body.put_i32(1);
        put_string(&mut body, TOPIC);
        body.put_i32(1);
        body.put_i32(0);
        body.put_i64(0);
        body.put_i32(1 << 20);
        let mut r = conn.exchange(ApiKey::Fetch, version, &body);
        if version >= 1 {
            r.get_i32(); // throttle
        }
        assert_eq!(r.get_i32(), 1);
        assert_eq!(get_string(&mut r), TOPIC);
        assert_eq!(r.get_i32(), 1);
        assert_eq!(r.get_i32(), 0);
        let error = r.get_i16();
        let hw = r.get_i64();
        let n = r.get_i32();
        let records = r.split_to(n.max(0) as usize);
        assert_eq!(r.remaining(), 0, "Fetch v{version}: bytes left over");
        return (error, hw, records);
    }
    let req = FetchRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_max_wait_ms(0)
        .with_min_bytes(1)
        .with_max_bytes(1 << 20)
        .with_session_epoch(-1)
        .with_topics(vec![FetchTopic::default()
            .with_topic(TopicName(s(TOPIC)))
            .with_partitions(vec![FetchPartition::default()
                .with_partition(0)
                .with_fetch_offset(0)
                .with_partition_max_bytes(1 << 20)])]);
    let ResponseKind::Fetch(r) = conn.call(version, RequestKind::Fetch(req)) else {
        unreachable!()
    };
    let p = &r.responses[0].partitions[0];
    (
        p.error_code,
        p.high_watermark,
        p.records.clone().unwrap_or_default(),
    )
}

/// The magic byte of every entry in a record set (v0/v1 message sets and v2 batches alike).
fn magics(mut records: Bytes) -> Vec<i8> {
    let mut out = Vec::new();
    while records.remaining() >= 17 {
        let size = i32::from_be_bytes(records[8..12].try_into().expect("4 bytes"));
        out.push(records[16] as i8);
        let total = 12 + size.max(0) as usize;
        if total > records.remaining() {
            break;
        }
        records.advance(total);
    }
    out
}

fn commit(conn: &mut Conn, version: i16, group: &str, offset: i64) -> i16 {
    if version <= 1 {
        let mut body = BytesMut::new();
        put_string(&mut body, group);
        if version == 1 {
            body.put_i32(-1);
            put_string(&mut body, "");
        }
        body.put_i32(1);
        put_string(&mut body, TOPIC);
        body.put_i32(1);
        body.put_i32(0);
        body.put_i64(offset);
        if version == 1 {
            body.put_i64(-1); // commit_timestamp
        }
        put_string(&mut body, "meta");
        let mut r = conn.exchange(ApiKey::OffsetCommit, version, &body);
        assert_eq!(r.get_i32(), 1);
        assert_eq!(get_string(&mut r), TOPIC);
        assert_eq!(r.get_i32(), 1);
        assert_eq!(r.get_i32(), 0);
        let error = r.get_i16();
        assert_eq!(r.remaining(), 0);
        return error;
    }
    let req = OffsetCommitRequest::default()
        .with_group_id(GroupId(s(group)))
        .with_generation_id_or_member_epoch(-1)
        .with_topics(vec![OffsetCommitRequestTopic::default()
            .with_name(TopicName(s(TOPIC)))
            .with_partitions(vec![OffsetCommitRequestPartition::default()
                .with_partition_index(0)
                .with_committed_offset(offset)
                .with_committed_metadata(Some(s("meta")))])]);
    let ResponseKind::OffsetCommit(r) = conn.call(version, RequestKind::OffsetCommit(req)) else {
        unreachable!()
    };
    r.topics[0].partitions[0].error_code
}

/// The committed offset of partition 0, read at `version`.
fn fetch_offset(conn: &mut Conn, version: i16, group: &str) -> i64 {
    let req = if version >= 8 {
        OffsetFetchRequest::default().with_groups(vec![OffsetFetchRequestGroup::default()
            .with_group_id(GroupId(s(group)))
            .with_topics(Some(vec![OffsetFetchRequestTopics::default()
                .with_name(TopicName(s(TOPIC)))
                .with_partition_indexes(vec![0])]))])
    } else {
        OffsetFetchRequest::default()
            .with_group_id(GroupId(s(group)))
            .with_topics(Some(vec![OffsetFetchRequestTopic::default()
                .with_name(TopicName(s(TOPIC)))
                .with_partition_indexes(vec![0])]))
    };
    if version == 0 {
        // v0 has v1's layout on the wire.
        let mut body = BytesMut::new();
        RequestKind::OffsetFetch(req)
            .encode(&mut body, 1)
            .expect("encode");
        let mut r = conn.exchange(ApiKey::OffsetFetch, 0, &body);
        let decoded = OffsetFetchResponse::decode_v1(&mut r);
        assert_eq!(r.remaining(), 0);
        return decoded;
    }
    let ResponseKind::OffsetFetch(r) = conn.call(version, RequestKind::OffsetFetch(req)) else {
        unreachable!()
    };
    if version >= 8 {
        r.groups[0].topics[0].partitions[0].committed_offset
    } else {
        r.topics[0].partitions[0].committed_offset
    }
}

trait DecodeV1 {
    fn decode_v1(b: &mut Bytes) -> i64;
}

impl DecodeV1 for OffsetFetchResponse {
    fn decode_v1(b: &mut Bytes) -> i64 {
        use kafka_protocol::protocol::Decodable;
        let r = OffsetFetchResponse::decode(b, 1).expect("OffsetFetch v0 answer in v1 layout");
        r.topics[0].partitions[0].committed_offset
    }
}

fn create_topic(conn: &mut Conn, version: i16, name: &str) -> i16 {
    if version <= 1 {
        let mut body = BytesMut::new();
        body.put_i32(1);
        put_string(&mut body, name);
        body.put_i32(1);
        body.put_i16(1);
        body.put_i32(0); // assignments
        body.put_i32(0); // configs
        body.put_i32(10_000);
        if version == 1 {
            body.put_u8(0); // validate_only
        }
        let mut r = conn.exchange(ApiKey::CreateTopics, version, &body);
        assert_eq!(r.get_i32(), 1);
        assert_eq!(get_string(&mut r), name);
        let error = r.get_i16();
        if version == 1 {
            get_string(&mut r);
        }
        assert_eq!(r.remaining(), 0);
        return error;
    }
    let req = CreateTopicsRequest::default()
        .with_timeout_ms(10_000)
        .with_topics(vec![CreatableTopic::default()
            .with_name(TopicName(s(name)))
            .with_num_partitions(1)
            .with_replication_factor(1)]);
    let ResponseKind::CreateTopics(r) = conn.call(version, RequestKind::CreateTopics(req)) else {
        unreachable!()
    };
    r.topics[0].error_code
}

fn delete_topic(conn: &mut Conn, version: i16, name: &str) -> i16 {
    let req = if version >= 6 {
        DeleteTopicsRequest::default().with_topics(vec![
            DeleteTopicState::default().with_name(Some(TopicName(s(name))))
        ])
    } else {
        DeleteTopicsRequest::default().with_topic_names(vec![TopicName(s(name))])
    }
    .with_timeout_ms(10_000);
    if version == 0 {
        let mut body = BytesMut::new();
        RequestKind::DeleteTopics(req)
            .encode(&mut body, 1)
            .expect("encode");
        let mut r = conn.exchange(ApiKey::DeleteTopics, 0, &body);
        assert_eq!(r.get_i32(), 1);
        assert_eq!(get_string(&mut r), name);
        let error = r.get_i16();
        assert_eq!(r.remaining(), 0);
        return error;
    }
    let ResponseKind::DeleteTopics(r) = conn.call(version, RequestKind::DeleteTopics(req)) else {
        unreachable!()
    };
    r.responses[0].error_code
}

/// DescribeConfigs of the topic at `version`: the error and `(name, is_default)` per config,
/// where v1+ report the source (5 = DEFAULT_CONFIG) instead of the flag.
fn describe_configs(conn: &mut Conn, version: i16) -> (i16, Vec<(String, bool)>) {
    let req =
        DescribeConfigsRequest::default().with_resources(vec![DescribeConfigsResource::default()
            .with_resource_type(2)
            .with_resource_name(s(TOPIC))
            .with_configuration_keys(None)]);
    if version == 0 {
        let mut body = BytesMut::new();
        RequestKind::DescribeConfigs(req)
            .encode(&mut body, 1)
            .expect("encode");
        body.truncate(body.len() - 1); // v0 has no include_synonyms
        let mut r = conn.exchange(ApiKey::DescribeConfigs, 0, &body);
        r.get_i32(); // throttle
        assert_eq!(r.get_i32(), 1);
        let error = r.get_i16();
        get_string(&mut r);
        assert_eq!(r.get_i8(), 2);
        assert_eq!(get_string(&mut r), TOPIC);
        let mut configs = Vec::new();
        for _ in 0..r.get_i32() {
            let name = get_string(&mut r);
            get_string(&mut r);
            let _read_only = r.get_u8();
            let is_default = r.get_u8() != 0;
            let _sensitive = r.get_u8();
            configs.push((name, is_default));
        }
        assert_eq!(r.remaining(), 0, "DescribeConfigs v0: bytes left over");
        return (error, configs);
    }
    let ResponseKind::DescribeConfigs(r) = conn.call(version, RequestKind::DescribeConfigs(req))
    else {
        unreachable!()
    };
    let result = &r.results[0];
    let configs = result
        .configs
        .iter()
        .map(|c| (c.name.to_string(), c.config_source == 5))
        .collect();
    (result.error_code, configs)
}

/// ListOffsets latest at `version`: the offsets answered (one, or v0's list).
fn list_latest(conn: &mut Conn, version: i16, max_num_offsets: i32) -> (i16, Vec<i64>) {
    if version == 0 {
        let mut body = BytesMut::new();
        body.put_i32(-1);
        body.put_i32(1);
        put_string(&mut body, TOPIC);
        body.put_i32(1);
        body.put_i32(0);
        body.put_i64(-1);
        body.put_i32(max_num_offsets);
        let mut r = conn.exchange(ApiKey::ListOffsets, 0, &body);
        assert_eq!(r.get_i32(), 1);
        assert_eq!(get_string(&mut r), TOPIC);
        assert_eq!(r.get_i32(), 1);
        assert_eq!(r.get_i32(), 0);
        let error = r.get_i16();
        let offsets = (0..r.get_i32()).map(|_| r.get_i64()).collect();
        assert_eq!(r.remaining(), 0);
        return (error, offsets);
    }
    let req = ListOffsetsRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_topics(vec![ListOffsetsTopic::default()
            .with_name(TopicName(s(TOPIC)))
            .with_partitions(vec![ListOffsetsPartition::default()
                .with_partition_index(0)
                .with_timestamp(-1)])]);
    let ResponseKind::ListOffsets(r) = conn.call(version, RequestKind::ListOffsets(req)) else {
        unreachable!()
    };
    let p = &r.topics[0].partitions[0];
    (p.error_code, vec![p.offset])
}

/// OffsetForLeaderEpoch for partition 0 of the table's topic and leader epoch 0: `(error,
/// leader epoch, end offset)`; v0-1 written and read by hand (the crate dropped them), v0's
/// answer has no leader epoch (-1 here).
fn epoch_end(conn: &mut Conn, version: i16) -> (i16, i32, i64) {
    if version <= 1 {
        let mut body = BytesMut::new();
        body.put_i32(1);
        put_string(&mut body, TOPIC);
        body.put_i32(1);
        body.put_i32(0);
        body.put_i32(0);
        let mut r = conn.exchange(ApiKey::OffsetForLeaderEpoch, version, &body);
        assert_eq!(r.get_i32(), 1);
        assert_eq!(get_string(&mut r), TOPIC);
        assert_eq!(r.get_i32(), 1);
        let error = r.get_i16();
        assert_eq!(r.get_i32(), 0, "partition");
        let epoch = if version == 1 { r.get_i32() } else { -1 };
        let end = r.get_i64();
        assert_eq!(r.remaining(), 0);
        return (error, epoch, end);
    }
    use kafka_protocol::messages::offset_for_leader_epoch_request::{
        OffsetForLeaderPartition, OffsetForLeaderTopic,
    };
    let req = kafka_protocol::messages::OffsetForLeaderEpochRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_topics(vec![OffsetForLeaderTopic::default()
            .with_topic(TopicName(s(TOPIC)))
            .with_partitions(vec![OffsetForLeaderPartition::default()
                .with_partition(0)
                .with_current_leader_epoch(0)
                .with_leader_epoch(0)])]);
    let ResponseKind::OffsetForLeaderEpoch(r) =
        conn.call(version, RequestKind::OffsetForLeaderEpoch(req))
    else {
        unreachable!()
    };
    let p = &r.topics[0].partitions[0];
    (p.error_code, p.leader_epoch, p.end_offset)
}

/// A commit marker for partition 0 of a topic that does not exist.
fn write_txn_marker_to_missing(
) -> kafka_protocol::messages::write_txn_markers_request::WritableTxnMarker {
    use kafka_protocol::messages::write_txn_markers_request::{
        WritableTxnMarker, WritableTxnMarkerTopic,
    };
    WritableTxnMarker::default()
        .with_producer_id(ProducerId(123_456))
        .with_producer_epoch(0)
        .with_transaction_result(true)
        .with_topics(vec![WritableTxnMarkerTopic::default()
            .with_name(TopicName(s("table-missing")))
            .with_partition_indexes(vec![0])])
        .with_coordinator_epoch(0)
}

/// WriteTxnMarkers at `version` (v0 written by hand: the crate dropped it) for a topic that does
/// not exist: the per-partition error code.
fn write_txn_markers(conn: &mut Conn, version: i16) -> i16 {
    if version == 0 {
        let mut body = BytesMut::new();
        body.put_i32(1);
        body.put_i64(123_456);
        body.put_i16(0);
        body.put_u8(1);
        body.put_i32(1);
        put_string(&mut body, "table-missing");
        body.put_i32(1);
        body.put_i32(0);
        body.put_i32(0);
        let mut r = conn.exchange(ApiKey::WriteTxnMarkers, 0, &body);
        assert_eq!(r.get_i32(), 1, "markers");
        assert_eq!(r.get_i64(), 123_456);
        assert_eq!(r.get_i32(), 1, "topics");
        assert_eq!(get_string(&mut r), "table-missing");
        assert_eq!(r.get_i32(), 1, "partitions");
        assert_eq!(r.get_i32(), 0, "partition");
        let error = r.get_i16();
        assert_eq!(r.remaining(), 0);
        return error;
    }
    let ResponseKind::WriteTxnMarkers(r) =
        conn.call(version, plain_request(ApiKey::WriteTxnMarkers, version))
    else {
        unreachable!()
    };
    r.markers[0].topics[0].partitions[0].error_code
}

/// A harmless request of `key` the crate can encode at `version`.
fn plain_request(key: ApiKey, version: i16) -> RequestKind {
    let group = format!("table-{key:?}-v{version}");
    match key {
        ApiKey::Metadata => {
            RequestKind::Metadata(MetadataRequest::default().with_topics(Some(vec![
                MetadataRequestTopic::default().with_name(Some(TopicName(s(TOPIC)))),
            ])))
        }
        ApiKey::ApiVersions => RequestKind::ApiVersions(
            ApiVersionsRequest::default()
                .with_client_software_name(s("e2e"))
                .with_client_software_version(s("1.0")),
        ),
        ApiKey::InitProducerId => RequestKind::InitProducerId(
            InitProducerIdRequest::default()
                .with_transaction_timeout_ms(60_000)
                .with_producer_id(ProducerId(-1))
                .with_producer_epoch(-1),
        ),
        ApiKey::CreatePartitions => RequestKind::CreatePartitions(
            CreatePartitionsRequest::default()
                .with_timeout_ms(10_000)
                .with_validate_only(true)
                .with_topics(vec![CreatePartitionsTopic::default()
                    .with_name(TopicName(s(TOPIC)))
                    .with_count(2)]),
        ),
        ApiKey::FindCoordinator => RequestKind::FindCoordinator(if version >= 4 {
            FindCoordinatorRequest::default().with_coordinator_keys(vec![s(&group)])
        } else {
            FindCoordinatorRequest::default().with_key(s(&group))
        }),
        ApiKey::JoinGroup => RequestKind::JoinGroup(
            JoinGroupRequest::default()
                .with_group_id(GroupId(s(&group)))
                .with_session_timeout_ms(10_000)
                .with_rebalance_timeout_ms(10_000)
                .with_protocol_type(s("consumer"))
                .with_protocols(vec![JoinGroupRequestProtocol::default()
                    .with_name(s("range"))
                    .with_metadata(Bytes::from_static(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))]),
        ),
        ApiKey::SyncGroup => RequestKind::SyncGroup(
            SyncGroupRequest::default()
                .with_group_id(GroupId(s(&group)))
                .with_generation_id(1)
                .with_member_id(s("nobody")),
        ),
        ApiKey::Heartbeat => RequestKind::Heartbeat(
            HeartbeatRequest::default()
                .with_group_id(GroupId(s(&group)))
                .with_generation_id(1)
                .with_member_id(s("nobody")),
        ),
        ApiKey::LeaveGroup => RequestKind::LeaveGroup(if version >= 3 {
            LeaveGroupRequest::default()
                .with_group_id(GroupId(s(&group)))
                .with_members(vec![MemberIdentity::default().with_member_id(s("nobody"))])
        } else {
            LeaveGroupRequest::default()
                .with_group_id(GroupId(s(&group)))
                .with_member_id(s("nobody"))
        }),
        ApiKey::ListGroups => RequestKind::ListGroups(ListGroupsRequest::default()),
        ApiKey::DescribeGroups => RequestKind::DescribeGroups(
            DescribeGroupsRequest::default().with_groups(vec![GroupId(s("table-commits"))]),
        ),
        ApiKey::DeleteGroups => RequestKind::DeleteGroups(
            DeleteGroupsRequest::default().with_groups_names(vec![GroupId(s(&group))]),
        ),
        ApiKey::OffsetDelete => RequestKind::OffsetDelete(
            OffsetDeleteRequest::default()
                .with_group_id(GroupId(s(&group)))
                .with_topics(vec![OffsetDeleteRequestTopic::default()
                    .with_name(TopicName(s(TOPIC)))
                    .with_partitions(vec![
                        OffsetDeleteRequestPartition::default().with_partition_index(0)
                    ])]),
        ),
        ApiKey::DescribeCluster => RequestKind::DescribeCluster(Default::default()),
        ApiKey::AlterConfigs => RequestKind::AlterConfigs(Default::default()),
        ApiKey::IncrementalAlterConfigs => RequestKind::IncrementalAlterConfigs(Default::default()),
        ApiKey::DeleteRecords => RequestKind::DeleteRecords(Default::default()),
        ApiKey::OffsetForLeaderEpoch => RequestKind::OffsetForLeaderEpoch(Default::default()),
        ApiKey::DescribeLogDirs => RequestKind::DescribeLogDirs(Default::default()),
        ApiKey::AlterPartitionReassignments => {
            RequestKind::AlterPartitionReassignments(Default::default())
        }
        ApiKey::ListPartitionReassignments => {
            RequestKind::ListPartitionReassignments(Default::default())
        }
        ApiKey::DescribeTopicPartitions => RequestKind::DescribeTopicPartitions(Default::default()),
        // The topic's only replica already leads it: ELECTION_NOT_NEEDED at every version.
        ApiKey::ElectLeaders => RequestKind::ElectLeaders(
            ElectLeadersRequest::default()
                .with_topic_partitions(Some(vec![TopicPartitions::default()
                    .with_topic(TopicName(s(TOPIC)))
                    .with_partitions(vec![0])]))
                .with_timeout_ms(10_000),
        ),
        // Not a member of any transaction: an answer per partition, nothing committed.
        ApiKey::TxnOffsetCommit => RequestKind::TxnOffsetCommit(
            TxnOffsetCommitRequest::default()
                .with_transactional_id(TransactionalId(s(&group)))
                .with_group_id(GroupId(s(&group)))
                .with_producer_id(ProducerId(123_456))
                .with_producer_epoch(0),
        ),
        ApiKey::DescribeProducers => {
            RequestKind::DescribeProducers(DescribeProducersRequest::default().with_topics(vec![
                kafka_protocol::messages::describe_producers_request::TopicRequest::default()
                    .with_name(TopicName(s(TOPIC)))
                    .with_partition_indexes(vec![0]),
            ]))
        }
        ApiKey::WriteTxnMarkers => RequestKind::WriteTxnMarkers(
            WriteTxnMarkersRequest::default().with_markers(vec![write_txn_marker_to_missing()]),
        ),
        // A transactional id no producer initialised: answered with an error, nothing added.
        ApiKey::AddPartitionsToTxn => {
            use kafka_protocol::messages::add_partitions_to_txn_request::{
                AddPartitionsToTxnTopic, AddPartitionsToTxnTransaction,
            };
            let topics = vec![AddPartitionsToTxnTopic::default()
                .with_name(TopicName(s(TOPIC)))
                .with_partitions(vec![0])];
            RequestKind::AddPartitionsToTxn(if version >= 4 {
                AddPartitionsToTxnRequest::default().with_transactions(vec![
                    AddPartitionsToTxnTransaction::default()
                        .with_transactional_id(TransactionalId(s(&group)))
                        .with_producer_id(ProducerId(123_456))
                        .with_producer_epoch(0)
                        .with_verify_only(true)
                        .with_topics(topics),
                ])
            } else {
                AddPartitionsToTxnRequest::default()
                    .with_v3_and_below_transactional_id(TransactionalId(s(&group)))
                    .with_v3_and_below_producer_id(ProducerId(123_456))
                    .with_v3_and_below_producer_epoch(0)
                    .with_v3_and_below_topics(topics)
            })
        }
        ApiKey::AddOffsetsToTxn => RequestKind::AddOffsetsToTxn(
            AddOffsetsToTxnRequest::default()
                .with_transactional_id(TransactionalId(s(&group)))
                .with_producer_id(ProducerId(123_456))
                .with_producer_epoch(0)
                .with_group_id(GroupId(s(&group))),
        ),
        ApiKey::EndTxn => RequestKind::EndTxn(
            EndTxnRequest::default()
                .with_transactional_id(TransactionalId(s(&group)))
                .with_producer_id(ProducerId(123_456))
                .with_producer_epoch(0)
                .with_committed(true),
        ),
        ApiKey::DescribeTransactions => RequestKind::DescribeTransactions(
            DescribeTransactionsRequest::default()
                .with_transactional_ids(vec![TransactionalId(s(&group))]),
        ),
        ApiKey::ListTransactions => RequestKind::ListTransactions(
            ListTransactionsRequest::default().with_duration_filter(-1),
        ),
        other => panic!("the table has no request for {other:?}: add one"),
    }
}

/// The ranges the broker advertises, read with ApiVersions v0.
fn advertised(conn: &mut Conn) -> BTreeMap<i16, (ApiKey, i16, i16)> {
    let ResponseKind::ApiVersions(r) =
        conn.call(0, RequestKind::ApiVersions(ApiVersionsRequest::default()))
    else {
        unreachable!()
    };
    assert_eq!(r.error_code, 0);
    r.api_keys
        .iter()
        .map(|k| {
            let key = ApiKey::try_from(k.api_key).expect("a known key");
            (k.api_key, (key, k.min_version, k.max_version))
        })
        .collect()
}

#[test]
fn every_advertised_api_version_is_kafka_3_9s_range_and_answers() {
    let cluster = Cluster::start();
    cluster.create_topic(TOPIC, 1);
    let mut conn = Conn::open(&cluster.bootstrap());
    let ranges = advertised(&mut conn);

    // The advertised ranges are Kafka 3.9's, Fetch excepted (capped at 12: no topic ids).
    for (key, min, max) in ranges.values() {
        let (_, kmin, kmax) = KAFKA_3_9
            .iter()
            .find(|(k, _, _)| k == key)
            .unwrap_or_else(|| panic!("{key:?} is advertised but not in the 3.9 table"));
        let kmax = if *key == ApiKey::Fetch { 12 } else { *kmax };
        assert_eq!(
            (*min, *max),
            (*kmin, kmax),
            "{key:?}: advertised vs Kafka 3.9"
        );
    }
    for key in [
        ApiKey::Produce,
        ApiKey::DescribeConfigs,
        ApiKey::OffsetCommit,
        ApiKey::ListOffsets,
        ApiKey::Fetch,
    ] {
        assert_eq!(ranges[&(key as i16)].1, 0, "{key:?} is served from v0");
    }

    // Produce at every version: stored, offsets in order.
    let (_, pmin, pmax) = ranges[&(ApiKey::Produce as i16)];
    let mut expected_offset = 0;
    for version in pmin..=pmax {
        let (error, base) = produce(&mut conn, version);
        assert_eq!((error, base), (0, expected_offset), "Produce v{version}");
        expected_offset += 1;
    }
    let produced = expected_offset;

    // Fetch at every version reads all of them in the format the version reads.
    let (_, fmin, fmax) = ranges[&(ApiKey::Fetch as i16)];
    for version in fmin..=fmax {
        let (error, hw, records) = fetch(&mut conn, version);
        assert_eq!((error, hw), (0, produced), "Fetch v{version}");
        let want = match version {
            0 | 1 => 0,
            2 | 3 => 1,
            _ => 2,
        };
        let got = magics(records.clone());
        assert!(!got.is_empty(), "Fetch v{version}: no records");
        assert!(
            got.iter().all(|m| *m == want),
            "Fetch v{version}: magics {got:?}, want {want}"
        );
        if want < 2 {
            assert_eq!(
                got.len() as i64,
                produced,
                "Fetch v{version}: one message each"
            );
            let text = String::from_utf8_lossy(&records);
            for v in pmin..=pmax {
                assert!(
                    text.contains(&format!("produced-v{v}")),
                    "Fetch v{version} misses the record produced at v{v}"
                );
            }
        }
    }

    // ListOffsets at every version: the log end; v0 as old_style_offsets.
    let (_, lmin, lmax) = ranges[&(ApiKey::ListOffsets as i16)];
    for version in lmin..=lmax {
        let (error, offsets) = list_latest(&mut conn, version, 1);
        assert_eq!(
            (error, offsets),
            (0, vec![produced]),
            "ListOffsets v{version}"
        );
    }
    // v0 with room for more: the log end, then the (only) segment's base offset.
    assert_eq!(list_latest(&mut conn, 0, 10), (0, vec![produced, 0]));

    // OffsetCommit at every version, read back at every OffsetFetch version of the same store:
    // v0 commits and fetches use ZooKeeper in Kafka 3.9 (zookeeper-lite here), the others the
    // group's coordinator and `__consumer_offsets`.
    let (_, cmin, cmax) = ranges[&(ApiKey::OffsetCommit as i16)];
    let (_, ofmin, ofmax) = ranges[&(ApiKey::OffsetFetch as i16)];
    e2e::raw::wait_for_group_coordinator(&cluster.bootstrap(), "table-commits");
    for version in cmin..=cmax {
        let offset = 100 + i64::from(version);
        assert_eq!(
            commit(&mut conn, version, "table-commits", offset),
            0,
            "OffsetCommit v{version}"
        );
        let fetch_versions = if version == 0 {
            ofmin..=ofmin
        } else {
            ofmin.max(1)..=ofmax
        };
        for fetch_version in fetch_versions {
            assert_eq!(
                fetch_offset(&mut conn, fetch_version, "table-commits"),
                offset,
                "OffsetFetch v{fetch_version} after OffsetCommit v{version}"
            );
        }
    }

    // DescribeConfigs at every version. v1+ give the source; v0's is_default is false for
    // every config, as Kafka 3.9's broker never sets it.
    let (_, dmin, dmax) = ranges[&(ApiKey::DescribeConfigs as i16)];
    for version in dmin..=dmax {
        let (error, configs) = describe_configs(&mut conn, version);
        assert_eq!(error, 0, "DescribeConfigs v{version}");
        let default = configs
            .iter()
            .find(|(name, _)| name == "min.compaction.lag.ms")
            .unwrap_or_else(|| panic!("DescribeConfigs v{version}: no min.compaction.lag.ms"));
        assert_eq!(
            default.1,
            version > 0,
            "DescribeConfigs v{version}: {default:?}"
        );
        if version == 0 {
            assert!(
                configs.iter().all(|(_, d)| !d),
                "v0 is_default is never set"
            );
        }
    }

    // OffsetForLeaderEpoch at every version: epoch 0 (the only one) ends at the log end.
    let (_, emin, emax) = ranges[&(ApiKey::OffsetForLeaderEpoch as i16)];
    for version in emin..=emax {
        let want_epoch = if version == 0 { -1 } else { 0 };
        assert_eq!(
            epoch_end(&mut conn, version),
            (0, want_epoch, produced),
            "OffsetForLeaderEpoch v{version}"
        );
    }

    // CreateTopics and DeleteTopics at every version.
    let (_, tmin, tmax) = ranges[&(ApiKey::CreateTopics as i16)];
    let (_, xmin, xmax) = ranges[&(ApiKey::DeleteTopics as i16)];
    for version in tmin..=tmax {
        let name = format!("table-created-v{version}");
        assert_eq!(
            create_topic(&mut conn, version, &name),
            0,
            "CreateTopics v{version}"
        );
        let delete_version = version.clamp(xmin, xmax);
        assert_eq!(
            delete_topic(&mut conn, delete_version, &name),
            0,
            "DeleteTopics v{delete_version}"
        );
    }

    // Metadata: an empty topic list is every topic in v0 (null is, from v1), none after.
    let (_, mmin, mmax) = ranges[&(ApiKey::Metadata as i16)];
    for version in mmin..=mmax {
        let req = MetadataRequest::default().with_topics(Some(vec![]));
        let ResponseKind::Metadata(r) = conn.call(version, RequestKind::Metadata(req)) else {
            unreachable!()
        };
        let names: Vec<_> = r.topics.iter().filter_map(|t| t.name.clone()).collect();
        let has_topic = names.iter().any(|n| n.0.as_str() == TOPIC);
        assert_eq!(
            has_topic,
            version == 0,
            "Metadata v{version} [] -> {names:?}"
        );
    }

    // WriteTxnMarkers at every version: a marker for a missing topic is refused per partition.
    let (_, wmin, wmax) = ranges[&(ApiKey::WriteTxnMarkers as i16)];
    for version in wmin..=wmax {
        assert_eq!(
            write_txn_markers(&mut conn, version),
            3,
            "WriteTxnMarkers v{version}: UNKNOWN_TOPIC_OR_PARTITION"
        );
    }

    // DescribeLogDirs at every version: the topic's partition in the one log dir; v0 (which the
    // crate no longer encodes) has v1's layout.
    let (_, lmin, lmax) = ranges[&(ApiKey::DescribeLogDirs as i16)];
    for version in lmin..=lmax {
        let mut body = BytesMut::new();
        RequestKind::DescribeLogDirs(DescribeLogDirsRequest::default().with_topics(None))
            .encode(&mut body, version.max(1))
            .expect("encode");
        let mut answer = conn.exchange(ApiKey::DescribeLogDirs, version, &body);
        let ResponseKind::DescribeLogDirs(r) =
            ResponseKind::decode(ApiKey::DescribeLogDirs, &mut answer, version.max(1))
                .expect("decodable")
        else {
            unreachable!()
        };
        assert_eq!(r.results.len(), 1, "DescribeLogDirs v{version}");
        let dir = &r.results[0];
        assert!(
            dir.topics.iter().any(|t| t.name.0.as_str() == TOPIC),
            "DescribeLogDirs v{version}: {dir:?}"
        );
        assert_eq!(
            dir.total_bytes > 0,
            version >= 4,
            "DescribeLogDirs v{version}"
        );
    }

    // Everything else: a decodable answer at every version, on the same connection.
    let covered = [
        ApiKey::DescribeLogDirs,
        ApiKey::WriteTxnMarkers,
        ApiKey::Produce,
        ApiKey::Fetch,
        ApiKey::ListOffsets,
        ApiKey::OffsetCommit,
        ApiKey::OffsetFetch,
        ApiKey::DescribeConfigs,
        ApiKey::CreateTopics,
        ApiKey::DeleteTopics,
        ApiKey::OffsetForLeaderEpoch,
    ];
    for (key, min, max) in ranges.values() {
        if covered.contains(key) {
            continue;
        }
        for version in *min..=*max {
            conn.call(version, plain_request(*key, version));
        }
    }
    // The same connection still answers.
    advertised(&mut conn);
}

#[test]
fn versions_outside_the_advertised_range_still_get_the_apiversions_fallback() {
    let cluster = Cluster::start();
    let mut conn = Conn::open(&cluster.bootstrap());
    // KIP-511: an ApiVersions version above ours is answered in v0 with UNSUPPORTED_VERSION.
    let mut r = conn.exchange(ApiKey::ApiVersions, 127, &[]);
    assert_eq!(r.get_i16(), 35, "UNSUPPORTED_VERSION");
    let n = r.get_i32();
    assert!(n > 0);
}

fn create_with_config(conn: &mut Conn, name: &str, key: &str, value: &str) {
    use kafka_protocol::messages::create_topics_request::CreatableTopicConfig;
    let req = CreateTopicsRequest::default()
        .with_timeout_ms(10_000)
        .with_topics(vec![CreatableTopic::default()
            .with_name(TopicName(s(name)))
            .with_num_partitions(1)
            .with_replication_factor(1)
            .with_configs(vec![CreatableTopicConfig::default()
                .with_name(s(key))
                .with_value(Some(s(value)))])]);
    let ResponseKind::CreateTopics(r) = conn.call(5, RequestKind::CreateTopics(req)) else {
        unreachable!()
    };
    assert_eq!(
        r.topics[0].error_code, 0,
        "create {name} with {key}={value}"
    );
}

/// The error of partition 0 of `topic` fetched at `version` (v0-3 read by hand).
fn fetch_error(conn: &mut Conn, version: i16, topic: &str) -> i16 {
    let req = FetchRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_max_wait_ms(0)
        .with_min_bytes(1)
        .with_max_bytes(1 << 20)
        .with_session_epoch(-1)
        .with_topics(vec![FetchTopic::default()
            .with_topic(TopicName(s(topic)))
            .with_partitions(vec![FetchPartition::default()
                .with_partition(0)
                .with_partition_max_bytes(1 << 20)])]);
    if version <= 3 {
        let mut body = BytesMut::new();
        RequestKind::Fetch(req)
            .encode(&mut body, 4)
            .expect("encode");
        // v4 is v3 plus isolation_level (one byte after max_bytes at 12..16).
        let mut v3 = body[..16].to_vec();
        v3.extend_from_slice(&body[17..]);
        let mut r = conn.exchange(ApiKey::Fetch, 3, &v3);
        r.get_i32();
        r.get_i32();
        get_string(&mut r);
        r.get_i32();
        r.get_i32();
        return r.get_i16();
    }
    let ResponseKind::Fetch(r) = conn.call(version, RequestKind::Fetch(req)) else {
        unreachable!()
    };
    r.responses[0].partitions[0].error_code
}

/// What old Fetch versions cannot carry is refused per partition as Kafka 3.9 refuses it: a zstd
/// topic below Fetch v10 (UNSUPPORTED_COMPRESSION_TYPE), and down-conversion for Fetch v0-3 of a
/// topic with `message.downconversion.enable=false` (UNSUPPORTED_VERSION). Produce refuses a v0/v1
/// message set from v3 on (INVALID_RECORD) and zstd below v7 (UNSUPPORTED_COMPRESSION_TYPE).
/// ListOffsets v0 answers timestamps from segment times and refuses -3.
#[test]
fn old_versions_refuse_what_they_cannot_carry_with_kafkas_errors() {
    let cluster = Cluster::start();
    cluster.create_topic(TOPIC, 1);
    let mut conn = Conn::open(&cluster.bootstrap());
    create_with_config(&mut conn, "table-zstd", "compression.type", "zstd");
    create_with_config(
        &mut conn,
        "table-nodown",
        "message.downconversion.enable",
        "false",
    );
    assert_eq!(
        fetch_error(&mut conn, 9, "table-zstd"),
        76,
        "zstd topic, Fetch v9"
    );
    assert_eq!(
        fetch_error(&mut conn, 10, "table-zstd"),
        0,
        "zstd topic, Fetch v10"
    );
    assert_eq!(
        fetch_error(&mut conn, 3, "table-nodown"),
        35,
        "no down-conversion, v3"
    );
    assert_eq!(
        fetch_error(&mut conn, 4, "table-nodown"),
        0,
        "no down-conversion, v4"
    );
    assert_eq!(
        fetch_error(&mut conn, 3, TOPIC),
        0,
        "down-conversion on by default"
    );

    // Produce v3+ with a magic 1 message set: INVALID_RECORD.
    let set = legacy_message(1, b"old");
    let req = ProduceRequest::default()
        .with_acks(1)
        .with_timeout_ms(10_000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(TopicName(s(TOPIC)))
            .with_partition_data(vec![PartitionProduceData::default()
                .with_index(0)
                .with_records(Some(set.freeze()))])]);
    let ResponseKind::Produce(r) = conn.call(3, RequestKind::Produce(req.clone())) else {
        unreachable!()
    };
    let p = &r.responses[0].partition_responses[0];
    assert_eq!(p.error_code, 87, "Produce v3 with magic 1: {p:?}");

    // Produce v6 with a zstd batch: UNSUPPORTED_COMPRESSION_TYPE; v7 takes it.
    let record = Record {
        transactional: false,
        control: false,
        delete_horizon: false,
        partition_leader_epoch: -1,
        producer_id: -1,
        producer_epoch: -1,
        timestamp_type: TimestampType::Creation,
        offset: 0,
        sequence: -1,
        timestamp: 1_700_000_000_000,
        key: None,
        value: Some(Bytes::from_static(b"zstd")),
        headers: Default::default(),
    };
    let mut zstd = BytesMut::new();
    RecordBatchEncoder::encode(
        &mut zstd,
        [record].iter(),
        &RecordEncodeOptions {
            version: 2,
            compression: Compression::Zstd,
        },
    )
    .expect("zstd batch");
    let zstd = zstd.freeze();
    for (version, want) in [(6, 76), (7, 0)] {
        let mut req = req.clone();
        req.topic_data[0].partition_data[0].records = Some(zstd.clone());
        let ResponseKind::Produce(r) = conn.call(version, RequestKind::Produce(req)) else {
            unreachable!()
        };
        let p = &r.responses[0].partition_responses[0];
        assert_eq!(p.error_code, want, "Produce v{version} with zstd: {p:?}");
    }

    // ListOffsets v0 by time: nothing modified before 0; everything by the far future; -3 is
    // refused in v0.
    let mut v0 = |timestamp: i64| {
        let mut body = BytesMut::new();
        body.put_i32(-1);
        body.put_i32(1);
        put_string(&mut body, TOPIC);
        body.put_i32(1);
        body.put_i32(0);
        body.put_i64(timestamp);
        body.put_i32(10);
        let mut r = conn.exchange(ApiKey::ListOffsets, 0, &body);
        r.get_i32();
        get_string(&mut r);
        r.get_i32();
        r.get_i32();
        let error = r.get_i16();
        let offsets: Vec<i64> = (0..r.get_i32()).map(|_| r.get_i64()).collect();
        (error, offsets)
    };
    assert_eq!(v0(0), (0, vec![]));
    assert_eq!(v0(i64::MAX), (0, vec![1, 0]));
    assert_eq!(v0(-3), (35, vec![]));

    // v8's earliest-local (-4) is the log start without tiered storage; v9's latest-tiered (-5)
    // is -1 with leader epoch -1.
    for (version, timestamp, want) in [(8, -4, 0), (9, -5, -1)] {
        let req = ListOffsetsRequest::default()
            .with_replica_id(BrokerId(-1))
            .with_topics(vec![ListOffsetsTopic::default()
                .with_name(TopicName(s(TOPIC)))
                .with_partitions(vec![ListOffsetsPartition::default()
                    .with_partition_index(0)
                    .with_timestamp(timestamp)])]);
        let ResponseKind::ListOffsets(r) = conn.call(version, RequestKind::ListOffsets(req)) else {
            unreachable!()
        };
        let p = &r.topics[0].partitions[0];
        assert_eq!(
            (p.error_code, p.offset),
            (0, want),
            "ListOffsets v{version} {timestamp}"
        );
        if timestamp == -5 {
            assert_eq!((p.timestamp, p.leader_epoch), (-1, -1));
        }
    }
}

/// OffsetFetch v0 of partition 0 of the table topic: `(error, offset)`.
fn fetch_offset_v0(conn: &mut Conn, group: &str) -> (i16, i64) {
    let mut body = BytesMut::new();
    put_string(&mut body, group);
    body.put_i32(1);
    put_string(&mut body, TOPIC);
    body.put_i32(1);
    body.put_i32(0);
    let mut r = conn.exchange(ApiKey::OffsetFetch, 0, &body);
    assert_eq!(r.get_i32(), 1);
    assert_eq!(get_string(&mut r), TOPIC);
    assert_eq!(r.get_i32(), 1);
    assert_eq!(r.get_i32(), 0);
    let offset = r.get_i64();
    get_string(&mut r);
    let error = r.get_i16();
    assert_eq!(r.remaining(), 0);
    (error, offset)
}

/// Kafka 3.9 keeps v0 offsets in ZooKeeper: an OffsetCommit v0 is stored whatever the group's
/// members (a v2 "simple" commit to a group with members is UNKNOWN_MEMBER_ID), and an
/// OffsetFetch v0 of a partition without a committed offset is UNKNOWN_TOPIC_OR_PARTITION where
/// v1 answers offset -1 without error.
#[test]
fn offset_commit_and_fetch_v0_follow_kafkas_zookeeper_path() {
    let cluster = Cluster::start_with(&[("group.initial.rebalance.delay.ms", "0")]);
    cluster.create_topic(TOPIC, 1);
    e2e::raw::wait_for_group_coordinator(&cluster.bootstrap(), "table-live");
    let mut conn = Conn::open(&cluster.bootstrap());
    assert_eq!(fetch_offset_v0(&mut conn, "table-live"), (3, -1));
    assert_eq!(fetch_offset(&mut conn, 1, "table-live"), -1);

    // A live member (JoinGroup v3 completes the join at once with no initial delay).
    let join = plain_request(ApiKey::JoinGroup, 3);
    let RequestKind::JoinGroup(join) = join else {
        unreachable!()
    };
    let join = join.with_group_id(GroupId(s("table-live")));
    let ResponseKind::JoinGroup(joined) = conn.call(3, RequestKind::JoinGroup(join)) else {
        unreachable!()
    };
    assert_eq!(joined.error_code, 0, "{joined:?}");

    assert_eq!(
        commit(&mut conn, 2, "table-live", 4),
        25,
        "v2 simple commit, live group"
    );
    assert_eq!(
        commit(&mut conn, 0, "table-live", 4),
        0,
        "v0 commit, live group"
    );
    assert_eq!(fetch_offset_v0(&mut conn, "table-live"), (0, 4));
}
