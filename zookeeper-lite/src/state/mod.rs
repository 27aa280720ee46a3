//! The cluster state machine: broker sessions, topics and partitions, leader election.
//!
//! It is pure: time comes in as an `Instant` argument and nothing here touches disk. Every change
//! to topics is first *planned* (validated, returned as [`Record`]s without touching `self`), then
//! journaled by the caller, then [`State::apply`]d; so a failed journal write leaves the state as
//! it was, and replaying the journal uses the very same `apply`. Broker sessions are journaled too
//! (as ZooKeeper's survive a restart of the ensemble), their heartbeats are not; their effects on
//! partitions (leaders, ISR) are records like any other.
//!
//! Consumer groups' committed offsets live here too (Kafka keeps them in `__consumer_offsets`;
//! we keep them where the seed says ZooKeeper kept them), with the highest generation each group
//! committed from, which fences commits from stale members.
//!
//! Split by concern: `sessions` (broker registration, heartbeats, expiry), `topics` (topics,
//! new partitions, topic name and config rules), `placement` (Kafka's replica placement, pure),
//! `reassignments` (moving partitions between brokers, KIP-455), `offsets` (group offsets); this
//! module holds the durable part, the journal records and the combined [`State`].

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

mod offsets;
mod placement;
mod reassignments;
mod sessions;
#[cfg(test)]
mod tests;
mod topics;

pub use sessions::{MAX_SESSION_TIMEOUT_MS, RESTART_GRACE};
pub use topics::{
    new_topic_id, validate_topic_name, MAX_PARTITIONS_PER_TOPIC, MAX_PARTITIONS_TOTAL,
};

use crate::protocol::{
    BrokerId, BrokerInfo, ClusterMetadata, CommittedOffset, ElectionResult, ElectionType,
    LeaderEpoch, NewTopic, PartitionInfo, PartitionResult, ServerError, SessionId, TopicInfo,
    TopicPartition, ZkErrorCode, PRODUCER_ID_BLOCK_SIZE,
};

/// What survives a restart: the snapshot's content, and what journal records rebuild.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct Durable {
    /// Incremented on every start; keeps versions and session ids increasing across restarts.
    pub generation: u64,
    /// Largest session timeout a broker asked for; sizes the grace period after a restart.
    #[serde(default)]
    pub max_session_timeout_ms: u64,
    pub topics: BTreeMap<String, TopicInfo>,
    /// Committed offsets by group id. Absent from snapshots written before groups existed.
    #[serde(default)]
    pub groups: BTreeMap<String, GroupOffsets>,
    /// The cluster id (Kafka's `/cluster/id` znode): made once, on the first start, by
    /// [`new_cluster_id`], and kept for ever after. `None` only before that first start
    /// completes (and in snapshots written before cluster ids existed, which get one then).
    #[serde(default)]
    pub cluster_id: Option<String>,
    /// Dynamic broker configs by entity (`""` = cluster default, else a broker id). Absent from
    /// snapshots written before dynamic broker configs existed.
    #[serde(default)]
    pub broker_configs: BTreeMap<String, BTreeMap<String, String>>,
    /// Live broker sessions (ZooKeeper's sessions survive a restart of the ensemble): after a
    /// restart each gets a whole timeout from the start to heartbeat again, so brokers carry on
    /// without re-registering and no leader or ISR moves. Absent from older snapshots.
    #[serde(default)]
    pub sessions: BTreeMap<BrokerId, SessionRecord>,
    /// The first producer id no broker has been given (Kafka's `/latest_producer_id_block`
    /// names the last block instead). 0 in snapshots written before blocks were allocated:
    /// brokers then made ids from their start-up time, all far above any block's.
    #[serde(default)]
    pub next_producer_id: i64,
}

/// A broker session as journaled: who holds it and its timeout (heartbeats are not journaled).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    pub broker: BrokerInfo,
    pub session: SessionId,
    pub timeout_ms: u64,
}

/// What is kept of one committed offset; topic and partition are its keys.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct OffsetValue {
    pub offset: i64,
    pub leader_epoch: i32,
    #[serde(default)]
    pub metadata: Option<String>,
    pub commit_timestamp_ms: i64,
}

/// One group's committed offsets and the generation that fences its commits.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct GroupOffsets {
    /// Highest generation a fenced commit came from; -1 while only admin commits were made.
    /// It only goes up (until the group is deleted).
    pub generation: i32,
    /// topic -> partition -> offset. JSON keeps the partition keys as strings.
    #[serde(default)]
    pub offsets: BTreeMap<String, BTreeMap<i32, OffsetValue>>,
}

impl Default for GroupOffsets {
    fn default() -> Self {
        GroupOffsets {
            generation: -1,
            offsets: BTreeMap::new(),
        }
    }
}

