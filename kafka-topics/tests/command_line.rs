//! The built `kafka-topics` binary on command lines that fail before any connection: streams,
//! messages and exit codes as Kafka's tool has them.

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kafka-topics"))
        .args(args)
        .output()
        .expect("kafka-topics runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn no_arguments_print_usage_on_stderr_and_exit_1() {
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = text(&out.stderr);
    assert!(
        err.starts_with("Create, delete, describe, or change a topic.\nOption "),
        "{err}"
    );
    assert!(
        err.contains("--bootstrap-server <String: server to"),
        "{err}"
    );
}

#[test]
fn help_exits_1_and_version_exits_0() {
    let out = run(&["--help"]);
    assert_eq!(out.status.code(), Some(1));
    let out = run(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "3.9.1\n");
}

#[test]
fn single_dash_unknown_word_names_its_first_letter() {
    let out = run(&[
        "--bootstrap-server",
        "127.0.0.1:1",
        "--create",
        "--topic",
        "t",
        "-partition",
        "3",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr), "p is not a recognized option\n");
}

#[test]
fn bad_number_is_a_command_error_on_stdout() {
    let out = run(&[
        "--bootstrap-server",
        "127.0.0.1:1",
        "--create",
        "--topic",
        "t",
        "--partitions",
        "abc",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout),
        "Error while executing topic command : Cannot parse argument 'abc' of option partitions\n"
    );
    assert!(text(&out.stderr).contains("] ERROR "));
}

#[test]
fn missing_bootstrap_server() {
    let out = run(&["--list"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr), "--bootstrap-server must be specified\n");
}

#[test]
fn invalid_config_is_reported_before_connecting() {
    let out = run(&[
        "--bootstrap-server",
        "127.0.0.1:1",
        "--create",
        "--topic",
        "t",
        "--config",
        "retention.ms",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("requirement failed: Invalid topic config: all configs to be added must be in the format \"key=val\"."));
}
