//! Upstream connection pool behaviour, observed from a real origin server:
//! reuse, idle timeout, retirement of connections the upstream closes, and
//! the connect timeout.

mod support;

use std::time::{Duration, Instant};

use support::*;

fn start(backend: &Backend, client: &str) -> (Hawser, u16) {
    let disco = temp_dir("disco");
    write_service(&disco, "web", &format!("127.0.0.1 {}\n", backend.port));
    let (admin, port) = (free_port(), free_port());
    let router_extra = format!("  client:\n{client}");
    let h = Hawser::start(&fs_config(admin, port, &disco, &router_extra), admin, 1);
    (h, port)
}

fn peer_of(port: u16, path: &str) -> u64 {
    let r = get_via(port, path);
    assert_eq!(r.status, 200, "{}", r.body_str());
    r.json()["peer_port"].as_u64().unwrap()
}

fn get_via(port: u16, path: &str) -> Response {
    send(port, path, Some("web"), &[])
}

#[test]
fn idle_connections_are_reused_then_closed_after_the_idle_timeout() {
    let backend = Backend::start("web");
    let (_h, port) = start(&backend, "    hostConnectionPool:\n      idleTimeMs: 400\n");
    // Separate client connections share one pooled upstream connection.
    let a = peer_of(port, "/a");
    let b = peer_of(port, "/b");
    assert_eq!(a, b, "second request reuses the idle upstream connection");
    // Past the idle timeout the pooled connection is gone.
    std::thread::sleep(Duration::from_millis(1200));
    let c = peer_of(port, "/c");
    assert_ne!(
        b, c,
        "an idle connection older than idleTimeMs is not reused"
    );
}

#[test]
fn a_connection_the_upstream_closes_is_retired() {
    let backend = Backend::start("web");
    let (_h, port) = start(
        &backend,
        "    hostConnectionPool:\n      idleTimeMs: 10000\n",
    );
    let first = get_via(port, "/closehdr");
    assert_eq!(first.status, 200);
    let first_peer = first.json()["peer_port"].as_u64().unwrap();
    // The upstream said `Connection: close` (but keeps the socket open for
    // a while): the next request must not be sent on that connection, where
    // it would hang; it gets a fresh one, at once.
    let started = Instant::now();
    let second = peer_of(port, "/after-close");
    assert_ne!(first_peer, second, "the closed connection was not reused");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "no hang on a retired connection"
    );
    // A close-delimited response also ends the connection's usefulness.
    let r = get_via(port, "/close/10");
    assert_eq!(r.body.len(), 10);
    assert_eq!(get_via(port, "/after").status, 200);
}

#[test]
fn connect_timeout_answers_502_in_time() {
    // A listener with a full accept queue that never accepts: further SYNs
    // are dropped, so connecting to it hangs until the connect timeout.
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    sock.listen(0).unwrap();
    let addr = sock.local_addr().unwrap().as_socket().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..8 {
        let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        s.set_nonblocking(true).unwrap();
        let _ = s.connect(&addr.into());
        fillers.push(s);
    }
    std::thread::sleep(Duration::from_millis(200));
    let disco = temp_dir("disco");
    write_service(
        &disco,
        "black-hole",
        &format!("127.0.0.1 {}\n", addr.port()),
    );
    let (admin, port) = (free_port(), free_port());
    let cfg = fs_config(
        admin,
        port,
        &disco,
        "  client:\n    connectTimeoutMs: 300\n",
    );
    let _h = Hawser::start(&cfg, admin, 1);
    let started = Instant::now();
    let raw = raw_exchange(
        port,
        b"GET / HTTP/1.1\r\nHost: black-hole\r\nConnection: close\r\n\r\n",
        Duration::from_secs(10),
    )
    .unwrap();
    let took = started.elapsed();
    let r = &parse_responses(&raw)[0];
    assert_eq!(r.status, 502, "{}", r.body_str());
    let err = r.header("l5d-err").expect("l5d-err");
    assert!(err.contains("timed+out"), "{err}");
    assert!(
        err.contains(&addr.port().to_string()),
        "names the address: {err}"
    );
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(3),
        "answered after the 300 ms connect timeout, took {took:?}"
    );
    drop(fillers);
}

#[test]
fn connection_refused_answers_502_naming_the_address() {
    let closed = free_port();
    let disco = temp_dir("disco");
    write_service(&disco, "down", &format!("127.0.0.1 {closed}\n"));
    let (admin, port) = (free_port(), free_port());
    let _h = Hawser::start(&fs_config(admin, port, &disco, ""), admin, 1);
    let raw = raw_exchange(
        port,
        b"GET / HTTP/1.1\r\nHost: down\r\nConnection: close\r\n\r\n",
        Duration::from_secs(10),
    )
    .unwrap();
    let r = &parse_responses(&raw)[0];
    assert_eq!(r.status, 502);
    let err = r.header("l5d-err").unwrap();
    assert!(err.contains(&format!("127.0.0.1%3A{closed}")), "{err}");
}

/// Established TCP connections from anywhere to 127.0.0.1:`port`, from /proc.
fn established_to(port: u16) -> usize {
    let tcp = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let want = format!("0100007F:{port:04X}");
    tcp.lines()
        .skip(1)
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            // remote address is field 2, state field 3 (01 = ESTABLISHED)
            f.len() > 3 && f[2] == want && f[3] == "01"
        })
        .count()
}

#[test]
fn idle_connections_per_endpoint_are_capped() {
    let backend = Backend::start("web");
    let (h, port) = start(
        &backend,
        "    hostConnectionPool:\n      maxSize: 1\n      idleTimeMs: 60000\n",
    );
    // Three requests at once need three upstream connections...
    let burst: Vec<_> = (0..3)
        .map(|i| std::thread::spawn(move || get_via(port, &format!("/slow/400?{i}")).status))
        .collect();
    for t in burst {
        assert_eq!(t.join().unwrap(), 200);
    }
    // ...but only one may stay idle afterwards.
    assert!(
        eventually(Duration::from_secs(3), || established_to(backend.port) == 1),
        "idle upstream connections kept: {} (hawser fds: {:?})\n{}",
        established_to(backend.port),
        std::fs::read_dir(format!("/proc/{}/fd", h.child.id()))
            .unwrap()
            .filter_map(|e| std::fs::read_link(e.unwrap().path()).ok())
            .map(|p| p.display().to_string())
            .filter(|p| p.starts_with("socket"))
            .collect::<Vec<_>>(),
        std::fs::read_to_string("/proc/net/tcp")
            .unwrap()
            .lines()
            .filter(|l| l.contains(&format!(":{:04X}", backend.port)))
            .collect::<Vec<_>>()
            .join("\n")
    );
    // And that one is reused.
    let a = peer_of(port, "/a");
    let b = peer_of(port, "/b");
    assert_eq!(a, b);
}
