//! The built `kafka-console-producer` on command lines and inputs that fail without a broker.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kafka-console-producer"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kafka-console-producer starts");
    if let Some(mut input) = child.stdin.take() {
        // The tool may exit before reading everything.
        let _ = input.write_all(stdin);
    }
    child
        .wait_with_output()
        .expect("kafka-console-producer ends")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn invalid_host_port_gets_kafkas_message_and_usage() {
    let out = run(&["--bootstrap-server", "localhost", "--topic", "t"], b"");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.starts_with("Please provide valid host:port like host1:9091,host2:9092\n \nOption"),
        "{err}"
    );
}

#[test]
fn topic_and_server_are_required() {
    let out = run(&["--bootstrap-server", "a:1"], b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).starts_with("Missing required argument \"[topic]\"\n"));
    let out = run(&["--topic", "t"], b"");
    assert!(text(&out.stderr).starts_with("Missing required option(s) [bootstrap-server]\n"));
}

#[test]
fn null_marker_equal_to_a_separator_is_refused() {
    let out = run(
        &[
            "--bootstrap-server",
            "127.0.0.1:1",
            "--topic",
            "t",
            "--property",
            "null.marker=\t",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("null.marker and key.separator may not be equal"));
}

#[test]
fn unreachable_broker_is_logged_per_record_and_the_run_ends_normally() {
    let out = run(
        &[
            "--bootstrap-server",
            "127.0.0.1:1",
            "--topic",
            "t",
            "--max-block-ms",
            "1000",
            "--request-timeout-ms",
            "500",
        ],
        b"a\n",
    );
    // Kafka's send times out in waitOnMetadata after max.block.ms; the TimeoutException goes to
    // ErrorLoggingCallback and the tool exits 0 at the end of input.
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("ERROR Error when sending message to topic t with key: null, value: 1 bytes with error: (org.apache.kafka.clients.producer.internals.ErrorLoggingCallback)"), "{stderr}");
    assert!(stderr.contains("org.apache.kafka.common.errors.TimeoutException: Topic t not present in metadata after 1000 ms."), "{stderr}");
    // Meanwhile NetworkClient warns about each failed connection.
    assert!(stderr.contains("] WARN [Producer clientId=console-producer] Connection to node -1 (/127.0.0.1:1) could not be established. Node may not be available. (org.apache.kafka.clients.NetworkClient)\n"), "{stderr}");
    // Piped input: no prompt.
    assert!(!text(&out.stdout).contains('>'));
}

#[test]
fn invalid_producer_values_are_config_exceptions_before_anything_is_read() {
    for (args, text_expected) in [
        (
            &["--compression-codec", "foo"][..],
            "org.apache.kafka.common.config.ConfigException: Invalid value foo for configuration compression.type: String must be one of: none, gzip, snappy, lz4, zstd\n",
        ),
        (
            &["--request-required-acks", "2"][..],
            "org.apache.kafka.common.config.ConfigException: Invalid value 2 for configuration acks: String must be one of: all, -1, 0, 1\n",
        ),
        (
            &["--producer-property", "max.request.size=x"][..],
            "org.apache.kafka.common.config.ConfigException: Invalid value x for configuration max.request.size: Not a number of type INT\n",
        ),
    ] {
        let mut all = vec!["--bootstrap-server", "127.0.0.1:1", "--topic", "t"];
        all.extend_from_slice(args);
        let out = run(&all, b"a\n");
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(text(&out.stderr), text_expected, "{args:?}");
    }
}
