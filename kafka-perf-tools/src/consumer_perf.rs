//! `kafka-consumer-perf-test`: Kafka 3.9's `org.apache.kafka.tools.ConsumerPerformance` on our
//! client library. jopt-simple options (`ConsumerPerfOptions`, facts sheet §5), a group consumer
//! (`subscribe`, `poll(100 ms)`) that reads `--messages` records or stops when `--timeout` ms
//! pass without one, and Kafka's CSV output: a header, then the summary line (or with
//! `--show-detailed-stats` a line per `--reporting-interval`). Bytes counted are key + value;
//! MB is 1024 x 1024 bytes; times are `--date-format` in the local zone.

use std::io::Write;
use std::time::Duration;

use cli::usage::{check_required_args, maybe_help_or_version};
use cli::{Abort, OptionParser, ParsedOptions, ValueType};
use client::consumer::{Consumer, ConsumerConfig};
use common::time::now_ms;

use crate::date_format::DateFormat;
use crate::metrics::{print_metrics, Metric};
use crate::progress::records_bar;
use crate::stats::java_fixed;
use crate::{set_property, JavaException};

/// What `maybePrintHelpOrVersion` prints above the usage.
pub const HELP_MESSAGE: &str = "This tool is used to verify the consumer performance.";

/// `ConsumerPerfOptions`' option table, with Kafka 3.9's descriptions and defaults. `group`'s
/// default is `perf-consumer-<0..99999>`, drawn once per run.
pub fn parser(default_group: &str) -> OptionParser {
    let mut p = OptionParser::new();
    p.accepts("broker-list", "DEPRECATED, use --bootstrap-server instead; ignored if --bootstrap-server is specified.  The broker list string in the form HOST1:PORT1,HOST2:PORT2.")
        .with_required_arg()
        .described_as("broker-list");
    p.accepts(
        "bootstrap-server",
        "REQUIRED unless --broker-list(deprecated) is specified. The server(s) to connect to.",
    )
    .with_required_arg()
    .described_as("server to connect to")
    .required_unless("broker-list");
    p.accepts("topic", "REQUIRED: The topic to consume from.")
        .with_required_arg()
        .described_as("topic");
    p.accepts("group", "The group id to consume on.")
        .with_required_arg()
        .described_as("gid")
        .defaults_to(default_group);
    p.accepts(
        "fetch-size",
        "The amount of data to fetch in a single request.",
    )
    .with_required_arg()
    .described_as("size")
    .of_type(ValueType::Integer)
    .defaults_to("1048576");
    p.accepts("from-latest", "If the consumer does not already have an established offset to consume from, start with the latest message present in the log rather than the earliest message.");
    p.accepts("socket-buffer-size", "The size of the tcp RECV size.")
        .with_required_arg()
        .described_as("size")
        .of_type(ValueType::Integer)
        .defaults_to("2097152");
    p.accepts(
        "threads",
        "DEPRECATED AND IGNORED: Number of processing threads.",
    )
    .with_required_arg()
    .described_as("count")
    .of_type(ValueType::Integer)
    .defaults_to("10");
    p.accepts(
        "num-fetch-threads",
        "DEPRECATED AND IGNORED: Number of fetcher threads.",
    )
    .with_required_arg()
    .described_as("count")
    .of_type(ValueType::Integer)
    .defaults_to("1");
    p.accepts("consumer.config", "Consumer config properties file.")
        .with_required_arg()
        .described_as("config file");
    p.accepts("print-metrics", "Print out the metrics.");
    p.accepts(
        "show-detailed-stats",
        "If set, stats are reported for each reporting interval as configured by reporting-interval",
    );
    p.accepts(
        "timeout",
        "The maximum allowed time in milliseconds between returned records.",
    )
    .with_optional_arg()
    .described_as("milliseconds")
    .of_type(ValueType::Long)
    .defaults_to("10000");
    p.accepts("messages", "REQUIRED: The number of messages to consume.")
        .with_required_arg()
        .described_as("count")
        .of_type(ValueType::Long);
    p.accepts(
        "reporting-interval",
        "Interval in milliseconds at which to print progress info.",
    )
    .with_required_arg()
    .described_as("interval_ms")
    .of_type(ValueType::Long)
    .defaults_to("5000");
    p.accepts("date-format", "The date format to use for formatting the time field. See java.text.SimpleDateFormat for options.")
        .with_required_arg()
        .described_as("date format")
        .defaults_to("yyyy-MM-dd HH:mm:ss:SSS");
    p.accepts(
        "hide-header",
        "If set, skips printing the header for the stats",
    );
    p
}

