//! HTTP/2 field sections as messages (RFC 9113 sections 8.1-8.3): validating what the peer sent
//! (lowercase names, forbidden characters, connection-specific fields, pseudo-header rules for
//! requests, responses and trailers, content-length) and checking what we send before it is
//! HPACK-encoded.
//!
//! Field sections arrive here already decoded (HPACK is the hpack crate's). What is not here:
//! URI normalisation, method semantics beyond CONNECT and HEAD, and the extended CONNECT
//! protocol of RFC 8441 (`:protocol` is refused: hawser never sends
//! SETTINGS_ENABLE_CONNECT_PROTOCOL).

use std::fmt;

use bytes::Bytes;
use hawser_hpack::{Encoder, Field, Header};

/// A request's control data (the pseudo-header fields, section 8.3.1) and its regular fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    /// `:method`.
    pub method: Bytes,
    /// `:scheme`; `None` only for CONNECT.
    pub scheme: Option<Bytes>,
    /// `:authority`. A received request without it but with a `host` field gets the host's
    /// value here (the `host` field stays in `fields`).
    pub authority: Option<Bytes>,
    /// `:path`; `None` only for CONNECT.
    pub path: Option<Bytes>,
    /// The regular fields, in order.
    pub fields: Vec<Field>,
}

impl RequestHead {
    /// A request with all four pseudo-header fields and no regular fields.
    pub fn new(
        method: impl Into<Bytes>,
        scheme: impl Into<Bytes>,
        authority: impl Into<Bytes>,
        path: impl Into<Bytes>,
    ) -> Self {
        RequestHead {
            method: method.into(),
            scheme: Some(scheme.into()),
            authority: Some(authority.into()),
            path: Some(path.into()),
            fields: Vec::new(),
        }
    }

    /// Whether this is a CONNECT request (section 8.5).
    pub fn is_connect(&self) -> bool {
        self.method.as_ref() == b"CONNECT"
    }
}

/// Why a field section is malformed (section 8.1.1): received, a stream error of type
/// PROTOCOL_ERROR; sent, a [`crate::SendError::Malformed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Malformed {
    /// A field name that is empty, has uppercase letters, controls, spaces, bytes >= 0x7f, or a
    /// colon anywhere but at the start of a pseudo-header (section 8.2.1).
    InvalidName,
    /// A value with NUL, CR or LF, or leading or trailing SP/HTAB (section 8.2.1).
    InvalidValue,
    /// `connection`, `keep-alive`, `proxy-connection`, `transfer-encoding` or `upgrade`
    /// (section 8.2.2).
    ConnectionSpecific,
    /// A `te` field other than `trailers` (section 8.2.2).
    InvalidTe,
    /// A pseudo-header field after a regular field (section 8.3).
    PseudoAfterRegular,
    /// A pseudo-header this message kind does not define, or a request's in a response
    /// (section 8.3).
    UnknownPseudo,
    /// A pseudo-header field twice (section 8.3.1).
    DuplicatePseudo,
    /// A required pseudo-header field missing: `:method`, `:scheme`, `:path` and `:authority`
    /// (or `host`) for a request, `:method` and `:authority` only for CONNECT, `:status` for a
    /// response (sections 8.3.1, 8.3.2, 8.5).
    MissingPseudo,
    /// CONNECT with `:scheme` or `:path` (section 8.5).
    ConnectWithPath,
    /// An empty `:path` (section 8.3.1).
    EmptyPath,
    /// `host` names a different authority than `:authority` (section 8.3.1).
    HostMismatch,
    /// `:status` not three digits, or 101, which HTTP/2 does not allow (sections 8.3.2, 8.6).
    InvalidStatus,
    /// A 1xx response with END_STREAM (section 8.1).
    InformationalEndStream,
    /// A pseudo-header field in trailers (section 8.1).
    PseudoInTrailers,
    /// A second field section after the header section without END_STREAM (section 8.1).
    TrailersWithoutEndStream,
    /// DATA before the final response (section 8.1).
    DataBeforeHeaders,
    /// `content-length` that is not a number, or several that differ (section 8.1.1).
    InvalidContentLength,
    /// DATA that disagrees with `content-length` (section 8.1.1).
    ContentLengthMismatch,
}

