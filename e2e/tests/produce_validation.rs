//! What the broker does with produced batches and topic configs, checked through real clients:
//! a `message.timestamp.type=LogAppendTime` topic stamps the append time (kafka-python and
//! confluent-kafka see timestamp type LogAppendTime, our console consumer prints
//! `LogAppendTime:<ms>`); a batch whose header says `maxTimestamp = -1` is still found by
//! ListOffsets by time (kafka-python `offsets_for_times`, kcat `-Q`); client-written control
//! batches, two batches in one partition and timestamps outside the topic's window are refused
//! with Kafka's codes and texts; configs we cannot honor are refused at create time.
//!
//! Python is `$KAFKA_E2E_PYTHON`, else `.venv/bin/python`; kcat comes from the system. Without
//! them the tests skip loudly, except under `CI=true`, where that is a failure.

use e2e::python;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use common::time::now_ms;

use bytes::{Bytes, BytesMut};
use e2e::{have_kcat, run_command, run_tool, Cluster, ToolOutput, TOOL_TIMEOUT};
use kafka_protocol::messages::produce_response::PartitionProduceResponse;
use kafka_protocol::records::{
    Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};

const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);

fn run_python(python: &PathBuf, script: &str, args: &[&str]) -> ToolOutput {
    let mut cmd = Command::new(python);
    cmd.arg("-c")
        .arg(script)
        .args(args)
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    let out = run_command(cmd, b"", SCRIPT_TIMEOUT);
    out.assert_success("python script");
    out
}

/// The value after `prefix` on the first stdout line that starts with it.
fn field(out: &ToolOutput, prefix: &str) -> String {
    out.stdout
        .lines()
        .find_map(|l| l.strip_prefix(prefix))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| panic!("no line starting with {prefix:?}: {out}"))
}

/// CRC-32C (Castagnoli), as a producer computes a batch's CRC.
fn crc32c(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A v2 batch of records with these timestamps, as kafka-protocol's encoder writes it.
fn encode_batch(timestamps: &[i64], control: bool) -> Vec<u8> {
    encode_batch_as(timestamps, control, false)
}

/// `encode_batch`, optionally as a transactional producer (id 5, epoch 0) writes it.
fn encode_batch_as(timestamps: &[i64], control: bool, transactional: bool) -> Vec<u8> {
    let (producer_id, producer_epoch, first_sequence) = if transactional {
        (5, 0, 0)
    } else {
        (-1, -1, -1)
    };
    let records: Vec<Record> = timestamps
        .iter()
        .enumerate()
        .map(|(i, ts)| Record {
            transactional,
            control,
            delete_horizon: false,
            partition_leader_epoch: -1,
            producer_id,
            producer_epoch,
            timestamp_type: TimestampType::Creation,
            offset: i as i64,
            // The encoder keeps records in one batch only while offset - sequence is constant;
            // a first sequence of -1 is the batch's "no sequence".
            sequence: first_sequence + i as i32,
            timestamp: *ts,
            key: Some(Bytes::from(format!("k{i}"))),
            value: Some(Bytes::from(format!("v{i}"))),
            headers: Default::default(),
        })
        .collect();
    let mut buf = BytesMut::new();
    let options = RecordEncodeOptions {
        version: 2,
        compression: Compression::None,
    };
    RecordBatchEncoder::encode(&mut buf, &records, &options).expect("encode batch");
    buf.to_vec()
}

/// Sets the header's maxTimestamp to -1 and recomputes the CRC: what an old producer sends.
fn without_max_timestamp(mut batch: Vec<u8>) -> Vec<u8> {
    batch[35..43].copy_from_slice(&(-1i64).to_be_bytes());
    let crc = crc32c(&batch[21..]);
    batch[17..21].copy_from_slice(&crc.to_be_bytes());
    batch
}

/// Sends one Produce (v9, acks=1) of `records` to `topic`-0 and returns the partition's answer.
fn produce_raw(bootstrap: &str, topic: &str, records: Vec<u8>) -> PartitionProduceResponse {
    produce_raw_with(bootstrap, topic, records, 1)
}

/// `produce_raw` with these `acks`.
fn produce_raw_with(
    bootstrap: &str,
    topic: &str,
    records: Vec<u8>,
    acks: i16,
) -> PartitionProduceResponse {
    e2e::raw::produce(bootstrap, topic, records, acks)
}

fn message(p: &PartitionProduceResponse) -> String {
    p.error_message
        .as_ref()
        .map(|m| m.as_str().to_string())
        .unwrap_or_default()
}

const LOG_APPEND_TIME_SCRIPT: &str = r#"
import sys
from kafka import KafkaProducer, KafkaConsumer, TopicPartition
from confluent_kafka import Consumer, TIMESTAMP_LOG_APPEND_TIME

bootstrap, topic = sys.argv[1], sys.argv[2]
producer = KafkaProducer(bootstrap_servers=bootstrap)
meta = producer.send(topic, b"stamped", timestamp_ms=1000).get(timeout=30)
producer.close()
print("APPEND", meta.timestamp, flush=True)

consumer = KafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                         consumer_timeout_ms=20000, enable_auto_commit=False)
consumer.assign([TopicPartition(topic, 0)])
for record in consumer:
    print("KAFKA_PYTHON", record.timestamp_type, record.timestamp, flush=True)
    break
