//! TCP sockets on the shard's reactor: non-blocking fds registered once for
//! edge-triggered readiness, read and written with direct syscalls.
//!
//! A read or write first consults the readiness flag the reactor keeps for
//! the socket; only `EAGAIN` (or a short read) clears it, and a readiness
//! completion sets it again and wakes the task. Nothing here buffers: the
//! caller's slice is used for the duration of one call only. Connect is a
//! non-blocking `connect` + writable readiness + `SO_ERROR`.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::task::{Context, Poll};
use std::time::Duration;

use socket2::{Domain, Protocol, SockRef, Socket, Type};

use crate::runtime::exec::{Direction, SourceId, sleep, try_with_reactor, with_reactor};

/// A registered socket: closes (after removing its poll) on drop.
struct Registered {
    fd: OwnedFd,
    id: SourceId,
}

impl Registered {
    fn new(fd: OwnedFd, readable: bool, writable: bool) -> Self {
        let id = with_reactor(|r| r.register(fd.as_raw_fd(), readable, writable));
        Registered { fd, id }
    }

    /// Runs the syscall `op` when `dir` is ready, clearing readiness on
    /// `EAGAIN` and waiting for the next readiness event.
    fn poll_io(
        &self,
        cx: &Context<'_>,
        dir: Direction,
        mut op: impl FnMut(RawFd) -> isize,
    ) -> Poll<io::Result<usize>> {
        loop {
            if !with_reactor(|r| r.poll_ready(self.id, dir, cx)) {
                return Poll::Pending;
            }
            let n = op(self.fd.as_raw_fd());
            if n >= 0 {
                return Poll::Ready(Ok(n as usize));
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::WouldBlock => with_reactor(|r| r.clear_ready(self.id, dir)),
                io::ErrorKind::Interrupted => {}
                _ => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        let id = self.id;
        try_with_reactor(|r| r.deregister(id));
        // `fd` closes after this; the ring lets go of the socket when the
        // removal is submitted.
    }
}

/// A connected TCP stream.
pub struct TcpStream {
    inner: Registered,
}

impl TcpStream {
    fn from_fd(fd: OwnedFd, readable: bool, writable: bool) -> Self {
        TcpStream {
            inner: Registered::new(fd, readable, writable),
        }
    }

    /// Connects to `addr`, failing with `TimedOut` after `timeout`.
    ///
    /// # Errors
    /// The connect error, or `TimedOut`.
    pub async fn connect_timeout(addr: SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
        let domain = if addr.is_ipv6() {
            Domain::IPV6
        } else {
            Domain::IPV4
        };
        let sock = Socket::new(
            domain,
            Type::STREAM.nonblocking().cloexec(),
            Some(Protocol::TCP),
        )?;
        let in_progress = match sock.connect(&addr.into()) {
            Ok(()) => false,
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => true,
            Err(e) => return Err(e),
        };
        // SAFETY: `into_raw_fd` releases the socket we own to the OwnedFd.
        let fd = unsafe { OwnedFd::from_raw_fd(sock.into_raw_fd()) };
        // Nothing can be waiting to be read on a connection we just opened
        // (the poll's arming reports it if so): no speculative first read,
        // and no stale readiness for the pool's liveness check.
        let stream = TcpStream::from_fd(fd, false, !in_progress);
        if in_progress {
            let wait = std::future::poll_fn(|cx| {
                if with_reactor(|r| r.poll_ready(stream.inner.id, Direction::Write, cx)) {
                    Poll::Ready(Ok(()))
                } else {
                    Poll::Pending
                }
            });
            let timer = async {
                sleep(timeout).await;
                Err(io::Error::from(io::ErrorKind::TimedOut))
            };
            futures_lite::future::or(wait, timer).await?;
            if let Some(e) = SockRef::from(&stream.inner.fd).take_error()? {
                return Err(e);
            }
        }
        Ok(stream)
    }

    /// Reads once into `buf`; `Ok(0)` means the peer closed its side.
    pub fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let len = buf.len();
        let r = self.inner.poll_io(cx, Direction::Read, |fd| {
            // SAFETY: `buf` is valid for `len` writable bytes for this call.
            unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), len, 0) }
        });
        if let Poll::Ready(Ok(n)) = r
            && n > 0
            && n < len
        {
            // A short stream read emptied the receive queue: the next read
            // would say EAGAIN, so wait for readiness instead of asking.
            with_reactor(|r| r.clear_ready(self.inner.id, Direction::Read));
        }
        r
    }

    /// Writes once from `buf`; may write less than all of it.
    pub fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.inner.poll_io(cx, Direction::Write, |fd| {
            // SAFETY: `buf` is valid for `buf.len()` bytes for this call;
            // MSG_NOSIGNAL turns a write to a closed peer into EPIPE.
            unsafe { libc::send(fd, buf.as_ptr().cast(), buf.len(), libc::MSG_NOSIGNAL) }
        })
    }

    /// False when the reactor has seen no read-side event (data, FIN,
    /// error) since a read emptied the socket: an idle connection in that
    /// state is clean as of the shard's last kernel entry, without a syscall.
    pub fn read_event_pending(&self) -> bool {
        with_reactor(|r| r.read_pending(self.inner.id))
    }

    /// Shuts down the write side (sends FIN).
    ///
    /// # Errors
    /// The socket's error (e.g. not connected).
    pub fn shutdown_write(&self) -> io::Result<()> {
        SockRef::from(&self.inner.fd).shutdown(std::net::Shutdown::Write)
    }

    /// Sets `TCP_NODELAY`.
    ///
    /// # Errors
    /// The socket's error.
    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        SockRef::from(&self.inner.fd).set_nodelay(on)
    }

    /// The peer's address.
    ///
    /// # Errors
    /// The socket's error.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        SockRef::from(&self.inner.fd)
            .peer_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::other("not an inet socket"))
    }
}

