//! linkerd's `io.l5d.fs` namer: a directory (`rootDir`) with one file per service, each line
//! `host port` or `host port * weight` (see [`parse`](parse_service_file) for the line format).
//! A name `/#/<prefix>/<file>` binds to the endpoints in that file, and, as in linkerd, a
//! subdirectory is walked: `/#/<prefix>/<dir>/<file>/rest` binds to `<dir>/<file>` with the
//! residual `/rest` (at most [`MAX_DEPTH`] directories deep; a directory's own name is negative).
//!
//! [`FsNamer::poll`] rescans the directory with blocking `std::fs` calls, cheaply: a file is
//! re-read only when its size, mtime, ctime or inode changed (or it changed so recently that a
//! same-size rewrite could hide in one mtime tick), and a new [`FsSnapshot`] is returned only when
//! the served set or the reported problems changed. [`spawn_fs_watcher`] runs it on a thread.
//!
//! Semantics: an empty file is bound with no endpoints. Where linkerd 1.x would make the name
//! negative (file deleted) or fail the address (file broken), hawser keeps the last good set and
//! reports: a file that is deleted, or becomes unreadable, too big or malformed, keeps its
//! previous endpoints and adds a line (file, line number, reason) to [`FsSnapshot::problems`];
//! such a file seen for the first time is not bound. Emptying a file takes a service out of
//! rotation. Symlinks are followed (Kubernetes ConfigMap
//! mounts are symlinks into `..data`).
//!
//! Deliberately not done: no inotify is used (polling is bounded and portable). Ignored without a report: dotfiles
//! (`.users.swp`, `.#users`, `..data`), editor files (`#users#`, `users~`, `*.swp`, `*.swo`,
//! `*.swx`, `*.tmp`) and anything that is not a regular file.

mod parse;
#[cfg(test)]
mod tests;
mod watcher;

pub use parse::{Endpoint, LineError, ServiceAddrs, parse_service_file};
pub use watcher::spawn_fs_watcher;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// How many directories deep under `rootDir` service files are looked for.
pub const MAX_DEPTH: usize = 8;

/// Bounds on the work one [`FsNamer::poll`] may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FsLimits {
    /// Most service files served; beyond it the first ones by name are kept and it is reported.
    pub max_files: usize,
    /// Largest service file read, in bytes; a bigger file is reported and not re-read.
    pub max_file_bytes: u64,
    /// Most directory entries looked at per scan (files, ignored names and directories alike).
    pub max_dir_entries: usize,
}

impl Default for FsLimits {
    fn default() -> Self {
        Self {
            max_files: 10_000,
            max_file_bytes: 1 << 20,
            max_dir_entries: 100_000,
        }
    }
}

/// What the namer serves at one moment. Immutable; shared by `Arc`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FsSnapshot {
    /// Bound services by file path relative to `rootDir` (`users`, `prod/users`). A name
    /// absent here is negative.
    pub services: HashMap<String, ServiceAddrs>,
    /// Subdirectories walked, relative to `rootDir` (`prod`, `prod/eu`).
    pub dirs: BTreeSet<String>,
    /// Human-readable reports (file, line, reason, what was kept), sorted by file name.
    pub problems: Vec<String>,
}

impl FsSnapshot {
    /// The endpoints of service `name`, or `None` when it is negative.
    #[must_use]
    pub fn lookup(&self, name: &str) -> Option<&ServiceAddrs> {
        self.services.get(name)
    }

    /// Walks `segments` as linkerd does: a segment naming a file binds (the rest is the
    /// residual), one naming a directory goes one level down, anything else is negative.
    /// Returns how many segments the file's path took and its endpoints.
    #[must_use]
    pub fn lookup_path(&self, segments: &[&str]) -> Option<(usize, &ServiceAddrs)> {
        let mut path = String::new();
        for (i, seg) in segments.iter().enumerate().take(MAX_DEPTH + 1) {
            if i > 0 {
                path.push('/');
            }
            path.push_str(seg);
            if let Some(svc) = self.services.get(&path) {
                return Some((i + 1, svc));
            }
            if !self.dirs.contains(&path) {
                return None;
            }
        }
        None
    }
}

/// How long after a file's mtime a same-size rewrite could go unseen in one mtime tick; such a
/// recently modified file is re-read on the next poll even if its stamp is unchanged.
const RACY_WINDOW: Duration = Duration::from_secs(2);

