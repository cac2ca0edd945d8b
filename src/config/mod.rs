//! hawser's config: linkerd 1.x YAML (plus hawser's own `runtime:` section), read into typed
//! structs, with every problem reported as `file:line:col: message`.
//!
//! Three layers (raw -> validated -> typed): `yaml` parses the text into a tree of nodes that
//! keep their positions; the validators (`validate`, `router`, using the `walk` toolkit and the
//! `schema` tables of what linkerd 1.x accepts) check every key and value and report all
//! problems, not just the first; `types` holds the typed config the runtime is built from.
//! A key or kind linkerd 1.x does not have is an [`Severity::Error`]; one linkerd 1.x has but
//! hawser does not support yet is [`Severity::Unsupported`], named with its line.
//!
//! A config may be layered: profiles (partial configs, `--profile FILE`) are merged onto the
//! base config's raw tree before validation (see `layer` for the rules), and each diagnostic
//! names the file its key came from.
//!
//! This module does not parse dtabs or paths beyond a leading `/` (the routing module parses
//! [`RouterConfig::dtab`] and reports at [`Spanned::locate`]), does not resolve host names, and
//! does not read namer directories.

#![forbid(unsafe_code)]

mod diagnostic;
mod layer;
mod router;
mod schema;
mod spanned;
mod types;
mod validate;
mod walk;
mod yaml;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_h2;
#[cfg(test)]
mod tests_layer;
#[cfg(test)]
mod tests_thrift;
#[cfg(test)]
mod tests_unsupported;

use std::path::{Path, PathBuf};

pub use diagnostic::{Diagnostic, Severity};
pub use spanned::{Position, Spanned};
pub use types::{
    AccrualConfig, AccrualPolicyConfig, AdminConfig, BackoffConfig, BalancerConfig, BudgetConfig,
    ByteSize, ClientConfig, Config, FsNamerConfig, H2Settings, IdentifierConfig, NamerConfig,
    PoolConfig, PrometheusConfig, Protocol, RecentRequestsConfig, RetriesConfig, RouterConfig,
    RuntimeConfig, ServerConfig, ServiceConfig, ThriftRouterConfig, TransformerConfig,
};

/// The outcome of checking a config file: every diagnostic, and the typed config when there
/// were none.
#[derive(Clone, Debug)]
pub struct CheckReport {
    pub diagnostics: Vec<Diagnostic>,
    pub config: Option<Config>,
}

impl CheckReport {
    /// The exit status for `hawser check`: 0 when the config is clean, 1 when it is valid
    /// linkerd 1.x but uses only features hawser does not support yet (only
    /// [`Severity::Unsupported`]), 2 when anything is invalid (any [`Severity::Error`]).
    pub fn exit_code(&self) -> i32 {
        match self.diagnostics.iter().map(|d| d.severity).max() {
            None => 0,
            Some(Severity::Unsupported) => 1,
            Some(Severity::Error) => 2,
        }
    }
}

/// One file of a layered config: its name (as diagnostics print it) and its text.
#[derive(Clone, Copy, Debug)]
pub struct Layer<'a> {
    pub name: &'a str,
    pub text: &'a str,
}

/// Checks a config file for `hawser check`: reads it and reports every problem, in file order.
///
/// Exit status to use (see [`CheckReport::exit_code`]): 0 when `diagnostics` is empty (and
/// `config` is `Some`), 1 when there are only [`Severity::Unsupported`] diagnostics, 2 when any
/// is a [`Severity::Error`]. A file that cannot be read gives one Error with line 0.
pub fn check(path: &Path) -> CheckReport {
    check_with_profiles(path, &[])
}

