//! One option a tool accepts, built the way jopt-simple's `parser.accepts(..)` chain builds it.

/// Whether an option takes an argument (jopt's `withRequiredArg` / `withOptionalArg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// A flag: `--list`.
    None,
    /// `--topic t`: takes the next token even when it starts with `-`.
    Required,
    /// `--compression-codec [codec]`: takes the next token only if it does not look like an option.
    Optional,
}

/// The Java type the argument converts to (`ofType(..)`, `withValuesConvertedBy(..)`): checked
/// after parsing, shown in help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    String,
    Integer,
    Long,
    /// jopt's `EnumConverter` over a Java enum with these constants (`ElectionType`): a value
    /// matches a constant ignoring case.
    Enum(&'static [&'static str]),
}

impl ValueType {
    /// What jopt's help shows for the type: the class name (`<Integer: # of partitions>`), or
    /// for an enum its converter's `valuePattern` (`<[PREFERRED,UNCLEAN]: election type>`).
    pub fn java_name(self) -> String {
        match self {
            ValueType::String => "String".to_string(),
            ValueType::Integer => "Integer".to_string(),
            ValueType::Long => "Long".to_string(),
            ValueType::Enum(constants) => format!("[{}]", constants.join(",")),
        }
    }

    /// Whether `raw` converts the way `Integer.valueOf` / `Long.valueOf` / `EnumConverter`
    /// would accept it.
    pub fn accepts(self, raw: &str) -> bool {
        match self {
            ValueType::String => true,
            ValueType::Integer => raw.parse::<i32>().is_ok(),
            ValueType::Long => raw.parse::<i64>().is_ok(),
            ValueType::Enum(constants) => constants.iter().any(|c| c.eq_ignore_ascii_case(raw)),
        }
    }
}

/// An option definition. Built with [`crate::OptionParser::accepts`] and the chained setters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionSpec {
    pub name: String,
    pub description: String,
    pub arg: ArgKind,
    pub value_type: ValueType,
    /// jopt's `describedAs`: the argument's label in the help table.
    pub described_as: Option<String>,
    /// jopt's `defaultsTo`: returned by `value_of` when the option is absent.
    pub default: Option<String>,
    /// jopt's `.required()`: parsing fails with `Missing required option(s) [..]` when absent.
    pub required: bool,
    /// jopt's `.requiredUnless(other)`: required unless `other` is present.
    pub required_unless: Option<String>,
    /// jopt's `.forHelp()`: when present, required-option checks are skipped.
    pub for_help: bool,
    /// jopt converts an argument when the tool reads it (`valueOf`), not while parsing. Most
    /// tools read their options right after parsing, so we check conversions then; a tool whose
    /// other checks come first marks the option and reads it with
    /// [`crate::OptionParser::converted_value_of`] at the point where Kafka's tool reads it.
    pub converted_on_read: bool,
}

impl OptionSpec {
    pub fn new(name: &str, description: &str) -> Self {
        OptionSpec {
            name: name.to_string(),
            description: description.to_string(),
            arg: ArgKind::None,
            value_type: ValueType::String,
            described_as: None,
            default: None,
            required: false,
            required_unless: None,
            for_help: false,
            converted_on_read: false,
        }
    }

    pub fn with_required_arg(&mut self) -> &mut Self {
        self.arg = ArgKind::Required;
        self
    }

    pub fn with_optional_arg(&mut self) -> &mut Self {
        self.arg = ArgKind::Optional;
        self
    }

    pub fn described_as(&mut self, label: &str) -> &mut Self {
        self.described_as = Some(label.to_string());
        self
    }

    pub fn of_type(&mut self, value_type: ValueType) -> &mut Self {
        self.value_type = value_type;
        self
    }

    pub fn defaults_to(&mut self, default: &str) -> &mut Self {
        self.default = Some(default.to_string());
        self
    }

    pub fn required(&mut self) -> &mut Self {
        self.required = true;
        self
    }

    pub fn required_unless(&mut self, other: &str) -> &mut Self {
        self.required_unless = Some(other.to_string());
        self
    }

    pub fn for_help(&mut self) -> &mut Self {
        self.for_help = true;
        self
    }

    /// See [`OptionSpec::converted_on_read`].
    pub fn converted_on_read(&mut self) -> &mut Self {
        self.converted_on_read = true;
        self
    }

    /// How Kafka's messages print an OptionSpec: `[name]`.
    pub fn display(&self) -> String {
        format!("[{}]", self.name)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn integer_type_accepts_what_java_integer_value_of_accepts() {
        assert!(ValueType::Integer.accepts("3"));
        assert!(ValueType::Integer.accepts("-3"));
        assert!(ValueType::Integer.accepts("+3"));
        assert!(!ValueType::Integer.accepts("abc"));
        assert!(!ValueType::Integer.accepts("3000000000"));
        assert!(ValueType::Long.accepts("3000000000"));
        assert!(!ValueType::Integer.accepts(""));
    }

    #[test]
    fn enum_type_matches_constants_ignoring_case_and_shows_its_value_pattern() {
        let election = ValueType::Enum(&["PREFERRED", "UNCLEAN"]);
        assert!(election.accepts("preferred"));
        assert!(election.accepts("Unclean"));
        assert!(!election.accepts("clean"));
        assert_eq!(election.java_name(), "[PREFERRED,UNCLEAN]");
    }

    #[test]
    fn spec_prints_in_brackets_like_kafka_messages() {
        assert_eq!(OptionSpec::new("topic", "").display(), "[topic]");
    }
}
