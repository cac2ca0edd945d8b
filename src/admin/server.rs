//! The admin listener: a thread that accepts connections and one short-lived thread per
//! connection, each answering a single request then closing.
//!
//! Hardening: the head is capped ([`AdminLimits::max_head_bytes`], 431 past it), the whole
//! request must arrive within [`AdminLimits::read_timeout`] (408), writes time out, and at most
//! [`AdminLimits::max_connections`] are served at once (503 beyond, answered by the accept
//! thread). A slow or stuck client therefore costs one small thread for a few seconds and never
//! delays another client. A panicking backend call ends only its connection.

use super::http::{ReadError, Response, read_request};
use super::routes::{After, route};
use super::{AdminBackend, AdminLimits};
use std::io::{self, Read};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How long the accept thread waits in `accept` for a connection before it looks at `stop`
/// again (it bounds how long `stop` takes to be noticed; a connection is accepted as soon as
/// it arrives). The thread shares the shards' CPUs, so it should wake rarely when idle.
const ACCEPT_IDLE: Duration = Duration::from_millis(100);
/// After an accept error other than "nothing waiting" (EMFILE, ECONNABORTED): the pause before
/// trying again, rather than spinning.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(20);
/// Stack of a connection thread: it holds a 16 KiB head buffer and little else.
const CONN_STACK: usize = 256 * 1024;
/// After answering, how long to drain unread request bytes so the close is not a reset that
/// could destroy the response in flight.
const LINGER: Duration = Duration::from_millis(500);

/// Serves the admin endpoints on `listener` with default [`AdminLimits`] until `stop` is set.
///
/// # Errors
/// When the listener cannot be made non-blocking or the thread cannot be spawned.
pub fn spawn_admin(
    listener: TcpListener,
    backend: Arc<dyn AdminBackend>,
    stop: Arc<AtomicBool>,
) -> io::Result<JoinHandle<()>> {
    spawn_admin_with(listener, backend, stop, AdminLimits::default())
}

/// [`spawn_admin`] with explicit limits.
///
/// # Errors
/// When the listener cannot be made non-blocking or the thread cannot be spawned.
pub fn spawn_admin_with(
    listener: TcpListener,
    backend: Arc<dyn AdminBackend>,
    stop: Arc<AtomicBool>,
    limits: AdminLimits,
) -> io::Result<JoinHandle<()>> {
    // A blocking accept that gives up after ACCEPT_IDLE (Linux applies SO_RCVTIMEO to accept):
    // connections are taken as they arrive, and an idle admin thread wakes ten times a second.
    listener.set_nonblocking(false)?;
    socket2::SockRef::from(&listener).set_read_timeout(Some(ACCEPT_IDLE))?;
    thread::Builder::new()
        .name("hawser-admin".to_owned())
        .spawn(move || accept_loop(&listener, &backend, &stop, limits))
}

fn accept_loop(
    listener: &TcpListener,
    backend: &Arc<dyn AdminBackend>,
    stop: &AtomicBool,
    limits: AdminLimits,
) {
    let active = Arc::new(AtomicUsize::new(0));
    while !stop.load(Ordering::Acquire) {
        let stream = match listener.accept() {
            Ok((stream, _peer)) => stream,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // The accept timed out (SO_RCVTIMEO): look at `stop`.
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(_) => {
                thread::sleep(ACCEPT_ERROR_PAUSE);
                continue;
            }
        };
        if stream.set_nonblocking(false).is_err() {
            continue;
        }
        let guard = ActiveGuard::enter(&active);
        if guard.count > limits.max_connections {
            reject_busy(stream, &limits);
            continue;
        }
        let backend = Arc::clone(backend);
        // A failed spawn drops the closure, and with it the stream and the guard.
        let _ = thread::Builder::new()
            .name("hawser-admin-conn".to_owned())
            .stack_size(CONN_STACK)
            .spawn(move || {
                let _guard = guard;
                serve_connection(stream, backend.as_ref(), &limits);
            });
    }
}

/// Counts a connection in while alive.
struct ActiveGuard {
    active: Arc<AtomicUsize>,
    /// The number of connections including this one.
    count: usize,
}

impl ActiveGuard {
    fn enter(active: &Arc<AtomicUsize>) -> Self {
        let count = active.fetch_add(1, Ordering::AcqRel) + 1;
        Self {
            active: Arc::clone(active),
            count,
        }
    }
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.active.fetch_sub(1, Ordering::AcqRel);
    }
}

fn reject_busy(mut stream: TcpStream, limits: &AdminLimits) {
    let _ = stream.set_write_timeout(Some(limits.write_timeout.min(Duration::from_secs(1))));
    let _ = Response::error(503, "too many admin connections").write_to(&mut stream, false);
    let _ = stream.shutdown(Shutdown::Both);
}

fn serve_connection(mut stream: TcpStream, backend: &dyn AdminBackend, limits: &AdminLimits) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_write_timeout(Some(limits.write_timeout));
    let deadline = Instant::now() + limits.read_timeout;
    let (response, head_only, after) = match read_request(&mut stream, limits, deadline) {
        Ok(req) => {
            let (response, after) = route(&req, backend);
            (response, req.method == "HEAD", after)
        }
        Err(ReadError::Closed) => return,
        Err(e) => match e.response() {
            Some(response) => (response, false, After::Nothing),
            None => return,
        },
    };
    let written = response.write_to(&mut stream, head_only);
    if after == After::Shutdown && written.is_ok() {
        backend.shutdown();
    }
    close_gracefully(&mut stream);
}

/// Half-closes, then reads and discards what the client still sends (bounded in bytes and time),
/// so the kernel does not answer unread data with a reset that would discard our response.
fn close_gracefully(stream: &mut TcpStream) {
    if stream.shutdown(Shutdown::Write).is_err() {
        return;
    }
    let deadline = Instant::now() + LINGER;
    let mut sink = [0u8; 4096];
    let mut budget: usize = 1 << 20;
    while budget > 0 {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return;
        }
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => return,
            Ok(n) => budget = budget.saturating_sub(n),
        }
    }
}
