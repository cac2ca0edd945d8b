//! Source positions, and values that keep theirs.
//!
//! [`Spanned<String>`] carries a raw string from the config (a dtab, a `dstPrefix`) with the
//! position of the YAML scalar it came from, and can map a byte offset inside the string back
//! to a line and column in the file, also through multi-line block scalars (`|`, `>-`), so a
//! module that parses the string later (the dtab parser) can report its errors where they are
//! in the file. The mapping is line-based: each source line's text is found in the value in
//! order, so it is exact for literal, folded and plain scalars, and approximate only inside
//! quoted scalars that use escapes. This module does not parse the strings.

use serde::{Serialize, Serializer};

use super::yaml::Scalar;
use saphyr_parser::ScalarStyle;

/// A 1-based line and column (columns count characters), and which file of a layered config
/// (the base config, then each `--profile` in order) the line is in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Position {
    pub line: usize,
    pub col: usize,
    /// The file: 0 for the base config, `n` for the n-th profile layered over it (see
    /// [`super::Config::source_name`]). Not serialised.
    #[serde(skip)]
    pub source: usize,
}

impl Position {
    /// A position in the base config file.
    pub const fn new(line: usize, col: usize) -> Self {
        Self {
            line,
            col,
            source: 0,
        }
    }
}

/// A value and where it was written. Serialises as the bare value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    /// Where the value starts in the file (for a block scalar, its first content line).
    pub pos: Position,
    /// For strings: where each source line's text starts in `value` (byte offset, position).
    segments: Vec<(usize, Position)>,
}

impl<T: Serialize> Serialize for Spanned<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

impl<T> Spanned<T> {
    /// A value with a position and no line map (`locate` answers `pos`).
    pub fn new(value: T, pos: Position) -> Self {
        Self {
            value,
            pos,
            segments: Vec::new(),
        }
    }
}

impl Spanned<String> {
    /// Builds the line map for a scalar read from `source` at `pos`.
    pub(crate) fn from_scalar(scalar: &Scalar, pos: Position, source: &str) -> Self {
        let value = scalar.text.clone();
        let block = matches!(scalar.style, ScalarStyle::Literal | ScalarStyle::Folded);
        let mut segments = Vec::new();
        let mut cursor = 0usize;
        // The parser positions a block scalar at its first content line.
        let first_line = pos.line;
        let lines = source
            .lines()
            .enumerate()
            .skip(first_line.saturating_sub(1));
        for (idx, raw) in lines {
            if cursor >= value.len() {
                break;
            }
            let line_no = idx + 1;
            // On the scalar's own first line, its text starts at its column (after an opening
            // quote if quoted).
            let quoted = matches!(
                scalar.style,
                ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted
            );
            let start_char = if line_no == pos.line && !block {
                pos.col - 1 + usize::from(quoted)
            } else {
                0
            };
            let start_byte = raw
                .char_indices()
                .nth(start_char)
                .map_or(raw.len(), |(b, _)| b);
            let rest = &raw[start_byte..];
            let trimmed = rest.trim_start();
            let lead = rest.len() - trimmed.len();
            let mut text = trimmed.trim_end();
            if quoted && let Some(close) = text.rfind(['"', '\'']) {
                // Up to the closing quote; what follows it is not part of the value.
                text = &text[..close];
            }
            if text.is_empty() {
                continue;
            }
            let Some(found) = find_prefix(&value[cursor..], text) else {
                if block {
                    continue;
                }
                break;
            };
            let (offset, matched) = found;
            let col = raw[..start_byte + lead].chars().count() + 1;
            segments.push((
                cursor + offset,
                Position {
                    line: line_no,
                    col,
                    source: pos.source,
                },
            ));
            cursor += offset + matched;
        }
        Self {
            value,
            pos,
            segments,
        }
    }

    /// The file position of the byte at `offset` in the value (clamped to the value).
    pub fn locate(&self, offset: usize) -> Position {
        let offset = offset.min(self.value.len());
        let Some(&(seg_off, seg_pos)) = self.segments.iter().rev().find(|(o, _)| *o <= offset)
        else {
            return self.pos;
        };
        let chars = self
            .value
            .get(seg_off..offset)
            .map_or(0, |s| s.chars().count());
        Position {
            line: seg_pos.line,
            col: seg_pos.col + chars,
            source: seg_pos.source,
        }
    }
}

/// Finds the longest prefix of `text` (cut at whitespace, so a trailing `# comment` that is not
/// part of the value still lets the line be found) in `hay`; returns (offset, length matched).
fn find_prefix(hay: &str, text: &str) -> Option<(usize, usize)> {
    if let Some(i) = hay.find(text) {
        return Some((i, text.len()));
    }
    let mut cut = text.len();
    while let Some(space) = text[..cut].rfind(char::is_whitespace) {
        cut = space;
        let candidate = text[..cut].trim_end();
        if candidate.is_empty() {
            break;
        }
        if let Some(i) = hay.find(candidate) {
            return Some((i, candidate.len()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::yaml::{self, Value};
    use super::*;

    fn spanned(doc: &str) -> Spanned<String> {
        let root = yaml::parse(doc).unwrap().unwrap();
        let Value::Map(m) = root.value else { panic!() };
        let Value::Scalar(s) = &m[0].value.value else {
            panic!()
        };
        Spanned::from_scalar(s, m[0].value.pos, doc)
    }

    #[test]
    fn plain_single_line_maps_columns() {
        let s = spanned("dtab: /svc => /#/io.l5d.fs;\n");
        assert_eq!(s.pos, Position::new(1, 7));
        assert_eq!(s.locate(0), Position::new(1, 7));
        assert_eq!(s.locate(5), Position::new(1, 12));
    }

    #[test]
    fn literal_block_maps_each_line() {
        let doc = "dtab: |\n  /svc => /host;\n  /host => /#/io.l5d.fs;\n";
        let s = spanned(doc);
        let second = s.value.find("/host =>").unwrap();
        assert_eq!(s.locate(0), Position::new(2, 3));
        assert_eq!(s.locate(second), Position::new(3, 3));
        assert_eq!(s.locate(second + 9), Position::new(3, 12));
    }

    #[test]
    fn folded_block_with_comment_after_indicator_maps_lines() {
        let doc = "dtab: >- # route\n    /a => /b;\n    /svc        => /$/x/a;\n";
        let s = spanned(doc);
        assert_eq!(s.value, "/a => /b; /svc        => /$/x/a;");
        let at = s.value.find("/svc").unwrap();
        assert_eq!(s.locate(at), Position::new(3, 5));
        assert_eq!(s.locate(3), Position::new(2, 8));
    }

    #[test]
    fn double_quoted_starts_after_the_quote() {
        let s = spanned("p: \"/svc/x\"\n");
        assert_eq!(s.locate(1), Position::new(1, 6));
    }

    #[test]
    fn serialises_as_the_bare_value() {
        let s = Spanned::new("x".to_string(), Position::new(1, 1));
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"x\"");
    }
}
