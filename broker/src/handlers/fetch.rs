//! Fetch: returns stored batches as they are, starting with the batch that contains the fetch
//! offset. When less than `min_bytes` is available it long-polls up to `max_wait_ms`, woken by
//! appends to the requested partitions (their high-watermark watches) rather than by polling.
//! The response is capped by the request's `max_bytes` and the broker's `fetch.max.bytes`
//! (KIP-74: the first batch is returned even when larger). Reads run on a blocking thread.
//!
//! A consumer's fetch with `isolation_level` 1 (read_committed, KIP-98) reads only up to the
//! partition's last stable offset and is told of the aborted transactions among the batches
//! returned (`aborted_transactions`: producer id and first offset, Kafka's
//! `LocalLog.addAbortedTransactions`), so it can skip their records. Every answer carries the
//! real last stable offset.
//!
//! Fetch from the closest replica (KIP-392): a consumer's Fetch v11+ may be served by a follower
//! (up to the follower's high watermark, or last stable offset for read_committed), and a leader
//! with `replica.selector.class` set sends a consumer whose `rack_id` matches a follower's
//! `broker.rack` there: the partition is answered without records, with that follower as
//! `preferred_read_replica` (`replica::selector`).

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::fetch_response::{
    AbortedTransaction, FetchableTopicResponse, PartitionData,
};
use kafka_protocol::messages::{FetchRequest, FetchResponse};

use common::errors::ErrorCode;
use tokio::sync::watch;

use super::leader_partition;
use crate::broker::Broker;
use crate::log::{legacy_message_set, BrokerCompressionType, LogConfig};
use crate::partitions::HostedPartition;
use crate::replica::selector::preferred_read_replica;
use crate::replica::{alter_isr, record_follower_fetch, Role};
use common::topic_partition::TopicPartition;

/// What Kafka 3.9's `KafkaApis.handleFetchRequest` does to a partition's answer for old
/// versions: Fetch below v10 cannot carry zstd, so a topic whose effective `compression.type`
/// (the topic's `LogConfig`: its override, else the broker's static or dynamic default, as Kafka
/// reads `logConfig.compressionType`) is zstd answers UNSUPPORTED_COMPRESSION_TYPE;
/// v0-1 read message format v0 and v2-3 format v1, so stored batches are down-converted (or
/// refused with UNSUPPORTED_VERSION when `message.downconversion.enable` is false); v0-5 do not
/// know KAFKA_STORAGE_ERROR and get NOT_LEADER_OR_FOLLOWER instead.
fn for_version(
    version: i16,
    fetch_offset: i64,
    log_config: &LogConfig,
    data: PartitionData,
) -> PartitionData {
    let mut data = data;
    if version <= 5 && data.error_code == ErrorCode::KafkaStorageError.code() {
        data.error_code = ErrorCode::NotLeaderOrFollower.code();
    }
    if version >= 10 || data.error_code != 0 {
        return data;
    }
    if log_config.compression.compression_type == BrokerCompressionType::Zstd {
        return unconvertible(data, ErrorCode::UnsupportedCompressionType.code());
    }
    if version > 3 {
        return data;
    }
    if !log_config.message_downconversion_enable {
        return unconvertible(data, ErrorCode::UnsupportedVersion.code());
    }
    let magic = if version <= 1 { 0 } else { 1 };
    let stored = data.records.take().unwrap_or_default();
    match legacy_message_set::down_convert(&stored, magic, fetch_offset) {
        Ok(converted) => data.with_records(Some(converted)),
        Err(e) => unconvertible(data, e.kafka_error_code()),
    }
}

/// Kafka's `FetchResponse.partitionResponse(tp, error)`: no records, every offset -1.
fn unconvertible(data: PartitionData, code: i16) -> PartitionData {
    error_partition(data.partition_index, code)
}

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

/// An ISR expansion a follower's fetch made due: `(topic-partition, hosted, new ISR)`.
type Expansion = (
    TopicPartition,
    Arc<HostedPartition>,
    Vec<common::ids::BrokerId>,
);

