//! One generator connection: writes a request, reads and fully checks the response with
//! `hawser-http1` (head, framing, body) or `hawser-thrift` (frame, reply header, struct), so a
//! short body, a bad head, an unexpected status, a Thrift reply to another call or bytes nobody
//! asked for (a pipelining bug) count as errors instead of as fast responses.
//!
//! HTTP/2 connections ([`crate::h2::H2Conn`]) carry many exchanges at once, one per stream.
//!
//! HTTP/1.1 and Thrift keep one request in flight; they do not pipeline, retry or follow redirects, and it does
//! not time anything: the generator owns the clock.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use crate::rt::{TcpStream, read_buf};
use bytes::{Bytes, BytesMut};
use futures_lite::AsyncWriteExt;
use hawser_http1::{BodyDecoder, Decoded, Framing, Limits, Peer, take_response};
use hawser_thrift::MessageType;

use crate::h2::H2Conn;
use crate::shape::RequestShape;

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
    /// Thrift: the reply's frame, header or struct was invalid.
    Thrift(hawser_thrift::Error),
    /// Thrift: an `EXCEPTION` message (a `TApplicationException`) instead of a reply.
    ThriftException,
    /// Thrift: a message type other than `REPLY` (or `EXCEPTION`).
    NotReply(MessageType),
    /// Thrift: a reply with another seqid than the call's.
    WrongSeqid {
        /// The call's.
        expected: i32,
        /// The reply's.
        got: i32,
    },
    /// Thrift: a reply for another method name.
    WrongMethod,
    /// Thrift: a reply without a binary success field (a declared exception, or a void result).
    NoSuccess,
    /// HTTP/2: the server's frames broke the frame layer's rules.
    Frame(hawser_http2::Error),
    /// HTTP/2: the response broke a rule above the frame layer (no `:status`, HPACK error, ...).
    H2(&'static str),
    /// HTTP/2: the server reset the stream (RST_STREAM) with this code.
    Reset(hawser_http2::ErrorCode),
    /// HTTP/2: a GOAWAY dropped the stream (its id was above the last one processed), or no new
    /// stream may be opened after a GOAWAY.
    GoAway,
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
            ExchangeError::Thrift(e) => format!("bad reply: {}", e.reason()),
            ExchangeError::ThriftException => "exception reply".into(),
            ExchangeError::NotReply(t) => format!("not a reply: {t:?}"),
            ExchangeError::WrongSeqid { .. } => "wrong seqid".into(),
            ExchangeError::WrongMethod => "wrong method".into(),
            ExchangeError::NoSuccess => "no success field".into(),
            ExchangeError::Frame(e) => format!("bad h2 frame: {}", e.kind().reason()),
            ExchangeError::H2(why) => format!("bad h2 response: {why}"),
            ExchangeError::Reset(code) => format!("stream reset: {code}"),
            ExchangeError::GoAway => "goaway".into(),
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
        Ok(Http1Conn {
            stream: open(addr, timeout).await?,
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
        fill(&mut self.stream, &mut self.buf).await
    }
}

/// Reads more bytes into `buf`.
async fn fill(stream: &mut TcpStream, buf: &mut BytesMut) -> Result<(), ExchangeError> {
    let n = read_buf(stream, buf).await.map_err(ExchangeError::Io)?;
    if n == 0 {
        return Err(ExchangeError::Closed);
    }
    Ok(())
}

pub(crate) async fn open(addr: SocketAddr, timeout: Duration) -> Result<TcpStream, ExchangeError> {
    let mut stream = TcpStream::connect_timeout(addr, timeout)
        .await
        .map_err(ExchangeError::Io)?;
    stream.set_nodelay(true).map_err(ExchangeError::Io)?;
    stream.set_read_timeout(Some(timeout));
    Ok(stream)
}

/// A Thrift connection that repeats one call with a fresh seqid each time (1, 2, ...).
pub struct ThriftConn {
    stream: TcpStream,
    buf: BytesMut,
    request: BytesMut,
    seqid_at: usize,
    seqid: i32,
    method: Vec<u8>,
    expect_payload: Option<u64>,
    limits: hawser_thrift::Limits,
    reusable: bool,
}

impl ThriftConn {
    /// Connects to `addr`. `request` is the encoded call, its seqid at `seqid_at`; `method` its
    /// name. `timeout` bounds the connect and each later read.
    ///
    /// # Errors
    /// The connect error.
    pub async fn connect(
        addr: SocketAddr,
        request: Bytes,
        seqid_at: usize,
        method: &str,
        expect_payload: Option<u64>,
        timeout: Duration,
    ) -> Result<ThriftConn, ExchangeError> {
        Ok(ThriftConn {
            stream: open(addr, timeout).await?,
            buf: BytesMut::with_capacity(16 * 1024),
            request: BytesMut::from(&request[..]),
            seqid_at,
            seqid: 0,
            method: method.as_bytes().to_vec(),
            expect_payload,
            limits: hawser_thrift::Limits::default(),
            reusable: true,
        })
    }

    /// False once an exchange failed: open a new one.
    pub fn reusable(&self) -> bool {
        self.reusable
    }

    /// Sends the next call; returns when its reply has been read completely and checked.
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
        self.seqid = self.seqid.wrapping_add(1);
        let at = self.seqid_at;
        self.request[at..at + 4].copy_from_slice(&self.seqid.to_be_bytes());
        self.stream
            .write_all(&self.request)
            .await
            .map_err(ExchangeError::Io)?;
        let frame = loop {
            match hawser_thrift::take_frame(&mut self.buf, &self.limits) {
                Err(e) => return Err(ExchangeError::Thrift(e)),
                Ok(hawser_thrift::Decoded::Done(frame)) => break frame,
                Ok(hawser_thrift::Decoded::NeedMore(_)) => {
                    fill(&mut self.stream, &mut self.buf).await?;
                }
            }
        };
        check_reply(
            &frame,
            &self.limits,
            self.seqid,
            &self.method,
            self.expect_payload,
        )?;
        if !self.buf.is_empty() {
            return Err(ExchangeError::Unsolicited);
        }
        Ok(())
    }
}

