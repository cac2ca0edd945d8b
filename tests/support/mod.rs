//! Shared harness for the integration tests: starts hawser, real backends
//! (a Python HTTP/1.1 server, nginx) and real clients (curl) on loopback.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A port free right now on 127.0.0.1, never handed out twice in this test
/// process and outside the kernel's ephemeral range (see [`unique_port`]).
pub fn free_port() -> u16 {
    unique_port()
}

/// A fresh temporary directory for one test.
pub fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "hawser-test-{}-{}-{}",
        tag,
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The Python origin server in tests/support/backend.py.
pub struct Backend {
    pub port: u16,
    child: Child,
}

impl Backend {
    pub fn start(name: &str) -> Backend {
        Self::start_on(name, "127.0.0.1", 0)
    }

    /// A backend that answers every request (but `/_count`) with `status`.
    pub fn start_status(name: &str, status: u16) -> Backend {
        Self::start_with_env(
            name,
            "127.0.0.1",
            0,
            &[("BACKEND_STATUS", &status.to_string())],
        )
    }

    /// A backend that waits `ms` milliseconds before every answer (but `/_count`'s).
    pub fn start_slow(name: &str, ms: u64) -> Backend {
        Self::start_with_env(
            name,
            "127.0.0.1",
            0,
            &[("BACKEND_DELAY_MS", &ms.to_string())],
        )
    }

    /// A backend on another loopback address (`127.0.0.2`, ...) and port (0: any).
    pub fn start_on(name: &str, ip: &str, port: u16) -> Backend {
        Self::start_with_env(name, ip, port, &[])
    }

    fn start_with_env(name: &str, ip: &str, port: u16, env: &[(&str, &str)]) -> Backend {
        let mut child = Command::new("python3")
            .arg(manifest_dir().join("tests/support/backend.py"))
            .arg(port.to_string())
            .arg(name)
            .arg(ip)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 must be installed (see .ci/run)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("READY ")
            .unwrap_or_else(|| panic!("backend did not start: {line:?}"))
            .parse()
            .unwrap();
        Backend { port, child }
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running hawser process.
pub struct Hawser {
    pub child: Child,
    pub admin: u16,
    pub dir: PathBuf,
    pub config: PathBuf,
}

pub fn hawser_bin() -> &'static str {
    env!("CARGO_BIN_EXE_hawser")
}

impl Hawser {
    /// Starts hawser on `yaml` (which must set `admin.port` to `admin`) with
    /// `cores` shards and waits until the admin server answers.
    pub fn start(yaml: &str, admin: u16, cores: usize) -> Hawser {
        let dir = temp_dir("hawser");
        let config = dir.join("config.yaml");
        std::fs::write(&config, yaml).unwrap();
        Self::start_file(&config, admin, cores, dir)
    }

    pub fn start_file(config: &Path, admin: u16, cores: usize, dir: PathBuf) -> Hawser {
        Self::start_file_with(config, admin, cores, dir, &[])
    }

    /// [`Hawser::start`] with more arguments after `run CONFIG --cores N` (e.g.
    /// `--profile FILE`).
    pub fn start_with(yaml: &str, admin: u16, cores: usize, args: &[&str]) -> Hawser {
        let dir = temp_dir("hawser");
        let config = dir.join("config.yaml");
        std::fs::write(&config, yaml).unwrap();
        Self::start_file_with(&config, admin, cores, dir, args)
    }

    pub fn start_file_with(
        config: &Path,
        admin: u16,
        cores: usize,
        dir: PathBuf,
        args: &[&str],
    ) -> Hawser {
        let mut cmd = Command::new(hawser_bin());
        cmd.arg("run")
            .arg(config)
            .arg("--cores")
            .arg(cores.to_string())
            .args(args);
        Self::spawn(cmd, admin, config, dir)
    }

