//! The pure parts of `--reset-offsets`: reading `--topic t[:p,...]`, `--to-datetime` and
//! `--by-duration` values, and keeping a requested offset inside [earliest, latest] as Kafka's
//! `checkOffsetsRange` does.

/// `t` (every partition) or `t:0,1,2` (those partitions), as Kafka 3.9's
/// `parseTopicsWithPartitions` reads it (Java's `String.split`, which drops trailing empty
/// pieces). `Err` is the text of its `IllegalArgumentException` (usage, exit 1), Kafka's doubled
/// quote included.
pub fn parse_topic_scope(arg: &str) -> Result<(String, Option<Vec<i32>>), String> {
    if !arg.contains(':') {
        return Ok((arg.to_string(), None));
    }
    let pieces = java_split(arg, ':');
    let [topic, list] = pieces.as_slice() else {
        return Err(format!(
            "Invalid topic arg '{arg}', expected topic name and partitions"
        ));
    };
    let mut partitions = Vec::new();
    for p in java_split(list, ',') {
        let n: i32 = p
            .parse()
            .map_err(|_| format!("Invalid partition '{p}' specified in topic arg '{arg}''"))?;
        partitions.push(n);
    }
    Ok((topic.to_string(), Some(partitions)))
}

/// Java's `String.split` on one character: trailing empty pieces are dropped.
fn java_split(s: &str, sep: char) -> Vec<&str> {
    let mut pieces: Vec<&str> = s.split(sep).collect();
    while pieces.last() == Some(&"") {
        pieces.pop();
    }
    pieces
}

/// Days from 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn number(s: &str, what: &str, text: &str) -> Result<i64, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("Unparseable date: \"{text}\" ({what})"));
    }
    s.parse()
        .map_err(|_| format!("Unparseable date: \"{text}\""))
}

/// `YYYY-MM-DDTHH:mm:SS[.sss][Z|±HH:mm|±HHmm]` to ms since the epoch, as Kafka's
/// `Utils.getDateTime`. Without a zone the time is taken as UTC (Kafka takes the JVM's zone; our
/// tools run with UTC).
pub fn parse_datetime(text: &str) -> Result<i64, String> {
    let Some((date, time)) = text.split_once('T') else {
        return Err(
            "Error parsing timestamp. It does not contain a 'T' according to ISO8601 format"
                .to_string(),
        );
    };
    let (time, offset_minutes) = if let Some(t) = time.strip_suffix('Z') {
        (t, 0)
    } else if let Some(pos) = time.rfind(['+', '-']) {
        let (t, zone) = time.split_at(pos);
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let digits: String = zone[1..].chars().filter(|c| *c != ':').collect();
        if digits.len() != 4 && digits.len() != 2 {
            return Err(format!("Unparseable date: \"{text}\""));
        }
        let h = number(&digits[..2], "zone hours", text)?;
        let m = if digits.len() == 4 {
            number(&digits[2..], "zone minutes", text)?
        } else {
            0
        };
        (t, sign * (h * 60 + m))
    } else {
        (time, 0)
    };
    let d: Vec<&str> = date.split('-').collect();
    if d.len() != 3 {
        return Err(format!("Unparseable date: \"{text}\""));
    }
    let (y, mo, da) = (
        number(d[0], "year", text)?,
        number(d[1], "month", text)?,
        number(d[2], "day", text)?,
    );
    let (hms, millis) = match time.split_once('.') {
        Some((hms, frac)) => {
            let mut f = number(frac, "millis", text)?;
            // ".5" is 500 ms; more than 3 digits keeps the first three.
            let digits = frac.len();
            if digits < 3 {
                f *= 10_i64.pow(3 - digits as u32);
            } else if digits > 3 {
                f = number(&frac[..3], "millis", text)?;
            }
            (hms, f)
        }
        None => (time, 0),
    };
    let t: Vec<&str> = hms.split(':').collect();
    if t.len() != 3 {
        return Err(format!("Unparseable date: \"{text}\""));
    }
    let (h, mi, s) = (
        number(t[0], "hour", text)?,
        number(t[1], "minute", text)?,
        number(t[2], "second", text)?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&da) || h > 23 || mi > 59 || s > 59 {
        return Err(format!("Unparseable date: \"{text}\""));
    }
    let days = days_from_civil(y, mo, da);
    let secs = days * 86_400 + h * 3600 + mi * 60 + s - offset_minutes * 60;
    Ok(secs * 1000 + millis)
}

