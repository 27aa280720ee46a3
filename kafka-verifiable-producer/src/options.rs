//! `VerifiableProducer.argParser()` and `createFromArgs`: the argparse4j options of
//! `verifiable-producer` with Kafka 3.9's texts, and the producer properties they make
//! (`bootstrap.servers`, `acks`, `retries=0`, then `--producer.config`'s keys over them).

use cli::argparse::{Exclusive, Kind, Namespace, Opt, Parser, Stop};

/// The program name argparse4j prints.
pub const PROG: &str = "verifiable-producer";

/// What the options ask for.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub topic: String,
    /// Negative: produce until stopped.
    pub max_messages: i64,
    /// Records per second; negative: unthrottled.
    pub throughput: i64,
    /// `--value-prefix`: values are `<prefix>.<counter>`.
    pub value_prefix: Option<i32>,
    /// `--message-create-time` (ms since the epoch), when given (not -1).
    pub create_time: Option<i64>,
    /// `--repeating-keys`: keys count from 0 up to this (exclusive), then start again.
    pub repeating_keys: Option<i32>,
    /// The producer's properties, in the order `Properties.put` would leave them.
    pub producer_props: Vec<(String, String)>,
}

/// `argParser()`.
pub fn parser() -> Parser {
    let mut p = Parser::new(PROG);
    p.default_help = true;
    p.description = "This tool produces increasing integers to the specified topic and prints JSON metadata to stdout on each \"send\" request, making externally visible which messages have been acked and which have not.";
    p.exclusive.push(Exclusive {
        title: "Connection Group",
        description: "Group of arguments for connection to brokers",
        required: true,
    });
    p.opts.push(
        Opt::value(
            &["--topic"],
            "topic",
            Kind::Str,
            "Produce messages to this topic.",
        )
        .metavar("TOPIC")
        .required(),
    );
    p.opts.push(
        Opt::value(
            &["--bootstrap-server"],
            "bootstrapServer",
            Kind::Str,
            "REQUIRED: The server(s) to connect to. Comma-separated list of Kafka brokers in the form HOST1:PORT1,HOST2:PORT2,...",
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
            &["--max-messages"],
            "maxMessages",
            Kind::Int,
            "Produce this many messages. If -1, produce messages until the process is killed externally.",
        )
        .metavar("MAX-MESSAGES")
        .default("-1"),
    );
    p.opts.push(
        Opt::value(
            &["--throughput"],
            "throughput",
            Kind::Int,
            "If set >= 0, throttle maximum message throughput to *approximately* THROUGHPUT messages/sec.",
        )
        .metavar("THROUGHPUT")
        .default("-1"),
    );
    p.opts.push(
        Opt::value(
            &["--acks"],
            "acks",
            Kind::Int,
            "Acks required on each produced message. See Kafka docs on acks for details.",
        )
        .metavar("ACKS")
        .choices(&["0", "1", "-1"])
        .default("-1"),
    );
    p.opts.push(
        Opt::value(
            &["--producer.config"],
            "producer.config",
            Kind::Str,
            "Producer config properties file.",
        )
        .metavar("CONFIG_FILE"),
    );
    p.opts.push(
        Opt::value(
            &["--message-create-time"],
            "createTime",
            Kind::Long,
            "Send messages with creation time starting at the arguments value, in milliseconds since epoch",
        )
        .metavar("CREATETIME")
        .default("-1"),
    );
    p.opts.push(
        Opt::value(
            &["--value-prefix"],
            "valuePrefix",
            Kind::Int,
            "If specified, each produced value will have this prefix with a dot separator",
        )
        .metavar("VALUE-PREFIX"),
    );
    p.opts.push(
        Opt::value(
            &["--repeating-keys"],
            "repeatingKeys",
            Kind::Int,
            "If specified, each produced record will have a key starting at 0 increment by 1 up to the number specified (exclusive), then the key is set to 0 again",
        )
        .metavar("REPEATING-KEYS"),
    );
    p
}

/// Parses `args` (without the program name) and builds the producer properties, reading
/// `--producer.config` (a file that cannot be read is a usage error whose message is Java's
/// exception message, the path, as `createFromArgs` throws it).
pub fn options(args: &[String]) -> Result<Options, Stop> {
    let p = parser();
    let ns = p.parse(args)?;
    from_namespace(&p, &ns)
}

