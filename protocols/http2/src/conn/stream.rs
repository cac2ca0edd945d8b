//! One stream's state as the connection tracks it (RFC 9113 section 5.1): which ends are
//! closed, what HEADERS each side has sent, the two flow-control windows and the receive-side
//! bookkeeping behind the WINDOW_UPDATE policy. Also the bounded memory of recently closed
//! streams that decides how late frames on them are answered.
//!
//! It decides nothing on its own about frames: the connection's receive path does that.

use std::collections::VecDeque;

use crate::{StreamId, Window};

/// A stream's state in the terms of RFC 9113 section 5.1 (`reserved` states never occur:
/// hawser neither pushes nor accepts pushes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamState {
    /// Not yet used (or, for the peer's ids, not yet seen).
    Idle,
    /// Both ends may send.
    Open,
    /// We sent END_STREAM; the peer may still send.
    HalfClosedLocal,
    /// The peer sent END_STREAM; we may still send.
    HalfClosedRemote,
    /// Done: both ends sent END_STREAM, or a RST_STREAM went either way.
    Closed,
}

/// What the peer's HEADERS on this stream have carried so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RemoteHead {
    /// Nothing yet (a client's stream before the response).
    None,
    /// Only 1xx informational responses.
    Informational,
    /// The request (server) or the final response (client): DATA and trailers may follow.
    Final,
}

/// A stream that is open or half-closed. Closed streams leave the map.
#[derive(Debug, Clone)]
pub(crate) struct Stream {
    /// Opened by the peer (a request to this server).
    pub peer_opened: bool,
    /// We sent END_STREAM.
    pub local_end: bool,
    /// The peer sent END_STREAM.
    pub remote_end: bool,
    /// We sent our (final) HEADERS: the request, or the final response.
    pub local_head: bool,
    pub remote_head: RemoteHead,
    /// The application has been told about the stream (a Request, Response or
    /// HeadersTooLarge event), so a reset of it is an event too.
    pub surfaced: bool,
    /// Received DATA is counted and released at once, never surfaced (the header list was too
    /// large; the application answers or resets the stream).
    pub discard: bool,
    /// Credit the peer granted us.
    pub send: Window,
    /// Credit we granted the peer.
    pub recv: Window,
    /// Bytes counted against `recv` that the application has not released yet.
    pub unreleased: u64,
    /// Bytes released but not yet returned with a WINDOW_UPDATE.
    pub pending_update: u32,
    /// The content-length the peer declared, when it must match the DATA (section 8.1.1).
    pub content_length: Option<u64>,
    /// DATA payload bytes received (padding excluded).
    pub received: u64,
    /// A client's request was HEAD: the response's content-length describes no body.
    pub head_request: bool,
}

impl Stream {
    pub fn new(peer_opened: bool, send: u32, recv: u32) -> Self {
        Stream {
            peer_opened,
            local_end: false,
            remote_end: false,
            local_head: false,
            remote_head: RemoteHead::None,
            surfaced: false,
            discard: false,
            send: Window::new(send),
            recv: Window::new(recv),
            unreleased: 0,
            pending_update: 0,
            content_length: None,
            received: 0,
            head_request: false,
        }
    }

    pub fn state(&self) -> StreamState {
        match (self.local_end, self.remote_end) {
            (false, false) => StreamState::Open,
            (true, false) => StreamState::HalfClosedLocal,
            (false, true) => StreamState::HalfClosedRemote,
            (true, true) => StreamState::Closed,
        }
    }
}

/// How a stream that left the map was closed: decides how late frames on it are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Closed {
    /// We sent RST_STREAM: the peer may not know yet; its frames are ignored (section 5.1).
    ResetByUs,
    /// The peer sent RST_STREAM: further frames other than PRIORITY are STREAM_CLOSED.
    ResetByPeer,
    /// Both ends sent END_STREAM.
    Ended,
}

/// The last [`RECENTLY_CLOSED`] closed streams with how they closed. Older closed streams are
/// treated as unknown closed ids (see the receive path).
#[derive(Debug, Clone, Default)]
pub(crate) struct ClosedRing {
    ring: VecDeque<(StreamId, Closed)>,
}

/// How many closed streams are remembered.
pub(crate) const RECENTLY_CLOSED: usize = 256;

impl ClosedRing {
    pub fn push(&mut self, id: StreamId, how: Closed) {
        if self.ring.len() == RECENTLY_CLOSED {
            self.ring.pop_front();
        }
        self.ring.push_back((id, how));
    }

    pub fn get(&self, id: StreamId) -> Option<Closed> {
        self.ring.iter().rev().find(|e| e.0 == id).map(|e| e.1)
    }
}
