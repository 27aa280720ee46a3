//! The option parser: clap, read with jopt-simple 5 semantics as Kafka 3.9's tools configure it
//! (`new OptionParser(false)`: no abbreviations, no POSIXLY_CORRECT). [`OptionParser::parse`]
//! says which part clap does and which part keeps jopt's rules.
//!
//! Rules reproduced from jopt-simple because users rely on them:
//! - `--name value`, `--name=value`; a single dash works too (`-partitions 3`, `-partitions=3`).
//!   An unrecognised single-dash word is read as a cluster of short options, and since Kafka
//!   defines none the error names its first character (`p is not a recognized option`).
//! - A required argument is the next token whatever it looks like (`--topic --list` names a
//!   topic `--list`); an empty inline value (`--topic=`) also takes the next token.
//! - An optional argument never takes a token that looks like an option.
//! - Words that are not options are kept as non-option arguments, silently.
//! - `--` ends the options.

use std::collections::HashMap;

use super::help;
use super::spec::{ArgKind, OptionSpec, ValueType};

/// jopt-simple's exceptions, with its exact messages (`ExceptionMessages.properties`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionError {
    #[error("{0} is not a recognized option")]
    Unrecognized(String),
    #[error("Option {0} requires an argument")]
    MissingArgument(String),
    #[error("Cannot parse argument '{value}' of option {option}")]
    Conversion { value: String, option: String },
    #[error("Missing required option(s) [{}]", .0.join(", "))]
    MissingRequired(Vec<String>),
    #[error("Found multiple arguments for option {0}, but you asked for only one")]
    MultipleArguments(String),
}

impl OptionError {
    /// The jopt-simple exception class, for a tool that prints the exception itself.
    pub fn java_class(&self) -> &'static str {
        match self {
            OptionError::Unrecognized(_) => "joptsimple.UnrecognizedOptionException",
            OptionError::MissingArgument(_) => "joptsimple.OptionMissingRequiredArgumentException",
            OptionError::Conversion { .. } => "joptsimple.OptionArgumentConversionException",
            OptionError::MissingRequired(_) => "joptsimple.MissingRequiredOptionsException",
            OptionError::MultipleArguments(_) => "joptsimple.MultipleArgumentsForOptionException",
        }
    }
}

/// The options a tool accepts. `new()` adds `--help` and `--version` like Kafka's
/// `CommandDefaultOptions`.
#[derive(Debug, Clone, Default)]
pub struct OptionParser {
    specs: Vec<OptionSpec>,
    /// Options whose values may be given several times (`valuesOf` in the Java tool).
    repeatable: Vec<String>,
    /// Whether unambiguous prefixes of long options are accepted ([`Self::allow_abbreviations`]).
    abbreviations: bool,
}

impl OptionParser {
    pub fn new() -> Self {
        let mut parser = OptionParser::default();
        parser
            .accepts("help", "Print usage information.")
            .for_help();
        parser
            .accepts("version", "Display Kafka version.")
            .for_help();
        parser
    }

    /// A parser without the default `--help` / `--version`.
    pub fn bare() -> Self {
        OptionParser::default()
    }

    /// Declares an option; chain the setters on the returned spec. Redeclaring a name replaces it.
    pub fn accepts(&mut self, name: &str, description: &str) -> &mut OptionSpec {
        self.specs.retain(|s| s.name != name);
        self.specs.push(OptionSpec::new(name, description));
        let last = self.specs.len() - 1;
        &mut self.specs[last]
    }

    /// Marks an option as taking several values (`--config a=1 --config b=2`).
    pub fn repeatable(&mut self, name: &str) -> &mut Self {
        self.repeatable.push(name.to_string());
        self
    }

    pub fn specs(&self) -> &[OptionSpec] {
        &self.specs
    }

    pub fn spec(&self, name: &str) -> Option<&OptionSpec> {
        self.specs.iter().find(|s| s.name == name)
    }

    /// The jopt-style help table.
    pub fn help(&self) -> String {
        help::format_help(&self.specs)
    }

    /// Accepts unambiguous prefixes of long options (`--bootstrap` for `--bootstrap-server`), as
    /// jopt-simple does by default and argparse4j always does. Kafka 3.9's jopt tools turn this
    /// off (`CommandDefaultOptions` builds `new OptionParser(false)`), so `new()` parsers refuse
    /// abbreviations; the argparse4j tools (the perf tests) enable them.
    pub fn allow_abbreviations(&mut self) -> &mut Self {
        self.abbreviations = true;
        self
    }

