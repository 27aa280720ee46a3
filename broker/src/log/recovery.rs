//! Opening a partition directory after a clean stop or a crash.
//!
//! Segments wholly below the recovery checkpoint were fsynced with their indexes and are trusted
//! (their indexes are loaded and sanity-checked). From the recovery point on, every batch is
//! re-validated (header, CRC-32C, offsets following each other) and the indexes are rebuilt. The
//! first bad batch ends the log: the file is cut there and the loss is logged with the file,
//! position, bytes and offsets dropped; segments after it are deleted, since their offsets would
//! no longer follow. This protects against a crash in the middle of a write (torn tail) and
//! against garbage the file system left after power loss.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::batch::{
    batch_crc, check_stored_header, BatchHeader, BatchInfo, BATCH_HEADER_LEN, CRC_START,
};
use super::checkpoint::{self, RecoveryCheckpoint};
use super::index::{OffsetEntry, OffsetIndex, TimeEntry, TimeIndex};
use super::producer_state::ProducerStateManager;
use super::segment::{
    parse_log_file_name, segment_file, Segment, INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX,
};
use super::txn::{parse_marker, ControlRecordType, TxnIndexEntry};
use super::txn_index::{AbortedTxnIndex, TXN_INDEX_SUFFIX};
use super::{LogConfig, LogError};

/// Batches up to this size are checked from one window read; larger ones in chunks.
const WINDOW: usize = 1 << 20;
const CRC_CHUNK: usize = 64 << 10;

pub(crate) struct Recovered {
    pub segments: BTreeMap<i64, Segment>,
    pub producers: ProducerStateManager,
    pub txn_index: AbortedTxnIndex,
    /// The log start offset the checkpoint recorded (0 without one): it may lie inside the
    /// first segment once DeleteRecords moved it there.
    pub log_start_offset: i64,
}

/// Why a scan stopped before the end of the file.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ScanEnd {
    Clean,
    Bad { position: u64, reason: String },
}

/// Reads through a file in large windows so that small batches cost no syscall each.
struct Window {
    buf: Vec<u8>,
    start: u64,
}

impl Window {
    fn new() -> Self {
        Window {
            buf: Vec::new(),
            start: 0,
        }
    }

    /// `len` bytes at `pos`; `len <= WINDOW` and `pos + len <= end`.
    fn get(&mut self, file: &File, pos: u64, len: usize, end: u64) -> io::Result<&[u8]> {
        let cached_end = self.start + self.buf.len() as u64;
        if pos < self.start || pos + len as u64 > cached_end {
            let n = usize::try_from((end - pos).min(WINDOW as u64)).unwrap_or(WINDOW);
            self.buf.resize(n, 0);
            file.read_exact_at(&mut self.buf, pos)?;
            self.start = pos;
        }
        let at = usize::try_from(pos - self.start).unwrap_or(0);
        Ok(&self.buf[at..at + len])
    }
}

fn chunked_crc(file: &File, pos: u64, size: usize) -> io::Result<u32> {
    let mut crc = 0u32;
    let mut chunk = vec![0u8; CRC_CHUNK];
    let mut done = CRC_START;
    while done < size {
        let n = (size - done).min(CRC_CHUNK);
        file.read_exact_at(&mut chunk[..n], pos + done as u64)?;
        crc = crc32c::crc32c_append(crc, &chunk[..n]);
        done += n;
    }
    Ok(crc)
}

