//! Per-shard upstream connection pool: keep-alive reuse (most recently used
//! first), a cap on idle connections per endpoint, an idle timeout and a
//! connect timeout.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use crate::net::TcpStream;

/// Pool limits, from the router's `client` config.
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    /// Idle connections kept per endpoint (per shard).
    pub max_idle_per_endpoint: usize,
    /// An idle connection older than this is closed.
    pub idle_timeout: Duration,
    /// Connecting longer than this fails the attempt.
    pub connect_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            max_idle_per_endpoint: 64,
            idle_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(3),
        }
    }
}

/// A connection checked out of the pool.
pub struct Upstream {
    /// The connection.
    pub stream: TcpStream,
    /// Where it goes.
    pub addr: SocketAddr,
    /// True when it came from the idle list (so it may have gone stale).
    pub reused: bool,
}

struct Idle {
    stream: TcpStream,
    since: Instant,
}

/// One shard's pool for one router's clients.
pub struct Pool {
    settings: PoolSettings,
    idle: RefCell<foldhash::HashMap<SocketAddr, VecDeque<Idle>>>,
    connects: Cell<u64>,
}

impl Pool {
    /// An empty pool.
    pub fn new(settings: PoolSettings) -> Self {
        Pool {
            settings,
            idle: RefCell::new(foldhash::HashMap::default()),
            connects: Cell::new(0),
        }
    }

    /// Connections opened so far (for tests and metrics).
    pub fn connects(&self) -> u64 {
        self.connects.get()
    }

    /// Idle connections held for `addr`.
    pub fn idle_count(&self, addr: SocketAddr) -> usize {
        self.idle.borrow().get(&addr).map_or(0, VecDeque::len)
    }

    /// A live idle connection to `addr` if one is pooled, else a new one.
    ///
    /// # Errors
    /// The connect error, or `TimedOut` after the connect timeout.
    pub async fn checkout(&self, addr: SocketAddr) -> io::Result<Upstream> {
        if let Some(stream) = self.take_idle(addr) {
            return Ok(Upstream {
                stream,
                addr,
                reused: true,
            });
        }
        self.connect(addr).await
    }

    /// Always opens a new connection (used to retry after a stale reuse).
    ///
    /// # Errors
    /// The connect error, or `TimedOut` after the connect timeout.
    pub async fn connect(&self, addr: SocketAddr) -> io::Result<Upstream> {
        self.connects.set(self.connects.get() + 1);
        let stream = TcpStream::connect_timeout(addr, self.settings.connect_timeout).await?;
        stream.set_nodelay(true).ok();
        Ok(Upstream {
            stream,
            addr,
            reused: false,
        })
    }

    /// Returns a connection that finished a response cleanly.
    pub fn checkin(&self, up: Upstream) {
        let mut idle = self.idle.borrow_mut();
        let list = idle.entry(up.addr).or_default();
        if list.len() >= self.settings.max_idle_per_endpoint {
            return; // dropped: closed
        }
        list.push_back(Idle {
            stream: up.stream,
            since: crate::runtime::exec::now(),
        });
    }

    /// Closes idle connections past the idle timeout.
    pub fn sweep(&self, now: Instant) {
        let timeout = self.settings.idle_timeout;
        let mut idle = self.idle.borrow_mut();
        idle.retain(|_, list| {
            list.retain(|c| now.duration_since(c.since) < timeout);
            !list.is_empty()
        });
    }

    fn take_idle(&self, addr: SocketAddr) -> Option<TcpStream> {
        let mut idle = self.idle.borrow_mut();
        let list = idle.get_mut(&addr)?;
        let now = crate::runtime::exec::now();
        while let Some(c) = list.pop_back() {
            if now.duration_since(c.since) < self.settings.idle_timeout && still_open(&c.stream) {
                return Some(c.stream);
            }
        }
        None
    }
}

/// True when an idle connection has neither been closed by the peer nor
/// received unexpected bytes. The reactor's readiness flags answer without
/// a syscall when nothing arrived since the last read emptied the socket
/// (as of the shard's last kernel entry, which is at most one batch of
/// tasks old); otherwise a non-blocking `MSG_PEEK` tells data and FIN from
/// a stale flag.
fn still_open(stream: &TcpStream) -> bool {
    if !stream.read_event_pending() {
        return true;
    }
    let mut b = [0u8; 1];
    // SAFETY: the fd is owned by `stream` and open; the buffer is valid for
    // one byte; MSG_PEEK|MSG_DONTWAIT neither consumes data nor blocks.
    let n = unsafe {
        libc::recv(
            stream.as_raw_fd(),
            b.as_mut_ptr().cast(),
            1,
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    };
    n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::WouldBlock
}