/// The options the run needs.
#[derive(Debug, Clone, PartialEq)]
pub struct PerfOptions {
    pub topic: String,
    pub num_messages: i64,
    pub timeout_ms: i64,
    pub reporting_interval_ms: i64,
    pub show_detailed_stats: bool,
    pub hide_header: bool,
    pub print_metrics: bool,
    pub date_format: DateFormat,
    /// The consumer's properties: `--consumer.config`, then the tool's.
    pub props: Vec<(String, String)>,
}

/// Why the tool stops before consuming.
#[derive(Debug)]
pub enum Early {
    /// Help, version or a usage error (`CommandLineUtils`).
    Abort(Abort),
    /// An exception `main` catches: its message on stderr, exit 1.
    Exception(JavaException),
}

/// Parses and checks the arguments (`ConsumerPerfOptions`' constructor and getters). Prints
/// the deprecation warning for `--threads` / `--num-fetch-threads` to `out`.
pub fn options(
    parser: &OptionParser,
    args: &[String],
    out: &mut impl Write,
) -> Result<PerfOptions, Early> {
    let o = parser
        .parse(args)
        .map_err(|e| Early::Abort(Abort::Usage(e.to_string())))?;
    maybe_help_or_version(args.len(), &o, HELP_MESSAGE).map_err(Early::Abort)?;
    if o.has("threads") || o.has("num-fetch-threads") {
        let _ = writeln!(
            out,
            "WARNING: option [threads] and [num-fetch-threads] have been deprecated and will be ignored by the test"
        );
    }
    check_required_args(&o, &["topic", "messages"]).map_err(Early::Abort)?;
    if o.has("broker-list") && !o.has("bootstrap-server") {
        let _ = writeln!(
            out,
            "WARNING: option [broker-list] has been deprecated and will be removed in a future version"
        );
    }
    let reporting_interval_ms = o.long_of("reporting-interval").unwrap_or(5000);
    if reporting_interval_ms <= 0 {
        return Err(Early::Exception(JavaException::new(
            "java.lang.IllegalArgumentException",
            "Reporting interval must be greater than 0.",
        )));
    }
    let date_format =
        DateFormat::new(o.value_of("date-format").unwrap_or_default()).map_err(|m| {
            Early::Exception(JavaException::new("java.lang.IllegalArgumentException", m))
        })?;
    Ok(PerfOptions {
        topic: o.value_of("topic").unwrap_or_default().to_string(),
        num_messages: o.long_of("messages").unwrap_or(0),
        timeout_ms: o.long_of("timeout").unwrap_or(10_000),
        reporting_interval_ms,
        show_detailed_stats: o.has("show-detailed-stats"),
        hide_header: o.has("hide-header"),
        print_metrics: o.has("print-metrics"),
        date_format,
        props: props(&o)?,
    })
}

/// `ConsumerPerfOptions.props()`.
fn props(o: &ParsedOptions) -> Result<Vec<(String, String)>, Early> {
    let mut props = match o.value_of("consumer.config") {
        Some(path) => cli::load_properties(path)
            .map_err(|e| Early::Exception(JavaException::new(e.java_class(), e.java_message())))?
            .to_pairs(),
        None => Vec::new(),
    };
    let bootstrap = o
        .value_of("bootstrap-server")
        .or_else(|| o.value_of("broker-list"))
        .unwrap_or_default();
    let mut set = |k: &str, v: &str| set_property(&mut props, k, v);
    set("bootstrap.servers", bootstrap);
    set("group.id", o.value_of("group").unwrap_or_default());
    set(
        "receive.buffer.bytes",
        o.value_of("socket-buffer-size").unwrap_or("2097152"),
    );
    set(
        "max.partition.fetch.bytes",
        o.value_of("fetch-size").unwrap_or("1048576"),
    );
    set(
        "auto.offset.reset",
        if o.has("from-latest") {
            "latest"
        } else {
            "earliest"
        },
    );
    set("check.crcs", "false");
    if !props.iter().any(|(k, _)| k == "client.id") {
        props.push(("client.id".to_string(), "perf-consumer-client".to_string()));
    }
    Ok(props)
}

/// Kafka's header line.
pub fn header(show_detailed_stats: bool) -> String {
    let fields = ", rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec";
    if show_detailed_stats {
        format!(
            "time, threadId, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec{fields}"
        )
    } else {
        format!("start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec{fields}")
    }
}

const MB: f64 = 1024.0 * 1024.0;

