//! Kafka's `DefaultMessageFormatter`: which fields of a record are printed, in which order, with
//! which separators, configured by the `--property` keys.

use cli::Properties;

use crate::deserializer::Deserializer;

/// How the record's timestamp was set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampKind {
    CreateTime,
    LogAppendTime,
    NoTimestamp,
}

/// A consumed record as the formatter sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordView {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub timestamp: i64,
    pub timestamp_kind: TimestampKind,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageFormatter {
    pub print_timestamp: bool,
    pub print_key: bool,
    pub print_value: bool,
    pub print_partition: bool,
    pub print_offset: bool,
    pub print_headers: bool,
    pub key_separator: Vec<u8>,
    pub line_separator: Vec<u8>,
    pub headers_separator: Vec<u8>,
    pub null_literal: Vec<u8>,
    /// `NoOpMessageFormatter` prints nothing.
    pub no_op: bool,
    /// `key.deserializer`, `value.deserializer`, `headers.deserializer`.
    pub key_deserializer: Option<Deserializer>,
    pub value_deserializer: Option<Deserializer>,
    pub headers_deserializer: Option<Deserializer>,
    /// Deserializer classes named but not known: Kafka logs "Unable to instantiate a
    /// deserializer from <class>" and prints the field's bytes as they are.
    pub unknown_deserializers: Vec<String>,
}

/// A record the formatter could not finish: `written` is what `writeTo` had already printed
/// when the deserializer threw `exception` (the Java exception text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatFailure {
    pub written: Vec<u8>,
    pub exception: String,
}

impl Default for MessageFormatter {
    fn default() -> Self {
        MessageFormatter {
            print_timestamp: false,
            print_key: false,
            print_value: true,
            print_partition: false,
            print_offset: false,
            print_headers: false,
            key_separator: b"\t".to_vec(),
            line_separator: b"\n".to_vec(),
            headers_separator: b",".to_vec(),
            null_literal: b"null".to_vec(),
            no_op: false,
            key_deserializer: None,
            value_deserializer: None,
            headers_deserializer: None,
            unknown_deserializers: Vec::new(),
        }
    }
}

/// `trim().equalsIgnoreCase("true")`.
fn is_true(v: &str) -> bool {
    v.trim().eq_ignore_ascii_case("true")
}

impl MessageFormatter {
    /// `DefaultMessageFormatter.configure`.
    pub fn from_properties(props: &Properties) -> Self {
        let mut f = MessageFormatter::default();
        let flags: [(&str, &mut bool); 6] = [
            ("print.timestamp", &mut f.print_timestamp),
            ("print.key", &mut f.print_key),
            ("print.value", &mut f.print_value),
            ("print.partition", &mut f.print_partition),
            ("print.offset", &mut f.print_offset),
            ("print.headers", &mut f.print_headers),
        ];
        for (key, field) in flags {
            if let Some(v) = props.get(key) {
                *field = is_true(v);
            }
        }
        let texts: [(&str, &mut Vec<u8>); 4] = [
            ("key.separator", &mut f.key_separator),
            ("line.separator", &mut f.line_separator),
            ("headers.separator", &mut f.headers_separator),
            ("null.literal", &mut f.null_literal),
        ];
        for (key, field) in texts {
            if let Some(v) = props.get(key) {
                *field = v.as_bytes().to_vec();
            }
        }
        let mut unknown = Vec::new();
        let mut deserializer = |key: &str| {
            let name = props.get(key)?;
            let d = Deserializer::for_class(name);
            if d.is_none() {
                unknown.push(name.to_string());
            }
            d
        };
        f.key_deserializer = deserializer("key.deserializer");
        f.value_deserializer = deserializer("value.deserializer");
        f.headers_deserializer = deserializer("headers.deserializer");
        f.unknown_deserializers = unknown;
        f
    }

    /// `deserialize`: the field (or the null literal) through the deserializer, if any.
    fn field(&self, d: Option<Deserializer>, b: &Option<Vec<u8>>) -> Result<Vec<u8>, String> {
        let bytes = b.as_deref().unwrap_or(&self.null_literal);
        match d {
            None => Ok(bytes.to_vec()),
            Some(d) => d.deserialize(bytes).map(String::into_bytes),
        }
    }

    fn separator(&self, out: &mut Vec<u8>, more: bool) {
        out.extend_from_slice(if more {
            &self.key_separator
        } else {
            &self.line_separator
        });
    }

