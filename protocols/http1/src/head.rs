//! Message heads as one frozen `Bytes` plus small index ranges: [`RequestHead`],
//! [`ResponseHead`] and [`HeaderBlock`] (the field lines of a head or a trailer section).
//!
//! A parsed head keeps the bytes exactly as received (original case and order) and never copies
//! a field; accessors slice into the shared buffer. Heads are immutable: to change a head on the
//! way through, the encoder takes options (see `encode`), and `from_parts` builds a new one.
//! This module does not parse; `parse` builds these from validated spans.

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};

use crate::error::{Error, ErrorKind, Peer};
use crate::known;
use crate::syntax::{eq_ic, is_field_value_byte, is_token};

/// The HTTP versions this codec speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// HTTP/1.0
    Http10,
    /// HTTP/1.1
    Http11,
}

impl Version {
    /// The wire form, `HTTP/1.0` or `HTTP/1.1`.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        }
    }
}

/// A byte range into a head's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Span {
    pub(crate) start: u32,
    pub(crate) end: u32,
}

impl Span {
    pub(crate) fn slice(self, raw: &[u8]) -> &[u8] {
        raw.get(self.start as usize..self.end as usize)
            .unwrap_or_default()
    }
}

/// One field line: name and value ranges, and the name's id when it is a known one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Field {
    pub(crate) name: Span,
    pub(crate) value: Span,
    /// `known::classify` of the name.
    pub(crate) id: u8,
}

/// An ordered list of header (or trailer) fields, indexing one shared buffer. Names keep their
/// original case; lookups are case-insensitive.
#[derive(Clone, Default)]
pub struct HeaderBlock {
    pub(crate) raw: Bytes,
    pub(crate) fields: Vec<Field>,
    /// Which known ids occur (bit `1 << id`), plus `known::L5D_PREFIX_BIT`.
    pub(crate) mask: u32,
}

/// Iterator over `(name, value)` pairs of a [`HeaderBlock`], in wire order.
#[derive(Clone)]
pub struct Headers<'a> {
    raw: &'a [u8],
    fields: std::slice::Iter<'a, Field>,
}

impl<'a> Iterator for Headers<'a> {
    type Item = (&'a str, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let f = self.fields.next()?;
        Some((as_str(f.name.slice(self.raw)), f.value.slice(self.raw)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.fields.size_hint()
    }
}

impl ExactSizeIterator for Headers<'_> {}

/// Names are validated tokens (ASCII), so this never falls back in practice.
fn as_str(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap_or_default()
}

impl HeaderBlock {
    /// Builds a block from `(name, value)` pairs, validating names (tokens) and values (no NUL,
    /// CR, LF or other controls but HTAB).
    ///
    /// # Errors
    /// `InvalidHeaderName` / `InvalidHeaderValue` for a bad pair.
    pub fn from_pairs(pairs: &[(&str, &[u8])]) -> Result<HeaderBlock, Error> {
        check_pairs(pairs, Peer::Downstream)?;
        let mut raw = BytesMut::with_capacity(pairs_len(pairs) + 2);
        put_pairs(&mut raw, pairs);
        raw.put_slice(b"\r\n");
        crate::parse::parse_field_block(raw.freeze(), Peer::Downstream)
    }

    /// The fields in wire order.
    pub fn iter(&self) -> Headers<'_> {
        Headers {
            raw: &self.raw,
            fields: self.fields.iter(),
        }
    }

    /// The value of the first field named `name` (case-insensitive).
    pub fn get<'a>(&'a self, name: &str) -> Option<&'a [u8]> {
        self.values(name.as_bytes()).next()
    }

    /// Every value of fields named `name` (case-insensitive), in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.values(name.as_bytes())
    }

    /// Values of fields named `name`: by id for a known name (none at all without a scan when
    /// the mask says it is absent), by bytes otherwise.
    pub(crate) fn values<'a, 'n>(
        &'a self,
        name: &'n [u8],
    ) -> impl Iterator<Item = &'a [u8]> + use<'a, 'n> {
        let id = known::classify(name);
        let absent = id != known::UNKNOWN && self.mask & (1 << id) == 0;
        let fields = if absent { &[][..] } else { &self.fields[..] };
        fields
            .iter()
            .filter(move |f| {
                if id == known::UNKNOWN {
                    f.id == known::UNKNOWN && eq_ic(f.name.slice(&self.raw), name)
                } else {
                    f.id == id
                }
            })
            .map(|f| f.value.slice(&self.raw))
    }

    /// Values of the known field `id`, in order (nothing to scan when the mask says absent).
    pub(crate) fn values_id(&self, id: u8) -> impl Iterator<Item = &[u8]> {
        let fields = if self.has_id(id) {
            &self.fields[..]
        } else {
            &[][..]
        };
        fields
            .iter()
            .filter(move |f| f.id == id)
            .map(|f| f.value.slice(&self.raw))
    }

    /// `(name, value)` as bytes with the name's id, in wire order (no UTF-8 check).
    pub(crate) fn raw_fields(&self) -> impl Iterator<Item = (&[u8], &[u8], u8)> {
        self.fields
            .iter()
            .map(|f| (f.name.slice(&self.raw), f.value.slice(&self.raw), f.id))
    }

    /// Whether a known field (by id) is present, from the mask alone.
    pub(crate) fn has_id(&self, id: u8) -> bool {
        self.mask & (1 << id) != 0
    }

    /// Whether some field name starts with `l5d-` (any case): the linkerd context and routing
    /// fields. Answered from a bit set while parsing, without a scan.
    pub fn has_l5d_fields(&self) -> bool {
        self.mask & known::L5D_PREFIX_BIT != 0
    }

    /// Whether a field named `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Number of field lines.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// True when there are no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The buffer the fields index (for a parsed head, the whole head as received).
    pub fn raw(&self) -> &Bytes {
        &self.raw
    }
}