    /// The spec a long option word names: an exact name, else (with abbreviations on) the one
    /// option that starts with it. An ambiguous or unknown word names none.
    fn resolve(&self, word: &str) -> Option<&OptionSpec> {
        if let Some(spec) = self.spec(word) {
            return Some(spec);
        }
        if !self.abbreviations || word.is_empty() {
            return None;
        }
        let mut candidates = self.specs.iter().filter(|s| s.name.starts_with(word));
        match (candidates.next(), candidates.next()) {
            (Some(only), None) => Some(only),
            _ => None,
        }
    }

    /// Parses `args` (without the program name).
    ///
    /// clap does the parsing: it matches the options, stores their values in order and finds
    /// the missing argument and the unknown option. Before it, [`Self::to_clap_tokens`] reads
    /// each token the way jopt-simple does (single-dash long options, which token is an
    /// option's argument, abbreviations) and hands clap one canonical `--name[=value]` token per
    /// option; after it, the required, single-value and conversion checks run in jopt's order
    /// with jopt's messages.
    pub fn parse<S: AsRef<str>>(&self, args: &[S]) -> Result<ParsedOptions, OptionError> {
        let args: Vec<&str> = args.iter().map(|a| a.as_ref()).collect();
        let tokens = self.to_clap_tokens(&args)?;
        let matches = self
            .clap_command()
            .try_get_matches_from(&tokens)
            .map_err(|e| clap_error(&e))?;
        let mut detected: Vec<(usize, String, Option<String>)> = Vec::new();
        for spec in &self.specs {
            let (Some(indices), Some(values)) = (
                matches.indices_of(&spec.name),
                matches.get_many::<String>(&spec.name),
            ) else {
                continue;
            };
            for (index, value) in indices.zip(values) {
                let value = (value != NO_VALUE).then(|| value.clone());
                detected.push((index, spec.name.clone(), value));
            }
        }
        detected.sort_by_key(|(index, _, _)| *index);
        let parsed = ParsedOptions {
            detected: detected.into_iter().map(|(_, n, v)| (n, v)).collect(),
            non_options: matches
                .get_many::<String>(NON_OPTIONS)
                .map(|v| v.cloned().collect())
                .unwrap_or_default(),
            defaults: self
                .specs
                .iter()
                .filter_map(|s| s.default.clone().map(|d| (s.name.clone(), d)))
                .collect(),
        };
        self.ensure_required(&parsed)?;
        self.ensure_single_values(&parsed)?;
        self.ensure_convertible(&parsed)?;
        Ok(parsed)
    }

    /// The clap command for these options. Every option is a long option that appends its
    /// values and takes them only after `=` (the token reading has already decided which token
    /// is an option's argument); a flag, and an optional argument left out, store [`NO_VALUE`]
    /// so that every occurrence keeps its place. Words that are not options, and everything
    /// after `--`, collect in the [`NON_OPTIONS`] positional.
    fn clap_command(&self) -> clap::Command {
        let mut command = clap::Command::new("kafka-tool")
            .no_binary_name(true)
            .disable_help_flag(true)
            .disable_version_flag(true)
            .infer_long_args(self.abbreviations)
            .arg(
                clap::Arg::new(NON_OPTIONS)
                    .num_args(1..)
                    .action(clap::ArgAction::Append),
            );
        for spec in &self.specs {
            let arg = clap::Arg::new(spec.name.clone())
                .long(spec.name.clone())
                .action(clap::ArgAction::Append)
                .require_equals(true)
                .allow_hyphen_values(true);
            command = command.arg(match spec.arg {
                ArgKind::Required => arg.num_args(1),
                ArgKind::None | ArgKind::Optional => {
                    arg.num_args(0..=1).default_missing_value(NO_VALUE)
                }
            });
        }
        command
    }

