//! Delegation tables: [`Dtab`], [`Dentry`] and [`Prefix`], with Finagle's syntax and lookup.
//!
//! A dtab is an ordered list of dentries `prefix => tree`. [`Dtab::lookup`] rewrites a path with
//! every dentry whose prefix matches it (`*` matches any one segment), appending the residual
//! to each leaf of the dentry's tree; the *latest* dentry comes first and the results are
//! combined as an alternation, so earlier dentries are fallbacks. Display writes Finagle's
//! compact form (`/a=>/b;/c=>/d`), which is also what goes into `l5d-ctx-dtab`.
//!
//! This module does not bind (follow rewrites to namers): see [`super::bind`].

use std::fmt;

use super::parse::{ParseError, Parser};
use super::path::{Path, write_label};
use super::tree::NameTree;

/// One element of a dentry prefix.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PrefixElem {
    /// Matches exactly this (non-empty) segment.
    Label(Box<[u8]>),
    /// `*`: matches any one segment.
    Any,
}

/// The left-hand side of a dentry: a path pattern.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Prefix {
    elems: Vec<PrefixElem>,
}

impl Prefix {
    /// A prefix from its elements (labels must be non-empty; empty labels never match).
    pub fn new(elems: Vec<PrefixElem>) -> Prefix {
        Prefix { elems }
    }

    /// Parses a prefix such as `/svc/*/users`.
    ///
    /// # Errors
    /// A [`ParseError`] with the byte offset of the first offending character.
    pub fn read(s: &str) -> Result<Prefix, ParseError> {
        Parser::new(s).parse_all_prefix()
    }

    /// The number of elements (segments matched).
    pub fn len(&self) -> usize {
        self.elems.len()
    }

    /// True for `/`, which matches every path.
    pub fn is_empty(&self) -> bool {
        self.elems.is_empty()
    }

    /// The elements.
    pub fn elems(&self) -> &[PrefixElem] {
        &self.elems
    }

    /// True when the first segments of `path` match this prefix.
    pub fn matches(&self, path: &Path) -> bool {
        self.len() <= path.len()
            && self
                .elems
                .iter()
                .zip(path.segments())
                .all(|(e, seg)| match e {
                    PrefixElem::Any => true,
                    PrefixElem::Label(l) => **l == *seg,
                })
    }
}

impl From<&Path> for Prefix {
    fn from(path: &Path) -> Prefix {
        Prefix {
            elems: path
                .segments()
                .map(|s| PrefixElem::Label(s.into()))
                .collect(),
        }
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.elems.is_empty() {
            return f.write_str("/");
        }
        for e in &self.elems {
            f.write_str("/")?;
            match e {
                PrefixElem::Any => f.write_str("*")?,
                PrefixElem::Label(l) => write_label(f, l)?,
            }
        }
        Ok(())
    }
}

/// A delegation rule `prefix => dst`.
#[derive(Clone, Debug, PartialEq)]
pub struct Dentry {
    /// The paths this rule applies to.
    pub prefix: Prefix,
    /// What a matching prefix is replaced with.
    pub dst: NameTree<Path>,
}

impl Dentry {
    /// Parses one dentry, e.g. `/svc => /#/io.l5d.fs`.
    ///
    /// # Errors
    /// A [`ParseError`] with the byte offset of the first offending character.
    pub fn read(s: &str) -> Result<Dentry, ParseError> {
        Parser::new(s).parse_all_dentry()
    }
}

impl fmt::Display for Dentry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}=>{}", self.prefix, self.dst)
    }
}

/// Serialised as linkerd's delegator does: `{"prefix": "/svc", "dst": "/#/io.l5d.fs"}`.
impl serde::Serialize for Dentry {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Dentry", 2)?;
        st.serialize_field("prefix", &self.prefix.to_string())?;
        st.serialize_field("dst", &self.dst.to_string())?;
        st.end()
    }
}

/// A delegation table: dentries in order (later ones take precedence).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dtab {
    dentries: Vec<Dentry>,
}

impl Dtab {
    /// A dtab from dentries in order.
    pub fn new(dentries: Vec<Dentry>) -> Dtab {
        Dtab { dentries }
    }

