//! The transaction coordinator (`crate::txn`) on a test broker whose markers to its own
//! partitions go to the WriteTxnMarkers handler in process, as a running broker's do: commit and abort write markers and complete, a new producer fences the
//! old one and aborts its transaction, timed-out transactions are aborted with a bumped epoch,
//! state survives a reload from `__transaction_state`, and the handlers answer Kafka's codes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::errors::ErrorCode;
use kafka_protocol::messages::add_partitions_to_txn_request::{
    AddPartitionsToTxnTopic, AddPartitionsToTxnTransaction,
};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;

use super::error_answers::{create_topic, produce_request};
use crate::broker::{start_for_test, Broker};
use crate::log::testutil::{self, BatchSpec};
use crate::txn::TxnState;

const WAIT: Duration = Duration::from_secs(20);

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

/// `__transaction_state` created and the partition of `id` loaded, as the first FindCoordinator
/// and the coordinator's ticker would.
async fn coordinator_ready(broker: &Arc<Broker>, id: &str) {
    super::set_local_marker_writer(broker);
    crate::txn::ensure_transaction_topic(&broker.cluster, &broker.partitions, &broker.config).await;
    let deadline = Instant::now() + WAIT;
    while broker.txn.check(id) != 0 {
        assert!(Instant::now() < deadline, "{id}: coordinator never loaded");
        crate::txn::sync_partitions(
            &broker.txn,
            &broker.partitions,
            &broker.cluster,
            &broker.config,
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn wait_for_state(broker: &Arc<Broker>, id: &str, state: TxnState) {
    let deadline = Instant::now() + WAIT;
    loop {
        let now = broker.txn.describe(id).map(|d| d.state);
        if now == Ok(state) {
            return;
        }
        assert!(Instant::now() < deadline, "{id}: {now:?}, want {state:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn init(broker: &Arc<Broker>, id: &str, timeout_ms: i32) -> Result<(i64, i16), i16> {
    let reserved = broker.next_producer_id().await.unwrap().get();
    broker
        .txn
        .init_producer_id(id, timeout_ms, (-1, -1), || Some(reserved))
        .await
}

/// InitProducerId retried while the coordinator answers CONCURRENT_TRANSACTIONS, as clients do.
async fn init_retrying(broker: &Arc<Broker>, id: &str) -> (i64, i16) {
    let deadline = Instant::now() + WAIT;
    loop {
        match init(broker, id, 60_000).await {
            Ok(r) => return r,
            Err(code) if code == ErrorCode::ConcurrentTransactions.code() => {
                assert!(Instant::now() < deadline, "{id}: still concurrent");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Err(code) => panic!("{id}: InitProducerId failed with {code}"),
        }
    }
}

async fn produce(broker: &Arc<Broker>, id: &str, pid: i64, epoch: i16, seq: i32, n: usize) -> i16 {
    let records = testutil::batch_with(&BatchSpec {
        records: n,
        producer_id: pid,
        producer_epoch: epoch,
        base_sequence: seq,
        transactional: true,
        ..BatchSpec::default()
    });
    let request =
        produce_request("t", 0, records).with_transactional_id(Some(TransactionalId(s(id))));
    let response = super::produce::handle(broker, request, 9).await;
    response.responses[0].partition_responses[0].error_code
}

fn data_log(broker: &Arc<Broker>) -> Arc<crate::log::DurableLog> {
    broker.partitions.get("t", 0).expect("hosted").log.clone()
}

fn t0() -> Vec<(String, i32)> {
    vec![("t".to_string(), 0)]
}

/// A new transactional id needs a producer id: without one at hand the coordinator answers
/// COORDINATOR_LOAD_IN_PROGRESS and records nothing; an existing id's epoch bump needs none.
#[tokio::test]
async fn without_a_producer_id_at_hand_init_is_retriable_and_changes_nothing() {
    let (broker, _guard) = start_for_test().await;
    coordinator_ready(&broker, "tx").await;
    let none = broker
        .txn
        .init_producer_id("tx", 60_000, (-1, -1), || None)
        .await;
    assert_eq!(none, Err(ErrorCode::CoordinatorLoadInProgress.code()));
    assert!(broker.txn.describe("tx").is_err(), "nothing recorded");
    let (pid, epoch) = init(&broker, "tx", 60_000).await.unwrap();
    assert_eq!(epoch, 0);
    let bumped = broker
        .txn
        .init_producer_id("tx", 60_000, (-1, -1), || None)
        .await;
    assert_eq!(bumped, Ok((pid, 1)));
}

#[tokio::test]
async fn commit_writes_the_markers_then_completes() {
    let (broker, _guard) = start_for_test().await;
    create_topic(&broker, "t").await;
    coordinator_ready(&broker, "tx").await;
    let (pid, epoch) = init(&broker, "tx", 60_000).await.unwrap();
    assert_eq!(epoch, 0);
    broker
        .txn
        .add_partitions("tx", pid, epoch, &t0())
        .await
        .unwrap();
    assert_eq!(broker.txn.describe("tx").unwrap().state, TxnState::Ongoing);
    assert_eq!(produce(&broker, "tx", pid, epoch, 0, 2).await, 0);
    let log = data_log(&broker);
    assert_eq!(
        log.last_stable_offset(),
        0,
        "the open transaction holds the LSO"
    );
    broker
        .txn
        .end_transaction("tx", pid, epoch, true)
        .await
        .unwrap();
    wait_for_state(&broker, "tx", TxnState::CompleteCommit).await;
    // Two records and the commit marker; nothing open any more.
    assert_eq!(log.log_end_offset(), 3);
    assert_eq!(log.last_stable_offset(), 3);
    let d = broker.txn.describe("tx").unwrap();
    assert!(d.partitions.is_empty());
    assert_eq!((d.producer_id, d.producer_epoch), (pid, epoch));
    // A retried EndTxn of the same outcome is answered NONE; the other outcome is refused.
    assert_eq!(
        broker.txn.end_transaction("tx", pid, epoch, true).await,
        Ok(())
    );
    assert_eq!(
        broker.txn.end_transaction("tx", pid, epoch, false).await,
        Err(ErrorCode::InvalidTxnState.code())
    );
    // The next transaction of the same producer aborts: markers again, then CompleteAbort.
    broker
        .txn
        .add_partitions("tx", pid, epoch, &t0())
        .await
        .unwrap();
    assert_eq!(produce(&broker, "tx", pid, epoch, 2, 1).await, 0);
    broker
        .txn
        .end_transaction("tx", pid, epoch, false)
        .await
        .unwrap();
    wait_for_state(&broker, "tx", TxnState::CompleteAbort).await;
    assert_eq!(log.last_stable_offset(), log.log_end_offset());
}

#[tokio::test]
async fn a_new_producer_fences_the_old_one_and_aborts_its_transaction() {
    let (broker, _guard) = start_for_test().await;
    create_topic(&broker, "t").await;
    coordinator_ready(&broker, "tx").await;
    let (pid, old) = init(&broker, "tx", 60_000).await.unwrap();
    broker
        .txn
        .add_partitions("tx", pid, old, &t0())
        .await
        .unwrap();
    assert_eq!(produce(&broker, "tx", pid, old, 0, 3).await, 0);
    // The first answer is CONCURRENT_TRANSACTIONS while the open transaction is aborted.
    assert_eq!(
        init(&broker, "tx", 60_000).await,
        Err(ErrorCode::ConcurrentTransactions.code())
    );
    let (pid2, new) = init_retrying(&broker, "tx").await;
    assert_eq!(
        (pid2, new),
        (pid, old + 2),
        "bumped by the abort and by the init"
    );
    let log = data_log(&broker);
    assert_eq!(log.last_stable_offset(), log.log_end_offset(), "aborted");
    // The zombie is fenced everywhere.
    let fenced = Err(ErrorCode::ProducerFenced.code());
    assert_eq!(
        broker.txn.end_transaction("tx", pid, old, true).await,
        fenced
    );
    assert_eq!(
        broker.txn.add_partitions("tx", pid, old, &t0()).await,
        fenced
    );
    assert_ne!(produce(&broker, "tx", pid, old, 3, 1).await, 0);
    // The new producer works.
    broker
        .txn
        .add_partitions("tx", pid, new, &t0())
        .await
        .unwrap();
    assert_eq!(produce(&broker, "tx", pid, new, 0, 1).await, 0);
    broker
        .txn
        .end_transaction("tx", pid, new, true)
        .await
        .unwrap();
    wait_for_state(&broker, "tx", TxnState::CompleteCommit).await;
}

#[tokio::test]
async fn a_transaction_past_its_timeout_is_aborted_with_a_bumped_epoch() {
    let (broker, _guard) = start_for_test().await;
    create_topic(&broker, "t").await;
    coordinator_ready(&broker, "tx").await;
    let (pid, epoch) = init(&broker, "tx", 1).await.unwrap();
    broker
        .txn
        .add_partitions("tx", pid, epoch, &t0())
        .await
        .unwrap();
    assert_eq!(produce(&broker, "tx", pid, epoch, 0, 2).await, 0);
    let deadline = Instant::now() + WAIT;
    while broker
        .txn
        .abort_timed_out(|| broker.try_next_producer_id().map(|id| id.get()))
        .await
        == 0
    {
        assert!(Instant::now() < deadline, "never timed out");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    wait_for_state(&broker, "tx", TxnState::CompleteAbort).await;
    assert_eq!(broker.txn.describe("tx").unwrap().producer_epoch, epoch + 1);
    let log = data_log(&broker);
    assert_eq!(log.last_stable_offset(), log.log_end_offset());
    assert_eq!(
        broker.txn.end_transaction("tx", pid, epoch, true).await,
        Err(ErrorCode::ProducerFenced.code())
    );
}

#[tokio::test]
async fn the_state_is_loaded_back_from_the_transaction_log() {
    let (broker, _guard) = start_for_test().await;
    create_topic(&broker, "t").await;
    coordinator_ready(&broker, "tx").await;
    coordinator_ready(&broker, "done").await;
    let (pid, epoch) = init(&broker, "tx", 60_000).await.unwrap();
    broker
        .txn
        .add_partitions("tx", pid, epoch, &t0())
        .await
        .unwrap();
    let (pid_done, epoch_done) = init(&broker, "done", 60_000).await.unwrap();
    broker
        .txn
        .add_partitions("done", pid_done, epoch_done, &t0())
        .await
        .unwrap();
    broker
        .txn
        .end_transaction("done", pid_done, epoch_done, true)
        .await
        .unwrap();
    wait_for_state(&broker, "done", TxnState::CompleteCommit).await;
    let before = broker.txn.describe("tx").unwrap();

    broker.txn.unload_all_for_test();
    assert_eq!(broker.txn.check("tx"), ErrorCode::NotCoordinator.code());
    coordinator_ready(&broker, "tx").await;
    coordinator_ready(&broker, "done").await;
    assert_eq!(broker.txn.describe("tx").unwrap(), before);
    assert_eq!(
        broker.txn.describe("done").unwrap().state,
        TxnState::CompleteCommit
    );
    broker
        .txn
        .end_transaction("tx", pid, epoch, true)
        .await
        .unwrap();
    wait_for_state(&broker, "tx", TxnState::CompleteCommit).await;
}

#[tokio::test]
async fn requests_get_kafkas_error_codes() {
    let (broker, _guard) = start_for_test().await;
    create_topic(&broker, "t").await;
    coordinator_ready(&broker, "tx").await;
    let timeout = Err(ErrorCode::InvalidTransactionTimeout.code());
    assert_eq!(init(&broker, "tx", 0).await, timeout);
    assert_eq!(init(&broker, "tx", 900_001).await, timeout);
    assert_eq!(
        broker.txn.add_partitions("unknown", 1, 0, &t0()).await,
        Err(ErrorCode::InvalidProducerIdMapping.code())
    );
    let (pid, epoch) = init(&broker, "tx", 60_000).await.unwrap();
    assert_eq!(
        broker.txn.add_partitions("tx", pid + 1, epoch, &t0()).await,
        Err(ErrorCode::InvalidProducerIdMapping.code())
    );
    assert_eq!(
        broker.txn.end_transaction("tx", pid, epoch, true).await,
        Err(ErrorCode::InvalidTxnState.code()),
        "nothing to end"
    );
    assert_eq!(
        broker.txn.describe("unknown"),
        Err(ErrorCode::TransactionalIdNotFound.code())
    );

    // AddPartitionsToTxn: an unknown topic fails its partitions and the others are not tried.
    let request = AddPartitionsToTxnRequest::default()
        .with_v3_and_below_transactional_id(TransactionalId(s("tx")))
        .with_v3_and_below_producer_id(ProducerId(pid))
        .with_v3_and_below_producer_epoch(epoch)
        .with_v3_and_below_topics(vec![
            AddPartitionsToTxnTopic::default()
                .with_name(TopicName(s("t")))
                .with_partitions(vec![0]),
            AddPartitionsToTxnTopic::default()
                .with_name(TopicName(s("missing")))
                .with_partitions(vec![0]),
        ]);
    let r = super::txn::add_partitions(&broker, request.clone(), 3).await;
    let codes: Vec<(String, i16)> = r
        .results_by_topic_v3_and_below
        .iter()
        .map(|t| {
            (
                t.name.0.to_string(),
                t.results_by_partition[0].partition_error_code,
            )
        })
        .collect();
    assert_eq!(
        codes,
        vec![
            ("t".to_string(), ErrorCode::OperationNotAttempted.code()),
            (
                "missing".to_string(),
                ErrorCode::UnknownTopicOrPartition.code()
            ),
        ]
    );
    // A producer may not add an internal topic: TOPIC_AUTHORIZATION_FAILED, the rest not tried.
    let internal = request.with_v3_and_below_topics(vec![
        AddPartitionsToTxnTopic::default()
            .with_name(TopicName(s("t")))
            .with_partitions(vec![0]),
        AddPartitionsToTxnTopic::default()
            .with_name(TopicName(s("__consumer_offsets")))
            .with_partitions(vec![0]),
    ]);
    let r = super::txn::add_partitions(&broker, internal, 3).await;
    let codes: Vec<i16> = r
        .results_by_topic_v3_and_below
        .iter()
        .map(|t| t.results_by_partition[0].partition_error_code)
        .collect();
    assert_eq!(
        codes,
        vec![
            ErrorCode::OperationNotAttempted.code(),
            ErrorCode::TopicAuthorizationFailed.code()
        ]
    );
    // v4+ with verify_only: not in the transaction yet, then in it.
    let verify = AddPartitionsToTxnRequest::default().with_transactions(vec![
        AddPartitionsToTxnTransaction::default()
            .with_transactional_id(TransactionalId(s("tx")))
            .with_producer_id(ProducerId(pid))
            .with_producer_epoch(epoch)
            .with_verify_only(true)
            .with_topics(vec![AddPartitionsToTxnTopic::default()
                .with_name(TopicName(s("t")))
                .with_partitions(vec![0])]),
    ]);
    let code = |r: &AddPartitionsToTxnResponse| {
        r.results_by_transaction[0].topic_results[0].results_by_partition[0].partition_error_code
    };
    let r = super::txn::add_partitions(&broker, verify.clone(), 5).await;
    assert_eq!(code(&r), ErrorCode::TransactionAbortable.code());
    broker
        .txn
        .add_partitions("tx", pid, epoch, &t0())
        .await
        .unwrap();
    let r = super::txn::add_partitions(&broker, verify, 5).await;
    assert_eq!(code(&r), 0);

    // A fenced producer: PRODUCER_FENCED from v2, INVALID_PRODUCER_EPOCH before (KIP-588).
    let end = EndTxnRequest::default()
        .with_transactional_id(TransactionalId(s("tx")))
        .with_producer_id(ProducerId(pid))
        .with_producer_epoch(epoch - 1)
        .with_committed(true);
    let r = super::txn::end_txn(&broker, end.clone(), 1).await;
    assert_eq!(r.error_code, ErrorCode::InvalidProducerEpoch.code());
    let r = super::txn::end_txn(&broker, end, 2).await;
    assert_eq!(r.error_code, ErrorCode::ProducerFenced.code());

    // ListTransactions: filters, and unknown state names sent back.
    let list = |states: &[&str]| {
        ListTransactionsRequest::default()
            .with_state_filters(states.iter().map(|v| s(v)).collect())
            .with_duration_filter(-1)
    };
    let r = super::txn::list(&broker, list(&["Ongoing", "Bogus"]), 1);
    assert_eq!(r.error_code, 0);
    assert_eq!(
        r.unknown_state_filters
            .iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>(),
        vec!["Bogus".to_string()]
    );
    let ids: Vec<String> = r
        .transaction_states
        .iter()
        .map(|t| t.transactional_id.0.to_string())
        .collect();
    assert_eq!(ids, vec!["tx".to_string()]);
    let r = super::txn::list(&broker, list(&["CompleteCommit"]), 1);
    assert!(r.transaction_states.is_empty());
    // The duration filter (KIP-994) leaves out what has been open for at most that long; an id
    // that never began a transaction (start time -1) passes, as in Kafka.
    coordinator_ready(&broker, "idle").await;
    init(&broker, "idle", 60_000).await.unwrap();
    let r = super::txn::list(&broker, list(&[]).with_duration_filter(600_000), 1);
    let ids: Vec<String> = r
        .transaction_states
        .iter()
        .map(|t| t.transactional_id.0.to_string())
        .collect();
    assert_eq!(ids, vec!["idle".to_string()]);
    // An empty transactional id is refused by the coordinator.
    assert_eq!(
        broker.txn.describe(""),
        Err(ErrorCode::InvalidRequest.code())
    );
    // DescribeTransactions shows the open transaction's partitions.
    let r = super::txn::describe(
        &broker,
        DescribeTransactionsRequest::default()
            .with_transactional_ids(vec![TransactionalId(s("tx")), TransactionalId(s("nope"))]),
    );
    let tx = &r.transaction_states[0];
    assert_eq!(
        (tx.error_code, tx.transaction_state.as_str()),
        (0, "Ongoing")
    );
    assert_eq!(tx.topics[0].partitions, vec![0]);
    assert_eq!(
        r.transaction_states[1].error_code,
        ErrorCode::TransactionalIdNotFound.code()
    );
}

/// KIP-890 verification (`transaction.partition.verification.enable`, on by default): a
/// transactional write that would start a transaction in a partition its coordinator never
/// added is refused, so no hanging transaction can be left behind; once added it is accepted.
#[tokio::test]
async fn writes_outside_the_transaction_are_refused() {
    let (broker, _guard) = start_for_test().await;
    create_topic(&broker, "t").await;
    coordinator_ready(&broker, "tx").await;
    let (pid, epoch) = init(&broker, "tx", 60_000).await.unwrap();
    // Produce without AddPartitionsToTxn: INVALID_TXN_STATE, nothing stored.
    assert_eq!(
        produce(&broker, "tx", pid, epoch, 0, 2).await,
        ErrorCode::InvalidTxnState.code()
    );
    assert_eq!(data_log(&broker).log_end_offset(), 0);
    // An unknown transactional id, or a fenced epoch.
    assert_eq!(
        produce(&broker, "nobody", pid, epoch, 0, 1).await,
        ErrorCode::InvalidProducerIdMapping.code()
    );
    broker
        .txn
        .add_partitions("tx", pid, epoch, &t0())
        .await
        .unwrap();
    assert_eq!(produce(&broker, "tx", pid, epoch, 0, 2).await, 0);
    assert_eq!(data_log(&broker).last_stable_offset(), 0, "open");

    // TxnOffsetCommit without AddOffsetsToTxn: INVALID_TXN_STATE; after it, accepted.
    let commit = TxnOffsetCommitRequest::default()
        .with_transactional_id(TransactionalId(s("tx")))
        .with_group_id(GroupId(s("g")))
        .with_producer_id(ProducerId(pid))
        .with_producer_epoch(epoch)
        .with_topics(vec![
            kafka_protocol::messages::txn_offset_commit_request::TxnOffsetCommitRequestTopic::default()
                .with_name(TopicName(s("t")))
                .with_partitions(vec![
                    kafka_protocol::messages::txn_offset_commit_request::TxnOffsetCommitRequestPartition::default()
                        .with_partition_index(0)
                        .with_committed_offset(2),
                ]),
        ]);
    let code = |r: &TxnOffsetCommitResponse| r.topics[0].partitions[0].error_code;
    let r = super::offsets::txn_commit(&broker, commit.clone(), 2).await;
    assert_eq!(code(&r), ErrorCode::InvalidTxnState.code());
    let add = AddOffsetsToTxnRequest::default()
        .with_transactional_id(TransactionalId(s("tx")))
        .with_producer_id(ProducerId(pid))
        .with_producer_epoch(epoch)
        .with_group_id(GroupId(s("g")));
    assert_eq!(super::txn::add_offsets(&broker, add, 2).await.error_code, 0);
    let r = super::offsets::txn_commit(&broker, commit, 2).await;
    assert_eq!(code(&r), 0);
    broker
        .txn
        .end_transaction("tx", pid, epoch, true)
        .await
        .unwrap();
    wait_for_state(&broker, "tx", TxnState::CompleteCommit).await;
}

/// With `transaction.partition.verification.enable=false` the write is not checked, as in Kafka.
#[tokio::test]
async fn verification_can_be_turned_off() {
    let (broker, _guard) =
        crate::broker::start_for_test_with(|c| c.txn.partition_verification_enable = false).await;
    create_topic(&broker, "t").await;
    coordinator_ready(&broker, "tx").await;
    let (pid, epoch) = init(&broker, "tx", 60_000).await.unwrap();
    assert_eq!(produce(&broker, "tx", pid, epoch, 0, 2).await, 0);
}
