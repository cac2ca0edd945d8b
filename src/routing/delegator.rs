//! The delegator: explains a binding step by step, in the JSON shape of linkerd's
//! `/delegator.json` (`DelegateApiHandler`).
//!
//! Unlike [`super::bind`], which stops at the first usable alternative, the delegator follows
//! *every* branch (linkerd's `ConfiguredNamersInterpreter.delegate`) and records, at each step,
//! the path looked up and the dentry that produced it. A failure inside an alternation or
//! union branch becomes an `exception` node there instead of failing the whole answer. The
//! tree is then simplified as linkerd does (a delegation that did not change the path is
//! collapsed; nested alternations over the same path are flattened).
//!
//! Addresses are not known here: leaves carry the bound name and an optional address the
//! caller fills in ([`DelegateTree::for_each_bound_mut`]) from its namer snapshot.

use std::sync::Arc;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::bind::{BindError, BindLimits, Bound, Budget, NamerLookup, Terminal, lookup_terminal};
use super::dtab::{Dentry, Dtab};
use super::path::Path;
use super::tree::NameTree;

/// One step of an explained binding. `T` is the leaf value: a [`DelegateBound`] in results.
#[derive(Clone, Debug, PartialEq)]
pub enum DelegateTree<T = DelegateBound> {
    /// Looking up `path` failed with `message`.
    Exception {
        /// The path being looked up.
        path: Path,
        /// The dentry that produced it (`None` at the top).
        dentry: Option<Arc<Dentry>>,
        /// The error.
        message: String,
    },
    /// The path is empty (`$`, `/$/nil`).
    Empty {
        /// The path.
        path: Path,
        /// The dentry that produced it.
        dentry: Option<Arc<Dentry>>,
    },
    /// The path fails (`!`, `/$/fail`).
    Fail {
        /// The path (shown as `!` unless it is a `/$/fail` path).
        path: Path,
        /// The dentry that produced it.
        dentry: Option<Arc<Dentry>>,
    },
    /// Nothing binds the path (an empty path is shown as `~`).
    Neg {
        /// The path.
        path: Path,
        /// The dentry that produced it.
        dentry: Option<Arc<Dentry>>,
    },
    /// `path` was rewritten into `tree`.
    Delegate {
        /// The path.
        path: Path,
        /// The dentry that produced it.
        dentry: Option<Arc<Dentry>>,
        /// What it was rewritten to.
        tree: Box<DelegateTree<T>>,
    },
    /// `path` bound to a concrete name.
    Leaf {
        /// The path.
        path: Path,
        /// The dentry that produced it.
        dentry: Option<Arc<Dentry>>,
        /// The bound name.
        value: T,
    },
    /// Alternatives for `path`, in the order they are tried.
    Alt {
        /// The path.
        path: Path,
        /// The dentry that produced it.
        dentry: Option<Arc<Dentry>>,
        /// The alternatives.
        trees: Vec<DelegateTree<T>>,
    },
    /// A weighted union for `path`.
    Union {
        /// The path.
        path: Path,
        /// The dentry that produced it.
        dentry: Option<Arc<Dentry>>,
        /// The weighted branches.
        trees: Vec<(f64, DelegateTree<T>)>,
    },
}

/// A bound leaf of a delegation: the concrete name and, if the caller knows it, its address.
#[derive(Clone, Debug, PartialEq)]
pub struct DelegateBound {
    /// The concrete name and residual.
    pub bound: Bound,
    /// The address set behind it, filled in by the caller.
    pub addr: Option<DelegateAddr>,
}

/// The state of a bound name's address set, as linkerd's delegator reports it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum DelegateAddr {
    /// Endpoints are known.
    Bound {
        /// The endpoints.
        addrs: Vec<DelegateAddress>,
        /// Metadata of the set.
        meta: serde_json::Map<String, serde_json::Value>,
    },
    /// Resolution failed.
    Failed {
        /// Why.
        cause: String,
    },
    /// The namer says there is no such name.
    Neg,
    /// Not resolved yet.
    Pending,
}

/// One endpoint in a [`DelegateAddr::Bound`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DelegateAddress {
    /// IP address, as text.
    pub ip: String,
    /// Port.
    pub port: u16,
    /// Endpoint metadata (omitted when empty).
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub meta: serde_json::Map<String, serde_json::Value>,
}

/// A leaf value before binding: a path still to look up, or a bound name.
#[derive(Clone, Debug, PartialEq)]
enum Name {
    Path(Path),
    Bound(Bound),
}

