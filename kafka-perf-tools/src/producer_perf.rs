//! `kafka-producer-perf-test`: Kafka 3.9's `org.apache.kafka.tools.ProducerPerformance` on our
//! client library. Its argparse4j options (`producer-performance`, facts sheet §5), the payloads
//! it sends (`--record-size` random letters from `SplittableRandom(0)`, `--payload-file` lines
//! picked at random, `--payload-monotonic` counters), `--throughput` throttling, optional
//! transactions (`--transaction-duration-ms` > 0), and its output: a window line every 5 s and
//! the final line with average, maximum and percentile latencies, send to acknowledgement in ms.
//!
//! Differences, each to fail clearly where Kafka's tool would not:
//! - a `send` that fails before the record is queued (no metadata within `max.block.ms`, a
//!   closed producer) ends the run with exit 1 after the final line, where Kafka's tool would
//!   wait `max.block.ms` again for every remaining record;
//! - the first 100 failed deliveries are printed (Kafka prints every stack trace), then a count;
//!   any failed record makes the exit code 1 (Kafka's is 0);
//! - `--print-metrics` prints the tool's own producer-metrics (record counts, rates and sizes) in
//!   `ToolsUtils.printMetrics`' layout; the client library keeps no metrics registry.

use std::io::Write;
use std::time::Instant;

use bytes::Bytes;
use cli::argparse::{Exclusive, Kind, Namespace, Opt, Parser, Stop};
use client::producer::{DeliveryFuture, Producer, ProducerConfig, ProducerRecord};
use client::ClientError;
use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::sync::mpsc;

use crate::metrics::{print_metrics, Metric};
use crate::progress::records_bar;
use crate::random::SplittableRandom;
use crate::stats::Stats;
use crate::{set_property, JavaException};
use cli::throttler::{Nap, Throttler};

pub const PROG: &str = "producer-performance";
/// `--transactional-id`'s default.
pub const DEFAULT_TRANSACTIONAL_ID: &str = "performance-producer-default-transactional-id";
/// Failed deliveries printed before the rest are only counted.
const PRINTED_FAILURES: u64 = 100;

/// `argParser()`.
pub fn parser() -> Parser {
    let mut p = Parser::new(PROG);
    p.default_help = true;
    p.description = "This tool is used to verify the producer performance.";
    p.exclusive.push(Exclusive {
        title: "",
        description: "either --record-size or --payload-file must be specified but not both.",
        required: true,
    });
    p.opts.push(
        Opt::value(
            &["--topic"],
            "topic",
            Kind::Str,
            "produce messages to this topic",
        )
        .metavar("TOPIC")
        .required(),
    );
    p.opts.push(
        Opt::value(
            &["--num-records"],
            "numRecords",
            Kind::Long,
            "number of messages to produce",
        )
        .metavar("NUM-RECORDS")
        .required(),
    );
    p.opts.push(
        Opt::value(
            &["--record-size"],
            "recordSize",
            Kind::Int,
            "message size in bytes. Note that you must provide exactly one of --record-size or --payload-file or --payload-monotonic.",
        )
        .metavar("RECORD-SIZE")
        .in_exclusive(0),
    );
    p.opts.push(
        Opt::value(
            &["--payload-file"],
            "payloadFile",
            Kind::Str,
            "file to read the message payloads from. This works only for UTF-8 encoded text files. Payloads will be read from this file and a payload will be randomly selected when sending messages. Note that you must provide exactly one of --record-size or --payload-file or --payload-monotonic.",
        )
        .metavar("PAYLOAD-FILE")
        .in_exclusive(0),
    );
    p.opts.push(
        Opt::flag(
            &["--payload-monotonic"],
            "payloadMonotonic",
            "payload is monotonically increasing integer. Note that you must provide exactly one of --record-size or --payload-file or --payload-monotonic.",
        )
        .in_exclusive(0),
    );
    p.opts.push(
        Opt::value(
            &["--payload-delimiter"],
            "payloadDelimiter",
            Kind::Str,
            "provides delimiter to be used when --payload-file is provided. Defaults to new line. Note that this parameter will be ignored if --payload-file is not provided.",
        )
        .metavar("PAYLOAD-DELIMITER")
        .default("\\n"),
    );
    p.opts.push(
        Opt::value(
            &["--throughput"],
            "throughput",
            Kind::Double,
            "throttle maximum message throughput to *approximately* THROUGHPUT messages/sec. Set this to -1 to disable throttling.",
        )
        .metavar("THROUGHPUT")
        .required(),
    );
    p.opts.push(
        Opt::value(
            &["--producer-props"],
            "producerConfig",
            Kind::List,
            "kafka producer related configuration properties like bootstrap.servers,client.id etc. These configs take precedence over those passed via --producer.config.",
        )
        .metavar("PROP-NAME=PROP-VALUE"),
    );
    p.opts.push(
        Opt::value(
            &["--producer.config"],
            "producerConfigFile",
            Kind::Str,
            "producer config properties file.",
        )
        .metavar("CONFIG-FILE"),
    );
    p.opts.push(Opt::flag(
        &["--print-metrics"],
        "printMetrics",
        "print out metrics at the end of the test.",
    ));
    p.opts.push(
        Opt::value(
            &["--transactional-id"],
            "transactionalId",
            Kind::Str,
            "The transactionalId to use if transaction-duration-ms is > 0. Useful when testing the performance of concurrent transactions.",
        )
        .metavar("TRANSACTIONAL-ID")
        .default(DEFAULT_TRANSACTIONAL_ID),
    );
    p.opts.push(
        Opt::value(
            &["--transaction-duration-ms"],
            "transactionDurationMs",
            Kind::Long,
            "The max age of each transaction. The commitTransaction will be called after this time has elapsed. Transactions are only enabled if this value is positive.",
        )
        .metavar("TRANSACTION-DURATION")
        .default("0"),
    );
    p
}

