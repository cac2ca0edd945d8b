//! The HTTP/1.1 proxy end to end: real clients (curl, raw sockets) through
//! hawser to a real origin server (Python), on loopback.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use support::*;

struct Setup {
    hawser: Hawser,
    port: u16,
    backend: Backend,
}

fn setup(cores: usize) -> Setup {
    let backend = Backend::start("web");
    let disco = temp_dir("disco");
    write_service(&disco, "web", &format!("127.0.0.1 {}\n", backend.port));
    let (admin, port) = (free_port(), free_port());
    let hawser = Hawser::start(&fs_config(admin, port, &disco, ""), admin, cores);
    Setup {
        hawser,
        port,
        backend,
    }
}

#[test]
fn get_is_routed_by_host_with_l5d_headers_and_hop_by_hop_removed() {
    let s = setup(1);
    let req = "GET /hello?x=1 HTTP/1.1\r\nHost: web\r\nConnection: close, x-private\r\nx-private: secret\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nProxy-Connection: keep-alive\r\nx-keep: yes\r\n\r\n";
    let raw = raw_exchange(s.port, req.as_bytes(), Duration::from_secs(5)).unwrap();
    let r = &parse_responses(&raw)[0];
    assert_eq!(r.status, 200, "{}", r.body_str());
    let echo = r.json();
    assert_eq!(echo["target"], "/hello?x=1");
    assert_eq!(seen_header(&echo, "host").as_deref(), Some("web"));
    assert_eq!(seen_header(&echo, "x-keep").as_deref(), Some("yes"));
    assert_eq!(
        seen_header(&echo, "l5d-dst-service").as_deref(),
        Some("/svc/web")
    );
    assert_eq!(
        seen_header(&echo, "l5d-dst-client").as_deref(),
        Some("/#/io.l5d.fs/web")
    );
    assert_eq!(seen_header(&echo, "via").as_deref(), Some("1.1 hawser"));
    let reqid = seen_header(&echo, "l5d-reqid").expect("l5d-reqid");
    assert_eq!(reqid.len(), 16);
    for hop in ["x-private", "keep-alive", "te", "proxy-connection"] {
        assert_eq!(seen_header(&echo, hop), None, "{hop} must not be forwarded");
    }
    // The client asked to close: the response says so and the connection ends.
    assert_eq!(r.header("connection"), Some("close"));
}

#[test]
fn keep_alive_on_both_sides_reuses_connections() {
    let s = setup(1);
    let mut c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut peers = Vec::new();
    for i in 0..5 {
        write!(c, "GET /n/{i} HTTP/1.1\r\nHost: web\r\n\r\n").unwrap();
        let r = read_one_response(&mut c);
        assert_eq!(r.status, 200);
        assert_eq!(r.json()["target"], format!("/n/{i}"));
        peers.push(r.json()["peer_port"].as_u64().unwrap());
    }
    peers.dedup();
    assert_eq!(
        peers.len(),
        1,
        "one pooled upstream connection serves all five: {peers:?}"
    );
}

