//! `service.totalTimeoutMs` on an HTTP/1.1 router, against the Python origin server's
//! `/slow/MS`: a response head that does not come in time is a 504 with `l5d-err`, in linkerd's
//! words; a fast one is untouched. (The h2 and Thrift routers' timeouts are in tests/h2.rs and
//! tests/thrift.rs.)

mod support;

use std::time::{Duration, Instant};

use support::*;

#[test]
fn a_response_head_later_than_the_total_timeout_is_a_504() {
    let backend = Backend::start("web");
    let (admin, port) = (free_port(), free_port());
    let yaml = format!(
        "admin: {{ip: 127.0.0.1, port: {admin}}}\nrouters:\n- protocol: http\n  dtab: /svc => /$/inet/127.0.0.1/{};\n  service:\n    totalTimeoutMs: 300\n  servers:\n  - {{ip: 127.0.0.1, port: {port}}}\n",
        backend.port
    );
    let _h = Hawser::start(&yaml, admin, 1);
    let started = Instant::now();
    let r = send(port, "/slow/3000", Some("web"), &[]);
    assert_eq!(r.status, 504);
    assert_eq!(
        l5d_err(&r).as_deref(),
        Some("exceeded 300 ms to /svc/web while waiting for a response for the request")
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let r = send(port, "/slow/10", Some("web"), &[]);
    assert_eq!(r.status, 200);
}

fn wall_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

/// The `l5d-ctx-deadline` the backend saw, as (timestamp, deadline).
fn seen_deadline(r: &Response) -> Option<(u64, u64)> {
    let v = seen_header(&r.json(), "l5d-ctx-deadline")?;
    let mut parts = v.split_whitespace().map(|p| p.parse::<u64>().unwrap());
    Some((parts.next()?, parts.next()?))
}

#[test]
fn the_strictest_deadline_is_propagated_upstream() {
    let backend = Backend::start("web");
    let start = |service: &str, clear: bool| {
        let (admin, port) = (free_port(), free_port());
        let yaml = format!(
            "admin: {{ip: 127.0.0.1, port: {admin}}}\nrouters:\n- protocol: http\n  dtab: /svc => /$/inet/127.0.0.1/{};\n{service}  servers:\n  - {{ip: 127.0.0.1, port: {port}, clearContext: {clear}}}\n",
            backend.port
        );
        (Hawser::start(&yaml, admin, 1), port)
    };
    // No timeout of our own: the strictest incoming value goes on, as it came.
    let (_a, port) = start("", false);
    let r = send(
        port,
        "/",
        Some("web"),
        &[
            ("l5d-ctx-deadline", "1 9000000000000000000"),
            ("l5d-ctx-deadline", "2 8000000000000000000"),
        ],
    );
    assert_eq!(seen_deadline(&r), Some((2, 8_000_000_000_000_000_000)));
    // Nothing to propagate: no header.
    assert_eq!(seen_deadline(&send(port, "/", Some("web"), &[])), None);

    // totalTimeoutMs 1000: ours (now + 1 s) beats a far incoming one.
    let (_b, port) = start("  service:\n    totalTimeoutMs: 1000\n", false);
    let before = wall_ns();
    let far = format!("1 {}", before + 100_000_000_000);
    let r = send(port, "/", Some("web"), &[("l5d-ctx-deadline", &far)]);
    let after = wall_ns();
    let (ts, dl) = seen_deadline(&r).expect("a deadline");
    assert!(before <= ts && ts <= after, "{before} <= {ts} <= {after}");
    assert_eq!(dl - ts, 1_000_000_000);
    // ...but not a nearer incoming one.
    let near = format!("5 {}", before + 500_000_000);
    let r = send(port, "/", Some("web"), &[("l5d-ctx-deadline", &near)]);
    assert_eq!(seen_deadline(&r), Some((5, before + 500_000_000)));

    // An untrusted edge (clearContext) ignores what the client sent.
    let (_c, port) = start("", true);
    let r = send(port, "/", Some("web"), &[("l5d-ctx-deadline", "1 2")]);
    assert_eq!(seen_deadline(&r), None);
}
