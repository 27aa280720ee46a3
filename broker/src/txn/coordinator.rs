//! The transaction coordinator's state and its request handling (Kafka's
//! `TransactionCoordinator` and `TransactionStateManager`).
//!
//! Every transactional id this broker coordinates has a [`TxnMetadata`] in the loaded partition
//! that holds it. A change follows Kafka's two steps: under the lock the request is checked and
//! the target state marked pending (a concurrent request then gets CONCURRENT_TRANSACTIONS);
//! the target is appended to `__transaction_state` and, once the ISR has it, becomes the
//! state. The lock is never held across an await.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use common::errors::ErrorCode;
use kafka_protocol::messages::{WriteTxnMarkersRequest, WriteTxnMarkersResponse};
use tokio::sync::mpsc;

use super::records::{encode_key, encode_value, TxnLogValue};
use super::TxnState;
use crate::cluster::Cluster;
use crate::group::WriteJob;

/// How long an append to `__transaction_state` may wait for the ISR (Kafka uses the broker's
/// `request.timeout.ms`, 30000 by default), ms.
const WRITE_TIMEOUT_MS: u64 = 30_000;

/// The coordinator's settings, from the broker's configuration.
#[derive(Debug, Clone)]
pub struct TxnConfig {
    pub broker_id: i32,
    /// `transaction.max.timeout.ms`: the largest transaction timeout a producer may ask for.
    pub max_timeout_ms: i32,
    /// `transactional.id.expiration.ms`: how long an id without an open transaction is kept.
    pub transactional_id_expiration_ms: i64,
    /// `transaction.state.log.num.partitions`: the partition count before the topic exists.
    pub num_partitions: i32,
}

/// One transactional id's state (Kafka's `TransactionMetadata`).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct TxnMetadata {
    pub producer_id: i64,
    /// The producer id and epoch before the last bump (-1: none), so that a retried
    /// InitProducerId whose answer was lost gets the same answer.
    pub last_producer_id: i64,
    pub producer_epoch: i16,
    pub last_producer_epoch: i16,
    pub timeout_ms: i32,
    pub state: TxnState,
    pub partitions: BTreeSet<(String, i32)>,
    /// When the open transaction began (-1: none), ms since the epoch.
    pub start_ms: i64,
    pub last_update_ms: i64,
    /// The state being written, while an append is in flight.
    pub pending: Option<TxnState>,
}

impl TxnMetadata {
    fn log_value(&self) -> TxnLogValue {
        TxnLogValue {
            producer_id: self.producer_id,
            producer_epoch: self.producer_epoch,
            timeout_ms: self.timeout_ms,
            state: self.state,
            partitions: self.partitions.clone(),
            last_update_ms: self.last_update_ms,
            start_ms: self.start_ms,
        }
    }

    pub(super) fn from_log(v: TxnLogValue) -> TxnMetadata {
        TxnMetadata {
            producer_id: v.producer_id,
            last_producer_id: -1,
            producer_epoch: v.producer_epoch,
            last_producer_epoch: -1,
            timeout_ms: v.timeout_ms,
            state: v.state,
            partitions: v.partitions,
            start_ms: v.start_ms,
            last_update_ms: v.last_update_ms,
            pending: None,
        }
    }

    /// Whether the next bump needs a new producer id (the epoch is exhausted).
    fn epoch_exhausted(&self) -> bool {
        self.producer_epoch >= i16::MAX - 1
    }

    /// This metadata with the producer epoch bumped (a new producer id once the epoch is
    /// exhausted, as Kafka's `prepareIncrementProducerEpoch`), `new_id` giving it; without one
    /// (`None`: the broker has no producer id at hand), COORDINATOR_LOAD_IN_PROGRESS, as Kafka's
    /// `RPCProducerIdManager` answers while it waits for a block.
    fn bumped(&self, new_id: impl FnOnce() -> Option<i64>) -> Result<TxnMetadata, i16> {
        let mut t = self.clone();
        t.last_producer_id = self.producer_id;
        t.last_producer_epoch = self.producer_epoch;
        if self.epoch_exhausted() {
            t.producer_id = new_id().ok_or(ErrorCode::CoordinatorLoadInProgress.code())?;
            t.producer_epoch = 0;
        } else {
            t.producer_epoch = self.producer_epoch + 1;
        }
        Ok(t)
    }
}

