//! Incremental body decoding: an explicit state machine fed from the caller's read buffer.
//!
//! Data is split off the `BytesMut` and frozen (zero copy); framing bytes (chunk-size lines,
//! CRLFs, trailers) are consumed. The decoder never blocks and never buffers a body: it answers
//! `Data`, `NeedMore`, `Trailers` or `Done`, and [`BodyDecoder::remaining`] says how much more it
//! knows it wants. It does not undo content codings and does not know about sockets or time.

use bytes::{Buf, Bytes, BytesMut};

use crate::Limits;
use crate::error::{Error, ErrorKind, Peer};
use crate::framing::Framing;
use crate::head::HeaderBlock;
use crate::parse::scan_fields;
use crate::syntax::{is_tchar, is_token};

/// One step of decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// Body bytes, split off the front of the buffer. Never empty.
    Data(Bytes),
    /// The buffer holds no further complete piece; read more and call again.
    NeedMore,
    /// The trailer section of a chunked body (at least one field). The next call answers `Done`.
    Trailers(HeaderBlock),
    /// The body is complete; what is left in the buffer belongs to the next message.
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// `Content-Length`: this many bytes left.
    Length(u64),
    /// Close-delimited response or tunnel: everything until EOF.
    UntilEof,
    /// Expecting `chunk-size [ chunk-ext ] CRLF`.
    ChunkSize,
    /// Inside chunk data: this many bytes left.
    ChunkData(u64),
    /// Expecting the CRLF that ends chunk data.
    ChunkDataEnd,
    /// After `0 CRLF`: expecting `*( field-line CRLF ) CRLF`.
    Trailers,
    /// Finished.
    Done,
}

/// Decodes one message body. Build it from the message's [`Framing`] and feed it the read
/// buffer; it is cheap (a few words) and holds no buffer of its own.
#[derive(Debug, Clone)]
pub struct BodyDecoder {
    state: State,
    peer: Peer,
    max_chunk_line: usize,
    max_trailer_bytes: usize,
    max_trailers: usize,
}

impl BodyDecoder {
    /// A decoder for a body with this framing, sent by `peer` (which errors are attributed to).
    /// The chunk-line and trailer limits come from `limits` (`max_chunk_line`,
    /// `max_header_bytes`, `max_headers`).
    pub fn new(framing: Framing, peer: Peer, limits: &Limits) -> Self {
        let state = match framing {
            Framing::Empty | Framing::Length(0) => State::Done,
            Framing::Length(n) => State::Length(n),
            Framing::Chunked => State::ChunkSize,
            Framing::CloseDelimited | Framing::Tunnel => State::UntilEof,
        };
        BodyDecoder {
            state,
            peer,
            max_chunk_line: limits.max_chunk_line,
            max_trailer_bytes: limits.max_header_bytes,
            max_trailers: limits.max_headers,
        }
    }

