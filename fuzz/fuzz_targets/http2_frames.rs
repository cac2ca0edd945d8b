//! HTTP/2 frames: decoding arbitrary bytes never panics; decoding in two pieces (cut where the
//! second input byte says) or in small reads gives exactly the frames and errors decoding the
//! whole gives; and the decoded frames re-encode to bytes that decode to the same frames.
#![no_main]

use bytes::BytesMut;
use hawser_http2::{Decoder, Error, Frame, PREFACE};
use libfuzzer_sys::fuzz_target;

type Outcome = Vec<Result<Frame, Error>>;

/// Frames and stream errors in order, ending at the first connection error.
fn run(mut dec: Decoder, pieces: &[&[u8]]) -> Outcome {
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for piece in pieces {
        buf.extend_from_slice(piece);
        loop {
            match dec.decode(&mut buf) {
                Ok(Some(f)) => out.push(Ok(f)),
                Ok(None) => break,
                Err(e) => {
                    let fatal = e.is_connection_error();
                    out.push(Err(e));
                    if fatal {
                        // Sticky: the same error again, whatever comes next.
                        buf.extend_from_slice(b"more");
                        assert_eq!(dec.decode(&mut buf), Err(e));
                        return out;
                    }
                }
            }
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let [mode, cut, input @ ..] = data else {
        return;
    };
    // Low bits: which decoder, and whether the client preface is prepended so that the fuzzer
    // gets past it; a small field-block cap so the CONTINUATION limit is reached.
    let mut bytes = Vec::new();
    let decoder = || {
        let mut d = match mode & 3 {
            0 => Decoder::new(),
            1 | 3 => Decoder::server(),
            _ => Decoder::client(),
        };
        d.set_max_header_block(64 + usize::from(mode >> 2) * 16);
        d
    };
    if mode & 3 == 1 {
        bytes.extend_from_slice(PREFACE);
    }
    bytes.extend_from_slice(input);

    let whole = run(decoder(), &[&bytes]);
    let at = usize::from(*cut) * bytes.len() / 255;
    assert_eq!(run(decoder(), &[&bytes[..at], &bytes[at..]]), whole);
    let step = usize::from(cut % 13) + 1;
    let small: Vec<&[u8]> = bytes.chunks(step).collect();
    assert_eq!(run(decoder(), &small), whole);

    let frames: Vec<Frame> = whole.into_iter().filter_map(Result::ok).collect();
    let mut wire = BytesMut::new();
    for f in &frames {
        f.encode(&mut wire);
    }
    let mut again = Decoder::new();
    again.set_max_header_block(decoder().max_header_block());
    let back: Vec<Frame> = run(again, &[&wire])
        .into_iter()
        .map(|r| r.expect("re-encoded frames decode"))
        .collect();
    assert_eq!(back, frames);
});
