//! Followers' replication (Kafka's `ReplicaFetcherManager` and `ReplicaFetcherThread`): one task
//! per leader broker fetches every partition this broker follows on it, in one Fetch request
//! with `replica_id` set, as Kafka's fetcher threads do (requests on one connection are served
//! one at a time, so one long-polling fetch per partition would queue).
//!
//! A partition starts (and starts again on every new leader epoch) with truncation: an
//! OffsetForLeaderEpoch for the latest epoch of the local log tells where the leader's log for
//! that epoch ends, and the local log is truncated there (Kafka's
//! `AbstractFetcherThread.truncateToEpochEndOffsets`, KIP-101/KIP-279), never to the high
//! watermark. Then fetched batches are appended as they are, each fetch round waiting until they
//! are as durable as the flush policy demands, so the next fetch offset (which the leader takes
//! as this replica's end) reports only what is safe here.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use client::connection::{Connection, ConnectionOptions};
use common::errors::ErrorCode;
use common::ids::{BrokerId, LeaderEpoch};
use common::topic_partition::TopicPartition;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::offset_for_leader_epoch_request::{
    OffsetForLeaderPartition, OffsetForLeaderTopic,
};
use kafka_protocol::messages::{
    FetchRequest, ListOffsetsRequest, OffsetForLeaderEpochRequest, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::cluster::Cluster;
use crate::log::epoch_cache::{UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET};
use crate::log::DurableLog;

/// The `replica.*` settings of the fetchers.
#[derive(Clone, Debug)]
pub struct FetcherConfig {
    pub broker_id: BrokerId,
    /// `replica.fetch.wait.max.ms`.
    pub wait_max_ms: i32,
    /// `replica.fetch.min.bytes`.
    pub min_bytes: i32,
    /// `replica.fetch.max.bytes` (per partition).
    pub partition_max_bytes: i32,
    /// `replica.fetch.response.max.bytes`.
    pub response_max_bytes: i32,
    /// `replica.fetch.backoff.ms`: the pause after a failed round.
    pub backoff: Duration,
    /// `replica.socket.timeout.ms`: how long one request may take beyond its wait.
    pub socket_timeout: Duration,
}

#[derive(Clone)]
struct FetchState {
    leader_epoch: LeaderEpoch,
    log: Arc<DurableLog>,
    /// Truncation by epoch is done for this leader epoch.
    truncated: bool,
}

type PartitionMap = Arc<Mutex<BTreeMap<TopicPartition, FetchState>>>;

struct Fetcher {
    partitions: PartitionMap,
    wake: Arc<Notify>,
    task: JoinHandle<()>,
}

impl Drop for Fetcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The fetchers of this broker, one per leader it follows partitions on.
pub struct ReplicaFetchers {
    config: FetcherConfig,
    cluster: Arc<Cluster>,
    by_leader: Mutex<HashMap<BrokerId, Fetcher>>,
}

impl ReplicaFetchers {
    pub fn new(config: FetcherConfig, cluster: Arc<Cluster>) -> ReplicaFetchers {
        ReplicaFetchers {
            config,
            cluster,
            by_leader: Mutex::new(HashMap::new()),
        }
    }

    /// Follows `tp` on `leader` at `leader_epoch` (a no-op when already doing so); a new leader
    /// or epoch starts with truncation. Must be called from within the runtime.
    pub fn follow(
        &self,
        tp: &TopicPartition,
        leader: BrokerId,
        leader_epoch: LeaderEpoch,
        log: Arc<DurableLog>,
    ) {
        let mut by_leader = lock(&self.by_leader);
        for (id, f) in by_leader.iter() {
            if *id != leader {
                lock(&f.partitions).remove(tp);
            }
        }
        let fetcher = by_leader.entry(leader).or_insert_with(|| {
            let partitions: PartitionMap = Arc::default();
            let wake = Arc::new(Notify::new());
            let task = tokio::spawn(run(
                leader,
                partitions.clone(),
                wake.clone(),
                self.cluster.clone(),
                self.config.clone(),
            ));
            Fetcher {
                partitions,
                wake,
                task,
            }
        });
        let mut parts = lock(&fetcher.partitions);
        let same = parts
            .get(tp)
            .is_some_and(|s| s.leader_epoch == leader_epoch && Arc::ptr_eq(&s.log, &log));
        if !same {
            tracing::info!(
                "[ReplicaFetcher broker={}] following {tp} on broker {leader} at leader epoch \
                 {leader_epoch}",
                self.config.broker_id
            );
            parts.insert(
                tp.clone(),
                FetchState {
                    leader_epoch,
                    log,
                    truncated: false,
                },
            );
            fetcher.wake.notify_one();
        }
    }

    /// Stops fetching `tp` (this broker leads it now, or it is gone or offline).
    pub fn stop(&self, tp: &TopicPartition) {
        let mut by_leader = lock(&self.by_leader);
        for f in by_leader.values() {
            lock(&f.partitions).remove(tp);
        }
        by_leader.retain(|_, f| !lock(&f.partitions).is_empty());
    }

    /// Stops every fetcher (shutdown).
    pub fn stop_all(&self) {
        lock(&self.by_leader).clear();
    }
}

/// Kafka's `getOffsetTruncationState`: where to truncate given the leader's answer
/// `(leader_epoch, end_offset)` for our latest epoch, and whether truncation is complete (it is
/// not when we lack the epoch the leader answered with: we cut to the end of our largest epoch
/// below it and ask again).
pub fn truncation_offset(leader_epoch: i32, leader_end: i64, log: &DurableLog) -> (i64, bool) {
    let local_end = log.log_end_offset();
    if leader_end == UNDEFINED_EPOCH_OFFSET {
        // The leader knows no epoch at or below ours: nothing can be matched; keep our log
        // (the fetch's out-of-range answer will tell if it is longer than the leader's).
        return (local_end, true);
    }
    if leader_epoch == UNDEFINED_EPOCH {
        return (leader_end.min(local_end), true);
    }
    let (epoch, end) = log.end_offset_for_epoch(leader_epoch);
    if epoch == UNDEFINED_EPOCH {
        (leader_end.min(local_end), true)
    } else if epoch == leader_epoch {
        (leader_end.min(end), true)
    } else {
        (end.min(local_end), false)
    }
}

async fn connect(
    cluster: &Cluster,
    leader: BrokerId,
    config: &FetcherConfig,
) -> Option<Connection> {
    let md = cluster.metadata();
    let b = md.brokers.iter().find(|b| b.id == leader)?;
    let addr = format!("{}:{}", b.host, b.port);
    let options = ConnectionOptions {
        client_id: format!("broker-{}-fetcher-0", config.broker_id),
        request_timeout: config.socket_timeout
            + Duration::from_millis(config.wait_max_ms.max(0) as u64),
        connect_timeout: config.socket_timeout,
        ..ConnectionOptions::default()
    };
    match Connection::connect(&addr, options).await {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::warn!(
                "[ReplicaFetcher broker={}] cannot connect to leader broker {leader} at {addr}: {e}",
                config.broker_id
            );
            None
        }
    }
}

