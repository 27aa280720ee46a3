//! Behaviours of the classic group protocol, driven with explicit times.

use bytes::Bytes;

use super::*;
use common::errors::ErrorCode;

const SESSION: i32 = 10_000;
const REBALANCE: i32 = 30_000;
const RETENTION: u64 = 600_000;

fn config(initial_delay: u64) -> GroupConfig {
    GroupConfig {
        initial_rebalance_delay_ms: initial_delay,
        min_session_timeout_ms: 6000,
        max_session_timeout_ms: 1_800_000,
        offsets_retention_ms: RETENTION,
    }
}

fn request(member_id: &str, protocols: &[&str]) -> JoinRequest {
    JoinRequest {
        member_id: member_id.to_string(),
        group_instance_id: None,
        client_id: "client".to_string(),
        client_host: "/127.0.0.1".to_string(),
        session_timeout_ms: SESSION,
        rebalance_timeout_ms: REBALANCE,
        protocol_type: "consumer".to_string(),
        protocols: protocols
            .iter()
            .map(|p| (p.to_string(), Bytes::from(format!("meta-{p}"))))
            .collect(),
        require_known_member_id: false,
    }
}

fn join_of(replies: &[Reply], token: Token) -> Option<JoinResult> {
    replies.iter().find_map(|r| match r {
        Reply::Join(t, j) if *t == token => Some(j.clone()),
        // The harness treats every group write as committed at once.
        Reply::Persist { then, .. } => join_of(then, token),
        _ => None,
    })
}

fn sync_of(replies: &[Reply], token: Token) -> Option<SyncResult> {
    replies.iter().find_map(|r| match r {
        Reply::Sync(t, s) if *t == token => Some(s.clone()),
        Reply::Persist { then, .. } => sync_of(then, token),
        _ => None,
    })
}

/// A test driver: hands out tokens and keeps every reply seen.
struct Harness {
    c: Coordinator,
    next: Token,
    now: u64,
    seen: Vec<Reply>,
}

impl Harness {
    fn new(initial_delay: u64) -> Self {
        Harness {
            c: Coordinator::new(config(initial_delay)),
            next: 1,
            now: 1_000,
            seen: Vec::new(),
        }
    }

    fn join(&mut self, req: JoinRequest) -> Token {
        let t = self.next;
        self.next += 1;
        let r = self.c.join("g", req, t, 0, self.now);
        self.seen.extend(r);
        t
    }

    fn sync(&mut self, member: &str, generation: i32, assignments: &[(&str, &str)]) -> Token {
        let t = self.next;
        self.next += 1;
        let req = SyncRequest {
            generation,
            member_id: member.to_string(),
            assignments: assignments
                .iter()
                .map(|(m, a)| (m.to_string(), Bytes::from(a.to_string())))
                .collect(),
            ..Default::default()
        };
        let r = self.c.sync("g", req, t);
        self.seen.extend(r);
        t
    }

    fn advance(&mut self, ms: u64) {
        self.now += ms;
        let r = self.c.tick(self.now);
        self.seen.extend(r);
    }

    fn joined(&self, t: Token) -> Option<JoinResult> {
        join_of(&self.seen, t)
    }

    fn synced(&self, t: Token) -> Option<SyncResult> {
        sync_of(&self.seen, t)
    }

    fn state(&self) -> Option<GroupState> {
        self.c.describe("g").map(|d| d.state)
    }

    /// One member joins and syncs alone: returns its id and generation.
    fn stable_with_one(&mut self) -> (String, i32) {
        let t = self.join(request("", &["range"]));
        self.advance(0);
        let j = self.joined(t).expect("join answered");
        assert_eq!(j.error, ErrorCode::None.code());
        let s = self.sync(&j.member_id, j.generation, &[(&j.member_id, "a1")]);
        assert_eq!(self.synced(s).unwrap().error, ErrorCode::None.code());
        assert_eq!(self.state(), Some(GroupState::Stable));
        (j.member_id, j.generation)
    }
}

#[test]
fn error_codes_are_kafkas() {
    use kafka_protocol::ResponseError as E;
    assert_eq!(
        ErrorCode::CoordinatorNotAvailable.code(),
        E::CoordinatorNotAvailable.code()
    );
    assert_eq!(ErrorCode::NotCoordinator.code(), E::NotCoordinator.code());
    assert_eq!(
        ErrorCode::IllegalGeneration.code(),
        E::IllegalGeneration.code()
    );
    assert_eq!(
        ErrorCode::InconsistentGroupProtocol.code(),
        E::InconsistentGroupProtocol.code()
    );
    assert_eq!(ErrorCode::InvalidGroupId.code(), E::InvalidGroupId.code());
    assert_eq!(ErrorCode::UnknownMemberId.code(), E::UnknownMemberId.code());
    assert_eq!(
        ErrorCode::InvalidSessionTimeout.code(),
        E::InvalidSessionTimeout.code()
    );
    assert_eq!(
        ErrorCode::RebalanceInProgress.code(),
        E::RebalanceInProgress.code()
    );
    assert_eq!(
        ErrorCode::UnknownTopicOrPartition.code(),
        E::UnknownTopicOrPartition.code()
    );
    assert_eq!(
        ErrorCode::OffsetMetadataTooLarge.code(),
        E::OffsetMetadataTooLarge.code()
    );
    assert_eq!(ErrorCode::NonEmptyGroup.code(), E::NonEmptyGroup.code());
    assert_eq!(ErrorCode::GroupIdNotFound.code(), E::GroupIdNotFound.code());
    assert_eq!(
        ErrorCode::GroupSubscribedToTopic.code(),
        E::GroupSubscribedToTopic.code()
    );
    assert_eq!(
        ErrorCode::MemberIdRequired.code(),
        E::MemberIdRequired.code()
    );
    assert_eq!(
        ErrorCode::FencedInstanceId.code(),
        E::FencedInstanceId.code()
    );
    // Every code common knows is the one kafka-protocol knows by that number.
    for e in ErrorCode::ALL.iter().filter(|e| !e.is_none()) {
        let theirs = E::try_from_code(e.code()).map(|t| format!("{t:?}"));
        assert_eq!(theirs.as_deref(), Some(format!("{e:?}").as_str()), "{e}");
    }
}

