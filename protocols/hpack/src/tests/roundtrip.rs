//! Property: any header list an encoder writes decodes back to the same fields, never-indexed
//! flags included, across many blocks on one connection, with table size changes between them;
//! and the two tables stay identical.

use crate::{Decoder, Encoder, Header, Indexing, is_sensitive};

/// A small deterministic generator (PCG-style LCG); no dependency needed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, len: usize, alphabet: &[u8]) -> Vec<u8> {
        (0..len)
            .map(|_| {
                if alphabet.is_empty() {
                    self.next() as u8
                } else {
                    alphabet[self.below(alphabet.len())]
                }
            })
            .collect()
    }
}

const NAMES: &[&str] = &[
    ":method",
    ":path",
    ":status",
    ":authority",
    "content-type",
    "cookie",
    "authorization",
    "grpc-timeout",
    "te",
    "x-request-id",
    "l5d-dst-service",
];
const VALUES: &[&str] = &[
    "",
    "GET",
    "/",
    "200",
    "application/grpc",
    "trailers",
    "gzip, deflate",
];

fn field(rng: &mut Lcg) -> (Vec<u8>, Vec<u8>, Indexing) {
    let name = match rng.below(4) {
        0 => {
            let n = rng.below(12) + 1;
            rng.bytes(n, b"abcdefghijklmnopqrstuvwxyz-0123456789")
        }
        _ => NAMES[rng.below(NAMES.len())].as_bytes().to_vec(),
    };
    let value = match rng.below(6) {
        0 => {
            let n = rng.below(40);
            rng.bytes(n, &[])
        }
        1 => {
            let n = rng.below(300);
            rng.bytes(n, b"abcdefghijklmnopqrstuvwxyz/-_.0123456789=")
        }
        2 => {
            let n = rng.below(20);
            rng.bytes(n, b"ABCDEFabcdef0123456789")
        }
        _ => VALUES[rng.below(VALUES.len())].as_bytes().to_vec(),
    };
    let indexing = [
        Indexing::Auto,
        Indexing::Auto,
        Indexing::Incremental,
        Indexing::Volatile,
        Indexing::Never,
    ][rng.below(5)];
    (name, value, indexing)
}

#[test]
fn encode_then_decode_is_identity() {
    let mut rng = Lcg(0x5eed);
    for connection in 0..300 {
        let size = [0, 64, 256, 4096][connection % 4];
        let mut enc = Encoder::new(size);
        enc.set_huffman(connection % 3 != 0);
        if connection % 5 == 0 {
            enc.set_volatile(["x-request-id", ":path"]);
        }
        let mut dec = Decoder::new(size);
        dec.set_max_header_list_size(usize::MAX);
        for block in 0..20 {
            if rng.below(8) == 0 {
                let new = [0, 100, 256, 4096, 8192][rng.below(5)];
                enc.set_peer_max_table_size(new);
                dec.set_max_table_size(new);
            }
            if rng.below(16) == 0 {
                enc.set_table_size_cap(rng.below(2000));
            }
            let list: Vec<_> = (0..rng.below(12)).map(|_| field(&mut rng)).collect();
            let mut wire = Vec::new();
            enc.encode(
                list.iter().map(|(n, v, i)| Header {
                    name: n,
                    value: v,
                    indexing: *i,
                }),
                &mut wire,
            );
            let fields = dec
                .decode_to_vec(&wire)
                .unwrap_or_else(|e| panic!("connection {connection} block {block}: {e}"));
            assert_eq!(fields.len(), list.len());
            for (f, (n, v, i)) in fields.iter().zip(&list) {
                assert_eq!((&f.name[..], &f.value[..]), (&n[..], &v[..]));
                let never = *i == Indexing::Never || (*i == Indexing::Auto && is_sensitive(n, v));
                assert_eq!(f.never_indexed, never, "{:?}", String::from_utf8_lossy(n));
            }
            assert!(
                enc.table_entries().eq(dec.table_entries()),
                "tables in step"
            );
            assert_eq!(enc.table_size(), dec.table_size());
        }
    }
}

/// Forwarding: decoded fields re-encoded by a proxy's encoder stay never indexed downstream.
#[test]
fn never_indexed_survives_a_hop() {
    let mut upstream = Encoder::default();
    let mut wire = Vec::new();
    upstream.encode(
        [
            Header::new(b"authorization", b"Bearer abc"),
            Header {
                name: b"x-secret",
                value: b"s3cr3t",
                indexing: Indexing::Never,
            },
            Header::new(b"cookie", b"a-very-long-session-cookie-value=1234567890"),
        ],
        &mut wire,
    );
    let mut proxy_in = Decoder::default();
    let fields = proxy_in.decode_to_vec(&wire).unwrap();
    assert_eq!(
        fields.iter().map(|f| f.never_indexed).collect::<Vec<_>>(),
        [true, true, false]
    );
    let mut proxy_out = Encoder::default();
    let mut wire2 = Vec::new();
    proxy_out.encode(fields.iter().map(Header::from), &mut wire2);
    let again = Decoder::default().decode_to_vec(&wire2).unwrap();
    assert_eq!(again, fields);
    // Only the long cookie went into the table.
    assert_eq!(proxy_out.table_entries().count(), 1);
}

/// Lowering then raising the peer's limit between blocks sends the smallest size, then the
/// final one, before the first field (RFC 7541 section 4.2); the table is emptied on the way.
#[test]
fn encoder_signals_size_changes() {
    let mut enc = Encoder::default();
    let mut dec = Decoder::default();
    let mut wire = Vec::new();
    enc.encode([Header::new(b"x-a", b"1")], &mut wire);
    dec.decode_to_vec(&wire).unwrap();
    assert_eq!(enc.table_size(), 36);

    enc.set_peer_max_table_size(0);
    enc.set_peer_max_table_size(4096);
    dec.set_max_table_size(0);
    dec.set_max_table_size(4096);
    let mut wire = Vec::new();
    enc.encode([Header::new(b":method", b"GET")], &mut wire);
    assert_eq!(wire, [0x20, 0x3f, 0xe1, 0x1f, 0x82]);
    assert_eq!(enc.table_size(), 0);
    dec.decode_to_vec(&wire).unwrap();
    assert_eq!(dec.table_size(), 0);

    // Unchanged limits send nothing; our own cap is signalled like the peer's.
    let mut wire = Vec::new();
    enc.encode([Header::new(b":method", b"GET")], &mut wire);
    assert_eq!(wire, [0x82]);
    enc.set_table_size_cap(100);
    let mut wire = Vec::new();
    enc.encode([], &mut wire);
    assert_eq!(wire, [0x3f, 0x45]);
}
