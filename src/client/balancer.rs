//! Per-shard balancing over one concrete name's endpoints: power of two
//! choices over outstanding requests (linkerd's default `p2c`).
//!
//! Endpoint weights (`io.l5d.fs` lines `host port * weight`, linkerd's
//! `endpoint_addr_weight`): each of the two candidates is drawn with
//! probability proportional to its weight, and the one with less load *per
//! unit of weight* (outstanding / weight) wins, the first on a tie. At low
//! load (nothing outstanding) traffic therefore follows the draws, i.e. the
//! weights; under load the outstanding counts settle in proportion to the
//! weights, so a `* 0.1` canary keeps about a tenth of the traffic even when
//! it is one of two endpoints. With equal weights this is plain p2c. A
//! weight of 0 takes an endpoint out of rotation (if every weight is 0 the
//! set is treated as unweighted rather than refusing all traffic).
//!
//! Failure accrual (linkerd's `io.l5d.consecutiveFailures` and `io.l5d.successRate`): an
//! endpoint that failed that many requests in a row, or whose success rate (an exponentially
//! weighted moving average over a window of requests, as Finagle's) a failure takes below the
//! required one, is marked dead for a backoff; picks avoid dead endpoints (a few more draws,
//! Finagle's `maxEffort`) unless every draw lands on one. After the backoff the endpoint is on
//! probation: one more failure marks it dead again for the next, longer backoff; a success
//! revives it (and starts its success rate afresh).
//!
//! `client.loadBalancer` chooses how the load of an endpoint is judged and
//! who is compared: `p2c` (the default) as above; `ewma` is p2c where the
//! load is the endpoint's peak-EWMA latency times (outstanding + 1), as
//! Finagle's `p2cPeakEwma` (an endpoint never measured and busy gets a large
//! penalty; one never measured and idle is tried first); `heap` takes the
//! endpoint with the fewest outstanding (weights aside); `roundRobin` takes
//! each in turn. Each kind skips endpoints marked dead (up to `maxEffort`
//! more tries). `aperture` is not in this release; config reports it.

use std::cell::Cell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::resilience::Backoff;

/// Extra draws a pick makes to get past dead endpoints (Finagle's `maxEffort`), by default.
const MAX_EFFORT: usize = 5;

/// The EWMA load of a busy endpoint with no latency measured yet (1,000 s in ns): it loses to
/// every measured one.
const EWMA_PENALTY: f64 = 1e12;

/// How a set picks (`client.loadBalancer`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Balance {
    /// Power of two choices over outstanding requests.
    #[default]
    P2c,
    /// Power of two choices over peak-EWMA latency x (outstanding + 1).
    Ewma {
        /// How fast the average forgets (`decayTimeMs`).
        decay: Duration,
    },
    /// The fewest outstanding.
    Heap,
    /// Each in turn.
    RoundRobin,
}

/// `client.loadBalancer`, for building sets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BalancerPolicy {
    /// The kind.
    pub balance: Balance,
    /// `maxEffort`.
    pub max_effort: usize,
}

impl Default for BalancerPolicy {
    fn default() -> Self {
        BalancerPolicy {
            balance: Balance::P2c,
            max_effort: MAX_EFFORT,
        }
    }
}

/// The windowed success rate counts requests in this many slices of its window (Finagle's).
const SLICES: usize = 5;

/// Fewest requests in the last window before the windowed success rate can mark an endpoint
/// dead (Finagle's default minimum).
const MIN_WINDOW_REQUESTS: u32 = 5;

/// One upstream address, its in-flight request count and its failure accrual on this shard.
#[derive(Debug)]
pub struct Endpoint {
    /// Where requests go.
    pub addr: SocketAddr,
    outstanding: Cell<u32>,
    /// Consecutive failures, or (success rate) requests since the endpoint was (re)vived.
    consecutive_failures: Cell<u32>,
    /// Success rate: the moving average (1 success, 0 failure).
    success_rate: Cell<f64>,
    /// Windowed success rate: when the endpoint was first seen or last revived, the time of
    /// the last sample after it (ms), and the requests per fifth of the window (the newest at
    /// `slice`, an index counted from `since`).
    since: Cell<Option<Instant>>,
    last_ms: Cell<u64>,
    slices: Cell<[u32; SLICES]>,
    slice: Cell<u64>,
    /// `ewma`: the peak-EWMA latency (ns) and when it was last updated.
    ewma_cost: Cell<f64>,
    ewma_at: Cell<Option<Instant>>,
    dead_until: Cell<Option<Instant>>,
    last_backoff: Cell<Option<Duration>>,
}

/// `failureAccrual:`: when to mark an endpoint dead, and for how long.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Accrual {
    /// When.
    pub policy: AccrualPolicy,
    /// `backoff` (default jittered 5 s to 300 s).
    pub backoff: Backoff,
}

