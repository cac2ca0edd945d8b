//! The runner's outputs: `results.json` (one record per system and scenario), `results.md`
//! (tables with ratios against the direct run and against each peer) and `latency.svg`
//! (percentile curves, one per system, drawn by hand).
//!
//! It formats what it is given; it does not judge whether the numbers meet any target.

use std::fmt::Write as _;

use serde::Serialize;

/// One system in one scenario. `None` serialises as `null` (e.g. CPU for `direct`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Record {
    /// `direct`, `hawser`, `nginx` or `haproxy`.
    pub system: String,
    /// `max` (closed loop) or `rate25` / `rate50` / `rate75` (open loop at that share of the
    /// direct maximum).
    pub scenario: String,
    /// `http1`.
    pub protocol: String,
    /// Open loop: the rate asked for; closed loop: `null`.
    pub target_rps: Option<f64>,
    /// Achieved requests per second.
    pub rps: f64,
    /// Latency percentiles in microseconds (coordinated-omission corrected).
    pub p50_us: u64,
    /// 99th percentile.
    pub p99_us: u64,
    /// 99.9th percentile.
    pub p999_us: u64,
    /// Proxy CPU time per request, in microseconds (`null` for `direct`).
    pub cpu_us_per_req: Option<f64>,
    /// Proxy resident memory after the scenario, in KiB (`null` for `direct`).
    pub rss_kib: Option<u64>,
    /// Failed exchanges in the window.
    pub errors: u64,
    /// Open loop: requests never sent before the cut-off (overload).
    pub missed: u64,
    /// (quantile, latency µs) pairs for the latency plot.
    pub percentiles: Vec<(f64, u64)>,
}

/// The quantiles plotted and stored per record.
pub const PLOT_QUANTILES: [f64; 10] = [0.0, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9999, 1.0];

fn find<'a>(records: &'a [Record], system: &str, scenario: &str) -> Option<&'a Record> {
    records
        .iter()
        .find(|r| r.system == system && r.scenario == scenario)
}

fn ratio(a: f64, b: Option<f64>) -> String {
    match b {
        Some(b) if b > 0.0 => format!("{:.2}x", a / b),
        _ => "-".into(),
    }
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "-".into(), |v| v.to_string())
}

/// Signed difference `a - b` in µs, or `-`.
fn added(a: u64, b: Option<u64>) -> String {
    b.map_or_else(|| "-".into(), |b| format!("{:+}", a as i64 - b as i64))
}

/// The Markdown report. `header` goes on top (date, command, machine notes).
pub fn markdown(records: &[Record], header: &str, notes: &[String]) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "{header}\n");
    let systems: Vec<&str> = {
        let mut s: Vec<&str> = Vec::new();
        for r in records {
            if !s.contains(&r.system.as_str()) {
                s.push(&r.system);
            }
        }
        s
    };
    let peers: Vec<&str> = systems.iter().copied().filter(|s| *s != "direct").collect();

    let _ = writeln!(md, "### Throughput (closed loop, max req/s)\n");
    let mut head = "| system | req/s | vs direct |".to_string();
    let mut rule = "|---|---:|---:|".to_string();
    for p in &peers {
        let _ = write!(head, " vs {p} |");
        rule.push_str("---:|");
    }
    head.push_str(" CPU µs/req | RSS KiB | errors |");
    rule.push_str("---:|---:|---:|");
    let _ = writeln!(md, "{head}\n{rule}");
    let direct_max = find(records, "direct", "max").map(|r| r.rps);
    for s in &systems {
        let Some(r) = find(records, s, "max") else {
            continue;
        };
        let mut line = format!("| {s} | {:.0} | {} |", r.rps, ratio(r.rps, direct_max));
        for p in &peers {
            let other = find(records, p, "max").map(|o| o.rps);
            let _ = write!(
                line,
                " {} |",
                if s == p {
                    "-".into()
                } else {
                    ratio(r.rps, other)
                }
            );
        }
        let _ = write!(
            line,
            " {} | {} | {} |",
            opt(r.cpu_us_per_req.map(|c| format!("{c:.1}"))),
            opt(r.rss_kib),
            r.errors
        );
        let _ = writeln!(md, "{line}");
    }

    let _ = writeln!(
        md,
        "\n### Latency at fixed rates (open loop, coordinated-omission corrected, µs)\n"
    );
    let _ = writeln!(
        md,
        "| scenario | system | target req/s | achieved | p50 | p99 | p99.9 | added p50 | added p99 | added p99.9 | CPU µs/req | errors |"
    );
    let _ = writeln!(
        md,
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    let mut scenarios: Vec<&str> = Vec::new();
    for r in records.iter().filter(|r| r.scenario != "max") {
        if !scenarios.contains(&r.scenario.as_str()) {
            scenarios.push(&r.scenario);
        }
    }
    for sc in &scenarios {
        let d = find(records, "direct", sc);
        for s in &systems {
            let Some(r) = find(records, s, sc) else {
                continue;
            };
            let _ = writeln!(
                md,
                "| {sc} | {s} | {} | {:.0} | {} | {} | {} | {} | {} | {} | {} | {} |",
                opt(r.target_rps.map(|t| format!("{t:.0}"))),
                r.rps,
                r.p50_us,
                r.p99_us,
                r.p999_us,
                added(r.p50_us, d.map(|d| d.p50_us)),
                added(r.p99_us, d.map(|d| d.p99_us)),
                added(r.p999_us, d.map(|d| d.p999_us)),
                opt(r.cpu_us_per_req.map(|c| format!("{c:.1}"))),
                r.errors
            );
        }
    }
    if !notes.is_empty() {
        let _ = writeln!(md, "\nNotes:\n");
        for n in notes {
            let _ = writeln!(md, "- {n}");
        }
    }
    md
}

