//! The console tools' error paths against a real broker, as Kafka 3.9's `ConsoleProducer`
//! (`LineMessageReader`, `ErrorLoggingCallback`) and `ConsoleConsumer` take them: the same
//! text, the same exit code, and the same records stored (read back with kcat).

use std::process::Command;
use std::time::Duration;

use e2e::{have_kcat, run_command, run_tool, Cluster, ToolOutput, TOOL_TIMEOUT};

const KCAT_TIMEOUT: Duration = Duration::from_secs(60);

const CALLBACK_ERROR: &str = "ERROR Error when sending message to topic";
const CALLBACK_LOGGER: &str = "(org.apache.kafka.clients.producer.internals.ErrorLoggingCallback)";
const TOO_LARGE_FOR_REQUEST: &str = "org.apache.kafka.common.errors.RecordTooLargeException: The message is 2000088 bytes when serialized which is larger than 1048576, which is the value of the max.request.size configuration.";
const TOO_LARGE_FOR_BROKER: &str = "org.apache.kafka.common.errors.RecordTooLargeException: The request included a message larger than the max message size the server will accept.";

/// Every record of `topic` as kcat prints it with `format` (one line per record).
fn kcat_read_all(bs: &str, topic: &str, format: &str) -> Vec<String> {
    let mut cmd = Command::new("kcat");
    cmd.args([
        "-b",
        bs,
        "-t",
        topic,
        "-C",
        "-e",
        "-q",
        "-o",
        "beginning",
        "-f",
        format,
    ]);
    let out = run_command(cmd, b"", KCAT_TIMEOUT);
    out.assert_success("kcat -C");
    out.stdout.lines().map(str::to_string).collect()
}

fn produce(bs: &str, topic: &str, extra: &[&str], stdin: &[u8]) -> ToolOutput {
    let mut args = vec!["--bootstrap-server", bs, "--topic", topic];
    args.extend_from_slice(extra);
    run_tool("kafka-console-producer", &args, stdin, TOOL_TIMEOUT)
}

/// "one", a line of `size` bytes, "two".
fn lines_around(size: usize) -> Vec<u8> {
    let mut input = b"one\n".to_vec();
    input.extend(std::iter::repeat_n(b'x', size));
    input.extend_from_slice(b"\ntwo\n");
    input
}

#[test]
fn a_line_above_max_request_size_is_logged_with_kafkas_size_and_the_others_are_stored() {
    if !have_kcat() {
        return;
    }
    let cluster = Cluster::start();
    let bs = cluster.bootstrap();
    cluster.create_topic("big", 1);
    let out = produce(&bs, "big", &[], &lines_around(2_000_000));
    out.assert_success("async producer with one line too large");
    assert!(
        out.stderr.contains(&format!(
            "{CALLBACK_ERROR} big with key: null, value: 2000000 bytes with error: {CALLBACK_LOGGER}\n{TOO_LARGE_FOR_REQUEST}\n"
        )),
        "{out}"
    );
    assert_eq!(kcat_read_all(&bs, "big", "%s\\n"), vec!["one", "two"]);

    // The same check against buffer.memory, with its own text.
    let out = produce(
        &bs,
        "big",
        &["--max-memory-bytes", "20000"],
        &lines_around(30_000),
    );
    out.assert_success("async producer with one line above buffer.memory");
    assert!(
        out.stderr.contains("org.apache.kafka.common.errors.RecordTooLargeException: The message is 30087 bytes when serialized which is larger than the total memory buffer you have configured with the buffer.memory configuration.\n"),
        "{out}"
    );
    assert_eq!(
        kcat_read_all(&bs, "big", "%s\\n"),
        vec!["one", "two", "one", "two"]
    );

    // buffer.memory below batch.size: no batch can be allocated, send throws, nothing stored.
    let out = produce(&bs, "big", &["--max-memory-bytes", "1000"], b"three\n");
    out.assert_code(1, "producer whose buffer.memory is below batch.size");
    assert_eq!(
        out.stderr,
        "java.lang.IllegalArgumentException: Attempt to allocate 16384 bytes, but there is a hard limit of 1000 on memory allocations.\n",
        "{out}"
    );
    assert_eq!(kcat_read_all(&bs, "big", "%s\\n").len(), 4);
}

