//! `DurableLog`: a `PartitionLog` for async callers, with the flush policy applied.
//!
//! The log sits behind one `std::sync::Mutex`, held only for in-memory work, never across an
//! `.await` and never across file I/O on the hot paths: an append is checked (CRC, record rules,
//! recompression) before the lock is taken, staged under it (offsets, headers, the place in the
//! segment), written without it, and committed under it again; reads and fsyncs run outside it
//! from the plans it hands out. Appends of one partition go one at a time through the *append
//! gate*, a second mutex that only appenders (and truncation, retention and the cleaner's swap)
//! take, so that readers never wait for a write. Log start and end offsets are also published
//! as atomics, so answering "where does the log end" never takes the lock at all.
//!
//! Every file operation runs on a blocking thread (`spawn_blocking`), never on an async worker:
//! an append's thread writes, hands the result back, and then, when the flush policy calls for
//! it, fsyncs in the same thread:
//!
//! - `flush.messages=1` (acknowledged means fsynced): an append is answered once the durable
//!   offset passes its batch. One flush round runs at a time; the appends written while it
//!   fsyncs are covered together by the next round, which the running flusher starts itself
//!   (group commit, with no hand-off to another task). The high watermark follows the durable
//!   offset, so consumers never see data that could still vanish.
//! - otherwise (Kafka's page-cache durability): an append returns once written; its thread
//!   fsyncs once `flush.messages` records are unflushed, the flusher task every `flush.ms`, and
//!   the high watermark is the log end offset.
//!
//! Either way the flusher task also fsyncs everything and writes the recovery checkpoint every
//! `CHECKPOINT_INTERVAL`, so a restart after a crash only scans recent data.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use common::time::now_ms;

use bytes::Bytes;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::index::IndexWrite;
use super::partition_log::{AppendInfo, PartitionLog, Staged, StagedAppend};
use super::read::ReadPlan;
use super::txn::{AbortedTxn, OngoingTxn, TxnMarker};
use super::validator::AppendOrigin;
use super::{LogConfig, LogError};

/// Kafka's `log.flush.offset.checkpoint.interval.ms` default.
pub const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(60);

/// What the flusher has made durable, or why it stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Durability {
    offset: i64,
    failed: Option<String>,
}

/// How the high watermark is derived (Kafka's `Partition.maybeIncrementLeaderHW` and the
/// follower's `updateHighWatermark`). "Local end" is what this replica vouches for: its durable
/// offset when every append is fsynced, else its log end offset.
#[derive(Clone, Debug, PartialEq, Eq)]
enum HighWatermarkPolicy {
    /// The leader: the minimum of its local end and the end offset each other in-sync replica
    /// reported (-1 until it fetches), never moving down.
    Leader { isr_followers: Vec<(i32, i64)> },
    /// A follower: the leader's high watermark, capped by its local end.
    Follower { leader_high_watermark: i64 },
}

/// Whether a flush round is running, and whether data was written since it planned its fsyncs.
#[derive(Debug, Default)]
struct FlushState {
    running: bool,
    again: bool,
}

struct Shared {
    /// The flush policy is read from the log's config under this lock, so `set_config` changes
    /// it for the next append.
    log: Mutex<PartitionLog>,
    /// Held by the append in progress from its staging to its commit, across its writes (and
    /// by the other changes of the log's files), so that `log` itself is not.
    append_gate: Mutex<()>,
    /// The config as last set, for the checks an append makes before taking `log`.
    config: Mutex<Arc<LogConfig>>,
    /// `<topic>-<partition>`, for Kafka's messages.
    topic_partition: String,
    /// Log start and end offsets as last committed, for readers that must not wait for `log`.
    start_offset: AtomicI64,
    end_offset: AtomicI64,
    durable: watch::Sender<Durability>,
    high_watermark: watch::Sender<i64>,
    /// The log end offset, for replica fetches waiting on new data.
    log_end: watch::Sender<i64>,
    /// The local end offset (see [`HighWatermarkPolicy`]), as last published.
    local_end: AtomicI64,
    policy: Mutex<HighWatermarkPolicy>,
    flush_state: Mutex<FlushState>,
    shutdown: watch::Sender<bool>,
    closed: AtomicBool,
    /// Flush rounds (each one fsync per touched file): group commit makes this far smaller than
    /// the number of appends.
    flushes: AtomicU64,
    /// Positional reads of segment files made by `read` (fetches, loaders).
    file_reads: AtomicU64,
    flusher: Mutex<Option<JoinHandle<()>>>,
}

pub struct DurableLog {
    shared: Arc<Shared>,
}

/// An append written to the log and not yet as durable as the flush policy demands (see
/// [`DurableLog::start_append`]).
#[must_use = "an append is acknowledged only once `durable` returns"]
pub struct PendingAppend {
    info: AppendInfo,
    /// The durable offset to wait for, when every append is fsynced.
    wait: Option<(watch::Receiver<Durability>, i64)>,
}

impl PendingAppend {
    /// What the append did (offsets known at once; for a duplicate, the original's).
    pub fn info(&self) -> AppendInfo {
        self.info
    }

    /// Waits until the append is as durable as the flush policy demands.
    pub async fn durable(self) -> Result<AppendInfo, LogError> {
        if let Some((mut rx, offset)) = self.wait {
            wait_durable(&mut rx, offset).await?;
        }
        Ok(self.info)
    }
}

async fn wait_durable(rx: &mut watch::Receiver<Durability>, offset: i64) -> Result<(), LogError> {
    let state = rx
        .wait_for(|d| d.failed.is_some() || d.offset >= offset)
        .await
        .map_err(|_| LogError::Offline("the partition log was dropped".into()))?;
    match &state.failed {
        Some(why) => Err(LogError::Offline(why.clone())),
        None => Ok(()),
    }
}

fn poisoned() -> LogError {
    LogError::Offline("an earlier failure left the partition log in an unknown state".into())
}

/// What a committed append left for its thread to do after answering.
struct Committed {
    info: Option<AppendInfo>,
    fsync_each: bool,
    /// Enough is unflushed for the flush policy to want an fsync now.
    flush_now: bool,
}

