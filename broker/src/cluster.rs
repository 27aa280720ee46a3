//! The broker's link to zookeeper-lite: its session (registration and heartbeats), the cached
//! cluster metadata that Metadata requests and partition hosting are answered from, and the
//! cluster operations handlers call, named as Kafka names them (create topics, delete topics,
//! create partitions, alter configs, commit and fetch offsets ...). Their failures come back as
//! [`OpError`]s carrying Kafka's error code, mapped from zookeeper-lite's answers in one place
//! ([`kafka_error`]); the raw client stays private.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use common::errors::ErrorCode;

use crate::metrics::SessionState;

use thiserror::Error;
use tokio::sync::watch;
use zookeeper_lite::client::{ZkClient, ZkError};
use zookeeper_lite::protocol::{
    BrokerId, BrokerInfo, ClusterMetadata, CommittedOffset, ElectionResult, ElectionType,
    LeaderEpoch, NewTopic, OngoingReassignment, PartitionInfo, ReassignmentTarget, TopicInfo,
    TopicPartition, ZkErrorCode,
};

/// How long one metadata watch waits for a change before asking again.
const WATCH_WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, Error)]
pub enum ClusterError {
    /// The id is held by a session that stayed alive for a whole session timeout after we first
    /// asked: another live broker has it. (Kafka in ZooKeeper mode fails on the ephemeral
    /// `/brokers/ids/<id>` node with a `NodeExistsException`.)
    #[error(
        "org.apache.zookeeper.KeeperException$NodeExistsException: KeeperErrorCode = NodeExists \
         for /brokers/ids/{id}: {message} It was still alive after waiting \
         zookeeper.session.timeout.ms={waited_ms} ms for an earlier session of broker.id {id} to \
         expire, so another broker is running with broker.id={id}; give this broker another \
         broker.id."
    )]
    BrokerIdInUse {
        id: BrokerId,
        /// zookeeper-lite's text, naming the holder's session and endpoint.
        message: String,
        waited_ms: u64,
    },
    /// Another live broker already advertises our endpoint (`KafkaServer.createBrokerInfo`).
    #[error(
        "requirement failed: Configured end points {endpoint} in advertised listeners are \
         already registered by broker {holder}"
    )]
    EndpointInUse { endpoint: String, holder: BrokerId },
    #[error("zookeeper-lite at {addr}: {source}")]
    Zk { addr: String, source: ZkError },
}

/// A cluster operation that zookeeper-lite refused or did not answer, in Kafka's terms: the
/// error code to answer the client with and a message (zookeeper-lite's, which follows Kafka's
/// texts, or why it did not answer).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct OpError {
    pub code: ErrorCode,
    pub message: String,
}

/// Who asks, which decides what an answer without a Kafka counterpart becomes: the admin APIs
/// answer UNKNOWN_SERVER_ERROR (or REQUEST_TIMED_OUT when zookeeper-lite did not answer); the
/// group coordinator answers COORDINATOR_NOT_AVAILABLE, which clients retry, as Kafka's does when
/// its offsets storage fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Asker {
    Admin,
    GroupCoordinator,
}

