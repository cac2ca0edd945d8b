//! The fast backend shipped with the harness: one pinned shard per CPU, each binding the port
//! with `SO_REUSEPORT`, answering every request after an optional fixed latency. Pipelined
//! requests are answered in order.
//!
//! - HTTP/1.1: `200 OK` and a fixed-size body prepared once.
//! - Thrift (framed, binary): every `CALL` gets a strict `REPLY` with the call's method name and
//!   seqid and a success binary field (id 0) of the response size; `ONEWAY` calls get nothing.
//!   Any other message, or one that does not decode, closes the connection.
//! - HTTP/2 (h2c, prior knowledge): every stream gets HEADERS (`:status 200`, `content-length`)
//!   and DATA of the response size with END_STREAM once its request ended (request bodies are
//!   read to END_STREAM), within the client's flow-control windows (queued until a
//!   WINDOW_UPDATE); SETTINGS with MAX_CONCURRENT_STREAMS 1000, PING answered, GOAWAY and close
//!   on a protocol error (see [`crate::h2`]). The most streams open at once on one connection
//!   is kept ([`Backend::max_concurrent_streams`]).
//!
//! For the harness's own tests it can stall a whole shard once (a blocking sleep, like a GC
//! pause), which is what coordinated-omission correction is checked against. It does not route,
//! log, or look at request bodies beyond framing them.

use std::cell::Cell;
use std::future::Future;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use crate::rt::{TcpListener, TcpStream, read_buf, sleep, spawn_local, spawn_pinned};
use bytes::{BufMut, Bytes, BytesMut};
use futures_lite::AsyncWriteExt;
use hawser_http1::{BodyDecoder, Decoded, Limits, Peer, take_request};
use hawser_thrift::{Message, MessageHeader, MessageType};

use crate::h2::{H2Backend, serve_h2};
use crate::shape::Protocol;

/// A one-time stall of every backend shard: after `after_requests` requests on a shard, that
/// shard's thread sleeps for `pause` (nothing on it runs meanwhile).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stall {
    /// Requests answered before the stall.
    pub after_requests: u64,
    /// How long the shard stops.
    pub pause: Duration,
}

/// How to run the backend.
#[derive(Debug, Clone)]
pub struct BackendSpec {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// What it speaks.
    pub protocol: Protocol,
    /// Response body size in bytes (Thrift: the success binary's size).
    pub size: usize,
    /// Added before each response.
    pub latency: Duration,
    /// One shard per CPU.
    pub cpus: Vec<usize>,
    /// Optional one-time stall (tests).
    pub stall: Option<Stall>,
}

/// Work for a backend shard's thread: called there, its future runs beside the backend's tasks.
pub type Job = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()>>> + Send>;

/// How often a shard looks for a stop or for [`Job`]s when nothing else wakes it.
const TICK: Duration = Duration::from_millis(2);

/// A running backend. Dropping it stops the shards (within a few ms).
pub struct Backend {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    h2_streams: Arc<AtomicU64>,
    handles: Vec<std::thread::JoinHandle<Result<(), String>>>,
    /// Each shard's CPU and its job inbox.
    jobs: Vec<(usize, mpsc::Sender<Job>)>,
}

impl Backend {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// HTTP/2: the most streams that were open at once on one connection so far.
    pub fn max_concurrent_streams(&self) -> u64 {
        self.h2_streams.load(Ordering::Relaxed)
    }

    /// Whether a shard runs on `cpu`.
    pub fn has_cpu(&self, cpu: usize) -> bool {
        self.jobs.iter().any(|(c, _)| *c == cpu)
    }

    /// Runs `job` on the thread of the shard on `cpu`, beside its serving (within a tick).
    ///
    /// # Errors
    /// When no shard runs on `cpu` or it has exited.
    pub fn spawn_on(&self, cpu: usize, job: Job) -> Result<(), String> {
        let (_, tx) = self
            .jobs
            .iter()
            .find(|(c, _)| *c == cpu)
            .ok_or_else(|| format!("no backend shard on CPU {cpu}"))?;
        tx.send(job)
            .map_err(|_| format!("the backend shard on CPU {cpu} has exited"))
    }

    /// Blocks until the shards exit (never, unless stopped from elsewhere).
    pub fn wait(mut self) {
        for h in std::mem::take(&mut self.handles) {
            let _ = h.join();
        }
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for h in std::mem::take(&mut self.handles) {
            let _ = h.join();
        }
    }
}

