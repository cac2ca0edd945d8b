//! Property-style round trips with a deterministic PRNG: random heads survive encode then
//! parse, and random chunked bodies survive encode then decode at random split points.

use bytes::BytesMut;

use super::support::{Rng, chunked, decode_in_pieces};
use crate::{
    BodyHeader, EncodeOptions, Framing, HeaderBlock, Limits, RequestHead, ResponseHead, Version,
    encode_request_head, encode_response_head, parse_request, parse_response,
};

fn random_fields(rng: &mut Rng, with_host: bool) -> Vec<(String, Vec<u8>)> {
    let mut fields: Vec<(String, Vec<u8>)> = (0..rng.below(12))
        .map(|_| (format!("X-{}", rng.token(12)), rng.value(40)))
        .collect();
    if with_host {
        let at = rng.below(fields.len() + 1);
        fields.insert(at, ("Host".to_string(), rng.token(20).into_bytes()));
    }
    fields
}

fn as_pairs(fields: &[(String, Vec<u8>)]) -> Vec<(&str, &[u8])> {
    fields
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_slice()))
        .collect()
}

#[test]
fn request_heads_round_trip() {
    let mut rng = Rng::new(0x5eed);
    let methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "X-CUSTOM"];
    for _ in 0..500 {
        let fields = random_fields(&mut rng, true);
        let pairs = as_pairs(&fields);
        let target =
            format!("/{}?{}={}", rng.token(10), rng.token(5), rng.token(5)).replace('#', "%23");
        let method = *rng.pick(&methods);
        let head = RequestHead::from_parts(method, &target, Version::Http11, &pairs).unwrap();
        let mut out = BytesMut::new();
        encode_request_head(&head, &EncodeOptions::default(), &mut out);
        let (back, n) = parse_request(&out, &Limits::default()).unwrap().unwrap();
        assert_eq!(n, out.len());
        assert_eq!(back, head);
        // Zero-copy parse of the same bytes agrees with the copying one.
        let mut buf = out.clone();
        assert_eq!(
            crate::take_request(&mut buf, &Limits::default())
                .unwrap()
                .unwrap(),
            head
        );
    }
}

#[test]
fn response_heads_round_trip() {
    let mut rng = Rng::new(7);
    for _ in 0..500 {
        let fields = random_fields(&mut rng, false);
        let pairs = as_pairs(&fields);
        let status = 100 + rng.below(900) as u16;
        let reason =
            String::from_utf8(rng.value(20).into_iter().filter(u8::is_ascii).collect()).unwrap();
        let head =
            ResponseHead::from_parts(Version::Http11, status, reason.trim(), &pairs).unwrap();
        let mut out = BytesMut::new();
        encode_response_head(&head, &EncodeOptions::default(), &mut out);
        let (back, n) = parse_response(&out, &Limits::default()).unwrap().unwrap();
        assert_eq!(n, out.len());
        assert_eq!(back, head);
    }
}

#[test]
fn chunked_bodies_round_trip_at_random_splits() {
    let mut rng = Rng::new(42);
    for _ in 0..300 {
        let chunks: Vec<_> = (0..rng.below(6))
            .map(|_| {
                let len = 1 + rng.below(300);
                rng.bytes(len)
            })
            .collect();
        let refs: Vec<&[u8]> = chunks.iter().map(|c| c.as_ref()).collect();
        let trailer_fields = random_fields(&mut rng, false);
        let trailers = (!trailer_fields.is_empty())
            .then(|| HeaderBlock::from_pairs(&as_pairs(&trailer_fields)).unwrap());
        let wire = chunked(&refs, trailers.as_ref());
        let mut cuts: Vec<usize> = (0..rng.below(8))
            .map(|_| rng.below(wire.len() + 1))
            .collect();
        cuts.sort_unstable();
        let body = decode_in_pieces(Framing::Chunked, &wire, &cuts).unwrap();
        assert_eq!(body.data, refs.concat());
        assert_eq!(body.trailers, trailers);
        assert!(body.rest.is_empty());
    }
}

#[test]
fn small_chunked_body_at_every_pair_of_splits() {
    let trailers = HeaderBlock::from_pairs(&[("T", b"1")]).unwrap();
    let wire = chunked(&[b"ab", b"c", &[0u8; 17]], Some(&trailers));
    for i in 0..=wire.len() {
        for j in i..=wire.len() {
            let body = decode_in_pieces(Framing::Chunked, &wire, &[i, j]).unwrap();
            assert_eq!(body.data.len(), 20);
            assert_eq!(body.trailers.as_ref(), Some(&trailers));
        }
    }
}

#[test]
fn length_framed_forwarding_declares_the_parsed_length() {
    let head = RequestHead::from_parts(
        "POST",
        "/",
        Version::Http11,
        &[("Host", b"a"), ("Content-Length", b"5, 5")],
    )
    .unwrap();
    let Ok(Framing::Length(n)) = head.body_framing() else {
        panic!()
    };
    let mut out = BytesMut::new();
    let opts = EncodeOptions {
        body: BodyHeader::Length(n),
        ..EncodeOptions::default()
    };
    encode_request_head(&head, &opts, &mut out);
    let (back, _) = parse_request(&out, &Limits::default()).unwrap().unwrap();
    assert_eq!(
        back.header_all("content-length").collect::<Vec<_>>(),
        vec![&b"5"[..]]
    );
    assert_eq!(back.body_framing(), Ok(Framing::Length(5)));
}
