//! The HTTP/1.1 proxy driver: one task per downstream connection, reading
//! requests with the sans-IO codec, routing each one and relaying it to an
//! upstream connection from the shard's pool, streaming bodies both ways.
//!
//! Requests on one connection are handled in order, so pipelined requests
//! are answered in order. Bodies are never buffered whole: each read is
//! decoded and written on before the next read. This is the only place
//! where the HTTP/1 codec meets sockets; it holds no locks and no state
//! shared with other shards.

use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use bytes::BytesMut;
use hawser_http1 as h1;

use super::error::{ProxyError, Source, encode_l5d_err};
use super::router::{RouteError, Routed, Router};
use super::tunnel::tunnel;
use crate::client::Upstream;
use crate::net::{Scratch, TcpStream, close_write, write_all};
use crate::runtime::{CoarseTimers, Drain};
use crate::telemetry::{Outcome, ServiceStats};

/// How long a body read or an upstream response may stall.
const IO_IDLE: Duration = Duration::from_secs(300);

/// What a downstream connection needs from its shard.
pub struct ConnEnv {
    /// The router this server feeds.
    pub router: Rc<Router>,
    /// Strip incoming `l5d-ctx-*`/`l5d-dtab` (server `clearContext`).
    pub clear_context: bool,
    /// The shard's read scratch buffer.
    pub scratch: Rc<Scratch>,
    /// The shard's drain state.
    pub drain: Rc<Drain>,
    /// The shard's coarse timeouts.
    pub timers: Rc<CoarseTimers>,
    /// An h2 server's HTTP/2 settings.
    pub h2: Option<hawser_http2::Config>,
    /// The address this server listens on (the recent requests' `server`).
    pub server: SocketAddr,
}

/// Whether the downstream connection survives the exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    KeepAlive,
    Close,
}

/// Serves one downstream connection until it closes.
pub async fn serve(mut stream: TcpStream, peer: SocketAddr, env: Rc<ConnEnv>) {
    let _open = env.drain.open();
    let _counted = env.router.stats.connection();
    stream.set_nodelay(true).ok();
    let mut rbuf = BytesMut::new();
    loop {
        // Idle: wait for the first byte of the next request in a small
        // future, bounded by the keep-alive idle timeout and cut short by a
        // drain. Only an active request gets the (boxed) request future, so
        // an idle connection holds neither a buffer nor a large state machine.
        if rbuf.is_empty()
            && !wait_for_request(
                &mut stream,
                &mut rbuf,
                &env,
                Some(env.router.plan.idle_timeout),
            )
            .await
        {
            break;
        }
        if Box::pin(one_request(&mut stream, &mut rbuf, &env, peer)).await == Next::Close
            || env.drain.is_draining()
        {
            break;
        }
        if rbuf.is_empty() {
            rbuf = BytesMut::new();
        }
    }
    Box::pin(async {
        close_write(&mut stream).await;
        linger(&mut stream, &env).await;
    })
    .await;
}

/// Waits for the next request's first bytes; false when the connection
/// should end instead (client closed, `idle` passed, drain, error). Shared
/// by the protocol drivers.
pub(super) fn wait_for_request<'a>(
    stream: &'a mut TcpStream,
    rbuf: &'a mut BytesMut,
    env: &'a ConnEnv,
    idle: Option<Duration>,
) -> WaitForRequest<'a> {
    WaitForRequest {
        stream,
        rbuf,
        env,
        deadline: idle.map(|d| crate::runtime::exec::now() + d),
        timer: None,
        drain: None,
    }
}

/// The idle state of a keep-alive connection, written by hand (rather than
/// as `timeout(or(read, drain))`) because every idle connection holds one:
/// it keeps the connection's future small.
pub(super) struct WaitForRequest<'a> {
    stream: &'a mut TcpStream,
    rbuf: &'a mut BytesMut,
    env: &'a ConnEnv,
    deadline: Option<std::time::Instant>,
    timer: Option<usize>,
    drain: Option<usize>,
}