/// Validates the batches of `file` from `from` to `end`, expecting offsets to continue at or
/// after `expected` (compaction leaves gaps), and hands each good one to `on_batch`. Stops at
/// the first bad batch.
pub(crate) fn scan_batches(
    file: &File,
    from: u64,
    end: u64,
    mut expected: i64,
    mut on_batch: impl FnMut(&BatchInfo) -> io::Result<()>,
) -> io::Result<ScanEnd> {
    let mut window = Window::new();
    let mut pos = from;
    let bad = |position: u64, reason: String| Ok(ScanEnd::Bad { position, reason });
    while pos < end {
        let remaining = end - pos;
        if remaining < BATCH_HEADER_LEN as u64 {
            return bad(
                pos,
                format!("{remaining} bytes are too few for a batch header"),
            );
        }
        let mut raw = [0u8; BATCH_HEADER_LEN];
        raw.copy_from_slice(window.get(file, pos, BATCH_HEADER_LEN, end)?);
        let header = BatchHeader::new(raw).map_err(io::Error::other)?;
        let available = usize::try_from(remaining).unwrap_or(usize::MAX);
        let size = match check_stored_header(&header, available, usize::MAX) {
            Ok(size) => size,
            Err(e) => return bad(pos, e.to_string()),
        };
        // Offsets only ever grow; a cleaned segment has gaps where records were removed.
        if header.base_offset() < expected {
            return bad(
                pos,
                format!(
                    "batch claims offset {} where at least {expected} was expected",
                    header.base_offset()
                ),
            );
        }
        let crc = if size <= WINDOW {
            batch_crc(window.get(file, pos, size, end)?)
        } else {
            chunked_crc(file, pos, size)?
        };
        if crc != header.crc() {
            return bad(pos, "CRC-32C mismatch".to_string());
        }
        let info =
            BatchInfo::from_header(&header, usize::try_from(pos).unwrap_or(usize::MAX), size);
        on_batch(&info)?;
        expected = info.last_offset().saturating_add(1);
        pos += size as u64;
    }
    Ok(ScanEnd::Clean)
}

/// Validates `segment`'s log file from its committed size to the end of the file, extending the
/// committed part batch by batch (indexes included) and cutting the file at the first bad batch.
/// Returns whether something was cut.
pub(crate) fn scan_segment(
    segment: &mut Segment,
    producers: &mut ProducerStateManager,
    replay_from: i64,
    aborted: &mut Vec<TxnIndexEntry>,
) -> io::Result<bool> {
    let file = segment.log_file();
    let file_len = file.metadata()?.len();
    let start = segment.size();
    let expected = segment.next_offset();
    let end = scan_batches(&file, start, file_len, expected, |b| {
        if b.last_offset() >= replay_from {
            let marker = if b.is_control() && b.producer_id >= 0 {
                read_marker(&file, b)?
            } else {
                None
            };
            if let Some(completed) = producers.replay(b, marker) {
                if completed.is_aborted {
                    aborted.push(TxnIndexEntry {
                        producer_id: completed.producer_id,
                        first_offset: completed.first_offset,
                        last_offset: completed.last_offset,
                        last_stable_offset: producers.last_stable_offset_after(&completed),
                    });
                }
            }
        }
        segment.note_batch_now(
            b.position as u64,
            b.size as u64,
            b.last_offset(),
            b.max_timestamp,
        )
    })?;
    match end {
        ScanEnd::Clean => Ok(false),
        ScanEnd::Bad { position, reason } => {
            tracing::warn!(
                file = %segment.log_path().display(),
                position,
                bytes_dropped = file_len - position,
                first_offset_dropped = segment.next_offset(),
                "truncating log at the first invalid batch ({reason}): {} bytes from position \
                 {position} dropped, offsets from {} on are lost",
                file_len - position,
                segment.next_offset()
            );
            file.set_len(position)?;
            Ok(true)
        }
    }
}

/// What the control batch `b` of `file` says (see `txn::parse_marker`); a control batch is
/// small (one record), so it is read whole. `None` for one too big to be a marker.
fn read_marker(file: &File, b: &BatchInfo) -> io::Result<Option<(ControlRecordType, i32)>> {
    if b.size > 4096 {
        return Ok(None);
    }
    let mut bytes = vec![0u8; b.size];
    file.read_exact_at(&mut bytes, b.position as u64)?;
    Ok(parse_marker(&bytes))
}

fn list_segments(dir: &Path) -> io::Result<Vec<i64>> {
    let mut bases = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if let Some(base) = entry.file_name().to_str().and_then(parse_log_file_name) {
            bases.push(base);
        }
    }
    bases.sort_unstable();
    Ok(bases)
}

