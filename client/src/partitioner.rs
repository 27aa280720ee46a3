//! Where a record goes: keyed records by murmur2 exactly as the Java client places them
//! (`Utils.murmur2`, then `toPositive(hash) % numPartitions`), so a key lands on the partition
//! Kafka would choose; unkeyed records round-robin over the partitions that have a leader.

use std::collections::HashMap;
use std::sync::Mutex;

/// Kafka's murmur2 (32-bit, seed 0x9747b28c), bit for bit as `org.apache.kafka.common.utils.Utils`.
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;

    let length = data.len();
    // Java computes `seed ^ length` on ints; lengths beyond 2^31 do not occur for keys.
    let mut h: u32 = SEED ^ (length as u32);
    let mut chunks = data.chunks_exact(4);
    for chunk in &mut chunks {
        let mut k = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let rest = chunks.remainder();
    // The Java switch falls through from 3 to 2 to 1.
    if rest.len() >= 3 {
        h ^= u32::from(rest[2]) << 16;
    }
    if rest.len() >= 2 {
        h ^= u32::from(rest[1]) << 8;
    }
    if !rest.is_empty() {
        h ^= u32::from(rest[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// Java's `Utils.toPositive`: clears the sign bit (not `abs`, which overflows on MIN).
pub fn to_positive(n: i32) -> i32 {
    n & 0x7fff_ffff
}

/// The partition Kafka's default partitioner picks for a key among `num_partitions` partitions.
/// `num_partitions` must be positive; 0 or less yields partition 0.
pub fn partition_for_key(key: &[u8], num_partitions: i32) -> i32 {
    if num_partitions <= 0 {
        return 0;
    }
    to_positive(murmur2(key)) % num_partitions
}

/// Round-robin placement of unkeyed records, one counter per topic.
#[derive(Debug, Default)]
pub struct RoundRobin {
    counters: Mutex<HashMap<String, u32>>,
}

impl RoundRobin {
    /// The topic's counter, then advanced; the topic name is copied only the first time.
    fn take(&self, topic: &str) -> u32 {
        let mut counters = match self.counters.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        let counter = match counters.get_mut(topic) {
            Some(c) => c,
            None => counters.entry(topic.to_string()).or_insert(0),
        };
        let n = *counter;
        *counter = counter.wrapping_add(1);
        n
    }

    /// [`RoundRobin::next`] over a topic's partition metadata (sorted by id), without collecting
    /// the partitions that have a leader.
    pub fn next_of(&self, topic: &str, partitions: &[crate::metadata::PartitionMetadata]) -> i32 {
        let n = self.take(topic);
        let available = partitions.iter().filter(|p| p.leader >= 0).count();
        if available > 0 {
            let pick = (n as usize) % available;
            return partitions
                .iter()
                .filter(|p| p.leader >= 0)
                .nth(pick)
                .map_or(0, |p| p.partition);
        }
        if partitions.is_empty() {
            return 0;
        }
        (n % partitions.len() as u32) as i32
    }

    /// The next partition for an unkeyed record: cycles over `available` (partitions with a
    /// leader) when any are, else over all `num_partitions`.
    pub fn next(&self, topic: &str, num_partitions: i32, available: &[i32]) -> i32 {
        let n = self.take(topic);
        if !available.is_empty() {
            return available[(n as usize) % available.len()];
        }
        if num_partitions <= 0 {
            return 0;
        }
        (n % num_partitions as u32) as i32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur2_matches_kafka_test_vectors() {
        // From Kafka's UtilsTest.testMurmur2.
        let cases: &[(&[u8], i32)] = &[
            (b"21", -973932308),
            (b"foobar", -790332482),
            (b"a-little-bit-long-string", -985981536),
            (b"a-little-bit-longer-string", -1486304829),
            (
                b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58897971,
            ),
            (b"abc", 479470107),
        ];
        for (input, expected) in cases {
            assert_eq!(
                murmur2(input),
                *expected,
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn keys_land_where_the_java_client_puts_them() {
        // toPositive(-790332482) % 3 = 1357151166 % 3
        assert_eq!(partition_for_key(b"foobar", 3), 1357151166 % 3);
        assert_eq!(partition_for_key(b"abc", 7), 479470107 % 7);
        assert_eq!(partition_for_key(b"", 1), 0);
    }

    #[test]
    fn keys_land_where_librdkafka_murmur2_puts_them() {
        // Observed with kcat 1.7.1 (librdkafka 2.0.2), `-X partitioner=murmur2_random`, on a
        // 7-partition topic against our broker.
        let cases: &[(&str, i32)] = &[
            ("21", 3),
            ("a", 5),
            ("abc", 4),
            ("b", 6),
            ("c", 0),
            ("foobar", 0),
            ("hello-world", 2),
            ("k1", 0),
            ("k2", 2),
            ("k3", 4),
        ];
        for (key, partition) in cases {
            assert_eq!(
                partition_for_key(key.as_bytes(), 7),
                *partition,
                "key {key}"
            );
        }
    }

    #[test]
    fn to_positive_clears_sign_bit_even_for_min() {
        assert_eq!(to_positive(i32::MIN), 0);
        assert_eq!(to_positive(-1), i32::MAX);
    }

    #[test]
    fn unkeyed_records_cycle_over_available_partitions() {
        let rr = RoundRobin::default();
        let picks: Vec<i32> = (0..6).map(|_| rr.next("t", 3, &[0, 1, 2])).collect();
        assert_eq!(picks, vec![0, 1, 2, 0, 1, 2]);
        // Partition 1 without a leader is skipped.
        let picks: Vec<i32> = (0..4).map(|_| rr.next("u", 3, &[0, 2])).collect();
        assert_eq!(picks, vec![0, 2, 0, 2]);
    }

    #[test]
    fn round_robin_over_metadata_skips_leaderless_partitions() {
        let meta = |partition, leader| crate::metadata::PartitionMetadata {
            partition,
            error_code: 0,
            leader,
            leader_epoch: 0,
            replicas: vec![],
            isr: vec![],
            offline_replicas: vec![],
        };
        let rr = RoundRobin::default();
        let parts = [meta(0, 1), meta(1, -1), meta(2, 1)];
        let picks: Vec<i32> = (0..4).map(|_| rr.next_of("t", &parts)).collect();
        assert_eq!(picks, vec![0, 2, 0, 2]);
        let none = [meta(0, -1), meta(1, -1)];
        let picks: Vec<i32> = (0..3).map(|_| rr.next_of("u", &none)).collect();
        assert_eq!(picks, vec![0, 1, 0]);
    }

    #[test]
    fn round_robin_counters_are_per_topic() {
        let rr = RoundRobin::default();
        assert_eq!(rr.next("a", 2, &[0, 1]), 0);
        assert_eq!(rr.next("b", 2, &[0, 1]), 0);
        assert_eq!(rr.next("a", 2, &[0, 1]), 1);
    }
}
