//! Wire types: the 9-byte frame header and one type per RFC 9113 section 6 frame, each with
//! `load` (payload bytes in, checked frame out) and `encode` (frame in, bytes appended).
//!
//! `load` enforces every rule of section 6 that the frame alone can decide: stream id 0 or not,
//! fixed payload lengths, padding, and SETTINGS values. Rules that need the connection's history
//! (CONTINUATION sequencing, the preface, SETTINGS_MAX_FRAME_SIZE, field-block limits) live in
//! [`crate::Decoder`]; stream states live in the connection driver.

mod control;
mod data;
mod headers;
mod settings;

use bytes::{BufMut, Bytes, BytesMut};

pub use control::{GoAway, Ping, Priority, PrioritySpec, RstStream, WindowUpdate};
pub use data::Data;
pub use headers::{Continuation, Headers, PushPromise};
pub use settings::{Settings, SettingsId};

use crate::{Error, ErrorKind, StreamId};

/// Length of the frame header that starts every frame (section 4.1).
pub const FRAME_HEADER_LEN: usize = 9;

/// The largest payload length the 24-bit length field can carry.
pub const MAX_FRAME_LEN: u32 = (1 << 24) - 1;

/// Frame flags (section 6). Flags a frame type does not define are ignored on receipt and never
/// sent.
pub mod flags {
    /// DATA, HEADERS: the last frame the sender sends on this stream.
    pub const END_STREAM: u8 = 0x1;
    /// SETTINGS, PING: an acknowledgement.
    pub const ACK: u8 = 0x1;
    /// HEADERS, PUSH_PROMISE, CONTINUATION: the field block ends in this frame.
    pub const END_HEADERS: u8 = 0x4;
    /// DATA, HEADERS, PUSH_PROMISE: a Pad Length field and padding are present.
    pub const PADDED: u8 = 0x8;
    /// HEADERS: the (deprecated) priority fields are present.
    pub const PRIORITY: u8 = 0x20;
}

/// The frame types of RFC 9113 section 6, with their wire values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum FrameType {
    /// 0x0
    Data = 0x0,
    /// 0x1
    Headers = 0x1,
    /// 0x2
    Priority = 0x2,
    /// 0x3
    RstStream = 0x3,
    /// 0x4
    Settings = 0x4,
    /// 0x5
    PushPromise = 0x5,
    /// 0x6
    Ping = 0x6,
    /// 0x7
    GoAway = 0x7,
    /// 0x8
    WindowUpdate = 0x8,
    /// 0x9
    Continuation = 0x9,
}

impl FrameType {
    /// The type for a wire value; `None` for an unknown (extension) type, which a receiver
    /// skips (section 5.5).
    pub fn from_u8(v: u8) -> Option<Self> {
        use FrameType::*;
        Some(match v {
            0x0 => Data,
            0x1 => Headers,
            0x2 => Priority,
            0x3 => RstStream,
            0x4 => Settings,
            0x5 => PushPromise,
            0x6 => Ping,
            0x7 => GoAway,
            0x8 => WindowUpdate,
            0x9 => Continuation,
            _ => return None,
        })
    }
}

/// The 9-byte header of every frame (section 4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameHeader {
    /// Payload length (24 bits).
    pub length: u32,
    /// Frame type, as on the wire (unknown types included).
    pub kind: u8,
    /// Flags, as on the wire.
    pub flags: u8,
    /// Stream identifier (31 bits; the reserved bit is dropped on load).
    pub stream_id: StreamId,
}

impl FrameHeader {
    /// Reads a header. The reserved bit "MUST remain unset (0x0) when sending and MUST be
    /// ignored when receiving" (section 4.1).
    pub fn load(b: &[u8; FRAME_HEADER_LEN]) -> Self {
        FrameHeader {
            length: u32::from_be_bytes([0, b[0], b[1], b[2]]),
            kind: b[3],
            flags: b[4],
            stream_id: u32::from_be_bytes([b[5], b[6], b[7], b[8]]) & STREAM_ID_MASK,
        }
    }

