//! A topic's `compression.type` is acted on as Kafka 3.9 acts on it: batches produced with
//! another codec are stored recompressed with the topic's codec (read straight from the segment
//! file: the codec bits 0-2 of the attributes at byte 21 of each batch), `producer` keeps the
//! producer's codec, and kcat, kafka-python and our console consumer read every record back with
//! its key, value and headers. `kafka-configs --alter` changes it live, for the topic and as the
//! broker default; the compression levels are validated with Kafka's texts and reach the
//! compressor; a batch that grows past `max.message.bytes` once recompressed is refused.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use e2e::{repo_root, run_command, run_tool, wait_until, Cluster, ToolOutput, TOOL_TIMEOUT};

const KCAT_TIMEOUT: Duration = Duration::from_secs(60);

/// kcat and the venv's Python are installed by `./test.sh` and `.ci/run`; without them the tests
/// are skipped loudly, except under `CI=true`.
fn have_clients() -> Option<PathBuf> {
    let kcat = Command::new("kcat")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    let python = std::env::var_os("KAFKA_E2E_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv/bin/python"));
    if kcat && python.exists() {
        return Some(python);
    }
    let under_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    assert!(
        !under_ci,
        "CI=true but kcat or {} is missing",
        python.display()
    );
    eprintln!(
        "\n!!!!!!!! SKIPPED: kcat or {} is missing — run ./test.sh !!!!!!!!\n",
        python.display()
    );
    None
}

fn kcat(args: &[&str], stdin: &[u8]) -> ToolOutput {
    let mut cmd = Command::new("kcat");
    cmd.args(args);
    run_command(cmd, stdin, KCAT_TIMEOUT)
}

/// Produces `key:value` lines with kcat, compressed with `codec`, each record with header
/// `h=<codec>`.
fn kcat_produce(bs: &str, topic: &str, codec: &str, lines: &str) {
    let header = format!("h={codec}");
    let out = kcat(
        &[
            "-b", bs, "-t", topic, "-P", "-K:", "-z", codec, "-H", &header, "-p", "0",
        ],
        lines.as_bytes(),
    );
    out.assert_success(&format!("kcat -P -z {codec}"));
}

/// Every record of partition 0 read by kcat: `key value headers` lines.
fn kcat_read(bs: &str, topic: &str) -> Vec<String> {
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
            "%k %s %h\\n",
        ],
        b"",
    );
    out.assert_success("kcat -C");
    out.stdout.lines().map(str::to_string).collect()
}

/// Runs a kafka-python snippet with `BS` and `TOPIC` set; returns its stdout.
fn python(py: &Path, bs: &str, topic: &str, code: &str) -> String {
    let mut cmd = Command::new(py);
    cmd.arg("-c")
        .arg(format!("BS = {bs:?}\nTOPIC = {topic:?}\n{code}"))
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    let out = run_command(cmd, b"", Duration::from_secs(120));
    out.assert_success("kafka-python");
    out.stdout
}

/// kafka-python producer: records `py-<i>` with header `h=py`, compressed with `codec`.
const PY_PRODUCE: &str = r#"
import sys
from kafka import KafkaProducer
p = KafkaProducer(bootstrap_servers=BS, compression_type=CODEC, linger_ms=50)
for i in range(COUNT):
    p.send(TOPIC, key=b"py-%d" % i, value=b"python value %d" % i, headers=[("h", b"py")], partition=0)
p.flush()
p.close()
"#;

/// kafka-python consumer: prints `key value h=<header>` for every record of partition 0.
const PY_CONSUME: &str = r#"
from kafka import KafkaConsumer, TopicPartition
c = KafkaConsumer(bootstrap_servers=BS, enable_auto_commit=False, consumer_timeout_ms=5000)
tp = TopicPartition(TOPIC, 0)
c.assign([tp])
c.seek_to_beginning(tp)
end = c.end_offsets([tp])[tp]
seen = 0
while seen < end:
    for batch in c.poll(timeout_ms=2000).values():
        for r in batch:
            seen += 1
            h = ",".join("%s=%s" % (k, v.decode()) for k, v in r.headers)
            print("%s %s %s" % (r.key.decode(), r.value.decode(), h))
c.close()
"#;

