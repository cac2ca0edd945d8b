//! The validated layer, routers: `routers[]` with their servers, identifiers, client, service
//! and interpreter.
//!
//! `protocol: http` and `protocol: thrift` routers are typed. Routers of other linkerd protocols
//! are reported as unsupported once, at their `protocol`, and their keys are still checked
//! against linkerd's so misspellings are caught; their insides are not typed. A router without `protocol` whose
//! servers carry `dstName` is a linkerd-tcp router (linkerd's examples include one) and is
//! reported as such.

use std::num::NonZeroUsize;
use std::time::Duration;

use super::schema::{self, Keys, kinds};
use super::spanned::{Position, Spanned};
use super::types::{
    AccrualConfig, AccrualPolicyConfig, BackoffConfig, BalancerConfig, BudgetConfig, ByteSize,
    ClientConfig, H2Settings, IdentifierConfig, PoolConfig, Protocol, RetriesConfig, RouterConfig,
    ServerConfig, ServiceConfig, ThriftRouterConfig, TransformerConfig,
};
use super::validate::{Listener, MAX_MS};
use super::walk::{Ctx, child, index};
use super::yaml::{Node, Value};

/// Most `maxInitialLineKB` / `maxHeadersKB` accepted: 1 MiB.
const MAX_KB: i128 = 1024;

pub(crate) fn routers(
    ctx: &mut Ctx<'_>,
    node: &Node,
    listeners: &mut Vec<Listener>,
) -> Vec<RouterConfig> {
    let mut out = Vec::new();
    let Some(items) = ctx.list(node, "routers") else {
        return out;
    };
    if items.is_empty() {
        ctx.error(
            node.pos,
            "routers",
            "`routers` must list at least one router",
        );
    }
    let mut labels: Vec<(String, String, Position)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = index("routers", i);
        let Some(entries) = ctx.mapping(item, &path) else {
            continue;
        };
        let Some(proto_entry) = entries.iter().find(|e| e.key == "protocol") else {
            missing_protocol(ctx, item, &path);
            continue;
        };
        let ppath = child(&path, "protocol");
        let Some(protocol) = ctx.string(&proto_entry.value, &ppath) else {
            continue;
        };
        let label = router_label(ctx, item, &path, protocol);
        if let Some((label, pos)) = label {
            if let Some((_, other, other_pos)) = labels.iter().find(|(l, _, _)| *l == label) {
                let msg = format!(
                    "router label `{label}` is already used by {other} ({}); give each router a distinct `label`",
                    ctx.line_ref(*other_pos, pos)
                );
                ctx.error(pos, &child(&path, "label"), msg);
            }
            labels.push((label, path.clone(), pos));
        }
        let typed = match protocol {
            "http" => Some(Protocol::Http),
            "thrift" => Some(Protocol::Thrift),
            "h2" => Some(Protocol::H2),
            _ => None,
        };
        if let Some(protocol) = typed {
            if let Some(r) = typed_router(ctx, item, &path, listeners, protocol) {
                out.push(r);
            }
        } else if schema::PROTOCOLS.contains(&protocol) {
            let msg = format!(
                "`protocol: {protocol}` ({path}) is a linkerd 1.x feature hawser does not support yet"
            );
            ctx.unsupported(proto_entry.value.pos, &ppath, msg);
            let tables = [
                schema::ROUTER_COMMON,
                schema::router_protocol_keys(protocol),
            ];
            ctx.keys(item, &path, &tables, false);
        } else {
            ctx.unknown_kind(
                protocol,
                proto_entry.value.pos,
                &path,
                "router protocol",
                schema::PROTOCOLS,
            );
        }
    }
    out
}

/// The router's label (default: its protocol) and where it is written.
fn router_label(
    ctx: &mut Ctx<'_>,
    item: &Node,
    path: &str,
    protocol: &str,
) -> Option<(String, Position)> {
    let Value::Map(entries) = &item.value else {
        return None;
    };
    match entries.iter().find(|e| e.key == "label") {
        Some(e) => {
            let label = ctx.string(&e.value, &child(path, "label"))?;
            if label.is_empty() {
                ctx.error(
                    e.value.pos,
                    &child(path, "label"),
                    "`label` must not be empty",
                );
                return None;
            }
            Some((label.to_string(), e.value.pos))
        }
        None => Some((protocol.to_string(), item.pos)),
    }
}

fn missing_protocol(ctx: &mut Ctx<'_>, item: &Node, path: &str) {
    let is_tcp = match &item.value {
        Value::Map(entries) => entries.iter().any(|e| {
            e.key == "servers"
                && matches!(&e.value.value, Value::Seq(servers) if servers.iter().any(|s| {
                    matches!(&s.value, Value::Map(m) if m.iter().any(|k| k.key == "dstName"))
                }))
        }),
        _ => false,
    };
    if is_tcp {
        let msg = format!(
            "{path} has no `protocol` and its servers name a `dstName`: it is a linkerd-tcp router; linkerd-tcp configs are not supported yet"
        );
        ctx.unsupported(item.pos, path, msg);
    } else {
        let msg = format!(
            "{path} needs a `protocol` (one of {})",
            schema::PROTOCOLS.join(", ")
        );
        ctx.error(item.pos, &child(path, "protocol"), msg);
    }
}

