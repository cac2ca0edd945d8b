//! Writing heads and chunk framing into a `BytesMut`, as a proxy forwards them.
//!
//! # Hop-by-hop fields
//!
//! [`encode_request_head`] and [`encode_response_head`] never forward these (RFC 9110 7.6.1,
//! RFC 9112): `Connection` and every field it names, `Keep-Alive`, `Proxy-Connection`, `TE`,
//! `Trailer`, `Transfer-Encoding` and `Upgrade`. They also drop `Proxy-Authenticate` and
//! `Proxy-Authorization`: RFC 7230 and earlier listed them as hop-by-hop, linkerd 1.x strips
//! them, and hawser performs no proxy authentication, so relaying a credential addressed to this
//! hop would hand it to a party it was not meant for. A `Connection` option naming `Host` or
//! `Content-Length` is not honoured (it would let a client strip routing or framing from the
//! forwarded message). `Content-Length` is kept only with [`BodyHeader::Keep`].
//!
//! The caller then declares framing ([`BodyHeader`]) and persistence ([`ConnectionHeader`]) and
//! may append fields (for example `l5d-dst-service`, `Via`). The start line always says
//! `HTTP/1.1`: an intermediary sends its own version (RFC 9110 6.2); for an HTTP/1.0 client the
//! caller must not declare `Chunked`.
//!
//! Caller-supplied field values are sanitised: CR, LF, NUL and other controls become spaces, so
//! a reason string built from client input cannot split a response. Fields whose name is not a
//! token are skipped. Parsed heads are already valid and are copied as they are.

use bytes::{BufMut, BytesMut};

use crate::head::{HeaderBlock, RequestHead, ResponseHead};
use crate::known;
use crate::syntax::{eq_ic, is_field_value_byte, is_token};

/// Which framing field the encoded head declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BodyHeader {
    /// Forward the head's own `Content-Length` field(s) as they are and add nothing (a response
    /// to HEAD, a 304). `Transfer-Encoding` is still dropped.
    #[default]
    Keep,
    /// Drop the head's `Content-Length` and write `Content-Length: n`.
    Length(u64),
    /// Drop the head's `Content-Length` and write `Transfer-Encoding: chunked`.
    Chunked,
    /// Drop the head's `Content-Length` and declare nothing (no body, or close-delimited).
    None,
}

/// Which `Connection` field the encoded head carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConnectionHeader<'a> {
    /// No `Connection` field (HTTP/1.1 default: persistent).
    #[default]
    Omit,
    /// `Connection: close`.
    Close,
    /// `Connection: keep-alive` (for HTTP/1.0 peers).
    KeepAlive,
    /// `Connection: upgrade` and `Upgrade: <protocol>`, for a tunnelled upgrade. The protocol is
    /// sanitised like any caller value.
    Upgrade(&'a [u8]),
}

/// A predicate on field names (original case) for [`EncodeOptions::drop_header`].
pub type DropHeader = dyn Fn(&[u8]) -> bool;

/// How to rewrite a head while encoding it. `EncodeOptions::default()` forwards the head with
/// hop-by-hop fields removed, its own `Content-Length`, and no `Connection` field.
#[derive(Clone, Copy, Default)]
pub struct EncodeOptions<'a> {
    /// Replacement request-target (ignored for responses), e.g. after `io.l5d.path` consumed a
    /// prefix. Not validated: the caller builds it from a valid target.
    pub target: Option<&'a str>,
    /// The framing to declare.
    pub body: BodyHeader,
    /// The `Connection` field to write.
    pub connection: ConnectionHeader<'a>,
    /// Fields appended after the forwarded ones, in order.
    pub extra_headers: &'a [(&'a str, &'a [u8])],
    /// Also drop every field whose name this returns true for (e.g. `l5d-ctx-*` at an
    /// untrusted edge). Names are passed with their original case.
    pub drop_header: Option<&'a DropHeader>,
}

impl std::fmt::Debug for EncodeOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncodeOptions")
            .field("target", &self.target)
            .field("body", &self.body)
            .field("connection", &self.connection)
            .field("extra_headers", &self.extra_headers.len())
            .field("drop_header", &self.drop_header.is_some())
            .finish()
    }
}

