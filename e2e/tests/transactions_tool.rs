//! `kafka-transactions` against real brokers, every command, checked against what Kafka 3.9's
//! `TransactionsCommand` prints (tab-terminated columns padded to their widest value, as
//! `ToolsUtils.prettyPrintTable` writes them; errors as `printErrorAndExit` and argparse4j write
//! them, exit 1):
//!
//! - `list` and `describe --transactional-id` for a committed, an open (begun, sent, not
//!   committed) and an initialised-only transactional id, driven by our client library, and
//!   for transactions left open by kafka-python and confluent-kafka; a transaction its
//!   coordinator aborted on timeout (producer fenced, epoch + 1); `describe` of an unknown id;
//! - `describe-producers` for the partitions of committed, open and timed-out transactions;
//! - hanging transactions: transactional batches written straight to the leader with a raw
//!   Produce request and no AddPartitionsToTxn (the broker does not verify, KIP-890 is not
//!   implemented), so the last stable offset stays behind them: from a producer id no
//!   coordinator knows, from a known but Empty id, and from an id whose transaction is Ongoing
//!   on another partition. `find-hanging` lists them (by age, `--max-transaction-timeout` in
//!   minutes), `abort` ends them (by `--start-offset`, and by `--producer-id/--producer-epoch/
//!   --coordinator-epoch`), after which `read_committed` readers get the records behind them and
//!   `find-hanging` lists nothing; the same across `kill -9` and a clean restart, and on three
//!   brokers (every replica's producer state, `abort` sent through a follower);
//! - bad input: missing arguments, unknown topics, partitions and brokers.
//!
//! Tests marked `#[ignore = "bug: ..."]` assert Kafka's behaviour where ours differs.

// Helpers outside `#[test]` functions fail the test they serve.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use client::producer::{Producer, ProducerConfig, ProducerRecord};
use common::time::now_ms;
use e2e::raw::Conn;
use e2e::{run_tool, wait_until, Cluster, ThreeBrokers, ToolOutput, TOOL_TIMEOUT};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{
    BrokerId, FetchRequest, ListOffsetsRequest, MetadataRequest, ProduceRequest, RequestKind,
    ResponseKind, TopicName, TransactionalId,
};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{
    Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};
use tokio::runtime::Runtime;

const DEADLINE: Duration = Duration::from_secs(60);

/// Long enough that the coordinator never aborts the open transactions of these tests.
const TXN_TIMEOUT_MS: i32 = 600_000;

const LIST_HEADERS: [&str; 4] = [
    "TransactionalId",
    "Coordinator",
    "ProducerId",
    "TransactionState",
];

const DESCRIBE_HEADERS: [&str; 9] = [
    "CoordinatorId",
    "TransactionalId",
    "ProducerId",
    "ProducerEpoch",
    "TransactionState",
    "TransactionTimeoutMs",
    "CurrentTransactionStartTimeMs",
    "TransactionDurationMs",
    "TopicPartitions",
];

const PRODUCERS_HEADERS: [&str; 6] = [
    "ProducerId",
    "ProducerEpoch",
    "LatestCoordinatorEpoch",
    "LastSequence",
    "LastTimestamp",
    "CurrentTransactionStartOffset",
];

const HANGING_HEADERS: [&str; 8] = [
    "Topic",
    "Partition",
    "ProducerId",
    "ProducerEpoch",
    "CoordinatorEpoch",
    "StartOffset",
    "LastTimestamp",
    "Duration(min)",
];

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// `kafka-transactions --bootstrap-server <bootstrap> args...`.
fn tool(bootstrap: &str, args: &[&str]) -> ToolOutput {
    let mut all = vec!["--bootstrap-server", bootstrap];
    all.extend_from_slice(args);
    run_tool("kafka-transactions", &all, b"", TOOL_TIMEOUT)
}

/// `ToolsUtils.prettyPrintTable`: every cell padded to its column's widest value (headers
/// included) and followed by a tab, one line per row.
fn pretty_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let mut out = String::new();
    let header_row: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(&header_row).chain(rows) {
        for (cell, w) in row.iter().zip(&widths) {
            out.push_str(&format!("{cell:<w$}\t"));
        }
        out.push('\n');
    }
    out
}

/// The rows of the table a successful command printed on stdout, after checking that the
/// whole output is exactly Kafka's rendering of `headers` and those rows, with nothing on
/// stderr.
fn table(out: &ToolOutput, headers: &[&str]) -> Vec<Vec<String>> {
    out.assert_success(&out.command);
    assert_eq!(out.stderr, "", "nothing on stderr: {out}");
    let mut lines = out.stdout.lines();
    let parse = |line: &str| -> Vec<String> {
        let cells = line
            .strip_suffix('\t')
            .unwrap_or_else(|| panic!("every line ends with a tab: {line:?} in {out}"));
        cells
            .split('\t')
            .map(|c| c.trim_end().to_string())
            .collect()
    };
    let header = parse(lines.next().unwrap_or_else(|| panic!("a header: {out}")));
    assert_eq!(header, headers, "{out}");
    let rows: Vec<Vec<String>> = lines.map(parse).collect();
    for r in &rows {
        assert_eq!(r.len(), headers.len(), "a cell per column in {r:?}: {out}");
    }
    assert_eq!(
        out.stdout,
        pretty_table(headers, &rows),
        "columns padded as prettyPrintTable pads them: {out}"
    );
    rows
}

/// A row of strings, for comparisons.
fn row(cells: &[&dyn ToString]) -> Vec<String> {
    cells.iter().map(|c| c.to_string()).collect()
}

/// A number printed in a table cell.
fn num(cell: &str) -> i64 {
    cell.parse()
        .unwrap_or_else(|e| panic!("{cell:?} is not a number: {e}"))
}

/// `find-hanging args...`: its rows, sorted, each checked for its Duration(min) (whole minutes
/// from LastTimestamp to the tool's clock, `TimeUnit.MILLISECONDS.toMinutes`) and returned
/// without it.
fn find_hanging(bootstrap: &str, args: &[&str]) -> Vec<Vec<String>> {
    let mut all = vec!["find-hanging"];
    all.extend_from_slice(args);
    let before = now_ms();
    let out = tool(bootstrap, &all);
    let after = now_ms();
    let mut rows = table(&out, &HANGING_HEADERS);
    for r in &mut rows {
        let last = num(&r[6]);
        let minutes = num(&r[7]);
        assert!(
            ((before - last) / 60_000..=(after - last) / 60_000).contains(&minutes),
            "Duration(min) of {r:?} between {before} and {after}: {out}"
        );
        r.truncate(7);
    }
    rows.sort();
    rows
}

/// What a failing command must look like: exit 1, nothing on stdout, exactly `stderr`.
fn assert_fails_with(out: &ToolOutput, stderr: &str) {
    out.assert_code(1, &out.command);
    assert_eq!(out.stdout, "", "nothing on stdout: {out}");
    assert_eq!(out.stderr, format!("{stderr}\n"), "{out}");
}

async fn transactional_producer(bootstrap: &str, id: &str) -> Producer {
    let producer = Producer::new(ProducerConfig {
        bootstrap_servers: bootstrap.to_string(),
        transactional_id: Some(id.to_string()),
        transaction_timeout_ms: TXN_TIMEOUT_MS,
        ..ProducerConfig::default()
    })
    .await
    .unwrap();
    producer.init_transactions().await.unwrap();
    producer
}

/// Sends `values` to `topic`-`partition` and waits until every one is acknowledged; returns
/// their offsets.
async fn send_all(producer: &Producer, topic: &str, partition: i32, values: &[&str]) -> Vec<i64> {
    let mut acks = Vec::new();
    for v in values {
        let record = ProducerRecord::new(topic, v.to_string()).with_partition(partition);
        acks.push(producer.send(record).await.unwrap());
    }
    producer.flush().await.unwrap();
    let mut offsets = Vec::new();
    for a in acks {
        offsets.push(a.await.unwrap().offset);
    }
    offsets
}

