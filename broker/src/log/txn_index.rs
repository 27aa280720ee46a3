//! The aborted transaction index: one `<base offset>.txnindex` file per segment, holding an
//! entry (`txn::TxnIndexEntry`, 34 bytes in Kafka's layout) for each transaction aborted by a
//! marker in that segment (Kafka's `TransactionIndex`). A `read_committed` fetch learns from it
//! which producers' batches in its range to drop (`collect`, Kafka's
//! `LogSegment.collectAbortedTxns` over the segments from the fetch offset on).
//!
//! All entries are also kept in memory. Files are appended to as markers are written, rewritten
//! when a truncation cuts entries, deleted with their segment, and fsynced with the recovery
//! checkpoint; recovery drops entries at or after the recovery point and rebuilds them from the
//! markers it replays.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::segment::segment_file;
use super::txn::{AbortedTxn, TxnIndexEntry, TXN_INDEX_ENTRY_SIZE};

pub const TXN_INDEX_SUFFIX: &str = "txnindex";

/// A file bigger than this is not read whole: it cannot be a real index.
const MAX_FILE_BYTES: u64 = 256 << 20;

#[derive(Debug)]
pub struct AbortedTxnIndex {
    dir: PathBuf,
    /// Entries by the base offset of the segment holding their marker, in marker order.
    segments: BTreeMap<i64, Vec<TxnIndexEntry>>,
    /// Open handles of the files appended to since the last sync.
    dirty: BTreeMap<i64, Arc<File>>,
}

impl AbortedTxnIndex {
    /// An empty index for `dir` (no file is touched).
    pub fn empty(dir: &Path) -> Self {
        AbortedTxnIndex {
            dir: dir.to_path_buf(),
            segments: BTreeMap::new(),
            dirty: BTreeMap::new(),
        }
    }

    /// Loads the index files of the segments `bases`; an entry that does not parse ends its
    /// file (the rest is dropped when the file is next rewritten).
    pub fn load(dir: &Path, bases: &[i64]) -> io::Result<Self> {
        let mut index = AbortedTxnIndex::empty(dir);
        for &base in bases {
            let path = segment_file(dir, base, TXN_INDEX_SUFFIX);
            let mut file = match File::open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            let mut bytes = Vec::new();
            Read::by_ref(&mut file)
                .take(MAX_FILE_BYTES)
                .read_to_end(&mut bytes)?;
            let entries: Vec<TxnIndexEntry> = bytes
                .chunks_exact(TXN_INDEX_ENTRY_SIZE)
                .map_while(TxnIndexEntry::from_bytes)
                .collect();
            if !entries.is_empty() {
                index.segments.insert(base, entries);
            }
        }
        Ok(index)
    }

    fn path(&self, base: i64) -> PathBuf {
        segment_file(&self.dir, base, TXN_INDEX_SUFFIX)
    }

    /// Adds an aborted transaction whose marker is in the segment starting at `segment_base`.
    pub fn append(&mut self, segment_base: i64, entry: TxnIndexEntry) -> io::Result<()> {
        let file = match self.dirty.get(&segment_base) {
            Some(f) => f.clone(),
            None => {
                let f = Arc::new(
                    OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(self.path(segment_base))?,
                );
                self.dirty.insert(segment_base, f.clone());
                f
            }
        };
        (&*file).write_all(&entry.to_bytes())?;
        self.segments.entry(segment_base).or_default().push(entry);
        Ok(())
    }

    /// The aborted transactions a fetch from `from` up to `upto` (exclusive) must know of:
    /// those whose marker is at or after `from` and whose first offset is below `upto`, found
    /// from the segment holding `from` on, stopping once an entry's last stable offset reaches
    /// `upto` (no later transaction can have started below it).
    pub fn collect(&self, from: i64, upto: i64) -> Vec<AbortedTxn> {
        let start = self
            .segments
            .range(..=from)
            .next_back()
            .map_or(i64::MIN, |(base, _)| *base);
        let mut out = Vec::new();
        for entries in self.segments.range(start..).map(|(_, e)| e) {
            for e in entries {
                if e.last_offset >= from && e.first_offset < upto {
                    out.push(e.aborted());
                }
                if e.last_stable_offset >= upto {
                    return out;
                }
            }
        }
        out
    }

    /// Every entry, oldest marker first.
    pub fn entries(&self) -> impl Iterator<Item = &TxnIndexEntry> {
        self.segments.values().flatten()
    }

