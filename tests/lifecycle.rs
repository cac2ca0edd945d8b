//! Graceful shutdown against the real binary: on SIGTERM (or `POST
//! /admin/shutdown`) hawser stops accepting, lets in-flight requests finish,
//! closes idle keep-alive connections and exits 0 within
//! `runtime.drainTimeoutMs`; a second signal exits at once.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::ExitStatus;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use support::*;

const SIGTERM: i32 = 15;

struct Setup {
    hawser: Hawser,
    port: u16,
    admin: u16,
    backend: Backend,
}

fn setup(runtime: &str) -> Setup {
    setup_cores(runtime, 1)
}

fn setup_cores(runtime: &str, cores: usize) -> Setup {
    let backend = Backend::start("web");
    let disco = temp_dir("disco");
    write_service(&disco, "web", &format!("127.0.0.1 {}\n", backend.port));
    let (admin, port) = (unique_port(), unique_port());
    let mut yaml = fs_config(admin, port, &disco, "");
    yaml.push_str(runtime);
    let hawser = Hawser::start(&yaml, admin, cores);
    Setup {
        hawser,
        port,
        admin,
        backend,
    }
}

/// Waits (bounded) for hawser to exit.
fn wait_exit(h: &mut Hawser, within: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Some(s) = h.child.try_wait().unwrap() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

/// Sends `GET target` for `web` on a new connection from a thread; the
/// thread returns everything read until the server closes.
fn in_flight(port: u16, target: &str, close: bool) -> JoinHandle<Vec<u8>> {
    let req = format!(
        "GET {target} HTTP/1.1\r\nHost: web\r\n{}\r\n",
        if close { "Connection: close\r\n" } else { "" }
    );
    std::thread::spawn(move || raw_exchange_open(port, req.as_bytes(), Duration::from_secs(15)))
}

/// Waits until the backend has started serving `n` requests.
fn backend_saw(s: &Setup, n: u64) {
    assert!(
        eventually(Duration::from_secs(5), || backend_count(s.backend.port)
            >= n),
        "the request did not reach the backend"
    );
}

fn refuses_connections(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).is_err()
}

#[test]
fn sigterm_lets_in_flight_requests_finish_and_stops_accepting() {
    let mut s = setup("");
    // Keep-alive client: the response must still arrive, then the connection ends.
    let slow = in_flight(s.port, "/slow/1500", false);
    backend_saw(&s, 1);
    let signalled = Instant::now();
    send_signal(s.hawser.child.id(), SIGTERM);
    assert!(
        eventually(Duration::from_secs(1), || refuses_connections(s.port)),
        "new connections must be refused soon after SIGTERM"
    );
    let raw = slow.join().unwrap();
    let rs = parse_responses(&raw);
    assert_eq!(rs.len(), 1, "{}", String::from_utf8_lossy(&raw));
    assert_eq!(rs[0].status, 200);
    assert_eq!(rs[0].json()["target"], "/slow/1500");
    // The connection was kept alive by the client; hawser closes it after this
    // response and says so (RFC 9112 section 9.6).
    assert_eq!(
        rs[0].header("connection"),
        Some("close"),
        "{:?}",
        rs[0].headers
    );
    let status =
        wait_exit(&mut s.hawser, Duration::from_secs(10)).expect("exit within the drain timeout");
    assert!(status.success(), "{status}");
    assert!(
        signalled.elapsed() < Duration::from_secs(5),
        "exits once the work is done, not at the drain deadline: {:?}",
        signalled.elapsed()
    );
}

#[test]
fn idle_keep_alive_connections_are_closed_on_drain() {
    let mut s = setup("");
    let mut c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    c.write_all(b"GET /one HTTP/1.1\r\nHost: web\r\n\r\n")
        .unwrap();
    assert_eq!(read_response(&mut c).status, 200);
    // The connection is now idle and kept alive.
    let signalled = Instant::now();
    send_signal(s.hawser.child.id(), SIGTERM);
    let mut buf = [0u8; 64];
    let n = c
        .read(&mut buf)
        .expect("hawser closes the idle connection (EOF), no timeout");
    assert_eq!(
        n,
        0,
        "nothing but EOF: {:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    let status = wait_exit(&mut s.hawser, Duration::from_secs(5)).expect("prompt exit");
    assert!(status.success(), "{status}");
    assert!(
        signalled.elapsed() < Duration::from_secs(3),
        "{:?}",
        signalled.elapsed()
    );
}

#[test]
fn drain_timeout_bounds_the_wait_for_slow_requests() {
    let mut s = setup("runtime:\n  drainTimeoutMs: 500\n");
    let slow = in_flight(s.port, "/slow/5000", true);
    backend_saw(&s, 1);
    let signalled = Instant::now();
    send_signal(s.hawser.child.id(), SIGTERM);
    let status = wait_exit(&mut s.hawser, Duration::from_secs(5)).expect("exit");
    let took = signalled.elapsed();
    assert!(
        took < Duration::from_millis(1500),
        "drainTimeoutMs 500, exited after {took:?}"
    );
    assert!(
        status.success(),
        "a drain that timed out is still an orderly exit: {status}"
    );
    // The client is not left hanging: its connection ends with the process.
    let start = Instant::now();
    let _ = slow.join();
    assert!(start.elapsed() < Duration::from_secs(3));
}

#[test]
fn a_second_signal_exits_at_once() {
    let mut s = setup("");
    let slow = in_flight(s.port, "/slow/5000", true);
    backend_saw(&s, 1);
    send_signal(s.hawser.child.id(), SIGTERM);
    // Still draining (the slow request holds it) ...
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        s.hawser.child.try_wait().unwrap().is_none(),
        "the first signal drains"
    );
    let second = Instant::now();
    send_signal(s.hawser.child.id(), SIGTERM);
    let status = wait_exit(&mut s.hawser, Duration::from_secs(2)).expect("exit at once");
    assert!(
        second.elapsed() < Duration::from_secs(1),
        "{:?}",
        second.elapsed()
    );
    assert!(
        !status.success(),
        "an interrupted drain is not a clean exit: {status}"
    );
    let _ = slow.join();
}

