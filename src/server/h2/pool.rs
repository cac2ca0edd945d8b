//! Upstream HTTP/2 connections of one router on one shard: multiplexed, so requests from every
//! downstream connection share them. A connection is used while it is open, has not received
//! GOAWAY and has room under the peer's concurrency limit; otherwise another is opened (at most
//! [`MAX_PER_ENDPOINT`] per endpoint). Connections without streams for the pool's idle time
//! are closed with GOAWAY by [`H2Pool::sweep`].

use std::cell::{Cell, RefCell};
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use hawser_http2::{Config, Connection, ErrorCode, Side};

use super::link::Conn;
use crate::net::TcpStream;

/// Most upstream HTTP/2 connections per endpoint and shard.
pub const MAX_PER_ENDPOINT: usize = 16;

/// A connect in progress: later requests for the same endpoint wait for it instead of opening
/// connections of their own (a burst of first requests would otherwise open one each).
#[derive(Default)]
struct Connecting {
    /// `Some` once the connect ended: `None` inside when it succeeded, else its error.
    outcome: RefCell<Option<Option<(io::ErrorKind, String)>>>,
    waiters: RefCell<Vec<std::task::Waker>>,
}

impl Connecting {
    fn finish(&self, error: Option<&io::Error>) {
        *self.outcome.borrow_mut() = Some(error.map(|e| (e.kind(), e.to_string())));
        for w in self.waiters.borrow_mut().drain(..) {
            w.wake();
        }
    }

    /// Waits for the connect; its error, if it failed (the waiters fail with it rather than
    /// each trying again).
    async fn wait(&self) -> io::Result<()> {
        std::future::poll_fn(|cx| match &*self.outcome.borrow() {
            Some(None) => std::task::Poll::Ready(Ok(())),
            Some(Some((kind, msg))) => {
                std::task::Poll::Ready(Err(io::Error::new(*kind, msg.clone())))
            }
            None => {
                self.waiters.borrow_mut().push(cx.waker().clone());
                std::task::Poll::Pending
            }
        })
        .await
    }
}

/// Ends a connect in progress however the connecting task ends (also if it is dropped).
struct ConnectGuard<'a> {
    pool: &'a H2Pool,
    addr: SocketAddr,
    pending: Rc<Connecting>,
    error: Option<io::Error>,
}

impl Drop for ConnectGuard<'_> {
    fn drop(&mut self) {
        self.pool.connecting.borrow_mut().remove(&self.addr);
        self.pending.finish(self.error.as_ref());
    }
}

/// One router's upstream HTTP/2 connections on one shard.
pub struct H2Pool {
    conns: RefCell<foldhash::HashMap<SocketAddr, Vec<Rc<Conn>>>>,
    connecting: RefCell<foldhash::HashMap<SocketAddr, Rc<Connecting>>>,
    config: Config,
    connect_timeout: Duration,
    idle_timeout: Duration,
    connects: Cell<u64>,
}

impl H2Pool {
    pub fn new(config: Config, connect_timeout: Duration, idle_timeout: Duration) -> H2Pool {
        H2Pool {
            conns: RefCell::new(foldhash::HashMap::default()),
            connecting: RefCell::new(foldhash::HashMap::default()),
            config,
            connect_timeout,
            idle_timeout,
            connects: Cell::new(0),
        }
    }

    /// Connections opened so far.
    pub fn connects(&self) -> u64 {
        self.connects.get()
    }

    /// A connection to `addr` with room for a stream (other than `full`, which refused one),
    /// opening one when none has room.
    ///
    /// # Errors
    /// The connect error, `TimedOut`, or `Other` when `addr` already has
    /// [`MAX_PER_ENDPOINT`] connections and none has room.
    pub(crate) async fn get(
        &self,
        addr: SocketAddr,
        full: Option<&Rc<Conn>>,
        spawn: impl FnOnce(Rc<Conn>, TcpStream),
    ) -> io::Result<Rc<Conn>> {
        // Someone is connecting to this endpoint: wait for that connection, then look again.
        let pending = self.connecting.borrow().get(&addr).cloned();
        if let Some(p) = pending {
            p.wait().await?;
        }
        {
            let mut conns = self.conns.borrow_mut();
            let list = conns.entry(addr).or_default();
            list.retain(|c| !c.closed.get());
            if let Some(c) = list
                .iter()
                .find(|c| c.usable() && full.is_none_or(|f| !Rc::ptr_eq(c, f)))
            {
                return Ok(c.clone());
            }
            if list.len() >= MAX_PER_ENDPOINT {
                return Err(io::Error::other(format!(
                    "{MAX_PER_ENDPOINT} HTTP/2 connections to {addr} are all busy"
                )));
            }
        }
        self.connects.set(self.connects.get() + 1);
        let pending = Rc::new(Connecting::default());
        self.connecting.borrow_mut().insert(addr, pending.clone());
        let mut guard = ConnectGuard {
            pool: self,
            addr,
            pending,
            error: None,
        };
        let stream = match TcpStream::connect_timeout(addr, self.connect_timeout).await {
            Ok(s) => s,
            Err(e) => {
                let copy = io::Error::new(e.kind(), e.to_string());
                guard.error = Some(e);
                return Err(copy);
            }
        };
        stream.set_nodelay(true).ok();
        let conn = Conn::new(Connection::new(Side::Client, self.config), Some(addr));
        spawn(conn.clone(), stream);
        self.conns
            .borrow_mut()
            .entry(addr)
            .or_default()
            .push(conn.clone());
        drop(guard);
        Ok(conn)
    }

    /// Closes connections idle past the idle time and forgets finished ones.
    pub fn sweep(&self, now: Instant) {
        let timeout = self.idle_timeout;
        self.conns.borrow_mut().retain(|_, list| {
            list.retain(|c| {
                if c.closed.get() {
                    return false;
                }
                let idle = c.links.borrow().is_empty() && c.conn.borrow().active_streams() == 0;
                if !idle {
                    c.idle_since.set(None);
                    return true;
                }
                let since = c.idle_since.get().unwrap_or(now);
                c.idle_since.set(Some(since));
                if now.saturating_duration_since(since) >= timeout {
                    c.conn.borrow_mut().go_away(ErrorCode::NoError, b"idle");
                    c.going_away.set(true);
                    c.notify();
                    return false;
                }
                true
            });
            !list.is_empty()
        });
    }
}
