//! `ConfigCommandOptions`: kafka-configs' options and `checkArgs`, in Kafka 3.9's order, each
//! failure as the [`Abort`] Kafka would take (usage and exit 1, or its message alone and exit 1).

use cli::usage::{check_invalid_args, maybe_help_or_version};
use cli::{Abort, OptionError, OptionParser, ParsedOptions};
use client::topic_configs::{topic_config_names, DYNAMIC_BROKER_CONFIGS};

// Kafka's `ConfigType` names, as `--entity-type` takes them.
pub const TOPICS: &str = "topics";
pub const CLIENTS: &str = "clients";
pub const USERS: &str = "users";
pub const BROKERS: &str = "brokers";
pub const IPS: &str = "ips";
pub const BROKER_LOGGERS: &str = "broker-loggers";
pub const CLIENT_METRICS: &str = "client-metrics";

/// `BrokerSupportedConfigTypes`: `ConfigType.ALL`, then broker-loggers and client-metrics.
const BROKER_SUPPORTED_TYPES: &[&str] = &[
    TOPICS,
    CLIENTS,
    USERS,
    BROKERS,
    IPS,
    BROKER_LOGGERS,
    CLIENT_METRICS,
];
const ZK_SUPPORTED_TYPES: &[&str] = &[USERS, BROKERS];

/// The entity flags and the type each stands for (`entityFlags`, `entityDefaultsFlags`).
const ENTITY_FLAGS: &[(&str, &str)] = &[
    ("topic", TOPICS),
    ("client", CLIENTS),
    ("user", USERS),
    ("broker", BROKERS),
    ("broker-logger", BROKER_LOGGERS),
    ("ip", IPS),
];
const ENTITY_DEFAULT_FLAGS: &[(&str, &str)] = &[
    ("client-defaults", CLIENTS),
    ("user-defaults", USERS),
    ("broker-defaults", BROKERS),
    ("ip-defaults", IPS),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Alter,
    Describe,
}

/// Everything kafka-configs needs to run, after validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigOptions {
    pub action: Action,
    /// `None` when only `--zookeeper` was given (not supported here).
    pub bootstrap_server: Option<String>,
    pub command_config: Option<String>,
    /// Entity types in Kafka's order (`--entity-type` values, then the entity flags).
    pub entity_types: Vec<String>,
    /// Entity names; `""` is the default entity (`--entity-default`, `--broker-defaults`).
    pub entity_names: Vec<String>,
    pub all: bool,
    pub add_config: Option<String>,
    pub add_config_file: Option<String>,
    pub delete_config: Vec<String>,
    pub zookeeper: bool,
}

/// The option table; `--add-config`'s text lists the configs each entity type accepts.
pub fn parser() -> OptionParser {
    let mut p = OptionParser::new();
    p.accepts("zookeeper", "DEPRECATED. The connection string for the zookeeper connection in the form host:port. Multiple URLS can be given to allow fail-over. Required when configuring SCRAM credentials for users or dynamic broker configs when the relevant broker(s) are down. Not allowed otherwise.")
        .with_required_arg()
        .described_as("urls");
    p.accepts("bootstrap-server", "The Kafka servers to connect to.")
        .with_required_arg()
        .described_as("server to connect to");
    p.accepts(
        "bootstrap-controller",
        "The Kafka controllers to connect to.",
    )
    .with_required_arg()
    .described_as("controller to connect to");
    p.accepts("command-config", "Property file containing configs to be passed to Admin Client. This is used only with --bootstrap-server option for describing and altering broker configs.")
        .with_required_arg()
        .described_as("command config property file");
    p.accepts("alter", "Alter the configuration for the entity.");
    p.accepts("describe", "List configs for the given entity.");
    p.accepts("all", "List all configs for the given topic, broker, or broker-logger entity (includes static configuration when the entity type is brokers)");
    p.accepts(
        "entity-type",
        "Type of entity (topics/clients/users/brokers/broker-loggers/ips/client-metrics)",
    )
    .with_required_arg();
    p.repeatable("entity-type");
    p.accepts(
        "entity-name",
        "Name of entity (topic name/client id/user principal name/broker id/ip/client metrics)",
    )
    .with_required_arg();
    p.repeatable("entity-name");
    p.accepts("entity-default", "Default entity name for clients/users/brokers/ips (applies to corresponding entity type in command line)");
    p.repeatable("entity-default");
    let topic_configs: String = topic_config_names().map(|n| format!("\t{n}\n")).collect();
    let broker_configs: String = DYNAMIC_BROKER_CONFIGS
        .iter()
        .map(|n| format!("\t{n}\n"))
        .collect();
    let add_config = format!(
        "Key Value pairs of configs to add. Square brackets can be used to group values which contain commas: 'k1=v1,k2=[v1,v2,v2],k3=v3'. The following is a list of valid configurations: For entity-type '{TOPICS}': \n{topic_configs}For entity-type '{BROKERS}': \n{broker_configs}Entity types '{USERS}' and '{CLIENTS}' may be specified together to update config for clients of a specific user."
    );
    p.accepts("add-config", &add_config).with_required_arg();
    p.accepts("add-config-file", "Path to a properties file with configs to add. See add-config for a list of valid configurations.")
        .with_required_arg();
    p.accepts("delete-config", "config keys to remove 'k1,k2'")
        .with_required_arg();
    p.repeatable("delete-config");
    p.accepts("force", "Suppress console prompts");
    p.accepts("topic", "The topic's name.").with_required_arg();
    p.accepts("client", "The client's ID.").with_required_arg();
    p.accepts("client-defaults", "The config defaults for all clients.");
    p.accepts("user", "The user's principal name.")
        .with_required_arg();
    p.accepts("user-defaults", "The config defaults for all users.");
    p.accepts("broker", "The broker's ID.").with_required_arg();
    p.accepts("broker-defaults", "The config defaults for all brokers.");
    p.accepts("broker-logger", "The broker's ID for its logger config.")
        .with_required_arg();
    p.accepts("ip-defaults", "The config defaults for all IPs.");
    p.accepts("ip", "The IP address.").with_required_arg();
    p.accepts("zk-tls-config-file", "Identifies the file where ZooKeeper client TLS connectivity properties are defined.  Any properties other than zookeeper.clientCnxnSocket, zookeeper.ssl.cipher.suites, zookeeper.ssl.client.enable, zookeeper.ssl.crl.enable, zookeeper.ssl.enabled.protocols, zookeeper.ssl.endpoint.identification.algorithm, zookeeper.ssl.keystore.location, zookeeper.ssl.keystore.password, zookeeper.ssl.keystore.type, zookeeper.ssl.ocsp.enable, zookeeper.ssl.protocol, zookeeper.ssl.truststore.location, zookeeper.ssl.truststore.password, zookeeper.ssl.truststore.type are ignored.")
        .with_required_arg()
        .described_as("ZooKeeper TLS configuration");
    p
}

