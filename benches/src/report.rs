//! The runner's outputs: `results.json` (one record per system and scenario), `results.md`
//! (tables with ratios against the direct run and against each peer) and `latency.svg`
//! (percentile curves, one per system, drawn by hand).
//!
//! With repeated runs (`--repeat N`) each record holds the means over the rounds, their 95%
//! confidence intervals and every round's raw values; the Markdown shows mean ± half-width,
//! ratios as means of per-round ratios (paired by round), and says for hawser against each peer
//! whether the interval lies above 1.0, below it, or across it. With one round the output is
//! what it always was, plus `"runs": 1` in the JSON.
//!
//! It formats what it is given; it does not judge whether the numbers meet any target.

use std::fmt::Write as _;

use serde::Serialize;

use crate::stats::{self, Estimate, Verdict};

/// One system in one scenario. `None` serialises as `null` (e.g. CPU for `direct`), except the
/// fields marked "omitted", which are left out of the JSON when `None`.
///
/// For repeated runs the measured fields hold the mean over the rounds (latencies rounded to
/// the microsecond, RSS to the KiB), `errors` and `missed` the totals over all rounds, and
/// `percentiles` the per-quantile means.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
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
    /// Rounds measured (1 without `--repeat`; fewer than asked when a round failed).
    pub runs: usize,
    /// 95% confidence interval of the mean `rps`, [low, high] (omitted when `runs` < 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rps_ci95: Option<[f64; 2]>,
    /// 95% confidence interval of the mean `p50_us` (omitted when `runs` < 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p50_us_ci95: Option<[f64; 2]>,
    /// 95% confidence interval of the mean `p99_us` (omitted when `runs` < 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p99_us_ci95: Option<[f64; 2]>,
    /// 95% confidence interval of the mean `p999_us` (omitted when `runs` < 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p999_us_ci95: Option<[f64; 2]>,
    /// 95% confidence interval of the mean `cpu_us_per_req` (omitted when `runs` < 2 or for
    /// `direct`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_us_per_req_ci95: Option<[f64; 2]>,
    /// Every round's raw values, in round order (omitted without `--repeat`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runs_raw: Option<Vec<Round>>,
}

/// One round's raw values for one system and scenario.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Round {
    /// The round, from 1. Rounds with the same number were measured back to back, so ratios
    /// pair on it.
    pub round: usize,
    /// Achieved requests per second.
    pub rps: f64,
    /// Median latency, µs.
    pub p50_us: u64,
    /// 99th percentile, µs.
    pub p99_us: u64,
    /// 99.9th percentile, µs.
    pub p999_us: u64,
    /// Proxy CPU µs per request (`null` for `direct`).
    pub cpu_us_per_req: Option<f64>,
    /// Proxy RSS after the run, KiB (`null` for `direct`).
    pub rss_kib: Option<u64>,
    /// Failed exchanges.
    pub errors: u64,
    /// Open loop: requests never sent before the cut-off.
    pub missed: u64,
}

impl Round {
    /// A round's values from a single-round record.
    pub fn of(round: usize, r: &Record) -> Round {
        Round {
            round,
            rps: r.rps,
            p50_us: r.p50_us,
            p99_us: r.p99_us,
            p999_us: r.p999_us,
            cpu_us_per_req: r.cpu_us_per_req,
            rss_kib: r.rss_kib,
            errors: r.errors,
            missed: r.missed,
        }
    }
}

/// A measured quantity of a round, for means and paired ratios.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Achieved requests per second (higher is better).
    Rps,
    /// Median latency (lower is better).
    P50,
    /// 99th percentile latency (lower is better).
    P99,
    /// 99.9th percentile latency (lower is better).
    P999,
    /// Proxy CPU µs per request (lower is better).
    Cpu,
}

impl Metric {
    /// The name in the report.
    pub fn label(self) -> &'static str {
        match self {
            Metric::Rps => "req/s",
            Metric::P50 => "p50",
            Metric::P99 => "p99",
            Metric::P999 => "p99.9",
            Metric::Cpu => "CPU µs/req",
        }
    }

    /// Whether a higher value is the better one.
    pub fn higher_is_better(self) -> bool {
        self == Metric::Rps
    }

    /// The value in a round (`None`: not measured, e.g. CPU for `direct`).
    pub fn of(self, r: &Round) -> Option<f64> {
        match self {
            Metric::Rps => Some(r.rps),
            Metric::P50 => Some(r.p50_us as f64),
            Metric::P99 => Some(r.p99_us as f64),
            Metric::P999 => Some(r.p999_us as f64),
            Metric::Cpu => r.cpu_us_per_req,
        }
    }
}