/// [`check`] with profiles layered over the config, in order (`--profile FILE`, repeatable):
/// each profile's mapping is merged onto the config before validation (see the `layer` rules
/// in the module doc), and diagnostics name the file each key came from.
pub fn check_with_profiles(path: &Path, profiles: &[PathBuf]) -> CheckReport {
    let mut unreadable = Vec::new();
    let mut read = |p: &Path, what: &str| {
        let name = p.display().to_string();
        match std::fs::read_to_string(p) {
            Ok(text) => Some((name, text)),
            Err(e) => {
                unreadable.push(Diagnostic {
                    file: name,
                    line: 0,
                    col: 0,
                    key_path: String::new(),
                    message: format!("cannot read the {what}: {e}"),
                    severity: Severity::Error,
                });
                None
            }
        }
    };
    let base = read(path, "config file");
    let layers: Vec<(String, String)> =
        profiles.iter().filter_map(|p| read(p, "profile")).collect();
    match base {
        Some((name, text)) if unreadable.is_empty() => {
            let profiles: Vec<Layer<'_>> = layers
                .iter()
                .map(|(name, text)| Layer { name, text })
                .collect();
            check_layered(&text, &name, &profiles)
        }
        _ => CheckReport {
            diagnostics: unreadable,
            config: None,
        },
    }
}

/// Loads a config file for `hawser run`.
///
/// # Errors
/// Every diagnostic, when there is any (an Error or an Unsupported feature both stop a run),
/// sorted by position.
pub fn load(path: &Path) -> Result<Config, Vec<Diagnostic>> {
    into_result(check(path))
}

/// Loads a config from text; `file_name` is used in diagnostics. For tests and the embedded
/// default config.
///
/// # Errors
/// As [`load`].
pub fn load_str(text: &str, file_name: &str) -> Result<Config, Vec<Diagnostic>> {
    into_result(check_str(text, file_name))
}

/// [`load_str`] with profiles layered over the config, in order.
///
/// # Errors
/// As [`load`].
pub fn load_layered(
    text: &str,
    file_name: &str,
    profiles: &[Layer<'_>],
) -> Result<Config, Vec<Diagnostic>> {
    into_result(check_layered(text, file_name, profiles))
}

/// [`check`] on text already read.
pub fn check_str(text: &str, file_name: &str) -> CheckReport {
    check_layered(text, file_name, &[])
}

/// [`check_with_profiles`] on text already read: `text` is the base config, `profiles` are
/// merged onto it in order. Diagnostics are sorted by file (the base first, then the profiles
/// in order), then line and column.
pub fn check_layered(text: &str, file_name: &str, profiles: &[Layer<'_>]) -> CheckReport {
    let mut files = vec![(file_name.to_string(), text)];
    files.extend(profiles.iter().map(|l| (l.name.to_string(), l.text)));
    let mut ctx = walk::Ctx::layered(files);
    let mut trees = Vec::new();
    let mut syntax_ok = true;
    for (source, layer_text) in std::iter::once(text)
        .chain(profiles.iter().map(|l| l.text))
        .enumerate()
    {
        match yaml::parse(layer_text) {
            Ok(mut root) => {
                if let Some(r) = root.as_mut() {
                    layer::set_source(r, source);
                }
                trees.push(root);
            }
            Err(errors) => {
                syntax_ok = false;
                for mut e in errors {
                    e.pos.source = source;
                    ctx.error(e.pos, "", e.message);
                }
            }
        }
    }
    let config = syntax_ok.then(|| {
        let mut layers = trees.into_iter();
        let mut root = layers.next().flatten();
        for profile in layers.flatten() {
            layer::overlay(&mut ctx, &mut root, profile);
        }
        validate::document(&mut ctx, root.as_ref())
    });
    let order: Vec<String> = ctx.file_names();
    let mut diagnostics = ctx.diags;
    diagnostics.sort_by_key(|d| {
        let file = order.iter().position(|n| *n == d.file).unwrap_or(0);
        (file, d.line, d.col)
    });
    let config = config.filter(|_| diagnostics.is_empty());
    CheckReport {
        diagnostics,
        config,
    }
}

fn into_result(report: CheckReport) -> Result<Config, Vec<Diagnostic>> {
    match report.config {
        Some(c) if report.diagnostics.is_empty() => Ok(c),
        _ => Err(report.diagnostics),
    }
}
