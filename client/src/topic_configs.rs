//! Kafka's topic config names and the broker configs this project's brokers change at run time,
//! for the tools' client-side checks and help texts (kafka-topics' `--config`, kafka-configs'
//! `--add-config`): the catalogue of `common::config`, the one the broker and zookeeper-lite use.

pub use common::config::{is_topic_config, topic_config_names, DYNAMIC_BROKER_CONFIGS};
