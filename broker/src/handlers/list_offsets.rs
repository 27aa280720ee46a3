//! ListOffsets: earliest (-2), latest (-1), max timestamp (-3) and real timestamps via the time
//! index. With `isolation_level` 1 (read_committed, v2+), latest is the last stable offset and
//! no offset at or above it is reported (Kafka's `Partition.fetchOffsetForTimestamp`:
//! `lastFetchableOffset`).

use std::collections::HashMap;
use std::sync::Arc;

use common::time::now_ms;

use common::errors::ErrorCode;
use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::{ListOffsetsRequest, ListOffsetsResponse};

use super::leader_partition;
use crate::broker::Broker;

const LATEST: i64 = -1;
const EARLIEST: i64 = -2;
const MAX_TIMESTAMP: i64 = -3;
/// v8+ (KIP-405): the first offset still on local disk; without tiered storage, the earliest.
const EARLIEST_LOCAL: i64 = -4;
/// v9+ (KIP-1005): the last offset in remote storage; without tiered storage, -1 with epoch -1.
const LATEST_TIERED: i64 = -5;

/// Kafka's `timestampMinSupportedVersion`: the special timestamp -3 (max timestamp) needs v7,
/// -4 (earliest local) v8 and -5 (latest tiered) v9; other negative values below -2 are not
/// served. Refused with UNSUPPORTED_VERSION.
fn timestamp_served(timestamp: i64, version: i16) -> bool {
    match timestamp {
        LATEST | EARLIEST => true,
        MAX_TIMESTAMP => version >= 7,
        EARLIEST_LOCAL => version >= 8,
        LATEST_TIERED => version >= 9,
        t => t >= 0,
    }
}

/// Answers a ListOffsets request. A lookup by timestamp reads segment files: such a request is
/// answered on a blocking thread, never on an async worker.
pub async fn handle(
    broker: &Arc<Broker>,
    request: ListOffsetsRequest,
    version: i16,
) -> ListOffsetsResponse {
    let reads_files = request
        .topics
        .iter()
        .flat_map(|t| &t.partitions)
        .any(|p| p.timestamp >= 0 || p.timestamp == MAX_TIMESTAMP);
    if !reads_files {
        return answer(broker, request, version);
    }
    let broker = broker.clone();
    match tokio::task::spawn_blocking(move || answer(&broker, request, version)).await {
        Ok(response) => response,
        Err(e) => {
            tracing::error!("ListOffsets lookup failed: {e}");
            ListOffsetsResponse::default()
        }
    }
}

fn answer(broker: &Arc<Broker>, request: ListOffsetsRequest, version: i16) -> ListOffsetsResponse {
    // The leader epoch field exists from v4 on; the codec refuses it set on older versions.
    let epoch_of = |e: i32| if version >= 4 { e } else { -1 };
    // A follower (replica id >= 0) asks for the leader's log end offset as "latest" (Kafka's
    // `fetchOnlyFromLeader` without an isolation level), to recover from an out-of-range fetch.
    let from_follower = request.replica_id.0 >= 0;
    let read_committed = request.isolation_level == 1;
    // Kafka answers every occurrence of a partition named twice with INVALID_REQUEST.
    let mut seen: HashMap<(String, i32), usize> = HashMap::new();
    for t in &request.topics {
        for p in &t.partitions {
            *seen
                .entry((t.name.0.as_str().to_string(), p.partition_index))
                .or_default() += 1;
        }
    }
    let topics = request
        .topics
        .into_iter()
        .map(|topic| {
            let name = topic.name.0.as_str().to_string();
            let partitions = topic
                .partitions
                .into_iter()
                .map(|p| {
                    // Kafka's `buildErrorResponse`: timestamp -1, offset -1, leader epoch -1.
                    let base = ListOffsetsPartitionResponse::default()
                        .with_partition_index(p.partition_index)
                        .with_timestamp(-1)
                        .with_offset(-1)
                        .with_leader_epoch(-1);
                    if seen.get(&(name.clone(), p.partition_index)) > Some(&1) {
                        return base.with_error_code(ErrorCode::InvalidRequest.code());
                    }
                    if !timestamp_served(p.timestamp, version) {
                        return base.with_error_code(ErrorCode::UnsupportedVersion.code());
                    }
                    let hosted = match leader_partition(broker, &name, p.partition_index) {
                        Ok(h) => h,
                        Err(code) => return base.with_error_code(code),
                    };
                    let log = &hosted.log;
                    let lso = read_committed.then(|| log.last_stable_offset());
                    let found = match p.timestamp {
                        LATEST if from_follower => Ok(Some((log.log_end_offset(), -1))),
                        LATEST => Ok(Some((lso.unwrap_or_else(|| log.high_watermark()), -1))),
                        EARLIEST | EARLIEST_LOCAL => Ok(Some((log.log_start_offset(), -1))),
                        LATEST_TIERED => {
                            return base.with_leader_epoch(-1);
                        }
                        MAX_TIMESTAMP => log.max_timestamp_offset(),
                        ts => log.offset_for_timestamp(ts),
                    }
                    .map(|found| {
                        found.filter(|&(offset, _)| {
                            (p.timestamp < 0 && p.timestamp != MAX_TIMESTAMP)
                                || lso.is_none_or(|lso| offset < lso)
                        })
                    });
                    match found {
                        Ok(Some((offset, timestamp))) => base
                            .with_offset(offset)
                            .with_timestamp(timestamp)
                            .with_leader_epoch(epoch_of(hosted.leader_epoch.get())),
                        // Nothing at or after that time: Kafka's `buildErrorResponse(NONE)`.
                        Ok(None) => base,
                        Err(e) => base.with_error_code(e.kafka_error_code()),
                    }
                })
                .collect();
            ListOffsetsTopicResponse::default()
                .with_name(topic.name)
                .with_partitions(partitions)
        })
        .collect();
    ListOffsetsResponse::default().with_topics(topics)
}