    /// True when this machine lets the tests run a process in its own mount
    /// namespace (`unshare -m`, root or CAP_SYS_ADMIN), for a private /etc/hosts.
    pub fn can_use_private_hosts() -> bool {
        Command::new("unshare")
            .args(["-m", "true"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// [`Hawser::start`] in its own mount namespace where `hosts` is bind-mounted
    /// over /etc/hosts: rewriting `hosts` in place changes what the proxy's DNS
    /// lookups see, and nothing else on the machine.
    pub fn start_with_hosts(yaml: &str, admin: u16, hosts: &Path) -> Hawser {
        let dir = temp_dir("hawser");
        let config = dir.join("config.yaml");
        std::fs::write(&config, yaml).unwrap();
        let mut cmd = Command::new("unshare");
        cmd.args([
            "-m",
            "sh",
            "-c",
            "mount --bind \"$0\" /etc/hosts && exec \"$1\" run \"$2\" --cores 1",
        ])
        .arg(hosts)
        .arg(hawser_bin())
        .arg(&config);
        Self::spawn(cmd, admin, &config, dir)
    }

    fn spawn(mut cmd: Command, admin: u16, config: &Path, dir: PathBuf) -> Hawser {
        let child = cmd
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut h = Hawser {
            child,
            admin,
            dir,
            config: config.to_path_buf(),
        };
        h.wait_ready();
        h
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("hawser exited during start-up: {status}");
            }
            if get(self.admin, "/admin/ping").is_ok_and(|r| r.status == 200) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("hawser did not become ready");
    }

    /// Sends SIGTERM and waits (bounded) for the exit status.
    pub fn terminate(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        unsafe_kill(self.child.id(), libc_sigterm());
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(s) = self.child.try_wait().unwrap() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Resident set size in KiB, from /proc.
    pub fn rss_kib(&self) -> u64 {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        s.lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }
}

fn libc_sigterm() -> i32 {
    15
}

fn unsafe_kill(pid: u32, sig: i32) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status();
}

impl Drop for Hawser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A parsed HTTP/1.x response.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn body_str(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Header value the echo backend saw (case-insensitive name), from its JSON.
pub fn seen_header(echo: &serde_json::Value, name: &str) -> Option<String> {
    echo["headers"].as_array().unwrap().iter().find_map(|kv| {
        let k = kv[0].as_str().unwrap();
        k.eq_ignore_ascii_case(name)
            .then(|| kv[1].as_str().unwrap().to_string())
    })
}

/// One plain GET with `Connection: close`.
pub fn get(port: u16, path: &str) -> std::io::Result<Response> {
    let raw = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    let bytes = raw_exchange(port, raw.as_bytes(), Duration::from_secs(5))?;
    parse_responses(&bytes)
        .into_iter()
        .next()
        .ok_or_else(|| std::io::Error::other("no response"))
}

/// Writes `req` to a new connection, half-closes, and reads until the server
/// closes or `timeout` passes.
pub fn raw_exchange(port: u16, req: &[u8], timeout: Duration) -> std::io::Result<Vec<u8>> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(timeout))?;
    s.write_all(req)?;
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    Ok(out)
}

/// Like [`raw_exchange`] but keeps the write side open (so the server
/// decides when to close) and returns what arrived.
pub fn raw_exchange_open(port: u16, req: &[u8], timeout: Duration) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(timeout)).unwrap();
    s.write_all(req).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    out
}

/// Parses every complete response in `bytes` (Content-Length, chunked, or
/// to the end for the last one).
pub fn parse_responses(mut bytes: &[u8]) -> Vec<Response> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let Some(end) = find(bytes, b"\r\n\r\n") else {
            break;
        };
        let head = String::from_utf8_lossy(&bytes[..end]).into_owned();
        bytes = &bytes[end + 4..];
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or("");
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        let get = |n: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.clone())
        };
        let mut body = Vec::new();
        if (100..200).contains(&status) && status != 101 {
            out.push(Response {
                status,
                headers,
                body,
            });
            continue;
        }
        if let Some(cl) = get("content-length") {
            let n: usize = cl.parse().unwrap_or(0).min(bytes.len());
            body.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
        } else if get("transfer-encoding")
            .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"))
        {
            loop {
                let Some(le) = find(bytes, b"\r\n") else {
                    bytes = &[];
                    break;
                };
                let size_str = String::from_utf8_lossy(&bytes[..le]);
                let size = usize::from_str_radix(size_str.split(';').next().unwrap().trim(), 16)
                    .unwrap_or(0);
                bytes = &bytes[le + 2..];
                if size == 0 {
                    // trailers
                    match find(bytes, b"\r\n") {
                        Some(0) => bytes = &bytes[2..],
                        _ => {
                            if let Some(te) = find(bytes, b"\r\n\r\n") {
                                bytes = &bytes[te + 4..];
                            } else {
                                bytes = &[];
                            }
                        }
                    }
                    break;
                }
                let n = size.min(bytes.len());
                body.extend_from_slice(&bytes[..n]);
                bytes = &bytes[(n + 2).min(bytes.len())..];
            }
        } else if status == 204 || status == 304 {
        } else {
            body.extend_from_slice(bytes);
            bytes = &[];
        }
        out.push(Response {
            status,
            headers,
            body,
        });
    }
    out
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

