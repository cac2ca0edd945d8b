//! Stream states and stream ids (RFC 9113 section 5.1), frames on stream 0 (sections 6.1,
//! 6.2), concurrency (5.1.2), GOAWAY (6.8) and push (6.5.2, 8.4): hand-built frames, checked
//! by the RST_STREAM or GOAWAY code that comes back.

use bytes::Bytes;

use super::{GET, Raw, drain, goaway, out_frames, raw_client, raw_server, raw_server_with, rst};
use crate::{
    Config, Connection, ErrorCode, Event, Frame, PREFACE, PushPromise, RstStream, Settings, Side,
    StreamState, WindowUpdate,
};

#[test]
fn sec5_1_data_on_half_closed_remote_is_stream_closed() {
    let (mut s, mut raw) = raw_server();
    raw.request(1, true);
    raw.data(1, b"late", false);
    raw.send(&mut s).unwrap();
    assert_eq!(rst(&out_frames(&mut s), 1), Some(ErrorCode::StreamClosed));
    let ev = drain(&mut s);
    assert!(
        matches!(
            ev.last(),
            Some(Event::Reset {
                stream: 1,
                code: ErrorCode::StreamClosed,
                remote: false
            })
        ),
        "{ev:?}"
    );
    assert_eq!(s.stream_state(1), StreamState::Closed);
}

#[test]
fn sec5_1_headers_without_end_stream_on_half_closed_remote_is_stream_closed() {
    let (mut s, mut raw) = raw_server();
    raw.request(1, true);
    raw.headers(1, &[("x", "y")], true);
    raw.send(&mut s).unwrap();
    assert_eq!(rst(&out_frames(&mut s), 1), Some(ErrorCode::StreamClosed));
}

#[test]
fn sec5_1_1_even_client_stream_id_is_protocol_error() {
    let (mut s, mut raw) = raw_server();
    raw.request(2, true);
    assert!(raw.send(&mut s).is_err());
    assert_eq!(goaway(&out_frames(&mut s)), Some(ErrorCode::ProtocolError));
}

#[test]
fn sec5_1_1_decreasing_stream_id_is_protocol_error() {
    let (mut s, mut raw) = raw_server();
    raw.request(5, true);
    raw.request(3, true);
    let e = raw.send(&mut s).unwrap_err();
    assert_eq!(e.code, ErrorCode::ProtocolError);
    assert_eq!(goaway(&out_frames(&mut s)), Some(ErrorCode::ProtocolError));
    // Section 5.1.1: stream 3 was implicitly closed by the first use of 5.
    assert_eq!(s.stream_state(3), StreamState::Closed);
    // Every later call fails the same way.
    assert_eq!(raw.send(&mut s), Err(e));
}

#[test]
fn sec6_1_data_on_stream_0_is_protocol_error() {
    let (mut s, mut raw) = raw_server();
    raw.data(0, b"x", false);
    assert_eq!(raw.send(&mut s).unwrap_err().code, ErrorCode::ProtocolError);
}

#[test]
fn sec6_2_headers_on_stream_0_is_protocol_error() {
    let (mut s, mut raw) = raw_server();
    raw.request(0, true);
    assert_eq!(raw.send(&mut s).unwrap_err().code, ErrorCode::ProtocolError);
}

#[test]
fn sec5_1_idle_stream_frames_are_protocol_errors() {
    type Write = fn(&mut super::Raw);
    let cases: [(&str, Write); 3] = [
        ("DATA", |r| r.data(1, b"x", false)),
        ("RST_STREAM", |r| {
            r.frame(Frame::RstStream(RstStream::new(1, ErrorCode::Cancel)))
        }),
        ("WINDOW_UPDATE", |r| {
            r.frame(Frame::WindowUpdate(WindowUpdate::new(1, 10)))
        }),
    ];
    for (name, write) in cases {
        let (mut s, mut raw) = raw_server();
        write(&mut raw);
        let e = raw.send(&mut s).unwrap_err();
        assert_eq!(e.code, ErrorCode::ProtocolError, "{name}");
    }
}