/// Writes a request head for the upstream: `METHOD SP target SP HTTP/1.1`, the forwarded fields
/// (see the module docs for what is dropped), then the declared framing, `Connection` and extra
/// fields.
pub fn encode_request_head(head: &RequestHead, opts: &EncodeOptions<'_>, out: &mut BytesMut) {
    let target = opts.target.unwrap_or(head.target());
    out.reserve(head.raw().len() + target.len() + extra_len(opts) + 64);
    out.put_slice(head.method().as_bytes());
    out.put_u8(b' ');
    out.put_slice(target.as_bytes());
    out.put_slice(b" HTTP/1.1\r\n");
    put_fields(head.headers(), opts, out);
}

/// Writes a response head for the downstream: `HTTP/1.1 SP status SP reason`, then fields as
/// [`encode_request_head`].
pub fn encode_response_head(head: &ResponseHead, opts: &EncodeOptions<'_>, out: &mut BytesMut) {
    out.reserve(head.raw().len() + extra_len(opts) + 64);
    out.put_slice(b"HTTP/1.1 ");
    put_status(out, head.status());
    out.put_u8(b' ');
    out.put_slice(head.reason_bytes());
    out.put_slice(b"\r\n");
    put_fields(head.headers(), opts, out);
}

/// Writes a complete proxy-generated response: status line, `headers` (sanitised), then
/// `Content-Length` and `body` (except for 1xx, 204 and 304, which carry neither), and
/// `Connection: close` when `close`.
pub fn encode_response(
    status: u16,
    reason: &str,
    headers: &[(&str, &[u8])],
    body: &[u8],
    close: bool,
    out: &mut BytesMut,
) {
    let bodiless = (100..200).contains(&status) || status == 204 || status == 304;
    let fields: usize = headers.iter().map(|(n, v)| n.len() + v.len() + 4).sum();
    out.reserve(64 + reason.len() + fields + body.len());
    out.put_slice(b"HTTP/1.1 ");
    put_status(out, status);
    out.put_u8(b' ');
    put_value(out, reason.as_bytes());
    out.put_slice(b"\r\n");
    for (name, value) in headers {
        put_field(out, name, value);
    }
    if !bodiless {
        out.put_slice(b"Content-Length: ");
        put_decimal(out, body.len() as u64);
        out.put_slice(b"\r\n");
    }
    if close {
        out.put_slice(b"Connection: close\r\n");
    }
    out.put_slice(b"\r\n");
    if !bodiless {
        out.put_slice(body);
    }
}

/// Writes a chunk-size line, `<hex len>\r\n`. Follow it with `len` bytes of data and
/// [`encode_chunk_end`]. A zero `len` writes nothing (it would end the body); use
/// [`encode_last_chunk`] for that.
pub fn encode_chunk_header(len: u64, out: &mut BytesMut) {
    if len == 0 {
        return;
    }
    let mut digits = [0u8; 16];
    let mut i = digits.len();
    let mut n = len;
    while n > 0 {
        i -= 1;
        digits[i] = b"0123456789abcdef"[(n & 0xf) as usize];
        n >>= 4;
    }
    out.reserve(18);
    out.put_slice(&digits[i..]);
    out.put_slice(b"\r\n");
}

/// Writes the CRLF that ends a chunk's data.
pub fn encode_chunk_end(out: &mut BytesMut) {
    out.put_slice(b"\r\n");
}

/// Writes the last chunk `0\r\n`, the trailer fields if any, and the final `\r\n`. Trailer
/// fields that must not be trailers for a proxy (framing, hop-by-hop, `Host`) are dropped.
pub fn encode_last_chunk(trailers: Option<&HeaderBlock>, out: &mut BytesMut) {
    out.put_slice(b"0\r\n");
    if let Some(trailers) = trailers {
        out.reserve(trailers.raw().len());
        for (name, value) in trailers {
            let n = name.as_bytes();
            if is_hop_by_hop(n) || eq_ic(n, b"content-length") || eq_ic(n, b"host") {
                continue;
            }
            put_field(out, name, value);
        }
    }
    out.put_slice(b"\r\n");
}

