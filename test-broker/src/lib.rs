//! A tiny in-process fake broker on 127.0.0.1 for unit tests: ApiVersions (with KIP-511
//! behaviour), Metadata, InitProducerId, Produce (offsets assigned, duplicates by sequence
//! dropped), ListOffsets and Fetch over an in-memory log, a one-node group coordinator
//! (`FindCoordinator`, `JoinGroup`, `SyncGroup`, `Heartbeat`, `LeaveGroup`, `OffsetCommit`,
//! `OffsetFetch`; see `groups`), a one-node transaction coordinator (`txn`: InitProducerId with
//! a transactional id, AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit, EndTxn writing
//! markers, read_committed fetches up to the last stable offset with aborted transactions, and
//! ListTransactions / DescribeTransactions / DescribeProducers / WriteTxnMarkers), plus switches
//! to misbehave.

mod txn;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{
    api_versions_response::ApiVersion,
    fetch_response::{AbortedTransaction, FetchableTopicResponse, PartitionData},
    list_offsets_response::{ListOffsetsPartitionResponse, ListOffsetsTopicResponse},
    metadata_response::{MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic},
    produce_response::{PartitionProduceResponse, TopicProduceResponse},
    ApiKey, ApiVersionsResponse, BrokerId, FetchRequest, FetchResponse, InitProducerIdResponse,
    ListOffsetsRequest, ListOffsetsResponse, MetadataRequest, MetadataResponse, ProduceRequest,
    ProduceResponse, ProducerId, RequestHeader, ResponseHeader, TopicName,
};
use kafka_protocol::messages::{
    AddOffsetsToTxnRequest, AddOffsetsToTxnResponse, AddPartitionsToTxnRequest,
    AddPartitionsToTxnResponse, DescribeProducersRequest, DescribeProducersResponse,
    DescribeTransactionsRequest, DescribeTransactionsResponse, EndTxnRequest, EndTxnResponse,
    InitProducerIdRequest, ListTransactionsRequest, ListTransactionsResponse,
    TxnOffsetCommitRequest, TxnOffsetCommitResponse, WriteTxnMarkersRequest,
    WriteTxnMarkersResponse,
};
use kafka_protocol::messages::{
    FindCoordinatorRequest, FindCoordinatorResponse, HeartbeatRequest, HeartbeatResponse,
    JoinGroupRequest, JoinGroupResponse, LeaveGroupRequest, LeaveGroupResponse, ListGroupsRequest,
    ListGroupsResponse, OffsetCommitRequest, OffsetCommitResponse, OffsetFetchRequest,
    OffsetFetchResponse, SyncGroupRequest, SyncGroupResponse,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, StrBytes};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Clone, Debug)]
pub struct FakeBrokerOptions {
    /// Highest ApiVersions version accepted; newer ones get error 35 in v0 format.
    pub api_versions_max: i16,
    /// Answer the second of two Metadata requests before the first.
    pub reverse_order: bool,
    /// Close the socket when a Metadata request arrives.
    pub close_on_metadata: bool,
    /// Close the socket when a Produce request arrives (a broker that went down mid-request).
    pub close_on_produce: bool,
    /// Answer Metadata with a size prefix far above any limit.
    pub oversize_metadata: bool,
    /// Topics and their partition counts.
    pub topics: Vec<(String, i32)>,
    /// Advertise InitProducerId.
    pub init_producer_id: bool,
    /// Create unknown topics (1 partition) when Metadata allows it, answering
    /// LEADER_NOT_AVAILABLE the first time as Kafka does.
    pub auto_create: bool,
    /// Fail this many Produce partition results with NOT_LEADER_OR_FOLLOWER (after writing
    /// nothing), to exercise retries.
    pub fail_produces: usize,
    /// Write the batch but answer REQUEST_TIMED_OUT this many times (a lost acknowledgement),
    /// so an idempotent retry must be deduplicated.
    pub lose_acks: usize,
    /// Cut fetch data at the partition's max bytes even inside the first batch (a broker
    /// without KIP-74's "at least one batch").
    pub truncate_fetches: bool,
    /// Never answer the first Metadata request on a connection.
    pub ignore_first_metadata: bool,
    /// Answer this many ListGroups with COORDINATOR_LOAD_IN_PROGRESS (a broker loading a
    /// `__consumer_offsets` partition) before listing the groups.
    pub list_groups_loading: usize,
    /// Answer this many transactional InitProducerId requests with COORDINATOR_LOAD_IN_PROGRESS.
    pub txn_load_in_progress: usize,
    /// Answer this many AddPartitionsToTxn requests with CONCURRENT_TRANSACTIONS.
    pub txn_concurrent: usize,
    /// Answer this many EndTxn requests with NOT_COORDINATOR.
    pub txn_not_coordinator: usize,
    /// Start with Produce responses held back: requests are processed (written to the log) as
    /// they arrive, but their responses are only sent, in order, after
    /// [`FakeBroker::release_produce_responses`]. Lets a test see how many Produce requests a
    /// client keeps outstanding on one connection.
    pub hold_produce_responses: bool,
    /// Send every Produce and Fetch response this long after its request arrived (a network
    /// round trip, a busy broker), without delaying the reading of later requests: a client
    /// that pipelines overlaps the waits. For throughput measurements, not for tests.
    pub response_delay: std::time::Duration,
    /// Answer the first ListOffsets requests with these error codes for every partition, one
    /// code per request in order (then answer normally): a leader that moved or is not ready.
    pub list_offsets_errors: Vec<i16>,
    /// Answer this many Metadata requests with every partition leaderless (leader -1,
    /// LEADER_NOT_AVAILABLE), as while a leader election runs.
    pub leaderless_metadata: usize,
    /// Answer the first OffsetCommit requests with these error codes for every partition, one
    /// code per request in order (nothing is stored then).
    pub commit_errors: Vec<i16>,
}

impl Default for FakeBrokerOptions {
    fn default() -> Self {
        FakeBrokerOptions {
            api_versions_max: 3,
            reverse_order: false,
            close_on_metadata: false,
            close_on_produce: false,
            oversize_metadata: false,
            topics: Vec::new(),
            init_producer_id: false,
            auto_create: false,
            fail_produces: 0,
            lose_acks: 0,
            truncate_fetches: false,
            ignore_first_metadata: false,
            list_groups_loading: 0,
            txn_load_in_progress: 0,
            txn_concurrent: 0,
            txn_not_coordinator: 0,
            hold_produce_responses: false,
            response_delay: std::time::Duration::ZERO,
            list_offsets_errors: Vec::new(),
            leaderless_metadata: 0,
            commit_errors: Vec::new(),
        }
    }
}

