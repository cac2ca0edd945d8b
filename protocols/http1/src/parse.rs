//! Head parsing: httparse does the tokenising, this module adds what httparse leaves to its
//! caller: limits on incomplete input (414/431), bare-LF rejection, request-target forms, version
//! classification (400 vs 505), the `Host` rule, and turning borrowed slices into index spans over
//! one frozen `Bytes`.
//!
//! It parses heads and field blocks only; framing lives in `framing`, bodies in `decode`.

use std::mem::MaybeUninit;

use bytes::{Bytes, BytesMut};
use httparse::Status;

use crate::Limits;
use crate::defect::{StartLine, block_defect, head_defect, over_head_limits, start_line_end};
use crate::error::{Error, ErrorKind, Peer};
use crate::head::{Field, HeaderBlock, RequestHead, ResponseHead, Span, Version};
use crate::known;
use crate::syntax::{has_bare_lf, is_token};

/// Parses a request head at the start of `buf`.
///
/// Returns `Ok(None)` when more bytes are needed, or the head and the number of bytes it took
/// (leading empty lines included); the body, if any, starts there. The head's bytes are copied
/// once into a new `Bytes`; [`take_request`] avoids that copy when the caller reads into a
/// `BytesMut`.
///
/// # Errors
/// Any [`ErrorKind`] of the head (414, 431, 400, 505), with peer `Downstream`, even when `buf`
/// holds only part of the head: limits are checked on what has arrived.
pub fn parse_request(buf: &[u8], limits: &Limits) -> Result<Option<(RequestHead, usize)>, Error> {
    let Some(parts) = scan_request(buf, limits, true)? else {
        return Ok(None);
    };
    let raw = Bytes::copy_from_slice(buf.get(..parts.len).unwrap_or_default());
    let len = parts.len;
    Ok(Some((parts.into_head(raw), len)))
}

/// Parses a request head at the start of `buf` and, when complete, splits it off `buf` (zero
/// copy: the head shares `buf`'s allocation). `buf` is left holding what follows the head.
///
/// # Errors
/// As [`parse_request`]. On error `buf` is left untouched.
pub fn take_request(buf: &mut BytesMut, limits: &Limits) -> Result<Option<RequestHead>, Error> {
    let Some(parts) = scan_request(buf, limits, true)? else {
        return Ok(None);
    };
    let raw = buf.split_to(parts.len).freeze();
    Ok(Some(parts.into_head(raw)))
}

/// Parses a response head at the start of `buf`. Like [`parse_request`], for upstream responses:
/// errors carry peer `Upstream` (status 502). A `1xx` interim head is returned like any other.
///
/// # Errors
/// Any head [`ErrorKind`], with peer `Upstream`.
pub fn parse_response(buf: &[u8], limits: &Limits) -> Result<Option<(ResponseHead, usize)>, Error> {
    let Some(parts) = scan_response(buf, limits)? else {
        return Ok(None);
    };
    let raw = Bytes::copy_from_slice(buf.get(..parts.len).unwrap_or_default());
    let len = parts.len;
    Ok(Some((parts.into_head(raw), len)))
}

/// Zero-copy [`parse_response`]: splits the head off `buf` when complete.
///
/// # Errors
/// As [`parse_response`]. On error `buf` is left untouched.
pub fn take_response(buf: &mut BytesMut, limits: &Limits) -> Result<Option<ResponseHead>, Error> {
    let Some(parts) = scan_response(buf, limits)? else {
        return Ok(None);
    };
    let raw = buf.split_to(parts.len).freeze();
    Ok(Some(parts.into_head(raw)))
}

struct RequestParts {
    len: usize,
    method: Span,
    target: Span,
    version: Version,
    fields: Fields,
}

/// Field spans and the mask of known ids (see `known`).
pub(crate) struct Fields {
    pub(crate) list: Vec<Field>,
    pub(crate) mask: u32,
}

impl Fields {
    pub(crate) fn into_block(self, raw: Bytes) -> HeaderBlock {
        HeaderBlock {
            raw,
            fields: self.list,
            mask: self.mask,
        }
    }
}

impl RequestParts {
    fn into_head(self, raw: Bytes) -> RequestHead {
        RequestHead {
            method: self.method,
            target: self.target,
            version: self.version,
            headers: self.fields.into_block(raw),
        }
    }
}

