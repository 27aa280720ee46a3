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

fn pretty_json(bytes: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    serde_json::to_string_pretty(&value).ok()
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
