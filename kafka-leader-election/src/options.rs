//! `LeaderElectionCommand.LeaderElectionCommandOptions`: kafka-leader-election's options, the
//! help and version checks, `validate`, and the values read in the order Kafka 3.9's `run` reads
//! them (the election type, then the JSON file, then `--topic` / `--partition`), each failure as
//! the exception Kafka's tool would throw.

use cli::usage::maybe_help_or_version;
use cli::{Abort, OptionError, OptionParser, ParsedOptions, ValueType};
use client::admin::ElectionType;

use crate::json_file;
use java_compat::JavaException;

/// `ElectionType`'s constants, as jopt's `EnumConverter` reads and shows them.
const ELECTION_TYPES: &[&str] = &["PREFERRED", "UNCLEAN"];

/// What `maybePrintHelpOrVersion` prints above the usage.
const HELP_MESSAGE: &str = "This tool attempts to elect a new leader for a set of topic partitions. The type of elections supported are preferred replicas and unclean replicas.";

/// Which partitions to elect leaders for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Partitions {
    /// `--all-topic-partitions`: every partition (sent as a null list).
    All,
    /// `--topic` and `--partition`, or the partitions of `--path-to-json-file`.
    Listed(Vec<(String, i32)>),
}

/// Everything the tool needs to run, after validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElectionOptions {
    pub bootstrap_server: String,
    pub admin_config: Option<String>,
    pub election_type: ElectionType,
    pub partitions: Partitions,
}

/// Why the tool stops before talking to the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// `--help`, no arguments, `--version`.
    Abort(Abort),
    /// An exception `mainNoExit` reports.
    Exception(JavaException),
}

impl From<JavaException> for Stop {
    fn from(e: JavaException) -> Self {
        Stop::Exception(e)
    }
}

fn jopt(e: OptionError) -> Stop {
    Stop::Exception(JavaException::new(e.java_class(), e.to_string()))
}

/// The option table, with Kafka's descriptions.
pub fn parser() -> OptionParser {
    let mut p = OptionParser::new();
    p.accepts("bootstrap-server", "A hostname and port for the broker to connect to, in the form host:port. Multiple comma separated URLs can be given. REQUIRED.")
        .with_required_arg()
        .described_as("host:port");
    p.accepts(
        "admin.config",
        "Configuration properties files to pass to the admin client",
    )
    .with_required_arg()
    .described_as("config file");
    p.accepts("path-to-json-file", "The JSON file with the list  of partition for which leader elections should be performed. This is an example format. \n{\"partitions\":\n\t[{\"topic\": \"foo\", \"partition\": 1},\n\t {\"topic\": \"foobar\", \"partition\": 2}]\n}\nNot allowed if --all-topic-partitions or --topic flags are specified.")
        .with_required_arg()
        .described_as("Path to JSON file");
    p.accepts("topic", "Name of topic for which to perform an election. Not allowed if --path-to-json-file or --all-topic-partitions is specified.")
        .with_required_arg()
        .described_as("topic name");
    p.accepts(
        "partition",
        "Partition id for which to perform an election. REQUIRED if --topic is specified.",
    )
    .with_required_arg()
    .described_as("partition id")
    .of_type(ValueType::Integer)
    .converted_on_read();
    p.accepts("all-topic-partitions", "Perform election on all of the eligible topic partitions based on the type of election (see the --election-type flag). Not allowed if --topic or --path-to-json-file is specified.");
    p.accepts("election-type", "Type of election to attempt. Possible values are \"preferred\" for preferred leader election or \"unclean\" for unclean leader election. If preferred election is selection, the election is only performed if the current leader is not the preferred leader for the topic partition. If unclean election is selected, the election is only performed if there are no leader for the topic partition. REQUIRED.")
        .with_required_arg()
        .described_as("election type")
        .of_type(ValueType::Enum(ELECTION_TYPES))
        .converted_on_read();
    p
}

/// Kafka's `validate`: the two required options, exactly one way of naming partitions, and
/// `--partition` with `--topic` only.
fn validate(o: &ParsedOptions) -> Result<(), JavaException> {
    let missing: Vec<&str> = ["bootstrap-server", "election-type"]
        .into_iter()
        .filter(|name| !o.has(name))
        .collect();
    if !missing.is_empty() {
        return Err(JavaException::admin_command_failed(format!(
            "Missing required option(s): {}",
            missing.join(", ")
        )));
    }
    let exclusive = ["topic", "all-topic-partitions", "path-to-json-file"];
    if exclusive.iter().filter(|name| o.has(name)).count() != 1 {
        return Err(JavaException::admin_command_failed(format!(
            "One and only one of the following options is required: {}",
            exclusive.join(", ")
        )));
    }
    if o.has("topic") && !o.has("partition") {
        return Err(JavaException::admin_command_failed(
            "Missing required option(s): partition",
        ));
    }
    if !o.has("topic") && o.has("partition") {
        return Err(JavaException::admin_command_failed(
            "Option partition is only allowed if topic is used",
        ));
    }
    Ok(())
}

