//! The walker's toolkit: a context that collects diagnostics, key checking against the schema
//! tables, and typed readers for scalars that report what is wrong and where.
//!
//! Readers return `None` after reporting a problem, so validators fall back to defaults and keep
//! going: every problem in a file is reported in one run. Nothing here knows the config's shape
//! beyond what the tables passed in say.

use std::net::IpAddr;
use std::ops::RangeInclusive;

use super::diagnostic::{Diagnostic, Severity, did_you_mean};
use super::schema::{self, Key, Keys};
use super::spanned::Position;
use super::yaml::{Entry, Node, Plain, Value, classify_plain};

/// Where the walker is: a key path like `routers[0].servers[1]` (empty at the top).
pub(crate) fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

pub(crate) fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

fn place(path: &str) -> String {
    if path.is_empty() {
        "the top level".into()
    } else {
        path.to_string()
    }
}

pub(crate) struct Ctx<'s> {
    /// The files a layered config was read from, by [`Position::source`]: (name, text). The
    /// base config first; never empty.
    files: Vec<(String, &'s str)>,
    pub diags: Vec<Diagnostic>,
}

/// The supported entries of a checked mapping, by key.
pub(crate) struct Fields<'n> {
    entries: Vec<&'n Entry>,
}

impl<'n> Fields<'n> {
    pub fn get(&self, key: &str) -> Option<&'n Entry> {
        self.entries.iter().copied().find(|e| e.key == key)
    }
}

impl<'s> Ctx<'s> {
    /// A context for a config layered from several files: `files[0]` is the base config, the
    /// others the profiles in order (a node's [`Position::source`] indexes this list).
    pub fn layered(files: Vec<(String, &'s str)>) -> Self {
        let files = if files.is_empty() {
            vec![(String::new(), "")]
        } else {
            files
        };
        Self {
            files,
            diags: Vec::new(),
        }
    }

    /// The names of the files, in layer order.
    pub fn file_names(&self) -> Vec<String> {
        self.files.iter().map(|(n, _)| n.clone()).collect()
    }

    /// The name of the file `pos` is in.
    pub fn file_name(&self, pos: Position) -> &str {
        self.files
            .get(pos.source)
            .or(self.files.first())
            .map_or("", |(n, _)| n.as_str())
    }

    /// The text of the file `pos` is in (for [`super::spanned::Spanned::from_scalar`]).
    pub fn source_text(&self, pos: Position) -> &'s str {
        self.files
            .get(pos.source)
            .or(self.files.first())
            .map_or("", |(_, t)| t)
    }

    /// How a message at `here` refers to `other`: "line 7", or "line 7 of FILE" when `other`
    /// is in another file of a layered config.
    pub fn line_ref(&self, other: Position, here: Position) -> String {
        if other.source == here.source {
            format!("line {}", other.line)
        } else {
            format!("line {} of {}", other.line, self.file_name(other))
        }
    }

    fn push(&mut self, pos: Position, path: &str, message: String, severity: Severity) {
        self.diags.push(Diagnostic {
            file: self.file_name(pos).to_string(),
            line: pos.line,
            col: pos.col,
            key_path: path.to_string(),
            message,
            severity,
        });
    }

    pub fn error(&mut self, pos: Position, path: &str, message: impl Into<String>) {
        self.push(pos, path, message.into(), Severity::Error);
    }

    pub fn unsupported(&mut self, pos: Position, path: &str, message: impl Into<String>) {
        self.push(pos, path, message.into(), Severity::Unsupported);
    }

    /// "`key` (in path) is a linkerd 1.x feature hawser does not support yet".
    pub fn unsupported_key(&mut self, pos: Position, parent: &str, key: &str) {
        let msg = format!(
            "`{key}` ({}) is a linkerd 1.x feature hawser does not support yet",
            place(parent)
        );
        self.unsupported(pos, &child(parent, key), msg);
    }

    /// "`kind: k` (section) is a linkerd 1.x feature hawser does not support yet".
    pub fn unsupported_kind(&mut self, pos: Position, path: &str, section: &str, kind: &str) {
        let msg = format!(
            "`kind: {kind}` ({section}) is a linkerd 1.x feature hawser does not support yet"
        );
        self.unsupported(pos, &child(path, "kind"), msg);
    }

