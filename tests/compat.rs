//! Compatibility corpus: the 39 linkerd 1.x configs from linkerd/linkerd-examples under
//! `../shared/compat/linkerd-examples/` must all be understood by `hawser check`: no unknown-key
//! (or any other) Error, and each either loads or reports only Unsupported features, each with
//! a line. Spot checks pin a few exact diagnostics.

use std::path::{Path, PathBuf};

use hawser::config::{self, Severity};

/// The corpus directory: `../shared` beside the repository (the main checkout), or two levels
/// up (a worktree under `wt/`). `None` when neither exists.
fn corpus() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    [
        "../shared/compat/linkerd-examples",
        "../../shared/compat/linkerd-examples",
    ]
    .iter()
    .map(|rel| root.join(rel))
    .find(|p| p.is_dir())
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("corpus directory is readable")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_corpus_file_is_understood() {
    let Some(dir) = corpus() else {
        println!("note: ../shared/compat/linkerd-examples is absent; skipping the corpus test");
        return;
    };
    let files = files(&dir);
    assert_eq!(files.len(), 39, "the corpus has 39 configs");
    let mut clean = 0;
    for file in &files {
        let report = config::check(file);
        for d in &report.diagnostics {
            assert!(
                !d.message.starts_with("unknown key"),
                "a key linkerd has is not understood: {d}"
            );
            assert_eq!(d.severity, Severity::Unsupported, "unexpected error: {d}");
            assert!(
                d.line > 0 && d.col > 0,
                "diagnostic without a position: {d}"
            );
            assert!(d.message.contains("not support"), "unclear message: {d}");
        }
        match report.exit_code() {
            0 => {
                assert!(report.config.is_some());
                assert!(config::load(file).is_ok());
                clean += 1;
            }
            1 => {
                assert!(report.config.is_none());
                assert_eq!(config::load(file).unwrap_err(), report.diagnostics);
            }
            other => panic!("{}: exit code {other}", file.display()),
        }
    }
    // The plain fs/inet HTTP configs load as they are, and so do the perf baseline's two (an
    // http and an h2 router, each with the io.l5d.prometheus telemeter), the influxdb
    // example's two (the io.l5d.influxdb telemeter), the failure-accrual example
    // (io.l5d.successRate accrual, io.l5d.recentRequests) and add-steps (also an ewma
    // loadBalancer).
    assert_eq!(
        clean, 9,
        "getting-started (docker, local), http-proxy, perf-baseline's h1 and h2, influxdb's two, failure-accrual and add-steps configs load"
    );
}

/// (file, line, col, message) for a handful of known diagnostics.
fn expect(file: &str, want: &[(usize, usize, &str)]) {
    let Some(dir) = corpus() else {
        println!("note: corpus absent; skipping spot check of {file}");
        return;
    };
    let report = config::check(&dir.join(file));
    let got: Vec<(usize, usize, &str)> = report
        .diagnostics
        .iter()
        .map(|d| (d.line, d.col, d.message.as_str()))
        .collect();
    assert_eq!(got, want, "{file}");
}

#[test]
fn spot_check_k8s_namer_and_classifier() {
    expect(
        "add-steps__k8s__add-steps.yml__l5d-config__linkerd.yml",
        &[
            (
                23,
                9,
                "`kind: io.l5d.k8s` (namer) is a linkerd 1.x feature hawser does not support yet",
            ),
            // Its `loadBalancer: {kind: ewma}` (line 66) and `failureAccrual: {kind:
            // io.l5d.successRate}` (line 82) are supported.
        ],
    );
}

#[test]
fn spot_check_consul_requeue_budget_at_odd_indent() {
    // The `requeueBudget` at line 27 (an odd indent) is read and valid: only the namer is left.
    expect(
        "consul__linkerd.yml",
        &[(
            6,
            9,
            "`kind: io.l5d.consul` (namer) is a linkerd 1.x feature hawser does not support yet",
        )],
    );
}

#[test]
fn spot_check_h2_router_and_tls() {
    // An h2 router's insides are checked like an http router's.
    expect(
        "gob__k8s__linkerd.yml__linkerd-config__config.yml",
        &[
            (
                20,
                13,
                "`kind: io.l5d.h2.retryableRead5XX` (responseClassifier) is a linkerd 1.x feature hawser does not support yet",
            ),
            (
                22,
                11,
                "`kind: io.l5d.namerd` (interpreter) is a linkerd 1.x feature hawser does not support yet",
            ),
        ],
    );
    expect(
        "k8s-daemonset__k8s__linkerd-tls-ingress-controller.yml__l5d-config__config.yaml",
        &[
            (
                6,
                9,
                "`kind: io.l5d.k8s` (namer) is a linkerd 1.x feature hawser does not support yet",
            ),
            (
                11,
                11,
                "`kind: io.l5d.ingress` (identifier) is a linkerd 1.x feature hawser does not support yet",
            ),
            (
                16,
                5,
                "`tls` (routers[0].servers[0]) is a linkerd 1.x feature hawser does not support yet",
            ),
        ],
    );
}

#[test]
fn spot_check_linkerd_tcp_is_named() {
    expect(
        "linkerd-tcp__linkerd-tcp.yml",
        &[
            (
                6,
                3,
                "`metricsIntervalSecs` (admin) is a linkerd-tcp setting; hawser does not support linkerd-tcp configs",
            ),
            (
                12,
                3,
                "routers[0] has no `protocol` and its servers name a `dstName`: it is a linkerd-tcp router; linkerd-tcp configs are not supported yet",
            ),
        ],
    );
}

#[test]
fn getting_started_loads_with_linkerd_values() {
    let Some(dir) = corpus() else {
        println!("note: corpus absent; skipping");
        return;
    };
    let c = config::load(&dir.join("getting-started__local__linkerd.yaml")).expect("loads");
    assert_eq!(c.admin.addr().to_string(), "0.0.0.0:9990");
    assert_eq!(c.namers.len(), 1);
    assert_eq!(c.namers[0].prefix(), "/#/io.l5d.fs");
    let r = &c.routers[0];
    assert_eq!(r.label, "http");
    assert_eq!(r.dtab.value, "/svc => /#/io.l5d.fs\n");
    assert_eq!((r.dtab.locate(0).line, r.dtab.locate(0).col), (20, 5));
    assert_eq!(r.servers[0].addr().to_string(), "0.0.0.0:4140");
}
