//! Log compaction: Kafka 3.9's `LogCleaner` (`Cleaner`, `LogCleanerManager`,
//! `SkimpyOffsetMap`, `MemoryRecords.filterTo`) for logs whose `cleanup.policy` contains
//! `compact`.
//!
//! One cleaning of a log ([`clean_log`]):
//! 1. **What to clean** ([`LogToClean`], Kafka's `cleanableOffsets` and
//!    `calculateCleanableBytes`): the *dirty* section runs from the first offset not cleaned yet
//!    (the `cleaner-offset-checkpoint`, reset to the log start offset when it lies outside the
//!    log) to the first *uncleanable* offset: the lowest of the high watermark, the active
//!    segment's base offset and the base of the first dirty segment whose largest timestamp is
//!    less than `min.compaction.lag.ms` old, rounded down to a segment boundary. The log is
//!    cleaned when the dirty bytes are more than `min.cleanable.dirty.ratio` of the bytes before
//!    the uncleanable offset, or when a dirty segment's first batch is older than
//!    `max.compaction.lag.ms`, or (beyond Kafka 3.9, which waits for the ratio) when a
//!    tombstone's delete horizon has passed.
//! 2. **Offset map** ([`OffsetMap`], [`build_offset_map`]): key -> latest offset over the dirty
//!    section. Keys are kept as 128-bit hashes (Kafka keeps MD5s) and the map holds at most
//!    `log.cleaner.dedupe.buffer.size / log.cleaner.threads / 24 * log.cleaner.io.buffer.load.factor`
//!    keys, Kafka's slot count; when it fills, the map stops after the batch that filled it and
//!    only offsets below that point count as cleaned.
//! 3. **Rewrite** ([`clean_group`]): every segment from the log start up to the end of the
//!    map's section (never the active one) is copied into a new segment, grouped as Kafka groups
//!    them (`groupSegmentsBySize`: adjacent segments whose data and indexes fit in one segment),
//!    keeping a record when its offset is past the map's section, or it is the latest of its key
//!    and it has a value or is a tombstone whose delete horizon has not passed. Offsets are never
//!    renumbered: a rebuilt batch keeps its base offset, `lastOffsetDelta`, leader epoch,
//!    producer id, epoch and base sequence and codec, and each record keeps its offset delta. A
//!    batch with nothing left is dropped, except the last batch of a producer the log still
//!    tracks, which is kept as an empty batch so that the producer's last sequence survives
//!    (`BatchRetention.RETAIN_EMPTY`). Keyless records below the map's end are removed, as
//!    Kafka's cleaner removes them. **Transactions** (Kafka's `CleanedTransactionMetadata`):
//!    nothing at or above the last stable offset is cleaned, so every transaction below is
//!    decided. The records of aborted transactions (known from the aborted transaction index)
//!    are neither put in the map nor kept: an aborted value never hides a committed one, and
//!    the batch goes (kept empty when it is its producer's last). Committed transactional
//!    records are compacted as any other, their batches keeping the transactional attribute.
//!    A marker stays while its transaction has records in the log; once none is left, the first
//!    cleaning gives its batch a delete horizon (as for tombstones) and a cleaning after the
//!    horizon removes it, as Kafka's `CleanedTransactionMetadata` does. A marker after its
//!    producer's last data batch stays (that batch is kept for the producer's sequence and would
//!    otherwise read as an open transaction when producer state is rebuilt from the log).
//! 4. **Tombstones** (KIP-534): the first cleaning that keeps a batch holding a tombstone
//!    rewrites it with a delete horizon of now + `delete.retention.ms` in its base timestamp
//!    (attribute bit 6; the record timestamp deltas are rebased on it so record timestamps do
//!    not change). A later cleaning at or after the horizon removes the tombstones, and the key
//!    is gone.
//! 5. **Crash safety** ([`swap_in`], [`finish_interrupted_swap`]): the new segment is written to
//!    `<base>.log.cleaned` (and `.index.cleaned`, `.timeindex.cleaned`) off the log's lock and
//!    fsynced. Under the lock, after re-checking that the replaced segments are still the same
//!    files at the same sizes (a truncation or retention could have removed them meanwhile), the
//!    index files become `.swap`, the replaced segments' files become `.deleted`, and renaming
//!    `<base>.log.cleaned` to `<base>.log.swap` commits the swap; then the `.swap` files take
//!    their final names and the `.deleted` ones are removed. At start-up, a `*.log.cleaned`
//!    file means the swap had not committed: the `.deleted` files are restored and the new
//!    files removed; otherwise the `.swap` files are moved into place and the `.deleted` ones
//!    removed. Readers holding the old files keep reading them (open handles survive renames
//!    and unlinks), so a fetch never sees a torn state.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File, OpenOptions};
use std::hash::{Hash, Hasher};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::record::varint::{read_zigzag, write_varlong, MAX_VARINT_BYTES};
use common::topic_partition::TopicPartition;

use super::batch::{
    batch_crc, check_stored_header, BatchHeader, BatchInfo, BATCH_HEADER_LEN, COMPRESSION_MASK,
    LOG_OVERHEAD, MAGIC_V2, TIMESTAMP_TYPE_FLAG,
};
use super::checkpoint::sync_dir;
use super::recompress::TopicCompression;
use super::segment::{segment_file, Segment, INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX};
use super::txn::TxnIndexEntry;
use super::validator::{decompress, walk_records};
use super::{LogConfig, LogError};

/// Batch attribute bit 6: the base timestamp is the delete horizon of the batch's tombstones
/// (Kafka's `DELETE_HORIZON_FLAG_MASK`, KIP-534).
pub const DELETE_HORIZON_FLAG: i16 = 0x40;
/// Batch attribute bit 4: the batch belongs to a transaction.
const TRANSACTIONAL_FLAG: i16 = 0x10;
/// Batch attribute bit 5: the batch holds a control record (a transaction marker).
const CONTROL_FLAG: i16 = 0x20;

/// Over one cleaning, in offset order: per producer, whether its transaction being read still
/// has records in the cleaned log (Kafka's `CleanedTransactionMetadata`). A marker whose
/// transaction kept none may go.
#[derive(Debug, Default)]
pub struct TxnTracker {
    retained: HashMap<i64, bool>,
}

impl TxnTracker {
    fn saw_records(&mut self, producer_id: i64, any_kept: bool) {
        *self.retained.entry(producer_id).or_insert(false) |= any_kept;
    }

    /// The transaction of `producer_id` ended at its marker: whether records of it remain.
    fn ended(&mut self, producer_id: i64) -> bool {
        self.retained.remove(&producer_id).unwrap_or(false)
    }
}

/// The aborted transactions of a log, by producer id: `(first offset, marker offset)` ranges
/// (from the aborted transaction index). A transactional batch of producer P whose base offset
/// lies in one of P's ranges was aborted.
#[derive(Debug, Default, Clone)]
pub struct AbortedRanges {
    by_producer: HashMap<i64, Vec<(i64, i64)>>,
}

impl AbortedRanges {
    pub fn new<'a>(entries: impl IntoIterator<Item = &'a TxnIndexEntry>) -> Self {
        let mut by_producer: HashMap<i64, Vec<(i64, i64)>> = HashMap::new();
        for e in entries {
            by_producer
                .entry(e.producer_id)
                .or_default()
                .push((e.first_offset, e.last_offset));
        }
        AbortedRanges { by_producer }
    }

    /// Whether producer `producer_id`'s transactional batch at `offset` was aborted.
    pub fn is_aborted(&self, producer_id: i64, offset: i64) -> bool {
        self.by_producer
            .get(&producer_id)
            .is_some_and(|ranges| ranges.iter().any(|(f, l)| (*f..=*l).contains(&offset)))
    }
}
/// Suffix of a cleaned segment's files while they are written.
pub const CLEANED_SUFFIX: &str = "cleaned";
/// Suffix of a cleaned segment's files once the swap has committed.
pub const SWAP_SUFFIX: &str = "swap";
/// Suffix of replaced segments' files while a swap is under way.
pub const DELETED_SUFFIX: &str = "deleted";
/// The file in each log directory recording, per partition, the offset below which its log
/// is clean (Kafka's `LogCleanerManager.offsetCheckpointFile`).
pub const CLEANER_CHECKPOINT_FILE: &str = "cleaner-offset-checkpoint";
/// Bytes per slot of Kafka's `SkimpyOffsetMap` (a 16-byte MD5 and an 8-byte offset): the
/// dedupe buffer holds `size / 24` slots.
pub const OFFSET_MAP_SLOT_BYTES: u64 = 24;
/// Output is written to the cleaned segment in chunks of about this many bytes.
const WRITE_CHUNK: usize = 1 << 20;
/// Segment files are read in windows of this many bytes (a larger batch is read whole).
const READ_WINDOW: usize = 1 << 20;

/// Key -> latest offset over the dirty section (Kafka's `OffsetMap`). Keys are stored as 128-bit
/// hashes; `capacity` bounds the number of keys (Kafka's slots times the load factor).
#[derive(Debug)]
pub struct OffsetMap {
    offsets: HashMap<u128, i64>,
    capacity: usize,
}

/// A 128-bit hash of a record key: two SipHash passes with fixed keys, so equal keys always
/// hash alike (within this process and across restarts).
fn key_hash(key: &[u8]) -> u128 {
    let mut low = std::hash::DefaultHasher::new();
    key.hash(&mut low);
    let mut high = std::hash::DefaultHasher::new();
    0xc1ea_4e55_u32.hash(&mut high);
    key.hash(&mut high);
    (u128::from(high.finish()) << 64) | u128::from(low.finish())
}

impl OffsetMap {
    /// A map for at most `capacity` keys (at least one).
    pub fn new(capacity: usize) -> Self {
        OffsetMap {
            offsets: HashMap::new(),
            capacity: capacity.max(1),
        }
    }

