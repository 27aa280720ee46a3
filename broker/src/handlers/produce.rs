//! Produce: each partition's record batches are validated and appended as received (offsets and
//! leader epoch patched in place, nothing re-encoded); the answer waits for durability per the
//! flush policy. Failures are reported per partition.

use std::sync::Arc;

use bytes::BytesMut;
use kafka_protocol::messages::produce_response::{
    LeaderIdAndEpoch, NodeEndpoint, PartitionProduceResponse, TopicProduceResponse,
};
use kafka_protocol::messages::{BrokerId, ProduceRequest, ProduceResponse};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;

use super::leader_partition;
use crate::log::LogError;
use crate::server::Broker;

fn error(index: i32, code: i16, message: Option<String>) -> PartitionProduceResponse {
    PartitionProduceResponse::default()
        .with_index(index)
        .with_error_code(code)
        .with_base_offset(-1)
        .with_log_append_time_ms(-1)
        .with_log_start_offset(-1)
        .with_error_message(message.map(StrBytes::from_string))
}

/// A refused append as Kafka's `ReplicaManager.appendToLocalLog` reports it. CORRUPT_MESSAGE,
/// MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE and KAFKA_STORAGE_ERROR are "known" failures:
/// log start offset -1 and no message. Any other failure (INVALID_RECORD, sequence and epoch
/// errors, unsupported formats) carries the partition's log start offset; only record
/// validation (INVALID_RECORD) carries its message.
fn append_error(index: i32, e: &LogError, log_start_offset: i64) -> PartitionProduceResponse {
    let code = e.kafka_error_code();
    let known = [
        ResponseError::CorruptMessage.code(),
        ResponseError::MessageTooLarge.code(),
        ResponseError::RecordListTooLarge.code(),
        ResponseError::KafkaStorageError.code(),
    ];
    if known.contains(&code) {
        return error(index, code, None);
    }
    let message = (code == ResponseError::InvalidRecord.code()).then(|| e.to_string());
    error(index, code, message).with_log_start_offset(log_start_offset)
}

/// KIP-951 (v10+): a NOT_LEADER_OR_FOLLOWER answer names the partition's current leader and epoch
/// from the metadata (-1/-1 when unknown), and the response lists the live leader's endpoint, so
/// the client can redirect without a metadata round trip (Kafka's `getCurrentLeader`).
fn current_leader(
    broker: &Broker,
    topic: &str,
    partition: i32,
    endpoints: &mut Vec<NodeEndpoint>,
) -> LeaderIdAndEpoch {
    let md = broker.cluster.metadata();
    let (leader, epoch) = md
        .topics
        .get(topic)
        .and_then(|t| t.partitions.iter().find(|p| p.partition == partition))
        .map_or((-1, -1), |p| (p.leader, p.leader_epoch));
    if let Some(b) = md.brokers.iter().find(|b| b.id == leader) {
        if !endpoints.iter().any(|e| e.node_id.0 == b.id) {
            endpoints.push(
                NodeEndpoint::default()
                    .with_node_id(BrokerId(b.id))
                    .with_host(StrBytes::from_string(b.host.clone()))
                    .with_port(i32::from(b.port))
                    .with_rack(b.rack.clone().map(StrBytes::from_string)),
            );
        }
    }
    LeaderIdAndEpoch::default()
        .with_leader_id(BrokerId(leader))
        .with_leader_epoch(epoch)
}

pub async fn handle(
    broker: &Arc<Broker>,
    request: ProduceRequest,
    version: i16,
) -> ProduceResponse {
    let mut responses = Vec::with_capacity(request.topic_data.len());
    let mut node_endpoints = Vec::new();
    let acks_valid = matches!(request.acks, -1..=1);
    for topic in request.topic_data {
        let name = topic.name.0.as_str().to_string();
        let mut partitions = Vec::with_capacity(topic.partition_data.len());
        for p in topic.partition_data {
            if !acks_valid {
                partitions.push(error(
                    p.index,
                    ResponseError::InvalidRequiredAcks.code(),
                    None,
                ));
                continue;
            }
            let hosted = match leader_partition(broker, &name, p.index) {
                Ok(h) => h,
                Err(code) => {
                    let mut answer = error(p.index, code, None);
                    if version >= 10 && code == ResponseError::NotLeaderOrFollower.code() {
                        answer = answer.with_current_leader(current_leader(
                            broker,
                            &name,
                            p.index,
                            &mut node_endpoints,
                        ));
                    }
                    partitions.push(answer);
                    continue;
                }
            };
            // Kafka's `ProduceRequest.validateRecords` refuses a partition without a batch before
            // any append: INVALID_RECORD with every offset -1 and no message.
            let Some(records) = p.records.filter(|r| !r.is_empty()) else {
                partitions.push(error(p.index, ResponseError::InvalidRecord.code(), None));
                continue;
            };
            // The request buffer is shared with the decoded header fields, so the batches are
            // copied once into a buffer the log may patch in place.
            let payload = BytesMut::from(&records[..]);
            match hosted.log.append(payload, hosted.leader_epoch).await {
                Ok(info) => {
                    broker.appended.notify_waiters();
                    partitions.push(
                        PartitionProduceResponse::default()
                            .with_index(p.index)
                            .with_base_offset(info.base_offset)
                            .with_log_append_time_ms(-1)
                            .with_log_start_offset(info.log_start_offset),
                    );
                }
                Err(e) => {
                    tracing::warn!("produce to {name}-{} refused: {e}", p.index);
                    partitions.push(append_error(p.index, &e, hosted.log.log_start_offset()));
                }
            }
        }
        responses.push(
            TopicProduceResponse::default()
                .with_name(topic.name)
                .with_partition_responses(partitions),
        );
    }
    ProduceResponse::default()
        .with_responses(responses)
        .with_node_endpoints(node_endpoints)
}
