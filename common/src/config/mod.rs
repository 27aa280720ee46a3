//! Kafka 3.9's config catalogues (Kafka's `ConfigDef`s of `LogConfig` and `KafkaConfig`), one
//! place for the broker (DescribeConfigs, AlterConfigs, CreateTopics), the tools' client-side
//! checks (kafka-topics `--config`, kafka-configs `--add-config`) and zookeeper-lite: every
//! topic config (`LogConfig`) with its type, validator, default and broker synonyms
//! (`ServerTopicConfigSynonyms`), and the broker configs this broker knows with their types,
//! Kafka defaults and whether Kafka lets them change at run time (`DynamicBrokerConfig`).
//!
//! Values are checked the way Kafka's `ConfigDef` parses and validates them, with its texts
//! (`Invalid value abc for configuration retention.ms: Not a number of type LONG`).

use std::collections::BTreeMap;

pub mod broker_configs;
pub mod docs;
pub mod support;

pub use support::{broker_config_support, topic_config_support, Support};

/// `DescribeConfigsResponse.ConfigType` (the `config_type` field, v3+).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigType {
    Boolean,
    String,
    Int,
    Short,
    Long,
    Double,
    List,
    Class,
    Password,
}

impl ConfigType {
    /// The wire id of the type.
    pub fn id(self) -> i8 {
        match self {
            ConfigType::Boolean => 1,
            ConfigType::String => 2,
            ConfigType::Int => 3,
            ConfigType::Short => 4,
            ConfigType::Long => 5,
            ConfigType::Double => 6,
            ConfigType::List => 7,
            ConfigType::Class => 8,
            ConfigType::Password => 9,
        }
    }

    /// `ConfigDef.parseType`'s failure text for this type, if `value` does not parse.
    fn parse_error(self, value: &str) -> Option<String> {
        let v = value.trim();
        let ok = match self {
            ConfigType::Boolean => {
                return (!v.eq_ignore_ascii_case("true") && !v.eq_ignore_ascii_case("false"))
                    .then(|| "Expected value to be either true or false".to_string())
            }
            ConfigType::String | ConfigType::List | ConfigType::Class | ConfigType::Password => {
                true
            }
            ConfigType::Int => v.parse::<i32>().is_ok(),
            ConfigType::Short => v.parse::<i16>().is_ok(),
            ConfigType::Long => v.parse::<i64>().is_ok(),
            ConfigType::Double => v.parse::<f64>().is_ok(),
        };
        let name = match self {
            ConfigType::Int => "INT",
            ConfigType::Short => "SHORT",
            ConfigType::Long => "LONG",
            _ => "DOUBLE",
        };
        (!ok).then(|| format!("Not a number of type {name}"))
    }
}

/// `ConfigDef` validators used by the topic configs.
#[derive(Debug, Clone, Copy)]
pub enum Validator {
    None,
    /// `Range.atLeast(min)`.
    AtLeast(i64),
    /// `Range.between(min, max)` over doubles (ratios).
    BetweenF(f64, f64),
    /// `ValidString.in(..)`.
    OneOf(&'static [&'static str]),
    /// `ValidList.in(..)`: each comma-separated element must be one of these.
    ListOf(&'static [&'static str]),
    /// The compression level validators of KIP-390 (`GzipCompression.LevelValidator`,
    /// `Range.between` for lz4 and zstd), by config name: `level_error`.
    CompressionLevel,
}

/// A server-side synonym of a topic config and the factor that turns its value into the topic
/// config's unit (`log.retention.hours` -> ms).
#[derive(Debug, Clone, Copy)]
pub struct Synonym {
    pub name: &'static str,
    pub to_topic_unit: i64,
}

const fn syn(name: &'static str) -> Synonym {
    Synonym {
        name,
        to_topic_unit: 1,
    }
}

const HOURS: i64 = 3_600_000;
const MINUTES: i64 = 60_000;

