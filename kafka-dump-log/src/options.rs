//! `DumpLogSegmentsOptions`: kafka-dump-log's options with Kafka 3.9's descriptions and
//! defaults, and the values the dump reads from them.

use cli::usage::{check_required_args, maybe_help_or_version};
use cli::{Abort, OptionParser, ParsedOptions, ValueType};

use crate::failure::Failure;

/// What `maybePrintHelpOrVersion` prints above the usage.
pub const HELP_MESSAGE: &str = "This tool helps to parse a log file and dump its contents to the console, useful for debugging a seemingly corrupt log segment.";

/// `org.apache.kafka.tools.api.StringDecoder`, the decoders' default.
pub const STRING_DECODER: &str = "org.apache.kafka.tools.api.StringDecoder";

/// Which parser turns record keys and values into text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parser {
    /// `--offsets-decoder`: `__consumer_offsets` records as JSON.
    Offsets,
    /// `--transaction-log-decoder`: `__transaction_state` records.
    TransactionLog,
    /// `--cluster-metadata-decoder`: KRaft metadata records (refused: no KRaft here).
    ClusterMetadata,
    /// `--remote-log-metadata-decoder`: tiered-storage metadata (refused).
    RemoteLogMetadata,
    /// `--key-decoder-class` / `--value-decoder-class`.
    Decoders { key: String, value: String },
}

/// The options after parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpOptions {
    pub files: Vec<String>,
    pub print_data_log: bool,
    pub deep_iteration: bool,
    pub verify_only: bool,
    pub index_sanity_only: bool,
    pub skip_record_metadata: bool,
    /// `--max-message-size` (bytes): how much of the log an index entry's batch is read from.
    pub max_message_size: i32,
    /// `--max-bytes` (bytes): how much of each `.log` file is read.
    pub max_bytes: i32,
    pub parser: Parser,
}

/// Why the tool stops before dumping.
#[derive(Debug)]
pub enum Stop {
    /// `--help`, no arguments, `--version`, a missing `--files`.
    Abort(Abort),
    /// jopt's exception escaping the options' constructor.
    Exception(Failure),
}

/// The option table.
pub fn parser() -> OptionParser {
    let mut p = OptionParser::new();
    p.accepts("print-data-log", "If set, printing the messages content when dumping data logs. Automatically set if any decoder option is specified.");
    p.accepts(
        "verify-index-only",
        "If set, just verify the index log without printing its content.",
    );
    p.accepts("index-sanity-check", "If set, just checks the index sanity without printing its content. This is the same check that is executed on broker startup to determine if an index needs rebuilding or not.");
    p.accepts(
        "files",
        "REQUIRED: The comma separated list of data and index log files to be dumped.",
    )
    .with_required_arg()
    .described_as("file1, file2, ...");
    p.accepts("max-message-size", "Size of largest message.")
        .with_required_arg()
        .described_as("size")
        .of_type(ValueType::Integer)
        .defaults_to("5242880");
    p.accepts(
        "max-bytes",
        "Limit the amount of total batches read in bytes avoiding reading the whole .log file(s).",
    )
    .with_required_arg()
    .described_as("size")
    .of_type(ValueType::Integer)
    .defaults_to("2147483647");
    p.accepts("deep-iteration", "If set, uses deep instead of shallow iteration. Automatically set if print-data-log is enabled.");
    p.accepts("value-decoder-class", "If set, used to deserialize the messages. This class should implement org.apache.kafka.tools.api.Decoder trait. Custom jar should be available in kafka/libs directory.")
        .with_optional_arg()
        .defaults_to(STRING_DECODER);
    p.accepts("key-decoder-class", "If set, used to deserialize the keys. This class should implement org.apache.kafka.tools.api.Decoder trait. Custom jar should be available in kafka/libs directory.")
        .with_optional_arg()
        .defaults_to(STRING_DECODER);
    p.accepts(
        "offsets-decoder",
        "If set, log data will be parsed as offset data from the __consumer_offsets topic.",
    );
    p.accepts("transaction-log-decoder", "If set, log data will be parsed as transaction metadata from the __transaction_state topic.");
    p.accepts(
        "cluster-metadata-decoder",
        "If set, log data will be parsed as cluster metadata records.",
    );
    p.accepts("remote-log-metadata-decoder", "If set, log data will be parsed as TopicBasedRemoteLogMetadataManager (RLMM) metadata records. Instead, the value-decoder-class option can be used if a custom RLMM implementation is configured.");
    p.accepts(
        "skip-record-metadata",
        "Whether to skip printing metadata for each record.",
    );
    p
}

