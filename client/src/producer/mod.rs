//! The producer: `send` places a record on a partition (murmur2 for keys, round-robin otherwise),
//! waiting up to `max.block.ms` for the topic's metadata (and for room in `buffer.memory`), and
//! queues it in a per-partition batch (`batch.size`, `linger.ms`); one sender task turns ready
//! batches into Produce requests to each partition's leader, up to
//! `max.in.flight.requests.per.connection` pipelined on each connection, compressed with
//! `compression.type` at `compression.<codec>.level`, retries retriable failures after a
//! metadata refresh, and resolves each record's `DeliveryFuture` with its offset. With idempotence (the default, as in Kafka) the sender first
//! obtains a producer id and numbers every partition's batches so the broker drops duplicates.
//! With `transactional.id` the producer is transactional (see `txn`): `init_transactions`,
//! `begin_transaction`, `send`, `send_offsets_to_transaction`, then `commit_transaction` or
//! `abort_transaction`, as Kafka's `KafkaProducer` offers them.

mod accumulator;
mod config;
mod sender;
mod txn;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use common::time::now_ms;

use bytes::Bytes;
use tokio::sync::{oneshot, watch, Notify};

use common::errors::codes::{LEADER_NOT_AVAILABLE, UNKNOWN_TOPIC_OR_PARTITION};

use crate::cluster::Cluster;
use crate::connection::ConnectionOptions;
use crate::error::ClientError;
use crate::partitioner::{partition_for_key, RoundRobin};
use crate::records::OutgoingRecord;

pub use accumulator::TopicPartition;
pub use config::{parse_acks, parse_compression, ProducerConfig};
pub use kafka_protocol::records::Compression;
pub use txn::{ConsumerGroupMetadata, TransactionState, TxnOffset};

use accumulator::Accumulator;

/// A record to send. `partition: None` lets the partitioner choose; `timestamp: None` means now.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProducerRecord {
    pub topic: String,
    pub partition: Option<i32>,
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    pub headers: Vec<(String, Option<Bytes>)>,
    pub timestamp: Option<i64>,
}

impl ProducerRecord {
    pub fn new(topic: impl Into<String>, value: impl Into<Bytes>) -> Self {
        ProducerRecord {
            topic: topic.into(),
            value: Some(value.into()),
            ..Default::default()
        }
    }

    pub fn with_key(mut self, key: impl Into<Bytes>) -> Self {
        self.key = Some(key.into());
        self
    }

    pub fn with_partition(mut self, partition: i32) -> Self {
        self.partition = Some(partition);
        self
    }
}

/// Where an acknowledged record landed. `offset` is -1 with acks=0 (nobody answers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordMetadata {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub timestamp: i64,
}

/// Resolves once the broker acknowledged the record, or with the error that made it fail.
#[derive(Debug)]
pub struct DeliveryFuture {
    rx: oneshot::Receiver<Result<RecordMetadata, ClientError>>,
}

impl Future for DeliveryFuture {
    type Output = Result<RecordMetadata, ClientError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.rx).poll(cx).map(|r| match r {
            Ok(result) => result,
            Err(_) => Err(ClientError::Closed(
                "The producer stopped before the record was acknowledged.".to_string(),
            )),
        })
    }
}

pub(crate) struct Shared {
    pub config: ProducerConfig,
    pub cluster: Cluster,
    pub acc: Mutex<Accumulator>,
    pub wake: Notify,
    round_robin: RoundRobin,
    /// (records, bytes) queued or in flight; flush and buffer.memory wait on it. Waiters are
    /// woken only when a count goes down (see `publish`).
    pub outstanding: watch::Sender<(usize, usize)>,
    pub flushing: AtomicUsize,
    /// `send` calls waiting for `buffer.memory`: the sender then sends without lingering.
    pub buffer_waiters: AtomicUsize,
    pub closing: AtomicBool,
    /// Set when the sender task has ended (normally or not).
    pub dead: AtomicBool,
    /// An error that stops the producer for good (e.g. no InitProducerId on the broker).
    pub fatal: Mutex<Option<ClientError>>,
    /// Whether `fatal` is set, so `send` checks it without a lock.
    has_fatal: AtomicBool,
    topic_refreshed: Mutex<HashMap<String, Instant>>,
    metadata_requests: AtomicI32,
    /// The transaction manager of a producer with a `transactional.id`.
    pub txn: Option<txn::TransactionManager>,
}

