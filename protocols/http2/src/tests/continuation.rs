//! CONTINUATION sequencing (section 6.10) and the field-block size cap.

use super::support::{decode_all, raw, run};
use crate::{Decoder, Error, ErrorKind, Frame};

const EXPECTED: Error = Error::Connection(ErrorKind::ExpectedContinuation);
const UNEXPECTED: Error = Error::Connection(ErrorKind::UnexpectedContinuation);
const TOO_LARGE: Error = Error::Connection(ErrorKind::HeaderBlockTooLarge);

fn cat(frames: &[Vec<u8>]) -> Vec<u8> {
    frames.concat()
}

#[test]
fn a_block_in_three_frames_then_other_frames() {
    let b = cat(&[
        raw(0x1, 0x1, 1, b"ab"),
        raw(0x9, 0, 1, b"cd"),
        raw(0x9, 0x4, 1, b"ef"),
        raw(0x0, 0x1, 3, b"x"),
    ]);
    let out = decode_all(&b);
    assert_eq!(out.len(), 4, "{out:?}");
    assert!(out.iter().all(Result::is_ok));
    let block: Vec<u8> = out[..3]
        .iter()
        .flat_map(|f| match f {
            Ok(Frame::Headers(h)) => h.fragment.to_vec(),
            Ok(Frame::Continuation(c)) => c.fragment.to_vec(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(block, b"abcdef");
}

#[test]
fn in_header_block_tracks_the_open_block() {
    let mut dec = Decoder::new();
    run(&mut dec, &[&raw(0x1, 0, 1, b"a")]);
    assert!(dec.in_header_block());
    run(&mut dec, &[&raw(0x9, 0, 1, b"b")]);
    assert!(dec.in_header_block());
    run(&mut dec, &[&raw(0x9, 0x4, 1, b"c")]);
    assert!(!dec.in_header_block());
}

#[test]
fn nothing_else_may_interrupt_a_block() {
    let open = raw(0x1, 0, 1, b"a");
    for other in [
        raw(0x0, 0, 1, b"x"),             // DATA on the same stream
        raw(0x1, 0x4, 3, b"x"),           // HEADERS on another stream
        raw(0x2, 0, 1, &[0, 0, 0, 3, 1]), // PRIORITY
        raw(0x3, 0, 1, &[0, 0, 0, 8]),    // RST_STREAM
        raw(0x4, 0x1, 0, &[]),            // SETTINGS ACK
        raw(0x6, 0, 0, &[0; 8]),          // PING
        raw(0x7, 0, 0, &[0; 8]),          // GOAWAY
        raw(0x8, 0, 1, &[0, 0, 0, 1]),    // WINDOW_UPDATE
        raw(0x9, 0x4, 3, b"x"),           // CONTINUATION on another stream
        raw(0xf0, 0, 1, b"ext"),          // an extension frame (section 5.5)
    ] {
        let out = decode_all(&cat(&[open.clone(), other.clone()]));
        assert_eq!(out.last(), Some(&Err(EXPECTED)), "{other:02x?}");
    }
    // The same holds after a CONTINUATION without END_HEADERS, and after PUSH_PROMISE.
    let b = cat(&[open.clone(), raw(0x9, 0, 1, b"b"), raw(0x6, 0, 0, &[0; 8])]);
    assert_eq!(decode_all(&b).last(), Some(&Err(EXPECTED)));
    let b = cat(&[raw(0x5, 0, 1, &[0, 0, 0, 2, 9]), raw(0x0, 0, 1, b"x")]);
    assert_eq!(decode_all(&b).last(), Some(&Err(EXPECTED)));
    let b = cat(&[raw(0x5, 0, 1, &[0, 0, 0, 2, 9]), raw(0x9, 0x4, 1, b"x")]);
    assert!(decode_all(&b).iter().all(Result::is_ok));
}

#[test]
fn continuation_without_an_open_block() {
    assert_eq!(decode_all(&raw(0x9, 0x4, 1, b"x")), vec![Err(UNEXPECTED)]);
    // After a HEADERS, PUSH_PROMISE or CONTINUATION that ended the block.
    for first in [
        raw(0x1, 0x4, 1, b"a"),
        raw(0x5, 0x4, 1, &[0, 0, 0, 2]),
        cat(&[raw(0x1, 0, 1, b"a"), raw(0x9, 0x4, 1, b"b")]),
    ] {
        let b = cat(&[first, raw(0x9, 0x4, 1, b"c")]);
        assert_eq!(decode_all(&b).last(), Some(&Err(UNEXPECTED)));
    }
    // After DATA.
    let b = cat(&[raw(0x0, 0, 1, b"a"), raw(0x9, 0x4, 1, b"c")]);
    assert_eq!(decode_all(&b).last(), Some(&Err(UNEXPECTED)));
}

#[test]
fn block_cap_counts_every_frame_and_is_checked_on_the_header() {
    let mut dec = Decoder::new();
    dec.set_max_header_block(100);
    assert_eq!(dec.max_header_block(), 100);
    let b = cat(&[raw(0x1, 0, 1, &[0; 60]), raw(0x9, 0x4, 1, &[0; 40])]);
    assert!(run(&mut dec, &[&b]).iter().all(Result::is_ok));

    // 60 + 40 + 1: refused on the third frame's header, its payload never sent.
    let mut dec = Decoder::new();
    dec.set_max_header_block(100);
    let b = cat(&[raw(0x1, 0, 1, &[0; 60]), raw(0x9, 0, 1, &[0; 40])]);
    let third = raw(0x9, 0x4, 1, &[0; 1]);
    let out = run(&mut dec, &[&b, &third[..9]]);
    assert_eq!(out.last(), Some(&Err(TOO_LARGE)));
    assert_eq!(TOO_LARGE.code(), crate::ErrorCode::EnhanceYourCalm);

    // A single HEADERS (END_HEADERS or not) or PUSH_PROMISE over the cap; padding counts.
    for first in [
        raw(0x1, 0x4, 1, &[0; 101]),
        raw(0x1, 0x0, 1, &[0; 101]),
        raw(0x1, 0xc, 1, &[[90].as_slice(), &[0; 100]].concat()),
        raw(0x5, 0x4, 1, &[[0, 0, 0, 2].as_slice(), &[0; 97]].concat()),
    ] {
        let mut dec = Decoder::client();
        dec.set_max_header_block(100);
        let b = cat(&[raw(0x4, 0, 0, &[]), first[..9].to_vec()]);
        assert_eq!(run(&mut dec, &[&b]).last(), Some(&Err(TOO_LARGE)));
    }
    // Exactly at the cap is fine; the cap resets for the next block.
    let mut dec = Decoder::new();
    dec.set_max_header_block(100);
    let b = cat(&[
        raw(0x1, 0x4, 1, &[0; 100]),
        raw(0x1, 0, 3, &[0; 50]),
        raw(0x9, 0x4, 3, &[0; 50]),
    ]);
    assert!(run(&mut dec, &[&b]).iter().all(Result::is_ok));
}
