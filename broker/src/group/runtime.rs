//! The async shell around the pure [`Coordinator`]: a clock, one mutex held only for the length
//! of a state-machine call (never across an await), oneshot channels for the JoinGroup and
//! SyncGroup requests that wait, and which `__consumer_offsets` partitions this broker owns
//! (Kafka's `GroupMetadataManager.ownedPartitions` / `loadingPartitions`) with a writer for each.
//! A ticker task calls [`Groups::tick`] to drive timeouts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

use super::records::{encode_group_value, encode_offset_value, group_key, offset_key, OffsetValue};
use super::{
    partition_for, CommittedOffset, Coordinator, GroupConfig, JoinRequest, JoinResult,
    LeaveOutcome, LoadedPartition, Reply, SyncRequest, SyncResult, Token,
};
use common::errors::ErrorCode;

/// Records to append to one `__consumer_offsets` partition, as one unit: `(key, value)` with
/// `None` for a tombstone. `done` gets the log offset of the first record once the records are
/// committed (the high watermark passed them: acks=all), or the error code of the append
/// (`ErrorCode` of the log or of the wait, e.g. NOT_LEADER_OR_FOLLOWER, REQUEST_TIMED_OUT).
pub struct WriteJob {
    pub records: Vec<(Bytes, Option<Bytes>)>,
    /// `(producer id, producer epoch)` of a TxnOffsetCommit: the records are written alone, as
    /// one transactional batch of that producer (base sequence -1), instead of being grouped
    /// with other writes.
    pub producer: Option<(i64, i16)>,
    pub done: oneshot::Sender<Result<i64, i16>>,
}

enum Waiter {
    Join(oneshot::Sender<JoinResult>),
    Sync(oneshot::Sender<SyncResult>),
}

/// A `__consumer_offsets` partition this broker leads, at a leader epoch.
enum Ownership {
    /// Being read back; its groups answer COORDINATOR_LOAD_IN_PROGRESS. `deferred` holds the
    /// transaction markers (producer id, commit) written to it meanwhile, applied to the loaded
    /// groups once the load ends (the read may have stopped before them).
    Loading {
        epoch: i32,
        deferred: Vec<(i64, bool)>,
    },
    /// Served; writes go through `writer`, in order.
    Loaded {
        epoch: i32,
        writer: mpsc::UnboundedSender<WriteJob>,
    },
}

/// A group's metadata on its way to the log, with the replies that wait for it.
struct PendingStore {
    group: String,
    generation: i32,
    done: Result<oneshot::Receiver<Result<i64, i16>>, i16>,
    then: Vec<Reply>,
}

struct Inner {
    coordinator: Coordinator,
    waiters: HashMap<Token, Waiter>,
    next_token: Token,
    owned: HashMap<i32, Ownership>,
    /// The partition count of `__consumer_offsets` (`partition_for`'s modulus).
    partitions: i32,
}

impl Inner {
    /// Hands every released reply to its waiting request (a waiter whose connection went away
    /// has dropped its receiver; its reply is simply discarded). A Persist is queued on its
    /// partition's writer, and returned to be awaited off the lock.
    fn release(&mut self, replies: Vec<Reply>, now_wall_ms: i64) -> Vec<PendingStore> {
        let mut pending = Vec::new();
        for reply in replies {
            match reply {
                Reply::Join(t, j) => {
                    if let Some(Waiter::Join(tx)) = self.waiters.remove(&t) {
                        let _ = tx.send(j);
                    }
                }
                Reply::Sync(t, s) => {
                    if let Some(Waiter::Sync(tx)) = self.waiters.remove(&t) {
                        let _ = tx.send(s);
                    }
                }
                Reply::Persist {
                    group,
                    mut value,
                    then,
                } => {
                    value.current_state_timestamp = now_wall_ms;
                    let generation = value.generation;
                    let records = vec![(group_key(&group), Some(encode_group_value(&value)))];
                    let done = self.enqueue(&group, records);
                    pending.push(PendingStore {
                        group,
                        generation,
                        done,
                        then,
                    });
                }
            }
        }
        pending
    }

