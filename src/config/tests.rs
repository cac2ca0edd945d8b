//! Unit tests for the config loader: defaults, typed values, and each class of error with its
//! exact position.

use std::net::IpAddr;
use std::time::Duration;

use super::*;

/// All diagnostics as (line, col, severity, message).
fn diags(text: &str) -> Vec<(usize, usize, Severity, String)> {
    check_str(text, "t.yaml")
        .diagnostics
        .into_iter()
        .map(|d| (d.line, d.col, d.severity, d.message))
        .collect()
}

/// The single diagnostic of `text`.
fn one(text: &str) -> (usize, usize, Severity, String) {
    let mut d = diags(text);
    assert_eq!(d.len(), 1, "expected one diagnostic, got {d:#?}");
    d.remove(0)
}

fn load(text: &str) -> Config {
    load_str(text, "t.yaml").unwrap_or_else(|d| panic!("{d:#?}"))
}

const MINIMAL: &str = "routers:\n- protocol: http\n  servers:\n  - port: 4140\n";

#[test]
fn defaults_follow_linkerd_and_the_brief() {
    let c = load(MINIMAL);
    assert_eq!(c.admin, AdminConfig::default());
    assert_eq!(c.admin.addr().to_string(), "127.0.0.1:9990");
    assert!(c.namers.is_empty());
    let r = &c.routers[0];
    assert_eq!(r.protocol, Protocol::Http);
    assert_eq!(r.label, "http");
    assert_eq!(r.dtab.value, "");
    assert_eq!(r.dst_prefix.value, "/svc");
    assert_eq!(
        r.identifiers,
        [IdentifierConfig::HeaderToken {
            header: "Host".into()
        }]
    );
    assert_eq!(r.servers[0].addr().to_string(), "127.0.0.1:4140");
    assert!(!r.servers[0].clear_context);
    assert_eq!(r.max_initial_line, ByteSize::kib(4));
    assert_eq!(r.max_headers, ByteSize::kib(8));
    assert_eq!(r.client.connect_timeout, Duration::from_secs(1));
    assert_eq!(r.client.pool.max_idle_per_endpoint, 64);
    assert_eq!(r.client.pool.idle_timeout, Duration::from_secs(10));
    assert_eq!(c.runtime.cores, None);
    assert_eq!(c.runtime.io_memory, ByteSize::kib(512));
    assert_eq!(c.runtime.drain_timeout, Duration::from_secs(10));
    assert_eq!(c.runtime.request_header_timeout, Duration::from_secs(10));
    assert_eq!(c.runtime.max_header_count, 100);
    // A server with no port gets http's 4140.
    let c = load("routers:\n- protocol: http\n  servers:\n  - ip: 0.0.0.0\n");
    assert_eq!(c.routers[0].servers[0].addr().to_string(), "0.0.0.0:4140");
}

