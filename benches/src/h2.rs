//! HTTP/2 (h2c, prior knowledge) for the harness: the generator's multiplexed connection
//! ([`H2Conn`]) and the backend's connection handler ([`serve_h2`]), both on top of the sans-IO
//! `hawser-http2` frame layer and `hawser-hpack`.
//!
//! One connection is shared by many generator slots: each [`H2Conn::exchange`] opens a stream,
//! writes its HEADERS (and DATA), and waits for a per-stream completion that the connection's
//! single reader task fills in when the response ends (END_STREAM), is reset (RST_STREAM) or is
//! dropped by a GOAWAY. The executor runs everything of a connection on one thread, so the shared
//! state is an `Rc<RefCell<..>>`; writes of all slots go through one output buffer that whoever
//! finds the socket idle flushes ([`Wire`]), which also coalesces them.
//!
//! Both ends handle what a long run needs and no more: SETTINGS (theirs applied and
//! acknowledged: MAX_CONCURRENT_STREAMS caps the streams in flight, MAX_FRAME_SIZE and
//! INITIAL_WINDOW_SIZE bound what is sent), PING (answered), WINDOW_UPDATE (sent as DATA is
//! consumed, on the stream and the connection, so runs never stall; the peer's applied to what
//! is queued), RST_STREAM and GOAWAY. No priorities, no push (disabled), no trailers checks.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use crate::rt::{TcpStream, read_buf, sleep, spawn_local};
use bytes::{Bytes, BytesMut};
use futures_lite::AsyncWriteExt;
use futures_lite::io::{ReadHalf, WriteHalf};
use hawser_hpack::Header;
use hawser_http2::{
    Data, Decoder, ErrorCode, Frame, GoAway, Headers, PREFACE, RstStream, Settings, StreamId,
    Window, WindowUpdate, encode_headers,
};

use crate::client::ExchangeError;
use crate::shape::H2Request;

/// The stream window each end advertises (SETTINGS_INITIAL_WINDOW_SIZE): 1 MiB.
pub const STREAM_WINDOW: u32 = 1 << 20;
/// The connection window each end opens with a WINDOW_UPDATE right after its SETTINGS: 16 MiB.
pub const CONN_WINDOW: u32 = 16 << 20;
/// SETTINGS_MAX_CONCURRENT_STREAMS of the backend.
pub const BACKEND_MAX_STREAMS: u32 = 1000;

/// The outgoing side of a connection shared by several tasks: frames are appended to one
/// buffer, and whoever finds the socket idle writes the buffer until it is empty.
struct Wire {
    out: RefCell<BytesMut>,
    /// `None` while some task is writing (or after a write failed: see `broken`).
    half: RefCell<Option<WriteHalf<TcpStream>>>,
    broken: Cell<bool>,
}

impl Wire {
    fn new(half: WriteHalf<TcpStream>) -> Wire {
        Wire {
            out: RefCell::new(BytesMut::with_capacity(16 * 1024)),
            half: RefCell::new(Some(half)),
            broken: Cell::new(false),
        }
    }

