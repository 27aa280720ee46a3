//! Reading a `__consumer_offsets` partition back into groups and offsets (Kafka's
//! `GroupMetadataManager.doLoadGroupsAndOffsets`): every record from the log start to the log
//! end, in order; the last record for a key wins, a tombstone removes it.

use std::collections::HashMap;

use bytes::Bytes;

use super::records::{decode_group_value, decode_key, decode_offset_value, GroupValue, RecordKey};
use super::CommittedOffset;
use crate::log::{DurableLog, LogError};

/// What a partition holds: per group, its metadata (if a record of it is live) and its offsets.
#[derive(Debug, Default)]
pub struct LoadedPartition {
    pub groups: HashMap<String, GroupValue>,
    pub offsets: HashMap<String, HashMap<(String, i32), CommittedOffset>>,
    /// Records whose key or value did not decode, skipped (logged once with the count).
    pub skipped: usize,
    /// The log end offset the read stopped at.
    pub end_offset: i64,
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

    /// Every group id with metadata or offsets.
    pub fn group_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .groups
            .keys()
            .chain(self.offsets.keys())
            .cloned()
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

/// Reads the whole of `log` (up to its log end offset, as Kafka loads up to the end of the
/// leader's log), `buffer_bytes` (`offsets.load.buffer.size`) at a time. Control records are
/// skipped. Blocking file reads: run it off the async workers.
pub fn read_partition(log: &DurableLog, buffer_bytes: usize) -> Result<LoadedPartition, LogError> {
    let mut loaded = LoadedPartition::default();
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
                // A batch cut by the read's size limit: read again from it.
                Err(_) => break,
            };
            for r in set.records {
                next = next.max(r.offset + 1);
                if r.control || r.offset < before {
                    continue;
                }
                let Some(key) = r.key.as_ref() else {
                    loaded.skipped += 1;
                    continue;
                };
                loaded.apply(r.offset, key, r.value.as_deref());
            }
        }
        if next == before {
            // Not even one batch fitted: read a larger chunk at once.
            let chunk = log.read(next, usize::MAX >> 1, end)?;
            let mut buf = chunk;
            let set =
                kafka_protocol::records::RecordBatchDecoder::decode(&mut buf).map_err(|e| {
                    LogError::CorruptMessage(format!("undecodable batch at offset {next}: {e}"))
                })?;
            for r in set.records {
                next = next.max(r.offset + 1);
                if r.control || r.offset < before {
                    continue;
                }
                if let Some(key) = r.key.as_ref() {
                    loaded.apply(r.offset, key, r.value.as_deref());
                }
            }
            if next == before {
                break;
            }
        }
    }
    loaded.end_offset = end;
    if loaded.skipped > 0 {
        tracing::warn!(
            "skipped {} records that do not decode as group metadata or offsets",
            loaded.skipped
        );
    }
    Ok(loaded)
}
