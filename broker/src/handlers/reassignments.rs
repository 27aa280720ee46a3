//! AlterPartitionReassignments and ListPartitionReassignments (KIP-455), forwarded to
//! zookeeper-lite, which owns the reassignment state (Kafka's controller does). Each partition
//! of an alteration succeeds or fails on its own; when zookeeper-lite cannot be reached the whole
//! request fails with a top-level error, as Kafka's controller answers a request it cannot serve.

use std::collections::BTreeMap;
use std::sync::Arc;

use kafka_protocol::messages::alter_partition_reassignments_response::{
    ReassignablePartitionResponse, ReassignableTopicResponse,
};
use kafka_protocol::messages::list_partition_reassignments_response::{
    OngoingPartitionReassignment, OngoingTopicReassignment,
};
use kafka_protocol::messages::{
    AlterPartitionReassignmentsRequest, AlterPartitionReassignmentsResponse,
    ListPartitionReassignmentsRequest, ListPartitionReassignmentsResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use zookeeper_lite::protocol::{BrokerId, ReassignmentTarget, TopicPartition};

use crate::broker::Broker;

fn wire_ids(ids: &[BrokerId]) -> Vec<kafka_protocol::messages::BrokerId> {
    ids.iter()
        .map(|b| kafka_protocol::messages::BrokerId(b.get()))
        .collect()
}

fn topic_name(name: &str) -> TopicName {
    TopicName(StrBytes::from_string(name.to_string()))
}

/// AlterPartitionReassignments: one answer per partition asked about, grouped by topic in
/// request order.
pub async fn alter(
    broker: &Arc<Broker>,
    request: AlterPartitionReassignmentsRequest,
) -> AlterPartitionReassignmentsResponse {
    let targets: Vec<ReassignmentTarget> = request
        .topics
        .iter()
        .flat_map(|t| {
            t.partitions.iter().map(|p| ReassignmentTarget {
                topic: t.name.0.to_string(),
                partition: p.partition_index,
                replicas: p
                    .replicas
                    .as_ref()
                    .map(|r| r.iter().map(|b| BrokerId(b.0)).collect()),
            })
        })
        .collect();
    let mut results = match broker.cluster.alter_partition_reassignments(targets).await {
        Ok(results) => results.into_iter(),
        Err(e) => {
            return AlterPartitionReassignmentsResponse::default()
                .with_error_code(e.code.code())
                .with_error_message(Some(StrBytes::from_string(e.message)));
        }
    };
    let responses = request
        .topics
        .iter()
        .map(|t| {
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    let error = results.next().and_then(|(_, e)| e);
                    ReassignablePartitionResponse::default()
                        .with_partition_index(p.partition_index)
                        .with_error_code(error.as_ref().map_or(0, |e| e.code.code()))
                        .with_error_message(error.map(|e| StrBytes::from_string(e.message)))
                })
                .collect();
            ReassignableTopicResponse::default()
                .with_name(t.name.clone())
                .with_partitions(partitions)
        })
        .collect();
    AlterPartitionReassignmentsResponse::default()
        .with_error_message(None)
        .with_responses(responses)
}

/// ListPartitionReassignments: the reassignments in progress among the partitions asked about
/// (all when `topics` is null), grouped by topic.
pub async fn list(
    broker: &Arc<Broker>,
    request: ListPartitionReassignmentsRequest,
) -> ListPartitionReassignmentsResponse {
    let partitions = request.topics.as_ref().map(|topics| {
        topics
            .iter()
            .flat_map(|t| {
                t.partition_indexes.iter().map(|&partition| TopicPartition {
                    topic: t.name.0.to_string(),
                    partition,
                })
            })
            .collect()
    });
    let ongoing = match broker
        .cluster
        .list_partition_reassignments(partitions)
        .await
    {
        Ok(ongoing) => ongoing,
        Err(e) => {
            return ListPartitionReassignmentsResponse::default()
                .with_error_code(e.code.code())
                .with_error_message(Some(StrBytes::from_string(e.message)));
        }
    };
    let mut by_topic: BTreeMap<String, Vec<OngoingPartitionReassignment>> = BTreeMap::new();
    for r in ongoing {
        by_topic.entry(r.topic).or_default().push(
            OngoingPartitionReassignment::default()
                .with_partition_index(r.partition)
                .with_replicas(wire_ids(&r.replicas))
                .with_adding_replicas(wire_ids(&r.adding_replicas))
                .with_removing_replicas(wire_ids(&r.removing_replicas)),
        );
    }
    ListPartitionReassignmentsResponse::default()
        .with_error_message(None)
        .with_topics(
            by_topic
                .into_iter()
                .map(|(name, partitions)| {
                    OngoingTopicReassignment::default()
                        .with_name(topic_name(&name))
                        .with_partitions(partitions)
                })
                .collect(),
        )
}