fn typed_router(
    ctx: &mut Ctx<'_>,
    item: &Node,
    path: &str,
    listeners: &mut Vec<Listener>,
    protocol: Protocol,
) -> Option<RouterConfig> {
    let own = schema::router_protocol_keys(protocol.name());
    let f = ctx.keys(item, path, &[schema::ROUTER_COMMON, own], true)?;
    let mut r = RouterConfig {
        protocol,
        label: protocol.name().into(),
        dtab: Spanned::new(String::new(), item.pos),
        dst_prefix: Spanned::new("/svc".into(), item.pos),
        identifiers: match protocol {
            Protocol::Http => vec![IdentifierConfig::default()],
            Protocol::H2 => vec![IdentifierConfig::HeaderToken {
                header: ":authority".into(),
            }],
            Protocol::Thrift => Vec::new(),
        },
        servers: Vec::new(),
        max_initial_line: ByteSize::kib(4),
        max_headers: ByteSize::kib(8),
        transformers: Vec::new(),
        client: ClientConfig::default(),
        service: ServiceConfig::default(),
        thrift: (protocol == Protocol::Thrift).then(ThriftRouterConfig::default),
    };
    if let Some(e) = f.get("label")
        && let Value::Scalar(s) = &e.value.value
    {
        r.label = s.text.clone();
    }
    if let Some(e) = f.get("dtab") {
        let p = child(path, "dtab");
        match &e.value.value {
            Value::Scalar(s) if !e.value.is_null() => {
                r.dtab = Spanned::from_scalar(s, e.value.pos, ctx.source_text(e.value.pos));
            }
            Value::Scalar(_) => {}
            _ => {
                ctx.string(&e.value, &p);
            }
        }
    }
    if let Some(e) = f.get("dstPrefix") {
        let p = child(path, "dstPrefix");
        if let Value::Scalar(s) = &e.value.value
            && let Some(text) = ctx.string(&e.value, &p)
        {
            if text.starts_with('/') && !text.contains(char::is_whitespace) {
                r.dst_prefix = Spanned::from_scalar(s, e.value.pos, ctx.source_text(e.value.pos));
            } else {
                ctx.error(
                    e.value.pos,
                    &p,
                    format!("`{p}` must be a path starting with `/`, found `{text}`"),
                );
            }
        } else if !matches!(e.value.value, Value::Scalar(_)) {
            ctx.string(&e.value, &p);
        }
    }
    if let Some(e) = f.get("identifier") {
        let defaults = r.identifiers.clone();
        r.identifiers = identifiers(ctx, &e.value, &child(path, "identifier"), protocol);
        if r.identifiers.is_empty() {
            r.identifiers = defaults;
        }
    }
    if let Some(thrift) = &mut r.thrift {
        if let Some(e) = f.get("thriftMethodInDst")
            && let Some(b) = ctx.bool(&e.value, &child(path, "thriftMethodInDst"))
        {
            thrift.method_in_dst = b;
        }
        if let Some(e) = f.get("thriftProtocol") {
            thrift_protocol(ctx, &e.value, &child(path, "thriftProtocol"));
        }
    }
    match f.get("servers") {
        Some(e) => {
            r.servers = servers(ctx, &e.value, &child(path, "servers"), listeners, protocol);
        }
        None => ctx.error(
            item.pos,
            &child(path, "servers"),
            format!("{path} needs `servers`"),
        ),
    }
    if let Some(e) = f.get("maxInitialLineKB")
        && let Some(kb) = ctx.int(&e.value, &child(path, "maxInitialLineKB"), 1..=MAX_KB)
    {
        r.max_initial_line = ByteSize::kib(kb as u64);
    }
    if let Some(e) = f.get("maxHeadersKB")
        && let Some(kb) = ctx.int(&e.value, &child(path, "maxHeadersKB"), 1..=MAX_KB)
    {
        r.max_headers = ByteSize::kib(kb as u64);
    }
    if let Some(e) = f.get("streamingEnabled")
        && ctx.bool(&e.value, &child(path, "streamingEnabled")) == Some(false)
    {
        let p = child(path, "streamingEnabled");
        ctx.unsupported(
            e.value.pos,
            &p,
            "`streamingEnabled: false` (buffering whole messages) is a linkerd 1.x feature hawser does not support yet; hawser always streams",
        );
    }
    if let Some(e) = f.get("client") {
        r.client = client(ctx, &e.value, &child(path, "client"), protocol);
    }
    if let Some(e) = f.get("service") {
        r.service = service(ctx, &e.value, &child(path, "service"), protocol);
    }
    if let Some(e) = f.get("interpreter") {
        r.transformers = interpreter(ctx, &e.value, &child(path, "interpreter"));
    }
    Some(r)
}

