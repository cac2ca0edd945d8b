//! The plumbing between two HTTP/2 connections on one shard: a [`Conn`] is one connection
//! (downstream or upstream) shared by its I/O task and the streams linked through it, and a
//! [`Link`] ties one of its streams to a stream of another connection. What arrives on a stream
//! (DATA, trailers) is queued on its link and [`pump`]ed to the peer stream as the peer's flow
//! control windows allow; only bytes the peer took are released on the receiving side, so a
//! slow reader on one leg slows the writer on the other (backpressure through both windows,
//! never more than one receive window buffered per stream).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::rc::Rc;
use std::task::Waker;

use bytes::Bytes;
use hawser_http2::{Connection, ErrorCode, Field, StreamId, StreamState};

use crate::client::InFlight;
use crate::telemetry::{ClientStats, Outcome, ServiceStats};

/// One HTTP/2 connection on this shard.
pub(crate) struct Conn {
    /// The protocol state.
    pub conn: RefCell<Connection>,
    /// The streams whose events go somewhere.
    pub links: RefCell<foldhash::HashMap<StreamId, Link>>,
    /// Set when another connection queued output here: the I/O task should write.
    notified: Cell<bool>,
    waker: Cell<Option<Waker>>,
    /// The connection is finished (socket closed or failed).
    pub closed: Cell<bool>,
    /// The peer sent GOAWAY: no new streams here.
    pub going_away: Cell<bool>,
    /// Upstream connections: the endpoint.
    pub addr: Option<SocketAddr>,
    /// Downstream connections: the client's address (for the recent requests).
    pub remote: Cell<Option<SocketAddr>>,
    /// When the connection last had no streams (for the pool's idle sweep).
    pub idle_since: Cell<Option<std::time::Instant>>,
}

impl Conn {
    pub fn new(conn: Connection, addr: Option<SocketAddr>) -> Rc<Conn> {
        Rc::new(Conn {
            conn: RefCell::new(conn),
            links: RefCell::new(foldhash::HashMap::default()),
            notified: Cell::new(false),
            waker: Cell::new(None),
            closed: Cell::new(false),
            going_away: Cell::new(false),
            addr,
            remote: Cell::new(None),
            idle_since: Cell::new(Some(crate::runtime::exec::now())),
        })
    }

    /// Tells the I/O task there is output to write.
    pub fn notify(&self) {
        self.notified.set(true);
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }

    /// For the I/O task: true (and cleared) when notified; else registers `waker`.
    pub fn take_notified(&self, waker: &Waker) -> bool {
        if self.notified.replace(false) {
            return true;
        }
        self.waker.set(Some(waker.clone()));
        false
    }

    /// Whether a new upstream stream may go here.
    pub fn usable(&self) -> bool {
        !self.closed.get() && !self.going_away.get() && !self.conn.borrow().is_closed()
    }
}

/// What arrived on a stream and waits for the peer stream.
pub(crate) enum Piece {
    Data(Bytes, bool),
    Trailers(Vec<Field>),
}

/// A downstream stream's bookkeeping: its counters and how it went.
pub(crate) struct Exchange {
    pub started: std::time::Instant,
    pub stats: Rc<ServiceStats>,
    pub status: Cell<Option<u16>>,
    pub by_proxy: Cell<bool>,
}

impl Drop for Exchange {
    fn drop(&mut self) {
        let outcome = self.status.get().map_or(Outcome::None, Outcome::Status);
        let took = crate::runtime::exec::now().saturating_duration_since(self.started);
        self.stats.record(outcome, self.by_proxy.get(), took);
    }
}

/// An upstream stream's bookkeeping: the endpoint's load count and the client's counters.
pub(crate) struct Upstream {
    pub inflight: InFlight,
    pub client: Rc<ClientStats>,
    pub failed: Cell<bool>,
}

impl Upstream {
    /// Counts the stream's outcome for failure accrual.
    pub fn accrue(&self, ok: bool, accrual: Option<&crate::client::Accrual>) {
        self.inflight
            .endpoint()
            .record(ok, accrual, crate::runtime::exec::now());
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.client.record(self.failed.get());
    }
}

