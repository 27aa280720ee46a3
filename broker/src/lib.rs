//! The broker: serves the Kafka wire protocol to clients, stores partition logs on disk, and keeps
//! its view of the cluster (brokers, topics, leaders) from zookeeper-lite.
//!
//! `net` frames and dispatches requests, `handlers` answers them (one file per API family) over the
//! shared state in `broker`, `server` runs the lifecycle and background tasks, `log`
//! is the storage contract (`log::cleaner` compacts logs, `compaction` runs it), `partitions` the set of logs this broker hosts, `cluster` the link to
//! zookeeper-lite, `topic_config` what topic and dynamic broker configs mean for the logs,
//! `metrics` the Prometheus metrics and their `/metrics` listener,
//! `config` the server.properties keys (which configs we act on is the catalogue's
//! `common::config::support`), `meta_properties` the identity file of each log directory.

pub mod broker;
pub mod cluster;
pub mod compaction;
pub mod config;
pub mod group;
pub mod handlers;
pub mod log;
pub mod meta_properties;
pub mod metrics;
pub mod net;
pub mod partitions;
pub mod replica;
pub mod server;
pub mod topic_config;
pub mod txn;
