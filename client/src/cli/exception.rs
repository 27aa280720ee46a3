//! The Java exception class Kafka's tools would name for a client error, so that our log lines
//! read like theirs (`org.apache.kafka.common.errors.TopicExistsException: ...`).

use crate::error::{error_name, ClientError};

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
/// error name, a few are not.
pub fn error_class(code: i16) -> String {
    let special = match code {
        3 => Some("UnknownTopicOrPartitionException"),
        7 => Some("TimeoutException"),
        36 => Some("TopicExistsException"),
        40 => Some("InvalidConfigurationException"),
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
}
