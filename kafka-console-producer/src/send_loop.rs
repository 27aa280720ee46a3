//! The producer's main loop (Kafka's `ConsoleProducer.loopReader` and `send`): read lines, turn
//! each into a record, send it, and at the end of input wait until every record is acknowledged.
//!
//! As in Kafka 3.9: without `--sync` a record that fails (too large, topic missing after
//! `max.block.ms`, refused by the broker) is logged by `ErrorLoggingCallback` and the loop goes
//! on, exiting 0 at the end of input; with `--sync` the first failure ends the program with the
//! `ExecutionException` that `send(record).get()` throws, exit 1. A line the reader cannot parse
//! ends it with the reader's `KafkaException`, exit 1. Lines read before the failure are
//! delivered first either way (Kafka closes the producer before the exception escapes).

use std::future::Future;
use std::sync::Arc;
use std::time::SystemTime;

use cli::exception::exception_class;
use cli::tool_log::format_log_line;
use client::ClientError;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::line_reader::{LineReaderConfig, LineRecord};

/// What the stdin reader (or a signal) hands the loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Line(String),
    /// End of input, or Ctrl-C / SIGTERM: stop reading, deliver what was read.
    End,
    /// Reading stdin failed.
    ReadError(String),
}

/// Where records go: the client library's producer, or a fake in tests.
#[allow(async_fn_in_trait)]
pub trait Sink {
    type Delivery: Future<Output = Result<(), ClientError>> + Send + 'static;
    /// Queues a record; the returned future resolves when it is acknowledged or has failed.
    async fn send(&self, topic: &str, record: LineRecord) -> Result<Self::Delivery, ClientError>;
    /// Sends everything queued and waits for the answers.
    async fn flush(&self) -> Result<(), ClientError>;
}

/// Receives complete stderr text (log lines, possibly several).
pub type Report = Arc<dyn Fn(&str) + Send + Sync>;

const CALLBACK_LOGGER: &str = "org.apache.kafka.clients.producer.internals.ErrorLoggingCallback";

fn describe_bytes(b: &Option<Vec<u8>>) -> String {
    match b {
        None => "null".to_string(),
        Some(v) => format!("{} bytes", v.len()),
    }
}

/// `ErrorLoggingCallback`'s ERROR line followed by the exception, as Kafka logs a failed send.
pub fn send_error_text(
    topic: &str,
    key: &Option<Vec<u8>>,
    value: &Option<Vec<u8>>,
    e: &ClientError,
) -> String {
    let line = format_log_line(
        SystemTime::now(),
        "ERROR",
        &format!(
            "Error when sending message to topic {topic} with key: {}, value: {} with error:",
            describe_bytes(key),
            describe_bytes(value)
        ),
        CALLBACK_LOGGER,
    );
    format!("{line}\n{}: {e}\n", exception_class(e))
}

/// What `send(record).get()` throws in `--sync` mode, as `printStackTrace` starts it: the
/// `ExecutionException` line and its cause (the Java frames are left out).
pub fn sync_failure_text(e: &ClientError) -> String {
    let cause = format!("{}: {e}", exception_class(e));
    format!("java.util.concurrent.ExecutionException: {cause}\nCaused by: {cause}\n")
}

/// Kafka's `send` hands an `ApiException` (a broker error, a metadata timeout, a record too
/// large) to the callback or the returned future; anything else (the producer closed, a bad
/// argument) is thrown at once and ends the tool.
fn is_api_exception(e: &ClientError) -> bool {
    matches!(
        e,
        ClientError::Kafka { .. } | ClientError::Timeout(_) | ClientError::UnsupportedVersion(_)
    )
}

/// The class of what `send` throws: the producer's argument checks (an allocation above
/// `buffer.memory`, a partition out of range) are `IllegalArgumentException`s, its state checks
/// (a transactional producer sending before `initTransactions`) `IllegalStateException`s.
fn thrown_class(e: &ClientError) -> String {
    match e {
        ClientError::InvalidArgument(_) => "java.lang.IllegalArgumentException".to_string(),
        ClientError::IllegalState(_) => "java.lang.IllegalStateException".to_string(),
        _ => exception_class(e),
    }
}