#[test]
fn first_join_waits_for_the_initial_rebalance_delay() {
    let mut h = Harness::new(3000);
    let t = h.join(request("", &["range"]));
    h.advance(2000);
    assert!(h.joined(t).is_none(), "answered before the initial delay");
    assert_eq!(h.state(), Some(GroupState::PreparingRebalance));
    h.advance(1000);
    let j = h.joined(t).expect("answered after the delay");
    assert_eq!(j.error, ErrorCode::None.code());
    assert_eq!(j.generation, 1);
    assert_eq!(j.leader, j.member_id);
    assert!(j.member_id.starts_with("client-"));
    assert_eq!(j.members.len(), 1);
    assert_eq!(j.protocol_name.as_deref(), Some("range"));
    assert_eq!(h.state(), Some(GroupState::CompletingRebalance));
}

#[test]
fn members_joining_during_the_initial_delay_extend_it_and_share_a_generation() {
    let mut h = Harness::new(3000);
    let a = h.join(request("", &["range"]));
    h.advance(2000);
    let b = h.join(request("", &["range"]));
    h.advance(1000);
    assert!(h.joined(a).is_none(), "a new member extends the delay");
    h.advance(3000);
    let (ja, jb) = (h.joined(a).unwrap(), h.joined(b).unwrap());
    assert_eq!(ja.generation, jb.generation);
    assert_eq!(ja.leader, ja.member_id, "the first member leads");
    assert_eq!(ja.members.len(), 2);
    assert!(
        jb.members.is_empty(),
        "only the leader gets the member list"
    );
}

#[test]
fn join_of_new_member_triggers_rebalance() {
    let mut h = Harness::new(0);
    let (a, gen) = h.stable_with_one();
    let b = h.join(request("", &["range"]));
    assert_eq!(h.state(), Some(GroupState::PreparingRebalance));
    assert!(
        h.joined(b).is_none(),
        "waits for the known member to rejoin"
    );
    // The old member learns of the rebalance from its heartbeat and rejoins.
    assert_eq!(
        h.c.heartbeat("g", gen, &a, None, h.now),
        ErrorCode::RebalanceInProgress.code()
    );
    let a2 = h.join(request(&a, &["range"]));
    let (ja, jb) = (h.joined(a2).unwrap(), h.joined(b).unwrap());
    assert_eq!(ja.generation, gen + 1);
    assert_eq!(jb.generation, gen + 1);
    assert_eq!(ja.leader, a);
    assert_eq!(h.state(), Some(GroupState::CompletingRebalance));
}

#[test]
fn member_that_does_not_rejoin_is_dropped_at_the_rebalance_timeout() {
    let mut h = Harness::new(0);
    let (a, _) = h.stable_with_one();
    let b = h.join(request("", &["range"]));
    // `a` keeps heartbeating but never rejoins.
    h.advance(REBALANCE as u64 / 2);
    h.c.heartbeat("g", 1, &a, None, h.now);
    h.advance(REBALANCE as u64 / 2);
    let jb = h.joined(b).expect("answered at the rebalance timeout");
    assert_eq!(jb.error, ErrorCode::None.code());
    assert_eq!(
        jb.leader, jb.member_id,
        "leadership moves to a member that rejoined"
    );
    assert_eq!(jb.members.len(), 1);
    assert_eq!(
        h.c.heartbeat("g", jb.generation, &a, None, h.now),
        ErrorCode::UnknownMemberId.code()
    );
}

