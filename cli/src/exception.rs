//! The Java exception class Kafka's tools would name for a client error, so that our log lines
//! read like theirs (`org.apache.kafka.common.errors.TopicExistsException: ...`).

use client::error::{error_name, ClientError};
use common::errors::{exception_name_from, ErrorCode};

/// A client error as the Java exception Kafka's client would throw: its class and message.
pub fn java_exception(e: &ClientError) -> java_compat::JavaException {
    java_compat::JavaException::new(exception_class(e), e.to_string())
}

/// `ClientError` -> fully qualified Java exception class name.
pub fn exception_class(e: &ClientError) -> String {
    match e {
        ClientError::Timeout(_) => "org.apache.kafka.common.errors.TimeoutException".to_string(),
        ClientError::UnsupportedVersion(_) => {
            "org.apache.kafka.common.errors.UnsupportedVersionException".to_string()
        }
        ClientError::Kafka { code, .. } => error_class(*code),
        ClientError::Config { .. } | ClientError::InvalidConfig(_) => {
            "org.apache.kafka.common.config.ConfigException".to_string()
        }
        ClientError::Io { .. } => "java.io.IOException".to_string(),
        _ => "org.apache.kafka.common.KafkaException".to_string(),
    }
}

/// `TOPIC_ALREADY_EXISTS` -> `...errors.TopicExistsException`, as Kafka 3.9's `Errors` enum names
/// them ([`ErrorCode::exception_class`]); codes Kafka does not define get
/// `UnknownErrorCodeException`.
pub fn error_class(code: i16) -> String {
    match ErrorCode::from_code(code).filter(|e| !e.is_none()) {
        Some(e) => e.exception_class(),
        None => format!(
            "org.apache.kafka.common.errors.{}",
            exception_name_from(error_name(code))
        ),
    }
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

    /// Errors the client raises from a broker's code: a fenced static member's poll, a
    /// producer's lost connection (Kafka's `Sender`: "Disconnected from node N").
    #[test]
    fn fenced_members_and_lost_connections_name_kafkas_exceptions() {
        assert_eq!(
            exception_class(&ClientError::kafka(82, None)),
            "org.apache.kafka.common.errors.FencedInstanceIdException"
        );
        assert_eq!(
            exception_class(&ClientError::kafka(13, Some("Disconnected from node 1"))),
            "org.apache.kafka.common.errors.NetworkException"
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
