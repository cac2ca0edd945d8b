//! The typed layer: plain structs the runtime is built from, with units as `Duration` and
//! newtypes, every default already applied.
//!
//! Only what this release of hawser supports appears here; everything else linkerd 1.x has was
//! reported by the validator and never reaches these types. All are `Clone + Send + Sync +
//! Debug` and serialise to JSON (durations as integer milliseconds, sizes as bytes) for the
//! admin server's `/config.json`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Serialize, Serializer};

use super::spanned::{Position, Spanned};

/// A whole hawser config.
#[derive(Clone, Debug, Serialize)]
pub struct Config {
    pub admin: AdminConfig,
    pub namers: Vec<NamerConfig>,
    pub routers: Vec<RouterConfig>,
    pub runtime: RuntimeConfig,
    /// `telemetry: [{kind: io.l5d.prometheus}]`: `None` when absent (the admin server still
    /// serves `/metrics`).
    pub prometheus: Option<PrometheusConfig>,
    /// `telemetry: [{kind: io.l5d.influxdb}]`: serve the metrics in InfluxDB's line protocol at
    /// `/admin/metrics/influxdb`, as linkerd does.
    pub influxdb: bool,
    /// `telemetry: [{kind: io.l5d.recentRequests, sampleRate, capacity}]`: keep a sample of
    /// recent requests for the admin server's `/requests`.
    pub recent_requests: Option<RecentRequestsConfig>,
    /// The files the config was read from: the base config, then each profile layered over it
    /// (`--profile`), indexed by [`Position::source`]. Not serialised.
    #[serde(skip)]
    pub sources: Vec<String>,
}

impl Config {
    /// The name of the file a position of this config (a [`Spanned`] value's) is in; `None`
    /// when the config was not built by the loader.
    pub fn source_name(&self, pos: Position) -> Option<&str> {
        self.sources.get(pos.source).map(String::as_str)
    }
}

/// `admin:`: where the admin server listens. Default 127.0.0.1:9990.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AdminConfig {
    pub ip: IpAddr,
    pub port: u16,
}

impl AdminConfig {
    pub const DEFAULT_IP: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
    pub const DEFAULT_PORT: u16 = 9990;

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.ip, self.port)
    }
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            ip: Self::DEFAULT_IP,
            port: Self::DEFAULT_PORT,
        }
    }
}

/// The `io.l5d.recentRequests` telemeter.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RecentRequestsConfig {
    /// `sampleRate`: the share of requests recorded, 0 to 1 (required, as in linkerd).
    #[serde(rename = "sampleRate")]
    pub sample_rate: f64,
    /// `capacity`: how many are kept (default 10).
    pub capacity: usize,
}

/// The `io.l5d.prometheus` telemeter: metrics in the Prometheus (OpenMetrics text) format on
/// the admin server, at `path` as well as at hawser's own `/metrics`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PrometheusConfig {
    /// `path` (default `/admin/metrics/prometheus`, linkerd's).
    pub path: String,
    /// `prefix` (default empty): put before every metric name, joined with `_` (`l5d` and
    /// `l5d_` both give `l5d_hawser_requests_total`).
    pub prefix: String,
}

impl Default for PrometheusConfig {
    fn default() -> Self {
        Self {
            path: "/admin/metrics/prometheus".into(),
            prefix: String::new(),
        }
    }
}

/// One entry of `namers:`.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind")]
pub enum NamerConfig {
    /// `kind: io.l5d.fs`.
    #[serde(rename = "io.l5d.fs")]
    Fs(FsNamerConfig),
}

impl NamerConfig {
    /// The path prefix dtabs use to reach this namer, `/#/...`.
    pub fn prefix(&self) -> &str {
        match self {
            NamerConfig::Fs(fs) => &fs.prefix.value,
        }
    }
}

