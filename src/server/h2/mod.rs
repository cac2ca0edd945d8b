//! The HTTP/2 proxy driver (linkerd's `protocol: h2`, gRPC included): cleartext HTTP/2 with
//! prior knowledge on both sides, on the sans-IO connection of `hawser-http2`.
//!
//! Every connection, downstream or upstream, is one task that reads, hands the bytes to its
//! [`hawser_http2::Connection`], dispatches the events and writes what the connection queued
//! (its own replies, and frames other connections' events queued on it). Each downstream
//! request (stream) is identified and routed on its own, in a task of its own, and forwarded
//! on a multiplexed upstream connection from the router's [`H2Pool`]: streams of one client
//! connection may go to different services, and streams of many clients share upstream
//! connections. Bodies and trailers stream both ways under both legs' flow control (see
//! `link`); resets travel both ways (CANCEL to the other leg).
//!
//! A request hawser cannot deliver gets a response of its own with `l5d-err` (400 for a bad
//! `l5d-dtab` or an unidentifiable request, 502 when the name binds to nothing or the upstream
//! fails before responding); an upstream reset after the response started resets the client's
//! stream. Not here (yet): TLS and ALPN, the HTTP/1.1 `Upgrade: h2c` path, retries, PING-based
//! liveness, an idle timeout for downstream connections.

mod link;
mod pool;

use std::future::poll_fn;
use std::net::SocketAddr;
use std::rc::Rc;
use std::task::Poll;

use bytes::BytesMut;
use hawser_http2::{Connection, ErrorCode, Event, Field, RequestHead, SendError, Side, StreamId};

pub use pool::H2Pool;

use self::link::{Conn, Exchange, Link, Piece, Upstream, collect, pump, reset_pair};
use super::error::{ProxyError, encode_l5d_err};
use super::http1::ConnEnv;
use super::router::{RouteError, Routed};
use crate::net::{SCRATCH_SIZE, TcpStream, write_all};

/// The answer to a client that does not start with the HTTP/2 preface.
const NOT_H2: &[u8] = b"HTTP/1.1 505 HTTP Version Not Supported\r\nl5d-err: this+port+speaks+HTTP%2F2+with+prior+knowledge\r\ncontent-type: text/plain\r\ncontent-length: 68\r\nconnection: close\r\n\r\nthis port speaks HTTP/2 with prior knowledge (h2c); HTTP/1.1 is not\n";

/// Serves one downstream HTTP/2 connection until it closes.
pub async fn serve(stream: TcpStream, peer: SocketAddr, env: Rc<ConnEnv>) {
    let _open = env.drain.open();
    let _counted = env.router.stats.connection();
    stream.set_nodelay(true).ok();
    let config = env.h2.unwrap_or_default();
    let conn = Conn::new(Connection::new(Side::Server, config), None);
    conn.remote.set(Some(peer));
    drive(conn, stream, env).await;
}

