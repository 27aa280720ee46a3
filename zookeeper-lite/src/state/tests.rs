//! Unit tests of the state machine.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use super::*;

fn broker(id: BrokerId) -> BrokerInfo {
    BrokerInfo {
        id,
        host: "localhost".into(),
        port: 9092 + id.get() as u16,
        rack: None,
    }
}

fn commit(s: &mut State, records: &[Record]) {
    for r in records {
        s.apply(r);
    }
}

fn register(s: &mut State, id: BrokerId, timeout_ms: u64, now: Instant) -> SessionId {
    let (recs, session) = s.plan_register(&broker(id), timeout_ms).unwrap();
    commit(s, &recs);
    s.register(id, now);
    session
}

fn session_of(s: &State, id: BrokerId) -> SessionId {
    s.durable.sessions[&id].session
}

fn partition(s: &State, topic: &str, p: usize) -> PartitionInfo {
    s.metadata().topics[topic].partitions[p].clone()
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
fn replicas_are_placed_as_kafka_places_them_leader_first() {
    let (mut s, now) = fresh();
    for id in [2, 0, 1].map(BrokerId) {
        register(&mut s, id, 1000, now);
    }
    // Kafka's fixed start index 0 (this crate's unit tests); the fourth partition starts a new
    // round, so its follower is shifted rather than repeating partition 0's pair.
    let t = create(&mut s, "t", 4, 2);
    assert_eq!(
        replicas_of(&t),
        vec![vec![0, 1], vec![1, 2], vec![2, 0], vec![0, 2]]
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

fn replicas_of(t: &TopicInfo) -> Vec<Vec<i32>> {
    t.partitions
        .iter()
        .map(|p| p.replicas.iter().map(|b| b.get()).collect())
        .collect()
}

fn register_in_rack(s: &mut State, id: i32, rack: Option<&str>, now: Instant) {
    let mut info = broker(BrokerId(id));
    info.rack = rack.map(String::from);
    let (recs, _) = s.plan_register(&info, 1000).unwrap();
    commit(s, &recs);
    s.register(info.id, now);
}

fn new_topic(name: &str, partitions: i32, rf: i16) -> NewTopic {
    NewTopic {
        name: name.into(),
        num_partitions: partitions,
        replication_factor: rf,
        replica_assignment: None,
        configs: BTreeMap::new(),
        validate_only: false,
    }
}

#[test]
fn a_new_topic_starts_at_a_random_broker_as_in_kafka() {
    let (mut s, now) = fresh();
    s.placement_start = None;
    for id in 0..3 {
        register(&mut s, BrokerId(id), 1000, now);
    }
    let mut first_leaders = BTreeSet::new();
    let mut pairs = BTreeSet::new();
    for i in 0..200 {
        let t = create(&mut s, &format!("t{i}"), 3, 2);
        let r = replicas_of(&t);
        first_leaders.insert(r[0][0]);
        pairs.insert(r[0].clone());
        // Whatever the start, three partitions on three brokers: one leader each.
        let leaders: BTreeSet<i32> = r.iter().map(|p| p[0]).collect();
        assert_eq!(leaders.len(), 3, "{r:?}");
    }
    // 200 draws leave out one of the three starts with probability 3 * (2/3)^200.
    assert_eq!(first_leaders, BTreeSet::from([0, 1, 2]));
    assert_eq!(
        pairs.len(),
        6,
        "every (leader, follower) pair occurs: {pairs:?}"
    );
}

#[test]
fn brokers_with_racks_get_replicas_spread_over_racks() {
    let (mut s, now) = fresh();
    s.placement_start = None;
    // Two brokers in rack a, one in rack b: plain round robin would put [0, 1] together.
    for (id, rack) in [(0, "a"), (1, "a"), (2, "b")] {
        register_in_rack(&mut s, id, Some(rack), now);
    }
    for i in 0..50 {
        let t = create(&mut s, &format!("t{i}"), 6, 2);
        for r in replicas_of(&t) {
            assert!(
                r.contains(&2),
                "each partition has a replica in rack b: {r:?}"
            );
        }
    }
}

#[test]
fn brokers_with_and_without_racks_fail_placement_with_kafkas_texts() {
    let (mut s, now) = fresh();
    register_in_rack(&mut s, 0, Some("a"), now);
    register_in_rack(&mut s, 1, Some("b"), now);
    create(&mut s, "before", 2, 2);
    register_in_rack(&mut s, 2, None, now);
    let e = s.plan_create_topic(&new_topic("t", 3, 2)).unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        (
            ZkErrorCode::Internal,
            "Not all brokers have rack information for replica rack aware assignment."
        )
    );
    // Named brokers need no placement, so Kafka's CreateTopics takes them.
    let mut named = new_topic("named", -1, -1);
    named.replica_assignment = Some(vec![vec![BrokerId(2), BrokerId(0)]]);
    assert!(s.plan_create_topic(&named).is_ok());
    // Kafka's CreatePartitions reads the brokers in rack-enforced mode first, whatever the
    // request says.
    let expected = "Not all brokers have rack information. Add --disable-rack-aware in command \
                    line to make replica assignment without rack information.";
    for assignment in [None, Some(&[vec![BrokerId(2), BrokerId(0)]][..])] {
        let e = s
            .plan_create_partitions("before", 3, assignment)
            .unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (ZkErrorCode::Internal, expected)
        );
    }
}

#[test]
fn new_partitions_start_from_the_broker_of_partition_0s_leader() {
    let (mut s, now) = fresh();
    s.placement_start = None;
    for id in [0, 1, 2] {
        register(&mut s, BrokerId(id), 1000, now);
    }
    let mut t = new_topic("t", -1, -1);
    t.replica_assignment = Some(vec![vec![BrokerId(1), BrokerId(2)]]);
    let topic = s.plan_create_topic(&t).unwrap();
    commit(&mut s, &[Record::PutTopic { topic }]);
    // AdminZkClient.createNewPartitionsAssignment: start index 1 (broker 1 leads partition 0),
    // used as replica shift too, partition ids from 1; partition 3 starts a new round, so its
    // shift grows by one.
    let grown = s.plan_create_partitions("t", 4, None).unwrap();
    assert_eq!(
        replicas_of(&grown),
        vec![vec![1, 2], vec![2, 1], vec![0, 2], vec![1, 2]]
    );
    // A leader id above every live broker: Kafka's indexWhere finds none, start index 0.
    let mut t = new_topic("gone-leader", -1, -1);
    t.replica_assignment = Some(vec![vec![BrokerId(2)]]);
    let mut topic = s.plan_create_topic(&t).unwrap();
    topic.partitions[0].replicas = vec![BrokerId(9)];
    commit(&mut s, &[Record::PutTopic { topic }]);
    let grown = s.plan_create_partitions("gone-leader", 3, None).unwrap();
    assert_eq!(replicas_of(&grown), vec![vec![9], vec![1], vec![2]]);
    // Partition 0's replica count is the factor, and it must fit the live brokers.
    create(&mut s, "wide", 1, 3);
    let recs = s.plan_remove_broker(BrokerId(2));
    commit(&mut s, &recs);
    s.remove_broker(BrokerId(2));
    assert_eq!(
        s.plan_create_partitions("wide", 2, None)
            .unwrap_err()
            .message,
        "Replication factor: 3 larger than available brokers: 2."
    );
}

#[test]
fn named_replicas_of_new_partitions_are_checked_in_kafkas_order_with_its_texts() {
    let (mut s, now) = fresh();
    for id in [0, 1, 2] {
        register(&mut s, BrokerId(id), 1000, now);
    }
    create(&mut s, "t", 1, 2);
    let b = |list: &[i32]| list.iter().copied().map(BrokerId).collect::<Vec<_>>();
    let msg = |total: i32, a: &[Vec<BrokerId>]| {
        let e = s.plan_create_partitions("t", total, Some(a)).unwrap_err();
        assert_eq!(e.code, ZkErrorCode::InvalidReplicaAssignment, "{e:?}");
        e.message
    };
    assert_eq!(
        msg(2, &[b(&[5, 1]), b(&[7, 5])]),
        "Unknown broker(s) in replica assignment: 5, 7."
    );
    assert_eq!(
        msg(2, &[b(&[0, 1]), b(&[1, 2])]),
        "Increasing the number of partitions by 1 but 2 assignments provided."
    );
    assert_eq!(
        msg(3, &[b(&[0, 1]), b(&[])]),
        "Cannot have replication factor of 0 for partition id 2."
    );
    assert_eq!(
        msg(2, &[b(&[1, 1])]),
        "Duplicate brokers not allowed in replica assignment: 1, 1 for partition id 1."
    );
    assert_eq!(
        msg(4, &[b(&[0, 1]), b(&[0]), b(&[0, 1, 2])]),
        "Inconsistent replication factor between partitions, partition 0 has 2 while \
         partitions [2, 3] have replication factors [1, 3], respectively."
    );
    let grown = s
        .plan_create_partitions("t", 3, Some(&[b(&[2, 0]), b(&[1, 2])]))
        .unwrap();
    assert_eq!(replicas_of(&grown)[1..], [vec![2, 0], vec![1, 2]]);
}

#[test]
fn second_registration_of_a_live_id_is_broker_id_in_use() {
    let (mut s, now) = fresh();
    register(&mut s, BrokerId(1), 1000, now);
    let e = s.plan_register(&broker(BrokerId(1)), 1000).unwrap_err();
    assert_eq!(e.code, ZkErrorCode::BrokerIdInUse);
    assert!(e.message.contains("Broker id 1") && e.message.contains("localhost:9093"));
}

#[test]
fn leader_fails_over_within_the_isr_on_session_expiry() {
    let (mut s, t0) = fresh();
    let s0 = register(&mut s, BrokerId(0), 1000, t0);
    register(&mut s, BrokerId(1), 5000, t0);
    create(&mut s, "t", 1, 2);
    let v = s.version();
    let t1 = t0 + Duration::from_millis(1001);
    s.heartbeat(BrokerId(1), session_of(&s, BrokerId(1)), t1)
        .unwrap();
    expire_all(&mut s, t1);
    let p = &s.metadata().topics["t"].partitions[0];
    assert_eq!(
        (p.leader, p.leader_epoch, p.isr.clone()),
        (BrokerId(1), LeaderEpoch(1), vec![BrokerId(1)])
    );
    assert!(s.version() > v);
    assert_eq!(
        s.heartbeat(BrokerId(0), s0, t1).unwrap_err().code,
        ZkErrorCode::SessionExpired
    );
    // The last ISR member going leaves the partition leaderless, and still in its ISR: only
    // it has every acknowledged record.
    expire_all(&mut s, t1 + Duration::from_millis(5001));
    let p = &s.metadata().topics["t"].partitions[0];
    assert_eq!(
        (p.leader, p.leader_epoch, p.isr.clone()),
        (BrokerId(-1), LeaderEpoch(2), vec![BrokerId(1)])
    );
    assert!(s.metadata().brokers.is_empty());
}

#[test]
fn heartbeats_keep_a_session_alive() {
    let (mut s, t0) = fresh();
    let sid = register(&mut s, BrokerId(0), 100, t0);
    for i in 1..10 {
        let now = t0 + Duration::from_millis(90 * i);
        s.heartbeat(BrokerId(0), sid, now).unwrap();
        assert!(s.expired(now).is_empty());
    }
}

#[test]
fn the_last_in_sync_replica_leads_again_when_it_returns_and_others_wait_outside_the_isr() {
    let (mut s, t0) = fresh();
    register(&mut s, BrokerId(0), 100, t0);
    register(&mut s, BrokerId(1), 100_000, t0);
    // Replicas [0, 1]: broker 0 leads.
    let t = s
        .plan_create_topic(&NewTopic {
            name: "t".into(),
            num_partitions: 1,
            replication_factor: 2,
            replica_assignment: Some(vec![vec![BrokerId(0), BrokerId(1)]]),
            configs: BTreeMap::new(),
            validate_only: false,
        })
        .unwrap();
    commit(&mut s, &[Record::PutTopic { topic: t }]);
    create(&mut s, "solo", 1, 1);
    let solo_owner = partition(&s, "solo", 0).leader;
    // Broker 0 dies: broker 1 leads t, broker 0 leaves the ISR.
    s.heartbeat(
        BrokerId(1),
        session_of(&s, BrokerId(1)),
        t0 + Duration::from_millis(150),
    )
    .unwrap();
    expire_all(&mut s, t0 + Duration::from_millis(150));
    let p = partition(&s, "t", 0);
    assert_eq!(
        (p.leader, p.leader_epoch, p.isr.clone(), p.partition_epoch),
        (BrokerId(1), LeaderEpoch(1), vec![BrokerId(1)], 1)
    );
    // Broker 0 returns: it does not rejoin the ISR by registering (its leader adds it once it
    // has caught up) and does not take leadership back.
    register(
        &mut s,
        BrokerId(0),
        100_000,
        t0 + Duration::from_millis(200),
    );
    assert_eq!(partition(&s, "t", 0), p);
    // A single-replica partition whose broker died is leaderless with that broker in its
    // ISR, and led by it again when it returns.
    if solo_owner == BrokerId(0) {
        let q = partition(&s, "solo", 0);
        assert_eq!(
            (q.leader, q.leader_epoch, q.isr.clone()),
            (BrokerId(0), LeaderEpoch(2), vec![BrokerId(0)])
        );
    }
}

#[test]
fn sessions_survive_a_restart_and_expire_a_timeout_after_it() {
    let (mut s, t0) = fresh();
    let s0 = register(&mut s, BrokerId(0), 100, t0);
    let s1 = register(&mut s, BrokerId(1), 100, t0);
    create(&mut s, "t", 2, 2);
    let mut durable = s.durable().clone();
    durable.generation += 1;
    let t1 = t0 + Duration::from_secs(5);
    let mut s = State::new(durable, t1);
    let before = s.metadata().topics;
    assert_eq!(s.metadata().brokers.len(), 2);
    assert!(s.expired(t1 + Duration::from_millis(100)).is_empty());
    // Broker 1 heartbeats with the session it had before the restart; broker 0 never does.
    let t2 = t1 + Duration::from_millis(90);
    s.heartbeat(BrokerId(1), s1, t2).unwrap();
    assert_eq!(s.metadata().topics, before);
    expire_all(&mut s, t1 + Duration::from_millis(101));
    assert_eq!(
        s.heartbeat(BrokerId(0), s0, t2).unwrap_err().code,
        ZkErrorCode::SessionExpired
    );
    for p in &s.metadata().topics["t"].partitions {
        assert_eq!((p.leader, p.isr.clone()), (BrokerId(1), vec![BrokerId(1)]));
    }
    // New session ids never repeat one kept from before.
    let again = register(&mut s, BrokerId(0), 100, t2);
    assert!(again > s0.max(s1));
}

#[test]
fn without_kept_sessions_leaders_stay_until_the_grace_ends() {
    let (mut s, t0) = fresh();
    register(&mut s, BrokerId(0), 100, t0);
    register(&mut s, BrokerId(1), 100, t0);
    create(&mut s, "t", 2, 2);
    let mut durable = s.durable().clone();
    durable.generation += 1;
    // A journal written before sessions were kept.
    durable.sessions.clear();
    let restarted = State::new(durable, t0);
    assert!(restarted.version() > s.version());
    let before = restarted.metadata().topics;
    let mut s = restarted;
    assert!(s.expired(t0 + Duration::from_secs(29)).is_empty());
    // Broker 1 comes back; broker 0 never does.
    register(&mut s, BrokerId(1), 60_000, t0 + Duration::from_secs(1));
    assert_eq!(s.metadata().topics, before);
    expire_all(&mut s, t0 + RESTART_GRACE);
    for p in &s.metadata().topics["t"].partitions {
        assert_eq!((p.leader, p.isr.clone()), (BrokerId(1), vec![BrokerId(1)]));
    }
}

fn three_brokers_one_topic() -> (State, Instant, Vec<SessionId>) {
    let (mut s, t0) = fresh();
    let sessions = [0, 1, 2]
        .map(|b| register(&mut s, BrokerId(b), 100_000, t0))
        .to_vec();
    let t = s
        .plan_create_topic(&NewTopic {
            name: "t".into(),
            num_partitions: 1,
            replication_factor: 3,
            replica_assignment: Some(vec![vec![BrokerId(0), BrokerId(1), BrokerId(2)]]),
            configs: BTreeMap::new(),
            validate_only: false,
        })
        .unwrap();
    commit(&mut s, &[Record::PutTopic { topic: t }]);
    (s, t0, sessions)
}

#[test]
fn alter_partition_lands_only_from_the_current_leader_epoch_and_partition_epoch() {
    let (mut s, _, sessions) = three_brokers_one_topic();
    let shrink = |s: &State, from: i32, session, le: i32, pe: i32, isr: &[i32]| {
        s.plan_alter_partition(
            BrokerId(from),
            session,
            "t",
            0,
            LeaderEpoch(le),
            pe,
            &isr.iter().copied().map(BrokerId).collect::<Vec<_>>(),
        )
    };
    // Not the leader, a stale session, an older epoch, a stale partition epoch: refused.
    let code = |r: Result<(Record, PartitionInfo), ServerError>| r.unwrap_err().code;
    assert_eq!(
        code(shrink(&s, 1, sessions[1], 0, 0, &[1, 2])),
        ZkErrorCode::NotLeader
    );
    assert_eq!(
        code(shrink(&s, 0, 999, 0, 0, &[0, 1])),
        ZkErrorCode::SessionExpired
    );
    assert_eq!(
        code(shrink(&s, 0, sessions[0], -1, 0, &[0, 1])),
        ZkErrorCode::FencedLeaderEpoch
    );
    assert_eq!(
        code(shrink(&s, 0, sessions[0], 0, 5, &[0, 1])),
        ZkErrorCode::InvalidUpdateVersion
    );
    assert_eq!(
        code(shrink(&s, 0, sessions[0], 0, 0, &[1, 2])),
        ZkErrorCode::InvalidRequest
    );
    assert_eq!(
        code(shrink(&s, 0, sessions[0], 0, 0, &[0, 7])),
        ZkErrorCode::InvalidRequest
    );
    // The leader drops 2; the ISR keeps replica order; the partition epoch moves.
    let (record, p) = shrink(&s, 0, sessions[0], 0, 0, &[1, 0]).unwrap();
    commit(&mut s, &[record]);
    assert_eq!(
        (p.isr.clone(), p.partition_epoch),
        (vec![BrokerId(0), BrokerId(1)], 1)
    );
    assert_eq!(partition(&s, "t", 0), p);
    // The same change again names an old partition epoch.
    assert_eq!(
        code(shrink(&s, 0, sessions[0], 0, 0, &[0, 1])),
        ZkErrorCode::InvalidUpdateVersion
    );
    // Broker 2 shuts down: it may not be added back.
    let (records, _) = s
        .plan_controlled_shutdown(BrokerId(2), sessions[2])
        .unwrap();
    commit(&mut s, &records);
    s.begin_shutdown(BrokerId(2));
    assert_eq!(
        code(shrink(&s, 0, sessions[0], 0, 1, &[0, 1, 2])),
        ZkErrorCode::IneligibleReplica
    );
}

#[test]
fn controlled_shutdown_hands_leadership_to_the_isr_and_preferred_election_brings_it_back() {
    let (mut s, t0, sessions) = three_brokers_one_topic();
    let (records, remaining) = s
        .plan_controlled_shutdown(BrokerId(0), sessions[0])
        .unwrap();
    commit(&mut s, &records);
    s.begin_shutdown(BrokerId(0));
    assert!(remaining.is_empty());
    let p = partition(&s, "t", 0);
    assert_eq!(
        (p.leader, p.leader_epoch, p.isr.clone()),
        (BrokerId(1), LeaderEpoch(1), vec![BrokerId(1), BrokerId(2)])
    );
    // While shutting down it is not preferred back, whether named or asked for with every
    // partition.
    for named in [Some(vec![tp("t", 0)]), None] {
        let (records, results) = s.plan_elect_leaders(ElectionType::Preferred, named.as_deref());
        assert!(records.is_empty());
        assert_eq!(results.len(), 1);
        let error = results[0].error.as_ref().unwrap();
        assert_eq!(error.code, ZkErrorCode::PreferredLeaderNotAvailable);
        assert_eq!(
            error.message,
            "Failed to elect leader for partition t-0 under strategy \
             PreferredReplicaPartitionLeaderElectionStrategy"
        );
    }
    // It restarts and registers; once its leader puts it back in the ISR, a preferred
    // election makes it leader again.
    let records = s.plan_remove_broker(BrokerId(0));
    commit(&mut s, &records);
    s.remove_broker(BrokerId(0));
    register(&mut s, BrokerId(0), 100_000, t0);
    let p = partition(&s, "t", 0);
    let (record, _) = s
        .plan_alter_partition(
            BrokerId(1),
            sessions[1],
            "t",
            0,
            p.leader_epoch,
            p.partition_epoch,
            &[BrokerId(0), BrokerId(1), BrokerId(2)],
        )
        .unwrap();
    commit(&mut s, &[record]);
    let (records, results) = s.plan_elect_leaders(ElectionType::Preferred, None);
    commit(&mut s, &records);
    assert_eq!(results.len(), 1);
    assert!(results[0].error.is_none());
    let p = partition(&s, "t", 0);
    assert_eq!((p.leader, p.leader_epoch), (BrokerId(0), LeaderEpoch(2)));
    // Asked again, named or with every partition: not needed (the broker leaves these out of
    // an answer to a request that named no partitions).
    for named in [Some(vec![tp("t", 0)]), None] {
        let (records, results) = s.plan_elect_leaders(ElectionType::Preferred, named.as_deref());
        assert!(records.is_empty());
        assert_eq!(
            results[0].error.as_ref().unwrap().code,
            ZkErrorCode::ElectionNotNeeded
        );
    }
    // An unknown partition is reported with the ZooKeeper controller's text.
    let (_, results) = s.plan_elect_leaders(ElectionType::Preferred, Some(&[tp("t", 9)]));
    let error = results[0].error.as_ref().unwrap();
    assert_eq!(
        (error.code, error.message.as_str()),
        (ZkErrorCode::UnknownTopic, "The partition does not exist.")
    );
}

#[test]
fn no_leader_outside_the_isr_unless_unclean_election_is_enabled() {
    for unclean in [false, true] {
        let (mut s, t0, sessions) = three_brokers_one_topic();
        // The ISR shrinks to the leader alone, then the leader dies.
        let (record, _) = s
            .plan_alter_partition(
                BrokerId(0),
                sessions[0],
                "t",
                0,
                LeaderEpoch(0),
                0,
                &[BrokerId(0)],
            )
            .unwrap();
        commit(&mut s, &[record]);
        if unclean {
            commit(
                &mut s,
                &[Record::PutBrokerConfigs {
                    entity: String::new(),
                    configs: [("unclean.leader.election.enable".into(), "true".into())].into(),
                }],
            );
        }
        let records = s.plan_remove_broker(BrokerId(0));
        commit(&mut s, &records);
        s.remove_broker(BrokerId(0));
        let p = partition(&s, "t", 0);
        if unclean {
            assert_eq!((p.leader, p.isr.clone()), (BrokerId(1), vec![BrokerId(1)]));
        } else {
            assert_eq!((p.leader, p.isr.clone()), (BrokerId(-1), vec![BrokerId(0)]));
            // An operator's unclean election picks a live replica.
            let (records, results) =
                s.plan_elect_leaders(ElectionType::Unclean, Some(&[tp("t", 0)]));
            assert!(results[0].error.is_none());
            commit(&mut s, &records);
            let p = partition(&s, "t", 0);
            assert_eq!((p.leader, p.isr.clone()), (BrokerId(1), vec![BrokerId(1)]));
        }
        let _ = t0;
    }
}

#[test]
fn create_topic_errors_carry_kafka_texts() {
    let (mut s, now) = fresh();
    register(&mut s, BrokerId(0), 1000, now);
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
    a.replica_assignment = Some(vec![vec![BrokerId(0)], vec![BrokerId(7)]]);
    assert_eq!(msg(a), "Unknown broker(s) in replica assignment: 7.");
    let mut a = new("u", -1, -1);
    a.replica_assignment = Some(vec![vec![BrokerId(0), BrokerId(0)]]);
    assert_eq!(
        s.plan_create_topic(&a).unwrap_err().code,
        ZkErrorCode::InvalidReplicaAssignment
    );
}

#[test]
fn create_partitions_grows_and_refuses_shrinking() {
    let (mut s, now) = fresh();
    register(&mut s, BrokerId(0), 1000, now);
    register(&mut s, BrokerId(1), 1000, now);
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
    let t = s
        .plan_create_partitions("t", 4, Some(&[vec![BrokerId(0)]]))
        .unwrap();
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
        leader_epoch: common::ids::LeaderEpoch(3),
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

/// Plans and applies a commit as the controller does; returns the per-partition errors.
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
    register(&mut s, BrokerId(0), 1000, now);
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

#[test]
fn controlled_shutdown_is_not_held_up_by_single_replica_partitions() {
    let (mut s, _, sessions) = three_brokers_one_topic();
    let t = s
        .plan_create_topic(&NewTopic {
            name: "solo".into(),
            num_partitions: 1,
            replication_factor: 1,
            replica_assignment: Some(vec![vec![BrokerId(0)]]),
            configs: BTreeMap::new(),
            validate_only: false,
        })
        .unwrap();
    commit(&mut s, &[Record::PutTopic { topic: t }]);
    // Broker 0 leads t-0 (RF 3) and solo-0 (RF 1): t-0 moves, solo-0 has nowhere to go and is
    // not reported as remaining (Kafka's doControlledShutdown skips it).
    let (records, remaining) = s
        .plan_controlled_shutdown(BrokerId(0), sessions[0])
        .unwrap();
    commit(&mut s, &records);
    assert!(remaining.is_empty(), "{remaining:?}");
    assert_eq!(partition(&s, "t", 0).leader, BrokerId(1));
    assert_eq!(partition(&s, "solo", 0).leader, BrokerId(0));
}

#[test]
fn enabling_unclean_election_elects_a_leader_for_partitions_already_offline() {
    let (mut s, _, sessions) = three_brokers_one_topic();
    // The ISR shrinks to broker 0, which dies: no leader.
    let (record, _) = s
        .plan_alter_partition(
            BrokerId(0),
            sessions[0],
            "t",
            0,
            LeaderEpoch(0),
            0,
            &[BrokerId(0)],
        )
        .unwrap();
    commit(&mut s, &[record]);
    let records = s.plan_remove_broker(BrokerId(0));
    commit(&mut s, &records);
    s.remove_broker(BrokerId(0));
    assert!(partition(&s, "t", 0).leader.is_none());
    assert!(s.plan_unclean_elections().is_empty(), "not allowed yet");
    // The operator turns it on for the topic: a live replica leads at once.
    let topic = s
        .plan_alter_topic_configs(
            "t",
            &[(
                "unclean.leader.election.enable".to_string(),
                "true".to_string(),
            )]
            .into(),
        )
        .unwrap();
    commit(&mut s, &[Record::PutTopic { topic }]);
    let records = s.plan_unclean_elections();
    commit(&mut s, &records);
    let p = partition(&s, "t", 0);
    assert_eq!((p.leader, p.isr.clone()), (BrokerId(1), vec![BrokerId(1)]));
}

/// A producer id block record replayed (a crash between the snapshot and emptying the journal)
/// moves nothing back; the last block below `i64::MAX` is refused with Kafka's text.
#[test]
fn producer_id_blocks_replay_harmlessly_and_stop_before_overflow() {
    let now = Instant::now();
    let mut s = State::new(Durable::default(), now);
    let session = register(&mut s, BrokerId(0), 6000, now);
    let (first_record, first, count) = s.plan_allocate_producer_ids(BrokerId(0), session).unwrap();
    assert_eq!((first, count), (0, 1000));
    commit(&mut s, std::slice::from_ref(&first_record));
    let (second, next, _) = s.plan_allocate_producer_ids(BrokerId(0), session).unwrap();
    assert_eq!(next, 1000);
    commit(&mut s, &[second, first_record]);
    assert_eq!(s.durable.next_producer_id, 2000);

    s.durable.next_producer_id = i64::MAX - 999;
    let e = s
        .plan_allocate_producer_ids(BrokerId(0), session)
        .unwrap_err();
    assert_eq!(e.code, ZkErrorCode::Internal);
    assert_eq!(
        e.message,
        "Exhausted all producerIds as the next block's end producerId has exceeded the int64 \
         type limit"
    );
    s.durable.next_producer_id = i64::MAX - 1000;
    assert!(s.plan_allocate_producer_ids(BrokerId(0), session).is_ok());
}
