//! Invalid command lines get Kafka's messages (jopt-simple's and the tools' own) and exit 1;
//! errors from the broker are printed as Kafka prints them.

use std::time::{Duration, Instant};

use e2e::{run_tool, Cluster, ToolOutput, TOOL_TIMEOUT};

/// Runs `tool args` (no cluster needed: it fails before connecting) and checks exit 1 with
/// `message` on stderr.
fn usage_error(tool: &str, args: &[&str], message: &str) -> ToolOutput {
    let out = run_tool(tool, args, b"", TOOL_TIMEOUT);
    out.assert_code(1, &format!("{tool} {}", args.join(" ")));
    assert!(
        out.stderr.contains(message),
        "expected {message:?} on stderr: {out}"
    );
    out
}

// A port nothing listens on: parsing errors must be reported before any connection attempt.
const NOWHERE: &str = "127.0.0.1:1";

#[test]
fn unknown_options_are_rejected_with_joptsimples_message() {
    usage_error(
        "kafka-topics",
        &["--bootstrap-server", NOWHERE, "--list", "--foo"],
        "foo is not a recognized option",
    );
    // A single-dash word that is no long option is a cluster of short options: Kafka names the
    // first character.
    usage_error(
        "kafka-topics",
        &["--bootstrap-server", NOWHERE, "--list", "-x"],
        "x is not a recognized option",
    );
    usage_error(
        "kafka-console-producer",
        &["--bootstrap-server", NOWHERE, "--topic", "t", "--nope"],
        "nope is not a recognized option",
    );
    usage_error(
        "kafka-console-consumer",
        &["--bootstrap-server", NOWHERE, "--topic", "t", "--nope"],
        "nope is not a recognized option",
    );
}

#[test]
fn missing_required_options_are_named() {
    usage_error(
        "kafka-topics",
        &[
            "--bootstrap-server",
            NOWHERE,
            "--create",
            "--partitions",
            "1",
        ],
        "Missing required argument \"[topic]\"",
    );
    usage_error(
        "kafka-console-producer",
        &["--bootstrap-server", NOWHERE],
        "Missing required argument \"[topic]\"",
    );
    usage_error(
        "kafka-console-producer",
        &["--topic", "t"],
        "Missing required option(s) [bootstrap-server]",
    );
    usage_error(
        "kafka-console-consumer",
        &["--bootstrap-server", NOWHERE],
        "Exactly one of --include/--topic is required.",
    );
    usage_error(
        "kafka-topics",
        &["--bootstrap-server", NOWHERE],
        "Command must include exactly one action: --list, --describe, --create, --alter or --delete",
    );
}

#[test]
fn bad_option_values_are_reported() {
    usage_error(
        "kafka-topics",
        &[
            "--bootstrap-server",
            NOWHERE,
            "--create",
            "--topic",
            "t",
            "--partitions",
            "abc",
        ],
        "Cannot parse argument 'abc' of option partitions",
    );
    usage_error(
        "kafka-console-consumer",
        &[
            "--bootstrap-server",
            NOWHERE,
            "--topic",
            "t",
            "--offset",
            "5",
        ],
        "The partition is required when offset is specified.",
    );
    usage_error(
        "kafka-console-consumer",
        &[
            "--bootstrap-server",
            NOWHERE,
            "--topic",
            "t",
            "--partition",
            "0",
            "--offset",
            "x",
        ],
        "The provided offset value 'x' is incorrect. Valid values are 'earliest', 'latest', or a non-negative long.",
    );
}

#[test]
fn broker_errors_are_printed_as_kafka_prints_them() {
    let cluster = Cluster::start();
    cluster.create_topic("vmc-topic", 3);
    let bs = cluster.bootstrap();

    let again = run_tool(
        "kafka-topics",
        &[
            "--bootstrap-server",
            &bs,
            "--create",
            "--topic",
            "vmc-topic",
            "--partitions",
            "3",
            "--replication-factor",
            "1",
        ],
        b"",
        TOOL_TIMEOUT,
    );
    again.assert_code(1, "create twice");
    assert!(
        again
            .stdout
            .contains("Error while executing topic command : Topic 'vmc-topic' already exists."),
        "{again}"
    );

    // jopt-simple accepts a single dash before a long option, with `=` or a separate value.
    let single = cluster.topics(&[
        "--create",
        "--topic",
        "single-dash",
        "-partitions=2",
        "-replication-factor",
        "1",
    ]);
    assert_eq!(single.stdout, "Created topic single-dash.\n", "{single}");

    // --if-not-exists swallows it silently.
    let quiet = cluster.topics(&[
        "--create",
        "--topic",
        "vmc-topic",
        "--partitions",
        "3",
        "--if-not-exists",
    ]);
    assert_eq!(quiet.stdout, "", "{quiet}");

    let missing = run_tool(
        "kafka-topics",
        &[
            "--bootstrap-server",
            &bs,
            "--describe",
            "--topic",
            "no-such-topic",
        ],
        b"",
        TOOL_TIMEOUT,
    );
    missing.assert_code(1, "describe a missing topic");
    assert!(
        missing.stdout.contains(
            "Error while executing topic command : Topic 'no-such-topic' does not exist as expected"
        ),
        "{missing}"
    );

    let rf = run_tool(
        "kafka-topics",
        &[
            "--bootstrap-server",
            &bs,
            "--create",
            "--topic",
            "too-replicated",
            "--replication-factor",
            "3",
        ],
        b"",
        TOOL_TIMEOUT,
    );
    rf.assert_code(1, "replication factor above the broker count");
    assert!(
        rf.stdout
            .contains("Replication factor: 3 larger than available brokers: 1."),
        "{rf}"
    );
}

#[test]
fn producer_to_a_missing_topic_fails_clearly_when_auto_create_is_off() {
    let cluster = Cluster::start_with(&[("auto.create.topics.enable", "false")]);
    let bs = cluster.bootstrap();
    let started = Instant::now();
    let out = run_tool(
        "kafka-console-producer",
        &[
            "--bootstrap-server",
            &bs,
            "--topic",
            "missing-topic",
            "--producer-property",
            "max.block.ms=3000",
        ],
        b"hello\n",
        TOOL_TIMEOUT,
    );
    assert!(!out.timed_out, "the producer gives up by itself: {out}");
    // Kafka's async send hands the TimeoutException to ErrorLoggingCallback and goes on; the
    // tool exits 0 at the end of input.
    out.assert_success("producer to a missing topic");
    assert!(
        out.stderr.contains("org.apache.kafka.common.errors.TimeoutException: Topic missing-topic not present in metadata after 3000 ms."),
        "the error names the topic: {out}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "max.block.ms=3000 bounds the wait: {out}"
    );

    // The topic was not created behind the user's back.
    let list = cluster.topics(&["--list"]);
    assert!(!list.stdout.contains("missing-topic"), "{list}");
}
