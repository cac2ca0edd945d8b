//! Field validation (RFC 9113 sections 8.1, 8.2, 8.3), content-length (8.1.1), the header
//! list limit (6.5.2, 10.5.1) and HPACK errors (4.3): received messages answered with the right
//! error, and sends refused before anything is queued.

use bytes::Bytes;

use super::{GET, drain, goaway, out_frames, raw_client, raw_server, rst};
use crate::{ErrorCode, Event, Field, Headers, Malformed, RequestHead, SendError};

/// Feeds one request (END_STREAM) with these fields; `Ok(head)` or the RST_STREAM code.
fn request(fields: &[(&str, &str)]) -> Result<RequestHead, ErrorCode> {
    let (mut s, mut raw) = raw_server();
    raw.headers(1, fields, true);
    raw.send(&mut s).expect("a stream error at most");
    if let Some(code) = rst(&out_frames(&mut s), 1) {
        assert!(
            drain(&mut s).is_empty(),
            "malformed requests are not surfaced"
        );
        return Err(code);
    }
    match drain(&mut s).pop() {
        Some(Event::Request { head, .. }) => Ok(head),
        other => panic!("{other:?}"),
    }
}

fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut v = GET.to_vec();
    v.extend_from_slice(extra);
    v
}

#[test]
fn sec8_2_malformed_requests_are_stream_protocol_errors() {
    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("8.2.1 uppercase name", with(&[("X-Upper", "1")])),
        ("8.2.1 space in name", with(&[("x y", "1")])),
        ("8.2.1 NUL in value", with(&[("x", "a\0b")])),
        ("8.2.1 CR in value", with(&[("x", "a\rb")])),
        ("8.2.1 leading space", with(&[("x", " a")])),
        ("8.2.1 trailing tab", with(&[("x", "a\t")])),
        ("8.2.2 connection", with(&[("connection", "close")])),
        ("8.2.2 keep-alive", with(&[("keep-alive", "5")])),
        ("8.2.2 proxy-connection", with(&[("proxy-connection", "x")])),
        (
            "8.2.2 transfer-encoding",
            with(&[("transfer-encoding", "chunked")]),
        ),
        ("8.2.2 upgrade", with(&[("upgrade", "h2c")])),
        ("8.2.2 te other than trailers", with(&[("te", "gzip")])),
        (
            "8.3 pseudo after regular",
            vec![
                (":method", "GET"),
                (":scheme", "https"),
                ("x", "1"),
                (":authority", "a"),
                (":path", "/"),
            ],
        ),
        ("8.3 unknown pseudo", with(&[(":foo", "1")])),
        (
            "8.3 response pseudo in request",
            with(&[(":status", "200")]),
        ),
        (
            "8.3 :protocol without RFC 8441",
            with(&[(":protocol", "websocket")]),
        ),
        (
            "8.3.1 duplicate :path",
            vec![
                (":method", "GET"),
                (":scheme", "https"),
                (":authority", "a"),
                (":path", "/"),
                (":path", "/b"),
            ],
        ),
        (
            "8.3.1 missing :method",
            vec![(":scheme", "https"), (":authority", "a"), (":path", "/")],
        ),
        (
            "8.3.1 missing :scheme",
            vec![(":method", "GET"), (":authority", "a"), (":path", "/")],
        ),
        (
            "8.3.1 missing :path",
            vec![
                (":method", "GET"),
                (":scheme", "https"),
                (":authority", "a"),
            ],
        ),
        (
            "8.3.1 no :authority and no host",
            vec![(":method", "GET"), (":scheme", "https"), (":path", "/")],
        ),
        (
            "8.3.1 empty :path",
            vec![
                (":method", "GET"),
                (":scheme", "https"),
                (":authority", "a"),
                (":path", ""),
            ],
        ),
        (
            "8.3.1 host differs from :authority",
            with(&[("host", "other")]),
        ),
        (
            "8.5 CONNECT with :path",
            vec![
                (":method", "CONNECT"),
                (":authority", "a:443"),
                (":path", "/"),
            ],
        ),
        (
            "8.5 CONNECT without :authority",
            vec![(":method", "CONNECT")],
        ),
        (
            "8.1.1 bad content-length",
            with(&[("content-length", "1x")]),
        ),
        (
            "8.1.1 content-length with END_STREAM and no body",
            with(&[("content-length", "5")]),
        ),
    ];
    for (name, fields) in cases {
        assert_eq!(request(&fields), Err(ErrorCode::ProtocolError), "{name}");
    }
}

