//! A group's pending transactional offset commits (KIP-98; Kafka's
//! `GroupMetadata.pendingTransactionalOffsetCommits`): offsets a transactional producer sent
//! with TxnOffsetCommit, kept per producer id apart from the group's committed offsets until
//! the transaction's marker lands in the group's `__consumer_offsets` partition. A COMMIT
//! marker materialises them (unless a later commit of the same partition is already cached),
//! an ABORT marker drops them. While a partition has one, OffsetFetch with `require_stable`
//! answers UNSTABLE_OFFSET_COMMIT for it.

use std::collections::HashMap;

use super::records::OffsetValue;
use super::CommittedOffset;

/// One pending transactional offset: its value and, once the record holding it is in the log,
/// that record's offset (Kafka's `CommitRecordMetadataAndOffset.appendedBatchOffset`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingTxnOffset {
    pub value: OffsetValue,
    pub log_offset: Option<i64>,
}

/// The pending transactional offsets of one group, by producer id then (topic, partition).
#[derive(Debug, Clone, Default)]
pub(crate) struct PendingTxnOffsets {
    by_producer: HashMap<i64, HashMap<(String, i32), PendingTxnOffset>>,
}

impl PendingTxnOffsets {
    /// Kafka's `prepareTxnOffsetCommit`: the offsets are pending before their append starts, so
    /// a `require_stable` fetch racing the append already sees them as unstable.
    pub fn prepare(&mut self, producer_id: i64, offsets: &[((String, i32), OffsetValue)]) {
        let pending = self.by_producer.entry(producer_id).or_default();
        for (tp, value) in offsets {
            pending.insert(
                tp.clone(),
                PendingTxnOffset {
                    value: value.clone(),
                    log_offset: None,
                },
            );
        }
    }

    /// Kafka's `onTxnOffsetCommitAppend`: the record is in the log at `c.log_offset`. Ignored
    /// when a newer TxnOffsetCommit of the same producer replaced the value meanwhile.
    pub fn appended(&mut self, producer_id: i64, tp: &(String, i32), c: &CommittedOffset) {
        if let Some(p) = self
            .by_producer
            .get_mut(&producer_id)
            .and_then(|m| m.get_mut(tp))
        {
            if p.value == c.value {
                p.log_offset = Some(c.log_offset);
            }
        }
    }

    /// Kafka's `failPendingTxnOffsetCommit`: the append failed, the client retries.
    pub fn fail(&mut self, producer_id: i64, tp: &(String, i32)) {
        if let Some(m) = self.by_producer.get_mut(&producer_id) {
            m.remove(tp);
            if m.is_empty() {
                self.by_producer.remove(&producer_id);
            }
        }
    }

    /// Kafka's `completePendingTxnOffsetCommit`: the producer's offsets stop being pending; on a
    /// commit those already in the log are returned, to be cached as committed. (One whose
    /// append has not finished cannot be part of a transaction that ended: the producer waits
    /// for its TxnOffsetCommit answer before EndTxn; it is dropped.)
    pub fn complete(
        &mut self,
        producer_id: i64,
        commit: bool,
    ) -> Vec<((String, i32), CommittedOffset)> {
        let Some(pending) = self.by_producer.remove(&producer_id) else {
            return Vec::new();
        };
        if !commit {
            return Vec::new();
        }
        let mut out: Vec<((String, i32), CommittedOffset)> = pending
            .into_iter()
            .filter_map(|(tp, p)| match p.log_offset {
                Some(log_offset) => Some((
                    tp,
                    CommittedOffset {
                        value: p.value,
                        log_offset,
                    },
                )),
                None => {
                    tracing::warn!(
                        "transactional offset of producer {producer_id} for {}-{} committed \
                         before its record was appended; dropped",
                        tp.0,
                        tp.1
                    );
                    None
                }
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Installs offsets read back from the log as still pending for `producer_id`.
    pub fn restore(&mut self, producer_id: i64, offsets: HashMap<(String, i32), CommittedOffset>) {
        if offsets.is_empty() {
            return;
        }
        let pending = self.by_producer.entry(producer_id).or_default();
        for (tp, c) in offsets {
            pending.insert(
                tp,
                PendingTxnOffset {
                    value: c.value,
                    log_offset: Some(c.log_offset),
                },
            );
        }
    }

    /// Kafka's `hasPendingOffsetCommitsForTopicPartition` (the transactional half).
    pub fn has_partition(&self, tp: &(String, i32)) -> bool {
        self.by_producer.values().any(|m| m.contains_key(tp))
    }

    /// Kafka's `hasPendingOffsetCommitsFromProducer`.
    pub fn has_producer(&self, producer_id: i64) -> bool {
        self.by_producer.contains_key(&producer_id)
    }

    pub fn is_empty(&self) -> bool {
        self.by_producer.is_empty()
    }

    /// The producers with pending offsets, sorted.
    pub fn producers(&self) -> Vec<i64> {
        let mut out: Vec<i64> = self.by_producer.keys().copied().collect();
        out.sort();
        out
    }

    /// Kafka's `removeOffsets`: pending offsets of these partitions go too.
    pub fn remove_partitions(&mut self, tps: &[(String, i32)]) {
        for m in self.by_producer.values_mut() {
            for tp in tps {
                m.remove(tp);
            }
        }
        self.by_producer.retain(|_, m| !m.is_empty());
    }
}
