//! Java `.properties` files (`--producer.config`, `--consumer.config`, `--command-config`) and
//! `key=value` argument lists (`--property`, `--producer-property`, `--consumer-property`).

use std::path::Path;

use indexmap::IndexMap;

/// Ordered key/value settings; a later `set` of the same key replaces the value in place.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Properties(IndexMap<String, String>);

impl Properties {
    pub fn new() -> Self {
        Properties::default()
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    pub fn contains(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.0.insert(key.into(), value.into());
    }

    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.0.shift_remove(key)
    }

    /// Copies every entry of `other` over this one (Java's `putAll`).
    pub fn extend(&mut self, other: &Properties) {
        for (k, v) in &other.0 {
            self.set(k.clone(), v.clone());
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The entries as owned pairs, for config builders that take `&[(String, String)]`.
    pub fn to_pairs(&self) -> Vec<(String, String)> {
        self.0.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PropertiesError {
    #[error("cannot read properties file {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl PropertiesError {
    /// `getMessage()` of the exception Java's `Files.newInputStream` throws: the path for a
    /// missing or unreadable file, the reason otherwise.
    pub fn java_message(&self) -> String {
        match self {
            PropertiesError::Io { path, source } => match source.kind() {
                std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => path.clone(),
                std::io::ErrorKind::IsADirectory => "Is a directory".to_string(),
                _ => source.to_string(),
            },
        }
    }

    /// The class of the exception Java's `Files.newInputStream` throws (what `Utils.loadProps`
    /// lets through): `NoSuchFileException`, `AccessDeniedException`, else `IOException`.
    pub fn java_class(&self) -> &'static str {
        match self {
            PropertiesError::Io { source, .. } => match source.kind() {
                std::io::ErrorKind::NotFound => "java.nio.file.NoSuchFileException",
                std::io::ErrorKind::PermissionDenied => "java.nio.file.AccessDeniedException",
                _ => "java.io.IOException",
            },
        }
    }

    /// The exception as `printStackTrace` starts it, e.g.
    /// `java.nio.file.NoSuchFileException: /etc/missing.properties`.
    pub fn java_exception(&self) -> String {
        format!("{}: {}", self.java_class(), self.java_message())
    }
}

/// `Utils.loadProps(path)`.
pub fn load_properties(path: impl AsRef<Path>) -> Result<Properties, PropertiesError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| PropertiesError::Io {
        path: path.display().to_string(),
        source,
    })?;
    Ok(parse_properties(&String::from_utf8_lossy(&bytes)))
}

/// Parses `.properties` text as `java.util.Properties.load` does (`common::properties`); a
/// later key replaces an earlier one's value in place.
pub fn parse_properties(text: &str) -> Properties {
    let mut props = Properties::new();
    for (key, value) in common::properties::parse(text) {
        props.set(key, value);
    }
    props
}

/// `CommandLineUtils.parseKeyValueArgs`: `k=v` (the value may contain `=`); `k` alone or `k=`
/// gives an empty value.
pub fn parse_key_value_args<S: AsRef<str>>(args: &[S]) -> Properties {
    let mut props = Properties::new();
    for arg in args {
        let arg = arg.as_ref();
        match arg.split_once('=') {
            Some((k, v)) => props.set(k, v),
            None => props.set(arg, ""),
        }
    }
    props
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn properties_file_syntax_like_java() {
        let text = "# comment\n! also\n\nbootstrap.servers=localhost:9092\n  acks : all\nlinger.ms 5\r\nmulti=a,\\\n    b\nescaped\\ key=tab\\there\nempty=\nunicode=\\u0041\r";
        let p = parse_properties(text);
        assert_eq!(p.get("bootstrap.servers"), Some("localhost:9092"));
        assert_eq!(p.get("acks"), Some("all"));
        assert_eq!(p.get("linger.ms"), Some("5"));
        assert_eq!(p.get("multi"), Some("a,b"));
        assert_eq!(p.get("escaped key"), Some("tab\there"));
        assert_eq!(p.get("empty"), Some(""));
        assert_eq!(p.get("unicode"), Some("A"));
        assert_eq!(p.len(), 7);
    }

    #[test]
    fn later_key_wins() {
        let p = parse_properties("a=1\na=2\n");
        assert_eq!(p.get("a"), Some("2"));
    }

    #[test]
    fn key_value_args_split_on_first_equals() {
        let p = parse_key_value_args(&["a=b=c", "flag", "e=", "a=z"]);
        assert_eq!(p.get("a"), Some("z"));
        assert_eq!(p.get("flag"), Some(""));
        assert_eq!(p.get("e"), Some(""));
        let p = parse_key_value_args(&["a=b=c"]);
        assert_eq!(p.get("a"), Some("b=c"));
    }

    #[test]
    fn missing_file_error_names_the_path() {
        let err = load_properties("/nonexistent/x.properties").unwrap_err();
        assert!(err.to_string().contains("/nonexistent/x.properties"));
    }

    #[test]
    fn load_from_file() {
        let dir = std::env::temp_dir().join(format!("cli-props-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("p.properties");
        std::fs::write(&path, "client.id=me\n").unwrap();
        assert_eq!(load_properties(&path).unwrap().get("client.id"), Some("me"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_missing_file_is_javas_no_such_file_exception() {
        let e = load_properties("/nonexistent/x.properties").unwrap_err();
        assert_eq!(
            e.java_exception(),
            "java.nio.file.NoSuchFileException: /nonexistent/x.properties"
        );
        assert_eq!(e.java_message(), "/nonexistent/x.properties");
        assert_eq!(e.java_class(), "java.nio.file.NoSuchFileException");
    }

    #[test]
    fn a_directory_is_javas_io_exception() {
        let e = load_properties(std::env::temp_dir()).unwrap_err();
        assert_eq!(e.java_class(), "java.io.IOException");
        assert_eq!(e.java_exception(), "java.io.IOException: Is a directory");
    }
}