/// The cheap identity of a file version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    mtime: Option<SystemTime>,
    ctime: (i64, i64),
    ino: u64,
    dev: u64,
}

impl Stamp {
    fn of(md: &fs::Metadata) -> Self {
        Self {
            len: md.len(),
            mtime: md.modified().ok(),
            ctime: (md.ctime(), md.ctime_nsec()),
            ino: md.ino(),
            dev: md.dev(),
        }
    }

    /// Modified so close to `now` that a rewrite in the same mtime tick may follow unseen.
    fn is_racy(&self, now: SystemTime) -> bool {
        match self.mtime {
            None => true,
            Some(m) => match now.duration_since(m) {
                Ok(age) => age < RACY_WINDOW,
                Err(ahead) => ahead.duration() < RACY_WINDOW,
            },
        }
    }
}

/// What the namer knows about one service file.
#[derive(Debug, Default)]
struct Entry {
    /// The stamp of the version last read; `None` when the last attempt failed.
    stamp: Option<Stamp>,
    /// The stamp was taken within [`RACY_WINDOW`] of its mtime: read it again next time.
    racy: bool,
    /// The last good endpoints; `None` until the file has once been read and parsed.
    good: Option<ServiceAddrs>,
    /// Why the current version is not served, if it is not.
    problem: Option<String>,
}

/// The `io.l5d.fs` namer over one `rootDir`.
#[derive(Debug)]
pub struct FsNamer {
    root: PathBuf,
    prefix: String,
    limits: FsLimits,
    entries: BTreeMap<String, Entry>,
    dirs: BTreeSet<String>,
    dir_problems: Vec<String>,
    current: Option<Arc<FsSnapshot>>,
}

impl FsNamer {
    /// A namer over `root_dir`, named by `prefix` (linkerd's default is `/io.l5d.fs`, making
    /// names `/#/io.l5d.fs/<file>`). Touches no file until [`load_initial`](Self::load_initial) or
    /// [`poll`](Self::poll).
    pub fn new(root_dir: impl Into<PathBuf>, prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        let prefix = if prefix.starts_with('/') {
            prefix
        } else {
            format!("/{prefix}")
        };
        Self {
            root: root_dir.into(),
            prefix,
            limits: FsLimits::default(),
            entries: BTreeMap::new(),
            dirs: BTreeSet::new(),
            dir_problems: Vec::new(),
            current: None,
        }
    }

