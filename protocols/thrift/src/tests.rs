//! Whole messages: framed encode/decode round trips, and byte vectors written by Apache Thrift's
//! Python library (one checked in as hex; `tests/python.rs` runs the library itself when it is
//! installed).

use super::*;

fn call(seqid: i32, strict: bool) -> MessageHeader<'static> {
    MessageHeader {
        name: b"echo",
        kind: MessageType::Call,
        seqid,
        strict,
    }
}

#[test]
fn framed_round_trip() {
    for strict in [true, false] {
        let mut out = BytesMut::new();
        encode_framed_binary(&call(42, strict), 1, b"payload", &mut out).unwrap();
        encode_framed_binary(&call(43, strict), 1, b"", &mut out).unwrap();
        let Decoded::Done(frame) = take_frame(&mut out, &Limits::default()).unwrap() else {
            panic!("complete");
        };
        let m = Message::load(&frame, &Limits::default()).unwrap();
        assert_eq!(m.header, call(42, strict));
        assert_eq!(
            find_binary_field(m.body, 1, &Limits::default()).unwrap().0,
            Some(&b"payload"[..])
        );
        let Decoded::Done(frame) = take_frame(&mut out, &Limits::default()).unwrap() else {
            panic!("complete");
        };
        assert_eq!(
            Message::load(&frame, &Limits::default())
                .unwrap()
                .header
                .seqid,
            43
        );
        assert!(out.is_empty());
    }
}

#[test]
fn a_frame_with_bytes_after_the_struct_is_rejected() {
    let mut out = BytesMut::new();
    let at = begin_frame(&mut out);
    call(1, true).encode(&mut out).unwrap();
    encode_binary_struct(1, b"x", &mut out).unwrap();
    out.extend_from_slice(b"zz");
    finish_frame(&mut out, at).unwrap();
    let Decoded::Done(frame) = decode_frame(&out, &Limits::default()).unwrap() else {
        panic!("complete");
    };
    assert_eq!(
        Message::load(frame, &Limits::default()),
        Err(Error::TrailingBytes(2))
    );
}

/// Python `thrift` 0.25: `TFramedTransport(TMemoryBuffer())` under `TBinaryProtocol`, writing
/// `writeMessageBegin("echo", CALL, 7)`, a struct with field 1 binary `b"hello"`, stop, flush.
const PY_STRICT_CALL: &str = "0000001d80010001000000046563686f000000070b00010000000568656c6c6f00";

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn python_vector_decodes_and_reencodes() {
    let wire = hex(PY_STRICT_CALL);
    let Decoded::Done(frame) = decode_frame(&wire, &Limits::default()).unwrap() else {
        panic!("complete");
    };
    let m = Message::load(frame, &Limits::default()).unwrap();
    assert_eq!(m.header, call(7, true));
    let mut out = BytesMut::new();
    encode_framed_binary(&m.header, 1, b"hello", &mut out).unwrap();
    assert_eq!(&out[..], &wire[..]);
}
