//! Transactions on the data path at the handler level (KIP-98): Produce accepts transactional
//! batches with a transactional id, Fetch with read_committed stops at the last stable offset and
//! names the aborted transactions, ListOffsets read_committed answers the last stable offset.

use std::sync::Arc;

use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;

use super::error_answers::{create_topic, fetch_request, produce_request};
use crate::broker::{start_for_test_with, Broker};
use crate::log::testutil::{self, BatchSpec};
use crate::log::txn::{ControlRecordType, TxnMarker};

/// A test broker whose transactional writes are not verified with a transaction coordinator
/// (`transaction.partition.verification.enable=false`): these tests drive the data path and
/// the markers directly, without one.
async fn without_verification() -> (Arc<Broker>, impl Sized) {
    start_for_test_with(|c| c.txn.partition_verification_enable = false).await
}

fn txn_batch(producer_id: i64, base_sequence: i32, records: usize) -> Vec<u8> {
    testutil::batch_with(&BatchSpec {
        records,
        producer_id,
        producer_epoch: 0,
        base_sequence,
        transactional: true,
        ..BatchSpec::default()
    })
}

async fn produce(broker: &Arc<Broker>, records: Vec<u8>, transactional_id: Option<&str>) -> i16 {
    let request = produce_request("t", 0, records).with_transactional_id(
        transactional_id.map(|id| TransactionalId(StrBytes::from_string(id.to_string()))),
    );
    let response = super::produce::handle(broker, request, 9).await;
    response.responses[0].partition_responses[0].error_code
}

async fn fetch(broker: &Arc<Broker>, isolation_level: i8) -> fetch_response::PartitionData {
    let request = fetch_request("t", 0, 0).with_isolation_level(isolation_level);
    let mut response = super::fetch::handle(broker, request, 12).await;
    response.responses.remove(0).partitions.remove(0)
}

/// Offsets of the batches in `records`.
fn batch_offsets(records: &[u8]) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < records.len() {
        let info = crate::log::batch::check_batch(&records[at..], at, usize::MAX).expect("batch");
        out.push((info.base_offset, info.last_offset()));
        at += info.size;
    }
    out
}

async fn latest(broker: &Arc<Broker>, isolation_level: i8) -> i64 {
    let request = ListOffsetsRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_isolation_level(isolation_level)
        .with_topics(vec![ListOffsetsTopic::default()
            .with_name(TopicName(StrBytes::from_static_str("t")))
            .with_partitions(vec![ListOffsetsPartition::default()
                .with_partition_index(0)
                .with_timestamp(-1)])]);
    let response = super::list_offsets::handle(broker, request, 7).await;
    response.topics[0].partitions[0].offset
}

#[tokio::test]
async fn read_committed_fetches_stop_at_the_last_stable_offset_and_name_aborted_transactions() {
    let (broker, _guard) = without_verification().await;
    create_topic(&broker, "t").await;
    // Without a transactional id, transactional batches are refused outright.
    assert_eq!(produce(&broker, txn_batch(5, 0, 2), None).await, 53);
    assert_eq!(produce(&broker, txn_batch(5, 0, 2), Some("tx")).await, 0); // 0-1
    assert_eq!(produce(&broker, testutil::batch(1, 10), None).await, 0); // 2
                                                                         // A non-transactional batch from the producer while its transaction is open.
    let plain = testutil::idempotent_batch(5, 0, 2, 1);
    assert_eq!(produce(&broker, plain, None).await, 48);

    let committed = fetch(&broker, 1).await;
    assert_eq!(
        (committed.high_watermark, committed.last_stable_offset),
        (3, 0)
    );
    assert!(committed.records.as_deref().unwrap_or_default().is_empty());
    assert_eq!(committed.aborted_transactions, Some(vec![]));
    let uncommitted = fetch(&broker, 0).await;
    assert_eq!(uncommitted.last_stable_offset, 0);
    assert_eq!(uncommitted.aborted_transactions, None);
    assert_eq!(
        batch_offsets(uncommitted.records.as_deref().unwrap_or_default()),
        vec![(0, 1), (2, 2)]
    );
    assert_eq!(latest(&broker, 1).await, 0);
    assert_eq!(latest(&broker, 0).await, 3);

    let hosted = broker.partitions.get("t", 0).expect("hosted");
    hosted
        .log
        .append_marker(
            TxnMarker {
                producer_id: 5,
                producer_epoch: 0,
                coordinator_epoch: 0,
                control: ControlRecordType::Abort,
            },
            hosted.leader_epoch.get(),
        )
        .await
        .expect("abort marker"); // 3
    let committed = fetch(&broker, 1).await;
    assert_eq!(
        (committed.high_watermark, committed.last_stable_offset),
        (4, 4)
    );
    // The marker, stamped now, rolled the segment of test batches stamped in 1970: the read
    // ends with the first segment.
    assert_eq!(
        batch_offsets(committed.records.as_deref().unwrap_or_default()),
        vec![(0, 1), (2, 2)]
    );
    let aborted = committed.aborted_transactions.expect("aborted list");
    assert_eq!(aborted.len(), 1);
    assert_eq!((aborted[0].producer_id.0, aborted[0].first_offset), (5, 0));
    assert_eq!(latest(&broker, 1).await, 4);
    // The producer may write outside a transaction again.
    let plain = testutil::idempotent_batch(5, 0, 2, 1);
    assert_eq!(produce(&broker, plain, None).await, 0);
}

