//! The sans-IO HTTP/2 connection (RFC 9113): one side of one connection, driven with bytes in
//! and events out, in the manner of Python's `h2` (`H2Connection`).
//!
//! A [`Connection`] owns the frame [`crate::Decoder`], both HPACK contexts, the stream table
//! and every flow-control window. The driver hands it what it read ([`Connection::receive`]),
//! drains [`Event`]s ([`Connection::poll_event`]), calls the send methods
//! ([`Connection::send_request`], [`Connection::send_response`], [`Connection::send_data`],
//! [`Connection::send_trailers`], [`Connection::reset`], [`Connection::go_away`]) and writes
//! what [`Connection::take_output`] returns. Replies the protocol requires (SETTINGS and PING
//! acknowledgements, RST_STREAM for stream errors, GOAWAY for connection errors, REFUSED_STREAM
//! past our concurrency limit) are queued by `receive` itself.
//!
//! What it enforces: stream states and stream-id ordering (section 5.1), both concurrency
//! limits (5.1.2), SETTINGS in both directions (6.5; ours take effect when acknowledged),
//! flow control (5.2, 6.9) with a WINDOW_UPDATE policy, field validation (8.2, 8.3) and
//! content-length (8.1.1), HPACK errors as COMPRESSION_ERROR, GOAWAY both ways (6.8), and
//! bounds on what a peer can make us do (see [`Config`]): rapid reset (CVE-2023-44487) and
//! reset-provoking streams, CONTINUATION floods, and floods of frames that need a reply.
//!
//! What it deliberately does not do: sockets, time (SETTINGS and PING timeouts are the
//! driver's: it knows when it sent them), priority scheduling (PRIORITY frames are ignored),
//! server push (never sent; a client refuses PUSH_PROMISE), the extended CONNECT protocol, and
//! buffering of unsent DATA (`send_data` takes what the windows allow and says how much).
//!
//! # Flow control
//!
//! Received DATA counts against the stream's and the connection's receive windows; the
//! application returns credit with [`Connection::release_received`] as it consumes the bytes.
//! A WINDOW_UPDATE goes out once released credit reaches half of the window's configured size
//! (stream: [`Config::initial_window_size`], connection: [`Config::connection_window_size`]),
//! so a peer sending steadily never stalls and updates stay rare. Padding, and DATA the
//! connection drops (on reset or refused streams), is released at once.
//!
//! # Limits
//!
//! - Reset debt: every stream the peer opens and then resets before we finished it, every
//!   stream we refuse (REFUSED_STREAM) and every stream error we answer adds one; every stream
//!   that completes normally takes one off. Above [`Config::max_reset_debt`] (default 200) the
//!   connection ends with GOAWAY ENHANCE_YOUR_CALM. A legitimate client cancelling some of many
//!   requests never gets there; a rapid-reset attacker does after 200 streams.
//! - Replies owed: control frames `receive` queued (SETTINGS ACK, PING ACK, RST_STREAM) since
//!   the last [`Connection::take_output`]; above [`Config::max_pending_replies`] (default 1024)
//!   the connection ends with ENHANCE_YOUR_CALM.
//! - Field blocks: at most [`Config::max_header_block`] bytes (default 64 KiB, checked on frame
//!   headers by the frame decoder) and at most [`MAX_CONTINUATIONS`] CONTINUATION frames each;
//!   either past: ENHANCE_YOUR_CALM.
//!
//! # Example: a request and its response, between two connections in memory
//!
//! ```
//! use hawser_http2::{Config, Connection, Event, Field, RequestHead, Side};
//!
//! let mut client = Connection::new(Side::Client, Config::default());
//! let mut server = Connection::new(Side::Server, Config::default());
//! let id = client.send_request(&RequestHead::new("GET", "https", "example.com", "/"), true)?;
//!
//! server.receive(&mut client.take_output())?;
//! while let Some(event) = server.poll_event() {
//!     if let Event::Request { stream, head, .. } = event {
//!         assert_eq!(head.path.as_deref(), Some(&b"/"[..]));
//!         server.send_response(stream, 200, &[Field::new("content-type", "text/plain")], false)?;
//!         server.send_data(stream, b"hello", true)?;
//!     }
//! }
//!
//! client.receive(&mut server.take_output())?;
//! let events: Vec<Event> = std::iter::from_fn(|| client.poll_event()).collect();
//! assert!(events.iter().any(|e| matches!(e, Event::Response { status: 200, .. })));
//! assert!(events.iter().any(|e| matches!(e, Event::Data { stream, data, end_stream: true }
//!     if *stream == id && data == "hello")));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod event;
mod flow;
mod recv;
mod send;

