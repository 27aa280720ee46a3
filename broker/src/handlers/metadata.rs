//! Metadata: live brokers, a live controller id, and topics with their ids and partitions.
//! A request for an unknown topic creates it when auto-creation is allowed on both sides.

use std::collections::BTreeMap;
use std::sync::Arc;

use common::errors::ErrorCode;
use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::{BrokerId, MetadataRequest, MetadataResponse, TopicName};
use kafka_protocol::protocol::StrBytes;
use zookeeper_lite::protocol::{ClusterMetadata, NewTopic, TopicInfo};

use super::topics::validate_topic_name;
use crate::broker::Broker;

/// One topic's partitions as Kafka's `ZkMetadataCache.getPartitionMetadata` reports them: a
/// partition whose leader is not a live broker has LEADER_NOT_AVAILABLE and leader -1 (never the
/// dead leader's id). Metadata v0 (`errorUnavailableEndpoints`) lists only live replicas and ISR
/// members, with REPLICA_NOT_AVAILABLE when some were left out.
pub(super) fn topic_entry(
    md: &ClusterMetadata,
    info: &TopicInfo,
    version: i16,
) -> MetadataResponseTopic {
    let live = |id: common::ids::BrokerId| md.brokers.iter().any(|b| b.id == id);
    let shown = |ids: &[common::ids::BrokerId]| -> Vec<BrokerId> {
        ids.iter()
            .filter(|b| version > 0 || live(**b))
            .map(|b| BrokerId(b.get()))
            .collect()
    };
    let partitions = info
        .partitions
        .iter()
        .map(|p| {
            let leader_live = !p.leader.is_none() && live(p.leader);
            let (replicas, isr) = (shown(&p.replicas), shown(&p.isr));
            let error = if !leader_live {
                ErrorCode::LeaderNotAvailable.code()
            } else if replicas.len() < p.replicas.len() || isr.len() < p.isr.len() {
                ErrorCode::ReplicaNotAvailable.code()
            } else {
                0
            };
            MetadataResponsePartition::default()
                .with_error_code(error)
                .with_partition_index(p.partition)
                .with_leader_id(BrokerId(if leader_live { p.leader.get() } else { -1 }))
                .with_leader_epoch(p.leader_epoch.get())
                .with_replica_nodes(replicas)
                .with_isr_nodes(isr)
                .with_offline_replicas(
                    p.replicas
                        .iter()
                        .filter(|b| !live(**b))
                        .map(|b| BrokerId(b.get()))
                        .collect(),
                )
        })
        .collect();
    MetadataResponseTopic::default()
        .with_name(Some(TopicName(StrBytes::from_string(info.name.clone()))))
        .with_topic_id(info.id)
        .with_is_internal(is_internal_topic(&info.name))
        .with_partitions(partitions)
}

/// Kafka 3.9's `Topic.isInternal`: the group metadata and transaction state topics. A user topic
/// whose name merely starts with `__` is not internal (Metadata reports it as any other, and
/// clients may produce to it).
pub(crate) fn is_internal_topic(name: &str) -> bool {
    matches!(name, "__consumer_offsets" | "__transaction_state")
}

fn topic_error(name: Option<String>, id: uuid::Uuid, code: i16) -> MetadataResponseTopic {
    MetadataResponseTopic::default()
        .with_name(name.map(|n| TopicName(StrBytes::from_string(n))))
        .with_topic_id(id)
        .with_error_code(code)
}

/// The operations Kafka supports on a TOPIC resource (`AclEntry.supportedOperations`: READ 3,
/// WRITE 4, CREATE 5, DELETE 6, ALTER 7, DESCRIBE 8, DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11) as a
/// bit field (`Utils.to32BitField`): 3576. Without an authorizer Kafka grants them all, so a
/// Metadata v8+ asking for `include_topic_authorized_operations` gets this for every topic it
/// describes (librdkafka's DescribeTopics, 0081_admin).
pub const TOPIC_AUTHORIZED_OPERATIONS: i32 =
    (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 10) | (1 << 11);