impl Malformed {
    /// A short static description (for logs and debug data).
    pub fn reason(self) -> &'static str {
        use Malformed::*;
        match self {
            InvalidName => "invalid field name",
            InvalidValue => "invalid field value",
            ConnectionSpecific => "connection-specific field",
            InvalidTe => "te other than trailers",
            PseudoAfterRegular => "pseudo-header after a regular field",
            UnknownPseudo => "unknown pseudo-header",
            DuplicatePseudo => "duplicate pseudo-header",
            MissingPseudo => "missing pseudo-header",
            ConnectWithPath => "CONNECT with :scheme or :path",
            EmptyPath => "empty :path",
            HostMismatch => "host differs from :authority",
            InvalidStatus => "invalid :status",
            InformationalEndStream => "1xx response with END_STREAM",
            PseudoInTrailers => "pseudo-header in trailers",
            TrailersWithoutEndStream => "trailers without END_STREAM",
            DataBeforeHeaders => "DATA before the final response",
            InvalidContentLength => "invalid content-length",
            ContentLengthMismatch => "DATA disagrees with content-length",
        }
    }
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

/// Checks a regular (non-pseudo) field: name characters, value characters, and the
/// connection-specific fields HTTP/2 forbids.
pub(crate) fn check_regular(name: &[u8], value: &[u8]) -> Result<(), Malformed> {
    // "A field name MUST NOT contain characters in the ranges 0x00-0x20, 0x41-0x5a, or
    // 0x7f-0xff (all ranges inclusive)." (section 8.2.1). Colons are not token characters.
    if name.is_empty()
        || name
            .iter()
            .any(|&b| b <= 0x20 || b.is_ascii_uppercase() || b >= 0x7f || b == b':')
    {
        return Err(Malformed::InvalidName);
    }
    check_value(value)?;
    match name {
        b"connection" | b"keep-alive" | b"proxy-connection" | b"transfer-encoding" | b"upgrade" => {
            Err(Malformed::ConnectionSpecific)
        }
        // "The only exception to this is the TE header field, which MAY be present in an
        // HTTP/2 request; when it is, it MUST NOT contain any value other than "trailers"."
        b"te" if value != b"trailers" => Err(Malformed::InvalidTe),
        _ => Ok(()),
    }
}

fn check_value(value: &[u8]) -> Result<(), Malformed> {
    let ws = |b: Option<&u8>| matches!(b, Some(b' ' | b'\t'));
    if value.iter().any(|&b| matches!(b, 0 | b'\r' | b'\n'))
        || ws(value.first())
        || ws(value.last())
    {
        return Err(Malformed::InvalidValue);
    }
    Ok(())
}

fn set_once(slot: &mut Option<Bytes>, value: &Bytes) -> Result<(), Malformed> {
    if slot.is_some() {
        return Err(Malformed::DuplicatePseudo);
    }
    check_value(value)?;
    *slot = Some(value.clone());
    Ok(())
}

/// A received request's field section as a [`RequestHead`] (sections 8.3.1, 8.5).
pub(crate) fn parse_request(fields: Vec<Field>) -> Result<RequestHead, Malformed> {
    let (mut method, mut scheme, mut authority, mut path) = (None, None, None, None);
    let mut regular = Vec::with_capacity(fields.len());
    let mut host: Option<Bytes> = None;
    for f in fields {
        if f.name.first() == Some(&b':') {
            if !regular.is_empty() {
                return Err(Malformed::PseudoAfterRegular);
            }
            match &f.name[..] {
                b":method" => set_once(&mut method, &f.value)?,
                b":scheme" => set_once(&mut scheme, &f.value)?,
                b":authority" => set_once(&mut authority, &f.value)?,
                b":path" => set_once(&mut path, &f.value)?,
                _ => return Err(Malformed::UnknownPseudo),
            }
            continue;
        }
        check_regular(&f.name, &f.value)?;
        if &f.name[..] == b"host" {
            if host.is_some() {
                return Err(Malformed::HostMismatch);
            }
            host = Some(f.value.clone());
        }
        regular.push(f);
    }
    let method = method.ok_or(Malformed::MissingPseudo)?;
    if let (Some(a), Some(h)) = (&authority, &host)
        && a != h
    {
        return Err(Malformed::HostMismatch);
    }
    let authority = authority.or(host);
    if method.as_ref() == b"CONNECT" {
        // "The :scheme and :path pseudo-header fields MUST be omitted." (section 8.5)
        if scheme.is_some() || path.is_some() {
            return Err(Malformed::ConnectWithPath);
        }
        if authority.is_none() {
            return Err(Malformed::MissingPseudo);
        }
    } else {
        if scheme.is_none() || path.is_none() || authority.is_none() {
            return Err(Malformed::MissingPseudo);
        }
        if path.as_ref().is_some_and(|p| p.is_empty()) {
            return Err(Malformed::EmptyPath);
        }
    }
    Ok(RequestHead {
        method,
        scheme,
        authority,
        path,
        fields: regular,
    })
}

