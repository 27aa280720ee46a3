//! Command-line plumbing shared by the Kafka tools (`kafka-topics`, `kafka-configs`,
//! `kafka-consumer-groups`, the console producer and consumer): their options parsed by clap
//! behind a layer that reads tokens as jopt-simple 5 does (`parser`: single-dash long options,
//! which token is an argument, abbreviations where the tool allows them, jopt's messages), Kafka's
//! `CommandLineUtils` checks and help layout, `.properties` files and `key=value` lists, the
//! admin tools' `--command-config` and runtime (`admin`), the tools' logging (`tool_log`), their
//! shutdown signals (`signal`) and tables in the column layout of Kafka's format strings
//! (`table`).

pub mod admin;
pub mod argparse;
pub mod exception;
pub mod help;
pub mod host_port;
pub mod parser;
pub mod properties;
pub mod signal;
pub mod spec;
pub mod table;
pub mod throttler;
pub mod tool_log;
pub mod usage;

pub use host_port::validate_host_ports;
pub use parser::{OptionError, OptionParser, ParsedOptions};
pub use properties::{
    load_properties, parse_key_value_args, parse_properties, Properties, PropertiesError,
};
pub use spec::{ArgKind, OptionSpec, ValueType};
pub use usage::{Abort, KAFKA_VERSION};
