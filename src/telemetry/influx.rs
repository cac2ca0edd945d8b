//! linkerd's `io.l5d.influxdb` telemeter: the merged metrics in InfluxDB's line protocol, served
//! at `/admin/metrics/influxdb` for a collector (Telegraf's `inputs.http`, say) to poll.
//!
//! The shape follows linkerd's: a measurement per level of linkerd's metrics tree with the
//! router, service, client names as tags, sibling metrics as fields of one line, every line
//! tagged `host=` with the `Host` the poll came with, and plain decimal field values (InfluxDB
//! reads them as floats, as it did linkerd's):
//!
//! ```text
//! rt:service,host=H,rt=ROUTER,service=/svc/web requests=10,success=9,failures=1,request_latency_ms_count=10,...
//! rt:service:retries,host=H,rt=ROUTER,service=/svc/web total=2,requeues=0
//! rt:client,client=/$/inet/127.0.0.1/8080,host=H,rt=ROUTER requests=10,success=9,failures=1
//! rt:server,host=H,rt=ROUTER connects=3,connections=2,upstream_connects=4
//! process,host=H cpu_seconds=1.5,resident_memory_bytes=123,open_fds=12,start_time_seconds=...
//! ```
//!
//! Differences from linkerd, from what hawser counts: `failures` are 5XX responses, Thrift
//! exceptions and exchanges that ended without an answer (whatever the classifier); latency
//! percentiles are the upper bounds of hawser's histogram buckets (in ms), and there is no
//! `_min`/`_max`; server counters are per router, not per listening address. Tag values and
//! measurement names are escaped as the line protocol requires (linkerd did not escape them).

use std::fmt::Write as _;

use super::export::{Merged, process_stats};
use super::stats::{BUCKETS_US, CLASSES, HistogramSnap, ServiceSnap};

/// The admin path linkerd serves this at.
pub const PATH: &str = "/admin/metrics/influxdb";

/// The content type of [`render_influx`]'s output.
pub const CONTENT_TYPE: &str = "text/plain; charset=utf-8";

/// The classes counted as failures.
const FAILURE_CLASSES: [&str; 3] = ["5xx", "exception", "none"];

/// Every line for `merged`, each tagged `host=<host>` (linkerd uses the poll's `Host` header,
/// `none` without one).
pub fn render_influx(merged: &Merged, host: &str) -> String {
    let mut out = String::new();
    let host = if host.is_empty() { "none" } else { host };
    for (router, snap) in &merged.routers {
        for (service, s) in &snap.services {
            let tags = [("host", host), ("rt", router), ("service", service)];
            let (requests, failures) = service_counts(s);
            let mut fields = vec![
                ("requests", requests.to_string()),
                ("success", (requests - failures).to_string()),
                ("failures", failures.to_string()),
                ("proxy_errors", s.proxy_errors.to_string()),
            ];
            latency_fields(&s.latency, &mut fields);
            line(&mut out, "rt:service", &tags, &fields);
            let retries = [
                ("total", s.retries.to_string()),
                ("requeues", s.requeues.to_string()),
            ];
            line(&mut out, "rt:service:retries", &tags, &retries);
        }
        for (client, c) in &snap.clients {
            let tags = [("client", client.as_str()), ("host", host), ("rt", router)];
            let fields = [
                ("requests", c.requests.to_string()),
                ("success", c.requests.saturating_sub(c.failures).to_string()),
                ("failures", c.failures.to_string()),
            ];
            line(&mut out, "rt:client", &tags, &fields);
        }
        let tags = [("host", host), ("rt", router.as_str())];
        let fields = [
            ("connects", snap.connections.to_string()),
            ("connections", snap.connections_open.to_string()),
            ("upstream_connects", snap.connects.to_string()),
        ];
        line(&mut out, "rt:server", &tags, &fields);
    }
    if let Some(p) = process_stats() {
        let fields = [
            ("cpu_seconds", p.cpu_seconds.to_string()),
            ("resident_memory_bytes", p.rss_bytes.to_string()),
            ("open_fds", p.open_fds.to_string()),
            ("start_time_seconds", p.start_time.to_string()),
        ];
        line(&mut out, "process", &[("host", host)], &fields);
    }
    out
}

/// All exchanges, and those that failed.
fn service_counts(s: &ServiceSnap) -> (u64, u64) {
    let mut requests = 0;
    let mut failures = 0;
    for (class, n) in CLASSES.iter().zip(&s.by_class) {
        requests += n;
        if FAILURE_CLASSES.contains(class) {
            failures += n;
        }
    }
    (requests, failures)
}

