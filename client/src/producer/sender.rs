//! The producer's one sender task: drains ready batches into Produce requests, one request per
//! leader at a time but up to `max.in.flight.requests.per.connection` of them outstanding on each
//! broker connection (queued in order on the one connection, answers matched by correlation id),
//! and handles the answers (acknowledge, retry after a metadata refresh, or fail). It also owns
//! the idempotence state: the producer id and epoch from InitProducerId and the next sequence
//! number of every partition.
//!
//! Requests are encoded and queued on the connection here, in the sender, in drain order, so the
//! broker sees a partition's batches in sequence order; only the wait for each answer runs in a
//! task of its own. Connections are opened by tasks too, so an unreachable broker never stalls
//! the others: its partitions wait (and expire after `delivery.timeout.ms`), as Kafka's sender
//! skips nodes that are not ready.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use kafka_protocol::messages::{
    produce_request::{PartitionProduceData, TopicProduceData},
    produce_response::PartitionProduceResponse,
    InitProducerIdRequest, ProduceRequest, ProduceResponse, ProducerId, TopicName, TransactionalId,
};
use kafka_protocol::protocol::StrBytes;
use tokio::sync::mpsc;

use common::errors::codes::{
    DUPLICATE_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH, NETWORK_EXCEPTION,
    OUT_OF_ORDER_SEQUENCE_NUMBER, UNKNOWN_PRODUCER_ID,
};

use crate::connection::Connection;
use crate::error::{invalidates_metadata, ClientError};
use crate::records::{encode_batch_leveled, ProducerIdentity};

use super::accumulator::{Batch, TopicPartition};
use super::{Shared, TransactionState};

/// `TransactionAbortedException`'s message: a batch not sent before the transaction aborted.
fn transaction_aborted() -> ClientError {
    ClientError::Transaction("Failing batch since transaction was aborted".to_string())
}

/// The transaction timeout a non-transactional Java producer sends (`transaction.timeout.ms`).
const TRANSACTION_TIMEOUT_MS: i32 = 60_000;

struct Completion {
    leader: i32,
    batches: Vec<Batch>,
    result: Result<ProduceResponse, ClientError>,
}

