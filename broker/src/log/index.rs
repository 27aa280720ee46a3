//! Sparse indexes beside each segment, in Kafka's entry layouts: the offset index (`.index`,
//! 8-byte entries: relative offset u32 + file position u32) and the time index (`.timeindex`,
//! 12-byte entries: timestamp i64 + relative offset u32). One entry per `index.interval.bytes` of
//! log; lookups are binary searches over the entries, which are also kept in memory.
//!
//! The files are append-only and exactly as long as their entries. They are only trusted for
//! segments below the recovery point; recovery rebuilds them for every segment it scans.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One fixed-size index entry.
pub trait IndexEntry: Copy + std::fmt::Debug {
    const SIZE: usize;
    fn encode(&self) -> Vec<u8>;
    /// `bytes` is exactly `SIZE` long.
    fn decode(bytes: &[u8]) -> Self;
}

/// Offset index entry: the batch starting at `position` ends at `relative_offset` (its last
/// offset, as Kafka's `LogSegment` writes it; files of older builds name the base offset, which
/// lookups read just as well).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OffsetEntry {
    pub relative_offset: u32,
    pub position: u32,
}

impl IndexEntry for OffsetEntry {
    const SIZE: usize = 8;
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::SIZE);
        out.extend_from_slice(&self.relative_offset.to_be_bytes());
        out.extend_from_slice(&self.position.to_be_bytes());
        out
    }
    fn decode(bytes: &[u8]) -> Self {
        let mut rel = [0u8; 4];
        let mut pos = [0u8; 4];
        rel.copy_from_slice(&bytes[0..4]);
        pos.copy_from_slice(&bytes[4..8]);
        OffsetEntry {
            relative_offset: u32::from_be_bytes(rel),
            position: u32::from_be_bytes(pos),
        }
    }
}

/// Time index entry: the largest timestamp in the segment up to (and including) the batch
/// containing `relative_offset` is `timestamp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeEntry {
    pub timestamp: i64,
    pub relative_offset: u32,
}

impl IndexEntry for TimeEntry {
    const SIZE: usize = 12;
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::SIZE);
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.relative_offset.to_be_bytes());
        out
    }
    fn decode(bytes: &[u8]) -> Self {
        let mut ts = [0u8; 8];
        let mut rel = [0u8; 4];
        ts.copy_from_slice(&bytes[0..8]);
        rel.copy_from_slice(&bytes[8..12]);
        TimeEntry {
            timestamp: i64::from_be_bytes(ts),
            relative_offset: u32::from_be_bytes(rel),
        }
    }
}

/// An entry's bytes still to be written to its index file (see [`IndexFile::push`]). The writes
/// of one segment are run in the order they were made, by the partition's one appender; a
/// crash before one runs leaves the index sparser, never wrong (recovery trusts an index only
/// below the recovery point, which the flusher moves only after fsyncing the index files).
#[derive(Debug)]
pub struct IndexWrite {
    file: Arc<File>,
    at: u64,
    bytes: Vec<u8>,
}

impl IndexWrite {
    pub fn execute(&self) -> io::Result<()> {
        self.file.write_all_at(&self.bytes, self.at)
    }
}

/// An index file and its entries in memory.
#[derive(Debug)]
pub struct IndexFile<E> {
    path: PathBuf,
    file: Arc<File>,
    entries: Vec<E>,
}

pub type OffsetIndex = IndexFile<OffsetEntry>;
pub type TimeIndex = IndexFile<TimeEntry>;

fn open_rw(path: &Path, truncate: bool) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(truncate)
        .open(path)
}

impl<E: IndexEntry> IndexFile<E> {
    /// Creates (or empties) the index at `path`.
    pub fn create(path: &Path) -> io::Result<Self> {
        Ok(IndexFile {
            path: path.to_path_buf(),
            file: Arc::new(open_rw(path, true)?),
            entries: Vec::new(),
        })
    }

    /// Loads the index at `path`, keeping the longest prefix of entries `accept` agrees with
    /// (given the previous kept entry) and cutting the file after it. `max_entries` bounds what is
    /// read, so a garbage file never causes a large allocation. A missing file loads as empty.
    pub fn load(
        path: &Path,
        max_entries: usize,
        mut accept: impl FnMut(Option<&E>, &E) -> bool,
    ) -> io::Result<Self> {
        let file = open_rw(path, false)?;
        let len = file.metadata()?.len();
        let whole = usize::try_from(len / E::SIZE as u64)
            .unwrap_or(usize::MAX)
            .min(max_entries);
        let mut bytes = vec![0u8; whole * E::SIZE];
        file.read_exact_at(&mut bytes, 0)?;
        let mut entries: Vec<E> = Vec::with_capacity(whole);
        for chunk in bytes.chunks_exact(E::SIZE) {
            let entry = E::decode(chunk);
            if !accept(entries.last(), &entry) {
                break;
            }
            entries.push(entry);
        }
        let keep = (entries.len() * E::SIZE) as u64;
        if keep != len {
            file.set_len(keep)?;
        }
        Ok(IndexFile {
            path: path.to_path_buf(),
            file: Arc::new(file),
            entries,
        })
    }

    pub fn append(&mut self, entry: E) -> io::Result<()> {
        self.push(entry).execute()
    }

