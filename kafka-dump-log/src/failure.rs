//! A Java exception escaping DumpLogSegments' `main`: the JVM prints `Exception in thread "main"
//! <class>: <message>` on stderr and exits 1. Kafka's tool catches nothing, so every failure
//! (a missing file, a corrupt batch, a bad option) ends this way after whatever was printed.

/// An uncaught exception.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Fully qualified Java class (`java.nio.file.NoSuchFileException`).
    pub class: String,
    /// `getMessage()`; empty for exceptions without one.
    pub message: String,
}

impl Failure {
    pub fn new(class: &str, message: impl Into<String>) -> Self {
        Failure {
            class: class.to_string(),
            message: message.into(),
        }
    }

    /// The file could not be opened or read, as `FileChannel.open` reports it.
    pub fn io(path: &str, e: &std::io::Error) -> Self {
        match e.kind() {
            std::io::ErrorKind::NotFound => Failure::new("java.nio.file.NoSuchFileException", path),
            std::io::ErrorKind::PermissionDenied => {
                Failure::new("java.nio.file.AccessDeniedException", path)
            }
            _ => Failure::new("java.io.IOException", format!("{path}: {e}")),
        }
    }

    /// Java's `Long.parseLong` failure on a file name's offset.
    pub fn number_format(input: &str) -> Self {
        Failure::new(
            "java.lang.NumberFormatException",
            format!("For input string: \"{input}\""),
        )
    }

    /// The line the JVM prints.
    pub fn report(&self) -> String {
        if self.message.is_empty() {
            format!("Exception in thread \"main\" {}\n", self.class)
        } else {
            format!(
                "Exception in thread \"main\" {}: {}\n",
                self.class, self.message
            )
        }
    }
}

/// `file.getName.split("\\.")(0).toLong`: the base offset a segment file is named by.
pub fn base_offset_of(path: &std::path::Path) -> Result<i64, Failure> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let head = name.split('.').next().unwrap_or_default();
    parse_java_long(head).ok_or_else(|| Failure::number_format(head))
}

/// Java's `Long.parseLong`: an optional sign, then ASCII digits.
fn parse_java_long(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn segment_names_give_their_base_offset() {
        assert_eq!(
            base_offset_of(Path::new("/x/00000000000000000042.log")),
            Ok(42)
        );
        assert_eq!(
            base_offset_of(Path::new("/x/abc.index")),
            Err(Failure::number_format("abc"))
        );
        assert_eq!(
            Failure::number_format("abc").report(),
            "Exception in thread \"main\" java.lang.NumberFormatException: For input string: \"abc\"\n"
        );
    }
}
