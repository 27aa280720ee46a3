//! The producer's one sender task: drains ready batches, sends one Produce request per leader,
//! and handles the answers (acknowledge, retry after a metadata refresh, or fail). It also owns
//! the idempotence state: the producer id and epoch from InitProducerId and the next sequence
//! number of every partition.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use kafka_protocol::messages::{
    produce_request::{PartitionProduceData, TopicProduceData},
    InitProducerIdRequest, ProduceRequest, ProduceResponse, ProducerId, TopicName, TransactionalId,
};
use kafka_protocol::protocol::StrBytes;
use tokio::sync::mpsc;

use common::errors::codes::{
    DUPLICATE_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH, OUT_OF_ORDER_SEQUENCE_NUMBER,
    UNKNOWN_PRODUCER_ID,
};

use crate::error::{invalidates_metadata, ClientError};
use crate::records::{encode_batch_with, ProducerIdentity};

use super::accumulator::{Batch, TopicPartition};
use super::{Shared, TransactionState};

/// `TransactionAbortedException`'s message: a batch not sent before the transaction aborted.
fn transaction_aborted() -> ClientError {
    ClientError::Transaction("Failing batch since transaction was aborted".to_string())
}

/// The transaction timeout a non-transactional Java producer sends (`transaction.timeout.ms`).
const TRANSACTION_TIMEOUT_MS: i32 = 60_000;

struct Completion {
    batches: Vec<Batch>,
    result: Result<Option<ProduceResponse>, ClientError>,
}

/// Producer id state for idempotence.
struct Idempotence {
    enabled: bool,
    producer_id: i64,
    epoch: i16,
    /// Bumped whenever a new producer id is obtained; batches numbered under an older one are
    /// renumbered.
    generation: u64,
    /// A batch failed after it may have reached the broker, so the partition's sequence on the
    /// broker is unknown: get a new producer id before sending more.
    reset_pending: bool,
    next_sequence: HashMap<TopicPartition, i32>,
    retry_after: Option<Instant>,
}

impl Idempotence {
    fn ready(&self) -> bool {
        !self.enabled || (self.producer_id >= 0 && !self.reset_pending)
    }

    /// Kafka's sequence arithmetic: sequences wrap from i32::MAX to 0.
    fn take_sequence(&mut self, tp: &TopicPartition, count: usize) -> i32 {
        let next = self.next_sequence.entry(tp.clone()).or_insert(0);
        let base = *next;
        let count = count as i64;
        *next = ((i64::from(base) + count) % (i64::from(i32::MAX) + 1)) as i32;
        base
    }
}

struct Sender {
    shared: Arc<Shared>,
    idem: Idempotence,
    need_metadata: bool,
    last_metadata: Option<Instant>,
    done_tx: mpsc::UnboundedSender<Completion>,
}

/// Marks the producer's sender as gone when the task ends, however it ends, so waiters wake.
struct ExitGuard(Arc<Shared>);

impl Drop for ExitGuard {
    fn drop(&mut self) {
        self.0.dead.store(true, Ordering::SeqCst);
        self.0.outstanding.send_modify(|_| {});
    }
}