/// One connection's I/O loop: write what is queued, read, dispatch events; until the socket
/// or the protocol ends. On the way out, every stream linked through it is failed.
async fn drive(me: Rc<Conn>, mut sock: TcpStream, env: Rc<ConnEnv>) {
    let mut rbuf = BytesMut::new();
    let downstream = me.addr.is_none();
    let mut draining = false;
    let mut preface_seen = false;
    // A client connection with no open stream: closed (GOAWAY) after `runtime.idleTimeoutMs`.
    // PINGs and SETTINGS do not keep it open, as with nginx's and Envoy's idle timeouts.
    let mut idle_timer: Option<crate::runtime::exec::Sleep> = None;
    loop {
        // A downstream connection's SETTINGS wait for the client's preface (RFC 9113 3.4 lets
        // the server's preface follow it), so a client that is not speaking HTTP/2 is answered
        // in HTTP/1.1 below instead of with binary frames first.
        let out = if downstream && !preface_seen {
            BytesMut::new()
        } else {
            me.conn.borrow_mut().take_output()
        };
        if !out.is_empty() {
            if write_all(&mut sock, &out).await.is_err() {
                break;
            }
            continue;
        }
        if me.conn.borrow().is_closed() {
            break;
        }
        if downstream && !draining && env.drain.is_draining() {
            draining = true;
            me.conn
                .borrow_mut()
                .go_away(ErrorCode::NoError, b"draining");
            me.going_away.set(true);
            continue;
        }
        let no_streams = me.conn.borrow().active_streams() == 0 && me.links.borrow().is_empty();
        if me.going_away.get() && no_streams {
            break;
        }
        if downstream && no_streams {
            if idle_timer.is_none() {
                idle_timer = Some(crate::runtime::exec::sleep(env.router.plan.idle_timeout));
            }
        } else {
            idle_timer = None;
        }
        let read = poll_fn(|cx| {
            match env
                .scratch
                .poll_read(cx, &mut sock, &mut rbuf, SCRATCH_SIZE)
            {
                Poll::Ready(r) => return Poll::Ready(Wake::Read(r)),
                Poll::Pending => {}
            }
            if me.take_notified(cx.waker()) {
                return Poll::Ready(Wake::Notified);
            }
            if let Some(t) = idle_timer.as_mut()
                && std::pin::Pin::new(t).poll(cx).is_ready()
            {
                return Poll::Ready(Wake::Idle);
            }
            Poll::Pending
        })
        .await;
        match read {
            Wake::Notified => continue,
            Wake::Idle => {
                idle_timer = None;
                if !preface_seen {
                    break; // not even a preface: nothing to say goodbye to
                }
                me.conn.borrow_mut().go_away(ErrorCode::NoError, b"idle");
                me.going_away.set(true);
                continue;
            }
            Wake::Read(Ok(0)) | Wake::Read(Err(_)) => break,
            Wake::Read(Ok(_)) => {}
        }
        if downstream && !preface_seen {
            let n = rbuf.len().min(hawser_http2::PREFACE.len());
            if rbuf[..n] != hawser_http2::PREFACE[..n] {
                // Not HTTP/2 with prior knowledge: most likely an HTTP/1.1 client. Say so in
                // its own protocol rather than with a binary GOAWAY it cannot read.
                let _ = write_all(&mut sock, NOT_H2).await;
                break;
            }
            if n < hawser_http2::PREFACE.len() {
                continue; // the rest of the preface first
            }
            preface_seen = true;
        }
        let result = me.conn.borrow_mut().receive(&mut rbuf);
        loop {
            let event = me.conn.borrow_mut().poll_event();
            let Some(event) = event else { break };
            on_event(&me, event, &env);
        }
        if result.is_err() {
            // The connection error's GOAWAY is queued: write it, then stop.
            let out = me.conn.borrow_mut().take_output();
            let _ = write_all(&mut sock, &out).await;
            break;
        }
    }
    me.closed.set(true);
    fail_all(&me, env.router.plan.accrual.as_ref());
}

/// What woke a connection's I/O loop.
enum Wake {
    Read(std::io::Result<usize>),
    Notified,
    Idle,
}

/// The connection is gone: answer or reset every stream linked through it.
fn fail_all(me: &Rc<Conn>, accrual: Option<&crate::client::Accrual>) {
    let links: Vec<(StreamId, Link)> = me.links.borrow_mut().drain().collect();
    for (_, link) in links {
        if let Some(up) = &link.upstream {
            up.failed.set(true);
            up.accrue(false, accrual);
        }
        let Some((peer, psid)) = link.peer else {
            continue;
        };
        if me.addr.is_some() {
            // An upstream connection died under this downstream stream.
            upstream_failed(
                &peer,
                psid,
                &format!(
                    "upstream {} closed the connection",
                    me.addr.map(|a| a.to_string()).unwrap_or_default()
                ),
            );
        } else {
            peer.links.borrow_mut().remove(&psid);
            peer.conn.borrow_mut().reset(psid, ErrorCode::Cancel);
            peer.notify();
        }
    }
}

