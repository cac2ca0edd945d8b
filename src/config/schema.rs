//! What linkerd 1.x accepts: the keys of each config object and the kinds of each pluggable
//! section, each marked as supported by hawser, known but not supported yet, accepted and
//! ignored, or obsolete (a spelling older linkerd releases used).
//!
//! Taken from linkerd's reference docs (`linkerd/docs/*.md`) and its config classes
//! (`RouterConfig`, `ServerConfig`, `ClientConfig`, `SvcConfig`, `HttpConfig`, `AdminConfig`).
//! This module is data only; the validators read it.

/// How hawser treats a key linkerd 1.x has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Key {
    /// Read and used by hawser (the validator handles it).
    Supported,
    /// linkerd 1.x has it; hawser does not support it yet.
    Unsupported,
    /// Accepted and deliberately ignored (it changes nothing hawser does).
    Ignored,
    /// A spelling older linkerd releases used that linkerd 1.x no longer accepts; the text says
    /// what to write instead.
    Obsolete(&'static str),
    /// A key of a sibling product's config (linkerd-tcp) that turns up in linkerd examples;
    /// reported as unsupported with this text.
    Foreign(&'static str),
}

use Key::{Foreign as F, Ignored as I, Obsolete as O, Supported as S, Unsupported as U};

pub(crate) type Keys = &'static [(&'static str, Key)];

pub(crate) fn lookup(keys: Keys, name: &str) -> Option<Key> {
    keys.iter().find(|(k, _)| *k == name).map(|(_, c)| *c)
}

pub(crate) const TOP: Keys = &[
    ("admin", S),
    ("routers", S),
    ("namers", S),
    ("runtime", S),
    // Lists of kinds; each kind is reported.
    ("telemetry", S),
    ("tracers", S),
    // Anonymous usage reporting to Buoyant: hawser never reports usage, so there is nothing to
    // configure or turn off; its keys are checked and ignored.
    ("usage", S),
];

pub(crate) const ADMIN: Keys = &[
    ("ip", S),
    ("port", S),
    ("shutdownGraceMs", S),
    ("security", U),
    ("tls", U),
    ("httpIdentifierPort", U),
    ("workerThreads", U),
    (
        "metricsIntervalSecs",
        F("is a linkerd-tcp setting; hawser does not support linkerd-tcp configs"),
    ),
];

pub(crate) const USAGE: Keys = &[("orgId", I), ("enabled", I), ("dryRun", I)];

pub(crate) const RUNTIME: Keys = &[
    ("cores", S),
    ("ioMemoryKiB", S),
    ("drainTimeoutMs", S),
    ("requestHeaderTimeoutMs", S),
    ("idleTimeoutMs", S),
    ("maxHeaderCount", S),
    ("spinBeforeParkUs", S),
];

pub(crate) const NAMER_COMMON: Keys = &[
    ("kind", S),
    ("prefix", S),
    ("experimental", I),
    ("transformers", U),
];
pub(crate) const NAMER_FS: Keys = &[("rootDir", S)];

pub(crate) const PROTOCOLS: &[&str] = &["http", "h2", "thrift", "mux", "thriftmux"];

pub(crate) const ROUTER_COMMON: Keys = &[
    ("protocol", S),
    ("label", S),
    ("dtab", S),
    ("dstPrefix", S),
    ("servers", S),
    ("client", S),
    ("service", S),
    ("interpreter", S),
    ("experimental", I),
    ("announcers", U),
    ("bindingCache", U),
    ("bindingTimeoutMs", U),
    ("originator", U),
    ("baseDtab", O("linkerd 1.x calls the router's dtab `dtab`")),
    (
        "responseClassifier",
        O("linkerd 1.x moved it to `service.responseClassifier`"),
    ),
    (
        "timeoutMs",
        O("linkerd 1.x moved it to `service.totalTimeoutMs` (or a server's `timeoutMs`)"),
    ),
    ("failFast", O("linkerd 1.x moved it to `client.failFast`")),
];

