//! Topic-config translation: what a topic's config overrides and the dynamic broker configs
//! mean for the storage layer. The broker configuration in effect once dynamic configs are
//! applied (Kafka's `DynamicBrokerConfig`), a topic's `LogConfig` (its overrides over the
//! broker's defaults, as Kafka's `LogConfig` resolves them), and the check of topic overrides
//! (Kafka's `LogConfig.validate`). Handlers and partition hosting both use it.

use std::collections::BTreeMap;

use zookeeper_lite::protocol::{ClusterMetadata, BROKER_DEFAULT_ENTITY};

use crate::config::BrokerConfig;
use crate::log::{
    BrokerCompressionType, LogConfig, TimestampRules, TimestampType, TopicCompression,
};
use common::config as defs;
use common::config::support::refuse_topic_config;

/// Checks topic overrides as Kafka's `LogConfig.validate` does: every name one Kafka topics
/// have, every value of the config's type and within its validator. `Err` is Kafka's text
/// (`Unknown topic config name: x`, `Invalid value abc for configuration retention.ms: Not a
/// number of type LONG`).
pub fn validate_topic_configs(configs: &BTreeMap<String, String>) -> Result<(), String> {
    if let Some(name) = configs.keys().find(|n| defs::topic_config_def(n).is_none()) {
        return Err(format!("Unknown topic config name: {name}"));
    }
    for (name, value) in configs {
        if let Some(d) = defs::topic_config_def(name) {
            defs::check_value(name, d.ty, d.validator, value)?;
        }
        if let Some(message) = refuse_topic_config(name, value) {
            return Err(message);
        }
    }
    Ok(())
}

