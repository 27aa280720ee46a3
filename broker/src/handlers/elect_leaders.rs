//! ElectLeaders (KIP-183 preferred elections, KIP-460 unclean ones), as Kafka 3.9's
//! `KafkaApis.handleElectLeaders` answers it in ZooKeeper mode: the election is zookeeper-lite's
//! (the controller's `processReplicaLeaderElection`), each partition is answered with its own
//! error code and message, and a request naming no partitions (null) covers every partition but
//! hears only of the partitions that were elected or failed (not of those whose leader was
//! already the one asked for). v0 has no election type and elects preferred leaders; v1 adds the
//! type (0 preferred, 1 unclean) and the top-level error code; v2 is flexible.

use std::sync::Arc;

use common::errors::ErrorCode;
use kafka_protocol::messages::elect_leaders_response::{PartitionResult, ReplicaElectionResult};
use kafka_protocol::messages::{ElectLeadersRequest, ElectLeadersResponse, TopicName};
use kafka_protocol::protocol::StrBytes;
use zookeeper_lite::protocol::{ElectionType, TopicPartition};

use crate::broker::Broker;
use crate::cluster::{ElectionOutcome, OpError};

/// Kafka's `ElectionType.valueOf(byte)`; `None` for a value it refuses.
fn election_type(version: i16, value: i8) -> Option<ElectionType> {
    match (version, value) {
        // v0 carries no type: the preferred replica.
        (0, _) | (_, 0) => Some(ElectionType::Preferred),
        (_, 1) => Some(ElectionType::Unclean),
        _ => None,
    }
}

pub async fn handle(
    broker: &Arc<Broker>,
    request: ElectLeadersRequest,
    version: i16,
) -> ElectLeadersResponse {
    // A partition named twice is elected and answered once (Kafka reads the request as a set).
    let named: Option<Vec<TopicPartition>> = request.topic_partitions.as_ref().map(|topics| {
        let mut named = Vec::new();
        for t in topics {
            for &p in &t.partitions {
                let tp = TopicPartition::new(t.topic.0.as_str(), p);
                if !named.contains(&tp) {
                    named.push(tp);
                }
            }
        }
        named
    });
    let Some(election) = election_type(version, request.election_type) else {
        // Kafka's `ElectionType.valueOf` throws IllegalArgumentException; the request's error
        // response is UNKNOWN_SERVER_ERROR, without a message, for the request and for each
        // partition it names.
        let failure = OpError {
            code: ErrorCode::UnknownServerError,
            message: String::new(),
        };
        let failed = named
            .unwrap_or_default()
            .into_iter()
            .map(|tp| (tp, Err(failure.clone())))
            .collect::<Vec<_>>();
        return response(&failed, ErrorCode::UnknownServerError, version);
    };
    let outcomes = match broker.cluster.elect_leaders(election, named.clone()).await {
        Ok(outcomes) => {
            if outcomes.iter().any(|(_, r)| r.is_ok()) {
                // Kafka answers once the new leaders are in the metadata cache
                // (`DelayedElectLeader`); so the next Metadata request here shows them.
                if let Err(e) = broker.refresh_metadata().await {
                    tracing::warn!("metadata refresh after ElectLeaders failed: {e:#}");
                }
            }
            match named {
                Some(_) => outcomes,
                None => outcomes
                    .into_iter()
                    .filter(|(_, r)| !matches!(r, Err(e) if e.code == ErrorCode::ElectionNotNeeded))
                    .collect(),
            }
        }
        Err(e) => {
            // zookeeper-lite refused or did not answer: every partition asked for (every
            // partition we know of, when none were named) fails with that error, as Kafka's
            // partitions do when their election times out.
            tracing::warn!("ElectLeaders ({election:?}) failed: {e}");
            let partitions = named.unwrap_or_else(|| known_partitions(broker));
            partitions
                .into_iter()
                .map(|tp| (tp, Err(e.clone())))
                .collect()
        }
    };
    response(&outcomes, ErrorCode::None, version)
}

