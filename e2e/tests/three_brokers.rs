//! Issue 8's three-broker cluster: zookeeper-lite and three brokers started from the shipped
//! `config/server.properties`, `server-1.properties` and `server-2.properties` (only ports, log
//! directories and zookeeper-lite overridden), and where `kafka-topics` sees the replicas go:
//! Kafka's placement (three distinct brokers per partition, leaders spread, racks first), named
//! replicas kept as given, and Kafka's refusals.

use std::collections::BTreeSet;

use e2e::{run_tool, wait_until, Broker, ToolOutput, ZooKeeper, STARTUP_TIMEOUT, TOOL_TIMEOUT};

/// Runs `kafka-topics --bootstrap-server <bootstrap> args...`.
fn topics(bootstrap: &str, args: &[&str]) -> ToolOutput {
    let mut full = vec!["--bootstrap-server", bootstrap];
    full.extend_from_slice(args);
    run_tool("kafka-topics", &full, b"", TOOL_TIMEOUT)
}

fn topics_ok(bootstrap: &str, args: &[&str]) -> ToolOutput {
    let out = topics(bootstrap, args);
    out.assert_success(&format!("kafka-topics {}", args.join(" ")));
    out
}

/// One partition line of `kafka-topics --describe`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PartitionLine {
    partition: i32,
    leader: i32,
    replicas: Vec<i32>,
}

/// The partition lines of a describe, in order (`\tTopic: t\tPartition: 0\tLeader: 1\t
/// Replicas: 1,2,0\tIsr: ...`).
fn partition_lines(describe: &ToolOutput) -> Vec<PartitionLine> {
    describe
        .stdout
        .lines()
        .filter(|l| l.starts_with('\t'))
        .map(|l| {
            let field = |name: &str| {
                l.split('\t')
                    .find_map(|f| f.strip_prefix(name))
                    .unwrap_or_else(|| panic!("no {name} in {l:?}"))
                    .to_string()
            };
            let int = |s: &str| {
                s.parse::<i32>()
                    .unwrap_or_else(|e| panic!("{s:?} in {l:?}: {e}"))
            };
            PartitionLine {
                partition: int(&field("Partition: ")),
                leader: int(&field("Leader: ")),
                replicas: field("Replicas: ").split(',').map(int).collect(),
            }
        })
        .collect()
}

fn describe(bootstrap: &str, topic: &str) -> Vec<PartitionLine> {
    partition_lines(&topics_ok(bootstrap, &["--describe", "--topic", topic]))
}

/// The three brokers of the README, from the shipped files: each file's own `broker.id`.
fn three_shipped_brokers(zk: &ZooKeeper) -> [Broker; 3] {
    [
        Broker::start_from_file(zk, "config/server.properties", 0, &[]),
        Broker::start_from_file(zk, "config/server-1.properties", 1, &[]),
        Broker::start_from_file(zk, "config/server-2.properties", 2, &[]),
    ]
}

