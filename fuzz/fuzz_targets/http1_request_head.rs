//! Request heads: parsing never panics; a parsed head answers every question without panicking;
//! the copying and zero-copy parsers agree; every prefix of the input answers "need more" or
//! exactly what the whole input answers (so a verdict never depends on how reads split the
//! bytes); and an HTTP/1.1 head re-encoded for the upstream parses back with the same method
//! and target.
#![no_main]

use bytes::BytesMut;
use hawser_http1::{
    EncodeOptions, Limits, Version, encode_request_head, parse_request, take_request,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let small = Limits {
        max_request_line: 64,
        max_header_bytes: 256,
        max_headers: 8,
        max_chunk_line: 16,
    };
    let _ = parse_request(data, &small);

    let limits = Limits::default();
    let parsed = parse_request(data, &limits);
    let mut buf = BytesMut::from(data);
    let taken = take_request(&mut buf, &limits);
    match (&parsed, &taken) {
        (Ok(Some((a, n))), Ok(Some(b))) => {
            assert_eq!(a, b);
            assert_eq!(buf.len(), data.len() - n);
        }
        (Ok(None), Ok(None)) => {}
        (Err(a), Err(b)) => assert_eq!(a, b),
        _ => panic!("parse_request and take_request disagree"),
    }
    for cut in (0..data.len()).step_by(data.len() / 64 + 1) {
        match (
            parse_request(&data[..cut], &small),
            parse_request(data, &small),
        ) {
            (Ok(None), _) => {}
            (Err(a), Err(b)) => assert_eq!(a, b, "prefix of {cut} bytes"),
            (Ok(Some((a, n))), Ok(Some((b, m)))) => assert_eq!((a, n), (b, m)),
            (a, b) => panic!("prefix of {cut} bytes: {a:?} but whole: {b:?}"),
        }
    }
    let Ok(Some((head, n))) = parsed else { return };
    assert_eq!(parse_request(&data[..n - 1], &limits), Ok(None));

    let _ = head.body_framing();
    let _ = head.keep_alive();
    let _ = head.expects_continue();
    let _ = head.upgrade();
    let _ = head.connection_tokens().count();
    let _ = head.header("host");

    let mut out = BytesMut::new();
    encode_request_head(&head, &EncodeOptions::default(), &mut out);
    if head.version() == Version::Http11 {
        let (back, m) = parse_request(&out, &limits)
            .expect("re-encoded head parses")
            .expect("complete");
        assert_eq!(m, out.len());
        assert_eq!(
            (back.method(), back.target()),
            (head.method(), head.target())
        );
    }
});
