//! Message body length (RFC 9112 section 6.3): how a request or response body is delimited,
//! from `Content-Length`, `Transfer-Encoding`, the status and the request method.
//!
//! Strict by design: every combination that two parsers could read differently (CL with TE,
//! disagreeing CLs, TE not ending in chunked, TE in HTTP/1.0) is an error, never a guess. This
//! module only decides; `decode` reads the body.

use crate::error::{Error, ErrorKind, Peer};
use crate::head::{HeaderBlock, RequestHead, ResponseHead, Version};
use crate::known;
use crate::syntax::{eq_ic, is_token, list_elements, trim_ows};

/// How a message body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Framing {
    /// No body at all (a request without CL/TE; a response to HEAD; 1xx, 204, 304).
    Empty,
    /// Exactly this many bytes (`Content-Length`; may be 0).
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// A response without CL or TE: the body runs until the upstream closes.
    CloseDelimited,
    /// After a `101 Switching Protocols` or a 2xx answer to CONNECT, the connection carries
    /// opaque bytes both ways until either side closes.
    Tunnel,
}

impl Framing {
    /// True when a body follows the head (anything but `Empty` and `Length(0)`).
    pub fn has_body(self) -> bool {
        !matches!(self, Framing::Empty | Framing::Length(0))
    }
}

impl RequestHead {
    /// How this request's body is delimited: `Empty`, `Length(n)` or `Chunked`.
    ///
    /// # Errors
    /// With peer `Downstream` (answer and close, never forward):
    /// `TransferEncodingInHttp10`, `ContentLengthWithTransferEncoding`, `InvalidContentLength`,
    /// `InvalidTransferEncoding` (400) and `UnsupportedTransferCoding` (501).
    pub fn body_framing(&self) -> Result<Framing, Error> {
        let fail = Error::downstream;
        match body_headers(self.headers(), self.version()).map_err(fail)? {
            Some(framing) => Ok(framing),
            None => Ok(Framing::Empty),
        }
    }
}

/// How a response's body is delimited, given the method of the request it answers.
///
/// In order (RFC 9112 section 6.3): `101` is `Tunnel`; other 1xx, 204, 304 and any answer to
/// HEAD are `Empty` (their `Content-Length`, if any, describes another message and is not
/// checked); a 2xx to CONNECT is `Tunnel`; then `Transfer-Encoding` gives `Chunked` and
/// `Content-Length` gives `Length`, validated as for a request; otherwise `CloseDelimited`.
///
/// # Errors
/// The same kinds as [`RequestHead::body_framing`], with peer `Upstream` (answer 502).
pub fn response_framing(request_method: &str, head: &ResponseHead) -> Result<Framing, Error> {
    let status = head.status();
    if status == 101 {
        return Ok(Framing::Tunnel);
    }
    if (100..200).contains(&status) || status == 204 || status == 304 || request_method == "HEAD" {
        return Ok(Framing::Empty);
    }
    if request_method == "CONNECT" && (200..300).contains(&status) {
        return Ok(Framing::Tunnel);
    }
    let fail = |k| Error::new(k, Peer::Upstream);
    match body_headers(head.headers(), head.version()).map_err(fail)? {
        Some(framing) => Ok(framing),
        None => Ok(Framing::CloseDelimited),
    }
}

/// `Chunked` or `Length(n)` from the framing fields, `None` when there are none.
fn body_headers(headers: &HeaderBlock, version: Version) -> Result<Option<Framing>, ErrorKind> {
    let has_te = headers.has_id(known::TRANSFER_ENCODING);
    let has_cl = headers.has_id(known::CONTENT_LENGTH);
    if has_te {
        // RFC 9112 6.1: "A server or client that receives an HTTP/1.0 message containing a
        // Transfer-Encoding header field MUST treat the message as if the framing is faulty".
        if version == Version::Http10 {
            return Err(ErrorKind::TransferEncodingInHttp10);
        }
        // RFC 9112 6.3 item 3: both present "ought to be handled as an error"; for a request a
        // server MAY reject it, and it is the smuggling case, so we always do.
        if has_cl {
            return Err(ErrorKind::ContentLengthWithTransferEncoding);
        }
        check_transfer_encoding(headers)?;
        return Ok(Some(Framing::Chunked));
    }
    if has_cl {
        return content_length(headers).map(|n| Some(Framing::Length(n)));
    }
    Ok(None)
}

/// Every `Transfer-Encoding` list together must be exactly one `chunked`, last, without
/// parameters. RFC 9112 6.3 item 4: a request whose final coding is not chunked is 400; other
/// codings are not implemented (501).
fn check_transfer_encoding(headers: &HeaderBlock) -> Result<(), ErrorKind> {
    let mut last_chunked = false;
    let mut chunked = 0usize;
    let mut chunked_params = false;
    let mut unknown = false;
    let mut any = false;
    for value in headers.values_id(known::TRANSFER_ENCODING) {
        for element in list_elements(value) {
            any = true;
            let (name, params) = match element.iter().position(|&b| b == b';') {
                Some(i) => (
                    trim_ows(element.get(..i).unwrap_or_default()),
                    !trim_ows(element.get(i + 1..).unwrap_or_default()).is_empty(),
                ),
                None => (element, false),
            };
            if !is_token(name) {
                return Err(ErrorKind::InvalidTransferEncoding);
            }
            last_chunked = eq_ic(name, b"chunked");
            if last_chunked {
                chunked += 1;
                chunked_params |= params || element.contains(&b';');
            } else {
                unknown = true;
            }
        }
    }
    if !any || !last_chunked || chunked > 1 || chunked_params {
        return Err(ErrorKind::InvalidTransferEncoding);
    }
    if unknown {
        return Err(ErrorKind::UnsupportedTransferCoding);
    }
    Ok(())
}

/// All `Content-Length` values, in every field and list element, must be the same plain
/// decimal number (RFC 9110 8.6, RFC 9112 6.3 item 5).
fn content_length(headers: &HeaderBlock) -> Result<u64, ErrorKind> {
    let mut found: Option<u64> = None;
    for value in headers.values_id(known::CONTENT_LENGTH) {
        for element in value.split(|&b| b == b',') {
            let n = parse_decimal(trim_ows(element)).ok_or(ErrorKind::InvalidContentLength)?;
            match found {
                Some(prev) if prev != n => return Err(ErrorKind::InvalidContentLength),
                _ => found = Some(n),
            }
        }
    }
    found.ok_or(ErrorKind::InvalidContentLength)
}

/// `1*DIGIT` as a u64: no sign, no whitespace, no overflow.
pub(crate) fn parse_decimal(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    s.iter().try_fold(0u64, |acc, &b| {
        if !b.is_ascii_digit() {
            return None;
        }
        acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}
