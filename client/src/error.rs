//! The one error type of the client library. A broker's error code becomes
//! [`ClientError::Kafka`], whose text is what Kafka's own tools would print for it.

use std::sync::Arc;

use common::errors::ErrorCode;

/// The error a wire code names, `NONE` (0) and codes Kafka 3.9 does not define left out.
fn known_error(code: i16) -> Option<ErrorCode> {
    ErrorCode::from_code(code).filter(|e| !e.is_none())
}

/// The Kafka name of an error code (`TOPIC_ALREADY_EXISTS`), or `UNKNOWN_ERROR_CODE` for codes
/// Kafka 3.9 does not define (and for 0, which is no error).
pub fn error_name(code: i16) -> &'static str {
    known_error(code).map_or("UNKNOWN_ERROR_CODE", ErrorCode::name)
}

/// Kafka's default message for an error code (`Errors.message()`); unknown codes get a generic
/// text naming the code. The CLI tools print these when a broker sends no error message.
pub fn default_message(code: i16) -> String {
    match known_error(code) {
        Some(e) => e.message().to_string(),
        None => format!("Unknown error code {code}."),
    }
}

/// Error codes whose condition may go away on its own ([`ErrorCode::is_retriable`]): the client
/// refreshes metadata and retries these.
pub fn is_retriable(code: i16) -> bool {
    ErrorCode::from_code(code).is_some_and(ErrorCode::is_retriable)
}

/// Errors after which the client's view of partition leadership is stale
/// ([`ErrorCode::invalidates_metadata`]).
pub fn invalidates_metadata(code: i16) -> bool {
    ErrorCode::from_code(code).is_some_and(ErrorCode::invalidates_metadata)
}

/// Everything that can go wrong talking to a Kafka cluster.
///
/// `Clone` because one failed request fails many waiting records at once (every delivery future
/// of a batch gets the same error).
#[derive(Debug, Clone, thiserror::Error)]
pub enum ClientError {
    /// The TCP connection failed or was closed.
    #[error("I/O error talking to {peer}: {source}")]
    Io {
        peer: String,
        #[source]
        source: Arc<std::io::Error>,
    },
    /// The peer sent bytes we could not make sense of, or we could not encode a request.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// A deadline passed; the text is Kafka's `TimeoutException` message where one exists.
    #[error("{0}")]
    Timeout(String),
    /// The broker answered with an error code. `message` is the broker's error message when it sent
    /// one, else Kafka's default text for the code.
    #[error("{message}")]
    Kafka { code: i16, message: String },
    /// The broker does not offer an API (or no version of it we speak).
    #[error("{0}")]
    UnsupportedVersion(String),
    /// A configuration key has a value we cannot use.
    #[error("Invalid value {value} for configuration {key}: {reason}")]
    Config {
        key: String,
        value: String,
        reason: String,
    },
    /// A configuration Kafka's client refuses with a text of its own (`new
    /// ConfigException(message)`), e.g. `Invalid url in bootstrap.servers: localhost`.
    #[error("{0}")]
    InvalidConfig(String),
    /// An argument given to the library is out of range (e.g. a partition that does not exist).
    #[error("{0}")]
    InvalidArgument(String),
    /// A call made in a state that does not allow it (Java's `IllegalStateException`), e.g.
    /// `begin_transaction` before `init_transactions`.
    #[error("{0}")]
    IllegalState(String),
    /// A transaction cannot go on (Java's `KafkaException` from the `TransactionManager`), e.g.
    /// a commit after a record of the transaction failed.
    #[error("{0}")]
    Transaction(String),
    /// The producer or consumer was closed while the operation was pending.
    #[error("{0}")]
    Closed(String),
}

/// A ConsumerProtocol codec failure is a protocol error (the text keeps the codec's
/// `malformed consumer protocol bytes: ...`).
impl From<common::consumer_protocol::ConsumerProtocolError> for ClientError {
    fn from(e: common::consumer_protocol::ConsumerProtocolError) -> Self {
        ClientError::Protocol(e.to_string())
    }
}

impl ClientError {
    /// The Kafka error code behind this error, if it came from a broker (35 for a local
    /// unsupported-version error too, as the Java client's `UnsupportedVersionException`).
    pub fn code(&self) -> Option<i16> {
        match self {
            ClientError::Kafka { code, .. } => Some(*code),
            ClientError::UnsupportedVersion(_) => Some(35),
            _ => None,
        }
    }

    /// Builds the error for a broker error code, using the broker's message when present and
    /// not empty.
    pub fn kafka(code: i16, message: Option<&str>) -> Self {
        let message = match message {
            Some(m) if !m.is_empty() => m.to_string(),
            _ => default_message(code),
        };
        ClientError::Kafka { code, message }
    }

    /// `Ok(())` for error code 0, else the Kafka error.
    pub fn check(code: i16, message: Option<&str>) -> Result<(), ClientError> {
        if code == 0 {
            Ok(())
        } else {
            Err(Self::kafka(code, message))
        }
    }

    pub(crate) fn io(peer: &str, source: std::io::Error) -> Self {
        ClientError::Io {
            peer: peer.to_string(),
            source: Arc::new(source),
        }
    }

    /// Whether retrying (after a metadata refresh) may succeed: broker errors Kafka calls
    /// retriable, lost connections and request timeouts.
    pub fn is_retriable(&self) -> bool {
        match self {
            ClientError::Kafka { code, .. } => is_retriable(*code),
            ClientError::Io { .. } | ClientError::Timeout(_) => true,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_errors_have_kafkas_texts() {
        assert_eq!(default_message(36), "Topic with this name already exists.");
        assert_eq!(
            default_message(38),
            "Replication factor is below 1 or larger than the number of available brokers."
        );
        assert_eq!(error_name(3), "UNKNOWN_TOPIC_OR_PARTITION");
        assert_eq!(
            default_message(3),
            "This server does not host this topic-partition."
        );
        assert_eq!(error_name(35), "UNSUPPORTED_VERSION");
        assert_eq!(error_name(-1), "UNKNOWN_SERVER_ERROR");
    }

    #[test]
    fn unknown_code_names_the_code() {
        assert_eq!(default_message(12345), "Unknown error code 12345.");
        assert_eq!(error_name(12345), "UNKNOWN_ERROR_CODE");
    }

    #[test]
    fn kafka_error_displays_broker_message_when_present() {
        let e = ClientError::kafka(36, Some("Topic 'test' already exists."));
        assert_eq!(e.to_string(), "Topic 'test' already exists.");
        assert_eq!(e.code(), Some(36));
    }

    #[test]
    fn kafka_error_falls_back_to_default_text() {
        assert_eq!(
            ClientError::kafka(36, None).to_string(),
            "Topic with this name already exists."
        );
        assert_eq!(
            ClientError::kafka(36, Some("")).to_string(),
            "Topic with this name already exists."
        );
    }

    #[test]
    fn check_passes_code_zero() {
        assert!(ClientError::check(0, None).is_ok());
        assert!(ClientError::check(3, None).is_err());
    }
}