/// An upstream stream failed: a 502 with `l5d-err` if the client has no response yet, else a
/// reset of the client's stream.
fn upstream_failed(down: &Rc<Conn>, dsid: StreamId, reason: &str) {
    let responded = down.links.borrow().get(&dsid).map(|l| l.responded);
    match responded {
        Some(false) => {
            let e = ProxyError::upstream(true, reason.to_string());
            respond_error(down, dsid, &e);
        }
        Some(true) => reset_pair(down, dsid, ErrorCode::InternalError),
        None => {}
    }
}

fn on_event(me: &Rc<Conn>, event: Event, env: &Rc<ConnEnv>) {
    match event {
        Event::Request {
            stream,
            head,
            end_stream,
        } => {
            let mut link = Link::new();
            link.remote_done = end_stream;
            me.links.borrow_mut().insert(stream, link);
            me.idle_since.set(None);
            let task = open_stream(me.clone(), stream, head, end_stream, env.clone());
            crate::runtime::spawn_local(task).detach();
        }
        Event::Response {
            stream,
            status,
            fields,
            end_stream,
        } => {
            let peer = match me.links.borrow_mut().get_mut(&stream) {
                Some(l) => {
                    l.remote_done |= end_stream;
                    if let Some(u) = &l.upstream {
                        let plan = &env.router.plan;
                        u.accrue(!plan.classifier.is_failure(status), plan.accrual.as_ref());
                    }
                    l.peer.clone()
                }
                None => None,
            };
            let Some((down, dsid)) = peer else {
                me.conn.borrow_mut().reset(stream, ErrorCode::Cancel);
                return;
            };
            let sent = down
                .conn
                .borrow_mut()
                .send_response(dsid, status, &fields, end_stream);
            match sent {
                Ok(()) => {
                    if let Some(l) = down.links.borrow_mut().get_mut(&dsid) {
                        l.responded = true;
                        if let Some(x) = &l.exchange {
                            x.status.set(Some(status));
                        }
                    }
                    down.notify();
                    collect(&down, dsid);
                    collect(me, stream);
                }
                Err(_) => reset_pair(me, stream, ErrorCode::Cancel),
            }
        }
        Event::Informational {
            stream,
            status,
            fields,
        } => {
            // An interim response (103 Early Hints, 100 Continue): relayed as it is.
            let peer = me.links.borrow().get(&stream).and_then(|l| l.peer.clone());
            if let Some((down, dsid)) = peer
                && down
                    .conn
                    .borrow_mut()
                    .send_response(dsid, status, &fields, false)
                    .is_ok()
            {
                down.notify();
            }
        }
        Event::Settings(_) | Event::SettingsAcked => {}
        Event::PingAck(_) => {}
        Event::Data {
            stream,
            data,
            end_stream,
        } => queue(me, stream, Piece::Data(data, end_stream)),
        Event::Trailers { stream, fields } => queue(me, stream, Piece::Trailers(fields)),
        Event::HeadersTooLarge { stream } => {
            if me.addr.is_none() {
                let e = ProxyError::downstream(431, "request header fields too large");
                respond_error(me, stream, &e);
            } else {
                let peer = me.links.borrow_mut().remove(&stream).and_then(|l| l.peer);
                me.conn.borrow_mut().reset(stream, ErrorCode::Cancel);
                if let Some((down, dsid)) = peer {
                    upstream_failed(&down, dsid, "upstream response header fields too large");
                }
            }
        }
        Event::Reset { stream, code, .. } => {
            let link = me.links.borrow_mut().remove(&stream);
            let Some(link) = link else { return };
            if let Some(up) = &link.upstream {
                let failed = code != ErrorCode::NoError && code != ErrorCode::Cancel;
                up.failed.set(failed);
                if failed {
                    up.accrue(false, env.router.plan.accrual.as_ref());
                }
            }
            let Some((peer, psid)) = link.peer else {
                return;
            };
            if me.addr.is_some() {
                upstream_failed(&peer, psid, &format!("upstream reset the stream: {code}"));
            } else {
                peer.links.borrow_mut().remove(&psid);
                peer.conn.borrow_mut().reset(psid, ErrorCode::Cancel);
                peer.notify();
            }
        }
        Event::WindowOpen { stream: Some(s) } => {
            // Room on our stream `s`: move what its source stream holds.
            let source = me.links.borrow().get(&s).and_then(|l| l.peer.clone());
            if let Some((src, ssid)) = source {
                pump(&src, ssid);
            }
        }
        Event::WindowOpen { stream: None } => {
            let sources: Vec<(Rc<Conn>, StreamId)> = me
                .links
                .borrow()
                .values()
                .filter_map(|l| l.peer.clone())
                .collect();
            for (src, ssid) in sources {
                pump(&src, ssid);
            }
        }
        Event::GoAway { .. } => me.going_away.set(true),
    }
}