/// The latency plot: one percentile curve per system for `scenario`. X is the percentile on the
/// usual log scale of 1/(1-q) (50, 90, 99, 99.9, 99.99), Y is latency on a log scale.
pub fn latency_svg(records: &[Record], scenario: &str) -> String {
    const W: f64 = 720.0;
    const H: f64 = 420.0;
    const L: f64 = 70.0;
    const R: f64 = 130.0;
    const T: f64 = 40.0;
    const B: f64 = 50.0;
    const COLORS: [&str; 4] = ["#555555", "#d62728", "#1f77b4", "#2ca02c"];
    let rows: Vec<&Record> = records.iter().filter(|r| r.scenario == scenario).collect();
    // x: log10(1/(1-q)), q capped at 0.9999 (x = 4).
    let xq = |q: f64| (1.0 / (1.0 - q.min(0.9999))).log10();
    let points: Vec<(f64, u64)> = rows
        .iter()
        .flat_map(|r| r.percentiles.iter().copied())
        .filter(|&(q, _)| q < 1.0)
        .collect();
    let max_us = points.iter().map(|p| p.1).max().unwrap_or(1).max(10) as f64;
    let min_us = points.iter().map(|p| p.1).min().unwrap_or(1).max(1) as f64;
    let (ylo, yhi) = (
        min_us.log10().floor(),
        max_us.log10().ceil().max(min_us.log10().floor() + 1.0),
    );
    let px = |x: f64| L + x / 4.0 * (W - L - R);
    let py = |us: f64| H - B - (us.max(1.0).log10() - ylo) / (yhi - ylo) * (H - T - B);
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" font-family=\"sans-serif\" font-size=\"12\">"
    );
    let _ = writeln!(svg, "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
    let _ = writeln!(
        svg,
        "<text x=\"{L}\" y=\"22\" font-size=\"14\">Latency by percentile, scenario {scenario} (corrected, log scales)</text>"
    );
    for (x, label) in [
        (std::f64::consts::LOG10_2, "50%"),
        (1.0, "90%"),
        (2.0, "99%"),
        (3.0, "99.9%"),
        (4.0, "99.99%"),
    ] {
        let _ = writeln!(
            svg,
            "<line x1=\"{0:.1}\" y1=\"{T}\" x2=\"{0:.1}\" y2=\"{1}\" stroke=\"#ddd\"/><text x=\"{0:.1}\" y=\"{2}\" text-anchor=\"middle\">{label}</text>",
            px(x),
            H - B,
            H - B + 18.0
        );
    }
    let mut e = ylo;
    while e <= yhi {
        let us = 10f64.powf(e);
        let label = if us >= 1000.0 {
            format!("{} ms", us / 1000.0)
        } else {
            format!("{us} µs")
        };
        let _ = writeln!(
            svg,
            "<line x1=\"{L}\" y1=\"{0:.1}\" x2=\"{1}\" y2=\"{0:.1}\" stroke=\"#ddd\"/><text x=\"{2}\" y=\"{3:.1}\" text-anchor=\"end\">{label}</text>",
            py(us),
            W - R,
            L - 6.0,
            py(us) + 4.0
        );
        e += 1.0;
    }
    let _ = writeln!(
        svg,
        "<text x=\"{0}\" y=\"{1}\" text-anchor=\"middle\">percentile</text>",
        (L + W - R) / 2.0,
        H - 12.0
    );
    for (i, r) in rows.iter().enumerate() {
        let color = COLORS.get(i % COLORS.len()).copied().unwrap_or("#000");
        let path: Vec<String> = r
            .percentiles
            .iter()
            .filter(|&&(q, _)| q > 0.0 && q < 1.0)
            .map(|&(q, us)| format!("{:.1},{:.1}", px(xq(q)), py(us as f64)))
            .collect();
        let _ = writeln!(
            svg,
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/>",
            path.join(" ")
        );
        let ly = T + 20.0 + i as f64 * 20.0;
        let _ = writeln!(
            svg,
            "<line x1=\"{0}\" y1=\"{ly}\" x2=\"{1}\" y2=\"{ly}\" stroke=\"{color}\" stroke-width=\"3\"/><text x=\"{2}\" y=\"{3}\">{4}</text>",
            W - R + 10.0,
            W - R + 30.0,
            W - R + 36.0,
            ly + 4.0,
            r.system
        );
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(system: &str, scenario: &str, rps: f64, p99: u64) -> Record {
        Record {
            system: system.into(),
            scenario: scenario.into(),
            protocol: "http1".into(),
            target_rps: None,
            rps,
            p50_us: p99 / 2,
            p99_us: p99,
            p999_us: p99 * 2,
            cpu_us_per_req: (system != "direct").then_some(10.0),
            rss_kib: (system != "direct").then_some(1000),
            errors: 0,
            missed: 0,
            percentiles: vec![(0.5, p99 / 2), (0.99, p99), (0.999, p99 * 2)],
        }
    }

    #[test]
    fn markdown_has_ratios_and_added_latency() {
        let rs = [
            rec("direct", "max", 1000.0, 100),
            rec("hawser", "max", 500.0, 200),
            rec("nginx", "max", 250.0, 300),
            rec("direct", "rate50", 500.0, 100),
            rec("hawser", "rate50", 500.0, 150),
        ];
        let md = markdown(&rs, "# t", &[]);
        assert!(md.contains("| hawser | 500 | 0.50x | - | 2.00x |"), "{md}");
        assert!(md.contains("| rate50 | hawser |"), "{md}");
        assert!(md.contains("| +25 | +50 | +100 |"), "{md}");
        let json = serde_json::to_value(&rs[0]).unwrap();
        assert_eq!(json["system"], "direct");
        assert!(json["cpu_us_per_req"].is_null());
    }

    #[test]
    fn svg_has_one_curve_per_system() {
        let rs = [
            rec("direct", "rate50", 1.0, 100),
            rec("hawser", "rate50", 1.0, 300),
        ];
        let svg = latency_svg(&rs, "rate50");
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains(">hawser</text>"));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
    }
}

