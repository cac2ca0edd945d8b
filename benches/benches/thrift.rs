//! Microbenchmarks of the Thrift codec (divan): cutting a frame and reading its message header,
//! and the whole check a reply gets in the generator (frame, header, struct skip, success field).
//!
//! Run with `cargo bench -p hawser-bench --bench thrift`.

use bytes::BytesMut;
use divan::{Bencher, black_box};
use hawser_thrift::{
    Decoded, Limits, Message, MessageHeader, MessageType, decode_frame, encode_framed_binary,
    find_binary_field,
};

fn main() {
    divan::main();
}

fn framed(kind: MessageType, field: i16, payload: usize) -> BytesMut {
    let mut out = BytesMut::new();
    let header = MessageHeader {
        name: b"getUserProfile",
        kind,
        seqid: 12_345,
        strict: true,
    };
    encode_framed_binary(&header, field, &vec![b'x'; payload], &mut out).expect("fits");
    out
}

/// Frame length check plus the strict message header: what a router reads to route a call.
#[divan::bench]
fn thrift_header_decode(b: Bencher) {
    let wire = framed(MessageType::Call, 1, 64);
    let limits = Limits::default();
    b.bench_local(|| {
        let Ok(Decoded::Done(frame)) = decode_frame(black_box(&wire), &limits) else {
            unreachable!("a complete frame");
        };
        MessageHeader::load(frame, &limits).map(|(h, _)| h.seqid)
    });
}

/// A whole reply validated: header, struct skipped to the end, success field found.
#[divan::bench(args = [64, 4096])]
fn thrift_reply_check(b: Bencher, size: usize) {
    let wire = framed(MessageType::Reply, 0, size);
    let limits = Limits::default();
    b.bench_local(|| {
        let Ok(Decoded::Done(frame)) = decode_frame(black_box(&wire), &limits) else {
            unreachable!("a complete frame");
        };
        let m = Message::load(frame, &limits).ok()?;
        find_binary_field(m.body, 0, &limits)
            .ok()?
            .0
            .map(<[u8]>::len)
    });
}
