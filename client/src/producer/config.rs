//! Producer settings with Kafka 3.9's names and defaults, read from `key=value` pairs as
//! `--producer-property` and `producer.properties` give them.

use kafka_protocol::records::Compression;

use crate::error::ClientError;
use crate::properties::{
    invalid, parse_bool, parse_i32, parse_non_negative_i32, parse_non_negative_i64, warn_unknown,
};
use crate::records::CompressionLevels;

#[derive(Debug, Clone, PartialEq)]
pub struct ProducerConfig {
    pub bootstrap_servers: String,
    pub client_id: String,
    /// -1 (all), 0 or 1.
    pub acks: i16,
    pub linger_ms: u64,
    pub batch_size: usize,
    pub compression: Compression,
    /// `compression.gzip.level` (KIP-390): 1-9, or -1 for zlib's default.
    pub compression_gzip_level: i32,
    /// `compression.lz4.level`: 1-17 (Kafka's default 9).
    pub compression_lz4_level: i32,
    /// `compression.zstd.level`: -131072-22 (Kafka's default 3).
    pub compression_zstd_level: i32,
    pub retries: u32,
    pub retry_backoff_ms: u64,
    /// The most the wait between two metadata refreshes for a topic that is still missing or
    /// leaderless grows to, doubling from `retry.backoff.ms` (`retry.backoff.max.ms`, Kafka's
    /// KIP-580 default 1000).
    pub retry_backoff_max_ms: u64,
    pub request_timeout_ms: u64,
    pub max_block_ms: u64,
    /// Effective only with acks=all; `from_properties` turns it off when acks is not all and the
    /// user did not ask for it explicitly, as the Java client does.
    pub enable_idempotence: bool,
    pub buffer_memory: u64,
    pub send_buffer_bytes: i32,
    pub max_in_flight_requests_per_connection: u32,
    pub delivery_timeout_ms: u64,
    pub metadata_max_age_ms: u64,
    pub max_request_size: usize,
    /// `transactional.id`: makes the producer transactional (Kafka's `TransactionManager`);
    /// requires idempotence.
    pub transactional_id: Option<String>,
    /// `transaction.timeout.ms`: how long the coordinator lets a transaction stay open before
    /// aborting it (sent in InitProducerId; Kafka's default 60000).
    pub transaction_timeout_ms: i32,
}

impl Default for ProducerConfig {
    fn default() -> Self {
        ProducerConfig {
            bootstrap_servers: String::new(),
            client_id: "producer-1".to_string(),
            acks: -1,
            linger_ms: 0,
            batch_size: 16384,
            compression: Compression::None,
            compression_gzip_level: CompressionLevels::KAFKA_DEFAULTS.gzip,
            compression_lz4_level: CompressionLevels::KAFKA_DEFAULTS.lz4,
            compression_zstd_level: CompressionLevels::KAFKA_DEFAULTS.zstd,
            retries: i32::MAX as u32,
            retry_backoff_ms: 100,
            retry_backoff_max_ms: 1000,
            request_timeout_ms: 30_000,
            max_block_ms: 60_000,
            enable_idempotence: true,
            buffer_memory: 33_554_432,
            send_buffer_bytes: 131_072,
            max_in_flight_requests_per_connection: 5,
            delivery_timeout_ms: 120_000,
            metadata_max_age_ms: 300_000,
            max_request_size: 1_048_576,
            transactional_id: None,
            transaction_timeout_ms: 60_000,
        }
    }
}

/// Kafka's names for the codecs, as `compression.type` takes them.
pub fn parse_compression(key: &str, value: &str) -> Result<Compression, ClientError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "none" => Ok(Compression::None),
        "gzip" => Ok(Compression::Gzip),
        "snappy" => Ok(Compression::Snappy),
        "lz4" => Ok(Compression::Lz4),
        "zstd" => Ok(Compression::Zstd),
        _ => Err(invalid(
            key,
            value,
            "String must be one of: none, gzip, snappy, lz4, zstd",
        )),
    }
}

