//! Transactions (KIP-98) with real clients: kafka-python and confluent-kafka (librdkafka) run
//! `e2e/python/txn_clients.py` against our brokers.
//!
//! - commit 10, abort 10, commit 1: `read_committed` sees exactly the 11 committed records,
//!   `read_uncommitted` all 21 and never a transaction marker;
//! - a zombie producer is fenced once a new one with its transactional id initialises;
//! - a transaction whose producer was killed is aborted after its `transaction.timeout.ms`, and
//!   `read_committed` readers move past it;
//! - consume-transform-produce with `send_offsets_to_transaction`, `kill -9` of the application
//!   and a restart: the output holds every input record exactly once;
//! - three brokers, the transaction coordinator killed with `kill -9` while a producer commits:
//!   every transaction is seen whole or not at all.
//!
//! The interpreter is `$KAFKA_E2E_PYTHON`, else `.venv/bin/python` (see `e2e::python`). The other
//! real clients' transaction tests live with those clients: `java_client.rs` (kafka-clients),
//! `aiokafka_kafkajs.rs` (aiokafka, KafkaJS) and `kcat.rs`.

// Helpers outside `#[test]` functions fail the test they serve.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use e2e::{python, repo_root, run_command, run_tool, Cluster, Process, ThreeBrokers, TOOL_TIMEOUT};

const SCRIPT_TIMEOUT: Duration = Duration::from_secs(240);
const DEADLINE: Duration = Duration::from_secs(120);

fn script() -> PathBuf {
    repo_root().join("e2e/python/txn_clients.py")
}

fn run_script(python: &Path, args: &[&str]) -> e2e::ToolOutput {
    let mut cmd = Command::new(python);
    cmd.arg(script())
        .args(args)
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    run_command(cmd, b"", SCRIPT_TIMEOUT)
}

fn spawn_script(python: &Path, name: &str, args: &[&str]) -> Process {
    let mut all = vec![script().display().to_string()];
    all.extend(args.iter().map(|s| s.to_string()));
    Process::spawn(
        name,
        python,
        all,
        vec![
            ("PYTHONUNBUFFERED".to_string(), "1".to_string()),
            ("PYTHONDONTWRITEBYTECODE".to_string(), "1".to_string()),
        ],
    )
}

/// The broker settings of these tests: one broker, so the internal topics get one replica, and
/// expired transactions looked for every second rather than every ten.
fn cluster() -> Cluster {
    Cluster::start_with(&[(
        "transaction.abort.timed.out.transaction.cleanup.interval.ms",
        "1000",
    )])
}

/// What a `read_committed` reader of `topic` reads (every partition from the start), waiting
/// until `want` values arrived.
fn read_committed(python: &Path, bootstrap: &str, topic: &str, want: usize) -> Vec<String> {
    let want_s = want.to_string();
    let out = run_script(python, &["count", "-", bootstrap, topic, &want_s, "90"]);
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("READ "))
        .unwrap_or_else(|| panic!("the reader prints READ: {out}"));
    let values: Vec<String> = line
        .split_whitespace()
        .skip(2)
        .map(str::to_string)
        .collect();
    assert_eq!(values.len(), want, "read_committed of {topic}: {out}");
    values
}

fn commit_abort_commit(client: &str) {
    let Some(python) = python() else { return };
    let cluster = cluster();
    let topic = format!("txn-basic-{client}");
    cluster.create_topic(&topic, 3);
    let out = run_script(&python, &["basic", client, &cluster.bootstrap(), &topic]);
    out.assert_success(&format!("{client} commit 10, abort 10, commit 1"));
    assert!(
        out.stdout.contains("COMMITTED 11 UNCOMMITTED 21"),
        "read_committed sees 11, read_uncommitted 21: {out}"
    );
}

#[test]
fn kafka_python_read_committed_sees_only_committed_records() {
    commit_abort_commit("kafka-python");
}

