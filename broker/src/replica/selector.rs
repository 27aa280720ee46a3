//! Fetch from the closest replica (KIP-392): which replica a consumer should read a partition
//! from, as Kafka's `ReplicaManager.findPreferredReadReplica` and
//! `org.apache.kafka.common.replica.RackAwareReplicaSelector` choose it.
//!
//! Only a leader chooses, only for a consumer's Fetch v11+ (which carries the client's rack,
//! `client.rack`), and only when the broker has `replica.selector.class` set to the rack-aware
//! selector; Kafka's default (no selector) always answers "the leader". The candidates are the
//! leader and the followers in the ISR whose log end offset has reached the fetch offset. Among the
//! candidates in the client's rack the leader wins when it is one of them; otherwise the most
//! caught-up follower (highest log end offset, then the one caught up most recently, Kafka's
//! `ReplicaView.comparator`). No candidate in the client's rack, or an empty client rack, keeps
//! the consumer on the leader.

use std::collections::BTreeMap;

use common::ids::BrokerId;

use super::LeaderState;

/// `replica.selector.class` values this broker acts on (the class names Kafka's config takes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReplicaSelector {
    /// Unset (Kafka's default, `null`): consumers always read from the leader.
    #[default]
    Leader,
    /// `org.apache.kafka.common.replica.RackAwareReplicaSelector`.
    RackAware,
}

impl ReplicaSelector {
    /// Kafka's class name of the rack-aware selector.
    pub const RACK_AWARE_CLASS: &'static str =
        "org.apache.kafka.common.replica.RackAwareReplicaSelector";

    /// The selector a `replica.selector.class` value names: empty is the default; any class but
    /// the rack-aware one is `None` (Kafka fails with "Class ... could not be found" for a class
    /// that is not on its class path; we have no other).
    pub fn parse(value: &str) -> Option<ReplicaSelector> {
        match value.trim() {
            "" => Some(ReplicaSelector::Leader),
            Self::RACK_AWARE_CLASS => Some(ReplicaSelector::RackAware),
            _ => None,
        }
    }
}