#[test]
fn sync_waits_for_the_leaders_assignment() {
    let mut h = Harness::new(0);
    let a = h.join(request("", &["range"]));
    let b = h.join(request("", &["range"]));
    h.advance(0);
    let (ja, jb) = (h.joined(a).unwrap(), h.joined(b).unwrap());
    let sb = h.sync(&jb.member_id, jb.generation, &[]);
    assert!(h.synced(sb).is_none(), "a follower waits for the leader");
    let sa = h.sync(
        &ja.member_id,
        ja.generation,
        &[(&ja.member_id, "for-a"), (&jb.member_id, "for-b")],
    );
    assert_eq!(h.synced(sa).unwrap().assignment, Bytes::from("for-a"));
    assert_eq!(h.synced(sb).unwrap().assignment, Bytes::from("for-b"));
    assert_eq!(
        h.synced(sb).unwrap().protocol_name.as_deref(),
        Some("range")
    );
    assert_eq!(h.state(), Some(GroupState::Stable));
    let d = h.c.describe("g").unwrap();
    assert_eq!(d.protocol, "range");
    assert_eq!(d.members.len(), 2);
    assert!(d.members.iter().all(|m| m.client_host == "/127.0.0.1"));
    assert!(d.members.iter().any(|m| m.assignment == "for-b"));
}

#[test]
fn stale_generation_sync_is_rejected() {
    let mut h = Harness::new(0);
    let (a, gen) = h.stable_with_one();
    let s = h.sync(&a, gen - 1, &[]);
    assert_eq!(
        h.synced(s).unwrap().error,
        ErrorCode::IllegalGeneration.code()
    );
    // The group goes on.
    assert_eq!(
        h.c.heartbeat("g", gen, &a, None, h.now),
        ErrorCode::None.code()
    );
    assert_eq!(h.state(), Some(GroupState::Stable));
}

#[test]
fn heartbeat_from_unknown_member_is_rejected_and_the_group_goes_on() {
    let mut h = Harness::new(0);
    let (a, gen) = h.stable_with_one();
    assert_eq!(
        h.c.heartbeat("g", gen, "nobody", None, h.now),
        ErrorCode::UnknownMemberId.code()
    );
    assert_eq!(
        h.c.heartbeat("other", gen, "nobody", None, h.now),
        ErrorCode::UnknownMemberId.code()
    );
    assert_eq!(
        h.c.heartbeat("g", gen + 5, &a, None, h.now),
        ErrorCode::IllegalGeneration.code()
    );
    assert_eq!(
        h.c.heartbeat("g", gen, &a, None, h.now),
        ErrorCode::None.code()
    );
}

#[test]
fn session_timeout_removes_member_and_rebalances() {
    let mut h = Harness::new(0);
    let a = h.join(request("", &["range"]));
    let b = h.join(request("", &["range"]));
    h.advance(0);
    let (ja, jb) = (h.joined(a).unwrap(), h.joined(b).unwrap());
    h.sync(&jb.member_id, jb.generation, &[]);
    h.sync(&ja.member_id, ja.generation, &[]);
    assert_eq!(h.state(), Some(GroupState::Stable));
    // Only `b` keeps heartbeating.
    for _ in 0..3 {
        h.advance(3000);
        assert_eq!(
            h.c.heartbeat("g", jb.generation, &jb.member_id, None, h.now),
            ErrorCode::None.code()
        );
    }
    h.advance(3000);
    assert_eq!(h.state(), Some(GroupState::PreparingRebalance));
    assert_eq!(
        h.c.heartbeat("g", jb.generation, &jb.member_id, None, h.now),
        ErrorCode::RebalanceInProgress.code()
    );
    assert_eq!(
        h.c.heartbeat("g", jb.generation, &ja.member_id, None, h.now),
        ErrorCode::UnknownMemberId.code()
    );
    let b2 = h.join(request(&jb.member_id, &["range"]));
    let j = h
        .joined(b2)
        .expect("the survivor completes the rebalance alone");
    assert_eq!(j.generation, jb.generation + 1);
    assert_eq!(j.leader, jb.member_id);
    assert_eq!(j.members.len(), 1);
}

#[test]
fn leave_group_triggers_immediate_rebalance() {
    let mut h = Harness::new(0);
    let a = h.join(request("", &["range"]));
    let b = h.join(request("", &["range"]));
    h.advance(0);
    let (ja, jb) = (h.joined(a).unwrap(), h.joined(b).unwrap());
    h.sync(&jb.member_id, jb.generation, &[]);
    h.sync(&ja.member_id, ja.generation, &[]);
    let (out, _) = h.c.leave("g", vec![(ja.member_id.clone(), None)], h.now);
    assert_eq!(out.members[0].2, ErrorCode::None.code());
    assert_eq!(h.state(), Some(GroupState::PreparingRebalance));
    assert_eq!(
        h.c.heartbeat("g", jb.generation, &jb.member_id, None, h.now),
        ErrorCode::RebalanceInProgress.code()
    );
    let (again, _) = h.c.leave("g", vec![(ja.member_id.clone(), None)], h.now);
    assert_eq!(again.members[0].2, ErrorCode::UnknownMemberId.code());
}