impl<T> DelegateTree<T> {
    /// The path of this step.
    pub fn path(&self) -> &Path {
        match self {
            DelegateTree::Exception { path, .. }
            | DelegateTree::Empty { path, .. }
            | DelegateTree::Fail { path, .. }
            | DelegateTree::Neg { path, .. }
            | DelegateTree::Delegate { path, .. }
            | DelegateTree::Leaf { path, .. }
            | DelegateTree::Alt { path, .. }
            | DelegateTree::Union { path, .. } => path,
        }
    }

    fn dentry_mut(&mut self) -> &mut Option<Arc<Dentry>> {
        match self {
            DelegateTree::Exception { dentry, .. }
            | DelegateTree::Empty { dentry, .. }
            | DelegateTree::Fail { dentry, .. }
            | DelegateTree::Neg { dentry, .. }
            | DelegateTree::Delegate { dentry, .. }
            | DelegateTree::Leaf { dentry, .. }
            | DelegateTree::Alt { dentry, .. }
            | DelegateTree::Union { dentry, .. } => dentry,
        }
    }

    /// The dentry that produced this step's path (`None` at the top).
    pub fn dentry(&self) -> Option<&Dentry> {
        self.dentry_arc().map(|d| &**d)
    }

    fn dentry_arc(&self) -> Option<&Arc<Dentry>> {
        match self {
            DelegateTree::Exception { dentry, .. }
            | DelegateTree::Empty { dentry, .. }
            | DelegateTree::Fail { dentry, .. }
            | DelegateTree::Neg { dentry, .. }
            | DelegateTree::Delegate { dentry, .. }
            | DelegateTree::Leaf { dentry, .. }
            | DelegateTree::Alt { dentry, .. }
            | DelegateTree::Union { dentry, .. } => dentry.as_ref(),
        }
    }

    /// linkerd's `DelegateTree.simplify`.
    fn simplified(self) -> DelegateTree<T> {
        match self {
            DelegateTree::Delegate { path, dentry, tree } => {
                let inner = tree.simplified();
                let collapse = !matches!(
                    inner,
                    DelegateTree::Neg { .. }
                        | DelegateTree::Fail { .. }
                        | DelegateTree::Empty { .. }
                ) && *inner.path() == path;
                if collapse {
                    let mut inner = inner;
                    *inner.dentry_mut() = dentry;
                    inner
                } else {
                    DelegateTree::Delegate {
                        path,
                        dentry,
                        tree: Box::new(inner),
                    }
                }
            }
            DelegateTree::Alt {
                path,
                dentry,
                mut trees,
            } => match trees.len() {
                0 => DelegateTree::Neg { path, dentry },
                1 => {
                    let tree = Box::new(trees.remove(0));
                    DelegateTree::Delegate { path, dentry, tree }.simplified()
                }
                _ => {
                    let mut out = Vec::with_capacity(trees.len());
                    for t in trees {
                        match t.simplified() {
                            DelegateTree::Alt {
                                path: p, trees: ts, ..
                            } if p == path => {
                                out.extend(ts);
                            }
                            other => out.push(other),
                        }
                    }
                    DelegateTree::Alt {
                        path,
                        dentry,
                        trees: out,
                    }
                }
            },
            DelegateTree::Union {
                path,
                dentry,
                mut trees,
            } => match trees.len() {
                0 => DelegateTree::Neg { path, dentry },
                1 => {
                    let tree = Box::new(trees.remove(0).1);
                    DelegateTree::Delegate { path, dentry, tree }.simplified()
                }
                _ => DelegateTree::Union {
                    path,
                    dentry,
                    trees: trees
                        .into_iter()
                        .map(|(w, t)| (w, t.simplified()))
                        .collect(),
                },
            },
            other => other,
        }
    }
}

impl DelegateTree<DelegateBound> {
    /// Calls `f` on every bound leaf, e.g. to fill in addresses.
    pub fn for_each_bound_mut(&mut self, f: &mut impl FnMut(&mut DelegateBound)) {
        match self {
            DelegateTree::Leaf { value, .. } => f(value),
            DelegateTree::Delegate { tree, .. } => tree.for_each_bound_mut(f),
            DelegateTree::Alt { trees, .. } => {
                trees.iter_mut().for_each(|t| t.for_each_bound_mut(f))
            }
            DelegateTree::Union { trees, .. } => {
                trees.iter_mut().for_each(|(_, t)| t.for_each_bound_mut(f));
            }
            DelegateTree::Exception { .. }
            | DelegateTree::Empty { .. }
            | DelegateTree::Fail { .. }
            | DelegateTree::Neg { .. } => {}
        }
    }
}

