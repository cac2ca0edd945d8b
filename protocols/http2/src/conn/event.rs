//! What the connection tells the application ([`Event`]) and how its calls fail
//! ([`ConnectionError`] from `receive`, [`SendError`] from the send methods).

use std::fmt;

use bytes::Bytes;
use hawser_hpack::Field;

use super::fields::{self, RequestHead};
use crate::{ErrorCode, Settings, StreamId};

/// Something that happened on the connection, for the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Server side: a new request (pseudo-headers validated).
    Request {
        /// The new stream.
        stream: StreamId,
        /// The request's control data and fields.
        head: RequestHead,
        /// No body follows.
        end_stream: bool,
    },
    /// Client side: a 1xx response (more responses follow).
    Informational {
        /// The request's stream.
        stream: StreamId,
        /// 100..=199 (never 101).
        status: u16,
        /// Its fields.
        fields: Vec<Field>,
    },
    /// Client side: the final response.
    Response {
        /// The request's stream.
        stream: StreamId,
        /// 200..=999.
        status: u16,
        /// Its fields.
        fields: Vec<Field>,
        /// No body follows.
        end_stream: bool,
    },
    /// A piece of a body. Call [`super::Connection::release_received`] with `data.len()` once it is
    /// consumed (also if the stream was reset since).
    Data {
        /// The stream.
        stream: StreamId,
        /// The bytes (padding removed).
        data: Bytes,
        /// The last piece.
        end_stream: bool,
    },
    /// Trailers; they end the stream.
    Trailers {
        /// The stream.
        stream: StreamId,
        /// The trailer fields.
        fields: Vec<Field>,
    },
    /// The peer's field section on this stream was larger than our
    /// SETTINGS_MAX_HEADER_LIST_SIZE. The stream stays; its DATA is dropped. A server may
    /// answer 431 ([`super::Connection::send_response`]) or reset it; a client should reset it.
    HeadersTooLarge {
        /// The stream.
        stream: StreamId,
    },
    /// A stream the application knows ended abnormally.
    Reset {
        /// The stream.
        stream: StreamId,
        /// The code. REFUSED_STREAM from the peer (or for our streams above a GOAWAY's last
        /// stream id): the request was not processed and may be retried.
        code: ErrorCode,
        /// The peer reset it (RST_STREAM, or GOAWAY); otherwise we did, for a stream error.
        remote: bool,
    },
    /// Send capacity grew: on this stream, or on the connection (`None`).
    WindowOpen {
        /// The stream, or `None` for the connection window.
        stream: Option<StreamId>,
    },
    /// The peer is going away: no new streams; ours above `last_stream_id` were reported
    /// reset with REFUSED_STREAM.
    GoAway {
        /// The last of our streams the peer may process.
        last_stream_id: StreamId,
        /// Why.
        code: ErrorCode,
        /// Its debug data.
        debug: Bytes,
    },
    /// The peer's SETTINGS were applied (and acknowledged).
    Settings(Settings),
    /// The peer acknowledged our SETTINGS: they are in force.
    SettingsAcked,
    /// The answer to a [`super::Connection::ping`].
    PingAck([u8; 8]),
}

/// The connection cannot go on: a GOAWAY with `code` is queued; write the output and close.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnectionError {
    /// The code sent in GOAWAY.
    pub code: ErrorCode,
    /// What was wrong (also the GOAWAY's debug data).
    pub reason: &'static str,
}

impl fmt::Display for ConnectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP/2 connection error {}: {}", self.code, self.reason)
    }
}

impl std::error::Error for ConnectionError {}

/// Why a send method refused; nothing was queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SendError {
    /// A client method on a server, or the reverse.
    WrongSide,
    /// The stream is not open for this (unknown, closed, or reset).
    UnknownStream,
    /// We already sent END_STREAM on it.
    StreamEnded,
    /// Headers in the wrong order: DATA or trailers before the (final) headers, or a second
    /// final response.
    WrongState,
    /// Opening another stream would exceed the peer's SETTINGS_MAX_CONCURRENT_STREAMS.
    ConcurrencyLimit {
        /// The peer's limit.
        limit: u32,
    },
    /// Stream ids are used up (2^31-1): open a new connection.
    StreamIdsExhausted,
    /// GOAWAY was sent or received: no new streams.
    GoingAway,
    /// The connection failed.
    Closed,
    /// The fields are not a valid HTTP/2 message.
    Malformed(fields::Malformed),
    /// The field section exceeds the peer's SETTINGS_MAX_HEADER_LIST_SIZE.
    HeaderListTooLarge,
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::WrongSide => f.write_str("not allowed on this side of the connection"),
            SendError::UnknownStream => f.write_str("stream not open"),
            SendError::StreamEnded => f.write_str("END_STREAM already sent"),
            SendError::WrongState => f.write_str("headers in the wrong order"),
            SendError::ConcurrencyLimit { limit } => {
                write!(f, "peer's limit of {limit} concurrent streams reached")
            }
            SendError::StreamIdsExhausted => f.write_str("stream ids exhausted"),
            SendError::GoingAway => f.write_str("connection going away"),
            SendError::Closed => f.write_str("connection failed"),
            SendError::Malformed(m) => write!(f, "malformed message: {m}"),
            SendError::HeaderListTooLarge => f.write_str("field section too large for the peer"),
        }
    }
}

impl std::error::Error for SendError {}
