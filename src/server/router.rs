//! A router as a shard sees it: the compiled plan (dtab, identifiers,
//! limits) shared read-only by all shards, plus per-shard state (binding
//! cache, endpoint sets, connection pool).

use std::cell::RefCell;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use bytes::BytesMut;
use hawser_http1 as h1;

use super::error::ProxyError;
use crate::client::{Endpoint, EndpointSet, Pool, PoolSettings};
use crate::config::{Config, IdentifierConfig};
use crate::discovery::{NamerAnswer, NamerTable, NamerUpdate, lookup_in};
use crate::routing::{
    BindCache, Bound, DelegateAddr, DelegateAddress, Dtab, Identifier, IdentifierChain, InetName,
    NamerLookup, NamerResult, Path, RequestView, Resolution, delegate, parse_header_dtab, resolve,
};
use crate::telemetry::{ClientStats, RouterStats, ServiceStats};

/// Bindings cached per shard and router.
const BIND_CACHE_ENTRIES: usize = 4096;
/// The most memory a shard's binding cache counts (request dtabs are part of its keys and are
/// chosen by clients, so the entry count alone would not bound it).
const BIND_CACHE_BYTES: usize = 16 << 20;

/// One server (listening address) of a router.
#[derive(Debug, Clone)]
pub struct ServerPlan {
    /// Where to listen.
    pub addr: SocketAddr,
    /// Remove incoming `l5d-ctx-*`, `l5d-dtab` and `l5d-sample` (untrusted edge).
    pub clear_context: bool,
    /// An h2 server's HTTP/2 settings; `None` for other protocols.
    pub h2: Option<hawser_http2::Config>,
}

/// A router compiled from config: immutable, shared by every shard.
#[derive(Debug, Clone)]
pub struct RouterPlan {
    /// `label`.
    pub label: String,
    /// `io.l5d.recentRequests`: its sample rate and capacity.
    pub recent: Option<(f64, usize)>,
    /// The router's `dtab`.
    pub dtab: Dtab,
    /// `identifier` (a list is tried in order).
    pub identifiers: IdentifierChain,
    /// `servers`.
    pub servers: Vec<ServerPlan>,
    /// Head limits (`maxInitialLineKB`, `maxHeadersKB`, `runtime.maxHeaderCount`).
    pub limits: h1::Limits,
    /// Whole-request-head deadline (`runtime.requestHeaderTimeoutMs`).
    pub header_timeout: Duration,
    /// Idle client connections close after this (`runtime.idleTimeoutMs`).
    pub idle_timeout: Duration,
    /// Upstream pool settings (`client`).
    pub pool: PoolSettings,
    /// A thrift router's naming and limits; `None` for http.
    pub thrift: Option<ThriftPlan>,
    /// An h2 router's upstream HTTP/2 settings; `None` for other protocols.
    pub h2: Option<hawser_http2::Config>,
    /// `service.totalTimeoutMs`: from a request's arrival to its response head.
    pub total_timeout: Option<Duration>,
    /// `service.responseClassifier` and `service.retries`; `None` when nothing is retried.
    pub retry: Option<RetryPolicy>,
    /// `client.requeueBudget`: requeues of connect failures, per concrete name.
    pub requeue: BudgetParams,
    /// `client.failureAccrual`; `None` for `kind: none`.
    pub accrual: Option<crate::client::Accrual>,
    /// `client.loadBalancer`.
    pub balancer: crate::client::BalancerPolicy,
    /// `interpreter.transformers` that act on addresses, compiled.
    pub transforms: Vec<crate::client::transform::AddrTransform>,
    /// `interpreter.transformers` that act on bindings (`io.l5d.replace`, `io.l5d.const`), in
    /// order; applied before the address ones.
    pub name_transforms: Vec<NameTransform>,
    /// `service.responseClassifier`: which responses are failures (for accrual).
    pub classifier: crate::resilience::Classifier,
}

/// A retry budget's parameters (linkerd's `budget` keys).
#[derive(Debug, Clone, Copy)]
pub struct BudgetParams {
    /// `minRetriesPerSec`.
    pub min_retries_per_sec: u32,
    /// `percentCanRetry`.
    pub percent_can_retry: f64,
    /// `ttlSecs`.
    pub ttl: Duration,
}

impl BudgetParams {
    /// A fresh budget with these parameters.
    pub fn budget(&self) -> crate::resilience::RetryBudget {
        crate::resilience::RetryBudget::new(
            self.min_retries_per_sec,
            self.percent_can_retry,
            self.ttl,
        )
    }
}

/// When and how a router retries (the HTTP/1.1 router: `service.responseClassifier` and
/// `service.retries`).
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Which failures may be retried.
    pub classifier: crate::resilience::Classifier,
    /// `budget`.
    pub budget: BudgetParams,
    /// The wait before each retry.
    pub backoff: crate::resilience::Backoff,
}

/// What a thrift router names calls with, and the frames it accepts.
#[derive(Debug, Clone)]
pub struct ThriftPlan {
    /// `dstPrefix`: every call's logical name, or its first part.
    pub prefix: Path,
    /// `thriftMethodInDst`: append the method name.
    pub method_in_dst: bool,
    /// Frame, name and nesting limits (Apache Thrift's defaults).
    pub limits: hawser_thrift::Limits,
}

