//! Metrics end to end: hawser with two shards, an HTTP and a Thrift router, real traffic
//! (successes, a name with no endpoints, a malformed request, a refused upstream), then a
//! scrape parsed by the official Prometheus Python client's OpenMetrics parser (strict), at
//! `/metrics` and at the `io.l5d.prometheus` telemeter's path with its prefix.

mod support;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use support::*;

/// The scrape at `path`, parsed: (name, labels, value) per sample. Panics when the parser
/// rejects it.
fn scrape(admin: u16, path: &str) -> Vec<(String, serde_json::Map<String, Value>, f64)> {
    let r = get(admin, path).unwrap();
    assert_eq!(r.status, 200, "{path}");
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("application/openmetrics-text")),
        "{path}: {:?}",
        r.header("content-type")
    );
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/support/parse_metrics.py"
    );
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(r.body_str().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the OpenMetrics parser rejected the scrape (is prometheus_client installed? see .ci/run): {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        r.body_str()
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                v["name"].as_str().unwrap().to_string(),
                v["labels"].as_object().unwrap().clone(),
                v["value"].as_f64().unwrap(),
            )
        })
        .collect()
}

/// The value of the sample `name` whose labels include all of `labels` (0 when absent).
fn value(
    samples: &[(String, serde_json::Map<String, Value>, f64)],
    name: &str,
    labels: &[(&str, &str)],
) -> f64 {
    samples
        .iter()
        .filter(|(n, l, _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| l.get(*k).and_then(Value::as_str) == Some(*v))
        })
        .map(|(_, _, v)| *v)
        .sum()
}

