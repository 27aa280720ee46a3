//! Reading a `__consumer_offsets` partition back into groups and offsets (Kafka's
//! `GroupMetadataManager.doLoadGroupsAndOffsets`): every record from the log start to the log
//! end, in order; the last record for a key wins, a tombstone removes it. Offsets written by
//! TxnOffsetCommit (in transactional batches) are kept aside per producer id until that
//! producer's transaction marker: COMMIT materialises them (unless a later record of the same
//! partition is loaded), ABORT drops them, and those with no marker yet stay pending.

use std::collections::HashMap;

use bytes::Bytes;
use kafka_protocol::records::Record;

use super::records::{decode_group_value, decode_key, decode_offset_value, GroupValue, RecordKey};
use super::CommittedOffset;
use crate::log::{DurableLog, LogError};

/// A group's offsets by (topic, partition).
pub type GroupOffsets = HashMap<(String, i32), CommittedOffset>;

/// What a partition holds: per group, its metadata (if a record of it is live) and its offsets.
#[derive(Debug, Default)]
pub struct LoadedPartition {
    pub groups: HashMap<String, GroupValue>,
    pub offsets: HashMap<String, HashMap<(String, i32), CommittedOffset>>,
    /// Records whose key or value did not decode, skipped (logged once with the count).
    pub skipped: usize,
    /// The log end offset the read stopped at.
    pub end_offset: i64,
    /// Transactional offsets whose marker is not read yet: producer id -> group ->
    /// (topic, partition) -> offset (Kafka's `pendingOffsets` of the load).
    pub pending_txn: HashMap<i64, HashMap<String, GroupOffsets>>,
}

impl LoadedPartition {
    /// Applies one record, at log offset `offset`.
    pub fn apply(&mut self, offset: i64, key: &[u8], value: Option<&[u8]>) {
        let Ok(key) = decode_key(key) else {
            self.skipped += 1;
            return;
        };
        match key {
            RecordKey::Offset {
                group,
                topic,
                partition,
            } => match value {
                None => {
                    if let Some(o) = self.offsets.get_mut(&group) {
                        o.remove(&(topic, partition));
                    }
                }
                Some(v) => match decode_offset_value(v) {
                    Ok(value) => {
                        self.offsets.entry(group).or_default().insert(
                            (topic, partition),
                            CommittedOffset {
                                value,
                                log_offset: offset,
                            },
                        );
                    }
                    Err(_) => self.skipped += 1,
                },
            },
            RecordKey::Group { group } => match value {
                None => {
                    self.groups.remove(&group);
                }
                Some(v) => match decode_group_value(v) {
                    Ok(value) => {
                        self.groups.insert(group, value);
                    }
                    Err(_) => self.skipped += 1,
                },
            },
            RecordKey::Other(_) => {}
        }
    }

    /// Applies one record of a transactional batch of `producer_id`, at log offset `offset`:
    /// an offset (or its tombstone) is pending for the producer; group metadata is applied as
    /// usual.
    pub fn apply_txn(&mut self, producer_id: i64, offset: i64, key: &[u8], value: Option<&[u8]>) {
        let Ok(decoded) = decode_key(key) else {
            self.skipped += 1;
            return;
        };
        let RecordKey::Offset {
            group,
            topic,
            partition,
        } = decoded
        else {
            return self.apply(offset, key, value);
        };
        let pending = self
            .pending_txn
            .entry(producer_id)
            .or_default()
            .entry(group)
            .or_default();
        match value {
            None => {
                pending.remove(&(topic, partition));
            }
            Some(v) => match decode_offset_value(v) {
                Ok(value) => {
                    pending.insert(
                        (topic, partition),
                        CommittedOffset {
                            value,
                            log_offset: offset,
                        },
                    );
                }
                Err(_) => self.skipped += 1,
            },
        }
    }

    /// Applies a transaction marker of `producer_id`: a commit materialises its pending offsets
    /// (a later record of the same partition already loaded wins), anything else drops them.
    pub fn apply_marker(&mut self, producer_id: i64, commit: bool) {
        let Some(pending) = self.pending_txn.remove(&producer_id) else {
            return;
        };
        if !commit {
            return;
        }
        for (group, offsets) in pending {
            let loaded = self.offsets.entry(group).or_default();
            for (tp, c) in offsets {
                match loaded.get(&tp) {
                    Some(have) if have.log_offset > c.log_offset => {}
                    _ => {
                        loaded.insert(tp, c);
                    }
                }
            }
        }
    }

