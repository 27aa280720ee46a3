//! The Java behaviours that show through in what Kafka's tools print, for the tools that mirror
//! them (kafka-log-dirs, kafka-delete-records, kafka-get-offsets): the iteration order of
//! `HashMap` / `HashSet` (Kafka's tools print their results in it) and the way a tool's
//! `mainNoExit` reports an exception (its message, then the stack trace's lines naming what was
//! thrown). No I/O, no dependencies.

pub mod exception;
pub mod order;

pub use exception::JavaException;
