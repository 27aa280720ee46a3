//! The transactional side of the producer, after Kafka's `TransactionManager`: the state machine
//! (UNINITIALIZED, INITIALIZING, READY, IN_TRANSACTION, COMMITTING_TRANSACTION,
//! ABORTING_TRANSACTION, ABORTABLE_ERROR, FATAL_ERROR), the transaction coordinator
//! (FindCoordinator key type 1) and the requests to it: InitProducerId with the transactional
//! id, AddPartitionsToTxn (v3 and below) before the first batch to a partition,
//! AddOffsetsToTxn followed by TxnOffsetCommit to the group coordinator, and EndTxn. Requests
//! answered NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE find the coordinator again and retry;
//! COORDINATOR_LOAD_IN_PROGRESS and CONCURRENT_TRANSACTIONS retry after the backoff (the first
//! AddPartitionsToTxn of a transaction after 20 ms, Kafka's `ADD_PARTITIONS_RETRY_BACKOFF_MS`);
//! PRODUCER_FENCED and INVALID_PRODUCER_EPOCH are fatal.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use kafka_protocol::messages::{
    add_partitions_to_txn_request::AddPartitionsToTxnTopic,
    txn_offset_commit_request::{TxnOffsetCommitRequestPartition, TxnOffsetCommitRequestTopic},
    AddOffsetsToTxnRequest, AddPartitionsToTxnRequest, EndTxnRequest, FindCoordinatorRequest,
    GroupId, InitProducerIdRequest, ProducerId, TopicName, TransactionalId, TxnOffsetCommitRequest,
};
use kafka_protocol::protocol::StrBytes;

use common::errors::codes::{
    CONCURRENT_TRANSACTIONS, COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE,
    GROUP_AUTHORIZATION_FAILED, ILLEGAL_GENERATION, INVALID_PRODUCER_EPOCH, NOT_COORDINATOR,
    PRODUCER_FENCED, REQUEST_TIMED_OUT, TOPIC_AUTHORIZATION_FAILED, UNKNOWN_MEMBER_ID,
    UNKNOWN_TOPIC_OR_PARTITION,
};

use crate::cluster::Cluster;
use crate::connection::{Connection, ConnectionOptions};
use crate::error::ClientError;

use super::accumulator::TopicPartition;

/// FindCoordinator key type of a consumer group.
const KEY_TYPE_GROUP: i8 = 0;
/// FindCoordinator key type of a transactional id.
const KEY_TYPE_TRANSACTION: i8 = 1;
/// Kafka's `ADD_PARTITIONS_RETRY_BACKOFF_MS`: the backoff of the first AddPartitionsToTxn of a
/// transaction answered CONCURRENT_TRANSACTIONS (the previous transaction is still completing).
const ADD_PARTITIONS_RETRY_BACKOFF: Duration = Duration::from_millis(20);

/// `TransactionManager.State`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionState {
    Uninitialized,
    Initializing,
    Ready,
    InTransaction,
    CommittingTransaction,
    AbortingTransaction,
    AbortableError,
    FatalError,
}

impl TransactionState {
    /// Kafka's constant name (`IN_TRANSACTION`), as its messages print the state.
    pub fn name(self) -> &'static str {
        match self {
            TransactionState::Uninitialized => "UNINITIALIZED",
            TransactionState::Initializing => "INITIALIZING",
            TransactionState::Ready => "READY",
            TransactionState::InTransaction => "IN_TRANSACTION",
            TransactionState::CommittingTransaction => "COMMITTING_TRANSACTION",
            TransactionState::AbortingTransaction => "ABORTING_TRANSACTION",
            TransactionState::AbortableError => "ABORTABLE_ERROR",
            TransactionState::FatalError => "FATAL_ERROR",
        }
    }

    /// `State.isTransitionValid`.
    fn can_go_to(self, target: TransactionState) -> bool {
        use TransactionState::*;
        match target {
            Uninitialized => self == Ready || self == AbortableError,
            Initializing => self == Uninitialized || self == AbortingTransaction,
            Ready => {
                self == Initializing || self == CommittingTransaction || self == AbortingTransaction
            }
            InTransaction => self == Ready,
            CommittingTransaction => self == InTransaction,
            AbortingTransaction => self == InTransaction || self == AbortableError,
            AbortableError => {
                matches!(
                    self,
                    InTransaction | CommittingTransaction | AbortableError | Initializing
                )
            }
            FatalError => true,
        }
    }
}

