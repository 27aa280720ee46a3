//! KIP-890 verification: before a transactional write that would start a transaction in a
//! partition, the partition's leader asks the producer's transaction coordinator whether the
//! partition was added to the producer's ongoing transaction (AddPartitionsToTxn v4 with
//! `verify_only`, Kafka's `AddPartitionsToTxnManager`). A write the coordinator does not know of
//! would leave a hanging transaction that no marker ever ends.

use std::time::Duration;

use common::errors::ErrorCode;
use kafka_protocol::messages::add_partitions_to_txn_request::{
    AddPartitionsToTxnTopic, AddPartitionsToTxnTransaction,
};
use kafka_protocol::messages::{AddPartitionsToTxnRequest, ProducerId, TopicName, TransactionalId};
use kafka_protocol::protocol::StrBytes;

use super::topic::TRANSACTION_STATE_TOPIC_NAME;
use super::{partition_for, TxnCoordinator};

/// The AddPartitionsToTxn version of the brokers' batched form (KIP-890).
const VERIFY_VERSION: i16 = 4;
/// How long one verification may take before the write is refused as retriable.
const VERIFY_TIMEOUT: Duration = Duration::from_secs(10);

impl TxnCoordinator {
    /// Whether `(topic, partition)` is in the ongoing transaction of `transactional_id` with this
    /// producer id and epoch, asked of its coordinator (this broker's own state when it is the
    /// coordinator). `Err` is the error the write gets: INVALID_TXN_STATE when the partition is
    /// not in the transaction (Kafka's answer to clients before KIP-1050), the coordinator's
    /// error (PRODUCER_FENCED, INVALID_PRODUCER_ID_MAPPING, CONCURRENT_TRANSACTIONS), or
    /// COORDINATOR_NOT_AVAILABLE when the coordinator cannot be asked (retriable).
    pub async fn verify_in_transaction(
        &self,
        transactional_id: &str,
        producer_id: i64,
        producer_epoch: i16,
        topic: &str,
        partition: i32,
    ) -> Result<(), i16> {
        let not_available = ErrorCode::CoordinatorNotAvailable.code();
        let md = self.inner.cluster.metadata();
        let state = md
            .topics
            .get(TRANSACTION_STATE_TOPIC_NAME)
            .ok_or(not_available)?;
        let count = i32::try_from(state.partitions.len()).unwrap_or(i32::MAX);
        let p = partition_for(transactional_id, count);
        let leader = state
            .partitions
            .iter()
            .find(|i| i.partition == p)
            .map(|i| i.leader.get())
            .filter(|l| *l >= 0)
            .ok_or(not_available)?;
        let tp = [(topic.to_string(), partition)];
        let code = if leader == self.inner.config.broker_id {
            match self.verify_partitions(transactional_id, producer_id, producer_epoch, &tp) {
                Ok(codes) => codes.first().copied().unwrap_or(not_available),
                Err(code) => code,
            }
        } else {
            let conn = self.connection(leader).await.ok_or(not_available)?;
            let request = AddPartitionsToTxnRequest::default().with_transactions(vec![
                AddPartitionsToTxnTransaction::default()
                    .with_transactional_id(TransactionalId(StrBytes::from_string(
                        transactional_id.to_string(),
                    )))
                    .with_producer_id(ProducerId(producer_id))
                    .with_producer_epoch(producer_epoch)
                    .with_verify_only(true)
                    .with_topics(vec![AddPartitionsToTxnTopic::default()
                        .with_name(TopicName(StrBytes::from_string(topic.to_string())))
                        .with_partitions(vec![partition])]),
            ]);
            let response =
                tokio::time::timeout(VERIFY_TIMEOUT, conn.send_at(request, VERIFY_VERSION))
                    .await
                    .map_err(|_| not_available)?
                    .map_err(|_| not_available)?;
            response
                .results_by_transaction
                .iter()
                .flat_map(|t| t.topic_results.iter())
                .flat_map(|t| t.results_by_partition.iter())
                .map(|r| r.partition_error_code)
                .next()
                .unwrap_or(response.error_code)
        };
        match ErrorCode::from_code(code) {
            Some(ErrorCode::None) => Ok(()),
            Some(ErrorCode::TransactionAbortable) => Err(ErrorCode::InvalidTxnState.code()),
            Some(
                ErrorCode::NotCoordinator
                | ErrorCode::CoordinatorLoadInProgress
                | ErrorCode::CoordinatorNotAvailable,
            ) => Err(not_available),
            _ => Err(code),
        }
    }
}
