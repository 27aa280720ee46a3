//! `PartitionLog`: the synchronous owner of one partition directory. It validates and appends
//! produced batches (offsets assigned by patching headers in place), plans reads, answers
//! timestamp lookups, rolls segments, applies retention, truncates, and tracks what is durable.
//!
//! It does no locking and no waiting of its own: `DurableLog` puts it behind one mutex and runs
//! reads and fsyncs from the plans it hands out, outside that mutex.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use bytes::Bytes;

use super::batch::check_stored_batch;
use super::batch::{validate_produce_payload_in, BatchHeader, BatchInfo, BATCH_HEADER_LEN};
use super::checkpoint::{self, RecoveryCheckpoint};
use super::cleaner;
use super::epoch_cache::LeaderEpochCache;
use super::index::IndexWrite;
use super::producer_state::ProducerEntry;
use super::producer_state::{ProducerStateManager, Verdict};
use super::read::{ReadPlan, ReadSlice};
use super::recompress::rebuild_batch;
use super::record_walk::first_record_at_or_after;
use super::recovery::{self, scan_segment};
use super::segment::write_pieces_at;
use super::segment::{random_roll_jitter, Segment, SegmentFile};
use super::txn::{encode_marker_batch, parse_marker, AbortedTxn, CompletedTxn, OngoingTxn};
use super::txn::{ControlRecordType, TxnIndexEntry, TxnMarker};
use super::txn_index::AbortedTxnIndex;
use super::validator::{check_client_batch, stamp_header, AppendOrigin, TimestampType};
use super::{LogConfig, LogError};

/// A batch header copied out of a segment file.
type StoredHeader = BatchHeader<[u8; BATCH_HEADER_LEN]>;

/// What an append did, in the terms of a ProduceResponse partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppendInfo {
    /// First offset assigned (for a duplicate: of the original write).
    pub base_offset: i64,
    pub last_offset: i64,
    /// The append time stamped into the batches on a LogAppendTime topic, else -1 (Kafka's
    /// ProduceResponse `log_append_time_ms`); for a duplicate, the original batch's stored
    /// maxTimestamp, as Kafka's `UnifiedLog` answers it.
    pub log_append_time: i64,
    pub log_start_offset: i64,
    /// The batch had been written before; nothing was written now.
    pub duplicate: bool,
}

pub struct PartitionLog {
    dir: PathBuf,
    /// `<topic>-<partition>`, the directory's name, as Kafka's messages name the partition.
    topic_partition: String,
    config: LogConfig,
    /// Segments that no longer take appends, by base offset.
    sealed: BTreeMap<i64, Segment>,
    active: Segment,
    /// The log start offset as last moved by DeleteRecords (or a follower learning the leader's):
    /// Kafka's `logStartOffset`, which may lie inside the first segment. The effective start is
    /// the larger of this and the first segment's base (retention moves that one).
    start_offset: i64,
    producers: ProducerStateManager,
    /// Offsets below this are fsynced (log files).
    durable_offset: i64,
    /// Offsets below this are fsynced with their indexes and recorded in the checkpoint file.
    checkpointed_offset: i64,
    /// Bumped by truncation: flush plans made before it must not move the recovery point.
    generation: u64,
    /// Serialises checkpoint writers and holds the generation they must match.
    checkpoint_gate: Arc<Mutex<u64>>,
    /// The first offset of every leader epoch in the log (`leader-epoch-checkpoint`).
    epochs: LeaderEpochCache,
    /// The aborted transactions, by segment (`.txnindex` files).
    txn_index: AbortedTxnIndex,
    /// Transactions whose marker is written but may not be below the high watermark yet
    /// (Kafka's `unreplicatedTxns`): until it is, they keep the last stable offset at their
    /// first offset, since a new leader without the marker would still have them open.
    unreplicated_txns: Vec<CompletedTxn>,
}

/// fsyncs to run outside the partition's lock, and the checkpoint to write after them.
pub struct FlushPlan {
    files: Vec<Arc<File>>,
    up_to: i64,
    generation: u64,
    checkpoint: Option<(PathBuf, RecoveryCheckpoint, Arc<Mutex<u64>>)>,
    /// The partition directory (for the test-only fsync fault hook).
    #[cfg(test)]
    dir: PathBuf,
}

/// Test-only fault injection in the fsync path: a partition directory registered here has its
/// fsyncs held until the test releases them, as a slow disk would.
#[cfg(test)]
pub(crate) mod fsync_fault {
    use std::path::{Path, PathBuf};
    use std::sync::{Arc, Condvar, Mutex};

    /// One slowed directory: `entered` turns true when an fsync of it is being held.
    pub(crate) struct SlowFsync {
        pub(crate) entered: tokio::sync::watch::Sender<bool>,
        released: Mutex<bool>,
        wake: Condvar,
    }

    impl SlowFsync {
        /// Lets the held fsyncs (and later ones) proceed.
        pub(crate) fn release(&self) {
            *self.released.lock().unwrap_or_else(|e| e.into_inner()) = true;
            self.wake.notify_all();
        }
    }

    type Gates = Mutex<Vec<(PathBuf, Arc<SlowFsync>)>>;
    static SLOW: Gates = Mutex::new(Vec::new());
    static SLOW_WRITES: Gates = Mutex::new(Vec::new());

    fn register(gates: &Gates, dir: &Path) -> Arc<SlowFsync> {
        let gate = Arc::new(SlowFsync {
            entered: tokio::sync::watch::Sender::new(false),
            released: Mutex::new(false),
            wake: Condvar::new(),
        });
        gates
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((dir.to_path_buf(), gate.clone()));
        gate
    }

    /// Makes fsyncs of `dir` wait until [`SlowFsync::release`].
    pub(crate) fn slow_down(dir: &Path) -> Arc<SlowFsync> {
        register(&SLOW, dir)
    }

    /// Makes appends' writes into the segments of `dir` wait until [`SlowFsync::release`].
    pub(crate) fn slow_down_writes(dir: &Path) -> Arc<SlowFsync> {
        register(&SLOW_WRITES, dir)
    }

    /// Called before the fsyncs of `dir`: holds them while a gate is closed.
    pub(super) fn before_fsync(dir: &Path) {
        hold(&SLOW, dir);
    }

    /// Called before an append's write into a segment of `dir`: holds it while a gate is
    /// closed.
    pub(super) fn before_write(dir: &Path) {
        hold(&SLOW_WRITES, dir);
    }

    fn hold(gates: &Gates, dir: &Path) {
        let gate = gates
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|(d, _)| d == dir)
            .map(|(_, g)| g.clone());
        if let Some(gate) = gate {
            gate.entered.send_replace(true);
            let mut released = gate.released.lock().unwrap_or_else(|e| e.into_inner());
            while !*released {
                released = gate.wake.wait(released).unwrap_or_else(|e| e.into_inner());
            }
        }
    }
}

impl FlushPlan {
    /// Offsets below this are durable once `execute` succeeded.
    pub fn up_to(&self) -> i64 {
        self.up_to
    }

    /// Runs the fsyncs (and writes the checkpoint); returns how many files were synced.
    pub fn execute(&self) -> io::Result<usize> {
        #[cfg(test)]
        fsync_fault::before_fsync(&self.dir);
        for f in &self.files {
            f.sync_data()?;
        }
        if let Some((dir, cp, gate)) = &self.checkpoint {
            let current = gate.lock().unwrap_or_else(|e| e.into_inner());
            // A truncation since this plan was made wrote its own, newer checkpoint.
            if *current == self.generation {
                checkpoint::write(dir, cp)?;
            }
        }
        Ok(self.files.len())
    }
}

/// Client batches that passed every check that needs no log state ([`PartitionLog::check_append`]),
/// ready for [`PartitionLog::stage_append`]: per batch, a copy of its header to patch and the
/// rest of its bytes where the producer's request brought them.
pub struct CheckedAppend {
    batches: Vec<([u8; BATCH_HEADER_LEN], Bytes)>,
    /// Positions relative to the batches written back to back.
    infos: Vec<BatchInfo>,
    size: u64,
    log_append_time: i64,
}

/// What [`PartitionLog::stage_append`] made of checked batches.
pub enum Staged {
    /// A retried idempotent batch already in the log: its original offsets, nothing to write.
    Duplicate(AppendInfo),
    Write(StagedAppend),
}

/// Bytes to write, back to back.
enum Piece {
    /// A batch header, patched.
    Header([u8; BATCH_HEADER_LEN]),
    Bytes(Bytes),
}

impl Piece {
    fn bytes(&self) -> &[u8] {
        match self {
            Piece::Header(h) => h,
            Piece::Bytes(b) => b,
        }
    }
}

/// An append cut in three so that the partition's lock is never held across a write: staged
/// under the lock (offsets assigned, headers patched, the place after the active segment's
/// committed bytes taken), written without it ([`StagedAppend::write`]), then committed under
/// it again ([`PartitionLog::commit`]), which is when readers and the flusher first see it.
/// Between staging and committing the caller keeps every other change of the log out (one
/// appender at a time, as Kafka's log lock does): `DurableLog`'s append gate.
pub struct StagedAppend {
    file: Arc<File>,
    start: u64,
    pieces: Vec<Piece>,
    /// Positions relative to `start`.
    infos: Vec<BatchInfo>,
    /// The log's truncation generation when staged.
    generation: u64,
    kind: StagedKind,
    /// The partition directory (for the test-only write fault hook).
    #[cfg(test)]
    dir: PathBuf,
}

enum StagedKind {
    Client {
        producers: HashMap<i64, ProducerEntry>,
        info: AppendInfo,
    },
    Follower {
        /// The parsed marker of each control batch.
        markers: Vec<Option<(ControlRecordType, i32)>>,
        range: (i64, i64),
    },
    Marker {
        producers: HashMap<i64, ProducerEntry>,
        completed: Option<CompletedTxn>,
        info: AppendInfo,
    },
}

impl StagedAppend {
    /// Writes the staged bytes into the segment file (no lock needed: nothing reads past the
    /// committed size, and the caller keeps other appends out). On failure the file is cut
    /// back to where it was.
    pub fn write(&self) -> io::Result<()> {
        #[cfg(test)]
        fsync_fault::before_write(&self.dir);
        let pieces: Vec<&[u8]> = self.pieces.iter().map(Piece::bytes).collect();
        write_pieces_at(&self.file, self.start, &pieces)
    }

    /// The offsets a follower's append covers.
    fn follower_range(&self) -> Option<(i64, i64)> {
        match &self.kind {
            StagedKind::Follower { range, .. } => Some(*range),
            _ => None,
        }
    }
}

