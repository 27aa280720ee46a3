//! Findings of a review that tried the broker as a new user and tried to break it, each turned
//! into the test that failed before its fix.
//!
//! - A compressed batch whose `recordsCount` (with a matching `lastOffsetDelta`) differs from the
//!   records in its body was appended as sent: more records than declared gave two records the
//!   same offset (the next batch's), fewer gave offsets that never exist, and a body that does
//!   not decompress was stored for every consumer to choke on. Kafka's LogValidator reads the
//!   records of every batch and answers INVALID_RECORD / CORRUPT_MESSAGE.
//! - Every compressed batch was decompressed whole into memory to be validated, so a produced
//!   batch of a few kilobytes that expands to gigabytes (a "decompression bomb") made the broker
//!   allocate all of it. Kafka reads the records as a stream (`skipKeyValueIterator`), skipping
//!   keys and values, and so does the broker now for gzip, LZ4 and zstd.
//! - A client could produce to `__consumer_offsets` (kcat wrote "evil" into it), and every topic
//!   whose name starts with `__` was reported internal. Kafka refuses appends to its internal
//!   topics with INVALID_TOPIC_EXCEPTION and counts only `__consumer_offsets` and
//!   `__transaction_state` as internal.
//! - A Produce with acks=0 that failed (a refused batch, a partition this broker does not lead)
//!   left the connection open, so the client never learned of the failure. Kafka closes the
//!   connection, which makes the producer refresh its metadata.
//! - `kafka-console-consumer --topic 'bad name'` waited forever, printing nothing: the consumer
//!   took INVALID_TOPIC_EXCEPTION in its metadata for "not there yet". Kafka's consumer raises
//!   `InvalidTopicException: Invalid topics: [bad name]` from `poll`, and ConsoleConsumer logs it
//!   and stops.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use e2e::{run_tool, Cluster, TOOL_TIMEOUT};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::produce_response::PartitionProduceResponse;
use kafka_protocol::messages::{ApiKey, ProduceRequest, RequestHeader, TopicName};
use kafka_protocol::protocol::{Encodable, StrBytes};
use kafka_protocol::records::{
    Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};

const IO_TIMEOUT: Duration = Duration::from_secs(30);

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

/// One v2 batch of `values`, compressed with `compression`, as kafka-protocol's encoder writes it.
fn batch(values: &[&str], compression: Compression) -> Vec<u8> {
    let records: Vec<Record> = values
        .iter()
        .enumerate()
        .map(|(i, v)| Record {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: -1,
            producer_id: -1,
            producer_epoch: -1,
            timestamp_type: TimestampType::Creation,
            offset: i as i64,
            // The encoder starts a new batch when offset - sequence changes; -1 + i keeps one
            // batch with "no sequence".
            sequence: -1 + i as i32,
            timestamp: 1_000 + i as i64,
            key: None,
            // Long repetitive values, so that every codec really compresses.
            value: Some(Bytes::from(v.repeat(64))),
            headers: Default::default(),
        })
        .collect();
    let mut buf = BytesMut::new();
    let options = RecordEncodeOptions {
        version: 2,
        compression,
    };
    RecordBatchEncoder::encode(&mut buf, &records, &options).expect("encode batch");
    let bytes = buf.to_vec();
    assert_eq!(
        bytes[22] & 0x07,
        compression as u8,
        "the batch is compressed"
    );
    bytes
}

/// Sets `recordsCount` to `count` and `lastOffsetDelta` to `count - 1` (a consistent header)
/// and recomputes the CRC: a header that lies about its body and nothing else.
fn forge_count(mut batch: Vec<u8>, count: i32) -> Vec<u8> {
    batch[23..27].copy_from_slice(&(count - 1).to_be_bytes());
    batch[57..61].copy_from_slice(&count.to_be_bytes());
    let crc = crc32c(&batch[21..]);
    batch[17..21].copy_from_slice(&crc.to_be_bytes());
    batch
}

/// Sends one Produce v9 (acks=1) of `records` to `topic`-0 and returns the partition's answer.
fn produce_raw(bootstrap: &str, topic: &str, records: Vec<u8>) -> PartitionProduceResponse {
    e2e::raw::produce(bootstrap, topic, records, 1)
}