    /// Queues records on the writer of `group`'s partition; NOT_COORDINATOR if it is not loaded.
    fn enqueue(
        &self,
        group: &str,
        records: Vec<(Bytes, Option<Bytes>)>,
    ) -> Result<oneshot::Receiver<Result<i64, i16>>, i16> {
        self.enqueue_as(group, records, None)
    }

    /// [`Inner::enqueue`], as a transactional write of `producer` when given.
    fn enqueue_as(
        &self,
        group: &str,
        records: Vec<(Bytes, Option<Bytes>)>,
        producer: Option<(i64, i16)>,
    ) -> Result<oneshot::Receiver<Result<i64, i16>>, i16> {
        let p = partition_for(group, self.partitions);
        match self.owned.get(&p) {
            Some(Ownership::Loaded { writer, .. }) => {
                let (tx, rx) = oneshot::channel();
                writer
                    .send(WriteJob {
                        records,
                        producer,
                        done: tx,
                    })
                    .map_err(|_| ErrorCode::NotCoordinator.code())?;
                Ok(rx)
            }
            Some(Ownership::Loading { .. }) => Err(ErrorCode::CoordinatorLoadInProgress.code()),
            None => Err(ErrorCode::NotCoordinator.code()),
        }
    }

    fn loaded_epoch(&self, group: &str) -> Option<i32> {
        match self.owned.get(&partition_for(group, self.partitions)) {
            Some(Ownership::Loaded { epoch, .. }) => Some(*epoch),
            _ => None,
        }
    }

    fn token(&mut self) -> Token {
        self.next_token += 1;
        self.next_token
    }
}

/// Kafka's mapping of a group metadata append's error (`GroupMetadataManager.storeGroup`).
fn store_error(code: i16) -> i16 {
    use ErrorCode as E;
    match ErrorCode::from_code(code) {
        Some(
            E::UnknownTopicOrPartition | E::NotEnoughReplicas | E::NotEnoughReplicasAfterAppend,
        ) => E::CoordinatorNotAvailable.code(),
        Some(E::NotLeaderOrFollower | E::KafkaStorageError) => E::NotCoordinator.code(),
        Some(E::RequestTimedOut) => E::RebalanceInProgress.code(),
        Some(E::MessageTooLarge | E::RecordListTooLarge | E::InvalidFetchSize) => {
            E::UnknownServerError.code()
        }
        _ => code,
    }
}

/// Kafka's mapping of an offset commit append's error (`GroupMetadataManager.storeOffsets`).
fn commit_error(code: i16) -> i16 {
    use ErrorCode as E;
    match ErrorCode::from_code(code) {
        Some(
            E::UnknownTopicOrPartition
            | E::NotEnoughReplicas
            | E::NotEnoughReplicasAfterAppend
            | E::RequestTimedOut,
        ) => E::CoordinatorNotAvailable.code(),
        Some(E::NotLeaderOrFollower | E::KafkaStorageError) => E::NotCoordinator.code(),
        Some(E::MessageTooLarge | E::RecordListTooLarge | E::InvalidFetchSize) => {
            E::InvalidCommitOffsetSize.code()
        }
        _ => code,
    }
}

/// The consumer groups this broker coordinates, shared by every handler (clones share them).
#[derive(Clone)]
pub struct Groups {
    inner: Arc<Mutex<Inner>>,
    started: Instant,
}

fn lock(inner: &Mutex<Inner>) -> MutexGuard<'_, Inner> {
    // A panic while holding the lock cannot leave the maps half-updated in a way that matters
    // more than refusing every group request from then on.
    inner.lock().unwrap_or_else(|p| p.into_inner())
}

impl Groups {
    pub fn new(config: GroupConfig) -> Self {
        Groups {
            inner: Arc::new(Mutex::new(Inner {
                coordinator: Coordinator::new(config),
                waiters: HashMap::new(),
                next_token: 0,
                owned: HashMap::new(),
                partitions: 1,
            })),
            started: Instant::now(),
        }
    }

    /// Milliseconds on a monotonic clock (wall-clock jumps must not expire sessions).
    pub fn now(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        lock(&self.inner)
    }

