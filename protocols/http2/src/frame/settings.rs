//! SETTINGS (RFC 9113 section 6.5).

use bytes::{BufMut, BytesMut};

use super::{FrameHeader, FrameType, flags, put_header};
use crate::{Error, ErrorKind, MAX_MAX_FRAME_SIZE, MAX_WINDOW_SIZE, MIN_MAX_FRAME_SIZE};

/// The six parameters RFC 9113 defines (section 6.5.2), with their identifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum SettingsId {
    /// 0x1, initial 4096.
    HeaderTableSize = 0x1,
    /// 0x2, initial 1; 0 or 1 only.
    EnablePush = 0x2,
    /// 0x3, initially unlimited.
    MaxConcurrentStreams = 0x3,
    /// 0x4, initial 65535; at most 2^31-1.
    InitialWindowSize = 0x4,
    /// 0x5, initial 16384; within 16384..=16777215.
    MaxFrameSize = 0x5,
    /// 0x6, initially unlimited.
    MaxHeaderListSize = 0x6,
}

impl SettingsId {
    /// The parameter for an identifier; `None` for one RFC 9113 does not define, which "MUST
    /// be ignored" (section 6.5.2).
    pub fn from_u16(v: u16) -> Option<Self> {
        use SettingsId::*;
        Some(match v {
            0x1 => HeaderTableSize,
            0x2 => EnablePush,
            0x3 => MaxConcurrentStreams,
            0x4 => InitialWindowSize,
            0x5 => MaxFrameSize,
            0x6 => MaxHeaderListSize,
            _ => return None,
        })
    }
}

/// A SETTINGS frame: the parameters it sets (`None`: not in the frame, the value is unchanged)
/// or, with `ack`, the acknowledgement of the peer's SETTINGS (then every parameter is `None`).
///
/// A parameter repeated in one frame keeps its last value: values are processed in order
/// (section 6.5.3), so the last one is the one in force. Unknown identifiers are dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Settings {
    /// ACK: acknowledges the peer's SETTINGS; carries no parameters.
    pub ack: bool,
    /// SETTINGS_HEADER_TABLE_SIZE.
    pub header_table_size: Option<u32>,
    /// SETTINGS_ENABLE_PUSH.
    pub enable_push: Option<bool>,
    /// SETTINGS_MAX_CONCURRENT_STREAMS.
    pub max_concurrent_streams: Option<u32>,
    /// SETTINGS_INITIAL_WINDOW_SIZE (at most 2^31-1).
    pub initial_window_size: Option<u32>,
    /// SETTINGS_MAX_FRAME_SIZE (16384..=16777215).
    pub max_frame_size: Option<u32>,
    /// SETTINGS_MAX_HEADER_LIST_SIZE.
    pub max_header_list_size: Option<u32>,
}

impl Settings {
    /// The acknowledgement of a SETTINGS frame.
    pub fn ack() -> Self {
        Settings {
            ack: true,
            ..Settings::default()
        }
    }

    /// Parses a SETTINGS payload (stream id and length rules checked by
    /// [`super::Frame::check_header`]).
    ///
    /// # Errors
    /// Connection errors for invalid values (section 6.5.2): SETTINGS_ENABLE_PUSH other than 0
    /// or 1 (PROTOCOL_ERROR), SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1 (FLOW_CONTROL_ERROR),
    /// SETTINGS_MAX_FRAME_SIZE outside 16384..=16777215 (PROTOCOL_ERROR).
    pub(crate) fn load(h: &FrameHeader, payload: &[u8]) -> Result<Self, Error> {
        let mut s = Settings {
            ack: h.has(flags::ACK),
            ..Settings::default()
        };
        let bad = |k| Err(Error::Connection(k));
        for p in payload.chunks_exact(6) {
            let id = u16::from_be_bytes([p[0], p[1]]);
            let v = u32::from_be_bytes([p[2], p[3], p[4], p[5]]);
            match SettingsId::from_u16(id) {
                Some(SettingsId::HeaderTableSize) => s.header_table_size = Some(v),
                Some(SettingsId::EnablePush) => match v {
                    0 | 1 => s.enable_push = Some(v == 1),
                    _ => return bad(ErrorKind::InvalidEnablePush),
                },
                Some(SettingsId::MaxConcurrentStreams) => s.max_concurrent_streams = Some(v),
                Some(SettingsId::InitialWindowSize) => {
                    if v > MAX_WINDOW_SIZE {
                        return bad(ErrorKind::InvalidInitialWindowSize);
                    }
                    s.initial_window_size = Some(v);
                }
                Some(SettingsId::MaxFrameSize) => {
                    if !(MIN_MAX_FRAME_SIZE..=MAX_MAX_FRAME_SIZE).contains(&v) {
                        return bad(ErrorKind::InvalidMaxFrameSize);
                    }
                    s.max_frame_size = Some(v);
                }
                Some(SettingsId::MaxHeaderListSize) => s.max_header_list_size = Some(v),
                None => {}
            }
        }
        Ok(s)
    }

    /// The parameters present, in identifier order.
    pub fn iter(&self) -> impl Iterator<Item = (SettingsId, u32)> + '_ {
        use SettingsId::*;
        [
            (HeaderTableSize, self.header_table_size),
            (EnablePush, self.enable_push.map(u32::from)),
            (MaxConcurrentStreams, self.max_concurrent_streams),
            (InitialWindowSize, self.initial_window_size),
            (MaxFrameSize, self.max_frame_size),
            (MaxHeaderListSize, self.max_header_list_size),
        ]
        .into_iter()
        .filter_map(|(id, v)| v.map(|v| (id, v)))
    }

    /// Appends the frame. An ACK is written empty (its parameters, if any were set, are not
    /// sent: an ACK with a payload is a FRAME_SIZE_ERROR). Values are written as given; sending
    /// valid ones is the caller's business.
    pub fn encode(&self, dst: &mut BytesMut) {
        if self.ack {
            put_header(dst, 0, FrameType::Settings, flags::ACK, 0);
            return;
        }
        let n = self.iter().count();
        put_header(dst, 6 * n, FrameType::Settings, 0, 0);
        for (id, v) in self.iter() {
            dst.put_u16(id as u16);
            dst.put_u32(v);
        }
    }
}
