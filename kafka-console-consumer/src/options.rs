//! `ConsoleConsumerOptions`: the console consumer's options and Kafka's checks on them.

use cli::usage::{check_required_args, maybe_help_or_version};
use cli::{load_properties, parse_key_value_args, Abort, OptionParser, Properties, ValueType};

use crate::formatter::MessageFormatter;

/// Where consumption starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartAt {
    Earliest,
    Latest,
    Offset(i64),
    /// `auto.offset.reset=none`: without a committed offset Kafka's consumer fails with
    /// NoOffsetForPartitionException.
    NoReset,
}

/// Which topics to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Topic(String),
    /// `--include` / `--whitelist`: a regex over topic names (full match).
    Include(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerOptions {
    pub source: Source,
    pub partition: Option<i32>,
    pub start: StartAt,
    pub max_messages: Option<u64>,
    pub timeout_ms: Option<u64>,
    pub skip_message_on_error: bool,
    pub consumer_props: Properties,
    pub formatter: MessageFormatter,
    /// The group id the user asked for, if any (else a generated `console-consumer-N` is in
    /// `consumer_props`).
    pub group: Option<String>,
    pub enable_systest_events: bool,
    /// Lines Kafka prints to stderr as they are (`System.err.println`) before starting.
    pub warnings: Vec<String>,
}

const DEFAULT_FORMATTER: &str = "org.apache.kafka.tools.consumer.DefaultMessageFormatter";
const OLD_DEFAULT_FORMATTER: &str = "kafka.tools.DefaultMessageFormatter";
/// Prints as the default formatter does; its extra INFO log is below the tools' WARN level.
const LOGGING_FORMATTERS: [&str; 2] = [
    "org.apache.kafka.tools.consumer.LoggingMessageFormatter",
    "kafka.tools.LoggingMessageFormatter",
];
const NO_OP_FORMATTERS: [&str; 2] = [
    "org.apache.kafka.tools.consumer.NoOpMessageFormatter",
    "kafka.tools.NoOpMessageFormatter",
];

pub fn parser() -> OptionParser {
    let mut p = OptionParser::new();
    p.accepts("topic", "The topic to consume on.")
        .with_required_arg()
        .described_as("topic");
    p.accepts("whitelist", "DEPRECATED, use --include instead; ignored if --include specified. Regular expression specifying list of topics to include for consumption.")
        .with_required_arg()
        .described_as("Java regex (String)");
    p.accepts(
        "include",
        "Regular expression specifying list of topics to include for consumption.",
    )
    .with_required_arg()
    .described_as("Java regex (String)");
    p.accepts("partition", "The partition to consume from. Consumption starts from the end of the partition unless '--offset' is specified.")
        .with_required_arg()
        .described_as("partition")
        .of_type(ValueType::Integer);
    p.accepts("offset", "The offset to consume from (a non-negative number), or 'earliest' which means from beginning, or 'latest' which means from end")
        .with_required_arg()
        .described_as("consume offset")
        .defaults_to("latest");
    p.accepts(
        "consumer-property",
        "A mechanism to pass user-defined properties in the form key=value to the consumer.",
    )
    .with_required_arg()
    .described_as("consumer_prop");
    p.repeatable("consumer-property");
    p.accepts("consumer.config", "Consumer config properties file. Note that [consumer-property] takes precedence over this config.")
        .with_required_arg()
        .described_as("config file");
    p.accepts(
        "formatter",
        "The name of a class to use for formatting kafka messages for display.",
    )
    .with_required_arg()
    .described_as("class")
    .defaults_to(DEFAULT_FORMATTER);
    p.accepts("formatter-config", "Config properties file to initialize the message formatter. Note that [property] takes precedence over this config.")
        .with_required_arg()
        .described_as("config file");
    p.accepts("property", "The properties to initialize the message formatter. Default properties include: \n print.timestamp=true|false\n print.key=true|false\n print.offset=true|false\n print.partition=true|false\n print.headers=true|false\n print.value=true|false\n key.separator=<key.separator>\n line.separator=<line.separator>\n headers.separator=<line.separator>\n null.literal=<null.literal>\n key.deserializer=<key.deserializer>\n value.deserializer=<value.deserializer>\n header.deserializer=<header.deserializer>\nUsers can also pass in customized properties for their formatter; more specifically, users can pass in properties keyed with 'key.deserializer.', 'value.deserializer.' and 'headers.deserializer.' prefixes to configure their deserializers.")
        .with_required_arg()
        .described_as("prop");
    p.repeatable("property");
    p.accepts("from-beginning", "If the consumer does not already have an established offset to consume from, start with the earliest message present in the log rather than the latest message.");
    p.accepts("max-messages", "The maximum number of messages to consume before exiting. If not set, consumption is continual.")
        .with_required_arg()
        .described_as("num_messages")
        .of_type(ValueType::Integer);
    p.accepts(
        "timeout-ms",
        "If specified, exit if no message is available for consumption for the specified interval.",
    )
    .with_required_arg()
    .described_as("timeout_ms")
    .of_type(ValueType::Long);
    p.accepts(
        "skip-message-on-error",
        "If there is an error when processing a message, skip it instead of halt.",
    );
    p.accepts("bootstrap-server", "REQUIRED: The server(s) to connect to.")
        .with_required_arg()
        .described_as("server to connect to");
    p.accepts(
        "key-deserializer",
        "The name of the class to use for deserializing keys. Keys are printed as their bytes.",
    )
    .with_required_arg()
    .described_as("deserializer for key");
    p.accepts(
        "value-deserializer",
        "The name of the class to use for deserializing values. Values are printed as their bytes.",
    )
    .with_required_arg()
    .described_as("deserializer for values");
    p.accepts("enable-systest-events", "Log lifecycle events of the consumer in addition to logging consumed messages. (This is specific for system tests.)");
    p.accepts("isolation-level", "Set to read_committed in order to filter out transactional messages which are not committed. Set to read_uncommitted to read all messages.")
        .with_required_arg()
        .defaults_to("read_uncommitted");
    p.accepts("group", "The consumer group id of the consumer.")
        .with_required_arg()
        .described_as("consumer group id");
    p
}

/// `--consumer.config`: `Utils.loadProps` in the options' constructor, outside `main`'s try, so
/// the JVM reports the exception escaping `main`.
fn load(path: &str) -> Result<Properties, Abort> {
    load_properties(path).map_err(|e| {
        Abort::Fail(format!(
            "Exception in thread \"main\" {}",
            e.java_exception()
        ))
    })
}

pub fn parse_args(args: &[String]) -> Result<ConsumerOptions, Abort> {
    let o = parser()
        .parse(args)
        .map_err(|e| Abort::Usage(e.to_string()))?;
    maybe_help_or_version(
        args.len(),
        &o,
        "This tool helps to read data from Kafka topics and outputs it to standard output.",
    )?;

    // checkRequiredArgs
    let include = o.value_of("include").or_else(|| o.value_of("whitelist"));
    let topic = o.value_of("topic");
    if topic.is_some() == include.is_some() {
        let whitelist_note = if o.has("whitelist") {
            "--whitelist is DEPRECATED use --include instead; ignored if --include specified."
        } else {
            ""
        };
        return Err(Abort::Usage(format!(
            "Exactly one of --include/--topic is required. {whitelist_note}"
        )));
    }
    let partition = o.int_of("partition");
    if partition.is_some() {
        if topic.is_none() {
            return Err(Abort::Usage(
                "The topic is required when partition is specified.".into(),
            ));
        }
        if o.has("from-beginning") && o.has("offset") {
            return Err(Abort::Usage(
                "Options from-beginning and offset cannot be specified together.".into(),
            ));
        }
    } else if o.has("offset") {
        return Err(Abort::Usage(
            "The partition is required when offset is specified.".into(),
        ));
    }
    check_required_args(&o, &["bootstrap-server"])?;

    let from_file = match o.value_of("consumer.config") {
        Some(path) => load(path)?,
        None => Properties::new(),
    };
    let extra = parse_key_value_args(&o.values_of("consumer-property"));

    // checkConsumerGroup: every place a group id is given must agree.
    let mut groups: Vec<String> = Vec::new();
    for g in [
        o.value_of("group"),
        from_file.get("group.id"),
        extra.get("group.id"),
    ]
    .into_iter()
    .flatten()
    {
        if !groups.iter().any(|x| x == g) {
            groups.push(g.to_string());
        }
    }
    if groups.len() > 1 {
        let list: Vec<String> = groups.iter().map(|g| format!("'{g}'")).collect();
        return Err(Abort::Usage(format!(
            "The group ids provided in different places (directly using '--group', via '--consumer-property', or via '--consumer.config') do not match. Detected group ids: {}",
            list.join(", ")
        )));
    }
    if !groups.is_empty() && partition.is_some() {
        return Err(Abort::Usage(
            "Options group and partition cannot be specified together.".into(),
        ));
    }

    // buildConsumerProps
    let mut props = Properties::new();
    props.extend(&from_file);
    props.extend(&extra);
    let from_beginning = o.has("from-beginning");
    match props.get("auto.offset.reset") {
        Some(reset) if from_beginning && reset != "earliest" => {
            return Err(Abort::Fail(format!(
                "Can't simultaneously specify --from-beginning and 'auto.offset.reset={reset}', please remove one option"
            )));
        }
        Some(_) => {}
        None => props.set(
            "auto.offset.reset",
            if from_beginning { "earliest" } else { "latest" },
        ),
    }
    props.set(
        "bootstrap.servers",
        o.value_of("bootstrap-server").unwrap_or_default(),
    );
    if props.get("client.id").is_none() {
        props.set("client.id", "console-consumer");
    }
    if o.has("isolation-level") || !props.contains("isolation.level") {
        props.set(
            "isolation.level",
            o.value_of("isolation-level").unwrap_or("read_uncommitted"),
        );
    }
    let mut warnings = Vec::new();
    let group = groups.first().cloned();
    match &group {
        Some(g) => props.set("group.id", g.as_str()),
        None => {
            props.set(
                "group.id",
                format!("console-consumer-{}", rand::random::<u32>() % 100_000),
            );
            if !props.contains("enable.auto.commit") {
                props.set("enable.auto.commit", "false");
            }
        }
    }

    // parseOffset
    let start = if o.has("offset") {
        let raw = o.value_of("offset").unwrap_or("latest");
        match raw.to_ascii_lowercase().as_str() {
            "earliest" => StartAt::Earliest,
            "latest" => StartAt::Latest,
            _ => match raw.parse::<i64>() {
                Ok(n) if n >= 0 => StartAt::Offset(n),
                _ => {
                    return Err(Abort::Usage(format!(
                        "The provided offset value '{raw}' is incorrect. Valid values are 'earliest', 'latest', or a non-negative long."
                    )))
                }
            },
        }
    } else if partition.is_some() {
        if from_beginning {
            StartAt::Earliest
        } else {
            StartAt::Latest
        }
    } else {
        match props
            .get("auto.offset.reset")
            .map(|r| r.trim().to_ascii_lowercase())
            .as_deref()
        {
            Some("earliest") => StartAt::Earliest,
            Some("none") => StartAt::NoReset,
            _ => StartAt::Latest,
        }
    };

    // buildFormatter
    let class = o.value_of("formatter").unwrap_or(DEFAULT_FORMATTER);
    let no_op = NO_OP_FORMATTERS.contains(&class);
    // `convertDeprecatedClass`.
    if class == OLD_DEFAULT_FORMATTER
        || class == NO_OP_FORMATTERS[1]
        || class == LOGGING_FORMATTERS[1]
    {
        let new_name = class.replacen("kafka.tools.", "org.apache.kafka.tools.consumer.", 1);
        warnings.push(format!(
            "WARNING: {class} is deprecated and will be removed in the next major release. Please use {new_name} instead"
        ));
    } else if class != DEFAULT_FORMATTER && !no_op && class != LOGGING_FORMATTERS[0] {
        return Err(Abort::Usage(class.to_string()));
    }
    // `buildFormatter` catches the IOException and prints its message with the usage.
    let mut formatter_props = match o.value_of("formatter-config") {
        Some(path) => load_properties(path).map_err(|e| Abort::Usage(e.java_message()))?,
        None => Properties::new(),
    };
    formatter_props.extend(&parse_key_value_args(&o.values_of("property")));
    let mut formatter = MessageFormatter::from_properties(&formatter_props);
    formatter.no_op = no_op;

    Ok(ConsumerOptions {
        source: match topic {
            Some(t) => Source::Topic(t.to_string()),
            None => Source::Include(include.unwrap_or_default().to_string()),
        },
        partition,
        start,
        // Kafka loops `while (messageCount < maxMessages || maxMessages == -1)`: -1 is no
        // limit, any other negative value processes nothing.
        max_messages: o.int_of("max-messages").and_then(|n| match n {
            -1 => None,
            n => Some(u64::try_from(n).unwrap_or(0)),
        }),
        // `parseTimeoutMs`: a negative value means no timeout.
        timeout_ms: o.long_of("timeout-ms").and_then(|n| u64::try_from(n).ok()),
        skip_message_on_error: o.has("skip-message-on-error"),
        consumer_props: props,
        formatter,
        group,
        enable_systest_events: o.has("enable-systest-events"),
        warnings,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<ConsumerOptions, Abort> {
        let mut v: Vec<String> = vec!["--bootstrap-server".into(), "localhost:9092".into()];
        v.extend(args.iter().map(|s| s.to_string()));
        parse_args(&v)
    }

    fn usage(args: &[&str]) -> String {
        match run(args) {
            Err(Abort::Usage(m)) => m,
            other => panic!("expected usage, got {other:?}"),
        }
    }

    #[test]
    fn quickstart_from_beginning() {
        let o = run(&["--topic", "vmc-topic", "--from-beginning"]).unwrap();
        assert_eq!(o.source, Source::Topic("vmc-topic".into()));
        assert_eq!(o.start, StartAt::Earliest);
        assert_eq!(o.consumer_props.get("auto.offset.reset"), Some("earliest"));
        assert_eq!(o.consumer_props.get("client.id"), Some("console-consumer"));
        assert_eq!(o.consumer_props.get("enable.auto.commit"), Some("false"));
        assert!(o
            .consumer_props
            .get("group.id")
            .unwrap()
            .starts_with("console-consumer-"));
        assert_eq!(
            o.consumer_props.get("isolation.level"),
            Some("read_uncommitted")
        );
    }

    #[test]
    fn default_start_is_latest() {
        assert_eq!(run(&["--topic", "t"]).unwrap().start, StartAt::Latest);
        assert_eq!(
            run(&["--topic", "t", "--partition", "0"]).unwrap().start,
            StartAt::Latest
        );
        assert_eq!(
            run(&["--topic", "t", "--partition", "0", "--from-beginning"])
                .unwrap()
                .start,
            StartAt::Earliest
        );
        assert_eq!(
            run(&["--topic", "t", "--partition", "0", "--offset", "5"])
                .unwrap()
                .start,
            StartAt::Offset(5)
        );
        assert_eq!(
            run(&["--topic", "t", "--partition", "0", "--offset", "EARLIEST"])
                .unwrap()
                .start,
            StartAt::Earliest
        );
    }

    #[test]
    fn reset_none_has_no_start() {
        let o = run(&[
            "--topic",
            "t",
            "--consumer-property",
            "auto.offset.reset=none",
        ])
        .unwrap();
        assert_eq!(o.start, StartAt::NoReset);
    }

    #[test]
    fn topic_or_include_exactly_once() {
        assert_eq!(usage(&[]), "Exactly one of --include/--topic is required. ");
        assert_eq!(
            usage(&["--topic", "a", "--include", "b"]),
            "Exactly one of --include/--topic is required. "
        );
        let o = run(&["--include", "a.*"]).unwrap();
        assert_eq!(o.source, Source::Include("a.*".into()));
    }

    #[test]
    fn partition_and_offset_rules() {
        assert_eq!(
            usage(&["--include", "a", "--partition", "0"]),
            "The topic is required when partition is specified."
        );
        assert_eq!(
            usage(&["--topic", "a", "--offset", "3"]),
            "The partition is required when offset is specified."
        );
        assert_eq!(
            usage(&[
                "--topic",
                "a",
                "--partition",
                "0",
                "--offset",
                "3",
                "--from-beginning"
            ]),
            "Options from-beginning and offset cannot be specified together."
        );
        assert_eq!(
            usage(&["--topic", "a", "--partition", "0", "--offset", "-1"]),
            "The provided offset value '-1' is incorrect. Valid values are 'earliest', 'latest', or a non-negative long."
        );
        assert_eq!(
            usage(&["--topic", "a", "--partition", "0", "--offset", "x"]),
            "The provided offset value 'x' is incorrect. Valid values are 'earliest', 'latest', or a non-negative long."
        );
    }

    #[test]
    fn bootstrap_server_is_required() {
        let args: Vec<String> = ["--topic", "t"].iter().map(|s| s.to_string()).collect();
        assert_eq!(
            parse_args(&args),
            Err(Abort::Usage(
                "Missing required argument \"[bootstrap-server]\"".into()
            ))
        );
    }

    #[test]
    fn from_beginning_conflicts_with_latest_reset() {
        assert_eq!(
            run(&["--topic", "t", "--from-beginning", "--consumer-property", "auto.offset.reset=latest"]),
            Err(Abort::Fail("Can't simultaneously specify --from-beginning and 'auto.offset.reset=latest', please remove one option".into()))
        );
    }

    #[test]
    fn groups_are_used_and_checked() {
        let o = run(&["--topic", "t", "--group", "g"]).unwrap();
        assert_eq!(o.group.as_deref(), Some("g"));
        assert_eq!(o.consumer_props.get("group.id"), Some("g"));
        // With --group, auto commit keeps the consumer default (true).
        assert_eq!(o.consumer_props.get("enable.auto.commit"), None);
        assert!(o.warnings.is_empty());
        let o = run(&["--topic", "t", "--consumer-property", "group.id=h"]).unwrap();
        assert_eq!(o.consumer_props.get("group.id"), Some("h"));
        assert_eq!(
            usage(&["--topic", "t", "--group", "g", "--partition", "0"]),
            "Options group and partition cannot be specified together."
        );
        assert_eq!(
            usage(&["--topic", "t", "--group", "g", "--consumer-property", "group.id=h"]),
            "The group ids provided in different places (directly using '--group', via '--consumer-property', or via '--consumer.config') do not match. Detected group ids: 'g', 'h'"
        );
    }

    #[test]
    fn formatter_classes() {
        assert_eq!(run(&[
            "--topic",
            "t",
            "--formatter",
            "kafka.tools.DefaultMessageFormatter"
        ])
        .unwrap()
        .warnings,
            vec!["WARNING: kafka.tools.DefaultMessageFormatter is deprecated and will be removed in the next major release. Please use org.apache.kafka.tools.consumer.DefaultMessageFormatter instead"]);
        assert_eq!(run(&[
            "--topic",
            "t",
            "--formatter",
            "kafka.tools.NoOpMessageFormatter"
        ])
        .unwrap()
        .warnings,
            vec!["WARNING: kafka.tools.NoOpMessageFormatter is deprecated and will be removed in the next major release. Please use org.apache.kafka.tools.consumer.NoOpMessageFormatter instead"]);
        assert!(
            run(&[
                "--topic",
                "t",
                "--formatter",
                "org.apache.kafka.tools.consumer.NoOpMessageFormatter"
            ])
            .unwrap()
            .formatter
            .no_op
        );
        assert_eq!(usage(&["--topic", "t", "--formatter", "x.Y"]), "x.Y");
    }

    #[test]
    fn formatter_properties_and_limits() {
        let o = run(&[
            "--topic",
            "t",
            "--property",
            "print.key=true",
            "--max-messages",
            "3",
            "--timeout-ms",
            "100",
        ])
        .unwrap();
        assert!(o.formatter.print_key);
        assert_eq!(o.max_messages, Some(3));
        assert_eq!(o.timeout_ms, Some(100));
    }

    #[test]
    fn logging_formatter_prints_as_the_default_one() {
        let o = run(&[
            "--topic",
            "t",
            "--formatter",
            "org.apache.kafka.tools.consumer.LoggingMessageFormatter",
        ])
        .unwrap();
        assert!(!o.formatter.no_op);
        assert!(o.warnings.is_empty());
        let o = run(&[
            "--topic",
            "t",
            "--formatter",
            "kafka.tools.LoggingMessageFormatter",
        ])
        .unwrap();
        assert_eq!(o.warnings, vec!["WARNING: kafka.tools.LoggingMessageFormatter is deprecated and will be removed in the next major release. Please use org.apache.kafka.tools.consumer.LoggingMessageFormatter instead"]);
    }

    #[test]
    fn topic_and_whitelist_together_get_kafkas_note() {
        assert_eq!(
            usage(&["--topic", "t", "--whitelist", "a.*"]),
            "Exactly one of --include/--topic is required. --whitelist is DEPRECATED use --include instead; ignored if --include specified."
        );
    }

    #[test]
    fn missing_config_files_fail_as_kafka_reports_them() {
        match run(&["--topic", "t", "--consumer.config", "/nonexistent/c.properties"]) {
            Err(Abort::Fail(m)) => assert_eq!(
                m,
                "Exception in thread \"main\" java.nio.file.NoSuchFileException: /nonexistent/c.properties"
            ),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            usage(&[
                "--topic",
                "t",
                "--formatter-config",
                "/nonexistent/f.properties"
            ]),
            "/nonexistent/f.properties"
        );
    }

    #[test]
    fn timeout_ms_is_a_long_and_negative_means_none() {
        let timeout = |n: &str| {
            run(&["--topic", "t", "--timeout-ms", n])
                .unwrap()
                .timeout_ms
        };
        assert_eq!(timeout("3000000000"), Some(3_000_000_000));
        assert_eq!(timeout("-1"), None);
    }

    #[test]
    fn max_messages_minus_one_is_unlimited_and_other_negatives_process_nothing() {
        let max = |n: &str| {
            run(&["--topic", "t", "--max-messages", n])
                .unwrap()
                .max_messages
        };
        assert_eq!(max("-1"), None);
        assert_eq!(max("-5"), Some(0));
        assert_eq!(max("0"), Some(0));
    }
}
