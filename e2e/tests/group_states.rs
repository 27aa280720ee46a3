//! Group states follow Kafka's state table when consumers stop: the moment the last member has
//! left, the group is Empty (not PreparingRebalance), keeps its protocol type `consumer`, and
//! stays listed until the periodic cleanup (`offsets.retention.check.interval.ms`) finds it
//! without offsets. So `kafka-consumer-groups --describe --state`, `--reset-offsets --execute`,
//! `--delete` and `--list --state` work right after the consumers stop, as against Kafka.
//!
//! Consumers are kafka-python (`$KAFKA_E2E_PYTHON`, else `.venv/bin/python`; the tests that need
//! it are skipped loudly without it, except under `CI=true`) and our console consumer.

use e2e::python;
use std::process::Command;
use std::time::Duration;

use e2e::{run_command, run_tool, wait_until, Cluster, ToolOutput, TOOL_TIMEOUT};

/// Two kafka-python consumers share `topic` in `group`, read `want` records between them,
/// commit and close (LeaveGroup). Right after the close, the admin client asks the broker:
/// prints `DESCRIBE <state>|<protocol_type>|<protocol>|<members>`, then `LIST-EMPTY <protocol_type>`
/// for the group in ListGroups filtered on state Empty (v4), `LIST-CLASSIC <n>` and
/// `LIST-CONSUMER <n>`: how many groups ListGroups v5 lists for the types classic and consumer.
const TWO_MEMBERS_PY: &str = r#"
import sys, time
from kafka import KafkaConsumer, KafkaAdminClient
bs, topic, group, want = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def member(cid):
    return KafkaConsumer(topic, bootstrap_servers=bs, group_id=group, client_id=cid,
                         auto_offset_reset="earliest", enable_auto_commit=False,
                         session_timeout_ms=10000, heartbeat_interval_ms=500)
a, b = member("py-a"), member("py-b")
# The topic's partitions are known before the first JoinGroup, so the leader's first assignment
# sees them and no rejoin for changed metadata follows, which kafka-python 3.0.12 can drop when
# it outlives a poll's timeout (see e2e/python/late_topic_consumer.py).
a.partitions_for_topic(topic)
b.partitions_for_topic(topic)
got = 0
deadline = time.time() + 90
while time.time() < deadline and not (got >= want and a.assignment() and b.assignment()):
    for c in (a, b):
        for tp, records in c.poll(timeout_ms=200).items():
            got += len(records)
a.commit()
b.commit()
print("READ", got, flush=True)
a.close()
b.close()
admin = KafkaAdminClient(bootstrap_servers=bs)
d = admin.describe_groups([group])[group]
print("DESCRIBE %s|%s|%s|%d" % (d["group_state"], d["protocol_type"], d["protocol_data"], len(d["members"])), flush=True)
for g in admin.list_groups(states_filter=["Empty"]):
    if g["group_id"] == group:
        print("LIST-EMPTY", g["protocol_type"] or "-", g["group_state"], flush=True)
print("LIST-STABLE", sum(1 for g in admin.list_groups(states_filter=["Stable"]) if g["group_id"] == group), flush=True)
print("LIST-CLASSIC", sum(1 for g in admin.list_groups(types_filter=["classic"]) if g["group_id"] == group), flush=True)
print("LIST-CONSUMER", sum(1 for g in admin.list_groups(types_filter=["consumer"]) if g["group_id"] == group), flush=True)
admin.close()
"#;

fn groups(cluster: &Cluster, args: &[&str]) -> ToolOutput {
    let bs = cluster.bootstrap();
    let mut full = vec!["--bootstrap-server", bs.as_str()];
    full.extend_from_slice(args);
    run_tool("kafka-consumer-groups", &full, b"", TOOL_TIMEOUT)
}

fn produce(cluster: &Cluster, topic: &str, values: &[&str]) {
    let bs = cluster.bootstrap();
    let input = values.join("\n") + "\n";
    run_tool(
        "kafka-console-producer",
        &["--bootstrap-server", &bs, "--topic", topic],
        input.as_bytes(),
        TOOL_TIMEOUT,
    )
    .assert_success("kafka-console-producer");
}

/// Our console consumer reads `n` records and exits (leaving its group).
fn console_consume(cluster: &Cluster, topic: &str, group: Option<&str>, n: usize) {
    let bs = cluster.bootstrap();
    let n = n.to_string();
    let mut args = vec![
        "--bootstrap-server",
        bs.as_str(),
        "--topic",
        topic,
        "--from-beginning",
        "--max-messages",
        n.as_str(),
    ];
    if let Some(g) = group {
        args.extend_from_slice(&["--group", g]);
    }
    run_tool("kafka-console-consumer", &args, b"", TOOL_TIMEOUT)
        .assert_success("kafka-console-consumer");
}

