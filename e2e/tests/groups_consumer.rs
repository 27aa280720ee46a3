//! Consumer groups through our console consumer against the real broker: committed offsets carry
//! a group's progress from one member to the next, partitions are split one per member with a
//! spare member idle, a `kill -9`ed member's partition moves to the idle one within the session
//! timeout with nothing lost, and a clean leave rebalances at once.
//!
//! Members run with `RUST_LOG=client::consumer=info`, so their stderr says when they joined
//! which generation and what they were assigned; the tests wait on those lines.

use e2e::python;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use e2e::{binary, run_tool, wait_until, Cluster, Process, TOOL_TIMEOUT};

/// The session timeout the members use (the broker's minimum is set to match).
const SESSION_TIMEOUT_MS: u64 = 6000;
const DEADLINE: Duration = Duration::from_secs(60);

fn cluster() -> Cluster {
    Cluster::start_with(&[
        ("group.initial.rebalance.delay.ms", "0"),
        ("group.min.session.timeout.ms", "6000"),
    ])
}

/// Produces `key:value` lines (keys place records on partitions by murmur2).
fn produce(cluster: &Cluster, topic: &str, records: &[(String, String)]) {
    let input: String = records.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let bs = cluster.bootstrap();
    run_tool(
        "kafka-console-producer",
        &[
            "--bootstrap-server",
            &bs,
            "--topic",
            topic,
            "--property",
            "parse.key=true",
            "--property",
            "key.separator=:",
        ],
        input.as_bytes(),
        TOOL_TIMEOUT,
    )
    .assert_success("kafka-console-producer");
}

fn batch(prefix: &str, n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|i| (format!("{prefix}k{i}"), format!("{prefix}{i}")))
        .collect()
}

#[test]
fn next_member_of_a_group_starts_at_the_committed_offset() {
    let cluster = cluster();
    cluster.create_topic("story", 1);
    let records: Vec<(String, String)> =
        (0..7).map(|i| (format!("k{i}"), format!("r{i}"))).collect();
    produce(&cluster, "story", &records);
    let bs = cluster.bootstrap();
    let first = run_tool(
        "kafka-console-consumer",
        &[
            "--bootstrap-server",
            &bs,
            "--topic",
            "story",
            "--group",
            "g",
            "--from-beginning",
            "--max-messages",
            "4",
            "--timeout-ms",
            "30000",
        ],
        b"",
        TOOL_TIMEOUT,
    );
    first.assert_success("first member");
    assert_eq!(first.stdout, "r0\nr1\nr2\nr3\n", "{first}");
    assert!(
        first.stderr.contains("Processed a total of 4 messages"),
        "{first}"
    );
    // The next member of the group reads exactly the other three, then times out idle.
    let second = run_tool(
        "kafka-console-consumer",
        &[
            "--bootstrap-server",
            &bs,
            "--topic",
            "story",
            "--group",
            "g",
            "--from-beginning",
            "--timeout-ms",
            "8000",
        ],
        b"",
        TOOL_TIMEOUT,
    );
    second.assert_success("second member");
    assert_eq!(second.stdout, "r4\nr5\nr6\n", "{second}");
    assert!(
        second.stderr.contains("Processed a total of 3 messages"),
        "{second}"
    );
}

