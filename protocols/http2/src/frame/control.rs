//! The small fixed-layout frames: PRIORITY (6.3), RST_STREAM (6.4), PING (6.7), GOAWAY (6.8),
//! WINDOW_UPDATE (6.9), and the priority fields HEADERS shares with PRIORITY.

use bytes::{BufMut, Bytes, BytesMut};

use super::{FrameHeader, FrameType, STREAM_ID_MASK, flags, put_header};
use crate::{Error, ErrorCode, ErrorKind, StreamId};

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// The deprecated priority fields (section 5.3.2): kept as received, never acted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PrioritySpec {
    /// E: the dependency is exclusive.
    pub exclusive: bool,
    /// The stream this one depends on (31 bits).
    pub dependency: StreamId,
    /// The weight as sent, 0..=255 (the weight is this plus one).
    pub weight: u8,
}

impl PrioritySpec {
    /// Reads the 5 bytes `E | dependency (31) | weight (8)`.
    pub(crate) fn load(b: &[u8]) -> Self {
        let dep = be32(b);
        PrioritySpec {
            exclusive: dep & !STREAM_ID_MASK != 0,
            dependency: dep & STREAM_ID_MASK,
            weight: b[4],
        }
    }

    pub(crate) fn encode(&self, dst: &mut BytesMut) {
        let e = if self.exclusive { !STREAM_ID_MASK } else { 0 };
        dst.put_u32(e | (self.dependency & STREAM_ID_MASK));
        dst.put_u8(self.weight);
    }
}

/// A PRIORITY frame (deprecated by RFC 9113, still parsed: it may arrive on any stream in any
/// state).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Priority {
    /// The stream whose priority is advised (never 0).
    pub stream_id: StreamId,
    /// The priority fields.
    pub spec: PrioritySpec,
}

impl Priority {
    /// Parses a 5-byte PRIORITY payload (length checked by [`super::Frame::check_header`]).
    ///
    /// # Errors
    /// A stream error (PROTOCOL_ERROR) when the stream depends on itself (RFC 7540 section
    /// 5.3.1, which RFC 9113 keeps as background).
    pub(crate) fn load(h: &FrameHeader, payload: &[u8]) -> Result<Self, Error> {
        let spec = PrioritySpec::load(payload);
        if spec.dependency == h.stream_id {
            return Err(Error::Stream(h.stream_id, ErrorKind::SelfDependency));
        }
        Ok(Priority {
            stream_id: h.stream_id,
            spec,
        })
    }

    /// Appends the frame.
    pub fn encode(&self, dst: &mut BytesMut) {
        put_header(dst, 5, FrameType::Priority, 0, self.stream_id);
        self.spec.encode(dst);
    }
}

/// A RST_STREAM frame: ends a stream immediately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RstStream {
    /// The stream (never 0).
    pub stream_id: StreamId,
    /// Why.
    pub code: ErrorCode,
}

impl RstStream {
    /// A RST_STREAM for `stream_id` with `code`.
    pub fn new(stream_id: StreamId, code: ErrorCode) -> Self {
        RstStream { stream_id, code }
    }

    /// Parses a 4-byte payload (length checked by [`super::Frame::check_header`]).
    pub(crate) fn load(h: &FrameHeader, payload: &[u8]) -> Self {
        RstStream {
            stream_id: h.stream_id,
            code: ErrorCode::from_u32(be32(payload)),
        }
    }

    /// Appends the frame.
    pub fn encode(&self, dst: &mut BytesMut) {
        put_header(dst, 4, FrameType::RstStream, 0, self.stream_id);
        dst.put_u32(self.code.to_u32());
    }
}

/// A PING frame: 8 opaque bytes, answered with the same bytes and ACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ping {
    /// ACK: this is the answer to a PING.
    pub ack: bool,
    /// The opaque data.
    pub payload: [u8; 8],
}

impl Ping {
    /// A PING (not an ACK).
    pub fn new(payload: [u8; 8]) -> Self {
        Ping {
            ack: false,
            payload,
        }
    }

