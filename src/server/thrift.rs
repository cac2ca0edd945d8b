//! The Thrift proxy driver (linkerd's `protocol: thrift`): one task per downstream connection,
//! framed transport, binary protocol. Each call frame is read whole, named from its method
//! (`dstPrefix`, or `dstPrefix/METHOD` with `thriftMethodInDst`), routed like an HTTP request,
//! and forwarded unchanged over a pooled upstream connection that carries one call at a time;
//! the reply frame comes back unchanged. Calls on a connection are handled in order, so
//! pipelined calls are answered in order.
//!
//! A call the proxy cannot deliver is answered with a `TApplicationException` under the call's
//! name and seqid (Thrift's equivalent of a response carrying `l5d-err`), and the connection
//! stays open. Bytes that are not a framed binary call (a bad length, a bad header) cannot be
//! answered (there is no seqid to answer under) and cannot be resynchronised: the connection
//! is closed. `ONEWAY` calls get no answer, not even on failure.
//!
//! Deliberately not here (yet): the buffered transport, the compact protocol, the TTwitter
//! upgrade (and with it per-call dtabs and `dest` names), retries. A downstream connection has
//! no idle timeout: Thrift clients keep connections for their lifetime and most do not
//! reconnect when the server closes one, so hawser does what Finagle's Thrift server does.

use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use hawser_thrift::{
    ApplicationErrorKind, Decoded, Limits, MessageHeader, MessageType, decode_frame,
    encode_application_exception,
};

use super::http1::{connect_reason as connect_error, wait_for_request};
use super::{ConnEnv, ProxyError, Routed};
use crate::client::Upstream;
use crate::net::{TcpStream, write_all};
use crate::telemetry::Outcome;

/// How long an upstream may take to start or continue a reply (as HTTP's).
const IO_IDLE: Duration = Duration::from_secs(300);

/// Serves one downstream Thrift connection until it closes.
pub async fn serve(mut stream: TcpStream, peer: SocketAddr, env: Rc<ConnEnv>) {
    let _open = env.drain.open();
    let _counted = env.router.stats.connection();
    stream.set_nodelay(true).ok();
    let mut rbuf = BytesMut::new();
    loop {
        // Idle: a small future, holding no buffer, until the next call's first bytes.
        if rbuf.is_empty() && !wait_for_request(&mut stream, &mut rbuf, &env, None).await {
            break;
        }
        if !Box::pin(one_call(&mut stream, &mut rbuf, &env, peer)).await || env.drain.is_draining()
        {
            break;
        }
        if rbuf.is_empty() {
            rbuf = BytesMut::new();
        }
    }
}

/// Reads one call frame and handles it; false when the connection must close.
async fn one_call(
    down: &mut TcpStream,
    rbuf: &mut BytesMut,
    env: &ConnEnv,
    peer: SocketAddr,
) -> bool {
    let Some(limits) = env.router.plan.thrift.as_ref().map(|t| t.limits) else {
        return false;
    };
    let Some(frame) = read_frame(down, rbuf, env, &limits).await else {
        return false;
    };
    let Ok((call, _)) = MessageHeader::load(&frame[hawser_thrift::FRAME_HEADER_LEN..], &limits)
    else {
        return false;
    };
    let started = crate::runtime::exec::now();
    let routed = match call.kind {
        MessageType::Call | MessageType::Oneway => env
            .router
            .route_thrift(call.name)
            .await
            .map_err(|e| (Failure::from(e.error), e.stats)),
        kind => Err((
            Failure {
                kind: ApplicationErrorKind::InvalidMessageType,
                reason: format!("expected a call, got a message of type {}", kind.as_u8()),
                upstream: false,
                unsent: false,
            },
            None,
        )),
    };
    let (answer, stats) = match routed {
        Ok(routed) => {
            let deadline = env.router.plan.total_timeout.map(|t| started + t);
            let arrived = env
                .router
                .stats
                .sample_recent()
                .then(std::time::SystemTime::now);
            let last_dst = std::cell::Cell::new(None);
            let answer = forward(&frame, &call, &routed, deadline, env, &limits, &last_dst).await;
            if let Some(at) = arrived {
                let row = routed.recent_row(at, peer, env.server, last_dst.get());
                env.router.stats.record_recent(row);
            }
            // A call that found no endpoint never reached the client.
            if !matches!(&answer, Err(f) if !f.upstream) {
                routed.target.stats.record(answer.is_err());
            }
            (answer, routed.stats.clone())
        }
        Err((f, stats)) => (
            Err(f),
            stats.unwrap_or_else(|| env.router.stats.service("")),
        ),
    };
    let outcome = match (&answer, call.kind) {
        (Ok(Some(_)), _) => Outcome::ThriftReply,
        (Ok(None), _) => Outcome::ThriftOneway,
        (Err(_), MessageType::Oneway) => Outcome::None,
        (Err(_), _) => Outcome::ThriftException,
    };
    let took = crate::runtime::exec::now().saturating_duration_since(started);
    stats.record(outcome, answer.is_err(), took);
    let out = match answer {
        Ok(Some(reply)) => reply,
        Ok(None) => return true,
        Err(f) if call.kind == MessageType::Oneway => {
            // Nobody is waiting for an answer; the failure is only logged.
            eprintln!(
                "hawser: thrift oneway call `{}` dropped: {}",
                String::from_utf8_lossy(call.name),
                f.reason
            );
            return true;
        }
        Err(f) => {
            let mut out = BytesMut::new();
            if encode_application_exception(
                call.name,
                call.seqid,
                call.strict,
                f.kind,
                f.reason.as_bytes(),
                &mut out,
            )
            .is_err()
            {
                return false;
            }
            out.freeze()
        }
    };
    write_all(down, &out).await.is_ok()
}

