//! The frame layer's errors: the RFC 9113 section 7 error codes ([`ErrorCode`]), what was wrong
//! ([`ErrorKind`], each with the code the RFC assigns), and whether it ends the connection or
//! only one stream ([`Error`]).

use std::fmt;

use crate::StreamId;

/// An HTTP/2 error code (RFC 9113 section 7), as carried by RST_STREAM and GOAWAY.
///
/// Codes this crate does not know arrive as [`ErrorCode::Unknown`]: "Unknown or unsupported
/// error codes MUST NOT trigger any special behavior" (section 7), so they are kept, not refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 0x0: graceful shutdown, or no error.
    NoError,
    /// 0x1: an unspecific protocol error.
    ProtocolError,
    /// 0x2: an unexpected internal error.
    InternalError,
    /// 0x3: the peer violated the flow-control protocol.
    FlowControlError,
    /// 0x4: a SETTINGS frame was not acknowledged in time.
    SettingsTimeout,
    /// 0x5: a frame arrived after the stream was half-closed.
    StreamClosed,
    /// 0x6: a frame with an invalid size.
    FrameSizeError,
    /// 0x7: the stream was refused before any application processing.
    RefusedStream,
    /// 0x8: the stream is no longer needed.
    Cancel,
    /// 0x9: the field-section compression context cannot be maintained.
    CompressionError,
    /// 0xa: a CONNECT tunnel was reset or abnormally closed.
    ConnectError,
    /// 0xb: the peer is generating excessive load.
    EnhanceYourCalm,
    /// 0xc: the transport does not meet minimum security requirements.
    InadequateSecurity,
    /// 0xd: the endpoint requires HTTP/1.1 instead of HTTP/2.
    Http11Required,
    /// Any other value, kept as received.
    Unknown(u32),
}

impl ErrorCode {
    /// The code's numeric value on the wire.
    pub fn to_u32(self) -> u32 {
        use ErrorCode::*;
        match self {
            NoError => 0x0,
            ProtocolError => 0x1,
            InternalError => 0x2,
            FlowControlError => 0x3,
            SettingsTimeout => 0x4,
            StreamClosed => 0x5,
            FrameSizeError => 0x6,
            RefusedStream => 0x7,
            Cancel => 0x8,
            CompressionError => 0x9,
            ConnectError => 0xa,
            EnhanceYourCalm => 0xb,
            InadequateSecurity => 0xc,
            Http11Required => 0xd,
            Unknown(v) => v,
        }
    }

    /// The code for a wire value; values without a name become [`ErrorCode::Unknown`].
    pub fn from_u32(v: u32) -> Self {
        use ErrorCode::*;
        match v {
            0x0 => NoError,
            0x1 => ProtocolError,
            0x2 => InternalError,
            0x3 => FlowControlError,
            0x4 => SettingsTimeout,
            0x5 => StreamClosed,
            0x6 => FrameSizeError,
            0x7 => RefusedStream,
            0x8 => Cancel,
            0x9 => CompressionError,
            0xa => ConnectError,
            0xb => EnhanceYourCalm,
            0xc => InadequateSecurity,
            0xd => Http11Required,
            v => Unknown(v),
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ErrorCode::*;
        let name = match self {
            NoError => "NO_ERROR",
            ProtocolError => "PROTOCOL_ERROR",
            InternalError => "INTERNAL_ERROR",
            FlowControlError => "FLOW_CONTROL_ERROR",
            SettingsTimeout => "SETTINGS_TIMEOUT",
            StreamClosed => "STREAM_CLOSED",
            FrameSizeError => "FRAME_SIZE_ERROR",
            RefusedStream => "REFUSED_STREAM",
            Cancel => "CANCEL",
            CompressionError => "COMPRESSION_ERROR",
            ConnectError => "CONNECT_ERROR",
            EnhanceYourCalm => "ENHANCE_YOUR_CALM",
            InadequateSecurity => "INADEQUATE_SECURITY",
            Http11Required => "HTTP_1_1_REQUIRED",
            Unknown(v) => return write!(f, "unknown error code {v:#x}"),
        };
        f.write_str(name)
    }
}

/// What was wrong. Each variant names the RFC 9113 rule it enforces and the code it answers
/// with ([`ErrorKind::code`]); whether it ends the connection or one stream is in [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// PROTOCOL_ERROR: the bytes before the first frame are not the client connection preface
    /// `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n` (section 3.4).
    InvalidPreface,
    /// PROTOCOL_ERROR: the first frame of a peer's preface is not a SETTINGS frame without ACK
    /// (section 3.4).
    PrefaceNotSettings,
    /// FRAME_SIZE_ERROR: a frame longer than the local SETTINGS_MAX_FRAME_SIZE (section 4.2).
    FrameTooLarge,
    /// FRAME_SIZE_ERROR: a payload too short for the frame's mandatory fields, or of a length the
    /// frame type forbids (PING not 8, RST_STREAM / WINDOW_UPDATE not 4, PRIORITY not 5,
    /// SETTINGS not a multiple of 6, SETTINGS ACK not empty, GOAWAY under 8).
    InvalidFrameLength,
    /// PROTOCOL_ERROR: a frame type that must be on a stream arrived on stream 0 (DATA, HEADERS,
    /// PRIORITY, RST_STREAM, PUSH_PROMISE, CONTINUATION).
    StreamIdZero,
    /// PROTOCOL_ERROR: a connection-level frame arrived on a stream other than 0 (SETTINGS,
    /// PING, GOAWAY).
    StreamIdNonZero,
    /// PROTOCOL_ERROR: the padding is as long as, or longer than, what the payload has left
    /// after its fixed fields (sections 6.1, 6.2, 6.6).
    PaddingTooLong,
    /// PROTOCOL_ERROR: SETTINGS_ENABLE_PUSH other than 0 or 1 (section 6.5.2).
    InvalidEnablePush,
    /// FLOW_CONTROL_ERROR: SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1 (section 6.5.2).
    InvalidInitialWindowSize,
    /// PROTOCOL_ERROR: SETTINGS_MAX_FRAME_SIZE outside 16384..=16777215 (section 6.5.2).
    InvalidMaxFrameSize,
    /// PROTOCOL_ERROR: a WINDOW_UPDATE increment of 0 (section 6.9): a connection error on
    /// stream 0, a stream error otherwise.
    ZeroWindowIncrement,
    /// PROTOCOL_ERROR: a PRIORITY frame that makes a stream depend on itself (RFC 7540
    /// section 5.3.1; a stream error).
    SelfDependency,
    /// PROTOCOL_ERROR: a PUSH_PROMISE received by a server (section 8.4), or one promising stream
    /// 0 or an odd (client-initiated) stream (section 6.6).
    InvalidPushPromise,
    /// PROTOCOL_ERROR: a CONTINUATION that does not continue a HEADERS, PUSH_PROMISE or
    /// CONTINUATION on the same stream without END_HEADERS (section 6.10).
    UnexpectedContinuation,
    /// PROTOCOL_ERROR: a frame other than CONTINUATION on the same stream arrived in the middle
    /// of a field block (sections 4.3, 5.5, 6.10).
    ExpectedContinuation,
    /// ENHANCE_YOUR_CALM: a field block (HEADERS or PUSH_PROMISE and its CONTINUATIONs) larger
    /// than the decoder's `max_header_block`. The block cannot be skipped without decoding it
    /// (HPACK state), so this ends the connection (section 10.5.1 allows closing).
    HeaderBlockTooLarge,
    /// FLOW_CONTROL_ERROR: a window would exceed 2^31-1 (sections 6.9.1, 6.9.2).
    WindowOverflow,
    /// FLOW_CONTROL_ERROR: more flow-controlled bytes than the window allows (section 6.9.1).
    WindowExceeded,
}