impl std::future::Future for WaitForRequest<'_> {
    type Output = bool;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<bool> {
        use std::task::Poll;
        let this = self.get_mut();
        match this
            .env
            .scratch
            .poll_read(cx, this.stream, this.rbuf, crate::net::SCRATCH_SIZE)
        {
            Poll::Ready(Ok(n)) => return Poll::Ready(n > 0),
            Poll::Ready(Err(_)) => return Poll::Ready(false),
            Poll::Pending => {}
        }
        if this.env.drain.poll_draining(&mut this.drain, cx)
            || this
                .deadline
                .is_some_and(|d| this.env.timers.poll_expired(d, &mut this.timer, cx))
        {
            return Poll::Ready(false);
        }
        Poll::Pending
    }
}

impl Drop for WaitForRequest<'_> {
    fn drop(&mut self) {
        self.env.drain.unregister(&mut self.drain);
        self.env.timers.unregister(&mut self.timer);
    }
}

/// Reads one request head and handles the exchange.
async fn one_request(
    stream: &mut TcpStream,
    rbuf: &mut BytesMut,
    env: &ConnEnv,
    peer: SocketAddr,
) -> Next {
    let head = match read_request_head(stream, rbuf, env).await {
        Ok(Some(h)) => h,
        Ok(None) => return Next::Close,
        Err(e) => {
            respond_error(stream, &e, true).await;
            record_failure(env, None, &e, crate::runtime::exec::now());
            return Next::Close;
        }
    };
    exchange(stream, rbuf, head, env, peer).await
}

/// How long a closing connection keeps reading (and discarding) what the
/// client still sends, and how much of it.
const LINGER_TIME: Duration = Duration::from_secs(2);
const LINGER_BYTES: usize = 1 << 20;

/// Lingering close (RFC 9112 section 9.6): after our FIN, read and discard
/// until the client closes too (bounded in time and bytes), so unread
/// request bytes do not make the kernel answer with a reset that could
/// destroy the response before the client has read it.
async fn linger(stream: &mut TcpStream, env: &ConnEnv) {
    let mut sink = BytesMut::new();
    let mut total = 0;
    let _ = env
        .timers
        .timeout(LINGER_TIME, async {
            while total < LINGER_BYTES {
                sink.clear();
                match env.scratch.read(stream, &mut sink).await? {
                    0 => break,
                    n => total += n,
                }
            }
            Ok(())
        })
        .await;
}

/// Reads one request head, of which `rbuf` already holds the first bytes
/// ([`serve`] waited for them). `Ok(None)` when the socket failed.
async fn read_request_head(
    stream: &mut TcpStream,
    rbuf: &mut BytesMut,
    env: &ConnEnv,
) -> Result<Option<h1::RequestHead>, ProxyError> {
    let router = &env.router;
    // From the first byte on, the whole head must arrive within the header
    // deadline (slowloris protection).
    let deadline = router.header_timeout;
    let started = crate::runtime::exec::now();
    loop {
        match h1::take_request(rbuf, &router.limits) {
            Ok(Some(head)) => return Ok(Some(head)),
            Ok(None) => {}
            Err(e) => return Err(ProxyError::downstream(e.status(), e.reason())),
        }
        let left =
            deadline.saturating_sub(crate::runtime::exec::now().saturating_duration_since(started));
        if left.is_zero() {
            return Err(ProxyError::downstream(408, "request header timeout"));
        }
        match env
            .timers
            .timeout(left, env.scratch.read(stream, rbuf))
            .await
        {
            Ok(0) => {
                return Err(ProxyError::downstream(
                    400,
                    "connection closed in the middle of a request head",
                ));
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                return Err(ProxyError::downstream(408, "request header timeout"));
            }
            Err(_) => return Ok(None),
        }
    }
}