#[tokio::test]
async fn describe_producers_lists_each_producers_state_and_open_transaction() {
    use kafka_protocol::messages::describe_producers_request::TopicRequest;
    let (broker, _guard) = without_verification().await;
    create_topic(&broker, "t").await;
    assert_eq!(produce(&broker, txn_batch(5, 0, 2), Some("tx")).await, 0); // 0-1
    let idempotent = testutil::idempotent_batch(6, 3, 0, 4);
    assert_eq!(produce(&broker, idempotent, None).await, 0); // 2-5
    let request = DescribeProducersRequest::default().with_topics(vec![
        TopicRequest::default()
            .with_name(TopicName(StrBytes::from_static_str("t")))
            .with_partition_indexes(vec![0, 7]),
        TopicRequest::default()
            .with_name(TopicName(StrBytes::from_static_str("nope")))
            .with_partition_indexes(vec![0]),
    ]);
    let response = super::describe_producers::handle(&broker, request);
    let t = &response.topics[0];
    assert_eq!(t.partitions[0].error_code, 0);
    let producers: Vec<_> = t.partitions[0]
        .active_producers
        .iter()
        .map(|p| {
            (
                p.producer_id.0,
                p.producer_epoch,
                p.last_sequence,
                p.coordinator_epoch,
                p.current_txn_start_offset,
            )
        })
        .collect();
    assert_eq!(producers, vec![(5, 0, 1, -1, 0), (6, 3, 3, -1, -1)]);
    assert_eq!(t.partitions[0].active_producers[0].last_timestamp, 1_001);
    assert_eq!(t.partitions[1].error_code, 3, "unknown partition");
    assert_eq!(response.topics[1].partitions[0].error_code, 3);
}

/// A Fetch with an isolation level byte other than 0 or 1 is answered as Kafka answers the
/// IllegalArgumentException of `IsolationLevel.forId`: UNKNOWN_SERVER_ERROR at the top and for
/// every partition, nothing read.
#[tokio::test]
async fn an_unknown_isolation_level_is_refused() {
    let (broker, _guard) = without_verification().await;
    create_topic(&broker, "t").await;
    let plain = testutil::batch_with(&BatchSpec::default());
    assert_eq!(produce(&broker, plain, None).await, 0);
    let unknown = common::errors::ErrorCode::UnknownServerError.code();
    for level in [2i8, -1, 127] {
        let request = fetch_request("t", 0, 0).with_isolation_level(level);
        let response = super::fetch::handle(&broker, request, 12).await;
        assert_eq!(response.error_code, unknown, "level {level}");
        let p = &response.responses[0].partitions[0];
        assert_eq!(p.error_code, unknown, "level {level}");
        assert_eq!(p.records.as_ref().map(|r| r.len()), Some(0));
    }
}
