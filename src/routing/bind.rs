//! Binding: turning a logical path into a tree of concrete names, and evaluating that tree
//! into a weighted [`Resolution`] a router can send traffic to.
//!
//! Semantics are linkerd 1.x's `ConfiguredNamersInterpreter` over Finagle's `Namer.bind`:
//! a path is first looked up in the dtab; only when no dentry matches is it offered to the
//! configured namers ([`NamerLookup`], typically `/#/<prefix>/...`), and then to the system
//! namer: `/$/inet/HOST/PORT[/residual]` (and `/$/inet/PORT`, `/$/fixedinet/...`), `/$/fail`
//! (fail) and `/$/nil` (empty); any other `/$/<kind>` is an unknown-namer error. Every rewritten
//! path is bound again, up to [`MAX_DEPTH`] (Finagle's `namerMaxDepth`, 100). Alternations bind
//! lazily and stop at the first branch that is not negative (a failing branch stops them);
//! unions bind every branch and drop negative and failing ones; errors (depth, unknown namer,
//! a namer's failure) abort an alternation and are dropped from a union that has any
//! successful branch.
//!
//! hawser adds two limits Finagle lacks: at most [`MAX_LOOKUPS`] lookups per binding, so a
//! hostile `l5d-dtab` full of alternations cannot make binding take exponential time, and at
//! most [`MAX_NESTING_STEPS`] nested steps (rewrites and tree nodes together), so it cannot
//! exhaust a shard's stack.
//! Nothing here does I/O or resolves DNS: namers are a synchronous trait over the caller's
//! current snapshot, and `/$/inet` names are handed back unresolved.

use std::fmt;

use super::dtab::Dtab;
use super::path::Path;
use super::tree::{NameTree, Weighted};

/// Finagle's and linkerd's recursion limit for binding (`namerMaxDepth`).
pub const MAX_DEPTH: u32 = 100;

/// hawser's limit on dtab/namer lookups in one binding (not in Finagle).
pub const MAX_LOOKUPS: u32 = 10_000;

/// hawser's limit on nested binding steps (rewrites plus name-tree nesting), which bounds the
/// stack a binding uses (not in Finagle; real dtabs nest a few dozen steps at most).
pub const MAX_NESTING_STEPS: u32 = 400;

/// hawser's limit on the bytes of paths one binding may materialise (every rewrite's name tree
/// and every bound name together). Real dtabs use a few KiB; without it a 64 KiB `l5d-dtab` of
/// weighted unions over long segments could make one request build hundreds of MiB of paths.
pub const MAX_PATH_BYTES: usize = 1 << 20;

/// The nesting limit for delegation (explanations), whose steps use more stack.
pub const MAX_DELEGATE_NESTING_STEPS: u32 = 200;

/// A concrete name: what a client is built for, plus the unconsumed rest of the path.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct Bound {
    /// The concrete name, e.g. `/#/io.l5d.fs/users` or `/$/inet/127.0.0.1/8080`.
    pub id: Path,
    /// What remained of the path after the namer consumed its part (`l5d-dst-residual`).
    pub residual: Path,
}

/// What a configured namer says about a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NamerResult {
    /// The path names this concrete name.
    Bound(Bound),
    /// No namer knows this path (try the system namer, then fall back).
    Neg,
    /// The namer failed (e.g. unreadable directory); the binding fails with this message.
    Failed(String),
}

/// The configured namers, as seen by the binder. An implementation picks the namer whose
/// prefix (e.g. `/#/io.l5d.fs`) the path starts with, in the configured order, and answers
/// `Neg` when none matches.
pub trait NamerLookup {
    /// Looks up a path no dentry matched.
    fn lookup(&self, path: &Path) -> NamerResult;
}

/// No configured namers: only the dtab and `/$/` system paths bind.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoNamers;

impl NamerLookup for NoNamers {
    fn lookup(&self, _path: &Path) -> NamerResult {
        NamerResult::Neg
    }
}

impl<F: Fn(&Path) -> NamerResult> NamerLookup for F {
    fn lookup(&self, path: &Path) -> NamerResult {
        self(path)
    }
}

