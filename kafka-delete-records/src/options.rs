//! `DeleteRecordsCommand.DeleteRecordsCommandOptions`: the options with Kafka 3.9's texts, the
//! help and version checks and `checkRequiredArgs(bootstrap-server, offset-json-file)`.

use cli::usage::{check_required_args, maybe_help_or_version};
use cli::{Abort, OptionError, OptionParser};
use java_compat::JavaException;

/// What `maybePrintHelpOrVersion` prints above the usage.
pub const HELP_MESSAGE: &str =
    "This tool helps to delete records of the given partitions down to the specified offset.";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteRecordsOptions {
    pub bootstrap_server: String,
    pub offset_json_file: String,
    pub command_config: Option<String>,
}

/// Why the tool stops before reading its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    Abort(Abort),
    /// jopt's exception, caught by `mainNoExit`.
    Exception(JavaException),
}

fn jopt(e: OptionError) -> Stop {
    Stop::Exception(JavaException::new(e.java_class(), e.to_string()))
}

/// The option table, with Kafka's descriptions.
pub fn parser() -> OptionParser {
    let mut p = OptionParser::new();
    p.accepts("bootstrap-server", "REQUIRED: The server to connect to.")
        .with_required_arg()
        .described_as("server(s) to use for bootstrapping");
    p.accepts("offset-json-file", "REQUIRED: The JSON file with offset per partition. The format to use is:\n{\"partitions\":\n  [{\"topic\": \"foo\", \"partition\": 1, \"offset\": 1}],\n \"version\":1\n}")
        .with_required_arg()
        .described_as("Offset json file path");
    p.accepts(
        "command-config",
        "A property file containing configs to be passed to Admin Client.",
    )
    .with_required_arg()
    .described_as("command config property file path");
    p
}

pub fn parse_args(args: &[String]) -> Result<DeleteRecordsOptions, Stop> {
    let o = parser().parse(args).map_err(jopt)?;
    maybe_help_or_version(args.len(), &o, HELP_MESSAGE).map_err(Stop::Abort)?;
    check_required_args(&o, &["bootstrap-server", "offset-json-file"]).map_err(Stop::Abort)?;
    Ok(DeleteRecordsOptions {
        bootstrap_server: o
            .value_of("bootstrap-server")
            .unwrap_or_default()
            .to_string(),
        offset_json_file: o
            .value_of("offset-json-file")
            .unwrap_or_default()
            .to_string(),
        command_config: o.value_of("command-config").map(String::from),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<DeleteRecordsOptions, Stop> {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        parse_args(&args)
    }

    #[test]
    fn both_required_options_are_checked_in_order() {
        assert_eq!(
            parse(&["--offset-json-file", "f"]),
            Err(Stop::Abort(Abort::Usage(
                "Missing required argument \"[bootstrap-server]\"".into()
            )))
        );
        assert_eq!(
            parse(&["--bootstrap-server", "h:1"]),
            Err(Stop::Abort(Abort::Usage(
                "Missing required argument \"[offset-json-file]\"".into()
            )))
        );
        let o = parse(&["--bootstrap-server", "h:1", "--offset-json-file", "f"]).unwrap();
        assert_eq!(o.offset_json_file, "f");
        assert_eq!(o.command_config, None);
    }

    #[test]
    fn help_lists_the_file_format() {
        let help = parser().help();
        assert!(
            help.contains("--offset-json-file <String: Offset "),
            "{help}"
        );
        assert!(help.contains(" \"version\":1 "), "{help}");
    }
}
