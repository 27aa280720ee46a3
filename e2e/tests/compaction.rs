//! Log compaction (`cleanup.policy=compact`) seen through real clients: 10,000 updates to 100
//! keys leave, once the cleaner has run, one record per key with its last value at its
//! original offset when kafka-python reads the partition from the beginning; a tombstoned key
//! is still read as a tombstone at first and is gone after `delete.retention.ms`; a keyless
//! record is refused with INVALID_RECORD (87) and nothing of it is stored (confluent-kafka,
//! and a raw Produce v9 for Kafka's `record_errors` and `error_message`); and the followers of
//! a compacted leader keep replicating across its offset gaps while compacting their own
//! copies. Transactions are compacted as Kafka compacts them: the records of an aborted
//! transaction go, committed ones are compacted like any others.
//!
//! Probes are `e2e/python/compaction_probe.py`, run with `$KAFKA_E2E_PYTHON`, else
//! `.venv/bin/python` (skipped loudly without it, except under `CI=true`).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use e2e::{python, repo_root, run_command, wait_until, Cluster, ThreeBrokers};
use kafka_protocol::records::{
    Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};

const PROBE_TIMEOUT: Duration = Duration::from_secs(120);
/// Far more than a few cleaner rounds of `log.cleaner.backoff.ms`.
const CLEANING_DEADLINE: Duration = Duration::from_secs(90);
/// The broker settings of these tests: the cleaner looks every 100 ms.
const BROKER: &[(&str, &str)] = &[("log.cleaner.backoff.ms", "100")];
/// Topic configs: small segments (a few dozen records each), a low dirty ratio and a short
/// tombstone retention.
const COMPACTED: &[&str] = &[
    "--config",
    "cleanup.policy=compact",
    "--config",
    "segment.bytes=1024",
    "--config",
    "min.cleanable.dirty.ratio=0.01",
    "--config",
    "delete.retention.ms=2000",
];

/// Runs one probe action and returns the text after `prefix` on its output line.
fn probe(python: &Path, bootstrap: &str, topic: &str, args: &[&str], prefix: &str) -> String {
    let mut cmd = Command::new(python);
    cmd.arg(repo_root().join("e2e/python/compaction_probe.py"))
        .arg(bootstrap)
        .arg(topic)
        .args(args)
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    let out = run_command(cmd, b"", PROBE_TIMEOUT);
    out.assert_success(&format!("compaction_probe.py {topic} {}", args.join(" ")));
    out.stdout
        .lines()
        .find_map(|l| l.strip_prefix(prefix))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| panic!("compaction_probe.py prints {prefix:?}: {out}"))
}

/// One record as read: (offset, key, value).
type Read = (i64, Option<String>, Option<String>);

fn read_all(python: &Path, bootstrap: &str, topic: &str) -> Vec<Read> {
    let text = probe(python, bootstrap, topic, &["read"], "RECORDS ");
    let rows: Vec<(i64, Option<String>, Option<String>)> = parse_rows(&text);
    rows
}

/// Parses the probe's JSON `[[offset, key, value], ...]` (keys and values are plain ASCII).
fn parse_rows(text: &str) -> Vec<Read> {
    let inner = text.trim().trim_start_matches('[').trim_end_matches(']');
    if inner.trim().is_empty() {
        return Vec::new();
    }
    inner
        .split("], [")
        .map(|row| {
            let row = row.trim_matches(|c| c == '[' || c == ']');
            let mut fields = row.splitn(3, ", ");
            let offset = fields.next().unwrap().parse().unwrap();
            let text = |f: Option<&str>| match f.unwrap() {
                "null" => None,
                s => Some(s.trim_matches('"').to_string()),
            };
            (offset, text(fields.next()), text(fields.next()))
        })
        .collect()
}

/// Parses `{"key-0": [offset, "value"], ...}`.
fn parse_last(text: &str) -> BTreeMap<String, (i64, String)> {
    let inner = text.trim().trim_start_matches('{').trim_end_matches('}');
    inner
        .split("], ")
        .map(|entry| {
            let (key, rest) = entry.split_once(": [").unwrap();
            let (offset, value) = rest.trim_end_matches(']').split_once(", ").unwrap();
            (
                key.trim_matches('"').to_string(),
                (offset.parse().unwrap(), value.trim_matches('"').to_string()),
            )
        })
        .collect()
}