/// Checks one reply frame's payload against the call it answers.
///
/// # Errors
/// The first thing wrong, as an [`ExchangeError`].
pub fn check_reply(
    payload: &[u8],
    limits: &hawser_thrift::Limits,
    seqid: i32,
    method: &[u8],
    expect_payload: Option<u64>,
) -> Result<(), ExchangeError> {
    let m = hawser_thrift::Message::load(payload, limits).map_err(ExchangeError::Thrift)?;
    match m.header.kind {
        MessageType::Reply => {}
        MessageType::Exception => return Err(ExchangeError::ThriftException),
        other => return Err(ExchangeError::NotReply(other)),
    }
    if m.header.seqid != seqid {
        return Err(ExchangeError::WrongSeqid {
            expected: seqid,
            got: m.header.seqid,
        });
    }
    if m.header.name != method {
        return Err(ExchangeError::WrongMethod);
    }
    let (success, _) =
        hawser_thrift::find_binary_field(m.body, 0, limits).map_err(ExchangeError::Thrift)?;
    let got = success.ok_or(ExchangeError::NoSuccess)?.len() as u64;
    match expect_payload {
        Some(expected) if expected != got => Err(ExchangeError::BodySize { expected, got }),
        _ => Ok(()),
    }
}

/// A generator connection of either protocol.
pub enum Conn {
    /// HTTP/1.1 keep-alive.
    Http1(Http1Conn),
    /// Thrift framed/binary.
    Thrift(ThriftConn),
    /// HTTP/2: clones of one connection, one exchange (stream) in flight per clone.
    H2(H2Conn),
}

impl Conn {
    /// Connects for `shape`; `request` is `shape.encode()` (prepared once per shard).
    ///
    /// # Errors
    /// The connect error.
    pub async fn connect(
        addr: SocketAddr,
        shape: &RequestShape,
        request: Bytes,
        expect_body: Option<u64>,
        timeout: Duration,
    ) -> Result<Conn, ExchangeError> {
        match shape {
            RequestShape::Http1(r) => {
                Http1Conn::connect(addr, request, &r.method, expect_body, timeout)
                    .await
                    .map(Conn::Http1)
            }
            RequestShape::Thrift(c) => {
                let at = shape.seqid_offset().unwrap_or(0);
                ThriftConn::connect(addr, request, at, &c.method, expect_body, timeout)
                    .await
                    .map(Conn::Thrift)
            }
            RequestShape::H2(r) => H2Conn::connect(addr, r, request, expect_body, timeout)
                .await
                .map(Conn::H2),
        }
    }

    /// Another handle on an HTTP/2 connection (for another slot). HTTP/1.1 and Thrift
    /// connections are not shared: this opens nothing and must not be used for them.
    ///
    /// # Panics
    /// For an HTTP/1.1 or Thrift connection.
    pub fn clone_for_slot(&self) -> Conn {
        match self {
            Conn::H2(c) => Conn::H2(c.clone()),
            _ => panic!("only HTTP/2 connections are shared between slots"),
        }
    }

    /// Most exchanges this connection had in flight at once (1 for HTTP/1.1 and Thrift).
    pub fn in_flight_high_water(&self) -> usize {
        match self {
            Conn::H2(c) => c.high_water(),
            _ => 1,
        }
    }

    /// Whether the next exchange may use this connection.
    pub fn reusable(&self) -> bool {
        match self {
            Conn::Http1(c) => c.reusable(),
            Conn::Thrift(c) => c.reusable(),
            Conn::H2(c) => c.reusable(),
        }
    }

    /// One checked exchange.
    ///
    /// # Errors
    /// Any [`ExchangeError`]; the connection is then not reusable.
    pub async fn exchange(&mut self) -> Result<(), ExchangeError> {
        match self {
            Conn::Http1(c) => c.exchange().await,
            Conn::Thrift(c) => c.exchange().await,
            Conn::H2(c) => c.exchange().await,
        }
    }
}
