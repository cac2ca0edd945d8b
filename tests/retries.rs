//! linkerd's response classifiers and retries on the HTTP/1.1 router, against real origin
//! servers (the Python backend, one of them answering 503 to everything): retryable failures
//! are retried, within the retry budget, on another pick of the balancer; what is not
//! retryable (a POST, or the default classifier) reaches the client as the upstream sent it.

mod support;

use support::*;

fn config(admin: u16, port: u16, disco: &std::path::Path, service: &str) -> String {
    fs_config(admin, port, disco, &format!("  service:\n{service}"))
}

/// An `io.l5d.fs` directory whose service `web` lists `backends` on 127.0.0.1.
fn web_on(backends: &[&Backend]) -> std::path::PathBuf {
    let disco = temp_dir("disco");
    let lines: String = backends
        .iter()
        .map(|b| format!("127.0.0.1 {}\n", b.port))
        .collect();
    write_service(&disco, "web", &lines);
    disco
}

#[test]
fn retryable_reads_fail_over_to_a_healthy_endpoint() {
    let bad = Backend::start_status("bad", 503);
    let good = Backend::start("good");
    let disco = web_on(&[&bad, &good]);
    let (admin, port) = (free_port(), free_port());
    // Failure accrual off, so the 503 endpoint stays in rotation and the classifier decides.
    let service = "    responseClassifier:\n      kind: io.l5d.http.retryableRead5XX\n    retries:\n      budget: {minRetriesPerSec: 100, percentCanRetry: 1.0, ttlSecs: 10}\n  client:\n    failureAccrual: {kind: none}\n";
    let _h = Hawser::start(&config(admin, port, &disco, service), admin, 1);
    for i in 0..40 {
        let r = send(port, &format!("/{i}"), Some("web"), &[]);
        assert_eq!(
            r.status, 200,
            "GET {i} was not retried onto the healthy endpoint"
        );
    }
    assert!(
        backend_count(bad.port) > 0,
        "the 503 endpoint was never tried"
    );
    // A retry avoids the endpoint that failed: at most one 503 per request.
    assert!(backend_count(bad.port) <= 40, "{}", backend_count(bad.port));
    assert_eq!(backend_count(good.port), 40);
    // A POST is not a read: its 503 reaches the client.
    let posts: Vec<u16> = (0..20)
        .map(|i| {
            send_method(
                port,
                "POST",
                &format!("/p{i}"),
                Some("web"),
                &[("content-length", "0")],
            )
            .status
        })
        .collect();
    assert!(posts.contains(&503), "{posts:?}");
}

#[test]
fn the_default_classifier_retries_nothing() {
    let bad = Backend::start_status("bad", 503);
    let disco = temp_dir("disco");
    write_service(&disco, "web", &format!("127.0.0.1 {}\n", bad.port));
    let (admin, port) = (free_port(), free_port());
    let yaml = fs_config(admin, port, &disco, "");
    let _h = Hawser::start(&yaml, admin, 1);
    for i in 0..5 {
        assert_eq!(send(port, &format!("/{i}"), Some("web"), &[]).status, 503);
    }
    assert_eq!(backend_count(bad.port), 5);
}

#[test]
fn the_budget_bounds_retries() {
    // No reserve and percentCanRetry 0.5: one retry for every two requests (linkerd's
    // semantics), so 10 failing GETs reach the endpoint exactly 15 times.
    let bad = Backend::start_status("bad", 503);
    let disco = temp_dir("disco");
    write_service(&disco, "web", &format!("127.0.0.1 {}\n", bad.port));
    let (admin, port) = (free_port(), free_port());
    let service = "    responseClassifier:\n      kind: io.l5d.http.retryableRead5XX\n    retries:\n      budget: {minRetriesPerSec: 0, percentCanRetry: 0.5, ttlSecs: 60}\n      backoff: {kind: constant, ms: 1}\n";
    let _h = Hawser::start(&config(admin, port, &disco, service), admin, 1);
    for i in 0..10 {
        assert_eq!(send(port, &format!("/{i}"), Some("web"), &[]).status, 503);
    }
    assert_eq!(backend_count(bad.port), 15);
    // The metrics count them.
    let m = get(admin, "/metrics").unwrap().body_str();
    let line = "hawser_retries_total{router=\"http\",service=\"/svc/web\"} 5\n";
    assert!(m.contains(line), "{m}");
}

