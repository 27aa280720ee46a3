//! kafka-python and confluent-kafka producers and group consumers keep working through broker
//! kills. Each test runs `e2e/python/failover_clients.py` for one client against a three-broker
//! cluster and a 3-partition topic with replication factor 3 and `min.insync.replicas=2`, with
//! `__consumer_offsets` replicated 3 times too: an idempotent `acks=all` producer writes unique
//! values while a group consumer (subscribe, manual commits, the client's default session
//! timeout) reads them. Meanwhile the test `kill -9`s two brokers in turn: first the group's
//! coordinator (the leader of the group's `__consumer_offsets` partition), then a partition
//! leader that does not coordinate the group. After each kill production and consumption must go
//! on without the dead broker; after each restart the broker rejoins every ISR and both go on
//! again within 30 s (librdkafka's session timeout is 45 s). Then the script is told to finish
//! and must find every acknowledged value consumed (`ACKED n CONSUMED m MISSING 0`), no fatal or
//! failed delivery, no value written twice and no committed record delivered again; and the
//! group must never have rebalanced (one assignment), its new coordinator having loaded it with
//! its members and offsets.
//!
//! The interpreter is `$KAFKA_E2E_PYTHON`, else `.venv/bin/python` (see `e2e::python`).

// Helpers outside `#[test]` functions fail the test they serve.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::time::{Duration, Instant};

use e2e::{python, run_tool, wait_until, Process, ThreeBrokers, TOOL_TIMEOUT};
use zookeeper_lite::client::ZkClient;
use zookeeper_lite::protocol::PartitionInfo;

const TOPIC: &str = "failover";
/// Failover takes a zookeeper-lite session timeout (6 s in the tests), a restart a catch-up;
/// generous for a shared 2-core machine.
const DEADLINE: Duration = Duration::from_secs(90);
/// From a broker's restart to the clients going on again, its catch-up included.
const RETURN_DEADLINE: Duration = Duration::from_secs(30);
/// How many more records must be acknowledged and consumed to count as "going on".
const STEP: u64 = 300;
/// The script's own flush (130 s) and drain (90 s) deadlines, and some.
const FINISH_TIMEOUT: Duration = Duration::from_secs(240);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The partitions of `TOPIC` as zookeeper-lite has them.
fn partitions(cluster: &ThreeBrokers, rt: &tokio::runtime::Runtime) -> Vec<PartitionInfo> {
    let addr = cluster.zk.connect_string();
    rt.block_on(async {
        let zk = ZkClient::connect(&addr, Duration::from_secs(10))
            .await
            .unwrap();
        let md = zk.metadata().await.unwrap();
        md.topics
            .get(TOPIC)
            .map(|t| t.partitions.clone())
            .unwrap_or_default()
    })
}

fn wait_for_partitions(
    cluster: &ThreeBrokers,
    rt: &tokio::runtime::Runtime,
    what: &str,
    check: impl Fn(&[PartitionInfo]) -> bool,
) -> Vec<PartitionInfo> {
    wait_until(what, DEADLINE, || {
        let ps = partitions(cluster, rt);
        check(&ps).then_some(ps)
    })
}

fn fully_replicated(ps: &[PartitionInfo]) -> bool {
    ps.len() == 3 && ps.iter().all(|p| p.isr.len() == 3 && !p.leader.is_none())
}

/// The group's coordinator as `kafka-consumer-groups --describe --state` shows it: the id in
/// the `host:port  (id)` column.
fn coordinator(cluster: &mut ThreeBrokers, group: &str) -> Option<i32> {
    let bootstrap = cluster.bootstrap();
    let out = run_tool(
        "kafka-consumer-groups",
        &[
            "--bootstrap-server",
            &bootstrap,
            "--describe",
            "--group",
            group,
            "--state",
        ],
        b"",
        TOOL_TIMEOUT,
    );
    if out.code != Some(0) {
        return None;
    }
    let row = out
        .stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some(group))?;
    let open = row.find('(')?;
    let close = open + row[open..].find(')')?;
    row[open + 1..close].trim().parse().ok()
}

fn wait_going_on(client: &mut Process, what: &str, deadline: Duration) {
    e2e::failover::wait_going_on(client, what, deadline, STEP);
}

