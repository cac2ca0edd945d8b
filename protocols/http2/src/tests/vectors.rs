//! Hand-written wire bytes for every frame type, checked both ways: the bytes decode to the
//! frame, and the frame encodes to the bytes.

use bytes::Bytes;

use super::support::{decode_one, encode};
use crate::{
    Continuation, Data, ErrorCode, Frame, FrameHeader, GoAway, Headers, Ping, Priority,
    PrioritySpec, PushPromise, RstStream, Settings, WindowUpdate,
};

/// `bytes` decodes to `frame` and `frame` encodes to `bytes`.
fn both_ways(bytes: &[u8], frame: Frame) {
    assert_eq!(
        decode_one(bytes),
        Ok(frame.clone()),
        "decoding {bytes:02x?}"
    );
    assert_eq!(encode(&frame), bytes, "encoding {frame:?}");
}

#[test]
fn frame_header_fields_and_reserved_bit() {
    let h = FrameHeader::load(&[0x01, 0x02, 0x03, 0x07, 0xff, 0x80, 0x00, 0x00, 0x05]);
    assert_eq!(h.length, 0x010203);
    assert_eq!(h.kind, 7);
    assert_eq!(h.flags, 0xff);
    assert_eq!(h.stream_id, 5, "the reserved bit is ignored on receipt");
    let mut out = bytes::BytesMut::new();
    FrameHeader {
        stream_id: 0xffff_ffff,
        ..h
    }
    .encode(&mut out);
    assert_eq!(
        &out[..],
        [0x01, 0x02, 0x03, 0x07, 0xff, 0x7f, 0xff, 0xff, 0xff]
    );
}

#[test]
fn data() {
    both_ways(
        &[0, 0, 5, 0x0, 0x1, 0, 0, 0, 1, b'h', b'e', b'l', b'l', b'o'],
        Frame::Data(Data::new(1, Bytes::from_static(b"hello"), true)),
    );
    // PADDED: Pad Length 2, "abc", two zero bytes of padding; 6 bytes of flow control.
    let padded = Data {
        stream_id: 3,
        data: Bytes::from_static(b"abc"),
        end_stream: false,
        padding: Some(2),
    };
    assert_eq!(padded.flow_len(), 6);
    both_ways(
        &[0, 0, 6, 0x0, 0x8, 0, 0, 0, 3, 2, b'a', b'b', b'c', 0, 0],
        Frame::Data(padded),
    );
    // Empty DATA with END_STREAM, and a Pad Length of 0 with no data.
    both_ways(
        &[0, 0, 0, 0x0, 0x1, 0, 0, 0, 7],
        Frame::Data(Data::new(7, Bytes::new(), true)),
    );
    both_ways(
        &[0, 0, 1, 0x0, 0x8, 0, 0, 0, 7, 0],
        Frame::Data(Data {
            padding: Some(0),
            ..Data::new(7, Bytes::new(), false)
        }),
    );
}

#[test]
fn data_padding_is_not_checked_and_unknown_flags_are_ignored() {
    // Non-zero padding is accepted (section 6.1 does not oblige the receiver to check it);
    // flags DATA does not define (0x2, 0x4, 0x20, 0x40...) are ignored.
    let f = decode_one(&[0, 0, 3, 0x0, 0xfe, 0, 0, 0, 1, 1, b'x', 0xaa]).unwrap();
    assert_eq!(
        f,
        Frame::Data(Data {
            stream_id: 1,
            data: Bytes::from_static(b"x"),
            end_stream: false,
            padding: Some(1),
        })
    );
}

#[test]
fn headers() {
    both_ways(
        &[0, 0, 3, 0x1, 0x5, 0, 0, 0, 1, 0x82, 0x86, 0x84],
        Frame::Headers(Headers::new(
            1,
            Bytes::from_static(&[0x82, 0x86, 0x84]),
            true,
        )),
    );
    // PADDED | PRIORITY, no END_HEADERS: Pad Length 1, E=1 dependency 3, weight 15, block
    // "ab", one byte of padding.
    both_ways(
        &[
            0, 0, 9, 0x1, 0x28, 0, 0, 0, 5, 1, 0x80, 0, 0, 3, 15, b'a', b'b', 0,
        ],
        Frame::Headers(Headers {
            stream_id: 5,
            fragment: Bytes::from_static(b"ab"),
            end_stream: false,
            end_headers: false,
            priority: Some(PrioritySpec {
                exclusive: true,
                dependency: 3,
                weight: 15,
            }),
            padding: Some(1),
        }),
    );
}