/// The one mapping from zookeeper-lite's errors to Kafka's error codes.
fn kafka_error(e: &ZkError, asker: Asker) -> ErrorCode {
    use Asker::{Admin, GroupCoordinator as Groups};
    match e {
        ZkError::Server(s) => match (s.code, asker) {
            (ZkErrorCode::UnknownTopic, _) => ErrorCode::UnknownTopicOrPartition,
            (ZkErrorCode::IllegalGeneration, Groups) => ErrorCode::IllegalGeneration,
            (ZkErrorCode::UnknownGroup, Groups) => ErrorCode::GroupIdNotFound,
            (ZkErrorCode::TopicAlreadyExists, Admin) => ErrorCode::TopicAlreadyExists,
            (ZkErrorCode::InvalidReplicationFactor, Admin) => ErrorCode::InvalidReplicationFactor,
            (ZkErrorCode::InvalidPartitions, Admin) => ErrorCode::InvalidPartitions,
            (ZkErrorCode::InvalidReplicaAssignment, Admin) => ErrorCode::InvalidReplicaAssignment,
            (ZkErrorCode::InvalidTopic, Admin) => ErrorCode::InvalidTopicException,
            (ZkErrorCode::InvalidConfig, Admin) => ErrorCode::InvalidConfig,
            (ZkErrorCode::InvalidRequest, Admin) => ErrorCode::InvalidRequest,
            (ZkErrorCode::FencedLeaderEpoch, _) => ErrorCode::FencedLeaderEpoch,
            (ZkErrorCode::InvalidUpdateVersion, _) => ErrorCode::InvalidUpdateVersion,
            (ZkErrorCode::NotLeader, _) => ErrorCode::NotLeaderOrFollower,
            (ZkErrorCode::IneligibleReplica, _) => ErrorCode::IneligibleReplica,
            (ZkErrorCode::ElectionNotNeeded, _) => ErrorCode::ElectionNotNeeded,
            (ZkErrorCode::PreferredLeaderNotAvailable, _) => ErrorCode::PreferredLeaderNotAvailable,
            (ZkErrorCode::EligibleLeadersNotAvailable, _) => ErrorCode::EligibleLeadersNotAvailable,
            (ZkErrorCode::NoReassignmentInProgress, _) => ErrorCode::NoReassignmentInProgress,
            (_, Admin) => ErrorCode::UnknownServerError,
            (_, Groups) => ErrorCode::CoordinatorNotAvailable,
        },
        _ => match asker {
            Admin => ErrorCode::RequestTimedOut,
            Groups => ErrorCode::CoordinatorNotAvailable,
        },
    }
}

fn op_error(e: ZkError, asker: Asker) -> OpError {
    let code = kafka_error(&e, asker);
    let message = match e {
        ZkError::Server(s) => s.message,
        other => format!("the coordinator (zookeeper-lite) did not answer: {other}"),
    };
    OpError { code, message }
}

/// One partition's outcome of an election: `Ok` when a leader was elected.
pub type ElectionOutcome = (TopicPartition, Result<(), OpError>);

fn election_outcome(r: ElectionResult) -> ElectionOutcome {
    let outcome = match r.error {
        None => Ok(()),
        Some(e) => Err(admin(ZkError::Server(e))),
    };
    (TopicPartition::new(r.topic, r.partition), outcome)
}

fn admin(e: ZkError) -> OpError {
    op_error(e, Asker::Admin)
}

fn groups(e: ZkError) -> OpError {
    op_error(e, Asker::GroupCoordinator)
}

pub struct Cluster {
    /// Every request but the session's: topic changes, offset commits and fetches, configs.
    zk: ZkClient,
    /// ISR changes (AlterPartition) only, so that a leader's ISR change never waits behind
    /// offset commits or admin requests.
    isr_zk: ZkClient,
    /// The metadata watch (a long poll that zookeeper-lite answers when the metadata changes).
    watch_zk: ZkClient,
    /// The session's own connection (registration, heartbeats, the metadata refresh a heartbeat
    /// calls for, unregistration). `ZkClient` sends one request at a time, so on a shared
    /// connection a heartbeat would wait behind every queued offset commit, and a burst of
    /// commits longer than the session timeout would expire the broker's session.
    session_zk: ZkClient,
    addr: String,
    me: BrokerInfo,
    session_timeout_ms: u64,
    session: std::sync::Mutex<Option<u64>>,
    metadata: RwLock<Arc<ClusterMetadata>>,
    /// Bumped whenever the cached metadata changes, so hosting and long-polls can react.
    changed: watch::Sender<u64>,
    /// The session as the metrics show it (Kafka's SessionState, ZooKeeperExpiresPerSec and
    /// ZooKeeperDisconnectsPerSec).
    link: SessionLink,
}