pub(crate) async fn run(shared: Arc<Shared>) {
    let _guard = ExitGuard(shared.clone());
    let (done_tx, mut done_rx) = mpsc::unbounded_channel();
    let mut sender = Sender {
        idem: Idempotence {
            enabled: shared.config.enable_idempotence,
            producer_id: -1,
            epoch: -1,
            generation: 0,
            reset_pending: false,
            next_sequence: HashMap::new(),
            retry_after: None,
        },
        shared,
        need_metadata: false,
        last_metadata: None,
        done_tx,
    };
    loop {
        while let Ok(c) = done_rx.try_recv() {
            sender.handle(c);
        }
        sender.maybe_refresh_metadata().await;
        sender.sync_transactional_identity();
        sender.maybe_init_producer_id().await;
        sender.send_ready();
        let (records, in_flight) = {
            let acc = sender.shared.lock_acc();
            sender.shared.publish(&acc);
            (acc.outstanding().0, acc.in_flight_count())
        };
        if sender.shared.closing.load(Ordering::SeqCst) && records == 0 && in_flight == 0 {
            return;
        }
        let wake_at = sender.next_wakeup();
        tokio::select! {
            _ = sender.shared.wake.notified() => {}
            Some(c) = done_rx.recv() => sender.handle(c),
            _ = sleep_until_opt(wake_at) => {}
        }
    }
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

impl Sender {
    fn backoff(&self) -> Duration {
        Duration::from_millis(self.shared.config.retry_backoff_ms.max(10))
    }

    fn delivery_timeout(&self) -> Duration {
        Duration::from_millis(self.shared.config.delivery_timeout_ms)
    }

    /// When to look again if nothing wakes the loop. Everything sendable was sent this round,
    /// so a timer already past is blocked (no leader, no producer id yet): look again after a
    /// backoff rather than spinning.
    fn next_wakeup(&self) -> Option<Instant> {
        let now = Instant::now();
        let backoff_from_now = crate::time::after(now, self.backoff());
        let (acc_wake, records) = {
            let acc = self.shared.lock_acc();
            (
                acc.next_wakeup(self.delivery_timeout()),
                acc.outstanding().0,
            )
        };
        let mut candidates = vec![acc_wake.map(|t| if t <= now { backoff_from_now } else { t })];
        if self.need_metadata && records > 0 {
            candidates.push(Some(
                self.last_metadata
                    .map_or(now, |t| crate::time::after(t, self.backoff())),
            ));
        }
        if !self.idem.ready() && records > 0 {
            candidates.push(Some(self.idem.retry_after.unwrap_or(backoff_from_now)));
        }
        candidates.into_iter().flatten().min()
    }

    async fn maybe_refresh_metadata(&mut self) {
        if !self.need_metadata {
            return;
        }
        if self
            .last_metadata
            .is_some_and(|t| t.elapsed() < self.backoff())
        {
            return;
        }
        self.last_metadata = Some(Instant::now());
        let topics = self.shared.lock_acc().queued_topics();
        match self.shared.cluster.refresh(Some(&topics), true).await {
            Ok(_) => self.need_metadata = false,
            Err(e) => tracing::debug!("producer metadata refresh failed: {e}"),
        }
    }

    /// A transactional producer's id and epoch come from `init_transactions`; a new one starts
    /// every partition's sequence at 0 again.
    fn sync_transactional_identity(&mut self) {
        let Some(txn) = &self.shared.txn else {
            return;
        };
        let Some((id, epoch, generation)) = txn.identity() else {
            return;
        };
        if generation == self.idem.generation {
            return;
        }
        self.idem.producer_id = id;
        self.idem.epoch = epoch;
        self.idem.generation = generation;
        self.idem.reset_pending = false;
        self.idem.next_sequence.clear();
        self.idem.retry_after = None;
        self.shared.lock_acc().drop_identities_before(generation);
    }

    /// The error queued batches fail with while the transaction can only be aborted (Kafka's
    /// `Sender` aborts undrained batches in ABORTABLE_ERROR and ABORTING_TRANSACTION).
    fn transaction_abort_error(&self) -> Option<ClientError> {
        let txn = self.shared.txn.as_ref()?;
        match txn.state() {
            TransactionState::AbortableError | TransactionState::FatalError => {
                Some(txn.error_state().unwrap_or_else(transaction_aborted))
            }
            TransactionState::AbortingTransaction => Some(transaction_aborted()),
            _ => None,
        }
    }

    async fn maybe_init_producer_id(&mut self) {
        if self.idem.ready() || self.shared.txn.is_some() {
            return;
        }
        if self.idem.retry_after.is_some_and(|t| Instant::now() < t) {
            return;
        }
        let (records, in_flight) = {
            let acc = self.shared.lock_acc();
            (acc.outstanding().0, acc.in_flight_count())
        };
        // A new producer id must not overtake batches still in flight under the old one.
        if records == 0 || in_flight > 0 {
            return;
        }
        let result = async {
            let conn = self.shared.cluster.any_connection().await?;
            let request = InitProducerIdRequest::default()
                .with_transactional_id(None)
                .with_transaction_timeout_ms(TRANSACTION_TIMEOUT_MS)
                .with_producer_id(ProducerId(-1))
                .with_producer_epoch(-1);
            let response = conn.send(request).await?;
            ClientError::check(response.error_code, None)?;
            Ok::<_, ClientError>((response.producer_id.0, response.producer_epoch))
        }
        .await;
        match result {
            Ok((id, epoch)) => {
                tracing::debug!("producer id {id} epoch {epoch}");
                self.idem.producer_id = id;
                self.idem.epoch = epoch;
                self.idem.generation += 1;
                self.idem.reset_pending = false;
                self.idem.next_sequence.clear();
                self.idem.retry_after = None;
                self.shared
                    .lock_acc()
                    .drop_identities_before(self.idem.generation);
            }
            Err(e) if e.is_retriable() => {
                tracing::debug!("InitProducerId failed, will retry: {e}");
                self.idem.retry_after = Some(crate::time::after(Instant::now(), self.backoff()));
            }
            Err(e) => {
                // Kafka treats this as fatal for an idempotent producer.
                tracing::error!("InitProducerId failed: {e}");
                self.shared.set_fatal(e.clone());
                self.fail_everything_queued(&e);
            }
        }
    }

    /// Fails every queued batch (drain hands out one batch per partition at a time, so repeat
    /// until nothing is left outside the batches in flight).
    fn fail_everything_queued(&mut self, err: &ClientError) {
        loop {
            let batches: Vec<Batch> = {
                let mut acc = self.shared.lock_acc();
                let d = acc.drain(Instant::now(), true, Duration::MAX, usize::MAX, |_| Some(0));
                let mut batches: Vec<Batch> = d.by_leader.into_values().flatten().collect();
                for b in &batches {
                    acc.complete(b);
                }
                // Expired batches were already taken out of the counts by drain.
                batches.extend(d.expired);
                batches
            };
            if batches.is_empty() {
                return;
            }
            for b in batches {
                b.fail(err);
            }
        }
    }

    fn send_ready(&mut self) {
        if let Some(e) = self.transaction_abort_error() {
            self.fail_everything_queued(&e);
            return;
        }
        if !self.idem.ready() && self.shared.fatal_error().is_none() {
            // Still expire batches that waited too long, then wait for the producer id.
            self.expire_only();
            return;
        }
        if let Some(e) = self.shared.fatal_error() {
            self.fail_everything_queued(&e);
            return;
        }
        let force = self.shared.flushing.load(Ordering::SeqCst) > 0
            || self.shared.closing.load(Ordering::SeqCst);
        let snapshot = self.shared.cluster.snapshot();
        let drained = self.shared.lock_acc().drain(
            Instant::now(),
            force,
            self.delivery_timeout(),
            self.shared.config.max_request_size,
            |tp| snapshot.leader_of(&tp.topic, tp.partition),
        );
        self.fail_expired(drained.expired);
        if drained.missing_leader {
            self.need_metadata = true;
        }
        for (leader, batches) in drained.by_leader {
            self.dispatch(leader, batches);
        }
    }

    fn expire_only(&mut self) {
        let drained =
            self.shared
                .lock_acc()
                .drain(Instant::now(), false, self.delivery_timeout(), 0, |_| None);
        self.fail_expired(drained.expired);
    }

    fn fail_expired(&mut self, expired: Vec<Batch>) {
        for b in expired {
            if b.identity.is_some() && self.shared.txn.is_none() {
                self.idem.reset_pending = self.idem.enabled;
            }
            let err = ClientError::Timeout(format!(
                "Expiring {} record(s) for {}:{} ms has passed since batch creation",
                b.len(),
                b.tp,
                b.created.elapsed().as_millis()
            ));
            if let Some(txn) = &self.shared.txn {
                txn.abortable(err.clone());
            }
            b.fail(&err);
        }
    }

    /// Numbers, encodes and sends the batches for one leader.
    fn dispatch(&mut self, leader: i32, batches: Vec<Batch>) {
        let compression = self.shared.config.compression;
        let transactional = self.shared.txn.is_some();
        let mut encoded: Vec<(Batch, Bytes)> = Vec::with_capacity(batches.len());
        for mut batch in batches {
            if batch.identity.is_none() {
                let identity = if self.idem.enabled {
                    ProducerIdentity {
                        producer_id: self.idem.producer_id,
                        producer_epoch: self.idem.epoch,
                        base_sequence: self.idem.take_sequence(&batch.tp, batch.len()),
                    }
                } else {
                    ProducerIdentity::NONE
                };
                batch.identity = Some((identity, self.idem.generation));
            }
            let identity = batch.identity.map_or(ProducerIdentity::NONE, |(id, _)| id);
            match encode_batch_with(&batch.records, compression, identity, transactional) {
                Ok(bytes) => {
                    batch.attempts += 1;
                    encoded.push((batch, bytes));
                }
                Err(e) => {
                    self.shared.lock_acc().complete(&batch);
                    batch.fail(&e);
                }
            }
        }
        if encoded.is_empty() {
            return;
        }
        let shared = self.shared.clone();
        let done = self.done_tx.clone();
        tokio::spawn(async move {
            let (batches, payloads): (Vec<Batch>, Vec<Bytes>) = encoded.into_iter().unzip();
            let result = produce(&shared, leader, &batches, payloads).await;
            let _ = done.send(Completion { batches, result });
            shared.wake.notify_one();
        });
    }

    fn handle(&mut self, completion: Completion) {
        let Completion { batches, result } = completion;
        match result {
            Err(e) => {
                self.need_metadata = true;
                for b in batches {
                    self.retry_or_fail(b, e.clone());
                }
            }
            Ok(None) => {
                let mut acc = self.shared.lock_acc();
                for b in &batches {
                    acc.complete(b);
                }
                drop(acc);
                for b in batches {
                    b.succeed(-1, -1);
                }
            }
            Ok(Some(response)) => {
                let mut by_partition = BTreeMap::new();
                for topic in response.responses {
                    for p in topic.partition_responses {
                        by_partition.insert((topic.name.0.to_string(), p.index), p);
                    }
                }
                for b in batches {
                    let Some(p) = by_partition.remove(&(b.tp.topic.clone(), b.tp.partition)) else {
                        let err = ClientError::Protocol(format!(
                            "Produce response has no result for {}",
                            b.tp
                        ));
                        self.retry_or_fail(b, err);
                        continue;
                    };
                    if p.error_code == 0 || p.error_code == DUPLICATE_SEQUENCE_NUMBER {
                        self.shared.lock_acc().complete(&b);
                        b.succeed(p.base_offset, p.log_append_time_ms);
                        continue;
                    }
                    if invalidates_metadata(p.error_code) {
                        self.need_metadata = true;
                    }
                    let err = ClientError::kafka(p.error_code, p.error_message.as_deref());
                    self.retry_or_fail(b, err);
                }
            }
        }
        let acc = self.shared.lock_acc();
        self.shared.publish(&acc);
    }

    fn retry_or_fail(&mut self, mut batch: Batch, err: ClientError) {
        let code = err.code();
        // A transactional producer cannot renumber under a new producer id on its own: the
        // transaction fails (abortable) instead.
        let transactional = self.shared.txn.is_some();
        let sequence_trouble = self.idem.enabled
            && !transactional
            && matches!(
                code,
                Some(OUT_OF_ORDER_SEQUENCE_NUMBER | UNKNOWN_PRODUCER_ID | INVALID_PRODUCER_EPOCH)
            );
        if sequence_trouble {
            // The broker lost or rejects our producer state: start over with a new producer id
            // (the batch is renumbered under it).
            self.idem.reset_pending = true;
        }
        let retriable = err.is_retriable() || sequence_trouble;
        let config = &self.shared.config;
        let within_time = batch.created.elapsed() < self.delivery_timeout();
        if retriable && batch.attempts <= config.retries && within_time {
            tracing::debug!(
                "retrying batch for {} (attempt {}) after: {err}",
                batch.tp,
                batch.attempts
            );
            batch.retry_after = Some(crate::time::after(Instant::now(), self.backoff()));
            self.shared.lock_acc().requeue(batch);
            return;
        }
        if self.idem.enabled && batch.identity.is_some() && !transactional {
            // The broker may or may not have written it; its next expected sequence is unknown.
            self.idem.reset_pending = true;
        }
        if let Some(txn) = &self.shared.txn {
            txn.abortable(err.clone());
        }
        self.shared.lock_acc().complete(&batch);
        batch.fail(&err);
    }
}

async fn produce(
    shared: &Shared,
    leader: i32,
    batches: &[Batch],
    payloads: Vec<Bytes>,
) -> Result<Option<ProduceResponse>, ClientError> {
    let mut topics: BTreeMap<&str, Vec<PartitionProduceData>> = BTreeMap::new();
    for (b, bytes) in batches.iter().zip(payloads) {
        topics.entry(&b.tp.topic).or_default().push(
            PartitionProduceData::default()
                .with_index(b.tp.partition)
                .with_records(Some(bytes)),
        );
    }
    let request = ProduceRequest::default()
        .with_transactional_id(
            shared
                .config
                .transactional_id
                .as_ref()
                .map(|id| TransactionalId(StrBytes::from_string(id.clone()))),
        )
        .with_acks(shared.config.acks)
        .with_timeout_ms(shared.config.request_timeout_ms.min(i32::MAX as u64) as i32)
        .with_topic_data(
            topics
                .into_iter()
                .map(|(name, partitions)| {
                    TopicProduceData::default()
                        .with_name(TopicName(StrBytes::from_string(name.to_string())))
                        .with_partition_data(partitions)
                })
                .collect(),
        );
    let conn = shared.cluster.connection(leader).await?;
    if shared.config.acks == 0 {
        conn.send_no_response(request).await?;
        return Ok(None);
    }
    conn.send(request).await.map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_advance_per_partition_and_wrap_like_kafka() {
        let mut idem = Idempotence {
            enabled: true,
            producer_id: 1,
            epoch: 0,
            generation: 1,
            reset_pending: false,
            next_sequence: HashMap::new(),
            retry_after: None,
        };
        let tp0 = TopicPartition {
            topic: "t".to_string(),
            partition: 0,
        };
        let tp1 = TopicPartition {
            topic: "t".to_string(),
            partition: 1,
        };
        assert_eq!(idem.take_sequence(&tp0, 3), 0);
        assert_eq!(idem.take_sequence(&tp0, 2), 3);
        assert_eq!(idem.take_sequence(&tp1, 1), 0);
        idem.next_sequence.insert(tp0.clone(), i32::MAX - 1);
        assert_eq!(idem.take_sequence(&tp0, 3), i32::MAX - 1);
        assert_eq!(idem.take_sequence(&tp0, 1), 1);
    }
}
