//! Harness for tests/h2.rs (included there with `#[path]`; under support/ so cargo does not
//! build it as a test crate of its own): real HTTP/2 peers around an h2 router.
//! Backends: `support/h2_backend.py` (Python hyper-h2, an echo server with behaviours chosen
//! by path) and `support/grpc_peer.py` (grpcio, generic handlers on raw bytes). Clients:
//! curl and nghttp (prior knowledge), `support/h2_client.py` (one connection, many concurrent
//! streams, from a JSON plan) and `support/grpc_client.py` (one grpcio channel, driven step
//! by step over pipes). Nothing here speaks HTTP/2 itself; every process is bounded by a
//! timeout, so a hung proxy fails a test instead of hanging it.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{Hawser, Response, free_port, run_bounded, temp_dir};

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/support")
        .join(name)
}

/// Panics with an install hint unless `python3 -c "import MODULE"` works (CI installs them).
pub fn require_python(module: &str, package: &str) {
    let mut cmd = Command::new("python3");
    cmd.args(["-c", &format!("import {module}")]);
    let r = run_bounded(cmd, Duration::from_secs(30));
    assert!(
        r.status.is_some_and(|s| s.success()),
        "this test needs the Python package `{package}` (`pip install {package}`, see .ci/run): {}",
        r.stderr
    );
}

/// Panics with an install hint unless `tool --version` runs.
pub fn require_tool(tool: &str, package: &str) {
    let ok = Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "this test needs `{tool}` (Debian package `{package}`, see .ci/run)"
    );
}

/// Both Python packages the peers use, checked once per test process.
pub fn require_h2() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| require_python("h2", "h2"));
}

pub fn require_grpc() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| require_python("grpc", "grpcio"));
}

/// Starts `python3 SCRIPT 0 NAME` and waits (bounded) for its `READY <port>` line.
fn start_peer(file: &str, name: &str) -> (Child, u16) {
    let mut child = Command::new("python3")
        .arg(script(file))
        .arg("0")
        .arg(name)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3 must be installed (see .ci/run)");
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
    let port = line
        .trim()
        .strip_prefix("READY ")
        .and_then(|p| p.parse().ok());
    match port {
        Some(port) => (child, port),
        None => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{file} {name} did not start ({line:?})");
        }
    }
}

/// The HTTP/2 echo backend (see h2_backend.py's docstring for its paths).
pub struct H2Backend {
    pub name: String,
    pub port: u16,
    child: Child,
}

impl H2Backend {
    pub fn start(name: &str) -> H2Backend {
        require_h2();
        let (child, port) = start_peer("h2_backend.py", name);
        H2Backend {
            name: name.to_string(),
            port,
            child,
        }
    }

    /// Its `/_stats` ({requests, resets, reset_paths, connections}), asked directly.
    pub fn stats(&self) -> Value {
        let out = h2_exchange(self.port, vec![req("/_stats")]);
        let r = response(&out, 0);
        assert_eq!(r["status"], 200, "stats of {}: {r}", self.name);
        r["json"].clone()
    }
}

impl Drop for H2Backend {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The gRPC server (see grpc_peer.py's docstring for its methods).
pub struct GrpcPeer {
    pub name: String,
    pub port: u16,
    child: Child,
}

impl GrpcPeer {
    pub fn start(name: &str) -> GrpcPeer {
        require_grpc();
        let (child, port) = start_peer("grpc_peer.py", name);
        GrpcPeer {
            name: name.to_string(),
            port,
            child,
        }
    }

    /// Its `Stats` ({calls, cancelled}), asked directly.
    pub fn stats(&self) -> Value {
        let mut c = GrpcClient::connect(self.port);
        let r = c.step(unary("/pkg.Echo/Stats", ""));
        assert_eq!(r["ok"], true, "stats of {}: {r}", self.name);
        let body = r["replies"][0]["body"].as_str().unwrap_or_default();
        serde_json::from_str(body).unwrap_or_else(|e| panic!("stats {body:?}: {e}"))
    }
}

impl Drop for GrpcPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A request of an h2_client.py plan: GET `path` with the default authority.
pub fn req(path: &str) -> Value {
    json!({"method": "GET", "path": path})
}

/// `v` with `key` set to `value` (a request's `authority`, `body_size`, `after`, ...).
pub fn with(mut v: Value, key: &str, value: Value) -> Value {
    v[key] = value;
    v
}

/// Runs `requests` as concurrent streams on one new connection to `port` (h2_client.py) and
/// returns its report; panics when the client fails to run or report within 90 s.
pub fn h2_exchange(port: u16, requests: Vec<Value>) -> Value {
    h2_plan(port, json!({"requests": requests, "timeout_ms": 60000}))
}

/// [`h2_exchange`] with a whole plan (`requests`, `timeout_ms`, `window`).
pub fn h2_plan(port: u16, plan: Value) -> Value {
    require_h2();
    let dir = temp_dir("h2-plan");
    let file = dir.join("plan.json");
    std::fs::write(&file, plan.to_string()).expect("write the plan");
    let mut cmd = Command::new("python3");
    cmd.arg(script("h2_client.py"))
        .arg(port.to_string())
        .arg(&file);
    let r = run_bounded(cmd, Duration::from_secs(90));
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        r.status.is_some_and(|s| s.success()),
        "h2_client.py failed ({:?}): {}",
        r.status,
        r.stderr
    );
    let out: Value = serde_json::from_str(r.stdout.trim())
        .unwrap_or_else(|e| panic!("h2_client.py said {:?}: {e}", r.stdout));
    assert_eq!(out["timed_out"], false, "the plan did not finish: {out}");
    assert_eq!(out["error"], Value::Null, "the connection failed: {out}");
    out
}

/// Response `i` of an h2_client.py report.
pub fn response(out: &Value, i: usize) -> &Value {
    out["responses"]
        .get(i)
        .unwrap_or_else(|| panic!("no response {i}: {out}"))
}

/// A header of an h2_client.py response (first of that name, case-insensitive).
pub fn header_of<'a>(r: &'a Value, name: &str) -> Option<&'a str> {
    r["headers"].as_array()?.iter().find_map(|kv| {
        kv[0]
            .as_str()
            .filter(|k| k.eq_ignore_ascii_case(name))
            .and(kv[1].as_str())
    })
}

