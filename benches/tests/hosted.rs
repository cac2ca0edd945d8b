//! A generator hosted on the backend's thread (what the comparison runner does): it holds its
//! rate, checks bodies, and starts no thread of its own. Its own test binary, so no other
//! test's generator threads run in this process meanwhile.

use std::time::Duration;

use hawser_bench::backend::{Backend, BackendSpec, start_backend};
use hawser_bench::load::{LoadSpec, Mode, run_load_on};
use hawser_bench::procstat::allowed_cpus;
use hawser_bench::shape::RequestShape;

fn cpu() -> usize {
    allowed_cpus().first().copied().unwrap_or(0)
}

fn backend() -> Backend {
    start_backend(&BackendSpec {
        protocol: hawser_bench::shape::Protocol::Http1,
        port: 0,
        size: 64,
        latency: Duration::ZERO,
        cpus: vec![cpu()],
        stall: None,
    })
    .expect("backend starts")
}

fn spec(addr: std::net::SocketAddr, mode: Mode, connections: usize, secs: f64) -> LoadSpec {
    LoadSpec {
        addr,
        shape: RequestShape::http1("web", 0),
        mode,
        connections,
        streams: 1,
        duration: Duration::from_secs_f64(secs),
        warmup: Duration::from_millis(200),
        cpus: vec![cpu()],
        expect_body: Some(64),
        timeout: Duration::from_secs(5),
    }
}

/// Names of this process's threads right now.
fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .map(|d| {
            d.filter_map(Result::ok)
                .filter_map(|e| std::fs::read_to_string(e.path().join("comm")).ok())
                .map(|s| s.trim().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_generator_hosted_on_the_backend_thread_holds_its_rate_and_checks_bodies() {
    let b = backend();
    // On the backend's CPU: the generator shard joins the backend's thread there.
    let s = spec(b.addr(), Mode::Open { rate: 1000.0 }, 8, 2.0);
    let watcher = std::thread::spawn(|| {
        let mut seen = Vec::new();
        for _ in 0..20 {
            std::thread::sleep(Duration::from_millis(100));
            seen.extend(thread_names());
        }
        seen
    });
    let r = run_load_on(&s, &b).unwrap();
    let seen = watcher.join().unwrap();
    assert!(
        !seen.iter().any(|n| n.starts_with("bench-gen")),
        "a generator thread of its own ran: {seen:?}"
    );
    assert!(seen.iter().any(|n| n.starts_with("bench-backend")));
    let rps = r.rps(s.mode);
    assert!(
        (rps - 1000.0).abs() <= 20.0,
        "hosted: {rps:.1} req/s, want 1000 ± 2%"
    );
    assert_eq!(r.error_count(), 0, "errors: {:?}", r.errors);
    // Bodies are still checked: expecting another size makes every exchange an error.
    let mut wrong = spec(b.addr(), Mode::Closed, 2, 0.5);
    wrong.expect_body = Some(65);
    let r = run_load_on(&wrong, &b).unwrap();
    assert_eq!(r.completed, 0);
    assert!(r.error_count() > 0);
}
