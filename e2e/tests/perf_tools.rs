//! Kafka's perf-test tools against a real broker: `kafka-producer-perf-test`,
//! `kafka-consumer-perf-test` and `kafka-e2e-latency`, with Kafka 3.9's options, result lines
//! and errors (facts sheet §5). What the producer tool wrote is read back by kcat (librdkafka),
//! a client we did not write. These tests check what the tools print and send, never how fast:
//! speed is measured by `bench/run.sh`.

// Helpers outside `#[test]` functions fail the test they serve.
#![allow(clippy::unwrap_used)]

use std::process::Command;
use std::time::Duration;

use e2e::{have_kcat, run_command, run_script, run_tool, Cluster, ToolOutput};
use regex::Regex;

const PERF_TIMEOUT: Duration = Duration::from_secs(120);

/// Kafka's final line: `%d records sent, %f records/sec (%.2f MB/sec), %.2f ms avg latency,
/// %.2f ms max latency, %d ms 50th, %d ms 95th, %d ms 99th, %d ms 99.9th.`
const FINAL_LINE: &str = r"^(\d+) records sent, (\d+\.\d{6}) records/sec \((\d+\.\d{2}) MB/sec\), (\d+\.\d{2}) ms avg latency, (\d+\.\d{2}) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th\.$";

fn producer_perf(args: &[&str]) -> ToolOutput {
    run_tool("kafka-producer-perf-test", args, b"", PERF_TIMEOUT)
}

fn final_line(out: &ToolOutput) -> regex::Captures<'_> {
    let re = Regex::new(FINAL_LINE).unwrap();
    out.stdout
        .lines()
        .find_map(|line| re.captures(line))
        .unwrap_or_else(|| panic!("no final line in Kafka's format: {out}"))
}

/// Every record of `topic` as kcat reads it: (partition, value).
fn kcat_values(bootstrap: &str, topic: &str, extra: &[&str]) -> Vec<(i32, String)> {
    let mut cmd = Command::new("kcat");
    cmd.args([
        "-C", "-b", bootstrap, "-t", topic, "-e", "-q", "-f", "%p %s\\n",
    ]);
    cmd.args(extra);
    let out = run_command(cmd, b"", PERF_TIMEOUT);
    out.assert_success("kcat -C");
    out.stdout
        .lines()
        .map(|l| {
            let (p, v) = l.split_once(' ').unwrap_or((l, ""));
            (p.parse().unwrap(), v.to_string())
        })
        .collect()
}

#[test]
fn producer_perf_test_sends_kafkas_payloads_and_prints_kafkas_final_line() {
    let cluster = Cluster::start();
    cluster.create_topic("perf-letters", 3);
    let bs = format!("bootstrap.servers={}", cluster.bootstrap());
    let out = producer_perf(&[
        "--topic",
        "perf-letters",
        "--num-records",
        "3000",
        "--record-size",
        "100",
        "--throughput",
        "-1",
        "--producer-props",
        &bs,
        "acks=1",
        "linger.ms=5",
    ]);
    out.assert_success("kafka-producer-perf-test");
    let caps = final_line(&out);
    assert_eq!(&caps[1], "3000", "{out}");
    // 3000 x 100 bytes over some seconds: the MB/sec figure is records/sec x 100 / 2^20.
    let rate: f64 = caps[2].parse().unwrap();
    let mb: f64 = caps[3].parse().unwrap();
    assert!((rate * 100.0 / 1048576.0 - mb).abs() < 0.01, "{out}");
    let (p50, p99): (u64, u64) = (caps[6].parse().unwrap(), caps[8].parse().unwrap());
    assert!(p50 <= p99, "{out}");
    assert!(
        out.stderr.is_empty(),
        "no bar or noise when stderr is not a terminal: {out}"
    );

    if !have_kcat() {
        return;
    }
    let values = kcat_values(&cluster.bootstrap(), "perf-letters", &[]);
    assert_eq!(values.len(), 3000);
    assert!(values
        .iter()
        .all(|(_, v)| v.len() == 100 && v.bytes().all(|b| b.is_ascii_uppercase())));
    // Unkeyed records are spread over every partition.
    for p in 0..3 {
        assert!(values.iter().any(|(q, _)| *q == p), "partition {p} empty");
    }
    // SplittableRandom(0)'s letters, as Kafka's tool sends them: the first record begins with
    // the JDK's first 32 letters.
    assert!(
        values
            .iter()
            .any(|(_, v)| v.starts_with("YQHHNEBSEPDNSEIFGAMSUJXKOLTXSPLG")),
        "no record starts with SplittableRandom(0)'s first letters"
    );
}