fn known_partitions(broker: &Broker) -> Vec<TopicPartition> {
    let md = broker.cluster.metadata();
    md.topics
        .values()
        .flat_map(|t| {
            t.partitions
                .iter()
                .map(|p| TopicPartition::new(t.name.as_str(), p.partition))
        })
        .collect()
}

/// The response: partitions grouped by topic in the order they come; v0 has no top-level error
/// code.
fn response(outcomes: &[ElectionOutcome], error: ErrorCode, version: i16) -> ElectLeadersResponse {
    let mut topics: Vec<ReplicaElectionResult> = Vec::new();
    for (tp, outcome) in outcomes {
        let (code, message) = match outcome {
            Ok(()) => (ErrorCode::None, None),
            Err(e) if e.message.is_empty() => (e.code, None),
            Err(e) => (e.code, Some(StrBytes::from_string(e.message.clone()))),
        };
        let result = PartitionResult::default()
            .with_partition_id(tp.partition)
            .with_error_code(code.code())
            .with_error_message(message);
        match topics.iter_mut().find(|t| t.topic.0.as_str() == tp.topic) {
            Some(t) => t.partition_result.push(result),
            None => topics.push(
                ReplicaElectionResult::default()
                    .with_topic(TopicName(StrBytes::from_string(tp.topic.clone())))
                    .with_partition_result(vec![result]),
            ),
        }
    }
    let top_level = if version >= 1 { error.code() } else { 0 };
    ElectLeadersResponse::default()
        .with_error_code(top_level)
        .with_replica_election_results(topics)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use common::ids::BrokerId;
    use kafka_protocol::messages::elect_leaders_request::TopicPartitions;
    use zookeeper_lite::protocol::{BrokerInfo, NewTopic};

    use crate::broker::start_for_test;
    use crate::cluster::Cluster;
    use crate::handlers::error_answers::wire;

    fn request(election: i8, partitions: Option<&[(&str, i32)]>) -> ElectLeadersRequest {
        let topics = partitions.map(|ps| {
            let mut topics: Vec<TopicPartitions> = Vec::new();
            for &(topic, p) in ps {
                match topics.iter_mut().find(|t| t.topic.0.as_str() == topic) {
                    Some(t) => t.partitions.push(p),
                    None => topics.push(
                        TopicPartitions::default()
                            .with_topic(TopicName(StrBytes::from_string(topic.into())))
                            .with_partitions(vec![p]),
                    ),
                }
            }
            topics
        });
        ElectLeadersRequest::default()
            .with_election_type(election)
            .with_topic_partitions(topics)
            .with_timeout_ms(60_000)
    }

    /// Sends `request` at `version` through the codec both ways; returns the top-level error
    /// and `(topic, partition, error code, message)` per partition.
    async fn elect(
        broker: &Arc<Broker>,
        request: &ElectLeadersRequest,
        version: i16,
    ) -> (i16, Vec<(String, i32, i16, Option<String>)>) {
        let response = wire(
            &handle(broker, wire(request, version), version).await,
            version,
        );
        let partitions = response
            .replica_election_results
            .iter()
            .flat_map(|t| {
                t.partition_result.iter().map(|p| {
                    (
                        t.topic.0.to_string(),
                        p.partition_id,
                        p.error_code,
                        p.error_message.as_ref().map(|m| m.to_string()),
                    )
                })
            })
            .collect();
        (response.error_code, partitions)
    }

    fn leader(broker: &Broker, topic: &str) -> BrokerId {
        broker.cluster.metadata().topics[topic].partitions[0].leader
    }

    const NOT_NEEDED: &str = "Leader election not needed for topic partition.";

    /// Broker 1 prefers partition t-0 but shuts down (leadership moves to us, broker 0): a
    /// preferred election fails until it is back in the ISR, then moves leadership back; asked
    /// again it is not needed. A request naming no partitions hears of the elected and the
    /// failed partitions only.
    #[tokio::test]
    async fn preferred_election_moves_leadership_back_and_answers_each_partition() {
        let (broker, _guard) = start_for_test().await;
        let peer_info = BrokerInfo {
            id: BrokerId(1),
            host: "127.0.0.1".into(),
            port: 9093,
            rack: None,
        };
        let peer = Cluster::connect(&broker.config.zookeeper_connect, peer_info, 60_000)
            .await
            .unwrap();
        peer.register().await.unwrap();
        broker
            .cluster
            .create_topic(NewTopic {
                name: "t".into(),
                num_partitions: 1,
                replication_factor: 2,
                replica_assignment: Some(vec![vec![BrokerId(1), BrokerId(0)]]),
                configs: Default::default(),
                validate_only: false,
            })
            .await
            .unwrap();
        peer.controlled_shutdown().await.unwrap();
        peer.unregister().await;
        broker.refresh_metadata().await.unwrap();
        assert_eq!(leader(&broker, "t"), BrokerId(0));

        let unavailable = (
            "t".to_string(),
            0,
            ErrorCode::PreferredLeaderNotAvailable.code(),
            Some(
                "Failed to elect leader for partition t-0 under strategy \
                 PreferredReplicaPartitionLeaderElectionStrategy"
                    .to_string(),
            ),
        );
        for partitions in [Some(&[("t", 0)][..]), None] {
            let (top, results) = elect(&broker, &request(0, partitions), 2).await;
            assert_eq!((top, results), (0, vec![unavailable.clone()]));
        }

        // Broker 1 comes back and we, the leader, take it back into the ISR.
        peer.register().await.unwrap();
        broker.refresh_metadata().await.unwrap();
        let p = broker.cluster.metadata().topics["t"].partitions[0].clone();
        broker
            .cluster
            .alter_partition(
                "t",
                0,
                p.leader_epoch,
                p.partition_epoch,
                vec![BrokerId(0), BrokerId(1)],
            )
            .await
            .unwrap();

        let (top, results) = elect(&broker, &request(0, None), 2).await;
        assert_eq!((top, results), (0, vec![("t".to_string(), 0, 0, None)]));
        // Answered once the metadata shows the new leader.
        assert_eq!(leader(&broker, "t"), BrokerId(1));

        // Again: nothing to report for every partition; not needed for a named one (v0, which
        // has no election type and no top-level error code, elects preferred leaders).
        assert_eq!(elect(&broker, &request(0, None), 2).await, (0, vec![]));
        let not_needed = vec![(
            "t".to_string(),
            0,
            ErrorCode::ElectionNotNeeded.code(),
            Some(NOT_NEEDED.to_string()),
        )];
        for version in 0..=2 {
            let (top, results) = elect(&broker, &request(0, Some(&[("t", 0)])), version).await;
            assert_eq!((top, results), (0, not_needed.clone()), "v{version}");
        }
        // Unclean: the leader is live, so it is not needed either.
        let (_, results) = elect(&broker, &request(1, Some(&[("t", 0)])), 1).await;
        assert_eq!(results, not_needed);
    }

    #[tokio::test]
    async fn unknown_partitions_and_an_unknown_election_type_are_answered_per_partition() {
        let (broker, _guard) = start_for_test().await;
        super::super::error_answers::create_topic(&broker, "t").await;
        let unknown = |topic: &str, p| {
            (
                topic.to_string(),
                p,
                ErrorCode::UnknownTopicOrPartition.code(),
                Some("The partition does not exist.".to_string()),
            )
        };
        let (top, mut results) = elect(
            &broker,
            &request(0, Some(&[("t", 9), ("ghost", 0), ("t", 0), ("t", 9)])),
            2,
        )
        .await;
        results.sort();
        assert_eq!(top, 0);
        assert_eq!(
            results,
            vec![
                unknown("ghost", 0),
                (
                    "t".to_string(),
                    0,
                    ErrorCode::ElectionNotNeeded.code(),
                    Some(NOT_NEEDED.to_string())
                ),
                unknown("t", 9),
            ]
        );

        // ElectionType 2 does not exist: Kafka's error response for the whole request.
        let (top, results) = elect(&broker, &request(2, Some(&[("t", 0)])), 1).await;
        assert_eq!(top, ErrorCode::UnknownServerError.code());
        assert_eq!(
            results,
            vec![(
                "t".to_string(),
                0,
                ErrorCode::UnknownServerError.code(),
                None
            )]
        );
    }
}
