//! Harness for tests/thrift.rs (included there with `#[path]`; under support/ so cargo does not
//! build it as a test crate of its own):
//! a real Thrift backend (`support/thrift_peer.py`), a real Thrift client holding one
//! connection (`support/thrift_client.py`, driven step by step over pipes), the config of a
//! thrift router, and assertions on what the client saw. Both peers are Apache Thrift's Python
//! library; nothing here frames Thrift itself (the raw-byte cases live in the tests).

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{Hawser, free_port};

fn script(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/support")
        .join(name)
}

/// The Thrift backend: `echo`/`ping` answer `NAME:payload`, `peer` its connection's client
/// port, `badseq` a wrong seqid, `hangup` a closed connection, `stats` what it has seen
/// (see the script's docstring).
pub struct ThriftPeer {
    pub name: String,
    pub port: u16,
    child: Child,
}

impl ThriftPeer {
    pub fn start(name: &str) -> ThriftPeer {
        let mut child = Command::new("python3")
            .arg(script("thrift_peer.py"))
            .arg("0")
            .arg(name)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 must be installed (see .ci/run)");
        let mut line = String::new();
        let _ = BufReader::new(child.stdout.take().expect("piped stdout")).read_line(&mut line);
        let port = line
            .trim()
            .strip_prefix("READY ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| {
                panic!(
                    "thrift peer did not start ({line:?}); Apache Thrift's Python library must \
                     be installed (`pip install thrift`, see .ci/run)"
                )
            });
        ThriftPeer {
            name: name.to_string(),
            port,
            child,
        }
    }

    /// What the peer has recorded (its `stats`), asked directly, not through hawser.
    pub fn stats(&self) -> Value {
        let mut c = ThriftClient::connect(self.port);
        let r = c.step(call("stats", 1, None));
        assert_eq!(r["kind"], "reply", "stats from {}: {r}", self.name);
        serde_json::from_str(r["body"].as_str().expect("stats body")).expect("stats JSON")
    }
}

impl Drop for ThriftPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One client connection, held by a Python process that runs one JSON step per line.
pub struct ThriftClient {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
}

/// The longest one step may take: the client's own socket timeout (10 s) bounds each read and
/// write, and a pipeline reads several replies.
const STEP_LIMIT: Duration = Duration::from_secs(60);

impl ThriftClient {
    /// Connects to 127.0.0.1:`port`; panics when the connection cannot be made.
    pub fn connect(port: u16) -> ThriftClient {
        let mut child = Command::new("python3")
            .arg(script("thrift_client.py"))
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
        let mut c = ThriftClient {
            stdin: child.stdin.take(),
            child,
            lines,
        };
        let hello = c.next_line();
        assert_eq!(hello["kind"], "connected", "client to port {port}: {hello}");
        c
    }

    fn next_line(&mut self) -> Value {
        let line = self
            .lines
            .recv_timeout(STEP_LIMIT)
            .expect("the thrift client answers within its timeouts");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("client said {line:?}: {e}"))
    }

    /// Runs one step (see thrift_client.py) and returns its answer.
    pub fn step(&mut self, step: Value) -> Value {
        let stdin = self.stdin.as_mut().expect("client stdin");
        writeln!(stdin, "{step}").expect("client alive");
        stdin.flush().expect("client alive");
        self.next_line()
    }

    /// `echo(payload)` with `seqid`; asserts the reply came from `from` with the payload intact.
    pub fn echo(&mut self, seqid: i32, payload: &str, from: &str) {
        let r = self.step(call("echo", seqid, Some(payload)));
        assert_reply(&r, "echo", seqid, from, payload);
    }
}

impl Drop for ThriftClient {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `send` step: a CALL of `method` with `seqid`, with `payload` as its binary field 1.
pub fn call(method: &str, seqid: i32, payload: Option<&str>) -> Value {
    let mut v = json!({"op": "send", "method": method, "seqid": seqid});
    if let Some(p) = payload {
        v["payload"] = json!(p);
    }
    v
}

/// `step` with `key` set to `value` (e.g. `"old"`, `"type"`, `"size"`, `"delay_ms"`).
pub fn with(mut step: Value, key: &str, value: Value) -> Value {
    step[key] = value;
    step
}

/// A `pipeline` step of `messages` (send steps; their `op` is ignored).
pub fn pipeline(messages: Vec<Value>) -> Value {
    json!({"op": "pipeline", "messages": messages})
}

/// Asserts `r` is a REPLY to `method`/`seqid` from backend `from` carrying `payload` back.
pub fn assert_reply(r: &Value, method: &str, seqid: i32, from: &str, payload: &str) {
    assert_eq!(r["kind"], "reply", "{method} #{seqid}: {r}");
    assert_eq!(r["name"], method, "{r}");
    assert_eq!(r["seqid"], seqid, "{r}");
    assert_eq!(r["from"], from, "{r}");
    assert_eq!(r["body"], payload, "{r}");
    assert_eq!(r["intact"], true, "{r}");
}

/// Asserts `r` is a TApplicationException for `method`/`seqid` of type `kind`; returns its
/// message.
pub fn assert_exception(r: &Value, method: &str, seqid: i32, kind: i64) -> String {
    assert_eq!(r["kind"], "exception", "{method} #{seqid}: {r}");
    assert_eq!(r["name"], method, "{r}");
    assert_eq!(r["seqid"], seqid, "{r}");
    assert_eq!(r["type"], kind, "{r}");
    r["message"].as_str().unwrap_or_default().to_string()
}

/// TApplicationException types (Apache Thrift's numbering).
pub const UNKNOWN_METHOD: i64 = 1;
pub const INVALID_MESSAGE_TYPE: i64 = 2;
pub const BAD_SEQUENCE_ID: i64 = 4;
pub const INTERNAL_ERROR: i64 = 6;

/// hawser running one thrift router on `port`.
pub struct Proxy {
    pub hawser: Hawser,
    pub port: u16,
}

impl Proxy {
    /// A thrift router with `dtab` (one dentry a line), `extra` router lines (indented two
    /// spaces by the caller) and `namers` (a whole top-level `namers:` section or "").
    pub fn start(dtab: &str, extra: &str, namers: &str, cores: usize) -> Proxy {
        let (admin, port) = (free_port(), free_port());
        let yaml = thrift_config(admin, port, dtab, extra, namers);
        Proxy {
            hawser: Hawser::start(&yaml, admin, cores),
            port,
        }
    }

    pub fn client(&self) -> ThriftClient {
        ThriftClient::connect(self.port)
    }
}

/// The YAML of [`Proxy::start`].
pub fn thrift_config(admin: u16, port: u16, dtab: &str, extra: &str, namers: &str) -> String {
    let dtab: String = dtab.lines().map(|l| format!("    {l}\n")).collect();
    format!(
        "admin:\n  ip: 127.0.0.1\n  port: {admin}\n{namers}routers:\n- protocol: thrift\n  dtab: |\n{dtab}{extra}  servers:\n  - ip: 127.0.0.1\n    port: {port}\n"
    )
}

/// A dentry sending `from` to `peer`.
pub fn to(from: &str, peer: &ThriftPeer) -> String {
    format!("{from} => /$/inet/127.0.0.1/{};", peer.port)
}