/// Where the payloads come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// `--record-size`: this many random uppercase letters per record.
    Size(usize),
    /// `--payload-file`: the file's delimited pieces, one picked at random per record.
    File(Vec<Bytes>),
    /// `--payload-monotonic`: the record's index in decimal.
    Monotonic,
}

/// The options after `ConfigPostProcessor`'s checks.
#[derive(Debug, Clone, PartialEq)]
pub struct PerfOptions {
    pub topic: String,
    pub num_records: u64,
    pub payload: Payload,
    pub throughput: f64,
    /// The producer's properties: `--producer.config`, then `--producer-props` over it, then
    /// the tool's own (`client.id` when unset, `transactional.id` with transactions).
    pub producer_props: Vec<(String, String)>,
    pub print_metrics: bool,
    /// `Some(ms)` when transactions are on.
    pub transaction_duration_ms: Option<u64>,
}

/// How the tool stops before producing.
#[derive(Debug)]
pub enum Early {
    /// What argparse4j stopped with: `-h` (help, exit 1 as Kafka's `handleError` path ends) or
    /// a parse error (usage and `error:` line on stderr, exit 1). With no arguments at all the
    /// tool prints the help and exits 0 instead (see the binary).
    Parse(Stop),
    /// An `ArgumentParserException` raised after parsing: usage and `error:` line, exit 1.
    Invalid(String),
    /// An exception escaping `main`: `Exception in thread "main" ...`, exit 1.
    Exception(JavaException),
}

/// Parses and checks the arguments; reads `--payload-file` and `--producer.config` (printing
/// the two lines Kafka prints while reading the payload file to `out`).
pub fn options(args: &[String], out: &mut impl Write) -> Result<PerfOptions, Early> {
    let p = parser();
    let ns = p.parse(args).map_err(Early::Parse)?;
    post_process(&p, &ns, out)
}