/// One topic config of Kafka 3.9's `LogConfig`.
#[derive(Debug, Clone, Copy)]
pub struct TopicConfigDef {
    pub name: &'static str,
    pub ty: ConfigType,
    pub validator: Validator,
    /// The topic default when no broker synonym is set (Kafka's `LogConfig` default).
    pub default: &'static str,
    /// Broker configs it inherits from, highest priority first (empty: none).
    pub synonyms: &'static [Synonym],
}

const fn t(
    name: &'static str,
    ty: ConfigType,
    validator: Validator,
    default: &'static str,
    synonyms: &'static [Synonym],
) -> TopicConfigDef {
    TopicConfigDef {
        name,
        ty,
        validator,
        default,
        synonyms,
    }
}

impl TopicConfigDef {
    /// Whether our broker acts on `value` of this config, refuses it, or accepts it with a
    /// warning (`support`).
    pub fn support(&self, value: &str) -> Support {
        topic_config_support(self.name, value)
    }
}

const MAX_LONG: &str = "9223372036854775807";
use ConfigType as T;
use Validator as V;

/// Every topic config Kafka 3.9 lists, sorted by name (as DescribeConfigs returns them).
pub const TOPIC_CONFIG_DEFS: &[TopicConfigDef] = &[
    t(
        "cleanup.policy",
        T::List,
        V::ListOf(&["compact", "delete"]),
        "delete",
        &[syn("log.cleanup.policy")],
    ),
    t(
        "compression.gzip.level",
        T::Int,
        V::CompressionLevel,
        "-1",
        &[syn("compression.gzip.level")],
    ),
    t(
        "compression.lz4.level",
        T::Int,
        V::CompressionLevel,
        "9",
        &[syn("compression.lz4.level")],
    ),
    t(
        "compression.type",
        T::String,
        V::OneOf(&["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"]),
        "producer",
        &[syn("compression.type")],
    ),
    t(
        "compression.zstd.level",
        T::Int,
        V::CompressionLevel,
        "3",
        &[syn("compression.zstd.level")],
    ),
    t(
        "delete.retention.ms",
        T::Long,
        V::AtLeast(0),
        "86400000",
        &[syn("log.cleaner.delete.retention.ms")],
    ),
    t(
        "file.delete.delay.ms",
        T::Long,
        V::AtLeast(0),
        "60000",
        &[syn("log.segment.delete.delay.ms")],
    ),
    t(
        "flush.messages",
        T::Long,
        V::AtLeast(1),
        MAX_LONG,
        &[syn("log.flush.interval.messages")],
    ),
    t(
        "flush.ms",
        T::Long,
        V::AtLeast(0),
        MAX_LONG,
        &[
            syn("log.flush.interval.ms"),
            syn("log.flush.scheduler.interval.ms"),
        ],
    ),
    t(
        "follower.replication.throttled.replicas",
        T::List,
        V::None,
        "",
        &[],
    ),
    t(
        "index.interval.bytes",
        T::Int,
        V::AtLeast(0),
        "4096",
        &[syn("log.index.interval.bytes")],
    ),
    t(
        "leader.replication.throttled.replicas",
        T::List,
        V::None,
        "",
        &[],
    ),
    t(
        "local.retention.bytes",
        T::Long,
        V::AtLeast(-2),
        "-2",
        &[syn("log.local.retention.bytes")],
    ),
    t(
        "local.retention.ms",
        T::Long,
        V::AtLeast(-2),
        "-2",
        &[syn("log.local.retention.ms")],
    ),
    t(
        "max.compaction.lag.ms",
        T::Long,
        V::AtLeast(1),
        MAX_LONG,
        &[syn("log.cleaner.max.compaction.lag.ms")],
    ),
    t(
        "max.message.bytes",
        T::Int,
        V::AtLeast(0),
        "1048588",
        &[syn("message.max.bytes")],
    ),
    t(
        "message.downconversion.enable",
        T::Boolean,
        V::None,
        "true",
        &[syn("log.message.downconversion.enable")],
    ),
    t(
        "message.format.version",
        T::String,
        V::None,
        "3.0-IV1",
        &[syn("log.message.format.version")],
    ),
    t(
        "message.timestamp.after.max.ms",
        T::Long,
        V::AtLeast(0),
        MAX_LONG,
        &[syn("log.message.timestamp.after.max.ms")],
    ),
    t(
        "message.timestamp.before.max.ms",
        T::Long,
        V::AtLeast(0),
        MAX_LONG,
        &[syn("log.message.timestamp.before.max.ms")],
    ),
    t(
        "message.timestamp.difference.max.ms",
        T::Long,
        V::AtLeast(0),
        MAX_LONG,
        &[syn("log.message.timestamp.difference.max.ms")],
    ),
    t(
        "message.timestamp.type",
        T::String,
        V::OneOf(&["CreateTime", "LogAppendTime"]),
        "CreateTime",
        &[syn("log.message.timestamp.type")],
    ),
    t(
        "min.cleanable.dirty.ratio",
        T::Double,
        V::BetweenF(0.0, 1.0),
        "0.5",
        &[syn("log.cleaner.min.cleanable.ratio")],
    ),
    t(
        "min.compaction.lag.ms",
        T::Long,
        V::AtLeast(0),
        "0",
        &[syn("log.cleaner.min.compaction.lag.ms")],
    ),
    t(
        "min.insync.replicas",
        T::Int,
        V::AtLeast(1),
        "1",
        &[syn("min.insync.replicas")],
    ),
    t(
        "preallocate",
        T::Boolean,
        V::None,
        "false",
        &[syn("log.preallocate")],
    ),
    t("remote.log.copy.disable", T::Boolean, V::None, "false", &[]),
    t(
        "remote.log.delete.on.disable",
        T::Boolean,
        V::None,
        "false",
        &[],
    ),
    t("remote.storage.enable", T::Boolean, V::None, "false", &[]),
    t(
        "retention.bytes",
        T::Long,
        V::None,
        "-1",
        &[syn("log.retention.bytes")],
    ),
    t(
        "retention.ms",
        T::Long,
        V::AtLeast(-1),
        "604800000",
        &[
            syn("log.retention.ms"),
            Synonym {
                name: "log.retention.minutes",
                to_topic_unit: MINUTES,
            },
            Synonym {
                name: "log.retention.hours",
                to_topic_unit: HOURS,
            },
        ],
    ),
    t(
        "segment.bytes",
        T::Int,
        V::AtLeast(14),
        "1073741824",
        &[syn("log.segment.bytes")],
    ),
    t(
        "segment.index.bytes",
        T::Int,
        V::AtLeast(4),
        "10485760",
        &[syn("log.index.size.max.bytes")],
    ),
    t(
        "segment.jitter.ms",
        T::Long,
        V::AtLeast(0),
        "0",
        &[
            syn("log.roll.jitter.ms"),
            Synonym {
                name: "log.roll.jitter.hours",
                to_topic_unit: HOURS,
            },
        ],
    ),
    t(
        "segment.ms",
        T::Long,
        V::AtLeast(1),
        "604800000",
        &[
            syn("log.roll.ms"),
            Synonym {
                name: "log.roll.hours",
                to_topic_unit: HOURS,
            },
        ],
    ),
    t(
        "unclean.leader.election.enable",
        T::Boolean,
        V::None,
        "false",
        &[syn("unclean.leader.election.enable")],
    ),
];

