//! `ConsumerGroupCommandOptions`: kafka-consumer-groups' options and the checks Kafka runs on them
//! (`checkArgs`, then the one-action check of `main`), each failure as the [`Abort`] Kafka takes.

use cli::usage::{check_invalid_args, check_required_args, maybe_help_or_version};
use cli::{Abort, OptionError, OptionParser, ParsedOptions, ValueType};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    List,
    Describe,
    Delete,
    ResetOffsets,
    DeleteOffsets,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DescribeView {
    Offsets,
    Members,
    State,
}

/// A `--reset-offsets` scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scenario {
    ToOffset(i64),
    ToDatetime(String),
    ByDuration(String),
    ToEarliest,
    ToLatest,
    ToCurrent,
    ShiftBy(i64),
    FromFile(String),
}

/// Everything kafka-consumer-groups needs to run, after validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupOptions {
    pub action: Action,
    pub bootstrap_server: String,
    pub command_config: Option<String>,
    pub groups: Vec<String>,
    pub all_groups: bool,
    pub topics: Vec<String>,
    pub all_topics: bool,
    pub view: DescribeView,
    pub verbose: bool,
    /// `--list --state [s1,s2]`: Some (possibly empty) when `--state` was given.
    pub list_states: Option<Vec<String>>,
    /// `--list --type [t1,t2]`: Some (possibly empty) when `--type` was given.
    pub list_types: Option<Vec<String>>,
    pub scenario: Option<Scenario>,
    pub execute: bool,
    pub export: bool,
    pub timeout_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionsFailure {
    Abort(Abort),
    /// jopt converts values lazily inside `run`, so a bad number is a command failure
    /// (`Error: Executing consumer group command failed due to Cannot parse argument ...`).
    Command(String),
}

pub const EXECUTE_MISSING_WARNING: &str = "WARN: No action will be performed as the --execute option is missing.In a future major release, the default behavior of this command will be to prompt the user before executing the reset rather than doing a dry run. You should add the --dry-run option explicitly if you are scripting this command and want to keep the current default behavior without prompting.";