/// Why a binding could not be completed (Finagle: the binding activity failed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BindError {
    /// Rewrites nested deeper than the recursion limit (usually a dtab loop).
    MaxDepth {
        /// The limit that was exceeded.
        limit: u32,
    },
    /// More lookups than hawser allows in one binding.
    TooManyLookups {
        /// The limit that was exceeded.
        limit: u32,
    },
    /// Rewrites and tree nesting together went deeper than hawser allows (a guard for the
    /// thread's stack against hostile dtabs).
    TooComplex {
        /// The limit that was exceeded.
        limit: u32,
    },
    /// The binding materialised more path bytes than hawser allows (a hostile or runaway dtab).
    TooLarge {
        /// The limit that was exceeded, in bytes.
        limit: usize,
    },
    /// A `/$/<kind>/...` path whose kind is not a system namer (or a malformed `/$/inet`).
    UnknownNamer {
        /// The `<kind>` segment.
        kind: String,
        /// The path being looked up.
        path: Path,
    },
    /// A `/$/inet/HOST/PORT` whose port is an integer outside 0..=65535.
    InvalidPort {
        /// The path being looked up.
        path: Path,
    },
    /// A configured namer failed.
    Namer {
        /// The path being looked up.
        path: Path,
        /// The namer's message.
        message: String,
    },
}

impl fmt::Display for BindError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BindError::MaxDepth { limit } => {
                write!(f, "Max recursion level: {limit} reached in Namer lookup")
            }
            BindError::TooManyLookups { limit } => {
                write!(f, "binding exceeded {limit} lookups")
            }
            BindError::TooComplex { limit } => {
                write!(f, "binding nested deeper than {limit} steps")
            }
            BindError::TooLarge { limit } => {
                write!(f, "binding built more than {limit} bytes of names")
            }
            BindError::UnknownNamer { kind, path } => {
                write!(f, "Unknown namer: {kind} for path: {path}")
            }
            BindError::InvalidPort { path } => write!(f, "port out of range in {path}"),
            BindError::Namer { message, .. } => f.write_str(message),
        }
    }
}

impl std::error::Error for BindError {}

/// Limits on one binding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BindLimits {
    /// Recursion limit ([`MAX_DEPTH`]).
    pub max_depth: u32,
    /// Lookup limit ([`MAX_LOOKUPS`]).
    pub max_lookups: u32,
    /// Limit on nested binding steps, rewrites and tree nodes together ([`MAX_NESTING_STEPS`]).
    pub max_nesting: u32,
    /// Limit on the path bytes one binding materialises ([`MAX_PATH_BYTES`]).
    pub max_path_bytes: usize,
}

impl BindLimits {
    /// The defaults for [`super::delegate`]: explaining a binding keeps every branch and uses
    /// larger stack frames, so nesting is capped at [`MAX_DELEGATE_NESTING_STEPS`].
    pub fn for_delegation() -> BindLimits {
        BindLimits {
            max_nesting: MAX_DELEGATE_NESTING_STEPS,
            ..BindLimits::default()
        }
    }
}

impl Default for BindLimits {
    fn default() -> Self {
        BindLimits {
            max_depth: MAX_DEPTH,
            max_lookups: MAX_LOOKUPS,
            max_nesting: MAX_NESTING_STEPS,
            max_path_bytes: MAX_PATH_BYTES,
        }
    }
}

/// A bound name tree: leaves are concrete names; it contains no `Alt` nodes.
pub type BoundTree = NameTree<Bound>;

/// What a path is once looked up outside the dtab (by namers or the system namer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Terminal {
    Bound(Bound),
    Neg,
    Fail,
    Empty,
}

fn is_integer(s: &[u8]) -> bool {
    let digits = match s.first() {
        Some(b'+' | b'-') => &s[1..],
        _ => s,
    };
    !digits.is_empty() && digits.iter().all(u8::is_ascii_digit)
}

fn port_of(s: &[u8], path: &Path) -> Result<u16, BindError> {
    std::str::from_utf8(s)
        .ok()
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| BindError::InvalidPort { path: path.clone() })
}

/// Finagle's `Namer.global` for `/$/...` paths (other paths are negative).
pub(crate) fn lookup_system(path: &Path) -> Result<Terminal, BindError> {
    if !path.segment_is(0, "$") {
        return Ok(Terminal::Neg);
    }
    let Some(kind) = path.segment(1) else {
        return Ok(Terminal::Neg);
    };
    match kind {
        b"fail" => Ok(Terminal::Fail),
        b"nil" => Ok(Terminal::Empty),
        b"inet" | b"fixedinet" => {
            let unknown = || BindError::UnknownNamer {
                kind: "inet".to_string(),
                path: path.clone(),
            };
            // `/$/inet/HOST/PORT/rest` first, then `/$/inet/PORT/rest` (host: localhost).
            let id_len = match (path.segment(2), path.segment(3)) {
                (Some(_), Some(port)) if is_integer(port) => {
                    port_of(port, path)?;
                    4
                }
                (Some(port), _) if is_integer(port) => {
                    port_of(port, path)?;
                    3
                }
                _ => return Err(unknown()),
            };
            Ok(Terminal::Bound(Bound {
                id: path.take(id_len),
                residual: path.drop(id_len),
            }))
        }
        other => Err(BindError::UnknownNamer {
            kind: String::from_utf8_lossy(other).into_owned(),
            path: path.clone(),
        }),
    }
}