    /// Checks that `node` is a mapping whose keys are all in `tables`: duplicate keys and
    /// unknown keys are errors (with a suggestion when one is close), obsolete spellings are
    /// errors saying what to write, unsupported keys are reported when `report_unsupported`.
    /// Returns the supported entries, or `None` (after an error) when `node` is not a mapping.
    pub fn keys<'n>(
        &mut self,
        node: &'n Node,
        path: &str,
        tables: &[Keys],
        report_unsupported: bool,
    ) -> Option<Fields<'n>> {
        let entries = self.mapping(node, path)?;
        let mut fields = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            if let Some(first) = entries[..i].iter().find(|f| f.key == e.key) {
                let msg = format!(
                    "duplicate key `{}` in {} (first at {})",
                    e.key,
                    place(path),
                    self.line_ref(first.key_pos, e.key_pos)
                );
                self.error(e.key_pos, &child(path, &e.key), msg);
                continue;
            }
            let class = tables.iter().find_map(|t| schema::lookup(t, &e.key));
            match class {
                Some(Key::Supported) => fields.push(e),
                Some(Key::Ignored) => {}
                Some(Key::Unsupported) => {
                    if report_unsupported {
                        self.unsupported_key(e.key_pos, path, &e.key);
                    }
                }
                Some(Key::Obsolete(hint)) => {
                    let msg = format!("`{}` is not a linkerd 1.x key: {hint}", e.key);
                    self.error(e.key_pos, &child(path, &e.key), msg);
                }
                Some(Key::Foreign(text)) => {
                    if report_unsupported {
                        let msg = format!("`{}` ({}) {text}", e.key, place(path));
                        self.unsupported(e.key_pos, &child(path, &e.key), msg);
                    }
                }
                None => self.unknown_key(e, path, tables),
            }
        }
        Some(Fields { entries: fields })
    }

    fn unknown_key(&mut self, e: &Entry, path: &str, tables: &[Keys]) {
        let names = tables.iter().flat_map(|t| t.iter().map(|(k, _)| *k));
        let mut msg = if path.is_empty() {
            format!("unknown key `{}` at the top level", e.key)
        } else {
            format!("unknown key `{}` in {path}", e.key)
        };
        if let Some(s) = did_you_mean(&e.key, names) {
            msg.push_str(&format!("; did you mean `{s}`?"));
        }
        self.error(e.key_pos, &child(path, &e.key), msg);
    }

    /// The entries of a mapping, or an error naming what was found instead.
    pub fn mapping<'n>(&mut self, node: &'n Node, path: &str) -> Option<&'n [Entry]> {
        match &node.value {
            Value::Map(m) => Some(m),
            _ if path.is_empty() => {
                let msg = format!(
                    "the config must be a mapping of sections (admin, namers, routers, ...), found {}",
                    found(node)
                );
                self.error(node.pos, path, msg);
                None
            }
            _ => {
                let msg = format!("`{path}` must be a mapping, found {}", found(node));
                self.error(node.pos, path, msg);
                None
            }
        }
    }

    /// The items of a list, or an error naming what was found instead.
    pub fn list<'n>(&mut self, node: &'n Node, path: &str) -> Option<&'n [Node]> {
        match &node.value {
            Value::Seq(items) => Some(items),
            _ => {
                let msg = format!("`{path}` must be a list, found {}", found(node));
                self.error(node.pos, path, msg);
                None
            }
        }
    }

    /// A string: any non-null scalar (linkerd reads `label: 7` as the string "7").
    pub fn string<'n>(&mut self, node: &'n Node, path: &str) -> Option<&'n str> {
        match &node.value {
            Value::Scalar(s) if !node.is_null() => Some(&s.text),
            _ => {
                let msg = format!("`{path}` must be a string, found {}", found(node));
                self.error(node.pos, path, msg);
                None
            }
        }
    }

    /// An integer within `range`. A quoted integer is accepted, as linkerd's reader does.
    pub fn int(&mut self, node: &Node, path: &str, range: RangeInclusive<i128>) -> Option<i128> {
        let value = match &node.value {
            Value::Scalar(s) => match classify_plain(s.text.trim()) {
                Plain::Int(i) => Some(i),
                _ => None,
            },
            _ => None,
        };
        let Some(v) = value else {
            let msg = format!("`{path}` must be an integer, found {}", found(node));
            self.error(node.pos, path, msg);
            return None;
        };
        if !range.contains(&v) {
            let msg = format!(
                "`{path}` must be between {} and {}, found {v}",
                range.start(),
                range.end()
            );
            self.error(node.pos, path, msg);
            return None;
        }
        Some(v)
    }

    /// A number (integer or decimal) within `lo..=hi`.
    pub fn number(&mut self, node: &Node, path: &str, lo: f64, hi: f64) -> Option<f64> {
        let value = match &node.value {
            Value::Scalar(s) => s.text.trim().parse::<f64>().ok().filter(|v| v.is_finite()),
            _ => None,
        };
        let Some(v) = value else {
            let msg = format!("`{path}` must be a number, found {}", found(node));
            self.error(node.pos, path, msg);
            return None;
        };
        if !(lo..=hi).contains(&v) {
            let msg = format!("`{path}` must be between {lo} and {hi}, found {v}");
            self.error(node.pos, path, msg);
            return None;
        }
        Some(v)
    }

    /// A boolean. A quoted `"true"`/`"false"` is accepted, as linkerd's reader does.
    pub fn bool(&mut self, node: &Node, path: &str) -> Option<bool> {
        if let Value::Scalar(s) = &node.value
            && let Plain::Bool(b) = classify_plain(s.text.trim())
        {
            return Some(b);
        }
        let msg = format!("`{path}` must be true or false, found {}", found(node));
        self.error(node.pos, path, msg);
        None
    }

    /// An IP address literal.
    pub fn ip(&mut self, node: &Node, path: &str) -> Option<IpAddr> {
        let text = self.string(node, path)?;
        if let Ok(ip) = text.trim().parse::<IpAddr>() {
            return Some(ip);
        }
        if text.contains("${") || text.starts_with('$') {
            let msg = format!(
                "`{path}` must be an IP address, found `{text}`: hawser does not expand environment variables in configs"
            );
            self.error(node.pos, path, msg);
        } else if is_host_name(text) {
            let msg = format!(
                "`{path}: {text}`: a host name here is a linkerd 1.x feature hawser does not support yet; write an IP address"
            );
            self.unsupported(node.pos, path, msg);
        } else {
            let msg = format!("`{path}` must be an IP address, found `{text}`");
            self.error(node.pos, path, msg);
        }
        None
    }

    /// The `kind` of a pluggable section, if `node` is a mapping that has one; reports a
    /// missing or non-string kind.
    pub fn kind<'n>(
        &mut self,
        node: &'n Node,
        path: &str,
        section: &str,
    ) -> Option<(&'n str, Position)> {
        let entries = self.mapping(node, path)?;
        let Some(e) = entries.iter().find(|e| e.key == "kind") else {
            let msg = format!("{section} `{path}` needs a `kind`");
            self.error(node.pos, path, msg);
            return None;
        };
        let kind = self.string(&e.value, &child(path, "kind"))?;
        Some((kind, e.value.pos))
    }

    /// Reports a kind hawser does not support: known to linkerd -> Unsupported; close to a
    /// known kind -> Error with a suggestion; otherwise Unsupported as a possible plugin
    /// (linkerd loads third-party kinds).
    pub fn unsupported_kind_of(
        &mut self,
        kind: &str,
        pos: Position,
        path: &str,
        section: &str,
        known: &[&str],
    ) {
        if known.contains(&kind) {
            self.unsupported_kind(pos, path, section, kind);
        } else {
            self.unknown_kind(kind, pos, path, section, known);
        }
    }

    /// A kind that is not in `known`: an Error with a suggestion when it is close to one,
    /// otherwise Unsupported as a possible third-party plugin.
    pub fn unknown_kind(
        &mut self,
        kind: &str,
        pos: Position,
        path: &str,
        section: &str,
        known: &[&str],
    ) {
        let kpath = child(path, "kind");
        if let Some(s) = did_you_mean(kind, known.iter().copied()) {
            let msg = format!("unknown {section} kind `{kind}`; did you mean `{s}`?");
            self.error(pos, &kpath, msg);
        } else {
            let msg = format!(
                "`kind: {kind}` ({section}) is not a linkerd 1.x built-in (a plugin?); hawser does not support it"
            );
            self.unsupported(pos, &kpath, msg);
        }
    }
}

/// "a string `abc`", "a mapping", ... for messages.
pub(crate) fn found(node: &Node) -> String {
    match &node.value {
        Value::Scalar(s) => {
            let what = node.describe();
            if what == "null" {
                "nothing (null)".into()
            } else {
                format!("{what} `{}`", s.text)
            }
        }
        Value::Map(_) => "a mapping".into(),
        Value::Seq(_) => "a list".into(),
    }
}

fn is_host_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 253
        && text
            .split('.')
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        // All-numeric labels are a malformed IPv4 address, not a name.
        && text.bytes().any(|b| b.is_ascii_alphabetic())
}
