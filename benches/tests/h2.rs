//! The HTTP/2 shape end to end: the built-in h2c backend answers the generator's streams at a
//! fixed rate with zero errors, several streams are really in flight on one connection, and
//! responses that are not a complete `200` of the expected size (a wrong size, a `503`, a
//! RST_STREAM, a GOAWAY) are counted as errors. A real client (curl, nghttp) cross-checks the
//! backend when one is installed.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::Command;
use std::time::Duration;

use bytes::BytesMut;
use hawser_bench::backend::{Backend, BackendSpec, start_backend};
use hawser_bench::load::{LoadSpec, Mode, run_load};
use hawser_bench::peers::{on_path, probe_h2};
use hawser_bench::procstat::allowed_cpus;
use hawser_bench::shape::{Protocol, RequestShape};
use hawser_http2::{
    Decoder, ErrorCode, Frame, GoAway, Headers, RstStream, Settings, encode_headers,
};

/// Backend on the first allowed CPU, generator on the last (the same one on a 1-CPU box).
fn cpus() -> (Vec<usize>, Vec<usize>) {
    let all = allowed_cpus();
    let first = all.first().copied().unwrap_or(0);
    let last = all.last().copied().unwrap_or(0);
    (vec![first], vec![last])
}

fn spec(addr: SocketAddr, mode: Mode, connections: usize, streams: usize, secs: f64) -> LoadSpec {
    LoadSpec {
        addr,
        shape: RequestShape::h2("web", 0),
        mode,
        connections,
        streams,
        duration: Duration::from_secs_f64(secs),
        warmup: Duration::from_millis(200),
        cpus: cpus().1,
        expect_body: Some(64),
        timeout: Duration::from_secs(5),
    }
}

fn h2_backend(latency: Duration) -> Backend {
    start_backend(&BackendSpec {
        port: 0,
        protocol: Protocol::H2,
        size: 64,
        latency,
        cpus: cpus().0,
        stall: None,
    })
    .expect("backend starts")
}

#[test]
fn open_loop_holds_its_rate_against_the_h2_backend() {
    let b = h2_backend(Duration::ZERO);
    let s = spec(b.addr(), Mode::Open { rate: 1000.0 }, 2, 4, 1.0);
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
fn closed_loop_has_several_streams_in_flight_on_one_connection() {
    // A little latency keeps streams open long enough to overlap.
    let b = h2_backend(Duration::from_micros(500));
    let mut s = spec(b.addr(), Mode::Closed, 1, 8, 0.5);
    s.shape = RequestShape::h2("web", 3000);
    let r = run_load(&s).unwrap();
    assert_eq!(r.error_count(), 0, "errors: {:?}", r.errors);
    assert!(
        r.completed > 100,
        "closed loop completed only {}",
        r.completed
    );
    assert!(
        r.max_in_flight >= 2,
        "generator saw at most {} streams in flight",
        r.max_in_flight
    );
    assert!(
        b.max_concurrent_streams() >= 2,
        "backend saw at most {} streams open on a connection",
        b.max_concurrent_streams()
    );
}

#[test]
fn a_wrong_body_size_is_an_error() {
    let b = h2_backend(Duration::ZERO);
    let mut s = spec(b.addr(), Mode::Open { rate: 200.0 }, 1, 2, 0.5);
    s.expect_body = Some(65);
    let r = run_load(&s).unwrap();
    assert_eq!(r.completed, 0);
    assert!(
        r.errors.get("wrong body size").copied().unwrap_or(0) >= 90,
        "errors: {:?}",
        r.errors
    );
}

/// How the hand-written responder gets its answers wrong.
#[derive(Clone, Copy)]
enum Fault {
    /// `:status 503`, END_STREAM.
    Status503,
    /// RST_STREAM with INTERNAL_ERROR.
    Reset,
    /// GOAWAY with last stream id 0, then close.
    GoAway,
    /// `:status 200` with `content-length: 10` and a 4-byte body.
    ShortBody,
}

/// A blocking h2c responder: every stream on every connection gets one faulty answer.
fn faulty_responder(fault: Fault) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            std::thread::spawn(move || {
                let mut out = BytesMut::new();
                Settings::default().encode(&mut out);
                if conn.write_all(&out).is_err() {
                    return;
                }
                let mut hpack = hawser_hpack::Encoder::new(4096);
                let mut dec = Decoder::server();
                let mut buf = BytesMut::new();
                let mut chunk = [0u8; 16 * 1024];
                loop {
                    let mut out = BytesMut::new();
                    while let Ok(Some(frame)) = dec.decode(&mut buf) {
                        match frame {
                            Frame::Settings(s) if !s.ack => Settings::ack().encode(&mut out),
                            Frame::Headers(h) => match fault {
                                Fault::Status503 => {
                                    let mut block = BytesMut::new();
                                    hpack.encode(
                                        [hawser_hpack::Header::new(b":status", b"503")],
                                        &mut block,
                                    );
                                    encode_headers(
                                        &Headers::new(h.stream_id, block.freeze(), true),
                                        16_384,
                                        &mut out,
                                    );
                                }
                                Fault::Reset => {
                                    RstStream::new(h.stream_id, ErrorCode::InternalError)
                                        .encode(&mut out);
                                }
                                Fault::GoAway => {
                                    GoAway::new(0, ErrorCode::NoError).encode(&mut out);
                                    let _ = conn.write_all(&out);
                                    return;
                                }
                                Fault::ShortBody => {
                                    let mut block = BytesMut::new();
                                    hpack.encode(
                                        [
                                            hawser_hpack::Header::new(b":status", b"200"),
                                            hawser_hpack::Header::new(b"content-length", b"10"),
                                        ],
                                        &mut block,
                                    );
                                    encode_headers(
                                        &Headers::new(h.stream_id, block.freeze(), false),
                                        16_384,
                                        &mut out,
                                    );
                                    hawser_http2::Data::new(
                                        h.stream_id,
                                        bytes::Bytes::from_static(b"four"),
                                        true,
                                    )
                                    .encode(&mut out);
                                }
                            },
                            _ => {}
                        }
                    }
                    if !out.is_empty() && conn.write_all(&out).is_err() {
                        return;
                    }
                    match conn.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
            });
        }
    });
    addr
}

