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
}