pub(crate) const ROUTER_HTTP: Keys = &[
    ("identifier", S),
    ("maxInitialLineKB", S),
    ("maxHeadersKB", S),
    ("streamingEnabled", S),
    ("maxChunkKB", U),
    ("maxRequestKB", U),
    ("maxResponseKB", U),
    ("compressionLevel", U),
    ("httpAccessLog", U),
    ("httpAccessLogRollPolicy", U),
    ("httpAccessLogAppend", U),
    ("httpAccessLogRotateCount", U),
    ("requestAuthorizers", U),
    ("loggers", U),
    ("tracePropagator", U),
];

pub(crate) const ROUTER_H2: Keys = &[
    ("identifier", S),
    ("loggers", U),
    ("requestAuthorizers", U),
    ("tracePropagator", U),
    ("h2AccessLog", U),
    ("h2AccessLogRollPolicy", U),
    ("h2AccessLogAppend", U),
    ("h2AccessLogRotateCount", U),
];

pub(crate) const ROUTER_THRIFT: Keys = &[("thriftMethodInDst", S), ("thriftProtocol", S)];

pub(crate) fn router_protocol_keys(protocol: &str) -> Keys {
    match protocol {
        "http" => ROUTER_HTTP,
        "h2" => ROUTER_H2,
        "thrift" | "thriftmux" => ROUTER_THRIFT,
        _ => &[],
    }
}

pub(crate) const SERVER_COMMON: Keys = &[
    ("port", S),
    ("ip", S),
    ("clearContext", S),
    ("tls", U),
    ("label", U),
    ("maxConcurrentRequests", U),
    ("announce", U),
    ("timeoutMs", U),
    ("socketOptions", U),
];

pub(crate) const SERVER_HTTP: Keys = &[
    ("addForwardedHeader", U),
    ("timestampHeader", U),
    ("engine", U),
];

/// An h2 server's keys (linkerd's `H2ServerConfig`).
pub(crate) const SERVER_H2: Keys = &[
    ("maxConcurrentStreamsPerConnection", S),
    ("initialStreamWindowBytes", S),
    ("maxFrameBytes", S),
    ("maxHeaderListBytes", S),
    ("headerTableBytes", S),
    ("windowUpdateRatio", U),
];

/// A thrift server's keys. `thriftProtocol` was a server key in older linkerd releases (the
/// router's in 1.x); both places are read.
pub(crate) const SERVER_THRIFT: Keys = &[("thriftFramed", S), ("thriftProtocol", S)];

pub(crate) const CLIENT_COMMON: Keys = &[
    ("kind", S),
    ("configs", S),
    ("hostConnectionPool", S),
    // hawser's addition: linkerd has no connect timeout key.
    ("connectTimeoutMs", S),
    ("failureAccrual", S),
    ("tls", U),
    ("loadBalancer", S),
    ("failFast", U),
    ("requestAttemptTimeoutMs", U),
    ("requeueBudget", S),
    ("clientSession", U),
    (
        "retries",
        O("linkerd 1.x moved client retries to `service.retries`"),
    ),
];

pub(crate) const CLIENT_HTTP: Keys = &[("forwardClientCert", U), ("engine", U)];

/// An h2 client's keys (linkerd's `H2ClientConfig`).
pub(crate) const CLIENT_H2: Keys = &[
    ("initialStreamWindowBytes", S),
    ("maxFrameBytes", S),
    ("maxHeaderListBytes", S),
    ("headerTableBytes", S),
    ("windowUpdateRatio", U),
    ("forwardClientCert", U),
];

pub(crate) const CLIENT_THRIFT: Keys = &[
    ("thriftFramed", S),
    ("thriftProtocol", S),
    ("attemptTTwitterUpgrade", S),
];

pub(crate) const POOL: Keys = &[
    ("maxSize", S),
    ("idleTimeMs", S),
    ("minSize", S),
    ("maxWaiters", U),
];

pub(crate) const SERVICE_COMMON: Keys = &[
    ("kind", S),
    ("configs", S),
    ("totalTimeoutMs", S),
    ("retries", S),
    ("responseClassifier", S),
];

