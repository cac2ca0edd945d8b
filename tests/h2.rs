//! The HTTP/2 router (`protocol: h2`) end to end: real clients (curl and nghttp with prior
//! knowledge, a Python hyper-h2 client multiplexing many streams on one connection, grpcio)
//! and real servers (a Python hyper-h2 echo server, grpcio servers) through hawser on
//! loopback. Covers per-stream routing (by `:authority`, by gRPC service, by a per-request
//! `l5d-dtab`), the l5d headers upstream, bodies streaming both ways under flow control (1 and
//! 16 MiB, a 4 MiB gRPC message), trailers both ways, every gRPC call kind and status, the
//! failures hawser answers itself (502/400 with `l5d-err`), resets both ways (upstream resets
//! reaching the client, client cancels reaching the upstream), a metric, and `hawser check`
//! on h2 options hawser does not support yet. Not covered here: the HTTP/2 codec itself
//! (hawser-http2's own tests) and load (hawser-bench).

#[path = "support/h2_harness.rs"]
mod harness;
mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use harness::*;
use serde_json::{Value, json};
use support::*;

#[test]
fn curl_get_and_post_reach_the_backend_over_http2_with_l5d_headers() {
    let alpha = H2Backend::start("alpha");
    let proxy = Proxy::start(&to("/svc/web", alpha.port), "", "", 1);

    let r = curl_h2(proxy.port, "/echo?x=1", &["-H", "Host: web"]);
    assert_eq!(r.version, "2", "HTTP/2 to the client: {}", r.stderr);
    assert_eq!(r.response.status, 200, "{r:?}");
    assert_eq!(r.response.header("x-backend"), Some("alpha"), "{r:?}");
    let echo = r.response.json();
    assert_eq!(echo["method"], "GET");
    assert_eq!(echo["path"], "/echo?x=1");
    assert_eq!(echo["authority"], "web");
    // h2_backend.py speaks nothing but HTTP/2 with prior knowledge: that it answered at all
    // means the upstream leg is HTTP/2 too.
    assert_eq!(seen(&echo, "l5d-dst-service"), Some("/svc/web"), "{echo}");
    let client = format!("/$/inet/127.0.0.1/{}", alpha.port);
    assert_eq!(
        seen(&echo, "l5d-dst-client"),
        Some(client.as_str()),
        "{echo}"
    );
    assert!(
        seen(&echo, "l5d-reqid").is_some_and(|id| !id.is_empty()),
        "{echo}"
    );
    let first_conn = echo["peer_port"].clone();

    // A 1 MiB body from a file, streamed up and hashed by the backend.
    let dir = temp_dir("h2-post");
    let file = dir.join("body.bin");
    let body: Vec<u8> = (0..1 << 20).map(|_| fastrand::u8(..)).collect();
    std::fs::write(&file, &body).unwrap();
    let upload = format!("@{}", file.display());
    let r = curl_h2(
        proxy.port,
        "/upload",
        &["-H", "Host: web", "--data-binary", &upload],
    );
    assert_eq!(r.version, "2");
    assert_eq!(r.response.status, 200, "{r:?}");
    let echo = r.response.json();
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["body_len"], 1 << 20);
    assert_eq!(
        echo["body_sha256"],
        sha256_file(&file),
        "the body arrived changed"
    );
    assert_eq!(seen(&echo, "l5d-dst-service"), Some("/svc/web"));
    // Another client connection, the same upstream connection (one core: one pool).
    assert_eq!(
        echo["peer_port"], first_conn,
        "streams of two client connections share the upstream connection"
    );
    assert_eq!(alpha.stats()["requests"], 2);
}

#[test]
fn recent_requests_show_h2_streams() {
    let alpha = H2Backend::start("alpha");
    let (admin, port) = (free_port(), free_port());
    let yaml = h2_config(admin, port, &to("/svc/web", alpha.port), "", "").replace(
        "routers:\n",
        "telemetry:\n- kind: io.l5d.recentRequests\n  sampleRate: 1.0\nrouters:\n",
    );
    let _h = Hawser::start(&yaml, admin, 1);
    for i in 0..3 {
        let r = curl_h2(port, &format!("/echo?i={i}"), &["-H", "Host: web"]);
        assert_eq!(r.response.status, 200, "{r:?}");
    }
    let r = get(admin, "/requests.json").unwrap();
    assert_eq!(r.status, 200);
    let rows: serde_json::Value = serde_json::from_str(&r.body_str()).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 3, "{rows:?}");
    for row in rows {
        assert_eq!(row["logicalName"], "/svc/web");
        assert_eq!(
            row["concreteName"],
            format!("/$/inet/127.0.0.1/{}", alpha.port)
        );
        assert_eq!(row["destination"], format!("127.0.0.1:{}", alpha.port));
        assert_eq!(row["server"], format!("127.0.0.1:{port}"));
        assert!(
            row["source"].as_str().unwrap().starts_with("127.0.0.1:"),
            "{row}"
        );
    }
}

