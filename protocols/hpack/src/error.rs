//! The decoder's one error type.

use std::fmt;

/// The HTTP/2 error code for a header block that does not decode (RFC 9113 section 7).
pub const COMPRESSION_ERROR: u32 = 0x9;

/// What was wrong with a header block. Every kind but [`ErrorKind::HeaderListTooLarge`] is a
/// connection error of type `COMPRESSION_ERROR`: the decoder's table may no longer match the
/// peer's, so the decoder refuses further blocks and the connection must be closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The block ended inside an integer (RFC 7541 section 5.1).
    TruncatedInteger,
    /// An integer larger than `u32::MAX`, or with more continuation bytes than any `u32` needs.
    IntegerOverflow,
    /// A string literal's length runs past the end of the block (section 5.2).
    TruncatedString,
    /// Index 0 in an indexed field (section 6.1: "MUST be treated as a decoding error").
    ZeroIndex,
    /// An index past the end of the static and dynamic tables (section 2.3.3).
    IndexOutOfRange,
    /// A Huffman string that contains the EOS symbol (section 5.2).
    HuffmanEos,
    /// A Huffman string padded with more than 7 bits, or with bits that are not all ones.
    HuffmanPadding,
    /// A dynamic table size update above the limit the caller set (our
    /// `SETTINGS_HEADER_TABLE_SIZE`; section 6.3).
    SizeUpdateTooLarge,
    /// A dynamic table size update after the first field of the block (section 4.2).
    SizeUpdateNotAtStart,
    /// The caller lowered the table size limit below the table's size and the next block did not
    /// start with a size update within the new limit (section 4.2).
    SizeUpdateMissing,
    /// The decoded header list is larger than the caller's limit (`SETTINGS_MAX_HEADER_LIST_SIZE`,
    /// counted as in RFC 9113 section 6.5.2: name + value + 32 per field). Not a compression
    /// error: the whole block was still processed, the table is in step with the peer's, and the
    /// decoder stays usable. The caller refuses the stream (431, or `RST_STREAM`) and goes on.
    HeaderListTooLarge,
    /// A block after an earlier compression error: the decoder is unusable.
    Poisoned,
}

impl ErrorKind {
    /// Whether this is a connection error of type `COMPRESSION_ERROR` (everything but
    /// [`ErrorKind::HeaderListTooLarge`]).
    pub fn is_compression_error(self) -> bool {
        self != ErrorKind::HeaderListTooLarge
    }

    fn describe(self) -> &'static str {
        match self {
            ErrorKind::TruncatedInteger => "header block ends inside an integer",
            ErrorKind::IntegerOverflow => "integer overflows u32",
            ErrorKind::TruncatedString => "string literal runs past the header block",
            ErrorKind::ZeroIndex => "index 0",
            ErrorKind::IndexOutOfRange => "index past the static and dynamic tables",
            ErrorKind::HuffmanEos => "EOS in a Huffman string",
            ErrorKind::HuffmanPadding => "Huffman padding longer than 7 bits or not all ones",
            ErrorKind::SizeUpdateTooLarge => "dynamic table size update above the limit",
            ErrorKind::SizeUpdateNotAtStart => "dynamic table size update after a field",
            ErrorKind::SizeUpdateMissing => "required dynamic table size update missing",
            ErrorKind::HeaderListTooLarge => "header list larger than the limit",
            ErrorKind::Poisoned => "decoder unusable after an earlier error",
        }
    }
}

/// A header block that did not decode: what was wrong and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Error {
    kind: ErrorKind,
    offset: usize,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, offset: usize) -> Self {
        Self { kind, offset }
    }

    /// What was wrong.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The offset in the block of the representation that failed (for
    /// [`ErrorKind::HeaderListTooLarge`], of the first field over the limit).
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Whether the connection must be closed with `COMPRESSION_ERROR` (see [`ErrorKind`]).
    pub fn is_compression_error(&self) -> bool {
        self.kind.is_compression_error()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "hpack: {} at offset {}",
            self.kind.describe(),
            self.offset
        )
    }
}

impl std::error::Error for Error {}
