//! The frame decoder: cuts a byte stream into frames, checks the connection preface, the
//! CONTINUATION sequencing and the size limits, and hands frames out zero-copy.

use bytes::{Buf, BytesMut};

use crate::frame::{FRAME_HEADER_LEN, Frame, FrameHeader, FrameType, flags};
use crate::{
    DEFAULT_MAX_FRAME_SIZE, DEFAULT_MAX_HEADER_BLOCK, Error, ErrorKind, MAX_MAX_FRAME_SIZE,
    MIN_MAX_FRAME_SIZE, PREFACE, StreamId,
};

/// Which end of the connection the decoder reads for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// A server reading a client: the client preface (magic, then SETTINGS) comes first, and
    /// PUSH_PROMISE is refused.
    Server,
    /// A client reading a server: the server preface (a SETTINGS frame) comes first.
    Client,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Preface {
    /// This many bytes of the magic have matched so far.
    Magic(usize),
    /// The next frame must be a SETTINGS frame without ACK.
    Settings,
    Done,
}

/// A field block in progress: HEADERS or PUSH_PROMISE without END_HEADERS was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Block {
    stream_id: StreamId,
    /// Payload bytes of the frames carrying the block so far, padding included.
    len: usize,
}

/// Decodes HTTP/2 frames from bytes arriving in any pieces.
///
/// Call [`Decoder::decode`] after each read with the read buffer until it answers `Ok(None)`
/// (read more). Frames come out whole; their payloads are `Bytes` split off the buffer, not
/// copied. Unknown frame types are skipped (section 5.5) without being buffered.
///
/// Limits are checked on the 9-byte frame header, before any payload is buffered: the local
/// SETTINGS_MAX_FRAME_SIZE ([`Decoder::set_max_frame_size`]) and the field-block size across
/// HEADERS/PUSH_PROMISE and CONTINUATION ([`Decoder::set_max_header_block`]).
#[derive(Debug, Clone)]
pub struct Decoder {
    role: Option<Role>,
    preface: Preface,
    max_frame_size: u32,
    max_header_block: usize,
    /// A header whose payload has not fully arrived.
    pending: Option<FrameHeader>,
    /// Payload bytes still to discard (unknown frame, or a frame answered with a stream error).
    skip: usize,
    block: Option<Block>,
    failed: Option<Error>,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    /// A decoder of bare frames: no preface, no role-specific checks (tests, tools, or a
    /// caller that handled the preface itself).
    pub fn new() -> Self {
        Decoder {
            role: None,
            preface: Preface::Done,
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
            max_header_block: DEFAULT_MAX_HEADER_BLOCK,
            pending: None,
            skip: 0,
            block: None,
            failed: None,
        }
    }

    /// A server's decoder: expects the client connection preface, [`PREFACE`] followed by a
    /// SETTINGS frame (section 3.4).
    pub fn server() -> Self {
        Decoder {
            role: Some(Role::Server),
            preface: Preface::Magic(0),
            ..Decoder::new()
        }
    }

    /// A client's decoder: expects the server connection preface, a SETTINGS frame
    /// (section 3.4).
    pub fn client() -> Self {
        Decoder {
            role: Some(Role::Client),
            preface: Preface::Settings,
            ..Decoder::new()
        }
    }

    /// The largest frame payload accepted (the local SETTINGS_MAX_FRAME_SIZE). Default 16384.
    pub fn max_frame_size(&self) -> u32 {
        self.max_frame_size
    }

    /// Sets the largest frame payload accepted. Raise it once the peer has acknowledged the
    /// SETTINGS frame that advertised it; until then the peer may only assume 16384.
    ///
    /// # Panics
    /// If `size` is outside 16384..=16777215, the values SETTINGS_MAX_FRAME_SIZE can take.
    pub fn set_max_frame_size(&mut self, size: u32) {
        assert!(
            (MIN_MAX_FRAME_SIZE..=MAX_MAX_FRAME_SIZE).contains(&size),
            "SETTINGS_MAX_FRAME_SIZE must be within 16384..=16777215"
        );
        self.max_frame_size = size;
    }

    /// The largest field block accepted, in payload bytes of the HEADERS or PUSH_PROMISE and
    /// CONTINUATION frames carrying it (padding and priority fields included). Default 64 KiB.
    pub fn max_header_block(&self) -> usize {
        self.max_header_block
    }

    /// Sets the largest field block accepted (see [`Decoder::max_header_block`]). A larger
    /// block is a connection error ([`ErrorKind::HeaderBlockTooLarge`]), detected on the frame
    /// header that would exceed it.
    pub fn set_max_header_block(&mut self, size: usize) {
        self.max_header_block = size;
    }

    /// Whether a field block is open: only CONTINUATION frames on its stream may come next.
    pub fn in_header_block(&self) -> bool {
        self.block.is_some()
    }

    /// Whether the peer's connection preface has been received (always true for
    /// [`Decoder::new`]).
    pub fn preface_received(&self) -> bool {
        self.preface == Preface::Done
    }