    /// The empty dtab.
    pub fn empty() -> Dtab {
        Dtab::default()
    }

    /// Parses a dtab: dentries separated by `;` (a trailing `;` is allowed), with whitespace
    /// and `#` comments anywhere between tokens. The empty string is the empty dtab.
    ///
    /// # Errors
    /// A [`ParseError`] with the byte offset of the first offending character.
    pub fn read(s: &str) -> Result<Dtab, ParseError> {
        Parser::new(s).parse_all_dtab()
    }

    /// The dentries in order.
    pub fn dentries(&self) -> &[Dentry] {
        &self.dentries
    }

    /// The number of dentries.
    pub fn len(&self) -> usize {
        self.dentries.len()
    }

    /// True when there are no dentries.
    pub fn is_empty(&self) -> bool {
        self.dentries.is_empty()
    }

    /// `self` followed by `other` (so `other`'s dentries take precedence), like Finagle's `++`.
    pub fn concat(&self, other: &Dtab) -> Dtab {
        let mut dentries = Vec::with_capacity(self.len() + other.len());
        dentries.extend_from_slice(&self.dentries);
        dentries.extend_from_slice(&other.dentries);
        Dtab { dentries }
    }

    /// Appends one dentry.
    pub fn push(&mut self, dentry: Dentry) {
        self.dentries.push(dentry);
    }

    /// Rewrites `path` with every matching dentry, latest first: `Neg` when none matches, the
    /// single rewritten tree when one does, otherwise an `Alt` of them.
    pub fn lookup(&self, path: &Path) -> NameTree<Path> {
        let mut matches: Vec<NameTree<Path>> = self
            .dentries
            .iter()
            .rev()
            .filter(|d| d.prefix.matches(path))
            .map(|d| {
                let residual = path.drop(d.prefix.len());
                d.dst.map(&mut |pfx: &Path| pfx.concat(&residual))
            })
            .collect();
        match matches.len() {
            0 => NameTree::Neg,
            1 => matches.pop().unwrap_or(NameTree::Neg),
            _ => NameTree::Alt(matches),
        }
    }
}

