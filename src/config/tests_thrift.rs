//! Unit tests: `protocol: thrift` routers, typed with linkerd's defaults, and the Thrift
//! variants hawser does not speak yet reported at their lines.

use super::*;

fn diags(text: &str) -> Vec<(usize, usize, Severity, String, String)> {
    check_str(text, "t.yaml")
        .diagnostics
        .into_iter()
        .map(|d| (d.line, d.col, d.severity, d.key_path, d.message))
        .collect()
}

#[test]
fn a_thrift_router_gets_linkerds_defaults() {
    let c = load_str(
        "routers:\n- protocol: thrift\n  dtab: /svc => /$/inet/127.1/5005;\n  servers:\n  - ip: 127.0.0.1\n",
        "t.yaml",
    )
    .unwrap_or_else(|d| panic!("{d:#?}"));
    let r = &c.routers[0];
    assert_eq!(r.protocol, Protocol::Thrift);
    assert_eq!(r.label, "thrift");
    assert_eq!(r.dst_prefix.value, "/svc");
    assert_eq!(r.thrift, Some(ThriftRouterConfig::default()));
    assert!(!r.thrift.as_ref().unwrap().method_in_dst);
    assert!(r.identifiers.is_empty());
    assert_eq!(r.servers[0].addr().to_string(), "127.0.0.1:4114");
    // /config.json shows the thrift keys and no http identifiers.
    let json = serde_json::to_value(r).unwrap();
    assert_eq!(json["protocol"], "thrift");
    assert_eq!(json["thriftMethodInDst"], false);
    assert!(json.get("identifiers").is_none());
    let http = load_str(
        "routers:\n- protocol: http\n  servers:\n  - port: 4140\n",
        "t.yaml",
    )
    .unwrap();
    assert!(http.routers[0].thrift.is_none());
    assert!(
        serde_json::to_value(&http.routers[0])
            .unwrap()
            .get("thriftMethodInDst")
            .is_none()
    );
}

#[test]
fn what_hawser_speaks_is_accepted_explicitly() {
    let text = "routers:
- protocol: thrift
  label: port-shifter
  dstPrefix: /thrift
  thriftMethodInDst: true
  thriftProtocol: binary
  servers:
  - port: 4004
    ip: 0.0.0.0
    thriftFramed: true
  client:
    thriftFramed: true
    thriftProtocol: binary
    attemptTTwitterUpgrade: false
";
    let c = load_str(text, "t.yaml").unwrap_or_else(|d| panic!("{d:#?}"));
    let r = &c.routers[0];
    assert_eq!(r.label, "port-shifter");
    assert_eq!(r.dst_prefix.value, "/thrift");
    assert!(r.thrift.as_ref().unwrap().method_in_dst);
    assert_eq!(r.servers[0].addr().to_string(), "0.0.0.0:4004");
}

#[test]
fn other_transports_protocols_and_the_upgrade_are_unsupported_at_their_lines() {
    // linkerd's own example (protocol-thrift.md): buffered transport, compact protocol.
    let text = "routers:
- protocol: thrift
  label: port-shifter
  dtab: |
    /svc => /$/inet/127.1/5005;
  thriftProtocol: compact
  servers:
  - port: 4004
    ip: 0.0.0.0
    thriftFramed: false
  client:
    thriftFramed: false
    attemptTTwitterUpgrade: true
";
    let d = diags(text);
    let at: Vec<_> = d
        .iter()
        .map(|(l, c, s, k, _)| (*l, *c, *s, k.as_str()))
        .collect();
    assert_eq!(
        at,
        [
            (6, 19, Severity::Unsupported, "routers[0].thriftProtocol"),
            (
                10,
                19,
                Severity::Unsupported,
                "routers[0].servers[0].thriftFramed"
            ),
            (
                12,
                19,
                Severity::Unsupported,
                "routers[0].client.thriftFramed"
            ),
            (
                13,
                29,
                Severity::Unsupported,
                "routers[0].client.attemptTTwitterUpgrade"
            ),
        ],
        "{d:#?}"
    );
    assert!(d[0].4.contains("TCompactProtocol"), "{}", d[0].4);
    assert!(d[1].4.contains("buffered"), "{}", d[1].4);
    assert!(d[3].4.contains("TTwitter"), "{}", d[3].4);
    // The older linkerd spelling put thriftProtocol on the server: read there too.
    let d = diags(
        "routers:\n- protocol: thrift\n  servers:\n  - port: 4004\n    thriftProtocol: compact\n",
    );
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(
        (d[0].0, d[0].3.as_str()),
        (5, "routers[0].servers[0].thriftProtocol")
    );
}

#[test]
fn bad_thrift_values_are_errors() {
    let d =
        diags("routers:\n- protocol: thrift\n  thriftProtocol: json\n  servers:\n  - port: 4004\n");
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!((d[0].0, d[0].2), (3, Severity::Error));
    assert_eq!(
        d[0].4,
        "`routers[0].thriftProtocol` must be `binary` or `compact`, found `json`"
    );
    let d = diags(
        "routers:\n- protocol: thrift\n  thriftMethodInDst: yes please\n  servers:\n  - port: 4004\n",
    );
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!((d[0].0, d[0].2), (3, Severity::Error));
    // http keys do not belong to a thrift router, nor thrift keys to an http server.
    let d = diags("routers:\n- protocol: thrift\n  maxHeadersKB: 8\n  servers:\n  - port: 4004\n");
    assert_eq!((d.len(), d[0].2), (1, Severity::Error), "{d:#?}");
    let d =
        diags("routers:\n- protocol: http\n  servers:\n  - port: 4140\n    thriftFramed: true\n");
    assert_eq!((d.len(), d[0].2), (1, Severity::Error), "{d:#?}");
}
