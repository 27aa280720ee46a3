//! The broker's configuration: Kafka's `server.properties` keys and defaults.
//!
//! Unknown keys are warned about by name (a misspelled key must never be silently ignored); a bad
//! value is an error that names the key and the value.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// Reads `server.properties` text: Java's `.properties` rules, each value trimmed as Kafka's
/// `ConfigDef` trims a value before parsing it.
pub use common::properties::parse_trimmed as parse_properties;
use thiserror::Error;

use crate::log::recompress::level_error;
use crate::log::{BrokerCompressionType, TimestampType, TopicCompression};
use common::config::support::broker_config_warning;
use common::ids::BrokerId;

#[derive(Debug, Error, PartialEq)]
pub enum ConfigError {
    #[error("invalid value '{value}' for configuration key '{key}': {reason}")]
    InvalidValue {
        key: String,
        value: String,
        reason: String,
    },
    #[error("--override expects key=value, found '{0}'")]
    BadOverride(String),
}

/// Keys of Kafka's broker configuration that are not unknown (Kafka's own `server.properties`
/// loads without "unknown key" noise) but are handled elsewhere or not at all: the ones whose
/// value we do not act on are warned about by `common::config::support::broker_config_warning`.
const ACCEPTED_KEYS: &[&str] = &[
    "num.network.threads",
    "num.io.threads",
    "socket.send.buffer.bytes",
    "socket.receive.buffer.bytes",
    "num.recovery.threads.per.data.dir",
    "zookeeper.connection.timeout.ms",
    "listener.security.protocol.map",
    "inter.broker.listener.name",
    "unclean.leader.election.enable",
    "log.cleaner.io.buffer.size",
    "log.cleaner.io.max.bytes.per.second",
    "broker.rack",
];

/// Keys of this broker's own, not Kafka's (documented in config/server.properties).
#[cfg(test)]
pub(crate) const OWN_KEYS: &[&str] = &[crate::metrics::http::LISTENER_KEY];

/// Keys of Kafka's that are internal (`.internal()` in its ConfigDef, so absent from its published
/// reference and from DescribeConfigs) but acted on here, as Kafka acts on them.
#[cfg(test)]
pub(crate) const INTERNAL_KEYS: &[&str] = &["log.initial.task.delay.ms"];

/// Keys this broker acts on.
pub(crate) const KNOWN_KEYS: &[&str] = &[
    "broker.id",
    "log.message.timestamp.type",
    "log.message.timestamp.before.max.ms",
    "log.message.timestamp.after.max.ms",
    "log.message.timestamp.difference.max.ms",
    "listeners",
    "advertised.listeners",
    "log.dirs",
    "log.dir",
    "num.partitions",
    "default.replication.factor",
    "log.segment.bytes",
    "log.roll.ms",
    "log.roll.hours",
    "log.roll.jitter.ms",
    "log.roll.jitter.hours",
    "log.index.interval.bytes",
    "log.index.size.max.bytes",
    "log.retention.hours",
    "log.retention.minutes",
    "log.retention.ms",
    "log.retention.bytes",
    "log.retention.check.interval.ms",
    "log.initial.task.delay.ms",
    "log.flush.interval.messages",
    "log.flush.interval.ms",
    "zookeeper.connect",
    "zookeeper.session.timeout.ms",
    "auto.create.topics.enable",
    "delete.topic.enable",
    "message.max.bytes",
    "min.insync.replicas",
    "log.cleanup.policy",
    "log.cleaner.enable",
    "log.cleaner.threads",
    "log.cleaner.backoff.ms",
    "log.cleaner.dedupe.buffer.size",
    "log.cleaner.io.buffer.load.factor",
    "log.cleaner.delete.retention.ms",
    "log.cleaner.min.cleanable.ratio",
    "log.cleaner.min.compaction.lag.ms",
    "log.cleaner.max.compaction.lag.ms",
    "log.message.downconversion.enable",
    "socket.request.max.bytes",
    "max.connections",
    "max.connections.per.ip",
    "max.connections.per.ip.overrides",
    "connections.max.idle.ms",
    "queued.max.request.bytes",
    "fetch.max.bytes",
    "replica.lag.time.max.ms",
    "replica.fetch.wait.max.ms",
    "replica.fetch.min.bytes",
    "replica.fetch.max.bytes",
    "replica.fetch.response.max.bytes",
    "replica.fetch.backoff.ms",
    "replica.socket.timeout.ms",
    "controlled.shutdown.enable",
    "controlled.shutdown.max.retries",
    "controlled.shutdown.retry.backoff.ms",
    "auto.leader.rebalance.enable",
    "leader.imbalance.check.interval.seconds",
    "leader.imbalance.per.broker.percentage",
    "group.initial.rebalance.delay.ms",
    "replica.selector.class",
    "group.min.session.timeout.ms",
    "group.max.session.timeout.ms",
    "offsets.retention.minutes",
    "offsets.retention.check.interval.ms",
    "offsets.topic.replication.factor",
    "offsets.topic.num.partitions",
    "offsets.topic.segment.bytes",
    "offsets.commit.timeout.ms",
    "offsets.load.buffer.size",
    "transaction.state.log.num.partitions",
    "transaction.state.log.replication.factor",
    "transaction.state.log.min.isr",
    "transaction.state.log.segment.bytes",
    "transaction.state.log.load.buffer.size",
    "transaction.max.timeout.ms",
    "transaction.abort.timed.out.transaction.cleanup.interval.ms",
    "transaction.remove.expired.transaction.cleanup.interval.ms",
    "transactional.id.expiration.ms",
    "transaction.partition.verification.enable",
    "compression.type",
    "compression.gzip.level",
    "compression.lz4.level",
    "compression.zstd.level",
];

/// The transaction coordinator's settings, with Kafka 3.9's defaults (`TransactionStateManager`
/// and `TransactionLog` configs).
#[derive(Debug, Clone, PartialEq)]
pub struct TxnSettings {
    /// Partitions of `__transaction_state` when it is created (`transaction.state.log.num.partitions`).
    pub state_log_num_partitions: i32,
    /// Its replication factor, lowered to the live broker count when fewer are alive at its
    /// creation (`transaction.state.log.replication.factor`).
    pub state_log_replication_factor: i16,
    /// Its `min.insync.replicas` (`transaction.state.log.min.isr`).
    pub state_log_min_isr: usize,
    /// Its `segment.bytes` (`transaction.state.log.segment.bytes`).
    pub state_log_segment_bytes: i32,
    /// Bytes read at a time when loading a partition of it, bytes.
    pub state_log_load_buffer_size: usize,
    /// The largest `transaction.timeout.ms` a producer may ask for, ms (`transaction.max.timeout.ms`).
    pub max_timeout_ms: i32,
    /// How often timed-out transactions are aborted, ms.
    pub abort_timed_out_interval_ms: u64,
    /// How often expired transactional ids are removed, ms.
    pub remove_expired_interval_ms: u64,
    /// How long a transactional id without a transaction is kept, ms (`transactional.id.expiration.ms`).
    pub transactional_id_expiration_ms: i64,
    /// `transaction.partition.verification.enable` (KIP-890): transactional writes that would
    /// start a transaction in a partition are checked with the transaction coordinator first.
    pub partition_verification_enable: bool,
}

