//! Retention and segment rolls as Kafka 3.9 applies them, seen through real clients (kafka-python
//! for ListOffsets, Produce and Fetch; kcat for ListOffsets -2/-1): a topic whose records are all
//! past `retention.ms` loses every one of them, the active segment included, so ListOffsets
//! earliest equals latest, a fetch below the new log start offset is OFFSET_OUT_OF_RANGE, new
//! records continue at the old log end offset, and a restart keeps those offsets.
//! `retention.bytes=0` empties a log the same way; a retention.ms not yet passed and the default
//! retention keep records; `segment.ms` rolls by the records' timestamps.
//!
//! The probes are `e2e/python/retention_probe.py`, run with `$KAFKA_E2E_PYTHON`, else
//! `.venv/bin/python` (skipped loudly without it, except under `CI=true`).

use e2e::python;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use e2e::{repo_root, run_command, wait_until, Cluster};

const PROBE_TIMEOUT: Duration = Duration::from_secs(90);
/// Far more than `retention.ms` plus a few retention checks.
const RETENTION_DEADLINE: Duration = Duration::from_secs(45);

/// Runs one probe action and returns the value after `prefix` on its output line.
fn probe(python: &Path, bootstrap: &str, topic: &str, args: &[&str], prefix: &str) -> String {
    let mut cmd = Command::new(python);
    cmd.arg(repo_root().join("e2e/python/retention_probe.py"))
        .arg(bootstrap)
        .arg(topic)
        .args(args)
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    let out = run_command(cmd, b"", PROBE_TIMEOUT);
    out.assert_success(&format!("retention_probe.py {topic} {}", args.join(" ")));
    out.stdout
        .lines()
        .find_map(|l| l.strip_prefix(prefix))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| panic!("retention_probe.py prints {prefix:?}: {out}"))
}

/// ListOffsets earliest and latest of partition 0, as kafka-python sees them.
fn offsets(python: &Path, bootstrap: &str, topic: &str) -> (i64, i64) {
    let line = probe(python, bootstrap, topic, &["offsets"], "OFFSETS ");
    let mut parts = line.split(' ').map(|p| p.parse::<i64>());
    match (parts.next(), parts.next()) {
        (Some(Ok(a)), Some(Ok(b))) => (a, b),
        _ => panic!("bad OFFSETS line {line:?}"),
    }
}

/// Produces `n` records to partition 0 (timestamps `step_ms` apart) and returns their offsets.
fn produce(python: &Path, bootstrap: &str, topic: &str, n: usize, step_ms: i64) -> Vec<i64> {
    let (n, step) = (n.to_string(), step_ms.to_string());
    probe(
        python,
        bootstrap,
        topic,
        &["produce", &n, &step],
        "PRODUCED ",
    )
    .split(',')
    .map(|o| o.parse().unwrap_or_else(|_| panic!("bad offset {o:?}")))
    .collect()
}

fn fetch(python: &Path, bootstrap: &str, topic: &str, offset: i64) -> String {
    probe(
        python,
        bootstrap,
        topic,
        &["fetch", &offset.to_string()],
        "",
    )
}

/// ListOffsets through kcat (librdkafka): `-Q` with the logical timestamps -2 (earliest) and -1
/// (latest) returns the offsets. `None` when kcat is not installed.
fn kcat_offset(bootstrap: &str, topic: &str, which: i64) -> Option<i64> {
    let installed = Command::new("kcat")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        assert!(
            !std::env::var("CI").is_ok_and(|v| v == "true"),
            "CI=true but kcat is not installed"
        );
        eprintln!("\n!!!!!!!! SKIPPED the kcat part: kcat is not installed !!!!!!!!\n");
        return None;
    }
    let query = format!("{topic}:0:{which}");
    let mut cmd = Command::new("kcat");
    cmd.args(["-b", bootstrap, "-Q", "-t", &query]);
    let out = run_command(cmd, b"", PROBE_TIMEOUT);
    out.assert_success(&format!("kcat -Q -t {query}"));
    // "<topic> [0] offset <n>"
    let offset = out
        .stdout
        .lines()
        .find_map(|l| l.split_once(" offset ").map(|(_, o)| o.trim().to_string()))
        .and_then(|o| o.parse().ok());
    Some(offset.unwrap_or_else(|| panic!("kcat -Q prints an offset: {out}")))
}

/// The base offsets of the segment files in a partition directory.
fn segment_bases(dir: &Path) -> Vec<i64> {
    let mut bases: Vec<i64> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()))
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".log")?.parse().ok()
        })
        .collect();
    bases.sort_unstable();
    bases
}