impl fmt::Display for Dtab {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.dentries.iter().enumerate() {
            if i > 0 {
                f.write_str(";")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// Parses the values of per-request dtab headers (`l5d-ctx-dtab`, `l5d-dtab`), each a dtab,
/// and concatenates them in order. Call it with the `l5d-ctx-dtab` values first and the
/// `l5d-dtab` values after them, as linkerd does (`base ++ ctx ++ user`).
///
/// # Errors
/// The first value that is not UTF-8 or not a dtab; the offset is within that value and the
/// message names which value (0-based) it was.
pub fn parse_header_dtab<'a>(values: impl Iterator<Item = &'a [u8]>) -> Result<Dtab, ParseError> {
    let mut dtab = Dtab::empty();
    for (i, value) in values.enumerate() {
        let text = std::str::from_utf8(value).map_err(|e| ParseError {
            offset: e.valid_up_to(),
            message: format!("dtab header value {i}: invalid UTF-8"),
        })?;
        let parsed = Dtab::read(text).map_err(|e| ParseError {
            offset: e.offset,
            message: format!("dtab header value {i}: {}", e.message),
        })?;
        dtab.dentries.extend(parsed.dentries);
    }
    Ok(dtab)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Dtab {
        Dtab::read(s).unwrap()
    }
    fn p(s: &str) -> Path {
        Path::read(s).unwrap()
    }
    fn t(s: &str) -> NameTree<Path> {
        NameTree::read(s).unwrap()
    }

    #[test]
    fn reads_with_comments_and_trailing_semicolon() {
        let dtab = d("
            # the router dtab
            /svc      => /#/io.l5d.fs ;   # files
            /svc/*/v2 => /srv/v2 | ~;
        ");
        assert_eq!(dtab.len(), 2);
        assert_eq!(
            dtab.to_string(),
            "/svc=>/#/io.l5d.fs;/svc/*/v2=>/srv/v2 | ~"
        );
        assert_eq!(d(&dtab.to_string()), dtab);
        assert_eq!(d(""), Dtab::empty());
        assert_eq!(d("  # only a comment\n"), Dtab::empty());
        assert_eq!(d("/=>!").lookup(&p("/anything")), NameTree::Fail);
    }

    #[test]
    fn rejects_malformed_dtabs() {
        for (input, offset) in [
            (";", 0),
            ("/a=>/b;;/c=>/d", 7),
            ("/a => /b /c=>/d", 9),
            ("/a = > /b", 4),
            ("/a =>", 5),
            ("a => /b", 0),
            ("/a/** => /b", 4),
            ("/a => /b; junk", 10),
        ] {
            let err = Dtab::read(input).unwrap_err();
            assert_eq!(err.offset, offset, "{input:?}: {err}");
        }
    }

    #[test]
    fn lookup_latest_first_with_residual() {
        let dtab = d("/s => /a; /s => /b; /s/x => /c; /t => /d");
        assert_eq!(dtab.lookup(&p("/s/x/y")), t("/c/y | /b/x/y | /a/x/y"));
        assert_eq!(dtab.lookup(&p("/s")), t("/b | /a"));
        assert_eq!(dtab.lookup(&p("/t/1")), t("/d/1"));
        assert_eq!(dtab.lookup(&p("/u")), NameTree::Neg);
        // Whole segments only.
        assert_eq!(dtab.lookup(&p("/sx")), NameTree::Neg);
    }

    #[test]
    fn lookup_appends_residual_to_every_leaf() {
        let dtab = d("/svc => 0.7*/a & 0.3*(/b | ~) | !");
        assert_eq!(
            dtab.lookup(&p("/svc/users")),
            t("0.7*/a/users & 0.3*(/b/users | ~) | !")
        );
    }

    #[test]
    fn wildcards_match_one_segment() {
        let dtab = d("/svc/*/users => /v1; /svc/* => /any");
        assert_eq!(
            dtab.lookup(&p("/svc/prod/users/1")),
            t("/any/users/1 | /v1/1")
        );
        assert_eq!(dtab.lookup(&p("/svc/prod")), t("/any"));
        assert_eq!(dtab.lookup(&p("/svc")), NameTree::Neg);
        assert_eq!(Prefix::read("/a/*/b").unwrap().to_string(), "/a/*/b");
    }

    #[test]
    fn concat_puts_request_dtab_last() {
        let base = d("/svc => /#/io.l5d.fs");
        let local = d("/svc/users => /$/inet/127.0.0.1/9000");
        let all = base.concat(&local);
        assert_eq!(
            all.to_string(),
            "/svc=>/#/io.l5d.fs;/svc/users=>/$/inet/127.0.0.1/9000"
        );
        assert_eq!(
            all.lookup(&p("/svc/users")),
            t("/$/inet/127.0.0.1/9000 | /#/io.l5d.fs/users")
        );
    }

    #[test]
    fn header_dtabs_concatenate_in_order() {
        // linkerd: ctx first, then the user's l5d-dtab.
        let dtab = parse_header_dtab([&b"/a => /c"[..], b"/a=>/d;", b" "].into_iter()).unwrap();
        assert_eq!(dtab, d("/a=>/c;/a=>/d"));
        let err = parse_header_dtab([&b"/a=>/b"[..], b"i am not a dtab"].into_iter()).unwrap_err();
        assert_eq!(err.offset, 0);
        assert!(err.message.starts_with("dtab header value 1:"), "{err}");
        let err = parse_header_dtab([&b"/a=>/\xff"[..]].into_iter()).unwrap_err();
        assert_eq!(err.offset, 5);
        assert_eq!(
            parse_header_dtab(std::iter::empty()).unwrap(),
            Dtab::empty()
        );
    }

    #[test]
    fn dentry_serialises_like_linkerd() {
        let dentry = Dentry::read("/foo => /bah | /beh | /$/fail").unwrap();
        assert_eq!(
            serde_json::to_string(&dentry).unwrap(),
            r#"{"prefix":"/foo","dst":"/bah | /beh | /$/fail"}"#
        );
    }
}
