//! What the running system has: sysctl values and this process's status read from a `/proc`
//! directory (the real one, or a fake one in tests), this process's resource limits
//! (`getrlimit`), and whether a test io_uring can be created (a probe tests replace). It does
//! not compare anything and never writes a setting.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use super::conf::LimitValue;
use super::uring::{Probe, ProcStatus, parse_status};

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
    /// Tries to create an io_uring ([`probe_io_uring`] on a real host; tests put a stand-in
    /// here to play a kernel or a seccomp filter that refuses).
    pub io_uring_probe: fn() -> Probe,
}

impl Host {
    /// This machine: `/proc`, and this process's limits (a process started the same way, by
    /// the same shell or unit, gets the same ones).
    pub fn current() -> Self {
        Self {
            proc_root: PathBuf::from("/proc"),
            nofile: soft_limit(libc::RLIMIT_NOFILE),
            memlock: soft_limit(libc::RLIMIT_MEMLOCK),
            io_uring_probe: probe_io_uring,
        }
    }

    /// Reads a dotted sysctl key (`net.core.somaxconn`) from `proc_root/sys/net/core/somaxconn`.
    pub fn sysctl(&self, key: &str) -> Current {
        read_sysctl(&self.proc_root, key)
    }

    /// This process's groups, capabilities and seccomp mode, from `proc_root/self/status`.
    ///
    /// # Errors
    /// The file could not be read (the error, in words).
    pub fn status(&self) -> Result<ProcStatus, String> {
        std::fs::read_to_string(self.proc_root.join("self/status"))
            .map(|text| parse_status(&text))
            .map_err(|e| format!("{}/self/status: {e}", self.proc_root.display()))
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

/// Creates a two-entry io_uring and closes it, in a child process: a seccomp filter may kill
/// the caller of a blocked system call (`SIGSYS`) instead of failing it, and that must not
/// take `hawser tune check` with it. The child makes only async-signal-safe calls (the raw
/// system calls and `_exit`), so this is sound from a threaded process too.
pub fn probe_io_uring() -> Probe {
    // SAFETY: fork has no preconditions; the child below only makes raw system calls and
    // leaves with _exit, never returning into Rust code that might allocate or lock.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Probe::NotRun(format!("fork: {}", std::io::Error::last_os_error()));
    }
    if pid == 0 {
        // struct io_uring_params is 120 bytes; all zero asks for a plain ring.
        let mut params = [0u64; 15];
        // SAFETY: io_uring_setup(entries, params) reads and writes the 120 bytes of `params`,
        // which are valid and writable; close takes the descriptor it returned.
        let code = unsafe {
            let fd = libc::syscall(libc::SYS_io_uring_setup, 2u32, params.as_mut_ptr());
            if fd >= 0 {
                // A descriptor fits a c_int; the syscall returns it as a c_long.
                libc::close(fd as libc::c_int);
                0
            } else {
                // errno values fit an exit status (1..=133); 255 for anything odd.
                let e = *libc::__errno_location();
                if (1..255).contains(&e) { e } else { 255 }
            }
        };
        // SAFETY: _exit ends the child at once, without running the parent's atexit handlers
        // or flushing its buffers.
        unsafe { libc::_exit(code) };
    }
    let mut wstatus = 0;
    loop {
        // SAFETY: `pid` is our child; `wstatus` is a valid int for waitpid to fill in.
        let r = unsafe { libc::waitpid(pid, &mut wstatus, 0) };
        if r == pid {
            break;
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != ErrorKind::Interrupted {
            return Probe::NotRun(format!("waitpid: {err}"));
        }
    }
    if libc::WIFEXITED(wstatus) {
        match libc::WEXITSTATUS(wstatus) {
            0 => Probe::Works,
            e => Probe::Fails(e),
        }
    } else if libc::WIFSIGNALED(wstatus) {
        Probe::Killed(libc::WTERMSIG(wstatus))
    } else {
        Probe::NotRun(format!("the probe ended with wait status {wstatus}"))
    }
}