    /// Decodes the next piece from the front of `buf`, consuming what it returns or skips.
    ///
    /// # Errors
    /// For a chunked body: `InvalidChunkSize`, `InvalidChunkExtension`, `ChunkLineTooLong`,
    /// `MissingChunkCrlf`, `InvalidLineEnding`, `TrailersTooLarge` and the field errors of the
    /// trailer section. After an error the decoder stays where it was; the connection is done.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Decoded, Error> {
        loop {
            match self.state {
                State::Done => return Ok(Decoded::Done),
                State::Length(left) => {
                    let Some(data) = take_data(buf, left) else {
                        return Ok(Decoded::NeedMore);
                    };
                    let left = left - data.len() as u64;
                    self.state = if left == 0 {
                        State::Done
                    } else {
                        State::Length(left)
                    };
                    return Ok(Decoded::Data(data));
                }
                State::UntilEof => {
                    if buf.is_empty() {
                        return Ok(Decoded::NeedMore);
                    }
                    return Ok(Decoded::Data(buf.split().freeze()));
                }
                State::ChunkSize => match self.chunk_size_line(buf)? {
                    None => return Ok(Decoded::NeedMore),
                    Some(0) => self.state = State::Trailers,
                    Some(size) => self.state = State::ChunkData(size),
                },
                State::ChunkData(left) => {
                    let Some(data) = take_data(buf, left) else {
                        return Ok(Decoded::NeedMore);
                    };
                    let left = left - data.len() as u64;
                    self.state = if left == 0 {
                        State::ChunkDataEnd
                    } else {
                        State::ChunkData(left)
                    };
                    return Ok(Decoded::Data(data));
                }
                State::ChunkDataEnd => match buf.get(..2) {
                    Some(b"\r\n") => {
                        buf.advance(2);
                        self.state = State::ChunkSize;
                    }
                    Some(_) => return Err(self.fail(ErrorKind::MissingChunkCrlf)),
                    None if buf.first().is_some_and(|&b| b != b'\r') => {
                        return Err(self.fail(ErrorKind::MissingChunkCrlf));
                    }
                    None => return Ok(Decoded::NeedMore),
                },
                State::Trailers => return self.trailers(buf),
            }
        }
    }

    /// The peer closed its side. `Done` for a close-delimited body or tunnel (and for a body
    /// already complete); call [`Self::decode`] until `NeedMore` first so nothing is left in the
    /// buffer.
    ///
    /// # Errors
    /// `UnexpectedEof` when a length-delimited or chunked body is incomplete.
    pub fn eof(&mut self) -> Result<Decoded, Error> {
        match self.state {
            State::UntilEof | State::Done => {
                self.state = State::Done;
                Ok(Decoded::Done)
            }
            _ => Err(self.fail(ErrorKind::UnexpectedEof)),
        }
    }

    /// Body bytes the decoder knows it still wants before the next framing boundary: the rest of
    /// a `Content-Length` body or of the current chunk; `Some(0)` when done; `None` when unknown
    /// (between chunks, close-delimited).
    pub fn remaining(&self) -> Option<u64> {
        match self.state {
            State::Length(n) | State::ChunkData(n) => Some(n),
            State::Done => Some(0),
            _ => None,
        }
    }

    /// True once the body is complete.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    fn fail(&self, kind: ErrorKind) -> Error {
        Error::new(kind, self.peer)
    }

    /// Consumes one complete chunk-size line and returns its size, or `None` when the line has
    /// not fully arrived.
    fn chunk_size_line(&self, buf: &mut BytesMut) -> Result<Option<u64>, Error> {
        let window = buf.len().min(self.max_chunk_line.saturating_add(2));
        let Some(lf) = buf.iter().take(window).position(|&b| b == b'\n') else {
            if buf.len() > self.max_chunk_line.saturating_add(1) {
                return Err(self.fail(ErrorKind::ChunkLineTooLong));
            }
            return Ok(None);
        };
        let line = buf.get(..lf).unwrap_or_default();
        let Some(line) = line.strip_suffix(b"\r") else {
            return Err(self.fail(ErrorKind::InvalidLineEnding));
        };
        if line.len() > self.max_chunk_line {
            return Err(self.fail(ErrorKind::ChunkLineTooLong));
        }
        let size = parse_chunk_line(line).map_err(|k| self.fail(k))?;
        buf.advance(lf + 1);
        Ok(Some(size))
    }

    fn trailers(&mut self, buf: &mut BytesMut) -> Result<Decoded, Error> {
        match buf.get(..2) {
            Some(b"\r\n") => {
                buf.advance(2);
                self.state = State::Done;
                return Ok(Decoded::Done);
            }
            None if buf.is_empty() || buf.first() == Some(&b'\r') => {
                return Ok(Decoded::NeedMore);
            }
            _ => {}
        }
        let Some((len, fields)) =
            scan_fields(buf, self.max_trailer_bytes, self.max_trailers, self.peer)?
        else {
            return Ok(Decoded::NeedMore);
        };
        let raw = buf.split_to(len).freeze();
        self.state = State::Done;
        Ok(Decoded::Trailers(fields.into_block(raw)))
    }
}

/// Up to `left` bytes split off the front of `buf`; `None` when `buf` is empty.
fn take_data(buf: &mut BytesMut, left: u64) -> Option<Bytes> {
    if buf.is_empty() {
        return None;
    }
    let n = usize::try_from(left).map_or(buf.len(), |left| left.min(buf.len()));
    Some(buf.split_to(n).freeze())
}

fn hex_value(b: u8) -> Option<u64> {
    char::from(b).to_digit(16).map(u64::from)
}

/// `chunk-size [ chunk-ext ]` without the CRLF (RFC 9112 section 7.1). At most 16 hex digits, so
/// the size always fits a u64.
fn parse_chunk_line(line: &[u8]) -> Result<u64, ErrorKind> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 || digits > 16 {
        return Err(ErrorKind::InvalidChunkSize);
    }
    let size = line
        .iter()
        .take(digits)
        .try_fold(0u64, |acc, &b| Some((acc << 4) | hex_value(b)?))
        .ok_or(ErrorKind::InvalidChunkSize)?;
    let ext = line.get(digits..).unwrap_or_default();
    match ext.first() {
        None => Ok(size),
        Some(b';' | b' ' | b'\t') => {
            check_chunk_ext(ext)?;
            Ok(size)
        }
        Some(_) => Err(ErrorKind::InvalidChunkSize),
    }
}

