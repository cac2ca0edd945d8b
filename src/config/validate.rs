//! The validated layer, top half: the document, `admin`, `runtime`, `namers`, `telemetry`,
//! `tracers`, and the checks that span sections (address conflicts, drain timeout spelled
//! twice). Routers are in `router.rs`.
//!
//! Validators read the raw tree with the toolkit in `walk.rs`, report every problem, and build
//! the typed config with defaults standing in for bad values; the caller keeps the typed config
//! only when nothing was reported.

use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use super::router::routers;
use super::schema::{self, kinds};
use super::spanned::{Position, Spanned};
use super::types::{
    AdminConfig, ByteSize, Config, FsNamerConfig, NamerConfig, PrometheusConfig,
    RecentRequestsConfig, RuntimeConfig,
};
use super::walk::{Ctx, child, index};
use super::yaml::Node;

/// Longest duration accepted for any `...Ms` key: one day.
pub(crate) const MAX_MS: i128 = 86_400_000;

/// Validates a parsed document and builds the typed config (meaningful only when `ctx` has no
/// diagnostics afterwards).
pub(crate) fn document(ctx: &mut Ctx<'_>, root: Option<&Node>) -> Config {
    let mut config = Config {
        admin: AdminConfig::default(),
        namers: Vec::new(),
        routers: Vec::new(),
        runtime: RuntimeConfig::default(),
        prometheus: None,
        influxdb: false,
        recent_requests: None,
        sources: ctx.file_names(),
    };
    let Some(root) = root.filter(|r| !r.is_null()) else {
        ctx.error(
            Position::new(1, 1),
            "",
            "the config is empty; it needs at least `routers`",
        );
        return config;
    };
    let Some(fields) = ctx.keys(root, "", &[schema::TOP], true) else {
        return config;
    };
    let mut listeners = Vec::new();
    let mut grace = None;
    let mut admin_pos = root.pos;
    if let Some(e) = fields.get("admin") {
        let (admin, g) = admin(ctx, &e.value);
        config.admin = admin;
        grace = g;
        admin_pos = e.key_pos;
    }
    listeners.push(Listener {
        addr: config.admin.addr(),
        path: "admin".into(),
        pos: admin_pos,
    });
    if let Some(e) = fields.get("runtime") {
        config.runtime = runtime(ctx, &e.value);
    }
    if let Some((grace, pos)) = grace {
        let drain_set = fields
            .get("runtime")
            .and_then(|r| ctx_free_lookup(&r.value, "drainTimeoutMs"));
        if let Some(drain_pos) = drain_set {
            let line = ctx.line_ref(drain_pos, pos);
            ctx.error(
                pos,
                "admin.shutdownGraceMs",
                format!(
                    "`admin.shutdownGraceMs` and `runtime.drainTimeoutMs` ({line}) both set the drain timeout; keep one"
                ),
            );
        } else {
            config.runtime.drain_timeout = grace;
        }
    }
    if let Some(e) = fields.get("namers") {
        config.namers = namers(ctx, &e.value);
    }
    if let Some(e) = fields.get("usage") {
        ctx.keys(&e.value, "usage", &[schema::USAGE], true);
    }
    if let Some(e) = fields.get("telemetry") {
        let t = telemetry(ctx, &e.value);
        config.prometheus = t.prometheus;
        config.influxdb = t.influxdb;
        config.recent_requests = t.recent_requests;
    }
    if let Some(e) = fields.get("tracers") {
        kind_list(ctx, &e.value, "tracers", "tracer", kinds::TRACERS);
    }
    match fields.get("routers") {
        Some(e) => config.routers = routers(ctx, &e.value, &mut listeners),
        None => ctx.error(
            root.pos,
            "routers",
            "the config needs `routers` (a list of routers)",
        ),
    }
    address_conflicts(ctx, &listeners);
    config
}

/// A socket hawser will bind, for conflict checks.
pub(crate) struct Listener {
    pub addr: SocketAddr,
    pub path: String,
    pub pos: Position,
}

