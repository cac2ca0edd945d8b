//! Every section 6 rule (and the decoder's limits) with the exact error, scope and code.

use bytes::{Bytes, BytesMut};

use super::support::{decode_all, raw, run};
use crate::{
    Decoder, Error, ErrorCode, ErrorKind, Frame, FrameHeader, PREFACE, Settings, WindowUpdate,
};

use ErrorCode::{FlowControlError, FrameSizeError, ProtocolError};

/// The error decoding `bytes` ends with, checked against the code it must carry.
#[track_caller]
fn err(bytes: &[u8], expected: Error, code: ErrorCode) {
    let out = decode_all(bytes);
    assert_eq!(
        out.last(),
        Some(&Err(expected)),
        "decoding {bytes:02x?}: {out:?}"
    );
    assert_eq!(expected.code(), code);
}

fn conn(kind: ErrorKind) -> Error {
    Error::Connection(kind)
}

#[test]
fn stream_frames_on_stream_zero_are_protocol_errors() {
    use ErrorKind::StreamIdZero;
    err(&raw(0x0, 0, 0, b"x"), conn(StreamIdZero), ProtocolError);
    err(&raw(0x1, 0x4, 0, b"x"), conn(StreamIdZero), ProtocolError);
    err(
        &raw(0x2, 0, 0, &[0, 0, 0, 1, 0]),
        conn(StreamIdZero),
        ProtocolError,
    );
    err(
        &raw(0x3, 0, 0, &[0, 0, 0, 0]),
        conn(StreamIdZero),
        ProtocolError,
    );
    err(
        &raw(0x5, 0x4, 0, &[0, 0, 0, 2]),
        conn(StreamIdZero),
        ProtocolError,
    );
    // CONTINUATION on stream 0 in the middle of a block: not the block's stream.
    let mut b = raw(0x1, 0, 1, b"x");
    b.extend(raw(0x9, 0x4, 0, b"y"));
    err(&b, conn(ErrorKind::ExpectedContinuation), ProtocolError);
    // The frame-level check alone, as `Frame::load` applies it.
    let h = FrameHeader {
        length: 0,
        kind: 0x9,
        flags: 0,
        stream_id: 0,
    };
    assert_eq!(Frame::load(&h, Bytes::new()), Err(conn(StreamIdZero)));
}

#[test]
fn frame_load_refuses_a_payload_of_the_wrong_length() {
    // `Frame::load` is public: a payload that disagrees with the header is an error, not a
    // panic, for every type.
    for kind in 0..=10 {
        let h = FrameHeader {
            length: 8,
            kind,
            flags: 0xff,
            stream_id: 1,
        };
        let e = Frame::load(&h, Bytes::from_static(b"short"));
        assert_eq!(e, Err(conn(ErrorKind::InvalidFrameLength)), "type {kind}");
    }
}

#[test]
fn connection_frames_on_a_stream_are_protocol_errors() {
    use ErrorKind::StreamIdNonZero;
    err(&raw(0x4, 0, 1, &[]), conn(StreamIdNonZero), ProtocolError);
    err(&raw(0x4, 0x1, 3, &[]), conn(StreamIdNonZero), ProtocolError);
    err(
        &raw(0x6, 0, 1, &[0; 8]),
        conn(StreamIdNonZero),
        ProtocolError,
    );
    err(
        &raw(0x7, 0, 1, &[0; 8]),
        conn(StreamIdNonZero),
        ProtocolError,
    );
}

#[test]
fn fixed_lengths_are_frame_size_errors() {
    use ErrorKind::InvalidFrameLength;
    for len in [4, 6] {
        // PRIORITY: a stream error; the next frame still decodes.
        let mut b = raw(0x2, 0, 3, &vec![0; len]);
        b.extend(raw(0x6, 0, 0, &[0; 8]));
        let out = decode_all(&b);
        assert_eq!(out[0], Err(Error::Stream(3, InvalidFrameLength)));
        assert!(matches!(out[1], Ok(Frame::Ping(_))));
        assert_eq!(out.len(), 2);
    }
    for len in [0, 3, 5] {
        err(
            &raw(0x3, 0, 1, &vec![0; len]),
            conn(InvalidFrameLength),
            FrameSizeError,
        );
        err(
            &raw(0x8, 0, 0, &vec![0; len]),
            conn(InvalidFrameLength),
            FrameSizeError,
        );
        err(
            &raw(0x8, 0, 1, &vec![0; len]),
            conn(InvalidFrameLength),
            FrameSizeError,
        );
    }
    for len in [0, 7, 9] {
        err(
            &raw(0x6, 0, 0, &vec![0; len]),
            conn(InvalidFrameLength),
            FrameSizeError,
        );
        err(
            &raw(0x6, 0x1, 0, &vec![0; len]),
            conn(InvalidFrameLength),
            FrameSizeError,
        );
    }
    for len in [0, 4, 7] {
        err(
            &raw(0x7, 0, 0, &vec![0; len]),
            conn(InvalidFrameLength),
            FrameSizeError,
        );
    }
    // SETTINGS: a multiple of 6; an ACK carries nothing.
    for len in [1, 5, 7, 13] {
        err(
            &raw(0x4, 0, 0, &vec![0; len]),
            conn(InvalidFrameLength),
            FrameSizeError,
        );
    }
    err(
        &raw(0x4, 0x1, 0, &[0, 3, 0, 0, 0, 1]),
        conn(InvalidFrameLength),
        FrameSizeError,
    );
}