#[test]
fn full_supported_config_is_typed() {
    let text = "\
admin:
  ip: 0.0.0.0
  port: 9991
  shutdownGraceMs: 2500
namers:
- kind: io.l5d.fs
  rootDir: disco
- kind: io.l5d.fs
  prefix: /other
  rootDir: /etc/other
routers:
- protocol: http
  label: out
  dtab: |
    /svc => /#/io.l5d.fs;
  dstPrefix: /http
  identifier:
  - kind: io.l5d.path
    segments: 2
    consume: true
  - kind: io.l5d.methodAndHost
    httpUriInDst: true
  - kind: io.l5d.header
  - kind: io.l5d.header.token
    header: X-Svc
  maxInitialLineKB: 2
  maxHeadersKB: 16
  streamingEnabled: true
  experimental: true
  interpreter:
    kind: default
  servers:
  - ip: 0.0.0.0
    port: 4140
    clearContext: true
  client:
    kind: io.l5d.global
    connectTimeoutMs: 250
    failureAccrual:
      kind: none
    hostConnectionPool:
      minSize: 0
      maxSize: 8
      idleTimeMs: 3000
  service:
    kind: io.l5d.global
    responseClassifier:
      kind: io.l5d.http.nonRetryable5XX
usage:
  orgId: me
  enabled: false
runtime:
  cores: 2
  ioMemoryKiB: 1024
  requestHeaderTimeoutMs: 500
  maxHeaderCount: 64
  spinBeforeParkUs: 150
";
    let c = load(text);
    assert_eq!(c.admin.ip, "0.0.0.0".parse::<IpAddr>().unwrap());
    assert_eq!(c.admin.port, 9991);
    assert_eq!(c.runtime.drain_timeout, Duration::from_millis(2500));
    assert_eq!(c.namers[0].prefix(), "/#/io.l5d.fs");
    assert_eq!(c.namers[1].prefix(), "/#/other");
    let NamerConfig::Fs(fs) = &c.namers[1];
    assert_eq!(fs.root_dir, std::path::PathBuf::from("/etc/other"));
    assert_eq!((fs.prefix.pos.line, fs.prefix.pos.col), (9, 11));
    let r = &c.routers[0];
    assert_eq!(r.label, "out");
    assert_eq!(r.dtab.value, "/svc => /#/io.l5d.fs;\n");
    assert_eq!(r.dtab.locate(0), Position::new(15, 5));
    assert_eq!(r.dst_prefix.value, "/http");
    assert_eq!(r.dst_prefix.pos, Position::new(16, 14));
    assert_eq!(
        r.identifiers,
        [
            IdentifierConfig::Path {
                segments: std::num::NonZeroUsize::new(2).unwrap(),
                consume: true
            },
            IdentifierConfig::MethodAndHost {
                http_uri_in_dst: true
            },
            IdentifierConfig::Header {
                header: "l5d-name".into()
            },
            IdentifierConfig::HeaderToken {
                header: "X-Svc".into()
            },
        ]
    );
    assert_eq!(r.max_initial_line.as_bytes(), 2048);
    assert_eq!(r.max_headers.as_bytes(), 16 * 1024);
    assert!(r.servers[0].clear_context);
    assert_eq!(r.client.connect_timeout, Duration::from_millis(250));
    assert_eq!(r.client.pool.max_idle_per_endpoint, 8);
    assert_eq!(r.client.pool.idle_timeout, Duration::from_millis(3000));
    assert_eq!(c.runtime.cores.map(|n| n.get()), Some(2));
    assert_eq!(c.runtime.io_memory.as_bytes(), 1024 * 1024);
    assert_eq!(c.runtime.request_header_timeout, Duration::from_millis(500));
    assert_eq!(c.runtime.max_header_count, 64);
    assert_eq!(c.runtime.spin_before_park, Duration::from_micros(150));
}

#[test]
fn spinning_is_off_by_default_and_bounded() {
    assert_eq!(load(MINIMAL).runtime.spin_before_park, Duration::ZERO);
    let (line, _, sev, msg) = one(&format!("{MINIMAL}runtime:\n  spinBeforeParkUs: 10001\n"));
    assert_eq!((line, sev), (6, Severity::Error));
    assert!(msg.contains("runtime.spinBeforeParkUs"), "{msg}");
    assert!(msg.contains("10000"), "{msg}");
}

#[test]
fn config_serialises_to_json_for_the_admin_endpoint() {
    let c = load(
        "routers:\n- protocol: http\n  dtab: /svc => /$/inet/127.1/8080\n  servers:\n  - port: 4140\n",
    );
    let json = serde_json::to_value(&c).unwrap();
    assert_eq!(json["admin"]["port"], 9990);
    assert_eq!(json["routers"][0]["dtab"], "/svc => /$/inet/127.1/8080");
    assert_eq!(
        json["routers"][0]["identifiers"][0]["kind"],
        "io.l5d.header.token"
    );
    assert_eq!(json["routers"][0]["client"]["connectTimeoutMs"], 1000);
    assert_eq!(json["routers"][0]["maxHeaders"], 8192);
    assert_eq!(json["runtime"]["drainTimeoutMs"], 10000);
    fn assert_traits<T: Clone + Send + Sync + std::fmt::Debug + serde::Serialize>() {}
    assert_traits::<Config>();
}

#[test]
fn yaml_syntax_error_has_its_position() {
    let (line, col, sev, msg) = one("routers:\n- protocol: http\n  servers: [\n");
    assert_eq!(sev, Severity::Error);
    assert!(msg.starts_with("YAML syntax error"), "{msg}");
    assert!(line >= 3, "{line}:{col}");
    let (line, col, _, msg) = one("admin:\n  ip: 1\n   port: 2\n");
    assert_eq!((line, col), (3, 8), "{msg}");
}

#[test]
fn template_placeholders_are_named_not_crashed_on() {
    let (line, col, sev, msg) =
        one("routers:\n- protocol: http\n  servers:\n  - port: {{ .Values.port }}\n");
    assert_eq!((line, col, sev), (4, 12, Severity::Error));
    assert!(msg.contains("template"), "{msg}");
}