pub fn parser() -> OptionParser {
    let mut p = OptionParser::new();
    p.accepts("bootstrap-server", "REQUIRED: The server(s) to connect to.")
        .with_required_arg()
        .described_as("server to connect to");
    p.accepts("group", "The consumer group we wish to act on.")
        .with_required_arg()
        .described_as("consumer group");
    p.repeatable("group");
    p.accepts("topic", "The topic whose consumer group information should be deleted or topic whose should be included in the reset offset process. In `reset-offsets` case, partitions can be specified using this format: `topic1:0,1,2`, where 0,1,2 are the partition to be included in the process. Reset-offsets also supports multiple topic inputs.")
        .with_required_arg()
        .described_as("topic");
    p.repeatable("topic");
    p.accepts(
        "all-topics",
        "Consider all topics assigned to a group in the `reset-offsets` process.",
    );
    p.accepts("list", "List all consumer groups.");
    p.accepts("describe", "Describe consumer group and list offset lag (number of messages not yet processed) related to given group.");
    p.accepts("all-groups", "Apply to all consumer groups.");
    p.accepts("delete", "Pass in groups to delete topic partition offsets and ownership information over the entire consumer group. For instance --group g1 --group g2");
    p.accepts("timeout", "The timeout that can be set for some use cases. For example, it can be used when describing the group to specify the maximum amount of time in milliseconds to wait before the group stabilizes (when the group is just created, or is going through some changes).")
        .with_required_arg()
        .described_as("timeout (ms)")
        .of_type(ValueType::Long)
        .defaults_to("5000");
    p.accepts(
        "command-config",
        "Property file containing configs to be passed to Admin Client and Consumer.",
    )
    .with_required_arg()
    .described_as("command config property file");
    p.accepts("reset-offsets", "Reset offsets of consumer group. Supports one consumer group at the time, and instances should be inactive\nHas 2 execution options: --dry-run (the default) to plan which offsets to reset, and --execute to update the offsets. Additionally, the --export option is used to export the results to a CSV format.\nYou must choose one of the following reset specifications: --to-datetime, --by-duration, --to-earliest, --to-latest, --shift-by, --from-file, --to-current, --to-offset.\nTo define the scope use --all-topics or --topic. One scope must be specified unless you use '--from-file'.");
    p.accepts("dry-run", "Only show results without executing changes on Consumer Groups. Supported operations: reset-offsets.");
    p.accepts(
        "execute",
        "Execute operation. Supported operations: reset-offsets.",
    );
    p.accepts(
        "export",
        "Export operation execution to a CSV file. Supported operations: reset-offsets.",
    );
    p.accepts("to-offset", "Reset offsets to a specific offset.")
        .with_required_arg()
        .described_as("offset")
        .of_type(ValueType::Long);
    p.accepts("from-file", "Reset offsets to values defined in CSV file.")
        .with_required_arg()
        .described_as("path to CSV file");
    p.accepts(
        "to-datetime",
        "Reset offsets to offset from datetime. Format: 'YYYY-MM-DDTHH:mm:SS.sss'",
    )
    .with_required_arg()
    .described_as("datetime");
    p.accepts(
        "by-duration",
        "Reset offsets to offset by duration from current timestamp. Format: 'PnDTnHnMnS'",
    )
    .with_required_arg()
    .described_as("duration");
    p.accepts("to-earliest", "Reset offsets to earliest offset.");
    p.accepts("to-latest", "Reset offsets to latest offset.");
    p.accepts("to-current", "Reset offsets to current offset.");
    p.accepts(
        "shift-by",
        "Reset offsets shifting current offset by 'n', where 'n' can be positive or negative.",
    )
    .with_required_arg()
    .described_as("number-of-offsets")
    .of_type(ValueType::Long);
    p.accepts("members", "Describe members of the group. This option may be used with '--describe' and '--bootstrap-server' options only.\nExample: --bootstrap-server localhost:9092 --describe --group group1 --members");
    p.accepts("verbose", "Provide additional information, if any, when describing the group. This option may be used with '--offsets'/'--members'/'--state' and '--bootstrap-server' options only.\nExample: --bootstrap-server localhost:9092 --describe --group group1 --members --verbose");
    p.accepts("offsets", "Describe the group and list all topic partitions in the group along with their offset lag. This is the default sub-action of and may be used with '--describe' and '--bootstrap-server' options only.\nExample: --bootstrap-server localhost:9092 --describe --group group1 --offsets");
    p.accepts("state", "When specified with '--describe', includes the state of the group.\nExample: --bootstrap-server localhost:9092 --describe --group group1 --state\nWhen specified with '--list', it displays the state of all groups. It can also be used to list groups with specific states.\nExample: --bootstrap-server localhost:9092 --list --state stable,empty\nThis option may be used with '--describe', '--list' and '--bootstrap-server' options only.")
        .with_optional_arg();
    p.accepts("delete-offsets", "Delete offsets of consumer group. Supports one consumer group at the time, and multiple topics.");
    p.accepts("type", "When specified with '--list', it displays the types of all the groups. It can also be used to list groups with specific types.\nExample: --bootstrap-server localhost:9092 --list --type classic,consumer\nThis option may be used with the '--list' option only.")
        .with_optional_arg();
    p
}

const SCENARIOS: [&str; 8] = [
    "to-offset",
    "to-datetime",
    "by-duration",
    "to-earliest",
    "to-latest",
    "to-current",
    "shift-by",
    "from-file",
];

/// jopt's `availableIf`: options that only make sense with one of some actions.
const AVAILABLE_IF: [(&str, &[&str]); 5] = [
    ("members", &["describe"]),
    ("offsets", &["describe"]),
    ("verbose", &["describe"]),
    ("state", &["describe", "list"]),
    ("type", &["list"]),
];

pub const VALID_STATES: [&str; 8] = [
    "Unknown",
    "PreparingRebalance",
    "CompletingRebalance",
    "Stable",
    "Dead",
    "Empty",
    "Assigning",
    "Reconciling",
];

