//! The little HTTP/1.x the admin server speaks: read one request (head parsed with httparse,
//! an optional Content-Length body) under size limits and a deadline, and write one response
//! with `Connection: close`.
//!
//! Deliberately minimal: no keep-alive, no pipelining, no chunked request bodies (501), no
//! `Expect: 100-continue` handling. This is an operator's endpoint, not the proxy's data path.

use super::AdminLimits;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

/// A request the admin server accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request {
    /// The method token, as sent (`GET`).
    pub method: String,
    /// The path part of the request target, not decoded.
    pub path: String,
    /// The raw query (after `?`), if any.
    pub query: Option<String>,
    /// The `Content-Type` header value, if any.
    pub content_type: Option<String>,
    /// The `Host` header value, if any (what the InfluxDB lines are tagged with).
    pub host: Option<String>,
    /// The body (empty without Content-Length).
    pub body: Vec<u8>,
}

/// Why no request could be read; most have a response to send before closing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReadError {
    /// The peer closed or reset before sending a complete head: nothing to answer.
    Closed,
    /// The head or body did not arrive before the deadline: 408.
    Timeout,
    /// The head is larger than the limit or has too many fields: 431.
    HeadTooLarge,
    /// The head is not valid HTTP/1.x, or Content-Length is malformed: 400.
    Malformed(String),
    /// Content-Length is over the body limit: 413.
    BodyTooLarge,
    /// A request body in Transfer-Encoding: 501.
    TransferEncoding,
}

impl ReadError {
    /// The response for this error, or `None` when the peer is gone.
    pub(crate) fn response(&self) -> Option<Response> {
        Some(match self {
            Self::Closed => return None,
            Self::Timeout => Response::error(408, "request not received in time"),
            Self::HeadTooLarge => Response::error(431, "request head too large"),
            Self::Malformed(why) => Response::error(400, why),
            Self::BodyTooLarge => Response::error(413, "request body too large"),
            Self::TransferEncoding => {
                Response::error(501, "Transfer-Encoding request bodies are not supported")
            }
        })
    }
}

/// A response to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    /// For 405: the methods the resource allows.
    pub allow: Option<&'static str>,
}

impl Response {
    pub(crate) fn text(status: u16, body: &str) -> Self {
        Self {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.as_bytes().to_vec(),
            allow: None,
        }
    }

    pub(crate) fn json(status: u16, value: &serde_json::Value) -> Self {
        let mut body = serde_json::to_vec(value).unwrap_or_else(|_| b"null".to_vec());
        body.push(b'\n');
        Self {
            status,
            content_type: "application/json",
            body,
            allow: None,
        }
    }

    /// An HTML page.
    pub(crate) fn html(body: String) -> Self {
        Self {
            status: 200,
            content_type: "text/html; charset=utf-8",
            body: body.into_bytes(),
            allow: None,
        }
    }

    /// Metrics in InfluxDB's line protocol.
    pub(crate) fn influx(body: String) -> Self {
        Self {
            status: 200,
            content_type: crate::telemetry::influx::CONTENT_TYPE,
            body: body.into_bytes(),
            allow: None,
        }
    }

    /// A metrics scrape, in the OpenMetrics text format.
    pub(crate) fn metrics(body: String) -> Self {
        Self {
            status: 200,
            content_type: crate::telemetry::CONTENT_TYPE,
            body: body.into_bytes(),
            allow: None,
        }
    }

    /// A JSON error body: `{"error": message}`.
    pub(crate) fn error(status: u16, message: &str) -> Self {
        Self::json(status, &serde_json::json!({ "error": message }))
    }

    pub(crate) fn method_not_allowed(allow: &'static str) -> Self {
        Self {
            allow: Some(allow),
            ..Self::error(405, &format!("method not allowed; allowed: {allow}"))
        }
    }

    /// Writes the response; the body is left out when `head_only` (a HEAD request).
    pub(crate) fn write_to(&self, out: &mut impl Write, head_only: bool) -> io::Result<()> {
        let mut bytes = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\
             Cache-Control: no-cache\r\nConnection: close\r\n",
            self.status,
            reason(self.status),
            self.content_type,
            self.body.len()
        )
        .into_bytes();
        if let Some(allow) = self.allow {
            bytes.extend_from_slice(format!("Allow: {allow}\r\n").as_bytes());
        }
        bytes.extend_from_slice(b"\r\n");
        if !head_only {
            bytes.extend_from_slice(&self.body);
        }
        out.write_all(&bytes)?;
        out.flush()
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "",
    }
}

/// The parts of a head that [`read_request`] needs, parsed from a complete head.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Head {
    method: String,
    target: String,
    content_type: Option<String>,
    host: Option<String>,
    content_length: Option<usize>,
    transfer_encoding: bool,
}