fn identifiers(
    ctx: &mut Ctx<'_>,
    node: &Node,
    path: &str,
    protocol: Protocol,
) -> Vec<IdentifierConfig> {
    let one = std::slice::from_ref(node);
    let (items, indexed) = match &node.value {
        Value::Seq(items) => (items.as_slice(), true),
        _ => (one, false),
    };
    if items.is_empty() {
        ctx.error(
            node.pos,
            path,
            format!("`{path}` must list at least one identifier"),
        );
    }
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let p = if indexed {
            index(path, i)
        } else {
            path.to_string()
        };
        let id = if protocol == Protocol::H2 {
            h2_identifier(ctx, item, &p)
        } else {
            identifier(ctx, item, &p)
        };
        if let Some(id) = id {
            out.push(id);
        }
    }
    out
}

/// An h2 router's identifier: `io.l5d.header.token` (default header `:authority`),
/// `io.l5d.header.path` (default header `:path`, `segments` optional) and `io.l5d.header`.
fn h2_identifier(ctx: &mut Ctx<'_>, node: &Node, path: &str) -> Option<IdentifierConfig> {
    let (kind, kind_pos) = ctx.kind(node, path, "identifier")?;
    let table: Keys = match kind {
        "io.l5d.header.token" => schema::IDENT_HEADER_TOKEN,
        "io.l5d.header.path" => schema::IDENT_HEADER_PATH,
        "io.l5d.header" => schema::IDENT_HEADER,
        k if kinds::HTTP_IDENTIFIERS.contains(&k) && !kinds::H2_IDENTIFIERS.contains(&k) => {
            let msg = format!(
                "`{k}` is an http identifier; h2 routers have io.l5d.header.token, io.l5d.header.path and io.l5d.header"
            );
            ctx.error(kind_pos, &child(path, "kind"), msg);
            return None;
        }
        k => {
            ctx.unsupported_kind_of(k, kind_pos, path, "identifier", kinds::H2_IDENTIFIERS);
            return None;
        }
    };
    let f = ctx.keys(node, path, &[table], true)?;
    let header = |ctx: &mut Ctx<'_>, default: &str| header_key(ctx, &f, path, default, true);
    Some(match kind {
        "io.l5d.header.token" => IdentifierConfig::HeaderToken {
            header: header(ctx, ":authority")?,
        },
        "io.l5d.header" => IdentifierConfig::Header {
            header: header(ctx, "l5d-name")?,
        },
        _ => {
            let segments = match f.get("segments") {
                Some(e) => Some(ctx.int(&e.value, &child(path, "segments"), 1..=1000)?),
                None => None,
            };
            IdentifierConfig::HeaderPath {
                header: header(ctx, ":path")?,
                segments: segments.and_then(|n| NonZeroUsize::new(n as usize)),
            }
        }
    })
}

fn identifier(ctx: &mut Ctx<'_>, node: &Node, path: &str) -> Option<IdentifierConfig> {
    let (kind, kind_pos) = ctx.kind(node, path, "identifier")?;
    let table: Keys = match kind {
        "io.l5d.header.token" => schema::IDENT_HEADER_TOKEN,
        "io.l5d.methodAndHost" => schema::IDENT_METHOD_AND_HOST,
        "io.l5d.path" => schema::IDENT_PATH,
        "io.l5d.header" => schema::IDENT_HEADER,
        k if kinds::H2_ONLY_IDENTIFIERS.contains(&k) => {
            let msg = format!(
                "`{k}` is an h2 identifier; http routers have io.l5d.header.token, io.l5d.methodAndHost, io.l5d.path and io.l5d.header"
            );
            ctx.error(kind_pos, &child(path, "kind"), msg);
            return None;
        }
        k => {
            ctx.unsupported_kind_of(k, kind_pos, path, "identifier", kinds::HTTP_IDENTIFIERS);
            return None;
        }
    };
    let f = ctx.keys(node, path, &[table], true)?;
    let header = |ctx: &mut Ctx<'_>, default: &str| header_key(ctx, &f, path, default, false);
    let flag = |ctx: &mut Ctx<'_>, key: &str| -> Option<bool> {
        match f.get(key) {
            Some(e) => ctx.bool(&e.value, &child(path, key)),
            None => Some(false),
        }
    };
    Some(match kind {
        "io.l5d.header.token" => IdentifierConfig::HeaderToken {
            header: header(ctx, "Host")?,
        },
        "io.l5d.header" => IdentifierConfig::Header {
            header: header(ctx, "l5d-name")?,
        },
        "io.l5d.methodAndHost" => IdentifierConfig::MethodAndHost {
            http_uri_in_dst: flag(ctx, "httpUriInDst")?,
        },
        _ => {
            let segments = match f.get("segments") {
                Some(e) => ctx.int(&e.value, &child(path, "segments"), 1..=1000)?,
                None => 1,
            };
            IdentifierConfig::Path {
                segments: NonZeroUsize::new(segments as usize)?,
                consume: flag(ctx, "consume")?,
            }
        }
    })
}

