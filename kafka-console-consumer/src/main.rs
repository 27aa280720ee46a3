//! `kafka-console-consumer`: prints the records of a topic (Kafka 3.9's `ConsoleConsumer` with
//! its `DefaultMessageFormatter`). Without `--partition` it subscribes through a consumer group
//! (`--group`, or a generated `console-consumer-N` with auto commit off); with `--partition` it
//! assigns that partition directly. On the way out, records polled but not printed are rewound
//! before the consumer closes, so its commit does not skip them.

mod client_source;
mod consume;
mod deserializer;
mod formatter;
mod options;

use std::io::Write;
use std::time::Duration;

use cli::exception::exception_class;
use cli::tool_log;
use client::consumer::{Consumer, ConsumerConfig, StartOffset};
use client::{Admin, ClientError};

use crate::consume::{EndReason, RunEnd};
use crate::options::{ConsumerOptions, Source, StartAt};

const LOGGER: &str = "org.apache.kafka.tools.consumer.ConsoleConsumer";
const FORMATTER_LOGGER: &str = "org.apache.kafka.tools.consumer.DefaultMessageFormatter";
/// How long closing (final commit, LeaveGroup) may take, as Kafka's `close()` default of 30 s.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(30);

fn main() {
    // Kafka's WARN/ERROR log lines; the client library's own log (group joins, assignments)
    // only when asked for through RUST_LOG: by default stderr carries what Kafka's tool prints.
    tool_log::init_tool_logging();
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let opts = match options::parse_args(&args) {
        Ok(o) => o,
        Err(abort) => abort.exit(&options::parser()),
    };
    std::process::exit(run(opts));
}

fn run(opts: ConsumerOptions) -> i32 {
    for w in &opts.warnings {
        eprintln!("{w}");
    }
    for name in &opts.formatter.unknown_deserializers {
        tool_log::error(
            &format!("Unable to instantiate a deserializer from {name}"),
            FORMATTER_LOGGER,
        );
        eprintln!("java.lang.ClassNotFoundException: {name}");
    }
    let config = match ConsumerConfig::from_properties(&opts.consumer_props.to_pairs()) {
        Ok(c) => c,
        Err(e) => {
            // Thrown by the KafkaConsumer constructor, before `process` and its count.
            tool_log::error("Unknown error when running consumer: ", LOGGER);
            eprintln!("{}: {e}", exception_class(&e));
            return 1;
        }
    };
    if let Source::Include(raw) = &opts.source {
        // `Pattern.compile` in the ConsumerWrapper constructor, before `process`: no count.
        if let Err(e) = include_regex(raw) {
            tool_log::error("Unknown error when running consumer: ", LOGGER);
            eprintln!(
                "java.util.regex.PatternSyntaxException: {}\n{raw}",
                e.to_string().lines().last().unwrap_or_default().trim()
            );
            return 1;
        }
    }
    cli::admin::run_async(async move {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        // Kafka's shutdown hook wakes the consumer up; here the signal ends the run the same way.
        tokio::spawn(async move {
            cli::signal::wait_for_shutdown_signal().await;
            let _ = stop_tx.send(true);
        });
        // Kafka's consumer keeps trying an unreachable cluster inside `poll` (logging each
        // failed connection) until `--timeout-ms` ends the run; a signal ends it too.
        let deadline = opts
            .timeout_ms
            .map(|t| tokio::time::Instant::now() + Duration::from_millis(t));
        let mut backoff = RECONNECT_BACKOFF;
        let setup_result = loop {
            let attempt = tokio::select! {
                r = setup(&opts, config.clone()) => r,
                _ = stopped(stop_rx.clone()) => {
                    eprintln!("Processed a total of 0 messages");
                    return 0;
                }
            };
            match attempt {
                Err(e) if e.is_retriable() => {
                    if let Some(text) = tool_log::connection_not_established(&e) {
                        tool_log::warn(
                            &format!("{} {text}", log_context(&opts)),
                            tool_log::NETWORK_CLIENT,
                        );
                    }
                    let wake = tokio::time::Instant::now() + backoff;
                    backoff = (backoff * 2).min(RECONNECT_BACKOFF_MAX);
                    let last = deadline.filter(|d| wake >= *d);
                    tokio::select! {
                        _ = tokio::time::sleep_until(last.unwrap_or(wake)) => {}
                        _ = stopped(stop_rx.clone()) => {
                            eprintln!("Processed a total of 0 messages");
                            return 0;
                        }
                    }
                    if last.is_some() {
                        break Err(None);
                    }
                }
                Err(e) => break Err(Some(e)),
                Ok(c) => break Ok(c),
            }
        };
        let end = match setup_result {
            Ok(mut consumer) => {
                let end = {
                    let stdout = std::io::stdout();
                    let mut out = std::io::BufWriter::new(stdout.lock());
                    let mut skip_report = |exception: &str| {
                        tool_log::error(
                            "Error processing message, skipping this message: ",
                            LOGGER,
                        );
                        eprintln!("{exception}");
                    };
                    consume::consume(
                        &mut consumer,
                        &opts.formatter,
                        opts.max_messages,
                        opts.timeout_ms.map(Duration::from_millis),
                        &mut out,
                        if opts.skip_message_on_error {
                            Some(&mut skip_report as &mut dyn FnMut(&str))
                        } else {
                            None
                        },
                        stopped(stop_rx.clone()),
                    )
                    .await
                };
                for (topic, partition, offset) in &end.unprinted {
                    let _ = consumer.seek(topic, *partition, *offset);
                }
                // Closing (final commit, LeaveGroup) is bounded, as Kafka's `close()` is.
                tokio::select! {
                    _ = consumer.close() => {}
                    _ = tokio::time::sleep(CLOSE_TIMEOUT) => {}
                }
                end
            }
            // Still unreachable when --timeout-ms ran out: `receive` throws its TimeoutException.
            Err(None) => RunEnd {
                count: 0,
                reason: EndReason::Timeout,
                unprinted: Vec::new(),
            },
            // Anything else fails the first `poll`: `process` logs it and returns normally.
            Err(Some(e)) => RunEnd {
                count: 0,
                reason: EndReason::PollError(e),
                unprinted: Vec::new(),
            },
        };
        finish(&opts, end)
    })
    .unwrap_or(1)
}

