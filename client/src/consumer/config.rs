//! Consumer settings with Kafka 3.9's names and defaults, read from `key=value` pairs as
//! `--consumer-property` and `consumer.properties` give them, group membership keys included.

use super::assignor::Assignor;
use crate::error::ClientError;
use crate::properties::{
    invalid, parse_bool, parse_i32, parse_non_negative_i32, parse_non_negative_i64, warn_unknown,
};

/// What to do when the position is missing or out of range (`auto.offset.reset`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetReset {
    Earliest,
    Latest,
    /// Fail with OFFSET_OUT_OF_RANGE instead.
    None,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConsumerConfig {
    pub bootstrap_servers: String,
    pub client_id: String,
    pub group_id: Option<String>,
    pub fetch_max_wait_ms: i32,
    pub fetch_min_bytes: i32,
    pub fetch_max_bytes: i32,
    pub max_partition_fetch_bytes: i32,
    /// 0 read_uncommitted, 1 read_committed.
    pub isolation_level: i8,
    pub request_timeout_ms: u64,
    /// `default.api.timeout.ms`: how long a blocking call without its own timeout (a
    /// synchronous commit) keeps retrying, in ms (Kafka's default 60000).
    pub default_api_timeout_ms: u64,
    pub auto_offset_reset: OffsetReset,
    pub retry_backoff_ms: u64,
    /// The cap of the exponential backoff between metadata refreshes while a topic the consumer
    /// needs is unknown or leaderless (`retry.backoff.max.ms`, Kafka's KIP-580 default 1000).
    pub retry_backoff_max_ms: u64,
    pub max_poll_records: usize,
    /// How often metadata of the subscribed / assigned topics is refreshed even without an
    /// error (`metadata.max.age.ms`): partitions added and topics created (or matched by a
    /// pattern) later are noticed at this pace.
    pub metadata_max_age_ms: u64,
    /// `allow.auto.create.topics`: whether the consumer's Metadata requests for the topics it
    /// subscribed to or was assigned ask the broker to create missing ones (the broker's
    /// `auto.create.topics.enable` must allow it too). Pattern subscriptions never auto-create.
    pub allow_auto_create_topics: bool,
    /// `exclude.internal.topics`: a pattern subscription never matches internal topics.
    pub exclude_internal_topics: bool,
    /// Defaults to true when a group is used (Kafka's default), false otherwise.
    pub enable_auto_commit: bool,
    pub auto_commit_interval_ms: u64,
    pub session_timeout_ms: i32,
    pub heartbeat_interval_ms: u64,
    /// Also the rebalance timeout sent in JoinGroup.
    pub max_poll_interval_ms: i32,
    /// In preference order; the coordinator picks one all members support.
    pub partition_assignment_strategy: Vec<Assignor>,
    /// Static membership (KIP-345).
    pub group_instance_id: Option<String>,
}

impl Default for ConsumerConfig {
    fn default() -> Self {
        ConsumerConfig {
            bootstrap_servers: String::new(),
            client_id: "consumer-1".to_string(),
            group_id: None,
            fetch_max_wait_ms: 500,
            fetch_min_bytes: 1,
            fetch_max_bytes: 52_428_800,
            max_partition_fetch_bytes: 1_048_576,
            isolation_level: 0,
            request_timeout_ms: 30_000,
            default_api_timeout_ms: 60_000,
            auto_offset_reset: OffsetReset::Latest,
            retry_backoff_ms: 100,
            retry_backoff_max_ms: 1000,
            max_poll_records: 500,
            metadata_max_age_ms: 300_000,
            allow_auto_create_topics: true,
            exclude_internal_topics: true,
            enable_auto_commit: true,
            auto_commit_interval_ms: 5000,
            session_timeout_ms: 45_000,
            heartbeat_interval_ms: 3000,
            max_poll_interval_ms: 300_000,
            partition_assignment_strategy: vec![Assignor::Range, Assignor::RoundRobin],
            group_instance_id: None,
        }
    }
}