/// An identifier's `header` key (or `default`): an HTTP field name; for h2 (`h2`) also a
/// pseudo-header (`:authority`), lower-cased as HTTP/2 sends names.
fn header_key(
    ctx: &mut Ctx<'_>,
    f: &super::walk::Fields<'_>,
    path: &str,
    default: &str,
    h2: bool,
) -> Option<String> {
    let Some(e) = f.get("header") else {
        return Some(default.to_string());
    };
    let p = child(path, "header");
    let h = ctx.string(&e.value, &p)?;
    let name = if h2 {
        h.strip_prefix(':').unwrap_or(h)
    } else {
        h
    };
    if name.is_empty() || !name.bytes().all(is_tchar) {
        let what = if h2 {
            "an HTTP/2 field"
        } else {
            "an HTTP header"
        };
        ctx.error(
            e.value.pos,
            &p,
            format!("`{p}` must be {what} name, found `{h}`"),
        );
        return None;
    }
    Some(if h2 {
        h.to_ascii_lowercase()
    } else {
        h.to_string()
    })
}

/// RFC 9110 token characters (header field names).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// `thriftProtocol`: `binary` is what hawser speaks; `compact` is reported.
fn thrift_protocol(ctx: &mut Ctx<'_>, node: &Node, path: &str) {
    match ctx.string(node, path) {
        Some("binary") | None => {}
        Some("compact") => ctx.unsupported(
            node.pos,
            path,
            format!("`{path}: compact` (TCompactProtocol) is a linkerd 1.x feature hawser does not support yet; hawser speaks `binary`"),
        ),
        Some(other) => {
            let msg = format!("`{path}` must be `binary` or `compact`, found `{other}`");
            ctx.error(node.pos, path, msg);
        }
    }
}

/// `thriftFramed` (servers and client): the framed transport is what hawser speaks; `false`
/// (the buffered transport) is reported.
fn thrift_framed(ctx: &mut Ctx<'_>, f: &super::walk::Fields<'_>, path: &str) {
    if let Some(e) = f.get("thriftFramed") {
        let p = child(path, "thriftFramed");
        if ctx.bool(&e.value, &p) == Some(false) {
            ctx.unsupported(
                e.value.pos,
                &p,
                format!("`{p}: false` (the buffered, unframed Thrift transport) is a linkerd 1.x feature hawser does not support yet; hawser speaks the framed transport"),
            );
        }
    }
    if let Some(e) = f.get("thriftProtocol") {
        thrift_protocol(ctx, &e.value, &child(path, "thriftProtocol"));
    }
}

/// The HTTP/2 settings keys of an h2 server or client.
fn h2_settings(ctx: &mut Ctx<'_>, f: &super::walk::Fields<'_>, path: &str) -> H2Settings {
    let mut h = H2Settings::default();
    let int = |ctx: &mut Ctx<'_>, key: &str, range: std::ops::RangeInclusive<i128>| {
        f.get(key)
            .and_then(|e| ctx.int(&e.value, &child(path, key), range))
            .map(|v| v as u32)
    };
    h.max_concurrent_streams = int(ctx, "maxConcurrentStreamsPerConnection", 1..=1_000_000);
    h.initial_stream_window = int(ctx, "initialStreamWindowBytes", 1..=0x7fff_ffff);
    h.max_frame = int(ctx, "maxFrameBytes", 16_384..=16_777_215);
    h.max_header_list = int(ctx, "maxHeaderListBytes", 1..=16 << 20);
    h.header_table = int(ctx, "headerTableBytes", 0..=1 << 20);
    h
}

fn servers(
    ctx: &mut Ctx<'_>,
    node: &Node,
    path: &str,
    listeners: &mut Vec<Listener>,
    protocol: Protocol,
) -> Vec<ServerConfig> {
    let mut out = Vec::new();
    let Some(items) = ctx.list(node, path) else {
        return out;
    };
    if items.is_empty() {
        ctx.error(
            node.pos,
            path,
            format!("`{path}` must list at least one server"),
        );
    }
    for (i, item) in items.iter().enumerate() {
        let p = index(path, i);
        let own = match protocol {
            Protocol::Http => schema::SERVER_HTTP,
            Protocol::Thrift => schema::SERVER_THRIFT,
            Protocol::H2 => schema::SERVER_H2,
        };
        let Some(f) = ctx.keys(item, &p, &[schema::SERVER_COMMON, own], true) else {
            continue;
        };
        if protocol == Protocol::Thrift {
            thrift_framed(ctx, &f, &p);
        }
        let mut s = ServerConfig {
            ip: std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
            port: protocol.default_port(),
            clear_context: false,
            h2: (protocol == Protocol::H2).then(|| h2_settings(ctx, &f, &p)),
        };
        let mut ok = true;
        if let Some(e) = f.get("ip") {
            match ctx.ip(&e.value, &child(&p, "ip")) {
                Some(ip) => s.ip = ip,
                None => ok = false,
            }
        }
        if let Some(e) = f.get("port") {
            match ctx.int(&e.value, &child(&p, "port"), 1..=65535) {
                Some(port) => s.port = port as u16,
                None => ok = false,
            }
        }
        if let Some(e) = f.get("clearContext")
            && let Some(b) = ctx.bool(&e.value, &child(&p, "clearContext"))
        {
            s.clear_context = b;
        }
        if ok {
            listeners.push(Listener {
                addr: s.addr(),
                path: p.clone(),
                pos: item.pos,
            });
        }
        out.push(s);
    }
    out
}