impl ErrorKind {
    /// The RFC 9113 error code an endpoint sends for this error.
    pub fn code(self) -> ErrorCode {
        use ErrorKind::*;
        match self {
            FrameTooLarge | InvalidFrameLength => ErrorCode::FrameSizeError,
            InvalidInitialWindowSize | WindowOverflow | WindowExceeded => {
                ErrorCode::FlowControlError
            }
            HeaderBlockTooLarge => ErrorCode::EnhanceYourCalm,
            InvalidPreface
            | PrefaceNotSettings
            | StreamIdZero
            | StreamIdNonZero
            | PaddingTooLong
            | InvalidEnablePush
            | InvalidMaxFrameSize
            | ZeroWindowIncrement
            | SelfDependency
            | InvalidPushPromise
            | UnexpectedContinuation
            | ExpectedContinuation => ErrorCode::ProtocolError,
        }
    }

    /// A short static description (for logs and GOAWAY debug data).
    pub fn reason(self) -> &'static str {
        use ErrorKind::*;
        match self {
            InvalidPreface => "invalid connection preface",
            PrefaceNotSettings => "preface not followed by SETTINGS",
            FrameTooLarge => "frame larger than SETTINGS_MAX_FRAME_SIZE",
            InvalidFrameLength => "invalid frame length",
            StreamIdZero => "frame requires a stream id",
            StreamIdNonZero => "frame must be on stream 0",
            PaddingTooLong => "padding exceeds payload",
            InvalidEnablePush => "invalid SETTINGS_ENABLE_PUSH",
            InvalidInitialWindowSize => "invalid SETTINGS_INITIAL_WINDOW_SIZE",
            InvalidMaxFrameSize => "invalid SETTINGS_MAX_FRAME_SIZE",
            ZeroWindowIncrement => "WINDOW_UPDATE increment of 0",
            SelfDependency => "stream depends on itself",
            InvalidPushPromise => "invalid PUSH_PROMISE",
            UnexpectedContinuation => "unexpected CONTINUATION",
            ExpectedContinuation => "field block interrupted",
            HeaderBlockTooLarge => "field block too large",
            WindowOverflow => "flow-control window overflow",
            WindowExceeded => "flow-control window exceeded",
        }
    }
}

/// A frame-layer error: a connection error (answer GOAWAY with [`Error::code`] and close) or a
/// stream error (answer RST_STREAM on that stream; the connection goes on). Section 5.4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// The connection cannot continue (section 5.4.1). A [`crate::Decoder`] that returned one
    /// returns it again on every later call.
    Connection(ErrorKind),
    /// Only this stream is in error (section 5.4.2). The decoder consumed the offending frame and
    /// can be called again.
    Stream(StreamId, ErrorKind),
}

impl Error {
    /// What was wrong.
    pub fn kind(&self) -> ErrorKind {
        match *self {
            Error::Connection(kind) | Error::Stream(_, kind) => kind,
        }
    }

    /// The error code to send in GOAWAY (connection error) or RST_STREAM (stream error).
    pub fn code(&self) -> ErrorCode {
        self.kind().code()
    }

    /// The stream a stream error is about; `None` for a connection error.
    pub fn stream_id(&self) -> Option<StreamId> {
        match *self {
            Error::Connection(_) => None,
            Error::Stream(id, _) => Some(id),
        }
    }

    /// Whether the connection must be closed.
    pub fn is_connection_error(&self) -> bool {
        matches!(self, Error::Connection(_))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::Connection(k) => write!(f, "connection error {}: {}", k.code(), k.reason()),
            Error::Stream(id, k) => {
                write!(f, "stream {id} error {}: {}", k.code(), k.reason())
            }
        }
    }
}

impl std::error::Error for Error {}