pub(crate) const RETRIES: Keys = &[("budget", S), ("backoff", S)];
pub(crate) const RETRY_BUDGET: Keys = &[
    ("minRetriesPerSec", S),
    ("percentCanRetry", S),
    ("ttlSecs", S),
];
pub(crate) const ACCRUAL_CONSECUTIVE: Keys = &[("kind", S), ("failures", S), ("backoff", S)];
pub(crate) const ACCRUAL_SUCCESS_RATE: Keys = &[
    ("kind", S),
    ("successRate", S),
    ("requests", S),
    ("backoff", S),
];
pub(crate) const BALANCER_P2C: Keys = &[("kind", S), ("maxEffort", S), ("enableProbation", S)];
pub(crate) const BALANCER_EWMA: Keys = &[
    ("kind", S),
    ("maxEffort", S),
    ("decayTimeMs", S),
    ("enableProbation", S),
];
pub(crate) const BALANCER_HEAP: Keys = &[("kind", S), ("enableProbation", S)];
/// Known so typos are caught; the kind itself is reported as not supported (once).
pub(crate) const BALANCER_APERTURE: Keys = &[
    ("kind", S),
    ("maxEffort", S),
    ("lowLoad", S),
    ("highLoad", S),
    ("minAperture", S),
    ("enableProbation", S),
];
pub(crate) const ACCRUAL_SUCCESS_RATE_WINDOWED: Keys = &[
    ("kind", S),
    ("successRate", S),
    ("window", S),
    ("backoff", S),
];
pub(crate) const BACKOFF_CONSTANT: Keys = &[("kind", S), ("ms", S)];
pub(crate) const BACKOFF_JITTERED: Keys = &[("kind", S), ("minMs", S), ("maxMs", S)];

pub(crate) const TELEMETER_PROMETHEUS: Keys =
    &[("kind", S), ("path", S), ("prefix", S), ("experimental", I)];
pub(crate) const TELEMETER_INFLUXDB: Keys = &[("kind", S), ("experimental", I)];
pub(crate) const TELEMETER_RECENT: Keys = &[
    ("kind", S),
    ("sampleRate", S),
    ("capacity", S),
    ("experimental", I),
];

pub(crate) const INTERPRETER: Keys = &[("kind", S), ("transformers", S)];
pub(crate) const TRANSFORMER_PLAIN: Keys = &[("kind", S)];
pub(crate) const TRANSFORMER_HOST: Keys = &[("kind", S), ("host", S)];
pub(crate) const TRANSFORMER_PORT: Keys = &[("kind", S), ("port", S)];
pub(crate) const TRANSFORMER_LOCALNODE: Keys = &[("kind", S), ("hostNetwork", S)];
pub(crate) const TRANSFORMER_PATH: Keys = &[("kind", S), ("path", S)];

pub(crate) const IDENT_HEADER_TOKEN: Keys = &[("kind", S), ("header", S)];
pub(crate) const IDENT_METHOD_AND_HOST: Keys = &[("kind", S), ("httpUriInDst", S)];
pub(crate) const IDENT_PATH: Keys = &[("kind", S), ("segments", S), ("consume", S)];
pub(crate) const IDENT_HEADER: Keys = &[("kind", S), ("header", S)];
pub(crate) const IDENT_HEADER_PATH: Keys = &[("kind", S), ("header", S), ("segments", S)];

/// The kinds of each pluggable section that linkerd 1.x ships.
pub(crate) mod kinds {
    pub(crate) const NAMERS: &[&str] = &[
        "io.l5d.fs",
        "io.l5d.serversets",
        "io.l5d.consul",
        "io.l5d.k8s",
        "io.l5d.k8s.external",
        "io.l5d.k8s.ns",
        "io.l5d.k8s.istio",
        "io.l5d.marathon",
        "io.l5d.zkLeader",
        "io.l5d.curator",
        "io.l5d.dnssrv",
        "io.l5d.rewrite",
    ];

    pub(crate) const HTTP_IDENTIFIERS: &[&str] = &[
        "io.l5d.header.token",
        "io.l5d.methodAndHost",
        "io.l5d.path",
        "io.l5d.header",
        "io.l5d.static",
        "io.l5d.ingress",
        "io.l5d.k8s.istio",
        "io.l5d.k8s.istio-ingress",
    ];

    /// Identifiers only h2 routers have.
    pub(crate) const H2_ONLY_IDENTIFIERS: &[&str] = &["io.l5d.header.path"];