/// What DescribeTransactions and ListTransactions show of one transactional id.
#[derive(Debug, Clone, PartialEq)]
pub struct TxnDescription {
    pub transactional_id: String,
    pub state: TxnState,
    pub timeout_ms: i32,
    pub start_ms: i64,
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub partitions: BTreeSet<(String, i32)>,
}

/// A partition of `__transaction_state` this broker leads.
pub(super) enum Owned {
    /// Being read back; requests get COORDINATOR_LOAD_IN_PROGRESS.
    Loading {
        epoch: i32,
    },
    Loaded(Loaded),
}

pub(super) struct Loaded {
    /// The partition's leader epoch: the coordinator epoch sent with the markers.
    pub epoch: i32,
    pub writer: mpsc::UnboundedSender<WriteJob>,
    pub txns: HashMap<String, TxnMetadata>,
}

impl Owned {
    pub(super) fn epoch(&self) -> i32 {
        match self {
            Owned::Loading { epoch } => *epoch,
            Owned::Loaded(l) => l.epoch,
        }
    }
}

pub(super) struct State {
    pub partition_count: i32,
    pub partitions: HashMap<i32, Owned>,
}

/// Writes markers to this broker's own partitions in process (the WriteTxnMarkers handler), set
/// by the server at start-up; without it they go over the network like the others.
pub type LocalMarkerWriter = Arc<
    dyn Fn(
            WriteTxnMarkersRequest,
        )
            -> std::pin::Pin<Box<dyn std::future::Future<Output = WriteTxnMarkersResponse> + Send>>
        + Send
        + Sync,
>;

pub(super) struct Inner {
    pub config: TxnConfig,
    pub cluster: Arc<Cluster>,
    pub state: Mutex<State>,
    pub local_writer: std::sync::OnceLock<LocalMarkerWriter>,
    /// Connections of the marker sender, by broker id.
    pub connections: tokio::sync::Mutex<HashMap<i32, client::connection::Connection>>,
}

/// The transaction coordinator of one broker. Cheap to clone.
#[derive(Clone)]
pub struct TxnCoordinator {
    pub(super) inner: Arc<Inner>,
}

/// How a transaction ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    Commit,
    Abort,
}

impl Outcome {
    fn prepare(self) -> TxnState {
        match self {
            Outcome::Commit => TxnState::PrepareCommit,
            Outcome::Abort => TxnState::PrepareAbort,
        }
    }
    fn complete(self) -> TxnState {
        match self {
            Outcome::Commit => TxnState::CompleteCommit,
            Outcome::Abort => TxnState::CompleteAbort,
        }
    }
}

/// Kafka's `TransactionStateManager` mapping of an append's error to what the client is told.
fn map_write_error(code: i16) -> i16 {
    match ErrorCode::from_code(code) {
        Some(
            ErrorCode::UnknownTopicOrPartition
            | ErrorCode::NotEnoughReplicas
            | ErrorCode::NotEnoughReplicasAfterAppend
            | ErrorCode::RequestTimedOut,
        ) => ErrorCode::CoordinatorNotAvailable.code(),
        Some(ErrorCode::NotLeaderOrFollower | ErrorCode::KafkaStorageError) => {
            ErrorCode::NotCoordinator.code()
        }
        Some(ErrorCode::MessageTooLarge | ErrorCode::RecordListTooLarge) => {
            ErrorCode::UnknownServerError.code()
        }
        _ => code,
    }
}

fn now_ms() -> i64 {
    common::time::now_ms()
}

/// The `__transaction_state` partition of `transactional_id` among `partitions` (Kafka's
/// `TransactionStateManager.partitionFor`: the same hash as groups).
pub fn partition_for(transactional_id: &str, partitions: i32) -> i32 {
    crate::group::partition_for(transactional_id, partitions)
}

impl TxnCoordinator {
    pub fn new(config: TxnConfig, cluster: Arc<Cluster>) -> TxnCoordinator {
        let partition_count = config.num_partitions.max(1);
        TxnCoordinator {
            inner: Arc::new(Inner {
                config,
                cluster,
                state: Mutex::new(State {
                    partition_count,
                    partitions: HashMap::new(),
                }),
                connections: tokio::sync::Mutex::new(HashMap::new()),
                local_writer: std::sync::OnceLock::new(),
            }),
        }
    }

