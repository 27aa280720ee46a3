//! `ConsoleProducer.ProducerConfig`: the console producer's options, Kafka's checks, and the
//! producer and reader properties they produce.

use cli::host_port::INVALID_HOST_PORT;
use cli::usage::{check_required_args, maybe_help_or_version};
use cli::{
    load_properties, parse_key_value_args, validate_host_ports, Abort, OptionParser, ParsedOptions,
    Properties, ValueType,
};

/// Line readers this tool has: Kafka's default class, by its old and new names.
const LINE_READERS: [&str; 3] = [
    "kafka.tools.ConsoleProducer$LineMessageReader",
    "kafka.tools.LineMessageReader",
    "org.apache.kafka.tools.LineMessageReader",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProducerOptions {
    pub topic: String,
    pub sync: bool,
    /// Producer configs, Kafka's key names, in precedence order already applied.
    pub producer_props: Properties,
    /// `--reader-config` then `--property` (which wins).
    pub reader_props: Properties,
}

pub fn parser() -> OptionParser {
    let mut p = OptionParser::new();
    p.accepts("topic", "REQUIRED: The topic id to produce messages to.")
        .with_required_arg()
        .described_as("topic");
    p.accepts("broker-list", "DEPRECATED, use --bootstrap-server instead; ignored if --bootstrap-server is specified.  The broker list string in the form HOST1:PORT1,HOST2:PORT2.")
        .with_required_arg()
        .described_as("broker-list");
    p.accepts("bootstrap-server", "REQUIRED unless --broker-list(deprecated) is specified. The server(s) to connect to. The broker list string in the form HOST1:PORT1,HOST2:PORT2.")
        .with_required_arg()
        .described_as("server to connect to")
        .required_unless("broker-list");
    p.accepts("sync", "If set message send requests to the brokers are synchronously, one at a time as they arrive.");
    p.accepts("compression-codec", "The compression codec: either 'none', 'gzip', 'snappy', 'lz4', or 'zstd'.If specified without value, then it defaults to 'gzip'")
        .with_optional_arg()
        .described_as("compression-codec");
    p.accepts("batch-size", "Number of messages to send in a single batch if they are not being sent synchronously. please note that this option will be replaced if max-partition-memory-bytes is also set")
        .with_required_arg()
        .described_as("size")
        .of_type(ValueType::Integer)
        .defaults_to("16384");
    p.accepts("message-send-max-retries", "Brokers can fail receiving the message for multiple reasons, and being unavailable transiently is just one of them. This property specifies the number of retries before the producer give up and drop this message. This is the option to control `retries` in producer configs.")
        .with_required_arg()
        .of_type(ValueType::Integer)
        .defaults_to("3");
    p.accepts("retry-backoff-ms", "Before each retry, the producer refreshes the metadata of relevant topics. Since leader election takes a bit of time, this property specifies the amount of time that the producer waits before refreshing the metadata. This is the option to control `retry.backoff.ms` in producer configs.")
        .with_required_arg()
        .of_type(ValueType::Long)
        .defaults_to("100");
    p.accepts("timeout", "If set and the producer is running in asynchronous mode, this gives the maximum amount of time a message will queue awaiting sufficient batch size. The value is given in ms. This is the option to control `linger.ms` in producer configs.")
        .with_required_arg()
        .described_as("timeout_ms")
        .of_type(ValueType::Long)
        .defaults_to("1000");
    p.accepts(
        "request-required-acks",
        "The required `acks` of the producer requests",
    )
    .with_required_arg()
    .described_as("request required acks")
    .defaults_to("-1");
    p.accepts(
        "request-timeout-ms",
        "The ack timeout of the producer requests. Value must be non-negative and non-zero.",
    )
    .with_required_arg()
    .described_as("request timeout ms")
    .of_type(ValueType::Integer)
    .defaults_to("1500");
    p.accepts("metadata-expiry-ms", "The period of time in milliseconds after which we force a refresh of metadata even if we haven't seen any leadership changes. This is the option to control `metadata.max.age.ms` in producer configs.")
        .with_required_arg()
        .described_as("metadata expiration interval")
        .of_type(ValueType::Long)
        .defaults_to("300000");
    p.accepts(
        "max-block-ms",
        "The max time that the producer will block for during a send request.",
    )
    .with_required_arg()
    .described_as("max block on send")
    .of_type(ValueType::Long)
    .defaults_to("60000");
    p.accepts("max-memory-bytes", "The total memory used by the producer to buffer records waiting to be sent to the server. This is the option to control `buffer.memory` in producer configs.")
        .with_required_arg()
        .described_as("total memory in bytes")
        .of_type(ValueType::Long)
        .defaults_to("33554432");
    p.accepts("max-partition-memory-bytes", "The buffer size allocated for a partition. When records are received which are smaller than this size the producer will attempt to optimistically group them together until this size is reached. This is the option to control `batch.size` in producer configs.")
        .with_required_arg()
        .described_as("memory in bytes per partition")
        .of_type(ValueType::Integer)
        .defaults_to("16384");
    p.accepts("socket-buffer-size", "The size of the tcp RECV size. This is the option to control `send.buffer.bytes` in producer configs.")
        .with_required_arg()
        .described_as("size")
        .of_type(ValueType::Integer)
        .defaults_to("102400");
    p.accepts("line-reader", "The class name of the class to use for reading lines from standard in. By default each line is read as a separate message.")
        .with_required_arg()
        .described_as("reader_class")
        .defaults_to(LINE_READERS[0]);
    p.accepts("property", "A mechanism to pass user-defined properties in the form key=value to the message reader. This allows custom configuration for a user-defined message reader.\nDefault properties include:\n parse.key=false\n parse.headers=false\n ignore.error=false\n key.separator=\\t\n headers.delimiter=\\t\n headers.separator=,\n headers.key.separator=:\n null.marker=   When set, any fields (key, value and headers) equal to this will be replaced by null\nDefault parsing pattern when:\n parse.headers=true and parse.key=true:\n  \"h1:v1,h2:v2...\\tkey\\tvalue\"\n parse.key=true:\n  \"key\\tvalue\"\n parse.headers=true:\n  \"h1:v1,h2:v2...\\tvalue\"")
        .with_required_arg()
        .described_as("prop");
    p.repeatable("property");
    p.accepts("reader-config", "Config properties file for the message reader. Note that [property] takes precedence over this config.")
        .with_required_arg()
        .described_as("config file");
    p.accepts(
        "producer-property",
        "A mechanism to pass user-defined properties in the form key=value to the producer. ",
    )
    .with_required_arg()
    .described_as("producer_prop");
    p.repeatable("producer-property");
    p.accepts("producer.config", "Producer config properties file. Note that [producer-property] takes precedence over this config.")
        .with_required_arg()
        .described_as("config file");
    p
}

/// Parses and checks the arguments, and builds the producer and reader properties.
pub fn parse_args(args: &[String]) -> Result<ProducerOptions, Abort> {
    let parser = parser();
    let o = parser
        .parse(args)
        .map_err(|e| Abort::Usage(e.to_string()))?;
    maybe_help_or_version(
        args.len(),
        &o,
        "This tool helps to read data from standard input and publish it to Kafka.",
    )?;
    check_required_args(&o, &["topic"])?;
    let servers = if o.has("bootstrap-server") {
        o.value_of("bootstrap-server")
    } else {
        o.value_of("broker-list")
    }
    .unwrap_or_default()
    .to_string();
    if !validate_host_ports(&servers) {
        return Err(Abort::Usage(INVALID_HOST_PORT.to_string()));
    }
    let reader_class = o.value_of("line-reader").unwrap_or(LINE_READERS[0]);
    if !LINE_READERS.contains(&reader_class) {
        return Err(Abort::Fail(format!(
            "java.lang.ClassNotFoundException: {reader_class}"
        )));
    }
    let producer_props = producer_props(&o, &servers)?;
    let mut reader_props = match o.value_of("reader-config") {
        Some(path) => load_properties(path).map_err(|e| Abort::Fail(e.java_exception()))?,
        None => Properties::new(),
    };
    reader_props.extend(&parse_key_value_args(&o.values_of("property")));
    Ok(ProducerOptions {
        topic: o.value_of("topic").unwrap_or_default().to_string(),
        sync: o.has("sync"),
        producer_props,
        reader_props,
    })
}

/// `CommandLineUtils.maybeMergeOptions`: an explicit option wins, then a value already in the
/// properties, then the option's default.
fn merge(props: &mut Properties, key: &str, o: &ParsedOptions, option: &str) {
    if o.has(option) || !props.contains(key) {
        if let Some(v) = o.value_of(option) {
            props.set(key, v);
        }
    }
}

fn producer_props(o: &ParsedOptions, servers: &str) -> Result<Properties, Abort> {
    let mut props = match o.value_of("producer.config") {
        Some(path) => load_properties(path).map_err(|e| Abort::Fail(e.java_exception()))?,
        None => Properties::new(),
    };
    props.extend(&parse_key_value_args(&o.values_of("producer-property")));
    props.set("bootstrap.servers", servers);
    // Kafka always sets compression.type from --compression-codec (none when absent), which
    // silently drops a compression.type given as a producer property; we keep that one unless
    // the option is on the command line.
    if o.has("compression-codec") {
        let codec = o
            .value_of("compression-codec")
            .filter(|c| !c.is_empty())
            .unwrap_or("gzip");
        props.set("compression.type", codec);
    } else if !props.contains("compression.type") {
        props.set("compression.type", "none");
    }
    if props.get("client.id").is_none() {
        props.set("client.id", "console-producer");
    }
    merge(&mut props, "linger.ms", o, "timeout");
    merge(&mut props, "acks", o, "request-required-acks");
    merge(&mut props, "request.timeout.ms", o, "request-timeout-ms");
    merge(&mut props, "retries", o, "message-send-max-retries");
    merge(&mut props, "retry.backoff.ms", o, "retry-backoff-ms");
    merge(&mut props, "send.buffer.bytes", o, "socket-buffer-size");
    merge(&mut props, "buffer.memory", o, "max-memory-bytes");
    merge(&mut props, "batch.size", o, "batch-size");
    merge(&mut props, "batch.size", o, "max-partition-memory-bytes");
    merge(&mut props, "metadata.max.age.ms", o, "metadata-expiry-ms");
    merge(&mut props, "max.block.ms", o, "max-block-ms");
    Ok(props)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<ProducerOptions, Abort> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        parse_args(&args)
    }

    #[test]
    fn quickstart_broker_list_form() {
        let o = run(&["--broker-list", "localhost:9092", "--topic", "vmc-topic"]).unwrap();
        assert_eq!(o.topic, "vmc-topic");
        let p = &o.producer_props;
        assert_eq!(p.get("bootstrap.servers"), Some("localhost:9092"));
        assert_eq!(p.get("client.id"), Some("console-producer"));
        assert_eq!(p.get("acks"), Some("-1"));
        assert_eq!(p.get("linger.ms"), Some("1000"));
        assert_eq!(p.get("batch.size"), Some("16384"));
        assert_eq!(p.get("retries"), Some("3"));
        assert_eq!(p.get("request.timeout.ms"), Some("1500"));
        assert_eq!(p.get("compression.type"), Some("none"));
        assert!(!o.sync);
    }

    #[test]
    fn missing_config_files_are_javas_no_such_file_exception() {
        for option in ["--producer.config", "--reader-config"] {
            match run(&[
                "--bootstrap-server",
                "localhost:9092",
                "--topic",
                "t",
                option,
                "/nonexistent/p.properties",
            ]) {
                Err(Abort::Fail(m)) => assert_eq!(
                    m,
                    "java.nio.file.NoSuchFileException: /nonexistent/p.properties"
                ),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn bootstrap_server_wins_over_broker_list() {
        let o = run(&[
            "--bootstrap-server",
            "a:1",
            "--broker-list",
            "b:2",
            "--topic",
            "t",
        ])
        .unwrap();
        assert_eq!(o.producer_props.get("bootstrap.servers"), Some("a:1"));
    }

    #[test]
    fn missing_servers_and_topic_messages() {
        assert_eq!(
            run(&["--topic", "t"]),
            Err(Abort::Usage(
                "Missing required option(s) [bootstrap-server]".into()
            ))
        );
        assert_eq!(
            run(&["--bootstrap-server", "a:1"]),
            Err(Abort::Usage("Missing required argument \"[topic]\"".into()))
        );
        assert_eq!(
            run(&["--bootstrap-server", "localhost", "--topic", "t"]),
            Err(Abort::Usage(INVALID_HOST_PORT.into()))
        );
        assert_eq!(
            run(&["--bootstrap-server", "a:1", "--topic", "t", "--bogus"]),
            Err(Abort::Usage("bogus is not a recognized option".into()))
        );
    }

    #[test]
    fn compression_codec_bare_means_gzip() {
        let o = run(&[
            "--bootstrap-server",
            "a:1",
            "--topic",
            "t",
            "--compression-codec",
        ])
        .unwrap();
        assert_eq!(o.producer_props.get("compression.type"), Some("gzip"));
        let o = run(&[
            "--bootstrap-server",
            "a:1",
            "--compression-codec",
            "--topic",
            "t",
        ])
        .unwrap();
        assert_eq!(o.producer_props.get("compression.type"), Some("gzip"));
        let o = run(&[
            "--bootstrap-server",
            "a:1",
            "--topic",
            "t",
            "--compression-codec",
            "lz4",
        ])
        .unwrap();
        assert_eq!(o.producer_props.get("compression.type"), Some("lz4"));
    }

    #[test]
    fn explicit_option_beats_producer_property_which_beats_default() {
        let o = run(&[
            "--bootstrap-server",
            "a:1",
            "--topic",
            "t",
            "--producer-property",
            "acks=1",
            "--producer-property",
            "linger.ms=5",
            "--timeout",
            "7",
        ])
        .unwrap();
        assert_eq!(o.producer_props.get("acks"), Some("1"));
        assert_eq!(o.producer_props.get("linger.ms"), Some("7"));
        let o = run(&[
            "--bootstrap-server",
            "a:1",
            "--topic",
            "t",
            "--request-required-acks",
            "0",
            "--sync",
        ])
        .unwrap();
        assert_eq!(o.producer_props.get("acks"), Some("0"));
        assert!(o.sync);
        let o = run(&[
            "--bootstrap-server",
            "a:1",
            "--topic",
            "t",
            "--max-partition-memory-bytes",
            "99",
            "--batch-size",
            "5",
        ])
        .unwrap();
        assert_eq!(o.producer_props.get("batch.size"), Some("99"));
    }

    #[test]
    fn reader_properties_from_property_flags() {
        let o = run(&[
            "--bootstrap-server",
            "a:1",
            "--topic",
            "t",
            "--property",
            "parse.key=true",
            "--property",
            "key.separator=:",
        ])
        .unwrap();
        assert_eq!(o.reader_props.get("parse.key"), Some("true"));
        assert_eq!(o.reader_props.get("key.separator"), Some(":"));
    }

    #[test]
    fn help_and_version() {
        assert_eq!(
            run(&["--help"]),
            Err(Abort::Usage(
                "This tool helps to read data from standard input and publish it to Kafka.".into()
            ))
        );
        assert_eq!(run(&["--version"]), Err(Abort::Version));
    }
}