/// Whether `records` hold exactly one record per key of `last`, its last value at its offset.
fn one_record_per_key(records: &[Read], last: &BTreeMap<String, (i64, String)>) -> bool {
    let seen: BTreeMap<String, (i64, String)> = records
        .iter()
        .filter_map(|(o, k, v)| Some((k.clone()?, (*o, v.clone()?))))
        .collect();
    records.len() == last.len() && &seen == last
}

#[test]
fn a_compacted_topic_keeps_the_last_value_of_each_key_and_drops_tombstones() {
    let Some(python) = python() else { return };
    let cluster = Cluster::start_with(BROKER);
    let bs = cluster.bootstrap();
    let mut create = vec!["--create", "--topic", "compacted", "--partitions", "1"];
    create.extend_from_slice(COMPACTED);
    cluster.topics(&create);

    let last = parse_last(&probe(
        &python,
        &bs,
        "compacted",
        &["produce", "10000", "100"],
        "LAST ",
    ));
    let mut last = last;
    assert_eq!(last.len(), 100);
    assert_eq!(last["key-99"], (9_999, "value-9999".to_string()));
    // The active segment is never cleaned and the offset map stops at it, so records it
    // supersedes stay until it rolls: 100 writes of 100 other keys roll it, and the new active
    // segment holds distinct keys only.
    let others = parse_last(&probe(
        &python,
        &bs,
        "compacted",
        &["produce", "100", "100", "100"],
        "LAST ",
    ));
    assert_eq!(others["key-100"].0, 10_000);
    last.extend(others);
    // The cleaner runs on its own; once every sealed segment is clean each key is read once.
    let mut seen = Vec::new();
    wait_until(
        "one record per key with its last value",
        CLEANING_DEADLINE,
        || {
            seen = read_all(&python, &bs, "compacted");
            one_record_per_key(&seen, &last).then_some(())
        },
    );
    let cleaned_log = cluster.broker.process.log();
    assert!(
        cleaned_log.contains("Cleaner: cleaned log compacted-0"),
        "{cleaned_log}"
    );
    let checkpoint =
        std::fs::read_to_string(cluster.broker.log_dir().join("cleaner-offset-checkpoint"))
            .unwrap();
    assert!(
        checkpoint.starts_with("0\n1\ncompacted 0 "),
        "{checkpoint:?}"
    );

    // A tombstone is read as one at first; more updates (to other keys) seal its segment, and
    // it is gone delete.retention.ms after the cleaning that first kept it.
    let tombstone: i64 = probe(
        &python,
        &bs,
        "compacted",
        &["tombstone", "key-0"],
        "TOMBSTONE ",
    )
    .parse()
    .unwrap();
    let now = read_all(&python, &bs, "compacted");
    assert!(
        now.contains(&(tombstone, Some("key-0".to_string()), None)),
        "the tombstone is read: {now:?}"
    );
    probe(
        &python,
        &bs,
        "compacted",
        &["produce", "300", "50", "1"],
        "LAST ",
    );
    wait_until(
        "key-0 gone after delete.retention.ms",
        CLEANING_DEADLINE,
        || {
            let records = read_all(&python, &bs, "compacted");
            let gone = !records
                .iter()
                .any(|(_, k, _)| k.as_deref() == Some("key-0"));
            gone.then_some(())
        },
    );
}

/// A keyless batch for a raw Produce: two records, the second without a key.
fn keyless_batch() -> Vec<u8> {
    let records: Vec<Record> = (0..2)
        .map(|i| Record {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: -1,
            producer_id: -1,
            producer_epoch: -1,
            timestamp_type: TimestampType::Creation,
            offset: i,
            sequence: i as i32 - 1,
            timestamp: common::time::now_ms(),
            key: (i == 0).then(|| Bytes::from("k")),
            value: Some(Bytes::from("v")),
            headers: Default::default(),
        })
        .collect();
    let mut buf = BytesMut::new();
    let options = RecordEncodeOptions {
        version: 2,
        compression: Compression::None,
    };
    RecordBatchEncoder::encode(&mut buf, &records, &options).unwrap();
    buf.to_vec()
}