    /// The number of keys a dedupe buffer of `buffer_bytes` split over `threads` cleaners holds
    /// at `load_factor` (Kafka's `SkimpyOffsetMap` slots times `log.cleaner.io.buffer.load.factor`).
    pub fn capacity_for(buffer_bytes: u64, threads: usize, load_factor: f64) -> usize {
        let per_thread = buffer_bytes / threads.max(1) as u64;
        let slots = (per_thread / OFFSET_MAP_SLOT_BYTES) as f64;
        (slots * load_factor).floor().max(1.0) as usize
    }

    /// Records that `key` is at `offset` (a later offset replaces an earlier one).
    pub fn put(&mut self, key: &[u8], offset: i64) {
        let slot = self.offsets.entry(key_hash(key)).or_insert(offset);
        if offset > *slot {
            *slot = offset;
        }
    }

    /// The latest offset of `key`, if the map saw it.
    pub fn get(&self, key: &[u8]) -> Option<i64> {
        self.offsets.get(&key_hash(key)).copied()
    }

    /// Keys held.
    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    /// Whether the map holds no key.
    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    /// Whether the map holds as many keys as it may.
    pub fn is_full(&self) -> bool {
        self.offsets.len() >= self.capacity
    }
}

/// What the cleaner knows of one sealed segment, taken under the log's lock
/// (`PartitionLog::cleaner_view`); `file` stays readable whatever happens to the log meanwhile.
#[derive(Clone, Debug)]
pub struct SegmentView {
    pub base_offset: i64,
    /// One past the last offset stored in the segment (its base when it is empty).
    pub next_offset: i64,
    /// Bytes of whole batches.
    pub size: u64,
    /// Kafka's `LogSegment.largestTimestamp`: the largest record timestamp, or the file's
    /// modification time (ms) when no batch has one.
    pub largest_timestamp: i64,
    /// Bytes of the offset index and of the time index.
    pub index_bytes: (u64, u64),
    /// The segment's log file, modification time in ms (the cleaned segment inherits it).
    pub modified_ms: Option<i64>,
    pub file: Arc<File>,
}

/// A log as the cleaner sees it at the start of a cleaning.
#[derive(Clone, Debug)]
pub struct LogView {
    pub dir: PathBuf,
    pub config: LogConfig,
    /// The sealed segments, oldest first (never the active one).
    pub segments: Vec<SegmentView>,
    pub active_base_offset: i64,
    pub log_start_offset: i64,
    pub log_end_offset: i64,
    /// The last offset written by each producer the log tracks (id -> offset): the batch
    /// holding it keeps the producer's last sequence and is never removed.
    pub producer_last_offsets: HashMap<i64, i64>,
    /// The log's aborted transactions.
    pub aborted: AbortedRanges,
    /// The log's truncation count when the view was taken: a swap is refused once it moved
    /// (a truncated segment may have been refilled and sealed again).
    pub generation: u64,
}

/// Kafka's `LogToClean`: the range a cleaning would cover and what makes it due.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogToClean {
    /// The first offset not cleaned yet.
    pub first_dirty_offset: i64,
    /// The first offset that may not be cleaned now (a segment base offset).
    pub first_uncleanable_offset: i64,
    /// Bytes of the segments before the dirty section.
    pub clean_bytes: u64,
    /// Bytes of the segments of the dirty section.
    pub cleanable_bytes: u64,
    /// How far (ms) the oldest dirty segment is past `max.compaction.lag.ms` (0: not past).
    pub compaction_delay_ms: i64,
    /// The checkpointed first dirty offset lay outside the log and was reset to its start.
    pub checkpoint_reset: bool,
}

impl LogToClean {
    /// Dirty bytes over all bytes before the uncleanable offset (0 for an empty log).
    pub fn cleanable_ratio(&self) -> f64 {
        let total = self.clean_bytes + self.cleanable_bytes;
        if total == 0 {
            0.0
        } else {
            self.cleanable_bytes as f64 / total as f64
        }
    }

    /// Whether the log is due for cleaning by `min.cleanable.dirty.ratio` or
    /// `max.compaction.lag.ms` (Kafka's `grabFilthiestCompactedLog` filter).
    pub fn is_due(&self, min_cleanable_ratio: f64) -> bool {
        if self.clean_bytes + self.cleanable_bytes == 0 {
            return false;
        }
        (self.compaction_delay_ms > 0 && self.cleanable_bytes > 0)
            || self.cleanable_ratio() > min_cleanable_ratio
    }
}

/// The base offset of the segment holding `offset`: a sealed one of `segments`, else the
/// active one (based at `active_base`).
fn segment_base_at(segments: &[SegmentView], active_base: i64, offset: i64) -> i64 {
    for (i, seg) in segments.iter().enumerate() {
        let next_base = segments.get(i + 1).map_or(active_base, |n| n.base_offset);
        if offset < next_base {
            return seg.base_offset;
        }
    }
    active_base
}

/// Kafka's `cleanableOffsets`, `calculateCleanableBytes` and `maxCompactionDelay` over `view`,
/// with `checkpoint` the first dirty offset recorded by the last cleaning, the partition's
/// `high_watermark`, and `now_ms`. `first_batch_timestamp` gives a segment's first batch's max
/// timestamp (read from its file).
pub fn log_to_clean(
    view: &LogView,
    checkpoint: Option<i64>,
    high_watermark: i64,
    now_ms: i64,
    first_batch_timestamp: impl Fn(&SegmentView) -> Option<i64>,
) -> LogToClean {
    let start = view.log_start_offset;
    let wanted = checkpoint.unwrap_or(start);
    let checkpoint_reset = checkpoint.is_some() && (wanted < start || wanted > view.log_end_offset);
    let first_dirty = if wanted < start || wanted > view.log_end_offset {
        start
    } else {
        wanted
    };
    let segments = &view.segments;
    let next_base = |i: usize| {
        segments
            .get(i + 1)
            .map_or(view.active_base_offset, |n| n.base_offset)
    };
    // The dirty sealed segments: from the one holding the first dirty offset on.
    let dirty: Vec<usize> = (0..segments.len())
        .filter(|&i| next_base(i) > first_dirty)
        .collect();
    let min_lag = view.config.min_compaction_lag_ms.max(0);
    let lag_bound = (min_lag > 0)
        .then(|| {
            dirty
                .iter()
                .find(|&&i| segments[i].largest_timestamp > now_ms.saturating_sub(min_lag))
                .map(|&i| segments[i].base_offset)
        })
        .flatten();
    let uncleanable = [
        Some(high_watermark),
        Some(view.active_base_offset),
        lag_bound,
    ]
    .into_iter()
    .flatten()
    .min()
    .unwrap_or(view.active_base_offset)
    .max(first_dirty);
    // Rounded down to the start of the segment holding it (Kafka's `calculateCleanableBytes`).
    let first_uncleanable = segment_base_at(segments, view.active_base_offset, uncleanable);
    let overlapping = |from: i64, to: i64| -> u64 {
        (0..segments.len())
            .filter(|&i| segments[i].base_offset < to && next_base(i) > from)
            .map(|i| segments[i].size)
            .sum()
    };
    let clean_bytes = overlapping(i64::MIN, first_dirty);
    let cleanable_bytes = overlapping(first_dirty.min(first_uncleanable), first_uncleanable);
    let max_lag = view.config.max_compaction_lag_ms.max(0);
    let earliest = dirty
        .iter()
        .filter_map(|&i| first_batch_timestamp(&segments[i]))
        .filter(|t| *t > 0)
        .min();
    let clean_until = now_ms.saturating_sub(max_lag);
    let compaction_delay_ms = match earliest {
        Some(t) if t < clean_until => clean_until - t,
        _ => 0,
    };
    LogToClean {
        first_dirty_offset: first_dirty,
        first_uncleanable_offset: first_uncleanable,
        clean_bytes,
        cleanable_bytes,
        compaction_delay_ms,
        checkpoint_reset,
    }
}

/// Reads a segment file batch by batch through a window buffer.
struct BatchReader<'a> {
    file: &'a File,
    pos: u64,
    end: u64,
    buf: Vec<u8>,
    buf_start: u64,
}

impl<'a> BatchReader<'a> {
    fn new(file: &'a File, end: u64) -> Self {
        BatchReader {
            file,
            pos: 0,
            end,
            buf: Vec::new(),
            buf_start: 0,
        }
    }

    /// `len` bytes at `pos` (within `end`).
    fn bytes(&mut self, pos: u64, len: usize) -> io::Result<&[u8]> {
        let cached_end = self.buf_start + self.buf.len() as u64;
        if pos < self.buf_start || pos + len as u64 > cached_end {
            let n =
                usize::try_from((self.end - pos).min(READ_WINDOW.max(len) as u64)).unwrap_or(len);
            self.buf.resize(n, 0);
            self.file.read_exact_at(&mut self.buf, pos)?;
            self.buf_start = pos;
        }
        let at = usize::try_from(pos - self.buf_start).unwrap_or(0);
        Ok(&self.buf[at..at + len])
    }

    /// The next whole batch and its position, `None` at the end.
    fn next_batch(&mut self) -> Result<Option<(u64, &[u8])>, LogError> {
        let remaining = self.end.saturating_sub(self.pos);
        if remaining < BATCH_HEADER_LEN as u64 {
            return Ok(None);
        }
        let pos = self.pos;
        let mut raw = [0u8; BATCH_HEADER_LEN];
        raw.copy_from_slice(self.bytes(pos, BATCH_HEADER_LEN)?);
        let header = BatchHeader::new(raw)?;
        let available = usize::try_from(remaining).unwrap_or(usize::MAX);
        let size = check_stored_header(&header, available, usize::MAX)?;
        self.pos += size as u64;
        Ok(Some((pos, self.bytes(pos, size)?)))
    }
}

/// One record of a batch being cleaned.
struct CleanRecord {
    offset: i64,
    timestamp: i64,
    /// The key's bytes in the batch body, `None` for a null key.
    key: Option<std::ops::Range<usize>>,
    has_value: bool,
    /// From the key length to the record's end: key, value and headers as stored.
    tail: std::ops::Range<usize>,
}