/// Builds the router plans, parsing dtabs and prefixes; errors are
/// `file:line:col: message` lines.
///
/// # Errors
/// Every dtab or path that does not parse.
pub fn compile_routers(config: &Config, file: &str) -> Result<Vec<RouterPlan>, Vec<String>> {
    let mut plans = Vec::new();
    let mut errors = Vec::new();
    for (i, r) in config.routers.iter().enumerate() {
        // A parse error is reported at its position inside the YAML value.
        let mut located = |what: &str, value: &crate::config::Spanned<String>, offset, msg| {
            let pos = value.locate(offset);
            let file = config.source_name(pos).unwrap_or(file);
            errors.push(format!(
                "{file}:{}:{}: routers[{i}].{what}: {msg}",
                pos.line, pos.col
            ));
        };
        let dtab =
            Dtab::read(&r.dtab.value).map_err(|e| located("dtab", &r.dtab, e.offset, e.message));
        let prefix = Path::read(&r.dst_prefix.value)
            .map_err(|e| located("dstPrefix", &r.dst_prefix, e.offset, e.message));
        let (Ok(dtab), Ok(prefix)) = (dtab, prefix) else {
            continue;
        };
        let identifiers = r
            .identifiers
            .iter()
            .map(|id| match id {
                IdentifierConfig::HeaderToken { header } => Identifier::HeaderToken {
                    prefix: prefix.clone(),
                    header: header.clone(),
                },
                IdentifierConfig::MethodAndHost { http_uri_in_dst } => Identifier::MethodAndHost {
                    prefix: prefix.clone(),
                    uri_in_dst: *http_uri_in_dst,
                },
                IdentifierConfig::Path { segments, consume } => Identifier::Path {
                    prefix: prefix.clone(),
                    segments: segments.get(),
                    consume: *consume,
                },
                IdentifierConfig::Header { header } => Identifier::Header {
                    prefix: prefix.clone(),
                    header: header.clone(),
                },
                IdentifierConfig::HeaderPath { header, segments } => Identifier::HeaderPath {
                    prefix: prefix.clone(),
                    header: header.clone(),
                    segments: segments.map(|n| n.get()),
                },
            })
            .collect();
        plans.push(RouterPlan {
            recent: config
                .recent_requests
                .as_ref()
                .map(|r| (r.sample_rate, r.capacity)),
            label: r.label.clone(),
            dtab,
            identifiers: IdentifierChain::new(identifiers),
            servers: r
                .servers
                .iter()
                .map(|s| ServerPlan {
                    addr: s.addr(),
                    clear_context: s.clear_context,
                    h2: s.h2.as_ref().map(|h| h2_config(h, true)),
                })
                .collect(),
            limits: h1::Limits {
                max_request_line: r.max_initial_line.as_usize(),
                max_header_bytes: r.max_headers.as_usize(),
                max_headers: config.runtime.max_header_count,
                ..h1::Limits::default()
            },
            header_timeout: config.runtime.request_header_timeout,
            idle_timeout: config.runtime.idle_timeout,
            pool: PoolSettings {
                max_idle_per_endpoint: r.client.pool.max_idle_per_endpoint,
                idle_timeout: r.client.pool.idle_timeout,
                connect_timeout: r.client.connect_timeout,
            },
            total_timeout: r.service.total_timeout,
            retry: retry_policy(&r.service),
            requeue: budget_params(&r.client.requeue_budget),
            balancer: balancer_policy(&r.client.load_balancer),
            // Resolved by `resolve_transformers` when the routers start (not by a check).
            transforms: Vec::new(),
            name_transforms: r
                .transformers
                .iter()
                .filter_map(|t| match t {
                    crate::config::TransformerConfig::Replace { path } => {
                        Path::read(path).ok().map(NameTransform::Replace)
                    }
                    crate::config::TransformerConfig::Const { path } => {
                        Path::read(path).ok().map(NameTransform::Const)
                    }
                    _ => None,
                })
                .collect(),
            accrual: r
                .client
                .failure_accrual
                .as_ref()
                .map(|a| crate::client::Accrual {
                    policy: match a.policy {
                        crate::config::AccrualPolicyConfig::ConsecutiveFailures { failures } => {
                            crate::client::AccrualPolicy::ConsecutiveFailures(failures)
                        }
                        crate::config::AccrualPolicyConfig::SuccessRate {
                            success_rate,
                            requests,
                        } => crate::client::AccrualPolicy::SuccessRate {
                            rate: success_rate,
                            window: requests,
                        },
                        crate::config::AccrualPolicyConfig::SuccessRateWindowed {
                            success_rate,
                            window,
                        } => crate::client::AccrualPolicy::SuccessRateWindowed {
                            rate: success_rate,
                            window: Duration::from_secs(u64::from(window)),
                        },
                    },
                    backoff: backoff_of(&a.backoff),
                }),
            classifier: crate::resilience::Classifier::from_kind(&r.service.response_classifier)
                .unwrap_or_default(),
            h2: (r.protocol == crate::config::Protocol::H2)
                .then(|| h2_config(r.client.h2.as_ref().unwrap_or(&Default::default()), false)),
            thrift: r.thrift.as_ref().map(|t| ThriftPlan {
                prefix: prefix.clone(),
                method_in_dst: t.method_in_dst,
                limits: hawser_thrift::Limits::default(),
            }),
        });
    }
    if errors.is_empty() {
        Ok(plans)
    } else {
        Err(errors)
    }
}

fn budget_params(b: &crate::config::BudgetConfig) -> BudgetParams {
    BudgetParams {
        min_retries_per_sec: b.min_retries_per_sec,
        percent_can_retry: b.percent_can_retry,
        ttl: Duration::from_secs(u64::from(b.ttl_secs)),
    }
}

/// The retry policy of a service config; `None` when its classifier never retries.
fn retry_policy(s: &crate::config::ServiceConfig) -> Option<RetryPolicy> {
    use crate::resilience::Classifier;
    let classifier = Classifier::from_kind(&s.response_classifier)?;
    if !classifier.retryable_method("GET") {
        return None;
    }
    let r = &s.retries;
    Some(RetryPolicy {
        classifier,
        budget: budget_params(&r.budget),
        backoff: backoff_of(&r.backoff),
    })
}

fn backoff_of(b: &crate::config::BackoffConfig) -> crate::resilience::Backoff {
    use crate::resilience::Backoff;
    match *b {
        crate::config::BackoffConfig::Constant { ms } => {
            Backoff::Constant(Duration::from_millis(ms))
        }
        crate::config::BackoffConfig::Jittered { min_ms, max_ms } => Backoff::Jittered {
            min: Duration::from_millis(min_ms),
            max: Duration::from_millis(max_ms),
        },
    }
}

/// hawser's HTTP/2 settings for a server (`server`) or client, with the config's overrides.
fn h2_config(h: &crate::config::H2Settings, server: bool) -> hawser_http2::Config {
    let mut c = hawser_http2::Config::default();
    if server {
        c.max_concurrent_streams = h.max_concurrent_streams.unwrap_or(1000);
    }
    if let Some(v) = h.initial_stream_window {
        c.initial_window_size = v;
    }
    if let Some(v) = h.max_frame {
        c.max_frame_size = v;
    }
    if let Some(v) = h.max_header_list {
        c.max_header_list_size = v;
    }
    if let Some(v) = h.header_table {
        c.header_table_size = v;
    }
    c
}