#[derive(Default)]
struct PartitionLog {
    /// (base offset, batch bytes with the base offset patched in)
    batches: Vec<(i64, Bytes)>,
    next_offset: i64,
    /// producer id -> (first sequence of last batch, its base offset)
    last_sequence: BTreeMap<i64, (i32, i64)>,
    /// producer id -> its last epoch
    epochs: BTreeMap<i64, i16>,
    /// producer id -> (first sequence, last sequence, base offset) of its last five batches, as
    /// Kafka's `ProducerStateEntry` keeps them to spot duplicates and check the next sequence.
    recent: BTreeMap<i64, std::collections::VecDeque<(i32, i32, i64)>>,
    /// producer id -> first offset of its open transaction
    open_txns: BTreeMap<i64, i64>,
    /// (producer id, first offset, marker offset) of aborted transactions
    aborted: Vec<(i64, i64, i64)>,
}

impl PartitionLog {
    /// min(first offset of the open transactions, high watermark).
    fn last_stable_offset(&self) -> i64 {
        self.open_txns
            .values()
            .copied()
            .min()
            .unwrap_or(self.next_offset)
            .min(self.next_offset)
    }
}

#[derive(Default)]
struct State {
    topics: BTreeMap<String, Vec<PartitionLog>>,
    api_versions_seen: Vec<i16>,
    produce_requests: usize,
    /// The most Produce requests one connection had waiting for their response at once.
    max_produce_in_flight: usize,
    fetch_requests: usize,
    /// (max_wait_ms, min_bytes, max_bytes, each partition_max_bytes) of the last Fetch.
    last_fetch: Option<(i32, i32, i32, Vec<i32>)>,
    fail_produces: usize,
    lose_acks: usize,
    next_producer_id: i64,
    groups: groups::Groups,
    list_groups_loading: usize,
    txns: txn::Txns,
    list_offsets_errors: std::collections::VecDeque<i16>,
    leaderless_metadata: usize,
    commit_errors: std::collections::VecDeque<i16>,
    list_offsets_requests: usize,
    commit_requests: usize,
}

pub struct FakeBroker {
    addr: String,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
    /// True while Produce responses are held back (see `hold_produce_responses`).
    hold: tokio::sync::watch::Sender<bool>,
}

impl Drop for FakeBroker {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeBroker {
    pub async fn start(options: FakeBrokerOptions) -> FakeBroker {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let local = listener.local_addr().expect("local addr");
        let addr = local.to_string();
        let mut state = State {
            fail_produces: options.fail_produces,
            lose_acks: options.lose_acks,
            list_groups_loading: options.list_groups_loading,
            list_offsets_errors: options.list_offsets_errors.iter().copied().collect(),
            leaderless_metadata: options.leaderless_metadata,
            commit_errors: options.commit_errors.iter().copied().collect(),
            next_producer_id: 1000,
            txns: txn::Txns {
                load_in_progress: options.txn_load_in_progress,
                concurrent: options.txn_concurrent,
                not_coordinator: options.txn_not_coordinator,
                ..Default::default()
            },
            ..Default::default()
        };
        for (name, n) in &options.topics {
            state.topics.insert(
                name.clone(),
                (0..*n).map(|_| PartitionLog::default()).collect(),
            );
        }
        let state = Arc::new(Mutex::new(state));
        let state2 = state.clone();
        let port = local.port();
        let (hold, hold_rx) = tokio::sync::watch::channel(options.hold_produce_responses);
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve(
                    socket,
                    options.clone(),
                    state2.clone(),
                    port,
                    hold_rx.clone(),
                ));
            }
        });
        FakeBroker {
            addr,
            state,
            task,
            hold,
        }
    }

    /// Sends the held Produce responses (in order) and stops holding new ones.
    pub fn release_produce_responses(&self) {
        self.hold.send_replace(false);
    }

    /// The most Produce requests (with acks) one connection had outstanding at once: received
    /// but not yet answered.
    pub fn max_produce_in_flight(&self) -> usize {
        self.with_state(|s| s.max_produce_in_flight)
    }

    /// Bytes of the batches stored in a partition (as the producer sent them, compressed or
    /// not).
    pub fn stored_bytes(&self, topic: &str, partition: i32) -> usize {
        self.with_state(|s| {
            s.topics
                .get(topic)
                .and_then(|p| p.get(partition as usize))
                .map_or(0, |l| l.batches.iter().map(|(_, b)| b.len()).sum())
        })
    }

    /// The compression codec (attribute bits 0-2) of each batch stored in a partition.
    pub fn stored_codecs(&self, topic: &str, partition: i32) -> Vec<i16> {
        self.with_state(|s| {
            s.topics
                .get(topic)
                .and_then(|p| p.get(partition as usize))
                .map_or_else(Vec::new, |l| {
                    l.batches
                        .iter()
                        .map(|(_, b)| i16::from_be_bytes([b[21], b[22]]) & 0x07)
                        .collect()
                })
        })
    }

    /// Producer ids handed out by InitProducerId so far.
    pub fn producer_ids_issued(&self) -> i64 {
        self.with_state(|s| s.next_producer_id - 1000)
    }

    /// (max_wait_ms, min_bytes, max_bytes, each partition's partition_max_bytes) of the last
    /// Fetch request.
    pub fn last_fetch(&self) -> Option<(i32, i32, i32, Vec<i32>)> {
        self.with_state(|s| s.last_fetch.clone())
    }

    /// Fetch requests received.
    pub fn fetch_requests(&self) -> usize {
        self.with_state(|s| s.fetch_requests)
    }

    /// The values of a partition's records in offset order (uncompressed batches only), to
    /// check what a producer wrote and in which order.
    pub fn values(&self, topic: &str, partition: i32) -> Vec<Option<Bytes>> {
        self.with_state(|s| {
            let mut out = Vec::new();
            let Some(log) = s.topics.get(topic).and_then(|p| p.get(partition as usize)) else {
                return out;
            };
            for (_, batch) in &log.batches {
                let attributes = i16::from_be_bytes([batch[21], batch[22]]);
                if attributes & 0x20 != 0 {
                    continue; // control batch
                }
                assert_eq!(attributes & 0x07, 0, "values() reads uncompressed batches");
                let mut at = 61;
                let count = i32::from_be_bytes(batch[57..61].try_into().expect("count"));
                for _ in 0..count {
                    let len = read_varint(batch, &mut at);
                    let end = at + len as usize;
                    at += 1; // attributes
                    read_varint(batch, &mut at); // timestamp delta
                    read_varint(batch, &mut at); // offset delta
                    let key_len = read_varint(batch, &mut at);
                    if key_len > 0 {
                        at += key_len as usize;
                    }
                    let value_len = read_varint(batch, &mut at);
                    out.push((value_len >= 0).then(|| batch.slice(at..at + value_len as usize)));
                    at = end;
                }
            }
            out
        })
    }

    pub fn addr(&self) -> String {
        self.addr.clone()
    }

    fn with_state<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        let s = self.state.lock().expect("state");
        f(&s)
    }

    /// The ApiVersions request versions received, in order.
    pub fn api_versions_versions_seen(&self) -> Vec<i16> {
        self.with_state(|s| s.api_versions_seen.clone())
    }

    /// Committed offset of a group's partition.
    pub fn committed(&self, group: &str, topic: &str, partition: i32) -> Option<i64> {
        self.with_state(|s| s.groups.committed(group, topic, partition))
    }

    /// JoinGroup member ids received, in order (empty for a first join).
    pub fn join_member_ids(&self) -> Vec<String> {
        self.with_state(|s| s.groups.join_member_ids.clone())
    }

    /// The group.instance.id of each JoinGroup, in order.
    pub fn join_instance_ids(&self) -> Vec<Option<String>> {
        self.with_state(|s| s.groups.join_instance_ids.clone())
    }

    /// LeaveGroup requests received.
    pub fn leaves(&self) -> usize {
        self.with_state(|s| s.groups.leaves)
    }

    pub fn produce_requests(&self) -> usize {
        self.with_state(|s| s.produce_requests)
    }

    /// ListOffsets requests received.
    pub fn list_offsets_requests(&self) -> usize {
        self.with_state(|s| s.list_offsets_requests)
    }

    /// OffsetCommit requests received.
    pub fn commit_requests(&self) -> usize {
        self.with_state(|s| s.commit_requests)
    }

    /// Creates `topic` with `partitions` partitions, or grows it to that many (as CreateTopics
    /// or CreatePartitions from another client would while ours runs).
    pub fn set_partitions(&self, topic: &str, partitions: i32) {
        let mut s = self.state.lock().expect("state");
        let logs = s.topics.entry(topic.to_string()).or_default();
        while (logs.len() as i32) < partitions {
            logs.push(PartitionLog::default());
        }
    }

    /// Whether `topic` exists (e.g. was auto-created by a Metadata request).
    pub fn has_topic(&self, topic: &str) -> bool {
        self.with_state(|s| s.topics.contains_key(topic))
    }

    /// The transactional API calls received, in order (`InitProducerId`, `AddPartitionsToTxn`,
    /// `AddOffsetsToTxn`, `TxnOffsetCommit`, `EndTxn(true)`, `WriteTxnMarkers`).
    pub fn txn_calls(&self) -> Vec<String> {
        self.with_state(|s| s.txns.calls.clone())
    }

    /// The coordinator's state of a transactional id (`Empty`, `Ongoing`, `CompleteCommit`,
    /// `CompleteAbort`) and its producer id and epoch.
    pub fn txn_state(&self, transactional_id: &str) -> Option<(String, i64, i16)> {
        self.with_state(|s| {
            s.txns
                .by_id
                .get(transactional_id)
                .map(|t| (t.state.to_string(), t.producer_id, t.epoch))
        })
    }

    /// (producer id, first offset, marker offset) of a partition's aborted transactions.
    pub fn aborted_transactions(&self, topic: &str, partition: i32) -> Vec<(i64, i64, i64)> {
        self.with_state(|s| {
            s.topics
                .get(topic)
                .and_then(|p| p.get(partition as usize))
                .map_or_else(Vec::new, |l| l.aborted.clone())
        })
    }

    /// A partition's last stable offset.
    pub fn last_stable_offset(&self, topic: &str, partition: i32) -> i64 {
        self.with_state(|s| {
            s.topics
                .get(topic)
                .and_then(|p| p.get(partition as usize))
                .map_or(-1, PartitionLog::last_stable_offset)
        })
    }

    /// Records stored in a partition.
    pub fn log_end_offset(&self, topic: &str, partition: i32) -> i64 {
        self.with_state(|s| {
            s.topics
                .get(topic)
                .and_then(|p| p.get(partition as usize))
                .map_or(-1, |l| l.next_offset)
        })
    }
}

