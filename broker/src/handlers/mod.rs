//! Request handlers, one file per API family. `dispatch` routes a decoded request to its handler;
//! `SUPPORTED_APIS` is the single source of what ApiVersions advertises and what the network
//! layer accepts.

mod alter_configs;
mod api_versions;
pub(crate) mod config_defs;
mod configs;
mod delete_records;
mod describe_cluster;
mod describe_log_dirs;
mod describe_producers;
#[cfg(test)]
mod edge_tests;
mod elect_leaders;
#[cfg(test)]
mod error_answers;
mod fetch;
#[cfg(test)]
mod group_answers;
mod groups;
mod init_producer_id;
mod list_offsets;
mod metadata;
mod offset_for_leader_epoch;
mod offsets;
mod produce;
#[cfg(test)]
mod protocol_edges;
mod reassignments;
mod topics;
mod txn;
#[cfg(test)]
mod txn_coordinator_tests;
#[cfg(test)]
mod txn_log_tests;
mod txn_markers;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use kafka_protocol::messages::{ApiKey, RequestHeader, RequestKind, ResponseKind};

use common::errors::ErrorCode;

use crate::broker::Broker;
use crate::partitions::HostedPartition;

pub use api_versions::unsupported_version_response;
pub use list_offsets::{
    handle_v0 as list_offsets_v0, ListOffsetsV0, ListOffsetsV0Answer, ListOffsetsV0Partition,
};
pub use offsets::commit_v1 as offset_commit_v1;
pub use txn_markers::handle as write_txn_markers;

/// Markers of transactions `broker` coordinates, for partitions it leads, are written in
/// process by the WriteTxnMarkers handler rather than over its own listener (the server sets
/// this at start-up).
pub fn set_local_marker_writer(broker: &Arc<Broker>) {
    let weak = Arc::downgrade(broker);
    broker.txn.set_local_marker_writer(Arc::new(move |request| {
        let weak = weak.clone();
        Box::pin(async move {
            match weak.upgrade() {
                Some(broker) => write_txn_markers(&broker, request).await,
                // Shutting down: no answer, so the sender retries until it stops.
                None => Default::default(),
            }
        })
    }));
}

/// The APIs this broker implements, with the version ranges it advertises.
///
/// Every range is Kafka 3.9's (`*Request.json` `validVersions`), each version decoded and answered;
/// versions the protocol crate dropped are served by `net::legacy`. Fetch alone stops at 12
/// because v13+ identifies topics by id only.
pub const SUPPORTED_APIS: &[(ApiKey, i16, i16)] = &[
    (ApiKey::Produce, 0, 11),
    (ApiKey::Fetch, 0, 12),
    (ApiKey::ListOffsets, 0, 9),
    (ApiKey::Metadata, 0, 12),
    (ApiKey::ApiVersions, 0, 4),
    (ApiKey::CreateTopics, 0, 7),
    (ApiKey::DeleteTopics, 0, 6),
    (ApiKey::InitProducerId, 0, 5),
    (ApiKey::DescribeConfigs, 0, 4),
    (ApiKey::CreatePartitions, 0, 3),
    (ApiKey::FindCoordinator, 0, 6),
    (ApiKey::JoinGroup, 0, 9),
    (ApiKey::SyncGroup, 0, 5),
    (ApiKey::Heartbeat, 0, 4),
    (ApiKey::LeaveGroup, 0, 5),
    (ApiKey::OffsetCommit, 0, 9),
    (ApiKey::OffsetFetch, 0, 9),
    // KIP-98 transactions: TxnOffsetCommit from producers, WriteTxnMarkers from transaction
    // coordinators (v0 through `net::legacy`).
    (ApiKey::TxnOffsetCommit, 0, 4),
    (ApiKey::WriteTxnMarkers, 0, 1),
    (ApiKey::ListGroups, 0, 5),
    (ApiKey::DescribeGroups, 0, 5),
    (ApiKey::DeleteGroups, 0, 2),
    (ApiKey::OffsetDelete, 0, 0),
    (ApiKey::DescribeCluster, 0, 1),
    (ApiKey::AlterConfigs, 0, 2),
    (ApiKey::IncrementalAlterConfigs, 0, 1),
    (ApiKey::OffsetForLeaderEpoch, 0, 4),
    (ApiKey::ElectLeaders, 0, 2),
    // KIP-455 partition reassignment, forwarded to zookeeper-lite (Kafka 3.9: v0 only).
    (ApiKey::AlterPartitionReassignments, 0, 0),
    (ApiKey::ListPartitionReassignments, 0, 0),
    // KIP-664: the producers with state in a partition (kafka-transactions describe-producers).
    (ApiKey::DescribeProducers, 0, 0),
    // KIP-98 transaction coordinator (`crate::txn`) and its admin (KIP-664).
    (ApiKey::AddPartitionsToTxn, 0, 5),
    (ApiKey::AddOffsetsToTxn, 0, 4),
    (ApiKey::EndTxn, 0, 4),
    (ApiKey::DescribeTransactions, 0, 0),
    (ApiKey::ListTransactions, 0, 1),
    // Log admin: kafka-delete-records (KIP-107) and kafka-log-dirs (KIP-113; v4 adds volume
    // sizes, KIP-827).
    (ApiKey::DeleteRecords, 0, 2),
    (ApiKey::DescribeLogDirs, 0, 4),
];