/// Configured namers first, then the system namer (linkerd's order).
pub(crate) fn lookup_terminal(
    namers: &(impl NamerLookup + ?Sized),
    path: &Path,
) -> Result<Terminal, BindError> {
    match namers.lookup(path) {
        NamerResult::Bound(b) => Ok(Terminal::Bound(b)),
        NamerResult::Failed(message) => Err(BindError::Namer {
            path: path.clone(),
            message,
        }),
        NamerResult::Neg => lookup_system(path),
    }
}

/// A `/$/inet` concrete name, as the client layer needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InetName<'a> {
    /// Host name or address literal (`127.0.0.1` for the `/$/inet/PORT` form).
    pub host: &'a str,
    /// The port.
    pub port: u16,
    /// True for `/$/fixedinet` (resolve DNS once, never again).
    pub fixed: bool,
}

impl<'a> InetName<'a> {
    /// Reads a bound id of the form `/$/inet/HOST/PORT` or `/$/inet/PORT`.
    pub fn from_id(id: &'a Path) -> Option<InetName<'a>> {
        if !id.segment_is(0, "$") {
            return None;
        }
        let fixed = match id.segment(1)? {
            b"inet" => false,
            b"fixedinet" => true,
            _ => return None,
        };
        let (host, port) = match id.len() {
            3 => ("127.0.0.1", id.segment_str(2)?),
            4 => (id.segment_str(2)?, id.segment_str(3)?),
            _ => return None,
        };
        Some(InetName {
            host,
            port: port.parse().ok()?,
            fixed,
        })
    }
}

struct Binder<'a, N: NamerLookup + ?Sized> {
    dtab: &'a Dtab,
    namers: &'a N,
    budget: Budget,
}

/// What one binding (or explanation) has spent against its [`BindLimits`]: lookups, nesting
/// and materialised name bytes. Shared by the binder and the delegator so both enforce the
/// same limits the same way.
pub(crate) struct Budget {
    limits: BindLimits,
    lookups: u32,
    nesting: u32,
    path_bytes: usize,
}

impl Budget {
    pub(crate) fn new(limits: BindLimits) -> Budget {
        Budget {
            limits,
            lookups: 0,
            nesting: 0,
            path_bytes: 0,
        }
    }

    /// Counts one dtab/namer lookup.
    pub(crate) fn lookup(&mut self) -> Result<(), BindError> {
        self.lookups += 1;
        if self.lookups > self.limits.max_lookups {
            return Err(BindError::TooManyLookups {
                limit: self.limits.max_lookups,
            });
        }
        Ok(())
    }

    /// Enters a recursive step at rewrite `depth`: Finagle's rewrite depth, and the nesting
    /// bound that keeps the Rust stack small. Pair with [`Budget::leave`].
    pub(crate) fn enter(&mut self, depth: u32) -> Result<(), BindError> {
        if depth > self.limits.max_depth {
            return Err(BindError::MaxDepth {
                limit: self.limits.max_depth,
            });
        }
        if self.nesting >= self.limits.max_nesting {
            return Err(BindError::TooComplex {
                limit: self.limits.max_nesting,
            });
        }
        self.nesting += 1;
        Ok(())
    }

    /// Leaves a step [`Budget::enter`] let in.
    pub(crate) fn leave(&mut self) {
        self.nesting -= 1;
    }

    /// Counts `bytes` of materialised names.
    pub(crate) fn spend(&mut self, bytes: usize) -> Result<(), BindError> {
        self.path_bytes = self.path_bytes.saturating_add(bytes);
        if self.path_bytes > self.limits.max_path_bytes {
            return Err(BindError::TooLarge {
                limit: self.limits.max_path_bytes,
            });
        }
        Ok(())
    }

    /// The rewrite-depth limit.
    pub(crate) fn max_depth(&self) -> u32 {
        self.limits.max_depth
    }
}

