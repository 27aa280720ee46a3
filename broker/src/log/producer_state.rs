//! Idempotent producer state: per producer id, its epoch and the last five batches it wrote, so a
//! retried batch is answered with its original offsets instead of being written twice, and a gap
//! or a fenced epoch is refused (Kafka's `ProducerStateManager` / `ProducerAppendInfo`).
//!
//! Checks run against a staged copy (`ProducerAppend`) so that a produce request with several
//! batches either commits all its producer updates or none.

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};

use super::batch::BatchInfo;
use super::LogError;

/// Kafka keeps the metadata of the last five batches per producer (max.in.flight = 5).
pub const CACHED_BATCHES: usize = 5;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchMetadata {
    pub first_seq: i32,
    pub last_seq: i32,
    pub first_offset: i64,
    pub last_offset: i64,
    /// The batch's stored maxTimestamp: a duplicate is answered with it as
    /// `log_append_time_ms`, as Kafka's `UnifiedLog` does. -1 in checkpoints written before.
    #[serde(default = "no_timestamp")]
    pub timestamp: i64,
}

fn no_timestamp() -> i64 {
    -1
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProducerEntry {
    pub producer_id: i64,
    pub epoch: i16,
    pub batches: VecDeque<BatchMetadata>,
}

impl ProducerEntry {
    fn push(&mut self, meta: BatchMetadata) {
        if self.batches.len() == CACHED_BATCHES {
            self.batches.pop_front();
        }
        self.batches.push_back(meta);
    }
}

/// Whether a batch from a producer with an id and sequence takes part in deduplication.
fn is_idempotent(batch: &BatchInfo) -> bool {
    batch.producer_id >= 0 && batch.base_sequence >= 0
}

/// Kafka's `inSequence`: the next sequence follows the last one, wrapping at `i32::MAX`.
fn in_sequence(last_seq: i32, next_seq: i32) -> bool {
    i64::from(next_seq) == i64::from(last_seq) + 1 || (next_seq == 0 && last_seq == i32::MAX)
}

/// The outcome of checking one batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Write it.
    Append,
    /// Already written: answer with these offsets and write nothing.
    Duplicate(BatchMetadata),
}

#[derive(Clone, Debug, Default)]
pub struct ProducerStateManager {
    producers: HashMap<i64, ProducerEntry>,
}

impl ProducerStateManager {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn get(&self, producer_id: i64) -> Option<&ProducerEntry> {
        self.producers.get(&producer_id)
    }

    pub fn len(&self) -> usize {
        self.producers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.producers.is_empty()
    }

    /// Starts checking the batches of one append.
    pub fn begin(&self) -> ProducerAppend<'_> {
        ProducerAppend {
            manager: self,
            staged: HashMap::new(),
        }
    }

    /// Applies what an append staged, once its bytes are written.
    pub fn commit(&mut self, staged: HashMap<i64, ProducerEntry>) {
        self.producers.extend(staged);
    }

    /// Replays a stored batch during recovery: no checks, the log is the truth.
    pub fn replay(&mut self, batch: &BatchInfo) {
        if !is_idempotent(batch) {
            return;
        }
        let entry = self
            .producers
            .entry(batch.producer_id)
            .or_insert_with(|| ProducerEntry {
                producer_id: batch.producer_id,
                epoch: batch.producer_epoch,
                batches: VecDeque::new(),
            });
        if batch.producer_epoch < entry.epoch {
            return;
        }
        if batch.producer_epoch > entry.epoch {
            entry.epoch = batch.producer_epoch;
            entry.batches.clear();
        }
        entry.push(metadata(batch));
    }

    /// Forgets batches at or above `end` (a truncated log tail). A producer left without cached
    /// batches accepts its next sequence as a new producer would.
    pub fn truncate_to(&mut self, end: i64) {
        for entry in self.producers.values_mut() {
            entry.batches.retain(|m| m.last_offset < end);
        }
    }

    pub fn snapshot(&self) -> Vec<ProducerEntry> {
        let mut entries: Vec<_> = self.producers.values().cloned().collect();
        entries.sort_by_key(|e| e.producer_id);
        entries
    }

    pub fn from_snapshot(entries: Vec<ProducerEntry>) -> Self {
        ProducerStateManager {
            producers: entries
                .into_iter()
                .map(|mut e| {
                    // A snapshot edited by hand or damaged must not grow the cache.
                    while e.batches.len() > CACHED_BATCHES {
                        e.batches.pop_front();
                    }
                    (e.producer_id, e)
                })
                .collect(),
        }
    }
}

fn metadata(batch: &BatchInfo) -> BatchMetadata {
    BatchMetadata {
        first_seq: batch.base_sequence,
        last_seq: batch.last_sequence(),
        first_offset: batch.base_offset,
        last_offset: batch.last_offset(),
        timestamp: batch.max_timestamp,
    }
}

/// The producer updates of one append in progress.
pub struct ProducerAppend<'a> {
    manager: &'a ProducerStateManager,
    staged: HashMap<i64, ProducerEntry>,
}