/// `io.l5d.fs`: one file per service in `root_dir`, each line `host port`.
#[derive(Clone, Debug, Serialize)]
pub struct FsNamerConfig {
    /// The full prefix dtabs reference, e.g. `/#/io.l5d.fs` (config `prefix: /io.l5d.fs`, the
    /// default, is written without `/#`, as in linkerd). Positioned at the `prefix` value, or
    /// at the namer's `kind` when defaulted.
    pub prefix: Spanned<String>,
    /// `rootDir`, as written; a relative path is relative to the working directory (as in
    /// linkerd, "relative to linkerd's start path").
    #[serde(rename = "rootDir")]
    pub root_dir: PathBuf,
}

/// The application protocol of a router: HTTP/1.1, or Thrift (framed transport, binary
/// protocol) in this release.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Protocol {
    #[serde(rename = "http")]
    Http,
    #[serde(rename = "thrift")]
    Thrift,
    #[serde(rename = "h2")]
    H2,
}

impl Protocol {
    /// The config spelling, which is also a router's default label.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Thrift => "thrift",
            Protocol::H2 => "h2",
        }
    }

    /// A server's default port: linkerd's 4140 for http, 4114 for thrift, 4142 for h2.
    pub fn default_port(self) -> u16 {
        match self {
            Protocol::Http => 4140,
            Protocol::Thrift => 4114,
            Protocol::H2 => 4142,
        }
    }
}

/// One entry of `routers:`.
#[derive(Clone, Debug, Serialize)]
pub struct RouterConfig {
    pub protocol: Protocol,
    /// `label`, default the protocol name (`http`); unique among routers.
    pub label: String,
    /// `dtab`, raw, for the routing module to parse; empty when absent (positioned at the
    /// router then). Use [`Spanned::locate`] to turn a parse error's offset into a position.
    pub dtab: Spanned<String>,
    /// `dstPrefix`, raw, default `/svc`; starts with `/`.
    #[serde(rename = "dstPrefix")]
    pub dst_prefix: Spanned<String>,
    /// `identifier` (http routers): tried in order until one names the request; never empty
    /// for http (default `io.l5d.header.token` on `Host`), empty for thrift.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub identifiers: Vec<IdentifierConfig>,
    /// `servers`: never empty.
    pub servers: Vec<ServerConfig>,
    /// `maxInitialLineKB` (default 4 KiB): longest request line accepted (else 414).
    #[serde(rename = "maxInitialLine")]
    pub max_initial_line: ByteSize,
    /// `maxHeadersKB` (default 8 KiB): most header bytes accepted (else 431).
    #[serde(rename = "maxHeaders")]
    pub max_headers: ByteSize,
    /// `interpreter.transformers` (the default interpreter's): applied in order to the
    /// addresses a concrete name resolves to.
    pub transformers: Vec<TransformerConfig>,
    pub client: ClientConfig,
    /// `service` (kind `io.l5d.global`).
    pub service: ServiceConfig,
    /// A thrift router's settings; `None` for http.
    #[serde(flatten)]
    pub thrift: Option<ThriftRouterConfig>,
}

/// What a `protocol: thrift` router adds. Framed transport and the binary protocol are what
/// hawser speaks (linkerd's defaults); the buffered transport, the compact protocol and the
/// TTwitter upgrade are reported as not supported yet.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ThriftRouterConfig {
    /// `thriftMethodInDst` (default false): the logical name is `dstPrefix/METHOD` rather than
    /// `dstPrefix`.
    #[serde(rename = "thriftMethodInDst")]
    pub method_in_dst: bool,
}