#[test]
fn confluent_kafka_read_committed_sees_only_committed_records() {
    commit_abort_commit("confluent-kafka");
}

fn zombie_is_fenced(client: &str) {
    let Some(python) = python() else { return };
    let cluster = cluster();
    let topic = format!("txn-fence-{client}");
    cluster.create_topic(&topic, 1);
    let out = run_script(&python, &["fence", client, &cluster.bootstrap(), &topic]);
    out.assert_success(&format!("{client} zombie fencing"));
    assert!(out.stdout.contains("FENCED "), "{out}");
    assert!(out.stdout.contains("NEW COMMITTED 1"), "{out}");
}

#[test]
fn kafka_python_zombie_producer_is_fenced() {
    zombie_is_fenced("kafka-python");
}

#[test]
fn confluent_kafka_zombie_producer_is_fenced() {
    zombie_is_fenced("confluent-kafka");
}

/// A producer killed inside a transaction: its transaction stays open (read_committed readers
/// wait at its first offset) until `transaction.timeout.ms` passes and the coordinator aborts
/// it; then readers see what was committed after it.
#[test]
fn transaction_of_a_dead_producer_is_aborted_after_its_timeout() {
    let Some(python) = python() else { return };
    let cluster = cluster();
    let bootstrap = cluster.bootstrap();
    let topic = "txn-hanging";
    cluster.create_topic(topic, 1);
    let mut hanging = spawn_script(
        &python,
        "hanging producer",
        &[
            "hang",
            "confluent-kafka",
            &bootstrap,
            topic,
            "hanging-txn",
            "5000",
        ],
    );
    hanging.wait_for_line("the open transaction", DEADLINE, |l| l == "OPEN");
    hanging.kill9();
    let out = run_script(
        &python,
        &[
            "commit1",
            "kafka-python",
            &bootstrap,
            topic,
            "after-txn",
            "after-hang",
        ],
    );
    out.assert_success("a transaction committed after the hanging one");
    let values = read_committed(&python, &bootstrap, topic, 1);
    assert_eq!(values, vec!["after-hang".to_string()]);
}

fn produce_lines(bootstrap: &str, topic: &str, lines: &[String]) {
    let mut input = lines.join("\n");
    input.push('\n');
    run_tool(
        "kafka-console-producer",
        &["--bootstrap-server", bootstrap, "--topic", topic],
        input.as_bytes(),
        TOOL_TIMEOUT,
    )
    .assert_success("kafka-console-producer");
}

fn exactly_once_after_kill(client: &str) {
    let Some(python) = python() else { return };
    let cluster = cluster();
    let bootstrap = cluster.bootstrap();
    let input = format!("ctp-in-{client}");
    let output = format!("ctp-out-{client}");
    cluster.create_topic(&input, 3);
    cluster.create_topic(&output, 3);
    let total = 300;
    let lines: Vec<String> = (0..total).map(|i| format!("rec-{i}")).collect();
    produce_lines(&bootstrap, &input, &lines);
    let group = format!("ctp-{client}");
    let txn_id = format!("ctp-{client}");
    let total_s = total.to_string();
    let args = [
        "ctp", client, &bootstrap, &input, &group, &output, &txn_id, &total_s,
    ];
    let mut app = spawn_script(&python, "consume-transform-produce", &args);
    app.wait_for_line("a few committed transactions", DEADLINE, |l| {
        l.strip_prefix("DONE ")
            .and_then(|n| n.parse::<usize>().ok())
            .is_some_and(|n| n >= 50)
    });
    app.kill9();
    app.respawn();
    let values = read_committed(&python, &bootstrap, &output, total);
    app.kill9();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for v in values {
        *seen.entry(v).or_default() += 1;
    }
    let want: BTreeMap<String, usize> = lines.iter().map(|l| (l.to_uppercase(), 1)).collect();
    assert_eq!(seen, want, "every input record exactly once in the output");
}

