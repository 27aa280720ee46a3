//! The consumer: partitions come from `assign` or, with `subscribe` and a `group.id`, from the
//! group protocol (see `group`). Positions start from the group's committed offsets, else
//! ListOffsets (earliest / latest) or a given offset; `poll` sends Fetch to each partition's
//! leader (long-polling up to `fetch.max.wait.ms` for `fetch.min.bytes`, at most
//! `max.partition.fetch.bytes` per partition and `fetch.max.bytes` per response) and returns
//! records in offset order per partition.
//!
//! Fetches are pipelined as Kafka's `Fetcher` does: at most one fetch per leader is in flight,
//! for the partitions with nothing buffered, and before `poll` hands records out it sends the
//! next fetches, so the broker's answer travels while the application works through the
//! records. A fetch outlives the `poll` that sent it (the next `poll` picks up its answer); an
//! answer for a partition whose position moved meanwhile (`seek`) is dropped as stale. Keys and
//! values are slices of the fetched (or decompressed) buffer, not copies. OFFSET_OUT_OF_RANGE resets the position per `auto.offset.reset`; leadership errors
//! refresh metadata and retry. With a group, `poll` also rejoins when the heartbeat task says so
//! and auto-commits what it has returned every `auto.commit.interval.ms`.
//!
//! As Kafka's consumer, `poll` refreshes the metadata of the topics it needs every
//! `metadata.max.age.ms`, and sooner (with backoff from `retry.backoff.ms` to
//! `retry.backoff.max.ms`) while one of them is unknown or has no leader yet; these requests
//! ask the broker to auto-create missing topics when `allow.auto.create.topics` is true. What
//! the refresh shows is acted on: a pattern subscription takes in newly matching topics, and a
//! group leader whose assignment was computed from other partition counts (a topic that did
//! not exist yet, partitions added since) rejoins, so topics and partitions that appear after
//! the consumer started are read.

pub mod assignor;
mod buffer;
mod config;
mod fetch;
mod group;
pub mod protocol;
mod rebalance;

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use kafka_protocol::messages::{
    fetch_request::{FetchPartition, FetchTopic},
    list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic},
    BrokerId, FetchRequest, FetchResponse, ListOffsetsRequest, TopicName,
};
use kafka_protocol::protocol::StrBytes;

use common::errors::codes::{
    FENCED_INSTANCE_ID, INVALID_TOPIC_EXCEPTION, OFFSET_OUT_OF_RANGE, TOPIC_AUTHORIZATION_FAILED,
    UNKNOWN_TOPIC_OR_PARTITION,
};

use crate::cluster::Cluster;
use crate::connection::{Connection, ConnectionOptions};
use crate::error::{invalidates_metadata, is_retriable, ClientError};
use crate::metadata::ClusterSnapshot;
use buffer::FetchBuffer;

pub use config::{ConsumerConfig, OffsetReset};
pub use group::CommittedOffset;
use group::GroupMembership;
pub use rebalance::RebalanceEvent;

/// ListOffsets timestamps meaning "the log end" and "the log start".
const LATEST_TIMESTAMP: i64 = -1;
const EARLIEST_TIMESTAMP: i64 = -2;

