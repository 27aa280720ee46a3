//! `kafka-dump-log` on the files of a real broker: records produced uncompressed and with each
//! codec (keys, headers, fixed timestamps, idempotent sequences) and one committed and one
//! aborted transaction, read back after the broker stopped, with Kafka 3.9's batch, record,
//! control-marker, index, time-index and aborted-transaction lines; the broker's indexes pass
//! the tool's checks against the log; `__transaction_state` decodes with
//! `--transaction-log-decoder`; a torn tail, a corrupt batch and a missing file get Kafka's texts.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use client::producer::{Compression, Producer, ProducerConfig, ProducerRecord};
use e2e::{run_tool, wait_until, Broker, ToolOutput, ZooKeeper, TOOL_TIMEOUT};
use regex::Regex;

const TOPIC: &str = "dumped";
/// Record timestamps: fixed per run, a minute in the past (older ones would roll the segment
/// when the markers, stamped now, arrive, and fall to retention).
fn base_ts() -> i64 {
    static BASE: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *BASE.get_or_init(|| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        now.as_millis() as i64 - 60_000
    })
}

fn dump_log(args: &[&str]) -> ToolOutput {
    run_tool("kafka-dump-log", args, b"", TOOL_TIMEOUT)
}

fn config(bootstrap: &str, compression: Compression, txn: Option<&str>) -> ProducerConfig {
    ProducerConfig {
        bootstrap_servers: bootstrap.to_string(),
        client_id: "e2e-dump-log".to_string(),
        // Long enough for the three records of a round to share one batch.
        linger_ms: 200,
        compression,
        transactional_id: txn.map(str::to_string),
        ..ProducerConfig::default()
    }
}

fn record(i: i64, headers: bool) -> ProducerRecord {
    ProducerRecord {
        topic: TOPIC.to_string(),
        partition: Some(0),
        key: (i % 3 != 2).then(|| Bytes::from(format!("k{i}"))),
        value: Some(Bytes::from(format!("value-{i}"))),
        headers: if headers {
            vec![
                ("h1".to_string(), Some(Bytes::from_static(b"x"))),
                ("h2".to_string(), None),
            ]
        } else {
            Vec::new()
        },
        timestamp: Some(base_ts() + i),
    }
}

/// Five idempotent rounds of three records (none, gzip, snappy, lz4, zstd: offsets 0-14), then a
/// committed transaction (15, marker 16) and an aborted one (17, marker 18).
async fn produce(bootstrap: &str) {
    let codecs = [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ];
    for (round, codec) in codecs.into_iter().enumerate() {
        let producer = Producer::new(config(bootstrap, codec, None)).await.unwrap();
        let mut acks = Vec::new();
        for j in 0..3 {
            let i = round as i64 * 3 + j;
            acks.push(
                producer
                    .send(record(i, round == 0 && j == 0))
                    .await
                    .unwrap(),
            );
        }
        producer.flush().await.unwrap();
        for ack in acks {
            ack.await.unwrap();
        }
    }
    let producer = Producer::new(config(bootstrap, Compression::None, Some("dump-txn")))
        .await
        .unwrap();
    producer.init_transactions().await.unwrap();
    producer.begin_transaction().unwrap();
    let ack = producer.send(record(15, false)).await.unwrap();
    producer.commit_transaction().await.unwrap();
    ack.await.unwrap();
    producer.begin_transaction().unwrap();
    let ack = producer.send(record(17, false)).await.unwrap();
    // Written before the abort, so the abort has a record to cover.
    producer.flush().await.unwrap();
    ack.await.unwrap();
    producer.abort_transaction().await.unwrap();
}

fn ok(out: &ToolOutput, what: &str) -> String {
    out.assert_success(what);
    assert_eq!(out.stderr, "", "{what}: {out}");
    out.stdout.clone()
}

/// `expected` with `\d+`-style holes (`{N}`) matched against `line`; the holes' values.
fn matches(line: &str, expected: &str) -> Vec<i64> {
    let pattern = format!(
        "^{}$",
        regex::escape(expected).replace(r"\{N\}", r"(-?\d+)")
    );
    let re = Regex::new(&pattern).unwrap();
    let Some(caps) = re.captures(line) else {
        panic!("line\n  {line}\ndoes not match\n  {expected}");
    };
    caps.iter()
        .skip(1)
        .map(|c| c.unwrap().as_str().parse().unwrap())
        .collect()
}