/// The failure accrual kinds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AccrualPolicy {
    /// `io.l5d.consecutiveFailures`: this many failures in a row (default 5).
    ConsecutiveFailures(u32),
    /// `io.l5d.successRate`: a failure that leaves the moving average over `window` requests
    /// below `rate`, once `window` requests were seen since the endpoint was (re)vived.
    SuccessRate {
        /// `successRate`.
        rate: f64,
        /// `requests`.
        window: u32,
    },
    /// `io.l5d.successRateWindowed`: the average over time instead of requests; a failure
    /// leaving it below `rate` marks the endpoint dead once `window` has passed since it was
    /// (re)vived and at least 5 requests came in the last `window`.
    SuccessRateWindowed {
        /// `successRate`.
        rate: f64,
        /// `window`.
        window: Duration,
    },
}

impl Endpoint {
    /// A new endpoint with nothing outstanding.
    pub fn new(addr: SocketAddr) -> Rc<Self> {
        Rc::new(Endpoint {
            addr,
            outstanding: Cell::new(0),
            consecutive_failures: Cell::new(0),
            success_rate: Cell::new(1.0),
            since: Cell::new(None),
            last_ms: Cell::new(0),
            slices: Cell::new([0; SLICES]),
            slice: Cell::new(0),
            ewma_cost: Cell::new(0.0),
            ewma_at: Cell::new(None),
            dead_until: Cell::new(None),
            last_backoff: Cell::new(None),
        })
    }

    /// Requests in flight to this endpoint from this shard.
    pub fn outstanding(&self) -> u32 {
        self.outstanding.get()
    }

    /// The latency average decayed to `now` (ns): it forgets at the rate `decay`, so an
    /// endpoint that was slow and got no traffic since is tried again in time.
    fn ewma_cost_at(&self, now: Instant, decay: Duration) -> f64 {
        let Some(at) = self.ewma_at.get() else {
            return 0.0;
        };
        self.ewma_cost.get() * decay_weight(now.saturating_duration_since(at), decay)
    }

    /// Folds one request's latency into the peak EWMA: a latency above the average replaces
    /// it at once (the peak); below it, it is blended in by the time since the last update.
    fn observe_latency(&self, rtt: Duration, now: Instant, decay: Duration) {
        let rtt = rtt.as_nanos() as f64;
        let cost = self.ewma_cost_at(now, decay);
        let next = if rtt > cost {
            rtt
        } else {
            let w = self.ewma_at.get().map_or(0.0, |at| {
                decay_weight(now.saturating_duration_since(at), decay)
            });
            cost * w + rtt * (1.0 - w)
        };
        self.ewma_cost.set(next);
        self.ewma_at.set(Some(now));
    }

    /// Whether failure accrual has it marked dead at `now`.
    pub fn is_dead(&self, now: Instant) -> bool {
        self.dead_until.get().is_some_and(|t| now < t)
    }

    /// Counts a request's outcome for failure accrual (`None`: accrual is off).
    pub fn record(&self, ok: bool, accrual: Option<&Accrual>, now: Instant) {
        let Some(policy) = accrual else { return };
        // Any success revives under consecutiveFailures; under the success rates only one after
        // being marked dead does (the probe worked), others count towards the average.
        let consecutive = matches!(policy.policy, AccrualPolicy::ConsecutiveFailures(_));
        if ok && (consecutive || self.last_backoff.get().is_some()) {
            self.revive();
            return;
        }
        let mark = match policy.policy {
            AccrualPolicy::ConsecutiveFailures(failures) => {
                let n = self.count_sample();
                n >= failures.max(1)
            }
            AccrualPolicy::SuccessRate { rate, window } => {
                // Finagle's Ema with one step per request: the old average keeps the weight
                // e^(-1/window).
                let keep = (-1.0 / f64::from(window.max(1))).exp();
                let n = self.count_sample();
                let sr = self.fold_success(ok, n, keep);
                !ok && n >= window.max(1) && sr < rate
            }
            AccrualPolicy::SuccessRateWindowed { rate, window } => {
                let since = self.since.get().unwrap_or(now);
                self.since.set(Some(since));
                let window_ms = u64::try_from(window.as_millis()).unwrap_or(u64::MAX).max(1);
                let stamp = u64::try_from(now.saturating_duration_since(since).as_millis())
                    .unwrap_or(u64::MAX);
                let recent = self.count_request(stamp, window_ms);
                // Finagle's Ema stamped in milliseconds: the old average keeps the weight
                // e^(-elapsed/window).
                let elapsed = stamp.saturating_sub(self.last_ms.get()) as f64;
                let keep = (-elapsed / window_ms as f64).exp();
                self.last_ms.set(stamp);
                let n = self.count_sample();
                let sr = self.fold_success(ok, n, keep);
                !ok && stamp >= window_ms && sr < rate && recent >= MIN_WINDOW_REQUESTS
            }
        };
        if mark && !self.is_dead(now) {
            let wait = policy
                .backoff
                .next(self.last_backoff.get(), fastrand::f64());
            self.last_backoff.set(Some(wait));
            self.dead_until.set(Some(now + wait));
        }
    }

