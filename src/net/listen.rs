//! Listener construction with `SO_REUSEPORT` and a deep accept queue.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{FromRawFd, IntoRawFd};

use socket2::{Domain, Protocol, Socket, Type};

/// Accept-queue depth asked of the kernel; it caps the value at
/// `net.core.somaxconn` (see tuning/README.md).
const BACKLOG: i32 = 4096;

/// Binds a non-blocking std listener with `SO_REUSEPORT` and `SO_REUSEADDR`.
///
/// # Errors
/// Returns the OS error when the socket cannot be created or bound.
pub fn bind_std_reuseport(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    let domain = if addr.is_ipv6() {
        Domain::IPV6
    } else {
        Domain::IPV4
    };
    let sock = Socket::new(domain, Type::STREAM, Some(Protocol::TCP))?;
    sock.set_reuse_address(true)?;
    sock.set_reuse_port(true)?;
    if addr.is_ipv6() {
        sock.set_only_v6(true)?;
    }
    sock.set_nodelay(true)?;
    sock.bind(&addr.into())?;
    sock.listen(BACKLOG)?;
    sock.set_nonblocking(true)?;
    Ok(sock.into())
}

/// Binds a glommio listener for the calling shard.
///
/// Must be called from inside a glommio executor.
///
/// # Errors
/// Returns the OS error when the socket cannot be created or bound.
pub fn bind_reuseport(addr: SocketAddr) -> io::Result<glommio::net::TcpListener> {
    let std_listener = bind_std_reuseport(addr)?;
    let fd = std_listener.into_raw_fd();
    // SAFETY: `fd` was just released by `into_raw_fd` from a listening TCP
    // socket we own, so nothing else will close or use it; glommio takes
    // sole ownership and closes it on drop.
    Ok(unsafe { glommio::net::TcpListener::from_raw_fd(fd) })
}