/// The validated `batches` of `payload` as they are to be stored when one of them must be
/// rebuilt (Kafka's `buildRecordsAndAssignOffsets`): recompressed to the topic's
/// `compression.type`, or compressed with inner offsets that are not 0, 1, ..., n-1
/// (`misnumbered`, one flag per batch), which Kafka's `LogValidator` rewrites with the right
/// offset deltas rather than refusing (an uncompressed batch is stored as sent, as Kafka's
/// `assignOffsetsNonCompressed` leaves its records alone). `None` when no batch is rebuilt
/// and `payload` is stored as it is; `batches` then describes the new buffer.
fn recompressed(
    config: &LogConfig,
    payload: &[u8],
    batches: &mut [BatchInfo],
    misnumbered: &[bool],
) -> Result<Option<Vec<u8>>, LogError> {
    let compression = &config.compression;
    let changes = |i: usize, b: &BatchInfo| {
        let target = compression.target_codec(b.compression());
        target != b.compression()
            || (b.compression() != 0 && misnumbered.get(i).copied().unwrap_or(false))
    };
    if !batches.iter().enumerate().any(|(i, b)| changes(i, b)) {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(payload.len());
    for (i, b) in batches.iter_mut().enumerate() {
        let source = &payload[b.position..b.position + b.size];
        let position = out.len();
        if changes(i, b) {
            out.extend_from_slice(&rebuild_batch(
                source,
                compression.target_codec(b.compression()),
                compression,
            )?);
        } else {
            out.extend_from_slice(source);
        }
        let size = out.len() - position;
        // Kafka's `UnifiedLog.append` re-checks sizes that may have changed.
        if size > config.max_message_bytes {
            return Err(LogError::MessageTooLarge {
                size,
                max: config.max_message_bytes,
            });
        }
        let max_timestamp = b.max_timestamp;
        *b = BatchInfo::from_header(&BatchHeader::new(&out[position..])?, position, size);
        b.max_timestamp = max_timestamp;
    }
    Ok(Some(out))
}

/// A ListOffsets lookup by timestamp, resolved under the partition's lock as far as memory
/// allows; [`TimestampLookup::execute`] does the file reads left, without the lock.
pub enum TimestampLookup {
    Done(Option<(i64, i64)>),
    /// The first record with a timestamp at or above `timestamp`, scanning `seg` from `start`.
    ByTimestamp {
        seg: SegmentFile,
        start: u64,
        timestamp: i64,
    },
    /// The record at `target` carrying `max_timestamp`, scanning `seg` from `start`.
    MaxTimestamp {
        seg: SegmentFile,
        start: u64,
        target: i64,
        max_timestamp: i64,
    },
}

impl TimestampLookup {
    /// `(offset, timestamp)` of the record found, if any.
    pub fn execute(self) -> Result<Option<(i64, i64)>, LogError> {
        match self {
            TimestampLookup::Done(found) => Ok(found),
            TimestampLookup::ByTimestamp {
                seg,
                start,
                timestamp,
            } => match PartitionLog::find_batch(&seg, start, |h| h.max_timestamp() >= timestamp)? {
                Some((pos, header)) => {
                    PartitionLog::exact_record(&seg, pos, &header, timestamp).map(Some)
                }
                None => Ok(None),
            },
            TimestampLookup::MaxTimestamp {
                seg,
                start,
                target,
                max_timestamp,
            } => match PartitionLog::find_batch(&seg, start, |h| h.last_offset() >= target)? {
                Some((pos, header)) => {
                    PartitionLog::exact_record(&seg, pos, &header, max_timestamp).map(Some)
                }
                None => Ok(Some((target, max_timestamp))),
            },
        }
    }
}

fn not_found_is_ok(r: io::Result<()>) -> io::Result<()> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

impl PartitionLog {
    /// Opens (creating if needed) the partition directory and recovers it.
    pub fn open(dir: &Path, config: LogConfig) -> Result<Self, LogError> {
        let recovered = recovery::recover(dir, &config)?;
        let mut sealed = recovered.segments;
        let Some((_, mut active)) = sealed.pop_last() else {
            return Err(LogError::Io(io::Error::other(
                "recovery produced no segment",
            )));
        };
        active.load_first_batch_timestamp()?;
        active.set_roll_jitter_ms(random_roll_jitter(&config));
        let mut log = PartitionLog {
            dir: dir.to_path_buf(),
            topic_partition: dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            config,
            sealed,
            active,
            start_offset: recovered.log_start_offset,
            producers: recovered.producers,
            txn_index: recovered.txn_index,
            unreplicated_txns: Vec::new(),
            durable_offset: 0,
            checkpointed_offset: 0,
            generation: 0,
            checkpoint_gate: Arc::new(Mutex::new(0)),
            epochs: LeaderEpochCache::empty(dir),
        };
        log.load_epochs()?;
        // Segments below the old checkpoint were durable already and recovery synced the ones it
        // scanned: everything is durable, and a new checkpoint spares the next start the scan.
        log.durable_offset = log.log_end_offset();
        log.checkpointed_offset = log.log_end_offset();
        log.flush()?;
        Ok(log)
    }

    /// Loads the leader epoch cache, or rebuilds it from the batch headers when its file is
    /// missing or unreadable (a log written before it existed); either way it then agrees
    /// with the batches past its last entry, which recovery may have kept without it.
    fn load_epochs(&mut self) -> Result<(), LogError> {
        let end = self.log_end_offset();
        let (mut cache, from) = match LeaderEpochCache::load(&self.dir, end) {
            Some(cache) => {
                let from = cache.entries().last().map_or(0, |&(_, o)| o);
                (cache, from)
            }
            None => (LeaderEpochCache::empty(&self.dir), 0),
        };
        let changed = std::cell::Cell::new(false);
        {
            let cache_cell = std::cell::RefCell::new(&mut cache);
            for seg in self.segments() {
                if seg.next_offset() <= from {
                    continue;
                }
                Self::find_batch(&seg.file_view(), seg.position_hint(from), |h| {
                    if cache_cell
                        .borrow_mut()
                        .observe(h.partition_leader_epoch(), h.base_offset())
                    {
                        changed.set(true);
                    }
                    false
                })?;
            }
        }
        let file_missing = !self
            .dir
            .join(super::epoch_cache::EPOCH_CHECKPOINT_FILE)
            .exists();
        if changed.get() || (file_missing && cache.latest_epoch().is_some()) {
            cache.persist()?;
        }
        // Kafka's `LogLoader` does the same: a crash may have come between a log start
        // increment and the trim of the cache that follows it.
        cache.truncate_from_start(self.log_start_offset())?;
        self.epochs = cache;
        Ok(())
    }

    /// Kafka's `UnifiedLog.endOffsetForEpoch` (OffsetForLeaderEpoch): see
    /// [`LeaderEpochCache::end_offset_for`].
    pub fn end_offset_for_epoch(&self, epoch: i32) -> (i32, i64) {
        self.epochs.end_offset_for(epoch, self.log_end_offset())
    }

    /// Records that `epoch` begins at the log end offset (a new leadership).
    pub fn assign_epoch(&mut self, epoch: i32) -> Result<(), LogError> {
        let end = self.log_end_offset();
        self.epochs.assign(epoch, end)?;
        Ok(())
    }

    /// The latest leader epoch in the log (`None` for an empty log).
    pub fn latest_epoch(&self) -> Option<i32> {
        self.epochs.latest_epoch()
    }

    /// Appends batches fetched from the partition's leader as they are (Kafka's
    /// `appendAsFollower`): offsets, leader epochs and timestamps are the leader's; each batch
    /// is checked (structure, CRC) and must start at or after this log's end (a compacted
    /// leader's log has gaps where its cleaner removed records). An incomplete batch at
    /// the end (a fetch cut by its size limit) is left for the next fetch. Returns the offsets
    /// appended, `None` when there was no whole batch.
    pub fn append_as_follower(&mut self, payload: &[u8]) -> Result<Option<(i64, i64)>, LogError> {
        match self.stage_follower(Bytes::copy_from_slice(payload))? {
            Some(staged) => {
                let range = staged.follower_range();
                self.write_and_commit(staged)?;
                Ok(range)
            }
            None => Ok(None),
        }
    }

    /// The staging half of [`PartitionLog::append_as_follower`] (see [`StagedAppend`]); `None`
    /// when `payload` holds no whole batch.
    pub fn stage_follower(&mut self, payload: Bytes) -> Result<Option<StagedAppend>, LogError> {
        let mut batches = Vec::new();
        let mut at = 0usize;
        let mut expected = self.log_end_offset();
        while payload.len() - at >= BATCH_HEADER_LEN {
            let header = BatchHeader::new(&payload[at..])?;
            let Some(size) = header.total_size() else {
                return Err(LogError::CorruptMessage(format!(
                    "bad batch length at position {at} of a replica fetch"
                )));
            };
            if payload.len() - at < size {
                break;
            }
            let info = check_stored_batch(&payload[at..at + size], at, usize::MAX)?;
            // A compacted leader's log has gaps (Kafka's `appendAsFollower` only refuses
            // offsets that go backwards): the next batch may start past this log's end.
            if info.base_offset < expected {
                return Err(LogError::CorruptMessage(format!(
                    "a replica fetch batch starts at offset {} where this log ends at {expected}",
                    info.base_offset
                )));
            }
            expected = info.last_offset().saturating_add(1);
            batches.push((info, header.partition_leader_epoch()));
            at += size;
        }
        let (Some(first), Some(last)) = (batches.first(), batches.last()) else {
            return Ok(None);
        };
        let (first_offset, last_offset) = (first.0.base_offset, last.0.last_offset());
        let max_timestamp = batches
            .iter()
            .map(|(b, _)| b.max_timestamp)
            .max()
            .unwrap_or(-1);
        if self.active.roll_due(
            &self.config,
            at as u64,
            last_offset,
            max_timestamp,
            common::time::now_ms(),
        ) {
            self.roll()?;
        }
        for (b, epoch) in &batches {
            self.epochs.assign(*epoch, b.base_offset)?;
        }
        let infos: Vec<BatchInfo> = batches.iter().map(|(b, _)| *b).collect();
        let bytes = payload.slice(..at);
        let markers = infos
            .iter()
            .map(|b| {
                if b.is_control() {
                    parse_marker(&bytes[b.position..b.position + b.size])
                } else {
                    None
                }
            })
            .collect();
        let (file, start) = self.active.write_target();
        Ok(Some(StagedAppend {
            file,
            start,
            pieces: vec![Piece::Bytes(bytes)],
            infos,
            generation: self.generation,
            #[cfg(test)]
            dir: self.dir.clone(),
            kind: StagedKind::Follower {
                markers,
                range: (first_offset, last_offset),
            },
        }))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
    pub fn config(&self) -> &LogConfig {
        &self.config
    }
    /// `<topic>-<partition>`, as Kafka's messages name the partition.
    pub fn topic_partition(&self) -> &str {
        &self.topic_partition
    }
    /// Applies changed topic configs to later appends, rolls and retention runs.
    pub fn set_config(&mut self, config: LogConfig) {
        self.config = config;
    }

    /// Kafka's `logStartOffset`: the first offset a read may ask for.
    pub fn log_start_offset(&self) -> i64 {
        let first_base = self
            .sealed
            .first_key_value()
            .map_or(self.active.base_offset(), |(base, _)| *base);
        first_base.max(self.start_offset.min(self.log_end_offset()))
    }

    /// Kafka's `UnifiedLog.maybeIncrementLogStartOffset` (DeleteRecords, or a follower taking
    /// its leader's log start offset): moves the log start offset up to `new_start` (capped at
    /// the log end offset; the caller checks it against the high watermark), deletes the
    /// segments wholly below it and writes the checkpoint, so that a restart keeps the deleted
    /// offsets deleted. Returns whether the start moved.
    pub fn advance_log_start_offset(&mut self, new_start: i64) -> Result<bool, LogError> {
        let new_start = new_start.min(self.log_end_offset());
        if new_start <= self.log_start_offset() {
            return Ok(false);
        }
        {
            // A flush planned before this (running outside the lock) would write a checkpoint
            // naming the old start over ours: a crash after it would bring the deleted records
            // back. As for a truncation, a new generation makes such a plan skip its write.
            let mut gate = self
                .checkpoint_gate
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            *gate += 1;
            self.generation = *gate;
        }
        self.start_offset = new_start;
        let mut deleted = 0;
        loop {
            let mut bases = self.sealed.keys().copied().take(2);
            let Some(_) = bases.next() else { break };
            let upper = bases.next().unwrap_or(self.active.base_offset());
            if upper > new_start {
                break;
            }
            self.delete_oldest("log start offset increment")?;
            deleted += 1;
        }
        if deleted > 0 {
            // The deletions must be durable before the checkpoint names the new start.
            checkpoint::sync_dir(&self.dir)?;
        }
        tracing::info!(
            "{}: incremented log start offset to {new_start}",
            self.dir.display()
        );
        // Written now, not at the next checkpoint interval as Kafka does: a crash of every
        // replica right after the answer must not bring the deleted records back.
        self.flush()?;
        // After the checkpoint: a cache trimmed past a start a crash brings back would leave
        // the records between them without an epoch. (`open` trims what a crash left.)
        self.epochs.truncate_from_start(self.log_start_offset())?;
        Ok(true)
    }
    pub fn log_end_offset(&self) -> i64 {
        self.active.next_offset()
    }
    /// Offsets below this are fsynced.
    pub fn durable_offset(&self) -> i64 {
        self.durable_offset
    }
    /// Records appended since the last fsync.
    pub fn unflushed_messages(&self) -> u64 {
        u64::try_from(self.log_end_offset() - self.durable_offset).unwrap_or(0)
    }
    pub fn segment_count(&self) -> usize {
        self.sealed.len() + 1
    }
    /// Bytes stored across all segments.
    pub fn size_bytes(&self) -> u64 {
        self.segments().map(Segment::size).sum()
    }
    pub fn producers(&self) -> &ProducerStateManager {
        &self.producers
    }

    /// All segments in offset order, the active one last.
    pub fn segments(&self) -> impl DoubleEndedIterator<Item = &Segment> {
        self.sealed.values().chain(std::iter::once(&self.active))
    }

    /// Validates every batch of `payload` (structure and CRC, then Kafka's `LogValidator` rules
    /// in `validator`, which may restamp `maxTimestamp` and the timestamp type), rebuilds the
    /// batches whose codec is not the topic's `compression.type` (`recompress`; a rebuilt batch
    /// above `max.message.bytes` is MESSAGE_TOO_LARGE, as Kafka checks the size it would write),
    /// then assigns offsets by patching baseOffset and partitionLeaderEpoch and appends the
    /// bytes. (A copy of `payload` is taken here: [`PartitionLog::check_append`] with
    /// [`PartitionLog::stage_append`] work on the producer's bytes where they are.)
    pub fn append(
        &mut self,
        payload: &[u8],
        leader_epoch: i32,
        now_ms: i64,
    ) -> Result<AppendInfo, LogError> {
        self.append_from(payload, leader_epoch, now_ms, AppendOrigin::Client)
    }

    /// `append` for `origin`: a coordinator's batches may carry a producer id without a
    /// sequence (the group coordinator's transactional offset commits).
    pub fn append_from(
        &mut self,
        payload: &[u8],
        leader_epoch: i32,
        now_ms: i64,
        origin: AppendOrigin,
    ) -> Result<AppendInfo, LogError> {
        self.append_bytes(
            Bytes::copy_from_slice(payload),
            leader_epoch,
            now_ms,
            origin,
        )
    }

    /// `append_from` on the producer's bytes where they are: only each batch's header is
    /// copied (check, stage, write and commit in one go, under the caller's exclusive borrow).
    pub fn append_bytes(
        &mut self,
        payload: Bytes,
        leader_epoch: i32,
        now_ms: i64,
        origin: AppendOrigin,
    ) -> Result<AppendInfo, LogError> {
        let checked =
            Self::check_append(payload, &self.config, &self.topic_partition, now_ms, origin)?;
        match self.stage_append(checked, leader_epoch, now_ms)? {
            Staged::Duplicate(info) => Ok(info),
            Staged::Write(staged) => self
                .write_and_commit(staged)?
                .ok_or_else(|| LogError::Offline("a client append committed no offsets".into())),
        }
    }

    /// The checks of an append that need no log state, so they run before the partition's lock
    /// is taken: every batch's structure and CRC, Kafka's `LogValidator` rules, and the
    /// rebuilding of batches whose codec is not the topic's `compression.type`. Nothing of
    /// `payload` is copied: a batch is kept as a copy of its 61 header bytes (to be patched)
    /// and the rest of its bytes where they arrived.
    pub fn check_append(
        payload: Bytes,
        config: &LogConfig,
        topic_partition: &str,
        now_ms: i64,
        origin: AppendOrigin,
    ) -> Result<CheckedAppend, LogError> {
        let mut infos =
            validate_produce_payload_in(&payload, config.max_message_bytes, topic_partition)?;
        let mut checks = Vec::with_capacity(infos.len());
        for b in &mut infos {
            let checked = check_client_batch(
                &payload[b.position..b.position + b.size],
                topic_partition,
                &config.timestamps,
                now_ms,
                config.compact,
                origin,
            )?;
            b.max_timestamp = checked.max_timestamp;
            checks.push(checked);
        }
        let misnumbered: Vec<bool> = checks.iter().map(|c| !c.inner_offsets_in_order).collect();
        // A rebuilt batch's header is stamped below like any other.
        let payload = match recompressed(config, &payload, &mut infos, &misnumbered)? {
            Some(rebuilt) => Bytes::from(rebuilt),
            None => payload,
        };
        let segment_limit = config.segment_bytes.min(u64::from(u32::MAX));
        if payload.len() as u64 > segment_limit {
            return Err(LogError::RecordListTooLarge {
                size: payload.len(),
                max: segment_limit,
            });
        }
        let mut batches = Vec::with_capacity(infos.len());
        for (b, checked) in infos.iter_mut().zip(&checks) {
            let mut header = [0u8; BATCH_HEADER_LEN];
            header.copy_from_slice(&payload[b.position..b.position + BATCH_HEADER_LEN]);
            let body = payload.slice(b.position + BATCH_HEADER_LEN..b.position + b.size);
            stamp_header(
                &mut header,
                &body,
                checked.timestamp_type_flag,
                checked.max_timestamp,
            );
            b.max_timestamp = checked.max_timestamp;
            batches.push((header, body));
        }
        let log_append_time = match config.timestamps.timestamp_type {
            TimestampType::LogAppendTime => now_ms,
            TimestampType::CreateTime => -1,
        };
        Ok(CheckedAppend {
            batches,
            infos,
            size: payload.len() as u64,
            log_append_time,
        })
    }

    /// Stages checked batches under the partition's lock: offsets assigned (the batches'
    /// headers patched with them and `leader_epoch`), the producers' sequences checked, the
    /// segment rolled if due, and the place after the active segment's committed bytes taken.
    /// A duplicate of an idempotent producer's batch answers with the original's offsets and
    /// writes nothing.
    pub fn stage_append(
        &mut self,
        checked: CheckedAppend,
        leader_epoch: i32,
        now_ms: i64,
    ) -> Result<Staged, LogError> {
        let CheckedAppend {
            mut batches,
            mut infos,
            size,
            log_append_time,
        } = checked;
        let first_offset = self.log_end_offset();
        let mut next = first_offset;
        for b in &mut infos {
            b.base_offset = next;
            next = b.last_offset().saturating_add(1);
        }
        let last_offset = next - 1;

        let mut producer_append = self.producers.begin();
        for b in &infos {
            if let Verdict::Duplicate(original) = producer_append.check(b)? {
                return Ok(Staged::Duplicate(AppendInfo {
                    base_offset: original.first_offset,
                    last_offset: original.last_offset,
                    log_append_time: original.timestamp,
                    log_start_offset: self.log_start_offset(),
                    duplicate: true,
                }));
            }
        }
        let producers = producer_append.into_staged();

        let incoming_max_timestamp = infos.iter().map(|b| b.max_timestamp).max().unwrap_or(-1);
        if self.active.roll_due(
            &self.config,
            size,
            last_offset,
            incoming_max_timestamp,
            now_ms,
        ) {
            self.roll()?;
        }
        let mut pieces = Vec::with_capacity(batches.len() * 2);
        for ((mut header, body), b) in batches.drain(..).zip(&infos) {
            let mut view = BatchHeader::new(&mut header[..])?;
            view.set_base_offset(b.base_offset);
            view.set_partition_leader_epoch(leader_epoch);
            pieces.push(Piece::Header(header));
            pieces.push(Piece::Bytes(body));
        }
        self.epochs.assign(leader_epoch, first_offset)?;
        let (file, start) = self.active.write_target();
        Ok(Staged::Write(StagedAppend {
            file,
            start,
            pieces,
            infos,
            generation: self.generation,
            #[cfg(test)]
            dir: self.dir.clone(),
            kind: StagedKind::Client {
                producers,
                info: AppendInfo {
                    base_offset: first_offset,
                    last_offset,
                    log_append_time,
                    log_start_offset: self.log_start_offset(),
                    duplicate: false,
                },
            },
        }))
    }

    /// Takes in a staged append its writer wrote (see [`StagedAppend`]): the active segment's
    /// committed size, next offset and in-memory indexes move past it and the producers' state
    /// is updated. Returns what the append did (`None` for a follower's) and the index file
    /// writes to run (outside the lock; see [`IndexWrite`]). The caller must have kept every
    /// other append, truncation, retention run and segment swap out since the staging.
    pub fn commit(
        &mut self,
        staged: StagedAppend,
    ) -> Result<(Option<AppendInfo>, Vec<IndexWrite>), LogError> {
        let (active_file, active_size) = self.active.write_target();
        if staged.generation != self.generation
            || !Arc::ptr_eq(&active_file, &staged.file)
            || active_size != staged.start
        {
            return Err(LogError::Offline(format!(
                "{}: the log changed between staging and committing an append",
                self.dir.display()
            )));
        }
        let mut writes = Vec::new();
        self.active
            .commit_written(staged.start, &staged.infos, &mut writes);
        let info = match staged.kind {
            StagedKind::Client { producers, info } => {
                self.producers.commit(producers);
                Some(info)
            }
            StagedKind::Follower { markers, .. } => {
                for (b, marker) in staged.infos.iter().zip(markers) {
                    if let Some(completed) = self.producers.replay(b, marker) {
                        self.complete_txn(completed)?;
                    }
                }
                None
            }
            StagedKind::Marker {
                producers,
                completed,
                info,
            } => {
                self.producers.commit(producers);
                if let Some(completed) = completed {
                    self.complete_txn(completed)?;
                }
                Some(info)
            }
        };
        Ok((info, writes))
    }

    /// Stage, write and commit in one go (the synchronous callers: tests, tools).
    fn write_and_commit(&mut self, staged: StagedAppend) -> Result<Option<AppendInfo>, LogError> {
        staged.write()?;
        let (info, writes) = self.commit(staged)?;
        for write in &writes {
            write.execute()?;
        }
        Ok(info)
    }

    /// Records a transaction a marker just completed: an aborted one goes into the active
    /// segment's `.txnindex`, and either kind holds the last stable offset until its marker is
    /// below the high watermark.
    fn complete_txn(&mut self, completed: CompletedTxn) -> Result<(), LogError> {
        if completed.is_aborted {
            let entry = TxnIndexEntry {
                producer_id: completed.producer_id,
                first_offset: completed.first_offset,
                last_offset: completed.last_offset,
                last_stable_offset: self.producers.last_stable_offset_after(&completed),
            };
            self.txn_index.append(self.active.base_offset(), entry)?;
        }
        self.unreplicated_txns.push(completed);
        Ok(())
    }

    /// Appends a transaction marker as the partition's leader (Kafka's
    /// `UnifiedLog.appendAsLeader` with origin COORDINATOR for an `EndTransactionMarker`): the
    /// producer's epoch and coordinator epoch are checked, the control batch is written with
    /// the next offset, and the producer's open transaction here (if any) ends. An aborted
    /// transaction goes into the `.txnindex`.
    pub fn append_marker(
        &mut self,
        marker: TxnMarker,
        leader_epoch: i32,
        now_ms: i64,
    ) -> Result<AppendInfo, LogError> {
        let staged = self.stage_marker(marker, leader_epoch, now_ms)?;
        self.write_and_commit(staged)?
            .ok_or_else(|| LogError::Offline("a marker committed no offsets".into()))
    }

    /// The staging half of [`PartitionLog::append_marker`] (see [`StagedAppend`]).
    pub fn stage_marker(
        &mut self,
        marker: TxnMarker,
        leader_epoch: i32,
        now_ms: i64,
    ) -> Result<StagedAppend, LogError> {
        let mut payload = encode_marker_batch(&marker, now_ms);
        let offset = self.log_end_offset();
        let mut producer_append = self.producers.begin();
        let completed = producer_append.check_marker(&marker, offset, now_ms)?;
        let producers = producer_append.into_staged();
        let mut info = BatchInfo::from_header(&BatchHeader::new(&payload[..])?, 0, payload.len());
        info.base_offset = offset;
        if self
            .active
            .roll_due(&self.config, payload.len() as u64, offset, now_ms, now_ms)
        {
            self.roll()?;
        }
        {
            let mut header = BatchHeader::new(&mut payload[..])?;
            header.set_base_offset(offset);
            header.set_partition_leader_epoch(leader_epoch);
        }
        self.epochs.assign(leader_epoch, offset)?;
        let (file, start) = self.active.write_target();
        Ok(StagedAppend {
            file,
            start,
            pieces: vec![Piece::Bytes(Bytes::from(payload))],
            infos: vec![info],
            generation: self.generation,
            #[cfg(test)]
            dir: self.dir.clone(),
            kind: StagedKind::Marker {
                producers,
                completed,
                info: AppendInfo {
                    base_offset: offset,
                    last_offset: offset,
                    log_append_time: -1,
                    log_start_offset: self.log_start_offset(),
                    duplicate: false,
                },
            },
        })
    }

    /// Kafka's first unstable offset given the high watermark: the first offset of the oldest
    /// transaction still open, or completed with its marker at or above `high_watermark`.
    /// `None` when every transaction is decided below the high watermark.
    pub fn first_unstable_offset(&mut self, high_watermark: i64) -> Option<i64> {
        self.unreplicated_txns
            .retain(|t| t.last_offset >= high_watermark);
        let unreplicated = self.unreplicated_txns.iter().map(|t| t.first_offset).min();
        match (self.producers.first_undecided_offset(), unreplicated) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Kafka's last stable offset: the first unstable offset, capped by the high watermark. An
    /// open transaction whose first records retention already deleted holds it at the log start
    /// offset, never below (Kafka's `maybeIncrementFirstUnstableOffset`), so `read_committed`
    /// consumers at the log start are not stuck before offsets that no longer exist.
    pub fn last_stable_offset(&mut self, high_watermark: i64) -> i64 {
        let log_start = self.log_start_offset();
        self.first_unstable_offset(high_watermark)
            .map_or(high_watermark, |first| {
                first.max(log_start).min(high_watermark)
            })
    }

    /// The aborted transactions whose marker is at or after `from` and whose first offset is
    /// below `upto` (see `AbortedTxnIndex::collect`).
    pub fn aborted_transactions(&self, from: i64, upto: i64) -> Vec<AbortedTxn> {
        self.txn_index.collect(from, upto)
    }

    /// The transactions open in this partition, oldest first.
    pub fn ongoing_transactions(&self) -> Vec<OngoingTxn> {
        self.producers.ongoing_transactions()
    }

    /// The aborted transaction index (tests, the cleaner).
    pub fn txn_index(&self) -> &AbortedTxnIndex {
        &self.txn_index
    }

    /// A new empty segment at `base_offset`, with its own `segment.jitter.ms` draw.
    fn new_segment(&self, base_offset: i64) -> io::Result<Segment> {
        let mut segment =
            Segment::create(&self.dir, base_offset, self.config.index_interval_bytes)?;
        segment.set_roll_jitter_ms(random_roll_jitter(&self.config));
        Ok(segment)
    }

    /// Seals the active segment and starts a new one at the log end offset.
    pub fn roll(&mut self) -> Result<(), LogError> {
        self.active.finish()?;
        let next = self.new_segment(self.log_end_offset())?;
        // The new file's directory entry must survive a crash, or its data would vanish with it.
        checkpoint::sync_dir(&self.dir)?;
        let old = std::mem::replace(&mut self.active, next);
        self.sealed.insert(old.base_offset(), old);
        Ok(())
    }

    fn check_range(&self, offset: i64) -> Result<(), LogError> {
        let (start, end) = (self.log_start_offset(), self.log_end_offset());
        if offset < start || offset > end {
            return Err(LogError::OffsetOutOfRange {
                offset,
                log_start: start,
                log_end: end,
            });
        }
        Ok(())
    }

    /// The segment holding `offset`, or the first one after a gap at `offset` that holds a
    /// later offset: a cleaned segment may end before the next one's base, or be empty.
    fn segment_for(&self, offset: i64) -> &Segment {
        if offset >= self.active.base_offset() {
            return &self.active;
        }
        let from = self
            .sealed
            .range(..=offset)
            .next_back()
            .map_or(i64::MIN, |(base, _)| *base);
        self.sealed
            .range(from..)
            .map(|(_, seg)| seg)
            .find(|seg| !seg.is_empty() && seg.next_offset() > offset)
            .unwrap_or(&self.active)
    }

    /// Resolves a read of whole batches from the one containing `offset`, stopping before
    /// `max_offset` (the high watermark) and after about `max_bytes` (but at least one batch).
    pub fn read_plan(
        &self,
        offset: i64,
        max_bytes: usize,
        max_offset: i64,
    ) -> Result<ReadPlan, LogError> {
        self.check_range(offset)?;
        let max_offset = max_offset.min(self.log_end_offset());
        if offset >= max_offset {
            return Ok(ReadPlan::empty());
        }
        let seg = self.segment_for(offset);
        Ok(ReadPlan::new(
            seg.log_file(),
            seg.position_hint(offset),
            seg.size(),
            offset,
            max_offset,
            max_bytes,
            seg.index_interval(),
        ))
    }

    /// `read_plan` + `execute` in one step, up to the log end.
    pub fn read(&self, offset: i64, max_bytes: usize) -> Result<ReadSlice, LogError> {
        self.read_plan(offset, max_bytes, i64::MAX)?.execute()
    }

    /// The first batch of `seg` from `start` satisfying `pred`: (position, header).
    fn find_batch(
        seg: &SegmentFile,
        start: u64,
        pred: impl Fn(&StoredHeader) -> bool,
    ) -> Result<Option<(u64, StoredHeader)>, LogError> {
        let mut pos = start;
        while seg.size.saturating_sub(pos) >= BATCH_HEADER_LEN as u64 {
            let mut raw = [0u8; BATCH_HEADER_LEN];
            seg.file.read_exact_at(&mut raw, pos)?;
            let header = BatchHeader::new(raw)?;
            if pred(&header) {
                return Ok(Some((pos, header)));
            }
            let Some(size) = header.total_size() else {
                return Err(LogError::CorruptMessage(format!(
                    "{}: bad batch length at position {pos}",
                    seg.path.display()
                )));
            };
            pos += size as u64;
        }
        Ok(None)
    }

    /// Narrows a batch found by timestamp to its first record at or after `target`.
    fn exact_record(
        seg: &SegmentFile,
        pos: u64,
        header: &StoredHeader,
        target: i64,
    ) -> Result<(i64, i64), LogError> {
        let fallback = (header.base_offset(), header.max_timestamp());
        let Some(size) = header.total_size() else {
            return Ok(fallback);
        };
        if header.compression() != 0 || pos + size as u64 > seg.size {
            return Ok(fallback);
        }
        let mut bytes = vec![0u8; size];
        seg.file.read_exact_at(&mut bytes, pos)?;
        Ok(first_record_at_or_after(&bytes, target).unwrap_or(fallback))
    }

    /// ListOffsets: -2 earliest, -1 latest, -3 the record with the largest timestamp, otherwise
    /// the first record whose timestamp is at least `timestamp`. `None` when there is none.
    pub fn offset_for_timestamp(&self, timestamp: i64) -> Result<Option<(i64, i64)>, LogError> {
        self.timestamp_lookup(timestamp).execute()
    }

    /// Resolves [`PartitionLog::offset_for_timestamp`] as far as memory allows: the file reads
    /// it still needs are left to [`TimestampLookup::execute`], to run without the lock.
    pub fn timestamp_lookup(&self, timestamp: i64) -> TimestampLookup {
        match timestamp {
            -2 => return TimestampLookup::Done(Some((self.log_start_offset(), -1))),
            -1 => return TimestampLookup::Done(Some((self.log_end_offset(), -1))),
            -3 => return self.max_timestamp_lookup(),
            t if t < 0 => return TimestampLookup::Done(None),
            _ => {}
        }
        let Some(seg) = self.segments().find(|s| s.max_timestamp() >= timestamp) else {
            return TimestampLookup::Done(None);
        };
        TimestampLookup::ByTimestamp {
            start: seg.time_position_hint(timestamp),
            seg: seg.file_view(),
            timestamp,
        }
    }

    /// The record carrying the largest timestamp in the log (the first such, by offset).
    pub fn max_timestamp_offset(&self) -> Result<Option<(i64, i64)>, LogError> {
        self.max_timestamp_lookup().execute()
    }

    /// [`PartitionLog::max_timestamp_offset`] without its file reads (see
    /// [`PartitionLog::timestamp_lookup`]).
    pub fn max_timestamp_lookup(&self) -> TimestampLookup {
        let mut best: Option<&Segment> = None;
        for seg in self.segments() {
            if seg.max_timestamp() >= 0
                && best.is_none_or(|b| seg.max_timestamp() > b.max_timestamp())
            {
                best = Some(seg);
            }
        }
        let Some(seg) = best else {
            return TimestampLookup::Done(None);
        };
        let target = seg.offset_of_max_timestamp();
        TimestampLookup::MaxTimestamp {
            start: seg.position_hint(target),
            seg: seg.file_view(),
            target,
            max_timestamp: seg.max_timestamp(),
        }
    }

    /// Removes every offset at or above `offset` (the whole batch containing it, if it falls
    /// inside one). Used when a follower must drop a diverged tail.
    pub fn truncate_to(&mut self, offset: i64) -> Result<(), LogError> {
        if offset >= self.log_end_offset() {
            // Nothing to cut, but an epoch may start here with no batch of it written (a
            // leader that appended nothing before the next was elected): Kafka's
            // `UnifiedLog.truncateTo` drops it too, or the follower would ask about it forever.
            self.epochs.truncate_from_end(offset)?;
            return Ok(());
        }
        {
            let mut gate = self
                .checkpoint_gate
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            *gate += 1;
            self.generation = *gate;
        }
        // The checkpoint may describe data that is about to go; until a new one is written, a
        // crash must make recovery scan everything rather than trust it, and still find the
        // log start offset (Kafka's `truncateTo` never leaves it above the new end).
        let start = self.log_start_offset().min(offset);
        checkpoint::write(&self.dir, &RecoveryCheckpoint::start_only(start))?;
        self.txn_index.truncate_from(offset)?;
        while self.active.base_offset() > offset {
            let Some((_, previous)) = self.sealed.pop_last() else {
                break;
            };
            let dropped = std::mem::replace(&mut self.active, previous);
            self.txn_index.remove_segment(dropped.base_offset())?;
            dropped.delete()?;
        }
        if self.active.base_offset() > offset {
            // Truncating below the first segment: start over empty at `offset`.
            let fresh = self.new_segment(offset)?;
            let dropped = std::mem::replace(&mut self.active, fresh);
            self.txn_index.remove_segment(dropped.base_offset())?;
            dropped.delete()?;
        } else {
            let active = self.active.file_view();
            let cut = Self::find_batch(&active, self.active.position_hint(offset), |h| {
                h.last_offset() >= offset
            })?;
            if let Some((pos, header)) = cut {
                // Rebuild the indexes and max timestamp of what stays by rescanning it.
                self.active.truncate_at(pos, header.base_offset())?;
                self.active.offset_index.truncate_entries(0)?;
                self.active.time_index.truncate_entries(0)?;
                let base = self.active.base_offset();
                self.active.set_recovered_state(0, base, -1, base);
                let mut scratch = ProducerStateManager::new();
                scan_segment(&mut self.active, &mut scratch, i64::MAX, &mut Vec::new())?;
            }
        }
        checkpoint::sync_dir(&self.dir)?;
        let end = self.log_end_offset();
        // Kafka's `truncateTo`: the log start offset never stays above the new end.
        self.start_offset = self.start_offset.min(end);
        self.epochs.truncate_from_end(end)?;
        self.producers.truncate_to(end);
        self.unreplicated_txns.retain(|t| t.last_offset < end);
        self.durable_offset = self.durable_offset.min(end);
        self.checkpointed_offset = self.checkpointed_offset.min(end);
        self.flush()
    }

    /// Deletes every segment and starts an empty log at `offset` (Kafka's
    /// `truncateFullyAndStartAt`): a follower whose log ends before the leader's log start
    /// offset (the leader deleted, by retention, what the follower has yet to fetch).
    pub fn truncate_fully_and_start_at(&mut self, offset: i64) -> Result<(), LogError> {
        self.start_offset = offset;
        {
            let mut gate = self
                .checkpoint_gate
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            *gate += 1;
            self.generation = *gate;
        }
        checkpoint::write(&self.dir, &RecoveryCheckpoint::start_only(offset))?;
        let fresh = self.new_segment(offset)?;
        let old_active = std::mem::replace(&mut self.active, fresh);
        old_active.delete()?;
        while let Some((_, segment)) = self.sealed.pop_first() {
            segment.delete()?;
        }
        checkpoint::sync_dir(&self.dir)?;
        self.epochs.truncate_from_end(i64::MIN)?;
        self.producers = ProducerStateManager::new();
        self.txn_index.clear()?;
        self.unreplicated_txns.clear();
        self.durable_offset = offset;
        self.checkpointed_offset = offset;
        self.flush()
    }

    /// Kafka's retention task for a `cleanup.policy` with `delete` (`UnifiedLog.deleteOldSegments`):
    /// first the oldest segments for as long as the log stays at least `retention.bytes` big
    /// without them, then the oldest segments whose largest timestamp (the file's modification
    /// time when no batch has one) is more than `retention.ms` before `now_ms`. Every segment
    /// counts, the active one too, but only one whose offsets all lie below `high_watermark`, and
    /// never an empty active segment. When every segment must go, the active one is rolled first:
    /// the log keeps an empty segment at its log end offset, which becomes the log start offset.
    /// The new log start offset is written to the checkpoint before this returns. Returns how many
    /// segments were deleted.
    pub fn apply_retention(&mut self, now_ms: i64, high_watermark: i64) -> Result<usize, LogError> {
        if !self.config.cleanup_policy_delete {
            return Ok(0);
        }
        let mut deleted = 0;
        if let Some(limit) = self
            .config
            .retention_bytes
            .and_then(|b| u64::try_from(b).ok())
        {
            let size = self.size_bytes();
            if size >= limit {
                let mut excess = size - limit;
                let count = self.deletable_segments(high_watermark, |seg| {
                    let fits = excess >= seg.size();
                    if fits {
                        excess -= seg.size();
                    }
                    fits
                });
                deleted += self.delete_segments(count, "retention.bytes")?;
            }
        }
        if let Some(retention_ms) = self.config.retention_ms.filter(|ms| *ms >= 0) {
            let count = self.deletable_segments(high_watermark, |seg| {
                now_ms.saturating_sub(largest_timestamp(seg, now_ms)) > retention_ms
            });
            deleted += self.delete_segments(count, "retention.ms")?;
        }
        if deleted > 0 {
            // Records the new log start offset, so a restart never brings deleted offsets back.
            self.flush()?;
        }
        Ok(deleted)
    }

    /// How many segments, oldest first, may be deleted (Kafka's `LocalLog.deletableSegments`):
    /// each must lie wholly below `high_watermark`, satisfy `predicate`, and not be the empty
    /// active segment.
    fn deletable_segments(
        &self,
        high_watermark: i64,
        mut predicate: impl FnMut(&Segment) -> bool,
    ) -> usize {
        let mut count = 0;
        let mut segments = self.segments().peekable();
        while let Some(seg) = segments.next() {
            let next = segments.peek();
            let upper_bound = next.map_or(self.log_end_offset(), |n| n.base_offset());
            let last_and_empty = next.is_none() && seg.is_empty();
            if high_watermark >= upper_bound && predicate(seg) && !last_and_empty {
                count += 1;
            } else {
                break;
            }
        }
        count
    }

    /// Deletes the `count` oldest segments, rolling first when that is all of them.
    fn delete_segments(&mut self, count: usize, reason: &str) -> Result<usize, LogError> {
        if count == 0 {
            return Ok(0);
        }
        if count >= self.segment_count() {
            // A log always has an active segment: the new one starts at the log end offset.
            self.roll()?;
        }
        for _ in 0..count {
            self.delete_oldest(reason)?;
        }
        // The deletions must be durable before the checkpoint names the new log start offset.
        checkpoint::sync_dir(&self.dir)?;
        self.epochs.truncate_from_start(self.log_start_offset())?;
        Ok(count)
    }

    fn delete_oldest(&mut self, reason: &str) -> Result<(), LogError> {
        if let Some((base, seg)) = self.sealed.pop_first() {
            tracing::info!(
                "{}: deleting segment {base:020} by {reason}; log start offset is now {}",
                self.dir.display(),
                self.log_start_offset()
            );
            let path = seg.log_path().to_path_buf();
            self.txn_index.remove_segment(base)?;
            not_found_is_ok(seg.delete()).map_err(|e| {
                LogError::Io(io::Error::new(
                    e.kind(),
                    format!("deleting {}: {e}", path.display()),
                ))
            })?;
        }
        Ok(())
    }

    /// What the log cleaner needs of this log, taken under the lock (`cleaner::LogView`): each
    /// sealed segment's file handle, offsets, sizes and timestamps, the active segment's base,
    /// the log start and end offsets, the config, and each tracked producer's last offset.
    pub fn cleaner_view(&self) -> cleaner::LogView {
        let now = common::time::now_ms();
        let segments = self
            .sealed
            .values()
            .map(|seg| cleaner::SegmentView {
                base_offset: seg.base_offset(),
                next_offset: seg.next_offset(),
                size: seg.size(),
                largest_timestamp: largest_timestamp(seg, now),
                index_bytes: seg.index_bytes(),
                modified_ms: modified_ms(seg.log_path()),
                file: seg.log_file(),
            })
            .collect();
        let producer_last_offsets = self
            .producers
            .snapshot()
            .into_iter()
            .filter_map(|p| p.batches.back().map(|b| (p.producer_id, b.last_offset)))
            .collect();
        cleaner::LogView {
            dir: self.dir.clone(),
            config: self.config.clone(),
            segments,
            active_base_offset: self.active.base_offset(),
            log_start_offset: self.log_start_offset(),
            log_end_offset: self.log_end_offset(),
            producer_last_offsets,
            aborted: cleaner::AbortedRanges::new(self.txn_index.entries()),
            generation: self.generation,
        }
    }

    /// Swaps the cleaner's `cleaned` segment in for the sealed segments `replaced` (Kafka's
    /// `UnifiedLog.replaceSegments`), after checking that no truncation happened since the
    /// cleaner's view (`generation`) and that each is still there, the same file at the same
    /// size: a truncation or a retention run since the cleaner looked makes this return
    /// `false` and delete `cleaned` instead. Readers holding the old files go
    /// on reading them. An I/O error leaves the old segments in memory; the directory is then
    /// put right by recovery at the next start.
    pub fn replace_segments(
        &mut self,
        replaced: &[cleaner::SegmentView],
        mut cleaned: Segment,
        removed_markers: &[(i64, i64)],
        generation: u64,
    ) -> Result<bool, LogError> {
        let unchanged = generation == self.generation
            && !replaced.is_empty()
            && replaced.iter().all(|v| {
                self.sealed.get(&v.base_offset).is_some_and(|seg| {
                    Arc::ptr_eq(&seg.log_file(), &v.file) && seg.size() == v.size
                })
            });
        if !unchanged || replaced[0].base_offset != cleaned.base_offset() {
            cleaner::discard(cleaned)?;
            return Ok(false);
        }
        let old: Vec<Segment> = replaced
            .iter()
            .filter_map(|v| self.sealed.remove(&v.base_offset))
            .collect();
        match cleaner::swap_in(&self.dir, &mut cleaned, &old) {
            Ok(()) => {
                let bases: Vec<i64> = replaced.iter().map(|v| v.base_offset).collect();
                self.txn_index
                    .merge_segments(&bases, cleaned.base_offset(), removed_markers)?;
                self.sealed.insert(cleaned.base_offset(), cleaned);
                Ok(true)
            }
            Err(e) => {
                for seg in old {
                    self.sealed.insert(seg.base_offset(), seg);
                }
                Err(LogError::Io(e))
            }
        }
    }

    /// What must be fsynced to make everything appended so far durable: just the log files
    /// written since the last flush, or with `checkpoint` all files since the last checkpoint
    /// plus a new checkpoint. `None` when there is nothing to do.
    pub fn flush_plan(&self, checkpoint: bool) -> Option<FlushPlan> {
        let end = self.log_end_offset();
        let since = if checkpoint {
            self.checkpointed_offset
        } else {
            self.durable_offset
        };
        if !checkpoint && since >= end {
            return None;
        }
        let mut files = Vec::new();
        for seg in self.segments().filter(|s| s.next_offset() > since) {
            if checkpoint {
                files.extend(seg.files());
            } else {
                files.push(seg.log_file());
            }
        }
        if checkpoint {
            files.extend(self.txn_index.dirty_files());
        }
        let checkpoint = checkpoint.then(|| {
            (
                self.dir.clone(),
                RecoveryCheckpoint::new(
                    self.log_start_offset(),
                    end,
                    self.active.base_offset(),
                    self.active.size(),
                    self.active.max_timestamp(),
                    self.active.offset_of_max_timestamp(),
                    self.producers.snapshot(),
                ),
                self.checkpoint_gate.clone(),
            )
        });
        Some(FlushPlan {
            files,
            up_to: end,
            generation: self.generation,
            checkpoint,
            #[cfg(test)]
            dir: self.dir.clone(),
        })
    }

    /// Records that `plan` was executed successfully.
    pub fn mark_flushed(&mut self, plan: &FlushPlan) {
        if plan.generation != self.generation {
            return;
        }
        self.durable_offset = self.durable_offset.max(plan.up_to);
        if plan.checkpoint.is_some() {
            self.checkpointed_offset = self.checkpointed_offset.max(plan.up_to);
        }
    }

    /// Whether the checkpoint file lags behind the log.
    pub fn needs_checkpoint(&self) -> bool {
        self.checkpointed_offset < self.log_end_offset()
    }

    /// fsyncs everything and writes the recovery checkpoint (clean close, tests, truncation).
    pub fn flush(&mut self) -> Result<(), LogError> {
        if let Some(plan) = self.flush_plan(true) {
            plan.execute()?;
            self.mark_flushed(&plan);
        }
        Ok(())
    }
}

/// Kafka's `LogSegment.largestTimestamp`: the largest record timestamp, or the file's last
/// modification time when no batch carries one (`now_ms` if even that is unknown).
fn largest_timestamp(seg: &Segment, now_ms: i64) -> i64 {
    if seg.max_timestamp() >= 0 {
        seg.max_timestamp()
    } else {
        modified_ms(seg.log_path()).unwrap_or(now_ms)
    }
}

fn modified_ms(path: &Path) -> Option<i64> {
    let modified = std::fs::metadata(path).ok()?.modified().ok()?;
    let since = modified.duration_since(SystemTime::UNIX_EPOCH).ok()?;
    i64::try_from(since.as_millis()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::batch::check_batch;
    use crate::log::testutil::{batch, batch_with, idempotent_batch, timed_batch, BatchSpec};
    use common::time::now_ms;

    fn small_config() -> LogConfig {
        LogConfig {
            segment_bytes: 1_000,
            index_interval_bytes: 100,
            retention_ms: None,
            ..LogConfig::default()
        }
    }

    fn append(log: &mut PartitionLog, bytes: Vec<u8>) -> AppendInfo {
        log.append(&bytes, 3, 0).expect("append")
    }

    /// Every batch in `bytes`, checked (CRC included) as a consumer would.
    fn batches_in(bytes: &[u8]) -> Vec<crate::log::BatchInfo> {
        let mut out = Vec::new();
        let mut pos = 0;
        while pos < bytes.len() {
            let info = check_batch(&bytes[pos..], pos, usize::MAX).expect("stored batch is valid");
            pos += info.size;
            out.push(info);
        }
        out
    }

    /// Reads the whole log batch by batch from `from`, returning each batch's base offset.
    fn read_all(log: &PartitionLog, from: i64) -> Vec<i64> {
        let mut next = from;
        let mut bases = Vec::new();
        while next < log.log_end_offset() {
            let slice = log.read(next, 1).expect("read");
            let infos = batches_in(&slice.records);
            assert!(!infos.is_empty(), "empty read at {next}");
            for b in infos {
                bases.push(b.base_offset);
                next = b.last_offset() + 1;
            }
        }
        bases
    }

    /// A compressed batch is stored and served byte for byte as the producer compressed it, but
    /// only after its records were read (Kafka's LogValidator decompresses every batch): a body
    /// no decoder could parse is refused with CORRUPT_MESSAGE even behind a right header and CRC.
    #[test]
    fn compressed_records_are_stored_as_sent_and_undecodable_ones_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = PartitionLog::open(dir.path(), LogConfig::default()).expect("open");
        let batch = crate::log::testutil::batch_with(&crate::log::testutil::BatchSpec {
            records: 3,
            compression: kafka_protocol::records::Compression::Gzip,
            ..Default::default()
        });
        let mut opaque = batch.clone();
        let sent = batch.clone();
        let info = log.append(&batch, 0, 0).expect("append");
        assert_eq!((info.base_offset, info.last_offset), (0, 2));
        let slice = log.read(0, 1 << 20).expect("read");
        assert_eq!(&slice.records[61..], &sent[61..]);
        assert_eq!(&slice.records[17..21], &sent[17..21]);

        for b in &mut opaque[61..] {
            *b = 0xff;
        }
        let crc = crate::log::batch::batch_crc(&opaque);
        opaque[17..21].copy_from_slice(&crc.to_be_bytes());
        let err = log.append(&opaque, 0, 0).expect_err("undecodable");
        assert_eq!(err.kafka_error_code(), 2);
        assert_eq!(log.log_end_offset(), 3);
    }

    /// Overwrites maxTimestamp with -1 and fixes the CRC, as an old producer sends it.
    fn without_max_timestamp(mut bytes: Vec<u8>) -> Vec<u8> {
        bytes[35..43].copy_from_slice(&(-1i64).to_be_bytes());
        let crc = crate::log::batch::batch_crc(&bytes);
        bytes[17..21].copy_from_slice(&crc.to_be_bytes());
        bytes
    }

    #[test]
    fn timestamp_lookup_finds_batches_sent_with_max_timestamp_minus_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = PartitionLog::open(dir.path(), LogConfig::default()).expect("open");
        append(&mut log, without_max_timestamp(timed_batch(3, 1_000)));
        append(&mut log, without_max_timestamp(timed_batch(3, 2_000)));
        assert_eq!(
            log.offset_for_timestamp(1_500).expect("ts"),
            Some((3, 2_000))
        );
        assert_eq!(
            log.offset_for_timestamp(1_001).expect("ts"),
            Some((1, 1_001))
        );
        assert_eq!(log.max_timestamp_offset().expect("max"), Some((5, 2_002)));
        // The stored header carries the recomputed value, so a reopened log knows it too.
        drop(log);
        let log = PartitionLog::open(dir.path(), LogConfig::default()).expect("reopen");
        assert_eq!(
            log.offset_for_timestamp(1_500).expect("ts"),
            Some((3, 2_000))
        );
    }

    #[test]
    fn log_append_time_topic_stamps_batches_and_reports_the_append_time() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = LogConfig {
            timestamps: crate::log::TimestampRules {
                timestamp_type: crate::log::TimestampType::LogAppendTime,
                ..Default::default()
            },
            ..LogConfig::default()
        };
        let mut log = PartitionLog::open(dir.path(), config).expect("open");
        let bytes = timed_batch(2, 1_000);
        let info = log.append(&bytes, 0, 1_700_000_000_000).expect("append");
        assert_eq!(info.log_append_time, 1_700_000_000_000);
        let slice = log.read(0, 1 << 20).expect("read");
        let stored = BatchHeader::new(&slice.records[..]).expect("header");
        assert!(stored.is_log_append_time());
        assert_eq!(stored.max_timestamp(), 1_700_000_000_000);
        assert_eq!(stored.base_timestamp(), 1_000);
        check_batch(&slice.records, 0, usize::MAX).expect("stored CRC is right");
        assert_eq!(
            log.offset_for_timestamp(1_699_999_999_999).expect("ts"),
            Some((0, 1_700_000_000_000))
        );

        // A retried idempotent batch is answered with the original append time.
        let first = idempotent_batch(7, 0, 0, 2);
        let original = log.append(&first, 0, 1_700_000_000_500).expect("append");
        let retry = idempotent_batch(7, 0, 0, 2);
        let again = log.append(&retry, 0, 1_700_000_009_999).expect("duplicate");
        assert!(again.duplicate);
        assert_eq!(again.log_append_time, original.log_append_time);
        assert_eq!(again.log_append_time, 1_700_000_000_500);
    }

    #[test]
    fn append_read_roundtrip_patches_offsets_and_keeps_crc() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = PartitionLog::open(dir.path(), LogConfig::default()).expect("open");
        let first = append(&mut log, batch(2, 10));
        let mut two = batch(3, 10);
        two.extend_from_slice(&batch(1, 10));
        let second = log.append(&two, 7, 0).expect("append");
        assert_eq!((first.base_offset, first.last_offset), (0, 1));
        assert_eq!((second.base_offset, second.last_offset), (2, 5));
        assert_eq!(second.log_append_time, -1);
        assert_eq!(log.log_end_offset(), 6);

        let slice = log.read(0, 1 << 20).expect("read");
        let infos = batches_in(&slice.records);
        assert_eq!(
            infos.iter().map(|b| b.base_offset).collect::<Vec<_>>(),
            vec![0, 2, 5]
        );
        let epochs: Vec<i32> = infos
            .iter()
            .map(|b| {
                BatchHeader::new(&slice.records[b.position..])
                    .expect("header")
                    .partition_leader_epoch()
            })
            .collect();
        assert_eq!(epochs, vec![3, 7, 7]);
        // The stored bytes are the produced bytes apart from the two patched fields.
        let mut original = batch(2, 10);
        BatchHeader::new(&mut original[..])
            .expect("header")
            .set_partition_leader_epoch(3);
        assert_eq!(&slice.records[..original.len()], &original[..]);
    }

    #[test]
    fn read_inside_a_batch_returns_the_whole_batch() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = PartitionLog::open(dir.path(), LogConfig::default()).expect("open");
        append(&mut log, batch(5, 10));
        append(&mut log, batch(5, 10));
        let slice = log.read(3, 1).expect("read");
        let infos = batches_in(&slice.records);
        assert_eq!(
            infos.len(),
            1,
            "at least one whole batch, even above max_bytes"
        );
        assert_eq!((infos[0].base_offset, infos[0].last_offset()), (0, 4));
        let slice = log.read(7, 1 << 20).expect("read");
        assert_eq!(batches_in(&slice.records)[0].base_offset, 5);
    }

    #[test]
    fn reads_stop_at_whole_batches_and_at_max_offset() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = PartitionLog::open(dir.path(), LogConfig::default()).expect("open");
        let one = batch(1, 100);
        let size = one.len();
        for _ in 0..4 {
            append(&mut log, one.clone());
        }
        let slice = log.read(0, size * 2 + size / 2).expect("read");
        assert_eq!(batches_in(&slice.records).len(), 2, "no partial batch");
        let plan = log.read_plan(0, 1 << 20, 3).expect("plan");
        assert_eq!(batches_in(&plan.execute().expect("read").records).len(), 3);
        assert!(log.read(4, 100).expect("at end").records.is_empty());
        let past = log.read(5, 100).expect_err("past end");
        assert_eq!(past.kafka_error_code(), 1);
        let plan = log.read_plan(3, 100, 3).expect("plan at high watermark");
        assert!(plan.execute().expect("read").records.is_empty());
    }

    #[test]
    fn segments_roll_by_size_and_reads_span_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = PartitionLog::open(dir.path(), small_config()).expect("open");
        for i in 0..30 {
            let info = append(&mut log, batch(2, 100));
            assert_eq!(info.base_offset, i * 2);
        }
        assert!(log.segment_count() > 3, "{} segments", log.segment_count());
        for seg in log.segments() {
            assert!(seg.size() <= 1_000);
        }
        let bases = read_all(&log, 0);
        assert_eq!(bases, (0..30).map(|i| i * 2).collect::<Vec<_>>());
        // Every odd offset lands inside its batch, whichever segment holds it.
        for offset in (1..60).step_by(2) {
            let slice = log.read(offset, 1).expect("read");
            assert_eq!(batches_in(&slice.records)[0].base_offset, offset - 1);
        }
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .expect("ls")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        assert!(names.contains(&"00000000000000000000.log".to_string()));
        assert!(names.iter().any(|n| n.ends_with(".timeindex")));
    }

    /// A read that must skip a batch bigger than its window (the index names last offsets, so
    /// the batch before the one wanted can be where the scan starts) reads on past it instead of
    /// slicing beyond the bytes it has.
    #[test]
    fn a_read_skips_a_batch_bigger_than_its_window() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = PartitionLog::open(
            dir.path(),
            LogConfig {
                index_interval_bytes: 100,
                retention_ms: None,
                ..LogConfig::default()
            },
        )
        .expect("open");
        append(&mut log, batch(10, 1_000));
        append(&mut log, batch(2, 100));
        append(&mut log, batch(2, 100));
        for (from, base) in [(10, 10), (11, 10), (12, 12), (0, 0)] {
            let slice = log.read(from, 1).expect("read");
            assert_eq!(
                batches_in(&slice.records)[0].base_offset,
                base,
                "from {from}"
            );
        }
    }

    /// segment.ms is measured from the first batch's timestamp to the incoming batch's, not by
    /// the wall clock (Kafka's `LogSegment.timeWaitedForRoll`), and must be exceeded.
    #[test]
    fn segment_ms_rolls_once_incoming_timestamps_pass_the_first_batch_by_more_than_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = LogConfig {
            segment_ms: Some(1_000),
            ..LogConfig::default()
        };
        let mut log = PartitionLog::open(dir.path(), config).expect("open");
        log.append(&timed_batch(1, 10_000), 0, 50_000)
            .expect("append");
        // Long after on the wall clock, but only 1000 ms after by the records' timestamps.
        log.append(&timed_batch(1, 11_000), 0, 90_000)
            .expect("append");
        assert_eq!(log.segment_count(), 1);
        let info = log
            .append(&timed_batch(1, 11_001), 0, 90_000)
            .expect("append");
        assert_eq!(log.segment_count(), 2);
        assert_eq!(log.segments().last().map(Segment::base_offset), Some(2));
        assert_eq!(info.base_offset, 2);
        // The new segment counts from its own first batch.
        log.append(&timed_batch(1, 12_000), 0, 90_000)
            .expect("append");
        assert_eq!(log.segment_count(), 2);
    }

    /// A first batch without a timestamp (-1) makes segment.ms count from the segment's
    /// creation on the wall clock.
    #[test]
    fn segment_ms_without_timestamps_counts_from_the_segments_creation() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = LogConfig {
            segment_ms: Some(60_000),
            ..LogConfig::default()
        };
        let mut log = PartitionLog::open(dir.path(), config).expect("open");
        let now = now_ms();
        log.append(&timed_batch(1, -1), 0, now).expect("append");
        log.append(&timed_batch(1, -1), 0, now).expect("append");
        assert_eq!(log.segment_count(), 1);
        log.append(&timed_batch(1, -1), 0, now + 120_000)
            .expect("append");
        assert_eq!(log.segment_count(), 2);
    }

    /// A reopened segment keeps counting segment.ms from its first batch's timestamp.
    #[test]
    fn segment_ms_survives_a_restart() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = LogConfig {
            segment_ms: Some(1_000),
            ..LogConfig::default()
        };
        let mut log = PartitionLog::open(dir.path(), config.clone()).expect("open");
        log.append(&timed_batch(1, 10_000), 0, 0).expect("append");
        drop(log);
        let mut log = PartitionLog::open(dir.path(), config).expect("reopen");
        log.append(&timed_batch(1, 11_500), 0, 0).expect("append");
        assert_eq!(log.segment_count(), 2);
    }

    #[test]
    fn offset_index_is_used_for_lookups() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = LogConfig {
            index_interval_bytes: 100,
            ..LogConfig::default()
        };
        let mut log = PartitionLog::open(dir.path(), config).expect("open");
        for _ in 0..50 {
            append(&mut log, batch(1, 80));
        }
        let seg = log.segments().next().expect("segment");
        assert!(seg.offset_index.entries().len() > 10);
        for offset in 0..50 {
            let hint = seg.position_hint(offset);
            let slice = log.read(offset, 1).expect("read");
            assert_eq!(batches_in(&slice.records)[0].base_offset, offset);
            // The hint never points past the batch.
            let exact = (offset as u64) * slice.records.len() as u64;
            assert!(hint <= exact);
        }
    }

    /// A consumer tailing the log reads each new batch as it arrives: every such read is one
    /// `pread`, however many batches lie between the offset index's last entry and the batch
    /// (before, each of them cost a header read). A read from the log start (catching up) and a
    /// read whose first batch is larger than what it asked for take at most two.
    #[test]
    fn a_tailing_read_costs_one_pread_per_read_not_per_batch() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = PartitionLog::open(dir.path(), LogConfig::default()).expect("open");
        for offset in 0..400 {
            append(&mut log, batch(1, 20));
            let slice = log.read(offset, 1 << 20).expect("read");
            let batches = batches_in(&slice.records);
            assert_eq!(batches.len(), 1);
            assert_eq!(batches[0].base_offset, offset);
            assert_eq!(slice.reads, 1, "tailing read at {offset}");
        }
        let seg = log.segments().next().expect("segment");
        assert!(seg.offset_index.entries().len() >= 3, "the index was used");
        let from_start = log.read(0, 16 << 10).expect("read");
        assert!(from_start.reads <= 2);
        assert!(batches_in(&from_start.records).len() > 100);
        for offset in [17, 150, 299, 399] {
            let slice = log.read(offset, 1).expect("read");
            assert_eq!(batches_in(&slice.records)[0].base_offset, offset);
            assert!(slice.reads <= 2, "read at {offset}: {} preads", slice.reads);
        }
        append(&mut log, batch(1, 3_000));
        let big = log.read(400, 1).expect("read");
        assert_eq!(batches_in(&big.records).len(), 1);
        assert!(big.reads <= 2);
        assert_eq!(log.read(401, 1 << 20).expect("at the end").reads, 0);
    }

    #[test]
    fn timestamps_are_found_through_the_time_index() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = PartitionLog::open(dir.path(), small_config()).expect("open");
        for i in 0..20 {
            append(&mut log, timed_batch(3, 1_000 + i * 100));
        }
        assert_eq!(log.offset_for_timestamp(0).expect("ts"), Some((0, 1_000)));
        // Batch 7 holds offsets 21..=23 with timestamps 1700..=1702.
        assert_eq!(
            log.offset_for_timestamp(1_701).expect("ts"),
            Some((22, 1_701))
        );
        assert_eq!(
            log.offset_for_timestamp(1_703).expect("ts"),
            Some((24, 1_800))
        );
        assert_eq!(log.offset_for_timestamp(10_000).expect("ts"), None);
        assert_eq!(
            log.offset_for_timestamp(-2).expect("earliest"),
            Some((0, -1))
        );
        assert_eq!(
            log.offset_for_timestamp(-1).expect("latest"),
            Some((60, -1))
        );
        assert_eq!(
            log.offset_for_timestamp(-3).expect("max"),
            Some((59, 2_902))
        );
    }

    #[test]
    fn retention_by_bytes_deletes_whole_old_segments() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = small_config();
        config.retention_bytes = Some(2_500);
        let mut log = PartitionLog::open(dir.path(), config).expect("open");
        for _ in 0..40 {
            append(&mut log, batch(1, 200));
        }
        let before = log.segment_count();
        let end = log.log_end_offset();
        let deleted = log.apply_retention(0, end).expect("retention");
        assert!(deleted > 0);
        assert_eq!(log.segment_count(), before - deleted);
        assert!(log.size_bytes() >= 2_500 - 1_000 && log.size_bytes() <= 2_500 + 1_000);
        let start = log.log_start_offset();
        assert!(start > 0);
        assert_eq!(
            log.read(start - 1, 1).expect_err("gone").kafka_error_code(),
            1
        );
        assert_eq!(read_all(&log, start).first(), Some(&start));
        assert!(!dir.path().join("00000000000000000000.log").exists());
    }

    fn timed_log(dir: &Path, retention_ms: Option<i64>) -> PartitionLog {
        let mut config = small_config();
        config.retention_ms = retention_ms;
        let mut log = PartitionLog::open(dir, config).expect("open");
        for i in 0..20 {
            let bytes = batch_with(&BatchSpec {
                value_len: 200,
                timestamp: 10_000 + i * 100,
                ..BatchSpec::default()
            });
            append(&mut log, bytes);
        }
        log
    }

    /// Kafka deletes a segment once its largest timestamp is more than retention.ms old, the
    /// active segment too: it is rolled first, and the log start offset becomes the log end.
    #[test]
    fn retention_by_time_deletes_every_expired_segment_including_the_active_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = timed_log(dir.path(), Some(1_000));
        assert!(log.segment_count() > 4);
        let end = log.log_end_offset();
        assert_eq!(end, 20);
        // Segments whose newest record is older than now - 1000 go; the others stay.
        let deleted = log.apply_retention(11_500, end).expect("retention");
        assert!(deleted > 0);
        for seg in log.segments() {
            assert!(seg.max_timestamp() >= 10_500, "{}", seg.base_offset());
        }
        // The newest record (11_900) is exactly 1000 ms old: not yet past retention.
        log.apply_retention(12_900, end).expect("retention");
        assert_eq!(log.segment_count(), 1);
        assert!(log.log_start_offset() < 20);
        let all = log.apply_retention(12_901, end).expect("retention");
        assert_eq!(all, 1, "the active segment goes too");
        assert_eq!(log.segment_count(), 1);
        assert_eq!((log.log_start_offset(), log.log_end_offset()), (20, 20));
        assert_eq!(log.segments().next().map(Segment::base_offset), Some(20));
        assert!(log.segments().all(Segment::is_empty));
        assert_eq!(
            log.offset_for_timestamp(-2).expect("earliest"),
            Some((20, -1))
        );
        assert_eq!(
            log.offset_for_timestamp(-1).expect("latest"),
            Some((20, -1))
        );
        assert_eq!(log.offset_for_timestamp(0).expect("by time"), None);
        assert_eq!(log.read(19, 100).expect_err("gone").kafka_error_code(), 1);
        assert_eq!(log.read(0, 100).expect_err("gone").kafka_error_code(), 1);
        assert!(log.read(20, 100).expect("at end").records.is_empty());
        assert!(!dir.path().join("00000000000000000000.log").exists());
        // The empty active segment is never deleted; appends continue at the old end.
        assert_eq!(log.apply_retention(i64::MAX / 2, 20).expect("again"), 0);
        assert_eq!(append(&mut log, timed_batch(2, 50_000)).base_offset, 20);
        assert_eq!(read_all(&log, 20), vec![20]);
    }

    /// Only segments whose offsets all lie below the high watermark may go.
    #[test]
    fn retention_stops_at_the_high_watermark() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = timed_log(dir.path(), Some(1_000));
        let bases: Vec<i64> = log.segments().map(Segment::base_offset).collect();
        let hw = bases[2];
        let deleted = log.apply_retention(i64::MAX / 2, hw).expect("retention");
        assert_eq!(deleted, 2);
        assert_eq!(log.log_start_offset(), bases[2]);
        // Just below the end: the active segment stays.
        log.apply_retention(i64::MAX / 2, 19).expect("retention");
        assert_eq!(log.segment_count(), 1);
        assert_eq!(log.log_start_offset(), bases[bases.len() - 1]);
    }

    /// retention.bytes counts the active segment too: with a limit of 0 every record goes.
    #[test]
    fn retention_by_bytes_deletes_the_active_segment_when_it_must() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = LogConfig {
            retention_ms: None,
            ..LogConfig::default()
        };
        config.retention_bytes = Some(0);
        let mut log = PartitionLog::open(dir.path(), config.clone()).expect("open");
        for _ in 0..5 {
            append(&mut log, batch(1, 100));
        }
        assert_eq!(log.segment_count(), 1);
        // One byte under the log's size: deleting the only segment would go below the limit.
        config.retention_bytes = Some(log.size_bytes() as i64 - 1);
        log.set_config(config.clone());
        assert_eq!(log.apply_retention(0, 5).expect("retention"), 0);
        config.retention_bytes = Some(0);
        log.set_config(config);
        assert_eq!(log.apply_retention(0, 5).expect("retention"), 1);
        assert_eq!((log.log_start_offset(), log.log_end_offset()), (5, 5));
        assert_eq!(log.size_bytes(), 0);
    }

    /// `cleanup.policy=compact` turns retention by time and size off.
    #[test]
    fn compact_only_logs_keep_expired_segments() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = timed_log(dir.path(), Some(1_000));
        let mut config = log.config().clone();
        config.cleanup_policy_delete = false;
        config.retention_bytes = Some(0);
        log.set_config(config);
        assert_eq!(log.apply_retention(i64::MAX / 2, 20).expect("retention"), 0);
        assert_eq!(log.log_start_offset(), 0);
    }

    /// After retention deleted every record, a restart comes back at the same log start and
    /// end offsets (the checkpoint records them), even if the empty segment were lost.
    #[test]
    fn restart_after_retention_deleted_everything_keeps_the_offsets() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = timed_log(dir.path(), Some(1_000));
        log.apply_retention(i64::MAX / 2, 20).expect("retention");
        assert_eq!((log.log_start_offset(), log.log_end_offset()), (20, 20));
        let config = log.config().clone();
        drop(log);
        let mut log = PartitionLog::open(dir.path(), config.clone()).expect("reopen");
        assert_eq!((log.log_start_offset(), log.log_end_offset()), (20, 20));
        assert_eq!(log.read(3, 100).expect_err("gone").kafka_error_code(), 1);
        assert_eq!(append(&mut log, batch(1, 10)).base_offset, 20);
        log.apply_retention(i64::MAX / 2, 21).expect("retention");
        assert_eq!((log.log_start_offset(), log.log_end_offset()), (21, 21));
        drop(log);
        // Without any segment file, the checkpoint's log start offset still holds.
        for entry in std::fs::read_dir(dir.path()).expect("ls") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e != "tmp")
                && path.file_name() != Some(std::ffi::OsStr::new(checkpoint::FILE_NAME))
            {
                std::fs::remove_file(&path).expect("rm");
            }
        }
        let mut log = PartitionLog::open(dir.path(), config).expect("reopen");
        assert_eq!((log.log_start_offset(), log.log_end_offset()), (21, 21));
        assert_eq!(append(&mut log, batch(1, 10)).base_offset, 21);
    }

    /// Segments that retention had deleted but that came back (their deletion never reached the
    /// disk) are not served again: the log starts and ends at the recorded log start offset.
    #[test]
    fn segments_below_the_recorded_log_start_offset_are_not_revived() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = timed_log(dir.path(), Some(1_000));
        let first = dir.path().join("00000000000000000000.log");
        let saved = std::fs::read(&first).expect("read first segment");
        log.apply_retention(i64::MAX / 2, 20).expect("retention");
        let config = log.config().clone();
        drop(log);
        for suffix in ["log", "index", "timeindex"] {
            std::fs::remove_file(dir.path().join(format!("00000000000000000020.{suffix}")))
                .expect("rm");
        }
        std::fs::write(&first, saved).expect("restore first segment");
        let mut log = PartitionLog::open(dir.path(), config).expect("reopen");
        assert_eq!((log.log_start_offset(), log.log_end_offset()), (20, 20));
        assert!(!first.exists());
        assert_eq!(append(&mut log, batch(1, 10)).base_offset, 20);
    }

    fn compressed_config(compression_type: crate::log::BrokerCompressionType) -> LogConfig {
        LogConfig {
            compression: crate::log::TopicCompression {
                compression_type,
                ..Default::default()
            },
            ..LogConfig::default()
        }
    }

    /// The records of every stored batch, decoded as a consumer decodes them, and the codecs.
    fn stored_records(log: &PartitionLog) -> (Vec<kafka_protocol::records::Record>, Vec<u8>) {
        let slice = log.read(log.log_start_offset(), 1 << 24).expect("read");
        let codecs = batches_in(&slice.records)
            .iter()
            .map(|b| b.compression())
            .collect();
        let mut buf = bytes::Bytes::copy_from_slice(&slice.records);
        let mut records = Vec::new();
        while !buf.is_empty() {
            let set = kafka_protocol::records::RecordBatchDecoder::decode(&mut buf)
                .expect("consumer decodes the stored batch");
            records.extend(set.records);
        }
        (records, codecs)
    }

    fn sent_records(bytes: &[u8]) -> Vec<kafka_protocol::records::Record> {
        let mut buf = bytes::Bytes::copy_from_slice(bytes);
        kafka_protocol::records::RecordBatchDecoder::decode(&mut buf)
            .expect("decodes")
            .records
    }

    /// The fields a rebuilt batch keeps (offsets and the leader epoch are assigned on append).
    fn same_content(a: &kafka_protocol::records::Record, b: &kafka_protocol::records::Record) {
        assert_eq!(
            (
                &a.key,
                &a.value,
                &a.headers,
                a.timestamp,
                a.producer_id,
                a.sequence
            ),
            (
                &b.key,
                &b.value,
                &b.headers,
                b.timestamp,
                b.producer_id,
                b.sequence
            )
        );
    }

    #[test]
    fn gzip_batch_into_an_uncompressed_topic_is_stored_uncompressed_with_the_same_records() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = compressed_config(crate::log::BrokerCompressionType::Uncompressed);
        let mut log = PartitionLog::open(dir.path(), config).expect("open");
        let sent = batch_with(&BatchSpec {
            records: 5,
            timestamp: 4_000,
            compression: kafka_protocol::records::Compression::Gzip,
            ..BatchSpec::default()
        });
        let expected = sent_records(&sent);
        append(&mut log, batch(2, 10));
        let info = append(&mut log, sent);
        assert_eq!((info.base_offset, info.last_offset), (2, 6));
        let (records, codecs) = stored_records(&log);
        assert_eq!(codecs, [0, 0]);
        assert_eq!(records.len(), 7);
        for (stored, sent) in records[2..].iter().zip(&expected) {
            same_content(stored, sent);
        }
        assert_eq!(records[6].offset, 6);
        assert_eq!(
            log.offset_for_timestamp(4_003).expect("lookup"),
            Some((5, 4_003))
        );
        // Recovery accepts what was written.
        drop(log);
        let log = PartitionLog::open(dir.path(), LogConfig::default()).expect("reopen");
        assert_eq!(log.log_end_offset(), 7);
    }

    #[test]
    fn uncompressed_batch_into_a_zstd_topic_is_stored_zstd() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = compressed_config(crate::log::BrokerCompressionType::Zstd);
        let mut log = PartitionLog::open(dir.path(), config).expect("open");
        let sent = batch_with(&BatchSpec {
            records: 4,
            value_len: 2_000,
            ..BatchSpec::default()
        });
        let expected = sent_records(&sent);
        let sent_len = sent.len();
        append(&mut log, sent);
        let (records, codecs) = stored_records(&log);
        assert_eq!(codecs, [4]);
        for (stored, sent) in records.iter().zip(&expected) {
            same_content(stored, sent);
        }
        assert!(
            (log.size_bytes() as usize) < sent_len / 4,
            "stored compressed"
        );
        // A batch that already has the target codec is stored as it came.
        let zstd = batch_with(&BatchSpec {
            records: 2,
            compression: kafka_protocol::records::Compression::Zstd,
            ..BatchSpec::default()
        });
        let sent = zstd.clone();
        let info = append(&mut log, zstd);
        let slice = log.read(info.base_offset, 1 << 20).expect("read");
        assert_eq!(&slice.records[17..], &sent[17..]);
    }

    #[test]
    fn compression_type_producer_keeps_the_bytes_identical() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = PartitionLog::open(dir.path(), LogConfig::default()).expect("open");
        for compression in [
            kafka_protocol::records::Compression::None,
            kafka_protocol::records::Compression::Gzip,
            kafka_protocol::records::Compression::Snappy,
            kafka_protocol::records::Compression::Lz4,
            kafka_protocol::records::Compression::Zstd,
        ] {
            let sent = batch_with(&BatchSpec {
                records: 3,
                timestamp: 5_000,
                compression,
                ..BatchSpec::default()
            });
            let copy = sent.clone();
            let info = append(&mut log, sent);
            let slice = log.read(info.base_offset, 1 << 20).expect("read");
            assert_eq!(
                &slice.records[..copy.len()][16..],
                &copy[16..],
                "{compression:?}"
            );
        }
    }

    #[test]
    fn compressed_batch_with_misnumbered_inner_offsets_is_rebuilt_with_the_same_codec() {
        use crate::log::testutil::batch_with_offsets;
        use kafka_protocol::records::Compression;
        for compression in [
            Compression::Gzip,
            Compression::Snappy,
            Compression::Lz4,
            Compression::Zstd,
        ] {
            let dir = tempfile::tempdir().expect("tempdir");
            let mut log = PartitionLog::open(dir.path(), LogConfig::default()).expect("open");
            append(&mut log, batch(2, 10));
            // Inner offsets 0, 0, 2: the header (lastOffsetDelta 2, 3 records) is consistent.
            let info = append(&mut log, batch_with_offsets(&[0, 0, 2], compression));
            assert_eq!((info.base_offset, info.last_offset), (2, 4));
            let (records, codecs) = stored_records(&log);
            assert_eq!(codecs[1..], [compression as u8], "{compression:?}");
            let offsets: Vec<i64> = records.iter().map(|r| r.offset).collect();
            assert_eq!(offsets, [0, 1, 2, 3, 4], "{compression:?}");
            let values: Vec<_> = records[2..].iter().map(|r| r.value.clone()).collect();
            assert_eq!(
                values,
                ["value-0", "value-1", "value-2"]
                    .map(|v| Some(bytes::Bytes::from(v)))
                    .to_vec(),
                "{compression:?}"
            );
        }
    }

    #[test]
    fn uncompressed_batch_with_misnumbered_inner_offsets_is_stored_as_sent() {
        // Kafka's `assignOffsetsNonCompressed` only sets the batch's last offset.
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = PartitionLog::open(dir.path(), LogConfig::default()).expect("open");
        let sent = crate::log::testutil::batch_with_offsets(
            &[0, 0, 2],
            kafka_protocol::records::Compression::None,
        );
        let copy = sent.clone();
        let info = append(&mut log, sent);
        let slice = log.read(info.base_offset, 1 << 20).expect("read");
        assert_eq!(&slice.records[..copy.len()][16..], &copy[16..]);
    }

    #[test]
    fn idempotent_duplicates_are_detected_after_recompression() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = compressed_config(crate::log::BrokerCompressionType::Lz4);
        let mut log = PartitionLog::open(dir.path(), config.clone()).expect("open");
        let first = append(&mut log, idempotent_batch(9, 0, 0, 3));
        let retry = append(&mut log, idempotent_batch(9, 0, 0, 3));
        assert!(retry.duplicate);
        assert_eq!(
            (retry.base_offset, retry.last_offset),
            (first.base_offset, 2)
        );
        let next = append(&mut log, idempotent_batch(9, 0, 3, 2));
        assert_eq!(next.base_offset, 3);
        let gap = log
            .append(&idempotent_batch(9, 0, 9, 1), 0, 0)
            .expect_err("gap");
        assert_eq!(gap.kafka_error_code(), 45);
        let (records, codecs) = stored_records(&log);
        assert_eq!(codecs, [3, 3]);
        let sequences: Vec<i32> = records.iter().map(|r| r.sequence).collect();
        assert_eq!(sequences, [0, 1, 2, 3, 4]);
        // And after a restart that rebuilds the producer state by scanning the segments.
        drop(log);
        std::fs::remove_file(dir.path().join(checkpoint::FILE_NAME)).expect("rm checkpoint");
        let mut log = PartitionLog::open(dir.path(), config).expect("reopen");
        assert!(append(&mut log, idempotent_batch(9, 0, 3, 2)).duplicate);
    }

    #[test]
    fn a_recompressed_batch_above_max_message_bytes_is_message_too_large() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = LogConfig {
            max_message_bytes: 2_000,
            ..compressed_config(crate::log::BrokerCompressionType::Uncompressed)
        };
        let mut log = PartitionLog::open(dir.path(), config).expect("open");
        let zipped = batch_with(&BatchSpec {
            records: 10,
            value_len: 1_000,
            compression: kafka_protocol::records::Compression::Gzip,
            ..BatchSpec::default()
        });
        assert!(zipped.len() < 2_000, "the batch as sent fits");
        let err = log
            .append(&zipped, 0, 0)
            .expect_err("too large once rebuilt");
        assert_eq!(err.kafka_error_code(), 10);
        assert!(matches!(err, LogError::MessageTooLarge { max: 2_000, size } if size > 10_000));
        assert_eq!(log.log_end_offset(), 0, "nothing written");
    }

    #[test]
    fn duplicate_idempotent_batch_returns_original_offsets() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = PartitionLog::open(dir.path(), LogConfig::default()).expect("open");
        append(&mut log, batch(2, 10));
        let first = append(&mut log, idempotent_batch(9, 0, 0, 3));
        let second = append(&mut log, idempotent_batch(9, 0, 3, 2));
        assert_eq!((first.base_offset, second.base_offset), (2, 5));
        let retry = append(&mut log, idempotent_batch(9, 0, 0, 3));
        assert!(retry.duplicate);
        assert_eq!((retry.base_offset, retry.last_offset), (2, 4));
        assert_eq!(log.log_end_offset(), 7, "nothing written for the retry");
        let gap = log
            .append(&idempotent_batch(9, 0, 9, 1), 0, 0)
            .expect_err("gap");
        assert_eq!(gap.kafka_error_code(), 45);

        // Producer state survives a clean restart (checkpoint) and a restart without one (scan).
        drop(log);
        let mut log = PartitionLog::open(dir.path(), LogConfig::default()).expect("reopen");
        assert!(append(&mut log, idempotent_batch(9, 0, 3, 2)).duplicate);
        drop(log);
        std::fs::remove_file(dir.path().join(checkpoint::FILE_NAME)).expect("rm checkpoint");
        let mut log = PartitionLog::open(dir.path(), LogConfig::default()).expect("reopen");
        assert!(append(&mut log, idempotent_batch(9, 0, 3, 2)).duplicate);
        let next = append(&mut log, idempotent_batch(9, 0, 5, 1));
        assert!(!next.duplicate);
    }

    #[test]
    fn old_producer_epoch_is_fenced() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = PartitionLog::open(dir.path(), LogConfig::default()).expect("open");
        append(&mut log, idempotent_batch(4, 2, 0, 1));
        let err = log
            .append(&idempotent_batch(4, 1, 1, 1), 0, 0)
            .expect_err("fenced");
        assert_eq!(err.kafka_error_code(), 47);
        assert_eq!(log.log_end_offset(), 1);
    }

    #[test]
    fn invalid_payloads_write_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = PartitionLog::open(dir.path(), small_config()).expect("open");
        let mut good_then_bad = batch(1, 10);
        let mut bad = batch(1, 10);
        let last = bad.len() - 1;
        bad[last] ^= 1;
        good_then_bad.extend_from_slice(&bad);
        let err = log.append(&good_then_bad, 0, 0).expect_err("bad crc");
        assert_eq!(err.kafka_error_code(), 2);
        let mut huge = Vec::new();
        for _ in 0..10 {
            huge.extend_from_slice(&batch(1, 200));
        }
        let err = log.append(&huge, 0, 0).expect_err("too big for a segment");
        assert_eq!(err.kafka_error_code(), 18);
        assert_eq!(log.log_end_offset(), 0);
        assert_eq!(log.size_bytes(), 0);
    }

    #[test]
    fn data_survives_reopen_and_appends_continue() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = PartitionLog::open(dir.path(), small_config()).expect("open");
        for _ in 0..25 {
            append(&mut log, batch(2, 100));
        }
        log.flush().expect("flush");
        let segments = log.segment_count();
        drop(log);
        let mut log = PartitionLog::open(dir.path(), small_config()).expect("reopen");
        assert_eq!(log.segment_count(), segments);
        assert_eq!(log.log_end_offset(), 50);
        assert_eq!(append(&mut log, batch(1, 10)).base_offset, 50);
        assert_eq!(read_all(&log, 0).len(), 26);
        assert_eq!(
            log.offset_for_timestamp(-3).expect("max").map(|x| x.1),
            Some(1_001)
        );
    }

    #[test]
    fn truncate_to_drops_the_tail_and_appends_continue_there() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = PartitionLog::open(dir.path(), small_config()).expect("open");
        for _ in 0..20 {
            append(&mut log, batch(2, 100));
        }
        log.truncate_to(15).expect("truncate");
        // Offset 15 sits in the batch 14..=15, which goes entirely.
        assert_eq!(log.log_end_offset(), 14);
        assert_eq!(read_all(&log, 0).last(), Some(&12));
        assert_eq!(append(&mut log, batch(1, 10)).base_offset, 14);
        drop(log);
        let log = PartitionLog::open(dir.path(), small_config()).expect("reopen");
        assert_eq!(log.log_end_offset(), 15);
        log.truncate_to_check();
    }

    /// A follower stores the leader's batches byte for byte, learns their epochs, and answers
    /// OffsetForLeaderEpoch as the leader does; a truncation forgets the epochs it cut; the epoch
    /// cache survives a reopen and is rebuilt from the batches when its file is gone.
    #[test]
    fn follower_appends_keep_the_leaders_bytes_and_epochs() {
        let leader_dir = tempfile::tempdir().expect("tempdir");
        let mut leader = PartitionLog::open(leader_dir.path(), small_config()).expect("open");
        for epoch in [0, 0, 2, 2, 5] {
            leader.assign_epoch(epoch).expect("epoch");
            leader.append(&batch(2, 50), epoch, 0).expect("append");
        }
        assert_eq!(leader.end_offset_for_epoch(1), (0, 4));
        let dir = tempfile::tempdir().expect("tempdir");
        let mut follower = PartitionLog::open(dir.path(), small_config()).expect("open");
        let mut next = 0;
        while next < leader.log_end_offset() {
            let slice = leader.read(next, 100_000).expect("read");
            let (first, last) = follower
                .append_as_follower(&slice.records)
                .expect("follower append")
                .expect("whole batches");
            assert_eq!(first, next);
            next = last + 1;
        }
        assert_eq!(follower.log_end_offset(), 10);
        assert_eq!(read_all(&follower, 0), read_all(&leader, 0));
        for epoch in -1..7 {
            assert_eq!(
                follower.end_offset_for_epoch(epoch),
                leader.end_offset_for_epoch(epoch),
                "epoch {epoch}"
            );
        }
        // A batch that does not continue the log is refused, and nothing is written.
        let again = leader.read(0, 100).expect("read");
        assert!(follower.append_as_follower(&again.records).is_err());
        assert_eq!(follower.log_end_offset(), 10);
        // Truncating into epoch 2 forgets epoch 5.
        follower.truncate_to(8).expect("truncate");
        assert_eq!(follower.latest_epoch(), Some(2));
        assert_eq!(follower.end_offset_for_epoch(5), (-1, -1));
        drop(follower);
        let reopened = PartitionLog::open(dir.path(), small_config()).expect("reopen");
        assert_eq!(reopened.end_offset_for_epoch(2), (2, 8));
        drop(reopened);
        std::fs::remove_file(
            dir.path()
                .join(crate::log::epoch_cache::EPOCH_CHECKPOINT_FILE),
        )
        .expect("remove");
        let rebuilt = PartitionLog::open(dir.path(), small_config()).expect("reopen");
        assert_eq!(rebuilt.end_offset_for_epoch(0), (0, 4));
        assert_eq!(rebuilt.latest_epoch(), Some(2));
    }

    /// A broker that became leader (epoch recorded at its log end) and wrote nothing before the
    /// next leader was elected: truncating to its log end drops that epoch, or it would ask the
    /// new leader about it for ever (found by trying to break the cluster).
    #[test]
    fn truncating_to_the_log_end_drops_an_epoch_with_no_batch() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = PartitionLog::open(dir.path(), small_config()).expect("open");
        log.assign_epoch(0).expect("epoch");
        log.append(&batch(3, 10), 0, 0).expect("append");
        log.assign_epoch(2).expect("epoch");
        assert_eq!(log.latest_epoch(), Some(2));
        log.truncate_to(3).expect("truncate");
        assert_eq!((log.latest_epoch(), log.log_end_offset()), (Some(0), 3));
        drop(log);
        let log = PartitionLog::open(dir.path(), small_config()).expect("reopen");
        assert_eq!(log.latest_epoch(), Some(0));
    }

    /// Kafka's `truncateFromStart`: once the log start passes an epoch's first offset, the cache
    /// no longer names offsets below the log start (DeleteRecords, retention, and a reopen after
    /// a crash between the start's checkpoint and the cache's trim).
    #[test]
    fn the_epoch_cache_is_trimmed_when_the_log_start_moves() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = PartitionLog::open(dir.path(), small_config()).expect("open");
        for epoch in 0..3 {
            log.assign_epoch(epoch).expect("epoch");
            log.append(&batch(5, 10), epoch, 0).expect("append");
            log.roll().expect("roll");
        }
        // Epochs 0, 1, 2 start at 0, 5, 10.
        assert_eq!(log.end_offset_for_epoch(0), (0, 5));
        assert!(log.advance_log_start_offset(7).expect("delete records"));
        assert_eq!(log.log_start_offset(), 7);
        assert_eq!(log.epochs.entries(), &[(1, 7), (2, 10)]);
        // Epoch 0 ends where the log starts, not inside the deleted records.
        assert_eq!(log.end_offset_for_epoch(0), (0, 7));
        drop(log);
        let mut log = PartitionLog::open(dir.path(), small_config()).expect("reopen");
        assert_eq!(log.epochs.entries(), &[(1, 7), (2, 10)]);

        // Retention deletes the segment of epoch 1 (it keeps the size of epoch 2's segment):
        // epoch 2 is all that is left.
        let keep = log.segments().nth(1).expect("epoch 2's segment").size();
        log.set_config(LogConfig {
            retention_bytes: Some(i64::try_from(keep).expect("size")),
            ..small_config()
        });
        assert!(log.apply_retention(0, 15).expect("retention") > 0);
        assert_eq!(log.log_start_offset(), 10);
        assert_eq!(log.epochs.entries(), &[(2, 10)]);

        // A crash after the start moved but before the cache was trimmed: the reopen trims it.
        let mut stale = LeaderEpochCache::empty(dir.path());
        for (e, o) in [(0, 0), (1, 5), (2, 10)] {
            stale.assign(e, o).expect("stale cache");
        }
        drop(log);
        let log = PartitionLog::open(dir.path(), small_config()).expect("reopen");
        assert_eq!(log.epochs.entries(), &[(2, 10)]);
    }

    #[test]
    fn a_follower_behind_the_leaders_log_start_starts_over_there() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = PartitionLog::open(dir.path(), small_config()).expect("open");
        for _ in 0..20 {
            append(&mut log, batch(2, 100));
        }
        assert!(log.segment_count() > 1);
        log.truncate_fully_and_start_at(500).expect("start over");
        assert_eq!((log.log_start_offset(), log.log_end_offset()), (500, 500));
        assert_eq!(log.segment_count(), 1);
        assert_eq!(log.latest_epoch(), None);
        assert_eq!(append(&mut log, batch(1, 10)).base_offset, 500);
        drop(log);
        let log = PartitionLog::open(dir.path(), small_config()).expect("reopen");
        assert_eq!((log.log_start_offset(), log.log_end_offset()), (500, 501));
    }

    /// Random appends, reads, reopens (clean and not), truncations and retention runs against
    /// a model of which batches the log holds.
    #[test]
    fn random_operations_match_a_model() {
        let mut state = 0x853c_49e6_748f_ea9bu64;
        let mut rand = move |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let config = LogConfig {
            segment_bytes: 2_000,
            index_interval_bytes: 256,
            retention_ms: None,
            retention_bytes: Some(6_000),
            ..LogConfig::default()
        };
        let mut log = PartitionLog::open(dir.path(), config.clone()).expect("open");
        let mut model: Vec<(i64, i64)> = Vec::new();
        for step in 0..300 {
            match rand(100) {
                0..=59 => {
                    let records = 1 + rand(4) as usize;
                    let info = append(&mut log, batch(records, rand(300) as usize));
                    let expected = model.last().map_or(log.log_start_offset(), |b| b.1 + 1);
                    assert_eq!(info.base_offset, expected, "step {step}");
                    model.push((info.base_offset, info.last_offset));
                }
                60..=84 => {
                    if let (Some(first), Some(last)) = (model.first(), model.last()) {
                        let span = (last.1 - first.0 + 1) as u64;
                        let offset = first.0 + rand(span) as i64;
                        let slice = log.read(offset, rand(3_000) as usize).expect("read");
                        let got = batches_in(&slice.records);
                        let want = model.iter().find(|b| b.1 >= offset).expect("model batch");
                        assert_eq!(got[0].base_offset, want.0, "step {step}");
                        for pair in got.windows(2) {
                            assert_eq!(pair[1].base_offset, pair[0].last_offset() + 1);
                        }
                    }
                }
                85..=91 => {
                    if rand(2) == 0 {
                        log.flush().expect("flush");
                    }
                    drop(log);
                    log = PartitionLog::open(dir.path(), config.clone()).expect("reopen");
                }
                92..=95 => {
                    if let Some(last) = model.last() {
                        let to = last.1 - rand(6) as i64;
                        log.truncate_to(to).expect("truncate");
                        model.retain(|b| b.1 < to);
                    }
                }
                _ => {
                    let end = log.log_end_offset();
                    log.apply_retention(0, end).expect("retention");
                    let start = log.log_start_offset();
                    model.retain(|b| b.0 >= start);
                }
            }
            let end = model.last().map_or(log.log_start_offset(), |b| b.1 + 1);
            assert_eq!(log.log_end_offset(), end, "step {step}");
            if let Some(first) = model.first() {
                assert_eq!(log.log_start_offset(), first.0, "step {step}");
            }
        }
    }

    impl PartitionLog {
        fn truncate_to_check(&self) {
            assert!(self
                .segments()
                .all(|s| s.next_offset() <= self.log_end_offset()));
        }
    }

    fn txn_marker(pid: i64, epoch: i16, commit: bool) -> TxnMarker {
        TxnMarker {
            producer_id: pid,
            producer_epoch: epoch,
            coordinator_epoch: 0,
            control: crate::log::txn::ControlRecordType::from_result(commit),
        }
    }

    fn aborted(pid: i64, first: i64) -> AbortedTxn {
        AbortedTxn {
            producer_id: pid,
            first_offset: first,
        }
    }

    use crate::log::testutil::txn_batch;

    /// Two producers' transactions interleave: the last stable offset stays at the oldest open
    /// one, an abort goes into the `.txnindex` (34 bytes in Kafka's layout), a commit does not.
    #[test]
    fn open_transactions_hold_the_last_stable_offset_and_aborts_are_indexed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = PartitionLog::open(dir.path(), small_config()).expect("open");
        append(&mut log, batch(2, 10)); // 0-1
        append(&mut log, txn_batch(1, 0, 0, 2)); // 2-3
        append(&mut log, txn_batch(2, 0, 0, 1)); // 4
        assert_eq!(log.last_stable_offset(5), 2);
        assert_eq!(log.last_stable_offset(1), 1, "capped by the high watermark");
        let info = log
            .append_marker(txn_marker(1, 0, false), 3, 0)
            .expect("abort");
        assert_eq!((info.base_offset, info.last_offset), (5, 5));
        // The marker is not below the high watermark yet: the aborted data stays unstable.
        assert_eq!(log.last_stable_offset(5), 2);
        assert_eq!(log.last_stable_offset(6), 4);
        log.append_marker(txn_marker(2, 0, true), 3, 0)
            .expect("commit");
        assert_eq!(log.last_stable_offset(7), 7);
        assert_eq!(log.aborted_transactions(0, 7), vec![aborted(1, 2)]);
        assert_eq!(log.aborted_transactions(6, 7), vec![]);
        assert_eq!(log.aborted_transactions(0, 2), vec![]);
        let file = dir.path().join("00000000000000000000.txnindex");
        assert_eq!(std::fs::metadata(&file).expect("txnindex").len(), 34);
        // The markers are control batches a consumer can read.
        let stored = batches_in(&log.read(5, 1 << 20).expect("read").records);
        assert_eq!(stored.len(), 2);
        assert!(stored.iter().all(|b| b.is_control()));
        let err = log
            .append_marker(txn_marker(1, -1, true), 3, 0)
            .expect_err("fenced epoch");
        assert_eq!(err.kafka_error_code(), 47);
        assert_eq!(log.log_end_offset(), 7, "nothing written");
    }

    /// After a crash without a checkpoint, recovery rebuilds the open transactions and the
    /// aborted transaction index from the log; with a checkpoint, the open transactions come
    /// from it.
    #[test]
    fn recovery_rebuilds_open_transactions_and_the_txn_index() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let mut log = PartitionLog::open(dir.path(), small_config()).expect("open");
            append(&mut log, txn_batch(1, 0, 0, 1)); // 0
            log.append_marker(txn_marker(1, 0, false), 3, 0)
                .expect("abort"); // 1
            append(&mut log, txn_batch(1, 0, 1, 1)); // 2
            let offsets_commit = txn_batch(3, 0, -1, 1);
            let err = log
                .append(&offsets_commit.clone(), 3, 0)
                .expect_err("a client must send a sequence");
            assert_eq!(err.kafka_error_code(), 87);
            log.append_from(&offsets_commit, 3, 0, AppendOrigin::Coordinator)
                .expect("coordinator write"); // 3
        }
        // As after kill -9: the checkpoint is the one written at open (empty log).
        let file = dir.path().join("00000000000000000000.txnindex");
        std::fs::remove_file(&file).expect("index lost");
        let mut log = PartitionLog::open(dir.path(), small_config()).expect("recover");
        assert_eq!(log.aborted_transactions(0, 4), vec![aborted(1, 0)]);
        assert_eq!(std::fs::metadata(&file).expect("rebuilt").len(), 34);
        assert_eq!(
            log.ongoing_transactions()
                .iter()
                .map(|t| (t.producer_id, t.first_offset))
                .collect::<Vec<_>>(),
            vec![(1, 2), (3, 3)]
        );
        assert_eq!(log.last_stable_offset(4), 2);
        log.flush().expect("checkpoint");
        drop(log);
        let mut log = PartitionLog::open(dir.path(), small_config()).expect("reopen");
        assert_eq!(log.last_stable_offset(4), 2);
        assert_eq!(log.aborted_transactions(0, 4), vec![aborted(1, 0)]);
        // A non-transactional write from producer 1 while its transaction is open is refused.
        let plain = idempotent_batch(1, 0, 2, 1);
        let err = log.append(&plain, 3, 0).expect_err("invalid txn state");
        assert_eq!(err.kafka_error_code(), 48);
    }

    /// Truncating away a marker opens its transaction again and drops its index entry;
    /// retention deletes a segment's `.txnindex` with it.
    #[test]
    fn truncation_and_retention_keep_the_txn_index_in_step() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = PartitionLog::open(dir.path(), small_config()).expect("open");
        append(&mut log, txn_batch(1, 0, 0, 1)); // 0
        log.append_marker(txn_marker(1, 0, false), 3, 0)
            .expect("abort"); // 1
        log.truncate_to(1).expect("truncate");
        assert_eq!(log.aborted_transactions(0, 10), vec![]);
        assert!(!dir.path().join("00000000000000000000.txnindex").exists());
        assert_eq!(
            log.last_stable_offset(1),
            0,
            "the transaction is open again"
        );
        log.append_marker(txn_marker(1, 0, false), 3, 0)
            .expect("abort again");
        log.roll().expect("roll");
        append(&mut log, batch(1, 10));
        assert_eq!(log.aborted_transactions(0, 3), vec![aborted(1, 0)]);
        let config = LogConfig {
            retention_bytes: Some(0),
            ..small_config()
        };
        log.set_config(config);
        assert_eq!(log.apply_retention(0, 2).expect("retention"), 1);
        assert!(!dir.path().join("00000000000000000000.txnindex").exists());
        assert_eq!(log.aborted_transactions(0, 3), vec![]);
    }

    /// Retention may delete the first records of an open transaction (it stops at the high
    /// watermark, not the last stable offset): the last stable offset is then the log start.
    #[test]
    fn the_last_stable_offset_is_never_below_the_log_start() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = PartitionLog::open(dir.path(), small_config()).expect("open");
        append(&mut log, txn_batch(1, 0, 0, 2)); // 0-1, left open
        log.roll().expect("roll");
        append(&mut log, batch(3, 10)); // 2-4
        assert_eq!(log.last_stable_offset(5), 0);
        log.set_config(LogConfig {
            retention_bytes: Some(1),
            ..small_config()
        });
        assert_eq!(log.apply_retention(0, 2).expect("retention"), 1);
        assert_eq!(log.log_start_offset(), 2);
        assert_eq!(log.last_stable_offset(5), 2, "held at the log start");
    }

    /// A follower replaying the leader's batches learns the open transactions and markers.
    #[test]
    fn followers_replay_markers_from_the_leader() {
        let leader_dir = tempfile::tempdir().expect("tempdir");
        let mut leader = PartitionLog::open(leader_dir.path(), small_config()).expect("open");
        append(&mut leader, txn_batch(1, 0, 0, 2)); // 0-1
        append(&mut leader, txn_batch(2, 0, 0, 1)); // 2
        leader
            .append_marker(txn_marker(1, 0, false), 3, 0)
            .expect("abort"); // 3
        let bytes = leader.read(0, 1 << 20).expect("read").records;
        let follower_dir = tempfile::tempdir().expect("tempdir");
        let mut follower = PartitionLog::open(follower_dir.path(), small_config()).expect("open");
        follower.append_as_follower(&bytes).expect("replicate");
        assert_eq!(follower.aborted_transactions(0, 4), vec![aborted(1, 0)]);
        assert_eq!(follower.last_stable_offset(4), 2);
        assert_eq!(
            follower
                .ongoing_transactions()
                .first()
                .map(|t| t.producer_id),
            Some(2)
        );
    }
}