impl std::fmt::Display for TransactionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What `send_offsets_to_transaction` needs of the consumer (Kafka's `ConsumerGroupMetadata`):
/// the group, and for a member of a live group its generation, member id and instance id so
/// the coordinator can fence zombies (TxnOffsetCommit v3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerGroupMetadata {
    pub group_id: String,
    pub generation_id: i32,
    pub member_id: String,
    pub group_instance_id: Option<String>,
}

impl ConsumerGroupMetadata {
    /// `new ConsumerGroupMetadata(groupId)`: no generation (-1), no member ("").
    pub fn new(group_id: impl Into<String>) -> Self {
        ConsumerGroupMetadata {
            group_id: group_id.into(),
            generation_id: -1,
            member_id: String::new(),
            group_instance_id: None,
        }
    }
}

/// An offset to commit in a transaction: (topic, partition, offset, metadata).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnOffset {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub metadata: Option<String>,
}

struct Inner {
    state: TransactionState,
    producer_id: i64,
    epoch: i16,
    /// Bumped for every new producer id / epoch, so the sender renumbers its sequences.
    generation: u64,
    partitions: BTreeSet<TopicPartition>,
    /// Whether anything (a partition or a group's offsets) was added to the coordinator's
    /// transaction; a transaction that added nothing ends without EndTxn, as in Kafka.
    started: bool,
    last_error: Option<ClientError>,
    coordinator: Option<Connection>,
}

/// How a request to a coordinator ended.
enum Step<T> {
    Done(T),
    /// Look the coordinator up again, then retry.
    Relookup,
    /// Retry after this backoff.
    Retry(Duration),
}

/// The transactional state of one producer.
pub(crate) struct TransactionManager {
    transactional_id: String,
    timeout_ms: i32,
    retry_backoff: Duration,
    max_block: Duration,
    inner: Mutex<Inner>,
    /// Coordinator requests go one at a time, as Kafka's sender sends them.
    op: tokio::sync::Mutex<()>,
}

fn fenced_error() -> ClientError {
    ClientError::kafka(PRODUCER_FENCED, None)
}

fn illegal_state(message: String) -> ClientError {
    ClientError::IllegalState(message)
}

