//! `kafka-verifiable-producer`: Kafka 3.9's `org.apache.kafka.tools.VerifiableProducer` on our
//! client library, the producer Kafka's system tests drive. It sends increasing integers to a
//! topic and prints one JSON object per line on stdout for every event (`startup_complete`,
//! `producer_send_success` / `producer_send_error` per record, `shutdown_complete`, `tool_data`),
//! so that a test can see exactly which records were acknowledged. Options (argparse4j, as
//! `verifiable-producer` takes them) are in [`options`], the JSON lines in [`events`],
//! `ThroughputThrottler` is `cli::throttler`, and the run with its shutdown hook in [`run`].
//!
//! Deliberate differences from Kafka's tool:
//! - a stop by signal exits 0 (the JVM exits 128 + signal number after its shutdown hooks);
//! - `producer_send_success`'s `topic`, `partition`, `offset` come in that order, one of the
//!   orders Kafka's tool prints (Jackson takes them in the JVM's method order).

pub mod events;
pub mod options;
pub mod run;
