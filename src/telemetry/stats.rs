//! Per-shard request statistics, written on the request path: plain `Cell` counters owned by one
//! shard (no atomics, no locks, no lookups per request). A router's stats hand out one
//! [`ServiceStats`] per logical name and one [`ClientStats`] per concrete name; the binding cache
//! and the endpoint cache keep them beside the binding and the endpoint set, so a request only
//! increments counters it already holds. [`RouterStats::snapshot`] copies everything out for the
//! control thread, which merges the shards' snapshots (see `export`).
//!
//! Names come from clients (`l5d-dtab`, Host headers), so each router keeps at most
//! [`MAX_NAMES`] services and as many clients per shard; later names share one entry labelled
//! [`OVERFLOW`], so a scrape stays bounded and counters never go backwards.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, SystemTime};

/// Upper bounds of the latency buckets, in microseconds (exported in seconds); a last,
/// unbounded bucket follows.
pub const BUCKETS_US: [u64; 14] = [
    250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000,
    2_500_000, 10_000_000,
];

/// Most service (and, separately, client) names one router tracks per shard.
pub const MAX_NAMES: usize = 1000;

/// The name that names past [`MAX_NAMES`] are counted under.
pub const OVERFLOW: &str = "(other)";

/// A latency histogram.
#[derive(Debug, Default)]
pub struct Histogram {
    counts: [Cell<u64>; BUCKETS_US.len() + 1],
    sum_us: Cell<u64>,
}

impl Histogram {
    /// Counts one observation.
    pub fn record(&self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        let i = BUCKETS_US.partition_point(|&b| b < us);
        bump(&self.counts[i], 1);
        bump(&self.sum_us, us);
    }

    fn snapshot(&self) -> HistogramSnap {
        HistogramSnap {
            counts: self.counts.iter().map(Cell::get).collect(),
            sum_us: self.sum_us.get(),
        }
    }
}

fn bump(c: &Cell<u64>, n: u64) {
    c.set(c.get().wrapping_add(n));
}

/// How an exchange ended, for the `class` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// An HTTP response with this status (from the upstream or hawser).
    Status(u16),
    /// A Thrift reply (or an exception the upstream sent).
    ThriftReply,
    /// A `TApplicationException` hawser answered with.
    ThriftException,
    /// A oneway Thrift call, forwarded.
    ThriftOneway,
    /// Nothing was answered (the client went away, or a failed oneway call).
    None,
}

/// The exported classes, in [`ServiceStats`]'s order.
pub const CLASSES: [&str; 9] = [
    "1xx",
    "2xx",
    "3xx",
    "4xx",
    "5xx",
    "reply",
    "exception",
    "oneway",
    "none",
];

impl Outcome {
    fn class(self) -> usize {
        match self {
            Outcome::Status(s) => match s {
                100..=199 => 0,
                200..=299 => 1,
                300..=399 => 2,
                400..=499 => 3,
                _ => 4,
            },
            Outcome::ThriftReply => 5,
            Outcome::ThriftException => 6,
            Outcome::ThriftOneway => 7,
            Outcome::None => 8,
        }
    }
}

/// One logical name's counters on one shard.
#[derive(Debug, Default)]
pub struct ServiceStats {
    by_class: [Cell<u64>; CLASSES.len()],
    /// Exchanges hawser itself answered (`l5d-err`, a Thrift exception of its own).
    proxy_errors: Cell<u64>,
    retries: Cell<u64>,
    requeues: Cell<u64>,
    latency: Histogram,
}

impl ServiceStats {
    /// Counts one finished exchange: how it ended, whether hawser produced the answer, and how
    /// long it took from the request's arrival.
    pub fn record(&self, outcome: Outcome, by_proxy: bool, took: Duration) {
        bump(&self.by_class[outcome.class()], 1);
        if by_proxy {
            bump(&self.proxy_errors, 1);
        }
        self.latency.record(took);
    }

    /// Counts a retry (a retryable failure sent again).
    pub fn retried(&self) {
        bump(&self.retries, 1);
    }

    /// Counts a requeue (a request whose connect failed, sent to another endpoint).
    pub fn requeued(&self) {
        bump(&self.requeues, 1);
    }
}

/// One concrete name's counters on one shard.
#[derive(Debug, Default)]
pub struct ClientStats {
    /// Requests sent to one of its endpoints.
    requests: Cell<u64>,
    /// Requests that failed at or after the upstream (connect, I/O, protocol).
    failures: Cell<u64>,
}

