//! Integers with an N-bit prefix (RFC 7541 section 5.1).
//!
//! Decoded values are bounded to `u32` (every size, index and length HPACK carries fits), and at
//! most [`MAX_CONTINUATION`] continuation bytes are read: enough for any `u32` after the smallest
//! prefix, so a longer run (padding with `0x80` bytes, or a huge value) is an error rather than a
//! loop over the whole block.

use bytes::BufMut;

/// Continuation bytes after the prefix: 5 x 7 bits = 35 bits covers `u32::MAX - 1` plus any prefix.
pub(crate) const MAX_CONTINUATION: usize = 5;

/// Why an integer did not decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IntegerError {
    /// The block ended inside the integer.
    Truncated,
    /// The value exceeds `u32::MAX`, or uses more than [`MAX_CONTINUATION`] continuation bytes.
    Overflow,
}

/// Decodes an integer whose prefix is the low `prefix_bits` (1..=8) of `buf[*pos]`, advancing
/// `pos` past it.
pub(crate) fn decode(buf: &[u8], pos: &mut usize, prefix_bits: u8) -> Result<u32, IntegerError> {
    debug_assert!((1..=8).contains(&prefix_bits));
    let max_prefix = (1u32 << prefix_bits) - 1;
    let first = *buf.get(*pos).ok_or(IntegerError::Truncated)?;
    let mut value = u32::from(first) & max_prefix;
    *pos += 1;
    if value < max_prefix {
        return Ok(value);
    }
    let mut extra: u64 = 0;
    for i in 0..MAX_CONTINUATION {
        let b = *buf.get(*pos).ok_or(IntegerError::Truncated)?;
        *pos += 1;
        extra |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            let total = u64::from(value) + extra;
            value = u32::try_from(total).map_err(|_| IntegerError::Overflow)?;
            return Ok(value);
        }
    }
    Err(IntegerError::Overflow)
}

/// Appends `value` with an N-bit prefix; `flags` are the bits above the prefix in the first byte.
pub(crate) fn encode(value: usize, prefix_bits: u8, flags: u8, out: &mut impl BufMut) {
    let max_prefix = (1usize << prefix_bits) - 1;
    if value < max_prefix {
        out.put_u8(flags | value as u8);
        return;
    }
    out.put_u8(flags | max_prefix as u8);
    let mut rest = value - max_prefix;
    while rest >= 128 {
        out.put_u8((rest & 0x7f) as u8 | 0x80);
        rest >>= 7;
    }
    out.put_u8(rest as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(value: usize, prefix: u8, flags: u8) -> Vec<u8> {
        let mut out = Vec::new();
        encode(value, prefix, flags, &mut out);
        out
    }

    fn dec(buf: &[u8], prefix: u8) -> Result<(u32, usize), IntegerError> {
        let mut pos = 0;
        decode(buf, &mut pos, prefix).map(|v| (v, pos))
    }

    /// RFC 7541 C.1.1: 10 with a 5-bit prefix.
    #[test]
    fn c_1_1() {
        assert_eq!(enc(10, 5, 0), [0x0a]);
        assert_eq!(
            dec(&[0xea], 5),
            Ok((10, 1)),
            "bits above the prefix are ignored"
        );
    }

    /// RFC 7541 C.1.2: 1337 with a 5-bit prefix.
    #[test]
    fn c_1_2() {
        assert_eq!(enc(1337, 5, 0), [0x1f, 0x9a, 0x0a]);
        assert_eq!(dec(&[0x1f, 0x9a, 0x0a], 5), Ok((1337, 3)));
    }

    /// RFC 7541 C.1.3: 42 on an octet boundary.
    #[test]
    fn c_1_3() {
        assert_eq!(enc(42, 8, 0), [0x2a]);
        assert_eq!(dec(&[0x2a], 8), Ok((42, 1)));
    }

    #[test]
    fn round_trips_edges() {
        for prefix in 1..=8u8 {
            let max = (1usize << prefix) - 1;
            for v in [
                0,
                1,
                max - 1,
                max,
                max + 1,
                127 + max,
                128 + max,
                1 << 20,
                u32::MAX as usize,
            ] {
                let wire = enc(v, prefix, 0);
                assert_eq!(
                    dec(&wire, prefix),
                    Ok((v as u32, wire.len())),
                    "{v} / {prefix}"
                );
            }
        }
    }

    #[test]
    fn rejects_truncated_and_overflowing() {
        assert_eq!(dec(&[], 5), Err(IntegerError::Truncated));
        assert_eq!(dec(&[0x1f], 5), Err(IntegerError::Truncated));
        assert_eq!(dec(&[0x1f, 0x9a], 5), Err(IntegerError::Truncated));
        // u32::MAX + 1 with a 5-bit prefix: 31 + 4294967266.
        let wire = enc(u32::MAX as usize + 1, 5, 0);
        assert_eq!(dec(&wire, 5), Err(IntegerError::Overflow));
        // Six continuation bytes, even if they only carry zeros.
        assert_eq!(
            dec(&[0x1f, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], 5),
            Err(IntegerError::Overflow)
        );
        // Five with zero padding are accepted (the value is small and the count is bounded).
        assert_eq!(dec(&[0x1f, 0x81, 0x80, 0x80, 0x80, 0x00], 5), Ok((32, 6)));
        // Fifth byte carries bits 28..35: anything past u32 overflows.
        assert_eq!(
            dec(&[0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], 8),
            Err(IntegerError::Overflow)
        );
    }
}
