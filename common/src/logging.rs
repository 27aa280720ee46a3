//! Log lines in Kafka's layout, `[2026-11-24 18:00:00,123] INFO <message> (<module>)`, on stderr,
//! so operators (and the e2e harness) read one format across our servers. Times are UTC.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

pub struct KafkaFormat;

impl<S, N> FormatEvent<S, N> for KafkaFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        write!(
            writer,
            "[{}] {} ",
            timestamp(since_epoch.as_millis()),
            event.metadata().level()
        )?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer, " ({})", event.metadata().target())
    }
}

/// Installs the subscriber: Kafka layout, stderr, level from `RUST_LOG` (default info).
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(filter)
        .event_format(KafkaFormat)
        .init();
}

/// `2026-11-24 18:00:00,123` for milliseconds since the Unix epoch (UTC).
fn timestamp(millis: u128) -> String {
    let secs = (millis / 1000) as i64;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02},{:03}",
        s / 3600,
        s / 60 % 60,
        s % 60,
        millis % 1000
    )
}

/// Days since 1970-01-01 to (year, month, day); Howard Hinnant's civil_from_days.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_use_kafka_layout() {
        assert_eq!(timestamp(0), "1970-01-01 00:00:00,000");
        // 2026-11-24 18:00:00.123 UTC
        assert_eq!(timestamp(1_795_543_200_123), "2026-11-24 18:00:00,123");
        assert_eq!(timestamp(951_782_400_000), "2000-02-29 00:00:00,000");
    }
}