/// Looks up `/#/...` paths in a list of namer states.
struct Namers<'a>(&'a [NamerUpdate]);

fn answer_to_result(a: NamerAnswer) -> NamerResult {
    match a {
        NamerAnswer::Neg => NamerResult::Neg,
        NamerAnswer::Bound { id, residual, .. } => {
            match (
                Path::read(&id),
                Path::from_segments(residual.iter().map(String::as_str)),
            ) {
                (Ok(id), Some(residual)) => NamerResult::Bound(Bound { id, residual }),
                (Ok(id), None) if residual.is_empty() => NamerResult::Bound(Bound {
                    id,
                    residual: Path::empty(),
                }),
                _ => NamerResult::Failed(format!("namer produced an invalid name {id}")),
            }
        }
    }
}

fn path_strs(path: &Path) -> Option<Vec<&str>> {
    path.segments()
        .map(|s| std::str::from_utf8(s).ok())
        .collect()
}

impl NamerLookup for Namers<'_> {
    fn lookup(&self, path: &Path) -> NamerResult {
        match path_strs(path) {
            Some(segs) => answer_to_result(lookup_in(self.0, &segs)),
            None => NamerResult::Neg,
        }
    }
}

struct ShardNamers<'a>(&'a NamerTable);

impl NamerLookup for ShardNamers<'_> {
    fn lookup(&self, path: &Path) -> NamerResult {
        match path_strs(path) {
            Some(segs) => answer_to_result(self.0.lookup(&segs)),
            None => NamerResult::Neg,
        }
    }
}

impl RouterPlan {
    /// The delegator's explanation of binding `path` with `dtab` appended,
    /// as linkerd's `/delegator.json` JSON.
    ///
    /// # Errors
    /// A bad path or dtab.
    pub fn delegate_json(
        &self,
        path: &str,
        dtab: &str,
        namers: &[NamerUpdate],
    ) -> Result<serde_json::Value, String> {
        let path = Path::read(path).map_err(|e| format!("invalid path: {e}"))?;
        let local = Dtab::read(dtab).map_err(|e| format!("invalid dtab: {e}"))?;
        let mut tree = delegate(&self.dtab.concat(&local), &path, &Namers(namers));
        tree.for_each_bound_mut(&mut |leaf| leaf.addr = leaf_addr(&leaf.bound.id, namers));
        serde_json::to_value(&tree).map_err(|e| e.to_string())
    }
}

/// The address set behind a bound leaf, as linkerd's delegator shows it:
/// a namer's current endpoints, or an `/$/inet` literal. A host name is
/// left out (resolving DNS is the request path's business, not the admin's).
fn leaf_addr(id: &Path, namers: &[NamerUpdate]) -> Option<DelegateAddr> {
    let bound = |addrs: Vec<(SocketAddr, f64)>| DelegateAddr::Bound {
        addrs: addrs
            .into_iter()
            .map(|(a, w)| DelegateAddress {
                ip: a.ip().to_string(),
                port: a.port(),
                // linkerd shows a non-default weight as endpoint metadata.
                meta: if w == 1.0 {
                    serde_json::Map::new()
                } else {
                    let mut m = serde_json::Map::new();
                    m.insert("endpoint_addr_weight".into(), serde_json::json!(w));
                    m
                },
            })
            .collect(),
        meta: serde_json::Map::new(),
    };
    if let Some(inet) = InetName::from_id(id) {
        return inet
            .host
            .parse::<IpAddr>()
            .ok()
            .map(|ip| bound(vec![(SocketAddr::new(ip, inet.port), 1.0)]));
    }
    match lookup_in(namers, &path_strs(id)?) {
        NamerAnswer::Bound { addrs, .. } => Some(bound(addrs)),
        NamerAnswer::Neg => Some(DelegateAddr::Neg),
    }
}

/// Resolves each router's `interpreter.transformers` (host names, `POD_IP`) into its plan:
/// at start-up, not in `hawser check` (what the host's environment says is not the config's).
///
/// # Errors
/// One line per transformer that cannot be resolved here, naming the file and router.
pub fn resolve_transformers(
    config: &Config,
    plans: &mut [RouterPlan],
    file: &str,
) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    for (i, (r, plan)) in config.routers.iter().zip(plans.iter_mut()).enumerate() {
        match crate::client::transform::compile(&r.transformers) {
            Ok(t) => plan.transforms = t,
            Err(e) => errors.push(format!(
                "{file}: routers[{i}].interpreter.transformers: {e}"
            )),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The per-request dtab from `values` (`l5d-ctx-dtab`, then `l5d-dtab`) as text; `None`
/// when it is empty.
fn local_dtab<'a>(values: impl Iterator<Item = &'a [u8]>) -> Result<Option<String>, ProxyError> {
    let d = parse_header_dtab(values)
        .map_err(|e| ProxyError::downstream(400, format!("Invalid dtab header: {}", e)))?;
    Ok((!d.is_empty()).then(|| d.to_string()))
}

/// The values of the HTTP/2 fields named `name` (lower case, as HTTP/2 sends names).
fn h2_values<'a>(
    head: &'a hawser_http2::RequestHead,
    name: &'static [u8],
) -> impl Iterator<Item = &'a [u8]> {
    head.fields
        .iter()
        .filter(move |f| f.name.as_ref() == name)
        .map(|f| f.value.as_ref())
}

/// A transformer of bindings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameTransform {
    /// `io.l5d.replace`: a name that binds is bound to this path instead.
    Replace(Path),
    /// `io.l5d.const`: every name is bound to this path.
    Const(Path),
}

/// `client.loadBalancer` as the balancer takes it.
fn balancer_policy(c: &crate::config::BalancerConfig) -> crate::client::BalancerPolicy {
    use crate::client::Balance;
    use crate::config::BalancerConfig as C;
    let (balance, max_effort) = match *c {
        C::P2c { max_effort } => (Balance::P2c, max_effort),
        C::Ewma {
            max_effort,
            decay_ms,
        } => (
            Balance::Ewma {
                decay: Duration::from_millis(decay_ms),
            },
            max_effort,
        ),
        C::Heap => (Balance::Heap, 0),
        C::RoundRobin { max_effort } => (Balance::RoundRobin, max_effort),
    };
    crate::client::BalancerPolicy {
        balance,
        max_effort: max_effort as usize,
    }
}

