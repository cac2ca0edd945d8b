//! Framing vectors (RFC 9112 section 6): the smuggling cases for requests and the response
//! length rules.

use super::support::{req, res, show};
use crate::{ErrorKind, Framing, Peer, response_framing};

fn request_framing(fields: &str) -> Result<Framing, crate::Error> {
    let raw = format!("POST / HTTP/1.1\r\nHost: a\r\n{fields}\r\n");
    req(raw.as_bytes()).body_framing()
}

#[test]
fn request_framing_rules() {
    let ok: &[(&str, Framing)] = &[
        ("", Framing::Empty),
        ("Content-Length: 0\r\n", Framing::Length(0)),
        ("Content-Length: 42\r\n", Framing::Length(42)),
        ("Content-Length: 007\r\n", Framing::Length(7)),
        ("Content-Length: 5, 5\r\n", Framing::Length(5)),
        (
            "Content-Length: 5\r\nContent-Length: 5\r\n",
            Framing::Length(5),
        ),
        (
            "Content-Length: 18446744073709551615\r\n",
            Framing::Length(u64::MAX),
        ),
        ("Transfer-Encoding: chunked\r\n", Framing::Chunked),
        ("Transfer-Encoding: CHUNKED\r\n", Framing::Chunked),
        ("Transfer-Encoding: ,chunked\r\n", Framing::Chunked),
    ];
    for (fields, framing) in ok {
        assert_eq!(request_framing(fields), Ok(*framing), "{fields}");
    }
}

#[test]
fn request_smuggling_cases_are_refused() {
    let bad: &[(&str, ErrorKind, u16)] = &[
        // CL + TE, in either order.
        (
            "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
            ErrorKind::ContentLengthWithTransferEncoding,
            400,
        ),
        (
            "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
            ErrorKind::ContentLengthWithTransferEncoding,
            400,
        ),
        // Differing or malformed CL values.
        (
            "Content-Length: 5, 6\r\n",
            ErrorKind::InvalidContentLength,
            400,
        ),
        (
            "Content-Length: 5\r\nContent-Length: 6\r\n",
            ErrorKind::InvalidContentLength,
            400,
        ),
        (
            "Content-Length: +5\r\n",
            ErrorKind::InvalidContentLength,
            400,
        ),
        (
            "Content-Length: -5\r\n",
            ErrorKind::InvalidContentLength,
            400,
        ),
        (
            "Content-Length: 5 5\r\n",
            ErrorKind::InvalidContentLength,
            400,
        ),
        (
            "Content-Length: 0x5\r\n",
            ErrorKind::InvalidContentLength,
            400,
        ),
        (
            "Content-Length: 5,\r\n",
            ErrorKind::InvalidContentLength,
            400,
        ),
        ("Content-Length: \r\n", ErrorKind::InvalidContentLength, 400),
        (
            "Content-Length: 18446744073709551616\r\n",
            ErrorKind::InvalidContentLength,
            400,
        ),
        (
            "Content-Length: 99999999999999999999999\r\n",
            ErrorKind::InvalidContentLength,
            400,
        ),
        // TE whose final coding is not chunked, chunked twice, odd spellings.
        (
            "Transfer-Encoding: chunked, identity\r\n",
            ErrorKind::InvalidTransferEncoding,
            400,
        ),
        (
            "Transfer-Encoding: identity\r\n",
            ErrorKind::InvalidTransferEncoding,
            400,
        ),
        (
            "Transfer-Encoding: gzip\r\n",
            ErrorKind::InvalidTransferEncoding,
            400,
        ),
        (
            "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n",
            ErrorKind::InvalidTransferEncoding,
            400,
        ),
        (
            "Transfer-Encoding: chunked, chunked\r\n",
            ErrorKind::InvalidTransferEncoding,
            400,
        ),
        (
            "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
            ErrorKind::InvalidTransferEncoding,
            400,
        ),
        (
            "Transfer-Encoding: chunked;q=1\r\n",
            ErrorKind::InvalidTransferEncoding,
            400,
        ),
        (
            "Transfer-Encoding: \"chunked\"\r\n",
            ErrorKind::InvalidTransferEncoding,
            400,
        ),
        (
            "Transfer-Encoding: xchunked\r\n",
            ErrorKind::InvalidTransferEncoding,
            400,
        ),
        (
            "Transfer-Encoding: \r\n",
            ErrorKind::InvalidTransferEncoding,
            400,
        ),
        // Unknown codings before chunked: not implemented.
        (
            "Transfer-Encoding: gzip, chunked\r\n",
            ErrorKind::UnsupportedTransferCoding,
            501,
        ),
        (
            "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
            ErrorKind::UnsupportedTransferCoding,
            501,
        ),
    ];
    for (fields, kind, status) in bad {
        let e = request_framing(fields).unwrap_err();
        assert_eq!((e.kind(), e.status()), (*kind, *status), "{fields}");
    }
}

#[test]
fn transfer_encoding_in_http10_is_refused() {
    let head = req(b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n");
    assert_eq!(
        head.body_framing().unwrap_err().kind(),
        ErrorKind::TransferEncodingInHttp10
    );
    let head = req(b"POST / HTTP/1.0\r\nContent-Length: 3\r\n\r\n");
    assert_eq!(head.body_framing(), Ok(Framing::Length(3)));
}

#[test]
fn response_framing_rules() {
    let cases: &[(&str, &[u8], Framing)] = &[
        ("GET", b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", Framing::Length(3)),
        ("GET", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", Framing::Chunked),
        ("GET", b"HTTP/1.1 200 OK\r\n\r\n", Framing::CloseDelimited),
        ("GET", b"HTTP/1.0 200 OK\r\n\r\n", Framing::CloseDelimited),
        ("HEAD", b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", Framing::Empty),
        ("HEAD", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", Framing::Empty),
        ("GET", b"HTTP/1.1 204 No Content\r\n\r\n", Framing::Empty),
        ("GET", b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", Framing::Empty),
        ("POST", b"HTTP/1.1 100 Continue\r\n\r\n", Framing::Empty),
        ("GET", b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", Framing::Empty),
        ("GET", b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n", Framing::Tunnel),
        ("CONNECT", b"HTTP/1.1 200 Connection Established\r\n\r\n", Framing::Tunnel),
        ("CONNECT", b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n", Framing::Length(0)),
    ];
    for (method, raw, framing) in cases {
        assert_eq!(
            response_framing(method, &res(raw)),
            Ok(*framing),
            "{method} {}",
            show(raw)
        );
    }
}

#[test]
fn response_framing_errors_are_upstream() {
    let cases: &[(&[u8], ErrorKind)] = &[
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            ErrorKind::ContentLengthWithTransferEncoding,
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
            ErrorKind::InvalidContentLength,
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            ErrorKind::UnsupportedTransferCoding,
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
            ErrorKind::InvalidTransferEncoding,
        ),
        (
            b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            ErrorKind::TransferEncodingInHttp10,
        ),
    ];
    for (raw, kind) in cases {
        let e = response_framing("GET", &res(raw)).unwrap_err();
        assert_eq!(
            (e.kind(), e.peer(), e.status()),
            (*kind, Peer::Upstream, 502),
            "{}",
            show(raw)
        );
    }
}

#[test]
fn has_body() {
    assert!(!Framing::Empty.has_body());
    assert!(!Framing::Length(0).has_body());
    assert!(Framing::Length(1).has_body());
    assert!(Framing::Chunked.has_body());
    assert!(Framing::CloseDelimited.has_body());
}
