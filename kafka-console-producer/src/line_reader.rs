//! Kafka's `LineMessageReader`: one record per input line, optionally with headers and a key in
//! front (`h1:v1,h2:v2<TAB>key<TAB>value`), configured by the `--property` keys.

use cli::Properties;

/// The reader's settings (`parse.key`, `key.separator`, ...).
#[derive(Debug, Clone)]
pub struct LineReaderConfig {
    pub parse_key: bool,
    pub key_separator: String,
    pub parse_headers: bool,
    pub headers_delimiter: String,
    /// A Java regular expression, as Kafka compiles it (`Pattern.compile(headersSeparator)`).
    pub headers_separator: String,
    pub headers_key_separator: String,
    pub ignore_error: bool,
    pub null_marker: Option<String>,
    headers_separator_pattern: regex::Regex,
}

impl PartialEq for LineReaderConfig {
    fn eq(&self, other: &Self) -> bool {
        self.parse_key == other.parse_key
            && self.key_separator == other.key_separator
            && self.parse_headers == other.parse_headers
            && self.headers_delimiter == other.headers_delimiter
            && self.headers_separator == other.headers_separator
            && self.headers_key_separator == other.headers_key_separator
            && self.ignore_error == other.ignore_error
            && self.null_marker == other.null_marker
    }
}

impl Eq for LineReaderConfig {}

impl Default for LineReaderConfig {
    fn default() -> Self {
        LineReaderConfig {
            parse_key: false,
            key_separator: "\t".into(),
            parse_headers: false,
            headers_delimiter: "\t".into(),
            headers_separator: ",".into(),
            headers_key_separator: ":".into(),
            ignore_error: false,
            null_marker: None,
            headers_separator_pattern: regex::Regex::new(",").unwrap_or_else(|_| unreachable!()),
        }
    }
}

/// Kafka's boolean properties: `trim().equalsIgnoreCase("true")`.
fn is_true(v: &str) -> bool {
    v.trim().eq_ignore_ascii_case("true")
}

impl LineReaderConfig {
    /// Reads the reader properties as `LineMessageReader.configure` does; an error is the text
    /// Kafka prints (exception class and message): the three header separators must differ from each other,
    /// and `null.marker`, when set, from every separator.
    pub fn from_properties(props: &Properties) -> Result<Self, String> {
        let mut c = LineReaderConfig::default();
        if let Some(v) = props.get("parse.key") {
            c.parse_key = is_true(v);
        }
        if let Some(v) = props.get("key.separator") {
            c.key_separator = v.to_string();
        }
        if let Some(v) = props.get("parse.headers") {
            c.parse_headers = is_true(v);
        }
        if let Some(v) = props.get("headers.delimiter") {
            c.headers_delimiter = v.to_string();
        }
        if let Some(v) = props.get("headers.separator") {
            c.headers_separator = v.to_string();
        }
        c.headers_separator_pattern = regex::Regex::new(&c.headers_separator).map_err(|e| {
            format!(
                "java.util.regex.PatternSyntaxException: {}\n{}",
                e.to_string()
                    .lines()
                    .last()
                    .unwrap_or("invalid pattern")
                    .trim(),
                c.headers_separator
            )
        })?;
        if let Some(v) = props.get("headers.key.separator") {
            c.headers_key_separator = v.to_string();
        }
        if let Some(v) = props.get("ignore.error") {
            c.ignore_error = is_true(v);
        }
        for (a, av, b, bv) in [
            (
                "headers.delimiter",
                &c.headers_delimiter,
                "headers.separator",
                &c.headers_separator,
            ),
            (
                "headers.delimiter",
                &c.headers_delimiter,
                "headers.key.separator",
                &c.headers_key_separator,
            ),
            (
                "headers.separator",
                &c.headers_separator,
                "headers.key.separator",
                &c.headers_key_separator,
            ),
        ] {
            if av == bv {
                return Err(format!(
                    "org.apache.kafka.common.KafkaException: {a} and {b} may not be equal"
                ));
            }
        }
        if let Some(v) = props.get("null.marker") {
            c.null_marker = Some(v.to_string());
        }
        if let Some(marker) = &c.null_marker {
            for (name, sep) in [
                ("key.separator", &c.key_separator),
                ("headers.separator", &c.headers_separator),
                ("headers.delimiter", &c.headers_delimiter),
                ("headers.key.separator", &c.headers_key_separator),
            ] {
                if marker == sep {
                    return Err(format!(
                        "org.apache.kafka.common.KafkaException: null.marker and {name} may not be equal"
                    ));
                }
            }
        }
        // An empty separator would match at every position; Java's indexOf("") is 0 too,
        // so this mirrors Kafka rather than guarding against it.
        Ok(c)
    }
}

