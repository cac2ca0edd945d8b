//! The admin server over real loopback sockets, with curl when it is installed.

use super::*;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Echoes what it was asked; paths must start with `/`.
#[derive(Default)]
struct Echo {
    shutdowns: AtomicBool,
}

impl AdminBackend for Echo {
    fn delegate(&self, router: Option<&str>, path: &str, dtab: &str) -> Result<Value, String> {
        if path.starts_with('/') {
            Ok(json!({ "router": router, "path": path, "dtab": dtab }))
        } else {
            Err(format!("Invalid path: {path:?}"))
        }
    }
    fn config_json(&self) -> Value {
        json!({ "routers": [{ "label": "out" }] })
    }
    fn metrics(&self, _prefix: &str) -> String {
        "# TYPE up gauge\nup 1\n# EOF\n".into()
    }
    fn shutdown(&self) {
        self.shutdowns.store(true, Ordering::Release);
    }
}

struct Server {
    addr: SocketAddr,
    backend: Arc<Echo>,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Server {
    fn start(limits: AdminLimits) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let backend = Arc::new(Echo::default());
        let stop = Arc::new(AtomicBool::new(false));
        let dyn_backend: Arc<dyn AdminBackend> = backend.clone();
        let handle =
            spawn_admin_with(listener, dyn_backend, Arc::clone(&stop), limits).expect("spawn");
        Self {
            addr,
            backend,
            stop,
            handle: Some(handle),
        }
    }

