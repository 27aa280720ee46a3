//! `kafka-verifiable-consumer`: Kafka 3.9's `org.apache.kafka.tools.VerifiableConsumer` on our
//! client library, the group member Kafka's system tests drive. It prints one JSON object per
//! line on stdout for every event (`startup_complete`, `partitions_revoked` /
//! `partitions_assigned`, `records_consumed`, `record_data` with `--verbose`,
//! `offsets_committed`, `shutdown_complete`), so that a test can follow rebalances, what was
//! read and what was committed. Options (argparse4j, as `verifiable-consumer` takes them) are in
//! [`options`], the JSON lines in [`events`], the run in [`run`]. Rebalances come from the
//! client's `Consumer::take_rebalance_events` (Kafka's `ConsumerRebalanceListener`).
//!
//! Deliberate differences from Kafka's tool:
//! - a stop by signal exits 0 (the JVM exits 128 + signal number after its shutdown hooks);
//! - `--group-protocol consumer` (KIP-848) is not implemented by our client: see [`run`].

pub mod events;
pub mod options;
pub mod run;