#[test]
fn answers_that_are_not_a_200_are_errors() {
    for (fault, label) in [
        (Fault::Status503, "status 503"),
        (Fault::Reset, "stream reset: INTERNAL_ERROR"),
        (Fault::GoAway, "goaway"),
        (
            Fault::ShortBody,
            "bad h2 response: body length differs from content-length",
        ),
    ] {
        let addr = faulty_responder(fault);
        let s = spec(addr, Mode::Open { rate: 200.0 }, 2, 2, 0.5);
        let r = run_load(&s).unwrap();
        assert_eq!(r.completed, 0, "{label}");
        assert!(
            r.errors.get(label).copied().unwrap_or(0) >= 50,
            "{label}: errors {:?}",
            r.errors
        );
        if matches!(fault, Fault::GoAway) {
            assert!(r.reconnects > 0, "GOAWAY reopens the connection");
        }
    }
}

#[test]
fn the_probe_sees_the_h2_backend_answer() {
    let b = h2_backend(Duration::ZERO);
    assert!(probe_h2(b.addr()));
    assert!(!probe_h2(faulty_responder(Fault::Status503)));
}

/// Real clients agree with the backend: curl with prior knowledge, and nghttp (several
/// concurrent streams), each when installed.
#[test]
fn real_clients_get_a_200_with_the_body() {
    let b = h2_backend(Duration::ZERO);
    let url = format!("http://{}/", b.addr());
    if on_path("curl") {
        let out = Command::new("curl")
            .args(["-s", "--http2-prior-knowledge", "--max-time", "5"])
            .args([
                "-o",
                "/dev/null",
                "-w",
                "%{http_code} %{size_download} %{http_version}",
            ])
            .arg(&url)
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "200 64 2");
    } else {
        eprintln!("curl not installed: skipped");
    }
    if on_path("nghttp") {
        let out = Command::new("nghttp")
            .args(["-n", "-s", "-m", "4", "-t", "5"])
            .arg(&url)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "nghttp: {text}");
        let rows: Vec<&str> = text
            .lines()
            .filter(|l| l.trim_end().ends_with(" /"))
            .collect();
        assert_eq!(rows.len(), 4, "{text}");
        for row in rows {
            let cols: Vec<&str> = row.split_whitespace().collect();
            assert_eq!(
                &cols[cols.len() - 3..cols.len() - 1],
                ["200", "64"],
                "{row}"
            );
        }
    } else {
        eprintln!("nghttp not installed: skipped");
    }
}
