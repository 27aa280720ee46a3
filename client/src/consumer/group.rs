//! Membership of one consumer group through the classic group protocol, as Kafka's
//! `ConsumerCoordinator` does it: FindCoordinator, JoinGroup (MEMBER_ID_REQUIRED answered by
//! rejoining with the given id), the leader's assignment, SyncGroup, heartbeats on their own task,
//! OffsetFetch / OffsetCommit (a synchronous commit retried as `commitOffsetsSync` does) and
//! LeaveGroup. The consumer drives it from `poll`; the heartbeat task only raises flags (rejoin
//! needed, coordinator lost) and, for a fenced static member, a fatal error that the next `poll`
//! acts on.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use kafka_protocol::messages::{
    join_group_request::JoinGroupRequestProtocol,
    leave_group_request::MemberIdentity,
    offset_commit_request::{OffsetCommitRequestPartition, OffsetCommitRequestTopic},
    offset_fetch_request::OffsetFetchRequestTopic,
    sync_group_request::SyncGroupRequestAssignment,
    FindCoordinatorRequest, GroupId, HeartbeatRequest, JoinGroupRequest, JoinGroupResponse,
    LeaveGroupRequest, OffsetCommitRequest, OffsetFetchRequest, SyncGroupRequest, TopicName,
};
use kafka_protocol::protocol::StrBytes;

use super::assignor::{Assignor, MemberSubscription};
use super::protocol::{Assignment, Subscription, ASSIGNMENT_VERSION, SUBSCRIPTION_VERSION};
use super::ConsumerConfig;
use common::errors::codes::{
    COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, FENCED_INSTANCE_ID,
    ILLEGAL_GENERATION, MEMBER_ID_REQUIRED, NOT_COORDINATOR, REBALANCE_IN_PROGRESS,
    REQUEST_TIMED_OUT, UNKNOWN_MEMBER_ID, UNKNOWN_TOPIC_OR_PARTITION,
};

use crate::cluster::Cluster;
use crate::connection::{Connection, ConnectionOptions};
use crate::error::ClientError;

const PROTOCOL_TYPE: &str = "consumer";
/// How many JoinGroup/SyncGroup rounds one rejoin may take before giving up (each retriable
/// failure waits `retry.backoff.ms`); a healthy group needs two or three.
const MAX_JOIN_ROUNDS: usize = 200;

/// The member's identity in the group, shared with the heartbeat task.
#[derive(Debug, Clone)]
struct Member {
    member_id: String,
    /// -1 while not in a stable generation (heartbeats pause then).
    generation: i32,
    coordinator: Option<Connection>,
}

struct Shared {
    member: Mutex<Member>,
    /// Set by the heartbeat task when the coordinator says the group is rebalancing or no
    /// longer knows this member/generation.
    rejoin: AtomicBool,
    /// Set when the coordinator moved or its connection failed.
    coordinator_lost: AtomicBool,
    /// A fatal error the heartbeat task met (FENCED_INSTANCE_ID: another consumer took this
    /// member's `group.instance.id`), raised by the next `poll` as Kafka's heartbeat thread
    /// failure is.
    fatal: Mutex<Option<ClientError>>,
}

