//! Shared test builders: parse helpers that assert completeness, a chunked-body builder, a
//! driver that feeds a decoder in arbitrary pieces, and a small deterministic PRNG for
//! property-style tests (no external dependencies).

use bytes::{Bytes, BytesMut};

use crate::{
    BodyDecoder, Decoded, Error, ErrorKind, Framing, HeaderBlock, Limits, Peer, RequestHead,
    ResponseHead, parse_request, parse_response,
};

/// Parses a complete request head that must occupy exactly `raw`.
pub fn req(raw: &[u8]) -> RequestHead {
    match parse_request(raw, &Limits::default()) {
        Ok(Some((head, n))) => {
            assert_eq!(n, raw.len(), "head should take all of {:?}", show(raw));
            head
        }
        other => panic!("expected a head from {:?}, got {other:?}", show(raw)),
    }
}

/// The error a request head produces (complete or not).
pub fn req_err(raw: &[u8]) -> Error {
    req_err_with(raw, &Limits::default())
}

pub fn req_err_with(raw: &[u8], limits: &Limits) -> Error {
    match parse_request(raw, limits) {
        Err(e) => e,
        other => panic!("expected an error from {:?}, got {other:?}", show(raw)),
    }
}

/// Parses a complete response head that must occupy exactly `raw`.
pub fn res(raw: &[u8]) -> ResponseHead {
    match parse_response(raw, &Limits::default()) {
        Ok(Some((head, n))) => {
            assert_eq!(n, raw.len(), "head should take all of {:?}", show(raw));
            head
        }
        other => panic!("expected a head from {:?}, got {other:?}", show(raw)),
    }
}

pub fn res_err(raw: &[u8]) -> Error {
    match parse_response(raw, &Limits::default()) {
        Err(e) => e,
        other => panic!("expected an error from {:?}, got {other:?}", show(raw)),
    }
}

pub fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A chunked body with these chunks, each encoded with the crate's chunk encoder, then the
/// last chunk with `trailers`.
pub fn chunked(chunks: &[&[u8]], trailers: Option<&HeaderBlock>) -> Vec<u8> {
    let mut out = BytesMut::new();
    for c in chunks {
        crate::encode_chunk_header(c.len() as u64, &mut out);
        out.extend_from_slice(c);
        crate::encode_chunk_end(&mut out);
    }
    crate::encode_last_chunk(trailers, &mut out);
    out.to_vec()
}

/// What a decoder produced over a whole input.
#[derive(Debug, PartialEq, Eq)]
pub struct Body {
    pub data: Vec<u8>,
    pub trailers: Option<HeaderBlock>,
    /// Bytes left in the buffer after `Done` (the next message).
    pub rest: Vec<u8>,
}

/// Feeds `input` to a decoder in pieces cut at `cuts` (ascending offsets), decoding after each
/// piece until `NeedMore`; then signals EOF if not done.
pub fn decode_in_pieces(framing: Framing, input: &[u8], cuts: &[usize]) -> Result<Body, Error> {
    let limits = Limits::default();
    let mut dec = BodyDecoder::new(framing, Peer::Downstream, &limits);
    let mut buf = BytesMut::new();
    let mut data = Vec::new();
    let mut trailers = None;
    let mut at = 0;
    let ends = cuts.iter().copied().chain(std::iter::once(input.len()));
    let mut done = false;
    for end in ends {
        buf.extend_from_slice(&input[at..end]);
        at = end;
        loop {
            match dec.decode(&mut buf)? {
                Decoded::Data(d) => {
                    assert!(!d.is_empty(), "Data is never empty");
                    data.extend_from_slice(&d);
                }
                Decoded::NeedMore => break,
                Decoded::Trailers(t) => trailers = Some(t),
                Decoded::Done => {
                    done = true;
                    break;
                }
            }
        }
        if done {
            break;
        }
    }
    if !done {
        assert_eq!(dec.eof()?, Decoded::Done);
    }
    buf.extend_from_slice(&input[at..]);
    Ok(Body {
        data,
        trailers,
        rest: buf.to_vec(),
    })
}

/// Decodes all of `input` delivered at once.
pub fn decode_whole(framing: Framing, input: &[u8]) -> Result<Body, Error> {
    decode_in_pieces(framing, input, &[])
}

pub fn kind(r: Result<impl std::fmt::Debug, Error>) -> ErrorKind {
    match r {
        Err(e) => e.kind(),
        Ok(v) => panic!("expected an error, got {v:?}"),
    }
}

/// xorshift64*: deterministic, good enough to pick sizes and bytes.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub fn bytes(&mut self, len: usize) -> Bytes {
        (0..len).map(|_| self.next() as u8).collect()
    }

    /// A token of 1..=max characters.
    pub fn token(&mut self, max: usize) -> String {
        const T: &[u8] =
            b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~";
        let len = 1 + self.below(max);
        (0..len).map(|_| *self.pick(T) as char).collect()
    }

    /// A field value: visible ASCII, inner spaces and tabs, obs-text, no leading/trailing
    /// whitespace (which the parser trims).
    pub fn value(&mut self, max: usize) -> Vec<u8> {
        let len = self.below(max + 1);
        let mut v: Vec<u8> = (0..len)
            .map(|_| match self.below(10) {
                0 => b' ',
                1 => b'\t',
                2 => 0x80 + self.below(0x80) as u8,
                _ => b'!' + self.below(94) as u8,
            })
            .collect();
        while v.last().is_some_and(|b| *b == b' ' || *b == b'\t') {
            v.pop();
        }
        while v.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
            v.remove(0);
        }
        v
    }
}