/// Handles one request/response exchange.
async fn exchange(
    down: &mut TcpStream,
    rbuf: &mut BytesMut,
    head: h1::RequestHead,
    env: &ConnEnv,
    peer: SocketAddr,
) -> Next {
    let started = crate::runtime::exec::now();
    let framing = match head.body_framing() {
        Ok(f) => f,
        Err(e) => {
            let e = ProxyError::downstream(e.status(), e.reason());
            respond_error(down, &e, true).await;
            record_failure(env, None, &e, started);
            return Next::Close;
        }
    };
    let has_body = framing.has_body();
    let client_keep_alive = head.keep_alive();
    let wants_continue = match head.expects_continue() {
        Ok(c) => c,
        Err(e) => {
            let close = has_body || !client_keep_alive;
            let e = ProxyError::downstream(e.status(), e.reason());
            respond_error(down, &e, close).await;
            record_failure(env, None, &e, started);
            return if close { Next::Close } else { Next::KeepAlive };
        }
    };
    let routed = match env.router.route(&head, env.clear_context).await {
        Ok(r) => r,
        Err(RouteError { error: e, stats }) => {
            // The body (if any) was not read: the connection cannot be reused.
            respond_error(down, &e, has_body || !client_keep_alive).await;
            record_failure(env, stats.as_deref(), &e, started);
            return if has_body || !client_keep_alive {
                Next::Close
            } else {
                Next::KeepAlive
            };
        }
    };
    let deadline = env.router.plan.total_timeout.map(|t| started + t);
    // Retries (service.responseClassifier, service.retries): only for requests without a
    // body (nothing to replay), of a method the classifier calls retryable.
    let policy = env
        .router
        .plan
        .retry
        .as_ref()
        .zip(routed.budget.as_deref())
        .filter(|(p, _)| {
            p.classifier.retryable_method(head.method()) && !has_body && !head.is_upgrade()
        });
    if let Some((_, budget)) = policy {
        budget.deposit(crate::resilience::budget::now_secs());
    }
    let mut retries = 0;
    let mut requeues = 0;
    let mut waited = None;
    // Endpoints that failed this request (a refused connect, a retryable 5XX): the next
    // attempt avoids them while the name has others.
    let mut tried: Vec<SocketAddr> = Vec::new();
    // The endpoint the last attempt went to (for the recent requests).
    let last_dst = std::cell::Cell::new(None);
    routed
        .target
        .requeue
        .deposit(crate::resilience::budget::now_secs());
    let sampled = env.router.stats.sample_recent();
    let arrived = sampled.then(std::time::SystemTime::now);
    let result = loop {
        let grant = |status: u16| {
            let Some((p, budget)) = policy else {
                return false;
            };
            let now = crate::runtime::exec::now();
            retries < MAX_RETRIES
                && p.classifier.retryable(head.method(), status)
                && deadline.is_none_or(|d| now < d)
                && budget.try_withdraw(crate::resilience::budget::secs(now))
        };
        let attempt = relay(
            down,
            rbuf,
            &head,
            framing,
            wants_continue,
            &routed,
            deadline,
            &grant,
            &mut tried,
            &last_dst,
            env,
        )
        .await;
        match attempt {
            Ok(Relayed::Retry(status)) => {
                retries += 1;
                routed.stats.retried();
                routed.target.stats.record(true);
                let Some((p, _)) = policy else {
                    break Ok((Next::Close, Some(status)));
                };
                let wait = p.backoff.next(waited, fastrand::f64());
                waited = Some(wait);
                let wait = match deadline {
                    Some(d) => wait.min(d.saturating_duration_since(crate::runtime::exec::now())),
                    None => wait,
                };
                if !wait.is_zero() {
                    crate::runtime::exec::sleep(wait).await;
                }
            }
            Ok(Relayed::Done(next, status)) => break Ok((next, status)),
            // A requeue: the connect failed, so nothing reached any upstream.
            Err((e, false))
                if e.source == Source::Upstream
                    && !e.maybe_reached_upstream
                    && routed.target.try_requeue(requeues, &tried, deadline) =>
            {
                requeues += 1;
                routed.stats.requeued();
                routed.target.stats.record(true);
            }
            Err(e) => break Err(e),
        }
    };
    if let Some(at) = arrived {
        let row = routed.recent_row(at, peer, env.server, last_dst.get());
        env.router.stats.record_recent(row);
    }
    match result {
        Ok((next, status)) => {
            let outcome = status.map_or(Outcome::None, Outcome::Status);
            let took = crate::runtime::exec::now().saturating_duration_since(started);
            routed.stats.record(outcome, false, took);
            routed.target.stats.record(false);
            if client_keep_alive { next } else { Next::Close }
        }
        Err((e, responded)) => {
            if !responded {
                respond_error(down, &e, true).await;
            }
            let outcome = if responded {
                Outcome::None
            } else {
                Outcome::Status(e.status)
            };
            let took = crate::runtime::exec::now().saturating_duration_since(started);
            routed.stats.record(outcome, !responded, took);
            if e.source != Source::Proxy {
                routed.target.stats.record(e.source == Source::Upstream);
            }
            Next::Close
        }
    }
}

