//! Kafka's classic group coordinator as a pure state machine: no sockets, no clocks, no tasks.
//!
//! Every operation takes the current time in milliseconds and returns the replies it releases.
//! A JoinGroup or SyncGroup that must wait (for the other members, for the leader's assignment)
//! is identified by a caller-chosen [`Token`]; its answer comes back later as a [`Reply`] from
//! another operation or from [`Coordinator::tick`]. The async layer
//! ([`Groups`], in `runtime.rs`, the only async part) maps tokens to oneshot channels. The rules follow Kafka 3.9's
//! `GroupCoordinator.scala` / `GroupMetadata.scala` (the classic protocol).

mod coordinator;
mod loader;
mod offsets_topic;
mod placement;
pub mod records;
mod runtime;
mod subscription;
#[cfg(test)]
mod tests;
mod txn_offsets;

pub use coordinator::{
    CommittedOffset, Coordinator, Expired, GroupConfig, GroupDescription, JoinRequest, JoinResult,
    JoinedMember, LeaveOutcome, MemberDescription, SyncRequest, SyncResult,
};
pub use loader::{read_partition, read_records, LoadedPartition};
pub use offsets_topic::{
    create_internal_topic, ensure_offsets_topic, spawn_writer, sync_partitions,
};
pub use placement::{offsets_partition_count, partition_for};
pub use runtime::{Groups, WriteJob};
pub use subscription::subscribed_topics;

/// Identifies one parked JoinGroup or SyncGroup request.
pub type Token = u64;

/// A response released by an operation, for the request parked under `Token`.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Join(Token, JoinResult),
    Sync(Token, SyncResult),
    /// The group's metadata must be written to its `__consumer_offsets` partition; the replies
    /// in `then` are released once it is committed (Kafka's `GroupMetadataManager.storeGroup`
    /// and its callback). If the write fails they are answered with the mapped error instead and
    /// [`Coordinator::store_failed`] is told.
    Persist {
        group: String,
        value: records::GroupValue,
        then: Vec<Reply>,
    },
}

/// The classic group states, named as Kafka names them in DescribeGroups and ListGroups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupState {
    Empty,
    PreparingRebalance,
    CompletingRebalance,
    Stable,
    Dead,
}

impl GroupState {
    pub fn name(self) -> &'static str {
        match self {
            GroupState::Empty => "Empty",
            GroupState::PreparingRebalance => "PreparingRebalance",
            GroupState::CompletingRebalance => "CompletingRebalance",
            GroupState::Stable => "Stable",
            GroupState::Dead => "Dead",
        }
    }
}
