//! HPACK: arbitrary bytes as a sequence of header blocks (each prefixed by one length byte) on one
//! connection with a small table; decoding never panics. Every block that decodes re-encodes
//! (with a fresh encoder, and with one encoder kept across the blocks) to bytes that decode back
//! to the same fields; never-indexed fields stay never indexed, and only fields the encoder
//! deems sensitive become so. After a compression error the decoder
//! refuses everything.
#![no_main]

use hawser_hpack::{Decoder, Encoder, ErrorKind, Field, Header};
use libfuzzer_sys::fuzz_target;

fn reencode(enc: &mut Encoder, dec: &mut Decoder, fields: &[Field]) {
    let mut wire = Vec::new();
    enc.encode(fields.iter().map(Header::from), &mut wire);
    let again = dec.decode_to_vec(&wire).expect("re-encoded block decodes");
    assert_eq!(again.len(), fields.len());
    for (a, f) in again.iter().zip(fields) {
        assert_eq!((&a.name, &a.value), (&f.name, &f.value));
        // Never indexed stays never indexed; the encoder may add it (authorization, short cookies).
        assert!(a.never_indexed || !f.never_indexed);
        if a.never_indexed != f.never_indexed {
            assert!(hawser_hpack::is_sensitive(&f.name, &f.value));
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&config, mut rest)) = data.split_first() else {
        return;
    };
    let table_size = [0, 64, 256, 4096][usize::from(config & 3)];
    let mut dec = Decoder::new(table_size);
    dec.set_max_header_list_size(if config & 4 != 0 { 512 } else { 1 << 16 });
    let (mut kept_enc, mut kept_dec) = (Encoder::new(4096), Decoder::new(4096));
    kept_dec.set_max_header_list_size(usize::MAX);
    while let Some((&len, tail)) = rest.split_first() {
        let len = usize::from(len).min(tail.len());
        let (block, tail) = tail.split_at(len);
        rest = tail;
        match dec.decode_to_vec(block) {
            Ok(fields) => {
                let mut fresh = Decoder::new(4096);
                fresh.set_max_header_list_size(usize::MAX);
                reencode(&mut Encoder::new(4096), &mut fresh, &fields);
                reencode(&mut kept_enc, &mut kept_dec, &fields);
                assert!(dec.table_size() <= table_size);
            }
            Err(e) if e.kind() == ErrorKind::HeaderListTooLarge => {}
            Err(_) => {
                let again = dec.decode_to_vec(block).unwrap_err();
                assert_eq!(again.kind(), ErrorKind::Poisoned);
                return;
            }
        }
    }
});
