//! What a group member learns of its partitions changing hands: the calls Kafka's
//! `ConsumerRebalanceListener` receives (`onPartitionsRevoked`, `onPartitionsLost`,
//! `onPartitionsAssigned`), kept as events that the application takes after `poll` or `close`
//! (`Consumer::take_rebalance_events`) instead of callbacks run inside them.
//!
//! Timing follows Kafka 3.9's `ConsumerCoordinator` under the eager protocol (the range and
//! round-robin assignors): before rejoining, a member that held a generation revokes every
//! partition it owned, even none (`onJoinPrepare`); a member whose generation or member id was
//! reset instead loses what it owned, and says nothing when it owned nothing; after each join
//! the whole new assignment is assigned, even when empty (`onJoinComplete`); and `close`
//! revokes (or, without a valid generation or mid-rebalance, loses) the partitions still owned
//! (`onLeavePrepare`). Partitions are sorted by topic, then partition, as Kafka's `COMPARATOR`.

use common::topic_partition::TopicPartition;

/// One call of Kafka's `ConsumerRebalanceListener`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RebalanceEvent {
    /// `onPartitionsRevoked`: the member gives these partitions up in order (before a rejoin, or
    /// when it closes). The list may be empty (eager protocol: every rejoin revokes).
    Revoked(Vec<TopicPartition>),
    /// `onPartitionsLost`: the member's generation was reset (UNKNOWN_MEMBER_ID,
    /// ILLEGAL_GENERATION, a session that timed out) so the partitions may already belong to
    /// another member. Never empty. Kafka's default `onPartitionsLost` calls
    /// `onPartitionsRevoked`.
    Lost(Vec<TopicPartition>),
    /// `onPartitionsAssigned`: the assignment a completed join gave this member (possibly
    /// empty).
    Assigned(Vec<TopicPartition>),
}

impl RebalanceEvent {
    /// The partitions the event names.
    pub fn partitions(&self) -> &[TopicPartition] {
        match self {
            RebalanceEvent::Revoked(p) | RebalanceEvent::Lost(p) | RebalanceEvent::Assigned(p) => p,
        }
    }
}

/// `(topic, partition)` pairs as sorted `TopicPartition`s.
pub(crate) fn sorted_partitions<'a>(
    pairs: impl IntoIterator<Item = (&'a str, i32)>,
) -> Vec<TopicPartition> {
    let mut v: Vec<TopicPartition> = pairs
        .into_iter()
        .map(|(t, p)| TopicPartition::new(t, p))
        .collect();
    v.sort();
    v
}

/// The event for giving up `owned` (before a rejoin or on close): lost when the member has no
/// valid generation (or is mid-rebalance), revoked otherwise; `None` when lost would be empty,
/// or when `always_revoke` is false and nothing is owned (`onLeavePrepare` says nothing then).
pub(crate) fn give_up(
    owned: Vec<TopicPartition>,
    generation_valid: bool,
    always_revoke: bool,
) -> Option<RebalanceEvent> {
    if !generation_valid {
        return (!owned.is_empty()).then_some(RebalanceEvent::Lost(owned));
    }
    if owned.is_empty() && !always_revoke {
        return None;
    }
    Some(RebalanceEvent::Revoked(owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejoin_with_a_generation_revokes_even_nothing() {
        assert_eq!(
            give_up(Vec::new(), true, true),
            Some(RebalanceEvent::Revoked(Vec::new()))
        );
    }

    #[test]
    fn first_join_and_reset_generation_lose_only_what_was_owned() {
        assert_eq!(give_up(Vec::new(), false, true), None);
        let owned = sorted_partitions([("t", 1), ("t", 0)]);
        assert_eq!(
            give_up(owned.clone(), false, true),
            Some(RebalanceEvent::Lost(owned))
        );
    }

    #[test]
    fn close_with_nothing_owned_says_nothing() {
        assert_eq!(give_up(Vec::new(), true, false), None);
    }

    #[test]
    fn partitions_sort_by_topic_then_partition() {
        let v = sorted_partitions([("b", 0), ("a", 10), ("a", 2)]);
        assert_eq!(
            v,
            vec![
                TopicPartition::new("a", 2),
                TopicPartition::new("a", 10),
                TopicPartition::new("b", 0)
            ]
        );
        assert_eq!(RebalanceEvent::Assigned(v.clone()).partitions(), &v[..]);
    }
}
