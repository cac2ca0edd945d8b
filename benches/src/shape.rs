//! Request shapes: what one generated request looks like on the wire and how its response is
//! checked.
//!
//! Three shapes exist:
//!
//! - **HTTP/1.1**: a `GET /` (or a `POST /` with a body) with a `Host` header; the response must be
//!   a `200` with the expected body size.
//! - **Thrift** (framed transport, binary protocol, strict headers): one `CALL` of a method with
//!   one binary argument (field 1) of the request size. The seqid starts at 1 on each connection
//!   and goes up by one per call ([`RequestShape::seqid_offset`] says where to rewrite it in the
//!   prepared bytes). The response must be a framed `REPLY` with the same seqid and method name
//!   whose struct skips cleanly and carries a success binary (field 0) of the expected size; an
//!   `EXCEPTION` message, a declared exception (no field 0) or any mismatch is an error.
//!
//! - **HTTP/2** (`h2`: cleartext h2c with prior knowledge, the connection preface first): a
//!   request of `:method`, `:scheme http`, `:authority` (the logical name, like the HTTP/1.1
//!   `Host`) and `:path`, with `content-length` and a DATA body when `body_size > 0`. The
//!   response must be a `:status` `200` with the expected body size, ended by END_STREAM; a
//!   RST_STREAM, a GOAWAY that drops the stream or any mismatch is an error. Many streams share
//!   one connection (`LoadSpec::streams`); frames and HPACK state live in [`crate::h2`].
//!
//! HTTP/1.1 and Thrift keep one request in flight per connection. This module deliberately
//! knows nothing about sockets, schedules or histograms.

use bytes::{BufMut, Bytes, BytesMut};

/// The protocol a run speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// HTTP/1.1 keep-alive, one request in flight per connection.
    Http1,
    /// Thrift: framed transport, binary protocol, one call in flight per connection.
    Thrift,
    /// HTTP/2 cleartext with prior knowledge (h2c), many streams per connection.
    H2,
}

impl Protocol {
    /// The name used in reports (`results.json`'s `protocol`).
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Http1 => "http1",
            Protocol::Thrift => "thrift",
            Protocol::H2 => "h2",
        }
    }
}

/// One HTTP/1.1 request, sent as is on every exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Http1Request {
    /// `GET` or `POST` (any token works).
    pub method: String,
    /// The `Host` header: the logical name a proxy routes on.
    pub host: String,
    /// The request target, origin form (`/`).
    pub path: String,
    /// Request body bytes (sent with `Content-Length` when non-zero).
    pub body_size: usize,
    /// How many of [`CLIENT_HEADERS`] follow `Host` (0: a minimal request).
    pub extra_headers: usize,
}

/// Header fields a browser or an API client typically sends, in the order `--request-headers N`
/// adds them (about 780 bytes for all 12): a request shape heavier on parsing and forwarding
/// than the minimal `GET / Host:` one.
pub const CLIENT_HEADERS: [(&str, &str); 12] = [
    (
        "User-Agent",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    ),
    (
        "Accept",
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    ),
    ("Accept-Encoding", "gzip, deflate, br"),
    ("Accept-Language", "en-US,en;q=0.9"),
    ("Cache-Control", "no-cache"),
    (
        "Cookie",
        "session=7f1c2b9e7a3d4f8a9b6e0c1d2e3f4a5b; theme=dark; region=eu-west-1",
    ),
    (
        "Referer",
        "https://www.example.com/products/12345?ref=search",
    ),
    ("X-Request-Id", "0b9d6a1e-3c2f-4e5d-8a7b-6c5d4e3f2a1b"),
    ("X-Forwarded-For", "203.0.113.17, 198.51.100.23"),
    (
        "Authorization",
        "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ),
    (
        "Traceparent",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    ),
    ("Sec-Fetch-Mode", "navigate"),
];

/// One Thrift call, framed, binary protocol, strict header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThriftCall {
    /// The method name (what a Thrift router would route on).
    pub method: String,
    /// Bytes of the one binary argument (field 1).
    pub payload_size: usize,
}

