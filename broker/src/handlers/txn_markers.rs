//! WriteTxnMarkers (KIP-98; Kafka's `KafkaApis.handleWriteTxnMarkersRequest`): a transaction
//! coordinator asks the leader of each partition of a transaction to close it there with a
//! COMMIT or ABORT marker. Per marker and partition: the partition must be hosted here
//! (UNKNOWN_TOPIC_OR_PARTITION, as Kafka's `getMagic` answers) and led here
//! (NOT_LEADER_OR_FOLLOWER); the marker is appended as the leader and waited for as an acks=all
//! write (every in-sync replica has it, `request.timeout.ms`). Once a marker is written to
//! `__consumer_offsets` partitions, the group coordinator materialises (commit) or drops
//! (abort) the producer's transactional offsets there (`onTransactionCompleted`).

use std::sync::Arc;

use kafka_protocol::messages::write_txn_markers_response::{
    WritableTxnMarkerPartitionResult, WritableTxnMarkerResult, WritableTxnMarkerTopicResult,
};
use kafka_protocol::messages::{ProducerId, WriteTxnMarkersRequest, WriteTxnMarkersResponse};

use common::errors::ErrorCode;
use common::topic::GROUP_METADATA_TOPIC_NAME;

use crate::broker::Broker;
use crate::log::txn::{ControlRecordType, TxnMarker};
use crate::partitions::HostedPartition;

/// Kafka's `request.timeout.ms` default, the marker append's acks=all timeout.
const REQUEST_TIMEOUT_MS: u64 = 30_000;

/// The partition `topic`-`partition` if this broker leads it, else the error of its marker.
fn marker_partition(
    broker: &Broker,
    topic: &str,
    partition: i32,
) -> Result<Arc<HostedPartition>, i16> {
    let hosted = broker
        .partitions
        .get(topic, partition)
        .ok_or(ErrorCode::UnknownTopicOrPartition.code())?;
    if hosted.replica.leader_epoch() != Some(hosted.leader_epoch) {
        return Err(ErrorCode::NotLeaderOrFollower.code());
    }
    Ok(hosted)
}

/// Appends `marker` to one partition led here: the partition and the offset the in-sync
/// replicas must reach, or the partition's error.
async fn append_marker(
    broker: &Broker,
    topic: &str,
    partition: i32,
    marker: TxnMarker,
) -> Result<(Arc<HostedPartition>, i64), i16> {
    let hosted = marker_partition(broker, topic, partition)?;
    let isr = hosted.replica.isr().unwrap_or_default();
    if isr.len() < hosted.log_config.min_insync_replicas {
        return Err(ErrorCode::NotEnoughReplicas.code());
    }
    match hosted
        .log
        .append_marker(marker, hosted.leader_epoch.get())
        .await
    {
        Ok(info) => Ok((hosted, info.last_offset.saturating_add(1))),
        Err(e) => {
            tracing::warn!(
                "writing the {:?} marker of producer {} to {topic}-{partition} failed: {e}",
                marker.control,
                marker.producer_id
            );
            Err(e.kafka_error_code())
        }
    }
}

/// One partition of one marker: where its answer goes and what it waits for.
struct Written {
    marker: usize,
    topic: usize,
    partition: usize,
    wait: Option<(Arc<HostedPartition>, i64)>,
}