/// Counts an exchange hawser answered with `e` before it reached an upstream: under its
/// logical name's `stats`, or under the name `""` when it was not identified.
fn record_failure(
    env: &ConnEnv,
    stats: Option<&ServiceStats>,
    e: &ProxyError,
    started: std::time::Instant,
) {
    let took = crate::runtime::exec::now().saturating_duration_since(started);
    let outcome = Outcome::Status(e.status);
    match stats {
        Some(s) => s.record(outcome, true, took),
        None => env.router.stats.service("").record(outcome, true, took),
    }
}

/// Sends the request upstream and the response back, and says the response's
/// status (`None` when the client went away first). On error, says whether
/// a response (or part of one) already went to the client.
#[allow(clippy::too_many_arguments)]
async fn relay(
    down: &mut TcpStream,
    rbuf: &mut BytesMut,
    head: &h1::RequestHead,
    framing: h1::Framing,
    wants_continue: bool,
    routed: &Routed,
    deadline: Option<std::time::Instant>,
    retry: &dyn Fn(u16) -> bool,
    failed: &mut Vec<SocketAddr>,
    last_dst: &std::cell::Cell<Option<SocketAddr>>,
    env: &ConnEnv,
) -> Result<Relayed, (ProxyError, bool)> {
    let router = &env.router;
    let (endpoint, _inflight) = routed
        .target
        .endpoints
        .pick_avoiding(failed)
        .ok_or_else(|| (ProxyError::proxy(502, routed.no_hosts_reason()), false))?;
    last_dst.set(Some(endpoint.addr));
    let timed_out = || {
        let t = router.plan.total_timeout.unwrap_or_default();
        (total_timeout_error(&routed.service, t), false)
    };
    let mut up = match deadline {
        None => router.pool.checkout(endpoint.addr).await,
        Some(d) => {
            let left = d.saturating_duration_since(crate::runtime::exec::now());
            match env
                .timers
                .timeout(left, router.pool.checkout(endpoint.addr))
                .await
            {
                Err(e)
                    if e.kind() == std::io::ErrorKind::TimedOut
                        && crate::runtime::exec::now() >= d =>
                {
                    return Err(timed_out());
                }
                r => r,
            }
        }
    }
    .map_err(|e| {
        failed.push(endpoint.addr);
        accrue(&endpoint, false, env);
        (connect_error(endpoint.addr, &e), false)
    })?;

    // The request head for the upstream.
    let mut out = BytesMut::with_capacity(512);
    routed.encode_request_head(head, framing, fastrand::u64(..), &mut out);
    let body_is_empty = !framing.has_body();
    let mut request_complete = body_is_empty;

    // A reused connection may have been closed by the upstream just as we
    // picked it; when nothing of the body has been sent we retry once on a
    // fresh connection.
    let mut ubuf = BytesMut::new();
    let mut sent_body = false;
    let mut attempt = 0;
    let resp = loop {
        attempt += 1;
        if let Err(e) = write_all(&mut up.stream, &out).await {
            if up.reused && attempt == 1 {
                up = reconnect(router, &up).await?;
                continue;
            }
            return Err((upstream_io_error(endpoint.addr, &e, false), false));
        }
        if !body_is_empty && !sent_body {
            sent_body = true;
            let wait = wants_continue && rbuf.is_empty();
            match send_body(down, rbuf, &mut up, &mut ubuf, framing, wait, env).await? {
                BodySent::Done => request_complete = true,
                BodySent::EarlyResponse => {}
            }
        }
        match read_response(&mut up, &mut ubuf, down, head, deadline, env).await {
            Ok(r) => break r,
            Err(ReadFail::Stale) if up.reused && attempt == 1 && body_is_empty => {
                up = reconnect(router, &up).await?;
                ubuf.clear();
            }
            Err(ReadFail::Stale) => {
                accrue(&endpoint, false, env);
                return Err((
                    ProxyError::upstream(
                        true,
                        format!(
                            "upstream {} closed the connection before responding",
                            endpoint.addr
                        ),
                    ),
                    false,
                ));
            }
            Err(ReadFail::Proxy(e)) => {
                accrue(&endpoint, false, env);
                return Err((e, false));
            }
            Err(ReadFail::TimedOut) => {
                accrue(&endpoint, false, env);
                return Err(timed_out());
            }
            Err(ReadFail::ClientGone) => return Ok(Relayed::Done(Next::Close, None)),
        }
    };
    accrue(
        &endpoint,
        !env.router.plan.classifier.is_failure(resp.status()),
        env,
    );
    if retry(resp.status()) {
        // A retryable failure the budget pays for: nothing of it reaches the client, and the
        // upstream connection (with the unread body) is dropped.
        // The next attempt avoids this endpoint while the name has others.
        failed.push(endpoint.addr);
        return Ok(Relayed::Retry(resp.status()));
    }
    // The request head's buffer is free now: the response head reuses it.
    out.clear();
    let status = resp.status();
    send_response(down, rbuf, up, ubuf, out, head, resp, request_complete, env)
        .await
        .map(|next| Relayed::Done(next, Some(status)))
}