    /// One more outcome since the endpoint was (re)vived (consecutive failures, or samples of
    /// the success rate); returns the count.
    fn count_sample(&self) -> u32 {
        let n = self.consecutive_failures.get().saturating_add(1);
        self.consecutive_failures.set(n);
        n
    }

    /// Folds the `n`th outcome into the success average, the old average keeping the weight
    /// `keep` (the first outcome is the average); returns the new average.
    fn fold_success(&self, ok: bool, n: u32, keep: f64) -> f64 {
        let sample = if ok { 1.0 } else { 0.0 };
        let sr = if n == 1 {
            sample
        } else {
            sample * (1.0 - keep) + self.success_rate.get() * keep
        };
        self.success_rate.set(sr);
        sr
    }

    /// Counts a request at `stamp` ms (since `since`) in the sliced window and returns the
    /// requests in the last `window_ms`.
    fn count_request(&self, stamp: u64, window_ms: u64) -> u32 {
        let slice_ms = (window_ms / SLICES as u64).max(1);
        let idx = stamp / slice_ms;
        let mut slices = self.slices.get();
        let cur = self.slice.get();
        if idx > cur {
            // Clear the slices that passed (all of them after a whole window or more).
            let passed = (idx - cur).min(SLICES as u64);
            for k in 1..=passed {
                slices[((cur + k) % SLICES as u64) as usize] = 0;
            }
            self.slice.set(idx);
        }
        let newest = (self.slice.get() % SLICES as u64) as usize;
        slices[newest] = slices[newest].saturating_add(1);
        self.slices.set(slices);
        slices.iter().sum()
    }

    /// Back to health: counts and the backoff sequence start afresh.
    fn revive(&self) {
        self.consecutive_failures.set(0);
        self.success_rate.set(1.0);
        self.since.set(None);
        self.last_ms.set(0);
        self.slices.set([0; SLICES]);
        self.slice.set(0);
        self.dead_until.set(None);
        self.last_backoff.set(None);
    }
}

/// The weight an average keeps after `elapsed` when it forgets at the rate `decay`:
/// e^(-elapsed/decay).
fn decay_weight(elapsed: Duration, decay: Duration) -> f64 {
    (-elapsed.as_secs_f64() / decay.as_secs_f64().max(1e-3)).exp()
}

/// Counts a request against an endpoint until dropped (and, for `ewma`, times it).
pub struct InFlight(Rc<Endpoint>, Option<(Instant, Duration)>);

impl InFlight {
    fn new(ep: &Rc<Endpoint>, balance: Balance) -> InFlight {
        ep.outstanding.set(ep.outstanding.get() + 1);
        let timed = match balance {
            Balance::Ewma { decay } => Some((crate::runtime::exec::now(), decay)),
            _ => None,
        };
        InFlight(ep.clone(), timed)
    }

    /// The endpoint this request went to.
    pub fn endpoint(&self) -> &Endpoint {
        &self.0
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0
            .outstanding
            .set(self.0.outstanding.get().saturating_sub(1));
        if let Some((started, decay)) = self.1 {
            let now = crate::runtime::exec::now();
            self.0
                .observe_latency(now.saturating_duration_since(started), now, decay);
        }
    }
}

/// The endpoints of one concrete name.
#[derive(Debug, Default, Clone)]
pub struct EndpointSet {
    endpoints: Vec<Rc<Endpoint>>,
    /// Running sums of the weights (`cumulative[i]` = weights of 0..=i), or
    /// empty when the weights are all equal (plain p2c).
    cumulative: Vec<f64>,
    /// How it picks.
    policy: BalancerPolicy,
    /// `roundRobin`: the next endpoint's index.
    cursor: Cell<usize>,
}

impl EndpointSet {
    /// A set over these endpoints, all of weight 1.
    pub fn new(endpoints: Vec<Rc<Endpoint>>) -> Self {
        EndpointSet {
            endpoints,
            cumulative: Vec::new(),
            policy: BalancerPolicy::default(),
            cursor: Cell::new(0),
        }
    }

