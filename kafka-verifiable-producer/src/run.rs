//! `VerifiableProducer.run` and its shutdown hook: `startup_complete`, then the values 0, 1, 2 ...
//! (`<prefix>.<n>` with `--value-prefix`) with keys only under `--repeating-keys`, throttled to
//! `--throughput`; each acknowledgement or failure is a JSON line, printed in send order. When
//! `--max-messages` are sent, or on SIGINT / SIGTERM / SIGHUP, the producer is closed (what is
//! in flight is answered and printed), then `shutdown_complete` and `tool_data`.

use std::io::Write;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use client::producer::{DeliveryFuture, Producer, ProducerConfig, ProducerRecord};
use client::ClientError;
use tokio::sync::mpsc;

use crate::events::ProducerEvent;
use crate::options::Options;
use cli::exception::java_exception;
use cli::throttler::{Nap, Throttler};
use java_compat::JavaException;

/// Milliseconds since the epoch (`System.currentTimeMillis()`).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Prints one event line on stdout, stamped now, and flushes (Java's `System.out` flushes
/// every `println`). A closed stdout is ignored: nobody is left to read the events.
pub fn emit(event: &ProducerEvent) {
    let line = event.to_json(now_ms());
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// `exception.getClass().toString()` for a client error: `class <Java exception class>`.
pub fn exception_text(e: &ClientError) -> String {
    format!("class {}", cli::exception::exception_class(e))
}

/// `getKey()`: `None`, or under `--repeating-keys n` the counter 0, 1, ... reset to 0 when it
/// reaches n (never, for n <= 0, as in Kafka's tool).
#[derive(Debug, Default)]
pub struct Keys {
    repeating: Option<i32>,
    counter: i32,
}

impl Keys {
    pub fn new(repeating: Option<i32>) -> Self {
        Keys {
            repeating,
            counter: 0,
        }
    }

    pub fn next_key(&mut self) -> Option<String> {
        let n = self.repeating?;
        let key = self.counter.to_string();
        self.counter = self.counter.wrapping_add(1);
        if self.counter == n {
            self.counter = 0;
        }
        Some(key)
    }
}

/// `getValue(val)`: `val`, or `prefix.val`.
pub fn value_of(prefix: Option<i32>, val: u64) -> String {
    match prefix {
        Some(p) => format!("{p}.{val}"),
        None => val.to_string(),
    }
}

/// Runs the tool; returns the exit code: 0 once `tool_data` is printed, 1 when a negative create
/// time ended the run (after `shutdown_complete` and `tool_data`, as Kafka's shutdown hook prints them).
/// `Err`: a failure before the first send (`KafkaProducer`'s constructor rejecting the
/// properties), the exception escaping Kafka's `main`.
pub async fn run(opts: Options) -> Result<i32, JavaException> {
    let config =
        ProducerConfig::from_properties(&opts.producer_props).map_err(|e| java_exception(&e))?;
    let producer = Producer::new(config)
        .await
        .map_err(|e| java_exception(&e))?;
    // The shutdown hook's signals: the handlers are installed by this first poll, before
    // anything is printed, so that a signal after `startup_complete` always ends cleanly.
    let mut stop = Box::pin(cli::signal::wait_for_shutdown_signal());
    let mut stopped = false;
    tokio::select! {
        biased;
        () = &mut stop => stopped = true,
        () = std::future::ready(()) => {}
    }
    let start = Instant::now();
    let start_ms = now_ms();
    let sent = Arc::new(AtomicI64::new(0));
    let acked = Arc::new(AtomicI64::new(0));

    // Acknowledgements are printed in send order by one task (the Java callbacks of one
    // partition run in offset order; here every record waits for the ones sent before it).
    let (tx, mut rx) = mpsc::unbounded_channel::<(Option<String>, String, DeliveryFuture)>();
    let printer = {
        let acked = acked.clone();
        let topic = opts.topic.clone();
        tokio::spawn(async move {
            while let Some((key, value, delivery)) = rx.recv().await {
                match delivery.await {
                    Ok(md) => {
                        acked.fetch_add(1, Ordering::SeqCst);
                        emit(&ProducerEvent::SendSuccess {
                            key,
                            value,
                            topic: md.topic,
                            partition: md.partition,
                            offset: md.offset,
                        });
                    }
                    Err(e) => emit(&ProducerEvent::SendError {
                        topic: topic.clone(),
                        key,
                        value,
                        exception: exception_text(&e),
                        message: Some(e.to_string()),
                    }),
                }
            }
        })
    };

    emit(&ProducerEvent::StartupComplete);
    // The record whose `send` is under way (still waiting for metadata or buffer space) when a
    // signal stops the loop: Kafka's `send` then fails with "Producer closed while send in
    // progress", printed as a producer_send_error.
    let pending: std::cell::RefCell<Option<(Option<String>, String)>> =
        std::cell::RefCell::new(None);
    let send_loop = {
        let pending = &pending;
        let producer = &producer;
        let sent = sent.clone();
        let opts = &opts;
        async move {
            let max = u64::try_from(opts.max_messages).unwrap_or(u64::MAX);
            let mut keys = Keys::new(opts.repeating_keys);
            let mut throttler = Throttler::new(opts.throughput as f64);
            let mut create_time = opts.create_time;
            for i in 0..max {
                if i % 64 == 63 {
                    // An unthrottled loop whose sends queue at once never waits: let the
                    // signal branch of the select below run.
                    tokio::task::yield_now().await;
                }
                let send_start = Instant::now();
                let key = keys.next_key();
                let value = value_of(opts.value_prefix, i);
                let mut record = ProducerRecord::new(opts.topic.clone(), value.clone());
                if let Some(k) = &key {
                    record = record.with_key(k.clone());
                }
                if let Some(t) = create_time {
                    if t < 0 {
                        // `new ProducerRecord` throws before the record counts as sent, out of
                        // Kafka's `send` and `run`.
                        return Some(format!(
                            "Invalid timestamp: {t}. Timestamp should always be non-negative or null."
                        ));
                    }
                    record.timestamp = Some(t);
                    // As Kafka's tool: the next time moves on by the time since the start
                    // (a Java long: it wraps, and the next record is refused).
                    create_time = Some(t.wrapping_add(now_ms() - start_ms));
                }
                sent.fetch_add(1, Ordering::SeqCst);
                pending.replace(Some((key.clone(), value.clone())));
                let result = producer.send(record).await;
                pending.replace(None);
                match result {
                    Ok(delivery) => {
                        // The printer ends only after this loop: the channel is open.
                        let _ = tx.send((key, value, delivery));
                    }
                    Err(e) => emit(&ProducerEvent::SendError {
                        topic: opts.topic.clone(),
                        key,
                        value,
                        exception: exception_text(&e),
                        message: Some(e.to_string()),
                    }),
                }
                // Whole milliseconds, as Kafka's tool measures them.
                let elapsed_ms =
                    u64::try_from(send_start.duration_since(start).as_millis()).unwrap_or(u64::MAX);
                if throttler.should_throttle(i, Duration::from_millis(elapsed_ms)) {
                    match throttler.throttle() {
                        Nap::None => {}
                        Nap::For(d) => tokio::time::sleep(d).await,
                        Nap::Forever => std::future::pending::<()>().await,
                    }
                }
            }
            None
        }
    };
    // The message of an IllegalArgumentException escaping `main` (a negative create time).
    let mut uncaught: Option<String> = None;
    if stopped {
        drop(send_loop);
    } else {
        tokio::select! {
            u = send_loop => uncaught = u,
            () = &mut stop => {}
        }
    }
    if let Some(message) = &uncaught {
        eprintln!(
            "{}",
            JavaException::new("java.lang.IllegalArgumentException", message).uncaught()
        );
    }
    if let Some((key, value)) = pending.take() {
        emit(&ProducerEvent::SendError {
            topic: opts.topic.clone(),
            key,
            value,
            exception: "class org.apache.kafka.common.KafkaException".to_string(),
            message: Some("Producer closed while send in progress".to_string()),
        });
    }
    // The shutdown hook: close (flush and answer everything in flight), then the summary.
    if let Err(e) = producer.close().await {
        tracing::debug!("closing the producer: {e}");
    }
    let _ = printer.await;
    emit(&ProducerEvent::ShutdownComplete);
    let elapsed_ms = start.elapsed().as_millis() as f64;
    let acked = acked.load(Ordering::SeqCst);
    emit(&ProducerEvent::ToolData {
        sent: sent.load(Ordering::SeqCst),
        acked,
        target_throughput: opts.throughput,
        avg_throughput: 1000.0 * (acked as f64 / elapsed_ms.floor()),
    });
    Ok(if uncaught.is_some() { 1 } else { 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_the_counter_with_an_optional_prefix() {
        assert_eq!(value_of(None, 0), "0");
        assert_eq!(value_of(Some(7), 12), "7.12");
        assert_eq!(value_of(Some(-1), 3), "-1.3");
    }

    #[test]
    fn keys_are_null_unless_repeating() {
        let mut k = Keys::new(None);
        assert_eq!(k.next_key(), None);
        let mut k = Keys::new(Some(3));
        let got: Vec<Option<String>> = (0..7).map(|_| k.next_key()).collect();
        let want: Vec<Option<String>> = ["0", "1", "2", "0", "1", "2", "0"]
            .iter()
            .map(|s| Some(s.to_string()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn repeating_keys_of_zero_never_reset_as_in_kafka() {
        let mut k = Keys::new(Some(0));
        let got: Vec<Option<String>> = (0..3).map(|_| k.next_key()).collect();
        assert_eq!(
            got,
            vec![Some("0".into()), Some("1".into()), Some("2".into())]
        );
    }

    #[test]
    fn client_errors_name_their_java_class() {
        assert_eq!(
            exception_text(&ClientError::Timeout("x".into())),
            "class org.apache.kafka.common.errors.TimeoutException"
        );
    }
}
