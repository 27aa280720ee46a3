//! ConsoleConsumer's `process` loop: poll, print each record, stop at `--max-messages`, at
//! `--timeout-ms` without a record, on a shutdown signal, on a poll error, when stdout is gone,
//! or when the formatter fails on a record (unless `--skip-message-on-error`).

use std::future::Future;
use std::io::Write;
use std::time::{Duration, Instant};

use client::ClientError;

use crate::formatter::{MessageFormatter, RecordView};

/// Where records come from: the client library's consumer, or a fake in tests.
#[allow(async_fn_in_trait)]
pub trait RecordSource {
    async fn poll(&mut self, timeout: Duration) -> Result<Vec<RecordView>, ClientError>;
}

/// Why the loop ended.
#[derive(Debug)]
pub enum EndReason {
    MaxMessages,
    /// No record within `--timeout-ms`.
    Timeout,
    Signal,
    PollError(ClientError),
    /// Writing to stdout failed (e.g. a closed pipe).
    StdoutError,
    /// The formatter threw (the Java exception text) without `--skip-message-on-error`.
    FormatError(String),
}

#[derive(Debug)]
pub struct RunEnd {
    pub count: u64,
    pub reason: EndReason,
    /// Per partition, the first record polled but not printed (topic, partition, offset): the
    /// consumer is rewound there before closing so a commit does not skip it.
    pub unprinted: Vec<(String, i32, i64)>,
}

impl RunEnd {
    fn new(count: u64, reason: EndReason) -> RunEnd {
        RunEnd {
            count,
            reason,
            unprinted: Vec::new(),
        }
    }
}

/// The first record of each partition among `rest`.
fn first_per_partition(rest: &[RecordView]) -> Vec<(String, i32, i64)> {
    let mut out: Vec<(String, i32, i64)> = Vec::new();
    for r in rest {
        if !out
            .iter()
            .any(|(t, p, _)| *t == r.topic && *p == r.partition)
        {
            out.push((r.topic.clone(), r.partition, r.offset));
        }
    }
    out
}

/// How long one poll may block when no `--timeout-ms` is given; only bounds how quickly the
/// loop notices nothing, signals are handled concurrently.
const IDLE_POLL: Duration = Duration::from_secs(1);