struct ResponseParts {
    len: usize,
    version: Version,
    status: u16,
    reason: Span,
    fields: Fields,
}

impl ResponseParts {
    fn into_head(self, raw: Bytes) -> ResponseHead {
        ResponseHead {
            version: self.version,
            status: self.status,
            reason: self.reason,
            headers: self.fields.into_block(raw),
        }
    }
}

/// The most of `buf` a head within the limits can occupy; nothing past it is ever parsed, so a
/// verdict never depends on bytes beyond the limits (and a long buffer is not rescanned).
fn head_window<'b>(buf: &'b [u8], limits: &Limits) -> &'b [u8] {
    // Start line, its CRLF, the header section, and one byte to see past the limit.
    let max = limits
        .max_request_line
        .saturating_add(limits.max_header_bytes)
        .saturating_add(3);
    buf.get(..max).unwrap_or(buf)
}

/// Header slots kept on the stack up to this many; larger limits use a heap buffer.
const STACK_SLOTS: usize = 128;

type Slot<'b> = MaybeUninit<httparse::Header<'b>>;

fn with_slots<'b, R>(max: usize, f: impl FnOnce(&mut [Slot<'b>]) -> R) -> R {
    if max <= STACK_SLOTS {
        let mut slots = [Slot::uninit(); STACK_SLOTS];
        f(slots.get_mut(..max).unwrap_or_default())
    } else {
        let mut slots = vec![Slot::uninit(); max];
        f(&mut slots)
    }
}

fn span_of(buf: &[u8], part: &[u8]) -> Option<Span> {
    if part.is_empty() {
        return Some(Span::default());
    }
    let start = part.as_ptr().addr().checked_sub(buf.as_ptr().addr())?;
    let end = start.checked_add(part.len())?;
    if end > buf.len() {
        return None;
    }
    Some(Span {
        start: u32::try_from(start).ok()?,
        end: u32::try_from(end).ok()?,
    })
}