    /// jopt-simple's reading of the command line, as clap tokens (see [`Self::parse`]):
    /// - `--name value`, `--name=value`, `-name value`, `-name=value` -> `--name=value`;
    /// - a required argument is the next token whatever it looks like, an empty inline value
    ///   (`--topic=`) also takes the next token, and without one clap reports the missing
    ///   argument;
    /// - an optional argument takes the next token only when it converts and, for a String
    ///   option, does not look like an option;
    /// - a flag drops an inline value;
    /// - an unknown `-word` is a cluster of short options, none of which Kafka defines;
    /// - an unknown `--word` goes to clap as given, which names it; after `--` nothing is read.
    fn to_clap_tokens(&self, args: &[&str]) -> Result<Vec<String>, OptionError> {
        let mut tokens = Vec::with_capacity(args.len());
        let mut i = 0;
        while i < args.len() {
            let token = args[i];
            i += 1;
            let body = if token == "--" {
                tokens.extend(args[i - 1..].iter().map(|t| (*t).to_string()));
                break;
            } else if let Some(body) = token.strip_prefix("--") {
                body
            } else if let Some(body) = token.strip_prefix('-').filter(|b| !b.is_empty()) {
                let (key, _) = split_key_value(body);
                if self.resolve(key).is_none() {
                    return Err(self.short_cluster_error(body));
                }
                body
            } else {
                tokens.push(token.to_string());
                continue;
            };
            let (key, inline) = split_key_value(body);
            let Some(spec) = self.resolve(key) else {
                tokens.push(format!("--{body}"));
                continue;
            };
            let name = &spec.name;
            let inline = inline.filter(|v| !v.is_empty());
            let value = match spec.arg {
                ArgKind::None => None,
                ArgKind::Required => match inline {
                    Some(v) => Some(v),
                    None => args.get(i).copied().inspect(|_| i += 1),
                },
                ArgKind::Optional => inline.or_else(|| {
                    args.get(i)
                        .copied()
                        .filter(|v| {
                            spec.value_type.accepts(v)
                                && (!looks_like_option(v) || spec.value_type != ValueType::String)
                        })
                        .inspect(|_| i += 1)
                }),
            };
            tokens.push(match value {
                Some(v) => format!("--{name}={v}"),
                None => format!("--{name}"),
            });
        }
        Ok(tokens)
    }

    /// jopt reads an unrecognised `-word` as short options `w`, `o`, ...; Kafka tools define none,
    /// so the first one that is unknown is reported.
    fn short_cluster_error(&self, body: &str) -> OptionError {
        for c in body.chars() {
            let name = c.to_string();
            if self.spec(&name).is_none() {
                return OptionError::Unrecognized(name);
            }
        }
        OptionError::Unrecognized(body.to_string())
    }

    fn ensure_required(&self, parsed: &ParsedOptions) -> Result<(), OptionError> {
        let help_present = self.specs.iter().any(|s| s.for_help && parsed.has(&s.name));
        if help_present {
            return Ok(());
        }
        let missing: Vec<String> = self
            .specs
            .iter()
            .filter(|s| !parsed.has(&s.name))
            .filter(|s| {
                s.required
                    || s.required_unless
                        .as_deref()
                        .is_some_and(|other| !parsed.has(other))
            })
            .map(|s| s.name.clone())
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(OptionError::MissingRequired(missing))
        }
    }

    fn ensure_single_values(&self, parsed: &ParsedOptions) -> Result<(), OptionError> {
        for spec in &self.specs {
            if spec.arg != ArgKind::None
                && !self.repeatable.contains(&spec.name)
                && parsed.values_of(&spec.name).len() > 1
            {
                return Err(OptionError::MultipleArguments(spec.name.clone()));
            }
        }
        Ok(())
    }

    /// jopt's `valueOf` for an option marked [`OptionSpec::converted_on_read`]: its argument (or
    /// default) if it converts to the option's type, else jopt's conversion error.
    pub fn converted_value_of<'a>(
        &self,
        opts: &'a ParsedOptions,
        name: &str,
    ) -> Result<Option<&'a str>, OptionError> {
        let value = opts.value_of(name);
        match (self.spec(name), value) {
            (Some(spec), Some(raw)) if !spec.value_type.accepts(raw) => {
                Err(OptionError::Conversion {
                    value: raw.to_string(),
                    option: name.to_string(),
                })
            }
            _ => Ok(value),
        }
    }

    fn ensure_convertible(&self, parsed: &ParsedOptions) -> Result<(), OptionError> {
        for (name, value) in &parsed.detected {
            let (Some(spec), Some(value)) = (self.spec(name), value) else {
                continue;
            };
            if !spec.converted_on_read && !spec.value_type.accepts(value) {
                return Err(OptionError::Conversion {
                    value: value.clone(),
                    option: name.clone(),
                });
            }
        }
        Ok(())
    }
}

/// `name=value` -> (`name`, Some(`value`)); `name` -> (`name`, None).
fn split_key_value(body: &str) -> (&str, Option<&str>) {
    match body.split_once('=') {
        Some((k, v)) => (k, Some(v)),
        None => (body, None),
    }
}

