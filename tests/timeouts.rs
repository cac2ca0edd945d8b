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
