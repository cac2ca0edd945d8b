//! Per-shard graceful-shutdown state: a draining flag that idle connections
//! can wait on, and a count of open downstream connections.

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// Shared (within one shard) drain state.
#[derive(Default)]
pub struct Drain {
    draining: Cell<bool>,
    waiters: RefCell<WakerSlab>,
    open: Cell<usize>,
    idle_waiters: RefCell<Vec<Waker>>,
}

/// Counts one open connection while it lives.
pub struct ConnGuard(Rc<Drain>);

impl Drop for ConnGuard {
    fn drop(&mut self) {
        let n = self.0.open.get().saturating_sub(1);
        self.0.open.set(n);
        if n == 0 {
            for w in self.0.idle_waiters.borrow_mut().drain(..) {
                w.wake();
            }
        }
    }
}

impl Drain {
    /// True once shutdown has begun.
    pub fn is_draining(&self) -> bool {
        self.draining.get()
    }

    /// Begins draining and wakes every waiter.
    pub fn start(&self) {
        self.draining.set(true);
        self.waiters.borrow_mut().wake_all();
    }

    /// Registers an open connection.
    pub fn open(self: &Rc<Self>) -> ConnGuard {
        self.open.set(self.open.get() + 1);
        ConnGuard(self.clone())
    }

    /// Number of open downstream connections.
    pub fn open_connections(&self) -> usize {
        self.open.get()
    }

    /// Resolves once draining has begun. Dropping the future unregisters it,
    /// so connections that wait many times leave nothing behind.
    pub async fn wait(&self) {
        let mut slot = SlotGuard {
            drain: self,
            slot: None,
        };
        poll_fn(|cx| {
            if self.draining.get() {
                return Poll::Ready(());
            }
            let mut ws = self.waiters.borrow_mut();
            match slot.slot {
                Some(i) => ws.set(i, cx.waker()),
                None => slot.slot = Some(ws.insert(cx.waker())),
            }
            Poll::Pending
        })
        .await
    }

    /// Poll-style [`Drain::wait`] for hand-written futures: true once
    /// draining has begun, else registers `cx`'s waker in `slot`. The caller
    /// must call [`Drain::unregister`] with the slot when it is done.
    pub fn poll_draining(&self, slot: &mut Option<usize>, cx: &Context<'_>) -> bool {
        if self.draining.get() {
            return true;
        }
        let mut ws = self.waiters.borrow_mut();
        match *slot {
            Some(i) => ws.set(i, cx.waker()),
            None => *slot = Some(ws.insert(cx.waker())),
        }
        false
    }

    /// Frees a slot registered by [`Drain::poll_draining`].
    pub fn unregister(&self, slot: &mut Option<usize>) {
        if let Some(i) = slot.take() {
            self.waiters.borrow_mut().remove(i);
        }
    }

    /// Resolves once no downstream connection is open.
    pub async fn idle(&self) {
        poll_fn(|cx| {
            if self.open.get() == 0 {
                Poll::Ready(())
            } else {
                self.idle_waiters.borrow_mut().push(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }
}

struct SlotGuard<'a> {
    drain: &'a Drain,
    slot: Option<usize>,
}

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        if let Some(i) = self.slot {
            self.drain.waiters.borrow_mut().remove(i);
        }
    }
}

/// Wakers indexed by slot, with a free list so slots are reused.
#[derive(Default)]
struct WakerSlab {
    slots: Vec<Option<Waker>>,
    free: Vec<usize>,
}

impl WakerSlab {
    fn insert(&mut self, w: &Waker) -> usize {
        match self.free.pop() {
            Some(i) => {
                self.slots[i] = Some(w.clone());
                i
            }
            None => {
                self.slots.push(Some(w.clone()));
                self.slots.len() - 1
            }
        }
    }

    fn set(&mut self, i: usize, w: &Waker) {
        if let Some(slot) = self.slots.get_mut(i) {
            match slot {
                Some(old) if old.will_wake(w) => {}
                _ => *slot = Some(w.clone()),
            }
        }
    }

    fn remove(&mut self, i: usize) {
        if let Some(slot) = self.slots.get_mut(i)
            && slot.take().is_some()
        {
            self.free.push(i);
        }
    }

    fn wake_all(&mut self) {
        for (i, slot) in self.slots.iter_mut().enumerate() {
            if let Some(w) = slot.take() {
                w.wake();
                self.free.push(i);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slab_reuses_slots_and_wakes_all() {
        let mut slab = WakerSlab::default();
        let w = Waker::noop();
        let a = slab.insert(w);
        let b = slab.insert(w);
        assert_ne!(a, b);
        slab.remove(a);
        let c = slab.insert(w);
        assert_eq!(a, c, "freed slot is reused");
        slab.wake_all();
        assert!(slab.slots.iter().all(Option::is_none));
        assert_eq!(slab.free.len(), 2);
        // Removing an already-woken slot must not double-free it.
        slab.remove(b);
        assert_eq!(slab.free.len(), 2);
    }
}