#[test]
fn monotonic_and_file_payloads_and_properties_files() {
    let cluster = Cluster::start();
    cluster.create_topic("perf-mono", 1);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("producer.properties");
    std::fs::write(
        &config,
        format!("bootstrap.servers={}\nacks=all\n", cluster.bootstrap()),
    )
    .unwrap();
    let out = producer_perf(&[
        "--topic",
        "perf-mono",
        "--num-records",
        "20",
        "--payload-monotonic",
        "--throughput",
        "-1",
        "--producer.config",
        config.to_str().unwrap(),
        "--print-metrics",
    ]);
    out.assert_success("--payload-monotonic");
    assert_eq!(&final_line(&out)[1], "20");
    // ToolsUtils.printMetrics' layout after the final line.
    assert!(out.stdout.contains("\nMetric Name "), "{out}");
    let sent = Regex::new(
        r"(?m)^producer-metrics:record-send-total:\{client-id=perf-producer-client\} +: 20\.000$",
    )
    .unwrap();
    assert!(sent.is_match(&out.stdout), "{out}");

    let payloads = dir.path().join("payloads.txt");
    std::fs::write(&payloads, "alpha;beta;;gamma").unwrap();
    cluster.create_topic("perf-file", 1);
    let bs = format!("bootstrap.servers={}", cluster.bootstrap());
    let out = producer_perf(&[
        "--topic",
        "perf-file",
        "--num-records",
        "30",
        "--payload-file",
        payloads.to_str().unwrap(),
        "--payload-delimiter",
        ";",
        "--throughput",
        "-1",
        "--producer-props",
        &bs,
    ]);
    out.assert_success("--payload-file");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines[0],
        format!("Reading payloads from: {}", payloads.display())
    );
    // Scanner's tokens: the empty one between `;;` too.
    assert_eq!(lines[1], "Number of messages read: 4");
    assert_eq!(&final_line(&out)[1], "30");

    if !have_kcat() {
        return;
    }
    let mono: Vec<String> = kcat_values(&cluster.bootstrap(), "perf-mono", &[])
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    let expected: Vec<String> = (0..20).map(|i| i.to_string()).collect();
    assert_eq!(
        mono, expected,
        "--payload-monotonic sends 0, 1, 2, ... in order"
    );
    let picked = kcat_values(&cluster.bootstrap(), "perf-file", &[]);
    assert_eq!(picked.len(), 30);
    assert!(picked
        .iter()
        .all(|(_, v)| ["alpha", "beta", "", "gamma"].contains(&v.as_str())));
}

#[test]
fn throttled_run_prints_window_lines_and_stays_near_its_target() {
    let cluster = Cluster::start();
    cluster.create_topic("perf-throttled", 1);
    let bs = format!("bootstrap.servers={}", cluster.bootstrap());
    // 600 records/s for 3300 records: at least five and a half seconds, so one 5 s window.
    let out = producer_perf(&[
        "--topic",
        "perf-throttled",
        "--num-records",
        "3300",
        "--record-size",
        "10",
        "--throughput",
        "600",
        "--producer-props",
        &bs,
    ]);
    out.assert_success("throttled");
    let window = Regex::new(
        r"^\d+ records sent, \d+\.\d records/sec \(\d+\.\d{2} MB/sec\), \d+\.\d ms avg latency, \d+\.\d ms max latency\.$",
    )
    .unwrap();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(
        lines[..lines.len() - 1].iter().any(|l| window.is_match(l)),
        "no window line: {out}"
    );
    let rate: f64 = final_line(&out)[2].parse().unwrap();
    // The throttler keeps the run at or under its target (plus the first instant's burst).
    assert!(
        rate <= 660.0,
        "throttled to 600/s but reported {rate}: {out}"
    );
}