/// The catalogue entry of topic config `name`.
pub fn topic_config_def(name: &str) -> Option<&'static TopicConfigDef> {
    TOPIC_CONFIG_DEFS.iter().find(|d| d.name == name)
}

/// The names of every topic config (`LogConfig.configNames`), sorted.
pub fn topic_config_names() -> impl Iterator<Item = &'static str> {
    TOPIC_CONFIG_DEFS.iter().map(|d| d.name)
}

/// Whether `name` is a topic config Kafka 3.9 knows (`LogConfig.validateNames`).
pub fn is_topic_config(name: &str) -> bool {
    topic_config_def(name).is_some()
}

/// zstd's level range (`ZstdCompression.MIN_LEVEL`..`MAX_LEVEL`).
pub const ZSTD_LEVELS: (i32, i32) = (-131_072, 22);
/// lz4's level range (`Lz4Compression.MIN_LEVEL`..`MAX_LEVEL`).
pub const LZ4_LEVELS: (i32, i32) = (1, 17);

/// Why `level` is not a valid value of compression level config `name` (`compression.gzip.level`,
/// `compression.lz4.level`, `compression.zstd.level`), in the words of Kafka's validators
/// (`GzipCompression.LevelValidator`, `Range.between`); `None` when it is valid or `name` is not a
/// level config.
pub fn level_error(name: &str, level: i64) -> Option<String> {
    let between = |(min, max): (i32, i32)| {
        if level < i64::from(min) {
            Some(format!("Value must be at least {min}"))
        } else if level > i64::from(max) {
            Some(format!("Value must be no more than {max}"))
        } else {
            None
        }
    };
    match name {
        "compression.gzip.level" => (!(1..=9).contains(&level) && level != -1)
            .then(|| "Value must be between 1 and 9 or equal to -1".to_string()),
        "compression.lz4.level" => between(LZ4_LEVELS),
        "compression.zstd.level" => between(ZSTD_LEVELS),
        _ => None,
    }
}