fn python_produce(py: &Path, bs: &str, topic: &str, codec: &str, count: usize) {
    let codec = if codec == "none" {
        "None".to_string()
    } else {
        format!("{codec:?}")
    };
    let code = PY_PRODUCE
        .replace("CODEC", &codec)
        .replace("COUNT", &count.to_string());
    python(py, bs, topic, &code);
}

/// The codec of every batch stored in the partition's segment files, in offset order.
fn stored_codecs(dir: &Path) -> Vec<u8> {
    let mut logs: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("partition dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    logs.sort();
    let mut codecs = Vec::new();
    for log in logs {
        let bytes = std::fs::read(&log).expect("segment");
        let mut pos = 0;
        while pos + 61 <= bytes.len() {
            let len = i32::from_be_bytes(bytes[pos + 8..pos + 12].try_into().expect("4 bytes"));
            assert_eq!(bytes[pos + 16], 2, "magic of the batch at {pos}");
            let attributes =
                i16::from_be_bytes(bytes[pos + 21..pos + 23].try_into().expect("2 bytes"));
            codecs.push((attributes & 0x07) as u8);
            pos += 12 + len as usize;
        }
    }
    codecs
}

fn console_consume(bs: &str, topic: &str, n: usize) -> Vec<String> {
    let max = n.to_string();
    let out = run_tool(
        "kafka-console-consumer",
        &[
            "--bootstrap-server",
            bs,
            "--topic",
            topic,
            "--from-beginning",
            "--max-messages",
            &max,
            "--timeout-ms",
            "30000",
            "--property",
            "print.key=true",
            "--property",
            "print.headers=true",
        ],
        b"",
        TOOL_TIMEOUT,
    );
    out.assert_success("kafka-console-consumer");
    assert!(
        out.stderr
            .contains(&format!("Processed a total of {n} messages")),
        "{out}"
    );
    out.stdout.lines().map(str::to_string).collect()
}

fn create(cluster: &Cluster, topic: &str, configs: &[&str]) {
    let mut args = vec!["--create", "--topic", topic, "--partitions", "1"];
    for c in configs {
        args.extend_from_slice(&["--config", c]);
    }
    cluster.topics(&args);
}

fn lines(prefix: &str, n: usize) -> String {
    (0..n)
        .map(|i| format!("{prefix}-{i}:{prefix} value {i}\n"))
        .collect()
}

/// Checks that kcat, kafka-python and our console consumer all read the `expected` records
/// (`key value h=<header>`), in order.
fn every_client_reads(py: &Path, bs: &str, topic: &str, expected: &[String]) {
    assert_eq!(kcat_read(bs, topic), expected, "kcat reads {topic}");
    let by_python: Vec<String> = python(py, bs, topic, PY_CONSUME)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(by_python, expected, "kafka-python reads {topic}");
    // The console consumer prints `h:<value>\t<key>\t<value>`.
    let ours = console_consume(bs, topic, expected.len());
    let want: Vec<String> = expected
        .iter()
        .map(|l| {
            let mut p = l.splitn(2, ' ');
            let key = p.next().unwrap_or_default();
            let rest = p.next().unwrap_or_default();
            let (value, header) = rest.rsplit_once(' ').unwrap_or((rest, ""));
            format!("{}\t{key}\t{value}", header.replacen('=', ":", 1))
        })
        .collect();
    assert_eq!(ours, want, "our console consumer reads {topic}");
}

fn expected(prefix: &str, n: usize, header: &str) -> Vec<String> {
    (0..n)
        .map(|i| format!("{prefix}-{i} {prefix} value {i} h={header}"))
        .collect()
}

fn python_expected(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("py-{i} python value {i} h=py"))
        .collect()
}