fn client(ctx: &mut Ctx<'_>, node: &Node, path: &str, protocol: Protocol) -> ClientConfig {
    let mut c = ClientConfig::default();
    let own = match protocol {
        Protocol::Http => schema::CLIENT_HTTP,
        Protocol::Thrift => schema::CLIENT_THRIFT,
        Protocol::H2 => schema::CLIENT_H2,
    };
    let Some(f) = ctx.keys(node, path, &[schema::CLIENT_COMMON, own], true) else {
        return c;
    };
    if protocol == Protocol::H2 {
        c.h2 = Some(h2_settings(ctx, &f, path));
    }
    if protocol == Protocol::Thrift {
        thrift_framed(ctx, &f, path);
        if let Some(e) = f.get("attemptTTwitterUpgrade") {
            let p = child(path, "attemptTTwitterUpgrade");
            if ctx.bool(&e.value, &p) == Some(true) {
                ctx.unsupported(
                    e.value.pos,
                    &p,
                    format!("`{p}: true` (the TTwitter protocol upgrade) is a linkerd 1.x feature hawser does not support yet"),
                );
            }
        }
    }
    if !global_or_static(ctx, &f, path, "client") {
        return c;
    }
    if let Some(e) = f.get("connectTimeoutMs")
        && let Some(ms) = ctx.int(&e.value, &child(path, "connectTimeoutMs"), 1..=MAX_MS)
    {
        c.connect_timeout = Duration::from_millis(ms as u64);
    }
    if let Some(e) = f.get("hostConnectionPool") {
        c.pool = pool(ctx, &e.value, &child(path, "hostConnectionPool"));
    }
    if let Some(e) = f.get("requeueBudget") {
        c.requeue_budget = budget(ctx, &e.value, &child(path, "requeueBudget"));
    }
    if let Some(e) = f.get("loadBalancer") {
        let p = child(path, "loadBalancer");
        if let Some(b) = load_balancer(ctx, &e.value, &p) {
            c.load_balancer = b;
        }
    }
    if let Some(e) = f.get("failureAccrual") {
        let p = child(path, "failureAccrual");
        if let Some((kind, pos)) = ctx.kind(&e.value, &p, "failureAccrual") {
            match kind {
                "none" => c.failure_accrual = None,
                "io.l5d.consecutiveFailures" => {
                    if let Some(a) = ctx.keys(&e.value, &p, &[schema::ACCRUAL_CONSECUTIVE], true) {
                        let mut acc = AccrualConfig::default();
                        if let Some(e) = a.get("failures")
                            && let Some(n) =
                                ctx.int(&e.value, &child(&p, "failures"), 1..=1_000_000)
                        {
                            acc.policy =
                                AccrualPolicyConfig::ConsecutiveFailures { failures: n as u32 };
                        }
                        if let Some(e) = a.get("backoff")
                            && let Some(b) = backoff(ctx, &e.value, &child(&p, "backoff"))
                        {
                            acc.backoff = b;
                        }
                        c.failure_accrual = Some(acc);
                    }
                }
                "io.l5d.successRate" | "io.l5d.successRateWindowed" => {
                    let windowed = kind == "io.l5d.successRateWindowed";
                    let keys = if windowed {
                        schema::ACCRUAL_SUCCESS_RATE_WINDOWED
                    } else {
                        schema::ACCRUAL_SUCCESS_RATE
                    };
                    if let Some(a) = ctx.keys(&e.value, &p, &[keys], true) {
                        // Both are required in linkerd (its config has no defaults for them).
                        let rate = match a.get("successRate") {
                            Some(e) => ctx.number(&e.value, &child(&p, "successRate"), 0.0, 1.0),
                            None => {
                                let msg = format!("`{p}` needs `successRate` (0 to 1)");
                                ctx.error(pos, &p, msg);
                                None
                            }
                        };
                        let (key, what) = if windowed {
                            ("window", "the window, in seconds")
                        } else {
                            ("requests", "the window, in requests")
                        };
                        let requests = match a.get(key) {
                            Some(e) => ctx.int(&e.value, &child(&p, key), 1..=1_000_000),
                            None => {
                                let msg = format!("`{p}` needs `{key}` ({what})");
                                ctx.error(pos, &p, msg);
                                None
                            }
                        };
                        let mut acc = AccrualConfig::default();
                        if let Some(e) = a.get("backoff")
                            && let Some(b) = backoff(ctx, &e.value, &child(&p, "backoff"))
                        {
                            acc.backoff = b;
                        }
                        if let (Some(rate), Some(n)) = (rate, requests) {
                            acc.policy = if windowed {
                                AccrualPolicyConfig::SuccessRateWindowed {
                                    success_rate: rate,
                                    window: n as u32,
                                }
                            } else {
                                AccrualPolicyConfig::SuccessRate {
                                    success_rate: rate,
                                    requests: n as u32,
                                }
                            };
                            c.failure_accrual = Some(acc);
                        }
                    }
                }
                other => {
                    let other = other.to_string();
                    ctx.unsupported_kind_of(
                        &other,
                        pos,
                        &p,
                        "failureAccrual",
                        kinds::FAILURE_ACCRUAL,
                    );
                }
            }
        }
    }
    c
}

