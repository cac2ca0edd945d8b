//! Byte tunnel between two connections after an HTTP `Upgrade` (101).
//!
//! One future polls both directions, owning both streams, so neither needs
//! splitting or a lock. Each direction has one buffer; a read in a direction
//! happens only once its previous bytes were all written, which gives
//! backpressure both ways. A FIN in one direction is passed on with a write
//! shutdown; the tunnel ends when both directions have closed or either
//! side fails.

use std::future::poll_fn;
use std::io;
use std::task::{Context, Poll};

use crate::net::TcpStream;

const BUF: usize = 16 * 1024;

struct Half {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    shut: bool,
    carried: u64,
}

impl Half {
    fn new(pending: &[u8]) -> Self {
        let mut buf = vec![0; BUF.max(pending.len())];
        buf[..pending.len()].copy_from_slice(pending);
        Half {
            buf,
            start: 0,
            end: pending.len(),
            eof: false,
            shut: false,
            carried: pending.len() as u64,
        }
    }

    /// Moves bytes from `from` to `to`; Ready(Ok) when this direction is done.
    fn poll(
        &mut self,
        cx: &mut Context<'_>,
        from: &mut TcpStream,
        to: &mut TcpStream,
    ) -> Poll<io::Result<()>> {
        loop {
            if self.start < self.end {
                match to.poll_write(cx, &self.buf[self.start..self.end]) {
                    Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                    Poll::Ready(Ok(n)) => self.start += n,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => return Poll::Pending,
                }
                continue;
            }
            if self.eof {
                if !self.shut {
                    let _ = to.shutdown_write();
                    self.shut = true;
                }
                return Poll::Ready(Ok(()));
            }
            self.start = 0;
            self.end = 0;
            match from.poll_read(cx, &mut self.buf) {
                Poll::Ready(Ok(0)) => self.eof = true,
                Poll::Ready(Ok(n)) => {
                    self.end = n;
                    self.carried += n as u64;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// Copies bytes both ways until both sides close. `to_b` and `to_a` are
/// bytes already read from `a` (for `b`) and from `b` (for `a`).
///
/// Returns the bytes carried (a->b, b->a) including the pending ones.
///
/// # Errors
/// The first socket error in either direction.
pub async fn tunnel(
    a: &mut TcpStream,
    b: &mut TcpStream,
    to_b: &[u8],
    to_a: &[u8],
) -> io::Result<(u64, u64)> {
    let mut ab = Half::new(to_b);
    let mut ba = Half::new(to_a);
    let (mut ab_done, mut ba_done) = (false, false);
    poll_fn(|cx| {
        if !ab_done {
            match ab.poll(cx, a, b) {
                Poll::Ready(Ok(())) => ab_done = true,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {}
            }
        }
        if !ba_done {
            match ba.poll(cx, b, a) {
                Poll::Ready(Ok(())) => ba_done = true,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {}
            }
        }
        if ab_done && ba_done {
            Poll::Ready(Ok(()))
        } else {
            Poll::Pending
        }
    })
    .await?;
    Ok((ab.carried, ba.carried))
}
