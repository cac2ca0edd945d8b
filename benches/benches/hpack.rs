//! HPACK microbenchmarks (divan): a typical gRPC request's header block, decoded and encoded,
//! on a fresh connection (cold: literals, Huffman) and as the second request on a connection
//! (warm: the dynamic table holds the repeated fields; only the request id is new).
//!
//! Run with `cargo bench -p hawser-bench --bench hpack`.

use divan::{Bencher, black_box};
use hawser_hpack::{Decoder, Encoder, Field, Header};

fn main() {
    divan::main();
}

fn request(id: &'static str) -> [(&'static str, &'static str); 10] {
    [
        (":method", "POST"),
        (":scheme", "http"),
        (":path", "/helloworld.Greeter/SayHello"),
        (":authority", "greeter.default.svc.cluster.local:50051"),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
        ("grpc-timeout", "999857u"),
        ("grpc-accept-encoding", "identity,deflate,gzip"),
        ("user-agent", "grpc-go/1.60.1"),
        ("x-request-id", id),
    ]
}

const ID1: &str = "7f1c2b9e-7a3d-4f8a-9b6e-0c1d2e3f4a5b";
const ID2: &str = "0b9d6a1e-3c2f-4e5d-8a7b-6c5d4e3f2a1b";

fn encode(enc: &mut Encoder, fields: &[(&str, &str)], out: &mut Vec<u8>) {
    enc.encode(
        fields
            .iter()
            .map(|(n, v)| Header::new(n.as_bytes(), v.as_bytes())),
        out,
    );
}

/// An encoder and a decoder that have seen the first request, and the second request's block.
fn warm() -> (Encoder, Decoder, Vec<u8>) {
    let (mut enc, mut dec) = (Encoder::default(), Decoder::default());
    enc.set_volatile(["x-request-id"]);
    let mut first = Vec::new();
    encode(&mut enc, &request(ID1), &mut first);
    dec.decode_to_vec(&first)
        .expect("the first request decodes");
    let mut second = Vec::new();
    encode(&mut enc.clone(), &request(ID2), &mut second);
    (enc, dec, second)
}

#[divan::bench]
fn hpack_decode_grpc_request_cold(b: Bencher) {
    let mut block = Vec::new();
    encode(&mut Encoder::default(), &request(ID1), &mut block);
    b.with_inputs(Decoder::default).bench_local_refs(|dec| {
        let mut n = 0;
        dec.decode(black_box(&block), |f: Field| n += f.value.len())
            .map(|()| n)
    });
}

#[divan::bench]
fn hpack_decode_grpc_request_warm(b: Bencher) {
    let (_, dec, block) = warm();
    b.with_inputs(|| dec.clone()).bench_local_refs(|dec| {
        let mut n = 0;
        dec.decode(black_box(&block), |f: Field| n += f.value.len())
            .map(|()| n)
    });
}

#[divan::bench]
fn hpack_encode_grpc_request_cold(b: Bencher) {
    let fields = request(ID1);
    let mut out = Vec::with_capacity(512);
    b.with_inputs(Encoder::default).bench_local_refs(|enc| {
        out.clear();
        encode(enc, black_box(&fields), &mut out);
        out.len()
    });
}

#[divan::bench]
fn hpack_encode_grpc_request_warm(b: Bencher) {
    let (enc, _, _) = warm();
    let fields = request(ID2);
    let mut out = Vec::with_capacity(512);
    b.with_inputs(|| enc.clone()).bench_local_refs(|enc| {
        out.clear();
        encode(enc, black_box(&fields), &mut out);
        out.len()
    });
}
