//! kcat (librdkafka, the Debian package) against our broker: metadata listing, keyed produce and
//! consume-from-beginning, keys landing on the partitions the Java client picks, and kcat's
//! transactional producer (`-X transactional.id=...`: one transaction per run, committed at the
//! end of its input, aborted on SIGINT) read back with both isolation levels.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use client::partitioner::partition_for_key;
use e2e::{have_kcat, run_command, run_tool, wait_until, Cluster, ToolOutput, TOOL_TIMEOUT};

const KCAT_TIMEOUT: Duration = Duration::from_secs(60);

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

/// `(partition, offset, value)` of every record of `topic` as kcat reads it with `isolation`
/// (`read_committed` or `read_uncommitted`) up to the end (`-e`: the last stable offset for
/// read_committed), in the order kcat printed them.
fn kcat_read_isolated(bs: &str, topic: &str, isolation: &str) -> Vec<(i32, i64, String)> {
    let level = format!("isolation.level={isolation}");
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
            "-X",
            &level,
            "-f",
            "%p %o %s\\n",
        ],
        b"",
    );
    out.stdout
        .lines()
        .map(|l| {
            let mut parts = l.splitn(3, ' ');
            let p = parts.next().and_then(|p| p.parse().ok());
            let o = parts.next().and_then(|o| o.parse().ok());
            match (p, o, parts.next()) {
                (Some(p), Some(o), Some(v)) => (p, o, v.to_string()),
                _ => panic!("bad kcat line {l:?}: {out}"),
            }
        })
        .collect()
}

/// A kcat that is killed when the test ends, whatever happens.
struct KcatChild(Child);

impl Drop for KcatChild {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// kcat's transactional producer commits 10 keyed records, then a second run writes 10 and is
/// stopped with SIGINT (kcat aborts its transaction), then a third commits 1. kcat's
/// `read_committed` reader sees exactly the 11 committed values, `read_uncommitted` all 21, each
/// in order per partition and at the offsets Kafka gives them: one per record, then one per
/// transaction marker (one marker per partition a transaction wrote to); never a marker.
#[test]
fn kcat_transactions_read_committed_sees_only_committed_records() {
    if !have_kcat() {
        return;
    }
    let cluster = Cluster::start();
    let topic = "kcat-txn";
    cluster.create_topic(topic, 3);
    let bs = cluster.bootstrap();
    let producer = [
        "-b",
        &bs,
        "-t",
        topic,
        "-P",
        "-K:",
        "-X",
        "partitioner=murmur2_random",
        "-X",
        "transactional.id=kcat-txn",
    ];
    let keyed = |prefix: &str, n: usize| -> Vec<(String, String)> {
        (0..n)
            .map(|i| (format!("key-{i}"), format!("{prefix}-{i}")))
            .collect()
    };
    let input = |records: &[(String, String)]| -> String {
        records.iter().map(|(k, v)| format!("{k}:{v}\n")).collect()
    };

    let first = keyed("committed", 10);
    let out = kcat(&producer, input(&first).as_bytes());
    assert!(
        out.stderr.contains("Transaction successfully committed"),
        "{out}"
    );

    // kcat 1.7 reads its input 1024 bytes at a time (fread): exactly 1024 bytes of records make
    // it produce them all while its stdin stays open, with nothing left over that end of input
    // would turn into an 11th record.
    let mut aborted = keyed("aborted", 10);
    let len = input(&aborted).len();
    assert!(len < 1024, "{len}");
    aborted[9].1.push_str(&"x".repeat(1024 - len));
    let text = input(&aborted);
    assert_eq!(text.len(), 1024);
    let mut child = KcatChild(
        Command::new("kcat")
            .args(producer)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run kcat: {e}")),
    );
    let mut stdin = child.0.stdin.take().expect("kcat's stdin");
    stdin
        .write_all(text.as_bytes())
        .unwrap_or_else(|e| panic!("writing to kcat: {e}"));
    stdin
        .flush()
        .unwrap_or_else(|e| panic!("writing to kcat: {e}"));
    wait_until(
        "the 10 records of kcat's open transaction, read_uncommitted",
        KCAT_TIMEOUT,
        || (kcat_read_isolated(&bs, topic, "read_uncommitted").len() == 20).then_some(()),
    );
    assert!(
        kcat_read_isolated(&bs, topic, "read_committed").len() == 10,
        "read_committed stops at the open transaction"
    );
    let pid = child.0.id().to_string();
    let sent = Command::new("kill").args(["-INT", &pid]).status();
    assert!(
        matches!(sent, Ok(s) if s.success()),
        "kill -INT {pid}: {sent:?}"
    );
    // kcat is blocked reading its input: the end of it lets it see the signal and abort.
    drop(stdin);
    let deadline = Instant::now() + KCAT_TIMEOUT;
    let status = loop {
        match child.0.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            other => panic!("kcat did not exit after SIGINT: {other:?}"),
        }
    };
    let mut stderr = String::new();
    if let Some(mut e) = child.0.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    assert!(
        status.success() && stderr.contains("Aborting transaction due to termination signal"),
        "kcat aborting: {status}: {stderr}"
    );