impl Shared {
    fn member(&self) -> Member {
        match self.member.lock() {
            Ok(m) => m.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn set_fatal(&self, e: ClientError) {
        match self.fatal.lock() {
            Ok(mut f) => *f = Some(e),
            Err(poisoned) => *poisoned.into_inner() = Some(e),
        }
    }

    fn take_fatal(&self) -> Option<ClientError> {
        match self.fatal.lock() {
            Ok(mut f) => f.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        }
    }

    fn update(&self, f: impl FnOnce(&mut Member)) {
        match self.member.lock() {
            Ok(mut m) => f(&mut m),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }
}

struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A committed offset as OffsetFetch returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedOffset {
    pub offset: i64,
    pub metadata: Option<String>,
}

pub(crate) struct GroupMembership {
    group_id: String,
    instance_id: Option<String>,
    session_timeout_ms: i32,
    rebalance_timeout_ms: i32,
    heartbeat_interval: Duration,
    backoff: Duration,
    /// `retry.backoff.max.ms`: the cap of the growing wait between synchronous commit attempts.
    backoff_max: Duration,
    strategies: Vec<Assignor>,
    cluster: Arc<Cluster>,
    options: ConnectionOptions,
    shared: Arc<Shared>,
    heartbeat: Option<AbortOnDrop>,
    joined: bool,
    /// `allow.auto.create.topics`, for the leader's Metadata request over the group's topics.
    allow_auto_create_topics: bool,
    /// Leader only: the partition count of every topic of the group's subscription (0 for a
    /// topic that did not exist) that the last assignment was computed from. Kafka's
    /// `ConsumerCoordinator.assignmentSnapshot`: when metadata differs, the leader rejoins.
    assignment_snapshot: Option<BTreeMap<String, i32>>,
}

impl GroupMembership {
    pub(crate) fn new(
        group_id: String,
        config: &ConsumerConfig,
        cluster: Arc<Cluster>,
    ) -> GroupMembership {
        let mut options = cluster.options().clone();
        // JoinGroup is held by the coordinator for up to the rebalance timeout (Java waits
        // rebalance timeout + 5 s for it).
        options.request_timeout = options.request_timeout.max(Duration::from_millis(
            config.max_poll_interval_ms.max(0) as u64 + 5000,
        ));
        GroupMembership {
            group_id,
            instance_id: config.group_instance_id.clone(),
            session_timeout_ms: config.session_timeout_ms,
            rebalance_timeout_ms: config.max_poll_interval_ms,
            heartbeat_interval: Duration::from_millis(config.heartbeat_interval_ms.max(1)),
            backoff: Duration::from_millis(config.retry_backoff_ms.max(10)),
            backoff_max: Duration::from_millis(
                config
                    .retry_backoff_max_ms
                    .max(config.retry_backoff_ms.max(10)),
            ),
            strategies: config.partition_assignment_strategy.clone(),
            cluster,
            options,
            shared: Arc::new(Shared {
                member: Mutex::new(Member {
                    member_id: String::new(),
                    generation: -1,
                    coordinator: None,
                }),
                rejoin: AtomicBool::new(false),
                coordinator_lost: AtomicBool::new(false),
                fatal: Mutex::new(None),
            }),
            heartbeat: None,
            joined: false,
            allow_auto_create_topics: config.allow_auto_create_topics,
            assignment_snapshot: None,
        }
    }

    /// Leader only: the partition counts the current assignment was computed from, by topic of
    /// the whole group's subscription. None for a follower or before the first assignment.
    pub(crate) fn assignment_snapshot(&self) -> Option<&BTreeMap<String, i32>> {
        self.assignment_snapshot.as_ref()
    }

    pub(crate) fn group_id(&self) -> &str {
        &self.group_id
    }

    pub(crate) fn member_id(&self) -> String {
        self.shared.member().member_id
    }

    pub(crate) fn generation(&self) -> i32 {
        self.shared.member().generation
    }

    /// The fatal error the heartbeat task met since the last call, if any (taken: a later call
    /// says `None`, and the next `poll` rejoins, as Kafka's consumer does after raising it).
    pub(crate) fn take_fatal(&self) -> Option<ClientError> {
        self.shared.take_fatal()
    }

    /// An asynchronous (auto) commit was answered FENCED_INSTANCE_ID: the next `poll` fails
    /// with Kafka's `FencedInstanceIdException` text for it, as `ConsumerCoordinator` raises it
    /// from `invokeCompletedOffsetCommitCallbacks`.
    pub(crate) fn async_commit_fenced(&self) {
        let message = format!(
            "Get fenced exception for group.instance.id {}, current member.id is {}",
            self.instance_id
                .as_deref()
                .unwrap_or("unset_group_instance_id"),
            self.member_id()
        );
        self.shared
            .set_fatal(ClientError::kafka(FENCED_INSTANCE_ID, Some(&message)));
    }

    /// Whether `poll` must (re)join before fetching.
    pub(crate) fn needs_join(&self) -> bool {
        !self.joined || self.shared.rejoin.load(Ordering::SeqCst)
    }

    /// Marks the membership for a rejoin on the next poll (after a commit said so).
    pub(crate) fn request_rejoin(&self, code: i16) {
        self.on_member_error(code);
    }

    fn on_member_error(&self, code: i16) {
        match code {
            UNKNOWN_MEMBER_ID => self.shared.update(|m| {
                m.member_id.clear();
                m.generation = -1;
            }),
            ILLEGAL_GENERATION => self.shared.update(|m| m.generation = -1),
            COORDINATOR_NOT_AVAILABLE | NOT_COORDINATOR => {
                self.shared.coordinator_lost.store(true, Ordering::SeqCst)
            }
            _ => {}
        }
        self.shared.rejoin.store(true, Ordering::SeqCst);
    }

    /// The coordinator connection, finding the coordinator first if it is unknown or lost.
    async fn coordinator(&self) -> Result<Connection, ClientError> {
        let current = self.shared.member().coordinator;
        if let Some(c) = current {
            if !c.is_closed() && !self.shared.coordinator_lost.load(Ordering::SeqCst) {
                return Ok(c);
            }
        }
        let conn = self.cluster.any_connection().await?;
        let version = conn.version_for::<FindCoordinatorRequest>()?;
        let mut request = FindCoordinatorRequest::default()
            .with_key(StrBytes::from_string(self.group_id.clone()));
        if version >= 1 {
            request = request.with_key_type(0);
        }
        let response = conn.send(request).await?;
        ClientError::check(
            response.error_code,
            response.error_message.as_ref().map(|m| m.as_str()),
        )?;
        let addr = format!("{}:{}", response.host.as_str(), response.port);
        tracing::debug!(
            "Discovered group coordinator {addr} (id: {}) for group {}",
            response.node_id.0,
            self.group_id
        );
        let coordinator = Connection::connect(&addr, self.options.clone()).await?;
        self.shared
            .update(|m| m.coordinator = Some(coordinator.clone()));
        self.shared.coordinator_lost.store(false, Ordering::SeqCst);
        Ok(coordinator)
    }

    /// Finds the coordinator again if the heartbeat task lost it (so heartbeats resume on the
    /// new connection). Failures are left for the next call.
    pub(crate) async fn recover_coordinator(&self) {
        if self.shared.coordinator_lost.load(Ordering::SeqCst) {
            if let Err(e) = self.coordinator().await {
                tracing::debug!("finding the coordinator of {}: {e}", self.group_id);
            }
        }
    }

    fn coordinator_error(&self, code: i16) -> bool {
        if matches!(code, COORDINATOR_NOT_AVAILABLE | NOT_COORDINATOR) {
            self.shared.coordinator_lost.store(true, Ordering::SeqCst);
            return true;
        }
        code == COORDINATOR_LOAD_IN_PROGRESS
    }

    /// Joins (or rejoins) the group subscribed to `topics` and returns this member's assignment.
    /// `owned` is what the member held before (sent in the v1 subscription).
    pub(crate) async fn join(
        &mut self,
        topics: &[String],
        owned: &[(String, Vec<i32>)],
    ) -> Result<Vec<(String, i32)>, ClientError> {
        // Heartbeats stop while the rebalance runs: the coordinator answers them with
        // REBALANCE_IN_PROGRESS anyway.
        self.shared.update(|m| m.generation = -1);
        self.shared.rejoin.store(false, Ordering::SeqCst);
        let subscription = Subscription {
            topics: topics.to_vec(),
            user_data: None,
            owned_partitions: owned.to_vec(),
            ..Default::default()
        }
        .encode(SUBSCRIPTION_VERSION);
        let mut last_error = None;
        for _ in 0..MAX_JOIN_ROUNDS {
            match self.join_round(&subscription).await {
                Ok(Some(assignment)) => {
                    self.joined = true;
                    self.shared.rejoin.store(false, Ordering::SeqCst);
                    self.start_heartbeat();
                    let mut out = Vec::new();
                    for (topic, partitions) in assignment.partitions {
                        for p in partitions {
                            out.push((topic.clone(), p));
                        }
                    }
                    out.sort();
                    out.dedup();
                    tracing::info!(
                        "[Consumer groupId={}] Adding newly assigned partitions: {}",
                        self.group_id,
                        out.iter()
                            .map(|(t, p)| format!("{t}-{p}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                    return Ok(out);
                }
                // Rejoin at once (a new member id, or the group moved on).
                Ok(None) => continue,
                Err(e) if e.is_retriable() => {
                    tracing::debug!("joining group {}: {e}", self.group_id);
                    if let Some(code) = e.code() {
                        self.coordinator_error(code);
                    } else {
                        self.shared.coordinator_lost.store(true, Ordering::SeqCst);
                    }
                    last_error = Some(e);
                    tokio::time::sleep(self.backoff).await;
                }
                Err(e) => return Err(e),
            }
        }
        Err(last_error.unwrap_or_else(|| {
            ClientError::Timeout(format!("Could not join group {}", self.group_id))
        }))
    }

    /// One JoinGroup + SyncGroup. `Ok(None)` means: join again now.
    async fn join_round(&mut self, subscription: &[u8]) -> Result<Option<Assignment>, ClientError> {
        let conn = self.coordinator().await?;
        let member = self.shared.member();
        let version = conn.version_for::<JoinGroupRequest>()?;
        let mut request = JoinGroupRequest::default()
            .with_group_id(GroupId(StrBytes::from_string(self.group_id.clone())))
            .with_session_timeout_ms(self.session_timeout_ms)
            .with_member_id(StrBytes::from_string(member.member_id.clone()))
            .with_protocol_type(StrBytes::from_static_str(PROTOCOL_TYPE))
            .with_protocols(
                self.strategies
                    .iter()
                    .map(|a| {
                        JoinGroupRequestProtocol::default()
                            .with_name(StrBytes::from_static_str(a.name()))
                            .with_metadata(Bytes::from(subscription.to_vec()))
                    })
                    .collect(),
            );
        if version >= 1 {
            request = request.with_rebalance_timeout_ms(self.rebalance_timeout_ms);
        }
        if version >= 5 {
            request =
                request.with_group_instance_id(self.instance_id.clone().map(StrBytes::from_string));
        }
        let response = conn.send(request).await?;
        match response.error_code {
            0 => {}
            MEMBER_ID_REQUIRED => {
                // KIP-394: the coordinator hands out the id; join again with it.
                let id = response.member_id.to_string();
                self.shared.update(|m| m.member_id = id);
                return Ok(None);
            }
            UNKNOWN_MEMBER_ID => {
                self.shared.update(|m| m.member_id.clear());
                return Ok(None);
            }
            REBALANCE_IN_PROGRESS | ILLEGAL_GENERATION => return Ok(None),
            code => {
                self.coordinator_error(code);
                return Err(ClientError::kafka(code, None));
            }
        }
        let member_id = response.member_id.to_string();
        let generation = response.generation_id;
        self.shared.update(|m| m.member_id = member_id.clone());
        let (assignments, snapshot) = if response.leader.as_str() == member_id {
            let (assignments, snapshot) = self.lead(&response).await?;
            (assignments, Some(snapshot))
        } else {
            (Vec::new(), None)
        };
        let version = conn.version_for::<SyncGroupRequest>()?;
        let mut request = SyncGroupRequest::default()
            .with_group_id(GroupId(StrBytes::from_string(self.group_id.clone())))
            .with_generation_id(generation)
            .with_member_id(StrBytes::from_string(member_id.clone()))
            .with_assignments(assignments);
        if version >= 3 {
            request =
                request.with_group_instance_id(self.instance_id.clone().map(StrBytes::from_string));
        }
        if version >= 5 {
            request = request
                .with_protocol_type(Some(StrBytes::from_static_str(PROTOCOL_TYPE)))
                .with_protocol_name(response.protocol_name.clone());
        }
        let sync = conn.send(request).await?;
        match sync.error_code {
            0 => {}
            UNKNOWN_MEMBER_ID => {
                self.shared.update(|m| m.member_id.clear());
                return Ok(None);
            }
            REBALANCE_IN_PROGRESS | ILLEGAL_GENERATION => return Ok(None),
            code => {
                self.coordinator_error(code);
                return Err(ClientError::kafka(code, None));
            }
        }
        let assignment = Assignment::decode(&sync.assignment)?;
        self.assignment_snapshot = snapshot;
        self.shared.update(|m| m.generation = generation);
        tracing::info!(
            "[Consumer groupId={}] Successfully joined group with generation {generation} as {member_id}",
            self.group_id
        );
        Ok(Some(assignment))
    }

    /// The leader's job: decode every member's subscription, look up the partition counts and
    /// run the protocol the coordinator chose. Also returns the partition count of every topic
    /// of the group's subscription (0 for a missing one), to notice later changes.
    async fn lead(
        &self,
        response: &JoinGroupResponse,
    ) -> Result<(Vec<SyncGroupRequestAssignment>, BTreeMap<String, i32>), ClientError> {
        let protocol = response
            .protocol_name
            .as_ref()
            .map(|p| p.to_string())
            .unwrap_or_default();
        let assignor = Assignor::from_name(&protocol).ok_or_else(|| {
            ClientError::Protocol(format!(
                "The coordinator chose assignor {protocol}, which this consumer does not have"
            ))
        })?;
        let mut members = Vec::new();
        for m in &response.members {
            // A member whose subscription cannot be read still gets an (empty) assignment.
            let topics = match Subscription::decode(&m.metadata) {
                Ok(s) => s.topics,
                Err(e) => {
                    tracing::warn!(
                        "member {} sent a bad subscription: {e}",
                        m.member_id.as_str()
                    );
                    Vec::new()
                }
            };
            members.push(MemberSubscription {
                member_id: m.member_id.to_string(),
                group_instance_id: m.group_instance_id.as_ref().map(|g| g.to_string()),
                topics,
            });
        }
        let mut all_topics: Vec<String> = members.iter().flat_map(|m| m.topics.clone()).collect();
        all_topics.sort();
        all_topics.dedup();
        let mut counts = BTreeMap::new();
        let mut seen = BTreeMap::new();
        if !all_topics.is_empty() {
            let snapshot = self
                .cluster
                .refresh(Some(&all_topics), self.allow_auto_create_topics)
                .await?;
            seen = snapshot.partition_counts(all_topics.iter());
            for (name, t) in &snapshot.topics {
                if t.error_code == 0 {
                    counts.insert(name.clone(), t.partitions.len() as i32);
                }
            }
        }
        let result = assignor.assign(&counts, &members);
        let assignments = result
            .into_iter()
            .map(|(member_id, topics)| {
                let assignment = Assignment {
                    partitions: topics.into_iter().collect(),
                    user_data: None,
                };
                SyncGroupRequestAssignment::default()
                    .with_member_id(StrBytes::from_string(member_id))
                    .with_assignment(Bytes::from(assignment.encode(ASSIGNMENT_VERSION)))
            })
            .collect();
        Ok((assignments, seen))
    }

    fn start_heartbeat(&mut self) {
        if self.heartbeat.is_some() {
            return;
        }
        let shared = self.shared.clone();
        let group_id = self.group_id.clone();
        let instance_id = self.instance_id.clone();
        let interval = self.heartbeat_interval;
        let task = tokio::spawn(heartbeat_loop(shared, group_id, instance_id, interval));
        self.heartbeat = Some(AbortOnDrop(task.abort_handle()));
    }

    /// Committed offsets for `partitions` (None where the group has none).
    pub(crate) async fn fetch_offsets(
        &self,
        partitions: &[(String, i32)],
    ) -> Result<BTreeMap<(String, i32), CommittedOffset>, ClientError> {
        let mut by_topic: BTreeMap<String, Vec<i32>> = BTreeMap::new();
        for (t, p) in partitions {
            by_topic.entry(t.clone()).or_default().push(*p);
        }
        let request = OffsetFetchRequest::default()
            .with_group_id(GroupId(StrBytes::from_string(self.group_id.clone())))
            .with_topics(Some(
                by_topic
                    .into_iter()
                    .map(|(t, ps)| {
                        OffsetFetchRequestTopic::default()
                            .with_name(TopicName(StrBytes::from_string(t)))
                            .with_partition_indexes(ps)
                    })
                    .collect(),
            ));
        let conn = self.coordinator().await?;
        let response = conn.send(request).await?;
        if response.error_code != 0 {
            self.coordinator_error(response.error_code);
            return Err(ClientError::kafka(response.error_code, None));
        }
        let mut out = BTreeMap::new();
        for t in response.topics {
            for p in t.partitions {
                if p.error_code != 0 {
                    self.coordinator_error(p.error_code);
                    return Err(ClientError::kafka(p.error_code, None));
                }
                if p.committed_offset >= 0 {
                    out.insert(
                        (t.name.0.to_string(), p.partition_index),
                        CommittedOffset {
                            offset: p.committed_offset,
                            metadata: p.metadata.map(|m| m.to_string()),
                        },
                    );
                }
            }
        }
        Ok(out)
    }

    /// Commits offsets with this member's generation. A member error (rebalance, unknown member,
    /// stale generation) also marks the membership for a rejoin.
    pub(crate) async fn commit(&self, offsets: &[(String, i32, i64)]) -> Result<(), ClientError> {
        if offsets.is_empty() {
            return Ok(());
        }
        let member = self.shared.member();
        let conn = self.coordinator().await?;
        let version = conn.version_for::<OffsetCommitRequest>()?;
        let mut by_topic: BTreeMap<String, Vec<OffsetCommitRequestPartition>> = BTreeMap::new();
        for (t, p, o) in offsets {
            by_topic.entry(t.clone()).or_default().push(
                OffsetCommitRequestPartition::default()
                    .with_partition_index(*p)
                    .with_committed_offset(*o)
                    .with_committed_metadata(Some(StrBytes::from_static_str(""))),
            );
        }
        let mut request = OffsetCommitRequest::default()
            .with_group_id(GroupId(StrBytes::from_string(self.group_id.clone())))
            .with_generation_id_or_member_epoch(member.generation)
            .with_member_id(StrBytes::from_string(member.member_id.clone()))
            .with_topics(
                by_topic
                    .into_iter()
                    .map(|(t, ps)| {
                        OffsetCommitRequestTopic::default()
                            .with_name(TopicName(StrBytes::from_string(t)))
                            .with_partitions(ps)
                    })
                    .collect(),
            );
        if version >= 7 {
            request =
                request.with_group_instance_id(self.instance_id.clone().map(StrBytes::from_string));
        }
        let response = conn.send(request).await?;
        for t in response.topics {
            for p in t.partitions {
                if p.error_code != 0 {
                    if matches!(
                        p.error_code,
                        REBALANCE_IN_PROGRESS | ILLEGAL_GENERATION | UNKNOWN_MEMBER_ID
                    ) {
                        self.on_member_error(p.error_code);
                    } else {
                        self.coordinator_error(p.error_code);
                    }
                    return Err(ClientError::kafka(p.error_code, None));
                }
            }
        }
        Ok(())
    }

    /// Kafka's `ConsumerCoordinator.commitOffsetsSync`: commits `offsets`, and while the
    /// attempt fails with an error its `OffsetCommitResponseHandler` retries (the coordinator
    /// moved or is not available: NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, REQUEST_TIMED_OUT,
    /// or a lost connection, after which the coordinator is looked up again; or it is loading:
    /// COORDINATOR_LOAD_IN_PROGRESS, UNKNOWN_TOPIC_OR_PARTITION) tries again after a backoff
    /// growing from `retry.backoff.ms` to `retry.backoff.max.ms`, until `timeout` (the
    /// consumer's `default.api.timeout.ms`). Then it fails with Kafka's TimeoutException text
    /// ("Timeout of 60000ms expired before successfully committing offsets {...}"). Other
    /// errors (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS, FENCED_INSTANCE_ID,
    /// ...) are returned at once.
    pub(crate) async fn commit_sync(
        &self,
        offsets: &[(String, i32, i64)],
        timeout: Duration,
    ) -> Result<(), ClientError> {
        if offsets.is_empty() {
            return Ok(());
        }
        let deadline = crate::time::after(Instant::now(), timeout);
        let mut backoff = self.backoff;
        loop {
            match self.commit(offsets).await {
                Ok(()) => return Ok(()),
                Err(e) if commit_retriable(&e) => {
                    if coordinator_unknown_after(&e) {
                        self.shared.coordinator_lost.store(true, Ordering::SeqCst);
                    }
                    tracing::debug!(
                        "[Consumer groupId={}] Offset commit failed, will retry: {e}",
                        self.group_id
                    );
                }
                Err(e) => return Err(e),
            }
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            tokio::time::sleep(backoff.min(deadline - now)).await;
            if Instant::now() >= deadline {
                break;
            }
            backoff = (backoff * 2).min(self.backoff_max);
        }
        Err(ClientError::Timeout(format!(
            "Timeout of {}ms expired before successfully committing offsets {}",
            timeout.as_millis(),
            offsets_text(offsets)
        )))
    }

    /// Leaves the group (dynamic members only: a static member keeps its place until its
    /// session times out, as Kafka's consumer does) and stops heartbeating.
    pub(crate) async fn leave(&mut self) -> Result<(), ClientError> {
        self.heartbeat = None;
        self.assignment_snapshot = None;
        let member = self.shared.member();
        self.shared.update(|m| m.generation = -1);
        if self.instance_id.is_some() || member.member_id.is_empty() || !self.joined {
            return Ok(());
        }
        self.joined = false;
        let Some(conn) = member.coordinator.filter(|c| !c.is_closed()) else {
            return Ok(());
        };
        tracing::info!(
            "[Consumer groupId={}] Member {} sending LeaveGroup request to coordinator",
            self.group_id,
            member.member_id
        );
        let version = conn.version_for::<LeaveGroupRequest>()?;
        let mut request = LeaveGroupRequest::default()
            .with_group_id(GroupId(StrBytes::from_string(self.group_id.clone())));
        if version >= 3 {
            request = request.with_members(vec![MemberIdentity::default()
                .with_member_id(StrBytes::from_string(member.member_id.clone()))]);
        } else {
            request = request.with_member_id(StrBytes::from_string(member.member_id.clone()));
        }
        let response = conn.send(request).await?;
        ClientError::check(response.error_code, None)
    }
}

/// Whether a synchronous commit tries again after `e`, as Kafka's `OffsetCommitResponseHandler`
/// and coordinator lookup decide: a lost connection or request timeout, the coordinator moved,
/// unavailable or loading, or UNKNOWN_TOPIC_OR_PARTITION.
fn commit_retriable(e: &ClientError) -> bool {
    match e {
        ClientError::Io { .. } | ClientError::Timeout(_) => true,
        ClientError::Kafka { code, .. } => matches!(
            *code,
            COORDINATOR_LOAD_IN_PROGRESS
                | UNKNOWN_TOPIC_OR_PARTITION
                | COORDINATOR_NOT_AVAILABLE
                | NOT_COORDINATOR
                | REQUEST_TIMED_OUT
        ),
        _ => false,
    }
}

/// Errors after which Kafka marks the coordinator unknown (looked up again before the next
/// attempt).
fn coordinator_unknown_after(e: &ClientError) -> bool {
    match e {
        ClientError::Io { .. } | ClientError::Timeout(_) => true,
        ClientError::Kafka { code, .. } => matches!(
            *code,
            COORDINATOR_NOT_AVAILABLE | NOT_COORDINATOR | REQUEST_TIMED_OUT
        ),
        _ => false,
    }
}

/// Offsets as Kafka prints a `Map<TopicPartition, OffsetAndMetadata>`:
/// `{t-0=OffsetAndMetadata{offset=5, leaderEpoch=null, metadata=''}}`.
fn offsets_text(offsets: &[(String, i32, i64)]) -> String {
    let entries: Vec<String> = offsets
        .iter()
        .map(|(t, p, o)| {
            format!("{t}-{p}=OffsetAndMetadata{{offset={o}, leaderEpoch=null, metadata=''}}")
        })
        .collect();
    format!("{{{}}}", entries.join(", "))
}

async fn heartbeat_loop(
    shared: Arc<Shared>,
    group_id: String,
    instance_id: Option<String>,
    interval: Duration,
) {
    loop {
        tokio::time::sleep(interval).await;
        let member = shared.member();
        if member.generation < 0 || shared.rejoin.load(Ordering::SeqCst) {
            continue;
        }
        let Some(conn) = member.coordinator else {
            continue;
        };
        let version = match conn.version_for::<HeartbeatRequest>() {
            Ok(v) => v,
            Err(_) => continue,
        };
        let mut request = HeartbeatRequest::default()
            .with_group_id(GroupId(StrBytes::from_string(group_id.clone())))
            .with_generation_id(member.generation)
            .with_member_id(StrBytes::from_string(member.member_id.clone()));
        if version >= 3 {
            request =
                request.with_group_instance_id(instance_id.clone().map(StrBytes::from_string));
        }
        let code = match conn.send(request).await {
            Ok(r) => r.error_code,
            Err(e) => {
                tracing::debug!("heartbeat to the coordinator of {group_id} failed: {e}");
                shared.coordinator_lost.store(true, Ordering::SeqCst);
                continue;
            }
        };
        // The membership may have moved on while the heartbeat was in flight.
        let now = shared.member();
        if now.generation != member.generation || now.member_id != member.member_id {
            continue;
        }
        match code {
            0 => {}
            REBALANCE_IN_PROGRESS => {
                tracing::info!("[Consumer groupId={group_id}] Request joining group due to: group is already rebalancing");
                shared.rejoin.store(true, Ordering::SeqCst);
            }
            ILLEGAL_GENERATION => {
                shared.update(|m| m.generation = -1);
                shared.rejoin.store(true, Ordering::SeqCst);
            }
            UNKNOWN_MEMBER_ID => {
                shared.update(|m| {
                    m.member_id.clear();
                    m.generation = -1;
                });
                shared.rejoin.store(true, Ordering::SeqCst);
            }
            COORDINATOR_NOT_AVAILABLE | NOT_COORDINATOR => {
                shared.coordinator_lost.store(true, Ordering::SeqCst);
                shared.rejoin.store(true, Ordering::SeqCst);
            }
            // Another consumer joined with this member's group.instance.id: fatal, as in
            // Kafka's `AbstractCoordinator` (the generation is reset and the next poll raises
            // FencedInstanceIdException).
            FENCED_INSTANCE_ID => {
                let instance = instance_id
                    .as_deref()
                    .map_or("Optional.empty".to_string(), |i| format!("Optional[{i}]"));
                tracing::info!(
                    "[Consumer groupId={group_id}] Attempt to heartbeat with generation {} and group instance id {instance} failed due to FENCED_INSTANCE_ID, resetting generation",
                    member.generation
                );
                shared.update(|m| {
                    m.member_id.clear();
                    m.generation = -1;
                });
                shared.rejoin.store(true, Ordering::SeqCst);
                tracing::error!(
                    "[Consumer groupId={group_id}] Caught fenced group.instance.id {instance} error in heartbeat thread"
                );
                shared.set_fatal(ClientError::kafka(FENCED_INSTANCE_ID, None));
            }
            code => {
                tracing::warn!(
                    "[Consumer groupId={group_id}] heartbeat failed: {}",
                    ClientError::kafka(code, None)
                );
            }
        }
    }
}