/// Kafka: LeaveGroup of the last member -> PreparingRebalance, and the join completes at once
/// with nobody -> Empty, next generation, protocol cleared, protocol type kept.
#[test]
fn last_member_leaving_a_stable_group_makes_it_empty_at_once() {
    let mut h = Harness::new(0);
    let (a, generation) = h.stable_with_one();
    let (out, _) = h.c.leave("g", vec![(a, None)], h.now);
    assert_eq!(out.members[0].2, ErrorCode::None.code());
    assert_eq!(h.state(), Some(GroupState::Empty), "no tick needed");
    assert_eq!(h.c.generation("g"), Some(generation + 1));
    let d = h.c.describe("g").expect("an Empty group stays in memory");
    assert_eq!(d.protocol_type, "consumer");
    assert_eq!(d.protocol, "");
    assert!(d.members.is_empty());
    assert_eq!(
        h.c.list(),
        vec![("g".to_string(), "consumer".to_string(), GroupState::Empty)]
    );
    h.advance(REBALANCE as u64 * 2);
    assert_eq!(
        h.state(),
        Some(GroupState::Empty),
        "timers do not forget it"
    );
}

#[test]
fn last_member_leaving_during_completing_rebalance_makes_it_empty_at_once() {
    let mut h = Harness::new(0);
    let t = h.join(request("", &["range"]));
    h.advance(0);
    let j = h.joined(t).unwrap();
    assert_eq!(h.state(), Some(GroupState::CompletingRebalance));
    h.c.leave("g", vec![(j.member_id.clone(), None)], h.now);
    assert_eq!(h.state(), Some(GroupState::Empty));
    assert_eq!(h.c.generation("g"), Some(j.generation + 1));
    assert_eq!(h.c.describe("g").unwrap().protocol_type, "consumer");
}

#[test]
fn last_member_leaving_during_preparing_rebalance_makes_it_empty_at_once() {
    let mut h = Harness::new(0);
    let a = h.join(request("", &["range"]));
    let b = h.join(request("", &["range"]));
    h.advance(0);
    let (ja, jb) = (h.joined(a).unwrap(), h.joined(b).unwrap());
    h.sync(&jb.member_id, jb.generation, &[]);
    h.sync(&ja.member_id, ja.generation, &[]);
    h.c.leave("g", vec![(ja.member_id.clone(), None)], h.now);
    assert_eq!(h.state(), Some(GroupState::PreparingRebalance));
    h.c.leave("g", vec![(jb.member_id.clone(), None)], h.now);
    assert_eq!(h.state(), Some(GroupState::Empty));
    assert_eq!(h.c.generation("g"), Some(ja.generation + 1));
}

#[test]
fn last_member_whose_session_expires_leaves_the_group_empty() {
    let mut h = Harness::new(0);
    let (_, generation) = h.stable_with_one();
    h.advance(SESSION as u64);
    assert_eq!(h.state(), Some(GroupState::Empty));
    assert_eq!(h.c.generation("g"), Some(generation + 1));
    let d = h.c.describe("g").unwrap();
    assert_eq!(
        (d.protocol_type.as_str(), d.protocol.as_str()),
        ("consumer", "")
    );
}

/// Wall-clock ms matching the harness's monotonic `now` (any fixed offset will do).
const WALL: i64 = 1_700_000_000_000;

fn offset_at(offset: i64, commit_timestamp: i64, log_offset: i64) -> CommittedOffset {
    CommittedOffset {
        value: records::OffsetValue {
            offset,
            leader_epoch: -1,
            metadata: String::new(),
            commit_timestamp,
            expire_timestamp: None,
        },
        log_offset,
    }
}

#[test]
fn empty_group_goes_dead_once_its_offsets_expire_retention_after_it_became_empty() {
    let mut h = Harness::new(0);
    let (a, _) = h.stable_with_one();
    let now = h.now;
    h.c.apply_offsets("g", vec![(("t".into(), 0), offset_at(5, WALL, 0))], now);
    h.c.leave("g", vec![(a, None)], h.now);
    let wall = |h: &Harness| WALL + h.now as i64;
    assert!(h.c.expire(h.now, wall(&h)).is_empty());
    h.advance(RETENTION - 1);
    assert!(h.c.expire(h.now, wall(&h)).is_empty());
    h.advance(1);
    assert_eq!(
        h.c.expire(h.now, wall(&h)),
        vec![Expired {
            group_id: "g".to_string(),
            partitions: vec![("t".to_string(), 0)],
            dead: true,
        }]
    );
    assert!(!h.c.contains("g"));
    assert_eq!(h.c.describe("g"), None);
    assert!(h.c.list().is_empty());
}

#[test]
fn an_empty_group_without_offsets_goes_dead_at_the_next_cleanup() {
    let mut h = Harness::new(0);
    let (a, _) = h.stable_with_one();
    h.c.leave("g", vec![(a, None)], h.now);
    let expired = h.c.expire(h.now, WALL);
    assert_eq!(expired.len(), 1);
    assert!(expired[0].dead);
    assert!(!h.c.contains("g"));
}

#[test]
fn cleanup_does_not_remove_a_group_that_members_joined_again() {
    let mut h = Harness::new(0);
    let (a, _) = h.stable_with_one();
    h.c.leave("g", vec![(a, None)], h.now);
    h.join(request("", &["range"]));
    assert!(h.c.expire(h.now, WALL).is_empty());
    assert_eq!(h.state(), Some(GroupState::PreparingRebalance));
}