/// Reads exactly one response (Content-Length or chunked) from a kept-alive connection.
fn read_one_response(c: &mut TcpStream) -> Response {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 65536];
    loop {
        let parsed = parse_responses(&buf);
        if let Some(r) = parsed.first() {
            let complete = match r.header("content-length") {
                Some(cl) => r.body.len() == cl.parse::<usize>().unwrap(),
                None => buf.ends_with(b"0\r\n\r\n"),
            };
            if complete {
                return r.clone();
            }
        }
        let n = c.read(&mut tmp).expect("response within the timeout");
        assert!(
            n > 0,
            "connection closed early: {}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&tmp[..n]);
    }
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let s = setup(1);
    let mut req = String::new();
    for i in 0..4 {
        req.push_str(&format!("GET /p/{i} HTTP/1.1\r\nHost: web\r\n\r\n"));
    }
    req.push_str("GET /p/last HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n");
    let raw = raw_exchange_open(s.port, req.as_bytes(), Duration::from_secs(5));
    let rs = parse_responses(&raw);
    let targets: Vec<String> = rs
        .iter()
        .map(|r| r.json()["target"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(targets, ["/p/0", "/p/1", "/p/2", "/p/3", "/p/last"]);
}

#[test]
fn http10_client_gets_a_response_and_the_connection_closes() {
    let s = setup(1);
    let raw = raw_exchange_open(
        s.port,
        b"GET /old HTTP/1.0\r\nHost: web\r\n\r\n",
        Duration::from_secs(5),
    );
    let r = &parse_responses(&raw)[0];
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["target"], "/old");
    // A chunked upstream body must reach a 1.0 client unchunked (close-delimited).
    let raw = raw_exchange_open(
        s.port,
        b"GET /chunked/1000 HTTP/1.0\r\nHost: web\r\n\r\n",
        Duration::from_secs(5),
    );
    let text = String::from_utf8_lossy(&raw);
    assert!(
        !text.to_ascii_lowercase().contains("transfer-encoding"),
        "{text}"
    );
    assert!(
        raw.ends_with(&[b'x'; 1000]),
        "body intact and close-delimited"
    );
    // HTTP/1.0 with keep-alive is honoured.
    let mut c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    for _ in 0..2 {
        c.write_all(b"GET /ka HTTP/1.0\r\nHost: web\r\nConnection: keep-alive\r\n\r\n")
            .unwrap();
        let r = read_one_response(&mut c);
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("connection")
                .map(str::to_ascii_lowercase)
                .as_deref(),
            Some("keep-alive")
        );
    }
}

#[test]
fn request_bodies_stream_by_length_and_chunked_with_trailers() {
    let s = setup(1);
    let body = vec![b'a'; 200_000];
    let dir = temp_dir("body");
    let f = dir.join("body.bin");
    std::fs::write(&f, &body).unwrap();
    let sha = {
        let o = std::process::Command::new("sha256sum")
            .arg(&f)
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout)
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    };
    for chunked in [false, true] {
        let mut args = vec!["-H", "Host: web"];
        if chunked {
            args.extend(["-H", "Transfer-Encoding: chunked"]);
        }
        let at = format!("@{}", f.display());
        let url = format!("http://127.0.0.1:{}/upload", s.port);
        args.extend(["--data-binary", &at, &url]);
        let out = curl(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let echo: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(echo["body_len"], 200_000, "chunked={chunked}");
        assert_eq!(echo["body_sha256"], sha.as_str(), "chunked={chunked}");
        assert_eq!(
            seen_header(&echo, "transfer-encoding").is_some(),
            chunked,
            "framing is kept: chunked={chunked}"
        );
    }
    // Trailers of a chunked request are forwarded after the last chunk.
    let req = b"POST /t HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\nx-sum: 5\r\n\r\n";
    let raw = raw_exchange_open(s.port, req, Duration::from_secs(5));
    let r = &parse_responses(&raw)[0];
    assert_eq!(r.status, 200, "{}", r.body_str());
    assert_eq!(r.json()["body_len"], 5);
}

