//! Hierarchical names: [`Path`], a sequence of non-empty byte-string segments.
//!
//! The concrete syntax is Finagle's: `/` alone is the empty path, otherwise `/label/label...`
//! where a label is one or more of `0-9 A-Z a-z _ : . # $ % -` or `\xNN` escapes. Display
//! writes a label as-is when every byte is one of those characters and otherwise escapes every
//! byte of that label, so `Path::read(&p.to_string()) == Ok(p)` always holds.
//!
//! This module does not percent-decode, normalise case, or interpret segments (`/$/inet/...`
//! is interpreted by [`super::bind`]).

use std::fmt;

use super::parse::{ParseError, Parser};

/// A path: zero or more non-empty segments, stored in one buffer.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Path {
    /// The bytes of every segment, back to back.
    bytes: Vec<u8>,
    /// The end offset of each segment in `bytes`.
    ends: Vec<usize>,
}

/// True for the bytes Finagle shows unescaped in a path label (DNS label characters plus
/// `_ : . # $ %`).
pub fn is_showable(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b':' | b'.' | b'#' | b'$' | b'%' | b'-')
}

impl Path {
    /// The empty path, written `/`.
    pub fn empty() -> Path {
        Path::default()
    }

    /// Builds a path from segments; `None` when any segment is empty.
    pub fn from_segments<I, S>(segments: I) -> Option<Path>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        let mut path = Path::empty();
        for s in segments {
            if !path.try_push(s.as_ref()) {
                return None;
            }
        }
        Some(path)
    }

    /// Parses the concrete syntax (`/`, `/a/b`, `/a\x2fb`); whitespace and `#` comments around
    /// the path are allowed, as in Finagle.
    ///
    /// # Errors
    /// A [`ParseError`] with the byte offset of the first offending character.
    pub fn read(s: &str) -> Result<Path, ParseError> {
        Parser::new(s).parse_all_path()
    }

    /// Appends a segment; returns false (and changes nothing) when `segment` is empty.
    pub fn try_push(&mut self, segment: &[u8]) -> bool {
        if segment.is_empty() {
            return false;
        }
        self.bytes.extend_from_slice(segment);
        self.ends.push(self.bytes.len());
        true
    }

    /// About how many bytes of memory this path holds (its text and segment offsets).
    pub fn heap_bytes(&self) -> usize {
        self.bytes.len() + self.ends.len() * std::mem::size_of::<usize>()
    }

    /// The number of segments.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True for the empty path `/`.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Segment `i`, if there is one.
    pub fn segment(&self, i: usize) -> Option<&[u8]> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { *self.ends.get(i - 1)? };
        self.bytes.get(start..end)
    }

    /// Segment `i` as UTF-8 text, if there is one and it is valid UTF-8.
    pub fn segment_str(&self, i: usize) -> Option<&str> {
        std::str::from_utf8(self.segment(i)?).ok()
    }

    /// The segments in order.
    pub fn segments(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        (0..self.len()).map(move |i| self.segment(i).unwrap_or_default())
    }

    /// True when `prefix`'s segments are the first segments of `self` (whole segments only:
    /// `/s` is a prefix of `/s/x`, not of `/sx`).
    pub fn starts_with(&self, prefix: &Path) -> bool {
        prefix.len() <= self.len() && prefix.segments().zip(self.segments()).all(|(a, b)| a == b)
    }

    /// The first `n` segments (all of them when `n` is larger).
    pub fn take(&self, n: usize) -> Path {
        let n = n.min(self.len());
        if n == 0 {
            return Path::empty();
        }
        let end = self.ends[n - 1];
        Path {
            bytes: self.bytes[..end].to_vec(),
            ends: self.ends[..n].to_vec(),
        }
    }

    /// Everything after the first `n` segments (empty when `n` is larger).
    pub fn drop(&self, n: usize) -> Path {
        let n = n.min(self.len());
        if n == 0 {
            return self.clone();
        }
        let start = self.ends[n - 1];
        Path {
            bytes: self.bytes[start..].to_vec(),
            ends: self.ends[n..].iter().map(|e| e - start).collect(),
        }
    }

    /// This path with `segments` appended, built in one allocation per buffer; `None` when a
    /// segment is empty.
    pub fn with_segments(&self, segments: &[&[u8]]) -> Option<Path> {
        let extra: usize = segments.iter().map(|s| s.len()).sum();
        let mut out = Path {
            bytes: Vec::with_capacity(self.bytes.len() + extra),
            ends: Vec::with_capacity(self.len() + segments.len()),
        };
        out.bytes.extend_from_slice(&self.bytes);
        out.ends.extend_from_slice(&self.ends);
        for s in segments {
            if !out.try_push(s) {
                return None;
            }
        }
        Some(out)
    }

    /// `self` followed by `other`.
    pub fn concat(&self, other: &Path) -> Path {
        let mut out = Path {
            bytes: Vec::with_capacity(self.bytes.len() + other.bytes.len()),
            ends: Vec::with_capacity(self.len() + other.len()),
        };
        out.bytes.extend_from_slice(&self.bytes);
        out.ends.extend_from_slice(&self.ends);
        let base = self.bytes.len();
        out.bytes.extend_from_slice(&other.bytes);
        out.ends.extend(other.ends.iter().map(|e| e + base));
        out
    }

    /// True when segment `i` equals `s`.
    pub fn segment_is(&self, i: usize, s: &str) -> bool {
        self.segment(i) == Some(s.as_bytes())
    }
}

