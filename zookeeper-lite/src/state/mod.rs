//! The cluster state machine: broker sessions, topics and partitions, leader election.
//!
//! It is pure: time comes in as an `Instant` argument and nothing here touches disk. Every change
//! to topics is first *planned* (validated, returned as [`Record`]s without touching `self`), then
//! journaled by the caller, then [`State::apply`]d; so a failed journal write leaves the state as
//! it was, and replaying the journal uses the very same `apply`. Broker sessions are ephemeral
//! (not journaled); their effects on partitions (leaders, ISR) are records like any other.
//!
//! Consumer groups' committed offsets live here too (Kafka keeps them in `__consumer_offsets`;
//! we keep them where the seed says ZooKeeper kept them), with the highest generation each group
//! committed from, which fences commits from stale members.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::protocol::{
    BrokerId, BrokerInfo, ClusterMetadata, CommittedOffset, NewTopic, PartitionInfo,
    PartitionResult, ServerError, SessionId, TopicInfo, TopicPartition, ZkErrorCode,
};

/// After a restart, brokers named in partitions get at least this long to re-register before
/// they are treated as expired (their sessions died with the old process).
pub const RESTART_GRACE: Duration = Duration::from_secs(30);
/// Session timeouts are bounded so that deadline arithmetic cannot overflow.
pub const MAX_SESSION_TIMEOUT_MS: u64 = 24 * 3600 * 1000;
/// Keeps one topic (and the metadata answer) far below the 16 MiB frame limit.
pub const MAX_PARTITIONS_PER_TOPIC: i32 = 10_000;
pub const MAX_PARTITIONS_TOTAL: usize = 100_000;
const MAX_TOPIC_NAME_LEN: usize = 249;

/// Topic configs Kafka 3.9 knows (LogConfig); anything else is refused like Kafka does.
pub const TOPIC_CONFIG_NAMES: &[&str] = &[
    "cleanup.policy",
    "compression.gzip.level",
    "compression.lz4.level",
    "compression.type",
    "compression.zstd.level",
    "delete.retention.ms",
    "file.delete.delay.ms",
    "flush.messages",
    "flush.ms",
    "follower.replication.throttled.replicas",
    "index.interval.bytes",
    "leader.replication.throttled.replicas",
    "local.retention.bytes",
    "local.retention.ms",
    "max.compaction.lag.ms",
    "max.message.bytes",
    "message.downconversion.enable",
    "message.format.version",
    "message.timestamp.after.max.ms",
    "message.timestamp.before.max.ms",
    "message.timestamp.difference.max.ms",
    "message.timestamp.type",
    "min.cleanable.dirty.ratio",
    "min.compaction.lag.ms",
    "min.insync.replicas",
    "preallocate",
    "remote.log.copy.disable",
    "remote.log.delete.on.disable",
    "remote.storage.enable",
    "retention.bytes",
    "retention.ms",
    "segment.bytes",
    "segment.index.bytes",
    "segment.jitter.ms",
    "segment.ms",
    "unclean.leader.election.enable",
];

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
                            leader_epoch: o.leader_epoch,
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
        }
    }
}

#[derive(Debug, Clone)]
struct Session {
    info: BrokerInfo,
    id: SessionId,
    timeout: Duration,
    last_seen: Instant,
}

#[derive(Debug, Clone)]
pub struct State {
    durable: Durable,
    sessions: BTreeMap<BrokerId, Session>,
    /// Brokers named in partitions at start-up that have not re-registered yet, with the instant
    /// their grace ends. Until then they count as up, so known leaders stay as they were.
    absent: BTreeMap<BrokerId, Instant>,
    version: u64,
    next_session: SessionId,
}

fn err(code: ZkErrorCode, message: impl Into<String>) -> ServerError {
    ServerError::new(code, message)
}

/// Kafka's `LogConfig.validateNames`: every name must be a topic config Kafka knows.
fn check_topic_config_names(configs: &BTreeMap<String, String>) -> Result<(), ServerError> {
    match configs
        .keys()
        .find(|k| !TOPIC_CONFIG_NAMES.contains(&k.as_str()))
    {
        Some(key) => Err(err(
            ZkErrorCode::InvalidConfig,
            format!("Unknown topic config name: {key}"),
        )),
        None => Ok(()),
    }
}

impl State {
    pub fn new(durable: Durable, now: Instant) -> State {
        let grace =
            Duration::from_millis(durable.max_session_timeout_ms.min(MAX_SESSION_TIMEOUT_MS))
                .max(RESTART_GRACE);
        let deadline = now.checked_add(grace).unwrap_or(now);
        let mut absent = BTreeMap::new();
        for p in durable.topics.values().flat_map(|t| &t.partitions) {
            for &b in p.isr.iter().chain([&p.leader]) {
                if b >= 0 {
                    absent.insert(b, deadline);
                }
            }
        }
        // Low 32 bits count changes within one run; the generation makes them grow across runs.
        let base = durable.generation << 32;
        State {
            durable,
            sessions: BTreeMap::new(),
            absent,
            version: base,
            next_session: base + 1,
        }
    }

    pub fn durable(&self) -> &Durable {
        &self.durable
    }

    pub fn version(&self) -> u64 {
        self.version
    }

    fn is_up(&self, b: BrokerId) -> bool {
        self.sessions.contains_key(&b) || self.absent.contains_key(&b)
    }

