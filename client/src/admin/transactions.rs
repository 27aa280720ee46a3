//! The transaction admin calls `kafka-transactions` makes, as Kafka's `KafkaAdminClient` makes
//! them (KIP-664): ListTransactions (API 66) to every broker, DescribeTransactions (65) to the
//! transactional id's coordinator (FindCoordinator key type 1), DescribeProducers (61) to a
//! partition's leader or a chosen replica, and WriteTxnMarkers (27) to the partition's leader to
//! abort a hanging transaction (`abortTransaction`).

use std::collections::BTreeMap;
use std::time::Instant;

use kafka_protocol::messages::{
    describe_producers_request::TopicRequest,
    write_txn_markers_request::{WritableTxnMarker, WritableTxnMarkerTopic},
    DescribeProducersRequest, DescribeTransactionsRequest, FindCoordinatorRequest,
    ListTransactionsRequest, ProducerId, TopicName, TransactionalId, WriteTxnMarkersRequest,
};
use kafka_protocol::protocol::StrBytes;

use common::errors::codes::{
    BROKER_NOT_AVAILABLE, CLUSTER_AUTHORIZATION_FAILED, COORDINATOR_LOAD_IN_PROGRESS,
    COORDINATOR_NOT_AVAILABLE, INVALID_PRODUCER_EPOCH, INVALID_TOPIC_EXCEPTION,
    LEADER_NOT_AVAILABLE, NOT_COORDINATOR, NOT_LEADER_OR_FOLLOWER, REPLICA_NOT_AVAILABLE,
    TOPIC_AUTHORIZATION_FAILED, TRANSACTIONAL_ID_AUTHORIZATION_FAILED, TRANSACTIONAL_ID_NOT_FOUND,
    TRANSACTION_COORDINATOR_FENCED, UNKNOWN_TOPIC_OR_PARTITION,
};

use super::{Admin, RETRY_BACKOFF};
use crate::connection::Connection;
use crate::error::ClientError;

/// FindCoordinator key type of a transactional id.
const KEY_TYPE_TRANSACTION: i8 = 1;

/// One transaction of a ListTransactions answer (Kafka's `TransactionListing`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionListing {
    pub transactional_id: String,
    pub producer_id: i64,
    /// The coordinator's state name (`Ongoing`, `CompleteCommit`...), as `TransactionState`
    /// prints it.
    pub state: String,
}

/// Filters of `list_transactions` (Kafka's `ListTransactionsOptions`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListTransactionsOptions {
    pub state_filters: Vec<String>,
    pub producer_id_filters: Vec<i64>,
    /// KIP-994: only transactions running longer than this (ms); needs ListTransactions v1.
    pub duration_filter_ms: Option<i64>,
}

/// A DescribeTransactions answer (Kafka's `TransactionDescription`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionDescription {
    pub coordinator_id: i32,
    pub state: String,
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub transaction_timeout_ms: i32,
    /// `None` when no transaction is open (the broker sends -1).
    pub transaction_start_time_ms: Option<i64>,
    /// Sorted by topic, then partition.
    pub topic_partitions: Vec<(String, i32)>,
}

/// One active producer of a partition (Kafka's `ProducerState`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProducerStateInfo {
    pub producer_id: i64,
    pub producer_epoch: i32,
    pub last_sequence: i32,
    pub last_timestamp: i64,
    /// `None` when the broker sends -1.
    pub coordinator_epoch: Option<i32>,
    /// The first offset of the producer's open transaction, `None` without one.
    pub current_transaction_start_offset: Option<i64>,
}

/// What `abort_transaction` writes an ABORT marker for (Kafka's `AbortTransactionSpec`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbortTransactionSpec {
    pub topic: String,
    pub partition: i32,
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub coordinator_epoch: i32,
}

