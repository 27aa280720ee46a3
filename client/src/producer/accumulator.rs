//! Per-partition batching (Kafka's `RecordAccumulator`): records collect in batches of up to
//! `batch.size` bytes; a batch is ready when full, when `linger.ms` has passed, or on flush.
//! At most one batch per partition is in flight, so retries can never reorder a partition (and an
//! idempotent producer's sequence numbers reach the broker in order). Pure state, no I/O.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::error::ClientError;
use crate::records::{OutgoingRecord, ProducerIdentity};
use crate::time::after;

use super::RecordMetadata;

pub use common::topic_partition::TopicPartition;

pub(crate) type Reply = oneshot::Sender<Result<RecordMetadata, ClientError>>;

pub(crate) struct Batch {
    pub tp: TopicPartition,
    pub records: Vec<OutgoingRecord>,
    pub replies: Vec<Reply>,
    pub bytes: usize,
    pub created: Instant,
    /// Sends so far.
    pub attempts: u32,
    pub retry_after: Option<Instant>,
    /// Producer id, epoch and base sequence, with the producer-id generation they belong to.
    /// Kept across retries so the broker can recognise a duplicate.
    pub identity: Option<(ProducerIdentity, u64)>,
    pub full: bool,
}

impl Batch {
    /// Resolves every record's future with its offset (`base_offset + index`; -1 stays -1).
    pub fn succeed(self, base_offset: i64, log_append_time: i64) {
        let topic = self.tp.topic.clone();
        let partition = self.tp.partition;
        for (i, (reply, record)) in self.replies.into_iter().zip(&self.records).enumerate() {
            let offset = if base_offset >= 0 {
                base_offset.saturating_add(i as i64)
            } else {
                -1
            };
            let timestamp = if log_append_time >= 0 {
                log_append_time
            } else {
                record.timestamp
            };
            let _ = reply.send(Ok(RecordMetadata {
                topic: topic.clone(),
                partition,
                offset,
                timestamp,
            }));
        }
    }

    pub fn fail(self, err: &ClientError) {
        for reply in self.replies {
            let _ = reply.send(Err(err.clone()));
        }
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }
}

/// Batches picked for sending, by leader broker id.
pub(crate) struct Drained {
    pub by_leader: BTreeMap<i32, Vec<Batch>>,
    /// Some ready batch's partition has no known leader: metadata needs a refresh.
    pub missing_leader: bool,
    /// Batches that waited longer than `delivery.timeout.ms`; the caller fails them.
    pub expired: Vec<Batch>,
}

pub(crate) struct Accumulator {
    batch_size: usize,
    linger: Duration,
    queues: BTreeMap<TopicPartition, VecDeque<Batch>>,
    in_flight: HashSet<TopicPartition>,
    records: usize,
    bytes: usize,
}

impl Accumulator {
    pub fn new(batch_size: usize, linger: Duration) -> Self {
        Accumulator {
            batch_size,
            linger,
            queues: BTreeMap::new(),
            in_flight: HashSet::new(),
            records: 0,
            bytes: 0,
        }
    }

    /// Records and bytes queued or in flight.
    pub fn outstanding(&self) -> (usize, usize) {
        (self.records, self.bytes)
    }

    pub fn in_flight_count(&self) -> usize {
        self.in_flight.len()
    }

    /// Adds a record to its partition's open batch (or a new one). Returns true when a batch is
    /// now full, so the sender should wake without waiting for linger.
    pub fn append(
        &mut self,
        tp: TopicPartition,
        record: OutgoingRecord,
        reply: Reply,
        now: Instant,
    ) -> bool {
        let size = record.estimated_size();
        self.records += 1;
        self.bytes += size;
        let queue = self.queues.entry(tp.clone()).or_default();
        let fits = queue.back().is_some_and(|b| {
            !b.full && b.identity.is_none() && b.attempts == 0 && b.bytes + size <= self.batch_size
        });
        if !fits {
            if let Some(last) = queue.back_mut() {
                last.full = true;
            }
            queue.push_back(Batch {
                tp,
                records: Vec::new(),
                replies: Vec::new(),
                bytes: 0,
                created: now,
                attempts: 0,
                retry_after: None,
                identity: None,
                full: false,
            });
        }
        let mut became_full = queue.len() > 1;
        if let Some(batch) = queue.back_mut() {
            batch.records.push(record);
            batch.replies.push(reply);
            batch.bytes += size;
            if batch.bytes >= self.batch_size {
                batch.full = true;
                became_full = true;
            }
        }
        became_full
    }

