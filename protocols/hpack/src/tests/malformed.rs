//! Malformed blocks: each is refused with the error that names it, and the decoder's state after
//! the error is what the crate promises.

use super::support::{hex, owned, pairs, table};
use crate::integer;
use crate::{Decoder, ErrorKind};

fn kind(dec: &mut Decoder, block: &[u8]) -> ErrorKind {
    dec.decode_to_vec(block)
        .expect_err("the block is refused")
        .kind()
}

fn fresh(block: &[u8]) -> ErrorKind {
    kind(&mut Decoder::default(), block)
}

#[test]
fn truncated_integer() {
    assert_eq!(fresh(&[0xff]), ErrorKind::TruncatedInteger);
    assert_eq!(fresh(&[0xff, 0x80]), ErrorKind::TruncatedInteger);
    // A literal's name length cut off.
    assert_eq!(fresh(&[0x40]), ErrorKind::TruncatedInteger);
    assert_eq!(fresh(&[0x40, 0x7f]), ErrorKind::TruncatedInteger);
    // A size update cut off.
    assert_eq!(fresh(&[0x3f]), ErrorKind::TruncatedInteger);
}

#[test]
fn integer_overflow() {
    assert_eq!(
        fresh(&[0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]),
        ErrorKind::IntegerOverflow
    );
    assert_eq!(
        fresh(&[0xff, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]),
        ErrorKind::IntegerOverflow
    );
    // A string length that overflows.
    assert_eq!(
        fresh(&[0x40, 0x7f, 0xff, 0xff, 0xff, 0xff, 0x7f]),
        ErrorKind::IntegerOverflow
    );
}

#[test]
fn truncated_string() {
    assert_eq!(fresh(&[0x00, 0x05, b'a']), ErrorKind::TruncatedString);
    assert_eq!(
        fresh(&[0x00, 0x01, b'a', 0x02, b'b']),
        ErrorKind::TruncatedString
    );
    // A length near u32::MAX is refused before anything is allocated.
    let mut block = vec![0x00];
    integer::encode(u32::MAX as usize, 7, 0, &mut block);
    assert_eq!(fresh(&block), ErrorKind::TruncatedString);
}

#[test]
fn index_zero() {
    assert_eq!(fresh(&[0x80]), ErrorKind::ZeroIndex);
}

#[test]
fn index_out_of_range() {
    assert_eq!(fresh(&[0xbe]), ErrorKind::IndexOutOfRange);
    // As the name of a literal.
    assert_eq!(fresh(&[0x7e, 0x00]), ErrorKind::IndexOutOfRange);
    let mut dec = Decoder::default();
    dec.decode_to_vec(&hex("400a 6375 7374 6f6d 2d6b 6579 0161"))
        .unwrap();
    assert_eq!(
        pairs(&dec.decode_to_vec(&[0xbe]).unwrap()),
        owned(&[("custom-key", "a")])
    );
    assert_eq!(kind(&mut dec, &[0xbf]), ErrorKind::IndexOutOfRange);
}

#[test]
fn huffman_bad_padding() {
    // 'a' (00011) padded with zeros.
    assert_eq!(
        fresh(&[0x00, 0x01, b'n', 0x81, 0x18]),
        ErrorKind::HuffmanPadding
    );
    // 'a' then a whole byte of ones.
    assert_eq!(
        fresh(&[0x00, 0x01, b'n', 0x82, 0x1f, 0xff]),
        ErrorKind::HuffmanPadding
    );
    // In a name.
    assert_eq!(fresh(&[0x00, 0x81, 0x18, 0x00]), ErrorKind::HuffmanPadding);
}

#[test]
fn huffman_eos() {
    assert_eq!(
        fresh(&[0x00, 0x01, b'n', 0x84, 0xff, 0xff, 0xff, 0xff]),
        ErrorKind::HuffmanEos
    );
    // 'a' then EOS.
    assert_eq!(
        fresh(&[0x00, 0x01, b'n', 0x85, 0x1f, 0xff, 0xff, 0xff, 0xff]),
        ErrorKind::HuffmanEos
    );
}

#[test]
fn size_update_above_limit() {
    let mut block = Vec::new();
    integer::encode(4097, 5, 0x20, &mut block);
    assert_eq!(fresh(&block), ErrorKind::SizeUpdateTooLarge);
    // Exactly the limit is fine; so are several updates before the first field.
    let mut block = vec![0x20];
    integer::encode(4096, 5, 0x20, &mut block);
    block.push(0x82);
    assert!(Decoder::default().decode_to_vec(&block).is_ok());
}

#[test]
fn size_update_after_first_field() {
    assert_eq!(fresh(&[0x82, 0x20]), ErrorKind::SizeUpdateNotAtStart);
}