/// Two listeners conflict when they share a port and an address, or one is the wildcard.
fn address_conflicts(ctx: &mut Ctx<'_>, listeners: &[Listener]) {
    for (i, l) in listeners.iter().enumerate() {
        let clash = listeners[..i].iter().find(|o| {
            o.addr.port() == l.addr.port()
                && (o.addr.ip() == l.addr.ip()
                    || o.addr.ip().is_unspecified()
                    || l.addr.ip().is_unspecified())
        });
        if let Some(o) = clash {
            let msg = format!(
                "{} listens on {}, which conflicts with {} ({}, {})",
                l.path,
                l.addr,
                o.path,
                o.addr,
                ctx.line_ref(o.pos, l.pos)
            );
            ctx.error(l.pos, &l.path, msg);
        }
    }
}

/// The position of `key` in a mapping node, without reporting anything.
fn ctx_free_lookup(node: &Node, key: &str) -> Option<Position> {
    match &node.value {
        super::yaml::Value::Map(m) => m.iter().find(|e| e.key == key).map(|e| e.key_pos),
        _ => None,
    }
}

/// `admin:`; also returns `shutdownGraceMs` (linkerd's spelling of the drain timeout).
fn admin(ctx: &mut Ctx<'_>, node: &Node) -> (AdminConfig, Option<(Duration, Position)>) {
    let mut admin = AdminConfig::default();
    let mut grace = None;
    let Some(f) = ctx.keys(node, "admin", &[schema::ADMIN], true) else {
        return (admin, grace);
    };
    if let Some(e) = f.get("ip")
        && let Some(ip) = ctx.ip(&e.value, "admin.ip")
    {
        admin.ip = ip;
    }
    if let Some(e) = f.get("port")
        && let Some(p) = ctx.int(&e.value, "admin.port", 1..=65535)
    {
        admin.port = p as u16;
    }
    if let Some(e) = f.get("shutdownGraceMs")
        && let Some(ms) = ctx.int(&e.value, "admin.shutdownGraceMs", 0..=MAX_MS)
    {
        grace = Some((Duration::from_millis(ms as u64), e.key_pos));
    }
    (admin, grace)
}

/// `runtime:`, hawser's own section.
fn runtime(ctx: &mut Ctx<'_>, node: &Node) -> RuntimeConfig {
    let mut rt = RuntimeConfig::default();
    let Some(f) = ctx.keys(node, "runtime", &[schema::RUNTIME], true) else {
        return rt;
    };
    if let Some(e) = f.get("cores")
        && let Some(n) = ctx.int(&e.value, "runtime.cores", 1..=4096)
    {
        rt.cores = NonZeroUsize::new(n as usize);
    }
    let min_kib = (RuntimeConfig::MIN_IO_MEMORY.as_bytes() / 1024) as i128;
    if let Some(e) = f.get("ioMemoryKiB")
        && let Some(n) = ctx.int(&e.value, "runtime.ioMemoryKiB", min_kib..=(1 << 30))
    {
        rt.io_memory = ByteSize::kib(n as u64);
    }
    if let Some(e) = f.get("drainTimeoutMs")
        && let Some(ms) = ctx.int(&e.value, "runtime.drainTimeoutMs", 0..=MAX_MS)
    {
        rt.drain_timeout = Duration::from_millis(ms as u64);
    }
    if let Some(e) = f.get("requestHeaderTimeoutMs")
        && let Some(ms) = ctx.int(&e.value, "runtime.requestHeaderTimeoutMs", 1..=MAX_MS)
    {
        rt.request_header_timeout = Duration::from_millis(ms as u64);
    }
    if let Some(e) = f.get("idleTimeoutMs")
        && let Some(ms) = ctx.int(&e.value, "runtime.idleTimeoutMs", 1..=MAX_MS)
    {
        rt.idle_timeout = Duration::from_millis(ms as u64);
    }
    if let Some(e) = f.get("maxHeaderCount")
        && let Some(n) = ctx.int(&e.value, "runtime.maxHeaderCount", 1..=10_000)
    {
        rt.max_header_count = n as usize;
    }
    if let Some(e) = f.get("spinBeforeParkUs")
        && let Some(us) = ctx.int(&e.value, "runtime.spinBeforeParkUs", 0..=10_000)
    {
        rt.spin_before_park = Duration::from_micros(us as u64);
    }
    rt
}

