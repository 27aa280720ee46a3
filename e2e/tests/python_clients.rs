//! Real Python clients against our broker: kafka-python (default producer: idempotent; consumer
//! with assigned partitions) and confluent-kafka (librdkafka; producer plain and idempotent,
//! consumer with assign()), round-tripping records with keys, headers and every compression codec.
//! The scripts live in `e2e/python/`; each exits non-zero with a message on any mismatch. Then
//! our own console consumer reads the same records back, compressed batches included.
//!
//! The interpreter is `$KAFKA_E2E_PYTHON`, else `.venv/bin/python` at the repository root (which
//! `.ci/run` and `./test.sh` create). Without it the tests are skipped loudly, except under
//! `CI=true`, where a missing interpreter is a failure.

use e2e::python;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use e2e::{repo_root, run_command, Cluster};

const SCRIPT_TIMEOUT: Duration = Duration::from_secs(240);

/// Runs one round-trip script against a fresh 3-partition topic and returns how many records it
/// round-tripped.
fn run_roundtrip(cluster: &Cluster, python: &PathBuf, script: &str, topic: &str) -> usize {
    cluster.create_topic(topic, 3);
    let mut cmd = Command::new(python);
    cmd.arg(repo_root().join("e2e/python").join(script))
        .arg(cluster.bootstrap())
        .arg(topic)
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    let out = run_command(cmd, b"", SCRIPT_TIMEOUT);
    out.assert_success(script);
    out.stdout
        .lines()
        .find_map(|l| l.strip_prefix("RECORDS "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("{script} prints RECORDS <n>: {out}"))
}

/// Our console consumer reads everything the Python producer wrote (every codec) back.
fn console_consumer_reads(cluster: &Cluster, topic: &str, n: usize) {
    let out = cluster.consume_with_headers(topic, n);
    for codec in ["none", "gzip", "snappy", "lz4", "zstd"] {
        assert!(
            out.stdout.contains(&format!("codec:{codec},i:1\t{codec}")),
            "records compressed with {codec} are readable by our consumer: {out}"
        );
    }
}

#[test]
fn kafka_python_round_trips_every_codec() {
    let Some(python) = python() else { return };
    let cluster = Cluster::start();
    let n = run_roundtrip(
        &cluster,
        &python,
        "kafka_python_roundtrip.py",
        "kafka-python-topic",
    );
    console_consumer_reads(&cluster, "kafka-python-topic", n);
}

#[test]
fn confluent_kafka_round_trips_every_codec() {
    let Some(python) = python() else { return };
    let cluster = Cluster::start();
    let n = run_roundtrip(
        &cluster,
        &python,
        "confluent_kafka_roundtrip.py",
        "confluent-topic",
    );
    console_consumer_reads(&cluster, "confluent-topic", n);
}