impl Default for TxnSettings {
    fn default() -> Self {
        TxnSettings {
            state_log_num_partitions: 50,
            state_log_replication_factor: 3,
            state_log_min_isr: 2,
            state_log_segment_bytes: 104_857_600,
            state_log_load_buffer_size: 5_242_880,
            max_timeout_ms: 900_000,
            abort_timed_out_interval_ms: 10_000,
            remove_expired_interval_ms: 3_600_000,
            transactional_id_expiration_ms: 604_800_000,
            partition_verification_enable: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct BrokerConfig {
    pub broker_id: BrokerId,
    /// Address to bind, from `listeners` (`PLAINTEXT://host:port`; an empty host binds all).
    pub listen_host: String,
    pub listen_port: u16,
    /// Host and port given to clients in Metadata; `None` host means "use the bound address".
    pub advertised_host: Option<String>,
    pub advertised_port: Option<u16>,
    pub log_dirs: Vec<PathBuf>,
    pub num_partitions: i32,
    pub default_replication_factor: i16,
    pub log_segment_bytes: u64,
    pub log_roll_ms: Option<i64>,
    /// `log.roll.jitter.ms` (or `.hours`): the topics' default `segment.jitter.ms`.
    pub log_roll_jitter_ms: i64,
    pub log_index_interval_bytes: u32,
    /// `log.index.size.max.bytes`: the topics' default `segment.index.bytes`.
    pub log_index_size_max_bytes: u64,
    /// `None` keeps data forever (`-1`).
    pub log_retention_ms: Option<i64>,
    pub log_retention_bytes: Option<i64>,
    pub log_retention_check_interval: Duration,
    /// `log.initial.task.delay.ms`: how long after startup the first retention check runs.
    pub log_initial_task_delay: Duration,
    pub log_flush_interval_messages: u64,
    pub log_flush_interval_ms: Option<u64>,
    pub zookeeper_connect: String,
    pub zookeeper_session_timeout_ms: u64,
    pub auto_create_topics_enable: bool,
    pub delete_topic_enable: bool,
    pub message_max_bytes: usize,
    pub socket_request_max_bytes: usize,
    /// `max.connections`: open client connections past which a new one is closed at once
    /// (Kafka's `ConnectionQuotas`; default `Int.MaxValue`).
    pub max_connections: usize,
    /// `max.connections.per.ip`: the same limit per peer address (default `Int.MaxValue`).
    pub max_connections_per_ip: usize,
    /// `max.connections.per.ip.overrides`: per-address limits (`ip:count,...`; IP literals).
    pub max_connections_per_ip_overrides: BTreeMap<std::net::IpAddr, usize>,
    /// `connections.max.idle.ms`: a connection with no request started for this long is closed
    /// (Kafka's default 600000; negative: never, `Duration::MAX`).
    pub connections_max_idle: Duration,
    /// `queued.max.request.bytes`: the bytes of request frames the broker holds in memory at
    /// once (see `net::budget`). Kafka's default is -1 (unbounded); ours is 104857600 (100 MiB,
    /// one maximum-size frame), so a flood of large or forged frames cannot exhaust memory.
    /// `-1` (or any value <= 0) means unbounded, as in Kafka.
    pub queued_max_request_bytes: Option<usize>,
    /// `fetch.max.bytes`: the most record bytes one Fetch response carries (Kafka: 55 MiB),
    /// together with the request's `max_bytes`; the first batch is always returned (KIP-74).
    pub fetch_max_bytes: usize,
    /// How long a new group waits for more members before its first rebalance completes.
    pub group_initial_rebalance_delay_ms: u64,
    /// `replica.selector.class` (KIP-392): whether a leader sends consumers to a follower in
    /// their rack (`RackAwareReplicaSelector`) or always serves them itself (unset, Kafka's
    /// default). Followers serve consumers' Fetch v11+ either way, as Kafka's do.
    pub replica_selector: crate::replica::selector::ReplicaSelector,
    /// Bounds on the session timeout a JoinGroup may ask for (else INVALID_SESSION_TIMEOUT).
    pub group_min_session_timeout_ms: u64,
    pub group_max_session_timeout_ms: u64,
    /// `log.message.timestamp.type`: the default `message.timestamp.type` of topics.
    pub log_message_timestamp_type: TimestampType,
    /// `log.message.timestamp.before.max.ms` / `after.max.ms` and the deprecated
    /// `difference.max.ms` (Kafka's defaults: `Long.MAX_VALUE`, no bound).
    pub log_message_timestamp_before_max_ms: i64,
    pub log_message_timestamp_after_max_ms: i64,
    pub log_message_timestamp_difference_max_ms: i64,
    /// How long a consumer group's offsets are kept after it became Empty (a simple group's:
    /// after each commit); then the group goes Dead. Kafka's `offsets.retention.minutes`.
    pub offsets_retention_ms: u64,
    /// How often Empty groups and expired offsets are cleaned up
    /// (`offsets.retention.check.interval.ms`).
    pub offsets_retention_check_interval_ms: u64,
    /// Partitions of `__consumer_offsets` when it is created (`offsets.topic.num.partitions`).
    pub offsets_topic_num_partitions: i32,
    /// Its replication factor (`offsets.topic.replication.factor`), lowered to the live broker
    /// count when fewer are alive at its creation.
    pub offsets_topic_replication_factor: i16,
    /// Its `segment.bytes` (`offsets.topic.segment.bytes`).
    pub offsets_topic_segment_bytes: i32,
    /// How long an offset commit or group write waits for the ISR, ms
    /// (`offsets.commit.timeout.ms`).
    pub offsets_commit_timeout_ms: u64,
    /// Bytes read at a time when loading a partition of it (`offsets.load.buffer.size`).
    pub offsets_load_buffer_size: usize,
    /// Transaction coordinator settings (`transaction.*`, `transactional.id.expiration.ms`).
    pub txn: TxnSettings,
    /// `compression.type` and `compression.{gzip,lz4,zstd}.level`: the topics' defaults.
    pub compression: TopicCompression,
    /// `min.insync.replicas` (at least 1): the topics' default.
    pub min_insync_replicas: usize,
    /// Whether `log.cleanup.policy` names `delete`: the topics' default `cleanup.policy`.
    pub log_cleanup_policy_delete: bool,
    /// Whether `log.cleanup.policy` names `compact`.
    pub log_cleanup_policy_compact: bool,
    /// `log.cleaner.enable`: whether compacted logs are cleaned at all (Kafka's default true).
    pub log_cleaner_enable: bool,
    /// `log.cleaner.threads`: how many logs are cleaned at once; 0 cleans none (as Kafka with
    /// no cleaner thread). The dedupe buffer is shared out between them.
    pub log_cleaner_threads: usize,
    /// `log.cleaner.backoff.ms`: the cleaner's pause when no log was due.
    pub log_cleaner_backoff_ms: u64,
    /// `log.cleaner.dedupe.buffer.size` (bytes) and `log.cleaner.io.buffer.load.factor`: the
    /// offset map of each cleaning holds `size / threads / 24 * factor` keys (Kafka's
    /// `SkimpyOffsetMap` slots).
    pub log_cleaner_dedupe_buffer_size: u64,
    pub log_cleaner_io_buffer_load_factor: f64,
    /// `log.cleaner.delete.retention.ms`, `log.cleaner.min.cleanable.ratio`,
    /// `log.cleaner.min.compaction.lag.ms`, `log.cleaner.max.compaction.lag.ms`: the topics'
    /// defaults of `delete.retention.ms`, `min.cleanable.dirty.ratio`, `min.compaction.lag.ms`
    /// and `max.compaction.lag.ms`.
    pub log_cleaner_delete_retention_ms: i64,
    pub log_cleaner_min_cleanable_ratio: f64,
    pub log_cleaner_min_compaction_lag_ms: i64,
    pub log_cleaner_max_compaction_lag_ms: i64,
    /// `log.message.downconversion.enable`: the topics' default `message.downconversion.enable`.
    pub log_message_downconversion_enable: bool,
    /// `replica.lag.time.max.ms`: a follower not caught up for this long leaves the ISR.
    pub replica_lag_time_max_ms: i64,
    /// `replica.fetch.wait.max.ms`, `replica.fetch.min.bytes`, `replica.fetch.max.bytes` (per
    /// partition), `replica.fetch.response.max.bytes`: the followers' Fetch requests.
    pub replica_fetch_wait_max_ms: i32,
    pub replica_fetch_min_bytes: i32,
    pub replica_fetch_max_bytes: i32,
    pub replica_fetch_response_max_bytes: i32,
    /// `replica.fetch.backoff.ms`: the followers' pause after a failed fetch.
    pub replica_fetch_backoff_ms: u64,
    /// `replica.socket.timeout.ms`: how long a follower's request may take past its wait.
    pub replica_socket_timeout_ms: u64,
    /// `controlled.shutdown.enable`, `.max.retries`, `.retry.backoff.ms`: a clean shutdown
    /// first moves leadership away (Kafka's controlled shutdown).
    pub controlled_shutdown_enable: bool,
    pub controlled_shutdown_max_retries: u32,
    pub controlled_shutdown_retry_backoff_ms: u64,
    /// `auto.leader.rebalance.enable`, `leader.imbalance.check.interval.seconds`,
    /// `leader.imbalance.per.broker.percentage`: the controller broker moves leadership back to
    /// preferred replicas when a broker leads too few of the partitions it prefers.
    pub auto_leader_rebalance_enable: bool,
    pub leader_imbalance_check_interval: Duration,
    pub leader_imbalance_per_broker_percentage: u32,
    /// `metrics.http.listener` (ours, not Kafka's): where `/metrics` is served in the
    /// Prometheus text format; `None` (unset or empty): not served.
    pub metrics_listener: Option<crate::metrics::http::MetricsListener>,
    /// Every key/value as given, for DescribeConfigs of the broker defaults.
    pub raw: BTreeMap<String, String>,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        BrokerConfig {
            broker_id: BrokerId(0),
            listen_host: String::new(),
            listen_port: 9092,
            advertised_host: None,
            advertised_port: None,
            log_dirs: vec![PathBuf::from("/tmp/kafka-logs")],
            num_partitions: 1,
            default_replication_factor: 1,
            log_segment_bytes: 1_073_741_824,
            log_roll_ms: Some(168 * 3_600_000),
            log_roll_jitter_ms: 0,
            log_index_interval_bytes: 4096,
            log_index_size_max_bytes: 10 * 1024 * 1024,
            log_retention_ms: Some(168 * 3_600_000),
            log_retention_bytes: None,
            log_retention_check_interval: Duration::from_millis(300_000),
            log_initial_task_delay: Duration::from_millis(30_000),
            log_flush_interval_messages: u64::MAX,
            log_flush_interval_ms: None,
            zookeeper_connect: "localhost:2181".to_string(),
            zookeeper_session_timeout_ms: 18_000,
            auto_create_topics_enable: true,
            delete_topic_enable: true,
            message_max_bytes: 1_048_588,
            min_insync_replicas: 1,
            log_cleanup_policy_delete: true,
            log_cleanup_policy_compact: false,
            log_cleaner_enable: true,
            log_cleaner_threads: 1,
            log_cleaner_backoff_ms: 15_000,
            log_cleaner_dedupe_buffer_size: 134_217_728,
            log_cleaner_io_buffer_load_factor: 0.9,
            log_cleaner_delete_retention_ms: crate::log::DEFAULT_DELETE_RETENTION_MS,
            log_cleaner_min_cleanable_ratio: crate::log::DEFAULT_MIN_CLEANABLE_DIRTY_RATIO,
            log_cleaner_min_compaction_lag_ms: 0,
            log_cleaner_max_compaction_lag_ms: i64::MAX,
            log_message_downconversion_enable: true,
            socket_request_max_bytes: 104_857_600,
            max_connections: i32::MAX as usize,
            max_connections_per_ip: i32::MAX as usize,
            max_connections_per_ip_overrides: BTreeMap::new(),
            connections_max_idle: Duration::from_millis(600_000),
            queued_max_request_bytes: Some(DEFAULT_QUEUED_MAX_REQUEST_BYTES),
            fetch_max_bytes: 57_671_680,
            replica_lag_time_max_ms: 30_000,
            replica_fetch_wait_max_ms: 500,
            replica_fetch_min_bytes: 1,
            replica_fetch_max_bytes: 1_048_576,
            replica_fetch_response_max_bytes: 10_485_760,
            replica_fetch_backoff_ms: 1000,
            replica_socket_timeout_ms: 30_000,
            controlled_shutdown_enable: true,
            controlled_shutdown_max_retries: 3,
            controlled_shutdown_retry_backoff_ms: 5000,
            auto_leader_rebalance_enable: true,
            leader_imbalance_check_interval: Duration::from_secs(300),
            leader_imbalance_per_broker_percentage: 10,
            group_initial_rebalance_delay_ms: 3000,
            replica_selector: crate::replica::selector::ReplicaSelector::Leader,
            group_min_session_timeout_ms: 6000,
            group_max_session_timeout_ms: 1_800_000,
            log_message_timestamp_type: TimestampType::CreateTime,
            log_message_timestamp_before_max_ms: i64::MAX,
            log_message_timestamp_after_max_ms: i64::MAX,
            log_message_timestamp_difference_max_ms: i64::MAX,
            offsets_retention_ms: 10_080 * 60_000,
            offsets_retention_check_interval_ms: 600_000,
            offsets_topic_num_partitions: 50,
            offsets_topic_replication_factor: 3,
            offsets_topic_segment_bytes: 104_857_600,
            offsets_commit_timeout_ms: 5000,
            offsets_load_buffer_size: 5_242_880,
            txn: TxnSettings::default(),
            compression: TopicCompression::default(),
            metrics_listener: None,
            raw: BTreeMap::new(),
        }
    }
}

/// Splits one `--override key=value` argument.
pub fn parse_override(arg: &str) -> Result<(String, String), ConfigError> {
    match arg.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
        _ => Err(ConfigError::BadOverride(arg.to_string())),
    }
}

fn invalid(key: &str, value: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::InvalidValue {
        key: key.to_string(),
        value: value.to_string(),
        reason: reason.into(),
    }
}

fn number<T: std::str::FromStr>(key: &str, value: &str) -> Result<T, ConfigError> {
    value
        .parse::<T>()
        .map_err(|_| invalid(key, value, "not a valid number"))
}

/// Our default `queued.max.request.bytes` (Kafka's is -1, unbounded): one maximum-size frame.
pub const DEFAULT_QUEUED_MAX_REQUEST_BYTES: usize = 104_857_600;

/// An `Int` key with Kafka's `atLeast(min)` validator.
fn at_least(key: &str, value: &str, min: i32) -> Result<usize, ConfigError> {
    let n: i32 = number(key, value)?;
    if n < min {
        return Err(invalid(key, value, format!("Value must be at least {min}")));
    }
    Ok(n as usize)
}

/// `max.connections.per.ip.overrides`: `ip:count` pairs separated by commas (Kafka also takes
/// host names and resolves them; we take IP literals only and refuse anything else).
fn connection_overrides(
    key: &str,
    value: &str,
) -> Result<BTreeMap<std::net::IpAddr, usize>, ConfigError> {
    let mut out = BTreeMap::new();
    for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let bad = || {
            invalid(
                key,
                value,
                format!("bad entry '{entry}': expected ip:count"),
            )
        };
        let (host, count) = entry.rsplit_once(':').ok_or_else(bad)?;
        let host = host.trim().trim_start_matches('[').trim_end_matches(']');
        let ip: std::net::IpAddr = host.parse().map_err(|_| bad())?;
        let count: i32 = count.trim().parse().map_err(|_| bad())?;
        let count = usize::try_from(count).map_err(|_| bad())?;
        out.insert(ip, count);
    }
    Ok(out)
}