/// Index sanity for a segment of `log_len` bytes whose offsets stay below `offset_limit`.
fn load_indexes(
    dir: &Path,
    base: i64,
    log_len: u64,
    offset_limit: i64,
) -> io::Result<(OffsetIndex, TimeIndex)> {
    // No more entries than batches could fit: a garbage file never makes a big allocation.
    let max_entries = usize::try_from(log_len / BATCH_HEADER_LEN as u64 + 1).unwrap_or(usize::MAX);
    let rel_limit = offset_limit.saturating_sub(base);
    let offsets = OffsetIndex::load(
        &segment_file(dir, base, INDEX_SUFFIX),
        max_entries,
        |prev: Option<&OffsetEntry>, e| {
            u64::from(e.position) < log_len
                && i64::from(e.relative_offset) < rel_limit
                && prev.is_none_or(|p| {
                    e.relative_offset > p.relative_offset && e.position > p.position
                })
        },
    )?;
    let times = TimeIndex::load(
        &segment_file(dir, base, TIME_INDEX_SUFFIX),
        max_entries,
        |prev: Option<&TimeEntry>, e| {
            i64::from(e.relative_offset) < rel_limit
                && prev.is_none_or(|p| {
                    e.timestamp > p.timestamp && e.relative_offset >= p.relative_offset
                })
        },
    )?;
    Ok((offsets, times))
}

/// Whether the checkpoint describes this directory's segments.
fn usable(cp: &RecoveryCheckpoint, dir: &Path, bases: &[i64]) -> bool {
    if bases.first().is_some_and(|first| cp.segment_base < *first) {
        // Retention deleted the checkpointed segment since: its producer state still holds,
        // but every segment gets scanned.
        return true;
    }
    if !bases.contains(&cp.segment_base) || cp.recovery_point < cp.segment_base {
        return false;
    }
    let len = fs::metadata(segment_file(dir, cp.segment_base, LOG_SUFFIX)).map(|m| m.len());
    matches!(len, Ok(len) if cp.segment_position <= len)
}

/// One past the last offset of the batches between `from` (a batch boundary) and `end`, read
/// from their headers alone; `None` when no whole header lies there or one does not parse. A
/// trusted segment's next offset is not the next segment's base once the cleaner removed its
/// last records, and reads must know where its data really ends.
fn next_offset_after(file: &File, from: u64, end: u64) -> Option<i64> {
    let mut pos = from;
    let mut next = None;
    while end.saturating_sub(pos) >= BATCH_HEADER_LEN as u64 {
        let mut raw = [0u8; BATCH_HEADER_LEN];
        file.read_exact_at(&mut raw, pos).ok()?;
        let header = BatchHeader::new(raw).ok()?;
        let size = header.total_size()?;
        next = Some(header.last_offset().saturating_add(1));
        pos += size as u64;
    }
    next
}

