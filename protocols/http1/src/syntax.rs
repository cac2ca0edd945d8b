//! Byte-level grammar helpers shared by the parser, framing and encoder: token characters,
//! optional whitespace, comma-separated lists, field-value validity, and a bare-LF scan.
//!
//! These are small, allocation-free predicates; they know nothing about messages.

/// `tchar` from RFC 9110 section 5.6.2.
pub(crate) fn is_tchar(b: u8) -> bool {
    matches!(b,
        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9'
        | b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+'
        | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~')
}

/// A non-empty run of `tchar`.
pub(crate) fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// A byte allowed in a field value: HTAB, SP, VCHAR, obs-text (RFC 9110 section 5.5).
pub(crate) fn is_field_value_byte(b: u8) -> bool {
    b == b'\t' || (b' '..=b'~').contains(&b) || b >= 0x80
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
    let mut prev = 0u8;
    for &b in s {
        if b == b'\n' && prev != b'\r' {
            return true;
        }
        prev = b;
    }
    false
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
