//! `Admin.describeCluster`: the cluster id, the controller and the brokers with their addresses
//! and racks. Like Kafka 3.9's `KafkaAdminClient.describeCluster` when bootstrapped from brokers
//! (not from controllers), it asks for Metadata of no topics, which every Kafka broker serves.

use super::{Admin, Target};
use crate::error::ClientError;
use crate::metadata::BrokerNode;

/// What `describe_cluster` reports (Kafka's `DescribeClusterResult`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterDescription {
    /// `None` when the broker sent no cluster id (Metadata before v2).
    pub cluster_id: Option<String>,
    /// The controller's broker id, `None` when the broker named none (-1).
    pub controller: Option<i32>,
    /// The live brokers, sorted by id.
    pub brokers: Vec<BrokerNode>,
}

impl Admin {
    /// Describes the cluster through a Metadata request for no topics (see the module doc).
    /// Fails with a timeout when no broker can be reached within the API timeout.
    pub async fn describe_cluster(&self) -> Result<ClusterDescription, ClientError> {
        let snapshot = self
            .call("describeCluster", Target::Any, |_| {
                self.cluster.refresh(Some(&[]), false)
            })
            .await?;
        Ok(ClusterDescription {
            cluster_id: snapshot.cluster_id.clone(),
            controller: (snapshot.controller_id >= 0).then_some(snapshot.controller_id),
            brokers: snapshot.brokers.values().cloned().collect(),
        })
    }
}
