//! The order in which Java's `HashMap` / `HashSet` give back their entries, which is the order
//! Kafka's tool prints partitions in (its results are a `HashMap`, sorted into `HashSet`s).
//!
//! A `HashMap` keeps a table of 2^k buckets (16 at first, doubled when the entries pass 3/4 of
//! it, or when a bucket of a table smaller than 64 reaches 9 entries), puts an entry in bucket
//! `(h ^ (h >>> 16)) & (2^k - 1)` at the end of that bucket's list, and iterates bucket by
//! bucket. Doubling splits each bucket keeping its entries' relative order, so the iteration
//! order is the insertion order stably sorted by bucket in the final table. (Buckets that turn
//! into trees, 9+ colliding entries in a table of 64 or more, are taken in insertion order.)

/// Java's `String.hashCode` (over UTF-16 code units).
pub fn string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, unit| {
        h.wrapping_mul(31).wrapping_add(i32::from(unit))
    })
}

/// Kafka's `TopicPartition.hashCode`: `31 * (31 + partition) + topic.hashCode()`.
pub fn topic_partition_hash(topic: &str, partition: i32) -> i32 {
    31i32
        .wrapping_mul(31i32.wrapping_add(partition))
        .wrapping_add(string_hash(topic))
}

/// `HashMap.hash`: the high half folded into the low half.
fn spread(h: i32) -> u32 {
    let h = h as u32;
    h ^ (h >> 16)
}

/// The iteration order of a `new HashSet<>()` (or `new HashMap<>()`) into which `items`, all
/// distinct, were added in the order given.
pub fn hash_set_order<T>(items: Vec<T>, hash: impl Fn(&T) -> i32) -> Vec<T> {
    const TREEIFY_THRESHOLD: usize = 8;
    const MIN_TREEIFY_CAPACITY: usize = 64;
    let mut capacity = 16usize;
    let mut buckets: Vec<Vec<(u32, T)>> = (0..capacity).map(|_| Vec::new()).collect();
    let mut size = 0usize;
    let resize = |buckets: &mut Vec<Vec<(u32, T)>>, capacity: &mut usize| {
        *capacity *= 2;
        let old = std::mem::take(buckets);
        *buckets = (0..*capacity).map(|_| Vec::new()).collect();
        for (h, item) in old.into_iter().flatten() {
            buckets[(h as usize) & (*capacity - 1)].push((h, item));
        }
    };
    for item in items {
        let h = spread(hash(&item));
        let bucket = &mut buckets[(h as usize) & (capacity - 1)];
        let chained = bucket.len();
        bucket.push((h, item));
        size += 1;
        if chained >= TREEIFY_THRESHOLD && capacity < MIN_TREEIFY_CAPACITY {
            resize(&mut buckets, &mut capacity);
        }
        if size > capacity / 4 * 3 {
            resize(&mut buckets, &mut capacity);
        }
    }
    buckets
        .into_iter()
        .flatten()
        .map(|(_, item)| item)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp_order(tps: &[(&str, i32)]) -> Vec<String> {
        hash_set_order(tps.to_vec(), |(t, p)| topic_partition_hash(t, *p))
            .into_iter()
            .map(|(t, p)| format!("{t}-{p}"))
            .collect()
    }

    #[test]
    fn hashes_are_javas() {
        assert_eq!(string_hash(""), 0);
        assert_eq!(string_hash("t"), 116);
        assert_eq!(string_hash("hello"), 99_162_322);
        // Overflow wraps as Java's int arithmetic does.
        assert_eq!(string_hash("polygenelubricants"), i32::MIN);
        assert_eq!(topic_partition_hash("t", 0), 1077);
    }

    /// Java: `new HashSet<>(List.of(new TopicPartition("t", 0), ..1, ..2))` prints
    /// `[t-2, t-1, t-0]` (buckets 3, 4 and 5 of 16).
    #[test]
    fn partitions_of_one_topic_come_out_in_javas_bucket_order() {
        assert_eq!(
            tp_order(&[("t", 0), ("t", 1), ("t", 2)]),
            ["t-2", "t-1", "t-0"]
        );
    }

    #[test]
    fn a_growing_table_keeps_every_entry_and_orders_by_the_final_buckets() {
        let tps: Vec<(String, i32)> = (0..100).map(|p| ("orders".to_string(), p)).collect();
        let ordered = hash_set_order(tps.clone(), |(t, p)| topic_partition_hash(t, *p));
        assert_eq!(ordered.len(), 100);
        // 100 entries need a table of 256: each entry's bucket there never decreases.
        let buckets: Vec<u32> = ordered
            .iter()
            .map(|(t, p)| spread(topic_partition_hash(t, *p)) & 255)
            .collect();
        assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
    }
}