/// Parses a `:status` value: three digits, 100..=999, never 101.
pub(crate) fn parse_status(v: &[u8]) -> Result<u16, Malformed> {
    let [a, b, c] = v else {
        return Err(Malformed::InvalidStatus);
    };
    if !(a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit()) || *a == b'0' {
        return Err(Malformed::InvalidStatus);
    }
    let s = u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0');
    if s == 101 {
        return Err(Malformed::InvalidStatus);
    }
    Ok(s)
}

/// A received response's field section: its status and regular fields (section 8.3.2).
pub(crate) fn parse_response(fields: Vec<Field>) -> Result<(u16, Vec<Field>), Malformed> {
    let mut status = None;
    let mut regular = Vec::with_capacity(fields.len());
    for f in fields {
        if f.name.first() == Some(&b':') {
            if !regular.is_empty() {
                return Err(Malformed::PseudoAfterRegular);
            }
            if &f.name[..] != b":status" {
                return Err(Malformed::UnknownPseudo);
            }
            if status.is_some() {
                return Err(Malformed::DuplicatePseudo);
            }
            status = Some(parse_status(&f.value)?);
            continue;
        }
        check_regular(&f.name, &f.value)?;
        regular.push(f);
    }
    Ok((status.ok_or(Malformed::MissingPseudo)?, regular))
}

/// Checks a trailer section: regular fields only (section 8.1).
pub(crate) fn check_trailers(fields: &[Field]) -> Result<(), Malformed> {
    for f in fields {
        if f.name.first() == Some(&b':') {
            return Err(Malformed::PseudoInTrailers);
        }
        check_regular(&f.name, &f.value)?;
    }
    Ok(())
}

/// The content-length the fields declare: `None` when absent; several values must agree.
pub(crate) fn content_length(fields: &[Field]) -> Result<Option<u64>, Malformed> {
    let mut found = None;
    for f in fields.iter().filter(|f| &f.name[..] == b"content-length") {
        let v = &f.value[..];
        if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
            return Err(Malformed::InvalidContentLength);
        }
        let n = v.iter().fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
        if found.is_some_and(|m| m != n) {
            return Err(Malformed::InvalidContentLength);
        }
        found = Some(n);
    }
    Ok(found)
}

/// The size of a field list as SETTINGS_MAX_HEADER_LIST_SIZE counts it (section 6.5.2).
pub(crate) fn list_size<'a>(fields: impl IntoIterator<Item = Header<'a>>) -> usize {
    fields
        .into_iter()
        .map(|h| h.name.len() + h.value.len() + 32)
        .sum()
}

/// A request's fields in wire order: pseudo-headers first, then the regular fields (checked).
pub(crate) fn request_headers(head: &RequestHead) -> Result<Vec<Header<'_>>, Malformed> {
    let mut out = Vec::with_capacity(4 + head.fields.len());
    out.push(Header::new(b":method", &head.method));
    if head.is_connect() {
        if head.scheme.is_some() || head.path.is_some() {
            return Err(Malformed::ConnectWithPath);
        }
    } else {
        let (Some(scheme), Some(path)) = (&head.scheme, &head.path) else {
            return Err(Malformed::MissingPseudo);
        };
        if path.is_empty() {
            return Err(Malformed::EmptyPath);
        }
        out.push(Header::new(b":scheme", scheme));
        out.push(Header::new(b":path", path));
    }
    match &head.authority {
        Some(a) => out.push(Header::new(b":authority", a)),
        None if head.is_connect() => return Err(Malformed::MissingPseudo),
        None => {}
    }
    for h in &out {
        check_value(h.value)?;
    }
    push_regular(&head.fields, &mut out)?;
    Ok(out)
}

/// Checks regular fields we are about to send and appends them.
pub(crate) fn push_regular<'a>(
    fields: &'a [Field],
    out: &mut Vec<Header<'a>>,
) -> Result<(), Malformed> {
    for f in fields {
        if f.name.first() == Some(&b':') {
            return Err(Malformed::UnknownPseudo);
        }
        check_regular(&f.name, &f.value)?;
        out.push(Header::from(f));
    }
    Ok(())
}

/// HPACK-encodes `headers` into one block.
pub(crate) fn encode_block(enc: &mut Encoder, headers: Vec<Header<'_>>) -> Bytes {
    let mut block = bytes::BytesMut::new();
    enc.encode(headers, &mut block);
    block.freeze()
}