    /// Sets how markers for this broker's own partitions are written (once; later calls are
    /// ignored).
    pub fn set_local_marker_writer(&self, writer: LocalMarkerWriter) {
        let _ = self.inner.local_writer.set(writer);
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        match self.inner.state.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// NONE when this broker coordinates `transactional_id` and has loaded it; else
    /// COORDINATOR_LOAD_IN_PROGRESS or NOT_COORDINATOR.
    pub fn check(&self, transactional_id: &str) -> i16 {
        let st = self.lock();
        match st
            .partitions
            .get(&partition_for(transactional_id, st.partition_count))
        {
            Some(Owned::Loaded(_)) => ErrorCode::None.code(),
            Some(Owned::Loading { .. }) => ErrorCode::CoordinatorLoadInProgress.code(),
            None => ErrorCode::NotCoordinator.code(),
        }
    }

    /// The loaded partition of `transactional_id`, or the error to answer (INVALID_REQUEST for
    /// an empty id, as Kafka's coordinator answers it).
    fn loaded<'a>(st: &'a mut State, transactional_id: &str) -> Result<(i32, &'a mut Loaded), i16> {
        if transactional_id.is_empty() {
            return Err(ErrorCode::InvalidRequest.code());
        }
        let p = partition_for(transactional_id, st.partition_count);
        match st.partitions.get_mut(&p) {
            Some(Owned::Loaded(l)) => Ok((p, l)),
            Some(Owned::Loading { .. }) => Err(ErrorCode::CoordinatorLoadInProgress.code()),
            None => Err(ErrorCode::NotCoordinator.code()),
        }
    }