#[test]
fn transactional_run_commits_every_record() {
    let cluster = Cluster::start();
    cluster.create_topic("perf-txn", 2);
    let bs = format!("bootstrap.servers={}", cluster.bootstrap());
    let out = producer_perf(&[
        "--topic",
        "perf-txn",
        "--num-records",
        "2000",
        "--record-size",
        "50",
        "--throughput",
        "-1",
        "--transaction-duration-ms",
        "50",
        "--producer-props",
        &bs,
    ]);
    out.assert_success("transactional");
    assert_eq!(&final_line(&out)[1], "2000");
    let described = run_tool(
        "kafka-transactions",
        &[
            "--bootstrap-server",
            &cluster.bootstrap(),
            "describe",
            "--transactional-id",
            "performance-producer-default-transactional-id",
        ],
        b"",
        PERF_TIMEOUT,
    );
    described.assert_success("kafka-transactions describe");
    assert!(
        described.stdout.contains("CompleteCommit"),
        "the last transaction was committed: {described}"
    );
    if !have_kcat() {
        return;
    }
    let committed = kcat_values(
        &cluster.bootstrap(),
        "perf-txn",
        &["-X", "isolation.level=read_committed"],
    );
    assert_eq!(committed.len(), 2000, "every record committed");
}

#[test]
fn producer_perf_test_errors() {
    // No arguments: the help on stdout, exit 0 (Kafka's `printHelp(); Exit.exit(0)`).
    let out = producer_perf(&[]);
    assert_eq!(out.code, Some(0), "{out}");
    assert!(out
        .stdout
        .starts_with("usage: producer-performance [-h] --topic TOPIC"));
    assert!(out
        .stdout
        .contains("either --record-size or --payload-file must be specified but not both."));

    let base = ["--topic", "t", "--num-records", "10", "--throughput", "-1"];
    let with = |extra: &[&str]| {
        let mut a: Vec<&str> = base.to_vec();
        a.extend_from_slice(extra);
        producer_perf(&a)
    };
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--record-size", "10"],
            "producer-performance: error: Either  --producer-props  or --producer.config\nmust be specified.\n",
        ),
        (
            vec!["--producer-props", "bootstrap.servers=x:1"],
            "producer-performance: error: one of  the arguments --record-size --payload-\nfile --payload-monotonic is required\n",
        ),
        (
            vec!["--record-size", "10", "--payload-monotonic", "--producer-props", "a=b"],
            "producer-performance:  error:  argument  --payload-monotonic:  not  allowed\nwith argument --record-size\n",
        ),
        (
            vec!["--record-size", "ten", "--producer-props", "a=b"],
            "producer-performance: error:  argument  --record-size:  could  not  convert\n'ten' to Integer (For input string: \"ten\")\n",
        ),
        (
            vec!["--record-size", "0", "--producer-props", "a=b"],
            "producer-performance: error: --record-size should be greater than zero\n",
        ),
    ];
    for (extra, tail) in cases {
        let out = with(&extra);
        assert_eq!(out.code, Some(1), "{extra:?}: {out}");
        assert!(
            out.stderr.starts_with("usage: producer-performance"),
            "{out}"
        );
        assert!(out.stderr.ends_with(tail), "{extra:?}: {out}");
    }
    let out = producer_perf(&["-topic", "t"]);
    assert_eq!(out.code, Some(1));
    assert!(out
        .stderr
        .contains("producer-performance: error: unrecognized arguments: '-topic'"));

    // Exceptions escaping Kafka's main.
    let out = with(&["--record-size", "10", "--producer-props", "acks"]);
    assert_eq!(out.code, Some(1));
    assert_eq!(
        out.stderr,
        "Exception in thread \"main\" java.lang.IllegalArgumentException: Invalid property: acks\n"
    );
    let out = with(&["--record-size", "10", "--producer-props", "acks=1"]);
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains(
            "org.apache.kafka.common.config.ConfigException: Missing required configuration \"bootstrap.servers\" which has no default value."
        ),
        "{out}"
    );
    let out = with(&[
        "--record-size",
        "10",
        "--producer-props",
        "bootstrap.servers=127.0.0.1:1",
        "acks=2",
    ]);
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains("ConfigException") && out.stderr.contains("acks"),
        "{out}"
    );
}