/// Reads until `rbuf` starts with a whole frame and splits it off, length prefix included.
/// `None` when the connection must close: EOF or an error, a bad length, or no progress
/// within the header timeout (each read must arrive within it).
async fn read_frame(
    stream: &mut TcpStream,
    rbuf: &mut BytesMut,
    env: &ConnEnv,
    limits: &Limits,
) -> Option<Bytes> {
    loop {
        match decode_frame(rbuf, limits) {
            Ok(Decoded::Done(payload)) => {
                let len = hawser_thrift::FRAME_HEADER_LEN + payload.len();
                return Some(rbuf.split_to(len).freeze());
            }
            // No reserve ahead of the bytes: a length prefix alone must not cost its size.
            Ok(Decoded::NeedMore(_)) => {}
            Err(_) => return None,
        }
        match env
            .timers
            .timeout(env.router.header_timeout, env.scratch.read(stream, rbuf))
            .await
        {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// Why a call got a `TApplicationException`.
struct Failure {
    kind: ApplicationErrorKind,
    reason: String,
    /// The upstream failed it (connect, I/O, a bad reply), as opposed to routing.
    upstream: bool,
    /// Nothing of the call was sent (the connect failed): it may go to another endpoint.
    unsent: bool,
}

impl From<ProxyError> for Failure {
    fn from(e: ProxyError) -> Failure {
        Failure {
            kind: ApplicationErrorKind::InternalError,
            reason: e.reason.into_owned(),
            upstream: false,
            unsent: false,
        }
    }
}

/// An upstream's failure to take or answer a call.
fn internal(reason: String) -> Failure {
    Failure {
        kind: ApplicationErrorKind::InternalError,
        reason,
        upstream: true,
        unsent: false,
    }
}

/// Sends a routed call's frame upstream and, for a two-way call, returns the reply frame.
async fn forward(
    frame: &[u8],
    call: &MessageHeader<'_>,
    routed: &Routed,
    deadline: Option<std::time::Instant>,
    env: &ConnEnv,
    limits: &Limits,
    last_dst: &std::cell::Cell<Option<SocketAddr>>,
) -> Result<Option<Bytes>, Failure> {
    let router = &env.router;
    routed
        .target
        .requeue
        .deposit(crate::resilience::budget::now_secs());
    // Endpoints whose connect failed for this call: requeues (as the http router's) avoid them.
    let mut failed: Vec<SocketAddr> = Vec::new();
    loop {
        let (endpoint, _inflight) =
            routed
                .target
                .endpoints
                .pick_avoiding(&failed)
                .ok_or_else(|| Failure {
                    upstream: false,
                    ..internal(routed.no_hosts_reason())
                })?;
        let addr = endpoint.addr;
        last_dst.set(Some(addr));
        let result = exchange_call(frame, call, routed, deadline, env, limits, addr).await;
        let ok = !matches!(&result, Err(f) if f.upstream);
        endpoint.record(
            ok,
            router.plan.accrual.as_ref(),
            crate::runtime::exec::now(),
        );
        match result {
            Err(f) if f.unsent => {
                failed.push(addr);
                if !routed
                    .target
                    .try_requeue(failed.len() - 1, &failed, deadline)
                {
                    return Err(f);
                }
                routed.stats.requeued();
                routed.target.stats.record(true);
            }
            other => return other,
        }
    }
}

/// [`forward`] once the endpoint is picked.
async fn exchange_call(
    frame: &[u8],
    call: &MessageHeader<'_>,
    routed: &Routed,
    deadline: Option<std::time::Instant>,
    env: &ConnEnv,
    limits: &Limits,
    addr: SocketAddr,
) -> Result<Option<Bytes>, Failure> {
    let router = &env.router;
    let mut up = router.pool.checkout(addr).await.map_err(|e| Failure {
        unsent: true,
        ..internal(connect_error(addr, &e))
    })?;
    if let Err(e) = write_all(&mut up.stream, frame).await {
        // Nothing reached a server that had already closed a pooled connection: one fresh try.
        if !up.reused {
            return Err(internal(format!("upstream {addr}: {e}")));
        }
        up = router.pool.connect(addr).await.map_err(|e| Failure {
            unsent: true,
            ..internal(connect_error(addr, &e))
        })?;
        write_all(&mut up.stream, frame)
            .await
            .map_err(|e| internal(format!("upstream {addr}: {e}")))?;
    }
    if call.kind == MessageType::Oneway {
        router.pool.checkin(up);
        return Ok(None);
    }
    // Past the deadline, linkerd's words, as for HTTP.
    let deadline = deadline.map(|d| {
        let t = env.router.plan.total_timeout.unwrap_or_default();
        let why = super::http1::total_timeout_error(&routed.service, t);
        (d, why.reason.into_owned())
    });
    let (reply, clean) = read_reply(&mut up, deadline, env, limits).await?;
    let Ok((header, _)) = MessageHeader::load(&reply[hawser_thrift::FRAME_HEADER_LEN..], limits)
    else {
        return Err(internal(format!(
            "upstream {addr} sent a reply that is not a Thrift binary message"
        )));
    };
    if header.seqid != call.seqid {
        // The connection is out of step with its calls: it is dropped, not pooled.
        return Err(Failure {
            kind: ApplicationErrorKind::BadSequenceId,
            reason: format!(
                "upstream {addr} replied with seqid {} to call seqid {}",
                header.seqid, call.seqid
            ),
            upstream: true,
            unsent: false,
        });
    }
    if clean {
        router.pool.checkin(up);
    }
    Ok(Some(reply))
}

/// Reads one reply frame from the upstream; also says whether nothing followed it (so the
/// connection can be pooled).
async fn read_reply(
    up: &mut Upstream,
    deadline: Option<(std::time::Instant, String)>,
    env: &ConnEnv,
    limits: &Limits,
) -> Result<(Bytes, bool), Failure> {
    let addr = up.addr;
    let mut ubuf = BytesMut::new();
    loop {
        match decode_frame(&ubuf, limits) {
            Ok(Decoded::Done(payload)) => {
                let len = hawser_thrift::FRAME_HEADER_LEN + payload.len();
                let reply = ubuf.split_to(len).freeze();
                return Ok((reply, ubuf.is_empty()));
            }
            Ok(Decoded::NeedMore(_)) => {}
            Err(e) => {
                return Err(internal(format!("upstream {addr} sent a bad frame: {e}")));
            }
        }
        let passed = || {
            internal(
                deadline
                    .as_ref()
                    .map(|(_, why)| why.clone())
                    .unwrap_or_default(),
            )
        };
        let wait = match &deadline {
            Some((d, _)) => {
                let left = d.saturating_duration_since(crate::runtime::exec::now());
                if left.is_zero() {
                    return Err(passed());
                }
                left.min(IO_IDLE)
            }
            None => IO_IDLE,
        };
        match env
            .timers
            .timeout(wait, env.scratch.read(&mut up.stream, &mut ubuf))
            .await
        {
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut && wait < IO_IDLE => {
                return Err(passed());
            }
            Ok(0) if ubuf.is_empty() => {
                return Err(internal(format!(
                    "upstream {addr} closed the connection before replying"
                )));
            }
            Ok(0) => {
                return Err(internal(format!(
                    "upstream {addr} closed the connection in the middle of a reply"
                )));
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                return Err(internal(format!(
                    "upstream {addr} did not reply within {} s",
                    IO_IDLE.as_secs()
                )));
            }
            Err(e) => return Err(internal(format!("upstream {addr}: {e}"))),
        }
    }
}
