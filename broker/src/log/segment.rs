//! One segment: the log file `<base>.log` holding whole batches back to back, plus its offset and
//! time indexes. Appends go through positional writes at the committed size, reads through
//! positional reads (`read_at`), so readers and the writer never share a file cursor.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::batch::{BatchHeader, BatchInfo, BATCH_HEADER_LEN};
use super::index::{IndexEntry, IndexWrite, OffsetEntry, OffsetIndex, TimeEntry, TimeIndex};
use super::LogConfig;

pub const LOG_SUFFIX: &str = "log";
pub const INDEX_SUFFIX: &str = "index";
pub const TIME_INDEX_SUFFIX: &str = "timeindex";

/// Positions and relative offsets are stored as u32 in the indexes, as in Kafka.
const MAX_SEGMENT_BYTES: u64 = u32::MAX as u64;

/// `<dir>/<base offset, 20 digits>.<suffix>`.
pub fn segment_file(dir: &Path, base_offset: i64, suffix: &str) -> PathBuf {
    dir.join(format!("{base_offset:020}.{suffix}"))
}

/// The base offset of a segment log file name, if `name` is one.
pub fn parse_log_file_name(name: &str) -> Option<i64> {
    let stem = name.strip_suffix(".log")?;
    if stem.len() != 20 || !stem.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    stem.parse().ok()
}

/// A segment's log file and committed size as they stood: enough to read its batches without
/// the segment (and the partition's lock).
#[derive(Clone, Debug)]
pub struct SegmentFile {
    pub file: Arc<File>,
    pub size: u64,
    pub path: PathBuf,
}

#[derive(Debug)]
pub struct Segment {
    base_offset: i64,
    log_path: PathBuf,
    log: Arc<File>,
    /// Bytes of whole, committed batches; anything in the file beyond is not part of the log.
    size: u64,
    /// One past the last offset stored here (= base offset while empty).
    next_offset: i64,
    pub(crate) offset_index: OffsetIndex,
    pub(crate) time_index: TimeIndex,
    max_timestamp: i64,
    /// Base offset of the first batch carrying `max_timestamp`.
    offset_of_max_timestamp: i64,
    bytes_since_last_index: u64,
    index_interval: u64,
    /// The max timestamp of the segment's first batch: `segment.ms` is measured from it (Kafka's
    /// `rollingBasedTimestamp`). `None` until the segment holds a batch.
    first_batch_timestamp: Option<i64>,
    /// Wall-clock time this segment was created or opened: `segment.ms` is measured from it when
    /// the first batch carries no timestamp (-1).
    created_ms: i64,
    /// Subtracted from `segment.ms` for this segment (`segment.jitter.ms`), so that the segments
    /// of many partitions do not all roll at the same moment.
    roll_jitter_ms: i64,
}

fn open_log(path: &Path, truncate: bool) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(truncate)
        .open(path)
}

impl Segment {
    /// Creates an empty segment (any stale files of that name are emptied).
    pub fn create(dir: &Path, base_offset: i64, index_interval: u32) -> io::Result<Self> {
        let log_path = segment_file(dir, base_offset, LOG_SUFFIX);
        let log = open_log(&log_path, true)?;
        Ok(Segment {
            base_offset,
            log_path,
            log: Arc::new(log),
            size: 0,
            next_offset: base_offset,
            offset_index: OffsetIndex::create(&segment_file(dir, base_offset, INDEX_SUFFIX))?,
            time_index: TimeIndex::create(&segment_file(dir, base_offset, TIME_INDEX_SUFFIX))?,
            max_timestamp: -1,
            offset_of_max_timestamp: base_offset,
            bytes_since_last_index: 0,
            index_interval: u64::from(index_interval),
            first_batch_timestamp: None,
            created_ms: common::time::now_ms(),
            roll_jitter_ms: 0,
        })
    }

    /// Creates an empty segment whose three files carry `suffix` after their usual names
    /// (`<base>.log.cleaned`, ...): the log cleaner writes a replacement segment there, to be
    /// renamed into place by [`Segment::rename_files`].
    pub(crate) fn create_with_suffix(
        dir: &Path,
        base_offset: i64,
        index_interval: u32,
        suffix: &str,
    ) -> io::Result<Self> {
        let named = |kind: &str| {
            let mut name = segment_file(dir, base_offset, kind).into_os_string();
            name.push(format!(".{suffix}"));
            PathBuf::from(name)
        };
        let log_path = named(LOG_SUFFIX);
        let log = open_log(&log_path, true)?;
        Ok(Segment::from_parts(
            base_offset,
            log_path,
            log,
            OffsetIndex::create(&named(INDEX_SUFFIX))?,
            TimeIndex::create(&named(TIME_INDEX_SUFFIX))?,
            index_interval,
        ))
    }

