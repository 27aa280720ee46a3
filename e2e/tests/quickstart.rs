//! The workflow, step by step, through the `scripts/` wrappers a user runs: start
//! zookeeper-lite and a broker, create `vmc-topic` with `-partitions 3`, list, describe, produce
//! `a b c`, consume them from the beginning, and shut both servers down with Ctrl-C.

use std::collections::HashMap;
use std::time::Duration;

use e2e::{
    bin_dir, run_command, run_script, script_command, wait_until, Broker, Process, ZooKeeper,
    STARTUP_TIMEOUT, TOOL_TIMEOUT,
};

/// `Topic: vmc-topic\tTopicId: <22 chars>\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: flush.messages=1`
fn check_describe_summary(line: &str) {
    let fields: Vec<&str> = line.split('\t').collect();
    assert_eq!(
        fields.len(),
        5,
        "summary line has 5 tab-separated fields: {line:?}"
    );
    assert_eq!(fields[0], "Topic: vmc-topic", "{line:?}");
    let id = fields[1]
        .strip_prefix("TopicId: ")
        .unwrap_or_else(|| panic!("second field is the TopicId: {line:?}"));
    assert_eq!(
        id.len(),
        22,
        "TopicId is 22 chars of URL-safe base64: {line:?}"
    );
    assert!(
        id.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "TopicId is URL-safe base64: {line:?}"
    );
    assert_eq!(fields[2], "PartitionCount: 3", "{line:?}");
    assert_eq!(fields[3], "ReplicationFactor: 1", "{line:?}");
    // The shipped server.properties sets log.flush.interval.messages=1 (a documented difference
    // from Kafka's sample file), and Kafka's DescribeConfigs reports a topic config whose broker
    // synonym is set in server.properties as STATIC_BROKER_CONFIG, which kafka-topics lists.
    assert_eq!(
        fields[4], "Configs: flush.messages=1",
        "only the static broker override: {line:?}"
    );
}

#[test]
fn quickstart_workflow_through_the_scripts() {
    let zk = ZooKeeper::start_via_script();
    let mut broker = Broker::start_via_script(&zk, 0, &[]);
    let bs = broker.bootstrap();

    // Exactly the commands, with our ephemeral port.
    let create = run_script(
        "kafka-topics.sh",
        &[
            "--bootstrap-server",
            &bs,
            "--create",
            "--topic",
            "vmc-topic",
            "-partitions",
            "3",
            "--replication-factor",
            "1",
        ],
        b"",
        TOOL_TIMEOUT,
    );
    create.assert_success("create");
    assert_eq!(create.stdout, "Created topic vmc-topic.\n", "{create}");

    let list = run_script(
        "kafka-topics.sh",
        &["--bootstrap-server", &bs, "--list"],
        b"",
        TOOL_TIMEOUT,
    );
    list.assert_success("list");
    assert_eq!(list.stdout, "vmc-topic\n", "{list}");

    let describe = run_script(
        "kafka-topics.sh",
        &[
            "--bootstrap-server",
            &bs,
            "--describe",
            "--topic",
            "vmc-topic",
        ],
        b"",
        TOOL_TIMEOUT,
    );
    describe.assert_success("describe");
    let lines: Vec<&str> = describe.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "summary + 3 partition lines: {describe}");
    check_describe_summary(lines[0]);
    for p in 0..3 {
        assert_eq!(
            lines[p + 1],
            format!(
                "\tTopic: vmc-topic\tPartition: {p}\tLeader: 0\tReplicas: 0\tIsr: 0\tElr: N/A\tLastKnownElr: N/A"
            ),
            "{describe}"
        );
    }

    let produce = run_script(
        "kafka-console-producer.sh",
        &["--broker-list", &bs, "--topic", "vmc-topic"],
        b"a\nb\nc\n",
        TOOL_TIMEOUT,
    );
    produce.assert_success("produce");
    assert_eq!(
        produce.stdout, "",
        "no `>` prompt when stdin is piped: {produce}"
    );

    // The consumer runs until Ctrl-C; --max-messages makes it stop by itself.
    let consume = run_script(
        "kafka-console-consumer.sh",
        &[
            "--bootstrap-server",
            &bs,
            "--topic",
            "vmc-topic",
            "--from-beginning",
            "--max-messages",
            "3",
        ],
        b"",
        TOOL_TIMEOUT,
    );
    consume.assert_success("consume");
    let mut got: Vec<&str> = consume.stdout.lines().collect();
    got.sort_unstable();
    assert_eq!(got, ["a", "b", "c"], "{consume}");
    assert!(
        consume.stderr.contains("Processed a total of 3 messages"),
        "{consume}"
    );

    // And exactly as the issue types it: no limit, stopped with Ctrl-C.
    let mut consumer = Process::spawn(
        "kafka-console-consumer.sh",
        e2e::repo_root().join("scripts/kafka-console-consumer.sh"),
        [
            "--bootstrap-server",
            &bs,
            "--topic",
            "vmc-topic",
            "--from-beginning",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        vec![("KAFKA_BIN_DIR".into(), bin_dir().display().to_string())],
    );
    for v in ["a", "b", "c"] {
        consumer.wait_for_line(&format!("record {v:?}"), TOOL_TIMEOUT, |l| l == v);
    }
    let status = consumer.signal_and_wait("INT", TOOL_TIMEOUT);
    assert_eq!(status.code(), Some(0), "consumer exits 0 on Ctrl-C");
    assert!(
        consumer.log().contains("Processed a total of 3 messages"),
        "{}",
        consumer.log()
    );

    // Ctrl-C in each terminal shuts that server down cleanly.
    let mark = broker.process.log_mark();
    let status = broker.process.signal_and_wait("INT", STARTUP_TIMEOUT);
    assert_eq!(status.code(), Some(0), "broker exits 0 on Ctrl-C");
    broker
        .process
        .wait_for_line_since(mark, "clean shutdown line", Duration::ZERO, |l| {
            l.contains("[KafkaServer id=0] shut down completed")
        });
    let mut zk = zk;
    let status = zk.process.signal_and_wait("INT", STARTUP_TIMEOUT);
    assert_eq!(status.code(), Some(0), "zookeeper-lite exits 0 on Ctrl-C");
}