consumer.close()

c = Consumer({"bootstrap.servers": bootstrap, "group.id": "lat-check",
              "auto.offset.reset": "earliest", "enable.auto.commit": False})
c.subscribe([topic])
msg = None
for _ in range(60):
    msg = c.poll(1.0)
    if msg is not None and msg.error() is None:
        break
if msg is None or msg.error() is not None:
    sys.exit("confluent-kafka read nothing: %r" % (msg and msg.error(),))
kind, ts = msg.timestamp()
print("CONFLUENT", "LogAppendTime" if kind == TIMESTAMP_LOG_APPEND_TIME else kind, ts, flush=True)
c.close()
"#;

#[test]
fn log_append_time_topic_stamps_the_append_time_that_clients_see() {
    let Some(python) = python() else { return };
    let cluster = Cluster::start();
    let bs = cluster.bootstrap();
    cluster.topics(&[
        "--create",
        "--topic",
        "stamped",
        "--partitions",
        "1",
        "--config",
        "message.timestamp.type=LogAppendTime",
    ]);
    let before = now_ms();
    let out = run_python(&python, LOG_APPEND_TIME_SCRIPT, &[&bs, "stamped"]);
    let after = now_ms();

    // The Produce response's log_append_time_ms, as kafka-python's RecordMetadata reports it.
    let append: i64 = field(&out, "APPEND ").parse().expect("append time");
    assert!(
        (before..=after).contains(&append),
        "append time {append} not in [{before}, {after}]: {out}"
    );
    assert_eq!(
        field(&out, "KAFKA_PYTHON "),
        format!("1 {append}"),
        "kafka-python: timestamp type 1 (LogAppendTime) carrying the append time"
    );
    assert_eq!(field(&out, "CONFLUENT "), format!("LogAppendTime {append}"));

    let consumer = run_tool(
        "kafka-console-consumer",
        &[
            "--bootstrap-server",
            &bs,
            "--topic",
            "stamped",
            "--from-beginning",
            "--max-messages",
            "1",
            "--timeout-ms",
            "30000",
            "--property",
            "print.timestamp=true",
        ],
        b"",
        TOOL_TIMEOUT,
    );
    consumer.assert_success("console consumer");
    assert_eq!(
        consumer.stdout.lines().next(),
        Some(format!("LogAppendTime:{append}\tstamped").as_str()),
        "{consumer}"
    );

    if have_kcat() {
        let mut cmd = Command::new("kcat");
        cmd.args([
            "-b",
            &bs,
            "-C",
            "-t",
            "stamped",
            "-o",
            "beginning",
            "-c",
            "1",
            "-J",
        ]);
        let out = run_command(cmd, b"", TOOL_TIMEOUT);
        out.assert_success("kcat -C -J");
        assert!(
            out.stdout.contains("\"tstype\":\"logappend\"")
                && out.stdout.contains(&format!("\"ts\":{append}")),
            "kcat sees a LogAppendTime timestamp: {out}"
        );
    }

    // A CreateTime topic keeps the producer's timestamp, as before.
    cluster.create_topic("created", 1);
    let produced = produce_raw(&bs, "created", encode_batch(&[1_000], false));
    assert_eq!(produced.error_code, 0, "{}", message(&produced));
    assert_eq!(produced.log_append_time_ms, -1);
}

