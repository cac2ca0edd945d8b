//! Sans-IO HTTP/1.1 codec for hawser.
//!
//! This crate turns bytes into message heads and body pieces and back. It never touches a socket,
//! a runtime or a clock: the proxy's drivers read into a buffer, hand the buffer here, and write
//! what comes back. It is strict (RFC 9112 / RFC 9110) where leniency enables request smuggling,
//! enforces its own limits before allocating, and never copies a body.
//!
//! What it deliberately does not do: content codings (gzip), caching, routing, `Date` headers,
//! HTTP/2, timeouts (the caller owns time), or any policy about pooling.
//!
//! # Flow for a proxy (what the drivers call)
//!
//! 1. **Request head.** After each read, call [`take_request`] on the read buffer (zero-copy: the
//!    head is split off the `BytesMut` and frozen) or [`parse_request`] on a plain slice (copies
//!    the head once). `Ok(None)` means "read more"; limits are enforced on incomplete input too.
//!    Every [`Error`] means: answer [`Error::status`] with [`Error::reason`] (the `l5d-err`
//!    header) and close the connection; never forward the message.
//!    Parsing checks the request line, header syntax, the target form against the method, the
//!    version (1.0 and 1.1 only) and `Host` (exactly one in 1.1, at most one in 1.0).
//! 2. **Framing.** [`RequestHead::body_framing`] decides how the request body is delimited
//!    (RFC 9112 section 6) and rejects every ambiguous combination.
//!    [`response_framing`] does the same for a response, given the request method.
//! 3. **Connection semantics.** [`RequestHead::keep_alive`], [`RequestHead::expects_continue`]
//!    (an unsupported expectation is an `Err` whose status is 417), [`RequestHead::upgrade`],
//!    [`RequestHead::connection_tokens`]; the same on [`ResponseHead`].
//! 4. **Body.** [`BodyDecoder::new`] from the framing; call [`BodyDecoder::decode`] with the read
//!    buffer until it answers [`Decoded::NeedMore`] (read more, sized by
//!    [`BodyDecoder::remaining`]) or [`Decoded::Done`]. Data comes out as `Bytes` split off the
//!    buffer, never copied. When the peer closes, call [`BodyDecoder::eof`]: `Done` for a
//!    close-delimited body, an error for a truncated one.
//! 5. **Forwarding.** [`encode_request_head`] / [`encode_response_head`] write a head with the
//!    hop-by-hop fields removed (see [`encode`]), plus the framing and `Connection` the caller
//!    declares in [`EncodeOptions`]. Re-chunk a chunked body with [`encode_chunk_header`],
//!    [`encode_chunk_end`] and [`encode_last_chunk`]. Proxy-generated answers use
//!    [`encode_response`].
//! 6. **Responses.** [`take_response`] / [`parse_response`] parse an upstream head; their errors
//!    carry status 502 (the caller answers the client with a 502 and that reason). Interim `1xx`
//!    responses other than `101` come back as ordinary heads whose [`response_framing`] is
//!    [`Framing::Empty`]: the caller forwards them (or drops a `100 Continue` it generated
//!    itself) and parses again for the final response.
//!
//! # Strictness decisions
//!
//! - Bare LF and bare CR line terminators are rejected everywhere (RFC 9112 section 2.2 lets a
//!   server reject bare LF; accepting it is a known smuggling vector between disagreeing parsers).
//! - obs-fold is rejected (400 in requests; 502 for responses, which RFC 9112 section 5.2 allows
//!   a proxy to do).
//! - Only the `chunked` transfer coding is implemented: any other coding is 501 in a request and
//!   an error (502) in a response, because forwarding a coding we do not understand while
//!   rewriting the framing would corrupt the message.
//! - A message with both `Content-Length` and `Transfer-Encoding` is an error in both directions.
//! - A refused head or trailer section is reported by its earliest defect (grammar, bare CR/LF,
//!   or a limit), so the status and reason never depend on how reads split the bytes.
//! - `Host`: exactly one in HTTP/1.1, at most one in HTTP/1.0 (RFC 9112 section 3.2). The
//!   target's authority is not compared with `Host`; that is the router's business.
//!
//! Limits are in [`Limits`]. Errors are documented per variant in [`ErrorKind`].

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod conn;
mod decode;
mod defect;
pub mod encode;
mod error;
mod framing;
mod head;
mod known;
mod parse;
mod syntax;

#[cfg(test)]
mod tests;

pub use decode::{BodyDecoder, Decoded};
pub use encode::{
    BodyHeader, ConnectionHeader, DropHeader, EncodeOptions, encode_chunk_end, encode_chunk_header,
    encode_last_chunk, encode_request_head, encode_response, encode_response_head, is_hop_by_hop,
};
pub use error::{Error, ErrorKind, Peer};
pub use framing::{Framing, response_framing};
pub use head::{HeaderBlock, Headers, RequestHead, ResponseHead, Version};
pub use parse::{parse_request, parse_response, take_request, take_response};

/// Size limits enforced while parsing. Checked before anything is allocated and on incomplete
/// input, so a peer cannot make a buffer grow past them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest request line (or status line), without its CRLF; leading empty lines count
    /// towards it. Exceeding it is 414 for a request. Default 8 KiB.
    pub max_request_line: usize,
    /// Largest header section (every field line and the final empty line), and also the largest
    /// trailer section of a chunked body. Exceeding it is 431 for a request head. Default 64 KiB.
    pub max_header_bytes: usize,
    /// Most header fields in a head (and trailer fields in a trailer section). Exceeding it is
    /// 431 for a request head. Default 100.
    pub max_headers: usize,
    /// Longest chunk-size line of a chunked body, extensions included, without its CRLF.
    /// Exceeding it is 400. Default 4 KiB.
    pub max_chunk_line: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_request_line: 8 * 1024,
            max_header_bytes: 64 * 1024,
            max_headers: 100,
            max_chunk_line: 4 * 1024,
        }
    }
}