    /// Records that the caller renamed this segment's files to `log`, `index` and `time_index`
    /// (open handles follow a rename, so reads and fsyncs go on as before).
    pub(crate) fn rename_files(&mut self, log: PathBuf, index: PathBuf, time_index: PathBuf) {
        self.log_path = log;
        self.offset_index.set_path(index);
        self.time_index.set_path(time_index);
    }

    /// The index file paths (offset index, time index).
    pub(crate) fn index_paths(&self) -> [&Path; 2] {
        [self.offset_index.path(), self.time_index.path()]
    }

    /// Bytes held by the offset index and the time index (Kafka groups segments to clean by them).
    pub(crate) fn index_bytes(&self) -> (u64, u64) {
        (
            (self.offset_index.entries().len() * OffsetEntry::SIZE) as u64,
            (self.time_index.entries().len() * TimeEntry::SIZE) as u64,
        )
    }

    /// The max timestamp of the first batch, once known (`segment.ms` and
    /// `max.compaction.lag.ms` count from it).
    pub fn first_batch_timestamp(&self) -> Option<i64> {
        self.first_batch_timestamp
    }

    /// Opens an existing segment's log with its indexes as recovery left them; the caller
    /// (recovery) sets the committed size, next offset and timestamps.
    pub(crate) fn from_parts(
        base_offset: i64,
        log_path: PathBuf,
        log: File,
        offset_index: OffsetIndex,
        time_index: TimeIndex,
        index_interval: u32,
    ) -> Self {
        Segment {
            base_offset,
            log_path,
            log: Arc::new(log),
            size: 0,
            next_offset: base_offset,
            offset_index,
            time_index,
            max_timestamp: -1,
            offset_of_max_timestamp: base_offset,
            bytes_since_last_index: 0,
            index_interval: u64::from(index_interval),
            first_batch_timestamp: None,
            created_ms: common::time::now_ms(),
            roll_jitter_ms: 0,
        }
    }

    /// Sets what recovery established about the committed part of the log file.
    pub(crate) fn set_recovered_state(
        &mut self,
        size: u64,
        next_offset: i64,
        max_timestamp: i64,
        offset_of_max_timestamp: i64,
    ) {
        self.size = size;
        self.next_offset = next_offset;
        self.max_timestamp = max_timestamp;
        self.offset_of_max_timestamp = offset_of_max_timestamp;
        let last_indexed = self
            .offset_index
            .last()
            .map_or(0, |e| u64::from(e.position));
        self.bytes_since_last_index = size.saturating_sub(last_indexed);
    }

    /// Loads the `segment.ms` reference of a reopened segment: its first batch's max timestamp,
    /// as Kafka's `LogSegment.loadFirstBatchTimestamp` does.
    pub(crate) fn load_first_batch_timestamp(&mut self) -> io::Result<()> {
        if self.first_batch_timestamp.is_some() || self.size < BATCH_HEADER_LEN as u64 {
            return Ok(());
        }
        let mut raw = [0u8; BATCH_HEADER_LEN];
        self.log.read_exact_at(&mut raw, 0)?;
        if let Ok(header) = BatchHeader::new(raw) {
            self.first_batch_timestamp = Some(header.max_timestamp());
        }
        Ok(())
    }

    /// Sets the jitter subtracted from `segment.ms` for this segment (see
    /// [`random_roll_jitter`]).
    pub(crate) fn set_roll_jitter_ms(&mut self, jitter_ms: i64) {
        self.roll_jitter_ms = jitter_ms.max(0);
    }

    /// How long this segment has waited to be rolled (Kafka's `LogSegment.timeWaitedForRoll`):
    /// from its first batch's timestamp to the incoming batches' max timestamp, or, when the
    /// first batch has no timestamp, from the segment's creation to `now_ms`.
    pub fn time_waited_for_roll(&self, now_ms: i64, incoming_max_timestamp: i64) -> i64 {
        match self.first_batch_timestamp {
            Some(first) if first >= 0 => incoming_max_timestamp.saturating_sub(first),
            _ => now_ms.saturating_sub(self.created_ms),
        }
    }