#[test]
fn connect_failures_are_requeued_to_another_endpoint_for_any_method() {
    let good = Backend::start("good");
    let dead = free_port(); // nothing listens there: connects are refused
    let disco = temp_dir("disco");
    write_service(
        &disco,
        "web",
        &format!("127.0.0.1 {dead}\n127.0.0.1 {}\n", good.port),
    );
    let (admin, port) = (free_port(), free_port());
    // The default classifier retries nothing; requeues need no configuration (linkerd's
    // requeue budget defaults).
    let yaml = fs_config(admin, port, &disco, "");
    let _h = Hawser::start(&yaml, admin, 1);
    for i in 0..20 {
        let r = send(port, &format!("/{i}"), Some("web"), &[]);
        assert_eq!(r.status, 200, "GET {i}: {:?}", l5d_err(&r));
        let r = send_method(
            port,
            "POST",
            &format!("/p{i}"),
            Some("web"),
            &[("content-length", "0")],
        );
        assert_eq!(r.status, 200, "POST {i}: {:?}", l5d_err(&r));
    }
    assert_eq!(backend_count(good.port), 40);
    // With the dead endpoint alone there is nowhere else to go: 502 with l5d-err.
    write_service(&disco, "web", &format!("127.0.0.1 {dead}\n"));
    assert!(eventually(std::time::Duration::from_secs(5), || {
        let r = send(port, "/", Some("web"), &[]);
        r.status == 502
            && l5d_err(&r)
                .is_some_and(|e| e.contains(&format!("connection to 127.0.0.1:{dead} failed")))
    }));
}

#[test]
fn five_failures_in_a_row_take_an_endpoint_out_of_rotation() {
    // linkerd's default failure accrual: 5 consecutive failures, then a backoff of 5 s or more.
    let bad = Backend::start_status("bad", 503);
    let good = Backend::start("good");
    let disco = web_on(&[&bad, &good]);
    let (admin, port) = (free_port(), free_port());
    let _h = Hawser::start(&fs_config(admin, port, &disco, ""), admin, 1);
    let statuses: Vec<u16> = (0..60)
        .map(|i| send(port, &format!("/{i}"), Some("web"), &[]).status)
        .collect();
    // The default classifier retries nothing: the bad endpoint's 503s reach the client until
    // accrual marks it dead, after exactly five.
    assert_eq!(
        statuses.iter().filter(|s| **s == 503).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(backend_count(bad.port), 5);
    assert_eq!(backend_count(good.port), 55);
    // `kind: none` keeps it in rotation.
    let (admin, port) = (free_port(), free_port());
    let extra = "  client:\n    failureAccrual: {kind: none}\n";
    let _h2 = Hawser::start(&fs_config(admin, port, &disco, extra), admin, 1);
    let before = backend_count(bad.port);
    for i in 0..60 {
        send(port, &format!("/{i}"), Some("web"), &[]);
    }
    assert!(backend_count(bad.port) - before > 10);
}

#[test]
fn a_success_rate_below_the_required_one_takes_an_endpoint_out_of_rotation() {
    // io.l5d.successRate over a window of 4 requests: the always-failing endpoint's rate is 0,
    // and it is marked dead on its 4th request (never before `requests` requests).
    let bad = Backend::start_status("bad", 503);
    let good = Backend::start("good");
    let disco = web_on(&[&bad, &good]);
    let (admin, port) = (free_port(), free_port());
    let extra = "  client:\n    failureAccrual:\n      kind: io.l5d.successRate\n      successRate: 0.9\n      requests: 4\n      backoff: {kind: constant, ms: 60000}\n";
    let _h = Hawser::start(&fs_config(admin, port, &disco, extra), admin, 1);
    let statuses: Vec<u16> = (0..40)
        .map(|i| send(port, &format!("/{i}"), Some("web"), &[]).status)
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 503).count(),
        4,
        "{statuses:?}"
    );
    assert_eq!(backend_count(bad.port), 4);
    assert_eq!(backend_count(good.port), 36);
}

#[test]
fn ewma_sends_most_requests_to_the_faster_endpoint() {
    // Sequential requests: p2c over outstanding sees two idle endpoints every time and splits
    // them about evenly; ewma learns that one answers in ~40 ms and the other at once.
    let slow = Backend::start_slow("slow", 40);
    let fast = Backend::start("fast");
    let disco = web_on(&[&slow, &fast]);
    let run = |lb: &str| {
        let (admin, port) = (free_port(), free_port());
        let extra = format!("  client:\n    loadBalancer: {lb}\n");
        let _h = Hawser::start(&fs_config(admin, port, &disco, &extra), admin, 1);
        let (s0, f0) = (backend_count(slow.port), backend_count(fast.port));
        for i in 0..40 {
            assert_eq!(send(port, &format!("/{i}"), Some("web"), &[]).status, 200);
        }
        (backend_count(slow.port) - s0, backend_count(fast.port) - f0)
    };
    let (slow_ewma, fast_ewma) = run("{kind: ewma}");
    assert_eq!(slow_ewma + fast_ewma, 40);
    // The slow one is tried while it is unmeasured and then loses every comparison (its
    // average decays far slower than 40 sequential requests take).
    assert!(slow_ewma <= 3, "ewma: slow {slow_ewma}, fast {fast_ewma}");
    let (slow_p2c, fast_p2c) = run("{kind: p2c}");
    assert!(
        slow_p2c >= 8,
        "p2c ignores latency: slow {slow_p2c}, fast {fast_p2c}"
    );
}