/// One stream's link to its peer stream.
pub(crate) struct Link {
    /// The peer stream, once known (a downstream stream is linked once it is routed).
    pub peer: Option<(Rc<Conn>, StreamId)>,
    /// Received, not yet taken by the peer stream.
    pub queue: VecDeque<Piece>,
    /// Downstream streams: a response (head) was sent.
    pub responded: bool,
    /// Downstream streams: counters, recorded when the link goes.
    pub exchange: Option<Rc<Exchange>>,
    /// Upstream streams: load and client counters.
    pub upstream: Option<Upstream>,
    /// The event that ended the peer's side of this stream was seen. The connection may know
    /// the stream is closed before its events are dispatched, so a link goes only after this.
    pub remote_done: bool,
}

impl Link {
    pub fn new() -> Link {
        Link {
            peer: None,
            queue: VecDeque::new(),
            responded: false,
            exchange: None,
            upstream: None,
            remote_done: false,
        }
    }
}

/// Moves what waits on `from`'s stream `sid` to its peer stream, as far as the peer's windows
/// allow, releasing what was taken on `from`. Wakes both I/O tasks when something moved.
pub(crate) fn pump(from: &Rc<Conn>, sid: StreamId) {
    let Some((peer, psid)) = from.links.borrow().get(&sid).and_then(|l| l.peer.clone()) else {
        return;
    };
    let mut moved = false;
    let mut failed = false;
    loop {
        let Some(piece) = from
            .links
            .borrow_mut()
            .get_mut(&sid)
            .and_then(|l| l.queue.pop_front())
        else {
            break;
        };
        match piece {
            Piece::Data(data, end) => {
                let taken = peer.conn.borrow_mut().send_data(psid, &data, end);
                match taken {
                    Ok(n) => {
                        if n > 0 {
                            from.conn.borrow_mut().release_received(sid, n);
                        }
                        moved |= n > 0 || (end && n == data.len());
                        if n < data.len() || (end && n != data.len()) {
                            let rest = data.slice(n..);
                            if let Some(l) = from.links.borrow_mut().get_mut(&sid) {
                                l.queue.push_front(Piece::Data(rest, end));
                            }
                            break;
                        }
                    }
                    Err(_) => {
                        failed = true;
                        from.conn.borrow_mut().release_received(sid, data.len());
                        break;
                    }
                }
            }
            Piece::Trailers(fields) => {
                moved = true;
                if peer.conn.borrow_mut().send_trailers(psid, &fields).is_err() {
                    failed = true;
                    break;
                }
            }
        }
    }
    if failed {
        // The peer stream is gone or cannot take this: abandon both.
        reset_pair(from, sid, ErrorCode::Cancel);
        return;
    }
    if moved {
        peer.notify();
        from.notify();
        collect(&peer, psid);
        collect(from, sid);
    }
}

/// Forgets `sid`'s link once its stream is closed and nothing waits on it.
pub(crate) fn collect(c: &Rc<Conn>, sid: StreamId) {
    if c.conn.borrow().stream_state(sid) != StreamState::Closed {
        return;
    }
    let done = c
        .links
        .borrow()
        .get(&sid)
        .is_some_and(|l| l.remote_done && l.queue.is_empty());
    if done {
        let link = c.links.borrow_mut().remove(&sid);
        drop(link);
        if c.links.borrow().is_empty() {
            c.idle_since.set(Some(crate::runtime::exec::now()));
        }
    }
}

/// Resets `sid` on `c` with `code` and its peer stream with CANCEL, and forgets both links.
pub(crate) fn reset_pair(c: &Rc<Conn>, sid: StreamId, code: ErrorCode) {
    let link = c.links.borrow_mut().remove(&sid);
    c.conn.borrow_mut().reset(sid, code);
    c.notify();
    if let Some((peer, psid)) = link.and_then(|l| l.peer) {
        peer.links.borrow_mut().remove(&psid);
        peer.conn.borrow_mut().reset(psid, ErrorCode::Cancel);
        peer.notify();
    }
}