/// A concrete name and its endpoints on one shard, cached per namer generation.
#[derive(Debug)]
pub struct Target {
    /// The concrete name (`l5d-dst-client`).
    pub client: String,
    /// Its endpoints.
    pub endpoints: EndpointSet,
    /// Its counters on this shard.
    pub stats: Rc<ClientStats>,
    /// Its requeue budget on this shard (`client.requeueBudget`).
    pub requeue: crate::resilience::RetryBudget,
    /// For `/$/inet/HOST/PORT` with a host name: when it was resolved, and
    /// whether a re-resolution is under way.
    dns: Option<DnsState>,
}

/// Most requeues (connect failures sent on to another endpoint) of one request.
pub const MAX_REQUEUES: usize = 3;

impl Target {
    /// Whether a request may be requeued after its connect failed (linkerd's requeues, any
    /// method: nothing was sent): fewer than [`MAX_REQUEUES`] so far (`requeued`), an endpoint
    /// not in `failed` (those that failed it, the last one included) left, its `deadline`
    /// not passed, and this name's requeue budget paying for it.
    pub fn try_requeue(
        &self,
        requeued: usize,
        failed: &[SocketAddr],
        deadline: Option<std::time::Instant>,
    ) -> bool {
        requeued < MAX_REQUEUES
            && self.endpoints.endpoints().len() > failed.len()
            && deadline.is_none_or(|d| crate::runtime::exec::now() < d)
            && self
                .requeue
                .try_withdraw(crate::resilience::budget::now_secs())
    }
}

#[derive(Debug)]
struct DnsState {
    host: String,
    port: u16,
    /// When the set was last resolved (or a refresh last failed).
    resolved_at: std::cell::Cell<std::time::Instant>,
    refreshing: std::cell::Cell<bool>,
}

/// How long a `/$/inet` host name's addresses are used before the name is
/// resolved again (Finagle's `InetResolver` polls every 5 s). Requests keep
/// the current set meanwhile; a failed or empty answer keeps it too.
pub const DNS_REFRESH: Duration = Duration::from_secs(5);

/// Most DNS lookups one shard runs at once. Host names can come from
/// clients (`l5d-dtab: /svc => /$/inet/NAME/80`), and each lookup is a
/// blocking getaddrinfo on its own thread that may wait seconds for an
/// unreachable resolver: without a bound, distinct names would pile up threads.
pub const MAX_DNS_IN_FLIGHT: u32 = 32;

/// Counts a shard's DNS lookups in flight; a permit is released by the lookup
/// thread itself when getaddrinfo returns (not when the request gives up).
#[derive(Clone)]
struct DnsLimiter {
    in_flight: Arc<AtomicU32>,
    max: u32,
}

struct DnsPermit(Arc<AtomicU32>);

impl Drop for DnsPermit {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl DnsLimiter {
    fn new(max: u32) -> Self {
        DnsLimiter {
            in_flight: Arc::new(AtomicU32::new(0)),
            max,
        }
    }

    fn try_acquire(&self) -> Option<DnsPermit> {
        let n = self.in_flight.fetch_add(1, Ordering::Relaxed);
        let permit = DnsPermit(self.in_flight.clone());
        (n < self.max).then_some(permit)
    }
}

thread_local! {
    /// This shard's DNS limiter (one per shard thread).
    static DNS: DnsLimiter = DnsLimiter::new(MAX_DNS_IN_FLIGHT);
}

/// Resolves `host:port` on a blocking thread (getaddrinfo); `None` when this
/// shard already has [`MAX_DNS_IN_FLIGHT`] lookups running.
async fn resolve_host(host: String, port: u16) -> Option<Vec<(SocketAddr, f64)>> {
    let permit = DNS.with(DnsLimiter::try_acquire)?;
    let addrs = crate::runtime::spawn_blocking(move || {
        use std::net::ToSocketAddrs;
        let _permit = permit;
        (host.as_str(), port)
            .to_socket_addrs()
            .map(|a| a.map(|a| (a, 1.0)).collect::<Vec<_>>())
            .unwrap_or_default()
    })
    .await;
    Some(addrs)
}

/// `n` as 16 lowercase hex digits (the `l5d-reqid` value), without allocating.
pub(super) fn hex16(n: u64) -> [u8; 16] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 16];
    for (i, b) in out.iter_mut().enumerate() {
        *b = HEX[((n >> (60 - 4 * i)) & 15) as usize];
    }
    out
}

/// A request that could not be routed: the error to answer with and, when the request got as
/// far as a logical name, that name's counters.
#[derive(Debug)]
pub struct RouteError {
    /// What to answer.
    pub error: ProxyError,
    /// The logical name's counters (`None`: the request was not identified).
    pub stats: Option<Rc<ServiceStats>>,
}

impl From<ProxyError> for RouteError {
    fn from(error: ProxyError) -> RouteError {
        RouteError { error, stats: None }
    }
}

/// A request routed to a concrete destination.
pub struct Routed {
    /// The logical name, `/svc/users`.
    pub service: Rc<str>,
    /// Its counters on this shard.
    pub stats: Rc<ServiceStats>,
    /// Its retry budget on this shard (`None`: the router does not retry).
    pub budget: Option<Rc<crate::resilience::RetryBudget>>,
    /// The concrete name it was bound to, with its endpoints on this shard
    /// (shared with the shard's cache: no per-request copy).
    pub target: Rc<Target>,
    /// The residual path, if any.
    pub residual: Option<Rc<str>>,
    /// A replacement request target (`io.l5d.path` with `consume`).
    pub new_target: Option<String>,
    /// The per-request dtab to propagate as `l5d-ctx-dtab`.
    pub ctx_dtab: Option<String>,
    /// The strictest of the incoming `l5d-ctx-deadline`s and `totalTimeoutMs`, to propagate.
    pub ctx_deadline: Option<String>,
    /// Remove incoming context headers.
    pub clear_context: bool,
    base_dtab: Rc<str>,
}

