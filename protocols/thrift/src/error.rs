//! The codec's one error type. Every error means the bytes cannot be trusted: the caller drops
//! the connection (a framed stream cannot be resynchronised after a bad length).

use std::fmt;

/// What was wrong with the input. Lengths are as read from the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// A frame length above [`crate::Limits::max_frame`].
    FrameTooLarge {
        /// The length on the wire.
        len: u32,
        /// The configured maximum.
        max: usize,
    },
    /// A frame length with the sign bit set (the spec's length is a signed i32).
    NegativeFrameLength(i32),
    /// A frame length of zero: no message fits in it.
    EmptyFrame,
    /// A frame ended inside a message header or struct.
    Truncated,
    /// A strict header whose version is not 1 (`0x8001`), or whose 5 type bits above the
    /// message type are not zero.
    BadVersion(u32),
    /// A message type other than CALL (1), REPLY (2), EXCEPTION (3) or ONEWAY (4).
    BadMessageType(u8),
    /// A method name longer than [`crate::Limits::max_name`].
    NameTooLong {
        /// The length on the wire.
        len: u32,
        /// The configured maximum.
        max: usize,
    },
    /// A binary/string length or a container size below zero.
    NegativeLength(i32),
    /// A field or element type that is not one of the binary protocol's types.
    BadType(u8),
    /// Structs and containers nested deeper than [`crate::Limits::max_depth`].
    TooDeep,
    /// Bytes left in a frame after its message's struct ended.
    TrailingBytes(usize),
    /// A message being encoded does not fit a frame (over `i32::MAX` or the name over the limit).
    TooLargeToEncode,
}

impl Error {
    /// A short stable name (for error counts and logs).
    pub fn reason(&self) -> &'static str {
        match self {
            Error::FrameTooLarge { .. } => "frame too large",
            Error::NegativeFrameLength(_) => "negative frame length",
            Error::EmptyFrame => "empty frame",
            Error::Truncated => "truncated message",
            Error::BadVersion(_) => "bad protocol version",
            Error::BadMessageType(_) => "bad message type",
            Error::NameTooLong { .. } => "method name too long",
            Error::NegativeLength(_) => "negative length",
            Error::BadType(_) => "bad field type",
            Error::TooDeep => "nesting too deep",
            Error::TrailingBytes(_) => "trailing bytes in frame",
            Error::TooLargeToEncode => "too large to encode",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::FrameTooLarge { len, max } => write!(f, "frame of {len} bytes over {max}"),
            Error::NegativeFrameLength(n) => write!(f, "negative frame length {n}"),
            Error::BadVersion(v) => write!(f, "bad protocol version word {v:#010x}"),
            Error::BadMessageType(t) => write!(f, "bad message type {t}"),
            Error::NameTooLong { len, max } => write!(f, "method name of {len} bytes over {max}"),
            Error::NegativeLength(n) => write!(f, "negative length {n}"),
            Error::BadType(t) => write!(f, "bad field type {t}"),
            Error::TrailingBytes(n) => write!(f, "{n} bytes after the message in its frame"),
            _ => f.write_str(self.reason()),
        }
    }
}

impl std::error::Error for Error {}