fn post_process(p: &Parser, ns: &Namespace, out: &mut impl Write) -> Result<PerfOptions, Early> {
    let invalid = |message: &str| Early::Invalid(p.error_text(message));
    let num_records = ns.get_i64("numRecords").unwrap_or(0);
    if num_records <= 0 {
        return Err(invalid("--num-records should be greater than zero"));
    }
    let record_size = ns.get_i32("recordSize");
    if record_size.is_some_and(|s| s <= 0) {
        return Err(invalid("--record-size should be greater than zero"));
    }
    let props_list = ns.get_list("producerConfig");
    let config_file = ns.get("producerConfigFile");
    if props_list.is_none() && config_file.is_none() {
        return Err(invalid(
            "Either --producer-props or --producer.config must be specified.",
        ));
    }
    let delimiter = match ns.get("payloadDelimiter").unwrap_or("\\n") {
        "\\n" => "\n",
        d => d,
    };
    let payload = if let Some(size) = record_size {
        Payload::Size(size as usize)
    } else if let Some(path) = ns.get("payloadFile") {
        let payloads = read_payload_file(path, delimiter, out)?;
        if payloads.is_empty() {
            // `generateRandomPayload` with an empty list, no size and no monotonic flag.
            return Err(Early::Exception(JavaException::new(
                "java.lang.IllegalArgumentException",
                "no payload File Path or record Size or payload-monotonic option provided",
            )));
        }
        Payload::File(payloads)
    } else {
        Payload::Monotonic
    };
    let mut props: Vec<(String, String)> = Vec::new();
    if let Some(path) = config_file {
        let loaded = cli::load_properties(path)
            .map_err(|e| Early::Exception(JavaException::new(e.java_class(), e.java_message())))?;
        props = loaded.to_pairs();
    }
    for prop in props_list.unwrap_or_default() {
        // Java's `prop.split("=")`: trailing empty pieces dropped, exactly two required.
        let mut pieces: Vec<&str> = prop.split('=').collect();
        while pieces.last() == Some(&"") {
            pieces.pop();
        }
        if pieces.len() != 2 {
            return Err(Early::Exception(JavaException::new(
                "java.lang.IllegalArgumentException",
                format!("Invalid property: {prop}"),
            )));
        }
        set_property(&mut props, pieces[0], pieces[1]);
    }
    if !props.iter().any(|(k, _)| k == "client.id") {
        set_property(&mut props, "client.id", "perf-producer-client");
    }
    let duration = ns.get_i64("transactionDurationMs").unwrap_or(0);
    let transaction_duration_ms = (duration > 0).then_some(duration as u64);
    if transaction_duration_ms.is_some() {
        let id = ns
            .get("transactionalId")
            .unwrap_or(DEFAULT_TRANSACTIONAL_ID);
        set_property(&mut props, "transactional.id", id);
    }
    Ok(PerfOptions {
        topic: ns.get("topic").unwrap_or_default().to_string(),
        num_records: num_records as u64,
        payload,
        throughput: ns.get_f64("throughput").unwrap_or(-1.0),
        producer_props: props,
        print_metrics: ns.get_flag("printMetrics"),
        transaction_duration_ms,
    })
}

/// `readPayloadFile`: the file split on `delimiter` (empty pieces skipped, as `Scanner` does),
/// with Kafka's two progress lines.
fn read_payload_file(
    path: &str,
    delimiter: &str,
    out: &mut impl Write,
) -> Result<Vec<Bytes>, Early> {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.into());
    let _ = writeln!(out, "Reading payloads from: {}", absolute.display());
    let text = match std::fs::read(path) {
        Ok(b) if !b.is_empty() => String::from_utf8_lossy(&b).into_owned(),
        _ => {
            return Err(Early::Exception(JavaException::new(
                "java.lang.IllegalArgumentException",
                "File does not exist or empty file provided.",
            )))
        }
    };
    // `Scanner.useDelimiter(pattern)`: the delimiter is a regular expression; tokens between
    // two delimiters are kept even when empty, the empty piece after a final delimiter is not.
    let pattern = regex::Regex::new(delimiter).map_err(|e| {
        Early::Exception(JavaException::new(
            "java.util.regex.PatternSyntaxException",
            e.to_string(),
        ))
    })?;
    let mut pieces: Vec<&str> = pattern.split(&text).collect();
    if pieces.first() == Some(&"") {
        pieces.remove(0);
    }
    if pieces.last() == Some(&"") {
        pieces.pop();
    }
    let payloads: Vec<Bytes> = pieces
        .into_iter()
        .map(|s| Bytes::copy_from_slice(s.as_bytes()))
        .collect();
    let _ = writeln!(out, "Number of messages read: {}", payloads.len());
    Ok(payloads)
}