impl Routed {
    /// Calls `f` with each `l5d-*` header hawser adds to the upstream request: the logical and
    /// concrete names, the residual, the request id and the propagated per-request dtab.
    pub fn each_context_header<'a>(
        &'a self,
        reqid: &'a [u8; 16],
        mut f: impl FnMut(&'static str, &'a [u8]),
    ) {
        f("l5d-dst-service", self.service.as_bytes());
        f("l5d-dst-client", self.target.client.as_bytes());
        if let Some(r) = &self.residual {
            f("l5d-dst-residual", r.as_bytes());
        }
        f("l5d-reqid", reqid);
        if let Some(d) = &self.ctx_dtab {
            f("l5d-ctx-dtab", d.as_bytes());
        }
        if let Some(d) = &self.ctx_deadline {
            f("l5d-ctx-deadline", d.as_bytes());
        }
    }

    /// This request as a row of the recent requests (`io.l5d.recentRequests`).
    pub fn recent_row(
        &self,
        at: std::time::SystemTime,
        source: SocketAddr,
        server: SocketAddr,
        destination: Option<SocketAddr>,
    ) -> crate::telemetry::RecentRequest {
        crate::telemetry::RecentRequest {
            at,
            source,
            server,
            logical: self.service.to_string(),
            concrete: self.target.client.clone(),
            destination,
        }
    }

    /// The `l5d-err` text for "no endpoints", as linkerd words it.
    pub fn no_hosts_reason(&self) -> String {
        no_hosts(
            &self.service,
            &self.base_dtab,
            self.ctx_dtab.as_deref().unwrap_or(""),
        )
    }

    /// Writes the request head for the upstream.
    pub fn encode_request_head(
        &self,
        head: &h1::RequestHead,
        framing: h1::Framing,
        reqid: u64,
        out: &mut BytesMut,
    ) {
        let body = match framing {
            h1::Framing::Length(n) => h1::BodyHeader::Length(n),
            h1::Framing::Chunked => h1::BodyHeader::Chunked,
            _ => h1::BodyHeader::None,
        };
        let upgrade = head.upgrade();
        let connection = match upgrade {
            Some(p) if head.is_upgrade() => h1::ConnectionHeader::Upgrade(p),
            _ => h1::ConnectionHeader::Omit,
        };
        let reqid = hex16(reqid);
        let mut extra: [(&str, &[u8]); 7] = [("", b""); 7];
        let mut n = 0;
        extra[n] = ("Via", b"1.1 hawser");
        n += 1;
        self.each_context_header(&reqid, |name, value| {
            extra[n] = (name, value);
            n += 1;
        });
        let extra = &extra[..n];
        let clear = self.clear_context;
        let drop = move |name: &[u8]| drop_incoming(name, clear);
        let opts = h1::EncodeOptions {
            target: self.new_target.as_deref(),
            body,
            connection,
            extra_headers: extra,
            // Every field it drops starts with `l5d-`; the parser noted whether any does.
            drop_header: head.headers().has_l5d_fields().then_some(&drop as _),
        };
        h1::encode_request_head(head, &opts, out);
    }
}

/// Incoming headers never forwarded as they are: hawser rewrites them
/// (`l5d-dtab` folds into `l5d-ctx-dtab`; the strictest `l5d-ctx-deadline`
/// goes on as one value; `l5d-dst-*` and `l5d-reqid` are set per hop) and,
/// at an untrusted edge, drops all context.
pub(super) fn drop_incoming(n: &[u8], clear_context: bool) -> bool {
    let starts = |p: &[u8]| n.len() >= p.len() && n[..p.len()].eq_ignore_ascii_case(p);
    starts(b"l5d-dst-")
        || n.eq_ignore_ascii_case(b"l5d-dtab")
        || n.eq_ignore_ascii_case(b"l5d-ctx-dtab")
        || n.eq_ignore_ascii_case(b"l5d-ctx-deadline")
        || n.eq_ignore_ascii_case(b"l5d-reqid")
        || (clear_context && (starts(b"l5d-ctx-") || n.eq_ignore_ascii_case(b"l5d-sample")))
}

fn no_hosts(service: &str, base: &str, local: &str) -> String {
    format!(
        "No hosts are available for {service}, Dtab.base=[{base}], Dtab.local=[{local}]. Remote Info: Not Available"
    )
}

struct View<'a>(&'a h1::RequestHead);

impl RequestView for View<'_> {
    fn method(&self) -> &str {
        self.0.method()
    }
    fn target(&self) -> &str {
        self.0.target()
    }
    fn is_http10(&self) -> bool {
        self.0.version() == h1::Version::Http10
    }
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.0.header(name)
    }
}

/// An HTTP/2 request as identifiers see it: pseudo-headers by their names, other fields by
/// lowercase name.
struct H2View<'a>(&'a hawser_http2::RequestHead);

impl RequestView for H2View<'_> {
    fn method(&self) -> &str {
        std::str::from_utf8(&self.0.method).unwrap_or("")
    }
    fn target(&self) -> &str {
        self.0
            .path
            .as_deref()
            .and_then(|p| std::str::from_utf8(p).ok())
            .unwrap_or("")
    }
    fn is_http10(&self) -> bool {
        false
    }
    fn header(&self, name: &str) -> Option<&[u8]> {
        let name = name.as_bytes();
        match name {
            b":authority" => self.0.authority.as_deref(),
            b":path" => self.0.path.as_deref(),
            b":method" => Some(&self.0.method),
            b":scheme" => self.0.scheme.as_deref(),
            _ => self
                .0
                .fields
                .iter()
                .find(|f| f.name.eq_ignore_ascii_case(name))
                .map(|f| f.value.as_ref()),
        }
    }
}

/// One shard's instance of a router.
pub struct Router {
    /// The shared plan.
    pub plan: RouterPlan,
    /// Head limits.
    pub limits: h1::Limits,
    /// Request-head deadline.
    pub header_timeout: Duration,
    /// This shard's upstream pool.
    pub pool: Pool,
    /// This router's counters on this shard.
    pub stats: Rc<RouterStats>,
    /// An h2 router's upstream HTTP/2 connections on this shard.
    pub h2_pool: Option<super::h2::H2Pool>,
    /// Retry budgets per logical name on this shard (bounded like the metrics' names).
    budgets: RefCell<crate::telemetry::stats::Names<crate::resilience::RetryBudget>>,
    base_dtab: Rc<str>,
    namers: Rc<NamerTable>,
    cache: RefCell<BindCache<Rc<CachedRoute>>>,
    /// Shared with DNS refresh tasks.
    endpoints: Rc<RefCell<EndpointCache>>,
}