#[test]
fn priority() {
    both_ways(
        &[0, 0, 5, 0x2, 0x0, 0, 0, 0, 3, 0, 0, 0, 1, 255],
        Frame::Priority(Priority {
            stream_id: 3,
            spec: PrioritySpec {
                exclusive: false,
                dependency: 1,
                weight: 255,
            },
        }),
    );
}

#[test]
fn rst_stream() {
    both_ways(
        &[0, 0, 4, 0x3, 0x0, 0, 0, 0, 1, 0, 0, 0, 0x8],
        Frame::RstStream(RstStream::new(1, ErrorCode::Cancel)),
    );
    // An unknown code is kept, not refused (section 7).
    both_ways(
        &[0, 0, 4, 0x3, 0x0, 0, 0, 0, 1, 0, 0, 0x1, 0x0],
        Frame::RstStream(RstStream::new(1, ErrorCode::Unknown(0x100))),
    );
}

#[test]
fn settings() {
    let all = Settings {
        ack: false,
        header_table_size: Some(4096),
        enable_push: Some(false),
        max_concurrent_streams: Some(100),
        initial_window_size: Some(65_535),
        max_frame_size: Some(16_384),
        max_header_list_size: Some(8192),
    };
    both_ways(
        &[
            0, 0, 36, 0x4, 0x0, 0, 0, 0, 0, //
            0, 1, 0, 0, 0x10, 0x00, //
            0, 2, 0, 0, 0, 0, //
            0, 3, 0, 0, 0, 100, //
            0, 4, 0, 0, 0xff, 0xff, //
            0, 5, 0, 0, 0x40, 0x00, //
            0, 6, 0, 0, 0x20, 0x00,
        ],
        Frame::Settings(all),
    );
    both_ways(
        &[0, 0, 0, 0x4, 0x1, 0, 0, 0, 0],
        Frame::Settings(Settings::ack()),
    );
    both_ways(
        &[0, 0, 0, 0x4, 0x0, 0, 0, 0, 0],
        Frame::Settings(Settings::default()),
    );
}

#[test]
fn settings_unknown_ids_are_ignored_and_the_last_value_wins() {
    let f = decode_one(&[
        0, 0, 24, 0x4, 0x0, 0, 0, 0, 0, //
        0, 4, 0, 0, 0, 10, //
        0, 9, 0xff, 0xff, 0xff, 0xff, // unknown id 9
        0, 8, 0, 0, 0, 1, // SETTINGS_ENABLE_CONNECT_PROTOCOL: not RFC 9113's, ignored
        0, 4, 0, 0, 0, 20,
    ])
    .unwrap();
    assert_eq!(
        f,
        Frame::Settings(Settings {
            initial_window_size: Some(20),
            ..Settings::default()
        })
    );
    // The bounds themselves are valid.
    let edges = decode_one(&[
        0, 0, 24, 0x4, 0x0, 0, 0, 0, 0, //
        0, 2, 0, 0, 0, 1, //
        0, 4, 0x7f, 0xff, 0xff, 0xff, //
        0, 5, 0, 0xff, 0xff, 0xff, //
        0, 1, 0, 0, 0, 0,
    ])
    .unwrap();
    assert_eq!(
        edges,
        Frame::Settings(Settings {
            enable_push: Some(true),
            initial_window_size: Some(0x7fff_ffff),
            max_frame_size: Some(16_777_215),
            header_table_size: Some(0),
            ..Settings::default()
        })
    );
}

#[test]
fn push_promise() {
    both_ways(
        &[0, 0, 6, 0x5, 0x4, 0, 0, 0, 1, 0, 0, 0, 2, 0x82, 0x87],
        Frame::PushPromise(PushPromise {
            stream_id: 1,
            promised_id: 2,
            fragment: Bytes::from_static(&[0x82, 0x87]),
            end_headers: true,
            padding: None,
        }),
    );
    both_ways(
        &[0, 0, 8, 0x5, 0x8, 0, 0, 0, 3, 2, 0, 0, 0, 4, b'z', 0, 0],
        Frame::PushPromise(PushPromise {
            stream_id: 3,
            promised_id: 4,
            fragment: Bytes::from_static(b"z"),
            end_headers: false,
            padding: Some(2),
        }),
    );
}

