//! `VerifiableConsumer.argParser()` and `createFromArgs`: the argparse4j options of
//! `verifiable-consumer` with Kafka 3.9's texts, and the consumer properties they make:
//! `--consumer.config`'s keys first, then the command line's over them (`group.protocol` and
//! `group.remote.assignor` for `--group-protocol consumer`, else `partition.assignment.strategy`;
//! `group.id`, `group.instance.id`, `bootstrap.servers`, `enable.auto.commit`,
//! `auto.offset.reset`, `session.timeout.ms`).

use cli::argparse::{Exclusive, Kind, Namespace, Opt, Parser, Stop};

/// The program name argparse4j prints.
pub const PROG: &str = "verifiable-consumer";

/// What the options ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub topic: String,
    /// Negative: consume until stopped.
    pub max_messages: i64,
    pub verbose: bool,
    pub auto_commit: bool,
    /// The consumer's properties, in the order `Properties.put` would leave them.
    pub consumer_props: Vec<(String, String)>,
}

impl Options {
    /// A consumer property's value.
    pub fn prop(&self, key: &str) -> Option<&str> {
        self.consumer_props
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the consumer is to use the KIP-848 protocol (`group.protocol=consumer`, any
    /// case).
    pub fn consumer_group_protocol(&self) -> bool {
        self.prop("group.protocol")
            .is_some_and(|p| p.trim().eq_ignore_ascii_case("consumer"))
    }
}

/// `argParser()`.
pub fn parser() -> Parser {
    let mut p = Parser::new(PROG);
    p.default_help = true;
    p.description = "This tool consumes messages from a specific topic and emits consumer events (e.g. group rebalances, received messages, and offsets committed) as JSON objects to STDOUT.";
    p.exclusive.push(Exclusive {
        title: "Connection Group",
        description: "Group of arguments for connection to brokers",
        required: true,
    });
    p.opts.push(
        Opt::value(
            &["--bootstrap-server"],
            "bootstrapServer",
            Kind::Str,
            "REQUIRED unless --broker-list(deprecated) is specified. The server(s) to connect to. Comma-separated list of Kafka brokers in the form HOST1:PORT1,HOST2:PORT2,...",
        )
        .metavar("HOST1:PORT1[,HOST2:PORT2[...]]")
        .in_exclusive(0),
    );
    p.opts.push(
        Opt::value(
            &["--broker-list"],
            "brokerList",
            Kind::Str,
            "DEPRECATED, use --bootstrap-server instead; ignored if --bootstrap-server is specified.  Comma-separated list of Kafka brokers in the form HOST1:PORT1,HOST2:PORT2,...",
        )
        .metavar("HOST1:PORT1[,HOST2:PORT2[...]]")
        .in_exclusive(0),
    );
    p.opts.push(
        Opt::value(
            &["--topic"],
            "topic",
            Kind::Str,
            "Consumes messages from this topic.",
        )
        .metavar("TOPIC")
        .required(),
    );
    p.opts.push(
        Opt::value(
            &["--group-protocol"],
            "groupProtocol",
            Kind::Str,
            "Group protocol (must be one of CLASSIC, CONSUMER)",
        )
        .metavar("GROUP_PROTOCOL")
        .default("classic"),
    );
    p.opts.push(
        Opt::value(
            &["--group-remote-assignor"],
            "groupRemoteAssignor",
            Kind::Str,
            "Group remote assignor; only used if the group protocol is CONSUMER",
        )
        .metavar("GROUP_REMOTE_ASSIGNOR"),
    );
    p.opts.push(
        Opt::value(
            &["--group-id"],
            "groupId",
            Kind::Str,
            "The groupId shared among members of the consumer group",
        )
        .metavar("GROUP_ID")
        .required(),
    );
    p.opts.push(
        Opt::value(
            &["--group-instance-id"],
            "groupInstanceId",
            Kind::Str,
            "A unique identifier of the consumer instance",
        )
        .metavar("GROUP_INSTANCE_ID"),
    );
    p.opts.push(
        Opt::value(
            &["--max-messages"],
            "maxMessages",
            Kind::Int,
            "Consume this many messages. If -1 (the default), the consumer will consume until the process is killed externally",
        )
        .metavar("MAX-MESSAGES")
        .default("-1"),
    );
    p.opts.push(
        Opt::value(
            &["--session-timeout"],
            "sessionTimeout",
            Kind::Int,
            "Set the consumer's session timeout",
        )
        .metavar("TIMEOUT_MS")
        .default("30000"),
    );
    p.opts.push(Opt::flag(
        &["--verbose"],
        "verbose",
        "Enable to log individual consumed records",
    ));
    p.opts.push(Opt::flag(
        &["--enable-autocommit"],
        "useAutoCommit",
        "Enable offset auto-commit on consumer",
    ));
    p.opts.push(
        Opt::value(
            &["--reset-policy"],
            "resetPolicy",
            Kind::Str,
            "Set reset policy (must be either 'earliest', 'latest', or 'none'",
        )
        .default("earliest"),
    );
    p.opts.push(
        Opt::value(
            &["--assignment-strategy"],
            "assignmentStrategy",
            Kind::Str,
            "Set assignment strategy (e.g. org.apache.kafka.clients.consumer.RoundRobinAssignor); only used if the group protocol is CLASSIC",
        )
        .default("org.apache.kafka.clients.consumer.RangeAssignor"),
    );
    p.opts.push(
        Opt::value(
            &["--consumer.config"],
            "consumer.config",
            Kind::Str,
            "Consumer config properties file (config options shared with command line parameters will be overridden).",
        )
        .metavar("CONFIG_FILE"),
    );
    p
}

/// Parses `args` (without the program name) and builds the consumer properties. A
/// `--consumer.config` that cannot be read is a usage error whose message is Java's exception
/// message (the path), as `createFromArgs` throws it.
pub fn options(args: &[String]) -> Result<Options, Stop> {
    let p = parser();
    let ns = p.parse(args)?;
    from_namespace(&p, &ns)
}

fn put(props: &mut Vec<(String, String)>, key: &str, value: &str) {
    match props.iter_mut().find(|(k, _)| k == key) {
        Some(entry) => entry.1 = value.to_string(),
        None => props.push((key.to_string(), value.to_string())),
    }
}

fn from_namespace(p: &Parser, ns: &Namespace) -> Result<Options, Stop> {
    let mut props: Vec<(String, String)> = Vec::new();
    if let Some(file) = ns.get("consumer.config") {
        let loaded =
            cli::load_properties(file).map_err(|e| Stop::Error(p.error_text(&e.java_message())))?;
        for (k, v) in loaded.iter() {
            put(&mut props, k, v);
        }
    }
    let group_protocol = ns.get("groupProtocol").unwrap_or("classic");
    // Only "consumer" (any case) selects KIP-848; any other value leaves the classic protocol,
    // as Kafka's `equalsIgnoreCase(GroupProtocol.CONSUMER.name())` test does.
    if group_protocol.eq_ignore_ascii_case("consumer") {
        put(&mut props, "group.protocol", group_protocol);
        if let Some(assignor) = ns.get("groupRemoteAssignor") {
            put(&mut props, "group.remote.assignor", assignor);
        }
    } else {
        put(
            &mut props,
            "partition.assignment.strategy",
            ns.get("assignmentStrategy").unwrap_or_default(),
        );
    }
    put(
        &mut props,
        "group.id",
        ns.get("groupId").unwrap_or_default(),
    );
    if let Some(id) = ns.get("groupInstanceId") {
        put(&mut props, "group.instance.id", id);
    }
    let bootstrap = ns
        .get("bootstrapServer")
        .or_else(|| ns.get("brokerList"))
        .unwrap_or_default();
    put(&mut props, "bootstrap.servers", bootstrap);
    let auto_commit = ns.get_flag("useAutoCommit");
    put(&mut props, "enable.auto.commit", &auto_commit.to_string());
    put(
        &mut props,
        "auto.offset.reset",
        ns.get("resetPolicy").unwrap_or_default(),
    );
    put(
        &mut props,
        "session.timeout.ms",
        &ns.get_i32("sessionTimeout").unwrap_or(30000).to_string(),
    );
    Ok(Options {
        topic: ns.get("topic").unwrap_or_default().to_string(),
        max_messages: ns.get_i64("maxMessages").unwrap_or(-1),
        verbose: ns.get_flag("verbose"),
        auto_commit,
        consumer_props: props,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    fn error(a: &[&str]) -> String {
        match options(&args(a)) {
            Err(Stop::Error(text)) => text,
            other => panic!("expected a usage error, got {other:?}"),
        }
    }

    #[test]
    fn defaults_make_kafkas_properties() {
        let o = options(&args(&[
            "--topic",
            "t",
            "--group-id",
            "g",
            "--bootstrap-server",
            "h:1",
        ]))
        .unwrap();
        assert_eq!(o.max_messages, -1);
        assert!(!o.verbose);
        assert!(!o.auto_commit);
        assert!(!o.consumer_group_protocol());
        assert_eq!(
            o.consumer_props,
            vec![
                (
                    "partition.assignment.strategy".to_string(),
                    "org.apache.kafka.clients.consumer.RangeAssignor".to_string()
                ),
                ("group.id".to_string(), "g".to_string()),
                ("bootstrap.servers".to_string(), "h:1".to_string()),
                ("enable.auto.commit".to_string(), "false".to_string()),
                ("auto.offset.reset".to_string(), "earliest".to_string()),
                ("session.timeout.ms".to_string(), "30000".to_string()),
            ]
        );
    }

    #[test]
    fn consumer_protocol_in_any_case_sets_group_protocol() {
        let o = options(&args(&[
            "--topic",
            "t",
            "--group-id",
            "g",
            "--bootstrap-server",
            "h:1",
            "--group-protocol",
            "Consumer",
            "--group-remote-assignor",
            "uniform",
        ]))
        .unwrap();
        assert!(o.consumer_group_protocol());
        assert_eq!(o.prop("group.remote.assignor"), Some("uniform"));
        assert_eq!(o.prop("partition.assignment.strategy"), None);
        // Anything else is the classic protocol.
        let o = options(&args(&[
            "--topic",
            "t",
            "--group-id",
            "g",
            "--bootstrap-server",
            "h:1",
            "--group-protocol",
            "foo",
        ]))
        .unwrap();
        assert!(!o.consumer_group_protocol());
    }

    #[test]
    fn usage_errors_use_argparse4j_texts() {
        assert!(error(&["--group-id", "g", "--bootstrap-server", "h:1"])
            .ends_with("verifiable-consumer: error: argument --topic is required\n"));
        assert!(error(&["--topic", "t", "--bootstrap-server", "h:1"])
            .ends_with("verifiable-consumer: error: argument --group-id is required\n"));
        assert!(error(&["--topic", "t", "--group-id", "g"]).ends_with(
            "verifiable-consumer: error:  one  of  the  arguments  --bootstrap-server --\nbroker-list is required\n"
        ));
        assert!(error(&[
            "--topic",
            "t",
            "--group-id",
            "g",
            "--broker-list",
            "a:1",
            "--bootstrap-server",
            "b:1"
        ])
        .ends_with(
            "verifiable-consumer: error: argument  --bootstrap-server:  not allowed with\nargument --broker-list\n"
        ));
        assert!(error(&[
            "--topic",
            "t",
            "--group-id",
            "g",
            "--bootstrap-server",
            "b:1",
            "--session-timeout",
            "x"
        ])
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .contains("argument --session-timeout: could not convert 'x' to Integer"));
    }

    #[test]
    fn help_lists_defaults_and_the_connection_group() {
        let help = parser().format_help(&[]);
        assert!(help.starts_with("usage: verifiable-consumer [-h] --topic TOPIC\n"));
        assert!(help.contains("\nConnection Group:\n  Group of arguments for connection to brokers\n\n  --bootstrap-server HOST1:PORT1[,HOST2:PORT2[...]]\n"));
        assert!(help.contains("  --reset-policy RESETPOLICY\n"));
        assert!(help.contains(
            "(default:\n                         org.apache.kafka.clients.consumer.RangeAssignor)\n"
        ));
        // argparse4j justifies each wrapped help line to 75 columns.
        assert!(help.contains("  --verbose              Enable  to   log   individual   consumed   records\n                         (default: false)\n"));
        assert!(help.contains("  --group-protocol GROUP_PROTOCOL\n                         Group protocol (must be  one of CLASSIC, CONSUMER)\n                         (default: classic)\n"));
        assert!(help.contains("\n  --session-timeout TIMEOUT_MS\n                         Set  the  consumer's   session  timeout  (default:\n                         30000)\n"));
    }
}
