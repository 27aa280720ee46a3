//! Command-line plumbing shared by the Kafka tools (`kafka-topics`, the console producer and
//! consumer): a jopt-simple-like option parser (Kafka's tools parse with jopt-simple 5, whose
//! single-dash long options, argument rules and messages users and scripts depend on, which no
//! Rust argument crate reproduces), Kafka's `CommandLineUtils` checks, `.properties` files,
//! `key=value` lists, the tools' logging (`tool_log`), their shutdown signals (`signal`) and
//! tables in the column layout of Kafka's format strings (`table`).

pub mod exception;
pub mod help;
pub mod host_port;
pub mod parser;
pub mod properties;
pub mod signal;
pub mod spec;
pub mod table;
pub mod tool_log;
pub mod usage;

pub use host_port::validate_host_ports;
pub use parser::{OptionError, OptionParser, ParsedOptions};
pub use properties::{
    load_properties, parse_key_value_args, parse_properties, Properties, PropertiesError,
};
pub use spec::{ArgKind, OptionSpec, ValueType};
pub use usage::{Abort, KAFKA_VERSION};