    /// Adds `entry` in memory (lookups see it at once) and returns the file write that stores
    /// it, for the caller to run once it has let go of the partition's lock.
    pub(crate) fn push(&mut self, entry: E) -> IndexWrite {
        let at = (self.entries.len() * E::SIZE) as u64;
        self.entries.push(entry);
        IndexWrite {
            file: self.file.clone(),
            at,
            bytes: entry.encode(),
        }
    }

    /// Keeps the first `len` entries.
    pub fn truncate_entries(&mut self, len: usize) -> io::Result<()> {
        if len < self.entries.len() {
            self.entries.truncate(len);
            self.file.set_len((len * E::SIZE) as u64)?;
        }
        Ok(())
    }

    pub fn entries(&self) -> &[E] {
        &self.entries
    }
    pub fn last(&self) -> Option<&E> {
        self.entries.last()
    }
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// Records that the caller renamed the file to `path` (the open handle follows it).
    pub(crate) fn set_path(&mut self, path: PathBuf) {
        self.path = path;
    }
    /// A handle that can be fsynced without holding the owner.
    pub fn file(&self) -> Arc<File> {
        self.file.clone()
    }
    pub fn sync(&self) -> io::Result<()> {
        self.file.sync_data()
    }
}

impl IndexFile<OffsetEntry> {
    /// The last entry at or below `relative_offset`: the batch it points to starts at or before
    /// the batch containing that offset.
    pub fn lookup(&self, relative_offset: u32) -> Option<OffsetEntry> {
        let n = self
            .entries
            .partition_point(|e| e.relative_offset <= relative_offset);
        n.checked_sub(1).map(|i| self.entries[i])
    }

    /// Drops entries for batches at or after `position`.
    pub fn truncate_to_position(&mut self, position: u64) -> io::Result<()> {
        let keep = self
            .entries
            .partition_point(|e| u64::from(e.position) < position);
        self.truncate_entries(keep)
    }
}

impl IndexFile<TimeEntry> {
    /// The last entry whose timestamp is strictly below `timestamp`: every batch up to the one it
    /// names has smaller timestamps, so the first batch reaching `timestamp` lies after it.
    pub fn lookup_before(&self, timestamp: i64) -> Option<TimeEntry> {
        let n = self.entries.partition_point(|e| e.timestamp < timestamp);
        n.checked_sub(1).map(|i| self.entries[i])
    }

    /// Drops entries naming offsets at or after `relative_offset`.
    pub fn truncate_to_offset(&mut self, relative_offset: u32) -> io::Result<()> {
        let keep = self
            .entries
            .partition_point(|e| e.relative_offset < relative_offset);
        self.truncate_entries(keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offset_index(dir: &Path) -> OffsetIndex {
        let mut index = OffsetIndex::create(&dir.join("0.index")).expect("create");
        for (rel, pos) in [(0, 0), (10, 4096), (25, 8200), (40, 12300)] {
            index
                .append(OffsetEntry {
                    relative_offset: rel,
                    position: pos,
                })
                .expect("append");
        }
        index
    }

    #[test]
    fn offset_lookup_finds_last_entry_at_or_below() {
        let dir = tempfile::tempdir().expect("tempdir");
        let index = offset_index(dir.path());
        assert_eq!(index.lookup(0).map(|e| e.position), Some(0));
        assert_eq!(index.lookup(9).map(|e| e.position), Some(0));
        assert_eq!(index.lookup(10).map(|e| e.position), Some(4096));
        assert_eq!(index.lookup(39).map(|e| e.position), Some(8200));
        assert_eq!(index.lookup(1000).map(|e| e.position), Some(12300));
        let empty = OffsetIndex::create(&dir.path().join("1.index")).expect("create");
        assert_eq!(empty.lookup(5), None);
    }

    #[test]
    fn offset_index_survives_reload_and_cuts_garbage() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("0.index");
        drop(offset_index(dir.path()));
        // A torn final entry (half written) and an entry going backwards.
        let f = OpenOptions::new().append(true).open(&path).expect("open");
        f.write_all_at(&[0, 0, 0, 1, 0, 0, 0, 1, 0xff], 32)
            .expect("garbage");
        let loaded = OffsetIndex::load(&path, 1000, |prev, e| {
            prev.is_none_or(|p| e.relative_offset > p.relative_offset && e.position > p.position)
        })
        .expect("load");
        assert_eq!(loaded.entries().len(), 4);
        assert_eq!(std::fs::metadata(&path).expect("meta").len(), 32);
        assert_eq!(loaded.lookup(30).map(|e| e.position), Some(8200));
    }

    #[test]
    fn time_lookup_finds_last_entry_strictly_before() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut index = TimeIndex::create(&dir.path().join("0.timeindex")).expect("create");
        for (ts, rel) in [(100, 3), (200, 9), (300, 20)] {
            index
                .append(TimeEntry {
                    timestamp: ts,
                    relative_offset: rel,
                })
                .expect("append");
        }
        assert_eq!(index.lookup_before(100), None);
        assert_eq!(index.lookup_before(101).map(|e| e.relative_offset), Some(3));
        assert_eq!(index.lookup_before(300).map(|e| e.relative_offset), Some(9));
        assert_eq!(
            index.lookup_before(i64::MAX).map(|e| e.relative_offset),
            Some(20)
        );
        index.truncate_to_offset(9).expect("truncate");
        assert_eq!(index.entries().len(), 1);
    }
}