impl std::fmt::Display for AbortTransactionSpec {
    /// `AbortTransactionSpec.toString`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "AbortTransactionSpec(topicPartition={}-{}, producerId={}, producerEpoch={}, coordinatorEpoch={})",
            self.topic, self.partition, self.producer_id, self.producer_epoch, self.coordinator_epoch
        )
    }
}

fn topic_name(topic: &str) -> TopicName {
    TopicName(StrBytes::from_string(topic.to_string()))
}

impl Admin {
    /// Kafka's `listTransactions(...).allByBrokerId()`: ListTransactions to every broker.
    pub async fn list_transactions(
        &self,
        options: &ListTransactionsOptions,
    ) -> Result<BTreeMap<i32, Vec<TransactionListing>>, ClientError> {
        let snapshot = self
            .call("listTransactions", super::Target::Any, |_| {
                self.cluster.refresh(Some(&[]), false)
            })
            .await?;
        let mut out = BTreeMap::new();
        for id in snapshot.brokers.keys().copied() {
            let conn = self.broker_connection_by_id(id).await?;
            let mut request = ListTransactionsRequest::default()
                .with_state_filters(
                    options
                        .state_filters
                        .iter()
                        .map(|s| StrBytes::from_string(s.clone()))
                        .collect(),
                )
                .with_producer_id_filters(
                    options
                        .producer_id_filters
                        .iter()
                        .map(|p| ProducerId(*p))
                        .collect(),
                );
            if let Some(d) = options.duration_filter_ms {
                if conn.version_for::<ListTransactionsRequest>()? < 1 {
                    return Err(ClientError::UnsupportedVersion(
                        "Duration filter requires ListTransactions v1 or later".to_string(),
                    ));
                }
                request = request.with_duration_filter(d);
            }
            let deadline = Instant::now() + self.api_timeout;
            let response = loop {
                let response = conn.send(request.clone()).await?;
                let loading = matches!(
                    response.error_code,
                    COORDINATOR_LOAD_IN_PROGRESS | COORDINATOR_NOT_AVAILABLE
                );
                if !loading || Instant::now() + RETRY_BACKOFF >= deadline {
                    break response;
                }
                tokio::time::sleep(RETRY_BACKOFF).await;
            };
            ClientError::check(response.error_code, None)?;
            let listings = response
                .transaction_states
                .into_iter()
                .map(|t| TransactionListing {
                    transactional_id: t.transactional_id.0.to_string(),
                    producer_id: t.producer_id.0,
                    state: t.transaction_state.to_string(),
                })
                .collect();
            out.insert(id, listings);
        }
        Ok(out)
    }

    async fn broker_connection_by_id(&self, id: i32) -> Result<Connection, ClientError> {
        if !self.cluster.snapshot().brokers.contains_key(&id) {
            self.cluster.refresh(Some(&[]), false).await?;
        }
        self.cluster.connection(id).await
    }

    /// The coordinator of a transactional id: its broker id and a connection to it.
    async fn transaction_coordinator(
        &self,
        transactional_id: &str,
    ) -> Result<(i32, Connection), ClientError> {
        let conn = self.cluster.any_connection().await?;
        let request = FindCoordinatorRequest::default()
            .with_key(StrBytes::from_string(transactional_id.to_string()))
            .with_key_type(KEY_TYPE_TRANSACTION);
        let response = conn.send(request).await?;
        ClientError::check(response.error_code, response.error_message.as_deref())?;
        let id = response.node_id.0;
        Ok((id, self.broker_connection_by_id(id).await?))
    }

