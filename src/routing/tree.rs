//! Name trees: the right-hand side of a dentry and the result of binding.
//!
//! [`NameTree`] follows Finagle's `NameTree`: `Leaf`, `Alt` (fallback: the first non-negative
//! branch), `Union` (weighted: traffic split over branches), `Neg` (`~`, no such name here),
//! `Fail` (`!`, stop and fail) and `Empty` (`$`, exists but has no endpoints).
//! [`NameTree::simplified`] is Finagle's evaluation-preserving simplification; Display writes the
//! concrete syntax that [`NameTree::read`] parses back to an equal tree. Weights are printed
//! in full precision (Finagle rounds to two decimals) so the round trip is exact.
//!
//! Evaluation into routable weighted names lives in [`super::bind`]; this module only holds the
//! data type and its syntax.

use std::fmt;

use super::parse::{ParseError, Parser};
use super::path::Path;

/// A tree of names of type `T` (paths before binding, bound names after).
#[derive(Clone, Debug, PartialEq)]
pub enum NameTree<T> {
    /// A single name.
    Leaf(T),
    /// Fallback: the first branch that is not negative.
    Alt(Vec<NameTree<T>>),
    /// A weighted union: traffic is split over the branches by weight.
    Union(Vec<Weighted<T>>),
    /// A negative name (`~`): nothing here; fall back.
    Neg,
    /// A failing name (`!`): stop and fail; do not fall back.
    Fail,
    /// An empty name (`$`): it exists, with no endpoints.
    Empty,
}

/// A branch of a [`NameTree::Union`].
#[derive(Clone, Debug, PartialEq)]
pub struct Weighted<T> {
    /// The branch's weight (relative to its siblings).
    pub weight: f64,
    /// The branch.
    pub tree: NameTree<T>,
}

impl<T> Weighted<T> {
    /// The weight of a union branch written without `N *`.
    pub const DEFAULT_WEIGHT: f64 = 1.0;
}

impl NameTree<Path> {
    /// Parses a name tree, e.g. `/a | 0.7 * /b & 0.3 * (/c | ~)`.
    ///
    /// # Errors
    /// A [`ParseError`] with the byte offset of the first offending character.
    pub fn read(s: &str) -> Result<NameTree<Path>, ParseError> {
        Parser::new(s).parse_all_tree()
    }
}

impl NameTree<super::path::Path> {
    /// About how many bytes the paths of this tree's leaves hold.
    pub fn path_bytes(&self) -> usize {
        match self {
            NameTree::Leaf(p) => p.heap_bytes(),
            NameTree::Alt(trees) => trees.iter().map(NameTree::path_bytes).sum(),
            NameTree::Union(branches) => branches.iter().map(|w| w.tree.path_bytes()).sum(),
            NameTree::Neg | NameTree::Fail | NameTree::Empty => 0,
        }
    }
}

impl<T> NameTree<T> {
    /// Applies `f` to every leaf.
    pub fn map<U>(&self, f: &mut impl FnMut(&T) -> U) -> NameTree<U> {
        match self {
            NameTree::Leaf(t) => NameTree::Leaf(f(t)),
            NameTree::Alt(ts) => NameTree::Alt(ts.iter().map(|t| t.map(f)).collect()),
            NameTree::Union(ws) => NameTree::Union(
                ws.iter()
                    .map(|w| Weighted {
                        weight: w.weight,
                        tree: w.tree.map(f),
                    })
                    .collect(),
            ),
            NameTree::Neg => NameTree::Neg,
            NameTree::Fail => NameTree::Fail,
            NameTree::Empty => NameTree::Empty,
        }
    }
}

