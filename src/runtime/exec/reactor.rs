//! The per-shard reactor: one io_uring used as an edge-triggered readiness
//! source (like epoll with `EPOLLET`), plus an exact timer map.
//!
//! Each registered socket gets ONE multishot `POLL_ADD` when it is
//! registered. Its completions set the socket's readable/writable flags and
//! wake the task waiting on that direction; the reads and writes themselves
//! stay direct non-blocking syscalls made by the task, so the kernel owns no
//! buffer of an idle connection. A multishot poll that ends (a completion
//! without `IORING_CQE_F_MORE`, e.g. after a CQ overflow) is re-armed.
//! Completions carry `generation << 32 | slot` in `user_data`, so a late
//! completion for a source that was removed (and whose slot or fd number was
//! reused) is recognised and ignored.
//!
//! The ring is created with `SINGLE_ISSUER | DEFER_TASKRUN` (falling back to
//! `COOP_TASKRUN | TASKRUN_FLAG`, then to no flags): completions are then
//! delivered only when the shard itself enters the kernel, never by an IPI
//! or signal-style task work interrupting it. This module does no I/O on
//! sockets itself and knows no protocol.

use std::collections::BTreeMap;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use io_uring::{IoUring, cqueue, opcode, squeue, types};

/// Submission-queue entries per shard ring.
const SQ_ENTRIES: u32 = 1024;
/// Completion-queue entries per shard ring (readiness bursts land here).
const CQ_ENTRIES: u32 = 8192;

/// `user_data` of completions nobody waits for (poll removals).
const UD_IGNORE: u64 = u64::MAX;
/// `user_data` of the blocking-pool eventfd's poll.
const UD_EVENTFD: u64 = u64::MAX - 1;

/// Events a socket's multishot poll asks for.
const POLL_MASK: u32 = (libc::POLLIN | libc::POLLOUT | libc::POLLRDHUP) as u32;
const READ_EVENTS: u32 = (libc::POLLIN | libc::POLLRDHUP | libc::POLLHUP | libc::POLLERR) as u32;
const WRITE_EVENTS: u32 = (libc::POLLOUT | libc::POLLHUP | libc::POLLERR) as u32;
/// Events after which reads never block again.
const CLOSED_EVENTS: u32 = (libc::POLLRDHUP | libc::POLLHUP | libc::POLLERR) as u32;
/// Events after which writes never block again.
const HUP_EVENTS: u32 = (libc::POLLHUP | libc::POLLERR) as u32;

/// A registered source: its slot and the generation it was registered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceId {
    slot: u32,
    generation: u32,
}

impl SourceId {
    fn user_data(self) -> u64 {
        (u64::from(self.generation) << 32) | u64::from(self.slot)
    }
}

/// Which readiness a task waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Readable (or closed, or failed).
    Read,
    /// Writable (or closed, or failed).
    Write,
}

#[derive(Default)]
struct Slot {
    generation: u32,
    live: bool,
    fd: RawFd,
    readable: bool,
    writable: bool,
    /// The poll failed for good: report ready so the task sees the error.
    failed: bool,
    /// The peer closed its side or the socket failed (sticky: a short read
    /// must not forget an end of stream that is already queued).
    read_closed: bool,
    /// The socket hung up or failed (sticky).
    write_closed: bool,
    read_waker: Option<Waker>,
    write_waker: Option<Waker>,
}

/// How the ring was set up (for the debug log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RingMode {
    /// `SINGLE_ISSUER | DEFER_TASKRUN` (kernel 6.1+).
    DeferTaskrun,
    /// `COOP_TASKRUN | TASKRUN_FLAG` (kernel 5.19+).
    CoopTaskrun,
    /// No task-run flags: completions may interrupt the shard.
    Plain,
}

/// A shard's reactor.
pub struct Reactor {
    ring: IoUring,
    mode: RingMode,
    slots: Vec<Slot>,
    free: Vec<u32>,
    timers: BTreeMap<(Instant, u64), Waker>,
    timer_seq: u64,
    /// Signalled by blocking-pool threads when a job finishes.
    eventfd: Arc<OwnedFd>,
    blocking_waiters: Vec<Waker>,
    /// Wakers collected while draining completions, woken afterwards.
    wake_buf: Vec<Waker>,
    /// Whether the last drain saw a socket event (not just timers or the eventfd).
    io_seen: bool,
}

