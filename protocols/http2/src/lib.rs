//! Sans-IO HTTP/2 for hawser (RFC 9113): the frame layer and, on top of it, the connection
//! layer ([`Connection`]).
//!
//! Neither touches a socket, a runtime or a clock: a driver reads into a `BytesMut`, hands it
//! over, acts on what comes out, and writes what was appended to the output buffer.
//!
//! The frame layer:
//! - the 9-byte [`FrameHeader`] and every frame type of RFC 9113 section 6 ([`Data`],
//!   [`Headers`], [`Priority`], [`RstStream`], [`Settings`], [`PushPromise`], [`Ping`],
//!   [`GoAway`], [`WindowUpdate`], [`Continuation`]), each with `load` and `encode`, enforcing
//!   every length, stream-id, padding and SETTINGS-value rule of section 6; unknown frame types
//!   are skipped (section 5.5);
//! - a [`Decoder`] fed in arbitrary pieces: the connection preface ([`Decoder::server`],
//!   [`Decoder::client`]), the local SETTINGS_MAX_FRAME_SIZE, CONTINUATION sequencing and a cap
//!   on a field block's size, all checked on the frame header before the payload is buffered;
//!   payloads are `Bytes` split off the read buffer, never copied;
//! - [`encode_headers`] / [`encode_push_promise`], which split a field block into HEADERS or
//!   PUSH_PROMISE plus CONTINUATION frames at the peer's SETTINGS_MAX_FRAME_SIZE;
//! - [`Window`], flow-control window arithmetic with the overflow rules of section 6.9.
//!
//! Errors are an [`Error`]: a connection error (GOAWAY, close) or a stream error (RST_STREAM,
//! carry on), each with an [`ErrorKind`] that names the rule and maps to its RFC 9113 section 7
//! [`ErrorCode`].
//!
//! The connection layer ([`conn`]: [`Connection`], [`Config`], [`Event`]) is what a router
//! drives, in the manner of Python's `h2`: bytes in ([`Connection::receive`]), [`Event`]s out
//! (requests, responses, DATA, trailers, resets, window openings, GOAWAY), send methods for
//! requests, responses, DATA within the flow-control windows, trailers, resets and GOAWAY, and
//! the bytes to write ([`Connection::take_output`]). It uses the hpack crate for field blocks
//! and owns stream states and id ordering (section 5.1), both concurrency limits, SETTINGS in
//! both directions, flow control and the WINDOW_UPDATE policy, message validation (sections
//! 8.1-8.3), GOAWAY, and the limits against rapid reset and reply floods; see [`conn`].
//!
//! What the crate deliberately does not do: priority scheduling (PRIORITY is parsed and
//! ignored), server push (never sent, refused when received), and time (SETTINGS and PING
//! timeouts are the driver's). hawser's router does not speak HTTP/2 yet.
//!
//! # Flow for a driver of the frame layer alone
//!
//! 1. Make a [`Decoder::server`] (or [`Decoder::client`]). Write your own preface: a client
//!    writes [`PREFACE`] then a [`Settings`] frame; a server writes a [`Settings`] frame.
//! 2. After each read call [`Decoder::decode`] until `Ok(None)`. A stream error: send
//!    [`RstStream`] with [`Error::code`] and keep decoding. A connection error: send [`GoAway`]
//!    with [`Error::code`] and close.
//! 3. When the peer acknowledges SETTINGS that raised our SETTINGS_MAX_FRAME_SIZE, call
//!    [`Decoder::set_max_frame_size`].
//! 4. Count DATA against a receiving [`Window`] per stream and one for the connection with
//!    [`Data::flow_len`]; count what you send against sending windows, grown by received
//!    [`WindowUpdate`]s and adjusted by [`Window::apply_initial_window_change`].
//!
//! # Example: a client's first bytes, read by a server
//!
//! ```
//! use bytes::{Bytes, BytesMut};
//! use hawser_http2::{Data, Decoder, Frame, Headers, PREFACE, Settings, encode_headers};
//!
//! // The client writes its preface, SETTINGS, a request (the HPACK block is opaque here) and
//! // its body.
//! let mut wire = BytesMut::new();
//! wire.extend_from_slice(PREFACE);
//! Settings { initial_window_size: Some(1 << 20), ..Settings::default() }.encode(&mut wire);
//! let block = Bytes::from_static(&[0x82, 0x86, 0x84, 0x41, 0x01, b'a']);
//! encode_headers(&Headers::new(1, block, false), 16_384, &mut wire);
//! Data::new(1, Bytes::from_static(b"hello"), true).encode(&mut wire);
//!
//! // The server's decoder reads them back, in whatever pieces they arrive.
//! let mut dec = Decoder::server();
//! let mut frames = Vec::new();
//! while let Some(frame) = dec.decode(&mut wire)? {
//!     frames.push(frame);
//! }
//! assert!(matches!(&frames[..], [Frame::Settings(_), Frame::Headers(_), Frame::Data(d)]
//!     if d.end_stream && d.data == "hello"));
//! # Ok::<(), hawser_http2::Error>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod conn;
mod decoder;
mod encode;
mod error;
pub mod frame;
mod window;

#[cfg(test)]
mod tests;

pub use conn::fields::{Malformed, RequestHead};
pub use conn::stream::StreamState;
pub use conn::{Config, Connection, ConnectionError, Event, SendError, Side};
pub use decoder::{Decoder, Role};
pub use encode::{encode_headers, encode_push_promise};
pub use error::{Error, ErrorCode, ErrorKind};
pub use frame::{
    Continuation, Data, Frame, FrameHeader, FrameType, GoAway, Headers, Ping, Priority,
    PrioritySpec, PushPromise, RstStream, Settings, SettingsId, WindowUpdate,
};
pub use hawser_hpack::Field;
pub use window::Window;

/// A stream identifier (31 bits; 0 is the connection).
pub type StreamId = u32;

/// The client connection preface (section 3.4), sent before the client's first SETTINGS.
pub const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// SETTINGS_MAX_FRAME_SIZE's initial value, and its smallest allowed value.
pub const DEFAULT_MAX_FRAME_SIZE: u32 = 16_384;
/// The smallest value SETTINGS_MAX_FRAME_SIZE may take.
pub const MIN_MAX_FRAME_SIZE: u32 = 16_384;
/// The largest value SETTINGS_MAX_FRAME_SIZE may take (2^24-1).
pub const MAX_MAX_FRAME_SIZE: u32 = 16_777_215;
/// The largest flow-control window, and the largest SETTINGS_INITIAL_WINDOW_SIZE (2^31-1).
pub const MAX_WINDOW_SIZE: u32 = 0x7fff_ffff;
/// The initial size of every flow-control window (section 6.9.2).
pub const DEFAULT_INITIAL_WINDOW_SIZE: u32 = 65_535;
/// The decoder's default cap on a field block's size (64 KiB).
pub const DEFAULT_MAX_HEADER_BLOCK: usize = 64 * 1024;
