//! Body decoder behaviour: the chunked example, every split point, trailers, zero copy, and the
//! malformed chunk framings.

use bytes::BytesMut;

use super::support::{Body, chunked, decode_in_pieces, decode_whole, kind, show};
use crate::{BodyDecoder, Decoded, ErrorKind, Framing, HeaderBlock, Limits, Peer};

/// The classic chunked example (RFC 9112 section 7.1 grammar), with an extension and a trailer.
const WIKI: &[u8] =
    b"4\r\nWiki\r\n5;name=\"v\"\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nExpires: never\r\n\r\n";

#[test]
fn chunked_example_whole_and_at_every_split() {
    let want_trailers = HeaderBlock::from_pairs(&[("Expires", b"never")]).unwrap();
    let whole = decode_whole(Framing::Chunked, WIKI).unwrap();
    assert_eq!(show(&whole.data), "Wikipedia in\r\n\r\nchunks.");
    assert_eq!(whole.trailers.as_ref(), Some(&want_trailers));
    assert!(whole.rest.is_empty());
    for cut in 0..=WIKI.len() {
        assert_eq!(
            decode_in_pieces(Framing::Chunked, WIKI, &[cut]).unwrap(),
            whole,
            "cut {cut}"
        );
    }
    let every: Vec<usize> = (1..WIKI.len()).collect();
    assert_eq!(
        decode_in_pieces(Framing::Chunked, WIKI, &every).unwrap(),
        whole
    );
}

#[test]
fn chunked_without_trailers_leaves_the_next_message() {
    let mut input = chunked(&[b"hello", b" ", b"world"], None);
    input.extend_from_slice(b"GET /next HTTP/1.1\r\n");
    let body = decode_whole(Framing::Chunked, &input).unwrap();
    assert_eq!(
        body,
        Body {
            data: b"hello world".to_vec(),
            trailers: None,
            rest: b"GET /next HTTP/1.1\r\n".to_vec(),
        }
    );
}

#[test]
fn length_body_stops_at_its_length() {
    let body = decode_whole(Framing::Length(5), b"helloGET").unwrap();
    assert_eq!(
        (body.data.as_slice(), body.rest.as_slice()),
        (&b"hello"[..], &b"GET"[..])
    );
    assert_eq!(decode_whole(Framing::Length(0), b"x").unwrap().rest, b"x");
    assert_eq!(decode_whole(Framing::Empty, b"x").unwrap().rest, b"x");
}

#[test]
fn data_is_split_off_without_copying() {
    let mut buf = BytesMut::from(&b"abcdefgh"[..]);
    let base = buf.as_ptr();
    let mut dec = BodyDecoder::new(Framing::Length(5), Peer::Downstream, &Limits::default());
    assert_eq!(dec.remaining(), Some(5));
    let Decoded::Data(d) = dec.decode(&mut buf).unwrap() else {
        panic!()
    };
    assert_eq!((&d[..], d.as_ptr()), (&b"abcde"[..], base));
    assert_eq!(dec.decode(&mut buf), Ok(Decoded::Done));
    assert_eq!(&buf[..], b"fgh");
}

#[test]
fn remaining_tracks_partial_reads() {
    let limits = Limits::default();
    let mut dec = BodyDecoder::new(Framing::Length(10), Peer::Downstream, &limits);
    let mut buf = BytesMut::new();
    assert_eq!(dec.decode(&mut buf), Ok(Decoded::NeedMore));
    buf.extend_from_slice(b"1234");
    assert!(matches!(dec.decode(&mut buf), Ok(Decoded::Data(d)) if d.len() == 4));
    assert_eq!(dec.remaining(), Some(6));
    assert_eq!(dec.decode(&mut buf), Ok(Decoded::NeedMore));

    let mut dec = BodyDecoder::new(Framing::Chunked, Peer::Downstream, &limits);
    assert_eq!(dec.remaining(), None);
    let mut buf = BytesMut::from(&b"a\r\n123"[..]);
    assert!(matches!(dec.decode(&mut buf), Ok(Decoded::Data(d)) if &d[..] == b"123"));
    assert_eq!(dec.remaining(), Some(7));
    buf.extend_from_slice(b"4567890\r\n0\r\n\r\n");
    assert!(matches!(dec.decode(&mut buf), Ok(Decoded::Data(d)) if &d[..] == b"4567890"));
    assert_eq!(dec.decode(&mut buf), Ok(Decoded::Done));
    assert!(dec.is_done());
    assert_eq!(dec.remaining(), Some(0));
}

#[test]
fn eof_ends_close_delimited_and_tunnels_but_not_framed_bodies() {
    let limits = Limits::default();
    for framing in [Framing::CloseDelimited, Framing::Tunnel] {
        let body = decode_whole(framing, b"all of it").unwrap();
        assert_eq!(body.data, b"all of it");
    }
    let mut dec = BodyDecoder::new(Framing::Length(3), Peer::Upstream, &limits);
    let mut buf = BytesMut::from(&b"ab"[..]);
    assert!(matches!(dec.decode(&mut buf), Ok(Decoded::Data(_))));
    let e = dec.eof().unwrap_err();
    assert_eq!(
        (e.kind(), e.peer(), e.status()),
        (ErrorKind::UnexpectedEof, Peer::Upstream, 502)
    );
    assert_eq!(
        kind(decode_whole(Framing::Chunked, b"5\r\nab")),
        ErrorKind::UnexpectedEof
    );
    assert_eq!(
        kind(decode_whole(Framing::Chunked, b"0\r\nX: y\r\n")),
        ErrorKind::UnexpectedEof
    );
    let mut done = BodyDecoder::new(Framing::Empty, Peer::Downstream, &limits);
    assert_eq!(done.eof(), Ok(Decoded::Done));
}

