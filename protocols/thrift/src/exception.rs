//! `TApplicationException`: the struct an `EXCEPTION` message carries when a call fails outside
//! the service's declared exceptions (Thrift RPC spec, "Response struct" and "TApplicationException").
//!
//! ```text
//! struct TApplicationException { 1: string message, 2: i32 type }
//! ```
//!
//! A proxy answers with one when it cannot deliver a call (no endpoints, the upstream failed),
//! under the call's own name and seqid so the client pairs it with the call. This module writes
//! one ([`encode_application_exception`]) and reads one back ([`ApplicationException::load`]).
//! It does not interpret a service's declared exceptions (those travel in `REPLY` messages).

use bytes::{BufMut, BytesMut};

use crate::reader::Reader;
use crate::value::{STOP, TType, skip, skip_struct};
use crate::{Error, Limits, MessageHeader, MessageType, begin_frame, finish_frame};

/// The `type` field: why the call failed. The numbering is Apache Thrift's (all its
/// libraries agree on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApplicationErrorKind {
    /// 0: anything else.
    Unknown,
    /// 1: the server has no such method.
    UnknownMethod,
    /// 2: the message type was not a call (or oneway) where one was expected.
    InvalidMessageType,
    /// 3: a reply named another method than the call.
    WrongMethodName,
    /// 4: a reply's seqid did not match the call's.
    BadSequenceId,
    /// 5: a reply had no result.
    MissingResult,
    /// 6: the server (here: the proxy) failed while handling the call.
    InternalError,
    /// 7: the message could not be read.
    ProtocolError,
    /// Any other value, kept as it came.
    Other(i32),
}

impl ApplicationErrorKind {
    /// The wire value.
    pub fn as_i32(self) -> i32 {
        match self {
            ApplicationErrorKind::Unknown => 0,
            ApplicationErrorKind::UnknownMethod => 1,
            ApplicationErrorKind::InvalidMessageType => 2,
            ApplicationErrorKind::WrongMethodName => 3,
            ApplicationErrorKind::BadSequenceId => 4,
            ApplicationErrorKind::MissingResult => 5,
            ApplicationErrorKind::InternalError => 6,
            ApplicationErrorKind::ProtocolError => 7,
            ApplicationErrorKind::Other(v) => v,
        }
    }

    /// From the wire value.
    pub fn from_i32(v: i32) -> ApplicationErrorKind {
        match v {
            0 => ApplicationErrorKind::Unknown,
            1 => ApplicationErrorKind::UnknownMethod,
            2 => ApplicationErrorKind::InvalidMessageType,
            3 => ApplicationErrorKind::WrongMethodName,
            4 => ApplicationErrorKind::BadSequenceId,
            5 => ApplicationErrorKind::MissingResult,
            6 => ApplicationErrorKind::InternalError,
            7 => ApplicationErrorKind::ProtocolError,
            v => ApplicationErrorKind::Other(v),
        }
    }
}

/// A decoded `TApplicationException`, borrowing its message from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApplicationException<'a> {
    /// Field 1 (empty when absent).
    pub message: &'a [u8],
    /// Field 2 ([`ApplicationErrorKind::Unknown`] when absent).
    pub kind: ApplicationErrorKind,
}

