//! Unit tests: linkerd 1.x features hawser reports as unsupported, each at its line, and the
//! things it deliberately accepts because they change nothing.

use super::*;

fn unsupported(text: &str) -> Vec<(usize, usize, String, String)> {
    let r = check_str(text, "t.yaml");
    for d in &r.diagnostics {
        assert_eq!(d.severity, Severity::Unsupported, "{d}");
    }
    r.diagnostics
        .into_iter()
        .map(|d| (d.line, d.col, d.key_path, d.message))
        .collect()
}

const ROUTER: &str = "routers:\n- protocol: http\n  servers:\n  - port: 4140\n";

#[test]
fn unsupported_kinds_name_the_kind_and_section() {
    let text = format!("namers:\n- kind: io.l5d.k8s\n  host: localhost\n{ROUTER}");
    assert_eq!(
        unsupported(&text),
        [(
            2,
            9,
            "namers[0].kind".into(),
            "`kind: io.l5d.k8s` (namer) is a linkerd 1.x feature hawser does not support yet"
                .into()
        )]
    );
}

#[test]
fn unsupported_keys_are_reported_at_the_key() {
    let text = format!(
        "{ROUTER}    tls:\n      certPath: a\n  client:\n    tls: {{commonName: x}}\n    requestAttemptTimeoutMs: 100\n  bindingCache:\n    paths: 10\n  maxRequestKB: 5\n"
    );
    let got: Vec<(usize, String)> = unsupported(&text).into_iter().map(|d| (d.0, d.2)).collect();
    assert_eq!(
        got,
        [
            (5, "routers[0].servers[0].tls".to_string()),
            (8, "routers[0].client.tls".to_string()),
            (9, "routers[0].client.requestAttemptTimeoutMs".to_string()),
            (10, "routers[0].bindingCache".to_string()),
            (12, "routers[0].maxRequestKB".to_string()),
        ]
    );
}

#[test]
fn other_protocols_are_one_diagnostic_but_still_key_checked() {
    let text = "routers:\n- protocol: mux\n  experimental: true\n  servers:\n  - port: 4141\n";
    assert_eq!(
        unsupported(text),
        [(
            2,
            13,
            "routers[0].protocol".into(),
            "`protocol: mux` (routers[0]) is a linkerd 1.x feature hawser does not support yet"
                .into()
        )]
    );
    // A typo in an unsupported router is still an error.
    let r = check_str(
        "routers:\n- protocol: thrift\n  thriftMethodInDest: true\n  servers: []\n",
        "t.yaml",
    );
    assert_eq!(r.exit_code(), 2);
    assert!(
        r.diagnostics.iter().any(|d| d.message
            == "unknown key `thriftMethodInDest` in routers[0]; did you mean `thriftMethodInDst`?"),
        "{:#?}",
        r.diagnostics
    );
}

#[test]
fn third_party_kinds_are_unsupported_not_errors() {
    let text = format!("telemetry:\n- kind: io.zipkin.http\n  host: z\n{ROUTER}");
    let d = unsupported(&text);
    assert_eq!(
        d[0].3,
        "`kind: io.zipkin.http` (telemeter) is not a linkerd 1.x built-in (a plugin?); hawser does not support it"
    );
    // ...but a near miss of a built-in is a typo.
    let r = check_str(
        &format!("telemetry:\n- kind: io.l5d.prometeus\n{ROUTER}"),
        "t.yaml",
    );
    assert_eq!(
        r.diagnostics[0].message,
        "unknown telemeter kind `io.l5d.prometeus`; did you mean `io.l5d.prometheus`?"
    );
    assert_eq!(r.diagnostics[0].severity, Severity::Error);
}

#[test]
fn pool_settings_hawser_cannot_honour_are_reported() {
    let text = format!(
        "{ROUTER}  client:\n    hostConnectionPool:\n      minSize: 2\n      maxWaiters: 10\n"
    );
    let d = unsupported(&text);
    assert_eq!(
        (d[0].0, d[0].2.as_str()),
        (7, "routers[0].client.hostConnectionPool.minSize")
    );
    assert_eq!(
        (d[1].0, d[1].2.as_str()),
        (8, "routers[0].client.hostConnectionPool.maxWaiters")
    );
}

#[test]
fn static_client_and_service_and_namerd_interpreter_are_unsupported() {
    let text = format!(
        "{ROUTER}  client:\n    kind: io.l5d.static\n    configs:\n    - prefix: /svc\n  service:\n    kind: io.l5d.static\n    configs: []\n  interpreter:\n    kind: io.l5d.namerd\n    dst: /$/inet/namerd/4100\n"
    );
    let paths: Vec<String> = unsupported(&text).into_iter().map(|d| d.2).collect();
    assert_eq!(
        paths,
        [
            "routers[0].client.kind",
            "routers[0].service.kind",
            "routers[0].interpreter.kind"
        ]
    );
}

#[test]
fn host_names_and_streaming_off_are_unsupported() {
    let text = "admin:\n  ip: localhost\nrouters:\n- protocol: http\n  streamingEnabled: false\n  servers:\n  - port: 1\n";
    let d = unsupported(text);
    assert_eq!((d[0].0, d[0].1), (2, 7));
    assert!(d[0].3.contains("a host name here"), "{}", d[0].3);
    assert_eq!(
        (d[1].0, d[1].2.as_str()),
        (5, "routers[0].streamingEnabled")
    );
}

#[test]
fn settings_that_change_nothing_are_accepted() {
    // Usage reporting (hawser never reports), failure accrual `none` (hawser has none), the
    // default response classifier (hawser does not retry), the default interpreter, and
    // `experimental: true`.
    let text = format!(
        "usage:\n  orgId: x\n  enabled: true\n{ROUTER}  experimental: true\n  interpreter: {{kind: default}}\n  client:\n    failureAccrual: {{kind: none}}\n  service:\n    responseClassifier: {{kind: io.l5d.http.nonRetryable5XX}}\n"
    );
    assert!(load_str(&text, "t.yaml").is_ok());
    // Unknown keys inside usage are still errors.
    let r = check_str(&format!("usage:\n  orgid: x\n{ROUTER}"), "t.yaml");
    assert_eq!(
        r.diagnostics[0].message,
        "unknown key `orgid` in usage; did you mean `orgId`?"
    );
}