    /// Replaces the default [`FsLimits`].
    #[must_use]
    pub fn with_limits(mut self, limits: FsLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The watched directory.
    #[must_use]
    pub fn root_dir(&self) -> &Path {
        &self.root
    }

    /// The configured prefix, with a leading `/` (`/io.l5d.fs`).
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The bound id of service `name`: `/#<prefix>/<name>`.
    #[must_use]
    pub fn bound_id(&self, name: &str) -> String {
        format!("/#{}/{}", self.prefix, name)
    }

    /// The snapshot last returned by [`poll`](Self::poll) or [`load_initial`](Self::load_initial).
    #[must_use]
    pub fn current(&self) -> Option<Arc<FsSnapshot>> {
        self.current.clone()
    }

    /// Scans the directory for the first time and returns what it serves, for start-up.
    ///
    /// # Errors
    /// When `rootDir` is missing, not a directory or cannot be listed; the message names it.
    /// (Later scans that fail keep the last snapshot and report instead.)
    pub fn load_initial(&mut self) -> io::Result<Arc<FsSnapshot>> {
        let context = |e: io::Error| {
            io::Error::new(
                e.kind(),
                format!("io.l5d.fs rootDir {}: {e}", self.root.display()),
            )
        };
        let md = fs::metadata(&self.root).map_err(context)?;
        if !md.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("io.l5d.fs rootDir {}: not a directory", self.root.display()),
            ));
        }
        fs::read_dir(&self.root).map_err(context)?;
        self.poll();
        Ok(self.current.clone().unwrap_or_default())
    }

    /// Rescans `rootDir`; returns a new snapshot only when what is served or reported changed.
    pub fn poll(&mut self) -> Option<Arc<FsSnapshot>> {
        let now = SystemTime::now();
        let mut dirty = self.current.is_none();
        let mut dir_problems = Vec::new();
        if let Some((names, dirs)) = self.list_names(&mut dir_problems) {
            if dirs != self.dirs {
                self.dirs = dirs;
                dirty = true;
            }
            let gone: Vec<String> = self
                .entries
                .keys()
                .filter(|n| !names.contains(*n))
                .cloned()
                .collect();
            for name in gone {
                dirty |= self.mark_removed(&name);
            }
            for name in &names {
                dirty |= self.refresh(name, now);
            }
        }
        if dir_problems != self.dir_problems {
            self.dir_problems = dir_problems;
            dirty = true;
        }
        if !dirty {
            return None;
        }
        let snapshot = self.build_snapshot();
        if self.current.as_deref() == Some(&snapshot) {
            return None;
        }
        let snapshot = Arc::new(snapshot);
        self.current = Some(Arc::clone(&snapshot));
        Some(snapshot)
    }

    /// The valid service names under `rootDir` (relative paths, within limits) and the
    /// subdirectories walked, or `None` when `rootDir` itself cannot be listed, in which case the
    /// entries are kept as they were. An unlistable subdirectory is reported and its files are
    /// treated as removed (so they keep their last good sets).
    fn list_names(
        &self,
        problems: &mut Vec<String>,
    ) -> Option<(BTreeSet<String>, BTreeSet<String>)> {
        let mut names = BTreeSet::new();
        let mut dirs = BTreeSet::new();
        let mut seen = 0usize;
        // (relative path, depth); "" is rootDir itself.
        let mut pending: Vec<(String, usize)> = vec![(String::new(), 0)];
        'walk: while let Some((rel, depth)) = pending.pop() {
            let dir_path = if rel.is_empty() {
                self.root.clone()
            } else {
                self.root.join(&rel)
            };
            let dir = match fs::read_dir(&dir_path) {
                Ok(dir) => dir,
                Err(e) if rel.is_empty() => {
                    problems.push(format!(
                        "{}: cannot list rootDir: {e}; keeping the last known services",
                        self.root.display()
                    ));
                    return None;
                }
                Err(e) => {
                    problems.push(format!(
                        "{}: cannot list: {e}; its services keep their last good sets",
                        dir_path.display()
                    ));
                    continue;
                }
            };
            for entry in dir {
                seen += 1;
                if seen > self.limits.max_dir_entries {
                    problems.push(format!(
                        "{}: more than {} directory entries; the rest are not looked at",
                        self.root.display(),
                        self.limits.max_dir_entries
                    ));
                    break 'walk;
                }
                let Ok(entry) = entry else { continue };
                let os_name = entry.file_name();
                let Some(name) = os_name.to_str() else {
                    problems.push(format!(
                        "{}: file name {:?} is not UTF-8; ignored",
                        dir_path.display(),
                        os_name.to_string_lossy()
                    ));
                    continue;
                };
                if is_ignored_name(name) {
                    continue;
                }
                if !is_path_segment(name) {
                    problems.push(format!(
                        "{}: file name {name:?} is not a valid path segment \
                         (letters, digits and _:.#$%- only); ignored",
                        dir_path.display()
                    ));
                    continue;
                }
                let child = if rel.is_empty() {
                    name.to_owned()
                } else {
                    format!("{rel}/{name}")
                };
                // Follows symlinks (a ConfigMap's entries are links).
                let is_dir = entry.file_type().is_ok_and(|t| {
                    t.is_dir()
                        || (t.is_symlink() && fs::metadata(entry.path()).is_ok_and(|m| m.is_dir()))
                });
                if is_dir {
                    if depth + 1 > MAX_DEPTH {
                        problems.push(format!(
                            "{}: deeper than {MAX_DEPTH} directories; not looked at",
                            dir_path.join(name).display()
                        ));
                    } else {
                        dirs.insert(child.clone());
                        pending.push((child, depth + 1));
                    }
                    continue;
                }
                names.insert(child);
            }
        }
        if names.len() > self.limits.max_files {
            problems.push(format!(
                "{}: {} service files exceed the limit of {}; only the first {} by name are served",
                self.root.display(),
                names.len(),
                self.limits.max_files,
                self.limits.max_files
            ));
            let keep: BTreeSet<String> = names.into_iter().take(self.limits.max_files).collect();
            names = keep;
        }
        Some((names, dirs))
    }

    /// Brings the entry for `name` up to date; true when what it serves or reports changed.
    /// A name that turns out not to be a regular file (or vanished) loses its entry.
    fn refresh(&mut self, name: &str, now: SystemTime) -> bool {
        let path = self.root.join(name);
        let md = match fs::metadata(&path) {
            Ok(md) => md,
            Err(e)
                if e.kind() == io::ErrorKind::NotFound && fs::symlink_metadata(&path).is_err() =>
            {
                // Removed between listing and stat: like a deleted file.
                return self.mark_removed(name);
            }
            Err(e) => {
                let entry = self.entries.entry(name.to_owned()).or_default();
                entry.stamp = None;
                return set_problem(entry, &path, &format!("cannot stat: {e}"));
            }
        };
        if !md.is_file() {
            return self.mark_removed(name);
        }
        let stamp = Stamp::of(&md);
        let limit = self.limits.max_file_bytes;
        let entry = self.entries.entry(name.to_owned()).or_default();
        if entry.stamp == Some(stamp) && !entry.racy {
            return false;
        }
        entry.stamp = Some(stamp);
        entry.racy = stamp.is_racy(now);
        let text = match read_bounded(&path, stamp.len, limit) {
            Ok(text) => text,
            Err(reason) => return set_problem(entry, &path, &reason),
        };
        match parse_service_file(&text) {
            Ok(addrs) => {
                let changed = entry.good.as_ref() != Some(&addrs) || entry.problem.is_some();
                entry.good = Some(addrs);
                entry.problem = None;
                changed
            }
            Err(e) => set_problem(entry, &path, &e.to_string()),
        }
    }

    /// A service file disappeared. As issue 2 asks (and unlike linkerd 1.x,
    /// which makes the name negative), a service that was once served keeps
    /// its last good set and the removal is reported: a file briefly missing
    /// during a deploy or a ConfigMap swap must not take a service down. To
    /// take a service out of rotation, empty its file. A name that never
    /// had a good set is simply forgotten. True when anything changed.
    fn mark_removed(&mut self, name: &str) -> bool {
        let path = self.root.join(name);
        match self.entries.get_mut(name) {
            None => false,
            Some(e) if e.good.is_none() => self.entries.remove(name).is_some(),
            Some(e) => {
                e.stamp = None;
                e.racy = false;
                set_problem(
                    e,
                    &path,
                    "file removed (empty the file instead to take the service out of rotation)",
                )
            }
        }
    }

    fn build_snapshot(&self) -> FsSnapshot {
        let services = self
            .entries
            .iter()
            .filter_map(|(name, e)| e.good.clone().map(|g| (name.clone(), g)))
            .collect();
        let problems = self
            .dir_problems
            .iter()
            .cloned()
            .chain(self.entries.values().filter_map(|e| e.problem.clone()))
            .collect();
        FsSnapshot {
            services,
            dirs: self.dirs.clone(),
            problems,
        }
    }
}