    /// Releases `replies`, then waits (in a task of its own) for each group write they asked
    /// for before releasing what depends on it.
    fn release(&self, inner: &mut Inner, replies: Vec<Reply>) {
        let pending = inner.release(replies, common::time::now_ms());
        for store in pending {
            self.spawn_store(store);
        }
    }

    fn spawn_store(&self, store: PendingStore) {
        let shared = self.inner.clone();
        let started = self.started;
        tokio::spawn(async move {
            let result = match store.done {
                Ok(rx) => rx.await.unwrap_or(Err(ErrorCode::NotCoordinator.code())),
                Err(code) => Err(code),
            };
            let now = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            let mut inner = lock(&shared);
            let replies = match result {
                Ok(_) => store.then,
                Err(code) => {
                    let code = store_error(code);
                    tracing::warn!(
                        "storing the metadata of group {} (generation {}) failed with error \
                         {code}",
                        store.group,
                        store.generation
                    );
                    let mut replies: Vec<Reply> = store
                        .then
                        .into_iter()
                        .map(|r| match r {
                            Reply::Join(t, j) => Reply::Join(
                                t,
                                JoinResult {
                                    error: code,
                                    generation: -1,
                                    member_id: j.member_id,
                                    ..Default::default()
                                },
                            ),
                            Reply::Sync(t, _) => Reply::Sync(
                                t,
                                SyncResult {
                                    error: code,
                                    ..Default::default()
                                },
                            ),
                            other => other,
                        })
                        .collect();
                    replies.extend(inner.coordinator.store_failed(
                        &store.group,
                        store.generation,
                        now,
                    ));
                    replies
                }
            };
            let pending = inner.release(replies, common::time::now_ms());
            drop(inner);
            if !pending.is_empty() {
                let groups = Groups {
                    inner: shared,
                    started,
                };
                for p in pending {
                    groups.spawn_store(p);
                }
            }
        });
    }

    /// NONE when this broker coordinates `group` (it leads and has loaded the group's
    /// `__consumer_offsets` partition), COORDINATOR_LOAD_IN_PROGRESS while it loads it,
    /// NOT_COORDINATOR otherwise (Kafka's `GroupCoordinator.validateGroupStatus`).
    pub fn check(&self, group: &str) -> i16 {
        let inner = self.lock();
        match inner.owned.get(&partition_for(group, inner.partitions)) {
            Some(Ownership::Loaded { .. }) => ErrorCode::None.code(),
            Some(Ownership::Loading { .. }) => ErrorCode::CoordinatorLoadInProgress.code(),
            None => ErrorCode::NotCoordinator.code(),
        }
    }

    pub async fn join(&self, group: &str, req: JoinRequest) -> JoinResult {
        let member_id = req.member_id.clone();
        let rx = {
            let now = self.now();
            let mut inner = self.lock();
            self.fire_due_timers(&mut inner, now);
            let token = inner.token();
            let (tx, rx) = oneshot::channel();
            inner.waiters.insert(token, Waiter::Join(tx));
            let replies = inner.coordinator.join(group, req, token, 0, now);
            self.release(&mut inner, replies);
            rx
        };
        rx.await.unwrap_or(JoinResult {
            error: ErrorCode::CoordinatorNotAvailable.code(),
            generation: -1,
            member_id,
            ..Default::default()
        })
    }

    pub async fn sync(&self, group: &str, req: SyncRequest) -> SyncResult {
        let rx = {
            let now = self.now();
            let mut inner = self.lock();
            self.fire_due_timers(&mut inner, now);
            let token = inner.token();
            let (tx, rx) = oneshot::channel();
            inner.waiters.insert(token, Waiter::Sync(tx));
            let replies = inner.coordinator.sync(group, req, token);
            self.release(&mut inner, replies);
            rx
        };
        rx.await.unwrap_or(SyncResult {
            error: ErrorCode::CoordinatorNotAvailable.code(),
            ..Default::default()
        })
    }

    pub fn heartbeat(
        &self,
        group: &str,
        generation: i32,
        member_id: &str,
        instance_id: Option<&str>,
    ) -> i16 {
        let now = self.now();
        let mut inner = self.lock();
        self.fire_due_timers(&mut inner, now);
        inner
            .coordinator
            .heartbeat(group, generation, member_id, instance_id, now)
    }