#[test]
fn compressed_batch_whose_record_count_lies_is_refused_and_offsets_stay_contiguous() {
    let cluster = Cluster::start();
    let bootstrap = cluster.bootstrap();
    for (n, compression) in [
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ]
    .into_iter()
    .enumerate()
    {
        let topic = format!("forged-count-{n}");
        cluster.create_topic(&topic, 1);
        let ok = produce_raw(&bootstrap, &topic, batch(&["a", "b", "c"], compression));
        assert_eq!((ok.error_code, ok.base_offset), (0, 0), "{compression:?}");

        // Four records inside, two declared: offsets 5 and 6 would be given twice.
        let fewer = forge_count(batch(&["d", "e", "f", "g"], compression), 2);
        let answer = produce_raw(&bootstrap, &topic, fewer);
        assert_eq!(answer.error_code, 87, "{compression:?}: INVALID_RECORD");
        assert_eq!(answer.base_offset, -1, "{compression:?}");

        // Two records inside, five declared: offsets that never exist.
        let more = forge_count(batch(&["h", "i"], compression), 5);
        let answer = produce_raw(&bootstrap, &topic, more);
        assert_eq!(answer.error_code, 87, "{compression:?}: INVALID_RECORD");

        // A body that does not decompress, behind a right header and CRC.
        let mut garbage = batch(&["j", "k"], compression);
        let len = garbage.len();
        garbage[61..len].fill(0xff);
        let garbage = forge_count(garbage, 2);
        let answer = produce_raw(&bootstrap, &topic, garbage);
        assert_eq!(answer.error_code, 2, "{compression:?}: CORRUPT_MESSAGE");

        // Nothing of the refused batches took an offset.
        let next = produce_raw(&bootstrap, &topic, batch(&["z"], compression));
        assert_eq!(
            (next.error_code, next.base_offset),
            (0, 3),
            "{compression:?}"
        );
    }

    // What a consumer reads back: every offset once, in order.
    let out = run_tool(
        "kafka-console-consumer",
        &[
            "--bootstrap-server",
            &bootstrap,
            "--topic",
            "forged-count-0",
            "--from-beginning",
            "--max-messages",
            "4",
            "--property",
            "print.offset=true",
            "--property",
            "print.value=false",
        ],
        b"",
        TOOL_TIMEOUT,
    );
    out.assert_success("console consumer");
    assert_eq!(
        out.stdout.lines().collect::<Vec<_>>(),
        ["Offset:0", "Offset:1", "Offset:2", "Offset:3"],
        "{}",
        out.all()
    );
}

#[test]
fn console_consumer_of_an_invalid_topic_name_stops_with_invalid_topic_exception() {
    let cluster = Cluster::start();
    let bootstrap = cluster.bootstrap();
    for extra in [
        &[][..],
        &["--group", "invalid-topic-group"][..],
        &["--partition", "0", "--offset", "earliest"][..],
    ] {
        let mut args = vec![
            "--bootstrap-server",
            bootstrap.as_str(),
            "--topic",
            "bad name",
            // Without the fix the consumer waits: this makes it end with a TimeoutException.
            "--timeout-ms",
            "20000",
        ];
        args.extend_from_slice(extra);
        let out = run_tool("kafka-console-consumer", &args, b"", TOOL_TIMEOUT);
        // ConsoleConsumer.process logs the exception and returns: exit 0, as Kafka.
        out.assert_success("console consumer");
        assert!(
            out.stderr.contains(
                "ERROR Error processing message, terminating consumer process:  \
                 (org.apache.kafka.tools.consumer.ConsoleConsumer)\n\
                 org.apache.kafka.common.errors.InvalidTopicException: Invalid topics: [bad name]"
            ),
            "{extra:?}: {}",
            out.all()
        );
        assert!(
            out.stderr.contains("Processed a total of 0 messages"),
            "{}",
            out.all()
        );
    }
}