impl TransactionManager {
    pub(crate) fn new(
        transactional_id: String,
        timeout_ms: i32,
        retry_backoff: Duration,
        max_block: Duration,
    ) -> Self {
        TransactionManager {
            transactional_id,
            timeout_ms,
            retry_backoff,
            max_block,
            inner: Mutex::new(Inner {
                state: TransactionState::Uninitialized,
                producer_id: -1,
                epoch: -1,
                generation: 0,
                partitions: BTreeSet::new(),
                started: false,
                last_error: None,
                coordinator: None,
            }),
            op: tokio::sync::Mutex::new(()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    pub(crate) fn state(&self) -> TransactionState {
        self.lock().state
    }

    /// The producer id, epoch and generation the sender writes into batches, once known.
    pub(crate) fn identity(&self) -> Option<(i64, i16, u64)> {
        let g = self.lock();
        (g.producer_id >= 0).then_some((g.producer_id, g.epoch, g.generation))
    }

    fn id_and_epoch(&self) -> (i64, i16) {
        let g = self.lock();
        (g.producer_id, g.epoch)
    }

    /// `ProducerIdAndEpoch.toString`.
    fn id_and_epoch_text(&self) -> String {
        let (id, epoch) = self.id_and_epoch();
        format!("(producerId={id}, epoch={epoch})")
    }

    fn transition(&self, target: TransactionState) -> Result<(), ClientError> {
        let mut g = self.lock();
        if !g.state.can_go_to(target) {
            return Err(illegal_state(format!(
                "TransactionalId {}: Invalid transition attempted from state {} to state {}",
                self.transactional_id, g.state, target
            )));
        }
        tracing::debug!(
            "[TransactionalId {}] Transition from state {} to {}",
            self.transactional_id,
            g.state,
            target
        );
        g.state = target;
        g.last_error = None;
        Ok(())
    }

    /// Enters FATAL_ERROR (fenced, unauthorized, unexpected errors): every later transactional
    /// call fails with it.
    pub(crate) fn fatal(&self, err: ClientError) {
        let mut g = self.lock();
        tracing::error!(
            "[TransactionalId {}] Transiting to fatal error state due to {err}",
            self.transactional_id
        );
        g.state = TransactionState::FatalError;
        g.last_error = Some(err);
    }

    /// Enters ABORTABLE_ERROR (a failed batch, an unauthorized topic): the transaction can only
    /// be aborted. A fenced producer's errors stay fatal.
    pub(crate) fn abortable(&self, err: ClientError) {
        if matches!(err.code(), Some(PRODUCER_FENCED | INVALID_PRODUCER_EPOCH)) {
            self.fatal(fenced_error());
            return;
        }
        let mut g = self.lock();
        match g.state {
            TransactionState::FatalError => {}
            TransactionState::InTransaction
            | TransactionState::CommittingTransaction
            | TransactionState::AbortableError
            | TransactionState::Initializing => {
                tracing::debug!(
                    "[TransactionalId {}] Transiting to abortable error state due to {err}",
                    self.transactional_id
                );
                g.state = TransactionState::AbortableError;
                g.last_error = Some(err);
            }
            _ => {}
        }
    }

    /// `maybeFailWithError`: the error a call in an error state raises.
    fn fail_if_error(&self) -> Result<(), ClientError> {
        let g = self.lock();
        let Some(err) = g.last_error.clone() else {
            return Ok(());
        };
        if !matches!(
            g.state,
            TransactionState::FatalError | TransactionState::AbortableError
        ) {
            return Ok(());
        }
        drop(g);
        Err(match err.code() {
            Some(PRODUCER_FENCED) => ClientError::kafka(
                PRODUCER_FENCED,
                Some(&format!(
                    "Producer with transactionalId '{}' and {} has been fenced by another producer with the same transactionalId",
                    self.transactional_id,
                    self.id_and_epoch_text()
                )),
            ),
            Some(INVALID_PRODUCER_EPOCH) => ClientError::kafka(
                INVALID_PRODUCER_EPOCH,
                Some(&format!(
                    "Producer with transactionalId '{}' and {} attempted to produce with an old epoch",
                    self.transactional_id,
                    self.id_and_epoch_text()
                )),
            ),
            _ => ClientError::Transaction(format!(
                "Cannot execute transactional method because we are in an error state: {err}"
            )),
        })
    }

    fn timeout(&self, operation: &str) -> ClientError {
        ClientError::Timeout(format!(
            "Timeout expired after {}ms while awaiting {operation}",
            self.max_block.as_millis()
        ))
    }

    /// The transaction coordinator, found with FindCoordinator key type 1.
    async fn coordinator(
        &self,
        cluster: &Cluster,
        options: &ConnectionOptions,
    ) -> Result<Connection, ClientError> {
        if let Some(c) = self.lock().coordinator.clone() {
            if !c.is_closed() {
                return Ok(c);
            }
        }
        let conn = find_coordinator(
            cluster,
            options,
            &self.transactional_id,
            KEY_TYPE_TRANSACTION,
        )
        .await?;
        self.lock().coordinator = Some(conn.clone());
        Ok(conn)
    }

    fn forget_coordinator(&self) {
        self.lock().coordinator = None;
    }

    /// Runs `call` on the transaction coordinator until it is done, retrying as `call`'s
    /// classification says, for at most `max.block.ms`.
    async fn on_coordinator<T, F, Fut>(
        &self,
        cluster: &Cluster,
        options: &ConnectionOptions,
        operation: &str,
        call: F,
    ) -> Result<T, ClientError>
    where
        F: Fn(Connection) -> Fut,
        Fut: Future<Output = Result<Step<T>, ClientError>>,
    {
        let deadline = crate::time::after(Instant::now(), self.max_block);
        loop {
            let step = match self.coordinator(cluster, options).await {
                Ok(conn) => match call(conn).await {
                    Ok(step) => step,
                    Err(ClientError::Io { .. } | ClientError::Timeout(_)) => Step::Relookup,
                    Err(e) => return Err(e),
                },
                Err(e) if e.is_retriable() => {
                    tracing::debug!("FindCoordinator for {operation}: {e}");
                    Step::Relookup
                }
                Err(e) => return Err(e),
            };
            let wait = match step {
                Step::Done(t) => return Ok(t),
                Step::Relookup => {
                    self.forget_coordinator();
                    self.retry_backoff
                }
                Step::Retry(wait) => wait,
            };
            if crate::time::after(Instant::now(), wait) >= deadline {
                return Err(self.timeout(operation));
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// The common answer to a coordinator error code: retry, find the coordinator again,
    /// or an error for the caller.
    fn classify<T>(&self, code: i16) -> Option<Step<T>> {
        match code {
            NOT_COORDINATOR | COORDINATOR_NOT_AVAILABLE => Some(Step::Relookup),
            COORDINATOR_LOAD_IN_PROGRESS | CONCURRENT_TRANSACTIONS => {
                Some(Step::Retry(self.retry_backoff))
            }
            _ => None,
        }
    }

    /// `initTransactions`: InitProducerId with the transactional id, which also fences older
    /// producers with the same id and completes their open transaction.
    pub(crate) async fn init(
        &self,
        cluster: &Cluster,
        options: &ConnectionOptions,
    ) -> Result<(), ClientError> {
        let _op = self.op.lock().await;
        self.fail_if_error()?;
        let state = self.state();
        if state != TransactionState::Initializing {
            self.transition(TransactionState::Initializing)?;
        }
        let (producer_id, epoch) = self.id_and_epoch();
        let result = self
            .on_coordinator(cluster, options, "InitProducerId", |conn| async move {
                let request = InitProducerIdRequest::default()
                    .with_transactional_id(Some(TransactionalId(StrBytes::from_string(
                        self.transactional_id.clone(),
                    ))))
                    .with_transaction_timeout_ms(self.timeout_ms)
                    .with_producer_id(ProducerId(producer_id))
                    .with_producer_epoch(epoch);
                let response = conn.send(request).await?;
                if response.error_code == 0 {
                    return Ok(Step::Done((
                        response.producer_id.0,
                        response.producer_epoch,
                    )));
                }
                if let Some(step) = self.classify(response.error_code) {
                    return Ok(step);
                }
                Err(ClientError::kafka(response.error_code, None))
            })
            .await;
        match result {
            Ok((id, epoch)) => {
                {
                    let mut g = self.lock();
                    g.producer_id = id;
                    g.epoch = epoch;
                    g.generation += 1;
                    g.partitions.clear();
                    g.started = false;
                }
                tracing::info!(
                    "[TransactionalId {}] ProducerId set to {id} with epoch {epoch}",
                    self.transactional_id
                );
                self.transition(TransactionState::Ready)
            }
            // A timeout leaves the state INITIALIZING: calling again retries.
            Err(e @ ClientError::Timeout(_)) => Err(e),
            Err(e) => {
                let err = match e.code() {
                    Some(PRODUCER_FENCED | INVALID_PRODUCER_EPOCH) => fenced_error(),
                    _ => e,
                };
                self.fatal(err.clone());
                Err(err)
            }
        }
    }

    /// `beginTransaction`.
    pub(crate) fn begin(&self) -> Result<(), ClientError> {
        self.fail_if_error()?;
        self.transition(TransactionState::InTransaction)
    }

    /// `maybeAddPartition` + the AddPartitionsToTxn it leads to: called before the first record
    /// for a partition is queued in a transaction.
    pub(crate) async fn add_partition(
        &self,
        cluster: &Cluster,
        options: &ConnectionOptions,
        tp: &TopicPartition,
    ) -> Result<(), ClientError> {
        self.check_can_add(tp)?;
        if self.lock().partitions.contains(tp) {
            return Ok(());
        }
        let _op = self.op.lock().await;
        self.check_can_add(tp)?;
        if self.lock().partitions.contains(tp) {
            return Ok(());
        }
        let (producer_id, epoch) = self.id_and_epoch();
        let first_of_transaction = self.lock().partitions.is_empty();
        let result = self
            .on_coordinator(cluster, options, "AddPartitionsToTxn", |conn| async move {
                let request = AddPartitionsToTxnRequest::default()
                    .with_v3_and_below_transactional_id(TransactionalId(StrBytes::from_string(
                        self.transactional_id.clone(),
                    )))
                    .with_v3_and_below_producer_id(ProducerId(producer_id))
                    .with_v3_and_below_producer_epoch(epoch)
                    .with_v3_and_below_topics(vec![AddPartitionsToTxnTopic::default()
                        .with_name(TopicName(StrBytes::from_string(tp.topic.clone())))
                        .with_partitions(vec![tp.partition])]);
                let response = conn.send(request).await?;
                let mut code = response.error_code;
                for topic in &response.results_by_topic_v3_and_below {
                    for p in &topic.results_by_partition {
                        if p.partition_error_code != 0 {
                            code = p.partition_error_code;
                        }
                    }
                }
                match code {
                    0 => Ok(Step::Done(())),
                    CONCURRENT_TRANSACTIONS if first_of_transaction => Ok(Step::Retry(
                        ADD_PARTITIONS_RETRY_BACKOFF.min(self.retry_backoff),
                    )),
                    UNKNOWN_TOPIC_OR_PARTITION => Ok(Step::Retry(self.retry_backoff)),
                    code => match self.classify(code) {
                        Some(step) => Ok(step),
                        None => Err(ClientError::kafka(code, None)),
                    },
                }
            })
            .await;
        match result {
            Ok(()) => {
                let mut g = self.lock();
                g.partitions.insert(tp.clone());
                g.started = true;
                tracing::debug!(
                    "[TransactionalId {}] Successfully added partition {tp} to transaction",
                    self.transactional_id
                );
                Ok(())
            }
            Err(e) => {
                let err = match e.code() {
                    Some(PRODUCER_FENCED | INVALID_PRODUCER_EPOCH) => {
                        self.fatal(fenced_error());
                        fenced_error()
                    }
                    Some(TOPIC_AUTHORIZATION_FAILED) => {
                        let err = ClientError::kafka(
                            TOPIC_AUTHORIZATION_FAILED,
                            Some(&format!("Not authorized to access topics: [{}]", tp.topic)),
                        );
                        self.abortable(err.clone());
                        err
                    }
                    Some(_) => {
                        let err = ClientError::Transaction(format!(
                            "Could not add partitions to transaction due to errors: {{{tp}={}}}",
                            crate::error::error_name(e.code().unwrap_or(-1))
                        ));
                        self.abortable(err.clone());
                        err
                    }
                    None => {
                        self.abortable(e.clone());
                        e
                    }
                };
                Err(err)
            }
        }
    }

    fn check_can_add(&self, tp: &TopicPartition) -> Result<(), ClientError> {
        self.fail_if_error()?;
        let g = self.lock();
        if g.producer_id < 0 {
            return Err(illegal_state(format!(
                "Cannot add partition {tp} to transaction before completing a call to initTransactions"
            )));
        }
        if g.state != TransactionState::InTransaction {
            return Err(illegal_state(format!(
                "Cannot add partition {tp} to transaction while in state  {}",
                g.state
            )));
        }
        Ok(())
    }

    /// `sendOffsetsToTransaction`: AddOffsetsToTxn to the transaction coordinator, then
    /// TxnOffsetCommit to the group coordinator.
    pub(crate) async fn send_offsets(
        &self,
        cluster: &Cluster,
        options: &ConnectionOptions,
        offsets: &[TxnOffset],
        group: &ConsumerGroupMetadata,
    ) -> Result<(), ClientError> {
        let _op = self.op.lock().await;
        self.fail_if_error()?;
        let state = self.state();
        if state != TransactionState::InTransaction {
            return Err(illegal_state(format!(
                "Cannot send offsets if a transaction is not in progress (currentState= {state})"
            )));
        }
        let (producer_id, epoch) = self.id_and_epoch();
        let added = self
            .on_coordinator(cluster, options, "AddOffsetsToTxn", |conn| async move {
                let request = AddOffsetsToTxnRequest::default()
                    .with_transactional_id(TransactionalId(StrBytes::from_string(
                        self.transactional_id.clone(),
                    )))
                    .with_producer_id(ProducerId(producer_id))
                    .with_producer_epoch(epoch)
                    .with_group_id(GroupId(StrBytes::from_string(group.group_id.clone())));
                let response = conn.send(request).await?;
                if response.error_code == 0 {
                    return Ok(Step::Done(()));
                }
                if let Some(step) = self.classify(response.error_code) {
                    return Ok(step);
                }
                Err(ClientError::kafka(response.error_code, None))
            })
            .await;
        if let Err(e) = added {
            return Err(self.request_failed(e, "AddOffsetsToTxnResponse"));
        }
        self.lock().started = true;
        let committed = self
            .txn_offset_commit(cluster, options, offsets, group, producer_id, epoch)
            .await;
        match committed {
            Ok(()) => Ok(()),
            Err(e) => match e.code() {
                Some(UNKNOWN_MEMBER_ID | ILLEGAL_GENERATION) => {
                    let err = ClientError::kafka(e.code().unwrap_or(-1), Some(&e.to_string()));
                    self.abortable(err.clone());
                    Err(err)
                }
                Some(GROUP_AUTHORIZATION_FAILED) => {
                    self.abortable(e.clone());
                    Err(e)
                }
                _ => Err(self.request_failed(e, "TxnOffsetCommitResponse")),
            },
        }
    }

    /// A coordinator request that failed for good: fenced and unexpected errors are fatal,
    /// a timeout leaves the state alone.
    fn request_failed(&self, e: ClientError, response: &str) -> ClientError {
        match e {
            ClientError::Timeout(_) => e,
            _ => {
                let err = match e.code() {
                    Some(PRODUCER_FENCED | INVALID_PRODUCER_EPOCH) => fenced_error(),
                    Some(_) => {
                        ClientError::Transaction(format!("Unexpected error in {response}: {e}"))
                    }
                    None => e,
                };
                self.fatal(err.clone());
                err
            }
        }
    }

    /// TxnOffsetCommit to the group's coordinator, retried while it moves or loads.
    async fn txn_offset_commit(
        &self,
        cluster: &Cluster,
        options: &ConnectionOptions,
        offsets: &[TxnOffset],
        group: &ConsumerGroupMetadata,
        producer_id: i64,
        epoch: i16,
    ) -> Result<(), ClientError> {
        let deadline = crate::time::after(Instant::now(), self.max_block);
        let mut remaining: Vec<TxnOffset> = offsets.to_vec();
        let mut coordinator: Option<Connection> = None;
        loop {
            let conn = match &coordinator {
                Some(c) if !c.is_closed() => Ok(c.clone()),
                _ => find_coordinator(cluster, options, &group.group_id, KEY_TYPE_GROUP).await,
            };
            let mut relookup = false;
            match conn {
                Ok(conn) => {
                    coordinator = Some(conn.clone());
                    let request = txn_offset_commit_request(
                        &self.transactional_id,
                        producer_id,
                        epoch,
                        group,
                        &remaining,
                    );
                    match conn.send(request).await {
                        Ok(response) => {
                            let mut retry = Vec::new();
                            for topic in response.topics {
                                for p in topic.partitions {
                                    let Some(offset) = remaining
                                        .iter()
                                        .find(|o| {
                                            o.topic == topic.name.0.as_str()
                                                && o.partition == p.partition_index
                                        })
                                        .cloned()
                                    else {
                                        continue;
                                    };
                                    match p.error_code {
                                        0 => {}
                                        COORDINATOR_NOT_AVAILABLE
                                        | NOT_COORDINATOR
                                        | REQUEST_TIMED_OUT => {
                                            relookup = true;
                                            retry.push(offset);
                                        }
                                        UNKNOWN_TOPIC_OR_PARTITION
                                        | COORDINATOR_LOAD_IN_PROGRESS
                                        | CONCURRENT_TRANSACTIONS => retry.push(offset),
                                        code => return Err(ClientError::kafka(code, None)),
                                    }
                                }
                            }
                            if retry.is_empty() {
                                return Ok(());
                            }
                            remaining = retry;
                        }
                        Err(e) if e.is_retriable() => relookup = true,
                        Err(e) => return Err(e),
                    }
                }
                Err(e) if e.is_retriable() => relookup = true,
                Err(e) => return Err(e),
            }
            if relookup {
                coordinator = None;
            }
            if crate::time::after(Instant::now(), self.retry_backoff) >= deadline {
                return Err(self.timeout("TxnOffsetCommit"));
            }
            tokio::time::sleep(self.retry_backoff).await;
        }
    }

    /// Moves to COMMITTING_TRANSACTION / ABORTING_TRANSACTION (`beginCommit` / `beginAbort`).
    /// A commit in ABORTABLE_ERROR fails with the error that caused it.
    pub(crate) fn begin_end(&self, commit: bool) -> Result<(), ClientError> {
        if commit {
            self.fail_if_error()?;
            self.transition(TransactionState::CommittingTransaction)
        } else {
            if self.state() == TransactionState::FatalError {
                self.fail_if_error()?;
            }
            let state = self.state();
            if state == TransactionState::AbortingTransaction {
                return Ok(()); // a retried abort after a timeout
            }
            self.transition(TransactionState::AbortingTransaction)
        }
    }

    /// The error a batch failed with during the transaction, if any: a commit cannot go on.
    pub(crate) fn error_state(&self) -> Option<ClientError> {
        let g = self.lock();
        match g.state {
            TransactionState::AbortableError | TransactionState::FatalError => g.last_error.clone(),
            _ => None,
        }
    }

    /// EndTxn (when anything was added), then READY.
    pub(crate) async fn end(
        &self,
        cluster: &Cluster,
        options: &ConnectionOptions,
        commit: bool,
    ) -> Result<(), ClientError> {
        let _op = self.op.lock().await;
        let started = self.lock().started;
        if started {
            let (producer_id, epoch) = self.id_and_epoch();
            let operation = format!("EndTxn({commit})");
            let result = self
                .on_coordinator(cluster, options, &operation, |conn| async move {
                    let request = EndTxnRequest::default()
                        .with_transactional_id(TransactionalId(StrBytes::from_string(
                            self.transactional_id.clone(),
                        )))
                        .with_producer_id(ProducerId(producer_id))
                        .with_producer_epoch(epoch)
                        .with_committed(commit);
                    let response = conn.send(request).await?;
                    if response.error_code == 0 {
                        return Ok(Step::Done(()));
                    }
                    if let Some(step) = self.classify(response.error_code) {
                        return Ok(step);
                    }
                    Err(ClientError::kafka(response.error_code, None))
                })
                .await;
            if let Err(e) = result {
                return Err(self.request_failed(e, "EndTxnResponse"));
            }
        }
        {
            let mut g = self.lock();
            g.partitions.clear();
            g.started = false;
        }
        self.transition(TransactionState::Ready)
    }
}

/// FindCoordinator for `key` of `key_type` (0 group, 1 transaction) and a connection to the
/// coordinator it names.
pub(crate) async fn find_coordinator(
    cluster: &Cluster,
    options: &ConnectionOptions,
    key: &str,
    key_type: i8,
) -> Result<Connection, ClientError> {
    let conn = cluster.any_connection().await?;
    let version = conn.version_for::<FindCoordinatorRequest>()?;
    if key_type != KEY_TYPE_GROUP && version < 1 {
        return Err(ClientError::UnsupportedVersion(
            "The broker does not support FindCoordinator with a transaction key".to_string(),
        ));
    }
    let mut request = FindCoordinatorRequest::default().with_key(StrBytes::from_string(key.into()));
    if version >= 1 {
        request = request.with_key_type(key_type);
    }
    let response = conn.send(request).await?;
    ClientError::check(response.error_code, response.error_message.as_deref())?;
    let addr = format!("{}:{}", response.host.as_str(), response.port);
    tracing::debug!(
        "Discovered {} coordinator {addr} (id: {}) for {key}",
        if key_type == KEY_TYPE_GROUP {
            "group"
        } else {
            "transaction"
        },
        response.node_id.0
    );
    Connection::connect(&addr, options.clone()).await
}

/// The TxnOffsetCommit request of `offsets` (grouped by topic, in first-seen order).
pub(crate) fn txn_offset_commit_request(
    transactional_id: &str,
    producer_id: i64,
    epoch: i16,
    group: &ConsumerGroupMetadata,
    offsets: &[TxnOffset],
) -> TxnOffsetCommitRequest {
    let mut topics: Vec<TxnOffsetCommitRequestTopic> = Vec::new();
    for o in offsets {
        let partition = TxnOffsetCommitRequestPartition::default()
            .with_partition_index(o.partition)
            .with_committed_offset(o.offset)
            .with_committed_leader_epoch(-1)
            .with_committed_metadata(Some(StrBytes::from_string(
                o.metadata.clone().unwrap_or_default(),
            )));
        match topics.iter_mut().find(|t| t.name.0.as_str() == o.topic) {
            Some(t) => t.partitions.push(partition),
            None => topics.push(
                TxnOffsetCommitRequestTopic::default()
                    .with_name(TopicName(StrBytes::from_string(o.topic.clone())))
                    .with_partitions(vec![partition]),
            ),
        }
    }
    TxnOffsetCommitRequest::default()
        .with_transactional_id(TransactionalId(StrBytes::from_string(
            transactional_id.to_string(),
        )))
        .with_group_id(GroupId(StrBytes::from_string(group.group_id.clone())))
        .with_producer_id(ProducerId(producer_id))
        .with_producer_epoch(epoch)
        .with_generation_id(group.generation_id)
        .with_member_id(StrBytes::from_string(group.member_id.clone()))
        .with_group_instance_id(group.group_instance_id.clone().map(StrBytes::from_string))
        .with_topics(topics)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions_follow_kafkas_table() {
        use TransactionState::*;
        assert!(Uninitialized.can_go_to(Initializing));
        assert!(Initializing.can_go_to(Ready));
        assert!(Ready.can_go_to(InTransaction));
        assert!(InTransaction.can_go_to(CommittingTransaction));
        assert!(InTransaction.can_go_to(AbortingTransaction));
        assert!(AbortableError.can_go_to(AbortingTransaction));
        assert!(!AbortableError.can_go_to(CommittingTransaction));
        assert!(!Ready.can_go_to(CommittingTransaction));
        assert!(!Uninitialized.can_go_to(InTransaction));
        assert!(CommittingTransaction.can_go_to(Ready));
    }

    #[test]
    fn invalid_transition_has_kafkas_text() {
        let tm = TransactionManager::new(
            "tx".to_string(),
            60_000,
            Duration::from_millis(100),
            Duration::from_millis(1000),
        );
        let e = tm.begin().err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("TransactionalId tx: Invalid transition attempted from state UNINITIALIZED to state IN_TRANSACTION")
        );
    }

    #[test]
    fn txn_offset_commit_groups_offsets_by_topic() {
        let group = ConsumerGroupMetadata {
            group_id: "g".to_string(),
            generation_id: 3,
            member_id: "m-1".to_string(),
            group_instance_id: None,
        };
        let offsets = vec![
            TxnOffset {
                topic: "a".to_string(),
                partition: 0,
                offset: 5,
                metadata: None,
            },
            TxnOffset {
                topic: "b".to_string(),
                partition: 1,
                offset: 7,
                metadata: Some("x".to_string()),
            },
            TxnOffset {
                topic: "a".to_string(),
                partition: 2,
                offset: 9,
                metadata: None,
            },
        ];
        let r = txn_offset_commit_request("tx", 42, 3, &group, &offsets);
        assert_eq!(r.transactional_id.0.as_str(), "tx");
        assert_eq!(r.group_id.0.as_str(), "g");
        assert_eq!(r.producer_id.0, 42);
        assert_eq!(r.producer_epoch, 3);
        assert_eq!(r.generation_id, 3);
        assert_eq!(r.member_id.as_str(), "m-1");
        assert_eq!(r.topics.len(), 2);
        assert_eq!(r.topics[0].name.0.as_str(), "a");
        let a: Vec<(i32, i64)> = r.topics[0]
            .partitions
            .iter()
            .map(|p| (p.partition_index, p.committed_offset))
            .collect();
        assert_eq!(a, vec![(0, 5), (2, 9)]);
        assert_eq!(
            r.topics[1].partitions[0]
                .committed_metadata
                .as_ref()
                .map(|m| m.as_str()),
            Some("x")
        );
    }
}
