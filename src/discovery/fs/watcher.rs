//! The thread that polls an [`FsNamer`] and hands each changed snapshot to a callback.
//! It does not deliver the initial snapshot (use [`FsNamer::load_initial`] before spawning) and
//! does not retry a callback that panics: the thread ends with it.

use super::{FsNamer, FsSnapshot};
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Longest sleep between checks of `stop`, so the thread ends promptly.
const STOP_CHECK: Duration = Duration::from_millis(50);

/// Polls `namer` every `interval` on a thread named `hawser-fs-watch`, calling `on_poll` after
/// every poll (`Some` with a new snapshot, `None` when nothing changed, so the caller can do
/// periodic work such as re-resolving host names), until `stop` is set.
///
/// # Errors
/// When the thread cannot be spawned.
pub fn spawn_fs_watcher(
    mut namer: FsNamer,
    interval: Duration,
    mut on_poll: impl FnMut(Option<Arc<FsSnapshot>>) + Send + 'static,
    stop: Arc<AtomicBool>,
) -> io::Result<JoinHandle<()>> {
    thread::Builder::new()
        .name("hawser-fs-watch".to_owned())
        .spawn(move || {
            while sleep_unless_stopped(interval, &stop) {
                on_poll(namer.poll());
            }
        })
}

/// Sleeps for `total`, waking every [`STOP_CHECK`]; false as soon as `stop` is set.
fn sleep_unless_stopped(total: Duration, stop: &AtomicBool) -> bool {
    let deadline = Instant::now() + total;
    loop {
        if stop.load(Ordering::Acquire) {
            return false;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        thread::sleep(left.min(STOP_CHECK));
    }
}
