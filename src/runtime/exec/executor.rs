//! The per-thread executor: a run queue of `async-task` runnables and the
//! loop that alternates between running them and turning the reactor.
//!
//! Everything lives in thread-locals of the shard thread: tasks are `!Send`
//! and are only ever woken on the thread that owns them (the reactor wakes
//! them; blocking-pool threads only signal the reactor's eventfd). This
//! module knows no sockets; see `reactor` and `crate::net`.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use async_task::Runnable;

use super::reactor::{Reactor, RingMode};

/// A spawned task; await it for its output, or `detach()` it.
/// Dropping it without detaching cancels the task.
pub type Task<T> = async_task::Task<T>;

/// Runnables run before the reactor is turned again (so I/O readiness is
/// picked up even while tasks keep waking each other).
const BATCH: usize = 256;

thread_local! {
    static QUEUE: RefCell<VecDeque<Runnable>> = const { RefCell::new(VecDeque::new()) };
    static REACTOR: RefCell<Option<Reactor>> = const { RefCell::new(None) };
    static RUNNING: Cell<bool> = const { Cell::new(false) };
    /// The time the reactor last woke up (see [`now`]).
    static NOW: Cell<Option<Instant>> = const { Cell::new(None) };
    /// How long an idle loop polls before it sleeps (see [`set_spin_before_park`]).
    static SPIN: Cell<Duration> = const { Cell::new(Duration::ZERO) };
}

/// Makes this thread's executor, once it runs out of tasks, keep polling the
/// ring for up to `spin` before it sleeps in the kernel (`runtime.spinBeforeParkUs`;
/// zero, the default, sleeps at once). Spinning trades CPU for latency and
/// throughput: a shard that is never asleep is never woken. Call before
/// [`run_with`] on the shard's thread.
pub fn set_spin_before_park(spin: Duration) {
    SPIN.with(|s| s.set(spin));
}

/// The shard's clock as of its last wake-up from the kernel (one clock read
/// per loop turn instead of several per request), or the real time outside a
/// runtime. Behind the real time by at most one run of ready tasks: for
/// coarse deadlines (keep-alive, header and idle timeouts, pool ages), not for
/// measuring.
pub fn now() -> Instant {
    NOW.with(Cell::get).unwrap_or_else(Instant::now)
}

/// Sets the cached clock (the reactor, after each wake-up).
pub(crate) fn set_now(t: Instant) {
    NOW.with(|n| n.set(Some(t)));
}

fn schedule(r: Runnable) {
    // During thread tear-down the queue may be gone: dropping the runnable
    // then cancels the task, which is what tear-down wants anyway.
    let _ = QUEUE.try_with(|q| q.borrow_mut().push_back(r));
}

/// Runs `f` with this thread's reactor.
///
/// # Panics
/// Outside [`run`] (no reactor on this thread).
pub(crate) fn with_reactor<T>(f: impl FnOnce(&mut Reactor) -> T) -> T {
    REACTOR.with(|r| {
        let mut r = r.borrow_mut();
        let r = r
            .as_mut()
            .expect("hawser runtime: I/O used outside runtime::exec::run");
        f(r)
    })
}

/// Like [`with_reactor`], but a no-op when there is none (tear-down).
pub(crate) fn try_with_reactor(f: impl FnOnce(&mut Reactor)) {
    let _ = REACTOR.try_with(|r| {
        if let Ok(mut r) = r.try_borrow_mut()
            && let Some(r) = r.as_mut()
        {
            f(r);
        }
    });
}

/// Spawns a task on this thread's executor.
pub fn spawn_local<F>(fut: F) -> Task<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let (runnable, task) = async_task::spawn_local(fut, schedule);
    runnable.schedule();
    task
}

/// Runs `fut` on a fresh reactor on the calling thread until it completes,
/// running every task it spawns meanwhile; tasks still pending then are
/// cancelled. `on_ready` is told how the ring was set up.
///
/// # Errors
/// When the io_uring cannot be created (or this thread already runs one).
pub fn run_with<T: 'static>(
    fut: impl Future<Output = T> + 'static,
    on_ready: impl FnOnce(RingMode),
) -> io::Result<T> {
    if RUNNING.with(Cell::get) {
        return Err(io::Error::other(
            "a runtime is already running on this thread",
        ));
    }
    let reactor = Reactor::new()?;
    on_ready(reactor.mode());
    REACTOR.with(|r| *r.borrow_mut() = Some(reactor));
    RUNNING.with(|r| r.set(true));
    let spin = SPIN.with(Cell::get);
    let out: Rc<RefCell<Option<T>>> = Rc::new(RefCell::new(None));
    {
        let out = out.clone();
        spawn_local(async move {
            let v = fut.await;
            *out.borrow_mut() = Some(v);
        })
        .detach();
    }
    // Whether the last turn of the reactor saw socket traffic: only then is
    // spinning worth it (a shard woken by its own timers parks at once).
    let mut traffic = false;
    loop {
        let mut n = 0;
        while n < BATCH {
            let Some(r) = QUEUE.with(|q| q.borrow_mut().pop_front()) else {
                break;
            };
            r.run();
            n += 1;
        }
        if out.borrow().is_some() {
            break;
        }
        let idle = QUEUE.with(|q| q.borrow().is_empty());
        if idle && traffic && !spin.is_zero() {
            // Spin before parking: poll the ring without sleeping until work
            // arrives or the spin time passes, then block as usual. Under
            // DEFER_TASKRUN nothing completes unless the thread enters the
            // kernel, so each round is a non-blocking io_uring_enter; a
            // spinning thread is never asleep, so a peer's send needs no
            // wake-up (no IPI, no scheduler round trip) to reach it.
            let until = Instant::now() + spin;
            let mut woke = false;
            while Instant::now() < until {
                traffic = with_reactor(|r| r.turn(false));
                if !QUEUE.with(|q| q.borrow().is_empty()) {
                    woke = true;
                    break;
                }
            }
            if woke {
                continue;
            }
        }
        traffic = with_reactor(|r| r.turn(idle));
    }
    tear_down();
    let v = out.borrow_mut().take();
    v.ok_or_else(|| io::Error::other("main future vanished"))
}