#[test]
fn unknown_keys_are_errors_with_suggestions() {
    let (line, col, sev, msg) =
        one("admin:\n  prot: 9990\nrouters:\n- protocol: http\n  servers:\n  - port: 1\n");
    assert_eq!((line, col, sev), (2, 3, Severity::Error));
    assert_eq!(msg, "unknown key `prot` in admin; did you mean `port`?");

    let (line, col, _, msg) =
        one("routers:\n- protocol: http\n  dtabs: /a => /b\n  servers:\n  - port: 1\n");
    assert_eq!((line, col), (3, 3));
    assert_eq!(
        msg,
        "unknown key `dtabs` in routers[0]; did you mean `dtab`?"
    );

    let (_, _, _, msg) =
        one("routers:\n- protocol: http\n  servers:\n  - port: 1\n    wibble: 2\n");
    assert_eq!(msg, "unknown key `wibble` in routers[0].servers[0]");

    let (_, _, _, msg) = one("rooters: []\nrouters:\n- protocol: http\n  servers:\n  - port: 1\n");
    assert_eq!(
        msg,
        "unknown key `rooters` at the top level; did you mean `routers`?"
    );
}

#[test]
fn every_problem_is_reported_in_one_run() {
    let text = "\
admin:
  port: 70000
routers:
- protocol: http
  servers:
  - port: abc
    ip: 999.1.1.1
  client:
    hostConnectionPool:
      idleTimeMs: -1
";
    let d = diags(text);
    let at: Vec<(usize, usize)> = d.iter().map(|d| (d.0, d.1)).collect();
    assert_eq!(at, [(2, 9), (6, 11), (7, 9), (10, 19)], "{d:#?}");
    assert!(d.iter().all(|d| d.2 == Severity::Error));
    assert_eq!(
        d[0].3,
        "`admin.port` must be between 1 and 65535, found 70000"
    );
    assert_eq!(
        d[1].3,
        "`routers[0].servers[0].port` must be an integer, found a string `abc`"
    );
    assert_eq!(
        d[2].3,
        "`routers[0].servers[0].ip` must be an IP address, found `999.1.1.1`"
    );
    assert_eq!(
        d[3].3,
        "`routers[0].client.hostConnectionPool.idleTimeMs` must be between 0 and 86400000, found -1"
    );
    assert_eq!(check_str(text, "t.yaml").exit_code(), 2);
}

#[test]
fn bad_port_numbers() {
    for (port, want) in [
        ("0", "must be between 1 and 65535, found 0"),
        ("65536", "must be between 1 and 65535, found 65536"),
        ("-1", "must be between 1 and 65535, found -1"),
        ("4140.5", "must be an integer, found a number `4140.5`"),
        ("[4140]", "must be an integer, found a list"),
        ("", "must be an integer, found nothing (null)"),
    ] {
        let text = format!("routers:\n- protocol: http\n  servers:\n  - port: {port}\n");
        let (line, _, sev, msg) = one(&text);
        assert_eq!((line, sev), (4, Severity::Error));
        assert!(msg.ends_with(want), "{port}: {msg}");
    }
    // A quoted number is read as linkerd's reader does.
    let c = load("routers:\n- protocol: http\n  servers:\n  - port: \"4141\"\n");
    assert_eq!(c.routers[0].servers[0].port, 4141);
}

#[test]
fn wrong_types_name_what_was_found() {
    let cases = [
        (
            "routers: {}\n",
            (1, 10),
            "`routers` must be a list, found a mapping",
        ),
        (
            "- a\n",
            (1, 1),
            "the config must be a mapping of sections (admin, namers, routers, ...), found a list",
        ),
        (
            "routers:\n- protocol: http\n  servers:\n  - clearContext: yes please\n",
            (4, 19),
            "`routers[0].servers[0].clearContext` must be true or false, found a string `yes please`",
        ),
        (
            "routers:\n- protocol: http\n  dtab: [a]\n  servers:\n  - port: 1\n",
            (3, 9),
            "`routers[0].dtab` must be a string, found a list",
        ),
        (
            "routers:\n- protocol: http\n  identifier: io.l5d.path\n  servers:\n  - port: 1\n",
            (3, 15),
            "`routers[0].identifier` must be a mapping, found a string `io.l5d.path`",
        ),
    ];
    for (text, pos, want) in cases {
        let (line, col, sev, msg) = one(text);
        assert_eq!(
            ((line, col), sev, msg.as_str()),
            (pos, Severity::Error, want),
            "{text}"
        );
    }
}