#[test]
fn max_timestamp_minus_one_is_recomputed_so_lookups_by_time_find_the_records() {
    let cluster = Cluster::start();
    let bs = cluster.bootstrap();
    cluster.create_topic("old-producer", 1);
    let t = 1_600_000_000_000i64;
    for (i, batch) in [
        [t, t + 1_000, t + 2_000],
        [t + 10_000, t + 11_000, t + 12_000],
    ]
    .iter()
    .enumerate()
    {
        let produced = produce_raw(
            &bs,
            "old-producer",
            without_max_timestamp(encode_batch(batch, false)),
        );
        assert_eq!(produced.error_code, 0, "{}", message(&produced));
        assert_eq!(produced.base_offset, 3 * i as i64);
    }

    if let Some(python) = python() {
        let script = r#"
import sys
from kafka import KafkaConsumer, TopicPartition
c = KafkaConsumer(bootstrap_servers=sys.argv[1])
tp = TopicPartition(sys.argv[2], 0)
for ts in sys.argv[3:]:
    found = c.offsets_for_times({tp: int(ts)})[tp]
    print("AT", ts, found.offset if found else None, found.timestamp if found else None, flush=True)
c.close()
"#;
        let out = run_python(
            &python,
            script,
            &[
                &bs,
                "old-producer",
                &(t + 1_500).to_string(),
                &(t + 5_000).to_string(),
                &(t + 11_000).to_string(),
            ],
        );
        assert_eq!(
            field(&out, &format!("AT {} ", t + 1_500)),
            format!("2 {}", t + 2_000)
        );
        assert_eq!(
            field(&out, &format!("AT {} ", t + 5_000)),
            format!("3 {}", t + 10_000)
        );
        assert_eq!(
            field(&out, &format!("AT {} ", t + 11_000)),
            format!("4 {}", t + 11_000)
        );
    }

    if have_kcat() {
        let mut cmd = Command::new("kcat");
        cmd.args([
            "-b",
            &bs,
            "-Q",
            "-t",
            &format!("old-producer:0:{}", t + 1_500),
        ]);
        let out = run_command(cmd, b"", TOOL_TIMEOUT);
        out.assert_success("kcat -Q");
        assert!(
            out.stdout.contains("old-producer [0] offset 2"),
            "kcat -Q finds offset 2: {out}"
        );
    }
}

#[test]
fn batches_kafka_refuses_are_refused_with_its_codes_and_texts() {
    let cluster = Cluster::start();
    let bs = cluster.bootstrap();
    cluster.create_topic("strict", 1);

    let control = produce_raw(&bs, "strict", encode_batch(&[now_ms()], true));
    assert_eq!(control.error_code, 87, "INVALID_RECORD");
    assert_eq!(
        message(&control),
        "Clients are not allowed to write control records in topic partition strict-0"
    );

    let mut two = encode_batch(&[now_ms()], false);
    two.extend_from_slice(&encode_batch(&[now_ms()], false));
    let two = produce_raw(&bs, "strict", two);
    assert_eq!(two.error_code, 87, "INVALID_RECORD");
    assert_eq!(
        message(&two),
        "Produce requests with version 9 are only allowed to contain exactly one record batch \
         per partition"
    );

    // Count consistent with lastOffsetDelta, but one record more in the body than declared.
    let mut short = encode_batch(&[now_ms(), now_ms()], false);
    short[23..27].copy_from_slice(&0i32.to_be_bytes());
    short[57..61].copy_from_slice(&1i32.to_be_bytes());
    let crc = crc32c(&short[21..]);
    short[17..21].copy_from_slice(&crc.to_be_bytes());
    let short = produce_raw(&bs, "strict", short);
    assert_eq!(short.error_code, 87, "INVALID_RECORD");
    assert_eq!(
        message(&short),
        "Incorrect declared batch size, records still remaining in file"
    );

    cluster.topics(&[
        "--create",
        "--topic",
        "windowed",
        "--partitions",
        "1",
        "--config",
        "message.timestamp.after.max.ms=60000",
    ]);
    let future = now_ms() + 3_600_000;
    let late = produce_raw(&bs, "windowed", encode_batch(&[now_ms(), future], false));
    assert_eq!(late.error_code, 32, "INVALID_TIMESTAMP");
    assert_eq!(
        message(&late),
        "One or more records have been rejected due to invalid timestamp"
    );
    assert_eq!(late.record_errors.len(), 1, "only the future record");
    assert_eq!(late.record_errors[0].batch_index, 1);
    let ok = produce_raw(&bs, "windowed", encode_batch(&[now_ms()], false));
    assert_eq!(ok.error_code, 0, "{}", message(&ok));
    assert_eq!(ok.base_offset, 0, "nothing of the refused batch was stored");
    if let Some(python) = python() {
        // librdkafka reports the refusal to the application as INVALID_TIMESTAMP.
        let script = r#"
import sys, time
from confluent_kafka import Producer, KafkaError
p = Producer({"bootstrap.servers": sys.argv[1], "enable.idempotence": False, "retries": 0})
seen = []
p.produce(sys.argv[2], b"future", timestamp=int(time.time() * 1000) + 3600000,
          on_delivery=lambda err, msg: seen.append(err))
p.flush(30)
err = seen[0] if seen else None
print("DELIVERY", err.code() == KafkaError.INVALID_TIMESTAMP if err else "ok", flush=True)
"#;
        let out = run_python(&python, script, &[&bs, "windowed"]);
        assert_eq!(field(&out, "DELIVERY "), "True", "{out}");
    }

    // A transactional batch in a request without a transactional id.
    let txn = produce_raw(&bs, "strict", encode_batch_as(&[now_ms()], false, true));
    assert_eq!(txn.error_code, 53, "TRANSACTIONAL_ID_AUTHORIZATION_FAILED");

    // min.insync.replicas above the ISR: acks=all is refused, acks=1 is not.
    cluster.topics(&[
        "--create",
        "--topic",
        "guarded",
        "--partitions",
        "1",
        "--config",
        "min.insync.replicas=2",
    ]);
    let all = produce_raw_with(&bs, "guarded", encode_batch(&[now_ms()], false), -1);
    assert_eq!(all.error_code, 19, "NOT_ENOUGH_REPLICAS");
    assert_eq!(
        message(&all),
        "The size of the current ISR Set(0) is insufficient to satisfy the min.isr requirement \
         of 2 for partition guarded-0"
    );
    let one = produce_raw_with(&bs, "guarded", encode_batch(&[now_ms()], false), 1);
    assert_eq!(one.error_code, 0, "{}", message(&one));
}

