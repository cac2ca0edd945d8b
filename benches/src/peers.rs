//! The systems under test and how to start them: hawser, nginx and HAProxy as child processes
//! pinned with `taskset` to the proxy CPUs, each with a config generated here following its
//! best practice for a keep-alive reverse proxy (upstream keepalive, one worker or thread,
//! logging off). `direct` is the baseline with no proxy.
//!
//! For Thrift the peers forward TCP: HAProxy in `mode tcp`, nginx through its `stream` module
//! (skipped when this nginx lacks it: Debian ships it as `libnginx-mod-stream`, which
//! `install_peers` adds); hawser runs a `protocol: thrift` router.
//!
//! For HTTP/2 (h2c, prior knowledge) HAProxy speaks h2 on both sides (`proto h2` on the bind
//! and the server); nginx takes h2 in front (`listen ... http2`) and, having no other HTTP/2
//! upstream, forwards with `grpc_pass`, which serves plain requests as well; hawser runs a
//! `protocol: h2` router (h2 on both sides, upstream streams multiplexed).
//!
//! It does not install anything unless asked (`install_peers`), and never touches the system's
//! own nginx or HAProxy configuration: every file lives in a fresh work directory.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::backend::free_port;
use crate::procstat::format_cpu_list;
use crate::shape::Protocol;

/// A system the runner measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum System {
    /// No proxy: the generator talks to the backend.
    Direct,
    /// hawser (`runtime.cores` = the proxy core count).
    Hawser,
    /// nginx, one worker process, upstream keepalive.
    Nginx,
    /// HAProxy, one thread per proxy core, `http-reuse always`.
    Haproxy,
}

impl System {
    /// The name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            System::Direct => "direct",
            System::Hawser => "hawser",
            System::Nginx => "nginx",
            System::Haproxy => "haproxy",
        }
    }

    /// Every system, in report order.
    pub const ALL: [System; 4] = [
        System::Direct,
        System::Hawser,
        System::Nginx,
        System::Haproxy,
    ];
}

/// A running proxy. Dropping it stops the process tree.
pub struct Proxy {
    child: Child,
    addr: SocketAddr,
}

impl Proxy {
    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The root process id (its descendants are found through /proc).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the proxy's processes (SIGSTOP to the whole tree: nginx's master and worker), so
    /// that a proxy not being measured takes no CPU at all, not even for timers or, with
    /// HAProxy's `busy-polling`, a spinning loop.
    pub fn pause(&self) {
        self.signal_tree(nix::sys::signal::Signal::SIGSTOP);
    }

    /// Lets a [`Proxy::pause`]d proxy run again.
    pub fn resume(&self) {
        self.signal_tree(nix::sys::signal::Signal::SIGCONT);
    }

    fn signal_tree(&self, sig: nix::sys::signal::Signal) {
        for pid in crate::procstat::process_tree(self.child.id()) {
            if let Ok(pid) = i32::try_from(pid) {
                let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig);
            }
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        use nix::sys::signal::{Signal, kill};
        use nix::unistd::Pid;
        let tree = crate::procstat::process_tree(self.child.id());
        // A paused proxy must run to act on SIGTERM.
        self.resume();
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // Whatever is left of the tree (nginx workers if the master died first).
        for pid in tree {
            if let Ok(pid) = i32::try_from(pid) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
        }
        let _ = self.child.wait();
    }
}

/// Why a system was not measured.
#[derive(Debug, Clone)]
pub struct Skipped(pub String);

/// What the proxies need to know.
#[derive(Debug, Clone)]
pub struct ProxySetup {
    /// The backend every proxy forwards to.
    pub backend: SocketAddr,
    /// CPUs the proxy is pinned to.
    pub cpus: Vec<usize>,
    /// Where generated configs and logs go.
    pub workdir: PathBuf,
    /// The hawser binary.
    pub hawser: PathBuf,
    /// Most client connections the proxy must accept.
    pub max_conns: usize,
    /// What the backend and the clients speak.
    pub protocol: Protocol,
    /// Idle polling: hawser's `runtime.spinBeforeParkUs` in µs and, when non-zero, HAProxy's
    /// `busy-polling`; 0 lets both sleep when idle. nginx has no such setting.
    pub spin_us: u64,
}

/// True when `prog` is on the PATH.
pub fn on_path(prog: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(prog).is_file()))
}