/// The records of one stored batch, with its body decompressed.
fn records_of(batch: &[u8]) -> Result<(Vec<u8>, Vec<CleanRecord>), LogError> {
    let header = BatchHeader::new(batch)?;
    let codec = header.compression();
    let body = if codec == 0 {
        batch[BATCH_HEADER_LEN..].to_vec()
    } else {
        decompress(codec, &batch[BATCH_HEADER_LEN..])?.to_vec()
    };
    let base_offset = header.base_offset();
    let base_timestamp = header.base_timestamp();
    let mut records = Vec::new();
    let mut malformed = false;
    walk_records(&body, header.records_count(), |_, r| {
        let Some(tail) = r.tail.clone() else {
            malformed = true;
            return;
        };
        let key = if r.key_len < 0 {
            None
        } else {
            let mut at = tail.start;
            match read_zigzag(&body, &mut at, MAX_VARINT_BYTES) {
                Ok(_) => usize::try_from(r.key_len)
                    .ok()
                    .and_then(|len| at.checked_add(len))
                    .filter(|end| *end <= tail.end)
                    .map(|end| at..end),
                Err(_) => {
                    malformed = true;
                    None
                }
            }
        };
        records.push(CleanRecord {
            offset: base_offset.saturating_add(i64::from(r.offset_delta)),
            timestamp: base_timestamp.saturating_add(r.timestamp_delta),
            key,
            has_value: r.value_len >= 0,
            tail,
        });
    })?;
    if malformed {
        return Err(LogError::CorruptMessage(format!(
            "stored batch at offset {base_offset} has a malformed record"
        )));
    }
    Ok((body, records))
}

/// Whether a batch's records were aborted (a transactional batch of an aborted transaction).
fn aborted<B: AsRef<[u8]>>(header: &BatchHeader<B>, ranges: &AbortedRanges) -> bool {
    header.is_transactional() && ranges.is_aborted(header.producer_id(), header.base_offset())
}

/// Kafka's `buildOffsetMap`: puts the keys of the dirty section `[from, to)` of `segments`
/// into `map` and returns the offset below which the map covers the log (`to`, or the end of
/// the batch that filled the map).
pub fn build_offset_map(
    segments: &[SegmentView],
    from: i64,
    to: i64,
    aborted_ranges: &AbortedRanges,
    map: &mut OffsetMap,
) -> Result<i64, LogError> {
    for seg in segments {
        if seg.base_offset >= to || seg.next_offset <= from {
            continue;
        }
        let mut reader = BatchReader::new(&seg.file, seg.size);
        while let Some((_, batch)) = reader.next_batch()? {
            let header = BatchHeader::new(batch)?;
            if header.last_offset() < from {
                continue;
            }
            if header.base_offset() >= to {
                break;
            }
            if header.is_control()
                || aborted(&header, aborted_ranges)
                || header.records_count() == 0
            {
                continue;
            }
            let (body, records) = records_of(batch)?;
            for r in &records {
                if let Some(key) = &r.key {
                    map.put(&body[key.clone()], r.offset);
                }
            }
            if map.is_full() {
                return Ok(header.last_offset().saturating_add(1).min(to));
            }
        }
    }
    Ok(to)
}

/// Kafka's `groupSegmentsBySize`: the segments below `end_offset`, in runs of adjacent ones
/// whose data fits in `max_size` bytes and whose indexes fit in `max_index_size` bytes each,
/// with offsets a relative index entry can hold. Returns index ranges into `segments`.
pub fn group_segments(
    segments: &[SegmentView],
    end_offset: i64,
    max_size: u64,
    max_index_size: u64,
) -> Vec<std::ops::Range<usize>> {
    let count = segments
        .iter()
        .take_while(|s| s.base_offset < end_offset)
        .count();
    let mut groups = Vec::new();
    let mut i = 0;
    while i < count {
        let first = &segments[i];
        let (mut size, (mut index, mut time_index)) = (first.size, first.index_bytes);
        let mut j = i + 1;
        while j < count {
            let next = &segments[j];
            let fits = size + next.size <= max_size
                && index + next.index_bytes.0 <= max_index_size
                && time_index + next.index_bytes.1 <= max_index_size
                && (next.size == 0
                    || next.next_offset.saturating_sub(first.base_offset) <= i64::from(i32::MAX));
            if !fits {
                break;
            }
            size += next.size;
            index += next.index_bytes.0;
            time_index += next.index_bytes.1;
            j += 1;
        }
        groups.push(i..j);
        i = j;
    }
    groups
}

/// What the cleaning of one batch produced.
#[derive(Debug, PartialEq, Eq)]
pub enum BatchOutcome {
    /// Every record stays and the header needs no change: the batch is copied as it is (with
    /// the delete horizon of the tombstones it holds, if any).
    Keep { tombstone_horizon: Option<i64> },
    /// A new batch with the records kept (same offsets), and the delete horizon it carries when
    /// it holds tombstones.
    Rebuilt {
        bytes: Vec<u8>,
        tombstone_horizon: Option<i64>,
    },
    /// Nothing stays and the batch goes.
    Drop,
}

/// The rules one cleaning applies to every batch (Kafka's `RecordFilter` of `cleanInto`).
pub struct CleanRules<'a> {
    pub map: &'a OffsetMap,
    /// Offsets at or above this were not in the map's section and all stay.
    pub end_offset: i64,
    pub now_ms: i64,
    pub delete_retention_ms: i64,
    /// Producer id -> last offset it wrote (see [`LogView::producer_last_offsets`]).
    pub producer_last_offsets: &'a HashMap<i64, i64>,
    /// The log's aborted transactions: their batches below `end_offset` go.
    pub aborted: &'a AbortedRanges,
}

/// The delete horizon of a stored batch (KIP-534), if it has one.
fn delete_horizon<B: AsRef<[u8]>>(header: &BatchHeader<B>) -> Option<i64> {
    (header.attributes() & DELETE_HORIZON_FLAG != 0).then(|| header.base_timestamp())
}

/// Kafka's `checkBatchRetention` + `shouldRetainRecord` + `filterTo` for one stored batch.
pub fn clean_batch(
    batch: &[u8],
    rules: &CleanRules<'_>,
    txns: &mut TxnTracker,
) -> Result<BatchOutcome, LogError> {
    let header = BatchHeader::new(batch)?;
    let horizon = delete_horizon(&header);
    let last_of_producer = |header: &BatchHeader<&[u8]>| {
        let producer_id = header.producer_id();
        producer_id >= 0
            && rules.producer_last_offsets.get(&producer_id) == Some(&header.last_offset())
    };
    if header.is_control() {
        let producer_id = header.producer_id();
        let had_records = txns.ended(producer_id);
        // The producer's last data batch, kept (empty if need be) for its sequence, lies before
        // this marker: it may be this transaction's, which without its marker would read as
        // open again when the producer state is rebuilt from the log.
        let last_batch_before = rules
            .producer_last_offsets
            .get(&producer_id)
            .is_some_and(|last| *last < header.base_offset());
        if had_records || last_batch_before || header.last_offset() >= rules.end_offset {
            return Ok(BatchOutcome::Keep {
                tombstone_horizon: None,
            });
        }
        return Ok(match horizon {
            Some(h) if rules.now_ms >= h => BatchOutcome::Drop,
            Some(h) => BatchOutcome::Keep {
                tombstone_horizon: Some(h),
            },
            None => {
                let h = rules.now_ms.saturating_add(rules.delete_retention_ms);
                let (body, records) = records_of(batch)?;
                let all: Vec<&CleanRecord> = records.iter().collect();
                BatchOutcome::Rebuilt {
                    bytes: rebuild(&header, &body, &all, Some(h))?,
                    tombstone_horizon: Some(h),
                }
            }
        });
    }
    if header.last_offset() < rules.end_offset && aborted(&header, rules.aborted) {
        txns.saw_records(header.producer_id(), false);
        return Ok(match (last_of_producer(&header), header.records_count()) {
            (true, 0) => BatchOutcome::Keep {
                tombstone_horizon: None,
            },
            (true, _) => BatchOutcome::Rebuilt {
                bytes: empty_batch(&header),
                tombstone_horizon: None,
            },
            (false, _) => BatchOutcome::Drop,
        });
    }
    let (body, records) = records_of(batch)?;
    let keep = |r: &CleanRecord| -> bool {
        if r.offset >= rules.end_offset {
            return true;
        }
        let Some(key) = &r.key else {
            // A keyless record cannot be compacted; Kafka's cleaner removes it.
            return false;
        };
        let latest = rules
            .map
            .get(&body[key.clone()])
            .is_none_or(|o| r.offset >= o);
        let retain_tombstone = horizon.is_none_or(|h| rules.now_ms < h);
        latest && (r.has_value || retain_tombstone)
    };
    let kept: Vec<&CleanRecord> = records.iter().filter(|r| keep(r)).collect();
    if header.is_transactional() {
        txns.saw_records(header.producer_id(), !kept.is_empty());
    }
    let has_tombstones = kept.iter().any(|r| !r.has_value);
    if kept.is_empty() {
        return Ok(match (last_of_producer(&header), records.is_empty()) {
            (true, true) => BatchOutcome::Keep {
                tombstone_horizon: None,
            },
            (true, false) => BatchOutcome::Rebuilt {
                bytes: empty_batch(&header),
                tombstone_horizon: None,
            },
            (false, _) => BatchOutcome::Drop,
        });
    }
    let needs_horizon = has_tombstones && horizon.is_none();
    if kept.len() == records.len() && !needs_horizon {
        return Ok(BatchOutcome::Keep {
            tombstone_horizon: horizon.filter(|_| has_tombstones),
        });
    }
    let new_horizon = if needs_horizon {
        Some(rules.now_ms.saturating_add(rules.delete_retention_ms))
    } else {
        horizon
    };
    let bytes = rebuild(&header, &body, &kept, new_horizon)?;
    Ok(BatchOutcome::Rebuilt {
        bytes,
        tombstone_horizon: new_horizon.filter(|_| has_tombstones),
    })
}

