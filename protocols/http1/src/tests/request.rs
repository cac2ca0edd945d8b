//! Request head vectors: RFC 9112 examples that must parse, and the malformed and smuggling
//! cases that must be refused with the right status.

use bytes::BytesMut;

use super::support::{req, req_err, req_err_with, show};
use crate::{ErrorKind, Limits, Peer, Version, parse_request, take_request};

#[test]
fn rfc9112_example_request() {
    // RFC 9112 section 2.1 / RFC 9110 example exchange.
    let raw = b"GET /hello.txt HTTP/1.1\r\nUser-Agent: curl/7.64.1\r\nHost: www.example.com\r\n\
                Accept-Language: en, mi\r\n\r\n";
    let head = req(raw);
    assert_eq!(head.method(), "GET");
    assert_eq!(head.target(), "/hello.txt");
    assert_eq!(head.version(), Version::Http11);
    let fields: Vec<(&str, &[u8])> = head.headers().iter().collect();
    assert_eq!(
        fields,
        vec![
            ("User-Agent", &b"curl/7.64.1"[..]),
            ("Host", b"www.example.com"),
            ("Accept-Language", b"en, mi"),
        ]
    );
    assert_eq!(head.header("host"), Some(&b"www.example.com"[..]));
    assert_eq!(head.header("HOST"), Some(&b"www.example.com"[..]));
    assert_eq!(head.header("accept"), None);
    assert_eq!(head.raw().as_ref(), raw);
}

#[test]
fn rfc9112_request_target_forms() {
    let ok: &[(&[u8], &str, &str)] = &[
        (b"GET /where?q=now HTTP/1.1\r\nHost: www.example.org\r\n\r\n", "GET", "/where?q=now"),
        (
            b"GET http://www.example.org/pub/WWW/TheProject.html HTTP/1.1\r\nHost: www.example.org\r\n\r\n",
            "GET",
            "http://www.example.org/pub/WWW/TheProject.html",
        ),
        (b"CONNECT www.example.com:80 HTTP/1.1\r\nHost: www.example.com\r\n\r\n", "CONNECT", "www.example.com:80"),
        (b"CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n", "CONNECT", "[::1]:443"),
        (b"OPTIONS * HTTP/1.1\r\nHost: www.example.org:8001\r\n\r\n", "OPTIONS", "*"),
        (b"OPTIONS http://www.example.org:8001 HTTP/1.1\r\nHost: www.example.org:8001\r\n\r\n", "OPTIONS", "http://www.example.org:8001"),
    ];
    for (raw, method, target) in ok {
        let head = req(raw);
        assert_eq!(
            (head.method(), head.target()),
            (*method, *target),
            "{}",
            show(raw)
        );
    }
    let bad: &[&[u8]] = &[
        b"GET * HTTP/1.1\r\nHost: a\r\n\r\n",
        b"CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n",
        b"CONNECT example.com HTTP/1.1\r\nHost: a\r\n\r\n",
        b"CONNECT example.com: HTTP/1.1\r\nHost: a\r\n\r\n",
        b"CONNECT :80 HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET where HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET 1http://a/ HTTP/1.1\r\nHost: a\r\n\r\n",
    ];
    for raw in bad {
        let e = req_err(raw);
        assert_eq!(
            (e.kind(), e.status()),
            (ErrorKind::InvalidTarget, 400),
            "{}",
            show(raw)
        );
    }
}