#[test]
fn duplicate_labels_and_keys_are_errors() {
    let text = "routers:\n- protocol: http\n  servers:\n  - port: 1\n- protocol: http\n  servers:\n  - port: 2\n";
    let (line, col, sev, msg) = one(text);
    assert_eq!((line, col, sev), (5, 3, Severity::Error));
    assert_eq!(
        msg,
        "router label `http` is already used by routers[0] (line 2); give each router a distinct `label`"
    );
    let text = "routers:\n- protocol: http\n  label: a\n  servers:\n  - port: 1\n- protocol: http\n  label: a\n  servers:\n  - port: 2\n";
    assert_eq!(one(text).0, 7);

    let (line, col, _, msg) =
        one("admin:\n  port: 1\n  port: 2\nrouters:\n- protocol: http\n  servers:\n  - port: 3\n");
    assert_eq!((line, col), (3, 3));
    assert_eq!(msg, "duplicate key `port` in admin (first at line 2)");
}

#[test]
fn conflicting_addresses_are_errors() {
    let text = "routers:\n- protocol: http\n  label: a\n  servers:\n  - port: 4140\n    ip: 0.0.0.0\n- protocol: http\n  label: b\n  servers:\n  - port: 4140\n";
    let (line, _, sev, msg) = one(text);
    assert_eq!((line, sev), (10, Severity::Error));
    assert!(
        msg.contains("conflicts with routers[0].servers[0]"),
        "{msg}"
    );
    let (_, _, _, msg) = one("routers:\n- protocol: http\n  servers:\n  - port: 9990\n");
    assert!(
        msg.contains("conflicts with admin (127.0.0.1:9990"),
        "{msg}"
    );
    // Different IPs on the same port do not conflict.
    load(
        "routers:\n- protocol: http\n  servers:\n  - port: 5000\n    ip: 127.0.0.1\n  - port: 5000\n    ip: 127.0.0.2\n",
    );
}

#[test]
fn missing_required_keys() {
    let (_, _, _, msg) = one("admin: {port: 9990}\n");
    assert_eq!(msg, "the config needs `routers` (a list of routers)");
    let (_, _, _, msg) = one("");
    assert_eq!(msg, "the config is empty; it needs at least `routers`");
    let (line, col, _, msg) = one("routers:\n- label: x\n  servers:\n  - port: 1\n");
    assert_eq!((line, col), (2, 3));
    assert_eq!(
        msg,
        "routers[0] needs a `protocol` (one of http, h2, thrift, mux, thriftmux)"
    );
    let (_, _, _, msg) = one("routers:\n- protocol: http\n");
    assert_eq!(msg, "routers[0] needs `servers`");
    let (_, _, _, msg) =
        one("namers:\n- kind: io.l5d.fs\nrouters:\n- protocol: http\n  servers:\n  - port: 1\n");
    assert_eq!(msg, "`namers[0]` (io.l5d.fs) needs `rootDir`");
    let (_, _, _, msg) =
        one("namers:\n- rootDir: x\nrouters:\n- protocol: http\n  servers:\n  - port: 1\n");
    assert_eq!(msg, "namer `namers[0]` needs a `kind`");
}