impl Shared {
    pub fn lock_acc(&self) -> std::sync::MutexGuard<'_, Accumulator> {
        match self.acc.lock() {
            Ok(a) => a,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Stores the current counts; wakes the waiters (flush, close, `buffer.memory`) only when
    /// a count went down, since nobody waits for one to grow: an append costs no wake-ups.
    pub fn publish(&self, acc: &Accumulator) {
        let now = acc.outstanding();
        self.outstanding.send_if_modified(|counts| {
            let went_down = now.0 < counts.0 || now.1 < counts.1;
            *counts = now;
            went_down
        });
    }

    pub fn fatal_error(&self) -> Option<ClientError> {
        if !self.has_fatal.load(Ordering::SeqCst) {
            return None;
        }
        match self.fatal.lock() {
            Ok(f) => f.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn set_fatal(&self, err: ClientError) {
        match self.fatal.lock() {
            Ok(mut f) => *f = Some(err),
            Err(poisoned) => *poisoned.into_inner() = Some(err),
        }
        self.has_fatal.store(true, Ordering::SeqCst);
    }
}

pub struct Producer {
    shared: Arc<Shared>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Producer {
    /// Starts a producer; brokers are contacted by the first `send`.
    pub async fn new(mut config: ProducerConfig) -> Result<Producer, ClientError> {
        if config.enable_idempotence && config.acks != -1 {
            tracing::warn!(
                "idempotence needs acks=all; disabling it for acks={}",
                config.acks
            );
            config.enable_idempotence = false;
        }
        config.validate_compression_levels()?;
        if let Some(id) = &config.transactional_id {
            if !config.enable_idempotence {
                return Err(ClientError::Config {
                    key: "transactional.id".to_string(),
                    value: id.clone(),
                    reason: "Cannot set a transactional.id without also enabling idempotence."
                        .to_string(),
                });
            }
        }
        let txn = config.transactional_id.clone().map(|id| {
            txn::TransactionManager::new(
                id,
                config.transaction_timeout_ms,
                Duration::from_millis(config.retry_backoff_ms.max(1)),
                Duration::from_millis(config.max_block_ms),
            )
        });
        let options = ConnectionOptions {
            client_id: config.client_id.clone(),
            request_timeout: Duration::from_millis(config.request_timeout_ms.max(1)),
            connect_timeout: Duration::from_millis(config.request_timeout_ms.clamp(1000, 10_000)),
            ..Default::default()
        };
        let cluster = Cluster::new(&config.bootstrap_servers, options)?;
        let (outstanding, _) = watch::channel((0, 0));
        let shared = Arc::new(Shared {
            acc: Mutex::new(Accumulator::new(
                config.batch_size.max(1),
                Duration::from_millis(config.linger_ms),
                config.max_in_flight_requests_per_connection.max(1) as usize,
            )),
            config,
            cluster,
            wake: Notify::new(),
            round_robin: RoundRobin::default(),
            outstanding,
            flushing: AtomicUsize::new(0),
            buffer_waiters: AtomicUsize::new(0),
            closing: AtomicBool::new(false),
            dead: AtomicBool::new(false),
            fatal: Mutex::new(None),
            has_fatal: AtomicBool::new(false),
            topic_refreshed: Mutex::new(HashMap::new()),
            metadata_requests: AtomicI32::new(0),
            txn,
        });
        let task = tokio::spawn(sender::run(shared.clone()));
        Ok(Producer {
            shared,
            task: Mutex::new(Some(task)),
        })
    }

    /// Queues a record; the returned future resolves when the broker acknowledged it (or it
    /// failed). Fails right away if the topic's metadata does not arrive within `max.block.ms`,
    /// the record is too large, or the producer is closed.
    pub async fn send(&self, record: ProducerRecord) -> Result<DeliveryFuture, ClientError> {
        if let Some(e) = self.shared.fatal_error() {
            return Err(e);
        }
        if self.shared.closing.load(Ordering::SeqCst) {
            return Err(ClientError::Closed(
                "Cannot perform operation after producer has been closed".to_string(),
            ));
        }
        let config = &self.shared.config;
        // One clock read serves the deadline, the metadata age check and the batch's creation
        // time (a batch made after a wait is a little older than it is, which only makes it
        // ready sooner).
        let start = Instant::now();
        let deadline = crate::time::after(start, Duration::from_millis(config.max_block_ms));
        let partition = self.choose_partition(&record, start, deadline).await?;
        if let Some(txn) = &self.shared.txn {
            let tp = TopicPartition {
                topic: record.topic.clone(),
                partition,
            };
            txn.add_partition(&self.shared.cluster, self.shared.cluster.options(), &tp)
                .await?;
        }
        let outgoing = OutgoingRecord {
            key: record.key,
            value: record.value,
            headers: record.headers,
            timestamp: record.timestamp.unwrap_or_else(now_ms),
        };
        let size = outgoing.estimated_size();
        // Kafka's `ensureValidRecordSize`, on `estimateSizeInBytesUpperBound`.
        let serialized = outgoing.size_in_bytes_upper_bound();
        if serialized > config.max_request_size {
            return Err(ClientError::kafka(10, Some(&format!(
                "The message is {serialized} bytes when serialized which is larger than {}, which is the value of the max.request.size configuration.",
                config.max_request_size
            ))));
        }
        if serialized as u64 > config.buffer_memory {
            return Err(ClientError::kafka(10, Some(&format!(
                "The message is {serialized} bytes when serialized which is larger than the total memory buffer you have configured with the buffer.memory configuration."
            ))));
        }
        // A new batch takes max(batch.size, record) bytes of buffer.memory (BufferPool.allocate);
        // with batch.size above buffer.memory none can ever be made.
        let allocation = serialized.max(config.batch_size.max(1));
        if allocation as u64 > config.buffer_memory {
            return Err(ClientError::InvalidArgument(format!(
                "Attempt to allocate {allocation} bytes, but there is a hard limit of {} on memory allocations.",
                config.buffer_memory
            )));
        }
        self.wait_for_buffer(size, deadline).await?;
        let (tx, rx) = oneshot::channel();
        let wake = {
            let mut acc = self.shared.lock_acc();
            let wake = acc.append(&record.topic, partition, outgoing, tx, start);
            self.shared.publish(&acc);
            wake
        };
        if wake {
            self.shared.wake.notify_one();
        }
        Ok(DeliveryFuture { rx })
    }

    /// Waits until `size` more bytes fit in `buffer.memory` (Kafka's `BufferPool.allocate`).
    /// While it waits the sender sends without lingering, as Kafka's accumulator treats an
    /// exhausted pool.
    async fn wait_for_buffer(&self, size: usize, deadline: Instant) -> Result<(), ClientError> {
        let limit = self.shared.config.buffer_memory as usize;
        let fits = |bytes: usize| bytes == 0 || bytes + size <= limit;
        if fits(self.shared.outstanding.borrow().1) {
            return Ok(());
        }
        /// Counts this `send` among the buffer waiters for as long as it waits (also when the
        /// future is dropped mid-wait).
        struct Waiting<'a>(&'a AtomicUsize);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        self.shared.buffer_waiters.fetch_add(1, Ordering::SeqCst);
        let _waiting = Waiting(&self.shared.buffer_waiters);
        self.shared.wake.notify_one();
        let mut rx = self.shared.outstanding.subscribe();
        let waited =
            tokio::time::timeout_at(deadline.into(), rx.wait_for(|(_, bytes)| fits(*bytes))).await;
        match waited {
            Ok(_) => Ok(()),
            Err(_) => Err(ClientError::Timeout(format!(
                "Failed to allocate {size} bytes within the configured max blocking time {} ms. Total memory: {limit} bytes.",
                self.shared.config.max_block_ms
            ))),
        }
    }

    /// Picks the record's partition, fetching (and, broker permitting, auto-creating) the topic's
    /// metadata until `deadline`. While the topic stays missing or leaderless, the wait between
    /// two refreshes doubles from `retry.backoff.ms` up to `retry.backoff.max.ms`, as Kafka's
    /// `Metadata.timeToAllowUpdate` backs off responses that make no progress.
    async fn choose_partition(
        &self,
        record: &ProducerRecord,
        start: Instant,
        deadline: Instant,
    ) -> Result<i32, ClientError> {
        let config = &self.shared.config;
        let topic = &record.topic;
        let backoff = Duration::from_millis(config.retry_backoff_ms.max(10));
        let backoff_max = Duration::from_millis(config.retry_backoff_max_ms);
        let max_age = Duration::from_millis(config.metadata_max_age_ms);
        let mut refreshes = 0u32;
        loop {
            let snapshot = self.shared.cluster.snapshot();
            let mut count = None;
            if let Some(meta) = snapshot
                .topics
                .get(topic)
                .filter(|t| !t.partitions.is_empty())
            {
                let n = meta.partitions.len() as i32;
                count = Some(n);
                match record.partition {
                    Some(p) if p < 0 => {
                        return Err(ClientError::InvalidArgument(format!(
                        "Invalid partition given with record: {p} is not in the range [0...{n}]."
                    )))
                    }
                    Some(p) if p < n => return Ok(p),
                    Some(_) => {}
                    None if refreshes > 0 || self.topic_fresh(topic, start, max_age) => {
                        return Ok(match &record.key {
                            Some(key) => partition_for_key(key, n),
                            None => self.shared.round_robin.next_of(topic, &meta.partitions),
                        });
                    }
                    None => {}
                }
            }
            if Instant::now() >= deadline {
                return Err(ClientError::Timeout(match (record.partition, count) {
                    (Some(p), Some(n)) => format!(
                        "Partition {p} of topic {topic} with partition count {n} is not present in metadata after {} ms.",
                        config.max_block_ms
                    ),
                    _ => format!(
                        "Topic {topic} not present in metadata after {} ms.",
                        config.max_block_ms
                    ),
                }));
            }
            if refreshes > 0 {
                let doublings = (refreshes - 1).min(20);
                let wait = backoff
                    .saturating_mul(1 << doublings)
                    .min(backoff_max.max(backoff));
                let wake = crate::time::after(Instant::now(), wait).min(deadline);
                tokio::time::sleep_until(wake.into()).await;
            }
            refreshes += 1;
            let names = [topic.clone()];
            let refresh = self.shared.cluster.refresh(Some(&names), true);
            let result = match tokio::time::timeout_at(deadline.into(), refresh).await {
                Ok(r) => r,
                Err(_) => continue,
            };
            let correlation = self
                .shared
                .metadata_requests
                .fetch_add(1, Ordering::Relaxed)
                + 1;
            match result {
                Ok(s) => match s.topics.get(topic) {
                    Some(t) if t.error_code == 0 => self.mark_fresh(topic),
                    Some(t) => {
                        // NetworkClient logs every topic error of a metadata answer, then
                        // Metadata throws the unrecoverable ones.
                        tracing::warn!(
                            target: crate::network_log::NETWORK_CLIENT,
                            "[Producer clientId={}] The metadata response from the cluster reported a recoverable issue with correlation id {correlation} : {{{topic}={}}}",
                            config.client_id,
                            crate::error::error_name(t.error_code)
                        );
                        if t.error_code != LEADER_NOT_AVAILABLE
                            && t.error_code != UNKNOWN_TOPIC_OR_PARTITION
                        {
                            return Err(topic_metadata_error(t.error_code, topic));
                        }
                    }
                    None => {}
                },
                Err(e) => match crate::network_log::connection_not_established(&e) {
                    Some(text) => tracing::warn!(
                        target: crate::network_log::NETWORK_CLIENT,
                        "[Producer clientId={}] {text}",
                        config.client_id
                    ),
                    None => tracing::debug!("metadata for {topic}: {e}"),
                },
            }
        }
    }

    fn topic_fresh(&self, topic: &str, now: Instant, max_age: Duration) -> bool {
        let map = match self.shared.topic_refreshed.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.get(topic)
            .is_some_and(|t| now.saturating_duration_since(*t) < max_age)
    }

    fn mark_fresh(&self, topic: &str) {
        let mut map = match self.shared.topic_refreshed.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.insert(topic.to_string(), Instant::now());
    }

    /// Sends everything queued now (ignoring linger) and waits until every record queued before
    /// the call is acknowledged or failed. Per-record failures are reported through their
    /// `DeliveryFuture`s; this fails only if the producer itself stopped.
    pub async fn flush(&self) -> Result<(), ClientError> {
        self.shared.flushing.fetch_add(1, Ordering::SeqCst);
        self.shared.wake.notify_one();
        let result = self.wait_idle().await;
        self.shared.flushing.fetch_sub(1, Ordering::SeqCst);
        result
    }

    async fn wait_idle(&self) -> Result<(), ClientError> {
        let mut rx = self.shared.outstanding.subscribe();
        let shared = self.shared.clone();
        let _ = rx
            .wait_for(|(records, _)| *records == 0 || shared.dead.load(Ordering::SeqCst))
            .await;
        if rx.borrow().0 == 0 {
            Ok(())
        } else {
            Err(ClientError::Closed(
                "The producer's sender stopped with records still pending.".to_string(),
            ))
        }
    }

    fn transaction_manager(&self) -> Result<&txn::TransactionManager, ClientError> {
        self.shared.txn.as_ref().ok_or_else(|| {
            ClientError::IllegalState(
                "Transactional method invoked on a non-transactional producer.".to_string(),
            )
        })
    }

    /// Kafka's `KafkaProducer.initTransactions`: finds the transaction coordinator of
    /// `transactional.id` (FindCoordinator key type 1) and gets a producer id and epoch from
    /// InitProducerId, which fences any older producer with the same transactional id and
    /// completes its open transaction. Waits at most `max.block.ms`; a timeout may be retried.
    pub async fn init_transactions(&self) -> Result<(), ClientError> {
        let txn = self.transaction_manager()?;
        txn.init(&self.shared.cluster, self.shared.cluster.options())
            .await
    }

    /// Kafka's `KafkaProducer.beginTransaction`: local only; partitions join the coordinator's
    /// transaction (AddPartitionsToTxn) as records are first sent to them.
    pub fn begin_transaction(&self) -> Result<(), ClientError> {
        self.transaction_manager()?.begin()
    }

    /// Kafka's `KafkaProducer.sendOffsetsToTransaction`: AddOffsetsToTxn for the group, then
    /// TxnOffsetCommit of `offsets` (the next offsets to consume) to the group coordinator; they
    /// become the group's committed offsets only if the transaction commits.
    pub async fn send_offsets_to_transaction(
        &self,
        offsets: &[TxnOffset],
        group: &ConsumerGroupMetadata,
    ) -> Result<(), ClientError> {
        let txn = self.transaction_manager()?;
        if offsets.is_empty() {
            return Ok(());
        }
        txn.send_offsets(
            &self.shared.cluster,
            self.shared.cluster.options(),
            offsets,
            group,
        )
        .await
    }

    /// Kafka's `KafkaProducer.commitTransaction`: flushes the transaction's records, then
    /// EndTxn(commit). If any record of the transaction failed the commit fails with that error
    /// and the transaction must be aborted.
    pub async fn commit_transaction(&self) -> Result<(), ClientError> {
        let txn = self.transaction_manager()?;
        txn.begin_end(true)?;
        self.flush().await?;
        if let Some(e) = txn.error_state() {
            return Err(e);
        }
        txn.end(&self.shared.cluster, self.shared.cluster.options(), true)
            .await
    }

    /// Kafka's `KafkaProducer.abortTransaction`: records not sent yet fail with
    /// `TransactionAbortedException`'s text, those in flight are awaited, then EndTxn(abort).
    pub async fn abort_transaction(&self) -> Result<(), ClientError> {
        let txn = self.transaction_manager()?;
        txn.begin_end(false)?;
        self.shared.wake.notify_one();
        self.wait_idle().await?;
        txn.end(&self.shared.cluster, self.shared.cluster.options(), false)
            .await
    }

    /// The transaction state (`None` for a producer without `transactional.id`).
    pub fn transaction_state(&self) -> Option<TransactionState> {
        self.shared.txn.as_ref().map(|t| t.state())
    }

    /// The producer id and epoch in use, once known (transactional producers).
    pub fn producer_id_and_epoch(&self) -> Option<(i64, i16)> {
        self.shared
            .txn
            .as_ref()
            .and_then(|t| t.identity())
            .map(|(id, epoch, _)| (id, epoch))
    }

    /// Sends everything queued, waits for the answers, then stops the sender.
    pub async fn close(self) -> Result<(), ClientError> {
        self.shared.closing.store(true, Ordering::SeqCst);
        self.shared.wake.notify_one();
        let result = self.wait_idle().await;
        let task = match self.task.lock() {
            Ok(mut t) => t.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        if let Some(task) = task {
            let _ = task.await;
        }
        result
    }
}

/// The exception `Metadata.maybeThrowExceptionForTopic` raises for a topic's metadata error:
/// Kafka names the topic for an invalid or unauthorized one ("Invalid topics: [a/b]").
fn topic_metadata_error(code: i16, topic: &str) -> ClientError {
    match code {
        17 => ClientError::kafka(code, Some(&format!("Invalid topics: [{topic}]"))),
        29 => ClientError::kafka(
            code,
            Some(&format!("Not authorized to access topics: [{topic}]")),
        ),
        _ => ClientError::kafka(code, None),
    }
}

impl Drop for Producer {
    fn drop(&mut self) {
        // The sender drains what is queued and then ends on its own.
        self.shared.closing.store(true, Ordering::SeqCst);
        self.shared.wake.notify_one();
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod txn_tests;