/// [`run_with`] without the ring-mode report.
///
/// # Errors
/// When the io_uring cannot be created.
pub fn run<T: 'static>(fut: impl Future<Output = T> + 'static) -> io::Result<T> {
    run_with(fut, |_| {})
}

/// Cancels what is left: drops stored wakers (so detached tasks nobody can
/// wake get rescheduled one last time and dropped) and queued runnables,
/// until nothing more shows up, then drops the reactor.
fn tear_down() {
    loop {
        let wakers = with_reactor(Reactor::take_wakers);
        let had_wakers = !wakers.is_empty();
        drop(wakers);
        let queued = QUEUE.with(|q| std::mem::take(&mut *q.borrow_mut()));
        if queued.is_empty() && !had_wakers {
            break;
        }
        drop(queued);
    }
    // Sources still alive (leaked tasks) close their fds without a reactor.
    let reactor = REACTOR.with(|r| r.borrow_mut().take());
    drop(reactor);
    NOW.with(|n| n.set(None));
    RUNNING.with(|r| r.set(false));
}

/// Resolves at `deadline` exactly (to the reactor's wake-up precision).
pub struct Sleep {
    deadline: Instant,
    key: Option<(Instant, u64)>,
}

/// Sleeps for `dur` on this thread's reactor (an exact timer: for control
/// loops; request-path timeouts use the coarse timers).
pub fn sleep(dur: Duration) -> Sleep {
    Sleep {
        deadline: Instant::now() + dur,
        key: None,
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            if let Some(k) = self.key.take() {
                with_reactor(|r| r.remove_timer(k));
            }
            return Poll::Ready(());
        }
        let deadline = self.deadline;
        match self.key {
            Some(k) => {
                if !with_reactor(|r| r.update_timer(k, cx.waker())) {
                    // Fired (the clock says not yet only by rounding): re-add.
                    self.key = Some(with_reactor(|r| r.add_timer(deadline, cx.waker())));
                }
            }
            None => self.key = Some(with_reactor(|r| r.add_timer(deadline, cx.waker()))),
        }
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(k) = self.key.take() {
            try_with_reactor(|r| r.remove_timer(k));
        }
    }
}

/// Runs `f` on a new thread and resolves to its result on this shard (for
/// the rare blocking call such as a DNS lookup). When no thread can be
/// started, `f` runs inline.
pub async fn spawn_blocking<T, F>(f: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let cell: Arc<Mutex<Option<T>>> = Arc::new(Mutex::new(None));
    let efd = with_reactor(|r| r.eventfd());
    let job = {
        let cell = cell.clone();
        move || {
            let v = f();
            *cell.lock().unwrap_or_else(|p| p.into_inner()) = Some(v);
            let one: u64 = 1;
            // SAFETY: writes 8 bytes from a u64 to the shard's eventfd, kept
            // open by the Arc this closure holds.
            let _ = unsafe {
                libc::write(
                    std::os::fd::AsRawFd::as_raw_fd(&*efd),
                    (&raw const one).cast(),
                    8,
                )
            };
        }
    };
    // The job is shared with the thread so it can run inline if spawning fails.
    let job = Arc::new(Mutex::new(Some(job)));
    let spawned = {
        let job = job.clone();
        std::thread::Builder::new()
            .name("hawser-blocking".into())
            .spawn(move || {
                let j = job.lock().unwrap_or_else(|p| p.into_inner()).take();
                if let Some(j) = j {
                    j();
                }
            })
            .is_ok()
    };
    if !spawned {
        let j = job.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(j) = j {
            j();
        }
    }
    std::future::poll_fn(|cx| {
        if let Some(v) = cell.lock().unwrap_or_else(|p| p.into_inner()).take() {
            return Poll::Ready(v);
        }
        with_reactor(|r| r.wait_blocking(cx));
        Poll::Pending
    })
    .await
}
