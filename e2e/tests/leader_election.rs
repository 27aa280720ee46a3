//! `kafka-leader-election` against three brokers whose leaders only the tool moves
//! (`auto.leader.rebalance.enable=false`): a broker stopped with SIGTERM hands its leadership to
//! another in-sync replica (controlled shutdown); once restarted and back in the ISR, a preferred
//! election gives it back, with Kafka 3.9's output; asked again, the valid replica is already
//! elected. A partition whose preferred replica is down fails with Kafka's error line and exit
//! code. Bad usage gets `LeaderElectionCommand`'s texts and exit codes.

use std::time::Duration;

use e2e::{run_tool, wait_until, Broker, ToolOutput, ZooKeeper, TOOL_TIMEOUT};

/// How long a restarted broker may take to catch up and rejoin the ISR, and brokers to learn of
/// a leader change.
const CONVERGE: Duration = Duration::from_secs(60);

const NO_REBALANCE: &[(&str, &str)] = &[("auto.leader.rebalance.enable", "false")];

fn elect(bootstrap: &str, args: &[&str]) -> ToolOutput {
    let mut full = vec!["--bootstrap-server", bootstrap];
    full.extend_from_slice(args);
    run_tool("kafka-leader-election", &full, b"", TOOL_TIMEOUT)
}

fn topics(bootstrap: &str, args: &[&str]) -> ToolOutput {
    let mut full = vec!["--bootstrap-server", bootstrap];
    full.extend_from_slice(args);
    let out = run_tool("kafka-topics", &full, b"", TOOL_TIMEOUT);
    out.assert_success(&format!("kafka-topics {}", full.join(" ")));
    out
}

/// Partition 0 of `topic` as `kafka-topics --describe` shows it: its leader and its ISR (sorted).
fn leader_and_isr(bootstrap: &str, topic: &str) -> Option<(String, Vec<i32>)> {
    let out = topics(bootstrap, &["--describe", "--topic", topic]);
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains(&format!("Topic: {topic}\tPartition: 0\t")))?;
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
    Some((field("Leader")?, isr))
}

fn wait_for(bootstrap: &str, topic: &str, leader: &str, isr: &[i32]) {
    wait_until(
        &format!("{topic}-0 to show Leader: {leader} and Isr {isr:?}"),
        CONVERGE,
        || {
            let (l, i) = leader_and_isr(bootstrap, topic)?;
            (l == leader && i == isr).then_some(())
        },
    );
}

/// stdout of a run that must exit 0 with nothing on stderr.
fn ok(out: &ToolOutput, what: &str) -> String {
    out.assert_success(what);
    assert_eq!(out.stderr, "", "{what}: {out}");
    out.stdout.clone()
}

