//! The part of `java.text.SimpleDateFormat` that `--date-format` patterns use, in the local time
//! zone: `y M d H h m s S a E Z X` (repeated letters set the width; `MMM` / `MMMM` and `E` /
//! `EEEE` give English names), text in single quotes, `''` for a quote, and every other
//! non-letter as is. A letter outside that set is refused as SimpleDateFormat refuses it:
//! `Illegal pattern character 'q'`.

use chrono::{DateTime, Datelike, Local, Offset, TimeZone, Timelike};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Field(char, usize),
}

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateFormat {
    pieces: Vec<Piece>,
}

const LETTERS: &str = "yMdHhmsSaEZXk";

impl DateFormat {
    /// `new SimpleDateFormat(pattern)`; the error is Java's IllegalArgumentException message.
    pub fn new(pattern: &str) -> Result<Self, String> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut pieces = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == '\'' {
                let mut text = String::new();
                if chars.get(i + 1) == Some(&'\'') {
                    pieces.push(Piece::Literal("'".to_string()));
                    i += 2;
                    continue;
                }
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("Unterminated quote".to_string()),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            text.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(c) => {
                            text.push(*c);
                            i += 1;
                        }
                    }
                }
                pieces.push(Piece::Literal(text));
            } else if c.is_ascii_alphabetic() {
                if !LETTERS.contains(c) {
                    return Err(format!("Illegal pattern character '{c}'"));
                }
                let mut n = 1;
                while chars.get(i + n) == Some(&c) {
                    n += 1;
                }
                pieces.push(Piece::Field(c, n));
                i += n;
            } else {
                pieces.push(Piece::Literal(c.to_string()));
                i += 1;
            }
        }
        Ok(DateFormat { pieces })
    }

    /// Formats epoch milliseconds in the local time zone.
    pub fn format(&self, epoch_ms: i64) -> String {
        match Local.timestamp_millis_opt(epoch_ms).single() {
            Some(t) => self.format_time(&t),
            None => epoch_ms.to_string(),
        }
    }

    fn format_time<Tz: TimeZone>(&self, t: &DateTime<Tz>) -> String {
        const MONTHS: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        const DAYS: [&str; 7] = [
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
            "Sunday",
        ];
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Literal(s) => out.push_str(s),
                Piece::Field(c, n) => {
                    let n = *n;
                    let num = |v: i64| format!("{v:0n$}");
                    match c {
                        'y' if n == 2 => out.push_str(&format!("{:02}", t.year().rem_euclid(100))),
                        'y' => out.push_str(&num(i64::from(t.year()))),
                        'M' if n >= 4 => out.push_str(MONTHS[t.month0() as usize]),
                        'M' if n == 3 => out.push_str(&MONTHS[t.month0() as usize][..3]),
                        'M' => out.push_str(&num(i64::from(t.month()))),
                        'd' => out.push_str(&num(i64::from(t.day()))),
                        'H' => out.push_str(&num(i64::from(t.hour()))),
                        'k' => {
                            out.push_str(&num(i64::from(if t.hour() == 0 { 24 } else { t.hour() })))
                        }
                        'h' => out.push_str(&num(i64::from(t.hour12().1))),
                        'm' => out.push_str(&num(i64::from(t.minute()))),
                        's' => out.push_str(&num(i64::from(t.second()))),
                        'S' => out.push_str(&num(i64::from(t.timestamp_subsec_millis().min(999)))),
                        'a' => out.push_str(if t.hour12().0 { "PM" } else { "AM" }),
                        'E' => {
                            let day = DAYS[t.weekday().num_days_from_monday() as usize];
                            out.push_str(if n >= 4 { day } else { &day[..3] });
                        }
                        'Z' | 'X' => {
                            let secs = t.offset().fix().local_minus_utc();
                            let sign = if secs < 0 { '-' } else { '+' };
                            let m = secs.abs() / 60;
                            if *c == 'X' && secs == 0 {
                                out.push('Z');
                            } else {
                                out.push_str(&format!("{sign}{:02}{:02}", m / 60, m % 60));
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, TimeZone};

    #[test]
    fn kafkas_default_pattern() {
        let f = DateFormat::new("yyyy-MM-dd HH:mm:ss:SSS").unwrap_or_else(|e| panic!("{e}"));
        let zone = FixedOffset::east_opt(0).unwrap_or_else(|| panic!("offset"));
        let t = zone
            .timestamp_millis_opt(1_700_000_000_123)
            .single()
            .unwrap_or_else(|| panic!("time"));
        assert_eq!(f.format_time(&t), "2023-11-14 22:13:20:123");
    }

    #[test]
    fn quotes_names_and_illegal_letters() {
        let f = DateFormat::new("EEE, d MMM yy 'at' h a''").unwrap_or_else(|e| panic!("{e}"));
        let zone = FixedOffset::east_opt(0).unwrap_or_else(|| panic!("offset"));
        let t = zone
            .timestamp_millis_opt(1_700_000_000_123)
            .single()
            .unwrap_or_else(|| panic!("time"));
        assert_eq!(f.format_time(&t), "Tue, 14 Nov 23 at 10 PM'");
        assert_eq!(
            DateFormat::new("yyyy-qq").err().as_deref(),
            Some("Illegal pattern character 'q'")
        );
    }
}