/// A cached binding: the resolution and the logical name's text (the
/// `l5d-dst-service` value), both computed once per name and dtab.
struct CachedRoute {
    resolution: Resolution,
    /// Per `Weighted` branch: its residual as `l5d-dst-residual` text (none when empty), made
    /// once here rather than formatted for every request.
    residuals: Vec<Option<Rc<str>>>,
    service: Rc<str>,
    stats: Rc<ServiceStats>,
    budget: Option<Rc<crate::resilience::RetryBudget>>,
}

#[derive(Default)]
struct EndpointCache {
    generation: u64,
    by_id: foldhash::HashMap<Path, Rc<Target>>,
    by_addr: foldhash::HashMap<SocketAddr, Rc<Endpoint>>,
    /// `client.loadBalancer`, for every set built here.
    balancer: crate::client::BalancerPolicy,
    /// `interpreter.transformers`, applied to every address list first.
    transforms: Rc<[crate::client::transform::AddrTransform]>,
}

/// Most concrete names one router keeps endpoint sets for on a shard. Names
/// can come from clients (`l5d-dtab` to any `/$/inet/IP/PORT`), so the map is
/// cleared (and unused endpoints pruned) rather than allowed to grow.
const MAX_TARGETS: usize = 4096;

impl EndpointCache {
    /// Caches `target` for `id`, clearing the map first when it is full.
    fn insert(&mut self, id: Path, target: Rc<Target>) {
        if self.by_id.len() >= MAX_TARGETS && !self.by_id.contains_key(&id) {
            self.by_id.clear();
            self.prune();
        }
        self.by_id.insert(id, target);
    }

    /// Forgets endpoints no target and no request holds any more (addresses
    /// that went away), so churn does not grow the map.
    fn prune(&mut self) {
        self.by_addr.retain(|_, e| Rc::strong_count(e) > 1);
    }

    /// A target over `addrs`, reusing this shard's `Endpoint`s (and so their
    /// outstanding counts) for addresses it already knows.
    fn target(
        &mut self,
        id: &Path,
        addrs: Vec<(SocketAddr, f64)>,
        dns: Option<(String, u16)>,
        stats: &RouterStats,
        requeue: &BudgetParams,
    ) -> Rc<Target> {
        let addrs = if self.transforms.is_empty() {
            addrs
        } else {
            crate::client::transform::apply(&self.transforms, addrs)
        };
        let eps: Vec<(Rc<Endpoint>, f64)> = addrs
            .into_iter()
            .map(|(a, w)| {
                let ep = self
                    .by_addr
                    .entry(a)
                    .or_insert_with(|| Endpoint::new(a))
                    .clone();
                (ep, w)
            })
            .collect();
        let client = id.to_string();
        Rc::new(Target {
            stats: stats.client(&client),
            requeue: requeue.budget(),
            client,
            endpoints: EndpointSet::weighted(eps).with_policy(self.balancer),
            dns: dns.map(|(host, port)| DnsState {
                host,
                port,
                resolved_at: std::cell::Cell::new(crate::runtime::exec::now()),
                refreshing: std::cell::Cell::new(false),
            }),
        })
    }
}

impl Router {
    /// This shard's router for `plan`.
    pub fn new(plan: &RouterPlan, namers: Rc<NamerTable>) -> Self {
        Router {
            limits: plan.limits,
            header_timeout: plan.header_timeout,
            pool: Pool::new(plan.pool),
            stats: Rc::new(RouterStats::with_recent(plan.recent)),
            h2_pool: plan.h2.map(|c| {
                super::h2::H2Pool::new(c, plan.pool.connect_timeout, plan.pool.idle_timeout)
            }),
            budgets: RefCell::default(),
            base_dtab: plan.dtab.to_string().into(),
            plan: plan.clone(),
            namers,
            cache: RefCell::new(
                BindCache::new(BIND_CACHE_ENTRIES).with_max_bytes(BIND_CACHE_BYTES),
            ),
            endpoints: Rc::new(RefCell::new(EndpointCache {
                balancer: plan.balancer,
                transforms: plan.transforms.clone().into(),
                ..EndpointCache::default()
            })),
        }
    }

    /// The retry budget of logical name `service` (each service has its own, as in linkerd);
    /// `None` when this router does not retry. Past [`crate::telemetry::stats::MAX_NAMES`]
    /// names, later ones share one budget.
    fn budget_for(&self, service: &str) -> Option<Rc<crate::resilience::RetryBudget>> {
        let policy = self.plan.retry.as_ref()?;
        Some(
            self.budgets
                .borrow_mut()
                .get_or(service, || policy.budget.budget()),
        )
    }

    /// Identifies, binds and resolves a request.
    ///
    /// # Errors
    /// 400 for a bad `l5d-dtab` or an unidentifiable request; 502 when the
    /// name does not bind to any endpoint.
    pub async fn route(
        &self,
        head: &h1::RequestHead,
        clear_context: bool,
    ) -> Result<Routed, RouteError> {
        let local = if clear_context {
            None
        } else {
            local_dtab(
                head.header_all("l5d-ctx-dtab")
                    .chain(head.header_all("l5d-dtab")),
            )?
        };
        let id = self.plan.identifiers.identify(&View(head)).map_err(|e| {
            ProxyError::downstream(e.status(), e.l5d_err(head.method(), head.target()))
        })?;
        let incoming = (!clear_context && head.headers().has_l5d_fields())
            .then(|| crate::resilience::Deadline::parse_all(head.header_all("l5d-ctx-deadline")))
            .flatten();
        let mut routed = self
            .route_path(&id.path, local, id.new_target, clear_context)
            .await?;
        routed.ctx_deadline = self.ctx_deadline(incoming);
        Ok(routed)
    }

    /// The `l5d-ctx-deadline` to send upstream: the strictest of `incoming` and this router's
    /// `totalTimeoutMs` from now; `None` when there is neither.
    fn ctx_deadline(&self, incoming: Option<crate::resilience::Deadline>) -> Option<String> {
        let total = self.plan.total_timeout;
        if incoming.is_none() && total.is_none() {
            return None;
        }
        let now = crate::resilience::deadline::now_ns();
        crate::resilience::Deadline::combine(incoming, total, now).map(|d| d.header_value())
    }