/// The zigzag varint of `v`, as record fields are written.
fn varint(v: i64) -> Vec<u8> {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    let mut out = Vec::new();
    loop {
        let b = (z & 0x7f) as u8;
        z >>= 7;
        if z == 0 {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

/// The peak resident memory of process `pid` (VmHWM), in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

/// A v2 batch, zstd-compressed by hand, of one record whose value is `value_len` zero bytes: a
/// raw block with the record's head, then RLE blocks (4 bytes per 128 KiB) for the value and the
/// record's trailing header count (also a zero byte).
fn zstd_zero_value_batch(value_len: i64) -> Vec<u8> {
    let mut head = vec![0u8]; // attributes
    head.extend(varint(0)); // timestamp delta
    head.extend(varint(0)); // offset delta
    head.extend(varint(-1)); // null key
    head.extend(varint(value_len));
    let record_len = head.len() as i64 + value_len + 1; // + the header count
    let mut records = varint(record_len);
    records.extend(head);

    // Frame: magic, descriptor 0 (no content size, no checksum), window 128 KiB.
    let mut frame = vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38];
    let block_header = |last: bool, kind: u32, size: u32| {
        let v = u32::from(last) | (kind << 1) | (size << 3);
        v.to_le_bytes()[..3].to_vec()
    };
    frame.extend(block_header(false, 0, records.len() as u32));
    frame.extend(&records);
    let mut zeros = value_len + 1;
    while zeros > 0 {
        let n = zeros.min(128 * 1024);
        zeros -= n;
        frame.extend(block_header(zeros == 0, 1, n as u32));
        frame.push(0);
    }

    let now = 1_000i64;
    let mut batch = Vec::new();
    batch.extend(0i64.to_be_bytes()); // base offset
    batch.extend(0i32.to_be_bytes()); // batch length, below
    batch.extend((-1i32).to_be_bytes()); // partition leader epoch
    batch.push(2); // magic
    batch.extend(0u32.to_be_bytes()); // crc, below
    batch.extend(4i16.to_be_bytes()); // attributes: zstd
    batch.extend(0i32.to_be_bytes()); // last offset delta
    batch.extend(now.to_be_bytes()); // base timestamp
    batch.extend(now.to_be_bytes()); // max timestamp
    batch.extend((-1i64).to_be_bytes()); // producer id
    batch.extend((-1i16).to_be_bytes()); // producer epoch
    batch.extend((-1i32).to_be_bytes()); // base sequence
    batch.extend(1i32.to_be_bytes()); // records count
    batch.extend(frame);
    let len = batch.len() as i32 - 12;
    batch[8..12].copy_from_slice(&len.to_be_bytes());
    let crc = crc32c(&batch[21..]);
    batch[17..21].copy_from_slice(&crc.to_be_bytes());
    batch
}

#[test]
fn a_batch_that_expands_to_a_gigabyte_is_validated_in_bounded_memory() {
    let cluster = Cluster::start();
    let bootstrap = cluster.bootstrap();
    cluster.create_topic("expanding", 1);
    let pid = cluster.broker.process.pid().expect("broker pid");
    // Warm up: the first produce allocates the partition's buffers.
    let ok = produce_raw(&bootstrap, "expanding", batch(&["warm"], Compression::Zstd));
    assert_eq!(ok.error_code, 0);
    let before = peak_rss_kib(pid);

    let value_len = 1i64 << 30;
    let bomb = zstd_zero_value_batch(value_len);
    assert!(bomb.len() < 64 * 1024, "{} bytes on the wire", bomb.len());
    let answer = produce_raw(&bootstrap, "expanding", bomb);
    // A well-formed record: Kafka accepts it too.
    assert_eq!(
        (answer.error_code, answer.base_offset),
        (0, 1),
        "{answer:?}"
    );
    let after = peak_rss_kib(pid);
    assert!(
        after < before + 128 * 1024,
        "the broker's peak memory grew from {before} KiB to {after} KiB validating a batch that \
         expands to {value_len} bytes"
    );

    // The same expansion with a record count that lies is still found out.
    let mut lying = zstd_zero_value_batch(1 << 20);
    lying[23..27].copy_from_slice(&1i32.to_be_bytes());
    lying[57..61].copy_from_slice(&2i32.to_be_bytes());
    let crc = crc32c(&lying[21..]);
    lying[17..21].copy_from_slice(&crc.to_be_bytes());
    let answer = produce_raw(&bootstrap, "expanding", lying);
    assert_eq!(answer.error_code, 87, "{answer:?}");
}

#[test]
fn clients_cannot_produce_to_internal_topics_and_other_double_underscore_topics_are_ordinary() {
    let cluster = Cluster::start();
    let bootstrap = cluster.bootstrap();
    cluster.create_topic("__consumer_offsets", 1);
    cluster.create_topic("__mine", 1);
    let refused = produce_raw(
        &bootstrap,
        "__consumer_offsets",
        batch(&["evil"], Compression::None),
    );
    assert_eq!(
        (
            refused.error_code,
            refused.base_offset,
            refused.error_message
        ),
        (17, -1, None),
        "INVALID_TOPIC_EXCEPTION, Kafka's text left to the client"
    );
    let ours = produce_raw(&bootstrap, "__mine", batch(&["fine"], Compression::None));
    assert_eq!((ours.error_code, ours.base_offset), (0, 0));

    // Metadata: kafka-topics --list --exclude-internal hides only the internal one.
    let out = cluster.topics(&["--list", "--exclude-internal"]);
    out.assert_success("kafka-topics --list");
    assert_eq!(
        out.stdout.lines().collect::<Vec<_>>(),
        ["__mine"],
        "{}",
        out.all()
    );
}

/// A Produce v9 frame with `acks` of `records` to `topic`-`partition`.
fn produce_frame(
    topic: &str,
    partition: i32,
    records: Vec<u8>,
    acks: i16,
    correlation: i32,
) -> Vec<u8> {
    let version = 9;
    let request = ProduceRequest::default()
        .with_acks(acks)
        .with_timeout_ms(30_000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(TopicName(StrBytes::from_string(topic.to_string())))
            .with_partition_data(vec![PartitionProduceData::default()
                .with_index(partition)
                .with_records(Some(Bytes::from(records)))])]);
    let header = RequestHeader::default()
        .with_request_api_key(ApiKey::Produce as i16)
        .with_request_api_version(version)
        .with_correlation_id(correlation)
        .with_client_id(Some(StrBytes::from_static_str("review-acks0")));
    let mut buf = BytesMut::new();
    header
        .encode(&mut buf, ApiKey::Produce.request_header_version(version))
        .expect("header");
    request.encode(&mut buf, version).expect("request");
    let mut frame = (buf.len() as i32).to_be_bytes().to_vec();
    frame.extend_from_slice(&buf);
    frame
}

/// An ApiVersions v0 frame.
fn api_versions_frame(correlation: i32) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(18i16.to_be_bytes());
    body.extend(0i16.to_be_bytes());
    body.extend(correlation.to_be_bytes());
    body.extend((-1i16).to_be_bytes());
    let mut frame = (body.len() as i32).to_be_bytes().to_vec();
    frame.extend(body);
    frame
}

