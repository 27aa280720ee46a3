//! DescribeProducers (API 61, KIP-664): per requested partition hosted here (as leader or
//! follower), every producer with state in its log: producer id and epoch, last sequence, last
//! timestamp, the coordinator epoch of its last marker and the first offset of the transaction
//! it has open (-1 if none). Kafka's `ReplicaManager.activeProducerState` /
//! `UnifiedLog.activeProducers`: a partition not hosted here is NOT_LEADER_OR_FOLLOWER when the
//! cluster knows it, else UNKNOWN_TOPIC_OR_PARTITION.

use std::sync::Arc;

use common::errors::ErrorCode;
use kafka_protocol::messages::describe_producers_response::{
    PartitionResponse, ProducerState, TopicResponse,
};
use kafka_protocol::messages::{DescribeProducersRequest, DescribeProducersResponse, ProducerId};

use crate::broker::Broker;
use crate::log::producer_state::ProducerEntry;

/// One producer as DescribeProducers reports it.
fn producer_state(entry: &ProducerEntry) -> ProducerState {
    ProducerState::default()
        .with_producer_id(ProducerId(entry.producer_id))
        .with_producer_epoch(i32::from(entry.epoch))
        .with_last_sequence(entry.batches.back().map_or(-1, |b| b.last_seq))
        .with_last_timestamp(entry.last_timestamp)
        .with_coordinator_epoch(entry.coordinator_epoch)
        .with_current_txn_start_offset(entry.current_txn_first_offset.unwrap_or(-1))
}

pub fn handle(
    broker: &Arc<Broker>,
    request: DescribeProducersRequest,
) -> DescribeProducersResponse {
    let md = broker.cluster.metadata();
    let topics = request
        .topics
        .into_iter()
        .map(|topic| {
            let name = topic.name.0.as_str();
            let partitions = topic
                .partition_indexes
                .iter()
                .map(|&index| {
                    let answer = PartitionResponse::default().with_partition_index(index);
                    match broker.partitions.get(name, index) {
                        Some(hosted) => answer.with_active_producers(
                            hosted
                                .log
                                .producer_states()
                                .iter()
                                .map(producer_state)
                                .collect(),
                        ),
                        None => {
                            let known = md
                                .topics
                                .get(name)
                                .is_some_and(|t| t.partitions.iter().any(|p| p.partition == index));
                            let code = if known {
                                ErrorCode::NotLeaderOrFollower
                            } else {
                                ErrorCode::UnknownTopicOrPartition
                            };
                            answer.with_error_code(code.code())
                        }
                    }
                })
                .collect();
            TopicResponse::default()
                .with_name(topic.name)
                .with_partitions(partitions)
        })
        .collect();
    DescribeProducersResponse::default().with_topics(topics)
}
