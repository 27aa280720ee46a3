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
pub use placement::{check_coordinator, coordinator_of};
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

/// Kafka's error codes used by the coordinator (the numbers are the wire values).
pub mod codes {
    pub const NONE: i16 = 0;
    pub const COORDINATOR_NOT_AVAILABLE: i16 = 15;
    pub const NOT_COORDINATOR: i16 = 16;
    pub const ILLEGAL_GENERATION: i16 = 22;
    pub const INCONSISTENT_GROUP_PROTOCOL: i16 = 23;
    pub const INVALID_GROUP_ID: i16 = 24;
    pub const UNKNOWN_MEMBER_ID: i16 = 25;
    pub const INVALID_SESSION_TIMEOUT: i16 = 26;
    pub const REBALANCE_IN_PROGRESS: i16 = 27;
    pub const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;
    pub const OFFSET_METADATA_TOO_LARGE: i16 = 12;
    pub const NON_EMPTY_GROUP: i16 = 68;
    pub const GROUP_ID_NOT_FOUND: i16 = 69;
    pub const GROUP_SUBSCRIBED_TO_TOPIC: i16 = 86;
    pub const MEMBER_ID_REQUIRED: i16 = 79;
    pub const FENCED_INSTANCE_ID: i16 = 82;
}
