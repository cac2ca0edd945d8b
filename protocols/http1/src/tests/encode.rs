//! Encoder behaviour: hop-by-hop removal, declared framing and persistence, rewriting options,
//! sanitising caller values, proxy-generated responses and chunk framing.

use bytes::BytesMut;

use super::support::{req, res, show};
use crate::{
    BodyHeader, ConnectionHeader, EncodeOptions, HeaderBlock, encode_last_chunk,
    encode_request_head, encode_response, encode_response_head,
};

fn encode_req(raw: &[u8], opts: &EncodeOptions<'_>) -> String {
    let mut out = BytesMut::new();
    encode_request_head(&req(raw), opts, &mut out);
    show(&out)
}

#[test]
fn drops_hop_by_hop_fields_and_those_connection_names() {
    let raw =
        b"POST /p HTTP/1.0\r\nHost: svc\r\nConnection: keep-alive, X-Hop, Host, Content-Length\r\n\
        Keep-Alive: timeout=5\r\nX-Hop: secret\r\nx-hop: again\r\nTE: trailers\r\nTrailer: X\r\n\
        Upgrade: h2c\r\nProxy-Connection: keep-alive\r\nProxy-Authorization: Basic Zm9v\r\n\
        Proxy-Authenticate: Basic\r\nContent-Length: 3\r\nX-Keep: yes\r\n\r\n";
    let got = encode_req(raw, &EncodeOptions::default());
    assert_eq!(
        got,
        "POST /p HTTP/1.1\r\nHost: svc\r\nContent-Length: 3\r\nX-Keep: yes\r\n\r\n"
    );
}

#[test]
fn declares_framing_and_connection() {
    let raw =
        b"POST /p HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked\r\nContent-Length: 9\r\n\r\n";
    let chunked = EncodeOptions {
        body: BodyHeader::Chunked,
        connection: ConnectionHeader::Close,
        ..EncodeOptions::default()
    };
    assert_eq!(
        encode_req(raw, &chunked),
        "POST /p HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    let length = EncodeOptions {
        body: BodyHeader::Length(12),
        connection: ConnectionHeader::KeepAlive,
        ..EncodeOptions::default()
    };
    assert_eq!(
        encode_req(raw, &length),
        "POST /p HTTP/1.1\r\nHost: svc\r\nContent-Length: 12\r\nConnection: keep-alive\r\n\r\n"
    );
    let none = EncodeOptions {
        body: BodyHeader::None,
        ..EncodeOptions::default()
    };
    assert_eq!(
        encode_req(raw, &none),
        "POST /p HTTP/1.1\r\nHost: svc\r\n\r\n"
    );
    let upgrade = EncodeOptions {
        connection: ConnectionHeader::Upgrade(b"websocket"),
        ..EncodeOptions::default()
    };
    let ws = b"GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: k\r\n\r\n";
    assert_eq!(
        encode_req(ws, &upgrade),
        "GET /chat HTTP/1.1\r\nHost: a\r\nSec-WebSocket-Key: k\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n"
    );
}

#[test]
fn rewrites_target_drops_by_predicate_and_appends() {
    let raw = b"GET /svc/users/42?x=1 HTTP/1.1\r\nHost: a\r\nl5d-ctx-dtab: /a=>/b\r\nL5d-Ctx-Trace: t\r\nAccept: */*\r\n\r\n";
    let drop_ctx = |name: &[u8]| name.len() >= 8 && name[..8].eq_ignore_ascii_case(b"l5d-ctx-");
    let extra: &[(&str, &[u8])] = &[("l5d-dst-service", b"/svc/users"), ("Via", b"1.1 hawser")];
    let opts = EncodeOptions {
        target: Some("/42?x=1"),
        drop_header: Some(&drop_ctx),
        extra_headers: extra,
        ..EncodeOptions::default()
    };
    assert_eq!(
        encode_req(raw, &opts),
        "GET /42?x=1 HTTP/1.1\r\nHost: a\r\nAccept: */*\r\nl5d-dst-service: /svc/users\r\nVia: 1.1 hawser\r\n\r\n"
    );
}