fn advertised(options: &FakeBrokerOptions) -> Vec<ApiVersion> {
    let mut apis = vec![
        (ApiKey::ApiVersions, 0, options.api_versions_max),
        (ApiKey::Metadata, 0, 12),
        (ApiKey::Produce, 0, 11),
        (ApiKey::Fetch, 0, 12),
        (ApiKey::ListOffsets, 0, 9),
        (ApiKey::CreateTopics, 0, 7),
        (ApiKey::DeleteTopics, 0, 6),
        (ApiKey::DescribeConfigs, 0, 4),
        (ApiKey::CreatePartitions, 0, 3),
        (ApiKey::FindCoordinator, 0, 4),
        (ApiKey::JoinGroup, 0, 7),
        (ApiKey::SyncGroup, 0, 5),
        (ApiKey::Heartbeat, 0, 4),
        (ApiKey::LeaveGroup, 0, 5),
        (ApiKey::OffsetCommit, 2, 8),
        (ApiKey::OffsetFetch, 1, 7),
        (ApiKey::ListGroups, 0, 4),
    ];
    if options.init_producer_id {
        apis.push((ApiKey::InitProducerId, 0, 4));
        apis.push((ApiKey::AddPartitionsToTxn, 0, 3));
        apis.push((ApiKey::AddOffsetsToTxn, 0, 3));
        apis.push((ApiKey::EndTxn, 0, 3));
        apis.push((ApiKey::TxnOffsetCommit, 0, 3));
        apis.push((ApiKey::WriteTxnMarkers, 0, 1));
        apis.push((ApiKey::DescribeProducers, 0, 0));
        apis.push((ApiKey::DescribeTransactions, 0, 0));
        apis.push((ApiKey::ListTransactions, 0, 1));
    }
    apis.into_iter()
        .map(|(k, min, max)| {
            ApiVersion::default()
                .with_api_key(k as i16)
                .with_min_version(min)
                .with_max_version(max)
        })
        .collect()
}

