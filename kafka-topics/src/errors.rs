//! How a failed kafka-topics command is reported: `Error while executing topic command : <msg>`
//! on stdout and, like Kafka's `LOG.error(stackTrace)`, an ERROR line naming the exception class
//! on stderr.

use client::ClientError;

pub const LOGGER: &str = "org.apache.kafka.tools.TopicCommand";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandError {
    /// The Java exception class Kafka would have thrown, for the log line.
    pub exception: String,
    pub message: String,
}

impl CommandError {
    /// Kafka's `IllegalArgumentException` (client-side checks).
    pub fn illegal(message: impl Into<String>) -> Self {
        CommandError {
            exception: "java.lang.IllegalArgumentException".into(),
            message: message.into(),
        }
    }

    /// The stdout line.
    pub fn stdout_line(&self) -> String {
        format!("Error while executing topic command : {}", self.message)
    }

    /// The message of the stderr log line.
    pub fn log_message(&self) -> String {
        format!("{}: {}", self.exception, self.message)
    }
}

impl From<ClientError> for CommandError {
    fn from(e: ClientError) -> Self {
        CommandError {
            exception: cli::exception::exception_class(&e),
            message: e.to_string(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn broker_error_is_reported_with_kafkas_prefix_and_class() {
        let e = CommandError::from(ClientError::kafka(36, Some("Topic 'test' already exists.")));
        assert_eq!(
            e.stdout_line(),
            "Error while executing topic command : Topic 'test' already exists."
        );
        assert_eq!(
            e.log_message(),
            "org.apache.kafka.common.errors.TopicExistsException: Topic 'test' already exists."
        );
        let e = CommandError::from(ClientError::kafka(38, None));
        assert_eq!(
            e.exception,
            "org.apache.kafka.common.errors.InvalidReplicationFactorException"
        );
    }
}