    pub(crate) fn open_log_file(path: &Path) -> io::Result<File> {
        open_log(path, false)
    }

    pub fn base_offset(&self) -> i64 {
        self.base_offset
    }
    pub fn next_offset(&self) -> i64 {
        self.next_offset
    }
    pub fn size(&self) -> u64 {
        self.size
    }
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }
    pub fn max_timestamp(&self) -> i64 {
        self.max_timestamp
    }
    pub fn offset_of_max_timestamp(&self) -> i64 {
        self.offset_of_max_timestamp
    }
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }
    /// The log file, shareable with readers and the flusher.
    pub fn log_file(&self) -> Arc<File> {
        self.log.clone()
    }
    /// The log file with its committed size, for reads outside the partition's lock.
    pub fn file_view(&self) -> SegmentFile {
        SegmentFile {
            file: self.log.clone(),
            size: self.size,
            path: self.log_path.clone(),
        }
    }
    /// The log file and both index files, for an fsync outside the owner's lock.
    pub fn files(&self) -> [Arc<File>; 3] {
        [
            self.log.clone(),
            self.offset_index.file(),
            self.time_index.file(),
        ]
    }

    /// `offset` relative to the base, clamped to the u32 range: an offset before this segment
    /// (a read landing in a gap between segments) maps to its start, never past it.
    fn relative(&self, offset: i64) -> u32 {
        let rel = offset.saturating_sub(self.base_offset).max(0);
        u32::try_from(rel).unwrap_or(u32::MAX)
    }

    /// Whether an append of `incoming` bytes ending at `last_offset`, whose batches carry
    /// `incoming_max_timestamp` at most, must go to a new segment (Kafka's
    /// `LogSegment.shouldRoll`): it would grow past `segment.bytes`, its offsets would overflow
    /// the indexes' relative offsets, one of its indexes holds `segment.index.bytes`, or the
    /// segment has waited more than `segment.ms` (or a compacted log's sooner
    /// `max.compaction.lag.ms`, [`LogConfig::max_segment_ms`]) minus its jitter. An empty segment is never
    /// rolled, so a batch always finds a home.
    pub fn roll_due(
        &self,
        config: &LogConfig,
        incoming: u64,
        last_offset: i64,
        incoming_max_timestamp: i64,
        now_ms: i64,
    ) -> bool {
        if self.size == 0 {
            return false;
        }
        let limit = config.segment_bytes.min(MAX_SEGMENT_BYTES);
        let too_big = self.size.saturating_add(incoming) > limit;
        let offsets_overflow = last_offset.saturating_sub(self.base_offset) > i64::from(u32::MAX);
        let index_full = self.offset_index.entries().len() as u64
            >= config.segment_index_bytes / OffsetEntry::SIZE as u64
            || self.time_index.entries().len() as u64
                >= config.segment_index_bytes / TimeEntry::SIZE as u64;
        let too_old = config.max_segment_ms().is_some_and(|ms| {
            self.time_waited_for_roll(now_ms, incoming_max_timestamp)
                > ms.saturating_sub(self.roll_jitter_ms)
        });
        too_big || offsets_overflow || index_full || too_old
    }

    /// Records a batch now stored at `position`: indexes, max timestamp, next offset. Used by
    /// appends and by the recovery scan, so both build identical indexes. The index entries
    /// are in memory at once; their file writes go to `writes`, for the caller to run (an
    /// appender runs them after letting go of the partition's lock).
    pub(crate) fn note_batch(
        &mut self,
        position: u64,
        size: u64,
        last_offset: i64,
        max_timestamp: i64,
        writes: &mut Vec<IndexWrite>,
    ) {
        if max_timestamp > self.max_timestamp {
            self.max_timestamp = max_timestamp;
            // Kafka's `shallowOffsetOfMaxTimestamp`: the last offset of the batch.
            self.offset_of_max_timestamp = last_offset;
        }
        // As Kafka's `LogSegment.append`: an entry once more than index.interval.bytes have
        // gone by, naming the batch's last offset at the batch's position (so Kafka's own
        // DumpLogSegments finds our indexes consistent). The first batch of a segment needs no
        // entry (an empty lookup means "from position 0").
        if position > 0 && self.bytes_since_last_index > self.index_interval {
            writes.push(self.offset_index.push(OffsetEntry {
                relative_offset: self.relative(last_offset),
                position: u32::try_from(position).unwrap_or(u32::MAX),
            }));
            writes.extend(self.push_time_entry());
            self.bytes_since_last_index = 0;
        }
        self.bytes_since_last_index += size;
        self.size = position + size;
        self.next_offset = last_offset.saturating_add(1);
    }

    /// [`Segment::note_batch`] with the index writes run at once (the recovery scan).
    pub(crate) fn note_batch_now(
        &mut self,
        position: u64,
        size: u64,
        last_offset: i64,
        max_timestamp: i64,
    ) -> io::Result<()> {
        let mut writes = Vec::new();
        self.note_batch(position, size, last_offset, max_timestamp, &mut writes);
        writes.iter().try_for_each(IndexWrite::execute)
    }

    /// Adds (max timestamp so far, its offset) to the time index if it moved forward.
    fn push_time_entry(&mut self) -> Option<IndexWrite> {
        if self.max_timestamp < 0 {
            return None;
        }
        if self
            .time_index
            .last()
            .is_some_and(|e| e.timestamp >= self.max_timestamp)
        {
            return None;
        }
        let entry = TimeEntry {
            timestamp: self.max_timestamp,
            relative_offset: self.relative(self.offset_of_max_timestamp),
        };
        Some(self.time_index.push(entry))
    }

    /// Where the next append goes: the log file and the committed size.
    pub(crate) fn write_target(&self) -> (Arc<File>, u64) {
        (self.log.clone(), self.size)
    }

    /// Takes in `batches` (positions relative to `start`), which the caller wrote at `start`
    /// (the committed size it got from [`Segment::write_target`]); their index writes go to
    /// `writes`.
    pub(crate) fn commit_written(
        &mut self,
        start: u64,
        batches: &[BatchInfo],
        writes: &mut Vec<IndexWrite>,
    ) {
        for b in batches {
            self.note_batch(
                start + b.position as u64,
                b.size as u64,
                b.last_offset(),
                b.max_timestamp,
                writes,
            );
        }
        if start == 0 {
            // The segment's first batch: `segment.ms` counts from its timestamp.
            self.first_batch_timestamp = batches.first().map(|b| b.max_timestamp);
        }
    }

    /// Appends already validated and offset-patched batches (`batches` describe `bytes`).
    pub fn append(&mut self, bytes: &[u8], batches: &[BatchInfo]) -> io::Result<()> {
        let (file, start) = self.write_target();
        write_pieces_at(&file, start, &[bytes])?;
        let mut writes = Vec::new();
        self.commit_written(start, batches, &mut writes);
        writes.iter().try_for_each(IndexWrite::execute)
    }

    /// Called when this segment stops being the active one: the time index's last entry then
    /// carries the segment's max timestamp, which is what a reopened log knows it by.
    pub fn finish(&mut self) -> io::Result<()> {
        if let Some(write) = self.push_time_entry() {
            write.execute()?;
        }
        self.time_index.sync()?;
        self.offset_index.sync()
    }

    /// `index.interval.bytes` for this segment: how far apart its offset index entries are.
    pub fn index_interval(&self) -> u64 {
        self.index_interval
    }

    /// Where to start scanning for the batch containing `offset`.
    pub fn position_hint(&self, offset: i64) -> u64 {
        self.offset_index
            .lookup(self.relative(offset))
            .map_or(0, |e| u64::from(e.position))
    }

    /// Where to start scanning for the first batch with a max timestamp at or above `timestamp`.
    pub fn time_position_hint(&self, timestamp: i64) -> u64 {
        match self.time_index.lookup_before(timestamp) {
            Some(e) => self.position_hint(self.base_offset + i64::from(e.relative_offset)),
            None => 0,
        }
    }

    /// Drops everything from `position` on (a batch boundary), with the index entries pointing
    /// there; the caller rescans to restore the max timestamp and next offset.
    pub(crate) fn truncate_at(&mut self, position: u64, next_offset: i64) -> io::Result<()> {
        self.log.set_len(position)?;
        self.offset_index.truncate_to_position(position)?;
        let rel = self.relative(next_offset);
        self.time_index.truncate_to_offset(rel)?;
        self.size = position;
        self.next_offset = next_offset;
        Ok(())
    }

    pub fn sync(&self) -> io::Result<()> {
        self.log.sync_data()?;
        self.offset_index.sync()?;
        self.time_index.sync()
    }

    /// Removes the segment's files. Readers holding the log file keep reading the unlinked file.
    pub fn delete(self) -> io::Result<()> {
        for path in [
            self.log_path.as_path(),
            self.offset_index.path(),
            self.time_index.path(),
        ] {
            match fs::remove_file(path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// Writes `pieces` back to back into `file` from `start`, with one write system call where
/// they fit: a patched batch header and the batch's bytes as they came go to the file together,
/// without being copied into one buffer first (and the file system's write path runs once, not
/// once per piece). On failure the file is cut back to `start` so that it holds only whole
/// batches; if even that fails, the next append overwrites from the same committed size, and
/// recovery would cut it.
///
/// Several pieces are written at the file's cursor (positional vectored writes are not in
/// stable Rust): only the partition's one appender ever uses the cursor of a segment file, and
/// it seeks first every time; readers and the flusher use positional reads and fsync.
pub(crate) fn write_pieces_at(file: &File, start: u64, pieces: &[&[u8]]) -> io::Result<()> {
    let written = match pieces {
        [] => Ok(()),
        [one] => file.write_all_at(one, start),
        _ => write_all_vectored(file, start, pieces),
    };
    if written.is_err() {
        let _ = file.set_len(start);
    }
    written
}

fn write_all_vectored(mut file: &File, start: u64, pieces: &[&[u8]]) -> io::Result<()> {
    use std::io::{IoSlice, Seek, SeekFrom, Write};
    file.seek(SeekFrom::Start(start))?;
    let mut slices: Vec<IoSlice<'_>> = pieces.iter().map(|p| IoSlice::new(p)).collect();
    let mut rest = &mut slices[..];
    while !rest.is_empty() {
        match file.write_vectored(rest) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut rest, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A random jitter for a new segment, below `min(segment.jitter.ms, segment.ms)`; 0 when
/// `segment.jitter.ms` is 0 (Kafka's `LogConfig.randomSegmentJitter`).
pub fn random_roll_jitter(config: &LogConfig) -> i64 {
    use std::hash::{BuildHasher, Hasher};
    let bound = match config.segment_ms {
        Some(ms) => config.segment_jitter_ms.min(ms),
        None => config.segment_jitter_ms,
    };
    if bound <= 0 {
        return 0;
    }
    // RandomState is seeded randomly per instance: enough randomness to spread rolls.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_i64(common::time::now_ms());
    (hasher.finish() % bound as u64) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::batch::validate_produce_payload;
    use crate::log::testutil::batch;

    fn append_batch(seg: &mut Segment, records: usize, value_len: usize) {
        let mut bytes = batch(records, value_len);
        let mut h = BatchHeader::new(&mut bytes[..]).expect("header");
        h.set_base_offset(seg.next_offset());
        let infos = validate_produce_payload(&bytes, usize::MAX).expect("valid");
        seg.append(&bytes, &infos).expect("append");
    }

    #[test]
    fn pieces_are_written_back_to_back_at_the_position_given() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(dir.path().join("f"))
            .expect("open");
        write_pieces_at(&file, 0, &[b"0123456789"]).expect("one piece");
        let big = vec![7u8; 300_000];
        write_pieces_at(&file, 4, &[b"ab", &big, b"cd"]).expect("pieces");
        let mut read = vec![0u8; 4 + 2 + big.len() + 2];
        file.read_exact_at(&mut read, 0).expect("read");
        assert_eq!(&read[..6], b"0123ab");
        assert!(read[6..6 + big.len()].iter().all(|b| *b == 7));
        assert_eq!(&read[6 + big.len()..], b"cd");
        // Wherever the cursor was left, the next write goes where it is told.
        write_pieces_at(&file, 1, &[b"X", b"Y"]).expect("pieces");
        let mut head = [0u8; 4];
        file.read_exact_at(&mut head, 0).expect("read");
        assert_eq!(&head, b"0XY3");
    }

    #[test]
    fn file_names_are_twenty_digit_base_offsets() {
        let p = segment_file(Path::new("/x"), 42, LOG_SUFFIX);
        assert_eq!(p, Path::new("/x/00000000000000000042.log"));
        assert_eq!(parse_log_file_name("00000000000000000042.log"), Some(42));
        assert_eq!(parse_log_file_name("42.log"), None);
        assert_eq!(parse_log_file_name("00000000000000000042.index"), None);
    }

    #[test]
    fn appends_are_indexed_every_interval() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut seg = Segment::create(dir.path(), 100, 1000).expect("create");
        for _ in 0..10 {
            append_batch(&mut seg, 2, 300);
        }
        assert_eq!(seg.next_offset(), 120);
        assert!(seg.offset_index.entries().len() >= 2);
        // Every entry points at the start of a batch and names its last offset, as Kafka's
        // `LogSegment.append` writes them; a lookup of any offset of that batch starts at or
        // before it.
        for e in seg.offset_index.entries() {
            let mut h = [0u8; 61];
            seg.log_file()
                .read_exact_at(&mut h, u64::from(e.position))
                .expect("read");
            let h = BatchHeader::new(h).expect("header");
            assert_eq!(h.last_offset(), 100 + i64::from(e.relative_offset));
            assert!(seg.position_hint(h.base_offset()) < u64::from(e.position));
            assert_eq!(seg.position_hint(h.last_offset()), u64::from(e.position));
        }
        assert_eq!(seg.position_hint(100), 0);
        // An offset before the segment (a gap) starts at the segment's beginning.
        assert_eq!(seg.position_hint(3), 0);
        let size = seg.size();
        assert_eq!(std::fs::metadata(seg.log_path()).expect("meta").len(), size);
    }

    #[test]
    fn roll_is_due_by_size_age_and_never_when_empty() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = LogConfig {
            segment_bytes: 500,
            segment_ms: Some(1000),
            ..LogConfig::default()
        };
        let mut seg = Segment::create(dir.path(), 0, 4096).expect("create");
        assert!(!seg.roll_due(&config, 10_000, 0, 0, 0));
        // The test batch's first record has timestamp 1000.
        append_batch(&mut seg, 1, 100);
        assert!(!seg.roll_due(&config, 100, 1, 1_010, 0));
        assert!(seg.roll_due(&config, 400, 1, 1_010, 0));
        // segment.ms must be exceeded, measured between the batches' timestamps.
        assert!(!seg.roll_due(&config, 10, 1, 2_000, i64::MAX / 2));
        assert!(seg.roll_due(&config, 10, 1, 2_001, 0));
        // segment.jitter.ms brings the roll forward.
        seg.set_roll_jitter_ms(300);
        assert!(!seg.roll_due(&config, 10, 1, 1_700, 0));
        assert!(seg.roll_due(&config, 10, 1, 1_701, 0));
    }

    #[test]
    fn roll_is_due_once_an_index_holds_segment_index_bytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        // Room for three offset index entries (24 bytes) and two time index entries.
        let config = LogConfig {
            segment_index_bytes: 24,
            ..LogConfig::default()
        };
        let mut seg = Segment::create(dir.path(), 0, 1).expect("create");
        let mut entries = Vec::new();
        for _ in 0..4 {
            assert!(!seg.roll_due(&config, 10, seg.next_offset(), 1_000, 0));
            append_batch(&mut seg, 1, 10);
            entries.push(seg.offset_index.entries().len());
        }
        // The first batch is not indexed; then one entry per batch (interval 1 byte), and
        // the time index holds only increasing timestamps (one entry here).
        assert_eq!(entries, vec![0, 1, 2, 3]);
        assert!(seg.roll_due(&config, 10, seg.next_offset(), 1_000, 0));
        let roomy = LogConfig {
            segment_index_bytes: 32,
            ..LogConfig::default()
        };
        assert!(!seg.roll_due(&roomy, 10, seg.next_offset(), 1_000, 0));
    }

    #[test]
    fn roll_jitter_stays_below_segment_jitter_ms_and_segment_ms() {
        let mut config = LogConfig {
            segment_ms: Some(1_000),
            segment_jitter_ms: 0,
            ..LogConfig::default()
        };
        assert_eq!(random_roll_jitter(&config), 0);
        config.segment_jitter_ms = 200;
        let draws: Vec<i64> = (0..200).map(|_| random_roll_jitter(&config)).collect();
        assert!(draws.iter().all(|j| (0..200).contains(j)), "{draws:?}");
        assert!(draws.iter().any(|j| *j != draws[0]), "jitter is random");
        config.segment_jitter_ms = 1_000_000;
        assert!((0..200).all(|_| (0..1_000).contains(&random_roll_jitter(&config))));
    }
}