    /// Decodes the next frame from the front of `buf`, consuming its bytes.
    ///
    /// `Ok(None)`: `buf` holds no complete frame yet (everything usable was consumed); read
    /// more and call again. `Ok(Some(frame))`: call again, more frames may be buffered.
    ///
    /// # Errors
    /// [`Error::Stream`]: the offending frame was consumed (or will be skipped); answer
    /// RST_STREAM and call again. [`Error::Connection`]: answer GOAWAY and close; every later
    /// call returns the same error.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, Error> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        let r = self.decode_inner(buf);
        if let Err(e @ Error::Connection(_)) = r {
            self.failed = Some(e);
        }
        r
    }

    fn decode_inner(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, Error> {
        if let Preface::Magic(matched) = self.preface {
            let want = &PREFACE[matched..];
            let n = want.len().min(buf.len());
            if buf[..n] != want[..n] {
                return Err(Error::Connection(ErrorKind::InvalidPreface));
            }
            buf.advance(n);
            if n < want.len() {
                self.preface = Preface::Magic(matched + n);
                return Ok(None);
            }
            self.preface = Preface::Settings;
        }
        loop {
            if self.skip > 0 {
                let n = self.skip.min(buf.len());
                buf.advance(n);
                self.skip -= n;
                if self.skip > 0 {
                    return Ok(None);
                }
            }
            let header = match self.pending.take() {
                Some(h) => h,
                None => {
                    if buf.len() < FRAME_HEADER_LEN {
                        return Ok(None);
                    }
                    let mut raw = [0; FRAME_HEADER_LEN];
                    raw.copy_from_slice(&buf[..FRAME_HEADER_LEN]);
                    buf.advance(FRAME_HEADER_LEN);
                    let h = FrameHeader::load(&raw);
                    if let Err(e) = self.check_header(&h) {
                        self.skip = h.length as usize;
                        return Err(e);
                    }
                    if h.frame_type().is_none() {
                        // Section 5.5: "Implementations MUST ignore unknown or unsupported
                        // values in all extensible protocol elements."
                        self.skip = h.length as usize;
                        continue;
                    }
                    h
                }
            };
            let len = header.length as usize;
            if buf.len() < len {
                self.pending = Some(header);
                return Ok(None);
            }
            let payload = buf.split_to(len).freeze();
            let Some(frame) = Frame::load(&header, payload)? else {
                continue;
            };
            self.track_block(&frame, len);
            return Ok(Some(frame));
        }
    }

    /// The checks a frame header alone decides, in the connection's context.
    fn check_header(&mut self, h: &FrameHeader) -> Result<(), Error> {
        let conn = |k| Err(Error::Connection(k));
        let kind = h.frame_type();
        if self.preface == Preface::Settings {
            // "The server connection preface consists of a potentially empty SETTINGS frame
            // ... that MUST be the first frame" and the client's magic "MUST be followed by a
            // SETTINGS frame" (section 3.4).
            if kind != Some(FrameType::Settings) || h.has(flags::ACK) {
                return conn(ErrorKind::PrefaceNotSettings);
            }
            self.preface = Preface::Done;
        }
        // "An endpoint MUST send an error code of FRAME_SIZE_ERROR if a frame exceeds the size
        // defined in SETTINGS_MAX_FRAME_SIZE" (section 4.2). Treated as a connection error for
        // every type: the payload is never buffered.
        if h.length > self.max_frame_size {
            return conn(ErrorKind::FrameTooLarge);
        }
        match self.block {
            // "A receiver MUST treat the receipt of any other type of frame or a frame on a
            // different stream as a connection error ... PROTOCOL_ERROR." (section 6.10)
            Some(b) if kind != Some(FrameType::Continuation) || h.stream_id != b.stream_id => {
                return conn(ErrorKind::ExpectedContinuation);
            }
            Some(b) if b.len.saturating_add(h.length as usize) > self.max_header_block => {
                return conn(ErrorKind::HeaderBlockTooLarge);
            }
            // "A CONTINUATION frame MUST be preceded by a HEADERS, PUSH_PROMISE or CONTINUATION
            // frame without the END_HEADERS flag set. A recipient that observes violation of
            // this rule MUST respond with a connection error ... PROTOCOL_ERROR." (section 6.10)
            None if kind == Some(FrameType::Continuation) => {
                return conn(ErrorKind::UnexpectedContinuation);
            }
            None if matches!(kind, Some(FrameType::Headers | FrameType::PushPromise))
                && h.length as usize > self.max_header_block =>
            {
                return conn(ErrorKind::HeaderBlockTooLarge);
            }
            _ => {}
        }
        // "A client cannot push. Thus, servers MUST treat the receipt of a PUSH_PROMISE frame
        // as a connection error ... PROTOCOL_ERROR." (section 8.4)
        if kind == Some(FrameType::PushPromise) && self.role == Some(Role::Server) {
            return conn(ErrorKind::InvalidPushPromise);
        }
        Frame::check_header(h)
    }

    fn track_block(&mut self, frame: &Frame, len: usize) {
        match frame {
            Frame::Headers(f) if !f.end_headers => self.open_block(f.stream_id, len),
            Frame::PushPromise(f) if !f.end_headers => self.open_block(f.stream_id, len),
            Frame::Continuation(f) => match (&mut self.block, f.end_headers) {
                (Some(_), true) => self.block = None,
                (Some(b), false) => b.len += len,
                (None, _) => {}
            },
            _ => {}
        }
    }

    fn open_block(&mut self, stream_id: StreamId, len: usize) {
        self.block = Some(Block { stream_id, len });
    }
}