/// KIP-320: a fetch naming a leader epoch older than ours is FENCED_LEADER_EPOCH, newer
/// UNKNOWN_LEADER_EPOCH (its sender's metadata is ahead of ours); -1 is not checked.
pub(crate) fn check_leader_epoch(current: i32, ours: i32) -> Result<(), i16> {
    if current < 0 || current == ours {
        Ok(())
    } else if current < ours {
        Err(ErrorCode::FencedLeaderEpoch.code())
    } else {
        Err(ErrorCode::UnknownLeaderEpoch.code())
    }
}

/// The partition a fetch may read here, and whether this broker leads it: the leader serves every
/// fetch; a follower also serves a consumer's Fetch v11+ (`followers_may_serve`, KIP-392:
/// Kafka's `FetchParams.fetchOnlyFromLeader` is false for a consumer with client metadata).
/// Errors as [`leader_partition`]'s.
fn fetchable_partition(
    broker: &Broker,
    topic: &str,
    partition: i32,
    followers_may_serve: bool,
) -> Result<(Arc<HostedPartition>, bool), i16> {
    match leader_partition(broker, topic, partition) {
        Ok(hosted) => Ok((hosted, true)),
        Err(code) if followers_may_serve && code == ErrorCode::NotLeaderOrFollower.code() => {
            let hosted = broker.partitions.get(topic, partition).ok_or(code)?;
            let follows = matches!(&*hosted.replica.lock(), Role::Follower { .. });
            if follows {
                Ok((hosted, false))
            } else {
                Err(code)
            }
        }
        Err(code) => Err(code),
    }
}

/// The follower a leader sends a consumer in `client_rack` to (KIP-392), if any.
fn preferred_replica(
    broker: &Broker,
    hosted: &HostedPartition,
    fetch_offset: i64,
    client_rack: &str,
    racks: &std::collections::BTreeMap<common::ids::BrokerId, Option<String>>,
) -> Option<common::ids::BrokerId> {
    let role = hosted.replica.lock();
    let Role::Leader(state) = &*role else {
        return None;
    };
    preferred_read_replica(
        broker.config.replica_selector,
        state,
        broker.config.broker_id,
        fetch_offset,
        client_rack,
        racks,
        common::time::now_ms(),
    )
}