#[test]
fn preferred_election_gives_leadership_back_to_a_restarted_broker_and_fails_while_one_is_down() {
    let zk = ZooKeeper::start();
    let mut b0 = Broker::start(&zk, 0, NO_REBALANCE);
    let b1 = Broker::start(&zk, 1, NO_REBALANCE);
    let mut b2 = Broker::start(&zk, 2, NO_REBALANCE);
    let boot = b1.bootstrap();
    for (topic, assignment) in [("elect", "0:1:2"), ("orphan", "2:1")] {
        let out = topics(
            &boot,
            &[
                "--create",
                "--topic",
                topic,
                "--replica-assignment",
                assignment,
            ],
        );
        assert!(
            out.stdout.contains(&format!("Created topic {topic}.")),
            "{out}"
        );
    }
    wait_for(&boot, "elect", "0", &[0, 1, 2]);
    wait_for(&boot, "orphan", "2", &[1, 2]);

    // Nothing to elect yet: every leader is its partition's preferred replica.
    let all = ["--election-type", "preferred", "--all-topic-partitions"];
    assert_eq!(ok(&elect(&boot, &all), "nothing to elect"), "");

    // Controlled shutdown moves elect-0's leadership to broker 1; back, broker 0 rejoins the ISR
    // once caught up but does not lead again by itself.
    assert!(b0.stop().success(), "broker 0 stops cleanly");
    wait_for(&boot, "elect", "1", &[1, 2]);
    b0.restart();
    wait_for(&boot, "elect", "1", &[0, 1, 2]);

    let out = elect(&boot, &all);
    assert_eq!(
        ok(&out, "preferred --all-topic-partitions"),
        "Successfully completed leader election (PREFERRED) for partitions elect-0\n"
    );
    wait_for(&boot, "elect", "0", &[0, 1, 2]);
    let (leader, _) = leader_and_isr(&b0.bootstrap(), "elect").unwrap_or_default();
    assert_eq!(leader, "0", "broker 0 itself describes elect-0 as its own");

    // Again: with every partition there is nothing to report; named (by option, by JSON file,
    // election type in any case), the valid replica is already elected.
    assert_eq!(ok(&elect(&boot, &all), "preferred again"), "");
    let one = [
        "--election-type",
        "PREFERRED",
        "--topic",
        "elect",
        "--partition",
        "0",
    ];
    assert_eq!(
        ok(&elect(&boot, &one), "--topic elect --partition 0"),
        "Valid replica already elected for partitions elect-0\n"
    );
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let file = dir.path().join("election.json");
    std::fs::write(
        &file,
        r#"{"partitions": [{"topic": "elect", "partition": 0}]}"#,
    )
    .unwrap_or_else(|e| panic!("writing {}: {e}", file.display()));
    let file = file.display().to_string();
    assert_eq!(
        ok(
            &elect(
                &boot,
                &["--election-type", "Preferred", "--path-to-json-file", &file]
            ),
            "--path-to-json-file"
        ),
        "Valid replica already elected for partitions elect-0\n"
    );

    // A partition that does not exist.
    let out = elect(
        &boot,
        &[
            "--election-type",
            "preferred",
            "--topic",
            "elect",
            "--partition",
            "7",
        ],
    );
    out.assert_code(1, "unknown partition");
    assert_eq!(
        out.stdout,
        "Error completing leader election (PREFERRED) for partition: elect-7: \
         org.apache.kafka.common.errors.UnknownTopicOrPartitionException: The partition does not \
         exist.\n",
        "{out}"
    );
    assert!(
        out.stderr.starts_with(
            "1 replica(s) could not be elected\n\
             org.apache.kafka.server.common.AdminCommandFailedException: 1 replica(s) could not \
             be elected\n"
        ),
        "{out}"
    );

    // orphan-0 prefers broker 2, which goes down: its leadership moves to broker 1 and a
    // preferred election cannot bring it back, named or with every partition.
    assert!(b2.stop().success(), "broker 2 stops cleanly");
    wait_for(&boot, "orphan", "1", &[1]);
    let failure = "Error completing leader election (PREFERRED) for partition: orphan-0: \
                   org.apache.kafka.common.errors.PreferredLeaderNotAvailableException: Failed \
                   to elect leader for partition orphan-0 under strategy \
                   PreferredReplicaPartitionLeaderElectionStrategy\n";
    let named = [
        "--election-type",
        "preferred",
        "--topic",
        "orphan",
        "--partition",
        "0",
    ];
    for args in [&named[..], &all[..]] {
        let out = elect(&boot, args);
        out.assert_code(1, &args.join(" "));
        assert_eq!(out.stdout, failure, "{out}");
        assert!(
            out.stderr
                .starts_with("1 replica(s) could not be elected\n"),
            "{out}"
        );
    }
    // Unclean: orphan-0 has a live leader, so there is nothing to do.
    let unclean = [
        "--election-type",
        "unclean",
        "--topic",
        "orphan",
        "--partition",
        "0",
    ];
    assert_eq!(
        ok(&elect(&boot, &unclean), "unclean orphan-0"),
        "Valid replica already elected for partitions orphan-0\n"
    );
    wait_for(&boot, "orphan", "1", &[1]);
}