/// Parses and validates the arguments; reads the JSON file named by `--path-to-json-file`.
pub fn parse_args(args: &[String]) -> Result<ElectionOptions, Stop> {
    let parser = parser();
    // jopt's OptionException escapes the options' constructor into `mainNoExit`.
    let o = parser.parse(args).map_err(jopt)?;
    maybe_help_or_version(args.len(), &o, HELP_MESSAGE).map_err(Stop::Abort)?;
    validate(&o)?;
    let election_type = match parser
        .converted_value_of(&o, "election-type")
        .map_err(jopt)?
    {
        Some(v) if v.eq_ignore_ascii_case("unclean") => ElectionType::Unclean,
        _ => ElectionType::Preferred,
    };
    let from_file = match o.value_of("path-to-json-file") {
        Some(path) => Some(json_file::read_replica_election_data(path)?),
        None => None,
    };
    let topic = o.value_of("topic");
    let partition = parser
        .converted_value_of(&o, "partition")
        .map_err(jopt)?
        .and_then(|p| p.parse::<i32>().ok());
    // `validate` leaves `--all-topic-partitions` as the only other case.
    let partitions = match (from_file, topic, partition) {
        (Some(listed), _, _) => Partitions::Listed(listed),
        (None, Some(topic), Some(partition)) => {
            Partitions::Listed(vec![(topic.to_string(), partition)])
        }
        _ => Partitions::All,
    };
    Ok(ElectionOptions {
        bootstrap_server: o
            .value_of("bootstrap-server")
            .unwrap_or_default()
            .to_string(),
        admin_config: o.value_of("admin.config").map(String::from),
        election_type,
        partitions,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<ElectionOptions, Stop> {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        parse_args(&args)
    }

    /// The exception's message, for a failed parse.
    fn failure(args: &[&str]) -> (String, String) {
        match parse(args) {
            Err(Stop::Exception(e)) => (e.class, e.message.unwrap_or_default()),
            other => panic!("expected an exception, got {other:?}"),
        }
    }

    const B: &str = "--bootstrap-server";

    #[test]
    fn the_three_ways_of_naming_partitions() {
        let o = parse(&[
            B,
            "h:9092",
            "--election-type",
            "preferred",
            "--all-topic-partitions",
        ])
        .unwrap();
        assert_eq!(o.election_type, ElectionType::Preferred);
        assert_eq!(o.partitions, Partitions::All);
        let o = parse(&[
            B,
            "h:9092",
            "--election-type",
            "UNCLEAN",
            "--topic",
            "t",
            "--partition",
            "3",
        ])
        .unwrap();
        assert_eq!(o.election_type, ElectionType::Unclean);
        assert_eq!(o.partitions, Partitions::Listed(vec![("t".into(), 3)]));
    }

    #[test]
    fn validation_failures_are_kafkas_admin_command_failed_exceptions() {
        let admin = java_compat::exception::ADMIN_COMMAND_FAILED.to_string();
        let cases: &[(&[&str], &str)] = &[
            (
                &["--all-topic-partitions"],
                "Missing required option(s): bootstrap-server, election-type",
            ),
            (
                &[B, "h:1", "--all-topic-partitions"],
                "Missing required option(s): election-type",
            ),
            (
                &[B, "h:1", "--election-type", "preferred"],
                "One and only one of the following options is required: topic, all-topic-partitions, path-to-json-file",
            ),
            (
                &[B, "h:1", "--election-type", "preferred", "--all-topic-partitions", "--topic", "t"],
                "One and only one of the following options is required: topic, all-topic-partitions, path-to-json-file",
            ),
            (
                &[B, "h:1", "--election-type", "preferred", "--topic", "t"],
                "Missing required option(s): partition",
            ),
            (
                &[B, "h:1", "--election-type", "preferred", "--all-topic-partitions", "--partition", "0"],
                "Option partition is only allowed if topic is used",
            ),
        ];
        for (args, message) in cases {
            assert_eq!(
                failure(args),
                (admin.clone(), message.to_string()),
                "{args:?}"
            );
        }
    }

    #[test]
    fn values_convert_when_read_after_validation() {
        let conversion = "joptsimple.OptionArgumentConversionException".to_string();
        assert_eq!(
            failure(&[
                B,
                "h:1",
                "--election-type",
                "clean",
                "--all-topic-partitions"
            ]),
            (
                conversion.clone(),
                "Cannot parse argument 'clean' of option election-type".into()
            )
        );
        assert_eq!(
            failure(&[
                B,
                "h:1",
                "--election-type",
                "preferred",
                "--topic",
                "t",
                "--partition",
                "x"
            ]),
            (
                conversion,
                "Cannot parse argument 'x' of option partition".into()
            )
        );
        // Validation comes first.
        assert_eq!(
            failure(&["--election-type", "clean", "--partition", "x"]).1,
            "Missing required option(s): bootstrap-server"
        );
        // And help before validation.
        assert!(matches!(
            parse(&["--election-type", "clean", "--help"]),
            Err(Stop::Abort(Abort::Usage(_)))
        ));
    }

    #[test]
    fn parse_errors_are_jopts_exceptions() {
        assert_eq!(
            failure(&["--bogus"]),
            (
                "joptsimple.UnrecognizedOptionException".into(),
                "bogus is not a recognized option".into()
            )
        );
        assert_eq!(
            failure(&[B]),
            (
                "joptsimple.OptionMissingRequiredArgumentException".into(),
                "Option bootstrap-server requires an argument".into()
            )
        );
    }

    #[test]
    fn help_shows_the_enum_pattern_and_kafkas_texts() {
        let help = parser().help();
        assert!(
            help.contains("--election-type <[PREFERRED,UNCLEAN]:"),
            "{help}"
        );
        assert!(
            help.contains("--partition <Integer: partition id>"),
            "{help}"
        );
        assert!(
            help.contains("--admin.config <String: config file>"),
            "{help}"
        );
        let (_, err) = Abort::Usage(HELP_MESSAGE.into()).render(&parser());
        assert!(err.starts_with("This tool attempts to elect a new leader"));
    }
}