fn topic_name(name: &str) -> TopicName {
    TopicName(StrBytes::from_string(name.to_string()))
}

/// One round of truncation for the partitions in `need`.
async fn truncate(
    conn: &Connection,
    config: &FetcherConfig,
    partitions: &PartitionMap,
    need: &[(TopicPartition, FetchState)],
) -> Result<(), String> {
    let mut topics: BTreeMap<&str, Vec<OffsetForLeaderPartition>> = BTreeMap::new();
    for (tp, s) in need {
        topics.entry(tp.topic.as_str()).or_default().push(
            OffsetForLeaderPartition::default()
                .with_partition(tp.partition)
                .with_current_leader_epoch(s.leader_epoch.get())
                .with_leader_epoch(s.log.latest_epoch().unwrap_or(UNDEFINED_EPOCH)),
        );
    }
    let request = OffsetForLeaderEpochRequest::default()
        .with_replica_id(kafka_protocol::messages::BrokerId(config.broker_id.get()))
        .with_topics(
            topics
                .into_iter()
                .map(|(t, ps)| {
                    OffsetForLeaderTopic::default()
                        .with_topic(topic_name(t))
                        .with_partitions(ps)
                })
                .collect(),
        );
    let response = conn.send(request).await.map_err(|e| e.to_string())?;
    for t in response.topics {
        for p in t.partitions {
            let tp = TopicPartition {
                topic: t.topic.0.to_string(),
                partition: p.partition,
            };
            let Some((_, state)) = need.iter().find(|(n, _)| *n == tp) else {
                continue;
            };
            if p.error_code != 0 {
                tracing::warn!(
                    "[ReplicaFetcher broker={}] OffsetForLeaderEpoch of {tp}: {:?}",
                    config.broker_id,
                    ErrorCode::from_code(p.error_code)
                );
                continue;
            }
            let (offset, done) = truncation_offset(p.leader_epoch, p.end_offset, &state.log);
            // Called even when nothing is cut: the leader epoch cache may hold an epoch that
            // starts at the log end (see `PartitionLog::truncate_to`).
            {
                if offset < state.log.log_end_offset() {
                    tracing::info!(
                        "[ReplicaFetcher broker={}] truncating {tp} to offset {offset} (leader \
                         epoch {} ends at {} on the leader; our log ended at {})",
                        config.broker_id,
                        p.leader_epoch,
                        p.end_offset,
                        state.log.log_end_offset()
                    );
                }
                let log = state.log.clone();
                let cut = tokio::task::spawn_blocking(move || log.truncate_to(offset))
                    .await
                    .map_err(|e| e.to_string())?;
                if let Err(e) = cut {
                    tracing::error!("truncating {tp} failed: {e}");
                    continue;
                }
            }
            if done {
                if let Some(s) = lock(partitions).get_mut(&tp) {
                    if s.leader_epoch == state.leader_epoch && Arc::ptr_eq(&s.log, &state.log) {
                        s.truncated = true;
                    }
                }
            }
        }
    }
    Ok(())
}

