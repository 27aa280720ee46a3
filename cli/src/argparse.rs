//! The argument parsing of the tools Kafka 3.9 builds with argparse4j 0.7.0 instead of
//! jopt-simple (`kafka-transactions`' `TransactionsCommand`, `kafka-producer-perf-test`'s
//! `ProducerPerformance`): a main parser with named arguments and optionally a sub-command, each
//! sub-command a parser of its own. Reproduced here as argparse4j behaves and prints:
//! `--flag value` and `--flag=value`, unique prefixes of long flags and of commands, the
//! conversion of typed values (Integer, Long, Short, Double) with Java's messages, `storeTrue`
//! flags, `nargs("+")` lists, mutually exclusive groups, `defaultHelp(true)`'s `(default: ..)`,
//! `-h` printing the help of the parser it appears in, and on an error the parser's usage and
//! `<prog>: error: ...` (with "Did you mean:" suggestions), everything wrapped and justified to
//! 75 columns as argparse4j's `TextHelper` does.

use std::collections::BTreeMap;

/// argparse4j's `ArgumentParsers.getFormatWidth()` when no terminal width is known.
pub const FORMAT_WIDTH: usize = 75;
/// Where help texts start (`TextHelper.printHelp`'s `INDENT_WIDTH`).
const INDENT_WIDTH: usize = 25;

/// The type an argument's value converts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `-h, --help`: prints the parser's help.
    Help,
    /// `-v, --version`: prints the version.
    Version,
    Str,
    Int,
    Long,
    Short,
    /// `type(Double.class)`: Java's `Double.valueOf`.
    Double,
    /// `action(storeTrue())`: takes no value; `"true"` when given, `"false"` otherwise.
    Flag,
    /// `nargs("+")` of strings: one or more values, up to the next flag.
    List,
}

impl Kind {
    /// Whether the argument consumes a value (`Action.consumeArgument`).
    fn takes_value(self) -> bool {
        !matches!(self, Kind::Help | Kind::Version | Kind::Flag)
    }
}

/// A term of concatenated short flags (`-xb host:9092`, `-bhost:9092`): the flags that take no
/// value, then the one that takes a value with what is left of the term, if any.
struct ShortFlags<'a> {
    flags: Vec<&'a Opt>,
    last: Option<(&'a Opt, Option<String>)>,
}

/// One named argument (`addArgument("--topic")`).
#[derive(Debug, Clone)]
pub struct Opt {
    pub flags: &'static [&'static str],
    /// The namespace key: the long flag without dashes, `-` made `_`.
    pub dest: &'static str,
    /// Shown after the flag; `None` for Help / Version.
    pub metavar: Option<&'static str>,
    pub help: &'static str,
    pub kind: Kind,
    pub required: bool,
    pub default: Option<&'static str>,
    /// Index into the parser's groups, for arguments listed under a group's title.
    pub group: Option<usize>,
    /// Index into the parser's mutually exclusive groups.
    pub exclusive: Option<usize>,
    /// `choices(...)`: the allowed values, compared after conversion (so `-01` is `-1` for an
    /// Integer), listed as argparse4j's `CollectionArgumentChoice` prints them (`{0,1,-1}`).
    pub choices: Option<&'static [&'static str]>,
}

