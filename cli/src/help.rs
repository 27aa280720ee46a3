//! The help table jopt-simple's `BuiltinHelpFormatter` prints (80 columns, two columns of at most
//! 39 characters separated by two spaces, continuation lines indented by two, options sorted by
//! name), which `printUsageAndExit` writes to stderr after the message.

use super::spec::{ArgKind, OptionSpec};

const OVERALL_WIDTH: usize = 80;
const COLUMN_SEPARATOR: usize = 2;
const CONTINUATION_INDENT: usize = 2;

/// Renders the help table for `specs`.
pub fn format_help(specs: &[OptionSpec]) -> String {
    let mut sorted: Vec<&OptionSpec> = specs.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let any_required = sorted.iter().any(|s| s.required);
    let option_header = if any_required {
        "Option (* = required)"
    } else {
        "Option"
    };
    let mut rows: Vec<(String, String)> = vec![
        (option_header.to_string(), "Description".to_string()),
        (
            "-".repeat(option_header.len()),
            "-".repeat("Description".len()),
        ),
    ];
    rows.extend(sorted.iter().map(|s| (option_cell(s), description_cell(s))));

    let max_column = (OVERALL_WIDTH - COLUMN_SEPARATOR) / 2;
    let widest_option = rows
        .iter()
        .map(|(o, _)| o.chars().count())
        .max()
        .unwrap_or(0);
    let widest_description = rows
        .iter()
        .flat_map(|(_, d)| d.split('\n'))
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0);
    let option_width = max_column.min(widest_option);
    let description_width = max_column.min(widest_description);

    let mut out = String::new();
    for (option, description) in rows {
        let option_pieces = wrap(&option, option_width);
        let description_pieces = wrap(&description, description_width);
        let lines = option_pieces.len().max(description_pieces.len());
        for i in 0..lines {
            let o = option_pieces.get(i).map(String::as_str).unwrap_or("");
            let d = description_pieces.get(i).map(String::as_str).unwrap_or("");
            out.push_str(&pad(o, option_width));
            out.push_str(&" ".repeat(COLUMN_SEPARATOR));
            out.push_str(&pad(d, description_width));
            out.push('\n');
        }
    }
    out
}

fn option_cell(spec: &OptionSpec) -> String {
    let mut cell = String::new();
    if spec.required {
        cell.push_str("* ");
    }
    cell.push_str("--");
    cell.push_str(&spec.name);
    let (open, close) = match spec.arg {
        ArgKind::None => return cell,
        ArgKind::Required => ('<', '>'),
        ArgKind::Optional => ('[', ']'),
    };
    cell.push(' ');
    cell.push(open);
    cell.push_str(&spec.value_type.java_name());
    if let Some(label) = spec.described_as.as_deref().filter(|l| !l.is_empty()) {
        cell.push_str(": ");
        cell.push_str(label);
    }
    cell.push(close);
    cell
}

fn description_cell(spec: &OptionSpec) -> String {
    match &spec.default {
        Some(default) if spec.description.is_empty() => format!("(default: {default})"),
        Some(default) => format!("{} (default: {default})", spec.description),
        None => spec.description.clone(),
    }
}

fn pad(s: &str, width: usize) -> String {
    let len = s.chars().count();
    if len >= width {
        s.to_string()
    } else {
        format!("{s}{}", " ".repeat(width - len))
    }
}

/// Splits `text` into pieces of at most `width` characters, breaking after spaces; embedded
/// newlines start a new piece; continuation pieces are indented.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    for line in text.trim().split('\n') {
        let mut current = String::new();
        for word in line.split_inclusive(' ') {
            let current_len = current.chars().count();
            if current_len > 0 && current_len + word.chars().count() > width {
                pieces.push(current.trim_end().to_string());
                current = " ".repeat(CONTINUATION_INDENT);
            }
            current.push_str(word);
        }
        if !current.trim().is_empty() || pieces.is_empty() {
            pieces.push(current.trim_end().to_string());
        }
    }
    pieces
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::OptionParser;

    #[test]
    fn help_lists_options_sorted_with_argument_types_and_defaults() {
        let mut p = OptionParser::new();
        p.accepts("topic", "The topic id to produce messages to.")
            .with_required_arg()
            .described_as("topic");
        p.accepts(
            "batch-size",
            "Number of messages to send in a single batch.",
        )
        .with_required_arg()
        .of_type(crate::ValueType::Integer)
        .defaults_to("16384");
        p.accepts("compression-codec", "The codec.")
            .with_optional_arg()
            .described_as("compression-codec");
        let help = p.help();
        let lines: Vec<&str> = help.lines().collect();
        assert!(lines[0].starts_with("Option "));
        assert!(lines[0].contains("Description"));
        assert!(lines[1].starts_with("------ "));
        assert!(lines[2].starts_with("--batch-size <Integer>"));
        assert!(help.contains("(default: 16384)"));
        assert!(help.contains("--compression-codec [String:"));
        assert!(help.contains("--topic <String: topic>"));
        let help_pos = help.find("--help").unwrap();
        let version_pos = help.find("--version").unwrap();
        assert!(help_pos < version_pos);
        for line in &lines {
            assert!(line.chars().count() <= 80 || !line.contains("  "), "{line}");
        }
    }

    #[test]
    fn long_descriptions_wrap_with_an_indent() {
        let pieces = wrap("one two three four five six seven", 10);
        assert_eq!(pieces[0], "one two");
        assert!(pieces[1].starts_with("  "));
        assert!(pieces.iter().all(|p| p.len() <= 10));
    }
}