    /// The bytes `writeTo` prints for one record, or what it printed before a deserializer
    /// threw.
    pub fn format(&self, r: &RecordView) -> Result<Vec<u8>, FormatFailure> {
        let mut out = Vec::new();
        if self.no_op {
            return Ok(out);
        }
        if self.print_timestamp {
            match r.timestamp_kind {
                TimestampKind::CreateTime => {
                    out.extend_from_slice(format!("CreateTime:{}", r.timestamp).as_bytes())
                }
                TimestampKind::LogAppendTime => {
                    out.extend_from_slice(format!("LogAppendTime:{}", r.timestamp).as_bytes())
                }
                TimestampKind::NoTimestamp => out.extend_from_slice(b"NO_TIMESTAMP"),
            }
            self.separator(
                &mut out,
                self.print_partition
                    || self.print_offset
                    || self.print_headers
                    || self.print_key
                    || self.print_value,
            );
        }
        if self.print_partition {
            out.extend_from_slice(format!("Partition:{}", r.partition).as_bytes());
            self.separator(
                &mut out,
                self.print_offset || self.print_headers || self.print_key || self.print_value,
            );
        }
        if self.print_offset {
            out.extend_from_slice(format!("Offset:{}", r.offset).as_bytes());
            self.separator(
                &mut out,
                self.print_headers || self.print_key || self.print_value,
            );
        }
        if self.print_headers {
            if r.headers.is_empty() {
                out.extend_from_slice(b"NO_HEADERS");
            } else {
                for (i, (k, v)) in r.headers.iter().enumerate() {
                    if i > 0 {
                        out.extend_from_slice(&self.headers_separator);
                    }
                    out.extend_from_slice(k.as_bytes());
                    out.push(b':');
                    match self.field(self.headers_deserializer, v) {
                        Ok(text) => out.extend_from_slice(&text),
                        Err(exception) => {
                            return Err(FormatFailure {
                                written: out,
                                exception,
                            })
                        }
                    }
                }
            }
            self.separator(&mut out, self.print_key || self.print_value);
        }
        if self.print_key {
            match self.field(self.key_deserializer, &r.key) {
                Ok(text) => out.extend_from_slice(&text),
                Err(exception) => {
                    return Err(FormatFailure {
                        written: out,
                        exception,
                    })
                }
            }
            self.separator(&mut out, self.print_value);
        }
        if self.print_value {
            match self.field(self.value_deserializer, &r.value) {
                Ok(text) => out.extend_from_slice(&text),
                Err(exception) => {
                    return Err(FormatFailure {
                        written: out,
                        exception,
                    })
                }
            }
            out.extend_from_slice(&self.line_separator);
        }
        Ok(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use cli::parse_key_value_args;

    fn record() -> RecordView {
        RecordView {
            topic: "t".into(),
            partition: 2,
            offset: 7,
            timestamp: 1700000000000,
            timestamp_kind: TimestampKind::CreateTime,
            key: Some(b"k".to_vec()),
            value: Some(b"v".to_vec()),
            headers: vec![("h1".into(), Some(b"x".to_vec())), ("h2".into(), None)],
        }
    }

    fn fmt(props: &[&str], r: &RecordView) -> String {
        let f = MessageFormatter::from_properties(&parse_key_value_args(props));
        String::from_utf8(f.format(r).unwrap()).unwrap()
    }

    #[test]
    fn deserializers_turn_fields_into_their_text() {
        let mut r = record();
        r.key = Some(vec![0, 0, 0, 42]);
        r.headers = vec![("h".into(), Some(vec![0, 7]))];
        assert_eq!(
            fmt(
                &[
                    "print.key=true",
                    "print.headers=true",
                    "key.deserializer=org.apache.kafka.common.serialization.IntegerDeserializer",
                    "headers.deserializer=org.apache.kafka.common.serialization.ShortDeserializer",
                ],
                &r
            ),
            "h:7\t42\tv\n"
        );
    }

    #[test]
    fn a_deserializer_failure_reports_what_was_already_written() {
        let f = MessageFormatter::from_properties(&parse_key_value_args(&[
            "print.key=true",
            "print.offset=true",
            "value.deserializer=org.apache.kafka.common.serialization.LongDeserializer",
        ]));
        let failure = f.format(&record()).unwrap_err();
        assert_eq!(failure.written, b"Offset:7\tk\t".to_vec());
        assert_eq!(
            failure.exception,
            "org.apache.kafka.common.errors.SerializationException: Size of data received by LongDeserializer is not 8"
        );
    }

    #[test]
    fn an_unknown_deserializer_class_is_reported_and_bytes_print_as_they_are() {
        let f = MessageFormatter::from_properties(&parse_key_value_args(&[
            "value.deserializer=com.example.Nope",
        ]));
        assert_eq!(
            f.unknown_deserializers,
            vec!["com.example.Nope".to_string()]
        );
        assert_eq!(f.format(&record()).unwrap(), b"v\n".to_vec());
    }

    #[test]
    fn default_prints_value_and_newline() {
        assert_eq!(fmt(&[], &record()), "v\n");
    }

    #[test]
    fn all_fields_in_kafkas_order() {
        let props = [
            "print.timestamp=true",
            "print.partition=true",
            "print.offset=true",
            "print.headers=true",
            "print.key=true",
        ];
        assert_eq!(
            fmt(&props, &record()),
            "CreateTime:1700000000000\tPartition:2\tOffset:7\th1:x,h2:null\tk\tv\n"
        );
    }

    #[test]
    fn without_value_the_last_field_ends_the_line() {
        assert_eq!(
            fmt(&["print.key=true", "print.value=false"], &record()),
            "k\n"
        );
        assert_eq!(
            fmt(&["print.offset=true", "print.value=false"], &record()),
            "Offset:7\n"
        );
        assert_eq!(fmt(&["print.value=false"], &record()), "");
    }

    #[test]
    fn separators_null_literal_and_no_headers() {
        let mut r = record();
        r.key = None;
        r.value = None;
        r.headers.clear();
        r.timestamp_kind = TimestampKind::LogAppendTime;
        assert_eq!(
            fmt(
                &[
                    "print.key=true",
                    "print.headers=true",
                    "print.timestamp= TRUE",
                    "key.separator=|",
                    "line.separator=;",
                    "null.literal=NULL"
                ],
                &r
            ),
            "LogAppendTime:1700000000000|NO_HEADERS|NULL|NULL;"
        );
        r.timestamp_kind = TimestampKind::NoTimestamp;
        assert_eq!(fmt(&["print.timestamp=true"], &r), "NO_TIMESTAMP\tnull\n");
    }

    #[test]
    fn headers_separator_is_configurable() {
        assert_eq!(
            fmt(
                &[
                    "print.headers=true",
                    "headers.separator=;",
                    "print.value=false"
                ],
                &record()
            ),
            "h1:x;h2:null\n"
        );
    }
}
