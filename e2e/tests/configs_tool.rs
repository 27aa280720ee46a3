//! Configs changed on a running cluster: `kafka-configs --alter / --describe` for topics, one
//! broker and the cluster-wide broker default, with Kafka 3.9's output and errors; the changes
//! survive a restart of zookeeper-lite and the broker; they take effect without one (a topic's
//! `max.message.bytes`, and a dynamic broker `message.max.bytes` inherited by topics); and real
//! admin clients (kafka-python's AlterConfigs / DescribeConfigs, confluent-kafka's
//! IncrementalAlterConfigs) agree.

use e2e::python;
use std::process::Command;
use std::time::Duration;

use e2e::{
    repo_root, run_command, run_script, run_tool, wait_until, Broker, Cluster, ToolOutput,
    TOOL_TIMEOUT,
};

fn configs(cluster: &Cluster, args: &[&str]) -> ToolOutput {
    let bootstrap = cluster.bootstrap();
    let mut full = vec!["--bootstrap-server", bootstrap.as_str()];
    full.extend_from_slice(args);
    run_tool("kafka-configs", &full, b"", TOOL_TIMEOUT)
}

fn configs_ok(cluster: &Cluster, args: &[&str]) -> String {
    let out = configs(cluster, args);
    out.assert_success(&format!("kafka-configs {}", args.join(" ")));
    out.stdout
}

/// Produces one record of `size` bytes with kcat (librdkafka), whose stderr reports a refusal
/// (`Broker: Message size too large`).
fn kcat_produce(cluster: &Cluster, topic: &str, size: usize) -> ToolOutput {
    let mut cmd = Command::new("kcat");
    cmd.args([
        "-P",
        "-b",
        &cluster.bootstrap(),
        "-t",
        topic,
        "-X",
        "message.max.bytes=2000000",
        "-X",
        "retries=0",
    ]);
    let mut value = vec![b'x'; size];
    value.push(b'\n');
    run_command(cmd, &value, TOOL_TIMEOUT)
}