    /// Writes what is buffered; returns at once when another task is already writing (it will
    /// pick up these bytes too).
    async fn flush(&self) -> io::Result<()> {
        if self.broken.get() {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        let Some(mut half) = self.half.borrow_mut().take() else {
            return Ok(());
        };
        loop {
            let chunk = self.out.borrow_mut().split();
            if chunk.is_empty() {
                break;
            }
            if let Err(e) = half.write_all(&chunk).await {
                self.broken.set(true);
                return Err(e);
            }
        }
        *self.half.borrow_mut() = Some(half);
        Ok(())
    }
}

/// Reads more bytes into `buf`; `Ok(false)` on EOF.
async fn fill(rd: &mut ReadHalf<TcpStream>, buf: &mut BytesMut) -> io::Result<bool> {
    Ok(read_buf(rd, buf).await? > 0)
}

/// A field block arriving in HEADERS + CONTINUATION frames.
struct Block {
    stream_id: StreamId,
    end_stream: bool,
    bytes: BytesMut,
}

/// Feeds `frame` into the block being assembled; returns the whole block (stream, bytes,
/// END_STREAM) once END_HEADERS arrived, and passes other frames through.
fn assemble(pending: &mut Option<Block>, frame: Frame) -> Result<Option<Frame>, Frame> {
    match frame {
        Frame::Headers(h) if h.end_headers => Err(Frame::Headers(h)),
        Frame::Headers(h) => {
            *pending = Some(Block {
                stream_id: h.stream_id,
                end_stream: h.end_stream,
                bytes: BytesMut::from(&h.fragment[..]),
            });
            Ok(None)
        }
        Frame::Continuation(c) => {
            let Some(mut b) = pending.take() else {
                return Ok(None);
            };
            b.bytes.extend_from_slice(&c.fragment);
            if c.end_headers {
                Ok(Some(Frame::Headers(Headers::new(
                    b.stream_id,
                    b.bytes.freeze(),
                    b.end_stream,
                ))))
            } else {
                *pending = Some(b);
                Ok(None)
            }
        }
        other => Err(other),
    }
}

/// Receive-side window bookkeeping: credit is given back once half a window was consumed.
fn give_back(unacked: &mut u32, n: u32, window: u32, stream_id: StreamId, out: &mut BytesMut) {
    *unacked = unacked.saturating_add(n);
    if *unacked >= window / 2 {
        WindowUpdate::new(stream_id, *unacked).encode(out);
        *unacked = 0;
    }
}

/// Our SETTINGS and the connection-window opening, after the preface (client) or alone.
fn local_preface(client: bool, out: &mut BytesMut) {
    if client {
        out.extend_from_slice(PREFACE);
    }
    Settings {
        enable_push: client.then_some(false),
        max_concurrent_streams: (!client).then_some(BACKEND_MAX_STREAMS),
        initial_window_size: Some(STREAM_WINDOW),
        ..Settings::default()
    }
    .encode(out);
    WindowUpdate::new(0, CONN_WINDOW - hawser_http2::DEFAULT_INITIAL_WINDOW_SIZE).encode(out);
}

/// The peer's settings, as far as sending is concerned.
struct PeerSettings {
    max_frame: u32,
    initial_window: u32,
    max_streams: u32,
}

impl Default for PeerSettings {
    fn default() -> Self {
        PeerSettings {
            max_frame: hawser_http2::DEFAULT_MAX_FRAME_SIZE,
            initial_window: hawser_http2::DEFAULT_INITIAL_WINDOW_SIZE,
            max_streams: u32::MAX,
        }
    }
}

/// Sends as much queued DATA as the windows and the frame size allow, stream by stream in
/// queue order. `left` says how many bytes a stream still has to send; each DATA frame is a
/// slice of `body`. Returns the streams that finished sending (END_STREAM written).
fn send_queued<S>(
    queue: &mut VecDeque<StreamId>,
    streams: &mut HashMap<StreamId, S>,
    conn: &mut Window,
    max_frame: u32,
    body: &Bytes,
    parts: impl Fn(&mut S) -> (&mut Window, &mut usize),
    out: &mut BytesMut,
) -> Vec<StreamId> {
    let mut finished = Vec::new();
    while let Some(&id) = queue.front() {
        let Some(s) = streams.get_mut(&id) else {
            queue.pop_front();
            continue;
        };
        let (window, left) = parts(s);
        while *left > 0 {
            let n = (*left)
                .min(max_frame as usize)
                .min(conn.available() as usize)
                .min(window.available() as usize);
            if n == 0 {
                return finished;
            }
            let from = body.len() - *left;
            *left -= n;
            // Within both windows: consuming cannot fail.
            let _ = conn.consume(n as u32);
            let _ = window.consume(n as u32);
            Data::new(id, body.slice(from..from + n), *left == 0).encode(out);
        }
        queue.pop_front();
        finished.push(id);
    }
    finished
}

// ---------------------------------------------------------------------------------------------
// The generator's side.

/// Where one exchange's result lands.
#[derive(Default)]
struct Completion {
    result: RefCell<Option<Result<(), ExchangeError>>>,
    waker: RefCell<Option<Waker>>,
}

impl Completion {
    fn complete(&self, r: Result<(), ExchangeError>) {
        *self.result.borrow_mut() = Some(r);
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }

