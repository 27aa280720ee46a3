//! The console's one error type: a message and the HTTP status it is answered with. The JSON API
//! answers `{"error": <status text>, "message": <text>}`; the HTML pages show the message on a
//! readable error page (see `web`). A Kafka error keeps Kafka's text and picks the status from
//! its code: unknown topic 404, already exists / non-empty group 409, invalid input 400,
//! timeouts 504, a record too large 413, anything else the cluster answered 502.

use axum::http::StatusCode;
use client::ClientError;
use common::errors::codes;

/// An error to show the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleError {
    pub status: StatusCode,
    pub message: String,
}

impl ConsoleError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ConsoleError {
            status,
            message: message.into(),
        }
    }

    /// Bad input from the user (400).
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// Something that does not exist (404).
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// A request the current state refuses (409), e.g. resetting an active group.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }
}

impl std::fmt::Display for ConsoleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The HTTP status for a Kafka error code.
fn status_of_code(code: i16) -> StatusCode {
    match code {
        codes::UNKNOWN_TOPIC_OR_PARTITION | codes::GROUP_ID_NOT_FOUND => StatusCode::NOT_FOUND,
        codes::TOPIC_ALREADY_EXISTS | codes::NON_EMPTY_GROUP | codes::REBALANCE_IN_PROGRESS => {
            StatusCode::CONFLICT
        }
        codes::INVALID_TOPIC_EXCEPTION
        | codes::INVALID_PARTITIONS
        | codes::INVALID_REPLICATION_FACTOR
        | codes::INVALID_REPLICA_ASSIGNMENT
        | codes::INVALID_CONFIG
        | codes::INVALID_REQUEST
        | codes::POLICY_VIOLATION
        | codes::OFFSET_OUT_OF_RANGE
        | codes::UNKNOWN_MEMBER_ID => StatusCode::BAD_REQUEST,
        codes::TOPIC_AUTHORIZATION_FAILED
        | codes::GROUP_AUTHORIZATION_FAILED
        | codes::CLUSTER_AUTHORIZATION_FAILED => StatusCode::FORBIDDEN,
        // Kafka's RecordTooLargeException / RecordBatchTooLargeException.
        codes::MESSAGE_TOO_LARGE | codes::RECORD_LIST_TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
        codes::REQUEST_TIMED_OUT => StatusCode::GATEWAY_TIMEOUT,
        _ => StatusCode::BAD_GATEWAY,
    }
}

impl From<ClientError> for ConsoleError {
    fn from(e: ClientError) -> Self {
        let status = match &e {
            ClientError::Kafka { code, .. } => status_of_code(*code),
            ClientError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            ClientError::InvalidArgument(_)
            | ClientError::Config { .. }
            | ClientError::InvalidConfig(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::BAD_GATEWAY,
        };
        let mut message = e.to_string();
        // Kafka's text when no broker could be reached at all says what timed out, not why.
        if message.starts_with("Timed out waiting for a node assignment") {
            message.push_str(
                " (no broker answered: is the cluster running and reachable at the console's \
                 --bootstrap-server?)",
            );
        }
        ConsoleError::new(status, message)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn kafka_errors_keep_their_text_and_get_a_fitting_status() {
        let e: ConsoleError = ClientError::kafka(codes::TOPIC_ALREADY_EXISTS, None).into();
        assert_eq!(e.status, StatusCode::CONFLICT);
        assert!(!e.message.is_empty());
        let e: ConsoleError = ClientError::kafka(codes::UNKNOWN_TOPIC_OR_PARTITION, None).into();
        assert_eq!(e.status, StatusCode::NOT_FOUND);
        let e: ConsoleError = ClientError::Timeout("Timed out".into()).into();
        assert_eq!(e.status, StatusCode::GATEWAY_TIMEOUT);
        let e: ConsoleError = ClientError::Timeout(
            "Timed out waiting for a node assignment. Call: describeCluster".into(),
        )
        .into();
        assert_eq!(
            e.message,
            "Timed out waiting for a node assignment. Call: describeCluster (no broker answered: \
             is the cluster running and reachable at the console's --bootstrap-server?)"
        );
    }

    #[test]
    fn a_record_too_large_is_a_413_with_kafkas_text() {
        let e: ConsoleError = ClientError::kafka(codes::MESSAGE_TOO_LARGE, None).into();
        assert_eq!(e.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(
            e.message.contains("larger than the max message size"),
            "{}",
            e.message
        );
    }
}