/// A millisecond clock from the start of the run, read as `System.currentTimeMillis()` would be:
/// latencies are differences of whole milliseconds, as Kafka's tool computes them.
#[derive(Debug, Clone, Copy)]
struct Clock(Instant);

impl Clock {
    fn ms(&self) -> i64 {
        self.0.elapsed().as_millis() as i64
    }

    fn ms_at(&self, t: Instant) -> i64 {
        t.duration_since(self.0).as_millis() as i64
    }
}

/// What the delivery collector ends with.
struct Outcome {
    stats: Stats,
    failed: u64,
    max_size: usize,
}

/// Runs the test and prints Kafka's lines to stdout. Returns the exit code.
pub async fn run(opts: PerfOptions) -> i32 {
    let config = match producer_config(&opts) {
        Ok(c) => c,
        Err(e) => return e.print_uncaught(),
    };
    let producer = match Producer::new(config).await {
        Ok(p) => p,
        Err(e) => return JavaException::from_client(&e).print_uncaught(),
    };
    if opts.transaction_duration_ms.is_some() {
        if let Err(e) = producer.init_transactions().await {
            return JavaException::from_client(&e).print_uncaught();
        }
    }
    let clock = Clock(Instant::now());
    let bar = records_bar(opts.num_records, "records acknowledged");
    let (tx, rx) = mpsc::unbounded_channel::<(i64, usize, DeliveryFuture)>();
    let collector = tokio::spawn(collect(
        rx,
        Stats::new(opts.num_records, 0),
        clock,
        bar.clone(),
    ));

    let mut throttler = Throttler::new(opts.throughput);
    let mut random = SplittableRandom::new(0);
    let mut stopped: Option<ClientError> = None;
    let mut in_transaction = false;
    let mut transaction_start = 0;
    let mut transaction_size = 0u64;
    for i in 0..opts.num_records {
        let payload = match &opts.payload {
            Payload::Size(size) => {
                let mut buf = vec![0u8; *size];
                random.fill_letters(&mut buf);
                Bytes::from(buf)
            }
            Payload::File(list) => list[random.next_int(list.len() as i32) as usize].clone(),
            Payload::Monotonic => Bytes::from(i.to_string()),
        };
        if opts.transaction_duration_ms.is_some() && !in_transaction {
            if let Err(e) = producer.begin_transaction() {
                stopped = Some(e);
                break;
            }
            in_transaction = true;
            transaction_start = clock.ms();
        }
        let size = payload.len();
        let send_start = clock.ms();
        match producer
            .send(ProducerRecord::new(opts.topic.as_str(), payload))
            .await
        {
            Ok(delivery) => {
                let _ = tx.send((send_start, size, delivery));
            }
            Err(e) => {
                stopped = Some(e);
                break;
            }
        }
        transaction_size += 1;
        if let Some(duration) = opts.transaction_duration_ms {
            if duration as i64 <= send_start - transaction_start {
                if let Err(e) = producer.commit_transaction().await {
                    stopped = Some(e);
                    break;
                }
                in_transaction = false;
                transaction_size = 0;
            }
        }
        if throttler.should_throttle(i, clock.0.elapsed()) {
            match throttler.throttle() {
                Nap::None => {}
                Nap::For(pause) => tokio::time::sleep(pause).await,
                Nap::Forever => std::future::pending::<()>().await,
            }
        }
    }
    if stopped.is_none() && in_transaction && transaction_size > 0 {
        if let Err(e) = producer.commit_transaction().await {
            stopped = Some(e);
        }
    }
    let flushed = producer.flush().await;
    drop(tx);
    let outcome = match collector.await {
        Ok(o) => o,
        Err(_) => {
            eprintln!("the delivery collector stopped unexpectedly");
            return 1;
        }
    };
    bar.finish_and_clear();
    let Outcome {
        mut stats,
        failed,
        max_size,
    } = outcome;
    // Kafka's tool closes the producer before the final line (after it with --print-metrics,
    // whose figures here do not come from the producer).
    let _ = producer.close().await;
    let end_ms = clock.ms();
    let mut out = std::io::stdout().lock();
    stats.print_total(end_ms, &mut out);
    if opts.print_metrics {
        let client_id = opts
            .producer_props
            .iter()
            .find(|(k, _)| k == "client.id")
            .map_or("perf-producer-client", |(_, v)| v.as_str());
        let seconds = (end_ms.max(1)) as f64 / 1000.0;
        let sent = stats.count() as f64;
        let metric =
            |name: &str, value: f64| Metric::new("producer-metrics", name, client_id, value);
        let metrics = vec![
            metric("record-send-total", sent),
            metric("record-send-rate", sent / seconds),
            metric("record-error-total", failed as f64),
            metric("record-error-rate", failed as f64 / seconds),
            metric(
                "record-size-avg",
                if sent > 0.0 {
                    stats.bytes() as f64 / sent
                } else {
                    0.0
                },
            ),
            metric("record-size-max", max_size as f64),
        ];
        print_metrics(&metrics, &mut out);
    }
    drop(out);
    if failed > PRINTED_FAILURES {
        eprintln!(
            "{} more records failed; {failed} in all.",
            failed - PRINTED_FAILURES
        );
    }
    if let Some(e) = stopped {
        JavaException::from_client(&e).print();
        eprintln!(
            "Stopped after {} of {} records: the producer could not send.",
            stats.count() + failed,
            opts.num_records
        );
        return 1;
    }
    if let Err(e) = flushed {
        JavaException::from_client(&e).print();
        return 1;
    }
    i32::from(failed > 0)
}