#[test]
fn http10_and_leading_empty_line() {
    let head = req(b"GET / HTTP/1.0\r\n\r\n");
    assert_eq!(head.version(), Version::Http10);
    assert!(head.headers().is_empty());
    // RFC 9112 2.2: a server SHOULD ignore at least one empty line before the request line.
    let head = req(b"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(head.target(), "/");
}

#[test]
fn incomplete_heads_need_more() {
    let full = b"POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc";
    let head_len = full.len() - 3;
    for cut in 0..head_len {
        assert_eq!(
            parse_request(&full[..cut], &Limits::default()),
            Ok(None),
            "cut at {cut}: {}",
            show(&full[..cut])
        );
    }
    let (head, n) = parse_request(full, &Limits::default()).unwrap().unwrap();
    assert_eq!(n, head_len);
    assert_eq!(head.header("content-length"), Some(&b"3"[..]));
}

#[test]
fn take_request_splits_the_buffer_without_copying() {
    let mut buf = BytesMut::from(
        &b"GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: b\r\n\r\n"[..],
    );
    let base = buf.as_ptr();
    let first = take_request(&mut buf, &Limits::default()).unwrap().unwrap();
    assert_eq!(first.target(), "/a");
    assert_eq!(first.raw().as_ptr(), base, "head shares the read buffer");
    let second = take_request(&mut buf, &Limits::default()).unwrap().unwrap();
    assert_eq!(second.target(), "/b");
    assert!(buf.is_empty());
    assert_eq!(take_request(&mut buf, &Limits::default()), Ok(None));
}

#[test]
fn repeated_fields_keep_order_and_case() {
    let head = req(b"GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nx-a: 2\r\nX-B: 3\r\nX-A: 4\r\n\r\n");
    let all: Vec<&[u8]> = head.header_all("X-a").collect();
    assert_eq!(all, vec![&b"1"[..], b"2", b"4"]);
    assert_eq!(head.header("x-A"), Some(&b"1"[..]));
    let names: Vec<&str> = head.headers().iter().map(|(n, _)| n).collect();
    assert_eq!(names, vec!["Host", "X-A", "x-a", "X-B", "X-A"]);
    // Optional whitespace around values is not part of the value; empty values are allowed.
    let head = req(b"GET / HTTP/1.1\r\nHost: a\r\nX:  \t v w \t \r\nY:\r\n\r\n");
    assert_eq!(head.header("x"), Some(&b"v w"[..]));
    assert_eq!(head.header("y"), Some(&b""[..]));
}

/// (input, kind, status) for malformed requests: all must be refused, never forwarded.
const MALFORMED: &[(&[u8], ErrorKind, u16)] = &[
    // Bare LF / bare CR line terminators (RFC 9112 2.2).
    (
        b"GET / HTTP/1.1\nHost: a\r\n\r\n",
        ErrorKind::InvalidLineEnding,
        400,
    ),
    (
        b"GET / HTTP/1.1\r\nHost: a\n\r\n",
        ErrorKind::InvalidLineEnding,
        400,
    ),
    (
        b"GET / HTTP/1.1\r\nHost: a\r\n\n",
        ErrorKind::InvalidLineEnding,
        400,
    ),
    (
        b"GET / HTTP/1.1\r\nHost: a\n\n",
        ErrorKind::InvalidLineEnding,
        400,
    ),
    (
        b"\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
        ErrorKind::InvalidLineEnding,
        400,
    ),
    (
        b"GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n",
        ErrorKind::InvalidLineEnding,
        400,
    ),
    (
        b"GET / HTTP/1.1\rHost: a\r\n\r\n",
        ErrorKind::InvalidLineEnding,
        400,
    ),
    (
        b"GET / HTTP/1.1\r\nHost: a\r\n\rX",
        ErrorKind::InvalidLineEnding,
        400,
    ),
    // obs-fold (RFC 9112 5.2).
    (
        b"GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n",
        ErrorKind::ObsFold,
        400,
    ),
    (
        b"GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n\tc\r\n\r\n",
        ErrorKind::ObsFold,
        400,
    ),
    (
        b"GET / HTTP/1.1\r\n Host: a\r\n\r\n",
        ErrorKind::ObsFold,
        400,
    ),
    // Field names: whitespace before the colon (RFC 9112 5.1), CTLs, separators, empty.
    (
        b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
        ErrorKind::InvalidHeaderName,
        400,
    ),
    (
        b"GET / HTTP/1.1\r\nHost\t: a\r\n\r\n",
        ErrorKind::InvalidHeaderName,
        400,
    ),
    (
        b"GET / HTTP/1.1\r\nHo\0st: a\r\n\r\n",
        ErrorKind::InvalidHeaderName,
        400,
    ),
    (
        b"GET / HTTP/1.1\r\nHo(st: a\r\n\r\n",
        ErrorKind::InvalidHeaderName,
        400,
    ),
    (
        b"GET / HTTP/1.1\r\n: a\r\n\r\n",
        ErrorKind::InvalidHeaderName,
        400,
    ),
    (
        b"GET / HTTP/1.1\r\nHost a\r\n\r\n",
        ErrorKind::InvalidHeaderName,
        400,
    ),
    // Field values: NUL and other controls.
    (
        b"GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n",
        ErrorKind::InvalidHeaderValue,
        400,
    ),
    (
        b"GET / HTTP/1.1\r\nHost: a\x01b\r\n\r\n",
        ErrorKind::InvalidHeaderValue,
        400,
    ),
    (
        b"GET / HTTP/1.1\r\nHost: a\x7fb\r\n\r\n",
        ErrorKind::InvalidHeaderValue,
        400,
    ),
    // Methods and targets.
    (
        b"G(T / HTTP/1.1\r\nHost: a\r\n\r\n",
        ErrorKind::InvalidMethod,
        400,
    ),
    (
        b" GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        ErrorKind::InvalidMethod,
        400,
    ),
    (
        b"GET\0 / HTTP/1.1\r\nHost: a\r\n\r\n",
        ErrorKind::InvalidMethod,
        400,
    ),
    (
        b"GET /a\0b HTTP/1.1\r\nHost: a\r\n\r\n",
        ErrorKind::InvalidTarget,
        400,
    ),
    (
        b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
        ErrorKind::InvalidTarget,
        400,
    ),
    // Versions: malformed is 400, well-formed but unsupported is 505.
    (
        b"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
        ErrorKind::UnsupportedVersion,
        505,
    ),
    (
        b"GET / HTTP/1.2\r\nHost: a\r\n\r\n",
        ErrorKind::UnsupportedVersion,
        505,
    ),
    (
        b"GET / HTTP/0.9\r\nHost: a\r\n\r\n",
        ErrorKind::UnsupportedVersion,
        505,
    ),
    (b"GET / HTTP/3", ErrorKind::UnsupportedVersion, 505),
    (
        b"GET / http/1.1\r\nHost: a\r\n\r\n",
        ErrorKind::InvalidVersion,
        400,
    ),
    (
        b"GET / HTTP/1.1x\r\nHost: a\r\n\r\n",
        ErrorKind::InvalidVersion,
        400,
    ),
    (
        b"GET / HTTP/11\r\nHost: a\r\n\r\n",
        ErrorKind::InvalidVersion,
        400,
    ),
    (
        b"GET / HTTP/1.1 \r\nHost: a\r\n\r\n",
        ErrorKind::InvalidVersion,
        400,
    ),
    (b"GET /\r\n\r\n", ErrorKind::InvalidTarget, 400),
    // Host (RFC 9112 3.2).
    (b"GET / HTTP/1.1\r\n\r\n", ErrorKind::InvalidHost, 400),
    (
        b"GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n",
        ErrorKind::InvalidHost,
        400,
    ),
    (
        b"GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n",
        ErrorKind::InvalidHost,
        400,
    ),
];

#[test]
fn malformed_requests_are_refused() {
    for (raw, kind, status) in MALFORMED {
        let e = req_err(raw);
        assert_eq!((e.kind(), e.status()), (*kind, *status), "{}", show(raw));
        assert_eq!(e.peer(), Peer::Downstream);
        assert_eq!(e.reason(), kind.reason());
    }
}

#[test]
fn limits_answer_414_and_431_even_before_the_head_ends() {
    let limits = Limits {
        max_request_line: 32,
        max_header_bytes: 64,
        max_headers: 3,
        ..Limits::default()
    };
    // Exactly at the request-line limit is fine.
    let line = format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "a".repeat(32 - 14));
    assert!(parse_request(line.as_bytes(), &limits).unwrap().is_some());
    // One past: 414, whether the line has ended or not.
    let long = format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "a".repeat(33 - 14));
    assert_eq!(req_err_with(long.as_bytes(), &limits).status(), 414);
    let endless = format!("GET /{}", "a".repeat(40));
    assert_eq!(
        req_err_with(endless.as_bytes(), &limits).kind(),
        ErrorKind::LineTooLong
    );
    // A flood of empty lines counts against the start line too.
    assert_eq!(
        req_err_with(&[b'\r', b'\n'].repeat(20), &limits).status(),
        414
    );

    // Header bytes: complete and incomplete.
    let big = format!("GET / HTTP/1.1\r\nHost: a\r\nX: {}\r\n\r\n", "v".repeat(60));
    let e = req_err_with(big.as_bytes(), &limits);
    assert_eq!((e.kind(), e.status()), (ErrorKind::HeadersTooLarge, 431));
    let unfinished = format!("GET / HTTP/1.1\r\nHost: a\r\nX: {}", "v".repeat(80));
    assert_eq!(req_err_with(unfinished.as_bytes(), &limits).status(), 431);

    // Header count: complete and incomplete.
    let many = b"GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
    let e = req_err_with(many, &limits);
    assert_eq!((e.kind(), e.status()), (ErrorKind::TooManyHeaders, 431));
    let e = req_err_with(
        b"GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n",
        &limits,
    );
    assert_eq!(e.kind(), ErrorKind::TooManyHeaders);
    let three = b"GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n";
    assert!(parse_request(three, &limits).unwrap().is_some());
}