impl<N: NamerLookup + ?Sized> Binder<'_, N> {
    /// Every recursive step goes through here, which bounds how deep the Rust stack grows.
    fn bind(&mut self, tree: &NameTree<Path>, depth: u32) -> Result<BoundTree, BindError> {
        self.budget.enter(depth)?;
        let result = self.bind_node(tree, depth);
        self.budget.leave();
        result
    }

    fn bind_node(&mut self, tree: &NameTree<Path>, depth: u32) -> Result<BoundTree, BindError> {
        match tree {
            NameTree::Leaf(path) => self.bind_leaf(path, depth),
            NameTree::Neg => Ok(NameTree::Neg),
            NameTree::Fail => Ok(NameTree::Fail),
            NameTree::Empty => Ok(NameTree::Empty),
            NameTree::Alt(trees) => {
                for t in trees {
                    match self.bind(t, depth)? {
                        NameTree::Neg => {}
                        other => return Ok(other),
                    }
                }
                Ok(NameTree::Neg)
            }
            NameTree::Union(branches) if branches.len() == 1 => self.bind(&branches[0].tree, depth),
            NameTree::Union(branches) => self.bind_union(branches, depth),
        }
    }

    /// Kept out of [`Binder::bind`] so the frame on the recursion path stays small.
    #[inline(never)]
    fn bind_union(
        &mut self,
        branches: &[Weighted<Path>],
        depth: u32,
    ) -> Result<BoundTree, BindError> {
        let mut oks = Vec::with_capacity(branches.len());
        let mut first_err = None;
        for w in branches {
            match self.bind(&w.tree, depth) {
                Ok(tree) => oks.push(Weighted {
                    weight: w.weight,
                    tree,
                }),
                // Budget errors end the whole binding: a union must not quietly
                // route to the branches that happened to fit.
                Err(e @ (BindError::TooManyLookups { .. } | BindError::TooLarge { .. })) => {
                    return Err(e);
                }
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        match first_err {
            Some(e) if oks.is_empty() => Err(e),
            _ => Ok(NameTree::Union(oks).simplified()),
        }
    }

    fn bind_leaf(&mut self, path: &Path, depth: u32) -> Result<BoundTree, BindError> {
        self.budget.lookup()?;
        let rewritten = self.dtab.lookup(path);
        self.budget.spend(rewritten.path_bytes())?;
        if rewritten != NameTree::Neg {
            return self.bind(&rewritten, depth + 1);
        }
        let terminal = lookup_terminal(self.namers, path)?;
        if depth + 1 > self.budget.max_depth() {
            return Err(BindError::MaxDepth {
                limit: self.budget.max_depth(),
            });
        }
        Ok(match terminal {
            Terminal::Bound(b) => {
                self.budget
                    .spend(b.id.heap_bytes() + b.residual.heap_bytes())?;
                NameTree::Leaf(b)
            }
            Terminal::Neg => NameTree::Neg,
            Terminal::Fail => NameTree::Fail,
            Terminal::Empty => NameTree::Empty,
        })
    }
}

/// Binds `path` through `dtab` and `namers` with the default limits.
///
/// # Errors
/// [`BindError`] when the binding fails as a whole (see the module docs).
pub fn bind(
    dtab: &Dtab,
    path: &Path,
    namers: &(impl NamerLookup + ?Sized),
) -> Result<BoundTree, BindError> {
    bind_with_limits(dtab, path, namers, BindLimits::default())
}

/// [`bind`] with explicit limits.
///
/// # Errors
/// [`BindError`] when the binding fails as a whole.
pub fn bind_with_limits(
    dtab: &Dtab,
    path: &Path,
    namers: &(impl NamerLookup + ?Sized),
    limits: BindLimits,
) -> Result<BoundTree, BindError> {
    let mut binder = Binder {
        dtab,
        namers,
        budget: Budget::new(limits),
    };
    binder.bind(&NameTree::Leaf(path.clone()), 0)
}

/// Binds and evaluates in one step.
pub fn resolve(dtab: &Dtab, path: &Path, namers: &(impl NamerLookup + ?Sized)) -> Resolution {
    match bind(dtab, path, namers) {
        Ok(tree) => Resolution::from_tree(&tree),
        Err(e) => Resolution::Error(e),
    }
}

/// Where a request for a logical name goes.
#[derive(Clone, Debug, PartialEq)]
pub enum Resolution {
    /// Nothing binds the name (linkerd answers "No hosts are available", 502).
    Neg,
    /// The name binds to a failure (`!` or `/$/fail`).
    Fail,
    /// The name exists but has no endpoints (`$` or `/$/nil`).
    Empty,
    /// Concrete names with the probability of sending a request to each (summing to 1).
    /// `None` is a branch that is empty (a request picked for it has no endpoints).
    Weighted(Vec<(f64, Option<Bound>)>),
    /// Binding failed (loop, unknown namer, namer failure).
    Error(BindError),
}

fn sanitize(w: f64) -> f64 {
    if w.is_finite() && w > 0.0 { w } else { 0.0 }
}

impl Resolution {
    /// About how many bytes of memory this resolution holds (for cache budgets).
    pub fn heap_bytes(&self) -> usize {
        match self {
            Resolution::Weighted(branches) => branches
                .iter()
                .map(|(_, b)| {
                    std::mem::size_of::<(f64, Option<Bound>)>()
                        + b.as_ref()
                            .map_or(0, |b| b.id.heap_bytes() + b.residual.heap_bytes())
                })
                .sum(),
            Resolution::Error(e) => e.to_string().len(),
            Resolution::Neg | Resolution::Fail | Resolution::Empty => 0,
        }
    }

    /// Evaluates a bound tree: an alternation is its first non-negative branch (stopping at a
    /// failing one); a union splits traffic over its non-negative, non-failing branches by
    /// weight (nested weights multiply; all-zero weights split evenly); a union of empty
    /// branches is empty.
    pub fn from_tree(tree: &BoundTree) -> Resolution {
        match tree {
            NameTree::Neg => Resolution::Neg,
            NameTree::Fail => Resolution::Fail,
            NameTree::Empty => Resolution::Empty,
            NameTree::Leaf(b) => Resolution::Weighted(vec![(1.0, Some(b.clone()))]),
            NameTree::Alt(trees) => {
                for t in trees {
                    match Resolution::from_tree(t) {
                        Resolution::Neg => {}
                        other => return other,
                    }
                }
                Resolution::Neg
            }
            NameTree::Union(branches) => {
                let mut parts: Vec<(f64, Resolution)> = branches
                    .iter()
                    .map(|w| (sanitize(w.weight), Resolution::from_tree(&w.tree)))
                    .filter(|(_, r)| !matches!(r, Resolution::Neg | Resolution::Fail))
                    .collect();
                if parts.is_empty() {
                    return Resolution::Neg;
                }
                let total: f64 = parts.iter().map(|(w, _)| w).sum();
                let count = parts.len() as f64;
                let mut out = Vec::new();
                for (w, r) in parts.drain(..) {
                    let share = if total > 0.0 { w / total } else { 1.0 / count };
                    match r {
                        Resolution::Empty => out.push((share, None)),
                        Resolution::Weighted(inner) => {
                            out.extend(inner.into_iter().map(|(p, b)| (share * p, b)));
                        }
                        Resolution::Error(e) => return Resolution::Error(e),
                        Resolution::Neg | Resolution::Fail => {}
                    }
                }
                if out.iter().all(|(_, b)| b.is_none()) {
                    Resolution::Empty
                } else {
                    Resolution::Weighted(out)
                }
            }
        }
    }

    /// Picks a branch of a weighted resolution for `r`, a uniform sample in `[0, 1)` (values
    /// outside are clamped): the first branch whose cumulative probability exceeds `r`.
    /// `None` for other resolutions and for an empty branch.
    pub fn pick(&self, r: f64) -> Option<&Bound> {
        let i = self.pick_index(r)?;
        match self {
            Resolution::Weighted(branches) => branches[i].1.as_ref(),
            _ => None,
        }
    }

    /// [`Resolution::pick`]'s branch: its index in the `Weighted` list, so a caller can keep
    /// per-branch data beside the resolution. `None` where `pick` is `None`.
    pub fn pick_index(&self, r: f64) -> Option<usize> {
        let Resolution::Weighted(branches) = self else {
            return None;
        };
        let r = if r.is_nan() { 0.0 } else { r.clamp(0.0, 1.0) };
        let mut acc = 0.0;
        let mut chosen = None;
        for (i, (p, _)) in branches.iter().enumerate() {
            acc += p;
            if r < acc {
                chosen = Some(i);
                break;
            }
        }
        // Rounding left r at or above the total: the last branch that can be picked.
        let i = chosen.or_else(|| branches.iter().rposition(|(p, _)| *p > 0.0))?;
        branches[i].1.is_some().then_some(i)
    }

    /// The concrete names this resolution can send traffic to, in branch order (a name that
    /// appears in several branches appears several times).
    pub fn bounds(&self) -> impl Iterator<Item = &Bound> {
        let branches = match self {
            Resolution::Weighted(b) => b.as_slice(),
            _ => &[],
        };
        branches.iter().filter_map(|(_, b)| b.as_ref())
    }
}
