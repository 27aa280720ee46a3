//! Per-partition batching (Kafka's `RecordAccumulator`): records collect in batches of up to
//! `batch.size` bytes; a batch is ready when full, when `linger.ms` has passed, on flush or close,
//! or while `send` waits for `buffer.memory`. Pure state, no I/O.
//!
//! Up to `max.in.flight.requests.per.connection` batches of one partition may be in flight at
//! once (each Produce request carries at most one batch per partition, so this is the number of
//! pipelined requests that can hold the partition). With 1 the partition is muted while its batch
//! is out, which keeps strict order even without idempotence (Kafka's `guaranteeMessageOrder`).
//! With more, order is kept by the idempotent producer's sequence numbers, and a batch that comes
//! back for a retry goes back into its place (by creation order) and is sent again only once no
//! earlier batch of its partition is in flight, as Kafka's `shouldStopDrainBatchesForPartition`
//! does: later batches in flight either fail too (out of order) and return behind it, or were
//! written after an earlier write the broker had already taken.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
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
    /// Creation order within the partition: a batch returned for a retry goes back into the
    /// queue at this place.
    pub order: u64,
}

impl Batch {
    /// Resolves every record's future with its offset (`base_offset + index`; -1 stays -1).
    pub fn succeed(self, base_offset: i64, log_append_time: i64) {
        let partition = self.tp.partition;
        let topic = self.tp.topic;
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

/// One partition's batches: those waiting (in creation order) and those in flight.
#[derive(Default)]
struct PartitionQueue {
    batches: VecDeque<Batch>,
    /// `order` of the batches in flight.
    in_flight: BTreeSet<u64>,
    next_order: u64,
}

impl PartitionQueue {
    /// Whether the head may be sent now as far as ordering goes: fewer than `max_in_flight`
    /// batches out, and a retried head only once nothing earlier is in flight.
    fn head_may_go(&self, max_in_flight: usize) -> bool {
        let Some(head) = self.batches.front() else {
            return false;
        };
        if self.in_flight.len() >= max_in_flight {
            return false;
        }
        !(head.attempts > 0 && self.in_flight.first().is_some_and(|o| *o < head.order))
    }
}

/// One topic's partition queues.
struct TopicQueues {
    name: String,
    partitions: BTreeMap<i32, PartitionQueue>,
}

pub(crate) struct Accumulator {
    batch_size: usize,
    linger: Duration,
    max_in_flight: usize,
    /// By topic (in the order first seen), then partition.
    topics: Vec<TopicQueues>,
    /// Index into `topics` by name: a record finds its queue by `&str` without building a key.
    topic_index: HashMap<String, usize>,
    in_flight: usize,
    records: usize,
    bytes: usize,
    /// Where the next drain starts, moved on by one each time, so that when `max.request.size`
    /// cuts a request short the same partitions are not always the ones left out (Kafka's
    /// `drainIndex`).
    drain_start: usize,
}

impl Accumulator {
    /// `max_in_flight`: batches of one partition that may be in flight at once (at least 1).
    pub fn new(batch_size: usize, linger: Duration, max_in_flight: usize) -> Self {
        Accumulator {
            batch_size,
            linger,
            max_in_flight: max_in_flight.max(1),
            topics: Vec::new(),
            topic_index: HashMap::new(),
            in_flight: 0,
            records: 0,
            bytes: 0,
            drain_start: 0,
        }
    }

    /// Records and bytes queued or in flight.
    pub fn outstanding(&self) -> (usize, usize) {
        (self.records, self.bytes)
    }

    /// Batches in flight, over every partition.
    pub fn in_flight_count(&self) -> usize {
        self.in_flight
    }

    fn queue_mut(&mut self, topic: &str, partition: i32) -> &mut PartitionQueue {
        let index = match self.topic_index.get(topic) {
            Some(i) => *i,
            None => {
                self.topics.push(TopicQueues {
                    name: topic.to_string(),
                    partitions: BTreeMap::new(),
                });
                let i = self.topics.len() - 1;
                self.topic_index.insert(topic.to_string(), i);
                i
            }
        };
        self.topics[index].partitions.entry(partition).or_default()
    }

    fn queue(&self, topic: &str, partition: i32) -> Option<&PartitionQueue> {
        let index = *self.topic_index.get(topic)?;
        self.topics.get(index)?.partitions.get(&partition)
    }

    /// Adds a record to its partition's open batch (or a new one). Returns true when the sender
    /// should look now (Kafka's `batchIsFull || newBatchCreated`): a batch filled up, or a new
    /// one started whose linger the sender must time.
    pub fn append(
        &mut self,
        topic: &str,
        partition: i32,
        record: OutgoingRecord,
        reply: Reply,
        now: Instant,
    ) -> bool {
        let size = record.estimated_size();
        self.records += 1;
        self.bytes += size;
        let batch_size = self.batch_size;
        let queue = self.queue_mut(topic, partition);
        let fits = queue.batches.back().is_some_and(|b| {
            !b.full && b.identity.is_none() && b.attempts == 0 && b.bytes + size <= batch_size
        });
        let mut wake = false;
        if !fits {
            if let Some(last) = queue.batches.back_mut() {
                last.full = true;
            }
            let order = queue.next_order;
            queue.next_order += 1;
            queue.batches.push_back(Batch {
                tp: TopicPartition {
                    topic: topic.to_string(),
                    partition,
                },
                records: Vec::new(),
                replies: Vec::new(),
                bytes: 0,
                created: now,
                attempts: 0,
                retry_after: None,
                identity: None,
                full: false,
                order,
            });
            wake = true;
        }
        if let Some(batch) = queue.batches.back_mut() {
            batch.records.push(record);
            batch.replies.push(reply);
            batch.bytes += size;
            if batch.bytes >= batch_size {
                batch.full = true;
                wake = true;
            }
        }
        wake
    }

    /// Takes the ready head batch of every partition that may send (see `head_may_go`) and whose
    /// leader is known and `leader_ready` (connected, below its in-flight request limit),
    /// grouped by leader, at most `max_request_size` bytes per broker (but always one): one
    /// Produce request's worth per leader. `force` (flush, close, buffer exhausted) ignores
    /// linger.
    pub fn drain(
        &mut self,
        now: Instant,
        force: bool,
        delivery_timeout: Duration,
        max_request_size: usize,
        leader_of: impl Fn(&str, i32) -> Option<i32>,
        mut leader_ready: impl FnMut(i32) -> bool,
    ) -> Drained {
        let mut drained = Drained {
            by_leader: BTreeMap::new(),
            missing_leader: false,
            expired: Vec::new(),
        };
        let mut request_bytes: BTreeMap<i32, usize> = BTreeMap::new();
        let max_in_flight = self.max_in_flight;
        let linger = self.linger;
        let total: usize = self.topics.iter().map(|t| t.partitions.len()).sum();
        let start = self.drain_start.checked_rem(total).unwrap_or(0);
        self.drain_start = self.drain_start.wrapping_add(1);
        let Accumulator {
            topics,
            in_flight,
            records,
            bytes,
            ..
        } = self;
        // Two passes: the partitions from `start` on, then those before it.
        for pass in 0..2 {
            for (at, (topic, partition, queue)) in topics
                .iter_mut()
                .flat_map(|t| {
                    let topic = t.name.as_str();
                    t.partitions
                        .iter_mut()
                        .map(move |(&partition, queue)| (topic, partition, queue))
                })
                .enumerate()
            {
                if (pass == 0) != (at >= start) {
                    continue;
                }
                // Expired batches first: they fail without being sent. A batch that already has a
                // sequence waits while earlier ones are out (failing it changes what the broker
                // should expect next; the sender resets the producer id for that).
                while let Some(head) = queue.batches.front() {
                    let expired = now.duration_since(head.created) >= delivery_timeout
                        && (head.identity.is_none() || queue.in_flight.is_empty());
                    if !expired {
                        break;
                    }
                    if let Some(b) = queue.batches.pop_front() {
                        *records = records.saturating_sub(b.len());
                        *bytes = bytes.saturating_sub(b.bytes);
                        drained.expired.push(b);
                    }
                }
                if !queue.head_may_go(max_in_flight) {
                    continue;
                }
                let Some(head) = queue.batches.front() else {
                    continue;
                };
                let ready = if head.retry_after.is_some_and(|t| now < t) {
                    false
                } else {
                    force
                        || head.full
                        || queue.batches.len() > 1
                        || head.attempts > 0
                        || now >= after(head.created, linger)
                };
                if !ready {
                    continue;
                }
                let Some(leader) = leader_of(topic, partition) else {
                    drained.missing_leader = true;
                    continue;
                };
                let used = request_bytes.get(&leader).copied().unwrap_or(0);
                if used > 0 && used + head.bytes > max_request_size {
                    continue;
                }
                if used == 0 && !leader_ready(leader) {
                    continue;
                }
                request_bytes.insert(leader, used + head.bytes);
                if let Some(batch) = queue.batches.pop_front() {
                    queue.in_flight.insert(batch.order);
                    *in_flight += 1;
                    drained.by_leader.entry(leader).or_default().push(batch);
                }
            }
        }
        drained
    }

    /// Takes every batch waiting to be sent (not those in flight), to fail them.
    pub fn take_queued(&mut self) -> Vec<Batch> {
        let mut out = Vec::new();
        for t in &mut self.topics {
            for queue in t.partitions.values_mut() {
                out.extend(queue.batches.drain(..));
            }
        }
        for b in &out {
            self.records = self.records.saturating_sub(b.len());
            self.bytes = self.bytes.saturating_sub(b.bytes);
        }
        out
    }

    /// Topics with batches waiting, for a metadata refresh.
    pub fn queued_topics(&self) -> Vec<String> {
        self.topics
            .iter()
            .filter(|t| t.partitions.values().any(|q| !q.batches.is_empty()))
            .map(|t| t.name.clone())
            .collect()
    }

    /// Puts a drained batch back for a retry, in its place by creation order (in front of the
    /// batches created after it).
    pub fn requeue(&mut self, batch: Batch) {
        let queue = self.queue_mut(&batch.tp.topic, batch.tp.partition);
        let was_in_flight = queue.in_flight.remove(&batch.order);
        let at = queue
            .batches
            .iter()
            .position(|b| b.order > batch.order)
            .unwrap_or(queue.batches.len());
        queue.batches.insert(at, batch);
        if was_in_flight {
            self.in_flight = self.in_flight.saturating_sub(1);
        }
    }

    /// A drained batch is done (acknowledged or failed): its partition may send again.
    pub fn complete(&mut self, batch: &Batch) {
        let queue = self.queue_mut(&batch.tp.topic, batch.tp.partition);
        let was_in_flight = queue.in_flight.remove(&batch.order);
        if was_in_flight {
            self.in_flight = self.in_flight.saturating_sub(1);
        }
        // Saturating: a bookkeeping slip must not panic the sender and strand every record.
        self.records = self.records.saturating_sub(batch.len());
        self.bytes = self.bytes.saturating_sub(batch.bytes);
    }

    /// Whether a batch of the same partition created before `batch` is still unresolved (in
    /// flight, or waiting for a retry). An out-of-order-sequence answer to `batch` is then only
    /// the echo of that earlier batch's trouble (Kafka's `TransactionManager.canRetry`).
    pub fn earlier_unresolved(&self, batch: &Batch) -> bool {
        self.queue(&batch.tp.topic, batch.tp.partition)
            .is_some_and(|q| {
                q.in_flight.range(..batch.order).next().is_some()
                    || q.batches.front().is_some_and(|b| b.order < batch.order)
            })
    }

    /// When the sender should next look, if nothing wakes it earlier: the earliest linger expiry
    /// or retry backoff among partitions that could send, or a delivery timeout.
    pub fn next_wakeup(&self, delivery_timeout: Duration) -> Option<Instant> {
        self.topics
            .iter()
            .flat_map(|t| t.partitions.values())
            .filter_map(|q| {
                let head = q.batches.front()?;
                let expiry = after(head.created, delivery_timeout);
                if !q.head_may_go(self.max_in_flight) {
                    // An answer wakes the sender; until then only the expiry matters.
                    return Some(expiry);
                }
                let ready_at = head.retry_after.unwrap_or(after(head.created, self.linger));
                Some(ready_at.min(expiry))
            })
            .min()
    }

    /// Forgets producer identities of queued batches from an older producer-id generation so
    /// they get fresh sequence numbers.
    pub fn drop_identities_before(&mut self, generation: u64) {
        for q in self
            .topics
            .iter_mut()
            .flat_map(|t| t.partitions.values_mut())
        {
            for b in q.batches.iter_mut() {
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

    fn reply() -> Reply {
        oneshot::channel().0
    }

    const LONG: Duration = Duration::from_secs(120);

    /// Drains with every partition led by broker 1, which is always ready.
    fn drain_all(acc: &mut Accumulator, now: Instant, force: bool) -> Vec<Batch> {
        let mut d = acc.drain(now, force, LONG, 1 << 20, |_, _| Some(1), |_| true);
        d.by_leader.remove(&1).unwrap_or_default()
    }

    #[test]
    fn batch_waits_for_linger_then_is_ready() {
        let mut acc = Accumulator::new(16384, Duration::from_millis(100), 5);
        let t0 = Instant::now();
        // A new batch wakes the sender (to time its linger); the next record does not.
        assert!(acc.append("t", 0, rec(10), reply(), t0));
        assert!(!acc.append("t", 0, rec(10), reply(), t0));
        assert!(drain_all(&mut acc, t0, false).is_empty());
        assert_eq!(acc.next_wakeup(LONG), Some(t0 + Duration::from_millis(100)));
        let d = drain_all(&mut acc, t0 + Duration::from_millis(100), false);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].len(), 2);
    }

    #[test]
    fn full_batch_is_ready_at_once_and_next_record_opens_a_new_one() {
        let mut acc = Accumulator::new(100, Duration::from_secs(10), 5);
        let t0 = Instant::now();
        acc.append("t", 0, rec(10), reply(), t0);
        // Estimated size of rec(80) pushes past 100 bytes: a new batch starts.
        assert!(acc.append("t", 0, rec(80), reply(), t0));
        let d = drain_all(&mut acc, t0, false);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].len(), 1);
        assert_eq!(acc.outstanding().0, 2);
    }

    #[test]
    fn max_in_flight_one_mutes_the_partition_while_its_batch_is_out() {
        let mut acc = Accumulator::new(16384, Duration::ZERO, 1);
        let t0 = Instant::now();
        acc.append("t", 0, rec(1), reply(), t0);
        let first = drain_all(&mut acc, t0, false);
        acc.append("t", 0, rec(1), reply(), t0);
        acc.append("t", 1, rec(1), reply(), t0);
        let d = drain_all(&mut acc, t0, false);
        // Only partition 1 goes: partition 0 still has a batch in flight.
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].tp.partition, 1);
        for b in &first {
            acc.complete(b);
        }
        let d = drain_all(&mut acc, t0, false);
        assert_eq!(d[0].tp.partition, 0);
    }

    #[test]
    fn up_to_max_in_flight_batches_of_a_partition_go_out_one_per_drain() {
        let mut acc = Accumulator::new(30, Duration::ZERO, 3);
        let t0 = Instant::now();
        for _ in 0..5 {
            acc.append("t", 0, rec(10), reply(), t0); // 31 bytes estimated: a batch each
        }
        let mut out = Vec::new();
        for _ in 0..5 {
            let d = drain_all(&mut acc, t0, false);
            assert!(d.len() <= 1, "one batch of a partition per request");
            out.extend(d);
        }
        assert_eq!(
            out.iter().map(|b| b.order).collect::<Vec<_>>(),
            vec![0, 1, 2]
        );
        assert_eq!(acc.in_flight_count(), 3);
        acc.complete(&out[0]);
        assert_eq!(drain_all(&mut acc, t0, false)[0].order, 3);
    }

    #[test]
    fn a_full_request_does_not_always_leave_out_the_same_partitions() {
        let mut acc = Accumulator::new(30, Duration::ZERO, 5);
        let t0 = Instant::now();
        for p in 0..3 {
            for _ in 0..3 {
                acc.append("t", p, rec(10), reply(), t0);
            }
        }
        // max.request.size lets one batch into each request.
        let picked: Vec<i32> = (0..3)
            .map(|_| {
                let mut d = acc.drain(t0, false, LONG, 1, |_, _| Some(1), |_| true);
                let batches = d.by_leader.remove(&1).unwrap_or_default();
                assert_eq!(batches.len(), 1);
                batches[0].tp.partition
            })
            .collect();
        assert_eq!(picked, vec![0, 1, 2]);
    }

    #[test]
    fn leader_at_its_request_limit_gets_nothing() {
        let mut acc = Accumulator::new(16384, Duration::ZERO, 5);
        let t0 = Instant::now();
        acc.append("t", 0, rec(1), reply(), t0);
        let d = acc.drain(t0, false, LONG, 1 << 20, |_, _| Some(1), |_| false);
        assert!(d.by_leader.is_empty());
        assert_eq!(acc.in_flight_count(), 0);
    }

    #[test]
    fn a_retry_goes_back_in_creation_order_and_waits_for_earlier_batches_in_flight() {
        let mut acc = Accumulator::new(30, Duration::ZERO, 5);
        let t0 = Instant::now();
        for _ in 0..4 {
            acc.append("t", 0, rec(10), reply(), t0);
        }
        let mut sent: Vec<Batch> = (0..3)
            .flat_map(|_| drain_all(&mut acc, t0, false))
            .collect();
        assert_eq!(sent.len(), 3);
        // Batch 1 fails; batch 2 comes back too (out of order behind it); 0 is still out.
        let mut b2 = sent.remove(2);
        let mut b1 = sent.remove(1);
        let b0 = sent.remove(0);
        assert!(acc.earlier_unresolved(&b1));
        assert!(!acc.earlier_unresolved(&b0));
        b2.attempts = 1;
        acc.requeue(b2);
        b1.attempts = 1;
        acc.requeue(b1);
        // Nothing goes while batch 0 is in flight: 1 is a retry with an earlier batch out.
        assert!(drain_all(&mut acc, t0, false).is_empty());
        acc.complete(&b0);
        let d = drain_all(&mut acc, t0, false);
        assert_eq!(d.iter().map(|b| b.order).collect::<Vec<_>>(), vec![1]);
        // Batch 2 (a retry) waits for 1; only then does it go, and then the new batch 3.
        assert!(drain_all(&mut acc, t0, false).is_empty());
        acc.complete(&d[0]);
        assert_eq!(drain_all(&mut acc, t0, false)[0].order, 2);
        assert_eq!(drain_all(&mut acc, t0, false)[0].order, 3);
    }

    #[test]
    fn requeued_batch_goes_first_after_backoff() {
        let mut acc = Accumulator::new(16384, Duration::ZERO, 5);
        let t0 = Instant::now();
        acc.append("t", 0, rec(1), reply(), t0);
        let mut batch = drain_all(&mut acc, t0, false).remove(0);
        acc.append("t", 0, rec(2), reply(), t0);
        batch.attempts = 1;
        batch.retry_after = Some(t0 + Duration::from_millis(100));
        acc.requeue(batch);
        assert!(drain_all(&mut acc, t0, false).is_empty());
        let d = drain_all(&mut acc, t0 + Duration::from_millis(100), false);
        assert_eq!(d[0].attempts, 1);
    }

    #[test]
    fn partition_without_leader_asks_for_metadata() {
        let mut acc = Accumulator::new(16384, Duration::ZERO, 5);
        let t0 = Instant::now();
        acc.append("t", 0, rec(1), reply(), t0);
        let d = acc.drain(t0, false, LONG, 1 << 20, |_, _| None, |_| true);
        assert!(d.missing_leader);
        assert!(d.by_leader.is_empty());
    }

    #[test]
    fn batches_past_delivery_timeout_expire() {
        let mut acc = Accumulator::new(16384, Duration::ZERO, 5);
        let t0 = Instant::now();
        acc.append("t", 0, rec(1), reply(), t0);
        let d = acc.drain(t0 + LONG, false, LONG, 1 << 20, |_, _| None, |_| true);
        assert_eq!(d.expired.len(), 1);
        assert_eq!(acc.outstanding(), (0, 0));
    }

    #[test]
    fn force_ignores_linger() {
        let mut acc = Accumulator::new(16384, Duration::from_secs(100), 5);
        let t0 = Instant::now();
        acc.append("t", 0, rec(1), reply(), t0);
        assert_eq!(drain_all(&mut acc, t0, true).len(), 1);
    }

    #[test]
    fn take_queued_leaves_batches_in_flight() {
        let mut acc = Accumulator::new(30, Duration::ZERO, 5);
        let t0 = Instant::now();
        acc.append("t", 0, rec(10), reply(), t0);
        acc.append("t", 0, rec(10), reply(), t0);
        let sent = drain_all(&mut acc, t0, false);
        assert_eq!(acc.take_queued().len(), 1);
        assert_eq!(acc.outstanding().0, 1);
        acc.complete(&sent[0]);
        assert_eq!(acc.outstanding(), (0, 0));
    }
}