#[test]
fn sec8_3_valid_requests_are_accepted() {
    let head = request(&with(&[("te", "trailers"), ("x-a", "b c")])).unwrap();
    assert_eq!(head, {
        let mut h = RequestHead::new("GET", "https", "example.com", "/");
        h.fields = vec![Field::new("te", "trailers"), Field::new("x-a", "b c")];
        h
    });
    // 8.3.1: host stands in for :authority.
    let head = request(&[
        (":method", "GET"),
        (":scheme", "http"),
        (":path", "/"),
        ("host", "h.example"),
    ])
    .unwrap();
    assert_eq!(head.authority.as_deref(), Some(&b"h.example"[..]));
    // 8.5: CONNECT carries only :method and :authority.
    let head = request(&[(":method", "CONNECT"), (":authority", "a:443")]).unwrap();
    assert!(head.is_connect() && head.path.is_none() && head.scheme.is_none());
    assert!(request(&with(&[("content-length", "0")])).is_ok());
}

#[test]
fn sec8_1_trailers_rules() {
    // Trailers with a pseudo-header.
    let (mut s, mut raw) = raw_server();
    raw.request(1, false);
    raw.headers(1, &[(":path", "/")], true);
    raw.send(&mut s).unwrap();
    assert_eq!(rst(&out_frames(&mut s), 1), Some(ErrorCode::ProtocolError));
    // A second field section without END_STREAM.
    let (mut s, mut raw) = raw_server();
    raw.request(1, false);
    raw.headers(1, &[("grpc-status", "0")], false);
    raw.send(&mut s).unwrap();
    assert_eq!(rst(&out_frames(&mut s), 1), Some(ErrorCode::ProtocolError));
}

#[test]
fn sec8_1_1_content_length_must_match_data() {
    for (chunks, ok) in [
        (&[&b"abc"[..], &b"de"[..]][..], true),
        (&[&b"abcdef"[..]][..], false),
        (&[&b"abc"[..]][..], false),
    ] {
        let (mut s, mut raw) = raw_server();
        raw.headers(1, &with(&[("content-length", "5")]), false);
        for (i, c) in chunks.iter().enumerate() {
            let last = i + 1 == chunks.len();
            raw.frame(crate::Frame::Data(crate::Data::new(
                1,
                Bytes::copy_from_slice(c),
                last,
            )));
        }
        raw.send(&mut s).unwrap();
        let code = rst(&out_frames(&mut s), 1);
        assert_eq!(code.is_none(), ok, "{chunks:?}");
        if !ok {
            assert_eq!(code, Some(ErrorCode::ProtocolError));
        }
    }
    // Ended by trailers short of the declared length.
    let (mut s, mut raw) = raw_server();
    raw.headers(1, &with(&[("content-length", "5")]), false);
    raw.data(1, b"abc", false);
    raw.headers(1, &[("x-t", "1")], true);
    raw.send(&mut s).unwrap();
    assert_eq!(rst(&out_frames(&mut s), 1), Some(ErrorCode::ProtocolError));
}

#[test]
fn sec8_3_2_malformed_responses_are_stream_protocol_errors() {
    // (what, fields, END_STREAM)
    type Case = (&'static str, &'static [(&'static str, &'static str)], bool);
    let cases: [Case; 7] = [
        ("missing :status", &[("x", "1")], true),
        ("two-digit status", &[(":status", "20")], true),
        ("non-digit status", &[(":status", "2x0")], true),
        ("8.6 101", &[(":status", "101")], false),
        (
            "request pseudo",
            &[(":status", "200"), (":path", "/")],
            true,
        ),
        (
            "uppercase name",
            &[(":status", "200"), ("Server", "x")],
            true,
        ),
        ("8.1 1xx with END_STREAM", &[(":status", "100")], true),
    ];
    for (name, fields, end_stream) in cases {
        let (mut c, mut raw) = raw_client(true);
        raw.headers(1, fields, end_stream);
        raw.send(&mut c).unwrap();
        assert_eq!(
            rst(&out_frames(&mut c), 1),
            Some(ErrorCode::ProtocolError),
            "{name}"
        );
    }
}

