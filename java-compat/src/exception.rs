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

    /// `new RuntimeException(cause)`.
    pub fn runtime(cause: JavaException) -> Self {
        JavaException::wrapping(RUNTIME, cause)
    }

    /// The exception `Files.readAllBytes(path)` throws for `e` (what `Utils.readFileAsString`
    /// and the tools' JSON-file readers pass on).
    pub fn from_read_error(path: &str, e: &std::io::Error) -> Self {
        match e.kind() {
            std::io::ErrorKind::NotFound => {
                JavaException::new("java.nio.file.NoSuchFileException", path)
            }
            std::io::ErrorKind::PermissionDenied => {
                JavaException::new("java.nio.file.AccessDeniedException", path)
            }
            std::io::ErrorKind::IsADirectory => {
                JavaException::new("java.io.IOException", "Is a directory")
            }
            _ => JavaException::new("java.io.IOException", e.to_string()),
        }
    }

    /// `new RuntimeException(cause)` (or another wrapper class): its message is the cause's
    /// `toString()`.
    pub fn wrapping(class: impl Into<String>, cause: JavaException) -> Self {
        JavaException {
            class: class.into(),
            message: Some(cause.to_string()),
            cause: Some(Box::new(cause)),
            suppressed: Vec::new(),
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

    /// The stack trace's lines without frames: the exception, its suppressed exceptions
    /// (indented, `Suppressed: `), then each cause (`Caused by: `).
    pub fn trace(&self) -> String {
        let mut out = String::new();
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

    /// The first line the JVM prints for an exception escaping `main` (its stack frames left
    /// out): `Exception in thread "main" class: message`.
    pub fn uncaught(&self) -> String {
        format!("Exception in thread \"main\" {self}")
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
            suppressed: Vec::new(),
        };
        assert_eq!(bare.report(), "null\njava.lang.NullPointerException\n");
    }

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