fn build_ring() -> io::Result<(IoUring, RingMode)> {
    let einval = |e: &io::Error| e.raw_os_error() == Some(libc::EINVAL);
    match IoUring::builder()
        .setup_single_issuer()
        .setup_defer_taskrun()
        .setup_cqsize(CQ_ENTRIES)
        .build(SQ_ENTRIES)
    {
        Ok(r) => return Ok((r, RingMode::DeferTaskrun)),
        Err(e) if einval(&e) => {}
        Err(e) => return Err(e),
    }
    match IoUring::builder()
        .setup_coop_taskrun()
        .setup_taskrun_flag()
        .setup_cqsize(CQ_ENTRIES)
        .build(SQ_ENTRIES)
    {
        Ok(r) => return Ok((r, RingMode::CoopTaskrun)),
        Err(e) if einval(&e) => {}
        Err(e) => return Err(e),
    }
    Ok((
        IoUring::builder()
            .setup_cqsize(CQ_ENTRIES)
            .build(SQ_ENTRIES)?,
        RingMode::Plain,
    ))
}

impl Reactor {
    /// Creates the ring and the blocking-pool eventfd.
    ///
    /// # Errors
    /// `io_uring_setup` or `eventfd` failing.
    pub fn new() -> io::Result<Reactor> {
        let (ring, mode) = build_ring()?;
        // SAFETY: eventfd has no memory preconditions; the result is checked.
        let efd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if efd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `efd` is a fresh descriptor owned by nothing else.
        let eventfd = Arc::new(unsafe { OwnedFd::from_raw_fd(efd) });
        let mut r = Reactor {
            ring,
            mode,
            slots: Vec::new(),
            free: Vec::new(),
            timers: BTreeMap::new(),
            timer_seq: 0,
            eventfd,
            blocking_waiters: Vec::new(),
            wake_buf: Vec::new(),
            io_seen: false,
        };
        r.arm_eventfd();
        Ok(r)
    }

    /// How the ring was set up.
    pub fn mode(&self) -> RingMode {
        self.mode
    }

    fn push(&mut self, entry: squeue::Entry) {
        loop {
            // SAFETY: poll and poll-remove entries reference no memory of ours.
            if unsafe { self.ring.submission().push(&entry) }.is_ok() {
                return;
            }
            // Full: hand what is queued to the kernel and retry.
            if let Err(e) = self.ring.submit()
                && e.raw_os_error() != Some(libc::EINTR)
                && e.raw_os_error() != Some(libc::EBUSY)
            {
                eprintln!("hawser: io_uring submit: {e}");
            }
        }
    }

    fn arm(&mut self, id: SourceId, fd: RawFd) {
        let e = opcode::PollAdd::new(types::Fd(fd), POLL_MASK)
            .multi(true)
            .build()
            .user_data(id.user_data());
        self.push(e);
    }

    fn arm_eventfd(&mut self) {
        let e = opcode::PollAdd::new(types::Fd(self.eventfd.as_raw_fd()), libc::POLLIN as u32)
            .multi(true)
            .build()
            .user_data(UD_EVENTFD);
        self.push(e);
    }

