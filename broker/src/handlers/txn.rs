//! The transaction coordinator's APIs (KIP-98, KIP-664): InitProducerId with a transactional
//! id, AddPartitionsToTxn (v0-3 from producers, v4+ batched from brokers, with `verify_only`),
//! AddOffsetsToTxn, EndTxn, DescribeTransactions and ListTransactions, and FindCoordinator's
//! transaction key type. The state machine is `crate::txn`; this maps requests and answers.

use std::sync::Arc;

use common::errors::ErrorCode;
use common::topic::GROUP_METADATA_TOPIC_NAME;
use kafka_protocol::messages::add_partitions_to_txn_request::AddPartitionsToTxnTopic;
use kafka_protocol::messages::add_partitions_to_txn_response::{
    AddPartitionsToTxnPartitionResult, AddPartitionsToTxnResult, AddPartitionsToTxnTopicResult,
};
use kafka_protocol::messages::{
    describe_transactions_response, list_transactions_response, AddOffsetsToTxnRequest,
    AddOffsetsToTxnResponse, AddPartitionsToTxnRequest, AddPartitionsToTxnResponse,
    DescribeTransactionsRequest, DescribeTransactionsResponse, EndTxnRequest, EndTxnResponse,
    InitProducerIdRequest, InitProducerIdResponse, ListTransactionsRequest,
    ListTransactionsResponse, ProducerId, TopicName, TransactionalId,
};
use kafka_protocol::protocol::StrBytes;
use zookeeper_lite::protocol::BrokerInfo;

use crate::broker::Broker;
use crate::txn::TxnState;

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

/// PRODUCER_FENCED (KIP-588) is answered to versions that know it; older ones get
/// INVALID_PRODUCER_EPOCH, as Kafka's `KafkaApis` maps it.
fn fenced_for(code: i16, version: i16, first_knowing: i16) -> i16 {
    if code == ErrorCode::ProducerFenced.code() && version < first_knowing {
        ErrorCode::InvalidProducerEpoch.code()
    } else {
        code
    }
}

fn code_of(r: Result<(), i16>) -> i16 {
    r.err().unwrap_or(ErrorCode::None.code())
}

/// The broker coordinating `transactional_id`: the leader of its `__transaction_state`
/// partition (an empty id too: Kafka's `getCoordinator` answers partition 0's leader, and the
/// coordinator refuses the id). The topic is created on the first request
/// (COORDINATOR_NOT_AVAILABLE until it has leaders).
pub(crate) async fn coordinator_of(
    broker: &Broker,
    transactional_id: &str,
) -> Result<BrokerInfo, i16> {
    let not_available = ErrorCode::CoordinatorNotAvailable.code();
    let topic_name = crate::txn::TRANSACTION_STATE_TOPIC_NAME;
    if !broker.cluster.metadata().topics.contains_key(topic_name) {
        crate::txn::ensure_transaction_topic(&broker.cluster, &broker.partitions, &broker.config)
            .await;
    }
    let md = broker.cluster.metadata();
    let topic = md.topics.get(topic_name).ok_or(not_available)?;
    let count = i32::try_from(topic.partitions.len()).unwrap_or(i32::MAX);
    let p = crate::txn::partition_for(transactional_id, count);
    let leader = topic
        .partitions
        .iter()
        .find(|i| i.partition == p)
        .map(|i| i.leader)
        .ok_or(not_available)?;
    md.brokers
        .iter()
        .find(|b| b.id == leader)
        .cloned()
        .ok_or(not_available)
}

/// InitProducerId with a transactional id (the caller serves the idempotent form).
pub async fn init_producer_id(
    broker: &Arc<Broker>,
    request: &InitProducerIdRequest,
    transactional_id: &str,
    version: i16,
) -> InitProducerIdResponse {
    let failed = |code: i16| {
        InitProducerIdResponse::default()
            .with_error_code(fenced_for(code, version, 4))
            .with_producer_id(ProducerId(-1))
            .with_producer_epoch(-1)
    };
    if transactional_id.is_empty() {
        return failed(ErrorCode::InvalidRequest.code());
    }
    // The coordinator takes a new id (a new transactional id, or an exhausted epoch) from the
    // blocks at hand; when none was (COORDINATOR_LOAD_IN_PROGRESS) a block is fetched and the
    // request tried once more, so that only a broker that cannot reach zookeeper-lite answers it.
    let new_id = || broker.try_next_producer_id().map(|id| id.get());
    let init = || {
        broker.txn.init_producer_id(
            transactional_id,
            request.transaction_timeout_ms,
            (request.producer_id.0, request.producer_epoch),
            new_id,
        )
    };
    let mut answer = init().await;
    if answer == Err(ErrorCode::CoordinatorLoadInProgress.code())
        && broker.wait_for_producer_ids().await
    {
        answer = init().await;
    }
    match answer {
        Ok((id, epoch)) => InitProducerIdResponse::default()
            .with_producer_id(ProducerId(id))
            .with_producer_epoch(epoch),
        Err(code) => failed(code),
    }
}