#[test]
fn bad_values_are_errors() {
    let r = |extra: &str| format!("routers:\n- protocol: http\n  servers:\n  - port: 1\n{extra}");
    let cases = [
        (
            r("  dstPrefix: svc\n"),
            "`routers[0].dstPrefix` must be a path starting with `/`, found `svc`",
        ),
        (
            r("  identifier:\n    kind: io.l5d.header.token\n    header: \"bad header\"\n"),
            "`routers[0].identifier.header` must be an HTTP header name, found `bad header`",
        ),
        (
            r("  identifier:\n    kind: io.l5d.path\n    segments: 0\n"),
            "`routers[0].identifier.segments` must be between 1 and 1000, found 0",
        ),
        (
            r("  identifier:\n    kind: io.l5d.header.path\n"),
            "`io.l5d.header.path` is an h2 identifier; http routers have io.l5d.header.token, io.l5d.methodAndHost, io.l5d.path and io.l5d.header",
        ),
        (
            r("  identifier:\n    kind: io.l5d.methodAndHst\n"),
            "unknown identifier kind `io.l5d.methodAndHst`; did you mean `io.l5d.methodAndHost`?",
        ),
        (
            r("  maxHeadersKB: 0\n"),
            "`routers[0].maxHeadersKB` must be between 1 and 1024, found 0",
        ),
        (
            r("  client:\n    configs: []\n"),
            "`configs` (routers[0].client) is only read with `kind: io.l5d.static`",
        ),
        (
            r("  client:\n    kind: io.l5d.globl\n"),
            "unknown client kind `io.l5d.globl`; did you mean `io.l5d.global`?",
        ),
        (
            format!("runtime:\n  ioMemoryKiB: 256\n{}", r("")),
            "`runtime.ioMemoryKiB` must be between 512 and 1073741824, found 256",
        ),
        (
            format!("runtime:\n  cores: 0\n{}", r("")),
            "`runtime.cores` must be between 1 and 4096, found 0",
        ),
        (
            format!(
                "namers:\n- kind: io.l5d.fs\n  rootDir: d\n  prefix: /#/disco\n{}",
                r("")
            ),
            "`namers[0].prefix` is written without `/#` (`prefix: /disco` is referenced as `/#/disco`), found `/#/disco`",
        ),
        (
            format!(
                "namers:\n- kind: io.l5d.fs\n  rootDir: a\n- kind: io.l5d.fs\n  rootDir: b\n{}",
                r("")
            ),
            "namer prefix `/#/io.l5d.fs` is already used by namers[0]",
        ),
        (
            format!("admin:\n  ip: ${{ADMIN_IP}}\n{}", r("")),
            "`admin.ip` must be an IP address, found `${ADMIN_IP}`: hawser does not expand environment variables in configs",
        ),
        (
            format!(
                "admin:\n  shutdownGraceMs: 5\nruntime:\n  drainTimeoutMs: 5\n{}",
                r("")
            ),
            "`admin.shutdownGraceMs` and `runtime.drainTimeoutMs` (line 4) both set the drain timeout; keep one",
        ),
        (
            r("  baseDtab: /a => /b\n"),
            "`baseDtab` is not a linkerd 1.x key: linkerd 1.x calls the router's dtab `dtab`",
        ),
        (
            r("- protocol: htp\n  servers:\n  - port: 2\n"),
            "unknown router protocol kind `htp`; did you mean `http`?",
        ),
    ];
    for (text, want) in cases {
        let (_, _, sev, msg) = one(&text);
        assert_eq!((sev, msg.as_str()), (Severity::Error, want), "{text}");
    }
}

#[test]
fn exit_codes_and_load_results() {
    let ok = check_str(MINIMAL, "t.yaml");
    assert_eq!(ok.exit_code(), 0);
    assert!(ok.config.is_some());
    let unsupported = check_str(
        "telemetry:\n- kind: io.l5d.statsd\nrouters:\n- protocol: http\n  servers:\n  - port: 1\n",
        "t.yaml",
    );
    assert_eq!(unsupported.exit_code(), 1);
    assert!(unsupported.config.is_none());
    assert!(load_str("telemetry:\n- kind: io.l5d.statsd\nrouters: []\n", "t.yaml").is_err());
    let missing = check(std::path::Path::new("/nonexistent/hawser.yaml"));
    assert_eq!(missing.exit_code(), 2);
    assert_eq!(missing.diagnostics[0].line, 0);
    assert!(
        missing.diagnostics[0]
            .to_string()
            .starts_with("/nonexistent/hawser.yaml: cannot read the config file")
    );
}

#[test]
fn diagnostics_print_as_file_line_col_message_with_key_paths() {
    let r = check_str(
        "routers:\n- protocol: http\n  servers:\n  - port: 1\n  client:\n    failFast: true\n",
        "l5d.yaml",
    );
    let d = &r.diagnostics[0];
    assert_eq!(d.key_path, "routers[0].client.failFast");
    assert_eq!(
        d.to_string(),
        "l5d.yaml:6:5: `failFast` (routers[0].client) is a linkerd 1.x feature hawser does not support yet"
    );
}

#[test]
fn the_prometheus_telemeter_is_typed_with_linkerds_defaults() {
    assert_eq!(load(MINIMAL).prometheus, None);
    let c = load(&format!("telemetry:\n- kind: io.l5d.prometheus\n{MINIMAL}"));
    let p = c.prometheus.unwrap();
    assert_eq!(p.path, "/admin/metrics/prometheus");
    assert_eq!(p.prefix, "");
    let c = load(&format!(
        "telemetry:\n- kind: io.l5d.prometheus\n  path: /prom\n  prefix: l5d_\n{MINIMAL}"
    ));
    assert_eq!(
        c.prometheus,
        Some(PrometheusConfig {
            path: "/prom".into(),
            prefix: "l5d_".into()
        })
    );
    // Bad values name their key and line.
    let (line, _, sev, msg) = one(&format!(
        "telemetry:\n- kind: io.l5d.prometheus\n  prefix: 9lives\n{MINIMAL}"
    ));
    assert_eq!((line, sev), (3, Severity::Error));
    assert!(msg.contains("telemetry[0].prefix"), "{msg}");
    let (line, _, sev, msg) = one(&format!(
        "telemetry:\n- kind: io.l5d.prometheus\n  path: metrics\n{MINIMAL}"
    ));
    assert_eq!((line, sev), (3, Severity::Error));
    assert!(msg.contains("telemetry[0].path"), "{msg}");
    let (line, _, sev, msg) = one(&format!(
        "telemetry:\n- kind: io.l5d.prometheus\n- kind: io.l5d.prometheus\n{MINIMAL}"
    ));
    assert_eq!((line, sev), (3, Severity::Error));
    assert!(msg.contains("second `io.l5d.prometheus`"), "{msg}");
    // Other telemeters are still reported, the prometheus one kept.
    let (line, _, sev, msg) = one(&format!(
        "telemetry:\n- kind: io.l5d.prometheus\n- kind: io.l5d.zipkin\n  sampleRate: 1.0\n{MINIMAL}"
    ));
    assert_eq!((line, sev), (3, Severity::Unsupported));
    assert!(msg.contains("io.l5d.zipkin"), "{msg}");
}

