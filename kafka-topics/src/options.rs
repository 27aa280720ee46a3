//! `TopicCommandOptions`: kafka-topics' options and the checks Kafka runs on them, in Kafka's
//! order, each failure as the [`Abort`] Kafka would take.

use cli::usage::{
    check_invalid_args, check_invalid_args_set, check_required_args, maybe_help_or_version,
};
use cli::{Abort, OptionError, OptionParser, ParsedOptions, ValueType};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    List,
    Describe,
    Alter,
    Delete,
}

/// Everything kafka-topics needs to run, after validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicOptions {
    pub action: Action,
    pub bootstrap_server: String,
    pub command_config: Option<String>,
    pub topic: Option<String>,
    pub topic_id: Option<String>,
    pub partitions: Option<i32>,
    pub replication_factor: Option<i32>,
    pub replica_assignment: Option<String>,
    pub configs: Vec<String>,
    pub if_exists: bool,
    pub if_not_exists: bool,
    pub exclude_internal: bool,
    pub under_replicated: bool,
    pub unavailable: bool,
    pub under_min_isr: bool,
    pub at_min_isr: bool,
    pub topics_with_overrides: bool,
    /// Lines Kafka prints on stdout while checking the options.
    pub notices: Vec<String>,
}

/// How option handling ends when the command cannot run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionsFailure {
    /// Stop before running, as Kafka does (usage, version, message on stderr).
    Abort(Abort),
    /// Kafka converts option values lazily inside the command, so a bad number surfaces as
    /// `Error while executing topic command : Cannot parse argument ...`.
    Command(String),
}

const ALTER_CONFIG_HINT: &str =
    " (the kafka-configs CLI supports altering topic configs with a --bootstrap-server option)";

pub fn parser() -> OptionParser {
    let mut p = OptionParser::new();
    p.accepts(
        "bootstrap-server",
        "REQUIRED: The Kafka server to connect to.",
    )
    .with_required_arg()
    .described_as("server to connect to");
    p.accepts("command-config", "Property file containing configs to be passed to Admin Client. This is used only with --bootstrap-server option for describing and altering broker configs.")
        .with_required_arg()
        .described_as("command config property file");
    p.accepts("list", "List all available topics.");
    p.accepts("create", "Create a new topic.");
    p.accepts("delete", "Delete a topic");
    p.accepts("alter", "Alter the number of partitions and replica assignment. Update the configuration of an existing topic via --alter is no longer supported here (the kafka-configs CLI supports altering topic configs with a --bootstrap-server option).");
    p.accepts("describe", "List details for the given topics.");
    p.accepts("topic", "The topic to create, alter, describe or delete. It also accepts a regular expression, except for --create option. Put topic name in double quotes and use the '\\' prefix to escape regular expression symbols; e.g. \"test\\.topic\".")
        .with_required_arg()
        .described_as("topic");
    p.accepts("topic-id", "The topic-id to describe.This is used only with --bootstrap-server option for describing topics.")
        .with_required_arg()
        .described_as("topic-id");
    p.accepts("config", "A topic configuration override for the topic being created. See the Kafka documentation for full details on the topic configs. It is supported only in combination with --create if --bootstrap-server option is used (the kafka-configs CLI supports altering topic configs with a --bootstrap-server option).")
        .with_required_arg()
        .described_as("name=value");
    p.repeatable("config");
    p.accepts("delete-config", "A topic configuration override to be removed for an existing topic (see the list of configurations under the --config option). Not supported with the --bootstrap-server option.")
        .with_required_arg()
        .described_as("name");
    p.repeatable("delete-config");
    p.accepts("partitions", "The number of partitions for the topic being created or altered (WARNING: If partitions are increased for a topic that has a key, the partition logic or ordering of the messages will be affected). If not supplied for create, defaults to the cluster default.")
        .with_required_arg()
        .described_as("# of partitions")
        .of_type(ValueType::Integer);
    p.accepts("replication-factor", "The replication factor for each partition in the topic being created. If not supplied, defaults to the cluster default.")
        .with_required_arg()
        .described_as("replication factor")
        .of_type(ValueType::Integer);
    p.accepts("replica-assignment", "A list of manual partition-to-broker assignments for the topic being created or altered.")
        .with_required_arg()
        .described_as("broker_id_for_part1_replica1 : broker_id_for_part1_replica2 , broker_id_for_part2_replica1 : broker_id_for_part2_replica2 , ...");
    p.accepts(
        "under-replicated-partitions",
        "if set when describing topics, only show under replicated partitions",
    );
    p.accepts(
        "unavailable-partitions",
        "if set when describing topics, only show partitions whose leader is not available",
    );
    p.accepts("under-min-isr-partitions", "if set when describing topics, only show partitions whose isr count is less than the configured minimum.");
    p.accepts("at-min-isr-partitions", "if set when describing topics, only show partitions whose isr count is equal to the configured minimum.");
    p.accepts(
        "topics-with-overrides",
        "if set when describing topics, only show topics that have overridden configs",
    );
    p.accepts("if-exists", "if set when altering or deleting or describing topics, the action will only execute if the topic exists.");
    p.accepts("if-not-exists", "if set when creating topics, the action will only execute if the topic does not already exist.");
    p.accepts("exclude-internal", "exclude internal topics when running list or describe command. The internal topics will be listed by default");
    p.accepts(
        "partition-size-limit-per-response",
        "The maximum partition size to be included in one DescribeTopicPartitions response.",
    )
    .with_required_arg()
    .described_as("maximum number of partitions per response")
    .of_type(ValueType::Integer);
    p
}