/// Plain (neither idempotent nor transactional) records, so they add no producer state.
fn produce_plain(rt: &Runtime, bootstrap: &str, topic: &str, partition: i32, values: &[&str]) {
    rt.block_on(async {
        let producer = Producer::new(ProducerConfig {
            bootstrap_servers: bootstrap.to_string(),
            enable_idempotence: false,
            ..ProducerConfig::default()
        })
        .await
        .unwrap();
        send_all(&producer, topic, partition, values).await;
        producer.close().await.unwrap();
    });
}

/// A transactional v2 batch as a transactional producer writes it: `values` with sequences
/// from `first_sequence`, every record stamped `timestamp`.
fn transactional_batch(
    producer_id: i64,
    producer_epoch: i16,
    first_sequence: i32,
    timestamp: i64,
    values: &[&str],
) -> Vec<u8> {
    let records: Vec<Record> = values
        .iter()
        .enumerate()
        .map(|(i, v)| Record {
            transactional: true,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: -1,
            producer_id,
            producer_epoch,
            timestamp_type: TimestampType::Creation,
            offset: i as i64,
            sequence: first_sequence + i as i32,
            timestamp,
            key: None,
            value: Some(Bytes::from(v.to_string())),
            headers: Default::default(),
        })
        .collect();
    let mut buf = BytesMut::new();
    let options = RecordEncodeOptions {
        version: 2,
        compression: Compression::None,
    };
    RecordBatchEncoder::encode(&mut buf, &records, &options).unwrap();
    buf.to_vec()
}

/// Produce v9 (acks=all) of `batch` to `topic`-`partition` with `transactional_id`, straight to
/// the leader and without AddPartitionsToTxn; returns the batch's base offset.
fn produce_raw(
    bootstrap: &str,
    transactional_id: &str,
    topic: &str,
    partition: i32,
    batch: Vec<u8>,
) -> i64 {
    let request = ProduceRequest::default()
        .with_transactional_id(Some(TransactionalId(StrBytes::from_string(
            transactional_id.to_string(),
        ))))
        .with_acks(-1)
        .with_timeout_ms(30_000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(TopicName(StrBytes::from_string(topic.to_string())))
            .with_partition_data(vec![PartitionProduceData::default()
                .with_index(partition)
                .with_records(Some(Bytes::from(batch)))])]);
    let ResponseKind::Produce(response) =
        Conn::open(bootstrap).call(9, RequestKind::Produce(request))
    else {
        unreachable!("a Produce request is answered by a Produce response")
    };
    let p = &response.responses[0].partition_responses[0];
    assert_eq!(
        p.error_code, 0,
        "the raw transactional Produce is accepted: {p:?}"
    );
    p.base_offset
}

/// ListOffsets (latest) at `isolation_level` 0 (the high watermark) or 1 (the last stable
/// offset).
fn latest_offset(bootstrap: &str, topic: &str, partition: i32, isolation_level: i8) -> i64 {
    let request = ListOffsetsRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_isolation_level(isolation_level)
        .with_topics(vec![ListOffsetsTopic::default()
            .with_name(TopicName(StrBytes::from_string(topic.to_string())))
            .with_partitions(vec![ListOffsetsPartition::default()
                .with_partition_index(partition)
                .with_timestamp(-1)])]);
    let ResponseKind::ListOffsets(r) =
        Conn::open(bootstrap).call(2, RequestKind::ListOffsets(request))
    else {
        unreachable!("a ListOffsets request is answered by a ListOffsets response")
    };
    let p = &r.topics[0].partitions[0];
    assert_eq!(p.error_code, 0, "ListOffsets {topic}-{partition}: {p:?}");
    p.offset
}

/// [`latest_offset`] of partition 0 once it answers again (after a restart it may answer an
/// error until its leader has loaded it).
fn latest_offset_after_restart(bootstrap: &str, topic: &str, isolation_level: i8) -> i64 {
    wait_until(
        &format!("{topic}-0 to answer ListOffsets"),
        DEADLINE,
        || {
            let request = ListOffsetsRequest::default()
                .with_replica_id(BrokerId(-1))
                .with_isolation_level(isolation_level)
                .with_topics(vec![ListOffsetsTopic::default()
                    .with_name(TopicName(StrBytes::from_string(topic.to_string())))
                    .with_partitions(vec![ListOffsetsPartition::default()
                        .with_partition_index(0)
                        .with_timestamp(-1)])]);
            let ResponseKind::ListOffsets(r) =
                Conn::open(bootstrap).call(2, RequestKind::ListOffsets(request))
            else {
                unreachable!("a ListOffsets request is answered by a ListOffsets response")
            };
            let p = &r.topics[0].partitions[0];
            (p.error_code == 0).then_some(p.offset)
        },
    )
}

/// What a `read_committed` Fetch (v4) of `topic`-`partition` from offset 0 answers: the last
/// stable offset, the aborted transactions (producer id, first offset) and how many bytes of
/// records.
fn fetch_committed(bootstrap: &str, topic: &str, partition: i32) -> (i64, Vec<(i64, i64)>, usize) {
    let request = FetchRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_max_wait_ms(0)
        .with_min_bytes(0)
        .with_max_bytes(1 << 20)
        .with_isolation_level(1)
        .with_topics(vec![FetchTopic::default()
            .with_topic(TopicName(StrBytes::from_string(topic.to_string())))
            .with_partitions(vec![FetchPartition::default()
                .with_partition(partition)
                .with_fetch_offset(0)
                .with_partition_max_bytes(1 << 20)])]);
    let ResponseKind::Fetch(r) = Conn::open(bootstrap).call(4, RequestKind::Fetch(request)) else {
        unreachable!("a Fetch request is answered by a Fetch response")
    };
    let p = &r.responses[0].partitions[0];
    assert_eq!(p.error_code, 0, "Fetch {topic}-{partition}: {p:?}");
    let aborted = p
        .aborted_transactions
        .iter()
        .flatten()
        .map(|a| (a.producer_id.0, a.first_offset))
        .collect();
    (
        p.last_stable_offset,
        aborted,
        p.records.as_ref().map_or(0, |r| r.len()),
    )
}

/// The leader of `topic`-`partition` (Metadata v1), once it has one.
fn leader_of(bootstrap: &str, topic: &str, partition: i32) -> i32 {
    wait_until(
        &format!("a leader for {topic}-{partition}"),
        DEADLINE,
        || {
            let request =
                MetadataRequest::default().with_topics(Some(vec![MetadataRequestTopic::default()
                    .with_name(Some(TopicName(StrBytes::from_string(topic.to_string()))))]));
            let ResponseKind::Metadata(r) =
                Conn::open(bootstrap).call(1, RequestKind::Metadata(request))
            else {
                unreachable!("a Metadata request is answered by a Metadata response")
            };
            r.topics
                .first()
                .and_then(|t| t.partitions.iter().find(|p| p.partition_index == partition))
                .map(|p| p.leader_id.0)
                .filter(|l| *l >= 0)
        },
    )
}

/// The values `kafka-console-consumer --from-beginning` prints at `isolation`, waiting for
/// `want` of them, sorted.
fn console_consume(bootstrap: &str, topic: &str, isolation: &str, want: usize) -> Vec<String> {
    let want_s = want.to_string();
    let out = run_tool(
        "kafka-console-consumer",
        &[
            "--bootstrap-server",
            bootstrap,
            "--topic",
            topic,
            "--from-beginning",
            "--isolation-level",
            isolation,
            "--max-messages",
            &want_s,
            "--timeout-ms",
            "20000",
        ],
        b"",
        TOOL_TIMEOUT,
    );
    out.assert_success("kafka-console-consumer");
    let mut lines: Vec<String> = out.stdout.lines().map(str::to_string).collect();
    lines.sort();
    assert_eq!(lines.len(), want, "{isolation} reads {want} records: {out}");
    lines
}