pub(crate) fn recover(dir: &Path, config: &LogConfig) -> Result<Recovered, LogError> {
    fs::create_dir_all(dir)?;
    // A cleaner swap a crash interrupted is completed or undone before the segments are listed.
    super::cleaner::finish_interrupted_swap(dir)?;
    let bases = list_segments(dir)?;
    let interval = config.index_interval_bytes;
    let raw_cp = checkpoint::read(dir);
    // Offsets below this were deleted by retention: the log never starts (or ends) before it.
    let log_start_offset = raw_cp.as_ref().map_or(0, |cp| cp.log_start_offset.max(0));
    let cp = raw_cp.filter(|cp| {
        if cp.is_start_only() {
            return false;
        }
        let ok = usable(cp, dir, &bases);
        if !ok {
            tracing::warn!(
                "{}: recovery checkpoint does not match the segments; scanning everything",
                dir.display()
            );
        }
        ok
    });
    let (mut producers, replay_from) = match &cp {
        Some(cp) => (
            ProducerStateManager::from_snapshot(cp.producers.clone()),
            cp.recovery_point,
        ),
        None => (ProducerStateManager::new(), i64::MIN),
    };

    // Entries for markers at or after the replay point are rebuilt by the replay.
    let mut txn_index = AbortedTxnIndex::load(dir, &bases)?;
    txn_index.truncate_from(replay_from)?;

    let mut segments = BTreeMap::new();
    if bases.is_empty() {
        segments.insert(
            log_start_offset,
            Segment::create(dir, log_start_offset, interval)?,
        );
        checkpoint::sync_dir(dir)?;
        return Ok(Recovered {
            segments,
            producers,
            txn_index,
            log_start_offset,
        });
    }

    let mut cut_at: Option<usize> = None;
    for (i, &base) in bases.iter().enumerate() {
        let next_base = bases.get(i + 1).copied();
        let log_path = segment_file(dir, base, LOG_SUFFIX);
        let file = Segment::open_log_file(&log_path)?;
        let log_len = file.metadata()?.len();
        let trusted = cp.as_ref().is_some_and(|cp| base < cp.segment_base);
        let resume = cp.as_ref().filter(|cp| cp.segment_base == base);
        let mut segment = if let (true, Some(next)) = (trusted, next_base) {
            let (offsets, times) = load_indexes(dir, base, log_len, next)?;
            let (max_ts, max_ts_offset) = times.last().map_or((-1, base), |e| {
                (e.timestamp, base + i64::from(e.relative_offset))
            });
            let from = offsets.last().map_or(0, |e| u64::from(e.position));
            let next_offset = if log_len == 0 {
                base
            } else {
                next_offset_after(&file, from, log_len).map_or(next, |n| n.min(next))
            };
            let mut s = Segment::from_parts(base, log_path, file, offsets, times, interval);
            s.set_recovered_state(log_len, next_offset, max_ts, max_ts_offset);
            s
        } else if let Some(cp) = resume {
            let (mut offsets, times) = load_indexes(dir, base, log_len, cp.recovery_point)?;
            offsets.truncate_to_position(cp.segment_position)?;
            let mut s = Segment::from_parts(base, log_path, file, offsets, times, interval);
            s.set_recovered_state(
                cp.segment_position,
                cp.recovery_point,
                cp.max_timestamp,
                cp.offset_of_max_timestamp,
            );
            s
        } else {
            let offsets = OffsetIndex::create(&segment_file(dir, base, INDEX_SUFFIX))?;
            let times = TimeIndex::create(&segment_file(dir, base, TIME_INDEX_SUFFIX))?;
            Segment::from_parts(base, log_path, file, offsets, times, interval)
        };
        let mut cut = false;
        if !trusted || next_base.is_none() {
            let mut aborted = Vec::new();
            cut = scan_segment(&mut segment, &mut producers, replay_from, &mut aborted)?;
            for entry in aborted {
                txn_index.append(base, entry)?;
            }
            segment.sync()?;
        }
        let overlaps = next_base.is_some_and(|next| segment.next_offset() > next);
        if overlaps {
            tracing::warn!(
                "{}: segment {base} runs past the next segment's base offset",
                dir.display()
            );
        }
        segments.insert(base, segment);
        if cut || overlaps {
            cut_at = Some(i + 1);
            break;
        }
    }
    if let Some(first_dropped) = cut_at {
        for &base in &bases[first_dropped..] {
            tracing::warn!(
                "{}: deleting segment {base:020}, which follows a truncated or inconsistent \
                 segment",
                dir.display()
            );
            txn_index.remove_segment(base)?;
            for suffix in [
                LOG_SUFFIX,
                INDEX_SUFFIX,
                TIME_INDEX_SUFFIX,
                TXN_INDEX_SUFFIX,
            ] {
                match fs::remove_file(segment_file(dir, base, suffix)) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        checkpoint::sync_dir(dir)?;
    }
    let log_end = segments
        .last_key_value()
        .map_or(0, |(_, s)| s.next_offset());
    if log_end < log_start_offset {
        // Only segments that retention had already deleted are left (their deletion was lost):
        // they hold nothing a client may read, and the log must not end before its start.
        tracing::warn!(
            "{}: the segments end at offset {log_end}, before the log start offset \
             {log_start_offset}; starting an empty segment there",
            dir.display()
        );
        for (_, segment) in std::mem::take(&mut segments) {
            segment.delete()?;
        }
        txn_index.clear()?;
        segments.insert(
            log_start_offset,
            Segment::create(dir, log_start_offset, interval)?,
        );
        checkpoint::sync_dir(dir)?;
    }
    let log_end = segments
        .last_key_value()
        .map_or(0, |(_, s)| s.next_offset());
    txn_index.truncate_from(log_end)?;
    Ok(Recovered {
        segments,
        producers,
        txn_index,
        log_start_offset,
    })
}

#[cfg(test)]
mod tests {
    use std::fs::OpenOptions;
    use std::io::Write;

    use super::*;
    use crate::log::testutil::batch;
    use crate::log::PartitionLog;

    fn config() -> LogConfig {
        LogConfig {
            segment_bytes: 1_000,
            index_interval_bytes: 100,
            retention_ms: None,
            ..LogConfig::default()
        }
    }

    fn fill(dir: &Path, batches: usize) -> PartitionLog {
        let mut log = PartitionLog::open(dir, config()).expect("open");
        for _ in 0..batches {
            log.append(&batch(2, 100), 0, 0).expect("append");
        }
        log
    }

    fn append_to_file(path: &Path, bytes: &[u8]) {
        let mut f = OpenOptions::new()
            .append(true)
            .open(path)
            .expect("open segment");
        f.write_all(bytes).expect("write");
    }

    fn last_log_file(dir: &Path) -> std::path::PathBuf {
        let bases = list_segments(dir).expect("ls");
        segment_file(dir, *bases.last().expect("a segment"), LOG_SUFFIX)
    }

    fn all_offsets(log: &PartitionLog) -> Vec<i64> {
        let mut out = Vec::new();
        let mut next = log.log_start_offset();
        while next < log.log_end_offset() {
            let slice = log.read(next, 1 << 20).expect("read");
            let mut pos = 0;
            while pos < slice.records.len() {
                let info = crate::log::batch::check_batch(&slice.records[pos..], pos, usize::MAX)
                    .expect("valid batch");
                out.push(info.base_offset);
                next = info.last_offset() + 1;
                pos += info.size;
            }
        }
        out
    }

    #[test]
    fn torn_tail_is_truncated_on_recovery() {
        for clean in [true, false] {
            let dir = tempfile::tempdir().expect("tempdir");
            let mut log = fill(dir.path(), 12);
            if clean {
                log.flush().expect("flush");
            }
            drop(log);
            let path = last_log_file(dir.path());
            let good_len = fs::metadata(&path).expect("meta").len();
            append_to_file(&path, &[0xde; 300]);

            let mut log = PartitionLog::open(dir.path(), config()).expect("reopen");
            assert_eq!(
                fs::metadata(&path).expect("meta").len(),
                good_len,
                "garbage gone"
            );
            assert_eq!(log.log_end_offset(), 24);
            assert_eq!(
                all_offsets(&log),
                (0..12).map(|i| i * 2).collect::<Vec<_>>()
            );
            let next = log.append(&batch(1, 10), 0, 0).expect("append");
            assert_eq!(next.base_offset, 24);
        }
    }

    #[test]
    fn half_written_batch_is_truncated() {
        let dir = tempfile::tempdir().expect("tempdir");
        drop(fill(dir.path(), 3));
        let path = last_log_file(dir.path());
        let good_len = fs::metadata(&path).expect("meta").len();
        let mut next = batch(1, 100);
        BatchHeader::new(&mut next[..])
            .expect("header")
            .set_base_offset(6);
        append_to_file(&path, &next[..next.len() / 2]);
        let log = PartitionLog::open(dir.path(), config()).expect("reopen");
        assert_eq!(log.log_end_offset(), 6);
        assert_eq!(fs::metadata(&path).expect("meta").len(), good_len);
    }

    #[test]
    fn corruption_inside_an_old_segment_drops_everything_after_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = fill(dir.path(), 30);
        let bases: Vec<i64> = log.segments().map(Segment::base_offset).collect();
        assert!(bases.len() >= 4);
        drop(log);
        // No checkpoint: every segment is scanned.
        fs::remove_file(dir.path().join(checkpoint::FILE_NAME)).expect("rm checkpoint");
        let victim = segment_file(dir.path(), bases[1], LOG_SUFFIX);
        let f = OpenOptions::new().write(true).open(&victim).expect("open");
        f.write_all_at(&[0xff], 400).expect("corrupt");

        let log = PartitionLog::open(dir.path(), config()).expect("reopen");
        assert_eq!(log.segment_count(), 2);
        assert!(log.log_end_offset() > bases[1] && log.log_end_offset() < bases[2]);
        assert!(!segment_file(dir.path(), bases[2], LOG_SUFFIX).exists());
        assert!(!segment_file(dir.path(), bases[3], INDEX_SUFFIX).exists());
        assert_eq!(
            all_offsets(&log).last().map(|o| o + 2),
            Some(log.log_end_offset())
        );
    }

    #[test]
    fn indexes_are_rebuilt_for_scanned_segments_and_loaded_for_trusted_ones() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = fill(dir.path(), 30);
        log.flush().expect("flush");
        let before: Vec<Vec<OffsetEntry>> = log
            .segments()
            .map(|s| s.offset_index.entries().to_vec())
            .collect();
        let times: Vec<Vec<TimeEntry>> = log
            .segments()
            .map(|s| s.time_index.entries().to_vec())
            .collect();
        let bases: Vec<i64> = log.segments().map(Segment::base_offset).collect();
        drop(log);

        // Trusted: loaded from the files.
        let log = PartitionLog::open(dir.path(), config()).expect("reopen");
        let loaded: Vec<Vec<OffsetEntry>> = log
            .segments()
            .map(|s| s.offset_index.entries().to_vec())
            .collect();
        assert_eq!(loaded, before);
        drop(log);

        // Scanned: garbage index files are rebuilt.
        fs::remove_file(dir.path().join(checkpoint::FILE_NAME)).expect("rm checkpoint");
        for base in &bases {
            fs::write(segment_file(dir.path(), *base, INDEX_SUFFIX), [7u8; 21]).expect("garbage");
            fs::remove_file(segment_file(dir.path(), *base, TIME_INDEX_SUFFIX)).expect("rm");
        }
        let log = PartitionLog::open(dir.path(), config()).expect("reopen");
        let rebuilt: Vec<Vec<OffsetEntry>> = log
            .segments()
            .map(|s| s.offset_index.entries().to_vec())
            .collect();
        assert_eq!(rebuilt, before);
        let rebuilt_times: Vec<Vec<TimeEntry>> = log
            .segments()
            .map(|s| s.time_index.entries().to_vec())
            .collect();
        // Sealed segments had a final entry added when they were rolled; a rescan indexes
        // the same interval entries and the reopened log knows the same max timestamps.
        for (rebuilt, original) in rebuilt_times.iter().zip(&times) {
            assert!(original.starts_with(rebuilt) || rebuilt == original);
        }
        assert_eq!(all_offsets(&log).len(), 30);
    }

    #[test]
    fn segments_of_pure_garbage_recover_to_an_empty_log() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let garbage: Vec<u8> = (0..5_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        fs::write(segment_file(dir.path(), 0, LOG_SUFFIX), &garbage).expect("write");
        fs::write(segment_file(dir.path(), 0, INDEX_SUFFIX), &garbage).expect("write");
        fs::write(segment_file(dir.path(), 0, TIME_INDEX_SUFFIX), &garbage).expect("write");
        fs::write(segment_file(dir.path(), 77, LOG_SUFFIX), &garbage).expect("write");
        fs::write(dir.path().join(checkpoint::FILE_NAME), &garbage).expect("write");
        let mut log = PartitionLog::open(dir.path(), config()).expect("open");
        assert_eq!((log.log_start_offset(), log.log_end_offset()), (0, 0));
        assert!(!segment_file(dir.path(), 77, LOG_SUFFIX).exists());
        assert_eq!(
            log.append(&batch(1, 10), 0, 0).expect("append").base_offset,
            0
        );
    }

    #[test]
    fn missing_directory_starts_an_empty_log() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("topic-0");
        let log = PartitionLog::open(&path, config()).expect("open");
        assert_eq!((log.log_start_offset(), log.log_end_offset()), (0, 0));
        assert!(segment_file(&path, 0, LOG_SUFFIX).exists());
    }
}
