//! Reading a process tree's CPU time and resident memory from /proc, and this process's
//! allowed CPUs. Linux only; a vanished process reads as zero.
//!
//! It samples; it does not sample continuously or attribute time to threads.

use std::fs;

/// CPU time (user + system) and resident memory of a process and all its descendants.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// utime + stime, in microseconds.
    pub cpu_us: u64,
    /// Sum of VmRSS, in KiB.
    pub rss_kib: u64,
}

/// Clock ticks per second for /proc/PID/stat times.
fn ticks_per_sec() -> u64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .and_then(|t| u64::try_from(t).ok())
        .filter(|&t| t > 0)
        .unwrap_or(100)
}

/// Parses the fields after the `(comm)` of /proc/PID/stat: (ppid, utime + stime ticks).
fn parse_stat(stat: &str) -> Option<(u32, u64)> {
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After comm: state(0) ppid(1) ... utime(11) stime(12).
    let ppid = fields.get(1)?.parse().ok()?;
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((ppid, utime + stime))
}

fn rss_kib(pid: u32) -> u64 {
    let Ok(status) = fs::read_to_string(format!("/proc/{pid}/status")) else {
        return 0;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Every process whose ancestry includes `root` (and `root` itself).
pub fn process_tree(root: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    if let Ok(dir) = fs::read_dir("/proc") {
        for e in dir.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            if let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat"))
                && let Some((ppid, _)) = parse_stat(&stat)
            {
                parents.push((pid, ppid));
            }
        }
    }
    let mut tree = vec![root];
    let mut i = 0;
    while let Some(&p) = tree.get(i) {
        tree.extend(parents.iter().filter(|&&(_, pp)| pp == p).map(|&(c, _)| c));
        i += 1;
    }
    tree
}

/// CPU time and RSS of `root` and its descendants now.
pub fn usage(root: u32) -> Usage {
    let tck = ticks_per_sec();
    let mut u = Usage::default();
    for pid in process_tree(root) {
        if let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat"))
            && let Some((_, ticks)) = parse_stat(&stat)
        {
            u.cpu_us += ticks * 1_000_000 / tck;
        }
        u.rss_kib += rss_kib(pid);
    }
    u
}

/// Parses a CPU list such as `0-3,6`.
///
/// # Errors
/// On anything but numbers, ranges and commas.
pub fn parse_cpu_list(s: &str) -> Result<Vec<usize>, String> {
    let mut cpus = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = || format!("bad CPU list {s:?}: expected e.g. 0-3,6");
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (usize, usize) =
                    (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
                if a > b {
                    return Err(bad());
                }
                cpus.extend(a..=b);
            }
            None => cpus.push(part.parse().map_err(|_| bad())?),
        }
    }
    if cpus.is_empty() {
        return Err(format!("empty CPU list {s:?}"));
    }
    Ok(cpus)
}

/// Formats CPUs as a list taskset accepts.
pub fn format_cpu_list(cpus: &[usize]) -> String {
    cpus.iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// The CPUs this process may run on (from /proc/self/status), or CPU 0 if unreadable.
pub fn allowed_cpus() -> Vec<usize> {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
                .and_then(|v| parse_cpu_list(v).ok())
        })
        .unwrap_or_else(|| vec![0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_after_comm_with_spaces() {
        let stat = "42 (a (b) c) S 7 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0";
        assert_eq!(parse_stat(stat), Some((7, 300)));
    }

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("0-2,5").unwrap(), vec![0, 1, 2, 5]);
        assert!(parse_cpu_list("2-1").is_err());
        assert!(parse_cpu_list("x").is_err());
        assert_eq!(format_cpu_list(&[0, 3]), "0,3");
    }

    #[test]
    fn own_usage_is_visible() {
        let u = usage(std::process::id());
        assert!(u.rss_kib > 0);
        assert!(!allowed_cpus().is_empty());
    }
}