/// One cluster with three transactional ids on topic `tool-txn` (two partitions):
/// `tool-committed` committed 3 records to partition 0, `tool-open` has 2 records sent to
/// partition 1 in a transaction it has not ended, `tool-empty` is initialised only. The open
/// transaction's producer stays alive as long as this does.
struct ThreeIds {
    // Field order is drop order: the producer before its runtime, both before the cluster.
    _open: Producer,
    _rt: Runtime,
    cluster: Cluster,
    committed_pid: i64,
    open_pid: i64,
    empty_pid: i64,
    /// Wall clock before the committed transaction began / after it was committed.
    committed_window: (i64, i64),
    /// Wall clock before the open transaction began / after its records were acknowledged.
    open_window: (i64, i64),
}

const TOPIC: &str = "tool-txn";

/// Brokers that do not verify transactional writes with the coordinator
/// (`transaction.partition.verification.enable=false`, KIP-890), so that a raw Produce can
/// leave a hanging transaction as it could before Kafka 3.6.
const UNVERIFIED: &[(&str, &str)] = &[("transaction.partition.verification.enable", "false")];

impl ThreeIds {
    fn start() -> ThreeIds {
        Self::start_with(&[])
    }

    fn start_with(settings: &[(&str, &str)]) -> ThreeIds {
        let cluster = Cluster::start_with(settings);
        cluster.create_topic(TOPIC, 2);
        let bootstrap = cluster.bootstrap();
        let rt = runtime();
        let (committed_pid, committed_window) = rt.block_on(async {
            let producer = transactional_producer(&bootstrap, "tool-committed").await;
            let before = now_ms();
            producer.begin_transaction().unwrap();
            let offsets = send_all(&producer, TOPIC, 0, &["c-0", "c-1", "c-2"]).await;
            assert_eq!(offsets, vec![0, 1, 2]);
            producer.commit_transaction().await.unwrap();
            let after = now_ms();
            let (pid, epoch) = producer.producer_id_and_epoch().unwrap();
            assert_eq!(epoch, 0, "a new transactional id gets epoch 0");
            producer.close().await.unwrap();
            (pid, (before, after))
        });
        let (open, open_pid, open_window) = rt.block_on(async {
            let producer = transactional_producer(&bootstrap, "tool-open").await;
            let before = now_ms();
            producer.begin_transaction().unwrap();
            let offsets = send_all(&producer, TOPIC, 1, &["o-0", "o-1"]).await;
            assert_eq!(offsets, vec![0, 1]);
            let after = now_ms();
            let (pid, _) = producer.producer_id_and_epoch().unwrap();
            (producer, pid, (before, after))
        });
        let empty_pid = rt.block_on(async {
            let producer = transactional_producer(&bootstrap, "tool-empty").await;
            let (pid, _) = producer.producer_id_and_epoch().unwrap();
            producer.close().await.unwrap();
            pid
        });
        ThreeIds {
            _open: open,
            _rt: rt,
            cluster,
            committed_pid,
            open_pid,
            empty_pid,
            committed_window,
            open_window,
        }
    }

    fn bootstrap(&self) -> String {
        self.cluster.bootstrap()
    }
}

#[test]
fn list_shows_committed_open_and_empty_transactional_ids() {
    let ids = ThreeIds::start();
    let bootstrap = ids.bootstrap();
    let want = vec![
        row(&[&"tool-committed", &0, &ids.committed_pid, &"CompleteCommit"]),
        row(&[&"tool-empty", &0, &ids.empty_pid, &"Empty"]),
        row(&[&"tool-open", &0, &ids.open_pid, &"Ongoing"]),
    ];
    let mut rows = table(&tool(&bootstrap, &["list"]), &LIST_HEADERS);
    rows.sort();
    assert_eq!(rows, want);

    // The same through the bin-style wrapper, as a user runs it.
    let out = e2e::run_script(
        "kafka-transactions.sh",
        &["--bootstrap-server", &bootstrap, "list"],
        b"",
        TOOL_TIMEOUT,
    );
    let mut rows = table(&out, &LIST_HEADERS);
    rows.sort();
    assert_eq!(rows, want);
}

/// KIP-994's `--duration-filter` as Kafka 3.9's coordinator applies it
/// (`TransactionStateManager.listTransactionStates`): an id is left out only when
/// `now - txnStartTimestamp <= filter`. The start time is kept after a commit, and is -1 for an
/// id that never began a transaction, so `Empty` ids pass every filter.
#[test]
fn list_duration_filter_is_kafkas() {
    let ids = ThreeIds::start();
    let bootstrap = ids.bootstrap();
    let mut rows = table(
        &tool(&bootstrap, &["list", "--duration-filter", "0"]),
        &LIST_HEADERS,
    );
    rows.sort();
    assert_eq!(
        rows,
        vec![
            row(&[&"tool-committed", &0, &ids.committed_pid, &"CompleteCommit"]),
            row(&[&"tool-empty", &0, &ids.empty_pid, &"Empty"]),
            row(&[&"tool-open", &0, &ids.open_pid, &"Ongoing"]),
        ]
    );
    // Nothing has run for ten minutes; the Empty id (start time -1) still passes.
    let rows = table(
        &tool(&bootstrap, &["list", "--duration-filter", "600000"]),
        &LIST_HEADERS,
    );
    assert_eq!(
        rows,
        vec![row(&[&"tool-empty", &0, &ids.empty_pid, &"Empty"])]
    );
}

#[test]
fn describe_shows_committed_open_and_empty_transactional_ids() {
    let ids = ThreeIds::start();
    let bootstrap = ids.bootstrap();
    let describe = |id: &str| -> (Vec<String>, i64, i64) {
        let before = now_ms();
        let out = tool(&bootstrap, &["describe", "--transactional-id", id]);
        let after = now_ms();
        let rows = table(&out, &DESCRIBE_HEADERS);
        assert_eq!(rows.len(), 1, "one row: {out}");
        (rows.into_iter().next().unwrap(), before, after)
    };

    // Open: Ongoing since AddPartitionsToTxn, with the partition it wrote to.
    let (r, before, after) = describe("tool-open");
    assert_eq!(
        r[..6],
        row(&[
            &0,
            &"tool-open",
            &ids.open_pid,
            &0,
            &"Ongoing",
            &TXN_TIMEOUT_MS
        ])[..],
        "{r:?}"
    );
    let start = num(&r[6]);
    assert!(
        (ids.open_window.0..=ids.open_window.1).contains(&start),
        "the transaction started between begin and the acks: {r:?} {:?}",
        ids.open_window
    );
    let duration = num(&r[7]);
    assert!(
        (before - start..=after - start).contains(&duration),
        "duration = the tool's clock - start: {r:?}"
    );
    assert_eq!(r[8], format!("{TOPIC}-1"), "{r:?}");

    // Committed: Kafka keeps the start time of the last transaction (prepareComplete), and the
    // partitions are cleared.
    let (r, before, after) = describe("tool-committed");
    assert_eq!(
        r[..6],
        row(&[
            &0,
            &"tool-committed",
            &ids.committed_pid,
            &0,
            &"CompleteCommit",
            &TXN_TIMEOUT_MS
        ])[..],
        "{r:?}"
    );
    let start = num(&r[6]);
    assert!(
        (ids.committed_window.0..=ids.committed_window.1).contains(&start),
        "the start time of the committed transaction: {r:?} {:?}",
        ids.committed_window
    );
    let duration = num(&r[7]);
    assert!(
        (before - start..=after - start).contains(&duration),
        "{r:?}"
    );
    assert_eq!(r[8], "", "{r:?}");

    // Initialised only: no transaction start time (-1 on the wire, "None" in the table).
    let (r, _, _) = describe("tool-empty");
    assert_eq!(
        r,
        row(&[
            &0,
            &"tool-empty",
            &ids.empty_pid,
            &0,
            &"Empty",
            &TXN_TIMEOUT_MS,
            &"None",
            &"None",
            &""
        ]),
    );
}

