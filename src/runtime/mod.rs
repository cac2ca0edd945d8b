//! The engine: one pinned executor (shard) per core on hawser's own
//! io_uring runtime ([`exec`]), plus the
//! control thread that starts them, feeds them updates by message and
//! handles signals.
//!
//! Shards share nothing on the request path: each binds every server with
//! `SO_REUSEPORT` and owns its routers, caches and pools. The control thread
//! talks to them only through crossbeam channels that each shard polls
//! between requests. This module does not know any protocol.

mod coarse;
mod control;
mod drain;
pub mod exec;
mod preflight;
mod shard;
mod signals;

pub use coarse::{CoarseTimers, TICK as COARSE_TICK};
pub use control::{
    EMBEDDED_CONFIG, LogLevel, RunOptions, check_file, check_file_with_profiles, load_config,
    load_config_layered, run,
};
pub use drain::{ConnGuard, Drain};
pub use exec::{Task, sleep, spawn_blocking, spawn_local};
pub use preflight::{preflight, spawn_error_hint};
pub use shard::ShardMsg;
pub use signals::{ShutdownEvent, watch_signals};

/// The CPUs this process may run on (its affinity mask, so `taskset`
/// narrows it), in ascending order.
pub fn allowed_cpus() -> Vec<usize> {
    // SAFETY: `set` is a plain bitmask initialised by CPU_ZERO and filled by
    // sched_getaffinity for the calling thread; the size passed is its size.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    let rc = unsafe {
        libc::CPU_ZERO(&mut set);
        libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set)
    };
    if rc != 0 {
        let n = std::thread::available_parallelism().map_or(1, |n| n.get());
        return (0..n).collect();
    }
    (0..libc::CPU_SETSIZE as usize)
        // SAFETY: `i` is below CPU_SETSIZE, the size of `set`.
        .filter(|&i| unsafe { libc::CPU_ISSET(i, &set) })
        .collect()
}

/// Picks the CPUs to pin shards to: the first `cores` allowed CPUs, or all.
///
/// # Errors
/// When `cores` is 0 or more than the allowed CPUs.
pub fn pick_cpus(cores: Option<usize>) -> Result<Vec<usize>, String> {
    let allowed = allowed_cpus();
    match cores {
        None => Ok(allowed),
        Some(0) => Err("cores must be at least 1".into()),
        Some(n) if n > allowed.len() => Err(format!(
            "cores: {n} asked for, but this process may only run on {} CPU(s) ({:?})",
            allowed.len(),
            allowed
        )),
        Some(n) => Ok(allowed[..n].to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pick_cpus_respects_bounds() {
        let all = allowed_cpus();
        assert!(!all.is_empty());
        assert_eq!(pick_cpus(None).unwrap(), all);
        assert_eq!(pick_cpus(Some(1)).unwrap(), vec![all[0]]);
        assert!(pick_cpus(Some(0)).is_err());
        assert!(pick_cpus(Some(all.len() + 1)).is_err());
    }
}