/// `client.loadBalancer`: linkerd's kinds; `aperture` is reported (not supported yet), as is
/// `enableProbation: true` (hawser drops an endpoint as soon as the namer does).
fn load_balancer(ctx: &mut Ctx<'_>, node: &Node, p: &str) -> Option<BalancerConfig> {
    let (kind, pos) = ctx.kind(node, p, "loadBalancer")?;
    let keys = match kind {
        "p2c" | "roundRobin" => schema::BALANCER_P2C,
        "ewma" => schema::BALANCER_EWMA,
        "heap" => schema::BALANCER_HEAP,
        "aperture" => {
            ctx.keys(node, p, &[schema::BALANCER_APERTURE], true);
            ctx.unsupported_kind(pos, p, "loadBalancer", "aperture");
            return None;
        }
        other => {
            let other = other.to_string();
            ctx.unsupported_kind_of(
                &other,
                pos,
                p,
                "loadBalancer",
                &["p2c", "ewma", "aperture", "heap", "roundRobin"],
            );
            return None;
        }
    };
    let kind = kind.to_string();
    let f = ctx.keys(node, p, &[keys], true)?;
    if let Some(e) = f.get("enableProbation")
        && ctx.bool(&e.value, &child(p, "enableProbation")) == Some(true)
    {
        ctx.unsupported_key(e.value.pos, p, "enableProbation: true");
    }
    let mut max_effort = 5;
    if let Some(e) = f.get("maxEffort")
        && let Some(n) = ctx.int(&e.value, &child(p, "maxEffort"), 0..=100)
    {
        max_effort = n as u32;
    }
    Some(match kind.as_str() {
        "p2c" => BalancerConfig::P2c { max_effort },
        "roundRobin" => BalancerConfig::RoundRobin { max_effort },
        "heap" => BalancerConfig::Heap,
        _ => {
            let mut decay_ms = 10_000;
            if let Some(e) = f.get("decayTimeMs")
                && let Some(n) = ctx.int(&e.value, &child(p, "decayTimeMs"), 1..=3_600_000)
            {
                decay_ms = n as u64;
            }
            BalancerConfig::Ewma {
                max_effort,
                decay_ms,
            }
        }
    })
}

/// `kind` and `configs` of a client or service: `io.l5d.global` (the default) is supported,
/// `io.l5d.static` is reported. Returns whether the section is global.
fn global_or_static(
    ctx: &mut Ctx<'_>,
    f: &super::walk::Fields<'_>,
    path: &str,
    section: &str,
) -> bool {
    const KINDS: &[&str] = &["io.l5d.global", "io.l5d.static"];
    let mut global = true;
    if let Some(e) = f.get("kind") {
        let kp = child(path, "kind");
        match ctx.string(&e.value, &kp) {
            Some("io.l5d.global") => {}
            Some("io.l5d.static") => {
                let msg = format!(
                    "`kind: io.l5d.static` ({section}: settings per prefix in `configs`) is a linkerd 1.x feature hawser does not support yet"
                );
                ctx.unsupported(e.value.pos, &kp, msg);
                global = false;
            }
            Some(other) => {
                let other = other.to_string();
                ctx.unknown_kind(&other, e.value.pos, path, section, KINDS);
                global = false;
            }
            None => global = false,
        }
    }
    if global && let Some(e) = f.get("configs") {
        let msg = format!("`configs` ({path}) is only read with `kind: io.l5d.static`");
        ctx.error(e.key_pos, &child(path, "configs"), msg);
    }
    global
}

fn pool(ctx: &mut Ctx<'_>, node: &Node, path: &str) -> PoolConfig {
    let mut pool = PoolConfig::default();
    let Some(f) = ctx.keys(node, path, &[schema::POOL], true) else {
        return pool;
    };
    if let Some(e) = f.get("maxSize")
        && let Some(n) = ctx.int(&e.value, &child(path, "maxSize"), 1..=1_000_000)
    {
        pool.max_idle_per_endpoint = n as usize;
    }
    if let Some(e) = f.get("idleTimeMs")
        && let Some(ms) = ctx.int(&e.value, &child(path, "idleTimeMs"), 0..=MAX_MS)
    {
        pool.idle_timeout = Duration::from_millis(ms as u64);
    }
    if let Some(e) = f.get("minSize") {
        let p = child(path, "minSize");
        if let Some(n) = ctx.int(&e.value, &p, 0..=1_000_000)
            && n > 0
        {
            ctx.unsupported(
                e.value.pos,
                &p,
                format!("`minSize: {n}` (connections kept open ahead of need) is a linkerd 1.x feature hawser does not support yet"),
            );
        }
    }
    pool
}

