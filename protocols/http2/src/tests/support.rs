//! Shared test builders: a raw frame builder (header bytes written by hand, not by the crate's
//! encoder), a driver that feeds a decoder in given pieces, and a small deterministic PRNG.

use bytes::BytesMut;

use crate::{Decoder, Error, Frame};

/// One frame's bytes: 24-bit length, type, flags, stream id (reserved bit as given), payload.
pub fn raw(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len();
    let mut v = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags];
    v.extend_from_slice(&stream.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

/// What a decoder produced: frames and stream errors in order, ending at the first connection
/// error if any.
pub type Outcome = Vec<Result<Frame, Error>>;

/// Feeds `dec` the pieces in order, calling `decode` until it asks for more after each.
pub fn run(dec: &mut Decoder, pieces: &[&[u8]]) -> Outcome {
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for piece in pieces {
        buf.extend_from_slice(piece);
        loop {
            match dec.decode(&mut buf) {
                Ok(Some(f)) => out.push(Ok(f)),
                Ok(None) => break,
                Err(e) => {
                    out.push(Err(e));
                    if e.is_connection_error() {
                        return out;
                    }
                }
            }
        }
    }
    out
}

/// Decodes `bytes` in one piece with a bare-frame decoder.
pub fn decode_all(bytes: &[u8]) -> Outcome {
    run(&mut Decoder::new(), &[bytes])
}

/// Decodes `bytes`, which must hold exactly one frame and nothing else.
pub fn decode_one(bytes: &[u8]) -> Result<Frame, Error> {
    let mut dec = Decoder::new();
    let mut buf = BytesMut::from(bytes);
    let r = dec.decode(&mut buf);
    if r.is_ok() {
        assert!(buf.is_empty(), "one frame should take all of {bytes:?}");
    }
    r.map(|f| f.expect("a complete frame"))
}

/// Encodes one frame.
pub fn encode(frame: &Frame) -> Vec<u8> {
    let mut out = BytesMut::new();
    frame.encode(&mut out);
    out.to_vec()
}

/// xorshift64*: deterministic, dependency-free.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}