#[test]
fn batches_are_stored_with_the_topics_codec_and_every_client_reads_them() {
    let Some(py) = have_clients() else { return };
    let cluster = Cluster::start();
    let bs = cluster.bootstrap();
    // (topic's compression.type, the codec kcat uses, kafka-python's codec, stored codec id;
    // None: the producer's)
    for (compression, kcat_codec, py_codec, stored) in [
        ("gzip", "snappy", "zstd", Some(1u8)),
        ("zstd", "none", "lz4", Some(4)),
        ("uncompressed", "lz4", "gzip", Some(0)),
        ("snappy", "zstd", "gzip", Some(2)),
        ("lz4", "gzip", "snappy", Some(3)),
        ("producer", "lz4", "gzip", None),
    ] {
        let topic = format!("ct-{compression}");
        create(
            &cluster,
            &topic,
            &[&format!("compression.type={compression}")],
        );
        kcat_produce(&bs, &topic, kcat_codec, &lines("k", 20));
        python_produce(&py, &bs, &topic, py_codec, 10);
        let mut want = expected("k", 20, kcat_codec);
        want.extend(python_expected(10));
        every_client_reads(&py, &bs, &topic, &want);

        let codecs = stored_codecs(&cluster.broker.partition_dir(&topic, 0));
        assert!(!codecs.is_empty(), "{topic} has batches");
        let codec_id = |name: &str| match name {
            "gzip" => 1u8,
            "snappy" => 2,
            "lz4" => 3,
            "zstd" => 4,
            _ => 0,
        };
        match stored {
            Some(id) => assert!(
                codecs.iter().all(|c| *c == id),
                "{topic}: every batch stored with codec {id}: {codecs:?}"
            ),
            None => {
                assert_eq!(codecs.first(), Some(&codec_id(kcat_codec)), "{codecs:?}");
                assert_eq!(codecs.last(), Some(&codec_id(py_codec)), "{codecs:?}");
            }
        }
    }
}

#[test]
fn kafka_configs_alter_changes_the_codec_of_new_batches_live() {
    let Some(py) = have_clients() else { return };
    let cluster = Cluster::start();
    let bs = cluster.bootstrap();
    let topic = "ct-live";
    create(&cluster, topic, &[]);
    kcat_produce(&bs, topic, "gzip", &lines("before", 3));
    let dir = cluster.broker.partition_dir(topic, 0);
    assert_eq!(stored_codecs(&dir), [1], "producer: stored as sent");

    let alter = |entity: &[&str], config: &str| {
        let mut args = vec!["--bootstrap-server", bs.as_str(), "--alter"];
        args.extend_from_slice(entity);
        args.extend_from_slice(&["--add-config", config]);
        let out = run_tool("kafka-configs", &args, b"", TOOL_TIMEOUT);
        out.assert_success(&format!("kafka-configs {}", args.join(" ")));
    };
    alter(
        &["--entity-type", "topics", "--entity-name", topic],
        "compression.type=lz4",
    );
    // The partition takes the change from the metadata it watches; each try is one more record.
    let mut sent = 0;
    wait_until(
        "new batches stored with lz4",
        Duration::from_secs(30),
        || {
            kcat_produce(
                &bs,
                topic,
                "gzip",
                &format!("after-{sent}:after value {sent}\n"),
            );
            sent += 1;
            (stored_codecs(&dir).last() == Some(&3)).then_some(())
        },
    );
    let codecs = stored_codecs(&dir);
    assert_eq!(codecs[0], 1, "the batch written before stays gzip");

    // The broker default reaches a topic without its own compression.type.
    let plain = "ct-broker-default";
    create(&cluster, plain, &[]);
    alter(
        &["--entity-type", "brokers", "--entity-default"],
        "compression.type=zstd",
    );
    let plain_dir = cluster.broker.partition_dir(plain, 0);
    let mut plain_sent = 0;
    wait_until(
        "new batches stored with the broker default zstd",
        Duration::from_secs(30),
        || {
            kcat_produce(
                &bs,
                plain,
                "snappy",
                &format!("d-{plain_sent}:d value {plain_sent}\n"),
            );
            plain_sent += 1;
            (stored_codecs(&plain_dir).last() == Some(&4)).then_some(())
        },
    );
    // The topic's own setting wins over the broker default.
    kcat_produce(&bs, topic, "gzip", "last:last value\n");
    assert_eq!(stored_codecs(&dir).last(), Some(&3));

    let mut want = expected("before", 3, "gzip");
    want.extend((0..sent).map(|i| format!("after-{i} after value {i} h=gzip")));
    want.push("last last value h=gzip".to_string());
    every_client_reads(&py, &bs, topic, &want);
    let want: Vec<String> = (0..plain_sent)
        .map(|i| format!("d-{i} d value {i} h=snappy"))
        .collect();
    every_client_reads(&py, &bs, plain, &want);
}

