//! Start-up checks for what io_uring needs, with messages that name the fix.

/// Locked memory asked of the host before any ring is created (older kernels
/// charge io_uring rings to it).
const MIN_MEMLOCK: u64 = 512 * 1024;

/// Checks the kernel and limits before any shard starts.
///
/// # Errors
/// A message naming the problem and the fix.
pub fn preflight() -> Result<(), String> {
    if let Ok(s) = std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled") {
        match s.trim() {
            "0" | "" => {}
            "1" => {
                // 1: only processes in kernel.io_uring_group may use it; root may.
                // SAFETY: geteuid has no preconditions.
                if unsafe { libc::geteuid() } != 0 {
                    return Err(
                        "io_uring is restricted on this host (kernel.io_uring_disabled=1): \
                         run hawser in the group named by kernel.io_uring_group, or set \
                         `sysctl kernel.io_uring_disabled=0` (see tuning/README.md)"
                            .into(),
                    );
                }
            }
            v => {
                return Err(format!(
                    "io_uring is disabled on this host (kernel.io_uring_disabled={v}): \
                     set `sysctl kernel.io_uring_disabled=0` (see tuning/README.md)"
                ));
            }
        }
    }
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
