//! kafka-consumer-groups against a real cluster: committed offsets shown by `--describe` with
//! the right CURRENT-OFFSET, LOG-END-OFFSET and LAG; `--reset-offsets --to-earliest --execute` on
//! an inactive group makes the next member re-read from the start, and on an active group it
//! refuses with Kafka's message; `--list` shows groups; `--delete` removes an empty group.
//!
//! Group members are kafka-python consumers (`$KAFKA_E2E_PYTHON`, else `.venv/bin/python`);
//! without the interpreter the tests that need a member are skipped loudly, except under
//! `CI=true`. Offsets that need no member are committed with the tool itself (an admin commit
//! to a group without members, as Kafka allows).

use e2e::python;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use e2e::{run_command, run_tool, Cluster, Process, TOOL_TIMEOUT};

const MEMBER_TIMEOUT: Duration = Duration::from_secs(120);

/// A kafka-python group member. `read N`: reads N records from the group's position, commits,
/// leaves, prints `VALUE <v>` per record and `COUNT <n>`. `hold`: joins, prints `ASSIGNED` once
/// it has partitions, and stays until killed.
const MEMBER_PY: &str = r#"
import sys, time
from kafka import KafkaConsumer
bs, topic, group, mode = sys.argv[1:5]
c = KafkaConsumer(topic, bootstrap_servers=bs, group_id=group, client_id="py-member",
                  auto_offset_reset="earliest", enable_auto_commit=False,
                  session_timeout_ms=10000, heartbeat_interval_ms=1000)
# The topic's partitions are known before the first JoinGroup, so the leader's first assignment
# sees them and no rejoin for changed metadata follows, which kafka-python 3.0.12 can drop when
# it outlives a poll's timeout (see e2e/python/late_topic_consumer.py).
c.partitions_for_topic(topic)
deadline = time.time() + 90
if mode == "hold":
    while time.time() < deadline:
        c.poll(timeout_ms=200)
        if c.assignment():
            print("ASSIGNED", flush=True)
            break
    while True:
        c.poll(timeout_ms=500)
want = int(sys.argv[5])
got = []
while len(got) < want and time.time() < deadline:
    for tp, records in c.poll(timeout_ms=500).items():
        for r in records:
            got.append(r.value.decode())
c.commit()
# Nothing more may arrive: the group's position is the end of what was asked for.
extra = c.poll(timeout_ms=1500)
c.close()
for v in got:
    print("VALUE", v)
print("COUNT", len(got) + sum(len(rs) for rs in extra.values()), flush=True)
"#;

fn start_cluster() -> Cluster {
    Cluster::start_with(&[("group.initial.rebalance.delay.ms", "0")])
}

fn groups(cluster: &Cluster, args: &[&str]) -> e2e::ToolOutput {
    let bs = cluster.bootstrap();
    let mut full = vec!["--bootstrap-server", bs.as_str()];
    full.extend_from_slice(args);
    run_tool("kafka-consumer-groups", &full, b"", TOOL_TIMEOUT)
}

fn produce(cluster: &Cluster, topic: &str, values: &[&str]) {
    let bs = cluster.bootstrap();
    let input = values.join("\n") + "\n";
    let out = run_tool(
        "kafka-console-producer",
        &["--bootstrap-server", &bs, "--topic", topic],
        input.as_bytes(),
        TOOL_TIMEOUT,
    );
    out.assert_success("kafka-console-producer");
}

/// The whitespace-separated cells of the describe row for `topic` partition `partition`.
fn describe_row(out: &str, topic: &str, partition: i32) -> Vec<String> {
    let p = partition.to_string();
    out.lines()
        .map(|l| l.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .find(|cells| cells.len() >= 9 && cells[1] == topic && cells[2] == p)
        .unwrap_or_else(|| panic!("no row for {topic}-{partition} in:\n{out}"))
}

/// Runs a kafka-python member to read `n` records; returns the values read.
fn member_reads(
    python: &PathBuf,
    cluster: &Cluster,
    topic: &str,
    group: &str,
    n: usize,
) -> Vec<String> {
    let mut cmd = Command::new(python);
    cmd.arg("-c")
        .arg(MEMBER_PY)
        .arg(cluster.bootstrap())
        .arg(topic)
        .arg(group)
        .arg("read")
        .arg(n.to_string())
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    let out = run_command(cmd, b"", MEMBER_TIMEOUT);
    out.assert_success("kafka-python member");
    let count: usize = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("COUNT "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("member prints COUNT: {out}"));
    let values: Vec<String> = out
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("VALUE "))
        .map(str::to_string)
        .collect();
    assert_eq!(count, values.len(), "member read more than asked: {out}");
    values
}