#[test]
fn an_idle_h2_connection_gets_goaway_after_idle_timeout_ms() {
    use std::io::{Read, Write};
    let alpha = H2Backend::start("alpha");
    let (admin, port) = (free_port(), free_port());
    let yaml = h2_config(admin, port, &to("/svc/web", alpha.port), "", "")
        .replace("routers:\n", "runtime:\n  idleTimeoutMs: 300\nrouters:\n");
    let _h = Hawser::start(&yaml, admin, 1);
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    // The preface and an empty SETTINGS, then nothing.
    s.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .unwrap();
    let t = std::time::Instant::now();
    let mut bytes = Vec::new();
    s.read_to_end(&mut bytes).unwrap();
    let waited = t.elapsed();
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(3),
        "closed after {waited:?}"
    );
    // Walk the frames: the last is a GOAWAY (type 7) with NO_ERROR.
    let mut frames = Vec::new();
    let mut at = 0;
    while at + 9 <= bytes.len() {
        let len = u32::from_be_bytes([0, bytes[at], bytes[at + 1], bytes[at + 2]]) as usize;
        frames.push((bytes[at + 3], bytes[at + 9..at + 9 + len].to_vec()));
        at += 9 + len;
    }
    let (kind, payload) = frames.last().expect("frames");
    assert_eq!(*kind, 7, "{frames:?}");
    assert_eq!(&payload[4..8], &[0, 0, 0, 0], "NO_ERROR");
}

#[test]
fn trailers_pass_both_ways() {
    let alpha = H2Backend::start("alpha");
    let proxy = Proxy::start(&to("/svc/web", alpha.port), "", "", 1);
    let request = json!({
        "method": "POST", "path": "/trailers", "authority": "web",
        "body_size": 100_000, "trailers": [["x-request-trailer", "yes"]]
    });
    let out = h2_exchange(proxy.port, vec![request]);
    let r = response(&out, 0);
    let echo = echoed(r, "alpha");
    assert_eq!(echo["body_len"], 100_000);
    assert_eq!(echo["body_sha256"], r["request_body_sha256"], "{r}");
    assert_eq!(
        echo["trailers"],
        json!([["x-request-trailer", "yes"]]),
        "the request's trailers reach the backend"
    );
    let trailers = &r["trailers"];
    assert_eq!(trailers[0], json!(["x-trailer-one", "1"]), "{r}");
    assert_eq!(
        trailers[1],
        json!(["x-body-sha256", r["body_sha256"]]),
        "the response's trailers follow the whole body: {r}"
    );
}

