//! Which `__consumer_offsets` partition holds a group, and so which broker coordinates it: the
//! leader of partition `abs(hashCode(group.id)) % partitions` (Kafka's
//! `GroupMetadataManager.partitionFor`, with Java's `String.hashCode` and `Utils.abs`).

use common::topic::GROUP_METADATA_TOPIC_NAME;
use zookeeper_lite::protocol::ClusterMetadata;

/// Java's `String.hashCode`, so the choice is the one Kafka makes for the same group id.
pub(crate) fn java_hash(key: &str) -> i32 {
    key.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// The `__consumer_offsets` partition of `group` among `partitions` (at least 1). Kafka's
/// `Utils.abs` is `Math.abs` except that `Integer.MIN_VALUE` becomes 0.
pub fn partition_for(group: &str, partitions: i32) -> i32 {
    let h = java_hash(group);
    let abs = if h == i32::MIN { 0 } else { h.abs() };
    abs % partitions.max(1)
}

/// The partition count of `__consumer_offsets`: the topic's, once it exists, else
/// `offsets.topic.num.partitions` (`configured`), which it will be created with.
pub fn offsets_partition_count(md: &ClusterMetadata, configured: i32) -> i32 {
    md.topics
        .get(GROUP_METADATA_TOPIC_NAME)
        .map(|t| i32::try_from(t.partitions.len()).unwrap_or(i32::MAX))
        .filter(|n| *n > 0)
        .unwrap_or(configured.max(1))
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
    fn partition_is_kafkas_abs_hash_modulo() {
        assert_eq!(partition_for("g", 50), 103 % 50);
        assert_eq!(
            partition_for("console-consumer-12345", 50),
            158_455_506 % 50
        );
        // "polygenelubricants" hashes to Integer.MIN_VALUE: Kafka's Utils.abs makes it 0.
        assert_eq!(java_hash("polygenelubricants"), i32::MIN);
        assert_eq!(partition_for("polygenelubricants", 50), 0);
        // A negative hash is negated, as Math.abs does.
        assert_eq!(java_hash("zzzzzzzzzz"), -1_580_979_136);
        assert_eq!(partition_for("zzzzzzzzzz", 50), 1_580_979_136 % 50);
        assert_eq!(partition_for("g", 0), 0);
    }
}
