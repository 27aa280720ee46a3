//! The leader election admin call `kafka-leader-election` makes, as Kafka's
//! `KafkaAdminClient.electLeaders` makes it: one ElectLeaders request to the controller, each
//! partition's outcome read from the answer (`ElectLeadersResponse.electLeadersResult`), a
//! top-level error failing the whole call.

use std::fmt;

use kafka_protocol::messages::elect_leaders_request::TopicPartitions;
use kafka_protocol::messages::{ElectLeadersRequest, ElectLeadersResponse, TopicName};
use kafka_protocol::protocol::StrBytes;

use super::{Admin, Target};
use crate::error::ClientError;

/// Kafka's `org.apache.kafka.common.ElectionType` (KIP-460).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElectionType {
    /// Elect the preferred replica (the first of the assignment) if it is live and in sync.
    Preferred,
    /// Elect any live replica for a partition without a leader, out of sync if need be.
    Unclean,
}

impl ElectionType {
    /// Both, in Kafka's declaration order.
    pub const ALL: [ElectionType; 2] = [ElectionType::Preferred, ElectionType::Unclean];

    /// The wire value (`ElectionType.value`): 0 preferred, 1 unclean.
    pub fn value(self) -> i8 {
        match self {
            ElectionType::Preferred => 0,
            ElectionType::Unclean => 1,
        }
    }

    /// The Java constant's name, as Kafka's tools print the type.
    pub fn name(self) -> &'static str {
        match self {
            ElectionType::Preferred => "PREFERRED",
            ElectionType::Unclean => "UNCLEAN",
        }
    }
}

impl fmt::Display for ElectionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One partition of an election's answer (an entry of Kafka's `ElectLeadersResult.partitions()`):
/// `error` is `None` when a leader was elected; ELECTION_NOT_NEEDED says the leader asked for
/// already leads.
#[derive(Debug, Clone)]
pub struct ElectionResult {
    pub topic: String,
    pub partition: i32,
    pub error: Option<ClientError>,
}

/// Kafka's `ElectLeadersRequest.Builder.toRequestData`: partitions grouped by topic in the order
/// given, `None` sent as a null list (every partition).
fn request(
    election: ElectionType,
    partitions: Option<&[(String, i32)]>,
    timeout_ms: i32,
) -> ElectLeadersRequest {
    let topics = partitions.map(|ps| {
        let mut topics: Vec<TopicPartitions> = Vec::new();
        for (topic, partition) in ps {
            match topics.iter_mut().find(|t| t.topic.0.as_str() == topic) {
                Some(t) => t.partitions.push(*partition),
                None => topics.push(
                    TopicPartitions::default()
                        .with_topic(TopicName(StrBytes::from_string(topic.clone())))
                        .with_partitions(vec![*partition]),
                ),
            }
        }
        topics
    });
    ElectLeadersRequest::default()
        .with_election_type(election.value())
        .with_topic_partitions(topics)
        .with_timeout_ms(timeout_ms)
}

/// Each partition's outcome in the order answered; a top-level error (v1+) fails the call with
/// Kafka's default text for it, as `KafkaAdminClient` does.
fn results(response: &ElectLeadersResponse) -> Result<Vec<ElectionResult>, ClientError> {
    ClientError::check(response.error_code, None)?;
    Ok(response
        .replica_election_results
        .iter()
        .flat_map(|t| {
            t.partition_result.iter().map(|p| ElectionResult {
                topic: t.topic.0.to_string(),
                partition: p.partition_id,
                error: ClientError::check(p.error_code, p.error_message.as_deref()).err(),
            })
        })
        .collect())
}

impl Admin {
    /// Kafka's `Admin.electLeaders`: elects `election` leaders for `partitions` (every
    /// partition when `None`; the answer then leaves out those that needed no election) on the
    /// controller. ElectLeaders v0 knows only preferred elections: an unclean one against a
    /// broker that speaks only v0 fails with Kafka's UnsupportedVersionException text.
    pub async fn elect_leaders(
        &self,
        election: ElectionType,
        partitions: Option<Vec<(String, i32)>>,
    ) -> Result<Vec<ElectionResult>, ClientError> {
        let timeout_ms = i32::try_from(self.api_timeout.as_millis()).unwrap_or(i32::MAX);
        let request = request(election, partitions.as_deref(), timeout_ms);
        self.call("electLeaders", Target::Controller, |conn| {
            let request = request.clone();
            async move {
                if election != ElectionType::Preferred
                    && conn.version_for::<ElectLeadersRequest>()? == 0
                {
                    return Err(ClientError::UnsupportedVersion(
                        "API Version 0 only supports PREFERRED election type".to_string(),
                    ));
                }
                let response = conn.send(request).await?;
                results(&response)
            }
        })
        .await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use kafka_protocol::messages::elect_leaders_response::{
        PartitionResult, ReplicaElectionResult,
    };

    #[test]
    fn partitions_are_grouped_by_topic_and_none_is_a_null_list() {
        let ps = vec![
            ("a".to_string(), 1),
            ("b".to_string(), 0),
            ("a".to_string(), 0),
        ];
        let r = request(ElectionType::Unclean, Some(&ps), 30_000);
        assert_eq!(r.election_type, 1);
        assert_eq!(r.timeout_ms, 30_000);
        let topics: Vec<(String, Vec<i32>)> = r
            .topic_partitions
            .unwrap()
            .iter()
            .map(|t| (t.topic.0.to_string(), t.partitions.clone()))
            .collect();
        assert_eq!(
            topics,
            vec![("a".to_string(), vec![1, 0]), ("b".to_string(), vec![0])]
        );
        assert!(request(ElectionType::Preferred, None, 1)
            .topic_partitions
            .is_none());
    }

    #[test]
    fn each_partition_gets_its_error_and_a_top_level_error_fails_the_call() {
        let partition = |id, code, message: Option<&str>| {
            PartitionResult::default()
                .with_partition_id(id)
                .with_error_code(code)
                .with_error_message(message.map(|m| StrBytes::from_string(m.to_string())))
        };
        let response = ElectLeadersResponse::default().with_replica_election_results(vec![
            ReplicaElectionResult::default()
                .with_topic(TopicName(StrBytes::from_static_str("t")))
                .with_partition_result(vec![
                    partition(0, 0, None),
                    partition(1, 84, None),
                    partition(2, 80, Some("Failed to elect leader for partition t-2")),
                ]),
        ]);
        type Outcome = (String, i32, Option<(i16, String)>);
        let got: Vec<Outcome> = results(&response)
            .unwrap()
            .into_iter()
            .map(|r| {
                let error = r.error.map(|e| (e.code().unwrap(), e.to_string()));
                (r.topic, r.partition, error)
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("t".to_string(), 0, None),
                (
                    "t".to_string(),
                    1,
                    Some((84, "Leader election not needed for topic partition.".into()))
                ),
                (
                    "t".to_string(),
                    2,
                    Some((80, "Failed to elect leader for partition t-2".into()))
                ),
            ]
        );
        let refused = response.with_error_code(31);
        let e = results(&refused).unwrap_err();
        assert_eq!(e.code(), Some(31));
    }

    #[test]
    fn election_types_print_as_javas_constants() {
        assert_eq!(ElectionType::Preferred.to_string(), "PREFERRED");
        assert_eq!(ElectionType::Unclean.value(), 1);
    }
}