/// Writes one label in Finagle's shown form.
pub(crate) fn write_label(f: &mut impl fmt::Write, label: &[u8]) -> fmt::Result {
    if label.iter().all(|&b| is_showable(b)) {
        // All showable bytes are ASCII, so this is valid UTF-8.
        for &b in label {
            f.write_char(char::from(b))?;
        }
        Ok(())
    } else {
        for &b in label {
            write!(f, "\\x{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("/");
        }
        for seg in self.segments() {
            f.write_str("/")?;
            write_label(f, seg)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Path({self})")
    }
}

impl serde::Serialize for Path {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Path {
        Path::read(s).unwrap()
    }

    #[test]
    fn reads_and_shows() {
        assert_eq!(p("/"), Path::empty());
        assert_eq!(p("/foo/bar").len(), 2);
        assert_eq!(p("/foo/bar").segment(1), Some(&b"bar"[..]));
        assert_eq!(p("/#/io.l5d.fs/users").to_string(), "/#/io.l5d.fs/users");
        assert_eq!(p("/$/inet/127.0.0.1/8080").segment_str(3), Some("8080"));
        assert_eq!(p("  /a/b  # trailing comment").to_string(), "/a/b");
        assert_eq!(p("/host:8080").to_string(), "/host:8080");
    }

    #[test]
    fn with_segments_appends_like_concat() {
        let base = p("/svc");
        assert_eq!(base.with_segments(&[b"web", b"x"]), Some(p("/svc/web/x")));
        assert_eq!(base.with_segments(&[b"web"]), Some(base.concat(&p("/web"))));
        assert_eq!(base.with_segments(&[]), Some(base.clone()));
        assert_eq!(base.with_segments(&[b"web", b""]), None);
    }

    #[test]
    fn escapes_round_trip() {
        let path = p(r"/a\x2fb/c");
        assert_eq!(path.segment(0), Some(&b"a/b"[..]));
        // A label with any non-showable byte is escaped byte by byte.
        assert_eq!(path.to_string(), r"/\x61\x2f\x62/c");
        assert_eq!(p(&path.to_string()), path);
        let odd = Path::from_segments([&b"sp ace"[..], b"\xff", b"*"]).unwrap();
        assert_eq!(p(&odd.to_string()), odd);
        assert_eq!(p(r"/\x41"), p("/A"));
    }

    #[test]
    fn rejects_malformed() {
        for (input, offset) in [
            ("", 0),
            ("foo", 0),
            ("/foo/", 5),
            ("//", 1),
            ("/a b", 3),
            (r"/a\x4", 5),
            (r"/a\y41", 3),
            ("/é", 1),
            ("/a/*", 3),
        ] {
            let err = Path::read(input).unwrap_err();
            assert_eq!(err.offset, offset, "{input:?}: {err}");
        }
    }

    #[test]
    fn segment_operations() {
        let path = p("/s/crawler/x");
        assert!(path.starts_with(&p("/s")));
        assert!(path.starts_with(&Path::empty()));
        assert!(!p("/sx/crawler").starts_with(&p("/s")));
        assert!(!p("/s").starts_with(&path));
        assert_eq!(path.take(2), p("/s/crawler"));
        assert_eq!(path.take(9), path);
        assert_eq!(path.drop(1), p("/crawler/x"));
        assert_eq!(path.drop(3), Path::empty());
        assert_eq!(path.drop(7), Path::empty());
        assert_eq!(p("/a").concat(&p("/b/c")), p("/a/b/c"));
        assert_eq!(Path::empty().concat(&p("/b")), p("/b"));
        assert_eq!(Path::from_segments(["a", ""]), None);
        assert!(!Path::empty().try_push(b""));
    }
}