/// `entityTypes`: `--entity-type` values, then the types of the entity flags present.
fn entity_types(o: &ParsedOptions) -> Vec<String> {
    let mut v: Vec<String> = o
        .values_of("entity-type")
        .into_iter()
        .map(String::from)
        .collect();
    v.extend(
        ENTITY_FLAGS
            .iter()
            .chain(ENTITY_DEFAULT_FLAGS)
            .filter(|(flag, _)| o.has(flag))
            .map(|(_, t)| t.to_string()),
    );
    v
}

/// `entityNames`: `--entity-name` / `--entity-default` in command-line order (a default is
/// `""`), then the entity flags' values, then `""` for each defaults flag.
fn entity_names(o: &ParsedOptions) -> Vec<String> {
    let mut v: Vec<String> = o
        .detected()
        .iter()
        .filter_map(|(name, value)| match name.as_str() {
            "entity-name" => Some(value.clone().unwrap_or_default()),
            "entity-default" => Some(String::new()),
            _ => None,
        })
        .collect();
    v.extend(
        ENTITY_FLAGS
            .iter()
            .filter(|(flag, _)| o.has(flag))
            .map(|(flag, _)| o.value_of(flag).unwrap_or_default().to_string()),
    );
    v.extend(
        ENTITY_DEFAULT_FLAGS
            .iter()
            .filter(|(flag, _)| o.has(flag))
            .map(|_| String::new()),
    );
    v
}

/// Parses and validates kafka-configs' arguments.
pub fn parse_args(args: &[String]) -> Result<ConfigOptions, Abort> {
    let parser = parser();
    // jopt's OptionException escapes the constructor: its message alone, exit 1.
    let opts = parser
        .parse(args)
        .map_err(|e: OptionError| Abort::Fail(e.to_string()))?;
    maybe_help_or_version(
        args.len(),
        &opts,
        "This tool helps to manipulate and describe entity config for a topic, client, user, broker, ip or client-metrics",
    )?;
    check(&opts)
}

fn fail(message: impl Into<String>) -> Abort {
    Abort::Fail(message.into())
}

