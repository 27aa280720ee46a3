//! The one reader of Java `.properties` text, following `java.util.Properties.load`:
//!
//! - `\n`, `\r\n` and `\r` end a line; leading whitespace (space, tab, form feed) of every line
//!   is skipped, continuation lines included;
//! - a line whose first non-whitespace character is `#` or `!` is a comment (only where a
//!   logical line starts: a continued line is never a comment, and a comment never continues);
//! - a line ending in an odd number of backslashes continues on the next line;
//! - the key ends at the first unescaped `=`, `:` or whitespace; then whitespace, at most one `=`
//!   or `:`, and more whitespace are skipped; the rest of the line is the value, trailing
//!   whitespace kept;
//! - escapes: `\t`, `\n`, `\r`, `\f`, `\uXXXX`, and `\` before any other character stands for
//!   that character (`\=`, `\:`, `\ `, `\\`); a malformed `\u` escape is kept as written.
//!
//! The caller reads the file (this crate does no I/O) and decides what a repeated key means
//! (Java: the later one wins).

/// Whitespace as `Properties.load` knows it.
fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{c}')
}

/// The `key, value` pairs of `.properties` text in file order, repeated keys included (a
/// caller that collects them into a map lets the later one win, as Java does).
pub fn parse(text: &str) -> Vec<(String, String)> {
    let lines = split_lines(text);
    let mut pairs = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let mut logical = lines[i].trim_start_matches(is_blank).to_string();
        i += 1;
        if logical.is_empty() || logical.starts_with('#') || logical.starts_with('!') {
            continue;
        }
        while ends_with_odd_backslashes(&logical) {
            logical.pop();
            match lines.get(i) {
                Some(next) => {
                    logical.push_str(next.trim_start_matches(is_blank));
                    i += 1;
                }
                None => break,
            }
        }
        let (key, value) = split_entry(&logical);
        pairs.push((unescape(key), unescape(value)));
    }
    pairs
}

/// [`parse`], with each value's surrounding whitespace trimmed, as the config layers that read
/// these files do before interpreting a value (ZooKeeper's `QuorumPeerConfig.parseProperties`,
/// Kafka's `ConfigDef.parseType`): for server config files (`server.properties`,
/// `zookeeper.properties`, `meta.properties`).
pub fn parse_trimmed(text: &str) -> Vec<(String, String)> {
    parse(text)
        .into_iter()
        .map(|(k, v)| {
            let v = v.trim();
            (k, v.to_string())
        })
        .collect()
}

/// `\n`, `\r\n` and `\r` all end a line.
fn split_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\n' || bytes[i] == b'\r' {
            lines.push(&text[start..i]);
            if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
                i += 1;
            }
            start = i + 1;
        }
        i += 1;
    }
    if start < text.len() {
        lines.push(&text[start..]);
    }
    lines
}

fn ends_with_odd_backslashes(s: &str) -> bool {
    s.chars().rev().take_while(|c| *c == '\\').count() % 2 == 1
}

/// Splits a logical line into the raw (still escaped) key and value.
fn split_entry(line: &str) -> (&str, &str) {
    let mut key_end = line.len();
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '=' || c == ':' || is_blank(c) {
            key_end = i;
            break;
        }
    }
    let key = &line[..key_end];
    let mut rest = line[key_end..].trim_start_matches(is_blank);
    if let Some(r) = rest.strip_prefix(['=', ':']) {
        rest = r.trim_start_matches(is_blank);
    }
    (key, rest)
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) if hex.len() == 4 => out.push(ch),
                    _ => {
                        out.push_str("\\u");
                        out.push_str(&hex);
                    }
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn separators_are_equals_colon_or_whitespace() {
        assert_eq!(
            parse("a=1\nb:2\nc 3\nd\t4\ne = 5\nf : 6\ng  =  7\n"),
            pairs(&[
                ("a", "1"),
                ("b", "2"),
                ("c", "3"),
                ("d", "4"),
                ("e", "5"),
                ("f", "6"),
                ("g", "7")
            ])
        );
    }

    #[test]
    fn only_one_separator_is_skipped() {
        assert_eq!(
            parse("a==1\nb::2\nc =:3\n"),
            pairs(&[("a", "=1"), ("b", ":2"), ("c", ":3")])
        );
    }

    #[test]
    fn comments_and_blank_lines_are_skipped() {
        assert_eq!(
            parse("# c\n! c\n   # indented comment\n\n \t \na=1\n"),
            pairs(&[("a", "1")])
        );
    }

    #[test]
    fn a_key_alone_has_an_empty_value() {
        assert_eq!(
            parse("flag\nempty=\n"),
            pairs(&[("flag", ""), ("empty", "")])
        );
    }

    #[test]
    fn leading_whitespace_goes_and_trailing_whitespace_of_a_value_stays() {
        assert_eq!(parse("   a = 1  \n"), pairs(&[("a", "1  ")]));
        assert_eq!(parse_trimmed("   a = 1  \n"), pairs(&[("a", "1")]));
    }

    #[test]
    fn continuation_lines_join_without_their_leading_whitespace() {
        assert_eq!(
            parse("multi=a,\\\n    b,\\\n\tc\nnext=1\n"),
            pairs(&[("multi", "a,b,c"), ("next", "1")])
        );
    }

    #[test]
    fn an_even_number_of_backslashes_does_not_continue() {
        assert_eq!(parse("a=x\\\\\nb=2\n"), pairs(&[("a", "x\\"), ("b", "2")]));
    }

    #[test]
    fn a_continued_line_is_not_a_comment_and_a_comment_does_not_continue() {
        assert_eq!(parse("a=1\\\n#2\n"), pairs(&[("a", "1#2")]));
        assert_eq!(parse("# c\\\nb=2\n"), pairs(&[("b", "2")]));
    }

    #[test]
    fn continuation_at_end_of_text_drops_the_backslash() {
        assert_eq!(parse("a=1\\"), pairs(&[("a", "1")]));
    }

    #[test]
    fn a_blank_line_ends_a_continuation() {
        assert_eq!(parse("a=1\\\n\nb=2\n"), pairs(&[("a", "1"), ("b", "2")]));
    }

    #[test]
    fn all_line_terminators() {
        assert_eq!(
            parse("a=1\r\nb=2\rc=3\n"),
            pairs(&[("a", "1"), ("b", "2"), ("c", "3")])
        );
    }

    #[test]
    fn escapes() {
        assert_eq!(
            parse(
                "esc\\=k=v\\u0041\ntab=a\\tb\\nc\\rd\\fe\nspace\\ key=\\ x\nback=\\\\\nother=\\q\n"
            ),
            pairs(&[
                ("esc=k", "vA"),
                ("tab", "a\tb\nc\rd\u{c}e"),
                ("space key", " x"),
                ("back", "\\"),
                ("other", "q")
            ])
        );
    }

    #[test]
    fn malformed_unicode_escape_is_kept() {
        assert_eq!(parse("a=\\u00\n"), pairs(&[("a", "\\u00")]));
        assert_eq!(parse("a=\\uzzzz\n"), pairs(&[("a", "\\uzzzz")]));
    }

    #[test]
    fn repeated_keys_are_all_returned_in_order() {
        assert_eq!(parse("a=1\na=2\n"), pairs(&[("a", "1"), ("a", "2")]));
    }

    #[test]
    fn non_ascii_text_survives() {
        assert_eq!(parse("clé=värde\n"), pairs(&[("clé", "värde")]));
    }
}
