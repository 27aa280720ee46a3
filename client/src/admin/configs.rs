//! The config admin calls `kafka-configs` makes, as Kafka's `KafkaAdminClient` makes them:
//! DescribeConfigs, AlterConfigs and IncrementalAlterConfigs. A BROKER resource naming a broker
//! goes to that broker (only it knows its static configuration); topics and the cluster-wide
//! broker defaults (name `""`) go to any broker.

use kafka_protocol::messages::{
    alter_configs_request, describe_configs_request::DescribeConfigsResource,
    incremental_alter_configs_request, AlterConfigsRequest, DescribeConfigsRequest,
    IncrementalAlterConfigsRequest,
};
use kafka_protocol::protocol::StrBytes;

use super::{Admin, Target};
use crate::error::ClientError;

/// `ConfigResource.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigResourceType {
    Topic,
    Broker,
}

impl ConfigResourceType {
    /// The wire id (TOPIC 2, BROKER 4).
    pub fn id(self) -> i8 {
        match self {
            ConfigResourceType::Topic => 2,
            ConfigResourceType::Broker => 4,
        }
    }
}

/// A topic, a broker (by id), or the cluster's broker defaults (a broker named `""`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigResource {
    pub resource_type: ConfigResourceType,
    pub name: String,
}

impl ConfigResource {
    pub fn topic(name: &str) -> Self {
        ConfigResource {
            resource_type: ConfigResourceType::Topic,
            name: name.to_string(),
        }
    }

    /// Broker `name` (an id), or the cluster-wide defaults when `name` is empty.
    pub fn broker(name: &str) -> Self {
        ConfigResource {
            resource_type: ConfigResourceType::Broker,
            name: name.to_string(),
        }
    }

    fn target(&self) -> Target {
        match (self.resource_type, self.name.parse::<i32>()) {
            (ConfigResourceType::Broker, Ok(id)) => Target::Broker(id),
            _ => Target::Any,
        }
    }
}

/// `ConfigEntry.ConfigSource` by wire id, printed with Java's enum names.
pub fn config_source_name(source: i8) -> &'static str {
    match source {
        1 => "DYNAMIC_TOPIC_CONFIG",
        2 => "DYNAMIC_BROKER_CONFIG",
        3 => "DYNAMIC_DEFAULT_BROKER_CONFIG",
        4 => "STATIC_BROKER_CONFIG",
        5 => "DEFAULT_CONFIG",
        6 => "DYNAMIC_BROKER_LOGGER_CONFIG",
        7 => "CLIENT_METRICS_CONFIG",
        _ => "UNKNOWN",
    }
}

/// One synonym of a described config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigSynonym {
    pub name: String,
    pub value: Option<String>,
    /// A `ConfigSource` wire id (see [`config_source_name`]).
    pub source: i8,
}

/// One config as DescribeConfigs describes it (Kafka's `ConfigEntry`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribedConfig {
    pub name: String,
    /// `None` is Java's null (no value, or a sensitive one).
    pub value: Option<String>,
    /// A `ConfigSource` wire id (see [`config_source_name`]).
    pub source: i8,
    pub read_only: bool,
    pub sensitive: bool,
    /// Empty unless synonyms were asked for.
    pub synonyms: Vec<ConfigSynonym>,
}

impl DescribedConfig {
    /// Kafka's `ConfigEntry.isDefault`: the value is Kafka's default.
    pub fn is_default(&self) -> bool {
        self.source == 5
    }
}

/// `AlterConfigOp.OpType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlterOpType {
    Set,
    Delete,
    Append,
    Subtract,
}

impl AlterOpType {
    /// The wire id (SET 0, DELETE 1, APPEND 2, SUBTRACT 3).
    pub fn id(self) -> i8 {
        match self {
            AlterOpType::Set => 0,
            AlterOpType::Delete => 1,
            AlterOpType::Append => 2,
            AlterOpType::Subtract => 3,
        }
    }
}

/// One incremental change (Kafka's `AlterConfigOp`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlterConfigOp {
    pub name: String,
    pub op: AlterOpType,
    /// Ignored for DELETE.
    pub value: Option<String>,
}