/// A port on 127.0.0.1 that was free a moment ago.
///
/// # Errors
/// When no socket can be bound.
pub fn free_port() -> Result<u16, String> {
    let l = StdListener::bind("127.0.0.1:0").map_err(|e| format!("bind 127.0.0.1:0: {e}"))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("local_addr: {e}"))
}

/// The full HTTP/1.1 response every request gets.
pub fn response_bytes(size: usize) -> Bytes {
    let mut out = BytesMut::with_capacity(96 + size);
    out.put_slice(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n");
    out.put_slice(format!("Content-Length: {size}\r\n\r\n").as_bytes());
    out.put_bytes(b'x', size);
    out.freeze()
}

/// Starts the backend and returns once every shard listens.
///
/// # Errors
/// When no CPU is given, a shard cannot start or the port cannot be bound.
pub fn start_backend(spec: &BackendSpec) -> Result<Backend, String> {
    if spec.cpus.is_empty() {
        return Err("no CPUs for the backend".into());
    }
    let port = if spec.port == 0 {
        free_port()?
    } else {
        spec.port
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let stop = Arc::new(AtomicBool::new(false));
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), String>>();
    let h2_streams = Arc::new(AtomicU64::new(0));
    let mut backend = Backend {
        addr,
        stop: stop.clone(),
        h2_streams: h2_streams.clone(),
        handles: Vec::new(),
        jobs: Vec::new(),
    };
    for (i, &cpu) in spec.cpus.iter().enumerate() {
        let ready = ready_tx.clone();
        let stop = stop.clone();
        let spec = spec.clone();
        let h2_streams = h2_streams.clone();
        let (job_tx, jobs) = mpsc::channel::<Job>();
        backend.jobs.push((cpu, job_tx));
        let h = spawn_pinned(cpu, &format!("bench-backend-{i}"), move || {
            serve_shard(addr, spec, stop, ready, h2_streams, jobs)
        })
        .map_err(|e| format!("backend shard on CPU {cpu}: {e}"))?;
        backend.handles.push(h);
    }
    drop(ready_tx);
    for _ in 0..spec.cpus.len() {
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => {
                let why = std::mem::take(&mut backend.handles)
                    .into_iter()
                    .filter(std::thread::JoinHandle::is_finished)
                    .find_map(|h| h.join().ok().and_then(Result::err));
                return Err(why.unwrap_or_else(|| "a backend shard exited early".into()));
            }
        }
    }
    Ok(backend)
}

async fn serve_shard(
    addr: SocketAddr,
    spec: BackendSpec,
    stop: Arc<AtomicBool>,
    ready: std::sync::mpsc::Sender<Result<(), String>>,
    h2_streams: Arc<AtomicU64>,
    jobs: mpsc::Receiver<Job>,
) {
    let listener = match TcpListener::bind(addr) {
        Ok(l) => l,
        Err(e) => {
            let _ = ready.send(Err(format!("backend: bind {addr}: {e}")));
            return;
        }
    };
    let _ = ready.send(Ok(()));
    let shared = Rc::new(ShardState {
        response: match spec.protocol {
            Protocol::Http1 => response_bytes(spec.size),
            Protocol::Thrift | Protocol::H2 => Bytes::from(vec![b'x'; spec.size]),
        },
        latency: spec.latency,
        stall: spec.stall,
        answered: Cell::new(0),
    });
    let h2 = Rc::new(H2Backend {
        body: shared.response.clone(),
        high_water: h2_streams,
    });
    loop {
        let accept = async { Some(listener.accept().await) };
        let tick = async {
            sleep(TICK).await;
            None
        };
        match futures_lite::future::or(accept, tick).await {
            Some(Ok(stream)) => {
                let shared = shared.clone();
                match spec.protocol {
                    Protocol::Http1 => spawn_local(async move { serve_conn(stream, shared).await }),
                    Protocol::Thrift => {
                        spawn_local(async move { serve_thrift(stream, shared).await })
                    }
                    Protocol::H2 => {
                        let h2 = h2.clone();
                        let inline = shared.latency.is_zero();
                        spawn_local(async move {
                            let answer = move || {
                                let shared = shared.clone();
                                async move { shared.before_answer().await }
                            };
                            serve_h2(stream, h2, inline, answer).await;
                        })
                    }
                }
                .detach();
            }
            Some(Err(_)) => sleep(Duration::from_millis(1)).await,
            None => {}
        }
        while let Ok(job) = jobs.try_recv() {
            spawn_local(job()).detach();
        }
        if stop.load(Ordering::Relaxed) {
            return;
        }
    }
}