#[test]
fn caller_values_cannot_split_the_message() {
    let extra: &[(&str, &[u8])] = &[
        ("l5d-err", b"bad dtab\r\nSet-Cookie: x\0"),
        ("Bad Name", b"v"),
        ("Bad\r\nName", b"v"),
    ];
    let opts = EncodeOptions {
        extra_headers: extra,
        connection: ConnectionHeader::Upgrade(b"ws\r\nX: y"),
        ..EncodeOptions::default()
    };
    let got = encode_req(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", &opts);
    assert_eq!(
        got,
        "GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: ws  X: y\r\n\
         l5d-err: bad dtab  Set-Cookie: x \r\n\r\n"
    );
    // And it still parses as one head with the expected fields.
    let head = req(got.as_bytes());
    assert_eq!(head.headers().len(), 4);
}

#[test]
fn response_head_keeps_reason_and_length_for_head() {
    let raw = b"HTTP/1.0 200 Fine\r\nContent-Length: 1234\r\nConnection: close\r\nX: y\r\n\r\n";
    let mut out = BytesMut::new();
    encode_response_head(&res(raw), &EncodeOptions::default(), &mut out);
    assert_eq!(
        show(&out),
        "HTTP/1.1 200 Fine\r\nContent-Length: 1234\r\nX: y\r\n\r\n"
    );
}

#[test]
fn proxy_generated_responses() {
    let mut out = BytesMut::new();
    encode_response(
        502,
        "Bad Gateway",
        &[("l5d-err", b"connection refused")],
        b"no route\n",
        true,
        &mut out,
    );
    assert_eq!(
        show(&out),
        "HTTP/1.1 502 Bad Gateway\r\nl5d-err: connection refused\r\nContent-Length: 9\r\n\
         Connection: close\r\n\r\nno route\n"
    );
    let (head, n) = crate::parse_response(&out, &crate::Limits::default())
        .unwrap()
        .unwrap();
    assert_eq!((head.status(), out.len() - n), (502, 9));
    assert!(!head.keep_alive());

    let mut out = BytesMut::new();
    encode_response(100, "Continue", &[], b"", false, &mut out);
    assert_eq!(show(&out), "HTTP/1.1 100 Continue\r\n\r\n");
    let mut out = BytesMut::new();
    encode_response(204, "No Content", &[], b"ignored", false, &mut out);
    assert_eq!(show(&out), "HTTP/1.1 204 No Content\r\n\r\n");
}

#[test]
fn chunk_framing() {
    let mut out = BytesMut::new();
    crate::encode_chunk_header(0x1a2b, &mut out);
    crate::encode_chunk_header(0, &mut out);
    crate::encode_chunk_end(&mut out);
    crate::encode_chunk_header(u64::MAX, &mut out);
    assert_eq!(show(&out), "1a2b\r\n\r\nffffffffffffffff\r\n");
    let trailers = HeaderBlock::from_pairs(&[
        ("Grpc-Status", b"0"),
        ("Content-Length", b"5"),
        ("Transfer-Encoding", b"chunked"),
        ("Host", b"x"),
        ("X-Sum", b"abc"),
    ])
    .unwrap();
    let mut out = BytesMut::new();
    encode_last_chunk(Some(&trailers), &mut out);
    assert_eq!(show(&out), "0\r\nGrpc-Status: 0\r\nX-Sum: abc\r\n\r\n");
    let mut out = BytesMut::new();
    encode_last_chunk(None, &mut out);
    assert_eq!(&out[..], b"0\r\n\r\n");
}

#[test]
fn hop_by_hop_names() {
    for name in [
        "Connection",
        "keep-alive",
        "TE",
        "Trailer",
        "transfer-encoding",
        "UPGRADE",
        "Proxy-Connection",
        "proxy-authenticate",
        "Proxy-Authorization",
    ] {
        assert!(crate::is_hop_by_hop(name.as_bytes()), "{name}");
    }
    for name in [
        "Host",
        "Content-Length",
        "Trailers",
        "Tea",
        "X-Connection",
        "Proxy",
    ] {
        assert!(!crate::is_hop_by_hop(name.as_bytes()), "{name}");
    }
}