/// Where an assigned partition starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartOffset {
    Earliest,
    Latest,
    Offset(i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampType {
    CreateTime,
    LogAppendTime,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConsumerRecord {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub timestamp: i64,
    pub timestamp_type: TimestampType,
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    pub headers: Vec<(String, Option<Bytes>)>,
}

#[derive(Debug, Clone)]
struct Assigned {
    topic: String,
    partition: i32,
    /// The next offset to fetch. None until resolved through ListOffsets.
    position: Option<i64>,
    /// The next offset to hand to the caller (what a commit stores): behind `position` by the
    /// records fetched but not yet returned.
    consumed: Option<i64>,
    /// How to resolve a missing position.
    reset: StartOffset,
    /// `max.partition.fetch.bytes`, doubled while a single batch does not fit in it (a broker
    /// that cuts the first batch short instead of returning it whole would otherwise stall us).
    max_bytes: i32,
    /// A group partition without a committed offset under `auto.offset.reset=none`: every poll
    /// fails (Kafka's NoOffsetForPartitionException) until a `seek` gives it a position.
    undefined_fails: bool,
    /// Part of a fetch in flight.
    fetching: bool,
    /// Has records in the fetch buffer: not fetched again until they are handed out.
    buffered: bool,
}

/// A fetch sent to one leader: the partitions and the offsets it asked for, and the answer.
struct FetchOutcome {
    leader: i32,
    partitions: Vec<(String, i32, i64)>,
    result: Result<FetchResponse, ClientError>,
}

/// `SubscriptionState.FetchPosition.toString()` as Kafka's FetchCollector puts it in its
/// out-of-range message: `FetchPosition{offset=100, offsetEpoch=Optional.empty,
/// currentLeader=LeaderAndEpoch{leader=Optional[host:9092 (id: 0 rack: null)], epoch=0}}`.
/// The offset epoch is not tracked here and is shown as after a `seek` (empty).
fn fetch_position_text(
    snapshot: &crate::metadata::ClusterSnapshot,
    topic: &str,
    partition: i32,
    offset: i64,
) -> String {
    let meta = snapshot
        .topics
        .get(topic)
        .and_then(|t| t.partition(partition));
    let leader = meta.and_then(|p| snapshot.brokers.get(&p.leader)).map_or(
        "Optional.empty".to_string(),
        |b| {
            format!(
                "Optional[{}:{} (id: {} rack: {})]",
                b.host,
                b.port,
                b.id,
                b.rack.as_deref().unwrap_or("null")
            )
        },
    );
    let epoch = meta
        .map(|p| p.leader_epoch)
        .filter(|e| *e >= 0)
        .map_or("absent".to_string(), |e| e.to_string());
    format!(
        "FetchPosition{{offset={offset}, offsetEpoch=Optional.empty, currentLeader=LeaderAndEpoch{{leader={leader}, epoch={epoch}}}}}"
    )
}

pub struct Consumer {
    config: ConsumerConfig,
    cluster: Arc<Cluster>,
    assigned: Vec<Assigned>,
    buffered: FetchBuffer,
    /// Fetches in flight, one per leader at most.
    fetches: tokio::task::JoinSet<FetchOutcome>,
    fetching_leaders: HashSet<i32>,
    /// Set by `subscribe` when a group is configured.
    group: Option<GroupMembership>,
    /// The subscribed topics (for a pattern subscription: the topics it matched at the last
    /// metadata refresh), sorted.
    subscription: Vec<String>,
    /// Set by `subscribe_pattern`: matched against every topic name at each metadata refresh.
    pattern: Option<regex::Regex>,
    next_auto_commit: Instant,
    /// When `poll` next refreshes metadata (see `maintain_metadata`).
    next_metadata_refresh: Instant,
    /// The current wait between refreshes while a needed topic is missing: doubles from
    /// `retry.backoff.ms` up to `retry.backoff.max.ms`.
    metadata_backoff: Duration,
    /// Metadata refreshes sent by `maintain_metadata`, numbering its warnings as Kafka's
    /// correlation ids do.
    metadata_requests: i32,
    /// Rebalance events not yet taken (`None` until `enable_rebalance_events`).
    rebalance_events: Option<VecDeque<RebalanceEvent>>,
}

impl Consumer {
    /// Prepares a consumer; brokers are contacted by the first call that needs them.
    pub async fn new(config: ConsumerConfig) -> Result<Consumer, ClientError> {
        let request_timeout = Duration::from_millis(config.request_timeout_ms.max(1))
            + Duration::from_millis(config.fetch_max_wait_ms.max(0) as u64);
        let options = ConnectionOptions {
            client_id: config.client_id.clone(),
            request_timeout,
            connect_timeout: Duration::from_secs(10),
            ..Default::default()
        };
        let cluster = Arc::new(Cluster::new(&config.bootstrap_servers, options)?);
        Ok(Consumer {
            config,
            cluster,
            assigned: Vec::new(),
            buffered: FetchBuffer::default(),
            fetches: tokio::task::JoinSet::new(),
            fetching_leaders: HashSet::new(),
            group: None,
            subscription: Vec::new(),
            pattern: None,
            next_auto_commit: Instant::now(),
            next_metadata_refresh: Instant::now(),
            metadata_backoff: Duration::ZERO,
            metadata_requests: 0,
            rebalance_events: None,
        })
    }

    fn backoff(&self) -> Duration {
        Duration::from_millis(self.config.retry_backoff_ms.max(10))
    }

    /// The partition ids of a topic, sorted. A topic that does not exist is Kafka error 3 (the
    /// Metadata request may auto-create it, per `allow.auto.create.topics`, as Kafka's
    /// `partitionsFor` does; a topic being created answers LEADER_NOT_AVAILABLE).
    pub async fn partitions_for(&self, topic: &str) -> Result<Vec<i32>, ClientError> {
        let snapshot = self
            .cluster
            .refresh(
                Some(&[topic.to_string()]),
                self.config.allow_auto_create_topics,
            )
            .await?;
        match snapshot.topics.get(topic) {
            Some(t) if t.error_code == 0 => Ok(t.partitions.iter().map(|p| p.partition).collect()),
            Some(t) => Err(ClientError::kafka(t.error_code, None)),
            None => Err(ClientError::kafka(UNKNOWN_TOPIC_OR_PARTITION, None)),
        }
    }

    /// Replaces the assignment. Earliest/latest positions are looked up on the next `poll`.
    /// A partition that does not exist yet is waited for: `poll` keeps refreshing metadata and
    /// starts reading it once it appears.
    pub async fn assign(
        &mut self,
        assignments: Vec<(String, i32, StartOffset)>,
    ) -> Result<(), ClientError> {
        self.forget_fetched();
        self.assigned = assignments
            .into_iter()
            .map(|(topic, partition, start)| Assigned {
                topic,
                partition,
                position: match start {
                    StartOffset::Offset(o) if o >= 0 => Some(o),
                    _ => None,
                },
                consumed: match start {
                    StartOffset::Offset(o) if o >= 0 => Some(o),
                    _ => None,
                },
                reset: match start {
                    StartOffset::Offset(_) => self.reset_start(),
                    other => other,
                },
                max_bytes: self.config.max_partition_fetch_bytes.max(1),
                undefined_fails: false,
                fetching: false,
                buffered: false,
            })
            .collect();
        self.next_metadata_refresh = Instant::now();
        let topics = self.assigned_topics();
        if !topics.is_empty() {
            self.cluster
                .refresh(Some(&topics), self.config.allow_auto_create_topics)
                .await?;
        }
        Ok(())
    }

    /// The current position of an assigned partition (the offset of the next record `poll`
    /// returns), if known.
    pub fn position(&self, topic: &str, partition: i32) -> Option<i64> {
        self.assigned
            .iter()
            .find(|a| a.topic == topic && a.partition == partition)
            .and_then(|a| a.consumed)
    }

    /// The partitions currently assigned, sorted.
    pub fn assignment(&self) -> Vec<(String, i32)> {
        let mut v: Vec<(String, i32)> = self
            .assigned
            .iter()
            .map(|a| (a.topic.clone(), a.partition))
            .collect();
        v.sort();
        v
    }

    /// Moves the position of an assigned partition: the next `poll` returns records from
    /// `offset` on (records already fetched past it are dropped).
    pub fn seek(&mut self, topic: &str, partition: i32, offset: i64) -> Result<(), ClientError> {
        let Some(a) = self
            .assigned
            .iter_mut()
            .find(|a| a.topic == topic && a.partition == partition)
        else {
            return Err(ClientError::InvalidArgument(format!(
                "No current assignment for partition {topic}-{partition}"
            )));
        };
        if offset < 0 {
            return Err(ClientError::InvalidArgument(format!(
                "seek offset must not be a negative number: {offset}"
            )));
        }
        a.position = Some(offset);
        a.consumed = Some(offset);
        a.undefined_fails = false;
        a.buffered = false;
        self.buffered.remove_partition(topic, partition);
        Ok(())
    }

    /// Subscribes to `topics` through the consumer group named by `group.id`; partitions are
    /// assigned by the group on the next `poll`. Without a group id this is Kafka's
    /// InvalidGroupIdException.
    pub async fn subscribe(&mut self, topics: Vec<String>) -> Result<(), ClientError> {
        let mut topics = topics;
        topics.sort();
        topics.dedup();
        self.subscribe_to(topics, None)
    }

    /// Subscribes through the group to every topic whose name `pattern` matches (Kafka's
    /// `subscribe(Pattern)`; anchor it with `^...$` for Java's whole-name match). Internal
    /// topics are left out under `exclude.internal.topics`. The matching topics are looked up
    /// at every metadata refresh (`metadata.max.age.ms`), so topics created later join the
    /// subscription and the group rebalances over them. Never auto-creates topics.
    pub async fn subscribe_pattern(&mut self, pattern: regex::Regex) -> Result<(), ClientError> {
        self.subscribe_to(Vec::new(), Some(pattern))
    }

    fn subscribe_to(
        &mut self,
        topics: Vec<String>,
        pattern: Option<regex::Regex>,
    ) -> Result<(), ClientError> {
        let Some(group_id) = self.config.group_id.clone().filter(|g| !g.is_empty()) else {
            return Err(ClientError::kafka(
                24,
                Some("To use the group management or offset commit APIs, you must provide a valid group.id in the consumer configuration."),
            ));
        };
        if self.group.is_none() {
            self.group = Some(GroupMembership::new(
                group_id,
                &self.config,
                self.cluster.clone(),
            ));
        } else if let Some(g) = &self.group {
            // A new subscription needs a new assignment.
            g.request_rejoin(0);
        }
        self.subscription = topics;
        self.pattern = pattern;
        self.assigned.clear();
        self.forget_fetched();
        // Metadata of the new subscription (and, for a pattern, the topics it matches) is
        // fetched before the first join.
        self.next_metadata_refresh = Instant::now();
        Ok(())
    }

    /// Whether the cluster speaks the classic group protocol (FindCoordinator, JoinGroup,
    /// SyncGroup, Heartbeat at versions we speak), asked of any broker.
    pub async fn group_protocol_supported(&self) -> Result<bool, ClientError> {
        use kafka_protocol::messages::ApiKey;
        let conn = self.cluster.any_connection().await?;
        let v = conn.versions();
        Ok([
            ApiKey::FindCoordinator,
            ApiKey::JoinGroup,
            ApiKey::SyncGroup,
            ApiKey::Heartbeat,
        ]
        .iter()
        .all(|k| v.choose(*k as i16).is_ok()))
    }

    /// This member's id in its group (empty before the first join or without a group).
    pub fn member_id(&self) -> String {
        self.group
            .as_ref()
            .map(|g| g.member_id())
            .unwrap_or_default()
    }

    /// The group generation this member is in (-1 outside a stable generation).
    pub fn generation(&self) -> i32 {
        self.group.as_ref().map_or(-1, |g| g.generation())
    }

    /// Kafka's `KafkaConsumer.groupMetadata()`: what a transactional producer's
    /// `send_offsets_to_transaction` needs to commit this consumer's offsets in a transaction
    /// (`None` without `group.id`).
    pub fn group_metadata(&self) -> Option<crate::producer::ConsumerGroupMetadata> {
        let group_id = self.config.group_id.clone()?;
        Some(crate::producer::ConsumerGroupMetadata {
            group_id,
            generation_id: self.generation(),
            member_id: self.member_id(),
            group_instance_id: self.config.group_instance_id.clone(),
        })
    }

    /// From now on, keep a [`RebalanceEvent`] for each call Kafka's `ConsumerRebalanceListener`
    /// would receive (see the `rebalance` module for when), to be taken with
    /// [`Consumer::take_rebalance_events`]. Off by default, so that a consumer nobody asks
    /// never accumulates them.
    pub fn enable_rebalance_events(&mut self) {
        self.rebalance_events.get_or_insert_with(VecDeque::new);
    }

    /// The rebalance events since the last call, oldest first (`poll` and `close` add them, in
    /// the order Kafka's listener would have been called). Empty unless
    /// [`Consumer::enable_rebalance_events`] was called.
    pub fn take_rebalance_events(&mut self) -> Vec<RebalanceEvent> {
        self.rebalance_events
            .as_mut()
            .map(|q| q.drain(..).collect())
            .unwrap_or_default()
    }

    fn push_rebalance_event(&mut self, event: Option<RebalanceEvent>) {
        if let (Some(q), Some(e)) = (self.rebalance_events.as_mut(), event) {
            q.push_back(e);
        }
    }

    /// The event for giving up the current assignment: revoked while the member holds a valid
    /// generation and no rebalance is pending (or, before a rejoin, `always_revoke`), lost
    /// otherwise.
    fn give_up_event(&self, always_revoke: bool) -> Option<RebalanceEvent> {
        let group = self.group.as_ref()?;
        let owned = rebalance::sorted_partitions(
            self.assigned
                .iter()
                .map(|a| (a.topic.as_str(), a.partition)),
        );
        let valid = group.generation() >= 0 && !group.member_id().is_empty();
        // onLeavePrepare: mid-rebalance partitions count as lost.
        let valid = valid && (always_revoke || !group.needs_join());
        rebalance::give_up(owned, valid, always_revoke)
    }

    fn auto_commit_enabled(&self) -> bool {
        self.group.is_some() && self.config.enable_auto_commit
    }

    /// The positions a commit stores: the next record to return, per partition whose position
    /// is known.
    fn consumed_offsets(&self) -> Vec<(String, i32, i64)> {
        self.assigned
            .iter()
            .filter_map(|a| a.consumed.map(|o| (a.topic.clone(), a.partition, o)))
            .collect()
    }

    /// Commits the positions of every assigned partition (the records `poll` has returned) to
    /// the group, and waits for the answer. Kafka's CommitFailedException cases come back as
    /// ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID / REBALANCE_IN_PROGRESS errors, and the next poll
    /// rejoins.
    pub async fn commit_sync(&mut self) -> Result<(), ClientError> {
        let offsets = self.consumed_offsets();
        self.commit_offsets(&offsets).await
    }

    /// Commits the given offsets (topic, partition, next offset to read) to the group, as
    /// Kafka's `commitSync(offsets)`: retriable failures (the coordinator moved, unavailable or
    /// loading, a lost connection) are retried until `default.api.timeout.ms`, then a
    /// [`ClientError::Timeout`] with Kafka's text; other errors come back at once.
    pub async fn commit_offsets(
        &mut self,
        offsets: &[(String, i32, i64)],
    ) -> Result<(), ClientError> {
        let Some(group) = &self.group else {
            return Err(ClientError::kafka(
                24,
                Some("To use the group management or offset commit APIs, you must provide a valid group.id in the consumer configuration."),
            ));
        };
        let timeout = Duration::from_millis(self.config.default_api_timeout_ms);
        group.commit_sync(offsets, timeout).await
    }

    /// The group's committed offsets for `partitions` (absent where none is committed).
    pub async fn committed(
        &self,
        partitions: &[(String, i32)],
    ) -> Result<BTreeMap<(String, i32), CommittedOffset>, ClientError> {
        let Some(group) = &self.group else {
            return Err(ClientError::kafka(
                24,
                Some("To use the group management or offset commit APIs, you must provide a valid group.id in the consumer configuration."),
            ));
        };
        group.fetch_offsets(partitions).await
    }

    /// Closes the consumer: with auto commit, commits what was returned; then leaves the group.
    /// Errors are logged, not returned, as Kafka's `close()` does.
    pub async fn close(&mut self) {
        if self.rebalance_events.is_some() {
            let event = self.give_up_event(false);
            self.push_rebalance_event(event);
        }
        if self.auto_commit_enabled() && self.group.as_ref().is_some_and(|g| !g.needs_join()) {
            // One attempt (Kafka retries within its close timeout, 30 s by default): a close
            // while the cluster is gone should not hang.
            let offsets = self.consumed_offsets();
            let committed = match &self.group {
                Some(g) => g.commit(&offsets).await,
                None => Ok(()),
            };
            if let Err(e) = committed {
                tracing::warn!("Synchronous auto-commit of offsets failed: {e}");
            }
        }
        if let Some(g) = &mut self.group {
            if let Err(e) = g.leave().await {
                tracing::debug!("LeaveGroup failed: {e}");
            }
        }
        self.assigned.clear();
        self.forget_fetched();
    }

    /// Drops the records fetched but not returned and the fetches in flight (whose answers
    /// would be for an assignment that is gone).
    fn forget_fetched(&mut self) {
        self.buffered.clear();
        // Dropping a JoinSet aborts its tasks.
        self.fetches = tokio::task::JoinSet::new();
        self.fetching_leaders.clear();
        for a in &mut self.assigned {
            a.fetching = false;
            a.buffered = false;
        }
    }

    /// Before fetching: rejoin if the group asked for it (committing first, so the next owner
    /// of our partitions starts where we stopped), and auto-commit when due.
    async fn maintain_group(&mut self) -> Result<(), ClientError> {
        let Some(group) = &self.group else {
            return Ok(());
        };
        if let Some(e) = group.take_fatal() {
            // A fenced static member (FENCED_INSTANCE_ID): its partitions may belong to the
            // consumer that took its group.instance.id, so they are lost, and this poll fails
            // (Kafka's FencedInstanceIdException). A later poll joins again.
            if self.rebalance_events.is_some() {
                let event = self.give_up_event(false);
                self.push_rebalance_event(event);
            }
            self.assigned.clear();
            self.forget_fetched();
            return Err(e);
        }
        if group.needs_join() {
            if self.auto_commit_enabled() && !self.assigned.is_empty() {
                let offsets = self.consumed_offsets();
                if let Some(g) = &self.group {
                    if let Err(e) = g.commit(&offsets).await {
                        tracing::warn!(
                            "Offset commit before rebalance failed for group {}: {e}",
                            g.group_id()
                        );
                    }
                }
            }
            if self.rebalance_events.is_some() {
                let event = self.give_up_event(true);
                self.push_rebalance_event(event);
            }
            let owned: Vec<(String, Vec<i32>)> = {
                let mut m: BTreeMap<String, Vec<i32>> = BTreeMap::new();
                for a in &self.assigned {
                    m.entry(a.topic.clone()).or_default().push(a.partition);
                }
                m.into_iter().collect()
            };
            self.assigned.clear();
            self.forget_fetched();
            let topics = self.subscription.clone();
            let backoff = self.backoff();
            let Some(group) = &mut self.group else {
                return Ok(());
            };
            let partitions = group.join(&topics, &owned).await?;
            if let Some(q) = self.rebalance_events.as_mut() {
                q.push_back(RebalanceEvent::Assigned(rebalance::sorted_partitions(
                    partitions.iter().map(|(t, p)| (t.as_str(), *p)),
                )));
            }
            let committed = if partitions.is_empty() {
                BTreeMap::new()
            } else {
                match fetch_offsets_retrying(group, &partitions, backoff).await {
                    Ok(c) => c,
                    Err(e) => {
                        // Without positions the assignment is useless: join again next time.
                        group.request_rejoin(0);
                        return Err(e);
                    }
                }
            };
            let reset = self.reset_start();
            for (topic, partition) in partitions {
                let start = committed.get(&(topic.clone(), partition)).map(|c| c.offset);
                self.assigned.push(Assigned {
                    topic,
                    partition,
                    position: start,
                    consumed: start,
                    reset,
                    max_bytes: self.config.max_partition_fetch_bytes.max(1),
                    undefined_fails: start.is_none()
                        && self.config.auto_offset_reset == OffsetReset::None,
                    fetching: false,
                    buffered: false,
                });
            }
            let topics = self.assigned_topics();
            if !topics.is_empty() {
                self.cluster
                    .refresh(Some(&topics), self.config.allow_auto_create_topics)
                    .await?;
            }
            self.next_auto_commit = crate::time::after(
                Instant::now(),
                Duration::from_millis(self.config.auto_commit_interval_ms),
            );
            return Ok(());
        }
        group.recover_coordinator().await;
        if self.auto_commit_enabled() && Instant::now() >= self.next_auto_commit {
            self.next_auto_commit = crate::time::after(
                Instant::now(),
                Duration::from_millis(self.config.auto_commit_interval_ms),
            );
            let offsets = self.consumed_offsets();
            if let Err(e) = group.commit(&offsets).await {
                tracing::warn!(
                    "Asynchronous auto-commit of offsets failed for group {}: {e}",
                    group.group_id()
                );
                if e.code() == Some(FENCED_INSTANCE_ID) {
                    // Kafka's `asyncCommitFenced`: the next poll raises it.
                    group.async_commit_fenced();
                }
            }
        }
        Ok(())
    }

    /// The topics whose metadata the consumer needs, or None for every topic (a pattern
    /// subscription): the subscription, the assigned topics and, for a group leader, every
    /// topic of the group's subscription.
    fn metadata_topics(&self) -> Option<Vec<String>> {
        if self.pattern.is_some() {
            return None;
        }
        let mut topics = self.subscription.clone();
        topics.extend(self.assigned.iter().map(|a| a.topic.clone()));
        if let Some(snapshot) = self.group.as_ref().and_then(|g| g.assignment_snapshot()) {
            topics.extend(snapshot.keys().cloned());
        }
        topics.sort();
        topics.dedup();
        Some(topics)
    }

    /// Refreshes metadata when it is due, as Kafka's consumer `Metadata` does: every
    /// `metadata.max.age.ms`, and while a needed topic is unknown or has no leader after a
    /// backoff growing from `retry.backoff.ms` to `retry.backoff.max.ms`. Then acts on it: a
    /// pattern subscription takes the topics that match now, and a group leader whose
    /// assignment was computed from other partition counts asks to rejoin (Kafka's
    /// "assignment metadata has changed"). Failures are only logged; the next poll retries.
    ///
    /// A needed topic whose name is invalid (INVALID_TOPIC_EXCEPTION) or that the client may not
    /// read (TOPIC_AUTHORIZATION_FAILED) is an error, as Kafka's `Metadata.maybeThrowAnyException`
    /// raises `InvalidTopicException("Invalid topics: [..]")` /
    /// `TopicAuthorizationException("Not authorized to access topics: [..]")` from `poll`: waiting
    /// for such a topic would wait forever.
    async fn maintain_metadata(&mut self) -> Result<(), ClientError> {
        let now = Instant::now();
        if now < self.next_metadata_refresh {
            return Ok(());
        }
        let topics = self.metadata_topics();
        if topics.as_ref().is_some_and(|t| t.is_empty()) {
            self.schedule_metadata_refresh(now, false);
            return Ok(());
        }
        let allow_auto_create = topics.is_some() && self.config.allow_auto_create_topics;
        self.metadata_requests = self.metadata_requests.wrapping_add(1);
        let fresh = match self
            .cluster
            .refresh(topics.as_deref(), allow_auto_create)
            .await
        {
            Ok(f) => f,
            Err(e) => {
                tracing::debug!("metadata refresh failed: {e}");
                self.schedule_metadata_refresh(Instant::now(), true);
                return Ok(());
            }
        };
        let mut missing = Vec::new();
        let (mut invalid, mut unauthorized) = (Vec::new(), Vec::new());
        for name in topics.iter().flatten() {
            let code = fresh
                .topics
                .get(name)
                .map_or(UNKNOWN_TOPIC_OR_PARTITION, |t| t.error_code);
            if code != 0 {
                missing.push(format!("{name}={}", crate::error::error_name(code)));
            }
            match code {
                INVALID_TOPIC_EXCEPTION => invalid.push(name.as_str()),
                TOPIC_AUTHORIZATION_FAILED => unauthorized.push(name.as_str()),
                _ => {}
            }
        }
        if !missing.is_empty() {
            // Kafka 3.9's NetworkClient text, printed by the tools as Kafka's tools print it.
            tracing::warn!(
                target: crate::network_log::NETWORK_CLIENT,
                "[Consumer clientId={}, groupId={}] The metadata response from the cluster reported a recoverable issue with correlation id {} : {{{}}}",
                self.config.client_id,
                self.config.group_id.as_deref().unwrap_or("null"),
                self.metadata_requests,
                missing.join(", ")
            );
        }
        self.schedule_metadata_refresh(Instant::now(), !missing.is_empty());
        // Kafka's `Metadata.recoverableException`: unauthorized topics first, then invalid ones.
        if !unauthorized.is_empty() {
            return Err(ClientError::kafka(
                TOPIC_AUTHORIZATION_FAILED,
                Some(&format!(
                    "Not authorized to access topics: [{}]",
                    unauthorized.join(", ")
                )),
            ));
        }
        if !invalid.is_empty() {
            return Err(ClientError::kafka(
                INVALID_TOPIC_EXCEPTION,
                Some(&format!("Invalid topics: [{}]", invalid.join(", "))),
            ));
        }
        self.apply_metadata(&fresh);
        Ok(())
    }

    fn schedule_metadata_refresh(&mut self, now: Instant, retry: bool) {
        let wait = if retry {
            let base = Duration::from_millis(self.config.retry_backoff_ms.max(1));
            let cap = Duration::from_millis(
                self.config
                    .retry_backoff_max_ms
                    .max(self.config.retry_backoff_ms.max(1)),
            );
            self.metadata_backoff = if self.metadata_backoff.is_zero() {
                base
            } else {
                self.metadata_backoff.saturating_mul(2).min(cap)
            };
            self.metadata_backoff
        } else {
            self.metadata_backoff = Duration::ZERO;
            Duration::from_millis(self.config.metadata_max_age_ms)
        };
        self.next_metadata_refresh = crate::time::after(now, wait);
    }

    /// What a metadata refresh changes for the subscription (see `maintain_metadata`).
    fn apply_metadata(&mut self, fresh: &ClusterSnapshot) {
        if let Some(pattern) = &self.pattern {
            let matched: Vec<String> = fresh
                .topics
                .values()
                .filter(|t| t.error_code == 0)
                .filter(|t| !(t.internal && self.config.exclude_internal_topics))
                .filter(|t| pattern.is_match(&t.name))
                .map(|t| t.name.clone())
                .collect();
            if matched != self.subscription {
                if let Some(g) = &self.group {
                    tracing::info!(
                        "[Consumer clientId={}, groupId={}] Requesting to re-join the group and trigger rebalance since the subscription has changed from [{}] to [{}]",
                        self.config.client_id,
                        g.group_id(),
                        self.subscription.join(", "),
                        matched.join(", ")
                    );
                    g.request_rejoin(0);
                }
                self.subscription = matched;
            }
        }
        let Some(group) = &self.group else {
            return;
        };
        let Some(assigned_from) = group.assignment_snapshot() else {
            return;
        };
        if group.needs_join() {
            return;
        }
        let now = fresh.partition_counts(assigned_from.keys());
        if &now != assigned_from {
            let show = |m: &BTreeMap<String, i32>| {
                m.iter()
                    .map(|(t, n)| format!("{t}={n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            tracing::info!(
                "[Consumer clientId={}, groupId={}] Requesting to re-join the group and trigger rebalance since the assignment metadata has changed from {{{}}} to {{{}}}",
                self.config.client_id,
                group.group_id(),
                show(assigned_from),
                show(&now)
            );
            group.request_rejoin(0);
        }
    }

    /// Removes up to `max.poll.records` buffered records and moves the consumed positions past
    /// them (once per partition, not per record).
    fn drain_buffered(&mut self) -> Vec<ConsumerRecord> {
        let assigned = &mut self.assigned;
        self.buffered.drain(
            self.config.max_poll_records,
            |topic, partition, next, done| {
                if let Some(a) = assigned
                    .iter_mut()
                    .find(|a| a.partition == partition && a.topic == topic)
                {
                    a.consumed = Some(next);
                    if done {
                        a.buffered = false;
                        // Everything fetched was handed out: control batches fetched after the
                        // last record (a transaction's marker) are consumed too.
                        if let Some(p) = a.position {
                            a.consumed = Some(next.max(p));
                        }
                    }
                }
            },
        )
    }

    fn reset_start(&self) -> StartOffset {
        match self.config.auto_offset_reset {
            OffsetReset::Earliest => StartOffset::Earliest,
            // `None` surfaces as an error when a reset is actually needed (see poll).
            OffsetReset::Latest | OffsetReset::None => StartOffset::Latest,
        }
    }

    fn assigned_topics(&self) -> Vec<String> {
        let mut topics: Vec<String> = self.assigned.iter().map(|a| a.topic.clone()).collect();
        topics.sort();
        topics.dedup();
        topics
    }

    /// Returns the next records (possibly none once `timeout` has passed), in offset order per
    /// partition, at most `max.poll.records` at a time.
    pub async fn poll(&mut self, timeout: Duration) -> Result<Vec<ConsumerRecord>, ClientError> {
        let deadline = crate::time::after(Instant::now(), timeout);
        loop {
            self.maintain_metadata().await?;
            match self.maintain_group().await {
                Ok(()) => {}
                Err(e) if e.is_retriable() => {
                    // The coordinator moved or is loading, a connection dropped: Kafka's
                    // consumer keeps trying within poll, and so do we.
                    tracing::debug!("group coordination: {e}");
                    let now = Instant::now();
                    if now >= deadline {
                        return Ok(Vec::new());
                    }
                    let wake = crate::time::after(now, self.backoff()).min(deadline);
                    tokio::time::sleep_until(wake.into()).await;
                    continue;
                }
                Err(e) => return Err(e),
            }
            // Answers that came in since the last look.
            let mut progressed = true;
            while let Some(joined) = self.fetches.try_join_next() {
                progressed &= self.complete_fetch(joined).await?;
            }
            if !self.buffered.is_empty() {
                let records = self.drain_buffered();
                // Kafka's fetch pipelining: the next fetches go out now, for the partitions with
                // nothing left buffered, so their data is on its way while the caller works
                // through these records.
                self.send_fetches();
                return Ok(records);
            }
            if self.assigned.is_empty() {
                if self.group.is_none() {
                    tokio::time::sleep_until(deadline.into()).await;
                    return Ok(Vec::new());
                }
                // An idle group member: wake up now and then to notice a rebalance.
                let now = Instant::now();
                if now >= deadline {
                    return Ok(Vec::new());
                }
                let wake = crate::time::after(now, Duration::from_millis(100)).min(deadline);
                tokio::time::sleep_until(wake.into()).await;
                continue;
            }
            match self.resolve_positions().await {
                Ok(()) => {}
                Err(e) if e.is_retriable() => {
                    tracing::debug!("resolving positions: {e}");
                    progressed = false;
                }
                Err(e) => return Err(e),
            }
            if !self.send_fetches() {
                // Some partition has no known leader.
                progressed = false;
                let _ = self
                    .cluster
                    .refresh(
                        Some(&self.assigned_topics()),
                        self.config.allow_auto_create_topics,
                    )
                    .await;
            }
            if !self.fetches.is_empty() {
                match tokio::time::timeout_at(deadline.into(), self.fetches.join_next()).await {
                    Ok(Some(joined)) => progressed &= self.complete_fetch(joined).await?,
                    Ok(None) => {}
                    // The fetch stays in flight; the next poll takes its answer.
                    Err(_) => return Ok(Vec::new()),
                }
                if !self.buffered.is_empty() {
                    continue;
                }
            } else {
                progressed = false;
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(Vec::new());
            }
            if !progressed {
                // Nothing was fetched because of an error: wait a little before trying again.
                let wake = crate::time::after(now, self.backoff()).min(deadline);
                tokio::time::sleep_until(wake.into()).await;
            }
        }
    }

    /// Looks up positions for partitions that have none (ListOffsets to each leader).
    async fn resolve_positions(&mut self) -> Result<(), ClientError> {
        let pending: Vec<usize> = (0..self.assigned.len())
            .filter(|i| self.assigned[*i].position.is_none())
            .collect();
        if pending.is_empty() {
            return Ok(());
        }
        let undefined: Vec<String> = pending
            .iter()
            .map(|i| &self.assigned[*i])
            .filter(|a| a.undefined_fails)
            .map(|a| format!("{}-{}", a.topic, a.partition))
            .collect();
        if !undefined.is_empty() {
            return Err(ClientError::InvalidArgument(format!(
                "Undefined offset with no reset policy for partitions: [{}]",
                undefined.join(", ")
            )));
        }
        let snapshot = self.cluster.snapshot();
        let mut by_leader: BTreeMap<i32, Vec<usize>> = BTreeMap::new();
        let mut missing_leader = false;
        for i in pending {
            let a = &self.assigned[i];
            match snapshot.leader_of(&a.topic, a.partition) {
                Some(l) => by_leader.entry(l).or_default().push(i),
                None => missing_leader = true,
            }
        }
        if missing_leader {
            self.cluster
                .refresh(
                    Some(&self.assigned_topics()),
                    self.config.allow_auto_create_topics,
                )
                .await?;
        }
        for (leader, indexes) in by_leader {
            let mut topics: BTreeMap<String, Vec<ListOffsetsPartition>> = BTreeMap::new();
            for &i in &indexes {
                let a = &self.assigned[i];
                let timestamp = match a.reset {
                    StartOffset::Earliest => EARLIEST_TIMESTAMP,
                    _ => LATEST_TIMESTAMP,
                };
                topics.entry(a.topic.clone()).or_default().push(
                    ListOffsetsPartition::default()
                        .with_partition_index(a.partition)
                        .with_current_leader_epoch(-1)
                        .with_timestamp(timestamp),
                );
            }
            let request = ListOffsetsRequest::default()
                .with_replica_id(BrokerId(-1))
                .with_isolation_level(self.config.isolation_level)
                .with_topics(
                    topics
                        .into_iter()
                        .map(|(name, partitions)| {
                            ListOffsetsTopic::default()
                                .with_name(TopicName(StrBytes::from_string(name)))
                                .with_partitions(partitions)
                        })
                        .collect(),
                );
            let conn = self.cluster.connection(leader).await?;
            let response = conn.send(request).await?;
            for topic in response.topics {
                for p in topic.partitions {
                    let Some(a) = self
                        .assigned
                        .iter_mut()
                        .find(|a| *a.topic == *topic.name.0 && a.partition == p.partition_index)
                    else {
                        continue;
                    };
                    if p.error_code != 0 {
                        if invalidates_metadata(p.error_code) {
                            self.cluster
                                .refresh(
                                    Some(std::slice::from_ref(&a.topic)),
                                    self.config.allow_auto_create_topics,
                                )
                                .await?;
                        }
                        return Err(ClientError::kafka(p.error_code, None));
                    }
                    a.position = Some(p.offset);
                    a.consumed = Some(p.offset);
                }
            }
        }
        Ok(())
    }

    /// Sends a fetch to every leader that has none in flight, for its partitions with a
    /// position, nothing buffered and no fetch in flight (Kafka's `Fetcher.prepareFetchRequests`).
    /// Returns false if some such partition has no known leader.
    fn send_fetches(&mut self) -> bool {
        let snapshot = self.cluster.snapshot();
        let mut by_leader: BTreeMap<i32, Vec<usize>> = BTreeMap::new();
        let mut all_led = true;
        for (i, a) in self.assigned.iter().enumerate() {
            if a.position.is_none() || a.fetching || a.buffered {
                continue;
            }
            match snapshot.leader_of(&a.topic, a.partition) {
                Some(l) if !self.fetching_leaders.contains(&l) => {
                    by_leader.entry(l).or_default().push(i)
                }
                Some(_) => {}
                None => all_led = false,
            }
        }
        for (leader, indexes) in by_leader {
            // Always the configured wait: a fetch outlives the poll that sent it.
            let request = self.fetch_request(&indexes, self.config.fetch_max_wait_ms.max(0));
            let partitions: Vec<(String, i32, i64)> = indexes
                .iter()
                .map(|&i| {
                    let a = &mut self.assigned[i];
                    a.fetching = true;
                    (a.topic.clone(), a.partition, a.position.unwrap_or(0))
                })
                .collect();
            self.fetching_leaders.insert(leader);
            let cluster = self.cluster.clone();
            self.fetches.spawn(async move {
                let result = async {
                    let conn: Connection = cluster.connection(leader).await?;
                    conn.send(request).await
                }
                .await;
                FetchOutcome {
                    leader,
                    partitions,
                    result,
                }
            });
        }
        all_led
    }

    /// Takes in one fetch's answer: buffers its records, advances positions, refreshes metadata
    /// after leadership errors. Returns whether it came back without an error.
    async fn complete_fetch(
        &mut self,
        joined: Result<FetchOutcome, tokio::task::JoinError>,
    ) -> Result<bool, ClientError> {
        let Ok(outcome) = joined else {
            // A fetch task that did not finish (it cannot panic; aborts drop the whole set):
            // start over with nothing in flight once the others are in.
            if self.fetches.is_empty() {
                self.fetching_leaders.clear();
                for a in &mut self.assigned {
                    a.fetching = false;
                }
            }
            return Ok(false);
        };
        let FetchOutcome {
            leader,
            partitions,
            result,
        } = outcome;
        self.fetching_leaders.remove(&leader);
        let index = self.assigned_indexes(&partitions);
        for i in index.iter().flatten() {
            self.assigned[*i].fetching = false;
        }
        let refresh = match result {
            Ok(response) => self.apply_fetch(&partitions, &index, response)?,
            Err(e) if e.is_retriable() => {
                tracing::debug!("fetch failed: {e}");
                true
            }
            Err(e) => return Err(e),
        };
        if refresh {
            let _ = self
                .cluster
                .refresh(
                    Some(&self.assigned_topics()),
                    self.config.allow_auto_create_topics,
                )
                .await;
        }
        Ok(!refresh)
    }

    /// The index in `assigned` of each (topic, partition, _), if still assigned.
    fn assigned_indexes(&self, partitions: &[(String, i32, i64)]) -> Vec<Option<usize>> {
        let by_name: HashMap<(&str, i32), usize> = self
            .assigned
            .iter()
            .enumerate()
            .map(|(i, a)| ((a.topic.as_str(), a.partition), i))
            .collect();
        partitions
            .iter()
            .map(|(t, p, _)| by_name.get(&(t.as_str(), *p)).copied())
            .collect()
    }

    fn fetch_request(&self, indexes: &[usize], max_wait_ms: i32) -> FetchRequest {
        let mut topics: BTreeMap<String, Vec<FetchPartition>> = BTreeMap::new();
        for &i in indexes {
            let a = &self.assigned[i];
            topics.entry(a.topic.clone()).or_default().push(
                FetchPartition::default()
                    .with_partition(a.partition)
                    .with_current_leader_epoch(-1)
                    .with_fetch_offset(a.position.unwrap_or(0))
                    .with_log_start_offset(-1)
                    .with_partition_max_bytes(a.max_bytes),
            );
        }
        FetchRequest::default()
            .with_replica_id(BrokerId(-1))
            .with_max_wait_ms(max_wait_ms)
            .with_min_bytes(self.config.fetch_min_bytes)
            .with_max_bytes(self.config.fetch_max_bytes)
            .with_isolation_level(self.config.isolation_level)
            // Sessionless full fetches (KIP-227: id 0, epoch -1).
            .with_session_id(0)
            .with_session_epoch(-1)
            .with_topics(
                topics
                    .into_iter()
                    .map(|(name, partitions)| {
                        FetchTopic::default()
                            .with_topic(TopicName(StrBytes::from_string(name)))
                            .with_partitions(partitions)
                    })
                    .collect(),
            )
    }

    /// Buffers the records of one fetch response and advances positions. `partitions` are the
    /// (topic, partition, fetch offset) the request asked for and `index` their places in
    /// `assigned`; data for a partition no longer assigned, or whose position moved since the
    /// request (a `seek`), is dropped. Returns whether metadata needs a refresh.
    fn apply_fetch(
        &mut self,
        partitions: &[(String, i32, i64)],
        index: &[Option<usize>],
        response: FetchResponse,
    ) -> Result<bool, ClientError> {
        if response.error_code != 0 {
            let err = ClientError::kafka(response.error_code, None);
            return if err.is_retriable() {
                Ok(true)
            } else {
                Err(err)
            };
        }
        let mut needs_refresh = false;
        let mut data: HashMap<(String, i32), _> = HashMap::new();
        for topic in response.responses {
            for p in topic.partitions {
                data.insert((topic.topic.0.to_string(), p.partition_index), p);
            }
        }
        // Walk in request order so records come out grouped by partition, in offset order.
        for ((topic, partition, fetch_offset), i) in partitions.iter().zip(index) {
            let (topic, partition) = (topic.as_str(), *partition);
            let Some(p) = data.remove(&(topic.to_string(), partition)) else {
                continue;
            };
            let Some(i) = *i else {
                continue;
            };
            if self.assigned[i].position != Some(*fetch_offset) {
                tracing::debug!(
                    "Discarding stale fetch response for partition {topic}-{partition} since its offset {fetch_offset} does not match the expected offset {:?}",
                    self.assigned[i].position
                );
                continue;
            }
            match p.error_code {
                0 => {
                    let position = *fetch_offset;
                    let had_data = p.records.as_ref().is_some_and(|r| !r.is_empty());
                    // read_committed: the broker sent data up to the last stable offset and
                    // the aborted transactions overlapping it (none is an empty list).
                    let aborted: Option<Vec<fetch::AbortedTransaction>> =
                        (self.config.isolation_level == 1).then(|| {
                            p.aborted_transactions
                                .iter()
                                .flatten()
                                .map(|a| fetch::AbortedTransaction {
                                    producer_id: a.producer_id.0,
                                    first_offset: a.first_offset,
                                })
                                .collect()
                        });
                    let mut records = VecDeque::new();
                    let next = fetch::for_each_record_after(
                        p.records,
                        position,
                        aborted.as_deref(),
                        |r| {
                            records.push_back(ConsumerRecord {
                                topic: topic.to_string(),
                                partition,
                                offset: r.offset,
                                timestamp: r.timestamp,
                                timestamp_type: match r.timestamp_type {
                                    kafka_protocol::records::TimestampType::LogAppend => {
                                        TimestampType::LogAppendTime
                                    }
                                    kafka_protocol::records::TimestampType::Creation => {
                                        TimestampType::CreateTime
                                    }
                                },
                                key: r.key,
                                value: r.value,
                                headers: r.headers,
                            })
                        },
                    )?;
                    let a = &mut self.assigned[i];
                    a.position = Some(next);
                    if records.is_empty() && !a.buffered {
                        // Only control batches or aborted records: nothing to hand out, and
                        // nothing handed out is behind them, so the consumed position (what
                        // `position()` and commits report) moves past them too, as Kafka's.
                        a.consumed = Some(next);
                    }
                    if had_data && next == position {
                        a.max_bytes = a.max_bytes.saturating_mul(2);
                        tracing::warn!(
                            "fetch of {topic}-{partition} at offset {position} returned no complete batch; retrying with {} bytes",
                            a.max_bytes
                        );
                    } else if next > position {
                        a.max_bytes = self.config.max_partition_fetch_bytes.max(1);
                    }
                    if !records.is_empty() {
                        a.buffered = true;
                        self.buffered.push(topic, partition, records);
                    }
                }
                OFFSET_OUT_OF_RANGE => {
                    let position = fetch_position_text(
                        &self.cluster.snapshot(),
                        topic,
                        partition,
                        self.assigned[i].position.unwrap_or(-1),
                    );
                    if self.config.auto_offset_reset == OffsetReset::None {
                        return Err(ClientError::kafka(
                            OFFSET_OUT_OF_RANGE,
                            Some(&format!(
                                "Fetch position {position} is out of range for partition {topic}-{partition}"
                            )),
                        ));
                    }
                    tracing::info!(
                        "Fetch position {position} is out of range for partition {topic}-{partition}, resetting offset"
                    );
                    let reset = self.reset_start();
                    let a = &mut self.assigned[i];
                    a.position = None;
                    a.consumed = None;
                    a.reset = reset;
                }
                code if is_retriable(code) || invalidates_metadata(code) => {
                    needs_refresh = true;
                }
                code => return Err(ClientError::kafka(code, None)),
            }
        }
        Ok(needs_refresh)
    }
}

/// OffsetFetch, retried while the coordinator is loading or moving (a few times; the caller
/// rejoins if it still fails).
async fn fetch_offsets_retrying(
    group: &GroupMembership,
    partitions: &[(String, i32)],
    backoff: Duration,
) -> Result<BTreeMap<(String, i32), CommittedOffset>, ClientError> {
    let mut attempts = 0;
    loop {
        match group.fetch_offsets(partitions).await {
            Ok(c) => return Ok(c),
            Err(e) if e.is_retriable() && attempts < 20 => {
                attempts += 1;
                tracing::debug!("fetching committed offsets: {e}");
                tokio::time::sleep(backoff).await;
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod commit_tests;
#[cfg(test)]
mod rebalance_tests;
#[cfg(test)]
mod tests;