/// `namers:`: `io.l5d.fs` is supported; other linkerd namers are reported.
fn namers(ctx: &mut Ctx<'_>, node: &Node) -> Vec<NamerConfig> {
    let mut out: Vec<NamerConfig> = Vec::new();
    let Some(items) = ctx.list(node, "namers") else {
        return out;
    };
    for (i, item) in items.iter().enumerate() {
        let path = index("namers", i);
        let Some((kind, kind_pos)) = ctx.kind(item, &path, "namer") else {
            continue;
        };
        if kind != "io.l5d.fs" {
            ctx.unsupported_kind_of(kind, kind_pos, &path, "namer", kinds::NAMERS);
            continue;
        }
        let Some(f) = ctx.keys(item, &path, &[schema::NAMER_COMMON, schema::NAMER_FS], true) else {
            continue;
        };
        let prefix = match f.get("prefix") {
            Some(e) => namer_prefix(ctx, &e.value, &child(&path, "prefix")),
            None => Some(Spanned::new("/#/io.l5d.fs".to_string(), kind_pos)),
        };
        let root_dir = match f.get("rootDir") {
            Some(e) => match ctx.string(&e.value, &child(&path, "rootDir")) {
                Some("") => {
                    ctx.error(
                        e.value.pos,
                        &child(&path, "rootDir"),
                        "`rootDir` must not be empty",
                    );
                    None
                }
                other => other.map(PathBuf::from),
            },
            None => {
                ctx.error(
                    item.pos,
                    &child(&path, "rootDir"),
                    format!("`{path}` (io.l5d.fs) needs `rootDir`"),
                );
                None
            }
        };
        let (Some(prefix), Some(root_dir)) = (prefix, root_dir) else {
            continue;
        };
        if let Some(other) = out.iter().position(|n| n.prefix() == prefix.value) {
            let msg = format!(
                "namer prefix `{}` is already used by namers[{other}]",
                prefix.value
            );
            ctx.error(prefix.pos, &child(&path, "prefix"), msg);
            continue;
        }
        out.push(NamerConfig::Fs(FsNamerConfig { prefix, root_dir }));
    }
    out
}

/// A namer `prefix` as linkerd writes it (`/name`, without `/#`), returned as the full
/// `/#/name` path dtabs use.
fn namer_prefix(ctx: &mut Ctx<'_>, node: &Node, path: &str) -> Option<Spanned<String>> {
    let text = ctx.string(node, path)?.trim();
    if text.starts_with("/#/") || text == "/#" {
        let msg = format!(
            "`{path}` is written without `/#` (`prefix: /disco` is referenced as `/#/disco`), found `{text}`"
        );
        ctx.error(node.pos, path, msg);
        return None;
    }
    let valid = text.starts_with('/')
        && text.len() > 1
        && text[1..]
            .split('/')
            .all(|seg| !seg.is_empty() && !seg.chars().any(char::is_whitespace));
    if !valid {
        let msg = format!("`{path}` must be a path like `/io.l5d.fs`, found `{text}`");
        ctx.error(node.pos, path, msg);
        return None;
    }
    Some(Spanned::new(format!("/#{text}"), node.pos))
}

/// A list of `kind:` objects none of which hawser supports (telemeters, tracers): each is
/// reported at its kind.
/// The telemeters hawser supports.
#[derive(Default)]
struct Telemetry {
    prometheus: Option<PrometheusConfig>,
    influxdb: bool,
    recent_requests: Option<RecentRequestsConfig>,
}

