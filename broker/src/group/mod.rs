//! Kafka's classic group coordinator as a pure state machine: no sockets, no clocks, no tasks.
//!
//! Every operation takes the current time in milliseconds and returns the replies it releases.
//! A JoinGroup or SyncGroup that must wait (for the other members, for the leader's assignment)
//! is identified by a caller-chosen [`Token`]; its answer comes back later as a [`Reply`] from
//! another operation or from [`Coordinator::tick`]. The async layer
//! ([`Groups`], in `runtime.rs`, the only async part) maps tokens to oneshot channels. The rules follow Kafka 3.9's
//! `GroupCoordinator.scala` / `GroupMetadata.scala` (the classic protocol).

mod cleanup;
mod coordinator;
mod placement;
mod runtime;
mod subscription;
#[cfg(test)]
mod tests;

pub use cleanup::cleanup_group_metadata;
pub use coordinator::{
    Coordinator, EmptyGroup, GroupConfig, GroupDescription, JoinRequest, JoinResult, JoinedMember,
    LeaveOutcome, MemberDescription, SyncRequest, SyncResult,
};
pub use placement::{check_coordinator, coordinated_elsewhere, coordinator_of};
pub use runtime::Groups;
pub use subscription::subscribed_topics;

/// Identifies one parked JoinGroup or SyncGroup request.
pub type Token = u64;

/// A response released by an operation, for the request parked under `Token`.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Join(Token, JoinResult),
    Sync(Token, SyncResult),
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