    /// The same set, picking by `policy`.
    pub fn with_policy(mut self, policy: BalancerPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The load `p2c` and `ewma` compare (lower wins).
    fn load(&self, e: &Endpoint, now: Instant) -> f64 {
        let pending = f64::from(e.outstanding.get());
        match self.policy.balance {
            Balance::Ewma { decay } => {
                let cost = e.ewma_cost_at(now, decay);
                if cost == 0.0 && pending > 0.0 {
                    EWMA_PENALTY + pending
                } else {
                    cost * (pending + 1.0)
                }
            }
            _ => pending,
        }
    }

    /// A set over these endpoints with their weights (finite, >= 0; anything
    /// else counts as 0).
    pub fn weighted(endpoints: Vec<(Rc<Endpoint>, f64)>) -> Self {
        let clean = |w: f64| if w.is_finite() && w > 0.0 { w } else { 0.0 };
        let first = endpoints.first().map(|(_, w)| clean(*w));
        let equal = endpoints.iter().all(|(_, w)| Some(clean(*w)) == first);
        let total: f64 = endpoints.iter().map(|(_, w)| clean(*w)).sum();
        let cumulative = if equal || total <= 0.0 {
            Vec::new()
        } else {
            endpoints
                .iter()
                .scan(0.0, |sum, (_, w)| {
                    *sum += clean(*w);
                    Some(*sum)
                })
                .collect()
        };
        EndpointSet {
            endpoints: endpoints.into_iter().map(|(e, _)| e).collect(),
            cumulative,
            policy: BalancerPolicy::default(),
            cursor: Cell::new(0),
        }
    }

    /// The weight of endpoint `i` (1.0 in an unweighted set).
    pub fn weight(&self, i: usize) -> f64 {
        match i {
            _ if self.cumulative.is_empty() => 1.0,
            0 => self.cumulative.first().copied().unwrap_or(0.0),
            _ => self.cumulative.get(i).copied().unwrap_or(0.0) - self.cumulative[i - 1],
        }
    }

    /// The index whose weight interval holds `x` (0 <= x < total).
    fn index_at(&self, x: f64) -> usize {
        self.cumulative
            .partition_point(|&c| c <= x)
            .min(self.endpoints.len() - 1)
    }

    /// Two distinct candidates drawn in proportion to their weights from
    /// uniform draws `u1`, `u2` in [0, 1); `None` for the second when only
    /// one endpoint has a weight.
    fn weighted_pair(&self, u1: f64, u2: f64) -> (usize, Option<usize>) {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let a = self.index_at(u1 * total);
        let wa = self.weight(a);
        let rest = total - wa;
        if rest <= 0.0 {
            return (a, None);
        }
        // Draw over the weights without `a`'s, then step over its interval.
        let mut x = u2 * rest;
        let before_a = self.cumulative.get(a).copied().unwrap_or(0.0) - wa;
        if x >= before_a {
            x += wa;
        }
        let b = self.index_at(x);
        (a, (b != a).then_some(b))
    }

    /// True when there is nowhere to send a request.
    pub fn is_empty(&self) -> bool {
        self.endpoints.is_empty()
    }

    /// The endpoints.
    pub fn endpoints(&self) -> &[Rc<Endpoint>] {
        &self.endpoints
    }

    /// Picks an endpoint: two at random, the one with fewer outstanding
    /// requests. `rand` yields uniform indices below its argument.
    pub fn pick_with(
        &self,
        mut rand: impl FnMut(usize) -> usize,
    ) -> Option<(Rc<Endpoint>, InFlight)> {
        let n = self.endpoints.len();
        let now = crate::runtime::exec::now();
        let ep = match n {
            0 => return None,
            1 => &self.endpoints[0],
            _ => {
                let mut draw = || {
                    let a = rand(n);
                    let mut b = rand(n - 1);
                    if b >= a {
                        b += 1;
                    }
                    let (ea, eb) = (&self.endpoints[a], &self.endpoints[b]);
                    // A live endpoint beats a dead one; then the lower load wins.
                    let (da, db) = (ea.is_dead(now), eb.is_dead(now));
                    if (db, self.load(eb, now)) < (da, self.load(ea, now)) {
                        eb
                    } else {
                        ea
                    }
                };
                let mut ep = draw();
                for _ in 0..self.policy.max_effort {
                    if !ep.is_dead(now) {
                        break;
                    }
                    ep = draw();
                }
                ep
            }
        };
        Some((ep.clone(), InFlight::new(ep, self.policy.balance)))
    }

    /// Weighted p2c (see the module docs) from two uniform draws in [0, 1);
    /// plain [`EndpointSet::pick_with`] when the set is unweighted.
    pub fn pick_weighted_with(
        &self,
        mut unit: impl FnMut() -> f64,
    ) -> Option<(Rc<Endpoint>, InFlight)> {
        if self.cumulative.is_empty() {
            return self.pick_with(|n| ((unit() * n as f64) as usize).min(n.saturating_sub(1)));
        }
        let (a, b) = self.weighted_pair(unit(), unit());
        let ea = &self.endpoints[a];
        let now = crate::runtime::exec::now();
        // Less load per unit of weight wins: lb / wb < la / wa.
        let lighter = |b: usize| {
            self.load(&self.endpoints[b], now) * self.weight(a)
                < self.load(ea, now) * self.weight(b)
        };
        let ep = match b {
            Some(b) if lighter(b) => &self.endpoints[b],
            _ => ea,
        };
        Some((ep.clone(), InFlight::new(ep, self.policy.balance)))
    }

    /// [`EndpointSet::pick_weighted_with`], redrawn (up to Finagle's `maxEffort`) while it
    /// lands on an endpoint failure accrual has marked dead.
    fn pick_weighted_live(&self) -> Option<(Rc<Endpoint>, InFlight)> {
        let now = crate::runtime::exec::now();
        let mut picked = self.pick_weighted_with(fastrand::f64)?;
        for _ in 0..self.policy.max_effort {
            if !picked.0.is_dead(now) {
                break;
            }
            picked = self.pick_weighted_with(fastrand::f64)?;
        }
        Some(picked)
    }

    /// Like [`EndpointSet::pick`], but not one of `avoid` (endpoints that already failed this
    /// request) while others are left: p2c over the rest, weights aside.
    pub fn pick_avoiding(&self, avoid: &[SocketAddr]) -> Option<(Rc<Endpoint>, InFlight)> {
        if avoid.is_empty() {
            return self.pick();
        }
        let now = crate::runtime::exec::now();
        let mut rest: Vec<&Rc<Endpoint>> = self
            .endpoints
            .iter()
            .filter(|e| !avoid.contains(&e.addr) && !e.is_dead(now))
            .collect();
        if rest.is_empty() {
            rest = self
                .endpoints
                .iter()
                .filter(|e| !avoid.contains(&e.addr))
                .collect();
        }
        let ep = match rest.len() {
            0 => return self.pick(),
            1 => rest[0],
            n => match self.policy.balance {
                Balance::Heap => self.least_loaded(rest.iter().copied(), now)?,
                Balance::RoundRobin => {
                    let i = self.cursor.get();
                    self.cursor.set(i.wrapping_add(1));
                    rest[i % n]
                }
                _ => {
                    let a = rest[fastrand::usize(..n)];
                    let b = rest[fastrand::usize(..n)];
                    if self.load(b, now) < self.load(a, now) {
                        b
                    } else {
                        a
                    }
                }
            },
        };
        Some((ep.clone(), InFlight::new(ep, self.policy.balance)))
    }

    /// Picks by the set's policy with the thread's fast RNG (weighted p2c when the set is
    /// weighted and the policy draws).
    pub fn pick(&self) -> Option<(Rc<Endpoint>, InFlight)> {
        match self.policy.balance {
            Balance::Heap | Balance::RoundRobin => self.pick_ordered(),
            _ if self.cumulative.is_empty() => self.pick_with(|n| fastrand::usize(..n)),
            _ => self.pick_weighted_live(),
        }
    }

    /// `heap` and `roundRobin`: a live endpoint (after at most `maxEffort` dead ones for
    /// round robin; any, when all are dead).
    fn pick_ordered(&self) -> Option<(Rc<Endpoint>, InFlight)> {
        let n = self.endpoints.len();
        if n == 0 {
            return None;
        }
        let now = crate::runtime::exec::now();
        let ep = match self.policy.balance {
            Balance::Heap => self
                .least_loaded(self.endpoints.iter().filter(|e| !e.is_dead(now)), now)
                .or_else(|| self.least_loaded(self.endpoints.iter(), now))?,
            _ => {
                let mut i = self.cursor.get();
                let mut tries = 0;
                while self.endpoints[i % n].is_dead(now) && tries < self.policy.max_effort.min(n) {
                    i = i.wrapping_add(1);
                    tries += 1;
                }
                self.cursor.set(i.wrapping_add(1));
                &self.endpoints[i % n]
            }
        };
        Some((ep.clone(), InFlight::new(ep, self.policy.balance)))
    }

    /// The endpoint with the fewest outstanding among `eps` (the first on a tie).
    fn least_loaded<'a>(
        &self,
        eps: impl Iterator<Item = &'a Rc<Endpoint>>,
        now: Instant,
    ) -> Option<&'a Rc<Endpoint>> {
        let mut best: Option<&'a Rc<Endpoint>> = None;
        for e in eps {
            if best.is_none_or(|b| self.load(e, now) < self.load(b, now)) {
                best = Some(e);
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_failures_mark_an_endpoint_dead_until_its_backoff_ends() {
        let s = set(2);
        let policy = Accrual {
            policy: AccrualPolicy::ConsecutiveFailures(3),
            backoff: Backoff::Constant(Duration::from_secs(5)),
        };
        let now = Instant::now();
        let bad = &s.endpoints()[0];
        bad.record(false, Some(&policy), now);
        bad.record(false, Some(&policy), now);
        assert!(!bad.is_dead(now), "two failures of three");
        bad.record(true, Some(&policy), now);
        for _ in 0..3 {
            bad.record(false, Some(&policy), now);
        }
        assert!(bad.is_dead(now), "three in a row");
        // Picks avoid it (the clock outside a runtime is the real one, within the backoff).
        for _ in 0..50 {
            let (e, _) = s.pick().unwrap();
            assert_eq!(e.addr, s.endpoints()[1].addr);
        }
        // After the backoff: probation; one more failure marks it dead again at once.
        let later = now + Duration::from_secs(6);
        assert!(!bad.is_dead(later));
        bad.record(false, Some(&policy), later);
        assert!(bad.is_dead(later));
        // A success revives it; accrual off records nothing.
        bad.record(true, Some(&policy), later);
        assert!(!bad.is_dead(later));
        for _ in 0..10 {
            bad.record(false, None, later);
        }
        assert!(!bad.is_dead(later));
    }

    #[test]
    fn a_success_rate_below_the_required_one_marks_an_endpoint_dead() {
        let policy = Accrual {
            policy: AccrualPolicy::SuccessRate {
                rate: 0.9,
                window: 10,
            },
            backoff: Backoff::Constant(Duration::from_secs(5)),
        };
        let now = Instant::now();
        let s = set(2);
        let e = &s.endpoints()[0];
        // Fewer than `window` requests: never dead, however bad.
        for _ in 0..9 {
            e.record(false, Some(&policy), now);
        }
        assert!(!e.is_dead(now), "9 requests of a window of 10");
        e.record(false, Some(&policy), now);
        assert!(e.is_dead(now), "the 10th, a failure, with the rate at 0");
        // Probation after the backoff: a success revives it and starts the average afresh.
        let later = now + Duration::from_secs(6);
        e.record(true, Some(&policy), later);
        assert!(!e.is_dead(later));
        // One failure in ten at a steady rate: the average stays near 0.9..1, above 0.8...
        let lenient = Accrual {
            policy: AccrualPolicy::SuccessRate {
                rate: 0.8,
                window: 10,
            },
            ..policy
        };
        let f = &s.endpoints()[1];
        // (its low point, just after each failure, settles at (w - w^10) / (1 - w^10) = 0.849
        // for w = e^(-1/10)), ending on nine successes (0.94)...
        for i in 0..199 {
            f.record(i % 10 != 9, Some(&lenient), now);
            assert!(!f.is_dead(now), "request {i}");
        }
        // ...while failures in a row push it below: 0.85 after the first, 0.77 after the second.
        let mut n = 0;
        while !f.is_dead(now) {
            f.record(false, Some(&lenient), now);
            n += 1;
            assert!(n < 10, "still alive after {n} failures in a row");
        }
        assert_eq!(n, 2);
    }

    #[test]
    fn a_windowed_success_rate_waits_for_its_window_and_enough_requests() {
        let policy = Accrual {
            policy: AccrualPolicy::SuccessRateWindowed {
                rate: 0.9,
                window: Duration::from_secs(10),
            },
            backoff: Backoff::Constant(Duration::from_secs(5)),
        };
        let t0 = Instant::now();
        let s = set(1);
        let e = &s.endpoints()[0];
        // Failing from the start, but the window (10 s since first seen) has not passed.
        for i in 0..20 {
            let now = t0 + Duration::from_millis(i * 400);
            e.record(false, Some(&policy), now);
            assert!(!e.is_dead(now), "{} ms in", i * 400);
        }
        // At 10 s, with 20 failures in the last window: dead.
        let now = t0 + Duration::from_secs(10);
        e.record(false, Some(&policy), now);
        assert!(e.is_dead(now));
        // Revived by a success after the backoff; then a quiet endpoint: a failure once
        // in a while, too few requests in the window to judge.
        let later = now + Duration::from_secs(6);
        e.record(true, Some(&policy), later);
        assert!(!e.is_dead(later));
        for i in 1..=10 {
            let t = later + Duration::from_secs(i * 3);
            e.record(false, Some(&policy), t);
            assert!(
                !e.is_dead(t),
                "3 s apart, {i} failures: at most 4 in any 10 s"
            );
        }
    }

    fn with(balance: Balance, n: u16) -> EndpointSet {
        set(n).with_policy(BalancerPolicy {
            balance,
            max_effort: 5,
        })
    }

    #[test]
    fn ewma_prefers_the_faster_endpoint_and_forgets_in_time() {
        let decay = Duration::from_secs(10);
        let s = with(Balance::Ewma { decay }, 2);
        let (slow, fast) = (&s.endpoints()[0], &s.endpoints()[1]);
        let now = Instant::now();
        slow.observe_latency(Duration::from_micros(10_500), now, decay);
        fast.observe_latency(Duration::from_millis(1), now, decay);
        // Two endpoints: every pick compares both, and the faster wins while both are idle...
        for _ in 0..20 {
            let (e, _inflight) = s.pick().unwrap();
            assert_eq!(e.addr, fast.addr);
        }
        // ...and while the fast one has up to 9 outstanding (1 ms x 10 < 10.5 ms x 1).
        let held: Vec<_> = (0..10).map(|_| s.pick().unwrap()).collect();
        assert!(held.iter().all(|(e, _)| e.addr == fast.addr));
        let (e, _x) = s.pick().unwrap();
        assert_eq!(e.addr, slow.addr, "1 ms x 11 loses to 10.5 ms x 1");
        drop(held);
        // A peak replaces the average at once; a lower sample blends in over time.
        fast.observe_latency(Duration::from_millis(50), now, decay);
        assert!((fast.ewma_cost_at(now, decay) - 50e6).abs() < 1.0);
        let later = now + decay;
        fast.observe_latency(Duration::from_millis(1), later, decay);
        let blended = fast.ewma_cost_at(later, decay);
        // e^-1 of the decayed 50 ms (itself e^-1 of 50) plus (1 - e^-1) of 1 ms.
        let w = (-1.0f64).exp();
        let want = 50e6 * w * w + 1e6 * (1.0 - w);
        assert!((blended - want).abs() / want < 1e-6, "{blended} vs {want}");
        // An endpoint never measured is tried first while idle, and loses once busy.
        let fresh = with(Balance::Ewma { decay }, 2);
        let (a, b) = (&fresh.endpoints()[0], &fresh.endpoints()[1]);
        a.observe_latency(Duration::from_millis(1), now, decay);
        let (e, _first) = fresh.pick().unwrap();
        assert_eq!(e.addr, b.addr, "unmeasured and idle: load 0");
        let (e, _second) = fresh.pick().unwrap();
        assert_eq!(e.addr, a.addr, "unmeasured and busy: the penalty");
    }

    #[test]
    fn heap_takes_the_least_loaded_and_round_robin_takes_turns() {
        let h = with(Balance::Heap, 3);
        let _a = h.pick().unwrap();
        let _b = h.pick().unwrap();
        let _c = h.pick().unwrap();
        let addrs: Vec<_> = [&_a, &_b, &_c].iter().map(|p| p.0.addr).collect();
        assert_eq!(addrs.len(), 3);
        assert!(
            h.endpoints().iter().all(|e| e.outstanding() == 1),
            "each got one"
        );
        drop(_b);
        let (e, _d) = h.pick().unwrap();
        assert_eq!(e.addr, addrs[1], "the one whose request finished");

        let r = with(Balance::RoundRobin, 3);
        let order: Vec<u16> = (0..7)
            .map(|_| r.pick().unwrap().0.addr.port() - 8000)
            .collect();
        assert_eq!(order, vec![0, 1, 2, 0, 1, 2, 0]);
        // A dead endpoint is skipped.
        let policy = Accrual {
            policy: AccrualPolicy::ConsecutiveFailures(1),
            backoff: Backoff::Constant(Duration::from_secs(60)),
        };
        r.endpoints()[2].record(false, Some(&policy), Instant::now());
        let order: Vec<u16> = (0..4)
            .map(|_| r.pick().unwrap().0.addr.port() - 8000)
            .collect();
        assert_eq!(order, vec![1, 0, 1, 0]);
    }

    #[test]
    fn when_every_endpoint_is_dead_picks_still_happen() {
        let s = set(2);
        let policy = Accrual {
            policy: AccrualPolicy::ConsecutiveFailures(1),
            backoff: Backoff::Constant(Duration::from_secs(60)),
        };
        let now = Instant::now();
        for e in s.endpoints() {
            e.record(false, Some(&policy), now);
        }
        assert!(s.pick().is_some());
    }

    #[test]
    fn pick_avoiding_skips_failed_endpoints_while_others_are_left() {
        let s = set(3);
        let failed = [s.endpoints()[0].addr, s.endpoints()[2].addr];
        for _ in 0..50 {
            let (e, _) = s.pick_avoiding(&failed).unwrap();
            assert_eq!(e.addr, s.endpoints()[1].addr);
        }
        let all: Vec<SocketAddr> = s.endpoints().iter().map(|e| e.addr).collect();
        assert!(s.pick_avoiding(&all).is_some(), "all failed: any");
    }

    fn set(n: u16) -> EndpointSet {
        EndpointSet::new(
            (0..n)
                .map(|i| Endpoint::new(SocketAddr::from(([127, 0, 0, 1], 8000 + i))))
                .collect(),
        )
    }

    #[test]
    fn empty_set_picks_nothing() {
        assert!(set(0).pick().is_none());
    }

    #[test]
    fn p2c_prefers_less_loaded_and_releases_on_drop() {
        let s = set(2);
        let (first, g1) = s.pick_with(|_| 0).unwrap();
        assert_eq!(first.outstanding(), 1);
        // Candidates 0 and 1: 0 has one outstanding, so 1 wins.
        let (second, g2) = s.pick_with(|_| 0).unwrap();
        assert_ne!(first.addr, second.addr);
        drop(g1);
        drop(g2);
        assert!(s.endpoints().iter().all(|e| e.outstanding() == 0));
    }

    fn weighted(ws: &[f64]) -> EndpointSet {
        EndpointSet::weighted(
            ws.iter()
                .enumerate()
                .map(|(i, &w)| {
                    (
                        Endpoint::new(SocketAddr::from(([127, 0, 0, 1], 9000 + i as u16))),
                        w,
                    )
                })
                .collect(),
        )
    }

    #[test]
    fn equal_or_all_zero_weights_are_plain_p2c() {
        assert!(weighted(&[2.0, 2.0, 2.0]).cumulative.is_empty());
        assert!(weighted(&[0.0, 0.0]).cumulative.is_empty());
        assert_eq!(weighted(&[1.0, 3.0]).cumulative, vec![1.0, 4.0]);
        assert_eq!(weighted(&[1.0, 3.0]).weight(1), 3.0);
        assert_eq!(weighted(&[1.0, f64::NAN]).weight(1), 0.0);
    }

    #[test]
    fn weighted_pair_draws_distinct_candidates_in_proportion() {
        let s = weighted(&[1.0, 0.0, 3.0]);
        // u1 in [0, 0.25) lands on endpoint 0, [0.25, 1) on endpoint 2; the
        // zero-weight endpoint 1 is never drawn.
        assert_eq!(s.weighted_pair(0.1, 0.5), (0, Some(2)));
        assert_eq!(s.weighted_pair(0.3, 0.0), (2, Some(0)));
        assert_eq!(s.weighted_pair(0.99, 0.99), (2, Some(0)));
        let mut counts = [0u32; 3];
        for i in 0..1000 {
            for j in 0..10 {
                let (a, b) = s.weighted_pair(i as f64 / 1000.0, j as f64 / 10.0);
                assert_ne!(Some(a), b);
                counts[a] += 1;
            }
        }
        assert_eq!(counts[1], 0);
        assert_eq!(
            counts[0] * 3,
            counts[2],
            "first draws follow the weights exactly"
        );
        // Only one endpoint with weight: no second candidate.
        assert_eq!(weighted(&[0.0, 5.0]).weighted_pair(0.7, 0.2), (1, None));
    }

    #[test]
    fn weighted_pick_follows_weights_at_low_load_and_evens_out_under_load() {
        let s = weighted(&[1.0, 3.0]);
        let mut picks = [0u32; 2];
        for _ in 0..20_000 {
            let (e, g) = s.pick().unwrap();
            picks[usize::from(e.addr.port() - 9000)] += 1;
            drop(g);
        }
        // Nothing outstanding: the first candidate wins, drawn 1:3.
        let share = f64::from(picks[1]) / 20_000.0;
        assert!((share - 0.75).abs() < 0.03, "weight-3 share {share}");
        // Under load (guards held) the outstanding counts settle in
        // proportion to the weights: 3 of every 4 on the weight-3 endpoint.
        let guards: Vec<_> = (0..400).map(|_| s.pick().unwrap().1).collect();
        let heavy = s.endpoints()[1].outstanding();
        assert!(
            (285..=315).contains(&heavy),
            "weight-3 endpoint holds {heavy} of 400"
        );
        drop(guards);
        // A 0.1 canary beside one full endpoint keeps about a tenth.
        let c = weighted(&[1.0, 0.1]);
        let guards: Vec<_> = (0..1100).map(|_| c.pick().unwrap().1).collect();
        let canary = c.endpoints()[1].outstanding();
        assert!(
            (85..=115).contains(&canary),
            "canary holds {canary} of 1100"
        );
        drop(guards);
    }

    #[test]
    fn p2c_spreads_over_all_endpoints() {
        // Seeded, so the test is deterministic (an unseeded run could, rarely,
        // draw a gap of 3 and fail for no fault of the balancer).
        for seed in 0..20 {
            let mut rng = fastrand::Rng::with_seed(seed);
            let s = set(4);
            let mut seen = std::collections::HashSet::new();
            let mut guards = Vec::new();
            for _ in 0..200 {
                let (e, g) = s.pick_with(|n| rng.usize(..n)).unwrap();
                seen.insert(e.addr);
                guards.push(g);
            }
            assert_eq!(seen.len(), 4);
            let max = s.endpoints().iter().map(|e| e.outstanding()).max().unwrap();
            let min = s.endpoints().iter().map(|e| e.outstanding()).min().unwrap();
            assert!(
                max - min <= 3,
                "seed {seed}: p2c keeps load even: {min}..{max}"
            );
        }
    }
}