const ACTIONS: [&str; 5] = ["alter", "create", "describe", "list", "delete"];

/// `allTopicLevelOpts` minus `remove`, plus `add` (Kafka's `invalidOptions`).
fn invalid_options<'a>(add: &[&'a str], remove: &[&str]) -> Vec<&'a str> {
    let mut v: Vec<&'a str> = ACTIONS
        .iter()
        .copied()
        .filter(|a| !remove.contains(a))
        .collect();
    v.extend_from_slice(add);
    v
}

/// Parses and validates kafka-topics' arguments.
pub fn parse_args(args: &[String]) -> Result<TopicOptions, OptionsFailure> {
    let parser = parser();
    let opts = parser.parse(args).map_err(|e| match e {
        OptionError::Conversion { .. } => OptionsFailure::Command(e.to_string()),
        other => OptionsFailure::Abort(Abort::Fail(other.to_string())),
    })?;
    check(args.len(), &opts).map_err(OptionsFailure::Abort)
}

fn check(arg_count: usize, o: &ParsedOptions) -> Result<TopicOptions, Abort> {
    if arg_count == 0 {
        return Err(Abort::Usage(
            "Create, delete, describe, or change a topic.".into(),
        ));
    }
    maybe_help_or_version(
        arg_count,
        o,
        "This tool helps to create, delete, describe, or change a topic.",
    )?;
    let actions: Vec<&str> = ACTIONS.iter().copied().filter(|a| o.has(a)).collect();
    if actions.len() != 1 {
        return Err(Abort::Usage(
            "Command must include exactly one action: --list, --describe, --create, --alter or --delete".into(),
        ));
    }
    let mut notices = Vec::new();
    // checkRequiredArgs
    if !o.has("bootstrap-server") {
        return Err(Abort::Fail("--bootstrap-server must be specified".into()));
    }
    if o.has("describe") && o.has("if-exists") {
        if !o.has("topic") && !o.has("topic-id") {
            return Err(Abort::Usage(
                "--topic or --topic-id is required to describe a topic".into(),
            ));
        }
        if o.has("topic") && o.has("topic-id") {
            notices.push("Only topic id will be used when both --topic and --topic-id are specified and topicId is not Uuid.ZERO_UUID".to_string());
        }
    }
    if !o.has("list") && !o.has("describe") {
        check_required_args(o, &["topic"])?;
    }
    if o.has("alter") {
        check_invalid_args_set(
            o,
            &["bootstrap-server", "config"],
            &["alter"],
            ALTER_CONFIG_HINT,
        )?;
        check_required_args(o, &["partitions"])?;
    }
    // checkInvalidArgs
    check_invalid_args(o, "config", &invalid_options(&[], &["alter", "create"]))?;
    check_invalid_args(
        o,
        "delete-config",
        &invalid_options(&["bootstrap-server"], &["alter"]),
    )?;
    check_invalid_args(o, "partitions", &invalid_options(&[], &["alter", "create"]))?;
    check_invalid_args(o, "replication-factor", &invalid_options(&[], &["create"]))?;
    check_invalid_args(
        o,
        "replica-assignment",
        &invalid_options(&[], &["alter", "create"]),
    )?;
    if o.has("create") {
        check_invalid_args(
            o,
            "replica-assignment",
            &["partitions", "replication-factor"],
        )?;
    }
    for report in [
        "under-replicated-partitions",
        "under-min-isr-partitions",
        "at-min-isr-partitions",
        "unavailable-partitions",
    ] {
        check_invalid_args(
            o,
            report,
            &invalid_options(&["topics-with-overrides"], &["describe", report]),
        )?;
    }
    check_invalid_args(
        o,
        "topics-with-overrides",
        &invalid_options(
            &[
                "under-replicated-partitions",
                "under-min-isr-partitions",
                "at-min-isr-partitions",
                "unavailable-partitions",
            ],
            &["describe"],
        ),
    )?;
    check_invalid_args(
        o,
        "if-exists",
        &invalid_options(&[], &["alter", "delete", "describe"]),
    )?;
    check_invalid_args(o, "if-not-exists", &invalid_options(&[], &["create"]))?;
    check_invalid_args(
        o,
        "exclude-internal",
        &invalid_options(&[], &["list", "describe"]),
    )?;

    let action = match actions[0] {
        "create" => Action::Create,
        "list" => Action::List,
        "describe" => Action::Describe,
        "alter" => Action::Alter,
        _ => Action::Delete,
    };
    Ok(TopicOptions {
        action,
        bootstrap_server: o
            .value_of("bootstrap-server")
            .unwrap_or_default()
            .to_string(),
        command_config: o.value_of("command-config").map(str::to_string),
        topic: o.value_of("topic").map(str::to_string),
        topic_id: o.value_of("topic-id").map(str::to_string),
        partitions: o.int_of("partitions"),
        replication_factor: o.int_of("replication-factor"),
        replica_assignment: o
            .value_of("replica-assignment")
            .filter(|r| !r.is_empty())
            .map(str::to_string),
        configs: o
            .values_of("config")
            .into_iter()
            .map(str::to_string)
            .collect(),
        if_exists: o.has("if-exists"),
        if_not_exists: o.has("if-not-exists"),
        exclude_internal: o.has("exclude-internal"),
        under_replicated: o.has("under-replicated-partitions"),
        unavailable: o.has("unavailable-partitions"),
        under_min_isr: o.has("under-min-isr-partitions"),
        at_min_isr: o.has("at-min-isr-partitions"),
        topics_with_overrides: o.has("topics-with-overrides"),
        notices,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<TopicOptions, OptionsFailure> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        parse_args(&args)
    }

    fn usage(args: &[&str]) -> String {
        match run(args) {
            Err(OptionsFailure::Abort(Abort::Usage(m))) => m,
            other => panic!("expected usage, got {other:?}"),
        }
    }

    const BS: [&str; 2] = ["--bootstrap-server", "localhost:9092"];

    fn with_bs(rest: &[&'static str]) -> Vec<&'static str> {
        let mut v = BS.to_vec();
        v.extend_from_slice(rest);
        v
    }

    #[test]
    fn quickstart_create_with_single_dash_partitions() {
        let o = run(&with_bs(&[
            "--create",
            "--topic",
            "vmc-topic",
            "-partitions",
            "3",
            "--replication-factor",
            "1",
        ]))
        .unwrap();
        assert_eq!(o.action, Action::Create);
        assert_eq!(o.topic.as_deref(), Some("vmc-topic"));
        assert_eq!(o.partitions, Some(3));
        assert_eq!(o.replication_factor, Some(1));
    }

    #[test]
    fn no_args_and_help_print_usage() {
        assert_eq!(usage(&[]), "Create, delete, describe, or change a topic.");
        assert_eq!(
            usage(&["--help"]),
            "This tool helps to create, delete, describe, or change a topic."
        );
        assert_eq!(
            run(&["--version"]),
            Err(OptionsFailure::Abort(Abort::Version))
        );
    }

    #[test]
    fn exactly_one_action() {
        let m = "Command must include exactly one action: --list, --describe, --create, --alter or --delete";
        assert_eq!(usage(&with_bs(&[])), m);
        assert_eq!(usage(&with_bs(&["--list", "--describe"])), m);
    }

    #[test]
    fn missing_bootstrap_server() {
        assert_eq!(
            run(&["--list"]),
            Err(OptionsFailure::Abort(Abort::Fail(
                "--bootstrap-server must be specified".into()
            )))
        );
    }

    #[test]
    fn topic_required_for_create_alter_delete() {
        assert_eq!(
            usage(&with_bs(&["--create"])),
            "Missing required argument \"[topic]\""
        );
        assert_eq!(
            usage(&with_bs(&["--delete"])),
            "Missing required argument \"[topic]\""
        );
        assert!(run(&with_bs(&["--describe"])).is_ok());
    }

    #[test]
    fn alter_needs_partitions_and_rejects_config() {
        assert_eq!(
            usage(&with_bs(&["--alter", "--topic", "t"])),
            "Missing required argument \"[partitions]\""
        );
        assert_eq!(
            usage(&with_bs(&["--alter", "--topic", "t", "--config", "a=b", "--partitions", "2"])),
            "Option combination \"[bootstrap-server, config]\" can't be used with option \"[alter]\" (the kafka-configs CLI supports altering topic configs with a --bootstrap-server option)"
        );
    }

    #[test]
    fn invalid_combinations() {
        assert_eq!(
            usage(&with_bs(&["--list", "--partitions", "2"])),
            "Option \"[partitions]\" can't be used with option \"[list]\""
        );
        assert_eq!(
            usage(&with_bs(&[
                "--create",
                "--topic",
                "t",
                "--replica-assignment",
                "0",
                "--partitions",
                "1"
            ])),
            "Option \"[replica-assignment]\" can't be used with option \"[partitions]\""
        );
        assert_eq!(
            usage(&with_bs(&["--create", "--topic", "t", "--if-exists"])),
            "Option \"[if-exists]\" can't be used with option \"[create]\""
        );
        assert_eq!(
            usage(&with_bs(&["--describe", "--topics-with-overrides", "--unavailable-partitions"])),
            "Option \"[unavailable-partitions]\" can't be used with option \"[topics-with-overrides]\""
        );
        assert_eq!(
            usage(&with_bs(&[
                "--delete",
                "--topic",
                "t",
                "--exclude-internal"
            ])),
            "Option \"[exclude-internal]\" can't be used with option \"[delete]\""
        );
    }

    #[test]
    fn bad_partitions_number_is_a_command_error() {
        assert_eq!(
            run(&with_bs(&[
                "--create",
                "--topic",
                "t",
                "--partitions",
                "abc"
            ])),
            Err(OptionsFailure::Command(
                "Cannot parse argument 'abc' of option partitions".into()
            ))
        );
    }

    #[test]
    fn unknown_option_fails_without_usage() {
        assert_eq!(
            run(&with_bs(&["--list", "-partition", "3"])),
            Err(OptionsFailure::Abort(Abort::Fail(
                "p is not a recognized option".into()
            )))
        );
    }

    #[test]
    fn describe_if_exists_needs_a_topic() {
        assert_eq!(
            usage(&with_bs(&["--describe", "--if-exists"])),
            "--topic or --topic-id is required to describe a topic"
        );
    }
}
