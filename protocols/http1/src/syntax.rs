//! Byte-level grammar helpers shared by the parser, framing and encoder: token characters,
//! optional whitespace, comma-separated lists, field-value validity, and a bare-LF scan.
//!
//! These are small, allocation-free predicates; they know nothing about messages.

/// `tchar` from RFC 9110 section 5.6.2.
const fn tchar_rule(b: u8) -> bool {
    matches!(b,
        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9'
        | b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+'
        | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~')
}

/// A field-value byte: HTAB, SP, VCHAR, obs-text (RFC 9110 section 5.5).
const fn field_value_rule(b: u8) -> bool {
    b == b'\t' || (b >= b' ' && b <= b'~') || b >= 0x80
}

/// Bit 0: `tchar`; bit 1: field-value byte. One table lookup per byte on the request path.
static CLASSES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = (tchar_rule(b) as u8) | ((field_value_rule(b) as u8) << 1);
        i += 1;
    }
    t
};

/// `tchar` from RFC 9110 section 5.6.2.
pub(crate) fn is_tchar(b: u8) -> bool {
    CLASSES[usize::from(b)] & 1 != 0
}

/// A non-empty run of `tchar`.
pub(crate) fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// A byte allowed in a field value: HTAB, SP, VCHAR, obs-text (RFC 9110 section 5.5).
pub(crate) fn is_field_value_byte(b: u8) -> bool {
    CLASSES[usize::from(b)] & 2 != 0
}

/// `s` without leading and trailing SP / HTAB.
pub(crate) fn trim_ows(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(start, |i| i + 1);
    s.get(start..end).unwrap_or_default()
}

/// The non-empty elements of a comma-separated list, whitespace-trimmed. Empty elements are
/// skipped as RFC 9110 section 5.6.1 requires of recipients.
pub(crate) fn list_elements(v: &[u8]) -> impl Iterator<Item = &[u8]> {
    v.split(|&b| b == b',')
        .map(trim_ows)
        .filter(|e| !e.is_empty())
}

/// True when some LF in `s` is not preceded by CR.
pub(crate) fn has_bare_lf(s: &[u8]) -> bool {
    memchr::memchr_iter(b'\n', s).any(|i| i == 0 || s.get(i - 1) != Some(&b'\r'))
}

/// Case-insensitive ASCII comparison.
pub(crate) fn eq_ic(a: &[u8], b: &[u8]) -> bool {
    a.eq_ignore_ascii_case(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_splits_lists() {
        assert_eq!(trim_ows(b" \t a b\t "), b"a b");
        assert_eq!(trim_ows(b"   "), b"");
        let v: Vec<&[u8]> = list_elements(b" close ,, Upgrade,\tfoo ").collect();
        assert_eq!(v, vec![&b"close"[..], b"Upgrade", b"foo"]);
    }

    #[test]
    fn finds_bare_lf() {
        assert!(!has_bare_lf(b"a\r\nb\r\n\r\n"));
        assert!(has_bare_lf(b"a\r\nb\n\r\n"));
        assert!(has_bare_lf(b"\n"));
        assert!(has_bare_lf(b"ab\r\n\n"));
        assert!(!has_bare_lf(b""));
    }

    #[test]
    fn byte_tables_match_the_rfc_rules() {
        for b in 0..=255u8 {
            assert_eq!(is_tchar(b), tchar_rule(b), "{b}");
            assert_eq!(is_field_value_byte(b), field_value_rule(b), "{b}");
        }
        assert!(is_tchar(b'~') && !is_tchar(b':') && !is_tchar(b' '));
        assert!(is_field_value_byte(b'\t') && is_field_value_byte(0x80));
        assert!(
            !is_field_value_byte(b'\r') && !is_field_value_byte(0x7f) && !is_field_value_byte(0)
        );
    }

    #[test]
    fn token_rules() {
        assert!(is_token(b"GET"));
        assert!(is_token(b"x-l5d_ctx.1~"));
        assert!(!is_token(b""));
        assert!(!is_token(b"a b"));
        assert!(!is_token(b"a:"));
        assert!(!is_token(b"a\0"));
    }
}
