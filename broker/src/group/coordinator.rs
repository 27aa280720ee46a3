//! The groups this broker coordinates and the classic protocol's transitions over them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bytes::Bytes;

use super::records::{GroupValue, MemberValue, OffsetValue};
use super::txn_offsets::PendingTxnOffsets;
use super::{GroupState, Reply, Token};
use common::errors::ErrorCode;

/// A member that joined but was never answered leaves after this long (Kafka's
/// `NewMemberJoinTimeoutMs`), so a client that vanished mid-join does not block a rebalance.
const NEW_MEMBER_JOIN_TIMEOUT_MS: u64 = 300_000;

/// The broker's `group.*` settings, and `offsets.retention.minutes` in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupConfig {
    pub initial_rebalance_delay_ms: u64,
    pub min_session_timeout_ms: u64,
    pub max_session_timeout_ms: u64,
    /// How long a consumer group stays Empty before its offsets expire and it goes Dead
    /// (Kafka's `offsets.retention.minutes`, default 7 days).
    pub offsets_retention_ms: u64,
}

impl Default for GroupConfig {
    fn default() -> Self {
        GroupConfig {
            initial_rebalance_delay_ms: 3000,
            min_session_timeout_ms: 6000,
            max_session_timeout_ms: 1_800_000,
            offsets_retention_ms: 7 * 24 * 3_600_000,
        }
    }
}

