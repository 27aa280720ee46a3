//! `VerifiableConsumer.run` and its shutdown hook: `startup_complete`, subscribe to the topic
//! through the group, then poll until `--max-messages` are consumed or a signal (SIGINT,
//! SIGTERM, SIGHUP) arrives, printing the rebalances (`partitions_revoked` /
//! `partitions_assigned`, in the order Kafka's listener hears of them), one `records_consumed`
//! per poll that returned records (and `record_data` per record under `--verbose`), and, without
//! `--enable-autocommit`, a synchronous commit of the polled records' offsets after each poll
//! with its `offsets_committed`. An error ends the loop as Kafka's `catch (Throwable t)` does: an
//! ERROR log on stderr. Then the consumer closes (revoking what it holds) and prints
//! `shutdown_complete`.
//!
//! `--group-protocol consumer` (KIP-848): our client speaks only the classic protocol. Against a
//! broker that does not serve ConsumerGroupHeartbeat (ours), the run ends as Kafka 3.9's tool
//! ends against such a broker: the heartbeat manager's fatal error and the tool's ERROR on
//! stderr, `shutdown_complete`, exit 0. Against a broker that does serve it, the tool refuses
//! with a clear ERROR and exit 1 rather than pretend.

use std::collections::BTreeMap;
use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use client::connection::ConnectionOptions;
use client::consumer::RebalanceEvent;
use client::{ClientError, Consumer, ConsumerConfig, ConsumerRecord};

use cli::exception::java_exception;
use java_compat::order::{hash_order, topic_partition_hash, Capacity};
use java_compat::JavaException;

use crate::events::{CommitData, ConsumerEvent, RecordSetSummary};
use crate::options::Options;

/// The tool's logger name in its log lines.
const LOGGER: &str = "org.apache.kafka.tools.VerifiableConsumer";
/// The KIP-848 heartbeat manager's logger.
const HEARTBEAT_LOGGER: &str =
    "org.apache.kafka.clients.consumer.internals.HeartbeatRequestManager";
/// ConsumerGroupHeartbeat's API key.
const CONSUMER_GROUP_HEARTBEAT: i16 = 68;
/// How long one `poll` waits before the loop looks again (Kafka's waits for ever; the signal is
/// watched beside it, so this only bounds the wait of an idle member).
const POLL_TIMEOUT: Duration = Duration::from_secs(1);

/// Milliseconds since the epoch (`System.currentTimeMillis()`).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Prints one event line on stdout, stamped now, and flushes. A closed stdout is ignored.
pub fn emit(event: &ConsumerEvent) {
    let line = event.to_json(now_ms());
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// `log.error("Error during processing, terminating consumer process: ", t)` in the tools'
/// log layout, then the exception's first line.
fn log_processing_error(class: &str, message: &str) {
    cli::tool_log::error(
        "Error during processing, terminating consumer process: ",
        LOGGER,
    );
    eprintln!("{class}: {message}");
}

/// The message of the exception Kafka's `commitSync` throws for a failed commit
/// (`ConsumerCoordinator.OffsetCommitResponseHandler`).
pub fn commit_error_message(e: &ClientError) -> String {
    match e.code() {
        // ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID: CommitFailedException().
        Some(22) | Some(25) => "Commit cannot be completed since the group has already rebalanced and assigned the partitions to another member. This means that the time between subsequent calls to poll() was longer than the configured max.poll.interval.ms, which typically implies that the poll loop is spending too much time message processing. You can address this either by increasing max.poll.interval.ms or by reducing the maximum size of batches returned in poll() with max.poll.records.".to_string(),
        // REBALANCE_IN_PROGRESS: RebalanceInProgressException.
        Some(27) => "Offset commit cannot be completed since the consumer group is executing a rebalance at the moment. You can try completing the rebalance by calling poll() and then retry commit again".to_string(),
        _ => e.to_string(),
    }
}

/// What the tool counts of one poll (`onRecordsReceived`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollSummary {
    /// Per partition, in the order the partitions come in the poll, truncated so that no more
    /// than `--max-messages` are consumed in all.
    pub summaries: Vec<RecordSetSummary>,
    /// The offsets to commit (last counted + 1), in the same order.
    pub offsets: Vec<(String, i32, i64)>,
    /// The indexes of the counted records.
    pub counted: Vec<usize>,
}

