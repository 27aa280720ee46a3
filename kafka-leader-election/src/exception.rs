//! How kafka-leader-election fails: `LeaderElectionCommand.mainNoExit` catches every exception
//! and prints its message and its stack trace on stderr, then exits 1. We print the stack trace's
//! lines that say what was thrown (the exception, its suppressed exceptions, its causes) and
//! leave out the Java frames.

use std::fmt;

/// Kafka's `AdminCommandFailedException`, which the tool throws for bad usage and failed
/// elections.
pub const ADMIN_COMMAND_FAILED: &str = "org.apache.kafka.server.common.AdminCommandFailedException";
/// Kafka's `AdminOperationException`, thrown for a bad `--path-to-json-file`.
pub const ADMIN_OPERATION: &str = "org.apache.kafka.server.common.AdminOperationException";
/// What the tool wraps checked exceptions in.
pub const RUNTIME: &str = "java.lang.RuntimeException";

/// A Java exception: its class, its message (`None` is Java's null), what it was caused by and
/// the exceptions added to it with `addSuppressed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JavaException {
    pub class: String,
    pub message: Option<String>,
    pub cause: Option<Box<JavaException>>,
    pub suppressed: Vec<JavaException>,
}

impl JavaException {
    pub fn new(class: impl Into<String>, message: impl Into<String>) -> Self {
        JavaException {
            class: class.into(),
            message: Some(message.into()),
            cause: None,
            suppressed: Vec::new(),
        }
    }

    /// `new AdminCommandFailedException(message)`.
    pub fn admin_command_failed(message: impl Into<String>) -> Self {
        JavaException::new(ADMIN_COMMAND_FAILED, message)
    }

    /// `new RuntimeException(cause)`: its message is the cause's `toString()`.
    pub fn runtime(cause: JavaException) -> Self {
        JavaException {
            class: RUNTIME.to_string(),
            message: Some(cause.to_string()),
            cause: Some(Box::new(cause)),
            suppressed: Vec::new(),
        }
    }

    pub fn caused_by(mut self, cause: JavaException) -> Self {
        self.cause = Some(Box::new(cause));
        self
    }

    /// What `mainNoExit` prints: `getMessage()` (`null` when there is none), then the stack
    /// trace's lines without the frames.
    pub fn report(&self) -> String {
        let mut out = format!("{}\n", self.message.as_deref().unwrap_or("null"));
        self.trace_lines("", "", &mut out);
        out
    }

    fn trace_lines(&self, indent: &str, caption: &str, out: &mut String) {
        out.push_str(&format!("{indent}{caption}{self}\n"));
        let inner = format!("{indent}\t");
        for s in &self.suppressed {
            s.trace_lines(&inner, "Suppressed: ", out);
        }
        if let Some(cause) = &self.cause {
            cause.trace_lines(indent, "Caused by: ", out);
        }
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
    fn report_is_the_message_then_the_exception_its_suppressed_and_its_cause() {
        let mut failed = JavaException::admin_command_failed("2 replica(s) could not be elected");
        failed.suppressed = vec![
            JavaException::new("org.apache.kafka.common.errors.X", "x"),
            JavaException::new("org.apache.kafka.common.errors.Y", "y"),
        ];
        assert_eq!(
            failed.report(),
            "2 replica(s) could not be elected\n\
             org.apache.kafka.server.common.AdminCommandFailedException: 2 replica(s) could not be elected\n\
             \tSuppressed: org.apache.kafka.common.errors.X: x\n\
             \tSuppressed: org.apache.kafka.common.errors.Y: y\n"
        );
        let wrapped =
            JavaException::runtime(JavaException::new("java.io.IOException", "Is a directory"));
        assert_eq!(
            wrapped.report(),
            "java.io.IOException: Is a directory\n\
             java.lang.RuntimeException: java.io.IOException: Is a directory\n\
             Caused by: java.io.IOException: Is a directory\n"
        );
    }
}
