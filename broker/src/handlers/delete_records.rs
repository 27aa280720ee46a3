//! DeleteRecords (API key 21, v0-2): moves each partition's log start offset up to the offset
//! asked for (-1: the high watermark), as Kafka's `ReplicaManager.deleteRecords` does, on the
//! partition's leader only. Per partition: INVALID_TOPIC_EXCEPTION for an internal topic,
//! UNKNOWN_TOPIC_OR_PARTITION / NOT_LEADER_OR_FOLLOWER when this broker does not lead it,
//! POLICY_VIOLATION when its `cleanup.policy` lacks `delete`, OFFSET_OUT_OF_RANGE for an offset
//! below 0 or above the high watermark, KAFKA_STORAGE_ERROR when the log failed.
//!
//! The answer's `low_watermark` is Kafka's `lowWatermarkIfLeader`: the smallest log start offset
//! over the leader and its followers on live brokers. As Kafka's `DelayedDeleteRecords`, the
//! answer waits until it reaches the offset asked for (the followers learn the new start from
//! their next fetch, and report theirs in the one after), at most `timeout_ms`; a partition
//! still short then answers REQUEST_TIMED_OUT, one whose leadership is lost meanwhile
//! NOT_LEADER_OR_FOLLOWER.

use std::sync::Arc;
use std::time::Duration;

use common::errors::ErrorCode;
use kafka_protocol::messages::delete_records_response::{
    DeleteRecordsPartitionResult, DeleteRecordsTopicResult,
};
use kafka_protocol::messages::{DeleteRecordsRequest, DeleteRecordsResponse};

use super::leader_partition;
use crate::broker::Broker;
use crate::partitions::HostedPartition;

/// Kafka's `DeleteRecordsRequest.HIGH_WATERMARK`: delete everything below the high watermark.
const HIGH_WATERMARK: i64 = -1;
/// Kafka's `DeleteRecordsResponse.INVALID_LOW_WATERMARK`.
const INVALID_LOW_WATERMARK: i64 = -1;
/// Longest sleep between checks of the partitions not woken by a change (each wait is also woken
/// by the first waiting partition's follower fetches).
const RECHECK: Duration = Duration::from_millis(100);

/// One partition of the request, once its local deletion is done.
struct Pending {
    topic: usize,
    index: usize,
    required: i64,
    hosted: Arc<HostedPartition>,
}

/// Answers a DeleteRecords request (see the module doc).
pub async fn handle(broker: &Arc<Broker>, request: DeleteRecordsRequest) -> DeleteRecordsResponse {
    let mut topics: Vec<DeleteRecordsTopicResult> = Vec::with_capacity(request.topics.len());
    let mut pending: Vec<Pending> = Vec::new();
    for (ti, topic) in request.topics.iter().enumerate() {
        let name = topic.name.0.as_str();
        let mut partitions = Vec::with_capacity(topic.partitions.len());
        for (pi, p) in topic.partitions.iter().enumerate() {
            let answer = DeleteRecordsPartitionResult::default()
                .with_partition_index(p.partition_index)
                .with_low_watermark(INVALID_LOW_WATERMARK);
            match delete_locally(broker, name, p.partition_index, p.offset).await {
                Ok((required, hosted)) => {
                    let low = low_watermark(broker, &hosted);
                    match low {
                        Some(low) if low >= required => {
                            partitions.push(answer.with_low_watermark(low));
                        }
                        Some(low) => {
                            // Kafka's `DelayedDeleteRecords`: a partition still short at the
                            // deadline answers REQUEST_TIMED_OUT with the low watermark so far.
                            partitions.push(
                                answer
                                    .with_error_code(ErrorCode::RequestTimedOut.code())
                                    .with_low_watermark(low),
                            );
                            pending.push(Pending {
                                topic: ti,
                                index: pi,
                                required,
                                hosted,
                            });
                        }
                        None => partitions
                            .push(answer.with_error_code(ErrorCode::NotLeaderOrFollower.code())),
                    }
                }
                Err(code) => partitions.push(answer.with_error_code(code.code())),
            }
        }
        topics.push(
            DeleteRecordsTopicResult::default()
                .with_name(topic.name.clone())
                .with_partitions(partitions),
        );
    }
    let timeout = Duration::from_millis(u64::try_from(request.timeout_ms).unwrap_or(0));
    let deadline = tokio::time::Instant::now() + timeout;
    while !pending.is_empty() {
        let mut wake = pending[0].hosted.replica.subscribe_follower_starts();
        pending.retain(|p| {
            let answer = &mut topics[p.topic].partitions[p.index];
            match low_watermark(broker, &p.hosted) {
                Some(low) if low >= p.required => {
                    answer.error_code = 0;
                    answer.low_watermark = low;
                    false
                }
                Some(low) => {
                    answer.low_watermark = low;
                    true
                }
                None => {
                    answer.error_code = ErrorCode::NotLeaderOrFollower.code();
                    answer.low_watermark = INVALID_LOW_WATERMARK;
                    false
                }
            }
        });
        let now = tokio::time::Instant::now();
        if pending.is_empty() || now >= deadline {
            break;
        }
        let nap = (deadline - now).min(RECHECK);
        let _ = tokio::time::timeout(nap, wake.changed()).await;
    }
    DeleteRecordsResponse::default()
        .with_throttle_time_ms(0)
        .with_topics(topics)
}

/// Kafka's `deleteRecordsOnLocalLog` for one partition: the offset the low watermark must reach,
/// or the partition's error.
async fn delete_locally(
    broker: &Arc<Broker>,
    topic: &str,
    partition: i32,
    offset: i64,
) -> Result<(i64, Arc<HostedPartition>), ErrorCode> {
    if common::topic::is_internal(topic) {
        return Err(ErrorCode::InvalidTopicException);
    }
    let hosted = leader_partition(broker, topic, partition)
        .map_err(|code| ErrorCode::from_code(code).unwrap_or(ErrorCode::UnknownServerError))?;
    if !hosted.log_config.cleanup_policy_delete {
        return Err(ErrorCode::PolicyViolation);
    }
    // Kafka's `leaderLogIfLocal`: metadata may name this broker before its replica has taken
    // the lead; a follower's log must not be cut against its own high watermark.
    if hosted.replica.leader_epoch().is_none() {
        return Err(ErrorCode::NotLeaderOrFollower);
    }
    let required = if offset == HIGH_WATERMARK {
        hosted.log.high_watermark()
    } else {
        offset
    };
    if required < 0 {
        return Err(ErrorCode::OffsetOutOfRange);
    }
    let log = hosted.log.clone();
    match tokio::task::spawn_blocking(move || log.advance_log_start_offset(required)).await {
        Ok(Ok(_)) => Ok((required, hosted)),
        Ok(Err(e)) => {
            tracing::info!("DeleteRecords on {topic}-{partition} to {required}: {e}");
            Err(e.error())
        }
        Err(e) => {
            tracing::error!("DeleteRecords on {topic}-{partition} failed: {e}");
            Err(ErrorCode::UnknownServerError)
        }
    }
}

/// The partition's low watermark while this broker leads it, counting followers on live brokers.
fn low_watermark(broker: &Broker, hosted: &HostedPartition) -> Option<i64> {
    let md = broker.cluster.metadata();
    hosted
        .replica
        .low_watermark(hosted.log.log_start_offset(), |b| {
            md.brokers.iter().any(|info| info.id == b)
        })
}
