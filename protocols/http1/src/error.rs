//! The codec's one error type: what was wrong ([`ErrorKind`]), who sent it ([`Peer`]), and the
//! status code and short reason the proxy answers with.
//!
//! Every error means the message cannot be trusted: the caller answers (when it still can) and
//! closes the connection. Nothing here decides about retries; that is the proxy's layer.

use std::fmt;

/// Who sent the bytes that failed to parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Peer {
    /// The client side: request heads and request bodies.
    Downstream,
    /// The server side: response heads and response bodies. Errors from here answer 502.
    Upstream,
}

/// What was wrong with a message. Each variant names the status a server answers with when a
/// client sent it; an upstream's error always answers 502 (see [`Error::status`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// 414: the request line (or status line) is longer than `Limits::max_request_line`.
    LineTooLong,
    /// 431: the header section is larger than `Limits::max_header_bytes`.
    HeadersTooLarge,
    /// 431: more header fields than `Limits::max_headers`.
    TooManyHeaders,
    /// 400: a line ends in a bare LF, or a CR is not followed by LF (RFC 9112 section 2.2).
    InvalidLineEnding,
    /// 400: the method is not a token.
    InvalidMethod,
    /// 400: the request-target has invalid characters, a fragment, or a form the method does not
    /// allow (`*` only with OPTIONS, authority-form only and always with CONNECT).
    InvalidTarget,
    /// 400: the HTTP-version is not of the form `HTTP/DIGIT.DIGIT`, or the start line is
    /// otherwise malformed around it.
    InvalidVersion,
    /// 505: a well-formed HTTP-version other than 1.0 and 1.1 (for example `HTTP/2.0`).
    UnsupportedVersion,
    /// 400: a field name with a character that is not a token character, including whitespace
    /// between the name and the colon (RFC 9112 section 5.1).
    InvalidHeaderName,
    /// 400: a field value with NUL, CR, LF or another control character.
    InvalidHeaderValue,
    /// 400: a field line folded onto the next with leading whitespace (obs-fold, RFC 9112
    /// section 5.2).
    ObsFold,
    /// 400: an HTTP/1.1 request without `Host`, or any request with more than one (RFC 9112
    /// section 3.2).
    InvalidHost,
    /// 502: the status code of a response is not three digits in 100..=999.
    InvalidStatus,
    /// 400: both `Content-Length` and `Transfer-Encoding` (RFC 9112 section 6.3, the smuggling
    /// case).
    ContentLengthWithTransferEncoding,
    /// 400: a `Content-Length` that is not digits, overflows, or disagrees with another
    /// `Content-Length` value.
    InvalidContentLength,
    /// 400: a `Transfer-Encoding` whose final coding is not `chunked`, that applies `chunked`
    /// twice, that is empty, or that gives `chunked` parameters.
    InvalidTransferEncoding,
    /// 400: `Transfer-Encoding` in an HTTP/1.0 message (RFC 9112 section 6.1).
    TransferEncodingInHttp10,
    /// 501: a transfer coding other than `chunked` (RFC 9112 section 6.1).
    UnsupportedTransferCoding,
    /// 417: an `Expect` value other than `100-continue`.
    UnsupportedExpectation,
    /// 400: a chunk size that is not hex, has more than 16 digits, or is missing.
    InvalidChunkSize,
    /// 400: a malformed chunk extension.
    InvalidChunkExtension,
    /// 400: a chunk-size line longer than `Limits::max_chunk_line`.
    ChunkLineTooLong,
    /// 400: chunk data not followed by CRLF.
    MissingChunkCrlf,
    /// 400: a trailer section larger than the header limits.
    TrailersTooLarge,
    /// 400: the connection closed before the body was complete.
    UnexpectedEof,
}

impl ErrorKind {
    /// The status a server answers a client with for this error.
    pub fn status(self) -> u16 {
        use ErrorKind::*;
        match self {
            LineTooLong => 414,
            HeadersTooLarge | TooManyHeaders => 431,
            UnsupportedVersion => 505,
            UnsupportedTransferCoding => 501,
            UnsupportedExpectation => 417,
            InvalidStatus => 502,
            InvalidLineEnding
            | InvalidMethod
            | InvalidTarget
            | InvalidVersion
            | InvalidHeaderName
            | InvalidHeaderValue
            | ObsFold
            | InvalidHost
            | ContentLengthWithTransferEncoding
            | InvalidContentLength
            | InvalidTransferEncoding
            | TransferEncodingInHttp10
            | InvalidChunkSize
            | InvalidChunkExtension
            | ChunkLineTooLong
            | MissingChunkCrlf
            | TrailersTooLarge
            | UnexpectedEof => 400,
        }
    }

    /// A short, static, header-safe reason (used as the `l5d-err` value).
    pub fn reason(self) -> &'static str {
        use ErrorKind::*;
        match self {
            LineTooLong => "start line too long",
            HeadersTooLarge => "header section too large",
            TooManyHeaders => "too many header fields",
            InvalidLineEnding => "bare CR or LF line terminator",
            InvalidMethod => "invalid method",
            InvalidTarget => "invalid request-target",
            InvalidVersion => "invalid HTTP version",
            UnsupportedVersion => "HTTP version not supported",
            InvalidHeaderName => "invalid header field name",
            InvalidHeaderValue => "invalid header field value",
            ObsFold => "obsolete line folding",
            InvalidHost => "missing or duplicate Host",
            InvalidStatus => "invalid status code",
            ContentLengthWithTransferEncoding => "both Content-Length and Transfer-Encoding",
            InvalidContentLength => "invalid Content-Length",
            InvalidTransferEncoding => "invalid Transfer-Encoding",
            TransferEncodingInHttp10 => "Transfer-Encoding in HTTP/1.0",
            UnsupportedTransferCoding => "unsupported transfer coding",
            UnsupportedExpectation => "unsupported expectation",
            InvalidChunkSize => "invalid chunk size",
            InvalidChunkExtension => "invalid chunk extension",
            ChunkLineTooLong => "chunk line too long",
            MissingChunkCrlf => "missing CRLF after chunk data",
            TrailersTooLarge => "trailer section too large",
            UnexpectedEof => "message body truncated",
        }
    }
}

/// A codec error: the kind and the peer that sent the bad bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Error {
    kind: ErrorKind,
    peer: Peer,
}

impl Error {
    /// An error in bytes sent by `peer`.
    pub fn new(kind: ErrorKind, peer: Peer) -> Self {
        Error { kind, peer }
    }

    pub(crate) fn downstream(kind: ErrorKind) -> Self {
        Error::new(kind, Peer::Downstream)
    }

    /// What was wrong.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Who sent it.
    pub fn peer(&self) -> Peer {
        self.peer
    }

    /// The status the proxy answers its client with: the kind's status for a downstream error,
    /// 502 for an upstream one.
    pub fn status(&self) -> u16 {
        match self.peer {
            Peer::Downstream => self.kind.status(),
            Peer::Upstream => 502,
        }
    }

    /// The kind's short static reason, for `l5d-err`.
    pub fn reason(&self) -> &'static str {
        self.kind.reason()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let who = match self.peer {
            Peer::Downstream => "downstream",
            Peer::Upstream => "upstream",
        };
        write!(f, "{who}: {} ({})", self.kind.reason(), self.status())
    }
}

impl std::error::Error for Error {}