    /// Kafka's `describeTransactions` for one transactional id, retried while its coordinator
    /// moves or loads, until the API timeout.
    pub async fn describe_transaction(
        &self,
        transactional_id: &str,
    ) -> Result<TransactionDescription, ClientError> {
        let deadline = Instant::now() + self.api_timeout;
        loop {
            let result = async {
                let (coordinator_id, conn) = self.transaction_coordinator(transactional_id).await?;
                let request = DescribeTransactionsRequest::default().with_transactional_ids(vec![
                    TransactionalId(StrBytes::from_string(transactional_id.to_string())),
                ]);
                let response = conn.send(request).await?;
                let state = response
                    .transaction_states
                    .into_iter()
                    .find(|s| s.transactional_id.0.as_str() == transactional_id)
                    .ok_or_else(|| {
                        ClientError::Protocol(format!(
                            "DescribeTransactions response has no result for {transactional_id}"
                        ))
                    })?;
                describe_transactions_error(transactional_id, state.error_code)?;
                let mut topic_partitions: Vec<(String, i32)> = state
                    .topics
                    .iter()
                    .flat_map(|t| t.partitions.iter().map(|p| (t.topic.0.to_string(), *p)))
                    .collect();
                topic_partitions.sort();
                Ok::<_, ClientError>(TransactionDescription {
                    coordinator_id,
                    state: state.transaction_state.to_string(),
                    producer_id: state.producer_id.0,
                    producer_epoch: state.producer_epoch,
                    transaction_timeout_ms: state.transaction_timeout_ms,
                    transaction_start_time_ms: (state.transaction_start_time_ms >= 0)
                        .then_some(state.transaction_start_time_ms),
                    topic_partitions,
                })
            }
            .await;
            match result {
                Err(e) if coordinator_moved(&e) && Instant::now() + RETRY_BACKOFF < deadline => {
                    tracing::debug!("describeTransactions: retrying after {e}");
                    tokio::time::sleep(RETRY_BACKOFF).await;
                }
                other => return other,
            }
        }
    }

    /// Kafka's `describeProducers` for one partition: to its leader (retried while leadership
    /// moves), or to `broker_id` when given.
    pub async fn describe_producers(
        &self,
        topic: &str,
        partition: i32,
        broker_id: Option<i32>,
    ) -> Result<Vec<ProducerStateInfo>, ClientError> {
        let deadline = Instant::now() + self.api_timeout;
        loop {
            // Where the call stands, for Kafka's timeout text: finding the partition's leader
            // (METADATA) or asking a broker (DESCRIBE_PRODUCERS).
            let mut api = if broker_id.is_some() {
                "DESCRIBE_PRODUCERS"
            } else {
                "METADATA"
            };
            let result = async {
                let conn = match broker_id {
                    Some(id) => self.broker_connection_by_id(id).await?,
                    None => self.leader_connection(topic, partition).await?,
                };
                api = "DESCRIBE_PRODUCERS";
                let request =
                    DescribeProducersRequest::default().with_topics(vec![TopicRequest::default()
                        .with_name(topic_name(topic))
                        .with_partition_indexes(vec![partition])]);
                let response = conn.send(request).await?;
                let p = response
                    .topics
                    .iter()
                    .filter(|t| t.name.0.as_str() == topic)
                    .flat_map(|t| t.partitions.iter())
                    .find(|p| p.partition_index == partition)
                    .ok_or_else(|| {
                        ClientError::Protocol(format!(
                            "DescribeProducers response has no result for {topic}-{partition}"
                        ))
                    })?;
                describe_producers_error(topic, partition, broker_id, p.error_code)?;
                Ok::<_, ClientError>(
                    p.active_producers
                        .iter()
                        .map(|s| ProducerStateInfo {
                            producer_id: s.producer_id.0,
                            producer_epoch: s.producer_epoch,
                            last_sequence: s.last_sequence,
                            last_timestamp: s.last_timestamp,
                            coordinator_epoch: (s.coordinator_epoch >= 0)
                                .then_some(s.coordinator_epoch),
                            current_transaction_start_offset: (s.current_txn_start_offset >= 0)
                                .then_some(s.current_txn_start_offset),
                        })
                        .collect(),
                )
            }
            .await;
            // Kafka's `DescribeProducersHandler` and `PartitionLeaderStrategy`: an unknown topic
            // or partition, a missing leader or broker and a moved leader (when no broker was
            // chosen) are retried until the API timeout, which then fails the call with the
            // admin client's timeout text.
            let retriable = match &result {
                Err(ClientError::Kafka { code, .. }) => {
                    matches!(*code, UNKNOWN_TOPIC_OR_PARTITION | LEADER_NOT_AVAILABLE)
                        || (*code == NOT_LEADER_OR_FOLLOWER && broker_id.is_none())
                        // A chosen broker not in the metadata (yet).
                        || (*code == BROKER_NOT_AVAILABLE && broker_id.is_some())
                }
                Err(ClientError::Io { .. } | ClientError::Timeout(_)) => true,
                _ => false,
            };
            match result {
                Err(e) if retriable => {
                    if Instant::now() + RETRY_BACKOFF >= deadline {
                        return Err(ClientError::Timeout(format!(
                            "Timed out waiting for a node assignment. Call: \
                             describeProducers(api={api})"
                        )));
                    }
                    tracing::debug!("describeProducers: retrying after {e}");
                    tokio::time::sleep(RETRY_BACKOFF).await;
                }
                other => return other,
            }
        }
    }