#[test]
fn fifty_concurrent_streams_on_one_connection_route_by_authority() {
    let (alpha, beta) = (H2Backend::start("alpha"), H2Backend::start("beta"));
    let dtab = format!(
        "{}\n{}",
        to("/svc/alpha", alpha.port),
        to("/svc/beta", beta.port)
    );
    let server = "    maxConcurrentStreamsPerConnection: 20\n";
    let proxy = Proxy::start(&dtab, "", server, 1);
    // Each waits 200 ms at the backend, so they overlap; 50 streams over a limit of 20 wait
    // their turn on the client side.
    let requests = (0..50)
        .map(|i| {
            let who = if i % 2 == 0 { "alpha" } else { "beta" };
            let mut r = json!({"path": format!("/slow/200?i={i}"), "authority": who});
            if i % 5 == 0 {
                r = with(r, "method", json!("POST"));
                r = with(r, "body_size", json!(1000 * i + 1));
            }
            r
        })
        .collect();
    let out = h2_exchange(proxy.port, requests);
    assert_eq!(
        out["max_concurrent_streams"], 20,
        "the server setting: {}",
        out["goaway"]
    );
    for i in 0..50 {
        let r = response(&out, i);
        let who = if i % 2 == 0 { "alpha" } else { "beta" };
        let echo = echoed(r, who);
        assert_eq!(echo["path"], format!("/slow/200?i={i}"), "{r}");
        let dst = format!("/svc/{who}");
        assert_eq!(seen(echo, "l5d-dst-service"), Some(dst.as_str()), "{r}");
        if i % 5 == 0 {
            assert_eq!(echo["body_sha256"], r["request_body_sha256"], "{r}");
        }
    }
    assert_eq!(alpha.stats()["requests"], 25);
    assert_eq!(beta.stats()["requests"], 25);

    // h2 requests count per service, like HTTP ones.
    let counted = eventually(Duration::from_secs(5), || {
        let m = get(proxy.hawser.admin, "/metrics").unwrap().body_str();
        let labels = |svc| [("router", "h2"), ("service", svc), ("class", "2xx")];
        metric(&m, "hawser_requests_total", &labels("/svc/alpha")) == Some(25.0)
            && metric(&m, "hawser_requests_total", &labels("/svc/beta")) == Some(25.0)
    });
    assert!(
        counted,
        "hawser_requests_total for h2: {}",
        get(proxy.hawser.admin, "/metrics").unwrap().body_str()
    );
    // 50 streams arriving at once on one shard share one upstream connection per backend: the
    // first stream's connect is awaited by the others instead of each opening its own.
    let m = get(proxy.hawser.admin, "/metrics").unwrap().body_str();
    assert_eq!(
        metric(&m, "hawser_upstream_connects_total", &[("router", "h2")]),
        Some(2.0),
        "{m}"
    );

    // nghttp (nghttp2, another implementation): 50 streams of one URI at once on one
    // connection. nghttp opens them with its preface, before it has read our SETTINGS (limit
    // 20); streams opened before the client acknowledged our SETTINGS are accepted up to 100
    // (RFC 9113 section 6.5.2), so none is refused.
    let url = format!("http://127.0.0.1:{}/slow/50", proxy.port);
    let (code, stdout, stderr) = nghttp(&["-n", "-s", "-m", "50", "-H", ":authority: beta", &url]);
    assert_eq!(code, Some(0), "nghttp: {stderr}");
    let codes = nghttp_codes(&stdout);
    assert_eq!(codes, vec![200; 50], "{}", String::from_utf8_lossy(&stdout));
    assert_eq!(beta.stats()["requests"], 75);
}

#[test]
fn sixteen_mebibytes_stream_through_intact_both_ways() {
    const N: usize = 16 << 20;
    let alpha = H2Backend::start("alpha");
    let proxy = Proxy::start(&to("/svc", alpha.port), "", "", 1);
    let path = format!("/bytes/{N}");

    // curl: a large client window.
    let r = curl_h2(proxy.port, &path, &[]);
    assert_eq!(
        (r.response.status, r.version.as_str()),
        (200, "2"),
        "{}",
        r.stderr
    );
    assert_eq!(r.response.body.len(), N);
    assert_eq!(first_bad_pattern_byte(&r.response.body), None);

    // nghttp with 16 KiB stream and connection windows: ~1000 WINDOW_UPDATEs each way.
    let url = format!("http://127.0.0.1:{}{path}", proxy.port);
    let (code, body, stderr) = nghttp(&["-w", "14", "-W", "14", &url]);
    assert_eq!(code, Some(0), "nghttp: {stderr}");
    assert_eq!(body.len(), N);
    assert_eq!(first_bad_pattern_byte(&body), None);

    // hyper-h2 with a 16 KiB stream window: 16 MiB down and, on a concurrent stream of the
    // same connection, 16 MiB up (neither may hold up the other).
    let up = json!({"method": "POST", "path": "/upload", "body_size": N});
    let plan = json!({"requests": [req(&path), up], "window": 16384, "timeout_ms": 60000});
    let out = h2_plan(proxy.port, plan);
    let down = response(&out, 0);
    assert_eq!(
        (down["status"].clone(), down["ended"].clone()),
        (json!(200), json!(true))
    );
    assert_eq!(down["body_len"], N);
    assert_eq!(down["pattern_ok"], true);
    let up = response(&out, 1);
    let echo = echoed(up, "alpha");
    assert_eq!(echo["body_len"], N);
    assert_eq!(echo["body_sha256"], up["request_body_sha256"]);
}

/// gRPC services: `pkg.Echo` on gamma, `pkg.Other` on delta, routed by service name.
struct Grpc {
    gamma: GrpcPeer,
    delta: GrpcPeer,
    proxy: Proxy,
}

fn grpc_setup() -> Grpc {
    let (gamma, delta) = (GrpcPeer::start("gamma"), GrpcPeer::start("delta"));
    let dtab = format!(
        "{}\n{}",
        to("/svc/pkg.Echo", gamma.port),
        to("/svc/pkg.Other", delta.port)
    );
    let proxy = Proxy::start(&dtab, BY_SERVICE, "", 1);
    Grpc {
        gamma,
        delta,
        proxy,
    }
}