/// The replica a consumer in `client_rack` fetching `fetch_offset` should read from instead of
/// this leader, or `None` for the leader itself (Kafka's `findPreferredReadReplica`, which never
/// names the leader). `leader` is this broker, `racks` the rack of each live broker (a broker
/// without one is in no rack), `now_ms` the wall clock (ms since the epoch).
pub fn preferred_read_replica(
    selector: ReplicaSelector,
    state: &LeaderState,
    leader: BrokerId,
    fetch_offset: i64,
    client_rack: &str,
    racks: &BTreeMap<BrokerId, Option<String>>,
    now_ms: i64,
) -> Option<BrokerId> {
    if selector == ReplicaSelector::Leader || client_rack.is_empty() {
        return None;
    }
    let in_client_rack =
        |b: BrokerId| racks.get(&b).and_then(Option::as_deref) == Some(client_rack);
    if in_client_rack(leader) {
        return None;
    }
    // (broker, log end offset, ms since last caught up), the followers that may serve the read.
    let candidates = state.followers.iter().filter(|(b, f)| {
        state.isr.contains(b) && f.end_offset >= fetch_offset && in_client_rack(**b)
    });
    candidates
        .map(|(b, f)| (*b, f.end_offset, now_ms.saturating_sub(f.last_caught_up_ms)))
        // The highest end offset; among equals the one caught up most recently.
        .max_by(|a, b| a.1.cmp(&b.1).then(b.2.cmp(&a.2)))
        .map(|(b, _, _)| b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replica::FollowerState;
    use common::ids::LeaderEpoch;

    fn state(followers: &[(i32, i64, i64)], isr: &[i32]) -> LeaderState {
        LeaderState {
            leader_epoch: LeaderEpoch(3),
            partition_epoch: 1,
            replicas: std::iter::once(1)
                .chain(followers.iter().map(|f| f.0))
                .map(BrokerId)
                .collect(),
            isr: isr.iter().copied().map(BrokerId).collect(),
            followers: followers
                .iter()
                .map(|&(b, end, caught_up)| {
                    (
                        BrokerId(b),
                        FollowerState {
                            end_offset: end,
                            last_caught_up_ms: caught_up,
                            last_fetch_ms: caught_up,
                            last_fetch_leader_end: end,
                            log_start_offset: 0,
                        },
                    )
                })
                .collect(),
            epoch_start_offset: 0,
            alter_in_flight: false,
            alter_retry_after_ms: 0,
        }
    }

    fn racks(list: &[(i32, Option<&str>)]) -> BTreeMap<BrokerId, Option<String>> {
        list.iter()
            .map(|(b, r)| (BrokerId(*b), r.map(str::to_string)))
            .collect()
    }

    fn choose(s: &LeaderState, rack: &str, r: &BTreeMap<BrokerId, Option<String>>) -> Option<i32> {
        let leader = BrokerId(1);
        preferred_read_replica(ReplicaSelector::RackAware, s, leader, 50, rack, r, 1_000)
            .map(|b| b.0)
    }

    #[test]
    fn parses_kafkas_class_names_only() {
        assert_eq!(ReplicaSelector::parse(""), Some(ReplicaSelector::Leader));
        assert_eq!(
            ReplicaSelector::parse(" org.apache.kafka.common.replica.RackAwareReplicaSelector "),
            Some(ReplicaSelector::RackAware)
        );
        assert_eq!(ReplicaSelector::parse("com.example.Nearest"), None);
    }

    #[test]
    fn a_follower_in_the_clients_rack_is_preferred() {
        let s = state(&[(2, 100, 1_000), (3, 100, 1_000)], &[1, 2, 3]);
        let r = racks(&[(1, Some("RACK1")), (2, Some("RACK2")), (3, Some("RACK3"))]);
        assert_eq!(choose(&s, "RACK2", &r), Some(2));
        assert_eq!(choose(&s, "RACK3", &r), Some(3));
    }

    #[test]
    fn the_leader_in_the_clients_rack_or_no_match_keeps_the_leader() {
        let s = state(&[(2, 100, 1_000), (3, 100, 1_000)], &[1, 2, 3]);
        let r = racks(&[(1, Some("RACK1")), (2, Some("RACK1")), (3, None)]);
        assert_eq!(
            choose(&s, "RACK1", &r),
            None,
            "the leader is in the client's rack"
        );
        assert_eq!(
            choose(&s, "RACK9", &r),
            None,
            "no replica in the client's rack"
        );
        assert_eq!(choose(&s, "", &r), None, "no client.rack");
        let leader = BrokerId(1);
        let default = ReplicaSelector::Leader;
        let rack2 = racks(&[(1, Some("RACK1")), (2, Some("RACK2"))]);
        assert_eq!(
            preferred_read_replica(default, &s, leader, 50, "RACK2", &rack2, 1_000),
            None,
            "without replica.selector.class the leader always serves"
        );
    }

    #[test]
    fn out_of_sync_or_behind_followers_are_not_chosen() {
        let r = racks(&[(1, Some("RACK1")), (2, Some("RACK2")), (3, Some("RACK2"))]);
        // 2 is not in the ISR; 3 has not reached the fetch offset (50).
        let s = state(&[(2, 100, 1_000), (3, 40, 1_000)], &[1, 3]);
        assert_eq!(choose(&s, "RACK2", &r), None);
        // Both in sync in the rack: the higher end offset, then the most recently caught up.
        let s = state(&[(2, 90, 1_000), (3, 95, 500)], &[1, 2, 3]);
        assert_eq!(choose(&s, "RACK2", &r), Some(3));
        let s = state(&[(2, 95, 900), (3, 95, 500)], &[1, 2, 3]);
        assert_eq!(choose(&s, "RACK2", &r), Some(2));
    }
}