#[test]
fn offsets_of_a_simple_group_expire_one_by_one_after_their_commit() {
    let mut h = Harness::new(0);
    let now = h.now;
    h.c.apply_offsets(
        "simple",
        vec![
            (("t".into(), 0), offset_at(1, 1_000, 0)),
            (("t".into(), 1), offset_at(1, 5_000, 1)),
        ],
        now,
    );
    let retention = RETENTION as i64;
    assert!(h.c.expire(h.now, 1_000 + retention - 1).is_empty());
    let first = h.c.expire(h.now, 1_000 + retention);
    assert_eq!(first[0].partitions, vec![("t".to_string(), 0)]);
    assert!(!first[0].dead);
    let second = h.c.expire(h.now, 5_000 + retention);
    assert_eq!(second[0].partitions, vec![("t".to_string(), 1)]);
    assert!(second[0].dead, "no offsets left: Dead");
}

#[test]
fn a_later_record_for_a_partition_is_never_replaced_by_an_earlier_one() {
    let mut h = Harness::new(0);
    let now = h.now;
    h.c.apply_offsets("g", vec![(("t".into(), 0), offset_at(9, WALL, 10))], now);
    h.c.apply_offsets("g", vec![(("t".into(), 0), offset_at(3, WALL, 7))], now);
    assert_eq!(h.c.committed("g", None)[0].1.offset, 9);
    h.c.apply_offsets("g", vec![(("t".into(), 0), offset_at(11, WALL, 12))], now);
    assert_eq!(h.c.committed("g", None)[0].1.offset, 11);
}

#[test]
fn empty_group_is_deleted_right_after_its_last_member_left() {
    let mut h = Harness::new(0);
    let (a, _) = h.stable_with_one();
    h.c.leave("g", vec![(a, None)], h.now);
    assert_eq!(h.c.delete("g"), Ok(Vec::new()));
    assert!(!h.c.contains("g"));
    assert_eq!(
        h.c.delete("g"),
        Err(ErrorCode::GroupIdNotFound.code()),
        "an unknown group"
    );
}

#[test]
fn a_loaded_group_is_stable_with_its_members_who_carry_on_without_a_rebalance() {
    let mut h = Harness::new(0);
    let (a, generation) = h.stable_with_one();
    let value = match h.seen.iter().rev().find_map(|r| match r {
        Reply::Persist { value, .. } => Some(value.clone()),
        _ => None,
    }) {
        Some(v) => v,
        None => panic!("the group was never persisted"),
    };
    assert_eq!(value.generation, generation);
    assert_eq!(value.members.len(), 1);
    // A new coordinator (a restart) loads it.
    let mut c = Coordinator::new(config(0));
    c.load_group("g", Some(value), Default::default(), 500, WALL);
    assert_eq!(c.describe("g").unwrap().state, GroupState::Stable);
    assert_eq!(
        c.heartbeat("g", generation, &a, None, 500 + SESSION as u64 - 1),
        ErrorCode::None.code()
    );
    assert_eq!(c.generation("g"), Some(generation));
}

#[test]
fn member_id_required_on_v4() {
    let mut h = Harness::new(0);
    let mut req = request("", &["range"]);
    req.require_known_member_id = true;
    let t = h.join(req.clone());
    let j = h.joined(t).unwrap();
    assert_eq!(j.error, ErrorCode::MemberIdRequired.code());
    assert!(j.member_id.starts_with("client-"));
    req.member_id = j.member_id.clone();
    let t2 = h.join(req);
    h.advance(0);
    let j2 = h.joined(t2).unwrap();
    assert_eq!(j2.error, ErrorCode::None.code());
    assert_eq!(j2.member_id, j.member_id);
}

#[test]
fn pending_member_that_never_returns_expires() {
    let mut h = Harness::new(0);
    let mut req = request("", &["range"]);
    req.require_known_member_id = true;
    let t = h.join(req);
    assert_eq!(
        h.joined(t).unwrap().error,
        ErrorCode::MemberIdRequired.code()
    );
    assert!(h.c.contains("g"));
    assert!(
        h.c.expire(h.now, WALL).is_empty(),
        "a member is still expected"
    );
    h.advance(SESSION as u64);
    // Kafka keeps the Empty group (no protocol type: nobody ever joined) until the cleanup.
    assert_eq!(h.state(), Some(GroupState::Empty));
    assert_eq!(
        h.c.list(),
        vec![("g".to_string(), String::new(), GroupState::Empty)]
    );
    assert!(h.c.expire(h.now, WALL)[0].dead);
    assert!(!h.c.contains("g"));
}

#[test]
fn static_member_rejoin_keeps_assignment() {
    let mut h = Harness::new(0);
    let mut req = request("", &["range"]);
    req.group_instance_id = Some("instance-1".to_string());
    let t = h.join(req.clone());
    h.advance(0);
    let j = h.joined(t).unwrap();
    h.sync(&j.member_id, j.generation, &[(&j.member_id, "mine")]);
    assert_eq!(h.state(), Some(GroupState::Stable));
    // Restarted with no member id: a new id, same generation, same assignment, no rebalance.
    let t2 = h.join(req);
    let j2 = h.joined(t2).unwrap();
    assert_eq!(j2.error, ErrorCode::None.code());
    assert_ne!(j2.member_id, j.member_id);
    assert_eq!(j2.generation, j.generation);
    assert_eq!(h.state(), Some(GroupState::Stable));
    let s = h.sync(&j2.member_id, j2.generation, &[]);
    assert_eq!(h.synced(s).unwrap().assignment, Bytes::from("mine"));
    // The old incarnation is fenced.
    assert_eq!(
        h.c.heartbeat("g", j.generation, &j.member_id, Some("instance-1"), h.now),
        ErrorCode::FencedInstanceId.code()
    );
}