#[test]
fn with_sync_a_line_above_max_request_size_ends_the_run_with_exit_1() {
    if !have_kcat() {
        return;
    }
    let cluster = Cluster::start();
    let bs = cluster.bootstrap();
    cluster.create_topic("big-sync", 1);
    let out = produce(&bs, "big-sync", &["--sync"], &lines_around(2_000_000));
    out.assert_code(1, "sync producer with one line too large");
    assert!(
        out.stderr.contains(&format!(
            "java.util.concurrent.ExecutionException: {TOO_LARGE_FOR_REQUEST}\nCaused by: {TOO_LARGE_FOR_REQUEST}\n"
        )),
        "{out}"
    );
    // `send(record).get()` throws; nothing is logged by a callback and nothing after is read.
    assert!(!out.stderr.contains(CALLBACK_LOGGER), "{out}");
    assert_eq!(kcat_read_all(&bs, "big-sync", "%s\\n"), vec!["one"]);
}

#[test]
fn a_record_above_the_topics_max_message_bytes_gets_the_brokers_default_text() {
    if !have_kcat() {
        return;
    }
    let cluster = Cluster::start();
    let bs = cluster.bootstrap();
    cluster.topics(&[
        "--create",
        "--topic",
        "small",
        "--partitions",
        "1",
        "--replication-factor",
        "1",
        "--config",
        "max.message.bytes=10000",
    ]);
    let out = produce(&bs, "small", &[], &lines_around(50_000));
    out.assert_success("async producer with one line above max.message.bytes");
    assert!(
        out.stderr.contains(&format!(
            "{CALLBACK_ERROR} small with key: null, value: 50000 bytes with error: {CALLBACK_LOGGER}\n{TOO_LARGE_FOR_BROKER}\n"
        )),
        "{out}"
    );
    assert_eq!(kcat_read_all(&bs, "small", "%s\\n"), vec!["one", "two"]);

    let out = produce(&bs, "small", &["--sync"], &lines_around(50_000));
    out.assert_code(1, "sync producer with one line above max.message.bytes");
    assert!(
        out.stderr.contains(&format!(
            "java.util.concurrent.ExecutionException: {TOO_LARGE_FOR_BROKER}\n"
        )),
        "{out}"
    );
    assert_eq!(
        kcat_read_all(&bs, "small", "%s\\n"),
        vec!["one", "two", "one"]
    );
}

#[test]
fn an_empty_header_section_stops_the_producer_after_delivering_earlier_lines() {
    if !have_kcat() {
        return;
    }
    let cluster = Cluster::start();
    let bs = cluster.bootstrap();
    cluster.create_topic("headers", 1);
    let out = produce(
        &bs,
        "headers",
        &[
            "--property",
            "parse.key=true",
            "--property",
            "parse.headers=true",
        ],
        b"h:1\tk1\tv1\n\tk2\tv2\nh:3\tk3\tv3\n",
    );
    out.assert_code(1, "producer with an empty header section");
    assert!(
        out.stderr.contains(
            "org.apache.kafka.common.KafkaException: No header key separator found in pair '' on line number 2"
        ),
        "{out}"
    );
    assert_eq!(
        kcat_read_all(&bs, "headers", "%h|%k|%s\\n"),
        vec!["h=1|k1|v1"]
    );

    // With ignore.error the same line is sent with one header: empty key, null value.
    let out = produce(
        &bs,
        "headers",
        &[
            "--property",
            "parse.key=true",
            "--property",
            "parse.headers=true",
            "--property",
            "ignore.error=true",
        ],
        b"\tk2\tv2\n",
    );
    out.assert_success("producer with ignore.error");
    assert_eq!(
        kcat_read_all(&bs, "headers", "%k|%s\\n"),
        vec!["k1|v1", "k2|v2"]
    );
}