/// How one attempt at an exchange ended.
enum Relayed {
    /// The response went to the client (its status; `None` when the client left first).
    Done(Next, Option<u16>),
    /// A retryable failure with this status, to be retried (not on the endpoint that failed
    /// it, while there are others); the client saw nothing of it.
    Retry(u16),
}

/// Most retries of one request (the budget usually stops them first).
const MAX_RETRIES: u32 = 25;

/// Counts an attempt's outcome against its endpoint for failure accrual.
fn accrue(endpoint: &crate::client::Endpoint, ok: bool, env: &ConnEnv) {
    let plan = &env.router.plan;
    endpoint.record(ok, plan.accrual.as_ref(), crate::runtime::exec::now());
}

async fn reconnect(router: &Router, up: &Upstream) -> Result<Upstream, (ProxyError, bool)> {
    router
        .pool
        .connect(up.addr)
        .await
        .map_err(|e| (connect_error(up.addr, &e), false))
}

fn connect_error(addr: SocketAddr, e: &std::io::Error) -> ProxyError {
    ProxyError::upstream(false, connect_reason(addr, e))
}

/// Why connecting to an upstream failed, in the words `l5d-err` (or a Thrift
/// exception) carries.
pub(super) fn connect_reason(addr: SocketAddr, e: &std::io::Error) -> String {
    let what = if e.kind() == std::io::ErrorKind::TimedOut {
        "connect timed out".to_string()
    } else {
        e.to_string()
    };
    format!("connection to {addr} failed: {what}")
}

/// `service.totalTimeoutMs` passed before the upstream answered: 504, in linkerd's words.
pub(super) fn total_timeout_error(service: &str, t: std::time::Duration) -> ProxyError {
    ProxyError {
        status: 504,
        source: Source::Upstream,
        maybe_reached_upstream: true,
        reason: format!(
            "exceeded {} ms to {service} while waiting for a response for the request",
            t.as_millis()
        )
        .into(),
    }
}

fn upstream_io_error(addr: SocketAddr, e: &std::io::Error, reached: bool) -> ProxyError {
    ProxyError::upstream(reached, format!("upstream {addr}: {e}"))
}

enum BodySent {
    Done,
    /// The upstream answered before the body was sent (e.g. 417 to an
    /// `Expect: 100-continue`); the rest of the client's body is unread.
    EarlyResponse,
}

