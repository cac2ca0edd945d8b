//! One generator connection: writes a request, reads and fully checks the response with
//! `hawser-http1` (head, framing, body), so a short body, a bad head, an unexpected status or
//! bytes nobody asked for (a pipelining bug) count as errors instead of as fast responses.
//!
//! It keeps one request in flight; it does not pipeline, retry or follow redirects, and it does
//! not time anything: the generator owns the clock.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpStream;
use hawser_http1::{BodyDecoder, Decoded, Framing, Limits, Peer, take_response};

/// Why an exchange failed. Each is counted by its [`ExchangeError::label`].
#[derive(Debug)]
pub enum ExchangeError {
    /// Connect, read or write failed (including a read timeout).
    Io(io::Error),
    /// The peer closed before the response was complete.
    Closed,
    /// The response head or body framing was invalid.
    Parse(hawser_http1::Error),
    /// A final status other than 200.
    Status(u16),
    /// The body was not the expected size.
    BodySize {
        /// What the caller expected.
        expected: u64,
        /// What arrived.
        got: u64,
    },
    /// Bytes arrived after a complete response although nothing else was requested.
    Unsolicited,
}

impl ExchangeError {
    /// A short stable name for error counts.
    pub fn label(&self) -> String {
        match self {
            ExchangeError::Io(e) if e.kind() == io::ErrorKind::TimedOut => "timeout".into(),
            ExchangeError::Io(e) => format!("io: {:?}", e.kind()),
            ExchangeError::Closed => "closed mid-response".into(),
            ExchangeError::Parse(e) => format!("bad response: {}", e.reason()),
            ExchangeError::Status(s) => format!("status {s}"),
            ExchangeError::BodySize { .. } => "wrong body size".into(),
            ExchangeError::Unsolicited => "unsolicited bytes".into(),
        }
    }
}

/// An HTTP/1.1 keep-alive connection that repeats one request.
pub struct Http1Conn {
    stream: TcpStream,
    buf: BytesMut,
    request: Bytes,
    head_request: bool,
    expect_body: Option<u64>,
    limits: Limits,
    reusable: bool,
}

impl Http1Conn {
    /// Connects to `addr`. `timeout` bounds the connect and each later read.
    ///
    /// # Errors
    /// The connect error.
    pub async fn connect(
        addr: SocketAddr,
        request: Bytes,
        method: &str,
        expect_body: Option<u64>,
        timeout: Duration,
    ) -> Result<Http1Conn, ExchangeError> {
        let stream = TcpStream::connect_timeout(addr, timeout)
            .await
            .map_err(|e| ExchangeError::Io(e.into()))?;
        stream
            .set_nodelay(true)
            .map_err(|e| ExchangeError::Io(e.into()))?;
        stream
            .set_read_timeout(Some(timeout))
            .map_err(|e| ExchangeError::Io(e.into()))?;
        Ok(Http1Conn {
            stream,
            buf: BytesMut::with_capacity(16 * 1024),
            request,
            head_request: method.eq_ignore_ascii_case("HEAD"),
            expect_body,
            limits: Limits::default(),
            reusable: true,
        })
    }

    /// False once the server said `Connection: close` (or an exchange failed): open a new one.
    pub fn reusable(&self) -> bool {
        self.reusable
    }

    /// Sends the request; returns when its response has been read completely and checked.
    ///
    /// # Errors
    /// Any [`ExchangeError`]; the connection is then not reusable.
    pub async fn exchange(&mut self) -> Result<(), ExchangeError> {
        let r = self.exchange_inner().await;
        if r.is_err() {
            self.reusable = false;
        }
        r
    }

    async fn exchange_inner(&mut self) -> Result<(), ExchangeError> {
        self.stream
            .write_all(&self.request)
            .await
            .map_err(ExchangeError::Io)?;
        let head = loop {
            match take_response(&mut self.buf, &self.limits) {
                Err(e) => return Err(ExchangeError::Parse(e)),
                Ok(Some(head)) if head.is_interim() => continue,
                Ok(Some(head)) => break head,
                Ok(None) => self.fill().await?,
            }
        };
        if head.status() != 200 {
            return Err(ExchangeError::Status(head.status()));
        }
        let method = if self.head_request { "HEAD" } else { "GET" };
        let framing =
            hawser_http1::response_framing(method, &head).map_err(ExchangeError::Parse)?;
        let mut decoder = BodyDecoder::new(framing, Peer::Upstream, &self.limits);
        let mut got = 0u64;
        loop {
            match decoder
                .decode(&mut self.buf)
                .map_err(ExchangeError::Parse)?
            {
                Decoded::Data(d) => got += d.len() as u64,
                Decoded::Trailers(_) => {}
                Decoded::Done => break,
                Decoded::NeedMore => match self.fill().await {
                    Ok(()) => {}
                    Err(ExchangeError::Closed) if framing == Framing::CloseDelimited => {
                        decoder.eof().map_err(ExchangeError::Parse)?;
                        self.reusable = false;
                        break;
                    }
                    Err(e) => return Err(e),
                },
            }
        }
        if let Some(expected) = self.expect_body
            && !self.head_request
            && got != expected
        {
            return Err(ExchangeError::BodySize { expected, got });
        }
        if !self.buf.is_empty() {
            return Err(ExchangeError::Unsolicited);
        }
        if !head.keep_alive() {
            self.reusable = false;
        }
        Ok(())
    }

    /// Reads more bytes into the buffer.
    async fn fill(&mut self) -> Result<(), ExchangeError> {
        let len = self.buf.len();
        if self.buf.capacity() - len < 4096 {
            self.buf.reserve(16 * 1024);
        }
        let room = self.buf.capacity() - len;
        self.buf.resize(len + room, 0);
        let n = self.stream.read(&mut self.buf[len..]).await;
        let n = match n {
            Ok(n) => n,
            Err(e) => {
                self.buf.truncate(len);
                return Err(ExchangeError::Io(e));
            }
        };
        self.buf.truncate(len + n);
        if n == 0 {
            return Err(ExchangeError::Closed);
        }
        Ok(())
    }
}
