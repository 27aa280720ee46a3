//! Which configs our broker acts on, the catalogue's "whether we act on it" column. Every topic
//! config Kafka 3.9 knows and every broker key the broker accepts falls in one of three classes
//! ([`Support`]; the table in `docs/configs.md` lists them all):
//!
//! - **acted on**: the value changes what the broker does, as in Kafka;
//! - **refused**: a value that would change what clients see but that we cannot honor
//!   (tiered storage) is refused at CreateTopics with
//!   INVALID_CONFIG (40) and Kafka's `Invalid value <v> for configuration <k>: <why>` shape;
//! - **accepted and warned**: a value that only tunes how Kafka works inside (threads, buffers,
//!   preallocation, throttles, deletion delay) and whose absence no client can observe; the
//!   broker logs a WARN naming the key and value (at startup for broker keys, at topic creation
//!   for topic configs), so it is never silently ignored.
//!
//! A key's default value is never refused or warned about: the broker's behaviour is the default
//! one (e.g. `cleanup.policy=delete`, `preallocate=false`). `compression.type` is acted on for
//! every value Kafka accepts (`log::recompress`).

/// How the broker treats one config value: the three classes above.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Support {
    /// The value changes what the broker does, as in Kafka (defaults included).
    ActedOn,
    /// Refused with INVALID_CONFIG (40); the message is Kafka's `Invalid value <v> for
    /// configuration <k>: <why>` shape.
    Refused(String),
    /// Accepted, logged as a WARN with this reason, since no client can observe its absence.
    NotActedOn(&'static str),
}

/// The class of a topic config value (`TopicConfigDef::support`); names Kafka does not know are
/// the catalogue's business (`topic_config_def`), not this function's.
pub fn topic_config_support(name: &str, value: &str) -> Support {
    if let Some(message) = refuse_topic_config(name, value) {
        Support::Refused(message)
    } else if let Some(why) = topic_config_warning(name, value) {
        Support::NotActedOn(why)
    } else {
        Support::ActedOn
    }
}

/// The class of a `server.properties` value (`BrokerConfigDef::support`). Broker keys are never
/// refused for our limits: a value we cannot honor is warned about at startup.
pub fn broker_config_support(key: &str, value: &str) -> Support {
    match broker_config_warning(key, value) {
        Some(why) => Support::NotActedOn(why),
        None => Support::ActedOn,
    }
}

/// Why a topic config value cannot be honored, as the message of an INVALID_CONFIG refusal;
/// `None` when the value is acted on or only warned about (see `topic_config_warning`).
pub fn refuse_topic_config(name: &str, value: &str) -> Option<String> {
    let v = value.trim();
    let why = match name {
        "message.timestamp.before.max.ms"
        | "message.timestamp.after.max.ms"
        | "message.timestamp.difference.max.ms"
            if v.parse::<i64>().is_ok_and(|ms| ms < 0) =>
        {
            "Value must be at least 0"
        }
        "remote.storage.enable" if v.eq_ignore_ascii_case("true") => {
            // Kafka's text when the broker has tiered storage off.
            "Tiered Storage functionality is disabled in the broker. Topic cannot be configured \
             with remote log storage."
        }
        _ => return None,
    };
    Some(format!(
        "Invalid value {value} for configuration {name}: {why}"
    ))
}

/// Why a topic config value is accepted but not acted on (logged as a WARN when a topic is
/// created with it); `None` when it is acted on or is the default.
pub fn topic_config_warning(name: &str, value: &str) -> Option<&'static str> {
    let v = value.trim();
    Some(match name {
        "file.delete.delay.ms" if v != "0" => {
            "segments past retention are deleted at once, without the delay"
        }
        "preallocate" if v.eq_ignore_ascii_case("true") => "segment files are not preallocated",
        "follower.replication.throttled.replicas" | "leader.replication.throttled.replicas"
            if !v.is_empty() =>
        {
            "replication is not throttled"
        }
        "message.format.version" => {
            "deprecated and ignored by Kafka 3.x too: batches are stored in format v2"
        }
        "remote.log.copy.disable"
        | "remote.log.delete.on.disable"
        | "local.retention.ms"
        | "local.retention.bytes" => "tiered storage is not enabled on this broker",
        _ => return None,
    })
}