pub(crate) mod fields;
pub(crate) mod stream;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, VecDeque};

use bytes::{Bytes, BytesMut};

use crate::{
    DEFAULT_INITIAL_WINDOW_SIZE, DEFAULT_MAX_FRAME_SIZE, Decoder, ErrorCode, GoAway, RstStream,
    Settings, StreamId, Window, WindowUpdate,
};
pub use event::{ConnectionError, Event, SendError};
use stream::{ClosedRing, Stream, StreamState};

/// The most CONTINUATION frames one field block may use.
pub const MAX_CONTINUATIONS: u32 = 128;

/// Which end of the connection this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// Opens streams (odd ids), sends requests.
    Client,
    /// Accepts streams, sends responses.
    Server,
}

/// Local settings and limits. Values are sent in our SETTINGS frame where a setting exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// SETTINGS_MAX_CONCURRENT_STREAMS: streams the peer may have open at once; more are
    /// refused with REFUSED_STREAM. Default 100. Until the peer acknowledged our SETTINGS (it
    /// cannot know this limit before), a lower limit is raised to 100 for its streams.
    pub max_concurrent_streams: u32,
    /// SETTINGS_INITIAL_WINDOW_SIZE: each stream's receive window. Default 256 KiB.
    pub initial_window_size: u32,
    /// The connection's receive window (raised from 65535 with a WINDOW_UPDATE at start).
    /// Default 1 MiB.
    pub connection_window_size: u32,
    /// SETTINGS_MAX_FRAME_SIZE: the largest frame payload we accept. Default 16384.
    pub max_frame_size: u32,
    /// SETTINGS_MAX_HEADER_LIST_SIZE: the largest decoded field section we accept (name +
    /// value + 32 per field); a larger one is [`Event::HeadersTooLarge`]. Default 16 KiB.
    pub max_header_list_size: u32,
    /// SETTINGS_HEADER_TABLE_SIZE for the peer's encoder, and the cap on our own encoder's
    /// table. Default 4096.
    pub header_table_size: u32,
    /// The largest field block (HPACK bytes over HEADERS and CONTINUATION). Default 64 KiB.
    pub max_header_block: usize,
    /// See the module docs' "Limits". Default 200.
    pub max_reset_debt: u32,
    /// See the module docs' "Limits". Default 1024.
    pub max_pending_replies: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_concurrent_streams: 100,
            initial_window_size: 256 * 1024,
            connection_window_size: 1024 * 1024,
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
            max_header_list_size: 16 * 1024,
            header_table_size: 4096,
            max_header_block: crate::DEFAULT_MAX_HEADER_BLOCK,
            max_reset_debt: 200,
            max_pending_replies: 1024,
        }
    }
}

/// A protocol violation found while processing a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    Conn(ErrorCode, &'static str),
    Stream(StreamId, ErrorCode, &'static str),
}

/// The peer's settings as they apply to what we send.
#[derive(Debug, Clone, Copy)]
struct PeerSettings {
    max_concurrent_streams: u32,
    initial_window_size: u32,
    max_frame_size: u32,
    max_header_list_size: u32,
}

/// A field block whose CONTINUATIONs are still arriving.
#[derive(Debug)]
struct PendingBlock {
    stream: StreamId,
    end_stream: bool,
    buf: BytesMut,
    continuations: u32,
}

/// One side of one HTTP/2 connection. See the module docs.
#[derive(Debug)]
pub struct Connection {
    side: Side,
    config: Config,
    decoder: Decoder,
    hpack_dec: hawser_hpack::Decoder,
    hpack_enc: hawser_hpack::Encoder,
    out: BytesMut,
    events: VecDeque<Event>,
    streams: BTreeMap<StreamId, Stream>,
    closed: ClosedRing,
    next_local_id: StreamId,
    /// The highest stream id the peer has used (0: none).
    last_peer_id: StreamId,
    peer: PeerSettings,
    /// Whether the peer acknowledged our SETTINGS.
    settings_acked: bool,
    /// Receive window of new streams: the larger of ours and the default until acknowledged.
    recv_initial: u32,
    conn_send: Window,
    conn_recv: Window,
    conn_unreleased: u64,
    conn_pending_update: u32,
    block: Option<PendingBlock>,
    goaway_sent: Option<StreamId>,
    goaway_received: Option<StreamId>,
    failed: Option<ConnectionError>,
    pending_replies: u32,
    reset_debt: u32,
}