/// Runs curl with `args`; panics if curl is missing.
pub fn curl(args: &[&str]) -> Output {
    Command::new("curl")
        .args(["-sS", "--max-time", "20"])
        .args(args)
        .output()
        .expect("curl must be installed (see .ci/run)")
}

/// Polls `f` until it returns true or `within` passes.
pub fn eventually(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// How many requests `backend` has served (its `/_count`), asked directly.
pub fn backend_count(port: u16) -> u64 {
    get(port, "/_count")
        .unwrap()
        .body_str()
        .trim()
        .parse()
        .unwrap()
}

/// Writes an `io.l5d.fs` service file atomically (write then rename), so
/// the namer never sees half a file.
pub fn write_service(dir: &Path, name: &str, lines: &str) {
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, lines).unwrap();
    std::fs::rename(&tmp, dir.join(name)).unwrap();
}

/// A config with one http router over an fs namer at `disco`.
pub fn fs_config(admin: u16, port: u16, disco: &Path, extra_router: &str) -> String {
    format!(
        "admin:\n  ip: 127.0.0.1\n  port: {admin}\nnamers:\n- kind: io.l5d.fs\n  rootDir: {}\nrouters:\n- protocol: http\n  dtab: |\n    /svc => /#/io.l5d.fs;\n{extra_router}  servers:\n  - ip: 127.0.0.1\n    port: {port}\n",
        disco.display()
    )
}

