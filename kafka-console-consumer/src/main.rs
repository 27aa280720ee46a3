//! `kafka-console-consumer`: prints the records of a topic (Kafka 3.9's `ConsoleConsumer` with
//! its `DefaultMessageFormatter`). Without `--partition` it subscribes through a consumer group
//! (`--group`, or a generated `console-consumer-N` with auto commit off); with `--partition` it
//! assigns that partition directly. On the way out, records polled but not printed are rewound
//! before the consumer closes, so its commit does not skip them.

mod client_source;
mod consume;
mod formatter;
mod options;

use std::io::Write;
use std::time::Duration;

use client::cli::exception::exception_class;
use client::cli::tool_log;
use client::consumer::{Consumer, ConsumerConfig, StartOffset};
use client::{Admin, ClientError};

use crate::consume::{EndReason, RunEnd};
use crate::options::{ConsumerOptions, Source, StartAt};

const LOGGER: &str = "org.apache.kafka.tools.consumer.ConsoleConsumer";
/// How long closing (final commit, LeaveGroup) may take, as Kafka's `close()` default of 30 s.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(30);

fn main() {
    // The client library's own log (group joins, assignments) only when asked for through
    // RUST_LOG: by default stderr carries exactly what Kafka's tool prints.
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .try_init();
    }
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
        tool_log::warn(w, LOGGER);
    }
    let config = match ConsumerConfig::from_properties(&opts.consumer_props.to_pairs()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{}: {e}", exception_class(&e));
            return 1;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return 1;
        }
    };
    runtime.block_on(async move {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            wait_for_shutdown_signal().await;
            let _ = stop_tx.send(true);
        });
        // A signal while connecting or resolving partitions ends the run too.
        let setup_result = tokio::select! {
            r = setup(&opts, config) => r,
            _ = stopped(stop_rx.clone()) => {
                eprintln!("Processed a total of 0 messages");
                return 0;
            }
        };
        let end = match setup_result {
            Ok(mut consumer) => {
                let end = {
                    let stdout = std::io::stdout();
                    let mut out = std::io::BufWriter::new(stdout.lock());
                    consume::consume(
                        &mut consumer,
                        &opts.formatter,
                        opts.max_messages,
                        opts.timeout_ms.map(Duration::from_millis),
                        &mut out,
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
            Err(e) => {
                log_terminating(&e);
                eprintln!("Processed a total of 0 messages");
                return 1;
            }
        };
        finish(&opts, end)
    })
}

/// Kafka's `LOG.error("Error processing message, terminating consumer process: ", e)`.
fn log_terminating(e: &ClientError) {
    tool_log::error(
        "Error processing message, terminating consumer process: ",
        LOGGER,
    );
    eprintln!("{}: {e}", exception_class(e));
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
        EndReason::MaxMessages | EndReason::Signal => {}
    }
    eprintln!("Processed a total of {} messages", end.count);
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

/// Creates the consumer and subscribes (group) or assigns `--partition`.
async fn setup(opts: &ConsumerOptions, config: ConsumerConfig) -> Result<Consumer, ClientError> {
    let bootstrap = config.bootstrap_servers.clone();
    let client_id = config.client_id.clone();
    let mut consumer = Consumer::new(config).await?;
    let start = start_offset(opts.start);
    let pattern = match &opts.source {
        Source::Topic(_) => None,
        Source::Include(raw) => Some(regex::Regex::new(&format!("^(?:{})$", raw.trim())).map_err(
            |e| ClientError::InvalidArgument(format!("{raw} is an invalid regex: {e}")),
        )?),
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

/// Ctrl-C, SIGTERM or SIGHUP (Kafka's shutdown hook wakes the consumer up).
async fn wait_for_shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) {
            (Ok(mut term), Ok(mut hup)) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                    _ = hup.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