#[test]
fn sec6_5_2_header_list_over_our_limit_is_an_event_the_server_can_answer_with_431() {
    let (mut s, mut raw) = raw_server();
    let big = "v".repeat(17 * 1024);
    let mut fields = GET.to_vec();
    fields.push(("x-big", &big));
    raw.headers(1, &fields, false);
    raw.data(1, b"dropped", true);
    raw.send(&mut s).unwrap();
    assert_eq!(drain(&mut s), vec![Event::HeadersTooLarge { stream: 1 }]);
    assert!(
        out_frames(&mut s).is_empty(),
        "no reset: the application decides"
    );
    s.send_response(1, 431, &[], true).unwrap();
    assert_eq!(s.active_streams(), 0);
    // The HPACK context is intact: the next request decodes.
    raw.request(3, true);
    raw.send(&mut s).unwrap();
    assert!(matches!(
        &drain(&mut s)[..],
        [Event::Request { stream: 3, .. }]
    ));
}

#[test]
fn sec4_3_hpack_error_is_compression_error() {
    let (mut s, mut raw) = raw_server();
    // Index 0 is invalid (RFC 7541 section 6.1).
    raw.frame(crate::Frame::Headers(Headers::new(
        1,
        Bytes::from_static(&[0x80]),
        true,
    )));
    assert_eq!(
        raw.send(&mut s).unwrap_err().code,
        ErrorCode::CompressionError
    );
    assert_eq!(
        goaway(&out_frames(&mut s)),
        Some(ErrorCode::CompressionError)
    );
}

#[test]
fn sec8_2_invalid_sends_are_refused_before_queuing() {
    let (mut c, mut raw) = raw_client(false);
    let mut head = RequestHead::new("GET", "https", "a", "/");
    head.fields.push(Field::new("Connection", "close"));
    assert_eq!(
        c.send_request(&head, true),
        Err(SendError::Malformed(Malformed::InvalidName))
    );
    head.fields = vec![Field::new("transfer-encoding", "chunked")];
    assert_eq!(
        c.send_request(&head, true),
        Err(SendError::Malformed(Malformed::ConnectionSpecific))
    );
    head.fields = vec![Field::new(":injected", "x")];
    assert_eq!(
        c.send_request(&head, true),
        Err(SendError::Malformed(Malformed::UnknownPseudo))
    );
    assert_eq!(
        c.send_trailers(1, &[Field::new(":status", "200")]),
        Err(SendError::Malformed(Malformed::UnknownPseudo))
    );
    assert_eq!(
        c.send_response(1, 200, &[], true),
        Err(SendError::WrongSide)
    );
    raw.frame(crate::Frame::Settings(crate::Settings {
        max_header_list_size: Some(100),
        ..crate::Settings::default()
    }));
    raw.send(&mut c).unwrap();
    let _ = c.take_output();
    head.fields = vec![Field::new("x-big", "v".repeat(100))];
    assert_eq!(
        c.send_request(&head, true),
        Err(SendError::HeaderListTooLarge)
    );
    assert!(out_frames(&mut c).is_empty());
}

#[test]
fn sec8_6_server_refuses_to_send_101_and_1xx_with_end_stream() {
    let (mut s, mut raw) = raw_server();
    raw.request(1, true);
    raw.send(&mut s).unwrap();
    assert_eq!(
        s.send_response(1, 101, &[], false),
        Err(SendError::Malformed(Malformed::InvalidStatus))
    );
    assert_eq!(
        s.send_response(1, 103, &[], true),
        Err(SendError::Malformed(Malformed::InformationalEndStream))
    );
    assert!(s.send_response(1, 200, &[], true).is_ok());
}

#[test]
fn sec6_5_2_response_header_list_over_our_limit_is_an_event() {
    let (mut c, mut raw) = raw_client(true);
    let big = "v".repeat(17 * 1024);
    raw.headers(1, &[(":status", "200"), ("x-big", &big)], false);
    raw.data(1, b"dropped", true);
    raw.send(&mut c).unwrap();
    assert_eq!(drain(&mut c), vec![Event::HeadersTooLarge { stream: 1 }]);
    assert_eq!(
        c.active_streams(),
        0,
        "the response ended; its DATA was dropped"
    );
}
