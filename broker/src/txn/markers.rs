//! The marker sender (Kafka's `TransactionMarkerChannelManager`): a commit or abort marker for
//! every partition of an ending transaction, sent as WriteTxnMarkers to each partition's leader
//! (this broker's own partitions through the local writer the server sets, in process) and
//! retried until every leader has written it
//! or this broker stops coordinating the transaction.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use client::connection::{Connection, ConnectionOptions};
use common::errors::ErrorCode;
use kafka_protocol::messages::write_txn_markers_request::{
    WritableTxnMarker, WritableTxnMarkerTopic,
};
use kafka_protocol::messages::{ProducerId, TopicName, WriteTxnMarkersRequest};
use kafka_protocol::protocol::StrBytes;

use super::TxnCoordinator;

/// How long one WriteTxnMarkers may take (Kafka's `request.timeout.ms` default).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The pause between rounds while some partition's marker is not written yet.
const RETRY_BACKOFF: Duration = Duration::from_millis(100);

impl TxnCoordinator {
    /// A connection to broker `id`, opened on first use and kept.
    pub(super) async fn connection(&self, id: i32) -> Option<Connection> {
        let mut conns = self.inner.connections.lock().await;
        if let Some(c) = conns.get(&id) {
            if !c.is_closed() {
                return Some(c.clone());
            }
        }
        let md = self.inner.cluster.metadata();
        let b = md.brokers.iter().find(|b| b.id.get() == id)?;
        let addr = format!("{}:{}", b.host, b.port);
        let options = ConnectionOptions {
            client_id: format!("broker-{}-txn-marker-sender", self.inner.config.broker_id),
            request_timeout: REQUEST_TIMEOUT,
            connect_timeout: Duration::from_secs(10),
            ..ConnectionOptions::default()
        };
        match Connection::connect(&addr, options).await {
            Ok(c) => {
                conns.insert(id, c.clone());
                Some(c)
            }
            Err(e) => {
                tracing::warn!(
                    "[TransactionMarkerChannelManager id={}] cannot connect to broker {id} at \
                     {addr}: {e}",
                    self.inner.config.broker_id
                );
                None
            }
        }
    }

    async fn forget_connection(&self, id: i32) {
        self.inner.connections.lock().await.remove(&id);
    }

    /// Sends the marker of producer `producer_id`/`producer_epoch` (commit or abort) to every
    /// partition in `partitions` until each leader has written it. A partition whose topic was
    /// deleted, or whose leader answers UNSUPPORTED_FOR_MESSAGE_FORMAT, needs none. Returns false
    /// when this broker stopped coordinating partition `p` at `coordinator_epoch`, or a leader
    /// fenced it (INVALID_PRODUCER_EPOCH, TRANSACTION_COORDINATOR_FENCED): the transaction is
    /// then left for the new coordinator.
    pub(super) async fn send_markers(
        &self,
        p: i32,
        coordinator_epoch: i32,
        producer_id: i64,
        producer_epoch: i16,
        commit: bool,
        partitions: BTreeSet<(String, i32)>,
    ) -> bool {
        let me = self.inner.config.broker_id;
        let mut remaining = partitions;
        loop {
            if !self.owns(p, coordinator_epoch) {
                return false;
            }
            let md = self.inner.cluster.metadata();
            let mut by_leader: BTreeMap<i32, BTreeMap<String, Vec<i32>>> = BTreeMap::new();
            remaining.retain(|(topic, partition)| {
                let Some(t) = md.topics.get(topic) else {
                    tracing::info!(
                        "[TransactionMarkerChannelManager id={me}] {topic}-{partition} no longer \
                         exists: its marker is not needed"
                    );
                    return false;
                };
                if let Some(info) = t.partitions.iter().find(|i| i.partition == *partition) {
                    if info.leader.get() >= 0 {
                        by_leader
                            .entry(info.leader.get())
                            .or_default()
                            .entry(topic.clone())
                            .or_default()
                            .push(*partition);
                    }
                    true
                } else {
                    false
                }
            });
            for (leader, topics) in by_leader {
                let request = WriteTxnMarkersRequest::default().with_markers(vec![
                    WritableTxnMarker::default()
                        .with_producer_id(ProducerId(producer_id))
                        .with_producer_epoch(producer_epoch)
                        .with_transaction_result(commit)
                        .with_coordinator_epoch(coordinator_epoch)
                        .with_topics(
                            topics
                                .iter()
                                .map(|(topic, ps)| {
                                    WritableTxnMarkerTopic::default()
                                        .with_name(TopicName(StrBytes::from_string(topic.clone())))
                                        .with_partition_indexes(ps.clone())
                                })
                                .collect(),
                        ),
                ]);
                let local = (leader == me)
                    .then(|| self.inner.local_writer.get().cloned())
                    .flatten();
                let response = if let Some(write) = local {
                    write(request).await
                } else {
                    let Some(conn) = self.connection(leader).await else {
                        continue;
                    };
                    match conn.send(request).await {
                        Ok(r) => r,
                        Err(e) => {
                            tracing::warn!(
                                "[TransactionMarkerChannelManager id={me}] WriteTxnMarkers to \
                                 broker {leader} failed: {e}; retrying"
                            );
                            self.forget_connection(leader).await;
                            continue;
                        }
                    }
                };
                for marker in &response.markers {
                    for t in &marker.topics {
                        for r in &t.partitions {
                            let tp = (t.name.0.as_str().to_string(), r.partition_index);
                            match ErrorCode::from_code(r.error_code) {
                                Some(ErrorCode::None | ErrorCode::UnsupportedForMessageFormat) => {
                                    remaining.remove(&tp);
                                }
                                Some(
                                    ErrorCode::InvalidProducerEpoch
                                    | ErrorCode::TransactionCoordinatorFenced,
                                ) => {
                                    tracing::warn!(
                                        "[TransactionMarkerChannelManager id={me}] {}-{} refused \
                                         the marker of producer {producer_id} (error {}): a \
                                         newer coordinator owns the transaction",
                                        tp.0,
                                        tp.1,
                                        r.error_code
                                    );
                                    return false;
                                }
                                _ => {}
                            }
                        }
                    }
                }
            }
            if remaining.is_empty() {
                return true;
            }
            tokio::time::sleep(RETRY_BACKOFF).await;
        }
    }
}
