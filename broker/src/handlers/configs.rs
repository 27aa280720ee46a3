//! Configurations as clients see them: DescribeConfigs for topics and brokers (every config with
//! its value, source, synonyms and type, resolved through the broker layers as Kafka 3.9's
//! `ConfigHelper` does), and the broker config layers (the translation of
//! topic and dynamic broker configs for the storage layer is in `crate::topic_config`).

use std::collections::BTreeMap;
use std::sync::Arc;

use common::errors::ErrorCode;
use common::ids::BrokerId;
use kafka_protocol::messages::describe_configs_response::{
    DescribeConfigsResourceResult, DescribeConfigsResult, DescribeConfigsSynonym,
};
use kafka_protocol::messages::{DescribeConfigsRequest, DescribeConfigsResponse};
use kafka_protocol::protocol::StrBytes;

use zookeeper_lite::protocol::{ClusterMetadata, BROKER_DEFAULT_ENTITY};

use super::config_defs as defs;
use crate::broker::Broker;
use crate::config::BrokerConfig;
use common::config::docs as config_docs;

/// `ConfigSource` ids (DescribeConfigsResponse): where an entry's value comes from.
pub const TOPIC_CONFIG: i8 = 1;
pub const DYNAMIC_BROKER_CONFIG: i8 = 2;
pub const DYNAMIC_DEFAULT_BROKER_CONFIG: i8 = 3;
pub const STATIC_BROKER_CONFIG: i8 = 4;
pub const DEFAULT_CONFIG: i8 = 5;
/// `ConfigResource.Type` ids.
pub const RESOURCE_TOPIC: i8 = 2;
pub const RESOURCE_BROKER: i8 = 4;

/// The broker-side config layers Kafka resolves a value through, highest priority first:
/// this broker's dynamic configs, the cluster's dynamic defaults, `server.properties` (with
/// `--override`s), then Kafka's defaults.
pub struct BrokerLayers<'a> {
    pub per_broker: Option<&'a BTreeMap<String, String>>,
    pub cluster_default: Option<&'a BTreeMap<String, String>>,
    pub static_config: &'a BTreeMap<String, String>,
}

impl<'a> BrokerLayers<'a> {
    /// The layers of broker `config.broker_id` under metadata `md`.
    pub fn new(config: &'a BrokerConfig, md: &'a ClusterMetadata) -> Self {
        BrokerLayers {
            per_broker: md.broker_configs.get(&config.broker_id.to_string()),
            cluster_default: md.broker_configs.get(BROKER_DEFAULT_ENTITY),
            static_config: &config.raw,
        }
    }

    /// Static configuration only (no dynamic configs known).
    #[cfg(test)]
    pub fn static_only(config: &'a BrokerConfig) -> Self {
        BrokerLayers {
            per_broker: None,
            cluster_default: None,
            static_config: &config.raw,
        }
    }

    /// The value `name` is set to in the highest layer that sets it (Kafka defaults excluded).
    pub fn lookup(&self, name: &str) -> Option<&'a str> {
        self.per_broker
            .and_then(|m| m.get(name))
            .or_else(|| self.cluster_default.and_then(|m| m.get(name)))
            .or_else(|| self.static_config.get(name))
            .map(String::as_str)
    }

    /// Kafka's `configSynonyms`: every layer's value of each of `synonyms`, layer by layer, then
    /// everything before the first entry named `name` dropped (so `log.retention.ms` does not
    /// claim a `log.retention.hours` setting as its own).
    fn synonyms(&self, name: &str, synonyms: &[&str]) -> Vec<Synonym> {
        let mut out = Vec::new();
        let layers = [
            (self.per_broker, DYNAMIC_BROKER_CONFIG),
            (self.cluster_default, DYNAMIC_DEFAULT_BROKER_CONFIG),
            (Some(self.static_config), STATIC_BROKER_CONFIG),
        ];
        for (map, source) in layers {
            for s in synonyms {
                if let Some(v) = map.and_then(|m| m.get(*s)) {
                    out.push(Synonym::new(s, Some(v.clone()), source));
                }
            }
        }
        for s in synonyms {
            if let Some(v) = defs::broker_default(s) {
                out.push(Synonym::new(s, Some(v.to_string()), DEFAULT_CONFIG));
            }
        }
        match out.iter().position(|s| s.name == name) {
            Some(i) => out.split_off(i),
            None => Vec::new(),
        }
    }
}

/// One synonym of a described config (`DescribeConfigsSynonym`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Synonym {
    pub name: String,
    pub value: Option<String>,
    pub source: i8,
}