pub async fn handle(
    broker: &Arc<Broker>,
    request: MetadataRequest,
    version: i16,
) -> MetadataResponse {
    // Before v4 there is no flag and Kafka always auto-creates.
    let client_allows = version < 4 || request.allow_auto_topic_creation;
    let mut md = broker.cluster.metadata();
    let mut topics = Vec::new();
    // In v0 an empty list means every topic, as null does from v1 on (Kafka's
    // `MetadataRequest.isAllTopics`).
    let all_topics = match &request.topics {
        None => true,
        Some(requested) => version == 0 && requested.is_empty(),
    };
    match &request.topics {
        _ if all_topics => {
            topics.extend(md.topics.values().map(|t| topic_entry(&md, t, version)));
        }
        None => {}
        Some(requested) => {
            // Names to create first, so one refresh covers them all.
            let mut created = BTreeMap::new();
            for t in requested {
                let Some(name) = t.name.as_ref().map(|n| n.0.as_str().to_string()) else {
                    continue;
                };
                if md.topics.contains_key(&name)
                    || !client_allows
                    || !broker.config.auto_create_topics_enable
                    || validate_topic_name(&name).is_err()
                {
                    continue;
                }
                if name == common::topic::GROUP_METADATA_TOPIC_NAME {
                    // Kafka's AutoTopicCreationManager gives the internal topic its own settings.
                    crate::group::ensure_offsets_topic(
                        &broker.cluster,
                        &broker.partitions,
                        &broker.config,
                    )
                    .await;
                    created.insert(name, ());
                    continue;
                }
                let new = NewTopic {
                    name: name.clone(),
                    num_partitions: broker.config.num_partitions,
                    replication_factor: broker.config.default_replication_factor,
                    replica_assignment: None,
                    configs: BTreeMap::new(),
                    validate_only: false,
                };
                match broker.cluster.create_topic(new).await {
                    Ok(_) => {
                        tracing::info!("auto-created topic {name}");
                        created.insert(name, ());
                    }
                    Err(e) => {
                        let (code, message) = (e.code.code(), e.message);
                        if code != ErrorCode::TopicAlreadyExists.code() {
                            tracing::warn!("auto-creating topic {name} failed: {message}");
                        }
                        created.insert(name, ());
                    }
                }
            }
            if !created.is_empty() {
                if let Err(e) = broker.refresh_metadata().await {
                    tracing::warn!("metadata refresh after auto-create failed: {e:#}");
                }
                md = broker.cluster.metadata();
            }
            for t in requested {
                let by_name = t.name.as_ref().map(|n| n.0.as_str().to_string());
                let info = match &by_name {
                    Some(n) => md.topics.get(n),
                    None => md.topics.values().find(|i| i.id == t.topic_id),
                };
                topics.push(match (info, by_name) {
                    (Some(info), _) => topic_entry(&md, info, version),
                    (None, Some(n)) if validate_topic_name(&n).is_err() => {
                        topic_error(Some(n), t.topic_id, ErrorCode::InvalidTopicException.code())
                    }
                    (None, Some(n)) if created.contains_key(&n) => {
                        topic_error(Some(n), t.topic_id, ErrorCode::LeaderNotAvailable.code())
                    }
                    (None, Some(n)) => topic_error(
                        Some(n),
                        t.topic_id,
                        ErrorCode::UnknownTopicOrPartition.code(),
                    ),
                    (None, None) => topic_error(None, t.topic_id, ErrorCode::UnknownTopicId.code()),
                });
            }
        }
    }
    let brokers = md
        .brokers
        .iter()
        .map(|b| {
            MetadataResponseBroker::default()
                .with_node_id(BrokerId(b.id.get()))
                .with_host(StrBytes::from_string(b.host.clone()))
                .with_port(i32::from(b.port))
                .with_rack(b.rack.clone().map(StrBytes::from_string))
        })
        .collect();
    // Kafka's `handleTopicMetadataRequest`: authorized operations only when asked (v8+), for
    // the topics it describes by name (not unknown topic ids); the cluster's only in v8-10.
    // Otherwise the schema's default, Integer.MIN_VALUE ("not requested").
    if version >= 8 && request.include_topic_authorized_operations {
        for t in topics.iter_mut().filter(|t| t.name.is_some()) {
            t.topic_authorized_operations = TOPIC_AUTHORIZED_OPERATIONS;
        }
    }
    let cluster_operations =
        if (8..=10).contains(&version) && request.include_cluster_authorized_operations {
            super::describe_cluster::CLUSTER_AUTHORIZED_OPERATIONS
        } else {
            super::describe_cluster::AUTHORIZED_OPERATIONS_OMITTED
        };
    MetadataResponse::default()
        .with_brokers(brokers)
        .with_cluster_id(Some(StrBytes::from_string(md.cluster_id.clone())))
        .with_controller_id(BrokerId(broker.controller_id().get()))
        .with_cluster_authorized_operations(cluster_operations)
        .with_topics(topics)
}

#[cfg(test)]
mod tests {
    use super::is_internal_topic;

    #[test]
    fn only_kafkas_two_internal_topics_are_internal() {
        assert!(is_internal_topic("__consumer_offsets"));
        assert!(is_internal_topic("__transaction_state"));
        assert!(!is_internal_topic("__my_topic"));
        assert!(!is_internal_topic("__consumer_offsets2"));
        assert!(!is_internal_topic("consumer_offsets"));
    }

    /// librdkafka's DescribeTopics with authorized operations (0081_admin): Kafka without an
    /// authorizer grants every operation a topic supports; the cluster's only up to v10.
    #[tokio::test]
    async fn authorized_operations_are_answered_only_when_asked() {
        use super::super::error_answers::{create_topic, topic_name};
        use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
        use kafka_protocol::messages::MetadataRequest;

        let (broker, _guard) = crate::broker::start_for_test().await;
        create_topic(&broker, "ops").await;
        let request = |topic_ops: bool, cluster_ops: bool| {
            MetadataRequest::default()
                .with_topics(Some(vec![
                    MetadataRequestTopic::default().with_name(Some(topic_name("ops")))
                ]))
                .with_include_topic_authorized_operations(topic_ops)
                .with_include_cluster_authorized_operations(cluster_ops)
        };
        let asked = super::handle(&broker, request(true, true), 10).await;
        assert_eq!(asked.topics[0].topic_authorized_operations, 3576);
        assert_eq!(asked.cluster_authorized_operations, 8096);
        let plain = super::handle(&broker, request(false, false), 10).await;
        assert_eq!(plain.topics[0].topic_authorized_operations, i32::MIN);
        assert_eq!(plain.cluster_authorized_operations, i32::MIN);
        // v11 dropped the cluster's field; the topics' stays.
        let v12 = super::handle(&broker, request(true, true), 12).await;
        assert_eq!(v12.topics[0].topic_authorized_operations, 3576);
        assert_eq!(v12.cluster_authorized_operations, i32::MIN);
    }
}
