//! DATA (RFC 9113 section 6.1).

use bytes::{BufMut, Bytes, BytesMut};

use super::{FrameHeader, FrameType, flags, padding_len, put_header, put_padding, strip_padding};
use crate::{Error, StreamId};

/// A DATA frame: a piece of a stream's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Data {
    /// The stream (never 0).
    pub stream_id: StreamId,
    /// The content, padding removed.
    pub data: Bytes,
    /// END_STREAM: the sender's last frame on this stream.
    pub end_stream: bool,
    /// PADDED: the padding length (`Some(0)` is a Pad Length field of 0). Padding is sent as
    /// zeros and not checked on receipt (section 6.1 allows either).
    pub padding: Option<u8>,
}

impl Data {
    /// A DATA frame without padding.
    pub fn new(stream_id: StreamId, data: Bytes, end_stream: bool) -> Self {
        Data {
            stream_id,
            data,
            end_stream,
            padding: None,
        }
    }

    /// Bytes this frame counts against the flow-control windows: "The entire DATA frame
    /// payload is included in flow control, including the Pad Length and Padding fields if
    /// present." (section 6.1)
    pub fn flow_len(&self) -> u32 {
        (self.data.len() + padding_len(self.padding)) as u32
    }

    /// Parses a DATA payload. The header has passed [`super::Frame::check_header`].
    ///
    /// # Errors
    /// A connection error for padding that does not fit (PROTOCOL_ERROR) or a missing Pad Length
    /// (FRAME_SIZE_ERROR).
    pub(crate) fn load(h: &FrameHeader, mut payload: Bytes) -> Result<Self, Error> {
        let padding = strip_padding(h, &mut payload, 0)?;
        Ok(Data {
            stream_id: h.stream_id,
            data: payload,
            end_stream: h.has(flags::END_STREAM),
            padding,
        })
    }

    /// Appends the frame; padding is written as zeros.
    ///
    /// # Panics
    /// If the payload exceeds 2^24-1 bytes.
    pub fn encode(&self, dst: &mut BytesMut) {
        let mut f = 0;
        if self.end_stream {
            f |= flags::END_STREAM;
        }
        if self.padding.is_some() {
            f |= flags::PADDED;
        }
        let len = self.data.len() + padding_len(self.padding);
        put_header(dst, len, FrameType::Data, f, self.stream_id);
        dst.reserve(len);
        if let Some(p) = self.padding {
            dst.put_u8(p);
        }
        dst.put_slice(&self.data);
        put_padding(dst, self.padding);
    }
}