#[test]
fn admin_shutdown_drains_too() {
    let mut s = setup("");
    let slow = in_flight(s.port, "/slow/1000", true);
    backend_saw(&s, 1);
    let raw = raw_exchange(
        s.admin,
        b"POST /admin/shutdown HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    )
    .unwrap();
    assert_eq!(parse_responses(&raw)[0].status, 200);
    assert!(
        eventually(Duration::from_secs(1), || refuses_connections(s.port)),
        "stops accepting"
    );
    let raw = slow.join().unwrap();
    assert_eq!(parse_responses(&raw)[0].status, 200, "in flight finishes");
    let status = wait_exit(&mut s.hawser, Duration::from_secs(10)).expect("exit");
    assert!(status.success(), "{status}");
}

#[test]
fn every_shard_drains() {
    let cores = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(2);
    let mut s = setup_cores("", cores);
    // Several idle keep-alive connections, spread over the shards by the kernel.
    let mut conns: Vec<TcpStream> = (0..6)
        .map(|i| {
            let mut c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
            c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            write!(c, "GET /{i} HTTP/1.1\r\nHost: web\r\n\r\n").unwrap();
            assert_eq!(read_response(&mut c).status, 200);
            c
        })
        .collect();
    send_signal(s.hawser.child.id(), SIGTERM);
    for c in &mut conns {
        let mut buf = [0u8; 16];
        assert_eq!(c.read(&mut buf).expect("EOF, not a timeout"), 0);
    }
    let status = wait_exit(&mut s.hawser, Duration::from_secs(5)).expect("prompt exit");
    assert!(status.success(), "{status}");
}

#[test]
fn a_second_hawser_on_the_same_port_is_refused() {
    let disco = temp_dir("disco");
    let (admin1, admin2, port) = (unique_port(), unique_port(), unique_port());
    let _first = Hawser::start(&fs_config(admin1, port, &disco, ""), admin1, 1);
    let dir = temp_dir("second");
    let cfg = dir.join("config.yaml");
    std::fs::write(&cfg, fs_config(admin2, port, &disco, "")).unwrap();
    let out = hawser_cmd(
        &["run", cfg.to_str().unwrap(), "--cores", "1"],
        Duration::from_secs(10),
    );
    assert_ne!(out.code(), 0, "{}", out.all());
    assert!(
        out.stderr.contains(&format!("127.0.0.1:{port}")),
        "names the address: {}",
        out.all()
    );
}

#[test]
fn an_idle_keep_alive_connection_is_closed_after_idle_timeout_ms() {
    use std::io::{Read, Write};
    let web = Backend::start("web");
    let (admin, port) = (free_port(), free_port());
    let yaml = format!(
        "admin: {{ip: 127.0.0.1, port: {admin}}}\nruntime:\n  idleTimeoutMs: 300\nrouters:\n- protocol: http\n  dtab: /svc => /$/inet/127.0.0.1/{};\n  servers:\n  - {{ip: 127.0.0.1, port: {port}}}\n",
        web.port
    );
    let _h = Hawser::start(&yaml, admin, 1);
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: web\r\n\r\n").unwrap();
    let mut buf = vec![0u8; 65536];
    let n = s.read(&mut buf).unwrap();
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&buf[..n])
    );
    // Kept alive, then closed once idle for 300 ms (well before the 5 s read timeout).
    let t = std::time::Instant::now();
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).unwrap();
    let waited = t.elapsed();
    assert!(
        waited >= std::time::Duration::from_millis(250)
            && waited < std::time::Duration::from_secs(3),
        "closed after {waited:?}"
    );
}
