//! Request shapes: what one generated request looks like on the wire and how its response is
//! checked.
//!
//! Only HTTP/1.1 exists today. The enum is the seam where HTTP/2 (many streams per connection)
//! and Thrift (framed, binary) shapes will be added; this module deliberately knows nothing about
//! sockets, schedules or histograms.

use bytes::{BufMut, Bytes, BytesMut};

/// The protocol a run speaks. Only `http1` is implemented; HTTP/2 and Thrift are not yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// HTTP/1.1 keep-alive, one request in flight per connection.
    Http1,
}

impl Protocol {
    /// The name used in reports (`results.json`'s `protocol`).
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Http1 => "http1",
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
}

/// What each generated request is. New protocols become new variants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestShape {
    /// HTTP/1.1 keep-alive.
    Http1(Http1Request),
}

impl RequestShape {
    /// A `GET /` (or a `POST /` with a body when `body_size > 0`) with this `Host`.
    pub fn http1(host: &str, body_size: usize) -> RequestShape {
        RequestShape::Http1(Http1Request {
            method: if body_size > 0 { "POST" } else { "GET" }.into(),
            host: host.into(),
            path: "/".into(),
            body_size,
        })
    }

    /// The protocol of this shape.
    pub fn protocol(&self) -> Protocol {
        match self {
            RequestShape::Http1(_) => Protocol::Http1,
        }
    }

    /// The bytes of one request.
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
                if r.body_size > 0 {
                    out.put_slice(format!("Content-Length: {}\r\n", r.body_size).as_bytes());
                }
                out.put_slice(b"\r\n");
                out.put_bytes(b'x', r.body_size);
                out.freeze()
            }
        }
    }

    /// The request method (responses to `HEAD` have no body).
    pub fn method(&self) -> &str {
        match self {
            RequestShape::Http1(r) => &r.method,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
