//! What the group coordinator writes to `__consumer_offsets` decodes with Kafka's schemas, read
//! by an independent reader (`e2e/python/offsets_topic_reader.py`: kafka-python fetches the
//! topic, a decoder written from Kafka's schema files decodes it), as Burrow and other readers
//! of the topic do: offset commits (key v1, value v3), group metadata after a rebalance and after
//! the last member left (key v2, value v3, with the members' subscriptions and assignments), and
//! tombstones when a group is deleted. Also: offsets zookeeper-lite kept before the topic existed
//! are moved into it when it is created.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use e2e::{binary, python, repo_root, run_command, run_tool, wait_until, Cluster, Process};
use serde_json::Value;

const TOPIC: &str = "orders";
const DEADLINE: Duration = Duration::from_secs(60);

/// Every record of `__consumer_offsets`, decoded by the independent reader.
fn read_offsets_topic(python: &std::path::Path, bootstrap: &str) -> Vec<Value> {
    let mut cmd = std::process::Command::new(python);
    cmd.arg(repo_root().join("e2e/python/offsets_topic_reader.py"))
        .arg(bootstrap)
        .env("PYTHONDONTWRITEBYTECODE", "1");
    let out = run_command(cmd, b"", DEADLINE);
    assert_eq!(out.code, Some(0), "the reader failed: {}", out.stderr);
    out.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn of_group<'a>(records: &'a [Value], group: &str, kind: &str) -> Vec<&'a Value> {
    records
        .iter()
        .filter(|r| r["key"]["group"] == group && r["key"]["type"] == kind)
        .collect()
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

fn groups_tool(bootstrap: &str, args: &[&str]) -> String {
    let mut all = vec!["--bootstrap-server", bootstrap];
    all.extend_from_slice(args);
    let out = run_tool("kafka-consumer-groups", &all, b"", DEADLINE);
    assert_eq!(out.code, Some(0), "{out:?}");
    out.stdout
}