    /// Appends `target` as `transactional_id`'s state to partition `p` (whose pending state the
    /// caller has set) and makes it the state once the ISR has it; on failure the pending mark
    /// is cleared and the mapped error returned.
    async fn persist(
        &self,
        p: i32,
        epoch: i32,
        writer: mpsc::UnboundedSender<WriteJob>,
        transactional_id: &str,
        target: TxnMetadata,
    ) -> Result<(), i16> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job = WriteJob {
            records: vec![(
                encode_key(transactional_id),
                Some(encode_value(&target.log_value())),
            )],
            producer: None,
            done: tx,
        };
        let written = if writer.send(job).is_err() {
            Err(ErrorCode::NotCoordinator.code())
        } else {
            match tokio::time::timeout(Duration::from_millis(WRITE_TIMEOUT_MS + 5_000), rx).await {
                Ok(Ok(r)) => r.map(drop).map_err(map_write_error),
                Ok(Err(_)) => Err(ErrorCode::NotCoordinator.code()),
                Err(_) => Err(ErrorCode::CoordinatorNotAvailable.code()),
            }
        };
        let mut st = self.lock();
        let Some(Owned::Loaded(l)) = st.partitions.get_mut(&p) else {
            return Err(ErrorCode::NotCoordinator.code());
        };
        if l.epoch != epoch {
            return Err(ErrorCode::NotCoordinator.code());
        }
        let Some(meta) = l.txns.get_mut(transactional_id) else {
            return Err(ErrorCode::NotCoordinator.code());
        };
        match written {
            Ok(()) => {
                *meta = TxnMetadata {
                    pending: None,
                    ..target
                };
                Ok(())
            }
            Err(code) => {
                meta.pending = None;
                tracing::warn!(
                    "[TransactionCoordinator id={}] appending the state of transactional id \
                     {transactional_id} failed with error {code}",
                    self.inner.config.broker_id
                );
                Err(code)
            }
        }
    }

    /// InitProducerId with a transactional id (Kafka's `handleInitProducerId`): the producer id
    /// and a bumped epoch, which fences every older producer of the id. An open transaction is
    /// aborted first (CONCURRENT_TRANSACTIONS until that is done; the client retries).
    /// `expected` is the producer id and epoch a KIP-360 client sends (-1: none); `new_id`
    /// gives a producer id when one is needed (a new transactional id, an exhausted epoch), or
    /// `None` when the broker has none at hand: then COORDINATOR_LOAD_IN_PROGRESS, changing
    /// nothing.
    pub async fn init_producer_id(
        &self,
        transactional_id: &str,
        timeout_ms: i32,
        expected: (i64, i16),
        new_id: impl Fn() -> Option<i64>,
    ) -> Result<(i64, i16), i16> {
        if timeout_ms <= 0 || timeout_ms > self.inner.config.max_timeout_ms {
            return Err(ErrorCode::InvalidTransactionTimeout.code());
        }
        let now = now_ms();
        let (p, epoch, writer, target, abort) = {
            let mut st = self.lock();
            let (p, l) = Self::loaded(&mut st, transactional_id)?;
            let first_id = if l.txns.contains_key(transactional_id) {
                -1
            } else {
                new_id().ok_or(ErrorCode::CoordinatorLoadInProgress.code())?
            };
            let meta = l
                .txns
                .entry(transactional_id.to_string())
                .or_insert_with(|| TxnMetadata {
                    producer_id: first_id,
                    last_producer_id: -1,
                    producer_epoch: -1,
                    last_producer_epoch: -1,
                    timeout_ms,
                    state: TxnState::Empty,
                    partitions: BTreeSet::new(),
                    start_ms: -1,
                    last_update_ms: now,
                    pending: None,
                });
            if meta.pending.is_some() {
                return Err(ErrorCode::ConcurrentTransactions.code());
            }
            let (expected_id, expected_epoch) = expected;
            if expected_id >= 0 {
                let current =
                    expected_id == meta.producer_id && expected_epoch == meta.producer_epoch;
                // The producer retrying an InitProducerId whose answer it lost.
                let retry = expected_epoch == meta.last_producer_epoch
                    && (expected_id == meta.last_producer_id || expected_id == meta.producer_id);
                if !current {
                    if retry
                        && matches!(
                            meta.state,
                            TxnState::Empty | TxnState::CompleteCommit | TxnState::CompleteAbort
                        )
                    {
                        return Ok((meta.producer_id, meta.producer_epoch));
                    }
                    return Err(ErrorCode::ProducerFenced.code());
                }
            }
            match meta.state {
                TxnState::PrepareCommit | TxnState::PrepareAbort | TxnState::PrepareEpochFence => {
                    return Err(ErrorCode::ConcurrentTransactions.code());
                }
                TxnState::Ongoing => {
                    // Fence the producer of the open transaction and abort it with the new
                    // epoch (Kafka's `prepareFenceProducerEpoch`, then an abort).
                    let mut t = meta.bumped(&new_id)?;
                    t.state = TxnState::PrepareAbort;
                    t.last_update_ms = now;
                    meta.pending = Some(TxnState::PrepareAbort);
                    (p, l.epoch, l.writer.clone(), t, true)
                }
                TxnState::Empty
                | TxnState::CompleteCommit
                | TxnState::CompleteAbort
                | TxnState::Dead => {
                    let mut t = if meta.producer_epoch < 0 {
                        TxnMetadata {
                            producer_epoch: 0,
                            ..meta.clone()
                        }
                    } else {
                        meta.bumped(&new_id)?
                    };
                    t.timeout_ms = timeout_ms;
                    t.state = TxnState::Empty;
                    t.partitions.clear();
                    t.start_ms = -1;
                    t.last_update_ms = now;
                    meta.pending = Some(TxnState::Empty);
                    (p, l.epoch, l.writer.clone(), t, false)
                }
            }
        };
        let answer = (target.producer_id, target.producer_epoch);
        self.persist(p, epoch, writer, transactional_id, target)
            .await?;
        if abort {
            tracing::info!(
                "[TransactionCoordinator id={}] aborting the open transaction of \
                 {transactional_id}: a new producer initialised it (epoch now {})",
                self.inner.config.broker_id,
                answer.1
            );
            self.spawn_completion(transactional_id.to_string(), p, epoch, Outcome::Abort);
            return Err(ErrorCode::ConcurrentTransactions.code());
        }
        Ok(answer)
    }

    /// Checks a producer's id and epoch against `transactional_id`'s metadata (the common part
    /// of AddPartitionsToTxn, AddOffsetsToTxn and EndTxn).
    fn check_producer(
        meta: &TxnMetadata,
        producer_id: i64,
        producer_epoch: i16,
    ) -> Result<(), i16> {
        if meta.producer_id != producer_id {
            return Err(ErrorCode::InvalidProducerIdMapping.code());
        }
        if meta.producer_epoch != producer_epoch {
            return Err(ErrorCode::ProducerFenced.code());
        }
        if meta.pending.is_some() {
            return Err(ErrorCode::ConcurrentTransactions.code());
        }
        Ok(())
    }

    /// AddPartitionsToTxn / AddOffsetsToTxn (Kafka's `handleAddPartitionsToTransaction`): the
    /// partitions join the transaction, which begins if none is open.
    pub async fn add_partitions(
        &self,
        transactional_id: &str,
        producer_id: i64,
        producer_epoch: i16,
        partitions: &[(String, i32)],
    ) -> Result<(), i16> {
        let now = now_ms();
        let (p, epoch, writer, target) = {
            let mut st = self.lock();
            let (p, l) = Self::loaded(&mut st, transactional_id)?;
            let meta = l
                .txns
                .get_mut(transactional_id)
                .ok_or(ErrorCode::InvalidProducerIdMapping.code())?;
            Self::check_producer(meta, producer_id, producer_epoch)?;
            match meta.state {
                TxnState::PrepareCommit | TxnState::PrepareAbort | TxnState::PrepareEpochFence => {
                    return Err(ErrorCode::ConcurrentTransactions.code())
                }
                TxnState::Dead => return Err(ErrorCode::InvalidTxnState.code()),
                TxnState::Ongoing if partitions.iter().all(|tp| meta.partitions.contains(tp)) => {
                    return Ok(());
                }
                _ => {}
            }
            let mut t = meta.clone();
            if t.state != TxnState::Ongoing {
                t.partitions.clear();
                t.start_ms = now;
                t.state = TxnState::Ongoing;
            }
            t.partitions.extend(partitions.iter().cloned());
            t.last_update_ms = now;
            meta.pending = Some(TxnState::Ongoing);
            (p, l.epoch, l.writer.clone(), t)
        };
        self.persist(p, epoch, writer, transactional_id, target)
            .await
    }

    /// AddPartitionsToTxn v4+ with `verify_only` (KIP-890, Kafka's
    /// `handleVerifyPartitionsInTransaction`): per partition, NONE when it is in the producer's
    /// transaction, else TRANSACTION_ABORTABLE; CONCURRENT_TRANSACTIONS for all while the
    /// transaction ends.
    pub fn verify_partitions(
        &self,
        transactional_id: &str,
        producer_id: i64,
        producer_epoch: i16,
        partitions: &[(String, i32)],
    ) -> Result<Vec<i16>, i16> {
        let mut st = self.lock();
        let (_, l) = Self::loaded(&mut st, transactional_id)?;
        let meta = l
            .txns
            .get(transactional_id)
            .ok_or(ErrorCode::InvalidProducerIdMapping.code())?;
        if meta.producer_id != producer_id {
            return Err(ErrorCode::InvalidProducerIdMapping.code());
        }
        if meta.producer_epoch != producer_epoch {
            return Err(ErrorCode::ProducerFenced.code());
        }
        if matches!(meta.state, TxnState::PrepareCommit | TxnState::PrepareAbort) {
            return Err(ErrorCode::ConcurrentTransactions.code());
        }
        Ok(partitions
            .iter()
            .map(|tp| {
                if meta.partitions.contains(tp) {
                    ErrorCode::None.code()
                } else {
                    ErrorCode::TransactionAbortable.code()
                }
            })
            .collect())
    }

    /// EndTxn (Kafka's `handleEndTransaction`): PrepareCommit or PrepareAbort is written, the
    /// answer sent, then the markers are written and the transaction completed in the
    /// background. A retried EndTxn of a transaction already ending the same way is answered
    /// CONCURRENT_TRANSACTIONS until it completes, NONE after.
    pub async fn end_transaction(
        &self,
        transactional_id: &str,
        producer_id: i64,
        producer_epoch: i16,
        commit: bool,
    ) -> Result<(), i16> {
        let outcome = if commit {
            Outcome::Commit
        } else {
            Outcome::Abort
        };
        let now = now_ms();
        let (p, epoch, writer, target) = {
            let mut st = self.lock();
            let (p, l) = Self::loaded(&mut st, transactional_id)?;
            let meta = l
                .txns
                .get_mut(transactional_id)
                .ok_or(ErrorCode::InvalidProducerIdMapping.code())?;
            Self::check_producer(meta, producer_id, producer_epoch)?;
            match (meta.state, outcome) {
                (TxnState::Ongoing, _) => {}
                (TxnState::CompleteCommit, Outcome::Commit)
                | (TxnState::CompleteAbort, Outcome::Abort) => return Ok(()),
                (TxnState::PrepareCommit, Outcome::Commit)
                | (TxnState::PrepareAbort, Outcome::Abort) => {
                    return Err(ErrorCode::ConcurrentTransactions.code())
                }
                _ => return Err(ErrorCode::InvalidTxnState.code()),
            }
            let mut t = meta.clone();
            t.state = outcome.prepare();
            t.last_update_ms = now;
            meta.pending = Some(t.state);
            (p, l.epoch, l.writer.clone(), t)
        };
        self.persist(p, epoch, writer, transactional_id, target)
            .await?;
        self.spawn_completion(transactional_id.to_string(), p, epoch, outcome);
        Ok(())
    }

    /// Writes the markers of `transactional_id`'s ending transaction, then its Complete state.
    pub(super) fn spawn_completion(
        &self,
        transactional_id: String,
        p: i32,
        epoch: i32,
        outcome: Outcome,
    ) {
        let this = self.clone();
        tokio::spawn(async move { this.complete(&transactional_id, p, epoch, outcome).await });
    }

    async fn complete(&self, transactional_id: &str, p: i32, epoch: i32, outcome: Outcome) {
        let snapshot = {
            let mut st = self.lock();
            match st.partitions.get_mut(&p) {
                Some(Owned::Loaded(l)) if l.epoch == epoch => l
                    .txns
                    .get(transactional_id)
                    .filter(|m| m.state == outcome.prepare())
                    .cloned(),
                _ => None,
            }
        };
        let Some(meta) = snapshot else {
            return;
        };
        if !self
            .send_markers(
                p,
                epoch,
                meta.producer_id,
                meta.producer_epoch,
                outcome == Outcome::Commit,
                meta.partitions.clone(),
            )
            .await
        {
            return;
        }
        // The Complete state, retried while this broker still coordinates the id.
        let mut backoff = Duration::from_millis(100);
        loop {
            let prepared = {
                let mut st = self.lock();
                let Some(Owned::Loaded(l)) = st.partitions.get_mut(&p) else {
                    return;
                };
                if l.epoch != epoch {
                    return;
                }
                let writer = l.writer.clone();
                let Some(m) = l.txns.get_mut(transactional_id) else {
                    return;
                };
                if m.state != outcome.prepare() {
                    return;
                }
                if m.pending.is_some() {
                    None
                } else {
                    let mut t = m.clone();
                    t.state = outcome.complete();
                    t.partitions.clear();
                    t.last_update_ms = now_ms();
                    m.pending = Some(t.state);
                    Some((writer, t))
                }
            };
            if let Some((writer, target)) = prepared {
                match self
                    .persist(p, epoch, writer, transactional_id, target)
                    .await
                {
                    Ok(()) => {
                        tracing::debug!(
                            "[TransactionCoordinator id={}] {transactional_id}: {}",
                            self.inner.config.broker_id,
                            outcome.complete().name()
                        );
                        return;
                    }
                    Err(code) if code == ErrorCode::NotCoordinator.code() => return,
                    Err(_) => {}
                }
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    }

    /// Forgets every partition, as losing their leadership does (tests of the reload).
    #[cfg(test)]
    pub fn unload_all_for_test(&self) {
        self.lock().partitions.clear();
    }

    /// Whether partition `p` is still loaded here at coordinator epoch `epoch`.
    pub(super) fn owns(&self, p: i32, epoch: i32) -> bool {
        matches!(self.lock().partitions.get(&p), Some(Owned::Loaded(l)) if l.epoch == epoch)
    }

    /// Aborts every transaction open longer than its timeout, with a bumped epoch that fences
    /// its producer (Kafka's `abortTimedOutTransactions`). Returns how many were started. A
    /// transaction whose epoch is exhausted needs a new producer id from `new_id`; without one
    /// (`None`: no block of ids at hand) it waits for the next pass.
    pub async fn abort_timed_out(&self, new_id: impl Fn() -> Option<i64>) -> usize {
        let now = now_ms();
        let mut jobs = Vec::new();
        {
            let mut st = self.lock();
            for (p, owned) in st.partitions.iter_mut() {
                let Owned::Loaded(l) = owned else { continue };
                for (id, meta) in l.txns.iter_mut() {
                    if meta.state != TxnState::Ongoing
                        || meta.pending.is_some()
                        || meta.start_ms.saturating_add(i64::from(meta.timeout_ms)) > now
                    {
                        continue;
                    }
                    let Ok(mut t) = meta.bumped(&new_id) else {
                        tracing::warn!(
                            "the timed-out transaction of {id} waits for a producer id to abort \
                             with"
                        );
                        continue;
                    };
                    t.state = TxnState::PrepareAbort;
                    t.last_update_ms = now;
                    meta.pending = Some(TxnState::PrepareAbort);
                    jobs.push((id.clone(), *p, l.epoch, l.writer.clone(), t));
                }
            }
        }
        let started = jobs.len();
        for (id, p, epoch, writer, target) in jobs {
            tracing::info!(
                "[TransactionCoordinator id={}] aborting the transaction of {id} (producer id \
                 {}): it passed its timeout of {} ms",
                self.inner.config.broker_id,
                target.producer_id,
                target.timeout_ms
            );
            if self.persist(p, epoch, writer, &id, target).await.is_ok() {
                self.spawn_completion(id, p, epoch, Outcome::Abort);
            }
        }
        started
    }

    /// Removes transactional ids without an open transaction whose last change is older than
    /// `transactional.id.expiration.ms`, writing a tombstone for each (Kafka's
    /// `removeExpiredTransactionalIds`).
    pub async fn remove_expired(&self) {
        let now = now_ms();
        let expiration = self.inner.config.transactional_id_expiration_ms;
        let mut jobs = Vec::new();
        {
            let mut st = self.lock();
            for (p, owned) in st.partitions.iter_mut() {
                let Owned::Loaded(l) = owned else { continue };
                for (id, meta) in l.txns.iter_mut() {
                    if matches!(
                        meta.state,
                        TxnState::Empty | TxnState::CompleteCommit | TxnState::CompleteAbort
                    ) && meta.pending.is_none()
                        && meta.last_update_ms.saturating_add(expiration) <= now
                    {
                        meta.pending = Some(TxnState::Dead);
                        jobs.push((id.clone(), *p, l.epoch, l.writer.clone()));
                    }
                }
            }
        }
        for (id, p, epoch, writer) in jobs {
            let (tx, rx) = tokio::sync::oneshot::channel();
            let sent = writer
                .send(WriteJob {
                    records: vec![(encode_key(&id), None)],
                    producer: None,
                    done: tx,
                })
                .is_ok();
            let ok = sent && matches!(rx.await, Ok(Ok(_)));
            let mut st = self.lock();
            if let Some(Owned::Loaded(l)) = st.partitions.get_mut(&p) {
                if l.epoch == epoch {
                    if ok {
                        l.txns.remove(&id);
                        tracing::info!(
                            "[TransactionCoordinator id={}] removed expired transactional id {id}",
                            self.inner.config.broker_id
                        );
                    } else if let Some(m) = l.txns.get_mut(&id) {
                        m.pending = None;
                    }
                }
            }
        }
    }

    /// DescribeTransactions of one id: its state, or the error (TRANSACTIONAL_ID_NOT_FOUND for
    /// an id this coordinator does not know).
    pub fn describe(&self, transactional_id: &str) -> Result<TxnDescription, i16> {
        let mut st = self.lock();
        let (_, l) = Self::loaded(&mut st, transactional_id)?;
        let meta = l
            .txns
            .get(transactional_id)
            .filter(|m| m.producer_epoch >= 0 || m.state != TxnState::Empty)
            .ok_or(ErrorCode::TransactionalIdNotFound.code())?;
        Ok(describe(transactional_id, meta))
    }

    /// ListTransactions: every id of the loaded partitions, or COORDINATOR_LOAD_IN_PROGRESS
    /// while one is loading.
    pub fn list(&self) -> Result<Vec<TxnDescription>, i16> {
        let st = self.lock();
        let mut out = Vec::new();
        for owned in st.partitions.values() {
            match owned {
                Owned::Loading { .. } => return Err(ErrorCode::CoordinatorLoadInProgress.code()),
                Owned::Loaded(l) => {
                    for (id, meta) in &l.txns {
                        if (meta.producer_epoch >= 0 || meta.state != TxnState::Empty)
                            && meta.state != TxnState::Dead
                        {
                            out.push(describe(id, meta));
                        }
                    }
                }
            }
        }
        out.sort_by(|a, b| a.transactional_id.cmp(&b.transactional_id));
        Ok(out)
    }
}

fn describe(transactional_id: &str, meta: &TxnMetadata) -> TxnDescription {
    TxnDescription {
        transactional_id: transactional_id.to_string(),
        state: meta.state,
        timeout_ms: meta.timeout_ms,
        start_ms: meta.start_ms,
        producer_id: meta.producer_id,
        producer_epoch: meta.producer_epoch,
        partitions: meta.partitions.clone(),
    }
}
