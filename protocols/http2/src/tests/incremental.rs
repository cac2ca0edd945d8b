//! Incremental decoding: the same bytes split anywhere give the same frames and errors.

use super::support::{Rng, raw, run};
use crate::{Decoder, PREFACE};

/// A client's side of a connection: the preface, every frame type (padded and not), an unknown
/// frame, a field block across CONTINUATIONs, and two stream errors along the way.
fn conversation() -> Vec<u8> {
    [
        PREFACE.to_vec(),
        raw(0x4, 0, 0, &[0, 4, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0]),
        raw(0x4, 0x1, 0, &[]),
        raw(0x8, 0, 0, &[0, 0xf, 0, 1]),
        raw(0x1, 0x20, 1, &[0, 0, 0, 0, 15, 0x82, 0x86]),
        raw(0x9, 0, 1, &[0x84]),
        raw(0x9, 0x4, 1, &[0x41, 0x01, b'a']),
        raw(0x0, 0x8, 1, &[3, b'b', b'o', b'd', b'y', 0, 0, 0]),
        raw(0xcc, 0x3, 1, b"extension"),
        raw(0x0, 0x1, 1, b"!"),
        raw(0x2, 0, 3, &[0, 0, 0, 1, 200]),
        raw(0x2, 0, 5, &[0, 0, 0, 1]), // stream error: length 4
        raw(0x1, 0x2d, 5, &[2, 0x80, 0, 0, 3, 1, 0x82, 0, 0]),
        raw(0x8, 0, 5, &[0, 0, 0, 0]), // stream error: increment 0
        raw(0x3, 0, 5, &[0, 0, 0, 8]),
        raw(0x6, 0, 0, b"pingpong"),
        raw(0x6, 0x1, 0, b"pingpong"),
        raw(0x7, 0, 0, &[0, 0, 0, 5, 0, 0, 0, 0, b'b', b'y', b'e']),
        raw(0x0, 0, 0, b"x"), // connection error: DATA on stream 0
        raw(0x6, 0, 0, b"unseen.."),
    ]
    .concat()
}

#[test]
fn every_split_point_gives_the_same_outcome() {
    let b = conversation();
    let whole = run(&mut Decoder::server(), &[&b]);
    assert_eq!(whole.iter().filter(|r| r.is_ok()).count(), 14, "{whole:?}");
    assert_eq!(whole.iter().filter(|r| r.is_err()).count(), 3);
    assert!(
        whole
            .last()
            .unwrap()
            .as_ref()
            .unwrap_err()
            .is_connection_error()
    );
    for i in 0..=b.len() {
        let split = run(&mut Decoder::server(), &[&b[..i], &b[i..]]);
        assert_eq!(split, whole, "split at {i}");
    }
    let bytes: Vec<&[u8]> = b.chunks(1).collect();
    assert_eq!(run(&mut Decoder::server(), &bytes), whole, "byte by byte");
}

#[test]
fn random_splits_give_the_same_outcome() {
    let b = conversation();
    let whole = run(&mut Decoder::server(), &[&b]);
    let mut rng = Rng::new(0x5eed);
    for _ in 0..500 {
        let mut cuts: Vec<usize> = (0..rng.below(8)).map(|_| rng.below(b.len() + 1)).collect();
        cuts.sort_unstable();
        let mut pieces = Vec::new();
        let mut at = 0;
        for c in cuts {
            pieces.push(&b[at..c]);
            at = c;
        }
        pieces.push(&b[at..]);
        assert_eq!(run(&mut Decoder::server(), &pieces), whole, "{pieces:?}");
    }
}

#[test]
fn payloads_are_split_off_the_buffer_without_copying() {
    let b = raw(0x0, 0, 1, &[7; 1000]);
    let mut buf = bytes::BytesMut::from(&b[..]);
    let start = buf.as_ptr() as usize;
    let Ok(Some(crate::Frame::Data(d))) = Decoder::new().decode(&mut buf) else {
        panic!("expected DATA");
    };
    assert_eq!(
        d.data.as_ptr() as usize,
        start + 9,
        "the data points into the read buffer"
    );
}
