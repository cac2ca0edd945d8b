//! Field names the codec and a linkerd-style proxy look up on every message, recognised once
//! while parsing.
//!
//! Each parsed field carries the id of its name when it is one of these (case-insensitive), and
//! each [`crate::HeaderBlock`] a bit set of the ids present. A lookup of a known name then
//! answers "absent" without scanning, and a present one compares ids instead of bytes; the
//! encoder decides hop-by-hop fields by id. Names outside this list are compared byte by byte
//! as before, so the list only changes speed, never results.

use crate::syntax::eq_ic;

/// The id of a field name that is not in the list.
pub(crate) const UNKNOWN: u8 = u8::MAX;

/// Known names, indexed by id. Lowercase.
const NAMES: [&[u8]; 16] = [
    b"host",
    b"content-length",
    b"transfer-encoding",
    b"connection",
    b"keep-alive",
    b"proxy-connection",
    b"te",
    b"trailer",
    b"upgrade",
    b"proxy-authenticate",
    b"proxy-authorization",
    b"expect",
    b"l5d-dtab",
    b"l5d-ctx-dtab",
    b"l5d-reqid",
    b"l5d-sample",
];

pub(crate) const HOST: u8 = 0;
pub(crate) const CONTENT_LENGTH: u8 = 1;
pub(crate) const TRANSFER_ENCODING: u8 = 2;
pub(crate) const CONNECTION: u8 = 3;
pub(crate) const UPGRADE: u8 = 8;
pub(crate) const EXPECT: u8 = 11;
/// Ids `TRANSFER_ENCODING..=LAST_HOP_BY_HOP` are the hop-by-hop fields the encoder drops
/// (see `encode`'s module docs).
pub(crate) const LAST_HOP_BY_HOP: u8 = 10;

/// Bit set in a block's mask when some field name starts with `l5d-` (any case): the linkerd
/// context and routing fields a proxy rewrites or strips.
pub(crate) const L5D_PREFIX_BIT: u32 = 1 << 31;

/// The id of `name`, or [`UNKNOWN`].
pub(crate) fn classify(name: &[u8]) -> u8 {
    // Candidates by length, so most names cost one length check and at most two compares.
    let candidates: &[u8] = match name.len() {
        2 => &[6],
        4 => &[0],
        6 => &[11],
        7 => &[7, 8],
        8 => &[12],
        9 => &[14],
        10 => &[3, 4, 15],
        12 => &[13],
        14 => &[1],
        16 => &[5],
        17 => &[2],
        18 => &[9],
        19 => &[10],
        _ => &[],
    };
    let first = name.first().map_or(0, u8::to_ascii_lowercase);
    for &id in candidates {
        // The first byte rules out most candidates before a full comparison.
        if let Some(n) = NAMES.get(usize::from(id))
            && n.first() == Some(&first)
            && eq_lower(name, n)
        {
            return id;
        }
    }
    UNKNOWN
}

/// `name` equals `lower` ignoring ASCII case, where `lower` holds only `a-z`, `0-9` and `-`
/// (every name in the list). For such a `lower`, `x | 0x20 == y` with `x >= 0x20` holds exactly
/// when `x` is `y` or its uppercase form (the other byte it admits, `y - 0x20`, is a control
/// for `-` and the digits), and the branch-free fold compiles to a few instructions per byte.
fn eq_lower(name: &[u8], lower: &[u8]) -> bool {
    name.len() == lower.len()
        && name
            .iter()
            .zip(lower)
            .fold(true, |ok, (&x, &y)| ok & ((x | 0x20) == y) & (x >= 0x20))
}

/// The mask bit of a field with id `id` and name `name`.
pub(crate) fn mask_bit(id: u8, name: &[u8]) -> u32 {
    let known = if id == UNKNOWN { 0 } else { 1u32 << id };
    let l5d = if name.len() >= 4 && eq_ic(name.get(..4).unwrap_or_default(), b"l5d-") {
        L5D_PREFIX_BIT
    } else {
        0
    };
    known | l5d
}

/// True for the hop-by-hop ids.
pub(crate) fn is_hop_by_hop_id(id: u8) -> bool {
    (TRANSFER_ENCODING..=LAST_HOP_BY_HOP).contains(&id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_classifies_to_its_own_id_in_any_case() {
        for (i, n) in NAMES.iter().enumerate() {
            assert_eq!(classify(n), i as u8, "{}", String::from_utf8_lossy(n));
            let upper: Vec<u8> = n.to_ascii_uppercase();
            assert_eq!(classify(&upper), i as u8);
        }
        assert!(NAMES.len() <= 31, "ids must fit below the l5d prefix bit");
    }

    #[test]
    fn other_names_are_unknown() {
        for n in [
            &b"hosts"[..],
            b"x-host",
            b"content-type",
            b"l5d-dst-service",
            b"",
            b"t",
            b"tf",
            b"upgradf",
        ] {
            assert_eq!(classify(n), UNKNOWN, "{}", String::from_utf8_lossy(n));
        }
    }

    #[test]
    fn hop_by_hop_ids_match_the_public_predicate() {
        for (i, n) in NAMES.iter().enumerate() {
            assert_eq!(is_hop_by_hop_id(i as u8), crate::is_hop_by_hop(n));
        }
    }

    #[test]
    fn eq_lower_is_exact_ascii_case_folding() {
        for n in NAMES {
            assert!(
                n.iter()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
            );
            for i in 0..n.len() {
                for x in 0..=255u8 {
                    let mut m = n.to_vec();
                    m[i] = x;
                    assert_eq!(eq_lower(&m, n), eq_ic(&m, n), "{:?} byte {i} = {x}", n);
                }
            }
        }
        assert!(!eq_lower(b"hos", b"host"));
    }

    #[test]
    fn l5d_prefix_bit() {
        assert_eq!(mask_bit(UNKNOWN, b"L5D-Dst-Service"), L5D_PREFIX_BIT);
        assert_eq!(mask_bit(UNKNOWN, b"l5d"), 0);
        assert_eq!(mask_bit(HOST, b"host"), 1);
    }
}
