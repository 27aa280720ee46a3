//! `ReassignPartitionsCommandOptions` and `validateAndParseArgs`: the tool's options in Kafka
//! 3.9's order and texts, and its checks (exactly one action, `--bootstrap-server`, each action's
//! required and permitted options), each failure as the [`Abort`] Kafka would take.

use cli::usage::{check_required_args, maybe_help_or_version};
use cli::{Abort, OptionError, OptionParser, ParsedOptions, ValueType};

/// `ReassignPartitionsCommand.HELP_TEXT`.
const HELP_TEXT: &str = "This tool helps to move topic partitions between replicas.";

/// The actions, in the order Kafka lists them.
const ACTIONS: &[(&str, Action)] = &[
    ("generate", Action::Generate),
    ("execute", Action::Execute),
    ("verify", Action::Verify),
    ("cancel", Action::Cancel),
    ("list", Action::List),
];

/// The tool's actions (`generateOpt`, `executeOpt`, `verifyOpt`, `cancelOpt`, `listOpt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Generate,
    Execute,
    Verify,
    Cancel,
    List,
}

impl Action {
    /// The options the action needs, then the others it allows (Kafka's `requiredArgs` and
    /// `permittedArgs`).
    fn args(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            Action::Verify => (
                &["reassignment-json-file"],
                &["bootstrap-server", "command-config", "preserve-throttles"],
            ),
            Action::Generate => (
                &["topics-to-move-json-file", "broker-list"],
                &[
                    "bootstrap-server",
                    "broker-list",
                    "command-config",
                    "disable-rack-aware",
                ],
            ),
            Action::Execute => (
                &["reassignment-json-file"],
                &[
                    "additional",
                    "bootstrap-server",
                    "command-config",
                    "throttle",
                    "replica-alter-log-dirs-throttle",
                    "timeout",
                ],
            ),
            Action::Cancel => (
                &["reassignment-json-file"],
                &[
                    "bootstrap-server",
                    "command-config",
                    "preserve-throttles",
                    "timeout",
                ],
            ),
            Action::List => (&[], &["bootstrap-server", "command-config"]),
        }
    }

    fn name(self) -> &'static str {
        ACTIONS
            .iter()
            .find(|(_, a)| *a == self)
            .map_or("", |(n, _)| n)
    }
}

/// Everything the tool needs to run, after validation (the values of
/// `ReassignPartitionsCommandOptions`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReassignOptions {
    pub action: Action,
    pub bootstrap_server: String,
    pub command_config: Option<String>,
    pub reassignment_json_file: Option<String>,
    pub topics_to_move_json_file: Option<String>,
    pub broker_list: Option<String>,
    pub disable_rack_aware: bool,
    /// Bytes/s between brokers; -1 (the default) for none.
    pub throttle: i64,
    /// Bytes/s between log directories; -1 (the default) for none.
    pub replica_alter_log_dirs_throttle: i64,
    pub timeout_ms: i64,
    pub additional: bool,
    pub preserve_throttles: bool,
}

