//! Profiles layered over a config (`hawser run CONFIG --profile FILE`): a deep merge of each
//! profile's YAML tree onto the base config's tree, before validation, so every key is checked
//! as if it had been written in the base file, and every diagnostic still names the file, line
//! and column it came from (each node keeps its [`Position::source`]).
//!
//! The rules: mappings merge key by key (a key the base lacks is added after the base's keys);
//! a scalar or a list in the profile replaces the base's value, whatever its type. One
//! exception, because routers are a list: the profile's top-level `routers` is a list of router
//! settings, and each entry merges into base routers instead of replacing the list: an entry
//! with a `label` merges into the base router with that label (a router without `label` is
//! labelled by its `protocol`, as linkerd does), an entry without `label` into every base
//! router. This module does not validate what it merges; the validators do that afterwards.

use super::spanned::Position;
use super::walk::{Ctx, index};
use super::yaml::{Entry, Node, Value};

/// Marks every position in `node` as coming from layer `source` (0: the base config, n: the
/// n-th profile).
pub(crate) fn set_source(node: &mut Node, source: usize) {
    node.pos.source = source;
    match &mut node.value {
        Value::Scalar(_) => {}
        Value::Seq(items) => items.iter_mut().for_each(|n| set_source(n, source)),
        Value::Map(entries) => {
            for e in entries {
                e.key_pos.source = source;
                set_source(&mut e.value, source);
            }
        }
    }
}

/// Merges `profile` onto `base` (see the module doc). Problems with the profile's shape (not a
/// mapping, `routers` not a list of mappings, a label no base router has) are reported on
/// `ctx` at the profile's positions and the offending part is skipped. A base that is empty or
/// not a mapping is left as it is, for the validator to report.
pub(crate) fn overlay(ctx: &mut Ctx<'_>, base: &mut Option<Node>, profile: Node) {
    if profile.is_null() {
        return;
    }
    let Value::Map(overlay_entries) = profile.value else {
        let msg = format!(
            "a profile is a mapping of config keys (like a config file), found {}",
            profile.describe()
        );
        ctx.error(profile.pos, "", msg);
        return;
    };
    let Some(Node {
        value: Value::Map(base_entries),
        ..
    }) = base
    else {
        return;
    };
    for entry in overlay_entries {
        if entry.key == "routers" {
            merge_routers(ctx, base_entries, entry);
        } else {
            merge_entry(base_entries, entry);
        }
    }
}

/// Merges one profile entry into a mapping's entries.
fn merge_entry(base: &mut Vec<Entry>, entry: Entry) {
    let Some(target) = base.iter_mut().find(|e| e.key == entry.key) else {
        base.push(entry);
        return;
    };
    match (&mut target.value.value, entry.value.value) {
        (Value::Map(into), Value::Map(from)) => {
            for e in from {
                merge_entry(into, e);
            }
        }
        (_, value) => {
            // The profile's setting wins, and diagnostics about the key point at the profile.
            target.key_pos = entry.key_pos;
            target.value = Node {
                pos: entry.value.pos,
                value,
            };
        }
    }
}

/// The label of a base router, as the validator computes it: `label`, else `protocol`.
fn router_label(router: &Node) -> Option<&str> {
    let Value::Map(entries) = &router.value else {
        return None;
    };
    let scalar = |key: &str| {
        entries
            .iter()
            .find(|e| e.key == key)
            .and_then(|e| match &e.value.value {
                Value::Scalar(s) => Some(s.text.as_str()),
                _ => None,
            })
    };
    scalar("label").or_else(|| scalar("protocol"))
}

/// A profile's `routers:` entries merge into the base routers (by label, or into all).
fn merge_routers(ctx: &mut Ctx<'_>, base: &mut [Entry], entry: Entry) {
    let Value::Seq(items) = entry.value.value else {
        let msg = format!(
            "in a profile, `routers` is a list of router settings (an entry with `label` merges \
             into the base router with that label, one without into every router), found {}",
            entry.value.describe()
        );
        ctx.error(entry.value.pos, "routers", msg);
        return;
    };
    let Some(Value::Seq(routers)) = base
        .iter_mut()
        .find(|e| e.key == "routers")
        .map(|e| &mut e.value.value)
    else {
        // No base routers (or not a list): the validator reports the base; nothing to merge.
        let msg = "this profile sets `routers`, but the base config has no list of routers to \
                   merge them into";
        ctx.error(entry.key_pos, "routers", msg);
        return;
    };
    for (i, item) in items.into_iter().enumerate() {
        let path = index("routers", i);
        let Value::Map(mut settings) = item.value else {
            let msg = format!(
                "`{path}` in a profile must be a mapping of router settings, found {}",
                item.describe()
            );
            ctx.error(item.pos, &path, msg);
            continue;
        };
        let label = match settings.iter().position(|e| e.key == "label") {
            None => None,
            Some(at) => {
                let e = settings.remove(at);
                match e.value.value {
                    Value::Scalar(s) => Some((s.text, e.value.pos)),
                    _ => {
                        let msg = format!(
                            "`{path}.label` must be a router label, found {}",
                            e.value.describe()
                        );
                        ctx.error(e.value.pos, &format!("{path}.label"), msg);
                        continue;
                    }
                }
            }
        };
        match label {
            None => {
                for router in routers.iter_mut() {
                    merge_into_router(router, &settings);
                }
            }
            Some((label, pos)) => {
                match routers
                    .iter_mut()
                    .find(|r| router_label(r) == Some(label.as_str()))
                {
                    Some(router) => merge_into_router(router, &settings),
                    None => no_such_router(ctx, routers, &label, pos, &path),
                }
            }
        }
    }
}

fn merge_into_router(router: &mut Node, settings: &[Entry]) {
    if let Value::Map(entries) = &mut router.value {
        for e in settings {
            merge_entry(entries, e.clone());
        }
    }
}

fn no_such_router(ctx: &mut Ctx<'_>, routers: &[Node], label: &str, pos: Position, path: &str) {
    let labels: Vec<String> = routers
        .iter()
        .filter_map(router_label)
        .map(|l| format!("`{l}`"))
        .collect();
    let known = if labels.is_empty() {
        "it has no labelled routers".to_string()
    } else {
        format!("its routers are {}", labels.join(", "))
    };
    let base = ctx.file_name(Position::new(1, 1)).to_string();
    let msg = format!("no router labelled `{label}` in {base} to merge this into ({known})");
    ctx.error(pos, &format!("{path}.label"), msg);
}
