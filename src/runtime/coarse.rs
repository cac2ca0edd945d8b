//! Coarse per-shard timeouts for the request path.
//!
//! Exact timers ([`super::exec::sleep`]) are kept in the reactor's ordered
//! timer map, an insert and a remove in a tree per timeout; with a timeout
//! around every read of every connection that is real work per request. Protocol timeouts (idle keep-alive, header
//! deadline, body stalls) do not need that precision, so they register here
//! instead: a slab insert and remove, no syscall. One task per shard sweeps
//! the slab every [`TICK`] and wakes what expired, so a timeout fires up to
//! one tick late.

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// Sweep period: the precision of every coarse timeout.
pub const TICK: Duration = Duration::from_millis(50);

struct Slot {
    deadline: Instant,
    waker: Option<Waker>,
    fired: bool,
}

/// A shard's coarse timer slab.
#[derive(Default)]
pub struct CoarseTimers {
    slots: RefCell<Vec<Option<Slot>>>,
    free: RefCell<Vec<usize>>,
}

impl CoarseTimers {
    fn insert(&self, deadline: Instant, waker: &Waker) -> usize {
        let slot = Slot {
            deadline,
            waker: Some(waker.clone()),
            fired: false,
        };
        let mut slots = self.slots.borrow_mut();
        match self.free.borrow_mut().pop() {
            Some(i) => {
                slots[i] = Some(slot);
                i
            }
            None => {
                slots.push(Some(slot));
                slots.len() - 1
            }
        }
    }

    fn remove(&self, i: usize) {
        let mut slots = self.slots.borrow_mut();
        if let Some(s) = slots.get_mut(i)
            && s.take().is_some()
        {
            self.free.borrow_mut().push(i);
        }
    }

    /// Poll-style deadline for hand-written futures: true once `deadline`
    /// has passed (noticed by a sweep, or already past at registration),
    /// else registers `cx`'s waker in `slot`. The caller must call
    /// [`CoarseTimers::unregister`] with the slot when it is done.
    pub fn poll_expired(
        &self,
        deadline: Instant,
        slot: &mut Option<usize>,
        cx: &Context<'_>,
    ) -> bool {
        match *slot {
            None => {
                if super::exec::now() >= deadline {
                    return true;
                }
                *slot = Some(self.insert(deadline, cx.waker()));
                false
            }
            Some(i) => {
                let mut slots = self.slots.borrow_mut();
                let Some(Some(s)) = slots.get_mut(i) else {
                    return true;
                };
                if s.fired {
                    return true;
                }
                match &s.waker {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    _ => s.waker = Some(cx.waker().clone()),
                }
                false
            }
        }
    }

    /// Frees a slot registered by [`CoarseTimers::poll_expired`].
    pub fn unregister(&self, slot: &mut Option<usize>) {
        if let Some(i) = slot.take() {
            self.remove(i);
        }
    }

    /// Wakes every timeout whose deadline is at or before `now`; returns how many.
    pub fn fire(&self, now: Instant) -> usize {
        let mut woken = Vec::new();
        {
            let mut slots = self.slots.borrow_mut();
            for s in slots.iter_mut().flatten() {
                if !s.fired && s.deadline <= now {
                    s.fired = true;
                    if let Some(w) = s.waker.take() {
                        woken.push(w);
                    }
                }
            }
        }
        let n = woken.len();
        for w in woken {
            w.wake();
        }
        n
    }

    /// Timeouts currently registered.
    pub fn pending(&self) -> usize {
        self.slots.borrow().iter().flatten().count()
    }

    /// Runs `fut` with a deadline `dur` from now; `Err(TimedOut)` once it
    /// passes (at most one [`TICK`] late). Requires [`CoarseTimers::fire`]
    /// to be called periodically (the shard does).
    pub fn timeout<'a, T, F>(&'a self, dur: Duration, fut: F) -> Timeout<'a, F>
    where
        F: Future<Output = io::Result<T>>,
    {
        Timeout {
            timers: self,
            deadline: super::exec::now() + dur,
            slot: None,
            fut,
        }
    }
}

pin_project_lite::pin_project! {
    /// The future returned by [`CoarseTimers::timeout`].
    pub struct Timeout<'a, F> {
        timers: &'a CoarseTimers,
        deadline: Instant,
        slot: Option<usize>,
        #[pin]
        fut: F,
    }

    impl<'a, F> PinnedDrop for Timeout<'a, F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            this.timers.unregister(this.slot);
        }
    }
}

impl<T, F: Future<Output = io::Result<T>>> Future for Timeout<'_, F> {
    type Output = io::Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(r) = this.fut.poll(cx) {
            return Poll::Ready(r);
        }
        if this.timers.poll_expired(*this.deadline, this.slot, cx) {
            return Poll::Ready(Err(io::ErrorKind::TimedOut.into()));
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::pending;

    #[test]
    fn fires_only_after_the_deadline_and_cleans_up() {
        let timers = CoarseTimers::default();
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        let mut t =
            Box::pin(timers.timeout(Duration::from_millis(30), pending::<io::Result<()>>()));
        assert!(t.as_mut().poll(&mut cx).is_pending());
        assert_eq!(timers.pending(), 1);
        assert_eq!(timers.fire(Instant::now()), 0, "not yet");
        assert_eq!(timers.fire(Instant::now() + Duration::from_millis(40)), 1);
        match t.as_mut().poll(&mut cx) {
            Poll::Ready(Err(e)) => assert_eq!(e.kind(), io::ErrorKind::TimedOut),
            other => panic!("expected a timeout, got {other:?}"),
        }
        drop(t);
        assert_eq!(timers.pending(), 0, "slot freed on drop");
    }

    #[test]
    fn completed_future_wins_and_frees_its_slot() {
        let timers = CoarseTimers::default();
        let mut cx = Context::from_waker(Waker::noop());
        let mut t = Box::pin(timers.timeout(Duration::from_secs(5), async { Ok(7) }));
        assert!(matches!(t.as_mut().poll(&mut cx), Poll::Ready(Ok(7))));
        drop(t);
        assert_eq!(timers.pending(), 0);
        // Slots are reused.
        let mut a = Box::pin(timers.timeout(Duration::from_secs(5), pending::<io::Result<()>>()));
        let _ = a.as_mut().poll(&mut cx);
        assert_eq!(timers.slots.borrow().len(), 1);
    }
}