impl Shared {
    /// The log for a change; a lock poisoned by a panic keeps the partition offline instead of
    /// letting later requests work on half-updated state.
    fn lock(&self) -> Result<MutexGuard<'_, PartitionLog>, LogError> {
        self.log.lock().map_err(|_| poisoned())
    }

    /// The log for a read-only look, even after a panic.
    fn peek(&self) -> MutexGuard<'_, PartitionLog> {
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The append gate (see [`Shared::append_gate`]).
    fn gate(&self) -> Result<MutexGuard<'_, ()>, LogError> {
        self.append_gate.lock().map_err(|_| poisoned())
    }

    fn config(&self) -> Arc<LogConfig> {
        self.config
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn check_usable(&self) -> Result<(), LogError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(LogError::Offline("the partition log is closed".into()));
        }
        if let Some(why) = &self.durable.borrow().failed {
            return Err(LogError::Offline(why.clone()));
        }
        Ok(())
    }

    fn policy(&self) -> MutexGuard<'_, HighWatermarkPolicy> {
        self.policy.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Publishes the log start and end offsets of `log` (called with it locked, after a change).
    fn publish_offsets(&self, log: &PartitionLog) {
        self.start_offset
            .store(log.log_start_offset(), Ordering::Release);
        self.end_offset
            .store(log.log_end_offset(), Ordering::Release);
    }

    /// Publishes a new local end and recomputes the high watermark.
    fn set_local_end(&self, end: i64) {
        self.local_end.store(end, Ordering::Release);
        self.recompute_high_watermark();
    }

    /// Applies the policy: a leader's high watermark only rises; a follower's is the leader's,
    /// capped by what it has.
    fn recompute_high_watermark(&self) {
        let local = self.local_end.load(Ordering::Acquire);
        let policy = self.policy();
        match &*policy {
            HighWatermarkPolicy::Leader { isr_followers } => {
                let to = isr_followers
                    .iter()
                    .map(|&(_, end)| end)
                    .fold(local, i64::min);
                self.high_watermark.send_if_modified(|hw| {
                    let raise = to > *hw;
                    if raise {
                        *hw = to;
                    }
                    raise
                });
            }
            HighWatermarkPolicy::Follower {
                leader_high_watermark,
            } => {
                let to = (*leader_high_watermark).min(local);
                self.high_watermark.send_if_modified(|hw| {
                    let moved = to != *hw;
                    *hw = to;
                    moved
                });
            }
        }
    }

    fn fail(&self, why: String) {
        tracing::error!("{why}");
        self.durable.send_modify(|d| d.failed = Some(why));
    }

    /// `result`, with an I/O error taking the partition offline first: as Kafka takes a log
    /// directory offline, since the state on disk is no longer known.
    fn offline_on_io<T>(&self, result: Result<T, LogError>, doing: &str) -> Result<T, LogError> {
        if let Err(LogError::Io(e)) = &result {
            self.fail(format!(
                "{doing} of partition log {} failed: {e}",
                self.topic_partition
            ));
        }
        result
    }

    /// Writes a staged append and commits it, then runs its index writes and publishes the new
    /// log end. Blocking; the caller holds the append gate (so the commits, and the offsets
    /// published, come in the order of the stagings).
    fn write_and_commit(&self, staged: StagedAppend) -> Result<Committed, LogError> {
        self.offline_on_io(staged.write().map_err(LogError::Io), "write")?;
        let (info, writes, end, fsync_each, flush_now) = {
            let mut log = self.lock()?;
            let (info, writes) = self.offline_on_io(log.commit(staged), "commit")?;
            self.publish_offsets(&log);
            let config = log.config();
            (
                info,
                writes,
                log.log_end_offset(),
                config.fsync_every_append(),
                log.unflushed_messages() >= config.flush_interval_messages.max(1),
            )
        };
        let written: std::io::Result<()> = writes.iter().try_for_each(IndexWrite::execute);
        self.offline_on_io(written.map_err(LogError::Io), "index write")?;
        self.log_end.send_if_modified(|e| {
            let moved = *e != end;
            *e = end;
            moved
        });
        if !fsync_each {
            self.set_local_end(end);
        }
        Ok(Committed {
            info,
            fsync_each,
            flush_now,
        })
    }

    /// A produce's append, on a blocking thread: checked without any lock, then staged,
    /// written and committed under the append gate.
    fn append_blocking(
        &self,
        payload: Bytes,
        leader_epoch: i32,
        origin: AppendOrigin,
    ) -> Result<Committed, LogError> {
        let now = now_ms();
        let config = self.config();
        let checked =
            PartitionLog::check_append(payload, &config, &self.topic_partition, now, origin)?;
        let _gate = self.gate()?;
        let staged = {
            let mut log = self.lock()?;
            // Checked under the lock: `close` sets it under the gate and the lock, so an append
            // either lands before the final flush or is refused.
            self.check_usable()?;
            let staged = log.stage_append(checked, leader_epoch, now);
            match self.offline_on_io(staged, "roll")? {
                Staged::Write(staged) => staged,
                Staged::Duplicate(info) => {
                    let config = log.config();
                    return Ok(Committed {
                        info: Some(info),
                        fsync_each: config.fsync_every_append(),
                        flush_now: false,
                    });
                }
            }
        };
        self.write_and_commit(staged)
    }

    /// One flush round, blocking: plan under the lock, fsync outside it, record the result.
    fn flush_round(&self, checkpoint: bool) {
        let (plan, fsync_each) = match self.lock() {
            Ok(log) => (
                log.flush_plan(checkpoint),
                log.config().fsync_every_append(),
            ),
            Err(e) => {
                self.fail(e.to_string());
                return;
            }
        };
        let Some(plan) = plan else {
            return;
        };
        match plan.execute() {
            Ok(_) => {
                self.flushes.fetch_add(1, Ordering::Relaxed);
                let durable = match self.lock() {
                    Ok(mut log) => {
                        log.mark_flushed(&plan);
                        log.durable_offset()
                    }
                    Err(e) => {
                        self.fail(e.to_string());
                        return;
                    }
                };
                // The high watermark moves first, so an acknowledged append is always visible.
                if fsync_each {
                    self.set_local_end(durable);
                }
                self.durable.send_if_modified(|d| {
                    let advance = durable > d.offset;
                    if advance {
                        d.offset = durable;
                    }
                    advance
                });
            }
            // After a failed fsync the kernel may have dropped the dirty pages: nothing written
            // since the last good flush can be vouched for, so the partition goes offline.
            Err(e) => self.fail(format!("fsync of partition log failed: {e}")),
        }
    }

    /// Flushes until nothing written is left unflushed, blocking; called by an appender's
    /// thread after it answered. Group commit: while a round runs, appenders only note that
    /// there is more (`again`) and return; the running thread then plans one more round, which
    /// covers everything written meanwhile with one fsync.
    fn flush_until_clean(&self) {
        {
            let mut state = self.flush_state.lock().unwrap_or_else(|e| e.into_inner());
            if state.running {
                state.again = true;
                return;
            }
            state.running = true;
            state.again = false;
        }
        // Should a round panic, the next appender must be able to flush again, and nothing
        // written since can be vouched for.
        struct Running<'a>(&'a Shared);
        impl Drop for Running<'_> {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    self.0.fail("a flush round panicked".into());
                    let mut state = self.0.flush_state.lock().unwrap_or_else(|e| e.into_inner());
                    state.running = false;
                }
            }
        }
        let _running = Running(self);
        loop {
            self.flush_round(false);
            let mut state = self.flush_state.lock().unwrap_or_else(|e| e.into_inner());
            if state.again && self.durable.borrow().failed.is_none() {
                state.again = false;
                continue;
            }
            state.running = false;
            state.again = false;
            return;
        }
    }

    /// The timed part of the flush policy: `flush.ms` and the recovery checkpoint. Fsyncs run
    /// on blocking threads.
    async fn run_flusher(self: Arc<Self>) {
        let mut shutdown = self.shutdown.subscribe();
        let mut last_checkpoint = Instant::now();
        let mut last_flush = Instant::now();
        loop {
            if *shutdown.borrow() {
                break;
            }
            let interval_ms = self.config().flush_interval_ms;
            let tick = interval_ms
                .map(Duration::from_millis)
                .unwrap_or(CHECKPOINT_INTERVAL)
                .clamp(Duration::from_millis(1), CHECKPOINT_INTERVAL);
            tokio::select! {
                _ = tokio::time::sleep(tick) => {}
                _ = shutdown.changed() => break,
            }
            if self.durable.borrow().failed.is_some() {
                break;
            }
            let unflushed = self.durable_lag();
            let checkpoint_due = last_checkpoint.elapsed() >= CHECKPOINT_INTERVAL;
            let interval_due = interval_ms.is_some_and(|ms| {
                unflushed > 0 && last_flush.elapsed() >= Duration::from_millis(ms)
            });
            if checkpoint_due || interval_due {
                let shared = self.clone();
                let round = tokio::task::spawn_blocking(move || {
                    let checkpoint = checkpoint_due && shared.peek().needs_checkpoint();
                    shared.flush_round(checkpoint);
                });
                if round.await.is_err() {
                    self.fail("flush task failed".into());
                    break;
                }
                if checkpoint_due {
                    last_checkpoint = Instant::now();
                }
                last_flush = Instant::now();
            }
        }
    }

    /// Offsets written and not yet fsynced, from the published offsets (no lock).
    fn durable_lag(&self) -> i64 {
        let end = self.end_offset.load(Ordering::Acquire);
        (end - self.durable.borrow().offset).max(0)
    }
}