fn service(ctx: &mut Ctx<'_>, node: &Node, path: &str, protocol: Protocol) -> ServiceConfig {
    let mut svc = ServiceConfig::default();
    let Some(f) = ctx.keys(node, path, &[schema::SERVICE_COMMON], true) else {
        return svc;
    };
    if !global_or_static(ctx, &f, path, "service") {
        return svc;
    }
    if let Some(e) = f.get("totalTimeoutMs")
        && let Some(ms) = ctx.int(&e.value, &child(path, "totalTimeoutMs"), 1..=MAX_MS)
    {
        svc.total_timeout = Some(Duration::from_millis(ms as u64));
    }
    let default = match protocol {
        Protocol::H2 => "io.l5d.h2.nonRetryable5XX",
        _ => "io.l5d.http.nonRetryable5XX",
    };
    svc.response_classifier = default.to_string();
    if let Some(e) = f.get("responseClassifier") {
        let p = child(path, "responseClassifier");
        if let Some((kind, pos)) = ctx.kind(&e.value, &p, "responseClassifier") {
            // The HTTP/1.1 router applies linkerd's http classifiers (and retries); the h2 and
            // thrift routers only the defaults so far.
            let typed = protocol == Protocol::Http
                && kind.starts_with("io.l5d.http.")
                && crate::resilience::Classifier::from_kind(kind).is_some();
            if typed || kind == default {
                let _ = ctx.keys(&e.value, &p, &[&[("kind", schema::Key::Supported)]], true);
                svc.response_classifier = kind.to_string();
            } else {
                ctx.unsupported_kind_of(
                    kind,
                    pos,
                    &p,
                    "responseClassifier",
                    kinds::RESPONSE_CLASSIFIERS,
                );
            }
        }
    }
    if let Some(e) = f.get("retries") {
        let p = child(path, "retries");
        if protocol == Protocol::Http {
            svc.retries = retries(ctx, &e.value, &p);
        } else {
            let msg = format!(
                "`{p}` (retries on `protocol: {}` routers) is a linkerd 1.x feature hawser does not support yet; the http router retries",
                protocol.name()
            );
            ctx.unsupported(e.key_pos, &p, msg);
        }
    }
    svc
}

/// A backoff: `kind: constant` (`ms`) or `kind: jittered` (`minMs`, `maxMs`).
fn backoff(ctx: &mut Ctx<'_>, node: &Node, p: &str) -> Option<BackoffConfig> {
    let (kind, pos) = ctx.kind(node, p, "backoff")?;
    let ms = |ctx: &mut Ctx<'_>, f: &super::walk::Fields<'_>, key: &str| -> Option<u64> {
        let e = f.get(key)?;
        ctx.int(&e.value, &child(p, key), 0..=MAX_MS)
            .map(|v| v as u64)
    };
    match kind {
        "constant" => {
            let b = ctx.keys(node, p, &[schema::BACKOFF_CONSTANT], true)?;
            Some(BackoffConfig::Constant {
                ms: ms(ctx, &b, "ms").unwrap_or(0),
            })
        }
        "jittered" => {
            let b = ctx.keys(node, p, &[schema::BACKOFF_JITTERED], true)?;
            match (ms(ctx, &b, "minMs"), ms(ctx, &b, "maxMs")) {
                (Some(min_ms), Some(max_ms)) if min_ms <= max_ms => {
                    Some(BackoffConfig::Jittered { min_ms, max_ms })
                }
                (Some(_), Some(_)) => {
                    let msg = format!("`{p}.minMs` must not be above `{p}.maxMs`");
                    ctx.error(pos, p, msg);
                    None
                }
                _ => {
                    let msg = format!("`{p}` (jittered) needs `minMs` and `maxMs`");
                    ctx.error(pos, p, msg);
                    None
                }
            }
        }
        other => {
            let other = other.to_string();
            ctx.unknown_kind(&other, pos, p, "backoff", &["constant", "jittered"]);
            None
        }
    }
}