#[test]
fn grpc_unary_calls_route_by_service() {
    let g = grpc_setup();
    let mut c = g.proxy.grpc();
    for i in 0..10 {
        c.echo("/pkg.Echo/Echo", &format!("hello {i}"), "gamma");
        c.echo("/pkg.Other/Echo", &format!("other {i}"), "delta");
    }
    // What the server saw: the l5d headers, as gRPC metadata.
    let r = c.step(unary("/pkg.Other/Meta", ""));
    assert_eq!(r["ok"], true, "{r}");
    let md: Value = serde_json::from_str(r["replies"][0]["body"].as_str().unwrap()).unwrap();
    let get = |k: &str| {
        md.as_array()
            .unwrap()
            .iter()
            .find(|kv| kv[0] == k)
            .map(|kv| kv[1].clone())
    };
    assert_eq!(
        get("l5d-dst-service"),
        Some(json!("/svc/pkg.Other")),
        "{md}"
    );
    let client = format!("/$/inet/127.0.0.1/{}", g.delta.port);
    assert_eq!(get("l5d-dst-client"), Some(json!(client)), "{md}");
    // A 4 MiB message each way.
    let r = c.step(json!({"op": "unary", "method": "/pkg.Echo/Echo", "size": 4 << 20}));
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["replies"][0]["len"], 4 << 20);
    assert_eq!(r["replies"][0]["intact"], true);
    assert_eq!(g.gamma.stats()["calls"], 11);
    assert_eq!(g.delta.stats()["calls"], 11);
}