impl DurableLog {
    /// Opens (and recovers) the partition directory. Blocking: call it from `spawn_blocking` or
    /// outside the runtime. The flusher task starts here when a tokio runtime is current, else
    /// on the first append.
    pub fn open(dir: &Path, config: LogConfig) -> Result<Self, LogError> {
        let log = PartitionLog::open(dir, config)?;
        let end = log.log_end_offset();
        let shared = Arc::new(Shared {
            config: Mutex::new(Arc::new(log.config().clone())),
            topic_partition: log.topic_partition().to_string(),
            start_offset: AtomicI64::new(log.log_start_offset()),
            end_offset: AtomicI64::new(end),
            log: Mutex::new(log),
            append_gate: Mutex::new(()),
            durable: watch::Sender::new(Durability {
                offset: end,
                failed: None,
            }),
            high_watermark: watch::Sender::new(end),
            log_end: watch::Sender::new(end),
            local_end: AtomicI64::new(end),
            policy: Mutex::new(HighWatermarkPolicy::Leader {
                isr_followers: Vec::new(),
            }),
            flush_state: Mutex::new(FlushState::default()),
            shutdown: watch::Sender::new(false),
            closed: AtomicBool::new(false),
            flushes: AtomicU64::new(0),
            file_reads: AtomicU64::new(0),
            flusher: Mutex::new(None),
        });
        let durable_log = DurableLog { shared };
        durable_log.ensure_flusher();
        Ok(durable_log)
    }