/// Valid Kafka consumer keys we have no use for.
const ACCEPTED_KEYS: &[&str] = &[
    "key.deserializer",
    "value.deserializer",
    "check.crcs",
    "client.rack",
    "receive.buffer.bytes",
    "send.buffer.bytes",
    "connections.max.idle.ms",
    "reconnect.backoff.ms",
    "reconnect.backoff.max.ms",
];

impl ConsumerConfig {
    /// Builds a config from Kafka consumer keys over the defaults. An unknown key is a warning;
    /// a bad value is an error naming the key and the value.
    pub fn from_properties<K: AsRef<str>, V: AsRef<str>>(
        props: &[(K, V)],
    ) -> Result<ConsumerConfig, ClientError> {
        let mut c = ConsumerConfig::default();
        for (k, v) in props {
            let (key, value) = (k.as_ref().trim(), v.as_ref().trim());
            match key {
                "bootstrap.servers" => c.bootstrap_servers = value.to_string(),
                "client.id" => c.client_id = value.to_string(),
                "group.id" => c.group_id = Some(value.to_string()),
                "fetch.max.wait.ms" => c.fetch_max_wait_ms = parse_non_negative_i32(key, value)?,
                "fetch.min.bytes" => c.fetch_min_bytes = parse_non_negative_i32(key, value)?,
                "fetch.max.bytes" => c.fetch_max_bytes = parse_non_negative_i32(key, value)?,
                "max.partition.fetch.bytes" => {
                    c.max_partition_fetch_bytes = parse_non_negative_i32(key, value)?
                }
                // Kafka's `ValidString.in`: case-sensitive.
                "isolation.level" => {
                    c.isolation_level = match value {
                        "read_uncommitted" => 0,
                        "read_committed" => 1,
                        _ => {
                            return Err(invalid(
                                key,
                                value,
                                "String must be one of: read_committed, read_uncommitted",
                            ))
                        }
                    }
                }
                "request.timeout.ms" => {
                    c.request_timeout_ms = parse_non_negative_i32(key, value)? as u64
                }
                "default.api.timeout.ms" => {
                    c.default_api_timeout_ms = parse_non_negative_i32(key, value)? as u64
                }
                "auto.offset.reset" => {
                    c.auto_offset_reset = match value.to_ascii_lowercase().as_str() {
                        "earliest" => OffsetReset::Earliest,
                        "latest" => OffsetReset::Latest,
                        "none" => OffsetReset::None,
                        _ => {
                            return Err(invalid(
                                key,
                                value,
                                "String must be one of: latest, earliest, none",
                            ))
                        }
                    }
                }
                "retry.backoff.ms" => {
                    c.retry_backoff_ms = parse_non_negative_i64(key, value)? as u64
                }
                "max.poll.records" => {
                    let n = parse_i32(key, value)?;
                    if n < 1 {
                        return Err(invalid(key, value, "Value must be at least 1"));
                    }
                    c.max_poll_records = n as usize;
                }
                "metadata.max.age.ms" => {
                    c.metadata_max_age_ms = parse_non_negative_i64(key, value)? as u64
                }
                "retry.backoff.max.ms" => {
                    c.retry_backoff_max_ms = parse_non_negative_i64(key, value)? as u64
                }
                "allow.auto.create.topics" => c.allow_auto_create_topics = parse_bool(key, value)?,
                "exclude.internal.topics" => c.exclude_internal_topics = parse_bool(key, value)?,
                "enable.auto.commit" => {
                    c.enable_auto_commit = match value.to_ascii_lowercase().as_str() {
                        "true" => true,
                        "false" => false,
                        _ => {
                            return Err(invalid(
                                key,
                                value,
                                "Expected value to be either true or false",
                            ))
                        }
                    }
                }
                "auto.commit.interval.ms" => {
                    c.auto_commit_interval_ms = parse_non_negative_i32(key, value)? as u64
                }
                "session.timeout.ms" => c.session_timeout_ms = parse_non_negative_i32(key, value)?,
                "heartbeat.interval.ms" => {
                    c.heartbeat_interval_ms = parse_non_negative_i32(key, value)? as u64
                }
                "max.poll.interval.ms" => {
                    let n = parse_i32(key, value)?;
                    if n < 1 {
                        return Err(invalid(key, value, "Value must be at least 1"));
                    }
                    c.max_poll_interval_ms = n;
                }
                "partition.assignment.strategy" => {
                    let mut list = Vec::new();
                    for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                        match Assignor::from_name(name) {
                            Some(a) => list.push(a),
                            None => {
                                return Err(invalid(
                                    key,
                                    value,
                                    &format!("Class {name} cannot be found"),
                                ))
                            }
                        }
                    }
                    if list.is_empty() {
                        return Err(invalid(key, value, "At least one assignor is required"));
                    }
                    c.partition_assignment_strategy = list;
                }
                "group.instance.id" => {
                    c.group_instance_id = Some(value.to_string()).filter(|v| !v.is_empty())
                }
                "security.protocol" => crate::properties::check_security_protocol(value)?,
                k if ACCEPTED_KEYS.contains(&k) => {}
                _ => warn_unknown(key),
            }
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_consumer_keys_parse() {
        let c = ConsumerConfig::from_properties(&[
            ("bootstrap.servers", "localhost:9092"),
            ("group.id", "console-consumer-123"),
            ("auto.offset.reset", "earliest"),
            ("enable.auto.commit", "false"),
            ("isolation.level", "read_committed"),
        ])
        .expect("parse");
        assert_eq!(c.auto_offset_reset, OffsetReset::Earliest);
        assert_eq!(c.isolation_level, 1);
        assert_eq!(c.fetch_max_wait_ms, 500);
        // Case-sensitive, as Kafka's `ValidString.in`.
        let err = ConsumerConfig::from_properties(&[("isolation.level", "READ_COMMITTED")])
            .expect_err("upper case");
        assert!(
            err.to_string().contains(
                "Invalid value READ_COMMITTED for configuration isolation.level: String must be \
                 one of: read_committed, read_uncommitted"
            ),
            "{err}"
        );
    }

    #[test]
    fn metadata_keys_are_read_not_ignored() {
        let c = ConsumerConfig::from_properties(&[
            ("metadata.max.age.ms", "250"),
            ("allow.auto.create.topics", "false"),
            ("exclude.internal.topics", "false"),
            ("retry.backoff.max.ms", "400"),
        ])
        .expect("parse");
        assert_eq!(c.metadata_max_age_ms, 250);
        assert!(!c.allow_auto_create_topics);
        assert!(!c.exclude_internal_topics);
        assert_eq!(c.retry_backoff_max_ms, 400);
        let c =
            ConsumerConfig::from_properties(&[("default.api.timeout.ms", "1500")]).expect("parse");
        assert_eq!(c.default_api_timeout_ms, 1500);
        assert_eq!(ConsumerConfig::default().default_api_timeout_ms, 60_000);
        let d = ConsumerConfig::default();
        assert_eq!(d.metadata_max_age_ms, 300_000);
        assert!(d.allow_auto_create_topics);
        assert!(d.exclude_internal_topics);
        assert!(ConsumerConfig::from_properties(&[("allow.auto.create.topics", "maybe")]).is_err());
    }

    #[test]
    fn bad_values_name_key_and_value() {
        let e = ConsumerConfig::from_properties(&[("auto.offset.reset", "begin")])
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("Invalid value begin for configuration auto.offset.reset: String must be one of: latest, earliest, none")
        );
        assert!(ConsumerConfig::from_properties(&[("fetch.min.bytes", "x")]).is_err());
    }
}