/// linkerd's `DelegateTree.fromNameTree(path, dentry, tree)`.
fn from_name_tree(
    path: &Path,
    dentry: &Option<Arc<Dentry>>,
    tree: NameTree<Name>,
) -> DelegateTree<Name> {
    let (path, d) = (path.clone(), dentry.clone());
    match tree {
        NameTree::Empty => DelegateTree::Empty { path, dentry: d },
        NameTree::Fail => DelegateTree::Fail { path, dentry: d },
        NameTree::Neg => DelegateTree::Neg {
            path: Path::empty(),
            dentry: d,
        },
        NameTree::Leaf(value) => DelegateTree::Leaf {
            path,
            dentry: d,
            value,
        },
        NameTree::Alt(ts) => DelegateTree::Alt {
            trees: ts
                .into_iter()
                .map(|t| from_name_tree(&path, dentry, t))
                .collect(),
            path,
            dentry: d,
        },
        NameTree::Union(ws) => DelegateTree::Union {
            trees: ws
                .into_iter()
                .map(|w| (w.weight, from_name_tree(&path, dentry, w.tree)))
                .collect(),
            path,
            dentry: d,
        },
    }
}

struct Delegator<'a, N: NamerLookup + ?Sized> {
    dtab: &'a Dtab,
    namers: &'a N,
    budget: Budget,
}