#[test]
fn three_brokers_from_the_shipped_files_hold_three_distinct_replicas_of_each_partition() {
    let zk = ZooKeeper::start();
    let brokers = three_shipped_brokers(&zk);
    let bs = brokers[0].bootstrap();

    // The README's commands.
    let create = topics_ok(
        &bs,
        &[
            "--create",
            "--topic",
            "my-replicated-topic",
            "--replication-factor",
            "3",
            "--partitions",
            "3",
        ],
    );
    assert_eq!(
        create.stdout, "Created topic my-replicated-topic.\n",
        "{create}"
    );
    let out = topics_ok(&bs, &["--describe", "--topic", "my-replicated-topic"]);
    assert!(
        out.stdout
            .lines()
            .next()
            .is_some_and(|l| l.contains("\tPartitionCount: 3\tReplicationFactor: 3\t")),
        "{out}"
    );
    let lines = partition_lines(&out);
    assert_eq!(
        lines.iter().map(|p| p.partition).collect::<Vec<_>>(),
        [0, 1, 2],
        "{out}"
    );
    for p in &lines {
        let distinct: BTreeSet<i32> = p.replicas.iter().copied().collect();
        assert_eq!(
            distinct,
            BTreeSet::from([0, 1, 2]),
            "three distinct brokers: {out}"
        );
        assert_eq!(p.leader, p.replicas[0], "the first replica leads: {out}");
    }
    let leaders: BTreeSet<i32> = lines.iter().map(|p| p.leader).collect();
    assert_eq!(leaders.len(), 3, "each broker leads one partition: {out}");

    // Every broker serves the same description.
    for b in &brokers[1..] {
        wait_until(
            &format!("broker {} to describe the topic", b.id()),
            STARTUP_TIMEOUT,
            || {
                let out = topics(
                    &b.bootstrap(),
                    &["--describe", "--topic", "my-replicated-topic"],
                );
                (out.code == Some(0) && partition_lines(&out) == lines).then_some(())
            },
        );
    }

    // New partitions of an existing topic: Kafka starts them at partition 0's leader, and a
    // new round shifts the followers.
    topics_ok(
        &bs,
        &[
            "--alter",
            "--topic",
            "my-replicated-topic",
            "--partitions",
            "4",
        ],
    );
    let grown = describe(&bs, "my-replicated-topic");
    assert_eq!(
        grown[..3],
        lines[..],
        "existing partitions stay as they were"
    );
    assert_eq!(grown[3].partition, 3);
    assert_eq!(grown[3].leader, lines[0].leader, "{grown:?}");
    assert_eq!(
        grown[3].replicas.iter().collect::<BTreeSet<_>>().len(),
        3,
        "{grown:?}"
    );

    // More replicas than live brokers: Kafka's refusal.
    let too_many = topics(
        &bs,
        &[
            "--create",
            "--topic",
            "too-replicated",
            "--replication-factor",
            "4",
            "--partitions",
            "1",
        ],
    );
    too_many.assert_code(1, "replication factor above the broker count");
    assert_eq!(
        too_many.stdout.trim_end(),
        "Error while executing topic command : Replication factor: 4 larger than available brokers: 3.",
        "{too_many}"
    );
}

#[test]
fn named_replicas_are_kept_as_given_and_unknown_brokers_are_refused() {
    let zk = ZooKeeper::start();
    let brokers = [
        Broker::start(&zk, 0, &[]),
        Broker::start(&zk, 1, &[]),
        Broker::start(&zk, 2, &[]),
    ];
    // Broker 0, the controller, which answers from the metadata it just refreshed (another
    // broker learns of the topic at its next heartbeat).
    let bs = brokers[0].bootstrap();

    topics_ok(
        &bs,
        &[
            "--create",
            "--topic",
            "named",
            "--replica-assignment",
            "2:1:0,0:2:1,1:0:2",
        ],
    );
    let expected = |partition: i32, replicas: &[i32]| PartitionLine {
        partition,
        leader: replicas[0],
        replicas: replicas.to_vec(),
    };
    assert_eq!(
        describe(&bs, "named"),
        [
            expected(0, &[2, 1, 0]),
            expected(1, &[0, 2, 1]),
            expected(2, &[1, 0, 2]),
        ]
    );
    // Two brokers of three, in the order given.
    topics_ok(
        &bs,
        &[
            "--create",
            "--topic",
            "pairs",
            "--replica-assignment",
            "1:2,2:0",
        ],
    );
    assert_eq!(
        describe(&bs, "pairs"),
        [expected(0, &[1, 2]), expected(1, &[2, 0])]
    );

    // On alter, the list names every partition; the new ones take the entries past the
    // existing count.
    topics_ok(
        &bs,
        &[
            "--alter",
            "--topic",
            "named",
            "--partitions",
            "5",
            "--replica-assignment",
            "2:1:0,0:2:1,1:0:2,1:2:0,0:1:2",
        ],
    );
    let named = describe(&bs, "named");
    assert_eq!(
        named[3..],
        [expected(3, &[1, 2, 0]), expected(4, &[0, 1, 2])]
    );

    // A broker that never registered: Kafka's CreatePartitions text.
    let unknown = topics(
        &bs,
        &[
            "--alter",
            "--topic",
            "named",
            "--partitions",
            "6",
            "--replica-assignment",
            "2:1:0,0:2:1,1:0:2,1:2:0,0:1:2,5:1:0",
        ],
    );
    unknown.assert_code(1, "alter naming broker 5");
    assert_eq!(
        unknown.stdout.trim_end(),
        "Error while executing topic command : Unknown broker(s) in replica assignment: 5.",
        "{unknown}"
    );
    assert_eq!(describe(&bs, "named").len(), 5, "nothing was added");
    // On create too (Kafka's ZooKeeper-mode CreateTopics would take it; see PROTOCOL.md).
    let unknown = topics(
        &bs,
        &[
            "--create",
            "--topic",
            "on-nobody",
            "--replica-assignment",
            "0:7",
        ],
    );
    unknown.assert_code(1, "create naming broker 7");
    assert_eq!(
        unknown.stdout.trim_end(),
        "Error while executing topic command : Unknown broker(s) in replica assignment: 7.",
        "{unknown}"
    );
}

