//! Request shapes Kafka 3.9 answers in its own way, through the wire codec and the handlers
//! against a broker registered with an in-process zookeeper-lite: a partition named twice in one
//! Produce request (`KafkaApis.handleProduceRequest` keys partitions by `TopicPartition`), and a
//! Fetch with a negative `max_bytes` or `partition_max_bytes` (`ReplicaManager.readFromLocalLog`).

use bytes::Bytes;
use common::errors::ErrorCode;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::*;

use super::error_answers::{create_topic, topic_name, wire};
use crate::broker::start_for_test;
use crate::log::testutil;

fn partition(records: Vec<u8>) -> PartitionProduceData {
    PartitionProduceData::default()
        .with_index(0)
        .with_records(Some(Bytes::from(records)))
}

#[tokio::test]
async fn produce_naming_a_partition_twice_appends_only_the_last_entry_and_answers_once() {
    let (broker, _guard) = start_for_test().await;
    create_topic(&broker, "twice").await;
    for version in [3, 9] {
        let request = ProduceRequest::default()
            .with_acks(-1)
            .with_timeout_ms(5000)
            .with_topic_data(vec![
                TopicProduceData::default()
                    .with_name(topic_name("twice"))
                    .with_partition_data(vec![partition(testutil::batch(2, 5))]),
                TopicProduceData::default()
                    .with_name(topic_name("twice"))
                    .with_partition_data(vec![partition(testutil::batch(3, 5))]),
            ]);
        let request = wire(&request, version);
        let response = wire(
            &super::produce::handle(&broker, request, version).await,
            version,
        );
        assert_eq!(response.responses.len(), 1, "v{version}: {response:?}");
        let partitions = &response.responses[0].partition_responses;
        assert_eq!(partitions.len(), 1, "v{version}: {response:?}");
        assert_eq!(partitions[0].error_code, 0);
    }
    // Two requests, each appending only its last entry's three records.
    let hosted = broker.partitions.get("twice", 0).expect("hosted partition");
    assert_eq!(hosted.log.log_end_offset(), 6);
}

fn fetch(offset: i64, max_bytes: i32, partition_max_bytes: i32) -> FetchRequest {
    use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
    FetchRequest::default()
        .with_max_wait_ms(0)
        .with_max_bytes(max_bytes)
        .with_topics(vec![FetchTopic::default()
            .with_topic(topic_name("neg"))
            .with_partitions(vec![FetchPartition::default()
                .with_partition(0)
                .with_fetch_offset(offset)
                .with_partition_max_bytes(partition_max_bytes)])])
}

#[tokio::test]
async fn fetch_with_a_negative_max_bytes_answers_unknown_server_error_where_there_is_data() {
    let (broker, _guard) = start_for_test().await;
    create_topic(&broker, "neg").await;
    let request = ProduceRequest::default()
        .with_acks(-1)
        .with_timeout_ms(5000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(topic_name("neg"))
            .with_partition_data(vec![partition(testutil::batch(3, 5))])]);
    let produced = super::produce::handle(&broker, request, 9).await;
    assert_eq!(produced.responses[0].partition_responses[0].error_code, 0);
    let answer = |request: FetchRequest| {
        let broker = broker.clone();
        async move {
            let response = wire(
                &super::fetch::handle(&broker, wire(&request, 12), 12).await,
                12,
            );
            response.responses[0].partitions[0].clone()
        }
    };
    let unknown_server_error = ErrorCode::UnknownServerError.code();
    // Request-level and partition-level limits below 0: `LogSegment.read` refuses the size.
    for (max_bytes, partition_max_bytes) in [(-1, 1 << 20), (1 << 20, -1), (i32::MIN, -5)] {
        let p = answer(fetch(0, max_bytes, partition_max_bytes)).await;
        assert_eq!(
            p.error_code, unknown_server_error,
            "{max_bytes} {partition_max_bytes}"
        );
        assert_eq!(
            (p.high_watermark, p.last_stable_offset, p.log_start_offset),
            (-1, -1, -1)
        );
        assert_eq!(p.records.as_ref().map(Bytes::len), Some(0));
    }
    // At the high watermark nothing is read: an empty answer without error, at once even when
    // min_bytes asks for more (Kafka's fetchMinBytes = min(minBytes, fetchMaxBytes)).
    let started = std::time::Instant::now();
    let p = answer(
        fetch(3, -1, 1 << 20)
            .with_min_bytes(1)
            .with_max_wait_ms(10_000),
    )
    .await;
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!((p.error_code, p.high_watermark), (0, 3));
    // Out of range is still OFFSET_OUT_OF_RANGE.
    let p = answer(fetch(9, -1, 1 << 20)).await;
    assert_eq!(p.error_code, ErrorCode::OffsetOutOfRange.code());
}

