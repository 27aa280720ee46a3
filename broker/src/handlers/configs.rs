//! Topic configurations: the keys a topic may override, their broker-wide defaults, validation,
//! DescribeConfigs, and the translation into the storage layer's `LogConfig`.

use std::collections::BTreeMap;
use std::sync::Arc;

use kafka_protocol::messages::describe_configs_response::{
    DescribeConfigsResourceResult, DescribeConfigsResult,
};
use kafka_protocol::messages::{DescribeConfigsRequest, DescribeConfigsResponse};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;

use crate::config::BrokerConfig;
use crate::log::LogConfig;
use crate::server::Broker;

const TOPIC_CONFIG: i8 = 1;
const STATIC_BROKER_CONFIG: i8 = 4;
const DEFAULT_CONFIG: i8 = 5;
const RESOURCE_TOPIC: i8 = 2;
const RESOURCE_BROKER: i8 = 4;

#[derive(Clone, Copy)]
enum Kind {
    Long,
    Int,
    Bool,
    Ratio,
    OneOf(&'static [&'static str]),
}

/// The topic configs this broker acts on or reports a default for, with their kinds. Names
/// zookeeper-lite knows beyond these (Kafka's full `LogConfig` list) are accepted as overrides
/// and shown as such, but have no effect yet.
const TOPIC_CONFIGS: &[(&str, Kind)] = &[
    (
        "cleanup.policy",
        Kind::OneOf(&["delete", "compact", "compact,delete", "delete,compact"]),
    ),
    (
        "compression.type",
        Kind::OneOf(&["producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"]),
    ),
    ("delete.retention.ms", Kind::Long),
    ("file.delete.delay.ms", Kind::Long),
    ("flush.messages", Kind::Long),
    ("flush.ms", Kind::Long),
    ("index.interval.bytes", Kind::Int),
    ("max.compaction.lag.ms", Kind::Long),
    ("max.message.bytes", Kind::Int),
    ("message.downconversion.enable", Kind::Bool),
    (
        "message.timestamp.type",
        Kind::OneOf(&["CreateTime", "LogAppendTime"]),
    ),
    ("min.cleanable.dirty.ratio", Kind::Ratio),
    ("min.compaction.lag.ms", Kind::Long),
    ("min.insync.replicas", Kind::Int),
    ("preallocate", Kind::Bool),
    ("retention.bytes", Kind::Long),
    ("retention.ms", Kind::Long),
    ("segment.bytes", Kind::Int),
    ("segment.index.bytes", Kind::Int),
    ("segment.jitter.ms", Kind::Long),
    ("segment.ms", Kind::Long),
    ("unclean.leader.election.enable", Kind::Bool),
];

/// The broker-wide value a topic inherits when it does not override `name`.
fn broker_default(config: &BrokerConfig, name: &str) -> String {
    let raw = |key: &str, fallback: &str| {
        config
            .raw
            .get(key)
            .cloned()
            .unwrap_or_else(|| fallback.to_string())
    };
    let ms = |v: Option<i64>| v.unwrap_or(-1).to_string();
    match name {
        "cleanup.policy" => raw("log.cleanup.policy", "delete"),
        "compression.type" => raw("compression.type", "producer"),
        "delete.retention.ms" => "86400000".into(),
        "file.delete.delay.ms" => "60000".into(),
        "flush.messages" => config
            .log_flush_interval_messages
            .min(i64::MAX as u64)
            .to_string(),
        "flush.ms" => config
            .log_flush_interval_ms
            .map_or(i64::MAX.to_string(), |v| v.to_string()),
        "index.interval.bytes" => config.log_index_interval_bytes.to_string(),
        "max.compaction.lag.ms" => i64::MAX.to_string(),
        "max.message.bytes" => config.message_max_bytes.to_string(),
        "message.downconversion.enable" => "true".into(),
        "message.timestamp.type" => "CreateTime".into(),
        "min.cleanable.dirty.ratio" => "0.5".into(),
        "min.compaction.lag.ms" => "0".into(),
        "min.insync.replicas" => raw("min.insync.replicas", "1"),
        "preallocate" => "false".into(),
        "retention.bytes" => ms(config.log_retention_bytes),
        "retention.ms" => ms(config.log_retention_ms),
        "segment.bytes" => config.log_segment_bytes.to_string(),
        "segment.index.bytes" => "10485760".into(),
        "segment.jitter.ms" => "0".into(),
        "segment.ms" => ms(config.log_roll_ms),
        "unclean.leader.election.enable" => raw("unclean.leader.election.enable", "false"),
        _ => String::new(),
    }
}