#[test]
fn padding_rules() {
    // DATA: "If the length of the padding is the length of the frame payload or greater".
    err(
        &raw(0x0, 0x8, 1, &[5, 1, 2, 3, 4]),
        conn(ErrorKind::PaddingTooLong),
        ProtocolError,
    );
    err(
        &raw(0x0, 0x8, 1, &[1]),
        conn(ErrorKind::PaddingTooLong),
        ProtocolError,
    );
    assert!(decode_all(&raw(0x0, 0x8, 1, &[4, 1, 2, 3, 4]))[0].is_ok());
    // PADDED with no room for Pad Length.
    err(
        &raw(0x0, 0x8, 1, &[]),
        conn(ErrorKind::InvalidFrameLength),
        FrameSizeError,
    );
    // HEADERS with PRIORITY: padding may not eat the 5 priority bytes.
    let pri = [0, 0, 0, 0, 16];
    let mut p = vec![2];
    p.extend_from_slice(&pri);
    p.push(0);
    err(
        &raw(0x1, 0x2c, 1, &p),
        conn(ErrorKind::PaddingTooLong),
        ProtocolError,
    );
    p[0] = 1;
    assert!(decode_all(&raw(0x1, 0x2c, 1, &p))[0].is_ok());
    err(
        &raw(0x1, 0x24, 1, &pri[..4]),
        conn(ErrorKind::InvalidFrameLength),
        FrameSizeError,
    );
    err(
        &raw(0x1, 0x0c, 1, &[1]),
        conn(ErrorKind::PaddingTooLong),
        ProtocolError,
    );
    // PUSH_PROMISE: padding may not eat the promised stream id.
    err(
        &raw(0x5, 0xc, 1, &[1, 0, 0, 0, 2]),
        conn(ErrorKind::PaddingTooLong),
        ProtocolError,
    );
    err(
        &raw(0x5, 0x4, 1, &[0, 0, 2]),
        conn(ErrorKind::InvalidFrameLength),
        FrameSizeError,
    );
}

#[test]
fn settings_values() {
    let one = |id: u16, v: u32| {
        let mut p = id.to_be_bytes().to_vec();
        p.extend_from_slice(&v.to_be_bytes());
        raw(0x4, 0, 0, &p)
    };
    for v in [2, 0xffff_ffff] {
        err(
            &one(2, v),
            conn(ErrorKind::InvalidEnablePush),
            ProtocolError,
        );
    }
    for v in [0x8000_0000, 0xffff_ffff] {
        err(
            &one(4, v),
            conn(ErrorKind::InvalidInitialWindowSize),
            FlowControlError,
        );
    }
    for v in [0, 16_383, 16_777_216, 0xffff_ffff] {
        err(
            &one(5, v),
            conn(ErrorKind::InvalidMaxFrameSize),
            ProtocolError,
        );
    }
    for (id, v) in [
        (5, 16_384),
        (5, 16_777_215),
        (4, 0),
        (4, 0x7fff_ffff),
        (2, 0),
    ] {
        assert!(decode_all(&one(id, v))[0].is_ok(), "{id} = {v}");
    }
}

#[test]
fn window_update_increment_zero() {
    err(
        &raw(0x8, 0, 0, &[0; 4]),
        conn(ErrorKind::ZeroWindowIncrement),
        ProtocolError,
    );
    // Only the reserved bit set: still an increment of 0.
    err(
        &raw(0x8, 0, 0, &[0x80, 0, 0, 0]),
        conn(ErrorKind::ZeroWindowIncrement),
        ProtocolError,
    );
    // On a stream it is a stream error: the connection goes on.
    let mut b = raw(0x8, 0, 5, &[0; 4]);
    b.extend(raw(0x8, 0, 5, &[0, 0, 0, 1]));
    let out = decode_all(&b);
    let e = Error::Stream(5, ErrorKind::ZeroWindowIncrement);
    assert_eq!(e.code(), ProtocolError);
    assert_eq!(
        out,
        vec![Err(e), Ok(Frame::WindowUpdate(WindowUpdate::new(5, 1)))]
    );
}

#[test]
fn priority_on_itself_is_a_stream_error() {
    let mut b = raw(0x2, 0, 3, &[0x80, 0, 0, 3, 7]);
    b.extend(raw(0x4, 0x1, 0, &[]));
    let out = decode_all(&b);
    assert_eq!(out[0], Err(Error::Stream(3, ErrorKind::SelfDependency)));
    assert_eq!(out[1], Ok(Frame::Settings(Settings::ack())));
}