/// The option table of `ReassignPartitionsCommandOptions`, with Kafka's descriptions.
pub fn parser() -> OptionParser {
    let mut p = OptionParser::new();
    p.accepts("verify", "Verify if the reassignment completed as specified by the --reassignment-json-file option. If there is a throttle engaged for the replicas specified, and the rebalance has completed, the throttle will be removed");
    p.accepts("generate", "Generate a candidate partition reassignment configuration. Note that this only generates a candidate assignment, it does not execute it.");
    p.accepts(
        "execute",
        "Kick off the reassignment as specified by the --reassignment-json-file option.",
    );
    p.accepts("cancel", "Cancel an active reassignment.");
    p.accepts("list", "List all active partition reassignments.");
    p.accepts(
        "bootstrap-server",
        "REQUIRED: the server(s) to use for bootstrapping.",
    )
    .with_required_arg()
    .described_as("Server(s) to use for bootstrapping");
    p.accepts(
        "command-config",
        "Property file containing configs to be passed to Admin Client.",
    )
    .with_required_arg()
    .described_as("Admin client property file");
    p.accepts("reassignment-json-file", "The JSON file with the partition reassignment configurationThe format to use is - \n{\"partitions\":\n\t[{\"topic\": \"foo\",\n\t  \"partition\": 1,\n\t  \"replicas\": [1,2,3],\n\t  \"log_dirs\": [\"dir1\",\"dir2\",\"dir3\"] }],\n\"version\":1\n}\nNote that \"log_dirs\" is optional. When it is specified, its length must equal the length of the replicas list. The value in this list can be either \"any\" or the absolution path of the log directory on the broker. If absolute log directory path is specified, the replica will be moved to the specified log directory on the broker.")
        .with_required_arg()
        .described_as("manual assignment json file path");
    p.accepts("topics-to-move-json-file", "Generate a reassignment configuration to move the partitions of the specified topics to the list of brokers specified by the --broker-list option. The format to use is - \n{\"topics\":\n\t[{\"topic\": \"foo\"},{\"topic\": \"foo1\"}],\n\"version\":1\n}")
        .with_required_arg()
        .described_as("topics to reassign json file path");
    p.accepts("broker-list", "The list of brokers to which the partitions need to be reassigned in the form \"0,1,2\". This is required if --topics-to-move-json-file is used to generate reassignment configuration")
        .with_required_arg()
        .described_as("brokerlist");
    p.accepts(
        "disable-rack-aware",
        "Disable rack aware replica assignment",
    );
    p.accepts("throttle", "The movement of partitions between brokers will be throttled to this value (bytes/sec). This option can be included with --execute when a reassignment is started, and it can be altered by resubmitting the current reassignment along with the --additional flag. The throttle rate should be at least 1 KB/s.")
        .with_required_arg()
        .described_as("throttle")
        .of_type(ValueType::Long)
        .defaults_to("-1");
    p.accepts("replica-alter-log-dirs-throttle", "The movement of replicas between log directories on the same broker will be throttled to this value (bytes/sec). This option can be included with --execute when a reassignment is started, and it can be altered by resubmitting the current reassignment along with the --additional flag. The throttle rate should be at least 1 KB/s.")
        .with_required_arg()
        .described_as("replicaAlterLogDirsThrottle")
        .of_type(ValueType::Long)
        .defaults_to("-1");
    p.accepts(
        "timeout",
        "The maximum time in ms to wait for log directory replica assignment to begin.",
    )
    .with_required_arg()
    .described_as("timeout")
    .of_type(ValueType::Long)
    .defaults_to("10000");
    p.accepts("additional", "Execute this reassignment in addition to any other ongoing ones. This option can also be used to change the throttle of an ongoing reassignment.");
    p.accepts(
        "preserve-throttles",
        "Do not modify broker or topic throttles.",
    );
    p
}

/// Parses and validates the arguments (`validateAndParseArgs`).
pub fn parse_args(args: &[String]) -> Result<ReassignOptions, Abort> {
    let parser = parser();
    // jopt's OptionException escapes the options' constructor: its message alone, exit 1.
    let opts = parser
        .parse(args)
        .map_err(|e: OptionError| Abort::Fail(e.to_string()))?;
    maybe_help_or_version(args.len(), &opts, HELP_TEXT)?;
    check(&opts)
}