#[test]
fn sec5_1_priority_on_idle_stream_is_fine() {
    let (mut s, mut raw) = raw_server();
    raw.frame(Frame::Priority(crate::Priority {
        stream_id: 7,
        spec: crate::PrioritySpec {
            exclusive: false,
            dependency: 0,
            weight: 15,
        },
    }));
    raw.request(1, true);
    raw.send(&mut s).unwrap();
    assert!(matches!(
        &drain(&mut s)[..],
        [Event::Request { stream: 1, .. }]
    ));
}

#[test]
fn sec5_1_headers_on_closed_stream_is_stream_closed_connection_error() {
    let (mut s, mut raw) = raw_server();
    raw.request(1, true);
    raw.send(&mut s).unwrap();
    s.send_response(1, 200, &[], true).unwrap();
    assert_eq!(s.stream_state(1), StreamState::Closed);
    raw.request(1, true);
    assert_eq!(raw.send(&mut s).unwrap_err().code, ErrorCode::StreamClosed);
}

#[test]
fn sec5_1_frames_after_our_reset_are_ignored() {
    let (mut s, mut raw) = raw_server();
    raw.request(1, false);
    raw.send(&mut s).unwrap();
    s.reset(1, ErrorCode::Cancel);
    let _ = s.take_output();
    raw.data(1, b"in flight", false);
    raw.headers(1, &[("grpc-status", "0")], true);
    raw.frame(Frame::WindowUpdate(WindowUpdate::new(1, 5)));
    raw.frame(Frame::RstStream(RstStream::new(1, ErrorCode::Cancel)));
    raw.send(&mut s).unwrap();
    assert!(out_frames(&mut s).is_empty());
    assert!(
        drain(&mut s)
            .iter()
            .all(|e| !matches!(e, Event::Data { .. }))
    );
    // The dropped DATA's connection credit is not lost: the next stream still has it all.
    assert_eq!(s.local_flow_control_window(), 1024 * 1024 - 9);
}

#[test]
fn sec5_1_data_after_peer_reset_is_stream_closed() {
    let (mut s, mut raw) = raw_server();
    raw.request(1, false);
    raw.frame(Frame::RstStream(RstStream::new(1, ErrorCode::Cancel)));
    raw.data(1, b"x", false);
    raw.send(&mut s).unwrap();
    assert_eq!(rst(&out_frames(&mut s), 1), Some(ErrorCode::StreamClosed));
    let ev = drain(&mut s);
    assert!(ev.contains(&Event::Reset {
        stream: 1,
        code: ErrorCode::Cancel,
        remote: true
    }));
}

#[test]
fn sec5_1_2_streams_past_our_limit_are_refused() {
    let (mut s, mut raw) = raw_server_with(Config {
        max_concurrent_streams: 2,
        ..Config::default()
    });
    raw.request(1, false);
    raw.request(3, false);
    raw.request(5, false);
    raw.send(&mut s).unwrap();
    assert_eq!(rst(&out_frames(&mut s), 5), Some(ErrorCode::RefusedStream));
    assert_eq!(drain(&mut s).len(), 2);
    // Once one finishes, a new stream is accepted.
    raw.frame(Frame::RstStream(RstStream::new(1, ErrorCode::Cancel)));
    raw.request(7, true);
    raw.send(&mut s).unwrap();
    assert!(
        drain(&mut s)
            .iter()
            .any(|e| matches!(e, Event::Request { stream: 7, .. }))
    );
}