/// Kafka's `ConfigException(name, value, message)` text.
fn invalid(name: &str, value: &str, why: &str) -> String {
    format!("Invalid value {value} for configuration {name}: {why}")
}

/// Checks one value against its type and validator; `Err` is Kafka's `ConfigException` text.
pub fn check_value(
    name: &str,
    ty: ConfigType,
    validator: Validator,
    value: &str,
) -> Result<(), String> {
    if let Some(why) = ty.parse_error(value) {
        return Err(invalid(name, value, &why));
    }
    let v = value.trim();
    match validator {
        Validator::None => Ok(()),
        Validator::AtLeast(min) => match v.parse::<i64>() {
            Ok(n) if n < min => Err(invalid(
                name,
                value,
                &format!("Value must be at least {min}"),
            )),
            _ => Ok(()),
        },
        Validator::BetweenF(min, max) => match v.parse::<f64>() {
            Ok(n) if n < min => Err(invalid(
                name,
                value,
                &format!("Value must be at least {min}"),
            )),
            Ok(n) if n > max => Err(invalid(
                name,
                value,
                &format!("Value must be no more than {max}"),
            )),
            _ => Ok(()),
        },
        Validator::OneOf(allowed) => {
            if allowed.contains(&v) {
                Ok(())
            } else {
                Err(invalid(
                    name,
                    value,
                    &format!("String must be one of: {}", allowed.join(", ")),
                ))
            }
        }
        Validator::CompressionLevel => match v.parse::<i64>() {
            Ok(n) => match level_error(name, n) {
                Some(why) => Err(invalid(name, value, &why)),
                None => Ok(()),
            },
            Err(_) => Ok(()),
        },
        Validator::ListOf(allowed) => {
            match v.split(',').map(str::trim).find(|e| !allowed.contains(e)) {
                Some(bad) => Err(invalid(
                    name,
                    bad,
                    &format!("String must be one of: {}", allowed.join(", ")),
                )),
                None => Ok(()),
            }
        }
    }
}

/// When Kafka lets a broker config change (its reference's `Update Mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateMode {
    /// Only in `server.properties`; `read_only` in DescribeConfigs.
    ReadOnly,
    /// Dynamically, for the whole cluster or per broker.
    ClusterWide,
    /// Dynamically, per broker only.
    PerBroker,
}

/// One Kafka 3.9 broker config: type, default (`None`: null) and update mode.
#[derive(Debug, Clone, Copy)]
pub struct BrokerConfigDef {
    pub name: &'static str,
    pub ty: ConfigType,
    pub default: Option<&'static str>,
    pub mode: UpdateMode,
}

impl BrokerConfigDef {
    /// Kafka's `DynamicBrokerConfig.AllDynamicConfigs` membership (DescribeConfigs' `read_only`
    /// is its negation).
    pub fn kafka_dynamic(&self) -> bool {
        self.mode != UpdateMode::ReadOnly
    }

    /// Kafka's `maybeSensitive`: passwords are never shown.
    pub fn sensitive(&self) -> bool {
        self.ty == ConfigType::Password
    }

