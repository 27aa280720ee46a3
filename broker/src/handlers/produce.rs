//! Produce: each partition's record batches are validated and appended as received (offsets and
//! leader epoch patched in place, nothing re-encoded); the answer waits for durability per the
//! flush policy. Failures are reported per partition.

use std::sync::Arc;

use bytes::BytesMut;
use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::{ProduceRequest, ProduceResponse};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;

use super::leader_partition;
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

pub async fn handle(broker: &Arc<Broker>, request: ProduceRequest) -> ProduceResponse {
    let mut responses = Vec::with_capacity(request.topic_data.len());
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
                    partitions.push(error(p.index, code, None));
                    continue;
                }
            };
            let Some(records) = p.records else {
                partitions.push(error(
                    p.index,
                    ResponseError::CorruptMessage.code(),
                    Some("no records".into()),
                ));
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
                    partitions.push(error(p.index, e.kafka_error_code(), e.client_message()));
                }
            }
        }
        responses.push(
            TopicProduceResponse::default()
                .with_name(topic.name)
                .with_partition_responses(partitions),
        );
    }
    ProduceResponse::default().with_responses(responses)
}