/// One transaction's partitions added (or, `verify_only`, checked): the per-topic results.
/// Partitions of unknown topics get UNKNOWN_TOPIC_OR_PARTITION, of internal topics (from
/// producers) TOPIC_AUTHORIZATION_FAILED, and the others OPERATION_NOT_ATTEMPTED, as Kafka
/// answers.
async fn add_one(
    broker: &Arc<Broker>,
    transactional_id: &str,
    producer_id: i64,
    producer_epoch: i16,
    topics: &[AddPartitionsToTxnTopic],
    verify_only: bool,
    version: i16,
) -> Vec<AddPartitionsToTxnTopicResult> {
    let tps: Vec<(String, i32)> = topics
        .iter()
        .flat_map(|t| {
            t.partitions
                .iter()
                .map(|p| (t.name.0.as_str().to_string(), *p))
        })
        .collect();
    let md = broker.cluster.metadata();
    let known = |(topic, partition): &(String, i32)| {
        md.topics
            .get(topic)
            .is_some_and(|t| t.partitions.iter().any(|i| i.partition == *partition))
    };
    // Producers (v0-3) may not add internal topics (Kafka answers TOPIC_AUTHORIZATION_FAILED);
    // brokers (v4+) verify `__consumer_offsets` partitions for TxnOffsetCommit.
    let refused = |(topic, _): &(String, i32)| version < 4 && common::topic::is_internal(topic);
    let codes: Vec<i16> = if tps.iter().all(|tp| known(tp) && !refused(tp)) {
        let result = if verify_only {
            broker
                .txn
                .verify_partitions(transactional_id, producer_id, producer_epoch, &tps)
        } else {
            broker
                .txn
                .add_partitions(transactional_id, producer_id, producer_epoch, &tps)
                .await
                .map(|()| vec![ErrorCode::None.code(); tps.len()])
        };
        match result {
            Ok(codes) => codes,
            Err(code) => vec![fenced_for(code, version, 2); tps.len()],
        }
    } else {
        tps.iter()
            .map(|tp| {
                if refused(tp) {
                    ErrorCode::TopicAuthorizationFailed.code()
                } else if known(tp) {
                    ErrorCode::OperationNotAttempted.code()
                } else {
                    ErrorCode::UnknownTopicOrPartition.code()
                }
            })
            .collect()
    };
    let mut results: Vec<AddPartitionsToTxnTopicResult> = Vec::new();
    for ((topic, partition), code) in tps.into_iter().zip(codes) {
        let r = AddPartitionsToTxnPartitionResult::default()
            .with_partition_index(partition)
            .with_partition_error_code(code);
        match results.iter_mut().find(|t| t.name.0.as_str() == topic) {
            Some(t) => t.results_by_partition.push(r),
            None => results.push(
                AddPartitionsToTxnTopicResult::default()
                    .with_name(TopicName(s(&topic)))
                    .with_results_by_partition(vec![r]),
            ),
        }
    }
    results
}

/// AddPartitionsToTxn: v0-3 one producer's transaction, v4+ a batch of transactions.
pub async fn add_partitions(
    broker: &Arc<Broker>,
    request: AddPartitionsToTxnRequest,
    version: i16,
) -> AddPartitionsToTxnResponse {
    if version < 4 {
        let results = add_one(
            broker,
            request.v3_and_below_transactional_id.0.as_str(),
            request.v3_and_below_producer_id.0,
            request.v3_and_below_producer_epoch,
            &request.v3_and_below_topics,
            false,
            version,
        )
        .await;
        return AddPartitionsToTxnResponse::default().with_results_by_topic_v3_and_below(results);
    }
    let mut by_transaction = Vec::new();
    for t in &request.transactions {
        let topic_results = add_one(
            broker,
            t.transactional_id.0.as_str(),
            t.producer_id.0,
            t.producer_epoch,
            &t.topics,
            t.verify_only,
            version,
        )
        .await;
        by_transaction.push(
            AddPartitionsToTxnResult::default()
                .with_transactional_id(t.transactional_id.clone())
                .with_topic_results(topic_results),
        );
    }
    AddPartitionsToTxnResponse::default().with_results_by_transaction(by_transaction)
}

