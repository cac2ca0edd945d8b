//! The comparison runner: one backend, then for each system (direct, hawser, nginx, HAProxy)
//! the same workload: a closed-loop run for the maximum rate, then open-loop runs at fixed
//! shares (25/50/75% by default) of the *direct* maximum. Proxies are pinned to the proxy CPUs;
//! the generator and the backend share the other CPUs, and where a generator shard's CPU has a
//! backend shard it runs on that shard's thread (one thread and one ring per load CPU: no
//! scheduler time-slicing between two busy threads on a CPU, no wake-ups between them). Proxy
//! CPU time per request and RSS come from /proc. Writes results.json, results.md and latency.svg.
//!
//! It runs systems one after another (never two proxies at once) and skips, with a note, any
//! system that is missing or fails to start. With `--protocol thrift` the workload is one framed
//! Thrift call per exchange, the peers forward TCP (HAProxy `mode tcp`, nginx `stream`) and
//! hawser routes each call (a `protocol: thrift` router). With `--protocol h2` the workload is
//! HTTP/2 cleartext (h2c, prior knowledge) with `--streams` concurrent streams per connection;
//! HAProxy speaks h2 on both sides, nginx takes h2 in front and forwards with `grpc_pass` (its
//! only HTTP/2 upstream), and hawser runs an h2 router.
//!
//! Repeated runs (`--repeat N`): the whole sequence runs N times, interleaved so that slow
//! drift of the machine hits every system alike. Each round measures every system's maximum
//! (direct, hawser, nginx, HAProxy), then each fixed rate for every system in turn; the fixed
//! rates are shares of round 1's maxima in every round. The proxies are started once and stay
//! up across rounds: rounds repeat the measurements, not the start-up. The reports give means
//! with 95% confidence intervals and ratios paired by round (see [`crate::report`]). With
//! N = 1 the output is what a single run has always written.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::backend::{BackendSpec, start_backend};
use crate::load::{LoadReport, LoadSpec, Mode, run_load_on};
use crate::peers::{self, ProxySetup, System};
use crate::procstat::{self, allowed_cpus, format_cpu_list, parse_cpu_list};
use crate::progress::Progress;
use crate::report::{self, PLOT_QUANTILES, Record};
use crate::shape::{Protocol, RequestShape};