    pub fn metadata(&self) -> ClusterMetadata {
        ClusterMetadata {
            version: self.version,
            cluster_id: self.durable.cluster_id.clone().unwrap_or_default(),
            brokers: self.sessions.values().map(|s| s.info.clone()).collect(),
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

    // ---- brokers ----------------------------------------------------------------------------

    /// Validates a registration and plans its effect on partitions: the broker rejoins the ISR
    /// of partitions it replicates and leads those that have no leader.
    pub fn plan_register(
        &self,
        broker: &BrokerInfo,
        session_timeout_ms: u64,
    ) -> Result<Vec<Record>, ServerError> {
        if broker.id < 0 {
            return Err(err(
                ZkErrorCode::InvalidRequest,
                format!("Broker id must not be negative: {}.", broker.id),
            ));
        }
        if !(1..=MAX_SESSION_TIMEOUT_MS).contains(&session_timeout_ms) {
            return Err(err(
                ZkErrorCode::InvalidRequest,
                format!(
                    "Session timeout {session_timeout_ms} ms is outside 1..={MAX_SESSION_TIMEOUT_MS} ms."
                ),
            ));
        }
        if let Some(s) = self.sessions.get(&broker.id) {
            return Err(err(
                ZkErrorCode::BrokerIdInUse,
                format!(
                    "Broker id {} is already registered by a live session {} of {}:{}.",
                    broker.id, s.id, s.info.host, s.info.port
                ),
            ));
        }
        let id = broker.id;
        let mut records = Vec::new();
        if session_timeout_ms > self.durable.max_session_timeout_ms {
            records.push(Record::SessionTimeoutSeen {
                ms: session_timeout_ms,
            });
        }
        records.extend(self.plan_partitions(|p| {
            if !p.replicas.contains(&id) {
                return false;
            }
            let mut changed = false;
            if !p.isr.contains(&id) {
                p.isr.push(id);
                let isr = std::mem::take(&mut p.isr);
                // Keep the ISR in replica order, as Kafka lists it.
                p.isr = p
                    .replicas
                    .iter()
                    .copied()
                    .filter(|r| isr.contains(r))
                    .collect();
                changed = true;
            }
            if p.leader < 0 {
                p.leader = id;
                p.leader_epoch += 1;
                changed = true;
            }
            changed
        }));
        Ok(records)
    }

    /// Starts the session of a broker whose [`State::plan_register`] records were applied.
    pub fn register(
        &mut self,
        broker: BrokerInfo,
        session_timeout_ms: u64,
        now: Instant,
    ) -> SessionId {
        let id = self.next_session;
        self.next_session += 1;
        self.absent.remove(&broker.id);
        self.sessions.insert(
            broker.id,
            Session {
                info: broker.clone(),
                id,
                timeout: Duration::from_millis(session_timeout_ms.min(MAX_SESSION_TIMEOUT_MS)),
                last_seen: now,
            },
        );
        self.version += 1;
        id
    }

    pub fn check_session(
        &self,
        broker_id: BrokerId,
        session: SessionId,
    ) -> Result<(), ServerError> {
        match self.sessions.get(&broker_id) {
            Some(s) if s.id == session => Ok(()),
            _ => Err(err(
                ZkErrorCode::SessionExpired,
                format!("Session {session} of broker {broker_id} has expired or is unknown."),
            )),
        }
    }

    /// Keeps a session alive; answers the metadata version so brokers notice changes.
    pub fn heartbeat(
        &mut self,
        broker_id: BrokerId,
        session: SessionId,
        now: Instant,
    ) -> Result<u64, ServerError> {
        self.check_session(broker_id, session)?;
        if let Some(s) = self.sessions.get_mut(&broker_id) {
            s.last_seen = now;
        }
        Ok(self.version)
    }

    /// Brokers whose session timed out, or who did not come back within the restart grace.
    pub fn expired(&self, now: Instant) -> Vec<BrokerId> {
        let mut out: BTreeSet<BrokerId> = self
            .sessions
            .iter()
            .filter(|(_, s)| now.saturating_duration_since(s.last_seen) > s.timeout)
            .map(|(&id, _)| id)
            .collect();
        out.extend(
            self.absent
                .iter()
                .filter(|(_, &d)| now >= d)
                .map(|(&id, _)| id),
        );
        out.into_iter().collect()
    }

    /// Plans a broker's departure: it leaves every ISR, and partitions it led get the next ISR
    /// member that is up as leader (or -1), with the leader epoch bumped.
    pub fn plan_remove_broker(&self, id: BrokerId) -> Vec<Record> {
        self.plan_partitions(|p| {
            if !p.isr.contains(&id) && p.leader != id {
                return false;
            }
            p.isr.retain(|&b| b != id);
            if p.leader == id {
                p.leader = p.isr.iter().copied().find(|&b| self.is_up(b)).unwrap_or(-1);
                p.leader_epoch += 1;
            }
            true
        })
    }

    /// Ends a broker's session (after its [`State::plan_remove_broker`] records were applied).
    pub fn remove_broker(&mut self, id: BrokerId) {
        self.sessions.remove(&id);
        self.absent.remove(&id);
        self.version += 1;
    }

    /// Runs `change` over a copy of every partition; returns a PutTopic for each changed topic.
    fn plan_partitions(&self, mut change: impl FnMut(&mut PartitionInfo) -> bool) -> Vec<Record> {
        let mut out = Vec::new();
        for t in self.durable.topics.values() {
            let mut topic = t.clone();
            let mut changed = false;
            for p in &mut topic.partitions {
                changed |= change(p);
            }
            if changed {
                out.push(Record::PutTopic { topic });
            }
        }
        out
    }

    // ---- topics -----------------------------------------------------------------------------

    /// Validates a creation and returns the topic it would create (id, placement, leaders).
    pub fn plan_create_topic(&self, t: &NewTopic) -> Result<TopicInfo, ServerError> {
        validate_topic_name(&t.name)?;
        if self.durable.topics.contains_key(&t.name) {
            return Err(err(
                ZkErrorCode::TopicAlreadyExists,
                format!("Topic '{}' already exists.", t.name),
            ));
        }
        // '.' and '_' collide in metric names, so Kafka refuses topics differing only there.
        let norm = |n: &str| n.replace('.', "_");
        let colliding: Vec<&str> = self
            .durable
            .topics
            .keys()
            .filter(|k| norm(k) == norm(&t.name))
            .map(String::as_str)
            .collect();
        if !colliding.is_empty() {
            return Err(err(
                ZkErrorCode::InvalidTopic,
                format!(
                    "Topic '{}' collides with existing topics: {}",
                    t.name,
                    colliding.join(", ")
                ),
            ));
        }
        check_topic_config_names(&t.configs)?;
        let assignment = match &t.replica_assignment {
            Some(a) => {
                if a.is_empty() {
                    return Err(err(
                        ZkErrorCode::InvalidPartitions,
                        "Number of partitions must be larger than 0.",
                    ));
                }
                self.check_partition_count(a.len() as i64, 0)?;
                self.validate_assignment(a, None)?;
                a.clone()
            }
            None => {
                if t.num_partitions <= 0 {
                    return Err(err(
                        ZkErrorCode::InvalidPartitions,
                        "Number of partitions must be larger than 0.",
                    ));
                }
                if t.replication_factor <= 0 {
                    return Err(err(
                        ZkErrorCode::InvalidReplicationFactor,
                        "Replication factor must be larger than 0.",
                    ));
                }
                self.check_partition_count(t.num_partitions as i64, 0)?;
                self.place(0, t.num_partitions as usize, t.replication_factor as usize)?
            }
        };
        Ok(TopicInfo {
            name: t.name.clone(),
            id: new_topic_id(),
            configs: t.configs.clone(),
            partitions: assignment
                .into_iter()
                .enumerate()
                .map(|(i, replicas)| self.new_partition(i as i32, replicas))
                .collect(),
        })
    }

    /// Validates replacing a topic's config overrides (names only: values are the broker's to
    /// check, as it knows their types) and returns the topic as it would be.
    pub fn plan_alter_topic_configs(
        &self,
        name: &str,
        configs: &BTreeMap<String, String>,
    ) -> Result<TopicInfo, ServerError> {
        let topic = self
            .durable
            .topics
            .get(name)
            .ok_or_else(|| unknown_topic(name))?;
        check_topic_config_names(configs)?;
        let mut topic = topic.clone();
        topic.configs = configs.clone();
        Ok(topic)
    }

    /// Validates replacing the dynamic configs of a broker entity: `""` (the cluster default) or
    /// a broker id (a non-negative integer; the broker need not be up, as in Kafka).
    pub fn plan_alter_broker_configs(
        &self,
        entity: &str,
        configs: &BTreeMap<String, String>,
    ) -> Result<Record, ServerError> {
        if !entity.is_empty() && !entity.parse::<i32>().is_ok_and(|id| id >= 0) {
            return Err(err(
                ZkErrorCode::InvalidRequest,
                format!("Broker id must be an integer, but it is: {entity}"),
            ));
        }
        Ok(Record::PutBrokerConfigs {
            entity: entity.to_string(),
            configs: configs.clone(),
        })
    }

    pub fn plan_delete_topic(&self, name: &str) -> Result<Record, ServerError> {
        if !self.durable.topics.contains_key(name) {
            return Err(unknown_topic(name));
        }
        Ok(Record::DeleteTopic {
            name: name.to_string(),
        })
    }

    /// Validates growing a topic to `total` partitions; `assignment` lists the replicas of the
    /// new partitions only, or of all of them (then the existing ones are left as they are).
    pub fn plan_create_partitions(
        &self,
        name: &str,
        total: i32,
        assignment: Option<&[Vec<BrokerId>]>,
    ) -> Result<TopicInfo, ServerError> {
        let topic = self
            .durable
            .topics
            .get(name)
            .ok_or_else(|| unknown_topic(name))?;
        let current = topic.partitions.len();
        let total_i = i64::from(total);
        if total_i < current as i64 {
            return Err(err(
                ZkErrorCode::InvalidPartitions,
                format!(
                    "Topic currently has {current} partitions, which is higher than the requested {total}."
                ),
            ));
        }
        if total_i == current as i64 {
            return Err(err(
                ZkErrorCode::InvalidPartitions,
                format!("Topic already has {current} partitions."),
            ));
        }
        self.check_partition_count(total_i, current)?;
        let add = total as usize - current;
        let rf = topic.partitions.first().map_or(1, |p| p.replicas.len());
        let new = match assignment {
            Some(a) => {
                let a = if a.len() == total as usize {
                    &a[current..]
                } else {
                    a
                };
                if a.len() != add {
                    return Err(err(
                        ZkErrorCode::InvalidReplicaAssignment,
                        format!(
                            "Increasing the number of partitions by {add} but {} assignments provided.",
                            a.len()
                        ),
                    ));
                }
                self.validate_assignment(a, Some(rf))?;
                a.to_vec()
            }
            None => self.place(current, add, rf)?,
        };
        let mut topic = topic.clone();
        for (i, replicas) in new.into_iter().enumerate() {
            let p = self.new_partition((current + i) as i32, replicas);
            topic.partitions.push(p);
        }
        Ok(topic)
    }

    /// `total` partitions for one topic, `existing` of which are already counted cluster-wide.
    fn check_partition_count(&self, total: i64, existing: usize) -> Result<(), ServerError> {
        if total > i64::from(MAX_PARTITIONS_PER_TOPIC) {
            return Err(err(
                ZkErrorCode::InvalidPartitions,
                format!("Number of partitions must be at most {MAX_PARTITIONS_PER_TOPIC}."),
            ));
        }
        let cluster: usize = self
            .durable
            .topics
            .values()
            .map(|t| t.partitions.len())
            .sum();
        if cluster - existing + total as usize > MAX_PARTITIONS_TOTAL {
            return Err(err(
                ZkErrorCode::InvalidPartitions,
                format!("The cluster would exceed {MAX_PARTITIONS_TOTAL} partitions."),
            ));
        }
        Ok(())
    }

    /// Round-robin over live brokers sorted by id; the first replica is the preferred leader.
    fn place(
        &self,
        first_partition: usize,
        count: usize,
        rf: usize,
    ) -> Result<Vec<Vec<BrokerId>>, ServerError> {
        let live: Vec<BrokerId> = self.sessions.keys().copied().collect();
        if rf > live.len() {
            return Err(err(
                ZkErrorCode::InvalidReplicationFactor,
                format!(
                    "Replication factor: {rf} larger than available brokers: {}.",
                    live.len()
                ),
            ));
        }
        Ok((first_partition..first_partition + count)
            .map(|p| (0..rf).map(|j| live[(p + j) % live.len()]).collect())
            .collect())
    }

    fn validate_assignment(
        &self,
        a: &[Vec<BrokerId>],
        rf: Option<usize>,
    ) -> Result<(), ServerError> {
        let bad = |m: String| Err(err(ZkErrorCode::InvalidReplicaAssignment, m));
        for (i, replicas) in a.iter().enumerate() {
            if replicas.is_empty() {
                return Err(err(
                    ZkErrorCode::InvalidReplicationFactor,
                    "Replication factor must be larger than 0.",
                ));
            }
            let unique: BTreeSet<_> = replicas.iter().collect();
            if unique.len() != replicas.len() {
                return bad(format!(
                    "Duplicate brokers not allowed in replica assignment: {} for partition id {i}.",
                    join(replicas)
                ));
            }
            if replicas.len() != rf.unwrap_or(a[0].len()) {
                return bad("All partitions should have the same number of replicas".into());
            }
            let unknown: Vec<BrokerId> = replicas
                .iter()
                .copied()
                .filter(|&b| !self.is_up(b))
                .collect();
            if !unknown.is_empty() {
                return bad(format!(
                    "Unknown broker(s) in replica assignment: {}.",
                    join(&unknown)
                ));
            }
        }
        Ok(())
    }

    fn new_partition(&self, partition: i32, replicas: Vec<BrokerId>) -> PartitionInfo {
        let isr: Vec<BrokerId> = replicas
            .iter()
            .copied()
            .filter(|&b| self.is_up(b))
            .collect();
        PartitionInfo {
            partition,
            leader: isr.first().copied().unwrap_or(-1),
            leader_epoch: 0,
            replicas,
            isr,
        }
    }
}

/// Committed offsets of consumer groups.
impl State {
    /// Validates a commit. A fenced commit (`generation` >= 0) older than the group's recorded
    /// generation is refused whole; otherwise each partition of an existing topic is stored and
    /// the others get `UnknownTopic`. Returns the record to journal (none if nothing is stored)
    /// and the per-partition results in request order.
    pub fn plan_commit_offsets(
        &self,
        group: &str,
        generation: i32,
        offsets: &[CommittedOffset],
    ) -> Result<(Option<Record>, Vec<PartitionResult>), ServerError> {
        check_group_id(group)?;
        let recorded = self.group_generation(group);
        if generation >= 0 && generation < recorded {
            return Err(err(
                ZkErrorCode::IllegalGeneration,
                format!(
                    "Specified group generation id is not valid: generation {generation} of group '{group}' is older than its latest generation {recorded}."
                ),
            ));
        }
        let mut stored = Vec::new();
        let mut results = Vec::with_capacity(offsets.len());
        for o in offsets {
            let exists =
                self.durable.topics.get(&o.topic).is_some_and(|t| {
                    o.partition >= 0 && (o.partition as usize) < t.partitions.len()
                });
            let error = if exists {
                stored.push(o.clone());
                None
            } else {
                Some(err(
                    ZkErrorCode::UnknownTopic,
                    "This server does not host this topic-partition.",
                ))
            };
            results.push(PartitionResult {
                topic: o.topic.clone(),
                partition: o.partition,
                error,
            });
        }
        // Admin commits record no generation: -1 never raises the recorded one.
        let record = (!stored.is_empty()).then(|| Record::PutOffsets {
            group: group.to_string(),
            generation: generation.max(-1),
            offsets: stored,
        });
        Ok((record, results))
    }

    /// A group's offsets: all (sorted by topic, partition) or the listed ones it has, in the
    /// order asked. An unknown group has none.
    pub fn fetch_offsets(
        &self,
        group: &str,
        partitions: Option<&[TopicPartition]>,
    ) -> Vec<CommittedOffset> {
        let Some(g) = self.durable.groups.get(group) else {
            return Vec::new();
        };
        let one = |topic: &str, partition: i32, v: &OffsetValue| CommittedOffset {
            topic: topic.to_string(),
            partition,
            offset: v.offset,
            leader_epoch: v.leader_epoch,
            metadata: v.metadata.clone(),
            commit_timestamp_ms: v.commit_timestamp_ms,
        };
        match partitions {
            None => g
                .offsets
                .iter()
                .flat_map(|(t, ps)| ps.iter().map(move |(&p, v)| (t, p, v)))
                .map(|(t, p, v)| one(t, p, v))
                .collect(),
            Some(list) => list
                .iter()
                .filter_map(|tp| {
                    let v = g.offsets.get(&tp.topic)?.get(&tp.partition)?;
                    Some(one(&tp.topic, tp.partition, v))
                })
                .collect(),
        }
    }

    /// Groups with at least one committed offset, sorted.
    pub fn offset_groups(&self) -> Vec<String> {
        self.durable
            .groups
            .iter()
            .filter(|(_, g)| g.offsets.values().any(|ps| !ps.is_empty()))
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// The highest generation a fenced commit of `group` came from; -1 if none.
    pub fn group_generation(&self, group: &str) -> i32 {
        self.durable.groups.get(group).map_or(-1, |g| g.generation)
    }

    pub fn plan_delete_group_offsets(&self, group: &str) -> Result<Record, ServerError> {
        self.known_group(group)?;
        Ok(Record::DeleteGroupOffsets {
            group: group.to_string(),
        })
    }

    pub fn plan_delete_offsets(
        &self,
        group: &str,
        partitions: &[TopicPartition],
    ) -> Result<Record, ServerError> {
        self.known_group(group)?;
        Ok(Record::DeleteOffsets {
            group: group.to_string(),
            partitions: partitions.to_vec(),
        })
    }

    fn known_group(&self, group: &str) -> Result<(), ServerError> {
        if self.durable.groups.contains_key(group) {
            Ok(())
        } else {
            Err(err(
                ZkErrorCode::UnknownGroup,
                "The group id does not exist.",
            ))
        }
    }
}

/// Kafka refuses the empty group id (INVALID_GROUP_ID) for commits.
fn check_group_id(group: &str) -> Result<(), ServerError> {
    if group.is_empty() {
        return Err(err(
            ZkErrorCode::InvalidRequest,
            "The configured groupId is invalid.",
        ));
    }
    Ok(())
}

fn join(ids: &[BrokerId]) -> String {
    ids.iter()
        .map(i32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn unknown_topic(name: &str) -> ServerError {
    err(
        ZkErrorCode::UnknownTopic,
        format!("The topic '{name}' does not exist."),
    )
}

/// Kafka's `Topic.validate`, with the texts of the facts sheet.
pub fn validate_topic_name(name: &str) -> Result<(), ServerError> {
    let reason = if name.is_empty() {
        "the empty string is not allowed".to_string()
    } else if name == "." || name == ".." {
        format!("'{name}' is not allowed")
    } else if name.len() > MAX_TOPIC_NAME_LEN {
        format!("the length of '{name}' is longer than the max allowed length {MAX_TOPIC_NAME_LEN}")
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
    {
        format!(
            "'{name}' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'"
        )
    } else {
        return Ok(());
    };
    Err(err(
        ZkErrorCode::InvalidTopic,
        format!("Topic name is invalid: {reason}"),
    ))
}

/// A random topic id as Kafka makes them: never the nil id, and never one whose base64 form
/// starts with '-' (which would read as an option on a command line).
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

pub fn new_topic_id() -> uuid::Uuid {
    loop {
        let id = uuid::Uuid::new_v4();
        if !id.is_nil() && id.as_bytes()[0] >> 2 != 62 {
            return id;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn broker(id: BrokerId) -> BrokerInfo {
        BrokerInfo {
            id,
            host: "localhost".into(),
            port: 9092 + id as u16,
            rack: None,
        }
    }

    fn commit(s: &mut State, records: &[Record]) {
        for r in records {
            s.apply(r);
        }
    }

    fn register(s: &mut State, id: BrokerId, timeout_ms: u64, now: Instant) -> SessionId {
        let recs = s.plan_register(&broker(id), timeout_ms).unwrap();
        commit(s, &recs);
        s.register(broker(id), timeout_ms, now)
    }

    fn create(s: &mut State, name: &str, partitions: i32, rf: i16) -> TopicInfo {
        let t = s
            .plan_create_topic(&NewTopic {
                name: name.into(),
                num_partitions: partitions,
                replication_factor: rf,
                replica_assignment: None,
                configs: BTreeMap::new(),
                validate_only: false,
            })
            .unwrap();
        commit(s, &[Record::PutTopic { topic: t.clone() }]);
        t
    }

    fn expire_all(s: &mut State, now: Instant) {
        for id in s.expired(now) {
            let recs = s.plan_remove_broker(id);
            commit(s, &recs);
            s.remove_broker(id);
        }
    }

    fn fresh() -> (State, Instant) {
        let now = Instant::now();
        (State::new(Durable::default(), now), now)
    }

    #[test]
    fn replicas_are_placed_round_robin_leader_first() {
        let (mut s, now) = fresh();
        for id in [2, 0, 1] {
            register(&mut s, id, 1000, now);
        }
        let t = create(&mut s, "t", 4, 2);
        let replicas: Vec<_> = t.partitions.iter().map(|p| p.replicas.clone()).collect();
        assert_eq!(
            replicas,
            vec![vec![0, 1], vec![1, 2], vec![2, 0], vec![0, 1]]
        );
        assert!(t
            .partitions
            .iter()
            .all(|p| p.leader == p.replicas[0] && p.isr == p.replicas));
        assert_eq!(
            s.metadata()
                .brokers
                .iter()
                .map(|b| b.id)
                .collect::<Vec<_>>(),
            [0, 1, 2]
        );
    }

    #[test]
    fn second_registration_of_a_live_id_is_broker_id_in_use() {
        let (mut s, now) = fresh();
        register(&mut s, 1, 1000, now);
        let e = s.plan_register(&broker(1), 1000).unwrap_err();
        assert_eq!(e.code, ZkErrorCode::BrokerIdInUse);
        assert!(e.message.contains("Broker id 1") && e.message.contains("localhost:9093"));
    }

    #[test]
    fn leader_fails_over_within_the_isr_on_session_expiry() {
        let (mut s, t0) = fresh();
        let s0 = register(&mut s, 0, 1000, t0);
        register(&mut s, 1, 5000, t0);
        create(&mut s, "t", 1, 2);
        let v = s.version();
        let t1 = t0 + Duration::from_millis(1001);
        s.heartbeat(1, s.sessions[&1].id, t1).unwrap();
        expire_all(&mut s, t1);
        let p = &s.metadata().topics["t"].partitions[0];
        assert_eq!((p.leader, p.leader_epoch, p.isr.clone()), (1, 1, vec![1]));
        assert!(s.version() > v);
        assert_eq!(
            s.heartbeat(0, s0, t1).unwrap_err().code,
            ZkErrorCode::SessionExpired
        );
        // The last ISR member going leaves the partition leaderless.
        expire_all(&mut s, t1 + Duration::from_millis(5001));
        let p = &s.metadata().topics["t"].partitions[0];
        assert_eq!((p.leader, p.leader_epoch, p.isr.is_empty()), (-1, 2, true));
        assert!(s.metadata().brokers.is_empty());
    }

    #[test]
    fn heartbeats_keep_a_session_alive() {
        let (mut s, t0) = fresh();
        let sid = register(&mut s, 0, 100, t0);
        for i in 1..10 {
            let now = t0 + Duration::from_millis(90 * i);
            s.heartbeat(0, sid, now).unwrap();
            assert!(s.expired(now).is_empty());
        }
    }

    #[test]
    fn re_registered_broker_rejoins_isr_and_leads_leaderless_partitions() {
        let (mut s, t0) = fresh();
        register(&mut s, 0, 100, t0);
        create(&mut s, "t", 2, 1);
        expire_all(&mut s, t0 + Duration::from_millis(200));
        assert!(s.metadata().topics["t"]
            .partitions
            .iter()
            .all(|p| p.leader == -1));
        register(&mut s, 0, 100, t0 + Duration::from_millis(300));
        for p in &s.metadata().topics["t"].partitions {
            assert_eq!((p.leader, p.leader_epoch, p.isr.clone()), (0, 2, vec![0]));
        }
    }

    #[test]
    fn after_restart_leaders_stay_until_the_grace_ends() {
        let (mut s, t0) = fresh();
        register(&mut s, 0, 100, t0);
        register(&mut s, 1, 100, t0);
        create(&mut s, "t", 2, 2);
        let mut durable = s.durable().clone();
        durable.generation += 1;
        let restarted = State::new(durable, t0);
        assert!(restarted.version() > s.version());
        let before = restarted.metadata().topics;
        let mut s = restarted;
        assert!(s.expired(t0 + Duration::from_secs(29)).is_empty());
        // Broker 1 comes back; broker 0 never does.
        register(&mut s, 1, 60_000, t0 + Duration::from_secs(1));
        assert_eq!(s.metadata().topics, before);
        expire_all(&mut s, t0 + RESTART_GRACE);
        for p in &s.metadata().topics["t"].partitions {
            assert_eq!((p.leader, p.isr.clone()), (1, vec![1]));
        }
    }

    #[test]
    fn create_topic_errors_carry_kafka_texts() {
        let (mut s, now) = fresh();
        register(&mut s, 0, 1000, now);
        create(&mut s, "t", 3, 1);
        let new = |name: &str, p: i32, rf: i16| NewTopic {
            name: name.into(),
            num_partitions: p,
            replication_factor: rf,
            replica_assignment: None,
            configs: BTreeMap::new(),
            validate_only: false,
        };
        let msg = |t: NewTopic| s.plan_create_topic(&t).unwrap_err().message;
        assert_eq!(msg(new("t", 1, 1)), "Topic 't' already exists.");
        assert_eq!(
            msg(new("u", 1, 3)),
            "Replication factor: 3 larger than available brokers: 1."
        );
        assert_eq!(
            msg(new("u", 0, 1)),
            "Number of partitions must be larger than 0."
        );
        assert_eq!(
            msg(new("u", 1, 0)),
            "Replication factor must be larger than 0."
        );
        assert!(msg(new("a b", 1, 1)).starts_with("Topic name is invalid: 'a b' contains"));
        assert!(msg(new("u", i32::MAX, 1)).contains("at most"));
        let mut c = new("u", 1, 1);
        c.configs.insert("retention.mss".into(), "1".into());
        assert_eq!(msg(c), "Unknown topic config name: retention.mss");
        let mut a = new("u", -1, -1);
        a.replica_assignment = Some(vec![vec![0], vec![7]]);
        assert_eq!(msg(a), "Unknown broker(s) in replica assignment: 7.");
        let mut a = new("u", -1, -1);
        a.replica_assignment = Some(vec![vec![0, 0]]);
        assert_eq!(
            s.plan_create_topic(&a).unwrap_err().code,
            ZkErrorCode::InvalidReplicaAssignment
        );
    }

    #[test]
    fn create_partitions_grows_and_refuses_shrinking() {
        let (mut s, now) = fresh();
        register(&mut s, 0, 1000, now);
        register(&mut s, 1, 1000, now);
        create(&mut s, "t", 3, 1);
        let e = s.plan_create_partitions("t", 2, None).unwrap_err();
        assert_eq!(
            e.message,
            "Topic currently has 3 partitions, which is higher than the requested 2."
        );
        assert_eq!(
            s.plan_create_partitions("t", 3, None).unwrap_err().message,
            "Topic already has 3 partitions."
        );
        let t = s.plan_create_partitions("t", 5, None).unwrap();
        assert_eq!(t.partitions.len(), 5);
        assert_eq!(t.partitions[3].replicas, vec![1]);
        assert_eq!(t.partitions[4].partition, 4);
        let t = s.plan_create_partitions("t", 4, Some(&[vec![0]])).unwrap();
        assert_eq!(t.partitions[3].replicas, vec![0]);
        assert_eq!(
            s.plan_create_partitions("nope", 4, None).unwrap_err().code,
            ZkErrorCode::UnknownTopic
        );
    }

    #[test]
    fn topic_ids_never_start_with_a_dash_in_base64() {
        for _ in 0..1000 {
            let id = new_topic_id();
            assert!(!id.is_nil() && id.as_bytes()[0] >> 2 != 62);
        }
    }

    // ---- committed offsets ------------------------------------------------------------------

    fn offset(topic: &str, partition: i32, offset: i64, metadata: Option<&str>) -> CommittedOffset {
        CommittedOffset {
            topic: topic.into(),
            partition,
            offset,
            leader_epoch: 3,
            metadata: metadata.map(String::from),
            commit_timestamp_ms: 1_700_000_000_000 + offset,
        }
    }

    fn tp(topic: &str, partition: i32) -> TopicPartition {
        TopicPartition {
            topic: topic.into(),
            partition,
        }
    }

    /// Plans and applies a commit as the coordinator does; returns the per-partition errors.
    fn commit_offsets(
        s: &mut State,
        group: &str,
        generation: i32,
        offsets: &[CommittedOffset],
    ) -> Result<Vec<Option<ZkErrorCode>>, ZkErrorCode> {
        let (record, results) = s
            .plan_commit_offsets(group, generation, offsets)
            .map_err(|e| e.code)?;
        if let Some(r) = record {
            commit(s, &[r]);
        }
        Ok(results
            .into_iter()
            .map(|r| r.error.map(|e| e.code))
            .collect())
    }

    fn with_topics() -> State {
        let (mut s, now) = fresh();
        register(&mut s, 0, 1000, now);
        create(&mut s, "a", 2, 1);
        create(&mut s, "b", 1, 1);
        s
    }

    #[test]
    fn commits_are_stored_and_fetched_back_with_metadata_kept_as_given() {
        let mut s = with_topics();
        let offsets = [
            offset("b", 0, 7, None),
            offset("a", 1, 5, Some("")),
            offset("a", 0, 4, Some("meta")),
        ];
        assert_eq!(commit_offsets(&mut s, "g", 1, &offsets), Ok(vec![None; 3]));
        let all = s.fetch_offsets("g", None);
        assert_eq!(
            all,
            vec![offsets[2].clone(), offsets[1].clone(), offsets[0].clone()]
        );
        // None and Some("") stay distinct, also through the snapshot's JSON.
        let json = serde_json::to_string(s.durable()).unwrap();
        let back: Durable = serde_json::from_str(&json).unwrap();
        assert_eq!(back.groups, s.durable().groups);
        assert_eq!(back.groups["g"].offsets["b"][&0].metadata, None);
        assert_eq!(
            back.groups["g"].offsets["a"][&1].metadata.as_deref(),
            Some("")
        );
        // A later commit overwrites.
        commit_offsets(&mut s, "g", 1, &[offset("a", 0, 9, None)]).unwrap();
        assert_eq!(s.fetch_offsets("g", Some(&[tp("a", 0)]))[0].offset, 9);
    }

    #[test]
    fn fetch_of_listed_partitions_keeps_their_order_and_omits_missing_ones() {
        let mut s = with_topics();
        commit_offsets(
            &mut s,
            "g",
            0,
            &[offset("a", 0, 1, None), offset("b", 0, 2, None)],
        )
        .unwrap();
        let got = s.fetch_offsets(
            "g",
            Some(&[tp("b", 0), tp("a", 1), tp("zz", 0), tp("a", 0)]),
        );
        let keys: Vec<_> = got
            .iter()
            .map(|o| (o.topic.as_str(), o.partition))
            .collect();
        assert_eq!(keys, [("b", 0), ("a", 0)]);
        assert!(s.fetch_offsets("nobody", None).is_empty());
        assert!(s.fetch_offsets("nobody", Some(&[tp("a", 0)])).is_empty());
    }

    #[test]
    fn stale_generation_is_refused_whole_and_admin_commits_are_not_fenced() {
        let mut s = with_topics();
        assert_eq!(s.group_generation("g"), -1);
        commit_offsets(&mut s, "g", 5, &[offset("a", 0, 10, None)]).unwrap();
        assert_eq!(s.group_generation("g"), 5);
        let stale = [offset("a", 0, 1, None), offset("a", 1, 1, None)];
        assert_eq!(
            commit_offsets(&mut s, "g", 4, &stale),
            Err(ZkErrorCode::IllegalGeneration)
        );
        assert_eq!(s.fetch_offsets("g", None), vec![offset("a", 0, 10, None)]);
        // The same generation and newer ones are accepted; the recorded one only goes up.
        commit_offsets(&mut s, "g", 5, &[offset("a", 0, 11, None)]).unwrap();
        commit_offsets(&mut s, "g", 7, &[offset("a", 0, 12, None)]).unwrap();
        assert_eq!(s.group_generation("g"), 7);
        // An admin commit (-1) is not fenced and does not lower the generation.
        commit_offsets(&mut s, "g", -1, &[offset("a", 0, 0, None)]).unwrap();
        assert_eq!(s.fetch_offsets("g", None)[0].offset, 0);
        assert_eq!(s.group_generation("g"), 7);
        // Replaying an older generation's record (journal over snapshot) does not lower it.
        s.apply(&Record::PutOffsets {
            group: "g".into(),
            generation: 5,
            offsets: vec![],
        });
        assert_eq!(s.group_generation("g"), 7);
        // Groups are fenced independently.
        commit_offsets(&mut s, "other", 0, &[offset("a", 0, 1, None)]).unwrap();
    }

    #[test]
    fn partitions_of_missing_topics_fail_alone() {
        let mut s = with_topics();
        let got = commit_offsets(
            &mut s,
            "g",
            1,
            &[
                offset("a", 0, 1, None),
                offset("missing", 0, 1, None),
                offset("a", 2, 1, None),
                offset("a", -1, 1, None),
                offset("b", 0, 1, None),
            ],
        )
        .unwrap();
        let unknown = Some(ZkErrorCode::UnknownTopic);
        assert_eq!(got, vec![None, unknown, unknown, unknown, None]);
        assert_eq!(s.fetch_offsets("g", None).len(), 2);
        // Nothing stored: no record, so no group and no generation appear.
        assert_eq!(
            commit_offsets(&mut s, "h", 3, &[offset("missing", 0, 1, None)]),
            Ok(vec![unknown])
        );
        assert_eq!(s.group_generation("h"), -1);
        assert_eq!(s.offset_groups(), ["g"]);
        assert_eq!(
            s.plan_commit_offsets("", 1, &[]).unwrap_err().code,
            ZkErrorCode::InvalidRequest
        );
    }

    #[test]
    fn deleting_a_topic_drops_its_offsets_but_not_the_generation() {
        let mut s = with_topics();
        commit_offsets(
            &mut s,
            "g",
            2,
            &[offset("a", 0, 1, None), offset("b", 0, 2, None)],
        )
        .unwrap();
        commit_offsets(&mut s, "only-a", 2, &[offset("a", 1, 1, None)]).unwrap();
        let rec = s.plan_delete_topic("a").unwrap();
        commit(&mut s, &[rec]);
        assert_eq!(s.fetch_offsets("g", None), vec![offset("b", 0, 2, None)]);
        assert_eq!(s.offset_groups(), ["g"]);
        assert_eq!(s.group_generation("only-a"), 2);
        create(&mut s, "a", 2, 1);
        assert!(s.fetch_offsets("g", Some(&[tp("a", 0)])).is_empty());
    }

    #[test]
    fn deleting_offsets_and_groups() {
        let mut s = with_topics();
        commit_offsets(
            &mut s,
            "g",
            4,
            &[offset("a", 0, 1, None), offset("a", 1, 2, None)],
        )
        .unwrap();
        commit_offsets(&mut s, "f", -1, &[offset("b", 0, 1, None)]).unwrap();
        assert_eq!(s.offset_groups(), ["f", "g"]);
        let rec = s
            .plan_delete_offsets("g", &[tp("a", 0), tp("zz", 9)])
            .unwrap();
        commit(&mut s, &[rec]);
        assert_eq!(s.fetch_offsets("g", None), vec![offset("a", 1, 2, None)]);
        let rec = s.plan_delete_offsets("g", &[tp("a", 1)]).unwrap();
        commit(&mut s, &[rec]);
        // No offsets left: not listed, but still fenced.
        assert_eq!(s.offset_groups(), ["f"]);
        assert_eq!(s.group_generation("g"), 4);
        // Deleting the group forgets its generation too: a new group of that name starts over.
        let rec = s.plan_delete_group_offsets("g").unwrap();
        commit(&mut s, &[rec]);
        assert_eq!(s.group_generation("g"), -1);
        commit_offsets(&mut s, "g", 1, &[offset("a", 0, 1, None)]).unwrap();
        assert_eq!(
            s.plan_delete_group_offsets("nope").unwrap_err().code,
            ZkErrorCode::UnknownGroup
        );
        assert_eq!(
            s.plan_delete_offsets("nope", &[tp("a", 0)])
                .unwrap_err()
                .code,
            ZkErrorCode::UnknownGroup
        );
    }

    #[test]
    fn offset_changes_leave_the_metadata_version_alone() {
        let mut s = with_topics();
        let v = s.version();
        commit_offsets(&mut s, "g", 1, &[offset("a", 0, 1, None)]).unwrap();
        let rec = s.plan_delete_group_offsets("g").unwrap();
        commit(&mut s, &[rec]);
        assert_eq!(s.version(), v);
        let rec = s.plan_delete_topic("b").unwrap();
        commit(&mut s, &[rec]);
        assert_eq!(s.version(), v + 1);
    }
}