#[test]
fn malformed_chunked_bodies() {
    let cases: &[(&[u8], ErrorKind)] = &[
        (b"zz\r\nab\r\n0\r\n\r\n", ErrorKind::InvalidChunkSize),
        (b"-1\r\n", ErrorKind::InvalidChunkSize),
        (b"\r\n", ErrorKind::InvalidChunkSize),
        (b"0x5\r\nhello\r\n0\r\n\r\n", ErrorKind::InvalidChunkSize),
        (b"10000000000000000\r\n", ErrorKind::InvalidChunkSize),
        (
            b"00000000000000001\r\nx\r\n0\r\n\r\n",
            ErrorKind::InvalidChunkSize,
        ),
        (
            b"5 \r\nhello\r\n0\r\n\r\n",
            ErrorKind::InvalidChunkExtension,
        ),
        (
            b"5;\r\nhello\r\n0\r\n\r\n",
            ErrorKind::InvalidChunkExtension,
        ),
        (
            b"5;a=\"x\r\nhello\r\n0\r\n\r\n",
            ErrorKind::InvalidChunkExtension,
        ),
        (b"3\r\nabcX\r\n0\r\n\r\n", ErrorKind::MissingChunkCrlf),
        (b"3\r\nabc\rX", ErrorKind::MissingChunkCrlf),
        (b"3\r\nabc\n0\r\n\r\n", ErrorKind::MissingChunkCrlf),
        (b"3\nabc\r\n0\r\n\r\n", ErrorKind::InvalidLineEnding),
        (b"3\r\nabc\r\n0\n\r\n", ErrorKind::InvalidLineEnding),
        (b"0\r\n\n", ErrorKind::InvalidLineEnding),
        (b"0\r\nX: y\n\r\n", ErrorKind::InvalidLineEnding),
        (b"0\r\n\rX", ErrorKind::InvalidLineEnding),
        (b"0\r\nX : y\r\n\r\n", ErrorKind::InvalidHeaderName),
        (b"0\r\nX: y\r\n z\r\n\r\n", ErrorKind::ObsFold),
        (b"0\r\nX: a\0b\r\n\r\n", ErrorKind::InvalidHeaderValue),
    ];
    for (input, want) in cases {
        let e = decode_whole(Framing::Chunked, input).unwrap_err();
        assert_eq!((e.kind(), e.status()), (*want, 400), "{}", show(input));
    }
}

#[test]
fn huge_chunk_sizes_stream_without_overflow() {
    let mut dec = BodyDecoder::new(Framing::Chunked, Peer::Downstream, &Limits::default());
    let mut buf = BytesMut::from(&b"ffffffffffffffff\r\nabc"[..]);
    assert!(matches!(dec.decode(&mut buf), Ok(Decoded::Data(d)) if &d[..] == b"abc"));
    assert_eq!(dec.remaining(), Some(u64::MAX - 3));
    assert_eq!(dec.decode(&mut buf), Ok(Decoded::NeedMore));
}

#[test]
fn chunk_line_and_trailer_limits() {
    let limits = Limits {
        max_chunk_line: 8,
        max_header_bytes: 16,
        max_headers: 2,
        ..Limits::default()
    };
    let run = |input: &[u8]| {
        let mut dec = BodyDecoder::new(Framing::Chunked, Peer::Downstream, &limits);
        let mut buf = BytesMut::from(input);
        loop {
            match dec.decode(&mut buf)? {
                Decoded::NeedMore | Decoded::Done => return Ok(()),
                _ => {}
            }
        }
    };
    assert_eq!(run(b"1;a=bcde\r\nx\r\n0\r\n\r\n"), Ok(()));
    assert_eq!(
        kind(run(b"1;a=bcdef\r\nx\r\n")),
        ErrorKind::ChunkLineTooLong
    );
    assert_eq!(kind(run(b"1;a=bcdefghij")), ErrorKind::ChunkLineTooLong);
    assert_eq!(run(b"0\r\nA: 1\r\nB: 2\r\n\r\n"), Ok(()));
    assert_eq!(
        kind(run(b"0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n")),
        ErrorKind::TrailersTooLarge
    );
    assert_eq!(
        kind(run(b"0\r\nA: 0123456789abcdef\r\n\r\n")),
        ErrorKind::TrailersTooLarge
    );
    assert_eq!(
        kind(run(b"0\r\nA: 0123456789abcdef")),
        ErrorKind::TrailersTooLarge
    );
}

#[test]
fn trailers_then_done() {
    let mut dec = BodyDecoder::new(Framing::Chunked, Peer::Downstream, &Limits::default());
    let mut buf = BytesMut::from(&b"0\r\nGrpc-Status: 0\r\nGrpc-Message: ok\r\n\r\nNEXT"[..]);
    let Ok(Decoded::Trailers(t)) = dec.decode(&mut buf) else {
        panic!()
    };
    let fields: Vec<(&str, &[u8])> = t.iter().collect();
    assert_eq!(
        fields,
        vec![("Grpc-Status", &b"0"[..]), ("Grpc-Message", b"ok")]
    );
    assert_eq!(dec.decode(&mut buf), Ok(Decoded::Done));
    assert_eq!(&buf[..], b"NEXT");
}