#[test]
fn default_limits() {
    let l = Limits::default();
    assert_eq!(
        (l.max_request_line, l.max_header_bytes, l.max_headers),
        (8192, 65536, 100)
    );
    let fields: String = (0..100).map(|i| format!("X-{i}: v\r\n")).collect();
    let ok = format!("GET / HTTP/1.1\r\n{fields}Host: a\r\n\r\n");
    assert_eq!(req_err(ok.as_bytes()).kind(), ErrorKind::TooManyHeaders);
    let fields: String = (0..99).map(|i| format!("X-{i}: v\r\n")).collect();
    let ok = format!("GET / HTTP/1.1\r\n{fields}Host: a\r\n\r\n");
    assert_eq!(req(ok.as_bytes()).headers().len(), 100);
}

#[test]
fn large_header_limits_use_the_heap_path() {
    let limits = Limits {
        max_headers: 1000,
        ..Limits::default()
    };
    let fields: String = (0..500).map(|i| format!("X-{i}: v{i}\r\n")).collect();
    let raw = format!("GET / HTTP/1.1\r\nHost: a\r\n{fields}\r\n");
    let (head, _) = parse_request(raw.as_bytes(), &limits).unwrap().unwrap();
    assert_eq!(head.headers().len(), 501);
    assert_eq!(head.header("x-499"), Some(&b"v499"[..]));
}