fn int_of(o: &ParsedOptions, name: &str, default: i32) -> Result<i32, Stop> {
    match o.value_of(name) {
        None => Ok(default),
        Some(raw) => raw.parse().map_err(|_| {
            Stop::Exception(Failure::new(
                "joptsimple.OptionArgumentConversionException",
                format!("Cannot parse argument '{raw}' of option {name}"),
            ))
        }),
    }
}

/// Parses the arguments as the options' constructor and `checkArgs` do.
pub fn parse_args(args: &[String]) -> Result<DumpOptions, Stop> {
    let p = parser();
    let o = p
        .parse(args)
        .map_err(|e| Stop::Exception(Failure::new(e.java_class(), e.to_string())))?;
    maybe_help_or_version(args.len(), &o, HELP_MESSAGE).map_err(Stop::Abort)?;
    check_required_args(&o, &["files"]).map_err(Stop::Abort)?;
    let max_message_size = int_of(&o, "max-message-size", 5 * 1024 * 1024)?;
    let max_bytes = int_of(&o, "max-bytes", i32::MAX)?;
    let decoder_given = o.has("value-decoder-class") || o.has("key-decoder-class");
    let print_data_log = o.has("print-data-log")
        || o.has("offsets-decoder")
        || o.has("transaction-log-decoder")
        || o.has("cluster-metadata-decoder")
        || o.has("remote-log-metadata-decoder")
        || decoder_given;
    let parser = if o.has("offsets-decoder") {
        Parser::Offsets
    } else if o.has("transaction-log-decoder") {
        Parser::TransactionLog
    } else if o.has("cluster-metadata-decoder") {
        Parser::ClusterMetadata
    } else if o.has("remote-log-metadata-decoder") {
        Parser::RemoteLogMetadata
    } else {
        // An optional-argument option given without a value keeps its default.
        let class = |name: &str| {
            o.value_of(name)
                .filter(|v| !v.is_empty())
                .unwrap_or(STRING_DECODER)
                .to_string()
        };
        Parser::Decoders {
            key: class("key-decoder-class"),
            value: class("value-decoder-class"),
        }
    };
    Ok(DumpOptions {
        // Java's `String.split(",")`: empty trailing pieces are dropped.
        files: split_like_java(o.value_of("files").unwrap_or_default()),
        print_data_log,
        deep_iteration: o.has("deep-iteration") || print_data_log,
        verify_only: o.has("verify-index-only"),
        index_sanity_only: o.has("index-sanity-check"),
        skip_record_metadata: o.has("skip-record-metadata"),
        max_message_size,
        max_bytes,
        parser,
    })
}