#[test]
fn response_bodies_stream_in_every_framing() {
    let s = setup(1);
    for (path, len) in [("bytes", 300_000), ("chunked", 300_000), ("close", 300_000)] {
        let out = curl(&[
            "-H",
            "Host: web",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{size_download}",
            &format!("http://127.0.0.1:{}/{path}/{len}", s.port),
        ]);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("200 {len}"),
            "{path}"
        );
    }
    // A close-delimited upstream body reaches a 1.1 client chunked, so the
    // client connection survives: two requests on one connection.
    let mut c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    for _ in 0..2 {
        c.write_all(b"GET /close/1000 HTTP/1.1\r\nHost: web\r\n\r\n")
            .unwrap();
        let r = read_one_response(&mut c);
        assert_eq!(r.header("transfer-encoding"), Some("chunked"));
        assert_eq!(r.body.len(), 1000);
    }
    // Chunked trailers reach a 1.1 client.
    let raw = raw_exchange_open(
        s.port,
        b"GET /chunked/10 HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    );
    assert!(String::from_utf8_lossy(&raw).contains("x-checksum: done"));
    // HEAD keeps Content-Length and sends no body.
    let raw = raw_exchange_open(
        s.port,
        b"HEAD /bytes/5000 HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    );
    let text = String::from_utf8_lossy(&raw);
    assert!(text.contains("Content-Length: 5000"), "{text}");
    assert!(
        text.ends_with("\r\n\r\n"),
        "no body after a HEAD response: {text}"
    );
}

#[test]
fn expect_100_continue_is_relayed() {
    let s = setup(1);
    let dir = temp_dir("expect");
    let f = dir.join("b");
    std::fs::write(&f, vec![b'z'; 50_000]).unwrap();
    let at = format!("@{}", f.display());
    let out = curl(&[
        "-v",
        "-H",
        "Host: web",
        "-H",
        "Expect: 100-continue",
        "--expect100-timeout",
        "10",
        "--data-binary",
        &at,
        &format!("http://127.0.0.1:{}/e", s.port),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("HTTP/1.1 100 Continue"), "{err}");
    let echo: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(echo["body_len"], 50_000);
    // An upstream that refuses before the body: the client gets the final answer.
    let out = curl(&[
        "-H",
        "Host: web",
        "-H",
        "Expect: 100-continue",
        "--expect100-timeout",
        "10",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "--data-binary",
        &at,
        &format!("http://127.0.0.1:{}/early417", s.port),
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "417");
    // An expectation other than 100-continue is refused by hawser itself.
    let raw = raw_exchange_open(
        s.port,
        b"GET / HTTP/1.1\r\nHost: web\r\nExpect: teapot\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    );
    assert_eq!(parse_responses(&raw)[0].status, 417);
}

#[test]
fn upgrade_is_tunnelled_only_after_101() {
    let s = setup(1);
    let mut c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    c.write_all(
        b"GET /upgrade HTTP/1.1\r\nHost: web\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n",
    )
    .unwrap();
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(c.read(&mut b).unwrap(), 1);
        head.push(b[0]);
    }
    let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
    assert!(text.starts_with("http/1.1 101"), "{text}");
    assert!(text.contains("upgrade: echo"), "{text}");
    for msg in [&b"ping"[..], b"tunnelled bytes both ways"] {
        c.write_all(msg).unwrap();
        let mut got = vec![0u8; msg.len()];
        c.read_exact(&mut got).unwrap();
        assert_eq!(got, msg);
    }
    // Without Upgrade in the request, the backend's 101 is not tunnelled.
    let raw = raw_exchange_open(
        s.port,
        b"GET /upgrade HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    );
    let r = &parse_responses(&raw)[0];
    assert_eq!(r.status, 502);
    assert!(r.header("l5d-err").is_some());
}

#[test]
fn two_shards_share_the_port_and_serve_every_connection() {
    let s = setup(2);
    for i in 0..40 {
        let r = send(s.port, &format!("/c/{i}"), Some("web"), &[]);
        assert_eq!(r.status, 200);
    }
    assert!(backend_count(s.backend.port) >= 40);
    let _ = &s.hawser;
}

#[test]
fn one_gib_each_way_keeps_rss_flat() {
    let s = setup(1);
    let before = s.hawser.rss_kib();
    let url = format!("http://127.0.0.1:{}/bytes/{}", s.port, 1u64 << 30);
    let out = curl(&[
        "--max-time",
        "120",
        "-H",
        "Host: web",
        "-o",
        "/dev/null",
        "-w",
        "%{size_download}",
        &url,
    ]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        (1u64 << 30).to_string()
    );
    let after_down = s.hawser.rss_kib();
    // Upload 1 GiB generated on the fly (chunked, from a pipe).
    let mut child = std::process::Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "120",
            "-H",
            "Host: web",
            "-T",
            "-",
            &format!("http://127.0.0.1:{}/up", s.port),
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut stdin = child.stdin.take().unwrap();
        let block = vec![b'u'; 1 << 20];
        for _ in 0..1024 {
            stdin.write_all(&block).unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    let echo: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(echo["body_len"].as_u64(), Some(1u64 << 30));
    let after_up = s.hawser.rss_kib();
    eprintln!("rss KiB: before {before}, after download {after_down}, after upload {after_up}");
    assert!(
        after_down < before + 16 * 1024,
        "download grew RSS {before} -> {after_down} KiB"
    );
    assert!(
        after_up < before + 16 * 1024,
        "upload grew RSS {before} -> {after_up} KiB"
    );
}
