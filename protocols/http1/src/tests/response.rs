//! Response head vectors: the RFC 9110 example response, interim responses, and malformed
//! upstream heads (all reported as 502).

use bytes::BytesMut;

use super::support::{res, res_err, show};
use crate::{ErrorKind, Limits, Peer, ResponseHead, Version, parse_response, take_response};

#[test]
fn rfc_example_response() {
    // RFC 9112 section 2.1 / RFC 9110 example exchange.
    let raw = b"HTTP/1.1 200 OK\r\nDate: Mon, 27 Jul 2009 12:28:53 GMT\r\nServer: Apache\r\n\
                Last-Modified: Wed, 22 Jul 2009 19:15:56 GMT\r\nETag: \"34aa387-d-1568eb00\"\r\n\
                Accept-Ranges: bytes\r\nContent-Length: 51\r\nVary: Accept-Encoding\r\n\
                Content-Type: text/plain\r\n\r\n";
    let mut wire = raw.to_vec();
    wire.extend_from_slice(b"Hello World! My content includes a trailing CRLF.\r\n");
    let (head, n) = parse_response(&wire, &Limits::default()).unwrap().unwrap();
    assert_eq!(n, raw.len());
    assert_eq!(
        (head.version(), head.status(), head.reason()),
        (Version::Http11, 200, "OK")
    );
    assert_eq!(head.header("etag"), Some(&b"\"34aa387-d-1568eb00\""[..]));
    assert_eq!(head.headers().len(), 8);
    assert_eq!(wire.len() - n, 51);
    assert_eq!(
        crate::response_framing("GET", &head),
        Ok(crate::Framing::Length(51))
    );
}

#[test]
fn status_lines() {
    let head = res(b"HTTP/1.0 404 Not Found\r\n\r\n");
    assert_eq!(
        (head.version(), head.status(), head.reason()),
        (Version::Http10, 404, "Not Found")
    );
    // The reason phrase is optional; the SP before it is not, but an absent one is tolerated.
    assert_eq!(res(b"HTTP/1.1 204 \r\n\r\n").reason(), "");
    assert_eq!(res(b"HTTP/1.1 204\r\n\r\n").reason(), "");
    // obs-text in the reason is kept as bytes.
    let head = res(b"HTTP/1.1 200 \xe9t\xe9\r\n\r\n");
    assert_eq!(head.reason_bytes(), b"\xe9t\xe9");
    assert_eq!(head.reason(), "");
    let head = res(b"HTTP/1.1 100 Continue\r\n\r\n");
    assert!(head.is_interim());
    assert!(!res(b"HTTP/1.1 101 Switching Protocols\r\n\r\n").is_interim());
}

#[test]
fn interim_then_final_in_one_buffer() {
    let mut buf = BytesMut::from(
        &b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"[..],
    );
    let limits = Limits::default();
    let interim = take_response(&mut buf, &limits).unwrap().unwrap();
    assert!(interim.is_interim());
    assert_eq!(
        crate::response_framing("POST", &interim),
        Ok(crate::Framing::Empty)
    );
    let fin = take_response(&mut buf, &limits).unwrap().unwrap();
    assert_eq!(fin.status(), 200);
    assert_eq!(&buf[..], b"hi");
}

#[test]
fn malformed_responses_are_502() {
    let cases: &[(&[u8], ErrorKind)] = &[
        (b"HTTP/1.1 20 OK\r\n\r\n", ErrorKind::InvalidStatus),
        (b"HTTP/1.1 2000 OK\r\n\r\n", ErrorKind::InvalidStatus),
        (b"HTTP/1.1 099 Odd\r\n\r\n", ErrorKind::InvalidStatus),
        (b"HTTP/1.1 abc OK\r\n\r\n", ErrorKind::InvalidStatus),
        (b"HTTP/2.0 200 OK\r\n\r\n", ErrorKind::UnsupportedVersion),
        (b"HTTX/1.1 200 OK\r\n\r\n", ErrorKind::InvalidVersion),
        (
            b"HTTP/1.1 200 OK\nX: y\r\n\r\n",
            ErrorKind::InvalidLineEnding,
        ),
        (
            b"HTTP/1.1 200 OK\r\nX: y\n\r\n",
            ErrorKind::InvalidLineEnding,
        ),
        (b"HTTP/1.1 200 OK\r\nX: y\r\n z\r\n\r\n", ErrorKind::ObsFold),
        (
            b"HTTP/1.1 200 OK\r\nX : y\r\n\r\n",
            ErrorKind::InvalidHeaderName,
        ),
        (
            b"HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n",
            ErrorKind::InvalidHeaderValue,
        ),
    ];
    for (raw, kind) in cases {
        let e = res_err(raw);
        assert_eq!(
            (e.kind(), e.status(), e.peer()),
            (*kind, 502, Peer::Upstream),
            "{}",
            show(raw)
        );
    }
}

#[test]
fn response_limits() {
    let limits = Limits {
        max_request_line: 20,
        max_header_bytes: 30,
        max_headers: 2,
        ..Limits::default()
    };
    let e = parse_response(b"HTTP/1.1 200 a very long reason phrase", &limits).unwrap_err();
    assert_eq!((e.kind(), e.status()), (ErrorKind::LineTooLong, 502));
    let e =
        parse_response(b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", &limits).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TooManyHeaders);
    let e = parse_response(
        b"HTTP/1.1 200 OK\r\nA: 0123456789012345678901234567890\r\n",
        &limits,
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::HeadersTooLarge);
}

#[test]
fn from_parts_builds_a_response() {
    let head = ResponseHead::from_parts(
        Version::Http11,
        503,
        "Service Unavailable",
        &[("Retry-After", b"1")],
    )
    .unwrap();
    assert_eq!((head.status(), head.reason()), (503, "Service Unavailable"));
    assert_eq!(head.header("retry-after"), Some(&b"1"[..]));
    assert!(ResponseHead::from_parts(Version::Http11, 200, "OK\r\nX: y", &[]).is_err());
}