/// A topic default set on a running cluster (`kafka-configs --entity-default`) is acted on like
/// one from server.properties: a dynamic `min.insync.replicas=2` refuses acks=all on a topic
/// without its own override, a topic override of 1 lets it through.
#[test]
fn dynamic_min_insync_replicas_is_acted_on_without_a_restart() {
    let cluster = Cluster::start();
    let bs = cluster.bootstrap();
    cluster.create_topic("inherits", 1);
    cluster.topics(&[
        "--create",
        "--topic",
        "overrides",
        "--partitions",
        "1",
        "--config",
        "min.insync.replicas=1",
    ]);
    let all = produce_raw_with(&bs, "inherits", encode_batch(&[now_ms()], false), -1);
    assert_eq!(all.error_code, 0, "{}", message(&all));
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
            "min.insync.replicas=2",
        ],
        b"",
        TOOL_TIMEOUT,
    )
    .assert_success("kafka-configs --entity-default --add-config min.insync.replicas=2");
    // The broker learns the change at its next metadata refresh.
    e2e::wait_until(
        "acks=all refused under the dynamic min.insync.replicas",
        Duration::from_secs(30),
        || {
            let all = produce_raw_with(&bs, "inherits", encode_batch(&[now_ms()], false), -1);
            (all.error_code == 19).then_some(())
        },
    );
    let one = produce_raw_with(&bs, "inherits", encode_batch(&[now_ms()], false), 1);
    assert_eq!(one.error_code, 0, "{}", message(&one));
    let own = produce_raw_with(&bs, "overrides", encode_batch(&[now_ms()], false), -1);
    assert_eq!(own.error_code, 0, "{}", message(&own));
}

#[test]
fn broker_keys_accepted_but_not_acted_on_are_warned_about_by_name() {
    let cluster = Cluster::start_with(&[("num.io.threads", "8"), ("compression.type", "producer")]);
    let log = cluster.broker.process.log();
    assert!(
        log.contains(
            "The configuration 'num.io.threads' = '8' is accepted but not acted on by this broker"
        ),
        "{log}"
    );
    assert!(
        !log.contains("'compression.type' = 'producer' is accepted but not acted on"),
        "the behaviour we have is not warned about"
    );
}

#[test]
fn configs_we_cannot_honor_are_refused_at_create_time() {
    let cluster = Cluster::start();
    let bs = cluster.bootstrap();
    for (config, text) in [
        (
            "remote.storage.enable=true",
            "Invalid value true for configuration remote.storage.enable: Tiered Storage \
             functionality is disabled in the broker. Topic cannot be configured with remote \
             log storage.",
        ),
        (
            // Kafka accepts every codec (the broker recompresses); it refuses other names.
            "compression.type=brotli",
            "Invalid value brotli for configuration compression.type: String must be one of: \
             uncompressed, zstd, lz4, snappy, gzip, producer",
        ),
    ] {
        let out = run_tool(
            "kafka-topics",
            &[
                "--bootstrap-server",
                &bs,
                "--create",
                "--topic",
                "refused",
                "--config",
                config,
            ],
            b"",
            TOOL_TIMEOUT,
        );
        out.assert_code(1, config);
        assert!(
            out.stdout
                .contains(&format!("Error while executing topic command : {text}")),
            "{out}"
        );
        assert!(
            out.all()
                .contains("org.apache.kafka.common.errors.InvalidConfigurationException"),
            "{out}"
        );
    }
    let list = cluster.topics(&["--list"]);
    assert!(!list.stdout.contains("refused"), "{list}");

    // A tuning config we do not act on is accepted, and the broker says so by name.
    cluster.topics(&[
        "--create",
        "--topic",
        "tuned",
        "--config",
        "preallocate=true",
    ]);
    assert!(
        cluster.broker.process.log().contains(
            "Topic tuned: the configuration 'preallocate' = 'true' is accepted but not acted on"
        ),
        "broker log names the key"
    );
}