/// Checks topic overrides: every key one Kafka knows (zookeeper-lite's list, so the broker and
/// the coordinator never disagree), every value of the right kind where we know the kind.
pub fn validate_topic_configs(configs: &BTreeMap<String, String>) -> Result<(), String> {
    for (name, value) in configs {
        if !zookeeper_lite::state::TOPIC_CONFIG_NAMES.contains(&name.as_str()) {
            return Err(format!("Unknown topic config name: {name}"));
        }
        let Some((_, kind)) = TOPIC_CONFIGS.iter().find(|(n, _)| n == name) else {
            continue;
        };
        let ok = match kind {
            Kind::Long => value.trim().parse::<i64>().is_ok(),
            Kind::Int => value.trim().parse::<i32>().is_ok(),
            Kind::Bool => matches!(value.trim().to_ascii_lowercase().as_str(), "true" | "false"),
            Kind::Ratio => value
                .trim()
                .parse::<f64>()
                .is_ok_and(|r| (0.0..=1.0).contains(&r)),
            Kind::OneOf(allowed) => allowed.contains(&value.trim()),
        };
        if !ok {
            return Err(format!("Invalid value {value} for configuration {name}"));
        }
    }
    Ok(())
}

pub struct ConfigEntry {
    pub name: String,
    pub value: String,
    pub source: i8,
}

/// Every topic config with its effective value: the override (source TOPIC) or the broker's
/// default (source DEFAULT), so clients see the whole picture, not only the overrides.
pub fn describe_topic_config_entries(
    config: &BrokerConfig,
    overrides: &BTreeMap<String, String>,
) -> Vec<ConfigEntry> {
    TOPIC_CONFIGS
        .iter()
        .map(|(name, _)| match overrides.get(*name) {
            Some(v) => ConfigEntry {
                name: name.to_string(),
                value: v.clone(),
                source: TOPIC_CONFIG,
            },
            None => ConfigEntry {
                name: name.to_string(),
                value: broker_default(config, name),
                source: DEFAULT_CONFIG,
            },
        })
        .chain(
            overrides
                .iter()
                .filter(|(name, _)| !TOPIC_CONFIGS.iter().any(|(n, _)| n == name))
                .map(|(name, value)| ConfigEntry {
                    name: name.clone(),
                    value: value.clone(),
                    source: TOPIC_CONFIG,
                }),
        )
        .collect()
}

/// The storage settings of a topic's partitions: its overrides over the broker's defaults.
pub fn topic_log_config(config: &BrokerConfig, overrides: &BTreeMap<String, String>) -> LogConfig {
    let get =
        |name: &str| -> Option<i64> { overrides.get(name).and_then(|v| v.trim().parse().ok()) };
    let positive = |v: i64| (v >= 0).then_some(v);
    LogConfig {
        segment_bytes: get("segment.bytes").map_or(config.log_segment_bytes, |v| v.max(14) as u64),
        segment_ms: get("segment.ms").map_or(config.log_roll_ms, |v| (v > 0).then_some(v)),
        index_interval_bytes: get("index.interval.bytes")
            .map_or(config.log_index_interval_bytes, |v| {
                v.clamp(0, i64::from(u32::MAX)) as u32
            }),
        retention_ms: get("retention.ms").map_or(config.log_retention_ms, positive),
        retention_bytes: get("retention.bytes").map_or(config.log_retention_bytes, positive),
        flush_interval_messages: get("flush.messages")
            .map_or(config.log_flush_interval_messages, |v| v.max(1) as u64),
        flush_interval_ms: get("flush.ms").map_or(config.log_flush_interval_ms, |v| {
            (0..i64::MAX).contains(&v).then_some(v as u64)
        }),
        max_message_bytes: get("max.message.bytes")
            .map_or(config.message_max_bytes, |v| v.max(0) as usize),
    }
}

fn entry(name: String, value: String, source: i8) -> DescribeConfigsResourceResult {
    DescribeConfigsResourceResult::default()
        .with_name(StrBytes::from_string(name))
        .with_value(Some(StrBytes::from_string(value)))
        .with_config_source(source)
        .with_read_only(source != TOPIC_CONFIG && source != DEFAULT_CONFIG)
}

