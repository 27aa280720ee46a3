//! The admin calls `kafka-topics` makes, as Kafka's `KafkaAdminClient` makes them: Metadata for
//! listing and describing, CreateTopics / DeleteTopics / CreatePartitions to the controller,
//! DescribeConfigs for topic configs; the config, group, leader election and reassignment calls
//! of the other tools live in the submodules. A call retries while no broker can be reached and gives up
//! after the API timeout with Kafka's "Timed out waiting for a node assignment" text.

use std::future::Future;
use std::time::{Duration, Instant};

use base64::Engine;
use kafka_protocol::messages::{
    create_partitions_request::{CreatePartitionsAssignment, CreatePartitionsTopic},
    create_topics_request::{CreatableReplicaAssignment, CreatableTopic, CreatableTopicConfig},
    describe_configs_request::DescribeConfigsResource,
    BrokerId, CreatePartitionsRequest, CreateTopicsRequest, DeleteTopicsRequest,
    DescribeConfigsRequest, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use uuid::Uuid;

use common::errors::codes::{NOT_CONTROLLER, UNKNOWN_TOPIC_OR_PARTITION};

use crate::cluster::Cluster;
use crate::connection::{Connection, ConnectionOptions};
use crate::error::ClientError;

mod assignment;
mod cluster;
mod configs;
mod delete_records;
mod election;
mod groups;
mod log_dirs;
mod reassignments;
mod transactions;

pub use assignment::decode_assignment_partitions;
pub use cluster::ClusterDescription;
pub use configs::{
    config_source_name, AlterConfigOp, AlterOpType, ConfigResource, ConfigResourceType,
    ConfigSynonym, DescribedConfig,
};
pub use delete_records::DeletedRecords;
pub use election::{ElectionResult, ElectionType};
pub use groups::{
    GroupDescription, GroupListing, GroupOffset, ListedOffset, MemberDescription, OffsetSpec,
    PartitionResults,
};
pub use log_dirs::{BrokerLogDirs, LogDirDescription, ReplicaInfo};
pub use reassignments::{PartitionReassignment, TopicPartitionKey};
pub use transactions::{
    AbortTransactionSpec, ListTransactionsOptions, ProducerStateInfo, TransactionDescription,
    TransactionListing,
};

/// Kafka's `default.api.timeout.ms`.
pub const DEFAULT_API_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the broker may take for a topic change (the admin client's request timeout).
const OPERATION_TIMEOUT_MS: i32 = 30_000;
const RETRY_BACKOFF: Duration = Duration::from_millis(100);
/// DescribeConfigs resource type for topics.
const RESOURCE_TOPIC: i8 = 2;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicListing {
    pub name: String,
    pub internal: bool,
}

/// A topic to create. `None` counts mean "the broker's default" (sent as -1, needs CreateTopics v4).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewTopic {
    pub name: String,
    pub num_partitions: Option<i32>,
    pub replication_factor: Option<i16>,
    /// Replica lists by partition index; excludes the two counts.
    pub replica_assignment: Option<Vec<Vec<i32>>>,
    pub configs: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionDescription {
    pub partition: i32,
    pub leader: Option<i32>,
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicDescription {
    pub name: String,
    pub topic_id: Uuid,
    pub internal: bool,
    /// Sorted by partition id.
    pub partitions: Vec<PartitionDescription>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigEntry {
    pub name: String,
    pub value: Option<String>,
    /// 1 TOPIC_CONFIG, 2 DYNAMIC_BROKER, 3 DYNAMIC_DEFAULT_BROKER, 4 STATIC_BROKER, 5 DEFAULT_CONFIG.
    pub source: i8,
    pub is_default: bool,
}

/// Kafka's text form of a topic id: URL-safe base64 without padding (22 characters).
pub fn format_topic_id(id: &Uuid) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id.as_bytes())
}

pub struct Admin {
    cluster: Cluster,
    api_timeout: Duration,
}

enum Target {
    Any,
    Controller,
    /// A broker by id (looked up in the metadata, fetched first if it is not known yet).
    Broker(i32),
}

impl Admin {
    /// Prepares an admin client; brokers are contacted by the first call.
    pub async fn connect(bootstrap_servers: &str, client_id: &str) -> Result<Admin, ClientError> {
        Self::connect_with_timeout(bootstrap_servers, client_id, DEFAULT_API_TIMEOUT).await
    }

    /// As `connect`, with `api_timeout` instead of Kafka's 60 s for each call.
    pub async fn connect_with_timeout(
        bootstrap_servers: &str,
        client_id: &str,
        api_timeout: Duration,
    ) -> Result<Admin, ClientError> {
        let options = ConnectionOptions {
            client_id: client_id.to_string(),
            request_timeout: Duration::from_secs(30),
            connect_timeout: api_timeout.min(Duration::from_secs(10)),
            ..Default::default()
        };
        Ok(Admin {
            cluster: Cluster::new(bootstrap_servers, options)?,
            api_timeout,
        })
    }

    /// Runs `f` against the target broker; while no broker answers (connection errors) or the
    /// controller moved, retries until the API timeout.
    async fn call<T, F, Fut>(&self, call: &str, target: Target, f: F) -> Result<T, ClientError>
    where
        F: Fn(Connection) -> Fut,
        Fut: Future<Output = Result<T, ClientError>>,
    {
        let deadline = Instant::now() + self.api_timeout;
        loop {
            let conn = match target {
                Target::Any => self.cluster.any_connection().await,
                Target::Controller => self.cluster.controller_connection().await,
                Target::Broker(id) => {
                    if !self.cluster.snapshot().brokers.contains_key(&id) {
                        // Unknown brokers are reported by `connection` below.
                        let _ = self.cluster.refresh(Some(&[]), false).await;
                    }
                    self.cluster.connection(id).await
                }
            };
            let result = match conn {
                Ok(conn) => f(conn).await,
                Err(e) => Err(e),
            };
            match result {
                Err(e) if Self::worth_retrying(&e) => {
                    if Instant::now() + RETRY_BACKOFF >= deadline {
                        return Err(match e {
                            ClientError::Kafka { .. } => e,
                            _ => ClientError::Timeout(format!(
                                "Timed out waiting for a node assignment. Call: {call}"
                            )),
                        });
                    }
                    tracing::debug!("{call}: retrying after {e}");
                    tokio::time::sleep(RETRY_BACKOFF).await;
                }
                other => return other,
            }
        }
    }

    fn worth_retrying(e: &ClientError) -> bool {
        match e {
            ClientError::Io { .. } => true,
            ClientError::Timeout(_) => true,
            ClientError::Kafka { code, .. } => *code == NOT_CONTROLLER,
            _ => false,
        }
    }

    /// Every topic, internal ones included, sorted by name.
    pub async fn list_topics(&self) -> Result<Vec<TopicListing>, ClientError> {
        let snapshot = self
            .call("listTopics", Target::Any, |_| {
                self.cluster.refresh(None, false)
            })
            .await?;
        Ok(snapshot
            .topics
            .values()
            .map(|t| TopicListing {
                name: t.name.clone(),
                internal: t.internal,
            })
            .collect())
    }

    pub async fn create_topic(&self, topic: NewTopic) -> Result<(), ClientError> {
        let mut creatable = CreatableTopic::default()
            .with_name(TopicName(StrBytes::from_string(topic.name.clone())))
            .with_num_partitions(topic.num_partitions.unwrap_or(-1))
            .with_replication_factor(topic.replication_factor.unwrap_or(-1))
            .with_configs(
                topic
                    .configs
                    .iter()
                    .map(|(k, v)| {
                        CreatableTopicConfig::default()
                            .with_name(StrBytes::from_string(k.clone()))
                            .with_value(Some(StrBytes::from_string(v.clone())))
                    })
                    .collect(),
            );
        if let Some(assignment) = &topic.replica_assignment {
            creatable = creatable
                .with_num_partitions(-1)
                .with_replication_factor(-1)
                .with_assignments(
                    assignment
                        .iter()
                        .enumerate()
                        .map(|(i, brokers)| {
                            CreatableReplicaAssignment::default()
                                .with_partition_index(i as i32)
                                .with_broker_ids(brokers.iter().map(|b| BrokerId(*b)).collect())
                        })
                        .collect(),
                );
        }
        let uses_defaults = creatable.num_partitions == -1 || creatable.replication_factor == -1;
        let uses_defaults = uses_defaults && topic.replica_assignment.is_none();
        let request = CreateTopicsRequest::default()
            .with_topics(vec![creatable])
            .with_timeout_ms(OPERATION_TIMEOUT_MS)
            .with_validate_only(false);
        self.call("createTopics", Target::Controller, |conn| {
            let request = request.clone();
            async move {
                if uses_defaults && conn.version_for::<CreateTopicsRequest>()? < 4 {
                    return Err(ClientError::UnsupportedVersion(
                        "Attempted to use broker-side defaults for partitions or replication factor with an older broker (CreateTopics v4+ needed)".to_string(),
                    ));
                }
                let response = conn.send(request).await?;
                for result in &response.topics {
                    ClientError::check(result.error_code, result.error_message.as_deref())?;
                }
                Ok(())
            }
        })
        .await
    }

    pub async fn delete_topic(&self, name: &str) -> Result<(), ClientError> {
        let request = DeleteTopicsRequest::default()
            .with_topic_names(vec![TopicName(StrBytes::from_string(name.to_string()))])
            .with_timeout_ms(OPERATION_TIMEOUT_MS);
        self.call("deleteTopics", Target::Controller, |conn| {
            let request = request.clone();
            async move {
                let response = conn.send(request).await?;
                for result in &response.responses {
                    ClientError::check(result.error_code, result.error_message.as_deref())?;
                }
                Ok(())
            }
        })
        .await
    }

    /// Grows a topic to `total_count` partitions (Kafka's `Admin.createPartitions` with
    /// `NewPartitions.increaseTo`): `assignment` names the brokers of each new partition, leader
    /// first, or `None` to let the cluster place them.
    pub async fn create_partitions(
        &self,
        name: &str,
        total_count: i32,
        assignment: Option<Vec<Vec<i32>>>,
    ) -> Result<(), ClientError> {
        let assignments = assignment.map(|partitions| {
            partitions
                .into_iter()
                .map(|brokers| {
                    CreatePartitionsAssignment::default()
                        .with_broker_ids(brokers.into_iter().map(BrokerId).collect())
                })
                .collect()
        });
        let request = CreatePartitionsRequest::default()
            .with_topics(vec![CreatePartitionsTopic::default()
                .with_name(TopicName(StrBytes::from_string(name.to_string())))
                .with_count(total_count)
                .with_assignments(assignments)])
            .with_timeout_ms(OPERATION_TIMEOUT_MS)
            .with_validate_only(false);
        self.call("createPartitions", Target::Controller, |conn| {
            let request = request.clone();
            async move {
                let response = conn.send(request).await?;
                for result in &response.results {
                    ClientError::check(result.error_code, result.error_message.as_deref())?;
                }
                Ok(())
            }
        })
        .await
    }

    /// Describes the named topics (in the order given) from Metadata, without auto-creating them.
    /// A missing topic is a Kafka error 3 (UNKNOWN_TOPIC_OR_PARTITION).
    pub async fn describe_topics(
        &self,
        names: &[String],
    ) -> Result<Vec<TopicDescription>, ClientError> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let snapshot = self
            .call("describeTopics", Target::Any, |_| {
                self.cluster.refresh(Some(names), false)
            })
            .await?;
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            let Some(topic) = snapshot.topics.get(name) else {
                return Err(ClientError::kafka(UNKNOWN_TOPIC_OR_PARTITION, None));
            };
            ClientError::check(topic.error_code, None)?;
            out.push(TopicDescription {
                name: topic.name.clone(),
                topic_id: topic.topic_id,
                internal: topic.internal,
                partitions: topic
                    .partitions
                    .iter()
                    .map(|p| PartitionDescription {
                        partition: p.partition,
                        leader: (p.leader >= 0).then_some(p.leader),
                        replicas: p.replicas.clone(),
                        isr: p.isr.clone(),
                    })
                    .collect(),
            });
        }
        Ok(out)
    }

    /// Every config of a topic with its value and source (DescribeConfigs).
    pub async fn describe_topic_configs(
        &self,
        name: &str,
    ) -> Result<Vec<ConfigEntry>, ClientError> {
        let request = DescribeConfigsRequest::default().with_resources(vec![
            DescribeConfigsResource::default()
                .with_resource_type(RESOURCE_TOPIC)
                .with_resource_name(StrBytes::from_string(name.to_string()))
                .with_configuration_keys(None),
        ]);
        self.call("describeConfigs", Target::Any, |conn| {
            let request = request.clone();
            async move {
                let response = conn.send(request).await?;
                let mut entries = Vec::new();
                for result in response.results {
                    ClientError::check(result.error_code, result.error_message.as_deref())?;
                    for c in result.configs {
                        entries.push(ConfigEntry {
                            name: c.name.to_string(),
                            value: c.value.map(|v| v.to_string()),
                            source: c.config_source,
                            is_default: c.config_source == 5,
                        });
                    }
                }
                Ok(entries)
            }
        })
        .await
    }

    /// Ids of the brokers in the cluster, sorted.
    pub async fn live_broker_ids(&self) -> Result<Vec<i32>, ClientError> {
        let snapshot = self
            .call("describeCluster", Target::Any, |_| {
                self.cluster.refresh(Some(&[]), false)
            })
            .await?;
        Ok(snapshot.brokers.keys().copied().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_id_prints_as_kafka_does() {
        // Kafka's Uuid.toString is URL-safe base64 without padding of the 16 bytes.
        let id = Uuid::from_u128(0x0123_4567_89ab_cdef_fedc_ba98_7654_3210);
        let text = format_topic_id(&id);
        assert_eq!(text.len(), 22);
        assert_eq!(text, "ASNFZ4mrze_-3LqYdlQyEA");
        assert_eq!(format_topic_id(&Uuid::nil()), "AAAAAAAAAAAAAAAAAAAAAA");
    }

    /// A broker loading a `__consumer_offsets` partition answers ListGroups with
    /// COORDINATOR_LOAD_IN_PROGRESS: the call is retried, as Kafka's `listConsumerGroups` does.
    #[tokio::test]
    async fn list_groups_retries_while_a_broker_loads_its_groups() {
        let broker = test_broker::FakeBroker::start(test_broker::FakeBrokerOptions {
            list_groups_loading: 2,
            ..Default::default()
        })
        .await;
        let admin = Admin::connect_with_timeout(&broker.addr(), "test", Duration::from_secs(10))
            .await
            .expect("admin");
        let groups = admin.list_groups().await.expect("listed once loaded");
        assert!(groups.is_empty());
    }

    #[tokio::test]
    async fn unreachable_cluster_times_out_with_kafkas_text() {
        // A listener bound then dropped gives a port that refuses connections.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr").port()
        };
        let admin = Admin::connect_with_timeout(
            &format!("127.0.0.1:{port}"),
            "test",
            Duration::from_millis(300),
        )
        .await
        .expect("admin");
        let err = admin.list_topics().await.err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("Timed out waiting for a node assignment. Call: listTopics")
        );
    }
}