/// A zig-zag varint (or varlong) at `at`, for `values`; test data only, so no bounds care.
fn read_varint(buf: &[u8], at: &mut usize) -> i64 {
    let mut raw: u64 = 0;
    let mut shift = 0;
    loop {
        let b = buf[*at];
        *at += 1;
        raw |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    ((raw >> 1) as i64) ^ -((raw & 1) as i64)
}

fn name(s: &str) -> TopicName {
    TopicName(StrBytes::from_string(s.to_string()))
}

/// A response on its way to the socket; Produce responses may be held back.
struct Outgoing {
    bytes: Bytes,
    produce: bool,
    /// Not written before this (`response_delay`).
    not_before: Option<tokio::time::Instant>,
}

/// Writes responses in order; a Produce response waits while `hold` is true.
async fn write_loop(
    mut socket: tokio::net::tcp::OwnedWriteHalf,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<Outgoing>,
    mut hold: tokio::sync::watch::Receiver<bool>,
    produce_in_flight: Arc<std::sync::atomic::AtomicUsize>,
) {
    while let Some(out) = rx.recv().await {
        if out.produce {
            // An error means the broker is gone: just send.
            let _ = hold.wait_for(|held| !*held).await;
        }
        if let Some(at) = out.not_before {
            tokio::time::sleep_until(at).await;
        }
        if out.produce {
            // Counted as answered before the write: the client can send its next request
            // only after reading this answer.
            produce_in_flight.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        }
        if socket.write_all(&out.bytes).await.is_err() {
            return;
        }
    }
}

async fn serve(
    socket: TcpStream,
    options: FakeBrokerOptions,
    state: Arc<Mutex<State>>,
    port: u16,
    hold: tokio::sync::watch::Receiver<bool>,
) {
    let (mut socket, write_half) = socket.into_split();
    let (out, out_rx) = tokio::sync::mpsc::unbounded_channel();
    let produce_in_flight = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    tokio::spawn(write_loop(
        write_half,
        out_rx,
        hold,
        produce_in_flight.clone(),
    ));
    let delay = options.response_delay;
    let send = |bytes: Bytes, produce: bool| {
        out.send(Outgoing {
            bytes,
            produce,
            not_before: None,
        })
        .is_ok()
    };
    let send_delayed = |bytes: Bytes, produce: bool| {
        let not_before = (!delay.is_zero()).then(|| tokio::time::Instant::now() + delay);
        out.send(Outgoing {
            bytes,
            produce,
            not_before,
        })
        .is_ok()
    };
    let mut held: Option<Bytes> = None;
    let mut ignore_metadata = options.ignore_first_metadata;
    loop {
        let mut size = [0u8; 4];
        if socket.read_exact(&mut size).await.is_err() {
            return;
        }
        let size = i32::from_be_bytes(size);
        if !(8..=1 << 24).contains(&size) {
            return;
        }
        let mut buf = vec![0u8; size as usize];
        if socket.read_exact(&mut buf).await.is_err() {
            return;
        }
        let mut buf = Bytes::from(buf);
        let key = i16::from_be_bytes([buf[0], buf[1]]);
        let version = i16::from_be_bytes([buf[2], buf[3]]);
        let Ok(api) = ApiKey::try_from(key) else {
            return;
        };
        let Ok(header) = RequestHeader::decode(&mut buf, api.request_header_version(version))
        else {
            return;
        };
        let corr = header.correlation_id;
        let response = match api {
            ApiKey::ApiVersions => {
                state.lock().expect("state").api_versions_seen.push(version);
                let (body_version, error) = if version > options.api_versions_max {
                    (0, 35)
                } else {
                    (version, 0)
                };
                let body = ApiVersionsResponse::default()
                    .with_error_code(error)
                    .with_api_keys(advertised(&options));
                encode(corr, 0, &body, body_version)
            }
            ApiKey::Metadata => {
                if options.close_on_metadata {
                    return;
                }
                if ignore_metadata {
                    ignore_metadata = false;
                    continue;
                }
                if options.oversize_metadata {
                    send(Bytes::copy_from_slice(&i32::MAX.to_be_bytes()), false);
                    continue;
                }
                let Ok(request) = MetadataRequest::decode(&mut buf, version) else {
                    return;
                };
                let body = metadata(&state, &options, request, port);
                encode(
                    corr,
                    MetadataResponse::header_version(version),
                    &body,
                    version,
                )
            }
            ApiKey::InitProducerId => {
                let Ok(request) = InitProducerIdRequest::decode(&mut buf, version) else {
                    return;
                };
                let body = txn::init_producer_id(&state, request);
                encode(
                    corr,
                    InitProducerIdResponse::header_version(version),
                    &body,
                    version,
                )
            }
            ApiKey::AddPartitionsToTxn => {
                let Ok(request) = AddPartitionsToTxnRequest::decode(&mut buf, version) else {
                    return;
                };
                let body = txn::add_partitions(&state, request);
                let hv = AddPartitionsToTxnResponse::header_version(version);
                encode(corr, hv, &body, version)
            }
            ApiKey::AddOffsetsToTxn => {
                let Ok(request) = AddOffsetsToTxnRequest::decode(&mut buf, version) else {
                    return;
                };
                let body = txn::add_offsets(&state, request);
                let hv = AddOffsetsToTxnResponse::header_version(version);
                encode(corr, hv, &body, version)
            }
            ApiKey::TxnOffsetCommit => {
                let Ok(request) = TxnOffsetCommitRequest::decode(&mut buf, version) else {
                    return;
                };
                let body = txn::txn_offset_commit(&state, request);
                let hv = TxnOffsetCommitResponse::header_version(version);
                encode(corr, hv, &body, version)
            }
            ApiKey::EndTxn => {
                let Ok(request) = EndTxnRequest::decode(&mut buf, version) else {
                    return;
                };
                let body = txn::end_txn(&state, request);
                encode(
                    corr,
                    EndTxnResponse::header_version(version),
                    &body,
                    version,
                )
            }
            ApiKey::ListTransactions => {
                let Ok(request) = ListTransactionsRequest::decode(&mut buf, version) else {
                    return;
                };
                let body = txn::list_transactions(&state, request);
                let hv = ListTransactionsResponse::header_version(version);
                encode(corr, hv, &body, version)
            }
            ApiKey::DescribeTransactions => {
                let Ok(request) = DescribeTransactionsRequest::decode(&mut buf, version) else {
                    return;
                };
                let body = txn::describe_transactions(&state, request);
                let hv = DescribeTransactionsResponse::header_version(version);
                encode(corr, hv, &body, version)
            }
            ApiKey::DescribeProducers => {
                let Ok(request) = DescribeProducersRequest::decode(&mut buf, version) else {
                    return;
                };
                let body = txn::describe_producers(&state, request);
                let hv = DescribeProducersResponse::header_version(version);
                encode(corr, hv, &body, version)
            }
            ApiKey::WriteTxnMarkers => {
                let Ok(request) = WriteTxnMarkersRequest::decode(&mut buf, version) else {
                    return;
                };
                let body = txn::write_txn_markers(&state, request);
                let hv = WriteTxnMarkersResponse::header_version(version);
                encode(corr, hv, &body, version)
            }
            ApiKey::Produce => {
                if options.close_on_produce {
                    return;
                }
                let Ok(request) = ProduceRequest::decode(&mut buf, version) else {
                    return;
                };
                let acks = request.acks;
                let body = produce(&state, request);
                if acks == 0 {
                    continue;
                }
                let n = produce_in_flight.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                {
                    let mut s = state.lock().expect("state");
                    s.max_produce_in_flight = s.max_produce_in_flight.max(n);
                }
                let response = encode(
                    corr,
                    ProduceResponse::header_version(version),
                    &body,
                    version,
                );
                if !send_delayed(response, true) {
                    return;
                }
                continue;
            }
            ApiKey::ListOffsets => {
                let Ok(request) = ListOffsetsRequest::decode(&mut buf, version) else {
                    return;
                };
                let body = list_offsets(&state, request);
                encode(
                    corr,
                    ListOffsetsResponse::header_version(version),
                    &body,
                    version,
                )
            }
            ApiKey::Fetch => {
                let Ok(request) = FetchRequest::decode(&mut buf, version) else {
                    return;
                };
                let body = fetch(&state, request, options.truncate_fetches);
                let response = encode(corr, FetchResponse::header_version(version), &body, version);
                if !send_delayed(response, false) {
                    return;
                }
                continue;
            }
            ApiKey::FindCoordinator => {
                let Ok(_request) = FindCoordinatorRequest::decode(&mut buf, version) else {
                    return;
                };
                let body = FindCoordinatorResponse::default()
                    .with_node_id(BrokerId(0))
                    .with_host(StrBytes::from_static_str("127.0.0.1"))
                    .with_port(i32::from(port));
                encode(
                    corr,
                    FindCoordinatorResponse::header_version(version),
                    &body,
                    version,
                )
            }
            ApiKey::JoinGroup => {
                let Ok(request) = JoinGroupRequest::decode(&mut buf, version) else {
                    return;
                };
                let body = groups::join(&state, request, version).await;
                encode(
                    corr,
                    JoinGroupResponse::header_version(version),
                    &body,
                    version,
                )
            }
            ApiKey::SyncGroup => {
                let Ok(request) = SyncGroupRequest::decode(&mut buf, version) else {
                    return;
                };
                let body = groups::sync(&state, request).await;
                encode(
                    corr,
                    SyncGroupResponse::header_version(version),
                    &body,
                    version,
                )
            }
            ApiKey::Heartbeat => {
                let Ok(request) = HeartbeatRequest::decode(&mut buf, version) else {
                    return;
                };
                let body = groups::heartbeat(&state, request);
                encode(
                    corr,
                    HeartbeatResponse::header_version(version),
                    &body,
                    version,
                )
            }
            ApiKey::LeaveGroup => {
                let Ok(request) = LeaveGroupRequest::decode(&mut buf, version) else {
                    return;
                };
                let body = groups::leave(&state, request);
                encode(
                    corr,
                    LeaveGroupResponse::header_version(version),
                    &body,
                    version,
                )
            }
            ApiKey::OffsetCommit => {
                let Ok(request) = OffsetCommitRequest::decode(&mut buf, version) else {
                    return;
                };
                let body = groups::commit(&state, request);
                encode(
                    corr,
                    OffsetCommitResponse::header_version(version),
                    &body,
                    version,
                )
            }
            ApiKey::ListGroups => {
                if ListGroupsRequest::decode(&mut buf, version).is_err() {
                    return;
                }
                let mut s = state.lock().expect("state");
                let body = if s.list_groups_loading > 0 {
                    s.list_groups_loading -= 1;
                    // COORDINATOR_LOAD_IN_PROGRESS
                    ListGroupsResponse::default().with_error_code(14)
                } else {
                    ListGroupsResponse::default()
                };
                drop(s);
                encode(
                    corr,
                    ListGroupsResponse::header_version(version),
                    &body,
                    version,
                )
            }
            ApiKey::OffsetFetch => {
                let Ok(request) = OffsetFetchRequest::decode(&mut buf, version) else {
                    return;
                };
                let body = groups::fetch_offsets(&state, request);
                encode(
                    corr,
                    OffsetFetchResponse::header_version(version),
                    &body,
                    version,
                )
            }
            _ => return,
        };
        if options.reverse_order && api == ApiKey::Metadata {
            match held.take() {
                None => {
                    held = Some(response);
                    continue;
                }
                Some(first) => {
                    send(response, false);
                    send(first, false);
                    continue;
                }
            }
        }
        if !send(response, false) {
            return;
        }
    }
}

fn metadata(
    state: &Mutex<State>,
    options: &FakeBrokerOptions,
    request: MetadataRequest,
    port: u16,
) -> MetadataResponse {
    let mut s = state.lock().expect("state");
    let names: Vec<String> = match request.topics {
        None => s.topics.keys().cloned().collect(),
        Some(ts) => ts
            .into_iter()
            .filter_map(|t| t.name.map(|n| n.0.to_string()))
            .collect(),
    };
    let leaderless = s.leaderless_metadata > 0 && !names.is_empty();
    if leaderless {
        s.leaderless_metadata -= 1;
    }
    let (leader, partition_error) = if leaderless { (-1, 5) } else { (0, 0) };
    let mut topics = Vec::new();
    for n in names {
        let (error, partitions) = match s.topics.get(&n) {
            Some(parts) => (0, parts.len() as i32),
            None if options.auto_create && request.allow_auto_topic_creation => {
                s.topics.insert(n.clone(), vec![PartitionLog::default()]);
                (5, 0)
            }
            None => (3, 0),
        };
        topics.push(
            MetadataResponseTopic::default()
                .with_name(Some(name(&n)))
                .with_error_code(error)
                .with_partitions(
                    (0..partitions)
                        .map(|p| {
                            MetadataResponsePartition::default()
                                .with_partition_index(p)
                                .with_error_code(partition_error)
                                .with_leader_id(BrokerId(leader))
                                .with_replica_nodes(vec![BrokerId(0)])
                                .with_isr_nodes(vec![BrokerId(0)])
                        })
                        .collect(),
                ),
        );
    }
    MetadataResponse::default()
        .with_controller_id(BrokerId(0))
        .with_brokers(vec![MetadataResponseBroker::default()
            .with_node_id(BrokerId(0))
            .with_host(StrBytes::from_static_str("127.0.0.1"))
            .with_port(i32::from(port))])
        .with_topics(topics)
}

fn produce(state: &Mutex<State>, request: ProduceRequest) -> ProduceResponse {
    let mut s = state.lock().expect("state");
    s.produce_requests += 1;
    let mut responses = Vec::new();
    for topic in request.topic_data {
        let tname = topic.name.0.to_string();
        let mut parts = Vec::new();
        for p in topic.partition_data {
            let mut result = PartitionProduceResponse::default().with_index(p.index);
            if s.fail_produces > 0 {
                s.fail_produces -= 1;
                parts.push(result.with_error_code(6));
                continue;
            }
            let lose_ack = if s.lose_acks > 0 {
                s.lose_acks -= 1;
                true
            } else {
                false
            };
            let Some(log) = s
                .topics
                .get_mut(&tname)
                .and_then(|l| l.get_mut(p.index as usize))
            else {
                parts.push(result.with_error_code(3));
                continue;
            };
            let Some(records) = p.records else {
                continue;
            };
            let producer_id = i64::from_be_bytes(records[43..51].try_into().expect("pid"));
            let base_sequence = i32::from_be_bytes(records[53..57].try_into().expect("seq"));
            let count = i32::from_be_bytes(records[57..61].try_into().expect("count"));
            let epoch = i16::from_be_bytes(records[51..53].try_into().expect("epoch"));
            let last_seq = if base_sequence < 0 {
                base_sequence
            } else {
                ((i64::from(base_sequence) + i64::from(count) - 1) % (i64::from(i32::MAX) + 1))
                    as i32
            };
            if producer_id >= 0 && log.epochs.get(&producer_id) == Some(&epoch) {
                let recent = log.recent.get(&producer_id);
                if let Some((_, _, offset)) = recent.and_then(|r| {
                    r.iter()
                        .find(|(f, l, _)| *f == base_sequence && *l == last_seq)
                }) {
                    // A retry of one of the last five batches: acknowledge it again with its
                    // offset, write nothing (Kafka's duplicate detection).
                    result = result.with_base_offset(*offset);
                    parts.push(result);
                    continue;
                }
                // Kafka's `ProducerAppendInfo.checkSequence`: the next batch must follow on.
                let expected =
                    recent
                        .and_then(|r| r.back())
                        .map_or(0, |(_, l, _)| if *l == i32::MAX { 0 } else { l + 1 });
                if base_sequence >= 0 && base_sequence != expected {
                    parts.push(result.with_error_code(45)); // OUT_OF_ORDER_SEQUENCE_NUMBER
                    continue;
                }
            }
            let attributes = i16::from_be_bytes(records[21..23].try_into().expect("attributes"));
            if producer_id >= 0 {
                if log.epochs.get(&producer_id).is_some_and(|e| *e > epoch) {
                    parts.push(result.with_error_code(90)); // PRODUCER_FENCED
                    continue;
                }
                if log.epochs.get(&producer_id) != Some(&epoch) && base_sequence > 0 {
                    // A new producer (or epoch) starts at sequence 0.
                    parts.push(result.with_error_code(45));
                    continue;
                }
                if log.epochs.insert(producer_id, epoch) != Some(epoch) {
                    log.recent.remove(&producer_id);
                }
            }
            let base = log.next_offset;
            if attributes & 0x10 != 0 && producer_id >= 0 {
                log.open_txns.entry(producer_id).or_insert(base);
            }
            let mut patched = records.to_vec();
            patched[0..8].copy_from_slice(&base.to_be_bytes());
            log.batches.push((base, Bytes::from(patched)));
            log.next_offset += i64::from(count);
            if producer_id >= 0 {
                log.last_sequence.insert(producer_id, (base_sequence, base));
                let recent = log.recent.entry(producer_id).or_default();
                recent.push_back((base_sequence, last_seq, base));
                if recent.len() > 5 {
                    recent.pop_front();
                }
            }
            result = if lose_ack {
                result.with_error_code(7)
            } else {
                result.with_base_offset(base).with_log_append_time_ms(-1)
            };
            parts.push(result);
        }
        responses.push(
            TopicProduceResponse::default()
                .with_name(name(&tname))
                .with_partition_responses(parts),
        );
    }
    ProduceResponse::default().with_responses(responses)
}

fn list_offsets(state: &Mutex<State>, request: ListOffsetsRequest) -> ListOffsetsResponse {
    let mut s = state.lock().expect("state");
    s.list_offsets_requests += 1;
    let forced = s.list_offsets_errors.pop_front();
    let topics = request
        .topics
        .into_iter()
        .map(|t| {
            let log = s.topics.get(&t.name.0.to_string());
            let partitions = t
                .partitions
                .into_iter()
                .map(|p| {
                    let r = ListOffsetsPartitionResponse::default()
                        .with_partition_index(p.partition_index);
                    if let Some(code) = forced {
                        return r.with_error_code(code);
                    }
                    match log.and_then(|l| l.get(p.partition_index as usize)) {
                        Some(l) => r
                            .with_offset(if p.timestamp == -2 { 0 } else { l.next_offset })
                            .with_timestamp(-1),
                        None => r.with_error_code(3),
                    }
                })
                .collect();
            ListOffsetsTopicResponse::default()
                .with_name(t.name)
                .with_partitions(partitions)
        })
        .collect();
    ListOffsetsResponse::default().with_topics(topics)
}

fn fetch(state: &Mutex<State>, request: FetchRequest, truncate: bool) -> FetchResponse {
    let mut s = state.lock().expect("state");
    s.fetch_requests += 1;
    s.last_fetch = Some((
        request.max_wait_ms,
        request.min_bytes,
        request.max_bytes,
        request
            .topics
            .iter()
            .flat_map(|t| t.partitions.iter().map(|p| p.partition_max_bytes))
            .collect(),
    ));
    let isolation_level = request.isolation_level;
    // KIP-74: `max_bytes` for the whole response and `partition_max_bytes` per partition, each
    // allowing at least one whole batch (the first of the response) so a big batch never
    // stalls a consumer.
    let mut response_left = i64::from(request.max_bytes.max(0));
    let mut first_batch_of_response = true;
    let responses = request
        .topics
        .into_iter()
        .map(|t| {
            let log = s.topics.get(&t.topic.0.to_string());
            let partitions = t
                .partitions
                .into_iter()
                .map(|p| {
                    let r = PartitionData::default().with_partition_index(p.partition);
                    let Some(l) = log.and_then(|l| l.get(p.partition as usize)) else {
                        return r.with_error_code(3);
                    };
                    if p.fetch_offset > l.next_offset {
                        return r.with_error_code(1);
                    }
                    let read_committed = isolation_level == 1;
                    let lso = l.last_stable_offset();
                    let upper = if read_committed { lso } else { l.next_offset };
                    let mut data = BytesMut::new();
                    let mut partition_left = i64::from(p.partition_max_bytes.max(0));
                    // Batches are in offset order: skip straight to the first one needed.
                    let start = l.batches.partition_point(|(base, batch)| {
                        let delta = i32::from_be_bytes(batch[23..27].try_into().expect("delta"));
                        base + i64::from(delta) < p.fetch_offset
                    });
                    for (base, batch) in &l.batches[start..] {
                        if *base >= upper {
                            break;
                        }
                        let size = batch.len() as i64;
                        if !truncate
                            && !first_batch_of_response
                            && (size > partition_left || size > response_left)
                        {
                            break;
                        }
                        first_batch_of_response = false;
                        partition_left -= size;
                        response_left -= size;
                        data.extend_from_slice(batch);
                    }
                    if truncate {
                        data.truncate(p.partition_max_bytes.max(0) as usize);
                    }
                    let r = r
                        .with_high_watermark(l.next_offset)
                        .with_last_stable_offset(lso);
                    let r = if read_committed {
                        r.with_aborted_transactions(Some(
                            l.aborted
                                .iter()
                                .filter(|(_, first, last)| {
                                    *last >= p.fetch_offset && *first < upper
                                })
                                .map(|(pid, first, _)| {
                                    AbortedTransaction::default()
                                        .with_producer_id(ProducerId(*pid))
                                        .with_first_offset(*first)
                                })
                                .collect(),
                        ))
                    } else {
                        r
                    };
                    r.with_records(Some(data.freeze()))
                })
                .collect();
            FetchableTopicResponse::default()
                .with_topic(t.topic)
                .with_partitions(partitions)
        })
        .collect();
    FetchResponse::default().with_responses(responses)
}

fn encode<M: Encodable>(corr: i32, header_version: i16, body: &M, version: i16) -> Bytes {
    let mut buf = BytesMut::new();
    buf.put_i32(0);
    ResponseHeader::default()
        .with_correlation_id(corr)
        .encode(&mut buf, header_version)
        .expect("encode header");
    body.encode(&mut buf, version).expect("encode body");
    let len = (buf.len() - 4) as i32;
    buf[..4].copy_from_slice(&len.to_be_bytes());
    buf.freeze()
}

/// A one-node group coordinator, just enough for consumer tests: a join waits (up to
/// `JOIN_WAIT`) for every known member to rejoin, the lowest member id leads, heartbeats say
/// REBALANCE_IN_PROGRESS while a join is pending.
mod groups {
    use std::collections::BTreeMap;
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    use bytes::Bytes;
    use kafka_protocol::messages::{
        join_group_response::JoinGroupResponseMember,
        offset_commit_response::{OffsetCommitResponsePartition, OffsetCommitResponseTopic},
        offset_fetch_response::{OffsetFetchResponsePartition, OffsetFetchResponseTopic},
        HeartbeatRequest, HeartbeatResponse, JoinGroupRequest, JoinGroupResponse,
        LeaveGroupRequest, LeaveGroupResponse, OffsetCommitRequest, OffsetCommitResponse,
        OffsetFetchRequest, OffsetFetchResponse, SyncGroupRequest, SyncGroupResponse,
    };
    use kafka_protocol::protocol::StrBytes;

    use super::State;

    const JOIN_WAIT: Duration = Duration::from_millis(1500);

    #[derive(Default)]
    pub(super) struct Group {
        generation: i32,
        /// member id -> (protocol name, metadata) of the current generation
        members: BTreeMap<String, Vec<(String, Bytes)>>,
        joining: BTreeMap<String, Vec<(String, Bytes)>>,
        join_started: Option<Instant>,
        leader: String,
        protocol: String,
        assignments: Option<BTreeMap<String, Bytes>>,
        committed: BTreeMap<(String, i32), i64>,
    }

    #[derive(Default)]
    pub(super) struct Groups {
        groups: BTreeMap<String, Group>,
        next_member: u64,
        pub(super) join_member_ids: Vec<String>,
        pub(super) join_instance_ids: Vec<Option<String>>,
        pub(super) leaves: usize,
        /// (group, group.instance.id) -> the member id that instance has now (KIP-345).
        instances: BTreeMap<(String, String), String>,
        /// Member ids replaced by a newer member with the same group.instance.id: their
        /// heartbeats and commits are answered FENCED_INSTANCE_ID.
        fenced: std::collections::BTreeSet<String>,
    }

    impl Groups {
        /// Commits an offset (a transaction's, when its commit lands).
        pub(super) fn commit_offset(
            &mut self,
            group: &str,
            topic: &str,
            partition: i32,
            offset: i64,
        ) {
            self.groups
                .entry(group.to_string())
                .or_default()
                .committed
                .insert((topic.to_string(), partition), offset);
        }

        pub(super) fn committed(&self, group: &str, topic: &str, partition: i32) -> Option<i64> {
            self.groups
                .get(group)
                .and_then(|g| g.committed.get(&(topic.to_string(), partition)).copied())
        }
    }

    fn complete(g: &mut Group) {
        g.generation += 1;
        g.members = std::mem::take(&mut g.joining);
        g.join_started = None;
        g.leader = g.members.keys().next().cloned().unwrap_or_default();
        g.protocol = g
            .members
            .get(&g.leader)
            .and_then(|p| p.first())
            .map(|p| p.0.clone())
            .unwrap_or_default();
        g.assignments = None;
    }

    pub(super) async fn join(
        state: &Mutex<State>,
        request: JoinGroupRequest,
        version: i16,
    ) -> JoinGroupResponse {
        let group_id = request.group_id.0.to_string();
        let mut member_id = request.member_id.to_string();
        let protocols: Vec<(String, Bytes)> = request
            .protocols
            .iter()
            .map(|p| (p.name.to_string(), p.metadata.clone()))
            .collect();
        {
            let mut s = state.lock().expect("state");
            s.groups.join_member_ids.push(member_id.clone());
            s.groups
                .join_instance_ids
                .push(request.group_instance_id.as_ref().map(|i| i.to_string()));
            let instance = request.group_instance_id.as_ref().map(|i| i.to_string());
            if member_id.is_empty() {
                s.groups.next_member += 1;
                let id = format!("member-{}", s.groups.next_member);
                if let Some(instance) = instance {
                    // A static member joining without a member id takes its instance's place:
                    // the member that had it is fenced (Kafka's static member replacement,
                    // simplified to a rebalance without the old member).
                    let key = (group_id.clone(), instance);
                    if let Some(old) = s.groups.instances.insert(key, id.clone()) {
                        let g = s.groups.groups.entry(group_id.clone()).or_default();
                        g.members.remove(&old);
                        g.joining.remove(&old);
                        s.groups.fenced.insert(old);
                    }
                } else if version >= 4 {
                    return JoinGroupResponse::default()
                        .with_error_code(79)
                        .with_member_id(StrBytes::from_string(id));
                }
                member_id = id;
            }
            let g = s.groups.groups.entry(group_id.clone()).or_default();
            g.joining.insert(member_id.clone(), protocols);
            g.join_started.get_or_insert_with(Instant::now);
        }
        let waited_from = Instant::now();
        loop {
            {
                let mut s = state.lock().expect("state");
                let g = s.groups.groups.entry(group_id.clone()).or_default();
                if g.join_started.is_some() {
                    let all_in = g.members.keys().all(|m| g.joining.contains_key(m));
                    let expired = g.join_started.is_some_and(|t| t.elapsed() >= JOIN_WAIT);
                    if all_in || expired {
                        complete(g);
                    }
                }
                if g.join_started.is_none() || !g.joining.contains_key(&member_id) {
                    if !g.members.contains_key(&member_id) {
                        return JoinGroupResponse::default().with_error_code(25);
                    }
                    let mut r = JoinGroupResponse::default()
                        .with_generation_id(g.generation)
                        .with_protocol_name(Some(StrBytes::from_string(g.protocol.clone())))
                        .with_leader(StrBytes::from_string(g.leader.clone()))
                        .with_member_id(StrBytes::from_string(member_id.clone()));
                    if version >= 7 {
                        r = r.with_protocol_type(Some(StrBytes::from_static_str("consumer")));
                    }
                    if g.leader == member_id {
                        let protocol = g.protocol.clone();
                        r = r.with_members(
                            g.members
                                .iter()
                                .map(|(id, ps)| {
                                    let metadata = ps
                                        .iter()
                                        .find(|p| p.0 == protocol)
                                        .map(|p| p.1.clone())
                                        .unwrap_or_default();
                                    JoinGroupResponseMember::default()
                                        .with_member_id(StrBytes::from_string(id.clone()))
                                        .with_metadata(metadata)
                                })
                                .collect(),
                        );
                    }
                    return r;
                }
            }
            if waited_from.elapsed() > JOIN_WAIT * 4 {
                return JoinGroupResponse::default().with_error_code(27);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub(super) async fn sync(state: &Mutex<State>, request: SyncGroupRequest) -> SyncGroupResponse {
        let group_id = request.group_id.0.to_string();
        let member_id = request.member_id.to_string();
        let waited_from = Instant::now();
        loop {
            {
                let mut s = state.lock().expect("state");
                let g = s.groups.groups.entry(group_id.clone()).or_default();
                if !g.members.contains_key(&member_id) {
                    return SyncGroupResponse::default().with_error_code(25);
                }
                if request.generation_id != g.generation {
                    return SyncGroupResponse::default().with_error_code(22);
                }
                if g.join_started.is_some() {
                    return SyncGroupResponse::default().with_error_code(27);
                }
                if member_id == g.leader && g.assignments.is_none() {
                    g.assignments = Some(
                        request
                            .assignments
                            .iter()
                            .map(|a| (a.member_id.to_string(), a.assignment.clone()))
                            .collect(),
                    );
                }
                if let Some(a) = &g.assignments {
                    let assignment = a.get(&member_id).cloned().unwrap_or_default();
                    return SyncGroupResponse::default()
                        .with_protocol_name(Some(StrBytes::from_string(g.protocol.clone())))
                        .with_assignment(assignment);
                }
            }
            if waited_from.elapsed() > JOIN_WAIT * 4 {
                return SyncGroupResponse::default().with_error_code(27);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub(super) fn heartbeat(state: &Mutex<State>, request: HeartbeatRequest) -> HeartbeatResponse {
        let mut s = state.lock().expect("state");
        let fenced = s.groups.fenced.contains(request.member_id.as_str());
        let g = s
            .groups
            .groups
            .entry(request.group_id.0.to_string())
            .or_default();
        let code = if fenced {
            82
        } else if !g.members.contains_key(request.member_id.as_str()) {
            25
        } else if g.join_started.is_some() {
            27
        } else if request.generation_id != g.generation {
            22
        } else {
            0
        };
        HeartbeatResponse::default().with_error_code(code)
    }

    pub(super) fn leave(state: &Mutex<State>, request: LeaveGroupRequest) -> LeaveGroupResponse {
        let mut s = state.lock().expect("state");
        s.groups.leaves += 1;
        let g = s
            .groups
            .groups
            .entry(request.group_id.0.to_string())
            .or_default();
        let mut ids: Vec<String> = request
            .members
            .iter()
            .map(|m| m.member_id.to_string())
            .collect();
        if !request.member_id.is_empty() {
            ids.push(request.member_id.to_string());
        }
        for id in ids {
            g.members.remove(&id);
            g.joining.remove(&id);
        }
        if !g.members.is_empty() {
            g.join_started.get_or_insert_with(Instant::now);
        }
        LeaveGroupResponse::default()
    }

    pub(super) fn commit(
        state: &Mutex<State>,
        request: OffsetCommitRequest,
    ) -> OffsetCommitResponse {
        let mut s = state.lock().expect("state");
        s.commit_requests += 1;
        let forced = s.commit_errors.pop_front();
        let fenced = s.groups.fenced.contains(request.member_id.as_str());
        let g = s
            .groups
            .groups
            .entry(request.group_id.0.to_string())
            .or_default();
        let code = if let Some(code) = forced {
            code
        } else if fenced {
            82
        } else if request.generation_id_or_member_epoch >= 0
            && request.generation_id_or_member_epoch != g.generation
        {
            22
        } else {
            0
        };
        let topics = request
            .topics
            .into_iter()
            .map(|t| {
                let name = t.name.0.to_string();
                let partitions = t
                    .partitions
                    .into_iter()
                    .map(|p| {
                        if code == 0 {
                            g.committed
                                .insert((name.clone(), p.partition_index), p.committed_offset);
                        }
                        OffsetCommitResponsePartition::default()
                            .with_partition_index(p.partition_index)
                            .with_error_code(code)
                    })
                    .collect();
                OffsetCommitResponseTopic::default()
                    .with_name(t.name)
                    .with_partitions(partitions)
            })
            .collect();
        OffsetCommitResponse::default().with_topics(topics)
    }

    pub(super) fn fetch_offsets(
        state: &Mutex<State>,
        request: OffsetFetchRequest,
    ) -> OffsetFetchResponse {
        let mut s = state.lock().expect("state");
        let g = s
            .groups
            .groups
            .entry(request.group_id.0.to_string())
            .or_default();
        let topics = request
            .topics
            .unwrap_or_default()
            .into_iter()
            .map(|t| {
                let name = t.name.0.to_string();
                let partitions = t
                    .partition_indexes
                    .iter()
                    .map(|p| {
                        OffsetFetchResponsePartition::default()
                            .with_partition_index(*p)
                            .with_committed_offset(
                                g.committed.get(&(name.clone(), *p)).copied().unwrap_or(-1),
                            )
                            .with_metadata(Some(StrBytes::from_static_str("")))
                    })
                    .collect();
                OffsetFetchResponseTopic::default()
                    .with_name(t.name)
                    .with_partitions(partitions)
            })
            .collect();
        OffsetFetchResponse::default().with_topics(topics)
    }
}