    /// Whether our broker acts on `value` of this key or accepts it with a warning (`support`).
    pub fn support(&self, value: &str) -> Support {
        broker_config_support(self.name, value)
    }
}

/// Every broker config Kafka 3.9 has, sorted by name.
pub use broker_configs::KAFKA_BROKER_CONFIGS as BROKER_CONFIG_DEFS;

/// The broker configs this broker lets AlterConfigs change, because a change reaches what it
/// governs at once (the partition logs' settings, re-derived on every metadata change) or is
/// only a default for topics. All are dynamic in Kafka too (where only the first synonym of a
/// topic config is: `log.retention.hours` and `log.roll.hours` are read-only). Kafka allows more (thread pools, listeners); those are refused
/// here with Kafka's `Cannot update these configs dynamically` rather than stored and ignored.
pub const DYNAMIC_BROKER_CONFIGS: &[&str] = &[
    "compression.gzip.level",
    "compression.lz4.level",
    "compression.type",
    "compression.zstd.level",
    "log.cleanup.policy",
    "log.flush.interval.messages",
    "log.flush.interval.ms",
    "log.index.interval.bytes",
    "log.retention.bytes",
    "log.retention.ms",
    "log.roll.ms",
    "log.segment.bytes",
    "message.max.bytes",
    "min.insync.replicas",
    "unclean.leader.election.enable",
];

/// Kafka's per-broker dynamic SASL configs (`DynamicListenerConfig.ReconfigurableConfigs`, the
/// ones without a listener prefix), but `sasl.jaas.config`: a password, which Kafka stores only
/// encoded with `password.encoder.secret`, so it stays refused here rather than kept in clear. They configure SASL listeners; this broker serves PLAINTEXT
/// only, as does a Kafka broker without a SASL listener, where setting them is accepted and has no
/// effect either. So they are accepted per broker (never at the cluster default level, as in
/// Kafka), type-checked, stored and reported by DescribeConfigs, and logged as inert.
pub const SASL_LISTENER_DYNAMIC_CONFIGS: &[&str] = &[
    "sasl.enabled.mechanisms",
    "sasl.kerberos.kinit.cmd",
    "sasl.kerberos.min.time.before.relogin",
    "sasl.kerberos.principal.to.local.rules",
    "sasl.kerberos.service.name",
    "sasl.kerberos.ticket.renew.jitter",
    "sasl.kerberos.ticket.renew.window.factor",
    "sasl.login.refresh.buffer.seconds",
    "sasl.login.refresh.min.period.seconds",
    "sasl.login.refresh.window.factor",
    "sasl.login.refresh.window.jitter",
    "sasl.mechanism.inter.broker.protocol",
];

/// The catalogue entry of broker config `name`.
pub fn broker_config_def(name: &str) -> Option<&'static BrokerConfigDef> {
    BROKER_CONFIG_DEFS.iter().find(|d| d.name == name)
}

/// `brokerConfigSynonyms`: the names sharing one setting, highest priority first.
pub fn broker_synonyms(name: &str) -> Vec<&'static str> {
    const GROUPS: &[&[&str]] = &[
        &["log.roll.ms", "log.roll.hours"],
        &["log.roll.jitter.ms", "log.roll.jitter.hours"],
        &["log.flush.interval.ms", "log.flush.scheduler.interval.ms"],
        &[
            "log.retention.ms",
            "log.retention.minutes",
            "log.retention.hours",
        ],
    ];
    for g in GROUPS {
        // Only the first of a group takes the others as synonyms (Kafka: `log.flush.interval.ms`
        // lists the scheduler interval, not the reverse).
        if g[0] == name || (g.contains(&name) && g[0] != "log.flush.interval.ms") {
            return g.to_vec();
        }
    }
    match BROKER_CONFIG_DEFS.iter().find(|d| d.name == name) {
        Some(d) => vec![d.name],
        None => TOPIC_CONFIG_DEFS
            .iter()
            .flat_map(|t| t.synonyms.iter())
            .find(|s| s.name == name)
            .map_or_else(Vec::new, |s| vec![s.name]),
    }
}

