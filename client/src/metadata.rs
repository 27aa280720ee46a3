//! The client's view of the cluster as a Metadata response describes it: brokers, the
//! controller, topics with their ids and partitions. Pure data and conversions; `cluster` does
//! the fetching and caching.

use std::collections::BTreeMap;

use kafka_protocol::messages::{
    metadata_request::MetadataRequestTopic, MetadataRequest, MetadataResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerNode {
    pub id: i32,
    pub host: String,
    pub port: i32,
    pub rack: Option<String>,
}

impl BrokerNode {
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionMetadata {
    pub partition: i32,
    pub error_code: i16,
    /// -1 when the partition has no leader.
    pub leader: i32,
    pub leader_epoch: i32,
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
    pub offline_replicas: Vec<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicMetadata {
    pub name: String,
    pub error_code: i16,
    pub topic_id: Uuid,
    pub internal: bool,
    /// Sorted by partition id.
    pub partitions: Vec<PartitionMetadata>,
}

impl TopicMetadata {
    /// Partitions that currently have a leader, for round-robin placement.
    pub fn available_partitions(&self) -> Vec<i32> {
        self.partitions
            .iter()
            .filter(|p| p.leader >= 0)
            .map(|p| p.partition)
            .collect()
    }

    pub fn partition(&self, partition: i32) -> Option<&PartitionMetadata> {
        self.partitions.iter().find(|p| p.partition == partition)
    }
}

/// Everything one Metadata response said.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterSnapshot {
    pub cluster_id: Option<String>,
    /// -1 if unknown.
    pub controller_id: i32,
    pub brokers: BTreeMap<i32, BrokerNode>,
    pub topics: BTreeMap<String, TopicMetadata>,
}

impl ClusterSnapshot {
    pub fn leader_of(&self, topic: &str, partition: i32) -> Option<i32> {
        self.topics
            .get(topic)
            .and_then(|t| t.partition(partition))
            .map(|p| p.leader)
            .filter(|l| *l >= 0)
    }

    /// How many partitions `topic` has by this metadata: 0 when the topic is absent or was
    /// answered with an error (unknown, leader not available while being created). Kafka's
    /// consumer compares these counts (its `MetadataSnapshot`) to notice topics and partitions
    /// that appeared since the last assignment.
    pub fn partition_count(&self, topic: &str) -> i32 {
        self.topics
            .get(topic)
            .filter(|t| t.error_code == 0)
            .map_or(0, |t| t.partitions.len() as i32)
    }

    /// `partition_count` for each of `topics`.
    pub fn partition_counts<'a>(
        &self,
        topics: impl IntoIterator<Item = &'a String>,
    ) -> BTreeMap<String, i32> {
        topics
            .into_iter()
            .map(|t| (t.clone(), self.partition_count(t)))
            .collect()
    }
}

/// A Metadata request for `topics` (None = every topic).
pub fn metadata_request(
    topics: Option<&[String]>,
    allow_auto_topic_creation: bool,
) -> MetadataRequest {
    let topics = topics.map(|names| {
        names
            .iter()
            .map(|n| {
                MetadataRequestTopic::default()
                    .with_name(Some(TopicName(StrBytes::from_string(n.clone()))))
            })
            .collect()
    });
    MetadataRequest::default()
        .with_topics(topics)
        .with_allow_auto_topic_creation(allow_auto_topic_creation)
}

/// Converts a Metadata response into our snapshot.
pub fn parse_metadata(response: MetadataResponse) -> ClusterSnapshot {
    let brokers = response
        .brokers
        .into_iter()
        .map(|b| {
            let node = BrokerNode {
                id: b.node_id.0,
                host: b.host.to_string(),
                port: b.port,
                rack: b.rack.map(|r| r.to_string()),
            };
            (node.id, node)
        })
        .collect();
    let topics = response
        .topics
        .into_iter()
        .filter_map(|t| {
            let name = t.name?.0.to_string();
            let mut partitions: Vec<PartitionMetadata> = t
                .partitions
                .into_iter()
                .map(|p| PartitionMetadata {
                    partition: p.partition_index,
                    error_code: p.error_code,
                    leader: p.leader_id.0,
                    leader_epoch: p.leader_epoch,
                    replicas: p.replica_nodes.into_iter().map(|b| b.0).collect(),
                    isr: p.isr_nodes.into_iter().map(|b| b.0).collect(),
                    offline_replicas: p.offline_replicas.into_iter().map(|b| b.0).collect(),
                })
                .collect();
            partitions.sort_by_key(|p| p.partition);
            Some((
                name.clone(),
                TopicMetadata {
                    name,
                    error_code: t.error_code,
                    topic_id: t.topic_id,
                    internal: t.is_internal,
                    partitions,
                },
            ))
        })
        .collect();
    ClusterSnapshot {
        cluster_id: response.cluster_id.map(|c| c.to_string()),
        controller_id: response.controller_id.0,
        brokers,
        topics,
    }
}

/// Parses "host:port,host:port" (Kafka's `bootstrap.servers`) with the texts of Kafka's
/// `ClientUtils.parseAndValidateAddresses`: `Invalid url in bootstrap.servers: <entry>` for an
/// entry without a host or a numeric port, `Invalid port in bootstrap.servers: <entry>` for a
/// port above 65535, `No resolvable bootstrap urls given in bootstrap.servers` for none.
pub fn parse_bootstrap(servers: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for part in servers.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let invalid_url = || format!("Invalid url in bootstrap.servers: {part}");
        let Some((host, port)) = part.rsplit_once(':') else {
            return Err(invalid_url());
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() || port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid_url());
        }
        if port.parse::<u16>().is_err() {
            return Err(format!("Invalid port in bootstrap.servers: {part}"));
        }
        out.push(part.to_string());
    }
    if out.is_empty() {
        return Err("No resolvable bootstrap urls given in bootstrap.servers".to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::errors::codes::{LEADER_NOT_AVAILABLE, UNKNOWN_TOPIC_OR_PARTITION};
    use kafka_protocol::messages::metadata_response::{
        MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
    };
    use kafka_protocol::messages::BrokerId;

    #[test]
    fn bootstrap_list_is_split_and_checked() {
        assert_eq!(
            parse_bootstrap("localhost:9092, b:1").ok(),
            Some(vec!["localhost:9092".to_string(), "b:1".to_string()])
        );
        assert_eq!(
            parse_bootstrap("localhost").err().as_deref(),
            Some("Invalid url in bootstrap.servers: localhost")
        );
        assert_eq!(
            parse_bootstrap("h:notaport").err().as_deref(),
            Some("Invalid url in bootstrap.servers: h:notaport")
        );
        assert_eq!(
            parse_bootstrap("127.0.0.1:99999").err().as_deref(),
            Some("Invalid port in bootstrap.servers: 127.0.0.1:99999")
        );
        assert_eq!(
            parse_bootstrap("").err().as_deref(),
            Some("No resolvable bootstrap urls given in bootstrap.servers")
        );
    }

    #[test]
    fn response_becomes_snapshot_with_sorted_partitions() {
        let response = MetadataResponse::default()
            .with_controller_id(BrokerId(1))
            .with_brokers(vec![MetadataResponseBroker::default()
                .with_node_id(BrokerId(1))
                .with_host(StrBytes::from_static_str("h"))
                .with_port(9092)])
            .with_topics(vec![MetadataResponseTopic::default()
                .with_name(Some(TopicName(StrBytes::from_static_str("t"))))
                .with_partitions(vec![
                    MetadataResponsePartition::default()
                        .with_partition_index(1)
                        .with_leader_id(BrokerId(-1)),
                    MetadataResponsePartition::default()
                        .with_partition_index(0)
                        .with_leader_id(BrokerId(1)),
                ])]);
        let snap = parse_metadata(response);
        assert_eq!(snap.controller_id, 1);
        assert_eq!(snap.brokers[&1].address(), "h:9092");
        let t = &snap.topics["t"];
        assert_eq!(t.partitions[0].partition, 0);
        assert_eq!(t.available_partitions(), vec![0]);
        assert_eq!(snap.leader_of("t", 0), Some(1));
        assert_eq!(snap.leader_of("t", 1), None);
        assert_eq!(snap.partition_count("t"), 2);
        assert_eq!(snap.partition_count("missing"), 0);
    }

    #[test]
    fn topic_answered_with_an_error_counts_no_partitions() {
        let response = MetadataResponse::default().with_topics(vec![
            MetadataResponseTopic::default()
                .with_name(Some(TopicName(StrBytes::from_static_str("late"))))
                .with_error_code(UNKNOWN_TOPIC_OR_PARTITION),
            MetadataResponseTopic::default()
                .with_name(Some(TopicName(StrBytes::from_static_str("new"))))
                .with_error_code(LEADER_NOT_AVAILABLE),
        ]);
        let snap = parse_metadata(response);
        let names = ["late".to_string(), "new".to_string()];
        let counts = snap.partition_counts(names.iter());
        assert_eq!(counts.get("late"), Some(&0));
        assert_eq!(counts.get("new"), Some(&0));
    }
}