    fn ensure_flusher(&self) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let mut slot = self
            .shared
            .flusher
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if slot.is_none() && !self.shared.closed.load(Ordering::Acquire) {
            *slot = Some(handle.spawn(self.shared.clone().run_flusher()));
        }
    }

    fn check_usable(&self) -> Result<(), LogError> {
        self.shared.check_usable()
    }

    /// Runs `work` (an append) on a blocking thread and returns its answer as soon as it is
    /// sent; the thread then flushes if the answer says so (see [`Shared::flush_until_clean`]),
    /// which the caller waits for, if at all, through the durable offset.
    async fn on_blocking_thread(
        &self,
        work: impl FnOnce(&Shared) -> Result<Committed, LogError> + Send + 'static,
    ) -> Result<(Option<AppendInfo>, bool), LogError> {
        self.check_usable()?;
        self.ensure_flusher();
        let shared = self.shared.clone();
        let (tx, rx) = oneshot::channel();
        // Detached: the answer comes back through `rx` before the flush, if any, begins.
        drop(tokio::task::spawn_blocking(move || {
            let result = work(&shared);
            let flush = matches!(&result, Ok(c) if c.fsync_each || c.flush_now);
            let _ = tx.send(result.map(|c| (c.info, c.fsync_each)));
            if flush {
                shared.flush_until_clean();
            }
        }));
        rx.await
            .map_err(|_| LogError::Offline("append task failed".into()))?
    }

    /// Appends a produce request's records for this partition; returns once they are as durable
    /// as the flush policy demands.
    pub async fn append(
        &self,
        payload: impl Into<Bytes>,
        leader_epoch: i32,
    ) -> Result<AppendInfo, LogError> {
        self.start_append(payload.into(), leader_epoch)
            .await?
            .durable()
            .await
    }

    /// Writes a produce request's records for this partition (`payload` is kept as it came:
    /// only each batch's header is copied to be patched) and returns once they are in the log,
    /// before they are as durable as the flush policy demands: [`PendingAppend::durable`]
    /// waits for that. Appends started one after the other land in that order, so a connection
    /// may start its next request's appends while this one's fsync is running, and both are
    /// covered by one fsync round.
    pub async fn start_append(
        &self,
        payload: Bytes,
        leader_epoch: i32,
    ) -> Result<PendingAppend, LogError> {
        self.start_append_from(payload, leader_epoch, AppendOrigin::Client)
            .await
    }

    /// Appends batches a coordinator of this broker wrote (Kafka's `AppendOrigin.COORDINATOR`):
    /// as `append`, but a batch may carry a producer id without a sequence, as the group
    /// coordinator's transactional offset commits do (base sequence -1, transactional); such a
    /// batch opens a transaction for its producer that a marker ends.
    pub async fn append_as_coordinator(
        &self,
        payload: impl Into<Bytes>,
        leader_epoch: i32,
    ) -> Result<AppendInfo, LogError> {
        self.start_append_from(payload.into(), leader_epoch, AppendOrigin::Coordinator)
            .await?
            .durable()
            .await
    }

    async fn start_append_from(
        &self,
        payload: Bytes,
        leader_epoch: i32,
        origin: AppendOrigin,
    ) -> Result<PendingAppend, LogError> {
        let (info, fsync_each) = self
            .on_blocking_thread(move |shared| shared.append_blocking(payload, leader_epoch, origin))
            .await?;
        let info = info.ok_or_else(|| LogError::Offline("an append answered no offsets".into()))?;
        Ok(self.pending(info, fsync_each))
    }

    fn pending(&self, info: AppendInfo, fsync_each: bool) -> PendingAppend {
        // A duplicate waits too: its original may still be on its way to disk.
        PendingAppend {
            info,
            wait: fsync_each.then(|| {
                (
                    self.shared.durable.subscribe(),
                    info.last_offset.saturating_add(1),
                )
            }),
        }
    }

    /// Appends batches fetched from the leader as they are (see
    /// `PartitionLog::append_as_follower`) and returns once they are as durable as the flush
    /// policy demands, so the next fetch reports only what this replica vouches for. Returns
    /// the new log end offset.
    pub async fn append_as_follower(&self, payload: Bytes) -> Result<i64, LogError> {
        let (_, fsync_each) = self
            .on_blocking_thread(move |shared| {
                let _gate = shared.gate()?;
                let staged = {
                    let mut log = shared.lock()?;
                    shared.check_usable()?;
                    let staged = log.stage_follower(payload);
                    shared.offline_on_io(staged, "roll")?
                };
                match staged {
                    Some(staged) => shared.write_and_commit(staged),
                    None => Ok(Committed {
                        info: None,
                        fsync_each: false,
                        flush_now: false,
                    }),
                }
            })
            .await?;
        let end = self.log_end_offset();
        if fsync_each {
            wait_durable(&mut self.shared.durable.subscribe(), end).await?;
        }
        Ok(end)
    }

    /// Appends a transaction marker (a control batch, see `log::txn`) as the partition's leader,
    /// closing `marker.producer_id`'s open transaction here; returns once it is as durable as the
    /// flush policy demands. INVALID_PRODUCER_EPOCH if the producer has a newer epoch,
    /// TRANSACTION_COORDINATOR_FENCED if its last marker came from a newer coordinator epoch
    /// (Kafka's `ProducerAppendInfo.appendEndTxnMarker`).
    pub async fn append_marker(
        &self,
        marker: TxnMarker,
        leader_epoch: i32,
    ) -> Result<AppendInfo, LogError> {
        let (info, fsync_each) = self
            .on_blocking_thread(move |shared| {
                let _gate = shared.gate()?;
                let staged = {
                    let mut log = shared.lock()?;
                    shared.check_usable()?;
                    let staged = log.stage_marker(marker, leader_epoch, now_ms());
                    shared.offline_on_io(staged, "roll")?
                };
                shared.write_and_commit(staged)
            })
            .await?;
        let info = info.ok_or_else(|| LogError::Offline("a marker answered no offsets".into()))?;
        self.pending(info, fsync_each).durable().await
    }

    /// Kafka's last stable offset: the first offset of the oldest transaction still open in
    /// this partition (or decided by a marker not yet below the high watermark), capped by the
    /// high watermark (the high watermark when none is open). `read_committed` fetches stop
    /// here.
    pub fn last_stable_offset(&self) -> i64 {
        let hw = self.high_watermark();
        self.shared.peek().last_stable_offset(hw)
    }

    /// The aborted transactions a `read_committed` fetch from `from` up to `upto` (exclusive)
    /// must be told of: those whose marker is at or after `from` and whose first offset is
    /// below `upto` (Kafka's `LogSegment.collectAbortedTxns`).
    pub fn aborted_transactions(&self, from: i64, upto: i64) -> Result<Vec<AbortedTxn>, LogError> {
        Ok(self.shared.peek().aborted_transactions(from, upto))
    }

    /// The transactions open in this partition, oldest first.
    pub fn ongoing_transactions(&self) -> Vec<OngoingTxn> {
        self.shared.peek().ongoing_transactions()
    }

    /// Every producer with state in this partition (DescribeProducers), by producer id.
    pub fn producer_states(&self) -> Vec<super::producer_state::ProducerEntry> {
        self.shared.peek().producers().snapshot()
    }

    /// Makes this replica the leader: its high watermark becomes the minimum of its own local
    /// end and the end offsets of `isr_followers` (the other in-sync replicas, `(broker id,
    /// end offset or -1)`), and only rises from where it is.
    pub fn become_leader(&self, isr_followers: Vec<(i32, i64)>) {
        *self.shared.policy() = HighWatermarkPolicy::Leader { isr_followers };
        self.shared.recompute_high_watermark();
    }

    /// A leader learns the end offset of an in-sync follower (from its fetch), or its ISR
    /// changed (`isr_followers` replaced). A no-op on a follower.
    pub fn update_isr_followers(&self, isr_followers: Vec<(i32, i64)>) {
        {
            let mut policy = self.shared.policy();
            match &mut *policy {
                HighWatermarkPolicy::Leader { isr_followers: f } => *f = isr_followers,
                HighWatermarkPolicy::Follower { .. } => return,
            }
        }
        self.shared.recompute_high_watermark();
    }

    /// Makes this replica a follower, or gives a follower the leader's high watermark: its own
    /// becomes `min(leader_high_watermark, local end)`.
    pub fn follow(&self, leader_high_watermark: i64) {
        *self.shared.policy() = HighWatermarkPolicy::Follower {
            leader_high_watermark,
        };
        self.shared.recompute_high_watermark();
    }

    /// Changes of the log end offset (replica fetches wait on these).
    pub fn subscribe_log_end(&self) -> watch::Receiver<i64> {
        self.shared.log_end.subscribe()
    }

    /// Kafka's OffsetForLeaderEpoch for this log: see `PartitionLog::end_offset_for_epoch`.
    pub fn end_offset_for_epoch(&self, epoch: i32) -> (i32, i64) {
        self.shared.peek().end_offset_for_epoch(epoch)
    }

    /// Records that leader epoch `epoch` begins at the log end offset (Kafka's
    /// `maybeAssignEpochStartOffset` when a replica becomes leader), so that OffsetForLeaderEpoch
    /// answers followers correctly before the first batch of the epoch is written.
    pub fn assign_epoch(&self, epoch: i32) -> Result<(), LogError> {
        self.shared.lock()?.assign_epoch(epoch)
    }

    /// The latest leader epoch in the log.
    pub fn latest_epoch(&self) -> Option<i32> {
        self.shared.peek().latest_epoch()
    }

    /// The offset below which consumers may read: on a leader, the minimum over the ISR of what
    /// each replica vouches for (durable offset when every append is fsynced, else log end
    /// offset); on a follower, the leader's, capped by its own log.
    pub fn high_watermark(&self) -> i64 {
        *self.shared.high_watermark.borrow()
    }

    /// Changes of the high watermark, for long-polling fetches.
    pub fn subscribe_high_watermark(&self) -> watch::Receiver<i64> {
        self.shared.high_watermark.subscribe()
    }

    /// How many high-watermark watches are open (long-polling fetches waiting on this partition
    /// among them); tests wait on it to know a fetch is parked.
    pub fn high_watermark_watchers(&self) -> usize {
        self.shared.high_watermark.receiver_count()
    }

    /// The log start offset as last changed (no lock taken).
    pub fn log_start_offset(&self) -> i64 {
        self.shared.start_offset.load(Ordering::Acquire)
    }

    /// The log end offset as last committed (no lock taken).
    pub fn log_end_offset(&self) -> i64 {
        self.shared.end_offset.load(Ordering::Acquire)
    }

    /// Bytes stored in all segments (for DescribeLogDirs and metrics).
    pub fn size_bytes(&self) -> u64 {
        self.shared.peek().size_bytes()
    }

    /// Bytes stored in all segments and how many segments there are, in one look (Kafka's
    /// `Log` Size and NumLogSegments metrics).
    pub fn size_and_segments(&self) -> (u64, usize) {
        let log = self.shared.peek();
        (log.size_bytes(), log.segment_count())
    }

    /// Resolves a read under the lock; run `execute` on the plan afterwards (off the lock).
    pub fn read_plan(
        &self,
        offset: i64,
        max_bytes: usize,
        max_offset: i64,
    ) -> Result<ReadPlan, LogError> {
        self.shared.peek().read_plan(offset, max_bytes, max_offset)
    }

    /// Whole batches from the one containing `offset`, below `max_offset`, about `max_bytes`.
    /// Blocking file reads (a bounded number: see `log::read`): run it off the async workers.
    pub fn read(&self, offset: i64, max_bytes: usize, max_offset: i64) -> Result<Bytes, LogError> {
        let plan = self.read_plan(offset, max_bytes, max_offset)?;
        let slice = plan.execute()?;
        self.shared
            .file_reads
            .fetch_add(slice.reads as u64, Ordering::Relaxed);
        Ok(slice.records)
    }

    /// Positional reads of segment files `read` has made so far.
    pub fn file_reads(&self) -> u64 {
        self.shared.file_reads.load(Ordering::Relaxed)
    }

    /// ListOffsets by timestamp (see `PartitionLog::offset_for_timestamp`), within the high
    /// watermark: -1 answers the high watermark itself, and a record at or above it is not
    /// reported (as Kafka does for uncommitted data). Blocking file reads, outside the lock.
    pub fn offset_for_timestamp(&self, timestamp: i64) -> Result<Option<(i64, i64)>, LogError> {
        let hw = self.high_watermark();
        if timestamp == -1 {
            return Ok(Some((hw, -1)));
        }
        let lookup = self.shared.peek().timestamp_lookup(timestamp);
        let found = lookup.execute()?;
        Ok(found.filter(|(offset, _)| timestamp == -2 || *offset < hw))
    }

    /// Every segment's `(base offset, last-modified ms, size)`, oldest first, with the base offset
    /// raised to the log start offset, and the log end offset: what Kafka's
    /// `UnifiedLog.legacyFetchOffsetsBefore` (ListOffsets v0) works from. The mtime is the
    /// segment file's, as Kafka's `LogSegment.lastModified`. Blocking (a `stat` per segment,
    /// outside the lock).
    pub fn segment_times(&self) -> (Vec<(i64, i64, u64)>, i64) {
        let (segments, end) = {
            let log = self.shared.peek();
            let start = log.log_start_offset();
            let segments: Vec<(i64, std::path::PathBuf, u64)> = log
                .segments()
                .map(|s| {
                    (
                        s.base_offset().max(start),
                        s.log_path().to_path_buf(),
                        s.size(),
                    )
                })
                .collect();
            (segments, log.log_end_offset())
        };
        let segments = segments
            .into_iter()
            .map(|(base, path, size)| {
                let modified = std::fs::metadata(path)
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_millis() as i64);
                (base, modified, size)
            })
            .collect();
        (segments, end)
    }

    /// ListOffsets -3: the record with the largest timestamp. Blocking file reads, outside the
    /// lock.
    pub fn max_timestamp_offset(&self) -> Result<Option<(i64, i64)>, LogError> {
        let hw = self.high_watermark();
        let lookup = self.shared.peek().max_timestamp_lookup();
        let found = lookup.execute()?;
        Ok(found.filter(|(offset, _)| *offset < hw))
    }

    /// Deletes old segments per retention.ms / retention.bytes, the active one included, below
    /// the high watermark (see `PartitionLog::apply_retention`); returns how many. The file
    /// deletions run on a blocking thread.
    pub async fn apply_retention(&self) -> Result<usize, LogError> {
        let shared = self.shared.clone();
        let high_watermark = self.high_watermark();
        tokio::task::spawn_blocking(move || {
            let _gate = shared.gate()?;
            let mut log = shared.lock()?;
            let deleted = log.apply_retention(now_ms(), high_watermark);
            shared.publish_offsets(&log);
            deleted
        })
        .await
        .map_err(|e| LogError::Offline(format!("retention task failed: {e}")))?
    }

    /// One cleaning of this log by the log cleaner, if it is due (see `cleaner::clean_log`):
    /// the view is taken under the lock, the offset map and the cleaned segments are built off
    /// it on a blocking thread (appends and fetches go on meanwhile), and each cleaned segment
    /// is swapped in under the lock after checking nothing changed under it. The high watermark
    /// is the request's, capped by this log's. An I/O error during a swap takes the partition
    /// offline, as a failed append does.
    pub async fn clean(
        &self,
        mut request: super::cleaner::CleanRequest,
    ) -> Result<super::cleaner::CleanOutcome, LogError> {
        self.check_usable()?;
        request.high_watermark = request.high_watermark.min(self.high_watermark());
        let shared = self.shared.clone();
        tokio::task::spawn_blocking(move || {
            let view = shared.lock()?.cleaner_view();
            let result =
                super::cleaner::clean_log(&view, &request, |replaced, cleaned, markers| {
                    let _gate = shared.gate()?;
                    let mut log = shared.lock()?;
                    shared.check_usable()?;
                    let swapped = log.replace_segments(replaced, cleaned, markers, view.generation);
                    if let Err(LogError::Io(e)) = &swapped {
                        // The directory is in an unknown state until recovery puts it right.
                        shared.fail(format!(
                            "swapping in a cleaned segment of {} failed: {e}",
                            view.dir.display()
                        ));
                    }
                    shared.publish_offsets(&log);
                    swapped
                });
            result
        })
        .await
        .map_err(|e| LogError::Offline(format!("cleaner task failed: {e}")))?
    }

    /// Applies changed topic configs (segment, retention, size limits) to later operations.
    pub fn set_config(&self, config: LogConfig) -> Result<(), LogError> {
        let mut log = self.shared.lock()?;
        *self.shared.config.lock().unwrap_or_else(|e| e.into_inner()) = Arc::new(config.clone());
        log.set_config(config);
        Ok(())
    }

    /// Drops offsets at or above `offset` (follower truncation). Blocking file work.
    pub fn truncate_to(&self, offset: i64) -> Result<(), LogError> {
        let end = {
            let _gate = self.shared.gate()?;
            let mut log = self.shared.lock()?;
            let truncated = log.truncate_to(offset);
            self.shared.publish_offsets(&log);
            truncated?;
            let end = log.log_end_offset();
            self.shared.log_end.send_replace(end);
            end
        };
        self.shared
            .durable
            .send_modify(|d| d.offset = d.offset.min(end));
        self.shared.local_end.fetch_min(end, Ordering::AcqRel);
        self.shared
            .high_watermark
            .send_modify(|hw| *hw = (*hw).min(end));
        Ok(())
    }

    /// Kafka's `UnifiedLog.maybeIncrementLogStartOffset`: moves the log start offset up to
    /// `offset`, deleting the segments wholly below it and checkpointing it (see
    /// `PartitionLog::advance_log_start_offset`). An offset above the high watermark is
    /// `OffsetOutOfRange` (Kafka: "Cannot increment the log start offset ... since it is larger
    /// than the high watermark"). Returns whether the start moved. Blocking file work.
    pub fn advance_log_start_offset(&self, offset: i64) -> Result<bool, LogError> {
        self.check_usable()?;
        let _gate = self.shared.gate()?;
        let mut log = self.shared.lock()?;
        let high_watermark = self.high_watermark();
        if offset > high_watermark {
            return Err(LogError::OffsetOutOfRange {
                offset,
                log_start: log.log_start_offset(),
                log_end: high_watermark,
            });
        }
        let moved = log.advance_log_start_offset(offset);
        self.shared.publish_offsets(&log);
        drop(log);
        // A failed segment deletion or checkpoint leaves the start moved in memory but not on
        // disk: the log goes offline rather than serve on with a start a restart would undo.
        self.shared
            .offline_on_io(moved, "log start offset increment")
    }

    /// Empties the log and starts it again at `offset` (see
    /// `PartitionLog::truncate_fully_and_start_at`). Blocking file work.
    pub fn truncate_fully_and_start_at(&self, offset: i64) -> Result<(), LogError> {
        {
            let _gate = self.shared.gate()?;
            let mut log = self.shared.lock()?;
            let truncated = log.truncate_fully_and_start_at(offset);
            self.shared.publish_offsets(&log);
            truncated?;
            self.shared.log_end.send_replace(offset);
        }
        self.shared.durable.send_modify(|d| d.offset = offset);
        self.shared.local_end.store(offset, Ordering::Release);
        self.shared.high_watermark.send_replace(offset);
        Ok(())
    }

    /// Flush rounds run so far (each is one fsync per file touched since the previous round).
    pub fn flush_count(&self) -> u64 {
        self.shared.flushes.load(Ordering::Relaxed)
    }

    /// The partition directory.
    pub fn dir(&self) -> std::path::PathBuf {
        self.shared.peek().dir().to_path_buf()
    }

    /// Stops the flusher, fsyncs everything and writes the recovery checkpoint. Errors are
    /// logged: at shutdown there is no one left to hand them to.
    pub async fn close(&self) {
        if self.shared.closed.load(Ordering::Acquire) {
            return;
        }
        self.shared.shutdown.send_replace(true);
        let flusher = self
            .shared
            .flusher
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(task) = flusher {
            let _ = task.await;
        }
        let shared = self.shared.clone();
        let result = tokio::task::spawn_blocking(move || -> Result<i64, LogError> {
            // Under the gate and the lock, so that an append either is committed before the
            // final flush is planned or is refused; the fsyncs run after both are released.
            let plan = {
                let _gate = shared.gate()?;
                let log = shared.lock()?;
                if shared.closed.swap(true, Ordering::AcqRel) {
                    return Ok(log.durable_offset());
                }
                log.flush_plan(true)
            };
            if let Some(plan) = plan {
                plan.execute()?;
                shared.lock()?.mark_flushed(&plan);
            }
            Ok(shared.peek().durable_offset())
        })
        .await;
        let outcome = match result {
            Ok(Ok(durable)) => Ok(durable),
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match outcome {
            // Appenders still waiting for their fsync are released by the final flush.
            Ok(durable) => {
                self.shared.durable.send_if_modified(|d| {
                    let advance = durable > d.offset;
                    if advance {
                        d.offset = durable;
                    }
                    advance
                });
            }
            Err(e) => {
                tracing::error!("closing partition log: {e}");
                self.shared
                    .durable
                    .send_modify(|d| d.failed = Some(format!("closing failed: {e}")));
            }
        }
    }
}