#[test]
fn describe_shows_committed_offset_log_end_and_lag_and_list_shows_the_group() {
    let cluster = start_cluster();
    cluster.create_topic("orders", 1);
    produce(&cluster, "orders", &["1", "2", "3", "4", "5", "6", "7"]);

    // An admin commit to a group without members (Kafka's alterConsumerGroupOffsets).
    let out = groups(
        &cluster,
        &[
            "--reset-offsets",
            "--group",
            "g1",
            "--topic",
            "orders",
            "--to-offset",
            "4",
            "--execute",
        ],
    );
    out.assert_success("reset --to-offset 4");
    assert!(out.stdout.starts_with("\nGROUP "), "{out}");
    let row: Vec<&str> = out
        .stdout
        .lines()
        .find(|l| l.starts_with("g1 "))
        .map(|l| l.split_whitespace().collect())
        .unwrap_or_else(|| panic!("no reset row: {out}"));
    assert_eq!(row, vec!["g1", "orders", "0", "4"], "{out}");

    let out = groups(&cluster, &["--describe", "--group", "g1"]);
    out.assert_success("describe");
    assert!(
        out.stderr
            .contains("Consumer group 'g1' has no active members."),
        "{out}"
    );
    assert!(
        out.stdout.contains("GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID     HOST            CLIENT-ID"),
        "{out}"
    );
    assert_eq!(
        describe_row(&out.stdout, "orders", 0),
        vec!["g1", "orders", "0", "4", "7", "3", "-", "-", "-"],
        "{out}"
    );

    // Out of range: clamped to the log end with Kafka's WARN.
    let out = groups(
        &cluster,
        &[
            "--reset-offsets",
            "--group",
            "g1",
            "--topic",
            "orders:0",
            "--to-offset",
            "100",
            "--dry-run",
        ],
    );
    out.assert_success("reset --to-offset 100");
    assert!(out.stderr.contains("New offset (100) is higher than latest offset for topic partition orders-0. Value will be set to 7"), "{out}");

    let out = groups(&cluster, &["--list"]);
    out.assert_success("list");
    assert!(out.stdout.lines().any(|l| l == "g1"), "{out}");
    let out = groups(&cluster, &["--list", "--state"]);
    out.assert_success("list --state");
    assert!(
        out.stdout
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["g1", "Empty"]),
        "{out}"
    );

    let out = groups(
        &cluster,
        &["--delete-offsets", "--group", "g1", "--topic", "orders"],
    );
    out.assert_success("delete-offsets");
    assert!(
        out.stdout
            .contains("Request succeed for deleting offsets with topic orders group g1"),
        "{out}"
    );
    assert!(
        out.stdout.contains(&format!(
            "{:<30} {:<15} {:<15}\n",
            "orders", "0", "Successful"
        )),
        "{out}"
    );

    let out = groups(&cluster, &["--describe", "--group", "nobody-here"]);
    out.assert_success("describe of a missing group");
    assert!(
        out.stdout
            .contains("Error: Consumer group 'nobody-here' does not exist."),
        "{out}"
    );
}

