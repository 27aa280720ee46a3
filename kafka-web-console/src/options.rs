//! The console's command line, on our jopt-simple layer (`cli::parser`) with Kafka's option
//! names where Kafka has them (`--bootstrap-server`, `--command-config`).

use cli::usage::maybe_help_or_version;
use cli::{Abort, OptionParser, ValueType};

/// What `--help` prints above the option table.
const HELP_MESSAGE: &str = "A web console for a Kafka cluster: brokers, topics, messages and consumer groups, in a browser and as a JSON API.";

/// The port served when `--port` is not given.
pub const DEFAULT_PORT: u16 = 8080;
/// The address served when `--bind` is not given: loopback only, as the console can create and
/// delete topics and has no authentication of its own.
pub const DEFAULT_BIND: &str = "127.0.0.1";

/// Everything the console needs to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleOptions {
    pub bootstrap_server: String,
    /// 0 asks the system for a free port.
    pub port: u16,
    pub bind: String,
    pub command_config: Option<String>,
    /// Prometheus text endpoints (a broker's `/metrics`) to chart.
    pub metrics_urls: Vec<String>,
}

/// The option table.
pub fn parser() -> OptionParser {
    let mut p = OptionParser::new();
    p.accepts("bootstrap-server", "REQUIRED: The server(s) to connect to, in the form host:port. Multiple comma separated URLs can be given.")
        .with_required_arg()
        .described_as("server to connect to");
    p.accepts("command-config", "Property file containing configs to be passed to the admin client, the consumer and the producer of the console.")
        .with_required_arg()
        .described_as("command config property file");
    p.accepts(
        "port",
        "The HTTP port to serve the console on; 0 picks a free port.",
    )
    .with_required_arg()
    .described_as("port")
    .of_type(ValueType::Integer)
    .defaults_to("8080");
    p.accepts("bind", "The address to serve the console on. The default serves this machine only; use 0.0.0.0 to serve every interface (the console has no authentication).")
        .with_required_arg()
        .described_as("address")
        .defaults_to(DEFAULT_BIND);
    p.accepts("metrics-url", "A broker's Prometheus metrics endpoint (e.g. http://localhost:9404/metrics) whose message, byte and request rates the overview charts. May be given once per broker.")
        .with_required_arg()
        .described_as("url");
    p.repeatable("metrics-url");
    p
}

/// Parses the arguments; `Err` is the usage message (or `--version`) to print before exiting.
pub fn parse_args(args: &[String]) -> Result<ConsoleOptions, Abort> {
    let parser = parser();
    let o = parser
        .parse(args)
        .map_err(|e| Abort::Usage(e.to_string()))?;
    maybe_help_or_version(args.len(), &o, HELP_MESSAGE)?;
    // The console takes no positional arguments; a stray word is a typo (argparse4j's text).
    if let Some(first) = o.non_option_args().first() {
        return Err(Abort::Usage(format!("unrecognized arguments: '{first}'")));
    }
    let Some(bootstrap) = o.value_of("bootstrap-server") else {
        return Err(Abort::Usage(
            "Missing required argument \"[bootstrap-server]\"".to_string(),
        ));
    };
    let port = match o.value_of("port") {
        None => DEFAULT_PORT,
        Some(text) => text.trim().parse::<u16>().map_err(|_| {
            Abort::Usage(format!(
                "Invalid value {text} for option port: expected a port number (0-65535)"
            ))
        })?,
    };
    Ok(ConsoleOptions {
        bootstrap_server: bootstrap.to_string(),
        port,
        bind: o.value_of("bind").unwrap_or(DEFAULT_BIND).to_string(),
        command_config: o.value_of("command-config").map(str::to_string),
        metrics_urls: o
            .values_of("metrics-url")
            .into_iter()
            .map(str::to_string)
            .collect(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn defaults_serve_loopback_on_8080() {
        let o = parse_args(&args(&["--bootstrap-server", "localhost:9092"])).unwrap();
        assert_eq!(o.port, 8080);
        assert_eq!(o.bind, "127.0.0.1");
        assert!(o.metrics_urls.is_empty());
        assert_eq!(o.command_config, None);
    }

    #[test]
    fn metrics_urls_repeat_and_port_zero_is_allowed() {
        let o = parse_args(&args(&[
            "--bootstrap-server",
            "b:9092",
            "--port",
            "0",
            "--bind",
            "0.0.0.0",
            "--metrics-url",
            "http://a/metrics",
            "--metrics-url",
            "http://b/metrics",
        ]))
        .unwrap();
        assert_eq!(o.port, 0);
        assert_eq!(o.bind, "0.0.0.0");
        assert_eq!(o.metrics_urls, vec!["http://a/metrics", "http://b/metrics"]);
    }

    #[test]
    fn bootstrap_server_is_required_and_ports_are_checked() {
        assert!(matches!(
            parse_args(&args(&["--port", "1"])),
            Err(Abort::Usage(m)) if m.contains("bootstrap-server")
        ));
        assert!(parse_args(&args(&["--bootstrap-server", "b:1", "--port", "70000"])).is_err());
        assert!(matches!(parse_args(&[]), Err(Abort::Usage(_))));
    }

    #[test]
    fn a_stray_positional_argument_is_an_error() {
        assert!(matches!(
            parse_args(&args(&["--bootstrap-server", "b:1", "8080"])),
            Err(Abort::Usage(m)) if m == "unrecognized arguments: '8080'"
        ));
    }
}
