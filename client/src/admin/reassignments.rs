//! The partition reassignment admin calls `kafka-reassign-partitions` (and `kafka-topics
//! --describe`) make, as Kafka's `KafkaAdminClient` makes them (KIP-455):
//! AlterPartitionReassignments and ListPartitionReassignments, both to the controller.

use std::collections::BTreeMap;

use kafka_protocol::messages::{
    alter_partition_reassignments_request::{ReassignablePartition, ReassignableTopic},
    list_partition_reassignments_request::ListPartitionReassignmentsTopics,
    AlterPartitionReassignmentsRequest, BrokerId, ListPartitionReassignmentsRequest, TopicName,
};
use kafka_protocol::protocol::StrBytes;

use super::{Admin, Target, OPERATION_TIMEOUT_MS};
use crate::error::ClientError;

/// A topic and partition, as the admin calls key their results: `("t", 0)`.
pub type TopicPartitionKey = (String, i32);

/// A reassignment in progress (Kafka's `PartitionReassignment`): every replica of the
/// partition now (the target ones, then those being removed), and the adding and removing ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionReassignment {
    pub replicas: Vec<i32>,
    pub adding_replicas: Vec<i32>,
    pub removing_replicas: Vec<i32>,
}

fn ids(v: &[BrokerId]) -> Vec<i32> {
    v.iter().map(|b| b.0).collect()
}

/// `reassignments` grouped by topic, in first-seen order, for the request.
fn by_topic<T: Clone>(reassignments: &[(TopicPartitionKey, T)]) -> Vec<(String, Vec<(i32, T)>)> {
    let mut out: Vec<(String, Vec<(i32, T)>)> = Vec::new();
    for ((topic, partition), v) in reassignments {
        match out.iter_mut().find(|(t, _)| t == topic) {
            Some((_, ps)) => ps.push((*partition, v.clone())),
            None => out.push((topic.clone(), vec![(*partition, v.clone())])),
        }
    }
    out
}

impl Admin {
    /// Kafka's `Admin.alterPartitionReassignments`: moves each partition to its target
    /// replicas, or cancels its reassignment when the target is `None`. Returns each
    /// partition's outcome; `Err` only when the request as a whole failed (no controller, or a
    /// top-level error).
    pub async fn alter_partition_reassignments(
        &self,
        reassignments: &[(TopicPartitionKey, Option<Vec<i32>>)],
    ) -> Result<Vec<(TopicPartitionKey, Result<(), ClientError>)>, ClientError> {
        let topics = by_topic(reassignments)
            .into_iter()
            .map(|(topic, partitions)| {
                ReassignableTopic::default()
                    .with_name(TopicName(StrBytes::from_string(topic)))
                    .with_partitions(
                        partitions
                            .into_iter()
                            .map(|(partition, replicas)| {
                                ReassignablePartition::default()
                                    .with_partition_index(partition)
                                    .with_replicas(
                                        replicas.map(|r| r.into_iter().map(BrokerId).collect()),
                                    )
                            })
                            .collect(),
                    )
            })
            .collect();
        let request = AlterPartitionReassignmentsRequest::default()
            .with_timeout_ms(OPERATION_TIMEOUT_MS)
            .with_topics(topics);
        self.call("alterPartitionReassignments", Target::Controller, |conn| {
            let request = request.clone();
            async move {
                let response = conn.send(request).await?;
                ClientError::check(response.error_code, response.error_message.as_deref())?;
                let mut out = Vec::new();
                for t in response.responses {
                    for p in t.partitions {
                        out.push((
                            (t.name.0.to_string(), p.partition_index),
                            ClientError::check(p.error_code, p.error_message.as_deref()),
                        ));
                    }
                }
                Ok(out)
            }
        })
        .await
    }

    /// Kafka's `Admin.listPartitionReassignments`: the reassignments in progress among
    /// `partitions` (every partition when `None`), by topic and partition.
    pub async fn list_partition_reassignments(
        &self,
        partitions: Option<&[TopicPartitionKey]>,
    ) -> Result<BTreeMap<TopicPartitionKey, PartitionReassignment>, ClientError> {
        let topics = partitions.map(|ps| {
            let keyed: Vec<(TopicPartitionKey, ())> = ps.iter().map(|k| (k.clone(), ())).collect();
            by_topic(&keyed)
                .into_iter()
                .map(|(topic, partitions)| {
                    ListPartitionReassignmentsTopics::default()
                        .with_name(TopicName(StrBytes::from_string(topic)))
                        .with_partition_indexes(partitions.into_iter().map(|(p, ())| p).collect())
                })
                .collect()
        });
        let request = ListPartitionReassignmentsRequest::default()
            .with_timeout_ms(OPERATION_TIMEOUT_MS)
            .with_topics(topics);
        self.call("listPartitionReassignments", Target::Controller, |conn| {
            let request = request.clone();
            async move {
                let response = conn.send(request).await?;
                ClientError::check(response.error_code, response.error_message.as_deref())?;
                let mut out = BTreeMap::new();
                for t in response.topics {
                    for p in t.partitions {
                        out.insert(
                            (t.name.0.to_string(), p.partition_index),
                            PartitionReassignment {
                                replicas: ids(&p.replicas),
                                adding_replicas: ids(&p.adding_replicas),
                                removing_replicas: ids(&p.removing_replicas),
                            },
                        );
                    }
                }
                Ok(out)
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_are_grouped_by_topic_in_first_seen_order() {
        let k = |t: &str, p: i32| (t.to_string(), p);
        let grouped = by_topic(&[(k("b", 1), 10), (k("a", 0), 20), (k("b", 0), 30)]);
        assert_eq!(
            grouped,
            vec![
                ("b".to_string(), vec![(1, 10), (0, 30)]),
                ("a".to_string(), vec![(0, 20)])
            ]
        );
    }
}