#[test]
fn total_timeout_is_typed_and_bounded() {
    assert_eq!(load(MINIMAL).routers[0].service.total_timeout, None);
    let c = load(&format!("{MINIMAL}  service:\n    totalTimeoutMs: 2500\n"));
    assert_eq!(
        c.routers[0].service.total_timeout,
        Some(Duration::from_millis(2500))
    );
    let (line, _, sev, msg) = one(&format!("{MINIMAL}  service:\n    totalTimeoutMs: 0\n"));
    assert_eq!((line, sev), (6, Severity::Error));
    assert!(msg.contains("totalTimeoutMs"), "{msg}");
}

#[test]
fn classifiers_and_retries_are_typed_for_http_and_reported_elsewhere() {
    let c = load(&format!(
        "{MINIMAL}  service:\n    responseClassifier:\n      kind: io.l5d.http.retryableIdempotent5XX\n    retries:\n      budget: {{minRetriesPerSec: 5, percentCanRetry: 0.5, ttlSecs: 15}}\n      backoff: {{kind: jittered, minMs: 10, maxMs: 10000}}\n"
    ));
    let s = &c.routers[0].service;
    assert_eq!(s.response_classifier, "io.l5d.http.retryableIdempotent5XX");
    assert_eq!(
        (
            s.retries.budget.min_retries_per_sec,
            s.retries.budget.percent_can_retry,
            s.retries.budget.ttl_secs
        ),
        (5, 0.5, 15)
    );
    assert_eq!(
        s.retries.backoff,
        BackoffConfig::Jittered {
            min_ms: 10,
            max_ms: 10000
        }
    );
    // Errors name their keys.
    let (line, _, sev, msg) = one(&format!(
        "{MINIMAL}  service:\n    retries:\n      backoff: {{kind: jittered, minMs: 10}}\n"
    ));
    assert_eq!((line, sev), (7, Severity::Error));
    assert!(msg.contains("needs `minMs` and `maxMs`"), "{msg}");
    let (_, _, sev, msg) = one(&format!(
        "{MINIMAL}  service:\n    retries:\n      budget: {{percentCanRetry: 2000}}\n"
    ));
    assert_eq!(sev, Severity::Error);
    assert!(msg.contains("percentCanRetry"), "{msg}");
    // h2 and thrift routers do not retry yet: reported at the key.
    let (line, _, sev, msg) =
        one("routers:\n- protocol: h2\n  servers:\n  - port: 4142\n  service:\n    retries: {}\n");
    assert_eq!((line, sev), (6, Severity::Unsupported));
    assert!(msg.contains("retries on `protocol: h2` routers"), "{msg}");
}

#[test]
fn the_requeue_budget_is_typed() {
    let d = load(MINIMAL).routers[0].client.requeue_budget.clone();
    assert_eq!(d, BudgetConfig::default());
    let c = load(&format!(
        "{MINIMAL}  client:\n    requeueBudget: {{minRetriesPerSec: 0, percentCanRetry: 0.1, ttlSecs: 5}}\n"
    ));
    let b = &c.routers[0].client.requeue_budget;
    assert_eq!(
        (b.min_retries_per_sec, b.percent_can_retry, b.ttl_secs),
        (0, 0.1, 5)
    );
}