/// Queues what arrived on `stream` for its peer stream and moves what it can.
fn queue(me: &Rc<Conn>, stream: StreamId, piece: Piece) {
    let linked = match me.links.borrow_mut().get_mut(&stream) {
        Some(l) => {
            l.remote_done |= matches!(piece, Piece::Data(_, true) | Piece::Trailers(_));
            l.queue.push_back(piece);
            l.peer.is_some()
        }
        None => {
            // A stream nobody forwards any more: give the credit back.
            if let Piece::Data(d, _) = &piece {
                me.conn.borrow_mut().release_received(stream, d.len());
            }
            return;
        }
    };
    if linked {
        pump(me, stream);
    }
}

/// Routes a new downstream request and links it to an upstream stream.
async fn open_stream(
    down: Rc<Conn>,
    dsid: StreamId,
    head: RequestHead,
    end_stream: bool,
    env: Rc<ConnEnv>,
) {
    let started = crate::runtime::exec::now();
    let router = &env.router;
    let routed = match router.route_h2(&head, env.clear_context).await {
        Ok(r) => r,
        Err(RouteError { error, stats }) => {
            let stats = stats.unwrap_or_else(|| router.stats.service(""));
            attach_exchange(&down, dsid, started, stats);
            respond_error(&down, dsid, &error);
            return;
        }
    };
    attach_exchange(&down, dsid, started, routed.stats.clone());
    let uhead = upstream_head(&head, &routed);
    let Some(pool) = router.h2_pool.as_ref() else {
        return;
    };
    let spawn = |c: Rc<Conn>, s: TcpStream| {
        crate::runtime::spawn_local(drive(c, s, env.clone())).detach();
    };
    routed
        .target
        .requeue
        .deposit(crate::resilience::budget::now_secs());
    let deadline = router.plan.total_timeout.map(|t| started + t);
    // Endpoints whose connect failed for this request: requeues (as the http router's) go
    // elsewhere while the concrete name has somewhere else to go and its budget allows.
    let mut failed: Vec<SocketAddr> = Vec::new();
    let mut full: Option<Rc<Conn>> = None;
    let (up, usid, inflight) = loop {
        let Some((endpoint, inflight)) = routed.target.endpoints.pick_avoiding(&failed) else {
            respond_error(
                &down,
                dsid,
                &ProxyError::proxy(502, routed.no_hosts_reason()),
            );
            return;
        };
        let addr = endpoint.addr;
        let up = match pool.get(addr, full.as_ref(), spawn).await {
            Ok(c) => c,
            Err(e) => {
                routed.target.stats.record(true);
                endpoint.record(
                    false,
                    router.plan.accrual.as_ref(),
                    crate::runtime::exec::now(),
                );
                failed.push(addr);
                if down.links.borrow().contains_key(&dsid)
                    && routed
                        .target
                        .try_requeue(failed.len() - 1, &failed, deadline)
                {
                    routed.stats.requeued();
                    full = None;
                    continue;
                }
                let e = ProxyError::upstream(false, super::http1::connect_reason(addr, &e));
                respond_error(&down, dsid, &e);
                return;
            }
        };
        if !down.links.borrow().contains_key(&dsid) {
            return; // the client reset the stream meanwhile
        }
        let sent = up.conn.borrow_mut().send_request(&uhead, end_stream);
        match sent {
            Ok(usid) => break (up, usid, inflight),
            Err(SendError::ConcurrencyLimit { .. }) | Err(SendError::GoingAway)
                if full.is_none() =>
            {
                full = Some(up);
            }
            Err(e) => {
                let e = ProxyError::upstream(false, format!("upstream {addr}: {e}"));
                respond_error(&down, dsid, &e);
                return;
            }
        }
    };
    if router.stats.sample_recent() {
        let at = std::time::SystemTime::now()
            - crate::runtime::exec::now().saturating_duration_since(started);
        let source = down
            .remote
            .get()
            .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
        router
            .stats
            .record_recent(routed.recent_row(at, source, env.server, up.addr));
    }
    let mut link = Link::new();
    link.peer = Some((down.clone(), dsid));
    link.upstream = Some(Upstream {
        inflight,
        client: routed.target.stats.clone(),
        failed: std::cell::Cell::new(false),
    });
    up.idle_since.set(None);
    up.links.borrow_mut().insert(usid, link);
    if let Some(l) = down.links.borrow_mut().get_mut(&dsid) {
        l.peer = Some((up.clone(), usid));
    }
    up.notify();
    // The request body that arrived while routing.
    pump(&down, dsid);
    if let Some(t) = router.plan.total_timeout {
        let left = (started + t).saturating_duration_since(crate::runtime::exec::now());
        let service = routed.service.clone();
        crate::runtime::spawn_local(async move {
            crate::runtime::exec::sleep(left).await;
            let waiting = down.links.borrow().get(&dsid).is_some_and(|l| !l.responded);
            if waiting {
                respond_error(&down, dsid, &super::http1::total_timeout_error(&service, t));
            }
        })
        .detach();
    }
}