/// `reconnect.backoff.ms` and `reconnect.backoff.max.ms` defaults: the pace of reconnects.
const RECONNECT_BACKOFF: Duration = Duration::from_millis(50);
const RECONNECT_BACKOFF_MAX: Duration = Duration::from_millis(1000);

/// The consumer's log prefix: `[Consumer clientId=console-consumer, groupId=console-consumer-N]`.
fn log_context(opts: &ConsumerOptions) -> String {
    format!(
        "[Consumer clientId={}, groupId={}]",
        opts.consumer_props
            .get("client.id")
            .unwrap_or("console-consumer"),
        opts.consumer_props.get("group.id").unwrap_or_default()
    )
}

/// Kafka's `LOG.error("Error processing message, terminating consumer process: ", e)`.
fn log_terminating(e: &ClientError) {
    tool_log::error(
        "Error processing message, terminating consumer process: ",
        LOGGER,
    );
    eprintln!("{}: {e}", poll_exception_class(e));
}

/// The class of what `KafkaConsumer.poll` throws: the consumer's own exceptions for a position
/// out of range without reset policy (FetchCollector) and for a partition without position
/// (`NoOffsetForPartitionException`), else the error code's class.
fn poll_exception_class(e: &ClientError) -> String {
    match e {
        ClientError::Kafka { code: 1, .. } => {
            "org.apache.kafka.clients.consumer.OffsetOutOfRangeException".to_string()
        }
        ClientError::InvalidArgument(m)
            if m.starts_with("Undefined offset with no reset policy for partitions: ") =>
        {
            "org.apache.kafka.clients.consumer.NoOffsetForPartitionException".to_string()
        }
        _ => exception_class(e),
    }
}

fn finish(opts: &ConsumerOptions, end: RunEnd) -> i32 {
    match &end.reason {
        EndReason::Timeout => {
            tool_log::error(
                "Error processing message, terminating consumer process: ",
                LOGGER,
            );
            eprintln!("org.apache.kafka.common.errors.TimeoutException");
        }
        EndReason::PollError(e) => log_terminating(e),
        EndReason::StdoutError => eprintln!("Unable to write to standard out, closing consumer."),
        EndReason::MaxMessages | EndReason::Signal | EndReason::FormatError(_) => {}
    }
    eprintln!("Processed a total of {} messages", end.count);
    if let EndReason::FormatError(exception) = &end.reason {
        // The formatter's exception leaves `process` after the count is reported; `main`
        // logs it and exits 1.
        tool_log::error("Unknown error when running consumer: ", LOGGER);
        eprintln!("{exception}");
        if opts.enable_systest_events {
            let _ = writeln!(std::io::stdout(), "shutdown_complete");
        }
        return 1;
    }
    if opts.enable_systest_events {
        // stdout may be the thing that failed; nothing more to do then.
        let _ = writeln!(std::io::stdout(), "shutdown_complete");
    }
    0
}