    /// A connection to a partition's leader, from fresh metadata.
    async fn leader_connection(
        &self,
        topic: &str,
        partition: i32,
    ) -> Result<Connection, ClientError> {
        let names = [topic.to_string()];
        let snapshot = self.cluster.refresh(Some(&names), false).await?;
        let Some(t) = snapshot.topics.get(topic) else {
            return Err(ClientError::kafka(UNKNOWN_TOPIC_OR_PARTITION, None));
        };
        if t.error_code != 0 {
            return Err(ClientError::kafka(t.error_code, None));
        }
        let leader = snapshot
            .leader_of(topic, partition)
            .ok_or_else(|| ClientError::kafka(LEADER_NOT_AVAILABLE, None))?;
        self.cluster.connection(leader).await
    }

    /// Kafka's `abortTransaction`: WriteTxnMarkers with an ABORT marker for the producer, sent
    /// to the partition's leader (retried while leadership moves).
    pub async fn abort_transaction(&self, spec: &AbortTransactionSpec) -> Result<(), ClientError> {
        let deadline = Instant::now() + self.api_timeout;
        loop {
            let result = async {
                let conn = self.leader_connection(&spec.topic, spec.partition).await?;
                let request = abort_request(spec);
                let response = conn.send(request).await?;
                let code = response
                    .markers
                    .iter()
                    .filter(|m| m.producer_id.0 == spec.producer_id)
                    .flat_map(|m| m.topics.iter())
                    .filter(|t| t.name.0.as_str() == spec.topic)
                    .flat_map(|t| t.partitions.iter())
                    .find(|p| p.partition_index == spec.partition)
                    .map(|p| p.error_code)
                    .ok_or_else(|| {
                        ClientError::Transaction(format!(
                            "WriteTxnMarkers response included no entry for {}-{}",
                            spec.topic, spec.partition
                        ))
                    })?;
                abort_error(spec, code)
            }
            .await;
            match result {
                Err(e) if leader_moved(&e) && Instant::now() + RETRY_BACKOFF < deadline => {
                    tracing::debug!("abortTransaction: retrying after {e}");
                    tokio::time::sleep(RETRY_BACKOFF).await;
                }
                other => return other,
            }
        }
    }
}

/// The WriteTxnMarkers request `abortTransaction` sends: one ABORT marker for one partition.
pub(crate) fn abort_request(spec: &AbortTransactionSpec) -> WriteTxnMarkersRequest {
    WriteTxnMarkersRequest::default().with_markers(vec![WritableTxnMarker::default()
        .with_producer_id(ProducerId(spec.producer_id))
        .with_producer_epoch(spec.producer_epoch)
        .with_transaction_result(false)
        .with_coordinator_epoch(spec.coordinator_epoch)
        .with_topics(vec![WritableTxnMarkerTopic::default()
            .with_name(topic_name(&spec.topic))
            .with_partition_indexes(vec![spec.partition])])])
}

