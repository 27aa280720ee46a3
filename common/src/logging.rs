//! The servers' log lines (broker and zookeeper-lite) in Kafka's `log4j.properties` layout,
//! `[2026-11-24 18:00:00,123] INFO <message> (<module>)`, so operators (and the e2e harness) read
//! one format across our servers. Times are UTC. [`KafkaFormat`] only formats; [`init`] installs
//! it as the process's `tracing` subscriber writing to stderr (the one place here that decides
//! where bytes go, called once by each server's `main`).

use std::fmt;
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use crate::time::{format_timestamp_ms, now_ms};

/// Kafka's server log layout, `[%d] %p %m (%c)%n`, as a `tracing_subscriber` event format.
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
        write!(
            writer,
            "[{}] {} ",
            format_timestamp_ms(now_ms()),
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
