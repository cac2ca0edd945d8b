//! What the running system has: sysctl values read from a `/proc` directory (the real one, or
//! a fake one in tests) and this process's resource limits (`getrlimit`). It does not compare
//! anything and never writes a setting.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use super::conf::LimitValue;

/// A sysctl value as read from `/proc/sys`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Current {
    /// The value, with runs of whitespace (the tabs in `tcp_rmem`) collapsed to one space.
    Value(String),
    /// The kernel has no such setting (no file under `/proc/sys`).
    Absent,
    /// The file exists but could not be read (the error, in words).
    Unreadable(String),
}

/// The system being checked: where its `/proc` is, and the limits of the process.
#[derive(Clone, Debug)]
pub struct Host {
    /// The `/proc` directory (`/proc` on a real host).
    pub proc_root: PathBuf,
    /// The soft `RLIMIT_NOFILE`; `None` when it could not be read.
    pub nofile: Option<LimitValue>,
    /// The soft `RLIMIT_MEMLOCK`, in bytes; `None` when it could not be read.
    pub memlock: Option<LimitValue>,
}

impl Host {
    /// This machine: `/proc`, and this process's limits (a process started the same way, by
    /// the same shell or unit, gets the same ones).
    pub fn current() -> Self {
        Self {
            proc_root: PathBuf::from("/proc"),
            nofile: soft_limit(libc::RLIMIT_NOFILE),
            memlock: soft_limit(libc::RLIMIT_MEMLOCK),
        }
    }

    /// Reads a dotted sysctl key (`net.core.somaxconn`) from `proc_root/sys/net/core/somaxconn`.
    pub fn sysctl(&self, key: &str) -> Current {
        read_sysctl(&self.proc_root, key)
    }
}

fn read_sysctl(proc_root: &Path, key: &str) -> Current {
    let mut path = proc_root.join("sys");
    for part in key.split('.') {
        // A key is ours (from the embedded profiles), but never let one climb out of /proc.
        if part.is_empty() || part.contains('/') {
            return Current::Absent;
        }
        path.push(part);
    }
    match std::fs::read_to_string(&path) {
        Ok(text) => Current::Value(text.split_whitespace().collect::<Vec<_>>().join(" ")),
        Err(e) if e.kind() == ErrorKind::NotFound => Current::Absent,
        Err(e) => Current::Unreadable(e.to_string()),
    }
}

/// The soft limit of `resource` for this process.
fn soft_limit(resource: libc::__rlimit_resource_t) -> Option<LimitValue> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable rlimit for getrlimit to fill in; `resource` is one
    // of libc's RLIMIT_* constants.
    if unsafe { libc::getrlimit(resource, &mut lim) } != 0 {
        return None;
    }
    Some(if lim.rlim_cur == libc::RLIM_INFINITY {
        LimitValue::Infinity
    } else {
        LimitValue::Finite(lim.rlim_cur)
    })
}
