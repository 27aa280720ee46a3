//! `ToolsUtils.printMetrics`: a blank line, `Metric Name` and `Value` headings, then one line per
//! metric sorted by `group:name:{tags}`, names padded to the longest, doubles with 3 decimals.

use std::io::Write;

/// One metric as Kafka's `MetricName` prints it.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// `group:name:{client-id=..}`.
    pub display_name: String,
    pub value: f64,
}

impl Metric {
    pub fn new(group: &str, name: &str, client_id: &str, value: f64) -> Self {
        Metric {
            display_name: format!("{group}:{name}:{{client-id={client_id}}}"),
            value,
        }
    }
}

pub fn print_metrics(metrics: &[Metric], out: &mut impl Write) {
    if metrics.is_empty() {
        return;
    }
    let mut sorted: Vec<&Metric> = metrics.iter().collect();
    sorted.sort_by(|a, b| a.display_name.cmp(&b.display_name));
    let width = sorted
        .iter()
        .map(|m| m.display_name.chars().count())
        .max()
        .unwrap_or(0);
    let _ = writeln!(out, "\n{:<width$}   Value", "Metric Name");
    for m in sorted {
        let _ = writeln!(out, "{:<width$} : {:.3}", m.display_name, m.value);
    }
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_of_tools_utils() {
        let mut out = Vec::new();
        print_metrics(
            &[
                Metric::new("producer-metrics", "record-send-total", "c", 10.0),
                Metric::new("producer-metrics", "record-error-total", "c", 0.0),
            ],
            &mut out,
        );
        assert_eq!(
            String::from_utf8(out).unwrap_or_default(),
            "\nMetric Name                                         Value\n\
             producer-metrics:record-error-total:{client-id=c} : 0.000\n\
             producer-metrics:record-send-total:{client-id=c}  : 10.000\n"
        );
    }
}