    async fn wait(&self) -> Result<(), ExchangeError> {
        futures_lite::future::poll_fn(|cx| match self.result.borrow_mut().take() {
            Some(r) => Poll::Ready(r),
            None => {
                *self.waker.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }
}

/// One open stream of the generator.
struct ClientStream {
    done: Rc<Completion>,
    status: Option<u16>,
    /// The final response's `content-length`, when it sent one.
    content_length: Option<u64>,
    body: u64,
    error: Option<ExchangeError>,
    send: Window,
    body_left: usize,
    recv_unacked: u32,
}

struct ClientState {
    hpack: hawser_hpack::Encoder,
    peer: PeerSettings,
    send_conn: Window,
    recv_conn_unacked: u32,
    next_id: StreamId,
    streams: HashMap<StreamId, ClientStream>,
    sending: VecDeque<StreamId>,
    permit_waiters: Vec<Waker>,
    /// The connection is gone (read error, EOF, protocol error): no new streams.
    dead: bool,
    /// GOAWAY received: no new streams.
    goaway: bool,
    /// Most streams open at once.
    high_water: usize,
}

impl ClientState {
    fn finish(&mut self, id: StreamId, r: Option<Result<(), ExchangeError>>, expect: Option<u64>) {
        let Some(s) = self.streams.remove(&id) else {
            return;
        };
        let r = match r {
            Some(r) => r,
            None => match (s.error, s.status) {
                (Some(e), _) => Err(e),
                (None, None) => Err(ExchangeError::H2("response without :status")),
                // RFC 9113 8.1.1: a body that disagrees with content-length is malformed.
                (None, Some(_)) if s.content_length.is_some_and(|n| n != s.body) => {
                    Err(ExchangeError::H2("body length differs from content-length"))
                }
                (None, Some(_)) => match expect {
                    Some(expected) if expected != s.body => Err(ExchangeError::BodySize {
                        expected,
                        got: s.body,
                    }),
                    _ => Ok(()),
                },
            },
        };
        s.done.complete(r);
        for w in self.permit_waiters.drain(..) {
            w.wake();
        }
    }

    fn fail_all(&mut self, err: impl Fn() -> ExchangeError) {
        self.dead = true;
        let ids: Vec<StreamId> = self.streams.keys().copied().collect();
        for id in ids {
            self.finish(id, Some(Err(err())), None);
        }
        for w in self.permit_waiters.drain(..) {
            w.wake();
        }
    }
}

struct Session {
    state: RefCell<ClientState>,
    wire: Wire,
    body: Bytes,
    request: H2Request,
    expect_body: Option<u64>,
    timeout: Duration,
}

/// A generator connection speaking h2c: clones share the connection, each
/// [`H2Conn::exchange`] is one stream.
#[derive(Clone)]
pub struct H2Conn {
    session: Rc<Session>,
}

impl H2Conn {
    /// Connects, writes the preface, our SETTINGS and the connection window, waits for the
    /// server's SETTINGS and starts the connection's reader. `body` is the request body (the
    /// shape's `encode()`); `timeout` bounds the connect, the server preface and each exchange.
    ///
    /// # Errors
    /// Connect, write or read errors, or a server preface that is not SETTINGS.
    pub async fn connect(
        addr: SocketAddr,
        request: &H2Request,
        body: Bytes,
        expect_body: Option<u64>,
        timeout: Duration,
    ) -> Result<H2Conn, ExchangeError> {
        let mut stream = crate::client::open(addr, timeout).await?;
        let mut out = BytesMut::new();
        local_preface(true, &mut out);
        stream.write_all(&out).await.map_err(ExchangeError::Io)?;
        let mut dec = Decoder::client();
        let mut buf = BytesMut::with_capacity(32 * 1024);
        let mut peer = PeerSettings::default();
        let mut header_table = hawser_hpack::DEFAULT_TABLE_SIZE;
        out.clear();
        loop {
            match dec.decode(&mut buf) {
                Ok(Some(Frame::Settings(s))) => {
                    apply_client_settings(&s, &mut peer, &mut header_table);
                    Settings::ack().encode(&mut out);
                    break;
                }
                Ok(Some(_)) => return Err(ExchangeError::H2("no SETTINGS from the server")),
                Ok(None) => {
                    let n = read_buf(&mut stream, &mut buf)
                        .await
                        .map_err(ExchangeError::Io)?;
                    if n == 0 {
                        return Err(ExchangeError::Closed);
                    }
                }
                Err(e) => return Err(ExchangeError::Frame(e)),
            }
        }
        stream.set_read_timeout(None);
        let (rd, wr) = futures_lite::io::split(stream);
        let wire = Wire::new(wr);
        wire.out.borrow_mut().extend_from_slice(&out);
        let session = Rc::new(Session {
            state: RefCell::new(ClientState {
                hpack: hawser_hpack::Encoder::new(header_table),
                peer,
                send_conn: Window::default(),
                recv_conn_unacked: 0,
                next_id: 1,
                streams: HashMap::new(),
                sending: VecDeque::new(),
                permit_waiters: Vec::new(),
                dead: false,
                goaway: false,
                high_water: 0,
            }),
            wire,
            body,
            request: request.clone(),
            expect_body,
            timeout,
        });
        let reader = session.clone();
        spawn_local(async move { read_loop(reader, rd, buf, dec).await }).detach();
        session.wire.flush().await.map_err(ExchangeError::Io)?;
        Ok(H2Conn { session })
    }

    /// False once the connection died or the server sent GOAWAY: open a new one.
    pub fn reusable(&self) -> bool {
        let st = self.session.state.borrow();
        !st.dead && !st.goaway && !self.session.wire.broken.get()
    }

    /// The most streams this connection had open at once.
    pub fn high_water(&self) -> usize {
        self.session.state.borrow().high_water
    }

    /// One request on a new stream; returns when its response ended and was checked. Waits
    /// first while the server's MAX_CONCURRENT_STREAMS are all in use. The whole exchange is
    /// bounded by the connect timeout; a stream that runs over is cancelled (RST_STREAM).
    ///
    /// # Errors
    /// Any [`ExchangeError`]; only a connection-level one makes the connection not reusable.
    pub async fn exchange(&self) -> Result<(), ExchangeError> {
        let s = &self.session;
        let deadline = Instant::now() + s.timeout;
        let timer = || async {
            sleep(deadline.saturating_duration_since(Instant::now())).await;
            Err(ExchangeError::Io(io::ErrorKind::TimedOut.into()))
        };
        futures_lite::future::or(self.permit(), timer()).await?;
        let (id, done) = self.open_stream()?;
        if let Err(e) = s.wire.flush().await {
            s.state
                .borrow_mut()
                .fail_all(|| ExchangeError::Io(e.kind().into()));
        }
        let r = futures_lite::future::or(done.wait(), timer()).await;
        if r.is_err()
            && let Some(ExchangeError::Io(e)) = r.as_ref().err()
            && e.kind() == io::ErrorKind::TimedOut
        {
            // Give the stream up: tell the server, free the slot.
            let cancelled = {
                let mut st = s.state.borrow_mut();
                let open = st.streams.contains_key(&id);
                if open {
                    RstStream::new(id, ErrorCode::Cancel).encode(&mut s.wire.out.borrow_mut());
                    st.finish(id, Some(Ok(())), None);
                }
                open
            };
            if cancelled {
                let _ = s.wire.flush().await;
            }
        }
        r
    }

    async fn permit(&self) -> Result<(), ExchangeError> {
        futures_lite::future::poll_fn(|cx| {
            let mut st = self.session.state.borrow_mut();
            if st.dead || self.session.wire.broken.get() {
                return Poll::Ready(Err(ExchangeError::Closed));
            }
            if st.goaway {
                return Poll::Ready(Err(ExchangeError::GoAway));
            }
            if st.streams.len() < st.peer.max_streams as usize {
                return Poll::Ready(Ok(()));
            }
            st.permit_waiters.push(cx.waker().clone());
            Poll::Pending
        })
        .await
    }

    /// Writes HEADERS (and what the windows allow of the body) of a new stream into the output
    /// buffer and registers its completion.
    fn open_stream(&self) -> Result<(StreamId, Rc<Completion>), ExchangeError> {
        let s = &self.session;
        let mut st = s.state.borrow_mut();
        let st = &mut *st;
        if st.next_id > hawser_http2::MAX_WINDOW_SIZE {
            // Stream ids are used up (2^30 requests): this connection is done.
            st.goaway = true;
            return Err(ExchangeError::GoAway);
        }
        let id = st.next_id;
        st.next_id += 2;
        let r = &s.request;
        let len = r.body_size.to_string();
        let mut fields = vec![
            Header::new(b":method", r.method.as_bytes()),
            Header::new(b":scheme", b"http"),
            Header::new(b":authority", r.authority.as_bytes()),
            Header::new(b":path", r.path.as_bytes()),
        ];
        if r.body_size > 0 {
            fields.push(Header::new(b"content-length", len.as_bytes()));
        }
        let mut block = BytesMut::with_capacity(64);
        st.hpack.encode(fields, &mut block);
        let mut out = s.wire.out.borrow_mut();
        encode_headers(
            &Headers::new(id, block.freeze(), r.body_size == 0),
            st.peer.max_frame,
            &mut out,
        );
        let done = Rc::new(Completion::default());
        st.streams.insert(
            id,
            ClientStream {
                done: done.clone(),
                status: None,
                content_length: None,
                body: 0,
                error: None,
                send: Window::new(st.peer.initial_window),
                body_left: r.body_size,
                recv_unacked: 0,
            },
        );
        st.high_water = st.high_water.max(st.streams.len());
        if r.body_size > 0 {
            st.sending.push_back(id);
            send_client_bodies(st, &s.body, &mut out);
        }
        Ok((id, done))
    }
}

fn send_client_bodies(st: &mut ClientState, body: &Bytes, out: &mut BytesMut) {
    send_queued(
        &mut st.sending,
        &mut st.streams,
        &mut st.send_conn,
        st.peer.max_frame,
        body,
        |s| (&mut s.send, &mut s.body_left),
        out,
    );
}

fn apply_client_settings(s: &Settings, peer: &mut PeerSettings, header_table: &mut usize) {
    if let Some(v) = s.max_concurrent_streams {
        peer.max_streams = v;
    }
    if let Some(v) = s.max_frame_size {
        peer.max_frame = v;
    }
    if let Some(v) = s.initial_window_size {
        peer.initial_window = v;
    }
    if let Some(v) = s.header_table_size {
        *header_table = v as usize;
    }
}

/// The connection's reader: decodes every frame and completes the streams.
async fn read_loop(
    s: Rc<Session>,
    mut rd: ReadHalf<TcpStream>,
    mut buf: BytesMut,
    mut dec: Decoder,
) {
    let mut hpack = hawser_hpack::Decoder::new(hawser_hpack::DEFAULT_TABLE_SIZE);
    let mut block: Option<Block> = None;
    loop {
        loop {
            let frame = match dec.decode(&mut buf) {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => {
                    if on_frame_error(&s, e) {
                        let _ = s.wire.flush().await;
                        return;
                    }
                    continue;
                }
            };
            let frame = match assemble(&mut block, frame) {
                Ok(None) => continue,
                Ok(Some(f)) | Err(f) => f,
            };
            if !on_client_frame(&s, &mut hpack, frame) {
                let _ = s.wire.flush().await;
                return;
            }
        }
        if !s.wire.out.borrow().is_empty() {
            // In its own task: a reader blocked on a full socket could deadlock with a peer
            // that is itself blocked writing to us.
            let w = s.clone();
            spawn_local(async move {
                if w.wire.flush().await.is_err() {
                    w.state
                        .borrow_mut()
                        .fail_all(|| ExchangeError::Io(io::ErrorKind::BrokenPipe.into()));
                }
            })
            .detach();
        }
        match fill(&mut rd, &mut buf).await {
            Ok(true) => {}
            Ok(false) => {
                s.state.borrow_mut().fail_all(|| ExchangeError::Closed);
                return;
            }
            Err(e) => {
                s.state
                    .borrow_mut()
                    .fail_all(|| ExchangeError::Io(e.kind().into()));
                return;
            }
        }
    }
}

/// A stream error resets that stream (its exchange fails); a connection error sends GOAWAY and
/// fails every stream. True when the connection is done.
fn on_frame_error(s: &Session, e: hawser_http2::Error) -> bool {
    let mut st = s.state.borrow_mut();
    let mut out = s.wire.out.borrow_mut();
    match e.stream_id() {
        Some(id) => {
            RstStream::new(id, e.code()).encode(&mut out);
            st.finish(id, Some(Err(ExchangeError::Frame(e))), None);
            false
        }
        None => {
            GoAway::new(0, e.code()).encode(&mut out);
            st.fail_all(|| ExchangeError::Frame(e));
            true
        }
    }
}

/// Acts on one frame; false when the connection is done.
fn on_client_frame(s: &Session, hpack: &mut hawser_hpack::Decoder, frame: Frame) -> bool {
    let mut st = s.state.borrow_mut();
    let st = &mut *st;
    let mut out = s.wire.out.borrow_mut();
    let expect = s
        .expect_body
        .filter(|_| !s.request.method.eq_ignore_ascii_case("HEAD"));
    match frame {
        Frame::Headers(h) => {
            let mut status = None;
            let mut content_length = None;
            let decoded = hpack.decode(&h.fragment, |f| {
                if &f.name[..] == b":status" {
                    status = std::str::from_utf8(&f.value)
                        .ok()
                        .and_then(|v| v.parse::<u16>().ok());
                } else if &f.name[..] == b"content-length" {
                    content_length = std::str::from_utf8(&f.value)
                        .ok()
                        .and_then(|v| v.parse::<u64>().ok());
                }
            });
            if decoded.is_err() {
                GoAway::new(0, ErrorCode::CompressionError).encode(&mut out);
                st.fail_all(|| ExchangeError::H2("HPACK error"));
                return false;
            }
            let Some(stream) = st.streams.get_mut(&h.stream_id) else {
                return true;
            };
            if stream.status.is_none() {
                match status {
                    Some(100..=199) if !h.end_stream => return true,
                    Some(200) => {
                        stream.status = Some(200);
                        stream.content_length = content_length;
                    }
                    Some(other) => {
                        stream.status = Some(other);
                        stream.error.get_or_insert(ExchangeError::Status(other));
                    }
                    None => {
                        stream
                            .error
                            .get_or_insert(ExchangeError::H2("response without :status"));
                        stream.status = Some(0);
                    }
                }
            }
            if h.end_stream {
                st.finish(h.stream_id, None, expect);
            }
        }
        Frame::Data(d) => {
            let n = d.flow_len();
            give_back(&mut st.recv_conn_unacked, n, CONN_WINDOW, 0, &mut out);
            if let Some(stream) = st.streams.get_mut(&d.stream_id) {
                stream.body += d.data.len() as u64;
                if stream.status.is_none() {
                    stream
                        .error
                        .get_or_insert(ExchangeError::H2("DATA before HEADERS"));
                }
                if d.end_stream {
                    st.finish(d.stream_id, None, expect);
                } else {
                    give_back(
                        &mut stream.recv_unacked,
                        n,
                        STREAM_WINDOW,
                        d.stream_id,
                        &mut out,
                    );
                }
            }
        }
        Frame::RstStream(r) => {
            st.finish(r.stream_id, Some(Err(ExchangeError::Reset(r.code))), None);
        }
        Frame::Settings(set) if !set.ack => {
            let old = st.peer.initial_window;
            let mut table = usize::MAX;
            apply_client_settings(&set, &mut st.peer, &mut table);
            if table != usize::MAX {
                st.hpack.set_peer_max_table_size(table);
            }
            let new = st.peer.initial_window;
            for stream in st.streams.values_mut() {
                let _ = stream.send.apply_initial_window_change(old, new);
            }
            Settings::ack().encode(&mut out);
            send_client_bodies(st, &s.body, &mut out);
            for w in st.permit_waiters.drain(..) {
                w.wake();
            }
        }
        Frame::Ping(p) if !p.ack => p.to_ack().encode(&mut out),
        Frame::GoAway(g) => {
            st.goaway = true;
            let dropped: Vec<StreamId> = st
                .streams
                .keys()
                .copied()
                .filter(|&id| id > g.last_stream_id)
                .collect();
            for id in dropped {
                st.finish(id, Some(Err(ExchangeError::GoAway)), None);
            }
            for w in st.permit_waiters.drain(..) {
                w.wake();
            }
        }
        Frame::WindowUpdate(w) => {
            let ok = if w.stream_id == 0 {
                st.send_conn.apply_window_update(w.increment).is_ok()
            } else {
                st.streams
                    .get_mut(&w.stream_id)
                    .is_none_or(|s| s.send.apply_window_update(w.increment).is_ok())
            };
            if !ok {
                GoAway::new(0, ErrorCode::FlowControlError).encode(&mut out);
                st.fail_all(|| ExchangeError::H2("window overflow"));
                return false;
            }
            send_client_bodies(st, &s.body, &mut out);
        }
        Frame::PushPromise(_) => {
            GoAway::new(0, ErrorCode::ProtocolError).encode(&mut out);
            st.fail_all(|| ExchangeError::H2("PUSH_PROMISE although disabled"));
            return false;
        }
        _ => {}
    }
    true
}

// ---------------------------------------------------------------------------------------------
// The backend's side.

/// What the backend's h2 connections share on one shard.
pub(crate) struct H2Backend {
    /// The response body (sliced into DATA frames).
    pub body: Bytes,
    /// Most streams open at once on any one connection, over all shards.
    pub high_water: Arc<AtomicU64>,
}

struct ServerStream {
    send: Window,
    /// Response bytes still to send (0 until the response is due).
    left: usize,
    recv_unacked: u32,
}

struct ServerState {
    hpack: hawser_hpack::Encoder,
    peer: PeerSettings,
    send_conn: Window,
    recv_conn_unacked: u32,
    last_id: StreamId,
    streams: HashMap<StreamId, ServerStream>,
    sending: VecDeque<StreamId>,
}

struct ServerConn {
    state: RefCell<ServerState>,
    wire: Wire,
    h2: Rc<H2Backend>,
}

impl ServerConn {
    /// Queues HEADERS and DATA of the response on `id` (nothing if the stream was reset).
    fn respond(&self, id: StreamId) {
        let mut st = self.state.borrow_mut();
        let st = &mut *st;
        if !st.streams.contains_key(&id) {
            return;
        }
        let size = self.h2.body.len();
        let len = size.to_string();
        let mut block = BytesMut::with_capacity(32);
        st.hpack.encode(
            [
                Header::new(b":status", b"200"),
                Header::new(b"content-length", len.as_bytes()),
            ],
            &mut block,
        );
        let mut out = self.wire.out.borrow_mut();
        encode_headers(
            &Headers::new(id, block.freeze(), size == 0),
            st.peer.max_frame,
            &mut out,
        );
        if size == 0 {
            st.streams.remove(&id);
            return;
        }
        if let Some(s) = st.streams.get_mut(&id) {
            s.left = size;
        }
        st.sending.push_back(id);
        self.send_bodies(st, &mut out);
    }

    fn send_bodies(&self, st: &mut ServerState, out: &mut BytesMut) {
        let done = send_queued(
            &mut st.sending,
            &mut st.streams,
            &mut st.send_conn,
            st.peer.max_frame,
            &self.h2.body,
            |s| (&mut s.send, &mut s.left),
            out,
        );
        for id in done {
            st.streams.remove(&id);
        }
    }
}

/// What the read loop does after a frame.
enum Next {
    Go,
    /// Answer this stream (its request ended).
    Answer(StreamId),
    /// Send what is queued and close.
    Close,
}

/// Serves one h2c connection: every stream gets `200` with the shard's body once its request
/// ended, after `before_answer` (the configured latency).
///
/// `inline`: the answer needs no waiting (no latency), so due streams are answered in the read
/// loop instead of in a task each.
pub(crate) async fn serve_h2<F, Fut>(
    stream: TcpStream,
    h2: Rc<H2Backend>,
    inline: bool,
    before_answer: F,
) where
    F: Fn() -> Fut + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    let _ = stream.set_nodelay(true);
    let (mut rd, wr) = futures_lite::io::split(stream);
    let conn = Rc::new(ServerConn {
        state: RefCell::new(ServerState {
            hpack: hawser_hpack::Encoder::new(hawser_hpack::DEFAULT_TABLE_SIZE),
            peer: PeerSettings::default(),
            send_conn: Window::default(),
            recv_conn_unacked: 0,
            last_id: 0,
            streams: HashMap::new(),
            sending: VecDeque::new(),
        }),
        wire: Wire::new(wr),
        h2,
    });
    local_preface(false, &mut conn.wire.out.borrow_mut());
    let mut dec = Decoder::server();
    let mut hpack = hawser_hpack::Decoder::new(hawser_hpack::DEFAULT_TABLE_SIZE);
    let mut buf = BytesMut::with_capacity(32 * 1024);
    let mut block: Option<Block> = None;
    // Answers due with no latency are written together after the frames of one read.
    let mut due = Vec::new();
    loop {
        loop {
            let frame = match dec.decode(&mut buf) {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => {
                    let close = {
                        let st = &mut *conn.state.borrow_mut();
                        let mut out = conn.wire.out.borrow_mut();
                        match e.stream_id() {
                            Some(id) => {
                                RstStream::new(id, e.code()).encode(&mut out);
                                st.streams.remove(&id);
                                false
                            }
                            None => {
                                GoAway::new(st.last_id, e.code()).encode(&mut out);
                                true
                            }
                        }
                    };
                    if close {
                        let _ = conn.wire.flush().await;
                        return;
                    }
                    continue;
                }
            };
            let frame = match assemble(&mut block, frame) {
                Ok(None) => continue,
                Ok(Some(f)) | Err(f) => f,
            };
            match on_server_frame(&conn, &mut hpack, frame) {
                Next::Go => {}
                Next::Answer(id) => due.push(id),
                Next::Close => {
                    let _ = conn.wire.flush().await;
                    return;
                }
            }
        }
        for id in due.drain(..) {
            let fut = before_answer();
            if inline {
                fut.await;
                conn.respond(id);
                continue;
            }
            let c = conn.clone();
            spawn_local(async move {
                fut.await;
                c.respond(id);
                let _ = c.wire.flush().await;
            })
            .detach();
        }
        if conn.wire.broken.get() {
            return;
        }
        if !conn.wire.out.borrow().is_empty() {
            // In its own task, so that a full socket never stops this loop from reading.
            let c = conn.clone();
            spawn_local(async move {
                let _ = c.wire.flush().await;
            })
            .detach();
        }
        match fill(&mut rd, &mut buf).await {
            Ok(true) => {}
            Ok(false) | Err(_) => return,
        }
    }
}

fn on_server_frame(conn: &ServerConn, hpack: &mut hawser_hpack::Decoder, frame: Frame) -> Next {
    let st = &mut *conn.state.borrow_mut();
    let mut out = conn.wire.out.borrow_mut();
    let goaway = |st: &ServerState, out: &mut BytesMut, code| {
        GoAway::new(st.last_id, code).encode(out);
        Next::Close
    };
    match frame {
        Frame::Headers(h) => {
            if hpack.decode(&h.fragment, |_| {}).is_err() {
                return goaway(st, &mut out, ErrorCode::CompressionError);
            }
            let id = h.stream_id;
            if st.streams.contains_key(&id) {
                // Trailers.
                return if h.end_stream {
                    Next::Answer(id)
                } else {
                    Next::Go
                };
            }
            if id % 2 == 0 || id <= st.last_id {
                return goaway(st, &mut out, ErrorCode::ProtocolError);
            }
            st.last_id = id;
            if st.streams.len() >= BACKEND_MAX_STREAMS as usize {
                RstStream::new(id, ErrorCode::RefusedStream).encode(&mut out);
                return Next::Go;
            }
            st.streams.insert(
                id,
                ServerStream {
                    send: Window::new(st.peer.initial_window),
                    left: 0,
                    recv_unacked: 0,
                },
            );
            conn.h2
                .high_water
                .fetch_max(st.streams.len() as u64, Ordering::Relaxed);
            if h.end_stream {
                return Next::Answer(id);
            }
        }
        Frame::Data(d) => {
            let n = d.flow_len();
            give_back(&mut st.recv_conn_unacked, n, CONN_WINDOW, 0, &mut out);
            if let Some(s) = st.streams.get_mut(&d.stream_id) {
                if d.end_stream {
                    return Next::Answer(d.stream_id);
                }
                give_back(&mut s.recv_unacked, n, STREAM_WINDOW, d.stream_id, &mut out);
            }
        }
        Frame::RstStream(r) => {
            st.streams.remove(&r.stream_id);
        }
        Frame::Settings(s) if !s.ack => {
            let old = st.peer.initial_window;
            let mut table = usize::MAX;
            apply_client_settings(&s, &mut st.peer, &mut table);
            if table != usize::MAX {
                st.hpack.set_peer_max_table_size(table);
            }
            let new = st.peer.initial_window;
            for s in st.streams.values_mut() {
                if s.send.apply_initial_window_change(old, new).is_err() {
                    return goaway(st, &mut out, ErrorCode::FlowControlError);
                }
            }
            Settings::ack().encode(&mut out);
            conn.send_bodies(st, &mut out);
        }
        Frame::Ping(p) if !p.ack => p.to_ack().encode(&mut out),
        Frame::WindowUpdate(w) => {
            let ok = if w.stream_id == 0 {
                st.send_conn.apply_window_update(w.increment).is_ok()
            } else {
                st.streams
                    .get_mut(&w.stream_id)
                    .is_none_or(|s| s.send.apply_window_update(w.increment).is_ok())
            };
            if !ok {
                return goaway(st, &mut out, ErrorCode::FlowControlError);
            }
            conn.send_bodies(st, &mut out);
        }
        Frame::GoAway(_) => {}
        _ => {}
    }
    Next::Go
}