#[test]
fn kafka_python_consume_transform_produce_is_exactly_once_across_kill_9() {
    exactly_once_after_kill("kafka-python");
}

#[test]
fn confluent_kafka_consume_transform_produce_is_exactly_once_across_kill_9() {
    exactly_once_after_kill("confluent-kafka");
}

/// The broker id the transaction coordinator of `txn_id` runs on, as FindCoordinator answers.
fn txn_coordinator(bootstrap: &str, txn_id: &str) -> Option<i32> {
    e2e::raw::find_transaction_coordinator(bootstrap, txn_id)
}

#[test]
fn transactions_are_whole_across_kill_9_of_the_coordinator() {
    let Some(python) = python() else { return };
    let mut cluster = ThreeBrokers::start(&[
        ("transaction.state.log.replication.factor", "3"),
        ("transaction.state.log.min.isr", "2"),
    ]);
    let bootstrap = cluster.bootstrap();
    let topic = "txn-whole";
    cluster
        .topics(&[
            "--create",
            "--topic",
            topic,
            "--partitions",
            "3",
            "--replication-factor",
            "3",
        ])
        .assert_success("create");
    let txn_id = "whole";
    let mut producer = spawn_script(
        &python,
        "looping producer",
        &["loop", "confluent-kafka", &bootstrap, topic, txn_id],
    );
    producer.wait_for_line("some commits", DEADLINE, |l| l == "COMMITTED 20");
    let coordinator = e2e::wait_until("the transaction coordinator", DEADLINE, || {
        txn_coordinator(&bootstrap, txn_id)
    });
    cluster.broker(coordinator).kill9();
    let mark = producer.log_mark();
    producer.wait_for_line_since(mark, "commits after the kill", DEADLINE, |l| {
        l.starts_with("COMMITTED ")
    });
    producer.kill9();
    cluster.broker(coordinator).restart();
    let committed: Vec<usize> = producer
        .current_log_lines()
        .iter()
        .filter_map(|l| l.strip_prefix("COMMITTED ").and_then(|k| k.parse().ok()))
        .collect();
    // Everything the producer saw committed, and maybe a transaction killed mid-commit.
    let bootstrap = cluster.bootstrap();
    let at_least = committed.len() * 10;
    let out = run_script(
        &python,
        &["count", "-", &bootstrap, topic, &at_least.to_string(), "90"],
    );
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("READ "))
        .unwrap_or_else(|| panic!("READ line: {out}"));
    let mut per_txn: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for v in line.split_whitespace().skip(2) {
        let mut parts = v.strip_prefix("txn-").unwrap().split('-');
        let k: usize = parts.next().unwrap().parse().unwrap();
        let i: usize = parts.next().unwrap().parse().unwrap();
        per_txn.entry(k).or_default().push(i);
    }
    for k in &committed {
        assert!(
            per_txn.contains_key(k),
            "committed transaction {k} is missing: {out}"
        );
    }
    for (k, mut is) in per_txn {
        is.sort_unstable();
        assert_eq!(
            is,
            (0..10).collect::<Vec<_>>(),
            "transaction {k} is whole, once"
        );
    }
}