/// One fetch round for the partitions in `ready`; returns whether any partition failed.
async fn fetch(
    conn: &Connection,
    config: &FetcherConfig,
    partitions: &PartitionMap,
    ready: &[(TopicPartition, FetchState)],
) -> Result<bool, String> {
    let mut topics: BTreeMap<&str, Vec<FetchPartition>> = BTreeMap::new();
    for (tp, s) in ready {
        topics.entry(tp.topic.as_str()).or_default().push(
            FetchPartition::default()
                .with_partition(tp.partition)
                .with_current_leader_epoch(s.leader_epoch.get())
                .with_fetch_offset(s.log.log_end_offset())
                .with_log_start_offset(s.log.log_start_offset())
                .with_last_fetched_epoch(-1)
                .with_partition_max_bytes(config.partition_max_bytes),
        );
    }
    let request = FetchRequest::default()
        .with_replica_id(kafka_protocol::messages::BrokerId(config.broker_id.get()))
        .with_max_wait_ms(config.wait_max_ms)
        .with_min_bytes(config.min_bytes)
        .with_max_bytes(config.response_max_bytes)
        .with_isolation_level(0)
        .with_session_id(0)
        .with_session_epoch(-1)
        .with_topics(
            topics
                .into_iter()
                .map(|(t, ps)| {
                    FetchTopic::default()
                        .with_topic(topic_name(t))
                        .with_partitions(ps)
                })
                .collect(),
        );
    let response = conn.send(request).await.map_err(|e| e.to_string())?;
    let mut appends = tokio::task::JoinSet::new();
    let mut failed = false;
    let mut out_of_range = Vec::new();
    for t in response.responses {
        for p in t.partitions {
            let tp = TopicPartition {
                topic: t.topic.0.to_string(),
                partition: p.partition_index,
            };
            let Some((_, state)) = ready.iter().find(|(n, _)| *n == tp) else {
                continue;
            };
            match ErrorCode::from_code(p.error_code).unwrap_or(ErrorCode::UnknownServerError) {
                ErrorCode::None => {}
                ErrorCode::FencedLeaderEpoch
                | ErrorCode::UnknownLeaderEpoch
                | ErrorCode::NotLeaderOrFollower => {
                    // The leader and we disagree on the epoch: the metadata watch settles it.
                    failed = true;
                    continue;
                }
                ErrorCode::OffsetOutOfRange => {
                    out_of_range.push((tp, state.clone()));
                    continue;
                }
                other => {
                    tracing::warn!(
                        "[ReplicaFetcher broker={}] fetch of {tp} failed: {other:?}",
                        config.broker_id
                    );
                    failed = true;
                    continue;
                }
            }
            let records: Bytes = p.records.unwrap_or_default();
            let log = state.log.clone();
            let hw = p.high_watermark;
            let leader_start = p.log_start_offset;
            let epoch = state.leader_epoch;
            let partitions = partitions.clone();
            appends.spawn(async move {
                // The partition may have been handed elsewhere while the fetch was out.
                let current = lock(&partitions).get(&tp).is_some_and(|s| {
                    s.leader_epoch == epoch && s.truncated && Arc::ptr_eq(&s.log, &log)
                });
                if !current {
                    return true;
                }
                if !records.is_empty() {
                    if let Err(e) = log.append_as_follower(records).await {
                        tracing::error!("replicating {tp} failed: {e}");
                        return false;
                    }
                }
                log.follow(hw);
                // Kafka's follower takes the leader's log start offset (records deleted by
                // DeleteRecords or retention), up to what it has itself, and checkpoints it.
                let start = leader_start.min(log.high_watermark());
                if start > log.log_start_offset() {
                    let advanced = tokio::task::spawn_blocking({
                        let log = log.clone();
                        move || log.advance_log_start_offset(start)
                    })
                    .await;
                    if let Ok(Err(e)) = advanced {
                        tracing::warn!(
                            "{tp}: taking the leader's log start offset {start} failed: {e}"
                        );
                    }
                }
                true
            });
        }
    }
    while let Some(done) = appends.join_next().await {
        if !matches!(done, Ok(true)) {
            failed = true;
        }
    }
    for (tp, state) in out_of_range {
        if let Err(e) = recover_out_of_range(conn, config, &tp, &state).await {
            tracing::warn!(
                "[ReplicaFetcher broker={}] recovering the out-of-range fetch of {tp} failed: {e}",
                config.broker_id
            );
            failed = true;
        }
    }
    Ok(failed)
}