/// Finds nginx or haproxy (also in /usr/sbin, which a non-root PATH may lack).
fn find(prog: &str) -> Option<PathBuf> {
    if on_path(prog) {
        return Some(PathBuf::from(prog));
    }
    ["/usr/sbin", "/usr/local/sbin"]
        .iter()
        .map(|d| Path::new(d).join(prog))
        .find(|p| p.is_file())
}

/// Installs nginx and HAProxy with apt-get (needs root).
///
/// # Errors
/// When apt-get fails.
pub fn install_peers() -> Result<(), String> {
    for args in [
        &["update", "-q"][..],
        &[
            "install",
            "-y",
            "-q",
            "nginx-light",
            "libnginx-mod-stream",
            "haproxy",
        ][..],
    ] {
        let status = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .map_err(|e| format!("apt-get: {e}"))?;
        if !status.success() {
            return Err(format!("apt-get {} failed: {status}", args.join(" ")));
        }
    }
    Ok(())
}

/// Starts `system` behind `setup` and waits until it answers. `Ok(None)` for `direct`.
///
/// # Errors
/// [`Skipped`] when the program is missing, fails to start or never answers.
pub fn start(system: System, setup: &ProxySetup) -> Result<Option<Proxy>, Skipped> {
    let port = free_port().map_err(Skipped)?;
    let dir = setup.workdir.join(system.as_str());
    std::fs::create_dir_all(&dir).map_err(|e| Skipped(format!("{}: {e}", dir.display())))?;
    // Absolute, because nginx resolves `-c` and its log paths against `-p`.
    let dir =
        std::fs::canonicalize(&dir).map_err(|e| Skipped(format!("{}: {e}", dir.display())))?;
    let cores = setup.cpus.len().max(1);
    let (prog, args): (PathBuf, Vec<String>) = match system {
        System::Direct => return Ok(None),
        System::Hawser => {
            if !setup.hawser.is_file() {
                return Err(Skipped(format!(
                    "hawser binary not found at {} (cargo build --release -p hawser)",
                    setup.hawser.display()
                )));
            }
            let admin = free_port().map_err(Skipped)?;
            let cfg = dir.join("hawser.yaml");
            let text = hawser_config(
                port,
                admin,
                setup.backend,
                cores,
                setup.protocol,
                setup.spin_us,
            );
            write(&cfg, &text)?;
            let args = vec![
                "run".into(),
                cfg.display().to_string(),
                "--log-level".into(),
                "error".into(),
            ];
            (setup.hawser.clone(), args)
        }
        System::Nginx => {
            let prog = find("nginx")
                .ok_or_else(|| Skipped("nginx not installed (--install-peers)".into()))?;
            let text = match setup.protocol {
                Protocol::Http1 => nginx_config(&dir, port, setup.backend, setup.max_conns),
                Protocol::H2 => nginx_h2_config(&dir, port, setup.backend, setup.max_conns),
                Protocol::Thrift => {
                    let module = nginx_stream_module(&prog).map_err(Skipped)?;
                    nginx_stream_config(
                        &dir,
                        port,
                        setup.backend,
                        setup.max_conns,
                        module.as_deref(),
                    )
                }
            };
            let cfg = dir.join("nginx.conf");
            write(&cfg, &text)?;
            (prog, nginx_args(&dir, &cfg))
        }
        System::Haproxy => {
            let prog = find("haproxy")
                .ok_or_else(|| Skipped("haproxy not installed (--install-peers)".into()))?;
            let (backend, max) = (setup.backend, setup.max_conns);
            let mut text = match setup.protocol {
                Protocol::Http1 => haproxy_config(port, backend, cores, max),
                Protocol::H2 => haproxy_h2_config(port, backend, cores, max),
                Protocol::Thrift => haproxy_tcp_config(port, backend, cores, max),
            };
            if setup.spin_us > 0 {
                text = haproxy_busy_polling(&text);
            }
            let cfg = dir.join("haproxy.cfg");
            write(&cfg, &text)?;
            (
                prog,
                vec!["-db".into(), "-f".into(), cfg.display().to_string()],
            )
        }
    };
    let log = std::fs::File::create(dir.join("stderr.log"))
        .map_err(|e| Skipped(format!("log file: {e}")))?;
    let child = Command::new("taskset")
        .arg("-c")
        .arg(format_cpu_list(&setup.cpus))
        .arg(&prog)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| Skipped(format!("taskset {}: {e}", prog.display())))?;
    let mut proxy = Proxy {
        child,
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = proxy.child.try_wait() {
            let err = std::fs::read_to_string(dir.join("stderr.log")).unwrap_or_default();
            return Err(Skipped(format!(
                "{} exited at start ({status}): {}",
                system.as_str(),
                err.trim()
            )));
        }
        let answered = match setup.protocol {
            Protocol::Http1 => probe(proxy.addr),
            Protocol::Thrift => probe_thrift(proxy.addr),
            Protocol::H2 => probe_h2(proxy.addr),
        };
        if answered {
            return Ok(Some(proxy));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let what = match setup.protocol {
        Protocol::Http1 => "200",
        Protocol::Thrift => "a Thrift call",
        Protocol::H2 => "200 over HTTP/2",
    };
    Err(Skipped(format!(
        "{} never answered {what}",
        system.as_str()
    )))
}

fn nginx_args(dir: &Path, cfg: &Path) -> Vec<String> {
    vec![
        "-p".into(),
        dir.display().to_string(),
        "-e".into(),
        dir.join("error.log").display().to_string(),
        "-c".into(),
        cfg.display().to_string(),
    ]
}

fn write(path: &Path, text: &str) -> Result<(), Skipped> {
    std::fs::write(path, text).map_err(|e| Skipped(format!("{}: {e}", path.display())))
}

/// One blocking `GET /` with `Host: web`: true on a `200`.
pub fn probe(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    if s.write_all(b"GET / HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}

/// One blocking Thrift call (`echo`, seqid 1): true on a framed `REPLY` with seqid 1.
pub fn probe_thrift(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    let shape = crate::shape::RequestShape::thrift("echo", 0);
    let mut call = shape.encode().to_vec();
    let at = shape.seqid_offset().unwrap_or(0);
    call[at..at + 4].copy_from_slice(&1i32.to_be_bytes());
    if s.write_all(&call).is_err() {
        return false;
    }
    let mut len = [0u8; 4];
    if s.read_exact(&mut len).is_err() {
        return false;
    }
    let len = u32::from_be_bytes(len) as usize;
    if len > 1 << 20 {
        return false;
    }
    let mut payload = vec![0u8; len];
    s.read_exact(&mut payload).is_ok()
        && hawser_thrift::Message::load(&payload, &hawser_thrift::Limits::default()).is_ok_and(
            |m| m.header.kind == hawser_thrift::MessageType::Reply && m.header.seqid == 1,
        )
}

/// One blocking h2c request (`GET /`, `:authority web`, prior knowledge): true on a `200`.
pub fn probe_h2(addr: SocketAddr) -> bool {
    use hawser_http2::{Decoder, Frame, Headers, PREFACE, Settings, encode_headers};
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    let mut out = bytes::BytesMut::new();
    out.extend_from_slice(PREFACE);
    Settings::default().encode(&mut out);
    let mut block = bytes::BytesMut::new();
    hawser_hpack::Encoder::new(hawser_hpack::DEFAULT_TABLE_SIZE).encode(
        [
            hawser_hpack::Header::new(b":method", b"GET"),
            hawser_hpack::Header::new(b":scheme", b"http"),
            hawser_hpack::Header::new(b":authority", b"web"),
            hawser_hpack::Header::new(b":path", b"/"),
        ],
        &mut block,
    );
    encode_headers(&Headers::new(1, block.freeze(), true), 16_384, &mut out);
    if s.write_all(&out).is_err() {
        return false;
    }
    let mut dec = Decoder::client();
    let mut hpack = hawser_hpack::Decoder::new(hawser_hpack::DEFAULT_TABLE_SIZE);
    let mut buf = bytes::BytesMut::new();
    let mut chunk = [0u8; 16 * 1024];
    let deadline = Instant::now() + Duration::from_secs(1);
    while Instant::now() < deadline {
        loop {
            match dec.decode(&mut buf) {
                Ok(Some(Frame::Headers(h))) => {
                    let Ok(fields) = hpack.decode_to_vec(&h.fragment) else {
                        return false;
                    };
                    if h.stream_id == 1 {
                        return fields
                            .iter()
                            .any(|f| &f.name[..] == b":status" && &f.value[..] == b"200");
                    }
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => return false,
            }
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    false
}

/// Whether `nginx` has the `stream` module: `Ok(None)` when built in, `Ok(Some(path))` when it
/// is a dynamic module found on disk (to `load_module`), `Err` with the reason otherwise.
///
/// # Errors
/// When `nginx -V` fails or the module is neither built in nor installed.
pub fn nginx_stream_module(nginx: &Path) -> Result<Option<PathBuf>, String> {
    let out = Command::new(nginx)
        .arg("-V")
        .output()
        .map_err(|e| format!("{} -V: {e}", nginx.display()))?;
    // nginx prints its build options on stderr.
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    stream_module_in(&text, |p| p.is_file())
}

/// [`nginx_stream_module`] on given `nginx -V` output, with `exists` for the file check.
///
/// # Errors
/// When the output shows no stream module, or a dynamic one that is not installed.
pub fn stream_module_in(
    nginx_v: &str,
    exists: impl Fn(&Path) -> bool,
) -> Result<Option<PathBuf>, String> {
    let opts: Vec<&str> = nginx_v.split_whitespace().collect();
    if opts.contains(&"--with-stream") {
        return Ok(None);
    }
    if !opts.contains(&"--with-stream=dynamic") {
        return Err("this nginx has no stream module (TCP proxying), needed for Thrift".into());
    }
    let mut dirs: Vec<PathBuf> = opts
        .iter()
        .filter_map(|o| o.strip_prefix("--modules-path="))
        .map(PathBuf::from)
        .collect();
    dirs.extend(["/usr/lib/nginx/modules", "/usr/share/nginx/modules"].map(PathBuf::from));
    dirs.into_iter()
        .map(|d| d.join("ngx_stream_module.so"))
        .find(|p| exists(p))
        .map(Some)
        .ok_or_else(|| {
            "this nginx's stream module (TCP proxying, needed for Thrift) is not installed \
             (Debian: libnginx-mod-stream)"
                .into()
        })
}

/// nginx for Thrift: one worker, a `stream` server forwarding TCP to the backend, no logging.
pub fn nginx_stream_config(
    dir: &Path,
    port: u16,
    backend: SocketAddr,
    max_conns: usize,
    module: Option<&Path>,
) -> String {
    let mut c = String::new();
    if let Some(m) = module {
        let _ = writeln!(c, "load_module {};", m.display());
    }
    c.push_str(&nginx_main(dir, max_conns));
    let _ = write!(
        c,
        "stream {{\n  upstream be {{ server {backend}; }}\n\
         \x20 server {{\n    listen 127.0.0.1:{port} reuseport backlog=4096;\n\
         \x20   proxy_pass be;\n    tcp_nodelay on;\n  }}\n}}\n",
    );
    c
}

/// The main context every generated nginx config starts with: one worker in the foreground,
/// its pid and error log in `dir`, and descriptors and connections for `max_conns` clients
/// (each may hold an upstream connection too).
fn nginx_main(dir: &Path, max_conns: usize) -> String {
    format!(
        "worker_processes 1;\ndaemon off;\npid {pid};\nerror_log {dir}/error.log error;\n\
         worker_rlimit_nofile {nofile};\n\
         events {{ worker_connections {conns}; multi_accept on; }}\n",
        pid = dir.join("nginx.pid").display(),
        dir = dir.display(),
        nofile = 2 * max_conns + 1024,
        conns = 2 * max_conns + 512,
    )
}

/// HAProxy for Thrift: `mode tcp`, `nbthread` = proxy cores, no logging.
pub fn haproxy_tcp_config(
    port: u16,
    backend: SocketAddr,
    threads: usize,
    max_conns: usize,
) -> String {
    format!(
        "global\n  nbthread {threads}\n  maxconn {maxconn}\n\n\
         defaults\n  mode tcp\n  \
         timeout connect 5s\n  timeout client 300s\n  timeout server 300s\n\n\
         frontend fe\n  bind 127.0.0.1:{port}\n  default_backend be\n\n\
         backend be\n  server s1 {backend}\n",
        maxconn = max_conns + 512,
    )
}

/// hawser: the `Host` header names the service; every service goes to the backend.
/// hawser: one router (`http`, or `thrift`: framed, binary) whose dtab sends everything to the
/// backend; `runtime.cores` = proxy cores.
pub fn hawser_config(
    port: u16,
    admin: u16,
    backend: SocketAddr,
    cores: usize,
    protocol: Protocol,
    spin_us: u64,
) -> String {
    let router = match protocol {
        Protocol::Thrift => "thrift",
        Protocol::H2 => "h2",
        Protocol::Http1 => "http",
    };
    let spin = if spin_us > 0 {
        format!(", spinBeforeParkUs: {spin_us}")
    } else {
        String::new()
    };
    format!(
        "admin: {{ip: 127.0.0.1, port: {admin}}}\n\
         routers:\n\
         - protocol: {router}\n  \
           label: bench\n  \
           dtab: /svc => /$/inet/{}/{};\n  \
           servers: [{{ip: 127.0.0.1, port: {port}}}]\n\
         runtime: {{cores: {cores}{spin}}}\n",
        backend.ip(),
        backend.port()
    )
}

/// An HAProxy config with `busy-polling` added to its `global` section: the event loop polls
/// instead of sleeping, HAProxy's counterpart of hawser's `runtime.spinBeforeParkUs`.
pub fn haproxy_busy_polling(config: &str) -> String {
    config.replacen("global\n", "global\n  busy-polling\n", 1)
}

/// nginx: one worker, no access log, upstream keepalive with HTTP/1.1 and no `Connection`.
pub fn nginx_config(dir: &Path, port: u16, backend: SocketAddr, max_conns: usize) -> String {
    let mut c = nginx_main(dir, max_conns);
    let _ = write!(
        c,
        "http {{\n  access_log off;\n  keepalive_requests 1000000;\n  keepalive_timeout 300s;\n\
         \x20 client_body_temp_path {dir}/body;\n  proxy_temp_path {dir}/proxy;\n\
         \x20 upstream be {{ server {backend}; keepalive 256; keepalive_requests 1000000; }}\n\
         \x20 server {{\n    listen 127.0.0.1:{port} reuseport backlog=4096;\n\
         \x20   location / {{ proxy_pass http://be; proxy_http_version 1.1; \
         proxy_set_header Connection \"\"; proxy_buffering on; }}\n  }}\n}}\n",
        dir = dir.display(),
    );
    c
}

/// HAProxy: `nbthread` = proxy cores, no logging, keep-alive both sides, `http-reuse always`.
pub fn haproxy_config(port: u16, backend: SocketAddr, threads: usize, max_conns: usize) -> String {
    haproxy_http_config(port, backend, threads, max_conns, "")
}

/// HAProxy for HTTP/2: [`haproxy_config`] with h2 (prior knowledge) on both sides: `bind ...
/// proto h2` and `server ... proto h2`; `http-reuse always` lets streams of many clients share
/// the backend connections.
pub fn haproxy_h2_config(
    port: u16,
    backend: SocketAddr,
    threads: usize,
    max_conns: usize,
) -> String {
    haproxy_http_config(port, backend, threads, max_conns, " proto h2")
}

fn haproxy_http_config(
    port: u16,
    backend: SocketAddr,
    threads: usize,
    max_conns: usize,
    proto: &str,
) -> String {
    format!(
        "global\n  nbthread {threads}\n  maxconn {maxconn}\n\n\
         defaults\n  mode http\n  option http-keep-alive\n  http-reuse always\n  \
         timeout connect 5s\n  timeout client 300s\n  timeout server 300s\n  \
         timeout http-keep-alive 300s\n\n\
         frontend fe\n  bind 127.0.0.1:{port}{proto}\n  default_backend be\n\n\
         backend be\n  server s1 {backend}{proto}\n",
        maxconn = max_conns + 512,
    )
}

/// nginx for HTTP/2: [`nginx_config`]'s settings with `listen ... http2` (h2c with prior
/// knowledge) in front. nginx speaks HTTP/2 upstream only through its gRPC proxy, so requests
/// go out with `grpc_pass` (which works for plain HTTP/2 requests too) over keepalive upstream
/// connections; nginx sends one request at a time on each of them (no upstream multiplexing).
pub fn nginx_h2_config(dir: &Path, port: u16, backend: SocketAddr, max_conns: usize) -> String {
    let mut c = nginx_main(dir, max_conns);
    let _ = write!(
        c,
        "http {{\n  access_log off;\n  keepalive_requests 1000000;\n  keepalive_timeout 300s;\n\
         \x20 http2_max_concurrent_streams 1000;\n\
         \x20 client_body_temp_path {dir}/body;\n\
         \x20 upstream be {{ server {backend}; keepalive 256; keepalive_requests 1000000; }}\n\
         \x20 server {{\n    listen 127.0.0.1:{port} http2 reuseport backlog=4096;\n\
         \x20   location / {{ grpc_pass grpc://be; }}\n  }}\n}}\n",
        dir = dir.display(),
    );
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_module_is_found_built_in_dynamic_or_not_at_all() {
        let none = |_: &Path| false;
        assert_eq!(
            stream_module_in(
                "configure arguments: --with-http_ssl_module --with-stream",
                none
            ),
            Ok(None)
        );
        assert!(stream_module_in("configure arguments: --with-http_ssl_module", none).is_err());
        let v = "configure arguments: --modules-path=/opt/ngx/mods --with-stream=dynamic";
        assert!(
            stream_module_in(v, none)
                .unwrap_err()
                .contains("not installed")
        );
        assert_eq!(
            stream_module_in(v, |p| p.starts_with("/opt/ngx/mods")),
            Ok(Some(PathBuf::from("/opt/ngx/mods/ngx_stream_module.so")))
        );
    }

    #[test]
    fn h2_configs_speak_h2_on_both_sides_where_they_can() {
        let be = SocketAddr::from(([127, 0, 0, 1], 9000));
        let h = haproxy_h2_config(4000, be, 1, 100);
        assert!(h.contains("mode http") && h.contains("http-reuse always"));
        assert!(h.contains("bind 127.0.0.1:4000 proto h2\n"));
        assert!(h.contains("server s1 127.0.0.1:9000 proto h2\n"));
        assert!(!haproxy_config(4000, be, 1, 100).contains("proto h2"));
        let n = nginx_h2_config(Path::new("/w"), 4000, be, 100);
        assert!(n.contains("listen 127.0.0.1:4000 http2 "));
        assert!(n.contains("grpc_pass grpc://be;") && n.contains("server 127.0.0.1:9000;"));
        assert!(n.contains("keepalive 256") && n.contains("access_log off"));
    }

    #[test]
    fn tcp_configs_forward_to_the_backend_without_logging() {
        let be = SocketAddr::from(([127, 0, 0, 1], 9000));
        let h = haproxy_tcp_config(4000, be, 1, 100);
        assert!(h.contains("mode tcp") && h.contains("server s1 127.0.0.1:9000"));
        assert!(h.contains("nbthread 1") && !h.contains("log"));
        let n = nginx_stream_config(Path::new("/w"), 4000, be, 100, Some(Path::new("/m.so")));
        assert!(n.starts_with("load_module /m.so;\n"));
        assert!(n.contains("stream {") && n.contains("server 127.0.0.1:9000;"));
        assert!(n.contains("listen 127.0.0.1:4000") && !n.contains("http {"));
    }

    #[test]
    fn hawser_gets_the_protocols_router_and_spinning_only_when_asked() {
        let be = SocketAddr::from(([127, 0, 0, 1], 9000));
        let h = hawser_config(4000, 9990, be, 2, Protocol::Thrift, 0);
        assert!(h.contains("- protocol: thrift\n"), "{h}");
        assert!(h.contains("/svc => /$/inet/127.0.0.1/9000;"), "{h}");
        assert!(h.contains("runtime: {cores: 2}\n"), "{h}");
        let h = hawser_config(4000, 9990, be, 1, Protocol::H2, 0);
        assert!(h.contains("- protocol: h2\n"), "{h}");
        let h = hawser_config(4000, 9990, be, 1, Protocol::Http1, 200);
        assert!(h.contains("- protocol: http\n"), "{h}");
        assert!(
            h.contains("runtime: {cores: 1, spinBeforeParkUs: 200}\n"),
            "{h}"
        );
        let busy = haproxy_busy_polling(&haproxy_config(4000, be, 1, 100));
        assert!(
            busy.starts_with("global\n  busy-polling\n  nbthread 1\n"),
            "{busy}"
        );
        assert_eq!(busy.matches("busy-polling").count(), 1);
    }
}