/// `acks`: all / -1 / 0 / 1.
pub fn parse_acks(key: &str, value: &str) -> Result<i16, ClientError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "all" | "-1" => Ok(-1),
        "0" => Ok(0),
        "1" => Ok(1),
        _ => Err(invalid(key, value, "String must be one of: all, -1, 0, 1")),
    }
}

/// A `compression.<codec>.level` value: an INT within the codec's range, refused with the text
/// of Kafka's validators (`GzipCompression.LevelValidator`, `Range.between`).
fn parse_level(key: &str, value: &str) -> Result<i32, ClientError> {
    let level = parse_i32(key, value)?;
    match common::config::level_error(key, i64::from(level)) {
        Some(why) => Err(invalid(key, value, &why)),
        None => Ok(level),
    }
}

impl ProducerConfig {
    /// The compression levels this config asks for, as the encoder takes them.
    pub fn compression_levels(&self) -> CompressionLevels {
        CompressionLevels {
            gzip: self.compression_gzip_level,
            lz4: self.compression_lz4_level,
            zstd: self.compression_zstd_level,
        }
    }

    /// Refuses a level outside its codec's range (for configs built in code rather than by
    /// `from_properties`), with Kafka's `ConfigException` text.
    pub fn validate_compression_levels(&self) -> Result<(), ClientError> {
        for (key, level) in [
            ("compression.gzip.level", self.compression_gzip_level),
            ("compression.lz4.level", self.compression_lz4_level),
            ("compression.zstd.level", self.compression_zstd_level),
        ] {
            if let Some(why) = common::config::level_error(key, i64::from(level)) {
                return Err(invalid(key, &level.to_string(), &why));
            }
        }
        Ok(())
    }