/// The summary line (`main`'s final `printf`).
#[allow(clippy::too_many_arguments)]
pub fn summary_line(
    format: &DateFormat,
    start_ms: i64,
    end_ms: i64,
    bytes: u64,
    messages: u64,
    join_ms: i64,
) -> String {
    let elapsed_sec = (end_ms - start_ms) as f64 / 1000.0;
    let fetch_ms = (end_ms - start_ms) - join_ms;
    let mb = bytes as f64 / MB;
    format!(
        "{}, {}, {}, {}, {messages}, {}, {join_ms}, {fetch_ms}, {}, {}",
        format.format(start_ms),
        format.format(end_ms),
        java_fixed(mb, 4),
        java_fixed(mb / elapsed_sec, 4),
        java_fixed(messages as f64 / elapsed_sec, 4),
        java_fixed(mb / (fetch_ms as f64 / 1000.0), 4),
        java_fixed(messages as f64 / (fetch_ms as f64 / 1000.0), 4),
    )
}

/// `printConsumerProgress`: one `--show-detailed-stats` line.
#[allow(clippy::too_many_arguments)]
pub fn progress_line(
    format: &DateFormat,
    bytes: u64,
    last_bytes: u64,
    messages: u64,
    last_messages: u64,
    start_ms: i64,
    end_ms: i64,
    join_ms_in_round: i64,
) -> String {
    let elapsed_ms = (end_ms - start_ms) as f64;
    let interval_mb = (bytes - last_bytes) as f64 / MB;
    let interval_messages = messages - last_messages;
    let fetch_ms = end_ms - start_ms - join_ms_in_round;
    let (fetch_mb_sec, fetch_msg_sec) = if fetch_ms <= 0 {
        (0.0, 0.0)
    } else {
        (
            1000.0 * interval_mb / fetch_ms as f64,
            1000.0 * interval_messages as f64 / fetch_ms as f64,
        )
    };
    format!(
        "{}, 0, {}, {}, {messages}, {}, {join_ms_in_round}, {fetch_ms}, {}, {}",
        format.format(end_ms),
        java_fixed(bytes as f64 / MB, 4),
        java_fixed(1000.0 * interval_mb / elapsed_ms, 4),
        java_fixed(interval_messages as f64 / elapsed_ms * 1000.0, 4),
        java_fixed(fetch_mb_sec, 4),
        java_fixed(fetch_msg_sec, 4),
    )
}

/// Runs the test; returns the exit code.
pub async fn run(opts: PerfOptions) -> i32 {
    let mut out = std::io::stdout();
    if !opts.hide_header {
        let _ = writeln!(out, "{}", header(opts.show_detailed_stats));
    }
    let config = match ConsumerConfig::from_properties(&opts.props) {
        Ok(c) => c,
        Err(e) => return fail(&JavaException::from_client(&e)),
    };
    let mut consumer = match Consumer::new(config).await {
        Ok(c) => c,
        Err(e) => return fail(&JavaException::from_client(&e)),
    };
    let client_id = opts
        .props
        .iter()
        .find(|(k, _)| k == "client.id")
        .map_or_else(String::new, |(_, v)| v.clone());
    let start_ms = now_ms();
    if let Err(e) = consumer.subscribe(vec![opts.topic.clone()]).await {
        return fail(&JavaException::from_client(&e));
    }
    let bar = records_bar(opts.num_messages.max(0) as u64, "records consumed");
    let num_messages = opts.num_messages.max(0) as u64;
    let (mut bytes, mut messages, mut last_bytes, mut last_messages) = (0u64, 0u64, 0u64, 0u64);
    let mut join_ms: i64 = 0;
    let mut join_in_round: i64 = 0;
    let mut assigned = false;
    let mut now = now_ms();
    let mut last_report = now;
    let mut last_consumed = now;
    let mut polls = 0u64;
    while messages < num_messages && now - last_consumed <= opts.timeout_ms {
        // A poll that cannot reach a broker may take longer than asked; it is not allowed past
        // the moment --timeout would end the loop.
        let left = (opts.timeout_ms - (now - last_consumed)).max(0) as u64 + 1;
        let polled = tokio::time::timeout(
            Duration::from_millis(left),
            consumer.poll(Duration::from_millis(100)),
        )
        .await;
        let records = match polled {
            Err(_) => break,
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                bar.finish_and_clear();
                consumer.close().await;
                return fail(&JavaException::from_client(&e));
            }
        };
        polls += 1;
        now = now_ms();
        // The rebalance listener's `onPartitionsAssigned`: the time from the start (or the last
        // revocation of everything) to the first assignment.
        let has_assignment = !consumer.assignment().is_empty();
        if has_assignment && !assigned {
            let elapsed = now - start_ms - join_ms;
            join_ms += elapsed.max(0);
            join_in_round += elapsed.max(0);
        }
        assigned = has_assignment;
        if !records.is_empty() {
            last_consumed = now;
        }
        for record in &records {
            messages += 1;
            bytes += record.key.as_ref().map_or(0, |k| k.len() as u64);
            bytes += record.value.as_ref().map_or(0, |v| v.len() as u64);
            if now - last_report >= opts.reporting_interval_ms {
                if opts.show_detailed_stats {
                    let line = progress_line(
                        &opts.date_format,
                        bytes,
                        last_bytes,
                        messages,
                        last_messages,
                        last_report,
                        now,
                        join_in_round,
                    );
                    bar.suspend(|| {
                        let _ = writeln!(out, "{line}");
                    });
                }
                join_in_round = 0;
                last_report = now;
                last_messages = messages;
                last_bytes = bytes;
            }
        }
        bar.set_position(messages.min(num_messages));
    }
    bar.finish_and_clear();
    if messages < num_messages {
        let _ = writeln!(
            out,
            "WARNING: Exiting before consuming the expected number of messages: timeout ({} ms) exceeded. You can use the --timeout option to increase the timeout.",
            opts.timeout_ms
        );
    }
    let end_ms = now_ms();
    consumer.close().await;
    if !opts.show_detailed_stats {
        let _ = writeln!(
            out,
            "{}",
            summary_line(
                &opts.date_format,
                start_ms,
                end_ms,
                bytes,
                messages,
                join_ms
            )
        );
    }
    if opts.print_metrics {
        let seconds = ((end_ms - start_ms).max(1)) as f64 / 1000.0;
        let metric = |name: &str, value: f64| {
            Metric::new("consumer-fetch-manager-metrics", name, &client_id, value)
        };
        print_metrics(
            &[
                metric("records-consumed-total", messages as f64),
                metric("records-consumed-rate", messages as f64 / seconds),
                metric("bytes-consumed-total", bytes as f64),
                metric("bytes-consumed-rate", bytes as f64 / seconds),
                Metric::new("consumer-metrics", "poll-total", &client_id, polls as f64),
            ],
            &mut out,
        );
    }
    let _ = out.flush();
    0
}