#[test]
fn a_keyless_record_is_refused_on_a_compacted_topic_and_nothing_is_stored() {
    let cluster = Cluster::start_with(BROKER);
    let bs = cluster.bootstrap();
    let mut create = vec!["--create", "--topic", "keyed", "--partitions", "1"];
    create.extend_from_slice(COMPACTED);
    cluster.topics(&create);

    // Produce v9: Kafka's error_message and record_errors (KIP-467).
    let refused = e2e::raw::produce(&bs, "keyed", keyless_batch(), 1);
    assert_eq!(refused.error_code, 87, "INVALID_RECORD");
    let per_record = "Compacted topic cannot accept message without key in topic partition \
                      keyed-0";
    assert_eq!(refused.record_errors.len(), 1);
    assert_eq!(refused.record_errors[0].batch_index, 1);
    assert_eq!(
        refused.record_errors[0]
            .batch_index_error_message
            .as_ref()
            .map(|m| m.to_string()),
        Some(per_record.to_string())
    );
    assert_eq!(
        refused.error_message.as_ref().map(|m| m.to_string()),
        Some(format!(
            "One or more records have been rejected due to 1 record errors in total, and only \
             showing the first three errors at most: [RecordError(batchIndex=1, \
             message='{per_record}')]"
        ))
    );

    let Some(python) = python() else { return };
    // librdkafka reports the refusal to the application as INVALID_RECORD.
    let delivery = probe(&python, &bs, "keyed", &["keyless"], "DELIVERY ");
    assert_eq!(delivery, "INVALID_RECORD 87");
    // Nothing of either batch was stored: a keyed record still lands at offset 0.
    let last = parse_last(&probe(
        &python,
        &bs,
        "keyed",
        &["produce", "1", "1"],
        "LAST ",
    ));
    assert_eq!(last["key-0"], (0, "value-0".to_string()));
}

