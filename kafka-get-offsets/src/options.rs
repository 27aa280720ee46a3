//! `GetOffsetShell.GetOffsetShellOptions`: kafka-get-offsets' options with Kafka 3.9's texts and
//! the checks its constructor makes: no arguments prints the usage, a jopt failure (an unknown
//! option, `--bootstrap-server` missing without `--broker-list`) is a `TerseException`, and a
//! bootstrap list without ports prints the usage with `ToolsUtils.validateBootstrapServer`'s text.

use cli::usage::maybe_help_or_version;
use cli::{Abort, OptionParser};

/// `GetOffsetShell.USAGE_TEXT`.
pub const USAGE_TEXT: &str = "An interactive shell for getting topic-partition offsets.";
/// `GetOffsetShell.TOPIC_PARTITION_PATTERN`.
pub const TOPIC_PARTITION_PATTERN: &str = "([^:,]*)(?::(?:([0-9]*)|(?:([0-9]*)-([0-9]*))))?";

/// The options once checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetOffsetsOptions {
    /// `--bootstrap-server`, else the deprecated `--broker-list`.
    pub bootstrap_server: String,
    pub topic_partitions: Option<String>,
    pub topic: Option<String>,
    pub partitions: Option<String>,
    /// `--time`, "latest" by default.
    pub time: String,
    pub command_config: Option<String>,
    pub exclude_internal_topics: bool,
}

/// Why the tool stops before doing its work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    Abort(Abort),
    /// A `TerseException`'s message ("Error occurred: " is added when printed).
    Terse(String),
}

/// The option table, with Kafka's descriptions.
pub fn parser() -> OptionParser {
    let mut p = OptionParser::new();
    p.accepts("broker-list", "DEPRECATED, use --bootstrap-server instead; ignored if --bootstrap-server is specified. The server(s) to connect to in the form HOST1:PORT1,HOST2:PORT2.")
        .with_required_arg()
        .described_as("HOST1:PORT1,...,HOST3:PORT3");
    p.accepts(
        "bootstrap-server",
        "REQUIRED. The server(s) to connect to in the form HOST1:PORT1,HOST2:PORT2.",
    )
    .required_unless("broker-list")
    .with_required_arg()
    .described_as("HOST1:PORT1,...,HOST3:PORT3");
    p.accepts("topic-partitions", &format!("Comma separated list of topic-partition patterns to get the offsets for, with the format of '{TOPIC_PARTITION_PATTERN}'. The first group is an optional regex for the topic name, if omitted, it matches any topic name. The section after ':' describes a 'partition' pattern, which can be: a number, a range in the format of 'NUMBER-NUMBER' (lower inclusive, upper exclusive), an inclusive lower bound in the format of 'NUMBER-', an exclusive upper bound in the format of '-NUMBER' or may be omitted to accept all partitions."))
        .with_required_arg()
        .described_as("topic1:1,topic2:0-3,topic3,topic4:5-,topic5:-3");
    p.accepts("topic", "The topic to get the offsets for. It also accepts a regular expression. If not present, all authorized topics are queried. Cannot be used if --topic-partitions is present.")
        .with_required_arg()
        .described_as("topic");
    p.accepts("partitions", "Comma separated list of partition ids to get the offsets for. If not present, all partitions of the authorized topics are queried. Cannot be used if --topic-partitions is present.")
        .with_required_arg()
        .described_as("partition ids");
    p.accepts("time", "timestamp of the offsets before that. [Note: No offset is returned, if the timestamp greater than recently committed record timestamp is given.]")
        .with_required_arg()
        .described_as("<timestamp> / -1 or latest / -2 or earliest / -3 or max-timestamp / -4 or earliest-local / -5 or latest-tiered")
        .defaults_to("latest");
    p.accepts(
        "command-config",
        "Property file containing configs to be passed to Admin Client.",
    )
    .with_required_arg()
    .described_as("config file");
    p.accepts(
        "exclude-internal-topics",
        "By default, internal topics are included. If specified, internal topics are excluded.",
    );
    p
}

/// `ToolsUtils.validateBootstrapServer`: the message of its `IllegalArgumentException`.
fn validate_bootstrap_server(list: &str) -> Result<(), String> {
    if list.trim().is_empty() {
        return Err("Error while validating the bootstrap address\n".to_string());
    }
    if !cli::validate_host_ports(list) {
        return Err("Please provide valid host:port like host1:9091,host2:9092\n".to_string());
    }
    Ok(())
}

/// Parses and checks the arguments as the options' constructor does.
pub fn parse_args(args: &[String]) -> Result<GetOffsetsOptions, Stop> {
    let parser = parser();
    if args.is_empty() {
        return Err(Stop::Abort(Abort::Usage(USAGE_TEXT.to_string())));
    }
    let o = parser.parse(args).map_err(|e| Stop::Terse(e.to_string()))?;
    let effective = if o.has("bootstrap-server") {
        "bootstrap-server"
    } else {
        "broker-list"
    };
    maybe_help_or_version(args.len(), &o, USAGE_TEXT).map_err(Stop::Abort)?;
    cli::usage::check_required_args(&o, &[effective]).map_err(Stop::Abort)?;
    let bootstrap_server = o.value_of(effective).unwrap_or_default().to_string();
    validate_bootstrap_server(&bootstrap_server).map_err(|m| Stop::Abort(Abort::Usage(m)))?;
    Ok(GetOffsetsOptions {
        bootstrap_server,
        topic_partitions: o.value_of("topic-partitions").map(String::from),
        topic: o.value_of("topic").map(String::from),
        partitions: o.value_of("partitions").map(String::from),
        time: o.value_of("time").unwrap_or("latest").to_string(),
        command_config: o.value_of("command-config").map(String::from),
        exclude_internal_topics: o.has("exclude-internal-topics"),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<GetOffsetsOptions, Stop> {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        parse_args(&args)
    }

    #[test]
    fn bootstrap_server_or_the_deprecated_broker_list() {
        let o = parse(&["--bootstrap-server", "a:1", "--broker-list", "b:2"]).unwrap();
        assert_eq!(o.bootstrap_server, "a:1");
        assert_eq!(o.time, "latest");
        let o = parse(&["--broker-list", "b:2"]).unwrap();
        assert_eq!(o.bootstrap_server, "b:2");
        assert_eq!(
            parse(&["--topic", "t"]),
            Err(Stop::Terse(
                "Missing required option(s) [bootstrap-server]".into()
            ))
        );
        assert_eq!(
            parse(&["--bootstrap-server", "a:1", "--bogus"]),
            Err(Stop::Terse("bogus is not a recognized option".into()))
        );
    }

    #[test]
    fn bootstrap_lists_need_ports() {
        assert_eq!(
            parse(&["--bootstrap-server", "localhost"]),
            Err(Stop::Abort(Abort::Usage(
                "Please provide valid host:port like host1:9091,host2:9092\n".into()
            )))
        );
        assert_eq!(
            parse(&["--bootstrap-server", " "]),
            Err(Stop::Abort(Abort::Usage(
                "Error while validating the bootstrap address\n".into()
            )))
        );
    }

    #[test]
    fn no_arguments_print_the_usage() {
        assert_eq!(
            parse(&[]),
            Err(Stop::Abort(Abort::Usage(USAGE_TEXT.into())))
        );
        let help = parser().help();
        assert!(help.contains("(default: latest)"), "{help}");
    }
}