    pub fn leave(&self, group: &str, members: Vec<(String, Option<String>)>) -> LeaveOutcome {
        let now = self.now();
        let mut inner = self.lock();
        self.fire_due_timers(&mut inner, now);
        let (outcome, replies) = inner.coordinator.leave(group, members, now);
        self.release(&mut inner, replies);
        outcome
    }

    pub fn tick(&self) {
        let now = self.now();
        let mut inner = self.lock();
        self.fire_due_timers(&mut inner, now);
    }

    /// Applies every group timer due at `now` (session expiries, join and sync deadlines): the
    /// periodic tick does it every 100 ms, and every request that reads or changes group state
    /// does it first, so that nothing answers from state Kafka's purgatories (which fire each
    /// timer on time) would already have moved past. librdkafka's 0081_admin deletes groups
    /// exactly one session timeout after their static members closed.
    fn fire_due_timers(&self, inner: &mut Inner, now: u64) {
        let replies = inner.coordinator.tick(now);
        self.release(inner, replies);
    }

    /// Runs a short synchronous query or update on the coordinator (commit checks, describe,
    /// list, delete) with the current time, after the timers due by then have fired.
    pub fn with<R>(&self, f: impl FnOnce(&mut Coordinator, u64) -> R) -> R {
        let now = self.now();
        let mut inner = self.lock();
        self.fire_due_timers(&mut inner, now);
        f(&mut inner.coordinator, now)
    }

    /// Appends `records` to `group`'s partition and waits until they are committed; the error
    /// is the raw one of the append (see [`WriteJob`]) or NOT_COORDINATOR /
    /// COORDINATOR_LOAD_IN_PROGRESS when the partition is not served here.
    pub async fn append(
        &self,
        group: &str,
        records: Vec<(Bytes, Option<Bytes>)>,
    ) -> Result<i64, i16> {
        let rx = self.lock().enqueue(group, records)?;
        rx.await.unwrap_or(Err(ErrorCode::NotCoordinator.code()))
    }

    /// OffsetCommit's write (Kafka's `GroupMetadataManager.storeOffsets`): the offsets are
    /// appended to the group's partition and, once committed there, cached. The error is the
    /// one Kafka answers each partition with.
    pub async fn commit_offsets(
        &self,
        group: &str,
        offsets: Vec<((String, i32), OffsetValue)>,
    ) -> Result<(), i16> {
        if offsets.is_empty() {
            return Ok(());
        }
        let records = offsets
            .iter()
            .map(|((t, p), v)| (offset_key(group, t, *p), Some(encode_offset_value(v))))
            .collect();
        let (rx, epoch) = {
            let inner = self.lock();
            (inner.enqueue(group, records), inner.loaded_epoch(group))
        };
        let base = rx?
            .await
            .unwrap_or(Err(ErrorCode::NotCoordinator.code()))
            .map_err(commit_error)?;
        let now = self.now();
        let mut inner = self.lock();
        if inner.loaded_epoch(group) != epoch {
            // The partition moved meanwhile: the commit is in the log, the new leader has it.
            return Err(ErrorCode::NotCoordinator.code());
        }
        let committed = offsets
            .into_iter()
            .enumerate()
            .map(|(i, (tp, value))| {
                let log_offset = base.saturating_add(i64::try_from(i).unwrap_or(0));
                (tp, CommittedOffset { value, log_offset })
            })
            .collect();
        inner.coordinator.apply_offsets(group, committed, now);
        Ok(())
    }