#[test]
fn describe_of_an_unknown_transactional_id_prints_kafkas_error() {
    let cluster = Cluster::start();
    let out = tool(
        &cluster.bootstrap(),
        &["describe", "--transactional-id", "no-such-id"],
    );
    assert_fails_with(
        &out,
        "Failed to describe transaction state of transactional-id `no-such-id`: \
         DescribeTransactions request for transactionalId `no-such-id` failed because the ID \
         could not be found. Enable debug logging for additional detail.",
    );
}

#[test]
fn describe_producers_shows_the_open_and_the_committed_transaction() {
    let ids = ThreeIds::start();
    let bootstrap = ids.bootstrap();

    // The open transaction: no marker yet (coordinator epoch -1), sequences 0 and 1, started at
    // offset 0.
    let before = now_ms();
    let rows = table(
        &tool(
            &bootstrap,
            &["describe-producers", "--topic", TOPIC, "--partition", "1"],
        ),
        &PRODUCERS_HEADERS,
    );
    assert_eq!(rows.len(), 1, "{rows:?}");
    let r = &rows[0];
    assert_eq!(r[..4], row(&[&ids.open_pid, &0, &-1, &1])[..], "{r:?}");
    let ts = num(&r[4]);
    assert!(
        (ids.open_window.0..=ids.open_window.1).contains(&ts),
        "the last timestamp is the records' (CreateTime): {r:?} {:?}",
        ids.open_window
    );
    assert_eq!(r[5], "0", "the transaction starts at offset 0: {r:?}");

    // The same asked of broker 0 by id (the replica, not the leader lookup).
    let by_id = table(
        &tool(
            &bootstrap,
            &[
                "describe-producers",
                "--topic",
                TOPIC,
                "--partition",
                "1",
                "--broker-id",
                "0",
            ],
        ),
        &PRODUCERS_HEADERS,
    );
    assert_eq!(by_id, rows);

    // The committed one: its COMMIT marker carried the coordinator epoch (0 on a new
    // cluster), its last timestamp is the marker's, no transaction open.
    let rows = table(
        &tool(
            &bootstrap,
            &["describe-producers", "--topic", TOPIC, "--partition", "0"],
        ),
        &PRODUCERS_HEADERS,
    );
    assert_eq!(rows.len(), 1, "{rows:?}");
    let r = &rows[0];
    assert_eq!(r[..4], row(&[&ids.committed_pid, &0, &0, &2])[..], "{r:?}");
    let ts = num(&r[4]);
    assert!(
        (ids.committed_window.0..=before).contains(&ts),
        "the marker's timestamp: {r:?}"
    );
    assert_eq!(r[5], "None", "{r:?}");

    // The open transaction is not hanging: its coordinator lists the partition in it
    // (DescribeTransactions), so it will write the marker.
    let rows = find_hanging(
        &bootstrap,
        &["--broker-id", "0", "--max-transaction-timeout", "0"],
    );
    assert_eq!(rows, Vec::<Vec<String>>::new());
}

/// Hanging transactions made by hand: transactional batches written with a raw Produce and no
/// AddPartitionsToTxn, so no coordinator will ever end them.
///
/// - partition 0: the producer id and epoch of `hang-known`, an id the coordinator knows
///   (initialised, `Empty`), records stamped now;
/// - partition 1: a producer id no coordinator ever issued, records stamped 20½ minutes ago.
///
/// Behind each, a plain record that `read_committed` readers cannot see until the hanging
/// transaction is aborted.
#[test]
fn find_hanging_lists_and_abort_ends_hanging_transactions() {
    let cluster = Cluster::start_with(UNVERIFIED);
    let bootstrap = cluster.bootstrap();
    let topic = "hang";
    cluster.create_topic(topic, 2);
    let rt = runtime();

    let (known_pid, known_epoch) = rt.block_on(async {
        let producer = transactional_producer(&bootstrap, "hang-known").await;
        let identity = producer.producer_id_and_epoch().unwrap();
        producer.close().await.unwrap();
        identity
    });
    let ghost_pid: i64 = 4_242_424;
    let fresh_ts = now_ms();
    let old_ts = fresh_ts - 20 * 60_000 - 30_000;
    let batch = transactional_batch(known_pid, known_epoch, 0, fresh_ts, &["h0-a", "h0-b"]);
    assert_eq!(produce_raw(&bootstrap, "hang-known", topic, 0, batch), 0);
    let batch = transactional_batch(ghost_pid, 0, 0, old_ts, &["h1-a", "h1-b"]);
    assert_eq!(produce_raw(&bootstrap, "hang-ghost", topic, 1, batch), 0);
    produce_plain(&rt, &bootstrap, topic, 0, &["after-0"]);
    produce_plain(&rt, &bootstrap, topic, 1, &["after-1"]);
    for p in 0..2 {
        assert_eq!(latest_offset(&bootstrap, topic, p, 0), 3, "high watermark");
        assert_eq!(
            latest_offset(&bootstrap, topic, p, 1),
            0,
            "the last stable offset stays at the hanging transaction of partition {p}"
        );
    }
    assert_eq!(
        fetch_committed(&bootstrap, topic, 0),
        (0, vec![], 0),
        "a read_committed fetch gets nothing below the hanging transaction"
    );

    // describe-producers shows the open transactions.
    let rows = table(
        &tool(
            &bootstrap,
            &["describe-producers", "--topic", topic, "--partition", "0"],
        ),
        &PRODUCERS_HEADERS,
    );
    assert_eq!(
        rows,
        vec![row(&[&known_pid, &known_epoch, &-1, &1, &fresh_ts, &0])]
    );
    let rows = table(
        &tool(
            &bootstrap,
            &["describe-producers", "--topic", topic, "--partition", "1"],
        ),
        &PRODUCERS_HEADERS,
    );
    assert_eq!(rows, vec![row(&[&ghost_pid, &0, &-1, &1, &old_ts, &0])]);

    // Rows without their Duration(min), which `find_hanging` checks against the clock.
    let known_row = row(&[&topic, &0, &known_pid, &known_epoch, &-1, &0, &fresh_ts]);
    let ghost_row = row(&[&topic, &1, &ghost_pid, &0, &-1, &0, &old_ts]);

    // The default --max-transaction-timeout (15 minutes) sees only the old one (20 minutes).
    let rows = find_hanging(&bootstrap, &["--broker-id", "0"]);
    assert_eq!(rows, vec![ghost_row.clone()]);
    // With 0 minutes, both (the fresh one is older than 0 ms once a millisecond has passed).
    wait_until("a millisecond after the fresh batch", DEADLINE, || {
        (now_ms() > fresh_ts).then_some(())
    });
    let all = vec![known_row.clone(), ghost_row.clone()];
    let rows = find_hanging(
        &bootstrap,
        &["--broker-id", "0", "--max-transaction-timeout", "0"],
    );
    assert_eq!(rows, all);
    // Limited to the topic, and to one partition of it.
    let rows = find_hanging(
        &bootstrap,
        &["--topic", topic, "--max-transaction-timeout", "0"],
    );
    assert_eq!(rows, all);
    let rows = find_hanging(
        &bootstrap,
        &[
            "--topic",
            topic,
            "--partition",
            "0",
            "--max-transaction-timeout",
            "0",
        ],
    );
    assert_eq!(rows, vec![known_row]);

    // A start offset with no open transaction.
    assert_fails_with(
        &tool(
            &bootstrap,
            &[
                "abort",
                "--topic",
                topic,
                "--partition",
                "0",
                "--start-offset",
                "1",
            ],
        ),
        "Could not find any open transactions starting at offset 1 on partition hang-0",
    );

    // Abort partition 0's by its start offset (3.0+ brokers), partition 1's by producer id,
    // epoch and coordinator epoch (older brokers; -1 is sent as 0).
    let out = tool(
        &bootstrap,
        &[
            "abort",
            "--topic",
            topic,
            "--partition",
            "0",
            "--start-offset",
            "0",
        ],
    );
    out.assert_success("abort --start-offset");
    assert_eq!(
        (out.stdout.as_str(), out.stderr.as_str()),
        ("", ""),
        "{out}"
    );
    let ghost_pid_s = ghost_pid.to_string();
    let out = tool(
        &bootstrap,
        &[
            "abort",
            "--topic",
            topic,
            "--partition",
            "1",
            "--producer-id",
            &ghost_pid_s,
            "--producer-epoch",
            "0",
            "--coordinator-epoch",
            "-1",
        ],
    );
    out.assert_success("abort --producer-id");
    assert_eq!(
        (out.stdout.as_str(), out.stderr.as_str()),
        ("", ""),
        "{out}"
    );

    // The ABORT markers (offset 3) free the last stable offset.
    for p in 0..2 {
        wait_until(
            &format!("the last stable offset of {topic}-{p} past the marker"),
            DEADLINE,
            || (latest_offset(&bootstrap, topic, p, 1) == 4).then_some(()),
        );
    }
    let (lso, aborted, bytes) = fetch_committed(&bootstrap, topic, 0);
    assert_eq!(
        (lso, aborted),
        (4, vec![(known_pid, 0)]),
        "read_committed fetches learn of the aborted transaction"
    );
    assert!(bytes > 0, "and get the records");
    let (lso, aborted, _) = fetch_committed(&bootstrap, topic, 1);
    assert_eq!((lso, aborted), (4, vec![(ghost_pid, 0)]));
    assert_eq!(
        console_consume(&bootstrap, topic, "read_committed", 2),
        vec!["after-0", "after-1"],
        "read_committed skips the aborted records and reads what was behind them"
    );
    assert_eq!(
        console_consume(&bootstrap, topic, "read_uncommitted", 6),
        vec!["after-0", "after-1", "h0-a", "h0-b", "h1-a", "h1-b"],
        "read_uncommitted reads the aborted records too, never a marker"
    );

    let rows = find_hanging(
        &bootstrap,
        &["--broker-id", "0", "--max-transaction-timeout", "0"],
    );
    assert_eq!(rows, Vec::<Vec<String>>::new(), "nothing hangs any more");
    let rows = table(
        &tool(
            &bootstrap,
            &["describe-producers", "--topic", topic, "--partition", "0"],
        ),
        &PRODUCERS_HEADERS,
    );
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        rows[0][..4],
        row(&[&known_pid, &known_epoch, &0, &1])[..],
        "the marker's coordinator epoch (the tool sends 0): {rows:?}"
    );
    assert_eq!(rows[0][5], "None", "{rows:?}");
    // Aborting it again finds nothing open.
    assert_fails_with(
        &tool(
            &bootstrap,
            &[
                "abort",
                "--topic",
                topic,
                "--partition",
                "0",
                "--start-offset",
                "0",
            ],
        ),
        "Could not find any open transactions starting at offset 0 on partition hang-0",
    );
}

