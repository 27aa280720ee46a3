//! Log lines in the format of Kafka's `config/tools-log4j.properties` (`[%d] %p %m (%c)%n`),
//! written to stderr: `[2026-11-24 10:00:00,123] ERROR <message> (<logger>)`. The time is UTC.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

/// Formats one tool log line (without the newline) for the given time.
pub fn format_log_line(time: SystemTime, level: &str, message: &str, logger: &str) -> String {
    format!("[{}] {level} {message} ({logger})", format_timestamp(time))
}

/// `yyyy-MM-dd HH:mm:ss,SSS` in UTC (`common::time::format_timestamp_ms`).
pub fn format_timestamp(time: SystemTime) -> String {
    let ms = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    common::time::format_timestamp_ms(ms)
}

/// Writes a log line to stderr now.
pub fn log(level: &str, message: &str, logger: &str) {
    let line = format_log_line(SystemTime::now(), level, message, logger);
    // stderr being closed leaves nowhere to report to.
    let _ = writeln!(std::io::stderr(), "{line}");
}

pub fn error(message: &str, logger: &str) {
    log("ERROR", message, logger);
}

pub fn warn(message: &str, logger: &str) {
    log("WARN", message, logger);
}

pub use client::network_log::{connection_not_established, java_socket_address, NETWORK_CLIENT};

/// A `tracing` layer that prints, in the tools' layout, the WARN and ERROR events whose target
/// is a Kafka logger name (`org.apache.kafka...`): the lines Kafka's own tools print with
/// `config/tools-log4j.properties` (root logger at WARN). Other events are the library's own
/// diagnostics and are left to `RUST_LOG`.
pub struct KafkaLogLayer;

struct MessageVisitor(String);

impl tracing::field::Visit for MessageVisitor {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "message" {
            self.0 = value.to_string();
        }
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for KafkaLogLayer {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let meta = event.metadata();
        if !meta.target().starts_with("org.apache.kafka.") || *meta.level() > tracing::Level::WARN {
            return;
        }
        let mut message = MessageVisitor(String::new());
        event.record(&mut message);
        log(meta.level().as_str(), &message.0, meta.target());
    }
}

/// Installs the tools' logging: [`KafkaLogLayer`] always, and the library's own diagnostics on
/// stderr when `RUST_LOG` asks for them.
pub fn init_tool_logging() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;
    let diagnostics = std::env::var_os("RUST_LOG").map(|_| {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .with_filter(tracing_subscriber::EnvFilter::from_default_env())
    });
    let _ = tracing_subscriber::registry()
        .with(KafkaLogLayer)
        .with(diagnostics)
        .try_init();
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn log_line_matches_kafka_tools_layout() {
        // 2026-11-24 10:00:00.123 UTC
        let t = UNIX_EPOCH + Duration::from_millis(1_795_514_400_123);
        assert_eq!(
            format_log_line(t, "ERROR", "boom", "org.apache.kafka.tools.TopicCommand"),
            "[2026-11-24 10:00:00,123] ERROR boom (org.apache.kafka.tools.TopicCommand)"
        );
    }

    #[test]
    fn timestamps_across_leap_years() {
        assert_eq!(format_timestamp(UNIX_EPOCH), "1970-01-01 00:00:00,000");
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(format_timestamp(t), "2000-02-29 00:00:00,000");
    }
}