#[test]
fn protocol_chosen_by_vote() {
    let mut h = Harness::new(0);
    let a = h.join(request("", &["roundrobin", "range"]));
    let b = h.join(request("", &["range", "roundrobin"]));
    let c = h.join(request("", &["range", "roundrobin", "sticky"]));
    h.advance(0);
    for t in [a, b, c] {
        assert_eq!(h.joined(t).unwrap().protocol_name.as_deref(), Some("range"));
    }
    let leader = h.joined(a).unwrap();
    assert!(leader.members.iter().all(|m| m.metadata == "meta-range"));
}

#[test]
fn unknown_protocol_type_is_inconsistent() {
    let mut h = Harness::new(0);
    let (a, gen) = h.stable_with_one();
    let mut odd = request("", &["range"]);
    odd.protocol_type = "connect".to_string();
    let t = h.join(odd);
    assert_eq!(
        h.joined(t).unwrap().error,
        ErrorCode::InconsistentGroupProtocol.code()
    );
    let t = h.join(request("", &["sticky-only"]));
    assert_eq!(
        h.joined(t).unwrap().error,
        ErrorCode::InconsistentGroupProtocol.code()
    );
    assert_eq!(h.state(), Some(GroupState::Stable), "the group goes on");
    assert_eq!(
        h.c.heartbeat("g", gen, &a, None, h.now),
        ErrorCode::None.code()
    );
}

#[test]
fn session_timeout_outside_the_broker_bounds_is_refused() {
    let mut h = Harness::new(0);
    let mut req = request("", &["range"]);
    req.session_timeout_ms = 1000;
    let t = h.join(req);
    assert_eq!(
        h.joined(t).unwrap().error,
        ErrorCode::InvalidSessionTimeout.code()
    );
    assert!(!h.c.contains("g"));
}

#[test]
fn join_with_unknown_member_id_into_unknown_group_is_rejected() {
    let mut h = Harness::new(0);
    let t = h.join(request("ghost", &["range"]));
    assert_eq!(
        h.joined(t).unwrap().error,
        ErrorCode::UnknownMemberId.code()
    );
    assert!(!h.c.contains("g"));
}

#[test]
fn rebalance_during_completing_voids_waiting_syncs() {
    let mut h = Harness::new(0);
    let a = h.join(request("", &["range"]));
    let b = h.join(request("", &["range"]));
    h.advance(0);
    let jb = h.joined(b).unwrap();
    let sb = h.sync(&jb.member_id, jb.generation, &[]);
    let _c = h.join(request("", &["range"]));
    assert_eq!(
        h.synced(sb).unwrap().error,
        ErrorCode::RebalanceInProgress.code()
    );
    let _ = a;
}

#[test]
fn leader_that_never_syncs_is_removed_and_the_group_rebalances() {
    let mut h = Harness::new(0);
    let a = h.join(request("", &["range"]));
    let b = h.join(request("", &["range"]));
    h.advance(0);
    let jb = h.joined(b).unwrap();
    let sb = h.sync(&jb.member_id, jb.generation, &[]);
    h.advance(REBALANCE as u64);
    assert_eq!(
        h.synced(sb).unwrap().error,
        ErrorCode::RebalanceInProgress.code()
    );
    let ja = h.joined(a).unwrap();
    assert_eq!(
        h.c.heartbeat("g", ja.generation, &ja.member_id, None, h.now),
        ErrorCode::UnknownMemberId.code()
    );
}

#[test]
fn commit_rules_follow_kafka() {
    let mut h = Harness::new(0);
    // A group nobody manages takes admin commits; a member commit there is stale.
    assert_eq!(h.c.check_commit("g", -1, "", None, h.now), Ok(-1));
    assert_eq!(
        h.c.check_commit("g", 3, "m", None, h.now),
        Err(ErrorCode::IllegalGeneration.code())
    );
    let (a, gen) = h.stable_with_one();
    assert_eq!(h.c.check_commit("g", gen, &a, None, h.now), Ok(gen));
    assert_eq!(
        h.c.check_commit("g", gen - 1, &a, None, h.now),
        Err(ErrorCode::IllegalGeneration.code())
    );
    assert_eq!(
        h.c.check_commit("g", gen, "x", None, h.now),
        Err(ErrorCode::UnknownMemberId.code())
    );
    assert_eq!(
        h.c.check_commit("g", -1, "", None, h.now),
        Err(ErrorCode::UnknownMemberId.code())
    );
    // Between the join answers and the assignment, members are told to wait.
    let b = h.join(request("", &["range"]));
    h.join(request(&a, &["range"]));
    let jb = h.joined(b).unwrap();
    assert_eq!(
        h.c.check_commit("g", jb.generation, &jb.member_id, None, h.now),
        Err(ErrorCode::RebalanceInProgress.code())
    );
}

