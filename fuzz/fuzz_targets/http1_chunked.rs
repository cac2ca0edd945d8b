//! Chunked bodies: decoding never panics; decoding in pieces (cut where the first bytes say)
//! gives exactly what decoding the whole buffer gives, error kind included; and a decoded body
//! re-encoded as chunks decodes back to the same data and trailers.
#![no_main]

use bytes::BytesMut;
use hawser_http1::{
    BodyDecoder, Decoded, ErrorKind, Framing, HeaderBlock, Limits, Peer, encode_chunk_end,
    encode_chunk_header, encode_last_chunk,
};
use libfuzzer_sys::fuzz_target;

type Outcome = Result<(Vec<u8>, Option<HeaderBlock>, Vec<u8>), ErrorKind>;

fn decode(input: &[u8], step: usize, limits: &Limits) -> Outcome {
    let mut dec = BodyDecoder::new(Framing::Chunked, Peer::Downstream, limits);
    let (mut buf, mut data, mut trailers, mut at) = (BytesMut::new(), Vec::new(), None, 0);
    loop {
        let end = (at + step).min(input.len());
        buf.extend_from_slice(&input[at..end]);
        at = end;
        loop {
            match dec.decode(&mut buf).map_err(|e| e.kind())? {
                Decoded::Data(d) => {
                    assert!(!d.is_empty());
                    data.extend_from_slice(&d);
                }
                Decoded::Trailers(t) => trailers = Some(t),
                Decoded::NeedMore => break,
                Decoded::Done => {
                    buf.extend_from_slice(&input[at..]);
                    return Ok((data, trailers, buf.to_vec()));
                }
            }
        }
        if at == input.len() {
            dec.eof().map_err(|e| e.kind())?;
            return Ok((data, trailers, Vec::new()));
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&step, input)) = data.split_first() else {
        return;
    };
    let limits = Limits {
        max_chunk_line: 64,
        max_header_bytes: 512,
        max_headers: 8,
        ..Limits::default()
    };
    let whole = decode(input, input.len().max(1), &limits);
    let pieces = decode(input, usize::from(step % 16) + 1, &limits);
    assert_eq!(whole, pieces);

    let Ok((body, trailers, _)) = whole else {
        return;
    };
    let mut wire = BytesMut::new();
    if !body.is_empty() {
        encode_chunk_header(body.len() as u64, &mut wire);
        wire.extend_from_slice(&body);
        encode_chunk_end(&mut wire);
    }
    encode_last_chunk(trailers.as_ref(), &mut wire);
    let (again, back, rest) =
        decode(&wire, wire.len(), &Limits::default()).expect("re-encoded body decodes");
    assert_eq!(again, body);
    assert!(rest.is_empty());
    // Framing and hop-by-hop trailer fields are dropped on the way through; the rest survive.
    let kept = |t: &HeaderBlock| {
        t.iter()
            .filter(|(n, _)| {
                !hawser_http1::is_hop_by_hop(n.as_bytes())
                    && !n.eq_ignore_ascii_case("content-length")
                    && !n.eq_ignore_ascii_case("host")
            })
            .map(|(n, v)| (n.to_string(), v.to_vec()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        back.as_ref().map(kept).unwrap_or_default(),
        trailers.as_ref().map(kept).unwrap_or_default()
    );
});