fn start_offset(s: StartAt) -> Option<StartOffset> {
    match s {
        StartAt::Earliest => Some(StartOffset::Earliest),
        StartAt::Latest => Some(StartOffset::Latest),
        StartAt::Offset(n) => Some(StartOffset::Offset(n)),
        StartAt::NoReset => None,
    }
}

/// `--include`: a regex that must match a whole topic name.
fn include_regex(raw: &str) -> Result<regex::Regex, regex::Error> {
    regex::Regex::new(&format!("^(?:{})$", raw.trim()))
}

/// Creates the consumer and subscribes (group) or assigns `--partition`.
async fn setup(opts: &ConsumerOptions, config: ConsumerConfig) -> Result<Consumer, ClientError> {
    let bootstrap = config.bootstrap_servers.clone();
    let client_id = config.client_id.clone();
    let mut consumer = Consumer::new(config).await?;
    let start = start_offset(opts.start);
    let pattern = match &opts.source {
        Source::Topic(_) => None,
        Source::Include(raw) => Some(include_regex(raw).map_err(|e| {
            ClientError::InvalidArgument(format!("{raw} is an invalid regex: {e}"))
        })?),
    };
    let assignment: Vec<(String, i32)> = match (&opts.source, opts.partition) {
        (Source::Topic(t), Some(partition)) => vec![(t.clone(), partition)],
        (source, _) if consumer.group_protocol_supported().await? => {
            // The group protocol runs on the first poll; positions come from the group's
            // committed offsets, else auto.offset.reset. Topics created later are picked up by
            // the consumer's metadata refreshes (a pattern is matched again at each one).
            match (source, pattern) {
                (_, Some(pattern)) => consumer.subscribe_pattern(pattern).await?,
                (Source::Topic(t), None) => consumer.subscribe(vec![t.clone()]).await?,
                (Source::Include(_), None) => {}
            }
            return Ok(consumer);
        }
        (source, _) => {
            // A broker without group coordination: read every partition directly, nothing is
            // committed.
            tool_log::warn(
                "The broker does not support consumer groups; assigning all partitions directly without committing offsets.",
                LOGGER,
            );
            let topics = match (source, &pattern) {
                (Source::Topic(t), _) => vec![t.clone()],
                (Source::Include(_), Some(regex)) => {
                    let admin = Admin::connect(&bootstrap, &client_id).await?;
                    let mut names: Vec<String> = admin
                        .list_topics()
                        .await?
                        .into_iter()
                        .filter(|t| !t.internal && regex.is_match(&t.name))
                        .map(|t| t.name)
                        .collect();
                    names.sort();
                    names
                }
                (Source::Include(_), None) => Vec::new(),
            };
            let mut all = Vec::new();
            for topic in topics {
                for p in consumer.partitions_for(&topic).await? {
                    all.push((topic.clone(), p));
                }
            }
            all
        }
    };
    let Some(start) = start else {
        let names: Vec<String> = assignment.iter().map(|(t, p)| format!("{t}-{p}")).collect();
        return Err(ClientError::InvalidArgument(format!(
            "Undefined offset with no reset policy for partitions: [{}]",
            names.join(", ")
        )));
    };
    let assignment = assignment.into_iter().map(|(t, p)| (t, p, start)).collect();
    consumer.assign(assignment).await?;
    Ok(consumer)
}

/// Resolves once a shutdown signal has been seen.
async fn stopped(mut rx: tokio::sync::watch::Receiver<bool>) {
    // The sender lives as long as the signal task; if it is gone, no signal can come.
    if rx.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumer_side_exceptions_have_the_consumers_classes() {
        assert_eq!(
            poll_exception_class(&ClientError::kafka(1, Some("Fetch position x"))),
            "org.apache.kafka.clients.consumer.OffsetOutOfRangeException"
        );
        assert_eq!(
            poll_exception_class(&ClientError::InvalidArgument(
                "Undefined offset with no reset policy for partitions: [t-0]".into()
            )),
            "org.apache.kafka.clients.consumer.NoOffsetForPartitionException"
        );
        assert_eq!(
            poll_exception_class(&ClientError::kafka(26, None)),
            "org.apache.kafka.common.errors.InvalidSessionTimeoutException"
        );
    }
}
