//! Encoding: field blocks split into HEADERS / PUSH_PROMISE + CONTINUATION at the peer's
//! SETTINGS_MAX_FRAME_SIZE, and `decode(encode(frame)) == frame` for random frames of every
//! type.

use bytes::{Bytes, BytesMut};

use super::support::{Rng, decode_all, encode};
use crate::{
    Continuation, Data, Decoder, ErrorCode, Frame, GoAway, Headers, Ping, Priority, PrioritySpec,
    PushPromise, RstStream, Settings, WindowUpdate, encode_headers, encode_push_promise,
};

fn block(n: usize) -> Bytes {
    (0..n).map(|i| (i % 251) as u8).collect::<Vec<_>>().into()
}

/// The frames `bytes` decodes to (all must decode) and the field block they carry.
fn reassemble(bytes: &[u8]) -> (Vec<Frame>, Vec<u8>) {
    let mut dec = Decoder::client();
    dec.set_max_header_block(1 << 20);
    dec.set_max_frame_size(crate::MAX_MAX_FRAME_SIZE);
    let mut input = Vec::new();
    let mut s = BytesMut::new();
    Settings::default().encode(&mut s);
    input.extend_from_slice(&s);
    input.extend_from_slice(bytes);
    let frames: Vec<Frame> = super::support::run(&mut dec, &[&input])
        .into_iter()
        .skip(1)
        .map(|r| r.expect("decodes"))
        .collect();
    let mut out = Vec::new();
    for f in &frames {
        match f {
            Frame::Headers(h) => out.extend_from_slice(&h.fragment),
            Frame::PushPromise(p) => out.extend_from_slice(&p.fragment),
            Frame::Continuation(c) => out.extend_from_slice(&c.fragment),
            _ => panic!("unexpected {f:?}"),
        }
    }
    (frames, out)
}

#[test]
fn a_large_block_becomes_headers_and_continuations() {
    let head = Headers {
        priority: Some(PrioritySpec {
            exclusive: false,
            dependency: 0,
            weight: 200,
        }),
        padding: Some(10),
        ..Headers::new(1, block(40_000), true)
    };
    let mut out = BytesMut::new();
    encode_headers(&head, 16_384, &mut out);
    let (frames, got) = reassemble(&out);
    assert_eq!(got, &head.fragment[..]);
    assert_eq!(frames.len(), 3);
    let Frame::Headers(h) = &frames[0] else {
        panic!()
    };
    // The first frame is exactly full: Pad Length, priority, fragment and padding.
    assert_eq!(1 + 5 + h.fragment.len() + 10, 16_384);
    assert!(h.end_stream && !h.end_headers && h.priority == head.priority);
    let ends: Vec<bool> = frames[1..]
        .iter()
        .map(|f| match f {
            Frame::Continuation(c) => c.end_headers,
            _ => panic!(),
        })
        .collect();
    assert_eq!(ends, [false, true]);
    // Every frame stays within the limit.
    let mut at = 0;
    while at < out.len() {
        let len = u32::from_be_bytes([0, out[at], out[at + 1], out[at + 2]]) as usize;
        assert!(len <= 16_384);
        at += 9 + len;
    }
}

#[test]
fn blocks_that_fit_are_one_frame() {
    for n in [0, 1, 16_384] {
        let mut out = BytesMut::new();
        encode_headers(&Headers::new(3, block(n), false), 16_384, &mut out);
        let (frames, got) = reassemble(&out);
        assert_eq!(
            frames,
            vec![Frame::Headers(Headers::new(3, block(n), false))]
        );
        assert_eq!(got.len(), n);
    }
    // One byte more than fits: a CONTINUATION of one byte.
    let mut out = BytesMut::new();
    encode_headers(&Headers::new(3, block(16_385), false), 16_384, &mut out);
    let (frames, _) = reassemble(&out);
    assert_eq!(
        frames[1],
        Frame::Continuation(Continuation {
            stream_id: 3,
            fragment: block(16_385).slice(16_384..),
            end_headers: true,
        })
    );
}

