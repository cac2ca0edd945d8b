//! Connection semantics: persistence by version, `Connection` options, upgrades, `Expect`.

use super::support::{req, res};
use crate::ErrorKind;

#[test]
fn keep_alive_by_version() {
    let cases: &[(&[u8], bool)] = &[
        (b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", true),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
            false,
        ),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Keep-Alive, CLOSE\r\n\r\n",
            false,
        ),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: x\r\nConnection: close\r\n\r\n",
            false,
        ),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n",
            true,
        ),
        (b"GET / HTTP/1.0\r\n\r\n", false),
        (b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true),
        (b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true),
        (
            b"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
            false,
        ),
    ];
    for (raw, keep) in cases {
        assert_eq!(
            req(raw).keep_alive(),
            *keep,
            "{}",
            super::support::show(raw)
        );
    }
    assert!(res(b"HTTP/1.1 200 OK\r\n\r\n").keep_alive());
    assert!(!res(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n").keep_alive());
    assert!(!res(b"HTTP/1.0 200 OK\r\n\r\n").keep_alive());
    assert!(res(b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n").keep_alive());
}

#[test]
fn connection_tokens_in_order() {
    let head = req(
        b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade , X-Foo\r\nConnection: ,close\r\n\r\n",
    );
    let tokens: Vec<&[u8]> = head.connection_tokens().collect();
    assert_eq!(tokens, vec![&b"Upgrade"[..], b"X-Foo", b"close"]);
    assert!(head.has_connection_token("x-foo"));
    assert!(!head.has_connection_token("x-bar"));
}

#[test]
fn upgrade_needs_both_fields_and_http11() {
    let ws =
        req(b"GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
    assert_eq!(ws.upgrade(), Some(&b"websocket"[..]));
    assert!(ws.is_upgrade());
    let no_token = req(b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n");
    assert_eq!(no_token.upgrade(), None);
    let no_field = req(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n");
    assert_eq!(no_field.upgrade(), None);
    let old = req(b"GET / HTTP/1.0\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n");
    assert_eq!(old.upgrade(), None);
    let switched = res(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
    );
    assert_eq!(switched.upgrade(), Some(&b"websocket"[..]));
    let ok = res(b"HTTP/1.1 200 OK\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n");
    assert_eq!(ok.upgrade(), None);
}

#[test]
fn expectations() {
    let cont =
        req(b"PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n");
    assert_eq!(cont.expects_continue(), Ok(true));
    assert_eq!(
        req(b"PUT / HTTP/1.1\r\nHost: a\r\n\r\n").expects_continue(),
        Ok(false)
    );
    // HTTP/1.0: the expectation is ignored (RFC 9110 10.1.1).
    assert_eq!(
        req(b"PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n").expects_continue(),
        Ok(false)
    );
    for other in [
        &b"Expect: 200-ok"[..],
        b"Expect: 100-continue, x",
        b"Expect: 100-continue\r\nExpect: 100-continue",
    ] {
        let raw = [&b"PUT / HTTP/1.1\r\nHost: a\r\n"[..], other, b"\r\n\r\n"].concat();
        let e = req(&raw).expects_continue().unwrap_err();
        assert_eq!(
            (e.kind(), e.status()),
            (ErrorKind::UnsupportedExpectation, 417)
        );
    }
}