impl<N: NamerLookup + ?Sized> Delegator<'_, N> {
    /// Errors returned here are depth or budget failures; namer failures become nodes.
    fn lookup(
        &mut self,
        dentry: Option<Arc<Dentry>>,
        path: &Path,
    ) -> Result<DelegateTree<Name>, BindError> {
        self.budget.lookup()?;
        let mut matches: Vec<DelegateTree<Name>> = Vec::new();
        for d in self.dtab.dentries().iter().rev() {
            if !d.prefix.matches(path) {
                continue;
            }
            let residual = path.drop(d.prefix.len());
            let rewritten = d.dst.map(&mut |pfx: &Path| pfx.concat(&residual));
            // The rewritten names, plus the dentry copied into the explanation.
            self.budget
                .spend(rewritten.path_bytes() + d.dst.path_bytes())?;
            let tree = rewritten.map(&mut |p: &Path| Name::Path(p.clone()));
            matches.push(from_name_tree(path, &Some(Arc::new(d.clone())), tree));
        }
        let path = path.clone();
        Ok(match matches.len() {
            0 => match lookup_terminal(self.namers, &path) {
                Ok(Terminal::Neg) => DelegateTree::Neg { path, dentry },
                Ok(Terminal::Fail) => DelegateTree::Fail { path, dentry },
                Ok(Terminal::Empty) => DelegateTree::Empty { path, dentry },
                Ok(Terminal::Bound(b)) => DelegateTree::Leaf {
                    path,
                    dentry,
                    value: Name::Bound(b),
                },
                Err(e) => DelegateTree::Exception {
                    path,
                    dentry,
                    message: e.to_string(),
                },
            },
            1 => {
                let tree = Box::new(matches.pop().unwrap_or(DelegateTree::Neg {
                    path: path.clone(),
                    dentry: None,
                }));
                DelegateTree::Delegate { path, dentry, tree }
            }
            _ => DelegateTree::Alt {
                path,
                dentry,
                trees: matches,
            },
        })
    }

    /// A failed branch becomes an exception node, except when the lookup budget ran out.
    fn bind_branch(
        &mut self,
        tree: DelegateTree<Name>,
        depth: u32,
        path: &Path,
        dentry: &Option<Arc<Dentry>>,
    ) -> Result<DelegateTree, BindError> {
        match self.bind(tree, depth) {
            Err(e @ (BindError::TooManyLookups { .. } | BindError::TooLarge { .. })) => Err(e),
            Err(e) => Ok(DelegateTree::Exception {
                path: path.clone(),
                dentry: dentry.clone(),
                message: e.to_string(),
            }),
            ok => ok,
        }
    }

    /// The recursive step, kept small: deep dtab chains recurse through here once per rewrite,
    /// so the work is done in helpers whose frames are not on the recursion path.
    fn bind(&mut self, tree: DelegateTree<Name>, depth: u32) -> Result<DelegateTree, BindError> {
        self.budget.enter(depth)?;
        let result = self.bind_node(tree, depth);
        self.budget.leave();
        result
    }

    /// Dispatches to one small helper per kind of step, so that no frame on the recursion
    /// path holds the temporaries of every kind (debug builds do not share stack slots).
    fn bind_node(
        &mut self,
        tree: DelegateTree<Name>,
        depth: u32,
    ) -> Result<DelegateTree, BindError> {
        match tree {
            DelegateTree::Leaf {
                dentry,
                value: Name::Path(next),
                ..
            } => self.bind_lookup(dentry, next, depth),
            DelegateTree::Delegate { path, dentry, tree } => {
                self.bind_delegate(path, dentry, tree, depth)
            }
            DelegateTree::Alt {
                path,
                dentry,
                trees,
            } => self.bind_alt(path, dentry, trees, depth),
            DelegateTree::Union {
                path,
                dentry,
                trees,
            } => self.bind_union(path, dentry, trees, depth),
            other => Ok(finished(other)),
        }
    }

    #[inline(never)]
    fn bind_lookup(
        &mut self,
        dentry: Option<Arc<Dentry>>,
        next: Path,
        depth: u32,
    ) -> Result<DelegateTree, BindError> {
        let looked_up = self.lookup_boxed(dentry, &next)?;
        drop(next);
        self.bind(*looked_up, depth + 1)
    }

    // The inner step stays boxed until it is bound, keeping it off this recursive frame.
    #[allow(clippy::boxed_local)]
    #[inline(never)]
    fn bind_delegate(
        &mut self,
        path: Path,
        dentry: Option<Arc<Dentry>>,
        tree: Box<DelegateTree<Name>>,
        depth: u32,
    ) -> Result<DelegateTree, BindError> {
        let inner = self.bind(*tree, depth)?;
        Ok(DelegateTree::Delegate {
            path,
            dentry,
            tree: Box::new(inner),
        })
    }

    #[inline(never)]
    fn lookup_boxed(
        &mut self,
        dentry: Option<Arc<Dentry>>,
        path: &Path,
    ) -> Result<Box<DelegateTree<Name>>, BindError> {
        self.lookup(dentry, path).map(Box::new)
    }

    /// Unlike binding, every alternative is explained.
    #[inline(never)]
    fn bind_alt(
        &mut self,
        path: Path,
        dentry: Option<Arc<Dentry>>,
        mut trees: Vec<DelegateTree<Name>>,
        depth: u32,
    ) -> Result<DelegateTree, BindError> {
        if trees.len() <= 1 {
            return match trees.pop() {
                None => Ok(DelegateTree::Neg { path, dentry }),
                Some(t) => self.bind_delegate(path, dentry, Box::new(t), depth),
            };
        }
        let mut out = Vec::with_capacity(trees.len());
        for t in trees {
            out.push(self.bind_branch(t, depth, &path, &dentry)?);
        }
        Ok(DelegateTree::Alt {
            path,
            dentry,
            trees: out,
        })
    }

    #[inline(never)]
    fn bind_union(
        &mut self,
        path: Path,
        dentry: Option<Arc<Dentry>>,
        mut trees: Vec<(f64, DelegateTree<Name>)>,
        depth: u32,
    ) -> Result<DelegateTree, BindError> {
        if trees.len() <= 1 {
            return match trees.pop() {
                None => Ok(DelegateTree::Neg { path, dentry }),
                Some((_, t)) => self.bind_delegate(path, dentry, Box::new(t), depth),
            };
        }
        let mut out = Vec::with_capacity(trees.len());
        for (w, t) in trees {
            out.push((w, self.bind_branch(t, depth, &path, &dentry)?));
        }
        Ok(DelegateTree::Union {
            path,
            dentry,
            trees: out,
        })
    }
}