/// jopt's `looksLikeAnOption`: any `-x` or `--x` token (a lone `-` is a word).
fn looks_like_option(token: &str) -> bool {
    token.starts_with('-') && token != "-"
}

/// The clap id of the words that are not options.
const NON_OPTIONS: &str = "non-option arguments";

/// What clap stores for a flag, or an optional argument left out (a NUL never comes from a
/// command line).
const NO_VALUE: &str = "\0";

/// clap's failures in jopt-simple's words: an unknown option, and an option whose argument is
/// missing; nothing else can fail on the canonical tokens.
fn clap_error(e: &clap::Error) -> OptionError {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let invalid_arg = match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(s)) => s.clone(),
        _ => String::new(),
    };
    // clap names an option `--name` or `--name=<value>` / `--name <value>`.
    let name = invalid_arg
        .strip_prefix("--")
        .unwrap_or(&invalid_arg)
        .split(['=', ' '])
        .next()
        .unwrap_or_default()
        .to_string();
    match e.kind() {
        ErrorKind::UnknownArgument => OptionError::Unrecognized(name),
        ErrorKind::InvalidValue | ErrorKind::NoEquals | ErrorKind::WrongNumberOfValues => {
            OptionError::MissingArgument(name)
        }
        _ => OptionError::Unrecognized(e.to_string()),
    }
}

/// The result of a successful parse (jopt's `OptionSet`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedOptions {
    /// Every detected option in command-line order, with its argument if it took one.
    detected: Vec<(String, Option<String>)>,
    non_options: Vec<String>,
    defaults: HashMap<String, String>,
}

impl ParsedOptions {
    pub fn has(&self, name: &str) -> bool {
        self.detected.iter().any(|(n, _)| n == name)
    }

    /// The option's argument, else its default (jopt's `valueOf`). For a repeated option, the first.
    pub fn value_of(&self, name: &str) -> Option<&str> {
        self.detected
            .iter()
            .find_map(|(n, v)| (n == name).then_some(v.as_deref()).flatten())
            .or_else(|| self.defaults.get(name).map(String::as_str))
    }

    /// Every argument given to the option, in order (no default).
    pub fn values_of(&self, name: &str) -> Vec<&str> {
        self.detected
            .iter()
            .filter(|(n, _)| n == name)
            .filter_map(|(_, v)| v.as_deref())
            .collect()
    }

    /// The argument (or default) as an i32; `parse` has already checked Integer options convert.
    pub fn int_of(&self, name: &str) -> Option<i32> {
        self.value_of(name).and_then(|v| v.parse().ok())
    }

    pub fn long_of(&self, name: &str) -> Option<i64> {
        self.value_of(name).and_then(|v| v.parse().ok())
    }

    pub fn non_option_args(&self) -> &[String] {
        &self.non_options
    }