/// Streams the request body upstream, re-framing chunked bodies chunk by chunk.
async fn send_body(
    down: &mut TcpStream,
    rbuf: &mut BytesMut,
    up: &mut Upstream,
    ubuf: &mut BytesMut,
    framing: h1::Framing,
    mut wants_continue: bool,
    env: &ConnEnv,
) -> Result<BodySent, (ProxyError, bool)> {
    let mut dec = h1::BodyDecoder::new(framing, h1::Peer::Downstream, &env.router.limits);
    let chunked = matches!(framing, h1::Framing::Chunked);
    let mut out = BytesMut::new();
    loop {
        match dec.decode(rbuf) {
            Ok(h1::Decoded::Data(data)) => {
                out.clear();
                if chunked {
                    h1::encode_chunk_header(data.len() as u64, &mut out);
                    out.extend_from_slice(&data);
                    h1::encode_chunk_end(&mut out);
                    write_up(up, &out).await?;
                } else {
                    write_up(up, &data).await?;
                }
                continue;
            }
            Ok(h1::Decoded::Trailers(trailers)) => {
                out.clear();
                h1::encode_last_chunk(Some(&trailers), &mut out);
                write_up(up, &out).await?;
                return Ok(BodySent::Done);
            }
            Ok(h1::Decoded::Done) => {
                if chunked {
                    out.clear();
                    h1::encode_last_chunk(None, &mut out);
                    write_up(up, &out).await?;
                }
                return Ok(BodySent::Done);
            }
            Ok(h1::Decoded::NeedMore) => {}
            Err(e) => {
                return Err((ProxyError::downstream(e.status(), e.reason()), false));
            }
        }
        if wants_continue {
            // Wait for either the client's body (it gave up waiting) or the
            // upstream's interim/final answer.
            wants_continue = false;
            let from_client = async { env.scratch.read(down, rbuf).await.map(Some) };
            let from_upstream = async {
                env.scratch.read(&mut up.stream, ubuf).await?;
                Ok(None)
            };
            match env
                .timers
                .timeout(
                    IO_IDLE,
                    futures_lite::future::or(from_client, from_upstream),
                )
                .await
            {
                // Half-closed: nothing has been answered yet and the client may
                // still be reading, so it is told why (`false`: not responded).
                Ok(Some(0)) => {
                    return Err((
                        ProxyError::downstream(400, "client closed during the request body"),
                        false,
                    ));
                }
                Ok(Some(_)) => continue,
                Ok(None) => {
                    // Upstream spoke first: 100 Continue or a final response.
                    match h1::parse_response(ubuf, &env.router.limits) {
                        Ok(Some((rh, used))) if rh.status() == 100 => {
                            let _ = ubuf.split_to(used);
                            if write_all(down, b"HTTP/1.1 100 Continue\r\n\r\n")
                                .await
                                .is_err()
                            {
                                return Err((
                                    ProxyError::downstream(499, "client went away"),
                                    true,
                                ));
                            }
                            continue;
                        }
                        Ok(_) => return Ok(BodySent::EarlyResponse),
                        Err(e) => {
                            return Err((
                                ProxyError::upstream(
                                    true,
                                    format!("malformed response: {}", e.reason()),
                                ),
                                false,
                            ));
                        }
                    }
                }
                Err(e) => return Err((upstream_io_error(up.addr, &e, true), false)),
            }
        }
        match env
            .timers
            .timeout(IO_IDLE, env.scratch.read(down, rbuf))
            .await
        {
            Ok(0) => {
                return Err((
                    ProxyError::downstream(400, "client closed during the request body"),
                    false,
                ));
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                return Err((ProxyError::downstream(408, "request body timed out"), false));
            }
            // Reset: there is no one left to answer.
            Err(_) => return Err((ProxyError::downstream(499, "client went away"), true)),
        }
    }
}

async fn write_up(up: &mut Upstream, data: &[u8]) -> Result<(), (ProxyError, bool)> {
    write_all(&mut up.stream, data)
        .await
        .map_err(|e| (upstream_io_error(up.addr, &e, true), false))
}

enum ReadFail {
    /// Nothing at all came back: the connection was closed or reset.
    Stale,
    /// The exchange's `totalTimeoutMs` passed before the response head.
    TimedOut,
    Proxy(ProxyError),
    ClientGone,
}

