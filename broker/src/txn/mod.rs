//! The transaction coordinator (KIP-98), as Kafka 3.9's `TransactionCoordinator`,
//! `TransactionStateManager` and `TransactionMarkerChannelManager` do it.
//!
//! A transactional id lives in partition `abs(hashCode(transactional.id)) % partitions` of the
//! compacted, replicated `__transaction_state` topic; the leader of that partition is its
//! coordinator. On becoming leader a broker loads the partition (COORDINATOR_LOAD_IN_PROGRESS
//! until done) and resumes the transactions it finds half-ended; on losing leadership it forgets
//! them (NOT_COORDINATOR). Every state change is appended to the partition and acknowledged once
//! the ISR has it; the commit or abort markers go to the leaders of the transaction's partitions
//! (WriteTxnMarkers) before the transaction is marked complete. Transactions open longer than
//! their `transaction.timeout.ms` are aborted with a bumped producer epoch, which fences the
//! producer that opened them.

mod coordinator;
mod markers;
pub mod records;
mod topic;
mod verify;

pub use coordinator::{
    partition_for, LocalMarkerWriter, TxnConfig, TxnCoordinator, TxnDescription,
};
pub use topic::{ensure_transaction_topic, sync_partitions, TRANSACTION_STATE_TOPIC_NAME};

/// A transaction's state, with the ids Kafka writes in `__transaction_state` and the names
/// DescribeTransactions and ListTransactions answer (Kafka's `TransactionState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TxnState {
    Empty,
    Ongoing,
    PrepareCommit,
    PrepareAbort,
    CompleteCommit,
    CompleteAbort,
    Dead,
    PrepareEpochFence,
}

impl TxnState {
    /// Every state, in id order.
    pub const ALL: [TxnState; 8] = [
        TxnState::Empty,
        TxnState::Ongoing,
        TxnState::PrepareCommit,
        TxnState::PrepareAbort,
        TxnState::CompleteCommit,
        TxnState::CompleteAbort,
        TxnState::Dead,
        TxnState::PrepareEpochFence,
    ];

    /// The id written as `transaction_status`.
    pub fn id(self) -> i8 {
        match self {
            TxnState::Empty => 0,
            TxnState::Ongoing => 1,
            TxnState::PrepareCommit => 2,
            TxnState::PrepareAbort => 3,
            TxnState::CompleteCommit => 4,
            TxnState::CompleteAbort => 5,
            TxnState::Dead => 6,
            TxnState::PrepareEpochFence => 7,
        }
    }

    pub fn from_id(id: i8) -> Option<TxnState> {
        TxnState::ALL.into_iter().find(|s| s.id() == id)
    }

    /// The name Kafka's admin APIs use.
    pub fn name(self) -> &'static str {
        match self {
            TxnState::Empty => "Empty",
            TxnState::Ongoing => "Ongoing",
            TxnState::PrepareCommit => "PrepareCommit",
            TxnState::PrepareAbort => "PrepareAbort",
            TxnState::CompleteCommit => "CompleteCommit",
            TxnState::CompleteAbort => "CompleteAbort",
            TxnState::Dead => "Dead",
            TxnState::PrepareEpochFence => "PrepareEpochFence",
        }
    }

    pub fn from_name(name: &str) -> Option<TxnState> {
        TxnState::ALL.into_iter().find(|s| s.name() == name)
    }
}
