//! Which live broker coordinates a group: a stable hash of the group id over the live broker
//! ids, sorted (our stand-in for Kafka's `__consumer_offsets` partition leader, which Kafka
//! picks by `Utils.abs(groupId.hashCode) % groupMetadataTopicPartitionCount`).

use zookeeper_lite::protocol::BrokerInfo;

use crate::cluster::Cluster;
use common::errors::codes::{COORDINATOR_NOT_AVAILABLE, NONE, NOT_COORDINATOR};

/// Java's `String.hashCode`, so the choice is stable across runs and brokers.
fn java_hash(key: &str) -> i32 {
    key.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// The live broker that coordinates `group`: a stable hash over the live broker ids, sorted.
pub fn coordinator_of(cluster: &Cluster, group: &str) -> Option<BrokerInfo> {
    let md = cluster.metadata();
    let mut brokers: Vec<&BrokerInfo> = md.brokers.iter().collect();
    if brokers.is_empty() {
        return None;
    }
    brokers.sort_by_key(|b| b.id);
    brokers
        .get(coordinator_index(group, brokers.len()))
        .map(|b| (*b).clone())
}

/// Whether another live broker coordinates a group now, by one snapshot of the live brokers:
/// the groups for which it returns true are to be unloaded from this broker. Always false while
/// no broker is known (nobody else has taken the groups over).
pub fn coordinated_elsewhere(cluster: &Cluster) -> impl Fn(&str) -> bool {
    let md = cluster.metadata();
    let mut ids: Vec<_> = md.brokers.iter().map(|b| b.id).collect();
    ids.sort();
    let me = cluster.broker_id();
    move |group| {
        ids.get(coordinator_index(group, ids.len()))
            .is_some_and(|id| *id != me)
    }
}

/// Which of `n` live brokers (sorted by id) coordinates `group`.
fn coordinator_index(group: &str, n: usize) -> usize {
    (java_hash(group).unsigned_abs() as usize) % n.max(1)
}

/// NONE when this broker coordinates `group`, else the error Kafka answers with.
pub fn check_coordinator(cluster: &Cluster, group: &str) -> i16 {
    match coordinator_of(cluster, group) {
        None => COORDINATOR_NOT_AVAILABLE,
        Some(b) if b.id == cluster.broker_id() => NONE,
        Some(_) => NOT_COORDINATOR,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_hash_is_javas_string_hash_code() {
        assert_eq!(java_hash(""), 0);
        assert_eq!(java_hash("g"), 103);
        assert_eq!(java_hash("console-consumer-12345"), 158_455_506);
        assert_eq!(java_hash("\u{e9}t\u{e9}"), 0xe9 * 961 + 0x74 * 31 + 0xe9);
    }

    #[test]
    fn coordinator_choice_is_stable_and_spread() {
        assert_eq!(coordinator_index("g", 1), 0);
        assert_eq!(coordinator_index("g", 2), 1);
        assert_eq!(coordinator_index("g", 0), 0);
        let picked: std::collections::BTreeSet<usize> = (0..50)
            .map(|i| coordinator_index(&format!("group-{i}"), 3))
            .collect();
        assert_eq!(picked.len(), 3, "50 groups land on every one of 3 brokers");
    }
}
