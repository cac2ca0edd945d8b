//! Sans-IO HPACK (RFC 7541) header compression for hawser's HTTP/2.
//!
//! [`Decoder`] turns a complete header block (the payload of a `HEADERS` frame and its
//! `CONTINUATION`s) into [`Field`]s; [`Encoder`] turns fields into a header block. Each keeps the
//! dynamic table of one direction of one connection, so blocks go through them in connection
//! order. Both are plain state machines: bytes in, bytes or fields out, no I/O.
//!
//! What it implements: prefixed integers (bounded to `u32`), string literals with the Huffman
//! code of Appendix B (table built at compile time from the code lengths; EOS and bad padding
//! rejected), the static table of Appendix A, the dynamic table with eviction and size updates
//! (only at the start of a block, never above the caller's `SETTINGS_HEADER_TABLE_SIZE`, and
//! required after the caller lowers it), a header list size limit checked before allocating, and
//! never-indexed literals carried through: a decoded [`Field`] says it was never indexed, and an
//! [`Encoder`] given that field sends it never indexed again (RFC 7541 section 7.1.3 requires an
//! intermediary to).
//!
//! What it deliberately does not do: frames (`HEADERS`/`CONTINUATION` reassembly is the HTTP/2
//! codec's), field validation (lowercase names, pseudo-header order, connection-specific fields:
//! RFC 9113 section 8.2 is the HTTP/2 codec's), and partial blocks (a block is decoded whole).
//!
//! # Errors
//!
//! Decoding errors are an [`Error`] with an [`ErrorKind`]. All but
//! [`ErrorKind::HeaderListTooLarge`] are connection errors of type [`COMPRESSION_ERROR`]: the
//! decoder's table may have diverged from the peer's, so the decoder refuses every later block
//! and the caller must close the connection. A header list over the limit is processed to the end
//! (so the table stays in step), then refused: the caller refuses that stream only.
//!
//! The decoder never panics on input; the fuzz target `hpack_decode` checks it.
//!
//! # Decisions
//!
//! - **Never-indexed survives a hop.** A literal never indexed decodes to a [`Field`] with
//!   `never_indexed` set, and [`Header::from`] turns that into [`Indexing::Never`], so a proxy
//!   that re-encodes what it decoded cannot downgrade it (RFC 7541 section 7.1.3). The encoder may
//!   upgrade fields on its own ([`is_sensitive`]: `authorization`, `proxy-authorization`, short
//!   cookies) but never the reverse.
//! - **A header list over the limit is a stream error, not a connection error.** The decoder goes
//!   on to the end of the block, still adding to the dynamic table what the peer added (bounded by
//!   the table size), skipping everything else without allocating, then answers
//!   [`ErrorKind::HeaderListTooLarge`]. Every other error poisons the decoder.
//! - **Size updates are enforced both ways.** An update must come before the first field, must
//!   not exceed the caller's limit, and after the caller lowers the limit the next block must
//!   start with an update within it ([`ErrorKind::SizeUpdateMissing`]).
//! - **Huffman when not longer.** Ties go to Huffman, as in RFC 7541's own examples (C.6.2), so
//!   the encoder reproduces Appendix C byte for byte. Sensitive values are sent raw: a Huffman
//!   length says something about the characters of a secret.
//! - **Entries larger than the table are not indexed** by the encoder: adding one would only empty
//!   the table (section 4.4). The decoder accepts them and empties its table, as the RFC says.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod decoder;
mod encoder;
mod error;
mod huffman;
mod integer;
mod table;

#[cfg(test)]
mod tests;

use bytes::Bytes;

pub use decoder::Decoder;
pub use encoder::{Encoder, Header, Indexing, SHORT_COOKIE, is_sensitive};
pub use error::{COMPRESSION_ERROR, Error, ErrorKind};

/// The initial `SETTINGS_HEADER_TABLE_SIZE` of HTTP/2 (RFC 9113 section 6.5.2).
pub const DEFAULT_TABLE_SIZE: usize = 4096;

/// The header list limit a [`Decoder`] starts with: 64 KiB, counted as name + value + 32 per
/// field. HTTP/2 leaves it unlimited by default; a proxy should not.
pub const DEFAULT_MAX_HEADER_LIST_SIZE: usize = 64 * 1024;

/// One decoded header field.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Field {
    /// The name, as sent (HTTP/2 requires lowercase; not checked here).
    pub name: Bytes,
    /// The value, as sent (not checked for forbidden characters here).
    pub value: Bytes,
    /// Sent as a literal never indexed: forward it the same way (use [`Header::from`]).
    pub never_indexed: bool,
}

impl Field {
    /// A field that may be indexed.
    pub fn new(name: impl Into<Bytes>, value: impl Into<Bytes>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
            never_indexed: false,
        }
    }
}