    /// TxnOffsetCommit's write (Kafka's `GroupMetadataManager.storeOffsets` with a producer
    /// id): the offsets are pending for `producer_id` from now on, appended to the group's
    /// partition as one transactional batch of the producer, and stay pending once committed
    /// there, until [`Groups::complete_txn`] is told of the producer's marker. On a failed
    /// append they are dropped and the error is the one Kafka answers each partition with.
    pub async fn commit_txn_offsets(
        &self,
        group: &str,
        producer_id: i64,
        producer_epoch: i16,
        offsets: Vec<((String, i32), OffsetValue)>,
    ) -> Result<(), i16> {
        if offsets.is_empty() {
            return Ok(());
        }
        let records = offsets
            .iter()
            .map(|((t, p), v)| (offset_key(group, t, *p), Some(encode_offset_value(v))))
            .collect();
        let (rx, epoch) = {
            let now = self.now();
            let mut inner = self.lock();
            let rx = inner.enqueue_as(group, records, Some((producer_id, producer_epoch)));
            if rx.is_ok() {
                inner
                    .coordinator
                    .prepare_txn_offsets(group, producer_id, &offsets, now);
            }
            (rx, inner.loaded_epoch(group))
        };
        let result = rx?.await.unwrap_or(Err(ErrorCode::NotCoordinator.code()));
        let mut inner = self.lock();
        if inner.loaded_epoch(group) != epoch {
            // The partition moved meanwhile: its new leader reads the offsets back as pending.
            return Err(ErrorCode::NotCoordinator.code());
        }
        match result {
            Ok(base) => {
                let appended: Vec<((String, i32), CommittedOffset)> = offsets
                    .into_iter()
                    .enumerate()
                    .map(|(i, (tp, value))| {
                        let log_offset = base.saturating_add(i64::try_from(i).unwrap_or(0));
                        (tp, CommittedOffset { value, log_offset })
                    })
                    .collect();
                inner
                    .coordinator
                    .txn_offsets_appended(group, producer_id, &appended);
                Ok(())
            }
            Err(code) => {
                let tps: Vec<(String, i32)> = offsets.into_iter().map(|(tp, _)| tp).collect();
                inner.coordinator.fail_txn_offsets(group, producer_id, &tps);
                Err(commit_error(code))
            }
        }
    }

    /// A transaction marker of `producer_id` was written to the `__consumer_offsets`
    /// `partitions` (Kafka's `GroupCoordinator.onTransactionCompleted`): the producer's pending
    /// offsets of the groups placed there are materialised (`commit`) or dropped. A partition
    /// still loading applies the marker when its load ends. Returns the groups completed.
    pub fn complete_txn(&self, producer_id: i64, partitions: &[i32], commit: bool) -> Vec<String> {
        let mut inner = self.lock();
        for p in partitions {
            if let Some(Ownership::Loading { deferred, .. }) = inner.owned.get_mut(p) {
                deferred.push((producer_id, commit));
            }
        }
        let count = inner.partitions;
        inner.coordinator.complete_txn(producer_id, commit, |g| {
            partitions.contains(&partition_for(g, count))
        })
    }

    /// Writes tombstones for the listed offsets of `group` (and for the group itself when
    /// `group_too`), already removed from the cache; waits until they are committed.
    pub async fn write_tombstones(
        &self,
        group: &str,
        partitions: &[(String, i32)],
        group_too: bool,
    ) -> Result<(), i16> {
        let mut records: Vec<(Bytes, Option<Bytes>)> = partitions
            .iter()
            .map(|(t, p)| (offset_key(group, t, *p), None))
            .collect();
        if group_too {
            records.push((group_key(group), None));
        }
        if records.is_empty() {
            return Ok(());
        }
        self.append(group, records).await.map(|_| ())
    }

    /// The partition count of `__consumer_offsets` that groups are placed by.
    pub fn partition_count(&self) -> i32 {
        self.lock().partitions
    }

    /// Waits until every write queued so far on every loaded partition has been appended.
    pub async fn flush(&self) {
        let waits: Vec<oneshot::Receiver<Result<i64, i16>>> = {
            let inner = self.lock();
            inner
                .owned
                .values()
                .filter_map(|o| match o {
                    Ownership::Loaded { writer, .. } => {
                        let (tx, rx) = oneshot::channel();
                        writer
                            .send(WriteJob {
                                records: Vec::new(),
                                producer: None,
                                done: tx,
                            })
                            .ok()
                            .map(|()| rx)
                    }
                    Ownership::Loading { .. } => None,
                })
                .collect()
        };
        for w in waits {
            let _ = w.await;
        }
    }

    /// Sets the partition count of `__consumer_offsets` that groups are placed by.
    pub fn set_partition_count(&self, partitions: i32) {
        self.lock().partitions = partitions.max(1);
    }