impl<'a> ApplicationException<'a> {
    /// Reads the struct at the start of `body` (an `EXCEPTION` message's body). Fields of other
    /// ids or unexpected types are skipped, as Apache Thrift's readers do.
    ///
    /// # Errors
    /// As [`skip_struct`].
    pub fn load(body: &'a [u8], limits: &Limits) -> Result<ApplicationException<'a>, Error> {
        let len = skip_struct(body, limits)?;
        let mut r = Reader::new(&body[..len]);
        let mut out = ApplicationException {
            message: b"",
            kind: ApplicationErrorKind::Unknown,
        };
        loop {
            let ty = r.u8()?;
            if ty == STOP {
                return Ok(out);
            }
            let ty = TType::from_u8(ty)?;
            let id = r.i16()?;
            match (id, ty) {
                (1, TType::Binary) => {
                    let n = r.len()?;
                    out.message = r.bytes(n)?;
                }
                (2, TType::I32) => out.kind = ApplicationErrorKind::from_i32(r.i32()?),
                // The struct was validated above, so this cannot fail.
                _ => skip(&mut r, ty, limits.max_depth.saturating_sub(1))?,
            }
        }
    }
}

/// Appends a framed `EXCEPTION` message answering the call `name`/`seqid` (in the call's header
/// form, strict or old) with a `TApplicationException` of `kind` and `message`.
///
/// # Errors
/// [`Error::TooLargeToEncode`] when the name or message is over `i32::MAX` bytes.
pub fn encode_application_exception(
    name: &[u8],
    seqid: i32,
    strict: bool,
    kind: ApplicationErrorKind,
    message: &[u8],
    out: &mut BytesMut,
) -> Result<(), Error> {
    let len = i32::try_from(message.len()).map_err(|_| Error::TooLargeToEncode)?;
    let at = begin_frame(out);
    MessageHeader {
        name,
        kind: MessageType::Exception,
        seqid,
        strict,
    }
    .encode(out)?;
    out.reserve(message.len() + 16);
    out.put_u8(TType::Binary.as_u8());
    out.put_i16(1);
    out.put_i32(len);
    out.put_slice(message);
    out.put_u8(TType::I32.as_u8());
    out.put_i16(2);
    out.put_i32(kind.as_i32());
    out.put_u8(STOP);
    finish_frame(out, at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Decoded, Message, decode_frame};

    fn round_trip(strict: bool) {
        let mut out = BytesMut::new();
        encode_application_exception(
            b"getUser",
            -7,
            strict,
            ApplicationErrorKind::BadSequenceId,
            b"reply seqid 3 for call -7",
            &mut out,
        )
        .unwrap();
        let l = Limits::default();
        let Ok(Decoded::Done(payload)) = decode_frame(&out, &l) else {
            panic!("one frame");
        };
        assert_eq!(payload.len() + 4, out.len());
        let m = Message::load(payload, &l).unwrap();
        assert_eq!(
            (
                m.header.name,
                m.header.kind,
                m.header.seqid,
                m.header.strict
            ),
            (&b"getUser"[..], MessageType::Exception, -7, strict)
        );
        let e = ApplicationException::load(m.body, &l).unwrap();
        assert_eq!(e.kind, ApplicationErrorKind::BadSequenceId);
        assert_eq!(e.message, b"reply seqid 3 for call -7");
    }

    #[test]
    fn encodes_and_loads_in_both_header_forms() {
        round_trip(true);
        round_trip(false);
    }

    #[test]
    fn unknown_fields_are_skipped_and_absent_ones_default() {
        // { 3: list<i32> [1], 2: i32 99, 1: i32 5 (wrong type for the message) }
        let body = [
            15, 0, 3, 8, 0, 0, 0, 1, 0, 0, 0, 1, //
            8, 0, 2, 0, 0, 0, 99, //
            8, 0, 1, 0, 0, 0, 5, //
            0,
        ];
        let e = ApplicationException::load(&body, &Limits::default()).unwrap();
        assert_eq!(e.kind, ApplicationErrorKind::Other(99));
        assert_eq!(e.message, b"");
        assert_eq!(
            ApplicationException::load(&[0], &Limits::default()),
            Ok(ApplicationException {
                message: b"",
                kind: ApplicationErrorKind::Unknown
            })
        );
        assert_eq!(
            ApplicationException::load(&[11, 0, 1, 0, 0, 0, 9, b'x'], &Limits::default()),
            Err(Error::Truncated)
        );
    }

    #[test]
    fn kinds_keep_their_wire_values() {
        for v in -1..10 {
            assert_eq!(ApplicationErrorKind::from_i32(v).as_i32(), v);
        }
    }
}
