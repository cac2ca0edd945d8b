//! HTTP/2 connection: arbitrary bytes into a server `Connection` (the client preface
//! prepended when the mode byte says, so the fuzzer gets past it) or a client one (with two
//! requests open), fed in pieces, with an application that answers requests, sends bodies,
//! releases what it receives and resets streams now and then. It must never panic; what one
//! `receive` queues by itself stays within a bound proportional to its input; the peer's
//! streams never exceed our concurrency limit (100 before our SETTINGS are acknowledged); a
//! connection error is sticky.
#![no_main]

use bytes::BytesMut;
use hawser_http2::{Config, Connection, ErrorCode, Event, Field, PREFACE, RequestHead, Side};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [mode, step, input @ ..] = data else {
        return;
    };
    let side = if mode & 1 == 0 { Side::Server } else { Side::Client };
    let config = Config {
        max_concurrent_streams: 1 + u32::from(mode >> 1 & 7),
        initial_window_size: 1024 << (mode >> 4 & 3),
        connection_window_size: 65_535,
        max_header_list_size: 512,
        max_header_block: 4096,
        max_reset_debt: 16,
        max_pending_replies: 64,
        ..Config::default()
    };
    let mut conn = Connection::new(side, config);
    if side == Side::Client {
        let head = RequestHead::new("POST", "http", "fuzz", "/");
        let _ = conn.send_request(&head, false);
        let _ = conn.send_request(&head, true);
    }
    let _ = conn.take_output();
    let mut bytes = Vec::new();
    if side == Side::Server && mode & 0x80 != 0 {
        bytes.extend_from_slice(PREFACE);
    }
    bytes.extend_from_slice(input);
    let step = usize::from(*step).max(1);
    let mut buf = BytesMut::new();
    let mut round = 0usize;
    for piece in bytes.chunks(step) {
        round += 1;
        buf.extend_from_slice(piece);
        let r = conn.receive(&mut buf);
        // Replies (<= 64 frames of <= 17 bytes), WINDOW_UPDATEs for released padding (at most
        // two per DATA frame, each frame at least 9 input bytes) and one GOAWAY.
        let auto = conn.take_output();
        assert!(
            auto.len() <= 64 * 17 + 3 * piece.len() + 200,
            "{} bytes out for {} in",
            auto.len(),
            piece.len()
        );
        if side == Side::Server {
            // Our limit, or up to 100 before the peer acknowledged our SETTINGS (it cannot
            // know the limit until then; RFC 9113 section 6.5.2).
            let bound = config.max_concurrent_streams.max(100) as usize;
            assert!(conn.active_streams() <= bound);
        }
        if let Err(e) = r {
            buf.extend_from_slice(b"more");
            assert_eq!(conn.receive(&mut buf), Err(e));
            return;
        }
        while let Some(ev) = conn.poll_event() {
            match ev {
                Event::Request { stream, .. } | Event::HeadersTooLarge { stream } => {
                    if round % 5 == 0 {
                        conn.reset(stream, ErrorCode::Cancel);
                    } else {
                        let _ = conn.send_response(stream, 200, &[], false);
                        let _ = conn.send_data(stream, &[0; 3000], false);
                        let _ = conn.send_trailers(stream, &[Field::new("grpc-status", "0")]);
                    }
                }
                Event::Data { stream, data, .. } => conn.release_received(stream, data.len()),
                Event::WindowOpen { stream: Some(s) } => {
                    let _ = conn.send_data(s, &[1; 5000], round % 3 == 0);
                }
                Event::Response { stream, .. } if round % 7 == 0 => {
                    conn.reset(stream, ErrorCode::Cancel);
                }
                _ => {}
            }
        }
        let _ = conn.take_output();
    }
    if mode & 0x40 != 0 {
        conn.go_away(ErrorCode::NoError, b"bye");
        buf.extend_from_slice(&bytes[..bytes.len().min(64)]);
        let _ = conn.receive(&mut buf);
    }
});