/// Usage errors are found before any broker is asked: the exception's message and what was
/// thrown on stderr, exit 1. `--help` also exits 1; `--version` exits 0.
#[test]
fn bad_usage_gets_kafkas_texts_and_exit_codes() {
    // Nothing listens there; none of these runs gets as far as connecting.
    let nowhere = "127.0.0.1:1";
    let failed = "org.apache.kafka.server.common.AdminCommandFailedException";
    let one_of = "One and only one of the following options is required: topic, \
                  all-topic-partitions, path-to-json-file";
    let cases: Vec<(Vec<&str>, String, String)> = vec![
        (
            vec!["--bootstrap-server", nowhere, "--all-topic-partitions"],
            "Missing required option(s): election-type".into(),
            failed.into(),
        ),
        (
            vec!["--all-topic-partitions"],
            "Missing required option(s): bootstrap-server, election-type".into(),
            failed.into(),
        ),
        (
            vec![
                "--bootstrap-server",
                nowhere,
                "--election-type",
                "preferred",
            ],
            one_of.into(),
            failed.into(),
        ),
        (
            vec![
                "--bootstrap-server",
                nowhere,
                "--election-type",
                "preferred",
                "--topic",
                "t",
                "--all-topic-partitions",
            ],
            one_of.into(),
            failed.into(),
        ),
        (
            vec![
                "--bootstrap-server",
                nowhere,
                "--election-type",
                "preferred",
                "--topic",
                "t",
            ],
            "Missing required option(s): partition".into(),
            failed.into(),
        ),
        (
            vec![
                "--bootstrap-server",
                nowhere,
                "--election-type",
                "preferred",
                "--all-topic-partitions",
                "--partition",
                "0",
            ],
            "Option partition is only allowed if topic is used".into(),
            failed.into(),
        ),
        (
            vec![
                "--bootstrap-server",
                nowhere,
                "--election-type",
                "sometimes",
                "--all-topic-partitions",
            ],
            "Cannot parse argument 'sometimes' of option election-type".into(),
            "joptsimple.OptionArgumentConversionException".into(),
        ),
        (
            vec![
                "--bootstrap-server",
                nowhere,
                "--election-type",
                "preferred",
                "--topic",
                "t",
                "--partition",
                "first",
            ],
            "Cannot parse argument 'first' of option partition".into(),
            "joptsimple.OptionArgumentConversionException".into(),
        ),
        (
            vec!["--zookeeper", "localhost:2181"],
            "zookeeper is not a recognized option".into(),
            "joptsimple.UnrecognizedOptionException".into(),
        ),
        (
            vec![
                "--bootstrap-server",
                nowhere,
                "--election-type",
                "preferred",
                "--path-to-json-file",
                "/nonexistent/election.json",
            ],
            "java.nio.file.NoSuchFileException: /nonexistent/election.json".into(),
            "java.lang.RuntimeException".into(),
        ),
    ];
    for (args, message, class) in cases {
        let out = run_tool("kafka-leader-election", &args, b"", TOOL_TIMEOUT);
        out.assert_code(1, &args.join(" "));
        assert_eq!(out.stdout, "", "{out}");
        let mut lines = out.stderr.lines();
        assert_eq!(lines.next(), Some(message.as_str()), "{out}");
        assert_eq!(
            lines.next(),
            Some(format!("{class}: {message}").as_str()),
            "{out}"
        );
    }

    for args in [&[][..], &["--help"][..]] {
        let out = run_tool("kafka-leader-election", args, b"", TOOL_TIMEOUT);
        out.assert_code(1, "--help");
        assert_eq!(out.stdout, "", "{out}");
        assert!(
            out.stderr.starts_with(
                "This tool attempts to elect a new leader for a set of topic partitions. The \
                 type of elections supported are preferred replicas and unclean replicas.\n\
                 Option "
            ),
            "{out}"
        );
        assert!(
            out.stderr.contains("--election-type <[PREFERRED,UNCLEAN]:"),
            "{out}"
        );
    }
    let out = run_tool("kafka-leader-election", &["--version"], b"", TOOL_TIMEOUT);
    out.assert_success("--version");
    assert_eq!(out.stdout, "3.9.1\n");

    // The wrapper script runs the same binary.
    let out = e2e::run_script(
        "kafka-leader-election.sh",
        &["--version"],
        b"",
        TOOL_TIMEOUT,
    );
    out.assert_success("kafka-leader-election.sh --version");
    assert_eq!(out.stdout, "3.9.1\n");
}
