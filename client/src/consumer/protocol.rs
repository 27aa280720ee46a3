//! Kafka's ConsumerProtocol: the bytes a consumer puts in JoinGroup's protocol metadata
//! (Subscription) and the leader puts in SyncGroup's assignments (Assignment). The codec is
//! `common::consumer_protocol` (shared with the broker's group coordinator); this module names
//! the versions the consumer writes.

pub use common::consumer_protocol::{Assignment, ConsumerProtocolError, Subscription};

/// The Subscription version we write: v1 carries owned partitions and every client in use
/// (Java, librdkafka, kafka-python) reads it.
pub const SUBSCRIPTION_VERSION: i16 = 1;
/// The Assignment version we write (v0 and v1 have the same fields).
pub const ASSIGNMENT_VERSION: i16 = 0;
