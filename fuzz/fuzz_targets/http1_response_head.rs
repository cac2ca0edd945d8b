//! Response heads: parsing never panics; framing and connection questions never panic; every
//! prefix answers "need more" or what the whole input answers; and a re-encoded head parses
//! back the same.
#![no_main]

use bytes::BytesMut;
use hawser_http1::{EncodeOptions, Limits, encode_response_head, parse_response, response_framing};
use libfuzzer_sys::fuzz_target;

const METHODS: [&str; 4] = ["GET", "HEAD", "CONNECT", "POST"];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, data)) = data.split_first() else {
        return;
    };
    let limits = Limits::default();
    let small = Limits {
        max_request_line: 48,
        max_header_bytes: 200,
        max_headers: 6,
        max_chunk_line: 16,
    };
    let whole = parse_response(data, &small);
    for cut in (0..data.len()).step_by(data.len() / 64 + 1) {
        match parse_response(&data[..cut], &small) {
            Ok(None) => {}
            Err(e) => assert_eq!(Err(e), whole.clone().map(|_| ()), "prefix of {cut} bytes"),
            Ok(Some(prefix)) => assert_eq!(Ok(Some(prefix)), whole),
        }
    }
    let Ok(Some((head, n))) = parse_response(data, &limits) else {
        return;
    };
    assert_eq!(parse_response(&data[..n - 1], &limits), Ok(None));

    let _ = response_framing(METHODS[usize::from(selector) % METHODS.len()], &head);
    let _ = head.keep_alive();
    let _ = head.upgrade();
    let _ = head.is_interim();
    let _ = head.reason();

    let mut out = BytesMut::new();
    encode_response_head(&head, &EncodeOptions::default(), &mut out);
    let (back, m) = parse_response(&out, &limits)
        .expect("re-encoded head parses")
        .expect("complete");
    assert_eq!(m, out.len());
    assert_eq!(
        (back.status(), back.reason_bytes()),
        (head.status(), head.reason_bytes())
    );
});