/// Writes the 61 header bytes of a v2 batch (CRC left 0).
#[allow(clippy::too_many_arguments)]
fn put_header<B: AsRef<[u8]>>(
    out: &mut Vec<u8>,
    original: &BatchHeader<B>,
    batch_length: i32,
    attributes: i16,
    base_timestamp: i64,
    max_timestamp: i64,
    records_count: i32,
) {
    out.extend_from_slice(&original.base_offset().to_be_bytes());
    out.extend_from_slice(&batch_length.to_be_bytes());
    out.extend_from_slice(&original.partition_leader_epoch().to_be_bytes());
    out.push(MAGIC_V2 as u8);
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(&attributes.to_be_bytes());
    out.extend_from_slice(&original.last_offset_delta().to_be_bytes());
    out.extend_from_slice(&base_timestamp.to_be_bytes());
    out.extend_from_slice(&max_timestamp.to_be_bytes());
    out.extend_from_slice(&original.producer_id().to_be_bytes());
    out.extend_from_slice(&original.producer_epoch().to_be_bytes());
    out.extend_from_slice(&original.base_sequence().to_be_bytes());
    out.extend_from_slice(&records_count.to_be_bytes());
}

fn seal_crc(out: &mut [u8]) {
    let crc = batch_crc(out);
    out[17..21].copy_from_slice(&crc.to_be_bytes());
}

/// Kafka's `DefaultRecordBatch.writeEmptyHeader`: the batch's offsets, producer fields and leader
/// epoch with no record, uncompressed, base timestamp -1, max timestamp kept.
fn empty_batch<B: AsRef<[u8]>>(original: &BatchHeader<B>) -> Vec<u8> {
    let mut out = Vec::with_capacity(BATCH_HEADER_LEN);
    let attributes = original.attributes() & (TIMESTAMP_TYPE_FLAG | TRANSACTIONAL_FLAG);
    let length = (BATCH_HEADER_LEN - LOG_OVERHEAD) as i32;
    put_header(
        &mut out,
        original,
        length,
        attributes,
        -1,
        original.max_timestamp(),
        0,
    );
    seal_crc(&mut out);
    out
}

/// Kafka's `buildRetainedRecordsInto`: a batch of `kept` records (from `body`, the original's
/// decompressed records) with the original's base offset, `lastOffsetDelta`, leader epoch,
/// producer fields, timestamp type and codec; the base timestamp is `horizon` (with the
/// delete-horizon flag) or the first kept record's timestamp, and each record keeps its offset
/// and timestamp.
fn rebuild<B: AsRef<[u8]>>(
    original: &BatchHeader<B>,
    body: &[u8],
    kept: &[&CleanRecord],
    horizon: Option<i64>,
) -> Result<Vec<u8>, LogError> {
    let base_offset = original.base_offset();
    let base_timestamp = horizon.unwrap_or_else(|| kept.first().map_or(-1, |r| r.timestamp));
    let mut raw = Vec::with_capacity(body.len());
    let mut record = Vec::new();
    for r in kept {
        record.clear();
        record.push(0); // attributes: unused in v2
        write_varlong(&mut record, r.timestamp.wrapping_sub(base_timestamp));
        write_varlong(&mut record, r.offset - base_offset);
        record.extend_from_slice(&body[r.tail.clone()]);
        write_varlong(&mut raw, record.len() as i64);
        raw.extend_from_slice(&record);
    }
    let codec = original.compression();
    let compressed = if codec == 0 {
        raw
    } else {
        TopicCompression::default().compress(codec, &raw)?
    };
    let size = BATCH_HEADER_LEN + compressed.len();
    let batch_length = i32::try_from(size - LOG_OVERHEAD).map_err(|_| {
        LogError::CorruptMessage("a cleaned batch does not fit a batch length".into())
    })?;
    let max_timestamp = if original.is_log_append_time() {
        original.max_timestamp()
    } else {
        kept.iter().map(|r| r.timestamp).max().unwrap_or(-1)
    };
    let mut attributes = original.attributes()
        & (COMPRESSION_MASK | TIMESTAMP_TYPE_FLAG | TRANSACTIONAL_FLAG | CONTROL_FLAG);
    if horizon.is_some() {
        attributes |= DELETE_HORIZON_FLAG;
    }
    let count = i32::try_from(kept.len()).unwrap_or(i32::MAX);
    let mut out = Vec::with_capacity(size);
    put_header(
        &mut out,
        original,
        batch_length,
        attributes,
        base_timestamp,
        max_timestamp,
        count,
    );
    out.extend_from_slice(&compressed);
    seal_crc(&mut out);
    Ok(out)
}

/// What cleaning one group of segments produced.
#[derive(Debug, Default)]
pub struct GroupStats {
    pub batches_read: u64,
    pub bytes_read: u64,
    pub bytes_written: u64,
    /// The earliest delete horizon of a batch written with tombstones, if any.
    pub tombstone_horizon: Option<i64>,
    /// The markers removed, as `(producer id, offset)`: their aborted transactions leave the
    /// aborted transaction index with them.
    pub removed_markers: Vec<(i64, i64)>,
}

/// `path` with `.suffix` appended (`x.log` -> `x.log.cleaned`).
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{suffix}"));
    PathBuf::from(name)
}

/// Kafka's `cleanSegments`: copies what `rules` keep of `group` (adjacent sealed segments) into
/// a new segment based at the group's first base offset, written as `.cleaned` files in `dir`,
/// indexed every `index_interval` bytes, fsynced, and dated like the group's last segment.
/// The caller swaps it in ([`swap_in`]) or deletes it ([`discard`]). `txns` carries the
/// transactions read so far in this cleaning (groups are cleaned in offset order).
pub fn clean_group(
    dir: &Path,
    group: &[SegmentView],
    rules: &CleanRules<'_>,
    txns: &mut TxnTracker,
    index_interval: u32,
) -> Result<(Segment, GroupStats), LogError> {
    let Some(first) = group.first() else {
        return Err(LogError::Io(io::Error::other("an empty group of segments")));
    };
    let mut cleaned =
        Segment::create_with_suffix(dir, first.base_offset, index_interval, CLEANED_SUFFIX)?;
    let result = copy_group(group, rules, txns, &mut cleaned);
    match result {
        Ok(stats) => {
            if let Some(modified) = group.last().and_then(|s| s.modified_ms) {
                let when = std::time::UNIX_EPOCH
                    + std::time::Duration::from_millis(u64::try_from(modified).unwrap_or(0));
                // The date retention measures a segment without timestamps by (Kafka's
                // `cleaned.setLastModified`); failing to set it only delays such retention.
                let _ = cleaned.log_file().set_modified(when);
            }
            Ok((cleaned, stats))
        }
        Err(e) => {
            let _ = discard(cleaned);
            Err(e)
        }
    }
}

fn copy_group(
    group: &[SegmentView],
    rules: &CleanRules<'_>,
    txns: &mut TxnTracker,
    cleaned: &mut Segment,
) -> Result<GroupStats, LogError> {
    let mut stats = GroupStats::default();
    let mut out: Vec<u8> = Vec::new();
    let mut infos: Vec<BatchInfo> = Vec::new();
    let flush = |out: &mut Vec<u8>, infos: &mut Vec<BatchInfo>, seg: &mut Segment| {
        let r = if out.is_empty() {
            Ok(())
        } else {
            seg.append(out, infos)
        };
        out.clear();
        infos.clear();
        r
    };
    for seg in group {
        let mut reader = BatchReader::new(&seg.file, seg.size);
        while let Some((_, batch)) = reader.next_batch()? {
            stats.batches_read += 1;
            stats.bytes_read += batch.len() as u64;
            let marker = {
                let h = BatchHeader::new(batch)?;
                h.is_control().then(|| (h.producer_id(), h.last_offset()))
            };
            let (written, horizon): (std::borrow::Cow<'_, [u8]>, _) =
                match clean_batch(batch, rules, txns)? {
                    BatchOutcome::Keep { tombstone_horizon } => {
                        (std::borrow::Cow::Borrowed(batch), tombstone_horizon)
                    }
                    BatchOutcome::Drop => {
                        if let Some(m) = marker {
                            stats.removed_markers.push(m);
                        }
                        continue;
                    }
                    BatchOutcome::Rebuilt {
                        bytes,
                        tombstone_horizon,
                    } => (std::borrow::Cow::Owned(bytes), tombstone_horizon),
                };
            // Only a horizon still ahead is worth a cleaning of its own: tombstones past theirs
            // here sit above the map's section and go with the next dirty cleaning.
            if let Some(h) = horizon.filter(|h| *h > rules.now_ms) {
                stats.tombstone_horizon = Some(stats.tombstone_horizon.map_or(h, |e| e.min(h)));
            }
            let header = BatchHeader::new(&written[..])?;
            let info = BatchInfo::from_header(&header, out.len(), written.len());
            out.extend_from_slice(&written);
            infos.push(info);
            stats.bytes_written += written.len() as u64;
            if out.len() >= WRITE_CHUNK {
                flush(&mut out, &mut infos, cleaned)?;
            }
        }
    }
    flush(&mut out, &mut infos, cleaned)?;
    cleaned.finish()?;
    cleaned.sync()?;
    Ok(stats)
}

/// Deletes a cleaned segment that will not be swapped in.
pub fn discard(cleaned: Segment) -> io::Result<()> {
    cleaned.delete()
}

fn rename(from: &Path, to: &Path) -> io::Result<()> {
    fs::rename(from, to).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("renaming {} to {}: {e}", from.display(), to.display()),
        )
    })
}