impl<T: Clone> NameTree<T> {
    /// Finagle's simplification: an evaluation-equivalent tree that is a fixpoint
    /// (`t.simplified().simplified() == t.simplified()`).
    ///
    /// Alternations drop negative branches and stop after a failing one; unions drop failing
    /// and negative branches; empty or single-branch alternations and unions collapse.
    pub fn simplified(&self) -> NameTree<T> {
        match self {
            NameTree::Alt(trees) => {
                let mut out = Vec::with_capacity(trees.len());
                for t in trees {
                    match t.simplified() {
                        NameTree::Neg => {}
                        NameTree::Fail => {
                            out.push(NameTree::Fail);
                            break;
                        }
                        other => out.push(other),
                    }
                }
                match out.len() {
                    0 => NameTree::Neg,
                    1 => out.pop().unwrap_or(NameTree::Neg),
                    _ => NameTree::Alt(out),
                }
            }
            NameTree::Union(branches) => {
                let mut out = Vec::with_capacity(branches.len());
                for w in branches {
                    match w.tree.simplified() {
                        NameTree::Neg | NameTree::Fail => {}
                        tree => out.push(Weighted {
                            weight: w.weight,
                            tree,
                        }),
                    }
                }
                match out.len() {
                    0 => NameTree::Neg,
                    1 => out.pop().map_or(NameTree::Neg, |w| w.tree),
                    _ => NameTree::Union(out),
                }
            }
            other => other.clone(),
        }
    }
}

/// A single-child Alt or Union shows as its child, as in Finagle.
fn unwrap_single<T>(tree: &NameTree<T>) -> &NameTree<T> {
    let mut t = tree;
    loop {
        match t {
            NameTree::Alt(ts) if ts.len() == 1 => t = &ts[0],
            NameTree::Union(ws) if ws.len() == 1 => t = &ws[0].tree,
            _ => return t,
        }
    }
}

/// Top level: an alternation needs no parentheses.
fn show<T: fmt::Display>(f: &mut fmt::Formatter<'_>, tree: &NameTree<T>) -> fmt::Result {
    match unwrap_single(tree) {
        NameTree::Alt(ts) if !ts.is_empty() => {
            for (i, t) in ts.iter().enumerate() {
                if i > 0 {
                    f.write_str(" | ")?;
                }
                show_alt_branch(f, t)?;
            }
            Ok(())
        }
        t => show_alt_branch(f, t),
    }
}

/// Inside an alternation: a union needs no parentheses (`&` binds tighter than `|`).
fn show_alt_branch<T: fmt::Display>(f: &mut fmt::Formatter<'_>, tree: &NameTree<T>) -> fmt::Result {
    match unwrap_single(tree) {
        NameTree::Union(ws) if !ws.is_empty() => {
            for (i, w) in ws.iter().enumerate() {
                if i > 0 {
                    f.write_str(" & ")?;
                }
                if w.weight != Weighted::<T>::DEFAULT_WEIGHT {
                    write!(f, "{}*", w.weight)?;
                }
                show_simple(f, &w.tree)?;
            }
            Ok(())
        }
        t => show_simple(f, t),
    }
}

fn show_simple<T: fmt::Display>(f: &mut fmt::Formatter<'_>, tree: &NameTree<T>) -> fmt::Result {
    match unwrap_single(tree) {
        NameTree::Leaf(t) => write!(f, "{t}"),
        NameTree::Fail => f.write_str("!"),
        // An empty Alt or Union evaluates negative.
        NameTree::Neg => f.write_str("~"),
        NameTree::Alt(ts) if ts.is_empty() => f.write_str("~"),
        NameTree::Union(ws) if ws.is_empty() => f.write_str("~"),
        NameTree::Empty => f.write_str("$"),
        t @ (NameTree::Alt(_) | NameTree::Union(_)) => {
            f.write_str("(")?;
            show(f, t)?;
            f.write_str(")")
        }
    }
}