/// Parses `buf` as a request head: `Ok(None)` when more bytes are needed, else the head and its
/// length in bytes.
fn parse_head(buf: &[u8], limits: &AdminLimits) -> Result<Option<(Head, usize)>, ReadError> {
    let mut fields = vec![httparse::EMPTY_HEADER; limits.max_headers];
    let mut req = httparse::Request::new(&mut fields);
    let len = match req.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(ReadError::HeadTooLarge),
        Err(e) => return Err(ReadError::Malformed(format!("malformed request head: {e}"))),
    };
    let mut head = Head {
        method: req.method.unwrap_or("").to_owned(),
        target: req.path.unwrap_or("").to_owned(),
        content_type: None,
        host: None,
        content_length: None,
        transfer_encoding: false,
    };
    for field in req.headers.iter() {
        if field.name.eq_ignore_ascii_case("content-length") {
            let value = std::str::from_utf8(field.value)
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
                .ok_or_else(|| ReadError::Malformed("malformed Content-Length".to_owned()))?;
            if head.content_length.is_some_and(|seen| seen != value) {
                return Err(ReadError::Malformed(
                    "conflicting Content-Length".to_owned(),
                ));
            }
            head.content_length = Some(value);
        } else if field.name.eq_ignore_ascii_case("transfer-encoding") {
            head.transfer_encoding = true;
        } else if field.name.eq_ignore_ascii_case("content-type") {
            head.content_type = Some(String::from_utf8_lossy(field.value).trim().to_owned());
        } else if field.name.eq_ignore_ascii_case("host") {
            head.host = Some(String::from_utf8_lossy(field.value).trim().to_owned());
        }
    }
    Ok(Some((head, len)))
}

/// Reads one request from `stream` by `deadline`, within `limits`.
pub(crate) fn read_request(
    stream: &mut TcpStream,
    limits: &AdminLimits,
    deadline: Instant,
) -> Result<Request, ReadError> {
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    let (head, head_len) = loop {
        if let Some(parsed) = parse_head(&buf, limits)? {
            break parsed;
        }
        if buf.len() >= limits.max_head_bytes {
            return Err(ReadError::HeadTooLarge);
        }
        let room = (limits.max_head_bytes - buf.len()).min(chunk.len());
        let n = read_some(stream, &mut chunk[..room], deadline)?;
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
    };
    if head.transfer_encoding {
        return Err(ReadError::TransferEncoding);
    }
    let body_len = head.content_length.unwrap_or(0);
    if body_len > limits.max_body_bytes {
        return Err(ReadError::BodyTooLarge);
    }
    let mut body = buf.split_off(head_len.min(buf.len()));
    while body.len() < body_len {
        let room = (body_len - body.len()).min(chunk.len());
        let n = read_some(stream, &mut chunk[..room], deadline)?;
        body.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
    body.truncate(body_len);
    let (path, query) = match head.target.split_once('?') {
        Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
        None => (head.target.clone(), None),
    };
    Ok(Request {
        method: head.method,
        path,
        query,
        content_type: head.content_type,
        host: head.host,
        body,
    })
}

/// One read of at least one byte before `deadline`.
fn read_some(
    stream: &mut TcpStream,
    into: &mut [u8],
    deadline: Instant,
) -> Result<usize, ReadError> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ReadError::Timeout);
        }
        stream
            .set_read_timeout(Some(left))
            .map_err(|_| ReadError::Closed)?;
        match stream.read(into) {
            Ok(0) => return Err(ReadError::Closed),
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Err(ReadError::Timeout);
            }
            Err(_) => return Err(ReadError::Closed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<Option<(Head, usize)>, ReadError> {
        parse_head(raw.as_bytes(), &AdminLimits::default())
    }

    #[test]
    fn complete_partial_and_body_length() {
        let raw = "POST /delegator.json HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n{\"path\":\"/\"}";
        let (head, len) = parse(raw).expect("valid").expect("complete");
        assert_eq!(head.method, "POST");
        assert_eq!(head.target, "/delegator.json");
        assert_eq!(head.content_length, Some(12));
        assert_eq!(head.content_type.as_deref(), Some("application/json"));
        assert_eq!(&raw[len..], "{\"path\":\"/\"}");
        assert_eq!(parse("GET /admin/ping HTTP/1.1\r\nHost:"), Ok(None));
    }

    #[test]
    fn malformed_heads() {
        for raw in [
            "GET /a HTTP/1.1\r\nContent-Length: x\r\n\r\n",
            "GET /a HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            "GET /a HTTP/9.9\r\n\r\n",
            "GET\x01 /a HTTP/1.1\r\n\r\n",
            "GET /a HTTP/1.1\r\nBad Name: x\r\n\r\n",
        ] {
            assert!(
                matches!(parse(raw), Err(ReadError::Malformed(_))),
                "{raw:?}"
            );
        }
        let same_twice = "GET /a HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n";
        assert!(matches!(parse(same_twice), Ok(Some(_))));
    }

    #[test]
    fn too_many_fields_is_431() {
        let mut raw = String::from("GET / HTTP/1.1\r\n");
        for i in 0..=AdminLimits::default().max_headers {
            raw.push_str(&format!("X-{i}: y\r\n"));
        }
        raw.push_str("\r\n");
        assert_eq!(parse(&raw), Err(ReadError::HeadTooLarge));
    }

    #[test]
    fn transfer_encoding_is_flagged() {
        let (head, _) = parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
            .expect("valid")
            .expect("complete");
        assert!(head.transfer_encoding);
    }

    #[test]
    fn response_bytes() {
        let mut out = Vec::new();
        Response::method_not_allowed("POST")
            .write_to(&mut out, false)
            .expect("write");
        let text = String::from_utf8(out).expect("utf8");
        assert!(
            text.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"),
            "{text}"
        );
        assert!(text.contains("\r\nAllow: POST\r\n"), "{text}");
        assert!(text.contains("\r\nConnection: close\r\n"), "{text}");
        let body = text.split("\r\n\r\n").nth(1).expect("body");
        assert!(text.contains(&format!("Content-Length: {}\r\n", body.len())));

        let mut out = Vec::new();
        Response::text(200, "pong")
            .write_to(&mut out, true)
            .expect("write");
        let text = String::from_utf8(out).expect("utf8");
        assert!(
            text.ends_with(
                "Content-Length: 4\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n"
            ),
            "{text}"
        );
    }
}