/// The session's state for the metrics: a `SessionState` code and two counts.
#[derive(Default)]
struct SessionLink {
    /// 0 connecting, 1 connected, 2 closed.
    state: std::sync::atomic::AtomicU8,
    expires: std::sync::atomic::AtomicU64,
    disconnects: std::sync::atomic::AtomicU64,
}

impl SessionLink {
    fn set(&self, state: SessionState) {
        let code = match state {
            SessionState::Connecting => 0,
            SessionState::Connected => 1,
            SessionState::Closed => 2,
        };
        self.state.store(code, Ordering::Relaxed);
    }

    fn get(&self) -> SessionState {
        match self.state.load(Ordering::Relaxed) {
            1 => SessionState::Connected,
            2 => SessionState::Closed,
            _ => SessionState::Connecting,
        }
    }
}

/// `Ok` unless a live broker other than `me.id` advertises `me`'s host and port.
fn endpoint_holder(md: &ClusterMetadata, me: &BrokerInfo) -> Result<(), ClusterError> {
    match md
        .brokers
        .iter()
        .find(|b| b.id != me.id && b.host == me.host && b.port == me.port)
    {
        Some(b) => Err(ClusterError::EndpointInUse {
            endpoint: format!("{}:{}", me.host, me.port),
            holder: b.id,
        }),
        None => Ok(()),
    }
}

impl Cluster {
    pub async fn connect(
        addr: &str,
        me: BrokerInfo,
        session_timeout_ms: u64,
    ) -> Result<Arc<Cluster>, ClusterError> {
        let timeout = Duration::from_millis(session_timeout_ms.max(1000));
        let connect = || async {
            ZkClient::connect(addr, timeout)
                .await
                .map_err(|source| ClusterError::Zk {
                    addr: addr.to_string(),
                    source,
                })
        };
        let zk = connect().await?;
        let session_zk = connect().await?;
        let isr_zk = connect().await?;
        let watch_zk = ZkClient::connect(addr, WATCH_WAIT + timeout)
            .await
            .map_err(|source| ClusterError::Zk {
                addr: addr.to_string(),
                source,
            })?;
        let (changed, _) = watch::channel(0);
        Ok(Arc::new(Cluster {
            zk,
            session_zk,
            isr_zk,
            watch_zk,
            addr: addr.to_string(),
            me,
            session_timeout_ms,
            session: std::sync::Mutex::new(None),
            metadata: RwLock::new(Arc::new(ClusterMetadata {
                version: 0,
                cluster_id: String::new(),
                brokers: Vec::new(),
                topics: Default::default(),
                broker_configs: Default::default(),
            })),
            changed,
            link: SessionLink::default(),
        }))
    }

    /// The session's state, and how many sessions expired and how often the link was lost
    /// (heartbeats failing after a good one), for the metrics.
    pub fn session_stats(&self) -> (SessionState, u64, u64) {
        (
            self.link.get(),
            self.link.expires.load(Ordering::Relaxed),
            self.link.disconnects.load(Ordering::Relaxed),
        )
    }

    pub fn broker_id(&self) -> BrokerId {
        self.me.id
    }

    /// The current zookeeper-lite session, if registered.
    fn session(&self) -> Option<u64> {
        self.session.lock().ok().and_then(|s| *s)
    }

    /// Publishes `md` if it is newer than what is cached.
    fn publish(&self, md: Arc<ClusterMetadata>) {
        let changed = {
            let mut cur = match self.metadata.write() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            if md.version < cur.version {
                return;
            }
            let changed = cur.version != md.version || cur.brokers != md.brokers;
            *cur = md;
            changed
        };
        if changed {
            self.changed.send_modify(|v| *v += 1);
        }
    }