fn create(cluster: &Cluster, topic: &str, configs: &[&str]) {
    let mut args = vec![
        "--create",
        "--topic",
        topic,
        "--partitions",
        "1",
        "--replication-factor",
        "1",
    ];
    for c in configs {
        args.extend_from_slice(&["--config", c]);
    }
    cluster.topics(&args);
}

#[test]
fn expired_records_are_all_deleted_and_offsets_continue_from_the_old_end() {
    let Some(py) = python() else {
        return;
    };
    let mut cluster = Cluster::start_with(&[
        ("log.retention.check.interval.ms", "200"),
        ("log.initial.task.delay.ms", "100"),
    ]);
    let bs = cluster.bootstrap();
    create(&cluster, "expiring", &["retention.ms=2000"]);
    create(&cluster, "sized", &["retention.bytes=0", "retention.ms=-1"]);
    create(&cluster, "hour", &["retention.ms=3600000"]);
    create(&cluster, "kept", &[]);
    for topic in ["expiring", "sized", "hour", "kept"] {
        assert_eq!(
            produce(&py, &bs, topic, 5, 0),
            vec![0, 1, 2, 3, 4],
            "{topic}"
        );
    }

    // Every record of `expiring` passes retention.ms: all its segments go, the active one too.
    wait_until(
        "ListOffsets earliest == latest == 5 on the expired topic",
        RETENTION_DEADLINE,
        || (offsets(&py, &bs, "expiring") == (5, 5)).then_some(()),
    );
    assert_eq!(
        segment_bases(&cluster.broker.partition_dir("expiring", 0)),
        vec![5],
        "one empty segment at the log end offset is left"
    );
    assert_eq!(kcat_offset(&bs, "expiring", -2).unwrap_or(5), 5);
    assert_eq!(kcat_offset(&bs, "expiring", -1).unwrap_or(5), 5);
    for offset in [0, 4] {
        assert_eq!(
            fetch(&py, &bs, "expiring", offset),
            format!("OUT_OF_RANGE {offset}"),
            "a fetch below the log start offset is OFFSET_OUT_OF_RANGE"
        );
    }
    // retention.bytes=0 empties a log whatever the records' age.
    wait_until(
        "ListOffsets earliest == latest == 5 with retention.bytes=0",
        RETENTION_DEADLINE,
        || (offsets(&py, &bs, "sized") == (5, 5)).then_some(()),
    );

    // New records continue from the old log end offset, and expire in turn.
    assert_eq!(produce(&py, &bs, "expiring", 3, 0), vec![5, 6, 7]);
    wait_until(
        "the second round of records to expire",
        RETENTION_DEADLINE,
        || (offsets(&py, &bs, "expiring") == (8, 8)).then_some(()),
    );

    // A topic whose retention.ms has not passed and one with the default retention (7 days)
    // keep their records through the same retention runs. (`cleanup.policy=compact` is refused
    // at create time until compaction exists; the log keeps its segments for such a policy.)
    assert_eq!(offsets(&py, &bs, "hour"), (0, 5));
    assert_eq!(offsets(&py, &bs, "kept"), (0, 5));
    assert!(fetch(&py, &bs, "kept", 0).starts_with("RECORDS 0"));

    // After a crash and restart the deleted offsets stay deleted and the log end stays put.
    cluster.broker.kill9();
    cluster.broker.restart();
    let bs = cluster.bootstrap();
    assert_eq!(offsets(&py, &bs, "expiring"), (8, 8));
    assert_eq!(offsets(&py, &bs, "sized"), (5, 5));
    assert_eq!(produce(&py, &bs, "expiring", 1, 0), vec![8]);
    assert_eq!(produce(&py, &bs, "sized", 1, 0), vec![5]);
}

/// segment.ms rolls the active segment when a record's timestamp is more than segment.ms past
/// the first record's of that segment.
#[test]
fn segment_ms_rolls_by_record_timestamps() {
    let Some(py) = python() else {
        return;
    };
    let cluster = Cluster::start();
    let bs = cluster.bootstrap();
    create(&cluster, "rolling", &["segment.ms=1000"]);
    // Timestamps now, +600, +1200, +1800: the third is 1200 ms past the first and rolls.
    assert_eq!(produce(&py, &bs, "rolling", 4, 600), vec![0, 1, 2, 3]);
    assert_eq!(
        segment_bases(&cluster.broker.partition_dir("rolling", 0)),
        vec![0, 2]
    );
    assert_eq!(offsets(&py, &bs, "rolling"), (0, 4));
}