#[test]
fn a_line_without_its_key_separator_stops_the_producer_after_earlier_lines() {
    if !have_kcat() {
        return;
    }
    let cluster = Cluster::start();
    let bs = cluster.bootstrap();
    cluster.create_topic("keys", 1);
    let out = produce(
        &bs,
        "keys",
        &["--property", "parse.key=true"],
        b"k1\tv1\nnokey\nk3\tv3\n",
    );
    out.assert_code(1, "producer with a line without key separator");
    assert!(
        out.stderr.contains(
            "org.apache.kafka.common.KafkaException: No key separator found on line number 2: 'nokey'"
        ),
        "{out}"
    );
    assert_eq!(kcat_read_all(&bs, "keys", "%k|%s\\n"), vec!["k1|v1"]);
}

#[test]
fn reader_properties_kafka_refuses_store_nothing() {
    if !have_kcat() {
        return;
    }
    let cluster = Cluster::start();
    let bs = cluster.bootstrap();
    cluster.create_topic("refused", 1);
    for (props, text) in [
        (
            ["--property", "headers.separator=\t"],
            "org.apache.kafka.common.KafkaException: headers.delimiter and headers.separator may not be equal",
        ),
        (
            ["--property", "headers.key.separator=,"],
            "org.apache.kafka.common.KafkaException: headers.separator and headers.key.separator may not be equal",
        ),
        (
            ["--property", "null.marker=\t"],
            "org.apache.kafka.common.KafkaException: null.marker and key.separator may not be equal",
        ),
    ] {
        let out = produce(&bs, "refused", &props, b"a\nb\n");
        out.assert_code(1, &format!("producer with {props:?}"));
        assert!(out.stderr.contains(text), "{out}");
    }
    assert!(kcat_read_all(&bs, "refused", "%s\\n").is_empty());
}

#[test]
fn a_missing_topic_with_auto_create_off_is_logged_per_record_after_max_block_ms() {
    let cluster = Cluster::start_with(&[("auto.create.topics.enable", "false")]);
    let bs = cluster.bootstrap();
    let out = produce(&bs, "nowhere", &["--max-block-ms", "1000"], b"a\nbb\n");
    out.assert_success("async producer to a missing topic");
    assert!(
        out.stderr.contains(
            " : {nowhere=UNKNOWN_TOPIC_OR_PARTITION} (org.apache.kafka.clients.NetworkClient)\n"
        ),
        "{out}"
    );
    for size in [1, 2] {
        assert!(
            out.stderr.contains(&format!(
                "{CALLBACK_ERROR} nowhere with key: null, value: {size} bytes with error: {CALLBACK_LOGGER}\norg.apache.kafka.common.errors.TimeoutException: Topic nowhere not present in metadata after 1000 ms.\n"
            )),
            "{out}"
        );
    }
    let out = produce(
        &bs,
        "nowhere",
        &["--max-block-ms", "1000", "--sync"],
        b"a\nbb\n",
    );
    out.assert_code(1, "sync producer to a missing topic");
    assert!(
        out.stderr.contains("java.util.concurrent.ExecutionException: org.apache.kafka.common.errors.TimeoutException: Topic nowhere not present in metadata after 1000 ms.\n"),
        "{out}"
    );
    assert!(!out.stderr.contains("value: 2 bytes"), "{out}");
}

const INT: &str = "value.deserializer=org.apache.kafka.common.serialization.IntegerDeserializer";

fn consume(bs: &str, topic: &str, extra: &[&str]) -> ToolOutput {
    let mut args = vec!["--bootstrap-server", bs, "--topic", topic];
    args.extend_from_slice(extra);
    run_tool("kafka-console-consumer", &args, b"", TOOL_TIMEOUT)
}

/// A topic holding "1234", "abc", "wxyz": the middle value is not 4 bytes.
fn ints_with_a_bad_one(cluster: &Cluster, topic: &str) {
    cluster.create_topic(topic, 1);
    produce(&cluster.bootstrap(), topic, &[], b"1234\nabc\nwxyz\n").assert_success("produce");
}