#[test]
fn non_empty_group_cannot_be_deleted() {
    let mut h = Harness::new(0);
    let (a, _) = h.stable_with_one();
    assert_eq!(h.c.delete("g"), Err(ErrorCode::NonEmptyGroup.code()));
    h.c.leave("g", vec![(a, None)], h.now);
    h.advance(0);
    assert_eq!(h.c.delete("g"), Ok(Vec::new()));
}

#[test]
fn new_group_continues_above_the_recorded_generation() {
    let mut c = Coordinator::new(config(0));
    let r = c.join("g", request("", &["range"]), 1, 41, 0);
    assert!(r.is_empty());
    let r = c.tick(0);
    assert_eq!(join_of(&r, 1).unwrap().generation, 42);
}

#[test]
fn subscribed_topics_come_from_the_members_metadata() {
    let mut c = Coordinator::new(config(0));
    let mut req = request("", &["range"]);
    let mut meta = vec![0u8, 0, 0, 0, 0, 1, 0, 1];
    meta.push(b't');
    meta.extend_from_slice(&(-1i32).to_be_bytes());
    req.protocols = vec![("range".to_string(), Bytes::from(meta))];
    c.join("g", req, 1, 0, 0);
    c.tick(0);
    assert_eq!(
        c.subscribed_topics("g").into_iter().collect::<Vec<_>>(),
        ["t"]
    );
    assert!(c.subscribed_topics("other").is_empty());
}

#[test]
fn a_group_another_broker_coordinates_now_is_unloaded_and_its_waiting_join_told_not_coordinator() {
    let mut h = Harness::new(0);
    let (a, _) = h.stable_with_one();
    // A second member's join waits for `a` to rejoin.
    let b = h.join(request("", &["range"]));
    assert!(h.joined(b).is_none());
    assert!(h.c.unload_where(|_| false).is_empty());
    assert_eq!(h.state(), Some(GroupState::PreparingRebalance));

    let replies = h.c.unload_where(|g| g == "g");
    let jb = join_of(&replies, b).expect("the waiting join is answered at once");
    assert_eq!(jb.error, ErrorCode::NotCoordinator.code());
    assert_eq!(h.state(), None, "forgotten");
    assert_eq!(
        h.c.heartbeat("g", 1, &a, None, h.now),
        ErrorCode::UnknownMemberId.code()
    );

    // The coordinator moves back: a member joining now does not wait for `a`, who has lived on
    // at the other coordinator (up to generation 7 there), and gets a generation above it.
    let t = h.next;
    h.next += 1;
    let r = h.c.join("g", request("", &["range"]), t, 7, h.now);
    h.seen.extend(r);
    h.advance(0);
    let j = h
        .joined(t)
        .expect("answered without waiting for stale members");
    assert_eq!(j.error, ErrorCode::None.code());
    assert_eq!(j.generation, 8);
    assert_eq!(j.members.len(), 1);
}

#[test]
fn an_unloaded_group_tells_a_member_waiting_for_its_assignment_not_coordinator() {
    let mut h = Harness::new(0);
    let (a, _) = h.stable_with_one();
    let b = h.join(request("", &["range"]));
    let a2 = h.join(request(&a, &["range"]));
    let (ja, jb) = (h.joined(a2).unwrap(), h.joined(b).unwrap());
    assert_eq!(h.state(), Some(GroupState::CompletingRebalance));
    // The follower syncs first and waits for the leader's assignment.
    let s = h.sync(&jb.member_id, jb.generation, &[]);
    assert!(h.synced(s).is_none());
    let replies = h.c.unload_where(|_| true);
    let sb = sync_of(&replies, s).expect("the waiting sync is answered at once");
    assert_eq!(sb.error, ErrorCode::NotCoordinator.code());
    assert_eq!(h.state(), None);
    assert_eq!(ja.leader, a);
}

// Transactional offset commits (KIP-98): pending per producer until the marker.

const PID: i64 = 4000;

fn tp(p: i32) -> (String, i32) {
    ("t".to_string(), p)
}

/// `producer` commits `offset` for partition `p` of group `g` in a transaction whose record
/// lands at `log_offset`.
fn txn_commit(h: &mut Harness, group: &str, producer: i64, p: i32, offset: i64, log_offset: i64) {
    let c = offset_at(offset, WALL, log_offset);
    h.c.prepare_txn_offsets(group, producer, &[(tp(p), c.value.clone())], h.now);
    h.c.txn_offsets_appended(group, producer, &[(tp(p), c)]);
}

#[test]
fn transactional_offsets_stay_pending_until_the_commit_marker() {
    let mut h = Harness::new(0);
    txn_commit(&mut h, "g", PID, 0, 42, 10);
    assert!(
        h.c.committed("g", None).is_empty(),
        "not visible before the marker"
    );
    assert!(h.c.has_pending_txn_offset("g", &tp(0)));
    assert!(!h.c.has_pending_txn_offset("g", &tp(1)));
    assert_eq!(h.c.complete_txn(PID, true, |_| true), vec!["g".to_string()]);
    assert_eq!(h.c.committed("g", None)[0].1.offset, 42);
    assert!(!h.c.has_pending_txn_offset("g", &tp(0)));
    assert!(h.c.txn_producers("g").is_empty());
}

