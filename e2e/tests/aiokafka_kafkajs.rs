//! Two more real clients against our broker: aiokafka (Python asyncio, `e2e/python/
//! aiokafka_client.py`) and KafkaJS (Node.js, `e2e/js/kafkajs_client.js`, with the kafkajs-snappy
//! and kafkajs-lz4 codecs). For each: produce with keys, headers and every codec the client has,
//! consume it back, a group of two that rebalances, commit and resume, admin create /
//! describe / delete, and transactions (KIP-98): a transactional producer commits 10 records,
//! aborts 10 and commits 1, and the client's `read_committed` consumer reads exactly the 11
//! committed ones, its `read_uncommitted` consumer all 21. Our console consumer also reads back
//! what each client produced.
//!
//! `scripts/install-test-deps.sh` (run by `./test.sh` and `.ci/run`) installs both clients: aiokafka
//! into `.venv`, KafkaJS into `e2e/js/node_modules` from the committed `package-lock.json`. A
//! missing client fails these tests with the command to run; they are never skipped.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use e2e::{repo_root, run_command, run_tool, Cluster, TOOL_TIMEOUT};

const SCRIPT_TIMEOUT: Duration = Duration::from_secs(240);
const INSTALL: &str = "run scripts/install-test-deps.sh (./test.sh does)";

#[derive(Clone, Copy)]
enum Client {
    AioKafka,
    KafkaJs,
}

impl Client {
    fn command(self) -> Command {
        match self {
            Client::AioKafka => {
                let python = std::env::var_os("KAFKA_E2E_PYTHON")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| repo_root().join(".venv/bin/python"));
                assert!(
                    python.exists(),
                    "aiokafka: no Python interpreter at {}: {INSTALL}, or set KAFKA_E2E_PYTHON",
                    python.display()
                );
                let mut cmd = Command::new(python);
                cmd.arg(repo_root().join("e2e/python/aiokafka_client.py"))
                    .env("PYTHONUNBUFFERED", "1")
                    .env("PYTHONDONTWRITEBYTECODE", "1");
                cmd
            }
            Client::KafkaJs => {
                let js = repo_root().join("e2e/js");
                assert!(
                    js.join("node_modules/kafkajs/package.json").is_file()
                        && js.join("node_modules/kafkajs-lz4/package.json").is_file()
                        && js
                            .join("node_modules/kafkajs-snappy/package.json")
                            .is_file(),
                    "KafkaJS is not installed in {}: {INSTALL}",
                    js.display()
                );
                let mut cmd = Command::new("node");
                cmd.arg(js.join("kafkajs_client.js"))
                    .env("KAFKAJS_NO_PARTITIONER_WARNING", "1");
                cmd
            }
        }
    }

    fn name(self) -> &'static str {
        match self {
            Client::AioKafka => "aiokafka",
            Client::KafkaJs => "kafkajs",
        }
    }
}

/// Runs one scenario of `client` and returns its `OK ...` line (and the whole stdout).
fn run(client: Client, cluster: &Cluster, scenario: &str, topic: &str) -> (String, String) {
    let mut cmd = client.command();
    cmd.args([scenario, &cluster.bootstrap(), topic]);
    let out = run_command(cmd, b"", SCRIPT_TIMEOUT);
    out.assert_success(&format!("{} {scenario}", client.name()));
    let ok = out
        .stdout
        .lines()
        .find(|l| l.starts_with(&format!("OK {scenario}")))
        .unwrap_or_else(|| panic!("{} {scenario} printed no OK line: {out}", client.name()))
        .to_string();
    (ok, out.stdout)
}

fn roundtrip(client: Client, codecs: &[&str]) {
    let cluster = Cluster::start();
    let topic = format!("{}-roundtrip", client.name());
    cluster.create_topic(&topic, 3);
    let (ok, stdout) = run(client, &cluster, "roundtrip", &topic);
    assert!(
        ok.ends_with(&format!("codecs {}", codecs.join(","))),
        "{ok}"
    );
    let n: usize = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RECORDS "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no RECORDS line: {stdout}"));
    // Our console consumer reads everything the client wrote, every codec included.
    let out = cluster.consume_with_headers(&topic, n);
    for codec in codecs {
        assert!(
            out.stdout
                .contains(&format!("codec:{codec},i:1\t{codec}-value-1-")),
            "records compressed with {codec} are readable by our consumer: {out}"
        );
    }
}

