//! Fetch: returns stored batches as they are, starting with the batch that contains the fetch
//! offset. When less than `min_bytes` is available it long-polls up to `max_wait_ms`, woken by
//! appends rather than by polling.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
use kafka_protocol::messages::{FetchRequest, FetchResponse};

use super::leader_partition;
use crate::server::Broker;

/// A partition answered with an error, as Kafka answers it (`FetchResponse.partitionResponse`,
/// and `ReplicaManager.createLogReadResult(e)` for a failed read such as OFFSET_OUT_OF_RANGE):
/// high watermark, last stable offset and log start offset -1 (unknown), no aborted
/// transactions, no preferred read replica (-1), empty records — never the partition's real
/// offsets.
pub(crate) fn error_partition(partition: i32, code: i16) -> PartitionData {
    PartitionData::default()
        .with_partition_index(partition)
        .with_error_code(code)
        .with_high_watermark(-1)
        .with_last_stable_offset(-1)
        .with_log_start_offset(-1)
        .with_aborted_transactions(None)
        .with_preferred_read_replica(kafka_protocol::messages::BrokerId(-1))
        .with_records(Some(Bytes::new()))
}

/// Reads every requested partition once. Returns the response and the number of record bytes.
fn read_all(broker: &Arc<Broker>, request: &FetchRequest) -> (Vec<FetchableTopicResponse>, usize) {
    let mut total = 0usize;
    let max_total = usize::try_from(request.max_bytes).unwrap_or(0).max(1);
    let read_committed = request.isolation_level == 1;
    let topics = request
        .topics
        .iter()
        .map(|topic| {
            let name = topic.topic.0.as_str();
            let partitions = topic
                .partitions
                .iter()
                .map(|p| {
                    let hosted = match leader_partition(broker, name, p.partition) {
                        Ok(h) => h,
                        Err(code) => return error_partition(p.partition, code),
                    };
                    let log = &hosted.log;
                    let hw = log.high_watermark();
                    let base = PartitionData::default()
                        .with_partition_index(p.partition)
                        .with_preferred_read_replica(kafka_protocol::messages::BrokerId(-1))
                        .with_records(Some(Bytes::new()))
                        .with_high_watermark(hw)
                        .with_last_stable_offset(hw)
                        .with_log_start_offset(log.log_start_offset())
                        .with_aborted_transactions(read_committed.then(Vec::new));
                    // Once the response is full, later partitions are skipped, not truncated:
                    // the client asks again from the same offsets.
                    let room = max_total.saturating_sub(total);
                    if room == 0 && total > 0 {
                        return base;
                    }
                    let partition_max = usize::try_from(p.partition_max_bytes).unwrap_or(0);
                    let budget = partition_max.min(room).max(1);
                    match log.read(p.fetch_offset, budget, hw) {
                        Ok(bytes) => {
                            total += bytes.len();
                            base.with_records(Some(bytes))
                        }
                        Err(e) => error_partition(p.partition, e.kafka_error_code()),
                    }
                })
                .collect();
            FetchableTopicResponse::default()
                .with_topic(topic.topic.clone())
                .with_partitions(partitions)
        })
        .collect();
    (topics, total)
}

pub async fn handle(broker: &Arc<Broker>, request: FetchRequest) -> FetchResponse {
    let min_bytes = usize::try_from(request.min_bytes).unwrap_or(0);
    let max_wait = Duration::from_millis(u64::try_from(request.max_wait_ms).unwrap_or(0));
    let deadline = tokio::time::Instant::now() + max_wait;
    loop {
        // Register for wake-ups before reading, so an append between the read and the wait is
        // not missed.
        let appended = broker.appended.notified();
        tokio::pin!(appended);
        appended.as_mut().enable();
        let (topics, total) = read_all(broker, &request);
        let has_error = topics
            .iter()
            .flat_map(|t| &t.partitions)
            .any(|p| p.error_code != 0);
        if total >= min_bytes || has_error || tokio::time::Instant::now() >= deadline {
            return FetchResponse::default()
                .with_session_id(0)
                .with_responses(topics);
        }
        tokio::select! {
            _ = &mut appended => {}
            _ = tokio::time::sleep_until(deadline) => {}
        }
    }
}