/// `main`'s catch: the message, then the exception, on stderr; exit 1.
fn fail(e: &JavaException) -> i32 {
    eprintln!("{}", e.message);
    e.print();
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt() -> DateFormat {
        DateFormat::new("SSS").unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn summary_line_has_kafkas_fields() {
        let line = summary_line(&fmt(), 1000, 3000, 2 * 1024 * 1024, 2048, 500);
        // start, end, 2 MB, 1 MB/s, 2048 msgs, 1024 msg/s, 500 ms join, 1500 ms fetch, ...
        assert_eq!(
            line,
            "000, 000, 2.0000, 1.0000, 2048, 1024.0000, 500, 1500, 1.3333, 1365.3333"
        );
    }

    #[test]
    fn a_zero_fetch_time_prints_javas_infinity() {
        let line = summary_line(&fmt(), 1000, 1043, 1024, 1, 43);
        assert!(line.ends_with(", 43, 0, Infinity, Infinity"), "{line}");
    }

    #[test]
    fn header_lines() {
        assert_eq!(
            header(false),
            "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec"
        );
        assert!(header(true).starts_with("time, threadId, "));
    }

    #[test]
    fn progress_line_with_and_without_fetch_time() {
        let line = progress_line(&fmt(), 1024 * 1024, 0, 100, 0, 0, 1000, 0);
        assert_eq!(
            line,
            "000, 0, 1.0000, 1.0000, 100, 100.0000, 0, 1000, 1.0000, 100.0000"
        );
        let line = progress_line(&fmt(), 1024 * 1024, 0, 100, 0, 0, 1000, 1000);
        assert!(line.ends_with(", 1000, 0, 0.0000, 0.0000"), "{line}");
    }

    #[test]
    fn options_need_topic_and_messages_and_set_the_consumer_props() {
        let p = parser("perf-consumer-1");
        let args = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        let mut out = Vec::new();
        match options(&p, &args("--bootstrap-server b:1 --topic t"), &mut out) {
            Err(Early::Abort(Abort::Usage(m))) => {
                assert_eq!(m, "Missing required argument \"[messages]\"")
            }
            other => panic!("{other:?}"),
        }
        let o = options(
            &p,
            &args("--bootstrap-server b:1 --topic t --messages 5 --from-latest --threads 3"),
            &mut out,
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            String::from_utf8(out).unwrap_or_default(),
            "WARNING: option [threads] and [num-fetch-threads] have been deprecated and will be ignored by the test\n"
        );
        let get = |k: &str| {
            o.props
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("auto.offset.reset"), Some("latest"));
        assert_eq!(get("group.id"), Some("perf-consumer-1"));
        assert_eq!(get("client.id"), Some("perf-consumer-client"));
        assert_eq!(get("max.partition.fetch.bytes"), Some("1048576"));
        assert_eq!(o.num_messages, 5);
        assert_eq!(o.timeout_ms, 10_000);
    }
}
