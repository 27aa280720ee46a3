//! CreateTopics, DeleteTopics and CreatePartitions: validated here, carried out by zookeeper-lite
//! (the controller), then reflected in the hosted partitions before the answer goes out.

use std::collections::BTreeMap;
use std::sync::Arc;

use common::errors::ErrorCode;
use kafka_protocol::messages::create_partitions_response::CreatePartitionsTopicResult;
use kafka_protocol::messages::create_topics_response::{
    CreatableTopicConfigs, CreatableTopicResult,
};
use kafka_protocol::messages::delete_topics_response::DeletableTopicResult;
use kafka_protocol::messages::{
    CreatePartitionsRequest, CreatePartitionsResponse, CreateTopicsRequest, CreateTopicsResponse,
    DeleteTopicsRequest, DeleteTopicsResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use zookeeper_lite::protocol::NewTopic;

use super::configs::{topic_config_entries, BrokerLayers};
use crate::broker::Broker;
use crate::topic_config::validate_topic_configs;

/// Kafka's `Topic.validate` (`common::topic`, shared with zookeeper-lite): the broker checks
/// early so that Metadata never asks the coordinator to create an invalid name.
pub fn validate_topic_name(name: &str) -> Result<(), String> {
    common::topic::validate(name).map_err(|e| e.to_string())
}

fn failed(name: TopicName, code: i16, message: String) -> CreatableTopicResult {
    CreatableTopicResult::default()
        .with_name(name)
        .with_error_code(code)
        .with_error_message(wire_message(code, message))
        .with_num_partitions(-1)
        .with_replication_factor(-1)
}

/// Kafka's `ApiError.fromThrowable`: an unexpected server error is answered without its message
/// (so nothing internal leaks to clients, which show the error's default text); the broker logs
/// it instead, as `ZkAdminManager` logs "Error processing create topic request".
fn wire_message(code: i16, message: String) -> Option<StrBytes> {
    if code == ErrorCode::UnknownServerError.code() {
        tracing::error!("{message}");
        None
    } else {
        Some(StrBytes::from_string(message))
    }
}

pub async fn create(broker: &Arc<Broker>, request: CreateTopicsRequest) -> CreateTopicsResponse {
    let mut results = Vec::with_capacity(request.topics.len());
    let mut created_any = false;
    let mut occurrences: BTreeMap<String, usize> = BTreeMap::new();
    for t in &request.topics {
        *occurrences
            .entry(t.name.0.as_str().to_string())
            .or_default() += 1;
    }
    for t in request.topics {
        let name = t.name.0.as_str().to_string();
        if occurrences.get(&name) > Some(&1) {
            // Kafka creates none of them and answers each entry so.
            results.push(failed(
                t.name,
                ErrorCode::InvalidRequest.code(),
                "Found multiple entries for this topic.".to_string(),
            ));
            continue;
        }
        if let Err(message) = validate_topic_name(&name) {
            results.push(failed(
                t.name,
                ErrorCode::InvalidTopicException.code(),
                message,
            ));
            continue;
        }
        let configs: BTreeMap<String, String> = t
            .configs
            .iter()
            .filter_map(|c| {
                c.value
                    .as_ref()
                    .map(|v| (c.name.as_str().to_string(), v.as_str().to_string()))
            })
            .collect();
        if let Err(message) = validate_topic_configs(&configs) {
            results.push(failed(t.name, ErrorCode::InvalidConfig.code(), message));
            continue;
        }
        for (key, value) in &configs {
            if let Some(why) = common::config::support::topic_config_warning(key, value) {
                tracing::warn!(
                    "Topic {name}: the configuration '{key}' = '{value}' is accepted but not acted on by this broker: {why}."
                );
            }
        }
        let replica_assignment = if t.assignments.is_empty() {
            None
        } else {
            if t.num_partitions != -1 || t.replication_factor != -1 {
                results.push(failed(
                    t.name,
                    ErrorCode::InvalidRequest.code(),
                    "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.".to_string(),
                ));
                continue;
            }
            let mut assignments = t.assignments.clone();
            assignments.sort_by_key(|a| a.partition_index);
            let in_order = assignments
                .iter()
                .enumerate()
                .all(|(i, a)| a.partition_index == i as i32);
            if !in_order {
                results.push(failed(
                    t.name,
                    ErrorCode::InvalidReplicaAssignment.code(),
                    "Partitions should be a consecutive 0-based integer sequence".to_string(),
                ));
                continue;
            }
            Some(
                assignments
                    .into_iter()
                    .map(|a| a.broker_ids.into_iter().map(|b| b.0.into()).collect())
                    .collect::<Vec<Vec<common::ids::BrokerId>>>(),
            )
        };
        let num_partitions = match t.num_partitions {
            -1 => replica_assignment
                .as_ref()
                .map_or(broker.config.num_partitions, |a| a.len() as i32),
            n => n,
        };
        let replication_factor = match t.replication_factor {
            -1 => replica_assignment
                .as_ref()
                .and_then(|a| a.first())
                .map_or(broker.config.default_replication_factor, |r| r.len() as i16),
            n => n,
        };
        let new = NewTopic {
            name: name.clone(),
            num_partitions,
            replication_factor,
            replica_assignment,
            configs: configs.clone(),
            validate_only: request.validate_only,
        };
        match broker.cluster.create_topic(new).await {
            Ok(info) => {
                created_any |= !request.validate_only;
                tracing::info!(
                    "created topic {name} with {num_partitions} partition(s), replication factor {replication_factor}"
                );
                let md = broker.cluster.metadata();
                let layers = BrokerLayers::new(&broker.config, &md);
                let entries = topic_config_entries(&layers, &info.configs)
                    .into_iter()
                    .map(|e| {
                        CreatableTopicConfigs::default()
                            .with_name(StrBytes::from_string(e.name))
                            .with_value(e.value.map(StrBytes::from_string))
                            .with_config_source(e.source)
                            .with_read_only(e.read_only)
                            .with_is_sensitive(e.sensitive)
                    })
                    .collect();
                results.push(
                    CreatableTopicResult::default()
                        .with_name(t.name)
                        .with_topic_id(info.id)
                        .with_num_partitions(num_partitions)
                        .with_replication_factor(replication_factor)
                        .with_configs(Some(entries)),
                );
            }
            Err(e) => {
                let (code, message) = (e.code.code(), e.message);
                let message = if e.code == ErrorCode::UnknownServerError {
                    format!("Error processing create topic request {name}: {message}")
                } else {
                    message
                };
                results.push(failed(t.name, code, message));
            }
        }
    }
    if created_any {
        if let Err(e) = broker.refresh_metadata().await {
            tracing::warn!("metadata refresh after CreateTopics failed: {e:#}");
        }
    }
    CreateTopicsResponse::default().with_topics(results)
}

pub async fn delete(
    broker: &Arc<Broker>,
    request: DeleteTopicsRequest,
    version: i16,
) -> DeleteTopicsResponse {
    let md = broker.cluster.metadata();
    // v6 names topics in `topics` (by name or id); older versions in `topic_names`.
    let targets: Vec<(Option<String>, uuid::Uuid)> = if version >= 6 {
        request
            .topics
            .iter()
            .map(|t| match &t.name {
                Some(n) => (Some(n.0.as_str().to_string()), t.topic_id),
                None => (
                    md.topics
                        .values()
                        .find(|i| i.id == t.topic_id)
                        .map(|i| i.name.clone()),
                    t.topic_id,
                ),
            })
            .collect()
    } else {
        request
            .topic_names
            .iter()
            .map(|n| (Some(n.0.as_str().to_string()), uuid::Uuid::nil()))
            .collect()
    };
    let mut responses = Vec::with_capacity(targets.len());
    let mut deleted_any = false;
    for (name, id) in targets {
        let mut result = DeletableTopicResult::default()
            .with_name(name.clone().map(|n| TopicName(StrBytes::from_string(n))))
            .with_topic_id(id);
        let outcome = match &name {
            None => Err((
                ErrorCode::UnknownTopicId.code(),
                "This server does not host this topic ID.".to_string(),
            )),
            // Before v3 there was no TOPIC_DELETION_DISABLED.
            Some(_) if !broker.config.delete_topic_enable && version < 3 => Err((
                ErrorCode::InvalidRequest.code(),
                "Topic deletion is disabled.".to_string(),
            )),
            Some(_) if !broker.config.delete_topic_enable => Err((
                ErrorCode::TopicDeletionDisabled.code(),
                "Topic deletion is disabled.".to_string(),
            )),
            Some(n) => broker
                .cluster
                .delete_topic(n)
                .await
                .map_err(|e| (e.code.code(), e.message)),
        };
        match outcome {
            Ok(()) => {
                deleted_any = true;
                if let (Some(n), true) = (&name, id.is_nil()) {
                    if let Some(info) = md.topics.get(n) {
                        result = result.with_topic_id(info.id);
                    }
                }
                tracing::info!("deleted topic {}", name.unwrap_or_default());
            }
            Err((code, message)) => {
                // Kafka (ZooKeeper mode) answers DeleteTopics errors without a message: clients
                // show the error's default text.
                tracing::info!("deleting topic {name:?} failed: {message}");
                result = result.with_error_code(code);
            }
        }
        responses.push(result);
    }
    if deleted_any {
        if let Err(e) = broker.refresh_metadata().await {
            tracing::warn!("metadata refresh after DeleteTopics failed: {e:#}");
        }
    }
    DeleteTopicsResponse::default().with_responses(responses)
}

pub async fn create_partitions(
    broker: &Arc<Broker>,
    request: CreatePartitionsRequest,
) -> CreatePartitionsResponse {
    let mut results = Vec::with_capacity(request.topics.len());
    let mut changed = false;
    for t in request.topics {
        let name = t.name.0.as_str().to_string();
        let assignment = t.assignments.as_ref().map(|list| {
            list.iter()
                .map(|a| {
                    a.broker_ids
                        .iter()
                        .map(|b| b.0.into())
                        .collect::<Vec<common::ids::BrokerId>>()
                })
                .collect::<Vec<_>>()
        });
        let outcome = if request.validate_only {
            let md = broker.cluster.metadata();
            match md.topics.get(&name) {
                None => Err((
                    ErrorCode::UnknownTopicOrPartition.code(),
                    format!("The topic '{name}' does not exist."),
                )),
                Some(info) if (info.partitions.len() as i32) > t.count => Err((
                    ErrorCode::InvalidPartitions.code(),
                    format!(
                        "Topic currently has {} partitions, which is higher than the requested {}.",
                        info.partitions.len(),
                        t.count
                    ),
                )),
                Some(info) if (info.partitions.len() as i32) == t.count => Err((
                    ErrorCode::InvalidPartitions.code(),
                    format!("Topic already has {} partitions.", t.count),
                )),
                Some(_) => Ok(()),
            }
        } else {
            broker
                .cluster
                .create_partitions(&name, t.count, assignment)
                .await
                .map(|_| ())
                .map_err(|e| (e.code.code(), e.message))
        };
        let mut result = CreatePartitionsTopicResult::default().with_name(t.name);
        match outcome {
            Ok(()) => changed |= !request.validate_only,
            Err((code, message)) => {
                let message = if code == ErrorCode::UnknownServerError.code() {
                    format!("Error processing create partitions request {name}: {message}")
                } else {
                    message
                };
                result = result
                    .with_error_code(code)
                    .with_error_message(wire_message(code, message));
            }
        }
        results.push(result);
    }
    if changed {
        if let Err(e) = broker.refresh_metadata().await {
            tracing::warn!("metadata refresh after CreatePartitions failed: {e:#}");
        }
    }
    CreatePartitionsResponse::default().with_results(results)
}

#[cfg(test)]
mod tests {
    use super::validate_topic_name;

    #[test]
    fn topic_names_follow_kafka_rules() {
        assert!(validate_topic_name("vmc-topic").is_ok());
        assert!(validate_topic_name("a.b_c-1").is_ok());
        assert!(validate_topic_name("").is_err());
        assert!(validate_topic_name("..").is_err());
        assert!(validate_topic_name("bad name").is_err());
        assert!(validate_topic_name(&"x".repeat(250)).is_err());
    }
}