#[test]
fn dump_log_reads_a_brokers_segments_indexes_and_transactions() {
    let zk = ZooKeeper::start();
    let mut broker = Broker::start(
        &zk,
        0,
        &[
            // An index entry for every batch.
            ("log.index.interval.bytes", "1"),
            ("offsets.topic.num.partitions", "1"),
            ("transaction.state.log.num.partitions", "1"),
            ("transaction.state.log.replication.factor", "1"),
            ("transaction.state.log.min.isr", "1"),
        ],
    );
    let bootstrap = broker.bootstrap();
    let created = run_tool(
        "kafka-topics",
        &[
            "--bootstrap-server",
            &bootstrap,
            "--create",
            "--topic",
            TOPIC,
            "--partitions",
            "1",
            "--replication-factor",
            "1",
        ],
        b"",
        TOOL_TIMEOUT,
    );
    created.assert_success("kafka-topics --create");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(produce(&bootstrap));
    let dir = broker.partition_dir(TOPIC, 0);
    let file = |suffix: &str| dir.join(format!("00000000000000000000{suffix}"));
    let log = file(".log");
    let log_s = log.display().to_string();
    // Transaction markers are written after EndTxn is answered.
    let last = std::cell::RefCell::new(String::new());
    let marker = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        wait_until(
            "the ABORT marker in the log",
            Duration::from_secs(30),
            || {
                let out = dump_log(&["--files", &log_s, "--deep-iteration"]);
                *last.borrow_mut() = out.all();
                out.stdout.contains("endTxnMarker: ABORT").then_some(())
            },
        )
    }));
    assert!(
        marker.is_ok(),
        "no ABORT marker; last dump:\n{}",
        last.borrow()
    );
    // A committed offset in __consumer_offsets, for --offsets-decoder.
    let reset = run_tool(
        "kafka-consumer-groups",
        &[
            "--bootstrap-server",
            &bootstrap,
            "--group",
            "dump-group",
            "--topic",
            TOPIC,
            "--reset-offsets",
            "--to-offset",
            "4",
            "--execute",
        ],
        b"",
        TOOL_TIMEOUT,
    );
    reset.assert_success("kafka-consumer-groups --reset-offsets");
    broker.stop();

    // Deep iteration with payloads.
    let out = ok(
        &dump_log(&["--files", &log_s, "--print-data-log"]),
        "dump .log",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], format!("Dumping {log_s}"));
    assert_eq!(lines[1], "Log starting offset: 0");
    let mut at = 2;
    let mut position = 0;
    for (round, codec) in ["none", "gzip", "snappy", "lz4", "zstd"].iter().enumerate() {
        let base = round as i64 * 3;
        let holes = matches(
            lines[at],
            &format!(
                "baseOffset: {base} lastOffset: {} count: 3 baseSequence: 0 lastSequence: 2 \
                 producerId: {{N}} producerEpoch: 0 partitionLeaderEpoch: 0 isTransactional: false \
                 isControl: false deleteHorizonMs: OptionalLong.empty position: {position} \
                 CreateTime: {} size: {{N}} magic: 2 compresscodec: {codec} crc: {{N}} isvalid: true",
                base + 2,
                base_ts() + base + 2
            ),
        );
        position += holes[1];
        for j in 0..3 {
            let i = base + j;
            let (key_size, key) = if i % 3 == 2 {
                ("-1".to_string(), String::new())
            } else {
                (format!("k{i}").len().to_string(), format!(" key: k{i}"))
            };
            let headers = if i == 0 { "h1,h2" } else { "" };
            assert_eq!(
                lines[at + 1 + j as usize],
                format!(
                    "| offset: {i} CreateTime: {} keySize: {key_size} valueSize: {} sequence: {j} \
                     headerKeys: [{headers}]{key} payload: value-{i}",
                    base_ts() + i,
                    format!("value-{i}").len()
                )
            );
        }
        at += 4;
    }
    // The committed transaction: its record, then the COMMIT marker.
    let txn_pid = matches(
        lines[at],
        &format!(
            "baseOffset: 15 lastOffset: 15 count: 1 baseSequence: 0 lastSequence: 0 producerId: {{N}} \
             producerEpoch: 0 partitionLeaderEpoch: 0 isTransactional: true isControl: false \
             deleteHorizonMs: OptionalLong.empty position: {position} CreateTime: {} size: {{N}} \
             magic: 2 compresscodec: none crc: {{N}} isvalid: true",
            base_ts() + 15
        ),
    )[0];
    assert_eq!(
        lines[at + 1],
        format!("| offset: 15 CreateTime: {} keySize: 3 valueSize: 8 sequence: 0 headerKeys: [] key: k15 payload: value-15", base_ts() + 15)
    );
    matches(
        lines[at + 2],
        &format!(
            "baseOffset: 16 lastOffset: 16 count: 1 baseSequence: -1 lastSequence: -1 producerId: {txn_pid} \
             producerEpoch: 0 partitionLeaderEpoch: 0 isTransactional: true isControl: true \
             deleteHorizonMs: OptionalLong.empty position: {{N}} CreateTime: {{N}} size: {{N}} \
             magic: 2 compresscodec: none crc: {{N}} isvalid: true"
        ),
    );
    matches(
        lines[at + 3],
        "| offset: 16 CreateTime: {N} keySize: 4 valueSize: 6 sequence: -1 headerKeys: [] endTxnMarker: COMMIT coordinatorEpoch: {N}",
    );
    assert!(lines.len() > at + 7, "{out}");
    assert!(
        lines[at + 4].starts_with("baseOffset: 17 lastOffset: 17 "),
        "{out}"
    );
    assert!(
        lines[at + 6].starts_with("baseOffset: 18 lastOffset: 18 "),
        "{out}"
    );
    assert!(
        lines[at + 7].contains(" endTxnMarker: ABORT coordinatorEpoch: "),
        "{out}"
    );
    assert_eq!(lines.len(), at + 8, "{out}");

    // Shallow iteration: batch lines only; --skip-record-metadata leaves keys and payloads.
    let shallow = ok(&dump_log(&["--files", &log_s]), "shallow dump");
    assert_eq!(shallow.lines().count(), 2 + 5 + 4, "{shallow}");
    let bare = ok(
        &dump_log(&[
            "--files",
            &log_s,
            "--print-data-log",
            "--skip-record-metadata",
        ]),
        "skip metadata",
    );
    assert!(bare.contains("\n| key: k0 payload: value-0\n"), "{bare}");
    assert!(bare.contains("\n payload: value-2\n"), "{bare}");

    // Every index entry names a batch at its position; the tool checks each against the log
    // as Kafka's does. Kafka indexes a batch by its last offset; an entry naming another offset
    // of the batch is reported on stderr in Kafka's words (our broker indexes base offsets, so
    // its multi-record batches are reported).
    let batch_re = Regex::new(r"^baseOffset: (\d+) lastOffset: (\d+) .* position: (\d+) ").unwrap();
    let batches: Vec<(i64, i64, i64)> = out
        .lines()
        .filter_map(|l| batch_re.captures(l))
        .map(|c| {
            (
                c[1].parse().unwrap(),
                c[2].parse().unwrap(),
                c[3].parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(batches.len(), 9, "{out}");
    let index = file(".index").display().to_string();
    let time_index = file(".timeindex").display().to_string();
    let both = dump_log(&["--files", &format!("{index},{time_index}")]);
    both.assert_success("dump indexes");
    let mut index_mismatches = Vec::new();
    let mut not_found = Vec::new();
    let mut entries = 0;
    for l in both.stdout.lines() {
        if let Some(rest) = l.strip_prefix("offset: ") {
            let (offset, position) = rest.split_once(" position: ").unwrap();
            let (offset, position): (i64, i64) =
                (offset.parse().unwrap(), position.parse().unwrap());
            let batch = batches.iter().find(|b| b.2 == position).expect(l);
            assert!(offset == batch.0 || offset == batch.1, "{l} vs {batch:?}");
            if offset != batch.1 {
                index_mismatches.push(format!(
                    "  Index offset: {offset}, log offset: {}\n",
                    batch.1
                ));
            }
            entries += 1;
        } else if let Some(rest) = l.strip_prefix("timestamp: ") {
            let (ts, offset) = rest.split_once(" offset: ").unwrap();
            let (ts, offset): (i64, i64) = (ts.parse().unwrap(), offset.parse().unwrap());
            let batch = batches
                .iter()
                .find(|b| b.0 <= offset && offset <= b.1)
                .expect(l);
            if offset != batch.1 {
                not_found.push(format!(
                    "Indexed offset: {offset}, found log offset: {}\n",
                    batch.1
                ));
            } else if offset < 15 {
                assert_eq!(ts, base_ts() + offset, "{l}");
            }
        }
    }
    // With log.index.interval.bytes=1, every batch but the segment's first is indexed.
    assert_eq!(entries, batches.len() - 1, "{both}");
    let mut index_report = String::new();
    if !index_mismatches.is_empty() {
        index_report.push_str(&format!("Mismatches in :{index}\n"));
        for m in index_mismatches.iter().rev() {
            index_report.push_str(m);
        }
    }
    let mut expected = index_report.clone();
    if !not_found.is_empty() {
        expected.push_str("The following indexed offsets are not found in the log.\n");
        expected.extend(not_found);
    }
    assert_eq!(both.stderr, expected, "{both}");
    let checked = ok(
        &dump_log(&[
            "--files",
            &format!("{index},{time_index}"),
            "--index-sanity-check",
        ]),
        "sanity check",
    );
    assert_eq!(
        checked,
        format!("Dumping {index}\n{index} passed sanity check.\nDumping {time_index}\n{time_index} passed sanity check.\n")
    );
    let verified = dump_log(&["--files", &index, "--verify-index-only"]);
    verified.assert_success("verify only");
    assert_eq!(verified.stdout, format!("Dumping {index}\n"));
    assert_eq!(verified.stderr, index_report);

    // The aborted transaction is in the segment's transaction index.
    let txn_index = file(".txnindex").display().to_string();
    let out = ok(&dump_log(&["--files", &txn_index]), "dump .txnindex");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(lines[0], format!("Dumping {txn_index}"));
    matches(
        lines[1],
        &format!("version: 0 producerId: {txn_pid} firstOffset: 17 lastOffset: 18 lastStableOffset: {{N}}"),
    );

    // __transaction_state, decoded.
    let state_log = broker
        .partition_dir("__transaction_state", 0)
        .join("00000000000000000000.log");
    let out = ok(
        &dump_log(&[
            "--files",
            &state_log.display().to_string(),
            "--transaction-log-decoder",
        ]),
        "transaction log decoder",
    );
    assert!(
        out.contains(&format!(
            " key: transaction_metadata::transactionalId=dump-txn payload: producerId:{txn_pid},producerEpoch:0,state=CompleteAbort,partitions=[],"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("state=Ongoing,partitions=[{TOPIC}-0],")),
        "{out}"
    );

    // __consumer_offsets, decoded as Kafka's OffsetsMessageParser prints it.
    let offsets_log = broker
        .partition_dir("__consumer_offsets", 0)
        .join("00000000000000000000.log");
    let out = ok(
        &dump_log(&[
            "--files",
            &offsets_log.display().to_string(),
            "--offsets-decoder",
        ]),
        "offsets decoder",
    );
    let line = out
        .lines()
        .find(|l| l.contains("dump-group"))
        .unwrap_or_else(|| panic!("no dump-group record in\n{out}"));
    matches(
        line,
        &format!(
            "| offset: {{N}} CreateTime: {{N}} keySize: {{N}} valueSize: {{N}} sequence: -1 headerKeys: [] \
             key: {{\"type\":\"1\",\"data\":{{\"group\":\"dump-group\",\"topic\":\"{TOPIC}\",\"partition\":0}}}} \
             payload: {{\"version\":\"3\",\"data\":{{\"offset\":4,\"leaderEpoch\":{{N}},\"metadata\":\"\",\"commitTimestamp\":{{N}}}}}}"
        ),
    );

    broken_files(&log, &dir);
}

/// A torn tail is reported, a corrupt batch length and a missing file are Kafka's exceptions.
fn broken_files(log: &Path, dir: &Path) {
    let scratch = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(log).unwrap();
    let torn = scratch.path().join("00000000000000000000.log");
    std::fs::write(&torn, &bytes[..bytes.len() - 5]).unwrap();
    let out = dump_log(&["--files", &torn.display().to_string()]);
    let stdout = ok(&out, "torn tail");
    let last_size = {
        // The last batch (the ABORT marker) is cut: its bytes less 5 are trailing.
        let mut at = 0usize;
        let mut last = 0usize;
        while at + 12 <= bytes.len() {
            let len = i32::from_be_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
            last = 12 + len;
            at += last;
        }
        last
    };
    assert!(
        stdout.ends_with(&format!(
            "Found {} invalid bytes at the end of 00000000000000000000.log\n",
            last_size - 5
        )),
        "{stdout}"
    );

    let mut corrupt = bytes.clone();
    corrupt[8..12].copy_from_slice(&5i32.to_be_bytes());
    std::fs::write(&torn, &corrupt).unwrap();
    let out = dump_log(&["--files", &torn.display().to_string()]);
    out.assert_code(1, "corrupt batch length");
    assert_eq!(
        out.stderr,
        format!(
            "Exception in thread \"main\" org.apache.kafka.common.errors.CorruptRecordException: Found record size 5 smaller than minimum record overhead (14) in file {}.\n",
            torn.display()
        )
    );

    let missing = dir.join("00000000000000000099.log");
    let out = dump_log(&["--files", &missing.display().to_string()]);
    out.assert_code(1, "missing file");
    assert_eq!(
        out.stdout,
        format!("Dumping {}\nLog starting offset: 99\n", missing.display())
    );
    assert_eq!(
        out.stderr,
        format!(
            "Exception in thread \"main\" java.nio.file.NoSuchFileException: {}\n",
            missing.display()
        )
    );

    let out = dump_log(&[]);
    out.assert_code(1, "no arguments");
    assert!(out.stderr.starts_with("This tool helps to parse a log file and dump its contents to the console, useful for debugging a seemingly corrupt log segment.\n"), "{out}");
    let out = dump_log(&["--deep-iteration"]);
    out.assert_code(1, "no --files");
    assert!(
        out.stderr
            .starts_with("Missing required argument \"[files]\"\n"),
        "{out}"
    );
}