    /// Registers a non-blocking socket with its initial readiness: `true`
    /// means "try the syscall first", `false` means "wait for the poll",
    /// which is always safe because arming the poll reports what is
    /// already pending.
    pub fn register(&mut self, fd: RawFd, readable: bool, writable: bool) -> SourceId {
        let slot = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(Slot::default());
                (self.slots.len() - 1) as u32
            }
        };
        let s = &mut self.slots[slot as usize];
        s.generation = s.generation.wrapping_add(1);
        s.live = true;
        s.fd = fd;
        s.readable = readable;
        s.writable = writable;
        s.failed = false;
        s.read_closed = false;
        s.write_closed = false;
        let id = SourceId {
            slot,
            generation: s.generation,
        };
        self.arm(id, fd);
        id
    }

    fn slot_mut(&mut self, id: SourceId) -> Option<&mut Slot> {
        self.slots
            .get_mut(id.slot as usize)
            .filter(|s| s.live && s.generation == id.generation)
    }

    /// Removes a source's poll; the caller closes the fd right after (the
    /// removal is submitted with the next kernel entry, which is when the
    /// ring drops its reference to the socket).
    pub fn deregister(&mut self, id: SourceId) {
        let Some(s) = self.slot_mut(id) else { return };
        s.live = false;
        let (r, w) = (s.read_waker.take(), s.write_waker.take());
        self.free.push(id.slot);
        let e = opcode::PollRemove::new(id.user_data())
            .build()
            .user_data(UD_IGNORE);
        self.push(e);
        drop((r, w));
    }

    /// True when `dir` is (believed) ready; otherwise stores `cx`'s waker
    /// to be woken by the next readiness event.
    pub fn poll_ready(&mut self, id: SourceId, dir: Direction, cx: &Context<'_>) -> bool {
        let Some(s) = self.slot_mut(id) else {
            return true;
        };
        let (ready, waker) = match dir {
            Direction::Read => (s.readable || s.read_closed, &mut s.read_waker),
            Direction::Write => (s.writable || s.write_closed, &mut s.write_waker),
        };
        if ready || s.failed {
            return true;
        }
        match waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => *waker = Some(cx.waker().clone()),
        }
        false
    }

    /// True when a read-side event (data, end of stream, error) was seen
    /// and not consumed since the last read that emptied the socket.
    pub fn read_pending(&self, id: SourceId) -> bool {
        self.slots
            .get(id.slot as usize)
            .filter(|s| s.live && s.generation == id.generation)
            .is_none_or(|s| s.readable || s.read_closed || s.failed)
    }

    /// Forgets readiness in `dir` after the socket said `EAGAIN` (or a read
    /// came back short).
    pub fn clear_ready(&mut self, id: SourceId, dir: Direction) {
        if let Some(s) = self.slot_mut(id) {
            match dir {
                Direction::Read => s.readable = false,
                Direction::Write => s.writable = false,
            }
        }
    }

    /// Registers an exact timer; returns its key.
    pub fn add_timer(&mut self, deadline: Instant, waker: &Waker) -> (Instant, u64) {
        self.timer_seq += 1;
        let key = (deadline, self.timer_seq);
        self.timers.insert(key, waker.clone());
        key
    }

    /// Updates a timer's waker; false when it already fired.
    pub fn update_timer(&mut self, key: (Instant, u64), waker: &Waker) -> bool {
        match self.timers.get_mut(&key) {
            Some(w) => {
                if !w.will_wake(waker) {
                    *w = waker.clone();
                }
                true
            }
            None => false,
        }
    }

    /// Cancels a timer.
    pub fn remove_timer(&mut self, key: (Instant, u64)) {
        self.timers.remove(&key);
    }

    /// The eventfd blocking-pool threads signal.
    pub fn eventfd(&self) -> Arc<OwnedFd> {
        self.eventfd.clone()
    }

    /// Waits for the blocking pool's next completion signal.
    pub fn wait_blocking(&mut self, cx: &Context<'_>) {
        self.blocking_waiters.push(cx.waker().clone());
    }

    /// Submits queued entries, waits (when `block`) up to the next timer
    /// deadline for a completion, then handles every completion and every
    /// expired timer, waking their tasks. True when a socket event came in
    /// (traffic, as opposed to only timers firing).
    pub fn turn(&mut self, block: bool) -> bool {
        self.io_seen = false;
        let now = Instant::now();
        let timeout = self
            .timers
            .first_key_value()
            .map(|((d, _), _)| d.saturating_duration_since(now));
        let result = if !block || timeout == Some(Duration::ZERO) {
            self.enter_nowait()
        } else if let Some(t) = timeout {
            let ts = types::Timespec::new()
                .sec(t.as_secs())
                .nsec(t.subsec_nanos());
            let args = types::SubmitArgs::new().timespec(&ts);
            self.ring.submitter().submit_with_args(1, &args)
        } else {
            self.ring.submitter().submit_and_wait(1)
        };
        if let Err(e) = result {
            match e.raw_os_error() {
                Some(libc::ETIME | libc::EINTR | libc::EBUSY | libc::EAGAIN) => {}
                _ => eprintln!("hawser: io_uring_enter: {e}"),
            }
        }
        self.drain_completions();
        let now = Instant::now();
        super::executor::set_now(now);
        self.fire_timers(now);
        for w in self.wake_buf.drain(..) {
            w.wake();
        }
        self.io_seen
    }

    /// Submits and runs deferred completion work without waiting.
    fn enter_nowait(&mut self) -> io::Result<usize> {
        let to_submit = self.ring.submission().len() as u32;
        // SAFETY: no argument is passed; the flags ask only to submit what
        // is queued and to run completion work (GETEVENTS with min 0).
        unsafe {
            self.ring.submitter().enter::<libc::sigset_t>(
                to_submit,
                0,
                io_uring::EnterFlags::GETEVENTS.bits(),
                None,
            )
        }
    }

    fn drain_completions(&mut self) {
        let mut rearm: Vec<(SourceId, RawFd)> = Vec::new();
        let mut stale: Vec<u64> = Vec::new();
        let mut eventfd_fired = false;
        let mut eventfd_rearm = false;
        {
            let cq = self.ring.completion();
            for cqe in cq {
                let ud = cqe.user_data();
                let res = cqe.result();
                let more = cqueue::more(cqe.flags());
                if ud == UD_IGNORE {
                    continue;
                }
                if ud == UD_EVENTFD {
                    eventfd_fired = true;
                    eventfd_rearm |= !more;
                    continue;
                }
                let id = SourceId {
                    slot: ud as u32,
                    generation: (ud >> 32) as u32,
                };
                let Some(s) = self
                    .slots
                    .get_mut(id.slot as usize)
                    .filter(|s| s.live && s.generation == id.generation)
                else {
                    // A late completion of a removed source. With F_MORE its
                    // multishot poll is still armed: the removal raced an event
                    // being posted (POLL_REMOVE answered EALREADY) and the ring
                    // would hold the closed socket open forever. Remove again.
                    if more {
                        stale.push(ud);
                    }
                    continue;
                };
                self.io_seen = true;
                if res < 0 {
                    if res == -libc::ENOMEM || res == -libc::EAGAIN || res == -libc::ECANCELED {
                        rearm.push((id, s.fd));
                    } else {
                        s.failed = true;
                    }
                    s.readable = true;
                    s.writable = true;
                    self.wake_buf.extend(s.read_waker.take());
                    self.wake_buf.extend(s.write_waker.take());
                    continue;
                }
                let ev = res as u32;
                if ev & CLOSED_EVENTS != 0 {
                    s.read_closed = true;
                }
                if ev & HUP_EVENTS != 0 {
                    s.write_closed = true;
                }
                if ev & READ_EVENTS != 0 {
                    s.readable = true;
                    self.wake_buf.extend(s.read_waker.take());
                }
                if ev & WRITE_EVENTS != 0 {
                    s.writable = true;
                    self.wake_buf.extend(s.write_waker.take());
                }
                if !more {
                    rearm.push((id, s.fd));
                }
            }
        }
        for (id, fd) in rearm {
            self.arm(id, fd);
        }
        for ud in stale {
            self.push(opcode::PollRemove::new(ud).build().user_data(UD_IGNORE));
        }
        if eventfd_fired {
            let mut buf = [0u8; 8];
            // SAFETY: reads 8 bytes into an 8-byte buffer from our eventfd
            // (non-blocking: EAGAIN when already drained is fine).
            let _ = unsafe { libc::read(self.eventfd.as_raw_fd(), buf.as_mut_ptr().cast(), 8) };
            self.wake_buf.append(&mut self.blocking_waiters);
        }
        if eventfd_rearm {
            self.arm_eventfd();
        }
    }

    fn fire_timers(&mut self, now: Instant) {
        while let Some(entry) = self.timers.first_entry() {
            if entry.key().0 > now {
                break;
            }
            self.wake_buf.push(entry.remove());
        }
    }

    /// Takes every stored waker (for tear-down); the caller drops them
    /// outside any borrow of the reactor.
    pub fn take_wakers(&mut self) -> Vec<Waker> {
        let mut out = Vec::new();
        for s in &mut self.slots {
            out.extend(s.read_waker.take());
            out.extend(s.write_waker.take());
        }
        out.extend(std::mem::take(&mut self.timers).into_values());
        out.append(&mut self.blocking_waiters);
        out
    }

    /// Sources currently registered (for tests and debugging).
    #[cfg(test)]
    pub fn live_sources(&self) -> usize {
        self.slots.iter().filter(|s| s.live).count()
    }
}