/// Reads the final response head, relaying interim 1xx responses.
async fn read_response(
    up: &mut Upstream,
    ubuf: &mut BytesMut,
    down: &mut TcpStream,
    req: &h1::RequestHead,
    deadline: Option<std::time::Instant>,
    env: &ConnEnv,
) -> Result<h1::ResponseHead, ReadFail> {
    let mut got_any = !ubuf.is_empty();
    loop {
        match h1::take_response(ubuf, &env.router.limits) {
            Ok(Some(head)) => {
                let status = head.status();
                if status == 101 || !(100..200).contains(&status) {
                    return Ok(head);
                }
                // Interim: 100 Continue was handled while sending the body if
                // the client asked; relay other 1xx (e.g. 103) to 1.1 clients.
                if status != 100 && req.version() == h1::Version::Http11 {
                    let mut out = BytesMut::new();
                    h1::encode_response_head(&head, &h1::EncodeOptions::default(), &mut out);
                    if write_all(down, &out).await.is_err() {
                        return Err(ReadFail::ClientGone);
                    }
                }
                continue;
            }
            Ok(None) => {}
            Err(e) => {
                return Err(ReadFail::Proxy(ProxyError::upstream(
                    true,
                    format!(
                        "upstream {} sent a malformed response: {}",
                        up.addr,
                        e.reason()
                    ),
                )));
            }
        }
        let wait = match deadline {
            Some(d) => {
                let left = d.saturating_duration_since(crate::runtime::exec::now());
                if left.is_zero() {
                    return Err(ReadFail::TimedOut);
                }
                left.min(IO_IDLE)
            }
            None => IO_IDLE,
        };
        match env
            .timers
            .timeout(wait, env.scratch.read(&mut up.stream, ubuf))
            .await
        {
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut && wait < IO_IDLE => {
                return Err(ReadFail::TimedOut);
            }
            Ok(0) if !got_any => return Err(ReadFail::Stale),
            Ok(0) => {
                return Err(ReadFail::Proxy(ProxyError::upstream(
                    true,
                    format!(
                        "upstream {} closed the connection in the middle of a response head",
                        up.addr
                    ),
                )));
            }
            Ok(_) => got_any = true,
            Err(e) if !got_any && e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Err(ReadFail::Stale);
            }
            Err(e) => return Err(ReadFail::Proxy(upstream_io_error(up.addr, &e, true))),
        }
    }
}

/// Writes the response head and streams its body to the client; returns
/// the upstream connection to the pool when it is still usable.
#[allow(clippy::too_many_arguments)]
async fn send_response(
    down: &mut TcpStream,
    rbuf: &mut BytesMut,
    mut up: Upstream,
    mut ubuf: BytesMut,
    mut out: BytesMut,
    req: &h1::RequestHead,
    resp: h1::ResponseHead,
    request_complete: bool,
    env: &ConnEnv,
) -> Result<Next, (ProxyError, bool)> {
    let up_framing = match h1::response_framing(req.method(), &resp) {
        Ok(f) => f,
        Err(e) => {
            return Err((
                ProxyError::upstream(
                    true,
                    format!(
                        "upstream {} sent a response with bad framing: {}",
                        up.addr,
                        e.reason()
                    ),
                ),
                false,
            ));
        }
    };
    let client_11 = req.version() == h1::Version::Http11;
    let mut close = !request_complete || !req.keep_alive() || env.drain.is_draining();

    // Upgrade: relay the 101 and tunnel, only if the client asked for it.
    if resp.status() == 101 {
        if !req.is_upgrade() {
            return Err((
                ProxyError::upstream(true, "upstream switched protocols without being asked"),
                false,
            ));
        }
        let mut out = BytesMut::new();
        let proto = resp.upgrade().or(req.upgrade()).unwrap_or(b"").to_vec();
        let opts = h1::EncodeOptions {
            connection: h1::ConnectionHeader::Upgrade(&proto),
            ..Default::default()
        };
        h1::encode_response_head(&resp, &opts, &mut out);
        if write_all(down, &out).await.is_err() {
            return Ok(Next::Close);
        }
        let to_up = rbuf.split();
        let _ = tunnel(down, &mut up.stream, &to_up, &ubuf).await;
        return Ok(Next::Close);
    }

    // How the client gets the body: pass Length and Empty through; chunked
    // to 1.1 clients; a close-delimited body is re-chunked for a 1.1 client
    // so its connection survives, and sent close-delimited to a 1.0 client.
    let down_framing = match up_framing {
        h1::Framing::Chunked | h1::Framing::CloseDelimited if client_11 => h1::Framing::Chunked,
        h1::Framing::Chunked | h1::Framing::CloseDelimited => {
            close = true;
            h1::Framing::CloseDelimited
        }
        f => f,
    };
    let enc = h1::EncodeOptions {
        body: match down_framing {
            h1::Framing::Chunked => h1::BodyHeader::Chunked,
            h1::Framing::CloseDelimited => h1::BodyHeader::None,
            _ => h1::BodyHeader::Keep,
        },
        connection: if close {
            h1::ConnectionHeader::Close
        } else if !client_11 {
            h1::ConnectionHeader::KeepAlive
        } else {
            h1::ConnectionHeader::Omit
        },
        ..Default::default()
    };
    h1::encode_response_head(&resp, &enc, &mut out);

    let mut dec = h1::BodyDecoder::new(up_framing, h1::Peer::Upstream, &env.router.limits);
    let rechunk = matches!(down_framing, h1::Framing::Chunked);
    let mut up_reusable = resp.keep_alive() && !matches!(up_framing, h1::Framing::CloseDelimited);
    loop {
        let step = dec.decode(&mut ubuf);
        match step {
            Ok(h1::Decoded::Data(data)) => {
                if rechunk {
                    h1::encode_chunk_header(data.len() as u64, &mut out);
                    out.extend_from_slice(&data);
                    h1::encode_chunk_end(&mut out);
                } else if out.is_empty() {
                    if write_all(down, &data).await.is_err() {
                        return Ok(Next::Close);
                    }
                    continue;
                } else {
                    out.extend_from_slice(&data);
                }
                if write_all(down, &out).await.is_err() {
                    return Ok(Next::Close);
                }
                out.clear();
                continue;
            }
            Ok(h1::Decoded::Trailers(t)) => {
                if rechunk {
                    h1::encode_last_chunk(Some(&t), &mut out);
                }
                break;
            }
            Ok(h1::Decoded::Done) => {
                if rechunk {
                    h1::encode_last_chunk(None, &mut out);
                }
                break;
            }
            Ok(h1::Decoded::NeedMore) => {}
            Err(e) => {
                // The head already went out: all we can do is cut the client off.
                let _ = write_all(down, &out).await;
                let _ = e;
                return Ok(Next::Close);
            }
        }
        if !out.is_empty() {
            if write_all(down, &out).await.is_err() {
                return Ok(Next::Close);
            }
            out.clear();
        }
        match env
            .timers
            .timeout(IO_IDLE, env.scratch.read(&mut up.stream, &mut ubuf))
            .await
        {
            Ok(0) => match dec.eof() {
                Ok(_) => {
                    up_reusable = false;
                    if rechunk {
                        h1::encode_last_chunk(None, &mut out);
                    }
                    break;
                }
                Err(_) => {
                    let _ = write_all(down, &out).await;
                    return Ok(Next::Close);
                }
            },
            Ok(_) => {}
            Err(_) => {
                let _ = write_all(down, &out).await;
                return Ok(Next::Close);
            }
        }
    }
    if !out.is_empty() && write_all(down, &out).await.is_err() {
        return Ok(Next::Close);
    }
    if up_reusable && ubuf.is_empty() && request_complete {
        env.router.pool.checkin(up);
    }
    if !matches!(down_framing, h1::Framing::CloseDelimited) && !close {
        Ok(Next::KeepAlive)
    } else {
        Ok(Next::Close)
    }
}