impl Opt {
    /// A value-taking argument with argparse4j's default metavar (the dest in capitals).
    pub fn value(
        flags: &'static [&'static str],
        dest: &'static str,
        kind: Kind,
        help: &'static str,
    ) -> Self {
        Opt {
            flags,
            dest,
            metavar: None,
            help,
            kind,
            required: false,
            default: None,
            group: None,
            exclusive: None,
            choices: None,
        }
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub fn metavar(mut self, metavar: &'static str) -> Self {
        self.metavar = Some(metavar);
        self
    }

    pub fn default(mut self, value: &'static str) -> Self {
        self.default = Some(value);
        self
    }

    pub fn in_group(mut self, group: usize) -> Self {
        self.group = Some(group);
        self
    }

    /// `choices(...)`: the value must be one of these.
    pub fn choices(mut self, choices: &'static [&'static str]) -> Self {
        self.choices = Some(choices);
        self
    }

    /// `CollectionArgumentChoice.textualFormat()`: `{a,b,c}`.
    fn choices_text(&self) -> Option<String> {
        self.choices.map(|c| format!("{{{}}}", c.join(",")))
    }

    /// Whether a value that converted is one of the choices (always, without choices).
    fn allows(&self, value: &str) -> bool {
        let Some(choices) = self.choices else {
            return true;
        };
        match self.kind {
            Kind::Int | Kind::Long | Kind::Short => {
                let v = java_integer(value);
                v.is_some() && choices.iter().any(|c| java_integer(c) == v)
            }
            Kind::Double => {
                let v = java_double(value);
                v.is_some() && choices.iter().any(|c| java_double(c) == v)
            }
            _ => choices.contains(&value),
        }
    }

    /// A member of the parser's mutually exclusive group `index`.
    pub fn in_exclusive(mut self, index: usize) -> Self {
        self.exclusive = Some(index);
        self
    }

    /// An `action(storeTrue())` flag.
    pub fn flag(flags: &'static [&'static str], dest: &'static str, help: &'static str) -> Self {
        Opt {
            default: Some("false"),
            ..Opt::value(flags, dest, Kind::Flag, help)
        }
    }

    fn help_opt() -> Self {
        Opt {
            flags: &["-h", "--help"],
            dest: "help",
            metavar: None,
            help: "show this help message and exit",
            kind: Kind::Help,
            required: false,
            default: None,
            group: None,
            exclusive: None,
            choices: None,
        }
    }

    /// `-v, --version`.
    pub fn version_opt(help: &'static str) -> Self {
        Opt {
            flags: &["-v", "--version"],
            dest: "version",
            metavar: None,
            help,
            kind: Kind::Version,
            required: false,
            default: None,
            group: None,
            exclusive: None,
            choices: None,
        }
    }

    fn metavar_text(&self) -> Option<String> {
        match self.kind {
            Kind::Help | Kind::Version | Kind::Flag => None,
            Kind::List => {
                let mv = self
                    .metavar
                    .map_or_else(|| self.dest.to_ascii_uppercase(), str::to_string);
                Some(format!("{mv} [{mv} ...]"))
            }
            _ => Some(self.metavar.map_or_else(
                || {
                    self.choices_text()
                        .unwrap_or_else(|| self.dest.to_ascii_uppercase())
                },
                str::to_string,
            )),
        }
    }

    /// `formatShortSyntax`: `[--topic TOPIC]`, or without brackets when required.
    fn short_syntax(&self) -> String {
        let s = self.short_syntax_no_bracket();
        if self.required {
            s
        } else {
            format!("[{s}]")
        }
    }

    fn short_syntax_no_bracket(&self) -> String {
        let mut s = self.flags[0].to_string();
        if let Some(mv) = self.metavar_text() {
            s.push(' ');
            s.push_str(&mv);
        }
        s
    }

    /// The help text, with `defaultHelp(true)`'s ` (default: ..)` when the parser asks for it.
    fn help_text(&self, default_help: bool) -> String {
        match self.default {
            Some(d) if default_help => format!("{} (default: {d})", self.help),
            _ => self.help.to_string(),
        }
    }

    /// `formatHelpTitle`: every flag, each with the metavar.
    fn help_title(&self) -> String {
        let mv = self.metavar_text();
        self.flags
            .iter()
            .map(|f| match &mv {
                Some(mv) => format!("{f} {mv}"),
                None => f.to_string(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// How argparse4j names the argument in messages (`argument --partition: ...`).
    fn textual_name(&self) -> String {
        self.flags.join("/")
    }
}

/// A titled group of arguments in the help (`addArgumentGroup`).
#[derive(Debug, Clone)]
pub struct Group {
    pub title: &'static str,
    pub description: &'static str,
}

/// A mutually exclusive group (`addMutuallyExclusiveGroup`): at most one of its arguments, and
/// with `required` exactly one.
#[derive(Debug, Clone)]
pub struct Exclusive {
    /// `addMutuallyExclusiveGroup(title)`: printed as `<title>:` above the group in the help
    /// (empty for none).
    pub title: &'static str,
    pub description: &'static str,
    pub required: bool,
}

/// A parser: the main one, or a sub-command's.
#[derive(Debug, Clone)]
pub struct Parser {
    pub prog: &'static str,
    /// The sub-command's name (`None` for the main parser).
    pub command: Option<&'static str>,
    pub description: &'static str,
    /// The line shown for the sub-command in the main help.
    pub help: &'static str,
    pub opts: Vec<Opt>,
    pub groups: Vec<Group>,
    pub exclusive: Vec<Exclusive>,
    /// `defaultHelp(true)`: every help line with a default ends in ` (default: ..)`.
    pub default_help: bool,
    pub commands_title: &'static str,
    pub commands_metavar: &'static str,
    pub commands_dest: &'static str,
    pub commands: Vec<Parser>,
}

impl Parser {
    pub fn new(prog: &'static str) -> Self {
        Parser {
            prog,
            command: None,
            description: "",
            help: "",
            opts: vec![Opt::help_opt()],
            groups: Vec::new(),
            exclusive: Vec::new(),
            default_help: false,
            commands_title: "",
            commands_metavar: "",
            commands_dest: "command",
            commands: Vec::new(),
        }
    }

    pub fn sub(prog: &'static str, command: &'static str, help: &'static str) -> Self {
        Parser {
            command: Some(command),
            help,
            ..Parser::new(prog)
        }
    }
}

/// What parsing ends with, other than a namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// `-h`: this help on stdout (Kafka's tool then exits 1, as argparse4j's
    /// `HelpScreenException` reaches its `Exit.exit(1)`).
    Help(String),
    /// `-v`: print the version, exit 0.
    Version,
    /// Usage and error text for stderr, exit 1.
    Error(String),
}

impl Stop {
    /// Prints what the parse stopped with as Kafka's argparse4j tools do (help on stdout, the
    /// version on stdout, usage and error on stderr) and returns the exit code: 1 after help
    /// (`HelpScreenException` reaches `Exit.exit(1)`), 0 after the version, 1 after an error.
    pub fn report(&self) -> i32 {
        use std::io::Write;
        match self {
            Stop::Help(text) => {
                let _ = std::io::stdout().write_all(text.as_bytes());
                1
            }
            Stop::Version => {
                println!("{}", crate::KAFKA_VERSION);
                0
            }
            Stop::Error(text) => {
                let _ = std::io::stderr().write_all(text.as_bytes());
                1
            }
        }
    }
}

/// The parsed values by dest, as given (already checked to convert).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Namespace {
    values: BTreeMap<String, String>,
    lists: BTreeMap<String, Vec<String>>,
}

impl Namespace {
    pub fn get(&self, dest: &str) -> Option<&str> {
        self.values.get(dest).map(String::as_str)
    }

    pub fn get_i32(&self, dest: &str) -> Option<i32> {
        self.get(dest).and_then(|v| v.parse().ok())
    }

    pub fn get_i64(&self, dest: &str) -> Option<i64> {
        self.get(dest).and_then(|v| v.parse().ok())
    }

    pub fn get_i16(&self, dest: &str) -> Option<i16> {
        self.get(dest).and_then(|v| v.parse().ok())
    }

    pub fn get_f64(&self, dest: &str) -> Option<f64> {
        self.get(dest).and_then(java_double)
    }

    /// A `storeTrue` flag's value.
    pub fn get_flag(&self, dest: &str) -> bool {
        self.get(dest) == Some("true")
    }

    /// A `nargs("+")` argument's values (`None` when not given).
    pub fn get_list(&self, dest: &str) -> Option<&[String]> {
        self.lists.get(dest).map(Vec::as_slice)
    }
}

/// Java's `Double.valueOf`: surrounding whitespace trimmed, an optional sign, decimal digits
/// with an optional fraction and exponent, an optional `d`/`f` suffix, `NaN` and `Infinity`.
fn java_double(value: &str) -> Option<f64> {
    let v = value.trim_matches(|c: char| c <= ' ');
    let body = v.strip_prefix(['-', '+']).unwrap_or(v);
    if body == "NaN" || body == "Infinity" {
        return v.replace("Infinity", "inf").parse().ok();
    }
    let body = body.strip_suffix(['d', 'D', 'f', 'F']).unwrap_or(body);
    let ok = !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        && body
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit() || b == b'.');
    if !ok {
        return None;
    }
    let sign = if v.starts_with('-') { "-" } else { "" };
    format!("{sign}{body}").parse().ok()
}