fn check(o: &ParsedOptions) -> Result<ReassignOptions, Abort> {
    let actions: Vec<Action> = ACTIONS
        .iter()
        .filter(|(name, _)| o.has(name))
        .map(|(_, a)| *a)
        .collect();
    let [action] = actions[..] else {
        let names: Vec<String> = ACTIONS.iter().map(|(n, _)| format!("--{n}")).collect();
        return Err(Abort::Usage(format!(
            "Command must include exactly one action: {}",
            names.join(", ")
        )));
    };
    let Some(bootstrap_server) = o.value_of("bootstrap-server") else {
        return Err(Abort::Usage("Please specify --bootstrap-server".into()));
    };
    let (required, permitted) = action.args();
    check_required_args(o, required)?;
    for (name, _) in o.detected() {
        let name = name.as_str();
        if name != action.name() && !required.contains(&name) && !permitted.contains(&name) {
            return Err(Abort::Usage(format!(
                "Option \"[{name}]\" can't be used with action \"[{}]\"",
                action.name()
            )));
        }
    }
    Ok(ReassignOptions {
        action,
        bootstrap_server: bootstrap_server.to_string(),
        command_config: o.value_of("command-config").map(String::from),
        reassignment_json_file: o.value_of("reassignment-json-file").map(String::from),
        topics_to_move_json_file: o.value_of("topics-to-move-json-file").map(String::from),
        broker_list: o.value_of("broker-list").map(String::from),
        disable_rack_aware: o.has("disable-rack-aware"),
        throttle: o.long_of("throttle").unwrap_or(-1),
        replica_alter_log_dirs_throttle: o.long_of("replica-alter-log-dirs-throttle").unwrap_or(-1),
        timeout_ms: o.long_of("timeout").unwrap_or(10_000),
        additional: o.has("additional"),
        preserve_throttles: o.has("preserve-throttles"),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<ReassignOptions, Abort> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        parse_args(&args)
    }

    fn usage(args: &[&str]) -> String {
        match parse(args) {
            Err(Abort::Usage(m)) => m,
            other => panic!("expected usage, got {other:?}"),
        }
    }

    #[test]
    fn exactly_one_action_is_required() {
        let want = "Command must include exactly one action: --generate, --execute, --verify, \
                    --cancel, --list";
        assert_eq!(usage(&["--bootstrap-server", "h:1"]), want);
        assert_eq!(
            usage(&["--bootstrap-server", "h:1", "--list", "--verify"]),
            want
        );
    }

    #[test]
    fn bootstrap_server_then_the_actions_arguments_are_checked() {
        assert_eq!(usage(&["--list"]), "Please specify --bootstrap-server");
        assert_eq!(
            usage(&["--bootstrap-server", "h:1", "--execute"]),
            "Missing required argument \"[reassignment-json-file]\""
        );
        assert_eq!(
            usage(&[
                "--bootstrap-server",
                "h:1",
                "--generate",
                "--topics-to-move-json-file",
                "f"
            ]),
            "Missing required argument \"[broker-list]\""
        );
        assert_eq!(
            usage(&[
                "--bootstrap-server",
                "h:1",
                "--verify",
                "--reassignment-json-file",
                "f",
                "--throttle",
                "100"
            ]),
            "Option \"[throttle]\" can't be used with action \"[verify]\""
        );
    }

    #[test]
    fn execute_takes_its_defaults() {
        let o = parse(&[
            "--bootstrap-server",
            "h:1",
            "--execute",
            "--reassignment-json-file",
            "plan.json",
        ])
        .unwrap();
        assert_eq!(o.action, Action::Execute);
        assert_eq!(
            (o.throttle, o.replica_alter_log_dirs_throttle, o.timeout_ms),
            (-1, -1, 10_000)
        );
        assert_eq!(o.reassignment_json_file.as_deref(), Some("plan.json"));
        assert!(!o.additional);
    }

    #[test]
    fn a_throttle_that_is_not_a_number_is_jopts_error() {
        assert_eq!(
            parse(&[
                "--bootstrap-server",
                "h:1",
                "--execute",
                "--reassignment-json-file",
                "f",
                "--throttle",
                "fast"
            ]),
            Err(Abort::Fail(
                "Cannot parse argument 'fast' of option throttle".into()
            ))
        );
    }

    #[test]
    fn no_arguments_or_help_print_the_usage() {
        assert_eq!(parse(&[]), Err(Abort::Usage(HELP_TEXT.into())));
        assert_eq!(parse(&["--help"]), Err(Abort::Usage(HELP_TEXT.into())));
        assert_eq!(parse(&["--version"]), Err(Abort::Version));
    }
}
