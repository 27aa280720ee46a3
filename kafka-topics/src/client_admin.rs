//! [`TopicAdmin`] over the client library's `Admin`.

use client::{Admin, ClientError, NewTopic};

use crate::admin_port::{CreateRequest, TopicAdmin};
use std::collections::BTreeMap;

use crate::describe::{ConfigView, PartitionView, ReassignmentView, TopicView};

impl TopicAdmin for Admin {
    async fn list_topics(&self) -> Result<Vec<(String, bool)>, ClientError> {
        Ok(Admin::list_topics(self)
            .await?
            .into_iter()
            .map(|t| (t.name, t.internal))
            .collect())
    }

    async fn create_topic(&self, r: CreateRequest) -> Result<(), ClientError> {
        Admin::create_topic(
            self,
            NewTopic {
                name: r.name,
                num_partitions: r.partitions,
                replication_factor: r.replication_factor,
                replica_assignment: r.replica_assignment,
                configs: r.configs,
            },
        )
        .await
    }

    async fn delete_topic(&self, name: &str) -> Result<(), ClientError> {
        Admin::delete_topic(self, name).await
    }

    async fn create_partitions(
        &self,
        name: &str,
        total: i32,
        assignment: Option<Vec<Vec<i32>>>,
    ) -> Result<(), ClientError> {
        Admin::create_partitions(self, name, total, assignment).await
    }

    async fn describe_topics(&self, names: &[String]) -> Result<Vec<TopicView>, ClientError> {
        Ok(Admin::describe_topics(self, names)
            .await?
            .into_iter()
            .map(|t| TopicView {
                name: t.name,
                topic_id: *t.topic_id.as_bytes(),
                partitions: t
                    .partitions
                    .into_iter()
                    .map(|p| PartitionView {
                        partition: p.partition,
                        leader: p.leader,
                        replicas: p.replicas,
                        isr: p.isr,
                    })
                    .collect(),
            })
            .collect())
    }

    async fn describe_topic_configs(&self, name: &str) -> Result<Vec<ConfigView>, ClientError> {
        Ok(Admin::describe_topic_configs(self, name)
            .await?
            .into_iter()
            .map(|c| ConfigView {
                name: c.name,
                value: c.value,
                is_default: c.is_default,
            })
            .collect())
    }

    async fn live_broker_ids(&self) -> Result<Vec<i32>, ClientError> {
        Admin::live_broker_ids(self).await
    }

    async fn list_partition_reassignments(
        &self,
        partitions: &[(String, i32)],
    ) -> Result<BTreeMap<(String, i32), ReassignmentView>, ClientError> {
        Ok(Admin::list_partition_reassignments(self, Some(partitions))
            .await?
            .into_iter()
            .map(|(tp, r)| {
                let view = ReassignmentView {
                    replicas: r.replicas,
                    adding: r.adding_replicas,
                    removing: r.removing_replicas,
                };
                (tp, view)
            })
            .collect())
    }
}