impl ClientStats {
    /// Counts a request sent to this client; `failed` when the upstream failed it.
    pub fn record(&self, failed: bool) {
        bump(&self.requests, 1);
        if failed {
            bump(&self.failures, 1);
        }
    }
}

/// Per-name state for names that come from clients: at most [`MAX_NAMES`] names get their
/// own, later ones share one [`OVERFLOW`] entry (also used for retry budgets).
#[derive(Debug)]
pub(crate) struct Names<T> {
    map: foldhash::HashMap<Rc<str>, Rc<T>>,
    overflow: Option<Rc<T>>,
}

impl<T> Default for Names<T> {
    fn default() -> Self {
        Names {
            map: foldhash::HashMap::default(),
            overflow: None,
        }
    }
}

impl<T: Default> Names<T> {
    fn get(&mut self, name: &str) -> Rc<T> {
        self.get_or(name, T::default)
    }
}

impl<T> Names<T> {
    /// `name`'s entry, made by `make` the first time.
    pub(crate) fn get_or(&mut self, name: &str, make: impl FnOnce() -> T) -> Rc<T> {
        if let Some(s) = self.map.get(name) {
            return s.clone();
        }
        if self.map.len() >= MAX_NAMES {
            return self.overflow.get_or_insert_with(|| Rc::new(make())).clone();
        }
        let s = Rc::new(make());
        self.map.insert(name.into(), s.clone());
        s
    }

    fn each(&self) -> impl Iterator<Item = (&str, &T)> {
        self.map
            .iter()
            .map(|(k, v)| (&**k, &**v))
            .chain(self.overflow.iter().map(|v| (OVERFLOW, &**v)))
    }
}

/// One router's statistics on one shard.
#[derive(Debug, Default)]
pub struct RouterStats {
    services: RefCell<Names<ServiceStats>>,
    clients: RefCell<Names<ClientStats>>,
    connections: Cell<u64>,
    connections_open: Cell<u64>,
    /// `io.l5d.recentRequests`: the share sampled and how many are kept, and the newest ones.
    recent_policy: Option<(f64, usize)>,
    recent: RefCell<VecDeque<RecentRequest>>,
}

/// One sampled request, as linkerd's recent requests page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentRequest {
    /// When it arrived (wall clock).
    pub at: SystemTime,
    /// The client's address.
    pub source: SocketAddr,
    /// The listening address it came in on.
    pub server: SocketAddr,
    /// Its logical name.
    pub logical: String,
    /// The concrete name it was bound to.
    pub concrete: String,
    /// The endpoint it was sent to last (none when no endpoint was tried).
    pub destination: Option<SocketAddr>,
}

impl RouterStats {
    /// Counters that also keep a sample of recent requests: `sample_rate` of them, the newest
    /// `capacity` (`io.l5d.recentRequests`).
    pub fn with_recent(policy: Option<(f64, usize)>) -> RouterStats {
        RouterStats {
            recent_policy: policy.filter(|&(rate, cap)| rate > 0.0 && cap > 0),
            ..RouterStats::default()
        }
    }

    /// Whether to record this request in the recent requests (a draw at the sample rate;
    /// false at once when the telemeter is off).
    pub fn sample_recent(&self) -> bool {
        self.recent_policy
            .is_some_and(|(rate, _)| rate >= 1.0 || fastrand::f64() < rate)
    }

    /// Keeps `r` among the recent requests, dropping the oldest past the capacity.
    pub fn record_recent(&self, r: RecentRequest) {
        let Some((_, cap)) = self.recent_policy else {
            return;
        };
        let mut q = self.recent.borrow_mut();
        while q.len() >= cap {
            q.pop_front();
        }
        q.push_back(r);
    }

    /// The counters of logical name `service` (requests that were not identified use `""`).
    pub fn service(&self, service: &str) -> Rc<ServiceStats> {
        self.services.borrow_mut().get(service)
    }

    /// The counters of concrete name `client`.
    pub fn client(&self, client: &str) -> Rc<ClientStats> {
        self.clients.borrow_mut().get(client)
    }

    /// Counts a downstream connection as open until the guard drops.
    pub fn connection(self: &Rc<Self>) -> ConnectionGuard {
        bump(&self.connections, 1);
        bump(&self.connections_open, 1);
        ConnectionGuard(self.clone())
    }