fn attach_exchange(
    down: &Rc<Conn>,
    dsid: StreamId,
    started: std::time::Instant,
    stats: Rc<crate::telemetry::ServiceStats>,
) {
    if let Some(l) = down.links.borrow_mut().get_mut(&dsid) {
        l.exchange = Some(Rc::new(Exchange {
            started,
            stats,
            status: std::cell::Cell::new(None),
            by_proxy: std::cell::Cell::new(false),
        }));
    }
}

/// The request as the upstream gets it: the client's, with hawser's `l5d-*` headers.
fn upstream_head(head: &RequestHead, routed: &Routed) -> RequestHead {
    let mut out = head.clone();
    if let Some(t) = &routed.new_target {
        out.path = Some(bytes::Bytes::copy_from_slice(t.as_bytes()));
    }
    let clear = routed.clear_context;
    out.fields
        .retain(|f| !super::router::drop_incoming(&f.name, clear));
    let reqid = super::router::hex16(fastrand::u64(..));
    let mut added = Vec::with_capacity(5);
    routed.each_context_header(&reqid, |name, value| {
        added.push(Field::new(name, bytes::Bytes::copy_from_slice(value)));
    });
    out.fields.extend(added);
    out
}

/// Answers `dsid` with hawser's own response carrying `l5d-err`, and forgets its link.
fn respond_error(down: &Rc<Conn>, dsid: StreamId, e: &ProxyError) {
    let l5d = encode_l5d_err(&e.reason);
    let fields = [
        Field::new("l5d-err", l5d),
        Field::new("content-type", "text/plain"),
    ];
    let body = format!("{}\n", e.reason);
    let link = down.links.borrow_mut().remove(&dsid);
    if let Some(x) = link.as_ref().and_then(|l| l.exchange.as_ref()) {
        x.status.set(Some(e.status));
        x.by_proxy.set(true);
    }
    if let Some((peer, psid)) = link.and_then(|l| l.peer) {
        peer.links.borrow_mut().remove(&psid);
        peer.conn.borrow_mut().reset(psid, ErrorCode::Cancel);
        peer.notify();
    }
    let mut c = down.conn.borrow_mut();
    if c.send_response(dsid, e.status, &fields, false).is_ok() {
        match c.send_data(dsid, body.as_bytes(), true) {
            Ok(n) if n == body.len() => {}
            _ => c.reset(dsid, ErrorCode::NoError),
        }
    } else {
        c.reset(dsid, ErrorCode::InternalError);
    }
    drop(c);
    down.notify();
}