#[test]
fn ping() {
    both_ways(
        &[0, 0, 8, 0x6, 0x0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8],
        Frame::Ping(Ping::new([1, 2, 3, 4, 5, 6, 7, 8])),
    );
    both_ways(
        &[0, 0, 8, 0x6, 0x1, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8],
        Frame::Ping(Ping::new([1, 2, 3, 4, 5, 6, 7, 8]).to_ack()),
    );
}

#[test]
fn goaway() {
    both_ways(
        &[0, 0, 8, 0x7, 0x0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0],
        Frame::GoAway(GoAway::new(7, ErrorCode::NoError)),
    );
    both_ways(
        &[
            0, 0, 12, 0x7, 0x0, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0xb, b'c', b'a', b'l',
            b'm',
        ],
        Frame::GoAway(GoAway {
            last_stream_id: 0x7fff_ffff,
            code: ErrorCode::EnhanceYourCalm,
            debug_data: Bytes::from_static(b"calm"),
        }),
    );
    // The reserved bit of Last-Stream-ID is ignored.
    let f = decode_one(&[0, 0, 8, 0x7, 0x0, 0, 0, 0, 0, 0x80, 0, 0, 1, 0, 0, 0, 1]).unwrap();
    assert_eq!(f, Frame::GoAway(GoAway::new(1, ErrorCode::ProtocolError)));
}

#[test]
fn window_update() {
    both_ways(
        &[0, 0, 4, 0x8, 0x0, 0, 0, 0, 0, 0, 0, 0x10, 0],
        Frame::WindowUpdate(WindowUpdate::new(0, 4096)),
    );
    both_ways(
        &[0, 0, 4, 0x8, 0x0, 0, 0, 0, 9, 0x7f, 0xff, 0xff, 0xff],
        Frame::WindowUpdate(WindowUpdate::new(9, 0x7fff_ffff)),
    );
    // The reserved bit is ignored.
    let f = decode_one(&[0, 0, 4, 0x8, 0x0, 0, 0, 0, 9, 0x80, 0, 0, 1]).unwrap();
    assert_eq!(f, Frame::WindowUpdate(WindowUpdate::new(9, 1)));
}

#[test]
fn continuation() {
    // Decoded after a HEADERS without END_HEADERS; encoded alone.
    let bytes = [
        0, 0, 1, 0x1, 0x0, 0, 0, 0, 1, 0x82, // HEADERS, no END_HEADERS
        0, 0, 2, 0x9, 0x4, 0, 0, 0, 1, 0x86, 0x84, // CONTINUATION, END_HEADERS
    ];
    let out = super::support::decode_all(&bytes);
    let cont = Continuation {
        stream_id: 1,
        fragment: Bytes::from_static(&[0x86, 0x84]),
        end_headers: true,
    };
    assert_eq!(out.len(), 2);
    assert_eq!(out[1], Ok(Frame::Continuation(cont.clone())));
    assert_eq!(encode(&Frame::Continuation(cont)), &bytes[10..]);
}

#[test]
fn unknown_frame_types_are_skipped() {
    let mut bytes = vec![0, 0, 3, 0xfa, 0xff, 0, 0, 0, 0, 1, 2, 3];
    bytes.extend_from_slice(&[0, 0, 0, 0x4, 0x1, 0, 0, 0, 0]);
    bytes.extend_from_slice(&[0, 0, 0, 0x0b, 0x0, 0, 0, 0, 1]);
    assert_eq!(
        super::support::decode_all(&bytes),
        vec![Ok(Frame::Settings(Settings::ack()))]
    );
}

#[test]
fn error_codes_have_their_rfc_values() {
    use ErrorCode::*;
    let all = [
        NoError,
        ProtocolError,
        InternalError,
        FlowControlError,
        SettingsTimeout,
        StreamClosed,
        FrameSizeError,
        RefusedStream,
        Cancel,
        CompressionError,
        ConnectError,
        EnhanceYourCalm,
        InadequateSecurity,
        Http11Required,
    ];
    for (v, code) in all.into_iter().enumerate() {
        assert_eq!(code.to_u32(), v as u32);
        assert_eq!(ErrorCode::from_u32(v as u32), code);
    }
    assert_eq!(ErrorCode::from_u32(0xe), Unknown(0xe));
    assert_eq!(Unknown(0xe).to_u32(), 0xe);
    assert_eq!(FlowControlError.to_string(), "FLOW_CONTROL_ERROR");
}
