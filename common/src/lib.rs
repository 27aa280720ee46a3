//! Kafka's vocabulary, written down once for the whole workspace (the broker, the client library,
//! the command-line tools and zookeeper-lite). It follows Kafka's `org.apache.kafka.common`
//! package: each module names the Kafka class it mirrors. Nothing here does I/O: callers bring
//! the bytes, the stream and the file text; the two exceptions are reading the wall clock
//! (`time::now_ms`) and `logging::init`, which installs the servers' log subscriber on stderr.

pub mod config;
pub mod consumer_protocol;
pub mod errors;
pub mod ids;
pub mod logging;
pub mod properties;
pub mod record;
pub mod time;
pub mod topic;
pub mod topic_partition;
