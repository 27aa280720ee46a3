//! Kafka 3.9's performance tools on our client library: `kafka-producer-perf-test`
//! ([`producer_perf`], `ProducerPerformance`), `kafka-consumer-perf-test` ([`consumer_perf`],
//! `ConsumerPerformance`) and `kafka-e2e-latency` ([`e2e_latency`], `EndToEndLatency`), with
//! Kafka's options and result lines on stdout so that runs compare line for line with Kafka's,
//! and an indicatif progress bar on stderr when it is a terminal.

pub mod consumer_perf;
pub mod date_format;
pub mod e2e_latency;
pub mod metrics;
pub mod producer_perf;
pub mod progress;
pub mod random;
pub mod stats;

use client::ClientError;

/// An exception as Kafka's tools print it: `class: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JavaException {
    pub class: String,
    pub message: String,
}

impl JavaException {
    pub fn new(class: impl Into<String>, message: impl Into<String>) -> Self {
        JavaException {
            class: class.into(),
            message: message.into(),
        }
    }

    /// The Java class Kafka's client would throw for `e`, with its message.
    pub fn from_client(e: &ClientError) -> Self {
        JavaException::new(cli::exception::exception_class(e), e.to_string())
    }

    /// `class: message` on stderr.
    pub fn print(&self) {
        eprintln!("{}: {}", self.class, self.message);
    }

    /// An exception escaping `main`: `Exception in thread "main" class: message` on stderr.
    /// Returns the exit code, 1.
    pub fn print_uncaught(&self) -> i32 {
        eprintln!(
            "Exception in thread \"main\" {}: {}",
            self.class, self.message
        );
        1
    }
}

/// Sets `key` in a client's properties (`Properties.put`): replaces its value in place, or adds
/// it at the end.
pub fn set_property(props: &mut Vec<(String, String)>, key: &str, value: &str) {
    match props.iter_mut().find(|(k, _)| k == key) {
        Some(entry) => entry.1 = value.to_string(),
        None => props.push((key.to_string(), value.to_string())),
    }
}

/// The arguments after the program name, as Strings.
pub fn args() -> Vec<String> {
    std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect()
}