impl Drop for DurableLog {
    fn drop(&mut self) {
        // The flusher holds the shared state; without this it would outlive the log.
        self.shared.shutdown.send_replace(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::testutil::batch;
    use bytes::BytesMut;

    fn fsync_config() -> LogConfig {
        LogConfig {
            flush_interval_messages: 1,
            ..LogConfig::default()
        }
    }

    /// The high watermark of a leader is the minimum over its ISR and only rises; a follower's
    /// is the leader's capped by its own log.
    #[tokio::test]
    async fn the_high_watermark_is_the_isrs_minimum_on_a_leader_and_the_leaders_on_a_follower() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = DurableLog::open(dir.path(), LogConfig::default()).expect("open");
        log.become_leader(vec![(1, -1), (2, -1)]);
        log.append(BytesMut::from(&batch(4, 10)[..]), 0)
            .await
            .expect("append");
        assert_eq!(log.log_end_offset(), 4);
        assert_eq!(log.high_watermark(), 0, "no follower has fetched yet");
        log.update_isr_followers(vec![(1, 4), (2, 2)]);
        assert_eq!(log.high_watermark(), 2);
        // Follower 2 leaves the ISR: the minimum is over the others.
        log.update_isr_followers(vec![(1, 4)]);
        assert_eq!(log.high_watermark(), 4);
        // A new leadership whose followers have not fetched does not move it back.
        log.become_leader(vec![(1, -1)]);
        assert_eq!(log.high_watermark(), 4);
        // As a follower it takes the leader's, capped by what it has.
        log.follow(3);
        assert_eq!(log.high_watermark(), 3);
        log.follow(9);
        assert_eq!(log.high_watermark(), 4);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn group_commit_makes_every_append_durable_with_fewer_fsyncs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = Arc::new(DurableLog::open(dir.path(), fsync_config()).expect("open"));
        let appends = 64;
        let mut tasks = Vec::new();
        for _ in 0..appends {
            let log = log.clone();
            tasks.push(tokio::spawn(async move {
                let info = log
                    .append(BytesMut::from(&batch(1, 100)[..]), 0)
                    .await
                    .expect("append");
                // Acknowledged means durable, and visible below the high watermark.
                assert!(log.high_watermark() > info.last_offset);
                info.base_offset
            }));
        }
        let mut offsets = Vec::new();
        for t in tasks {
            offsets.push(t.await.expect("task"));
        }
        offsets.sort_unstable();
        assert_eq!(offsets, (0..appends).collect::<Vec<i64>>());
        let flushes = log.flush_count();
        assert!(flushes >= 1);
        assert!(
            flushes < appends as u64,
            "{flushes} flush rounds for {appends} appends"
        );
        assert_eq!(log.high_watermark(), appends);
        log.close().await;
        drop(log);
        let reopened = PartitionLog::open(dir.path(), LogConfig::default()).expect("reopen");
        assert_eq!(reopened.log_end_offset(), appends);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn acknowledged_appends_survive_a_crash_without_close() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = DurableLog::open(dir.path(), fsync_config()).expect("open");
        for i in 0..20 {
            let info = log
                .append(BytesMut::from(&batch(1, 50)[..]), 0)
                .await
                .expect("append");
            assert_eq!(info.base_offset, i);
        }
        // No close: the checkpoint still says 0, as after kill -9. A torn write follows.
        drop(log);
        let path = dir.path().join("00000000000000000000.log");
        let mut torn = batch(1, 50);
        torn.truncate(40);
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("open segment");
        std::io::Write::write_all(&mut f, &torn).expect("torn write");
        let log = DurableLog::open(dir.path(), fsync_config()).expect("reopen");
        assert_eq!(log.log_end_offset(), 20);
        assert_eq!(log.high_watermark(), 20);
        let info = log
            .append(BytesMut::from(&batch(1, 50)[..]), 0)
            .await
            .expect("append after recovery");
        assert_eq!(info.base_offset, 20);
        log.close().await;
    }

    /// Releases held writes or fsyncs when a test ends, failed or not.
    struct Released(Arc<crate::log::partition_log::fsync_fault::SlowFsync>);

    impl Drop for Released {
        fn drop(&mut self) {
            self.0.release();
        }
    }

    /// An append's write into the segment happens outside the partition's lock: while one is
    /// held (a slow disk), reads, offset lookups and the other accessors all answer, and the
    /// append becomes visible only once committed.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn readers_do_not_wait_for_an_append_being_written() {
        use crate::log::partition_log::fsync_fault;
        let dir = tempfile::tempdir().expect("tempdir");
        let log = Arc::new(DurableLog::open(dir.path(), LogConfig::default()).expect("open"));
        log.append(BytesMut::from(&batch(2, 10)[..]), 0)
            .await
            .expect("append");
        let gate = Released(fsync_fault::slow_down_writes(dir.path()));
        let appending = tokio::spawn({
            let log = log.clone();
            async move { log.append(BytesMut::from(&batch(1, 10)[..]), 0).await }
        });
        let mut entered = gate.0.entered.subscribe();
        tokio::time::timeout(Duration::from_secs(60), entered.wait_for(|e| *e))
            .await
            .expect("the write starts")
            .expect("gate");
        let reading = tokio::task::spawn_blocking({
            let log = log.clone();
            move || {
                let read = log.read(0, 1 << 20, log.high_watermark()).expect("read");
                let lso = log.last_stable_offset();
                let earliest = log.offset_for_timestamp(-2).expect("earliest");
                let max = log.max_timestamp_offset().expect("max timestamp");
                (
                    read.len(),
                    lso,
                    earliest,
                    max,
                    log.size_bytes(),
                    log.latest_epoch(),
                )
            }
        });
        let (read, lso, earliest, max, size, epoch) =
            tokio::time::timeout(Duration::from_secs(60), reading)
                .await
                .expect("readers answer while the write is held")
                .expect("reader");
        assert_eq!(read, batch(2, 10).len());
        assert_eq!(
            (lso, earliest, max.map(|m| m.0)),
            (2, Some((0, -1)), Some(1))
        );
        assert_eq!((size, epoch), (batch(2, 10).len() as u64, Some(0)));
        assert_eq!(log.log_end_offset(), 2, "not committed while being written");
        gate.0.release();
        let info = appending.await.expect("task").expect("append");
        assert_eq!(info.base_offset, 2);
        assert_eq!(log.log_end_offset(), 3);
        log.close().await;
    }

