//! A group member carries on through a restart of the broker that coordinates its group, as with
//! Kafka: the coordinator reloads the group (members, generation, assignment, offsets) from
//! `__consumer_offsets`, so no member is told UNKNOWN_MEMBER_ID, the group does not rebalance,
//! and no record is skipped. Each test restarts the only broker twice while records are
//! produced: first cleanly (SIGTERM), then with `kill -9`, each time well within the member's
//! session timeout.
//!
//! - kafka-python and confluent-kafka run `e2e/python/failover_clients.py` (an idempotent
//!   producer and a group consumer with manual commits): every acknowledged value must be
//!   consumed, and the consumer must have been assigned its partitions exactly once.
//! - Our consumer (`kafka-console-consumer --group`, auto commit off, so a rebalance would
//!   restart it from the latest offset and skip what was produced meanwhile) must print every
//!   line produced before, between and after the restarts, and join the group exactly once.
//!
//! Before `__consumer_offsets`, group membership lived only in the coordinator's memory: each
//! restart made every member rejoin, and a librdkafka consumer with `auto.offset.reset=latest`
//! skipped the records produced during the restart.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use e2e::failover::{finish_failover_script, spawn_failover_script, wait_going_on};
use e2e::{binary, python, run_tool, wait_until, Cluster, Process, TOOL_TIMEOUT};

const TOPIC: &str = "restarts";
/// Long enough for a restart after `kill -9` (the old zookeeper-lite session expires first) on a
/// busy 2-core machine.
const SESSION_TIMEOUT_MS: &str = "30000";
const DEADLINE: Duration = Duration::from_secs(90);
const STEP: u64 = 200;
const FINISH_TIMEOUT: Duration = Duration::from_secs(240);

fn cluster() -> Cluster {
    let cluster = Cluster::start_with(&[("group.initial.rebalance.delay.ms", "0")]);
    cluster.create_topic(TOPIC, 3);
    cluster
}

/// The ids of the group's members, as `kafka-consumer-groups --describe --members` shows them.
fn member_ids(bootstrap: &str, group: &str) -> Option<Vec<String>> {
    let out = run_tool(
        "kafka-consumer-groups",
        &[
            "--bootstrap-server",
            bootstrap,
            "--describe",
            "--group",
            group,
            "--members",
        ],
        b"",
        TOOL_TIMEOUT,
    );
    if out.code != Some(0) {
        return None;
    }
    let mut ids: Vec<String> = out
        .stdout
        .lines()
        .filter(|l| l.split_whitespace().next() == Some(group))
        .filter_map(|l| l.split_whitespace().nth(1).map(str::to_string))
        .collect();
    ids.sort();
    (!ids.is_empty()).then_some(ids)
}

fn restart_cleanly_then_kill_9(cluster: &mut Cluster, between: &mut dyn FnMut(&str)) {
    let status = cluster.broker.stop();
    assert!(status.success(), "the broker's clean stop exited {status}");
    cluster.broker.restart();
    between("after the clean restart");
    cluster.broker.kill9();
    cluster.broker.restart();
    between("after the restart from kill -9");
}

