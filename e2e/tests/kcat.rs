//! kcat (librdkafka, the Debian package) against our broker: metadata listing, keyed produce and
//! consume-from-beginning, and keys landing on the partitions the Java client picks.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use client::partitioner::partition_for_key;
use e2e::{run_command, run_tool, Cluster, ToolOutput, TOOL_TIMEOUT};

const KCAT_TIMEOUT: Duration = Duration::from_secs(60);

/// Whether kcat is installed. `.ci/run` and `./test.sh` install it; a developer running `cargo
/// test` without it gets a loud skip, CI (`CI=true`) a failure.
fn have_kcat() -> bool {
    let found = Command::new("kcat")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        let under_ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(!under_ci, "CI=true but kcat is not installed");
        eprintln!(
            "\n!!!!!!!! SKIPPED: kcat is not installed — run ./test.sh (or apt-get install kcat) !!!!!!!!\n"
        );
    }
    found
}

fn kcat(args: &[&str], stdin: &[u8]) -> ToolOutput {
    let mut cmd = Command::new("kcat");
    cmd.args(args);
    let out = run_command(cmd, stdin, KCAT_TIMEOUT);
    out.assert_success(&format!("kcat {}", args.join(" ")));
    out
}

/// Reads every record of `topic` with kcat: `(partition, key, value)` lines.
fn kcat_read_all(bs: &str, topic: &str) -> Vec<(i32, String, String)> {
    let out = kcat(
        &[
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
            "%p %k %s\\n",
        ],
        b"",
    );
    out.stdout
        .lines()
        .map(|l| {
            let mut parts = l.splitn(3, ' ');
            let p = parts
                .next()
                .and_then(|p| p.parse().ok())
                .unwrap_or_else(|| panic!("bad kcat line {l:?}"));
            let k = parts.next().unwrap_or_default().to_string();
            let v = parts.next().unwrap_or_default().to_string();
            (p, k, v)
        })
        .collect()
}

fn keyed_input(prefix: &str, n: usize) -> (String, BTreeMap<String, String>) {
    let mut text = String::new();
    let mut want = BTreeMap::new();
    for i in 0..n {
        let k = format!("{prefix}-key-{i}");
        let v = format!("{prefix}-value-{i}");
        text.push_str(&format!("{k}:{v}\n"));
        want.insert(k, v);
    }
    (text, want)
}

#[test]
fn kcat_lists_brokers_and_topics() {
    if !have_kcat() {
        return;
    }
    let cluster = Cluster::start();
    cluster.create_topic("kcat-topic", 3);
    let out = kcat(&["-b", &cluster.bootstrap(), "-L"], b"");
    let port = cluster.broker.port();
    assert!(out.stdout.contains(" 1 brokers:"), "{out}");
    assert!(
        out.stdout
            .contains(&format!("broker 0 at 127.0.0.1:{port}")),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("topic \"kcat-topic\" with 3 partitions:"),
        "{out}"
    );
    for p in 0..3 {
        assert!(
            out.stdout
                .contains(&format!("partition {p}, leader 0, replicas: 0, isrs: 0")),
            "{out}"
        );
    }
}

#[test]
fn kcat_produces_keyed_records_and_reads_them_back_on_javas_partitions() {
    if !have_kcat() {
        return;
    }
    let cluster = Cluster::start();
    cluster.create_topic("kcat-keys", 3);
    let bs = cluster.bootstrap();
    let (input, want) = keyed_input("kcat", 30);
    // murmur2_random is librdkafka's name for the Java client's partitioner.
    kcat(
        &[
            "-b",
            &bs,
            "-t",
            "kcat-keys",
            "-P",
            "-K:",
            "-X",
            "partitioner=murmur2_random",
        ],
        input.as_bytes(),
    );
    let got = kcat_read_all(&bs, "kcat-keys");
    assert_eq!(got.len(), want.len(), "{got:?}");
    for (p, k, v) in &got {
        assert_eq!(want.get(k), Some(v), "kcat read back {k}:{v}");
        assert_eq!(
            *p,
            partition_for_key(k.as_bytes(), 3),
            "key {k} is on the partition Java's murmur2 picks"
        );
    }
}

#[test]
fn our_producer_places_keys_where_java_does_as_kcat_sees() {
    if !have_kcat() {
        return;
    }
    let cluster = Cluster::start();
    cluster.create_topic("console-keys", 3);
    let bs = cluster.bootstrap();
    let (input, want) = keyed_input("console", 30);
    let out = run_tool(
        "kafka-console-producer",
        &[
            "--bootstrap-server",
            &bs,
            "--topic",
            "console-keys",
            "--property",
            "parse.key=true",
            "--property",
            "key.separator=:",
        ],
        input.as_bytes(),
        TOOL_TIMEOUT,
    );
    out.assert_success("kafka-console-producer with keys");
    let got = kcat_read_all(&bs, "console-keys");
    assert_eq!(got.len(), want.len(), "{got:?}");
    let mut partitions_used = std::collections::BTreeSet::new();
    for (p, k, v) in &got {
        assert_eq!(want.get(k), Some(v), "kcat read back {k}:{v}");
        assert_eq!(
            *p,
            partition_for_key(k.as_bytes(), 3),
            "key {k} is on the partition Java's murmur2 picks"
        );
        partitions_used.insert(*p);
    }
    assert_eq!(
        partitions_used.len(),
        3,
        "30 keys spread over all partitions"
    );

    // And our console consumer reads kcat's records: cross-check the other direction.
    let (input, _) = keyed_input("kcat2", 5);
    kcat(
        &["-b", &bs, "-t", "console-keys", "-P", "-K:", "-z", "snappy"],
        input.as_bytes(),
    );
    let out = run_tool(
        "kafka-console-consumer",
        &[
            "--bootstrap-server",
            &bs,
            "--topic",
            "console-keys",
            "--from-beginning",
            "--max-messages",
            "35",
            "--timeout-ms",
            "30000",
            "--property",
            "print.key=true",
        ],
        b"",
        TOOL_TIMEOUT,
    );
    out.assert_success("kafka-console-consumer");
    assert!(
        out.stdout.contains("kcat2-key-4\tkcat2-value-4"),
        "our consumer reads kcat's snappy batches: {out}"
    );
}

/// Batches our producer compresses with each codec are read back by librdkafka.
#[test]
fn kcat_reads_what_our_producer_compressed_with_every_codec() {
    if !have_kcat() {
        return;
    }
    let cluster = Cluster::start();
    let bs = cluster.bootstrap();
    for codec in ["none", "gzip", "snappy", "lz4", "zstd"] {
        let topic = format!("codec-{codec}");
        cluster.create_topic(&topic, 1);
        let input: String = (0..20)
            .map(|i| format!("{codec}-{i}-{}\n", "z".repeat(i * 10)))
            .collect();
        run_tool(
            "kafka-console-producer",
            &[
                "--bootstrap-server",
                &bs,
                "--topic",
                &topic,
                "--compression-codec",
                codec,
            ],
            input.as_bytes(),
            TOOL_TIMEOUT,
        )
        .assert_success(&format!(
            "kafka-console-producer --compression-codec {codec}"
        ));
        let got: String = kcat_read_all(&bs, &topic)
            .into_iter()
            .map(|(_, _, v)| format!("{v}\n"))
            .collect();
        assert_eq!(got, input, "codec {codec}");
    }
}