#[test]
fn a_deserializer_failure_ends_the_consumer_with_exit_1_after_the_count() {
    let cluster = Cluster::start();
    let bs = cluster.bootstrap();
    ints_with_a_bad_one(&cluster, "ints");
    let out = consume(
        &bs,
        "ints",
        &[
            "--from-beginning",
            "--group",
            "g1",
            "--timeout-ms",
            "10000",
            "--property",
            INT,
        ],
    );
    out.assert_code(1, "consumer whose deserializer fails");
    // "1234" is 0x31323334.
    assert_eq!(out.stdout, "825373492\n", "{out}");
    assert!(
        out.stderr.contains("Processed a total of 2 messages\n[")
            && out.stderr.contains("] ERROR Unknown error when running consumer:  (org.apache.kafka.tools.consumer.ConsoleConsumer)\norg.apache.kafka.common.errors.SerializationException: Size of data received by IntegerDeserializer is not 4\n"),
        "{out}"
    );
    // The failed record was consumed: the group goes on after it.
    let again = consume(&bs, "ints", &["--group", "g1", "--timeout-ms", "3000"]);
    again.assert_success("the group's next consumer");
    assert_eq!(again.stdout, "wxyz\n", "{again}");
}

#[test]
fn skip_message_on_error_logs_the_failure_and_goes_on() {
    let cluster = Cluster::start();
    let bs = cluster.bootstrap();
    ints_with_a_bad_one(&cluster, "ints-skip");
    let out = consume(
        &bs,
        "ints-skip",
        &[
            "--from-beginning",
            "--max-messages",
            "3",
            "--timeout-ms",
            "10000",
            "--skip-message-on-error",
            "--property",
            INT,
        ],
    );
    out.assert_success("consumer skipping a record its deserializer refuses");
    assert_eq!(out.stdout, "825373492\n2004384122\n", "{out}");
    assert!(
        out.stderr.contains("] ERROR Error processing message, skipping this message:  (org.apache.kafka.tools.consumer.ConsoleConsumer)\norg.apache.kafka.common.errors.SerializationException: Size of data received by IntegerDeserializer is not 4\n"),
        "{out}"
    );
    assert!(
        out.stderr.ends_with("Processed a total of 3 messages\n"),
        "{out}"
    );

    // An unknown deserializer class is logged at start and the bytes print as they are.
    let out = consume(
        &bs,
        "ints-skip",
        &[
            "--from-beginning",
            "--max-messages",
            "3",
            "--timeout-ms",
            "10000",
            "--property",
            "value.deserializer=com.example.Missing",
        ],
    );
    out.assert_success("consumer with an unknown deserializer class");
    assert_eq!(out.stdout, "1234\nabc\nwxyz\n", "{out}");
    assert!(
        out.stderr.contains("] ERROR Unable to instantiate a deserializer from com.example.Missing (org.apache.kafka.tools.consumer.DefaultMessageFormatter)\njava.lang.ClassNotFoundException: com.example.Missing\n"),
        "{out}"
    );
}

#[test]
fn a_closed_stdout_ends_the_consumer_with_kafkas_text() {
    let cluster = Cluster::start();
    let bs = cluster.bootstrap();
    cluster.create_topic("many", 1);
    let line = "x".repeat(199);
    let input: String = (0..3000).map(|_| format!("{line}\n")).collect();
    produce(&bs, "many", &[], input.as_bytes()).assert_success("produce 3000 lines");
    // `head` reads one line and closes the pipe; 600 kB cannot all fit in it before.
    let consumer = e2e::binary("kafka-console-consumer");
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(format!(
        "'{}' --bootstrap-server {bs} --topic many --from-beginning --timeout-ms 10000 | head -n 1 >/dev/null",
        consumer.display()
    ));
    let out = run_command(cmd, b"", TOOL_TIMEOUT);
    out.assert_success("consumer | head -n 1");
    assert!(
        out.stderr
            .contains("Unable to write to standard out, closing consumer.\nProcessed a total of "),
        "{out}"
    );
    assert!(
        !out.stderr.contains("Processed a total of 3000 messages"),
        "{out}"
    );
}