/// An HTTP identifier: how a request becomes a logical path under `dstPrefix`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind")]
pub enum IdentifierConfig {
    /// `io.l5d.header.token`: `/dstPrefix/<value of header>`; `header` default `Host`.
    #[serde(rename = "io.l5d.header.token")]
    HeaderToken { header: String },
    /// `io.l5d.methodAndHost`: `/dstPrefix/1.1/GET/host[/uri]`.
    #[serde(rename = "io.l5d.methodAndHost")]
    MethodAndHost {
        #[serde(rename = "httpUriInDst")]
        http_uri_in_dst: bool,
    },
    /// `io.l5d.path`: the first `segments` (default 1, at least 1) path segments; `consume`
    /// (default false) strips them from the request sent upstream.
    #[serde(rename = "io.l5d.path")]
    Path {
        segments: NonZeroUsize,
        consume: bool,
    },
    /// `io.l5d.header`: a header whose value is a path; `header` default `l5d-name`.
    #[serde(rename = "io.l5d.header")]
    Header { header: String },
    /// `io.l5d.header.path` (h2): the first `segments` segments (all when absent) of the path
    /// in `header` (default `:path`); gRPC's `/pkg.Service/Method` with `segments: 1` names
    /// `/svc/pkg.Service`.
    #[serde(rename = "io.l5d.header.path")]
    HeaderPath {
        header: String,
        segments: Option<NonZeroUsize>,
    },
}

impl Default for IdentifierConfig {
    fn default() -> Self {
        IdentifierConfig::HeaderToken {
            header: "Host".into(),
        }
    }
}

/// One entry of a router's `servers:`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServerConfig {
    /// `ip`, default loopback (127.0.0.1) as in linkerd; `0.0.0.0` listens everywhere.
    pub ip: IpAddr,
    /// `port`, default 4140 for http, 4114 for thrift.
    pub port: u16,
    /// `clearContext` (default false): remove incoming `l5d-ctx-*` and `l5d-dtab` headers
    /// (an untrusted edge).
    #[serde(rename = "clearContext")]
    pub clear_context: bool,
    /// An h2 server's HTTP/2 settings (`None` for other protocols).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub h2: Option<H2Settings>,
}

/// HTTP/2 settings of an h2 server or client (linkerd's keys); `None`: hawser's default.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct H2Settings {
    /// `maxConcurrentStreamsPerConnection` (servers; default 1000).
    #[serde(rename = "maxConcurrentStreamsPerConnection")]
    pub max_concurrent_streams: Option<u32>,
    /// `initialStreamWindowBytes` (default 256 KiB).
    #[serde(rename = "initialStreamWindowBytes")]
    pub initial_stream_window: Option<u32>,
    /// `maxFrameBytes` (default 16 KiB).
    #[serde(rename = "maxFrameBytes")]
    pub max_frame: Option<u32>,
    /// `maxHeaderListBytes` (default 16 KiB).
    #[serde(rename = "maxHeaderListBytes")]
    pub max_header_list: Option<u32>,
    /// `headerTableBytes` (default 4 KiB).
    #[serde(rename = "headerTableBytes")]
    pub header_table: Option<u32>,
}

impl ServerConfig {
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.ip, self.port)
    }
}

/// One of `interpreter.transformers`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind")]
pub enum TransformerConfig {
    /// `io.l5d.localhost`: keep the addresses whose IP is this host's (its host name's).
    #[serde(rename = "io.l5d.localhost")]
    Localhost,
    /// `io.l5d.specificHost`: keep the addresses whose IP is `host`'s.
    #[serde(rename = "io.l5d.specificHost")]
    SpecificHost {
        /// `host`.
        host: String,
    },
    /// `io.l5d.port`: every address gets this port.
    #[serde(rename = "io.l5d.port")]
    Port {
        /// `port`.
        port: u16,
    },
    /// `io.l5d.k8s.localnode`: keep the addresses in the same /24 as `POD_IP`.
    #[serde(rename = "io.l5d.k8s.localnode")]
    LocalNode,
    /// `io.l5d.replace`: a name that binds is bound to `path` instead (a name that binds to
    /// nothing still does).
    #[serde(rename = "io.l5d.replace")]
    Replace {
        /// `path`.
        path: String,
    },
    /// `io.l5d.const`: every name is bound to `path`, whatever it bound to.
    #[serde(rename = "io.l5d.const")]
    Const {
        /// `path`.
        path: String,
    },
}