    /// Builds a config from Kafka producer keys over the defaults. An unknown key is a warning;
    /// a bad value is an error naming the key and the value.
    pub fn from_properties<K: AsRef<str>, V: AsRef<str>>(
        props: &[(K, V)],
    ) -> Result<ProducerConfig, ClientError> {
        let mut c = ProducerConfig::default();
        let mut idempotence_explicit = None;
        for (k, v) in props {
            let (key, value) = (k.as_ref().trim(), v.as_ref().trim());
            match key {
                "bootstrap.servers" => c.bootstrap_servers = value.to_string(),
                "client.id" => c.client_id = value.to_string(),
                "acks" => c.acks = parse_acks(key, value)?,
                "linger.ms" => c.linger_ms = parse_non_negative_i64(key, value)? as u64,
                "batch.size" => c.batch_size = parse_non_negative_i32(key, value)? as usize,
                "compression.type" => c.compression = parse_compression(key, value)?,
                "compression.gzip.level" => c.compression_gzip_level = parse_level(key, value)?,
                "compression.lz4.level" => c.compression_lz4_level = parse_level(key, value)?,
                "compression.zstd.level" => c.compression_zstd_level = parse_level(key, value)?,
                "retries" => c.retries = parse_non_negative_i32(key, value)? as u32,
                "retry.backoff.ms" => {
                    c.retry_backoff_ms = parse_non_negative_i64(key, value)? as u64
                }
                "retry.backoff.max.ms" => {
                    c.retry_backoff_max_ms = parse_non_negative_i64(key, value)? as u64
                }
                "request.timeout.ms" => {
                    c.request_timeout_ms = parse_non_negative_i32(key, value)? as u64
                }
                "max.block.ms" => c.max_block_ms = parse_non_negative_i64(key, value)? as u64,
                "enable.idempotence" => idempotence_explicit = Some(parse_bool(key, value)?),
                "buffer.memory" => c.buffer_memory = parse_non_negative_i64(key, value)? as u64,
                "send.buffer.bytes" => c.send_buffer_bytes = parse_i32(key, value)?,
                "max.in.flight.requests.per.connection" => {
                    let n = parse_i32(key, value)?;
                    if n < 1 {
                        return Err(invalid(key, value, "Value must be at least 1"));
                    }
                    c.max_in_flight_requests_per_connection = n as u32;
                }
                "delivery.timeout.ms" => {
                    c.delivery_timeout_ms = parse_non_negative_i32(key, value)? as u64
                }
                "metadata.max.age.ms" => {
                    c.metadata_max_age_ms = parse_non_negative_i64(key, value)? as u64
                }
                "max.request.size" => {
                    c.max_request_size = parse_non_negative_i32(key, value)? as usize
                }
                "transactional.id" => {
                    c.transactional_id = (!value.is_empty()).then(|| value.to_string())
                }
                "transaction.timeout.ms" => {
                    c.transaction_timeout_ms = parse_non_negative_i32(key, value)?
                }
                // Accepted because Kafka's tools always pass them; we only send bytes.
                "key.serializer" | "value.serializer" => {}
                "security.protocol" => crate::properties::check_security_protocol(value)?,
                _ => warn_unknown(key),
            }
        }
        c.enable_idempotence = match idempotence_explicit {
            Some(true) => {
                if c.acks != -1 {
                    return Err(ClientError::Config {
                        key: "acks".to_string(),
                        value: c.acks.to_string(),
                        reason: "Must set acks to all in order to use the idempotent producer. Otherwise we cannot guarantee idempotence.".to_string(),
                    });
                }
                if c.retries == 0 {
                    return Err(ClientError::Config {
                        key: "retries".to_string(),
                        value: "0".to_string(),
                        reason: "Must set retries to non-zero when using the idempotent producer."
                            .to_string(),
                    });
                }
                if c.max_in_flight_requests_per_connection > 5 {
                    return Err(ClientError::Config {
                        key: "max.in.flight.requests.per.connection".to_string(),
                        value: c.max_in_flight_requests_per_connection.to_string(),
                        reason: "Must set max.in.flight.requests.per.connection to at most 5 when using the idempotent producer.".to_string(),
                    });
                }
                true
            }
            Some(false) => false,
            // Java 3.x: idempotence is the default only when nothing conflicts with it.
            None => c.acks == -1 && c.retries > 0 && c.max_in_flight_requests_per_connection <= 5,
        };
        // ProducerConfig.postProcessAndValidateIdempotenceConfigs
        if let Some(id) = &c.transactional_id {
            if !c.enable_idempotence {
                return Err(ClientError::Config {
                    key: "transactional.id".to_string(),
                    value: id.clone(),
                    reason: "Cannot set a transactional.id without also enabling idempotence."
                        .to_string(),
                });
            }
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_kafkas() {
        let c = ProducerConfig::from_properties::<&str, &str>(&[]).expect("defaults");
        assert_eq!(c.acks, -1);
        assert!(c.enable_idempotence);
        assert_eq!(c.batch_size, 16384);
        assert_eq!(c.delivery_timeout_ms, 120_000);
    }

    #[test]
    fn console_producer_keys_parse() {
        let c = ProducerConfig::from_properties(&[
            ("bootstrap.servers", "localhost:9092"),
            ("acks", "all"),
            ("linger.ms", "1000"),
            ("compression.type", "zstd"),
            ("retries", "3"),
            (
                "key.serializer",
                "org.apache.kafka.common.serialization.ByteArraySerializer",
            ),
        ])
        .expect("parse");
        assert_eq!(c.linger_ms, 1000);
        assert_eq!(c.compression, Compression::Zstd);
        assert_eq!(c.retries, 3);
        assert!(c.enable_idempotence);
    }

    #[test]
    fn acks_one_turns_default_idempotence_off() {
        let c = ProducerConfig::from_properties(&[("acks", "1")]).expect("parse");
        assert!(!c.enable_idempotence);
    }

    #[test]
    fn explicit_idempotence_with_acks_one_is_an_error() {
        let e = ProducerConfig::from_properties(&[("acks", "1"), ("enable.idempotence", "true")]);
        assert!(e.is_err());
    }

    #[test]
    fn bad_values_name_key_and_value() {
        let e = ProducerConfig::from_properties(&[("acks", "2")])
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("Invalid value 2 for configuration acks: String must be one of: all, -1, 0, 1")
        );
        let e = ProducerConfig::from_properties(&[("compression.type", "brotli")])
            .err()
            .map(|e| e.to_string());
        assert!(e.unwrap_or_default().contains("compression.type"));
    }

    #[test]
    fn transactional_keys_parse() {
        let c = ProducerConfig::from_properties(&[
            ("transactional.id", "tx-1"),
            ("transaction.timeout.ms", "30000"),
        ])
        .expect("parse");
        assert_eq!(c.transactional_id.as_deref(), Some("tx-1"));
        assert_eq!(c.transaction_timeout_ms, 30_000);
        let e = ProducerConfig::from_properties(&[
            ("transactional.id", "tx-1"),
            ("enable.idempotence", "false"),
        ])
        .err()
        .map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("Invalid value tx-1 for configuration transactional.id: Cannot set a transactional.id without also enabling idempotence.")
        );
    }

