//! Whether this process may create an io_uring, the way a deployer needs to know it: who
//! `kernel.io_uring_disabled=1` lets in (`kernel.io_uring_group`, `CAP_SYS_ADMIN`), whether a
//! seccomp filter is in force, and what a real `io_uring_setup` returns. The reading is done by
//! [`Host`](super::Host) (a `/proc` directory and an injectable probe); this module decides
//! what to report.

#![forbid(unsafe_code)]

use super::conf::Rule;
use super::host::{Current, Host};
use super::{Finding, Report};

/// `CAP_SYS_ADMIN`'s bit in the `CapEff:` mask.
const CAP_SYS_ADMIN: u32 = 21;

/// What `/proc/self/status` says about this process that matters to io_uring. A field is
/// `None` when its line is missing or does not parse.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProcStatus {
    /// The filesystem gid (4th number of `Gid:`), which the kernel's group check uses; it
    /// follows the effective gid and is normally also the real one.
    pub fsgid: Option<u32>,
    /// The supplementary groups (`Groups:`).
    pub groups: Vec<u32>,
    /// Whether `CapEff:` has `CAP_SYS_ADMIN`.
    pub cap_sys_admin: Option<bool>,
    /// `Seccomp:`: 0 none, 1 strict, 2 filter.
    pub seccomp: Option<u8>,
    /// `Seccomp_filters:`: how many filters are attached (Linux 5.9 and newer).
    pub seccomp_filters: Option<u32>,
}

/// Reads the fields of [`ProcStatus`] from the text of `/proc/self/status`.
pub fn parse_status(text: &str) -> ProcStatus {
    let mut st = ProcStatus::default();
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key {
            "Gid" => st.fsgid = value.split_whitespace().nth(3).and_then(|g| g.parse().ok()),
            "Groups" => {
                st.groups = value
                    .split_whitespace()
                    .filter_map(|g| g.parse().ok())
                    .collect();
            }
            "CapEff" => {
                st.cap_sys_admin = u64::from_str_radix(value, 16)
                    .ok()
                    .map(|caps| caps & (1 << CAP_SYS_ADMIN) != 0);
            }
            "Seccomp" => st.seccomp = value.parse().ok(),
            "Seccomp_filters" => st.seccomp_filters = value.parse().ok(),
            _ => {}
        }
    }
    st
}

/// What a test `io_uring_setup` (a two-entry ring, closed at once) came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Probe {
    /// The ring was created and closed.
    Works,
    /// `io_uring_setup` failed with this errno.
    Fails(i32),
    /// The probing child was killed by this signal (`SIGSYS`: a seccomp filter that kills
    /// rather than fails the call, e.g. systemd's `SystemCallFilter=` by default).
    Killed(i32),
    /// The probe could not run (the reason, in words).
    NotRun(String),
}

impl Probe {
    /// What a seccomp filter that blocks the call looks like from here.
    fn looks_blocked(&self) -> bool {
        match *self {
            Probe::Fails(e) => matches!(e, libc::EPERM | libc::EACCES | libc::ENOSYS),
            Probe::Killed(sig) => sig == libc::SIGSYS,
            Probe::Works | Probe::NotRun(_) => false,
        }
    }

    /// `fails (EPERM: Operation not permitted)`, `killed by SIGSYS`, `(not run: why)`.
    fn describe(&self) -> String {
        match self {
            Probe::Works => "works".into(),
            Probe::Fails(e) => {
                let text = std::io::Error::from_raw_os_error(*e).to_string();
                let text = text.split(" (os error").next().unwrap_or(&text);
                format!("fails ({}: {text})", errno_name(*e))
            }
            Probe::Killed(sig) if *sig == libc::SIGSYS => "killed by SIGSYS".into(),
            Probe::Killed(sig) => format!("killed by signal {sig}"),
            Probe::NotRun(why) => format!("(not run: {why})"),
        }
    }
}

fn errno_name(e: i32) -> String {
    match e {
        libc::EPERM => "EPERM".into(),
        libc::EACCES => "EACCES".into(),
        libc::ENOSYS => "ENOSYS".into(),
        libc::ENOMEM => "ENOMEM".into(),
        libc::EINVAL => "EINVAL".into(),
        libc::EFAULT => "EFAULT".into(),
        libc::EMFILE => "EMFILE".into(),
        libc::ENFILE => "ENFILE".into(),
        other => format!("errno {other}"),
    }
}

/// Who may create rings when `kernel.io_uring_disabled` is 1, for this process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupAccess {
    /// Allowed; the reason in words (`it is in group 1001`, `it has CAP_SYS_ADMIN`).
    Allowed(String),
    /// Not allowed: what `kernel.io_uring_group` is (with this process's groups) and the fix.
    Denied {
        current: String,
        recommended: String,
    },
}