#[test]
fn followers_of_a_compacted_leader_keep_up_across_its_gaps() {
    let Some(python) = python() else { return };
    let mut cluster = ThreeBrokers::start(BROKER);
    let bs = cluster.brokers[0].bootstrap();
    let out = e2e::run_tool(
        "kafka-topics",
        &[
            "--bootstrap-server",
            &bs,
            "--create",
            "--topic",
            "replicated",
            "--partitions",
            "1",
            "--replication-factor",
            "3",
            "--config",
            "cleanup.policy=compact",
            "--config",
            "segment.bytes=1024",
            "--config",
            "min.cleanable.dirty.ratio=0.01",
        ],
        b"",
        e2e::TOOL_TIMEOUT,
    );
    out.assert_success("kafka-topics --create replicated");
    let mut last = parse_last(&probe(
        &python,
        &bs,
        "replicated",
        &["produce", "3000", "50"],
        "LAST ",
    ));
    // Writes of other keys roll the active segment (see the first test).
    last.extend(parse_last(&probe(
        &python,
        &bs,
        "replicated",
        &["produce", "100", "100", "50"],
        "LAST ",
    )));
    wait_until("the leader's log compacted", CLEANING_DEADLINE, || {
        one_record_per_key(&read_all(&python, &bs, "replicated"), &last).then_some(())
    });
    // More updates after the cleaning: the followers fetch across the leader's gaps.
    last.extend(parse_last(&probe(
        &python,
        &bs,
        "replicated",
        &["produce", "1000", "50"],
        "LAST ",
    )));
    last.extend(parse_last(&probe(
        &python,
        &bs,
        "replicated",
        &["produce", "100", "100", "150"],
        "LAST ",
    )));
    wait_until(
        "every replica cleaned its own copy",
        CLEANING_DEADLINE,
        || {
            cluster
                .brokers
                .iter()
                .all(|b| {
                    b.process
                        .log()
                        .contains("Cleaner: cleaned log replicated-0")
                })
                .then_some(())
        },
    );
    let describe = || {
        e2e::run_tool(
            "kafka-topics",
            &[
                "--bootstrap-server",
                &bs,
                "--describe",
                "--topic",
                "replicated",
            ],
            b"",
            e2e::TOOL_TIMEOUT,
        )
    };
    wait_until("all three replicas in sync", CLEANING_DEADLINE, || {
        let out = describe();
        let isr = out.stdout.lines().find_map(|l| {
            l.split("Isr: ").nth(1).map(|rest| {
                rest.split_whitespace()
                    .next()
                    .unwrap_or("")
                    .split(',')
                    .count()
            })
        });
        (isr == Some(3)).then_some(())
    });
    // A follower's copy holds the keys' last values too: stop the leader, read from another.
    let leader: usize = describe()
        .stdout
        .lines()
        .find_map(|l| l.split("Leader: ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|id| id.parse().ok())
        .expect("a leader");
    cluster.brokers[leader].kill9();
    let other = cluster.brokers[(leader + 1) % 3].bootstrap();
    wait_until("the new leader's log read whole", CLEANING_DEADLINE, || {
        one_record_per_key(&read_all(&python, &other, "replicated"), &last).then_some(())
    });
}

/// A transactional producer (confluent-kafka) writes to a compacted topic: commit {k1, k2},
/// abort {k1, k3}, commit {k2}. Once the cleaner has run, the aborted values are gone even for
/// read_uncommitted readers and the first k2 is compacted away, while read_committed readers
/// see the committed values throughout (an aborted value never hides a committed one).
#[test]
fn compaction_drops_aborted_transactions_and_compacts_committed_ones() {
    let Some(python) = python() else { return };
    let cluster = Cluster::start_with(BROKER);
    let bs = cluster.bootstrap();
    let mut create = vec!["--create", "--topic", "txn-compacted", "--partitions", "1"];
    create.extend_from_slice(COMPACTED);
    cluster.topics(&create);
    assert_eq!(
        probe(&python, &bs, "txn-compacted", &["txn"], "TXN "),
        "DONE"
    );
    let values = |rows: &[Read]| -> Vec<(String, String)> {
        rows.iter()
            .filter_map(|(_, k, v)| Some((k.clone()?, v.clone()?)))
            .collect()
    };
    let committed = || {
        values(&parse_rows(&probe(
            &python,
            &bs,
            "txn-compacted",
            &["read", "read_committed"],
            "RECORDS ",
        )))
    };
    let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
    assert_eq!(
        committed(),
        vec![pair("k1", "c1"), pair("k2", "c1"), pair("k2", "c2")]
    );
    // Other keys seal the segments holding the transactions (the active one is never cleaned).
    probe(
        &python,
        &bs,
        "txn-compacted",
        &["produce", "100", "100", "100"],
        "LAST ",
    );
    wait_until(
        "the aborted records and the superseded k2 cleaned away",
        CLEANING_DEADLINE,
        || {
            let rows = values(&read_all(&python, &bs, "txn-compacted"));
            let ours: Vec<_> = rows.into_iter().filter(|(k, _)| k.len() == 2).collect();
            (ours == vec![pair("k1", "c1"), pair("k2", "c2")]).then_some(())
        },
    );
    let after: Vec<_> = committed()
        .into_iter()
        .filter(|(k, _)| k.len() == 2)
        .collect();
    assert_eq!(after, vec![pair("k1", "c1"), pair("k2", "c2")]);
    // The abort marker's transaction has no record left: a cleaning after its delete horizon
    // (delete.retention.ms, 2 s) removes it. The producer's later committed k2 must still be
    // read by read_committed consumers (the aborted transaction must leave the index with its
    // marker, or they would skip the producer's records from there on).
    let cleanings = || {
        cluster
            .broker
            .process
            .log()
            .matches("Cleaner: cleaned log txn-compacted-0")
            .count()
    };
    let before = cleanings();
    wait_until(
        "a cleaning after the abort marker's delete horizon",
        CLEANING_DEADLINE,
        || (cleanings() > before).then_some(()),
    );
    let after: Vec<_> = committed()
        .into_iter()
        .filter(|(k, _)| k.len() == 2)
        .collect();
    assert_eq!(
        after,
        vec![pair("k1", "c1"), pair("k2", "c2")],
        "read_committed after the marker's removal"
    );
}