/// An h2_client.py response as a [`Response`] (for [`crate::support::l5d_err`]).
pub fn as_response(r: &Value) -> Response {
    let headers = r["headers"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|kv| {
                    (
                        kv[0].as_str().unwrap_or_default().to_string(),
                        kv[1].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Response {
        status: r["status"]
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .unwrap_or(0),
        headers,
        body: r["body_text"]
            .as_str()
            .unwrap_or_default()
            .as_bytes()
            .to_vec(),
    }
}

/// Asserts `r` is a complete 200 answered by `backend` and returns what the backend saw.
pub fn echoed<'a>(r: &'a Value, backend: &str) -> &'a Value {
    assert_eq!(r["status"], 200, "{r}");
    assert_eq!(r["ended"], true, "{r}");
    assert_eq!(r["reset"], Value::Null, "{r}");
    assert_eq!(header_of(r, "x-backend"), Some(backend), "{r}");
    &r["json"]
}

/// A header the backend saw (from its JSON echo), case-insensitive.
pub fn seen<'a>(echo: &'a Value, name: &str) -> Option<&'a str> {
    echo["headers"].as_array()?.iter().find_map(|kv| {
        kv[0]
            .as_str()
            .filter(|k| k.eq_ignore_ascii_case(name))
            .and(kv[1].as_str())
    })
}

/// One grpcio channel, held by a Python process that runs one JSON step per line.
pub struct GrpcClient {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
}

/// The longest one step may take: every call carries a deadline (20 s unless the step sets
/// one), so this only catches a client that stopped answering.
const STEP_LIMIT: Duration = Duration::from_secs(60);

impl GrpcClient {
    pub fn connect(port: u16) -> GrpcClient {
        require_grpc();
        let mut child = Command::new("python3")
            .arg(script("grpc_client.py"))
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 must be installed (see .ci/run)");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut c = GrpcClient {
            stdin: child.stdin.take(),
            child,
            lines,
        };
        let hello = c.next_line();
        assert_eq!(
            hello["kind"], "ready",
            "grpc client to port {port}: {hello}"
        );
        c
    }

    fn next_line(&mut self) -> Value {
        let line = self
            .lines
            .recv_timeout(STEP_LIMIT)
            .expect("the grpc client answers within its deadlines");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("grpc client said {line:?}: {e}"))
    }

    /// Runs one step (see grpc_client.py) and returns its answer.
    pub fn step(&mut self, step: Value) -> Value {
        let stdin = self.stdin.as_mut().expect("client stdin");
        writeln!(stdin, "{step}").expect("grpc client alive");
        stdin.flush().expect("grpc client alive");
        self.next_line()
    }

    /// A unary `method` call of `payload`; asserts it came back intact from `from`.
    pub fn echo(&mut self, method: &str, payload: &str, from: &str) {
        let r = self.step(unary(method, payload));
        assert_eq!(r["ok"], true, "{method}: {r}");
        assert_eq!(r["replies"][0]["from"], from, "{method}: {r}");
        assert_eq!(r["replies"][0]["intact"], true, "{method}: {r}");
    }
}

impl Drop for GrpcClient {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A unary step.
pub fn unary(method: &str, payload: &str) -> Value {
    json!({"op": "unary", "method": method, "payload": payload})
}

/// hawser running one h2 router on `port`.
pub struct Proxy {
    pub hawser: Hawser,
    pub port: u16,
}

impl Proxy {
    /// An h2 router with `dtab` (one dentry a line), `extra` router lines and `server` lines
    /// (both indented by the caller: two spaces for the router, four for the server).
    pub fn start(dtab: &str, extra: &str, server: &str, cores: usize) -> Proxy {
        let (admin, port) = (free_port(), free_port());
        let yaml = h2_config(admin, port, dtab, extra, server);
        Proxy {
            hawser: Hawser::start(&yaml, admin, cores),
            port,
        }
    }

