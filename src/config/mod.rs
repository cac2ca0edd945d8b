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
//! This module does not parse dtabs or paths beyond a leading `/` (the routing module parses
//! [`RouterConfig::dtab`] and reports at [`Spanned::locate`]), does not resolve host names, and
//! does not read namer directories.

#![forbid(unsafe_code)]

mod diagnostic;
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
mod tests_unsupported;

use std::path::Path;

pub use diagnostic::{Diagnostic, Severity};
pub use spanned::{Position, Spanned};
pub use types::{
    AdminConfig, ByteSize, ClientConfig, Config, FsNamerConfig, IdentifierConfig, NamerConfig,
    PoolConfig, Protocol, RouterConfig, RuntimeConfig, ServerConfig,
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

/// Checks a config file for `hawser check`: reads it and reports every problem, in file order.
///
/// Exit status to use (see [`CheckReport::exit_code`]): 0 when `diagnostics` is empty (and
/// `config` is `Some`), 1 when there are only [`Severity::Unsupported`] diagnostics, 2 when any
/// is a [`Severity::Error`]. A file that cannot be read gives one Error with line 0.
pub fn check(path: &Path) -> CheckReport {
    let name = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => check_str(&text, &name),
        Err(e) => CheckReport {
            diagnostics: vec![Diagnostic {
                file: name,
                line: 0,
                col: 0,
                key_path: String::new(),
                message: format!("cannot read the config file: {e}"),
                severity: Severity::Error,
            }],
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

/// [`check`] on text already read.
pub fn check_str(text: &str, file_name: &str) -> CheckReport {
    let mut ctx = walk::Ctx::new(file_name, text);
    let config = match yaml::parse(text) {
        Ok(root) => Some(validate::document(&mut ctx, root.as_ref())),
        Err(errors) => {
            for e in errors {
                ctx.error(e.pos, "", e.message);
            }
            None
        }
    };
    let mut diagnostics = ctx.diags;
    diagnostics.sort_by_key(|d| (d.line, d.col));
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