    fn is_ready(&self, batch: &Batch, queued_behind: bool, now: Instant, force: bool) -> bool {
        if batch.retry_after.is_some_and(|t| now < t) {
            return false;
        }
        force
            || batch.full
            || queued_behind
            || batch.attempts > 0
            || now >= after(batch.created, self.linger)
    }

    /// Takes the ready head batch of every partition that has none in flight and whose leader is
    /// known, grouped by leader, at most `max_request_size` bytes per broker (but always one).
    /// `force` (flush or close) ignores linger.
    pub fn drain(
        &mut self,
        now: Instant,
        force: bool,
        delivery_timeout: Duration,
        max_request_size: usize,
        leader_of: impl Fn(&TopicPartition) -> Option<i32>,
    ) -> Drained {
        let mut drained = Drained {
            by_leader: BTreeMap::new(),
            missing_leader: false,
            expired: Vec::new(),
        };
        let mut request_bytes: BTreeMap<i32, usize> = BTreeMap::new();
        let partitions: Vec<TopicPartition> = self.queues.keys().cloned().collect();
        for tp in partitions {
            if self.in_flight.contains(&tp) {
                continue;
            }
            // Expired batches first: they fail without being sent.
            loop {
                let expired = self
                    .queues
                    .get(&tp)
                    .and_then(|q| q.front())
                    .is_some_and(|b| now.duration_since(b.created) >= delivery_timeout);
                if !expired {
                    break;
                }
                if let Some(b) = self.queues.get_mut(&tp).and_then(|q| q.pop_front()) {
                    self.records = self.records.saturating_sub(b.len());
                    self.bytes = self.bytes.saturating_sub(b.bytes);
                    drained.expired.push(b);
                }
            }
            let Some(queue) = self.queues.get(&tp) else {
                continue;
            };
            let Some(head) = queue.front() else {
                continue;
            };
            if !self.is_ready(head, queue.len() > 1, now, force) {
                continue;
            }
            let Some(leader) = leader_of(&tp) else {
                drained.missing_leader = true;
                continue;
            };
            let used = request_bytes.entry(leader).or_insert(0);
            if *used > 0 && *used + head.bytes > max_request_size {
                continue;
            }
            *used += head.bytes;
            if let Some(batch) = self.queues.get_mut(&tp).and_then(|q| q.pop_front()) {
                self.in_flight.insert(tp.clone());
                drained.by_leader.entry(leader).or_default().push(batch);
            }
        }
        self.queues.retain(|_, q| !q.is_empty());
        drained
    }

    /// Topics with batches waiting, for a metadata refresh.
    pub fn queued_topics(&self) -> Vec<String> {
        let mut topics: Vec<String> = self.queues.keys().map(|tp| tp.topic.clone()).collect();
        topics.dedup();
        topics
    }

    /// Puts a batch back at the head of its partition for a retry.
    pub fn requeue(&mut self, batch: Batch) {
        self.in_flight.remove(&batch.tp);
        self.queues
            .entry(batch.tp.clone())
            .or_default()
            .push_front(batch);
    }

    /// A drained batch is done (acknowledged or failed): its partition may send again.
    pub fn complete(&mut self, batch: &Batch) {
        self.in_flight.remove(&batch.tp);
        // Saturating: a bookkeeping slip must not panic the sender and strand every record.
        self.records = self.records.saturating_sub(batch.len());
        self.bytes = self.bytes.saturating_sub(batch.bytes);
    }

    /// When the sender should next look, if nothing wakes it earlier: the earliest linger expiry
    /// or retry backoff among partitions that could send.
    pub fn next_wakeup(&self, delivery_timeout: Duration) -> Option<Instant> {
        self.queues
            .iter()
            .filter(|(tp, _)| !self.in_flight.contains(*tp))
            .filter_map(|(_, q)| q.front())
            .map(|b| {
                let ready_at = b.retry_after.unwrap_or(after(b.created, self.linger));
                ready_at.min(after(b.created, delivery_timeout))
            })
            .min()
    }