    /// Applies one record read from the log (records below `from` were read before and are
    /// skipped): control records are transaction markers, records of transactional batches are
    /// transactional offset commits.
    pub fn apply_record(&mut self, r: &Record, from: i64) {
        if r.offset < from {
            return;
        }
        if r.control {
            // Kafka's `EndTransactionMarker` key: version int16, type int16 (0 ABORT, 1 COMMIT).
            // Unknown control records drop the producer's pending offsets, as Kafka does.
            let commit = r
                .key
                .as_ref()
                .and_then(|k| k.get(2..4))
                .is_some_and(|t| i16::from_be_bytes([t[0], t[1]]) == 1);
            self.apply_marker(r.producer_id, commit);
            return;
        }
        let Some(key) = r.key.as_ref() else {
            self.skipped += 1;
            return;
        };
        if r.transactional {
            self.apply_txn(r.producer_id, r.offset, key, r.value.as_deref());
        } else {
            self.apply(r.offset, key, r.value.as_deref());
        }
    }

    /// The transactional offsets of `group` still pending, by producer id.
    pub fn take_pending_txn(
        &mut self,
        group: &str,
    ) -> HashMap<i64, HashMap<(String, i32), CommittedOffset>> {
        let mut out = HashMap::new();
        for (producer_id, groups) in &mut self.pending_txn {
            if let Some(offsets) = groups.remove(group) {
                if !offsets.is_empty() {
                    out.insert(*producer_id, offsets);
                }
            }
        }
        out
    }