/// Two terminals: a consumer already waiting at the end of the log prints a record as soon as it
/// is produced (the broker's long-poll is woken by the append).
#[test]
fn a_waiting_consumer_sees_new_records_as_they_arrive() {
    let cluster = e2e::Cluster::start();
    cluster.create_topic("live", 1);
    let bs = cluster.bootstrap();
    let mut consumer = Process::spawn(
        "kafka-console-consumer (live)",
        e2e::binary("kafka-console-consumer"),
        [
            "--bootstrap-server",
            &bs,
            "--topic",
            "live",
            "--from-beginning",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        vec![],
    );
    // --from-beginning so that a slow start cannot miss the first record; each record must
    // then show up while the consumer is already waiting.
    for i in 0..3 {
        let line = format!("live-{i}");
        let mark = consumer.log_mark();
        let produce = run_script(
            "kafka-console-producer.sh",
            &["--bootstrap-server", &bs, "--topic", "live", "--sync"],
            format!("{line}\n").as_bytes(),
            TOOL_TIMEOUT,
        );
        produce.assert_success("produce one line");
        consumer.wait_for_line_since(mark, &line, Duration::from_secs(10), |l| l == line);
    }
    let status = consumer.signal_and_wait("TERM", TOOL_TIMEOUT);
    assert_eq!(status.code(), Some(0), "consumer exits 0 on SIGTERM");
}

#[test]
fn start_scripts_print_kafkas_usage_without_arguments() {
    for (script, usage) in [
        (
            "zookeeper-server-start.sh",
            "[-daemon] zookeeper.properties",
        ),
        (
            "kafka-server-start.sh",
            "[-daemon] server.properties [--override property=value]*",
        ),
    ] {
        let out = run_script(script, &[], b"", TOOL_TIMEOUT);
        out.assert_code(1, script);
        assert!(
            out.stdout.starts_with("USAGE: ") && out.stdout.trim_end().ends_with(usage),
            "{out}"
        );
    }
}

#[test]
fn stop_scripts_say_when_nothing_runs() {
    // An empty KAFKA_BIN_DIR: no process can be running from it, so nothing of anyone else's is
    // signalled.
    let empty = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let envs: HashMap<String, String> = [(
        "KAFKA_BIN_DIR".to_string(),
        empty.path().display().to_string(),
    )]
    .into();
    for (script, msg) in [
        ("kafka-server-stop.sh", "No kafka server to stop"),
        ("zookeeper-server-stop.sh", "No zookeeper server to stop"),
    ] {
        let out = run_command(script_command(script, &envs), b"", TOOL_TIMEOUT);
        out.assert_code(1, script);
        assert_eq!(out.stdout.trim(), msg, "{out}");
    }
}

/// `-daemon` runs the server in the background with its output in `$LOG_DIR/<name>.out`, and
/// the stop script finds it by its executable and stops it with SIGTERM.
#[test]
fn daemon_start_and_stop_script_round_trip() {
    // A private copy of the binary, so the stop script can only match our own daemon.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap_or_else(|e| panic!("mkdir: {e}"));
    std::fs::copy(e2e::binary("zookeeper-lite"), bin.join("zookeeper-lite"))
        .unwrap_or_else(|e| panic!("copying the binary: {e}"));
    let props = dir.path().join("zookeeper.properties");
    std::fs::write(
        &props,
        format!(
            "dataDir={}\nclientPort=0\nclientPortAddress=127.0.0.1\n",
            dir.path().join("data").display()
        ),
    )
    .unwrap_or_else(|e| panic!("writing {}: {e}", props.display()));
    let logs = dir.path().join("logs");
    let envs: HashMap<String, String> = [
        ("KAFKA_BIN_DIR".to_string(), bin.display().to_string()),
        ("LOG_DIR".to_string(), logs.display().to_string()),
    ]
    .into();

    let mut start = script_command("zookeeper-server-start.sh", &envs);
    start.arg("-daemon").arg(&props);
    let out = run_command(start, b"", TOOL_TIMEOUT);
    out.assert_success("zookeeper-server-start.sh -daemon");
    let pid: u32 = out
        .stderr
        .split("(pid ")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("the start script names the pid: {out}"));
    // Whatever happens below, this daemon is ours to end.
    let guard = KillOnDrop(pid);

    let out_file = logs.join("zookeeper.out");
    wait_until("the daemon to log its port", STARTUP_TIMEOUT, || {
        let text = std::fs::read_to_string(&out_file).ok()?;
        text.lines().find_map(e2e::listening_port)
    });

    let stop = run_command(
        script_command("zookeeper-server-stop.sh", &envs),
        b"",
        TOOL_TIMEOUT,
    );
    stop.assert_success("zookeeper-server-stop.sh");
    wait_until("the daemon to exit", STARTUP_TIMEOUT, || {
        (!process_alive(pid)).then_some(())
    });
    drop(guard);
}

