//! The admin HTTP server (linkerd's port 9990): `/admin/ping`, `/delegator.json` (explain how a
//! path binds under a router's dtab), `/config.json` and `POST /admin/shutdown`.
//!
//! It runs on the control thread's side of hawser with blocking `std::net` I/O: an accept thread
//! and one short-lived thread per connection, one request per connection, with limits and
//! deadlines so no client can hang it (see [`AdminLimits`]). What the endpoints report comes from
//! an [`AdminBackend`] that the caller implements over the routing and config layers; this module
//! knows nothing of dtabs or configs. `/metrics` (and the `io.l5d.prometheus` telemeter's
//! path, linkerd's `/admin/metrics/prometheus` by default) serves the metrics. Not here yet:
//! `/admin/metrics.json`, the dashboard, TLS.
#![forbid(unsafe_code)]

mod http;
mod query;
mod routes;
mod server;
#[cfg(test)]
mod tests;

pub use query::{Query, QueryError, form_decode};
pub use server::{spawn_admin, spawn_admin_with};

use std::time::Duration;

/// What the admin endpoints ask of the rest of hawser. Called from admin connection threads,
/// possibly several at once.
pub trait AdminBackend: Send + Sync + 'static {
    /// Explains how `path` binds in router `router` (its label; `None`: the default router) with
    /// `dtab` appended to the router's dtab, as linkerd's delegator JSON.
    ///
    /// # Errors
    /// A message for the client (answered 400) when the path, dtab or router is not valid.
    fn delegate(
        &self,
        router: Option<&str>,
        path: &str,
        dtab: &str,
    ) -> Result<serde_json::Value, String>;

    /// The running configuration, as JSON.
    fn config_json(&self) -> serde_json::Value;

    /// Every metric, in the OpenMetrics text format, names prefixed with `prefix` (`/metrics`
    /// uses none).
    fn metrics(&self, prefix: &str) -> String;

    /// The `io.l5d.prometheus` telemeter's path and name prefix, if one is configured: that
    /// path serves [`AdminBackend::metrics`] with that prefix.
    fn metrics_path(&self) -> Option<(&str, &str)> {
        None
    }

    /// Every metric in InfluxDB's line protocol, tagged `host=<host>`, when the
    /// `io.l5d.influxdb` telemeter is configured (`None` otherwise: the path is a 404).
    fn influxdb(&self, _host: &str) -> Option<String> {
        None
    }

    /// The sampled recent requests (router label and request), newest first, at most the
    /// telemeter's capacity, when `io.l5d.recentRequests` is configured (`None` otherwise).
    fn recent_requests(&self) -> Option<Vec<(String, crate::telemetry::RecentRequest)>> {
        None
    }

    /// Asks for a graceful shutdown. Called after the response to `POST /admin/shutdown` is
    /// written; it should return promptly.
    fn shutdown(&self);
}

/// Bounds on what one admin client can make the server do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdminLimits {
    /// Largest request head (request line and fields), in bytes; beyond it, 431.
    pub max_head_bytes: usize,
    /// Most header fields in a request; beyond it, 431.
    pub max_headers: usize,
    /// Largest request body (a POSTed delegation request), in bytes; beyond it, 413.
    pub max_body_bytes: usize,
    /// Time from accept to a complete request; beyond it, 408.
    pub read_timeout: Duration,
    /// Longest a single write may block.
    pub write_timeout: Duration,
    /// Most connections served at once; beyond it, 503.
    pub max_connections: usize,
}

impl Default for AdminLimits {
    fn default() -> Self {
        Self {
            max_head_bytes: 16 * 1024,
            max_headers: 64,
            max_body_bytes: 64 * 1024,
            read_timeout: Duration::from_secs(5),
            write_timeout: Duration::from_secs(5),
            max_connections: 64,
        }
    }
}
