//! Idle-connection memory: opens N keep-alive connections through a proxy, each making one
//! checked request, leaves them idle, and reports how much the proxy's RSS grew per connection.
//! hawser, nginx and HAProxy are measured the same way, one after another.
//!
//! Connections are plain blocking sockets opened one at a time (the cost being measured is the
//! proxy's, not the client's). It raises this process's open-file limit to its hard limit; it
//! does not change system-wide limits.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

/// How long the connections sit idle before RSS is read: longer than the periodic work a proxy
/// does while idle (hawser's shards return freed memory to the OS once a second), so the reading
/// shows the steady idle state rather than the tail of the connect burst.
const IDLE_SETTLE: Duration = Duration::from_millis(2500);

use bytes::BytesMut;
use hawser_http1::{Limits, parse_response, response_framing};

use crate::backend::{BackendSpec, start_backend};
use crate::peers::{self, ProxySetup, System};
use crate::procstat;
use crate::scenario::{hawser_binary, plan_cpus};

/// Options of `hawser-bench idle`.
#[derive(Debug, Clone, clap::Args)]
pub struct IdleArgs {
    /// Idle keep-alive connections to open through each proxy. Default 10000 (quick: 1000).
    #[arg(long, value_name = "N")]
    pub conns: Option<usize>,
    /// Fewer connections (1000), for a quick check.
    #[arg(long)]
    pub quick: bool,
    /// Proxies to measure.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "hawser,nginx,haproxy"
    )]
    pub systems: Vec<System>,
    /// CPUs given to each proxy (the first N CPUs this process may use).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub proxy_cores: usize,
    /// The hawser binary. Default: `hawser` beside this binary, built with cargo if missing.
    #[arg(long, value_name = "PATH")]
    pub hawser: Option<PathBuf>,
    /// Directory for the generated proxy configs.
    #[arg(long, default_value = "bench-results")]
    pub out: PathBuf,
}

/// One proxy's result.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IdleResult {
    /// The proxy.
    pub system: String,
    /// Connections held open.
    pub conns: usize,
    /// RSS before opening them, KiB.
    pub rss_before_kib: u64,
    /// RSS with all of them idle, KiB.
    pub rss_after_kib: u64,
    /// (after - before) / conns, in bytes.
    pub bytes_per_conn: f64,
}

/// Raises the soft open-file limit to the hard limit; returns the new soft limit.
pub fn raise_nofile() -> u64 {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) => {
            if soft < hard && setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
                hard
            } else {
                soft
            }
        }
        Err(_) => 1024,
    }
}

/// Opens a connection, makes one `GET /`, and checks the response is a complete `200`.
fn open_one(addr: SocketAddr) -> Result<TcpStream, String> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    s.write_all(b"GET / HTTP/1.1\r\nHost: web\r\n\r\n")
        .map_err(|e| format!("write: {e}"))?;
    let mut buf = BytesMut::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = s.read(&mut chunk).map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err("closed before the response".into());
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
        if let Some((head, len)) =
            parse_response(&buf, &Limits::default()).map_err(|e| e.reason().to_string())?
        {
            if head.status() != 200 || !head.keep_alive() {
                return Err(format!(
                    "status {} keep-alive {}",
                    head.status(),
                    head.keep_alive()
                ));
            }
            let want = match response_framing("GET", &head).map_err(|e| e.reason().to_string())? {
                hawser_http1::Framing::Length(n) => n,
                other => return Err(format!("unexpected framing {other:?}")),
            };
            if (buf.len() - len) as u64 >= want {
                return Ok(s);
            }
        }
    }
}

/// Runs the measurement for every requested proxy; prints and returns the results.
///
/// # Errors
/// When the backend cannot start.
pub fn run(args: &IdleArgs) -> Result<Vec<IdleResult>, String> {
    let conns = args.conns.unwrap_or(if args.quick { 1000 } else { 10_000 });
    let limit = raise_nofile();
    if (conns as u64) + 64 > limit {
        return Err(format!(
            "{conns} connections need more open files than the limit {limit} (raise the hard limit, e.g. ulimit -Hn)"
        ));
    }
    let cpus = plan_cpus(args.proxy_cores, None)?;
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let backend = start_backend(&BackendSpec {
        protocol: crate::shape::Protocol::Http1,
        port: 0,
        size: 64,
        latency: Duration::ZERO,
        cpus: cpus.load.clone(),
        stall: None,
    })?;
    let hawser = if args.systems.contains(&System::Hawser) {
        hawser_binary(args.hawser.as_deref()).unwrap_or_default()
    } else {
        PathBuf::new()
    };
    let setup = ProxySetup {
        backend: backend.addr(),
        cpus: cpus.proxy,
        workdir: args.out.join("idle-work"),
        hawser,
        max_conns: conns + 64,
        protocol: crate::shape::Protocol::Http1,
        spin_us: 0,
    };
    let mut results = Vec::new();
    println!(
        "| proxy | connections | RSS before KiB | RSS idle KiB | growth bytes/conn | RSS idle bytes/conn |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for &system in args.systems.iter().filter(|s| **s != System::Direct) {
        let proxy = match peers::start(system, &setup) {
            Ok(Some(p)) => p,
            Ok(None) => continue,
            Err(peers::Skipped(why)) => {
                eprintln!("skipped {}: {why}", system.as_str());
                continue;
            }
        };
        std::thread::sleep(Duration::from_millis(300));
        let before = procstat::usage(proxy.pid()).rss_kib;
        let mut held = Vec::with_capacity(conns);
        let mut failed = None;
        for _ in 0..conns {
            match open_one(proxy.addr()) {
                Ok(s) => held.push(s),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        if let Some(e) = failed {
            eprintln!(
                "{}: stopped after {} connections: {e}",
                system.as_str(),
                held.len()
            );
        }
        std::thread::sleep(IDLE_SETTLE);
        let after = procstat::usage(proxy.pid()).rss_kib;
        let n = held.len().max(1);
        let r = IdleResult {
            system: system.as_str().into(),
            conns: held.len(),
            rss_before_kib: before,
            rss_after_kib: after,
            bytes_per_conn: after.saturating_sub(before) as f64 * 1024.0 / n as f64,
        };
        println!(
            "| {} | {} | {} | {} | {:.0} | {:.0} |",
            r.system,
            r.conns,
            r.rss_before_kib,
            r.rss_after_kib,
            r.bytes_per_conn,
            r.rss_after_kib as f64 * 1024.0 / n as f64
        );
        results.push(r);
        drop(held);
        drop(proxy);
    }
    println!(
        "\nGrowth is RSS (process tree, /proc VmRSS) with the connections idle minus before they were\n\
         opened. nginx (worker_connections) and HAProxy (maxconn) are configured for N connections\n\
         and preallocate part of their per-connection state at start, which lands in \"before\";\n\
         the last column (total idle RSS / N) bounds that from above."
    );
    let json = serde_json::to_string_pretty(&results).map_err(|e| e.to_string())?;
    let path = args.out.join("idle.json");
    std::fs::write(&path, json).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(results)
}
