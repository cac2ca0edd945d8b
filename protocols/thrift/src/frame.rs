//! The framed transport: every message is preceded by its length as a 4-byte big-endian signed
//! integer (Apache Thrift `TFramedTransport`). The length is checked against the limit before
//! anything is buffered or allocated for the frame, so a peer cannot make us wait for (or
//! reserve) gigabytes by sending a large length.

use bytes::{BufMut, Bytes, BytesMut};

use crate::{Error, Limits};

/// Bytes of the length prefix.
pub const FRAME_HEADER_LEN: usize = 4;

/// The outcome of a decode step that did not fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded<T> {
    /// A complete item.
    Done(T),
    /// The input ends early: at least this many more bytes are needed.
    NeedMore(usize),
}

/// Reads the frame at the start of `buf` without consuming it: the payload (borrowed) once it
/// is complete, else how many more bytes are needed. The whole frame is `4 + payload.len()`
/// bytes.
///
/// # Errors
/// [`Error::NegativeFrameLength`], [`Error::EmptyFrame`] and [`Error::FrameTooLarge`], as soon
/// as the 4 length bytes are in (before the payload is).
pub fn decode_frame<'a>(buf: &'a [u8], limits: &Limits) -> Result<Decoded<&'a [u8]>, Error> {
    let Some(prefix) = buf.first_chunk::<FRAME_HEADER_LEN>() else {
        return Ok(Decoded::NeedMore(FRAME_HEADER_LEN - buf.len()));
    };
    let len = frame_len(*prefix, limits)?;
    let rest = &buf[FRAME_HEADER_LEN..];
    match rest.get(..len) {
        Some(payload) => Ok(Decoded::Done(payload)),
        None => Ok(Decoded::NeedMore(len - rest.len())),
    }
}

/// Like [`decode_frame`], but splits a complete frame off the front of `buf` (zero-copy) and
/// returns its payload; the length prefix is dropped. Incomplete input is left in place.
///
/// # Errors
/// As [`decode_frame`].
pub fn take_frame(buf: &mut BytesMut, limits: &Limits) -> Result<Decoded<Bytes>, Error> {
    match decode_frame(buf, limits)? {
        Decoded::NeedMore(n) => Ok(Decoded::NeedMore(n)),
        Decoded::Done(payload) => {
            let len = payload.len();
            let mut frame = buf.split_to(FRAME_HEADER_LEN + len);
            let _ = frame.split_to(FRAME_HEADER_LEN);
            Ok(Decoded::Done(frame.freeze()))
        }
    }
}

fn frame_len(prefix: [u8; 4], limits: &Limits) -> Result<usize, Error> {
    let len = i32::from_be_bytes(prefix);
    if len < 0 {
        return Err(Error::NegativeFrameLength(len));
    }
    if len == 0 {
        return Err(Error::EmptyFrame);
    }
    let len = len.unsigned_abs();
    if len as usize > limits.max_frame {
        return Err(Error::FrameTooLarge {
            len,
            max: limits.max_frame,
        });
    }
    Ok(len as usize)
}

/// Starts a frame in `out`: reserves the length prefix and returns where it is, for
/// [`finish_frame`] once the payload is written after it.
pub fn begin_frame(out: &mut BytesMut) -> usize {
    let at = out.len();
    out.put_u32(0);
    at
}

/// Fills in the length prefix written by [`begin_frame`] at `at`.
///
/// # Errors
/// [`Error::TooLargeToEncode`] when the payload is over `i32::MAX` bytes; [`Error::EmptyFrame`]
/// when nothing was written.
///
/// # Panics
/// When `at` is not a position returned by [`begin_frame`] on this buffer.
pub fn finish_frame(out: &mut BytesMut, at: usize) -> Result<(), Error> {
    let len = out.len() - at - FRAME_HEADER_LEN;
    let len = i32::try_from(len).map_err(|_| Error::TooLargeToEncode)?;
    if len == 0 {
        return Err(Error::EmptyFrame);
    }
    out[at..at + FRAME_HEADER_LEN].copy_from_slice(&len.to_be_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_frame: usize) -> Limits {
        Limits {
            max_frame,
            ..Limits::default()
        }
    }

    #[test]
    fn a_complete_frame_and_what_follows() {
        let wire = [0, 0, 0, 3, b'a', b'b', b'c', 0, 0];
        assert_eq!(
            decode_frame(&wire, &Limits::default()),
            Ok(Decoded::Done(&b"abc"[..]))
        );
        let mut buf = BytesMut::from(&wire[..]);
        assert_eq!(
            take_frame(&mut buf, &Limits::default()),
            Ok(Decoded::Done(Bytes::from_static(b"abc")))
        );
        assert_eq!(&buf[..], &[0, 0]);
        // The rest is the start of a length prefix.
        assert_eq!(
            take_frame(&mut buf, &Limits::default()),
            Ok(Decoded::NeedMore(2))
        );
    }

    #[test]
    fn incomplete_input_says_how_much_more() {
        let l = Limits::default();
        assert_eq!(decode_frame(&[], &l), Ok(Decoded::NeedMore(4)));
        assert_eq!(decode_frame(&[0, 0, 1], &l), Ok(Decoded::NeedMore(1)));
        assert_eq!(decode_frame(&[0, 0, 1, 0], &l), Ok(Decoded::NeedMore(256)));
        assert_eq!(
            decode_frame(&[0, 0, 1, 0, 9], &l),
            Ok(Decoded::NeedMore(255))
        );
    }

    #[test]
    fn bad_lengths_fail_before_the_payload_arrives() {
        assert_eq!(
            decode_frame(&[0, 0, 0, 0], &Limits::default()),
            Err(Error::EmptyFrame)
        );
        assert_eq!(
            decode_frame(&[0xff, 0xff, 0xff, 0xff], &Limits::default()),
            Err(Error::NegativeFrameLength(-1))
        );
        assert_eq!(
            decode_frame(&[0x80, 0, 0, 0], &Limits::default()),
            Err(Error::NegativeFrameLength(i32::MIN))
        );
        assert_eq!(
            decode_frame(&[0, 0, 1, 1], &limits(256)),
            Err(Error::FrameTooLarge { len: 257, max: 256 })
        );
        assert!(matches!(
            decode_frame(&[0, 0, 1, 0], &limits(256)),
            Ok(Decoded::NeedMore(256))
        ));
        let mut buf = BytesMut::from(&[0x7f, 0xff, 0xff, 0xff][..]);
        assert!(take_frame(&mut buf, &Limits::default()).is_err());
        assert_eq!(buf.len(), 4, "an error consumes nothing");
    }

    #[test]
    fn begin_and_finish_write_the_length() {
        let mut out = BytesMut::from(&b"xy"[..]);
        let at = begin_frame(&mut out);
        out.put_slice(b"hello");
        finish_frame(&mut out, at).unwrap();
        assert_eq!(&out[..], b"xy\0\0\0\x05hello");
        let at = begin_frame(&mut out);
        assert_eq!(finish_frame(&mut out, at), Err(Error::EmptyFrame));
    }
}