struct KillOnDrop(u32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if process_alive(self.0) {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &self.0.to_string()])
                .status();
        }
    }
}

/// Alive = exists and is not a zombie (an orphan may wait a moment for init to reap it).
fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => false,
        Ok(stat) => {
            let state = stat
                .rsplit(')')
                .next()
                .and_then(|r| r.split_whitespace().next());
            state != Some("Z") && state != Some("X")
        }
    }
}

/// Kafka ships `bin/windows/*.bat` beside `bin/*.sh`; so do we, for every user-facing script.
#[test]
fn every_script_has_a_windows_counterpart() {
    // Helpers the .bat files do not need: they run the binaries through cargo directly.
    const HELPERS: [&str; 3] = [
        "kafka-run-class.sh",
        "stop-common.sh",
        "install-test-deps.sh",
    ];
    let scripts = e2e::repo_root().join("scripts");
    let entries = std::fs::read_dir(&scripts)
        .unwrap_or_else(|e| panic!("reading {}: {e}", scripts.display()));
    let mut checked = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(".sh") else {
            continue;
        };
        if HELPERS.contains(&name.as_str()) {
            continue;
        }
        let bat = scripts.join("windows").join(format!("{stem}.bat"));
        assert!(bat.is_file(), "{} has no {}", name, bat.display());
        checked += 1;
    }
    assert!(
        checked >= 8,
        "the seven scripts of the quickstart and kafka-consumer-groups.sh"
    );
}