impl AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.fd.as_raw_fd()
    }
}

impl AsFd for TcpStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.fd.as_fd()
    }
}

/// A listening socket registered with the shard's reactor.
pub struct TcpListener {
    inner: Registered,
}

impl TcpListener {
    /// Takes over a bound, listening, non-blocking std listener.
    pub fn from_std(l: std::net::TcpListener) -> Self {
        TcpListener {
            inner: Registered::new(OwnedFd::from(l), true, false),
        }
    }

    /// Accepts the next connection (non-blocking, close-on-exec).
    ///
    /// # Errors
    /// The accept error (e.g. `EMFILE`).
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let mut storage: libc::sockaddr_storage =
            // SAFETY: an all-zero sockaddr_storage is a valid value.
            unsafe { std::mem::zeroed() };
        let fd = std::future::poll_fn(|cx| {
            self.inner.poll_io(cx, Direction::Read, |fd| {
                let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
                // SAFETY: `storage` and `len` describe a writable buffer of
                // the right size; the flags make the new fd non-blocking.
                unsafe {
                    libc::accept4(
                        fd,
                        (&raw mut storage).cast(),
                        &mut len,
                        libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                    ) as isize
                }
            })
        })
        .await?;
        // SAFETY: accept4 returned a fresh descriptor that we now own.
        let fd = unsafe { OwnedFd::from_raw_fd(fd as RawFd) };
        let peer = sockaddr_to_std(&storage).unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
        // A client usually sends its request with (or right after) the
        // handshake: try the first read at once.
        Ok((TcpStream::from_fd(fd, true, true), peer))
    }

    /// The bound address.
    ///
    /// # Errors
    /// The socket's error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        SockRef::from(&self.inner.fd)
            .local_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::other("not an inet socket"))
    }
}

fn sockaddr_to_std(s: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match i32::from(s.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in, which fits in it.
            let a: &libc::sockaddr_in = unsafe { &*(s as *const libc::sockaddr_storage).cast() };
            let ip = std::net::Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
            Some(SocketAddr::from((ip, u16::from_be(a.sin_port))))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says the storage holds a sockaddr_in6, which fits in it.
            let a: &libc::sockaddr_in6 = unsafe { &*(s as *const libc::sockaddr_storage).cast() };
            let ip = std::net::Ipv6Addr::from(a.sin6_addr.s6_addr);
            Some(SocketAddr::V6(std::net::SocketAddrV6::new(
                ip,
                u16::from_be(a.sin6_port),
                a.sin6_flowinfo,
                a.sin6_scope_id,
            )))
        }
        _ => None,
    }
}