    /// Identifies, binds and resolves an HTTP/2 request (as [`Router::route`] an HTTP/1 one).
    ///
    /// # Errors
    /// As [`Router::route`].
    pub async fn route_h2(
        &self,
        head: &hawser_http2::RequestHead,
        clear_context: bool,
    ) -> Result<Routed, RouteError> {
        let local = if clear_context {
            None
        } else {
            local_dtab(h2_values(head, b"l5d-ctx-dtab").chain(h2_values(head, b"l5d-dtab")))?
        };
        let view = H2View(head);
        let id = self.plan.identifiers.identify(&view).map_err(|e| {
            ProxyError::downstream(e.status(), e.l5d_err(view.method(), view.target()))
        })?;
        let incoming = if clear_context {
            None
        } else {
            crate::resilience::Deadline::parse_all(h2_values(head, b"l5d-ctx-deadline"))
        };
        let mut routed = self
            .route_path(&id.path, local, id.new_target, clear_context)
            .await?;
        routed.ctx_deadline = self.ctx_deadline(incoming);
        Ok(routed)
    }

    /// Names a Thrift call (`dstPrefix`, plus `/METHOD` with `thriftMethodInDst`) and routes
    /// it like [`Router::route`] does an HTTP request's name. Thrift carries no per-call dtab.
    ///
    /// # Errors
    /// A method name that cannot be a path segment; no endpoints (as [`Router::route`]).
    pub async fn route_thrift(&self, method: &[u8]) -> Result<Routed, RouteError> {
        let Some(plan) = &self.plan.thrift else {
            return Err(ProxyError::proxy(500, "not a thrift router").into());
        };
        if !plan.method_in_dst {
            return self.route_path(&plan.prefix, None, None, false).await;
        }
        let Some(path) = plan.prefix.with_segments(&[method]) else {
            return Err(ProxyError::downstream(
                400,
                format!(
                    "method name `{}` cannot be a path segment (thriftMethodInDst)",
                    String::from_utf8_lossy(method)
                ),
            )
            .into());
        };
        self.route_path(&path, None, None, false).await
    }

    /// Binds a logical name (with the request's dtab appended to the router's) and resolves
    /// it to one concrete name's endpoints on this shard.
    ///
    /// # Errors
    /// 502 when the name does not bind to any endpoint.
    async fn route_path(
        &self,
        path: &Path,
        local: Option<String>,
        new_target: Option<String>,
        clear_context: bool,
    ) -> Result<Routed, RouteError> {
        let generation = self.namers.generation();
        let local_str = local.as_deref().unwrap_or("");
        let cached = {
            let mut cache = self.cache.borrow_mut();
            match cache.get(generation, local_str, path) {
                Some(r) => r.clone(),
                None => {
                    let dtab = match &local {
                        Some(l) => self
                            .plan
                            .dtab
                            .concat(&Dtab::read(l).unwrap_or_else(|_| Dtab::empty())),
                        None => self.plan.dtab.clone(),
                    };
                    let service: Rc<str> = path.to_string().into();
                    let namers = ShardNamers(&self.namers);
                    let mut resolution = resolve(&dtab, path, &namers);
                    for t in &self.plan.name_transforms {
                        resolution = match t {
                            NameTransform::Replace(p)
                                if matches!(resolution, Resolution::Weighted(_)) =>
                            {
                                resolve(&Dtab::empty(), p, &namers)
                            }
                            NameTransform::Replace(_) => resolution,
                            NameTransform::Const(p) => resolve(&Dtab::empty(), p, &namers),
                        };
                    }
                    let residuals = match &resolution {
                        Resolution::Weighted(branches) => branches
                            .iter()
                            .map(|(_, b)| {
                                b.as_ref()
                                    .filter(|b| !b.residual.is_empty())
                                    .map(|b| Rc::from(b.residual.to_string()))
                            })
                            .collect(),
                        _ => Vec::new(),
                    };
                    let r = Rc::new(CachedRoute {
                        resolution,
                        residuals,
                        stats: self.stats.service(&service),
                        budget: self.budget_for(&service),
                        service,
                    });
                    let bytes = r.resolution.heap_bytes()
                        + r.service.len()
                        + r.residuals.iter().flatten().map(|t| t.len()).sum::<usize>();
                    cache.insert_sized(generation, local_str, path, r.clone(), bytes);
                    r
                }
            }
        };
        let resolution = &cached.resolution;
        let service = cached.service.clone();
        let stats = cached.stats.clone();
        let budget = cached.budget.clone();
        let unavailable = |why: Option<String>| {
            let mut msg = no_hosts(&service, &self.base_dtab, local_str);
            if let Some(w) = why {
                msg.push_str(": ");
                msg.push_str(&w);
            }
            RouteError {
                error: ProxyError::proxy(502, msg),
                stats: Some(stats.clone()),
            }
        };
        let (bound, residual) = match resolution {
            Resolution::Weighted(branches) => {
                let i = resolution
                    .pick_index(fastrand::f64())
                    .ok_or_else(|| unavailable(None))?;
                let bound = branches[i].1.as_ref().ok_or_else(|| unavailable(None))?;
                (bound, cached.residuals.get(i).cloned().flatten())
            }
            Resolution::Error(e) => return Err(unavailable(Some(e.to_string()))),
            _ => return Err(unavailable(None)),
        };
        let target = self.endpoints_for(&bound.id, generation).await;
        Ok(Routed {
            service,
            stats,
            budget,
            target,
            residual,
            new_target,
            ctx_dtab: local,
            ctx_deadline: None,
            clear_context,
            base_dtab: self.base_dtab.clone(),
        })
    }