#[test]
fn an_abort_marker_drops_the_pending_transactional_offsets() {
    let mut h = Harness::new(0);
    let now = h.now;
    h.c.apply_offsets("g", vec![(tp(0), offset_at(5, WALL, 1))], now);
    txn_commit(&mut h, "g", PID, 0, 42, 10);
    h.c.complete_txn(PID, false, |_| true);
    assert_eq!(h.c.committed("g", None)[0].1.offset, 5);
    assert!(!h.c.has_pending_txn_offset("g", &tp(0)));
}

#[test]
fn a_marker_completes_only_the_groups_of_its_partitions_and_its_producer() {
    let mut h = Harness::new(0);
    txn_commit(&mut h, "here", PID, 0, 1, 10);
    txn_commit(&mut h, "elsewhere", PID, 0, 2, 11);
    txn_commit(&mut h, "here", PID + 1, 1, 3, 12);
    let done = h.c.complete_txn(PID, true, |g| g == "here");
    assert_eq!(done, vec!["here".to_string()]);
    assert_eq!(h.c.committed("here", None).len(), 1);
    assert!(h.c.has_pending_txn_offset("here", &tp(1)), "other producer");
    assert!(
        h.c.has_pending_txn_offset("elsewhere", &tp(0)),
        "other partition"
    );
}

#[test]
fn a_later_plain_commit_is_not_replaced_by_an_earlier_transactional_one() {
    let mut h = Harness::new(0);
    txn_commit(&mut h, "g", PID, 0, 42, 10);
    let now = h.now;
    h.c.apply_offsets("g", vec![(tp(0), offset_at(50, WALL, 11))], now);
    h.c.complete_txn(PID, true, |_| true);
    assert_eq!(h.c.committed("g", None)[0].1.offset, 50);
}

#[test]
fn a_failed_transactional_append_is_no_longer_pending() {
    let mut h = Harness::new(0);
    let now = h.now;
    h.c.prepare_txn_offsets("g", PID, &[(tp(0), offset_at(1, WALL, 0).value)], now);
    assert!(h.c.has_pending_txn_offset("g", &tp(0)));
    h.c.fail_txn_offsets("g", PID, &[tp(0)]);
    assert!(!h.c.has_pending_txn_offset("g", &tp(0)));
    assert!(h.c.txn_producers("g").is_empty());
}

#[test]
fn txn_offset_commit_without_member_is_accepted_in_a_stable_group_and_members_are_fenced() {
    let mut h = Harness::new(0);
    let (a, generation) = h.stable_with_one();
    // v0-2 send no member: unlike OffsetCommit, accepted while the group has members.
    assert_eq!(h.c.check_txn_commit("g", -1, "", None), Ok(()));
    assert_eq!(h.c.check_txn_commit("g", generation, &a, None), Ok(()));
    assert_eq!(
        h.c.check_txn_commit("g", generation + 1, &a, None),
        Err(ErrorCode::IllegalGeneration.code())
    );
    assert_eq!(
        h.c.check_txn_commit("g", generation, "stranger", None),
        Err(ErrorCode::UnknownMemberId.code())
    );
    assert_eq!(
        h.c.check_txn_commit("g", generation, &a, Some("unknown-instance")),
        Err(ErrorCode::UnknownMemberId.code())
    );
    assert_eq!(h.c.check_txn_commit("new", -1, "", None), Ok(()));
    assert_eq!(
        h.c.check_txn_commit("new", 3, "m", None),
        Err(ErrorCode::UnknownMemberId.code())
    );
}

#[test]
fn a_group_with_only_pending_transactional_offsets_does_not_go_dead() {
    let mut h = Harness::new(0);
    txn_commit(&mut h, "g", PID, 0, 1, 0);
    assert!(h.c.expire(h.now, WALL).is_empty());
    assert!(h.c.contains("g"));
    h.c.complete_txn(PID, false, |_| true);
    assert!(h.c.expire(h.now, WALL)[0].dead);
}

#[test]
fn deleting_offsets_drops_their_pending_transactional_offsets_too() {
    let mut h = Harness::new(0);
    txn_commit(&mut h, "g", PID, 0, 1, 0);
    h.c.delete_offsets("g", &[tp(0)]);
    assert!(!h.c.has_pending_txn_offset("g", &tp(0)));
}

#[test]
fn pending_transactional_offsets_read_back_from_the_log_complete_with_their_marker() {
    let mut h = Harness::new(0);
    let pending = [(PID, [(tp(0), offset_at(7, WALL, 3))].into_iter().collect())]
        .into_iter()
        .collect();
    h.c.load_pending_txn_offsets("g", pending, h.now);
    assert!(h.c.has_pending_txn_offset("g", &tp(0)));
    h.c.complete_txn(PID, true, |_| true);
    assert_eq!(h.c.committed("g", None)[0].1.offset, 7);
}
