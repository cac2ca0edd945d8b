//! The load generator: many keep-alive connections spread over its own pinned shards (one
//! pinned thread per CPU it is given), driven open loop at a fixed rate or closed loop as fast as
//! responses come back.
//!
//! Open loop and coordinated omission: every request has an intended send time on a fixed
//! schedule (connection `k` of `n` at total rate `r` sends at `start + k/r + i*n/r`). Latency is
//! measured from the intended time, not from when the request actually left, and a connection
//! that falls behind sends its overdue requests back to back instead of skipping them. A server
//! stall therefore shows up as the many slow requests users would have seen, not as one. The
//! uncorrected latency (from the actual send) is kept beside it so the two can be compared.
//!
//! It speaks any [`RequestShape`] (HTTP/1.1, Thrift, HTTP/2) and does not pipeline, retry, or read
//! a config file. HTTP/1.1 and Thrift keep one request in flight per connection. HTTP/2 runs
//! `streams` *slots* per connection: each of the `connections x streams` slots follows the
//! schedule exactly as a connection does above (slot `k` of `n` sends at `start + k/r + i*n/r`;
//! closed loop: its next request when its previous response completed), and the slots of one
//! connection share it, one stream each; when the connection has to be reopened (closed,
//! GOAWAY) the first slot to notice reopens it for all.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::backend::Backend;
use crate::client::{Conn, ExchangeError};
use crate::rt::{sleep, spawn_local, spawn_pinned};
use crate::shape::RequestShape;

/// How requests are paced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// A fixed total rate in requests per second, coordinated-omission corrected.
    Open {
        /// Requests per second over all connections.
        rate: f64,
    },
    /// Each connection sends its next request as soon as the previous response is complete.
    Closed,
}

/// One load run.
#[derive(Debug, Clone)]
pub struct LoadSpec {
    /// Where to connect.
    pub addr: SocketAddr,
    /// What to send.
    pub shape: RequestShape,
    /// Open or closed loop.
    pub mode: Mode,
    /// Keep-alive connections in all (spread evenly over the shards).
    pub connections: usize,
    /// HTTP/2: concurrent streams per connection (slots sharing it). Ignored (1) otherwise.
    pub streams: usize,
    /// Measured time, after the warm-up.
    pub duration: Duration,
    /// Time run (on the same schedule) before measuring starts.
    pub warmup: Duration,
    /// One generator shard per CPU in this list.
    pub cpus: Vec<usize>,
    /// Expected response body size (Thrift: the success binary's size); a different size is
    /// an error. `None`: any size.
    pub expect_body: Option<u64>,
    /// Connect and read timeout.
    pub timeout: Duration,
}

/// What a run measured. Latencies are in microseconds.
#[derive(Debug, Clone)]
pub struct LoadReport {
    /// Latency from the intended send time (open loop) or the send (closed loop).
    pub corrected: Histogram<u64>,
    /// Latency from the actual send time.
    pub uncorrected: Histogram<u64>,
    /// Requests sent (actual send time) inside the measured window.
    pub sent: u64,
    /// Requests sent in all, warm-up and tail included (what a proxy's CPU time is divided by).
    pub total_sent: u64,
    /// Successful responses counted in the window (open loop: intended time in the window;
    /// closed loop: completed in the window).
    pub completed: u64,
    /// Failed exchanges in the window, by kind.
    pub errors: BTreeMap<String, u64>,
    /// Open loop: requests in the window still unsent at the cut-off (the end of the window plus
    /// a grace of a quarter of the duration, at least 1 s). Their latency is recorded in
    /// `corrected` as a lower bound (cut-off minus intended time) so an overload stays visible.
    pub missed: u64,
    /// Connections opened after the first (the server closed or an exchange failed).
    pub reconnects: u64,
    /// Most requests in flight at once on one connection (HTTP/2 streams; 1 otherwise).
    pub max_in_flight: usize,
    /// The measured window.
    pub duration: Duration,
}

impl LoadReport {
    fn empty(duration: Duration) -> LoadReport {
        LoadReport {
            corrected: new_histogram(),
            uncorrected: new_histogram(),
            sent: 0,
            total_sent: 0,
            completed: 0,
            missed: 0,
            errors: BTreeMap::new(),
            reconnects: 0,
            max_in_flight: 0,
            duration,
        }
    }