#[test]
fn grpc_streaming_calls_of_every_kind_pass_through() {
    let g = grpc_setup();
    let mut c = g.proxy.grpc();
    // Server streaming: 100 replies in order.
    let r =
        c.step(json!({"op": "server_stream", "method": "/pkg.Echo/Count", "payload": "100:10"}));
    assert_eq!(r["ok"], true, "{r}");
    let replies = r["replies"].as_array().unwrap();
    assert_eq!(replies.len(), 100, "{r}");
    for (i, rep) in replies.iter().enumerate() {
        assert_eq!(rep["from"], "gamma");
        assert_eq!(rep["body"], format!("{i}:xxxxxxxxxx"));
    }
    // Client streaming: 50 requests summed by the server.
    let messages: Vec<String> = (0..50).map(|i| "m".repeat(i)).collect();
    let r =
        c.step(json!({"op": "client_stream", "method": "/pkg.Other/Sum", "messages": messages}));
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["replies"][0]["from"], "delta");
    let sum: Value = serde_json::from_str(r["replies"][0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(sum["count"], 50);
    assert_eq!(sum["bytes"], (0..50).sum::<usize>());
    // Bidi in lock step: each request goes only after the previous reply came back, so
    // neither direction may wait for the other to end.
    let messages: Vec<String> = (0..20).map(|i| format!("turn {i}")).collect();
    let r = c.step(json!({"op": "bidi", "method": "/pkg.Echo/Chat", "messages": messages}));
    assert_eq!(r["ok"], true, "{r}");
    let replies = r["replies"].as_array().unwrap();
    assert_eq!(replies.len(), 20, "{r}");
    for (rep, m) in replies.iter().zip(&messages) {
        assert_eq!(rep["from"], "gamma");
        assert_eq!(rep["body"], m.as_str());
    }
}

#[test]
fn grpc_error_status_arrives_with_code_and_details() {
    let g = grpc_setup();
    let mut c = g.proxy.grpc();
    for (method, from) in [("/pkg.Echo/Fail", "gamma"), ("/pkg.Other/Fail", "delta")] {
        let r = c.step(unary(method, ""));
        assert_eq!(r["ok"], false, "{r}");
        assert_eq!(r["code"], "NOT_FOUND", "grpc-status in the trailers: {r}");
        assert_eq!(
            r["details"],
            format!("nope from {from}"),
            "grpc-message: {r}"
        );
    }
    // A method the server lacks: its own UNIMPLEMENTED, not hawser's.
    let r = c.step(unary("/pkg.Echo/NoSuchMethod", ""));
    assert_eq!(r["code"], "UNIMPLEMENTED", "{r}");
    c.echo("/pkg.Echo/Echo", "after the errors", "gamma");
}

#[test]
fn grpc_deadline_and_cancel_reach_the_server_and_hawser_keeps_serving() {
    let g = grpc_setup();
    let mut c = g.proxy.grpc();
    // A client cancel (RST_STREAM CANCEL, no deadline involved) reaches the server: its
    // handler sees the call end long before its 5 s wait would.
    let r = c.step(
        json!({"op": "cancel", "method": "/pkg.Echo/Slow", "payload": "5000", "after_ms": 300}),
    );
    assert_eq!(r["code"], "CANCELLED", "{r}");
    let cancelled = eventually(Duration::from_secs(3), || g.gamma.stats()["cancelled"] == 1);
    assert!(
        cancelled,
        "the server never saw the cancel: {}",
        g.gamma.stats()
    );
    c.echo("/pkg.Echo/Echo", "after the cancel", "gamma");
    // A deadline shorter than the server's delay.
    let slow =
        json!({"op": "unary", "method": "/pkg.Echo/Slow", "payload": "2000", "timeout_ms": 300});
    let r = c.step(slow);
    assert_eq!(r["code"], "DEADLINE_EXCEEDED", "{r}");
    c.echo("/pkg.Echo/Echo", "after the deadline", "gamma");
    // A fresh channel is served too.
    g.proxy
        .grpc()
        .echo("/pkg.Other/Echo", "new channel", "delta");
}

#[test]
fn client_reset_cancels_the_upstream_stream() {
    let alpha = H2Backend::start("alpha");
    let proxy = Proxy::start(&to("/svc", alpha.port), "", "", 1);
    let plan = vec![
        with(req("/slow/5000"), "cancel_after_ms", json!(200)),
        with(req("/slow/100"), "after", json!(0)),
    ];
    let out = h2_exchange(proxy.port, plan);
    assert_eq!(response(&out, 0)["cancelled"], true);
    echoed(response(&out, 1), "alpha");
    let seen_reset = eventually(Duration::from_secs(3), || alpha.stats()["resets"] == 1);
    let stats = alpha.stats();
    assert!(seen_reset, "the upstream stream was not reset: {stats}");
    assert_eq!(stats["reset_paths"], json!(["/slow/5000"]));
}

/// A router where `/svc/web` reaches alpha, `/svc/nil` binds to `/$/nil`, `/svc/refused` a
/// port nothing listens on, and nothing else binds.
struct Failures {
    alpha: H2Backend,
    dead: u16,
    proxy: Proxy,
}

fn failures(extra: &str) -> Failures {
    let alpha = H2Backend::start("alpha");
    let dead = free_port();
    let dtab = format!(
        "{}\n/svc/nil => /$/nil;\n{}",
        to("/svc/web", alpha.port),
        to("/svc/refused", dead)
    );
    let proxy = Proxy::start(&dtab, extra, "", 1);
    Failures { alpha, dead, proxy }
}

#[test]
fn no_endpoints_and_refused_upstream_are_502_with_l5d_err() {
    let f = failures("");
    for name in ["nowhere", "nil"] {
        let r = curl_h2(f.proxy.port, "/", &["-H", &format!("Host: {name}")]);
        assert_eq!((r.response.status, r.version.as_str()), (502, "2"), "{r:?}");
        let err = l5d_err(&r.response).unwrap_or_else(|| panic!("no l5d-err: {r:?}"));
        let want = format!("No hosts are available for /svc/{name}");
        assert!(err.starts_with(&want), "want {want:?}: {err}");
        assert!(!r.response.body.is_empty(), "a text body: {r:?}");
    }
    let r = curl_h2(f.proxy.port, "/", &["-H", "Host: refused"]);
    assert_eq!(r.response.status, 502, "{r:?}");
    let err = l5d_err(&r.response).unwrap_or_else(|| panic!("no l5d-err: {r:?}"));
    let want = format!("connection to 127.0.0.1:{} failed", f.dead);
    assert!(err.contains(&want), "want {want:?}: {err}");
    // The same failures among good streams on one connection.
    let out = h2_exchange(
        f.proxy.port,
        vec![
            with(req("/a"), "authority", json!("web")),
            with(req("/b"), "authority", json!("nowhere")),
            with(req("/c"), "authority", json!("refused")),
            with(req("/d"), "authority", json!("web")),
        ],
    );
    echoed(response(&out, 0), "alpha");
    for i in [1, 2] {
        let r = response(&out, i);
        assert_eq!(
            (r["status"].clone(), r["ended"].clone()),
            (json!(502), json!(true)),
            "{r}"
        );
        assert!(header_of(r, "l5d-err").is_some(), "{r}");
    }
    echoed(response(&out, 3), "alpha");
    assert_eq!(f.alpha.stats()["requests"], 2);
}

#[test]
fn grpc_calls_to_nowhere_fail_unavailable() {
    let gamma = GrpcPeer::start("gamma");
    let dead = free_port();
    let dtab = format!(
        "{}\n{}",
        to("/svc/pkg.Echo", gamma.port),
        to("/svc/pkg.Refused", dead)
    );
    let proxy = Proxy::start(&dtab, BY_SERVICE, "", 1);
    let mut c = proxy.grpc();
    // grpcio maps the HTTP status of a non-gRPC answer: 502 is UNAVAILABLE. It does not expose
    // the headers of such an answer, so l5d-err is checked below with a plain h2 client.
    for method in ["/pkg.Nowhere/Echo", "/pkg.Refused/Echo"] {
        let r = c.step(unary(method, "x"));
        assert_eq!(r["code"], "UNAVAILABLE", "{method}: {r}");
        assert!(
            r["details"].as_str().is_some_and(|d| d.contains("502")),
            "{method}: {r}"
        );
        c.echo("/pkg.Echo/Echo", "same channel", "gamma");
    }
    let grpc_headers = json!([["content-type", "application/grpc"], ["te", "trailers"]]);
    let call = |path: &str| json!({"method": "POST", "path": path, "headers": grpc_headers, "body_size": 5});
    let out = h2_exchange(
        proxy.port,
        vec![call("/pkg.Nowhere/Echo"), call("/pkg.Refused/Echo")],
    );
    let r = as_response(response(&out, 0));
    assert_eq!(r.status, 502, "{out}");
    let err = l5d_err(&r).unwrap_or_default();
    assert!(
        err.starts_with("No hosts are available for /svc/pkg.Nowhere"),
        "{err}"
    );
    let r = as_response(response(&out, 1));
    assert_eq!(r.status, 502, "{out}");
    let err = l5d_err(&r).unwrap_or_default();
    assert!(
        err.contains(&format!("connection to 127.0.0.1:{dead} failed")),
        "{err}"
    );
}

#[test]
fn bad_l5d_dtab_and_unidentifiable_requests_are_400() {
    let f = failures("  identifier:\n    kind: io.l5d.header.token\n    header: x-svc\n");
    let r = curl_h2(
        f.proxy.port,
        "/",
        &["-H", "x-svc: web", "-H", "l5d-dtab: /svc/web =>"],
    );
    assert_eq!(r.response.status, 400, "{r:?}");
    assert!(l5d_err(&r.response).is_some(), "{r:?}");
    // No x-svc header: nothing to name the request by.
    let r = curl_h2(f.proxy.port, "/", &[]);
    assert_eq!(r.response.status, 400, "{r:?}");
    // hawser answered both itself; a good request on the same router still goes through.
    let r = curl_h2(f.proxy.port, "/", &["-H", "x-svc: web"]);
    assert_eq!(r.response.status, 200, "{r:?}");
    assert_eq!(
        seen(&r.response.json(), "l5d-dst-service"),
        Some("/svc/web")
    );
    assert_eq!(f.alpha.stats()["requests"], 1);
}

#[test]
fn upstream_reset_mid_response_resets_only_that_stream() {
    let f = failures("");
    let web = |path: &str| with(req(path), "authority", json!("web"));
    let out = h2_exchange(
        f.proxy.port,
        vec![
            web("/reset"),
            web("/slow/500"),
            with(web("/after"), "after", json!(0)),
        ],
    );
    let reset = response(&out, 0);
    assert_eq!(reset["status"], 200, "the response had started: {reset}");
    assert_eq!(reset["ended"], false, "{reset}");
    assert!(
        reset["reset"].is_string(),
        "the client sees the stream reset: {reset}"
    );
    echoed(response(&out, 1), "alpha");
    echoed(response(&out, 2), "alpha");
    assert_eq!(out["goaway"], Value::Null, "the connection lives on: {out}");
}

#[test]
fn l5d_dtab_header_overrides_routing_per_request() {
    let (alpha, beta) = (H2Backend::start("alpha"), H2Backend::start("beta"));
    let proxy = Proxy::start(&to("/svc/web", alpha.port), "", "", 1);
    let dentry = format!("/svc/web => /$/inet/127.0.0.1/{}", beta.port);
    let r = curl_h2(
        proxy.port,
        "/",
        &["-H", "Host: web", "-H", &format!("l5d-dtab: {dentry}")],
    );
    assert_eq!(r.response.status, 200, "{r:?}");
    assert_eq!(r.response.header("x-backend"), Some("beta"));
    let ctx = seen(&r.response.json(), "l5d-ctx-dtab")
        .map(|d| d.replace(' ', ""))
        .unwrap_or_default();
    assert!(
        ctx.contains(&dentry.replace(' ', "")),
        "the override goes upstream as l5d-ctx-dtab: {ctx:?}"
    );
    // On one connection: the override applies to its own stream only.
    let web = |path: &str| with(req(path), "authority", json!("web"));
    let over = with(web("/over"), "headers", json!([["l5d-dtab", dentry]]));
    let out = h2_exchange(proxy.port, vec![web("/plain"), over, web("/plain2")]);
    echoed(response(&out, 0), "alpha");
    echoed(response(&out, 1), "beta");
    echoed(response(&out, 2), "alpha");
}

/// An h2 router with every option hawser supports.
const CHECK_GOOD: &str = "admin:
  ip: 127.0.0.1
  port: 9990
routers:
- protocol: h2
  label: h2
  experimental: true
  dtab: |
    /svc => /$/inet/127.0.0.1/9090;
  dstPrefix: /svc
  identifier:
    kind: io.l5d.header.token
    header: \":authority\"
  servers:
  - ip: 127.0.0.1
    port: 4142
    maxConcurrentStreamsPerConnection: 100
  client: {}
";

#[test]
fn check_accepts_h2_and_reports_unsupported_h2_options_at_their_lines() {
    let dir = temp_dir("h2-check");
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let check = |p: &Path| hawser_cmd(&["check", p.to_str().unwrap()], Duration::from_secs(20));
    let good = [
        CHECK_GOOD.to_string(),
        CHECK_GOOD.replace(
            "    kind: io.l5d.header.token\n    header: \":authority\"\n",
            "    kind: io.l5d.header.path\n    segments: 1\n",
        ),
        "routers:\n- protocol: h2\n  dtab: /svc => /$/inet/127.0.0.1/9090;\n  servers:\n  - port: 4142\n"
            .to_string(),
    ];
    for (i, text) in good.iter().enumerate() {
        let r = check(&write(&format!("good{i}.yaml"), text));
        assert_eq!(r.code(), 0, "good config {i}: {}", r.all());
    }

    // (text inserted or replaced, the key, the line it is on)
    let cases = [
        (
            CHECK_GOOD.replace(
                "    maxConcurrentStreamsPerConnection: 100\n",
                "    maxConcurrentStreamsPerConnection: 100\n    tls:\n      certPath: /c.pem\n      keyPath: /k.pem\n",
            ),
            "tls",
            18,
        ),
        (
            CHECK_GOOD.replace("  client: {}\n", "  client:\n    windowUpdateRatio: 0.99\n"),
            "windowUpdateRatio",
            19,
        ),
        (
            CHECK_GOOD.replace("  dstPrefix: /svc\n", "  dstPrefix: /svc\n  h2AccessLog: /tmp/h2.log\n"),
            "h2AccessLog",
            11,
        ),
    ];
    for (i, (text, key, line)) in cases.into_iter().enumerate() {
        assert_ne!(text, CHECK_GOOD, "case {i} changed nothing");
        assert!(
            text.lines()
                .nth(line - 1)
                .is_some_and(|l| l.trim_start().starts_with(key)),
            "case {i}: line {line} is {key}"
        );
        let p = write(&format!("case{i}.yaml"), &text);
        let r = check(&p);
        // Not supported yet is exit 1 (an error would be 2), at `file:line:`, naming the key.
        assert_eq!(r.code(), 1, "case {i} ({key}): {}", r.all());
        let want = format!("{}:{line}:", p.display());
        assert!(
            r.all()
                .lines()
                .any(|l| l.starts_with(&want) && l.contains(key)),
            "case {i}: want a line starting {want} naming {key}: {}",
            r.all()
        );
        assert!(r.all().contains("not support"), "{}", r.all());
    }
}

#[test]
fn http1_clients_get_a_readable_505_and_a_preface_in_pieces_is_fine() {
    require_h2();
    let backend = H2Backend::start("web");
    let proxy = Proxy::start(&to("/svc", backend.port), "", "", 1);
    // curl without --http2-prior-knowledge speaks HTTP/1.1: it gets an HTTP/1.1 answer.
    let out = Command::new("curl")
        .args(["-s", "-i", "--max-time", "10"])
        .arg(format!("http://127.0.0.1:{}/", proxy.port))
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("HTTP/1.1 505 HTTP Version Not Supported\r\n"),
        "{text}"
    );
    assert!(text.contains("l5d-err: "), "{text}");
    // A client whose preface arrives a few bytes at a time is served as usual.
    let script = r#"
import socket, sys, time
import h2.connection, h2.config, h2.events
c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
c.initiate_connection()
c.send_headers(1, [(":method", "GET"), (":scheme", "http"), (":authority", "web"), (":path", "/x")], end_stream=True)
data = c.data_to_send()
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
for i in range(0, 30, 3):
    s.sendall(data[i:i + 3]); time.sleep(0.02)
s.sendall(data[30:])
status = None
while status is None:
    chunk = s.recv(65536)
    if not chunk: break
    for e in c.receive_data(chunk):
        if isinstance(e, h2.events.ResponseReceived):
            status = dict(e.headers)[b":status"].decode()
    s.sendall(c.data_to_send())
print(status)
"#;
    let out = Command::new("python3")
        .args(["-c", script, &proxy.port.to_string()])
        .output()
        .expect("python3");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "200",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn total_timeout_answers_a_slow_stream_with_504() {
    let backend = H2Backend::start("web");
    let proxy = Proxy::start(
        &to("/svc", backend.port),
        "  service:\n    totalTimeoutMs: 300\n",
        "",
        1,
    );
    let started = std::time::Instant::now();
    let r = curl_h2(proxy.port, "/slow/3000", &["-H", "Host: web"]);
    assert_eq!(r.response.status, 504, "{:?}", r.response);
    assert_eq!(
        l5d_err(&r.response).as_deref(),
        Some("exceeded 300 ms to /svc/web while waiting for a response for the request")
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let r = curl_h2(proxy.port, "/slow/10", &["-H", "Host: web"]);
    assert_eq!(r.response.status, 200);
}

#[test]
fn a_refused_endpoint_is_requeued_to_another_and_then_left_alone() {
    let live = H2Backend::start("live");
    let dead = free_port(); // nothing listens: connects are refused
    let disco = temp_dir("h2-disco");
    std::fs::write(
        disco.join("web"),
        format!("127.0.0.1 {dead}\n127.0.0.1 {}\n", live.port),
    )
    .unwrap();
    let namers = format!(
        "namers:\n- kind: io.l5d.fs\n  rootDir: {}\n",
        disco.display()
    );
    let (admin, port) = (free_port(), free_port());
    let yaml = format!(
        "admin: {{ip: 127.0.0.1, port: {admin}}}\n{namers}routers:\n- protocol: h2\n  dtab: /svc => /#/io.l5d.fs;\n  servers:\n  - {{ip: 127.0.0.1, port: {port}}}\n"
    );
    let _h = Hawser::start(&yaml, admin, 1);
    for i in 0..20 {
        let r = curl_h2(port, &format!("/{i}"), &["-H", "Host: web"]);
        assert_eq!(r.response.status, 200, "request {i}: {:?}", r.response);
    }
    // Five refused connects in a row would have marked the dead endpoint out of rotation;
    // either way every request was answered by the live one.
    let m = get(admin, "/metrics").unwrap().body_str();
    let failures = metric(
        &m,
        "hawser_client_failures_total",
        &[("client", "/#/io.l5d.fs/web")],
    )
    .unwrap_or(0.0);
    assert!(
        failures <= 5.0,
        "{failures} connects to the dead endpoint\n{m}"
    );
}

#[test]
fn interim_responses_are_relayed_before_the_final_one() {
    let backend = H2Backend::start("web");
    let proxy = Proxy::start(&to("/svc", backend.port), "", "", 1);
    let out = Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "10",
            "--http2-prior-knowledge",
            "-D",
            "-",
            "-o",
            "/dev/null",
        ])
        .args(["-H", "Host: web"])
        .arg(format!("http://127.0.0.1:{}/early-hints", proxy.port))
        .output()
        .expect("curl");
    let head = String::from_utf8_lossy(&out.stdout);
    let statuses: Vec<&str> = head
        .lines()
        .filter(|l| l.starts_with("HTTP/2 "))
        .map(str::trim)
        .collect();
    assert_eq!(statuses, ["HTTP/2 103", "HTTP/2 200"], "{head}");
    assert!(head.contains("link: </style.css>; rel=preload"), "{head}");
}

#[test]
fn the_strictest_incoming_deadline_is_propagated() {
    let backend = H2Backend::start("web");
    let proxy = Proxy::start(&to("/svc", backend.port), "", "", 1);
    let r = curl_h2(
        proxy.port,
        "/",
        &[
            "-H",
            "Host: web",
            "-H",
            "l5d-ctx-deadline: 3 9000000000000000000",
            "-H",
            "l5d-ctx-deadline: 1 8000000000000000000",
        ],
    );
    assert_eq!(r.response.status, 200, "{r:?}");
    let echo = r.response.json();
    assert_eq!(
        seen(&echo, "l5d-ctx-deadline"),
        Some("1 8000000000000000000"),
        "{echo}"
    );
}
