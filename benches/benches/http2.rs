//! HTTP/2 frame-layer microbenchmarks (divan): what a proxy does per request on a connection
//! that is already open, without HPACK (see `--bench hpack`): decode a HEADERS frame and a DATA
//! frame with END_STREAM from one read, and encode the same two frames.
//!
//! Run with `cargo bench -p hawser-bench --bench http2`.

use bytes::{Bytes, BytesMut};
use divan::{Bencher, black_box};
use hawser_http2::{Data, Decoder, Frame, Headers, encode_headers};

fn main() {
    divan::main();
}

/// A 120-byte header block (the size of a typical compressed gRPC request head) and a 64-byte
/// body on stream 5.
fn frames() -> (Headers, Data) {
    let block = Bytes::from(vec![0x82; 120]);
    let mut headers = Headers::new(5, block, false);
    headers.end_headers = true;
    (headers, Data::new(5, Bytes::from(vec![b'x'; 64]), true))
}

fn wire() -> BytesMut {
    let (headers, data) = frames();
    let mut out = BytesMut::new();
    encode_headers(&headers, 16_384, &mut out);
    data.encode(&mut out);
    out
}

#[divan::bench]
fn http2_decode_headers_and_data(b: Bencher) {
    let bytes = wire();
    b.with_inputs(|| (Decoder::new(), bytes.clone()))
        .bench_local_refs(|(dec, buf)| {
            let mut n = 0;
            while let Ok(Some(f)) = dec.decode(buf) {
                n += match f {
                    Frame::Headers(h) => h.fragment.len(),
                    Frame::Data(d) => d.data.len(),
                    _ => 0,
                };
            }
            black_box(n)
        });
}

#[divan::bench]
fn http2_encode_headers_and_data(b: Bencher) {
    let (headers, data) = frames();
    let mut out = BytesMut::with_capacity(512);
    b.bench_local(|| {
        out.clear();
        encode_headers(black_box(&headers), 16_384, &mut out);
        black_box(&data).encode(&mut out);
        out.len()
    });
}
