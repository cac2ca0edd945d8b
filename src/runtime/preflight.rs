//! Start-up checks for what io_uring needs, with messages that name the fix.

use crate::tune::{Current, GroupAccess, Host, group_access};

/// Locked memory asked of the host before any ring is created (older kernels
/// charge io_uring rings to it).
const MIN_MEMLOCK: u64 = 512 * 1024;

/// Checks the kernel and limits before any shard starts.
///
/// # Errors
/// A message naming the problem and the fix.
pub fn preflight() -> Result<(), String> {
    io_uring_allowed(&Host::current())?;
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid rlimit for getrlimit to fill in.
    if unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut lim) } == 0 {
        let cur = lim.rlim_cur;
        if cur != libc::RLIM_INFINITY && cur < MIN_MEMLOCK {
            return Err(format!(
                "the locked-memory limit is {} KiB, below the {} KiB io_uring needs: \
                 raise it with `ulimit -l 65536` in the starting shell, or \
                 `LimitMEMLOCK=64M` in the systemd unit (see tuning/README.md)",
                cur / 1024,
                MIN_MEMLOCK / 1024
            ));
        }
    }
    Ok(())
}

/// Whether `kernel.io_uring_disabled` lets this process create rings: 0 (or a kernel without
/// the setting) lets everyone; 1 only `CAP_SYS_ADMIN` and `kernel.io_uring_group` (decided as
/// `hawser tune check` does); anything else no one.
fn io_uring_allowed(host: &Host) -> Result<(), String> {
    match host.sysctl("kernel.io_uring_disabled") {
        Current::Value(v) if v == "0" || v.is_empty() => Ok(()),
        Current::Value(v) if v == "1" => {
            match group_access(&host.sysctl("kernel.io_uring_group"), &host.status()) {
                GroupAccess::Allowed(_) => Ok(()),
                GroupAccess::Denied {
                    current,
                    recommended,
                } => Err(format!(
                    "io_uring is restricted on this host (kernel.io_uring_disabled=1) to \
                     CAP_SYS_ADMIN and kernel.io_uring_group, which is {current}: use {recommended} \
                     (see tuning/README.md)"
                )),
            }
        }
        Current::Value(v) => Err(format!(
            "io_uring is disabled on this host (kernel.io_uring_disabled={v}): \
             set `sysctl kernel.io_uring_disabled=0` (see tuning/README.md)"
        )),
        Current::Absent | Current::Unreadable(_) => Ok(()),
    }
}

/// Turns a shard start failure into a message that names the likely fix.
pub fn spawn_error_hint(err: &str) -> String {
    let lower = err.to_ascii_lowercase();
    if lower.contains("memlock")
        || lower.contains("cannot allocate memory")
        || lower.contains("out of memory")
    {
        format!(
            "{err}: io_uring could not lock memory; raise the locked-memory limit \
             (`ulimit -l 65536`, or LimitMEMLOCK=64M under systemd; see tuning/README.md)"
        )
    } else if lower.contains("operation not permitted")
        || lower.contains("function not implemented")
    {
        format!(
            "{err}: io_uring is not available to this process (kernel older than 5.8, \
             kernel.io_uring_disabled, or a seccomp profile that blocks io_uring_setup; \
             see tuning/README.md)"
        )
    } else {
        err.to_string()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::tune::Probe;

    /// A fake `/proc` with `kernel.io_uring_disabled` and `kernel.io_uring_group` set (when
    /// given) and a process with gid 1000 in groups 1000 and 27, capabilities `cap_eff`.
    fn host(name: &str, disabled: Option<&str>, group: &str, cap_eff: &str) -> Host {
        let root =
            std::env::temp_dir().join(format!("hawser-preflight-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let kernel = root.join("sys/kernel");
        std::fs::create_dir_all(&kernel).unwrap();
        std::fs::create_dir_all(root.join("self")).unwrap();
        if let Some(d) = disabled {
            std::fs::write(kernel.join("io_uring_disabled"), format!("{d}\n")).unwrap();
        }
        std::fs::write(kernel.join("io_uring_group"), format!("{group}\n")).unwrap();
        std::fs::write(
            root.join("self/status"),
            format!(
                "Gid:\t1000\t1000\t1000\t1000\nGroups:\t27 1000\nCapEff:\t{cap_eff}\nSeccomp:\t0\n"
            ),
        )
        .unwrap();
        Host {
            proc_root: root,
            nofile: None,
            memlock: None,
            io_uring_probe: || Probe::Works,
        }
    }

    fn done(root: &Path) {
        std::fs::remove_dir_all(root).unwrap();
    }

    const NO_CAPS: &str = "0000000000000000";

    #[test]
    fn io_uring_restricted_to_a_group_lets_its_members_start() {
        // The old check refused every non-root process here, members of the group included.
        let h = host("member", Some("1"), "27", NO_CAPS);
        assert_eq!(io_uring_allowed(&h), Ok(()));
        done(&h.proc_root);
    }

    #[test]
    fn io_uring_restricted_to_another_group_is_refused_with_the_fix() {
        let h = host("outsider", Some("1"), "1001", NO_CAPS);
        let err = io_uring_allowed(&h).unwrap_err();
        assert!(
            err.contains(
                "kernel.io_uring_group, which is 1001 (this process: gid 1000, groups 27 1000)"
            ),
            "{err}"
        );
        assert!(err.contains("add the service user to group 1001"), "{err}");
        done(&h.proc_root);
        // -1: only CAP_SYS_ADMIN, which root normally has.
        let h = host("nogroup", Some("1"), "-1", NO_CAPS);
        assert!(
            io_uring_allowed(&h)
                .unwrap_err()
                .contains("only CAP_SYS_ADMIN")
        );
        done(&h.proc_root);
        let h = host("root", Some("1"), "-1", "000001ffffffffff");
        assert_eq!(io_uring_allowed(&h), Ok(()));
        done(&h.proc_root);
    }

    #[test]
    fn io_uring_on_or_absent_passes_and_disabled_is_refused() {
        for (name, disabled) in [("on", Some("0")), ("absent", None)] {
            let h = host(name, disabled, "-1", NO_CAPS);
            assert_eq!(io_uring_allowed(&h), Ok(()), "{name}");
            done(&h.proc_root);
        }
        let h = host("off", Some("2"), "27", "000001ffffffffff");
        let err = io_uring_allowed(&h).unwrap_err();
        assert!(err.contains("kernel.io_uring_disabled=2"), "{err}");
        done(&h.proc_root);
    }
}
