//! Query-string decoding for the admin server: `application/x-www-form-urlencoded` style, where
//! `+` is a space and `%XX` a byte, and the decoded bytes must be UTF-8.
//!
//! Strict on purpose: a `%` not followed by two hex digits is an error (answered 400), not passed
//! through. Keys are case-sensitive; a key given twice answers with its first value, as Finagle's
//! `req.params.get` does. Paths are not decoded here (the admin routes match the raw path).

use std::fmt;

/// Why a query string could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryError {
    /// A `%` at this byte offset of the component is not followed by two hex digits.
    BadEscape {
        /// The component (key or value) as it appeared on the wire, cut to 64 bytes.
        component: String,
        /// Byte offset of the `%` in the component.
        at: usize,
    },
    /// The decoded bytes of this component are not UTF-8.
    NotUtf8 {
        /// The component as it appeared on the wire, cut to 64 bytes.
        component: String,
    },
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadEscape { component, at } => write!(
                f,
                "malformed percent-encoding at byte {at} of query component {component:?}"
            ),
            Self::NotUtf8 { component } => {
                write!(f, "query component {component:?} does not decode to UTF-8")
            }
        }
    }
}

impl std::error::Error for QueryError {}

/// A decoded query string: `(key, value)` pairs in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Decodes `raw` (the part after `?`, without it). `a` alone is `("a", "")`; empty pieces
    /// (`a=1&&b=2`) are skipped.
    ///
    /// # Errors
    /// A malformed escape or a component that does not decode to UTF-8.
    pub fn parse(raw: &str) -> Result<Self, QueryError> {
        let mut pairs = Vec::new();
        for piece in raw.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = piece.split_once('=').unwrap_or((piece, ""));
            pairs.push((form_decode(key)?, form_decode(value)?));
        }
        Ok(Self { pairs })
    }

    /// The first value of `key`.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of the first of `keys` present (for parameters with aliases).
    #[must_use]
    pub fn get_any(&self, keys: &[&str]) -> Option<&str> {
        keys.iter().find_map(|k| self.get(k))
    }
}

/// Decodes one form component: `+` is a space, `%XX` a byte.
///
/// # Errors
/// A malformed escape or bytes that are not UTF-8.
pub fn form_decode(component: &str) -> Result<String, QueryError> {
    let cut = || component.chars().take(64).collect::<String>();
    let bytes = component.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hi = bytes.get(i + 1).copied().and_then(hex_value);
                let lo = bytes.get(i + 2).copied().and_then(hex_value);
                let (Some(hi), Some(lo)) = (hi, lo) else {
                    return Err(QueryError::BadEscape {
                        component: cut(),
                        at: i,
                    });
                };
                out.push(hi << 4 | lo);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| QueryError::NotUtf8 { component: cut() })
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plus_and_escapes() {
        assert_eq!(form_decode("a+b").as_deref(), Ok("a b"));
        assert_eq!(form_decode("%2Fsvc%2ffoo").as_deref(), Ok("/svc/foo"));
        assert_eq!(form_decode("%2B").as_deref(), Ok("+"));
        assert_eq!(form_decode("%25").as_deref(), Ok("%"));
        assert_eq!(form_decode("caf%C3%A9").as_deref(), Ok("caf\u{e9}"));
        assert_eq!(form_decode("").as_deref(), Ok(""));
        assert_eq!(form_decode("/svc/a=>/#/b;").as_deref(), Ok("/svc/a=>/#/b;"));
    }

    #[test]
    fn rejects_bad_escapes_with_position() {
        for (input, at) in [
            ("%", 0),
            ("a%2", 1),
            ("ab%zz", 2),
            ("%2F%g0", 3),
            ("%%41", 0),
        ] {
            match form_decode(input) {
                Err(QueryError::BadEscape { at: got, .. }) => assert_eq!(got, at, "{input}"),
                other => panic!("{input}: {other:?}"),
            }
        }
    }

    #[test]
    fn rejects_non_utf8() {
        assert!(matches!(
            form_decode("%C3%28"),
            Err(QueryError::NotUtf8 { .. })
        ));
        assert!(matches!(
            form_decode("%FF"),
            Err(QueryError::NotUtf8 { .. })
        ));
    }

    #[test]
    fn parses_pairs_first_value_wins() {
        let q =
            Query::parse("path=%2Fsvc%2Ffoo&dtab=%2Fsvc+%3D%3E+%2F%23%2Fio.l5d.fs&flag&&path=/x")
                .expect("valid");
        assert_eq!(q.get("path"), Some("/svc/foo"));
        assert_eq!(q.get("dtab"), Some("/svc => /#/io.l5d.fs"));
        assert_eq!(q.get("flag"), Some(""));
        assert_eq!(q.get("missing"), None);
        assert_eq!(q.get_any(&["n", "path"]), Some("/svc/foo"));
        assert_eq!(q.get_any(&["n", "d"]), None);
    }

    #[test]
    fn value_may_contain_equals_and_keys_decode_too() {
        let q = Query::parse("a%20b=x=y").expect("valid");
        assert_eq!(q.get("a b"), Some("x=y"));
    }

    #[test]
    fn error_in_any_component_fails_the_query() {
        let err = Query::parse("path=/ok&dtab=%zz").expect_err("bad");
        assert_eq!(
            err.to_string(),
            "malformed percent-encoding at byte 0 of query component \"%zz\""
        );
    }
}
