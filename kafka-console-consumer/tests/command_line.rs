//! The built `kafka-console-consumer` on command lines that fail without a broker.

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kafka-console-consumer"))
        .args(args)
        .output()
        .expect("kafka-console-consumer runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn no_arguments_print_usage() {
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).starts_with(
        "This tool helps to read data from Kafka topics and outputs it to standard output.\nOption"
    ));
}

#[test]
fn option_conflicts_get_kafkas_messages() {
    let out = run(&[
        "--bootstrap-server",
        "a:1",
        "--topic",
        "t",
        "--from-beginning",
        "--consumer-property",
        "auto.offset.reset=latest",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "Can't simultaneously specify --from-beginning and 'auto.offset.reset=latest', please remove one option\n"
    );
    let out = run(&[
        "--bootstrap-server",
        "a:1",
        "--include",
        "x",
        "--partition",
        "0",
    ]);
    assert!(text(&out.stderr).starts_with("The topic is required when partition is specified.\n"));
}

#[test]
fn unreachable_broker_reports_the_count() {
    let out = run(&[
        "--bootstrap-server",
        "127.0.0.1:1",
        "--topic",
        "t",
        "--timeout-ms",
        "500",
    ]);
    let err = text(&out.stderr);
    assert!(err.contains("Processed a total of 0 messages"), "{err}");
    // Kafka keeps reconnecting inside poll, logging each failure, until --timeout-ms; then
    // `receive` throws a TimeoutException, `process` logs it and returns: exit 0.
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("WARN [Consumer clientId=console-consumer, groupId=console-consumer-"),
        "{err}"
    );
    assert!(err.contains("] Connection to node -1 (/127.0.0.1:1) could not be established. Node may not be available. (org.apache.kafka.clients.NetworkClient)"), "{err}");
    assert!(err.contains("ERROR Error processing message, terminating consumer process:  (org.apache.kafka.tools.consumer.ConsoleConsumer)\norg.apache.kafka.common.errors.TimeoutException\nProcessed a total of 0 messages\n"), "{err}");
}

#[test]
fn an_invalid_include_pattern_fails_before_processing() {
    let out = run(&[
        "--bootstrap-server",
        "127.0.0.1:1",
        "--include",
        "(",
        "--timeout-ms",
        "500",
    ]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("ERROR Unknown error when running consumer:  (org.apache.kafka.tools.consumer.ConsoleConsumer)\njava.util.regex.PatternSyntaxException: "), "{err}");
    assert!(!err.contains("Processed a total"), "{err}");
}

#[test]
fn a_bad_consumer_config_fails_before_processing() {
    let out = run(&[
        "--bootstrap-server",
        "127.0.0.1:1",
        "--topic",
        "t",
        "--consumer-property",
        "fetch.min.bytes=x",
    ]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("ERROR Unknown error when running consumer:  (org.apache.kafka.tools.consumer.ConsoleConsumer)\norg.apache.kafka.common.config.ConfigException: Invalid value x for configuration fetch.min.bytes"), "{err}");
    assert!(!err.contains("Processed a total"), "{err}");
}