    /// Appends the header, reserved bit unset.
    ///
    /// # Panics
    /// If `length` exceeds 2^24-1 (a payload the format cannot carry).
    pub fn encode(&self, dst: &mut BytesMut) {
        assert!(
            self.length <= MAX_FRAME_LEN,
            "HTTP/2 frame payload over 2^24-1 bytes"
        );
        dst.reserve(FRAME_HEADER_LEN);
        dst.put_slice(&self.length.to_be_bytes()[1..]);
        dst.put_u8(self.kind);
        dst.put_u8(self.flags);
        dst.put_u32(self.stream_id & STREAM_ID_MASK);
    }

    /// The header's frame type, when it is one RFC 9113 defines.
    pub fn frame_type(&self) -> Option<FrameType> {
        FrameType::from_u8(self.kind)
    }

    /// Whether `flag` is set.
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// The 31 bits of a stream identifier (and of the other 31-bit fields with a reserved bit).
pub(crate) const STREAM_ID_MASK: u32 = 0x7fff_ffff;

/// One HTTP/2 frame of a type RFC 9113 defines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// DATA (section 6.1).
    Data(Data),
    /// HEADERS (section 6.2).
    Headers(Headers),
    /// PRIORITY (section 6.3).
    Priority(Priority),
    /// RST_STREAM (section 6.4).
    RstStream(RstStream),
    /// SETTINGS (section 6.5).
    Settings(Settings),
    /// PUSH_PROMISE (section 6.6).
    PushPromise(PushPromise),
    /// PING (section 6.7).
    Ping(Ping),
    /// GOAWAY (section 6.8).
    GoAway(GoAway),
    /// WINDOW_UPDATE (section 6.9).
    WindowUpdate(WindowUpdate),
    /// CONTINUATION (section 6.10).
    Continuation(Continuation),
}

impl Frame {
    /// Checks what the header alone decides for a frame of a known type: the stream id rules
    /// and fixed payload lengths of section 6. Unknown types pass. [`Frame::load`] calls this;
    /// the decoder calls it before buffering the payload.
    ///
    /// # Errors
    /// The connection or stream error section 6 prescribes.
    pub fn check_header(h: &FrameHeader) -> Result<(), Error> {
        use FrameType::*;
        let conn = |k| Err(Error::Connection(k));
        let Some(kind) = h.frame_type() else {
            return Ok(());
        };
        // Frames that belong to a stream: "If a ... frame is received whose Stream Identifier
        // field is 0x00, the recipient MUST respond with a connection error (Section 5.4.1) of
        // type PROTOCOL_ERROR." (6.1, 6.2, 6.3, 6.4, 6.6, 6.10)
        let on_stream = matches!(
            kind,
            Data | Headers | Priority | RstStream | PushPromise | Continuation
        );
        if on_stream && h.stream_id == 0 {
            return conn(ErrorKind::StreamIdZero);
        }
        // Connection frames: "If an endpoint receives a SETTINGS frame whose Stream Identifier
        // field is anything other than 0x00, the endpoint MUST respond with a connection error
        // ... PROTOCOL_ERROR" (6.5; likewise PING 6.7 and GOAWAY 6.8).
        if matches!(kind, Settings | Ping | GoAway) && h.stream_id != 0 {
            return conn(ErrorKind::StreamIdNonZero);
        }
        match kind {
            // "A PRIORITY frame with a length other than 5 octets MUST be treated as a stream
            // error (Section 5.4.2) of type FRAME_SIZE_ERROR."
            Priority if h.length != 5 => {
                Err(Error::Stream(h.stream_id, ErrorKind::InvalidFrameLength))
            }
            // "A RST_STREAM frame with a length other than 4 octets MUST be treated as a
            // connection error (Section 5.4.1) of type FRAME_SIZE_ERROR."
            RstStream if h.length != 4 => conn(ErrorKind::InvalidFrameLength),
            // "Receipt of a SETTINGS frame with the ACK flag set and a length field value other
            // than 0 MUST be treated as a connection error ... FRAME_SIZE_ERROR." and "A SETTINGS
            // frame with a length other than a multiple of 6 octets MUST be treated as a
            // connection error ... FRAME_SIZE_ERROR."
            Settings if h.has(flags::ACK) && h.length != 0 => conn(ErrorKind::InvalidFrameLength),
            Settings if !h.length.is_multiple_of(6) => conn(ErrorKind::InvalidFrameLength),
            // "Receipt of a PING frame with a length field value other than 8 MUST be treated as
            // a connection error ... FRAME_SIZE_ERROR."
            Ping if h.length != 8 => conn(ErrorKind::InvalidFrameLength),
            // GOAWAY carries at least Last-Stream-ID and Error Code: "too small to contain
            // mandatory frame data" (section 4.2) on stream 0 is a connection error.
            GoAway if h.length < 8 => conn(ErrorKind::InvalidFrameLength),
            // "A WINDOW_UPDATE frame with a length other than 4 octets MUST be treated as a
            // connection error ... FRAME_SIZE_ERROR."
            WindowUpdate if h.length != 4 => conn(ErrorKind::InvalidFrameLength),
            _ => Ok(()),
        }
    }

