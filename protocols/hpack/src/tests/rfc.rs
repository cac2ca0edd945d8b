//! RFC 7541 Appendix C, byte for byte, both directions. (C.1, integers, is in `integer.rs`.)

use bytes::Bytes;

use super::support::{hex, owned, pairs, table};
use crate::{Decoder, Encoder, Field, Header, Indexing};

/// One block of a sequence: the fields, the wire bytes, the table after it and its size.
struct Step {
    fields: &'static [(&'static str, &'static str)],
    wire: &'static str,
    table: &'static [(&'static str, &'static str)],
    size: usize,
}

/// Decodes each block with one decoder and checks fields and table; encodes each field list with
/// one encoder and checks the bytes and the encoder's table.
fn run(steps: &[Step], table_size: usize, huffman: bool) {
    let mut dec = Decoder::new(table_size);
    let mut enc = Encoder::new(table_size);
    enc.set_huffman(huffman);
    for (i, step) in steps.iter().enumerate() {
        let wire = hex(step.wire);
        let fields = dec
            .decode_to_vec(&wire)
            .unwrap_or_else(|e| panic!("block {i}: {e}"));
        assert_eq!(pairs(&fields), owned(step.fields), "block {i} fields");
        assert!(fields.iter().all(|f| !f.never_indexed));
        assert_eq!(table(&dec), owned(step.table), "block {i} decoder table");
        assert_eq!(dec.table_size(), step.size, "block {i} decoder table size");

        let mut out = Vec::new();
        enc.encode(
            step.fields
                .iter()
                .map(|&(n, v)| Header::new(n.as_bytes(), v.as_bytes())),
            &mut out,
        );
        assert_eq!(out, wire, "block {i} encoded bytes");
        assert_eq!(enc.table_size(), step.size, "block {i} encoder table size");
    }
}

#[test]
fn c_2_1_literal_with_indexing() {
    let wire = hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572");
    let mut dec = Decoder::default();
    let fields = dec.decode_to_vec(&wire).unwrap();
    assert_eq!(pairs(&fields), owned(&[("custom-key", "custom-header")]));
    assert_eq!(table(&dec), owned(&[("custom-key", "custom-header")]));
    assert_eq!(dec.table_size(), 55);

    let mut enc = Encoder::default();
    enc.set_huffman(false);
    let mut out = Vec::new();
    enc.encode([Header::new(b"custom-key", b"custom-header")], &mut out);
    assert_eq!(out, wire);
    assert_eq!(enc.table_size(), 55);
}

#[test]
fn c_2_2_literal_without_indexing() {
    let wire = hex("040c 2f73 616d 706c 652f 7061 7468");
    let mut dec = Decoder::default();
    let fields = dec.decode_to_vec(&wire).unwrap();
    assert_eq!(pairs(&fields), owned(&[(":path", "/sample/path")]));
    assert!(!fields[0].never_indexed);
    assert_eq!(dec.table_size(), 0);

    let mut enc = Encoder::default();
    enc.set_huffman(false);
    let mut out = Vec::new();
    let h = Header {
        name: b":path",
        value: b"/sample/path",
        indexing: Indexing::Volatile,
    };
    enc.encode([h], &mut out);
    assert_eq!(out, wire);
    // The same through the volatile-names policy.
    let mut enc = Encoder::default();
    enc.set_huffman(false);
    enc.set_volatile([":path"]);
    let mut out = Vec::new();
    enc.encode([Header::new(b":path", b"/sample/path")], &mut out);
    assert_eq!(out, wire);
    assert_eq!(enc.table_size(), 0);
}

#[test]
fn c_2_3_literal_never_indexed() {
    let wire = hex("1008 7061 7373 776f 7264 0673 6563 7265 74");
    let mut dec = Decoder::default();
    let fields = dec.decode_to_vec(&wire).unwrap();
    assert_eq!(pairs(&fields), owned(&[("password", "secret")]));
    assert!(fields[0].never_indexed, "the flag survives decoding");
    assert_eq!(dec.table_size(), 0);

    // Re-encoding the decoded field keeps it never indexed.
    let mut enc = Encoder::default();
    enc.set_huffman(false);
    let mut out = Vec::new();
    enc.encode(fields.iter().map(Header::from), &mut out);
    assert_eq!(out, wire);
    assert_eq!(enc.table_size(), 0);
}

#[test]
fn c_2_4_indexed() {
    let mut dec = Decoder::default();
    let fields = dec.decode_to_vec(&[0x82]).unwrap();
    assert_eq!(pairs(&fields), owned(&[(":method", "GET")]));
    assert_eq!(dec.table_size(), 0);

    let mut out = Vec::new();
    Encoder::default().encode([Header::new(b":method", b"GET")], &mut out);
    assert_eq!(out, [0x82]);
}

const REQ1: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "http"),
    (":path", "/"),
    (":authority", "www.example.com"),
];
const REQ2: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "http"),
    (":path", "/"),
    (":authority", "www.example.com"),
    ("cache-control", "no-cache"),
];
const REQ3: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "https"),
    (":path", "/index.html"),
    (":authority", "www.example.com"),
    ("custom-key", "custom-value"),
];
const REQ_TABLE1: &[(&str, &str)] = &[(":authority", "www.example.com")];
const REQ_TABLE2: &[(&str, &str)] = &[
    ("cache-control", "no-cache"),
    (":authority", "www.example.com"),
];
const REQ_TABLE3: &[(&str, &str)] = &[
    ("custom-key", "custom-value"),
    ("cache-control", "no-cache"),
    (":authority", "www.example.com"),
];

