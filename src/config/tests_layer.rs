//! Unit tests for profiles layered over a config: the merge rules, the `routers` rule, and
//! diagnostics that name the file, line and column a key came from.

use std::time::Duration;

use super::*;

const BASE: &str = "\
runtime:
  cores: 2
  drainTimeoutMs: 5000
routers:
- protocol: http
  label: edge
  dtab: /svc => /$/inet/127.0.0.1/8080;
  servers:
  - port: 4140
  client:
    connectTimeoutMs: 500
- protocol: http
  label: internal
  servers:
  - port: 4141
";

fn layered(profiles: &[(&str, &str)]) -> CheckReport {
    let layers: Vec<Layer<'_>> = profiles
        .iter()
        .map(|&(name, text)| Layer { name, text })
        .collect();
    check_layered(BASE, "base.yaml", &layers)
}

fn config(profiles: &[(&str, &str)]) -> Config {
    let report = layered(profiles);
    assert!(report.diagnostics.is_empty(), "{:#?}", report.diagnostics);
    report.config.expect("a config")
}

/// Diagnostics as `file:line:col: message` lines.
fn lines(profiles: &[(&str, &str)]) -> Vec<String> {
    layered(profiles)
        .diagnostics
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn mappings_merge_key_by_key_and_scalars_replace() {
    let c = config(&[("p.yaml", "runtime:\n  cores: 4\n  maxHeaderCount: 50\n")]);
    assert_eq!(c.runtime.cores.map(|n| n.get()), Some(4));
    assert_eq!(c.runtime.max_header_count, 50);
    // Kept from the base: the profile did not mention it.
    assert_eq!(c.runtime.drain_timeout, Duration::from_millis(5000));
    assert_eq!(c.routers.len(), 2);
    assert_eq!(c.sources, ["base.yaml", "p.yaml"]);
}

#[test]
fn profiles_apply_in_order_the_last_wins() {
    let c = config(&[
        (
            "a.yaml",
            "runtime:\n  cores: 4\n  requestHeaderTimeoutMs: 2000\n",
        ),
        ("b.yaml", "runtime:\n  cores: 1\n"),
    ]);
    assert_eq!(c.runtime.cores.map(|n| n.get()), Some(1));
    assert_eq!(
        c.runtime.request_header_timeout,
        Duration::from_millis(2000)
    );
}

#[test]
fn router_entry_without_label_merges_into_every_router() {
    let c = config(&[(
        "p.yaml",
        "routers:\n- client:\n    hostConnectionPool:\n      maxSize: 7\n",
    )]);
    for r in &c.routers {
        assert_eq!(r.client.pool.max_idle_per_endpoint, 7, "{}", r.label);
    }
    // A deep merge: the base's connect timeout on `edge` survives.
    assert_eq!(
        c.routers[0].client.connect_timeout,
        Duration::from_millis(500)
    );
    assert_eq!(c.routers[1].client.connect_timeout, Duration::from_secs(1));
    assert_eq!(c.routers[0].servers.len(), 1);
}

#[test]
fn router_entry_with_label_merges_into_that_router_only() {
    let c = config(&[(
        "p.yaml",
        "routers:\n- label: internal\n  maxHeadersKB: 16\n",
    )]);
    assert_eq!(c.routers[0].max_headers, ByteSize::kib(8));
    assert_eq!(c.routers[1].max_headers, ByteSize::kib(16));
    assert_eq!(c.routers[1].label, "internal");
}

#[test]
fn a_router_without_label_is_matched_by_its_protocol() {
    let base = "routers:\n- protocol: http\n  servers:\n  - port: 4140\n";
    let layers = [Layer {
        name: "p.yaml",
        text: "routers:\n- label: http\n  maxHeadersKB: 32\n",
    }];
    let c = load_layered(base, "base.yaml", &layers).unwrap();
    assert_eq!(c.routers[0].max_headers, ByteSize::kib(32));
}

#[test]
fn lists_in_a_profile_replace_the_base_list() {
    let c = config(&[(
        "p.yaml",
        "routers:\n- label: edge\n  servers:\n  - port: 5000\n  - port: 5001\n",
    )]);
    let ports: Vec<u16> = c.routers[0].servers.iter().map(|s| s.port).collect();
    assert_eq!(ports, [5000, 5001]);
}

#[test]
fn a_value_of_another_type_replaces_a_mapping() {
    // A profile scalar over a base mapping replaces it; the validator then reports it in the
    // profile.
    let got = lines(&[("p.yaml", "runtime: 3\n")]);
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(got[0].starts_with("p.yaml:1:10: "), "{got:#?}");
}

#[test]
fn diagnostics_for_profile_keys_name_the_profile_file_line_and_column() {
    let got = lines(&[(
        "latency.yaml",
        "# comment\nruntime:\n  corse: 2\n  maxHeaderCount: 0\n",
    )]);
    assert_eq!(got.len(), 2, "{got:#?}");
    assert!(got[0].starts_with("latency.yaml:3:3: "), "{got:#?}");
    assert!(got[0].contains("did you mean `cores`"), "{got:#?}");
    assert!(got[1].starts_with("latency.yaml:4:19: "), "{got:#?}");
}

#[test]
fn diagnostics_inside_merged_routers_point_into_the_profile() {
    let got = lines(&[("p.yaml", "routers:\n- client:\n    connectTimeoutMs: -1\n")]);
    // Once per router it merged into, both at the profile's value.
    assert_eq!(got.len(), 2, "{got:#?}");
    for l in &got {
        assert!(l.starts_with("p.yaml:3:23: "), "{got:#?}");
    }
}

#[test]
fn base_diagnostics_keep_the_base_file_and_sort_first() {
    let base = "runtime:\n  cores: 0\nrouters:\n- protocol: http\n  servers:\n  - port: 4140\n";
    let layers = [Layer {
        name: "p.yaml",
        text: "runtime:\n  ioMemoryKiB: 1\n",
    }];
    let got: Vec<String> = check_layered(base, "base.yaml", &layers)
        .diagnostics
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(got.len(), 2, "{got:#?}");
    assert!(got[0].starts_with("base.yaml:2:10: "), "{got:#?}");
    assert!(got[1].starts_with("p.yaml:2:16: "), "{got:#?}");
}

#[test]
fn a_dtab_from_a_profile_is_located_in_the_profile() {
    let c = config(&[(
        "p.yaml",
        "routers:\n- label: internal\n  dtab: |\n    /svc => /a;\n    /x => /y;\n",
    )]);
    let r = &c.routers[1];
    let at = r.dtab.value.find("/x").unwrap();
    let pos = r.dtab.locate(at);
    assert_eq!((pos.line, pos.col), (5, 5));
    assert_eq!(c.source_name(pos), Some("p.yaml"));
    assert_eq!(c.source_name(c.routers[0].dtab.pos), Some("base.yaml"));
}

#[test]
fn an_unknown_label_is_an_error_naming_the_routers() {
    let got = lines(&[("p.yaml", "routers:\n- label: egde\n  maxHeadersKB: 16\n")]);
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(got[0].starts_with("p.yaml:2:10: no router labelled `egde` in base.yaml"));
    assert!(got[0].contains("`edge`, `internal`"), "{got:#?}");
}

#[test]
fn profile_shape_errors_are_reported_in_the_profile() {
    let got = lines(&[("p.yaml", "- runtime\n")]);
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(got[0].starts_with("p.yaml:1:1: a profile is a mapping"));
    let got = lines(&[("p.yaml", "routers:\n  label: edge\n")]);
    assert!(got[0].starts_with("p.yaml:2:3: in a profile, `routers` is a list"));
    let got = lines(&[("p.yaml", "routers:\n- 3\n")]);
    assert!(
        got[0].starts_with("p.yaml:2:3: `routers[0]` in a profile"),
        "{got:#?}"
    );
}

#[test]
fn syntax_errors_in_a_profile_name_the_profile() {
    let got = lines(&[("p.yaml", "runtime:\n  cores: [1\n")]);
    assert!(!got.is_empty());
    assert!(got.iter().all(|l| l.starts_with("p.yaml:")), "{got:#?}");
    assert!(
        layered(&[("p.yaml", "runtime:\n  cores: [1\n")])
            .config
            .is_none()
    );
}

#[test]
fn an_empty_profile_changes_nothing() {
    let c = config(&[("p.yaml", "# nothing\n")]);
    assert_eq!(c.runtime.cores.map(|n| n.get()), Some(2));
}

#[test]
fn cross_file_references_name_the_other_file() {
    let base =
        "admin:\n  shutdownGraceMs: 100\nrouters:\n- protocol: http\n  servers:\n  - port: 4140\n";
    let layers = [Layer {
        name: "p.yaml",
        text: "runtime:\n  drainTimeoutMs: 200\n",
    }];
    let got = check_layered(base, "base.yaml", &layers).diagnostics;
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0].file, "base.yaml");
    assert!(got[0].message.contains("(line 2 of p.yaml)"), "{got:#?}");
}

#[test]
fn shipped_profiles_layer_cleanly_over_the_quickstart() {
    let quickstart = include_str!("../../examples/quickstart.yaml");
    for (name, text) in [
        (
            "latency.yaml",
            include_str!("../../tuning/profiles/latency.yaml"),
        ),
        (
            "throughput.yaml",
            include_str!("../../tuning/profiles/throughput.yaml"),
        ),
        (
            "small-memory.yaml",
            include_str!("../../tuning/profiles/small-memory.yaml"),
        ),
    ] {
        let layers = [Layer { name, text }];
        if let Err(d) = load_layered(quickstart, "quickstart.yaml", &layers) {
            panic!("{name}: {d:#?}");
        }
    }
}