/// WriteTxnMarkers: every marker is appended to each of its partitions first, then the
/// appends are waited for together (as one acks=all produce waits for all its partitions);
/// answered per producer id (markers of the same producer id share one result, as Kafka's
/// response map does).
pub async fn handle(
    broker: &Arc<Broker>,
    request: WriteTxnMarkersRequest,
) -> WriteTxnMarkersResponse {
    let mut answers: Vec<Vec<WritableTxnMarkerTopicResult>> = Vec::new();
    let mut written: Vec<Written> = Vec::new();
    let markers: Vec<TxnMarker> = request
        .markers
        .iter()
        .map(|m| TxnMarker {
            producer_id: m.producer_id.0,
            producer_epoch: m.producer_epoch,
            coordinator_epoch: m.coordinator_epoch,
            control: ControlRecordType::from_result(m.transaction_result),
        })
        .collect();
    for (mi, (m, marker)) in request.markers.iter().zip(&markers).enumerate() {
        let mut topics = Vec::new();
        for (ti, t) in m.topics.iter().enumerate() {
            let name = t.name.0.as_str();
            let mut partitions = Vec::new();
            for (pi, &p) in t.partition_indexes.iter().enumerate() {
                let (code, wait) = match append_marker(broker, name, p, *marker).await {
                    Ok(wait) => (ErrorCode::None.code(), Some(wait)),
                    Err(code) => (code, None),
                };
                written.push(Written {
                    marker: mi,
                    topic: ti,
                    partition: pi,
                    wait,
                });
                partitions.push(
                    WritableTxnMarkerPartitionResult::default()
                        .with_partition_index(p)
                        .with_error_code(code),
                );
            }
            topics.push(
                WritableTxnMarkerTopicResult::default()
                    .with_name(t.name.clone())
                    .with_partitions(partitions),
            );
        }
        answers.push(topics);
    }
    let deadline =
        tokio::time::Instant::now() + std::time::Duration::from_millis(REQUEST_TIMEOUT_MS);
    // The high watermarks move on their own: waiting for each in turn takes as long as the
    // slowest.
    for w in &written {
        let Some((hosted, required)) = &w.wait else {
            continue;
        };
        let code = hosted.wait_for_isr(*required, deadline).await.code();
        if let Some(p) = answers
            .get_mut(w.marker)
            .and_then(|t| t.get_mut(w.topic))
            .and_then(|t| t.partitions.get_mut(w.partition))
        {
            p.error_code = code;
        }
    }
    let mut results: Vec<WritableTxnMarkerResult> = Vec::new();
    for (marker, topics) in markers.iter().zip(answers) {
        let offsets_partitions: Vec<i32> = topics
            .iter()
            .filter(|t| t.name.0.as_str() == GROUP_METADATA_TOPIC_NAME)
            .flat_map(|t| t.partitions.iter())
            .filter(|p| p.error_code == ErrorCode::None.code())
            .map(|p| p.partition_index)
            .collect();
        if !offsets_partitions.is_empty() {
            let completed = broker.groups.complete_txn(
                marker.producer_id,
                &offsets_partitions,
                marker.control == ControlRecordType::Commit,
            );
            tracing::debug!(
                "{:?} marker of producer {} completed the transactional offsets of groups \
                 {completed:?}",
                marker.control,
                marker.producer_id
            );
        }
        match results
            .iter_mut()
            .find(|r| r.producer_id == ProducerId(marker.producer_id))
        {
            Some(r) => r.topics.extend(topics),
            None => results.push(
                WritableTxnMarkerResult::default()
                    .with_producer_id(ProducerId(marker.producer_id))
                    .with_topics(topics),
            ),
        }
    }
    WriteTxnMarkersResponse::default().with_markers(results)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
    use kafka_protocol::messages::txn_offset_commit_request::{
        TxnOffsetCommitRequestPartition, TxnOffsetCommitRequestTopic,
    };
    use kafka_protocol::messages::write_txn_markers_request::{
        WritableTxnMarker, WritableTxnMarkerTopic,
    };
    use kafka_protocol::messages::*;
    use kafka_protocol::protocol::StrBytes;

    use super::super::error_answers::{create_topic, topic_name, wire};
    use crate::broker::{reload_groups_for_test, start_for_test_with};

    /// A test broker whose transactional writes are not verified with a transaction coordinator
    /// (`transaction.partition.verification.enable=false`): these tests drive the data path and
    /// the markers directly, without one.
    async fn without_verification() -> (std::sync::Arc<crate::broker::Broker>, impl Sized) {
        start_for_test_with(|c| c.txn.partition_verification_enable = false).await
    }
    use common::errors::ErrorCode;
    use common::topic::GROUP_METADATA_TOPIC_NAME;

    /// Each group's transactions come from a producer of its own.
    fn pid_of(group: &str) -> i64 {
        9_000 + group.bytes().map(i64::from).sum::<i64>()
    }

    fn txn_commit_request(group: &str, offset: i64) -> TxnOffsetCommitRequest {
        TxnOffsetCommitRequest::default()
            .with_transactional_id(TransactionalId(StrBytes::from_static_str("tx")))
            .with_group_id(GroupId(StrBytes::from_string(group.to_string())))
            .with_producer_id(ProducerId(pid_of(group)))
            .with_producer_epoch(0)
            .with_topics(vec![TxnOffsetCommitRequestTopic::default()
                .with_name(topic_name("t"))
                .with_partitions(vec![TxnOffsetCommitRequestPartition::default()
                    .with_partition_index(0)
                    .with_committed_offset(offset)])])
    }

    async fn txn_commit(
        broker: &std::sync::Arc<crate::broker::Broker>,
        group: &str,
        offset: i64,
    ) -> i16 {
        let request = wire(&txn_commit_request(group, offset), 3);
        let response = wire(
            &super::super::offsets::txn_commit(broker, request, 3).await,
            3,
        );
        response.topics[0].partitions[0].error_code
    }

    /// OffsetFetch v7 of partition t-0: (offset, error).
    async fn fetch(
        broker: &std::sync::Arc<crate::broker::Broker>,
        group: &str,
        require_stable: bool,
    ) -> (i64, i16) {
        let request = OffsetFetchRequest::default()
            .with_group_id(GroupId(StrBytes::from_string(group.to_string())))
            .with_require_stable(require_stable)
            .with_topics(Some(vec![OffsetFetchRequestTopic::default()
                .with_name(topic_name("t"))
                .with_partition_indexes(vec![0])]));
        let response = wire(
            &super::super::offsets::fetch(broker, wire(&request, 7), 7).await,
            7,
        );
        let p = &response.topics[0].partitions[0];
        (p.committed_offset, p.error_code)
    }

    fn marker_request(
        pid: i64,
        topic: &str,
        partition: i32,
        commit: bool,
    ) -> WriteTxnMarkersRequest {
        WriteTxnMarkersRequest::default().with_markers(vec![WritableTxnMarker::default()
            .with_producer_id(ProducerId(pid))
            .with_producer_epoch(0)
            .with_transaction_result(commit)
            .with_coordinator_epoch(3)
            .with_topics(vec![WritableTxnMarkerTopic::default()
                .with_name(topic_name(topic))
                .with_partition_indexes(vec![partition])])])
    }

    /// Writes the marker to the group's `__consumer_offsets` partition: its error.
    async fn end_txn(
        broker: &std::sync::Arc<crate::broker::Broker>,
        group: &str,
        commit: bool,
    ) -> i16 {
        let p = crate::group::partition_for(group, broker.groups.partition_count());
        let request = wire(
            &marker_request(pid_of(group), GROUP_METADATA_TOPIC_NAME, p, commit),
            1,
        );
        let response = wire(&super::handle(broker, request).await, 1);
        assert_eq!(response.markers[0].producer_id, ProducerId(pid_of(group)));
        response.markers[0].topics[0].partitions[0].error_code
    }

    const UNSTABLE: i16 = ErrorCode::UnstableOffsetCommit.code();

    #[tokio::test]
    async fn transactional_offsets_are_unstable_until_the_commit_marker_then_committed() {
        let (broker, _guard) = without_verification().await;
        create_topic(&broker, "t").await;
        assert_eq!(txn_commit(&broker, "g", 42).await, 0);
        assert_eq!(fetch(&broker, "g", true).await, (-1, UNSTABLE));
        assert_eq!(
            fetch(&broker, "g", false).await,
            (-1, 0),
            "not committed yet"
        );
        assert_eq!(end_txn(&broker, "g", true).await, 0);
        assert_eq!(fetch(&broker, "g", true).await, (42, 0));
    }

    #[tokio::test]
    async fn an_abort_marker_drops_the_transactional_offsets() {
        let (broker, _guard) = without_verification().await;
        create_topic(&broker, "t").await;
        assert_eq!(txn_commit(&broker, "g", 42).await, 0);
        assert_eq!(end_txn(&broker, "g", false).await, 0);
        assert_eq!(fetch(&broker, "g", true).await, (-1, 0));
    }

    #[tokio::test]
    async fn a_reloaded_coordinator_keeps_open_transactions_pending_and_replays_markers() {
        let (broker, _guard) = without_verification().await;
        create_topic(&broker, "t").await;
        assert_eq!(txn_commit(&broker, "open", 7).await, 0);
        assert_eq!(txn_commit(&broker, "done", 8).await, 0);
        assert_eq!(end_txn(&broker, "done", true).await, 0);
        reload_groups_for_test(&broker).await;
        assert_eq!(fetch(&broker, "open", true).await, (-1, UNSTABLE));
        assert_eq!(fetch(&broker, "done", true).await, (8, 0));
        assert_eq!(end_txn(&broker, "open", true).await, 0);
        assert_eq!(fetch(&broker, "open", true).await, (7, 0));
    }

    #[tokio::test]
    async fn each_partition_of_a_marker_is_answered_and_markers_of_one_producer_share_a_result() {
        let (broker, _guard) = without_verification().await;
        create_topic(&broker, "t").await;
        assert_eq!(txn_commit(&broker, "g", 5).await, 0);
        let p = crate::group::partition_for("g", broker.groups.partition_count());
        let pid = pid_of("g");
        let mut request = marker_request(pid, GROUP_METADATA_TOPIC_NAME, p, true);
        request.markers[0].topics.push(
            WritableTxnMarkerTopic::default()
                .with_name(topic_name("t"))
                .with_partition_indexes(vec![0, 9]),
        );
        request
            .markers
            .push(marker_request(pid, "t", 0, false).markers.remove(0));
        let response = wire(&super::handle(&broker, wire(&request, 1)).await, 1);
        assert_eq!(response.markers.len(), 1, "{response:?}");
        let codes: Vec<(String, i32, i16)> = response.markers[0]
            .topics
            .iter()
            .flat_map(|t| {
                t.partitions
                    .iter()
                    .map(|p| (t.name.0.to_string(), p.partition_index, p.error_code))
            })
            .collect();
        let unknown = ErrorCode::UnknownTopicOrPartition.code();
        assert_eq!(
            codes,
            vec![
                (GROUP_METADATA_TOPIC_NAME.to_string(), p, 0),
                ("t".to_string(), 0, 0),
                ("t".to_string(), 9, unknown),
                ("t".to_string(), 0, 0),
            ]
        );
        assert_eq!(fetch(&broker, "g", true).await, (5, 0));
    }

    #[tokio::test]
    async fn markers_for_partitions_not_hosted_here_are_unknown() {
        let (broker, _guard) = without_verification().await;
        let response = wire(
            &super::handle(&broker, wire(&marker_request(1, "missing", 0, true), 1)).await,
            1,
        );
        assert_eq!(
            response.markers[0].topics[0].partitions[0].error_code,
            ErrorCode::UnknownTopicOrPartition.code()
        );
    }

    #[tokio::test]
    async fn txn_offset_commit_answers_unknown_partitions_and_fences_unknown_members() {
        let (broker, _guard) = without_verification().await;
        create_topic(&broker, "t").await;
        let mut request = txn_commit_request("g", 1);
        request.topics[0].partitions[0].partition_index = 5;
        let response = super::super::offsets::txn_commit(&broker, request, 3).await;
        assert_eq!(
            response.topics[0].partitions[0].error_code,
            ErrorCode::UnknownTopicOrPartition.code()
        );
        let request = txn_commit_request("g", 1)
            .with_generation_id(4)
            .with_member_id(StrBytes::from_static_str("m"));
        let response = super::super::offsets::txn_commit(&broker, wire(&request, 3), 3).await;
        assert_eq!(
            response.topics[0].partitions[0].error_code,
            ErrorCode::UnknownMemberId.code()
        );
        // v0-2 carry no member (the fields are not on their wire): accepted.
        let response = super::super::offsets::txn_commit(&broker, request, 2).await;
        assert_eq!(response.topics[0].partitions[0].error_code, 0);
    }
}