    /// Brings the owned partitions in line with `leading` (partition -> leader epoch of the
    /// `__consumer_offsets` partitions this broker leads now): partitions no longer led (or led
    /// at another epoch) are unloaded, their groups forgotten and their waiting requests
    /// answered NOT_COORDINATOR; groups of partitions not owned (created by a request that
    /// raced an unload) go too. Returns the partitions to load, now marked loading.
    pub fn sync_ownership(&self, leading: &HashMap<i32, i32>) -> Vec<(i32, i32)> {
        let mut inner = self.lock();
        let stale: Vec<i32> = inner
            .owned
            .iter()
            .filter(|(p, o)| {
                let epoch = match o {
                    Ownership::Loading { epoch, .. } | Ownership::Loaded { epoch, .. } => *epoch,
                };
                leading.get(p) != Some(&epoch)
            })
            .map(|(p, _)| *p)
            .collect();
        for p in &stale {
            inner.owned.remove(p);
            tracing::info!(
                "[GroupMetadataManager] Unloading group metadata of __consumer_offsets-{p}"
            );
        }
        let mut to_load: Vec<(i32, i32)> = leading
            .iter()
            .filter(|(p, _)| !inner.owned.contains_key(p))
            .map(|(p, e)| (*p, *e))
            .collect();
        to_load.sort();
        for (p, epoch) in &to_load {
            inner.owned.insert(
                *p,
                Ownership::Loading {
                    epoch: *epoch,
                    deferred: Vec::new(),
                },
            );
        }
        let partitions = inner.partitions;
        let loaded: std::collections::HashSet<i32> = inner
            .owned
            .iter()
            .filter(|(_, o)| matches!(o, Ownership::Loaded { .. }))
            .map(|(p, _)| *p)
            .collect();
        let replies = inner
            .coordinator
            .unload_where(|g| !loaded.contains(&partition_for(g, partitions)));
        self.release(&mut inner, replies);
        to_load
    }

    /// Installs what a load read from partition `p` (if it is still loading at `epoch`) and
    /// starts serving its groups through `writer`. Returns false when the load is stale.
    pub fn finish_load(
        &self,
        p: i32,
        epoch: i32,
        writer: mpsc::UnboundedSender<WriteJob>,
        mut loaded: LoadedPartition,
    ) -> bool {
        let now = self.now();
        let now_wall = common::time::now_ms();
        let mut inner = self.lock();
        let deferred = match inner.owned.get_mut(&p) {
            Some(Ownership::Loading { epoch: e, deferred }) if *e == epoch => {
                std::mem::take(deferred)
            }
            _ => return false,
        };
        for id in loaded.group_ids() {
            let value = loaded.groups.remove(&id);
            let offsets = loaded.offsets.remove(&id).unwrap_or_default();
            let pending = loaded.take_pending_txn(&id);
            if value.is_some() || !offsets.is_empty() {
                inner
                    .coordinator
                    .load_group(&id, value, offsets, now, now_wall);
            }
            inner
                .coordinator
                .load_pending_txn_offsets(&id, pending, now);
        }
        let partitions = inner.partitions;
        for (producer_id, commit) in deferred {
            inner
                .coordinator
                .complete_txn(producer_id, commit, |g| partition_for(g, partitions) == p);
        }
        inner.owned.insert(p, Ownership::Loaded { epoch, writer });
        true
    }

    /// A load of partition `p` at `epoch` failed: it is forgotten, so the next ownership sync
    /// tries again.
    pub fn abort_load(&self, p: i32, epoch: i32) {
        let mut inner = self.lock();
        if matches!(inner.owned.get(&p), Some(Ownership::Loading { epoch: e, .. }) if *e == epoch) {
            inner.owned.remove(&p);
        }
    }

    /// Whether some `__consumer_offsets` partition is being loaded here.
    pub fn loading(&self) -> bool {
        self.lock()
            .owned
            .values()
            .any(|o| matches!(o, Ownership::Loading { .. }))
    }

    /// The partitions loaded and served here, sorted.
    pub fn loaded_partitions(&self) -> Vec<i32> {
        let inner = self.lock();
        let mut out: Vec<i32> = inner
            .owned
            .iter()
            .filter(|(_, o)| matches!(o, Ownership::Loaded { .. }))
            .map(|(p, _)| *p)
            .collect();
        out.sort();
        out
    }