/// Options of the comparison run (the default command).
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// Short run for a laptop or CI (under three minutes on 2 cores): 3 s per measurement,
    /// 0.5 s warm-up, 32 connections, unless those options are given explicitly.
    #[arg(long)]
    pub quick: bool,
    /// Directory for results.md, results.json, latency.svg and the generated proxy configs.
    #[arg(long, default_value = "bench-results")]
    pub out: PathBuf,
    /// Seconds measured per run (closed loop and each fixed rate). Default 10 (quick: 3).
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,
    /// Seconds of load before each measurement starts. Default 2 (quick: 0.5).
    #[arg(long, value_name = "SECS")]
    pub warmup: Option<f64>,
    /// Fixed rates, in percent of the direct maximum, for the open-loop latency runs.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "25,50,75",
        value_name = "PCT,.."
    )]
    pub rates: Vec<u32>,
    /// Keep-alive connections the generator opens (spread over its shards). Default 64
    /// (quick: 32).
    #[arg(long, value_name = "N")]
    pub connections: Option<usize>,
    /// Response body size in bytes (the backend's payload; Thrift: the reply's success binary).
    #[arg(long, default_value_t = 64, value_name = "BYTES")]
    pub size: usize,
    /// Request body size in bytes (0: GET, otherwise POST with this many bytes; Thrift: the
    /// call's binary argument).
    #[arg(long, default_value_t = 0, value_name = "BYTES")]
    pub request_size: usize,
    /// HTTP/1.1: add the first N (up to 12) of a fixed set of typical client headers (User-Agent,
    /// Accept*, Cookie, Authorization, Traceparent, ...; about 780 bytes for all 12) after
    /// `Host`, for a request heavier on parsing and forwarding. 0: `GET / Host:` only.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub request_headers: usize,
    /// Let the proxies poll instead of sleeping when idle: hawser's `runtime.spinBeforeParkUs`
    /// set to this many µs, and HAProxy's `busy-polling` (its equivalent; nginx has none).
    /// Spinning buys throughput and latency with CPU: at the fixed rates a spinning proxy's
    /// CPU per request counts the spinning too. 0 (default): both sleep when idle.
    #[arg(long, default_value_t = 0, value_name = "MICROSECONDS")]
    pub spin_us: u64,
    /// Latency the backend adds to each response, in microseconds.
    #[arg(long, default_value_t = 0, value_name = "US")]
    pub latency_us: u64,
    /// CPUs given to each proxy (pinned with taskset; the first N CPUs this process may use).
    /// The generator and the backend get the rest.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub proxy_cores: usize,
    /// CPUs for the generator and backend instead of "the rest" (e.g. 2-3).
    #[arg(long, value_name = "LIST")]
    pub load_cpus: Option<String>,
    /// Systems to measure (direct always runs: the fixed rates are shares of its maximum).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "direct,hawser,nginx,haproxy"
    )]
    pub systems: Vec<System>,
    /// What the fixed rates are shares of: `direct` (the direct maximum, the standard
    /// comparison) or `slowest` (the lowest maximum of all systems, so every system can hold
    /// every rate and latency compares unloaded proxies).
    #[arg(long, value_enum, default_value = "direct")]
    pub rate_base: RateBase,
    /// Request shape: http1, thrift (framed transport, binary protocol: calls of "echo"
    /// answered with a REPLY, compared direct, through hawser's thrift router, HAProxy
    /// `mode tcp` and nginx `stream`), or h2 (HTTP/2 cleartext with prior
    /// knowledge, --streams concurrent streams per connection, compared direct, through
    /// hawser's h2 router, HAProxy with h2 on both sides and nginx with h2 in front and
    /// grpc_pass to the backend).
    #[arg(long, value_enum, default_value = "http1")]
    pub protocol: Protocol,
    /// HTTP/2 only: concurrent streams per connection. Each of the connections x streams slots
    /// follows the schedule as a connection does for HTTP/1.1 (open loop: its share of the
    /// rate; closed loop: its next request when its response is complete).
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub streams: usize,
    /// The hawser binary. Default: `hawser` beside this binary, built with cargo if missing.
    #[arg(long, value_name = "PATH")]
    pub hawser: Option<PathBuf>,
    /// Install nginx and HAProxy with apt-get before running (needs root).
    #[arg(long)]
    pub install_peers: bool,
    /// Measure everything N times, interleaved, and report means with 95% confidence
    /// intervals.
    ///
    /// Each round runs every system's maximum (direct, hawser, nginx, HAProxy), then
    /// each fixed rate for every system in turn, so slow drift of the machine hits every system
    /// alike; the fixed rates are shares of round 1's maxima in every round. results.md then
    /// shows mean ± the 95% half-width (Student's t, N-1 degrees of freedom), ratios as the
    /// mean of per-round ratios (paired by round) ± theirs, and whether hawser's ratio to each
    /// peer lies entirely above 1.0, entirely below, or is not distinguishable at 95%;
    /// results.json adds `<field>_ci95` and every round's raw values (`runs_raw`). Takes N
    /// times as long. Default 1 (also with --quick): one measurement each, no intervals.
    #[arg(
        long,
        default_value_t = 1,
        value_name = "N",
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub repeat: u32,
}

/// What the fixed rates are shares of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RateBase {
    /// The direct run's maximum.
    Direct,
    /// The lowest maximum among the systems measured.
    Slowest,
}

/// The CPU split of a run.
#[derive(Debug, Clone)]
pub struct CpuPlan {
    /// Proxy CPUs.
    pub proxy: Vec<usize>,
    /// Generator and backend CPUs.
    pub load: Vec<usize>,
    /// Set when the machine is too small for a clean split.
    pub note: Option<String>,
}