    /// Every group id with metadata, offsets or pending transactional offsets.
    pub fn group_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .groups
            .keys()
            .chain(self.offsets.keys())
            .chain(self.pending_txn.values().flat_map(HashMap::keys))
            .cloned()
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

/// Reads the whole of `log` (up to its log end offset, as Kafka loads up to the end of the
/// leader's log), `buffer_bytes` (`offsets.load.buffer.size`) at a time. Control records are
/// transaction markers for the transactional offsets before them. Blocking file reads: run it off the async workers.
pub fn read_partition(log: &DurableLog, buffer_bytes: usize) -> Result<LoadedPartition, LogError> {
    let mut loaded = LoadedPartition::default();
    loaded.end_offset = read_records(log, buffer_bytes, |r, from| loaded.apply_record(r, from))?;
    if loaded.skipped > 0 {
        tracing::warn!(
            "skipped {} records that do not decode as group metadata or offsets",
            loaded.skipped
        );
    }
    Ok(loaded)
}

/// Every record of `log` from its log start to its log end offset, in order, `buffer_bytes` read
/// at a time (a batch larger than that is read whole); returns the log end offset read to. `apply`
/// gets each record with the offset its read started at: records below it belong to a batch that
/// began before the read and were applied already. The loader of `__consumer_offsets` and of
/// `__transaction_state`. Blocking file reads: run it off the async workers.
pub fn read_records(
    log: &DurableLog,
    buffer_bytes: usize,
    mut apply: impl FnMut(&Record, i64),
) -> Result<i64, LogError> {
    let end = log.log_end_offset();
    let mut next = log.log_start_offset();
    while next < end {
        let chunk = log.read(next, buffer_bytes.max(1024), end)?;
        if chunk.is_empty() {
            break;
        }
        let mut buf: Bytes = chunk;
        let before = next;
        while !buf.is_empty() {
            let set = match kafka_protocol::records::RecordBatchDecoder::decode(&mut buf) {
                Ok(set) => set,
                Err(_) => break,
            };
            for r in set.records {
                next = next.max(r.offset + 1);
                apply(&r, before);
            }
        }
        if next == before {
            // One batch larger than the buffer: read it whole.
            let chunk = log.read(next, usize::MAX >> 1, end)?;
            let mut buf = chunk;
            let set =
                kafka_protocol::records::RecordBatchDecoder::decode(&mut buf).map_err(|e| {
                    LogError::CorruptMessage(format!("undecodable batch at offset {next}: {e}"))
                })?;
            for r in set.records {
                next = next.max(r.offset + 1);
                apply(&r, before);
            }
            if next == before {
                break;
            }
        }
    }
    Ok(end)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use bytes::Bytes;
    use kafka_protocol::records::{Record, TimestampType};

    use super::*;
    use crate::group::records::{encode_offset_value, offset_key, OffsetValue};

    fn value(offset: i64) -> Bytes {
        encode_offset_value(&OffsetValue {
            offset,
            leader_epoch: -1,
            metadata: String::new(),
            commit_timestamp: 1,
            expire_timestamp: None,
        })
    }

    fn record(
        offset: i64,
        producer_id: i64,
        transactional: bool,
        key: Bytes,
        v: Option<Bytes>,
    ) -> Record {
        Record {
            transactional,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: 0,
            producer_id,
            producer_epoch: if producer_id >= 0 { 0 } else { -1 },
            timestamp_type: TimestampType::Creation,
            offset,
            sequence: -1,
            timestamp: 1,
            key: Some(key),
            value: v,
            headers: Default::default(),
        }
    }

    fn commit(offset: i64, group: &str, partition: i32, committed: i64) -> Record {
        record(
            offset,
            -1,
            false,
            offset_key(group, "t", partition),
            Some(value(committed)),
        )
    }

    fn txn_commit(offset: i64, pid: i64, group: &str, partition: i32, committed: i64) -> Record {
        record(
            offset,
            pid,
            true,
            offset_key(group, "t", partition),
            Some(value(committed)),
        )
    }

    /// A control record: Kafka's `EndTransactionMarker` (version 0, type 1 COMMIT / 0 ABORT).
    fn marker(offset: i64, pid: i64, commit: bool) -> Record {
        let mut r = record(
            offset,
            pid,
            true,
            Bytes::from(vec![0, 0, 0, u8::from(commit)]),
            None,
        );
        r.control = true;
        r.value = Some(Bytes::from_static(&[0, 0, 0, 0, 0, 5]));
        r
    }

    fn load(records: &[Record]) -> LoadedPartition {
        let mut loaded = LoadedPartition::default();
        for r in records {
            loaded.apply_record(r, 0);
        }
        loaded
    }

    fn committed(loaded: &LoadedPartition, group: &str, partition: i32) -> Option<i64> {
        loaded
            .offsets
            .get(group)
            .and_then(|o| o.get(&("t".to_string(), partition)))
            .map(|c| c.value.offset)
    }

    #[test]
    fn a_committed_transactional_offset_is_loaded_and_an_aborted_one_is_not() {
        let mut loaded = load(&[
            commit(0, "g", 0, 1),
            txn_commit(1, 7, "g", 0, 10),
            txn_commit(2, 8, "g", 1, 20),
            marker(3, 7, true),
            marker(4, 8, false),
        ]);
        assert_eq!(committed(&loaded, "g", 0), Some(10));
        assert_eq!(committed(&loaded, "g", 1), None);
        assert!(loaded.take_pending_txn("g").is_empty());
    }

    #[test]
    fn a_transactional_offset_without_its_marker_stays_pending() {
        let mut loaded = load(&[commit(0, "g", 0, 1), txn_commit(1, 7, "only-txn", 0, 10)]);
        assert_eq!(
            loaded.group_ids(),
            vec!["g".to_string(), "only-txn".to_string()]
        );
        assert_eq!(committed(&loaded, "only-txn", 0), None);
        let pending = loaded.take_pending_txn("only-txn");
        assert_eq!(pending[&7][&("t".to_string(), 0)].value.offset, 10);
        assert_eq!(pending[&7][&("t".to_string(), 0)].log_offset, 1);
    }

    #[test]
    fn a_later_plain_commit_wins_over_an_earlier_committed_transaction() {
        let loaded = load(&[
            txn_commit(1, 7, "g", 0, 10),
            commit(2, "g", 0, 30),
            marker(3, 7, true),
        ]);
        assert_eq!(committed(&loaded, "g", 0), Some(30));
    }
}
