//! Metrics: per-shard request statistics kept on the request path without atomics or locks
//! (`stats`), and their merge and Prometheus (OpenMetrics text) exposition on the control thread
//! (`export`), served by the admin server at `/metrics` and at linkerd's
//! `/admin/metrics/prometheus`, and in InfluxDB's line protocol at linkerd's
//! `/admin/metrics/influxdb` (`influx`). Not here yet: tracing, `/admin/metrics.json`, statsd.

pub mod export;
pub mod influx;
pub mod recent;
pub mod stats;

pub use export::{CONTENT_TYPE, Merged, render};
pub use influx::render_influx;
pub use stats::{
    ClientStats, ConnectionGuard, Outcome, RecentRequest, RouterSnap, RouterStats, ServiceStats,
};