/// The Kafka default of a broker-side config name (from the broker catalogue, or the topic
/// default a topic config's first synonym carries), `None` when Kafka's default is null.
pub fn broker_default(name: &str) -> Option<&'static str> {
    if let Some(d) = broker_config_def(name) {
        return d.default;
    }
    // Server names known only as topic synonyms: their default is the topic's, where the unit
    // is the same (the first synonym). Second-tier synonyms with a default are listed above.
    TOPIC_CONFIG_DEFS
        .iter()
        .find(|t| t.synonyms.first().is_some_and(|s| s.name == name))
        .filter(|t| {
            !matches!(
                t.name,
                "flush.ms" | "retention.ms" | "segment.ms" | "segment.jitter.ms"
            )
        })
        .map(|t| t.default)
        .or(match name {
            "log.roll.jitter.hours" => Some("0"),
            _ => None,
        })
}

/// Checks a dynamic broker config update (Kafka's `DynamicBrokerConfig.validateConfigs` then
/// the values' types) for one broker (`per_broker`) or the cluster default; `Err` is Kafka's
/// text.
pub fn check_dynamic_broker_configs(
    configs: &BTreeMap<String, String>,
    per_broker: bool,
) -> Result<(), String> {
    let refused: Vec<&str> = configs
        .keys()
        .map(String::as_str)
        .filter(|k| {
            !DYNAMIC_BROKER_CONFIGS.contains(k) && !SASL_LISTENER_DYNAMIC_CONFIGS.contains(k)
        })
        .collect();
    if !refused.is_empty() {
        return Err(format!(
            "Cannot update these configs dynamically: Set({})",
            refused.join(", ")
        ));
    }
    let broker_only: Vec<&str> = configs
        .keys()
        .map(String::as_str)
        .filter(|k| SASL_LISTENER_DYNAMIC_CONFIGS.contains(k))
        .collect();
    if !per_broker && !broker_only.is_empty() {
        return Err(format!(
            "Cannot update these configs at default cluster level, broker id must be specified: \
             Set({})",
            broker_only.join(", ")
        ));
    }
    for (k, v) in configs {
        if let Some(d) = broker_config_def(k) {
            // The compression configs share their topic twin's validator (Kafka's
            // `ServerLogConfigs` and `LogConfig` define them alike).
            let validator = match k.as_str() {
                "compression.type"
                | "compression.gzip.level"
                | "compression.lz4.level"
                | "compression.zstd.level" => {
                    topic_config_def(k).map_or(Validator::None, |t| t.validator)
                }
                _ => Validator::None,
            };
            check_value(k, d.ty, validator, v)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dynamic_compression_configs_are_checked_with_kafkas_validators() {
        let one = |k: &str, v: &str| {
            let mut m = BTreeMap::new();
            m.insert(k.to_string(), v.to_string());
            check_dynamic_broker_configs(&m, false)
        };
        assert_eq!(
            one("compression.gzip.level", "10"),
            Err(
                "Invalid value 10 for configuration compression.gzip.level: Value must be \
                 between 1 and 9 or equal to -1"
                    .to_string()
            )
        );
        assert!(one("compression.type", "brotli").is_err());
        assert_eq!(one("compression.zstd.level", "19"), Ok(()));
        assert_eq!(one("compression.type", "lz4"), Ok(()));
    }

    #[test]
    fn bad_values_are_refused_with_kafkas_texts() {
        let d = |n: &str| topic_config_def(n).map(|d| (d.ty, d.validator));
        let check = |n: &str, v: &str| {
            let (ty, val) = d(n).expect("known");
            check_value(n, ty, val, v)
        };
        assert_eq!(
            check("retention.ms", "abc"),
            Err(
                "Invalid value abc for configuration retention.ms: Not a number of type LONG"
                    .into()
            )
        );
        assert_eq!(
            check("max.message.bytes", "3000000000"),
            Err("Invalid value 3000000000 for configuration max.message.bytes: Not a number of type INT".into())
        );
        assert_eq!(
            check("preallocate", "yes"),
            Err("Invalid value yes for configuration preallocate: Expected value to be either true or false".into())
        );
        assert_eq!(
            check("message.timestamp.type", "Now"),
            Err("Invalid value Now for configuration message.timestamp.type: String must be one of: CreateTime, LogAppendTime".into())
        );
        assert_eq!(
            check("segment.bytes", "10"),
            Err(
                "Invalid value 10 for configuration segment.bytes: Value must be at least 14"
                    .into()
            )
        );
        assert_eq!(
            check("min.cleanable.dirty.ratio", "1.5"),
            Err("Invalid value 1.5 for configuration min.cleanable.dirty.ratio: Value must be no more than 1".into())
        );
        assert!(check("cleanup.policy", "compact,delete").is_ok());
        assert!(check("cleanup.policy", "compact,tidy").is_err());
        assert!(check("retention.ms", "-1").is_ok());
        assert!(check("retention.ms", " 1000 ").is_ok());
    }

    #[test]
    fn only_dynamically_updatable_broker_configs_may_change() {
        let m = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert!(check_dynamic_broker_configs(&m(&[("log.retention.ms", "1000")]), false).is_ok());
        assert_eq!(
            check_dynamic_broker_configs(&m(&[("broker.id", "3")]), true),
            Err("Cannot update these configs dynamically: Set(broker.id)".into())
        );
        assert_eq!(
            check_dynamic_broker_configs(&m(&[("message.max.bytes", "big")]), false),
            Err(
                "Invalid value big for configuration message.max.bytes: Not a number of type INT"
                    .into()
            )
        );
    }

    #[test]
    fn sasl_listener_configs_may_change_per_broker_only_and_are_type_checked() {
        let m = |k: &str, v: &str| BTreeMap::from([(k.to_string(), v.to_string())]);
        // librdkafka's 0081_admin sets this one on a broker, as Kafka 3.9 allows.
        let relogin = m("sasl.kerberos.min.time.before.relogin", "58000");
        assert_eq!(check_dynamic_broker_configs(&relogin, true), Ok(()));
        assert_eq!(
            check_dynamic_broker_configs(&relogin, false),
            Err(
                "Cannot update these configs at default cluster level, broker id must be \
                 specified: Set(sasl.kerberos.min.time.before.relogin)"
                    .into()
            )
        );
        assert_eq!(
            check_dynamic_broker_configs(&m("sasl.kerberos.min.time.before.relogin", "soon"), true),
            Err(
                "Invalid value soon for configuration sasl.kerberos.min.time.before.relogin: \
                 Not a number of type LONG"
                    .into()
            )
        );
        for name in SASL_LISTENER_DYNAMIC_CONFIGS {
            assert!(
                broker_config_def(name).is_some(),
                "{name} is one of Kafka's"
            );
        }
        // SSL settings and the JAAS password are refused here (no TLS listener; no password
        // encoder), as every dynamic config this broker would store without acting on.
        assert!(check_dynamic_broker_configs(&m("ssl.protocol", "TLSv1.3"), true).is_err());
        assert!(check_dynamic_broker_configs(&m("sasl.jaas.config", "x"), true).is_err());
    }

    #[test]
    fn docs_configs_md_classes_every_topic_config() {
        let doc = include_str!("../../../docs/configs.md");
        let topic_part = &doc[..doc.find("## Broker configs").expect("broker section")];
        for def in TOPIC_CONFIG_DEFS {
            assert!(
                topic_part.contains(&format!("| `{}` |", def.name)),
                "docs/configs.md does not class topic config {}",
                def.name
            );
        }
    }

    #[test]
    fn retention_names_are_synonyms_of_each_other() {
        assert_eq!(
            broker_synonyms("log.retention.hours"),
            [
                "log.retention.ms",
                "log.retention.minutes",
                "log.retention.hours"
            ]
        );
        assert_eq!(broker_synonyms("message.max.bytes"), ["message.max.bytes"]);
        assert_eq!(broker_default("log.retention.hours"), Some("168"));
        assert_eq!(broker_default("log.retention.ms"), None);
        assert_eq!(broker_default("log.segment.bytes"), Some("1073741824"));
        assert_eq!(
            broker_default("log.cleaner.delete.retention.ms"),
            Some("86400000")
        );
    }
}