/// One HTTP/2 request, sent on a new stream of a shared connection on every exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct H2Request {
    /// `GET` or `POST` (any token works).
    pub method: String,
    /// `:authority`: the logical name a proxy routes on (like the HTTP/1.1 `Host`).
    pub authority: String,
    /// `:path` (`/`).
    pub path: String,
    /// Request body bytes (sent as DATA with `content-length` when non-zero).
    pub body_size: usize,
}

/// What each generated request is. New protocols become new variants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestShape {
    /// HTTP/1.1 keep-alive.
    Http1(Http1Request),
    /// Thrift framed/binary call.
    Thrift(ThriftCall),
    /// HTTP/2 (h2c, prior knowledge).
    H2(H2Request),
}

impl RequestShape {
    /// A `GET /` (or a `POST /` with a body when `body_size > 0`) with this `Host`.
    pub fn http1(host: &str, body_size: usize) -> RequestShape {
        RequestShape::Http1(Http1Request {
            method: if body_size > 0 { "POST" } else { "GET" }.into(),
            host: host.into(),
            path: "/".into(),
            body_size,
            extra_headers: 0,
        })
    }

    /// [`RequestShape::http1`] with the first `n` of [`CLIENT_HEADERS`] after `Host`.
    pub fn http1_with_headers(host: &str, body_size: usize, n: usize) -> RequestShape {
        match Self::http1(host, body_size) {
            RequestShape::Http1(mut r) => {
                r.extra_headers = n.min(CLIENT_HEADERS.len());
                RequestShape::Http1(r)
            }
            other => other,
        }
    }

    /// A call of `method` with a binary argument of `payload_size` bytes.
    pub fn thrift(method: &str, payload_size: usize) -> RequestShape {
        RequestShape::Thrift(ThriftCall {
            method: method.into(),
            payload_size,
        })
    }

    /// An HTTP/2 `GET /` (or a `POST /` with a body when `body_size > 0`) for this authority.
    pub fn h2(authority: &str, body_size: usize) -> RequestShape {
        RequestShape::H2(H2Request {
            method: if body_size > 0 { "POST" } else { "GET" }.into(),
            authority: authority.into(),
            path: "/".into(),
            body_size,
        })
    }

    /// The protocol of this shape.
    pub fn protocol(&self) -> Protocol {
        match self {
            RequestShape::Http1(_) => Protocol::Http1,
            RequestShape::Thrift(_) => Protocol::Thrift,
            RequestShape::H2(_) => Protocol::H2,
        }
    }

    /// Thrift: where the 4 seqid bytes sit in [`RequestShape::encode`]'s output.
    pub fn seqid_offset(&self) -> Option<usize> {
        match self {
            RequestShape::Http1(_) | RequestShape::H2(_) => None,
            RequestShape::Thrift(c) => Some(hawser_thrift::FRAME_HEADER_LEN + 8 + c.method.len()),
        }
    }