struct ShardState {
    /// HTTP/1.1: the whole response; Thrift: the success payload.
    response: Bytes,
    latency: Duration,
    stall: Option<Stall>,
    answered: Cell<u64>,
}

impl ShardState {
    /// The configured latency, then the count, then the one-time stall when it is due.
    async fn before_answer(&self) {
        if !self.latency.is_zero() {
            sleep(self.latency).await;
        }
        let n = self.answered.get() + 1;
        self.answered.set(n);
        if let Some(stall) = self.stall
            && n == stall.after_requests
        {
            // Deliberately blocks the whole shard, like a process pause.
            std::thread::sleep(stall.pause);
        }
    }
}

/// Thrift: reply to every framed call in the buffer, then write once.
async fn serve_thrift(mut stream: TcpStream, shared: Rc<ShardState>) {
    let _ = stream.set_nodelay(true);
    let limits = hawser_thrift::Limits::default();
    let mut buf = BytesMut::with_capacity(16 * 1024);
    let mut out = BytesMut::with_capacity(16 * 1024);
    loop {
        loop {
            let frame = match hawser_thrift::take_frame(&mut buf, &limits) {
                Ok(hawser_thrift::Decoded::Done(frame)) => frame,
                Ok(hawser_thrift::Decoded::NeedMore(_)) => break,
                Err(_) => return,
            };
            let Ok(call) = Message::load(&frame, &limits) else {
                return;
            };
            match call.header.kind {
                MessageType::Call => {}
                MessageType::Oneway => continue,
                MessageType::Reply | MessageType::Exception => return,
            }
            shared.before_answer().await;
            let reply = MessageHeader {
                kind: MessageType::Reply,
                strict: true,
                ..call.header
            };
            if hawser_thrift::encode_framed_binary(&reply, 0, &shared.response, &mut out).is_err() {
                return;
            }
        }
        if !flush_and_fill(&mut stream, &mut out, &mut buf).await {
            return;
        }
    }
}

async fn serve_conn(mut stream: TcpStream, shared: Rc<ShardState>) {
    let _ = stream.set_nodelay(true);
    let limits = Limits::default();
    let mut buf = BytesMut::with_capacity(16 * 1024);
    let mut out = BytesMut::with_capacity(16 * 1024);
    loop {
        // Answer every complete request in the buffer, then write once.
        loop {
            let head = match take_request(&mut buf, &limits) {
                Ok(Some(h)) => h,
                Ok(None) => break,
                Err(e) => {
                    let msg = format!(
                        "HTTP/1.1 {} {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                        e.status(),
                        e.reason()
                    );
                    out.put_slice(msg.as_bytes());
                    let _ = stream.write_all(&out).await;
                    return;
                }
            };
            let Ok(framing) = head.body_framing() else {
                return;
            };
            let mut body = BodyDecoder::new(framing, Peer::Downstream, &limits);
            loop {
                match body.decode(&mut buf) {
                    Ok(Decoded::Done) => break,
                    Ok(Decoded::Data(_) | Decoded::Trailers(_)) => {}
                    Ok(Decoded::NeedMore) => {
                        if !fill(&mut stream, &mut buf).await {
                            return;
                        }
                    }
                    Err(_) => return,
                }
            }
            shared.before_answer().await;
            out.put_slice(&shared.response);
            if !head.keep_alive() {
                let _ = stream.write_all(&out).await;
                return;
            }
        }
        if !flush_and_fill(&mut stream, &mut out, &mut buf).await {
            return;
        }
    }
}

/// Writes the answers gathered in `out` (if any) in one write, then waits for more requests in
/// `buf`; false when the connection is done (write error, EOF or read error).
async fn flush_and_fill(stream: &mut TcpStream, out: &mut BytesMut, buf: &mut BytesMut) -> bool {
    if !out.is_empty() {
        if stream.write_all(out).await.is_err() {
            return false;
        }
        out.clear();
    }
    fill(stream, buf).await
}

/// Reads more into `buf`; false on EOF or error.
async fn fill(stream: &mut TcpStream, buf: &mut BytesMut) -> bool {
    read_buf(stream, buf).await.is_ok_and(|n| n > 0)
}