/// A producer with a transaction open on one partition writes to another without
/// AddPartitionsToTxn: its coordinator knows the id and has it Ongoing, but not with that
/// partition, so that write is hanging and the legitimate one is not. Aborting it leaves the
/// legitimate transaction open.
#[test]
fn a_write_outside_an_ongoing_transaction_is_hanging() {
    let ids = ThreeIds::start_with(UNVERIFIED);
    let bootstrap = ids.bootstrap();
    // Partition 0 holds the committed transaction: 3 records and its marker.
    let ts = now_ms();
    let batch = transactional_batch(ids.open_pid, 0, 0, ts, &["stray"]);
    assert_eq!(produce_raw(&bootstrap, "tool-open", TOPIC, 0, batch), 4);
    wait_until("a millisecond after the stray batch", DEADLINE, || {
        (now_ms() > ts).then_some(())
    });
    let rows = find_hanging(
        &bootstrap,
        &["--broker-id", "0", "--max-transaction-timeout", "0"],
    );
    assert_eq!(
        rows,
        vec![row(&[&TOPIC, &0, &ids.open_pid, &0, &-1, &4, &ts])]
    );

    let out = tool(
        &bootstrap,
        &[
            "abort",
            "--topic",
            TOPIC,
            "--partition",
            "0",
            "--start-offset",
            "4",
        ],
    );
    out.assert_success("abort");
    wait_until(
        "the last stable offset past the ABORT marker",
        DEADLINE,
        || (latest_offset(&bootstrap, TOPIC, 0, 1) == 6).then_some(()),
    );
    let rows = find_hanging(
        &bootstrap,
        &["--broker-id", "0", "--max-transaction-timeout", "0"],
    );
    assert_eq!(rows, Vec::<Vec<String>>::new());
    // The legitimate transaction is still open on partition 1.
    assert_eq!(latest_offset(&bootstrap, TOPIC, 1, 1), 0);
    let rows = table(
        &tool(&bootstrap, &["describe", "--transactional-id", "tool-open"]),
        &DESCRIBE_HEADERS,
    );
    assert_eq!(rows[0][4], "Ongoing", "{rows:?}");
    assert_eq!(rows[0][8], format!("{TOPIC}-1"), "{rows:?}");
}

