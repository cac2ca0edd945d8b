//! Sans-IO Thrift codec for hawser: the framed transport and the binary protocol.
//!
//! It cuts a byte stream into frames ([`decode_frame`], [`take_frame`]), reads and writes the
//! binary protocol's message header in its strict and old forms ([`MessageHeader`]), skips a
//! struct body of any shape without a schema ([`skip_struct`]) and finds one binary field in it
//! ([`find_binary_field`]); [`Message::load`] does all three for one frame. It never touches a
//! socket, a runtime or a clock, borrows from the caller's buffer, enforces its [`Limits`]
//! before using any length from the wire, and never panics on any input.
//!
//! It also writes and reads the `TApplicationException` a proxy answers a failed call with
//! ([`encode_application_exception`], [`ApplicationException`]).
//!
//! What it deliberately does not do (yet): the buffered (unframed) transport, the compact
//! protocol, building typed values or IDL-generated structs, and any policy (routing, retries,
//! timeouts).
//!
//! The format follows Apache Thrift's `doc/specs/thrift-binary-protocol.md` and
//! `thrift-rpc.md`.

#![forbid(unsafe_code)]

mod error;
mod exception;
mod frame;
mod message;
mod reader;
mod value;

use bytes::BytesMut;
pub use error::Error;
pub use exception::{ApplicationErrorKind, ApplicationException, encode_application_exception};
pub use frame::{Decoded, FRAME_HEADER_LEN, begin_frame, decode_frame, finish_frame, take_frame};
pub use message::{MessageHeader, MessageType, VERSION_1};
pub use value::{STOP, TType, encode_binary_struct, find_binary_field, skip_struct};

/// Limits, checked before any length from the wire is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest frame payload accepted (Apache Thrift's default maximum is 16,384,000 bytes).
    pub max_frame: usize,
    /// Longest method name.
    pub max_name: usize,
    /// Most nested structs and containers, the message's own struct included (Apache Thrift's
    /// default recursion limit is 64).
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_frame: 16_384_000,
            max_name: 1024,
            max_depth: 64,
        }
    }
}

/// One message: a frame's payload read as a header and a struct body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    /// The header.
    pub header: MessageHeader<'a>,
    /// The struct body, stop byte included (validated by skipping).
    pub body: &'a [u8],
}

impl<'a> Message<'a> {
    /// Reads a whole frame payload (from [`decode_frame`] or [`take_frame`]) as one message.
    ///
    /// # Errors
    /// Those of [`MessageHeader::load`] and [`skip_struct`], and [`Error::TrailingBytes`] when
    /// the struct ends before the frame does.
    pub fn load(payload: &'a [u8], limits: &Limits) -> Result<Message<'a>, Error> {
        let (header, at) = MessageHeader::load(payload, limits)?;
        let rest = &payload[at..];
        let len = skip_struct(rest, limits)?;
        if len != rest.len() {
            return Err(Error::TrailingBytes(rest.len() - len));
        }
        Ok(Message {
            header,
            body: &rest[..len],
        })
    }
}

/// Appends one framed message: `header`, then a struct with one binary field `field` holding
/// `value`. A call's argument struct uses field ids from 1; a reply's success is field 0.
///
/// # Errors
/// [`Error::TooLargeToEncode`] when it does not fit a frame.
pub fn encode_framed_binary(
    header: &MessageHeader<'_>,
    field: i16,
    value: &[u8],
    out: &mut BytesMut,
) -> Result<(), Error> {
    let at = begin_frame(out);
    header.encode(out)?;
    encode_binary_struct(field, value, out)?;
    finish_frame(out, at)
}

#[cfg(test)]
mod tests;