/// One console consumer in group `group` printing `Partition:<p>\t<value>`.
fn member(cluster: &Cluster, name: &str, topic: &str, group: &str) -> Process {
    let args: Vec<String> = [
        "--bootstrap-server",
        &cluster.bootstrap(),
        "--topic",
        topic,
        "--group",
        group,
        "--from-beginning",
        "--property",
        "print.partition=true",
        "--consumer-property",
        &format!("session.timeout.ms={SESSION_TIMEOUT_MS}"),
        "--consumer-property",
        "heartbeat.interval.ms=500",
        "--consumer-property",
        "auto.commit.interval.ms=500",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    Process::spawn(
        name,
        binary("kafka-console-consumer"),
        args,
        vec![("RUST_LOG".to_string(), "client::consumer=info".to_string())],
    )
}

/// A member's view from its log: the generation it last joined and what it was given then.
fn membership(p: &Process) -> Option<(i32, Vec<i32>)> {
    let lines = p.current_log_lines();
    let joined = lines
        .iter()
        .rposition(|l| l.contains("Successfully joined group with generation"))?;
    let generation: i32 = lines[joined]
        .split("generation ")
        .nth(1)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let assigned = lines[joined..]
        .iter()
        .find(|l| l.contains("Adding newly assigned partitions:"))?;
    let list = assigned.split("partitions:").nth(1)?.trim();
    let partitions = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .filter_map(|tp| tp.rsplit('-').next()?.parse().ok())
        .collect();
    Some((generation, partitions))
}

/// Waits until the running members all sit in the same generation and together own every one of
/// `partitions` partitions exactly once; returns each member's partitions.
fn wait_stable(members: &mut [&mut Process], partitions: i32, what: &str) -> Vec<Vec<i32>> {
    wait_until(what, DEADLINE, || {
        let views: Vec<(i32, Vec<i32>)> = members
            .iter()
            .map(|p| membership(p))
            .collect::<Option<_>>()?;
        let generation = views.first()?.0;
        if views.iter().any(|(g, _)| *g != generation) {
            return None;
        }
        let mut all: Vec<i32> = views.iter().flat_map(|(_, ps)| ps.clone()).collect();
        all.sort();
        if all != (0..partitions).collect::<Vec<_>>() {
            return None;
        }
        Some(views.into_iter().map(|(_, ps)| ps).collect())
    })
}

/// The (partition, value) records a member has printed.
fn printed(p: &Process) -> Vec<(i32, String)> {
    p.current_log_lines()
        .iter()
        .filter_map(|l| {
            let rest = l.strip_prefix("Partition:")?;
            let (p, v) = rest.split_once('\t')?;
            Some((p.parse().ok()?, v.to_string()))
        })
        .collect()
}

/// Waits until every value of `records` was printed by some member.
fn wait_all_printed(members: &[&Process], records: &[(String, String)], what: &str) {
    let wanted: BTreeSet<&String> = records.iter().map(|(_, v)| v).collect();
    wait_until(what, DEADLINE, || {
        let seen: BTreeSet<String> = members
            .iter()
            .flat_map(|m| printed(m).into_iter().map(|(_, v)| v))
            .collect();
        wanted.iter().all(|v| seen.contains(*v)).then_some(())
    });
}

/// Which members printed values of `records`, and from which partitions.
fn who_printed(
    members: &[&Process],
    records: &[(String, String)],
) -> BTreeMap<usize, BTreeSet<i32>> {
    let wanted: BTreeSet<&String> = records.iter().map(|(_, v)| v).collect();
    let mut out: BTreeMap<usize, BTreeSet<i32>> = BTreeMap::new();
    for (i, m) in members.iter().enumerate() {
        for (p, v) in printed(m) {
            if wanted.contains(&v) {
                out.entry(i).or_default().insert(p);
            }
        }
    }
    out
}

#[test]
fn members_split_partitions_an_idle_member_takes_over_and_leaves_rebalance() {
    let cluster = cluster();
    cluster.create_topic("split", 3);
    let mut m0 = member(&cluster, "member 0", "split", "g3");
    let mut m1 = member(&cluster, "member 1", "split", "g3");
    let mut m2 = member(&cluster, "member 2", "split", "g3");
    let owned = wait_stable(
        &mut [&mut m0, &mut m1, &mut m2],
        3,
        "three members own one partition each",
    );
    assert!(owned.iter().all(|ps| ps.len() == 1), "{owned:?}");
    // kafka-consumer-groups shows the same: three members, one partition each.
    let bs = cluster.bootstrap();
    wait_until(
        "--describe shows one partition per member",
        DEADLINE,
        || {
            let out = run_tool(
                "kafka-consumer-groups",
                &["--bootstrap-server", &bs, "--describe", "--group", "g3"],
                b"",
                TOOL_TIMEOUT,
            );
            let rows: Vec<Vec<&str>> = out
                .stdout
                .lines()
                .map(|l| l.split_whitespace().collect::<Vec<_>>())
                .filter(|c| c.len() == 9 && c[0] == "g3" && c[1] == "split")
                .collect();
            let owners: BTreeSet<&str> = rows.iter().map(|c| c[6]).collect();
            let partitions: BTreeSet<&str> = rows.iter().map(|c| c[2]).collect();
            (rows.len() == 3 && owners.len() == 3 && !owners.contains("-") && partitions.len() == 3)
                .then_some(())
        },
    );

    let a = batch("a", 30);
    produce(&cluster, "split", &a);
    wait_all_printed(&[&m0, &m1, &m2], &a, "batch a consumed");
    let by = who_printed(&[&m0, &m1, &m2], &a);
    for (i, ps) in &by {
        assert_eq!(
            ps.iter().copied().collect::<Vec<_>>(),
            owned[*i],
            "member {i} printed only its partition"
        );
    }

    // A fourth member: one of the four ends up idle.
    let mut m3 = member(&cluster, "member 3", "split", "g3");
    let owned = wait_stable(
        &mut [&mut m0, &mut m1, &mut m2, &mut m3],
        3,
        "four members, three partitions",
    );
    assert_eq!(
        owned.iter().filter(|ps| ps.is_empty()).count(),
        1,
        "{owned:?}"
    );
    let b = batch("b", 30);
    produce(&cluster, "split", &b);
    wait_all_printed(&[&m0, &m1, &m2, &m3], &b, "batch b consumed");
    let idle = owned.iter().position(|ps| ps.is_empty()).unwrap_or(0);
    let by = who_printed(&[&m0, &m1, &m2, &m3], &b);
    assert!(
        !by.contains_key(&idle),
        "the idle member printed nothing: {by:?}"
    );

    // kill -9 an owner: within the session timeout its partition moves to the idle member and
    // the records produced meanwhile are consumed. The range assignor hands partitions out in
    // member order and the idle member sorts last, so the owner of the last partition is the
    // one whose partition goes to the idle member unchanged for the others.
    let mut members = [m0, m1, m2, m3];
    let victim = owned.iter().position(|ps| ps.contains(&2)).unwrap_or(0);
    let victim_partition = owned[victim][0];
    let killed_at = Instant::now();
    members[victim].kill9();
    let victim_seen: BTreeSet<String> = printed(&members[victim])
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    let c = batch("c", 30);
    produce(&cluster, "split", &c);
    let mut survivors: Vec<&mut Process> = members
        .iter_mut()
        .enumerate()
        .filter(|(i, _)| *i != victim)
        .map(|(_, p)| p)
        .collect();
    let after_kill = wait_stable(
        &mut survivors,
        3,
        "the survivors take over the killed member's partition",
    );
    let took_over = killed_at.elapsed();
    eprintln!("partition {victim_partition} moved {took_over:?} after the kill: {after_kill:?}");
    assert!(
        took_over < Duration::from_millis(SESSION_TIMEOUT_MS * 3),
        "rebalance after kill -9 took {took_over:?}"
    );
    let idle_pos = if idle < victim { idle } else { idle - 1 };
    assert_eq!(
        after_kill[idle_pos],
        vec![victim_partition],
        "the idle member took partition {victim_partition}: {after_kill:?}"
    );
    let readers: Vec<&Process> = survivors.iter().map(|p| &**p).collect();
    wait_all_printed(&readers, &c, "batch c consumed after the kill");
    // Nothing lost: every record was printed by a survivor or by the member before it died.
    let everything: Vec<(String, String)> = a
        .iter()
        .chain(&b)
        .chain(&c)
        .filter(|(_, v)| !victim_seen.contains(v))
        .cloned()
        .collect();
    wait_all_printed(&readers, &everything, "nothing lost");

    // A clean leave (SIGTERM: commit, LeaveGroup) rebalances well before any session timeout.
    drop(survivors);
    let leaver = (0..4).find(|i| *i != victim && *i != idle).unwrap_or(0);
    let left_at = Instant::now();
    members[leaver].signal_and_wait("TERM", Duration::from_secs(30));
    let mut rest: Vec<&mut Process> = members
        .iter_mut()
        .enumerate()
        .filter(|(i, _)| *i != victim && *i != leaver)
        .map(|(_, p)| p)
        .collect();
    let after_leave = wait_stable(&mut rest, 3, "the two left own all three partitions");
    let rebalanced = left_at.elapsed();
    eprintln!("rebalanced {rebalanced:?} after the clean leave: {after_leave:?}");
    assert!(
        rebalanced < Duration::from_millis(SESSION_TIMEOUT_MS),
        "a clean leave rebalanced in {rebalanced:?}, not at once"
    );
    assert_eq!(after_leave.iter().map(Vec::len).sum::<usize>(), 3);
    let d = batch("d", 30);
    produce(&cluster, "split", &d);
    let readers: Vec<&Process> = rest.iter().map(|p| &**p).collect();
    wait_all_printed(&readers, &d, "batch d consumed after the leave");
}

/// A kafka-python or confluent-kafka member (e2e/python/group_member.py).
fn python_member(
    python: &std::path::Path,
    cluster: &Cluster,
    client: &str,
    topic: &str,
    group: &str,
) -> Process {
    Process::spawn(
        client,
        python,
        vec![
            e2e::repo_root()
                .join("e2e/python/group_member.py")
                .display()
                .to_string(),
            cluster.bootstrap(),
            topic.to_string(),
            group.to_string(),
            client.to_string(),
            "120".to_string(),
        ],
        vec![
            ("PYTHONUNBUFFERED".to_string(), "1".to_string()),
            ("PYTHONDONTWRITEBYTECODE".to_string(), "1".to_string()),
        ],
    )
}

/// A Python member's last reported assignment.
fn python_assignment(p: &Process) -> Option<Vec<i32>> {
    let lines = p.current_log_lines();
    let last = lines
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("ASSIGNED"))?;
    Some(
        last.split(',')
            .filter_map(|s| s.trim().parse().ok())
            .collect(),
    )
}