/// `String.split(",")`: every piece, except that trailing empty ones are removed.
fn split_like_java(s: &str) -> Vec<String> {
    // Without a separator Java returns the input itself, even an empty one.
    if !s.contains(',') {
        return vec![s.to_string()];
    }
    // With one, every trailing empty string goes, so "," and ",," split into nothing.
    let mut parts: Vec<String> = s.split(',').map(str::to_string).collect();
    while parts.last().is_some_and(String::is_empty) {
        parts.pop();
    }
    parts
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn print_data_log_implies_deep_iteration() {
        let o = parse_args(&args(&["--files", "a.log,b.index,", "--print-data-log"])).unwrap();
        assert_eq!(o.files, vec!["a.log", "b.index"]);
        // String.split(","): trailing empty strings go, all of them when nothing else is left.
        for (given, split) in [
            (",", vec![]),
            (",,", vec![]),
            ("", vec![""]),
            (",a.log", vec!["", "a.log"]),
            ("a.log,,b.log", vec!["a.log", "", "b.log"]),
        ] {
            assert_eq!(split_like_java(given), split, "{given:?}");
        }
        assert!(o.print_data_log && o.deep_iteration);
        assert_eq!(o.max_bytes, i32::MAX);
        assert_eq!(o.max_message_size, 5 * 1024 * 1024);
        let o = parse_args(&args(&["--files", "a.log", "--value-decoder-class"])).unwrap();
        assert!(o.print_data_log && o.deep_iteration);
        assert_eq!(
            o.parser,
            Parser::Decoders {
                key: STRING_DECODER.into(),
                value: STRING_DECODER.into()
            }
        );
        let o = parse_args(&args(&["--files", "a.log"])).unwrap();
        assert!(!o.print_data_log && !o.deep_iteration);
    }

    #[test]
    fn help_is_kafkas_option_table() {
        let Err(Stop::Abort(abort)) = parse_args(&args(&["--help"])) else {
            panic!("expected the usage");
        };
        let (out, err) = abort.render(&parser());
        assert_eq!(out, "");
        assert_eq!(
            err,
            "\
         This tool helps to parse a log file and dump its contents to the console, useful for debugging a seemingly corrupt log segment.\n\
         Option                               Description                            \n\
         ------                               -----------                            \n\
         --cluster-metadata-decoder           If set, log data will be parsed as     \n\
         \x20                                      cluster metadata records.            \n\
         --deep-iteration                     If set, uses deep instead of shallow   \n\
         \x20                                      iteration. Automatically set if      \n\
         \x20                                      print-data-log is enabled.           \n\
         --files <String: file1, file2, ...>  REQUIRED: The comma separated list of  \n\
         \x20                                      data and index log files to be       \n\
         \x20                                      dumped.                              \n\
         --help                               Print usage information.               \n\
         --index-sanity-check                 If set, just checks the index sanity   \n\
         \x20                                      without printing its content. This   \n\
         \x20                                      is the same check that is executed   \n\
         \x20                                      on broker startup to determine if an \n\
         \x20                                      index needs rebuilding or not.       \n\
         --key-decoder-class [String]         If set, used to deserialize the keys.  \n\
         \x20                                      This class should implement          \n\
         \x20                                      org.apache.kafka.tools.api.Decoder   \n\
         \x20                                      trait. Custom jar should be          \n\
         \x20                                      available in kafka/libs directory.   \n\
         \x20                                      (default:                            \n\
         \x20                                      org.apache.kafka.tools.api.StringDecoder)\n\
         --max-bytes <Integer: size>          Limit the amount of total batches read \n\
         \x20                                      in bytes avoiding reading the whole  \n\
         \x20                                      .log file(s). (default: 2147483647)  \n\
         --max-message-size <Integer: size>   Size of largest message. (default:     \n\
         \x20                                      5242880)                             \n\
         --offsets-decoder                    If set, log data will be parsed as     \n\
         \x20                                      offset data from the                 \n\
         \x20                                      __consumer_offsets topic.            \n\
         --print-data-log                     If set, printing the messages content  \n\
         \x20                                      when dumping data logs.              \n\
         \x20                                      Automatically set if any decoder     \n\
         \x20                                      option is specified.                 \n\
         --remote-log-metadata-decoder        If set, log data will be parsed as     \n\
         \x20                                      TopicBasedRemoteLogMetadataManager   \n\
         \x20                                      (RLMM) metadata records. Instead,    \n\
         \x20                                      the value-decoder-class option can   \n\
         \x20                                      be used if a custom RLMM             \n\
         \x20                                      implementation is configured.        \n\
         --skip-record-metadata               Whether to skip printing metadata for  \n\
         \x20                                      each record.                         \n\
         --transaction-log-decoder            If set, log data will be parsed as     \n\
         \x20                                      transaction metadata from the        \n\
         \x20                                      __transaction_state topic.           \n\
         --value-decoder-class [String]       If set, used to deserialize the        \n\
         \x20                                      messages. This class should          \n\
         \x20                                      implement                            \n\
         \x20                                      org.apache.kafka.tools.api.Decoder   \n\
         \x20                                      trait. Custom jar should be          \n\
         \x20                                      available in kafka/libs directory.   \n\
         \x20                                      (default:                            \n\
         \x20                                      org.apache.kafka.tools.api.StringDecoder)\n\
         --verify-index-only                  If set, just verify the index log      \n\
         \x20                                      without printing its content.        \n\
         --version                            Display Kafka version.                 \n"
        );
        assert_eq!(abort.exit_code(), 1);
    }

    #[test]
    fn files_is_required() {
        let Err(Stop::Abort(abort)) = parse_args(&args(&["--deep-iteration"])) else {
            panic!("expected a usage error");
        };
        let (_, err) = abort.render(&parser());
        assert!(
            err.starts_with("Missing required argument \"[files]\"\n"),
            "{err}"
        );
        assert!(err.contains("--files <String: file1, file2, ...>"), "{err}");
    }

    #[test]
    fn bad_values_are_jopt_exceptions() {
        let Err(Stop::Exception(e)) = parse_args(&args(&["--files", "a.log", "--max-bytes", "x"]))
        else {
            panic!("expected an exception");
        };
        assert_eq!(
            e.report(),
            "Exception in thread \"main\" joptsimple.OptionArgumentConversionException: Cannot parse argument 'x' of option max-bytes\n"
        );
        let Err(Stop::Exception(e)) = parse_args(&args(&["--files", "a.log", "--nope"])) else {
            panic!("expected an exception");
        };
        assert_eq!(e.class, "joptsimple.UnrecognizedOptionException");
        assert_eq!(e.message, "nope is not a recognized option");
    }
}
