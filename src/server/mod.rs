//! Downstream protocol drivers and the per-shard router state they use.
//!
//! `http1` serves HTTP/1.x connections, `h2` HTTP/2 (gRPC included), `thrift` framed binary
//! Thrift ones;
//! `router` turns a request into a concrete destination; `tunnel` carries
//! upgraded connections. Protocol
//! parsing itself lives in the sans-IO crates under `protocols/`.

mod error;
mod h2;
mod http1;
mod router;
mod thrift;
mod tunnel;

pub use error::{ProxyError, Source, encode_l5d_err};
pub use h2::serve as serve_h2;
pub use http1::{ConnEnv, connection_future_size, reason_phrase, serve as serve_http1};
pub use router::{
    RouteError, Routed, Router, RouterPlan, ServerPlan, ThriftPlan, compile_routers,
    resolve_transformers,
};
pub use thrift::serve as serve_thrift;