/// One journaled change. Each states absolute state (not a delta), so replaying a record twice
/// is harmless: a crash between writing the snapshot and emptying the journal replays it again.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    PutTopic {
        topic: TopicInfo,
    },
    DeleteTopic {
        name: String,
    },
    SessionTimeoutSeen {
        ms: u64,
    },
    /// Stores these offsets (absolute values) and raises the group's generation to
    /// `generation` if that is higher (a max, so replaying it again changes nothing).
    PutOffsets {
        group: String,
        generation: i32,
        offsets: Vec<CommittedOffset>,
    },
    DeleteOffsets {
        group: String,
        partitions: Vec<TopicPartition>,
    },
    DeleteGroupOffsets {
        group: String,
    },
    /// The whole dynamic config set of a broker entity; an empty set removes the entity.
    PutBrokerConfigs {
        entity: String,
        configs: BTreeMap<String, String>,
    },
    /// A broker's session began.
    PutSession {
        session: SessionRecord,
    },
    /// A broker's session ended (expired or unregistered).
    DeleteSession {
        broker_id: BrokerId,
    },
    /// Producer ids `first` to `first + count - 1` went to `broker_id`; the next block starts
    /// after them (a max, so replaying it again changes nothing).
    PutProducerIdBlock {
        broker_id: BrokerId,
        first: i64,
        count: i32,
    },
}

impl Record {
    /// Whether the record changes what `metadata` answers (brokers refetch it when the version
    /// moves; offset commits are frequent and must not make every broker do so).
    pub fn changes_metadata(&self) -> bool {
        matches!(
            self,
            Record::PutTopic { .. }
                | Record::DeleteTopic { .. }
                | Record::SessionTimeoutSeen { .. }
                | Record::PutBrokerConfigs { .. }
                | Record::PutSession { .. }
                | Record::DeleteSession { .. }
        )
    }
}