/// Java's `Pattern.split(input)` (limit 0): no match gives the input itself (so an empty input
/// gives one empty string), a zero-width match at the start adds no leading empty string, and
/// trailing empty strings are dropped.
fn java_split<'a>(pattern: &regex::Regex, input: &'a str) -> Vec<&'a str> {
    let mut parts = Vec::new();
    let mut index = 0;
    let mut matched = false;
    for m in pattern.find_iter(input) {
        if m.start() == 0 && m.end() == 0 {
            continue;
        }
        matched = true;
        parts.push(&input[index..m.start()]);
        index = m.end();
    }
    if !matched {
        return vec![input];
    }
    parts.push(&input[index..]);
    while parts.last() == Some(&"") {
        parts.pop();
    }
    parts
}

/// A record header: key and nullable value.
pub type Header = (String, Option<Vec<u8>>);

/// One record read from a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineRecord {
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<Header>,
}

impl LineReaderConfig {
    fn nullable(&self, field: &str) -> Option<Vec<u8>> {
        if self.null_marker.as_deref() == Some(field) {
            None
        } else {
            Some(field.as_bytes().to_vec())
        }
    }

    /// `parse(enabled, line, start, demarcation, name)`: the text from `start` up to the
    /// separator, or None when disabled (or missing with ignore.error).
    fn field<'a>(
        &self,
        enabled: bool,
        line: &'a str,
        start: usize,
        separator: &str,
        name: &str,
        line_number: u64,
    ) -> Result<Option<&'a str>, String> {
        if !enabled {
            return Ok(None);
        }
        match line.get(start..).and_then(|rest| rest.find(separator)) {
            Some(i) => Ok(line.get(start..start + i)),
            None if self.ignore_error => Ok(None),
            None => Err(format!(
                "No {name} found on line number {line_number}: '{line}'"
            )),
        }
    }

    /// Turns line number `line_number` (1-based) into a record, or Kafka's KafkaException text.
    pub fn parse_line(&self, line: &str, line_number: u64) -> Result<LineRecord, String> {
        let headers = self.field(
            self.parse_headers,
            line,
            0,
            &self.headers_delimiter,
            "headers delimiter",
            line_number,
        )?;
        let header_offset = headers.map_or(0, |h| h.len() + self.headers_delimiter.len());
        let key = self.field(
            self.parse_key,
            line,
            header_offset,
            &self.key_separator,
            "key separator",
            line_number,
        )?;
        let key_offset = key.map_or(0, |k| k.len() + self.key_separator.len());
        let value = line.get(header_offset + key_offset..).unwrap_or("");
        let mut record = LineRecord {
            key: key.and_then(|k| self.nullable(k)),
            value: self.nullable(value),
            headers: Vec::new(),
        };
        if let Some(h) = headers {
            if self.null_marker.as_deref() != Some(h) {
                record.headers = self.split_headers(h, line_number)?;
            }
        }
        Ok(record)
    }

    fn split_headers(&self, headers: &str, line_number: u64) -> Result<Vec<Header>, String> {
        // An empty header section is one empty pair, which has no key separator: Kafka refuses
        // the line (or, with ignore.error, sends a header with an empty key and null value).
        let pairs = java_split(&self.headers_separator_pattern, headers);
        let mut out = Vec::new();
        for pair in pairs {
            match pair.find(self.headers_key_separator.as_str()) {
                None if self.ignore_error => out.push((pair.to_string(), None)),
                None => {
                    return Err(format!(
                    "No header key separator found in pair '{pair}' on line number {line_number}"
                ))
                }
                Some(i) => {
                    let key = &pair[..i];
                    if self.null_marker.as_deref() == Some(key) {
                        return Err(format!(
                            "Header keys should not be equal to the null marker '{key}' as they can't be null"
                        ));
                    }
                    let value = &pair[i + self.headers_key_separator.len()..];
                    out.push((key.to_string(), self.nullable(value)));
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use cli::parse_key_value_args;

    fn cfg(props: &[&str]) -> LineReaderConfig {
        LineReaderConfig::from_properties(&parse_key_value_args(props)).unwrap()
    }

    fn b(s: &str) -> Option<Vec<u8>> {
        Some(s.as_bytes().to_vec())
    }

    #[test]
    fn plain_lines_are_values_without_key() {
        let r = cfg(&[]).parse_line("hello\tworld", 1).unwrap();
        assert_eq!(r.key, None);
        assert_eq!(r.value, b("hello\tworld"));
        assert!(r.headers.is_empty());
        assert_eq!(cfg(&[]).parse_line("", 1).unwrap().value, b(""));
    }

    #[test]
    fn key_is_text_before_the_first_separator() {
        let c = cfg(&["parse.key=true", "key.separator=:"]);
        let r = c.parse_line("k:v:w", 1).unwrap();
        assert_eq!(r.key, b("k"));
        assert_eq!(r.value, b("v:w"));
        let r = c.parse_line("k:", 1).unwrap();
        assert_eq!(r.value, b(""));
    }

    #[test]
    fn missing_key_separator_is_an_error_unless_ignored() {
        let c = cfg(&["parse.key=true"]);
        assert_eq!(
            c.parse_line("abc", 3).unwrap_err(),
            "No key separator found on line number 3: 'abc'"
        );
        let c = cfg(&["parse.key=TRUE ", "ignore.error=true"]);
        let r = c.parse_line("abc", 3).unwrap();
        assert_eq!(r.key, None);
        assert_eq!(r.value, b("abc"));
    }

    #[test]
    fn headers_key_and_value() {
        let c = cfg(&["parse.key=true", "parse.headers=true"]);
        let r = c.parse_line("h1:v1,h2:v2\tkey\tvalue", 1).unwrap();
        assert_eq!(
            r.headers,
            vec![("h1".to_string(), b("v1")), ("h2".to_string(), b("v2"))]
        );
        assert_eq!(r.key, b("key"));
        assert_eq!(r.value, b("value"));
        assert_eq!(
            c.parse_line("nodelim", 2).unwrap_err(),
            "No headers delimiter found on line number 2: 'nodelim'"
        );
        assert_eq!(
            c.parse_line("h1\tk\tv", 2).unwrap_err(),
            "No header key separator found in pair 'h1' on line number 2"
        );
    }

    #[test]
    fn null_marker_makes_fields_null() {
        let c = cfg(&["parse.key=true", "parse.headers=true", "null.marker=<null>"]);
        let r = c.parse_line("h:<null>\t<null>\t<null>", 1).unwrap();
        assert_eq!(r.key, None);
        assert_eq!(r.value, None);
        assert_eq!(r.headers, vec![("h".to_string(), None)]);
        let r = c.parse_line("<null>\tk\tv", 1).unwrap();
        assert!(r.headers.is_empty());
        assert_eq!(
            c.parse_line("<null>:x\tk\tv", 1).unwrap_err(),
            "Header keys should not be equal to the null marker '<null>' as they can't be null"
        );
    }

    #[test]
    fn null_marker_may_not_equal_a_separator() {
        let err = LineReaderConfig::from_properties(&parse_key_value_args(&["null.marker=,"]))
            .unwrap_err();
        assert_eq!(
            err,
            "org.apache.kafka.common.KafkaException: null.marker and headers.separator may not be equal"
        );
    }

    fn config_error(props: &[&str]) -> String {
        LineReaderConfig::from_properties(&parse_key_value_args(props)).unwrap_err()
    }

    #[test]
    fn header_separators_may_not_equal_each_other() {
        assert_eq!(
            config_error(&["headers.separator=\t"]),
            "org.apache.kafka.common.KafkaException: headers.delimiter and headers.separator may not be equal"
        );
        assert_eq!(
            config_error(&["headers.key.separator=\t"]),
            "org.apache.kafka.common.KafkaException: headers.delimiter and headers.key.separator may not be equal"
        );
        assert_eq!(
            config_error(&["headers.key.separator=,"]),
            "org.apache.kafka.common.KafkaException: headers.separator and headers.key.separator may not be equal"
        );
        // Checked whether or not headers are parsed, before null.marker.
        assert_eq!(
            config_error(&["parse.headers=false", "headers.separator=:", "null.marker=\t"]),
            "org.apache.kafka.common.KafkaException: headers.separator and headers.key.separator may not be equal"
        );
        assert!(config_error(&["headers.separator=("])
            .starts_with("java.util.regex.PatternSyntaxException: "));
    }

    #[test]
    fn an_empty_header_section_is_refused_unless_errors_are_ignored() {
        let c = cfg(&["parse.key=true", "parse.headers=true"]);
        assert_eq!(
            c.parse_line("\tkey\tvalue", 4).unwrap_err(),
            "No header key separator found in pair '' on line number 4"
        );
        let c = cfg(&["parse.headers=true"]);
        assert_eq!(
            c.parse_line("\tvalue", 1).unwrap_err(),
            "No header key separator found in pair '' on line number 1"
        );
        // A leading separator gives an empty first pair too; trailing ones are dropped.
        assert_eq!(
            c.parse_line(",h:1\tv", 1).unwrap_err(),
            "No header key separator found in pair '' on line number 1"
        );
        assert_eq!(
            c.parse_line("h:1,,\tv", 1).unwrap().headers,
            vec![("h".to_string(), b("1"))]
        );
        let c = cfg(&["parse.headers=true", "ignore.error=true"]);
        let r = c.parse_line("\tvalue", 1).unwrap();
        assert_eq!(r.headers, vec![(String::new(), None)]);
        assert_eq!(r.value, b("value"));
    }

    #[test]
    fn headers_separator_is_a_java_regex() {
        let c = cfg(&["parse.headers=true", "headers.separator=[;,]"]);
        let r = c.parse_line("a:1;b:2,c:3\tv", 1).unwrap();
        assert_eq!(
            r.headers,
            vec![
                ("a".to_string(), b("1")),
                ("b".to_string(), b("2")),
                ("c".to_string(), b("3"))
            ]
        );
    }

    #[test]
    fn multi_byte_separators_and_text() {
        let c = cfg(&["parse.key=true", "key.separator=→"]);
        let r = c.parse_line("ключ→значение", 1).unwrap();
        assert_eq!(r.key, b("ключ"));
        assert_eq!(r.value, b("значение"));
    }
}