/// The producer config from the tool's properties; `bootstrap.servers` is required, as Kafka's
/// `ProducerConfig` requires it.
fn producer_config(opts: &PerfOptions) -> Result<ProducerConfig, JavaException> {
    let has_bootstrap = opts
        .producer_props
        .iter()
        .any(|(k, v)| k == "bootstrap.servers" && !v.trim().is_empty());
    if !has_bootstrap {
        return Err(JavaException::new(
            cli::admin::CONFIG_EXCEPTION,
            "Missing required configuration \"bootstrap.servers\" which has no default value.",
        ));
    }
    ProducerConfig::from_properties(&opts.producer_props)
        .map_err(|e| JavaException::from_client(&e))
}

/// Awaits every record's delivery as it completes (not in send order) and feeds [`Stats`].
async fn collect(
    mut rx: mpsc::UnboundedReceiver<(i64, usize, DeliveryFuture)>,
    mut stats: Stats,
    clock: Clock,
    bar: indicatif::ProgressBar,
) -> Outcome {
    let mut pending = FuturesUnordered::new();
    let mut failed = 0u64;
    let mut max_size = 0usize;
    let mut open = true;
    let mut lines = Vec::new();
    loop {
        tokio::select! {
            item = rx.recv(), if open => match item {
                Some((start, size, delivery)) => pending.push(async move {
                    let result = delivery.await;
                    (start, size, result, Instant::now())
                }),
                None => open = false,
            },
            Some((start, size, result, done)) = pending.next(), if !pending.is_empty() => {
                match result {
                    Ok(_) => {
                        let now = clock.ms_at(done);
                        let latency = (now - start).clamp(0, i64::from(i32::MAX)) as i32;
                        stats.record(latency, size, now, &mut lines);
                        max_size = max_size.max(size);
                        if !lines.is_empty() {
                            bar.suspend(|| {
                                let mut out = std::io::stdout().lock();
                                let _ = out.write_all(&lines);
                                let _ = out.flush();
                            });
                            lines.clear();
                        }
                        bar.inc(1);
                    }
                    Err(e) => {
                        failed += 1;
                        if failed <= PRINTED_FAILURES {
                            bar.suspend(|| JavaException::from_client(&e).print());
                        }
                    }
                }
            },
            else => break,
        }
    }
    Outcome {
        stats,
        failed,
        max_size,
    }
}