    /// What an h2 router may name requests with (linkerd's `H2IdentifierConfig` kinds).
    pub(crate) const H2_IDENTIFIERS: &[&str] = &[
        "io.l5d.header.token",
        "io.l5d.header.path",
        "io.l5d.header",
        "io.l5d.ingress",
        "io.l5d.k8s.istio",
    ];

    pub(crate) const TRANSFORMERS: &[&str] = &[
        "io.l5d.localhost",
        "io.l5d.specificHost",
        "io.l5d.port",
        "io.l5d.k8s.daemonset",
        "io.l5d.k8s.localnode",
        "io.l5d.replace",
        "io.l5d.const",
    ];

    pub(crate) const INTERPRETERS: &[&str] = &[
        "default",
        "io.l5d.namerd",
        "io.l5d.namerd.http",
        "io.l5d.mesh",
        "io.l5d.fs",
        "io.l5d.k8s.configMap",
    ];

    pub(crate) const TELEMETERS: &[&str] = &[
        "io.l5d.prometheus",
        "io.l5d.statsd",
        "io.l5d.tracelog",
        "io.l5d.recentRequests",
        "io.l5d.zipkin",
        "io.l5d.influxdb",
        "io.l5d.commonMetrics",
        "io.l5d.adminMetricsExport",
    ];

    pub(crate) const TRACERS: &[&str] = &["io.l5d.zipkin"];

    pub(crate) const RESPONSE_CLASSIFIERS: &[&str] = &[
        "io.l5d.http.nonRetryable5XX",
        "io.l5d.http.retryableRead5XX",
        "io.l5d.http.retryableIdempotent5XX",
        "io.l5d.http.allSuccessful",
        "io.l5d.h2.nonRetryable5XX",
        "io.l5d.h2.retryableRead5XX",
        "io.l5d.h2.retryableIdempotent5XX",
        "io.l5d.h2.allSuccessful",
        "io.l5d.h2.grpc.default",
        "io.l5d.h2.grpc.alwaysRetryable",
        "io.l5d.h2.grpc.neverRetryable",
        "io.l5d.h2.grpc.retryableStatusCodes",
    ];

    pub(crate) const FAILURE_ACCRUAL: &[&str] = &[
        "io.l5d.consecutiveFailures",
        "io.l5d.successRate",
        "io.l5d.successRateWindowed",
        "none",
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_table_lists_a_key_twice() {
        let tables: &[Keys] = &[
            TOP,
            ADMIN,
            USAGE,
            RUNTIME,
            NAMER_COMMON,
            NAMER_FS,
            ROUTER_COMMON,
            ROUTER_HTTP,
            ROUTER_H2,
            ROUTER_THRIFT,
            SERVER_COMMON,
            SERVER_HTTP,
            SERVER_THRIFT,
            SERVER_H2,
            CLIENT_COMMON,
            CLIENT_HTTP,
            CLIENT_THRIFT,
            CLIENT_H2,
            POOL,
            SERVICE_COMMON,
            RETRIES,
            RETRY_BUDGET,
            ACCRUAL_CONSECUTIVE,
            ACCRUAL_SUCCESS_RATE,
            ACCRUAL_SUCCESS_RATE_WINDOWED,
            BALANCER_P2C,
            BALANCER_EWMA,
            BALANCER_HEAP,
            BALANCER_APERTURE,
            BACKOFF_CONSTANT,
            BACKOFF_JITTERED,
            INTERPRETER,
            TELEMETER_PROMETHEUS,
            TELEMETER_INFLUXDB,
            TELEMETER_RECENT,
        ];
        for t in tables {
            for (i, (k, _)) in t.iter().enumerate() {
                assert!(!t[i + 1..].iter().any(|(o, _)| o == k), "{k} twice");
            }
        }
        for (a, b) in [
            (ROUTER_COMMON, ROUTER_HTTP),
            (SERVER_COMMON, SERVER_HTTP),
            (SERVER_COMMON, SERVER_THRIFT),
            (SERVER_COMMON, SERVER_H2),
            (CLIENT_COMMON, CLIENT_H2),
            (CLIENT_COMMON, CLIENT_HTTP),
            (CLIENT_COMMON, CLIENT_THRIFT),
            (ROUTER_COMMON, ROUTER_THRIFT),
        ] {
            for (k, _) in b {
                assert!(lookup(a, k).is_none(), "{k} in both tables");
            }
        }
    }
}
