//! A one-node transaction coordinator, just enough for the transactional producer's and
//! read_committed consumer's tests: InitProducerId with a transactional id (same producer id,
//! epoch bumped, an ongoing transaction of the previous producer aborted), AddPartitionsToTxn
//! (v3 and below), AddOffsetsToTxn, TxnOffsetCommit (offsets kept pending until the commit),
//! EndTxn writing COMMIT / ABORT markers into every partition of the transaction, and the
//! last stable offset and aborted transactions a read_committed Fetch needs. Older epochs are
//! answered PRODUCER_FENCED. Switches make it answer COORDINATOR_LOAD_IN_PROGRESS,
//! CONCURRENT_TRANSACTIONS and NOT_COORDINATOR a number of times. Also the admin side
//! (ListTransactions, DescribeTransactions, DescribeProducers, WriteTxnMarkers).

use std::collections::BTreeMap;
use std::sync::Mutex;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{
    add_partitions_to_txn_response::{
        AddPartitionsToTxnPartitionResult, AddPartitionsToTxnTopicResult,
    },
    describe_producers_response::{
        PartitionResponse as ProducersPartition, ProducerState, TopicResponse as ProducersTopic,
    },
    describe_transactions_response::{TopicData, TransactionState},
    list_transactions_response::TransactionState as ListedTransaction,
    txn_offset_commit_response::{TxnOffsetCommitResponsePartition, TxnOffsetCommitResponseTopic},
    write_txn_markers_response::{
        WritableTxnMarkerPartitionResult, WritableTxnMarkerResult, WritableTxnMarkerTopicResult,
    },
    AddOffsetsToTxnRequest, AddOffsetsToTxnResponse, AddPartitionsToTxnRequest,
    AddPartitionsToTxnResponse, DescribeProducersRequest, DescribeProducersResponse,
    DescribeTransactionsRequest, DescribeTransactionsResponse, EndTxnRequest, EndTxnResponse,
    InitProducerIdRequest, InitProducerIdResponse, ListTransactionsRequest,
    ListTransactionsResponse, ProducerId, TransactionalId, TxnOffsetCommitRequest,
    TxnOffsetCommitResponse, WriteTxnMarkersRequest, WriteTxnMarkersResponse,
};
use kafka_protocol::protocol::StrBytes;

use super::{name, PartitionLog, State};

const PRODUCER_FENCED: i16 = 90;
const COORDINATOR_LOAD_IN_PROGRESS: i16 = 14;
const NOT_COORDINATOR: i16 = 16;
const CONCURRENT_TRANSACTIONS: i16 = 51;
const INVALID_TXN_STATE: i16 = 48;
const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;
const TRANSACTIONAL_ID_NOT_FOUND: i16 = 105;

/// One transactional id's coordinator state.
#[derive(Debug, Clone, Default)]
pub(super) struct Txn {
    pub producer_id: i64,
    pub epoch: i16,
    pub timeout_ms: i32,
    /// "Empty", "Ongoing", "CompleteCommit", "CompleteAbort".
    pub state: &'static str,
    pub partitions: Vec<(String, i32)>,
    pub start_ms: i64,
    /// (group, topic, partition, offset) waiting for the commit.
    pub pending_offsets: Vec<(String, String, i32, i64)>,
}