/// One JoinGroup request, decoded.
#[derive(Debug, Clone, Default)]
pub struct JoinRequest {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub client_id: String,
    /// As DescribeGroups shows it: `/127.0.0.1`.
    pub client_host: String,
    pub session_timeout_ms: i32,
    /// Below v1 there is none: the session timeout stands in (as Kafka does).
    pub rebalance_timeout_ms: i32,
    pub protocol_type: String,
    pub protocols: Vec<(String, Bytes)>,
    /// v4+: an unknown member is first given an id and asked to join again with it.
    pub require_known_member_id: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinedMember {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub metadata: Bytes,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JoinResult {
    pub error: i16,
    pub generation: i32,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub leader: String,
    pub member_id: String,
    /// Filled for the leader only.
    pub members: Vec<JoinedMember>,
}

impl JoinResult {
    fn error(error: i16, member_id: &str) -> Self {
        JoinResult {
            error,
            generation: -1,
            member_id: member_id.to_string(),
            ..Default::default()
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct SyncRequest {
    pub generation: i32,
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub assignments: Vec<(String, Bytes)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyncResult {
    pub error: i16,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub assignment: Bytes,
}

impl SyncResult {
    fn error(error: i16) -> Self {
        SyncResult {
            error,
            ..Default::default()
        }
    }
}

/// The per-member answers of a LeaveGroup, plus its top-level error.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LeaveOutcome {
    pub error: i16,
    pub members: Vec<(String, Option<String>, i16)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberDescription {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub metadata: Bytes,
    pub assignment: Bytes,
}

/// A committed offset as the coordinator caches it: the value in `__consumer_offsets` and the
/// log offset of the record that holds it (a later record for the same partition wins, whatever
/// order the appends complete in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedOffset {
    pub value: OffsetValue,
    pub log_offset: i64,
}

/// What one pass of the periodic cleanup removed from a group (Kafka's
/// `GroupMetadataManager.cleanupGroupMetadata`): the partitions whose offsets expired, and
/// whether the group itself went Dead and was removed. Tombstones are written for both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expired {
    pub group_id: String,
    pub partitions: Vec<(String, i32)>,
    pub dead: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDescription {
    pub state: GroupState,
    pub protocol_type: String,
    pub protocol: String,
    pub members: Vec<MemberDescription>,
}

#[derive(Debug, Clone)]
struct Member {
    id: String,
    instance_id: Option<String>,
    client_id: String,
    client_host: String,
    session_timeout_ms: u64,
    rebalance_timeout_ms: u64,
    protocol_type: String,
    protocols: Vec<(String, Bytes)>,
    assignment: Bytes,
    awaiting_join: Option<Token>,
    awaiting_sync: Option<Token>,
    /// Session deadline: the member is removed when it passes without a heartbeat.
    heartbeat_deadline: u64,
    /// Joined during the current rebalance and not yet answered.
    is_new: bool,
    joined_at: u64,
}

impl Member {
    fn metadata_for(&self, protocol: &str) -> Bytes {
        self.protocols
            .iter()
            .find(|(n, _)| n == protocol)
            .map(|(_, m)| m.clone())
            .unwrap_or_default()
    }

    fn matches(&self, protocols: &[(String, Bytes)]) -> bool {
        self.protocols == protocols
    }

    /// Members waiting for a join or sync answer are governed by the rebalance timeout, not the
    /// session (Kafka's `hasSatisfiedHeartbeat`); a new member gives up after five minutes.
    fn expired(&self, now: u64) -> bool {
        if self.is_new && self.awaiting_join.is_some() {
            return now >= self.joined_at.saturating_add(NEW_MEMBER_JOIN_TIMEOUT_MS);
        }
        if self.awaiting_join.is_some() || self.awaiting_sync.is_some() {
            return false;
        }
        now >= self.heartbeat_deadline
    }
}

/// A join phase's end: either the initial delay of a new group (extended while members keep
/// arriving) or the rebalance timeout.
#[derive(Debug, Clone, Copy)]
enum JoinTimer {
    Initial {
        deadline: u64,
        remaining_ms: u64,
        new_member_added: bool,
    },
    Rebalance {
        deadline: u64,
    },
}

#[derive(Debug, Clone)]
struct Group {
    id: String,
    state: GroupState,
    generation: i32,
    protocol_type: Option<String>,
    protocol: Option<String>,
    leader: Option<String>,
    /// In join order: the first member to join leads, and the vote breaks ties by it.
    members: BTreeMap<u64, Member>,
    next_seq: u64,
    static_members: HashMap<String, String>,
    /// Ids handed out with ErrorCode::MemberIdRequired.code(), with the deadline to come back by.
    pending_members: HashMap<String, u64>,
    /// Members that have not sent SyncGroup for this generation yet.
    pending_sync: BTreeSet<String>,
    join_timer: Option<JoinTimer>,
    sync_deadline: Option<u64>,
    /// When the group last became Empty (Kafka's `currentStateTimestamp` for the Empty state):
    /// its offsets expire `offsets.retention.minutes` after it.
    empty_since: u64,
    /// The group's committed offsets by (topic, partition).
    offsets: HashMap<(String, i32), CommittedOffset>,
    /// Transactional offsets waiting for their transaction's marker.
    pending_txn: PendingTxnOffsets,
}

impl Group {
    fn new(id: &str, generation: i32, now: u64) -> Self {
        Group {
            id: id.to_string(),
            state: GroupState::Empty,
            generation,
            protocol_type: None,
            protocol: None,
            leader: None,
            members: BTreeMap::new(),
            next_seq: 0,
            static_members: HashMap::new(),
            pending_members: HashMap::new(),
            pending_sync: BTreeSet::new(),
            join_timer: None,
            sync_deadline: None,
            empty_since: now,
            offsets: HashMap::new(),
            pending_txn: PendingTxnOffsets::default(),
        }
    }

    /// The group as `__consumer_offsets` records it (Kafka's `GroupMetadataManager.
    /// groupMetadataValue`): each member with its metadata for the chosen protocol. The state
    /// timestamp is filled in when written.
    fn to_value(&self) -> GroupValue {
        let protocol = self.protocol.clone().unwrap_or_default();
        GroupValue {
            protocol_type: self.protocol_type.clone().unwrap_or_default(),
            generation: self.generation,
            protocol: self.protocol.clone(),
            leader: self.leader.clone(),
            current_state_timestamp: -1,
            members: self
                .members
                .values()
                .map(|m| MemberValue {
                    member_id: m.id.clone(),
                    group_instance_id: m.instance_id.clone(),
                    client_id: m.client_id.clone(),
                    client_host: m.client_host.clone(),
                    rebalance_timeout_ms: i32::try_from(m.rebalance_timeout_ms).unwrap_or(i32::MAX),
                    session_timeout_ms: i32::try_from(m.session_timeout_ms).unwrap_or(i32::MAX),
                    subscription: m.metadata_for(&protocol),
                    assignment: m.assignment.clone(),
                })
                .collect(),
        }
    }

    /// A Persist of the group as it is now, releasing `then` once written.
    fn persist(&self, then: Vec<Reply>) -> Reply {
        Reply::Persist {
            group: self.id.clone(),
            value: self.to_value(),
            then,
        }
    }

    fn member(&self, id: &str) -> Option<&Member> {
        self.members.values().find(|m| m.id == id)
    }

    fn member_mut(&mut self, id: &str) -> Option<&mut Member> {
        self.members.values_mut().find(|m| m.id == id)
    }

    fn has(&self, id: &str) -> bool {
        self.member(id).is_some()
    }

    fn is_leader(&self, id: &str) -> bool {
        self.leader.as_deref() == Some(id)
    }

    /// Protocols every member supports, in no particular order.
    fn candidate_protocols(&self) -> BTreeSet<String> {
        let mut iter = self.members.values();
        let Some(first) = iter.next() else {
            return BTreeSet::new();
        };
        let mut set: BTreeSet<String> = first.protocols.iter().map(|(n, _)| n.clone()).collect();
        for m in iter {
            set.retain(|p| m.protocols.iter().any(|(n, _)| n == p));
        }
        set
    }

    /// Kafka's `supportsProtocols`: an empty group takes any non-empty type; otherwise the type
    /// must match and one of the offered protocols must be supported by every member.
    fn supports(&self, protocol_type: &str, protocols: &[(String, Bytes)]) -> bool {
        if self.members.is_empty() {
            return !protocol_type.is_empty() && !protocols.is_empty();
        }
        let candidates = self.candidate_protocols();
        self.protocol_type.as_deref() == Some(protocol_type)
            && protocols.iter().any(|(n, _)| candidates.contains(n))
    }

    /// Each member votes for its most preferred protocol among those all support; the most votes
    /// win, ties going to the earliest member's preference.
    fn select_protocol(&self) -> Option<String> {
        let candidates = self.candidate_protocols();
        let mut votes: HashMap<&str, usize> = HashMap::new();
        for m in self.members.values() {
            if let Some((name, _)) = m.protocols.iter().find(|(n, _)| candidates.contains(n)) {
                *votes.entry(name.as_str()).or_default() += 1;
            }
        }
        let best = votes.values().copied().max()?;
        self.members
            .values()
            .next()?
            .protocols
            .iter()
            .map(|(n, _)| n.as_str())
            .find(|n| votes.get(n) == Some(&best))
            .map(str::to_string)
    }

    fn all_members_joined(&self) -> bool {
        self.pending_members.is_empty() && self.members.values().all(|m| m.awaiting_join.is_some())
    }

    fn rebalance_timeout_ms(&self) -> u64 {
        self.members
            .values()
            .map(|m| m.rebalance_timeout_ms)
            .max()
            .unwrap_or(0)
    }

    fn add_member(&mut self, member: Member) {
        if self.members.is_empty() {
            self.protocol_type = Some(member.protocol_type.clone());
        }
        if self.leader.is_none() {
            self.leader = Some(member.id.clone());
        }
        if let Some(instance) = &member.instance_id {
            self.static_members
                .insert(instance.clone(), member.id.clone());
        }
        self.pending_members.remove(&member.id);
        self.members.insert(self.next_seq, member);
        self.next_seq += 1;
        if let Some(JoinTimer::Initial {
            new_member_added, ..
        }) = &mut self.join_timer
        {
            *new_member_added = true;
        }
    }

    /// Removes a member, answering whatever it had parked with ErrorCode::UnknownMemberId.code().
    fn remove_member(&mut self, id: &str, replies: &mut Vec<Reply>) {
        let Some(key) = self
            .members
            .iter()
            .find(|(_, m)| m.id == id)
            .map(|(k, _)| *k)
        else {
            return;
        };
        let Some(member) = self.members.remove(&key) else {
            return;
        };
        if let Some(token) = member.awaiting_join {
            replies.push(Reply::Join(
                token,
                JoinResult::error(ErrorCode::UnknownMemberId.code(), &member.id),
            ));
        }
        if let Some(token) = member.awaiting_sync {
            replies.push(Reply::Sync(
                token,
                SyncResult::error(ErrorCode::UnknownMemberId.code()),
            ));
        }
        if let Some(instance) = &member.instance_id {
            if self.static_members.get(instance) == Some(&member.id) {
                self.static_members.remove(instance);
            }
        }
        self.pending_sync.remove(id);
        if self.is_leader(id) {
            self.leader = self.members.values().next().map(|m| m.id.clone());
        }
    }

    fn prepare_rebalance(&mut self, now: u64, config: &GroupConfig, replies: &mut Vec<Reply>) {
        if self.state == GroupState::CompletingRebalance {
            // The assignment in progress is void: waiting syncs learn a new round has begun.
            for m in self.members.values_mut() {
                m.assignment = Bytes::new();
                if let Some(token) = m.awaiting_sync.take() {
                    replies.push(Reply::Sync(
                        token,
                        SyncResult::error(ErrorCode::RebalanceInProgress.code()),
                    ));
                }
            }
        }
        self.pending_sync.clear();
        self.sync_deadline = None;
        let rebalance_ms = self.rebalance_timeout_ms();
        self.join_timer = Some(if self.state == GroupState::Empty {
            let delay = config.initial_rebalance_delay_ms;
            JoinTimer::Initial {
                deadline: now + delay,
                remaining_ms: rebalance_ms.saturating_sub(delay),
                new_member_added: false,
            }
        } else {
            JoinTimer::Rebalance {
                deadline: now + rebalance_ms,
            }
        });
        self.state = GroupState::PreparingRebalance;
        // Kafka's `tryCompleteElseWatch`: when nobody is left to wait for (the last member left
        // or expired), the join completes at once and the group is Empty, never lingering in
        // PreparingRebalance.
        self.try_complete_join(now, replies);
    }

    fn maybe_prepare_rebalance(
        &mut self,
        now: u64,
        config: &GroupConfig,
        replies: &mut Vec<Reply>,
    ) {
        if matches!(
            self.state,
            GroupState::Stable | GroupState::CompletingRebalance | GroupState::Empty
        ) {
            self.prepare_rebalance(now, config, replies);
        }
    }

    /// Completes the join phase early when everyone is back (not during a new group's initial
    /// delay, which always runs its course).
    fn try_complete_join(&mut self, now: u64, replies: &mut Vec<Reply>) {
        if self.state == GroupState::PreparingRebalance
            && matches!(self.join_timer, Some(JoinTimer::Rebalance { .. }))
            && self.all_members_joined()
        {
            self.complete_join(now, replies);
        }
    }

    /// Kafka's `onCompleteJoin`: drop dynamic members that did not rejoin, start the next
    /// generation and answer every waiting JoinGroup (the leader gets the member list).
    fn complete_join(&mut self, now: u64, replies: &mut Vec<Reply>) {
        self.join_timer = None;
        let absent: Vec<String> = self
            .members
            .values()
            .filter(|m| m.awaiting_join.is_none() && m.instance_id.is_none())
            .map(|m| m.id.clone())
            .collect();
        for id in absent {
            self.remove_member(&id, replies);
        }
        self.pending_members.clear();
        // The leader must be among those who rejoined, or it could not run the assignment.
        let leader_joined = self
            .leader
            .as_deref()
            .and_then(|l| self.member(l))
            .is_some_and(|m| m.awaiting_join.is_some());
        if !leader_joined {
            if let Some(m) = self.members.values().find(|m| m.awaiting_join.is_some()) {
                self.leader = Some(m.id.clone());
            }
        }
        self.generation = self.generation.saturating_add(1);
        if self.members.is_empty() {
            // Kafka's `initNextGeneration` with no members: the protocol is cleared, the
            // protocol type is kept (an Empty former consumer group is still a "consumer" group).
            self.protocol = None;
            self.leader = None;
            self.state = GroupState::Empty;
            self.empty_since = now;
            // Kafka stores the Empty group with its new generation (`onCompleteJoin`).
            replies.push(self.persist(Vec::new()));
            return;
        }
        self.protocol = self.select_protocol();
        self.state = GroupState::CompletingRebalance;
        self.sync_deadline = Some(now + self.rebalance_timeout_ms());
        self.pending_sync = self.members.values().map(|m| m.id.clone()).collect();
        let protocol = self.protocol.clone().unwrap_or_default();
        let all: Vec<JoinedMember> = self
            .members
            .values()
            .map(|m| JoinedMember {
                member_id: m.id.clone(),
                group_instance_id: m.instance_id.clone(),
                metadata: m.metadata_for(&protocol),
            })
            .collect();
        let leader = self.leader.clone().unwrap_or_default();
        let generation = self.generation;
        let protocol_type = self.protocol_type.clone();
        for m in self.members.values_mut() {
            m.is_new = false;
            m.heartbeat_deadline = now + m.session_timeout_ms;
            if let Some(token) = m.awaiting_join.take() {
                replies.push(Reply::Join(
                    token,
                    JoinResult {
                        error: ErrorCode::None.code(),
                        generation,
                        protocol_type: protocol_type.clone(),
                        protocol_name: Some(protocol.clone()),
                        leader: leader.clone(),
                        member_id: m.id.clone(),
                        members: if m.id == leader {
                            all.clone()
                        } else {
                            Vec::new()
                        },
                    },
                ));
            }
        }
    }

    /// The answer to a member that rejoins without changing anything: the current generation.
    fn current_join_result(&self, member_id: &str) -> JoinResult {
        let protocol = self.protocol.clone().unwrap_or_default();
        let members = if self.is_leader(member_id) {
            self.members
                .values()
                .map(|m| JoinedMember {
                    member_id: m.id.clone(),
                    group_instance_id: m.instance_id.clone(),
                    metadata: m.metadata_for(&protocol),
                })
                .collect()
        } else {
            Vec::new()
        };
        JoinResult {
            error: ErrorCode::None.code(),
            generation: self.generation,
            protocol_type: self.protocol_type.clone(),
            protocol_name: Some(protocol),
            leader: self.leader.clone().unwrap_or_default(),
            member_id: member_id.to_string(),
            members,
        }
    }

    /// A member that left or timed out: the others rebalance without it.
    fn remove_member_and_update(
        &mut self,
        id: &str,
        now: u64,
        config: &GroupConfig,
        replies: &mut Vec<Reply>,
    ) {
        self.remove_member(id, replies);
        match self.state {
            GroupState::Stable | GroupState::CompletingRebalance => {
                self.prepare_rebalance(now, config, replies)
            }
            GroupState::PreparingRebalance => self.try_complete_join(now, replies),
            GroupState::Empty | GroupState::Dead => {}
        }
    }

    fn heartbeat(&mut self, id: &str, now: u64) {
        if let Some(m) = self.member_mut(id) {
            m.heartbeat_deadline = now + m.session_timeout_ms;
        }
    }

    /// ErrorCode::FencedInstanceId.code() when a static member's id is not the one the instance now has.
    fn fenced(&self, instance_id: Option<&str>, member_id: &str) -> bool {
        instance_id
            .and_then(|i| self.static_members.get(i))
            .is_some_and(|current| current != member_id)
    }

    /// Kafka's `GroupMetadata.summary`: metadata, assignments and the protocol only when Stable.
    fn describe(&self) -> GroupDescription {
        let stable = self.state == GroupState::Stable;
        let protocol = self.protocol.clone().unwrap_or_default();
        let members = self
            .members
            .values()
            .map(|m| MemberDescription {
                member_id: m.id.clone(),
                group_instance_id: m.instance_id.clone(),
                client_id: m.client_id.clone(),
                client_host: m.client_host.clone(),
                metadata: if stable {
                    m.metadata_for(&protocol)
                } else {
                    Bytes::new()
                },
                assignment: if stable {
                    m.assignment.clone()
                } else {
                    Bytes::new()
                },
            })
            .collect();
        GroupDescription {
            state: self.state,
            protocol_type: self.protocol_type.clone().unwrap_or_default(),
            protocol: if stable { protocol } else { String::new() },
            members,
        }
    }
}

/// Every group this broker coordinates: those of the `__consumer_offsets` partitions it leads,
/// loaded from them, with their members and committed offsets. An Empty group stays (listed and
/// described as Empty, with its protocol type) until the periodic cleanup finds it without
/// offsets, or its offsets expired, and removes it (Kafka's Empty -> Dead).
#[derive(Debug, Default)]
pub struct Coordinator {
    config: GroupConfig,
    groups: HashMap<String, Group>,
}

impl Coordinator {
    pub fn new(config: GroupConfig) -> Self {
        Coordinator {
            config,
            groups: HashMap::new(),
        }
    }

    /// Whether `group` is known in memory (has members, is joining, or is Empty and not yet
    /// cleaned up).
    pub fn contains(&self, group: &str) -> bool {
        self.groups.contains_key(group)
    }

    /// JoinGroup. The answer for `token` is among the returned replies, now or from a later call.
    /// `generation_floor` is the highest generation recorded for the group elsewhere (its committed
    /// offsets): a group created anew continues above it so that its commits are not fenced.
    pub fn join(
        &mut self,
        group_id: &str,
        req: JoinRequest,
        token: Token,
        generation_floor: i32,
        now: u64,
    ) -> Vec<Reply> {
        let mut replies = Vec::new();
        let err = |e: i16| vec![Reply::Join(token, JoinResult::error(e, &req.member_id))];
        if group_id.is_empty() {
            return err(ErrorCode::InvalidGroupId.code());
        }
        let session = u64::try_from(req.session_timeout_ms).unwrap_or(0);
        if session < self.config.min_session_timeout_ms
            || session > self.config.max_session_timeout_ms
        {
            return err(ErrorCode::InvalidSessionTimeout.code());
        }
        let config = self.config;
        let known_member = !req.member_id.is_empty();
        if !self.groups.contains_key(group_id) {
            if known_member {
                return err(ErrorCode::UnknownMemberId.code());
            }
            self.groups.insert(
                group_id.to_string(),
                Group::new(group_id, generation_floor.max(0), now),
            );
        }
        let Some(group) = self.groups.get_mut(group_id) else {
            return err(ErrorCode::CoordinatorNotAvailable.code());
        };
        if group.state == GroupState::Dead {
            return err(ErrorCode::CoordinatorNotAvailable.code());
        }
        if group.state == GroupState::Empty && group.members.is_empty() {
            // An Empty group kept in memory may have lived on, meanwhile, at another coordinator.
            group.generation = group.generation.max(generation_floor);
        }
        if !group.supports(&req.protocol_type, &req.protocols) {
            replies.extend(err(ErrorCode::InconsistentGroupProtocol.code()));
        } else if !known_member {
            Self::join_new_member(group, req, token, now, &config, &mut replies);
        } else {
            Self::join_current_member(group, req, token, now, &config, &mut replies);
        }
        replies
    }

    fn new_member(req: &JoinRequest, id: String, token: Token, now: u64) -> Member {
        let session = u64::try_from(req.session_timeout_ms).unwrap_or(0);
        let rebalance = u64::try_from(req.rebalance_timeout_ms).unwrap_or(session);
        Member {
            id,
            instance_id: req.group_instance_id.clone(),
            client_id: req.client_id.clone(),
            client_host: req.client_host.clone(),
            session_timeout_ms: session,
            rebalance_timeout_ms: rebalance,
            protocol_type: req.protocol_type.clone(),
            protocols: req.protocols.clone(),
            assignment: Bytes::new(),
            awaiting_join: Some(token),
            awaiting_sync: None,
            heartbeat_deadline: now + session,
            is_new: true,
            joined_at: now,
        }
    }

    fn join_new_member(
        group: &mut Group,
        req: JoinRequest,
        token: Token,
        now: u64,
        config: &GroupConfig,
        replies: &mut Vec<Reply>,
    ) {
        let new_id = format!("{}-{}", req.client_id, uuid::Uuid::new_v4());
        if let Some(instance) = req.group_instance_id.clone() {
            if let Some(old_id) = group.static_members.get(&instance).cloned() {
                Self::replace_static_member(
                    group, &old_id, new_id, req, token, now, config, replies,
                );
                return;
            }
        } else if req.require_known_member_id {
            // KIP-394: hand out the id first, so a client that dies before rejoining leaves
            // no member behind; it expires from the pending set after its session timeout.
            let session = u64::try_from(req.session_timeout_ms).unwrap_or(0);
            group.pending_members.insert(new_id.clone(), now + session);
            replies.push(Reply::Join(
                token,
                JoinResult::error(ErrorCode::MemberIdRequired.code(), &new_id),
            ));
            return;
        }
        let member = Self::new_member(&req, new_id, token, now);
        group.add_member(member);
        group.maybe_prepare_rebalance(now, config, replies);
        group.try_complete_join(now, replies);
    }

    /// A static member coming back with a fresh id replaces its old incarnation; in a Stable group
    /// with unchanged protocols it keeps its assignment and no rebalance happens.
    #[allow(clippy::too_many_arguments)]
    fn replace_static_member(
        group: &mut Group,
        old_id: &str,
        new_id: String,
        req: JoinRequest,
        token: Token,
        now: u64,
        config: &GroupConfig,
        replies: &mut Vec<Reply>,
    ) {
        let was_leader = group.is_leader(old_id);
        let Some(old) = group.member_mut(old_id) else {
            return;
        };
        // Whatever the old incarnation had parked is fenced now.
        if let Some(t) = old.awaiting_join.take() {
            replies.push(Reply::Join(
                t,
                JoinResult::error(ErrorCode::FencedInstanceId.code(), old_id),
            ));
        }
        if let Some(t) = old.awaiting_sync.take() {
            replies.push(Reply::Sync(
                t,
                SyncResult::error(ErrorCode::FencedInstanceId.code()),
            ));
        }
        let unchanged = old.matches(&req.protocols);
        old.id = new_id.clone();
        old.client_id = req.client_id.clone();
        old.client_host = req.client_host.clone();
        old.session_timeout_ms = u64::try_from(req.session_timeout_ms).unwrap_or(0);
        old.rebalance_timeout_ms =
            u64::try_from(req.rebalance_timeout_ms).unwrap_or(old.session_timeout_ms);
        old.heartbeat_deadline = now + old.session_timeout_ms;
        if let Some(instance) = &req.group_instance_id {
            group
                .static_members
                .insert(instance.clone(), new_id.clone());
        }
        if was_leader {
            group.leader = Some(new_id.clone());
        }
        if group.pending_sync.remove(old_id) {
            group.pending_sync.insert(new_id.clone());
        }
        if group.state == GroupState::Stable && unchanged {
            let mut result = group.current_join_result(&new_id);
            // A rejoining static leader must not redo an assignment nobody asked for.
            result.members.clear();
            // The new member id is stored before the member learns it
            // (`updateStaticMemberAndRebalance`).
            let persist = group.persist(vec![Reply::Join(token, result)]);
            replies.push(persist);
            return;
        }
        if let Some(m) = group.member_mut(&new_id) {
            m.protocols = req.protocols.clone();
            m.awaiting_join = Some(token);
        }
        group.maybe_prepare_rebalance(now, config, replies);
        group.try_complete_join(now, replies);
    }

    fn join_current_member(
        group: &mut Group,
        req: JoinRequest,
        token: Token,
        now: u64,
        config: &GroupConfig,
        replies: &mut Vec<Reply>,
    ) {
        let id = req.member_id.clone();
        if group.pending_members.contains_key(&id) {
            let member = Self::new_member(&req, id, token, now);
            group.add_member(member);
            group.maybe_prepare_rebalance(now, config, replies);
            group.try_complete_join(now, replies);
            return;
        }
        if group.fenced(req.group_instance_id.as_deref(), &id) {
            replies.push(Reply::Join(
                token,
                JoinResult::error(ErrorCode::FencedInstanceId.code(), &id),
            ));
            return;
        }
        let Some(member) = group.member(&id) else {
            replies.push(Reply::Join(
                token,
                JoinResult::error(ErrorCode::UnknownMemberId.code(), &id),
            ));
            return;
        };
        let unchanged = member.matches(&req.protocols);
        let rejoin_same = match group.state {
            GroupState::CompletingRebalance => unchanged,
            GroupState::Stable => unchanged && !group.is_leader(&id),
            GroupState::PreparingRebalance => false,
            GroupState::Empty | GroupState::Dead => {
                replies.push(Reply::Join(
                    token,
                    JoinResult::error(ErrorCode::UnknownMemberId.code(), &id),
                ));
                return;
            }
        };
        if rejoin_same {
            group.heartbeat(&id, now);
            replies.push(Reply::Join(token, group.current_join_result(&id)));
            return;
        }
        if let Some(m) = group.member_mut(&id) {
            // A JoinGroup that was already parked for this member is superseded by this one.
            if let Some(old) = m.awaiting_join.replace(token) {
                replies.push(Reply::Join(
                    old,
                    JoinResult::error(ErrorCode::UnknownMemberId.code(), &id),
                ));
            }
            m.protocols = req.protocols;
            m.client_id = req.client_id;
            m.session_timeout_ms = u64::try_from(req.session_timeout_ms).unwrap_or(0);
            m.rebalance_timeout_ms =
                u64::try_from(req.rebalance_timeout_ms).unwrap_or(m.session_timeout_ms);
        }
        group.maybe_prepare_rebalance(now, config, replies);
        group.try_complete_join(now, replies);
    }

    /// SyncGroup. The leader's call distributes the assignment; the others wait for it.
    pub fn sync(&mut self, group_id: &str, req: SyncRequest, token: Token) -> Vec<Reply> {
        let err = |e: i16| vec![Reply::Sync(token, SyncResult::error(e))];
        let Some(group) = self.groups.get_mut(group_id) else {
            return err(ErrorCode::UnknownMemberId.code());
        };
        if group.state == GroupState::Dead {
            return err(ErrorCode::CoordinatorNotAvailable.code());
        }
        if group.fenced(req.group_instance_id.as_deref(), &req.member_id) {
            return err(ErrorCode::FencedInstanceId.code());
        }
        if !group.has(&req.member_id) {
            return err(ErrorCode::UnknownMemberId.code());
        }
        if req.generation != group.generation {
            return err(ErrorCode::IllegalGeneration.code());
        }
        if req
            .protocol_type
            .as_ref()
            .is_some_and(|t| Some(t) != group.protocol_type.as_ref())
            || req
                .protocol_name
                .as_ref()
                .is_some_and(|p| Some(p) != group.protocol.as_ref())
        {
            return err(ErrorCode::InconsistentGroupProtocol.code());
        }
        let mut replies = Vec::new();
        match group.state {
            GroupState::Empty | GroupState::Dead => return err(ErrorCode::UnknownMemberId.code()),
            GroupState::PreparingRebalance => return err(ErrorCode::RebalanceInProgress.code()),
            GroupState::Stable => {
                let Some(m) = group.member(&req.member_id) else {
                    return err(ErrorCode::UnknownMemberId.code());
                };
                let result = SyncResult {
                    error: ErrorCode::None.code(),
                    protocol_type: group.protocol_type.clone(),
                    protocol_name: group.protocol.clone(),
                    assignment: m.assignment.clone(),
                };
                return vec![Reply::Sync(token, result)];
            }
            GroupState::CompletingRebalance => {
                group.pending_sync.remove(&req.member_id);
                if let Some(m) = group.member_mut(&req.member_id) {
                    if let Some(old) = m.awaiting_sync.replace(token) {
                        replies.push(Reply::Sync(
                            old,
                            SyncResult::error(ErrorCode::UnknownMemberId.code()),
                        ));
                    }
                }
                if group.is_leader(&req.member_id) {
                    let assignments: HashMap<String, Bytes> = req.assignments.into_iter().collect();
                    let protocol_type = group.protocol_type.clone();
                    let protocol_name = group.protocol.clone();
                    let mut answers = Vec::new();
                    for m in group.members.values_mut() {
                        m.assignment = assignments.get(&m.id).cloned().unwrap_or_default();
                        if let Some(t) = m.awaiting_sync.take() {
                            answers.push(Reply::Sync(
                                t,
                                SyncResult {
                                    error: ErrorCode::None.code(),
                                    protocol_type: protocol_type.clone(),
                                    protocol_name: protocol_name.clone(),
                                    assignment: m.assignment.clone(),
                                },
                            ));
                        }
                    }
                    group.state = GroupState::Stable;
                    group.sync_deadline = None;
                    group.pending_sync.clear();
                    // The members learn their assignment once the group is stored.
                    replies.push(group.persist(answers));
                }
            }
        }
        replies
    }

    /// Heartbeat: the error code Kafka answers with.
    pub fn heartbeat(
        &mut self,
        group_id: &str,
        generation: i32,
        member_id: &str,
        instance_id: Option<&str>,
        now: u64,
    ) -> i16 {
        let Some(group) = self.groups.get_mut(group_id) else {
            return ErrorCode::UnknownMemberId.code();
        };
        if group.state == GroupState::Dead {
            return ErrorCode::CoordinatorNotAvailable.code();
        }
        if group.fenced(instance_id, member_id) {
            return ErrorCode::FencedInstanceId.code();
        }
        if !group.has(member_id) {
            return ErrorCode::UnknownMemberId.code();
        }
        if generation != group.generation {
            return ErrorCode::IllegalGeneration.code();
        }
        match group.state {
            GroupState::Empty | GroupState::Dead => ErrorCode::UnknownMemberId.code(),
            GroupState::CompletingRebalance | GroupState::Stable => {
                group.heartbeat(member_id, now);
                ErrorCode::None.code()
            }
            GroupState::PreparingRebalance => {
                group.heartbeat(member_id, now);
                ErrorCode::RebalanceInProgress.code()
            }
        }
    }

    /// LeaveGroup of one or more members (`member_id` empty means "by instance id").
    pub fn leave(
        &mut self,
        group_id: &str,
        leaving: Vec<(String, Option<String>)>,
        now: u64,
    ) -> (LeaveOutcome, Vec<Reply>) {
        let mut replies = Vec::new();
        let Some(group) = self.groups.get_mut(group_id) else {
            let members = leaving
                .into_iter()
                .map(|(m, i)| (m, i, ErrorCode::UnknownMemberId.code()))
                .collect();
            return (
                LeaveOutcome {
                    error: ErrorCode::None.code(),
                    members,
                },
                replies,
            );
        };
        if group.state == GroupState::Dead {
            return (
                LeaveOutcome {
                    error: ErrorCode::CoordinatorNotAvailable.code(),
                    members: Vec::new(),
                },
                replies,
            );
        }
        let config = self.config;
        let mut members = Vec::new();
        for (member_id, instance_id) in leaving {
            let error = match &instance_id {
                Some(instance) => match group.static_members.get(instance).cloned() {
                    None => ErrorCode::UnknownMemberId.code(),
                    Some(current) if !member_id.is_empty() && current != member_id => {
                        ErrorCode::FencedInstanceId.code()
                    }
                    Some(current) => {
                        group.remove_member_and_update(&current, now, &config, &mut replies);
                        ErrorCode::None.code()
                    }
                },
                None if group.pending_members.remove(&member_id).is_some() => {
                    group.try_complete_join(now, &mut replies);
                    ErrorCode::None.code()
                }
                None if group.has(&member_id) => {
                    group.remove_member_and_update(&member_id, now, &config, &mut replies);
                    ErrorCode::None.code()
                }
                None => ErrorCode::UnknownMemberId.code(),
            };
            members.push((member_id, instance_id, error));
        }
        (
            LeaveOutcome {
                error: ErrorCode::None.code(),
                members,
            },
            replies,
        )
    }

    /// Drives the timers: session expiry, the end of join phases, members that never synced.
    pub fn tick(&mut self, now: u64) -> Vec<Reply> {
        let mut replies = Vec::new();
        let config = self.config;
        for group in self.groups.values_mut() {
            let expired: Vec<String> = group
                .members
                .values()
                .filter(|m| m.expired(now))
                .map(|m| m.id.clone())
                .collect();
            for id in expired {
                tracing::info!(
                    "member {id} in group {} failed to heartbeat in time; removing it",
                    group.id
                );
                group.remove_member_and_update(&id, now, &config, &mut replies);
            }
            let before = group.pending_members.len();
            group.pending_members.retain(|_, deadline| *deadline > now);
            if group.pending_members.len() != before {
                group.try_complete_join(now, &mut replies);
            }
            match group.join_timer {
                Some(JoinTimer::Initial {
                    deadline,
                    remaining_ms,
                    new_member_added,
                }) if now >= deadline && group.state == GroupState::PreparingRebalance => {
                    let delay = config.initial_rebalance_delay_ms.min(remaining_ms);
                    if new_member_added && delay > 0 {
                        group.join_timer = Some(JoinTimer::Initial {
                            deadline: now + delay,
                            remaining_ms: remaining_ms - delay,
                            new_member_added: false,
                        });
                    } else {
                        group.complete_join(now, &mut replies);
                    }
                }
                Some(JoinTimer::Rebalance { deadline })
                    if now >= deadline && group.state == GroupState::PreparingRebalance =>
                {
                    group.complete_join(now, &mut replies);
                }
                _ => {}
            }
            if group.state == GroupState::CompletingRebalance
                && group.sync_deadline.is_some_and(|d| now >= d)
            {
                // Kafka removes the members that never sent SyncGroup and starts over.
                let missing: Vec<String> = group.pending_sync.iter().cloned().collect();
                for id in missing {
                    group.remove_member(&id, &mut replies);
                }
                group.prepare_rebalance(now, &config, &mut replies);
            }
        }
        replies
    }

    /// Kafka's `GroupMetadataManager.cleanupGroupMetadata` over every group in memory, at
    /// `now` (monotonic ms) and `now_wall_ms` (wall clock, as commit timestamps are), with
    /// `offsets.retention.minutes` in the config. Which offsets expire follows Kafka's
    /// `GroupMetadata.removeExpiredOffsets`:
    /// - an offset committed with an expire timestamp (OffsetCommit v1): at that time;
    /// - a group that uses group management (it has a protocol type) and is Empty: all its
    ///   offsets, once it has been Empty for the retention time;
    /// - a group that only stores offsets (no protocol type): each offset, once the retention
    ///   time has passed since its commit;
    /// - a Stable consumer group whose subscription is known: each offset of a topic it no
    ///   longer subscribes to, once the retention time has passed since its commit.
    ///
    /// A group left Empty without offsets goes Dead and is removed. The cache is updated here;
    /// the caller writes the tombstones.
    pub fn expire(&mut self, now: u64, now_wall_ms: i64) -> Vec<Expired> {
        let retention = i64::try_from(self.config.offsets_retention_ms).unwrap_or(i64::MAX);
        let mut out = Vec::new();
        let mut dead = Vec::new();
        for group in self.groups.values_mut() {
            let empty = group.state == GroupState::Empty && group.members.is_empty();
            let subscribed = if group.state == GroupState::Stable
                && group.protocol_type.as_deref() == Some("consumer")
            {
                group.protocol.as_deref().and_then(|protocol| {
                    let mut topics = BTreeSet::new();
                    for m in group.members.values() {
                        topics.extend(super::subscribed_topics(&m.metadata_for(protocol))?);
                    }
                    Some(topics)
                })
            } else {
                None
            };
            // Wall-clock time at which the group became Empty.
            let empty_since_wall = now_wall_ms
                .saturating_sub(i64::try_from(now.saturating_sub(group.empty_since)).unwrap_or(0));
            let mut expired: Vec<(String, i32)> = group
                .offsets
                .iter()
                .filter(|((topic, _), o)| {
                    if let Some(at) = o.value.expire_timestamp {
                        return now_wall_ms >= at;
                    }
                    let by_commit =
                        now_wall_ms.saturating_sub(o.value.commit_timestamp) >= retention;
                    if empty {
                        if group.protocol_type.is_some() {
                            now_wall_ms.saturating_sub(empty_since_wall) >= retention
                        } else {
                            by_commit
                        }
                    } else {
                        subscribed.as_ref().is_some_and(|t| !t.contains(topic)) && by_commit
                    }
                })
                .map(|(tp, _)| tp.clone())
                .collect();
            expired.sort();
            for tp in &expired {
                group.offsets.remove(tp);
            }
            // Kafka's `hasOffsets` counts pending transactional offsets: such a group stays.
            let gone = empty
                && group.offsets.is_empty()
                && group.pending_txn.is_empty()
                && group.pending_members.is_empty();
            if !expired.is_empty() {
                tracing::info!(
                    "Removed {} expired offsets of group {}",
                    expired.len(),
                    group.id
                );
            }
            if gone {
                tracing::info!("Group {} transitioned to Dead", group.id);
                dead.push(group.id.clone());
            }
            if !expired.is_empty() || gone {
                out.push(Expired {
                    group_id: group.id.clone(),
                    partitions: expired,
                    dead: gone,
                });
            }
        }
        for id in dead {
            self.groups.remove(&id);
        }
        out.sort_by(|a, b| a.group_id.cmp(&b.group_id));
        out
    }

    /// Installs a group read from `__consumer_offsets` (Kafka's `GroupMetadataManager.loadGroup`
    /// and `GroupCoordinator.onGroupLoaded`): with members it is Stable and every member gets a
    /// whole session from `now` to send its next heartbeat; without, it is Empty since the
    /// record's state timestamp. `value` is `None` for a group that only has offsets.
    pub fn load_group(
        &mut self,
        group_id: &str,
        value: Option<GroupValue>,
        offsets: HashMap<(String, i32), CommittedOffset>,
        now: u64,
        now_wall_ms: i64,
    ) {
        let mut group = Group::new(group_id, 0, now);
        if let Some(v) = value {
            group.generation = v.generation;
            group.protocol_type = (!v.protocol_type.is_empty()).then_some(v.protocol_type);
            group.protocol = v.protocol.clone();
            group.leader = v.leader;
            if v.current_state_timestamp >= 0 {
                let age = now_wall_ms.saturating_sub(v.current_state_timestamp).max(0);
                group.empty_since = now.saturating_sub(u64::try_from(age).unwrap_or(0));
            }
            let protocol = v.protocol.unwrap_or_default();
            for m in v.members {
                let session = u64::try_from(m.session_timeout_ms).unwrap_or(0);
                let member = Member {
                    id: m.member_id.clone(),
                    instance_id: m.group_instance_id.clone(),
                    client_id: m.client_id,
                    client_host: m.client_host,
                    session_timeout_ms: session,
                    rebalance_timeout_ms: u64::try_from(m.rebalance_timeout_ms).unwrap_or(session),
                    protocol_type: group.protocol_type.clone().unwrap_or_default(),
                    protocols: vec![(protocol.clone(), m.subscription)],
                    assignment: m.assignment,
                    awaiting_join: None,
                    awaiting_sync: None,
                    heartbeat_deadline: now + session,
                    is_new: false,
                    joined_at: now,
                };
                if let Some(instance) = &m.group_instance_id {
                    group
                        .static_members
                        .insert(instance.clone(), m.member_id.clone());
                }
                group.members.insert(group.next_seq, member);
                group.next_seq += 1;
            }
            if !group.members.is_empty() {
                group.state = GroupState::Stable;
                if group.leader.as_deref().is_none_or(|l| !group.has(l)) {
                    group.leader = group.members.values().next().map(|m| m.id.clone());
                }
            }
        }
        group.offsets = offsets;
        tracing::info!(
            "Loaded group metadata for {group_id} with generation {} ({} members, {} offsets)",
            group.generation,
            group.members.len(),
            group.offsets.len()
        );
        self.groups.insert(group_id.to_string(), group);
    }

    /// Caches offsets committed to `__consumer_offsets` (each with the log offset of its record):
    /// a later record for the same partition is never replaced by an earlier one. A group
    /// unknown in memory is created Empty, without a protocol type (a "simple" group), as
    /// Kafka's `handleCommitOffsets` does.
    pub fn apply_offsets(
        &mut self,
        group_id: &str,
        committed: Vec<((String, i32), CommittedOffset)>,
        now: u64,
    ) {
        let group = self
            .groups
            .entry(group_id.to_string())
            .or_insert_with(|| Group::new(group_id, 0, now));
        for (tp, c) in committed {
            match group.offsets.get(&tp) {
                Some(have) if have.log_offset > c.log_offset => {}
                _ => {
                    group.offsets.insert(tp, c);
                }
            }
        }
    }

    /// The committed offsets of a group: all, or those of `partitions` that exist.
    pub fn committed(
        &self,
        group_id: &str,
        partitions: Option<&[(String, i32)]>,
    ) -> Vec<((String, i32), OffsetValue)> {
        let Some(group) = self.groups.get(group_id) else {
            return Vec::new();
        };
        let mut out: Vec<_> = match partitions {
            None => group
                .offsets
                .iter()
                .map(|(tp, c)| (tp.clone(), c.value.clone()))
                .collect(),
            Some(wanted) => wanted
                .iter()
                .filter_map(|tp| group.offsets.get(tp).map(|c| (tp.clone(), c.value.clone())))
                .collect(),
        };
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Whether the group has any committed offset.
    pub fn has_offsets(&self, group_id: &str) -> bool {
        self.groups
            .get(group_id)
            .is_some_and(|g| !g.offsets.is_empty())
    }

    /// OffsetDelete: forgets the listed partitions' offsets; returns those it had.
    pub fn delete_offsets(
        &mut self,
        group_id: &str,
        partitions: &[(String, i32)],
    ) -> Vec<(String, i32)> {
        let Some(group) = self.groups.get_mut(group_id) else {
            return Vec::new();
        };
        group.pending_txn.remove_partitions(partitions);
        partitions
            .iter()
            .filter(|tp| group.offsets.remove(*tp).is_some())
            .cloned()
            .collect()
    }

    /// Offsets of topics that no longer exist (`exists` false): forgotten, and returned per
    /// group for tombstones (Kafka's `handleDeletedPartitions`).
    pub fn drop_offsets_of_deleted_topics(
        &mut self,
        exists: impl Fn(&str) -> bool,
    ) -> Vec<(String, Vec<(String, i32)>)> {
        let mut out = Vec::new();
        for group in self.groups.values_mut() {
            let mut gone: Vec<(String, i32)> = group
                .offsets
                .keys()
                .filter(|(t, _)| !exists(t))
                .cloned()
                .collect();
            if gone.is_empty() {
                continue;
            }
            gone.sort();
            group.pending_txn.remove_partitions(&gone);
            for tp in &gone {
                group.offsets.remove(tp);
            }
            out.push((group.id.clone(), gone));
        }
        out.sort();
        out
    }

    /// A group's metadata could not be written after its rebalance (Kafka's `storeGroup`
    /// callback with an error): if it is still at `generation`, the assignment is void and the
    /// group rebalances again.
    pub fn store_failed(&mut self, group_id: &str, generation: i32, now: u64) -> Vec<Reply> {
        let mut replies = Vec::new();
        let config = self.config;
        if let Some(group) = self.groups.get_mut(group_id) {
            if group.generation == generation && group.state == GroupState::Stable {
                for m in group.members.values_mut() {
                    m.assignment = Bytes::new();
                }
                group.prepare_rebalance(now, &config, &mut replies);
            }
        }
        replies
    }

    /// Kafka's `onGroupUnloaded`, for every group in memory that `moved` says this broker no
    /// longer coordinates (it stopped leading the group's `__consumer_offsets` partition): the
    /// group is forgotten, and its parked JoinGroup and SyncGroup requests are answered
    /// NOT_COORDINATOR so that their members look the new coordinator up at once. The new
    /// leader loads the group, members and offsets, from the partition.
    pub fn unload_where(&mut self, moved: impl Fn(&str) -> bool) -> Vec<Reply> {
        let mut replies = Vec::new();
        let gone: Vec<String> = self.groups.keys().filter(|g| moved(g)).cloned().collect();
        for id in gone {
            let Some(group) = self.groups.remove(&id) else {
                continue;
            };
            tracing::info!(
                "Unloading group metadata for {id} with generation {}: another broker \
                 coordinates it now",
                group.generation
            );
            for member in group.members.values() {
                if let Some(token) = member.awaiting_join {
                    replies.push(Reply::Join(
                        token,
                        JoinResult::error(ErrorCode::NotCoordinator.code(), &member.id),
                    ));
                }
                if let Some(token) = member.awaiting_sync {
                    replies.push(Reply::Sync(
                        token,
                        SyncResult::error(ErrorCode::NotCoordinator.code()),
                    ));
                }
            }
        }
        replies
    }

    /// Checks an OffsetCommit against the group (Kafka's `validateOffsetCommit` and the
    /// CompletingRebalance rule) and returns the generation to store it under: the group's
    /// generation for a member, -1 for an admin commit to a group with no active members.
    pub fn check_commit(
        &mut self,
        group_id: &str,
        generation: i32,
        member_id: &str,
        instance_id: Option<&str>,
        now: u64,
    ) -> Result<i32, i16> {
        let admin = generation < 0 && member_id.is_empty() && instance_id.is_none();
        let Some(group) = self.groups.get_mut(group_id) else {
            // Not relying on group management: allowed. A member of a group we do not know is
            // from an older life of it.
            return if generation < 0 {
                Ok(-1)
            } else {
                Err(ErrorCode::IllegalGeneration.code())
            };
        };
        if group.state == GroupState::Dead {
            return Err(ErrorCode::CoordinatorNotAvailable.code());
        }
        if !admin {
            if group.fenced(instance_id, member_id) {
                return Err(ErrorCode::FencedInstanceId.code());
            }
            if !group.has(member_id) {
                return Err(ErrorCode::UnknownMemberId.code());
            }
            if generation != group.generation {
                return Err(ErrorCode::IllegalGeneration.code());
            }
        } else if group.state != GroupState::Empty {
            // When the group has members, only they may commit.
            return Err(ErrorCode::UnknownMemberId.code());
        }
        if group.state == GroupState::CompletingRebalance {
            return Err(ErrorCode::RebalanceInProgress.code());
        }
        if admin {
            return Ok(-1);
        }
        group.heartbeat(member_id, now);
        Ok(group.generation)
    }

    /// Checks a TxnOffsetCommit against the group (Kafka's `validateOffsetCommit` with
    /// `isTransactional`): a Dead group is COORDINATOR_NOT_AVAILABLE; a commit that names a
    /// member, a static instance or a generation (v3+, KIP-447) must come from a current member
    /// of the current generation; one without (v0-2, or a producer outside group management) is
    /// accepted whatever the group's state, unlike OffsetCommit. A group unknown in memory is
    /// checked as a new Empty one.
    pub fn check_txn_commit(
        &self,
        group_id: &str,
        generation: i32,
        member_id: &str,
        instance_id: Option<&str>,
    ) -> Result<(), i16> {
        let Some(group) = self.groups.get(group_id) else {
            // As a new Empty group: without a generation anyone may commit; with one, the
            // member cannot be in it (Kafka's `validateCurrentMember`).
            return if generation < 0 {
                Ok(())
            } else {
                Err(ErrorCode::UnknownMemberId.code())
            };
        };
        if group.state == GroupState::Dead {
            return Err(ErrorCode::CoordinatorNotAvailable.code());
        }
        if generation < 0 && group.state == GroupState::Empty {
            return Ok(());
        }
        if generation >= 0 || !member_id.is_empty() || instance_id.is_some() {
            // Kafka's `validateCurrentMember`.
            match instance_id {
                Some(instance) => {
                    if !group.static_members.contains_key(instance) {
                        return Err(ErrorCode::UnknownMemberId.code());
                    }
                    if group.fenced(Some(instance), member_id) {
                        return Err(ErrorCode::FencedInstanceId.code());
                    }
                }
                None => {
                    if !group.has(member_id) {
                        return Err(ErrorCode::UnknownMemberId.code());
                    }
                }
            }
            if generation != group.generation {
                return Err(ErrorCode::IllegalGeneration.code());
            }
        }
        Ok(())
    }

    /// A TxnOffsetCommit's offsets become pending for `producer_id` before their append (Kafka's
    /// `prepareTxnOffsetCommit`); a group unknown in memory is created Empty, as Kafka's
    /// `handleTxnCommitOffsets` does.
    pub fn prepare_txn_offsets(
        &mut self,
        group_id: &str,
        producer_id: i64,
        offsets: &[((String, i32), OffsetValue)],
        now: u64,
    ) {
        let group = self
            .groups
            .entry(group_id.to_string())
            .or_insert_with(|| Group::new(group_id, 0, now));
        group.pending_txn.prepare(producer_id, offsets);
    }

    /// The transactional offsets of `producer_id` are in the log (each at its record's offset).
    pub fn txn_offsets_appended(
        &mut self,
        group_id: &str,
        producer_id: i64,
        appended: &[((String, i32), CommittedOffset)],
    ) {
        if let Some(group) = self.groups.get_mut(group_id) {
            for (tp, c) in appended {
                group.pending_txn.appended(producer_id, tp, c);
            }
        }
    }

    /// Their append failed: they are no longer pending (the producer retries).
    pub fn fail_txn_offsets(&mut self, group_id: &str, producer_id: i64, tps: &[(String, i32)]) {
        if let Some(group) = self.groups.get_mut(group_id) {
            for tp in tps {
                group.pending_txn.fail(producer_id, tp);
            }
        }
    }

    /// A transaction marker of `producer_id` was written to the `__consumer_offsets`
    /// partitions that `in_partitions` says a group id belongs to (Kafka's
    /// `GroupMetadataManager.handleTxnCompletion`): each such group's pending offsets of that
    /// producer are materialised (`commit`) or dropped. A committed offset replaces the cached one
    /// only if its record is later in the log. Returns the groups completed, sorted.
    pub fn complete_txn(
        &mut self,
        producer_id: i64,
        commit: bool,
        in_partitions: impl Fn(&str) -> bool,
    ) -> Vec<String> {
        let mut done = Vec::new();
        for group in self.groups.values_mut() {
            if group.state == GroupState::Dead
                || !group.pending_txn.has_producer(producer_id)
                || !in_partitions(&group.id)
            {
                continue;
            }
            for (tp, c) in group.pending_txn.complete(producer_id, commit) {
                match group.offsets.get(&tp) {
                    Some(have) if have.log_offset > c.log_offset => {}
                    _ => {
                        group.offsets.insert(tp, c);
                    }
                }
            }
            done.push(group.id.clone());
        }
        done.sort();
        done
    }

    /// Whether `tp` has a transactional offset of `group_id` waiting for its marker (OffsetFetch
    /// `require_stable` answers UNSTABLE_OFFSET_COMMIT for it).
    pub fn has_pending_txn_offset(&self, group_id: &str, tp: &(String, i32)) -> bool {
        self.groups
            .get(group_id)
            .is_some_and(|g| g.pending_txn.has_partition(tp))
    }

    /// The producers with transactional offsets of `group_id` pending, sorted.
    pub fn txn_producers(&self, group_id: &str) -> Vec<i64> {
        self.groups
            .get(group_id)
            .map(|g| g.pending_txn.producers())
            .unwrap_or_default()
    }

    /// Installs transactional offsets read back from the log whose transaction has no marker
    /// yet, per producer id (Kafka's `GroupMetadata.initializeOffsets` with its pending
    /// transactional offsets); a group unknown in memory is created Empty.
    pub fn load_pending_txn_offsets(
        &mut self,
        group_id: &str,
        pending: HashMap<i64, HashMap<(String, i32), CommittedOffset>>,
        now: u64,
    ) {
        if pending.values().all(HashMap::is_empty) {
            return;
        }
        let group = self
            .groups
            .entry(group_id.to_string())
            .or_insert_with(|| Group::new(group_id, 0, now));
        for (producer_id, offsets) in pending {
            group.pending_txn.restore(producer_id, offsets);
        }
    }

    /// The generation of an in-memory group, if known.
    pub fn generation(&self, group_id: &str) -> Option<i32> {
        self.groups.get(group_id).map(|g| g.generation)
    }

    pub fn describe(&self, group_id: &str) -> Option<GroupDescription> {
        self.groups.get(group_id).map(Group::describe)
    }

    /// `(group id, protocol type, state)` of every group in memory.
    pub fn list(&self) -> Vec<(String, String, GroupState)> {
        let mut out: Vec<_> = self
            .groups
            .values()
            .map(|g| {
                (
                    g.id.clone(),
                    g.protocol_type.clone().unwrap_or_default(),
                    g.state,
                )
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// DeleteGroups of one group: refused with NON_EMPTY_GROUP while it has members,
    /// GROUP_ID_NOT_FOUND when unknown. Returns the partitions whose offsets it had (for the
    /// tombstones written with the group's).
    pub fn delete(&mut self, group_id: &str) -> Result<Vec<(String, i32)>, i16> {
        match self.groups.get(group_id) {
            None => Err(ErrorCode::GroupIdNotFound.code()),
            Some(g) if g.state == GroupState::Dead => {
                Err(ErrorCode::CoordinatorNotAvailable.code())
            }
            Some(g) if !g.members.is_empty() || g.state != GroupState::Empty => {
                Err(ErrorCode::NonEmptyGroup.code())
            }
            Some(_) => {
                let g = self.groups.remove(group_id);
                let mut tps: Vec<(String, i32)> = g
                    .map(|g| g.offsets.into_keys().collect())
                    .unwrap_or_default();
                tps.sort();
                Ok(tps)
            }
        }
    }

    /// The topics the group's members are subscribed to, when it is a non-empty consumer group
    /// (OffsetDelete refuses their partitions).
    pub fn subscribed_topics(&self, group_id: &str) -> BTreeSet<String> {
        let Some(g) = self.groups.get(group_id) else {
            return BTreeSet::new();
        };
        if g.protocol_type.as_deref() != Some("consumer") || g.members.is_empty() {
            return BTreeSet::new();
        }
        let protocol = g.protocol.clone();
        g.members
            .values()
            .flat_map(|m| {
                let metadata = match &protocol {
                    Some(p) => m.metadata_for(p),
                    None => m
                        .protocols
                        .first()
                        .map(|(_, b)| b.clone())
                        .unwrap_or_default(),
                };
                super::subscribed_topics(&metadata).unwrap_or_default()
            })
            .collect()
    }
}