impl<T: fmt::Display> fmt::Display for NameTree<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        show(f, self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NameTree<Path> {
        NameTree::read(s).unwrap()
    }
    fn leaf(s: &str) -> NameTree<Path> {
        NameTree::Leaf(Path::read(s).unwrap())
    }
    fn w(weight: f64, tree: NameTree<Path>) -> Weighted<Path> {
        Weighted { weight, tree }
    }

    #[test]
    fn parses_finagle_doc_example() {
        // From Finagle's NameTree.read documentation.
        assert_eq!(
            t("/foo & /bar | /baz | $"),
            NameTree::Alt(vec![
                NameTree::Union(vec![w(1.0, leaf("/foo")), w(1.0, leaf("/bar"))]),
                leaf("/baz"),
                NameTree::Empty,
            ])
        );
    }

    #[test]
    fn parses_weights_and_precedence() {
        assert_eq!(
            t("0.7 * /a & 0.3*/b"),
            NameTree::Union(vec![w(0.7, leaf("/a")), w(0.3, leaf("/b"))])
        );
        assert_eq!(
            t("/a | 2 * (/b | ~) & .5*!"),
            NameTree::Alt(vec![
                leaf("/a"),
                NameTree::Union(vec![
                    w(2.0, NameTree::Alt(vec![leaf("/b"), NameTree::Neg])),
                    w(0.5, NameTree::Fail)
                ]),
            ])
        );
        // A lone weighted tree is just the tree, as in Finagle.
        assert_eq!(t("3 * /a"), leaf("/a"));
        assert_eq!(
            t("1. * /a & /b"),
            NameTree::Union(vec![w(1.0, leaf("/a")), w(1.0, leaf("/b"))])
        );
        assert_eq!(t("( /a )"), leaf("/a"));
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "/a",
            "/",
            "!",
            "~",
            "$",
            "/a | /b | /c",
            "0.7*/a & 0.3*/b",
            "/a & (/b | /c) | !",
            "(/a | /b) & /c",
            "/a | (/b | /c)",
            "/a & (/b & /c)",
            "0.1*(0.2*/x & /y) & $ | ~",
            "0.000001*/a & 1000000000000000000000*/b",
        ] {
            let tree = t(s);
            assert_eq!(tree.to_string(), s, "display of {s}");
            assert_eq!(t(&tree.to_string()), tree);
        }
        assert_eq!(t("0.70 * /a & 1.0 * /b").to_string(), "0.7*/a & /b");
    }

    #[test]
    fn rejects_malformed_trees() {
        for (input, offset) in [
            ("", 0),
            ("/a |", 4),
            ("/a &", 4),
            ("(/a", 3),
            ("/a)", 2),
            ("0.5 /a", 4),
            ("1..2 * /a", 2),
            (". * /a", 0),
            ("/a /b", 3),
            ("?", 0),
            ("-1 * /a", 0),
        ] {
            let err = NameTree::read(input).unwrap_err();
            assert_eq!(err.offset, offset, "{input:?}: {err}");
        }
        let huge = format!("{} * /a & /b", "9".repeat(400));
        assert!(
            NameTree::read(&huge)
                .unwrap_err()
                .message
                .contains("out of range")
        );
        let deep = format!("{}/a{}", "(".repeat(100), ")".repeat(100));
        assert!(
            NameTree::read(&deep)
                .unwrap_err()
                .message
                .contains("nested")
        );
        let ok = format!("{}/a{}", "(".repeat(16), ")".repeat(16));
        assert_eq!(t(&ok), leaf("/a"));
    }

    #[test]
    fn simplification_follows_finagle() {
        let s = |x: &str| t(x).simplified();
        assert_eq!(s("~ | /a | /b"), t("/a | /b"));
        assert_eq!(s("~ | ~"), NameTree::Neg);
        assert_eq!(s("/a | ! | /b"), t("/a | !"));
        assert_eq!(s("! | /b"), NameTree::Fail);
        assert_eq!(s("/a & ~ & !"), leaf("/a"));
        assert_eq!(s("~ & !"), NameTree::Neg);
        // Empty stays in a union (it receives its share of traffic).
        assert_eq!(s("/a & $"), t("/a & $"));
        assert_eq!(s("(~ | /a) & (/b | ~)"), t("/a & /b"));
        let x = t("(~ | (/a & ~)) | (! & ~) | $");
        assert_eq!(x.simplified().simplified(), x.simplified());
    }
}