/// The advertised range of `key`, if we implement it.
pub fn supported_range(key: ApiKey) -> Option<(i16, i16)> {
    SUPPORTED_APIS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, min, max)| (*min, *max))
}

/// The hosted partition `topic`/`partition` if this broker leads it, else the error code a client
/// expects (unknown topic, or "not the leader" so that it refreshes its metadata).
pub(crate) fn leader_partition(
    broker: &Broker,
    topic: &str,
    partition: i32,
) -> Result<Arc<HostedPartition>, i16> {
    let md = broker.cluster.metadata();
    let info = md
        .topics
        .get(topic)
        .and_then(|t| t.partitions.iter().find(|p| p.partition == partition))
        .ok_or(ErrorCode::UnknownTopicOrPartition.code())?;
    if info.leader != broker.config.broker_id {
        return Err(ErrorCode::NotLeaderOrFollower.code());
    }
    broker
        .partitions
        .get(topic, partition)
        .ok_or(ErrorCode::NotLeaderOrFollower.code())
}

/// Everything a handler may need to know about the request besides its body.
pub struct RequestContext<'a> {
    pub header: &'a RequestHeader,
    pub peer: SocketAddr,
}

/// A request's answer still to come, once what it waits for is done; it holds nothing of the
/// request's frame.
pub type LaterResponse = std::pin::Pin<Box<dyn Future<Output = Box<ResponseKind>> + Send>>;

/// What the network layer does after a request was handled.
pub enum Outcome {
    Respond(Box<ResponseKind>),
    /// The request's effects are in place (a produce's batches are in the logs, in request
    /// order), and the response comes once the rest is done (their fsync, their replicas):
    /// the connection starts its next request meanwhile and writes this answer in its turn.
    Later(LaterResponse),
    /// Produce with acks=0 gets no response.
    NoResponse,
    /// Produce with acks=0 that failed for some partition: as Kafka's `handleProduceRequest`,
    /// the connection is closed so that the client, which reads no response, notices and
    /// refreshes its metadata. Carries `topic-partition -> error` for each failure.
    CloseAfterProduceError(String),
    /// The request cannot be served on this connection (an API we do not implement).
    Close,
}