    /// Parses a frame of a known type from its header and complete payload. Returns
    /// `Ok(None)` for an unknown frame type, which the receiver ignores (section 5.5). Payload
    /// fields are slices of `payload`, not copies. This checks one frame alone; a connection's
    /// frames go through a [`crate::Decoder`], which adds the checks that need history.
    ///
    /// # Errors
    /// Every section 6 rule the frame breaks, as a connection or stream error with its code;
    /// a payload whose length is not `header.length` is a FRAME_SIZE_ERROR.
    pub fn load(header: &FrameHeader, payload: Bytes) -> Result<Option<Frame>, Error> {
        if payload.len() != header.length as usize {
            return Err(Error::Connection(ErrorKind::InvalidFrameLength));
        }
        Frame::check_header(header)?;
        let Some(kind) = header.frame_type() else {
            return Ok(None);
        };
        let h = header;
        Ok(Some(match kind {
            FrameType::Data => Frame::Data(Data::load(h, payload)?),
            FrameType::Headers => Frame::Headers(Headers::load(h, payload)?),
            FrameType::Priority => Frame::Priority(Priority::load(h, &payload)?),
            FrameType::RstStream => Frame::RstStream(RstStream::load(h, &payload)),
            FrameType::Settings => Frame::Settings(Settings::load(h, &payload)?),
            FrameType::PushPromise => Frame::PushPromise(PushPromise::load(h, payload)?),
            FrameType::Ping => Frame::Ping(Ping::load(h, &payload)),
            FrameType::GoAway => Frame::GoAway(GoAway::load(h, payload)),
            FrameType::WindowUpdate => Frame::WindowUpdate(WindowUpdate::load(h, &payload)?),
            FrameType::Continuation => Frame::Continuation(Continuation::load(h, payload)),
        }))
    }

    /// Appends the frame (header and payload) to `dst`.
    ///
    /// # Panics
    /// If the payload would exceed 2^24-1 bytes. Keeping frames within the peer's
    /// SETTINGS_MAX_FRAME_SIZE is the caller's business (see [`crate::encode_headers`]).
    pub fn encode(&self, dst: &mut BytesMut) {
        match self {
            Frame::Data(f) => f.encode(dst),
            Frame::Headers(f) => f.encode(dst),
            Frame::Priority(f) => f.encode(dst),
            Frame::RstStream(f) => f.encode(dst),
            Frame::Settings(f) => f.encode(dst),
            Frame::PushPromise(f) => f.encode(dst),
            Frame::Ping(f) => f.encode(dst),
            Frame::GoAway(f) => f.encode(dst),
            Frame::WindowUpdate(f) => f.encode(dst),
            Frame::Continuation(f) => f.encode(dst),
        }
    }