/// Reads every requested partition once. Returns the response, the number of record bytes and
/// the ISR expansions that followers' fetches made due.
fn read_all(
    broker: &Arc<Broker>,
    request: &FetchRequest,
    version: i16,
) -> (Vec<FetchableTopicResponse>, usize, Vec<Expansion>) {
    // A follower's fetch (Kafka's `FetchRequest.isFromFollower`): it reads up to the log end
    // offset, not the high watermark, and its fetch offset is its log end offset.
    let follower =
        (request.replica_id.0 >= 0).then_some(common::ids::BrokerId(request.replica_id.0));
    let mut expansions = Vec::new();
    let mut total = 0usize;
    // Kafka's `handleFetchRequest`: `fetchMaxBytes = min(request.maxBytes, fetch.max.bytes)`.
    let broker_max = i32::try_from(broker.config.fetch_max_bytes).unwrap_or(i32::MAX);
    let max_bytes = request.max_bytes.min(broker_max);
    let max_total = usize::try_from(max_bytes).unwrap_or(0).max(1);
    // Kafka's `ReplicaManager.readFromLocalLog` limit: the response's `fetchMaxBytes` for the
    // first partition read, then never below 0 (`math.max(0, limitBytes - recordBatchSize)`).
    // Only its sign matters here: a negative limit for a read is `LogSegment.read`'s
    // IllegalArgumentException, answered UNKNOWN_SERVER_ERROR.
    let mut limit = i64::from(max_bytes);
    let read_committed = request.isolation_level == 1;
    // KIP-392: a consumer's Fetch v11+ carries its rack and may be served by a follower.
    let consumer_with_metadata = follower.is_none() && version >= 11;
    let client_rack = request.rack_id.as_str();
    let racks: std::collections::BTreeMap<_, _> =
        if consumer_with_metadata && !client_rack.is_empty() {
            let md = broker.cluster.metadata();
            md.brokers.iter().map(|b| (b.id, b.rack.clone())).collect()
        } else {
            Default::default()
        };
    let topics = request
        .topics
        .iter()
        .map(|topic| {
            let name = topic.topic.0.as_str();
            let partitions = topic
                .partitions
                .iter()
                .map(|p| {
                    let fetchable =
                        fetchable_partition(broker, name, p.partition, consumer_with_metadata);
                    let (hosted, leads) = match fetchable {
                        Ok(h) => h,
                        Err(code) => {
                            // A partition the metadata knows is read (and fails) in Kafka's
                            // `readFromLocalLog`; an unknown one never reaches it.
                            if code != ErrorCode::UnknownTopicOrPartition.code() {
                                limit = limit.max(0);
                            }
                            return error_partition(p.partition, code);
                        }
                    };
                    if let Err(code) =
                        check_leader_epoch(p.current_leader_epoch, hosted.leader_epoch.get())
                    {
                        return error_partition(p.partition, code);
                    }
                    let adjusted = i64::from(p.partition_max_bytes).min(limit);
                    limit = limit.max(0);
                    let log = &hosted.log;
                    if let Some(id) = follower {
                        if let Some(isr) = record_follower_fetch(
                            &hosted.replica,
                            log,
                            id,
                            p.fetch_offset,
                            p.log_start_offset,
                        ) {
                            let tp = TopicPartition {
                                topic: name.to_string(),
                                partition: p.partition,
                            };
                            expansions.push((tp, hosted.clone(), isr));
                        }
                    }
                    let hw = log.high_watermark();
                    let lso = log.last_stable_offset();
                    let max_offset = if follower.is_some() {
                        log.log_end_offset()
                    } else if read_committed {
                        lso
                    } else {
                        hw
                    };
                    let base = PartitionData::default()
                        .with_partition_index(p.partition)
                        .with_preferred_read_replica(kafka_protocol::messages::BrokerId(-1))
                        .with_records(Some(Bytes::new()))
                        .with_high_watermark(hw)
                        .with_last_stable_offset(lso)
                        .with_log_start_offset(log.log_start_offset())
                        .with_aborted_transactions(read_committed.then(Vec::new));
                    // Kafka also requires the chosen follower's log start to be at or below the
                    // fetch offset; followers' log starts are not tracked here, so a fetch below
                    // the leader's own is never redirected (it gets OFFSET_OUT_OF_RANGE here).
                    if leads && !racks.is_empty() && p.fetch_offset >= log.log_start_offset() {
                        // Kafka's `readFromLocalLog`: with a preferred read replica the read is
                        // skipped and the client told where to go.
                        if let Some(replica) =
                            preferred_replica(broker, &hosted, p.fetch_offset, client_rack, &racks)
                        {
                            return base.with_preferred_read_replica(
                                kafka_protocol::messages::BrokerId(replica.0),
                            );
                        }
                    }
                    if adjusted < 0
                        && p.fetch_offset >= log.log_start_offset()
                        && p.fetch_offset < max_offset
                    {
                        // Kafka's `LocalLog.read` answers a read at the high watermark empty
                        // and an offset out of range before any segment is read; otherwise
                        // `LogSegment.read` refuses the negative size.
                        tracing::error!(
                            "Error processing fetch with max size {adjusted} from consumer on \
                             partition {name}-{}: Invalid max size {adjusted} for log read from \
                             segment",
                            p.partition
                        );
                        return error_partition(p.partition, ErrorCode::UnknownServerError.code());
                    }
                    // Once the response is full, later partitions are skipped, not truncated:
                    // the client asks again from the same offsets.
                    let room = max_total.saturating_sub(total);
                    if room == 0 && total > 0 {
                        return base;
                    }
                    let partition_max = usize::try_from(p.partition_max_bytes).unwrap_or(0);
                    let budget = partition_max.min(room).max(1);
                    let data = match log.read(p.fetch_offset, budget, max_offset) {
                        // KIP-74: only the first batch of the first partition with data may
                        // exceed the limits (Kafka's `minOneMessage`); a later partition whose
                        // first batch does not fit waits for the next fetch.
                        Ok(bytes) if total > 0 && bytes.len() > budget => base,
                        Ok(bytes) if read_committed && follower.is_none() => {
                            let upto = end_of_batches(&bytes).unwrap_or(p.fetch_offset);
                            match log.aborted_transactions(p.fetch_offset, upto) {
                                Ok(aborted) => {
                                    total += bytes.len();
                                    base.with_records(Some(bytes))
                                        .with_aborted_transactions(Some(
                                            aborted.iter().map(aborted_transaction).collect(),
                                        ))
                                }
                                Err(e) => error_partition(p.partition, e.kafka_error_code()),
                            }
                        }
                        Ok(bytes) => {
                            total += bytes.len();
                            base.with_records(Some(bytes))
                        }
                        Err(e) => error_partition(p.partition, e.kafka_error_code()),
                    };
                    for_version(version, p.fetch_offset, &hosted.log_config, data)
                })
                .collect();
            FetchableTopicResponse::default()
                .with_topic(topic.topic.clone())
                .with_partitions(partitions)
        })
        .collect();
    (topics, total, expansions)
}