#[test]
fn size_update_required_after_lowering_the_limit() {
    let mut dec = Decoder::default();
    dec.set_max_table_size(100);
    assert_eq!(kind(&mut dec, &[0x82]), ErrorKind::SizeUpdateMissing);

    let mut dec = Decoder::default();
    dec.set_max_table_size(100);
    assert_eq!(kind(&mut dec, &[]), ErrorKind::SizeUpdateMissing);

    // Lowered to 50 then raised to 100: the update must go down to 50 at least.
    let mut dec = Decoder::default();
    dec.set_max_table_size(50);
    dec.set_max_table_size(100);
    let mut block = Vec::new();
    integer::encode(100, 5, 0x20, &mut block);
    block.push(0x82);
    assert_eq!(kind(&mut dec, &block), ErrorKind::SizeUpdateMissing);

    let mut dec = Decoder::default();
    dec.set_max_table_size(50);
    dec.set_max_table_size(100);
    let mut block = Vec::new();
    integer::encode(50, 5, 0x20, &mut block);
    integer::encode(100, 5, 0x20, &mut block);
    block.push(0x82);
    assert!(dec.decode_to_vec(&block).is_ok());
    assert_eq!(dec.table_capacity(), 100);
    assert!(dec.decode_to_vec(&[0x82]).is_ok(), "required once only");
}

#[test]
fn size_update_evicts() {
    let mut dec = Decoder::default();
    dec.decode_to_vec(&hex("400a 6375 7374 6f6d 2d6b 6579 0161"))
        .unwrap();
    assert_eq!(dec.table_size(), 43);
    dec.decode_to_vec(&[0x20]).unwrap();
    assert_eq!(dec.table_size(), 0);
    assert_eq!(kind(&mut dec, &[0xbe]), ErrorKind::IndexOutOfRange);
}

#[test]
fn header_list_over_the_limit() {
    let mut dec = Decoder::default();
    // Each ":method: GET" counts 7 + 3 + 32 = 42.
    dec.set_max_header_list_size(84);
    assert_eq!(dec.decode_to_vec(&[0x82, 0x82]).unwrap().len(), 2);
    let err = dec.decode_to_vec(&[0x82, 0x82, 0x82]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::HeaderListTooLarge);
    assert_eq!(err.offset(), 2);
    assert!(!err.is_compression_error());

    // A field added to the table past the limit is still added: the table stays in step with
    // the encoder's, and the decoder stays usable.
    let block = hex("82 400a 6375 7374 6f6d 2d6b 6579 0161 82");
    assert_eq!(kind(&mut dec, &block), ErrorKind::HeaderListTooLarge);
    assert_eq!(table(&dec), owned(&[("custom-key", "a")]));
    assert_eq!(
        pairs(&dec.decode_to_vec(&[0xbe]).unwrap()),
        owned(&[("custom-key", "a")])
    );

    // A huge literal past the limit is skipped without being stored.
    let mut dec = Decoder::default();
    dec.set_max_header_list_size(100);
    let mut block = vec![0x00, 0x01, b'n'];
    integer::encode(1000, 7, 0, &mut block);
    block.extend(std::iter::repeat_n(b'v', 1000));
    assert_eq!(kind(&mut dec, &block), ErrorKind::HeaderListTooLarge);
    assert!(dec.decode_to_vec(&[0x82]).is_ok());
}

#[test]
fn entry_larger_than_the_table_empties_it() {
    let mut dec = Decoder::new(64);
    dec.decode_to_vec(&hex("400a 6375 7374 6f6d 2d6b 6579 0161"))
        .unwrap();
    assert_eq!(dec.table_size(), 43);
    // custom-key: 30 bytes of value = 72 > 64.
    let mut block = hex("400a 6375 7374 6f6d 2d6b 6579 1e");
    block.extend([b'x'; 30]);
    let fields = dec.decode_to_vec(&block).unwrap();
    assert_eq!(fields[0].value.len(), 30);
    assert_eq!(dec.table_size(), 0);
}

#[test]
fn errors_poison_the_decoder() {
    let mut dec = Decoder::default();
    let err = dec.decode_to_vec(&[0x80]).unwrap_err();
    assert!(err.is_compression_error());
    assert!(err.to_string().contains("index 0"), "{err}");
    assert_eq!(kind(&mut dec, &[0x82]), ErrorKind::Poisoned);
}

/// Every block of up to two bytes, and a spread of longer ones, decodes or errors: no panic.
#[test]
fn short_blocks_never_panic() {
    for a in 0..=255u8 {
        let _ = Decoder::new(64).decode_to_vec(&[a]);
        for b in 0..=255u8 {
            let _ = Decoder::new(64).decode_to_vec(&[a, b]);
        }
    }
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..20_000 {
        let mut dec = Decoder::new(128);
        dec.set_max_header_list_size(256);
        let len = (seed >> 60) as usize + 1;
        let block: Vec<u8> = (0..len)
            .map(|_| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (seed >> 56) as u8
            })
            .collect();
        let _ = dec.decode_to_vec(&block);
        let _ = dec.decode_to_vec(&block);
    }
}
