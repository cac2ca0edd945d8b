//! Glue between namers and shards: the control thread's [`NamerSet`]
//! (loads and watches the configured namers, resolves host names) and each
//! shard's [`NamerTable`] (the latest snapshot per namer prefix).

use std::cell::{Cell, RefCell};
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use super::fs::{FsNamer, FsSnapshot, spawn_fs_watcher};
use crate::config::NamerConfig;

/// How often `io.l5d.fs` directories are rescanned.
const FS_POLL: Duration = Duration::from_millis(500);

/// The current state of one namer, as sent to shards.
#[derive(Debug, Clone)]
pub struct NamerUpdate {
    /// The namer's full prefix, e.g. `/#/io.l5d.fs`.
    pub prefix: String,
    /// Its services, with host names already resolved.
    pub snapshot: Arc<FsSnapshot>,
    /// Problems to report (broken files and the like).
    pub problems: Vec<String>,
}

/// The configured namers, on the control thread.
pub struct NamerSet {
    namers: Vec<FsNamer>,
    current: Vec<NamerUpdate>,
}

fn full_prefix(p: &str) -> String {
    let p = p.trim_end_matches('/');
    if p.starts_with("/#/") {
        p.to_string()
    } else {
        format!(
            "/#{}",
            if p.starts_with('/') {
                p.to_string()
            } else {
                format!("/{p}")
            }
        )
    }
}

/// How often `io.l5d.fs` host names are resolved again (like `/$/inet`'s).
pub const FS_DNS_REFRESH: Duration = Duration::from_secs(5);

/// True when some endpoint has no address yet (given by a host name not resolved, or not
/// resolvable).
fn has_host_names(snapshot: &FsSnapshot) -> bool {
    snapshot
        .services
        .values()
        .any(|s| s.endpoints.iter().any(|e| e.addr.is_none()))
}

/// [`resolve`], keeping an endpoint's address from `previous` (the last
/// resolved snapshot) when its host name does not resolve now, so a DNS
/// outage does not take endpoints out of rotation.
fn resolve_keeping(snapshot: Arc<FsSnapshot>, previous: Option<&FsSnapshot>) -> Arc<FsSnapshot> {
    let fresh = resolve(snapshot);
    let Some(previous) = previous else {
        return fresh;
    };
    if !has_host_names(&fresh) {
        return fresh;
    }
    let mut owned = (*fresh).clone();
    for (name, svc) in owned.services.iter_mut() {
        let Some(old) = previous.services.get(name) else {
            continue;
        };
        for e in svc.endpoints.iter_mut().filter(|e| e.addr.is_none()) {
            e.addr = old
                .endpoints
                .iter()
                .find(|o| o.host == e.host && o.port == e.port)
                .and_then(|o| o.addr);
        }
    }
    Arc::new(owned)
}

/// Fills in addresses for endpoints given by host name (blocking DNS; runs
/// on the control or watcher thread, never on a shard).
fn resolve(snapshot: Arc<FsSnapshot>) -> Arc<FsSnapshot> {
    if !has_host_names(&snapshot) {
        return snapshot;
    }
    let mut owned = (*snapshot).clone();
    for (name, svc) in owned.services.iter_mut() {
        for e in svc.endpoints.iter_mut().filter(|e| e.addr.is_none()) {
            match (e.host.as_str(), e.port).to_socket_addrs() {
                Ok(mut addrs) => e.addr = addrs.next(),
                Err(err) => owned
                    .problems
                    .push(format!("{name}: cannot resolve {}: {err}", e.host)),
            }
        }
    }
    Arc::new(owned)
}

impl NamerSet {
    /// Loads every namer once (a missing `rootDir` is an error).
    ///
    /// # Errors
    /// A message naming the namer and what is wrong.
    pub fn load(configs: &[NamerConfig]) -> Result<NamerSet, String> {
        let mut namers = Vec::new();
        let mut current = Vec::new();
        for c in configs {
            match c {
                NamerConfig::Fs(fs) => {
                    let prefix = full_prefix(&fs.prefix.value);
                    let mut namer = FsNamer::new(fs.root_dir.clone(), prefix.clone());
                    let snap = namer
                        .load_initial()
                        .map_err(|e| format!("namer {prefix}: {e}"))?;
                    let snap = resolve(snap);
                    current.push(NamerUpdate {
                        prefix,
                        problems: snap.problems.clone(),
                        snapshot: snap,
                    });
                    namers.push(namer);
                }
            }
        }
        Ok(NamerSet { namers, current })
    }

    /// The state loaded at start-up.
    pub fn current(&self) -> Vec<NamerUpdate> {
        self.current.clone()
    }