    /// The answer to this PING: "Receivers of a PING frame that does not include an ACK flag
    /// MUST send a PING frame with the ACK flag set in response, with an identical frame
    /// payload." (section 6.7)
    pub fn to_ack(&self) -> Self {
        Ping {
            ack: true,
            payload: self.payload,
        }
    }

    /// Parses an 8-byte payload (length checked by [`super::Frame::check_header`]).
    pub(crate) fn load(h: &FrameHeader, payload: &[u8]) -> Self {
        let mut p = [0; 8];
        p.copy_from_slice(&payload[..8]);
        Ping {
            ack: h.has(flags::ACK),
            payload: p,
        }
    }

    /// Appends the frame.
    pub fn encode(&self, dst: &mut BytesMut) {
        let f = if self.ack { flags::ACK } else { 0 };
        put_header(dst, 8, FrameType::Ping, f, 0);
        dst.put_slice(&self.payload);
    }
}

/// A GOAWAY frame: the sender is closing the connection; streams above `last_stream_id` were
/// not and will not be processed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoAway {
    /// The highest peer-initiated stream the sender might have processed (31 bits).
    pub last_stream_id: StreamId,
    /// Why.
    pub code: ErrorCode,
    /// Opaque diagnostic data.
    pub debug_data: Bytes,
}

impl GoAway {
    /// A GOAWAY without debug data.
    pub fn new(last_stream_id: StreamId, code: ErrorCode) -> Self {
        GoAway {
            last_stream_id,
            code,
            debug_data: Bytes::new(),
        }
    }

    /// Parses a payload of at least 8 bytes (checked by [`super::Frame::check_header`]).
    pub(crate) fn load(_h: &FrameHeader, mut payload: Bytes) -> Self {
        let fixed = payload.split_to(8);
        GoAway {
            last_stream_id: be32(&fixed) & STREAM_ID_MASK,
            code: ErrorCode::from_u32(be32(&fixed[4..])),
            debug_data: payload,
        }
    }

    /// Appends the frame.
    ///
    /// # Panics
    /// If the debug data exceeds 2^24-9 bytes.
    pub fn encode(&self, dst: &mut BytesMut) {
        put_header(dst, 8 + self.debug_data.len(), FrameType::GoAway, 0, 0);
        dst.put_u32(self.last_stream_id & STREAM_ID_MASK);
        dst.put_u32(self.code.to_u32());
        dst.extend_from_slice(&self.debug_data);
    }
}

/// A WINDOW_UPDATE frame: flow-control credit for a stream, or for the connection (stream 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WindowUpdate {
    /// The stream, or 0 for the connection window.
    pub stream_id: StreamId,
    /// The credit, 1..=2^31-1.
    pub increment: u32,
}

impl WindowUpdate {
    /// A WINDOW_UPDATE granting `increment` bytes.
    pub fn new(stream_id: StreamId, increment: u32) -> Self {
        WindowUpdate {
            stream_id,
            increment,
        }
    }

    /// Parses a 4-byte payload (length checked by [`super::Frame::check_header`]).
    ///
    /// # Errors
    /// An increment of 0: "A receiver MUST treat the receipt of a WINDOW_UPDATE frame with a
    /// flow-control window increment of 0 as a stream error (Section 5.4.2) of type
    /// PROTOCOL_ERROR; errors on the connection flow-control window MUST be treated as a
    /// connection error" (section 6.9).
    pub(crate) fn load(h: &FrameHeader, payload: &[u8]) -> Result<Self, Error> {
        let increment = be32(payload) & STREAM_ID_MASK;
        if increment == 0 {
            return Err(if h.stream_id == 0 {
                Error::Connection(ErrorKind::ZeroWindowIncrement)
            } else {
                Error::Stream(h.stream_id, ErrorKind::ZeroWindowIncrement)
            });
        }
        Ok(WindowUpdate {
            stream_id: h.stream_id,
            increment,
        })
    }

    /// Appends the frame.
    pub fn encode(&self, dst: &mut BytesMut) {
        put_header(dst, 4, FrameType::WindowUpdate, 0, self.stream_id);
        dst.put_u32(self.increment & STREAM_ID_MASK);
    }
}