#[test]
fn c_3_requests_without_huffman() {
    run(
        &[
            Step {
                fields: REQ1,
                wire: "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
                table: REQ_TABLE1,
                size: 57,
            },
            Step {
                fields: REQ2,
                wire: "8286 84be 5808 6e6f 2d63 6163 6865",
                table: REQ_TABLE2,
                size: 110,
            },
            Step {
                fields: REQ3,
                wire: "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
                table: REQ_TABLE3,
                size: 164,
            },
        ],
        4096,
        false,
    );
}

#[test]
fn c_4_requests_with_huffman() {
    run(
        &[
            Step {
                fields: REQ1,
                wire: "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
                table: REQ_TABLE1,
                size: 57,
            },
            Step {
                fields: REQ2,
                wire: "8286 84be 5886 a8eb 1064 9cbf",
                table: REQ_TABLE2,
                size: 110,
            },
            Step {
                fields: REQ3,
                wire: "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
                table: REQ_TABLE3,
                size: 164,
            },
        ],
        4096,
        true,
    );
}

const DATE1: &str = "Mon, 21 Oct 2013 20:13:21 GMT";
const DATE2: &str = "Mon, 21 Oct 2013 20:13:22 GMT";
const LOCATION: &str = "https://www.example.com";
const COOKIE: &str = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";
const RSP1: &[(&str, &str)] = &[
    (":status", "302"),
    ("cache-control", "private"),
    ("date", DATE1),
    ("location", LOCATION),
];
const RSP2: &[(&str, &str)] = &[
    (":status", "307"),
    ("cache-control", "private"),
    ("date", DATE1),
    ("location", LOCATION),
];
const RSP3: &[(&str, &str)] = &[
    (":status", "200"),
    ("cache-control", "private"),
    ("date", DATE2),
    ("location", LOCATION),
    ("content-encoding", "gzip"),
    ("set-cookie", COOKIE),
];
const RSP_TABLE1: &[(&str, &str)] = &[
    ("location", LOCATION),
    ("date", DATE1),
    ("cache-control", "private"),
    (":status", "302"),
];
const RSP_TABLE2: &[(&str, &str)] = &[
    (":status", "307"),
    ("location", LOCATION),
    ("date", DATE1),
    ("cache-control", "private"),
];
const RSP_TABLE3: &[(&str, &str)] = &[
    ("set-cookie", COOKIE),
    ("content-encoding", "gzip"),
    ("date", DATE2),
];

#[test]
fn c_5_responses_without_huffman() {
    run(
        &[
            Step {
                fields: RSP1,
                wire: "4803 3330 3258 0770 7269 7661 7465 611d
                       4d6f 6e2c 2032 3120 4f63 7420 3230 3133
                       2032 303a 3133 3a32 3120 474d 546e 1768
                       7474 7073 3a2f 2f77 7777 2e65 7861 6d70
                       6c65 2e63 6f6d",
                table: RSP_TABLE1,
                size: 222,
            },
            Step {
                fields: RSP2,
                wire: "4803 3330 37c1 c0bf",
                table: RSP_TABLE2,
                size: 222,
            },
            Step {
                fields: RSP3,
                wire: "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420
                       3230 3133 2032 303a 3133 3a32 3220 474d
                       54c0 5a04 677a 6970 7738 666f 6f3d 4153
                       444a 4b48 514b 425a 584f 5157 454f 5049
                       5541 5851 5745 4f49 553b 206d 6178 2d61
                       6765 3d33 3630 303b 2076 6572 7369 6f6e
                       3d31",
                table: RSP_TABLE3,
                size: 215,
            },
        ],
        256,
        false,
    );
}

#[test]
fn c_6_responses_with_huffman() {
    run(
        &[
            Step {
                fields: RSP1,
                wire: "4882 6402 5885 aec3 771a 4b61 96d0 7abe
                       9410 54d4 44a8 2005 9504 0b81 66e0 82a6
                       2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8
                       e9ae 82ae 43d3",
                table: RSP_TABLE1,
                size: 222,
            },
            Step {
                fields: RSP2,
                wire: "4883 640e ffc1 c0bf",
                table: RSP_TABLE2,
                size: 222,
            },
            Step {
                fields: RSP3,
                wire: "88c1 6196 d07a be94 1054 d444 a820 0595
                       040b 8166 e084 a62d 1bff c05a 839b d9ab
                       77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b
                       3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
                       9587 3160 65c0 03ed 4ee5 b106 3d50 07",
                table: RSP_TABLE3,
                size: 215,
            },
        ],
        256,
        true,
    );
}

/// `decode_bytes` gives the same fields as `decode`, sharing raw literals with the block.
#[test]
fn decode_bytes_shares_raw_literals() {
    let wire = Bytes::from(hex("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d"));
    let mut dec = Decoder::default();
    let mut fields: Vec<Field> = Vec::new();
    dec.decode_bytes(&wire, |f| fields.push(f)).unwrap();
    assert_eq!(pairs(&fields), owned(REQ1));
    let authority = &fields[3].value;
    let range = wire.as_ptr() as usize..wire.as_ptr() as usize + wire.len();
    assert!(
        range.contains(&(authority.as_ptr() as usize)),
        "a slice of the block"
    );
}