impl ProducerAppend<'_> {
    fn current(&self, producer_id: i64) -> Option<&ProducerEntry> {
        self.staged
            .get(&producer_id)
            .or_else(|| self.manager.producers.get(&producer_id))
    }

    /// Checks `batch` (whose `base_offset` is the offset it will be written at) and stages it.
    pub fn check(&mut self, batch: &BatchInfo) -> Result<Verdict, LogError> {
        if !is_idempotent(batch) {
            return Ok(Verdict::Append);
        }
        let pid = batch.producer_id;
        let epoch = batch.producer_epoch;
        let first_seq = batch.base_sequence;
        let mut entry =
            match self.current(pid) {
                // Unknown producer (new, or its state expired): any sequence is accepted, as Kafka
                // does when it has no entry.
                None => ProducerEntry {
                    producer_id: pid,
                    epoch,
                    batches: VecDeque::new(),
                },
                Some(current) => {
                    if epoch < current.epoch {
                        return Err(LogError::InvalidProducerEpoch {
                            producer_id: pid,
                            got: epoch,
                            current: current.epoch,
                        });
                    }
                    if epoch == current.epoch {
                        if let Some(dup) = current.batches.iter().find(|m| {
                            m.first_seq == first_seq && m.last_seq == batch.last_sequence()
                        }) {
                            return Ok(Verdict::Duplicate(*dup));
                        }
                        if let Some(last) = current.batches.back() {
                            if !in_sequence(last.last_seq, first_seq) {
                                return Err(LogError::OutOfOrderSequence {
                                    producer_id: pid,
                                    expected: last.last_seq.wrapping_add(1).max(0),
                                    got: first_seq,
                                });
                            }
                        }
                        current.clone()
                    } else {
                        // A bumped epoch starts its sequences again at 0.
                        if first_seq != 0 {
                            return Err(LogError::OutOfOrderSequence {
                                producer_id: pid,
                                expected: 0,
                                got: first_seq,
                            });
                        }
                        ProducerEntry {
                            producer_id: pid,
                            epoch,
                            batches: VecDeque::new(),
                        }
                    }
                }
            };
        entry.push(metadata(batch));
        self.staged.insert(pid, entry);
        Ok(Verdict::Append)
    }

    pub fn into_staged(self) -> HashMap<i64, ProducerEntry> {
        self.staged
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(pid: i64, epoch: i16, seq: i32, count: i32, offset: i64) -> BatchInfo {
        BatchInfo {
            position: 0,
            size: 100,
            base_offset: offset,
            last_offset_delta: count - 1,
            records_count: count,
            max_timestamp: 0,
            producer_id: pid,
            producer_epoch: epoch,
            base_sequence: seq,
            attributes: 0,
        }
    }

    fn append(m: &mut ProducerStateManager, b: BatchInfo) -> Result<Verdict, LogError> {
        let mut a = m.begin();
        let v = a.check(&b)?;
        let staged = a.into_staged();
        m.commit(staged);
        Ok(v)
    }

    #[test]
    fn duplicate_of_recent_batch_returns_original_offsets() {
        let mut m = ProducerStateManager::new();
        assert_eq!(
            append(&mut m, info(1, 0, 0, 3, 10)).ok(),
            Some(Verdict::Append)
        );
        assert_eq!(
            append(&mut m, info(1, 0, 3, 2, 13)).ok(),
            Some(Verdict::Append)
        );
        match append(&mut m, info(1, 0, 0, 3, 99)) {
            Ok(Verdict::Duplicate(meta)) => {
                assert_eq!((meta.first_offset, meta.last_offset), (10, 12));
            }
            other => panic!("expected duplicate, got {other:?}"),
        }
    }

    #[test]
    fn gaps_and_old_epochs_are_refused() {
        let mut m = ProducerStateManager::new();
        append(&mut m, info(1, 2, 0, 1, 0)).expect("first");
        let gap = append(&mut m, info(1, 2, 5, 1, 1)).expect_err("gap");
        assert_eq!(gap.kafka_error_code(), 45);
        let old = append(&mut m, info(1, 1, 1, 1, 1)).expect_err("old epoch");
        assert_eq!(old.kafka_error_code(), 47);
        let new_epoch_not_zero = append(&mut m, info(1, 3, 1, 1, 1)).expect_err("new epoch");
        assert_eq!(new_epoch_not_zero.kafka_error_code(), 45);
        assert_eq!(
            append(&mut m, info(1, 3, 0, 1, 1)).ok(),
            Some(Verdict::Append)
        );
    }

    #[test]
    fn sequence_wraps_and_unknown_producers_start_anywhere() {
        let mut m = ProducerStateManager::new();
        append(&mut m, info(7, 0, i32::MAX - 1, 2, 0)).expect("unknown producer at any seq");
        assert_eq!(
            append(&mut m, info(7, 0, 0, 1, 2)).ok(),
            Some(Verdict::Append)
        );
    }

    #[test]
    fn only_five_batches_are_remembered() {
        let mut m = ProducerStateManager::new();
        for i in 0..7 {
            append(&mut m, info(1, 0, i, 1, i64::from(i))).expect("append");
        }
        let entry = m.get(1).expect("entry");
        assert_eq!(entry.batches.len(), CACHED_BATCHES);
        // The oldest are forgotten: a retry of seq 0 is now out of order.
        assert!(append(&mut m, info(1, 0, 0, 1, 9)).is_err());
        let restored = ProducerStateManager::from_snapshot(m.snapshot());
        assert_eq!(restored.get(1), m.get(1));
    }

    #[test]
    fn failed_append_stages_nothing() {
        let mut m = ProducerStateManager::new();
        append(&mut m, info(1, 0, 0, 1, 0)).expect("first");
        let mut a = m.begin();
        a.check(&info(1, 0, 1, 1, 1)).expect("in order");
        assert!(a.check(&info(1, 0, 9, 1, 2)).is_err());
        drop(a);
        assert_eq!(m.get(1).map(|e| e.batches.len()), Some(1));
    }
}
