//! A Java exception as Kafka's tools report it: `mainNoExit` prints `getMessage()` and then
//! `Utils.stackTrace(e)`. We print the stack trace's lines that say what was thrown (the
//! exception and its causes) and leave out the Java frames.

use std::fmt;

/// Kafka's `AdminCommandFailedException`.
pub const ADMIN_COMMAND_FAILED: &str = "org.apache.kafka.server.common.AdminCommandFailedException";
/// Kafka's `AdminOperationException`.
pub const ADMIN_OPERATION: &str = "org.apache.kafka.server.common.AdminOperationException";
/// The tools' `TerseException` (printed without a stack trace).
pub const TERSE: &str = "org.apache.kafka.tools.TerseException";
/// `java.lang.RuntimeException`.
pub const RUNTIME: &str = "java.lang.RuntimeException";
/// `java.util.concurrent.ExecutionException`, what a failed `KafkaFuture.get()` throws.
pub const EXECUTION: &str = "java.util.concurrent.ExecutionException";
/// Jackson's `JsonMappingException`, what Kafka's JSON decoders throw.
pub const JSON_MAPPING: &str = "com.fasterxml.jackson.databind.JsonMappingException";
/// `java.lang.NumberFormatException`.
pub const NUMBER_FORMAT: &str = "java.lang.NumberFormatException";

/// A Java exception: its class, its message (`None` is Java's null) and its cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JavaException {
    pub class: String,
    pub message: Option<String>,
    pub cause: Option<Box<JavaException>>,
}

impl JavaException {
    pub fn new(class: impl Into<String>, message: impl Into<String>) -> Self {
        JavaException {
            class: class.into(),
            message: Some(message.into()),
            cause: None,
        }
    }

    /// `new RuntimeException(cause)` (or another wrapper class): its message is the cause's
    /// `toString()`.
    pub fn wrapping(class: impl Into<String>, cause: JavaException) -> Self {
        JavaException {
            class: class.into(),
            message: Some(cause.to_string()),
            cause: Some(Box::new(cause)),
        }
    }

    pub fn caused_by(mut self, cause: JavaException) -> Self {
        self.cause = Some(Box::new(cause));
        self
    }

    /// `getMessage()`, `null` when there is none.
    pub fn message_or_null(&self) -> &str {
        self.message.as_deref().unwrap_or("null")
    }

    /// The stack trace's lines without frames: the exception, then each cause.
    pub fn trace(&self) -> String {
        let mut out = format!("{self}\n");
        let mut cause = self.cause.as_deref();
        while let Some(c) = cause {
            out.push_str(&format!("Caused by: {c}\n"));
            cause = c.cause.as_deref();
        }
        out
    }

    /// What most tools' `mainNoExit` prints for an exception: the message, then the trace.
    pub fn report(&self) -> String {
        format!("{}\n{}", self.message_or_null(), self.trace())
    }
}

/// Java's `Throwable.toString()`: the class, then `: message` when there is one.
impl fmt::Display for JavaException {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.message {
            Some(m) => write!(f, "{}: {m}", self.class),
            None => f.write_str(&self.class),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_is_the_message_then_the_exception_and_its_causes() {
        let e = JavaException::wrapping(
            RUNTIME,
            JavaException::new(TERSE, "Invalid rule specification: a:b"),
        );
        assert_eq!(
            e.report(),
            "org.apache.kafka.tools.TerseException: Invalid rule specification: a:b\n\
             java.lang.RuntimeException: org.apache.kafka.tools.TerseException: Invalid rule specification: a:b\n\
             Caused by: org.apache.kafka.tools.TerseException: Invalid rule specification: a:b\n"
        );
        let bare = JavaException {
            class: "java.lang.NullPointerException".into(),
            message: None,
            cause: None,
        };
        assert_eq!(bare.report(), "null\njava.lang.NullPointerException\n");
    }
}
