//! Full exchanges between a client and a server connection in memory (RFC 9113 section 8.1
//! message framing, 5.1 lifecycles, 6.9 flow control, 6.8 GOAWAY).

use bytes::Bytes;

use super::{drain, pair, pump};
use crate::{ErrorCode, Event, Field, RequestHead, SendError, StreamState};

fn post() -> RequestHead {
    let mut h = RequestHead::new("POST", "http", "svc", "/pkg.Service/Method");
    h.fields
        .push(Field::new("content-type", "application/grpc"));
    h.fields.push(Field::new("te", "trailers"));
    h
}

#[test]
fn sec8_1_request_with_body_and_trailers_response_with_trailers() {
    let (mut c, mut s) = pair();
    let id = c.send_request(&post(), false).unwrap();
    assert_eq!(c.send_data(id, b"hello", false), Ok(5));
    c.send_trailers(id, &[Field::new("x-req-trailer", "1")])
        .unwrap();
    assert_eq!(c.stream_state(id), StreamState::HalfClosedLocal);
    pump(&mut c, &mut s);
    let ev = drain(&mut s);
    let [
        Event::Request {
            stream,
            head,
            end_stream: false,
        },
        Event::Data {
            data,
            end_stream: false,
            ..
        },
        Event::Trailers { fields, .. },
    ] = &ev[..]
    else {
        panic!("{ev:?}")
    };
    assert_eq!(*stream, id);
    assert_eq!(head, &post());
    assert_eq!(data, "hello");
    assert_eq!(fields, &[Field::new("x-req-trailer", "1")]);
    assert_eq!(s.stream_state(id), StreamState::HalfClosedRemote);
    s.release_received(id, 5);

    s.send_response(
        id,
        200,
        &[Field::new("content-type", "application/grpc")],
        false,
    )
    .unwrap();
    assert_eq!(s.send_data(id, b"world", false), Ok(5));
    s.send_trailers(id, &[Field::new("grpc-status", "0")])
        .unwrap();
    assert_eq!(s.stream_state(id), StreamState::Closed);
    pump(&mut c, &mut s);
    let ev = drain(&mut c);
    assert_eq!(
        ev,
        vec![
            Event::Response {
                stream: id,
                status: 200,
                fields: vec![Field::new("content-type", "application/grpc")],
                end_stream: false
            },
            Event::Data {
                stream: id,
                data: Bytes::from_static(b"world"),
                end_stream: false
            },
            Event::Trailers {
                stream: id,
                fields: vec![Field::new("grpc-status", "0")]
            },
        ]
    );
    assert_eq!(c.active_streams(), 0);
    assert_eq!(s.active_streams(), 0);
    // Section 5.1: once closed, nothing more may be sent.
    assert_eq!(c.send_data(id, b"x", false), Err(SendError::UnknownStream));
}

#[test]
fn sec8_1_informational_then_final_response() {
    let (mut c, mut s) = pair();
    let mut head = post();
    head.fields.push(Field::new("expect", "100-continue"));
    let id = c.send_request(&head, false).unwrap();
    pump(&mut c, &mut s);
    drain(&mut s);
    s.send_response(id, 100, &[], false).unwrap();
    assert_eq!(
        s.send_data(id, b"x", false),
        Err(SendError::WrongState),
        "DATA needs the final response"
    );
    pump(&mut c, &mut s);
    assert_eq!(
        drain(&mut c),
        vec![Event::Informational {
            stream: id,
            status: 100,
            fields: vec![]
        }]
    );
    c.send_data(id, b"body", true).unwrap();
    pump(&mut c, &mut s);
    drain(&mut s);
    s.send_response(id, 204, &[], true).unwrap();
    pump(&mut c, &mut s);
    assert!(matches!(
        &drain(&mut c)[..],
        [Event::Response {
            status: 204,
            end_stream: true,
            ..
        }]
    ));
    assert_eq!(c.active_streams(), 0);
}

#[test]
fn sec8_1_1_head_response_content_length_without_body() {
    let (mut c, mut s) = pair();
    let id = c
        .send_request(&RequestHead::new("HEAD", "http", "svc", "/"), true)
        .unwrap();
    pump(&mut c, &mut s);
    drain(&mut s);
    s.send_response(id, 200, &[Field::new("content-length", "1234")], true)
        .unwrap();
    pump(&mut c, &mut s);
    assert!(matches!(
        &drain(&mut c)[..],
        [Event::Response { status: 200, .. }]
    ));
    assert_eq!(c.active_streams(), 0);
}

/// Sends `body` from client to server over one stream, releasing what the server receives,
/// and returns what arrived.
fn transfer(c: &mut crate::Connection, s: &mut crate::Connection, body: &[u8]) -> Vec<u8> {
    let id = c.send_request(&post(), false).unwrap();
    let mut sent = 0;
    let mut got = Vec::new();
    for _ in 0..10_000 {
        if sent < body.len() {
            sent += c.send_data(id, &body[sent..], true).unwrap();
        }
        pump(c, s);
        for e in drain(s) {
            if let Event::Data { data, stream, .. } = e {
                got.extend_from_slice(&data);
                s.release_received(stream, data.len());
            }
        }
        if sent == body.len() && got.len() == body.len() {
            break;
        }
    }
    got
}