/// Writes a proxy-generated response carrying `l5d-err`.
async fn respond_error(stream: &mut TcpStream, e: &ProxyError, close: bool) {
    let mut out = BytesMut::with_capacity(256);
    let l5d = encode_l5d_err(&e.reason);
    let headers: [(&str, &[u8]); 2] =
        [("l5d-err", l5d.as_bytes()), ("content-type", b"text/plain")];
    let mut body = e.reason.as_bytes().to_vec();
    body.push(b'\n');
    h1::encode_response(
        e.status,
        reason_phrase(e.status),
        &headers,
        &body,
        close,
        &mut out,
    );
    let _ = write_all(stream, &out).await;
}

/// The standard reason phrase for the statuses hawser generates.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
        414 => "URI Too Long",
        417 => "Expectation Failed",
        431 => "Request Header Fields Too Large",
        499 => "Client Closed Request",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Error",
    }
}

/// Size in bytes of one connection task's future: what an idle keep-alive
/// connection costs in user memory besides its task header and reactor slot (it holds
/// no buffer while idle).
pub fn connection_future_size() -> usize {
    fn size<F>(_: fn(TcpStream, SocketAddr, Rc<ConnEnv>) -> F) -> usize {
        std::mem::size_of::<F>()
    }
    size(serve)
}

#[cfg(test)]
fn wait_future_size() -> usize {
    std::mem::size_of::<WaitForRequest<'static>>()
}

#[cfg(test)]
mod tests {
    #[test]
    fn connection_future_stays_small() {
        let n = super::connection_future_size();
        eprintln!(
            "connection future: {n} bytes (TcpStream {}, wait future {})",
            std::mem::size_of::<crate::net::TcpStream>(),
            super::wait_future_size()
        );
        assert!(n < 1024, "an idle connection's future is {n} bytes");
    }
}
