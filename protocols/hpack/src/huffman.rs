//! The canonical Huffman code of RFC 7541 Appendix B.
//!
//! The code is canonical: within one length, codes are consecutive in symbol order, and each
//! length starts where the previous one ended, shifted left. So the code lengths alone define it;
//! [`LENGTHS`] is Appendix B's "len in bits" column, and the codes, the decoding tree and the
//! nibble-at-a-time decoding table are all computed from it at compile time.
//!
//! Decoding walks four bits at a time through a table indexed by (tree node, nibble). Every code
//! is at least five bits long, so one nibble completes at most one symbol.

/// Code length in bits of each symbol 0..=255, then EOS (256): RFC 7541 Appendix B.
const LENGTHS: [u8; 257] = [
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, // 0..16
    28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, // 16..32
    6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, // ' '..'/'
    5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, // '0'..'?'
    13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, // '@'..'O'
    7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, // 'P'..'_'
    15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, // '`'..'o'
    6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, // 'p'..127
    20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, // 128..144
    24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, // 144..160
    22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, // 160..176
    21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, // 176..192
    26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, // 192..208
    19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, // 208..224
    20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, // 224..240
    26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, // 240..256
    30, // EOS
];

const EOS: usize = 256;

/// `(code, length)` per symbol, the code right-aligned: the canonical assignment of [`LENGTHS`].
pub(crate) const CODES: [(u32, u8); 257] = {
    let mut codes = [(0u32, 0u8); 257];
    let mut code: u32 = 0;
    let mut len: u8 = 1;
    while len <= 30 {
        let mut sym = 0;
        while sym < 257 {
            if LENGTHS[sym] == len {
                codes[sym] = (code, len);
                code += 1;
            }
            sym += 1;
        }
        code <<= 1;
        len += 1;
    }
    codes
};

/// A child in the decoding tree: an internal node's index, or a leaf's symbol with this flag.
const LEAF: u16 = 0x8000;
/// No child yet (only while building).
const NONE: u16 = 0xffff;

/// The decoding tree: 256 internal nodes (257 leaves), node 0 the root; `[node][bit]`.
const TREE: [[u16; 2]; 256] = {
    let mut tree = [[NONE; 2]; 256];
    let mut next_node: u16 = 1;
    let mut sym = 0;
    while sym < 257 {
        let (code, len) = CODES[sym];
        let mut node = 0usize;
        let mut i = len;
        while i > 1 {
            i -= 1;
            let bit = ((code >> i) & 1) as usize;
            if tree[node][bit] == NONE {
                tree[node][bit] = next_node;
                next_node += 1;
            }
            node = tree[node][bit] as usize;
        }
        tree[node][(code & 1) as usize] = LEAF | sym as u16;
        sym += 1;
    }
    assert!(
        next_node == 256,
        "a complete code over 257 symbols has 256 internal nodes"
    );
    tree
};

/// Per node: the node is reached from the root by at most seven 1 bits, so a string may end
/// there (RFC 7541 section 5.2: padding is a prefix of EOS, shorter than 8 bits).
const ACCEPTING: [bool; 256] = {
    let mut accepting = [false; 256];
    accepting[0] = true;
    let mut node = 0usize;
    let mut depth = 0;
    while depth < 7 {
        node = TREE[node][1] as usize;
        accepting[node] = true;
        depth += 1;
    }
    accepting
};

/// One step of the decoding table: the node after four bits, and the symbol completed on the way.
#[derive(Clone, Copy)]
struct Step {
    next: u8,
    /// `EMITS`, `ACCEPTS`, `FAILS`.
    flags: u8,
    sym: u8,
}

/// The step completes a symbol (`sym`).
const EMITS: u8 = 1;
/// The string may end after this step.
const ACCEPTS: u8 = 2;
/// The step decodes EOS, which a string must not contain.
const FAILS: u8 = 4;

const STEPS: [[Step; 16]; 256] = {
    let mut steps = [[Step {
        next: 0,
        flags: 0,
        sym: 0,
    }; 16]; 256];
    let mut start = 0;
    while start < 256 {
        let mut nibble = 0;
        while nibble < 16 {
            let mut node = start;
            let mut flags = 0;
            let mut sym = 0;
            let mut i = 4;
            while i > 0 {
                i -= 1;
                let child = TREE[node][(nibble >> i) & 1];
                if child & LEAF != 0 {
                    let s = (child & !LEAF) as usize;
                    if s == EOS {
                        flags |= FAILS;
                    } else {
                        flags |= EMITS;
                        sym = s as u8;
                    }
                    node = 0;
                } else {
                    node = child as usize;
                }
            }
            if ACCEPTING[node] {
                flags |= ACCEPTS;
            }
            steps[start][nibble] = Step {
                next: node as u8,
                flags,
                sym,
            };
            nibble += 1;
        }
        start += 1;
    }
    steps
};

/// Why a Huffman string did not decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HuffmanError {
    /// The string contains the EOS symbol.
    Eos,
    /// The string ends in more than 7 bits of padding, or padding that is not all ones.
    Padding,
    /// The decoded string is longer than the caller allowed.
    TooLong,
}