/// Kills `victim` with SIGKILL, waits for new leaders without it and for the clients to go on,
/// restarts it, waits for it to rejoin every ISR and for the clients to go on again.
fn kill_and_restart(
    cluster: &mut ThreeBrokers,
    rt: &tokio::runtime::Runtime,
    client: &mut Process,
    group: &str,
    victim: i32,
) {
    let coordinator_before = coordinator(cluster, group);
    eprintln!("kill -9 broker {victim} (group coordinator: {coordinator_before:?})");
    cluster.broker(victim).kill9();
    wait_for_partitions(
        cluster,
        rt,
        &format!("leaders and ISRs without broker {victim}"),
        |ps| {
            ps.iter().all(|p| {
                !p.leader.is_none()
                    && p.leader.get() != victim
                    && p.isr.iter().all(|b| b.get() != victim)
            })
        },
    );
    wait_going_on(
        client,
        &format!("records acknowledged and consumed without broker {victim}"),
        DEADLINE,
    );
    let coordinator_during = coordinator(cluster, group);
    eprintln!("broker {victim} down: group coordinator {coordinator_during:?}");
    let returning = Instant::now();
    cluster.broker(victim).restart();
    wait_for_partitions(
        cluster,
        rt,
        &format!("broker {victim} back in every ISR"),
        fully_replicated,
    );
    // The coordinator moves back with the broker's return; the consumer must find it and go on
    // well within a session timeout (librdkafka's is 45 s): a coordinator that kept the group
    // from before would make the rejoin wait for the stale members' sessions to expire.
    wait_going_on(
        client,
        &format!("records acknowledged and consumed after broker {victim} returned"),
        RETURN_DEADLINE.saturating_sub(returning.elapsed()),
    );
    eprintln!(
        "broker {victim} back: clients went on {:?} after its restart",
        returning.elapsed()
    );
    eprintln!(
        "broker {victim} back: group coordinator {:?}",
        coordinator(cluster, group)
    );
}

fn survives_leader_kills(client_name: &str) {
    let Some(python) = python() else { return };
    let rt = runtime();
    // The group's state is replicated like the data: __consumer_offsets with 3 replicas.
    let mut cluster = ThreeBrokers::start(&[
        ("auto.leader.rebalance.enable", "false"),
        ("offsets.topic.replication.factor", "3"),
    ]);
    cluster
        .topics(&[
            "--create",
            "--topic",
            TOPIC,
            "--partitions",
            "3",
            "--replication-factor",
            "3",
            "--config",
            "min.insync.replicas=2",
        ])
        .assert_success("create");
    wait_for_partitions(&cluster, &rt, "a fully replicated topic", fully_replicated);

    let dir = tempfile::tempdir().unwrap();
    let control = dir.path().join("finish");
    let group = format!("failover-{client_name}");
    let mut client = spawn_script(&python, client_name, &cluster.bootstrap(), &group, &control);
    client.wait_for_line("the first assignment", DEADLINE, |l| l == "ASSIGNED 0,1,2");
    wait_going_on(
        &mut client,
        "the first records acknowledged and consumed",
        DEADLINE,
    );

    // First the group's coordinator, then a leader that does not coordinate it.
    let coord = wait_until("the group's coordinator", DEADLINE, || {
        coordinator(&mut cluster, &group)
    });
    kill_and_restart(&mut cluster, &rt, &mut client, &group, coord);
    let coord = wait_until("the group's coordinator", DEADLINE, || {
        coordinator(&mut cluster, &group)
    });
    let other = partitions(&cluster, &rt)
        .iter()
        .map(|p| p.leader.get())
        .find(|&l| l != coord)
        .unwrap_or(coord);
    kill_and_restart(&mut cluster, &rt, &mut client, &group, other);

    let (acked, lines) =
        e2e::failover::finish_failover_script(&mut client, &control, FINISH_TIMEOUT);
    assert!(
        acked >= 5 * STEP,
        "{client_name} acknowledged only {acked} records"
    );
    // The new coordinator loaded the group with its members: nobody was told UNKNOWN_MEMBER_ID
    // and the group never rebalanced.
    let assignments: Vec<&String> = lines.iter().filter(|l| l.starts_with("ASSIGNED")).collect();
    assert_eq!(
        assignments.len(),
        1,
        "{client_name}: the group rebalanced: {assignments:?}"
    );
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("UNKNOWN_MEMBER_ID") || l.contains("UnknownMemberId")),
        "{client_name}: a member was told UNKNOWN_MEMBER_ID"
    );
}

fn spawn_script(
    python: &Path,
    client: &str,
    bootstrap: &str,
    group: &str,
    control: &Path,
) -> Process {
    e2e::failover::spawn_failover_script(python, client, bootstrap, TOPIC, group, control, &[])
}

#[test]
fn kafka_python_producer_and_group_consumer_survive_leader_kills() {
    survives_leader_kills("kafka-python");
}

#[test]
fn confluent_kafka_producer_and_group_consumer_survive_leader_kills() {
    survives_leader_kills("confluent-kafka");
}
