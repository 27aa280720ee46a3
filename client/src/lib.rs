//! Kafka client library shared by our CLI tools: one pipelined, version-negotiating connection per
//! broker (`connection`), a metadata cache that finds partition leaders and the controller
//! (`cluster`), the admin calls `kafka-topics` makes (`admin`), an idempotent batching producer
//! (`producer`) that keeps up to `max.in.flight.requests.per.connection` Produce requests in
//! flight per broker, with Kafka's murmur2 key placement (`partitioner`), and a consumer
//! (`consumer`) that prefetches while records are processed, assigns partitions itself or joins
//! a consumer group (range / roundrobin, heartbeats, committed offsets, and the rebalance events a
//! Kafka `ConsumerRebalanceListener` would hear). It speaks the Kafka wire protocol through the `kafka-protocol` codec and owns
//! everything around it: framing, version choice, error texts, record batch encoding and safe
//! decoding.

pub mod admin;
pub mod cluster;
pub mod connection;
pub mod consumer;
pub mod error;
mod frame;
pub mod metadata;
pub mod network_log;
pub mod partitioner;
pub mod producer;
pub mod properties;
pub mod records;
mod time;
pub mod topic_configs;
pub mod versions;

pub use admin::{
    format_topic_id, Admin, ConfigEntry, NewTopic, PartitionDescription, TopicDescription,
    TopicListing,
};
pub use consumer::{
    Consumer, ConsumerConfig, ConsumerRecord, OffsetReset, RebalanceEvent, StartOffset,
    TimestampType,
};
pub use error::ClientError;
pub use producer::{
    Compression, ConsumerGroupMetadata, DeliveryFuture, Producer, ProducerConfig, ProducerRecord,
    RecordMetadata, TransactionState, TxnOffset,
};
