//! linkerd's (Finagle's) retry budget: every original request deposits one token, every retry
//! costs `1 / percentCanRetry` of them, on top of a reserve of `minRetriesPerSec x ttlSecs`
//! retries; deposits and withdrawals count for `ttlSecs` and then expire. Kept per logical
//! name and shard (no state shared across cores), so the reserve applies per shard.
//!
//! Counts are kept per second in a ring of `ttlSecs` slots; time is passed in as whole seconds
//! on a monotonic clock.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::time::Duration;

thread_local! {
    /// The shard's zero for [`secs`].
    static BASE: std::cell::Cell<Option<std::time::Instant>> = const { std::cell::Cell::new(None) };
}

/// Whole seconds of `now` on this thread's monotonic scale (for the budget's window).
pub fn secs(now: std::time::Instant) -> u64 {
    let base = BASE.with(|b| {
        let v = b.get().unwrap_or(now);
        b.set(Some(v));
        v
    });
    now.saturating_duration_since(base).as_secs()
}

/// [`secs`] of the shard's clock now (the budgets' time on the request path).
pub fn now_secs() -> u64 {
    secs(crate::runtime::exec::now())
}

/// `service.retries.budget`.
#[derive(Debug)]
pub struct RetryBudget {
    ttl_secs: u64,
    /// Retries always allowed per window (`minRetriesPerSec x ttlSecs`).
    reserve: f64,
    /// `percentCanRetry`: retries allowed per request.
    percent: f64,
    /// (second, deposits, withdrawals), oldest first.
    window: RefCell<VecDeque<(u64, u64, u64)>>,
}

impl RetryBudget {
    /// A budget with linkerd's parameters.
    pub fn new(min_retries_per_sec: u32, percent_can_retry: f64, ttl: Duration) -> RetryBudget {
        let ttl_secs = ttl.as_secs().max(1);
        RetryBudget {
            ttl_secs,
            reserve: f64::from(min_retries_per_sec) * ttl_secs as f64,
            percent: percent_can_retry.max(0.0),
            window: RefCell::new(VecDeque::new()),
        }
    }

    fn slot(&self, now_secs: u64, f: impl FnOnce(&mut (u64, u64, u64))) {
        let mut w = self.window.borrow_mut();
        while w
            .front()
            .is_some_and(|(s, _, _)| now_secs.saturating_sub(*s) >= self.ttl_secs)
        {
            w.pop_front();
        }
        if w.back().is_none_or(|(s, _, _)| *s != now_secs) {
            w.push_back((now_secs, 0, 0));
        }
        if let Some(last) = w.back_mut() {
            f(last);
        }
    }

    /// An original request (not a retry) was sent.
    pub fn deposit(&self, now_secs: u64) {
        self.slot(now_secs, |s| s.1 += 1);
    }

    /// Takes one retry if the budget has one; false otherwise.
    pub fn try_withdraw(&self, now_secs: u64) -> bool {
        let mut granted = false;
        self.slot(now_secs, |_| {});
        let (deposits, withdrawals) = self
            .window
            .borrow()
            .iter()
            .fold((0u64, 0u64), |(d, w), s| (d + s.1, w + s.2));
        let allowed = self.reserve + self.percent * deposits as f64;
        if withdrawals as f64 + 1.0 <= allowed + 1e-9 {
            granted = true;
            self.slot(now_secs, |s| s.2 += 1);
        }
        granted
    }
}

/// `service.retries.backoff`: how long to wait before each retry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Backoff {
    /// `kind: constant`, `ms` (default 0).
    Constant(Duration),
    /// `kind: jittered`, `minMs`, `maxMs`: decorrelated jitter (each wait drawn between the
    /// minimum and three times the previous wait, capped at the maximum).
    Jittered { min: Duration, max: Duration },
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::Constant(Duration::ZERO)
    }
}

impl Backoff {
    /// The wait before a retry, given the previous wait (`None` before the first retry) and a
    /// uniform random number in [0, 1).
    pub fn next(&self, previous: Option<Duration>, random: f64) -> Duration {
        match *self {
            Backoff::Constant(d) => d,
            Backoff::Jittered { min, max } => {
                let prev = previous.unwrap_or(min).max(min);
                let hi = (prev * 3).min(max).max(min);
                let span = hi.saturating_sub(min).as_secs_f64();
                (min + Duration::from_secs_f64(span * random.clamp(0.0, 1.0))).min(max)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_can_retry_without_a_reserve() {
        // linkerd's doc: percentCanRetry 0.5 allows one retry for every two requests.
        let b = RetryBudget::new(0, 0.5, Duration::from_secs(10));
        let mut granted = Vec::new();
        for _ in 0..10 {
            b.deposit(0);
            granted.push(b.try_withdraw(0));
        }
        assert_eq!(granted.iter().filter(|g| **g).count(), 5, "{granted:?}");
        assert_eq!(granted[..4], [false, true, false, true]);
    }

    #[test]
    fn the_reserve_allows_retries_before_any_request() {
        let b = RetryBudget::new(2, 0.0, Duration::from_secs(3));
        let n = (0..100).filter(|_| b.try_withdraw(5)).count();
        assert_eq!(n, 6, "minRetriesPerSec x ttlSecs");
    }

    #[test]
    fn deposits_and_withdrawals_expire_after_ttl() {
        let b = RetryBudget::new(0, 1.0, Duration::from_secs(10));
        for _ in 0..4 {
            b.deposit(0);
        }
        assert!((0..4).all(|_| b.try_withdraw(1)));
        assert!(!b.try_withdraw(9), "spent within the window");
        // Second 10: both the deposits and the withdrawals of second 0 and 1 are gone.
        assert!(!b.try_withdraw(10), "deposits of second 0 expired");
        b.deposit(11);
        assert!(b.try_withdraw(11));
    }

    #[test]
    fn backoffs() {
        let c = Backoff::Constant(Duration::from_millis(7));
        assert_eq!(c.next(None, 0.9), Duration::from_millis(7));
        let j = Backoff::Jittered {
            min: Duration::from_millis(10),
            max: Duration::from_millis(100),
        };
        assert_eq!(j.next(None, 0.0), Duration::from_millis(10));
        assert_eq!(j.next(None, 1.0), Duration::from_millis(30));
        let w = j.next(Some(Duration::from_millis(50)), 1.0);
        assert_eq!(w, Duration::from_millis(100), "capped at max");
        for r in [0.0, 0.3, 0.99] {
            let w = j.next(Some(Duration::from_millis(20)), r);
            assert!((10..=60).contains(&w.as_millis()), "{w:?}");
        }
    }
}