/// The broker configuration in effect: `server.properties` overlaid with the cluster's dynamic
/// defaults and then this broker's dynamic configs, as Kafka's `DynamicBrokerConfig` merges
/// them. A dynamic set that does not load (it was checked when altered, so only a hand-edited
/// coordinator could cause this) is logged and ignored.
pub fn effective_broker_config(config: &BrokerConfig, md: &ClusterMetadata) -> BrokerConfig {
    let per_broker = md.broker_configs.get(&config.broker_id.to_string());
    let cluster_default = md.broker_configs.get(BROKER_DEFAULT_ENTITY);
    if per_broker.is_none() && cluster_default.is_none() {
        return config.clone();
    }
    let mut merged = config.raw.clone();
    for m in [cluster_default, per_broker].into_iter().flatten() {
        merged.extend(m.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    let pairs: Vec<(String, String)> = merged.into_iter().collect();
    match BrokerConfig::from_pairs(&pairs) {
        Ok((mut effective, _)) => {
            // `raw` stays what server.properties said; the dynamic layers live in the metadata.
            effective.raw = config.raw.clone();
            effective
        }
        Err(e) => {
            tracing::warn!("dynamic broker configs do not load, keeping the static ones: {e}");
            config.clone()
        }
    }
}

/// The storage settings of a topic's partitions: its overrides over the broker's defaults.
pub fn topic_log_config(config: &BrokerConfig, overrides: &BTreeMap<String, String>) -> LogConfig {
    let get =
        |name: &str| -> Option<i64> { overrides.get(name).and_then(|v| v.trim().parse().ok()) };
    let positive = |v: i64| (v >= 0).then_some(v);
    LogConfig {
        segment_bytes: get("segment.bytes").map_or(config.log_segment_bytes, |v| v.max(14) as u64),
        segment_ms: get("segment.ms").map_or(config.log_roll_ms, |v| (v > 0).then_some(v)),
        segment_jitter_ms: get("segment.jitter.ms").map_or(config.log_roll_jitter_ms, |v| v.max(0)),
        segment_index_bytes: get("segment.index.bytes")
            .map_or(config.log_index_size_max_bytes, |v| v.max(4) as u64),
        index_interval_bytes: get("index.interval.bytes")
            .map_or(config.log_index_interval_bytes, |v| {
                v.clamp(0, i64::from(u32::MAX)) as u32
            }),
        retention_ms: get("retention.ms").map_or(config.log_retention_ms, positive),
        retention_bytes: get("retention.bytes").map_or(config.log_retention_bytes, positive),
        cleanup_policy_delete: overrides
            .get("cleanup.policy")
            .map_or(config.log_cleanup_policy_delete, |policy| {
                crate::config::cleanup_policy_deletes(policy)
            }),
        compact: overrides
            .get("cleanup.policy")
            .map_or(config.log_cleanup_policy_compact, |policy| {
                crate::config::cleanup_policy_compacts(policy)
            }),
        delete_retention_ms: get("delete.retention.ms")
            .map_or(config.log_cleaner_delete_retention_ms, |v| v.max(0)),
        min_cleanable_dirty_ratio: overrides
            .get("min.cleanable.dirty.ratio")
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|r| (0.0..=1.0).contains(r))
            .unwrap_or(config.log_cleaner_min_cleanable_ratio),
        min_compaction_lag_ms: get("min.compaction.lag.ms")
            .map_or(config.log_cleaner_min_compaction_lag_ms, |v| v.max(0)),
        max_compaction_lag_ms: get("max.compaction.lag.ms")
            .map_or(config.log_cleaner_max_compaction_lag_ms, |v| v.max(1)),
        flush_interval_messages: get("flush.messages")
            .map_or(config.log_flush_interval_messages, |v| v.max(1) as u64),
        flush_interval_ms: get("flush.ms").map_or(config.log_flush_interval_ms, |v| {
            (0..i64::MAX).contains(&v).then_some(v as u64)
        }),
        max_message_bytes: get("max.message.bytes")
            .map_or(config.message_max_bytes, |v| v.max(0) as usize),
        timestamps: topic_timestamp_rules(config, overrides),
        compression: topic_compression(config, overrides),
        min_insync_replicas: get("min.insync.replicas")
            .map_or(config.min_insync_replicas, |v| v.max(1) as usize),
        message_downconversion_enable: overrides
            .get("message.downconversion.enable")
            .map_or(config.log_message_downconversion_enable, |v| {
                !v.trim().eq_ignore_ascii_case("false")
            }),
    }
}

/// `compression.type` and the compression levels of a topic over the broker's keys of the same
/// names (values were validated when they were set; one that does not parse keeps the broker's).
fn topic_compression(
    config: &BrokerConfig,
    overrides: &BTreeMap<String, String>,
) -> TopicCompression {
    let broker = config.compression;
    let level = |name: &str, broker: i32| -> i32 {
        overrides
            .get(name)
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(broker)
    };
    TopicCompression {
        compression_type: overrides
            .get("compression.type")
            .and_then(|v| BrokerCompressionType::parse(v))
            .unwrap_or(broker.compression_type),
        gzip_level: level("compression.gzip.level", broker.gzip_level),
        lz4_level: level("compression.lz4.level", broker.lz4_level),
        zstd_level: level("compression.zstd.level", broker.zstd_level),
    }
}

/// `message.timestamp.*` of a topic over the broker's `log.message.timestamp.*`, as Kafka's
/// `LogConfig` resolves them: the before/after bounds fall back to the deprecated
/// `message.timestamp.difference.max.ms` while they are left at `Long.MAX_VALUE`.
fn topic_timestamp_rules(
    config: &BrokerConfig,
    overrides: &BTreeMap<String, String>,
) -> TimestampRules {
    let ms = |name: &str, broker: i64| -> i64 {
        overrides
            .get(name)
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(broker)
    };
    let difference = ms(
        "message.timestamp.difference.max.ms",
        config.log_message_timestamp_difference_max_ms,
    );
    let or_difference = |v: i64| if v == i64::MAX { difference } else { v };
    TimestampRules {
        timestamp_type: overrides
            .get("message.timestamp.type")
            .and_then(|v| TimestampType::parse(v))
            .unwrap_or(config.log_message_timestamp_type),
        before_max_ms: or_difference(ms(
            "message.timestamp.before.max.ms",
            config.log_message_timestamp_before_max_ms,
        )),
        after_max_ms: or_difference(ms(
            "message.timestamp.after.max.ms",
            config.log_message_timestamp_after_max_ms,
        )),
    }
}