/// Records a Python member printed, as (partition, value).
fn python_printed(p: &Process) -> Vec<(i32, String)> {
    p.current_log_lines()
        .iter()
        .filter_map(|l| {
            let mut parts = l.strip_prefix("RECORD ")?.splitn(2, ' ');
            Some((parts.next()?.parse().ok()?, parts.next()?.to_string()))
        })
        .collect()
}

/// Our console consumer, kafka-python and confluent-kafka in one group on a fresh 3-partition
/// topic, `first` starting alone so that it leads: the leader encodes the assignment the others
/// decode, so each client's assignment bytes are read by the other two.
fn mixed_group(python: &std::path::Path, cluster: &Cluster, topic: &str, first: &str) {
    cluster.create_topic(topic, 3);
    let group = format!("{topic}-group");
    let start = |who: &str| -> Process {
        match who {
            "ours" => member(cluster, "our console consumer", topic, &group),
            client => python_member(python, cluster, client, topic, &group),
        }
    };
    let mut started: BTreeMap<&str, Process> = BTreeMap::new();
    let mut leader = start(first);
    wait_until(
        &format!("{first} owns all partitions alone"),
        DEADLINE,
        || {
            let all = if first == "ours" {
                membership(&leader)?.1
            } else {
                python_assignment(&leader)?
            };
            (all == vec![0, 1, 2]).then_some(())
        },
    );
    for who in ["ours", "kafka-python", "confluent"] {
        if who != first {
            started.insert(who, start(who));
        }
    }
    let get = |who: &str, leader: &Process| -> Option<Vec<i32>> {
        let p = if who == first {
            leader
        } else {
            started.get(who)?
        };
        if who == "ours" {
            Some(membership(p)?.1)
        } else {
            python_assignment(p)
        }
    };
    let names = ["ours", "kafka-python", "confluent"];
    let owned = wait_until("three clients own one partition each", DEADLINE, || {
        let views: Vec<Vec<i32>> = names
            .iter()
            .map(|n| get(n, &leader))
            .collect::<Option<_>>()?;
        let mut all: Vec<i32> = views.iter().flatten().copied().collect();
        all.sort();
        (all == vec![0, 1, 2] && views.iter().all(|v| v.len() == 1)).then_some(views)
    });
    let records = batch("m", 30);
    produce(cluster, topic, &records);
    let wanted: BTreeSet<&String> = records.iter().map(|(_, v)| v).collect();
    let print_of = |who: &str, leader: &Process| -> Vec<(i32, String)> {
        let p = if who == first {
            Some(leader)
        } else {
            started.get(who)
        };
        match (who, p) {
            ("ours", Some(p)) => printed(p),
            (_, Some(p)) => python_printed(p),
            _ => Vec::new(),
        }
    };
    let printed_by = wait_until("every record printed", DEADLINE, || {
        let by: Vec<Vec<(i32, String)>> = names.iter().map(|n| print_of(n, &leader)).collect();
        let seen: BTreeSet<&String> = by.iter().flatten().map(|(_, v)| v).collect();
        wanted.iter().all(|v| seen.contains(v)).then_some(by)
    });
    for (i, records) in printed_by.iter().enumerate() {
        assert!(
            records.iter().all(|(p, _)| owned[i].contains(p)),
            "{} owns {:?} but printed {records:?}",
            names[i],
            owned[i]
        );
    }
    // kafka-consumer-groups sees the same split: one partition per live member, and the commits
    // every client made bring each partition's lag to 0 at its log end.
    let mut per_partition: BTreeMap<i32, BTreeSet<&String>> = BTreeMap::new();
    for (p, v) in printed_by.iter().flatten() {
        per_partition.entry(*p).or_default().insert(v);
    }
    let bs = cluster.bootstrap();
    wait_until(
        "--describe shows every partition owned and caught up",
        DEADLINE,
        || {
            let out = run_tool(
                "kafka-consumer-groups",
                &["--bootstrap-server", &bs, "--describe", "--group", &group],
                b"",
                TOOL_TIMEOUT,
            );
            let rows: Vec<Vec<&str>> = out
                .stdout
                .lines()
                .map(|l| l.split_whitespace().collect::<Vec<_>>())
                .filter(|c| c.len() == 9 && c[0] == group && c[1] == topic)
                .collect();
            let owners: BTreeSet<&str> = rows.iter().map(|c| c[6]).collect();
            let ok = rows.len() == 3
                && owners.len() == 3
                && rows.iter().all(|c| {
                    let end = c[2]
                        .parse::<i32>()
                        .ok()
                        .and_then(|p| per_partition.get(&p))
                        .map_or(0, |s| s.len())
                        .to_string();
                    c[3] == end && c[4] == end && c[5] == "0" && c[6] != "-" && c[7] == "/127.0.0.1"
                });
            ok.then_some(())
        },
    );
    if first == "ours" {
        leader.signal_and_wait("TERM", Duration::from_secs(30));
    } else if let Some(p) = started.get_mut("ours") {
        p.signal_and_wait("TERM", Duration::from_secs(30));
    }
}