    #[tokio::test]
    async fn page_cache_mode_acknowledges_after_the_write() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = DurableLog::open(dir.path(), LogConfig::default()).expect("open");
        let mut hw = log.subscribe_high_watermark();
        let info = log
            .append(BytesMut::from(&batch(3, 10)[..]), 0)
            .await
            .expect("append");
        assert_eq!((info.base_offset, info.last_offset), (0, 2));
        // The watch wakes long-polling fetches.
        tokio::time::timeout(Duration::from_secs(5), hw.changed())
            .await
            .expect("woken")
            .expect("sender alive");
        assert_eq!(*hw.borrow(), 3);
        assert_eq!(log.flush_count(), 0);
        let bytes = log.read(1, 1 << 20, log.high_watermark()).expect("read");
        assert!(!bytes.is_empty());
        assert_eq!(log.offset_for_timestamp(-1).expect("latest"), Some((3, -1)));
        assert_eq!(log.max_timestamp_offset().expect("max"), Some((2, 1_002)));
        log.close().await;
        let err = log
            .append(BytesMut::from(&batch(1, 10)[..]), 0)
            .await
            .expect_err("closed");
        assert_eq!(err.kafka_error_code(), 56);
    }

    #[tokio::test]
    async fn flush_by_message_count_runs_in_the_background() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = LogConfig {
            flush_interval_messages: 4,
            ..LogConfig::default()
        };
        let log = DurableLog::open(dir.path(), config).expect("open");
        for _ in 0..4 {
            log.append(BytesMut::from(&batch(1, 10)[..]), 0)
                .await
                .expect("append");
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while log.flush_count() == 0 {
            assert!(Instant::now() < deadline, "no background flush");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        log.close().await;
    }

    /// The retention task empties an expired log, active segment included, and the log start
    /// offset, ListOffsets earliest and latest all land on the log end offset.
    #[tokio::test]
    async fn retention_empties_an_expired_log_up_to_the_high_watermark() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = LogConfig {
            retention_ms: Some(1_000),
            ..fsync_config()
        };
        let log = DurableLog::open(dir.path(), config).expect("open");
        for _ in 0..3 {
            // Records stamped at 1000 ms after the epoch: long expired.
            log.append(BytesMut::from(&batch(1, 10)[..]), 0)
                .await
                .expect("append");
        }
        assert_eq!(log.high_watermark(), 3);
        assert_eq!(log.apply_retention().await.expect("retention"), 1);
        assert_eq!((log.log_start_offset(), log.log_end_offset()), (3, 3));
        assert_eq!(
            log.offset_for_timestamp(-2).expect("earliest"),
            Some((3, -1))
        );
        assert_eq!(log.offset_for_timestamp(-1).expect("latest"), Some((3, -1)));
        let err = log.read(0, 100, 3).expect_err("deleted");
        assert_eq!(err.kafka_error_code(), 1);
        log.close().await;
    }

    #[tokio::test]
    async fn invalid_appends_report_their_kafka_code() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = DurableLog::open(dir.path(), fsync_config()).expect("open");
        let err = log
            .append(BytesMut::from(&b"not a batch at all"[..]), 0)
            .await
            .expect_err("garbage");
        assert_eq!(err.kafka_error_code(), 2);
        assert_eq!(log.high_watermark(), 0);
        assert_eq!(log.read(0, 100, 0).expect("empty"), Bytes::new());
        log.close().await;
    }

    /// A transaction marker goes through the flush policy like an append; the last stable
    /// offset follows the open transactions and the high watermark.
    #[tokio::test]
    async fn markers_end_transactions_and_move_the_last_stable_offset() {
        use crate::log::testutil::txn_batch;
        use crate::log::txn::ControlRecordType;
        let dir = tempfile::tempdir().expect("tempdir");
        let log = DurableLog::open(dir.path(), fsync_config()).expect("open");
        log.append(BytesMut::from(&batch(1, 10)[..]), 0)
            .await
            .expect("plain"); // 0
        log.append(BytesMut::from(&txn_batch(7, 2, 0, 2)[..]), 0)
            .await
            .expect("txn"); // 1-2
        log.append_as_coordinator(BytesMut::from(&txn_batch(8, 0, -1, 1)[..]), 0)
            .await
            .expect("offsets commit"); // 3
        assert_eq!(log.high_watermark(), 4);
        assert_eq!(log.last_stable_offset(), 1);
        assert_eq!(
            log.ongoing_transactions()
                .iter()
                .map(|t| (t.producer_id, t.producer_epoch, t.first_offset))
                .collect::<Vec<_>>(),
            vec![(7, 2, 1), (8, 0, 3)]
        );
        let marker = |pid, epoch, control| TxnMarker {
            producer_id: pid,
            producer_epoch: epoch,
            coordinator_epoch: 1,
            control,
        };
        let info = log
            .append_marker(marker(7, 2, ControlRecordType::Abort), 0)
            .await
            .expect("abort");
        assert_eq!(info.base_offset, 4);
        assert!(log.high_watermark() > 4, "acknowledged means durable");
        assert_eq!(log.last_stable_offset(), 3);
        log.append_marker(marker(8, 0, ControlRecordType::Commit), 0)
            .await
            .expect("commit");
        assert_eq!(log.last_stable_offset(), 6);
        assert_eq!(
            log.aborted_transactions(0, 6).expect("aborted"),
            vec![AbortedTxn {
                producer_id: 7,
                first_offset: 1
            }]
        );
        let err = log
            .append_marker(marker(7, 1, ControlRecordType::Commit), 0)
            .await
            .expect_err("old epoch");
        assert_eq!(err.kafka_error_code(), 47);
        log.close().await;
    }
}
