//! Records fetched but not yet returned by `poll` (Kafka's `FetchBuffer` of completed fetches):
//! one chunk per partition per fetch response, handed out in arrival order, at most
//! `max.poll.records` at a time. Pure state.

use std::collections::VecDeque;

use super::ConsumerRecord;

/// One partition's records from one fetch response, in offset order.
struct Chunk {
    topic: String,
    partition: i32,
    records: VecDeque<ConsumerRecord>,
}

#[derive(Default)]
pub(crate) struct FetchBuffer {
    chunks: VecDeque<Chunk>,
    len: usize,
}

impl FetchBuffer {
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds a partition's records (nothing if there are none).
    pub fn push(&mut self, topic: &str, partition: i32, records: VecDeque<ConsumerRecord>) {
        if records.is_empty() {
            return;
        }
        self.len += records.len();
        self.chunks.push_back(Chunk {
            topic: topic.to_string(),
            partition,
            records,
        });
    }

    /// Drops the records of one partition (after a `seek`).
    pub fn remove_partition(&mut self, topic: &str, partition: i32) {
        let mut removed = 0;
        self.chunks.retain(|c| {
            let drop = c.partition == partition && c.topic == topic;
            if drop {
                removed += c.records.len();
            }
            !drop
        });
        self.len -= removed;
    }

    pub fn clear(&mut self) {
        self.chunks.clear();
        self.len = 0;
    }

    /// Takes up to `max` records in arrival order. For every partition whose records were
    /// taken, `consumed(topic, partition, next offset, whether none of its records are left)`
    /// is called once per chunk (not per record).
    pub fn drain(
        &mut self,
        max: usize,
        mut consumed: impl FnMut(&str, i32, i64, bool),
    ) -> Vec<ConsumerRecord> {
        let mut out = Vec::with_capacity(max.min(self.len));
        while out.len() < max {
            let Some(chunk) = self.chunks.front_mut() else {
                break;
            };
            let n = (max - out.len()).min(chunk.records.len());
            out.extend(chunk.records.drain(..n));
            self.len -= n;
            let done = chunk.records.is_empty();
            if let (Some(last), Some(chunk)) = (out.last(), self.chunks.front()) {
                let (topic, partition) = (chunk.topic.as_str(), chunk.partition);
                // Another chunk of the same partition may follow (two responses were buffered).
                let more = !done
                    || self
                        .chunks
                        .iter()
                        .skip(1)
                        .any(|c| c.partition == partition && c.topic == topic);
                consumed(topic, partition, last.offset.saturating_add(1), !more);
            }
            if done {
                self.chunks.pop_front();
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consumer::TimestampType;

    fn records(partition: i32, offsets: std::ops::Range<i64>) -> VecDeque<ConsumerRecord> {
        offsets
            .map(|offset| ConsumerRecord {
                topic: "t".to_string(),
                partition,
                offset,
                timestamp: 0,
                timestamp_type: TimestampType::CreateTime,
                key: None,
                value: None,
                headers: Vec::new(),
            })
            .collect()
    }

    #[test]
    fn drains_in_arrival_order_and_reports_each_partition_once_per_chunk() {
        let mut b = FetchBuffer::default();
        b.push("t", 0, records(0, 0..3));
        b.push("t", 1, records(1, 10..12));
        b.push("t", 2, VecDeque::new());
        let mut seen = Vec::new();
        let out = b.drain(4, |t, p, next, done| {
            seen.push((t.to_string(), p, next, done))
        });
        let offsets: Vec<i64> = out.iter().map(|r| r.offset).collect();
        assert_eq!(offsets, vec![0, 1, 2, 10]);
        assert_eq!(
            seen,
            vec![
                ("t".to_string(), 0, 3, true),
                ("t".to_string(), 1, 11, false)
            ]
        );
        let mut seen = Vec::new();
        assert_eq!(
            b.drain(10, |_, p, next, done| seen.push((p, next, done)))
                .len(),
            1
        );
        assert_eq!(seen, vec![(1, 12, true)]);
        assert!(b.is_empty());
    }

    #[test]
    fn removing_a_partition_keeps_the_others() {
        let mut b = FetchBuffer::default();
        b.push("t", 0, records(0, 0..3));
        b.push("t", 1, records(1, 0..2));
        b.remove_partition("t", 0);
        let out = b.drain(10, |_, _, _, _| {});
        assert_eq!(
            out.iter().map(|r| r.partition).collect::<Vec<_>>(),
            vec![1, 1]
        );
    }
}