#[test]
fn compression_levels_are_validated_and_reach_the_compressor() {
    let Some(py) = have_clients() else { return };
    let cluster = Cluster::start();
    let bs = cluster.bootstrap();
    for (config, why) in [
        (
            "compression.gzip.level=10",
            "Value must be between 1 and 9 or equal to -1",
        ),
        ("compression.lz4.level=0", "Value must be at least 1"),
        ("compression.zstd.level=23", "Value must be no more than 22"),
        (
            "compression.type=none",
            "String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer",
        ),
    ] {
        let out = run_tool(
            "kafka-topics",
            &[
                "--bootstrap-server",
                &bs,
                "--create",
                "--topic",
                "ct-bad",
                "--config",
                config,
            ],
            b"",
            TOOL_TIMEOUT,
        );
        out.assert_code(1, config);
        let (name, value) = config.split_once('=').expect("k=v");
        assert!(
            out.stdout.contains(&format!(
                "Error while executing topic command : Invalid value {value} for configuration \
                 {name}: {why}"
            )),
            "{out}"
        );
    }

    // The broker's levels are dynamic, cluster-wide, and checked the same way.
    let alter_default = |config: &str| {
        run_tool(
            "kafka-configs",
            &[
                "--bootstrap-server",
                &bs,
                "--alter",
                "--entity-type",
                "brokers",
                "--entity-default",
                "--add-config",
                config,
            ],
            b"",
            TOOL_TIMEOUT,
        )
    };
    let refused = alter_default("compression.gzip.level=10");
    assert_ne!(refused.code, Some(0), "{refused}");
    assert!(
        refused.all().contains(
            "Invalid value 10 for configuration compression.gzip.level: Value must be between 1 \
             and 9 or equal to -1"
        ),
        "{refused}"
    );
    alter_default("compression.zstd.level=19").assert_success("zstd level 19");

    // The same records, gzip at level 1 and at level 9: level 9 stores fewer bytes.
    let mut sizes = Vec::new();
    for level in ["1", "9"] {
        let topic = format!("ct-gzip-{level}");
        create(
            &cluster,
            &topic,
            &[
                "compression.type=gzip",
                &format!("compression.gzip.level={level}"),
            ],
        );
        python_produce(&py, &bs, &topic, "none", 400);
        assert_eq!(kcat_read(&bs, &topic).len(), 400);
        let dir = cluster.broker.partition_dir(&topic, 0);
        assert!(stored_codecs(&dir).iter().all(|c| *c == 1));
        let size = std::fs::metadata(dir.join("00000000000000000000.log"))
            .expect("segment")
            .len();
        sizes.push(size);
    }
    assert!(
        sizes[1] < sizes[0],
        "gzip level 9 {} < level 1 {}",
        sizes[1],
        sizes[0]
    );
}

#[test]
fn a_batch_larger_than_max_message_bytes_once_recompressed_is_refused() {
    let Some(_) = have_clients() else { return };
    let cluster = Cluster::start();
    let bs = cluster.bootstrap();
    let topic = "ct-too-large";
    create(
        &cluster,
        topic,
        &["compression.type=uncompressed", "max.message.bytes=4000"],
    );
    // 20,000 bytes of one letter: a few hundred bytes gzipped, 20 KB stored uncompressed.
    let value = "x".repeat(20_000);
    let out = kcat(
        &[
            "-b",
            &bs,
            "-t",
            topic,
            "-P",
            "-z",
            "gzip",
            "-p",
            "0",
            "-X",
            "message.send.max.retries=0",
        ],
        format!("{value}\n").as_bytes(),
    );
    assert!(
        out.all().contains("Broker: Message size too large"),
        "kcat reports MESSAGE_TOO_LARGE: {out}"
    );
    assert_eq!(
        kcat_read(&bs, topic),
        Vec::<String>::new(),
        "nothing stored"
    );
    // A batch that fits once recompressed is taken.
    kcat_produce(&bs, topic, "gzip", "small:small value\n");
    assert_eq!(kcat_read(&bs, topic), ["small small value h=gzip"]);
}