    /// Every detected option in command-line order, with its argument (jopt's `specs()`, one
    /// entry per occurrence).
    pub fn detected(&self) -> &[(String, Option<String>)] {
        &self.detected
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn topics_like() -> OptionParser {
        let mut p = OptionParser::new();
        p.accepts(
            "bootstrap-server",
            "REQUIRED: The Kafka server to connect to.",
        )
        .with_required_arg()
        .described_as("server to connect to");
        p.accepts("list", "List all available topics.");
        p.accepts("create", "Create a new topic.");
        p.accepts("topic", "The topic.").with_required_arg();
        p.accepts("partitions", "The number of partitions.")
            .with_required_arg()
            .of_type(ValueType::Integer);
        p.accepts("config", "A topic config.").with_required_arg();
        p.repeatable("config");
        p.accepts("compression-codec", "codec").with_optional_arg();
        p.accepts("batch-size", "size")
            .with_required_arg()
            .of_type(ValueType::Integer)
            .defaults_to("16384");
        p
    }

    fn parse(args: &[&str]) -> Result<ParsedOptions, OptionError> {
        topics_like().parse(args)
    }

    #[test]
    fn double_dash_with_separate_and_inline_values() {
        let o = parse(&["--topic", "a", "--partitions=3"]).unwrap();
        assert_eq!(o.value_of("topic"), Some("a"));
        assert_eq!(o.int_of("partitions"), Some(3));
    }

    #[test]
    fn single_dash_long_options_equal_double_dash() {
        let o = parse(&["-partitions", "3", "-topic=t", "-create"]).unwrap();
        assert_eq!(o.int_of("partitions"), Some(3));
        assert_eq!(o.value_of("topic"), Some("t"));
        assert!(o.has("create"));
    }

    #[test]
    fn unrecognised_single_dash_word_reports_its_first_character() {
        let err = parse(&["-partition", "3"]).unwrap_err();
        assert_eq!(err.to_string(), "p is not a recognized option");
        assert_eq!(
            parse(&["-1"]).unwrap_err().to_string(),
            "1 is not a recognized option"
        );
    }

    #[test]
    fn unrecognised_double_dash_option_is_named() {
        assert_eq!(
            parse(&["--partition", "3"]).unwrap_err().to_string(),
            "partition is not a recognized option"
        );
        assert_eq!(
            parse(&["--nope=1"]).unwrap_err().to_string(),
            "nope is not a recognized option"
        );
    }

    #[test]
    fn abbreviations_are_not_accepted() {
        assert_eq!(
            parse(&["--bootstrap", "x"]).unwrap_err().to_string(),
            "bootstrap is not a recognized option"
        );
    }

    #[test]
    fn required_argument_takes_next_token_even_if_it_looks_like_an_option() {
        let o = parse(&["--topic", "--list"]).unwrap();
        assert_eq!(o.value_of("topic"), Some("--list"));
        assert!(!o.has("list"));
    }

    #[test]
    fn empty_inline_value_takes_the_next_token() {
        let o = parse(&["--topic=", "x"]).unwrap();
        assert_eq!(o.value_of("topic"), Some("x"));
    }

    #[test]
    fn missing_required_argument_at_end() {
        assert_eq!(
            parse(&["--list", "--topic"]).unwrap_err().to_string(),
            "Option topic requires an argument"
        );
    }

    #[test]
    fn optional_argument_does_not_take_an_option_looking_token() {
        let o = parse(&["--compression-codec", "--list"]).unwrap();
        assert!(o.has("compression-codec"));
        assert_eq!(o.value_of("compression-codec"), None);
        assert!(o.has("list"));
        let o = parse(&["--compression-codec", "lz4"]).unwrap();
        assert_eq!(o.value_of("compression-codec"), Some("lz4"));
        let o = parse(&["--compression-codec"]).unwrap();
        assert!(o.has("compression-codec"));
        let o = parse(&["--compression-codec=snappy"]).unwrap();
        assert_eq!(o.value_of("compression-codec"), Some("snappy"));
    }

    #[test]
    fn stray_words_are_kept_as_non_option_arguments() {
        let o = parse(&["stray", "--list", "-", "--", "--topic"]).unwrap();
        assert_eq!(o.non_option_args(), &["stray", "-", "--topic"]);
        assert!(o.has("list"));
        assert!(!o.has("topic"));
    }

    #[test]
    fn flag_ignores_an_inline_value() {
        let o = parse(&["--list=yes"]).unwrap();
        assert!(o.has("list"));
    }

    #[test]
    fn bad_integer_is_a_conversion_error() {
        assert_eq!(
            parse(&["--partitions", "abc"]).unwrap_err().to_string(),
            "Cannot parse argument 'abc' of option partitions"
        );
    }

    #[test]
    fn an_option_converted_on_read_fails_only_when_read() {
        let mut p = OptionParser::new();
        p.accepts("partition", "p")
            .with_required_arg()
            .of_type(ValueType::Integer)
            .converted_on_read();
        p.accepts("election-type", "e")
            .with_required_arg()
            .of_type(ValueType::Enum(&["PREFERRED", "UNCLEAN"]))
            .converted_on_read();
        let o = p
            .parse(&["--partition", "x", "--election-type", "preferred"])
            .unwrap();
        let e = p.converted_value_of(&o, "partition").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Cannot parse argument 'x' of option partition"
        );
        assert_eq!(
            e.java_class(),
            "joptsimple.OptionArgumentConversionException"
        );
        assert_eq!(
            p.converted_value_of(&o, "election-type").unwrap(),
            Some("preferred")
        );
        assert_eq!(p.converted_value_of(&o, "help").unwrap(), None);
    }

    #[test]
    fn defaults_apply_only_when_absent() {
        assert_eq!(parse(&[]).unwrap().int_of("batch-size"), Some(16384));
        assert_eq!(
            parse(&["--batch-size", "5"]).unwrap().int_of("batch-size"),
            Some(5)
        );
    }

    #[test]
    fn repeatable_options_collect_every_value() {
        let o = parse(&["--config", "a=1", "--config=b=2"]).unwrap();
        assert_eq!(o.values_of("config"), vec!["a=1", "b=2"]);
    }