fn remove_if_present(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Swaps `cleaned` (its files `.cleaned`, fsynced) in for the segments `old` of `dir`, in the
/// crash-safe order described in the module doc; on success `cleaned` names its final files.
/// Runs under the log's lock (renames and directory fsyncs only).
pub fn swap_in(dir: &Path, cleaned: &mut Segment, old: &[Segment]) -> io::Result<()> {
    let base = cleaned.base_offset();
    let final_log = segment_file(dir, base, LOG_SUFFIX);
    let final_index = segment_file(dir, base, INDEX_SUFFIX);
    let final_time = segment_file(dir, base, TIME_INDEX_SUFFIX);
    let [index, time] = cleaned.index_paths().map(Path::to_path_buf);
    rename(&index, &with_suffix(&final_index, SWAP_SUFFIX))?;
    rename(&time, &with_suffix(&final_time, SWAP_SUFFIX))?;
    for seg in old {
        let [i, t] = seg.index_paths();
        for path in [seg.log_path(), i, t] {
            match fs::rename(path, with_suffix(path, DELETED_SUFFIX)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
    }
    sync_dir(dir)?;
    // The commit point: from here on recovery completes the swap instead of undoing it.
    rename(cleaned.log_path(), &with_suffix(&final_log, SWAP_SUFFIX))?;
    sync_dir(dir)?;
    #[cfg(test)]
    crash_hook::after_commit(dir)?;
    for path in [&final_log, &final_index, &final_time] {
        rename(&with_suffix(path, SWAP_SUFFIX), path)?;
    }
    cleaned.rename_files(final_log, final_index, final_time);
    sync_dir(dir)?;
    for seg in old {
        let [i, t] = seg.index_paths();
        for path in [seg.log_path(), i, t] {
            remove_if_present(&with_suffix(path, DELETED_SUFFIX))?;
        }
    }
    sync_dir(dir)
}

/// Test-only: makes a swap stop right after its commit point, as a crash would.
#[cfg(test)]
pub(crate) mod crash_hook {
    use std::path::{Path, PathBuf};
    use std::sync::Mutex;

    static CRASH_AFTER_COMMIT: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

    pub(crate) fn crash_after_commit(dir: &Path) {
        CRASH_AFTER_COMMIT
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(dir.to_path_buf());
    }

    pub(super) fn after_commit(dir: &Path) -> std::io::Result<()> {
        let list = CRASH_AFTER_COMMIT.lock().unwrap_or_else(|e| e.into_inner());
        if list.iter().any(|d| d == dir) {
            return Err(std::io::Error::other(
                "simulated crash after the swap commit",
            ));
        }
        Ok(())
    }
}

/// Completes or undoes a cleaner swap a crash interrupted in `dir` (see the module doc): with a
/// `*.log.cleaned` file left the swap had not committed, so the `.deleted` files get their names
/// back and the new files go; otherwise the `.swap` files take their final names and the
/// `.deleted` files go. Called by recovery before the segments are listed.
pub fn finish_interrupted_swap(dir: &Path) -> io::Result<()> {
    let mut cleaned = Vec::new();
    let mut swapped = Vec::new();
    let mut deleted = Vec::new();
    let mut uncommitted = false;
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.ends_with(&format!(".{CLEANED_SUFFIX}")) {
            uncommitted |= name.ends_with(&format!(".{LOG_SUFFIX}.{CLEANED_SUFFIX}"));
            cleaned.push(path);
        } else if name.ends_with(&format!(".{SWAP_SUFFIX}")) {
            swapped.push(path);
        } else if name.ends_with(&format!(".{DELETED_SUFFIX}")) {
            deleted.push(path);
        }
    }
    if cleaned.is_empty() && swapped.is_empty() && deleted.is_empty() {
        return Ok(());
    }
    let strip = |path: &Path| path.with_extension("");
    if uncommitted {
        tracing::warn!(
            "{}: undoing a log cleaner swap that a crash interrupted before it committed",
            dir.display()
        );
        for path in &deleted {
            rename(path, &strip(path))?;
        }
        for path in cleaned.iter().chain(&swapped) {
            remove_if_present(path)?;
        }
    } else {
        if !swapped.is_empty() {
            tracing::warn!(
                "{}: completing a log cleaner swap that a crash interrupted",
                dir.display()
            );
        }
        for path in &swapped {
            rename(path, &strip(path))?;
        }
        for path in cleaned.iter().chain(&deleted) {
            remove_if_present(path)?;
        }
    }
    sync_dir(dir)
}

/// One cleaning asked of a log.
#[derive(Clone, Copy, Debug)]
pub struct CleanRequest {
    /// The first dirty offset the checkpoint records for this log, if any.
    pub checkpoint: Option<i64>,
    /// The partition's last stable offset (at most its high watermark): nothing at or above it
    /// is cleaned, so every transaction in the cleaned section is decided (Kafka's
    /// `firstUncleanableDirtyOffset` starts from the last stable offset).
    pub high_watermark: i64,
    pub now_ms: i64,
    /// Keys the offset map may hold ([`OffsetMap::capacity_for`]).
    pub map_capacity: usize,
    /// Clean even below the dirty ratio: a tombstone's delete horizon has passed.
    pub horizon_due: bool,
}

/// What a cleaning did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CleanOutcome {
    /// The new first dirty offset to checkpoint, when the log was cleaned (or its checkpoint
    /// had to be reset to the log start).
    pub checkpoint: Option<i64>,
    /// Whether segments were rewritten.
    pub cleaned: bool,
    /// The earliest delete horizon of the tombstones still in the log after this cleaning.
    pub tombstone_horizon: Option<i64>,
    /// The dirty ratio seen, for the log line.
    pub ratio: f64,
    pub bytes_read: u64,
    pub bytes_written: u64,
}

/// The max timestamp of a segment's first batch (`max.compaction.lag.ms` counts from it).
fn first_batch_timestamp(seg: &SegmentView) -> Option<i64> {
    if seg.size < BATCH_HEADER_LEN as u64 {
        return None;
    }
    let mut raw = [0u8; BATCH_HEADER_LEN];
    seg.file.read_exact_at(&mut raw, 0).ok()?;
    BatchHeader::new(raw).ok().map(|h| h.max_timestamp())
}

/// Kafka's `Cleaner.clean` for one log, when it is due: builds the offset map over the dirty
/// section, cleans the groups of segments below its end one by one and hands each cleaned
/// segment, with the transaction markers the cleaning removed from it (`(producer id, offset)`),
/// to `swap` (run under the log's lock; it returns false when the log changed under the
/// cleaning, which then stops without moving the checkpoint).
pub fn clean_log(
    view: &LogView,
    request: &CleanRequest,
    mut swap: impl FnMut(&[SegmentView], Segment, &[(i64, i64)]) -> Result<bool, LogError>,
) -> Result<CleanOutcome, LogError> {
    let to_clean = log_to_clean(
        view,
        request.checkpoint,
        request.high_watermark,
        request.now_ms,
        first_batch_timestamp,
    );
    let mut outcome = CleanOutcome {
        checkpoint: to_clean
            .checkpoint_reset
            .then_some(to_clean.first_dirty_offset),
        ratio: to_clean.cleanable_ratio(),
        ..CleanOutcome::default()
    };
    let has_data = to_clean.clean_bytes + to_clean.cleanable_bytes > 0;
    if !(to_clean.is_due(view.config.min_cleanable_dirty_ratio)
        || (request.horizon_due && has_data))
    {
        return Ok(outcome);
    }
    // A segment file shorter than the view says was cut by a truncation since: the log changed
    // under the cleaning, which is given up until the next round.
    let changed =
        |e: &LogError| matches!(e, LogError::Io(io) if io.kind() == io::ErrorKind::UnexpectedEof);
    let mut map = OffsetMap::new(request.map_capacity);
    let end_offset = match build_offset_map(
        &view.segments,
        to_clean.first_dirty_offset,
        to_clean.first_uncleanable_offset,
        &view.aborted,
        &mut map,
    ) {
        Err(e) if changed(&e) => return Ok(outcome),
        other => other?,
    };
    let rules = CleanRules {
        map: &map,
        end_offset,
        now_ms: request.now_ms,
        delete_retention_ms: view.config.delete_retention_ms.max(0),
        producer_last_offsets: &view.producer_last_offsets,
        aborted: &view.aborted,
    };
    let groups = group_segments(
        &view.segments,
        end_offset,
        view.config.segment_bytes,
        view.config.segment_index_bytes,
    );
    let mut horizon: Option<i64> = None;
    let mut txns = TxnTracker::default();
    for range in groups {
        let group = &view.segments[range];
        let (cleaned, stats) = match clean_group(
            &view.dir,
            group,
            &rules,
            &mut txns,
            view.config.index_interval_bytes,
        ) {
            Err(e) if changed(&e) => return Ok(outcome),
            other => other?,
        };
        if !swap(group, cleaned, &stats.removed_markers)? {
            tracing::info!(
                "{}: the log changed under the cleaner; cleaning again later",
                view.dir.display()
            );
            return Ok(outcome);
        }
        outcome.cleaned = true;
        outcome.bytes_read += stats.bytes_read;
        outcome.bytes_written += stats.bytes_written;
        if let Some(h) = stats.tombstone_horizon {
            horizon = Some(horizon.map_or(h, |e| e.min(h)));
        }
    }
    // Tombstones above the cleaned range still wait for a cleaning of their own.
    outcome.tombstone_horizon = horizon;
    outcome.checkpoint = Some(end_offset);
    Ok(outcome)
}

/// Reads a log directory's `cleaner-offset-checkpoint` (Kafka's `OffsetCheckpointFile`: a
/// version line `0`, a count line, then `topic partition offset` lines). A missing file is
/// empty; an unreadable one is logged and treated as empty (every log is then cleaned from
/// its start, which is safe).
pub fn read_cleaner_checkpoint(log_dir: &Path) -> BTreeMap<TopicPartition, i64> {
    let path = log_dir.join(CLEANER_CHECKPOINT_FILE);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return BTreeMap::new(),
        Err(e) => {
            tracing::warn!("ignoring {}: {e}", path.display());
            return BTreeMap::new();
        }
    };
    match parse_cleaner_checkpoint(&text) {
        Ok(entries) => entries,
        Err(why) => {
            tracing::warn!("ignoring malformed {}: {why}", path.display());
            BTreeMap::new()
        }
    }
}