impl Admin {
    /// Every config of `resource` (DescribeConfigs), with synonyms when `include_synonyms`.
    /// The resource's error becomes a `ClientError::Kafka` (e.g. 3 for a missing topic).
    pub async fn describe_configs(
        &self,
        resource: &ConfigResource,
        include_synonyms: bool,
    ) -> Result<Vec<DescribedConfig>, ClientError> {
        let request = DescribeConfigsRequest::default()
            .with_include_synonyms(include_synonyms)
            .with_resources(vec![DescribeConfigsResource::default()
                .with_resource_type(resource.resource_type.id())
                .with_resource_name(StrBytes::from_string(resource.name.clone()))
                .with_configuration_keys(None)]);
        self.call("describeConfigs", resource.target(), |conn| {
            let request = request.clone();
            async move {
                let response = conn.send(request).await?;
                let mut entries = Vec::new();
                for result in response.results {
                    ClientError::check(result.error_code, result.error_message.as_deref())?;
                    for c in result.configs {
                        entries.push(DescribedConfig {
                            name: c.name.to_string(),
                            value: c.value.map(|v| v.to_string()),
                            source: c.config_source,
                            read_only: c.read_only,
                            sensitive: c.is_sensitive,
                            synonyms: c
                                .synonyms
                                .into_iter()
                                .map(|s| ConfigSynonym {
                                    name: s.name.to_string(),
                                    value: s.value.map(|v| v.to_string()),
                                    source: s.source,
                                })
                                .collect(),
                        });
                    }
                }
                Ok(entries)
            }
        })
        .await
    }

    /// IncrementalAlterConfigs of one resource.
    pub async fn incremental_alter_configs(
        &self,
        resource: &ConfigResource,
        ops: &[AlterConfigOp],
        validate_only: bool,
    ) -> Result<(), ClientError> {
        let configs = ops
            .iter()
            .map(|o| {
                incremental_alter_configs_request::AlterableConfig::default()
                    .with_name(StrBytes::from_string(o.name.clone()))
                    .with_config_operation(o.op.id())
                    .with_value(o.value.clone().map(StrBytes::from_string))
            })
            .collect();
        let request = IncrementalAlterConfigsRequest::default()
            .with_validate_only(validate_only)
            .with_resources(vec![
                incremental_alter_configs_request::AlterConfigsResource::default()
                    .with_resource_type(resource.resource_type.id())
                    .with_resource_name(StrBytes::from_string(resource.name.clone()))
                    .with_configs(configs),
            ]);
        self.call("incrementalAlterConfigs", resource.target(), |conn| {
            let request = request.clone();
            async move {
                let response = conn.send(request).await?;
                for r in response.responses {
                    ClientError::check(r.error_code, r.error_message.as_deref())?;
                }
                Ok(())
            }
        })
        .await
    }

    /// AlterConfigs of one resource: its whole config set becomes `configs`.
    pub async fn alter_configs(
        &self,
        resource: &ConfigResource,
        configs: &[(String, String)],
        validate_only: bool,
    ) -> Result<(), ClientError> {
        let configs = configs
            .iter()
            .map(|(k, v)| {
                alter_configs_request::AlterableConfig::default()
                    .with_name(StrBytes::from_string(k.clone()))
                    .with_value(Some(StrBytes::from_string(v.clone())))
            })
            .collect();
        let request = AlterConfigsRequest::default()
            .with_validate_only(validate_only)
            .with_resources(vec![alter_configs_request::AlterConfigsResource::default()
                .with_resource_type(resource.resource_type.id())
                .with_resource_name(StrBytes::from_string(resource.name.clone()))
                .with_configs(configs)]);
        self.call("alterConfigs", resource.target(), |conn| {
            let request = request.clone();
            async move {
                let response = conn.send(request).await?;
                for r in response.responses {
                    ClientError::check(r.error_code, r.error_message.as_deref())?;
                }
                Ok(())
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_brokers_are_asked_directly_and_the_rest_anywhere() {
        assert!(matches!(
            ConfigResource::broker("3").target(),
            Target::Broker(3)
        ));
        assert!(matches!(ConfigResource::broker("").target(), Target::Any));
        assert!(matches!(ConfigResource::topic("7").target(), Target::Any));
        assert_eq!(config_source_name(1), "DYNAMIC_TOPIC_CONFIG");
        assert_eq!(config_source_name(5), "DEFAULT_CONFIG");
        assert_eq!(AlterOpType::Subtract.id(), 3);
    }
}