impl<'a> IntoIterator for &'a HeaderBlock {
    type Item = (&'a str, &'a [u8]);
    type IntoIter = Headers<'a>;

    fn into_iter(self) -> Headers<'a> {
        self.iter()
    }
}

impl PartialEq for HeaderBlock {
    /// Same fields, same order, same case.
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for HeaderBlock {}

impl fmt::Debug for HeaderBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(
                self.iter()
                    .map(|(n, v)| (n, String::from_utf8_lossy(v).into_owned())),
            )
            .finish()
    }
}

/// A request head: request line and header fields, indexing the frozen bytes it was parsed from.
#[derive(Clone)]
pub struct RequestHead {
    pub(crate) method: Span,
    pub(crate) target: Span,
    pub(crate) version: Version,
    pub(crate) headers: HeaderBlock,
}

impl RequestHead {
    /// Builds a head from parts, validated as if it had been parsed (except that `Host` is not
    /// required). Useful for tests and for synthesising requests; to forward a request with a
    /// different target, prefer `EncodeOptions::target`, which copies nothing extra.
    ///
    /// # Errors
    /// `InvalidMethod`, `InvalidTarget`, `InvalidHeaderName` or `InvalidHeaderValue` for a bad
    /// part (a value cannot smuggle a CRLF), otherwise what [`crate::parse_request`] would answer
    /// for the same bytes.
    pub fn from_parts(
        method: &str,
        target: &str,
        version: Version,
        headers: &[(&str, &[u8])],
    ) -> Result<RequestHead, Error> {
        let fail = |k| Err(Error::downstream(k));
        if !is_token(method.as_bytes()) {
            return fail(ErrorKind::InvalidMethod);
        }
        if !target.bytes().all(|b| (b'!'..=b'~').contains(&b)) {
            return fail(ErrorKind::InvalidTarget);
        }
        check_pairs(headers, Peer::Downstream)?;
        let mut raw =
            BytesMut::with_capacity(method.len() + target.len() + 14 + pairs_len(headers));
        raw.put_slice(method.as_bytes());
        raw.put_u8(b' ');
        raw.put_slice(target.as_bytes());
        raw.put_u8(b' ');
        raw.put_slice(version.as_str().as_bytes());
        raw.put_slice(b"\r\n");
        put_pairs(&mut raw, headers);
        raw.put_slice(b"\r\n");
        crate::parse::request_from_raw(raw.freeze())
    }

    /// The method, case-sensitive as received (`GET`, `CONNECT`, ...).
    pub fn method(&self) -> &str {
        as_str(self.method.slice(&self.headers.raw))
    }

    /// The request-target as received (origin, absolute, authority or asterisk form).
    pub fn target(&self) -> &str {
        as_str(self.target.slice(&self.headers.raw))
    }

    /// The request's HTTP version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The header fields, in order, original case.
    pub fn headers(&self) -> &HeaderBlock {
        &self.headers
    }

    /// The first value of `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers.get(name)
    }

    /// All values of `name` (case-insensitive), in order.
    pub fn header_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.headers.get_all(name)
    }

    /// The head exactly as received, including the final empty line.
    pub fn raw(&self) -> &Bytes {
        &self.headers.raw
    }
}

