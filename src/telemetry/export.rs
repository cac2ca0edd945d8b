//! The control thread's side of metrics: merges the shards' snapshots (sums by router and name)
//! and writes them, with process metrics from /proc, in the OpenMetrics text format that
//! Prometheus scrapes (through `prometheus-client`'s encoder, one registry per scrape).
//!
//! Metric families (all labelled by `router`; `prefix` from `io.l5d.prometheus` goes first):
//! - `hawser_requests_total{service,class}`: finished exchanges per logical name and class
//!   (`2xx`, `5xx`, ... for HTTP; `reply`, `exception`, `oneway` for Thrift; `none` when the
//!   client went away before an answer);
//! - `hawser_proxy_errors_total{service}`: exchanges hawser itself answered (`l5d-err`, or a
//!   Thrift `TApplicationException` of its own);
//! - `hawser_retries_total{service}`, `hawser_requeues_total{service}`: retryable failures
//!   sent again, and requests whose connect failed sent to another endpoint;
//! - `hawser_request_duration_seconds{service}`: from the request's arrival to the end of the
//!   exchange, a histogram;
//! - `hawser_client_requests_total{client}`, `hawser_client_failures_total{client}`: per
//!   concrete name;
//! - `hawser_connections_total`, `hawser_connections_open`: downstream connections;
//! - `hawser_upstream_connects_total`: upstream connections opened;
//! - `hawser_shards`, `hawser_shards_answered`: shards running, and how many answered this
//!   scrape (a busy shard gets a second);
//! - `process_cpu_seconds_total`, `process_resident_memory_bytes`, `process_open_fds`,
//!   `process_start_time_seconds`.

use std::fmt;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::{Registry, Unit};

use super::stats::{BUCKETS_US, CLASSES, ClientSnap, RouterSnap, ServiceSnap};

/// Every shard's snapshot merged, with what the scrape needs to say about itself.
#[derive(Debug, Clone, Default)]
pub struct Merged {
    /// Per router, in config order: its label and its merged counters.
    pub routers: Vec<(String, RouterSnap)>,
    /// Shards running.
    pub shards: usize,
    /// Shards whose snapshot is included.
    pub answered: usize,
}

impl Merged {
    /// An empty merge for routers `labels`.
    pub fn new(labels: impl IntoIterator<Item = String>, shards: usize) -> Merged {
        Merged {
            routers: labels
                .into_iter()
                .map(|l| (l, RouterSnap::default()))
                .collect(),
            shards,
            answered: 0,
        }
    }

    /// Adds one shard's snapshot (one `RouterSnap` per router, in config order).
    pub fn add(&mut self, shard: Vec<RouterSnap>) {
        self.answered += 1;
        for ((_, into), from) in self.routers.iter_mut().zip(shard) {
            into.connections += from.connections;
            into.connections_open += from.connections_open;
            into.connects += from.connects;
            into.recent.extend(from.recent);
            for (name, s) in from.services {
                add_service(entry(&mut into.services, name), &s);
            }
            for (name, c) in from.clients {
                let into = entry(&mut into.clients, name);
                into.requests += c.requests;
                into.failures += c.failures;
            }
        }
    }
}

fn entry<T: Default>(list: &mut Vec<(String, T)>, name: String) -> &mut T {
    let i = match list.iter().position(|(n, _)| *n == name) {
        Some(i) => i,
        None => {
            list.push((name, T::default()));
            list.len() - 1
        }
    };
    &mut list[i].1
}

fn add_service(into: &mut ServiceSnap, from: &ServiceSnap) {
    add_all(&mut into.by_class, &from.by_class);
    into.proxy_errors += from.proxy_errors;
    into.retries += from.retries;
    into.requeues += from.requeues;
    add_all(&mut into.latency.counts, &from.latency.counts);
    into.latency.sum_us += from.latency.sum_us;
}

fn add_all(into: &mut Vec<u64>, from: &[u64]) {
    if into.len() < from.len() {
        into.resize(from.len(), 0);
    }
    for (a, b) in into.iter_mut().zip(from) {
        *a += b;
    }
}