/// Java's `Duration.parse` for `[-]PnDTnHnMn[.n]S` (each part optional, at least one) to ms.
pub fn parse_duration_ms(text: &str) -> Result<i64, String> {
    let fail = || "Text cannot be parsed to a Duration".to_string();
    let upper = text.to_ascii_uppercase();
    let (negative, rest) = match upper.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, upper.strip_prefix('+').unwrap_or(&upper)),
    };
    let rest = rest.strip_prefix('P').ok_or_else(fail)?;
    let (day_part, time_part) = match rest.split_once('T') {
        Some((d, t)) => {
            if t.is_empty() {
                return Err(fail());
            }
            (d, Some(t))
        }
        None => (rest, None),
    };
    let mut ms: f64 = 0.0;
    let mut any = false;
    if !day_part.is_empty() {
        let days = day_part.strip_suffix('D').ok_or_else(fail)?;
        let n: f64 = days.parse::<i64>().map_err(|_| fail())? as f64;
        ms += n * 86_400_000.0;
        any = true;
    }
    if let Some(mut t) = time_part {
        for (unit, factor) in [('H', 3_600_000.0), ('M', 60_000.0), ('S', 1000.0)] {
            if let Some(pos) = t.find(unit) {
                let value = &t[..pos];
                let n: f64 = if unit == 'S' {
                    value.parse().map_err(|_| fail())?
                } else {
                    value.parse::<i64>().map_err(|_| fail())? as f64
                };
                ms += n * factor;
                t = &t[pos + 1..];
                any = true;
            }
        }
        if !t.is_empty() {
            return Err(fail());
        }
    }
    if !any {
        return Err(fail());
    }
    let ms = ms.round() as i64;
    Ok(if negative { -ms } else { ms })
}

/// Keeps `requested` inside [earliest, latest] (either bound may be unknown); the second value
/// is Kafka's WARN text when it had to move.
pub fn clamp_offset(
    topic: &str,
    partition: i32,
    requested: i64,
    earliest: Option<i64>,
    latest: Option<i64>,
) -> (i64, Option<String>) {
    if let Some(end) = latest {
        if requested > end {
            return (end, Some(format!(
                "New offset ({requested}) is higher than latest offset for topic partition {topic}-{partition}. Value will be set to {end}"
            )));
        }
    }
    if let Some(start) = earliest {
        if requested < start {
            return (start, Some(format!(
                "New offset ({requested}) is lower than earliest offset for topic partition {topic}-{partition}. Value will be set to {start}"
            )));
        }
    }
    (requested, None)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn topic_scope_with_and_without_partitions() {
        assert_eq!(parse_topic_scope("t").unwrap(), ("t".to_string(), None));
        assert_eq!(
            parse_topic_scope("t:0,2").unwrap(),
            ("t".to_string(), Some(vec![0, 2]))
        );
        assert!(parse_topic_scope("t:x").is_err());
    }

    #[test]
    fn datetimes_parse_with_and_without_zones() {
        assert_eq!(parse_datetime("1970-01-01T00:00:00.000").unwrap(), 0);
        assert_eq!(
            parse_datetime("2026-11-24T10:00:00.123").unwrap(),
            1_795_514_400_123
        );
        assert_eq!(
            parse_datetime("2026-11-24T10:00:00Z").unwrap(),
            1_795_514_400_000
        );
        assert_eq!(
            parse_datetime("2026-11-24T12:00:00.123+02:00").unwrap(),
            1_795_514_400_123
        );
        assert!(parse_datetime("2026-11-24 10:00:00").is_err());
        assert!(parse_datetime("2026-13-24T10:00:00").is_err());
    }

    #[test]
    fn durations_parse_like_java() {
        assert_eq!(parse_duration_ms("PT1H").unwrap(), 3_600_000);
        assert_eq!(parse_duration_ms("P1DT2H3M4.5S").unwrap(), 93_784_500);
        assert_eq!(parse_duration_ms("PT0.001S").unwrap(), 1);
        assert!(parse_duration_ms("1H").is_err());
        assert!(parse_duration_ms("PT").is_err());
        assert!(parse_duration_ms("P").is_err());
    }

    #[test]
    fn out_of_range_offsets_are_clamped_with_kafkas_warning() {
        assert_eq!(clamp_offset("t", 0, 5, Some(0), Some(7)), (5, None));
        let (v, w) = clamp_offset("t", 0, 100, Some(0), Some(7));
        assert_eq!(v, 7);
        assert_eq!(
            w.unwrap(),
            "New offset (100) is higher than latest offset for topic partition t-0. Value will be set to 7"
        );
        let (v, w) = clamp_offset("t", 1, -3, Some(2), Some(7));
        assert_eq!(v, 2);
        assert!(w
            .unwrap()
            .contains("lower than earliest offset for topic partition t-1"));
    }

    #[test]
    fn bad_topic_args_are_kafkas_illegal_arguments() {
        assert_eq!(
            parse_topic_scope("t1:0,1"),
            Ok(("t1".to_string(), Some(vec![0, 1])))
        );
        assert_eq!(parse_topic_scope("t1"), Ok(("t1".to_string(), None)));
        assert_eq!(
            parse_topic_scope("t1:x"),
            Err("Invalid partition 'x' specified in topic arg 't1:x''".to_string())
        );
        assert_eq!(
            parse_topic_scope("t1:0,,1"),
            Err("Invalid partition '' specified in topic arg 't1:0,,1''".to_string())
        );
        assert_eq!(
            parse_topic_scope(":"),
            Err("Invalid topic arg ':', expected topic name and partitions".to_string())
        );
        assert_eq!(
            parse_topic_scope("t1:"),
            Err("Invalid topic arg 't1:', expected topic name and partitions".to_string())
        );
    }
}
