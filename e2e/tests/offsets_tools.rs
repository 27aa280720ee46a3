#![allow(clippy::unwrap_used)]
//! DeleteRecords and DescribeLogDirs end to end, through Kafka 3.9's three tools that use them
//! (or ListOffsets): `kafka-get-offsets` (GetOffsetShell), `kafka-delete-records`
//! (DeleteRecordsCommand) and `kafka-log-dirs` (LogDirsCommand), their main options, output and
//! error texts against a real broker; real clients (kcat, kafka-python, confluent-kafka) reading
//! from the new log start and calling both APIs; and, on three brokers, deleted records staying
//! deleted when the leader is killed and when brokers restart (the followers take the leader's
//! log start offset from their fetches and checkpoint it).

use std::process::Command;
use std::time::Duration;

use client::producer::{Producer, ProducerConfig, ProducerRecord};
use e2e::{
    have_kcat, python, run_command, run_script, run_tool, wait_until, Cluster, ThreeBrokers,
    ToolOutput, TOOL_TIMEOUT,
};

/// How long brokers may take to agree on a new leader or an ISR.
const CONVERGE: Duration = Duration::from_secs(60);

/// Sends `count` keyed records to `partition` of `topic` (acks=all) and waits for every one.
fn produce(bootstrap: &str, topic: &str, partition: i32, count: usize) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let producer = Producer::new(ProducerConfig {
            bootstrap_servers: bootstrap.to_string(),
            acks: -1,
            ..Default::default()
        })
        .await
        .unwrap();
        let mut acks = Vec::new();
        for i in 0..count {
            let record = ProducerRecord::new(topic, format!("value-{i}"))
                .with_key(format!("key-{i}"))
                .with_partition(partition);
            acks.push(producer.send(record).await.unwrap());
        }
        producer.flush().await.unwrap();
        for ack in acks {
            ack.await.unwrap();
        }
    });
}

fn tool(name: &str, bootstrap: &str, args: &[&str]) -> ToolOutput {
    let mut full = vec!["--bootstrap-server", bootstrap];
    full.extend_from_slice(args);
    run_tool(name, &full, b"", TOOL_TIMEOUT)
}

/// stdout of a run that must exit 0 with nothing on stderr.
fn ok(out: &ToolOutput, what: &str) -> String {
    out.assert_success(what);
    assert_eq!(out.stderr, "", "{what}: {out}");
    out.stdout.clone()
}

/// stderr of a run that must exit 1 with nothing on stdout.
fn fails(out: &ToolOutput, what: &str) -> String {
    out.assert_code(1, what);
    assert_eq!(out.stdout, "", "{what}: {out}");
    out.stderr.clone()
}

fn get_offsets(bootstrap: &str, args: &[&str]) -> ToolOutput {
    tool("kafka-get-offsets", bootstrap, args)
}

/// Writes `json` to a file in `dir` and runs kafka-delete-records with it (and `extra`).
fn delete_records(
    bootstrap: &str,
    dir: &std::path::Path,
    json: &str,
    extra: &[&str],
) -> ToolOutput {
    let file = dir.join("offsets.json");
    std::fs::write(&file, json).unwrap();
    let path = file.display().to_string();
    let mut args = vec!["--offset-json-file", path.as_str()];
    args.extend_from_slice(extra);
    tool("kafka-delete-records", bootstrap, &args)
}

fn one_partition(topic: &str, partition: i32, offset: i64) -> String {
    format!(
        "{{\"partitions\":[{{\"topic\":\"{topic}\",\"partition\":{partition},\"offset\":{offset}}}],\"version\":1}}"
    )
}

/// What kafka-delete-records prints for partitions that all succeed or fail as `lines` say.
fn deleted(lines: &[&str]) -> String {
    let mut out =
        "Executing records delete operation\nRecords delete operation completed:\n".to_string();
    for l in lines {
        out.push_str(l);
        out.push('\n');
    }
    out
}

