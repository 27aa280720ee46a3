//! The leader epoch cache of one partition (Kafka's `LeaderEpochFileCache`, KIP-101): for every
//! leader epoch seen in the log, the offset of its first batch. A leader answers
//! OffsetForLeaderEpoch from it, and a follower uses it to truncate exactly the records that
//! diverged from the leader's log, never blindly to its high watermark.
//!
//! Kept in `leader-epoch-checkpoint` in the partition directory, in Kafka's text format:
//! ```text
//! 0            <- version
//! 2            <- number of entries
//! 0 0          <- epoch, start offset
//! 3 1200
//! ```
//! It is rewritten (to a temporary file, fsynced, renamed) on every change, which happens once per
//! leader epoch, not per append. When the file is missing (a log written before it existed) it is
//! rebuilt from the batch headers by the caller.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::checkpoint::sync_dir;

pub const EPOCH_CHECKPOINT_FILE: &str = "leader-epoch-checkpoint";

/// Kafka's `UNDEFINED_EPOCH` and `UNDEFINED_EPOCH_OFFSET`.
pub const UNDEFINED_EPOCH: i32 = -1;
pub const UNDEFINED_EPOCH_OFFSET: i64 = -1;

#[derive(Debug)]
pub struct LeaderEpochCache {
    path: PathBuf,
    /// `(epoch, start offset)`, both strictly increasing.
    entries: Vec<(i32, i64)>,
}

impl LeaderEpochCache {
    /// Loads the checkpoint of `dir`; `None` when there is none (or it cannot be read, which
    /// the caller answers by rebuilding it from the log). Entries at or above `log_end_offset`
    /// describe data that is not there and are dropped.
    pub fn load(dir: &Path, log_end_offset: i64) -> Option<LeaderEpochCache> {
        let path = dir.join(EPOCH_CHECKPOINT_FILE);
        let text = fs::read_to_string(&path).ok()?;
        let mut lines = text.lines().map(str::trim);
        if lines.next()? != "0" {
            return None;
        }
        let count: usize = lines.next()?.parse().ok()?;
        let mut entries = Vec::with_capacity(count.min(1024));
        for _ in 0..count {
            let mut parts = lines.next()?.split_whitespace();
            let epoch: i32 = parts.next()?.parse().ok()?;
            let offset: i64 = parts.next()?.parse().ok()?;
            if entries
                .last()
                .is_some_and(|&(e, o)| epoch <= e || offset < o)
            {
                return None;
            }
            entries.push((epoch, offset));
        }
        let mut cache = LeaderEpochCache { path, entries };
        cache.entries.retain(|&(_, o)| o < log_end_offset);
        Some(cache)
    }

    /// An empty cache for `dir` (nothing written until the first epoch is assigned).
    pub fn empty(dir: &Path) -> LeaderEpochCache {
        LeaderEpochCache {
            path: dir.join(EPOCH_CHECKPOINT_FILE),
            entries: Vec::new(),
        }
    }

    /// Records a batch of `epoch` starting at `offset` in memory; returns whether it was a new
    /// epoch (then [`LeaderEpochCache::persist`] must follow). Batches of an epoch older than
    /// the latest one (a log written before epochs were kept) are ignored, as Kafka does.
    pub fn observe(&mut self, epoch: i32, offset: i64) -> bool {
        if epoch < 0 {
            return false;
        }
        match self.entries.last() {
            Some(&(latest, _)) if epoch <= latest => false,
            _ => {
                self.entries.push((epoch, offset));
                true
            }
        }
    }

    /// Writes the checkpoint file durably.
    pub fn persist(&self) -> io::Result<()> {
        let mut text = format!("0\n{}\n", self.entries.len());
        for (epoch, offset) in &self.entries {
            text.push_str(&format!("{epoch} {offset}\n"));
        }
        let tmp = self.path.with_extension("tmp");
        {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
        }
        fs::rename(&tmp, &self.path)?;
        if let Some(dir) = self.path.parent() {
            sync_dir(dir)?;
        }
        Ok(())
    }

    /// Records `epoch` starting at `offset` and persists it when it is new.
    pub fn assign(&mut self, epoch: i32, offset: i64) -> io::Result<()> {
        if self.observe(epoch, offset) {
            self.persist()?;
        }
        Ok(())
    }

    /// Drops the epochs that start at or after `end_offset` (the log was truncated there).
    pub fn truncate_from_end(&mut self, end_offset: i64) -> io::Result<()> {
        let before = self.entries.len();
        self.entries.retain(|&(_, o)| o < end_offset);
        if self.entries.len() != before {
            self.persist()?;
        }
        Ok(())
    }

    /// Kafka's `LeaderEpochFileCache.truncateFromStart`: the log now starts at `start_offset`
    /// (retention or DeleteRecords). The epochs that start at or below it go, but for the
    /// latest of them, which now starts at `start_offset`, so that OffsetForLeaderEpoch never
    /// names an offset below the log start. Persisted when anything changed.
    pub fn truncate_from_start(&mut self, start_offset: i64) -> io::Result<()> {
        let at_or_below = self
            .entries
            .iter()
            .take_while(|&&(_, o)| o <= start_offset)
            .count();
        let Some(last) = at_or_below.checked_sub(1) else {
            return Ok(());
        };
        let (epoch, offset) = self.entries[last];
        if last == 0 && offset == start_offset {
            return Ok(());
        }
        self.entries.drain(..last);
        self.entries[0] = (epoch, start_offset);
        self.persist()
    }

