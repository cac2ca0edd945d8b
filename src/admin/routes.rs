//! The admin endpoints: which request gets which answer. Pure: a [`Request`] and the backend in,
//! a [`Response`] (and whether to shut down once it is sent) out.
//!
//! `/delegator.json` takes linkerd's parameter names and their older and hawser aliases:
//! `path` (or `n`), `dtab` (or `d`, default empty) and `namespace` (or `router`: the router
//! label; absent means the backend's default). Like linkerd it also takes a POST with a JSON body
//! `{"namespace": ..., "dtab": ..., "path": ...}`. `/metrics` (and the backend's
//! [`AdminBackend::metrics_path`]) answers the metrics; `/admin/metrics/influxdb` answers them
//! in InfluxDB's line protocol when the `io.l5d.influxdb` telemeter is configured;
//! `/requests` (HTML, linkerd's) and `/requests.json` the sampled recent requests when
//! `io.l5d.recentRequests` is. Not here yet: `/admin/metrics.json` and
//! the dashboard (404).

use super::AdminBackend;
use super::http::{Request, Response};
use super::query::Query;

/// What to do once the response is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum After {
    Nothing,
    Shutdown,
}

/// Answers one request.
pub(crate) fn route(req: &Request, backend: &dyn AdminBackend) -> (Response, After) {
    let method = req.method.as_str();
    let readable = matches!(method, "GET" | "HEAD");
    let path = req.path.as_str();
    let prefix = match backend.metrics_path() {
        Some((p, prefix)) if p == path => Some(prefix),
        _ => (path == "/metrics").then_some(""),
    };
    if let Some(prefix) = prefix {
        let response = if readable {
            Response::metrics(backend.metrics(prefix))
        } else {
            Response::method_not_allowed("GET, HEAD")
        };
        return (response, After::Nothing);
    }
    let response = match path {
        crate::telemetry::influx::PATH if readable => {
            match backend.influxdb(req.host.as_deref().unwrap_or("")) {
                Some(body) => Response::influx(body),
                None => Response::error(
                    404,
                    "no InfluxDB metrics here: add `- kind: io.l5d.influxdb` under `telemetry:`",
                ),
            }
        }
        crate::telemetry::influx::PATH => Response::method_not_allowed("GET, HEAD"),
        "/requests" | "/requests.json" if readable => match backend.recent_requests() {
            Some(rows) if path == "/requests" => {
                Response::html(crate::telemetry::recent::render_html(&rows))
            }
            Some(rows) => Response::json(200, &crate::telemetry::recent::render_json(&rows)),
            None => Response::error(
                404,
                "no recent requests here: add `- kind: io.l5d.recentRequests` (with `sampleRate`) under `telemetry:`",
            ),
        },
        "/requests" | "/requests.json" => Response::method_not_allowed("GET, HEAD"),
        "/admin/ping" if readable => Response::text(200, "pong"),
        "/admin/ping" => Response::method_not_allowed("GET, HEAD"),
        "/delegator.json" if readable => delegate_get(req, backend),
        "/delegator.json" if method == "POST" => delegate_post(req, backend),
        "/delegator.json" => Response::method_not_allowed("GET, HEAD, POST"),
        "/config.json" if readable => Response::json(200, &backend.config_json()),
        "/config.json" => Response::method_not_allowed("GET, HEAD"),
        "/admin/shutdown" if method == "POST" => {
            return (Response::text(200, "shutting down\n"), After::Shutdown);
        }
        "/admin/shutdown" => Response::method_not_allowed("POST"),
        other => Response::error(404, &format!("no admin endpoint at {other}")),
    };
    (response, After::Nothing)
}

fn delegate_get(req: &Request, backend: &dyn AdminBackend) -> Response {
    let query = match Query::parse(req.query.as_deref().unwrap_or("")) {
        Ok(q) => q,
        Err(e) => return Response::error(400, &e.to_string()),
    };
    let Some(path) = query.get_any(&["path", "n"]) else {
        return Response::error(400, "missing query parameter `path`");
    };
    let dtab = query.get_any(&["dtab", "d"]).unwrap_or("");
    let router = query.get_any(&["namespace", "router"]);
    delegate(backend, router, path, dtab)
}

fn delegate_post(req: &Request, backend: &dyn AdminBackend) -> Response {
    let is_json = req.content_type.as_deref().is_some_and(|ct| {
        ct.split(';')
            .next()
            .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
    });
    if !is_json {
        return Response::error(415, "a delegation request body must be application/json");
    }
    let body: serde_json::Value = match serde_json::from_slice(&req.body) {
        Ok(v) => v,
        Err(e) => return Response::error(400, &format!("malformed delegation request: {e}")),
    };
    let field = |name: &str| body.get(name).and_then(serde_json::Value::as_str);
    let Some(path) = field("path") else {
        return Response::error(400, "malformed delegation request: missing string `path`");
    };
    let router = field("namespace").or_else(|| field("router"));
    delegate(backend, router, path, field("dtab").unwrap_or(""))
}