impl Connection {
    /// A connection that has queued its preface: the client magic (client side) and our
    /// SETTINGS, and a connection WINDOW_UPDATE when [`Config::connection_window_size`] is
    /// above 65535.
    ///
    /// # Panics
    /// If the config breaks a protocol bound: `max_frame_size` outside 16384..=16777215, or a
    /// window size above 2^31-1.
    pub fn new(side: Side, config: Config) -> Connection {
        assert!(
            (crate::MIN_MAX_FRAME_SIZE..=crate::MAX_MAX_FRAME_SIZE)
                .contains(&config.max_frame_size),
            "max_frame_size must be within 16384..=16777215"
        );
        assert!(
            config.initial_window_size <= crate::MAX_WINDOW_SIZE
                && config.connection_window_size <= crate::MAX_WINDOW_SIZE,
            "window sizes must be at most 2^31-1"
        );
        let mut decoder = match side {
            Side::Client => Decoder::client(),
            Side::Server => Decoder::server(),
        };
        decoder.set_max_header_block(config.max_header_block);
        let mut hpack_dec = hawser_hpack::Decoder::default();
        hpack_dec.set_max_header_list_size(config.max_header_list_size as usize);
        let mut hpack_enc = hawser_hpack::Encoder::default();
        hpack_enc.set_table_size_cap(config.header_table_size as usize);
        let mut out = BytesMut::new();
        if side == Side::Client {
            out.extend_from_slice(crate::PREFACE);
        }
        Settings {
            header_table_size: Some(config.header_table_size),
            enable_push: (side == Side::Client).then_some(false),
            max_concurrent_streams: Some(config.max_concurrent_streams),
            initial_window_size: Some(config.initial_window_size),
            max_frame_size: Some(config.max_frame_size),
            max_header_list_size: Some(config.max_header_list_size),
            ..Settings::default()
        }
        .encode(&mut out);
        let mut conn_recv = Window::default();
        if let Some(extra) = config
            .connection_window_size
            .checked_sub(DEFAULT_INITIAL_WINDOW_SIZE)
            .filter(|&n| n > 0)
        {
            WindowUpdate::new(0, extra).encode(&mut out);
            conn_recv = Window::new(config.connection_window_size);
        }
        Connection {
            side,
            config,
            decoder,
            hpack_dec,
            hpack_enc,
            out,
            events: VecDeque::new(),
            streams: BTreeMap::new(),
            closed: ClosedRing::default(),
            next_local_id: if side == Side::Client { 1 } else { 2 },
            last_peer_id: 0,
            peer: PeerSettings {
                max_concurrent_streams: u32::MAX,
                initial_window_size: DEFAULT_INITIAL_WINDOW_SIZE,
                max_frame_size: DEFAULT_MAX_FRAME_SIZE,
                max_header_list_size: u32::MAX,
            },
            settings_acked: false,
            recv_initial: config.initial_window_size.max(DEFAULT_INITIAL_WINDOW_SIZE),
            conn_send: Window::default(),
            conn_recv,
            conn_unreleased: 0,
            conn_pending_update: 0,
            block: None,
            goaway_sent: None,
            goaway_received: None,
            failed: None,
            pending_replies: 0,
            reset_debt: 0,
        }
    }

    /// Which side this is.
    pub fn side(&self) -> Side {
        self.side
    }

    /// The next event, if any. Drain after every [`Connection::receive`].
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Everything queued for the peer since the last call; write it all, in order.
    pub fn take_output(&mut self) -> BytesMut {
        self.pending_replies = 0;
        self.out.split()
    }

    /// Bytes queued for the peer.
    pub fn output_len(&self) -> usize {
        self.out.len()
    }

    /// The RFC 9113 state of a stream (streams we no longer track read `Closed`; ids not yet
    /// used read `Idle`).
    pub fn stream_state(&self, stream: StreamId) -> StreamState {
        match self.streams.get(&stream) {
            Some(s) => s.state(),
            None if self.is_idle(stream) => StreamState::Idle,
            None => StreamState::Closed,
        }
    }

    /// Streams open or half-closed.
    pub fn active_streams(&self) -> usize {
        self.streams.len()
    }

