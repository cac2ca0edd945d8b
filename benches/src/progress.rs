//! A hand-written progress bar on stderr: a ticker thread redraws `[####....] 40% phase` a few
//! times a second from the planned total time (which the runner may correct once it knows what
//! will run, e.g. after proxies fail to start). On a non-terminal it prints one line per phase
//! instead. It does not estimate anything beyond the plan it is given.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

struct State {
    phase: String,
    /// Planned seconds in all.
    total_s: f64,
    /// Planned seconds of the phases already finished.
    done_s: f64,
    /// Planned seconds of the current phase, and when it began.
    current_s: f64,
    began: Instant,
}

/// The progress display. Call [`Progress::phase`] as each phase starts and [`Progress::finish`]
/// at the end.
pub struct Progress {
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    ticker: Option<JoinHandle<()>>,
    tty: bool,
}

fn draw(s: &State) -> String {
    let elapsed = s.done_s + s.began.elapsed().as_secs_f64().min(s.current_s);
    let frac = if s.total_s > 0.0 {
        (elapsed / s.total_s).clamp(0.0, 1.0)
    } else {
        1.0
    };
    let width = 30;
    let filled = (frac * width as f64).round() as usize;
    format!(
        "\r[{}{}] {:>3.0}% {:<40}",
        "#".repeat(filled),
        ".".repeat(width - filled),
        frac * 100.0,
        s.phase
    )
}

impl Progress {
    /// A bar over `total_s` planned seconds.
    pub fn new(total_s: f64) -> Progress {
        let state = Arc::new(Mutex::new(State {
            phase: "starting".into(),
            total_s,
            done_s: 0.0,
            current_s: 0.0,
            began: Instant::now(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let tty = std::io::stderr().is_terminal();
        let ticker = tty.then(|| {
            let (state, stop) = (state.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(s) = state.lock() {
                        eprint!("{}", draw(&s));
                        let _ = std::io::stderr().flush();
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
            })
        });
        Progress {
            state,
            stop,
            ticker,
            tty,
        }
    }

    /// Replaces the planned total (seconds), e.g. once it is known which systems started.
    pub fn set_total(&self, total_s: f64) {
        if let Ok(mut s) = self.state.lock() {
            s.total_s = total_s;
        }
    }

    /// A new phase of `planned_s` seconds begins.
    pub fn phase(&self, name: &str, planned_s: f64) {
        if let Ok(mut s) = self.state.lock() {
            s.done_s += s.current_s;
            s.current_s = planned_s;
            s.began = Instant::now();
            s.phase = name.to_string();
            if !self.tty {
                let pct = (s.done_s / s.total_s.max(1e-9) * 100.0).min(100.0);
                eprintln!("[{pct:>3.0}%] {name}");
            }
        }
    }

    /// Prints a note on its own line without breaking the bar.
    pub fn note(&self, text: &str) {
        if self.tty {
            eprintln!("\r{:<80}", text);
        } else {
            eprintln!("{text}");
        }
    }

    /// Stops the bar.
    pub fn finish(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.ticker.take() {
            let _ = t.join();
            eprintln!("\r{:<80}\rdone", "");
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_fills_by_planned_time_over_the_total() {
        let mut s = State {
            phase: "round 2/2: hawser max".into(),
            total_s: 40.0,
            done_s: 10.0,
            current_s: 0.0,
            began: Instant::now(),
        };
        let line = draw(&s);
        assert!(line.contains(" 25% round 2/2: hawser max"), "{line}");
        assert_eq!(line.matches('#').count(), 8);
        s.total_s = 20.0;
        assert!(draw(&s).contains(" 50% "));
        s.done_s = 30.0;
        assert!(draw(&s).contains("100% "), "never past the end");
    }
}