/// `onRecordsReceived`'s counting of one poll's records, `consumed_before` already consumed.
pub fn summarize(
    records: &[ConsumerRecord],
    consumed_before: i64,
    max_messages: i64,
) -> PollSummary {
    // Partitions in order of first appearance, each with the indexes of its records.
    let mut order: Vec<(&str, i32)> = Vec::new();
    let mut by_partition: BTreeMap<(&str, i32), Vec<usize>> = BTreeMap::new();
    for (i, r) in records.iter().enumerate() {
        let key = (r.topic.as_str(), r.partition);
        let entry = by_partition.entry(key).or_default();
        if entry.is_empty() {
            order.push(key);
        }
        entry.push(i);
    }
    let mut consumed = consumed_before;
    let mut summaries = Vec::new();
    let mut offsets = Vec::new();
    let mut counted = Vec::new();
    for key in order {
        let mut idx: Vec<usize> = by_partition.remove(&key).unwrap_or_default();
        if max_messages >= 0 {
            let room = usize::try_from((max_messages - consumed).max(0)).unwrap_or(usize::MAX);
            idx.truncate(room);
        }
        let (Some(&first), Some(&last)) = (idx.first(), idx.last()) else {
            continue;
        };
        let (min_offset, max_offset) = (records[first].offset, records[last].offset);
        offsets.push((key.0.to_string(), key.1, max_offset + 1));
        summaries.push(RecordSetSummary {
            topic: key.0.to_string(),
            partition: key.1,
            count: idx.len() as i64,
            min_offset,
            max_offset,
        });
        consumed += idx.len() as i64;
        counted.extend(idx);
        if max_messages >= 0 && consumed >= max_messages {
            break;
        }
    }
    PollSummary {
        summaries,
        offsets,
        counted,
    }
}

fn text(b: &Option<bytes::Bytes>) -> Option<String> {
    b.as_deref()
        .map(|v| String::from_utf8_lossy(v).into_owned())
}

/// Runs the tool; returns the exit code.
pub async fn run(opts: Options) -> Result<i32, JavaException> {
    let mut stop: Pin<Box<dyn Future<Output = ()> + Send>> =
        Box::pin(cli::signal::wait_for_shutdown_signal());
    // Poll once now so that the signal handlers are installed before anything is printed.
    tokio::select! {
        biased;
        () = &mut stop => return Ok(0),
        () = std::future::ready(()) => {}
    }
    let props: Vec<(String, String)> = opts
        .consumer_props
        .iter()
        .filter(|(k, _)| k != "group.protocol" && k != "group.remote.assignor")
        .cloned()
        .collect();
    let config = ConsumerConfig::from_properties(&props).map_err(|e| java_exception(&e))?;
    if opts.consumer_group_protocol() {
        return Ok(consumer_protocol(&config, stop).await);
    }
    let mut consumer = Consumer::new(config)
        .await
        .map_err(|e| java_exception(&e))?;
    consumer.enable_rebalance_events();
    emit(&ConsumerEvent::StartupComplete);
    let mut consumed: i64 = 0;
    let finished = |consumed: i64| opts.max_messages >= 0 && consumed >= opts.max_messages;
    let subscribed = consumer.subscribe(vec![opts.topic.clone()]).await;
    if let Err(e) = &subscribed {
        log_processing_error(&cli::exception::exception_class(e), &e.to_string());
    }
    while subscribed.is_ok() && !finished(consumed) {
        let polled = tokio::select! {
            r = consumer.poll(POLL_TIMEOUT) => r,
            () = &mut stop => break,
        };
        print_rebalances(&mut consumer);
        let records = match polled {
            Ok(r) => r,
            Err(e) => {
                log_processing_error(&cli::exception::exception_class(&e), &e.to_string());
                break;
            }
        };
        if records.is_empty() {
            continue;
        }
        let PollSummary {
            summaries,
            offsets,
            counted,
        } = summarize(&records, consumed, opts.max_messages);
        if opts.verbose {
            for &i in &counted {
                let r = &records[i];
                emit(&ConsumerEvent::RecordData {
                    key: text(&r.key),
                    value: text(&r.value),
                    topic: r.topic.clone(),
                    partition: r.partition,
                    offset: r.offset,
                });
            }
        }
        consumed += counted.len() as i64;
        emit(&ConsumerEvent::RecordsConsumed {
            count: records.len() as i64,
            partitions: summaries,
        });
        if !opts.auto_commit && !commit(&mut consumer, offsets).await {
            break;
        }
    }
    consumer.close().await;
    print_rebalances(&mut consumer);
    emit(&ConsumerEvent::ShutdownComplete);
    Ok(0)
}

/// `commitSync(offsets)` and its `offsets_committed` line. False when the error ends the run
/// (FENCED_INSTANCE_ID, rethrown by Kafka's tool).
async fn commit(consumer: &mut Consumer, offsets: Vec<(String, i32, i64)>) -> bool {
    let result = if offsets.is_empty() {
        // Kafka's commitSync returns at once for no offsets.
        Ok(())
    } else {
        consumer.commit_offsets(&offsets).await
    };
    if let Err(e) = &result {
        if e.code() == Some(82) {
            log_processing_error(&cli::exception::exception_class(e), &e.to_string());
            return false;
        }
    }
    let ordered = hash_order(offsets, Capacity::Default, |(t, p, _)| {
        topic_partition_hash(t, *p)
    });
    emit(&ConsumerEvent::OffsetsCommitted {
        offsets: ordered
            .into_iter()
            .map(|(topic, partition, offset)| CommitData {
                topic,
                partition,
                offset,
            })
            .collect(),
        error: result.as_ref().err().map(commit_error_message),
        success: result.is_ok(),
    });
    true
}