    #[test]
    fn non_repeatable_option_given_twice_is_an_error() {
        assert_eq!(
            parse(&["--topic", "a", "--topic", "b"])
                .unwrap_err()
                .to_string(),
            "Found multiple arguments for option topic, but you asked for only one"
        );
    }

    #[test]
    fn required_options_are_checked_unless_help_is_given() {
        let mut p = OptionParser::new();
        p.accepts("bootstrap-server", "b")
            .with_required_arg()
            .required_unless("broker-list");
        p.accepts("broker-list", "b").with_required_arg();
        assert_eq!(
            p.parse(&["--sync"]).unwrap_err().to_string(),
            "sync is not a recognized option"
        );
        assert_eq!(
            p.parse::<&str>(&[]).unwrap_err().to_string(),
            "Missing required option(s) [bootstrap-server]"
        );
        assert!(p.parse(&["--broker-list", "h:1"]).is_ok());
        assert!(p.parse(&["--help"]).is_ok());
        assert!(p.parse(&["--version"]).is_ok());
    }

    #[test]
    fn abbreviations_when_allowed_name_the_one_option_they_start() {
        let mut p = topics_like();
        p.allow_abbreviations();
        let o = p
            .parse(&["--boot", "h:1", "-part", "3", "--cre", "-top=t"])
            .unwrap();
        assert_eq!(o.value_of("bootstrap-server"), Some("h:1"));
        assert_eq!(o.int_of("partitions"), Some(3));
        assert!(o.has("create"));
        assert_eq!(o.value_of("topic"), Some("t"));
        // `--co` starts both config and compression-codec; `--c` also create.
        assert_eq!(
            p.parse(&["--co", "x"]).unwrap_err().to_string(),
            "co is not a recognized option"
        );
        assert_eq!(
            p.parse(&["-c"]).unwrap_err().to_string(),
            "c is not a recognized option"
        );
        // An exact name wins over a longer option it is a prefix of.
        let mut q = OptionParser::new();
        q.allow_abbreviations();
        q.accepts("topic", "t").with_required_arg();
        q.accepts("topics", "ts").with_required_arg();
        assert_eq!(
            q.parse(&["--topic", "a"]).unwrap().value_of("topic"),
            Some("a")
        );
    }

    #[test]
    fn abbreviations_are_refused_single_dash_too() {
        assert_eq!(
            parse(&["-boot", "x"]).unwrap_err().to_string(),
            "b is not a recognized option"
        );
        assert_eq!(
            parse(&["--crea"]).unwrap_err().to_string(),
            "crea is not a recognized option"
        );
    }

    #[test]
    fn occurrences_keep_command_line_order() {
        let mut p = OptionParser::new();
        p.accepts("entity-name", "n").with_required_arg();
        p.accepts("entity-default", "d");
        p.repeatable("entity-name");
        let o = p
            .parse(&[
                "--entity-default",
                "--entity-name",
                "a",
                "-entity-default",
                "--entity-name=b",
            ])
            .unwrap();
        assert_eq!(
            o.detected(),
            &[
                ("entity-default".to_string(), None),
                ("entity-name".to_string(), Some("a".to_string())),
                ("entity-default".to_string(), None),
                ("entity-name".to_string(), Some("b".to_string())),
            ]
        );
    }

    #[test]
    fn a_required_argument_may_be_a_double_dash_or_contain_equals() {
        let o = parse(&["--topic", "--", "--config", "a=b=c"]).unwrap();
        assert_eq!(o.value_of("topic"), Some("--"));
        assert_eq!(o.values_of("config"), vec!["a=b=c"]);
        assert!(o.non_option_args().is_empty());
    }

    #[test]
    fn an_optional_integer_argument_takes_only_a_number() {
        let mut p = OptionParser::new();
        p.accepts("limit", "l")
            .with_optional_arg()
            .of_type(ValueType::Integer);
        let o = p.parse(&["--limit", "-5"]).unwrap();
        assert_eq!(o.int_of("limit"), Some(-5));
        let o = p.parse(&["--limit", "word"]).unwrap();
        assert_eq!(o.value_of("limit"), None);
        assert_eq!(o.non_option_args(), &["word"]);
    }

    #[test]
    fn negative_number_is_a_valid_required_argument() {
        let o = parse(&["--partitions", "-1"]).unwrap();
        assert_eq!(o.int_of("partitions"), Some(-1));
    }
}