/// Three brokers: `list` asks every broker and names each id's coordinator (as FindCoordinator
/// does), `describe` too; a hanging transaction on a partition with three replicas shows in
/// `describe-producers --broker-id` and `find-hanging --broker-id` of every replica, leader or
/// follower; `abort` through a bootstrap server that is not the leader writes the marker at the
/// leader, and every replica then shows it closed.
#[test]
fn three_brokers_coordinators_and_replicas() {
    let mut cluster = ThreeBrokers::start(UNVERIFIED);
    let bootstrap = cluster.bootstrap();
    let topic = "hang3";
    cluster
        .topics(&[
            "--create",
            "--topic",
            topic,
            "--partitions",
            "1",
            "--replication-factor",
            "3",
        ])
        .assert_success("create");
    let rt = runtime();
    let ids: Vec<String> = (0..6).map(|i| format!("three-{i}")).collect();
    let pids: Vec<i64> = rt.block_on(async {
        let mut pids = Vec::new();
        for id in &ids {
            let producer = transactional_producer(&bootstrap, id).await;
            producer.begin_transaction().unwrap();
            send_all(&producer, topic, 0, &[id.as_str()]).await;
            producer.commit_transaction().await.unwrap();
            pids.push(producer.producer_id_and_epoch().unwrap().0);
            producer.close().await.unwrap();
        }
        pids
    });
    let coordinators: Vec<i32> = ids
        .iter()
        .map(|id| {
            wait_until(&format!("the coordinator of {id}"), DEADLINE, || {
                e2e::raw::find_transaction_coordinator(&bootstrap, id)
            })
        })
        .collect();
    let mut want: Vec<Vec<String>> = ids
        .iter()
        .zip(&pids)
        .zip(&coordinators)
        .map(|((id, pid), c)| row(&[id, c, pid, &"CompleteCommit"]))
        .collect();
    want.sort();
    let mut rows = table(&tool(&bootstrap, &["list"]), &LIST_HEADERS);
    rows.sort();
    assert_eq!(rows, want);
    for (id, c) in ids.iter().zip(&coordinators) {
        let rows = table(
            &tool(&bootstrap, &["describe", "--transactional-id", id]),
            &DESCRIBE_HEADERS,
        );
        assert_eq!(rows[0][0], c.to_string(), "{id}: {rows:?}");
    }

    // Six transactions of one record and a marker each: the hanging one starts at 12.
    let leader = leader_of(&cluster.broker(0).bootstrap(), topic, 0);
    let leader_addr = cluster.broker(leader).bootstrap();
    let ghost_pid: i64 = 5_353_535;
    let old_ts = now_ms() - 30 * 60_000;
    let batch = transactional_batch(ghost_pid, 3, 0, old_ts, &["g-a", "g-b", "g-c"]);
    assert_eq!(produce_raw(&leader_addr, "ghost", topic, 0, batch), 12);
    let producer_row = row(&[&ghost_pid, &3, &-1, &2, &old_ts, &12]);
    for b in 0..3 {
        let b_s = b.to_string();
        let args = [
            "describe-producers",
            "--topic",
            topic,
            "--partition",
            "0",
            "--broker-id",
            &b_s,
        ];
        wait_until(
            &format!("broker {b} to know the hanging producer"),
            DEADLINE,
            || {
                let rows = table(&tool(&bootstrap, &args), &PRODUCERS_HEADERS);
                rows.contains(&producer_row).then_some(())
            },
        );
        let rows = find_hanging(&bootstrap, &["--broker-id", &b_s]);
        assert_eq!(
            rows,
            vec![row(&[&topic, &0, &ghost_pid, &3, &-1, &12, &old_ts])],
            "find-hanging --broker-id {b} (leader {leader})"
        );
    }

    let follower = (0..3).find(|b| *b != leader).unwrap();
    let follower_addr = cluster.broker(follower).bootstrap();
    let out = tool(
        &follower_addr,
        &[
            "abort",
            "--topic",
            topic,
            "--partition",
            "0",
            "--start-offset",
            "12",
        ],
    );
    out.assert_success("abort through a follower");
    wait_until("the last stable offset past the marker", DEADLINE, || {
        (latest_offset(&leader_addr, topic, 0, 1) == 16).then_some(())
    });
    for b in 0..3 {
        let b_s = b.to_string();
        let args = [
            "describe-producers",
            "--topic",
            topic,
            "--partition",
            "0",
            "--broker-id",
            &b_s,
        ];
        wait_until(
            &format!("broker {b} to see the ABORT marker"),
            DEADLINE,
            || {
                let rows = table(&tool(&bootstrap, &args), &PRODUCERS_HEADERS);
                rows.iter()
                    .any(|r| r[0] == ghost_pid.to_string() && r[5] == "None")
                    .then_some(())
            },
        );
        let rows = find_hanging(&bootstrap, &["--broker-id", &b_s]);
        assert_eq!(rows, Vec::<Vec<String>>::new(), "broker {b}");
    }
}

/// A transaction its coordinator aborts after `transaction.timeout.ms`: Kafka 3.9 fences the
/// producer first (`prepareFenceProducerEpoch`, epoch + 1), writes ABORT markers with the new
/// epoch, and keeps the start time. On the partition, a marker with a new epoch starts the
/// producer's entry afresh (`ProducerStateEntry.maybeUpdateProducerEpoch` clears its batches),
/// so the last sequence is -1.
#[test]
fn a_transaction_timed_out_by_its_coordinator_is_described_as_aborted() {
    let cluster = Cluster::start_with(&[(
        "transaction.abort.timed.out.transaction.cleanup.interval.ms",
        "500",
    )]);
    let bootstrap = cluster.bootstrap();
    let topic = "timed-out";
    cluster.create_topic(topic, 1);
    let rt = runtime();
    let (pid, window) = rt.block_on(async {
        let producer = Producer::new(ProducerConfig {
            bootstrap_servers: bootstrap.clone(),
            transactional_id: Some("short-lived".to_string()),
            transaction_timeout_ms: 1000,
            ..ProducerConfig::default()
        })
        .await
        .unwrap();
        producer.init_transactions().await.unwrap();
        let before = now_ms();
        producer.begin_transaction().unwrap();
        send_all(&producer, topic, 0, &["x-0", "x-1", "x-2"]).await;
        let after = now_ms();
        let (pid, _) = producer.producer_id_and_epoch().unwrap();
        (pid, (before, after))
    });
    let describe = || {
        table(
            &tool(
                &bootstrap,
                &["describe", "--transactional-id", "short-lived"],
            ),
            &DESCRIBE_HEADERS,
        )
        .remove(0)
    };
    let r = wait_until("the coordinator to abort the transaction", DEADLINE, || {
        let r = describe();
        (r[4] == "CompleteAbort").then_some(r)
    });
    assert_eq!(
        r[..6],
        row(&[&0, &"short-lived", &pid, &1, &"CompleteAbort", &1000])[..],
        "fenced: epoch 1: {r:?}"
    );
    let start = num(&r[6]);
    assert!(
        (window.0..=window.1).contains(&start),
        "the start time is kept: {r:?} {window:?}"
    );
    assert_eq!(r[8], "", "{r:?}");
    let rows = table(
        &tool(
            &bootstrap,
            &["describe-producers", "--topic", topic, "--partition", "0"],
        ),
        &PRODUCERS_HEADERS,
    );
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0][..4], row(&[&pid, &1, &0, &-1])[..], "{rows:?}");
    assert_eq!(rows[0][5], "None", "{rows:?}");
    assert_eq!(latest_offset(&bootstrap, topic, 0, 1), 4);
    let (_, aborted, _) = fetch_committed(&bootstrap, topic, 0);
    assert_eq!(aborted, vec![(pid, 0)]);
}

/// Transactions left open by real clients (kafka-python, confluent-kafka through
/// `e2e/python/txn_clients.py hang`: five records, then no commit) as the tool describes them.
fn real_client_open_transaction(client: &str) {
    let Some(python) = e2e::python() else { return };
    let cluster = Cluster::start();
    let bootstrap = cluster.bootstrap();
    let topic = format!("open-{client}");
    cluster.create_topic(&topic, 1);
    let txn_id = format!("open-{client}");
    let script = e2e::repo_root().join("e2e/python/txn_clients.py");
    let mut producer = e2e::Process::spawn(
        "open transaction",
        python,
        [
            script.display().to_string(),
            "hang".to_string(),
            client.to_string(),
            bootstrap.clone(),
            topic.clone(),
            txn_id.clone(),
            TXN_TIMEOUT_MS.to_string(),
        ]
        .to_vec(),
        vec![
            ("PYTHONUNBUFFERED".to_string(), "1".to_string()),
            ("PYTHONDONTWRITEBYTECODE".to_string(), "1".to_string()),
        ],
    );
    let before = now_ms();
    producer.wait_for_line("the open transaction", DEADLINE, |l| l == "OPEN");
    let after = now_ms();

    let rows = table(&tool(&bootstrap, &["list"]), &LIST_HEADERS);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0][0], txn_id);
    assert_eq!(rows[0][1], "0");
    assert_eq!(rows[0][3], "Ongoing");
    let pid = rows[0][2].clone();
    let rows = table(
        &tool(&bootstrap, &["describe", "--transactional-id", &txn_id]),
        &DESCRIBE_HEADERS,
    );
    let r = &rows[0];
    assert_eq!(
        r[..6],
        row(&[&0, &txn_id, &pid, &0, &"Ongoing", &TXN_TIMEOUT_MS])[..],
        "{r:?}"
    );
    assert!((before..=after).contains(&num(&r[6])), "{r:?}");
    assert_eq!(r[8], format!("{topic}-0"), "{r:?}");
    let rows = table(
        &tool(
            &bootstrap,
            &["describe-producers", "--topic", &topic, "--partition", "0"],
        ),
        &PRODUCERS_HEADERS,
    );
    assert_eq!(rows.len(), 1, "{rows:?}");
    let r = &rows[0];
    assert_eq!(r[..4], row(&[&pid, &0, &-1, &4])[..], "{r:?}");
    assert!((before..=after).contains(&num(&r[4])), "{r:?}");
    assert_eq!(r[5], "0", "{r:?}");
    // Open and known to its coordinator with this partition: not hanging.
    wait_until("a millisecond after the records", DEADLINE, || {
        (now_ms() > after).then_some(())
    });
    let rows = find_hanging(
        &bootstrap,
        &["--broker-id", "0", "--max-transaction-timeout", "0"],
    );
    assert_eq!(rows, Vec::<Vec<String>>::new());
    producer.kill9();
}

