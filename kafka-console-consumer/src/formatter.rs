//! Kafka's `DefaultMessageFormatter`: which fields of a record are printed, in which order, with
//! which separators, configured by the `--property` keys.

use client::cli::Properties;

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
        f
    }

    fn bytes_or_null<'a>(&'a self, b: &'a Option<Vec<u8>>) -> &'a [u8] {
        b.as_deref().unwrap_or(&self.null_literal)
    }

    fn separator(&self, out: &mut Vec<u8>, more: bool) {
        out.extend_from_slice(if more {
            &self.key_separator
        } else {
            &self.line_separator
        });
    }

    /// The bytes `writeTo` prints for one record.
    pub fn format(&self, r: &RecordView) -> Vec<u8> {
        let mut out = Vec::new();
        if self.no_op {
            return out;
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
                    out.extend_from_slice(self.bytes_or_null(v));
                }
            }
            self.separator(&mut out, self.print_key || self.print_value);
        }
        if self.print_key {
            out.extend_from_slice(self.bytes_or_null(&r.key));
            self.separator(&mut out, self.print_value);
        }
        if self.print_value {
            out.extend_from_slice(self.bytes_or_null(&r.value));
            out.extend_from_slice(&self.line_separator);
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use client::cli::parse_key_value_args;

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
        String::from_utf8(f.format(r)).unwrap()
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