/// Routes one request to its handler.
pub async fn dispatch(
    broker: &Arc<Broker>,
    ctx: &RequestContext<'_>,
    request: RequestKind,
) -> Outcome {
    let version = ctx.header.request_api_version;
    Outcome::Respond(Box::new(match request {
        RequestKind::ApiVersions(_) => ResponseKind::ApiVersions(api_versions::handle()),
        RequestKind::Metadata(r) => {
            ResponseKind::Metadata(metadata::handle(broker, r, version).await)
        }
        RequestKind::CreateTopics(r) => ResponseKind::CreateTopics(topics::create(broker, r).await),
        RequestKind::DeleteTopics(r) => {
            ResponseKind::DeleteTopics(topics::delete(broker, r, version).await)
        }
        RequestKind::CreatePartitions(r) => {
            ResponseKind::CreatePartitions(topics::create_partitions(broker, r).await)
        }
        RequestKind::DescribeConfigs(r) => {
            ResponseKind::DescribeConfigs(configs::describe(broker, r))
        }
        RequestKind::AlterConfigs(r) => {
            ResponseKind::AlterConfigs(alter_configs::alter(broker, r).await)
        }
        RequestKind::IncrementalAlterConfigs(r) => {
            ResponseKind::IncrementalAlterConfigs(alter_configs::incremental_alter(broker, r).await)
        }
        RequestKind::InitProducerId(r) => match r.transactional_id.as_ref() {
            Some(id) => ResponseKind::InitProducerId(
                txn::init_producer_id(broker, &r, id.0.as_str(), version).await,
            ),
            None => ResponseKind::InitProducerId(init_producer_id::handle(broker, r).await),
        },
        RequestKind::AddPartitionsToTxn(r) => {
            ResponseKind::AddPartitionsToTxn(txn::add_partitions(broker, r, version).await)
        }
        RequestKind::AddOffsetsToTxn(r) => {
            ResponseKind::AddOffsetsToTxn(txn::add_offsets(broker, r, version).await)
        }
        RequestKind::EndTxn(r) => ResponseKind::EndTxn(txn::end_txn(broker, r, version).await),
        RequestKind::DescribeTransactions(r) => {
            ResponseKind::DescribeTransactions(txn::describe(broker, r))
        }
        RequestKind::ListTransactions(r) => {
            ResponseKind::ListTransactions(txn::list(broker, r, version))
        }
        RequestKind::ListOffsets(r) => {
            ResponseKind::ListOffsets(list_offsets::handle(broker, r, version).await)
        }
        RequestKind::Produce(r) => {
            let acks = r.acks;
            let started = produce::start(broker, r, version).await;
            if acks != 0 {
                return Outcome::Later(Box::pin(async move {
                    Box::new(ResponseKind::Produce(started.finish().await))
                }));
            }
            // acks=0: no answer, so nothing to wait for once the records are written.
            let response = started.into_written();
            let failed: Vec<String> = response
                .responses
                .iter()
                .flat_map(|t| {
                    t.partition_responses
                        .iter()
                        .filter(|p| p.error_code != 0)
                        .map(move |p| {
                            let error = ErrorCode::from_code(p.error_code)
                                .map_or(format!("error {}", p.error_code), |e| format!("{e:?}"));
                            format!("{}-{} -> {error}", t.name.0.as_str(), p.index)
                        })
                })
                .collect();
            if failed.is_empty() {
                return Outcome::NoResponse;
            }
            return Outcome::CloseAfterProduceError(failed.join(", "));
        }
        RequestKind::Fetch(r) => ResponseKind::Fetch(fetch::handle(broker, r, version).await),
        RequestKind::FindCoordinator(r) => {
            ResponseKind::FindCoordinator(groups::find_coordinator(broker, r, version).await)
        }
        RequestKind::JoinGroup(r) => {
            ResponseKind::JoinGroup(groups::join(broker, ctx, r, version).await)
        }
        RequestKind::SyncGroup(r) => {
            ResponseKind::SyncGroup(groups::sync(broker, r, version).await)
        }
        RequestKind::Heartbeat(r) => ResponseKind::Heartbeat(groups::heartbeat(broker, r)),
        RequestKind::LeaveGroup(r) => ResponseKind::LeaveGroup(groups::leave(broker, r, version)),
        RequestKind::ListGroups(r) => ResponseKind::ListGroups(groups::list(broker, r).await),
        RequestKind::DescribeGroups(r) => {
            ResponseKind::DescribeGroups(groups::describe(broker, r, version).await)
        }
        RequestKind::DeleteGroups(r) => ResponseKind::DeleteGroups(groups::delete(broker, r).await),
        RequestKind::OffsetCommit(r) => {
            ResponseKind::OffsetCommit(offsets::commit(broker, r, version).await)
        }
        RequestKind::OffsetFetch(r) => {
            ResponseKind::OffsetFetch(offsets::fetch(broker, r, version).await)
        }
        RequestKind::TxnOffsetCommit(r) => {
            ResponseKind::TxnOffsetCommit(offsets::txn_commit(broker, r, version).await)
        }
        RequestKind::WriteTxnMarkers(r) => {
            ResponseKind::WriteTxnMarkers(txn_markers::handle(broker, r).await)
        }
        RequestKind::OffsetDelete(r) => {
            ResponseKind::OffsetDelete(offsets::delete(broker, r).await)
        }
        RequestKind::DescribeCluster(r) => {
            ResponseKind::DescribeCluster(describe_cluster::handle(broker, &r, version))
        }
        RequestKind::OffsetForLeaderEpoch(r) => {
            ResponseKind::OffsetForLeaderEpoch(offset_for_leader_epoch::handle(broker, &r))
        }
        RequestKind::ElectLeaders(r) => {
            ResponseKind::ElectLeaders(elect_leaders::handle(broker, r, version).await)
        }
        RequestKind::AlterPartitionReassignments(r) => {
            ResponseKind::AlterPartitionReassignments(reassignments::alter(broker, r).await)
        }
        RequestKind::ListPartitionReassignments(r) => {
            ResponseKind::ListPartitionReassignments(reassignments::list(broker, r).await)
        }
        RequestKind::DescribeProducers(r) => {
            ResponseKind::DescribeProducers(describe_producers::handle(broker, r))
        }
        RequestKind::DeleteRecords(r) => {
            ResponseKind::DeleteRecords(delete_records::handle(broker, r).await)
        }
        RequestKind::DescribeLogDirs(r) => {
            ResponseKind::DescribeLogDirs(describe_log_dirs::handle(broker, r, version).await)
        }
        _ => {
            tracing::error!(
                peer = %ctx.peer,
                api_key = ctx.header.request_api_key,
                "no handler for this API; closing the connection"
            );
            return Outcome::Close;
        }
    }))
}