/// Counters of the misbehaviour switches and the transactional state.
#[derive(Default)]
pub(super) struct Txns {
    pub by_id: BTreeMap<String, Txn>,
    pub load_in_progress: usize,
    pub concurrent: usize,
    pub not_coordinator: usize,
    /// The transactional API calls received, in order ("AddPartitionsToTxn", "EndTxn(true)"...).
    pub calls: Vec<String>,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// An end transaction marker as a v2 control batch (attributes 0x30, base sequence -1).
pub(super) fn marker_batch(
    offset: i64,
    producer_id: i64,
    epoch: i16,
    commit: bool,
    coordinator_epoch: i32,
) -> Bytes {
    let mut record = BytesMut::new();
    record.put_i8(0); // attributes
    record.put_i8(0); // timestamp delta (varint 0)
    record.put_i8(0); // offset delta
    record.put_i8(8); // key length 4 (zig-zag)
    record.put_i16(0);
    record.put_i16(i16::from(commit));
    record.put_i8(12); // value length 6
    record.put_i16(0);
    record.put_i32(coordinator_epoch);
    record.put_i8(0); // no headers
    let mut out = BytesMut::new();
    out.put_i64(offset);
    out.put_i32((61 - 12 + 1 + record.len()) as i32);
    out.put_i32(0); // leader epoch
    out.put_i8(2);
    out.put_u32(0);
    out.put_i16(0x30);
    out.put_i32(0); // last offset delta
    let now = now_ms();
    out.put_i64(now);
    out.put_i64(now);
    out.put_i64(producer_id);
    out.put_i16(epoch);
    out.put_i32(-1);
    out.put_i32(1);
    out.put_i8((record.len() as i8) << 1); // record length varint (small)
    out.extend_from_slice(&record);
    let crc = crc32c::crc32c(&out[21..]);
    out[17..21].copy_from_slice(&crc.to_be_bytes());
    out.freeze()
}

/// Writes the marker into a partition and ends the producer's open transaction there.
pub(super) fn write_marker(
    log: &mut PartitionLog,
    producer_id: i64,
    epoch: i16,
    commit: bool,
    coordinator_epoch: i32,
) {
    let offset = log.next_offset;
    log.batches.push((
        offset,
        marker_batch(offset, producer_id, epoch, commit, coordinator_epoch),
    ));
    log.next_offset += 1;
    if let Some(first) = log.open_txns.remove(&producer_id) {
        if !commit {
            log.aborted.push((producer_id, first, offset));
        }
    }
}

/// Ends a transaction: markers into its partitions, pending offsets materialised on commit.
fn complete(s: &mut State, txn_id: &str, commit: bool) {
    let Some(txn) = s.txns.by_id.get_mut(txn_id) else {
        return;
    };
    let partitions = std::mem::take(&mut txn.partitions);
    let offsets = std::mem::take(&mut txn.pending_offsets);
    let (pid, epoch) = (txn.producer_id, txn.epoch);
    txn.state = if commit {
        "CompleteCommit"
    } else {
        "CompleteAbort"
    };
    for (topic, partition) in partitions {
        if let Some(log) = s
            .topics
            .get_mut(&topic)
            .and_then(|l| l.get_mut(partition as usize))
        {
            write_marker(log, pid, epoch, commit, 0);
        }
    }
    if commit {
        for (group, topic, partition, offset) in offsets {
            s.groups.commit_offset(&group, &topic, partition, offset);
        }
    }
}

fn take(counter: &mut usize) -> bool {
    if *counter > 0 {
        *counter -= 1;
        true
    } else {
        false
    }
}

pub(super) fn init_producer_id(
    state: &Mutex<State>,
    request: InitProducerIdRequest,
) -> InitProducerIdResponse {
    let mut s = state.lock().expect("state");
    let Some(txn_id) = request.transactional_id.map(|t| t.0.to_string()) else {
        s.next_producer_id += 1;
        return InitProducerIdResponse::default()
            .with_producer_id(ProducerId(s.next_producer_id))
            .with_producer_epoch(0);
    };
    s.txns.calls.push("InitProducerId".to_string());
    if take(&mut s.txns.load_in_progress) {
        return InitProducerIdResponse::default()
            .with_error_code(COORDINATOR_LOAD_IN_PROGRESS)
            .with_producer_id(ProducerId(-1))
            .with_producer_epoch(-1);
    }
    if s.txns
        .by_id
        .get(&txn_id)
        .is_some_and(|t| t.state == "Ongoing")
    {
        // The previous producer's transaction is aborted before the epoch moves on.
        if let Some(t) = s.txns.by_id.get_mut(&txn_id) {
            t.epoch += 1;
        }
        complete(&mut s, &txn_id, false);
    }
    let next_id = s.next_producer_id + 1;
    let txn = s.txns.by_id.entry(txn_id).or_insert_with(|| Txn {
        producer_id: next_id,
        epoch: -1,
        state: "Empty",
        ..Default::default()
    });
    txn.epoch += 1;
    txn.timeout_ms = request.transaction_timeout_ms;
    txn.state = "Empty";
    let (pid, epoch) = (txn.producer_id, txn.epoch);
    if pid == next_id {
        s.next_producer_id = next_id;
    }
    InitProducerIdResponse::default()
        .with_producer_id(ProducerId(pid))
        .with_producer_epoch(epoch)
}

/// The error for a request of `(txn_id, pid, epoch)`: unknown id, fenced epoch, or 0.
fn check_producer(s: &State, txn_id: &str, pid: i64, epoch: i16) -> i16 {
    match s.txns.by_id.get(txn_id) {
        None => INVALID_TXN_STATE,
        Some(t) if t.producer_id != pid => INVALID_TXN_STATE,
        Some(t) if t.epoch != epoch => PRODUCER_FENCED,
        Some(_) => 0,
    }
}

fn begin(t: &mut Txn) {
    if t.state != "Ongoing" {
        t.state = "Ongoing";
        t.start_ms = now_ms();
    }
}

pub(super) fn add_partitions(
    state: &Mutex<State>,
    request: AddPartitionsToTxnRequest,
) -> AddPartitionsToTxnResponse {
    let mut s = state.lock().expect("state");
    s.txns.calls.push("AddPartitionsToTxn".to_string());
    let txn_id = request.v3_and_below_transactional_id.0.to_string();
    let mut code = check_producer(
        &s,
        &txn_id,
        request.v3_and_below_producer_id.0,
        request.v3_and_below_producer_epoch,
    );
    if code == 0 && take(&mut s.txns.concurrent) {
        code = CONCURRENT_TRANSACTIONS;
    }
    let mut results = Vec::new();
    for topic in &request.v3_and_below_topics {
        let tname = topic.name.0.to_string();
        let mut parts = Vec::new();
        for &p in &topic.partitions {
            let exists = s.topics.get(&tname).is_some_and(|l| (p as usize) < l.len());
            let c = if code != 0 {
                code
            } else if !exists {
                UNKNOWN_TOPIC_OR_PARTITION
            } else {
                0
            };
            parts.push(
                AddPartitionsToTxnPartitionResult::default()
                    .with_partition_index(p)
                    .with_partition_error_code(c),
            );
            if c == 0 {
                if let Some(t) = s.txns.by_id.get_mut(&txn_id) {
                    begin(t);
                    if !t.partitions.contains(&(tname.clone(), p)) {
                        t.partitions.push((tname.clone(), p));
                    }
                }
            }
        }
        results.push(
            AddPartitionsToTxnTopicResult::default()
                .with_name(topic.name.clone())
                .with_results_by_partition(parts),
        );
    }
    AddPartitionsToTxnResponse::default().with_results_by_topic_v3_and_below(results)
}

pub(super) fn add_offsets(
    state: &Mutex<State>,
    request: AddOffsetsToTxnRequest,
) -> AddOffsetsToTxnResponse {
    let mut s = state.lock().expect("state");
    s.txns.calls.push("AddOffsetsToTxn".to_string());
    let txn_id = request.transactional_id.0.to_string();
    let code = check_producer(&s, &txn_id, request.producer_id.0, request.producer_epoch);
    if code == 0 {
        if let Some(t) = s.txns.by_id.get_mut(&txn_id) {
            begin(t);
        }
    }
    AddOffsetsToTxnResponse::default().with_error_code(code)
}

pub(super) fn txn_offset_commit(
    state: &Mutex<State>,
    request: TxnOffsetCommitRequest,
) -> TxnOffsetCommitResponse {
    let mut s = state.lock().expect("state");
    s.txns.calls.push("TxnOffsetCommit".to_string());
    let txn_id = request.transactional_id.0.to_string();
    let code = check_producer(&s, &txn_id, request.producer_id.0, request.producer_epoch);
    let group = request.group_id.0.to_string();
    let mut topics = Vec::new();
    for t in request.topics {
        let tname = t.name.0.to_string();
        let mut parts = Vec::new();
        for p in t.partitions {
            if code == 0 {
                if let Some(txn) = s.txns.by_id.get_mut(&txn_id) {
                    txn.pending_offsets.push((
                        group.clone(),
                        tname.clone(),
                        p.partition_index,
                        p.committed_offset,
                    ));
                }
            }
            parts.push(
                TxnOffsetCommitResponsePartition::default()
                    .with_partition_index(p.partition_index)
                    .with_error_code(code),
            );
        }
        topics.push(
            TxnOffsetCommitResponseTopic::default()
                .with_name(t.name)
                .with_partitions(parts),
        );
    }
    TxnOffsetCommitResponse::default().with_topics(topics)
}

pub(super) fn end_txn(state: &Mutex<State>, request: EndTxnRequest) -> EndTxnResponse {
    let mut s = state.lock().expect("state");
    s.txns.calls.push(format!("EndTxn({})", request.committed));
    if take(&mut s.txns.not_coordinator) {
        return EndTxnResponse::default().with_error_code(NOT_COORDINATOR);
    }
    let txn_id = request.transactional_id.0.to_string();
    let mut code = check_producer(&s, &txn_id, request.producer_id.0, request.producer_epoch);
    if code == 0
        && s.txns
            .by_id
            .get(&txn_id)
            .is_some_and(|t| t.state != "Ongoing")
    {
        code = INVALID_TXN_STATE;
    }
    if code == 0 {
        complete(&mut s, &txn_id, request.committed);
    }
    EndTxnResponse::default().with_error_code(code)
}

pub(super) fn list_transactions(
    state: &Mutex<State>,
    request: ListTransactionsRequest,
) -> ListTransactionsResponse {
    let s = state.lock().expect("state");
    let states: Vec<String> = request
        .state_filters
        .iter()
        .map(|f| f.to_string())
        .collect();
    let pids: Vec<i64> = request.producer_id_filters.iter().map(|p| p.0).collect();
    let listed = s
        .txns
        .by_id
        .iter()
        .filter(|(_, t)| states.is_empty() || states.iter().any(|f| f == t.state))
        .filter(|(_, t)| pids.is_empty() || pids.contains(&t.producer_id))
        .map(|(id, t)| {
            ListedTransaction::default()
                .with_transactional_id(TransactionalId(StrBytes::from_string(id.clone())))
                .with_producer_id(ProducerId(t.producer_id))
                .with_transaction_state(StrBytes::from_static_str(t.state))
        })
        .collect();
    ListTransactionsResponse::default().with_transaction_states(listed)
}

pub(super) fn describe_transactions(
    state: &Mutex<State>,
    request: DescribeTransactionsRequest,
) -> DescribeTransactionsResponse {
    let s = state.lock().expect("state");
    let states = request
        .transactional_ids
        .into_iter()
        .map(|id| {
            let r = TransactionState::default().with_transactional_id(id.clone());
            let Some(t) = s.txns.by_id.get(id.0.as_str()) else {
                return r.with_error_code(TRANSACTIONAL_ID_NOT_FOUND);
            };
            let mut topics: Vec<TopicData> = Vec::new();
            for (topic, p) in &t.partitions {
                match topics.iter_mut().find(|d| d.topic.0.as_str() == topic) {
                    Some(d) => d.partitions.push(*p),
                    None => topics.push(
                        TopicData::default()
                            .with_topic(name(topic))
                            .with_partitions(vec![*p]),
                    ),
                }
            }
            r.with_transaction_state(StrBytes::from_static_str(t.state))
                .with_transaction_timeout_ms(t.timeout_ms)
                .with_transaction_start_time_ms(if t.state == "Ongoing" { t.start_ms } else { -1 })
                .with_producer_id(ProducerId(t.producer_id))
                .with_producer_epoch(t.epoch)
                .with_topics(topics)
        })
        .collect();
    DescribeTransactionsResponse::default().with_transaction_states(states)
}

pub(super) fn describe_producers(
    state: &Mutex<State>,
    request: DescribeProducersRequest,
) -> DescribeProducersResponse {
    let s = state.lock().expect("state");
    let topics = request
        .topics
        .into_iter()
        .map(|t| {
            let log = s.topics.get(t.name.0.as_str());
            let partitions = t
                .partition_indexes
                .into_iter()
                .map(|p| {
                    let r = ProducersPartition::default().with_partition_index(p);
                    let Some(l) = log.and_then(|l| l.get(p as usize)) else {
                        return r.with_error_code(UNKNOWN_TOPIC_OR_PARTITION);
                    };
                    let producers = l
                        .last_sequence
                        .iter()
                        .map(|(pid, (seq, _))| {
                            ProducerState::default()
                                .with_producer_id(ProducerId(*pid))
                                .with_producer_epoch(i32::from(
                                    l.epochs.get(pid).copied().unwrap_or(0),
                                ))
                                .with_last_sequence(*seq)
                                .with_last_timestamp(-1)
                                .with_coordinator_epoch(-1)
                                .with_current_txn_start_offset(
                                    l.open_txns.get(pid).copied().unwrap_or(-1),
                                )
                        })
                        .collect();
                    r.with_active_producers(producers)
                })
                .collect();
            ProducersTopic::default()
                .with_name(t.name)
                .with_partitions(partitions)
        })
        .collect();
    DescribeProducersResponse::default().with_topics(topics)
}

pub(super) fn write_txn_markers(
    state: &Mutex<State>,
    request: WriteTxnMarkersRequest,
) -> WriteTxnMarkersResponse {
    let mut s = state.lock().expect("state");
    s.txns.calls.push("WriteTxnMarkers".to_string());
    let markers = request
        .markers
        .into_iter()
        .map(|m| {
            let topics = m
                .topics
                .into_iter()
                .map(|t| {
                    let tname = t.name.0.to_string();
                    let parts = t
                        .partition_indexes
                        .into_iter()
                        .map(|p| {
                            let code = match s
                                .topics
                                .get_mut(&tname)
                                .and_then(|l| l.get_mut(p as usize))
                            {
                                Some(log) => {
                                    write_marker(
                                        log,
                                        m.producer_id.0,
                                        m.producer_epoch,
                                        m.transaction_result,
                                        m.coordinator_epoch,
                                    );
                                    0
                                }
                                None => UNKNOWN_TOPIC_OR_PARTITION,
                            };
                            WritableTxnMarkerPartitionResult::default()
                                .with_partition_index(p)
                                .with_error_code(code)
                        })
                        .collect();
                    WritableTxnMarkerTopicResult::default()
                        .with_name(t.name)
                        .with_partitions(parts)
                })
                .collect();
            WritableTxnMarkerResult::default()
                .with_producer_id(m.producer_id)
                .with_topics(topics)
        })
        .collect();
    WriteTxnMarkersResponse::default().with_markers(markers)
}
