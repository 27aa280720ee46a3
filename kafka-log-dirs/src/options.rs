//! `LogDirsCommand.LogDirsCommandOptions`: kafka-log-dirs' options with Kafka 3.9's texts, the
//! help and version checks and `checkRequiredArgs(bootstrap-server, describe)`.

use cli::usage::{check_required_args, maybe_help_or_version};
use cli::{Abort, OptionError, OptionParser};
use java_compat::JavaException;

/// What `maybePrintHelpOrVersion` prints above the usage.
pub const HELP_MESSAGE: &str =
    "This tool helps to query log directory usage on the specified brokers.";

/// The options once checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogDirsOptions {
    pub bootstrap_server: String,
    pub command_config: Option<String>,
    /// `--topic-list` as given ("" when absent).
    pub topic_list: String,
    /// `--broker-list` as given ("" when absent).
    pub broker_list: String,
}

/// Why the tool stops before talking to the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    Abort(Abort),
    /// jopt's exception, which escapes the options' constructor into `mainNoExit`.
    Exception(JavaException),
}

fn jopt(e: OptionError) -> Stop {
    Stop::Exception(JavaException::new(e.java_class(), e.to_string()))
}

/// The option table, with Kafka's descriptions.
pub fn parser() -> OptionParser {
    let mut p = OptionParser::new();
    p.accepts(
        "bootstrap-server",
        "REQUIRED: the server(s) to use for bootstrapping",
    )
    .with_required_arg()
    .described_as("The server(s) to use for bootstrapping");
    p.accepts(
        "command-config",
        "Property file containing configs to be passed to Admin Client.",
    )
    .with_required_arg()
    .described_as("Admin client property file");
    p.accepts(
        "describe",
        "Describe the specified log directories on the specified brokers.",
    );
    p.accepts("topic-list", "The list of topics to be queried in the form \"topic1,topic2,topic3\". All topics will be queried if no topic list is specified")
        .with_required_arg()
        .described_as("Topic list")
        .defaults_to("");
    p.accepts("broker-list", "The list of brokers to be queried in the form \"0,1,2\". All brokers in the cluster will be queried if no broker list is specified")
        .with_required_arg()
        .described_as("Broker list")
        .defaults_to("");
    p
}

/// Parses and checks the arguments.
pub fn parse_args(args: &[String]) -> Result<LogDirsOptions, Stop> {
    let o = parser().parse(args).map_err(jopt)?;
    maybe_help_or_version(args.len(), &o, HELP_MESSAGE).map_err(Stop::Abort)?;
    check_required_args(&o, &["bootstrap-server", "describe"]).map_err(Stop::Abort)?;
    Ok(LogDirsOptions {
        bootstrap_server: o
            .value_of("bootstrap-server")
            .unwrap_or_default()
            .to_string(),
        command_config: o.value_of("command-config").map(String::from),
        topic_list: o.value_of("topic-list").unwrap_or_default().to_string(),
        broker_list: o.value_of("broker-list").unwrap_or_default().to_string(),
    })
}

/// Java's `String.split(",")` without the empty pieces (`splitAtCommasAndFilterOutEmpty`).
fn split(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').filter(|x| !x.is_empty())
}

impl LogDirsOptions {
    /// `topics()`: the topics asked about, empty for all.
    pub fn topics(&self) -> Vec<String> {
        let mut topics: Vec<String> = split(&self.topic_list).map(String::from).collect();
        topics.sort();
        topics.dedup();
        topics
    }

    /// `brokers()`, distinct and in the order given, or the piece `Integer.valueOf` refuses.
    pub fn brokers(&self) -> Result<Vec<i32>, String> {
        let mut out: Vec<i32> = Vec::new();
        for piece in split(&self.broker_list) {
            let id: i32 = piece.parse().map_err(|_| piece.to_string())?;
            if !out.contains(&id) {
                out.push(id);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<LogDirsOptions, Stop> {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        parse_args(&args)
    }

    #[test]
    fn describe_and_bootstrap_server_are_required() {
        for (args, missing) in [
            (vec!["--describe"], "bootstrap-server"),
            (vec!["--bootstrap-server", "h:1"], "describe"),
        ] {
            match parse(&args) {
                Err(Stop::Abort(Abort::Usage(m))) => {
                    assert_eq!(m, format!("Missing required argument \"[{missing}]\""))
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(
            parse(&[]),
            Err(Stop::Abort(Abort::Usage(HELP_MESSAGE.to_string())))
        );
    }

    #[test]
    fn lists_split_at_commas_without_empty_pieces() {
        let o = parse(&[
            "--bootstrap-server",
            "h:1",
            "--describe",
            "--broker-list",
            "2,,0,2",
            "--topic-list",
            "b,a,,b",
        ])
        .unwrap();
        assert_eq!(o.brokers(), Ok(vec![2, 0]));
        assert_eq!(o.topics(), vec!["a", "b"]);
        let o = parse(&[
            "--bootstrap-server",
            "h:1",
            "--describe",
            "--broker-list",
            "1,x",
        ])
        .unwrap();
        assert_eq!(o.brokers(), Err("x".to_string()));
    }

    #[test]
    fn unknown_options_are_jopts_exception() {
        match parse(&["--describe", "--bogus"]) {
            Err(Stop::Exception(e)) => {
                assert_eq!(e.class, "joptsimple.UnrecognizedOptionException");
                assert_eq!(
                    e.message.as_deref(),
                    Some("bogus is not a recognized option")
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
