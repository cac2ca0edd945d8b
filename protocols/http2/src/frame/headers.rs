//! The frames that carry a field block: HEADERS (section 6.2), PUSH_PROMISE (section 6.6) and
//! CONTINUATION (section 6.10). The block itself (HPACK) is opaque here.

use bytes::{BufMut, Bytes, BytesMut};

use super::{
    FrameHeader, FrameType, PrioritySpec, STREAM_ID_MASK, flags, padding_len, put_header,
    put_padding, strip_padding,
};
use crate::{Error, ErrorKind, StreamId};

/// A HEADERS frame: opens a stream (or carries trailers) with the first fragment of a field
/// block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Headers {
    /// The stream (never 0).
    pub stream_id: StreamId,
    /// The field-block fragment, padding and priority fields removed.
    pub fragment: Bytes,
    /// END_STREAM: no DATA follows on this stream (CONTINUATIONs may still follow).
    pub end_stream: bool,
    /// END_HEADERS: the field block ends here; otherwise CONTINUATION frames follow.
    pub end_headers: bool,
    /// PRIORITY: the deprecated priority fields (section 5.3.2), parsed and kept, not acted on.
    /// A dependency on the frame's own stream is not refused here (the block must still be
    /// decoded); a driver that cares answers RST_STREAM.
    pub priority: Option<PrioritySpec>,
    /// PADDED: the padding length.
    pub padding: Option<u8>,
}

impl Headers {
    /// A HEADERS frame carrying a whole field block (END_HEADERS set), no priority, no padding.
    pub fn new(stream_id: StreamId, fragment: Bytes, end_stream: bool) -> Self {
        Headers {
            stream_id,
            fragment,
            end_stream,
            end_headers: true,
            priority: None,
            padding: None,
        }
    }

    /// Parses a HEADERS payload. The header has passed [`super::Frame::check_header`].
    ///
    /// # Errors
    /// Connection errors: padding that does not fit (PROTOCOL_ERROR), a payload shorter than
    /// Pad Length and the priority fields (FRAME_SIZE_ERROR).
    pub(crate) fn load(h: &FrameHeader, mut payload: Bytes) -> Result<Self, Error> {
        let has_priority = h.has(flags::PRIORITY);
        let padding = strip_padding(h, &mut payload, if has_priority { 5 } else { 0 })?;
        let priority = if has_priority {
            let p = payload.split_to(5);
            Some(PrioritySpec::load(&p))
        } else {
            None
        };
        Ok(Headers {
            stream_id: h.stream_id,
            fragment: payload,
            end_stream: h.has(flags::END_STREAM),
            end_headers: h.has(flags::END_HEADERS),
            priority,
            padding,
        })
    }

    /// Appends the frame exactly as described (one frame, its flags as set).
    ///
    /// # Panics
    /// If the payload exceeds 2^24-1 bytes.
    pub fn encode(&self, dst: &mut BytesMut) {
        let mut f = 0;
        if self.end_stream {
            f |= flags::END_STREAM;
        }
        if self.end_headers {
            f |= flags::END_HEADERS;
        }
        if self.padding.is_some() {
            f |= flags::PADDED;
        }
        if self.priority.is_some() {
            f |= flags::PRIORITY;
        }
        let fixed = if self.priority.is_some() { 5 } else { 0 };
        let len = fixed + self.fragment.len() + padding_len(self.padding);
        put_header(dst, len, FrameType::Headers, f, self.stream_id);
        dst.reserve(len);
        if let Some(p) = self.padding {
            dst.put_u8(p);
        }
        if let Some(spec) = &self.priority {
            spec.encode(dst);
        }
        dst.put_slice(&self.fragment);
        put_padding(dst, self.padding);
    }
}

/// A PUSH_PROMISE frame: the server reserves a stream and sends the first fragment of the
/// promised request's field block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushPromise {
    /// The stream the promise is associated with (never 0).
    pub stream_id: StreamId,
    /// The reserved stream (even, never 0).
    pub promised_id: StreamId,
    /// The field-block fragment, padding removed.
    pub fragment: Bytes,
    /// END_HEADERS: the field block ends here.
    pub end_headers: bool,
    /// PADDED: the padding length.
    pub padding: Option<u8>,
}

impl PushPromise {
    /// Parses a PUSH_PROMISE payload. The header has passed [`super::Frame::check_header`].
    ///
    /// # Errors
    /// Connection errors: padding that does not fit (PROTOCOL_ERROR), a payload without room
    /// for the Promised Stream ID (FRAME_SIZE_ERROR), a promised stream id that is 0 or odd
    /// (PROTOCOL_ERROR: only servers push, on even ids, section 5.1.1).
    pub(crate) fn load(h: &FrameHeader, mut payload: Bytes) -> Result<Self, Error> {
        let padding = strip_padding(h, &mut payload, 4)?;
        let id = payload.split_to(4);
        let promised_id = u32::from_be_bytes([id[0], id[1], id[2], id[3]]) & STREAM_ID_MASK;
        if promised_id == 0 || promised_id % 2 == 1 {
            return Err(Error::Connection(ErrorKind::InvalidPushPromise));
        }
        Ok(PushPromise {
            stream_id: h.stream_id,
            promised_id,
            fragment: payload,
            end_headers: h.has(flags::END_HEADERS),
            padding,
        })
    }

    /// Appends the frame exactly as described.
    ///
    /// # Panics
    /// If the payload exceeds 2^24-1 bytes.
    pub fn encode(&self, dst: &mut BytesMut) {
        let mut f = 0;
        if self.end_headers {
            f |= flags::END_HEADERS;
        }
        if self.padding.is_some() {
            f |= flags::PADDED;
        }
        let len = 4 + self.fragment.len() + padding_len(self.padding);
        put_header(dst, len, FrameType::PushPromise, f, self.stream_id);
        dst.reserve(len);
        if let Some(p) = self.padding {
            dst.put_u8(p);
        }
        dst.put_u32(self.promised_id & STREAM_ID_MASK);
        dst.put_slice(&self.fragment);
        put_padding(dst, self.padding);
    }
}

/// A CONTINUATION frame: the next fragment of a field block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Continuation {
    /// The stream of the HEADERS or PUSH_PROMISE it continues.
    pub stream_id: StreamId,
    /// The field-block fragment.
    pub fragment: Bytes,
    /// END_HEADERS: the field block ends here.
    pub end_headers: bool,
}

impl Continuation {
    /// Parses a CONTINUATION payload (any length is valid). Whether it may arrive now is the
    /// decoder's check.
    pub(crate) fn load(h: &FrameHeader, payload: Bytes) -> Self {
        Continuation {
            stream_id: h.stream_id,
            fragment: payload,
            end_headers: h.has(flags::END_HEADERS),
        }
    }

    /// Appends the frame.
    ///
    /// # Panics
    /// If the fragment exceeds 2^24-1 bytes.
    pub fn encode(&self, dst: &mut BytesMut) {
        let f = if self.end_headers {
            flags::END_HEADERS
        } else {
            0
        };
        put_header(
            dst,
            self.fragment.len(),
            FrameType::Continuation,
            f,
            self.stream_id,
        );
        dst.extend_from_slice(&self.fragment);
    }
}