/// One past the last offset of the whole batches in `records` (the upper bound of the aborted
/// transactions a read_committed fetch is told of); `None` when there is none.
fn end_of_batches(records: &[u8]) -> Option<i64> {
    let mut at = 0usize;
    let mut end = None;
    while let Ok(header) = crate::log::BatchHeader::new(records.get(at..)?) {
        let size = header.total_size()?;
        if records.len() - at < size {
            break;
        }
        end = Some(header.last_offset().saturating_add(1));
        at += size;
    }
    end
}

/// An aborted transaction as FetchResponse v4+ carries it.
fn aborted_transaction(t: &crate::log::txn::AbortedTxn) -> AbortedTransaction {
    AbortedTransaction::default()
        .with_producer_id(kafka_protocol::messages::ProducerId(t.producer_id))
        .with_first_offset(t.first_offset)
}

pub async fn handle(broker: &Arc<Broker>, request: FetchRequest, version: i16) -> FetchResponse {
    let from_follower = request.replica_id.0 >= 0;
    let response = handle_counting(broker, request, version, &AtomicU64::new(0)).await;
    // Kafka's `BrokerTopicStats.updateBytesOut`: the record bytes answered, once per topic.
    for topic in &response.responses {
        let bytes: usize = topic
            .partitions
            .iter()
            .map(|p| p.records.as_ref().map_or(0, |r| r.len()))
            .sum();
        if bytes > 0 {
            broker
                .metrics
                .record_fetch(topic.topic.0.as_str(), bytes as u64, from_follower);
        }
    }
    response
}