#[test]
fn delete_removes_an_empty_group() {
    let cluster = start_cluster();
    cluster.create_topic("gone", 1);
    produce(&cluster, "gone", &["a", "b"]);
    let out = groups(
        &cluster,
        &[
            "--reset-offsets",
            "--group",
            "g2",
            "--all-topics",
            "--to-latest",
            "--execute",
        ],
    );
    out.assert_success("reset with --all-topics before any commit");
    let out = groups(
        &cluster,
        &[
            "--reset-offsets",
            "--group",
            "g2",
            "--topic",
            "gone",
            "--to-latest",
            "--execute",
        ],
    );
    out.assert_success("reset --to-latest");
    let out = groups(&cluster, &["--delete", "--group", "g2"]);
    out.assert_success("delete");
    assert!(
        out.stdout
            .contains("Deletion of requested consumer groups ('g2') was successful."),
        "{out}"
    );
    let out = groups(&cluster, &["--list"]);
    assert!(!out.stdout.lines().any(|l| l == "g2"), "{out}");
}

#[test]
fn reset_to_earliest_rereads_when_inactive_and_is_refused_when_active() {
    let Some(python) = python() else { return };
    let cluster = start_cluster();
    cluster.create_topic("events", 1);
    let values = ["e1", "e2", "e3", "e4", "e5"];
    produce(&cluster, "events", &values);

    assert_eq!(member_reads(&python, &cluster, "events", "g3", 5), values);
    let out = groups(&cluster, &["--describe", "--group", "g3"]);
    assert_eq!(
        describe_row(&out.stdout, "events", 0)[3..6],
        ["5", "5", "0"],
        "{out}"
    );

    // An active member: the reset is refused with Kafka's message and changes nothing.
    let mut member = Process::spawn(
        "kafka-python member",
        &python,
        vec![
            "-c".into(),
            MEMBER_PY.into(),
            cluster.bootstrap(),
            "events".into(),
            "g3".into(),
            "hold".into(),
        ],
        vec![("PYTHONUNBUFFERED".into(), "1".into())],
    );
    member.wait_for_line("ASSIGNED", MEMBER_TIMEOUT, |l| l.contains("ASSIGNED"));
    let out = groups(
        &cluster,
        &[
            "--reset-offsets",
            "--group",
            "g3",
            "--topic",
            "events",
            "--to-earliest",
            "--execute",
        ],
    );
    out.assert_success("reset on an active group");
    assert!(
        out.stdout.contains("\nError: Assignments can only be reset if the group 'g3' is inactive, but the current state is Stable."),
        "{out}"
    );
    let out = groups(
        &cluster,
        &["--describe", "--group", "g3", "--members", "--verbose"],
    );
    out.assert_success("describe --members");
    assert!(out.stdout.contains("py-member"), "{out}");
    assert!(out.stdout.contains("events(0)"), "{out}");
    member.kill9();

    // Once the member's session is gone the group is Empty and the reset goes through.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let out = groups(
            &cluster,
            &[
                "--reset-offsets",
                "--group",
                "g3",
                "--topic",
                "events",
                "--to-earliest",
                "--execute",
            ],
        );
        out.assert_success("reset --to-earliest");
        if !out.stdout.contains("can only be reset") {
            assert!(
                out.stdout.lines().any(|l| l.split_whitespace().collect::<Vec<_>>() == ["g3", "events", "0", "0"]),
                "{out}"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "group never became inactive: {out}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let out = groups(&cluster, &["--describe", "--group", "g3"]);
    assert_eq!(
        describe_row(&out.stdout, "events", 0)[3..6],
        ["0", "5", "5"],
        "{out}"
    );
    assert_eq!(member_reads(&python, &cluster, "events", "g3", 5), values);
}

#[test]
fn script_wrapper_runs_the_tool() {
    let out = e2e::run_script(
        "kafka-consumer-groups.sh",
        &["--version"],
        b"",
        TOOL_TIMEOUT,
    );
    out.assert_success("kafka-consumer-groups.sh --version");
    assert_eq!(out.stdout, "3.9.1\n");
    let out = e2e::run_script("kafka-consumer-groups.sh", &["--list"], b"", TOOL_TIMEOUT);
    out.assert_code(
        1,
        "kafka-consumer-groups.sh --list without --bootstrap-server",
    );
    assert!(
        out.stderr
            .starts_with("Missing required argument \"[bootstrap-server]\"\n"),
        "{out}"
    );
}