fn delegate(backend: &dyn AdminBackend, router: Option<&str>, path: &str, dtab: &str) -> Response {
    let router = router.filter(|r| !r.is_empty());
    match backend.delegate(router, path, dtab) {
        Ok(tree) => Response::json(200, &tree),
        Err(message) => Response::error(400, &message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use std::sync::Mutex;

    /// Records calls and answers like a tiny delegator: paths must start with `/`.
    #[derive(Default)]
    struct Fake {
        calls: Mutex<Vec<(Option<String>, String, String)>>,
    }

    impl AdminBackend for Fake {
        fn delegate(&self, router: Option<&str>, path: &str, dtab: &str) -> Result<Value, String> {
            if let Ok(mut calls) = self.calls.lock() {
                calls.push((router.map(str::to_owned), path.to_owned(), dtab.to_owned()));
            }
            if path.starts_with('/') {
                Ok(json!({ "type": "neg", "path": path }))
            } else {
                Err(format!("Invalid path: {path}"))
            }
        }
        fn config_json(&self) -> Value {
            json!({ "admin": { "port": 9990 } })
        }
        fn metrics(&self, prefix: &str) -> String {
            format!("# TYPE {prefix}up gauge\n{prefix}up 1\n# EOF\n")
        }
        fn metrics_path(&self) -> Option<(&str, &str)> {
            Some(("/admin/metrics/prometheus", "l5d_"))
        }
        fn shutdown(&self) {}
    }

    fn get(target: &str) -> Request {
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
            None => (target.to_owned(), None),
        };
        Request {
            method: "GET".to_owned(),
            path,
            query,
            content_type: None,
            host: None,
            body: Vec::new(),
        }
    }

    fn body(resp: &Response) -> Value {
        serde_json::from_slice(&resp.body).expect("json body")
    }

    #[test]
    fn parameter_aliases_reach_the_backend() {
        let fake = Fake::default();
        for target in [
            "/delegator.json?path=/svc/a&dtab=/svc=>/x&namespace=out",
            "/delegator.json?n=/svc/a&d=/svc=>/x&router=out",
            "/delegator.json?router=in&namespace=out&path=/svc/a&dtab=/svc=>/x",
        ] {
            let (resp, after) = route(&get(target), &fake);
            assert_eq!((resp.status, after), (200, After::Nothing), "{target}");
        }
        let (resp, _) = route(&get("/delegator.json?path=/svc/b&namespace="), &fake);
        assert_eq!(body(&resp), json!({"type": "neg", "path": "/svc/b"}));
        let calls = fake.calls.lock().expect("lock").clone();
        let want = (
            Some("out".to_owned()),
            "/svc/a".to_owned(),
            "/svc=>/x".to_owned(),
        );
        assert_eq!(calls[..3], [want.clone(), want.clone(), want]);
        assert_eq!(calls[3], (None, "/svc/b".to_owned(), String::new()));
    }

    #[test]
    fn delegate_errors_are_400_json() {
        let fake = Fake::default();
        let (resp, _) = route(&get("/delegator.json?path=svc"), &fake);
        assert_eq!(resp.status, 400);
        assert_eq!(body(&resp), json!({"error": "Invalid path: svc"}));
        let (resp, _) = route(&get("/delegator.json?dtab=/a=>/b"), &fake);
        assert_eq!(resp.status, 400);
        assert_eq!(body(&resp)["error"], "missing query parameter `path`");
        let (resp, _) = route(&get("/delegator.json?path=%2"), &fake);
        assert_eq!(resp.status, 400);
        assert!(
            fake.calls.lock().expect("lock").len() == 1,
            "bad requests stop early"
        );
    }

    #[test]
    fn post_json_delegation() {
        let fake = Fake::default();
        let mut req = get("/delegator.json");
        req.method = "POST".to_owned();
        req.body = br#"{"namespace":"out","dtab":"/a=>/b","path":"/svc/c"}"#.to_vec();
        let (resp, _) = route(&req, &fake);
        assert_eq!(resp.status, 415, "no content type");
        req.content_type = Some("application/json; charset=utf-8".to_owned());
        let (resp, _) = route(&req, &fake);
        assert_eq!(resp.status, 200);
        assert_eq!(
            fake.calls.lock().expect("lock")[0],
            (
                Some("out".to_owned()),
                "/svc/c".to_owned(),
                "/a=>/b".to_owned()
            )
        );
        req.body = b"{\"dtab\":\"\"}".to_vec();
        assert_eq!(route(&req, &fake).0.status, 400);
        req.body = b"not json".to_vec();
        assert_eq!(route(&req, &fake).0.status, 400);
    }

    #[test]
    fn methods_and_unknown_paths() {
        let fake = Fake::default();
        let mut req = get("/admin/ping");
        assert_eq!(route(&req, &fake).0.body, b"pong");
        req.method = "HEAD".to_owned();
        assert_eq!(route(&req, &fake).0.status, 200);
        req.method = "DELETE".to_owned();
        let (resp, _) = route(&req, &fake);
        assert_eq!((resp.status, resp.allow), (405, Some("GET, HEAD")));

        let (resp, after) = route(&get("/admin/shutdown"), &fake);
        assert_eq!((resp.status, after), (405, After::Nothing));
        let mut req = get("/admin/shutdown");
        req.method = "POST".to_owned();
        assert_eq!(route(&req, &fake).1, After::Shutdown);

        for path in ["/metrics", "/admin/metrics/prometheus"] {
            let (resp, _) = route(&get(path), &fake);
            assert_eq!(resp.status, 200, "{path}");
            assert!(
                resp.content_type
                    .starts_with("application/openmetrics-text")
            );
            assert!(resp.body.ends_with(b"# EOF\n"));
            let prefixed = resp.body.starts_with(b"# TYPE l5d_up gauge");
            assert_eq!(
                prefixed,
                path != "/metrics",
                "{path}: only the telemeter's path"
            );
            let mut post = get(path);
            post.method = "POST".to_owned();
            assert_eq!(route(&post, &fake).0.status, 405, "{path}");
        }
        for path in [
            "/",
            "/metrics/",
            "/admin/metrics.json",
            "/admin/ping/",
            "/ADMIN/PING",
        ] {
            assert_eq!(route(&get(path), &fake).0.status, 404, "{path}");
        }
        let (resp, _) = route(&get("/config.json"), &fake);
        assert_eq!(body(&resp), json!({"admin": {"port": 9990}}));
    }
}