    /// Rewrites (or removes when empty) the file of one segment from memory.
    fn rewrite(&mut self, base: i64) -> io::Result<()> {
        self.dirty.remove(&base);
        let path = self.path(base);
        match self.segments.get(&base).filter(|e| !e.is_empty()) {
            None => {
                self.segments.remove(&base);
                remove_if_present(&path)
            }
            Some(entries) => {
                let mut bytes = Vec::with_capacity(entries.len() * TXN_INDEX_ENTRY_SIZE);
                for e in entries {
                    bytes.extend_from_slice(&e.to_bytes());
                }
                let mut file = File::create(&path)?;
                file.write_all(&bytes)?;
                file.sync_data()
            }
        }
    }

    /// Drops the entries whose marker is at or after `offset` (Kafka's
    /// `TransactionIndex.truncateTo`), rewriting the files that lose some.
    pub fn truncate_from(&mut self, offset: i64) -> io::Result<()> {
        let touched: Vec<i64> = self
            .segments
            .iter_mut()
            .filter_map(|(base, entries)| {
                let before = entries.len();
                entries.retain(|e| e.last_offset < offset);
                (entries.len() != before).then_some(*base)
            })
            .collect();
        for base in touched {
            self.rewrite(base)?;
        }
        Ok(())
    }

    /// Forgets the segment starting at `base` and deletes its file (the segment is deleted).
    pub fn remove_segment(&mut self, base: i64) -> io::Result<()> {
        self.segments.remove(&base);
        self.dirty.remove(&base);
        remove_if_present(&self.path(base))
    }

    /// Forgets everything and deletes every file.
    pub fn clear(&mut self) -> io::Result<()> {
        let bases: Vec<i64> = self.segments.keys().copied().collect();
        for base in bases {
            self.remove_segment(base)?;
        }
        Ok(())
    }

    /// The cleaner replaced the segments `old` by one starting at `new_base` (the first of
    /// them): their entries move to its file, except those of the aborted transactions whose
    /// markers (`(producer id, marker offset)` in `removed_markers`) the cleaning removed.
    pub fn merge_segments(
        &mut self,
        old: &[i64],
        new_base: i64,
        removed_markers: &[(i64, i64)],
    ) -> io::Result<()> {
        let mut merged = Vec::new();
        for base in old {
            if let Some(entries) = self.segments.remove(base) {
                // An aborted transaction whose marker the cleaner removed leaves the index with
                // it: a read_committed reader told of it would otherwise wait for that marker
                // and skip every later record of the producer.
                merged.extend(
                    entries
                        .into_iter()
                        .filter(|e| !removed_markers.contains(&(e.producer_id, e.last_offset))),
                );
            }
            self.dirty.remove(base);
            if *base != new_base {
                remove_if_present(&self.path(*base))?;
            }
        }
        merged.sort_by_key(|e| e.last_offset);
        self.segments.insert(new_base, merged);
        self.rewrite(new_base)
    }

    /// The files appended to, still open (fsynced by the next checkpoint).
    pub fn dirty_files(&self) -> Vec<Arc<File>> {
        self.dirty.values().cloned().collect()
    }
}

fn remove_if_present(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(pid: i64, first: i64, last: i64, lso: i64) -> TxnIndexEntry {
        TxnIndexEntry {
            producer_id: pid,
            first_offset: first,
            last_offset: last,
            last_stable_offset: lso,
        }
    }

    #[test]
    fn entries_survive_a_reload_and_truncation_rewrites_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut index = AbortedTxnIndex::empty(dir.path());
        index.append(0, entry(1, 0, 5, 6)).expect("append");
        index.append(10, entry(2, 8, 12, 13)).expect("append");
        index.append(10, entry(3, 14, 20, 21)).expect("append");
        let file = dir.path().join("00000000000000000010.txnindex");
        assert_eq!(fs::metadata(&file).expect("file").len(), 68);
        let reloaded = AbortedTxnIndex::load(dir.path(), &[0, 10]).expect("load");
        assert_eq!(reloaded.entries().count(), 3);
        assert_eq!(
            reloaded.collect(6, 15),
            vec![
                AbortedTxn {
                    producer_id: 2,
                    first_offset: 8
                },
                AbortedTxn {
                    producer_id: 3,
                    first_offset: 14
                }
            ]
        );
        // The search stops at the entry whose last stable offset reaches the upper bound.
        assert_eq!(reloaded.collect(0, 6).len(), 1);
        let mut index = reloaded;
        index.truncate_from(20).expect("truncate");
        assert_eq!(fs::metadata(&file).expect("file").len(), 34);
        index.truncate_from(0).expect("truncate all");
        assert!(!file.exists());
        assert_eq!(index.entries().count(), 0);
    }
}