/// `(round, value)` for every round of `r` that has `metric` (empty without raw rounds).
pub fn series(r: &Record, metric: Metric) -> Vec<(usize, f64)> {
    r.runs_raw
        .iter()
        .flatten()
        .filter_map(|x| metric.of(x).map(|v| (x.round, v)))
        .collect()
}

/// Combines single-round records, each tagged with its round number (from 1), into one record
/// per system and scenario holding the means (see [`Record`]), with 95% intervals for two or
/// more rounds. `keep_rounds` stores every round's raw values in `runs_raw` (repeated runs);
/// without it, and with one round, the record is the measured one plus `runs: 1`.
///
/// Order: every system's `max`, then each system's fixed-rate scenarios, systems and scenarios
/// in the order they first appear (the order a single run has always written).
pub fn combine(measured: &[(usize, Record)], keep_rounds: bool) -> Vec<Record> {
    let mut systems: Vec<&str> = Vec::new();
    let mut scenarios: Vec<&str> = Vec::new();
    for (_, r) in measured {
        if !systems.contains(&r.system.as_str()) {
            systems.push(&r.system);
        }
        if !scenarios.contains(&r.scenario.as_str()) {
            scenarios.push(&r.scenario);
        }
    }
    let rank = |list: &[&str], x: &str| list.iter().position(|y| *y == x).unwrap_or(usize::MAX);
    let mut keys: Vec<(bool, usize, usize)> = Vec::new();
    for (_, r) in measured {
        let key = (
            r.scenario != "max",
            rank(&systems, &r.system),
            rank(&scenarios, &r.scenario),
        );
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys.sort_unstable();
    keys.iter()
        .filter_map(|&(_, sys, sc)| {
            let mut group: Vec<&(usize, Record)> = measured
                .iter()
                .filter(|(_, r)| r.system == systems[sys] && r.scenario == scenarios[sc])
                .collect();
            group.sort_by_key(|(round, _)| *round);
            merge(&group, keep_rounds)
        })
        .collect()
}

fn mean_of(group: &[&(usize, Record)], f: impl Fn(&Record) -> Option<f64>) -> Option<Estimate> {
    let xs: Vec<f64> = group.iter().filter_map(|(_, r)| f(r)).collect();
    stats::mean_ci95(&xs)
}

fn rounded(e: Option<Estimate>) -> u64 {
    e.map_or(0, |e| e.mean.round().max(0.0) as u64)
}

fn merge(group: &[&(usize, Record)], keep_rounds: bool) -> Option<Record> {
    let first = &group.first()?.1;
    let rps = mean_of(group, |r| Some(r.rps));
    let p50 = mean_of(group, |r| Some(r.p50_us as f64));
    let p99 = mean_of(group, |r| Some(r.p99_us as f64));
    let p999 = mean_of(group, |r| Some(r.p999_us as f64));
    let cpu = mean_of(group, |r| r.cpu_us_per_req);
    let rss = mean_of(group, |r| r.rss_kib.map(|k| k as f64));
    let percentiles = first
        .percentiles
        .iter()
        .map(|&(q, _)| {
            let e = mean_of(group, |r| {
                r.percentiles.iter().find(|p| p.0 == q).map(|p| p.1 as f64)
            });
            (q, rounded(e))
        })
        .collect();
    Some(Record {
        system: first.system.clone(),
        scenario: first.scenario.clone(),
        protocol: first.protocol.clone(),
        target_rps: first.target_rps,
        rps: rps.map_or(0.0, |e| e.mean),
        p50_us: rounded(p50),
        p99_us: rounded(p99),
        p999_us: rounded(p999),
        cpu_us_per_req: cpu.map(|e| e.mean),
        rss_kib: rss.map(|e| rounded(Some(e))),
        errors: group.iter().map(|(_, r)| r.errors).sum(),
        missed: group.iter().map(|(_, r)| r.missed).sum(),
        percentiles,
        runs: group.len(),
        rps_ci95: rps.and_then(|e| e.ci95),
        p50_us_ci95: p50.and_then(|e| e.ci95),
        p99_us_ci95: p99.and_then(|e| e.ci95),
        p999_us_ci95: p999.and_then(|e| e.ci95),
        cpu_us_per_req_ci95: cpu.and_then(|e| e.ci95),
        runs_raw: keep_rounds.then(|| group.iter().map(|(n, r)| Round::of(*n, r)).collect()),
    })
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

/// `mean ±half-width` of a 95% interval with `decimals` decimals; the mean alone without one.
fn pm(mean: f64, ci: Option<[f64; 2]>, decimals: usize) -> String {
    match ci {
        Some([lo, hi]) => format!("{mean:.decimals$} ±{:.decimals$}", (hi - lo) / 2.0),
        None => format!("{mean:.decimals$}"),
    }
}

/// The mean per-round ratio `a / b` of `metric`, paired by round, as `1.07x ±0.03`; `1.07x`
/// for a single pair; `-` for none.
fn paired_ratio(a: &Record, b: Option<&Record>, metric: Metric) -> String {
    let Some(e) = b.and_then(|b| stats::paired_ratio_ci95(&series(a, metric), &series(b, metric)))
    else {
        return "-".into();
    };
    match e.half_width() {
        Some(h) => format!("{:.2}x ±{h:.2}", e.mean),
        None => format!("{:.2}x", e.mean),
    }
}

/// The Markdown report. `header` goes on top (date, command, machine notes). Records with raw
/// rounds (`runs_raw`) get the repeated-run layout: a `runs` column, mean ± 95% half-widths,
/// paired ratios and a section on how hawser compares with each peer.
pub fn markdown(records: &[Record], header: &str, notes: &[String]) -> String {
    let repeated = records.iter().any(|r| r.runs_raw.is_some());
    let mut md = String::new();
    let _ = writeln!(md, "{header}\n");
    if repeated {
        let _ = writeln!(
            md,
            "Each value is the mean over the rounds ± the half-width of its 95% confidence interval (Student's t, n-1 degrees of freedom, n = runs). Each ratio is the mean of the per-round ratios, paired by round, ± the same. Added latency is the difference of the means; errors are totals over all rounds; RSS is the mean.\n"
        );
    }
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
    let cpu_cell = |r: &Record| {
        opt(r.cpu_us_per_req.map(|c| {
            if repeated {
                pm(c, r.cpu_us_per_req_ci95, 1)
            } else {
                format!("{c:.1}")
            }
        }))
    };

    let _ = writeln!(md, "### Throughput (closed loop, max req/s)\n");
    let (mut head, mut rule) = if repeated {
        (
            "| system | runs | req/s | vs direct |".to_string(),
            "|---|---:|---:|---:|".to_string(),
        )
    } else {
        (
            "| system | req/s | vs direct |".to_string(),
            "|---|---:|---:|".to_string(),
        )
    };
    for p in &peers {
        let _ = write!(head, " vs {p} |");
        rule.push_str("---:|");
    }
    head.push_str(" CPU µs/req | RSS KiB | errors |");
    rule.push_str("---:|---:|---:|");
    let _ = writeln!(md, "{head}\n{rule}");
    let direct = find(records, "direct", "max");
    let direct_max = direct.map(|r| r.rps);
    for s in &systems {
        let Some(r) = find(records, s, "max") else {
            continue;
        };
        let mut line = if repeated {
            format!(
                "| {s} | {} | {} | {} |",
                r.runs,
                pm(r.rps, r.rps_ci95, 0),
                paired_ratio(r, direct, Metric::Rps)
            )
        } else {
            format!("| {s} | {:.0} | {} |", r.rps, ratio(r.rps, direct_max))
        };
        for p in &peers {
            let other = find(records, p, "max");
            let cell = if s == p {
                "-".into()
            } else if repeated {
                paired_ratio(r, other, Metric::Rps)
            } else {
                ratio(r.rps, other.map(|o| o.rps))
            };
            let _ = write!(line, " {cell} |");
        }
        let _ = write!(
            line,
            " {} | {} | {} |",
            cpu_cell(r),
            opt(r.rss_kib),
            r.errors
        );
        let _ = writeln!(md, "{line}");
    }

    let _ = writeln!(
        md,
        "\n### Latency at fixed rates (open loop, coordinated-omission corrected, µs)\n"
    );
    if repeated {
        let _ = writeln!(
            md,
            "| scenario | system | runs | target req/s | achieved | p50 | p99 | p99.9 | added p50 | added p99 | added p99.9 | CPU µs/req | errors |"
        );
        let _ = writeln!(
            md,
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
    } else {
        let _ = writeln!(
            md,
            "| scenario | system | target req/s | achieved | p50 | p99 | p99.9 | added p50 | added p99 | added p99.9 | CPU µs/req | errors |"
        );
        let _ = writeln!(
            md,
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
    }
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
            let target = opt(r.target_rps.map(|t| format!("{t:.0}")));
            let added = format!(
                "{} | {} | {}",
                added(r.p50_us, d.map(|d| d.p50_us)),
                added(r.p99_us, d.map(|d| d.p99_us)),
                added(r.p999_us, d.map(|d| d.p999_us)),
            );
            if repeated {
                let _ = writeln!(
                    md,
                    "| {sc} | {s} | {} | {target} | {} | {} | {} | {} | {added} | {} | {} |",
                    r.runs,
                    pm(r.rps, r.rps_ci95, 0),
                    pm(r.p50_us as f64, r.p50_us_ci95, 0),
                    pm(r.p99_us as f64, r.p99_us_ci95, 0),
                    pm(r.p999_us as f64, r.p999_us_ci95, 0),
                    cpu_cell(r),
                    r.errors
                );
            } else {
                let _ = writeln!(
                    md,
                    "| {sc} | {s} | {target} | {:.0} | {} | {} | {} | {added} | {} | {} |",
                    r.rps,
                    r.p50_us,
                    r.p99_us,
                    r.p999_us,
                    cpu_cell(r),
                    r.errors
                );
            }
        }
    }
    if repeated {
        comparisons(&mut md, records, &peers, &scenarios);
    }
    if !notes.is_empty() {
        let _ = writeln!(md, "\nNotes:\n");
        for n in notes {
            let _ = writeln!(md, "- {n}");
        }
    }
    md
}

/// One row of the paired comparison of `subject` with `peer`.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The system compared (hawser when it was measured).
    pub subject: String,
    /// The system it is compared with.
    pub peer: String,
    /// `max` or a fixed-rate scenario.
    pub scenario: String,
    /// What is compared.
    pub metric: Metric,
    /// The mean per-round ratio subject / peer and its 95% interval.
    pub ratio: Estimate,
    /// Where the interval lies against 1.0.
    pub verdict: Verdict,
}

/// The paired comparisons the report states a verdict for: hawser (or, without it, the first
/// proxy) against every other proxy, on max req/s and CPU µs/req in `max` and on p50, p99 and
/// p99.9 at each fixed rate. Needs raw rounds; rows without a paired round are left out.
pub fn comparisons_of(records: &[Record]) -> Vec<Comparison> {
    let mut proxies: Vec<&str> = Vec::new();
    for r in records.iter().filter(|r| r.system != "direct") {
        if !proxies.contains(&r.system.as_str()) {
            proxies.push(&r.system);
        }
    }
    let Some(subject) = proxies
        .iter()
        .copied()
        .find(|s| *s == "hawser")
        .or_else(|| proxies.first().copied())
    else {
        return Vec::new();
    };
    let mut scenarios: Vec<&str> = vec!["max"];
    for r in records {
        if !scenarios.contains(&r.scenario.as_str()) {
            scenarios.push(&r.scenario);
        }
    }
    let mut rows = Vec::new();
    for peer in proxies.iter().copied().filter(|p| *p != subject) {
        for sc in &scenarios {
            let metrics: &[Metric] = if *sc == "max" {
                &[Metric::Rps, Metric::Cpu]
            } else {
                &[Metric::P50, Metric::P99, Metric::P999]
            };
            let (Some(a), Some(b)) = (find(records, subject, sc), find(records, peer, sc)) else {
                continue;
            };
            for &metric in metrics {
                if let Some(ratio) =
                    stats::paired_ratio_ci95(&series(a, metric), &series(b, metric))
                {
                    rows.push(Comparison {
                        subject: subject.into(),
                        peer: peer.into(),
                        scenario: (*sc).into(),
                        metric,
                        ratio,
                        verdict: stats::verdict(ratio.ci95, 1.0),
                    });
                }
            }
        }
    }
    rows
}

/// The verdict in words, for `subject` against a peer on `metric`.
pub fn verdict_text(v: Verdict, subject: &str, metric: Metric) -> String {
    let better = |higher: bool| {
        if higher == metric.higher_is_better() {
            "better"
        } else {
            "worse"
        }
    };
    match v {
        Verdict::Above => format!("above 1.0: {subject} higher ({})", better(true)),
        Verdict::Below => format!("below 1.0: {subject} lower ({})", better(false)),
        Verdict::Straddles => "straddles 1.0: not distinguishable at 95%".into(),
        Verdict::NoInterval => "one paired round: no interval".into(),
    }
}

fn comparisons(md: &mut String, records: &[Record], peers: &[&str], scenarios: &[&str]) {
    let rows = comparisons_of(records);
    let Some(subject) = rows.first().map(|c| c.subject.clone()) else {
        return;
    };
    let _ = writeln!(md, "\n### {subject} against each peer, paired by round\n");
    let _ = writeln!(
        md,
        "Each ratio is the mean over the rounds of {subject}'s value divided by the peer's in the same round, with its 95% confidence interval (Student's t, n-1 degrees of freedom, n = rounds). The verdict says whether that interval lies entirely above 1.0, entirely below it, or straddles it (not distinguishable at 95%). To read a target such as 1.3x, compare the interval's low end with it.\n"
    );
    let _ = writeln!(
        md,
        "| comparison | scenario | metric | better | rounds | mean ratio | 95% CI | verdict |"
    );
    let _ = writeln!(md, "|---|---|---|---|---:|---:|---|---|");
    let order = |name: &str, list: &[&str]| list.iter().position(|x| *x == name);
    let mut rows = rows;
    rows.sort_by_key(|c| {
        (
            order(&c.peer, peers),
            c.scenario != "max",
            order(&c.scenario, scenarios),
        )
    });
    for c in &rows {
        let ci = c
            .ratio
            .ci95
            .map_or_else(|| "-".into(), |[lo, hi]| format!("[{lo:.3}, {hi:.3}]"));
        let _ = writeln!(
            md,
            "| {} / {} | {} | {} | {} | {} | {:.3}x | {ci} | {} |",
            c.subject,
            c.peer,
            c.scenario,
            c.metric.label(),
            if c.metric.higher_is_better() {
                "higher"
            } else {
                "lower"
            },
            c.ratio.n,
            c.ratio.mean,
            verdict_text(c.verdict, &c.subject, c.metric)
        );
    }
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
            runs: 1,
            ..Record::default()
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

    /// Three interleaved rounds of four systems: hawser clearly above nginx in req/s and below
    /// it in CPU and p99, indistinguishable from HAProxy in req/s. nginx's round 3 at rate50
    /// failed.
    fn three_rounds() -> Vec<(usize, Record)> {
        let mk = |system: &str, scenario: &str, rps: f64, p99: u64, cpu: f64| {
            let mut r = rec(system, scenario, rps, p99);
            if system != "direct" {
                r.cpu_us_per_req = Some(cpu);
            }
            r
        };
        let max = [
            ("direct", [100_000.0, 98_000.0, 102_000.0], [0.0; 3]),
            ("hawser", [66_000.0, 64_000.0, 65_000.0], [14.0, 14.2, 14.1]),
            ("nginx", [60_000.0, 58_000.0, 59_500.0], [15.0, 15.1, 15.3]),
            (
                "haproxy",
                [64_000.0, 66_000.0, 63_000.0],
                [16.0, 17.0, 18.0],
            ),
        ];
        let p99 = [
            ("direct", [300, 320, 310]),
            ("hawser", [1000, 1100, 1050]),
            ("nginx", [2000, 2500, 0]),
            ("haproxy", [900, 1300, 1000]),
        ];
        let mut out = Vec::new();
        for round in 1..=3 {
            let i = round - 1;
            for (s, rps, cpu) in &max {
                let mut r = mk(s, "max", rps[i], 500, cpu[i]);
                if *s == "hawser" && round == 2 {
                    r.errors = 2;
                }
                out.push((round, r));
            }
            for (s, p) in &p99 {
                if p[i] > 0 {
                    let mut r = mk(s, "rate50", 50_000.0, p[i], 20.0);
                    r.target_rps = Some(50_000.0);
                    out.push((round, r));
                }
            }
        }
        out
    }

    #[test]
    fn combine_orders_records_like_a_single_run() {
        // Measured interleaved: max for each system, then rate25 for each, then rate50.
        let mut measured = Vec::new();
        for sc in ["max", "rate25", "rate50"] {
            for s in ["direct", "hawser", "nginx"] {
                measured.push((1, rec(s, sc, 1.0, 100)));
            }
        }
        let order: Vec<(String, String)> = combine(&measured, false)
            .into_iter()
            .map(|r| (r.system, r.scenario))
            .collect();
        let want: Vec<(String, String)> = [
            ("direct", "max"),
            ("hawser", "max"),
            ("nginx", "max"),
            ("direct", "rate25"),
            ("direct", "rate50"),
            ("hawser", "rate25"),
            ("hawser", "rate50"),
            ("nginx", "rate25"),
            ("nginx", "rate50"),
        ]
        .iter()
        .map(|(a, b)| ((*a).to_string(), (*b).to_string()))
        .collect();
        assert_eq!(order, want);
    }

    #[test]
    fn repeated_records_hold_means_intervals_and_rounds() {
        let rs = combine(&three_rounds(), true);
        assert_eq!(rs.len(), 8);
        let h = find(&rs, "hawser", "max").unwrap();
        assert_eq!(h.runs, 3);
        assert_eq!(h.rps, 65_000.0);
        // s = 1000, t(0.975, 2) = 4.3027: half-width 4.3027 · 1000 / √3 = 2484.1.
        let [lo, hi] = h.rps_ci95.unwrap();
        assert!((lo - (65_000.0 - 2484.1)).abs() < 0.5, "{lo}");
        assert!((hi - (65_000.0 + 2484.1)).abs() < 0.5, "{hi}");
        assert!((h.cpu_us_per_req.unwrap() - 14.1).abs() < 1e-9);
        assert!(h.cpu_us_per_req_ci95.is_some());
        assert_eq!(h.errors, 2, "errors are totals over the rounds");
        let raw = h.runs_raw.as_ref().unwrap();
        assert_eq!(raw.iter().map(|r| r.round).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(raw[1].errors, 2);
        // Latency means are rounded to the µs: (1000 + 1100 + 1050) / 3 = 1050.
        let h50 = find(&rs, "hawser", "rate50").unwrap();
        assert_eq!(h50.p99_us, 1050);
        assert_eq!(h50.target_rps, Some(50_000.0));
        // nginx's failed round: two runs left.
        let n50 = find(&rs, "nginx", "rate50").unwrap();
        assert_eq!((n50.runs, n50.p99_us), (2, 2250));
        // direct has no CPU, so no CPU interval either.
        let d = find(&rs, "direct", "max").unwrap();
        assert_eq!((d.cpu_us_per_req, d.cpu_us_per_req_ci95), (None, None));

        let json = serde_json::to_value(h).unwrap();
        assert_eq!(json["runs"], 3);
        assert_eq!(json["rps"], 65_000.0);
        for field in [
            "rps_ci95",
            "p50_us_ci95",
            "p99_us_ci95",
            "p999_us_ci95",
            "cpu_us_per_req_ci95",
        ] {
            assert_eq!(json[field].as_array().map(Vec::len), Some(2), "{field}");
        }
        assert_eq!(json["runs_raw"].as_array().unwrap().len(), 3);
        assert_eq!(json["runs_raw"][2]["round"], 3);
        assert_eq!(json["runs_raw"][2]["rps"], 65_000.0);
        let d = serde_json::to_value(find(&rs, "direct", "max").unwrap()).unwrap();
        assert!(d.get("cpu_us_per_req_ci95").is_none() && d["cpu_us_per_req"].is_null());
    }

    #[test]
    fn repeated_markdown_has_intervals_paired_ratios_and_verdicts() {
        let rs = combine(&three_rounds(), true);
        let md = markdown(&rs, "# t", &[]);
        assert!(md.contains("mean over the rounds ± the half-width"), "{md}");
        assert!(
            md.contains(
                "| system | runs | req/s | vs direct | vs hawser | vs nginx | vs haproxy |"
            ),
            "{md}"
        );
        // 65000 ± 2484; vs direct is the mean of 0.66, 0.653, 0.637.
        assert!(md.contains("| hawser | 3 | 65000 ±2484 | 0.65x ±"), "{md}");
        assert!(
            md.contains("| direct | 3 | 100000 ±4968 | 1.00x ±0.00 |"),
            "{md}"
        );
        assert!(md.contains("| 14.1 ±0.2 | 1000 | 2 |"), "{md}");
        assert!(
            md.contains("| rate50 | nginx | 2 | 50000 | 50000 ±0 | "),
            "{md}"
        );
        assert!(
            md.contains("### hawser against each peer, paired by round"),
            "{md}"
        );
        let row = |peer: &str, sc: &str, metric: &str| {
            md.lines()
                .find(|l| l.starts_with(&format!("| hawser / {peer} | {sc} | {metric} |")))
                .unwrap_or_else(|| panic!("no row {peer} {sc} {metric}:\n{md}"))
                .to_string()
        };
        let r = row("nginx", "max", "req/s");
        assert!(
            r.contains("| higher | 3 | 1.099x | [1.085, 1.113] |"),
            "{r}"
        );
        assert!(r.ends_with("| above 1.0: hawser higher (better) |"), "{r}");
        let r = row("nginx", "max", "CPU µs/req");
        assert!(r.ends_with("| below 1.0: hawser lower (better) |"), "{r}");
        let r = row("haproxy", "max", "req/s");
        assert!(
            r.ends_with("| straddles 1.0: not distinguishable at 95% |"),
            "{r}"
        );
        // Paired over the two rounds both have: 1000/2000, 1100/2500.
        let r = row("nginx", "rate50", "p99");
        assert!(r.contains("| lower | 2 | 0.470x |"), "{r}");
        let verdicts: Vec<(String, &str, Metric, Verdict)> = comparisons_of(&rs)
            .into_iter()
            .map(|c| {
                (
                    c.peer,
                    if c.scenario == "max" { "max" } else { "rate" },
                    c.metric,
                    c.verdict,
                )
            })
            .collect();
        assert_eq!(
            verdicts.len(),
            10,
            "2 peers x (2 max metrics + 3 latencies)"
        );
        assert!(verdicts.contains(&("nginx".into(), "max", Metric::Rps, Verdict::Above)));
        assert!(verdicts.contains(&("haproxy".into(), "max", Metric::Cpu, Verdict::Below)));
        // A single run has none of this.
        let single: Vec<(usize, Record)> = three_rounds()
            .into_iter()
            .filter(|(r, _)| *r == 1)
            .collect();
        let md1 = markdown(&combine(&single, false), "# t", &[]);
        assert!(
            !md1.contains("±") && !md1.contains("paired by round"),
            "{md1}"
        );
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
            runs: 1,
            ..Record::default()
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
    /// existed (tests/golden/ was generated by that code), after going through `combine` the
    /// way the runner does: JSON gains only `"runs": 1` at the end of each record.
    #[test]
    fn single_run_output_matches_the_golden_files() {
        // Measured interleaved (max for every system, then rate50 for every system).
        let measured: Vec<(usize, Record)> = records().into_iter().map(|r| (1, r)).collect();
        let rs = combine(&measured, false);
        assert_eq!(rs, records());
        let md = markdown(&rs, "## h", &["a note".to_string()]);
        assert_eq!(md, include_str!("../tests/golden/single-run.md"));
        let json = serde_json::to_string_pretty(&rs).unwrap();
        assert_eq!(json.matches("\"runs\": 1\n").count(), rs.len(), "{json}");
        let without_runs = json.replace("],\n    \"runs\": 1\n  }", "]\n  }");
        assert_eq!(
            without_runs,
            include_str!("../tests/golden/single-run.json")
        );
        assert!(
            !json.contains("ci95") && !json.contains("runs_raw"),
            "{json}"
        );
    }
}