/// Splits the allowed CPUs: the first `proxy_cores` for the proxy, the rest for the load.
///
/// # Errors
/// When `proxy_cores` is 0 or a given list does not parse.
pub fn plan_cpus(proxy_cores: usize, load_cpus: Option<&str>) -> Result<CpuPlan, String> {
    if proxy_cores == 0 {
        return Err("--proxy-cores must be at least 1".into());
    }
    let all = allowed_cpus();
    let proxy: Vec<usize> = all.iter().copied().take(proxy_cores).collect();
    let mut note = None;
    if proxy.len() < proxy_cores {
        note = Some(format!(
            "asked for {proxy_cores} proxy cores, only {} CPUs available",
            all.len()
        ));
    }
    let load = match load_cpus {
        Some(list) => parse_cpu_list(list)?,
        None => {
            let rest: Vec<usize> = all.iter().copied().skip(proxy_cores).collect();
            if rest.is_empty() {
                note = Some("only one CPU: proxy, generator and backend share it".into());
                proxy.clone()
            } else {
                rest
            }
        }
    };
    Ok(CpuPlan { proxy, load, note })
}

/// The hawser binary to run: `--hawser`, else `hawser` beside this executable, built with
/// `cargo build -p hawser` (same profile) when missing.
///
/// # Errors
/// When it is missing and cannot be built.
pub fn hawser_binary(given: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(p) = given {
        return Ok(p.to_path_buf());
    }
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let dir = exe.parent().ok_or("executable has no directory")?;
    let bin = dir.join("hawser");
    if bin.is_file() {
        return Ok(bin);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("no workspace root")?;
    let release = dir.file_name().is_some_and(|n| n == "release");
    eprintln!("hawser-bench: building hawser ({})", bin.display());
    let mut cmd = std::process::Command::new("cargo");
    cmd.current_dir(root)
        .args(["build", "-q", "-p", "hawser", "--bin", "hawser"]);
    if release {
        cmd.arg("--release");
    }
    let status = cmd.status().map_err(|e| format!("cargo build: {e}"))?;
    if !status.success() || !bin.is_file() {
        return Err(format!(
            "could not build hawser ({status}); pass --hawser PATH"
        ));
    }
    Ok(bin)
}

struct Resolved {
    duration: Duration,
    warmup: Duration,
    connections: usize,
}

fn resolve(args: &RunArgs) -> Resolved {
    let (d, w, c) = if args.quick {
        (3.0, 0.5, 32)
    } else {
        (10.0, 2.0, 64)
    };
    Resolved {
        duration: Duration::from_secs_f64(args.duration.unwrap_or(d).max(0.1)),
        warmup: Duration::from_secs_f64(args.warmup.unwrap_or(w).max(0.0)),
        connections: args.connections.unwrap_or(c).max(1),
    }
}

fn record(
    system: System,
    scenario: &str,
    protocol: Protocol,
    mode: Mode,
    r: &LoadReport,
    cpu_us: Option<u64>,
    rss_kib: Option<u64>,
) -> Record {
    let target_rps = match mode {
        Mode::Open { rate } => Some(rate),
        Mode::Closed => None,
    };
    Record {
        system: system.as_str().into(),
        scenario: scenario.into(),
        protocol: protocol.as_str().into(),
        target_rps,
        rps: r.rps(mode),
        p50_us: r.quantile_us(0.5),
        p99_us: r.quantile_us(0.99),
        p999_us: r.quantile_us(0.999),
        cpu_us_per_req: cpu_us.map(|c| c as f64 / r.total_sent.max(1) as f64),
        rss_kib,
        errors: r.error_count(),
        missed: r.missed,
        percentiles: PLOT_QUANTILES
            .iter()
            .map(|&q| (q, r.quantile_us(q)))
            .collect(),
        runs: 1,
        ..Record::default()
    }
}

/// Runs the comparison and writes the reports into `args.out`. Returns the records.
///
/// # Errors
/// When the output directory, the backend or the direct run fails (a proxy failing is a note).
pub fn run(args: &RunArgs, command_line: &str) -> Result<Vec<Record>, String> {
    let res = resolve(args);
    let cpus = plan_cpus(args.proxy_cores, args.load_cpus.as_deref())?;
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let mut notes: Vec<String> = cpus.note.iter().cloned().collect();
    if args.install_peers {
        peers::install_peers()?;
    }
    let mut systems: Vec<System> = args.systems.clone();
    if !systems.contains(&System::Direct) {
        systems.push(System::Direct);
    }
    systems.sort();
    systems.dedup();
    let hawser = if systems.contains(&System::Hawser) {
        match hawser_binary(args.hawser.as_deref()) {
            Ok(p) => p,
            Err(e) => {
                notes.push(format!("hawser skipped: {e}"));
                systems.retain(|s| *s != System::Hawser);
                PathBuf::new()
            }
        }
    } else {
        PathBuf::new()
    };
    let backend = start_backend(&BackendSpec {
        port: 0,
        protocol: args.protocol,
        size: args.size,
        latency: Duration::from_micros(args.latency_us),
        cpus: cpus.load.clone(),
        stall: None,
    })?;
    let setup = ProxySetup {
        backend: backend.addr(),
        cpus: cpus.proxy.clone(),
        workdir: args.out.join("work"),
        hawser,
        max_conns: res.connections + 64,
        protocol: args.protocol,
        spin_us: args.spin_us,
    };
    let repeat = args.repeat.max(1) as usize;
    let per_run = (res.duration + res.warmup).as_secs_f64();
    let steps_per_round = |systems: usize, rates: usize| (systems * (1 + rates)) as f64;
    let progress =
        Progress::new(repeat as f64 * steps_per_round(systems.len(), args.rates.len()) * per_run);
    let shape = match args.protocol {
        Protocol::Http1 => {
            RequestShape::http1_with_headers("web", args.request_size, args.request_headers)
        }
        Protocol::Thrift => RequestShape::thrift("echo", args.request_size),
        Protocol::H2 => RequestShape::h2("web", args.request_size),
    };
    let base = LoadSpec {
        addr: backend.addr(),
        shape,
        mode: Mode::Closed,
        connections: res.connections,
        streams: args.streams.max(1),
        duration: res.duration,
        warmup: res.warmup,
        cpus: cpus.load.clone(),
        expect_body: Some(args.size as u64),
        timeout: Duration::from_secs(5),
    };
    // Every system is started first so that the fixed rates can be chosen after all maxima are
    // known; each is paused (SIGSTOP) except while it is measured, so an idle proxy costs the
    // one being measured nothing (HAProxy with `busy-polling` would spin on the proxy CPUs).
    let mut running: Vec<(System, Option<peers::Proxy>)> = Vec::new();
    for &system in &systems {
        progress.phase(&format!("{}: starting", system.as_str()), 0.0);
        match peers::start(system, &setup) {
            Ok(p) => {
                if let Some(p) = &p {
                    p.pause();
                }
                running.push((system, p));
            }
            Err(peers::Skipped(why)) => {
                progress.note(&format!("skipped {}: {why}", system.as_str()));
                notes.push(format!("{} skipped: {why}", system.as_str()));
            }
        }
    }
    // Only what will run: rounds x systems that started x (max + each fixed rate).
    progress.set_total(repeat as f64 * steps_per_round(running.len(), args.rates.len()) * per_run);
    // "round 2/3: " before phases and notes of repeated runs; nothing for a single run.
    let round_label = |round: usize| {
        if repeat > 1 {
            format!("round {round}/{repeat}: ")
        } else {
            String::new()
        }
    };
    let measure = |round: usize,
                   system: System,
                   proxy: &Option<peers::Proxy>,
                   scenario: &str,
                   mode: Mode,
                   notes: &mut Vec<String>|
     -> Option<Record> {
        let tag = format!("{}{} {scenario}", round_label(round), system.as_str());
        progress.phase(&tag, per_run);
        let addr = proxy.as_ref().map_or(backend.addr(), |p| p.addr());
        let pid = proxy.as_ref().map(|p| p.pid());
        if let Some(p) = proxy {
            p.resume();
        }
        let before = pid.map(procstat::usage);
        let spec = LoadSpec {
            addr,
            mode,
            ..base.clone()
        };
        let r = run_load_on(&spec, &backend);
        if let Some(p) = proxy {
            p.pause();
        }
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                notes.push(format!("{tag} failed: {e}"));
                progress.note(&format!("{tag} failed: {e}"));
                return None;
            }
        };
        let after = pid.map(procstat::usage);
        let cpu = before
            .zip(after)
            .map(|(b, a)| a.cpu_us.saturating_sub(b.cpu_us));
        let rec = record(
            system,
            scenario,
            args.protocol,
            mode,
            &r,
            cpu,
            after.map(|a| a.rss_kib),
        );
        if r.error_count() > 0 {
            notes.push(format!("{tag}: {} errors {:?}", r.error_count(), r.errors));
        }
        if let Mode::Open { rate } = mode
            && rec.rps < rate * 0.98
        {
            notes.push(format!(
                "{tag}: achieved {:.0} of {rate:.0} req/s (overloaded: latency includes queueing; {} requests still unsent at the cut-off are counted with their wait so far)",
                rec.rps, r.missed
            ));
        }
        Some(rec)
    };
    // (round, single-run record) for every measurement, combined into means at the end.
    let mut measured: Vec<(usize, Record)> = Vec::new();
    let mut base_rate = None;
    for round in 1..=repeat {
        for (system, proxy) in &running {
            if let Some(rec) = measure(round, *system, proxy, "max", Mode::Closed, &mut notes) {
                measured.push((round, rec));
            }
        }
        if round == 1 {
            // The fixed rates come from round 1's maxima and stay the same in every round.
            let max_of = |s: System| {
                measured
                    .iter()
                    .find(|(_, r)| r.system == s.as_str() && r.scenario == "max")
                    .map(|(_, r)| r.rps)
            };
            base_rate = match args.rate_base {
                RateBase::Direct => max_of(System::Direct),
                RateBase::Slowest => running
                    .iter()
                    .filter_map(|(s, _)| max_of(*s))
                    .fold(None, |m: Option<f64>, r| Some(m.map_or(r, |m| m.min(r)))),
            };
            if !base_rate.is_some_and(|r| r > 0.0) {
                notes.push("no maximum to base the fixed rates on: latency runs skipped".into());
                progress.set_total(repeat as f64 * steps_per_round(running.len(), 0) * per_run);
            }
        }
        let Some(rate_base) = base_rate.filter(|r| *r > 0.0) else {
            continue;
        };
        for &pct in &args.rates {
            let rate = rate_base * f64::from(pct) / 100.0;
            let scenario = format!("rate{pct}");
            for (system, proxy) in &running {
                let mode = Mode::Open { rate };
                if let Some(rec) = measure(round, *system, proxy, &scenario, mode, &mut notes) {
                    measured.push((round, rec));
                }
            }
        }
    }
    let records = report::combine(&measured, repeat > 1);
    drop(running);
    progress.finish();
    drop(backend);
    let header = format!(
        "## hawser-bench results\n\n- date: {}\n- command: `{command_line}`\n- protocol {}, {} connections, {} s measured after {} s warm-up per run, response {} B, request body {} B, backend latency {} µs\n- fixed rates: {:?}% of the {} maximum ({})\n- proxy CPUs: {} (taskset); generator and backend CPUs: {}",
        today(),
        args.protocol.as_str(),
        res.connections,
        res.duration.as_secs_f64(),
        res.warmup.as_secs_f64(),
        args.size,
        args.request_size,
        args.latency_us,
        args.rates,
        match args.rate_base {
            RateBase::Direct => "direct",
            RateBase::Slowest => "slowest system's",
        },
        base_rate.map_or_else(|| "none".into(), |r| format!("{r:.0} req/s")),
        format_cpu_list(&cpus.proxy),
        format_cpu_list(&cpus.load),
    );
    let header = if args.protocol == Protocol::Http1 && args.request_headers > 0 {
        format!(
            "{header}\n- request headers: Host plus {} typical client headers ({} bytes per request head)",
            args.request_headers.min(crate::shape::CLIENT_HEADERS.len()),
            RequestShape::http1_with_headers("web", 0, args.request_headers)
                .encode()
                .len()
        )
    } else {
        header
    };
    let header = if args.spin_us > 0 {
        format!(
            "{header}\n- idle polling (--spin-us {}): hawser `runtime.spinBeforeParkUs: {}`, HAProxy `busy-polling`; nginx has no such setting and sleeps when idle",
            args.spin_us, args.spin_us
        )
    } else {
        header
    };
    let header = if args.protocol == Protocol::H2 {
        format!(
            "{header}\n- HTTP/2: {} streams per connection ({} in flight at most)",
            args.streams.max(1),
            args.streams.max(1) * res.connections
        )
    } else {
        header
    };
    let header = if repeat > 1 {
        format!(
            "{header}\n- repeats: {repeat} rounds, interleaved (each round: every system's maximum, then each fixed rate for every system in turn); the fixed rates come from round 1's maxima and are the same in every round"
        )
    } else {
        header
    };
    write_reports(&args.out, &records, &header, &notes)?;
    Ok(records)
}