    /// Starts one watcher thread per namer; `on_change` gets every change.
    ///
    /// # Errors
    /// When a thread cannot be started.
    pub fn watch(
        self,
        stop: Arc<AtomicBool>,
        on_change: impl Fn(NamerUpdate) + Send + Sync + 'static,
    ) -> Result<(), String> {
        let on_change = Arc::new(on_change);
        for (namer, first) in self.namers.into_iter().zip(self.current) {
            let prefix = full_prefix(namer.prefix());
            let cb = on_change.clone();
            // The namer's own (unresolved) snapshot, the resolved one last
            // published, and when its host names were last resolved.
            let mut raw = namer.current().unwrap_or_default();
            let mut published = first.snapshot;
            let mut resolved_at = Instant::now();
            spawn_fs_watcher(
                namer,
                FS_POLL,
                move |changed| {
                    let snap = match changed {
                        Some(snap) => {
                            raw = snap.clone();
                            resolve_keeping(snap, None)
                        }
                        None if has_host_names(&raw) && resolved_at.elapsed() >= FS_DNS_REFRESH => {
                            let again = resolve_keeping(raw.clone(), Some(&published));
                            resolved_at = Instant::now();
                            if again == published {
                                return;
                            }
                            again
                        }
                        None => return,
                    };
                    resolved_at = Instant::now();
                    published = snap.clone();
                    cb(NamerUpdate {
                        prefix: prefix.clone(),
                        problems: snap.problems.clone(),
                        snapshot: snap,
                    });
                },
                stop.clone(),
            )
            .map_err(|e| format!("namer watcher: {e}"))?;
        }
        Ok(())
    }
}

/// One shard's view of every namer.
pub struct NamerTable {
    namers: RefCell<Vec<NamerUpdate>>,
    generation: Cell<u64>,
}

/// What a namer says about a `/#/...` path.
#[derive(Debug, Clone, PartialEq)]
pub enum NamerAnswer {
    /// Bound: the concrete id (`/#/prefix/name`), the residual path segments,
    /// and the addresses (possibly none).
    Bound {
        /// `/#/prefix/name`.
        id: String,
        /// Segments after the name.
        residual: Vec<String>,
        /// Resolved addresses with their load-balancing weights (1.0 unless the
        /// service file says `host port * weight`).
        addrs: Vec<(SocketAddr, f64)>,
    },
    /// No such name in this namer (or no namer with this prefix).
    Neg,
}

impl NamerTable {
    /// A table holding the initial state.
    pub fn new(initial: Vec<NamerUpdate>) -> Self {
        NamerTable {
            namers: RefCell::new(initial),
            generation: Cell::new(0),
        }
    }

    /// Applies an update; bumps the generation so caches can tell.
    pub fn update(&self, u: NamerUpdate) {
        let mut n = self.namers.borrow_mut();
        match n.iter_mut().find(|x| x.prefix == u.prefix) {
            Some(slot) => *slot = u,
            None => n.push(u),
        }
        self.generation.set(self.generation.get() + 1);
    }

    /// Changes with every update.
    pub fn generation(&self) -> u64 {
        self.generation.get()
    }

    /// Looks up a path given as segments (`["#", "io.l5d.fs", "users", ...]`).
    /// The longest matching namer prefix wins.
    pub fn lookup(&self, segments: &[&str]) -> NamerAnswer {
        lookup_in(&self.namers.borrow(), segments)
    }
}

/// [`NamerTable::lookup`] over a plain list (also used by the delegator on
/// the control thread).
pub fn lookup_in(namers: &[NamerUpdate], segments: &[&str]) -> NamerAnswer {
    let mut best: Option<(&NamerUpdate, usize)> = None;
    for n in namers {
        let pre: Vec<&str> = n.prefix.split('/').filter(|s| !s.is_empty()).collect();
        if segments.len() > pre.len()
            && segments[..pre.len()] == pre[..]
            && best.is_none_or(|(_, l)| pre.len() > l)
        {
            best = Some((n, pre.len()));
        }
    }
    let Some((n, plen)) = best else {
        return NamerAnswer::Neg;
    };
    let rest = &segments[plen..];
    match n.snapshot.lookup_path(rest) {
        None => NamerAnswer::Neg,
        Some((took, svc)) => NamerAnswer::Bound {
            id: format!("{}/{}", n.prefix, rest[..took].join("/")),
            residual: rest[took..].iter().map(|s| s.to_string()).collect(),
            addrs: svc
                .endpoints
                .iter()
                .filter_map(|e| Some((e.addr?, e.weight)))
                .collect(),
        },
    }
}
