//! SIGTERM/SIGINT handling: the first signal asks for a graceful drain, a
//! second one exits at once.

use std::thread::JoinHandle;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// What the control thread hears from the signal watcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShutdownEvent {
    /// First SIGTERM/SIGINT: stop accepting, finish in-flight work, exit.
    Drain,
}

/// Starts a thread that forwards the first signal as [`ShutdownEvent::Drain`]
/// and exits the process with status 130 on the second.
///
/// # Errors
/// When the signal handlers cannot be installed.
pub fn watch_signals(
    tx: crossbeam_channel::Sender<ShutdownEvent>,
) -> std::io::Result<JoinHandle<()>> {
    let mut signals = Signals::new([SIGTERM, SIGINT])?;
    std::thread::Builder::new()
        .name("hawser-signals".into())
        .spawn(move || {
            let mut seen = 0;
            for sig in signals.forever() {
                seen += 1;
                if seen == 1 {
                    eprintln!("hawser: signal {sig}: draining (send again to exit at once)");
                    let _ = tx.send(ShutdownEvent::Drain);
                } else {
                    eprintln!("hawser: second signal: exiting now");
                    std::process::exit(130);
                }
            }
        })
}
