//! kafka-python pinned to old broker versions (`api_version=(0, 9)` and `(0, 10, 0)`), so it
//! speaks Produce v0-2 with magic 0/1 message sets (plain, gzip, snappy, lz4), Fetch v0-2 (the
//! broker down-converts its v2 batches), ListOffsets v0 and OffsetFetch v1: every record comes
//! back at its acknowledged offset with its key, value and (magic 1) timestamp. The script is
//! `e2e/python/kafka_python_old_versions.py`. The interpreter is `$KAFKA_E2E_PYTHON`, else
//! `.venv/bin/python`; without it the test is skipped loudly, except under `CI=true`.

use e2e::python;
use std::process::Command;
use std::time::Duration;

use e2e::{repo_root, run_command, run_tool, Cluster, TOOL_TIMEOUT};

const SCRIPT_TIMEOUT: Duration = Duration::from_secs(240);

#[test]
fn kafka_python_pinned_to_0_9_and_0_10_round_trips_through_old_message_formats() {
    let Some(python) = python() else {
        return;
    };
    let cluster = Cluster::start();
    cluster.create_topic("old-formats", 1);
    let mut cmd = Command::new(python);
    cmd.arg(repo_root().join("e2e/python/kafka_python_old_versions.py"))
        .arg(cluster.bootstrap())
        .arg("old-formats")
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    let out = run_command(cmd, b"", SCRIPT_TIMEOUT);
    out.assert_success("kafka_python_old_versions.py");
    let n: usize = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("RECORDS "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("the script prints RECORDS <n>: {out}"));
    assert_eq!(n, 48, "{out}");

    // What the old formats stored is ordinary v2 batches to a current consumer: ours reads it all.
    let bs = cluster.bootstrap();
    let out = run_tool(
        "kafka-console-consumer",
        &[
            "--bootstrap-server",
            &bs,
            "--topic",
            "old-formats",
            "--from-beginning",
            "--max-messages",
            "48",
            "--timeout-ms",
            "30000",
        ],
        b"",
        TOOL_TIMEOUT,
    );
    out.assert_success("kafka-console-consumer");
    assert_eq!(out.stdout.lines().count(), 48, "{out}");
    assert!(out.stdout.contains("(0, 9)-gzip-value-7-"), "{out}");
    assert!(out.stdout.contains("(0, 10, 0)-lz4-value-0-"), "{out}");
}