/// `chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )`, with
/// `chunk-ext-val = token / quoted-string`. Whitespace is only allowed where BWS is.
fn check_chunk_ext(ext: &[u8]) -> Result<(), ErrorKind> {
    let bad = Err(ErrorKind::InvalidChunkExtension);
    let mut p = Cursor { s: ext, i: 0 };
    while !p.done() {
        p.skip_ws();
        if !p.eat(b';') {
            return bad;
        }
        p.skip_ws();
        if !is_token(p.take_while(is_tchar)) {
            return bad;
        }
        let before = p.i;
        p.skip_ws();
        if p.eat(b'=') {
            p.skip_ws();
            if p.peek() == Some(b'"') {
                if !p.quoted_string() {
                    return bad;
                }
            } else if !is_token(p.take_while(is_tchar)) {
                return bad;
            }
        } else {
            // Whitespace after a name is only BWS before "=" or the next ";".
            p.i = before;
        }
        if p.peek()
            .is_some_and(|b| b != b';' && b != b' ' && b != b'\t')
        {
            return bad;
        }
        if !p.done() && p.rest().iter().all(|&b| b == b' ' || b == b'\t') {
            return bad;
        }
    }
    Ok(())
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn done(&self) -> bool {
        self.i >= self.s.len()
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn rest(&self) -> &'a [u8] {
        self.s.get(self.i..).unwrap_or_default()
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        if hit {
            self.i += 1;
        }
        hit
    }

    fn skip_ws(&mut self) {
        self.take_while(|b| b == b' ' || b == b'\t');
    }

    fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a [u8] {
        let start = self.i;
        while self.peek().is_some_and(&f) {
            self.i += 1;
        }
        self.s.get(start..self.i).unwrap_or_default()
    }

    /// `DQUOTE *( qdtext / quoted-pair ) DQUOTE` (RFC 9110 5.6.4).
    fn quoted_string(&mut self) -> bool {
        if !self.eat(b'"') {
            return false;
        }
        while let Some(b) = self.peek() {
            self.i += 1;
            match b {
                b'"' => return true,
                b'\\' => match self.peek() {
                    Some(q) if q == b'\t' || q >= b' ' && q != 0x7f => self.i += 1,
                    _ => return false,
                },
                b'\t' | b' ' | 0x21 | 0x23..=0x5b | 0x5d..=0x7e | 0x80..=0xff => {}
                _ => return false,
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_lines() {
        assert_eq!(parse_chunk_line(b"1a"), Ok(26));
        assert_eq!(parse_chunk_line(b"FFFFFFFFFFFFFFFF"), Ok(u64::MAX));
        assert_eq!(parse_chunk_line(b"0000000000000000"), Ok(0));
        assert_eq!(
            parse_chunk_line(b"10000000000000000"),
            Err(ErrorKind::InvalidChunkSize)
        );
        assert_eq!(parse_chunk_line(b""), Err(ErrorKind::InvalidChunkSize));
        assert_eq!(parse_chunk_line(b"-1"), Err(ErrorKind::InvalidChunkSize));
        assert_eq!(parse_chunk_line(b"+1"), Err(ErrorKind::InvalidChunkSize));
        assert_eq!(parse_chunk_line(b"0x1"), Err(ErrorKind::InvalidChunkSize));
        assert_eq!(parse_chunk_line(b"1g"), Err(ErrorKind::InvalidChunkSize));
    }

    #[test]
    fn chunk_extensions() {
        let ok: &[&[u8]] = &[
            b"5;a",
            b"5;a=b",
            b"5 ; a = b",
            b"5;a=\"q \\\" x\";b;c=d",
            b"5\t;\tname",
        ];
        for line in ok {
            assert_eq!(
                parse_chunk_line(line),
                Ok(5),
                "{:?}",
                String::from_utf8_lossy(line)
            );
        }
        let bad: &[&[u8]] = &[
            b"5 ",
            b"5;",
            b"5;a ",
            b"5;a=",
            b"5;a=\"open",
            b"5;a=b c",
            b"5;=b",
            b"5;a\x00",
            b"5;a=\"\x01\"",
            b"5 5",
        ];
        for line in bad {
            assert_eq!(
                parse_chunk_line(line),
                Err(ErrorKind::InvalidChunkExtension),
                "{:?}",
                String::from_utf8_lossy(line)
            );
        }
    }
}