/// Why a `server.properties` key with this value is accepted but not acted on (logged as a WARN
/// at startup); `None` when it is acted on, or its value is the behaviour we have anyway.
pub fn broker_config_warning(key: &str, value: &str) -> Option<&'static str> {
    let v = value.trim();
    Some(match key {
        "num.network.threads" | "num.io.threads" | "num.recovery.threads.per.data.dir" => {
            "requests and recovery run on the async runtime's threads"
        }
        "socket.send.buffer.bytes" | "socket.receive.buffer.bytes" => {
            "sockets keep the operating system's buffer sizes"
        }
        "offsets.topic.compression.codec" if v != "0" => {
            "records of __consumer_offsets are written uncompressed"
        }
        "zookeeper.connection.timeout.ms" => {
            "the broker retries zookeeper-lite until zookeeper.session.timeout.ms"
        }
        "listener.security.protocol.map" | "inter.broker.listener.name" => {
            "only one PLAINTEXT listener is served"
        }
        "unclean.leader.election.enable" if v.eq_ignore_ascii_case("true") => {
            "zookeeper-lite elects leaders and does not see server.properties: set it as a \
             dynamic cluster default (kafka-configs --entity-type brokers --entity-default) or \
             per topic"
        }
        "log.cleaner.io.buffer.size" => {
            "the cleaner reads and writes segments through buffers of its own sizes"
        }
        "log.cleaner.io.max.bytes.per.second" => "the log cleaner's I/O is not throttled",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_classes_are_read_from_the_catalogue() {
        let cleanup = crate::config::topic_config_def("cleanup.policy").unwrap();
        assert_eq!(cleanup.support("delete"), Support::ActedOn);
        assert_eq!(cleanup.support("compact"), Support::ActedOn);
        assert_eq!(cleanup.support("compact,delete"), Support::ActedOn);
        let preallocate = crate::config::topic_config_def("preallocate").unwrap();
        assert_eq!(
            preallocate.support("true"),
            Support::NotActedOn("segment files are not preallocated")
        );
        let io_threads = crate::config::broker_config_def("num.io.threads").unwrap();
        assert!(matches!(io_threads.support("8"), Support::NotActedOn(_)));
        let retention = crate::config::broker_config_def("log.retention.hours").unwrap();
        assert_eq!(retention.support("1"), Support::ActedOn);
    }

    #[test]
    fn compaction_is_acted_on_and_tiered_storage_refused_with_kafkas_shape() {
        assert!(refuse_topic_config("cleanup.policy", "compact").is_none());
        assert!(refuse_topic_config("cleanup.policy", "delete,compact").is_none());
        assert!(refuse_topic_config("cleanup.policy", "delete").is_none());
        assert!(broker_config_warning("log.cleanup.policy", "compact").is_none());
        assert!(broker_config_warning("log.cleaner.io.max.bytes.per.second", "1000").is_some());
        assert!(refuse_topic_config("remote.storage.enable", "true").is_some());
        assert!(refuse_topic_config("remote.storage.enable", "false").is_none());
        assert!(refuse_topic_config("retention.ms", "1000").is_none());
    }

    #[test]
    fn compression_type_is_acted_on_so_neither_refused_nor_warned_about() {
        for value in ["producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"] {
            assert!(
                refuse_topic_config("compression.type", value).is_none(),
                "{value}"
            );
            assert!(
                topic_config_warning("compression.type", value).is_none(),
                "{value}"
            );
            assert!(
                broker_config_warning("compression.type", value).is_none(),
                "{value}"
            );
        }
    }

    #[test]
    fn defaults_are_never_warned_about() {
        assert!(topic_config_warning("preallocate", "false").is_none());
        assert!(topic_config_warning("segment.jitter.ms", "0").is_none());
        assert!(topic_config_warning("preallocate", "true").is_some());
        assert!(topic_config_warning("retention.ms", "5").is_none());
        assert!(broker_config_warning("compression.type", "producer").is_none());
        assert!(broker_config_warning("num.io.threads", "8").is_some());
        assert!(broker_config_warning("log.retention.hours", "1").is_none());
    }

    #[test]
    fn configs_acted_on_by_retention_rolls_and_down_conversion_are_not_warned_about() {
        for (name, value) in [
            ("segment.jitter.ms", "250"),
            ("segment.index.bytes", "4096"),
            ("message.downconversion.enable", "false"),
            ("segment.ms", "1000"),
            ("retention.bytes", "0"),
        ] {
            assert!(
                topic_config_warning(name, value).is_none(),
                "{name}={value}"
            );
        }
    }
}