fn comma_list(value: Option<&str>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Parses and validates kafka-consumer-groups' arguments. `warnings` receives what Kafka prints
/// on stderr while checking (the missing `--execute` warning).
pub fn parse_args(
    args: &[String],
    warnings: &mut Vec<String>,
) -> Result<GroupOptions, OptionsFailure> {
    let parser = parser();
    let opts = parser.parse(args).map_err(|e| match e {
        OptionError::Conversion { .. } => OptionsFailure::Command(e.to_string()),
        other => OptionsFailure::Abort(Abort::Fail(other.to_string())),
    })?;
    for (option, actions) in AVAILABLE_IF {
        if opts.has(option) && !actions.iter().any(|a| opts.has(a)) {
            return Err(OptionsFailure::Abort(Abort::Fail(format!(
                "Option(s) [{option}] are unavailable given other options on the command line"
            ))));
        }
    }
    check(args.len(), &opts, warnings).map_err(OptionsFailure::Abort)
}

fn usage(message: impl Into<String>) -> Abort {
    Abort::Usage(message.into())
}

fn check(
    arg_count: usize,
    o: &ParsedOptions,
    warnings: &mut Vec<String>,
) -> Result<GroupOptions, Abort> {
    maybe_help_or_version(arg_count, o, "This tool helps to list all consumer groups, describe a consumer group, delete consumer group info, or reset consumer group offsets.")?;
    check_required_args(o, &["bootstrap-server"])?;
    let group_scope = "[[group], [all-groups]]";
    let has_scope = o.has("group") || o.has("all-groups");
    if o.has("describe") {
        if !has_scope {
            return Err(usage(format!(
                "Option [describe] takes one of these options: {group_scope}"
            )));
        }
        let views = ["members", "offsets", "state"]
            .iter()
            .filter(|v| o.has(v))
            .count();
        if views > 1 {
            return Err(usage("Option [describe] takes at most one of these options: [[members], [offsets], [state]]"));
        }
        if o.has("state") && o.value_of("state").is_some() {
            return Err(usage("Option [describe] does not take a value for [state]"));
        }
    }
    if o.has("delete") {
        if !has_scope {
            return Err(usage(format!(
                "Option [delete] takes one of these options: {group_scope}"
            )));
        }
        if o.has("topic") {
            return Err(usage("The consumer does not support topic-specific offset deletion from a consumer group."));
        }
    }
    if o.has("delete-offsets") && (!o.has("group") || !o.has("topic")) {
        return Err(usage(
            "Option [delete-offsets] takes the following options: [[group], [topic]]",
        ));
    }
    if o.has("reset-offsets") {
        if o.has("dry-run") && o.has("execute") {
            return Err(usage(
                "Option [reset-offsets] only accepts one of [execute] and [dry-run]",
            ));
        }
        if !o.has("dry-run") && !o.has("execute") {
            warnings.push(EXECUTE_MISSING_WARNING.to_string());
        }
        if !has_scope {
            return Err(usage(format!(
                "Option [reset-offsets] takes one of these options: {group_scope}"
            )));
        }
        for s in SCENARIOS {
            let others: Vec<&str> = SCENARIOS.iter().copied().filter(|x| *x != s).collect();
            check_invalid_args(o, s, &others)?;
        }
    }
    check_invalid_args(o, "group", &["all-groups"])?;
    check_invalid_args(o, "group", &["list"])?;
    check_invalid_args(o, "topic", &["list", "describe"])?;

    let actions: Vec<Action> = [
        ("list", Action::List),
        ("describe", Action::Describe),
        ("delete", Action::Delete),
        ("reset-offsets", Action::ResetOffsets),
        ("delete-offsets", Action::DeleteOffsets),
    ]
    .iter()
    .filter(|(name, _)| o.has(name))
    .map(|(_, a)| *a)
    .collect();
    if actions.len() != 1 {
        return Err(usage("Command must include exactly one action: --list, --describe, --delete, --reset-offsets, --delete-offsets"));
    }
    let action = actions[0];

    let scenario = if action == Action::ResetOffsets {
        let s = if let Some(v) = o.long_of("to-offset") {
            Scenario::ToOffset(v)
        } else if let Some(v) = o.value_of("to-datetime") {
            Scenario::ToDatetime(v.to_string())
        } else if let Some(v) = o.value_of("by-duration") {
            Scenario::ByDuration(v.to_string())
        } else if o.has("to-earliest") {
            Scenario::ToEarliest
        } else if o.has("to-latest") {
            Scenario::ToLatest
        } else if o.has("to-current") {
            Scenario::ToCurrent
        } else if let Some(v) = o.long_of("shift-by") {
            Scenario::ShiftBy(v)
        } else if let Some(v) = o.value_of("from-file") {
            Scenario::FromFile(v.to_string())
        } else {
            return Err(usage(format!(
                "Option '[reset-offsets]' requires one of the following scenarios: [{}]",
                SCENARIOS
                    .iter()
                    .map(|s| format!("[{s}]"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        if !o.has("all-topics") && !o.has("topic") && !matches!(s, Scenario::FromFile(_)) {
            return Err(usage(
                "One of the reset scopes should be defined: --all-topics, --topic.",
            ));
        }
        Some(s)
    } else {
        None
    };

    let list_states = if action == Action::List && o.has("state") {
        let states = comma_list(o.value_of("state"));
        let mut canonical = Vec::new();
        for s in &states {
            match VALID_STATES.iter().find(|v| v.eq_ignore_ascii_case(s)) {
                Some(v) => canonical.push(v.to_string()),
                None => {
                    return Err(usage(format!(
                        "Invalid state list '{}'. Valid states are: {}",
                        states.join(","),
                        VALID_STATES.join(", ")
                    )))
                }
            }
        }
        Some(canonical)
    } else {
        None
    };
    let list_types = if o.has("type") {
        let types = comma_list(o.value_of("type"));
        let mut canonical = Vec::new();
        for t in &types {
            let lower = t.to_ascii_lowercase();
            if lower != "classic" && lower != "consumer" {
                return Err(usage(format!(
                    "Invalid types list '{}'. Valid types are: classic, consumer",
                    types.join(",")
                )));
            }
            canonical.push(lower);
        }
        Some(canonical)
    } else {
        None
    };

    let view = if o.has("members") {
        DescribeView::Members
    } else if o.has("state") {
        DescribeView::State
    } else {
        DescribeView::Offsets
    };
    Ok(GroupOptions {
        action,
        bootstrap_server: o
            .value_of("bootstrap-server")
            .unwrap_or_default()
            .to_string(),
        command_config: o.value_of("command-config").map(str::to_string),
        groups: o
            .values_of("group")
            .into_iter()
            .map(str::to_string)
            .collect(),
        all_groups: o.has("all-groups"),
        topics: o
            .values_of("topic")
            .into_iter()
            .map(str::to_string)
            .collect(),
        all_topics: o.has("all-topics"),
        view,
        verbose: o.has("verbose"),
        list_states,
        list_types,
        scenario,
        execute: o.has("execute"),
        export: o.has("export"),
        timeout_ms: o.long_of("timeout").unwrap_or(5000),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> (Result<GroupOptions, OptionsFailure>, Vec<String>) {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let mut warnings = Vec::new();
        (parse_args(&args, &mut warnings), warnings)
    }

    fn usage_of(args: &[&str]) -> String {
        match run(args).0 {
            Err(OptionsFailure::Abort(Abort::Usage(m))) => m,
            other => panic!("expected usage, got {other:?}"),
        }
    }

    fn with_bs(rest: &[&'static str]) -> Vec<&'static str> {
        let mut v = vec!["--bootstrap-server", "localhost:9092"];
        v.extend_from_slice(rest);
        v
    }

    #[test]
    fn exactly_one_action() {
        let m = "Command must include exactly one action: --list, --describe, --delete, --reset-offsets, --delete-offsets";
        assert_eq!(usage_of(&with_bs(&[])), m);
        assert_eq!(
            usage_of(&with_bs(&["--describe", "--delete", "--group", "g"])),
            m
        );
    }

    #[test]
    fn bootstrap_server_is_required() {
        assert_eq!(
            usage_of(&["--list"]),
            "Missing required argument \"[bootstrap-server]\""
        );
    }

    #[test]
    fn describe_needs_a_group_scope_and_one_view() {
        assert_eq!(
            usage_of(&with_bs(&["--describe"])),
            "Option [describe] takes one of these options: [[group], [all-groups]]"
        );
        assert_eq!(
            usage_of(&with_bs(&[
                "--describe",
                "--group",
                "g",
                "--members",
                "--state"
            ])),
            "Option [describe] takes at most one of these options: [[members], [offsets], [state]]"
        );
        let o = run(&with_bs(&[
            "--describe",
            "--group",
            "g",
            "--members",
            "--verbose",
        ]))
        .0
        .unwrap();
        assert_eq!(o.view, DescribeView::Members);
        assert!(o.verbose);
        let o = run(&with_bs(&["--describe", "--all-groups"])).0.unwrap();
        assert_eq!(o.view, DescribeView::Offsets);
    }

    #[test]
    fn members_without_describe_is_unavailable() {
        assert_eq!(
            run(&with_bs(&["--list", "--members"])).0,
            Err(OptionsFailure::Abort(Abort::Fail(
                "Option(s) [members] are unavailable given other options on the command line"
                    .into()
            )))
        );
    }

    #[test]
    fn reset_warns_without_execute_or_dry_run_and_needs_scope_and_scenario() {
        let (o, w) = run(&with_bs(&[
            "--reset-offsets",
            "--group",
            "g",
            "--all-topics",
            "--to-earliest",
        ]));
        let o = o.unwrap();
        assert!(!o.execute);
        assert_eq!(w, vec![EXECUTE_MISSING_WARNING.to_string()]);
        assert!(EXECUTE_MISSING_WARNING.contains("missing.In a future"));
        let (o, w) = run(&with_bs(&[
            "--reset-offsets",
            "--group",
            "g",
            "--topic",
            "t:0,1",
            "--shift-by",
            "-2",
            "--execute",
        ]));
        assert!(w.is_empty());
        let o = o.unwrap();
        assert!(o.execute);
        assert_eq!(o.scenario, Some(Scenario::ShiftBy(-2)));
        assert_eq!(o.topics, vec!["t:0,1".to_string()]);
        assert_eq!(
            usage_of(&with_bs(&[
                "--reset-offsets",
                "--group",
                "g",
                "--all-topics",
                "--dry-run",
                "--execute",
                "--to-latest"
            ])),
            "Option [reset-offsets] only accepts one of [execute] and [dry-run]"
        );
        assert_eq!(
            usage_of(&with_bs(&[
                "--reset-offsets",
                "--group",
                "g",
                "--to-latest",
                "--dry-run"
            ])),
            "One of the reset scopes should be defined: --all-topics, --topic."
        );
        assert_eq!(
            usage_of(&with_bs(&[
                "--reset-offsets",
                "--group",
                "g",
                "--all-topics",
                "--to-latest",
                "--to-earliest",
                "--dry-run"
            ])),
            "Option \"[to-earliest]\" can't be used with option \"[to-latest]\""
        );
        assert!(usage_of(&with_bs(&[
            "--reset-offsets",
            "--group",
            "g",
            "--all-topics",
            "--dry-run"
        ]))
        .starts_with(
            "Option '[reset-offsets]' requires one of the following scenarios: [[to-offset], "
        ));
    }

    #[test]
    fn bad_offset_number_is_a_command_failure() {
        assert_eq!(
            run(&with_bs(&[
                "--reset-offsets",
                "--group",
                "g",
                "--all-topics",
                "--to-offset",
                "abc"
            ]))
            .0,
            Err(OptionsFailure::Command(
                "Cannot parse argument 'abc' of option to-offset".into()
            ))
        );
    }

    #[test]
    fn delete_and_delete_offsets_scopes() {
        assert_eq!(
            usage_of(&with_bs(&["--delete", "--group", "g", "--topic", "t"])),
            "The consumer does not support topic-specific offset deletion from a consumer group."
        );
        assert_eq!(
            usage_of(&with_bs(&["--delete-offsets", "--group", "g"])),
            "Option [delete-offsets] takes the following options: [[group], [topic]]"
        );
        assert_eq!(
            usage_of(&with_bs(&["--list", "--group", "g"])),
            "Option \"[group]\" can't be used with option \"[list]\""
        );
    }

    #[test]
    fn list_state_filter_is_case_insensitive_and_checked() {
        let o = run(&with_bs(&["--list", "--state", "stable,EMPTY"]))
            .0
            .unwrap();
        assert_eq!(
            o.list_states,
            Some(vec!["Stable".to_string(), "Empty".to_string()])
        );
        let o = run(&with_bs(&["--list", "--state"])).0.unwrap();
        assert_eq!(o.list_states, Some(vec![]));
        assert!(usage_of(&with_bs(&["--list", "--state", "bogus"]))
            .starts_with("Invalid state list 'bogus'"));
    }
}
