//! hawser: a linker for the datacenter.
//!
//! A service-mesh proxy that keeps linkerd 1.x's model (YAML config, dtabs,
//! namers, `l5d-*` headers) on a thread-per-core io_uring engine: one pinned
//! executor per core (`runtime::exec`), sharing nothing on the request path.
//!
//! The crate is organised by concern (see DESIGN.md): `runtime` (shards and
//! the control thread), `net` (sockets), `server`/`client` (protocol drivers
//! and pools), `routing` (dtabs, name trees, identifiers), `discovery`
//! (namers), `admin`, `telemetry` (metrics), `config` and `tune` (`hawser tune check`). Protocol
//! codecs live in `protocols/`.

pub mod admin;
pub mod client;
pub mod config;
pub mod discovery;
pub mod net;
pub mod resilience;
pub mod routing;
pub mod runtime;
pub mod server;
pub mod telemetry;
pub mod tune;

pub use runtime::{LogLevel, RunOptions, check_file, run};
