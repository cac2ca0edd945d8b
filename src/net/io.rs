//! Reading and writing shard streams without per-connection read buffers.
//!
//! [`TcpStream`] reads with a direct `recv` into the slice it is given and
//! waits on the reactor's readiness flags when the socket is empty, so the
//! slice is needed only for the duration of one `poll_read`.
//! That lets every connection of a shard share one scratch buffer: a
//! connection's own `BytesMut` is allocated only while it holds unparsed
//! bytes, and an idle keep-alive connection holds no buffer at all.

use std::cell::RefCell;
use std::future::poll_fn;
use std::io;
use std::task::{Context, Poll};

use super::TcpStream;
use bytes::BytesMut;

/// Size of the shard-wide scratch buffer used for every read.
pub const SCRATCH_SIZE: usize = 64 * 1024;

/// A shard-wide read buffer; never borrowed across an await point.
pub struct Scratch(RefCell<Vec<u8>>);

impl Default for Scratch {
    fn default() -> Self {
        Scratch(RefCell::new(vec![0; SCRATCH_SIZE]))
    }
}

impl Scratch {
    /// Reads once from `stream`, appending what arrived to `buf`.
    /// Returns the number of bytes read; 0 means the peer closed its side.
    ///
    /// # Errors
    /// The socket's error.
    pub async fn read(&self, stream: &mut TcpStream, buf: &mut BytesMut) -> io::Result<usize> {
        self.read_max(stream, buf, SCRATCH_SIZE).await
    }

    /// Like [`Scratch::read`] but reads at most `max` bytes (`max > 0`).
    ///
    /// # Errors
    /// The socket's error.
    pub async fn read_max(
        &self,
        stream: &mut TcpStream,
        buf: &mut BytesMut,
        max: usize,
    ) -> io::Result<usize> {
        poll_fn(|cx| self.poll_read(cx, stream, buf, max)).await
    }

    /// Poll-style [`Scratch::read_max`] for hand-written futures.
    pub fn poll_read(
        &self,
        cx: &mut Context<'_>,
        stream: &mut TcpStream,
        buf: &mut BytesMut,
        max: usize,
    ) -> Poll<io::Result<usize>> {
        let max = max.clamp(1, SCRATCH_SIZE);
        let mut scratch = self.0.borrow_mut();
        match stream.poll_read(cx, &mut scratch[..max]) {
            Poll::Ready(Ok(n)) => {
                buf.extend_from_slice(&scratch[..n]);
                Poll::Ready(Ok(n))
            }
            other => other,
        }
    }
}

/// Writes all of `data`.
///
/// # Errors
/// The socket's error, or `WriteZero` when the peer stopped reading.
pub async fn write_all(stream: &mut TcpStream, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        let n = poll_fn(|cx| stream.poll_write(cx, data)).await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        data = &data[n..];
    }
    Ok(())
}

/// Shuts down the write side (sends FIN) and ignores errors: the peer may be gone.
pub async fn close_write(stream: &mut TcpStream) {
    let _ = stream.shutdown_write();
}