#[test]
fn a_scrape_counts_what_happened_on_every_shard() {
    let web = Backend::start("web");
    let (admin, http, thrift) = (free_port(), free_port(), free_port());
    let dead = free_port();
    let yaml = format!(
        "admin: {{ip: 127.0.0.1, port: {admin}}}
telemetry:
- kind: io.l5d.prometheus
  path: /prom
  prefix: l5d_
routers:
- protocol: http
  label: web
  dtab: |
    /svc/web => /$/inet/127.0.0.1/{};
    /svc/dead => /$/inet/127.0.0.1/{dead};
  servers:
  - {{ip: 127.0.0.1, port: {http}}}
- protocol: thrift
  dtab: /svc => /$/nil;
  servers:
  - {{ip: 127.0.0.1, port: {thrift}}}
",
        web.port
    );
    let _h = Hawser::start(&yaml, admin, 2);
    // Successes on several connections (so both shards are likely to serve some).
    for i in 0..12 {
        let r = send(http, &format!("/{i}"), Some("web"), &[]);
        assert_eq!(r.status, 200);
    }
    // A name that binds to nothing, a refused upstream, a malformed dtab.
    assert_eq!(send(http, "/", Some("nowhere"), &[]).status, 502);
    assert_eq!(send(http, "/", Some("dead"), &[]).status, 502);
    assert_eq!(
        send(http, "/", Some("web"), &[("l5d-dtab", "not a dtab")]).status,
        400
    );
    // A Thrift call to /svc, which binds to /$/nil: a TApplicationException from hawser.
    let mut call = Vec::new();
    let name = b"ping";
    let mut payload = vec![0x80, 0x01, 0x00, 0x01];
    payload.extend_from_slice(&(name.len() as u32).to_be_bytes());
    payload.extend_from_slice(name);
    payload.extend_from_slice(&7u32.to_be_bytes());
    payload.push(0); // empty args struct
    call.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    call.extend_from_slice(&payload);
    let reply = raw_exchange(thrift, &call, Duration::from_secs(5)).unwrap();
    assert!(
        reply.len() > 12 && reply[4..8] == [0x80, 0x01, 0x00, 0x03],
        "an EXCEPTION"
    );

    let m = scrape(admin, "/metrics");
    let req = "hawser_requests_total";
    assert_eq!(
        value(
            &m,
            req,
            &[("router", "web"), ("service", "/svc/web"), ("class", "2xx")]
        ),
        12.0
    );
    assert_eq!(
        value(
            &m,
            req,
            &[
                ("router", "web"),
                ("service", "/svc/nowhere"),
                ("class", "5xx")
            ]
        ),
        1.0,
        "a name with no endpoints counts under its name"
    );
    assert_eq!(
        value(
            &m,
            req,
            &[
                ("router", "web"),
                ("service", "/svc/dead"),
                ("class", "5xx")
            ]
        ),
        1.0
    );
    assert_eq!(
        value(
            &m,
            req,
            &[("router", "web"), ("service", ""), ("class", "4xx")]
        ),
        1.0,
        "a request refused before it was named counts under the empty name"
    );
    assert_eq!(
        value(
            &m,
            req,
            &[
                ("router", "thrift"),
                ("service", "/svc"),
                ("class", "exception")
            ]
        ),
        1.0
    );
    let errs = "hawser_proxy_errors_total";
    assert_eq!(value(&m, errs, &[("service", "/svc/web")]), 0.0);
    assert_eq!(value(&m, errs, &[("router", "web")]), 3.0);
    assert_eq!(value(&m, errs, &[("router", "thrift")]), 1.0);
    // The latency histogram saw every /svc/web exchange, each well under 10 s.
    let lat = "hawser_request_duration_seconds";
    let web_lat = [("router", "web"), ("service", "/svc/web")];
    assert_eq!(value(&m, &format!("{lat}_count"), &web_lat), 12.0);
    assert_eq!(
        value(
            &m,
            &format!("{lat}_bucket"),
            &[("router", "web"), ("service", "/svc/web"), ("le", "10.0")]
        ),
        12.0
    );
    assert!(value(&m, &format!("{lat}_sum"), &web_lat) > 0.0);
    // Per concrete name: 12 sent to the live backend, 1 failed on the dead one.
    let live = format!("/$/inet/127.0.0.1/{}", web.port);
    let down = format!("/$/inet/127.0.0.1/{dead}");
    assert_eq!(
        value(&m, "hawser_client_requests_total", &[("client", &live)]),
        12.0
    );
    assert_eq!(
        value(&m, "hawser_client_failures_total", &[("client", &live)]),
        0.0
    );
    assert_eq!(
        value(&m, "hawser_client_failures_total", &[("client", &down)]),
        1.0
    );
    // Every request above came on its own connection; all are closed or idle by now.
    assert!(value(&m, "hawser_connections_total", &[("router", "web")]) >= 15.0);
    assert_eq!(value(&m, "hawser_shards", &[]), 2.0);
    assert_eq!(value(&m, "hawser_shards_answered", &[]), 2.0);
    assert!(value(&m, "hawser_upstream_connects_total", &[("router", "web")]) >= 1.0);
    assert!(value(&m, "process_resident_memory_bytes", &[]) > 1e6);
    assert!(value(&m, "process_open_fds", &[]) > 3.0);
    // Present, and a count of clock ticks (10 ms each): an idle proxy may not have used one yet.
    let cpu: Vec<f64> = m
        .iter()
        .filter(|(n, _, _)| n == "process_cpu_seconds_total")
        .map(|(_, _, v)| *v)
        .collect();
    assert!(cpu.len() == 1 && cpu[0] >= 0.0, "{cpu:?}");

    // The telemeter's path serves the same metrics under its prefix.
    let p = scrape(admin, "/prom");
    assert_eq!(
        value(
            &p,
            "l5d_hawser_requests_total",
            &[("service", "/svc/web"), ("class", "2xx")]
        ),
        12.0
    );
    assert_eq!(value(&p, "hawser_requests_total", &[]), 0.0);
}

#[test]
fn open_connections_are_a_gauge() {
    let web = Backend::start("web");
    let (admin, http) = (free_port(), free_port());
    let yaml = format!(
        "admin: {{ip: 127.0.0.1, port: {admin}}}\nrouters:\n- protocol: http\n  dtab: /svc => /$/inet/127.0.0.1/{};\n  servers:\n  - {{ip: 127.0.0.1, port: {http}}}\n",
        web.port
    );
    let _h = Hawser::start(&yaml, admin, 1);
    let held: Vec<_> = (0..5)
        .map(|_| std::net::TcpStream::connect(("127.0.0.1", http)).unwrap())
        .collect();
    let open = || {
        value(
            &scrape(admin, "/metrics"),
            "hawser_connections_open",
            &[("router", "http")],
        )
    };
    assert!(
        eventually(Duration::from_secs(5), || open() == 5.0),
        "{}",
        open()
    );
    drop(held);
    assert!(
        eventually(Duration::from_secs(5), || open() == 0.0),
        "{}",
        open()
    );
}