/// Prints records until one of the `EndReason`s. A record the formatter fails on counts as
/// processed (Kafka counts it before `writeTo`) and what was written of it stays written; with
/// `skip_message_on_error` set, its exception text is handed to it and the loop goes on.
pub async fn consume<S: RecordSource, W: Write, F: Future<Output = ()>>(
    source: &mut S,
    formatter: &MessageFormatter,
    max_messages: Option<u64>,
    timeout: Option<Duration>,
    out: &mut W,
    mut skip_message_on_error: Option<&mut dyn FnMut(&str)>,
    shutdown: F,
) -> RunEnd {
    tokio::pin!(shutdown);
    let mut count: u64 = 0;
    if max_messages == Some(0) {
        return RunEnd::new(count, EndReason::MaxMessages);
    }
    let mut waiting_since = Instant::now();
    loop {
        let poll_for = match timeout {
            Some(t) => t.saturating_sub(waiting_since.elapsed()),
            None => IDLE_POLL,
        };
        let records = tokio::select! {
            _ = &mut shutdown => return RunEnd::new(count, EndReason::Signal),
            polled = source.poll(poll_for) => match polled {
                Ok(r) => r,
                Err(e) => return RunEnd::new(count, EndReason::PollError(e)),
            },
        };
        if records.is_empty() {
            if let Some(t) = timeout {
                if waiting_since.elapsed() >= t {
                    return RunEnd::new(count, EndReason::Timeout);
                }
            }
            continue;
        }
        for (i, record) in records.iter().enumerate() {
            count += 1;
            let bytes = match formatter.format(record) {
                Ok(bytes) => bytes,
                Err(failure) => {
                    if out.write_all(&failure.written).is_err() {
                        return RunEnd {
                            unprinted: first_per_partition(&records[i..]),
                            ..RunEnd::new(count, EndReason::StdoutError)
                        };
                    }
                    match skip_message_on_error.as_mut() {
                        Some(report) => {
                            // stderr carries the log line: what was written so far must show
                            // first, as Kafka's PrintStream has it.
                            if out.flush().is_err() {
                                return RunEnd::new(count, EndReason::StdoutError);
                            }
                            report(&failure.exception);
                            Vec::new()
                        }
                        None => {
                            let _ = out.flush();
                            return RunEnd {
                                unprinted: first_per_partition(&records[i + 1..]),
                                ..RunEnd::new(count, EndReason::FormatError(failure.exception))
                            };
                        }
                    }
                }
            };
            if out.write_all(&bytes).is_err() {
                return RunEnd {
                    unprinted: first_per_partition(&records[i..]),
                    ..RunEnd::new(count, EndReason::StdoutError)
                };
            }
            if max_messages.is_some_and(|m| count >= m) {
                let unprinted = first_per_partition(&records[i + 1..]);
                if out.flush().is_err() {
                    return RunEnd {
                        unprinted,
                        ..RunEnd::new(count, EndReason::StdoutError)
                    };
                }
                return RunEnd {
                    unprinted,
                    ..RunEnd::new(count, EndReason::MaxMessages)
                };
            }
        }
        // Show a batch as soon as it is printed, as the Java tool's PrintStream does.
        if out.flush().is_err() {
            return RunEnd::new(count, EndReason::StdoutError);
        }
        waiting_since = Instant::now();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::formatter::TimestampKind;
    use std::collections::VecDeque;

    struct FakeSource {
        batches: VecDeque<Result<Vec<RecordView>, ClientError>>,
    }

    impl RecordSource for FakeSource {
        async fn poll(&mut self, timeout: Duration) -> Result<Vec<RecordView>, ClientError> {
            match self.batches.pop_front() {
                Some(b) => b,
                None => {
                    tokio::time::sleep(timeout).await;
                    Ok(Vec::new())
                }
            }
        }
    }

    fn rec(v: &str, offset: i64) -> RecordView {
        RecordView {
            topic: "t".into(),
            partition: 0,
            offset,
            timestamp: 0,
            timestamp_kind: TimestampKind::CreateTime,
            key: None,
            value: Some(v.as_bytes().to_vec()),
            headers: vec![],
        }
    }

    fn run(
        batches: Vec<Result<Vec<RecordView>, ClientError>>,
        max: Option<u64>,
        timeout: Option<Duration>,
    ) -> (RunEnd, String) {
        let mut src = FakeSource {
            batches: batches.into(),
        };
        let mut out = Vec::new();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        let end = rt.block_on(consume(
            &mut src,
            &MessageFormatter::default(),
            max,
            timeout,
            &mut out,
            None,
            std::future::pending::<()>(),
        ));
        (end, String::from_utf8(out).unwrap())
    }

    #[test]
    fn stops_exactly_at_max_messages() {
        let (end, out) = run(
            vec![Ok(vec![rec("a", 0), rec("b", 1)]), Ok(vec![rec("c", 2)])],
            Some(2),
            None,
        );
        assert_eq!(out, "a\nb\n");
        assert_eq!(end.count, 2);
        assert!(matches!(end.reason, EndReason::MaxMessages));
        assert!(end.unprinted.is_empty());
    }

    #[test]
    fn records_polled_but_not_printed_are_reported_for_rewind() {
        let mut other = rec("x", 7);
        other.partition = 1;
        let (end, out) = run(
            vec![Ok(vec![rec("a", 0), rec("b", 1), other, rec("c", 2)])],
            Some(1),
            None,
        );
        assert_eq!(out, "a\n");
        assert_eq!(
            end.unprinted,
            vec![("t".to_string(), 0, 1), ("t".to_string(), 1, 7)]
        );
    }

    #[test]
    fn times_out_when_nothing_arrives() {
        let (end, out) = run(
            vec![Ok(vec![rec("a", 0)]), Ok(vec![])],
            None,
            Some(Duration::from_millis(300)),
        );
        assert_eq!(out, "a\n");
        assert_eq!(end.count, 1);
        assert!(matches!(end.reason, EndReason::Timeout));
    }

    #[test]
    fn poll_error_ends_the_run_with_the_count() {
        let (end, _) = run(
            vec![Ok(vec![rec("a", 0)]), Err(ClientError::kafka(3, None))],
            None,
            None,
        );
        assert_eq!(end.count, 1);
        assert!(matches!(end.reason, EndReason::PollError(_)));
    }

    #[test]
    fn broken_stdout_ends_the_run() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::new(
                    std::io::ErrorKind::BrokenPipe,
                    "closed",
                ))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut src = FakeSource {
            batches: vec![Ok(vec![rec("a", 0)])].into(),
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        let end = rt.block_on(consume(
            &mut src,
            &MessageFormatter::default(),
            None,
            None,
            &mut Broken,
            None,
            std::future::pending::<()>(),
        ));
        assert!(matches!(end.reason, EndReason::StdoutError));
    }

    fn run_with_formatter(
        records: Vec<RecordView>,
        formatter: &MessageFormatter,
        skip: bool,
    ) -> (RunEnd, String, Vec<String>) {
        let mut src = FakeSource {
            batches: vec![Ok(records)].into(),
        };
        let mut out = Vec::new();
        let mut skipped = Vec::new();
        let mut report = |e: &str| skipped.push(e.to_string());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        let end = rt.block_on(consume(
            &mut src,
            formatter,
            Some(3),
            None,
            &mut out,
            if skip {
                Some(&mut report as &mut dyn FnMut(&str))
            } else {
                None
            },
            std::future::pending::<()>(),
        ));
        (end, String::from_utf8(out).unwrap(), skipped)
    }

    fn int_values() -> MessageFormatter {
        MessageFormatter {
            print_key: true,
            value_deserializer: Some(crate::deserializer::Deserializer::Integer),
            ..MessageFormatter::default()
        }
    }

    fn int_rec(value: &[u8], offset: i64) -> RecordView {
        RecordView {
            value: Some(value.to_vec()),
            ..rec("", offset)
        }
    }

    #[test]
    fn a_formatter_error_ends_the_run_counting_the_record() {
        let (end, out, _) = run_with_formatter(
            vec![
                int_rec(&[0, 0, 0, 1], 0),
                int_rec(b"bad", 1),
                int_rec(&[0, 0, 0, 3], 2),
            ],
            &int_values(),
            false,
        );
        assert_eq!(out, "null\t1\nnull\t");
        assert_eq!(end.count, 2);
        match end.reason {
            EndReason::FormatError(e) => assert_eq!(e, "org.apache.kafka.common.errors.SerializationException: Size of data received by IntegerDeserializer is not 4"),
            other => panic!("{other:?}"),
        }
        assert_eq!(end.unprinted, vec![("t".to_string(), 0, 2)]);
    }

    #[test]
    fn skip_message_on_error_reports_and_goes_on() {
        let (end, out, skipped) = run_with_formatter(
            vec![
                int_rec(&[0, 0, 0, 1], 0),
                int_rec(b"bad", 1),
                int_rec(&[0, 0, 0, 3], 2),
            ],
            &int_values(),
            true,
        );
        assert_eq!(out, "null\t1\nnull\tnull\t3\n");
        assert_eq!(end.count, 3);
        assert!(matches!(end.reason, EndReason::MaxMessages));
        assert_eq!(skipped.len(), 1);
    }

    #[test]
    fn signal_ends_the_run() {
        let mut src = FakeSource {
            batches: VecDeque::new(),
        };
        let mut out = Vec::new();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        let end = rt.block_on(async {
            consume(
                &mut src,
                &MessageFormatter::default(),
                None,
                None,
                &mut out,
                None,
                tokio::time::sleep(Duration::from_secs(5)),
            )
            .await
        });
        assert!(matches!(end.reason, EndReason::Signal));
        assert_eq!(end.count, 0);
    }
}