#[test]
fn payload_file_delimiters_are_regular_expressions_and_an_empty_list_is_an_error() {
    let cluster = Cluster::start();
    cluster.create_topic("perf-regex", 1);
    let bs = format!("bootstrap.servers={}", cluster.bootstrap());
    let dir = tempfile::tempdir().unwrap();
    let run = |content: &str, delimiter: &str| {
        let path = dir.path().join("payloads");
        std::fs::write(&path, content).unwrap();
        producer_perf(&[
            "--topic",
            "perf-regex",
            "--num-records",
            "5",
            "--payload-file",
            path.to_str().unwrap(),
            "--payload-delimiter",
            delimiter,
            "--throughput",
            "-1",
            "--producer-props",
            &bs,
        ])
    };
    // Scanner.useDelimiter takes a pattern; interior empty tokens are kept.
    let out = run("a;b,c;d", "[,;]");
    out.assert_success("regex delimiter");
    assert!(out.stdout.contains("Number of messages read: 4\n"), "{out}");
    let out = run("a,b,,c,", ",");
    assert!(out.stdout.contains("Number of messages read: 4\n"), "{out}");
    // Two empty tokens between three newlines, as Scanner reads them.
    let out = run("\n\n\n", "\\n");
    out.assert_success("empty payloads");
    assert!(out.stdout.contains("Number of messages read: 2\n"), "{out}");
    // A lone delimiter: no payload at all, Kafka's IllegalArgumentException (not a panic).
    let out = run("\n", "\\n");
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stdout.contains("Number of messages read: 0\n"), "{out}");
    assert_eq!(
        out.stderr,
        "Exception in thread \"main\" java.lang.IllegalArgumentException: no payload File Path or record Size or payload-monotonic option provided\n"
    );
    let out = run("a(b", "(");
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        out.stderr
            .contains("java.util.regex.PatternSyntaxException"),
        "{out}"
    );

    // A run short enough to be queued within a millisecond is throttled too.
    let out = producer_perf(&[
        "--topic",
        "perf-regex",
        "--num-records",
        "20",
        "--record-size",
        "10",
        "--throughput",
        "10",
        "--producer-props",
        &bs,
    ]);
    out.assert_success("slow throttle");
    let rate: f64 = final_line(&out)[2].parse().unwrap();
    assert!(rate <= 12.0, "throttled to 10/s but reported {rate}: {out}");

    // `--` ends the options, as in argparse4j.
    let out = producer_perf(&[
        "--topic",
        "t",
        "--num-records",
        "1",
        "--record-size",
        "1",
        "--throughput",
        "-1",
        "--producer-props",
        &bs,
        "--",
        "x",
    ]);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        out.stderr.contains("error: unrecognized arguments: 'x'"),
        "{out}"
    );
}

#[test]
fn consumer_perf_test_against_no_broker_stops_at_its_timeout() {
    let out = run_tool(
        "kafka-consumer-perf-test",
        &[
            "--bootstrap-server",
            "127.0.0.1:1",
            "--topic",
            "t",
            "--messages",
            "10",
            "--timeout",
            "1500",
        ],
        b"",
        PERF_TIMEOUT,
    );
    out.assert_success("no broker");
    assert!(
        out.stdout
            .contains("WARNING: Exiting before consuming the expected number of messages: timeout (1500 ms) exceeded."),
        "{out}"
    );
    // The summary's fetch.time.ms: the loop ends at --timeout, not when a stuck poll returns.
    let summary = out.stdout.lines().last().unwrap();
    let fetch_ms: i64 = summary.split(", ").nth(7).unwrap().parse().unwrap();
    assert!(fetch_ms < 10_000, "{out}");
}