/// linkerd's stat summary fields for its `request_latency_ms`, in milliseconds: `_count`, `_sum`, `_avg`
/// and the percentiles (bucket upper bounds; past the last bucket, the last bound). Nothing
/// before the first observation, as linkerd writes nothing for an empty stat.
fn latency_fields(h: &HistogramSnap, fields: &mut Vec<(&'static str, String)>) {
    let count: u64 = h.counts.iter().sum();
    if count == 0 {
        return;
    }
    let ms = |us: u64| us as f64 / 1000.0;
    let sum = ms(h.sum_us);
    let quantile = |q: f64| {
        // The smallest bucket whose cumulative count reaches q of all observations.
        let want = ((count as f64) * q).ceil().max(1.0) as u64;
        let mut acc = 0;
        for (i, n) in h.counts.iter().enumerate() {
            acc += n;
            if acc >= want {
                return ms(BUCKETS_US[i.min(BUCKETS_US.len() - 1)]);
            }
        }
        ms(BUCKETS_US[BUCKETS_US.len() - 1])
    };
    fields.extend([
        ("request_latency_ms_count", count.to_string()),
        ("request_latency_ms_sum", sum.to_string()),
        ("request_latency_ms_avg", (sum / count as f64).to_string()),
        ("request_latency_ms_p50", quantile(0.50).to_string()),
        ("request_latency_ms_p90", quantile(0.90).to_string()),
        ("request_latency_ms_p95", quantile(0.95).to_string()),
        ("request_latency_ms_p99", quantile(0.99).to_string()),
        ("request_latency_ms_p999", quantile(0.999).to_string()),
        ("request_latency_ms_p9999", quantile(0.9999).to_string()),
    ]);
}

/// One line: `measurement,tag=v,... field=v,...`; tags in the order given (callers sort them,
/// as InfluxDB prefers), fields sorted by name as linkerd writes them.
fn line(out: &mut String, measurement: &str, tags: &[(&str, &str)], fields: &[(&str, String)]) {
    if fields.is_empty() {
        return;
    }
    escape(out, measurement, false);
    for (k, v) in tags {
        out.push(',');
        escape(out, k, true);
        out.push('=');
        escape(out, v, true);
    }
    let mut sorted: Vec<&(&str, String)> = fields.iter().collect();
    sorted.sort_by_key(|(k, _)| *k);
    for (i, (k, v)) in sorted.into_iter().enumerate() {
        out.push(if i == 0 { ' ' } else { ',' });
        escape(out, k, true);
        let _ = write!(out, "={v}");
    }
    out.push('\n');
}

/// Line-protocol escaping: commas and spaces always, `=` in tag keys and values and field
/// keys; a newline cannot be escaped and becomes a space.
fn escape(out: &mut String, s: &str, equals: bool) {
    for c in s.chars() {
        match c {
            ',' | ' ' => {
                out.push('\\');
                out.push(c);
            }
            '=' if equals => out.push_str("\\="),
            '\n' | '\r' => out.push_str("\\ "),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::stats::{ClientSnap, RouterSnap};

    fn merged() -> Merged {
        let mut latency = HistogramSnap {
            counts: vec![0; BUCKETS_US.len() + 1],
            sum_us: 0,
        };
        // 8 answers under 250 µs, 2 between 1 and 2.5 ms.
        latency.counts[0] = 8;
        latency.counts[3] = 2;
        latency.sum_us = 8 * 100 + 2 * 2000;
        let mut by_class = vec![0; CLASSES.len()];
        by_class[1] = 9; // 2xx
        by_class[4] = 1; // 5xx
        let service = ServiceSnap {
            by_class,
            proxy_errors: 1,
            retries: 2,
            requeues: 0,
            latency,
        };
        let mut m = Merged::new(["web in".to_string()], 1);
        m.routers[0].1 = RouterSnap {
            connections: 3,
            connections_open: 2,
            connects: 4,
            services: vec![("/svc/a,b".into(), service)],
            clients: vec![(
                "/$/inet/127.0.0.1/8080".into(),
                ClientSnap {
                    requests: 10,
                    failures: 1,
                },
            )],
            recent: Vec::new(),
        };
        m
    }

    #[test]
    fn lines_follow_linkerds_tree_and_escape_tags() {
        let out = render_influx(&merged(), "l5d:9990");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "rt:service,host=l5d:9990,rt=web\\ in,service=/svc/a\\,b \
             failures=1,proxy_errors=1,request_latency_ms_avg=0.48,request_latency_ms_count=10,\
             request_latency_ms_p50=0.25,request_latency_ms_p90=2.5,request_latency_ms_p95=2.5,\
             request_latency_ms_p99=2.5,request_latency_ms_p999=2.5,request_latency_ms_p9999=2.5,\
             request_latency_ms_sum=4.8,requests=10,success=9"
        );
        assert_eq!(
            lines[1],
            "rt:service:retries,host=l5d:9990,rt=web\\ in,service=/svc/a\\,b requeues=0,total=2"
        );
        assert_eq!(
            lines[2],
            "rt:client,client=/$/inet/127.0.0.1/8080,host=l5d:9990,rt=web\\ in failures=1,requests=10,success=9"
        );
        assert_eq!(
            lines[3],
            "rt:server,host=l5d:9990,rt=web\\ in connections=2,connects=3,upstream_connects=4"
        );
        assert!(
            lines[4].starts_with("process,host=l5d:9990 cpu_seconds="),
            "{}",
            lines[4]
        );
        assert_eq!(lines.len(), 5);
    }

    #[test]
    fn no_host_is_none_and_an_empty_stat_writes_no_latency() {
        let mut m = merged();
        m.routers[0].1.services[0]
            .1
            .latency
            .counts
            .iter_mut()
            .for_each(|c| *c = 0);
        let out = render_influx(&m, "");
        let first = out.lines().next().unwrap();
        assert!(first.starts_with("rt:service,host=none,"), "{first}");
        assert!(!first.contains("request_latency"), "{first}");
    }

    #[test]
    fn newlines_cannot_break_a_line() {
        let mut out = String::new();
        line(&mut out, "m", &[("k", "a\nb=c")], &[("f", "1".into())]);
        assert_eq!(out, "m,k=a\\ b\\=c f=1\n");
    }
}