    /// The bytes of one request (Thrift: with seqid 0, to be rewritten per call; HTTP/2: only
    /// the request body, since the frames depend on the stream id and the HPACK state).
    ///
    /// # Panics
    /// When a Thrift call does not fit a frame (a method or payload over 2 GiB).
    pub fn encode(&self) -> Bytes {
        match self {
            RequestShape::Http1(r) => {
                let mut out = BytesMut::with_capacity(128 + r.body_size);
                out.put_slice(r.method.as_bytes());
                out.put_u8(b' ');
                out.put_slice(r.path.as_bytes());
                out.put_slice(b" HTTP/1.1\r\nHost: ");
                out.put_slice(r.host.as_bytes());
                out.put_slice(b"\r\n");
                for (name, value) in CLIENT_HEADERS.iter().take(r.extra_headers) {
                    out.put_slice(name.as_bytes());
                    out.put_slice(b": ");
                    out.put_slice(value.as_bytes());
                    out.put_slice(b"\r\n");
                }
                if r.body_size > 0 {
                    out.put_slice(format!("Content-Length: {}\r\n", r.body_size).as_bytes());
                }
                out.put_slice(b"\r\n");
                out.put_bytes(b'x', r.body_size);
                out.freeze()
            }
            RequestShape::Thrift(c) => {
                let mut out = BytesMut::with_capacity(32 + c.method.len() + c.payload_size);
                let header = hawser_thrift::MessageHeader {
                    name: c.method.as_bytes(),
                    kind: hawser_thrift::MessageType::Call,
                    seqid: 0,
                    strict: true,
                };
                let payload = vec![b'x'; c.payload_size];
                hawser_thrift::encode_framed_binary(&header, 1, &payload, &mut out)
                    .expect("a benchmark call fits a frame");
                out.freeze()
            }
            RequestShape::H2(r) => Bytes::from(vec![b'x'; r.body_size]),
        }
    }

    /// The HTTP request method (responses to `HEAD` have no body), or the Thrift method name.
    pub fn method(&self) -> &str {
        match self {
            RequestShape::Http1(r) => &r.method,
            RequestShape::Thrift(c) => &c.method,
            RequestShape::H2(r) => &r.method,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_headers_are_added_in_order_and_parse_back() {
        let shape = RequestShape::http1_with_headers("web", 0, 12);
        let bytes = shape.encode();
        let head = hawser_http1::parse_request(&bytes, &hawser_http1::Limits::default())
            .expect("valid")
            .expect("complete")
            .0;
        assert_eq!(head.headers().len(), 13);
        assert_eq!(head.header("cookie").map(|v| v.len()), Some(70));
        assert!(bytes.len() > 700, "{} bytes", bytes.len());
        let few = RequestShape::http1_with_headers("web", 0, 3).encode();
        assert_eq!(
            hawser_http1::parse_request(&few, &hawser_http1::Limits::default())
                .unwrap()
                .unwrap()
                .0
                .headers()
                .len(),
            4
        );
    }

    #[test]
    fn http1_request_parses_back() {
        let shape = RequestShape::http1("web", 5);
        let mut buf = BytesMut::from(&shape.encode()[..]);
        let head = hawser_http1::take_request(&mut buf, &hawser_http1::Limits::default())
            .unwrap()
            .unwrap();
        assert_eq!(head.method(), "POST");
        assert_eq!(head.header("host"), Some(&b"web"[..]));
        assert_eq!(
            head.body_framing().unwrap(),
            hawser_http1::Framing::Length(5)
        );
        assert_eq!(&buf[..], b"xxxxx");
    }

    #[test]
    fn thrift_call_decodes_back_with_its_seqid_where_promised() {
        let shape = RequestShape::thrift("echo", 5);
        let mut wire = BytesMut::from(&shape.encode()[..]);
        let at = shape.seqid_offset().unwrap();
        wire[at..at + 4].copy_from_slice(&9i32.to_be_bytes());
        let limits = hawser_thrift::Limits::default();
        let hawser_thrift::Decoded::Done(frame) =
            hawser_thrift::take_frame(&mut wire, &limits).unwrap()
        else {
            panic!("one complete frame");
        };
        assert!(wire.is_empty());
        let m = hawser_thrift::Message::load(&frame, &limits).unwrap();
        assert_eq!(m.header.name, b"echo");
        assert_eq!(m.header.kind, hawser_thrift::MessageType::Call);
        assert_eq!(m.header.seqid, 9);
        let (arg, _) = hawser_thrift::find_binary_field(m.body, 1, &limits).unwrap();
        assert_eq!(arg, Some(&b"xxxxx"[..]));
    }
}