fn parse_cleaner_checkpoint(text: &str) -> Result<BTreeMap<TopicPartition, i64>, String> {
    let mut lines = text.lines();
    match lines.next().map(str::trim) {
        Some("0") => {}
        other => return Err(format!("unknown version {other:?}")),
    }
    let count: usize = lines
        .next()
        .and_then(|l| l.trim().parse().ok())
        .ok_or("no entry count")?;
    let mut entries = BTreeMap::new();
    for line in lines.by_ref().take(count) {
        let mut fields = line.split_whitespace();
        let (Some(topic), Some(partition), Some(offset), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(format!("malformed line {line:?}"));
        };
        let partition = partition
            .parse()
            .map_err(|_| format!("bad partition in {line:?}"))?;
        let offset = offset
            .parse()
            .map_err(|_| format!("bad offset in {line:?}"))?;
        entries.insert(
            TopicPartition {
                topic: topic.to_string(),
                partition,
            },
            offset,
        );
    }
    if entries.len() != count {
        return Err(format!(
            "{count} entries announced, {} found",
            entries.len()
        ));
    }
    Ok(entries)
}

/// Replaces a log directory's `cleaner-offset-checkpoint` atomically and durably.
pub fn write_cleaner_checkpoint(
    log_dir: &Path,
    entries: &BTreeMap<TopicPartition, i64>,
) -> io::Result<()> {
    let mut text = format!("0\n{}\n", entries.len());
    for (tp, offset) in entries {
        text.push_str(&format!("{} {} {offset}\n", tp.topic, tp.partition));
    }
    let path = log_dir.join(CLEANER_CHECKPOINT_FILE);
    let temp = with_suffix(&path, "tmp");
    {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&temp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    fs::rename(&temp, &path)?;
    sync_dir(log_dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::batch::check_stored_batch;
    use crate::log::partition_log::PartitionLog;
    use bytes::{Bytes, BytesMut};
    use kafka_protocol::records::{
        Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
    };

    /// A record batch of `(key, value)` pairs (None: null) as a producer sends it.
    #[derive(Clone)]
    struct Spec<'a> {
        records: &'a [(Option<&'a str>, Option<&'a str>)],
        timestamp: i64,
        compression: Compression,
        producer_id: i64,
        transactional: bool,
    }

    impl<'a> Spec<'a> {
        fn new(records: &'a [(Option<&'a str>, Option<&'a str>)]) -> Self {
            Spec {
                records,
                timestamp: 1_000,
                compression: Compression::None,
                producer_id: -1,
                transactional: false,
            }
        }
        fn encode(&self) -> Vec<u8> {
            let records: Vec<Record> = self
                .records
                .iter()
                .enumerate()
                .map(|(i, (k, v))| Record {
                    transactional: self.transactional,
                    control: false,
                    delete_horizon: false,
                    partition_leader_epoch: -1,
                    producer_id: self.producer_id,
                    producer_epoch: if self.producer_id >= 0 { 0 } else { -1 },
                    timestamp_type: TimestampType::Creation,
                    offset: i as i64,
                    // offset - sequence must stay constant for the encoder to keep one batch.
                    sequence: if self.producer_id >= 0 {
                        i as i32
                    } else {
                        i as i32 - 1
                    },
                    timestamp: self.timestamp + i as i64,
                    key: k.map(|k| Bytes::from(k.to_string())),
                    value: v.map(|v| Bytes::from(v.to_string())),
                    headers: Default::default(),
                })
                .collect();
            let mut buf = BytesMut::new();
            let options = RecordEncodeOptions {
                version: 2,
                compression: self.compression,
            };
            RecordBatchEncoder::encode(&mut buf, &records, &options).expect("encodes");
            buf.to_vec()
        }
    }

    fn kv<'a>(k: &'a str, v: &'a str) -> (Option<&'a str>, Option<&'a str>) {
        (Some(k), Some(v))
    }

    fn compact_config() -> LogConfig {
        LogConfig {
            segment_bytes: 120,
            index_interval_bytes: 1,
            retention_ms: None,
            cleanup_policy_delete: false,
            compact: true,
            min_cleanable_dirty_ratio: 0.01,
            delete_retention_ms: 1_000,
            ..LogConfig::default()
        }
    }

    fn produce(log: &mut PartitionLog, spec: &Spec<'_>) -> i64 {
        let bytes = spec.encode();
        log.append(&bytes, 5, 0).expect("append").base_offset
    }

    /// Every record of the log as (offset, key, value), reading from every offset to check
    /// that no read in a gap comes back empty.
    fn records(log: &PartitionLog) -> Vec<(i64, Option<String>, Option<String>)> {
        let text = |b: &[u8], r: &Option<std::ops::Range<usize>>| {
            r.clone()
                .map(|r| String::from_utf8_lossy(&b[r]).into_owned())
        };
        let mut out = Vec::new();
        let mut next = log.log_start_offset();
        while next < log.log_end_offset() {
            let slice = log.read(next, 1).expect("read");
            assert!(!slice.records.is_empty(), "an empty read at {next}");
            let mut pos = 0;
            while pos < slice.records.len() {
                let info = check_stored_batch(&slice.records[pos..], pos, usize::MAX)
                    .expect("a stored batch with its CRC");
                let batch = &slice.records[pos..pos + info.size];
                let (body, recs) = records_of(batch).expect("records");
                for r in recs.iter().filter(|r| r.offset >= next) {
                    let value = r.has_value.then(|| {
                        let mut at = r.tail.start;
                        let _ = read_zigzag(&body, &mut at, 5);
                        if let Some(k) = &r.key {
                            at = k.end;
                        }
                        let mut v = at;
                        let len = read_zigzag(&body, &mut v, 5).expect("value length");
                        String::from_utf8_lossy(&body[v..v + len as usize]).into_owned()
                    });
                    out.push((r.offset, text(&body, &r.key), value));
                }
                next = info.last_offset() + 1;
                pos += info.size;
            }
        }
        out
    }

    fn latest(log: &PartitionLog) -> BTreeMap<String, (i64, Option<String>)> {
        let mut map = BTreeMap::new();
        for (offset, key, value) in records(log) {
            map.insert(key.expect("keyed"), (offset, value));
        }
        map
    }

    fn clean(
        log: &mut PartitionLog,
        checkpoint: Option<i64>,
        now: i64,
        horizon_due: bool,
    ) -> CleanOutcome {
        let view = log.cleaner_view();
        let request = CleanRequest {
            checkpoint,
            high_watermark: i64::MAX,
            now_ms: now,
            map_capacity: 10_000,
            horizon_due,
        };
        clean_log(&view, &request, |replaced, cleaned, markers| {
            log.replace_segments(replaced, cleaned, markers, view.generation)
        })
        .expect("cleaning")
    }

    /// Writes 3 keys, 4 times each, one batch per segment, plus a gzip batch; the active
    /// segment holds the last batch.
    fn updated_log(dir: &Path) -> PartitionLog {
        let mut log = PartitionLog::open(dir, compact_config()).expect("open");
        for round in 0..4 {
            for key in ["a", "b", "c"] {
                let value = format!("{key}{round}");
                produce(&mut log, &Spec::new(&[kv(key, &value)]));
            }
        }
        let zipped = [kv("a", "a4"), kv("d", "d0")];
        produce(
            &mut log,
            &Spec {
                compression: Compression::Gzip,
                ..Spec::new(&zipped)
            },
        );
        produce(&mut log, &Spec::new(&[kv("e", "e0")]));
        log
    }

    #[test]
    fn offset_map_keeps_the_latest_offset_of_each_key_up_to_its_capacity() {
        let mut map = OffsetMap::new(2);
        map.put(b"a", 3);
        map.put(b"a", 1);
        map.put(b"b", 7);
        assert_eq!(map.get(b"a"), Some(3));
        assert_eq!(map.get(b"b"), Some(7));
        assert_eq!(map.get(b"c"), None);
        assert!(map.is_full());
        // Kafka's slot count: 24 bytes a slot, shared by the threads, times the load factor.
        assert_eq!(OffsetMap::capacity_for(24_000, 2, 0.9), 450);
        assert_eq!(OffsetMap::capacity_for(0, 1, 0.9), 1);
    }

    #[test]
    fn cleaning_keeps_the_last_record_of_each_key_at_its_offset() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = updated_log(dir.path());
        let before = latest(&log);
        let segments_before = log.segment_count();
        let outcome = clean(&mut log, None, 10_000, false);
        assert!(outcome.cleaned, "{outcome:?}");
        // Everything below the active segment was clean after this.
        assert_eq!(
            outcome.checkpoint,
            Some(log.cleaner_view().active_base_offset)
        );
        let after = records(&log);
        let keys: Vec<_> = after
            .iter()
            .map(|(o, k, _)| (*o, k.clone().unwrap()))
            .collect();
        // One record per key, the last one, at its original offset; the active segment's
        // record stays whatever it is.
        assert_eq!(
            keys,
            vec![
                (10, "b".to_string()),
                (11, "c".to_string()),
                (12, "a".to_string()),
                (13, "d".to_string()),
                (14, "e".to_string())
            ]
        );
        assert_eq!(latest(&log), before);
        // The gzip batch lost a record and was rebuilt with its codec, offsets kept.
        let slice = log.read(12, 1).expect("read");
        let h = BatchHeader::new(&slice.records[..]).expect("header");
        assert_eq!(
            (h.base_offset(), h.last_offset(), h.records_count()),
            (12, 13, 2)
        );
        assert_eq!(h.compression(), 1);
        // A second cleaning with nothing dirty is not due.
        let again = clean(&mut log, outcome.checkpoint, 10_000, false);
        assert!(!again.cleaned);
        // A later cleaning groups the small (here empty) cleaned segments into one.
        let kept = records(&log);
        let regrouped = clean(&mut log, outcome.checkpoint, 10_000, true);
        assert!(regrouped.cleaned);
        assert!(
            log.segment_count() < segments_before,
            "small segments are grouped"
        );
        assert_eq!(records(&log), kept);

        // Reopened, the log has the same records and reads in its gaps still find the next one.
        let offsets = records(&log);
        drop(log);
        let log = PartitionLog::open(dir.path(), compact_config()).expect("reopen");
        assert_eq!(records(&log), offsets);
        for offset in 0..log.log_end_offset() {
            let slice = log.read(offset, 1).expect("read");
            assert!(!slice.records.is_empty(), "an empty read at {offset}");
        }
    }

    #[test]
    fn tombstones_go_once_their_delete_horizon_has_passed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = PartitionLog::open(dir.path(), compact_config()).expect("open");
        produce(&mut log, &Spec::new(&[kv("a", "1"), kv("b", "1")]));
        let tombstone = produce(&mut log, &Spec::new(&[(Some("a"), None)]));
        produce(&mut log, &Spec::new(&[kv("c", "1")]));
        let now = 50_000;
        let first = clean(&mut log, None, now, false);
        assert!(first.cleaned);
        // The tombstone stays for delete.retention.ms, its batch stamped with the horizon.
        assert_eq!(first.tombstone_horizon, Some(now + 1_000));
        let kept = latest(&log);
        assert_eq!(kept.get("a"), Some(&(tombstone, None)));
        let slice = log.read(tombstone, 1).expect("read");
        let h = BatchHeader::new(&slice.records[..]).expect("header");
        assert_ne!(h.attributes() & DELETE_HORIZON_FLAG, 0);
        assert_eq!(h.base_timestamp(), now + 1_000);
        // The record keeps its own timestamp (1000), rebased on the horizon.
        let (_, recs) = records_of(&slice.records[..h.total_size().unwrap()]).expect("records");
        assert_eq!(recs[0].timestamp, 1_000);

        let early = clean(&mut log, first.checkpoint, now + 999, true);
        assert!(latest(&log).contains_key("a"), "{early:?}");
        let due = clean(
            &mut log,
            early.checkpoint.or(first.checkpoint),
            now + 1_000,
            true,
        );
        assert!(due.cleaned);
        assert_eq!(due.tombstone_horizon, None);
        let keys: Vec<String> = latest(&log).into_keys().collect();
        assert_eq!(keys, vec!["b".to_string(), "c".to_string()]);
    }

    #[test]
    fn the_dirty_ratio_decides_when_a_log_is_due() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = updated_log(dir.path());
        let fbt = |_: &SegmentView| None;
        let view = log.cleaner_view();
        let fresh = log_to_clean(&view, None, i64::MAX, 0, fbt);
        assert_eq!(fresh.clean_bytes, 0);
        assert_eq!(fresh.cleanable_ratio(), 1.0);
        assert_eq!(fresh.first_uncleanable_offset, view.active_base_offset);
        let outcome = clean(&mut log, None, 0, false);
        for key in ["f", "g"] {
            produce(&mut log, &Spec::new(&[kv(key, "x")]));
        }
        let view = log.cleaner_view();
        let later = log_to_clean(&view, outcome.checkpoint, i64::MAX, 0, fbt);
        assert!(
            later.cleanable_bytes > 0 && later.clean_bytes > 0,
            "{later:?}"
        );
        let ratio = later.cleanable_ratio();
        assert!(later.is_due(ratio - 0.001));
        assert!(!later.is_due(ratio));
        // The high watermark bounds the cleanable section, down to its segment's start.
        let capped = log_to_clean(&view, outcome.checkpoint, 0, 0, fbt);
        assert_eq!(capped.cleanable_bytes, 0);
        // A checkpoint beyond the log end (a truncation) starts over from the log start.
        let reset = log_to_clean(&view, Some(1_000), i64::MAX, 0, fbt);
        assert!(reset.checkpoint_reset);
        assert_eq!(reset.first_dirty_offset, 0);
    }

    #[test]
    fn compaction_lags_hold_back_young_segments_and_force_old_ones() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = PartitionLog::open(dir.path(), compact_config()).expect("open");
        for (i, ts) in [1_000, 2_000, 3_000, 4_000].into_iter().enumerate() {
            let key = format!("k{i}");
            produce(
                &mut log,
                &Spec {
                    timestamp: ts,
                    ..Spec::new(&[kv(&key, "v")])
                },
            );
        }
        let fbt = first_batch_timestamp;
        let mut view = log.cleaner_view();
        assert_eq!(view.segments.len(), 3);
        // min.compaction.lag.ms: at 3500 with a lag of 1000, the segment of 3000 is too young.
        view.config.min_compaction_lag_ms = 1_000;
        let held = log_to_clean(&view, None, i64::MAX, 3_500, fbt);
        assert_eq!(held.first_uncleanable_offset, 2);
        // max.compaction.lag.ms: dirty data older than the lag is due whatever the ratio.
        view.config.min_compaction_lag_ms = 0;
        view.config.max_compaction_lag_ms = 500;
        let forced = log_to_clean(&view, None, i64::MAX, 2_000, fbt);
        assert_eq!(forced.compaction_delay_ms, 500);
        assert!(forced.is_due(1.0));
        view.config.max_compaction_lag_ms = i64::MAX;
        assert!(!log_to_clean(&view, None, i64::MAX, 2_000, fbt).is_due(1.0));
        // And the active segment of a compacted log rolls within the lag.
        let config = LogConfig {
            max_compaction_lag_ms: 500,
            segment_ms: Some(10_000),
            ..compact_config()
        };
        assert_eq!(config.max_segment_ms(), Some(500));
        assert_eq!(
            LogConfig {
                compact: false,
                ..config
            }
            .max_segment_ms(),
            Some(10_000)
        );
    }

    fn marker(producer_id: i64, producer_epoch: i16, commit: bool) -> crate::log::txn::TxnMarker {
        crate::log::txn::TxnMarker {
            producer_id,
            producer_epoch,
            coordinator_epoch: 0,
            control: crate::log::txn::ControlRecordType::from_result(commit),
        }
    }

    /// Kafka's transactional cleaning: an aborted transaction's records go and never hide a
    /// committed value; a committed transaction's records are compacted like any other (their
    /// batch stays transactional); markers stay; nothing at or above the last stable offset
    /// (an open transaction) is touched.
    #[test]
    fn aborted_transactions_go_and_committed_ones_are_compacted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = PartitionLog::open(dir.path(), compact_config()).expect("open");
        let txn = |producer_id, records| Spec {
            producer_id,
            transactional: true,
            ..Spec::new(records)
        };
        let committed = [kv("a", "committed"), kv("b", "committed")];
        produce(&mut log, &txn(9, &committed)); // 0-1
        log.append_marker(marker(9, 0, true), 5, 0).expect("commit"); // 2
        let aborted = [kv("a", "aborted"), kv("c", "aborted")];
        produce(&mut log, &txn(8, &aborted)); // 3-4
                                              // Aborted by the coordinator with a bumped epoch (a timeout): the producer's batches
                                              // are forgotten, so its marker may go once its records are gone.
        log.append_marker(marker(8, 1, false), 5, 0).expect("abort"); // 5
        produce(&mut log, &Spec::new(&[kv("b", "plain")])); // 6
        produce(&mut log, &Spec::new(&[kv("d", "plain")])); // 7
                                                            // Aborted by its producer: its batch is its last one, kept (empty) for its sequence,
                                                            // and its marker with it.
        let g = [kv("g", "aborted")];
        produce(&mut log, &txn(6, &g)); // 8
        log.append_marker(marker(6, 0, false), 5, 0).expect("abort"); // 9
        let open = [kv("b", "open")];
        produce(&mut log, &txn(7, &open)); // 10, never ended
        produce(&mut log, &Spec::new(&[kv("e", "plain")])); // 11
        log.roll().expect("roll");
        let end = log.log_end_offset();
        let lso = log.last_stable_offset(end);
        assert_eq!(lso, 10, "the open transaction holds it");

        let view = log.cleaner_view();
        let request = CleanRequest {
            checkpoint: None,
            high_watermark: lso,
            now_ms: 0,
            map_capacity: 10_000,
            horizon_due: false,
        };
        let outcome = clean_log(&view, &request, |replaced, cleaned, markers| {
            log.replace_segments(replaced, cleaned, markers, view.generation)
        })
        .expect("cleaning");
        assert!(outcome.cleaned);
        assert!(outcome.checkpoint.is_some_and(|c| c <= lso));

        let kept: Vec<(i64, Option<String>, Option<String>)> = records(&log);
        // The markers (2, 5 and 9) are checked below.
        let data: Vec<(i64, String)> = kept
            .iter()
            .filter(|(o, _, _)| ![2, 5, 9].contains(o))
            .filter_map(|(o, k, v)| Some((*o, format!("{}={}", k.as_ref()?, v.as_ref()?))))
            .collect();
        assert_eq!(
            data,
            vec![
                (0, "a=committed".to_string()),
                (6, "b=plain".to_string()),
                (7, "d=plain".to_string()),
                (10, "b=open".to_string()),
                (11, "e=plain".to_string()),
            ],
            "the aborted a, c and g went; the committed b was superseded; the open b stays"
        );
        // The batch of the committed transaction is still transactional, and both markers stay.
        let slice = log.read(0, 1).expect("read");
        let h = BatchHeader::new(&slice.records[..]).expect("header");
        assert!(h.is_transactional());
        assert_eq!(
            (h.producer_id(), h.base_offset(), h.last_offset()),
            (9, 0, 1)
        );
        for at in [2, 5, 9] {
            let slice = log.read(at, 1).expect("read");
            let h = BatchHeader::new(&slice.records[..]).expect("header");
            assert!(h.is_control(), "marker at {at}");
        }
        // Producer 6's aborted batch stays, empty.
        let slice = log.read(8, 1).expect("read");
        let h = BatchHeader::new(&slice.records[..]).expect("header");
        assert_eq!((h.base_offset(), h.records_count()), (8, 0));
        assert!(h.is_transactional());
        // read_committed readers still learn of the aborted transactions.
        assert_eq!(log.aborted_transactions(0, end).len(), 2);
        // The abort marker's transaction has no record left: its batch got a delete horizon
        // (now + delete.retention.ms); the commit marker's transaction still has a record.
        let horizon_of = |log: &PartitionLog, at: i64| {
            let slice = log.read(at, 1).expect("read");
            let h = BatchHeader::new(&slice.records[..]).expect("header");
            assert!(h.is_control(), "marker at {at}");
            delete_horizon(&h)
        };
        assert_eq!(horizon_of(&log, 5), Some(1_000));
        assert_eq!(horizon_of(&log, 2), None);
        assert_eq!(horizon_of(&log, 9), None);
        assert_eq!(outcome.tombstone_horizon, Some(1_000));

        // A cleaning at the horizon removes the abort marker; the commit marker stays.
        let view = log.cleaner_view();
        let request = CleanRequest {
            checkpoint: outcome.checkpoint,
            high_watermark: lso,
            now_ms: 1_000,
            map_capacity: 10_000,
            horizon_due: true,
        };
        clean_log(&view, &request, |replaced, cleaned, markers| {
            log.replace_segments(replaced, cleaned, markers, view.generation)
        })
        .expect("cleaning");
        let batches: Vec<(i64, bool)> = {
            let mut out = Vec::new();
            let mut next = log.log_start_offset();
            while next < log.log_end_offset() {
                let slice = log.read(next, 1).expect("read");
                let h = BatchHeader::new(&slice.records[..]).expect("header");
                out.push((h.base_offset(), h.is_control()));
                next = h.last_offset() + 1;
            }
            out
        };
        assert!(batches.contains(&(2, true)), "{batches:?}");
        assert!(batches.contains(&(9, true)), "{batches:?}");
        assert!(!batches.iter().any(|(o, _)| *o == 5), "{batches:?}");
        // Producer 8's aborted transaction left the index with its marker (a read_committed
        // reader told of it would skip producer 8's later records, waiting for the marker);
        // producer 6's, whose marker stays, is still there.
        let aborted: Vec<i64> = log
            .aborted_transactions(0, end)
            .iter()
            .map(|a| a.producer_id)
            .collect();
        assert_eq!(aborted, vec![6]);

        // Rebuilt from the log alone, the producer state has no transaction open but 7's.
        drop(log);
        for f in std::fs::read_dir(dir.path()).expect("dir") {
            let path = f.expect("entry").path();
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            if name.ends_with(".snapshot") || name.contains("checkpoint") {
                let _ = std::fs::remove_file(&path);
            }
        }
        let mut log = PartitionLog::open(dir.path(), compact_config()).expect("reopen");
        let end = log.log_end_offset();
        assert_eq!(log.last_stable_offset(end), 10);
    }

    #[test]
    fn an_idempotent_producers_last_batch_stays_as_an_empty_batch() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = PartitionLog::open(dir.path(), compact_config()).expect("open");
        let first = produce(
            &mut log,
            &Spec {
                producer_id: 7,
                ..Spec::new(&[kv("a", "1"), kv("b", "1")])
            },
        );
        produce(&mut log, &Spec::new(&[kv("a", "2"), kv("b", "2")]));
        produce(&mut log, &Spec::new(&[kv("c", "1")]));
        clean(&mut log, None, 0, false);
        let slice = log.read(first, 1).expect("read");
        let h = BatchHeader::new(&slice.records[..]).expect("header");
        assert_eq!(
            (h.base_offset(), h.last_offset(), h.records_count()),
            (0, 1, 0)
        );
        assert_eq!((h.producer_id(), h.base_sequence()), (7, 0));
        check_stored_batch(&slice.records, 0, usize::MAX).expect("a valid empty batch");
        // The producer's next batch still follows its sequence.
        let mut next = Spec {
            producer_id: 7,
            ..Spec::new(&[kv("d", "1")])
        }
        .encode();
        next[53..57].copy_from_slice(&2i32.to_be_bytes());
        let crc = batch_crc(&next);
        next[17..21].copy_from_slice(&crc.to_be_bytes());
        log.append(&next, 5, 0).expect("in sequence");
    }

    #[test]
    fn a_crash_before_the_swap_commits_leaves_the_old_segments() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = updated_log(dir.path());
        let before = records(&log);
        let view = log.cleaner_view();
        let mut map = OffsetMap::new(100);
        let end = build_offset_map(
            &view.segments,
            0,
            view.active_base_offset,
            &view.aborted,
            &mut map,
        )
        .expect("map");
        let rules = CleanRules {
            map: &map,
            end_offset: end,
            now_ms: 0,
            delete_retention_ms: 0,
            producer_last_offsets: &view.producer_last_offsets,
            aborted: &view.aborted,
        };
        let group = &view.segments[0..3];
        let (cleaned, _) =
            clean_group(dir.path(), group, &rules, &mut TxnTracker::default(), 1).expect("cleaned");
        // The crash: the old segments were set aside, the commit rename never happened.
        for seg in group {
            let path = segment_file(dir.path(), seg.base_offset, LOG_SUFFIX);
            fs::rename(&path, with_suffix(&path, DELETED_SUFFIX)).expect("rename");
        }
        drop(cleaned);
        drop(log);
        let log = PartitionLog::open(dir.path(), compact_config()).expect("reopen");
        assert_eq!(records(&log), before);
        let leftovers: Vec<String> = fs::read_dir(dir.path())
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".cleaned") || n.ends_with(".deleted") || n.ends_with(".swap"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn a_crash_after_the_swap_commits_is_completed_at_start_up() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = updated_log(dir.path());
        let before = records(&log);
        crash_hook::crash_after_commit(dir.path());
        let view = log.cleaner_view();
        let request = CleanRequest {
            checkpoint: None,
            high_watermark: i64::MAX,
            now_ms: 0,
            map_capacity: 10_000,
            horizon_due: false,
        };
        let crashed = clean_log(&view, &request, |replaced, cleaned, markers| {
            log.replace_segments(replaced, cleaned, markers, view.generation)
        });
        assert!(crashed.is_err(), "the simulated crash stops the swap");
        let names = || -> Vec<String> {
            fs::read_dir(dir.path())
                .expect("dir")
                .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect()
        };
        assert!(
            names().iter().any(|n| n.ends_with(".log.swap")),
            "{:?}",
            names()
        );
        drop(log);
        let log = PartitionLog::open(dir.path(), compact_config()).expect("reopen");
        // The first group (the segment of offset 0, "a0", superseded) was swapped in whole.
        assert_eq!(records(&log), before[1..].to_vec());
        let leftovers: Vec<String> = names()
            .into_iter()
            .filter(|n| n.ends_with(".swap") || n.ends_with(".deleted") || n.ends_with(".cleaned"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn a_log_that_changed_under_the_cleaner_is_not_swapped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = updated_log(dir.path());
        let before = records(&log);
        let view = log.cleaner_view();
        // A follower truncation lands between the cleaner's look and its swap.
        log.truncate_to(1).expect("truncate");
        let request = CleanRequest {
            checkpoint: None,
            high_watermark: i64::MAX,
            now_ms: 0,
            map_capacity: 10_000,
            horizon_due: false,
        };
        let outcome = clean_log(&view, &request, |replaced, cleaned, markers| {
            log.replace_segments(replaced, cleaned, markers, view.generation)
        })
        .expect("cleaning");
        assert!(!outcome.cleaned);
        assert_eq!(outcome.checkpoint, None);
        assert_eq!(records(&log), before[..1].to_vec());
        let leftovers = fs::read_dir(dir.path())
            .expect("dir")
            .filter(|e| {
                e.as_ref()
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".cleaned")
            })
            .count();
        assert_eq!(leftovers, 0);
    }

    #[test]
    fn a_follower_accepts_the_gaps_of_a_compacted_leader_but_never_going_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = PartitionLog::open(dir.path(), compact_config()).expect("open");
        let mut batch = Spec::new(&[kv("a", "1")]).encode();
        batch[0..8].copy_from_slice(&5i64.to_be_bytes());
        assert_eq!(log.append_as_follower(&batch).expect("gap"), Some((5, 5)));
        assert_eq!(log.log_end_offset(), 6);
        batch[0..8].copy_from_slice(&3i64.to_be_bytes());
        assert!(log.append_as_follower(&batch).is_err());
    }

    #[test]
    fn a_keyless_record_is_refused_on_a_compacted_topic() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = PartitionLog::open(&dir.path().join("t-0"), compact_config()).expect("open");
        let bytes = Spec::new(&[kv("a", "1"), (None, Some("x"))]).encode();
        let err = log.append(&bytes, 0, 0).expect_err("refused");
        assert_eq!(err.kafka_error_code(), 87);
        assert_eq!(err.record_errors().len(), 1);
        assert_eq!(err.record_errors()[0].batch_index, 1);
        assert_eq!(
            err.record_errors()[0].message,
            "Compacted topic cannot accept message without key in topic partition t-0"
        );
        assert_eq!(
            err.client_message().as_deref(),
            Some(
                "One or more records have been rejected due to 1 record errors in total, and only \
                 showing the first three errors at most: [RecordError(batchIndex=1, \
                 message='Compacted topic cannot accept message without key in topic partition \
                 t-0')]"
            )
        );
        assert_eq!(log.log_end_offset(), 0, "nothing of the batch is stored");
        log.set_config(LogConfig {
            compact: false,
            ..compact_config()
        });
        log.append(&bytes, 0, 0)
            .expect("a delete topic takes keyless records");
    }

    #[test]
    fn the_cleaner_checkpoint_file_has_kafkas_format() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut entries = BTreeMap::new();
        entries.insert(
            TopicPartition {
                topic: "t".into(),
                partition: 3,
            },
            42,
        );
        write_cleaner_checkpoint(dir.path(), &entries).expect("write");
        let text = fs::read_to_string(dir.path().join(CLEANER_CHECKPOINT_FILE)).expect("read");
        assert_eq!(text, "0\n1\nt 3 42\n");
        assert_eq!(read_cleaner_checkpoint(dir.path()), entries);
        fs::write(dir.path().join(CLEANER_CHECKPOINT_FILE), "0\n2\nt 3 42\n").expect("write");
        assert!(read_cleaner_checkpoint(dir.path()).is_empty());
    }
}