impl Synonym {
    fn new(name: &str, value: Option<String>, source: i8) -> Self {
        Synonym {
            name: name.to_string(),
            value,
            source,
        }
    }
}

/// One described config, as DescribeConfigs and CreateTopics report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigEntry {
    pub name: String,
    /// `None` is Kafka's null (a config without value, or a sensitive one).
    pub value: Option<String>,
    pub source: i8,
    pub read_only: bool,
    pub sensitive: bool,
    pub config_type: i8,
    /// Where the value could come from, highest priority first (the first is the value's own).
    pub synonyms: Vec<Synonym>,
}

/// The value a topic that does not override `def` gets from the broker layers: the first of its
/// server synonyms that is set, converted to the topic's unit, else the topic default.
fn inherited_value(layers: &BrokerLayers<'_>, def: &defs::TopicConfigDef) -> String {
    for s in def.synonyms {
        if let Some(v) = layers.lookup(s.name) {
            if s.to_topic_unit == 1 {
                return v.trim().to_string();
            }
            if let Ok(n) = v.trim().parse::<i64>() {
                return n.saturating_mul(s.to_topic_unit).to_string();
            }
        }
    }
    def.default.to_string()
}

/// Every topic config Kafka 3.9 lists, with its effective value and source, as Kafka's
/// `createTopicConfigEntry` builds them: the topic's override (TOPIC_CONFIG), else the first
/// broker layer that sets the config's own server synonym, else DEFAULT_CONFIG.
pub fn topic_config_entries(
    layers: &BrokerLayers<'_>,
    overrides: &BTreeMap<String, String>,
) -> Vec<ConfigEntry> {
    defs::TOPIC_CONFIG_DEFS
        .iter()
        .map(|def| {
            let server: Vec<&str> = def.synonyms.iter().map(|s| s.name).collect();
            let mut synonyms = match server.first() {
                Some(primary) => layers.synonyms(primary, &server),
                None => Vec::new(),
            };
            let value = match overrides.get(def.name) {
                Some(v) => {
                    synonyms.insert(0, Synonym::new(def.name, Some(v.clone()), TOPIC_CONFIG));
                    v.clone()
                }
                None => inherited_value(layers, def),
            };
            ConfigEntry {
                name: def.name.to_string(),
                value: Some(value),
                source: synonyms.first().map_or(DEFAULT_CONFIG, |s| s.source),
                read_only: false,
                sensitive: false,
                config_type: def.ty.id(),
                synonyms,
            }
        })
        .collect()
}

/// Topic configs with value and source from static broker configuration only.
#[cfg(test)]
fn describe_topic_config_entries(
    config: &BrokerConfig,
    overrides: &BTreeMap<String, String>,
) -> Vec<ConfigEntry> {
    topic_config_entries(&BrokerLayers::static_only(config), overrides)
}

/// Kafka's `createBrokerConfigEntry`: every broker config of the catalogue with its effective
/// value for this broker (`per_broker`), or only the cluster's dynamic defaults (`!per_broker`,
/// the entity `""`), whose synonyms are limited to that layer.
pub fn broker_config_entries(layers: &BrokerLayers<'_>, per_broker: bool) -> Vec<ConfigEntry> {
    let names: Vec<String> = if per_broker {
        defs::BROKER_CONFIG_DEFS
            .iter()
            .map(|d| d.name.to_string())
            .collect()
    } else {
        layers
            .cluster_default
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    };
    names
        .into_iter()
        .map(|name| {
            let def = defs::broker_config_def(&name);
            let synonyms: Vec<Synonym> = layers
                .synonyms(&name, &defs::broker_synonyms(&name))
                .into_iter()
                .filter(|s| per_broker || s.source == DYNAMIC_DEFAULT_BROKER_CONFIG)
                .collect();
            let value = if per_broker {
                layers
                    .lookup(&name)
                    .map(str::to_string)
                    .or_else(|| def.and_then(|d| d.default).map(str::to_string))
            } else {
                layers.cluster_default.and_then(|m| m.get(&name)).cloned()
            };
            let sensitive = def.is_some_and(|d| d.sensitive());
            let (value, synonyms) = if sensitive {
                // Kafka never shows a password, not even among the synonyms.
                let hidden = synonyms
                    .into_iter()
                    .map(|s| Synonym { value: None, ..s })
                    .collect();
                (None, hidden)
            } else {
                (value, synonyms)
            };
            ConfigEntry {
                source: synonyms.first().map_or(DEFAULT_CONFIG, |s| s.source),
                read_only: !def.is_some_and(|d| d.kafka_dynamic()),
                sensitive,
                config_type: def.map_or(defs::ConfigType::String, |d| d.ty).id(),
                name,
                value,
                synonyms,
            }
        })
        .collect()
}

