//! Bounds on what a peer can make the connection do: rapid reset (CVE-2023-44487) and
//! streams that provoke resets, floods of frames that need a reply (PING, SETTINGS),
//! CONTINUATION floods (RFC 9113 section 10.5: ENHANCE_YOUR_CALM).

use bytes::Bytes;

use super::{GET, drain, goaway, out_frames, raw_server};
use crate::{Continuation, ErrorCode, Frame, Headers, Ping, RstStream, Settings};

#[test]
fn sec10_5_rapid_reset_ends_the_connection() {
    let (mut s, mut raw) = raw_server();
    let mut result = Ok(());
    for i in 0..201u32 {
        let id = 2 * i + 1;
        raw.request(id, false);
        raw.frame(Frame::RstStream(RstStream::new(id, ErrorCode::Cancel)));
        result = raw.send(&mut s);
        let _ = s.take_output();
        if result.is_err() {
            assert_eq!(i, 200, "the 201st reset crosses the limit of 200");
        }
    }
    assert_eq!(result.unwrap_err().code, ErrorCode::EnhanceYourCalm);
}

#[test]
fn sec10_5_cancels_among_completed_streams_are_fine() {
    let (mut s, mut raw) = raw_server();
    for i in 0..1000u32 {
        let id = 2 * i + 1;
        raw.request(id, true);
        raw.send(&mut s).unwrap();
        if i % 3 == 0 {
            raw.frame(Frame::RstStream(RstStream::new(id, ErrorCode::Cancel)));
            raw.send(&mut s).unwrap();
        } else {
            s.send_response(id, 200, &[], true).unwrap();
        }
        let _ = s.take_output();
        drain(&mut s);
    }
    assert!(s.error().is_none());
}

#[test]
fn sec10_5_malformed_streams_count_as_resets() {
    let (mut s, mut raw) = raw_server();
    let mut err = None;
    for i in 0..300u32 {
        raw.headers(2 * i + 1, &[(":method", "GET")], true);
        if let Err(e) = raw.send(&mut s) {
            err = Some(e);
            break;
        }
        let _ = s.take_output();
    }
    assert_eq!(err.map(|e| e.code), Some(ErrorCode::EnhanceYourCalm));
}

#[test]
fn sec10_5_ping_flood_without_reading_is_refused() {
    let (mut s, mut raw) = raw_server();
    for _ in 0..1024 {
        raw.frame(Frame::Ping(Ping::new(*b"flooding")));
    }
    raw.send(&mut s).unwrap();
    raw.frame(Frame::Settings(Settings::default()));
    assert_eq!(
        raw.send(&mut s).unwrap_err().code,
        ErrorCode::EnhanceYourCalm
    );
    assert_eq!(
        goaway(&out_frames(&mut s)),
        Some(ErrorCode::EnhanceYourCalm)
    );
}

#[test]
fn sec10_5_pings_answered_when_output_is_taken() {
    let (mut s, mut raw) = raw_server();
    for _ in 0..10 {
        for _ in 0..1000 {
            raw.frame(Frame::Ping(Ping::new(*b"12345678")));
        }
        raw.send(&mut s).unwrap();
        let acks = out_frames(&mut s)
            .into_iter()
            .filter(|f| matches!(f, Frame::Ping(p) if p.ack))
            .count();
        assert_eq!(acks, 1000);
    }
}

#[test]
fn sec10_5_continuation_flood_is_refused() {
    let (mut s, mut raw) = raw_server();
    let block = raw.block(GET);
    raw.frame(Frame::Headers(Headers {
        end_headers: false,
        ..Headers::new(1, block, true)
    }));
    for _ in 0..129 {
        raw.frame(Frame::Continuation(Continuation {
            stream_id: 1,
            fragment: Bytes::new(),
            end_headers: false,
        }));
    }
    assert_eq!(
        raw.send(&mut s).unwrap_err().code,
        ErrorCode::EnhanceYourCalm
    );
}

#[test]
fn sec10_5_1_oversized_field_block_is_refused() {
    let (mut s, mut raw) = raw_server();
    raw.frame(Frame::Headers(Headers {
        end_headers: false,
        ..Headers::new(1, Bytes::from(vec![0x40; 16_000]), true)
    }));
    for _ in 0..4 {
        raw.frame(Frame::Continuation(Continuation {
            stream_id: 1,
            fragment: Bytes::from(vec![0x40; 16_000]),
            end_headers: false,
        }));
    }
    assert_eq!(
        raw.send(&mut s).unwrap_err().code,
        ErrorCode::EnhanceYourCalm
    );
}