#[cfg(test)]
mod golden {
    use super::*;

    /// A fixed set of single-run records: what the runner writes today.
    pub(crate) fn records() -> Vec<Record> {
        let r = |system: &str,
                 scenario: &str,
                 target: Option<f64>,
                 rps: f64,
                 p: (u64, u64, u64),
                 cpu: Option<f64>,
                 rss: Option<u64>| Record {
            system: system.into(),
            scenario: scenario.into(),
            protocol: "http1".into(),
            target_rps: target,
            rps,
            p50_us: p.0,
            p99_us: p.1,
            p999_us: p.2,
            cpu_us_per_req: cpu,
            rss_kib: rss,
            errors: 0,
            missed: 0,
            percentiles: vec![(0.5, p.0), (0.99, p.1), (0.999, p.2)],
        };
        vec![
            r("direct", "max", None, 73869.4, (300, 900, 1500), None, None),
            r(
                "hawser",
                "max",
                None,
                50891.2,
                (600, 1900, 4000),
                Some(17.62),
                Some(11628),
            ),
            r(
                "nginx",
                "max",
                None,
                47438.0,
                (650, 2100, 5000),
                Some(18.1),
                Some(11656),
            ),
            r(
                "direct",
                "rate50",
                Some(23719.0),
                23718.6,
                (143, 825, 1523),
                None,
                None,
            ),
            r(
                "hawser",
                "rate50",
                Some(23719.0),
                23719.0,
                (236, 1595, 5271),
                Some(25.1),
                Some(11700),
            ),
            r(
                "nginx",
                "rate50",
                Some(23719.0),
                23718.0,
                (192, 6471, 17087),
                Some(21.4),
                Some(11800),
            ),
        ]
    }

    /// The single-run Markdown and JSON, byte for byte, as written before repeated runs
    /// existed (tests/golden/ was generated by that code).
    #[test]
    fn single_run_output_matches_the_golden_files() {
        let rs = records();
        let md = markdown(&rs, "## h", &["a note".to_string()]);
        assert_eq!(md, include_str!("../tests/golden/single-run.md"));
        let json = serde_json::to_string_pretty(&rs).unwrap();
        assert_eq!(json, include_str!("../tests/golden/single-run.json"));
    }
}