fn wire_entry(
    e: ConfigEntry,
    include_synonyms: bool,
    documentation: Option<&'static str>,
) -> DescribeConfigsResourceResult {
    let synonyms = if include_synonyms {
        e.synonyms
            .into_iter()
            .map(|s| {
                DescribeConfigsSynonym::default()
                    .with_name(StrBytes::from_string(s.name))
                    .with_value(s.value.map(StrBytes::from_string))
                    .with_source(s.source)
            })
            .collect()
    } else {
        Vec::new()
    };
    DescribeConfigsResourceResult::default()
        .with_name(StrBytes::from_string(e.name))
        .with_value(e.value.map(StrBytes::from_string))
        .with_config_source(e.source)
        .with_read_only(e.read_only)
        .with_is_sensitive(e.sensitive)
        .with_config_type(e.config_type)
        .with_synonyms(synonyms)
        // Kafka fills this only when asked (include_documentation, v3+); null otherwise.
        .with_documentation(documentation.map(StrBytes::from_static_str))
}

/// `resourceNameToBrokerId` and the check that the broker resource is this broker (or `""`).
pub fn broker_resource(name: &str, me: BrokerId) -> Result<Option<i32>, (i16, String)> {
    if name.is_empty() {
        return Ok(None);
    }
    let id = name.parse::<i32>().map_err(|_| {
        (
            ErrorCode::InvalidRequest.code(),
            format!("Broker id must be an integer, but it is: {name}"),
        )
    })?;
    if id != me.get() {
        return Err((
            ErrorCode::InvalidRequest.code(),
            format!("Unexpected broker id, expected {me} or empty string, but received {name}"),
        ));
    }
    Ok(Some(id))
}