#[test]
fn sec6_9_large_body_crosses_windows_with_release() {
    let (mut c, mut s) = pair();
    let body: Vec<u8> = (0..3_000_000u32).map(|i| (i * 31 % 251) as u8).collect();
    let got = transfer(&mut c, &mut s, &body);
    assert_eq!(got.len(), body.len());
    assert!(got == body);
    assert_eq!(s.stream_state(1), StreamState::HalfClosedRemote);
}

#[test]
fn sec6_9_sender_stops_at_window_and_resumes_on_window_update() {
    let (mut c, mut s) = pair();
    let id = c.send_request(&post(), false).unwrap();
    // The server's SETTINGS gave each stream 256 KiB.
    assert_eq!(c.send_capacity(id), 256 * 1024);
    let big = vec![7u8; 300 * 1024];
    assert_eq!(c.send_data(id, &big, true), Ok(256 * 1024));
    assert_eq!(c.send_capacity(id), 0);
    assert_eq!(c.send_data(id, &big, true), Ok(0));
    pump(&mut c, &mut s);
    let received: usize = drain(&mut s)
        .iter()
        .map(|e| match e {
            Event::Data { data, .. } => data.len(),
            _ => 0,
        })
        .sum();
    assert_eq!(received, 256 * 1024);
    // Less than half the window released: no WINDOW_UPDATE yet.
    s.release_received(id, 100 * 1024);
    pump(&mut c, &mut s);
    assert_eq!(c.send_capacity(id), 0);
    s.release_received(id, 28 * 1024);
    pump(&mut c, &mut s);
    assert!(drain(&mut c).contains(&Event::WindowOpen { stream: Some(id) }));
    assert_eq!(c.send_capacity(id), 128 * 1024);
}

#[test]
fn sec5_1_2_many_concurrent_streams_up_to_the_peer_limit() {
    let (mut c, mut s) = pair();
    let ids: Vec<u32> = (0..100)
        .map(|_| c.send_request(&post(), false).unwrap())
        .collect();
    assert_eq!(
        c.send_request(&post(), false),
        Err(SendError::ConcurrencyLimit { limit: 100 })
    );
    for &id in &ids {
        c.send_data(id, id.to_string().as_bytes(), true).unwrap();
    }
    pump(&mut c, &mut s);
    let mut bodies = 0;
    for e in drain(&mut s) {
        if let Event::Data { stream, data, .. } = e {
            assert_eq!(data, stream.to_string());
            s.send_response(stream, 200, &[], false).unwrap();
            s.send_data(stream, &data, true).unwrap();
            bodies += 1;
        }
    }
    assert_eq!(bodies, 100);
    pump(&mut c, &mut s);
    let done = drain(&mut c)
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::Data {
                    end_stream: true,
                    ..
                }
            )
        })
        .count();
    assert_eq!(done, 100);
    assert_eq!(c.active_streams(), 0);
    assert!(c.send_request(&post(), true).is_ok());
}

#[test]
fn sec6_4_client_reset_reaches_server() {
    let (mut c, mut s) = pair();
    let id = c.send_request(&post(), false).unwrap();
    pump(&mut c, &mut s);
    drain(&mut s);
    c.reset(id, ErrorCode::Cancel);
    pump(&mut c, &mut s);
    assert_eq!(
        drain(&mut s),
        vec![Event::Reset {
            stream: id,
            code: ErrorCode::Cancel,
            remote: true
        }]
    );
    assert_eq!(
        s.send_response(id, 200, &[], true),
        Err(SendError::UnknownStream)
    );
    assert_eq!(s.stream_state(id), StreamState::Closed);
}

#[test]
fn sec6_8_goaway_finishes_old_streams_and_refuses_new_ones() {
    let (mut c, mut s) = pair();
    let first = c.send_request(&post(), true).unwrap();
    pump(&mut c, &mut s);
    drain(&mut s);
    // The client opens another stream while the server's GOAWAY is in flight.
    let second = c.send_request(&post(), true).unwrap();
    let mut to_server = c.take_output();
    s.go_away(ErrorCode::NoError, b"draining");
    let mut to_client = s.take_output();
    c.receive(&mut to_client).unwrap();
    let ev = drain(&mut c);
    assert_eq!(
        ev,
        vec![
            Event::Reset {
                stream: second,
                code: ErrorCode::RefusedStream,
                remote: true
            },
            Event::GoAway {
                last_stream_id: first,
                code: ErrorCode::NoError,
                debug: Bytes::from_static(b"draining")
            },
        ]
    );
    assert_eq!(c.send_request(&post(), true), Err(SendError::GoingAway));
    s.receive(&mut to_server).unwrap();
    assert!(
        drain(&mut s).is_empty(),
        "the second stream is not processed"
    );
    s.send_response(first, 200, &[], true).unwrap();
    pump(&mut c, &mut s);
    assert!(matches!(
        &drain(&mut c)[..],
        [Event::Response { status: 200, .. }]
    ));
    assert!(s.is_closed() && c.is_closed());
}

#[test]
fn sec6_7_ping_round_trip() {
    let (mut c, mut s) = pair();
    c.ping(*b"pingpong");
    pump(&mut c, &mut s);
    assert_eq!(drain(&mut c), vec![Event::PingAck(*b"pingpong")]);
}