/// `batch` with `recordsCount` (and a consistent `lastOffsetDelta`) forged to `count`, CRC
/// recomputed, as a client that sent it would have.
fn with_forged_count(mut batch: Vec<u8>, count: i32) -> Vec<u8> {
    batch[23..27].copy_from_slice(&(count - 1).to_be_bytes());
    batch[57..61].copy_from_slice(&count.to_be_bytes());
    let crc = crate::log::batch::batch_crc(&batch);
    batch[17..21].copy_from_slice(&crc.to_be_bytes());
    batch
}

#[tokio::test]
async fn a_batch_declaring_more_records_than_it_holds_is_invalid_record_premature_eof() {
    use kafka_protocol::records::Compression;
    let (broker, _guard) = start_for_test().await;
    create_topic(&broker, "count").await;
    for compression in [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ] {
        for count in [i32::MAX, 4] {
            let sent = testutil::batch_with(&testutil::BatchSpec {
                records: 2,
                compression,
                ..testutil::BatchSpec::default()
            });
            let request = ProduceRequest::default()
                .with_acks(-1)
                .with_timeout_ms(5000)
                .with_topic_data(vec![TopicProduceData::default()
                    .with_name(topic_name("count"))
                    .with_partition_data(vec![partition(with_forged_count(sent, count))])]);
            let response = wire(
                &super::produce::handle(&broker, wire(&request, 9), 9).await,
                9,
            );
            let p = &response.responses[0].partition_responses[0];
            assert_eq!(
                (
                    p.error_code,
                    p.error_message.as_deref().map(|m| m.to_string())
                ),
                (
                    ErrorCode::InvalidRecord.code(),
                    Some("Incorrect declared batch size, premature EOF reached".to_string())
                ),
                "{compression:?} {count}"
            );
        }
    }
    let hosted = broker.partitions.get("count", 0).expect("hosted");
    assert_eq!(hosted.log.log_end_offset(), 0, "nothing stored");
}

#[tokio::test]
async fn offset_commit_v1_commit_timestamp_is_stored_and_an_old_one_expires_at_the_next_cleanup() {
    use kafka_protocol::messages::offset_commit_request::{
        OffsetCommitRequestPartition, OffsetCommitRequestTopic,
    };
    let (broker, _guard) = start_for_test().await;
    create_topic(&broker, "old").await;
    create_topic(&broker, "now").await;
    let now = common::time::now_ms();
    // offsets.retention.minutes is 7 days: a commit stamped 8 days ago is past it.
    let eight_days_ago = now - 8 * 24 * 3_600_000;
    let topic = |name: &str| {
        OffsetCommitRequestTopic::default()
            .with_name(topic_name(name))
            .with_partitions(vec![OffsetCommitRequestPartition::default()
                .with_partition_index(0)
                .with_committed_offset(42)
                .with_committed_leader_epoch(-1)])
    };
    // A simple (standalone) commit, as Sarama and Burrow send v1: generation -1, no member.
    let request = OffsetCommitRequest::default()
        .with_group_id(GroupId(
            kafka_protocol::protocol::StrBytes::from_static_str("v1-group"),
        ))
        .with_generation_id_or_member_epoch(-1)
        .with_retention_time_ms(-1)
        .with_topics(vec![topic("old"), topic("now")]);
    let response =
        super::offsets::commit_v1(&broker, request, &[vec![eight_days_ago], vec![-1]]).await;
    for t in &response.topics {
        assert_eq!(t.partitions[0].error_code, 0, "{response:?}");
    }
    let stored = broker.groups.with(|c, _| c.committed("v1-group", None));
    let stamp = |name: &str| {
        stored
            .iter()
            .find(|((t, _), _)| t == name)
            .map(|(_, o)| o.commit_timestamp)
    };
    assert_eq!(stamp("old"), Some(eight_days_ago));
    assert!(stamp("now").is_some_and(|t| t >= now), "{stored:?}");

    broker.cleanup_group_metadata().await;
    let left: Vec<String> = broker
        .groups
        .with(|c, _| c.committed("v1-group", None))
        .into_iter()
        .map(|((t, _), _)| t)
        .collect();
    assert_eq!(left, ["now"]);
}