/// Java's `Integer.valueOf` / `Long.valueOf` / `Short.valueOf` failure messages, as argparse4j
/// reports them: `could not convert 'abc' to Integer (For input string: "abc")`.
fn convert(kind: Kind, value: &str) -> Result<(), String> {
    let (type_name, ok) = match kind {
        Kind::Int => (
            "Integer",
            java_integer(value).is_some_and(|v| i32::try_from(v).is_ok()),
        ),
        Kind::Long => ("Long", java_integer(value).is_some()),
        Kind::Double => ("Double", java_double(value).is_some()),
        Kind::Short => {
            // Short.parseShort: Integer.parseInt first, then the range check.
            return match java_integer(value).and_then(|v| i32::try_from(v).ok()) {
                None => Err(format!(
                    "could not convert '{value}' to Short (For input string: \"{value}\")"
                )),
                Some(v) if i16::try_from(v).is_err() => Err(format!(
                    "could not convert '{value}' to Short (Value out of range. Value:\"{value}\" Radix:10)"
                )),
                Some(_) => Ok(()),
            };
        }
        _ => return Ok(()),
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "could not convert '{value}' to {type_name} (For input string: \"{value}\")"
        ))
    }
}

/// Java's `Long.parseLong` (an optional sign, then ASCII digits).
fn java_integer(value: &str) -> Option<i64> {
    let digits = value.strip_prefix(['-', '+']).unwrap_or(value);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

/// argparse4j takes `-5` as a value, not a flag.
fn is_negative_number(s: &str) -> bool {
    s.strip_prefix('-')
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

fn looks_like_flag(s: &str) -> bool {
    s.starts_with('-') && s.len() > 1 && !is_negative_number(s)
}

impl Parser {
    /// Parses `args` (without the program name).
    pub fn parse(&self, args: &[String]) -> Result<Namespace, Stop> {
        let mut ns = Namespace::default();
        self.parse_into(args, &[], &mut ns)?;
        Ok(ns)
    }

    fn parse_into(
        &self,
        args: &[String],
        upper: &[String],
        ns: &mut Namespace,
    ) -> Result<(), Stop> {
        let mut unrecognized: Vec<String> = Vec::new();
        let mut command_seen = false;
        let mut i = 0;
        while i < args.len() {
            let arg = &args[i];
            i += 1;
            if arg == "--" {
                // The end of the options: what follows are positional arguments, which these
                // parsers do not take.
                unrecognized.extend(args[i..].iter().cloned());
                break;
            }
            if looks_like_flag(arg) {
                // argparse4j splits at the first '=' whatever the flag (`-b=host:9092` too).
                let (flag, inline) = match arg.split_once('=') {
                    Some((f, v)) => (f, Some(v.to_string())),
                    None => (arg.as_str(), None),
                };
                let (opt, inline) = match self.resolve(flag) {
                    Ok(Some(opt)) => (opt, inline),
                    Ok(None) => match self.concatenated_short_flags(arg) {
                        // `-vb host:9092`, `-bhost:9092`: flags that take no value, then at
                        // most one that takes the rest of the term, or the next argument.
                        Some(ShortFlags { flags, last }) => {
                            for opt in flags {
                                self.apply(opt, None, args, &mut i, upper, ns)?;
                            }
                            match last {
                                Some(last) => last,
                                None => continue,
                            }
                        }
                        None => {
                            unrecognized.push(arg.clone());
                            continue;
                        }
                    },
                    Err(message) => return Err(self.error(upper, &message, None)),
                };
                self.apply(opt, inline, args, &mut i, upper, ns)?;
            } else if !self.commands.is_empty() && !command_seen {
                let sub = self.resolve_command(arg).map_err(|message| {
                    let suggest = message
                        .starts_with("invalid choice")
                        .then(|| self.command_candidates(arg));
                    self.error(upper, &message, suggest.flatten())
                })?;
                command_seen = true;
                ns.values.insert(
                    self.commands_dest.to_string(),
                    sub.command.unwrap_or_default().to_string(),
                );
                let mut upper_usage = upper.to_vec();
                upper_usage.extend(
                    self.opts
                        .iter()
                        .filter(|o| o.required)
                        .map(Opt::short_syntax),
                );
                sub.parse_into(&args[i..], &upper_usage, ns)?;
                i = args.len();
            } else {
                unrecognized.push(arg.clone());
            }
        }
        if let Some(first) = unrecognized.first() {
            let message = format!("unrecognized arguments: '{first}'");
            let suggest = first
                .strip_prefix("--")
                .or_else(|| first.strip_prefix('-'))
                .filter(|body| body.len() >= 2)
                .and_then(|body| self.flag_candidates(body));
            return Err(self.error(upper, &message, suggest));
        }
        if !self.commands.is_empty() && !command_seen {
            return Err(self.error(upper, "too few arguments", None));
        }
        for opt in &self.opts {
            if ns.values.contains_key(opt.dest) || ns.lists.contains_key(opt.dest) {
                continue;
            }
            if opt.required {
                let message = format!("argument {} is required", opt.textual_name());
                return Err(self.error(upper, &message, None));
            }
            if let Some(d) = opt.default {
                ns.values.insert(opt.dest.to_string(), d.to_string());
            }
        }
        for (index, group) in self.exclusive.iter().enumerate() {
            let members: Vec<&Opt> = self
                .opts
                .iter()
                .filter(|o| o.exclusive == Some(index))
                .collect();
            let given = members.iter().any(|o| {
                ns.lists.contains_key(o.dest)
                    || match o.kind {
                        Kind::Flag => ns.values.get(o.dest).is_some_and(|v| v == "true"),
                        _ => ns.values.contains_key(o.dest) && o.default.is_none(),
                    }
            });
            if group.required && !given {
                let message = format!(
                    "one of the arguments {} is required",
                    members
                        .iter()
                        .map(|o| o.textual_name())
                        .collect::<Vec<_>>()
                        .join(" ")
                );
                return Err(self.error(upper, &message, None));
            }
        }
        Ok(())
    }

    /// Takes one option into `ns`: its value from `inline` (after `=`, or the rest of a short
    /// flags' term), else from the arguments at `*i` (advanced past what it takes), with
    /// argparse4j's errors for a missing, unconvertible or unlisted value.
    fn apply(
        &self,
        opt: &Opt,
        inline: Option<String>,
        args: &[String],
        i: &mut usize,
        upper: &[String],
        ns: &mut Namespace,
    ) -> Result<(), Stop> {
        match opt.kind {
            Kind::Help => return Err(Stop::Help(self.format_help(upper))),
            Kind::Version => return Err(Stop::Version),
            _ => {}
        }
        if let Some(group) = opt.exclusive {
            let other = self.opts.iter().find(|o| {
                o.exclusive == Some(group)
                    && o.dest != opt.dest
                    && (ns.values.contains_key(o.dest) || ns.lists.contains_key(o.dest))
            });
            if let Some(other) = other {
                let message = format!(
                    "argument {}: not allowed with argument {}",
                    opt.textual_name(),
                    other.textual_name()
                );
                return Err(self.error(upper, &message, None));
            }
        }
        if opt.kind == Kind::Flag {
            if inline.is_some() {
                let message = format!(
                    "argument {}: ignored explicit argument '{}'",
                    opt.textual_name(),
                    inline.unwrap_or_default()
                );
                return Err(self.error(upper, &message, None));
            }
            ns.values.insert(opt.dest.to_string(), "true".to_string());
            return Ok(());
        }
        if opt.kind == Kind::List {
            let mut values: Vec<String> = inline.into_iter().collect();
            while let Some(v) = args.get(*i).filter(|v| !looks_like_flag(v)) {
                values.push(v.clone());
                *i += 1;
            }
            if values.is_empty() {
                let message = format!(
                    "argument {}: expected at least one argument",
                    opt.textual_name()
                );
                return Err(self.error(upper, &message, None));
            }
            ns.lists.insert(opt.dest.to_string(), values);
            return Ok(());
        }
        let value = match inline {
            Some(v) => v,
            None => match args.get(*i) {
                Some(v) if !looks_like_flag(v) => {
                    *i += 1;
                    v.clone()
                }
                _ => {
                    let message = format!("argument {}: expected one argument", opt.textual_name());
                    return Err(self.error(upper, &message, None));
                }
            },
        };
        if let Err(e) = convert(opt.kind, &value) {
            let message = format!("argument {}: {e}", opt.textual_name());
            return Err(self.error(upper, &message, None));
        }
        if !opt.allows(&value) {
            let message = format!(
                "argument {}: invalid choice: '{value}' (choose from {})",
                opt.textual_name(),
                opt.choices_text().unwrap_or_default()
            );
            return Err(self.error(upper, &message, None));
        }
        ns.values.insert(opt.dest.to_string(), value);
        Ok(())
    }

    /// argparse4j's concatenated short options (`ArgumentParserImpl.parseArgs`): a term such as
    /// `-xvf` or `-bhost:9092` that names no option itself is read one letter at a time, each
    /// an exact short flag. Flags that take no value come first; the first that takes one ends
    /// the term and gets the rest of it, if any, as its value. `None` when the term is not of
    /// that form or a letter names no option.
    fn concatenated_short_flags(&self, term: &str) -> Option<ShortFlags<'_>> {
        let body = term.strip_prefix('-')?;
        if body.is_empty() || body.starts_with('-') {
            return None;
        }
        let mut flags = Vec::new();
        for (at, c) in body.char_indices() {
            let short = format!("-{c}");
            let opt = self
                .opts
                .iter()
                .find(|o| o.flags.contains(&short.as_str()))?;
            if opt.kind.takes_value() {
                let rest = &body[at + c.len_utf8()..];
                let value = (!rest.is_empty()).then(|| rest.to_string());
                return Some(ShortFlags {
                    flags,
                    last: Some((opt, value)),
                });
            }
            flags.push(opt);
        }
        Some(ShortFlags { flags, last: None })
    }

    /// The argument a flag names: exact, else a unique prefix of a long flag.
    fn resolve(&self, flag: &str) -> Result<Option<&Opt>, String> {
        if let Some(o) = self.opts.iter().find(|o| o.flags.contains(&flag)) {
            return Ok(Some(o));
        }
        if !flag.starts_with("--") {
            return Ok(None);
        }
        let mut matches: Vec<(&str, &Opt)> = self
            .opts
            .iter()
            .flat_map(|o| o.flags.iter().map(move |f| (*f, o)))
            .filter(|(f, _)| f.starts_with("--") && f.starts_with(flag))
            .collect();
        matches.sort_by(|a, b| a.0.cmp(b.0));
        match matches.len() {
            0 => Ok(None),
            1 => Ok(Some(matches[0].1)),
            _ => Err(format!(
                "ambiguous option: {flag} could match {}",
                matches
                    .iter()
                    .map(|(f, _)| *f)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }

    fn resolve_command(&self, name: &str) -> Result<&Parser, String> {
        if let Some(p) = self.commands.iter().find(|p| p.command == Some(name)) {
            return Ok(p);
        }
        let matches: Vec<&Parser> = self
            .commands
            .iter()
            .filter(|p| p.command.is_some_and(|c| c.starts_with(name)))
            .collect();
        match matches.len() {
            1 => Ok(matches[0]),
            0 => Err(format!(
                "invalid choice: '{name}' (choose from {})",
                self.commands
                    .iter()
                    .map(|p| format!("'{}'", p.command.unwrap_or_default()))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            _ => {
                let mut names: Vec<&str> = matches.iter().filter_map(|p| p.command).collect();
                names.sort_unstable();
                Err(format!(
                    "ambiguous command: {name} could match {}",
                    names.join(", ")
                ))
            }
        }
    }

    fn command_candidates(&self, name: &str) -> Option<String> {
        let subjects: Vec<(String, String)> = self
            .commands
            .iter()
            .filter_map(|p| p.command)
            .map(|c| (c.to_string(), c.to_string()))
            .collect();
        candidates(name, &subjects)
    }

    fn flag_candidates(&self, body: &str) -> Option<String> {
        let subjects: Vec<(String, String)> = self
            .opts
            .iter()
            .flat_map(|o| o.flags.iter())
            .filter_map(|f| {
                let b = f.trim_start_matches('-');
                (b.len() > 1).then(|| (f.to_string(), b.to_string()))
            })
            .collect();
        candidates(body, &subjects)
    }

    /// `printUsage`: `usage: <prog>`, the upper parsers' required arguments, the command, this
    /// parser's arguments and `COMMAND ...`, wrapped at the format width.
    pub fn format_usage(&self, upper: &[String]) -> String {
        let usage_prog = format!("usage: {}", self.prog);
        let mut out = usage_prog.clone();
        let indent = "                              ";
        let (offset, first_indent, subsequent_indent) = if usage_prog.len() > indent.len() {
            out.push('\n');
            (6, &indent[..6], &indent[..6])
        } else {
            (usage_prog.len(), "", &indent[..usage_prog.len()])
        };
        let mut opts: Vec<String> = upper.to_vec();
        if let Some(c) = self.command {
            opts.push(c.to_string());
        }
        opts.extend(
            self.opts
                .iter()
                .filter(|o| o.exclusive.is_none())
                .map(Opt::short_syntax),
        );
        for (index, group) in self.exclusive.iter().enumerate() {
            let members: Vec<String> = self
                .opts
                .iter()
                .filter(|o| o.exclusive == Some(index))
                .map(Opt::short_syntax_no_bracket)
                .collect();
            let (open, close) = if group.required {
                ("(", ")")
            } else {
                ("[", "]")
            };
            // argparse4j wraps the group's members and each `|` as separate words.
            match members.as_slice() {
                [] => {}
                [only] if group.required => opts.push(only.clone()),
                [only] => opts.push(format!("[{only}]")),
                [first, middle @ .., last] => {
                    opts.push(format!("{open}{first}"));
                    for m in middle {
                        opts.push("|".to_string());
                        opts.push(m.clone());
                    }
                    opts.push("|".to_string());
                    opts.push(format!("{last}{close}"));
                }
            }
        }
        if !self.commands.is_empty() {
            opts.push(self.commands_metavar.to_string());
            opts.push("...".to_string());
        }
        let mut width = offset + first_indent.len();
        out.push_str(first_indent);
        let mut first = true;
        for syntax in opts {
            if !first && width + syntax.len() + 1 > FORMAT_WIDTH {
                out.push('\n');
                out.push_str(subsequent_indent);
                out.push(' ');
                out.push_str(&syntax);
                width = subsequent_indent.len() + 1 + syntax.len();
            } else {
                out.push(' ');
                out.push_str(&syntax);
                width += 1 + syntax.len();
                first = false;
            }
        }
        out.push('\n');
        out
    }

    /// `printHelp`.
    pub fn format_help(&self, upper: &[String]) -> String {
        let mut out = self.format_usage(upper);
        if !self.description.is_empty() {
            out.push('\n');
            out.push_str(&wrap(self.description, FORMAT_WIDTH, 0, "", ""));
            out.push('\n');
        }
        out.push_str("\noptional arguments:\n");
        for opt in self
            .opts
            .iter()
            .filter(|o| o.group.is_none() && o.exclusive.is_none())
        {
            out.push_str(&help_entry(
                &opt.help_title(),
                &opt.help_text(self.default_help),
            ));
        }
        for (index, group) in self.exclusive.iter().enumerate() {
            out.push('\n');
            if !group.title.is_empty() {
                out.push_str(group.title);
                out.push_str(":\n");
            }
            if !group.description.is_empty() {
                out.push_str("  ");
                out.push_str(&wrap(group.description, FORMAT_WIDTH, 2, "", "  "));
                out.push_str("\n\n");
            }
            for opt in self.opts.iter().filter(|o| o.exclusive == Some(index)) {
                out.push_str(&help_entry(
                    &opt.help_title(),
                    &opt.help_text(self.default_help),
                ));
            }
        }
        if !self.commands.is_empty() {
            out.push('\n');
            out.push_str(self.commands_title);
            out.push_str(":\n");
            out.push_str(&help_entry(self.commands_metavar, ""));
            for c in &self.commands {
                out.push_str(&help_entry(
                    &format!("  {}", c.command.unwrap_or_default()),
                    c.help,
                ));
            }
        }
        for (index, group) in self.groups.iter().enumerate() {
            out.push('\n');
            out.push_str(group.title);
            out.push_str(":\n");
            if !group.description.is_empty() {
                out.push_str("  ");
                out.push_str(&wrap(group.description, FORMAT_WIDTH, 2, "", "  "));
                out.push_str("\n\n");
            }
            for opt in self.opts.iter().filter(|o| o.group == Some(index)) {
                out.push_str(&help_entry(
                    &opt.help_title(),
                    &opt.help_text(self.default_help),
                ));
            }
        }
        out
    }

    /// What `handleError` prints for an `ArgumentParserException` a tool raises itself after
    /// parsing (`new ArgumentParserException(message, parser)`): the usage, then
    /// `<prog>: error: <message>`.
    pub fn error_text(&self, message: &str) -> String {
        match self.error(&[], message, None) {
            Stop::Error(text) => text,
            _ => String::new(),
        }
    }

    /// `handleError`: the usage, then `<prog>: error: <message>` wrapped, then suggestions.
    fn error(&self, upper: &[String], message: &str, suggest: Option<String>) -> Stop {
        let mut out = self.format_usage(upper);
        out.push_str(&wrap(
            &format!("{}: error: {message}\n", self.prog),
            FORMAT_WIDTH,
            0,
            "",
            "",
        ));
        if let Some(s) = suggest {
            out.push_str(&s);
        }
        Stop::Error(out)
    }
}

/// `TextHelper.printHelp`: `  <title>` then the help from column 25 (on the next line when the
/// title is longer than 21).
fn help_entry(title: &str, help: &str) -> String {
    let mut out = format!("  {title}");
    if help.is_empty() {
        out.push('\n');
        return out;
    }
    let title_width = title.chars().count();
    let pad = if title_width <= 21 {
        INDENT_WIDTH - (title_width + 2)
    } else {
        out.push('\n');
        INDENT_WIDTH
    };
    out.push_str(&" ".repeat(pad));
    out.push_str(&wrap(
        help,
        FORMAT_WIDTH,
        INDENT_WIDTH,
        "",
        &" ".repeat(INDENT_WIDTH),
    ));
    out.push('\n');
    out
}

/// `printCandidates`: the most similar subjects (a prefix match counts 0, else git's
/// Damerau-Levenshtein costs), if the best is below 7.
fn candidates(body: &str, subjects: &[(String, String)]) -> Option<String> {
    let mut scored: Vec<(usize, &str)> = subjects
        .iter()
        .map(|(subject, b)| {
            let score = if b.starts_with(body) {
                0
            } else {
                levenshtein(body, b, 0, 2, 1, 4)
            };
            (score, subject.as_str())
        })
        .collect();
    scored.sort();
    let threshold = scored.first()?.0;
    if threshold >= 7 {
        return None;
    }
    let mut out = String::from("\nDid you mean:\n");
    for (score, subject) in scored {
        if score > threshold {
            break;
        }
        out.push('\t');
        out.push_str(subject);
        out.push('\n');
    }
    Some(out)
}

/// argparse4j's `levenshtein(a, b, swap, sub, add, del)`.
fn levenshtein(a: &str, b: &str, swap: usize, sub: usize, add: usize, del: usize) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut dp = vec![vec![0usize; b.len() + 1]; 3];
    for (i, v) in dp[1].iter_mut().enumerate() {
        *v = i;
    }
    for i in 1..=a.len() {
        dp[0][0] = i;
        for j in 1..=b.len() {
            let mut v = dp[1][j - 1] + if a[i - 1] == b[j - 1] { 0 } else { sub };
            if i >= 2
                && j >= 2
                && a[i - 1] != b[j - 1]
                && a[i - 2] == b[j - 1]
                && a[i - 1] == b[j - 2]
            {
                v = v.min(dp[2][j - 2] + swap);
            }
            v = v.min((dp[1][j] + del).min(dp[0][j - 1] + add));
            dp[0][j] = v;
        }
        dp.rotate_right(1);
        // After rotation: old dp[2] -> dp[0], old dp[0] -> dp[1], old dp[1] -> dp[2].
    }
    dp[1][b.len()]
}

/// The line-break opportunities of Java's `BreakIterator.getLineInstance()` for the texts
/// this tool prints: after a run of spaces, after a newline, and after hyphens followed by a
/// letter (`comma-separated`, `--partition`).
fn segments(s: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let mut out = Vec::new();
    let mut start = 0;
    let mut k = 0;
    while k < chars.len() {
        let (_, c) = chars[k];
        let next = chars.get(k + 1).map(|(_, c)| *c);
        let boundary = match c {
            '\n' => true,
            ' ' => next != Some(' '),
            '-' => next.is_some_and(|n| n.is_alphabetic()),
            _ => false,
        };
        if boundary {
            let end = chars.get(k + 1).map_or(s.len(), |(i, _)| *i);
            out.push(&s[start..end]);
            start = end;
        }
        k += 1;
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// `TextHelper.wrap`: fills lines up to `width` and justifies every full line by spreading
/// spaces over its gaps (`adjustSpace`).
pub fn wrap(
    s: &str,
    width: usize,
    initial_offset: usize,
    initial_indent: &str,
    subsequent_indent: &str,
) -> String {
    let mut res = String::from(initial_indent);
    let mut sb = String::new();
    let mut current = initial_offset + initial_indent.len();
    for sub in segments(s) {
        let sub_width = sub.chars().count();
        current += sub_width;
        if current > width {
            res.push_str(&adjust_space(&sb, width, current - sub_width));
            res.push('\n');
            res.push_str(subsequent_indent);
            sb.clear();
            current = subsequent_indent.len() + sub_width;
        }
        sb.push_str(sub);
        if sub.ends_with('\n') {
            res.push_str(&sb);
            res.push_str(subsequent_indent);
            sb.clear();
            current = subsequent_indent.len();
        }
    }
    res.push_str(&sb);
    res
}

/// `TextHelper.adjustSpace`: trims the line and widens its space runs to fill `width`, the
/// extra spaces going to the middle runs.
fn adjust_space(line: &str, width: usize, current: usize) -> String {
    let orig_len = line.chars().count();
    let trimmed = line.trim_matches(' ');
    let len = trimmed.chars().count();
    let current = current.saturating_sub(orig_len - len);
    let chars: Vec<char> = trimmed.chars().collect();
    let mut blocks = 0;
    let mut in_block = false;
    for c in &chars {
        if *c == ' ' {
            if !in_block {
                in_block = true;
                blocks += 1;
            }
        } else {
            in_block = false;
        }
    }
    if blocks == 0 {
        return trimmed.to_string();
    }
    let need = width.saturating_sub(current);
    let each = need / blocks;
    let rem = need % blocks;
    let rem_start = (blocks - rem).div_ceil(2);
    let rem_end = rem_start + rem;
    let mut out = String::with_capacity(width);
    let mut b = 0;
    in_block = false;
    for c in chars {
        if c == ' ' {
            if !in_block {
                in_block = true;
                let add = each + usize::from(rem_start <= b && b < rem_end);
                out.push_str(&" ".repeat(add));
                b += 1;
            }
        } else {
            in_block = false;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn justified_wrapping_matches_argparse4j() {
        let text = "This tool is used to analyze the transactional state of producers in the cluster. It can be used to detect and recover from hanging transactions.";
        assert_eq!(
            wrap(text, FORMAT_WIDTH, 0, "", ""),
            "This tool is used to analyze  the  transactional  state of producers in the\ncluster. It can be used to detect and recover from hanging transactions."
        );
    }

    #[test]
    fn levenshtein_uses_gits_costs() {
        assert_eq!(levenshtein("abc", "abc", 0, 2, 1, 4), 0);
        assert_eq!(
            levenshtein("transactional-ix", "transactional-id", 0, 2, 1, 4),
            2
        );
    }

    fn connection_parser() -> Parser {
        let mut p = Parser::new("verifiable-producer");
        p.exclusive.push(Exclusive {
            title: "Connection Group",
            description: "Group of arguments for connection to brokers",
            required: true,
        });
        p.opts.push(
            Opt::value(&["--acks"], "acks", Kind::Int, "Acks.")
                .choices(&["0", "1", "-1"])
                .default("-1"),
        );
        for (flag, dest) in [
            (&["--bootstrap-server"][..], "bootstrapServer"),
            (&["--broker-list"][..], "brokerList"),
        ] {
            p.opts.push(
                Opt::value(flag, dest, Kind::Str, "Servers.")
                    .metavar("HOST1:PORT1[,HOST2:PORT2[...]]")
                    .in_exclusive(0),
            );
        }
        p
    }

    fn strs(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn choices_are_checked_after_conversion_with_argparse4js_text() {
        let p = connection_parser();
        let ns = p.parse(&strs(&["--bootstrap-server", "h:1", "--acks", "-01"]));
        assert_eq!(ns.ok().and_then(|n| n.get_i32("acks")), Some(-1));
        match p.parse(&strs(&["--bootstrap-server", "h:1", "--acks", "2"])) {
            Err(Stop::Error(text)) => assert!(text
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .ends_with("error: argument --acks: invalid choice: '2' (choose from {0,1,-1})")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_mutually_exclusive_group_is_separate_words_in_the_usage_and_titled_in_the_help() {
        let p = connection_parser();
        let usage = p.format_usage(&[]);
        assert!(usage.ends_with(
            "(--bootstrap-server HOST1:PORT1[,HOST2:PORT2[...]]\n                           | --broker-list HOST1:PORT1[,HOST2:PORT2[...]])\n"
        ));
        let help = p.format_help(&[]);
        assert!(help.contains(
            "\nConnection Group:\n  Group of arguments for connection to brokers\n\n  --bootstrap-server"
        ));
    }

    #[test]
    fn java_number_conversion_messages() {
        assert!(convert(Kind::Int, "12").is_ok());
        assert!(convert(Kind::Int, "-12").is_ok());
        assert_eq!(
            convert(Kind::Int, "99999999999").err().as_deref(),
            Some("could not convert '99999999999' to Integer (For input string: \"99999999999\")")
        );
        assert_eq!(
            convert(Kind::Short, "70000").err().as_deref(),
            Some(
                "could not convert '70000' to Short (Value out of range. Value:\"70000\" Radix:10)"
            )
        );
        assert_eq!(
            convert(Kind::Long, "1.5").err().as_deref(),
            Some("could not convert '1.5' to Long (For input string: \"1.5\")")
        );
    }

    /// A parser with short flags, as kafka-cluster's (`-b`, `-c`) plus a store-true `-x`.
    fn short_flags_parser() -> Parser {
        let mut p = Parser::new("kafka-cluster");
        p.opts.push(Opt::value(
            &["--bootstrap-server", "-b"],
            "bootstrap_server",
            Kind::Str,
            "Servers.",
        ));
        p.opts.push(Opt::value(
            &["--config", "-c"],
            "config",
            Kind::Str,
            "Config.",
        ));
        p.opts
            .push(Opt::flag(&["--exclude", "-x"], "exclude", "Exclude."));
        p
    }

    /// argparse4j 0.7.0 (Kafka 3.9's) splits any flag at '=' and reads concatenated short flags:
    /// `-b=h:1`, `-bh:1` and `-xb h:1` all give `-b` its value.
    #[test]
    fn short_flags_take_values_after_equals_or_stuck_to_them() {
        let p = short_flags_parser();
        let get = |a: &[&str]| {
            let ns = p.parse(&strs(a)).unwrap_or_else(|e| panic!("{a:?}: {e:?}"));
            (
                ns.get("bootstrap_server").map(str::to_string),
                ns.get_flag("exclude"),
            )
        };
        let b = Some("h:1".to_string());
        assert_eq!(get(&["-b", "h:1"]), (b.clone(), false));
        assert_eq!(get(&["-b=h:1"]), (b.clone(), false));
        assert_eq!(get(&["-bh:1"]), (b.clone(), false));
        assert_eq!(get(&["--bootstrap-server=h:1"]), (b.clone(), false));
        assert_eq!(get(&["-xb", "h:1"]), (b.clone(), true));
        assert_eq!(get(&["-xbh:1"]), (b.clone(), true));
        // The value is the rest of the term, '=' and all, as argparse4j takes it.
        assert_eq!(get(&["-xb=h:1"]).0.as_deref(), Some("=h:1"));
        assert_eq!(get(&["-x"]), (None, true));

        let error = |a: &[&str]| match p.parse(&strs(a)) {
            // The message as one line: argparse4j wraps and justifies it.
            Err(Stop::Error(text)) => {
                let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
                let from = words.find("kafka-cluster: error:").unwrap_or_default();
                let message = &words[from..];
                message[..message.find(" Did you mean").unwrap_or(message.len())].to_string()
            }
            other => panic!("{a:?}: {other:?}"),
        };
        assert_eq!(
            error(&["-qb", "h:1"]),
            "kafka-cluster: error: unrecognized arguments: '-qb'"
        );
        assert_eq!(
            error(&["-x=yes"]),
            "kafka-cluster: error: argument --exclude/-x: ignored explicit argument 'yes'"
        );
        assert_eq!(
            error(&["-xb"]),
            "kafka-cluster: error: argument --bootstrap-server/-b: expected one argument"
        );
    }
}