/// DescribeConfigs: per resource, every config with value, source, synonyms (if asked), type and
/// documentation (if asked); a missing topic or a broker other than this one (or `""`) fails
/// that resource only, with Kafka's code.
pub fn describe(broker: &Arc<Broker>, request: DescribeConfigsRequest) -> DescribeConfigsResponse {
    let md = broker.cluster.metadata();
    let layers = BrokerLayers::new(&broker.config, &md);
    let include_synonyms = request.include_synonyms;
    let include_documentation = request.include_documentation;
    let results = request
        .resources
        .into_iter()
        .map(|r| {
            let name = r.resource_name.as_str().to_string();
            let wanted = |key: &str| {
                r.configuration_keys
                    .as_ref()
                    .is_none_or(|keys| keys.is_empty() || keys.iter().any(|k| k.as_str() == key))
            };
            let mut result = DescribeConfigsResult::default()
                .with_resource_type(r.resource_type)
                .with_resource_name(r.resource_name.clone());
            let entries: Result<Vec<ConfigEntry>, (i16, String)> = match r.resource_type {
                RESOURCE_TOPIC => match md.topics.get(&name) {
                    Some(info) => Ok(topic_config_entries(&layers, &info.configs)),
                    // Kafka's ConfigHelper: an invalid name fails Topic.validate with its text;
                    // an unknown topic is UNKNOWN_TOPIC_OR_PARTITION without a message (clients
                    // show its default text).
                    None => match super::topics::validate_topic_name(&name) {
                        Err(message) => Err((ErrorCode::InvalidTopicException.code(), message)),
                        Ok(()) => Err((ErrorCode::UnknownTopicOrPartition.code(), String::new())),
                    },
                },
                RESOURCE_BROKER => broker_resource(&name, broker.config.broker_id)
                    .map(|id| broker_config_entries(&layers, id.is_some())),
                other => Err((
                    ErrorCode::InvalidRequest.code(),
                    format!("Unsupported resource type: {other}"),
                )),
            };
            match entries {
                Ok(entries) => {
                    let doc = |name: &str| {
                        if !include_documentation {
                            return None;
                        }
                        if r.resource_type == RESOURCE_TOPIC {
                            config_docs::topic_doc(name)
                        } else {
                            config_docs::broker_doc(name)
                        }
                    };
                    result.configs = entries
                        .into_iter()
                        .filter(|e| wanted(&e.name))
                        .map(|e| {
                            let d = doc(&e.name);
                            wire_entry(e, include_synonyms, d)
                        })
                        .collect();
                }
                Err((code, message)) => {
                    result.error_code = code;
                    // A code without a message leaves the schema's default, "" (not null).
                    result.error_message = Some(StrBytes::from_string(message));
                }
            }
            result
        })
        .collect();
    DescribeConfigsResponse::default().with_results(results)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::log::{BrokerCompressionType, TimestampRules, TimestampType};
    use crate::topic_config::{effective_broker_config, topic_log_config, validate_topic_configs};

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn config(pairs: &[(&str, &str)]) -> BrokerConfig {
        let pairs: Vec<(String, String)> = map(pairs).into_iter().collect();
        BrokerConfig::from_pairs(&pairs).unwrap().0
    }

    fn entry<'a>(entries: &'a [ConfigEntry], name: &str) -> &'a ConfigEntry {
        entries.iter().find(|e| e.name == name).unwrap()
    }

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
        assert_eq!(
            validate_topic_configs(&c),
            Err(
                "Invalid value big for configuration segment.bytes: Not a number of type INT"
                    .to_string()
            )
        );
    }

    #[test]
    fn every_kafka_topic_config_name_is_accepted_and_described() {
        let mut o = BTreeMap::new();
        o.insert("compression.gzip.level".to_string(), "5".to_string());
        assert!(validate_topic_configs(&o).is_ok());
        let entries = describe_topic_config_entries(&BrokerConfig::default(), &o);
        let e = entry(&entries, "compression.gzip.level");
        assert_eq!((e.value.as_deref(), e.source), (Some("5"), TOPIC_CONFIG));
    }

    #[test]
    fn log_append_time_and_timestamp_bounds_reach_the_log_config() {
        let mut o = BTreeMap::new();
        o.insert(
            "message.timestamp.type".to_string(),
            "LogAppendTime".to_string(),
        );
        let c = topic_log_config(&BrokerConfig::default(), &o);
        assert_eq!(c.timestamps.timestamp_type, TimestampType::LogAppendTime);
        let c = topic_log_config(&BrokerConfig::default(), &BTreeMap::new());
        assert_eq!(c.timestamps, TimestampRules::default());

        let broker = BrokerConfig {
            log_message_timestamp_type: TimestampType::LogAppendTime,
            log_message_timestamp_difference_max_ms: 5_000,
            ..BrokerConfig::default()
        };
        let mut o = BTreeMap::new();
        o.insert(
            "message.timestamp.after.max.ms".to_string(),
            "1000".to_string(),
        );
        let c = topic_log_config(&broker, &o);
        assert_eq!(c.timestamps.timestamp_type, TimestampType::LogAppendTime);
        assert_eq!(c.timestamps.after_max_ms, 1_000);
        assert_eq!(
            c.timestamps.before_max_ms, 5_000,
            "falls back to difference"
        );
    }

    #[test]
    fn compression_type_and_levels_reach_the_log_config_over_the_broker_defaults() {
        for value in ["producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"] {
            let o = map(&[("compression.type", value)]);
            validate_topic_configs(&o).expect(value);
            let c = topic_log_config(&BrokerConfig::default(), &o);
            assert_eq!(
                Some(c.compression.compression_type),
                BrokerCompressionType::parse(value)
            );
        }
        let pairs: Vec<(String, String)> = [
            ("compression.type", "zstd"),
            ("compression.zstd.level", "7"),
            ("compression.gzip.level", "2"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let (broker, _) = BrokerConfig::from_pairs(&pairs).expect("loads");
        let c = topic_log_config(&broker, &BTreeMap::new());
        assert_eq!(c.compression.compression_type, BrokerCompressionType::Zstd);
        assert_eq!(c.compression.zstd_level, 7);
        let o = map(&[
            ("compression.type", "gzip"),
            ("compression.gzip.level", "9"),
        ]);
        let c = topic_log_config(&broker, &o);
        assert_eq!(c.compression.compression_type, BrokerCompressionType::Gzip);
        assert_eq!((c.compression.gzip_level, c.compression.zstd_level), (9, 7));
        let bad = [("compression.type".to_string(), "none".to_string())];
        assert!(
            BrokerConfig::from_pairs(&bad).is_err(),
            "Kafka's broker refuses it too"
        );
    }

    #[test]
    fn configs_we_cannot_honor_are_refused_at_validation() {
        for (k, v) in [
            ("cleanup.policy", "shrink"),
            // Kafka refuses what its validators refuse; every codec name is acted on.
            ("compression.type", "brotli"),
            ("compression.gzip.level", "10"),
            ("compression.lz4.level", "0"),
            ("compression.zstd.level", "23"),
            ("remote.storage.enable", "true"),
            ("message.timestamp.after.max.ms", "-1"),
        ] {
            let mut c = BTreeMap::new();
            c.insert(k.to_string(), v.to_string());
            let err = validate_topic_configs(&c).expect_err(k);
            assert!(
                err.starts_with(&format!("Invalid value {v} for configuration {k}: ")),
                "{err}"
            );
        }
        // Log compaction is acted on.
        for policy in ["compact", "compact,delete"] {
            let c = BTreeMap::from([("cleanup.policy".to_string(), policy.to_string())]);
            assert_eq!(validate_topic_configs(&c), Ok(()), "{policy}");
        }
    }

    #[test]
    fn describe_lists_every_config_with_source() {
        let o = map(&[("retention.ms", "1000")]);
        let entries = describe_topic_config_entries(&BrokerConfig::default(), &o);
        assert_eq!(entries.len(), defs::TOPIC_CONFIG_DEFS.len());
        assert_eq!(entries.len(), common::config::topic_config_names().count());
        let r = entry(&entries, "retention.ms");
        assert_eq!((r.value.as_deref(), r.source), (Some("1000"), TOPIC_CONFIG));
        assert_eq!(
            r.synonyms,
            vec![Synonym::new(
                "retention.ms",
                Some("1000".into()),
                TOPIC_CONFIG
            )]
        );
        let s = entry(&entries, "segment.bytes");
        assert_eq!(
            (s.value.as_deref(), s.source),
            (Some("1073741824"), DEFAULT_CONFIG)
        );
        assert_eq!(
            s.synonyms,
            vec![Synonym::new(
                "log.segment.bytes",
                Some("1073741824".into()),
                DEFAULT_CONFIG
            )]
        );
        assert_eq!(s.config_type, defs::ConfigType::Int.id());
        assert!(!s.read_only && !s.sensitive);
    }

    #[test]
    fn a_static_broker_synonym_is_the_source_unless_it_is_only_a_lower_unit() {
        let c = config(&[("log.segment.bytes", "2048"), ("log.retention.hours", "1")]);
        let entries = describe_topic_config_entries(&c, &BTreeMap::new());
        let s = entry(&entries, "segment.bytes");
        assert_eq!(
            (s.value.as_deref(), s.source),
            (Some("2048"), STATIC_BROKER_CONFIG)
        );
        // Kafka drops synonyms before the config's own server name: log.retention.hours set in
        // server.properties gives retention.ms its value but not the STATIC source.
        let r = entry(&entries, "retention.ms");
        assert_eq!(
            (r.value.as_deref(), r.source),
            (Some("3600000"), DEFAULT_CONFIG)
        );
        assert!(r.synonyms.is_empty());
    }

    #[test]
    fn dynamic_layers_win_over_static_in_value_source_and_synonym_order() {
        let c = config(&[("broker.id", "0"), ("message.max.bytes", "5000")]);
        let md = ClusterMetadata {
            version: 1,
            cluster_id: String::new(),
            brokers: Vec::new(),
            topics: BTreeMap::new(),
            broker_configs: [
                ("".to_string(), map(&[("message.max.bytes", "3000")])),
                ("0".to_string(), map(&[("message.max.bytes", "2000")])),
            ]
            .into(),
        };
        let layers = BrokerLayers::new(&c, &md);
        let topic = topic_config_entries(&layers, &BTreeMap::new());
        let m = entry(&topic, "max.message.bytes");
        assert_eq!(
            (m.value.as_deref(), m.source),
            (Some("2000"), DYNAMIC_BROKER_CONFIG)
        );
        let sources: Vec<i8> = m.synonyms.iter().map(|s| s.source).collect();
        assert_eq!(
            sources,
            [
                DYNAMIC_BROKER_CONFIG,
                DYNAMIC_DEFAULT_BROKER_CONFIG,
                STATIC_BROKER_CONFIG,
                DEFAULT_CONFIG
            ]
        );
        let brokers = broker_config_entries(&layers, true);
        let b = entry(&brokers, "message.max.bytes");
        assert_eq!(
            (b.value.as_deref(), b.source),
            (Some("2000"), DYNAMIC_BROKER_CONFIG)
        );
        assert!(!b.read_only);
        assert!(entry(&brokers, "broker.id").read_only);
        // The default entity lists only its own entries, with synonyms of its own layer.
        let defaults = broker_config_entries(&layers, false);
        assert_eq!(defaults.len(), 1);
        assert_eq!(defaults[0].source, DYNAMIC_DEFAULT_BROKER_CONFIG);
        assert_eq!(
            defaults[0].synonyms,
            vec![Synonym::new(
                "message.max.bytes",
                Some("3000".into()),
                DYNAMIC_DEFAULT_BROKER_CONFIG
            )]
        );
        // And the partition logs get the per-broker value.
        let effective = effective_broker_config(&c, &md);
        assert_eq!(effective.message_max_bytes, 2000);
        assert_eq!(
            topic_log_config(&effective, &BTreeMap::new()).max_message_bytes,
            2000
        );
        assert_eq!(effective.raw, c.raw);
    }

    /// Every broker key a topic inherits reaches the partition logs through the typed config,
    /// so a dynamic value (which `raw`, the static layer, never holds) is acted on too.
    #[test]
    fn dynamic_topic_defaults_reach_the_log_config_not_only_static_ones() {
        let c = config(&[("broker.id", "0"), ("min.insync.replicas", "1")]);
        let md = ClusterMetadata {
            version: 1,
            cluster_id: String::new(),
            brokers: Vec::new(),
            topics: BTreeMap::new(),
            broker_configs: [(
                "".to_string(),
                map(&[
                    ("min.insync.replicas", "2"),
                    ("log.cleanup.policy", "compact"),
                ]),
            )]
            .into(),
        };
        let effective = effective_broker_config(&c, &md);
        let log = topic_log_config(&effective, &BTreeMap::new());
        assert_eq!(log.min_insync_replicas, 2);
        assert!(!log.cleanup_policy_delete);
        // A topic's own override still wins.
        let log = topic_log_config(
            &effective,
            &map(&[("min.insync.replicas", "1"), ("cleanup.policy", "delete")]),
        );
        assert_eq!(log.min_insync_replicas, 1);
        assert!(log.cleanup_policy_delete);
        // message.downconversion.enable: the topic's value, else log.message.downconversion.enable.
        let off = config(&[("log.message.downconversion.enable", "false")]);
        assert!(!topic_log_config(&off, &BTreeMap::new()).message_downconversion_enable);
        assert!(
            topic_log_config(&off, &map(&[("message.downconversion.enable", "true")]))
                .message_downconversion_enable
        );
    }

    #[test]
    fn broker_resources_name_this_broker_or_the_default() {
        assert_eq!(broker_resource("", BrokerId(0)), Ok(None));
        assert_eq!(broker_resource("0", BrokerId(0)), Ok(Some(0)));
        assert_eq!(
            broker_resource("1", BrokerId(0)).unwrap_err().1,
            "Unexpected broker id, expected 0 or empty string, but received 1"
        );
        assert_eq!(
            broker_resource("x", BrokerId(0)).unwrap_err().1,
            "Broker id must be an integer, but it is: x"
        );
    }

    #[test]
    fn retention_and_roll_configs_reach_the_log() {
        let broker = BrokerConfig::default();
        let mut o = BTreeMap::new();
        let log = topic_log_config(&broker, &o);
        assert!(log.cleanup_policy_delete);
        assert_eq!(log.segment_jitter_ms, 0);
        o.insert("retention.ms".to_string(), "-1".to_string());
        o.insert("retention.bytes".to_string(), "0".to_string());
        o.insert("segment.jitter.ms".to_string(), "250".to_string());
        o.insert("segment.index.bytes".to_string(), "4096".to_string());
        o.insert("cleanup.policy".to_string(), "compact".to_string());
        let log = topic_log_config(&broker, &o);
        assert_eq!((log.retention_ms, log.retention_bytes), (None, Some(0)));
        assert_eq!(log.segment_jitter_ms, 250);
        assert_eq!(log.segment_index_bytes, 4096);
        assert!(!log.cleanup_policy_delete);
        o.insert("cleanup.policy".to_string(), "compact,delete".to_string());
        assert!(topic_log_config(&broker, &o).cleanup_policy_delete);
        // The broker's log.cleanup.policy and log.roll.jitter.ms are the defaults.
        let (mut broker, _) =
            BrokerConfig::from_pairs(&[("log.cleanup.policy".to_string(), "compact".to_string())])
                .expect("config");
        broker.log_roll_jitter_ms = 99;
        let log = topic_log_config(&broker, &BTreeMap::new());
        assert!(!log.cleanup_policy_delete);
        assert_eq!(log.segment_jitter_ms, 99);
    }
}