#[test]
fn max_messages_zero_or_negative_processes_nothing() {
    let cluster = Cluster::start();
    let bs = cluster.bootstrap();
    cluster.create_topic("few", 1);
    produce(&bs, "few", &[], b"a\nb\n").assert_success("produce");
    for max in ["0", "-5"] {
        let out = consume(
            &bs,
            "few",
            &[
                "--from-beginning",
                "--max-messages",
                max,
                "--timeout-ms",
                "10000",
            ],
        );
        out.assert_success(&format!("--max-messages {max}"));
        assert_eq!(out.stdout, "", "{out}");
        assert_eq!(out.stderr, "Processed a total of 0 messages\n", "{out}");
    }
}

#[test]
fn an_invalid_topic_name_is_logged_per_record_naming_the_topic() {
    let cluster = Cluster::start();
    let bs = cluster.bootstrap();
    let out = produce(&bs, "bad/name", &[], b"a\n");
    out.assert_success("async producer to an invalid topic name");
    // NetworkClient's WARN for the metadata answer comes first.
    assert!(
        out.stderr.contains("] WARN [Producer clientId=console-producer] The metadata response from the cluster reported a recoverable issue with correlation id ")
            && out.stderr.contains(" : {bad/name=INVALID_TOPIC_EXCEPTION} (org.apache.kafka.clients.NetworkClient)\n"),
        "{out}"
    );
    assert!(
        out.stderr.contains(&format!(
            "{CALLBACK_ERROR} bad/name with key: null, value: 1 bytes with error: {CALLBACK_LOGGER}\norg.apache.kafka.common.errors.InvalidTopicException: Invalid topics: [bad/name]\n"
        )),
        "{out}"
    );
    let missing = run_tool(
        "kafka-console-producer",
        &[
            "--bootstrap-server",
            &bs,
            "--topic",
            "t",
            "--producer.config",
            "/nonexistent/p.properties",
        ],
        b"a\n",
        TOOL_TIMEOUT,
    );
    missing.assert_code(1, "producer with a missing --producer.config");
    assert_eq!(
        missing.stderr, "java.nio.file.NoSuchFileException: /nonexistent/p.properties\n",
        "{missing}"
    );
}

#[test]
fn positions_without_reset_policy_fail_the_first_poll_with_the_consumers_exceptions() {
    let cluster = Cluster::start();
    let bs = cluster.bootstrap();
    ints_with_a_bad_one(&cluster, "positions");
    let out = consume(
        &bs,
        "positions",
        &[
            "--partition",
            "0",
            "--offset",
            "100",
            "--consumer-property",
            "auto.offset.reset=none",
            "--timeout-ms",
            "10000",
        ],
    );
    out.assert_success("consumer at an offset past the end without reset policy");
    assert!(
        out.stderr.contains(&format!(
            "] ERROR Error processing message, terminating consumer process:  (org.apache.kafka.tools.consumer.ConsoleConsumer)\norg.apache.kafka.clients.consumer.OffsetOutOfRangeException: Fetch position FetchPosition{{offset=100, offsetEpoch=Optional.empty, currentLeader=LeaderAndEpoch{{leader=Optional[127.0.0.1:{} (id: 0 rack: null)], epoch=0}}}} is out of range for partition positions-0\nProcessed a total of 0 messages\n",
            cluster.broker.port()
        )),
        "{out}"
    );

    let out = consume(
        &bs,
        "positions",
        &[
            "--group",
            "fresh-group",
            "--consumer-property",
            "auto.offset.reset=none",
            "--timeout-ms",
            "10000",
        ],
    );
    out.assert_success("group consumer without committed offsets or reset policy");
    assert!(
        out.stderr.contains("org.apache.kafka.clients.consumer.NoOffsetForPartitionException: Undefined offset with no reset policy for partitions: [positions-0]\nProcessed a total of 0 messages\n"),
        "{out}"
    );
}
