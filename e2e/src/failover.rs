//! Driving `e2e/python/failover_clients.py` (a real client's idempotent producer and group
//! consumer) from a test: start it, read its `PROGRESS` counters, wait for it to go on, and
//! finish it with its summary.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use crate::{repo_root, Process};

/// The counters of the script's last `PROGRESS key=value ...` line.
pub fn progress(client: &Process) -> BTreeMap<String, u64> {
    client
        .current_log_lines()
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("PROGRESS "))
        .map(parse_counters)
        .unwrap_or_default()
}

fn parse_counters(line: &str) -> BTreeMap<String, u64> {
    line.split_whitespace()
        .filter_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            Some((k.to_string(), v.parse().ok()?))
        })
        .collect()
}

/// Waits until `step` more records than now have been acknowledged and consumed, for at most
/// `deadline`.
pub fn wait_going_on(client: &mut Process, what: &str, deadline: Duration, step: u64) {
    let now = progress(client);
    let at = |m: &BTreeMap<String, u64>, k: &str| m.get(k).copied().unwrap_or(0);
    let (acked, consumed) = (at(&now, "acked"), at(&now, "consumed"));
    client.wait_for_line(what, deadline, |l| {
        let Some(rest) = l.strip_prefix("PROGRESS ") else {
            return false;
        };
        let m = parse_counters(rest);
        at(&m, "acked") >= acked + step && at(&m, "consumed") >= consumed + step
    });
}

/// Starts the script for `client` ("kafka-python" or "confluent-kafka") against `bootstrap`,
/// with `env` added (e.g. `FAILOVER_SESSION_TIMEOUT_MS`); it finishes once `control` exists.
pub fn spawn_failover_script(
    python: &Path,
    client: &str,
    bootstrap: &str,
    topic: &str,
    group: &str,
    control: &Path,
    env: &[(&str, &str)],
) -> Process {
    let mut vars = vec![
        ("PYTHONUNBUFFERED".to_string(), "1".to_string()),
        ("PYTHONDONTWRITEBYTECODE".to_string(), "1".to_string()),
    ];
    vars.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Process::spawn(
        client,
        python,
        vec![
            repo_root()
                .join("e2e/python/failover_clients.py")
                .display()
                .to_string(),
            client.to_string(),
            bootstrap.to_string(),
            topic.to_string(),
            group.to_string(),
            control.display().to_string(),
        ],
        vars,
    )
}

/// Tells the script to finish (by creating `control`), waits for its exit and checks its verdict:
/// a successful exit and `ACKED n CONSUMED m MISSING 0`. Returns n (acknowledged records) and
/// every line it printed.
pub fn finish_failover_script(
    client: &mut Process,
    control: &Path,
    timeout: Duration,
) -> (u64, Vec<String>) {
    let name = client.name().to_string();
    if let Err(e) = std::fs::write(control, b"finish\n") {
        panic!("{name}: writing {}: {e}", control.display());
    }
    let status = client.wait_exit(timeout);
    let lines = client.current_log_lines();
    let Some(summary) = lines.iter().find(|l| l.starts_with("ACKED ")).cloned() else {
        panic!("{name}: no summary line; output:\n{}", lines.join("\n"));
    };
    let detail = lines
        .iter()
        .find(|l| l.starts_with("DETAIL "))
        .cloned()
        .unwrap_or_default();
    eprintln!(
        "{name}'s output:\n{}\n{name}: {summary}\n{name}: {detail}",
        lines.join("\n")
    );
    assert!(
        status.success(),
        "{name} exited {status}: {summary}\n{}",
        lines.join("\n")
    );
    let fields: Vec<&str> = summary.split_whitespace().collect();
    assert_eq!(fields.get(4..6), Some(&["MISSING", "0"][..]), "{summary}");
    let acked = fields
        .get(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{name}: unreadable summary {summary}"));
    (acked, lines)
}