    fn url(&self, target: &str) -> String {
        format!("http://{}{target}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// A parsed response: status, raw head, body.
struct Reply {
    status: u16,
    head: String,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("json body")
    }
}

fn parse_reply(raw: &[u8]) -> Reply {
    let text = String::from_utf8_lossy(raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("complete head");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    Reply {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

/// Sends `raw` on a fresh connection and reads until the server closes.
fn exchange(addr: SocketAddr, raw: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    stream.write_all(raw).expect("send");
    let mut out = Vec::new();
    stream.read_to_end(&mut out).expect("read to close");
    parse_reply(&out)
}

fn get(addr: SocketAddr, target: &str) -> Reply {
    exchange(
        addr,
        format!("GET {target} HTTP/1.1\r\nHost: admin\r\n\r\n").as_bytes(),
    )
}

fn have_curl() -> bool {
    Command::new("curl")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs curl with `args` (plus `-sS -i`) and parses its output.
fn curl(args: &[&str]) -> Reply {
    let out = Command::new("curl")
        .args(["-sS", "-i", "--max-time", "10"])
        .args(args)
        .output()
        .expect("run curl");
    assert!(out.status.success(), "curl failed: {out:?}");
    parse_reply(&out.stdout)
}

#[test]
fn ping_config_and_errors_over_the_wire() {
    let server = Server::start(AdminLimits::default());
    let ping = if have_curl() {
        curl(&[&server.url("/admin/ping")])
    } else {
        get(server.addr, "/admin/ping")
    };
    assert_eq!((ping.status, ping.body.as_str()), (200, "pong"));
    assert!(ping.head.contains("Connection: close"));

    let head = exchange(server.addr, b"HEAD /admin/ping HTTP/1.0\r\n\r\n");
    assert_eq!(head.status, 200);
    assert!(head.head.contains("Content-Length: 4"));
    assert_eq!(head.body, "");

    let config = get(server.addr, "/config.json");
    assert_eq!(config.status, 200);
    assert!(config.head.contains("Content-Type: application/json"));
    assert_eq!(config.json(), json!({ "routers": [{ "label": "out" }] }));

    let missing = get(server.addr, "/admin/metrics.json");
    assert_eq!(missing.status, 404);
    assert!(missing.json()["error"].is_string());

    let wrong = exchange(server.addr, b"PUT /config.json HTTP/1.1\r\n\r\n");
    assert_eq!(wrong.status, 405);
    assert!(wrong.head.contains("Allow: GET, HEAD"), "{}", wrong.head);

    let garbage = exchange(
        server.addr,
        b"GET /admin/ping HTTP/1.1\r\nBad Header\r\n\r\n",
    );
    assert_eq!(garbage.status, 400);
}

#[test]
fn delegator_decodes_query_parameters() {
    let server = Server::start(AdminLimits::default());
    let dtab = "/svc => /#/io.l5d.fs; /svc/a+b => /$/inet/127.0.0.1/80 # 100%";
    let reply = if have_curl() {
        curl(&[
            "--get",
            "--data-urlencode",
            "path=/svc/foo",
            "--data-urlencode",
            &format!("dtab={dtab}"),
            "--data-urlencode",
            "namespace=outgoing",
            &server.url("/delegator.json"),
        ])
    } else {
        get(
            server.addr,
            "/delegator.json?path=%2Fsvc%2Ffoo&namespace=outgoing&dtab=%2Fsvc+%3D%3E+%2F%23%2Fio.l5d.fs%3B+%2Fsvc%2Fa%2Bb+%3D%3E+%2F%24%2Finet%2F127.0.0.1%2F80+%23+100%25",
        )
    };
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.json(),
        json!({ "router": "outgoing", "path": "/svc/foo", "dtab": dtab })
    );

    let alias = get(server.addr, "/delegator.json?n=/svc/x&d=/a=>/b&router=in");
    assert_eq!(
        alias.json(),
        json!({ "router": "in", "path": "/svc/x", "dtab": "/a=>/b" })
    );

    let bad_path = get(server.addr, "/delegator.json?path=svc");
    assert_eq!(bad_path.status, 400);
    assert_eq!(bad_path.json(), json!({ "error": "Invalid path: \"svc\"" }));

    let bad_escape = get(server.addr, "/delegator.json?path=/svc&dtab=%E2%28");
    assert_eq!(bad_escape.status, 400);
    let no_path = get(server.addr, "/delegator.json");
    assert_eq!(no_path.status, 400);
}

#[test]
fn delegator_accepts_a_posted_json_request() {
    let server = Server::start(AdminLimits::default());
    let body = r#"{"namespace":"out","dtab":"/a=>/b","path":"/svc/z"}"#;
    let raw = format!(
        "POST /delegator.json HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let reply = exchange(server.addr, raw.as_bytes());
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.json(),
        json!({ "router": "out", "path": "/svc/z", "dtab": "/a=>/b" })
    );

    let chunked = exchange(
        server.addr,
        b"POST /delegator.json HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    );
    assert_eq!(chunked.status, 501);
    let huge = exchange(
        server.addr,
        b"POST /delegator.json HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n",
    );
    assert_eq!(huge.status, 413);
}

#[test]
fn shutdown_needs_post_and_reaches_the_backend() {
    let server = Server::start(AdminLimits::default());
    let get_reply = get(server.addr, "/admin/shutdown");
    assert_eq!(get_reply.status, 405);
    assert!(!server.backend.shutdowns.load(Ordering::Acquire));

    let reply = if have_curl() {
        curl(&["-X", "POST", &server.url("/admin/shutdown")])
    } else {
        exchange(server.addr, b"POST /admin/shutdown HTTP/1.1\r\n\r\n")
    };
    assert_eq!(reply.status, 200);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !server.backend.shutdowns.load(Ordering::Acquire) {
        assert!(Instant::now() < deadline, "shutdown never requested");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn oversized_head_is_431() {
    let server = Server::start(AdminLimits::default());
    let raw = format!(
        "GET /admin/ping HTTP/1.1\r\nX-Big: {}\r\n\r\n",
        "a".repeat(20 * 1024)
    );
    let reply = exchange(server.addr, raw.as_bytes());
    assert_eq!(reply.status, 431);

    let just_fits = format!(
        "GET /admin/ping HTTP/1.1\r\nX-Big: {}\r\n\r\n",
        "a".repeat(15 * 1024)
    );
    assert_eq!(exchange(server.addr, just_fits.as_bytes()).status, 200);
}

#[test]
fn slow_client_does_not_block_others_and_times_out() {
    let limits = AdminLimits {
        read_timeout: Duration::from_millis(1500),
        ..AdminLimits::default()
    };
    let server = Server::start(limits);
    let mut slow = TcpStream::connect(server.addr).expect("connect");
    slow.write_all(b"GET /admin/ping HTTP/1.1\r\nHost: a")
        .expect("partial head");

    let fast = get(server.addr, "/admin/ping");
    assert_eq!(fast.status, 200);
    // The fast client was answered while the slow one is still waiting for its deadline.
    slow.set_nonblocking(true).expect("nonblocking");
    let mut byte = [0u8; 1];
    let pending = slow.read(&mut byte);
    assert!(
        matches!(&pending, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "slow client already answered: {pending:?}"
    );

    slow.set_nonblocking(false).expect("blocking");
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let started = Instant::now();
    let mut out = Vec::new();
    slow.read_to_end(&mut out).expect("server closes");
    assert_eq!(parse_reply(&out).status, 408);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn connection_cap_answers_503() {
    let limits = AdminLimits {
        max_connections: 1,
        read_timeout: Duration::from_secs(2),
        ..AdminLimits::default()
    };
    let server = Server::start(limits);
    let _idle = TcpStream::connect(server.addr).expect("connect");
    // Let the accept thread take the idle connection first.
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(get(server.addr, "/admin/ping").status, 503);
}

#[test]
fn peer_closing_early_gets_nothing_and_server_carries_on() {
    let server = Server::start(AdminLimits::default());
    drop(TcpStream::connect(server.addr).expect("connect"));
    let mut half = TcpStream::connect(server.addr).expect("connect");
    half.write_all(b"GET /admin/pi").expect("send");
    drop(half);
    assert_eq!(get(server.addr, "/admin/ping").status, 200);
}

#[test]
fn stop_ends_the_accept_thread() {
    let mut server = Server::start(AdminLimits::default());
    server.stop.store(true, Ordering::Release);
    let started = Instant::now();
    server.handle.take().expect("handle").join().expect("join");
    assert!(started.elapsed() < Duration::from_secs(1));
    let refused = TcpStream::connect(server.addr);
    assert!(
        refused.is_err(),
        "the listener is closed once the thread ends"
    );
}