/// The scrape body: `merged` and process metrics, names prefixed with `prefix` and an
/// underscore (`l5d` and `l5d_` both give `l5d_hawser_requests_total`).
pub fn render(merged: Merged, prefix: &str) -> String {
    let prefix = prefix.trim_end_matches('_');
    let mut registry = if prefix.is_empty() {
        Registry::default()
    } else {
        Registry::with_prefix(prefix)
    };
    registry.register_collector(Box::new(Scrape(merged)));
    registry.register_collector(Box::new(Process));
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
    out
}

/// The content type of [`render`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Debug)]
struct Scrape(Merged);

type Labels = Vec<(&'static str, String)>;

/// One metric family: a descriptor, then one sample per row (its labels and value). Nothing
/// when there are no rows.
fn family<M: EncodeMetric>(
    enc: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    rows: impl IntoIterator<Item = (Labels, M)>,
) -> fmt::Result {
    let mut rows = rows.into_iter().peekable();
    let Some((_, first)) = rows.peek() else {
        return Ok(());
    };
    let mut fam = enc.encode_descriptor(name, help, unit, first.metric_type())?;
    for (labels, m) in rows {
        m.encode(fam.encode_family(&labels)?)?;
    }
    Ok(())
}

fn counter(v: u64) -> ConstCounter<u64> {
    ConstCounter::new(v)
}

fn gauge(v: u64) -> ConstGauge<i64> {
    ConstGauge::new(i64::try_from(v).unwrap_or(i64::MAX))
}

fn router(label: &str) -> Vec<(&'static str, String)> {
    vec![("router", label.to_string())]
}

fn with(
    mut labels: Vec<(&'static str, String)>,
    k: &'static str,
    v: &str,
) -> Vec<(&'static str, String)> {
    labels.push((k, v.to_string()));
    labels
}

impl Collector for Scrape {
    fn encode(&self, mut enc: DescriptorEncoder<'_>) -> fmt::Result {
        let routers = &self.0.routers;
        let services = || {
            routers
                .iter()
                .flat_map(|(r, s)| s.services.iter().map(move |(n, s)| (r.as_str(), n, s)))
        };
        let clients = || {
            routers.iter().flat_map(|(r, s)| {
                s.clients
                    .iter()
                    .map(move |(n, c): &(String, ClientSnap)| (r.as_str(), n, c))
            })
        };
        family(
            &mut enc,
            "hawser_requests",
            "Finished exchanges per logical name and class",
            None,
            services().flat_map(|(r, n, s)| {
                s.by_class
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| **v > 0)
                    .map(move |(i, v)| {
                        let labels = with(with(router(r), "service", n), "class", CLASSES[i]);
                        (labels, counter(*v))
                    })
            }),
        )?;
        family(
            &mut enc,
            "hawser_proxy_errors",
            "Exchanges hawser answered itself (l5d-err, or a Thrift TApplicationException of its own)",
            None,
            services().map(|(r, n, s)| (with(router(r), "service", n), counter(s.proxy_errors))),
        )?;
        family(
            &mut enc,
            "hawser_retries",
            "Retryable failures sent again (service.retries)",
            None,
            services().map(|(r, n, s)| (with(router(r), "service", n), counter(s.retries))),
        )?;
        family(
            &mut enc,
            "hawser_requeues",
            "Requests whose connect failed, sent to another endpoint (client.requeueBudget)",
            None,
            services().map(|(r, n, s)| (with(router(r), "service", n), counter(s.requeues))),
        )?;
        {
            let mut fam = enc.encode_descriptor(
                "hawser_request_duration",
                "From a request's arrival to the end of its exchange",
                Some(&Unit::Seconds),
                MetricType::Histogram,
            )?;
            for (r, n, s) in services() {
                let counts = &s.latency.counts;
                let buckets: Vec<(f64, u64)> = BUCKETS_US
                    .iter()
                    .map(|b| *b as f64 / 1e6)
                    // prometheus-client writes f64::MAX as the `+Inf` bound.
                    .chain(std::iter::once(f64::MAX))
                    .zip(counts.iter().copied().chain(std::iter::repeat(0)))
                    .collect();
                let count = counts.iter().sum();
                let sum = s.latency.sum_us as f64 / 1e6;
                fam.encode_family(&with(router(r), "service", n))?
                    .encode_histogram::<NoLabelSet>(sum, count, &buckets, None)?;
            }
        }
        family(
            &mut enc,
            "hawser_client_requests",
            "Requests sent to a concrete name's endpoints",
            None,
            clients().map(|(r, n, c)| (with(router(r), "client", n), counter(c.requests))),
        )?;
        family(
            &mut enc,
            "hawser_client_failures",
            "Requests a concrete name's endpoint failed (connect, I/O or protocol error)",
            None,
            clients().map(|(r, n, c)| (with(router(r), "client", n), counter(c.failures))),
        )?;
        family(
            &mut enc,
            "hawser_connections",
            "Downstream connections accepted",
            None,
            routers
                .iter()
                .map(|(r, s)| (router(r), counter(s.connections))),
        )?;
        family(
            &mut enc,
            "hawser_connections_open",
            "Downstream connections open",
            None,
            routers
                .iter()
                .map(|(r, s)| (router(r), gauge(s.connections_open))),
        )?;
        family(
            &mut enc,
            "hawser_upstream_connects",
            "Upstream connections opened",
            None,
            routers
                .iter()
                .map(|(r, s)| (router(r), counter(s.connects))),
        )?;
        family(
            &mut enc,
            "hawser_shards",
            "Shards (pinned event loops) running",
            None,
            [(Labels::new(), gauge(self.0.shards as u64))],
        )?;
        family(
            &mut enc,
            "hawser_shards_answered",
            "Shards whose counters this scrape includes",
            None,
            [(Labels::new(), gauge(self.0.answered as u64))],
        )
    }
}

/// Process metrics, read from /proc on each scrape.
#[derive(Debug)]
struct Process;

impl Collector for Process {
    fn encode(&self, mut enc: DescriptorEncoder<'_>) -> fmt::Result {
        let Some(p) = process_stats() else {
            return Ok(());
        };
        let none = Labels::new;
        family(
            &mut enc,
            "process_cpu",
            "User and system CPU time spent",
            Some(&Unit::Seconds),
            [(none(), ConstCounter::new(p.cpu_seconds))],
        )?;
        family(
            &mut enc,
            "process_resident_memory",
            "Resident memory size",
            Some(&Unit::Bytes),
            [(none(), gauge(p.rss_bytes))],
        )?;
        family(
            &mut enc,
            "process_open_fds",
            "Open file descriptors",
            None,
            [(none(), gauge(p.open_fds))],
        )?;
        family(
            &mut enc,
            "process_start_time",
            "Start time of the process since the Unix epoch",
            Some(&Unit::Seconds),
            [(none(), ConstGauge::new(p.start_time))],
        )
    }
}

pub(crate) struct ProcessStats {
    pub(crate) cpu_seconds: f64,
    pub(crate) rss_bytes: u64,
    pub(crate) open_fds: u64,
    pub(crate) start_time: f64,
}

pub(crate) fn process_stats() -> Option<ProcessStats> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let f: Vec<&str> = rest.split(' ').collect();
    // utime, stime, starttime and rss are fields 14, 15, 22 and 24 of the line.
    let field = |n: usize| f.get(n - 3).and_then(|v| v.parse::<u64>().ok());
    let hz = clock_ticks()?;
    let page = page_size()?;
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs_f64();
    let open_fds = std::fs::read_dir("/proc/self/fd").ok()?.count();
    Some(ProcessStats {
        cpu_seconds: (field(14)? + field(15)?) as f64 / hz,
        rss_bytes: field(24)? * page,
        open_fds: open_fds as u64,
        start_time: now - uptime + field(22)? as f64 / hz,
    })
}

fn clock_ticks() -> Option<f64> {
    // SAFETY: sysconf has no preconditions.
    let v = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (v > 0).then_some(v as f64)
}

fn page_size() -> Option<u64> {
    // SAFETY: sysconf has no preconditions.
    let v = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(v).ok().filter(|v| *v > 0)
}