fn non_negative(key: &str, value: &str) -> Result<i64, ConfigError> {
    let n: i64 = number(key, value)?;
    if n < 0 {
        return Err(invalid(key, value, "must be at least 0"));
    }
    Ok(n)
}

/// Whether a `cleanup.policy` list (`delete`, `compact` or both) names `delete`.
pub fn cleanup_policy_deletes(policy: &str) -> bool {
    policy.split(',').any(|p| p.trim() == "delete")
}

/// Whether a `cleanup.policy` list (`delete`, `compact` or both) names `compact`.
pub fn cleanup_policy_compacts(policy: &str) -> bool {
    policy.split(',').any(|p| p.trim() == "compact")
}

/// A `Long` key with Kafka's `atLeast(min)` validator.
fn long_at_least(key: &str, value: &str, min: i64) -> Result<i64, ConfigError> {
    let n: i64 = number(key, value)?;
    if n < min {
        return Err(invalid(key, value, format!("Value must be at least {min}")));
    }
    Ok(n)
}

/// A `Double` key with Kafka's `between(min, max)` validator.
fn ratio(key: &str, value: &str, min: f64, max: f64) -> Result<f64, ConfigError> {
    let n: f64 = number(key, value)?;
    if !(min..=max).contains(&n) {
        return Err(invalid(
            key,
            value,
            format!("Value must be between {min} and {max}"),
        ));
    }
    Ok(n)
}

