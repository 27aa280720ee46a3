//! Splits a byte stream into lines as Java's `BufferedReader.readLine` does: `\n`, `\r\n` and
//! `\r` each end a line, a final unterminated line counts, and bytes that are not UTF-8 become
//! U+FFFD (Java's `InputStreamReader` replacement).

/// Incremental splitter: feed chunks, collect complete lines.
#[derive(Debug, Default)]
pub struct LineSplitter {
    pending: Vec<u8>,
    /// The previous chunk ended with `\r`: a `\n` starting the next chunk belongs to it.
    after_cr: bool,
}

impl LineSplitter {
    pub fn new() -> Self {
        LineSplitter::default()
    }

    /// Adds `chunk`, returning every line it completes.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<String> {
        let mut lines = Vec::new();
        for &byte in chunk {
            if self.after_cr {
                self.after_cr = false;
                if byte == b'\n' {
                    continue;
                }
            }
            match byte {
                b'\n' => lines.push(self.take()),
                b'\r' => {
                    lines.push(self.take());
                    self.after_cr = true;
                }
                _ => self.pending.push(byte),
            }
        }
        lines
    }

    /// End of input: the unterminated last line, if any.
    pub fn finish(&mut self) -> Option<String> {
        if self.pending.is_empty() {
            None
        } else {
            Some(self.take())
        }
    }

    fn take(&mut self) -> String {
        let line = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_all(chunks: &[&[u8]]) -> Vec<String> {
        let mut s = LineSplitter::new();
        let mut out = Vec::new();
        for c in chunks {
            out.extend(s.feed(c));
        }
        out.extend(s.finish());
        out
    }

    #[test]
    fn every_line_ending_style_ends_a_line() {
        assert_eq!(split_all(&[b"a\nb\r\nc\rd"]), vec!["a", "b", "c", "d"]);
    }

    #[test]
    fn empty_lines_are_lines() {
        assert_eq!(split_all(&[b"\n\na\n"]), vec!["", "", "a"]);
        assert_eq!(split_all(&[b""]), Vec::<String>::new());
    }

    #[test]
    fn crlf_split_across_chunks_is_one_line_ending() {
        assert_eq!(split_all(&[b"a\r", b"\nb\n"]), vec!["a", "b"]);
        assert_eq!(split_all(&[b"a\r", b"\r\n"]), vec!["a", ""]);
    }

    #[test]
    fn invalid_utf8_becomes_replacement_characters() {
        assert_eq!(split_all(&[b"a\xffb\n"]), vec!["a\u{fffd}b"]);
    }
}
