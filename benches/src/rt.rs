//! The generator's and the backend's runtime: hawser's own thread-per-core executor (one io_uring
//! per pinned thread, `DEFER_TASKRUN` where the kernel has it), the same engine the proxy runs on.
//!
//! The harness used glommio 0.9 until session 4. On a box where the generator and the backend
//! share the CPUs the proxy does not get, their cost per request sets the ceiling of every run
//! (the direct one included); glommio's one-shot polls on a ring without `DEFER_TASKRUN` cost
//! about twice what this engine does per socket operation, so the load side, not the proxies,
//! was the bottleneck. The load side should never be what is measured.

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::BytesMut;
use futures_lite::AsyncRead;
pub use hawser::runtime::exec::{Sleep, Task, sleep, spawn_local};

/// A connected TCP stream with `futures` I/O traits (so `futures_lite`'s helpers and `split`
/// work on it) and an optional read timeout.
pub struct TcpStream {
    inner: hawser::net::TcpStream,
    read_timeout: Option<Duration>,
    /// The running read timeout, from the first read that had to wait.
    timer: Option<Sleep>,
}

impl TcpStream {
    /// Connects, failing with `TimedOut` after `timeout`.
    ///
    /// # Errors
    /// The connect error, or `TimedOut`.
    pub async fn connect_timeout(addr: SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
        hawser::net::TcpStream::connect_timeout(addr, timeout)
            .await
            .map(TcpStream::new)
    }

    fn new(inner: hawser::net::TcpStream) -> TcpStream {
        TcpStream {
            inner,
            read_timeout: None,
            timer: None,
        }
    }

    /// A read that waits longer than `timeout` for bytes fails with `TimedOut`.
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) {
        self.read_timeout = timeout;
        self.timer = None;
    }

    /// Sets `TCP_NODELAY`.
    ///
    /// # Errors
    /// The socket's error.
    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.inner.set_nodelay(on)
    }
}

impl futures_lite::AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Poll::Ready(r) = this.inner.poll_read(cx, buf) {
            this.timer = None;
            return Poll::Ready(r);
        }
        let Some(timeout) = this.read_timeout else {
            return Poll::Pending;
        };
        let timer = this.timer.get_or_insert_with(|| sleep(timeout));
        match Pin::new(timer).poll(cx) {
            Poll::Ready(()) => {
                this.timer = None;
                Poll::Ready(Err(io::ErrorKind::TimedOut.into()))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl futures_lite::AsyncWrite for TcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().inner.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.inner.shutdown_write())
    }
}

/// A listening socket (`SO_REUSEPORT`, so each backend shard binds its own).
pub struct TcpListener(hawser::net::TcpListener);

impl TcpListener {
    /// Binds `addr` with `SO_REUSEPORT`.
    ///
    /// # Errors
    /// The bind or listen error.
    pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
        hawser::net::bind_reuseport(addr).map(TcpListener)
    }

    /// The next connection.
    ///
    /// # Errors
    /// The accept error.
    pub async fn accept(&self) -> io::Result<TcpStream> {
        self.0.accept().await.map(|(s, _)| TcpStream::new(s))
    }
}

thread_local! {
    /// Every read lands here first and only its bytes are appended to the caller's buffer (no
    /// zero-filling of a fresh read window per read).
    static SCRATCH: RefCell<Box<[u8]>> = RefCell::new(vec![0; 32 * 1024].into_boxed_slice());
}

/// Reads once and appends what came to `buf`; `Ok(0)` is end of stream.
///
/// # Errors
/// The read's error.
pub async fn read_buf<R: AsyncRead + Unpin>(r: &mut R, buf: &mut BytesMut) -> io::Result<usize> {
    std::future::poll_fn(|cx| {
        SCRATCH.with(|s| {
            let mut s = s.borrow_mut();
            let r = Pin::new(&mut *r).poll_read(cx, &mut s[..]);
            if let Poll::Ready(Ok(n)) = r {
                buf.extend_from_slice(&s[..n]);
            }
            r
        })
    })
    .await
}

/// Starts a thread named `name` pinned to `cpu` that runs `make()`'s future on a fresh executor
/// until it completes (tasks it spawned and left are cancelled then).
///
/// # Errors
/// When the thread cannot be started; pinning or ring set-up failing is the future's `Err`
/// through the handle (as a string).
pub fn spawn_pinned<F, Fut, T>(
    cpu: usize,
    name: &str,
    make: F,
) -> io::Result<JoinHandle<Result<T, String>>>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = T> + 'static,
    T: Send + 'static,
{
    std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            pin_to_cpu(cpu).map_err(|e| format!("pin to CPU {cpu}: {e}"))?;
            hawser::runtime::exec::run(make()).map_err(|e| format!("io_uring on CPU {cpu}: {e}"))
        })
}

fn pin_to_cpu(cpu: usize) -> nix::Result<()> {
    let mut set = nix::sched::CpuSet::new();
    set.set(cpu)?;
    nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set)
}