    /// Forgets producer identities of queued batches from an older producer-id generation so
    /// they get fresh sequence numbers.
    pub fn drop_identities_before(&mut self, generation: u64) {
        for q in self.queues.values_mut() {
            for b in q.iter_mut() {
                if b.identity.is_some_and(|(_, g)| g < generation) {
                    b.identity = None;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn rec(len: usize) -> OutgoingRecord {
        OutgoingRecord {
            key: None,
            value: Some(Bytes::from(vec![b'x'; len])),
            headers: vec![],
            timestamp: 0,
        }
    }

    fn tp(p: i32) -> TopicPartition {
        TopicPartition {
            topic: "t".to_string(),
            partition: p,
        }
    }

    fn reply() -> Reply {
        oneshot::channel().0
    }

    const LONG: Duration = Duration::from_secs(120);

    #[test]
    fn batch_waits_for_linger_then_is_ready() {
        let mut acc = Accumulator::new(16384, Duration::from_millis(100));
        let t0 = Instant::now();
        assert!(!acc.append(tp(0), rec(10), reply(), t0));
        let d = acc.drain(t0, false, LONG, 1 << 20, |_| Some(1));
        assert!(d.by_leader.is_empty());
        assert_eq!(acc.next_wakeup(LONG), Some(t0 + Duration::from_millis(100)));
        let d = acc.drain(
            t0 + Duration::from_millis(100),
            false,
            LONG,
            1 << 20,
            |_| Some(1),
        );
        assert_eq!(d.by_leader[&1].len(), 1);
    }

    #[test]
    fn full_batch_is_ready_at_once_and_next_record_opens_a_new_one() {
        let mut acc = Accumulator::new(100, Duration::from_secs(10));
        let t0 = Instant::now();
        assert!(!acc.append(tp(0), rec(10), reply(), t0));
        // Estimated size of rec(80) pushes past 100 bytes: a new batch starts.
        assert!(acc.append(tp(0), rec(80), reply(), t0));
        let d = acc.drain(t0, false, LONG, 1 << 20, |_| Some(1));
        assert_eq!(d.by_leader[&1].len(), 1);
        assert_eq!(d.by_leader[&1][0].len(), 1);
        assert_eq!(acc.outstanding().0, 2);
    }

    #[test]
    fn one_batch_in_flight_per_partition() {
        let mut acc = Accumulator::new(16384, Duration::ZERO);
        let t0 = Instant::now();
        acc.append(tp(0), rec(1), reply(), t0);
        let mut d = acc.drain(t0, false, LONG, 1 << 20, |_| Some(1));
        let first = d.by_leader.remove(&1).unwrap_or_default();
        acc.append(tp(0), rec(1), reply(), t0);
        acc.append(tp(1), rec(1), reply(), t0);
        let d = acc.drain(t0, false, LONG, 1 << 20, |_| Some(1));
        // Only partition 1 goes: partition 0 still has a batch in flight.
        assert_eq!(d.by_leader[&1].len(), 1);
        assert_eq!(d.by_leader[&1][0].tp, tp(1));
        for b in &first {
            acc.complete(b);
        }
        let d = acc.drain(t0, false, LONG, 1 << 20, |_| Some(1));
        assert_eq!(d.by_leader[&1][0].tp, tp(0));
    }

    #[test]
    fn requeued_batch_goes_first_after_backoff() {
        let mut acc = Accumulator::new(16384, Duration::ZERO);
        let t0 = Instant::now();
        acc.append(tp(0), rec(1), reply(), t0);
        let mut d = acc.drain(t0, false, LONG, 1 << 20, |_| Some(1));
        let mut batch = d.by_leader.remove(&1).unwrap_or_default().remove(0);
        acc.append(tp(0), rec(2), reply(), t0);
        batch.attempts = 1;
        batch.retry_after = Some(t0 + Duration::from_millis(100));
        acc.requeue(batch);
        assert!(acc
            .drain(t0, false, LONG, 1 << 20, |_| Some(1))
            .by_leader
            .is_empty());
        let d = acc.drain(
            t0 + Duration::from_millis(100),
            false,
            LONG,
            1 << 20,
            |_| Some(1),
        );
        assert_eq!(d.by_leader[&1][0].attempts, 1);
    }

    #[test]
    fn partition_without_leader_asks_for_metadata() {
        let mut acc = Accumulator::new(16384, Duration::ZERO);
        let t0 = Instant::now();
        acc.append(tp(0), rec(1), reply(), t0);
        let d = acc.drain(t0, false, LONG, 1 << 20, |_| None);
        assert!(d.missing_leader);
        assert!(d.by_leader.is_empty());
    }

    #[test]
    fn batches_past_delivery_timeout_expire() {
        let mut acc = Accumulator::new(16384, Duration::ZERO);
        let t0 = Instant::now();
        acc.append(tp(0), rec(1), reply(), t0);
        let d = acc.drain(t0 + LONG, false, LONG, 1 << 20, |_| None);
        assert_eq!(d.expired.len(), 1);
        assert_eq!(acc.outstanding(), (0, 0));
    }

    #[test]
    fn force_ignores_linger() {
        let mut acc = Accumulator::new(16384, Duration::from_secs(100));
        let t0 = Instant::now();
        acc.append(tp(0), rec(1), reply(), t0);
        assert_eq!(
            acc.drain(t0, true, LONG, 1 << 20, |_| Some(0))
                .by_leader
                .len(),
            1
        );
    }
}