#[test]
fn failure_accrual_defaults_to_linkerds_and_can_be_set_or_turned_off() {
    let d = load(MINIMAL).routers[0].client.failure_accrual.clone();
    assert_eq!(d, Some(AccrualConfig::default()));
    let c = load(&format!(
        "{MINIMAL}  client:\n    failureAccrual:\n      kind: io.l5d.consecutiveFailures\n      failures: 3\n      backoff: {{kind: constant, ms: 1000}}\n"
    ));
    assert_eq!(
        c.routers[0].client.failure_accrual,
        Some(AccrualConfig {
            policy: AccrualPolicyConfig::ConsecutiveFailures { failures: 3 },
            backoff: BackoffConfig::Constant { ms: 1000 }
        })
    );
    let c = load(&format!(
        "{MINIMAL}  client:\n    failureAccrual: {{kind: none}}\n"
    ));
    assert_eq!(c.routers[0].client.failure_accrual, None);
    // io.l5d.successRate, with linkerd's keys; both of its numbers are required.
    let c = load(&format!(
        "{MINIMAL}  client:\n    failureAccrual:\n      kind: io.l5d.successRate\n      successRate: 0.9\n      requests: 20\n      backoff: {{kind: constant, ms: 10000}}\n"
    ));
    assert_eq!(
        c.routers[0].client.failure_accrual,
        Some(AccrualConfig {
            policy: AccrualPolicyConfig::SuccessRate {
                success_rate: 0.9,
                requests: 20
            },
            backoff: BackoffConfig::Constant { ms: 10000 }
        })
    );
    let (line, _, sev, msg) = one(&format!(
        "{MINIMAL}  client:\n    failureAccrual: {{kind: io.l5d.successRate, successRate: 0.9}}\n"
    ));
    assert_eq!((line, sev), (6, Severity::Error));
    assert!(msg.contains("needs `requests`"), "{msg}");
    let (line, _, sev, msg) = one(&format!(
        "{MINIMAL}  client:\n    failureAccrual: {{kind: io.l5d.successRate, successRate: 1.5, requests: 5}}\n"
    ));
    assert_eq!((line, sev), (6, Severity::Error));
    assert!(msg.contains("successRate"), "{msg}");
    // The windowed variant: a window in seconds.
    let c = load(&format!(
        "{MINIMAL}  client:\n    failureAccrual: {{kind: io.l5d.successRateWindowed, successRate: 0.9, window: 30}}\n"
    ));
    assert_eq!(
        c.routers[0]
            .client
            .failure_accrual
            .clone()
            .map(|a| a.policy),
        Some(AccrualPolicyConfig::SuccessRateWindowed {
            success_rate: 0.9,
            window: 30
        })
    );
    // `requests` is the other kind's key: unknown here, and `window` is missing.
    let d = diags(&format!(
        "{MINIMAL}  client:\n    failureAccrual: {{kind: io.l5d.successRateWindowed, successRate: 0.9, requests: 30}}\n"
    ));
    assert!(d.iter().all(|d| d.2 == Severity::Error), "{d:?}");
    assert!(d.iter().any(|d| d.3.contains("needs `window`")), "{d:?}");
    assert!(
        d.iter().any(|d| d.3.contains("unknown key `requests`")),
        "{d:?}"
    );
}

#[test]
fn recent_requests_and_influxdb_telemeters_are_read() {
    let c = load(&format!(
        "telemetry:\n- kind: io.l5d.recentRequests\n  sampleRate: 0.25\n- kind: io.l5d.influxdb\n{MINIMAL}"
    ));
    assert_eq!(
        c.recent_requests,
        Some(RecentRequestsConfig {
            sample_rate: 0.25,
            capacity: 10
        })
    );
    assert!(c.influxdb);
    let c = load(&format!(
        "telemetry:\n- kind: io.l5d.recentRequests\n  sampleRate: 1\n  capacity: 50\n{MINIMAL}"
    ));
    assert_eq!(c.recent_requests.map(|r| r.capacity), Some(50));
    assert!(!c.influxdb);
    // linkerd refuses a recentRequests telemeter without a sample rate, or with one outside [0, 1].
    let (line, _, sev, msg) = one(&format!(
        "telemetry:\n- kind: io.l5d.recentRequests\n{MINIMAL}"
    ));
    assert_eq!((line, sev), (2, Severity::Error));
    assert!(msg.contains("sampleRate"), "{msg}");
    let (line, _, sev, _) = one(&format!(
        "telemetry:\n- kind: io.l5d.recentRequests\n  sampleRate: 2\n{MINIMAL}"
    ));
    assert_eq!((line, sev), (3, Severity::Error));
}

