//! Config diagnostics: what `hawser check` prints, one per problem, as `file:line:col: message`.
//!
//! A diagnostic is either an [`Severity::Error`] (the file is not a valid linkerd 1.x config, or a
//! value is wrong) or [`Severity::Unsupported`] (valid linkerd 1.x, but a feature hawser does not
//! have yet). This module also holds the "did you mean" suggestion used for misspelt keys and
//! kinds. It does not decide what is valid; the validators do.

use std::fmt;

use serde::Serialize;

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Severity {
    /// A key or kind linkerd 1.x has that hawser does not support yet. The config is valid
    /// linkerd 1.x, but hawser cannot run it as written.
    Unsupported,
    /// The config is invalid: a YAML syntax error, a key linkerd does not have either, a value
    /// of the wrong type or out of range.
    Error,
}

/// One problem found in a config file, with the position of the key or value it is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The file name as given to the loader.
    pub file: String,
    /// 1-based line; 0 when the problem is about the whole file (it could not be read).
    pub line: usize,
    /// 1-based column, in characters; 0 when `line` is 0.
    pub col: usize,
    /// Where in the config tree, e.g. `routers[0].client.loadBalancer.kind`; empty for the
    /// document itself.
    pub key_path: String,
    /// What is wrong, in words, naming the key or value.
    pub message: String,
    /// Invalid, or valid linkerd 1.x that hawser does not support yet.
    pub severity: Severity,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.col, self.message
            )
        }
    }
}

/// The closest candidate to `word`, if it is close enough to be a likely misspelling: equal
/// ignoring case, or within an edit distance of about a third of its length (at least 1, at
/// most 3).
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).clamp(1, 3);
    let lower = word.to_ascii_lowercase();
    let mut best: Option<(usize, &'a str)> = None;
    for cand in candidates {
        let d = if cand.to_ascii_lowercase() == lower {
            0
        } else {
            edit_distance(word, cand)
        };
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, cand));
        }
    }
    best.map(|(_, c)| c)
}

/// Edit distance in characters counting insertions, deletions, substitutions and swaps of two
/// neighbours (optimal string alignment), so `prot` is one edit from `port`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // d[i][j]: distance between a[..i] and b[..j].
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("port", "port"), 0);
        assert_eq!(edit_distance("prot", "port"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("dtabs", "dtab"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn suggestions_are_close_or_absent() {
        let keys = ["dtab", "dstPrefix", "label", "servers"];
        assert_eq!(did_you_mean("dtabs", keys), Some("dtab"));
        assert_eq!(did_you_mean("server", keys), Some("servers"));
        assert_eq!(did_you_mean("DSTPREFIX", keys), Some("dstPrefix"));
        assert_eq!(did_you_mean("bananas", keys), None);
    }

    #[test]
    fn display_is_file_line_col_message() {
        let d = Diagnostic {
            file: "l5d.yaml".into(),
            line: 3,
            col: 5,
            key_path: "admin.prot".into(),
            message: "unknown key `prot` in admin".into(),
            severity: Severity::Error,
        };
        assert_eq!(d.to_string(), "l5d.yaml:3:5: unknown key `prot` in admin");
    }
}