    fn merge(&mut self, other: LoadReport) {
        // Same bounds on both sides: adding cannot fail.
        let _ = self.corrected.add(&other.corrected);
        let _ = self.uncorrected.add(&other.uncorrected);
        self.sent += other.sent;
        self.total_sent += other.total_sent;
        self.completed += other.completed;
        self.missed += other.missed;
        for (k, v) in other.errors {
            *self.errors.entry(k).or_default() += v;
        }
        self.reconnects += other.reconnects;
        self.max_in_flight = self.max_in_flight.max(other.max_in_flight);
    }

    /// Total failed exchanges.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Achieved requests per second: sends in the window (open loop) or completions (closed).
    pub fn rps(&self, mode: Mode) -> f64 {
        let n = match mode {
            Mode::Open { .. } => self.sent,
            Mode::Closed => self.completed,
        };
        n as f64 / self.duration.as_secs_f64()
    }

    /// Corrected latency at quantile `q` (0..=1), in microseconds.
    pub fn quantile_us(&self, q: f64) -> u64 {
        self.corrected.value_at_quantile(q)
    }
}

/// A histogram from 1 µs to 100 s with three significant digits.
pub fn new_histogram() -> Histogram<u64> {
    // Valid constant bounds: this cannot fail.
    Histogram::new_with_bounds(1, 100_000_000, 3).expect("valid histogram bounds")
}

/// Runs the load on threads of its own (one pinned per CPU in `spec.cpus`) and merges every
/// shard's measurements.
///
/// # Errors
/// When a shard cannot start or its first connections cannot be opened.
pub fn run_load(spec: &LoadSpec) -> Result<LoadReport, String> {
    run_load_hosted(spec, None)
}

/// Like [`run_load`], but each generator shard whose CPU has a shard of `host` runs on that
/// backend shard's thread, beside the backend's own tasks (one executor, one ring), instead of
/// on a thread of its own. Two busy threads pinned to one CPU are time-sliced by the kernel
/// scheduler (4 ms ticks here), which put millisecond tails into every system's latency that
/// no proxy caused; one thread per CPU has none, and no wake-ups between the two either.
///
/// # Errors
/// As [`run_load`].
pub fn run_load_on(spec: &LoadSpec, host: &Backend) -> Result<LoadReport, String> {
    run_load_hosted(spec, Some(host))
}

fn run_load_hosted(spec: &LoadSpec, host: Option<&Backend>) -> Result<LoadReport, String> {
    if spec.cpus.is_empty() {
        return Err("no CPUs for the generator".into());
    }
    if spec.connections == 0 {
        return Err("at least one connection is needed".into());
    }
    if let Mode::Open { rate } = spec.mode
        && !(rate > 0.0 && rate.is_finite())
    {
        return Err(format!("rate must be positive, got {rate}"));
    }
    if spec.streams == 0 {
        return Err("at least one stream per connection is needed".into());
    }
    let shards = spec.cpus.len().min(spec.connections);
    let (ready_tx, ready_rx) = mpsc::channel::<Result<(), String>>();
    let mut start_txs = Vec::new();
    let mut handles = Vec::new();
    let (done_tx, done_rx) = mpsc::channel::<Option<LoadReport>>();
    let mut hosted = 0;
    let mut first_conn = 0;
    for (s, &cpu) in spec.cpus.iter().take(shards).enumerate() {
        let count = spec.connections / shards + usize::from(s < spec.connections % shards);
        let (start_tx, start_rx) = mpsc::channel::<Instant>();
        start_txs.push(start_tx);
        let ready = ready_tx.clone();
        let shard = ShardPlan {
            spec: spec.clone(),
            first_conn,
            count,
        };
        first_conn += count;
        if let Some(host) = host.filter(|h| h.has_cpu(cpu)) {
            let done = done_tx.clone();
            host.spawn_on(
                cpu,
                Box::new(move || {
                    Box::pin(async move {
                        let _ = done.send(run_shard(shard, ready, start_rx).await);
                    })
                }),
            )?;
            hosted += 1;
            continue;
        }
        let h = spawn_pinned(cpu, &format!("bench-gen-{s}"), move || {
            run_shard(shard, ready, start_rx)
        })
        .map_err(|e| format!("generator shard on CPU {cpu}: {e}"))?;
        handles.push(h);
    }
    drop(ready_tx);
    drop(done_tx);
    let mut failure = None;
    for _ in 0..shards {
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failure = Some(e),
            Err(_) => failure = Some("a generator shard exited early".into()),
        }
    }
    if failure.is_none() {
        let start = Instant::now() + Duration::from_millis(5);
        for tx in &start_txs {
            let _ = tx.send(start);
        }
    }
    drop(start_txs);
    let mut total = LoadReport::empty(spec.duration);
    for _ in 0..hosted {
        match done_rx.recv() {
            Ok(Some(r)) => total.merge(r),
            Ok(None) => {}
            Err(_) => {
                failure = failure.or(Some(
                    "a generator shard on a backend thread vanished".into(),
                ))
            }
        }
    }
    for h in handles {
        match h.join() {
            Ok(Ok(Some(r))) => total.merge(r),
            Ok(Ok(None)) => {}
            Ok(Err(e)) => failure = failure.or(Some(format!("generator shard failed: {e}"))),
            Err(_) => failure = failure.or(Some("generator shard panicked".into())),
        }
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(total),
    }
}