/// What the sender's helper tasks report.
enum Event {
    /// A Produce request was answered (or failed).
    Produced(Completion),
    /// A connection attempt to a leader ended.
    Connected {
        leader: i32,
        result: Result<(), ClientError>,
    },
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
    events: mpsc::UnboundedSender<Event>,
    /// Produce requests waiting for their answer, by leader.
    requests_in_flight: HashMap<i32, usize>,
    /// Leaders a connection is being opened to.
    connecting: HashSet<i32>,
    /// Leaders whose last connection attempt failed, and when to try again.
    reconnect_after: HashMap<i32, Instant>,
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
    let (events, mut events_rx) = mpsc::unbounded_channel();
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
        events,
        requests_in_flight: HashMap::new(),
        connecting: HashSet::new(),
        reconnect_after: HashMap::new(),
    };
    loop {
        while let Ok(e) = events_rx.try_recv() {
            sender.on_event(e);
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
            Some(e) = events_rx.recv() => sender.on_event(e),
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
        if records > 0 {
            candidates.push(self.reconnect_after.values().min().copied());
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

    /// Fails every batch waiting to be sent (those in flight get their answers).
    fn fail_everything_queued(&mut self, err: &ClientError) {
        let batches = self.shared.lock_acc().take_queued();
        for b in batches {
            b.fail(err);
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
        // Kafka's `RecordAccumulator.ready`: linger does not hold batches back while a flush or
        // close waits, or while `send` waits for `buffer.memory` (the pool is exhausted).
        let force = self.shared.flushing.load(Ordering::SeqCst) > 0
            || self.shared.closing.load(Ordering::SeqCst)
            || self.shared.buffer_waiters.load(Ordering::SeqCst) > 0;
        let snapshot = self.shared.cluster.snapshot();
        let max_in_flight = self
            .shared
            .config
            .max_in_flight_requests_per_connection
            .max(1) as usize;
        // One request per ready leader per round; rounds repeat until every leader is at its
        // in-flight limit or nothing more is ready, so requests pipeline on each connection.
        loop {
            let mut ready: HashMap<i32, Option<Connection>> = HashMap::new();
            let drained = {
                let requests = &self.requests_in_flight;
                let cluster = &self.shared.cluster;
                self.shared.lock_acc().drain(
                    Instant::now(),
                    force,
                    self.delivery_timeout(),
                    self.shared.config.max_request_size,
                    |topic, partition| snapshot.leader_of(topic, partition),
                    |leader| {
                        ready
                            .entry(leader)
                            .or_insert_with(|| {
                                if requests.get(&leader).copied().unwrap_or(0) >= max_in_flight {
                                    return None;
                                }
                                cluster.live_connection(leader)
                            })
                            .is_some()
                    },
                )
            };
            self.fail_expired(drained.expired);
            if drained.missing_leader {
                self.need_metadata = true;
            }
            for (&leader, conn) in &ready {
                let below_limit =
                    self.requests_in_flight.get(&leader).copied().unwrap_or(0) < max_in_flight;
                if conn.is_none() && below_limit {
                    self.start_connect(leader);
                }
            }
            if drained.by_leader.is_empty() {
                return;
            }
            for (leader, batches) in drained.by_leader {
                match ready.remove(&leader).flatten() {
                    Some(conn) => self.dispatch(leader, &conn, batches),
                    None => {
                        // Not reachable: drain only picks leaders with a connection.
                        let err = ClientError::Protocol(format!("no connection to {leader}"));
                        for b in batches {
                            self.retry_or_fail(b, err.clone());
                        }
                    }
                }
            }
        }
    }

    /// Opens a connection to `leader` in a task of its own (unless one is being opened or the
    /// last attempt failed less than a backoff ago); the sender looks again when it ends.
    fn start_connect(&mut self, leader: i32) {
        if self.connecting.contains(&leader)
            || self
                .reconnect_after
                .get(&leader)
                .is_some_and(|t| Instant::now() < *t)
        {
            return;
        }
        self.connecting.insert(leader);
        let shared = self.shared.clone();
        let events = self.events.clone();
        tokio::spawn(async move {
            let result = shared.cluster.connection(leader).await.map(|_| ());
            let _ = events.send(Event::Connected { leader, result });
        });
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::Produced(completion) => self.handle(completion),
            Event::Connected { leader, result } => {
                self.connecting.remove(&leader);
                match result {
                    Ok(()) => {
                        self.reconnect_after.remove(&leader);
                    }
                    Err(e) => {
                        tracing::debug!("producer connecting to broker {leader}: {e}");
                        self.need_metadata = true;
                        self.reconnect_after
                            .insert(leader, crate::time::after(Instant::now(), self.backoff()));
                    }
                }
            }
        }
    }

    fn expire_only(&mut self) {
        let drained = self.shared.lock_acc().drain(
            Instant::now(),
            false,
            self.delivery_timeout(),
            0,
            |_, _| None,
            |_| false,
        );
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

    /// Numbers and encodes the batches for one leader and queues them as one Produce request on
    /// its connection; the answer comes back as an event.
    fn dispatch(&mut self, leader: i32, conn: &Connection, batches: Vec<Batch>) {
        let compression = self.shared.config.compression;
        let levels = self.shared.config.compression_levels();
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
            match encode_batch_leveled(&batch.records, compression, levels, identity, transactional)
            {
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
        let (batches, payloads): (Vec<Batch>, Vec<Bytes>) = encoded.into_iter().unzip();
        let request = produce_request(&self.shared, &batches, payloads);
        if self.shared.config.acks == 0 {
            // Nobody answers: the batches are done once queued on the socket.
            match conn.queue_no_response(request) {
                Ok(()) => {
                    let mut acc = self.shared.lock_acc();
                    for b in &batches {
                        acc.complete(b);
                    }
                    drop(acc);
                    for b in batches {
                        b.succeed(-1, -1);
                    }
                }
                Err(e) => self.request_failed(leader, batches, e),
            }
            return;
        }
        match conn.send_queued(request) {
            Ok(response) => {
                *self.requests_in_flight.entry(leader).or_insert(0) += 1;
                let events = self.events.clone();
                tokio::spawn(async move {
                    let result = response.await;
                    let _ = events.send(Event::Produced(Completion {
                        leader,
                        batches,
                        result,
                    }));
                });
            }
            Err(e) => self.request_failed(leader, batches, e),
        }
    }

    fn request_failed(&mut self, leader: i32, batches: Vec<Batch>, err: ClientError) {
        self.need_metadata = true;
        let err = disconnected(leader, err);
        for b in batches {
            self.retry_or_fail(b, err.clone());
        }
    }

    fn handle(&mut self, completion: Completion) {
        let Completion {
            leader,
            batches,
            result,
        } = completion;
        if let Some(n) = self.requests_in_flight.get_mut(&leader) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.requests_in_flight.remove(&leader);
            }
        }
        match result {
            Err(e) => self.request_failed(leader, batches, e),
            Ok(response) => {
                // Each batch's answer, found by (topic, partition) without copying names.
                let mut answers: Vec<Option<&PartitionProduceResponse>> = vec![None; batches.len()];
                {
                    let index: HashMap<(&str, i32), usize> = batches
                        .iter()
                        .enumerate()
                        .map(|(i, b)| ((b.tp.topic.as_str(), b.tp.partition), i))
                        .collect();
                    for topic in &response.responses {
                        for p in &topic.partition_responses {
                            if let Some(&i) = index.get(&(&*topic.name.0, p.index)) {
                                answers[i] = Some(p);
                            }
                        }
                    }
                }
                for (b, answer) in batches.into_iter().zip(answers) {
                    let Some(p) = answer else {
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
        // With several batches of a partition in flight, an earlier one that failed makes the
        // broker answer the later ones OUT_OF_ORDER_SEQUENCE_NUMBER: they are retried behind it
        // with their sequence numbers (Kafka's `TransactionManager.canRetry`), not a sign that
        // the broker lost our state.
        let behind_earlier = self.idem.enabled
            && code == Some(OUT_OF_ORDER_SEQUENCE_NUMBER)
            && self.shared.lock_acc().earlier_unresolved(&batch);
        // A transactional producer cannot renumber under a new producer id on its own: the
        // transaction fails (abortable) instead.
        let transactional = self.shared.txn.is_some();
        let sequence_trouble = self.idem.enabled
            && !transactional
            && !behind_earlier
            && matches!(
                code,
                Some(OUT_OF_ORDER_SEQUENCE_NUMBER | UNKNOWN_PRODUCER_ID | INVALID_PRODUCER_EPOCH)
            );
        if sequence_trouble {
            // The broker lost or rejects our producer state: start over with a new producer id
            // (the batch is renumbered under it).
            self.idem.reset_pending = true;
        }
        let retriable = err.is_retriable() || sequence_trouble || behind_earlier;
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

/// A Produce request lost with its connection, as Kafka's `Sender` reports it: a closed or
/// failed connection is NETWORK_EXCEPTION "Disconnected from node N" (a request timeout "... due
/// to timeout"), which the user sees as `NetworkException` rather than an I/O error naming the
/// socket address. Still retriable, and still a reason to refresh metadata.
fn disconnected(leader: i32, err: ClientError) -> ClientError {
    let message = match &err {
        ClientError::Io { .. } => format!("Disconnected from node {leader}"),
        ClientError::Timeout(_) => format!("Disconnected from node {leader} due to timeout"),
        _ => return err,
    };
    tracing::debug!("Produce request to node {leader} failed: {err}");
    ClientError::kafka(NETWORK_EXCEPTION, Some(&message))
}

/// One Produce request carrying `batches` (at most one per partition), in drain order.
fn produce_request(shared: &Shared, batches: &[Batch], payloads: Vec<Bytes>) -> ProduceRequest {
    let mut topics: Vec<(&str, Vec<PartitionProduceData>)> = Vec::new();
    for (b, bytes) in batches.iter().zip(payloads) {
        let data = PartitionProduceData::default()
            .with_index(b.tp.partition)
            .with_records(Some(bytes));
        match topics.iter_mut().find(|(name, _)| *name == b.tp.topic) {
            Some((_, partitions)) => partitions.push(data),
            None => topics.push((&b.tp.topic, vec![data])),
        }
    }
    ProduceRequest::default()
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
        )
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