#[test]
fn topic_configs_are_altered_described_and_deleted_with_kafkas_texts() {
    let cluster = Cluster::start();
    cluster.create_topic("orders", 1);

    let out = configs_ok(
        &cluster,
        &[
            "--alter",
            "--entity-type",
            "topics",
            "--entity-name",
            "orders",
            "--add-config",
            "retention.ms=60000,leader.replication.throttled.replicas=[0:0,1:0]",
        ],
    );
    assert_eq!(out, "Completed updating config for topic orders.\n");

    let out = configs_ok(&cluster, &["--describe", "--topic", "orders"]);
    assert_eq!(
        out,
        "Dynamic configs for topic orders are:\n\
         \x20 leader.replication.throttled.replicas=0:0,1:0 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:leader.replication.throttled.replicas=0:0,1:0}\n\
         \x20 retention.ms=60000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=60000}\n"
    );

    // Without a name: every topic.
    let out = configs_ok(&cluster, &["--describe", "--entity-type", "topics"]);
    assert!(
        out.contains("Dynamic configs for topic orders are:\n  leader.replication.throttled.replicas=0:0,1:0 "),
        "{out}"
    );

    // --all lists every topic config Kafka 3.9 has, sorted, defaults included.
    let out = configs_ok(&cluster, &["--describe", "--topic", "orders", "--all"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "All configs for topic orders are:");
    assert_eq!(lines.len(), 1 + 36, "{out}");
    assert!(
        lines.contains(&"  segment.bytes=1073741824 sensitive=false synonyms={DEFAULT_CONFIG:log.segment.bytes=1073741824}"),
        "{out}"
    );
    // The shipped server.properties sets log.flush.interval.messages=1: a static broker value.
    assert!(
        lines.contains(&"  flush.messages=1 sensitive=false synonyms={STATIC_BROKER_CONFIG:log.flush.interval.messages=1, DEFAULT_CONFIG:log.flush.interval.messages=9223372036854775807}"),
        "{out}"
    );

    // kafka-topics sees the overrides too.
    let describe = cluster.topics(&["--describe", "--topic", "orders"]);
    assert!(
        describe
            .stdout
            .contains("Configs: flush.messages=1,leader.replication.throttled.replicas=0:0,1:0,retention.ms=60000"),
        "{describe}"
    );

    let out = configs_ok(
        &cluster,
        &[
            "--alter",
            "--topic",
            "orders",
            "--delete-config",
            "leader.replication.throttled.replicas",
        ],
    );
    assert_eq!(out, "Completed updating config for topic orders.\n");
    let out = configs_ok(&cluster, &["--describe", "--topic", "orders"]);
    assert_eq!(
        out,
        "Dynamic configs for topic orders are:\n\
         \x20 retention.ms=60000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=60000}\n"
    );

    // --add-config-file reads a properties file.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("add.properties");
    std::fs::write(&file, "# more\nsegment.ms=3600000\n").expect("write");
    let file = file.display().to_string();
    configs_ok(
        &cluster,
        &["--alter", "--topic", "orders", "--add-config-file", &file],
    );
    let out = configs_ok(&cluster, &["--describe", "--topic", "orders"]);
    assert!(out.contains("  segment.ms=3600000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:segment.ms=3600000}\n"), "{out}");
    configs_ok(
        &cluster,
        &[
            "--alter",
            "--topic",
            "orders",
            "--delete-config",
            "segment.ms",
        ],
    );

    // Deleting a config that is not set: the tool refuses before asking the broker.
    let out = configs(
        &cluster,
        &[
            "--alter",
            "--topic",
            "orders",
            "--delete-config",
            "segment.ms,flush.ms",
        ],
    );
    out.assert_code(1, "delete of unset configs");
    assert_eq!(out.stderr, "Invalid config(s): segment.ms,flush.ms\n");
    assert_eq!(out.stdout, "");

    // The broker refuses unknown names and bad values with Kafka's texts.
    let out = configs(
        &cluster,
        &[
            "--alter",
            "--topic",
            "orders",
            "--add-config",
            "retention.msx=5",
        ],
    );
    out.assert_code(1, "unknown topic config");
    assert!(
        out.stderr
            .starts_with("Error while executing config command with args '--bootstrap-server "),
        "{out}"
    );
    assert!(
        out.stderr.contains("org.apache.kafka.common.errors.InvalidConfigurationException: Unknown topic config name: retention.msx"),
        "{out}"
    );
    let out = configs(
        &cluster,
        &[
            "--alter",
            "--topic",
            "orders",
            "--add-config",
            "retention.ms=abc",
        ],
    );
    out.assert_code(1, "bad value");
    assert!(
        out.stderr.contains("InvalidConfigurationException: Invalid config value for resource ConfigResource(type=TOPIC, name='orders'): Invalid value abc for configuration retention.ms: Not a number of type LONG"),
        "{out}"
    );
    let out = configs(
        &cluster,
        &[
            "--alter",
            "--topic",
            "orders",
            "--add-config",
            "retention.ms",
        ],
    );
    out.assert_code(1, "malformed --add-config");
    assert_eq!(
        out.stderr,
        "requirement failed: Invalid entity config: all configs to be added must be in the format \"key=val\".\n"
    );
    let out = configs(
        &cluster,
        &[
            "--alter",
            "--topic",
            "missing",
            "--add-config",
            "retention.ms=1",
        ],
    );
    out.assert_code(1, "missing topic");
    assert!(
        out.stderr.contains("UnknownTopicOrPartitionException"),
        "{out}"
    );
    // Nothing of the refused changes was stored.
    let out = configs_ok(&cluster, &["--describe", "--topic", "orders"]);
    assert!(
        out.contains("retention.ms=60000 ") && !out.contains("retention.msx"),
        "{out}"
    );

    // The scripts/ wrapper runs the same tool.
    let bootstrap = cluster.bootstrap();
    let out = run_script(
        "kafka-configs.sh",
        &[
            "--bootstrap-server",
            &bootstrap,
            "--describe",
            "--topic",
            "orders",
        ],
        b"",
        TOOL_TIMEOUT,
    );
    out.assert_success("scripts/kafka-configs.sh --describe");
    assert!(
        out.stdout
            .starts_with("Dynamic configs for topic orders are:\n"),
        "{out}"
    );

    // A missing --command-config file fails as Java's NoSuchFileException.
    let out = configs(
        &cluster,
        &[
            "--describe",
            "--topic",
            "orders",
            "--command-config",
            "/nonexistent/admin.properties",
        ],
    );
    out.assert_code(1, "missing --command-config");
    assert!(
        out.stderr
            .ends_with("\njava.nio.file.NoSuchFileException: /nonexistent/admin.properties\n"),
        "{out}"
    );

    // Option checks stop before connecting, with usage.
    let out = run_tool(
        "kafka-configs",
        &[
            "--bootstrap-server",
            "localhost:1",
            "--entity-type",
            "topics",
        ],
        b"",
        TOOL_TIMEOUT,
    );
    out.assert_code(1, "no action");
    assert!(
        out.stderr
            .starts_with("Command must include exactly one action: --describe, --alter\n"),
        "{out}"
    );
}

#[test]
fn broker_and_default_configs_apply_live_and_survive_restarts() {
    let mut cluster = Cluster::start();
    cluster.create_topic("big", 1);

    // A dynamic cluster default.
    let out = configs_ok(
        &cluster,
        &[
            "--alter",
            "--entity-type",
            "brokers",
            "--entity-default",
            "--add-config",
            "log.retention.ms=3600000",
        ],
    );
    assert_eq!(
        out,
        "Completed updating default config for brokers in the cluster.\n"
    );
    let out = configs_ok(
        &cluster,
        &["--describe", "--entity-type", "brokers", "--entity-default"],
    );
    assert_eq!(
        out,
        "Default configs for brokers in the cluster are:\n\
         \x20 log.retention.ms=3600000 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=3600000}\n"
    );

    // Before the per-broker change, a 5000-byte record is accepted.
    let out = kcat_produce(&cluster, "big", 5000);
    out.assert_success("5000-byte record under the default message.max.bytes");

    // A per-broker dynamic config, inherited by the topic without a restart.
    let out = configs_ok(
        &cluster,
        &[
            "--alter",
            "--entity-type",
            "brokers",
            "--entity-name",
            "0",
            "--add-config",
            "message.max.bytes=3000",
        ],
    );
    assert_eq!(out, "Completed updating config for broker 0.\n");
    let out = configs_ok(&cluster, &["--describe", "--broker", "0"]);
    assert_eq!(
        out,
        "Dynamic configs for broker 0 are:\n\
         \x20 message.max.bytes=3000 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:message.max.bytes=3000, DEFAULT_CONFIG:message.max.bytes=1048588}\n"
    );
    let out = configs_ok(&cluster, &["--describe", "--topic", "big", "--all"]);
    assert!(
        out.contains("  max.message.bytes=3000 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:message.max.bytes=3000, DEFAULT_CONFIG:message.max.bytes=1048588}"),
        "{out}"
    );
    assert!(
        // Kafka drops only the synonyms before the first log.retention.ms; the hours from
        // server.properties and Kafka's default follow it.
        out.contains("  retention.ms=3600000 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=3600000, STATIC_BROKER_CONFIG:log.retention.hours=168, DEFAULT_CONFIG:log.retention.hours=168}"),
        "{out}"
    );
    let out = kcat_produce(&cluster, "big", 5000);
    assert!(
        out.stderr.to_ascii_lowercase().contains("too large"),
        "a 5000-byte record over the dynamic message.max.bytes=3000 must be refused: {out}"
    );

    // The broker's view with --all: static, dynamic and default sources, read-only flags.
    let out = configs_ok(
        &cluster,
        &[
            "--describe",
            "--entity-type",
            "brokers",
            "--entity-name",
            "0",
            "--all",
        ],
    );
    assert!(out.starts_with("All configs for broker 0 are:\n"), "{out}");
    assert!(
        out.contains("  log.flush.interval.messages=1 sensitive=false synonyms={STATIC_BROKER_CONFIG:log.flush.interval.messages=1, DEFAULT_CONFIG:log.flush.interval.messages=9223372036854775807}"),
        "{out}"
    );
    assert!(out.contains("  broker.id=0 sensitive=false synonyms={STATIC_BROKER_CONFIG:broker.id=0, DEFAULT_CONFIG:broker.id=-1}"), "{out}");
    // Every broker config Kafka 3.9 has, passwords hidden.
    assert_eq!(out.lines().count(), 1 + 314, "{out}");
    assert!(
        out.contains("\n  ssl.keystore.password=null sensitive=true synonyms={}\n"),
        "{out}"
    );

    // Configs Kafka cannot change at run time are refused.
    let out = configs(
        &cluster,
        &[
            "--alter",
            "--broker",
            "0",
            "--add-config",
            "log.dirs=/elsewhere",
        ],
    );
    out.assert_code(1, "static-only broker config");
    assert!(
        out.stderr.contains("InvalidConfigurationException: Invalid config value for resource ConfigResource(type=BROKER, name='0'): Cannot update these configs dynamically: Set(log.dirs)"),
        "{out}"
    );

    // Kafka lets only the first synonym change: log.retention.hours is read-only.
    let out = configs(
        &cluster,
        &[
            "--alter",
            "--broker-defaults",
            "--add-config",
            "log.retention.hours=1",
        ],
    );
    out.assert_code(1, "read-only synonym");
    assert!(
        out.stderr
            .contains("Cannot update these configs dynamically: Set(log.retention.hours)"),
        "{out}"
    );

    // Both survive a restart of zookeeper-lite and of the broker.
    cluster.zk.kill9();
    cluster.zk.restart();
    cluster.broker.stop();
    cluster.broker.restart();
    let out = wait_until(
        "the broker answers after the restarts",
        Duration::from_secs(60),
        || {
            let out = configs(&cluster, &["--describe", "--broker", "0"]);
            (out.code == Some(0)).then_some(out.stdout)
        },
    );
    assert!(out.contains("  message.max.bytes=3000 "), "{out}");
    let out = configs_ok(&cluster, &["--describe", "--broker-defaults"]);
    assert!(out.contains("  log.retention.ms=3600000 "), "{out}");
    let out = kcat_produce(&cluster, "big", 5000);
    assert!(
        out.stderr.to_ascii_lowercase().contains("too large"),
        "still in force after restart: {out}"
    );

    // Deleting the per-broker config lifts the limit again, live.
    let out = configs_ok(
        &cluster,
        &[
            "--alter",
            "--broker",
            "0",
            "--delete-config",
            "message.max.bytes",
        ],
    );
    assert_eq!(out, "Completed updating config for broker 0.\n");
    let out = configs_ok(&cluster, &["--describe", "--broker", "0"]);
    assert_eq!(out, "Dynamic configs for broker 0 are:\n");
    kcat_produce(&cluster, "big", 5000).assert_success("5000-byte record after the delete");
}

#[test]
fn topic_overrides_survive_restarts_and_apply_without_one() {
    let mut cluster = Cluster::start();
    cluster.create_topic("small", 1);
    kcat_produce(&cluster, "small", 1000).assert_success("1000-byte record before the change");
    configs_ok(
        &cluster,
        &[
            "--alter",
            "--topic",
            "small",
            "--add-config",
            "max.message.bytes=300",
        ],
    );
    let out = kcat_produce(&cluster, "small", 1000);
    assert!(
        out.stderr.to_ascii_lowercase().contains("too large"),
        "{out}"
    );
    kcat_produce(&cluster, "small", 10).assert_success("a small record");

    cluster.zk.kill9();
    cluster.zk.restart();
    cluster.broker.kill9();
    cluster.broker.restart();
    let out = wait_until(
        "describe after kill -9 of both",
        Duration::from_secs(60),
        || {
            let out = configs(&cluster, &["--describe", "--topic", "small"]);
            (out.code == Some(0)).then_some(out.stdout)
        },
    );
    assert_eq!(
        out,
        "Dynamic configs for topic small are:\n\
         \x20 max.message.bytes=300 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:max.message.bytes=300, DEFAULT_CONFIG:message.max.bytes=1048588}\n"
    );
    let out = wait_until(
        "the partition is served again",
        Duration::from_secs(60),
        || {
            let out = kcat_produce(&cluster, "small", 1000);
            (!out.stderr.contains("Leader not available")
                && out.stderr.to_ascii_lowercase().contains("too large"))
            .then_some(out)
        },
    );
    assert!(
        out.stderr.to_ascii_lowercase().contains("too large"),
        "{out}"
    );
}

/// Produces a `size`-byte record to one partition with kcat.
fn kcat_produce_to(bootstrap: &str, topic: &str, partition: i32, size: usize) -> ToolOutput {
    let mut cmd = Command::new("kcat");
    let p = partition.to_string();
    cmd.args([
        "-P",
        "-b",
        bootstrap,
        "-t",
        topic,
        "-p",
        &p,
        "-X",
        "message.max.bytes=2000000",
        "-X",
        "retries=0",
    ]);
    let mut value = vec![b'x'; size];
    value.push(b'\n');
    run_command(cmd, &value, TOOL_TIMEOUT)
}

#[test]
fn a_change_made_through_one_broker_reaches_the_others_without_a_restart() {
    let cluster = Cluster::start();
    let second = Broker::start(&cluster.zk, 1, &[]);
    // Two partitions, one replica each, partition 1 on broker 1 (named: placement starts at a
    // random broker, as Kafka's does).
    cluster.topics(&[
        "--create",
        "--topic",
        "spread",
        "--replica-assignment",
        "0,1",
    ]);
    let describe = cluster.topics(&["--describe", "--topic", "spread"]);
    assert!(
        describe.stdout.contains("Partition: 1\tLeader: 1\t"),
        "partition 1 on broker 1: {describe}"
    );
    kcat_produce_to(&second.bootstrap(), "spread", 1, 1000).assert_success("before the change");

    // Altered through broker 0 only.
    configs_ok(
        &cluster,
        &[
            "--alter",
            "--topic",
            "spread",
            "--add-config",
            "max.message.bytes=300",
        ],
    );
    // An incremental change through broker 1 right after builds on the stored set, not on
    // broker 1's cached view (which may not have max.message.bytes yet).
    let second_bootstrap = second.bootstrap();
    let out = run_tool(
        "kafka-configs",
        &[
            "--bootstrap-server",
            &second_bootstrap,
            "--alter",
            "--topic",
            "spread",
            "--add-config",
            "retention.ms=7200000",
        ],
        b"",
        TOOL_TIMEOUT,
    );
    out.assert_success("alter through broker 1");
    // Broker 0 sees the second change at its next heartbeat; both are kept.
    wait_until("both changes described", Duration::from_secs(30), || {
        let out = configs_ok(&cluster, &["--describe", "--topic", "spread"]);
        (out.contains("  retention.ms=7200000 ")).then_some(())
    });
    let out = configs_ok(&cluster, &["--describe", "--topic", "spread"]);
    assert!(
        out.contains("  max.message.bytes=300 ") && out.contains("  retention.ms=7200000 "),
        "both changes kept: {out}"
    );
    // Broker 1 learns of it from zookeeper-lite at its next heartbeat.
    wait_until(
        "broker 1 refuses a 1000-byte record",
        Duration::from_secs(30),
        || {
            let out = kcat_produce_to(&second.bootstrap(), "spread", 1, 1000);
            out.stderr
                .to_ascii_lowercase()
                .contains("too large")
                .then_some(())
        },
    );

    // A per-broker config for broker 1 is described by broker 1 itself (the tool asks it).
    configs_ok(
        &cluster,
        &[
            "--alter",
            "--broker",
            "1",
            "--add-config",
            "log.retention.ms=5000",
        ],
    );
    let out = configs_ok(&cluster, &["--describe", "--broker", "1"]);
    assert_eq!(
        out,
        "Dynamic configs for broker 1 are:\n\
         \x20 log.retention.ms=5000 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:log.retention.ms=5000, STATIC_BROKER_CONFIG:log.retention.hours=168, DEFAULT_CONFIG:log.retention.hours=168}\n"
    );
    let out = configs_ok(&cluster, &["--describe", "--broker", "0"]);
    assert_eq!(out, "Dynamic configs for broker 0 are:\n");
    // Without a name: every broker, then the cluster default.
    let out = configs_ok(&cluster, &["--describe", "--entity-type", "brokers"]);
    assert!(
        out.starts_with("Dynamic configs for broker 0 are:\nDynamic configs for broker 1 are:\n  log.retention.ms=5000 ")
            && out.ends_with("Default configs for brokers in the cluster are:\n"),
        "{out}"
    );
}

/// The offset of the first record a fresh consumer reads from the beginning of partition 0.
fn first_offset(cluster: &Cluster, topic: &str) -> Option<i64> {
    let mut cmd = Command::new("kcat");
    cmd.args([
        "-C",
        "-b",
        &cluster.bootstrap(),
        "-t",
        topic,
        "-p",
        "0",
        "-o",
        "beginning",
        "-c",
        "1",
        "-e",
        "-f",
        "%o\n",
    ]);
    let out = run_command(cmd, b"", TOOL_TIMEOUT);
    out.stdout.trim().parse().ok()
}

#[test]
fn a_new_retention_ms_deletes_expired_segments_without_a_restart() {
    let cluster = Cluster::start_with(&[
        ("log.retention.check.interval.ms", "200"),
        ("log.initial.task.delay.ms", "100"),
    ]);
    // Small segments, so that most records sit in closed ones.
    cluster.topics(&[
        "--create",
        "--topic",
        "aging",
        "--partitions",
        "1",
        "--replication-factor",
        "1",
        "--config",
        "segment.bytes=1000",
    ]);
    let mut cmd = Command::new("kcat");
    cmd.args([
        "-P",
        "-b",
        &cluster.bootstrap(),
        "-t",
        "aging",
        "-p",
        "0",
        "-X",
        "batch.num.messages=1",
        "-X",
        "linger.ms=0",
    ]);
    let lines: String = (0..30)
        .map(|i| format!("record-{i:03}-{}\n", "x".repeat(150)))
        .collect();
    run_command(cmd, lines.as_bytes(), TOOL_TIMEOUT).assert_success("kcat produce");
    assert_eq!(first_offset(&cluster, "aging"), Some(0));

    // The default (7 days) keeps everything; retention.ms=1000 set live expires every segment
    // (the active one too, as Kafka's deleteOldSegments) within a retention check or two.
    assert_eq!(earliest_offset(&cluster, "aging"), 0);
    let out = configs_ok(
        &cluster,
        &[
            "--alter",
            "--topic",
            "aging",
            "--add-config",
            "retention.ms=1000",
        ],
    );
    assert_eq!(out, "Completed updating config for topic aging.\n");
    wait_until(
        "every segment deleted by the new retention.ms",
        Duration::from_secs(30),
        || (earliest_offset(&cluster, "aging") == 30).then_some(()),
    );
}

/// ListOffsets earliest (-2) of partition 0 of `topic`, through kcat.
fn earliest_offset(cluster: &Cluster, topic: &str) -> i64 {
    let query = format!("{topic}:0:-2");
    let mut cmd = Command::new("kcat");
    cmd.args(["-b", &cluster.bootstrap(), "-Q", "-t", &query]);
    let out = run_command(cmd, b"", TOOL_TIMEOUT);
    out.assert_success(&format!("kcat -Q -t {query}"));
    // "<topic> [0] offset <n>"
    out.stdout
        .lines()
        .find_map(|l| l.split_once(" offset ")?.1.trim().parse().ok())
        .unwrap_or_else(|| panic!("kcat -Q prints an offset: {out}"))
}

#[test]
fn real_admin_clients_alter_and_describe_topic_configs() {
    let Some(python) = python() else { return };
    let cluster = Cluster::start();
    cluster.create_topic("py-configs", 1);
    let mut cmd = Command::new(python);
    cmd.arg(repo_root().join("e2e/python/configs_admin.py"))
        .arg(cluster.bootstrap())
        .arg("py-configs")
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    let out = run_command(cmd, b"", Duration::from_secs(180));
    out.assert_success("configs_admin.py");
    assert!(out.stdout.contains("CONFIGS OK"), "{out}");
    // And our tool reads what the clients wrote.
    let out = configs_ok(&cluster, &["--describe", "--topic", "py-configs"]);
    assert!(
        out.contains("  leader.replication.throttled.replicas=0:0 "),
        "{out}"
    );
    assert!(out.contains("  max.message.bytes=200 "), "{out}");
    assert!(out.contains("  retention.ms=86400000 "), "{out}");
}