#[test]
fn kafka_python_confluent_kafka_and_our_consumer_share_a_group() {
    let Some(python) = python() else { return };
    let cluster = cluster();
    mixed_group(&python, &cluster, "mixed-ours-lead", "ours");
    mixed_group(&python, &cluster, "mixed-python-leads", "kafka-python");
    mixed_group(&python, &cluster, "mixed-librdkafka-leads", "confluent");
}

#[test]
fn group_errors_end_the_consumer_with_kafkas_messages() {
    let cluster = cluster();
    cluster.create_topic("errs", 1);
    let bs = cluster.bootstrap();
    // Below the broker's group.min.session.timeout.ms.
    let out = run_tool(
        "kafka-console-consumer",
        &[
            "--bootstrap-server",
            &bs,
            "--topic",
            "errs",
            "--group",
            "e",
            "--consumer-property",
            "session.timeout.ms=1000",
            "--timeout-ms",
            "20000",
        ],
        b"",
        TOOL_TIMEOUT,
    );
    assert!(
        out.stderr.contains("org.apache.kafka.common.errors.InvalidSessionTimeoutException: The session timeout is not within the range allowed by the broker"),
        "{out}"
    );
    assert!(
        out.stderr.contains("Processed a total of 0 messages"),
        "{out}"
    );
    // auto.offset.reset=none and nothing committed.
    let out = run_tool(
        "kafka-console-consumer",
        &[
            "--bootstrap-server",
            &bs,
            "--topic",
            "errs",
            "--group",
            "e",
            "--consumer-property",
            "auto.offset.reset=none",
            "--timeout-ms",
            "20000",
        ],
        b"",
        TOOL_TIMEOUT,
    );
    assert!(
        out.stderr
            .contains("Undefined offset with no reset policy for partitions: [errs-0]"),
        "{out}"
    );
}