/// Sends `first` (which gets no response) then an ApiVersions on the same connection, and says
/// whether the ApiVersions was answered (false: the broker closed the connection).
fn answered_after(bootstrap: &str, first: Vec<u8>) -> bool {
    let mut stream = TcpStream::connect(bootstrap).expect("connect");
    stream.set_read_timeout(Some(IO_TIMEOUT)).expect("timeout");
    stream.write_all(&first).expect("write");
    // The broker may already have closed: the second write can fail too.
    let _ = stream.write_all(&api_versions_frame(99));
    let mut size = [0u8; 4];
    match stream.read_exact(&mut size) {
        Ok(()) => {
            let mut body = vec![0u8; i32::from_be_bytes(size).clamp(0, 1 << 20) as usize];
            stream.read_exact(&mut body).expect("read body");
            assert_eq!(body[..4], 99i32.to_be_bytes(), "the ApiVersions answer");
            true
        }
        Err(e) => {
            assert!(
                matches!(
                    e.kind(),
                    std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset
                ),
                "{e}"
            );
            false
        }
    }
}

#[test]
fn produce_with_acks_0_that_fails_closes_the_connection() {
    let mut cluster = Cluster::start();
    let bootstrap = cluster.bootstrap();
    cluster.create_topic("acks0", 1);
    let good = produce_frame("acks0", 0, batch(&["a"], Compression::None), 0, 1);
    assert!(
        answered_after(&bootstrap, good),
        "a good acks=0 produce keeps the connection"
    );

    let mark = cluster.broker.process.log_mark();
    let lying = forge_count(batch(&["b", "c"], Compression::None), 5);
    let bad = produce_frame("acks0", 0, lying, 0, 2);
    assert!(
        !answered_after(&bootstrap, bad),
        "a refused batch closes it"
    );
    let missing = produce_frame("acks0", 7, batch(&["d"], Compression::None), 0, 3);
    assert!(
        !answered_after(&bootstrap, missing),
        "so does an unknown partition"
    );
    // Kafka's INFO line (its first line; the partitions follow on the next).
    cluster
        .broker
        .process
        .wait_for_line_since(mark, "the acks=0 close logged", IO_TIMEOUT, |l| {
            l.contains(
                "INFO Closing connection due to error during produce request with correlation \
                 id 2 from client id review-acks0 with ack=0",
            )
        });
    // Only the good record was stored.
    let next = produce_raw(&bootstrap, "acks0", batch(&["e"], Compression::None));
    assert_eq!((next.error_code, next.base_offset), (0, 1));
}