/// A step that needs no further binding, with its leaf value converted.
#[inline(never)]
fn finished(tree: DelegateTree<Name>) -> DelegateTree {
    match tree {
        DelegateTree::Exception {
            path,
            dentry,
            message,
        } => DelegateTree::Exception {
            path,
            dentry,
            message,
        },
        DelegateTree::Empty { path, dentry } => DelegateTree::Empty { path, dentry },
        DelegateTree::Fail { path, dentry } => DelegateTree::Fail { path, dentry },
        DelegateTree::Neg { path, dentry } => DelegateTree::Neg { path, dentry },
        DelegateTree::Leaf {
            path,
            dentry,
            value: Name::Bound(bound),
        } => DelegateTree::Leaf {
            path,
            dentry,
            value: DelegateBound { bound, addr: None },
        },
        // Steps that still need binding never reach here (see `bind_node`).
        other => DelegateTree::Exception {
            path: other.path().clone(),
            dentry: other.dentry_arc().cloned(),
            message: "unbound delegation step".to_string(),
        },
    }
}

/// Explains how `path` binds through `dtab` and `namers` ([`BindLimits::for_delegation`]).
pub fn delegate(dtab: &Dtab, path: &Path, namers: &(impl NamerLookup + ?Sized)) -> DelegateTree {
    delegate_with_limits(dtab, path, namers, BindLimits::for_delegation())
}

/// [`delegate`] with explicit limits. A failure that escapes every alternation (depth or
/// lookup budget) is reported as an `exception` node for `path`.
pub fn delegate_with_limits(
    dtab: &Dtab,
    path: &Path,
    namers: &(impl NamerLookup + ?Sized),
    limits: BindLimits,
) -> DelegateTree {
    let mut d = Delegator {
        dtab,
        namers,
        budget: Budget::new(limits),
    };
    let start = DelegateTree::Leaf {
        path: path.clone(),
        dentry: None,
        value: Name::Path(path.clone()),
    };
    match d.bind(start, 0) {
        Ok(tree) => tree.simplified(),
        Err(e) => DelegateTree::Exception {
            path: path.clone(),
            dentry: None,
            message: e.to_string(),
        },
    }
}

struct BoundJson<'a>(&'a DelegateBound);

impl Serialize for BoundJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        if let Some(addr) = &self.0.addr {
            m.serialize_entry("addr", addr)?;
        }
        m.serialize_entry("id", &self.0.bound.id)?;
        m.serialize_entry("path", &self.0.bound.residual)?;
        m.end()
    }
}

struct WeightedJson<'a>(f64, &'a DelegateTree);

impl Serialize for WeightedJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("weight", &self.0)?;
        m.serialize_entry("tree", self.1)?;
        m.end()
    }
}

const FAIL_PREFIX: [&str; 2] = ["$", "fail"];

/// linkerd's `JsonDelegateTree`: `{"type": ..., "path": ..., "dentry": {...}, ...}` with the
/// dentry omitted where there is none.
impl Serialize for DelegateTree {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        let kind = match self {
            DelegateTree::Exception { .. } => "exception",
            DelegateTree::Empty { .. } => "empty",
            DelegateTree::Fail { .. } => "fail",
            DelegateTree::Neg { .. } => "neg",
            DelegateTree::Delegate { .. } => "delegate",
            DelegateTree::Leaf { .. } => "leaf",
            DelegateTree::Alt { .. } => "alt",
            DelegateTree::Union { .. } => "union",
        };
        m.serialize_entry("type", kind)?;
        match self {
            DelegateTree::Fail { path, .. } => {
                let is_fail_path =
                    path.segment_is(0, FAIL_PREFIX[0]) && path.segment_is(1, FAIL_PREFIX[1]);
                if is_fail_path {
                    m.serialize_entry("path", path)?;
                } else {
                    m.serialize_entry("path", "!")?;
                }
            }
            DelegateTree::Neg { path, .. } if path.is_empty() => m.serialize_entry("path", "~")?,
            other => m.serialize_entry("path", other.path())?,
        }
        if let Some(d) = self.dentry() {
            m.serialize_entry("dentry", d)?;
        }
        match self {
            DelegateTree::Exception { message, .. } => m.serialize_entry("message", message)?,
            DelegateTree::Delegate { tree, .. } => m.serialize_entry("delegate", tree.as_ref())?,
            DelegateTree::Leaf { value, .. } => m.serialize_entry("bound", &BoundJson(value))?,
            DelegateTree::Alt { trees, .. } => m.serialize_entry("alt", trees)?,
            DelegateTree::Union { trees, .. } => {
                let ws: Vec<WeightedJson<'_>> =
                    trees.iter().map(|(w, t)| WeightedJson(*w, t)).collect();
                m.serialize_entry("union", &ws)?;
            }
            DelegateTree::Empty { .. } | DelegateTree::Fail { .. } | DelegateTree::Neg { .. } => {}
        }
        m.end()
    }
}
