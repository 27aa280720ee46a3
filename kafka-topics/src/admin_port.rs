//! What kafka-topics needs from an admin client, as a small trait so the command logic can be
//! tested against an in-memory cluster; `client_admin.rs` implements it over `client::Admin`.

use std::collections::BTreeMap;

use client::ClientError;

use crate::describe::{ConfigView, ReassignmentView, TopicView};

/// A CreateTopics request as kafka-topics builds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateRequest {
    pub name: String,
    /// None: the broker's default (sent as -1).
    pub partitions: Option<i32>,
    pub replication_factor: Option<i16>,
    pub replica_assignment: Option<Vec<Vec<i32>>>,
    pub configs: Vec<(String, String)>,
}

#[allow(async_fn_in_trait)]
pub trait TopicAdmin {
    /// Every topic name with its internal flag.
    async fn list_topics(&self) -> Result<Vec<(String, bool)>, ClientError>;
    async fn create_topic(&self, request: CreateRequest) -> Result<(), ClientError>;
    async fn delete_topic(&self, name: &str) -> Result<(), ClientError>;
    /// Grows `name` to `total` partitions; `assignment` lists replicas of the new ones only.
    async fn create_partitions(
        &self,
        name: &str,
        total: i32,
        assignment: Option<Vec<Vec<i32>>>,
    ) -> Result<(), ClientError>;
    async fn describe_topics(&self, names: &[String]) -> Result<Vec<TopicView>, ClientError>;
    async fn describe_topic_configs(&self, name: &str) -> Result<Vec<ConfigView>, ClientError>;
    async fn live_broker_ids(&self) -> Result<Vec<i32>, ClientError>;
    /// The reassignments in progress among `partitions` (ListPartitionReassignments); none by
    /// default, as from a cluster that cannot reassign.
    async fn list_partition_reassignments(
        &self,
        _partitions: &[(String, i32)],
    ) -> Result<BTreeMap<(String, i32), ReassignmentView>, ClientError> {
        Ok(BTreeMap::new())
    }
}