/// The cells of the `--list --state` row of `group`, if listed.
fn listed_state(out: &str, group: &str) -> Option<Vec<String>> {
    out.lines()
        .map(|l| l.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .find(|cells| cells.first().is_some_and(|c| c == group))
}

/// The `--describe --state` row of `group`: GROUP COORDINATOR (ID) ASSIGNMENT-STRATEGY STATE
/// #MEMBERS, split on whitespace.
fn state_row(out: &str, group: &str) -> Vec<String> {
    out.lines()
        .find(|l| l.starts_with(&format!("{group} ")))
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .unwrap_or_else(|| panic!("no state row for {group} in:\n{out}"))
}

#[test]
fn group_is_empty_with_protocol_type_consumer_the_moment_its_consumers_leave() {
    let Some(python) = python() else { return };
    let cluster = Cluster::start_with(&[("group.initial.rebalance.delay.ms", "0")]);
    cluster.create_topic("st", 2);
    produce(&cluster, "st", &["a", "b", "c", "d", "e", "f"]);

    let mut cmd = Command::new(&python);
    cmd.arg("-c")
        .arg(TWO_MEMBERS_PY)
        .arg(cluster.bootstrap())
        .arg("st")
        .arg("py-states")
        .arg("6")
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    let out = run_command(cmd, b"", Duration::from_secs(150));
    out.assert_success("two kafka-python members, then the admin client");
    let lines: Vec<&str> = out.stdout.lines().collect();
    // A record may be read twice across the rebalance between the two members.
    let read: usize = lines
        .iter()
        .find_map(|l| l.strip_prefix("READ "))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no READ line: {out}"));
    assert!(read >= 6, "{out}");
    // DescribeGroups of an Empty group: state Empty, protocol type kept, protocol "", no members.
    assert!(lines.contains(&"DESCRIBE Empty|consumer||0"), "{out}");
    // ListGroups v4 with the states filter; v5 with the types filter (the classic coordinator
    // lists its groups for "classic" only).
    assert!(lines.contains(&"LIST-EMPTY consumer Empty"), "{out}");
    assert!(lines.contains(&"LIST-STABLE 0"), "{out}");
    assert!(lines.contains(&"LIST-CLASSIC 1"), "{out}");
    assert!(lines.contains(&"LIST-CONSUMER 0"), "{out}");

    // Right away, with no waiting: the tool sees an inactive group.
    let out = groups(&cluster, &["--describe", "--group", "py-states", "--state"]);
    out.assert_success("describe --state");
    assert!(
        !out.stderr.contains("is rebalancing") && !out.stdout.contains("is rebalancing"),
        "{out}"
    );
    let row = state_row(&out.stdout, "py-states");
    assert_eq!(row.last().map(String::as_str), Some("0"), "{out}");
    assert_eq!(row[row.len() - 2], "Empty", "{out}");

    let out = groups(&cluster, &["--list", "--state"]);
    out.assert_success("list --state");
    assert_eq!(
        listed_state(&out.stdout, "py-states"),
        Some(vec!["py-states".to_string(), "Empty".to_string()]),
        "{out}"
    );
    let out = groups(&cluster, &["--list", "--state", "Empty"]);
    out.assert_success("list --state Empty");
    assert!(listed_state(&out.stdout, "py-states").is_some(), "{out}");
    let out = groups(&cluster, &["--list", "--state", "Stable"]);
    out.assert_success("list --state Stable");
    assert!(listed_state(&out.stdout, "py-states").is_none(), "{out}");

    let out = groups(
        &cluster,
        &[
            "--reset-offsets",
            "--group",
            "py-states",
            "--topic",
            "st",
            "--to-earliest",
            "--execute",
        ],
    );
    out.assert_success("reset-offsets --execute");
    assert!(!out.stdout.contains("can only be reset"), "{out}");
    for p in ["0", "1"] {
        assert!(
            out.stdout
                .lines()
                .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["py-states", "st", p, "0"]),
            "{out}"
        );
    }

    let out = groups(&cluster, &["--delete", "--group", "py-states"]);
    out.assert_success("delete");
    assert!(
        out.stdout
            .contains("Deletion of requested consumer groups ('py-states') was successful."),
        "{out}"
    );
    let out = groups(&cluster, &["--describe", "--group", "py-states", "--state"]);
    assert!(
        out.stdout
            .contains("Error: Consumer group 'py-states' does not exist."),
        "{out}"
    );
}