    /// The endpoint set of a concrete name on this shard, reusing
    /// [`Endpoint`]s (and their load counts) across namer updates.
    async fn endpoints_for(&self, id: &Path, generation: u64) -> Rc<Target> {
        {
            let mut cache = self.endpoints.borrow_mut();
            if cache.generation != generation {
                cache.generation = generation;
                cache.by_id.clear();
                cache.prune();
            }
            if let Some(t) = cache.by_id.get(id) {
                if let Some(dns) = &t.dns
                    && !dns.refreshing.get()
                    && crate::runtime::exec::now().saturating_duration_since(dns.resolved_at.get())
                        >= DNS_REFRESH
                {
                    dns.refreshing.set(true);
                    self.spawn_dns_refresh(id.clone(), dns.host.clone(), dns.port, generation);
                }
                return t.clone();
            }
        }
        let mut dns = None;
        let addrs: Vec<(SocketAddr, f64)> = if let Some(inet) = InetName::from_id(id) {
            match inet.host.parse::<IpAddr>() {
                Ok(ip) => vec![(SocketAddr::new(ip, inet.port), 1.0)],
                Err(_) => {
                    let (host, port) = (inet.host.to_string(), inet.port);
                    let Some(addrs) = resolve_host(host.clone(), port).await else {
                        // Too many lookups in flight: no endpoints for this
                        // request (502), and nothing cached, so a later one retries.
                        let client = id.to_string();
                        return Rc::new(Target {
                            stats: self.stats.client(&client),
                            requeue: self.plan.requeue.budget(),
                            client,
                            endpoints: EndpointSet::default(),
                            dns: None,
                        });
                    };
                    dns = Some((host, port));
                    addrs
                }
            }
        } else {
            match path_strs(id).map(|s| self.namers.lookup(&s)) {
                Some(NamerAnswer::Bound { addrs, .. }) => addrs,
                _ => Vec::new(),
            }
        };
        let mut cache = self.endpoints.borrow_mut();
        let target = cache.target(id, addrs, dns, &self.stats, &self.plan.requeue);
        cache.insert(id.clone(), target.clone());
        target
    }

    /// Resolves a `/$/inet` host name again in the background and swaps the
    /// cached target when the answer is non-empty and the namer generation
    /// has not moved on meanwhile.
    fn spawn_dns_refresh(&self, id: Path, host: String, port: u16, generation: u64) {
        let cache = self.endpoints.clone();
        let stats = self.stats.clone();
        let requeue = self.plan.requeue;
        crate::runtime::spawn_local(async move {
            // Busy: like a failed lookup, keep the current set and try again later.
            let addrs = resolve_host(host.clone(), port).await.unwrap_or_default();
            let mut cache = cache.borrow_mut();
            if cache.generation != generation {
                return;
            }
            if addrs.is_empty() {
                // Keep serving the last answer; try again after DNS_REFRESH.
                if let Some(dns) = cache.by_id.get(&id).and_then(|t| t.dns.as_ref()) {
                    dns.resolved_at.set(crate::runtime::exec::now());
                    dns.refreshing.set(false);
                }
                return;
            }
            let fresh = cache.target(&id, addrs, Some((host, port)), &stats, &requeue);
            cache.by_id.insert(id, fresh);
            cache.prune();
        })
        .detach();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_params() -> BudgetParams {
        BudgetParams {
            min_retries_per_sec: 10,
            percent_can_retry: 0.2,
            ttl: Duration::from_secs(10),
        }
    }

    #[test]
    fn endpoints_of_replaced_targets_are_pruned_unless_in_use() {
        let addr = |p: u16| SocketAddr::from(([127, 0, 0, 1], p));
        let id = Path::from_segments(["$", "inet", "h", "1"]).unwrap();
        let mut cache = EndpointCache::default();
        let stats = RouterStats::default();
        let rq = test_params();
        let t = cache.target(&id, vec![(addr(1), 1.0), (addr(2), 1.0)], None, &stats, &rq);
        cache.by_id.insert(id.clone(), t);
        // A request is still using endpoint 1 when the name moves to 2 and 3.
        let (ep, in_flight) = cache.by_id[&id]
            .endpoints
            .pick_with(|_| 0)
            .expect("an endpoint");
        assert_eq!(ep.addr, addr(1));
        drop(ep);
        let fresh = cache.target(&id, vec![(addr(2), 1.0), (addr(3), 1.0)], None, &stats, &rq);
        cache.by_id.insert(id.clone(), fresh);
        cache.prune();
        let mut kept: Vec<u16> = cache.by_addr.keys().map(|a| a.port()).collect();
        kept.sort_unstable();
        assert_eq!(kept, [1, 2, 3], "1 is still in flight");
        drop(in_flight);
        cache.prune();
        let mut kept: Vec<u16> = cache.by_addr.keys().map(|a| a.port()).collect();
        kept.sort_unstable();
        assert_eq!(kept, [2, 3]);
    }

    #[test]
    fn dns_lookups_in_flight_are_bounded_and_released_by_the_lookup() {
        let l = DnsLimiter::new(3);
        let permits: Vec<_> = (0..3).map(|_| l.try_acquire().expect("a permit")).collect();
        assert!(l.try_acquire().is_none(), "a fourth lookup must wait");
        assert!(
            l.try_acquire().is_none(),
            "a refused try does not leak a slot"
        );
        // Released on the lookup thread, when getaddrinfo returns.
        let one = permits.into_iter().next().unwrap();
        std::thread::spawn(move || drop(one)).join().unwrap();
        assert!(l.try_acquire().is_some());
    }

    #[test]
    fn client_chosen_names_cannot_grow_the_target_map_without_bound() {
        let mut cache = EndpointCache::default();
        let stats = RouterStats::default();
        for i in 0..=MAX_TARGETS {
            let port = u16::try_from(i % 60_000 + 1).unwrap();
            let id = Path::from_segments(["$", "inet", "127.0.0.1", &port.to_string()]).unwrap();
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let t = cache.target(&id, vec![(addr, 1.0)], None, &stats, &test_params());
            cache.insert(id, t);
            assert!(cache.by_id.len() <= MAX_TARGETS);
        }
        // Full at MAX_TARGETS: the next name cleared the map and the unused endpoints.
        assert_eq!(cache.by_id.len(), 1);
        assert_eq!(cache.by_addr.len(), 1);
    }

    #[test]
    fn reqid_is_sixteen_hex_digits() {
        assert_eq!(&super::hex16(0x0123_4567_89ab_cdef), b"0123456789abcdef");
        assert_eq!(&super::hex16(0), b"0000000000000000");
        assert_eq!(&super::hex16(u64::MAX), b"ffffffffffffffff");
    }
}