    /// One pass of Kafka's `delete-expired-group-metadata` task: expired offsets and Dead groups
    /// are removed from memory (see [`Coordinator::expire`]) and from the log by tombstones;
    /// offsets of deleted topics (`topic_exists` false) too.
    pub async fn cleanup(&self, topic_exists: impl Fn(&str) -> bool) {
        let now = self.now();
        let now_wall = common::time::now_ms();
        let expired = self.with(|c, _| c.expire(now, now_wall));
        for e in expired {
            if let Err(code) = self
                .write_tombstones(&e.group_id, &e.partitions, e.dead)
                .await
            {
                tracing::warn!(
                    "writing tombstones for the expired metadata of group {} failed with error \
                     {code}",
                    e.group_id
                );
            }
        }
        self.drop_offsets_of_deleted_topics(topic_exists).await;
    }

    /// Forgets and tombstones the committed offsets of topics that no longer exist
    /// (`topic_exists` false), as Kafka's `GroupMetadataManager.handleDeletedPartitions` does
    /// when a topic is deleted.
    pub async fn drop_offsets_of_deleted_topics(&self, topic_exists: impl Fn(&str) -> bool) {
        let deleted = self.with(|c, _| c.drop_offsets_of_deleted_topics(topic_exists));
        for (group, partitions) in deleted {
            tracing::info!(
                "Removed {} offsets of group {group} for deleted topics",
                partitions.len()
            );
            if let Err(code) = self.write_tombstones(&group, &partitions, false).await {
                tracing::warn!(
                    "writing tombstones for the offsets of deleted topics of group {group} \
                     failed with error {code}"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_marker_written_while_its_partition_loads_completes_the_loaded_offsets() {
        let groups = Groups::new(GroupConfig::default());
        groups.set_partition_count(1);
        let to_load = groups.sync_ownership(&[(0, 5)].into_iter().collect());
        assert_eq!(to_load, vec![(0, 5)]);
        // The load read the transactional offset but stopped before the marker.
        let mut loaded = LoadedPartition::default();
        let value = OffsetValue {
            offset: 42,
            leader_epoch: -1,
            metadata: String::new(),
            commit_timestamp: 1,
            expire_timestamp: None,
        };
        loaded.apply_txn(
            7,
            3,
            &offset_key("g", "t", 0),
            Some(&encode_offset_value(&value)),
        );
        assert!(
            groups.complete_txn(7, &[0], true).is_empty(),
            "not loaded yet"
        );
        let (writer, _rx) = mpsc::unbounded_channel();
        assert!(groups.finish_load(0, 5, writer, loaded));
        let committed = groups.with(|c, _| c.committed("g", None));
        assert_eq!(committed.len(), 1);
        assert_eq!(committed[0].1.offset, 42);
        assert!(!groups.with(|c, _| c.has_pending_txn_offset("g", &("t".to_string(), 0))));
    }

    #[test]
    fn append_errors_map_to_kafkas_group_and_commit_errors() {
        use ErrorCode as E;
        let cases = [
            (
                E::NotEnoughReplicas,
                E::CoordinatorNotAvailable,
                E::CoordinatorNotAvailable,
            ),
            (
                E::RequestTimedOut,
                E::RebalanceInProgress,
                E::CoordinatorNotAvailable,
            ),
            (E::NotLeaderOrFollower, E::NotCoordinator, E::NotCoordinator),
            (E::KafkaStorageError, E::NotCoordinator, E::NotCoordinator),
            (
                E::MessageTooLarge,
                E::UnknownServerError,
                E::InvalidCommitOffsetSize,
            ),
            (
                E::RecordListTooLarge,
                E::UnknownServerError,
                E::InvalidCommitOffsetSize,
            ),
            (E::CorruptMessage, E::CorruptMessage, E::CorruptMessage),
        ];
        for (raw, group, commit) in cases {
            assert_eq!(
                store_error(raw.code()),
                group.code(),
                "{raw:?} storing a group"
            );
            assert_eq!(
                commit_error(raw.code()),
                commit.code(),
                "{raw:?} committing"
            );
        }
    }
}