/// `telemetry:`: `io.l5d.prometheus` (one of it), `io.l5d.influxdb` and
/// `io.l5d.recentRequests` (one of it) are supported; other telemeters are reported.
fn telemetry(ctx: &mut Ctx<'_>, node: &Node) -> Telemetry {
    let Some(items) = ctx.list(node, "telemetry") else {
        return Telemetry::default();
    };
    let mut out: Option<(PrometheusConfig, Position)> = None;
    let mut influxdb = false;
    let mut recent: Option<(RecentRequestsConfig, Position)> = None;
    for (i, item) in items.iter().enumerate() {
        let p = index("telemetry", i);
        let Some((kind, pos)) = ctx.kind(item, &p, "telemeter") else {
            continue;
        };
        if kind == "io.l5d.recentRequests" {
            let Some(f) = ctx.keys(item, &p, &[schema::TELEMETER_RECENT], true) else {
                continue;
            };
            if let Some((_, first)) = &recent {
                let msg = format!(
                    "{p}: a second `io.l5d.recentRequests` telemeter ({}); keep one",
                    ctx.line_ref(*first, pos)
                );
                ctx.error(pos, &p, msg);
                continue;
            }
            // linkerd refuses a config without `sampleRate` ("must be between 0.0 and 1.0").
            let rate = match f.get("sampleRate") {
                Some(e) => ctx.number(&e.value, &child(&p, "sampleRate"), 0.0, 1.0),
                None => {
                    let msg = format!("`{p}` needs `sampleRate` (0 to 1)");
                    ctx.error(pos, &p, msg);
                    None
                }
            };
            let mut capacity = Some(10);
            if let Some(e) = f.get("capacity") {
                capacity = ctx
                    .int(&e.value, &child(&p, "capacity"), 1..=10_000)
                    .map(|n| n as usize);
            }
            if let (Some(sample_rate), Some(capacity)) = (rate, capacity) {
                let r = RecentRequestsConfig {
                    sample_rate,
                    capacity,
                };
                recent = Some((r, pos));
            }
            continue;
        }
        if kind == "io.l5d.influxdb" {
            // It has no settings of its own; a second one changes nothing.
            if ctx
                .keys(item, &p, &[schema::TELEMETER_INFLUXDB], true)
                .is_some()
            {
                influxdb = true;
            }
            continue;
        }
        if kind != "io.l5d.prometheus" {
            ctx.unsupported_kind_of(kind, pos, &p, "telemeter", kinds::TELEMETERS);
            continue;
        }
        let Some(f) = ctx.keys(item, &p, &[schema::TELEMETER_PROMETHEUS], true) else {
            continue;
        };
        if let Some((_, first)) = &out {
            let msg = format!(
                "{p}: a second `io.l5d.prometheus` telemeter ({}); keep one",
                ctx.line_ref(*first, pos)
            );
            ctx.error(pos, &p, msg);
            continue;
        }
        let mut prom = PrometheusConfig::default();
        if let Some(e) = f.get("path")
            && let Some(v) = ctx.string(&e.value, &child(&p, "path"))
        {
            if v.starts_with('/') && v.bytes().all(|b| b.is_ascii_graphic() && b != b'?') {
                prom.path = v.to_string();
            } else {
                let msg = format!("`{p}.path` must be a URL path starting with `/`, found `{v}`");
                ctx.error(e.value.pos, &child(&p, "path"), msg);
            }
        }
        if let Some(e) = f.get("prefix")
            && let Some(v) = ctx.string(&e.value, &child(&p, "prefix"))
        {
            let ok = v.bytes().enumerate().all(|(i, b)| {
                b.is_ascii_alphabetic() || b == b'_' || b == b':' || (i > 0 && b.is_ascii_digit())
            });
            if ok {
                prom.prefix = v.to_string();
            } else {
                let msg = format!(
                    "`{p}.prefix` must be a Prometheus metric name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*), found `{v}`"
                );
                ctx.error(e.value.pos, &child(&p, "prefix"), msg);
            }
        }
        out = Some((prom, pos));
    }
    Telemetry {
        prometheus: out.map(|(p, _)| p),
        influxdb,
        recent_requests: recent.map(|(r, _)| r),
    }
}

fn kind_list(ctx: &mut Ctx<'_>, node: &Node, path: &str, section: &str, known: &[&str]) {
    let Some(items) = ctx.list(node, path) else {
        return;
    };
    for (i, item) in items.iter().enumerate() {
        let p = index(path, i);
        if let Some((kind, pos)) = ctx.kind(item, &p, section) {
            ctx.unsupported_kind_of(kind, pos, &p, section, known);
        }
    }
}
