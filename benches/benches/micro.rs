//! Microbenchmarks of hawser's hot pieces (divan): HTTP/1.1 head parse and encode, chunked body
//! decode, dtab binding with a bind-cache hit and miss, and the p2c balancer pick.
//!
//! Run with `cargo bench -p hawser-bench --bench micro`. HPACK encode/decode and Thrift header
//! parsing have their own targets: `--bench hpack` and `--bench thrift`.

use std::net::SocketAddr;

use bytes::{BufMut, BytesMut};
use divan::{Bencher, black_box};
use hawser::client::{Endpoint, EndpointSet};
use hawser::routing::{BindCache, Dtab, NoNamers, Path, Resolution, resolve};
use hawser_http1::{
    BodyDecoder, BodyHeader, Decoded, EncodeOptions, Framing, Limits, Peer, encode_request_head,
    take_request,
};

fn main() {
    divan::main();
}

const REQUEST: &[u8] = b"GET /users/42/profile?fields=name,email HTTP/1.1\r\n\
Host: users\r\nUser-Agent: bench/1.0\r\nAccept: application/json\r\n\
Accept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n\
l5d-ctx-trace: AAAAAAAAAAEAAAAAAAAAAgAAAAAAAAADAAAAAAAAAAA=\r\n\
X-Request-Id: 7f1c2b9e-7a3d-4f8a-9b6e-0c1d2e3f4a5b\r\n\r\n";

#[divan::bench]
fn http1_head_parse(b: Bencher) {
    let limits = Limits::default();
    b.with_inputs(|| BytesMut::from(REQUEST))
        .bench_local_refs(|buf| take_request(buf, &limits).ok().flatten());
}

#[divan::bench]
fn http1_head_encode(b: Bencher) {
    let mut buf = BytesMut::from(REQUEST);
    let head = take_request(&mut buf, &Limits::default())
        .ok()
        .flatten()
        .expect("the sample request parses");
    let extra: [(&str, &[u8]); 1] = [("l5d-dst-service", b"/svc/users")];
    let opts = EncodeOptions {
        body: BodyHeader::None,
        extra_headers: &extra,
        ..EncodeOptions::default()
    };
    let mut out = BytesMut::with_capacity(1024);
    b.bench_local(|| {
        out.clear();
        encode_request_head(black_box(&head), &opts, &mut out);
        out.len()
    });
}

fn chunked_body(chunks: usize, size: usize) -> BytesMut {
    let mut body = BytesMut::new();
    for _ in 0..chunks {
        body.put_slice(format!("{size:x}\r\n").as_bytes());
        body.put_bytes(b'a', size);
        body.put_slice(b"\r\n");
    }
    body.put_slice(b"0\r\n\r\n");
    body
}

#[divan::bench(args = [(16, 1024), (256, 64)])]
fn http1_chunked_decode(b: Bencher, (chunks, size): (usize, usize)) {
    let limits = Limits::default();
    let body = chunked_body(chunks, size);
    b.with_inputs(|| body.clone()).bench_local_refs(|buf| {
        let mut d = BodyDecoder::new(Framing::Chunked, Peer::Upstream, &limits);
        let mut n = 0;
        while let Ok(Decoded::Data(data)) = d.decode(buf) {
            n += data.len();
        }
        n
    });
}

const DTAB: &str = "/svc => /$/inet/127.0.0.1/9990; \
/srv => /$/inet/10.0.0.1/8080 | /$/inet/10.0.0.2/8080; \
/svc/users => 0.9 * /srv/users & 0.1 * /srv/users-canary; \
/svc/web => /srv/web;";

#[divan::bench]
fn dtab_bind_cache_hit(b: Bencher) {
    let dtab = Dtab::read(DTAB).expect("valid dtab");
    let path = Path::read("/svc/users").expect("valid path");
    let mut cache: BindCache<Resolution> = BindCache::new(1024);
    cache.get_or_insert_with(1, DTAB, &path, || resolve(&dtab, &path, &NoNamers));
    b.bench_local(|| {
        let r = cache.get_or_insert_with(1, DTAB, black_box(&path), || {
            resolve(&dtab, &path, &NoNamers)
        });
        black_box(r);
    });
}

#[divan::bench]
fn dtab_bind_cache_miss(b: Bencher) {
    let dtab = Dtab::read(DTAB).expect("valid dtab");
    let path = Path::read("/svc/users").expect("valid path");
    let mut cache: BindCache<Resolution> = BindCache::new(1024);
    let mut generation = 0u64;
    b.bench_local(|| {
        // A new generation empties the cache: every lookup binds through the dtab.
        generation += 1;
        let r = cache.get_or_insert_with(generation, DTAB, black_box(&path), || {
            resolve(&dtab, &path, &NoNamers)
        });
        black_box(r);
    });
}

#[divan::bench(args = [1, 8, 64])]
fn balancer_pick(b: Bencher, n: u16) {
    let set = EndpointSet::new(
        (0..n)
            .map(|i| Endpoint::new(SocketAddr::from(([10, 0, 0, 1], 8000 + i))))
            .collect(),
    );
    b.bench_local(|| {
        let picked = set.pick();
        black_box(&picked);
        drop(picked);
    });
}