impl Durable {
    pub fn apply(&mut self, record: &Record) {
        match record {
            Record::PutTopic { topic } => {
                self.topics.insert(topic.name.clone(), topic.clone());
            }
            Record::DeleteTopic { name } => {
                self.topics.remove(name);
                // A topic created again under this name is a new topic: its partitions start
                // with no committed offsets. Groups keep their generation.
                for g in self.groups.values_mut() {
                    g.offsets.remove(name);
                }
            }
            Record::SessionTimeoutSeen { ms } => {
                self.max_session_timeout_ms = self.max_session_timeout_ms.max(*ms);
            }
            Record::PutOffsets {
                group,
                generation,
                offsets,
            } => {
                let g = self.groups.entry(group.clone()).or_default();
                g.generation = g.generation.max(*generation);
                for o in offsets {
                    g.offsets.entry(o.topic.clone()).or_default().insert(
                        o.partition,
                        OffsetValue {
                            offset: o.offset,
                            leader_epoch: o.leader_epoch.get(),
                            metadata: o.metadata.clone(),
                            commit_timestamp_ms: o.commit_timestamp_ms,
                        },
                    );
                }
            }
            Record::DeleteOffsets { group, partitions } => {
                if let Some(g) = self.groups.get_mut(group) {
                    for tp in partitions {
                        if let Some(t) = g.offsets.get_mut(&tp.topic) {
                            t.remove(&tp.partition);
                            if t.is_empty() {
                                g.offsets.remove(&tp.topic);
                            }
                        }
                    }
                }
            }
            Record::DeleteGroupOffsets { group } => {
                self.groups.remove(group);
            }
            Record::PutBrokerConfigs { entity, configs } => {
                if configs.is_empty() {
                    self.broker_configs.remove(entity);
                } else {
                    self.broker_configs.insert(entity.clone(), configs.clone());
                }
            }
            Record::PutSession { session } => {
                self.sessions.insert(session.broker.id, session.clone());
            }
            Record::DeleteSession { broker_id } => {
                self.sessions.remove(broker_id);
            }
            Record::PutProducerIdBlock { first, count, .. } => {
                let end = first.saturating_add(i64::from(*count));
                self.next_producer_id = self.next_producer_id.max(end);
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct State {
    durable: Durable,
    /// When each live session (`durable.sessions`) was last heard from.
    last_seen: BTreeMap<BrokerId, Instant>,
    /// Brokers in controlled shutdown: live, but never elected or added to an ISR again until
    /// they register anew.
    shutting_down: BTreeSet<BrokerId>,
    /// Brokers named in partitions at start-up that have not re-registered yet, with the instant
    /// their grace ends. Until then they count as up, so known leaders stay as they were.
    absent: BTreeMap<BrokerId, Instant>,
    version: u64,
    next_session: SessionId,
    /// Kafka's `fixedStartIndex` for placing a new topic's replicas; `None` (Kafka's -1) draws
    /// the start index and the replica shift at random, as Kafka does. This crate's unit tests
    /// start at 0, as Kafka's own placement tests do, so that tests written before placement was
    /// random (the controller's) keep fixed expectations; placement tests set it as they need.
    placement_start: Option<usize>,
}

fn err(code: ZkErrorCode, message: impl Into<String>) -> ServerError {
    ServerError::new(code, message)
}

impl State {
    pub fn new(durable: Durable, now: Instant) -> State {
        let grace =
            Duration::from_millis(durable.max_session_timeout_ms.min(MAX_SESSION_TIMEOUT_MS))
                .max(RESTART_GRACE);
        let deadline = now.checked_add(grace).unwrap_or(now);
        // Sessions live on: each has a whole timeout from now to heartbeat again.
        let last_seen: BTreeMap<BrokerId, Instant> =
            durable.sessions.keys().map(|&b| (b, now)).collect();
        // Brokers named in partitions without a session (a journal from before sessions were
        // kept) get the grace period to come back before they count as gone.
        let mut absent = BTreeMap::new();
        for p in durable.topics.values().flat_map(|t| &t.partitions) {
            for &b in p.isr.iter().chain([&p.leader]) {
                if !b.is_none() && !last_seen.contains_key(&b) {
                    absent.insert(b, deadline);
                }
            }
        }
        // Low 32 bits count changes within one run; the generation makes them grow across runs.
        let base = durable.generation << 32;
        State {
            durable,
            last_seen,
            shutting_down: BTreeSet::new(),
            absent,
            version: base,
            next_session: base + 1,
            placement_start: cfg!(test).then_some(0),
        }
    }

    pub fn durable(&self) -> &Durable {
        &self.durable
    }

    pub fn version(&self) -> u64 {
        self.version
    }

    fn is_up(&self, b: BrokerId) -> bool {
        self.durable.sessions.contains_key(&b) || self.absent.contains_key(&b)
    }

    /// Whether `b` may lead or join an ISR: up, and not in controlled shutdown.
    fn is_eligible(&self, b: BrokerId) -> bool {
        self.is_up(b) && !self.shutting_down.contains(&b)
    }

    pub fn metadata(&self) -> ClusterMetadata {
        ClusterMetadata {
            version: self.version,
            cluster_id: self.durable.cluster_id.clone().unwrap_or_default(),
            brokers: self
                .durable
                .sessions
                .values()
                .map(|s| s.broker.clone())
                .collect(),
            topics: self.durable.topics.clone(),
            broker_configs: self.durable.broker_configs.clone(),
        }
    }

    /// Applies a journaled record.
    pub fn apply(&mut self, record: &Record) {
        self.durable.apply(record);
        if record.changes_metadata() {
            self.version += 1;
        }
    }

    /// Runs `change` over a copy of every partition (with its topic's config overrides); returns
    /// a PutTopic for each changed topic. A partition whose leader or ISR changed gets its
    /// partition epoch bumped here.
    fn plan_partitions(
        &self,
        mut change: impl FnMut(&BTreeMap<String, String>, &mut PartitionInfo) -> bool,
    ) -> Vec<Record> {
        let mut out = Vec::new();
        for t in self.durable.topics.values() {
            let mut topic = t.clone();
            let mut changed = false;
            for p in &mut topic.partitions {
                let before = (p.leader, p.isr.clone());
                if change(&t.configs, p) {
                    changed = true;
                    if before != (p.leader, p.isr.clone()) {
                        p.partition_epoch = p.partition_epoch.wrapping_add(1);
                    }
                }
            }
            if changed {
                out.push(Record::PutTopic { topic });
            }
        }
        out
    }
}

impl State {
    /// Kafka's AllocateProducerIds (`ProducerIdControlManager.generateNextProducerId`): the next
    /// block of [`PRODUCER_ID_BLOCK_SIZE`] ids for the broker holding `session`, as the record
    /// to journal, the block's first id and its size. `SessionExpired` for a session it does not
    /// hold; `Internal` once the ids would pass `i64::MAX`, with Kafka's text.
    pub fn plan_allocate_producer_ids(
        &self,
        broker_id: BrokerId,
        session: SessionId,
    ) -> Result<(Record, i64, i32), ServerError> {
        self.check_session(broker_id, session)?;
        let first = self.durable.next_producer_id.max(0);
        let count = PRODUCER_ID_BLOCK_SIZE;
        if first > i64::MAX - i64::from(count) {
            return Err(err(
                ZkErrorCode::Internal,
                "Exhausted all producerIds as the next block's end producerId has exceeded \
                 the int64 type limit",
            ));
        }
        let record = Record::PutProducerIdBlock {
            broker_id,
            first,
            count,
        };
        Ok((record, first, count))
    }
}

fn join(ids: &[BrokerId]) -> String {
    ids.iter()
        .map(BrokerId::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn unknown_topic(name: &str) -> ServerError {
    err(
        ZkErrorCode::UnknownTopic,
        format!("The topic '{name}' does not exist."),
    )
}

/// A new cluster id as Kafka makes one (`CoreUtils.generateUuidAsBase64`, i.e. `Uuid.randomUuid()
/// .toString()`): 16 random bytes of a version-4 UUID in URL-safe base64 without padding, 22
/// characters, never starting with `-` (Kafka draws again so that ids do not look like options
/// on a command line).
pub fn new_cluster_id() -> String {
    use base64::Engine as _;
    loop {
        let id = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(uuid::Uuid::new_v4().as_bytes());
        if !id.starts_with('-') {
            return id;
        }
    }
}