/// A router's `client:` (kind `io.l5d.global`: one setting for every upstream).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClientConfig {
    /// `connectTimeoutMs`, a hawser addition (linkerd has no such key; Finagle's default
    /// connect timeout is 1 s, which is hawser's default too).
    #[serde(rename = "connectTimeoutMs", serialize_with = "millis")]
    pub connect_timeout: Duration,
    /// `hostConnectionPool`.
    pub pool: PoolConfig,
    /// An h2 router's client HTTP/2 settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub h2: Option<H2Settings>,
    /// `requeueBudget` (linkerd's defaults): requeues of requests whose connect failed.
    #[serde(rename = "requeueBudget")]
    pub requeue_budget: BudgetConfig,
    /// `failureAccrual` (default linkerd's: 5 consecutive failures, jittered backoff 5 s to
    /// 300 s); `None` for `kind: none`.
    #[serde(rename = "failureAccrual")]
    pub failure_accrual: Option<AccrualConfig>,
    /// `loadBalancer` (default `p2c`, linkerd's).
    #[serde(rename = "loadBalancer")]
    pub load_balancer: BalancerConfig,
}

/// `client.loadBalancer`: how a request picks among a concrete name's endpoints (per shard).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind")]
pub enum BalancerConfig {
    /// `p2c`: two at random, the one with fewer requests outstanding.
    #[serde(rename = "p2c")]
    P2c {
        /// `maxEffort` (default 5): redraws past endpoints marked dead.
        #[serde(rename = "maxEffort")]
        max_effort: u32,
    },
    /// `ewma`: two at random, the one with the lower peak-EWMA latency times outstanding + 1.
    #[serde(rename = "ewma")]
    Ewma {
        /// `maxEffort` (default 5).
        #[serde(rename = "maxEffort")]
        max_effort: u32,
        /// `decayTimeMs` (default 10,000): how fast the latency average forgets.
        #[serde(rename = "decayTimeMs")]
        decay_ms: u64,
    },
    /// `heap`: the endpoint with the fewest requests outstanding.
    #[serde(rename = "heap")]
    Heap,
    /// `roundRobin`: each endpoint in turn.
    #[serde(rename = "roundRobin")]
    RoundRobin {
        /// `maxEffort` (default 5): endpoints skipped past while they are marked dead.
        #[serde(rename = "maxEffort")]
        max_effort: u32,
    },
}

impl Default for BalancerConfig {
    fn default() -> Self {
        BalancerConfig::P2c { max_effort: 5 }
    }
}

/// `failureAccrual:` (`io.l5d.consecutiveFailures`, linkerd's default, or `io.l5d.successRate`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AccrualConfig {
    /// The `kind` and its settings.
    #[serde(flatten)]
    pub policy: AccrualPolicyConfig,
    /// `backoff` (default jittered, 5,000 to 300,000 ms).
    pub backoff: BackoffConfig,
}

/// When an endpoint is marked dead.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind")]
pub enum AccrualPolicyConfig {
    /// `io.l5d.consecutiveFailures`: after `failures` (default 5) failures in a row.
    #[serde(rename = "io.l5d.consecutiveFailures")]
    ConsecutiveFailures {
        /// `failures`.
        failures: u32,
    },
    /// `io.l5d.successRate`: when a failure brings the success rate, an exponentially
    /// weighted moving average over `requests` requests, below `successRate` (both required,
    /// as in linkerd); never before `requests` requests since the endpoint was (re)vived.
    #[serde(rename = "io.l5d.successRate")]
    SuccessRate {
        /// `successRate`, in [0, 1].
        #[serde(rename = "successRate")]
        success_rate: f64,
        /// `requests`, at least 1.
        requests: u32,
    },
    /// `io.l5d.successRateWindowed`: the same average over time (`window` seconds) instead of
    /// requests; never before `window` has passed since the endpoint was (re)vived, nor with
    /// fewer than 5 requests in the last `window`.
    #[serde(rename = "io.l5d.successRateWindowed")]
    SuccessRateWindowed {
        /// `successRate`, in [0, 1].
        #[serde(rename = "successRate")]
        success_rate: f64,
        /// `window`, in seconds (at least 1).
        window: u32,
    },
}