/// [`handle`], counting in `wakeups` how often the long-poll was woken to read again (for tests:
/// only appends to the requested partitions wake it).
pub(crate) async fn handle_counting(
    broker: &Arc<Broker>,
    request: FetchRequest,
    version: i16,
    wakeups: &AtomicU64,
) -> FetchResponse {
    // Kafka's `IsolationLevel.forId` throws for any other byte; the request is answered with
    // `getErrorResponse`: UNKNOWN_SERVER_ERROR at the top and for every partition.
    if !matches!(request.isolation_level, 0 | 1) {
        tracing::warn!(
            "Fetch with unknown isolation level {} answered UNKNOWN_SERVER_ERROR",
            request.isolation_level
        );
        return FetchResponse::default()
            .with_error_code(ErrorCode::UnknownServerError.code())
            .with_session_id(0)
            .with_responses(all_failed(&request));
    }
    // Kafka's `handleFetchRequest`: `fetchMinBytes = Math.min(minBytes, fetchMaxBytes)`.
    let broker_max = i32::try_from(broker.config.fetch_max_bytes).unwrap_or(i32::MAX);
    let min_bytes =
        usize::try_from(request.min_bytes.min(request.max_bytes).min(broker_max)).unwrap_or(0);
    let max_wait = Duration::from_millis(u64::try_from(request.max_wait_ms).unwrap_or(0));
    let deadline = tokio::time::Instant::now() + max_wait;
    let request = Arc::new(request);
    loop {
        // Register for wake-ups before reading, so an append between the read and the wait is
        // not missed: one high-watermark watch per requested partition, so appends to other
        // partitions never wake this fetch.
        // A follower waits for new data (the log end), a consumer for committed data.
        let from_follower = request.replica_id.0 >= 0;
        let followers_may_serve = !from_follower && version >= 11;
        let mut watches: Vec<watch::Receiver<i64>> = request
            .topics
            .iter()
            .flat_map(|t| {
                t.partitions.iter().filter_map(|p| {
                    fetchable_partition(
                        broker,
                        t.topic.0.as_str(),
                        p.partition,
                        followers_may_serve,
                    )
                    .ok()
                })
            })
            .map(|(h, _)| {
                if from_follower {
                    h.log.subscribe_log_end()
                } else {
                    h.log.subscribe_high_watermark()
                }
            })
            .collect();
        // Segment reads are file I/O: they run on a blocking thread, not on a worker.
        let reading = (broker.clone(), request.clone());
        let read = tokio::task::spawn_blocking(move || read_all(&reading.0, &reading.1, version));
        let (topics, total, expansions) = match read.await {
            Ok(read) => read,
            // The read panicked (a bug): answer as Kafka does for an unexpected read failure.
            Err(_) => (all_failed(&request), 0, Vec::new()),
        };
        for (tp, hosted, isr) in expansions {
            let broker = broker.clone();
            tokio::spawn(async move {
                if alter_isr(
                    &broker.cluster,
                    &tp,
                    &hosted.replica,
                    &hosted.log,
                    isr,
                    "Expanding ISR: a follower caught up",
                )
                .await
                {
                    broker.metrics.isr_expanded();
                }
            });
        }
        // Kafka answers at once on an error or when a partition has a preferred read replica.
        let has_error_or_redirect = topics
            .iter()
            .flat_map(|t| &t.partitions)
            .any(|p| p.error_code != 0 || p.preferred_read_replica.0 >= 0);
        if total >= min_bytes || has_error_or_redirect || tokio::time::Instant::now() >= deadline {
            return FetchResponse::default()
                .with_session_id(0)
                .with_responses(topics);
        }
        // Kafka's DelayedFetch: counted in the Fetch purgatory while it waits.
        let _waiting = broker.metrics.enter_fetch_purgatory();
        tokio::select! {
            _ = any_changed(&mut watches) => {
                wakeups.fetch_add(1, Ordering::Relaxed);
            }
            _ = tokio::time::sleep_until(deadline) => {}
        }
    }
}

/// Resolves when any of the watches sees a new value (or its log is dropped); never when empty.
async fn any_changed(watches: &mut [watch::Receiver<i64>]) {
    if watches.is_empty() {
        return std::future::pending().await;
    }
    let mut changes: Vec<_> = watches.iter_mut().map(|w| Box::pin(w.changed())).collect();
    std::future::poll_fn(|cx| {
        for change in changes.iter_mut() {
            if change.as_mut().poll(cx).is_ready() {
                return std::task::Poll::Ready(());
            }
        }
        std::task::Poll::Pending
    })
    .await
}

/// Every requested partition answered UNKNOWN_SERVER_ERROR.
fn all_failed(request: &FetchRequest) -> Vec<FetchableTopicResponse> {
    request
        .topics
        .iter()
        .map(|t| {
            FetchableTopicResponse::default()
                .with_topic(t.topic.clone())
                .with_partitions(
                    t.partitions
                        .iter()
                        .map(|p| error_partition(p.partition, ErrorCode::UnknownServerError.code()))
                        .collect(),
                )
        })
        .collect()
}
