//! Kafka's `TopicPartition` (`org.apache.kafka.common.TopicPartition`): a topic name and a
//! partition index, printed as `topic-partition`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One partition of one topic. Orders by topic then partition. Serialises (serde) as
/// `{"topic": ..., "partition": ...}`, the shape zookeeper-lite's protocol and journal use.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicPartition {
    pub topic: String,
    pub partition: i32,
}

impl TopicPartition {
    /// A topic-partition from a topic name and a partition index.
    pub fn new(topic: impl Into<String>, partition: i32) -> Self {
        TopicPartition {
            topic: topic.into(),
            partition,
        }
    }
}

impl fmt::Display for TopicPartition {
    /// Kafka's `TopicPartition.toString`: `topic-partition`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_and_orders_like_kafka() {
        let a = TopicPartition::new("orders", 2);
        assert_eq!(a.to_string(), "orders-2");
        assert!(TopicPartition::new("a", 9) < TopicPartition::new("b", 0));
        assert!(TopicPartition::new("a", 1) < TopicPartition::new("a", 2));
    }

    #[test]
    fn serde_shape_is_topic_and_partition() {
        let json = serde_json::to_string(&TopicPartition::new("t", 1)).unwrap_or_default();
        assert_eq!(json, r#"{"topic":"t","partition":1}"#);
        let back: Result<TopicPartition, _> = serde_json::from_str(&json);
        assert_eq!(back.ok(), Some(TopicPartition::new("t", 1)));
    }
}