/// A parsed line-protocol line: measurement, tags, fields.
type Line = (String, Vec<(String, String)>, Vec<(String, f64)>);

/// One line of InfluxDB's line protocol: measurement, tags and fields, unescaped. Panics on a
/// line that does not follow the protocol (unescaped separators, a field without a value).
fn parse_line(line: &str) -> Line {
    // Split on unescaped `sep`, keeping escapes for the next level.
    fn split(s: &str, sep: char) -> Vec<String> {
        let mut parts = vec![String::new()];
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                let next = chars.next().expect("a dangling backslash");
                parts.last_mut().unwrap().push(c);
                parts.last_mut().unwrap().push(next);
            } else if c == sep {
                parts.push(String::new());
            } else {
                parts.last_mut().unwrap().push(c);
            }
        }
        parts
    }
    fn unescape(s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            out.push(if c == '\\' { chars.next().unwrap() } else { c });
        }
        out
    }
    let sections = split(line, ' ');
    assert_eq!(sections.len(), 2, "measurement+tags, fields: {line}");
    let head = split(&sections[0], ',');
    let tags = head[1..]
        .iter()
        .map(|t| {
            let kv = split(t, '=');
            assert_eq!(kv.len(), 2, "tag {t} in {line}");
            (unescape(&kv[0]), unescape(&kv[1]))
        })
        .collect();
    let fields = split(&sections[1], ',')
        .iter()
        .map(|f| {
            let kv = split(f, '=');
            assert_eq!(kv.len(), 2, "field {f} in {line}");
            let v: f64 = kv[1]
                .parse()
                .unwrap_or_else(|_| panic!("{f}: not a number"));
            (unescape(&kv[0]), v)
        })
        .collect();
    (unescape(&head[0]), tags, fields)
}

#[test]
fn the_influxdb_telemeter_serves_linkerds_lines() {
    let web = Backend::start("web");
    let (admin, http, plain_admin) = (free_port(), free_port(), free_port());
    let yaml = format!(
        "admin: {{ip: 127.0.0.1, port: {admin}}}
telemetry:
- kind: io.l5d.influxdb
routers:
- protocol: http
  label: edge
  dtab: /svc/web => /$/inet/127.0.0.1/{};
  servers:
  - {{ip: 127.0.0.1, port: {http}}}
",
        web.port
    );
    let _h = Hawser::start(&yaml, admin, 2);
    for i in 0..5 {
        assert_eq!(send(http, &format!("/{i}"), Some("web"), &[]).status, 200);
    }
    assert_eq!(send(http, "/", Some("nowhere"), &[]).status, 502);
    let raw =
        "GET /admin/metrics/influxdb HTTP/1.1\r\nHost: l5d-1:9990\r\nConnection: close\r\n\r\n";
    let bytes = raw_exchange(admin, raw.as_bytes(), Duration::from_secs(5)).unwrap();
    let r = parse_responses(&bytes).into_iter().next().unwrap();
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/plain"))
    );
    let lines: Vec<_> = r.body_str().lines().map(parse_line).collect();
    let find = |m: &str, tag: (&str, &str)| {
        lines
            .iter()
            .find(|(name, tags, _)| name == m && tags.iter().any(|(k, v)| k == tag.0 && v == tag.1))
            .unwrap_or_else(|| panic!("no {m} line with {tag:?} in\n{}", r.body_str()))
    };
    let field = |line: &Line, f: &str| {
        line.2
            .iter()
            .find(|(k, _)| k == f)
            .map(|(_, v)| *v)
            .unwrap_or_else(|| panic!("no field {f} in {line:?}"))
    };
    // Every line carries the poll's Host, and the service line the router and name.
    assert!(
        lines
            .iter()
            .all(|(_, tags, _)| tags.contains(&("host".into(), "l5d-1:9990".into())))
    );
    let web_line = find("rt:service", ("service", "/svc/web"));
    assert!(web_line.1.contains(&("rt".into(), "edge".into())));
    assert_eq!(field(web_line, "requests"), 5.0);
    assert_eq!(field(web_line, "success"), 5.0);
    assert_eq!(field(web_line, "failures"), 0.0);
    assert_eq!(field(web_line, "request_latency_ms_count"), 5.0);
    assert!(field(web_line, "request_latency_ms_p99") > 0.0);
    let nowhere = find("rt:service", ("service", "/svc/nowhere"));
    assert_eq!(field(nowhere, "failures"), 1.0);
    assert_eq!(field(nowhere, "proxy_errors"), 1.0);
    let client = find(
        "rt:client",
        ("client", &format!("/$/inet/127.0.0.1/{}", web.port)),
    );
    assert_eq!(field(client, "requests"), 5.0);
    let server = find("rt:server", ("rt", "edge"));
    assert!(field(server, "connects") >= 6.0);
    assert!(
        field(
            find("process", ("host", "l5d-1:9990")),
            "resident_memory_bytes"
        ) > 1e6
    );

    // Without the telemeter the path is not served.
    let plain = format!(
        "admin: {{ip: 127.0.0.1, port: {plain_admin}}}\nrouters:\n- protocol: http\n  dtab: /svc => /$/nil;\n  servers:\n  - {{ip: 127.0.0.1, port: {}}}\n",
        free_port()
    );
    let _p = Hawser::start(&plain, plain_admin, 1);
    let r = get(plain_admin, "/admin/metrics/influxdb").unwrap();
    assert_eq!(r.status, 404);
    assert!(r.body_str().contains("io.l5d.influxdb"), "{}", r.body_str());
}