    /// The frame's stream id (0 for connection-level frames).
    pub fn stream_id(&self) -> StreamId {
        match self {
            Frame::Data(f) => f.stream_id,
            Frame::Headers(f) => f.stream_id,
            Frame::Priority(f) => f.stream_id,
            Frame::RstStream(f) => f.stream_id,
            Frame::PushPromise(f) => f.stream_id,
            Frame::WindowUpdate(f) => f.stream_id,
            Frame::Continuation(f) => f.stream_id,
            Frame::Settings(_) | Frame::Ping(_) | Frame::GoAway(_) => 0,
        }
    }

    /// The frame's type.
    pub fn frame_type(&self) -> FrameType {
        match self {
            Frame::Data(_) => FrameType::Data,
            Frame::Headers(_) => FrameType::Headers,
            Frame::Priority(_) => FrameType::Priority,
            Frame::RstStream(_) => FrameType::RstStream,
            Frame::Settings(_) => FrameType::Settings,
            Frame::PushPromise(_) => FrameType::PushPromise,
            Frame::Ping(_) => FrameType::Ping,
            Frame::GoAway(_) => FrameType::GoAway,
            Frame::WindowUpdate(_) => FrameType::WindowUpdate,
            Frame::Continuation(_) => FrameType::Continuation,
        }
    }
}

/// Removes the Pad Length field (the first payload byte) and the trailing padding when PADDED
/// is set, leaving `fixed` bytes of mandatory fields plus the content in `payload`. Returns the
/// padding length (`None` when not padded).
///
/// "If the length of the padding is the length of the frame payload or greater, the recipient
/// MUST treat this as a connection error (Section 5.4.1) of type PROTOCOL_ERROR." (6.1, 6.2,
/// 6.6). The check here also keeps the mandatory fields that follow Pad Length: padding may use
/// at most what is left after them. A padded payload too short for Pad Length and the mandatory
/// fields is a FRAME_SIZE_ERROR (section 4.2).
pub(crate) fn strip_padding(
    h: &FrameHeader,
    payload: &mut Bytes,
    fixed: usize,
) -> Result<Option<u8>, Error> {
    if !h.has(flags::PADDED) {
        if payload.len() < fixed {
            return Err(Error::Connection(ErrorKind::InvalidFrameLength));
        }
        return Ok(None);
    }
    let Some(&pad) = payload.first() else {
        return Err(Error::Connection(ErrorKind::InvalidFrameLength));
    };
    let rest = payload.len() - 1;
    if rest < fixed {
        return Err(Error::Connection(ErrorKind::InvalidFrameLength));
    }
    if usize::from(pad) > rest - fixed {
        return Err(Error::Connection(ErrorKind::PaddingTooLong));
    }
    let _ = payload.split_to(1);
    payload.truncate(rest - usize::from(pad));
    Ok(Some(pad))
}

/// Length the Pad Length field and padding add to a payload.
pub(crate) fn padding_len(padding: Option<u8>) -> usize {
    padding.map_or(0, |p| 1 + usize::from(p))
}

/// Appends a frame header for a payload of `len` bytes.
pub(crate) fn put_header(dst: &mut BytesMut, len: usize, kind: FrameType, flags: u8, id: u32) {
    assert!(
        len <= MAX_FRAME_LEN as usize,
        "HTTP/2 frame payload over 2^24-1 bytes"
    );
    FrameHeader {
        length: len as u32,
        kind: kind as u8,
        flags,
        stream_id: id,
    }
    .encode(dst);
}

/// Appends `n` zero bytes of padding.
pub(crate) fn put_padding(dst: &mut BytesMut, padding: Option<u8>) {
    if let Some(p) = padding {
        dst.put_bytes(0, usize::from(p));
    }
}