#[test]
fn push_promise_ids() {
    err(
        &raw(0x5, 0x4, 1, &[0, 0, 0, 0]),
        conn(ErrorKind::InvalidPushPromise),
        ProtocolError,
    );
    err(
        &raw(0x5, 0x4, 1, &[0, 0, 0, 3]),
        conn(ErrorKind::InvalidPushPromise),
        ProtocolError,
    );
    // A server never accepts one.
    let mut dec = Decoder::server();
    let mut b = PREFACE.to_vec();
    b.extend(raw(0x4, 0, 0, &[]));
    b.extend(raw(0x5, 0x4, 1, &[0, 0, 0, 2]));
    let out = run(&mut dec, &[&b]);
    assert_eq!(out.last(), Some(&Err(conn(ErrorKind::InvalidPushPromise))));
    // A client does.
    let mut dec = Decoder::client();
    let mut b = raw(0x4, 0, 0, &[]);
    b.extend(raw(0x5, 0x4, 1, &[0, 0, 0, 2]));
    assert!(run(&mut dec, &[&b]).iter().all(Result::is_ok));
}

#[test]
fn frames_over_max_frame_size_fail_on_the_header() {
    // Only the header arrives: the error does not wait for 16385 bytes of payload.
    for kind in [0x0, 0x1, 0x6, 0xee] {
        let mut h = raw(kind, 0, 1, &[]);
        h[..3].copy_from_slice(&[0, 0x40, 0x01]);
        err(&h, conn(ErrorKind::FrameTooLarge), FrameSizeError);
    }
    // Exactly the limit is fine; a raised limit admits more.
    let ok = raw(0x0, 0, 1, &[0; 16_384]);
    assert!(decode_all(&ok)[0].is_ok());
    let big = raw(0x0, 0, 1, &[0; 20_000]);
    err(&big, conn(ErrorKind::FrameTooLarge), FrameSizeError);
    let mut dec = Decoder::new();
    dec.set_max_frame_size(20_000);
    assert!(run(&mut dec, &[&big])[0].is_ok());
}

#[test]
fn connection_errors_are_sticky_and_stream_errors_are_not() {
    let mut dec = Decoder::new();
    let mut buf = BytesMut::from(&raw(0x4, 0, 1, &[])[..]);
    let e = dec.decode(&mut buf).unwrap_err();
    assert_eq!(e, conn(ErrorKind::StreamIdNonZero));
    assert!(e.is_connection_error() && e.stream_id().is_none());
    buf.extend_from_slice(&raw(0x4, 0x1, 0, &[]));
    assert_eq!(dec.decode(&mut buf), Err(e));

    // A stream error found on the header skips the payload, even when it arrives later.
    let mut dec = Decoder::new();
    let b = raw(0x2, 0, 7, &[1, 2, 3]);
    let mut buf = BytesMut::from(&b[..10]);
    let e = dec.decode(&mut buf).unwrap_err();
    assert_eq!(e.stream_id(), Some(7));
    assert_eq!(e.code(), FrameSizeError);
    assert_eq!(dec.decode(&mut buf), Ok(None));
    buf.extend_from_slice(&b[10..]);
    buf.extend_from_slice(&raw(0x6, 0x1, 0, &[9; 8]));
    assert!(matches!(dec.decode(&mut buf), Ok(Some(Frame::Ping(p))) if p.ack));
}

#[test]
fn error_kinds_map_to_their_codes() {
    use ErrorKind::*;
    let table = [
        (InvalidPreface, ProtocolError),
        (PrefaceNotSettings, ProtocolError),
        (FrameTooLarge, FrameSizeError),
        (InvalidFrameLength, FrameSizeError),
        (StreamIdZero, ProtocolError),
        (StreamIdNonZero, ProtocolError),
        (PaddingTooLong, ProtocolError),
        (InvalidEnablePush, ProtocolError),
        (InvalidInitialWindowSize, FlowControlError),
        (InvalidMaxFrameSize, ProtocolError),
        (ZeroWindowIncrement, ProtocolError),
        (SelfDependency, ProtocolError),
        (InvalidPushPromise, ProtocolError),
        (UnexpectedContinuation, ProtocolError),
        (ExpectedContinuation, ProtocolError),
        (HeaderBlockTooLarge, ErrorCode::EnhanceYourCalm),
        (WindowOverflow, FlowControlError),
        (WindowExceeded, FlowControlError),
    ];
    for (kind, code) in table {
        assert_eq!(kind.code(), code, "{kind:?}");
        assert!(!kind.reason().is_empty());
    }
    let e = Error::Stream(3, WindowOverflow);
    assert_eq!(
        e.to_string(),
        "stream 3 error FLOW_CONTROL_ERROR: flow-control window overflow"
    );
}
