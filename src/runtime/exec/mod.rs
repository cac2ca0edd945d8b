//! hawser's own thread-per-core runtime: a single-threaded executor per
//! shard thread (local tasks via `async-task`) and a reactor on one io_uring
//! per shard used for readiness, with direct non-blocking `recv`/`send`.
//!
//! It replaces glommio in the shards. What it deliberately does not do:
//! move tasks between threads, own I/O buffers in the kernel (an idle
//! connection holds none), or offer file I/O. Blocking calls (DNS) go to a
//! short-lived thread through [`spawn_blocking`].

mod executor;
mod reactor;

pub use executor::{
    Sleep, Task, now, run, run_with, set_spin_before_park, sleep, spawn_blocking, spawn_local,
};
pub(crate) use executor::{try_with_reactor, with_reactor};
pub use reactor::{Direction, RingMode, SourceId};

#[cfg(test)]
mod tests;