#[test]
fn kafka_python_open_transaction_is_described() {
    real_client_open_transaction("kafka-python");
}

#[test]
fn confluent_kafka_open_transaction_is_described() {
    real_client_open_transaction("confluent-kafka");
}

/// The hanging transaction survives restarts: after `kill -9` the broker rebuilds the
/// producer state from the log (the open transaction, its first offset, the last stable
/// offset stuck there), the tool still finds it, aborts it, and after a clean restart it stays
/// aborted.
#[test]
fn a_hanging_transaction_survives_broker_restarts() {
    let mut cluster = Cluster::start_with(UNVERIFIED);
    let topic = "hang-restart";
    cluster.create_topic(topic, 1);
    let bootstrap = cluster.bootstrap();
    let rt = runtime();
    let ghost_pid: i64 = 6_464_646;
    let old_ts = now_ms() - 16 * 60_000;
    produce_plain(&rt, &bootstrap, topic, 0, &["before"]);
    let batch = transactional_batch(ghost_pid, 2, 0, old_ts, &["g-0", "g-1"]);
    assert_eq!(produce_raw(&bootstrap, "ghost", topic, 0, batch), 1);
    produce_plain(&rt, &bootstrap, topic, 0, &["after"]);
    let producer_row = row(&[&ghost_pid, &2, &-1, &1, &old_ts, &1]);
    let hanging_row = row(&[&topic, &0, &ghost_pid, &2, &-1, &1, &old_ts]);
    let describe_producers = || {
        table(
            &tool(
                &bootstrap,
                &["describe-producers", "--topic", topic, "--partition", "0"],
            ),
            &PRODUCERS_HEADERS,
        )
    };
    assert_eq!(describe_producers(), vec![producer_row.clone()]);

    cluster.broker.kill9();
    cluster.broker.restart();
    assert_eq!(
        latest_offset_after_restart(&bootstrap, topic, 1),
        1,
        "LSO still stuck"
    );
    assert_eq!(
        describe_producers(),
        vec![producer_row],
        "the producer state is rebuilt after kill -9"
    );
    assert_eq!(
        find_hanging(&bootstrap, &["--broker-id", "0"]),
        vec![hanging_row]
    );
    tool(
        &bootstrap,
        &[
            "abort",
            "--topic",
            topic,
            "--partition",
            "0",
            "--start-offset",
            "1",
        ],
    )
    .assert_success("abort");
    wait_until("the last stable offset past the marker", DEADLINE, || {
        (latest_offset(&bootstrap, topic, 0, 1) == 5).then_some(())
    });

    let status = cluster.broker.stop();
    assert!(status.success(), "clean stop: {status}");
    cluster.broker.restart();
    assert_eq!(
        latest_offset_after_restart(&bootstrap, topic, 1),
        5,
        "still past the marker"
    );
    let rows = describe_producers();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0][..4], row(&[&ghost_pid, &2, &0, &1])[..], "{rows:?}");
    assert_eq!(rows[0][5], "None", "{rows:?}");
    assert_eq!(
        find_hanging(
            &bootstrap,
            &["--broker-id", "0", "--max-transaction-timeout", "0"]
        ),
        Vec::<Vec<String>>::new()
    );
    assert_eq!(
        console_consume(&bootstrap, topic, "read_committed", 2),
        vec!["after", "before"]
    );
}

/// `describe --transactional-id ''`: Kafka 3.9's FindCoordinator has no check for an empty key
/// (`KafkaApis.getCoordinator` answers the leader of partition 0), and the coordinator answers
/// DescribeTransactions INVALID_REQUEST, which `DescribeTransactionsHandler` reports as an
/// unexpected error.
#[test]
fn describe_of_an_empty_transactional_id_prints_kafkas_error() {
    let cluster = Cluster::start();
    let bootstrap = cluster.bootstrap();
    // The transaction state topic exists once a transactional id has been used.
    let rt = runtime();
    rt.block_on(async {
        transactional_producer(&bootstrap, "some-id")
            .await
            .close()
            .await
            .unwrap();
    });
    assert_fails_with(
        &tool(&bootstrap, &["describe", "--transactional-id", ""]),
        "Failed to describe transaction state of transactional-id ``: DescribeTransactions \
         request for transactionalId `` failed due to unexpected error. Enable debug logging \
         for additional detail.",
    );
}

/// An admin client setting that is not a number: Kafka's `Admin.create` throws a
/// ConfigException that `main` does not catch (exit 1); it does not run the command with the
/// default.
#[test]
fn a_bad_admin_client_setting_is_refused() {
    let cluster = Cluster::start();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), "default.api.timeout.ms=abc\n").unwrap();
    let path = file.path().display().to_string();
    let out = tool(&cluster.bootstrap(), &["--command-config", &path, "list"]);
    out.assert_code(1, "a bad default.api.timeout.ms");
    assert_eq!(out.stdout, "", "{out}");
    assert!(
        out.stderr.contains(
            "ConfigException: Invalid value abc for configuration default.api.timeout.ms: Not \
             a number of type INT"
        ),
        "{out}"
    );
}

