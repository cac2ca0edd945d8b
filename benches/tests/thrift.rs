//! The Thrift shape end to end: the built-in Thrift backend answers the generator's calls at a
//! fixed rate with zero errors, and replies that do not answer the call (another seqid, an
//! `EXCEPTION`) are counted as errors by a hand-written responder.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use bytes::BytesMut;
use hawser_bench::backend::{BackendSpec, start_backend};
use hawser_bench::load::{LoadSpec, Mode, run_load};
use hawser_bench::procstat::allowed_cpus;
use hawser_bench::shape::{Protocol, RequestShape};
use hawser_thrift::{Limits, Message, MessageHeader, MessageType, encode_framed_binary};

/// Backend on the first allowed CPU, generator on the last (the same one on a 1-CPU box).
fn cpus() -> (Vec<usize>, Vec<usize>) {
    let all = allowed_cpus();
    let first = all.first().copied().unwrap_or(0);
    let last = all.last().copied().unwrap_or(0);
    (vec![first], vec![last])
}

fn spec(addr: SocketAddr, mode: Mode, connections: usize, secs: f64) -> LoadSpec {
    LoadSpec {
        addr,
        shape: RequestShape::thrift("echo", 16),
        mode,
        connections,
        streams: 1,
        duration: Duration::from_secs_f64(secs),
        warmup: Duration::from_millis(200),
        cpus: cpus().1,
        expect_body: Some(64),
        timeout: Duration::from_secs(5),
    }
}

fn thrift_backend() -> hawser_bench::backend::Backend {
    start_backend(&BackendSpec {
        port: 0,
        protocol: Protocol::Thrift,
        size: 64,
        latency: Duration::ZERO,
        cpus: cpus().0,
        stall: None,
    })
    .expect("backend starts")
}

#[test]
fn open_loop_holds_its_rate_against_the_thrift_backend() {
    let b = thrift_backend();
    let s = spec(b.addr(), Mode::Open { rate: 1000.0 }, 8, 1.0);
    let r = run_load(&s).unwrap();
    assert_eq!(r.error_count(), 0, "errors: {:?}", r.errors);
    let rps = r.rps(s.mode);
    assert!(
        (rps - 1000.0).abs() <= 20.0,
        "sent {} in 1 s: {rps:.1} req/s, want 1000 ± 2%",
        r.sent
    );
    assert!(
        (r.completed as i64 - 1000).abs() <= 20,
        "completed {}",
        r.completed
    );
    assert_eq!(r.reconnects, 0);
}

#[test]
fn closed_loop_runs_and_checks_the_success_size() {
    let b = thrift_backend();
    let s = spec(b.addr(), Mode::Closed, 4, 0.5);
    let r = run_load(&s).unwrap();
    assert_eq!(r.error_count(), 0, "errors: {:?}", r.errors);
    assert!(
        r.completed > 100,
        "closed loop completed only {}",
        r.completed
    );

    let mut wrong = spec(b.addr(), Mode::Open { rate: 200.0 }, 1, 0.5);
    wrong.expect_body = Some(65);
    let r = run_load(&wrong).unwrap();
    assert_eq!(r.completed, 0);
    assert!(
        r.errors.get("wrong body size").copied().unwrap_or(0) >= 90,
        "errors: {:?}",
        r.errors
    );
}

/// How the hand-written responder gets its replies wrong.
#[derive(Clone, Copy)]
enum Fault {
    /// A REPLY with the call's seqid plus one.
    NextSeqid,
    /// An EXCEPTION message with the right seqid.
    Exception,
}

/// A blocking responder: every call on every connection gets one faulty reply.
fn faulty_responder(fault: Fault) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            std::thread::spawn(move || {
                let limits = Limits::default();
                loop {
                    let mut len = [0u8; 4];
                    if conn.read_exact(&mut len).is_err() {
                        return;
                    }
                    let mut payload = vec![0u8; u32::from_be_bytes(len) as usize];
                    if conn.read_exact(&mut payload).is_err() {
                        return;
                    }
                    let call = Message::load(&payload, &limits)
                        .expect("a valid call")
                        .header;
                    let reply = match fault {
                        Fault::NextSeqid => MessageHeader {
                            kind: MessageType::Reply,
                            seqid: call.seqid.wrapping_add(1),
                            ..call
                        },
                        Fault::Exception => MessageHeader {
                            kind: MessageType::Exception,
                            ..call
                        },
                    };
                    let mut out = BytesMut::new();
                    // Field 0 with 64 bytes, so only the header is wrong.
                    encode_framed_binary(&reply, 0, &[b'x'; 64], &mut out).unwrap();
                    if conn.write_all(&out).is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

#[test]
fn replies_that_do_not_answer_the_call_are_errors() {
    for (fault, label) in [
        (Fault::NextSeqid, "wrong seqid"),
        (Fault::Exception, "exception reply"),
    ] {
        let addr = faulty_responder(fault);
        let s = spec(addr, Mode::Open { rate: 200.0 }, 2, 0.5);
        let r = run_load(&s).unwrap();
        assert_eq!(r.completed, 0, "{label}");
        assert!(
            r.errors.get(label).copied().unwrap_or(0) >= 90,
            "{label}: errors {:?}",
            r.errors
        );
    }
}
