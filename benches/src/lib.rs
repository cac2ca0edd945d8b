//! hawser-bench: the load harness that measures hawser side by side with a direct baseline,
//! nginx and HAProxy, in one run, as ratios.
//!
//! - [`load`]: the open-loop (coordinated-omission corrected) and closed-loop load generator on
//!   its own pinned shards (hawser's executor, [`rt`]), with HdrHistogram latencies.
//! - [`client`]: one checked exchange per request (HTTP/1.1 keep-alive, a Thrift call, an HTTP/2 stream).
//! - [`backend`]: the fast HTTP/1.1, Thrift and HTTP/2 (h2c) backend.
//! - [`h2`]: HTTP/2 for both: the generator's multiplexed connection and the backend's handler.
//! - [`shape`]: request shapes (HTTP/1.1, Thrift framed/binary, HTTP/2 h2c).
//! - [`peers`], [`procstat`]: starting the proxies with generated configs, pinned with taskset,
//!   and reading their CPU time and RSS from /proc.
//! - [`scenario`], [`report`], [`progress`]: the comparison runner and its outputs.
//! - [`stats`]: means and 95% confidence intervals (Student's t) for repeated runs.
//! - [`idle`]: idle keep-alive connection memory per proxy.
//!
//! It measures; it does not tune the host (see `tuning/`) and does not judge the numbers.

pub mod backend;
pub mod client;
pub mod h2;
pub mod idle;
pub mod load;
pub mod peers;
pub mod procstat;
pub mod progress;
pub mod report;
pub mod rt;
pub mod scenario;
pub mod shape;
pub mod stats;