/// Writes results.json, results.md and latency.svg (the 50% scenario, or the first).
///
/// # Errors
/// On a write failure.
pub fn write_reports(
    out: &Path,
    records: &[Record],
    header: &str,
    notes: &[String],
) -> Result<(), String> {
    let json = serde_json::to_string_pretty(records).map_err(|e| e.to_string())?;
    let w = |name: &str, text: &str| {
        std::fs::write(out.join(name), text)
            .map_err(|e| format!("{}: {e}", out.join(name).display()))
    };
    w("results.json", &json)?;
    w("results.md", &report::markdown(records, header, notes))?;
    let scenario = if records.iter().any(|r| r.scenario == "rate50") {
        "rate50"
    } else {
        records.first().map_or("max", |r| r.scenario.as_str())
    };
    w("latency.svg", &report::latency_svg(records, scenario))?;
    Ok(())
}

/// Today's date (UTC) as YYYY-MM-DD, from the system clock.
pub fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    // Civil-from-days (proleptic Gregorian), Howard Hinnant's algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_plan_gives_the_proxy_its_own_cores() {
        let p = plan_cpus(1, None).unwrap();
        assert_eq!(p.proxy.len(), 1);
        if allowed_cpus().len() > 1 {
            assert!(!p.load.contains(&p.proxy[0]));
        }
        assert!(plan_cpus(0, None).is_err());
        assert_eq!(plan_cpus(1, Some("3,5")).unwrap().load, vec![3, 5]);
    }

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        run: RunArgs,
    }

    fn parse(args: &[&str]) -> Result<RunArgs, clap::Error> {
        use clap::Parser as _;
        Cli::try_parse_from(std::iter::once("hawser-bench").chain(args.iter().copied()))
            .map(|c| c.run)
    }

    #[test]
    fn repeat_defaults_to_one_also_with_quick() {
        assert_eq!(parse(&[]).unwrap().repeat, 1);
        assert_eq!(parse(&["--quick"]).unwrap().repeat, 1);
        assert_eq!(parse(&["--quick", "--repeat", "5"]).unwrap().repeat, 5);
        assert!(parse(&["--repeat", "0"]).is_err());
        assert!(parse(&["--repeat", "-1"]).is_err());
    }

    #[test]
    fn protocol_defaults_to_http1_also_with_quick() {
        assert_eq!(parse(&[]).unwrap().protocol, Protocol::Http1);
        assert_eq!(parse(&["--quick"]).unwrap().protocol, Protocol::Http1);
        assert_eq!(
            parse(&["--quick", "--protocol", "thrift"])
                .unwrap()
                .protocol,
            Protocol::Thrift
        );
        let h2 = parse(&["--quick", "--protocol", "h2"]).unwrap();
        assert_eq!(h2.protocol, Protocol::H2);
        assert_eq!(h2.streams, 8);
        assert_eq!(
            parse(&["--protocol", "h2", "--streams", "3"])
                .unwrap()
                .streams,
            3
        );
    }

    #[test]
    fn date_is_iso() {
        let d = today();
        assert_eq!(d.len(), 10);
        assert!(d.starts_with("20"), "{d}");
    }
}