/// A retry budget: `minRetriesPerSec`, `percentCanRetry`, `ttlSecs`.
fn budget(ctx: &mut Ctx<'_>, node: &Node, p: &str) -> BudgetConfig {
    let mut b = BudgetConfig::default();
    let Some(f) = ctx.keys(node, p, &[schema::RETRY_BUDGET], true) else {
        return b;
    };
    if let Some(e) = f.get("minRetriesPerSec")
        && let Some(v) = ctx.int(&e.value, &child(p, "minRetriesPerSec"), 0..=1_000_000)
    {
        b.min_retries_per_sec = v as u32;
    }
    if let Some(e) = f.get("percentCanRetry")
        && let Some(v) = ctx.number(&e.value, &child(p, "percentCanRetry"), 0.0, 1000.0)
    {
        b.percent_can_retry = v;
    }
    if let Some(e) = f.get("ttlSecs")
        && let Some(v) = ctx.int(&e.value, &child(p, "ttlSecs"), 1..=3600)
    {
        b.ttl_secs = v as u32;
    }
    b
}

/// `service.retries`: `budget` and `backoff`.
fn retries(ctx: &mut Ctx<'_>, node: &Node, path: &str) -> RetriesConfig {
    let mut r = RetriesConfig::default();
    let Some(f) = ctx.keys(node, path, &[schema::RETRIES], true) else {
        return r;
    };
    if let Some(e) = f.get("budget") {
        r.budget = budget(ctx, &e.value, &child(path, "budget"));
    }
    if let Some(e) = f.get("backoff")
        && let Some(b) = backoff(ctx, &e.value, &child(path, "backoff"))
    {
        r.backoff = b;
    }
    r
}

fn interpreter(ctx: &mut Ctx<'_>, node: &Node, path: &str) -> Vec<TransformerConfig> {
    let kind = match &node.value {
        Value::Map(m) => m.iter().find(|e| e.key == "kind"),
        _ => None,
    };
    if let Some(e) = kind {
        let kp = child(path, "kind");
        let Some(k) = ctx.string(&e.value, &kp) else {
            return Vec::new();
        };
        if k != "default" {
            ctx.unsupported_kind_of(k, e.value.pos, path, "interpreter", kinds::INTERPRETERS);
            return Vec::new();
        }
    }
    let Some(f) = ctx.keys(node, path, &[schema::INTERPRETER], true) else {
        return Vec::new();
    };
    let Some(e) = f.get("transformers") else {
        return Vec::new();
    };
    let tp = child(path, "transformers");
    let Some(items) = ctx.list(&e.value, &tp) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let p = index(&tp, i);
        let Some((kind, pos)) = ctx.kind(item, &p, "transformer") else {
            continue;
        };
        let kind = kind.to_string();
        let keys = match kind.as_str() {
            "io.l5d.localhost" => schema::TRANSFORMER_PLAIN,
            "io.l5d.specificHost" => schema::TRANSFORMER_HOST,
            "io.l5d.port" => schema::TRANSFORMER_PORT,
            "io.l5d.k8s.localnode" => schema::TRANSFORMER_LOCALNODE,
            "io.l5d.replace" | "io.l5d.const" => schema::TRANSFORMER_PATH,
            _ => {
                ctx.unsupported_kind_of(&kind, pos, &p, "transformer", kinds::TRANSFORMERS);
                continue;
            }
        };
        let Some(t) = ctx.keys(item, &p, &[keys], true) else {
            continue;
        };
        let required = |ctx: &mut Ctx<'_>, key: &str| {
            if t.get(key).is_none() {
                ctx.error(pos, &p, format!("`{p}` ({kind}) needs `{key}`"));
            }
        };
        match kind.as_str() {
            "io.l5d.localhost" => out.push(TransformerConfig::Localhost),
            "io.l5d.specificHost" => {
                required(ctx, "host");
                if let Some(e) = t.get("host")
                    && let Some(h) = ctx.string(&e.value, &child(&p, "host"))
                {
                    out.push(TransformerConfig::SpecificHost {
                        host: h.to_string(),
                    });
                }
            }
            "io.l5d.replace" | "io.l5d.const" => {
                required(ctx, "path");
                if let Some(e) = t.get("path")
                    && let Some(v) = ctx.string(&e.value, &child(&p, "path"))
                {
                    match crate::routing::Path::read(v) {
                        Ok(_) if kind == "io.l5d.replace" => {
                            out.push(TransformerConfig::Replace {
                                path: v.to_string(),
                            });
                        }
                        Ok(_) => out.push(TransformerConfig::Const {
                            path: v.to_string(),
                        }),
                        Err(err) => {
                            let msg = format!("`{p}.path`: {}", err.message);
                            ctx.error(e.value.pos, &child(&p, "path"), msg);
                        }
                    }
                }
            }
            "io.l5d.port" => {
                required(ctx, "port");
                if let Some(e) = t.get("port")
                    && let Some(n) = ctx.int(&e.value, &child(&p, "port"), 1..=65_535)
                {
                    out.push(TransformerConfig::Port { port: n as u16 });
                }
            }
            _ => {
                if let Some(e) = t.get("hostNetwork")
                    && ctx.bool(&e.value, &child(&p, "hostNetwork")) == Some(true)
                {
                    ctx.unsupported_key(e.value.pos, &p, "hostNetwork: true");
                    continue;
                }
                out.push(TransformerConfig::LocalNode);
            }
        }
    }
    out
}