/// Decodes `src` and appends the bytes to `out`, failing if more than `max` bytes would come out
/// (checked as it goes, so a hostile string never grows `out` past `max`). With `out` `None` the
/// string is only checked and measured. Returns the decoded length.
pub(crate) fn decode(
    src: &[u8],
    mut out: Option<&mut Vec<u8>>,
    max: usize,
) -> Result<usize, HuffmanError> {
    let mut node = 0usize;
    let mut flags = ACCEPTS;
    let mut n = 0usize;
    for &byte in src {
        for nibble in [byte >> 4, byte & 0x0f] {
            let step = STEPS[node][usize::from(nibble)];
            if step.flags & FAILS != 0 {
                return Err(HuffmanError::Eos);
            }
            if step.flags & EMITS != 0 {
                if n == max {
                    return Err(HuffmanError::TooLong);
                }
                n += 1;
                if let Some(out) = out.as_deref_mut() {
                    out.push(step.sym);
                }
            }
            node = usize::from(step.next);
            flags = step.flags;
        }
    }
    if flags & ACCEPTS == 0 {
        return Err(HuffmanError::Padding);
    }
    Ok(n)
}

/// The Huffman-encoded length of `src` in bytes.
pub(crate) fn encoded_len(src: &[u8]) -> usize {
    let bits: usize = src
        .iter()
        .map(|&b| usize::from(CODES[usize::from(b)].1))
        .sum();
    bits.div_ceil(8)
}

/// Appends the Huffman encoding of `src` to `out`, padded with the most significant bits of EOS
/// (all ones).
pub(crate) fn encode(src: &[u8], out: &mut impl bytes::BufMut) {
    let mut acc: u64 = 0;
    let mut bits: u32 = 0;
    for &b in src {
        let (code, len) = CODES[usize::from(b)];
        acc = (acc << len) | u64::from(code);
        bits += u32::from(len);
        while bits >= 8 {
            bits -= 8;
            out.put_u8((acc >> bits) as u8);
        }
    }
    if bits > 0 {
        let pad = 8 - bits;
        out.put_u8(((acc << pad) | ((1 << pad) - 1)) as u8);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Codes from RFC 7541 Appendix B's "code as hex" column, checking the canonical assignment
    /// at every length and at the table's edges.
    #[test]
    fn canonical_codes_match_appendix_b() {
        let listed: &[(usize, u32, u8)] = &[
            (0, 0x1ff8, 13),
            (1, 0x7fffd8, 23),
            (2, 0xfffffe2, 28),
            (9, 0xffffea, 24),
            (10, 0x3ffffffc, 30),
            (13, 0x3ffffffd, 30),
            (22, 0x3ffffffe, 30),
            (31, 0xffffffb, 28),
            (b' ' as usize, 0x14, 6),
            (b'!' as usize, 0x3f8, 10),
            (b'#' as usize, 0xffa, 12),
            (b'&' as usize, 0xf8, 8),
            (b'\'' as usize, 0x7fa, 11),
            (b'0' as usize, 0x0, 5),
            (b':' as usize, 0x5c, 7),
            (b'<' as usize, 0x7ffc, 15),
            (b'\\' as usize, 0x7fff0, 19),
            (b'^' as usize, 0x3ffc, 14),
            (b'a' as usize, 0x3, 5),
            (b't' as usize, 0x9, 5),
            (b'z' as usize, 0x7b, 7),
            (b'~' as usize, 0x1ffd, 13),
            (127, 0xffffffc, 28),
            (128, 0xfffe6, 20),
            (153, 0x1fffdc, 21),
            (192, 0x3ffffe0, 26),
            (199, 0x1ffffec, 25),
            (203, 0x7ffffde, 27),
            (220, 0xffffffd, 28),
            (249, 0xffffffe, 28),
            (254, 0x7fffff0, 27),
            (255, 0x3ffffee, 26),
            (EOS, 0x3fffffff, 30),
        ];
        for &(sym, code, len) in listed {
            assert_eq!(CODES[sym], (code, len), "symbol {sym}");
        }
    }

    #[test]
    fn code_is_complete() {
        // Kraft: the lengths of a complete prefix code sum to exactly 1 (in units of 2^-30).
        let sum: u64 = LENGTHS.iter().map(|&l| 1u64 << (30 - l)).sum();
        assert_eq!(sum, 1 << 30);
    }

    #[test]
    fn every_byte_round_trips() {
        for b in 0..=255u8 {
            let src = [b, b'a', b];
            let mut wire = Vec::new();
            encode(&src, &mut wire);
            assert_eq!(wire.len(), encoded_len(&src));
            let mut out = Vec::new();
            assert_eq!(decode(&wire, Some(&mut out), usize::MAX), Ok(3));
            assert_eq!(out, src);
        }
        let all: Vec<u8> = (0..=255).collect();
        let mut wire = Vec::new();
        encode(&all, &mut wire);
        let mut out = Vec::new();
        decode(&wire, Some(&mut out), usize::MAX).unwrap();
        assert_eq!(out, all);
    }

    #[test]
    fn rejects_eos_and_bad_padding() {
        // EOS itself (30 ones), padded to 32 bits.
        assert_eq!(decode(&[0xff; 4], None, 100), Err(HuffmanError::Eos));
        // A full byte of padding: 8 ones.
        assert_eq!(decode(&[0xff], None, 100), Err(HuffmanError::Padding));
        // 'a' (00011) padded with zeros instead of ones.
        assert_eq!(
            decode(&[0b0001_1000], None, 100),
            Err(HuffmanError::Padding)
        );
        // 'a' then '0' (00011 00000) padded with six ones: fine; with 8+6 ones: too long.
        assert_eq!(decode(&[0b0001_1000, 0b0011_1111], None, 100), Ok(2));
        assert_eq!(
            decode(&[0b0001_1000, 0b0011_1111, 0xff], None, 100),
            Err(HuffmanError::Padding)
        );
        // The empty string is fine.
        assert_eq!(decode(&[], None, 0), Ok(0));
        // A limit on the output.
        assert_eq!(
            decode(&[0b0001_1000, 0b0011_1111], None, 1),
            Err(HuffmanError::TooLong)
        );
    }
}