/// Our client library: a transactional producer commits 10, aborts 10, commits 1; our
/// consumer with `isolation.level=read_committed` reads the 11, with read_uncommitted all 21;
/// `kafka-console-consumer --isolation-level read_committed` prints the 11; and
/// `kafka-transactions list` / `describe` show the transactional id as CompleteCommit.
#[test]
fn our_client_read_committed_sees_only_committed_records() {
    use client::consumer::{Consumer, ConsumerConfig, StartOffset};
    use client::producer::{Producer, ProducerConfig, ProducerRecord};

    let cluster = cluster();
    let bootstrap = cluster.bootstrap();
    let topic = "txn-basic-ours";
    cluster.create_topic(topic, 3);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let producer = Producer::new(ProducerConfig {
            bootstrap_servers: bootstrap.clone(),
            transactional_id: Some("basic-ours".to_string()),
            enable_idempotence: true,
            acks: -1,
            ..ProducerConfig::default()
        })
        .await
        .unwrap();
        producer.init_transactions().await.unwrap();
        let round = |values: Vec<String>, commit: bool| {
            let producer = &producer;
            async move {
                producer.begin_transaction().unwrap();
                let mut acks = Vec::new();
                for v in values {
                    acks.push(producer.send(ProducerRecord::new(topic, v)).await.unwrap());
                }
                producer.flush().await.unwrap();
                for a in acks {
                    a.await.unwrap();
                }
                if commit {
                    producer.commit_transaction().await.unwrap();
                } else {
                    producer.abort_transaction().await.unwrap();
                }
            }
        };
        round((0..10).map(|i| format!("committed-{i}")).collect(), true).await;
        round((0..10).map(|i| format!("aborted-{i}")).collect(), false).await;
        round(vec!["committed-last".to_string()], true).await;
        producer.close().await.unwrap();

        for (isolation, want) in [(1, 11), (0, 21)] {
            let mut consumer = Consumer::new(ConsumerConfig {
                bootstrap_servers: bootstrap.clone(),
                isolation_level: isolation,
                ..ConsumerConfig::default()
            })
            .await
            .unwrap();
            consumer
                .assign(
                    (0..3)
                        .map(|p| (topic.to_string(), p, StartOffset::Earliest))
                        .collect(),
                )
                .await
                .unwrap();
            let mut values = Vec::new();
            let deadline = tokio::time::Instant::now() + DEADLINE;
            while values.len() < want && tokio::time::Instant::now() < deadline {
                for r in consumer.poll(Duration::from_millis(500)).await.unwrap() {
                    values.push(String::from_utf8_lossy(&r.value.unwrap_or_default()).to_string());
                }
            }
            // Anything more (a marker handed out as a record) would come with the next polls.
            for _ in 0..3 {
                for r in consumer.poll(Duration::from_millis(300)).await.unwrap() {
                    values.push(String::from_utf8_lossy(&r.value.unwrap_or_default()).to_string());
                }
            }
            values.sort();
            let mut expected: Vec<String> = (0..10).map(|i| format!("committed-{i}")).collect();
            expected.push("committed-last".to_string());
            if isolation == 0 {
                expected.extend((0..10).map(|i| format!("aborted-{i}")));
            }
            expected.sort();
            assert_eq!(values, expected, "isolation level {isolation}");
            consumer.close().await;
        }
    });

    let out = run_tool(
        "kafka-console-consumer",
        &[
            "--bootstrap-server",
            &bootstrap,
            "--topic",
            topic,
            "--from-beginning",
            "--isolation-level",
            "read_committed",
            "--max-messages",
            "12",
            "--timeout-ms",
            "5000",
        ],
        b"",
        TOOL_TIMEOUT,
    );
    let mut lines: Vec<&str> = out.stdout.lines().collect();
    lines.sort_unstable();
    assert_eq!(lines.len(), 11, "{out}");
    assert!(lines.iter().all(|l| l.starts_with("committed-")), "{out}");

    let list = run_tool(
        "kafka-transactions",
        &["--bootstrap-server", &bootstrap, "list"],
        b"",
        TOOL_TIMEOUT,
    );
    list.assert_success("kafka-transactions list");
    assert!(
        list.stdout
            .lines()
            .any(|l| l.starts_with("basic-ours") && l.contains("CompleteCommit")),
        "{list}"
    );
    let describe = run_tool(
        "kafka-transactions",
        &[
            "--bootstrap-server",
            &bootstrap,
            "describe",
            "--transactional-id",
            "basic-ours",
        ],
        b"",
        TOOL_TIMEOUT,
    );
    describe.assert_success("kafka-transactions describe");
    assert!(describe.stdout.contains("CompleteCommit"), "{describe}");
}