#[test]
fn recent_requests_are_sampled_and_shown_newest_first() {
    let web = Backend::start("web");
    let (admin, http) = (free_port(), free_port());
    let yaml = format!(
        "admin: {{ip: 127.0.0.1, port: {admin}}}
telemetry:
- kind: io.l5d.recentRequests
  sampleRate: 1.0
  capacity: 3
routers:
- protocol: http
  label: edge
  dtab: /svc/web => /$/inet/127.0.0.1/{};
  servers:
  - {{ip: 127.0.0.1, port: {http}}}
",
        web.port
    );
    let _h = Hawser::start(&yaml, admin, 2);
    for i in 0..5 {
        assert_eq!(send(http, &format!("/{i}"), Some("web"), &[]).status, 200);
        std::thread::sleep(Duration::from_millis(5));
    }
    let r = get(admin, "/requests.json").unwrap();
    assert_eq!(r.status, 200);
    let rows: Value = serde_json::from_str(&r.body_str()).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 3, "the capacity, over both shards: {rows:?}");
    let stamps: Vec<&str> = rows
        .iter()
        .map(|r| r["timestamp"].as_str().unwrap())
        .collect();
    let mut sorted = stamps.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(stamps, sorted, "newest first");
    for row in rows {
        assert_eq!(row["router"], "edge");
        assert_eq!(row["logicalName"], "/svc/web");
        assert_eq!(
            row["concreteName"],
            format!("/$/inet/127.0.0.1/{}", web.port)
        );
        assert_eq!(row["destination"], format!("127.0.0.1:{}", web.port));
        assert_eq!(row["server"], format!("127.0.0.1:{http}"));
        assert!(row["source"].as_str().unwrap().starts_with("127.0.0.1:"));
    }
    let page = get(admin, "/requests").unwrap();
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-type")
            .is_some_and(|c| c.starts_with("text/html"))
    );
    assert!(page.body_str().contains("Recent Requests"));
    assert_eq!(page.body_str().matches("<tr><td>").count(), 3);

    // sampleRate 0 keeps nothing; without the telemeter the pages are not there.
    let (admin0, http0) = (free_port(), free_port());
    let none = yaml
        .replace(&format!("port: {admin}"), &format!("port: {admin0}"))
        .replace(&format!("port: {http}"), &format!("port: {http0}"))
        .replace("sampleRate: 1.0", "sampleRate: 0");
    let _h0 = Hawser::start(&none, admin0, 1);
    assert_eq!(send(http0, "/", Some("web"), &[]).status, 200);
    assert_eq!(
        get(admin0, "/requests.json").unwrap().body_str().trim(),
        "[]"
    );
    let (admin1, http1) = (free_port(), free_port());
    let off = format!(
        "admin: {{ip: 127.0.0.1, port: {admin1}}}\nrouters:\n- protocol: http\n  dtab: /svc => /$/nil;\n  servers:\n  - {{ip: 127.0.0.1, port: {http1}}}\n"
    );
    let _h1 = Hawser::start(&off, admin1, 1);
    let r = get(admin1, "/requests").unwrap();
    assert_eq!(r.status, 404);
    assert!(r.body_str().contains("io.l5d.recentRequests"));
}
