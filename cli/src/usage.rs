//! Kafka's `CommandLineUtils`: the checks its tools run after parsing, and the ways a tool stops
//! early (`printUsageAndExit`, `printVersionAndExit`). Checks return an [`Abort`] instead of
//! exiting so that option handling stays testable; `main` calls [`Abort::exit`].

use std::io::Write;

use super::parser::{OptionParser, ParsedOptions};

/// What `--version` prints: the Kafka release whose tools these mirror.
pub const KAFKA_VERSION: &str = "3.9.1";

/// Why a tool stops before doing its work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Abort {
    /// `printUsageAndExit`: the message and the help table on stderr, exit 1 (also `--help`).
    Usage(String),
    /// A message alone on stderr, exit 1 (an exception escaping option handling).
    Fail(String),
    /// `--version`: the version on stdout, exit 0.
    Version,
}

impl Abort {
    pub fn exit_code(&self) -> i32 {
        match self {
            Abort::Version => 0,
            Abort::Usage(_) | Abort::Fail(_) => 1,
        }
    }

    /// (stdout, stderr) text this abort prints.
    pub fn render(&self, parser: &OptionParser) -> (String, String) {
        match self {
            Abort::Usage(message) => (String::new(), format!("{message}\n{}", parser.help())),
            Abort::Fail(message) => (String::new(), format!("{message}\n")),
            Abort::Version => (format!("{KAFKA_VERSION}\n"), String::new()),
        }
    }

    /// Prints and exits the process.
    pub fn exit(&self, parser: &OptionParser) -> ! {
        let (out, err) = self.render(parser);
        // Nothing useful can be done if the terminal is gone; the exit code still tells.
        let _ = std::io::stdout().write_all(out.as_bytes());
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().write_all(err.as_bytes());
        std::process::exit(self.exit_code())
    }
}

/// `maybePrintHelpOrVersion`: no arguments or `--help` -> usage with `message`; `--version`.
pub fn maybe_help_or_version(
    arg_count: usize,
    opts: &ParsedOptions,
    message: &str,
) -> Result<(), Abort> {
    if arg_count == 0 || opts.has("help") {
        return Err(Abort::Usage(message.to_string()));
    }
    if opts.has("version") {
        return Err(Abort::Version);
    }
    Ok(())
}

/// `checkRequiredArgs`: `Missing required argument "[topic]"`.
pub fn check_required_args(opts: &ParsedOptions, required: &[&str]) -> Result<(), Abort> {
    match required.iter().find(|r| !opts.has(r)) {
        Some(missing) => Err(Abort::Usage(format!(
            "Missing required argument \"[{missing}]\""
        ))),
        None => Ok(()),
    }
}

/// `checkInvalidArgs`: `Option "[used]" can't be used with option "[other]"`.
pub fn check_invalid_args(opts: &ParsedOptions, used: &str, invalid: &[&str]) -> Result<(), Abort> {
    if !opts.has(used) {
        return Ok(());
    }
    match invalid.iter().find(|i| opts.has(i)) {
        Some(other) => Err(Abort::Usage(format!(
            "Option \"[{used}]\" can't be used with option \"[{other}]\""
        ))),
        None => Ok(()),
    }
}

/// `checkInvalidArgsSet`: when all of `used` are present, none of `invalid` may be.
pub fn check_invalid_args_set(
    opts: &ParsedOptions,
    used: &[&str],
    invalid: &[&str],
    trailing: &str,
) -> Result<(), Abort> {
    if !used.iter().all(|u| opts.has(u)) {
        return Ok(());
    }
    match invalid.iter().find(|i| opts.has(i)) {
        Some(other) => Err(Abort::Usage(format!(
            "Option combination \"[{}]\" can't be used with option \"[{other}]\"{trailing}",
            used.join(", ")
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parser() -> OptionParser {
        let mut p = OptionParser::new();
        p.accepts("list", "List.");
        p.accepts("alter", "Alter.");
        p.accepts("config", "c").with_required_arg();
        p.accepts("bootstrap-server", "b").with_required_arg();
        p.accepts("topic", "t").with_required_arg();
        p
    }

    #[test]
    fn required_argument_message_uses_brackets_and_quotes() {
        let o = parser().parse(&["--list"]).unwrap();
        assert_eq!(
            check_required_args(&o, &["topic"]),
            Err(Abort::Usage("Missing required argument \"[topic]\"".into()))
        );
        let o = parser().parse(&["--topic", "x"]).unwrap();
        assert_eq!(check_required_args(&o, &["topic"]), Ok(()));
    }

    #[test]
    fn invalid_combination_message() {
        let o = parser().parse(&["--config", "a=b", "--list"]).unwrap();
        assert_eq!(
            check_invalid_args(&o, "config", &["alter", "list"]),
            Err(Abort::Usage(
                "Option \"[config]\" can't be used with option \"[list]\"".into()
            ))
        );
        let o = parser()
            .parse(&["--bootstrap-server", "h:1", "--config", "a=b", "--alter"])
            .unwrap();
        assert_eq!(
            check_invalid_args_set(&o, &["bootstrap-server", "config"], &["alter"], " (x)"),
            Err(Abort::Usage(
                "Option combination \"[bootstrap-server, config]\" can't be used with option \"[alter]\" (x)".into()
            ))
        );
    }

    #[test]
    fn help_no_args_and_version() {
        let p = parser();
        let o = p.parse::<&str>(&[]).unwrap();
        assert_eq!(
            maybe_help_or_version(0, &o, "m"),
            Err(Abort::Usage("m".into()))
        );
        let o = p.parse(&["--help"]).unwrap();
        let abort = maybe_help_or_version(1, &o, "m").unwrap_err();
        assert_eq!(abort.exit_code(), 1);
        let (out, err) = abort.render(&p);
        assert!(out.is_empty());
        assert!(err.starts_with("m\nOption"));
        let o = p.parse(&["--version"]).unwrap();
        let abort = maybe_help_or_version(1, &o, "m").unwrap_err();
        assert_eq!(abort.exit_code(), 0);
        assert_eq!(abort.render(&p).0, "3.9.1\n");
    }
}
