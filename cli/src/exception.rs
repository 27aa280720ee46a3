//! The Java exception class Kafka's tools would name for a client error, so that our log lines
//! read like theirs (`org.apache.kafka.common.errors.TopicExistsException: ...`).

use client::error::{error_name, ClientError};

/// `ClientError` -> fully qualified Java exception class name.
pub fn exception_class(e: &ClientError) -> String {
    match e {
        ClientError::Timeout(_) => "org.apache.kafka.common.errors.TimeoutException".to_string(),
        ClientError::UnsupportedVersion(_) => {
            "org.apache.kafka.common.errors.UnsupportedVersionException".to_string()
        }
        ClientError::Kafka { code, .. } => error_class(*code),
        ClientError::Config { .. } => "org.apache.kafka.common.config.ConfigException".to_string(),
        ClientError::Io { .. } => "java.io.IOException".to_string(),
        _ => "org.apache.kafka.common.KafkaException".to_string(),
    }
}

/// `TOPIC_ALREADY_EXISTS` -> `...errors.TopicExistsException`; most classes are the camel-cased
/// error name, the others are listed as Kafka 3.9's `Errors` enum names them (e.g.
/// `MESSAGE_TOO_LARGE` is a `RecordTooLargeException`).
pub fn error_class(code: i16) -> String {
    let special = match code {
        -1 => Some("UnknownServerException"),
        2 => Some("CorruptRecordException"),
        3 => Some("UnknownTopicOrPartitionException"),
        7 => Some("TimeoutException"),
        10 => Some("RecordTooLargeException"),
        11 => Some("ControllerMovedException"),
        12 => Some("OffsetMetadataTooLarge"),
        18 => Some("RecordBatchTooLargeException"),
        29 => Some("TopicAuthorizationException"),
        30 => Some("GroupAuthorizationException"),
        31 => Some("ClusterAuthorizationException"),
        36 => Some("TopicExistsException"),
        40 => Some("InvalidConfigurationException"),
        45 => Some("OutOfOrderSequenceException"),
        46 => Some("DuplicateSequenceException"),
        49 => Some("InvalidPidMappingException"),
        50 => Some("InvalidTxnTimeoutException"),
        53 => Some("TransactionalIdAuthorizationException"),
        56 => Some("KafkaStorageException"),
        58 => Some("SaslAuthenticationException"),
        61 => Some("DelegationTokenDisabledException"),
        64 => Some("UnsupportedByAuthenticationException"),
        65 => Some("DelegationTokenAuthorizationException"),
        68 => Some("GroupNotEmptyException"),
        97 => Some("PrincipalDeserializationException"),
        106 => Some("FetchSessionTopicIdException"),
        _ => None,
    };
    let simple = match special {
        Some(s) => s.to_string(),
        None => {
            let camel: String = error_name(code)
                .split('_')
                .map(|w| {
                    let lower = w.to_ascii_lowercase();
                    let mut chars = lower.chars();
                    match chars.next() {
                        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                        None => String::new(),
                    }
                })
                .collect();
            // Some names already end in EXCEPTION (INVALID_TOPIC_EXCEPTION).
            let base = camel.strip_suffix("Exception").unwrap_or(&camel);
            format!("{base}Exception")
        }
    };
    format!("org.apache.kafka.common.errors.{simple}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kafka_codes_map_to_java_exception_classes() {
        assert_eq!(
            exception_class(&ClientError::kafka(36, None)),
            "org.apache.kafka.common.errors.TopicExistsException"
        );
        assert_eq!(
            exception_class(&ClientError::kafka(38, None)),
            "org.apache.kafka.common.errors.InvalidReplicationFactorException"
        );
        assert_eq!(
            exception_class(&ClientError::kafka(17, None)),
            "org.apache.kafka.common.errors.InvalidTopicException"
        );
        assert_eq!(
            exception_class(&ClientError::Timeout("x".into())),
            "org.apache.kafka.common.errors.TimeoutException"
        );
    }

    #[test]
    fn classes_whose_names_differ_from_the_error_name_follow_kafkas_errors_enum() {
        assert_eq!(
            error_class(10),
            "org.apache.kafka.common.errors.RecordTooLargeException"
        );
        assert_eq!(
            error_class(18),
            "org.apache.kafka.common.errors.RecordBatchTooLargeException"
        );
        assert_eq!(
            error_class(2),
            "org.apache.kafka.common.errors.CorruptRecordException"
        );
        assert_eq!(
            error_class(29),
            "org.apache.kafka.common.errors.TopicAuthorizationException"
        );
        assert_eq!(
            error_class(-1),
            "org.apache.kafka.common.errors.UnknownServerException"
        );
    }
}