pub fn describe(broker: &Arc<Broker>, request: DescribeConfigsRequest) -> DescribeConfigsResponse {
    let md = broker.cluster.metadata();
    let results = request
        .resources
        .into_iter()
        .map(|r| {
            let name = r.resource_name.as_str().to_string();
            let wanted = |key: &str| {
                r.configuration_keys
                    .as_ref()
                    .is_none_or(|keys| keys.iter().any(|k| k.as_str() == key))
            };
            let mut result = DescribeConfigsResult::default()
                .with_resource_type(r.resource_type)
                .with_resource_name(r.resource_name.clone());
            match r.resource_type {
                RESOURCE_TOPIC => match md.topics.get(&name) {
                    Some(info) => {
                        result.configs =
                            describe_topic_config_entries(&broker.config, &info.configs)
                                .into_iter()
                                .filter(|e| wanted(&e.name))
                                .map(|e| entry(e.name, e.value, e.source))
                                .collect();
                    }
                    // Kafka's ConfigHelper: an invalid name fails Topic.validate with its text;
                    // an unknown topic is UNKNOWN_TOPIC_OR_PARTITION without a message.
                    None => match super::topics::validate_topic_name(&name) {
                        Err(message) => {
                            result.error_code = ResponseError::InvalidTopicException.code();
                            result.error_message = Some(StrBytes::from_string(message));
                        }
                        Ok(()) => {
                            result.error_code = ResponseError::UnknownTopicOrPartition.code();
                        }
                    },
                },
                RESOURCE_BROKER
                    if name.is_empty() || name == broker.config.broker_id.to_string() =>
                {
                    result.configs = broker
                        .config
                        .raw
                        .iter()
                        .filter(|(k, _)| wanted(k))
                        .map(|(k, v)| entry(k.clone(), v.clone(), STATIC_BROKER_CONFIG))
                        .collect();
                }
                // Kafka's ConfigHelper texts for another broker's id or a name that is none.
                RESOURCE_BROKER => {
                    result.error_code = ResponseError::InvalidRequest.code();
                    result.error_message = Some(StrBytes::from_string(
                        if name.parse::<i32>().is_ok() {
                            format!(
                                "Unexpected broker id, expected {} or empty string, but received {name}",
                                broker.config.broker_id
                            )
                        } else {
                            format!("Broker id must be an integer, but it is: {name}")
                        },
                    ));
                }
                _ => {
                    result.error_code = ResponseError::InvalidRequest.code();
                    result.error_message = Some(StrBytes::from_string(format!(
                        "Unsupported resource type {} or name '{name}'",
                        r.resource_type
                    )));
                }
            }
            result
        })
        .collect();
    DescribeConfigsResponse::default().with_results(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_malformed_topic_configs_are_refused() {
        let mut c = BTreeMap::new();
        c.insert("retention.ms".to_string(), "1000".to_string());
        assert!(validate_topic_configs(&c).is_ok());
        c.insert("retention.msx".to_string(), "1".to_string());
        assert_eq!(
            validate_topic_configs(&c),
            Err("Unknown topic config name: retention.msx".to_string())
        );
        let mut c = BTreeMap::new();
        c.insert("segment.bytes".to_string(), "big".to_string());
        assert!(validate_topic_configs(&c).is_err());
    }

    #[test]
    fn every_kafka_topic_config_name_is_accepted_and_described() {
        let mut o = BTreeMap::new();
        o.insert("compression.gzip.level".to_string(), "5".to_string());
        assert!(validate_topic_configs(&o).is_ok());
        let entries = describe_topic_config_entries(&BrokerConfig::default(), &o);
        let e = entries
            .iter()
            .find(|e| e.name == "compression.gzip.level")
            .unwrap();
        assert_eq!((e.value.as_str(), e.source), ("5", TOPIC_CONFIG));
    }

    #[test]
    fn describe_lists_every_config_with_source() {
        let mut o = BTreeMap::new();
        o.insert("retention.ms".to_string(), "1000".to_string());
        let entries = describe_topic_config_entries(&BrokerConfig::default(), &o);
        assert_eq!(entries.len(), TOPIC_CONFIGS.len());
        let r = entries.iter().find(|e| e.name == "retention.ms").unwrap();
        assert_eq!((r.value.as_str(), r.source), ("1000", TOPIC_CONFIG));
        let s = entries.iter().find(|e| e.name == "segment.bytes").unwrap();
        assert_eq!((s.value.as_str(), s.source), ("1073741824", DEFAULT_CONFIG));
    }
}