fn python_member_carries_on(client: &str) {
    let Some(python) = python() else { return };
    let mut cluster = cluster();
    let bootstrap = cluster.bootstrap();
    let group = format!("restart-{client}");
    let dir = tempfile::tempdir().unwrap();
    let control = dir.path().join("finish");
    let mut member = spawn_failover_script(
        &python,
        client,
        &bootstrap,
        TOPIC,
        &group,
        &control,
        &[("FAILOVER_SESSION_TIMEOUT_MS", SESSION_TIMEOUT_MS)],
    );
    member.wait_for_line("the first assignment", DEADLINE, |l| l == "ASSIGNED 0,1,2");
    wait_going_on(&mut member, "the first records", DEADLINE, STEP);
    let before = wait_until("the group's member", DEADLINE, || {
        member_ids(&bootstrap, &group)
    });

    restart_cleanly_then_kill_9(&mut cluster, &mut |when| {
        wait_going_on(
            &mut member,
            &format!("records produced and consumed {when}"),
            DEADLINE,
            STEP,
        );
        assert_eq!(
            member_ids(&bootstrap, &group).as_ref(),
            Some(&before),
            "{client}: the group's members changed {when}"
        );
    });

    let (_, lines) = finish_failover_script(&mut member, &control, FINISH_TIMEOUT);
    let assignments: Vec<&String> = lines.iter().filter(|l| l.starts_with("ASSIGNED")).collect();
    assert_eq!(
        assignments.len(),
        1,
        "{client}: the group rebalanced: {assignments:?}"
    );
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("UNKNOWN_MEMBER_ID") || l.contains("UnknownMemberId")),
        "{client}: a member was told UNKNOWN_MEMBER_ID"
    );
}

#[test]
fn a_kafka_python_member_carries_on_through_coordinator_restarts() {
    python_member_carries_on("kafka-python");
}

#[test]
fn a_confluent_kafka_member_carries_on_through_coordinator_restarts() {
    python_member_carries_on("confluent-kafka");
}

fn produce(bootstrap: &str, lines: &[String]) {
    let mut input = lines.join("\n");
    input.push('\n');
    let out = run_tool(
        "kafka-console-producer",
        &[
            "--bootstrap-server",
            bootstrap,
            "--topic",
            TOPIC,
            "--producer-property",
            "acks=all",
        ],
        input.as_bytes(),
        TOOL_TIMEOUT,
    );
    assert_eq!(out.code, Some(0), "{out:?}");
}

#[test]
fn our_consumer_carries_on_through_coordinator_restarts() {
    let mut cluster = cluster();
    let bootstrap = cluster.bootstrap();
    let group = "restart-ours";
    let args: Vec<String> = [
        "--bootstrap-server",
        &bootstrap,
        "--topic",
        TOPIC,
        "--group",
        group,
        "--consumer-property",
        &format!("session.timeout.ms={SESSION_TIMEOUT_MS}"),
        "--consumer-property",
        "enable.auto.commit=false",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut consumer = Process::spawn(
        "kafka-console-consumer",
        binary("kafka-console-consumer"),
        args,
        vec![("RUST_LOG".to_string(), "client::consumer=info".to_string())],
    );
    consumer.wait_for_line("the consumer's assignment", DEADLINE, |l| {
        l.contains("Adding newly assigned partitions:")
    });
    let before = wait_until("the group's member", DEADLINE, || {
        member_ids(&bootstrap, group)
    });
    let mut expected: Vec<String> = Vec::new();
    let mut round = 0;
    let mut produce_round = |expected: &mut Vec<String>| {
        round += 1;
        let lines: Vec<String> = (0..50).map(|i| format!("round-{round}-{i}")).collect();
        produce(&bootstrap, &lines);
        expected.extend(lines);
    };
    let all_printed = |consumer: &mut Process, expected: &[String], what: &str| {
        wait_until(what, DEADLINE, || {
            let lines = consumer.current_log_lines();
            expected.iter().all(|e| lines.contains(e)).then_some(())
        });
    };
    produce_round(&mut expected);
    all_printed(&mut consumer, &expected, "the first lines");

    restart_cleanly_then_kill_9(&mut cluster, &mut |when| {
        produce_round(&mut expected);
        all_printed(
            &mut consumer,
            &expected,
            &format!("every line produced {when}"),
        );
        assert_eq!(
            member_ids(&bootstrap, group).as_ref(),
            Some(&before),
            "our consumer's membership changed {when}"
        );
    });
    let joins = consumer
        .current_log_lines()
        .iter()
        .filter(|l| l.contains("Successfully joined group with generation"))
        .count();
    assert_eq!(joins, 1, "our consumer rejoined:\n{}", consumer.log());
}
