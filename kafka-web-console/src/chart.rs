//! Line charts as standalone SVG documents, drawn on the server so that pages show them without
//! JavaScript (the console's script only reloads them). Time runs left to right over the
//! samples given; the y axis starts at 0 and ends at the largest value.

/// One line: its name (shown in the legend) and its points, (time in ms, value), oldest first.
pub struct Series {
    pub name: String,
    pub points: Vec<(i64, f64)>,
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 36.0;
const COLORS: &[&str] = &[
    "#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2",
];

/// Escapes text for SVG (XML) content and attribute values.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A number for an axis label: integers plainly, others with up to two decimals, large ones
/// with k / M / G.
fn label(v: f64) -> String {
    let (v, suffix) = if v >= 1e9 {
        (v / 1e9, "G")
    } else if v >= 1e6 {
        (v / 1e6, "M")
    } else if v >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    if (v - v.round()).abs() < 1e-9 {
        format!("{}{suffix}", v.round() as i64)
    } else {
        format!("{v:.2}{suffix}")
    }
}

/// The chart: `title` above, `unit` beside the y axis, one polyline per series. With no points
/// at all it says "no data yet". The x axis ends at `now_ms` (wall-clock ms since the epoch),
/// so samples that stopped coming (a failing scrape) show as old, not as "now".
pub fn line_chart(title: &str, unit: &str, series: &[Series], now_ms: i64) -> String {
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" width=\"{WIDTH}\" height=\"{HEIGHT}\" font-family=\"sans-serif\" font-size=\"11\">\
<rect x=\"0\" y=\"0\" width=\"{WIDTH}\" height=\"{HEIGHT}\" fill=\"#ffffff\"/>\
<text x=\"{LEFT}\" y=\"16\" font-size=\"13\" font-weight=\"bold\">{}</text>",
        xml_escape(title)
    );
    let all: Vec<(i64, f64)> = series
        .iter()
        .flat_map(|s| s.points.iter().copied())
        .collect();
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    svg.push_str(&format!(
        "<rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{plot_w}\" height=\"{plot_h}\" fill=\"none\" stroke=\"#cbd5e1\"/>"
    ));
    if all.is_empty() {
        svg.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#64748b\">no data yet</text></svg>",
            LEFT + plot_w / 2.0,
            TOP + plot_h / 2.0
        ));
        return svg;
    }
    let t_min = all.iter().map(|p| p.0).min().unwrap_or(0);
    let t_max = all.iter().map(|p| p.0).max().unwrap_or(0).max(now_ms);
    let v_max = all.iter().map(|p| p.1).fold(0.0_f64, f64::max);
    let v_top = if v_max > 0.0 { v_max } else { 1.0 };
    let span = (t_max - t_min).max(1) as f64;
    let x = |t: i64| LEFT + (t - t_min) as f64 / span * plot_w;
    let y = |v: f64| TOP + plot_h - (v.max(0.0) / v_top) * plot_h;
    // Grid lines and labels at 0, half and the top.
    for frac in [0.0, 0.5, 1.0] {
        let gy = TOP + plot_h - frac * plot_h;
        svg.push_str(&format!(
            "<line x1=\"{LEFT}\" y1=\"{gy:.1}\" x2=\"{:.1}\" y2=\"{gy:.1}\" stroke=\"#e2e8f0\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#475569\">{}</text>",
            LEFT + plot_w,
            LEFT - 6.0,
            gy + 4.0,
            xml_escape(&label(v_top * frac))
        ));
    }
    svg.push_str(&format!(
        "<text x=\"12\" y=\"{:.1}\" fill=\"#475569\" transform=\"rotate(-90 12 {:.1})\" text-anchor=\"middle\">{}</text>",
        TOP + plot_h / 2.0,
        TOP + plot_h / 2.0,
        xml_escape(unit)
    ));
    let seconds = (t_max - t_min) / 1000;
    if seconds > 0 {
        svg.push_str(&format!(
            "<text x=\"{LEFT}\" y=\"{:.1}\" fill=\"#475569\">-{seconds}s</text>",
            HEIGHT - BOTTOM + 14.0
        ));
    }
    svg.push_str(&format!(
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#475569\">now</text>",
        LEFT + plot_w,
        HEIGHT - BOTTOM + 14.0
    ));
    let mut legend_x = LEFT;
    for (i, s) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let points: Vec<String> = s
            .points
            .iter()
            .map(|(t, v)| format!("{:.1},{:.1}", x(*t), y(*v)))
            .collect();
        if points.len() == 1 {
            let (t, v) = s.points[0];
            svg.push_str(&format!(
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{color}\"/>",
                x(t),
                y(v)
            ));
        } else if !points.is_empty() {
            svg.push_str(&format!(
                "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/>",
                points.join(" ")
            ));
        }
        let name = xml_escape(&s.name);
        svg.push_str(&format!(
            "<rect x=\"{legend_x:.1}\" y=\"{:.1}\" width=\"10\" height=\"10\" fill=\"{color}\"/><text x=\"{:.1}\" y=\"{:.1}\" fill=\"#0f172a\">{name}</text>",
            HEIGHT - 14.0,
            legend_x + 14.0,
            HEIGHT - 5.0
        ));
        legend_x += 24.0 + 7.0 * s.name.chars().count() as f64;
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_chart_says_so() {
        let svg = line_chart("Lag", "messages", &[], 0);
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("no data yet"));
        assert!(svg.ends_with("</svg>"));
    }

    #[test]
    fn series_become_polylines_and_names_are_escaped() {
        let svg = line_chart(
            "Lag of <g>",
            "messages",
            &[Series {
                name: "a&b".into(),
                points: vec![(0, 0.0), (1000, 5.0), (2000, 10.0)],
            }],
            2000,
        );
        assert!(svg.contains("<polyline"));
        assert!(svg.contains("Lag of &lt;g&gt;"));
        assert!(svg.contains("a&amp;b"));
        assert!(!svg.contains("<g>"));
        assert!(svg.contains(">10<"));
    }

    #[test]
    fn the_axis_ends_at_the_real_time_so_stale_samples_look_old() {
        let points = vec![(0, 1.0), (10_000, 2.0)];
        let svg = line_chart(
            "Rate",
            "1/s",
            &[Series {
                name: "a".into(),
                points,
            }],
            70_000,
        );
        // The axis spans 70 s, and the last sample sits a sixth of the way from the right edge
        // rather than at "now".
        assert!(svg.contains(">-70s<"), "{svg}");
        let right = LEFT + (WIDTH - LEFT - RIGHT);
        let x_last = LEFT + (WIDTH - LEFT - RIGHT) / 7.0;
        assert!(svg.contains(&format!("{x_last:.1},")), "{svg}");
        assert!(!svg.contains(&format!("{right:.1},")), "{svg}");
    }
}