fn group(client: Client) {
    let cluster = Cluster::start();
    let topic = format!("{}-group", client.name());
    cluster.create_topic(&topic, 3);
    let (ok, _) = run(client, &cluster, "group", &topic);
    assert!(
        ok.ends_with("[0,1,2] after leave") || ok.ends_with("[0, 1, 2] after leave"),
        "{ok}"
    );
}

fn resume(client: Client) {
    let cluster = Cluster::start();
    let topic = format!("{}-resume", client.name());
    cluster.create_topic(&topic, 3);
    run(client, &cluster, "resume", &topic);
    // Our own tool sees the group's committed offsets: nothing past what the first member read.
    let bs = cluster.bootstrap();
    let group = format!("{topic}-resume");
    let out = run_tool(
        "kafka-consumer-groups",
        &["--bootstrap-server", &bs, "--describe", "--group", &group],
        b"",
        TOOL_TIMEOUT,
    );
    out.assert_success("kafka-consumer-groups --describe");
    assert!(out.stdout.contains(&topic), "{out}");
}

fn admin(client: Client) {
    let cluster = Cluster::start();
    let topic = format!("{}-admin", client.name());
    let (ok, _) = run(client, &cluster, "admin", &topic);
    let meta = std::fs::read_to_string(cluster.broker.log_dir().join("meta.properties"))
        .unwrap_or_else(|e| panic!("meta.properties: {e}"));
    let id = meta
        .lines()
        .find_map(|l| l.strip_prefix("cluster.id="))
        .unwrap_or_else(|| panic!("{meta}"));
    assert!(ok.ends_with(&format!("cluster {id}")), "{ok} vs {meta}");
    let out = cluster.topics(&["--list"]);
    assert!(!out.stdout.lines().any(|l| l == topic), "deleted: {out}");
}

/// Commit 10, abort 10, commit 1, value i of a transaction on partition i % 3: both isolation
/// levels read up to the partitions' ends, in order per partition and never a marker; each
/// partition ends after its records and one marker per transaction that wrote to it (partition
/// 0: 4 + 1 + 4 + 1 + 1 + 1, partitions 1 and 2: 3 + 1 + 3 + 1).
fn transactions(client: Client) {
    let cluster = Cluster::start();
    let topic = format!("{}-txn", client.name());
    cluster.create_topic(&topic, 3);
    let (ok, stdout) = run(client, &cluster, "txn", &topic);
    let ends = match client {
        Client::AioKafka => "[12, 8, 8]",
        Client::KafkaJs => "[12,8,8]",
    };
    assert_eq!(
        ok,
        format!("OK txn committed 11 uncommitted 21 ends {ends}"),
        "{stdout}"
    );
}

#[test]
fn aiokafka_round_trips_keys_headers_and_every_codec() {
    roundtrip(Client::AioKafka, &["none", "gzip", "snappy", "lz4", "zstd"]);
}

#[test]
fn aiokafka_group_of_two_rebalances_on_join_and_leave() {
    group(Client::AioKafka);
}

#[test]
fn aiokafka_commits_and_a_new_member_resumes_there() {
    resume(Client::AioKafka);
}

#[test]
fn aiokafka_admin_creates_describes_and_deletes() {
    admin(Client::AioKafka);
}

#[test]
fn kafkajs_round_trips_keys_headers_and_its_codecs() {
    roundtrip(Client::KafkaJs, &["none", "gzip", "snappy", "lz4"]);
}

#[test]
fn kafkajs_group_of_two_rebalances_on_join_and_leave() {
    group(Client::KafkaJs);
}

#[test]
fn kafkajs_commits_and_a_new_member_resumes_there() {
    resume(Client::KafkaJs);
}

#[test]
fn kafkajs_admin_creates_describes_and_deletes() {
    admin(Client::KafkaJs);
}

#[test]
fn aiokafka_transactions_read_committed_sees_only_committed_records() {
    transactions(Client::AioKafka);
}

#[test]
fn kafkajs_transactions_read_committed_sees_only_committed_records() {
    transactions(Client::KafkaJs);
}