fn print_rebalances(consumer: &mut Consumer) {
    for event in consumer.take_rebalance_events() {
        emit(&match event {
            // The tool's listener does not override onPartitionsLost, whose default revokes.
            RebalanceEvent::Revoked(p) | RebalanceEvent::Lost(p) => {
                ConsumerEvent::PartitionsRevoked(p)
            }
            RebalanceEvent::Assigned(p) => ConsumerEvent::PartitionsAssigned(p),
        });
    }
}

/// `--group-protocol consumer`: see the module documentation.
async fn consumer_protocol(
    config: &ConsumerConfig,
    mut stop: Pin<Box<dyn Future<Output = ()> + Send>>,
) -> i32 {
    emit(&ConsumerEvent::StartupComplete);
    let options = ConnectionOptions {
        client_id: config.client_id.clone(),
        ..Default::default()
    };
    let cluster = match client::cluster::Cluster::new(&config.bootstrap_servers, options) {
        Ok(c) => c,
        Err(e) => {
            log_processing_error(&cli::exception::exception_class(&e), &e.to_string());
            emit(&ConsumerEvent::ShutdownComplete);
            return 0;
        }
    };
    // As Kafka's consumer, keep trying an unreachable cluster until stopped.
    let mut backoff = Duration::from_millis(50);
    let served = loop {
        let attempt = tokio::select! {
            r = cluster.any_connection() => r,
            () = &mut stop => {
                emit(&ConsumerEvent::ShutdownComplete);
                return 0;
            }
        };
        match attempt {
            Ok(conn) => {
                break conn
                    .versions()
                    .broker_range(CONSUMER_GROUP_HEARTBEAT)
                    .is_some()
            }
            Err(e) => {
                tracing::debug!("connecting to the cluster: {e}");
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    () = &mut stop => {
                        emit(&ConsumerEvent::ShutdownComplete);
                        return 0;
                    }
                }
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    };
    if served {
        cli::tool_log::error(
            "The consumer group protocol (KIP-848, --group-protocol consumer) is not implemented by this client; use --group-protocol classic",
            LOGGER,
        );
        emit(&ConsumerEvent::ShutdownComplete);
        return 1;
    }
    let message = "The node does not support CONSUMER_GROUP_HEARTBEAT";
    cli::tool_log::error(
        &format!("GroupHeartbeatRequest failed due to fatal error: {message}"),
        HEARTBEAT_LOGGER,
    );
    log_processing_error(
        "org.apache.kafka.common.errors.UnsupportedVersionException",
        message,
    );
    emit(&ConsumerEvent::ShutdownComplete);
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use client::TimestampType;

    fn record(partition: i32, offset: i64) -> ConsumerRecord {
        ConsumerRecord {
            topic: "t".to_string(),
            partition,
            offset,
            timestamp: 0,
            timestamp_type: TimestampType::CreateTime,
            key: None,
            value: None,
            headers: Vec::new(),
        }
    }

    #[test]
    fn a_poll_is_summarized_per_partition_in_arrival_order() {
        let records = vec![record(1, 5), record(1, 6), record(0, 0), record(1, 7)];
        let s = summarize(&records, 0, -1);
        assert_eq!(
            s.summaries,
            vec![
                RecordSetSummary {
                    topic: "t".to_string(),
                    partition: 1,
                    count: 3,
                    min_offset: 5,
                    max_offset: 7
                },
                RecordSetSummary {
                    topic: "t".to_string(),
                    partition: 0,
                    count: 1,
                    min_offset: 0,
                    max_offset: 0
                },
            ]
        );
        assert_eq!(
            s.offsets,
            vec![("t".to_string(), 1, 8), ("t".to_string(), 0, 1)]
        );
        assert_eq!(s.counted, vec![0, 1, 3, 2]);
    }

    #[test]
    fn max_messages_cuts_the_poll_short() {
        let records = vec![record(0, 0), record(0, 1), record(1, 0), record(1, 1)];
        // Three already consumed of a maximum of six: three more count.
        let s = summarize(&records, 3, 6);
        assert_eq!(s.counted, vec![0, 1, 2]);
        assert_eq!(
            s.offsets,
            vec![("t".to_string(), 0, 2), ("t".to_string(), 1, 1)]
        );
        // Nothing left to count: no summaries, no offsets.
        let s = summarize(&records, 6, 6);
        assert!(s.summaries.is_empty() && s.offsets.is_empty());
    }

    #[test]
    fn commit_failures_carry_kafkas_exception_messages() {
        assert!(commit_error_message(&ClientError::kafka(22, None))
            .starts_with("Commit cannot be completed since the group has already rebalanced"));
        assert!(commit_error_message(&ClientError::kafka(27, None))
            .contains("the consumer group is executing a rebalance"));
    }
}