#[test]
fn a_topic_that_never_appears_ends_the_run_with_an_error_not_a_hang() {
    let cluster = Cluster::start_with(&[("auto.create.topics.enable", "false")]);
    let bs = format!("bootstrap.servers={}", cluster.bootstrap());
    let out = producer_perf(&[
        "--topic",
        "no-such-topic",
        "--num-records",
        "1000",
        "--record-size",
        "10",
        "--throughput",
        "-1",
        "--producer-props",
        &bs,
        "max.block.ms=1500",
    ]);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        out.stderr
            .contains("org.apache.kafka.common.errors.TimeoutException"),
        "{out}"
    );
    assert!(
        out.stderr.contains("Stopped after 0 of 1000 records"),
        "{out}"
    );
    assert!(out.stdout.starts_with("0 records sent"), "{out}");
}

#[test]
fn consumer_perf_test_reads_what_was_produced_and_prints_kafkas_csv() {
    let cluster = Cluster::start();
    cluster.create_topic("perf-read", 2);
    let bs = format!("bootstrap.servers={}", cluster.bootstrap());
    producer_perf(&[
        "--topic",
        "perf-read",
        "--num-records",
        "2000",
        "--record-size",
        "512",
        "--throughput",
        "-1",
        "--producer-props",
        &bs,
    ])
    .assert_success("produce");
    let consume = |extra: &[&str]| {
        let bootstrap = cluster.bootstrap();
        let mut args = vec![
            "--bootstrap-server",
            bootstrap.as_str(),
            "--topic",
            "perf-read",
        ];
        args.extend_from_slice(extra);
        run_tool("kafka-consumer-perf-test", &args, b"", PERF_TIMEOUT)
    };
    let out = consume(&["--messages", "2000"]);
    out.assert_success("kafka-consumer-perf-test");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec"
    );
    let fields: Vec<&str> = lines[1].split(", ").collect();
    assert_eq!(fields.len(), 10, "{out}");
    let date = Regex::new(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}:\d{3}$").unwrap();
    assert!(
        date.is_match(fields[0]) && date.is_match(fields[1]),
        "{out}"
    );
    // 2000 x 512 bytes = 0.9766 MB.
    assert_eq!(fields[2], "0.9766");
    assert_eq!(fields[4], "2000");

    // Asking for more than there is: Kafka's warning after --timeout ms without a record.
    let out = consume(&[
        "--messages",
        "5000",
        "--timeout",
        "1500",
        "--hide-header",
        "--group",
        "g2",
    ]);
    out.assert_success("timeout");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "WARNING: Exiting before consuming the expected number of messages: timeout (1500 ms) exceeded. You can use the --timeout option to increase the timeout."
    );
    assert_eq!(lines[1].split(", ").nth(4), Some("2000"), "{out}");

    // --show-detailed-stats: the other header, and no summary line.
    let out = consume(&[
        "--messages",
        "2000",
        "--show-detailed-stats",
        "--reporting-interval",
        "600000",
        "--group",
        "g3",
    ]);
    out.assert_success("detailed");
    assert_eq!(
        out.stdout,
        "time, threadId, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec\n",
        "no interval ended, and no summary line with --show-detailed-stats"
    );
}