/// The `l5d-err` header of a proxy-generated response, decoded from the
/// form encoding hawser (like linkerd) sends it in.
pub fn l5d_err(r: &Response) -> Option<String> {
    let v = r.header("l5d-err")?;
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(x) => {
                        out.push(x);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// Sends one request head (`GET target HTTP/1.1`, `Host` and `headers`, then
/// `Connection: close`) and returns the one response; panics when none
/// arrives within 10 s (a hang or a dropped connection).
pub fn send(port: u16, target: &str, host: Option<&str>, headers: &[(&str, &str)]) -> Response {
    send_method(port, "GET", target, host, headers)
}

/// [`send`] with a method.
pub fn send_method(
    port: u16,
    method: &str,
    target: &str,
    host: Option<&str>,
    headers: &[(&str, &str)],
) -> Response {
    let mut raw = format!("{method} {target} HTTP/1.1\r\n");
    if let Some(h) = host {
        raw.push_str(&format!("Host: {h}\r\n"));
    }
    for (k, v) in headers {
        raw.push_str(&format!("{k}: {v}\r\n"));
    }
    raw.push_str("Connection: close\r\n\r\n");
    send_raw(port, raw.as_bytes())
}

/// Writes `raw` and returns the first response; panics when none arrives.
pub fn send_raw(port: u16, raw: &[u8]) -> Response {
    let bytes = raw_exchange_open(port, raw, Duration::from_secs(10));
    parse_responses(&bytes)
        .into_iter()
        .next()
        .unwrap_or_else(|| {
            panic!(
                "no response to {:?}; got {:?}",
                String::from_utf8_lossy(raw),
                String::from_utf8_lossy(&bytes)
            )
        })
}

/// The name of the echo backend that served `r` (its `x-backend` header).
pub fn served_by(r: &Response) -> Option<String> {
    r.header("x-backend").map(str::to_string)
}

/// A config with one http router over an fs namer at `disco`, with `dtab`
/// (its lines indented here) and `extra_router` lines (indented by the caller
/// by two spaces) before `servers`.
pub fn fs_config_dtab(
    admin: u16,
    port: u16,
    disco: &Path,
    dtab: &str,
    extra_router: &str,
) -> String {
    let dtab: String = dtab.lines().map(|l| format!("    {l}\n")).collect();
    format!(
        "admin:\n  ip: 127.0.0.1\n  port: {admin}\nnamers:\n- kind: io.l5d.fs\n  rootDir: {}\nrouters:\n- protocol: http\n  dtab: |\n{dtab}{extra_router}  servers:\n  - ip: 127.0.0.1\n    port: {port}\n",
        disco.display()
    )
}

/// The finished run of a short-lived command, killed after `within`.
pub struct Finished {
    /// Exit status; `None` when it had to be killed.
    pub status: Option<std::process::ExitStatus>,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    /// The exit code, panicking with the output when there is none.
    pub fn code(&self) -> i32 {
        self.status
            .and_then(|s| s.code())
            .unwrap_or_else(|| panic!("no exit code ({:?}); stderr: {}", self.status, self.stderr))
    }

    /// Standard output and error together.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs `cmd` with piped output, killing it if it is still running after `within`.
pub fn run_bounded(mut cmd: Command, within: Duration) -> Finished {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + within;
    let mut finished = false;
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            finished = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    if !finished {
        let _ = child.kill();
    }
    let waited = child.wait().ok();
    let status = if finished { waited } else { None };
    Finished {
        status,
        stdout: t_out.join().unwrap_or_default(),
        stderr: t_err.join().unwrap_or_default(),
    }
}

/// `hawser ARGS...`, bounded by `within`.
pub fn hawser_cmd(args: &[&str], within: Duration) -> Finished {
    let mut cmd = Command::new(hawser_bin());
    cmd.args(args);
    run_bounded(cmd, within)
}

/// Sends `sig` (a number, e.g. 15) to `pid` with kill(1).
pub fn send_signal(pid: u32, sig: i32) {
    unsafe_kill(pid, sig);
}

/// Reads exactly one response (Content-Length, chunked, or bodiless) from a
/// kept-alive connection; panics if the connection closes first.
pub fn read_response(c: &mut TcpStream) -> Response {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 65536];
    loop {
        if let Some(end) = find(&buf, b"\r\n\r\n")
            && let Some(r) = parse_responses(&buf).into_iter().next()
        {
            let complete = match r.header("content-length") {
                Some(cl) => buf.len() - (end + 4) >= cl.parse::<usize>().unwrap_or(0),
                None if r
                    .header("transfer-encoding")
                    .is_some_and(|t| t.contains("chunked")) =>
                {
                    buf.len() > end + 4 && buf.ends_with(b"0\r\n\r\n")
                }
                None => true,
            };
            if complete {
                return r;
            }
        }
        let n = c
            .read(&mut tmp)
            .expect("a response within the read timeout");
        assert!(
            n > 0,
            "connection closed early: {}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&tmp[..n]);
    }
}

/// A port free right now on 127.0.0.1 that this process has not handed out
/// before, taken from below the kernel's ephemeral range. Unlike
/// [`free_port`] (which asks the kernel for an ephemeral port, which it may
/// hand to a parallel test or an outgoing connection next), two parallel
/// tests never get the same port, so two hawsers never silently share one
/// through `SO_REUSEPORT`.
pub fn unique_port() -> u16 {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    static GIVEN: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let (from, to) = if low > 12000 {
        (10000, low)
    } else {
        (low.max(1024), 10000)
    };
    let mut given = GIVEN
        .get_or_init(|| Mutex::new(HashSet::new()))
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    for _ in 0..1000 {
        let p = fastrand::u16(from..to);
        if !given.contains(&p) && TcpListener::bind(("127.0.0.1", p)).is_ok() {
            given.insert(p);
            return p;
        }
    }
    panic!("no free port in {from}..{to}");
}