#[test]
fn push_promise_blocks_split_too() {
    let p = PushPromise {
        stream_id: 1,
        promised_id: 2,
        fragment: block(50_000),
        end_headers: false,
        padding: None,
    };
    let mut out = BytesMut::new();
    encode_push_promise(&p, 20_000, &mut out);
    let (frames, got) = reassemble(&out);
    assert_eq!(got, &p.fragment[..]);
    assert_eq!(frames.len(), 3);
    let Frame::PushPromise(first) = &frames[0] else {
        panic!()
    };
    assert_eq!(first.fragment.len(), 20_000 - 4);
    assert_eq!(first.promised_id, 2);
}

#[test]
#[should_panic(expected = "max_frame_size")]
fn splitting_below_the_minimum_frame_size_panics() {
    encode_headers(&Headers::new(1, block(10), true), 100, &mut BytesMut::new());
}

fn random_frame(rng: &mut Rng) -> Frame {
    let id = |rng: &mut Rng| (rng.next() as u32 & 0x7fff_ffff).max(1);
    let pad = |rng: &mut Rng| (rng.below(2) == 0).then(|| rng.below(256) as u8);
    let bytes = |rng: &mut Rng| block(rng.below(300));
    let opt = |rng: &mut Rng| (rng.below(2) == 0).then(|| rng.next() as u32);
    match rng.below(10) {
        0 => Frame::Data(Data {
            stream_id: id(rng),
            data: bytes(rng),
            end_stream: rng.below(2) == 0,
            padding: pad(rng),
        }),
        1 => Frame::Headers(Headers {
            stream_id: id(rng),
            fragment: bytes(rng),
            end_stream: rng.below(2) == 0,
            end_headers: true,
            priority: (rng.below(2) == 0).then(|| PrioritySpec {
                exclusive: rng.below(2) == 0,
                dependency: rng.next() as u32 & 0x7fff_fffe,
                weight: rng.below(256) as u8,
            }),
            padding: pad(rng),
        }),
        2 => {
            let stream_id = id(rng);
            Frame::Priority(Priority {
                stream_id,
                spec: PrioritySpec {
                    exclusive: rng.below(2) == 0,
                    dependency: stream_id ^ 1,
                    weight: rng.below(256) as u8,
                },
            })
        }
        3 => Frame::RstStream(RstStream::new(
            id(rng),
            ErrorCode::from_u32(rng.next() as u32),
        )),
        4 => Frame::Settings(Settings {
            ack: false,
            header_table_size: opt(rng),
            enable_push: (rng.below(2) == 0).then(|| rng.below(2) == 0),
            max_concurrent_streams: opt(rng),
            initial_window_size: opt(rng).map(|v| v & 0x7fff_ffff),
            max_frame_size: opt(rng).map(|v| 16_384 + v % (16_777_215 - 16_384)),
            max_header_list_size: opt(rng),
        }),
        5 => Frame::PushPromise(PushPromise {
            stream_id: id(rng),
            promised_id: (id(rng) & !1).max(2),
            fragment: bytes(rng),
            end_headers: true,
            padding: pad(rng),
        }),
        6 => Frame::Ping(Ping {
            ack: rng.below(2) == 0,
            payload: rng.next().to_be_bytes(),
        }),
        7 => Frame::GoAway(GoAway {
            last_stream_id: rng.next() as u32 & 0x7fff_ffff,
            code: ErrorCode::from_u32(rng.next() as u32),
            debug_data: bytes(rng),
        }),
        8 => Frame::WindowUpdate(WindowUpdate::new(rng.next() as u32 & 0x7fff_ffff, id(rng))),
        _ => Frame::Settings(Settings::ack()),
    }
}

#[test]
fn decode_of_encode_is_identity_for_random_frames() {
    let mut rng = Rng::new(42);
    let frames: Vec<Frame> = (0..2000).map(|_| random_frame(&mut rng)).collect();
    let mut wire = BytesMut::new();
    for f in &frames {
        let one = encode(f);
        assert_eq!(decode_all(&one), vec![Ok(f.clone())], "{f:?}");
        wire.extend_from_slice(&one);
    }
    let all: Vec<Frame> = decode_all(&wire).into_iter().map(|r| r.unwrap()).collect();
    assert_eq!(all, frames);
}