/// Argument errors are argparse4j's (usage of the sub-command, then the error line) or the
/// command's own checks (`printErrorAndExit`); both exit 1 with nothing on stdout.
#[test]
fn missing_arguments_are_refused_with_kafkas_texts() {
    let cluster = Cluster::start();
    let bootstrap = cluster.bootstrap();
    let usage_error = |args: &[&str], usage_first: &str, error: &str| {
        let out = tool(&bootstrap, args);
        out.assert_code(1, &out.command);
        assert_eq!(out.stdout, "", "{out}");
        let first = out.stderr.lines().next().unwrap_or_default();
        assert_eq!(first, usage_first, "{out}");
        let last = out.stderr.lines().last().unwrap_or_default();
        assert_eq!(last, error, "{out}");
    };
    usage_error(
        &["describe"],
        "usage: kafka-transactions.sh --bootstrap-server host:port describe [-h]",
        "kafka-transactions.sh: error: argument --transactional-id is required",
    );
    usage_error(
        &["describe-producers", "--topic", "t"],
        "usage: kafka-transactions.sh --bootstrap-server host:port",
        "kafka-transactions.sh: error: argument --partition is required",
    );
    usage_error(
        &["describe-producers", "--partition", "0"],
        "usage: kafka-transactions.sh --bootstrap-server host:port",
        "kafka-transactions.sh: error: argument --topic is required",
    );
    usage_error(
        &["abort", "--topic", "t", "--start-offset", "0"],
        "usage: kafka-transactions.sh --bootstrap-server host:port abort [-h]",
        "kafka-transactions.sh: error: argument --partition is required",
    );
    usage_error(
        &[],
        "usage: kafka-transactions.sh [-h] [-v] [--command-config FILE]",
        "kafka-transactions.sh: error: too few arguments",
    );
    let out = run_tool("kafka-transactions", &["list"], b"", TOOL_TIMEOUT);
    out.assert_code(1, "list without --bootstrap-server");
    assert_eq!(
        out.stderr.lines().last().unwrap_or_default(),
        "kafka-transactions.sh: error: argument --bootstrap-server is required",
        "{out}"
    );

    assert_fails_with(
        &tool(&bootstrap, &["abort", "--topic", "t", "--partition", "0"]),
        "The transaction to abort must be identified either with --start-offset (for brokers on \
         3.0 or above) or with --producer-id, --producer-epoch, and --coordinator-epoch (for \
         older brokers)",
    );
    assert_fails_with(
        &tool(
            &bootstrap,
            &[
                "abort",
                "--topic",
                "t",
                "--partition",
                "0",
                "--producer-id",
                "5",
            ],
        ),
        "Missing required argument --producer-epoch",
    );
    assert_fails_with(
        &tool(
            &bootstrap,
            &[
                "abort",
                "--topic",
                "t",
                "--partition",
                "0",
                "--producer-id",
                "5",
                "--producer-epoch",
                "0",
            ],
        ),
        "Missing required argument --coordinator-epoch",
    );
    assert_fails_with(
        &tool(&bootstrap, &["find-hanging"]),
        "The `find-hanging` command requires either --topic or --broker-id to limit the scope \
         of the search",
    );
    assert_fails_with(
        &tool(
            &bootstrap,
            &["find-hanging", "--broker-id", "0", "--partition", "0"],
        ),
        "The --partition argument requires --topic to be provided",
    );
}

/// `find-hanging --topic` of a topic that does not exist: `describeTopics` fails at once with
/// UNKNOWN_TOPIC_OR_PARTITION. `--broker-id` of a broker that has no replica (here: no such
/// broker) searches no partition and prints an empty table.
#[test]
fn find_hanging_on_an_unknown_topic_or_broker() {
    let cluster = Cluster::start();
    cluster.create_topic("known", 1);
    let rows = find_hanging(&cluster.bootstrap(), &["--broker-id", "7"]);
    assert_eq!(rows, Vec::<Vec<String>>::new());
    let out = tool(
        &cluster.bootstrap(),
        &["find-hanging", "--topic", "no-such-topic"],
    );
    assert_fails_with(
        &out,
        "Failed to describe 1 topics: This server does not host this topic-partition.. Enable \
         debug logging for additional detail.",
    );
}

/// An admin client config with a short `default.api.timeout.ms`, for the calls Kafka retries
/// until that timeout.
fn short_timeout_config() -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), "default.api.timeout.ms=3000\n").unwrap();
    file
}

/// Kafka's admin client retries DescribeProducers for a topic or partition the metadata does
/// not have (`PartitionLeaderStrategy` tolerates unknown topics; a partition missing from the
/// Metadata answer stays unmapped; UNKNOWN_TOPIC_OR_PARTITION from the replica named by
/// `--broker-id` is "retry later" in `DescribeProducersHandler`) until `default.api.timeout.ms`,
/// and then fails with the TimeoutException of the call still waiting for its next try:
/// "Timed out waiting for a node assignment. Call: describeProducers(api=METADATA)" (or
/// `api=DESCRIBE_PRODUCERS` when the broker was named).
#[test]
fn unknown_topic_or_partition_times_out_as_kafka_does() {
    let cluster = Cluster::start();
    cluster.create_topic("known", 1);
    let bootstrap = cluster.bootstrap();
    let config = short_timeout_config();
    let config_path = config.path().display().to_string();
    let run = |args: &[&str]| {
        let mut all = vec!["--command-config", config_path.as_str()];
        all.extend_from_slice(args);
        tool(&bootstrap, &all)
    };
    let suffix = ". Enable debug logging for additional detail.";
    let metadata_timeout = "Timed out waiting for a node assignment. Call: \
                            describeProducers(api=METADATA)";
    let producers_timeout = "Timed out waiting for a node assignment. Call: \
                             describeProducers(api=DESCRIBE_PRODUCERS)";
    assert_fails_with(
        &run(&["describe-producers", "--topic", "nope", "--partition", "0"]),
        &format!("Failed to describe producers for partition nope-0 on leader: {metadata_timeout}{suffix}"),
    );
    assert_fails_with(
        &run(&["describe-producers", "--topic", "known", "--partition", "7"]),
        &format!("Failed to describe producers for partition known-7 on leader: {metadata_timeout}{suffix}"),
    );
    assert_fails_with(
        &run(&[
            "describe-producers",
            "--topic",
            "known",
            "--partition",
            "7",
            "--broker-id",
            "0",
        ]),
        &format!("Failed to describe producers for partition known-7 on broker 0: {producers_timeout}{suffix}"),
    );
    // A broker id that is not in the metadata: `ConstantNodeIdProvider` waits for it to appear.
    assert_fails_with(
        &run(&[
            "describe-producers",
            "--topic",
            "known",
            "--partition",
            "0",
            "--broker-id",
            "5",
        ]),
        &format!("Failed to describe producers for partition known-0 on broker 5: {producers_timeout}{suffix}"),
    );
    assert_fails_with(
        &run(&[
            "abort",
            "--topic",
            "nope",
            "--partition",
            "0",
            "--start-offset",
            "0",
        ]),
        &format!(
            "Failed to validate producer state for partition nope-0: {metadata_timeout}{suffix}"
        ),
    );
    assert_fails_with(
        &run(&["find-hanging", "--topic", "nope", "--partition", "0"]),
        &format!(
            "Failed to describe producers for 1 partitions on broker Optional.empty: \
             {metadata_timeout}{suffix}"
        ),
    );
}

/// With verification on (Kafka 3.9's default, KIP-890), the same raw transactional Produce
/// without AddPartitionsToTxn is refused with INVALID_TXN_STATE and leaves nothing behind:
/// `find-hanging` finds nothing and read_committed readers are not held back.
#[test]
fn a_write_outside_any_transaction_is_refused_by_default() {
    let cluster = Cluster::start();
    let topic = "no-hang";
    cluster.create_topic(topic, 1);
    let bootstrap = cluster.bootstrap();
    // The coordinator exists and knows the id (an initialised producer), not the partition.
    let rt = runtime();
    let producer = rt.block_on(transactional_producer(&bootstrap, "ghost"));
    let (pid, epoch) = producer.producer_id_and_epoch().unwrap();
    let request = ProduceRequest::default()
        .with_transactional_id(Some(TransactionalId(StrBytes::from_string(
            "ghost".to_string(),
        ))))
        .with_acks(-1)
        .with_timeout_ms(30_000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(TopicName(StrBytes::from_string(topic.to_string())))
            .with_partition_data(vec![PartitionProduceData::default()
                .with_index(0)
                .with_records(Some(Bytes::from(transactional_batch(
                    pid,
                    epoch,
                    0,
                    now_ms(),
                    &["stray"],
                ))))])]);
    let ResponseKind::Produce(response) =
        Conn::open(&bootstrap).call(9, RequestKind::Produce(request))
    else {
        unreachable!("a Produce request is answered by a Produce response")
    };
    assert_eq!(
        response.responses[0].partition_responses[0].error_code, 48,
        "INVALID_TXN_STATE"
    );
    assert_eq!(latest_offset(&bootstrap, topic, 0, 0), 0, "nothing stored");
    let rows = find_hanging(
        &bootstrap,
        &["--broker-id", "0", "--max-transaction-timeout", "0"],
    );
    assert!(rows.is_empty(), "{rows:?}");
}
