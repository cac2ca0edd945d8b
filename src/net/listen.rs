//! Listener construction with `SO_REUSEPORT` and a deep accept queue.

use std::io;
use std::net::SocketAddr;

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

/// Binds a listener for the calling shard, registered with its reactor.
///
/// Must be called from inside the shard's runtime (`runtime::exec::run`).
///
/// # Errors
/// Returns the OS error when the socket cannot be created or bound.
pub fn bind_reuseport(addr: SocketAddr) -> io::Result<super::TcpListener> {
    Ok(super::TcpListener::from_std(bind_std_reuseport(addr)?))
}