/// Kafka's `handleOutOfRangeError`: the fetch offset (our log end) is outside the leader's log.
/// Past its end (possible only after an unclean election): truncate to the leader's end.
/// Before its start (the leader's retention deleted what we have yet to fetch): empty our log
/// and start at the leader's log start offset.
async fn recover_out_of_range(
    conn: &Connection,
    config: &FetcherConfig,
    tp: &TopicPartition,
    state: &FetchState,
) -> Result<(), String> {
    let offset_of = |timestamp: i64| {
        ListOffsetsRequest::default()
            .with_replica_id(kafka_protocol::messages::BrokerId(config.broker_id.get()))
            .with_topics(vec![ListOffsetsTopic::default()
                .with_name(topic_name(&tp.topic))
                .with_partitions(vec![ListOffsetsPartition::default()
                    .with_partition_index(tp.partition)
                    .with_current_leader_epoch(state.leader_epoch.get())
                    .with_timestamp(timestamp)])])
    };
    let mut ends = Vec::new();
    for timestamp in [-1, -2] {
        let response = conn
            .send(offset_of(timestamp))
            .await
            .map_err(|e| e.to_string())?;
        let p = response
            .topics
            .first()
            .and_then(|t| t.partitions.first())
            .ok_or("an empty ListOffsets answer")?;
        if p.error_code != 0 {
            return Err(format!("ListOffsets answered error {}", p.error_code));
        }
        ends.push(p.offset);
    }
    let (leader_end, leader_start) = (ends[0], ends[1]);
    let local_end = state.log.log_end_offset();
    let log = state.log.clone();
    if leader_end < local_end {
        tracing::warn!(
            "[ReplicaFetcher broker={}] truncating {tp} to the leader's log end {leader_end} \
             (ours was {local_end})",
            config.broker_id
        );
        tokio::task::spawn_blocking(move || log.truncate_to(leader_end))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
    } else if leader_start > local_end {
        tracing::warn!(
            "[ReplicaFetcher broker={}] {tp}: the leader's log starts at {leader_start}, after \
             our log end {local_end}; starting over there",
            config.broker_id
        );
        tokio::task::spawn_blocking(move || log.truncate_fully_and_start_at(leader_start))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

async fn run(
    leader: BrokerId,
    partitions: PartitionMap,
    wake: Arc<Notify>,
    cluster: Arc<Cluster>,
    config: FetcherConfig,
) {
    let mut conn: Option<Connection> = None;
    loop {
        let snapshot: Vec<(TopicPartition, FetchState)> = lock(&partitions)
            .iter()
            .map(|(tp, s)| (tp.clone(), s.clone()))
            .collect();
        if snapshot.is_empty() {
            wake.notified().await;
            continue;
        }
        let c = match conn.as_ref().filter(|c| !c.is_closed()) {
            Some(c) => c.clone(),
            None => match connect(&cluster, leader, &config).await {
                Some(c) => {
                    conn = Some(c.clone());
                    c
                }
                None => {
                    pause(&wake, config.backoff).await;
                    continue;
                }
            },
        };
        let need: Vec<_> = snapshot
            .iter()
            .filter(|(_, s)| !s.truncated)
            .cloned()
            .collect();
        if !need.is_empty() {
            if let Err(e) = truncate(&c, &config, &partitions, &need).await {
                tracing::warn!(
                    "[ReplicaFetcher broker={}] OffsetForLeaderEpoch to broker {leader} failed: {e}",
                    config.broker_id
                );
                conn = None;
                pause(&wake, config.backoff).await;
                continue;
            }
        }
        let ready: Vec<(TopicPartition, FetchState)> = lock(&partitions)
            .iter()
            .filter(|(_, s)| s.truncated)
            .map(|(tp, s)| (tp.clone(), s.clone()))
            .collect();
        if ready.is_empty() {
            pause(&wake, config.backoff).await;
            continue;
        }
        match fetch(&c, &config, &partitions, &ready).await {
            Ok(false) => {}
            Ok(true) => pause(&wake, config.backoff).await,
            Err(e) => {
                tracing::warn!(
                    "[ReplicaFetcher broker={}] fetch from broker {leader} failed: {e}",
                    config.broker_id
                );
                conn = None;
                pause(&wake, config.backoff).await;
            }
        }
    }
}

/// Waits `backoff`, or less when a partition is added or changes leader epoch.
async fn pause(wake: &Notify, backoff: Duration) {
    tokio::select! {
        _ = wake.notified() => {}
        _ = tokio::time::sleep(backoff) => {}
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::log::testutil::batch;
    use crate::log::LogConfig;
    use bytes::BytesMut;

    /// A log with epochs 0 (offsets 0..5), 1 (5..8) and 3 (8..10).
    async fn log_with_epochs(dir: &std::path::Path) -> DurableLog {
        let log = DurableLog::open(dir, LogConfig::default()).unwrap();
        for (epoch, records) in [(0, 5), (1, 3), (3, 2)] {
            log.assign_epoch(epoch).unwrap();
            log.append(BytesMut::from(&batch(records, 10)[..]), epoch)
                .await
                .unwrap();
        }
        log
    }

    #[tokio::test]
    async fn truncation_follows_the_leaders_epoch_end_never_the_high_watermark() {
        let dir = tempfile::tempdir().unwrap();
        let log = log_with_epochs(dir.path()).await;
        assert_eq!(log.log_end_offset(), 10);
        // The leader has our latest epoch and it ends where ours does: nothing to cut.
        assert_eq!(truncation_offset(3, 10, &log), (10, true));
        // The leader's epoch 3 ended at 9 (we have a record it never had): cut exactly there.
        assert_eq!(truncation_offset(3, 9, &log), (9, true));
        // The leader never had epoch 3; its largest below is 1, which it ended at 7 while ours
        // ended at 8: cut to 7, the smaller.
        assert_eq!(truncation_offset(1, 7, &log), (7, true));
        // The leader answers an epoch we lack (2): cut to the end of our largest epoch below it
        // (1 ends at 8) and ask again.
        assert_eq!(truncation_offset(2, 12, &log), (8, false));
        // No epoch information on the leader's side: keep everything, the fetch tells the rest.
        assert_eq!(truncation_offset(-1, -1, &log), (10, true));
        // An epoch the leader knows without one of ours matching below it: the smaller end.
        let empty_dir = tempfile::tempdir().unwrap();
        let empty = DurableLog::open(empty_dir.path(), LogConfig::default()).unwrap();
        assert_eq!(truncation_offset(4, 20, &empty), (0, true));
    }
}