    /// Bytes [`Connection::send_data`] could send on `stream` now: the smaller of its window
    /// and the connection's; 0 when it cannot send DATA.
    pub fn send_capacity(&self, stream: StreamId) -> usize {
        match self.streams.get(&stream) {
            Some(s) if s.local_head && !s.local_end && self.failed.is_none() => {
                s.send.available().min(self.conn_send.available()) as usize
            }
            _ => 0,
        }
    }

    /// Credit the peer still has on the connection receive window.
    pub fn local_flow_control_window(&self) -> i64 {
        self.conn_recv.size()
    }

    /// Whether the connection is finished: it failed, or GOAWAY went either way and no stream
    /// is left. Write the output, then close.
    pub fn is_closed(&self) -> bool {
        self.failed.is_some()
            || ((self.goaway_sent.is_some() || self.goaway_received.is_some())
                && self.streams.is_empty())
    }

    /// The connection error that ended the connection, if any.
    pub fn error(&self) -> Option<ConnectionError> {
        self.failed
    }

    /// Whether the id belongs to the peer's side.
    fn is_peer_id(&self, id: StreamId) -> bool {
        (id % 2 == 1) == (self.side == Side::Server)
    }

    /// Whether the stream id has not been used yet by the side that owns it.
    fn is_idle(&self, id: StreamId) -> bool {
        if id == 0 {
            return false;
        }
        if self.is_peer_id(id) {
            id > self.last_peer_id
        } else {
            id >= self.next_local_id
        }
    }

    /// Queues a control frame that `receive` owes the peer, within the bound.
    fn reply(&mut self, write: impl FnOnce(&mut BytesMut)) -> Result<(), Fault> {
        self.pending_replies += 1;
        if self.pending_replies > self.config.max_pending_replies {
            return Err(Fault::Conn(
                ErrorCode::EnhanceYourCalm,
                "too many replies owed",
            ));
        }
        write(&mut self.out);
        Ok(())
    }

    /// Adds to the reset debt (see the module docs).
    fn add_reset_debt(&mut self) -> Result<(), Fault> {
        self.reset_debt += 1;
        if self.reset_debt > self.config.max_reset_debt {
            return Err(Fault::Conn(
                ErrorCode::EnhanceYourCalm,
                "too many stream resets",
            ));
        }
        Ok(())
    }

    /// Answers a stream error: RST_STREAM (unless the stream is idle), the stream forgotten.
    fn stream_error(&mut self, id: StreamId, code: ErrorCode) -> Result<(), Fault> {
        if !self.is_idle(id) {
            self.reply(|out| RstStream::new(id, code).encode(out))?;
        }
        if let Some(s) = self.streams.remove(&id) {
            self.closed.push(id, stream::Closed::ResetByUs);
            if s.surfaced {
                self.events.push_back(Event::Reset {
                    stream: id,
                    code,
                    remote: false,
                });
            }
        }
        if self.is_peer_id(id) {
            self.add_reset_debt()?;
        }
        Ok(())
    }

    /// Ends the connection: GOAWAY queued, every later call fails.
    fn fail(&mut self, code: ErrorCode, reason: &'static str) -> ConnectionError {
        if let Some(e) = self.failed {
            return e;
        }
        let e = ConnectionError { code, reason };
        GoAway {
            last_stream_id: self.last_peer_id,
            code,
            debug_data: Bytes::from_static(reason.as_bytes()),
        }
        .encode(&mut self.out);
        self.failed = Some(e);
        self.goaway_sent = Some(self.last_peer_id);
        e
    }

    /// Handles a fault: a stream error answered (possibly turning into a connection error),
    /// or the connection ended.
    fn fault(&mut self, f: Fault) -> Result<(), ConnectionError> {
        let f = match f {
            Fault::Stream(id, code, _) => match self.stream_error(id, code) {
                Ok(()) => return Ok(()),
                Err(f) => f,
            },
            f => f,
        };
        match f {
            Fault::Conn(code, reason) | Fault::Stream(_, code, reason) => {
                Err(self.fail(code, reason))
            }
        }
    }

    /// Removes a stream both ends have finished.
    fn close_if_done(&mut self, id: StreamId) {
        if self
            .streams
            .get(&id)
            .is_some_and(|s| s.local_end && s.remote_end)
        {
            if let Some(s) = self.streams.remove(&id)
                && s.peer_opened
            {
                self.reset_debt = self.reset_debt.saturating_sub(1);
            }
            self.closed.push(id, stream::Closed::Ended);
        }
    }
}