    /// The latest epoch in the log, if any.
    pub fn latest_epoch(&self) -> Option<i32> {
        self.entries.last().map(|&(e, _)| e)
    }

    pub fn entries(&self) -> &[(i32, i64)] {
        &self.entries
    }

    /// Kafka's `LeaderEpochFileCache.endOffsetFor`: for `requested`, the largest epoch at or
    /// below it that this log has, and the offset where the next higher epoch starts (the log
    /// end offset when `requested` is the latest). `(UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET)`
    /// when `requested` is undefined or above every epoch here.
    pub fn end_offset_for(&self, requested: i32, log_end_offset: i64) -> (i32, i64) {
        if requested == UNDEFINED_EPOCH {
            return (UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET);
        }
        if self.latest_epoch() == Some(requested) {
            return (requested, log_end_offset);
        }
        let higher = self.entries.iter().find(|&&(e, _)| e > requested);
        let floor = self.entries.iter().rev().find(|&&(e, _)| e <= requested);
        match (higher, floor) {
            (None, _) => (UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET),
            (Some(&(_, start)), None) => (requested, start),
            (Some(&(_, start)), Some(&(epoch, _))) => (epoch, start),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn truncating_from_the_start_keeps_the_epoch_the_new_start_falls_in() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = LeaderEpochCache::empty(dir.path());
        for (e, o) in [(0, 0), (1, 50), (2, 120)] {
            c.assign(e, o).unwrap();
        }
        // Below the first entry: nothing changes.
        c.truncate_from_start(0).unwrap();
        assert_eq!(c.entries(), &[(0, 0), (1, 50), (2, 120)]);
        // Inside epoch 1: epoch 0 goes, epoch 1 starts at the new log start.
        c.truncate_from_start(100).unwrap();
        assert_eq!(c.entries(), &[(1, 100), (2, 120)]);
        assert_eq!(
            LeaderEpochCache::load(dir.path(), 200).unwrap().entries(),
            &[(1, 100), (2, 120)]
        );
        // Epoch 0 is below the log start now: it ends where the log starts, not at 50.
        assert_eq!(c.end_offset_for(0, 200), (0, 100));
        // Exactly at an epoch's start: that epoch stays, the earlier ones go.
        c.truncate_from_start(120).unwrap();
        assert_eq!(c.entries(), &[(2, 120)]);
        // Past the last entry: the latest epoch starts at the log start.
        c.truncate_from_start(150).unwrap();
        assert_eq!(c.entries(), &[(2, 150)]);
        assert_eq!(
            LeaderEpochCache::load(dir.path(), 200).unwrap().entries(),
            &[(2, 150)]
        );
    }

    #[test]
    fn end_offsets_follow_kafkas_rules() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = LeaderEpochCache::empty(dir.path());
        c.assign(1, 0).unwrap();
        c.assign(1, 5).unwrap(); // same epoch: nothing new
        c.assign(3, 10).unwrap();
        c.assign(2, 12).unwrap(); // older: ignored
        c.assign(5, 20).unwrap();
        assert_eq!(c.entries(), &[(1, 0), (3, 10), (5, 20)]);
        let leo = 30;
        assert_eq!(c.end_offset_for(5, leo), (5, 30));
        assert_eq!(c.end_offset_for(3, leo), (3, 20));
        // An epoch this log never had: the largest one below it, ending where the next starts.
        assert_eq!(c.end_offset_for(4, leo), (3, 20));
        assert_eq!(c.end_offset_for(2, leo), (1, 10));
        // Below the first epoch: the requested epoch, ending at the first epoch's start.
        assert_eq!(c.end_offset_for(0, leo), (0, 0));
        // Above the latest, or undefined: undefined.
        assert_eq!(c.end_offset_for(6, leo), (-1, -1));
        assert_eq!(c.end_offset_for(-1, leo), (-1, -1));
    }

    #[test]
    fn the_checkpoint_round_trips_and_drops_entries_past_the_log_end() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = LeaderEpochCache::empty(dir.path());
        c.assign(0, 0).unwrap();
        c.assign(2, 7).unwrap();
        c.assign(4, 9).unwrap();
        let text = fs::read_to_string(dir.path().join(EPOCH_CHECKPOINT_FILE)).unwrap();
        assert_eq!(text, "0\n3\n0 0\n2 7\n4 9\n");
        let loaded = LeaderEpochCache::load(dir.path(), 9).unwrap();
        assert_eq!(loaded.entries(), &[(0, 0), (2, 7)]);
        c.truncate_from_end(7).unwrap();
        assert_eq!(
            LeaderEpochCache::load(dir.path(), 100).unwrap().entries(),
            &[(0, 0)]
        );
        // Garbage or an unknown version: rebuilt by the caller.
        fs::write(dir.path().join(EPOCH_CHECKPOINT_FILE), "1\n0\n").unwrap();
        assert!(LeaderEpochCache::load(dir.path(), 100).is_none());
        fs::write(dir.path().join(EPOCH_CHECKPOINT_FILE), "0\n2\n3 5\n1 9\n").unwrap();
        assert!(LeaderEpochCache::load(dir.path(), 100).is_none());
    }
}