#[test]
fn from_parts_validates_like_the_parser() {
    let head = crate::RequestHead::from_parts(
        "PUT",
        "/x?y",
        Version::Http10,
        &[("Content-Length", b"2"), ("X", b"a b")],
    )
    .unwrap();
    assert_eq!(
        (head.method(), head.target(), head.version()),
        ("PUT", "/x?y", Version::Http10)
    );
    assert_eq!(head.header("x"), Some(&b"a b"[..]));
    let smuggled: &[(&str, &[u8])] = &[("X", b"a\r\nHost: evil")];
    assert!(crate::RequestHead::from_parts("GET", "/", Version::Http11, smuggled).is_err());
    assert!(
        crate::RequestHead::from_parts("GET", "/", Version::Http11, &[("X", b"a\r\n\r\n")])
            .is_err()
    );
    assert!(crate::RequestHead::from_parts("G T", "/", Version::Http11, &[]).is_err());
    assert!(crate::RequestHead::from_parts("GET", "/ x", Version::Http11, &[]).is_err());
    assert!(crate::RequestHead::from_parts("GET", "/", Version::Http11, &[("A B", b"x")]).is_err());
}

#[test]
fn verdicts_do_not_depend_on_how_reads_split_the_bytes() {
    // Every prefix of a refused request answers "need more" or the very same error.
    let limits = Limits {
        max_request_line: 24,
        max_header_bytes: 40,
        max_headers: 3,
        ..Limits::default()
    };
    let extra: &[&[u8]] = &[
        b"GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\0 HTTP/1.1\r\n",
        b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD\0: 4\r\n\r\n",
        b"GET / HTTP/1.1\r\nX: 0123456789012345678901234567890123\r\rY: 1\r\n\r\n",
    ];
    let all = MALFORMED
        .iter()
        .map(|(raw, _, _)| *raw)
        .chain(extra.iter().copied());
    for raw in all {
        for l in [Limits::default(), limits] {
            let whole = parse_request(raw, &l);
            for cut in 0..raw.len() {
                match parse_request(&raw[..cut], &l) {
                    Ok(None) => {}
                    prefix => assert_eq!(prefix, whole, "{} cut at {cut}", show(raw)),
                }
            }
        }
    }
}

#[test]
fn known_and_unknown_names_are_found_in_any_case_and_absent_ones_are_not() {
    // Known names (looked up by id, absent ones answered from the mask) and unknown names
    // (compared byte by byte) must answer the same way.
    let raw =
        b"POST /x HTTP/1.1\r\nhOsT: a\r\nX-One: 1\r\ncontent-LENGTH: 0\r\nL5D-Dtab: /a=>/b\r\n\
                x-one: 2\r\nConnection: keep-alive, X-One\r\n\r\n";
    let head = req(raw);
    assert_eq!(head.header("Host"), Some(&b"a"[..]));
    assert_eq!(head.header("Content-Length"), Some(&b"0"[..]));
    assert_eq!(head.header("l5d-dtab"), Some(&b"/a=>/b"[..]));
    let ones: Vec<&[u8]> = head.header_all("X-ONE").collect();
    assert_eq!(ones, vec![&b"1"[..], b"2"]);
    for absent in [
        "transfer-encoding",
        "te",
        "upgrade",
        "l5d-ctx-dtab",
        "expect",
        "x-two",
    ] {
        assert_eq!(head.header(absent), None, "{absent}");
        assert!(!head.headers().contains(absent));
    }
    assert!(head.headers().has_l5d_fields());
    assert!(
        !req(b"GET / HTTP/1.1\r\nHost: a\r\nx-l5d: 1\r\n\r\n")
            .headers()
            .has_l5d_fields()
    );
}