#[test]
fn console_consumer_groups_are_empty_right_after_it_exits_and_deletable() {
    let cluster = Cluster::start_with(&[("group.initial.rebalance.delay.ms", "0")]);
    cluster.create_topic("cc", 1);
    produce(&cluster, "cc", &["1", "2", "3"]);

    console_consume(&cluster, "cc", Some("cc-group"), 3);
    let out = groups(&cluster, &["--describe", "--group", "cc-group", "--state"]);
    out.assert_success("describe --state");
    let row = state_row(&out.stdout, "cc-group");
    assert_eq!(row[row.len() - 2..], ["Empty", "0"], "{out}");

    // A console consumer without --group commits nothing: its random group is still listed
    // as Empty (Kafka removes it at the next offsets cleanup, minutes later).
    console_consume(&cluster, "cc", None, 3);
    let out = groups(&cluster, &["--list", "--state"]);
    out.assert_success("list --state");
    assert_eq!(
        listed_state(&out.stdout, "cc-group").map(|c| c[1].clone()),
        Some("Empty".to_string()),
        "{out}"
    );
    let random: Vec<Vec<String>> = out
        .stdout
        .lines()
        .map(|l| l.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .filter(|c| {
            c.first()
                .is_some_and(|g| g.starts_with("console-consumer-"))
        })
        .collect();
    assert_eq!(random.len(), 1, "{out}");
    assert_eq!(random[0][1], "Empty", "{out}");

    // Deleting the Empty group without offsets right away works too.
    let random_id = random[0][0].clone();
    let out = groups(&cluster, &["--delete", "--group", &random_id]);
    out.assert_success("delete of the random group");
    assert!(
        out.stdout.contains(&format!(
            "Deletion of requested consumer groups ('{random_id}') was successful."
        )),
        "{out}"
    );
}

#[test]
fn empty_group_without_offsets_is_removed_by_the_cleanup_and_one_with_offsets_stays() {
    let cluster = Cluster::start_with(&[
        ("group.initial.rebalance.delay.ms", "0"),
        ("offsets.retention.check.interval.ms", "500"),
    ]);
    cluster.create_topic("cl", 1);
    produce(&cluster, "cl", &["x", "y"]);
    console_consume(&cluster, "cl", Some("kept"), 2);
    console_consume(&cluster, "cl", None, 2);
    wait_until(
        "the random group without offsets to go Dead and disappear",
        Duration::from_secs(30),
        || {
            let out = groups(&cluster, &["--list"]);
            (!out.stdout.contains("console-consumer-")).then_some(())
        },
    );
    // The group with committed offsets stays Empty until offsets.retention.minutes.
    let out = groups(&cluster, &["--list", "--state"]);
    assert_eq!(
        listed_state(&out.stdout, "kept"),
        Some(vec!["kept".to_string(), "Empty".to_string()]),
        "{out}"
    );
}

/// kafka-python's admin client: `LIST <group> <protocol_type or -> <state>` for every group,
/// then `DESCRIBE <state>|<protocol_type>` of argv[2].
const ADMIN_PY: &str = r#"
import sys
from kafka import KafkaAdminClient
admin = KafkaAdminClient(bootstrap_servers=sys.argv[1])
for g in admin.list_groups():
    print("LIST", g["group_id"], g["protocol_type"] or "-", g["group_state"], flush=True)
d = admin.describe_groups([sys.argv[2]])[sys.argv[2]]
print("DESCRIBE %s|%s" % (d["group_state"], d["protocol_type"]), flush=True)
admin.close()
"#;

#[test]
fn after_a_restart_a_former_consumer_group_is_still_an_empty_consumer_group() {
    let Some(python) = python() else { return };
    let mut cluster = Cluster::start_with(&[("group.initial.rebalance.delay.ms", "0")]);
    cluster.create_topic("rs", 1);
    produce(&cluster, "rs", &["1", "2"]);
    console_consume(&cluster, "rs", Some("rs-group"), 2);
    // Offsets only, no member ever: Kafka's protocol type stays empty for such a group.
    groups(
        &cluster,
        &[
            "--reset-offsets",
            "--group",
            "rs-simple",
            "--topic",
            "rs",
            "--to-earliest",
            "--execute",
        ],
    )
    .assert_success("admin commit");
    cluster.broker.stop();
    cluster.broker.restart();

    let mut cmd = Command::new(&python);
    cmd.arg("-c")
        .arg(ADMIN_PY)
        .arg(cluster.bootstrap())
        .arg("rs-group")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    let out = run_command(cmd, b"", Duration::from_secs(60));
    out.assert_success("kafka-python admin");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines.contains(&"LIST rs-group consumer Empty"), "{out}");
    assert!(lines.contains(&"LIST rs-simple - Empty"), "{out}");
    assert!(lines.contains(&"DESCRIBE Empty|consumer"), "{out}");

    let out = groups(&cluster, &["--describe", "--group", "rs-group", "--state"]);
    out.assert_success("describe --state after the restart");
    let row = state_row(&out.stdout, "rs-group");
    assert_eq!(row[row.len() - 2..], ["Empty", "0"], "{out}");
}