#[test]
fn brokers_with_racks_get_each_partition_across_racks_and_a_rackless_broker_is_refused() {
    let zk = ZooKeeper::start();
    // Two brokers in one region and one in another: round robin alone would pair 0 and 1.
    let mut brokers = vec![
        Broker::start(&zk, 0, &[("broker.rack", "us-east-1")]),
        Broker::start(&zk, 1, &[("broker.rack", "us-east-1")]),
        Broker::start(&zk, 2, &[("broker.rack", "eu-west-1")]),
    ];
    let bs = brokers[0].bootstrap();
    for topic in ["spread-a", "spread-b", "spread-c"] {
        topics_ok(
            &bs,
            &[
                "--create",
                "--topic",
                topic,
                "--partitions",
                "6",
                "--replication-factor",
                "2",
            ],
        );
        let lines = describe(&bs, topic);
        assert_eq!(lines.len(), 6);
        for p in &lines {
            assert!(
                p.replicas.contains(&2),
                "each partition has a replica in eu-west-1: {lines:?}"
            );
        }
        let mut leads = [0; 3];
        for p in &lines {
            leads[p.leader as usize] += 1;
        }
        assert_eq!(leads, [2, 2, 2], "leaders even: {lines:?}");
    }

    // A fourth broker without broker.rack: Kafka refuses to place replicas, as an unexpected
    // server error whose text only the broker's log shows.
    brokers.push(Broker::start(&zk, 3, &[]));
    let refused = topics(
        &bs,
        &[
            "--create",
            "--topic",
            "mixed",
            "--partitions",
            "1",
            "--replication-factor",
            "1",
        ],
    );
    refused.assert_code(1, "create with a rackless broker");
    let unexpected = "Error while executing topic command : The server experienced an unexpected \
                      error when processing the request.";
    assert_eq!(refused.stdout.trim_end(), unexpected, "{refused}");
    let logged = |text: &str| {
        wait_until(
            &format!("a broker to log {text:?}"),
            STARTUP_TIMEOUT,
            || {
                brokers
                    .iter()
                    .any(|b| b.process.log().contains(text))
                    .then_some(())
            },
        )
    };
    logged("Not all brokers have rack information for replica rack aware assignment.");
    // Named replicas need no placement: Kafka's CreateTopics takes them.
    topics_ok(
        &bs,
        &[
            "--create",
            "--topic",
            "named",
            "--replica-assignment",
            "3:0",
        ],
    );
    // Adding partitions reads the brokers in Kafka's rack-enforced mode first.
    let refused = topics(
        &bs,
        &["--alter", "--topic", "spread-a", "--partitions", "7"],
    );
    refused.assert_code(1, "alter with a rackless broker");
    assert_eq!(refused.stdout.trim_end(), unexpected, "{refused}");
    logged("Not all brokers have rack information. Add --disable-rack-aware in command line");
    assert_eq!(describe(&bs, "spread-a").len(), 6);
}
