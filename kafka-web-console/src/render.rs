//! How the message browser shows record bytes (keys, values, header values): as text, as
//! pretty-printed JSON, or as hex. `auto` picks JSON when the bytes parse as a JSON object or
//! array, text when they are UTF-8, hex otherwise. The result is plain text; the pages escape it.

use serde::Serialize;

/// A way of showing bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Auto,
    Text,
    Json,
    Hex,
}

impl Format {
    /// `auto`, `text`, `json` or `hex` (any case); `None` for anything else.
    pub fn parse(name: &str) -> Option<Format> {
        match name.to_ascii_lowercase().as_str() {
            "auto" | "" => Some(Format::Auto),
            "text" => Some(Format::Text),
            "json" => Some(Format::Json),
            "hex" => Some(Format::Hex),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Auto => "auto",
            Format::Text => "text",
            Format::Json => "json",
            Format::Hex => "hex",
        }
    }
}

/// Bytes shown one way, and which way was used (`auto` resolves to one of the others).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shown {
    pub format: Format,
    pub text: String,
    /// Only the first bytes are shown (the console's `MAX_SHOWN_BYTES`); `size` is the full size.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    /// The full size in bytes, given when `truncated`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<usize>,
}

impl Shown {
    /// The full size for people (`1.0 MiB`).
    pub fn size_text(&self) -> String {
        crate::views::human_bytes(&self.size.map(|s| s as i64))
    }
}

/// Shows `bytes` as `format` asks. JSON that does not parse falls back to text (or hex when the
/// bytes are not UTF-8); text of bytes that are not UTF-8 replaces the bad sequences with U+FFFD.
pub fn show(bytes: &[u8], format: Format) -> Shown {
    match format {
        Format::Hex => Shown {
            format: Format::Hex,
            text: hex(bytes),
            truncated: false,
            size: None,
        },
        Format::Text => Shown {
            format: Format::Text,
            text: String::from_utf8_lossy(bytes).into_owned(),
            truncated: false,
            size: None,
        },
        Format::Json => match pretty_json(bytes) {
            Some(text) => Shown {
                format: Format::Json,
                text,
                truncated: false,
                size: None,
            },
            None => show(bytes, Format::Auto),
        },
        Format::Auto => {
            let trimmed = bytes.trim_ascii_start();
            if matches!(trimmed.first(), Some(b'{') | Some(b'[')) {
                if let Some(text) = pretty_json(bytes) {
                    return Shown {
                        format: Format::Json,
                        text,
                        truncated: false,
                        size: None,
                    };
                }
            }
            match std::str::from_utf8(bytes) {
                Ok(s) => Shown {
                    format: Format::Text,
                    text: s.to_string(),
                    truncated: false,
                    size: None,
                },
                Err(_) => Shown {
                    format: Format::Hex,
                    text: hex(bytes),
                    truncated: false,
                    size: None,
                },
            }
        }
    }
}

/// `bytes` indented as `serde_json::to_string_pretty` lays JSON out, when they are one valid
/// JSON document. Only whitespace changes: numbers keep their digits (no rounding of big
/// integers, `1.10` stays `1.10`), members keep their order and duplicates, strings their
/// escapes, so what is shown is what the record holds.
fn pretty_json(bytes: &[u8]) -> Option<String> {
    // Validates the whole document (syntax, trailing bytes, UTF-8) without building it.
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes).ok()?;
    let text = std::str::from_utf8(bytes).ok()?;
    const INDENT: &str = "  ";
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    let mut depth = 0usize;
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth {
            out.push_str(INDENT);
        }
    };
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                out.push('"');
                let mut escaped = false;
                for c in chars.by_ref() {
                    out.push(c);
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        break;
                    }
                }
            }
            '{' | '[' => {
                let close = if c == '{' { '}' } else { ']' };
                while chars.next_if(|c| c.is_ascii_whitespace()).is_some() {}
                out.push(c);
                if chars.next_if_eq(&close).is_some() {
                    out.push(close);
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(',');
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_ascii_whitespace() => {}
            c => out.push(c),
        }
    }
    Some(out)
}

/// Lower-case hex, a space between bytes.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// A record timestamp (ms since the epoch) as ISO 8601 in UTC, or the number when out of range.
pub fn timestamp_text(ms: i64) -> String {
    match chrono::DateTime::from_timestamp_millis(ms) {
        Some(t) if ms >= 0 => t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        _ => ms.to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn auto_pretty_prints_json_and_keeps_text() {
        let s = show(br#"{"a":1,"b":[true]}"#, Format::Auto);
        assert_eq!(s.format, Format::Json);
        assert_eq!(s.text, "{\n  \"a\": 1,\n  \"b\": [\n    true\n  ]\n}");
        let s = show(b"hello <b>", Format::Auto);
        assert_eq!(s.format, Format::Text);
        assert_eq!(s.text, "hello <b>");
        let s = show(&[0xff, 0x00, 0x10], Format::Auto);
        assert_eq!(s.format, Format::Hex);
        assert_eq!(s.text, "ff 00 10");
    }

    /// Pretty-printing changes whitespace only: what serde_json's layout would show, with the
    /// record's own numbers, member order, duplicates and escapes.
    #[test]
    fn pretty_json_keeps_every_number_member_and_escape() {
        let raw = br#" {"id":123456789012345678901234,"price":1.10, "big":9007199254740993.5,"a":1,"a":2,"exp":1E2,"s":"x\"y,{[:","e":{},"l":[ ],"n":[[1,{"k":null}]]} "#;
        let s = show(raw, Format::Auto);
        assert_eq!(s.format, Format::Json);
        assert_eq!(
            s.text,
            r#"{
  "id": 123456789012345678901234,
  "price": 1.10,
  "big": 9007199254740993.5,
  "a": 1,
  "a": 2,
  "exp": 1E2,
  "s": "x\"y,{[:",
  "e": {},
  "l": [],
  "n": [
    [
      1,
      {
        "k": null
      }
    ]
  ]
}"#
        );
        // Same layout as serde_json's where nothing would change.
        let plain = br#"{"a":[1,2,{"b":"c"}],"d":{},"e":[true,false,null,-1.5]}"#;
        let v: serde_json::Value = serde_json::from_slice(plain).unwrap();
        assert_eq!(
            show(plain, Format::Json).text,
            serde_json::to_string_pretty(&v).unwrap()
        );
        // Top-level scalars and invalid documents.
        assert_eq!(show(b"[1,2", Format::Json).format, Format::Text);
        assert_eq!(show(b"[1] x", Format::Auto).format, Format::Text);
        assert_eq!(show(b"\"q\"", Format::Json).text, "\"q\"");
    }

    #[test]
    fn explicit_formats_are_honoured() {
        assert_eq!(show(b"ab", Format::Hex).text, "61 62");
        assert_eq!(show(b"{\"x\":1}", Format::Text).text, "{\"x\":1}");
        // Not JSON: shown as text instead.
        assert_eq!(show(b"plain", Format::Json).format, Format::Text);
        assert_eq!(Format::parse("HEX"), Some(Format::Hex));
        assert_eq!(Format::parse("xml"), None);
    }

    #[test]
    fn timestamps_are_utc_iso_8601() {
        assert_eq!(timestamp_text(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            timestamp_text(1_795_514_400_123),
            "2026-11-24T10:00:00.123Z"
        );
        assert_eq!(timestamp_text(-1), "-1");
    }
}
