//! The order in which Java's `HashMap` / `HashSet` give back their entries, which is the order
//! Kafka's tools print their results in.
//!
//! A `HashMap` keeps a table of 2^k buckets, puts an entry in bucket `(h ^ (h >>> 16)) & (2^k - 1)`
//! at the end of that bucket's list and iterates bucket by bucket. The table is doubled when the
//! entries pass 3/4 of it, or when a bucket of a table smaller than 64 reaches 9 entries; doubling
//! splits each bucket keeping its entries' relative order, so the iteration order is the insertion
//! order stably sorted by bucket in the final table. (Buckets that turn into trees, 9+ colliding
//! entries in a table of 64 or more, are taken in insertion order.)
//!
//! How big the table starts depends on how the map was made, hence [`Capacity`].

/// Java's `String.hashCode` (over UTF-16 code units).
pub fn string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, unit| {
        h.wrapping_mul(31).wrapping_add(i32::from(unit))
    })
}

/// Java's `Integer.hashCode`: the value.
pub fn integer_hash(i: &i32) -> i32 {
    *i
}

/// Kafka's `TopicPartition.hashCode`: `31 * (31 + partition) + topic.hashCode()`.
pub fn topic_partition_hash(topic: &str, partition: i32) -> i32 {
    31i32
        .wrapping_mul(31i32.wrapping_add(partition))
        .wrapping_add(string_hash(topic))
}

/// How a map or set was constructed, which decides its first table size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capacity {
    /// `new HashMap<>()`, `new HashSet<>()`, `Collectors.toMap` / `toSet`: 16 buckets.
    Default,
    /// `new HashMap<>(n)`: `tableSizeFor(n)` buckets (at least 1).
    Initial(usize),
    /// `new HashSet<>(collection)` of `n` elements: `max(n / .75 + 1, 16)`.
    SetCopyOf(usize),
    /// `new HashMap<>(map)` of `n` entries: `tableSizeFor(n / .75 + 1)`.
    MapCopyOf(usize),
}

/// `HashMap.tableSizeFor`: the smallest power of two at least `n` (1 for 0).
fn table_size_for(n: usize) -> usize {
    n.max(1).next_power_of_two().min(1 << 30)
}

impl Capacity {
    fn first_table(self) -> usize {
        match self {
            Capacity::Default => 16,
            Capacity::Initial(n) => table_size_for(n),
            Capacity::SetCopyOf(n) => table_size_for(((n as f32 / 0.75) as usize + 1).max(16)),
            Capacity::MapCopyOf(n) => table_size_for((n as f32 / 0.75 + 1.0) as usize),
        }
    }
}

/// `HashMap.hash`: the high half folded into the low half.
fn spread(h: i32) -> u32 {
    let h = h as u32;
    h ^ (h >> 16)
}

/// The iteration order of a map or set made as `capacity` says into which `items`, all
/// distinct, were put in the order given.
pub fn hash_order<T>(items: Vec<T>, capacity: Capacity, hash: impl Fn(&T) -> i32) -> Vec<T> {
    const TREEIFY_THRESHOLD: usize = 8;
    const MIN_TREEIFY_CAPACITY: usize = 64;
    let mut table = capacity.first_table();
    let threshold = |table: usize| (table as f32 * 0.75) as usize;
    let mut bucket_sizes: std::collections::HashMap<usize, usize> = Default::default();
    let mut entries: Vec<(u32, T)> = Vec::with_capacity(items.len());
    for item in items {
        let h = spread(hash(&item));
        let chained = *bucket_sizes
            .get(&((h as usize) & (table - 1)))
            .unwrap_or(&0);
        entries.push((h, item));
        let mut resized = false;
        if chained >= TREEIFY_THRESHOLD && table < MIN_TREEIFY_CAPACITY {
            table *= 2;
            resized = true;
        }
        if entries.len() > threshold(table) {
            table *= 2;
            resized = true;
        }
        if resized {
            bucket_sizes.clear();
            for (h, _) in &entries {
                *bucket_sizes.entry((*h as usize) & (table - 1)).or_default() += 1;
            }
        } else {
            *bucket_sizes.entry((h as usize) & (table - 1)).or_default() += 1;
        }
    }
    // A stable sort keeps the insertion order within a bucket.
    entries.sort_by_key(|(h, _)| (*h as usize) & (table - 1));
    entries.into_iter().map(|(_, item)| item).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_javas() {
        assert_eq!(string_hash(""), 0);
        assert_eq!(string_hash("version"), 351608024);
        assert_eq!(topic_partition_hash("t", 0), 31 * 31 + 116);
    }

    #[test]
    fn json_keys_come_out_in_the_order_jackson_prints_a_hash_map() {
        let keys =
            |ks: &[&'static str]| hash_order(ks.to_vec(), Capacity::Default, |k| string_hash(k));
        assert_eq!(keys(&["version", "brokers"]), ["brokers", "version"]);
        assert_eq!(
            keys(&["logDir", "error", "partitions"]),
            ["partitions", "error", "logDir"]
        );
        assert_eq!(
            keys(&["partition", "size", "offsetLag", "isFuture"]),
            ["partition", "size", "offsetLag", "isFuture"]
        );
    }

    #[test]
    fn small_integers_sort_and_larger_ones_wrap_by_table_size() {
        let ints = |v: Vec<i32>, c| hash_order(v, c, integer_hash);
        assert_eq!(ints(vec![2, 0, 1], Capacity::Default), [0, 1, 2]);
        assert_eq!(ints(vec![17, 3], Capacity::Default), [17, 3]);
        // new HashMap<>(2) grows to 4 buckets on its second entry.
        assert_eq!(ints(vec![2, 1], Capacity::Initial(2)), [1, 2]);
        // new HashMap<>(1): 1 bucket, then 2 after the first put.
        assert_eq!(ints(vec![3], Capacity::Initial(1)), [3]);
        assert_eq!(ints(vec![40, 8], Capacity::SetCopyOf(2)), [40, 8]);
        assert_eq!(ints(vec![5, 2], Capacity::MapCopyOf(2)), [5, 2]);
        assert_eq!(ints(vec![5, 2], Capacity::Default), [2, 5]);
    }

    #[test]
    fn growing_past_three_quarters_reorders_by_the_bigger_table() {
        // 13 entries push a default map to 32 buckets, where 16 comes after 1..=12 (in 16 buckets
        // it would come first).
        let items: Vec<i32> = (1..=12).chain([16]).collect();
        let ordered = hash_order(items, Capacity::Default, integer_hash);
        assert_eq!(ordered.last(), Some(&16));
        assert_eq!(ordered[0], 1);
    }

    fn tp_order(tps: &[(&str, i32)]) -> Vec<String> {
        hash_order(tps.to_vec(), Capacity::Default, |(t, p)| {
            topic_partition_hash(t, *p)
        })
        .into_iter()
        .map(|(t, p)| format!("{t}-{p}"))
        .collect()
    }

    #[test]
    fn string_and_topic_partition_hashes_wrap_as_javas() {
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
        let ordered = hash_order(tps.clone(), Capacity::Default, |(t, p)| {
            topic_partition_hash(t, *p)
        });
        assert_eq!(ordered.len(), 100);
        // 100 entries need a table of 256: each entry's bucket there never decreases.
        let buckets: Vec<u32> = ordered
            .iter()
            .map(|(t, p)| spread(topic_partition_hash(t, *p)) & 255)
            .collect();
        assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
    }
}