#[test]
fn load_balancers_are_typed_with_linkerds_defaults() {
    assert_eq!(
        load(MINIMAL).routers[0].client.load_balancer,
        BalancerConfig::P2c { max_effort: 5 }
    );
    let lb = |yaml: &str| {
        load(&format!("{MINIMAL}  client:\n    loadBalancer: {yaml}\n")).routers[0]
            .client
            .load_balancer
            .clone()
    };
    assert_eq!(
        lb("{kind: ewma}"),
        BalancerConfig::Ewma {
            max_effort: 5,
            decay_ms: 10_000
        }
    );
    assert_eq!(
        lb("{kind: ewma, maxEffort: 3, decayTimeMs: 500, enableProbation: false}"),
        BalancerConfig::Ewma {
            max_effort: 3,
            decay_ms: 500
        }
    );
    assert_eq!(lb("{kind: heap}"), BalancerConfig::Heap);
    assert_eq!(
        lb("{kind: roundRobin, maxEffort: 2}"),
        BalancerConfig::RoundRobin { max_effort: 2 }
    );
    assert_eq!(
        lb("{kind: p2c, maxEffort: 9}"),
        BalancerConfig::P2c { max_effort: 9 }
    );
    // aperture and probation are reported; a key of another kind is an error.
    let (_, _, sev, msg) = one(&format!(
        "{MINIMAL}  client:\n    loadBalancer: {{kind: aperture, lowLoad: 0.5}}\n"
    ));
    assert_eq!(sev, Severity::Unsupported);
    assert!(msg.contains("aperture"), "{msg}");
    let (_, _, sev, msg) = one(&format!(
        "{MINIMAL}  client:\n    loadBalancer: {{kind: p2c, enableProbation: true}}\n"
    ));
    assert_eq!(sev, Severity::Unsupported);
    assert!(msg.contains("enableProbation"), "{msg}");
    let (_, _, sev, msg) = one(&format!(
        "{MINIMAL}  client:\n    loadBalancer: {{kind: heap, decayTimeMs: 5}}\n"
    ));
    assert_eq!(sev, Severity::Error);
    assert!(msg.contains("decayTimeMs"), "{msg}");
}

#[test]
fn address_transformers_are_read_and_the_others_reported() {
    let c = load(&format!(
        "{MINIMAL}  interpreter:\n    kind: default\n    transformers:\n    - kind: io.l5d.localhost\n    - kind: io.l5d.specificHost\n      host: 10.0.0.7\n    - kind: io.l5d.port\n      port: 4141\n    - kind: io.l5d.k8s.localnode\n"
    ));
    assert_eq!(
        c.routers[0].transformers,
        vec![
            TransformerConfig::Localhost,
            TransformerConfig::SpecificHost {
                host: "10.0.0.7".into()
            },
            TransformerConfig::Port { port: 4141 },
            TransformerConfig::LocalNode,
        ]
    );
    let (line, _, sev, msg) = one(&format!(
        "{MINIMAL}  interpreter:\n    transformers:\n    - kind: io.l5d.k8s.daemonset\n      namespace: default\n      service: l5d\n      port: incoming\n"
    ));
    assert_eq!((line, sev), (7, Severity::Unsupported), "{msg}");
    let (_, _, sev, msg) = one(&format!(
        "{MINIMAL}  interpreter:\n    transformers:\n    - kind: io.l5d.port\n"
    ));
    assert_eq!(sev, Severity::Error);
    assert!(msg.contains("needs `port`"), "{msg}");
}

#[test]
fn idle_timeout_is_typed_with_a_default() {
    assert_eq!(load(MINIMAL).runtime.idle_timeout, Duration::from_secs(60));
    let c = load(&format!("runtime:\n  idleTimeoutMs: 1500\n{MINIMAL}"));
    assert_eq!(c.runtime.idle_timeout, Duration::from_millis(1500));
    let (line, _, sev, _) = one(&format!("runtime:\n  idleTimeoutMs: 0\n{MINIMAL}"));
    assert_eq!((line, sev), (2, Severity::Error));
}

#[test]
fn name_transformers_take_a_path() {
    let c = load(&format!(
        "{MINIMAL}  interpreter:\n    transformers:\n    - kind: io.l5d.replace\n      path: /$/inet/127.0.0.1/4141\n    - kind: io.l5d.const\n      path: /#/io.l5d.fs/x\n"
    ));
    assert_eq!(
        c.routers[0].transformers,
        vec![
            TransformerConfig::Replace {
                path: "/$/inet/127.0.0.1/4141".into()
            },
            TransformerConfig::Const {
                path: "/#/io.l5d.fs/x".into()
            },
        ]
    );
    let (_, _, sev, msg) = one(&format!(
        "{MINIMAL}  interpreter:\n    transformers:\n    - kind: io.l5d.const\n      path: not a path\n"
    ));
    assert_eq!(sev, Severity::Error, "{msg}");
}