#[test]
fn get_offsets_delete_records_and_log_dirs_against_one_broker() {
    let cluster = Cluster::start();
    let bs = cluster.bootstrap();
    let work = tempfile::tempdir().unwrap();
    cluster.create_topic("records", 1);
    cluster.create_topic("spread", 3);
    cluster.topics(&[
        "--create",
        "--topic",
        "compacted",
        "--partitions",
        "1",
        "--replication-factor",
        "1",
        "--config",
        "cleanup.policy=compact",
    ]);
    produce(&bs, "records", 0, 10);
    produce(&bs, "spread", 0, 2);
    produce(&bs, "spread", 1, 3);
    produce(&bs, "compacted", 0, 1);

    // kafka-get-offsets: latest by default, sorted by topic-partition; --topic-partitions
    // patterns; the named special times; --broker-list still accepted.
    let out = get_offsets(&bs, &["--topic", "spread"]);
    assert_eq!(
        ok(&out, "get-offsets --topic"),
        "spread:0:2\nspread:1:3\nspread:2:0\n"
    );
    let out = get_offsets(
        &bs,
        &[
            "--topic-partitions",
            "records,spread:1-3",
            "--time",
            "earliest",
        ],
    );
    assert_eq!(
        ok(&out, "get-offsets --topic-partitions"),
        "records:0:0\nspread:1:0\nspread:2:0\n"
    );
    let out = get_offsets(
        &bs,
        &["--topic", "rec.*", "--partitions", "0", "--time", "-1"],
    );
    assert_eq!(ok(&out, "get-offsets --time -1"), "records:0:10\n");
    let out = get_offsets(&bs, &["--topic", "records", "--time", "earliest-local"]);
    assert_eq!(ok(&out, "earliest-local"), "records:0:0\n");
    // No tiered storage: no offset, so no line.
    let out = get_offsets(&bs, &["--topic", "records", "--time", "latest-tiered"]);
    assert_eq!(ok(&out, "latest-tiered"), "");
    let out = get_offsets(&bs, &["--topic", "records", "--time", "max-timestamp"]);
    let line = ok(&out, "max-timestamp");
    let offset: i64 = line
        .trim()
        .strip_prefix("records:0:")
        .unwrap_or_else(|| panic!("{line}"))
        .parse()
        .unwrap();
    assert!((0..10).contains(&offset), "{line}");
    let out = run_tool(
        "kafka-get-offsets",
        &[
            "--broker-list",
            &bs,
            "--topic",
            "spread",
            "--partitions",
            "1",
        ],
        b"",
        TOOL_TIMEOUT,
    );
    assert_eq!(ok(&out, "--broker-list"), "spread:1:3\n");
    // The bin-style wrappers run the same tools.
    let out = run_script(
        "kafka-get-offsets.sh",
        &[
            "--bootstrap-server",
            &bs,
            "--topic",
            "spread",
            "--partitions",
            "2",
        ],
        b"",
        TOOL_TIMEOUT,
    );
    assert_eq!(ok(&out, "kafka-get-offsets.sh"), "spread:2:0\n");
    for script in ["kafka-delete-records.sh", "kafka-log-dirs.sh"] {
        let out = run_script(script, &["--version"], b"", TOOL_TIMEOUT);
        assert_eq!(ok(&out, script), "3.9.1\n");
    }

    // kafka-get-offsets' errors.
    for (args, expected) in [
        (
            vec!["--topic-partitions", "records", "--topic", "records"],
            "Error occurred: --topic-partitions cannot be used with --topic or --partitions\n",
        ),
        (
            vec!["--topic", "records", "--time", "yesterday"],
            "Error occurred: Malformed time argument yesterday. Please use -1 or latest / -2 or earliest / -3 or max-timestamp / -4 or earliest-local / -5 or latest-tiered, or a specified long format timestamp\n",
        ),
        (
            vec!["--topic", "records", "--partitions", "0,x"],
            "Error occurred: --partitions expects a comma separated list of numeric partition ids, but received: 0,x\n",
        ),
        (
            vec!["--topic", "__.*", "--exclude-internal-topics"],
            "Error occurred: Could not match any topic-partitions with the specified filters\n",
        ),
        (
            vec!["--topic", "records", "--bogus"],
            "Error occurred: bogus is not a recognized option\n",
        ),
    ] {
        let out = get_offsets(&bs, &args);
        assert_eq!(fails(&out, &format!("{args:?}")), expected);
    }
    let out = get_offsets(&bs, &["--topic-partitions", "records:x"]);
    assert!(
        fails(&out, "bad rule").starts_with(
            "Error occurred: org.apache.kafka.tools.TerseException: Invalid rule specification: records:x\n\
             java.lang.RuntimeException: org.apache.kafka.tools.TerseException: Invalid rule specification: records:x\n"
        ),
        "{out}"
    );
    let out = run_tool("kafka-get-offsets", &["--topic", "t"], b"", TOOL_TIMEOUT);
    assert_eq!(
        fails(&out, "no bootstrap"),
        "Error occurred: Missing required option(s) [bootstrap-server]\n"
    );
    let out = run_tool(
        "kafka-get-offsets",
        &["--bootstrap-server", "localhost"],
        b"",
        TOOL_TIMEOUT,
    );
    assert!(
        fails(&out, "no port")
            .starts_with("Please provide valid host:port like host1:9091,host2:9092\n\nOption"),
        "{out}"
    );
    let out = run_tool("kafka-get-offsets", &[], b"", TOOL_TIMEOUT);
    assert!(
        fails(&out, "no args")
            .starts_with("An interactive shell for getting topic-partition offsets.\nOption"),
        "{out}"
    );

    // kafka-delete-records: records below 4 go; reads and ListOffsets start there.
    let out = delete_records(&bs, work.path(), &one_partition("records", 0, 4), &[]);
    assert_eq!(
        ok(&out, "delete to 4"),
        deleted(&["partition: records-0\tlow_watermark: 4"])
    );
    let out = get_offsets(&bs, &["--topic", "records", "--time", "earliest"]);
    assert_eq!(ok(&out, "earliest after delete"), "records:0:4\n");
    if have_kcat() {
        let mut cmd = Command::new("kcat");
        cmd.args([
            "-C",
            "-b",
            &bs,
            "-t",
            "records",
            "-o",
            "beginning",
            "-e",
            "-q",
        ])
        .args(["-f", "%o %s\n"]);
        let out = run_command(cmd, b"", TOOL_TIMEOUT);
        out.assert_success("kcat -o beginning");
        let first = out.stdout.lines().next().unwrap_or_default().to_string();
        assert_eq!(
            first, "4 value-4",
            "kcat reads from the new log start: {out}"
        );
        assert_eq!(out.stdout.lines().count(), 6, "{out}");
    }

    // Per-partition errors are lines of the output, and the command still succeeds.
    let out = delete_records(&bs, work.path(), &one_partition("records", 0, 100), &[]);
    assert_eq!(
        ok(&out, "past the high watermark"),
        deleted(&["partition: records-0\terror: org.apache.kafka.common.errors.OffsetOutOfRangeException: The requested offset is not within the range of offsets maintained by the server."])
    );
    let out = delete_records(&bs, work.path(), &one_partition("compacted", 0, 1), &[]);
    assert_eq!(
        ok(&out, "compacted topic"),
        deleted(&["partition: compacted-0\terror: org.apache.kafka.common.errors.PolicyViolationException: Request parameters do not satisfy the configured policy."])
    );
    // A topic that does not exist is looked up until the API timeout, as Kafka's admin does.
    let config = work.path().join("admin.properties");
    std::fs::write(&config, "default.api.timeout.ms=1500\n").unwrap();
    let config = config.display().to_string();
    let out = delete_records(
        &bs,
        work.path(),
        &one_partition("nowhere", 0, 1),
        &["--command-config", &config],
    );
    assert_eq!(
        ok(&out, "unknown topic"),
        deleted(&["partition: nowhere-0\terror: org.apache.kafka.common.errors.TimeoutException: Timed out waiting for a node assignment. Call: deleteRecords(api=METADATA)"])
    );
    // Two partitions, in the order of Kafka's result map; -1 is the high watermark.
    let both = "{\"partitions\":[{\"topic\":\"spread\",\"partition\":1,\"offset\":-1},{\"topic\":\"records\",\"partition\":0,\"offset\":-1}]}";
    let out = delete_records(&bs, work.path(), both, &[]);
    assert_eq!(
        ok(&out, "to the high watermark"),
        deleted(&[
            "partition: records-0\tlow_watermark: 10",
            "partition: spread-1\tlow_watermark: 3",
        ])
    );
    let out = get_offsets(
        &bs,
        &["--topic-partitions", "records,spread:1", "--time", "-2"],
    );
    assert_eq!(ok(&out, "earliest = latest"), "records:0:10\nspread:1:3\n");

    // kafka-delete-records' errors.
    let dup = "{\"partitions\":[{\"topic\":\"records\",\"partition\":0,\"offset\":1},{\"topic\":\"records\",\"partition\":0,\"offset\":2}],\"version\":1}";
    let out = delete_records(&bs, work.path(), dup, &[]);
    assert_eq!(
        fails(&out, "duplicates"),
        "Offset json file contains duplicate topic partitions: records-0\n\
         org.apache.kafka.server.common.AdminCommandFailedException: Offset json file contains duplicate topic partitions: records-0\n"
    );
    let out = delete_records(&bs, work.path(), "{\"partitions\":", &[]);
    assert!(
        fails(&out, "bad json").starts_with("The input string is not a valid JSON\n"),
        "{out}"
    );
    let out = delete_records(&bs, work.path(), "{\"version\":2,\"partitions\":[]}", &[]);
    assert!(
        fails(&out, "version 2").starts_with("Not supported version field value 2\n"),
        "{out}"
    );
    let out = delete_records(
        &bs,
        work.path(),
        "{\"partitions\":[{\"topic\":\"records\",\"partition\":\"0\",\"offset\":1}]}",
        &[],
    );
    assert!(
        fails(&out, "string partition").starts_with("Expected `Integer` value, received \"0\"\n"),
        "{out}"
    );
    let missing = work.path().join("missing.json").display().to_string();
    let out = tool(
        "kafka-delete-records",
        &bs,
        &["--offset-json-file", &missing],
    );
    assert_eq!(
        fails(&out, "missing file"),
        format!("{missing}\njava.nio.file.NoSuchFileException: {missing}\n")
    );
    let out = tool("kafka-delete-records", &bs, &[]);
    assert!(
        fails(&out, "no file")
            .starts_with("Missing required argument \"[offset-json-file]\"\nOption"),
        "{out}"
    );

    // kafka-log-dirs: the broker's one directory with every partition (sizes in bytes), in
    // Kafka's JSON layout; --topic-list filters.
    let out = tool("kafka-log-dirs", &bs, &["--describe"]);
    let stdout = ok(&out, "log-dirs --describe");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert_eq!(lines[0], "Querying brokers for log directories information");
    assert_eq!(
        lines[1],
        "Received log directory information from brokers 0"
    );
    let log_dir = std::path::absolute(cluster.broker.log_dir()).unwrap();
    assert!(
        lines[2].starts_with(
            "{\"brokers\":[{\"broker\":0,\"logDirs\":[{\"partitions\":[{\"partition\":"
        ),
        "{}",
        lines[2]
    );
    assert!(
        lines[2].ends_with(&format!(
            "}}],\"error\":null,\"logDir\":\"{}\"}}]}}],\"version\":1}}",
            log_dir.display()
        )),
        "{}",
        lines[2]
    );
    let json: serde_json::Value = serde_json::from_str(lines[2]).unwrap();
    let partitions = json["brokers"][0]["logDirs"][0]["partitions"]
        .as_array()
        .unwrap();
    let records = partitions
        .iter()
        .find(|p| p["partition"] == "records-0")
        .unwrap_or_else(|| panic!("{}", lines[2]));
    assert!(records["size"].as_i64().unwrap() > 0, "{records}");
    assert_eq!(records["offsetLag"], 0);
    assert_eq!(records["isFuture"], false);
    // The size is the bytes of the partition's segment files (`UnifiedLog.size`).
    let on_disk: u64 = std::fs::read_dir(cluster.broker.partition_dir("records", 0))
        .unwrap()
        .filter_map(|e| {
            let e = e.unwrap();
            (e.path().extension().is_some_and(|x| x == "log")).then(|| e.metadata().unwrap().len())
        })
        .sum();
    assert_eq!(records["size"].as_u64(), Some(on_disk), "{records}");
    let spread2 = partitions
        .iter()
        .find(|p| p["partition"] == "spread-2")
        .unwrap();
    assert_eq!(spread2["size"], 0, "{spread2}");

    let out = tool(
        "kafka-log-dirs",
        &bs,
        &["--describe", "--topic-list", "spread", "--broker-list", "0"],
    );
    let stdout = ok(&out, "log-dirs --topic-list");
    let json: serde_json::Value = serde_json::from_str(stdout.lines().nth(2).unwrap()).unwrap();
    let mut names: Vec<String> = json["brokers"][0]["logDirs"][0]["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["partition"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["spread-0", "spread-1", "spread-2"]);

    // kafka-log-dirs' errors.
    let out = tool(
        "kafka-log-dirs",
        &bs,
        &["--describe", "--broker-list", "0,5"],
    );
    assert_eq!(
        fails(&out, "unknown broker"),
        "ERROR: The given brokers do not exist from --broker-list: 5. Current existent brokers: 0\n"
    );
    let out = tool("kafka-log-dirs", &bs, &["--describe", "--broker-list", "x"]);
    assert_eq!(
        fails(&out, "bad broker id"),
        "For input string: \"x\"\njava.lang.NumberFormatException: For input string: \"x\"\n"
    );
    let out = tool("kafka-log-dirs", &bs, &[]);
    assert!(
        fails(&out, "no --describe")
            .starts_with("Missing required argument \"[describe]\"\nOption"),
        "{out}"
    );

    // Real clients call both APIs: confluent-kafka's delete_records, kafka-python's
    // describe_log_dirs.
    if let Some(python) = python() {
        produce(&bs, "records", 0, 5);
        let script = r#"
import sys
from confluent_kafka import TopicPartition
from confluent_kafka.admin import AdminClient
from kafka.admin import KafkaAdminClient
bs = sys.argv[1]
admin = AdminClient({"bootstrap.servers": bs})
for tp, f in admin.delete_records([TopicPartition("records", 0, 12)]).items():
    print("deleted", tp.topic, tp.partition, f.result(timeout=30).low_watermark)
kp = KafkaAdminClient(bootstrap_servers=bs)
answer = repr(kp.describe_log_dirs())
print("logdir", "'records'" in answer and "'spread'" in answer, answer)
kp.close()
"#;
        let mut cmd = Command::new(python);
        cmd.args(["-c", script, &bs]);
        let out = run_command(cmd, b"", TOOL_TIMEOUT);
        out.assert_success("python admin clients");
        assert!(
            out.stdout.contains("deleted records 0 12\n"),
            "confluent-kafka delete_records: {out}"
        );
        assert!(
            out.stdout.contains("logdir True "),
            "kafka-python describe_log_dirs: {out}"
        );
        let out = get_offsets(&bs, &["--topic", "records", "--time", "earliest"]);
        assert_eq!(ok(&out, "earliest after confluent"), "records:0:12\n");
    }
}

/// Partition 0 of `topic`: (leader, sorted ISR), as kafka-topics --describe shows it.
fn leader_and_isr(cluster: &mut ThreeBrokers, topic: &str) -> Option<(i32, Vec<i32>)> {
    let out = cluster.topics(&["--describe", "--topic", topic]);
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains(&format!("Topic: {topic}\tPartition: 0\t")))?
        .to_string();
    let field = |name: &str| {
        line.split('\t')
            .find_map(|f| f.strip_prefix(&format!("{name}: ")))
            .map(str::to_string)
    };
    let mut isr: Vec<i32> = field("Isr")?
        .split(',')
        .filter_map(|b| b.parse().ok())
        .collect();
    isr.sort_unstable();
    Some((field("Leader")?.parse().ok()?, isr))
}