    pub fn grpc(&self) -> GrpcClient {
        GrpcClient::connect(self.port)
    }
}

/// The YAML of [`Proxy::start`].
pub fn h2_config(admin: u16, port: u16, dtab: &str, extra: &str, server: &str) -> String {
    let dtab: String = dtab.lines().map(|l| format!("    {l}\n")).collect();
    format!(
        "admin:\n  ip: 127.0.0.1\n  port: {admin}\nrouters:\n- protocol: h2\n  experimental: true\n  dtab: |\n{dtab}{extra}  servers:\n  - ip: 127.0.0.1\n    port: {port}\n{server}"
    )
}

/// A dentry sending `from` to 127.0.0.1:`port`.
pub fn to(from: &str, port: u16) -> String {
    format!("{from} => /$/inet/127.0.0.1/{port};")
}

/// The router lines of a gRPC router: names are `/svc/<service>` from the path.
pub const BY_SERVICE: &str = "  identifier:\n    kind: io.l5d.header.path\n    segments: 1\n";

/// What curl saw of one request.
#[derive(Debug)]
pub struct CurlReply {
    /// `%{http_version}`: "2" for HTTP/2.
    pub version: String,
    pub response: Response,
    pub stderr: String,
}

/// `curl --http2-prior-knowledge` of `http://127.0.0.1:PORT{path}` with `args` (e.g.
/// `-H Host: web`), bounded (curl's own --max-time 20 and a kill after 30 s); the body is
/// read from a file, so binary bodies come back whole.
pub fn curl_h2(port: u16, path: &str, args: &[&str]) -> CurlReply {
    let dir = temp_dir("h2-curl");
    let (head, body) = (dir.join("head"), dir.join("body"));
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "--max-time", "20", "--http2-prior-knowledge"])
        .arg("-D")
        .arg(&head)
        .arg("-o")
        .arg(&body)
        .args(["-w", "%{http_version}"])
        .args(args)
        .arg(format!("http://127.0.0.1:{port}{path}"));
    let r = run_bounded(cmd, Duration::from_secs(30));
    assert!(
        r.status.is_some(),
        "curl is missing or hung (Debian package `curl`, see .ci/run): {}",
        r.stderr
    );
    let head = std::fs::read_to_string(&head).unwrap_or_default();
    let body = std::fs::read(&body).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    CurlReply {
        version: r.stdout.trim().to_string(),
        response: Response {
            status,
            headers,
            body,
        },
        stderr: r.stderr,
    }
}

/// Runs nghttp with `args`, bounded by 60 s; returns (exit code, stdout bytes, stderr).
pub fn nghttp(args: &[&str]) -> (Option<i32>, Vec<u8>, String) {
    require_tool("nghttp", "nghttp2-client");
    let mut child = Command::new("nghttp")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn nghttp");
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut out, &mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut s);
        s
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while std::time::Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
        std::thread::sleep(Duration::from_millis(20));
    }
    // Still running at the deadline: killed, and reported without an exit code.
    let _ = child.kill();
    let code = child.wait().ok().and_then(|s| s.code());
    (
        code,
        t_out.join().unwrap_or_default(),
        t_err.join().unwrap_or_default(),
    )
}

/// The status codes in nghttp's `-s` statistics table, one per response.
pub fn nghttp_codes(stdout: &[u8]) -> Vec<u16> {
    let text = String::from_utf8_lossy(stdout);
    text.lines()
        .skip_while(|l| !l.starts_with("id "))
        .skip(1)
        .filter_map(|l| l.split_whitespace().nth(4)?.parse().ok())
        .collect()
}

/// Whether byte i of `body` is i % 251 (h2_backend.py's `/bytes/N`); the index of the first
/// byte that is not, if any.
pub fn first_bad_pattern_byte(body: &[u8]) -> Option<usize> {
    body.iter()
        .enumerate()
        .position(|(i, b)| usize::from(*b) != i % 251)
}

/// sha256 of a file, by `sha256sum` (coreutils).
pub fn sha256_file(path: &Path) -> String {
    let mut cmd = Command::new("sha256sum");
    cmd.arg(path);
    let r = run_bounded(cmd, Duration::from_secs(30));
    assert!(
        r.status.is_some_and(|s| s.success()),
        "sha256sum: {}",
        r.stderr
    );
    r.stdout
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The value of the sample `name{labels...}` in an admin `/metrics` scrape (label order
/// free), if present.
pub fn metric(scrape: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape.lines().find_map(|l| {
        let rest = l.strip_prefix(name)?.strip_prefix('{')?;
        let (inside, value) = rest.split_once('}')?;
        let all = labels
            .iter()
            .all(|(k, v)| inside.split(',').any(|kv| kv == format!("{k}=\"{v}\"")));
        all.then(|| value.split_whitespace().next()?.parse().ok())
            .flatten()
    })
}