/// Kafka's `checkArgs`.
fn check(o: &ParsedOptions) -> Result<ConfigOptions, Abort> {
    let actions = ["alter", "describe"].iter().filter(|a| o.has(a)).count();
    if actions != 1 {
        return Err(Abort::Usage(
            "Command must include exactly one action: --describe, --alter".into(),
        ));
    }
    check_invalid_args(o, "alter", &["describe"])?;
    check_invalid_args(o, "describe", &["alter", "add-config", "delete-config"])?;

    let types = entity_types(o);
    let mut seen = Vec::new();
    let mut dups = Vec::new();
    for t in &types {
        if seen.contains(&t) {
            dups.push(t.as_str());
        } else {
            seen.push(t);
        }
    }
    if !dups.is_empty() {
        return Err(fail(format!(
            "Duplicate entity type(s) specified: {}",
            dups.join(",")
        )));
    }
    let (allowed, connect) = if o.has("bootstrap-server") || o.has("bootstrap-controller") {
        (
            BROKER_SUPPORTED_TYPES,
            "--bootstrap-server or --bootstrap-controller",
        )
    } else {
        (ZK_SUPPORTED_TYPES, "--zookeeper")
    };
    if let Some(bad) = types.iter().find(|t| !allowed.contains(&t.as_str())) {
        return Err(fail(format!(
            "Invalid entity type {bad}, the entity type must be one of {} with a {connect} argument",
            allowed.join(", ")
        )));
    }
    if types.is_empty() {
        return Err(fail("At least one entity type must be specified"));
    }
    let user_client =
        types.len() == 2 && types.iter().any(|t| t == USERS) && types.iter().any(|t| t == CLIENTS);
    if types.len() > 1 && !user_client {
        return Err(fail(format!(
            "Only '{USERS}' and '{CLIENTS}' entity types may be specified together"
        )));
    }
    let generic = o.has("entity-name") || o.has("entity-type") || o.has("entity-default");
    let specific = ENTITY_FLAGS
        .iter()
        .chain(ENTITY_DEFAULT_FLAGS)
        .any(|(flag, _)| o.has(flag));
    if generic && specific {
        return Err(fail(
            "--entity-{type,name,default} should not be used in conjunction with specific entity flags",
        ));
    }
    let names = entity_names(o);
    let has_name = names.iter().any(|n| !n.is_empty());
    let has_default = names.iter().any(String::is_empty);

    let connects = ["bootstrap-server", "bootstrap-controller", "zookeeper"]
        .iter()
        .filter(|c| o.has(c))
        .count();
    if connects == 0 {
        return Err(fail("One of the required --bootstrap-server, --boostrap-controller, or --zookeeper arguments must be specified"));
    }
    if connects > 1 {
        return Err(fail(
            "Only one of --bootstrap-server, --boostrap-controller, and --zookeeper can be specified",
        ));
    }
    if o.has("all") && o.has("zookeeper") {
        return Err(fail("--bootstrap-server must be specified for --all"));
    }
    if o.has("zk-tls-config-file") && !o.has("zookeeper") {
        return Err(fail(
            "Only the --zookeeper option can be used with the --zk-tls-config-file option.",
        ));
    }
    let brokerish = types.iter().any(|t| t == BROKERS || t == BROKER_LOGGERS);
    if has_name && brokerish {
        for opt in ["entity-name", "broker", "broker-logger"] {
            if let Some(id) = o.value_of(opt) {
                if id.parse::<i32>().is_err() {
                    return Err(fail(format!(
                        "The entity name for {} must be a valid integer broker id, but it is: {id}",
                        types[0]
                    )));
                }
            }
        }
    }
    if o.has("describe") && types.iter().any(|t| t == BROKER_LOGGERS) && !has_name {
        return Err(fail(format!(
            "an entity name must be specified with --describe of {}",
            types.join(",")
        )));
    }
    if o.has("alter") {
        let named_or_default = types
            .iter()
            .any(|t| t == USERS || t == CLIENTS || t == BROKERS || t == IPS);
        if named_or_default {
            if !has_name && !has_default {
                return Err(fail("an entity-name or default entity must be specified with --alter of users, clients, brokers or ips"));
            }
        } else if !has_name {
            return Err(fail(format!(
                "an entity name must be specified with --alter of {}",
                types.join(",")
            )));
        }
        if o.has("add-config") && o.has("add-config-file") {
            return Err(fail(
                "Only one of --add-config or --add-config-file must be specified",
            ));
        }
        if !o.has("add-config") && !o.has("add-config-file") && !o.has("delete-config") {
            return Err(fail("At least one of --add-config, --add-config-file, or --delete-config must be specified with --alter"));
        }
    }
    Ok(ConfigOptions {
        action: if o.has("alter") {
            Action::Alter
        } else {
            Action::Describe
        },
        bootstrap_server: o
            .value_of("bootstrap-server")
            .or_else(|| o.value_of("bootstrap-controller"))
            .map(String::from),
        command_config: o.value_of("command-config").map(String::from),
        entity_types: types,
        entity_names: names,
        all: o.has("all"),
        add_config: o.value_of("add-config").map(String::from),
        add_config_file: o.value_of("add-config-file").map(String::from),
        // `withValuesSeparatedBy(',')`: each occurrence may list several keys.
        delete_config: o
            .values_of("delete-config")
            .into_iter()
            .flat_map(|v| v.split(','))
            .map(|k| k.trim().to_string())
            .collect(),
        zookeeper: o.has("zookeeper"),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<ConfigOptions, Abort> {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        parse_args(&args)
    }

    fn message(r: Result<ConfigOptions, Abort>) -> String {
        match r {
            Err(Abort::Fail(m) | Abort::Usage(m)) => m,
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    #[test]
    fn shorthand_flags_and_generic_options_name_the_same_entities() {
        let o = parse(&["--bootstrap-server", "b:9092", "--describe", "--topic", "t"]).unwrap();
        assert_eq!(
            (o.entity_types, o.entity_names),
            (vec!["topics".to_string()], vec!["t".to_string()])
        );
        let o = parse(&[
            "--bootstrap-server",
            "b:9092",
            "--alter",
            "--entity-type",
            "brokers",
            "--entity-default",
            "--add-config",
            "log.retention.ms=1",
        ])
        .unwrap();
        assert_eq!(o.entity_names, vec![String::new()]);
        let o = parse(&["--bootstrap-server", "b", "--describe", "--broker-defaults"]).unwrap();
        assert_eq!(
            (o.entity_types, o.entity_names),
            (vec!["brokers".to_string()], vec![String::new()])
        );
        let o = parse(&[
            "--bootstrap-server",
            "b",
            "--alter",
            "--topic",
            "t",
            "--delete-config",
            "a,b",
            "--delete-config",
            "c",
        ])
        .unwrap();
        assert_eq!(o.delete_config, ["a", "b", "c"]);
    }

    #[test]
    fn kafkas_checks_fail_with_kafkas_texts() {
        assert!(matches!(
            parse(&["--bootstrap-server", "b", "--entity-type", "topics"]),
            Err(Abort::Usage(m)) if m == "Command must include exactly one action: --describe, --alter"
        ));
        assert_eq!(
            message(parse(&["--bootstrap-server", "b", "--describe", "--entity-type", "things"])),
            "Invalid entity type things, the entity type must be one of topics, clients, users, brokers, ips, broker-loggers, client-metrics with a --bootstrap-server or --bootstrap-controller argument"
        );
        assert_eq!(
            message(parse(&["--bootstrap-server", "b", "--describe"])),
            "At least one entity type must be specified"
        );
        assert_eq!(
            message(parse(&["--describe", "--entity-type", "topics"])),
            "Invalid entity type topics, the entity type must be one of users, brokers with a --zookeeper argument"
        );
        assert_eq!(
            message(parse(&["--describe", "--entity-type", "brokers"])),
            "One of the required --bootstrap-server, --boostrap-controller, or --zookeeper arguments must be specified"
        );
        assert_eq!(
            message(parse(&[
                "--bootstrap-server",
                "b",
                "--alter",
                "--entity-type",
                "topics",
                "--add-config",
                "a=b"
            ])),
            "an entity name must be specified with --alter of topics"
        );
        assert_eq!(
            message(parse(&["--bootstrap-server", "b", "--alter", "--entity-type", "brokers", "--add-config", "a=b"])),
            "an entity-name or default entity must be specified with --alter of users, clients, brokers or ips"
        );
        assert_eq!(
            message(parse(&["--bootstrap-server", "b", "--alter", "--topic", "t"])),
            "At least one of --add-config, --add-config-file, or --delete-config must be specified with --alter"
        );
        assert_eq!(
            message(parse(&[
                "--bootstrap-server",
                "b",
                "--describe",
                "--entity-type",
                "brokers",
                "--entity-name",
                "x"
            ])),
            "The entity name for brokers must be a valid integer broker id, but it is: x"
        );
        assert_eq!(
            message(parse(&["--bootstrap-server", "b", "--describe", "--entity-name", "x", "--topic", "t"])),
            "--entity-{type,name,default} should not be used in conjunction with specific entity flags"
        );
        assert_eq!(
            message(parse(&[
                "--bootstrap-server",
                "b",
                "--describe",
                "--topic",
                "t",
                "--entity-type",
                "brokers",
                "--entity-type",
                "brokers"
            ])),
            "Duplicate entity type(s) specified: brokers"
        );
        assert!(matches!(
            parse(&["--bootstrap-server", "b", "--describe", "--alter", "--topic", "t"]),
            Err(Abort::Usage(m)) if m.starts_with("Command must include exactly one action")
        ));
        assert!(matches!(
            parse(&["--bootstrap-server", "b", "--describe", "--topic", "t", "--add-config", "a=b"]),
            Err(Abort::Usage(m)) if m == "Option \"[describe]\" can't be used with option \"[add-config]\""
        ));
        assert_eq!(
            message(parse(&["--bogus"])),
            "bogus is not a recognized option"
        );
        assert!(matches!(parse(&[]), Err(Abort::Usage(_))));
    }
}