struct ShardPlan {
    spec: LoadSpec,
    first_conn: usize,
    count: usize,
}

async fn run_shard(
    plan: ShardPlan,
    ready: mpsc::Sender<Result<(), String>>,
    start_rx: mpsc::Receiver<Instant>,
) -> Option<LoadReport> {
    let spec = &plan.spec;
    let request = spec.shape.encode();
    let mut conns = Vec::with_capacity(plan.count);
    for _ in 0..plan.count {
        match connect(spec, &request).await {
            Ok(c) => conns.push(c),
            Err(e) => {
                let _ = ready.send(Err(format!("connect to {}: {}", spec.addr, e.label())));
                return None;
            }
        }
    }
    let _ = ready.send(Ok(()));
    // Wait for the common start without blocking the thread (a backend may share it).
    let start = loop {
        match start_rx.try_recv() {
            Ok(t) => break t,
            Err(mpsc::TryRecvError::Empty) => sleep(Duration::from_micros(200)).await,
            Err(mpsc::TryRecvError::Disconnected) => return None,
        }
    };
    let h2 = matches!(spec.shape, RequestShape::H2(_));
    let streams = if h2 { spec.streams } else { 1 };
    let slots = spec.connections * streams;
    let mut tasks = Vec::with_capacity(plan.count * streams);
    for (i, conn) in conns.into_iter().enumerate() {
        let c = plan.first_conn + i;
        if !h2 {
            let spec = spec.clone();
            let request = request.clone();
            tasks.push(spawn_local(async move {
                drive(conn, Opener::Own, &spec, request, c, slots, start).await
            }));
            continue;
        }
        let shared = Rc::new(Shared {
            current: RefCell::new(conn),
            connecting: Cell::new(false),
        });
        for st in 0..streams {
            let spec = spec.clone();
            let request = request.clone();
            // Consecutive slots alternate between connections.
            let k = st * spec.connections + c;
            let conn = shared.current.borrow().clone_for_slot();
            let opener = Opener::Shared(shared.clone());
            tasks.push(spawn_local(async move {
                drive(conn, opener, &spec, request, k, slots, start).await
            }));
        }
    }
    let mut report = LoadReport::empty(spec.duration);
    for t in tasks {
        report.merge(t.await);
    }
    Some(report)
}

async fn connect(spec: &LoadSpec, request: &bytes::Bytes) -> Result<Conn, ExchangeError> {
    Conn::connect(
        spec.addr,
        &spec.shape,
        request.clone(),
        spec.expect_body,
        spec.timeout,
    )
    .await
}

/// One HTTP/2 connection shared by its slots, and whether one of them is reopening it.
struct Shared {
    current: RefCell<Conn>,
    connecting: Cell<bool>,
}

