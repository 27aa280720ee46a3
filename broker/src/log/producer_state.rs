//! Idempotent and transactional producer state: per producer id, its epoch, the last five
//! batches it wrote (so a retried batch is answered with its original offsets instead of being
//! written twice, and a gap or a fenced epoch is refused), the coordinator epoch of its last
//! transaction marker and the transaction it has open in this partition (Kafka's
//! `ProducerStateManager` / `ProducerAppendInfo` / `ProducerStateEntry`).
//!
//! Checks run against a staged copy (`ProducerAppend`) so that a produce request with several
//! batches either commits all its producer updates or none.

use std::collections::{BTreeSet, HashMap, VecDeque};

use serde::{Deserialize, Serialize};

use super::batch::{BatchInfo, TRANSACTIONAL_FLAG};
use super::txn::{CompletedTxn, ControlRecordType, OngoingTxn};
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

fn no_coordinator_epoch() -> i32 {
    -1
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProducerEntry {
    pub producer_id: i64,
    pub epoch: i16,
    pub batches: VecDeque<BatchMetadata>,
    /// The coordinator epoch of the last transaction marker written for this producer (Kafka's
    /// `ProducerStateEntry.coordinatorEpoch`): a marker from an older coordinator is fenced.
    #[serde(default = "no_coordinator_epoch")]
    pub coordinator_epoch: i32,
    /// The first offset of the transaction this producer has open here (Kafka's
    /// `currentTxnFirstOffset`); `None` when none is open.
    #[serde(default)]
    pub current_txn_first_offset: Option<i64>,
    /// The max timestamp of the open transaction's first batch (-1 when none is open).
    #[serde(default = "no_timestamp")]
    pub current_txn_start_ms: i64,
    /// The last transaction a marker ended here, `(first offset, marker offset)`: a truncation
    /// that removes the marker but not the transaction's first batch opens it again.
    #[serde(default)]
    pub last_txn: Option<(i64, i64)>,
    /// The max timestamp of the last batch or marker written for this producer (DescribeProducers'
    /// `last_timestamp`).
    #[serde(default = "no_timestamp")]
    pub last_timestamp: i64,
}

impl ProducerEntry {
    fn new(producer_id: i64, epoch: i16) -> Self {
        ProducerEntry {
            producer_id,
            epoch,
            batches: VecDeque::new(),
            coordinator_epoch: -1,
            current_txn_first_offset: None,
            current_txn_start_ms: -1,
            last_txn: None,
            last_timestamp: -1,
        }
    }

    fn push(&mut self, meta: BatchMetadata) {
        if self.batches.len() == CACHED_BATCHES {
            self.batches.pop_front();
        }
        self.batches.push_back(meta);
    }

    /// A newer epoch starts its sequences afresh (Kafka's `maybeUpdateProducerEpoch`).
    fn bump_epoch(&mut self, epoch: i16) {
        if epoch != self.epoch {
            self.epoch = epoch;
            self.batches.clear();
        }
    }

    /// The last offset this producer wrote here (its last batch or marker), if known.
    pub fn last_offset(&self) -> Option<i64> {
        let batch = self.batches.back().map(|b| b.last_offset);
        let marker = self.last_txn.map(|(_, marker)| marker);
        batch.max(marker)
    }

    /// Applies a data batch to the producer's transaction state (Kafka's `appendDataBatch`):
    /// a transactional batch opens a transaction when none is open; a non-transactional one
    /// while one is open is INVALID_TXN_STATE.
    fn apply_data(&mut self, batch: &BatchInfo) -> Result<(), LogError> {
        let transactional = is_transactional(batch);
        match (self.current_txn_first_offset, transactional) {
            (Some(_), false) => Err(LogError::InvalidTxnState(format!(
                "Expected transactional write from producer {} at offset {}",
                self.producer_id, batch.base_offset
            ))),
            (None, true) => {
                self.current_txn_first_offset = Some(batch.base_offset);
                self.current_txn_start_ms = batch.max_timestamp;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Ends the open transaction with a marker at `offset` (Kafka's `appendEndTxnMarker`).
    fn apply_marker(
        &mut self,
        epoch: i16,
        control: ControlRecordType,
        coordinator_epoch: i32,
        offset: i64,
        timestamp: i64,
    ) -> Option<CompletedTxn> {
        let completed = self.current_txn_first_offset.map(|first| CompletedTxn {
            producer_id: self.producer_id,
            first_offset: first,
            last_offset: offset,
            is_aborted: control == ControlRecordType::Abort,
        });
        if epoch > self.epoch {
            self.bump_epoch(epoch);
        }
        self.coordinator_epoch = coordinator_epoch;
        self.current_txn_first_offset = None;
        self.current_txn_start_ms = -1;
        self.last_txn = completed.map(|c| (c.first_offset, c.last_offset));
        self.last_timestamp = timestamp;
        completed
    }
}

/// Whether a batch from a producer with an id and sequence takes part in deduplication.
fn is_idempotent(batch: &BatchInfo) -> bool {
    batch.producer_id >= 0 && batch.base_sequence >= 0
}

/// Whether the batch has the transactional attribute.
pub fn is_transactional(batch: &BatchInfo) -> bool {
    batch.attributes & TRANSACTIONAL_FLAG != 0
}

/// A transactional batch without sequence numbers (base sequence -1), as the group coordinator
/// writes transactional offset commits: it opens a transaction but is not deduplicated.
fn is_unsequenced_transactional(batch: &BatchInfo) -> bool {
    batch.producer_id >= 0 && batch.base_sequence < 0 && is_transactional(batch)
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
    /// The open transactions as (first offset, producer id), oldest first (Kafka's
    /// `ongoingTxns`).
    ongoing: BTreeSet<(i64, i64)>,
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

    /// Every producer, in no particular order.
    pub fn entries(&self) -> impl Iterator<Item = &ProducerEntry> {
        self.producers.values()
    }

    /// Replaces (or adds) an entry, keeping the open transactions in step.
    fn put(&mut self, entry: ProducerEntry) {
        if let Some(old) = self.producers.get(&entry.producer_id) {
            if let Some(first) = old.current_txn_first_offset {
                self.ongoing.remove(&(first, entry.producer_id));
            }
        }
        if let Some(first) = entry.current_txn_first_offset {
            self.ongoing.insert((first, entry.producer_id));
        }
        self.producers.insert(entry.producer_id, entry);
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
        for entry in staged.into_values() {
            self.put(entry);
        }
    }

    /// The first offset of the oldest open transaction (Kafka's `firstUndecidedOffset`).
    pub fn first_undecided_offset(&self) -> Option<i64> {
        self.ongoing.first().map(|&(first, _)| first)
    }

    /// The last stable offset once `completed` is done (Kafka's `lastStableOffset(CompletedTxn)`):
    /// the first offset of the oldest other open transaction, else just past its marker.
    pub fn last_stable_offset_after(&self, completed: &CompletedTxn) -> i64 {
        self.ongoing
            .iter()
            .find(|&&(_, pid)| pid != completed.producer_id)
            .map_or(completed.last_offset.saturating_add(1), |&(first, _)| first)
    }

    /// The transactions open here, oldest first.
    pub fn ongoing_transactions(&self) -> Vec<OngoingTxn> {
        self.ongoing
            .iter()
            .filter_map(|&(first_offset, pid)| {
                let entry = self.producers.get(&pid)?;
                Some(OngoingTxn {
                    producer_id: pid,
                    producer_epoch: entry.epoch,
                    first_offset,
                    start_timestamp_ms: entry.current_txn_start_ms,
                })
            })
            .collect()
    }

    /// Replays a stored batch during recovery or as a follower: no checks, the log is the
    /// truth. `marker` is what a control batch says (`txn::parse_marker`); a control batch
    /// without one changes nothing. Returns the transaction a marker completed.
    pub fn replay(
        &mut self,
        batch: &BatchInfo,
        marker: Option<(ControlRecordType, i32)>,
    ) -> Option<CompletedTxn> {
        if batch.producer_id < 0 {
            return None;
        }
        if batch.is_control() {
            let (control, coordinator_epoch) = marker?;
            let mut entry = self
                .producers
                .get(&batch.producer_id)
                .cloned()
                .unwrap_or_else(|| ProducerEntry::new(batch.producer_id, batch.producer_epoch));
            let completed = entry.apply_marker(
                batch.producer_epoch,
                control,
                coordinator_epoch,
                batch.base_offset,
                batch.max_timestamp,
            );
            self.put(entry);
            return completed;
        }
        if !is_idempotent(batch) && !is_unsequenced_transactional(batch) {
            return None;
        }
        let mut entry = self
            .producers
            .get(&batch.producer_id)
            .cloned()
            .unwrap_or_else(|| ProducerEntry::new(batch.producer_id, batch.producer_epoch));
        if batch.producer_epoch < entry.epoch {
            return None;
        }
        entry.bump_epoch(batch.producer_epoch);
        if is_idempotent(batch) {
            entry.push(metadata(batch));
        }
        entry.last_timestamp = batch.max_timestamp;
        // The log is the truth: a non-transactional batch during a transaction is kept as is.
        let _ = entry.apply_data(batch);
        self.put(entry);
        None
    }

    /// Forgets batches at or above `end` (a truncated log tail). A producer left without cached
    /// batches accepts its next sequence as a new producer would. A transaction opened in the
    /// tail is forgotten; one whose marker was in the tail is open again.
    pub fn truncate_to(&mut self, end: i64) {
        let entries: Vec<ProducerEntry> = self.producers.values().cloned().collect();
        for mut entry in entries {
            entry.batches.retain(|m| m.last_offset < end);
            if entry
                .current_txn_first_offset
                .is_some_and(|first| first >= end)
            {
                entry.current_txn_first_offset = None;
                entry.current_txn_start_ms = -1;
            }
            if let Some((first, marker)) = entry.last_txn {
                if marker >= end {
                    entry.last_txn = None;
                    if first < end {
                        entry.current_txn_first_offset = Some(first);
                    }
                }
            }
            self.put(entry);
        }
    }

    pub fn snapshot(&self) -> Vec<ProducerEntry> {
        let mut entries: Vec<_> = self.producers.values().cloned().collect();
        entries.sort_by_key(|e| e.producer_id);
        entries
    }

    pub fn from_snapshot(entries: Vec<ProducerEntry>) -> Self {
        let mut manager = ProducerStateManager::new();
        for mut e in entries {
            // A snapshot edited by hand or damaged must not grow the cache.
            while e.batches.len() > CACHED_BATCHES {
                e.batches.pop_front();
            }
            manager.put(e);
        }
        manager
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

    /// Kafka's `checkProducerEpoch` for a client's write: an older epoch is fenced.
    fn check_epoch(current: &ProducerEntry, epoch: i16) -> Result<(), LogError> {
        if epoch < current.epoch {
            return Err(LogError::InvalidProducerEpoch {
                producer_id: current.producer_id,
                got: epoch,
                current: current.epoch,
            });
        }
        Ok(())
    }

    /// Checks `batch` (whose `base_offset` is the offset it will be written at) and stages it.
    pub fn check(&mut self, batch: &BatchInfo) -> Result<Verdict, LogError> {
        if is_unsequenced_transactional(batch) {
            let mut entry = match self.current(batch.producer_id) {
                Some(current) => {
                    Self::check_epoch(current, batch.producer_epoch)?;
                    current.clone()
                }
                None => ProducerEntry::new(batch.producer_id, batch.producer_epoch),
            };
            entry.bump_epoch(batch.producer_epoch);
            entry.apply_data(batch)?;
            entry.last_timestamp = batch.max_timestamp;
            self.staged.insert(batch.producer_id, entry);
            return Ok(Verdict::Append);
        }
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
                None => ProducerEntry::new(pid, epoch),
                Some(current) => {
                    Self::check_epoch(current, epoch)?;
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
                        let mut bumped = current.clone();
                        bumped.bump_epoch(epoch);
                        bumped
                    }
                }
            };
        entry.apply_data(batch)?;
        entry.push(metadata(batch));
        entry.last_timestamp = batch.max_timestamp;
        self.staged.insert(pid, entry);
        Ok(Verdict::Append)
    }

    /// Checks a transaction marker the leader is about to write at `offset` and stages it
    /// (Kafka's `appendEndTxnMarker`): an older producer epoch is INVALID_PRODUCER_EPOCH, an
    /// older coordinator epoch TRANSACTION_COORDINATOR_FENCED. Returns the transaction it
    /// completes, `None` when the producer had none open here.
    pub fn check_marker(
        &mut self,
        marker: &super::txn::TxnMarker,
        offset: i64,
        timestamp: i64,
    ) -> Result<Option<CompletedTxn>, LogError> {
        let mut entry = match self.current(marker.producer_id) {
            Some(current) => {
                Self::check_epoch(current, marker.producer_epoch)?;
                if marker.coordinator_epoch < current.coordinator_epoch {
                    return Err(LogError::TransactionCoordinatorFenced(format!(
                        "Invalid coordinator epoch for producerId {}: {} (zombie), {} (current)",
                        marker.producer_id, marker.coordinator_epoch, current.coordinator_epoch
                    )));
                }
                current.clone()
            }
            None => ProducerEntry::new(marker.producer_id, marker.producer_epoch),
        };
        let completed = entry.apply_marker(
            marker.producer_epoch,
            marker.control,
            marker.coordinator_epoch,
            offset,
            timestamp,
        );
        self.staged.insert(marker.producer_id, entry);
        Ok(completed)
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

    fn txn_info(pid: i64, epoch: i16, seq: i32, count: i32, offset: i64) -> BatchInfo {
        BatchInfo {
            attributes: TRANSACTIONAL_FLAG,
            ..info(pid, epoch, seq, count, offset)
        }
    }

    fn marker(pid: i64, epoch: i16, coordinator_epoch: i32, commit: bool) -> TxnMarker {
        TxnMarker {
            producer_id: pid,
            producer_epoch: epoch,
            coordinator_epoch,
            control: ControlRecordType::from_result(commit),
        }
    }

    fn end(
        m: &mut ProducerStateManager,
        mk: TxnMarker,
        offset: i64,
    ) -> Result<Option<CompletedTxn>, LogError> {
        let mut a = m.begin();
        let done = a.check_marker(&mk, offset, 0)?;
        let staged = a.into_staged();
        m.commit(staged);
        Ok(done)
    }

    use crate::log::txn::TxnMarker;

    #[test]
    fn a_transactional_batch_opens_a_transaction_that_a_marker_ends() {
        let mut m = ProducerStateManager::new();
        append(&mut m, txn_info(1, 0, 0, 2, 10)).expect("first");
        append(&mut m, txn_info(1, 0, 2, 1, 12)).expect("second");
        append(&mut m, txn_info(2, 0, 0, 1, 13)).expect("other producer");
        assert_eq!(m.first_undecided_offset(), Some(10));
        let ongoing = m.ongoing_transactions();
        assert_eq!(
            ongoing
                .iter()
                .map(|t| (t.producer_id, t.first_offset))
                .collect::<Vec<_>>(),
            vec![(1, 10), (2, 13)]
        );
        // A non-transactional write during the transaction is INVALID_TXN_STATE.
        let err = append(&mut m, info(1, 0, 3, 1, 14)).expect_err("not transactional");
        assert_eq!(err.kafka_error_code(), 48);
        let done = end(&mut m, marker(1, 0, 5, false), 14).expect("abort");
        assert_eq!(
            done,
            Some(CompletedTxn {
                producer_id: 1,
                first_offset: 10,
                last_offset: 14,
                is_aborted: true
            })
        );
        assert_eq!(m.first_undecided_offset(), Some(13));
        // The last stable offset after producer 2's transaction ends is just past its marker.
        let done2 = end(&mut m, marker(2, 0, 5, true), 15).expect("commit");
        assert_eq!(done2.map(|d| d.is_aborted), Some(false));
        assert_eq!(m.first_undecided_offset(), None);
        // A marker with no transaction open completes nothing.
        assert_eq!(end(&mut m, marker(2, 0, 5, true), 16).expect("empty"), None);
    }

    #[test]
    fn markers_from_old_epochs_or_old_coordinators_are_fenced() {
        let mut m = ProducerStateManager::new();
        append(&mut m, txn_info(1, 3, 0, 1, 0)).expect("first");
        end(&mut m, marker(1, 3, 4, true), 1).expect("commit");
        let err = end(&mut m, marker(1, 2, 4, true), 2).expect_err("old producer epoch");
        assert_eq!(err.kafka_error_code(), 47);
        let err = end(&mut m, marker(1, 3, 3, true), 2).expect_err("old coordinator");
        assert_eq!(err.kafka_error_code(), 52);
        // A marker with a bumped epoch (an abort on a timeout) raises the producer's epoch.
        end(&mut m, marker(1, 4, 4, false), 2).expect("bumped");
        assert_eq!(m.get(1).map(|e| e.epoch), Some(4));
    }

    #[test]
    fn an_unsequenced_transactional_batch_opens_a_transaction_without_deduplication() {
        let mut m = ProducerStateManager::new();
        append(&mut m, txn_info(9, 1, -1, 1, 5)).expect("offset commit");
        assert_eq!(m.first_undecided_offset(), Some(5));
        // The same batch again is written again (no sequence to recognise it by).
        assert_eq!(
            append(&mut m, txn_info(9, 1, -1, 1, 6)).ok(),
            Some(Verdict::Append)
        );
        assert_eq!(m.first_undecided_offset(), Some(5));
        let old = append(&mut m, txn_info(9, 0, -1, 1, 7)).expect_err("old epoch");
        assert_eq!(old.kafka_error_code(), 47);
    }

    #[test]
    fn open_transactions_survive_snapshots_and_truncation_reopens_a_cut_marker() {
        let mut m = ProducerStateManager::new();
        append(&mut m, txn_info(1, 0, 0, 1, 3)).expect("txn");
        let restored = ProducerStateManager::from_snapshot(m.snapshot());
        assert_eq!(restored.first_undecided_offset(), Some(3));
        // An old checkpoint (no transaction fields) still loads.
        let old: Vec<ProducerEntry> =
            serde_json::from_str(r#"[{"producer_id":5,"epoch":0,"batches":[]}]"#)
                .expect("old format");
        let restored = ProducerStateManager::from_snapshot(old);
        assert_eq!(restored.get(5).map(|e| e.coordinator_epoch), Some(-1));

        end(&mut m, marker(1, 0, 0, false), 4).expect("abort");
        assert_eq!(m.first_undecided_offset(), None);
        m.truncate_to(4);
        assert_eq!(m.first_undecided_offset(), Some(3), "the marker was cut");
        m.truncate_to(3);
        assert_eq!(
            m.first_undecided_offset(),
            None,
            "the whole transaction was cut"
        );
    }

    #[test]
    fn replay_applies_markers_and_transactional_batches() {
        let mut m = ProducerStateManager::new();
        m.replay(&txn_info(1, 0, 0, 2, 0), None);
        m.replay(&txn_info(2, 0, -1, 1, 2), None);
        assert_eq!(m.first_undecided_offset(), Some(0));
        let control = BatchInfo {
            attributes: TRANSACTIONAL_FLAG | crate::log::batch::CONTROL_FLAG,
            ..info(1, 0, -1, 1, 3)
        };
        let done = m.replay(&control, Some((ControlRecordType::Abort, 0)));
        assert_eq!(done.map(|d| (d.first_offset, d.last_offset)), Some((0, 3)));
        assert_eq!(m.first_undecided_offset(), Some(2));
        // A control batch whose marker is unknown changes nothing.
        assert_eq!(
            m.replay(
                &BatchInfo {
                    base_offset: 4,
                    ..control
                },
                None
            ),
            None
        );
    }
}