    /// Copies everything out (for the control thread). `connects` is the upstream pool's count
    /// of connections opened.
    pub fn snapshot(&self, connects: u64) -> RouterSnap {
        RouterSnap {
            connections: self.connections.get(),
            connections_open: self.connections_open.get(),
            connects,
            recent: self.recent.borrow().iter().cloned().collect(),
            services: self
                .services
                .borrow()
                .each()
                .map(|(name, s)| {
                    (
                        name.to_string(),
                        ServiceSnap {
                            by_class: s.by_class.iter().map(Cell::get).collect(),
                            proxy_errors: s.proxy_errors.get(),
                            retries: s.retries.get(),
                            requeues: s.requeues.get(),
                            latency: s.latency.snapshot(),
                        },
                    )
                })
                .collect(),
            clients: self
                .clients
                .borrow()
                .each()
                .map(|(name, c)| {
                    (
                        name.to_string(),
                        ClientSnap {
                            requests: c.requests.get(),
                            failures: c.failures.get(),
                        },
                    )
                })
                .collect(),
        }
    }
}

/// Keeps a downstream connection counted as open.
#[derive(Debug)]
pub struct ConnectionGuard(Rc<RouterStats>);

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        let open = &self.0.connections_open;
        open.set(open.get().saturating_sub(1));
    }
}

/// A histogram's counts: one per bucket of [`BUCKETS_US`], then the unbounded one (not
/// cumulative).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistogramSnap {
    pub counts: Vec<u64>,
    pub sum_us: u64,
}

/// A service's counters, copied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceSnap {
    /// Per class of [`CLASSES`].
    pub by_class: Vec<u64>,
    pub proxy_errors: u64,
    pub retries: u64,
    pub requeues: u64,
    pub latency: HistogramSnap,
}

/// A client's counters, copied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientSnap {
    pub requests: u64,
    pub failures: u64,
}

/// One router's statistics on one shard, copied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouterSnap {
    pub connections: u64,
    pub connections_open: u64,
    pub connects: u64,
    pub services: Vec<(String, ServiceSnap)>,
    pub clients: Vec<(String, ClientSnap)>,
    /// The sampled recent requests, oldest first.
    pub recent: Vec<RecentRequest>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_land_in_the_first_bucket_that_holds_them() {
        let h = Histogram::default();
        for us in [0, 250, 251, 999, 1_000, 20_000_000] {
            h.record(Duration::from_micros(us));
        }
        let s = h.snapshot();
        assert_eq!(s.counts[0], 2, "0 and 250 are <= 250 µs");
        assert_eq!(s.counts[1], 1, "251");
        assert_eq!(s.counts[2], 2, "999 and 1000");
        assert_eq!(*s.counts.last().unwrap(), 1, "20 s is past every bound");
        assert_eq!(s.counts.iter().sum::<u64>(), 6);
        assert_eq!(s.sum_us, 250 + 251 + 999 + 1_000 + 20_000_000);
    }

    #[test]
    fn names_are_shared_and_bounded() {
        let r = Rc::new(RouterStats::default());
        let a = r.service("/svc/a");
        a.record(Outcome::Status(200), false, Duration::from_millis(1));
        r.service("/svc/a")
            .record(Outcome::Status(502), true, Duration::from_millis(1));
        for i in 0..MAX_NAMES + 5 {
            r.service(&format!("/svc/n{i}"))
                .record(Outcome::ThriftReply, false, Duration::ZERO);
        }
        let snap = r.snapshot(7);
        assert_eq!(snap.connects, 7);
        assert_eq!(
            snap.services.len(),
            MAX_NAMES + 1,
            "the cap, plus the overflow entry"
        );
        let (_, a) = snap.services.iter().find(|(n, _)| n == "/svc/a").unwrap();
        assert_eq!((a.by_class[1], a.by_class[4], a.proxy_errors), (1, 1, 1));
        let (_, other) = snap.services.iter().find(|(n, _)| n == OVERFLOW).unwrap();
        // /svc/a took one slot, so MAX_NAMES - 1 of the new names got their own.
        assert_eq!(other.by_class[5], 6);
    }

    #[test]
    fn open_connections_are_counted_until_the_guard_drops() {
        let r = Rc::new(RouterStats::default());
        let g1 = r.connection();
        let g2 = r.connection();
        drop(g1);
        let s = r.snapshot(0);
        assert_eq!((s.connections, s.connections_open), (2, 1));
        drop(g2);
        assert_eq!(r.snapshot(0).connections_open, 0);
    }
}