/// AddOffsetsToTxn: the group's `__consumer_offsets` partition joins the transaction, so that
/// the group's TxnOffsetCommit is committed or aborted with it.
pub async fn add_offsets(
    broker: &Arc<Broker>,
    request: AddOffsetsToTxnRequest,
    version: i16,
) -> AddOffsetsToTxnResponse {
    let md = broker.cluster.metadata();
    let count =
        crate::group::offsets_partition_count(&md, broker.config.offsets_topic_num_partitions);
    let partition = crate::group::partition_for(request.group_id.0.as_str(), count);
    let code = code_of(
        broker
            .txn
            .add_partitions(
                request.transactional_id.0.as_str(),
                request.producer_id.0,
                request.producer_epoch,
                &[(GROUP_METADATA_TOPIC_NAME.to_string(), partition)],
            )
            .await,
    );
    AddOffsetsToTxnResponse::default().with_error_code(fenced_for(code, version, 2))
}

/// EndTxn: commit or abort the producer's transaction.
pub async fn end_txn(broker: &Arc<Broker>, request: EndTxnRequest, version: i16) -> EndTxnResponse {
    let code = code_of(
        broker
            .txn
            .end_transaction(
                request.transactional_id.0.as_str(),
                request.producer_id.0,
                request.producer_epoch,
                request.committed,
            )
            .await,
    );
    EndTxnResponse::default()
        .with_error_code(fenced_for(code, version, 2))
        .with_producer_id(ProducerId(-1))
        .with_producer_epoch(-1)
}

/// DescribeTransactions: each id's state, or its error (NOT_COORDINATOR,
/// COORDINATOR_LOAD_IN_PROGRESS, TRANSACTIONAL_ID_NOT_FOUND).
pub fn describe(
    broker: &Broker,
    request: DescribeTransactionsRequest,
) -> DescribeTransactionsResponse {
    use describe_transactions_response::{TopicData, TransactionState};
    let states = request
        .transactional_ids
        .iter()
        .map(|id| {
            let base = TransactionState::default().with_transactional_id(id.clone());
            match broker.txn.describe(id.0.as_str()) {
                Err(code) => base
                    .with_error_code(code)
                    .with_transaction_state(s(""))
                    .with_transaction_start_time_ms(-1)
                    .with_producer_id(ProducerId(-1))
                    .with_producer_epoch(-1),
                Ok(d) => {
                    let mut topics: Vec<TopicData> = Vec::new();
                    for (topic, partition) in &d.partitions {
                        match topics.iter_mut().find(|t| t.topic.0.as_str() == topic) {
                            Some(t) => t.partitions.push(*partition),
                            None => topics.push(
                                TopicData::default()
                                    .with_topic(TopicName(s(topic)))
                                    .with_partitions(vec![*partition]),
                            ),
                        }
                    }
                    base.with_transaction_state(s(d.state.name()))
                        .with_transaction_timeout_ms(d.timeout_ms)
                        .with_transaction_start_time_ms(d.start_ms)
                        .with_producer_id(ProducerId(d.producer_id))
                        .with_producer_epoch(d.producer_epoch)
                        .with_topics(topics)
                }
            }
        })
        .collect();
    DescribeTransactionsResponse::default().with_transaction_states(states)
}

/// ListTransactions: the ids this broker coordinates, filtered by state names, producer ids and
/// (v1) how long they have been open; state names Kafka does not know come back in
/// `unknown_state_filters`.
pub fn list(
    broker: &Broker,
    request: ListTransactionsRequest,
    version: i16,
) -> ListTransactionsResponse {
    let mut states = Vec::new();
    let mut unknown = Vec::new();
    for f in &request.state_filters {
        match TxnState::from_name(f.as_str()) {
            Some(state) => states.push(state),
            None => unknown.push(f.clone()),
        }
    }
    let listed = match broker.txn.list() {
        Ok(l) => l,
        Err(code) => {
            return ListTransactionsResponse::default()
                .with_error_code(code)
                .with_unknown_state_filters(unknown)
        }
    };
    let now = common::time::now_ms();
    let duration = if version >= 1 {
        request.duration_filter
    } else {
        -1
    };
    let transaction_states = listed
        .into_iter()
        .filter(|d| states.is_empty() || states.contains(&d.state))
        .filter(|d| {
            request.producer_id_filters.is_empty()
                || request
                    .producer_id_filters
                    .iter()
                    .any(|p| p.0 == d.producer_id)
        })
        // Kafka's `listTransactionStates`: left out when open for at most the filter (an id that
        // never began a transaction has start time -1 and passes).
        .filter(|d| duration < 0 || now.saturating_sub(d.start_ms) > duration)
        .map(|d| {
            list_transactions_response::TransactionState::default()
                .with_transactional_id(TransactionalId(s(&d.transactional_id)))
                .with_producer_id(ProducerId(d.producer_id))
                .with_transaction_state(s(d.state.name()))
        })
        .collect();
    ListTransactionsResponse::default()
        .with_unknown_state_filters(unknown)
        .with_transaction_states(transaction_states)
}
