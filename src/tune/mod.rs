//! `hawser tune check`: compares the running kernel's settings and this process's limits
//! with a host profile, and lists each one that differs.
//!
//! The recommended values are the shipped files themselves, embedded at build time: the
//! sysctl profiles `tuning/sysctl/edge.conf` and `tuning/sysctl/service.conf` (with their
//! `# hawser-check:` comparison lines) and the `LimitNOFILE=` / `LimitMEMLOCK=` lines of
//! `tuning/hawser.service`, so what the check recommends is exactly what the files install.
//! It also checks that this process may create an io_uring (`kernel.io_uring_group` when
//! `kernel.io_uring_disabled` is 1, a seccomp filter, a test ring; see `uring`).
//! This module reads `/proc` and `getrlimit` and creates (and closes) one test ring; it never
//! changes a setting, and it does not know about hawser's config (see `config` for that).

mod conf;
mod host;
mod uring;

#[cfg(test)]
mod tests;

use std::fmt;

pub use conf::{ConfError, LimitValue, Rule, Setting, UnitLimits, parse_sysctl, parse_unit_limits};
pub use host::{Current, Host, probe_io_uring};
pub use uring::{GroupAccess, Probe, ProcStatus, group_access, parse_status};

/// The sample systemd unit, source of the recommended limits.
pub const UNIT_FILE: &str = include_str!("../../tuning/hawser.service");

/// A host profile (`--profile edge|service`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum HostProfile {
    /// Many clients: large accept queues, a wide local port range (`edge.conf`).
    Edge,
    /// Low latency next to the services (`service.conf`); the default.
    #[default]
    Service,
}

impl HostProfile {
    /// Parses `edge` or `service`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "edge" => Some(HostProfile::Edge),
            "service" => Some(HostProfile::Service),
            _ => None,
        }
    }

    /// The profile's name, as `--profile` takes it.
    pub fn name(self) -> &'static str {
        match self {
            HostProfile::Edge => "edge",
            HostProfile::Service => "service",
        }
    }

    /// The sysctl file this profile is, relative to the repository root.
    pub fn conf_path(self) -> &'static str {
        match self {
            HostProfile::Edge => "tuning/sysctl/edge.conf",
            HostProfile::Service => "tuning/sysctl/service.conf",
        }
    }

    /// The text of the sysctl file, as embedded in the binary.
    pub fn conf_text(self) -> &'static str {
        match self {
            HostProfile::Edge => include_str!("../../tuning/sysctl/edge.conf"),
            HostProfile::Service => include_str!("../../tuning/sysctl/service.conf"),
        }
    }

    /// The profile's sysctl settings.
    ///
    /// # Errors
    /// When the embedded file does not parse (a build with a broken profile; the unit tests
    /// parse both).
    pub fn settings(self) -> Result<Vec<Setting>, String> {
        parse_sysctl(self.conf_text()).map_err(|e| format!("{}: {e}", self.conf_path()))
    }
}

/// The recommended limits, from the embedded `tuning/hawser.service`.
///
/// # Errors
/// When the embedded unit lacks `LimitNOFILE=` or `LimitMEMLOCK=` or they do not parse.
pub fn unit_limits() -> Result<UnitLimits, String> {
    parse_unit_limits(UNIT_FILE).map_err(|e| format!("tuning/hawser.service: {e}"))
}

/// One setting or limit that differs from the profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The sysctl key (`net.core.somaxconn`) or limit (`RLIMIT_NOFILE`).
    pub name: String,
    /// What the system has: the value, `(absent)` or `(unreadable: why)`.
    pub current: String,
    /// What the profile recommends.
    pub recommended: String,
    pub rule: Rule,
}

impl fmt::Display for Finding {
    /// `NAME: current VALUE, recommended [>= |<= ]VALUE`, the documented one-line format.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: current {}, recommended {}{}",
            self.name,
            self.current,
            self.rule.prefix(),
            self.recommended
        )
    }
}

/// The outcome of a check: what differs, out of how many settings and limits checked, and
/// notes for the reader that are not differences (printed to stderr).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub checked: usize,
    /// E.g. that `kernel.io_uring_disabled=1` restricts io_uring but lets this process in.
    pub notes: Vec<String>,
}

impl Report {
    /// The exit status for scripts: 0 when everything matches, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        u8::from(!self.findings.is_empty())
    }
}

/// Compares `host` with `profile`: every sysctl of the profile, then `RLIMIT_NOFILE` and
/// `RLIMIT_MEMLOCK` against the unit's limits (at least), then whether this process may
/// create an io_uring (`kernel.io_uring_group`, seccomp, a test ring; see `uring`).
///
/// # Errors
/// When an embedded tuning file does not parse.
pub fn check(profile: HostProfile, host: &Host) -> Result<Report, String> {
    let settings = profile.settings()?;
    let limits = unit_limits()?;
    let mut findings = Vec::new();
    for s in &settings {
        if let Some(f) = compare_sysctl(s, &host.sysctl(&s.key)) {
            findings.push(f);
        }
    }
    for (name, current, recommended) in [
        ("RLIMIT_NOFILE", host.nofile, limits.nofile),
        ("RLIMIT_MEMLOCK", host.memlock, limits.memlock),
    ] {
        if current.is_none_or(|c| c < recommended) {
            findings.push(Finding {
                name: name.to_string(),
                current: current.map_or_else(|| "(unreadable)".to_string(), |c| c.to_string()),
                recommended: recommended.to_string(),
                rule: Rule::AtLeast,
            });
        }
    }
    let mut report = Report {
        findings,
        checked: settings.len() + 2 + uring::CHECKS,
        notes: Vec::new(),
    };
    uring::check_io_uring(host, &mut report);
    Ok(report)
}

/// Compares one sysctl with its running value; `None` when it satisfies the setting's rule.
pub fn compare_sysctl(setting: &Setting, current: &Current) -> Option<Finding> {
    let finding = |current: String| Finding {
        name: setting.key.clone(),
        current,
        recommended: setting.value.clone(),
        rule: setting.rule,
    };
    match current {
        Current::Absent if setting.absent_ok => None,
        Current::Absent => Some(finding("(absent)".into())),
        Current::Unreadable(why) => Some(finding(format!("(unreadable: {why})"))),
        Current::Value(v) if satisfies(setting, v) => None,
        Current::Value(v) => Some(finding(v.clone())),
    }
}

/// Whether a running value (whitespace already collapsed) satisfies the setting: equal
/// text, or for at-least / at-most the same count of numbers, each on the right side.
fn satisfies(setting: &Setting, current: &str) -> bool {
    let cmp = match setting.rule {
        Rule::Equal => return current == setting.value,
        Rule::AtLeast => |c: u64, r: u64| c >= r,
        Rule::AtMost => |c: u64, r: u64| c <= r,
    };
    let cur: Vec<&str> = current.split(' ').collect();
    let rec: Vec<&str> = setting.value.split(' ').collect();
    cur.len() == rec.len()
        && cur
            .iter()
            .zip(&rec)
            .all(|(c, r)| match (c.parse::<u64>(), r.parse::<u64>()) {
                (Ok(c), Ok(r)) => cmp(c, r),
                _ => false,
            })
}