/// One partition of a ListOffsets v0 request: `(partition, timestamp, max_num_offsets)`.
pub type ListOffsetsV0Partition = (i32, i64, i32);

/// A ListOffsets v0 request (decoded by `net::legacy`, which the protocol crate cannot):
/// per topic, its partitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListOffsetsV0 {
    pub replica_id: i32,
    pub topics: Vec<(String, Vec<ListOffsetsV0Partition>)>,
}

/// One partition of a ListOffsets v0 response: `(partition, error code, old_style_offsets)`.
pub type ListOffsetsV0Answer = (i32, i16, Vec<i64>);

/// ListOffsets v0 (Kafka 3.9 `KafkaApis.handleListOffsetRequestV0`, `Partition.
/// legacyFetchOffsetsForTimestamp`, `UnifiedLog.legacyFetchOffsetsBefore`): per partition, up to
/// `max_num_offsets` offsets in descending order, taken from the list of segment base offsets
/// (with their files' modification times) followed by the log end offset (with the time now):
/// latest (-1) starts from its end, earliest (-2) from its start, and a timestamp from the last
/// entry modified at or before it. A consumer (replica id -1) sees no offset above the high
/// watermark. Other negative timestamps are UNSUPPORTED_VERSION. Returns the answer per
/// topic, which `net::legacy` encodes.
pub async fn handle_v0(
    broker: &Arc<Broker>,
    request: ListOffsetsV0,
) -> Vec<(String, Vec<ListOffsetsV0Answer>)> {
    // The segment files' modification times are file system calls: off the async workers.
    let broker = broker.clone();
    tokio::task::spawn_blocking(move || answer_v0(&broker, request))
        .await
        .unwrap_or_else(|e| {
            tracing::error!("ListOffsets v0 lookup failed: {e}");
            Vec::new()
        })
}

fn answer_v0(
    broker: &Arc<Broker>,
    request: ListOffsetsV0,
) -> Vec<(String, Vec<ListOffsetsV0Answer>)> {
    let from_consumer = request.replica_id == -1;
    request
        .topics
        .into_iter()
        .map(|(name, partitions)| {
            let partitions = partitions
                .into_iter()
                .map(|(partition, timestamp, max_num_offsets)| {
                    if timestamp < EARLIEST {
                        return (partition, ErrorCode::UnsupportedVersion.code(), vec![]);
                    }
                    if max_num_offsets < 0 {
                        // Kafka fails allocating a negative-size array: an unexpected error.
                        return (partition, ErrorCode::UnknownServerError.code(), vec![]);
                    }
                    let hosted = match leader_partition(broker, &name, partition) {
                        Ok(h) => h,
                        Err(code) => return (partition, code, vec![]),
                    };
                    let (segments, log_end) = hosted.log.segment_times();
                    let mut entries: Vec<(i64, i64)> = segments
                        .iter()
                        .map(|(base, mtime, _)| (*base, *mtime))
                        .collect();
                    if segments.last().is_some_and(|(_, _, size)| *size > 0) {
                        entries.push((log_end, now_ms()));
                    }
                    let start: i64 = match timestamp {
                        LATEST => entries.len() as i64 - 1,
                        EARLIEST => 0,
                        ts => entries
                            .iter()
                            .rposition(|(_, mtime)| *mtime <= ts)
                            .map_or(-1, |i| i as i64),
                    };
                    let count = i64::from(max_num_offsets).min(start + 1).max(0) as usize;
                    let mut offsets: Vec<i64> = (0..count)
                        .map(|j| entries[(start as usize) - j].0)
                        .collect();
                    offsets.sort_by(|a, b| b.cmp(a));
                    if from_consumer {
                        let hw = hosted.log.high_watermark();
                        if offsets.iter().any(|o| *o > hw) {
                            offsets.retain(|o| *o <= hw);
                            offsets.insert(0, hw);
                        }
                    }
                    (partition, 0, offsets)
                })
                .collect();
            (name, partitions)
        })
        .collect()
}