#[test]
fn group_metadata_offsets_and_tombstones_decode_with_kafkas_schemas() {
    let Some(python) = python() else { return };
    let cluster = Cluster::start_with(&[("group.initial.rebalance.delay.ms", "0")]);
    let bootstrap = cluster.bootstrap();
    cluster.create_topic(TOPIC, 2);
    let out = run_tool(
        "kafka-console-producer",
        &["--bootstrap-server", &bootstrap, "--topic", TOPIC],
        b"a\nb\nc\nd\n",
        DEADLINE,
    );
    assert_eq!(out.code, Some(0), "{out:?}");

    // A consumer group with one member that reads everything, commits and leaves.
    let mut member = Process::spawn(
        "kafka-console-consumer",
        binary("kafka-console-consumer"),
        [
            "--bootstrap-server",
            &bootstrap,
            "--topic",
            TOPIC,
            "--group",
            "meta-g",
            "--from-beginning",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        vec![("RUST_LOG".to_string(), "client::consumer=info".to_string())],
    );
    member.wait_for_line("the member's four records", DEADLINE, |l| l == "d");
    wait_until("the member's commits of both partitions", DEADLINE, || {
        let described = groups_tool(&bootstrap, &["--describe", "--group", "meta-g"]);
        let committed = described
            .lines()
            .filter(|l| l.starts_with("meta-g"))
            .filter(|l| l.split_whitespace().nth(3).is_some_and(|o| o != "-"))
            .count();
        (committed == 2).then_some(())
    });
    let status = member.signal_and_wait("TERM", DEADLINE);
    assert!(status.success(), "the console consumer exited {status}");
    // An admin commit (no members): offsets only.
    groups_tool(
        &bootstrap,
        &[
            "--reset-offsets",
            "--group",
            "reset-g",
            "--topic",
            TOPIC,
            "--to-offset",
            "1",
            "--execute",
        ],
    );

    let records = read_offsets_topic(&python, &bootstrap);
    // The admin commit: key v1 (group, topic, partition), value v3.
    for p in 0..2 {
        let last = of_group(&records, "reset-g", "offset")
            .into_iter()
            .rev()
            .find(|r| r["key"]["partition"] == p)
            .unwrap_or_else(|| panic!("no offset record of reset-g/{p}: {records:?}"));
        assert_eq!(last["key"]["version"], 1);
        assert_eq!(last["key"]["topic"], TOPIC);
        let v = &last["value"];
        assert_eq!(v["version"], 3, "{v}");
        assert_eq!(v["offset"], 1);
        assert_eq!(v["metadata"], "");
        assert!(
            v["commitTimestamp"].as_i64().unwrap() > 1_600_000_000_000,
            "{v}"
        );
    }
    // The member's commits: the end of each partition.
    let committed: i64 = of_group(&records, "meta-g", "offset")
        .iter()
        .map(|r| r["value"]["offset"].as_i64().unwrap())
        .max()
        .unwrap();
    assert!(committed >= 2, "meta-g committed up to {committed}");
    // Group metadata: the rebalance with its member, then Empty once it left.
    let metadata = of_group(&records, "meta-g", "group");
    assert!(metadata.len() >= 2, "{metadata:?}");
    let stable = metadata
        .iter()
        .find(|r| {
            r["value"]["members"]
                .as_array()
                .is_some_and(|m| m.len() == 1)
        })
        .unwrap_or_else(|| panic!("no metadata with the member: {metadata:?}"));
    let v = &stable["value"];
    assert_eq!(stable["key"]["version"], 2);
    assert_eq!(v["version"], 3);
    assert_eq!(v["protocolType"], "consumer");
    assert!(v["generation"].as_i64().unwrap() >= 1);
    let m = &v["members"][0];
    assert_eq!(v["leader"], m["memberId"]);
    assert!(v["protocol"].is_string(), "{v}");
    assert_eq!(m["groupInstanceId"], Value::Null);
    assert_eq!(m["clientHost"], "/127.0.0.1");
    assert!(m["sessionTimeout"].as_i64().unwrap() > 0);
    assert!(m["rebalanceTimeout"].as_i64().unwrap() > 0);
    // ConsumerProtocol subscription and assignment both name the topic.
    assert!(
        m["subscription"].as_str().unwrap().contains(&hex(TOPIC)),
        "{m}"
    );
    assert!(
        m["assignment"].as_str().unwrap().contains(&hex(TOPIC)),
        "{m}"
    );
    let last = metadata.last().unwrap();
    assert_eq!(last["value"]["members"], Value::Array(Vec::new()), "{last}");
    assert_eq!(last["value"]["protocolType"], "consumer");
    assert_eq!(
        last["value"]["generation"].as_i64().unwrap(),
        v["generation"].as_i64().unwrap() + 1,
        "the Empty group is stored with the next generation"
    );

    // Deleting a group writes tombstones for its offsets and its metadata.
    let out = groups_tool(&bootstrap, &["--delete", "--group", "meta-g"]);
    assert!(
        out.contains("Deletion of requested consumer groups ('meta-g') was successful."),
        "{out}"
    );
    let records = read_offsets_topic(&python, &bootstrap);
    for p in 0..2 {
        let last = of_group(&records, "meta-g", "offset")
            .into_iter()
            .rev()
            .find(|r| r["key"]["partition"] == p)
            .unwrap();
        assert_eq!(last["value"], Value::Null, "offset tombstone of meta-g/{p}");
    }
    let last = of_group(&records, "meta-g", "group")
        .into_iter()
        .last()
        .unwrap();
    assert_eq!(last["value"], Value::Null, "group tombstone of meta-g");
}

/// Offsets committed while zookeeper-lite kept them (here: OffsetCommit v0, which Kafka 3.9 still
/// sends to ZooKeeper) are written into the group's `__consumer_offsets` partition when that
/// partition is created, and served by the coordinator from then on.
#[test]
fn offsets_kept_by_zookeeper_lite_move_into_the_new_offsets_topic() {
    use bytes::{Buf, BufMut, BytesMut};
    use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
    use kafka_protocol::messages::{
        ApiKey, GroupId, OffsetFetchRequest, RequestKind, ResponseKind, TopicName,
    };
    use kafka_protocol::protocol::StrBytes;

    let cluster = Cluster::start();
    let bootstrap = cluster.bootstrap();
    cluster.create_topic(TOPIC, 2);
    let mut conn = e2e::raw::Conn::open(&bootstrap);
    // OffsetCommit v0 (the crate no longer encodes it): group, [topic, [partition, offset,
    // metadata]].
    let mut body = BytesMut::new();
    let put_string = |b: &mut BytesMut, s: &str| {
        b.put_i16(s.len() as i16);
        b.put_slice(s.as_bytes());
    };
    put_string(&mut body, "legacy");
    body.put_i32(1);
    put_string(&mut body, TOPIC);
    body.put_i32(2);
    for (partition, offset, metadata) in [(0, 17i64, "kept"), (1, 23, "")] {
        body.put_i32(partition);
        body.put_i64(offset);
        put_string(&mut body, metadata);
    }
    let mut r = conn.exchange(ApiKey::OffsetCommit, 0, &body);
    assert_eq!(r.get_i32(), 1, "one topic");
    let name_len = r.get_i16() as usize;
    r.advance(name_len);
    assert_eq!(r.get_i32(), 2, "two partitions");
    for _ in 0..2 {
        r.get_i32();
        assert_eq!(r.get_i16(), 0, "stored");
    }

    // The first FindCoordinator creates __consumer_offsets; loading the group's new partition
    // migrates the offsets.
    e2e::raw::wait_for_group_coordinator(&bootstrap, "legacy");
    let fetch = OffsetFetchRequest::default()
        .with_group_id(GroupId(StrBytes::from_static_str("legacy")))
        .with_topics(Some(vec![OffsetFetchRequestTopic::default()
            .with_name(TopicName(StrBytes::from_static_str(TOPIC)))
            .with_partition_indexes(vec![0, 1])]));
    let ResponseKind::OffsetFetch(r) = conn.call(5, RequestKind::OffsetFetch(fetch)) else {
        panic!("not an OffsetFetch response")
    };
    let got: Vec<(i32, i64, Option<String>)> = r.topics[0]
        .partitions
        .iter()
        .map(|p| {
            (
                p.partition_index,
                p.committed_offset,
                p.metadata.as_ref().map(|m| m.to_string()),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (0, 17, Some("kept".to_string())),
            (1, 23, Some(String::new()))
        ]
    );
    // They are in the log, not only in memory: the independent reader finds them.
    if let Some(python) = python() {
        let records = read_offsets_topic(&python, &bootstrap);
        let offsets: Vec<i64> = of_group(&records, "legacy", "offset")
            .iter()
            .map(|r| r["value"]["offset"].as_i64().unwrap())
            .collect();
        assert_eq!(offsets, [17, 23]);
    }
}

/// The broker `bootstrap` names as `group`'s coordinator, if any.
fn find_coordinator(bootstrap: &str, group: &str) -> Option<i32> {
    use kafka_protocol::messages::{FindCoordinatorRequest, RequestKind, ResponseKind};
    use kafka_protocol::protocol::StrBytes;
    let request =
        FindCoordinatorRequest::default().with_key(StrBytes::from_string(group.to_string()));
    match e2e::raw::Conn::open(bootstrap).call(1, RequestKind::FindCoordinator(request)) {
        ResponseKind::FindCoordinator(r) if r.error_code == 0 => Some(r.node_id.0),
        _ => None,
    }
}

/// A simple (generation -1) commit of `offset` for partition 0 of the topic; the error code.
fn commit_offset(bootstrap: &str, group: &str, offset: i64) -> i16 {
    use kafka_protocol::messages::offset_commit_request::{
        OffsetCommitRequestPartition, OffsetCommitRequestTopic,
    };
    use kafka_protocol::messages::{
        GroupId, OffsetCommitRequest, RequestKind, ResponseKind, TopicName,
    };
    use kafka_protocol::protocol::StrBytes;
    let request = OffsetCommitRequest::default()
        .with_group_id(GroupId(StrBytes::from_string(group.to_string())))
        .with_generation_id_or_member_epoch(-1)
        .with_topics(vec![OffsetCommitRequestTopic::default()
            .with_name(TopicName(StrBytes::from_static_str(TOPIC)))
            .with_partitions(vec![OffsetCommitRequestPartition::default()
                .with_partition_index(0)
                .with_committed_offset(offset)])]);
    match e2e::raw::Conn::open(bootstrap).call(2, RequestKind::OffsetCommit(request)) {
        ResponseKind::OffsetCommit(r) => r.topics[0].partitions[0].error_code,
        other => panic!("{other:?}"),
    }
}

/// OffsetFetch v1 of partition 0: the committed offset, or the error code.
fn fetch_offset(bootstrap: &str, group: &str) -> Result<i64, i16> {
    use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
    use kafka_protocol::messages::{
        GroupId, OffsetFetchRequest, RequestKind, ResponseKind, TopicName,
    };
    use kafka_protocol::protocol::StrBytes;
    let request = OffsetFetchRequest::default()
        .with_group_id(GroupId(StrBytes::from_string(group.to_string())))
        .with_topics(Some(vec![OffsetFetchRequestTopic::default()
            .with_name(TopicName(StrBytes::from_static_str(TOPIC)))
            .with_partition_indexes(vec![0])]));
    match e2e::raw::Conn::open(bootstrap).call(1, RequestKind::OffsetFetch(request)) {
        ResponseKind::OffsetFetch(r) => {
            let p = &r.topics[0].partitions[0];
            if p.error_code == 0 {
                Ok(p.committed_offset)
            } else {
                Err(p.error_code)
            }
        }
        other => panic!("{other:?}"),
    }
}

/// With `__consumer_offsets` replicated 3 times: the coordinator dies, the new leader of the
/// group's partition loads the group with its committed offsets; when leadership goes back to
/// the first broker (a preferred election once it is back in sync), it loads the group afresh
/// (the commit made meanwhile included) and the other broker unloads it (NOT_COORDINATOR).
#[test]
fn a_group_follows_the_leadership_of_its_partition_with_its_offsets() {
    let mut cluster = e2e::ThreeBrokers::start(&[
        ("offsets.topic.replication.factor", "3"),
        ("auto.leader.rebalance.enable", "false"),
    ]);
    cluster
        .topics(&[
            "--create",
            "--topic",
            TOPIC,
            "--partitions",
            "1",
            "--replication-factor",
            "3",
        ])
        .assert_success("create");
    let group = "moving";
    let any = cluster.broker(0).bootstrap();
    let first = wait_until("a coordinator", DEADLINE, || find_coordinator(&any, group));
    let first_addr = cluster.broker(first).bootstrap();
    e2e::raw::wait_for_group_coordinator(&first_addr, group);
    assert_eq!(commit_offset(&first_addr, group, 5), 0);

    cluster.broker(first).kill9();
    let survivor = cluster.broker((first + 1) % 3).bootstrap();
    let second = wait_until("a new coordinator", DEADLINE, || {
        find_coordinator(&survivor, group).filter(|id| *id != first)
    });
    let second_addr = cluster.broker(second).bootstrap();
    wait_until("the offsets at the new coordinator", DEADLINE, || {
        fetch_offset(&second_addr, group).ok().filter(|o| *o == 5)
    });
    assert_eq!(commit_offset(&second_addr, group, 7), 0);

    cluster.broker(first).restart();
    let bootstrap = cluster.bootstrap();
    wait_until("leadership back at the first coordinator", DEADLINE, || {
        run_tool(
            "kafka-leader-election",
            &[
                "--bootstrap-server",
                &bootstrap,
                "--election-type",
                "preferred",
                "--all-topic-partitions",
            ],
            b"",
            DEADLINE,
        );
        (find_coordinator(&second_addr, group) == Some(first)).then_some(())
    });
    wait_until(
        "the offsets back at the first coordinator",
        DEADLINE,
        || fetch_offset(&first_addr, group).ok().filter(|o| *o == 7),
    );
    assert_eq!(
        fetch_offset(&second_addr, group),
        Err(16),
        "the former coordinator answers NOT_COORDINATOR"
    );
}

/// `__consumer_offsets` is compacted like any compacted topic: after 300 commits of one
/// partition only a few records of it remain, the last commit among them, and a restarted
/// broker loads the group from the compacted log with that last offset.
#[test]
fn the_offsets_topic_is_compacted_and_loads_back_after_compaction() {
    let mut cluster = Cluster::start_with(&[
        ("offsets.topic.num.partitions", "1"),
        ("offsets.topic.segment.bytes", "2048"),
        ("log.cleaner.backoff.ms", "100"),
    ]);
    cluster.create_topic(TOPIC, 1);
    let bootstrap = cluster.bootstrap();
    let group = "busy";
    e2e::raw::wait_for_group_coordinator(&bootstrap, group);
    for offset in 1..=300 {
        assert_eq!(commit_offset(&bootstrap, group, offset), 0);
    }
    let Some(python) = python() else { return };
    let remaining = wait_until("the offsets topic compacted", DEADLINE, || {
        let records = read_offsets_topic(&python, &bootstrap);
        let offsets: Vec<i64> = of_group(&records, group, "offset")
            .iter()
            .map(|r| r["value"]["offset"].as_i64().unwrap())
            .collect();
        (offsets.len() < 100).then_some(offsets)
    });
    assert_eq!(remaining.last(), Some(&300), "{remaining:?}");
    assert!(
        remaining.windows(2).all(|w| w[0] < w[1]),
        "in commit order: {remaining:?}"
    );
    let status = cluster.broker.stop();
    assert!(status.success());
    cluster.broker.restart();
    wait_until("the last commit after a restart", DEADLINE, || {
        fetch_offset(&bootstrap, group).ok().filter(|o| *o == 300)
    });
}