#[test]
fn sec6_8_streams_after_our_goaway_are_refused() {
    let (mut s, mut raw) = raw_server();
    raw.request(1, true);
    raw.send(&mut s).unwrap();
    s.go_away(ErrorCode::NoError, b"");
    let frames = out_frames(&mut s);
    assert!(matches!(&frames[..], [Frame::GoAway(g)] if g.last_stream_id == 1));
    drain(&mut s);
    raw.request(3, true);
    raw.send(&mut s).unwrap();
    assert_eq!(rst(&out_frames(&mut s), 3), Some(ErrorCode::RefusedStream));
    assert!(drain(&mut s).is_empty());
    assert!(!s.is_closed(), "stream 1 is still being answered");
    s.send_response(1, 200, &[], true).unwrap();
    assert!(s.is_closed());
}

#[test]
fn sec8_4_client_refuses_push_promise() {
    let (mut c, mut raw) = raw_client(true);
    let block = raw.block(GET);
    raw.frame(Frame::PushPromise(PushPromise {
        stream_id: 1,
        promised_id: 2,
        fragment: block,
        end_headers: true,
        padding: None,
    }));
    assert_eq!(raw.send(&mut c).unwrap_err().code, ErrorCode::ProtocolError);
}

#[test]
fn sec6_5_2_client_refuses_enable_push_from_server() {
    let (mut c, mut raw) = raw_client(true);
    raw.frame(Frame::Settings(Settings {
        enable_push: Some(true),
        ..Settings::default()
    }));
    assert_eq!(raw.send(&mut c).unwrap_err().code, ErrorCode::ProtocolError);
}

#[test]
fn sec5_1_server_headers_on_idle_even_stream_is_protocol_error() {
    let (mut c, mut raw) = raw_client(true);
    raw.headers(2, &[(":status", "200")], true);
    assert_eq!(raw.send(&mut c).unwrap_err().code, ErrorCode::ProtocolError);
}

#[test]
fn sec8_1_data_before_final_response_is_protocol_error() {
    let (mut c, mut raw) = raw_client(true);
    raw.headers(1, &[(":status", "103")], false);
    raw.data(1, b"x", true);
    raw.send(&mut c).unwrap();
    assert_eq!(rst(&out_frames(&mut c), 1), Some(ErrorCode::ProtocolError));
}

#[test]
fn sec6_8_received_goaway_reports_streams_above_last_as_refused() {
    let (mut c, mut raw) = raw_client(false);
    let head = crate::RequestHead::new("GET", "https", "example.com", "/2");
    assert_eq!(c.send_request(&head, true), Ok(3));
    raw.frame(Frame::GoAway(crate::GoAway {
        last_stream_id: 1,
        code: ErrorCode::NoError,
        debug_data: Bytes::new(),
    }));
    raw.send(&mut c).unwrap();
    let ev = drain(&mut c);
    assert_eq!(
        ev[0],
        Event::Reset {
            stream: 3,
            code: ErrorCode::RefusedStream,
            remote: true
        }
    );
    assert_eq!(c.stream_state(1), StreamState::Open);
    assert_eq!(c.stream_state(3), StreamState::Closed);
}

#[test]
fn sec6_5_2_streams_opened_before_our_settings_were_acknowledged_are_not_refused() {
    // A client that opens a burst of streams with its preface has not seen our limit yet.
    let mut s = Connection::new(
        Side::Server,
        Config {
            max_concurrent_streams: 2,
            ..Config::default()
        },
    );
    let mut raw = Raw::new();
    raw.wire.extend_from_slice(PREFACE);
    Settings::default().encode(&mut raw.wire);
    for id in [1, 3, 5, 7, 9] {
        raw.request(id, false);
    }
    raw.send(&mut s).unwrap();
    let requests = drain(&mut s)
        .iter()
        .filter(|e| matches!(e, Event::Request { .. }))
        .count();
    assert_eq!(requests, 5);
    assert_eq!(rst(&out_frames(&mut s), 9), None);
    // Once it has acknowledged them, our limit holds.
    raw.frame(Frame::Settings(Settings::ack()));
    raw.request(11, false);
    raw.send(&mut s).unwrap();
    assert_eq!(rst(&out_frames(&mut s), 11), Some(ErrorCode::RefusedStream));
}