    let last = vec![("key-0".to_string(), "committed-last".to_string())];
    let out = kcat(&producer, input(&last).as_bytes());
    assert!(
        out.stderr.contains("Transaction successfully committed"),
        "{out}"
    );

    // Where Kafka puts everything: per partition, each transaction's records, then its marker.
    let mut next = [0i64; 3];
    let mut committed: BTreeMap<i32, Vec<(i64, String)>> = BTreeMap::new();
    let mut all: BTreeMap<i32, Vec<(i64, String)>> = BTreeMap::new();
    for (records, commit) in [(&first, true), (&aborted, false), (&last, true)] {
        let mut touched = [false; 3];
        for (k, v) in records {
            let p = partition_for_key(k.as_bytes(), 3);
            let slot = &mut next[p as usize];
            all.entry(p).or_default().push((*slot, v.clone()));
            if commit {
                committed.entry(p).or_default().push((*slot, v.clone()));
            }
            *slot += 1;
            touched[p as usize] = true;
        }
        for (p, t) in touched.iter().enumerate() {
            if *t {
                next[p] += 1;
            }
        }
    }
    let per_partition = |read: Vec<(i32, i64, String)>| {
        let mut out: BTreeMap<i32, Vec<(i64, String)>> = BTreeMap::new();
        for (p, o, v) in read {
            out.entry(p).or_default().push((o, v));
        }
        out
    };
    // The markers of the last transaction may be written after kcat's commit returned: until
    // then its record is above the last stable offset.
    let read = wait_until("the last transaction read_committed", KCAT_TIMEOUT, || {
        let read = kcat_read_isolated(&bs, topic, "read_committed");
        (read.len() >= 11).then_some(read)
    });
    assert_eq!(read.len(), 11, "{read:?}");
    assert_eq!(per_partition(read), committed, "read_committed");
    let read = kcat_read_isolated(&bs, topic, "read_uncommitted");
    assert_eq!(read.len(), 21, "{read:?}");
    assert_eq!(per_partition(read), all, "read_uncommitted");
}

/// kcat (librdkafka) sends header keys as whatever bytes it is given. Java's consumer reads a
/// key that is not UTF-8 with replacement characters (`Utils.utf8`); ours used to fail the whole
/// batch as corrupt, so the console consumer and the web console lost every record of it.
#[test]
fn a_header_key_that_is_not_utf8_does_not_hide_its_records() {
    use std::os::unix::ffi::OsStrExt;
    if !have_kcat() {
        return;
    }
    let cluster = Cluster::start();
    let bs = cluster.bootstrap();
    let topic = "odd-header-keys";
    cluster.create_topic(topic, 1);
    kcat(&["-b", &bs, "-t", topic, "-P"], b"good\n");
    let mut cmd = Command::new("kcat");
    cmd.args(["-b", &bs, "-t", topic, "-P", "-H"])
        .arg(std::ffi::OsStr::from_bytes(b"h\xe9=v"));
    run_command(cmd, b"odd\n", KCAT_TIMEOUT).assert_success("kcat -H 'h\\xe9=v'");
    let out = cluster.consume_with_headers(topic, 2);
    assert!(out.stdout.contains("NO_HEADERS\tgood"), "{out}");
    assert!(out.stdout.contains("h\u{fffd}:v\todd"), "{out}");
}