/// Decides [`GroupAccess`] the way the kernel does for `io_uring_disabled=1`: a process with
/// `CAP_SYS_ADMIN` may; otherwise one whose filesystem gid or a supplementary group is
/// `kernel.io_uring_group`; with the group at -1 (the default) no group is allowed.
pub fn group_access(group: &Current, status: &Result<ProcStatus, String>) -> GroupAccess {
    let fix_group = |gid: &str| {
        format!(
            "a group of this process: add the service user to group {gid} and restart it, \
             or set kernel.io_uring_disabled=0"
        )
    };
    let denied = |current: String, recommended: String| GroupAccess::Denied {
        current,
        recommended,
    };
    let status = match status {
        Ok(st) if st.cap_sys_admin == Some(true) => {
            return GroupAccess::Allowed("it has CAP_SYS_ADMIN".into());
        }
        Ok(st) => st,
        Err(why) => {
            let g = match group {
                Current::Value(v) => v.clone(),
                Current::Absent => "(absent)".into(),
                Current::Unreadable(w) => format!("(unreadable: {w})"),
            };
            return denied(
                format!("{g} (this process's groups are unknown: {why})"),
                fix_group(&g),
            );
        }
    };
    let value = match group {
        Current::Value(v) => v,
        Current::Absent => {
            return denied(
                "(absent)".into(),
                "kernel.io_uring_disabled=0 (this kernel has no kernel.io_uring_group)".into(),
            );
        }
        Current::Unreadable(why) => {
            return denied(
                format!("(unreadable: {why})"),
                "a group of this process, or kernel.io_uring_disabled=0".into(),
            );
        }
    };
    if value == "-1" {
        return denied(
            "-1 (no group may create rings, only CAP_SYS_ADMIN)".into(),
            "the gid of a group of the service user (sysctl -w kernel.io_uring_group=GID), \
             or kernel.io_uring_disabled=0"
                .into(),
        );
    }
    let Ok(gid) = value.parse::<u32>() else {
        return denied(
            format!("{value} (not a group id)"),
            "the gid of a group of the service user, or kernel.io_uring_disabled=0".into(),
        );
    };
    if status.fsgid == Some(gid) || status.groups.contains(&gid) {
        return GroupAccess::Allowed(format!("it is in group {gid}"));
    }
    let gid_text = status
        .fsgid
        .map_or_else(|| "unknown".to_string(), |g| g.to_string());
    let groups = if status.groups.is_empty() {
        "none".to_string()
    } else {
        status
            .groups
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    };
    denied(
        format!("{gid} (this process: gid {gid_text}, groups {groups})"),
        fix_group(value),
    )
}

/// How many checks [`check_io_uring`] makes: group access, the probe.
pub(super) const CHECKS: usize = 2;

/// Adds what stands between this process and io_uring to `report`: a `kernel.io_uring_group`
/// line when `kernel.io_uring_disabled` is 1 and the process is not let in, and, when the
/// test ring fails for a reason the sysctls do not already explain, a `seccomp` line (a
/// filter is in force and the call looks blocked) or an `io_uring_setup` line. A restriction
/// this process passes and a filter that lets io_uring through become notes.
/// `kernel.io_uring_disabled` itself is a setting of both profiles and is compared with them.
pub(super) fn check_io_uring(host: &Host, report: &mut Report) {
    let status = host.status();
    let disabled = host.sysctl("kernel.io_uring_disabled");
    // Whether the sysctls alone keep this process from creating rings.
    let sysctl_denies = match &disabled {
        Current::Value(v) if v == "1" => {
            match group_access(&host.sysctl("kernel.io_uring_group"), &status) {
                GroupAccess::Allowed(why) => {
                    report.notes.push(format!(
                        "kernel.io_uring_disabled=1 lets only kernel.io_uring_group and \
                         CAP_SYS_ADMIN create rings; this process may ({why})"
                    ));
                    false
                }
                GroupAccess::Denied {
                    current,
                    recommended,
                } => {
                    report.findings.push(Finding {
                        name: "kernel.io_uring_group".into(),
                        current,
                        recommended,
                        rule: Rule::Equal,
                    });
                    true
                }
            }
        }
        // Anything but 0 and 1 disables io_uring for every process (reported as the
        // kernel.io_uring_disabled setting).
        Current::Value(v) => v != "0",
        Current::Absent | Current::Unreadable(_) => false,
    };
    let probe = (host.io_uring_probe)();
    let (mode, filters) = match &status {
        Ok(st) => (st.seccomp.unwrap_or(0), st.seccomp_filters),
        Err(_) => (0, None),
    };
    let filter_text = || match (mode, filters) {
        (1, _) => "strict mode".to_string(),
        (_, Some(1)) => "a filter (1 attached)".to_string(),
        (_, Some(n)) => format!("a filter ({n} attached)"),
        (_, None) => "a filter".to_string(),
    };
    if probe == Probe::Works {
        if mode != 0 {
            report.notes.push(format!(
                "seccomp: {} is in force and lets io_uring_setup through",
                filter_text()
            ));
        }
        return;
    }
    if sysctl_denies {
        // The failure is the restriction already reported; fix that first.
        return;
    }
    let finding = if mode != 0 && probe.looks_blocked() {
        Finding {
            name: "seccomp".into(),
            current: format!(
                "{} that blocks io_uring_setup: {}",
                filter_text(),
                probe.describe()
            ),
            recommended: "a profile that allows io_uring_setup, io_uring_enter and \
                          io_uring_register (Docker 25+ and containerd 2 block them by default: \
                          --security-opt seccomp=PROFILE; systemd: SystemCallFilter=io_uring_setup \
                          io_uring_enter io_uring_register)"
                .into(),
            rule: Rule::Equal,
        }
    } else {
        let hint = match probe {
            Probe::Fails(libc::ENOSYS) => {
                "a kernel with io_uring (Linux 5.8 or newer, CONFIG_IO_URING=y)"
            }
            Probe::Fails(libc::EPERM | libc::EACCES) if status.is_ok() => {
                "no seccomp filter is in force: a security module (SELinux, AppArmor) or a \
                 sandbox denies it"
            }
            Probe::Fails(libc::EPERM | libc::EACCES) => {
                "/proc/self/status is unreadable, so it may be a seccomp filter, a security \
                 module or a sandbox"
            }
            Probe::Fails(libc::ENOMEM) => "raise RLIMIT_MEMLOCK",
            _ => "see tuning/README.md",
        };
        Finding {
            name: "io_uring_setup".into(),
            current: probe.describe(),
            recommended: format!("works ({hint})"),
            rule: Rule::Equal,
        }
    };
    report.findings.push(finding);
}