fn from_namespace(p: &Parser, ns: &Namespace) -> Result<Options, Stop> {
    let topic = ns.get("topic").unwrap_or_default().to_string();
    let bootstrap = ns
        .get("bootstrapServer")
        .or_else(|| ns.get("brokerList"))
        .unwrap_or_default()
        .to_string();
    let mut props: Vec<(String, String)> = vec![
        ("bootstrap.servers".to_string(), bootstrap),
        (
            "key.serializer".to_string(),
            "org.apache.kafka.common.serialization.StringSerializer".to_string(),
        ),
        (
            "value.serializer".to_string(),
            "org.apache.kafka.common.serialization.StringSerializer".to_string(),
        ),
        (
            "acks".to_string(),
            ns.get_i32("acks").unwrap_or(-1).to_string(),
        ),
        // No producer retries.
        ("retries".to_string(), "0".to_string()),
    ];
    if let Some(file) = ns.get("producer.config") {
        let loaded =
            cli::load_properties(file).map_err(|e| Stop::Error(p.error_text(&e.java_message())))?;
        for (k, v) in loaded.iter() {
            match props.iter_mut().find(|(key, _)| key == k) {
                Some(entry) => entry.1 = v.to_string(),
                None => props.push((k.to_string(), v.to_string())),
            }
        }
    }
    let create_time = ns.get_i64("createTime").filter(|t| *t != -1);
    Ok(Options {
        topic,
        max_messages: ns.get_i64("maxMessages").unwrap_or(-1),
        throughput: ns.get_i64("throughput").unwrap_or(-1),
        value_prefix: ns.get_i32("valuePrefix"),
        create_time,
        repeating_keys: ns.get_i32("repeatingKeys"),
        producer_props: props,
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
    fn defaults_and_properties_are_kafkas() {
        let o = options(&args(&["--topic", "t", "--bootstrap-server", "h:9092"])).unwrap();
        assert_eq!(o.max_messages, -1);
        assert_eq!(o.throughput, -1);
        assert_eq!(o.create_time, None);
        assert_eq!(o.value_prefix, None);
        let get = |k: &str| {
            o.producer_props
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("bootstrap.servers"), Some("h:9092"));
        assert_eq!(get("acks"), Some("-1"));
        assert_eq!(get("retries"), Some("0"));
    }

    #[test]
    fn broker_list_is_the_deprecated_alternative() {
        let o = options(&args(&["--topic", "t", "--broker-list", "b:1"])).unwrap();
        assert_eq!(o.producer_props[0].1, "b:1");
    }

    #[test]
    fn usage_errors_use_argparse4j_texts() {
        // argparse4j's TextHelper justifies the wrapped message to 75 columns.
        assert!(error(&["--bootstrap-server", "h:1"])
            .ends_with("verifiable-producer: error: argument --topic is required\n"));
        assert!(error(&["--topic", "t"]).ends_with(
            "verifiable-producer: error:  one  of  the  arguments  --bootstrap-server --\nbroker-list is required\n"
        ));
        assert!(error(&["--topic", "t", "--bootstrap-server", "a:1", "--broker-list", "b:1"])
            .ends_with(
                "verifiable-producer:  error:  argument  --broker-list:   not  allowed  with\nargument --bootstrap-server\n"
            ));
        assert!(error(&["--topic", "t", "--bootstrap-server", "a:1", "--acks", "2"]).ends_with(
            "verifiable-producer: error: argument  --acks:  invalid  choice: '2' (choose\nfrom {0,1,-1})\n"
        ));
        assert!(error(&["--topic", "t", "--bootstrap-server", "a:1", "--throughput", "x"])
            .ends_with("verifiable-producer: error: argument  --throughput:  could  not convert 'x'\nto Integer (For input string: \"x\")\n"));
        // Every error starts with the usage.
        assert!(
            error(&["--topic", "t"]).starts_with("usage: verifiable-producer [-h] --topic TOPIC")
        );
    }

    #[test]
    fn usage_line_is_argparse4js() {
        let usage = parser().format_usage(&[]);
        assert_eq!(
            usage,
            "usage: verifiable-producer [-h] --topic TOPIC [--max-messages MAX-MESSAGES]\n                           [--throughput THROUGHPUT] [--acks ACKS]\n                           [--producer.config CONFIG_FILE]\n                           [--message-create-time CREATETIME]\n                           [--value-prefix VALUE-PREFIX]\n                           [--repeating-keys REPEATING-KEYS]\n                           (--bootstrap-server HOST1:PORT1[,HOST2:PORT2[...]]\n                           | --broker-list HOST1:PORT1[,HOST2:PORT2[...]])\n"
        );
    }

    #[test]
    fn acks_accepts_its_three_values() {
        for acks in ["0", "1", "-1"] {
            let o = options(&args(&[
                "--topic",
                "t",
                "--bootstrap-server",
                "a:1",
                "--acks",
                acks,
            ]))
            .unwrap();
            assert!(o
                .producer_props
                .contains(&("acks".to_string(), acks.to_string())));
        }
    }

    #[test]
    fn a_missing_config_file_is_a_usage_error_naming_the_path() {
        let text = error(&[
            "--topic",
            "t",
            "--bootstrap-server",
            "a:1",
            "--producer.config",
            "/nonexistent/p.properties",
        ]);
        assert!(text.ends_with("verifiable-producer: error: /nonexistent/p.properties\n"));
    }
}