/// Runs until `Input::End`, a read error, a line that cannot be parsed, or (with `sync`) a
/// failed record; returns the exit code.
pub async fn produce<S: Sink>(
    sink: &S,
    topic: &str,
    reader: &LineReaderConfig,
    sync: bool,
    input: &mut mpsc::Receiver<Input>,
    report: Report,
) -> i32 {
    let mut failed = false;
    let mut deliveries: JoinSet<()> = JoinSet::new();
    let mut line_number: u64 = 0;
    let mut fatal: Option<String> = None;
    loop {
        let line = match input.recv().await {
            Some(Input::Line(line)) => line,
            Some(Input::End) | None => break,
            Some(Input::ReadError(e)) => {
                fatal = Some(format!("java.io.IOException: {e}\n"));
                break;
            }
        };
        line_number += 1;
        let record = match reader.parse_line(&line, line_number) {
            Ok(r) => r,
            Err(message) => {
                fatal = Some(format!(
                    "org.apache.kafka.common.KafkaException: {message}\n"
                ));
                break;
            }
        };
        let (key, value) = (record.key.clone(), record.value.clone());
        match sink.send(topic, record).await {
            Err(e) if !is_api_exception(&e) => {
                fatal = Some(format!("{}: {e}\n", thrown_class(&e)));
                break;
            }
            Err(e) if sync => {
                fatal = Some(sync_failure_text(&e));
                break;
            }
            Err(e) => report(&send_error_text(topic, &key, &value, &e)),
            Ok(delivery) if sync => {
                if let Err(e) = delivery.await {
                    fatal = Some(sync_failure_text(&e));
                    break;
                }
            }
            Ok(delivery) => {
                let report = report.clone();
                let topic = topic.to_string();
                deliveries.spawn(async move {
                    if let Err(e) = delivery.await {
                        report(&send_error_text(&topic, &key, &value, &e));
                    }
                });
                // Reap finished deliveries so a long input does not keep them all.
                while deliveries.try_join_next().is_some() {}
            }
        }
    }
    // Every line read so far is delivered (or has failed) before we report and exit, as
    // Kafka's `producer.close()` does before the exception escapes.
    if let Err(e) = sink.flush().await {
        report(&format!(
            "{}\n",
            format_log_line(
                SystemTime::now(),
                "ERROR",
                &format!("Flushing the producer failed: {e}"),
                "kafka.tools.ConsoleProducer$"
            )
        ));
        failed = true;
    }
    while deliveries.join_next().await.is_some() {}
    if let Some(text) = fatal {
        report(&text);
        return 1;
    }
    i32::from(failed)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use cli::parse_key_value_args;
    use std::pin::Pin;
    use std::sync::Mutex;

    /// Acknowledges every record except values equal to "fail"; "refuse" fails at send time.
    #[derive(Default)]
    struct FakeSink {
        sent: Mutex<Vec<LineRecord>>,
        acked: Arc<Mutex<Vec<LineRecord>>>,
        flushed: Mutex<u32>,
    }

    impl Sink for FakeSink {
        type Delivery = Pin<Box<dyn Future<Output = Result<(), ClientError>> + Send>>;
        async fn send(
            &self,
            _topic: &str,
            record: LineRecord,
        ) -> Result<Self::Delivery, ClientError> {
            if record.value.as_deref() == Some(b"closed") {
                return Err(ClientError::Closed(
                    "Cannot perform operation after producer has been closed".into(),
                ));
            }
            if record.value.as_deref() == Some(b"refuse") {
                return Err(ClientError::Timeout(
                    "Topic t not present in metadata after 60000 ms.".into(),
                ));
            }
            self.sent.lock().unwrap().push(record.clone());
            let acked = self.acked.clone();
            Ok(Box::pin(async move {
                if record.value.as_deref() == Some(b"fail") {
                    Err(ClientError::kafka(3, None))
                } else {
                    acked.lock().unwrap().push(record);
                    Ok(())
                }
            }))
        }
        async fn flush(&self) -> Result<(), ClientError> {
            *self.flushed.lock().unwrap() += 1;
            Ok(())
        }
    }

    fn run(lines: &[&str], props: &[&str], sync: bool) -> (i32, FakeSink, String) {
        let sink = FakeSink::default();
        let reader = LineReaderConfig::from_properties(&parse_key_value_args(props)).unwrap();
        let (tx, mut rx) = mpsc::channel(100);
        for l in lines {
            tx.try_send(Input::Line(l.to_string())).unwrap();
        }
        tx.try_send(Input::End).unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let log2 = log.clone();
        let report: Report = Arc::new(move |s: &str| log2.lock().unwrap().push_str(s));
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let code = rt.block_on(produce(&sink, "t", &reader, sync, &mut rx, report));
        let text = log.lock().unwrap().clone();
        (code, sink, text)
    }

    #[test]
    fn every_line_including_empty_ones_is_sent_and_acknowledged() {
        let (code, sink, log) = run(&["a", "", "c"], &[], false);
        assert_eq!(code, 0);
        assert_eq!(sink.acked.lock().unwrap().len(), 3);
        assert_eq!(*sink.flushed.lock().unwrap(), 1);
        assert!(log.is_empty());
    }

    #[test]
    fn a_failed_delivery_is_logged_and_the_run_goes_on_to_exit_zero() {
        let (code, sink, log) = run(&["a", "fail", "c"], &[], false);
        assert_eq!(code, 0);
        assert_eq!(sink.acked.lock().unwrap().len(), 2);
        assert!(log.contains("ERROR Error when sending message to topic t with key: null, value: 4 bytes with error: (org.apache.kafka.clients.producer.internals.ErrorLoggingCallback)"), "{log}");
        assert!(log.contains("org.apache.kafka.common.errors.UnknownTopicOrPartitionException: "));
    }

    #[test]
    fn a_refused_send_is_logged_and_reading_goes_on() {
        let (code, sink, log) = run(&["refuse", "b"], &[], false);
        assert_eq!(code, 0);
        assert_eq!(sink.acked.lock().unwrap().len(), 1);
        assert!(log.contains("org.apache.kafka.common.errors.TimeoutException: Topic t not present in metadata after 60000 ms."));
    }

    #[test]
    fn sync_mode_stops_at_the_first_failure() {
        let (code, sink, log) = run(&["a", "fail", "c"], &[], true);
        assert_eq!(code, 1);
        assert_eq!(sink.sent.lock().unwrap().len(), 2);
        assert_eq!(
            log,
            "java.util.concurrent.ExecutionException: org.apache.kafka.common.errors.UnknownTopicOrPartitionException: This server does not host this topic-partition.\n\
             Caused by: org.apache.kafka.common.errors.UnknownTopicOrPartitionException: This server does not host this topic-partition.\n"
        );
    }

    #[test]
    fn sync_mode_stops_when_the_send_itself_is_refused() {
        let (code, sink, log) = run(&["a", "refuse", "c"], &[], true);
        assert_eq!(code, 1);
        assert_eq!(sink.acked.lock().unwrap().len(), 1);
        assert!(log.starts_with("java.util.concurrent.ExecutionException: org.apache.kafka.common.errors.TimeoutException: Topic t not present in metadata after 60000 ms.\n"), "{log}");
        assert!(!log.contains("ErrorLoggingCallback"), "{log}");
    }

    #[test]
    fn a_send_that_is_not_an_api_exception_ends_the_run() {
        let (code, sink, log) = run(&["a", "closed", "c"], &[], false);
        assert_eq!(code, 1);
        assert_eq!(sink.acked.lock().unwrap().len(), 1);
        assert!(
            log.contains("Cannot perform operation after producer has been closed"),
            "{log}"
        );
    }

    #[test]
    fn missing_key_separator_stops_after_delivering_earlier_lines() {
        let (code, sink, log) = run(&["k\tv", "nokey", "k2\tv2"], &["parse.key=true"], false);
        assert_eq!(code, 1);
        assert_eq!(sink.acked.lock().unwrap().len(), 1);
        assert_eq!(
            sink.acked.lock().unwrap()[0].key.as_deref(),
            Some(&b"k"[..])
        );
        assert!(log.contains("org.apache.kafka.common.KafkaException: No key separator found on line number 2: 'nokey'"));
    }

    #[test]
    fn argument_errors_thrown_by_send_are_illegal_argument_exceptions() {
        assert_eq!(
            thrown_class(&ClientError::InvalidArgument("x".into())),
            "java.lang.IllegalArgumentException"
        );
        assert_eq!(
            thrown_class(&ClientError::IllegalState("x".into())),
            "java.lang.IllegalStateException"
        );
        assert_eq!(
            thrown_class(&ClientError::Closed("x".into())),
            "org.apache.kafka.common.KafkaException"
        );
    }

    #[test]
    fn key_description_counts_bytes() {
        let text = send_error_text(
            "t",
            &Some(b"ab".to_vec()),
            &None,
            &ClientError::kafka(2, None),
        );
        assert!(text.contains("with key: 2 bytes, value: null with error:"));
    }
}