impl PartialEq for RequestHead {
    /// Same method, target, version and fields (in order, same case).
    fn eq(&self, other: &Self) -> bool {
        self.method() == other.method()
            && self.target() == other.target()
            && self.version == other.version
            && self.headers == other.headers
    }
}

impl Eq for RequestHead {}

impl fmt::Debug for RequestHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestHead")
            .field("method", &self.method())
            .field("target", &self.target())
            .field("version", &self.version)
            .field("headers", &self.headers)
            .finish()
    }
}

/// A response head: status line and header fields, indexing the frozen bytes it was parsed from.
#[derive(Clone)]
pub struct ResponseHead {
    pub(crate) version: Version,
    pub(crate) status: u16,
    pub(crate) reason: Span,
    pub(crate) headers: HeaderBlock,
}

impl ResponseHead {
    /// Builds a head from parts, validated as if it had been parsed.
    ///
    /// # Errors
    /// `InvalidStatus` for a reason with controls, `InvalidHeaderName` / `InvalidHeaderValue`
    /// for a bad field, otherwise what [`crate::parse_response`] would answer (peer `Upstream`).
    pub fn from_parts(
        version: Version,
        status: u16,
        reason: &str,
        headers: &[(&str, &[u8])],
    ) -> Result<ResponseHead, Error> {
        if !reason.bytes().all(is_field_value_byte) {
            return Err(Error::new(ErrorKind::InvalidStatus, Peer::Upstream));
        }
        check_pairs(headers, Peer::Upstream)?;
        let mut raw = BytesMut::with_capacity(reason.len() + 15 + pairs_len(headers));
        raw.put_slice(version.as_str().as_bytes());
        raw.put_u8(b' ');
        crate::encode::put_status(&mut raw, status);
        raw.put_u8(b' ');
        raw.put_slice(reason.as_bytes());
        raw.put_slice(b"\r\n");
        put_pairs(&mut raw, headers);
        raw.put_slice(b"\r\n");
        crate::parse::response_from_raw(raw.freeze())
    }

    /// The status code (100..=999).
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The reason phrase, or `""` when it is not UTF-8 (obs-text); see [`Self::reason_bytes`].
    pub fn reason(&self) -> &str {
        std::str::from_utf8(self.reason_bytes()).unwrap_or_default()
    }

    /// The reason phrase exactly as received.
    pub fn reason_bytes(&self) -> &[u8] {
        self.reason.slice(&self.headers.raw)
    }

    /// The response's HTTP version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The header fields, in order, original case.
    pub fn headers(&self) -> &HeaderBlock {
        &self.headers
    }

    /// The first value of `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers.get(name)
    }

    /// All values of `name` (case-insensitive), in order.
    pub fn header_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.headers.get_all(name)
    }

    /// True for 1xx interim responses other than 101 (the caller forwards them and parses again).
    pub fn is_interim(&self) -> bool {
        (100..200).contains(&self.status) && self.status != 101
    }

    /// The head exactly as received, including the final empty line.
    pub fn raw(&self) -> &Bytes {
        &self.headers.raw
    }
}

impl PartialEq for ResponseHead {
    /// Same version, status, reason and fields (in order, same case).
    fn eq(&self, other: &Self) -> bool {
        self.version == other.version
            && self.status == other.status
            && self.reason_bytes() == other.reason_bytes()
            && self.headers == other.headers
    }
}

impl Eq for ResponseHead {}

impl fmt::Debug for ResponseHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseHead")
            .field("version", &self.version)
            .field("status", &self.status)
            .field("reason", &String::from_utf8_lossy(self.reason_bytes()))
            .field("headers", &self.headers)
            .finish()
    }
}

/// Each name a token, each value free of CR, LF, NUL and other controls, so the serialised
/// block has exactly these fields.
fn check_pairs(pairs: &[(&str, &[u8])], peer: Peer) -> Result<(), Error> {
    for (n, v) in pairs {
        if !is_token(n.as_bytes()) {
            return Err(Error::new(ErrorKind::InvalidHeaderName, peer));
        }
        if !v.iter().all(|&b| is_field_value_byte(b)) {
            return Err(Error::new(ErrorKind::InvalidHeaderValue, peer));
        }
    }
    Ok(())
}

fn pairs_len(pairs: &[(&str, &[u8])]) -> usize {
    pairs.iter().map(|(n, v)| n.len() + v.len() + 4).sum()
}

fn put_pairs(out: &mut BytesMut, pairs: &[(&str, &[u8])]) {
    for (n, v) in pairs {
        out.put_slice(n.as_bytes());
        out.put_slice(b": ");
        out.put_slice(v);
        out.put_slice(b"\r\n");
    }
}