/// `DescribeTransactionsHandler.handleError`'s exceptions.
fn describe_transactions_error(id: &str, code: i16) -> Result<(), ClientError> {
    let text = match code {
        0 => return Ok(()),
        COORDINATOR_LOAD_IN_PROGRESS | NOT_COORDINATOR | COORDINATOR_NOT_AVAILABLE => {
            return Err(ClientError::kafka(code, None))
        }
        TRANSACTIONAL_ID_AUTHORIZATION_FAILED => format!(
            "DescribeTransactions request for transactionalId `{id}` failed due to authorization failure"
        ),
        TRANSACTIONAL_ID_NOT_FOUND => format!(
            "DescribeTransactions request for transactionalId `{id}` failed because the ID could not be found"
        ),
        _ => format!(
            "DescribeTransactions request for transactionalId `{id}` failed due to unexpected error"
        ),
    };
    Err(ClientError::kafka(code, Some(&text)))
}

/// `DescribeProducersHandler.handlePartitionError`'s exceptions (NOT_LEADER_OR_FOLLOWER and
/// UNKNOWN_TOPIC_OR_PARTITION are retried by the caller unless a broker was chosen).
fn describe_producers_error(
    topic: &str,
    partition: i32,
    broker_id: Option<i32>,
    code: i16,
) -> Result<(), ClientError> {
    let tp = format!("{topic}-{partition}");
    let text = match (code, broker_id) {
        (0, _) => return Ok(()),
        (NOT_LEADER_OR_FOLLOWER, Some(id)) => {
            format!("Failed to describe active producers for partition {tp} on brokerId {id}")
        }
        (NOT_LEADER_OR_FOLLOWER | UNKNOWN_TOPIC_OR_PARTITION, _) => {
            return Err(ClientError::kafka(code, None))
        }
        (INVALID_TOPIC_EXCEPTION, _) => format!(
            "Failed to fetch metadata for partition {tp} due to invalid topic error: {}",
            crate::error::default_message(code)
        ),
        (TOPIC_AUTHORIZATION_FAILED, _) => format!(
            "Failed to describe active producers for partition {tp} due to authorization failure on topic `{topic}`"
        ),
        _ => format!("Failed to describe active producers for partition {tp} due to unexpected error"),
    };
    Err(ClientError::kafka(code, Some(&text)))
}

/// `AbortTransactionHandler.handleError`'s exceptions (leadership errors retried by the caller).
fn abort_error(spec: &AbortTransactionSpec, code: i16) -> Result<(), ClientError> {
    let text = match code {
        0 => return Ok(()),
        NOT_LEADER_OR_FOLLOWER | REPLICA_NOT_AVAILABLE | BROKER_NOT_AVAILABLE
        | UNKNOWN_TOPIC_OR_PARTITION => return Err(ClientError::kafka(NOT_LEADER_OR_FOLLOWER, None)),
        CLUSTER_AUTHORIZATION_FAILED => format!(
            "WriteTxnMarkers request with {spec} failed due to cluster authorization error"
        ),
        INVALID_PRODUCER_EPOCH => {
            format!("WriteTxnMarkers request with {spec} failed due an invalid producer epoch")
        }
        TRANSACTION_COORDINATOR_FENCED => format!(
            "WriteTxnMarkers request with {spec} failed since the provided coordinator epoch {} has been fenced by the active coordinator",
            spec.coordinator_epoch
        ),
        _ => format!(
            "WriteTxnMarkers request with {spec} failed due to unexpected error: {}",
            crate::error::default_message(code)
        ),
    };
    Err(ClientError::kafka(code, Some(&text)))
}

