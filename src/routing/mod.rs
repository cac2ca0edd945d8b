//! Routing: linkerd 1.x / Finagle naming as pure data and functions.
//!
//! - [`Path`]: hierarchical names (`/svc/users`) with Finagle's syntax and escapes.
//! - [`NameTree`]: `Leaf`, `Alt` (`|`), weighted `Union` (`&`), `Neg` (`~`), `Fail` (`!`),
//!   `Empty` (`$`), with parser, display and simplification.
//! - [`Dtab`] / [`Dentry`]: delegation tables, lookup (latest dentry first), concatenation,
//!   and the per-request `l5d-ctx-dtab` / `l5d-dtab` headers ([`parse_header_dtab`]).
//! - [`bind`] / [`resolve`]: recursive binding through the dtab, configured namers
//!   ([`NamerLookup`]) and `/$/` system paths, evaluated into a weighted [`Resolution`].
//! - [`delegate`]: the step-by-step explanation behind `/delegator.json`.
//! - [`Identifier`] / [`IdentifierChain`]: requests to logical paths.
//! - [`BindCache`]: a per-shard cache of resolutions with a generation number.
//!
//! Everything here is plain `Send + Sync` data: the control thread builds dtabs and
//! identifiers and sends them to shards. Nothing here does I/O, resolves DNS, watches
//! namers or knows about sockets or a runtime.

#![forbid(unsafe_code)]

mod bind;
mod cache;
mod delegator;
mod dtab;
mod identifier;
mod parse;
mod path;
mod tree;

#[cfg(test)]
mod tests;

pub use bind::{
    BindError, BindLimits, Bound, BoundTree, InetName, MAX_DELEGATE_NESTING_STEPS, MAX_DEPTH,
    MAX_LOOKUPS, MAX_NESTING_STEPS, MAX_PATH_BYTES, NamerLookup, NamerResult, NoNamers, Resolution,
    bind, bind_with_limits, resolve,
};
pub use cache::BindCache;
pub use delegator::{
    DelegateAddr, DelegateAddress, DelegateBound, DelegateTree, delegate, delegate_with_limits,
};
pub use dtab::{Dentry, Dtab, Prefix, PrefixElem, parse_header_dtab};
pub use identifier::{
    DEFAULT_DST_PREFIX, DEFAULT_NAME_HEADER, DEFAULT_TOKEN_HEADER, Identified, Identifier,
    IdentifierChain, IdentifyError, RequestView,
};
pub use parse::{MAX_NESTING, ParseError};
pub use path::{Path, is_showable};
pub use tree::{NameTree, Weighted};

/// Fuzz entry point: parses `data` as a dtab (when it is UTF-8) and checks that display then
/// parse gives the same dtab; also looks up and binds a few paths through it. Never panics
/// unless an invariant is broken (which is what the fuzzer is looking for).
pub fn fuzz_dtab(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        let _ = parse_header_dtab(std::iter::once(data));
        return;
    };
    if let Ok(path) = Path::read(text) {
        let shown = path.to_string();
        assert_eq!(
            Path::read(&shown).as_ref(),
            Ok(&path),
            "path round trip of {shown:?}"
        );
    }
    if let Ok(tree) = NameTree::read(text) {
        let shown = tree.to_string();
        assert_eq!(
            NameTree::read(&shown).as_ref(),
            Ok(&tree),
            "tree round trip of {shown:?}"
        );
    }
    let Ok(dtab) = Dtab::read(text) else {
        return;
    };
    let shown = dtab.to_string();
    assert_eq!(
        Dtab::read(&shown).as_ref(),
        Ok(&dtab),
        "dtab round trip of {shown:?}"
    );
    let limits = BindLimits {
        max_lookups: 200,
        ..BindLimits::default()
    };
    for d in dtab.dentries().iter().take(4) {
        // A path each prefix matches: wildcards become a fixed segment.
        let mut path = Path::empty();
        for e in d.prefix.elems() {
            match e {
                PrefixElem::Label(l) => path.try_push(l),
                PrefixElem::Any => path.try_push(b"x"),
            };
        }
        path.try_push(b"residual");
        let _ = dtab.lookup(&path);
        if let Ok(tree) = bind_with_limits(&dtab, &path, &NoNamers, limits) {
            let resolution = Resolution::from_tree(&tree);
            let _ = resolution.pick(0.5);
        }
        let explain_limits = BindLimits {
            max_lookups: 200,
            ..BindLimits::for_delegation()
        };
        let explained = delegate_with_limits(&dtab, &path, &NoNamers, explain_limits);
        let _ = serde_json::to_string(&explained);
    }
}
