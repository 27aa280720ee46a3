//! Java's `Double.toString` and `Float.toString`, for tools whose output Kafka prints through
//! Java's string conversion (the console consumer's DoubleDeserializer, the perf tools' latency
//! lines, the verifiable producer's `avg_throughput`), and JSON strings as Jackson escapes them
//! (the verifiable clients' event lines).

/// Java's `Double.toString`: plain decimal for 10^-3 <= |x| < 10^7, else `d.dddE±n`, always
/// with a digit after the point; the digits are the shortest that read back as `x`.
pub fn double_to_string(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    java_decimal(
        &format!("{x:e}"),
        x != 0.0 && (x.abs() < 1e-3 || x.abs() >= 1e7),
    )
}

/// Java's `Float.toString`, as [`double_to_string`] with the shortest digits of the float.
pub fn float_to_string(x: f32) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    java_decimal(
        &format!("{x:e}"),
        x != 0.0 && (x.abs() < 1e-3 || x.abs() >= 1e7),
    )
}

/// Rewrites Rust's shortest scientific form (`-1.25e3`) in Java's layout.
fn java_decimal(sci: &str, scientific: bool) -> String {
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if scientific {
        let (first, rest) = digits.split_at(1);
        let rest = if rest.is_empty() { "0" } else { rest };
        return format!("{sign}{first}.{rest}E{exp}");
    }
    if exp >= 0 {
        let int_len = exp as usize + 1;
        let mut int_part = digits.clone();
        let frac = if digits.len() > int_len {
            int_part.truncate(int_len);
            digits[int_len..].to_string()
        } else {
            int_part.push_str(&"0".repeat(int_len - digits.len()));
            "0".to_string()
        };
        format!("{sign}{int_part}.{frac}")
    } else {
        let zeros = "0".repeat((-exp - 1) as usize);
        format!("{sign}0.{zeros}{digits}")
    }
}

/// A JSON string as Jackson escapes it: `"` and `\`, the short escapes for backspace, form
/// feed, newline, carriage return and tab, `\u00XX` (upper-case hex) for the other control
/// characters; everything else (`/`, non-ASCII) as it is.
pub fn jackson_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_layout_of_doubles_and_floats() {
        assert_eq!(double_to_string(1.0), "1.0");
        assert_eq!(double_to_string(0.001), "0.001");
        assert_eq!(double_to_string(1234.5), "1234.5");
        assert_eq!(double_to_string(1e7), "1.0E7");
        assert_eq!(double_to_string(12_345_678.9), "1.23456789E7");
        assert_eq!(double_to_string(1.25e-4), "1.25E-4");
        assert_eq!(double_to_string(0.0001), "1.0E-4");
        assert_eq!(double_to_string(-0.0), "-0.0");
        assert_eq!(double_to_string(100.0), "100.0");
        assert_eq!(double_to_string(f64::INFINITY), "Infinity");
        assert_eq!(double_to_string(f64::NAN), "NaN");
        assert_eq!(float_to_string(0.1), "0.1");
        assert_eq!(float_to_string(f32::NAN), "NaN");
    }
}