impl Default for AccrualConfig {
    fn default() -> Self {
        Self {
            policy: AccrualPolicyConfig::ConsecutiveFailures { failures: 5 },
            backoff: BackoffConfig::Jittered {
                min_ms: 5_000,
                max_ms: 300_000,
            },
        }
    }
}

/// A retry budget (`service.retries.budget`, `client.requeueBudget`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BudgetConfig {
    /// `minRetriesPerSec` (default 10).
    #[serde(rename = "minRetriesPerSec")]
    pub min_retries_per_sec: u32,
    /// `percentCanRetry` (default 0.2, 0 to 1000).
    #[serde(rename = "percentCanRetry")]
    pub percent_can_retry: f64,
    /// `ttlSecs` (default 10).
    #[serde(rename = "ttlSecs")]
    pub ttl_secs: u32,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        Self {
            min_retries_per_sec: 10,
            percent_can_retry: 0.2,
            ttl_secs: 10,
        }
    }
}

impl ClientConfig {
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
            pool: PoolConfig::default(),
            h2: None,
            requeue_budget: BudgetConfig::default(),
            failure_accrual: Some(AccrualConfig::default()),
            load_balancer: BalancerConfig::default(),
        }
    }
}

/// A router's `service:` (kind `io.l5d.global`: one setting for every logical name).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ServiceConfig {
    /// `totalTimeoutMs` (default none): from a request's arrival to its response head (the
    /// reply, for Thrift); past it hawser answers 504 (a `TApplicationException` for Thrift).
    #[serde(
        rename = "totalTimeoutMs",
        skip_serializing_if = "Option::is_none",
        serialize_with = "opt_millis"
    )]
    pub total_timeout: Option<Duration>,
    /// `responseClassifier.kind` (default `io.l5d.http.nonRetryable5XX`, or the h2 spelling).
    #[serde(rename = "responseClassifier")]
    pub response_classifier: String,
    /// `retries`.
    pub retries: RetriesConfig,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            total_timeout: None,
            response_classifier: "io.l5d.http.nonRetryable5XX".into(),
            retries: RetriesConfig::default(),
        }
    }
}

/// `service.retries`: the retry budget and the backoff between retries.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RetriesConfig {
    /// `budget` (linkerd's defaults).
    pub budget: BudgetConfig,
    /// `backoff` (default constant 0 ms).
    pub backoff: BackoffConfig,
}

impl Default for RetriesConfig {
    fn default() -> Self {
        Self {
            budget: BudgetConfig::default(),
            backoff: BackoffConfig::Constant { ms: 0 },
        }
    }
}

/// `service.retries.backoff`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind")]
pub enum BackoffConfig {
    /// `kind: constant`, `ms`.
    #[serde(rename = "constant")]
    Constant { ms: u64 },
    /// `kind: jittered`, `minMs`, `maxMs` (decorrelated jitter).
    #[serde(rename = "jittered")]
    Jittered {
        #[serde(rename = "minMs")]
        min_ms: u64,
        #[serde(rename = "maxMs")]
        max_ms: u64,
    },
}

/// `client.hostConnectionPool`, as hawser uses it: per shard and per endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PoolConfig {
    /// From `maxSize`: most idle keep-alive connections kept per endpoint (per shard).
    /// Default 64 (linkerd's `maxSize` default is unlimited).
    #[serde(rename = "maxIdlePerEndpoint")]
    pub max_idle_per_endpoint: usize,
    /// `idleTimeMs`: an idle connection is closed after this long. Default 10 s (linkerd's
    /// default is forever; a bounded default avoids reusing connections the upstream has
    /// already timed out).
    #[serde(rename = "idleTimeMs", serialize_with = "millis")]
    pub idle_timeout: Duration,
}