fn earliest(cluster: &mut ThreeBrokers, topic: &str) -> String {
    let bs = cluster.bootstrap();
    let out = get_offsets(&bs, &["--topic", topic, "--time", "earliest"]);
    out.assert_success("earliest");
    out.stdout
}

#[test]
fn deleted_records_stay_deleted_on_a_new_leader_and_after_restarts() {
    let mut cluster = ThreeBrokers::start(&[("auto.leader.rebalance.enable", "false")]);
    let out = cluster.topics(&[
        "--create",
        "--topic",
        "purge",
        "--replica-assignment",
        "0:1:2",
    ]);
    out.assert_success("create purge");
    wait_until("purge-0 led by 0 with the full ISR", CONVERGE, || {
        (leader_and_isr(&mut cluster, "purge")? == (0, vec![0, 1, 2])).then_some(())
    });
    let bs = cluster.bootstrap();
    produce(&bs, "purge", 0, 20);

    // The answer waits until every replica deleted (Kafka's DelayedDeleteRecords): the low
    // watermark is the offset asked for.
    let work = tempfile::tempdir().unwrap();
    let out = delete_records(&bs, work.path(), &one_partition("purge", 0, 12), &[]);
    assert_eq!(
        ok(&out, "delete on three replicas"),
        deleted(&["partition: purge-0\tlow_watermark: 12"])
    );
    let out = tool(
        "kafka-log-dirs",
        &bs,
        &["--describe", "--topic-list", "purge"],
    );
    let stdout = ok(&out, "log-dirs on three brokers");
    assert_eq!(
        stdout.lines().nth(1),
        Some("Received log directory information from brokers 0,1,2")
    );
    assert_eq!(
        stdout.matches("\"partition\":\"purge-0\"").count(),
        3,
        "{stdout}"
    );

    // The leader dies: the new one (a follower that took the log start from its fetches)
    // starts at 12 too.
    cluster.broker(0).kill9();
    let new_leader = wait_until("a new leader for purge-0", CONVERGE, || {
        let (leader, _) = leader_and_isr(&mut cluster, "purge")?;
        (leader == 1 || leader == 2).then_some(leader)
    });
    assert_eq!(earliest(&mut cluster, "purge"), "purge:0:12\n");

    // Broker 0 comes back (its checkpoint says 12) and catches up; then the new leader dies and
    // a restarted replica leads: still 12.
    cluster.broker(0).restart();
    wait_until("broker 0 back in the ISR", CONVERGE, || {
        let (_, isr) = leader_and_isr(&mut cluster, "purge")?;
        (isr == [0, 1, 2]).then_some(())
    });
    cluster.broker(new_leader).kill9();
    wait_until("another leader for purge-0", CONVERGE, || {
        let (leader, _) = leader_and_isr(&mut cluster, "purge")?;
        (leader != new_leader && leader >= 0).then_some(())
    });
    assert_eq!(earliest(&mut cluster, "purge"), "purge:0:12\n");
    let bs = cluster.bootstrap();
    let out = get_offsets(&bs, &["--topic", "purge"]);
    assert_eq!(ok(&out, "latest"), "purge:0:20\n");
}
