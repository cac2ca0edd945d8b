//! Unit tests: `protocol: h2` routers, typed with linkerd's defaults.

use std::num::NonZeroUsize;

use super::*;

#[test]
fn an_h2_router_gets_linkerds_defaults() {
    let c = load_str(
        "routers:\n- protocol: h2\n  experimental: true\n  servers:\n  - ip: 127.0.0.1\n",
        "t.yaml",
    )
    .unwrap_or_else(|d| panic!("{d:#?}"));
    let r = &c.routers[0];
    assert_eq!(r.protocol, Protocol::H2);
    assert_eq!(r.label, "h2");
    assert_eq!(r.servers[0].addr().to_string(), "127.0.0.1:4142");
    assert_eq!(
        r.identifiers,
        [IdentifierConfig::HeaderToken {
            header: ":authority".into()
        }]
    );
    assert_eq!(r.servers[0].h2, Some(H2Settings::default()));
    assert_eq!(r.client.h2, None);
}

#[test]
fn grpc_identifiers_and_http2_settings_are_read() {
    let text = "routers:
- protocol: h2
  label: grpc
  identifier:
  - kind: io.l5d.header.path
    segments: 1
  - kind: io.l5d.header.token
    header: X-Service
  servers:
  - port: 4143
    maxConcurrentStreamsPerConnection: 20
    initialStreamWindowBytes: 1048576
    maxFrameBytes: 32768
    maxHeaderListBytes: 65536
    headerTableBytes: 8192
  client:
    initialStreamWindowBytes: 65535
";
    let c = load_str(text, "t.yaml").unwrap_or_else(|d| panic!("{d:#?}"));
    let r = &c.routers[0];
    assert_eq!(
        r.identifiers,
        [
            IdentifierConfig::HeaderPath {
                header: ":path".into(),
                segments: NonZeroUsize::new(1)
            },
            IdentifierConfig::HeaderToken {
                header: "x-service".into()
            },
        ]
    );
    assert_eq!(
        r.servers[0].h2,
        Some(H2Settings {
            max_concurrent_streams: Some(20),
            initial_stream_window: Some(1 << 20),
            max_frame: Some(32768),
            max_header_list: Some(65536),
            header_table: Some(8192),
        })
    );
    assert_eq!(
        r.client.h2.as_ref().unwrap().initial_stream_window,
        Some(65535)
    );
}

#[test]
fn what_hawser_does_not_do_for_h2_is_named_at_its_line() {
    let r = check_str(
        "routers:\n- protocol: h2\n  servers:\n  - port: 4142\n    windowUpdateRatio: 0.5\n    maxFrameBytes: 1000\n  identifier:\n    kind: io.l5d.methodAndHost\n",
        "t.yaml",
    );
    let d: Vec<(usize, Severity, &str)> = r
        .diagnostics
        .iter()
        .map(|d| (d.line, d.severity, d.key_path.as_str()))
        .collect();
    assert_eq!(
        d,
        [
            (
                5,
                Severity::Unsupported,
                "routers[0].servers[0].windowUpdateRatio"
            ),
            (6, Severity::Error, "routers[0].servers[0].maxFrameBytes"),
            (8, Severity::Error, "routers[0].identifier.kind"),
        ],
        "{:#?}",
        r.diagnostics
    );
}