/// Records why the current version of a file is not served; true when the report changed.
fn set_problem(entry: &mut Entry, path: &Path, reason: &str) -> bool {
    let consequence = match &entry.good {
        Some(g) => format!(
            "keeping the last good set ({} endpoints)",
            g.endpoints.len()
        ),
        None => "not bound".to_owned(),
    };
    let problem = format!("{}: {reason}; {consequence}", path.display());
    let changed = entry.problem.as_deref() != Some(problem.as_str());
    entry.problem = Some(problem);
    changed
}

/// Reads a file of at most `limit` bytes (checked both from `len` and while reading, since the
/// file may grow), as text with invalid UTF-8 replaced (it can only matter in a bad line).
fn read_bounded(path: &Path, len: u64, limit: u64) -> Result<String, String> {
    let too_big = || format!("file is larger than the {limit}-byte limit");
    if len > limit {
        return Err(too_big());
    }
    let file = fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > limit {
        return Err(too_big());
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Editor and tooling leftovers that are never services.
fn is_ignored_name(name: &str) -> bool {
    name.starts_with('.')
        || name.starts_with('#')
        || name.ends_with('~')
        || [".swp", ".swo", ".swx", ".tmp"]
            .iter()
            .any(|ext| name.ends_with(ext))
}

/// A path segment Finagle can show without escapes: `[A-Za-z0-9_:.#$%-]+`.
fn is_path_segment(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_:.#$%-".contains(&b))
}
