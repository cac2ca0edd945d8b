//! The harness's own correctness: the generator holds its rate, coordinated-omission correction
//! sees a known backend stall, and responses are checked (a wrong body size is an error).

use std::time::Duration;

use hawser_bench::backend::{BackendSpec, Stall, start_backend};
use hawser_bench::load::{LoadSpec, Mode, run_load};
use hawser_bench::procstat::allowed_cpus;
use hawser_bench::shape::RequestShape;

/// Backend on the first allowed CPU, generator on the last (the same one on a 1-CPU box).
fn cpus() -> (Vec<usize>, Vec<usize>) {
    let all = allowed_cpus();
    let first = all.first().copied().unwrap_or(0);
    let last = all.last().copied().unwrap_or(0);
    (vec![first], vec![last])
}

fn backend(size: usize, stall: Option<Stall>) -> hawser_bench::backend::Backend {
    let (backend_cpus, _) = cpus();
    start_backend(&BackendSpec {
        protocol: hawser_bench::shape::Protocol::Http1,
        port: 0,
        size,
        latency: Duration::ZERO,
        cpus: backend_cpus,
        stall,
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
        cpus: cpus().1,
        expect_body: Some(64),
        timeout: Duration::from_secs(5),
    }
}

#[test]
fn open_loop_holds_its_rate_within_two_percent() {
    let b = backend(64, None);
    let s = spec(b.addr(), Mode::Open { rate: 1000.0 }, 8, 2.0);
    let r = run_load(&s).unwrap();
    let rps = r.rps(s.mode);
    assert!(
        (rps - 1000.0).abs() <= 20.0,
        "sent {} in 2 s: {rps:.1} req/s, want 1000 ± 2%",
        r.sent
    );
    // Every scheduled request in the window completed, none skipped.
    assert!(
        (r.completed as i64 - 2000).abs() <= 20,
        "completed {}",
        r.completed
    );
    assert_eq!(r.error_count(), 0, "errors: {:?}", r.errors);
    assert_eq!(r.corrected.len(), r.completed);
}

#[test]
fn coordinated_omission_correction_sees_a_stall() {
    // 1000 req/s over 2 connections; the backend stops for 500 ms once, about 0.5 s in.
    let b = backend(
        64,
        Some(Stall {
            after_requests: 700,
            pause: Duration::from_millis(500),
        }),
    );
    let s = spec(b.addr(), Mode::Open { rate: 1000.0 }, 2, 2.0);
    let r = run_load(&s).unwrap();
    assert_eq!(r.error_count(), 0, "errors: {:?}", r.errors);
    let slow = |h: &hdrhistogram::Histogram<u64>| h.count_between(100_000, u64::MAX);
    // Corrected: every request scheduled during the stall waited; those scheduled in its first
    // 400 ms waited over 100 ms. Allow generous slack for a loaded machine.
    assert!(
        slow(&r.corrected) >= 300,
        "corrected histogram shows only {} requests over 100 ms",
        slow(&r.corrected)
    );
    // Uncorrected: only the request in flight on each connection saw the stall.
    assert!(
        slow(&r.uncorrected) <= 2,
        "uncorrected shows {} slow requests",
        slow(&r.uncorrected)
    );
    assert!(r.corrected.max() >= 400_000, "max {}", r.corrected.max());
}

#[test]
fn closed_loop_finds_a_rate_and_checks_bodies() {
    let b = backend(64, None);
    let s = spec(b.addr(), Mode::Closed, 4, 0.5);
    let r = run_load(&s).unwrap();
    assert_eq!(r.error_count(), 0, "errors: {:?}", r.errors);
    assert!(
        r.rps(s.mode) > 1000.0,
        "closed loop only {:.0} req/s",
        r.rps(s.mode)
    );

    // The same backend, but the generator expects a different size: every exchange fails.
    let mut wrong = spec(b.addr(), Mode::Open { rate: 200.0 }, 1, 0.5);
    wrong.expect_body = Some(65);
    let r = run_load(&wrong).unwrap();
    assert_eq!(r.completed, 0);
    assert!(
        r.errors.get("wrong body size").copied().unwrap_or(0) >= 90,
        "errors: {:?}",
        r.errors
    );
}

#[test]
fn overload_is_cut_off_and_counted_not_hidden() {
    // The backend answers one request per 20 ms on its single connection: about 50 req/s
    // against a schedule of 500 req/s. The run must end soon after its grace period, and the
    // requests it never sent must still weigh on the corrected latency.
    let (backend_cpus, _) = cpus();
    let b = start_backend(&BackendSpec {
        protocol: hawser_bench::shape::Protocol::Http1,
        port: 0,
        size: 64,
        latency: Duration::from_millis(20),
        cpus: backend_cpus,
        stall: None,
    })
    .unwrap();
    let s = spec(b.addr(), Mode::Open { rate: 500.0 }, 1, 1.0);
    let began = std::time::Instant::now();
    let r = run_load(&s).unwrap();
    let took = began.elapsed();
    assert!(took < Duration::from_secs(4), "took {took:?}");
    assert!(r.missed >= 300, "missed {}", r.missed);
    assert!(r.rps(s.mode) < 100.0, "{}", r.rps(s.mode));
    assert_eq!(r.corrected.len(), r.completed + r.missed);
    assert!(r.quantile_us(0.5) >= 500_000, "p50 {}", r.quantile_us(0.5));
}