impl PoolConfig {
    pub const DEFAULT_MAX_IDLE_PER_ENDPOINT: usize = 64;
    pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(10);
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            max_idle_per_endpoint: Self::DEFAULT_MAX_IDLE_PER_ENDPOINT,
            idle_timeout: Self::DEFAULT_IDLE_TIMEOUT,
        }
    }
}

/// `runtime:`, hawser's own section (linkerd 1.x has none).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuntimeConfig {
    /// `cores`: how many shards (one pinned executor per core). `None`: all online CPUs (the
    /// command line's `--cores` overrides either).
    pub cores: Option<NonZeroUsize>,
    /// `ioMemoryKiB` (default 512 KiB, at least 512): reserved. It sized glommio's
    /// registered-buffer memory per shard; hawser's own runtime registers no buffers, so the
    /// key is accepted and validated but sizes nothing.
    #[serde(rename = "ioMemory")]
    pub io_memory: ByteSize,
    /// `drainTimeoutMs` (default 10 s; linkerd's `admin.shutdownGraceMs` sets it too): how
    /// long graceful shutdown waits for in-flight requests.
    #[serde(rename = "drainTimeoutMs", serialize_with = "millis")]
    pub drain_timeout: Duration,
    /// `requestHeaderTimeoutMs` (default 10 s): a request head must arrive within this, else
    /// 408 (slowloris).
    #[serde(rename = "requestHeaderTimeoutMs", serialize_with = "millis")]
    pub request_header_timeout: Duration,
    /// `idleTimeoutMs` (default 60 s): a client connection with no request in progress (HTTP/1.1
    /// keep-alive) or no open stream (HTTP/2: then a GOAWAY) is closed after this long.
    #[serde(rename = "idleTimeoutMs", serialize_with = "millis")]
    pub idle_timeout: Duration,
    /// `maxHeaderCount` (default 100): most header fields in a request (else 431).
    #[serde(rename = "maxHeaderCount")]
    pub max_header_count: usize,
    /// `spinBeforeParkUs` (default 0, at most 10 ms): how long a shard that ran out of work
    /// after socket traffic keeps polling for more before it sleeps (a wake-up by the shard's
    /// own timers parks at once). Spinning takes CPU (up to a whole core per shard while
    /// requests keep arriving within the spin time) and saves every wake-up: for hosts whose
    /// proxy cores are dedicated, not for sidecars sharing cores.
    #[serde(rename = "spinBeforeParkUs", serialize_with = "micros")]
    pub spin_before_park: Duration,
}

impl RuntimeConfig {
    pub const DEFAULT_IO_MEMORY: ByteSize = ByteSize::kib(512);
    pub const MIN_IO_MEMORY: ByteSize = ByteSize::kib(512);
    pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
    pub const DEFAULT_REQUEST_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
    pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
    pub const DEFAULT_MAX_HEADER_COUNT: usize = 100;
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            cores: None,
            io_memory: Self::DEFAULT_IO_MEMORY,
            drain_timeout: Self::DEFAULT_DRAIN_TIMEOUT,
            request_header_timeout: Self::DEFAULT_REQUEST_HEADER_TIMEOUT,
            idle_timeout: Self::DEFAULT_IDLE_TIMEOUT,
            max_header_count: Self::DEFAULT_MAX_HEADER_COUNT,
            spin_before_park: Duration::ZERO,
        }
    }
}

/// A size in bytes. Serialises as the number of bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ByteSize(u64);

impl ByteSize {
    pub const fn bytes(n: u64) -> Self {
        Self(n)
    }

    pub const fn kib(n: u64) -> Self {
        Self(n * 1024)
    }

    pub const fn as_bytes(self) -> u64 {
        self.0
    }

    /// As a `usize` (saturating on 32-bit targets).
    pub fn as_usize(self) -> usize {
        usize::try_from(self.0).unwrap_or(usize::MAX)
    }
}

fn micros<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

fn opt_millis<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => millis(d, s),
        None => s.serialize_none(),
    }
}

fn millis<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
