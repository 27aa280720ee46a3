//! kafka-python and confluent-kafka producers and group consumers keep working through leader
//! kills. Each test runs `e2e/python/failover_clients.py` for one client against a three-broker
//! cluster and a 3-partition topic with replication factor 3 and `min.insync.replicas=2`: an
//! idempotent `acks=all` producer writes unique values while a group consumer (subscribe, manual
//! commits, the client's default session timeout) reads them. Meanwhile the test `kill -9`s a
//! partition leader twice: first the one that also coordinates the consumer's group, then one
//! that does not. The group id is chosen so that every kill moves the group's coordinator to a
//! survivor (the placement hash over the live brokers) and every return moves it back to a broker
//! that coordinated the group before. After each kill production and consumption must go on
//! without the dead broker; after each restart the broker rejoins every ISR and both go on again
//! within 30 s (librdkafka's session timeout is 45 s). Then the script is told to finish and must
//! find every acknowledged value consumed (`ACKED n CONSUMED m MISSING 0`), no fatal or failed
//! delivery, no value written twice and no committed record delivered again.
//!
//! The interpreter is `$KAFKA_E2E_PYTHON`, else `.venv/bin/python` (see `e2e::python`).

// Helpers outside `#[test]` functions fail the test they serve.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use e2e::{python, repo_root, run_tool, wait_until, Process, ThreeBrokers, TOOL_TIMEOUT};
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

/// The counters of the script's last `PROGRESS key=value ...` line.
fn progress(client: &Process) -> BTreeMap<String, u64> {
    client
        .current_log_lines()
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("PROGRESS "))
        .map(|l| {
            l.split_whitespace()
                .filter_map(|kv| {
                    let (k, v) = kv.split_once('=')?;
                    Some((k.to_string(), v.parse().ok()?))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Waits until `STEP` more records than now have been acknowledged and consumed, for at most
/// `deadline`.
fn wait_going_on(client: &mut Process, what: &str, deadline: Duration) {
    let now = progress(client);
    let at = |m: &BTreeMap<String, u64>, k: &str| m.get(k).copied().unwrap_or(0);
    let (acked, consumed) = (at(&now, "acked"), at(&now, "consumed"));
    client.wait_for_line(what, deadline, |l| {
        let Some(rest) = l.strip_prefix("PROGRESS ") else {
            return false;
        };
        let m: BTreeMap<&str, u64> = rest
            .split_whitespace()
            .filter_map(|kv| {
                let (k, v) = kv.split_once('=')?;
                Some((k, v.parse().ok()?))
            })
            .collect();
        m.get("acked").copied().unwrap_or(0) >= acked + STEP
            && m.get("consumed").copied().unwrap_or(0) >= consumed + STEP
    });
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
    let mut cluster = ThreeBrokers::start(&[("auto.leader.rebalance.enable", "false")]);
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
    let group = group_that_always_moves(client_name);
    let mut client = spawn_script(&python, client_name, &cluster.bootstrap(), &group, &control);
    client.wait_for_line("the first assignment", DEADLINE, |l| l == "ASSIGNED 0,1,2");
    wait_going_on(
        &mut client,
        "the first records acknowledged and consumed",
        DEADLINE,
    );

    // First the leader that also coordinates the group, then a leader that does not.
    let coord = wait_until("the group's coordinator", DEADLINE, || {
        coordinator(&mut cluster, &group)
    });
    let leaders: Vec<i32> = partitions(&cluster, &rt)
        .iter()
        .map(|p| p.leader.get())
        .collect();
    let victim = if leaders.contains(&coord) {
        coord
    } else {
        leaders[0]
    };
    kill_and_restart(&mut cluster, &rt, &mut client, &group, victim);
    let coord = wait_until("the group's coordinator", DEADLINE, || {
        coordinator(&mut cluster, &group)
    });
    let other = partitions(&cluster, &rt)
        .iter()
        .map(|p| p.leader.get())
        .find(|&l| l != coord)
        .unwrap_or(coord);
    kill_and_restart(&mut cluster, &rt, &mut client, &group, other);

    std::fs::write(&control, b"finish\n").unwrap();
    let status = client.wait_exit(FINISH_TIMEOUT);
    let lines = client.current_log_lines();
    let summary = lines
        .iter()
        .find(|l| l.starts_with("ACKED "))
        .unwrap_or_else(|| {
            panic!(
                "{client_name}: no summary line; output:\n{}",
                lines.join("\n")
            )
        })
        .clone();
    let detail = lines
        .iter()
        .find(|l| l.starts_with("DETAIL "))
        .cloned()
        .unwrap_or_default();
    eprintln!(
        "{client_name}'s output:\n{}\n{client_name}: {summary}\n{client_name}: {detail}",
        lines.join("\n")
    );
    assert!(
        status.success(),
        "{client_name} exited {status}: {summary}\n{}",
        lines.join("\n")
    );
    let fields: Vec<&str> = summary.split_whitespace().collect();
    assert_eq!(fields.get(4..6), Some(&["MISSING", "0"][..]), "{summary}");
    let acked: u64 = fields[1].parse().unwrap();
    assert!(
        acked >= 5 * STEP,
        "{client_name} acknowledged only {acked} records"
    );
}

/// Java's `String.hashCode`, by which the brokers place a group on the live brokers sorted by id
/// (`broker/src/group/placement.rs`, our stand-in for the leader of Kafka's `__consumer_offsets`
/// partition `abs(hash) % 50`).
fn java_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// A group id that broker 0 coordinates while all three brokers live and that moves to another
/// broker whichever broker dies (index 1 of the two survivors): every kill moves the
/// coordinator, and every return moves it back to a broker that may still remember the group.
fn group_that_always_moves(client: &str) -> String {
    (0..)
        .map(|i| format!("failover-{client}-{i}"))
        .find(|g| {
            // Index 0 of three live brokers, index 1 of two.
            java_hash(g).unsigned_abs() % 6 == 3
        })
        .unwrap()
}

fn spawn_script(
    python: &Path,
    client: &str,
    bootstrap: &str,
    group: &str,
    control: &Path,
) -> Process {
    Process::spawn(
        client,
        python,
        vec![
            repo_root()
                .join("e2e/python/failover_clients.py")
                .display()
                .to_string(),
            client.to_string(),
            bootstrap.to_string(),
            TOPIC.to_string(),
            group.to_string(),
            control.display().to_string(),
        ],
        vec![
            ("PYTHONUNBUFFERED".to_string(), "1".to_string()),
            ("PYTHONDONTWRITEBYTECODE".to_string(), "1".to_string()),
        ],
    )
}

#[test]
fn kafka_python_producer_and_group_consumer_survive_leader_kills() {
    survives_leader_kills("kafka-python");
}

#[test]
fn confluent_kafka_producer_and_group_consumer_survive_leader_kills() {
    survives_leader_kills("confluent-kafka");
}