#[test]
fn consumer_perf_test_errors() {
    let out = run_tool(
        "kafka-consumer-perf-test",
        &["--bootstrap-server", "127.0.0.1:1", "--topic", "t"],
        b"",
        PERF_TIMEOUT,
    );
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr
            .starts_with("Missing required argument \"[messages]\"\n"),
        "{out}"
    );
    assert!(
        out.stderr.contains("--show-detailed-stats"),
        "the help follows: {out}"
    );
    let out = run_tool(
        "kafka-consumer-perf-test",
        &["--topic", "t", "--messages", "1"],
        b"",
        PERF_TIMEOUT,
    );
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr
            .starts_with("Missing required option(s) [bootstrap-server]"),
        "{out}"
    );
    // No arguments: jopt's required check runs in `parse`, before the help check, as in
    // Kafka's ConsumerPerfOptions.
    let out = run_tool("kafka-consumer-perf-test", &[], b"", PERF_TIMEOUT);
    assert_eq!(out.code, Some(1));
    assert!(out
        .stderr
        .starts_with("Missing required option(s) [bootstrap-server]\n"));
    let out = run_tool("kafka-consumer-perf-test", &["--help"], b"", PERF_TIMEOUT);
    assert_eq!(out.code, Some(1));
    assert!(out
        .stderr
        .starts_with("This tool is used to verify the consumer performance.\n"));
}

#[test]
fn e2e_latency_creates_its_topic_and_prints_kafkas_summary() {
    let cluster = Cluster::start();
    let out = run_tool(
        "kafka-e2e-latency",
        &[&cluster.bootstrap(), "lat", "1200", "all", "64"],
        b"",
        PERF_TIMEOUT,
    );
    out.assert_success("kafka-e2e-latency");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "Topic \"lat\" does not exist. Will create topic with 1 partition(s) and replication factor = 1"
    );
    let progress = Regex::new(r"^(0|1000)\t\d+\.\d+(E-?\d+)?$").unwrap();
    assert!(
        progress.is_match(lines[1]) && lines[1].starts_with("0\t"),
        "{out}"
    );
    assert!(
        progress.is_match(lines[2]) && lines[2].starts_with("1000\t"),
        "{out}"
    );
    assert!(
        Regex::new(r"^Avg latency: \d+\.\d{4} ms$")
            .unwrap()
            .is_match(lines[3]),
        "{out}"
    );
    assert!(
        Regex::new(r"^Percentiles: 50th = \d+, 99th = \d+, 99\.9th = \d+$")
            .unwrap()
            .is_match(lines[4]),
        "{out}"
    );
    // The second run finds the topic.
    let out = run_tool(
        "kafka-e2e-latency",
        &[&cluster.bootstrap(), "lat", "3", "1", "10"],
        b"",
        PERF_TIMEOUT,
    );
    out.assert_success("second run");
    assert!(out.stdout.starts_with("0\t"), "{out}");

    let out = run_tool("kafka-e2e-latency", &["a", "b"], b"", PERF_TIMEOUT);
    assert_eq!(out.code, Some(1));
    assert_eq!(out.stderr, "USAGE: java org.apache.kafka.tools.EndToEndLatency broker_list topic num_messages producer_acks message_size_bytes [optional] properties_file\n");
    let out = run_tool(
        "kafka-e2e-latency",
        &[&cluster.bootstrap(), "lat", "3", "0", "10"],
        b"",
        PERF_TIMEOUT,
    );
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.starts_with(
        "Latency testing requires synchronous acknowledgement. Please use 1 or all\n"
    ));
}

#[test]
fn wrappers_in_scripts_run_the_tools() {
    for script in [
        "kafka-producer-perf-test.sh",
        "kafka-consumer-perf-test.sh",
        "kafka-e2e-latency.sh",
    ] {
        let out = run_script(script, &[], b"", PERF_TIMEOUT);
        let text = format!("{}{}", out.stdout, out.stderr);
        assert!(
            text.contains("usage: producer-performance")
                || text.contains("Missing required option(s) [bootstrap-server]")
                || text.contains("USAGE: java org.apache.kafka.tools.EndToEndLatency"),
            "{script}: {out}"
        );
        let bat = e2e::repo_root()
            .join("scripts/windows")
            .join(script.replace(".sh", ".bat"));
        assert!(bat.exists(), "{} missing", bat.display());
    }
}