/// RFC 9110 7.6.1 plus the `Proxy-*` fields (see the module docs).
pub fn is_hop_by_hop(name: &[u8]) -> bool {
    match name.len() {
        2 => eq_ic(name, b"te"),
        7 => eq_ic(name, b"trailer") || eq_ic(name, b"upgrade"),
        10 => eq_ic(name, b"connection") || eq_ic(name, b"keep-alive"),
        16 => eq_ic(name, b"proxy-connection"),
        17 => eq_ic(name, b"transfer-encoding"),
        18 => eq_ic(name, b"proxy-authenticate"),
        19 => eq_ic(name, b"proxy-authorization"),
        _ => false,
    }
}

fn extra_len(opts: &EncodeOptions<'_>) -> usize {
    opts.extra_headers
        .iter()
        .map(|(n, v)| n.len() + v.len() + 4)
        .sum()
}

/// True when some `Connection` field names an option other than the ones whose fields are
/// dropped anyway, so the per-field nomination check can be skipped in the common case.
fn has_nominations(headers: &HeaderBlock) -> bool {
    headers.has_id(known::CONNECTION)
        && connection_options(headers).any(|t| {
            !(eq_ic(t, b"close")
                || eq_ic(t, b"keep-alive")
                || eq_ic(t, b"upgrade")
                || is_hop_by_hop(t))
        })
}

fn connection_options(headers: &HeaderBlock) -> impl Iterator<Item = &[u8]> {
    headers
        .values_id(known::CONNECTION)
        .flat_map(crate::syntax::list_elements)
}

fn put_fields(headers: &HeaderBlock, opts: &EncodeOptions<'_>, out: &mut BytesMut) {
    let nominated = has_nominations(headers);
    let keep_length = opts.body == BodyHeader::Keep;
    for (n, value, id) in headers.raw_fields() {
        if known::is_hop_by_hop_id(id) {
            continue;
        }
        let is_length = id == known::CONTENT_LENGTH;
        if is_length && !keep_length {
            continue;
        }
        if nominated
            && !is_length
            && id != known::HOST
            && connection_options(headers).any(|t| eq_ic(t, n))
        {
            continue;
        }
        if opts.drop_header.is_some_and(|drop| drop(n)) {
            continue;
        }
        out.put_slice(n);
        out.put_slice(b": ");
        out.put_slice(value);
        out.put_slice(b"\r\n");
    }
    match opts.body {
        BodyHeader::Keep | BodyHeader::None => {}
        BodyHeader::Length(n) => {
            out.put_slice(b"Content-Length: ");
            put_decimal(out, n);
            out.put_slice(b"\r\n");
        }
        BodyHeader::Chunked => out.put_slice(b"Transfer-Encoding: chunked\r\n"),
    }
    match opts.connection {
        ConnectionHeader::Omit => {}
        ConnectionHeader::Close => out.put_slice(b"Connection: close\r\n"),
        ConnectionHeader::KeepAlive => out.put_slice(b"Connection: keep-alive\r\n"),
        ConnectionHeader::Upgrade(proto) => {
            out.put_slice(b"Connection: upgrade\r\nUpgrade: ");
            put_value(out, proto);
            out.put_slice(b"\r\n");
        }
    }
    for (name, value) in opts.extra_headers {
        put_field(out, name, value);
    }
    out.put_slice(b"\r\n");
}

/// A caller-supplied field: skipped unless the name is a token; the value sanitised.
fn put_field(out: &mut BytesMut, name: &str, value: &[u8]) {
    if !is_token(name.as_bytes()) {
        return;
    }
    out.put_slice(name.as_bytes());
    out.put_slice(b": ");
    put_value(out, value);
    out.put_slice(b"\r\n");
}

/// Writes `value` with every byte that is not allowed in a field value replaced by a space.
fn put_value(out: &mut BytesMut, value: &[u8]) {
    if value.iter().all(|&b| is_field_value_byte(b)) {
        out.put_slice(value);
    } else {
        out.reserve(value.len());
        for &b in value {
            out.put_u8(if is_field_value_byte(b) { b } else { b' ' });
        }
    }
}

/// Three digits; codes outside 100..=999 are clamped into it so the line stays well-formed.
pub(crate) fn put_status(out: &mut BytesMut, status: u16) {
    let s = status.clamp(100, 999);
    out.put_slice(&[
        b'0' + (s / 100) as u8,
        b'0' + (s / 10 % 10) as u8,
        b'0' + (s % 10) as u8,
    ]);
}

pub(crate) fn put_decimal(out: &mut BytesMut, n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.put_slice(&digits[i..]);
}