    #[test]
    fn compression_levels_parse_and_default_to_kafkas() {
        let d = ProducerConfig::default();
        assert_eq!(
            (
                d.compression_gzip_level,
                d.compression_lz4_level,
                d.compression_zstd_level
            ),
            (-1, 9, 3)
        );
        let c = ProducerConfig::from_properties(&[
            ("compression.type", "gzip"),
            ("compression.gzip.level", "1"),
            ("compression.lz4.level", "17"),
            ("compression.zstd.level", "-131072"),
        ])
        .expect("parse");
        assert_eq!(
            c.compression_levels(),
            CompressionLevels {
                gzip: 1,
                lz4: 17,
                zstd: -131_072
            }
        );
        assert!(ProducerConfig::from_properties(&[("compression.gzip.level", "-1")]).is_ok());
        assert!(ProducerConfig::from_properties(&[("compression.zstd.level", "22")]).is_ok());
    }

    #[test]
    fn invalid_compression_levels_are_refused_with_kafkas_text() {
        let cases = [
            (
                "compression.gzip.level",
                "10",
                "Invalid value 10 for configuration compression.gzip.level: Value must be between 1 and 9 or equal to -1",
            ),
            (
                "compression.gzip.level",
                "0",
                "Invalid value 0 for configuration compression.gzip.level: Value must be between 1 and 9 or equal to -1",
            ),
            (
                "compression.lz4.level",
                "0",
                "Invalid value 0 for configuration compression.lz4.level: Value must be at least 1",
            ),
            (
                "compression.lz4.level",
                "18",
                "Invalid value 18 for configuration compression.lz4.level: Value must be no more than 17",
            ),
            (
                "compression.zstd.level",
                "23",
                "Invalid value 23 for configuration compression.zstd.level: Value must be no more than 22",
            ),
            (
                "compression.zstd.level",
                "-131073",
                "Invalid value -131073 for configuration compression.zstd.level: Value must be at least -131072",
            ),
            (
                "compression.zstd.level",
                "fast",
                "Invalid value fast for configuration compression.zstd.level: Not a number of type INT",
            ),
        ];
        for (key, value, text) in cases {
            let e = ProducerConfig::from_properties(&[(key, value)])
                .err()
                .map(|e| e.to_string());
            assert_eq!(e.as_deref(), Some(text), "{key}={value}");
        }
        let built = ProducerConfig {
            compression_lz4_level: 0,
            ..Default::default()
        };
        assert_eq!(
            built
                .validate_compression_levels()
                .err()
                .map(|e| e.to_string())
                .as_deref(),
            Some(
                "Invalid value 0 for configuration compression.lz4.level: Value must be at least 1"
            )
        );
    }

    #[test]
    fn unknown_key_is_only_a_warning() {
        assert!(ProducerConfig::from_properties(&[("lingr.ms", "5")]).is_ok());
    }
}