fn field_spans(buf: &[u8], headers: &[httparse::Header<'_>]) -> Option<Fields> {
    let mut list = Vec::with_capacity(headers.len());
    let mut mask = 0;
    for h in headers {
        let name = h.name.as_bytes();
        let id = known::classify(name);
        mask |= known::mask_bit(id, name);
        list.push(Field {
            name: span_of(buf, name)?,
            value: span_of(buf, h.value)?,
            id,
        });
    }
    Some(Fields { list, mask })
}

fn version_of(v: u8) -> Version {
    if v == 0 {
        Version::Http10
    } else {
        Version::Http11
    }
}

/// What httparse said of a head, with the checks it leaves to us: `Some(len)` for a complete
/// head within the limits and without a bare LF, `None` when more bytes may still make one, and
/// `refuse`'s error (which names the earliest defect) otherwise.
fn complete_head(
    parsed: httparse::Result<usize>,
    buf: &[u8],
    limits: &Limits,
    refuse: &impl Fn(Option<httparse::Error>) -> Error,
) -> Result<Option<usize>, Error> {
    let len = match parsed {
        Ok(Status::Complete(n)) => n,
        Ok(Status::Partial) if over_head_limits(buf, limits) => return Err(refuse(None)),
        Ok(Status::Partial) => return Ok(None),
        Err(e) => return Err(refuse(Some(e))),
    };
    let head = buf.get(..len).unwrap_or_default();
    if has_bare_lf(head) || over_head_limits(head, limits) {
        return Err(refuse(None));
    }
    Ok(Some(len))
}

fn scan_request(
    full: &[u8],
    limits: &Limits,
    require_host: bool,
) -> Result<Option<RequestParts>, Error> {
    let fail = Error::downstream;
    let buf = head_window(full, limits);
    let refuse = |e: Option<httparse::Error>| {
        fail(head_defect(buf, StartLine::Request, limits).unwrap_or(fallback(e)))
    };
    with_slots(limits.max_headers, |slots| {
        let mut req = httparse::Request::new(&mut []);
        let parsed = req.parse_with_uninit_headers(buf, slots);
        let Some(len) = complete_head(parsed, buf, limits, &refuse)? else {
            return Ok(None);
        };
        let (Some(method), Some(target), Some(version)) = (req.method, req.path, req.version)
        else {
            return Err(refuse(None));
        };
        let (Some(method), Some(target)) = (
            span_of(buf, method.as_bytes()),
            span_of(buf, target.as_bytes()),
        ) else {
            return Err(fail(ErrorKind::InvalidTarget));
        };
        check_target(method.slice(buf), target.slice(buf)).map_err(fail)?;
        let version = version_of(version);
        let fields = field_spans(buf, req.headers).ok_or(fail(ErrorKind::InvalidHeaderName))?;
        if require_host {
            let hosts = fields.list.iter().filter(|f| f.id == known::HOST).count();
            let ok = match version {
                Version::Http11 => hosts == 1,
                Version::Http10 => hosts <= 1,
            };
            if !ok {
                return Err(fail(ErrorKind::InvalidHost));
            }
        }
        Ok(Some(RequestParts {
            len,
            method,
            target,
            version,
            fields,
        }))
    })
}

fn scan_response(full: &[u8], limits: &Limits) -> Result<Option<ResponseParts>, Error> {
    let fail = |k| Error::new(k, Peer::Upstream);
    let buf = head_window(full, limits);
    let refuse = |e: Option<httparse::Error>| {
        fail(head_defect(buf, StartLine::Response, limits).unwrap_or(fallback(e)))
    };
    with_slots(limits.max_headers, |slots| {
        let mut res = httparse::Response::new(&mut []);
        let config = httparse::ParserConfig::default();
        let parsed = config.parse_response_with_uninit_headers(&mut res, buf, slots);
        let Some(len) = complete_head(parsed, buf, limits, &refuse)? else {
            return Ok(None);
        };
        let head = buf.get(..len).unwrap_or_default();
        let (Some(version), Some(status)) = (res.version, res.code) else {
            return Err(refuse(None));
        };
        if !(100..=999).contains(&status) {
            return Err(fail(ErrorKind::InvalidStatus));
        }
        // status-line = HTTP-version SP status-code SP [ reason-phrase ], then CRLF; httparse
        // validated it and there is no bare LF, so it ends at the first CR.
        let line_end = start_line_end(head);
        let line_start = head
            .iter()
            .position(|&b| b != b'\r' && b != b'\n')
            .unwrap_or(0);
        // `HTTP/1.1 200 ` is 13 bytes; the reason (possibly empty) runs to the CR.
        let reason_start = (line_start + 13).min(line_end);
        let reason = match (u32::try_from(reason_start), u32::try_from(line_end)) {
            (Ok(start), Ok(end)) => Span { start, end },
            _ => return Err(fail(ErrorKind::HeadersTooLarge)),
        };
        let fields = field_spans(buf, res.headers).ok_or(fail(ErrorKind::InvalidHeaderName))?;
        Ok(Some(ResponseParts {
            len,
            version: version_of(version),
            status,
            reason,
            fields,
        }))
    })
}

/// The kind for an error the defect walk could not place (it always should).
fn fallback(e: Option<httparse::Error>) -> ErrorKind {
    match e {
        Some(httparse::Error::TooManyHeaders) => ErrorKind::TooManyHeaders,
        Some(httparse::Error::HeaderValue) => ErrorKind::InvalidHeaderValue,
        Some(httparse::Error::Status) => ErrorKind::InvalidStatus,
        Some(httparse::Error::Version) => ErrorKind::InvalidVersion,
        Some(httparse::Error::Token) => ErrorKind::InvalidTarget,
        Some(httparse::Error::NewLine) | None => ErrorKind::InvalidLineEnding,
        Some(httparse::Error::HeaderName) => ErrorKind::InvalidHeaderName,
    }
}

/// Parses a block of field lines ending with an empty line (a trailer section) at the start of
/// `buf`. Returns the bytes it took and the field spans, or `None` when incomplete.
pub(crate) fn scan_fields(
    buf: &[u8],
    max_bytes: usize,
    max_count: usize,
    peer: Peer,
) -> Result<Option<(usize, Fields)>, Error> {
    let fail = |k| Error::new(k, peer);
    // Never parse past the limit (plus one byte, to see a CR's partner), so the verdict is the
    // same however the bytes arrive.
    let window = buf.get(..max_bytes.saturating_add(1)).unwrap_or(buf);
    let refuse = |e: Option<httparse::Error>| {
        fail(
            block_defect(window, max_bytes, max_count).unwrap_or(match e {
                Some(httparse::Error::TooManyHeaders) => ErrorKind::TrailersTooLarge,
                other => fallback(other),
            }),
        )
    };
    let mut stack = [httparse::EMPTY_HEADER; 16];
    let mut heap;
    let slots: &mut [httparse::Header<'_>] = if max_count <= stack.len() {
        stack.get_mut(..max_count).unwrap_or_default()
    } else {
        heap = vec![httparse::EMPTY_HEADER; max_count];
        &mut heap
    };
    match httparse::parse_headers(window, slots) {
        Ok(Status::Complete((len, headers))) => {
            if len > max_bytes || has_bare_lf(window.get(..len).unwrap_or_default()) {
                return Err(refuse(None));
            }
            let fields = field_spans(buf, headers).ok_or(fail(ErrorKind::InvalidHeaderName))?;
            Ok(Some((len, fields)))
        }
        Ok(Status::Partial) if window.len() > max_bytes => Err(refuse(None)),
        Ok(Status::Partial) => Ok(None),
        Err(e) => Err(refuse(Some(e))),
    }
}

/// Limits generous enough for anything built in memory, keeping the count exact.
fn limits_for(raw: &[u8]) -> Limits {
    Limits {
        max_request_line: raw.len(),
        max_header_bytes: raw.len(),
        max_headers: raw.iter().filter(|&&b| b == b'\n').count(),
        max_chunk_line: 0,
    }
}

/// Parses a whole in-memory request head (`from_parts`); the head must be all of `raw`.
pub(crate) fn request_from_raw(raw: Bytes) -> Result<RequestHead, Error> {
    match scan_request(&raw, &limits_for(&raw), false)? {
        Some(parts) if parts.len == raw.len() => Ok(parts.into_head(raw)),
        _ => Err(Error::downstream(ErrorKind::InvalidHeaderValue)),
    }
}

/// Parses a whole in-memory response head (`from_parts`); the head must be all of `raw`.
pub(crate) fn response_from_raw(raw: Bytes) -> Result<ResponseHead, Error> {
    match scan_response(&raw, &limits_for(&raw))? {
        Some(parts) if parts.len == raw.len() => Ok(parts.into_head(raw)),
        _ => Err(Error::new(ErrorKind::InvalidHeaderValue, Peer::Upstream)),
    }
}

/// Parses a whole in-memory field block (`HeaderBlock::from_pairs`).
pub(crate) fn parse_field_block(raw: Bytes, peer: Peer) -> Result<HeaderBlock, Error> {
    let limits = limits_for(&raw);
    match scan_fields(&raw, raw.len(), limits.max_headers, peer)? {
        Some((len, fields)) if len == raw.len() => Ok(fields.into_block(raw)),
        _ => Err(Error::new(ErrorKind::InvalidHeaderValue, peer)),
    }
}

/// Request-target forms (RFC 9112 section 3.2): origin-form, absolute-form, authority-form (only
/// and always for CONNECT), asterisk-form (only for OPTIONS). Targets are ASCII and carry no
/// fragment.
fn check_target(method: &[u8], target: &[u8]) -> Result<(), ErrorKind> {
    let bad = Err(ErrorKind::InvalidTarget);
    if !target.is_ascii() || target.contains(&b'#') {
        return bad;
    }
    if method == b"CONNECT" {
        return if is_authority_form(target) {
            Ok(())
        } else {
            bad
        };
    }
    if target == b"*" {
        return if method == b"OPTIONS" { Ok(()) } else { bad };
    }
    if target.starts_with(b"/") || is_absolute_form(target) {
        Ok(())
    } else {
        bad
    }
}

/// `uri-host ":" port`, with a non-empty host and a non-empty port of digits.
fn is_authority_form(t: &[u8]) -> bool {
    let Some(colon) = t.iter().rposition(|&b| b == b':') else {
        return false;
    };
    let (host, port) = (
        t.get(..colon).unwrap_or_default(),
        t.get(colon + 1..).unwrap_or_default(),
    );
    !host.is_empty()
        && !port.is_empty()
        && port.iter().all(u8::is_ascii_digit)
        && !host.iter().any(|b| matches!(b, b'/' | b'?' | b'@'))
}

/// `scheme ":" hier-part`, scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
fn is_absolute_form(t: &[u8]) -> bool {
    let Some(colon) = t.iter().position(|&b| b == b':') else {
        return false;
    };
    let scheme = t.get(..colon).unwrap_or_default();
    matches!(scheme.first(), Some(b) if b.is_ascii_alphabetic())
        && scheme
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        && is_token(scheme)
}