fn coordinator_moved(e: &ClientError) -> bool {
    match e {
        ClientError::Kafka { code, .. } => matches!(
            *code,
            COORDINATOR_LOAD_IN_PROGRESS | COORDINATOR_NOT_AVAILABLE | NOT_COORDINATOR
        ),
        ClientError::Io { .. } | ClientError::Timeout(_) => true,
        _ => false,
    }
}

fn leader_moved(e: &ClientError) -> bool {
    match e {
        ClientError::Kafka { code, .. } => {
            matches!(
                *code,
                NOT_LEADER_OR_FOLLOWER | LEADER_NOT_AVAILABLE | UNKNOWN_TOPIC_OR_PARTITION
            )
        }
        ClientError::Io { .. } | ClientError::Timeout(_) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn abort_request_carries_one_abort_marker() {
        let spec = AbortTransactionSpec {
            topic: "t".to_string(),
            partition: 2,
            producer_id: 7,
            producer_epoch: 3,
            coordinator_epoch: 5,
        };
        let r = abort_request(&spec);
        assert_eq!(r.markers.len(), 1);
        let m = &r.markers[0];
        assert_eq!(m.producer_id.0, 7);
        assert_eq!(m.producer_epoch, 3);
        assert!(!m.transaction_result);
        assert_eq!(m.coordinator_epoch, 5);
        assert_eq!(m.topics[0].name.0.as_str(), "t");
        assert_eq!(m.topics[0].partition_indexes, vec![2]);
        assert_eq!(
            spec.to_string(),
            "AbortTransactionSpec(topicPartition=t-2, producerId=7, producerEpoch=3, coordinatorEpoch=5)"
        );
    }

    #[tokio::test]
    async fn admin_sees_and_aborts_an_open_transaction() {
        let broker = test_broker::FakeBroker::start(test_broker::FakeBrokerOptions {
            topics: vec![("t".to_string(), 1)],
            init_producer_id: true,
            ..Default::default()
        })
        .await;
        let producer = crate::Producer::new(crate::ProducerConfig {
            bootstrap_servers: broker.addr(),
            transactional_id: Some("tx".to_string()),
            retry_backoff_ms: 10,
            ..Default::default()
        })
        .await
        .expect("producer");
        producer.init_transactions().await.expect("init");
        producer.begin_transaction().expect("begin");
        producer
            .send(crate::ProducerRecord::new("t", "v").with_partition(0))
            .await
            .expect("send");
        producer.flush().await.expect("flush");
        let admin = Admin::connect_with_timeout(&broker.addr(), "test", Duration::from_secs(5))
            .await
            .expect("admin");
        let listed = admin
            .list_transactions(&ListTransactionsOptions::default())
            .await
            .expect("list");
        let all: Vec<&TransactionListing> = listed.values().flatten().collect();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].transactional_id, "tx");
        assert_eq!(all[0].state, "Ongoing");
        let d = admin.describe_transaction("tx").await.expect("describe");
        assert_eq!(d.state, "Ongoing");
        assert_eq!(d.topic_partitions, vec![("t".to_string(), 0)]);
        assert!(d.transaction_start_time_ms.is_some());
        let missing = admin
            .describe_transaction("nope")
            .await
            .expect_err("missing");
        assert_eq!(missing.code(), Some(105));
        assert_eq!(
            missing.to_string(),
            "DescribeTransactions request for transactionalId `nope` failed because the ID could not be found"
        );
        let producers = admin
            .describe_producers("t", 0, None)
            .await
            .expect("producers");
        assert_eq!(producers.len(), 1);
        assert_eq!(producers[0].current_transaction_start_offset, Some(0));
        let spec = AbortTransactionSpec {
            topic: "t".to_string(),
            partition: 0,
            producer_id: producers[0].producer_id,
            producer_epoch: producers[0].producer_epoch as i16,
            coordinator_epoch: 0,
        };
        admin.abort_transaction(&spec).await.expect("abort");
        assert_eq!(broker.aborted_transactions("t", 0).len(), 1);
        assert_eq!(broker.last_stable_offset("t", 0), 2);
    }
}