    /// Keeps the cached metadata current: a long poll on zookeeper-lite that it answers as soon
    /// as the metadata changes (a leader elected, an ISR changed, a topic created), so every
    /// broker learns of a change at once rather than at its next heartbeat. Runs until dropped.
    pub async fn run_metadata_watch(self: Arc<Self>) {
        loop {
            let known = self.metadata().version;
            match self.watch_zk.watch_metadata(known, WATCH_WAIT).await {
                Ok(md) => self.publish(Arc::new(md)),
                Err(e) => {
                    tracing::debug!("metadata watch on zookeeper-lite failed: {e}");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
    }

    fn zk_err(&self, source: ZkError) -> ClusterError {
        ClusterError::Zk {
            addr: self.addr.clone(),
            source,
        }
    }

    /// Registers this broker. An id still held by a session that is no longer heartbeating (our
    /// own previous life, killed with `kill -9`) frees up once that session expires, which is
    /// at most one session timeout (`zookeeper.session.timeout.ms`) from now, so we retry for
    /// that long; an id still held after that belongs to a live broker and we give up with
    /// [`ClusterError::BrokerIdInUse`].
    pub async fn register(&self) -> Result<(), ClusterError> {
        let deadline = Instant::now() + Duration::from_millis(self.session_timeout_ms);
        let mut warned = false;
        loop {
            match self
                .session_zk
                .register_broker(self.me.clone(), self.session_timeout_ms)
                .await
            {
                Ok(session) => {
                    if let Ok(mut s) = self.session.lock() {
                        *s = Some(session);
                    }
                    self.link.set(SessionState::Connected);
                    self.refresh_on(&self.session_zk).await?;
                    return Ok(());
                }
                Err(ZkError::Server(e)) if e.code == ZkErrorCode::BrokerIdInUse => {
                    let now = Instant::now();
                    if now >= deadline {
                        return Err(ClusterError::BrokerIdInUse {
                            id: self.me.id,
                            message: e.message,
                            waited_ms: self.session_timeout_ms,
                        });
                    }
                    if !warned {
                        tracing::warn!(
                            "{} Waiting up to zookeeper.session.timeout.ms={} ms for that session \
                             to expire, in case it is an earlier run of this broker that did not \
                             shut down cleanly.",
                            e.message,
                            self.session_timeout_ms
                        );
                        warned = true;
                    }
                    // The last try is at the deadline itself, when an earlier session of ours
                    // has certainly expired.
                    let pause = Duration::from_millis(200).min(deadline - now);
                    tokio::time::sleep(pause).await;
                }
                Err(e) => return Err(self.zk_err(e)),
            }
        }
    }

    /// Refuses to register an advertised endpoint that another live broker (another id) already
    /// advertises: clients would send one broker's requests to the other. Kafka checks this
    /// before registering, in `KafkaServer.createBrokerInfo`.
    pub fn check_endpoint_free(&self, md: &ClusterMetadata) -> Result<(), ClusterError> {
        endpoint_holder(md, &self.me)
    }

    /// Fetches the metadata and publishes it if it changed.
    pub async fn refresh(&self) -> Result<Arc<ClusterMetadata>, ClusterError> {
        self.refresh_on(&self.zk).await
    }

    /// [`Cluster::refresh`] over connection `zk`.
    async fn refresh_on(&self, zk: &ZkClient) -> Result<Arc<ClusterMetadata>, ClusterError> {
        let md = Arc::new(zk.metadata().await.map_err(|e| self.zk_err(e))?);
        self.publish(md.clone());
        Ok(md)
    }

    pub fn metadata(&self) -> Arc<ClusterMetadata> {
        match self.metadata.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// The session loop: heartbeats every third of the session timeout, refreshes metadata when
    /// its version moves, re-registers after an expiry or a zookeeper-lite restart, all on the
    /// session's own connection. Runs until the task is dropped.
    pub async fn run_session(self: Arc<Self>) {
        let interval = Duration::from_millis((self.session_timeout_ms / 3).clamp(50, 2000));
        loop {
            tokio::time::sleep(interval).await;
            let session = self.session.lock().ok().and_then(|s| *s);
            let result = match session {
                Some(s) => self.session_zk.heartbeat(self.me.id, s).await,
                None => Err(ZkError::Server(zookeeper_lite::protocol::ServerError {
                    code: ZkErrorCode::SessionExpired,
                    message: "not registered".into(),
                })),
            };
            match result {
                Ok(version) => {
                    self.link.set(SessionState::Connected);
                    if version != self.metadata().version {
                        if let Err(e) = self.refresh_on(&self.session_zk).await {
                            tracing::warn!("metadata refresh failed: {e}");
                        }
                    }
                }
                Err(ZkError::Server(e)) if e.code == ZkErrorCode::SessionExpired => {
                    tracing::warn!(
                        "zookeeper-lite session expired ({}); registering again",
                        e.message
                    );
                    if let Ok(mut s) = self.session.lock() {
                        *s = None;
                    }
                    self.link.expires.fetch_add(1, Ordering::Relaxed);
                    self.link.set(SessionState::Connecting);
                    match self.register().await {
                        Ok(()) => tracing::info!("registered again with zookeeper-lite"),
                        Err(e) => tracing::error!("registration failed: {e}"),
                    }
                }
                Err(e) => {
                    if self.link.get() == SessionState::Connected {
                        self.link.disconnects.fetch_add(1, Ordering::Relaxed);
                    }
                    self.link.set(SessionState::Connecting);
                    tracing::warn!("heartbeat to zookeeper-lite at {} failed: {e}", self.addr)
                }
            }
        }
    }

    /// Kafka's controlled shutdown: asks zookeeper-lite to move the leadership of this broker's
    /// partitions to other in-sync replicas and to take it out of every ISR. Returns the
    /// partitions it still leads (no other in-sync replica), refreshing the metadata first.
    pub async fn controlled_shutdown(&self) -> Result<Vec<TopicPartition>, OpError> {
        let Some(session) = self.session() else {
            return Ok(Vec::new());
        };
        let remaining = self
            .session_zk
            .controlled_shutdown(self.me.id, session)
            .await
            .map_err(admin)?;
        let _ = self.refresh_on(&self.session_zk).await;
        Ok(remaining)
    }

    /// Clean shutdown: give up the session so partitions fail over at once.
    pub async fn unregister(&self) {
        self.link.set(SessionState::Closed);
        let session = self.session.lock().ok().and_then(|mut s| s.take());
        if let Some(s) = session {
            if let Err(e) = self.session_zk.unregister_broker(self.me.id, s).await {
                tracing::warn!("unregistering from zookeeper-lite failed: {e}");
            }
        }
    }
}

/// Producer id blocks (Kafka's AllocateProducerIds, KIP-730).
impl Cluster {
    /// A block of producer ids no broker has had, as `(first, count)`, from zookeeper-lite,
    /// which journals it before answering. Fails without a session (a broker not yet
    /// registered, or whose session expired) or when zookeeper-lite cannot be reached.
    pub async fn allocate_producer_ids(&self) -> Result<(i64, i32), OpError> {
        let Some(session) = self.session() else {
            return Err(OpError {
                code: ErrorCode::CoordinatorLoadInProgress,
                message: "this broker holds no zookeeper-lite session".into(),
            });
        };
        self.zk
            .allocate_producer_ids(self.me.id, session)
            .await
            .map_err(admin)
    }
}

/// Partition state changes (Kafka's AlterPartition, AlterPartitionReassignments and
/// ElectLeaders).
impl Cluster {
    /// AlterPartition: as the leader of `topic`-`partition` at `leader_epoch`, sets its ISR to
    /// `new_isr` if `partition_epoch` is still the current one. Returns the partition as it now
    /// is; the metadata is refreshed so every reader sees the change.
    pub async fn alter_partition(
        &self,
        topic: &str,
        partition: i32,
        leader_epoch: LeaderEpoch,
        partition_epoch: i32,
        new_isr: Vec<BrokerId>,
    ) -> Result<PartitionInfo, OpError> {
        let Some(session) = self.session() else {
            return Err(OpError {
                code: ErrorCode::NotLeaderOrFollower,
                message: "this broker holds no zookeeper-lite session".into(),
            });
        };
        let info = self
            .isr_zk
            .alter_partition(
                self.me.id,
                session,
                topic,
                partition,
                leader_epoch,
                partition_epoch,
                new_isr,
            )
            .await
            .map_err(admin)?;
        Ok(info)
    }

    /// AlterPartitionReassignments (KIP-455): starts, replaces or (target replicas `None`)
    /// cancels the reassignment of each target's partition. Returns each target's outcome in
    /// order (`None` = accepted); the metadata is refreshed so this broker's answers show the
    /// new replicas at once.
    pub async fn alter_partition_reassignments(
        &self,
        targets: Vec<ReassignmentTarget>,
    ) -> Result<Vec<(TopicPartition, Option<OpError>)>, OpError> {
        let results = self
            .zk
            .alter_partition_reassignments(targets)
            .await
            .map_err(admin)?;
        if results.iter().any(|r| r.error.is_none()) {
            if let Err(e) = self.refresh().await {
                tracing::warn!("metadata refresh after a reassignment failed: {e}");
            }
        }
        Ok(results
            .into_iter()
            .map(|r| {
                let tp = TopicPartition {
                    topic: r.topic,
                    partition: r.partition,
                };
                (tp, r.error.map(|e| admin(ZkError::Server(e))))
            })
            .collect())
    }

    /// ListPartitionReassignments: the reassignments in progress among `partitions` (all
    /// when `None`), sorted by topic and partition.
    pub async fn list_partition_reassignments(
        &self,
        partitions: Option<Vec<TopicPartition>>,
    ) -> Result<Vec<OngoingReassignment>, OpError> {
        self.zk
            .list_partition_reassignments(partitions)
            .await
            .map_err(admin)
    }

    /// ElectLeaders over `partitions` (every partition when `None`): each partition's outcome,
    /// ELECTION_NOT_NEEDED included, a failure carrying Kafka's code
    /// (PREFERRED_LEADER_NOT_AVAILABLE, ELIGIBLE_LEADERS_NOT_AVAILABLE,
    /// UNKNOWN_TOPIC_OR_PARTITION) and zookeeper-lite's text, which follows Kafka's. `Err` when
    /// zookeeper-lite refused the whole request or did not answer.
    pub async fn elect_leaders(
        &self,
        election: ElectionType,
        partitions: Option<Vec<TopicPartition>>,
    ) -> Result<Vec<ElectionOutcome>, OpError> {
        let results = self
            .zk
            .elect_leaders(election, partitions)
            .await
            .map_err(admin)?;
        Ok(results.into_iter().map(election_outcome).collect())
    }
}

/// Topic and config changes (Kafka's controller APIs), forwarded to zookeeper-lite.
impl Cluster {
    /// CreateTopics for one topic (or, with `topic.validate_only`, only its checks); returns the
    /// topic as created, with its id, placement and configs.
    pub async fn create_topic(&self, topic: NewTopic) -> Result<TopicInfo, OpError> {
        self.zk.create_topic(topic).await.map_err(admin)
    }

    /// DeleteTopics for one topic.
    pub async fn delete_topic(&self, name: &str) -> Result<(), OpError> {
        self.zk.delete_topic(name).await.map_err(admin)
    }

    /// CreatePartitions: grows topic `name` to `total` partitions, placed by `assignment` (one
    /// replica list per new partition) or by zookeeper-lite.
    pub async fn create_partitions(
        &self,
        name: &str,
        total: i32,
        assignment: Option<Vec<Vec<BrokerId>>>,
    ) -> Result<TopicInfo, OpError> {
        self.zk
            .create_partitions(name, total, assignment)
            .await
            .map_err(admin)
    }

    /// AlterConfigs/IncrementalAlterConfigs of a topic: `configs` is the whole new set of
    /// overrides. Returns the topic as it now is (or would be, with `validate_only`).
    pub async fn alter_topic_configs(
        &self,
        name: &str,
        configs: BTreeMap<String, String>,
        validate_only: bool,
    ) -> Result<TopicInfo, OpError> {
        self.zk
            .alter_topic_configs(name, configs, validate_only)
            .await
            .map_err(admin)
    }

    /// AlterConfigs/IncrementalAlterConfigs of a broker entity (`""` = the cluster default, else
    /// a broker id): `configs` is the whole new dynamic set; empty removes it.
    pub async fn alter_broker_configs(
        &self,
        entity: &str,
        configs: BTreeMap<String, String>,
        validate_only: bool,
    ) -> Result<(), OpError> {
        self.zk
            .alter_broker_configs(entity, configs, validate_only)
            .await
            .map_err(admin)
    }
}

/// Committed offsets of consumer groups (what Kafka keeps in `__consumer_offsets`). Errors are
/// the group coordinator's: GROUP_ID_NOT_FOUND for a group with nothing recorded,
/// ILLEGAL_GENERATION for a fenced commit, COORDINATOR_NOT_AVAILABLE when zookeeper-lite fails.
impl Cluster {
    /// OffsetCommit: stores `offsets` for `group`, fenced by `generation` (-1 for a commit that
    /// is not fenced). Returns each partition's outcome in request order (`None` = stored).
    pub async fn commit_offsets(
        &self,
        group: &str,
        generation: i32,
        offsets: Vec<CommittedOffset>,
    ) -> Result<Vec<(String, i32, Option<ErrorCode>)>, OpError> {
        let results = self
            .zk
            .commit_offsets(group, generation, offsets)
            .await
            .map_err(groups)?;
        Ok(results
            .into_iter()
            .map(|(t, p, e)| {
                let code = e.map(|se| kafka_error(&ZkError::Server(se), Asker::GroupCoordinator));
                (t, p, code)
            })
            .collect())
    }

    /// OffsetFetch: all of `group`'s committed offsets (`None`) or those of the listed
    /// partitions (missing ones omitted). An unknown group has none.
    pub async fn fetch_offsets(
        &self,
        group: &str,
        partitions: Option<Vec<(String, i32)>>,
    ) -> Result<Vec<CommittedOffset>, OpError> {
        self.zk
            .fetch_offsets(group, partitions)
            .await
            .map_err(groups)
    }

    /// The groups that have committed offsets, sorted (ListGroups of groups not in memory).
    pub async fn list_offset_groups(&self) -> Result<Vec<String>, OpError> {
        self.zk.list_offset_groups().await.map_err(groups)
    }

    /// The highest generation `group`'s fenced commits came from, -1 if none.
    pub async fn group_generation(&self, group: &str) -> Result<i32, OpError> {
        self.zk.group_generation(group).await.map_err(groups)
    }

    /// DeleteGroups: forgets `group`'s offsets and recorded generation.
    pub async fn delete_group_offsets(&self, group: &str) -> Result<(), OpError> {
        self.zk.delete_group_offsets(group).await.map_err(groups)
    }

    /// OffsetDelete (and offset expiry): deletes the listed partitions' offsets of `group`.
    pub async fn delete_offsets(
        &self,
        group: &str,
        partitions: Vec<(String, i32)>,
    ) -> Result<(), OpError> {
        self.zk
            .delete_offsets(group, partitions)
            .await
            .map_err(groups)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn info(id: i32, port: u16) -> BrokerInfo {
        BrokerInfo {
            id: BrokerId(id),
            host: "localhost".into(),
            port,
            rack: None,
        }
    }

    #[test]
    fn an_endpoint_advertised_by_another_live_broker_is_refused_with_kafkas_text() {
        let md = ClusterMetadata {
            version: 1,
            cluster_id: "c".into(),
            brokers: vec![info(0, 9092)],
            topics: Default::default(),
            broker_configs: Default::default(),
        };
        let e = endpoint_holder(&md, &info(1, 9092)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "requirement failed: Configured end points localhost:9092 in advertised listeners \
             are already registered by broker 0"
        );
        // Our own earlier registration (same id) and other ports are fine.
        assert!(endpoint_holder(&md, &info(0, 9092)).is_ok());
        assert!(endpoint_holder(&md, &info(1, 9093)).is_ok());
    }

    /// Heartbeats have their own connection: a burst of offset commits, each queued behind the
    /// others on the request connection for far longer than the session timeout in total, does
    /// not expire the broker's session (which would move leadership away and re-register).
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_burst_of_offset_commits_does_not_expire_the_session() {
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        use zookeeper_lite::protocol::{CommittedOffset, NewTopic};

        const SESSION_TIMEOUT_MS: u64 = 1_500;
        const PARTITIONS: i32 = 2_000;
        const COMMITTERS: usize = 24;
        let dir = tempfile::tempdir().unwrap();
        let zk = zookeeper_lite::embedded::EmbeddedZooKeeper::start(dir.path())
            .await
            .unwrap();
        let cluster = Cluster::connect(&zk.addr().to_string(), info(0, 9092), SESSION_TIMEOUT_MS)
            .await
            .unwrap();
        cluster.register().await.unwrap();
        let first_session = cluster.session.lock().unwrap().unwrap();
        let session_task = tokio::spawn(cluster.clone().run_session());
        cluster
            .zk
            .create_topic(NewTopic {
                name: "t".into(),
                num_partitions: PARTITIONS,
                replication_factor: 1,
                replica_assignment: None,
                configs: Default::default(),
                validate_only: false,
            })
            .await
            .unwrap();
        let offsets: Vec<CommittedOffset> = (0..PARTITIONS)
            .map(|partition| CommittedOffset {
                topic: "t".into(),
                partition,
                offset: 42,
                leader_epoch: common::ids::LeaderEpoch::UNKNOWN,
                metadata: Some("a long enough metadata string to make each commit heavier".into()),
                commit_timestamp_ms: 0,
            })
            .collect();
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicUsize::new(0));
        let mut committers = Vec::new();
        for i in 0..COMMITTERS {
            let (cluster, offsets) = (cluster.clone(), offsets.clone());
            let (stop, done) = (stop.clone(), done.clone());
            committers.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    cluster
                        .zk
                        .commit_offsets(&format!("g{i}"), -1, offsets.clone())
                        .await
                        .unwrap();
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        // The burst lasts until every committer has finished a commit after waiting behind all
        // the others, and for at least three session timeouts.
        let started = Instant::now();
        let deadline = started + Duration::from_secs(120);
        while done.load(Ordering::Relaxed) < 2 * COMMITTERS
            || started.elapsed() < Duration::from_millis(3 * SESSION_TIMEOUT_MS)
        {
            assert!(Instant::now() < deadline, "the commits did not finish");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        stop.store(true, Ordering::Relaxed);
        for c in committers {
            c.await.unwrap();
        }
        session_task.abort();
        assert_eq!(
            *cluster.session.lock().unwrap(),
            Some(first_session),
            "the session expired during the burst and the broker registered again"
        );
        assert!(
            cluster
                .session_zk
                .heartbeat(BrokerId(0), first_session)
                .await
                .is_ok(),
            "zookeeper-lite expired the broker's session during the burst"
        );
    }
}