/// How a slot gets a new connection.
enum Opener {
    /// Its own (HTTP/1.1, Thrift).
    Own,
    /// The shared one, reopened by whichever slot needs it first.
    Shared(Rc<Shared>),
}

impl Opener {
    /// A usable connection, and whether it was opened just now (a reconnect).
    async fn open(
        &self,
        spec: &LoadSpec,
        request: &bytes::Bytes,
    ) -> Result<(Conn, bool), ExchangeError> {
        let Opener::Shared(shared) = self else {
            return connect(spec, request).await.map(|c| (c, true));
        };
        loop {
            {
                let current = shared.current.borrow();
                if current.reusable() {
                    return Ok((current.clone_for_slot(), false));
                }
            }
            if shared.connecting.get() {
                sleep(Duration::from_millis(1)).await;
                continue;
            }
            shared.connecting.set(true);
            let r = connect(spec, request).await;
            shared.connecting.set(false);
            let c = r?;
            *shared.current.borrow_mut() = c.clone_for_slot();
            return Ok((c, true));
        }
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1)
}

/// Drives one slot (a connection, or an HTTP/2 connection's stream): slot `k` of `slots`,
/// schedule starting at `start`.
async fn drive(
    mut conn: Conn,
    opener: Opener,
    spec: &LoadSpec,
    request: bytes::Bytes,
    k: usize,
    slots: usize,
    start: Instant,
) -> LoadReport {
    let mut report = LoadReport::empty(spec.duration);
    let window_start = start + spec.warmup;
    let end = window_start + spec.duration;
    let in_window = |t: Instant| t >= window_start && t < end;
    let cutoff = end + (spec.duration / 4).max(Duration::from_secs(1));
    let (phase, interval) = match spec.mode {
        Mode::Open { rate } => (
            Duration::from_secs_f64(k as f64 / rate),
            Duration::from_secs_f64(slots as f64 / rate),
        ),
        Mode::Closed => (Duration::ZERO, Duration::ZERO),
    };
    let mut i: u32 = 0;
    let mut broken = false;
    loop {
        let now = Instant::now();
        let intended = match spec.mode {
            Mode::Open { .. } => {
                let t = start + phase + interval * i;
                i = i.saturating_add(1);
                if t >= end {
                    break;
                }
                if now >= cutoff {
                    // Overloaded past the grace period: give up on the rest of the schedule,
                    // recording each unsent request's wait so far as a lower bound.
                    let mut t = t;
                    while t < end {
                        if in_window(t) {
                            report.missed += 1;
                            report.corrected.saturating_record(micros(now - t));
                        }
                        t = start + phase + interval * i;
                        i = i.saturating_add(1);
                    }
                    break;
                }
                if t > now {
                    sleep(t - now).await;
                }
                t
            }
            Mode::Closed => {
                if now >= end {
                    break;
                }
                now
            }
        };
        if broken || !conn.reusable() {
            match opener.open(spec, &request).await {
                Ok((c, fresh)) => {
                    conn = c;
                    broken = false;
                    report.reconnects += u64::from(fresh);
                }
                Err(e) => {
                    if in_window(intended) {
                        *report.errors.entry(e.label()).or_default() += 1;
                    }
                    broken = true;
                    if spec.mode == Mode::Closed {
                        sleep(Duration::from_millis(10)).await;
                    }
                    continue;
                }
            }
        }
        let sent = Instant::now();
        report.total_sent += 1;
        if in_window(sent) {
            report.sent += 1;
        }
        let result = conn.exchange().await;
        let done = Instant::now();
        report.max_in_flight = report.max_in_flight.max(conn.in_flight_high_water());
        let counted = match spec.mode {
            Mode::Open { .. } => in_window(intended),
            Mode::Closed => in_window(done),
        };
        if !counted {
            continue;
        }
        match result {
            Ok(()) => {
                report.completed += 1;
                report.corrected.saturating_record(micros(done - intended));
                report.uncorrected.saturating_record(micros(done - sent));
            }
            Err(e) => *report.errors.entry(e.label()).or_default() += 1,
        }
    }
    report
}