fn boolean(key: &str, value: &str) -> Result<bool, ConfigError> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(invalid(key, value, "expected true or false")),
    }
}

/// Parses `PLAINTEXT://host:port` (the first listener when several are listed).
fn listener(key: &str, value: &str) -> Result<(String, u16), ConfigError> {
    let first = value.split(',').next().unwrap_or("").trim();
    let rest = match first.split_once("://") {
        Some((proto, rest)) if proto.eq_ignore_ascii_case("PLAINTEXT") => rest,
        Some((proto, _)) => {
            return Err(invalid(
                key,
                value,
                format!("security protocol {proto} is not supported (only PLAINTEXT)"),
            ))
        }
        None => return Err(invalid(key, value, "expected PLAINTEXT://host:port")),
    };
    let (host, port) = rest
        .rsplit_once(':')
        .ok_or_else(|| invalid(key, value, "expected PLAINTEXT://host:port"))?;
    let port = port
        .parse::<u16>()
        .map_err(|_| invalid(key, value, "port is not a number from 0 to 65535"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Ok((host.to_string(), port))
}

/// What loading a configuration produced besides the config itself: keys nobody knows, and
/// keys accepted but not acted on (`(key, value, why)`, from `common::config::support`).
#[derive(Debug, Default)]
pub struct LoadReport {
    pub unknown_keys: Vec<String>,
    pub not_acted_on: Vec<(String, String, &'static str)>,
}

impl BrokerConfig {
    /// Builds a config from `(key, value)` pairs; later pairs win (so overrides go last).
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<(Self, LoadReport), ConfigError> {
        let mut c = BrokerConfig::default();
        let mut report = LoadReport::default();
        let mut retention_hours = None;
        let mut retention_minutes = None;
        let mut retention_ms = None;
        let mut roll_hours = None;
        let mut roll_ms = None;
        let mut roll_jitter_hours = None;
        let mut roll_jitter_ms = None;
        for (key, value) in pairs {
            c.raw.insert(key.clone(), value.clone());
            let (k, v) = (key.as_str(), value.as_str());
            report.not_acted_on.retain(|(earlier, _, _)| earlier != key);
            if let Some(why) = broker_config_warning(k, v) {
                report.not_acted_on.push((key.clone(), value.clone(), why));
            }
            match k {
                "log.message.timestamp.type" => {
                    c.log_message_timestamp_type = TimestampType::parse(v)
                        .ok_or_else(|| invalid(k, v, "must be one of CreateTime, LogAppendTime"))?;
                }
                "log.message.timestamp.before.max.ms" => {
                    c.log_message_timestamp_before_max_ms = non_negative(k, v)?
                }
                "log.message.timestamp.after.max.ms" => {
                    c.log_message_timestamp_after_max_ms = non_negative(k, v)?
                }
                "log.message.timestamp.difference.max.ms" => {
                    c.log_message_timestamp_difference_max_ms = non_negative(k, v)?
                }
                "compression.type" => {
                    c.compression.compression_type =
                        BrokerCompressionType::parse(v).ok_or_else(|| {
                            invalid(
                                k,
                                v,
                                format!(
                                    "String must be one of: {}",
                                    BrokerCompressionType::NAMES.join(", ")
                                ),
                            )
                        })?;
                }
                "compression.gzip.level" | "compression.lz4.level" | "compression.zstd.level" => {
                    let level: i32 = number(k, v)?;
                    if let Some(why) = level_error(k, i64::from(level)) {
                        return Err(invalid(k, v, why));
                    }
                    match k {
                        "compression.gzip.level" => c.compression.gzip_level = level,
                        "compression.lz4.level" => c.compression.lz4_level = level,
                        _ => c.compression.zstd_level = level,
                    }
                }
                "broker.id" => c.broker_id = BrokerId(number(k, v)?),
                "listeners" => {
                    let (h, p) = listener(k, v)?;
                    c.listen_host = h;
                    c.listen_port = p;
                }
                "advertised.listeners" => {
                    let (h, p) = listener(k, v)?;
                    c.advertised_host = (!h.is_empty()).then_some(h);
                    c.advertised_port = Some(p);
                }
                "log.dirs" | "log.dir" => {
                    let dirs: Vec<PathBuf> = v
                        .split(',')
                        .map(str::trim)
                        .filter(|d| !d.is_empty())
                        .map(PathBuf::from)
                        .collect();
                    if dirs.is_empty() {
                        return Err(invalid(k, v, "no directory given"));
                    }
                    c.log_dirs = dirs;
                }
                "num.partitions" => {
                    c.num_partitions = number(k, v)?;
                    if c.num_partitions < 1 {
                        return Err(invalid(k, v, "must be at least 1"));
                    }
                }
                "default.replication.factor" => {
                    c.default_replication_factor = number(k, v)?;
                    if c.default_replication_factor < 1 {
                        return Err(invalid(k, v, "must be at least 1"));
                    }
                }
                "log.segment.bytes" => {
                    c.log_segment_bytes = number(k, v)?;
                    if c.log_segment_bytes < 14 {
                        return Err(invalid(k, v, "must be at least 14"));
                    }
                }
                "log.roll.ms" => roll_ms = Some(number::<i64>(k, v)?),
                "log.roll.hours" => roll_hours = Some(number::<i64>(k, v)?),
                "log.roll.jitter.ms" => roll_jitter_ms = Some(number::<i64>(k, v)?),
                "log.roll.jitter.hours" => roll_jitter_hours = Some(number::<i64>(k, v)?),
                "log.index.interval.bytes" => c.log_index_interval_bytes = number(k, v)?,
                "log.index.size.max.bytes" => {
                    let n: i32 = number(k, v)?;
                    if n < 4 {
                        return Err(invalid(k, v, "must be at least 4"));
                    }
                    c.log_index_size_max_bytes = n as u64;
                }
                "log.retention.hours" => retention_hours = Some(number::<i64>(k, v)?),
                "log.retention.minutes" => retention_minutes = Some(number::<i64>(k, v)?),
                "log.retention.ms" => retention_ms = Some(number::<i64>(k, v)?),
                "log.retention.bytes" => {
                    let b: i64 = number(k, v)?;
                    c.log_retention_bytes = (b >= 0).then_some(b);
                }
                "log.retention.check.interval.ms" => {
                    let ms: u64 = number(k, v)?;
                    if ms == 0 {
                        return Err(invalid(k, v, "must be at least 1"));
                    }
                    c.log_retention_check_interval = Duration::from_millis(ms);
                }
                "log.initial.task.delay.ms" => {
                    let ms: i64 = number(k, v)?;
                    let ms = u64::try_from(ms).map_err(|_| invalid(k, v, "must be at least 0"))?;
                    c.log_initial_task_delay = Duration::from_millis(ms);
                }
                "log.flush.interval.messages" => {
                    let n: i64 = number(k, v)?;
                    if n < 1 {
                        return Err(invalid(k, v, "must be at least 1"));
                    }
                    c.log_flush_interval_messages = n as u64;
                }
                "log.flush.interval.ms" => {
                    let n: i64 = number(k, v)?;
                    c.log_flush_interval_ms = (n >= 0).then_some(n as u64);
                }
                "zookeeper.connect" => {
                    if v.is_empty() {
                        return Err(invalid(k, v, "no address given"));
                    }
                    c.zookeeper_connect = v.to_string();
                }
                "zookeeper.session.timeout.ms" => {
                    c.zookeeper_session_timeout_ms = number(k, v)?;
                    if c.zookeeper_session_timeout_ms < 100 {
                        return Err(invalid(k, v, "must be at least 100"));
                    }
                }
                "auto.create.topics.enable" => c.auto_create_topics_enable = boolean(k, v)?,
                "delete.topic.enable" => c.delete_topic_enable = boolean(k, v)?,
                "message.max.bytes" => c.message_max_bytes = number(k, v)?,
                "min.insync.replicas" => {
                    c.min_insync_replicas = number(k, v)?;
                    if c.min_insync_replicas < 1 {
                        return Err(invalid(k, v, "Value must be at least 1"));
                    }
                }
                "log.cleanup.policy" => {
                    c.log_cleanup_policy_delete = cleanup_policy_deletes(v);
                    c.log_cleanup_policy_compact = cleanup_policy_compacts(v);
                }
                "log.cleaner.enable" => c.log_cleaner_enable = boolean(k, v)?,
                "log.cleaner.threads" => c.log_cleaner_threads = at_least(k, v, 0)?,
                "log.cleaner.backoff.ms" => {
                    c.log_cleaner_backoff_ms = long_at_least(k, v, 0)? as u64
                }
                "log.cleaner.dedupe.buffer.size" => {
                    c.log_cleaner_dedupe_buffer_size = long_at_least(k, v, 0)? as u64
                }
                "log.cleaner.io.buffer.load.factor" => {
                    c.log_cleaner_io_buffer_load_factor = number(k, v)?
                }
                "log.cleaner.delete.retention.ms" => {
                    c.log_cleaner_delete_retention_ms = long_at_least(k, v, 0)?
                }
                "log.cleaner.min.cleanable.ratio" => {
                    c.log_cleaner_min_cleanable_ratio = ratio(k, v, 0.0, 1.0)?
                }
                "log.cleaner.min.compaction.lag.ms" => {
                    c.log_cleaner_min_compaction_lag_ms = long_at_least(k, v, 0)?
                }
                "log.cleaner.max.compaction.lag.ms" => {
                    c.log_cleaner_max_compaction_lag_ms = long_at_least(k, v, 1)?
                }
                "log.message.downconversion.enable" => {
                    c.log_message_downconversion_enable = boolean(k, v)?
                }
                "group.initial.rebalance.delay.ms" => {
                    c.group_initial_rebalance_delay_ms = number(k, v)?
                }
                "replica.selector.class" => {
                    c.replica_selector = crate::replica::selector::ReplicaSelector::parse(v)
                        .ok_or_else(|| {
                            invalid(k, v, format!("Class {} could not be found.", v.trim()))
                        })?
                }
                "group.min.session.timeout.ms" => c.group_min_session_timeout_ms = number(k, v)?,
                "group.max.session.timeout.ms" => c.group_max_session_timeout_ms = number(k, v)?,
                "offsets.retention.minutes" => {
                    let minutes: u64 = number(k, v)?;
                    if minutes < 1 {
                        return Err(invalid(k, v, "must be at least 1"));
                    }
                    c.offsets_retention_ms = minutes.saturating_mul(60_000);
                }
                "offsets.topic.num.partitions" => {
                    c.offsets_topic_num_partitions = at_least(k, v, 1)? as i32
                }
                "offsets.topic.replication.factor" => {
                    c.offsets_topic_replication_factor = i16::try_from(at_least(k, v, 1)?)
                        .map_err(|_| invalid(k, v, "Value must be at most 32767".to_string()))?
                }
                "offsets.topic.segment.bytes" => {
                    c.offsets_topic_segment_bytes = at_least(k, v, 1)? as i32
                }
                "offsets.commit.timeout.ms" => {
                    c.offsets_commit_timeout_ms = at_least(k, v, 1)? as u64
                }
                "offsets.load.buffer.size" => c.offsets_load_buffer_size = at_least(k, v, 1)?,
                "transaction.state.log.num.partitions" => {
                    c.txn.state_log_num_partitions = at_least(k, v, 1)? as i32
                }
                "transaction.state.log.replication.factor" => {
                    c.txn.state_log_replication_factor = i16::try_from(at_least(k, v, 1)?)
                        .map_err(|_| invalid(k, v, "Value must be at most 32767".to_string()))?
                }
                "transaction.state.log.min.isr" => c.txn.state_log_min_isr = at_least(k, v, 1)?,
                "transaction.state.log.segment.bytes" => {
                    c.txn.state_log_segment_bytes = at_least(k, v, 1)? as i32
                }
                "transaction.state.log.load.buffer.size" => {
                    c.txn.state_log_load_buffer_size = at_least(k, v, 1)?
                }
                "transaction.max.timeout.ms" => c.txn.max_timeout_ms = at_least(k, v, 1)? as i32,
                "transaction.abort.timed.out.transaction.cleanup.interval.ms" => {
                    c.txn.abort_timed_out_interval_ms = at_least(k, v, 1)? as u64
                }
                "transaction.remove.expired.transaction.cleanup.interval.ms" => {
                    c.txn.remove_expired_interval_ms = at_least(k, v, 1)? as u64
                }
                "transaction.partition.verification.enable" => {
                    c.txn.partition_verification_enable = boolean(k, v)?
                }
                "transactional.id.expiration.ms" => {
                    c.txn.transactional_id_expiration_ms = at_least(k, v, 1)? as i64
                }
                "offsets.retention.check.interval.ms" => {
                    c.offsets_retention_check_interval_ms = number(k, v)?;
                    if c.offsets_retention_check_interval_ms < 1 {
                        return Err(invalid(k, v, "must be at least 1"));
                    }
                }
                "socket.request.max.bytes" => {
                    c.socket_request_max_bytes = number(k, v)?;
                    if c.socket_request_max_bytes < 64 {
                        return Err(invalid(k, v, "must be at least 64"));
                    }
                }
                "max.connections" => c.max_connections = at_least(k, v, 0)?,
                "max.connections.per.ip" => c.max_connections_per_ip = at_least(k, v, 0)?,
                "max.connections.per.ip.overrides" => {
                    c.max_connections_per_ip_overrides = connection_overrides(k, v)?
                }
                "connections.max.idle.ms" => {
                    // Negative turns idle expiry off, as in Kafka's `Selector`.
                    let ms: i64 = number(k, v)?;
                    c.connections_max_idle =
                        u64::try_from(ms).map_or(Duration::MAX, Duration::from_millis);
                }
                "queued.max.request.bytes" => {
                    let n: i64 = number(k, v)?;
                    c.queued_max_request_bytes = usize::try_from(n).ok().filter(|n| *n > 0);
                }
                "fetch.max.bytes" => c.fetch_max_bytes = at_least(k, v, 1024)?,
                "replica.lag.time.max.ms" => c.replica_lag_time_max_ms = at_least(k, v, 1)? as i64,
                "replica.fetch.wait.max.ms" => {
                    c.replica_fetch_wait_max_ms = at_least(k, v, 0)? as i32
                }
                "replica.fetch.min.bytes" => c.replica_fetch_min_bytes = at_least(k, v, 1)? as i32,
                "replica.fetch.max.bytes" => c.replica_fetch_max_bytes = at_least(k, v, 0)? as i32,
                "replica.fetch.response.max.bytes" => {
                    c.replica_fetch_response_max_bytes = at_least(k, v, 0)? as i32
                }
                "replica.fetch.backoff.ms" => {
                    c.replica_fetch_backoff_ms = at_least(k, v, 0)? as u64
                }
                "replica.socket.timeout.ms" => {
                    c.replica_socket_timeout_ms = at_least(k, v, 1)? as u64
                }
                "controlled.shutdown.enable" => c.controlled_shutdown_enable = boolean(k, v)?,
                "controlled.shutdown.max.retries" => {
                    c.controlled_shutdown_max_retries = at_least(k, v, 0)? as u32
                }
                "controlled.shutdown.retry.backoff.ms" => {
                    c.controlled_shutdown_retry_backoff_ms = number::<u64>(k, v)?
                }
                "auto.leader.rebalance.enable" => c.auto_leader_rebalance_enable = boolean(k, v)?,
                "leader.imbalance.check.interval.seconds" => {
                    c.leader_imbalance_check_interval =
                        Duration::from_secs(at_least(k, v, 1)? as u64)
                }
                "leader.imbalance.per.broker.percentage" => {
                    c.leader_imbalance_per_broker_percentage = at_least(k, v, 0)? as u32
                }
                crate::metrics::http::LISTENER_KEY => {
                    c.metrics_listener =
                        crate::metrics::http::parse_listener(v).map_err(|why| invalid(k, v, why))?
                }
                _ if ACCEPTED_KEYS.contains(&k) => {}
                _ => {
                    debug_assert!(!KNOWN_KEYS.contains(&k));
                    report.unknown_keys.push(key.clone());
                }
            }
        }
        // Kafka's precedence: ms over minutes over hours; -1 means keep forever.
        let retention = retention_ms
            .or(retention_minutes.map(|m| m * 60_000))
            .or(retention_hours.map(|h| h * 3_600_000));
        if let Some(ms) = retention {
            c.log_retention_ms = (ms >= 0).then_some(ms);
        }
        if let Some(ms) = roll_ms.or(roll_hours.map(|h| h * 3_600_000)) {
            c.log_roll_ms = (ms > 0).then_some(ms);
        }
        if let Some(ms) = roll_jitter_ms.or(roll_jitter_hours.map(|h| h.saturating_mul(3_600_000)))
        {
            if ms < 0 {
                return Err(invalid(
                    "log.roll.jitter.ms",
                    &ms.to_string(),
                    "must be at least 0",
                ));
            }
            c.log_roll_jitter_ms = ms;
        }
        // Kafka's `LogCleaner` check at start-up: each cleaner's offset map must hold at least
        // one key, or cleaning could never make progress.
        if c.log_cleaner_enable && c.log_cleaner_threads > 0 {
            let per_thread = c.log_cleaner_dedupe_buffer_size / c.log_cleaner_threads as u64;
            let slots = (per_thread / crate::log::cleaner::OFFSET_MAP_SLOT_BYTES) as f64;
            if slots * c.log_cleaner_io_buffer_load_factor <= 1.0 {
                return Err(invalid(
                    "log.cleaner.dedupe.buffer.size",
                    &c.log_cleaner_dedupe_buffer_size.to_string(),
                    "requirement failed: offset map is too small to fit in even a single \
                     message, so log cleaning will never make progress. You can increase \
                     log.cleaner.dedupe.buffer.size or decrease log.cleaner.threads",
                ));
            }
        }
        // KafkaConfig's check: a per-IP limit of 0 would refuse every client unless some
        // addresses are let in by an override.
        if c.max_connections_per_ip == 0 && c.max_connections_per_ip_overrides.is_empty() {
            return Err(invalid(
                "max.connections.per.ip",
                "0",
                "requirement failed: max.connections.per.ip can be set to zero only if \
                 max.connections.per.ip.overrides property is set.",
            ));
        }
        // KafkaConfig's replication checks: a fetch that waits longer than the lag allowance
        // would shrink the ISR of idle partitions over and over; a socket timeout below the
        // wait would fail every idle fetch.
        if i64::from(c.replica_fetch_wait_max_ms) > c.replica_lag_time_max_ms {
            return Err(invalid(
                "replica.fetch.wait.max.ms",
                &c.replica_fetch_wait_max_ms.to_string(),
                "requirement failed: replica.fetch.wait.max.ms should always be less than or \
                 equal to replica.lag.time.max.ms to prevent frequent changes in ISR",
            ));
        }
        if c.replica_socket_timeout_ms < c.replica_fetch_wait_max_ms.max(0) as u64 {
            return Err(invalid(
                "replica.socket.timeout.ms",
                &c.replica_socket_timeout_ms.to_string(),
                "requirement failed: replica.socket.timeout.ms should always be at least \
                 replica.fetch.wait.max.ms to prevent unnecessary socket timeouts",
            ));
        }
        Ok((c, report))
    }

    /// The host clients should connect to.
    pub fn advertised_host(&self, bound: &std::net::SocketAddr) -> String {
        if let Some(h) = &self.advertised_host {
            return h.clone();
        }
        if !self.listen_host.is_empty() && self.listen_host != "0.0.0.0" {
            return self.listen_host.clone();
        }
        if bound.ip().is_unspecified() {
            "localhost".to_string()
        } else {
            bound.ip().to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn kafka_shipped_file_loads_without_unknown_keys() {
        let text = "broker.id=0\nnum.network.threads=3\n# comment\nlog.dirs=/tmp/kafka-logs\n\
                    zookeeper.connect=localhost:2181\nlog.retention.hours=168\n\
                    group.initial.rebalance.delay.ms=0\n";
        let (c, report) = BrokerConfig::from_pairs(&parse_properties(text)).unwrap();
        assert!(report.unknown_keys.is_empty());
        assert_eq!(c.log_retention_ms, Some(168 * 3_600_000));
    }

    /// The shipped broker files, `server.properties` and the three-broker cluster's
    /// `server-1.properties` and `server-2.properties`, load without an unknown key and differ
    /// exactly where three brokers on one machine must: id, ports and log directory.
    #[test]
    fn every_shipped_server_properties_loads_and_three_brokers_can_share_a_machine() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../config");
        let mut shared = Vec::new();
        for (file, id, port, log_dir, metrics_port) in [
            ("server.properties", 0, 9092, "/tmp/kafka-logs", 9404),
            ("server-1.properties", 1, 9093, "/tmp/kafka-logs-1", 9405),
            ("server-2.properties", 2, 9094, "/tmp/kafka-logs-2", 9406),
        ] {
            let path = dir.join(file);
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
            let mut pairs = parse_properties(&text);
            let (c, report) = BrokerConfig::from_pairs(&pairs).unwrap();
            assert!(report.unknown_keys.is_empty(), "{file}: {report:?}");
            assert_eq!(
                (c.broker_id, c.listen_host.as_str(), c.listen_port),
                (BrokerId(id), "", port),
                "{file}"
            );
            assert_eq!(c.log_dirs, vec![PathBuf::from(log_dir)], "{file}");
            assert_eq!(
                c.metrics_listener,
                Some(crate::metrics::http::MetricsListener {
                    host: String::new(),
                    port: metrics_port
                }),
                "{file}"
            );
            // The commented-out broker.rack line, switched on, is a key the broker knows.
            let rack = text
                .lines()
                .find_map(|l| l.strip_prefix("#broker.rack="))
                .unwrap_or_else(|| panic!("{file} documents broker.rack"));
            pairs.push(("broker.rack".into(), rack.into()));
            let (racked, report) = BrokerConfig::from_pairs(&pairs).unwrap();
            assert!(report.unknown_keys.is_empty(), "{file}: {report:?}");
            assert_eq!(
                racked.raw.get("broker.rack").map(String::as_str),
                Some(rack)
            );
            // Everything else is the same in the three files.
            let rest: Vec<(String, String)> = parse_properties(&text)
                .into_iter()
                .filter(|(k, _)| {
                    ![
                        "broker.id",
                        "listeners",
                        "log.dirs",
                        "metrics.http.listener",
                    ]
                    .contains(&k.as_str())
                })
                .collect();
            shared.push(rest);
        }
        assert_eq!(shared[0], shared[1]);
        assert_eq!(shared[0], shared[2]);
        assert!(shared[0].contains(&("zookeeper.connect".into(), "localhost:2181".into())));
    }

    #[test]
    fn misspelled_key_is_reported_by_name() {
        let (_, report) =
            BrokerConfig::from_pairs(&pairs(&[("log.retension.hours", "1")])).unwrap();
        assert_eq!(report.unknown_keys, vec!["log.retension.hours".to_string()]);
    }

    #[test]
    fn bad_value_names_key_and_value() {
        let err = BrokerConfig::from_pairs(&pairs(&[("num.partitions", "three")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid value 'three' for configuration key 'num.partitions': not a valid number"
        );
    }

    #[test]
    fn listeners_parse_host_and_port() {
        let (c, _) =
            BrokerConfig::from_pairs(&pairs(&[("listeners", "PLAINTEXT://127.0.0.1:0")])).unwrap();
        assert_eq!((c.listen_host.as_str(), c.listen_port), ("127.0.0.1", 0));
        let (c, _) =
            BrokerConfig::from_pairs(&pairs(&[("listeners", "PLAINTEXT://:9092")])).unwrap();
        assert_eq!((c.listen_host.as_str(), c.listen_port), ("", 9092));
        assert!(BrokerConfig::from_pairs(&pairs(&[("listeners", "SSL://:9093")])).is_err());
    }

    #[test]
    fn group_keys_are_acted_on_with_kafkas_defaults() {
        let (d, _) = BrokerConfig::from_pairs(&[]).unwrap();
        assert_eq!(d.group_initial_rebalance_delay_ms, 3000);
        assert_eq!(d.group_min_session_timeout_ms, 6000);
        assert_eq!(d.group_max_session_timeout_ms, 1_800_000);
        let (c, report) = BrokerConfig::from_pairs(&pairs(&[
            ("group.initial.rebalance.delay.ms", "0"),
            ("group.min.session.timeout.ms", "100"),
            ("group.max.session.timeout.ms", "60000"),
        ]))
        .unwrap();
        assert!(report.unknown_keys.is_empty());
        assert_eq!(c.group_initial_rebalance_delay_ms, 0);
        assert_eq!(c.group_min_session_timeout_ms, 100);
        assert_eq!(c.group_max_session_timeout_ms, 60_000);
        assert!(
            BrokerConfig::from_pairs(&pairs(&[("group.min.session.timeout.ms", "-1")])).is_err()
        );
    }

    #[test]
    fn replica_selector_class_takes_kafkas_rack_aware_selector_and_refuses_other_classes() {
        use crate::replica::selector::ReplicaSelector;
        let (d, _) = BrokerConfig::from_pairs(&[]).unwrap();
        assert_eq!(d.replica_selector, ReplicaSelector::Leader);
        let (c, report) = BrokerConfig::from_pairs(&pairs(&[(
            "replica.selector.class",
            "org.apache.kafka.common.replica.RackAwareReplicaSelector",
        )]))
        .unwrap();
        assert!(report.unknown_keys.is_empty() && report.not_acted_on.is_empty());
        assert_eq!(c.replica_selector, ReplicaSelector::RackAware);
        let err = BrokerConfig::from_pairs(&pairs(&[("replica.selector.class", "my.Selector")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("Class my.Selector could not be found."),
            "{err}"
        );
    }

    #[test]
    fn message_timestamp_keys_are_acted_on() {
        let (c, report) = BrokerConfig::from_pairs(&pairs(&[
            ("log.message.timestamp.type", "LogAppendTime"),
            ("log.message.timestamp.after.max.ms", "3600000"),
        ]))
        .unwrap();
        assert!(report.unknown_keys.is_empty());
        assert_eq!(c.log_message_timestamp_type, TimestampType::LogAppendTime);
        assert_eq!(c.log_message_timestamp_after_max_ms, 3_600_000);
        assert_eq!(c.log_message_timestamp_before_max_ms, i64::MAX);
        assert!(
            BrokerConfig::from_pairs(&pairs(&[("log.message.timestamp.type", "Now")])).is_err()
        );
    }

    #[test]
    fn offsets_retention_keys_are_acted_on_with_kafkas_defaults() {
        let (d, _) = BrokerConfig::from_pairs(&[]).unwrap();
        assert_eq!(d.offsets_retention_ms, 7 * 24 * 3_600_000);
        assert_eq!(d.offsets_retention_check_interval_ms, 600_000);
        let (c, report) = BrokerConfig::from_pairs(&pairs(&[
            ("offsets.retention.minutes", "2"),
            ("offsets.retention.check.interval.ms", "500"),
        ]))
        .unwrap();
        assert!(report.unknown_keys.is_empty());
        assert_eq!(c.offsets_retention_ms, 120_000);
        assert_eq!(c.offsets_retention_check_interval_ms, 500);
        assert!(BrokerConfig::from_pairs(&pairs(&[("offsets.retention.minutes", "0")])).is_err());
        assert!(
            BrokerConfig::from_pairs(&pairs(&[("offsets.retention.check.interval.ms", "0")]))
                .is_err()
        );
    }

    #[test]
    fn accepted_keys_we_do_not_act_on_are_reported_by_name() {
        let (_, report) = BrokerConfig::from_pairs(&pairs(&[
            ("num.network.threads", "3"),
            ("compression.type", "producer"),
            ("log.retention.hours", "1"),
        ]))
        .unwrap();
        let names: Vec<&str> = report
            .not_acted_on
            .iter()
            .map(|(k, _, _)| k.as_str())
            .collect();
        assert_eq!(names, vec!["num.network.threads"]);
    }

    #[test]
    fn replica_timings_kafka_refuses_stop_the_broker_with_its_texts() {
        let parse = |pairs: &[(&str, &str)]| {
            let props: Vec<(String, String)> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            BrokerConfig::from_pairs(&props).map(|_| ())
        };
        let e = parse(&[("replica.lag.time.max.ms", "300")]).unwrap_err();
        assert!(e.to_string().contains("replica.fetch.wait.max.ms should always be less than or equal to replica.lag.time.max.ms"), "{e}");
        let e = parse(&[("replica.socket.timeout.ms", "100")]).unwrap_err();
        assert!(
            e.to_string().contains(
                "replica.socket.timeout.ms should always be at least replica.fetch.wait.max.ms"
            ),
            "{e}"
        );
        assert!(parse(&[("replica.lag.time.max.ms", "500")]).is_ok());
    }

    #[test]
    fn docs_configs_md_classes_every_key_the_broker_accepts() {
        let doc = include_str!("../../docs/configs.md");
        let broker_part = &doc[doc.find("## Broker configs").expect("broker section")..];
        for key in KNOWN_KEYS.iter().chain(ACCEPTED_KEYS).chain(OWN_KEYS) {
            assert!(
                broker_part.contains(&format!("`{key}`")),
                "docs/configs.md does not class broker key {key}"
            );
        }
    }

    #[test]
    fn edge_keys_are_parsed_with_kafkas_defaults_and_validators() {
        let d = BrokerConfig::default();
        assert_eq!(
            (d.max_connections, d.max_connections_per_ip),
            (i32::MAX as usize, i32::MAX as usize)
        );
        assert_eq!(d.connections_max_idle, Duration::from_millis(600_000));
        assert_eq!(d.fetch_max_bytes, 57_671_680);
        // Ours, not Kafka's -1: see docs/configs.md.
        assert_eq!(d.queued_max_request_bytes, Some(104_857_600));
        let (c, report) = BrokerConfig::from_pairs(&pairs(&[
            ("max.connections", "100"),
            ("max.connections.per.ip", "0"),
            ("max.connections.per.ip.overrides", "127.0.0.1:5, [::1]:7"),
            ("connections.max.idle.ms", "1000"),
            ("queued.max.request.bytes", "-1"),
            ("fetch.max.bytes", "1024"),
        ]))
        .unwrap();
        assert!(report.unknown_keys.is_empty(), "{:?}", report.unknown_keys);
        assert_eq!((c.max_connections, c.max_connections_per_ip), (100, 0));
        assert_eq!(
            c.max_connections_per_ip_overrides,
            BTreeMap::from([
                ("127.0.0.1".parse().unwrap(), 5),
                ("::1".parse().unwrap(), 7)
            ])
        );
        assert_eq!(c.connections_max_idle, Duration::from_millis(1000));
        let (never, _) =
            BrokerConfig::from_pairs(&pairs(&[("connections.max.idle.ms", "-1")])).unwrap();
        assert_eq!(never.connections_max_idle, Duration::MAX);
        assert_eq!(c.queued_max_request_bytes, None);
        assert_eq!(c.fetch_max_bytes, 1024);
        for bad in [
            ("max.connections", "-1"),
            ("max.connections.per.ip", "x"),
            ("max.connections.per.ip.overrides", "127.0.0.1"),
            ("max.connections.per.ip.overrides", "127.0.0.1:-2"),
            ("connections.max.idle.ms", "soon"),
            ("fetch.max.bytes", "1023"),
        ] {
            assert!(BrokerConfig::from_pairs(&pairs(&[bad])).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn topic_default_keys_are_parsed_and_checked_not_merely_accepted() {
        let (c, report) = BrokerConfig::from_pairs(&pairs(&[
            ("min.insync.replicas", "2"),
            ("log.cleanup.policy", "compact"),
            ("log.message.downconversion.enable", "false"),
        ]))
        .unwrap();
        assert!(report.unknown_keys.is_empty(), "{:?}", report.unknown_keys);
        assert_eq!(c.min_insync_replicas, 2);
        assert!(!c.log_cleanup_policy_delete);
        assert!(!c.log_message_downconversion_enable);
        let d = BrokerConfig::default();
        assert_eq!(
            (d.min_insync_replicas, d.log_cleanup_policy_delete),
            (1, true)
        );
        assert!(d.log_message_downconversion_enable);
        for bad in [
            ("min.insync.replicas", "0"),
            ("min.insync.replicas", "two"),
            ("log.message.downconversion.enable", "maybe"),
        ] {
            assert!(BrokerConfig::from_pairs(&pairs(&[bad])).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn later_pairs_override_earlier_ones() {
        let (c, _) =
            BrokerConfig::from_pairs(&pairs(&[("broker.id", "0"), ("broker.id", "2")])).unwrap();
        assert_eq!(c.broker_id, BrokerId(2));
    }

    #[test]
    fn retention_ms_wins_over_hours_and_minus_one_keeps_forever() {
        let (c, _) = BrokerConfig::from_pairs(&pairs(&[
            ("log.retention.hours", "1"),
            ("log.retention.ms", "-1"),
        ]))
        .unwrap();
        assert_eq!(c.log_retention_ms, None);
    }

    #[test]
    fn index_size_max_bytes_is_read_and_checked() {
        assert_eq!(BrokerConfig::default().log_index_size_max_bytes, 10_485_760);
        let (c, report) =
            BrokerConfig::from_pairs(&pairs(&[("log.index.size.max.bytes", "4096")])).unwrap();
        assert!(report.unknown_keys.is_empty());
        assert_eq!(c.log_index_size_max_bytes, 4096);
        assert!(BrokerConfig::from_pairs(&pairs(&[("log.index.size.max.bytes", "3")])).is_err());
    }

    #[test]
    fn initial_task_delay_defaults_to_thirty_seconds() {
        assert_eq!(
            BrokerConfig::default().log_initial_task_delay,
            Duration::from_secs(30)
        );
        let (c, report) =
            BrokerConfig::from_pairs(&pairs(&[("log.initial.task.delay.ms", "100")])).unwrap();
        assert!(report.unknown_keys.is_empty());
        assert_eq!(c.log_initial_task_delay, Duration::from_millis(100));
        assert!(BrokerConfig::from_pairs(&pairs(&[("log.initial.task.delay.ms", "-1")])).is_err());
    }

    #[test]
    fn roll_jitter_ms_wins_over_hours_and_must_not_be_negative() {
        let (c, report) =
            BrokerConfig::from_pairs(&pairs(&[("log.roll.jitter.hours", "2")])).unwrap();
        assert!(report.unknown_keys.is_empty());
        assert_eq!(c.log_roll_jitter_ms, 7_200_000);
        let (c, _) = BrokerConfig::from_pairs(&pairs(&[
            ("log.roll.jitter.hours", "2"),
            ("log.roll.jitter.ms", "500"),
        ]))
        .unwrap();
        assert_eq!(c.log_roll_jitter_ms, 500);
        assert!(BrokerConfig::from_pairs(&pairs(&[("log.roll.jitter.ms", "-1")])).is_err());
    }

    #[test]
    fn a_per_ip_limit_of_zero_needs_overrides_as_kafka_requires() {
        let e = BrokerConfig::from_pairs(&pairs(&[("max.connections.per.ip", "0")]))
            .expect_err("refused");
        assert!(e.to_string().contains(
            "max.connections.per.ip can be set to zero only if max.connections.per.ip.overrides \
             property is set."
        ));
        let (c, _) = BrokerConfig::from_pairs(&pairs(&[
            ("max.connections.per.ip", "0"),
            ("max.connections.per.ip.overrides", "127.0.0.1:5"),
        ]))
        .expect("allowed with an override");
        assert_eq!(c.max_connections_per_ip, 0);
    }

    #[test]
    fn the_listener_key_is_read_and_a_bad_value_names_key_and_value() {
        let pairs = |v: &str| vec![("metrics.http.listener".to_string(), v.to_string())];
        let (c, report) = BrokerConfig::from_pairs(&pairs("http://:9404")).unwrap();
        assert!(report.unknown_keys.is_empty());
        assert_eq!(
            c.metrics_listener,
            Some(crate::metrics::http::MetricsListener {
                host: String::new(),
                port: 9404
            })
        );
        let (c, _) = BrokerConfig::from_pairs(&pairs("")).unwrap();
        assert_eq!(c.metrics_listener, None);
        assert_eq!(BrokerConfig::default().metrics_listener, None);
        let e = BrokerConfig::from_pairs(&pairs("localhost:9404"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("'localhost:9404'") && e.contains("'metrics.http.listener'"),
            "{e}"
        );
    }
}
