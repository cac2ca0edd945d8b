//! The control thread: loads the config, starts the shards, the namer
//! watchers and the admin server, and turns signals into a graceful drain.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::{Sender, unbounded};

use super::exec;
use super::shard::{ShardMsg, ShardSpec, run_shard};
use super::{ShutdownEvent, pick_cpus, preflight, spawn_error_hint, watch_signals};
use crate::admin::{AdminBackend, spawn_admin};
use crate::config::Config;
use crate::discovery::{NamerSet, NamerUpdate};
use crate::server::{RouterPlan, compile_routers};

/// The quick-start config, served by `hawser run` without a CONFIG.
pub const EMBEDDED_CONFIG: &str = include_str!("../../examples/quickstart.yaml");

/// Log verbosity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum LogLevel {
    /// Errors only.
    Error,
    /// Errors and warnings.
    Warn,
    /// Start-up, shutdown and namer changes (default).
    #[default]
    Info,
    /// Everything.
    Debug,
}

impl LogLevel {
    /// Parses `error|warn|info|debug`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "error" => LogLevel::Error,
            "warn" => LogLevel::Warn,
            "info" => LogLevel::Info,
            "debug" => LogLevel::Debug,
            _ => return None,
        })
    }
}

/// Command-line overrides for `hawser run`.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// `--cores N`.
    pub cores: Option<usize>,
    /// `--log-level`.
    pub log_level: LogLevel,
    /// `--profile FILE` (repeatable): partial configs merged onto the config, in order.
    pub profiles: Vec<PathBuf>,
}

/// Loads and fully validates a config (YAML schema, then dtabs and paths),
/// returning `file:line:col: message` lines on failure.
///
/// # Errors
/// Every problem found, one line each.
pub fn load_config(text: &str, name: &str) -> Result<(Config, Vec<RouterPlan>), Vec<String>> {
    load_config_layered(text, name, &[])
}

/// [`load_config`] with profiles merged onto the config, in order (`--profile`).
///
/// # Errors
/// Every problem found, one line each, naming the file it is in.
pub fn load_config_layered(
    text: &str,
    name: &str,
    profiles: &[crate::config::Layer<'_>],
) -> Result<(Config, Vec<RouterPlan>), Vec<String>> {
    let config = crate::config::load_layered(text, name, profiles)
        .map_err(|ds| ds.iter().map(ToString::to_string).collect::<Vec<_>>())?;
    let mut plans = compile_routers(&config, name)?;
    crate::server::resolve_transformers(&config, &mut plans, name)?;
    Ok((config, plans))
}

/// `hawser check FILE`: prints diagnostics; returns the exit status
/// (0 clean, 1 only unsupported features, 2 invalid).
pub fn check_file(path: &Path) -> u8 {
    check_file_with_profiles(path, &[])
}

/// `hawser check FILE --profile P...`: as [`check_file`], with the profiles merged onto the
/// config in order before it is checked.
pub fn check_file_with_profiles(path: &Path, profiles: &[PathBuf]) -> u8 {
    let report = crate::config::check_with_profiles(path, profiles);
    for d in &report.diagnostics {
        println!("{d}");
    }
    let mut code = report.exit_code() as u8;
    if let Some(cfg) = &report.config
        && let Err(lines) = compile_routers(cfg, &path.display().to_string())
    {
        for l in lines {
            println!("{l}");
        }
        code = 2;
    }
    if code == 0 {
        println!("{}: ok", path.display());
    }
    code
}

/// `hawser run`: serves until drained.
///
/// # Errors
/// A message for anything that stops start-up (bad config, bind failure,
/// io_uring unavailable).
pub fn run(config_path: Option<&Path>, opts: RunOptions) -> Result<(), String> {
    let (text, name) = match config_path {
        Some(p) => (
            std::fs::read_to_string(p).map_err(|e| format!("{}: cannot read: {e}", p.display()))?,
            p.display().to_string(),
        ),
        None => (
            EMBEDDED_CONFIG.to_string(),
            "<embedded quickstart.yaml>".to_string(),
        ),
    };
    let mut layers = Vec::new();
    for p in &opts.profiles {
        let text =
            std::fs::read_to_string(p).map_err(|e| format!("{}: cannot read: {e}", p.display()))?;
        layers.push((p.display().to_string(), text));
    }
    let layers: Vec<crate::config::Layer<'_>> = layers
        .iter()
        .map(|(name, text)| crate::config::Layer { name, text })
        .collect();
    let (config, plans) =
        load_config_layered(&text, &name, &layers).map_err(|lines| lines.join("\n"))?;
    preflight()?;
    let cpus = pick_cpus(opts.cores.or(config.runtime.cores.map(|n| n.get())))?;
    let info = opts.log_level >= LogLevel::Info;

    // Namers first: a missing rootDir is a start-up error.
    let namers = NamerSet::load(&config.namers)?;
    let initial: Vec<NamerUpdate> = namers.current();

    // The admin server binds before the shards, so its errors come first.
    let admin_addr = config.admin.addr();
    let admin_listener = std::net::TcpListener::bind(admin_addr)
        .map_err(|e| format!("admin: cannot listen on {admin_addr}: {e}"))?;

    // Shards bind with SO_REUSEPORT, which would let a second hawser (same
    // user) silently share a port with this one and take half its traffic.
    // A plain bind first turns that into a clear start-up error.
    for r in &plans {
        for s in &r.servers {
            std::net::TcpListener::bind(s.addr)
                .map_err(|e| format!("router `{}`: cannot listen on {}: {e}", r.label, s.addr))?;
        }
    }
    let routers = Arc::new(plans);
    let debug = opts.log_level >= LogLevel::Debug;
    let (ready_tx, ready_rx) = unbounded();
    let mut shard_txs: Vec<Sender<ShardMsg>> = Vec::new();
    let mut handles = Vec::new();
    for (index, &cpu) in cpus.iter().enumerate() {
        let (tx, rx) = unbounded();
        shard_txs.push(tx);
        let spec = ShardSpec {
            index,
            routers: routers.clone(),
            namers: initial.clone(),
            rx,
            ready: ready_tx.clone(),
        };
        let ready = ready_tx.clone();
        let spin = config.runtime.spin_before_park;
        let h = std::thread::Builder::new()
            .name(format!("hawser-shard-{index}"))
            .spawn(move || {
                let fail = |e: &dyn std::fmt::Display| {
                    let _ = ready.send(Err(spawn_error_hint(&format!(
                        "shard {index} on CPU {cpu}: {e}"
                    ))));
                };
                if let Err(e) = pin_to_cpu(cpu) {
                    fail(&format_args!("cannot pin the thread: {e}"));
                    return;
                }
                exec::set_spin_before_park(spin);
                let shard = run_shard(spec);
                let mode = move |m: exec::RingMode| {
                    if debug {
                        eprintln!("hawser: shard {index}: io_uring set up as {m:?}");
                    }
                };
                if let Err(e) = exec::run_with(shard, mode) {
                    fail(&e);
                }
            })
            .map_err(|e| spawn_error_hint(&format!("shard {index} on CPU {cpu}: {e}")))?;
        handles.push(h);
    }
    drop(ready_tx);
    for _ in 0..cpus.len() {
        match ready_rx.recv_timeout(Duration::from_secs(30)) {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => {
                return Err(spawn_error_hint(
                    "a shard did not start (its executor failed to initialise)",
                ));
            }
        }
    }
    let shard_txs = Arc::new(shard_txs);

    // Namer watchers feed every shard.
    let stop = Arc::new(AtomicBool::new(false));
    let state = Arc::new(ControlState {
        config: config.clone(),
        routers: routers.clone(),
        namers: Mutex::new(initial),
        shutdown: Mutex::new(None),
        shards: shard_txs.clone(),
    });
    let (shut_tx, shut_rx) = unbounded::<ShutdownEvent>();
    *state.shutdown.lock().unwrap_or_else(|p| p.into_inner()) = Some(shut_tx.clone());
    {
        let txs = shard_txs.clone();
        let state = state.clone();
        namers.watch(stop.clone(), move |update: NamerUpdate| {
            if info {
                for p in &update.problems {
                    eprintln!("hawser: namer {}: {p}", update.prefix);
                }
            }
            state.set_namer(update.clone());
            for tx in txs.iter() {
                let _ = tx.send(ShardMsg::Namer(update.clone()));
            }
        })?;
    }
    let admin = spawn_admin(admin_listener, state.clone(), stop.clone())
        .map_err(|e| format!("admin: {e}"))?;
    let _signals = watch_signals(shut_tx).map_err(|e| format!("signals: {e}"))?;

    if info {
        for r in routers.iter() {
            for s in &r.servers {
                let protocol = if r.thrift.is_some() {
                    "thrift (framed, binary)"
                } else if r.h2.is_some() {
                    "h2 (cleartext, prior knowledge)"
                } else {
                    "http"
                };
                eprintln!(
                    "hawser: router `{}` serving {protocol} on {}",
                    r.label, s.addr
                );
            }
        }
        eprintln!(
            "hawser: {} shard(s) on CPU(s) {:?}; admin on http://{}",
            cpus.len(),
            cpus,
            admin_addr
        );
    }

    // Wait for a shutdown request, then drain.
    let _ = shut_rx.recv();
    let deadline = Instant::now() + config.runtime.drain_timeout;
    if info {
        eprintln!(
            "hawser: draining (up to {} ms)",
            config.runtime.drain_timeout.as_millis()
        );
    }
    for tx in shard_txs.iter() {
        let _ = tx.send(ShardMsg::Drain { deadline });
    }
    for h in handles {
        let _ = h.join();
    }
    stop.store(true, Ordering::Relaxed);
    let _ = admin.join();
    if info {
        eprintln!("hawser: stopped");
    }
    Ok(())
}

/// Pins the calling thread to `cpu`.
fn pin_to_cpu(cpu: usize) -> std::io::Result<()> {
    if cpu >= libc::CPU_SETSIZE as usize {
        return Err(std::io::Error::from_raw_os_error(libc::EINVAL));
    }
    // SAFETY: `set` is a plain bitmask initialised by CPU_ZERO; `cpu` is
    // below CPU_SETSIZE; the size passed is the set's size.
    let rc = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_ZERO(&mut set);
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set)
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// What the admin server sees.
struct ControlState {
    config: Config,
    routers: Arc<Vec<RouterPlan>>,
    namers: Mutex<Vec<NamerUpdate>>,
    shutdown: Mutex<Option<Sender<ShutdownEvent>>>,
    shards: Arc<Vec<Sender<ShardMsg>>>,
}

/// How long a scrape waits for the shards' counters (a shard answers on its next control
/// tick, every 50 ms, unless it is busy with a long run of requests).
const SCRAPE_WAIT: Duration = Duration::from_secs(1);

impl ControlState {
    fn set_namer(&self, update: NamerUpdate) {
        let mut n = self.namers.lock().unwrap_or_else(|p| p.into_inner());
        match n.iter_mut().find(|u| u.prefix == update.prefix) {
            Some(slot) => *slot = update,
            None => n.push(update),
        }
    }

    /// Every shard's counters, merged (a shard that does not answer within [`SCRAPE_WAIT`]
    /// is left out: `hawser_shards_answered` says so).
    fn gather(&self) -> crate::telemetry::Merged {
        let labels = self.routers.iter().map(|r| r.label.clone());
        let mut merged = crate::telemetry::Merged::new(labels, self.shards.len());
        let (tx, rx) = unbounded();
        let asked = self
            .shards
            .iter()
            .filter(|s| s.send(ShardMsg::Stats(tx.clone())).is_ok())
            .count();
        drop(tx);
        let deadline = Instant::now() + SCRAPE_WAIT;
        for _ in 0..asked {
            match rx.recv_deadline(deadline) {
                Ok(snap) => merged.add(snap),
                Err(_) => break,
            }
        }
        merged
    }
}

impl AdminBackend for ControlState {
    fn metrics(&self, prefix: &str) -> String {
        crate::telemetry::render(self.gather(), prefix)
    }

    fn influxdb(&self, host: &str) -> Option<String> {
        self.config
            .influxdb
            .then(|| crate::telemetry::render_influx(&self.gather(), host))
    }

    fn recent_requests(&self) -> Option<Vec<(String, crate::telemetry::RecentRequest)>> {
        let capacity = self.config.recent_requests.as_ref()?.capacity;
        let rows = self
            .gather()
            .routers
            .into_iter()
            .flat_map(|(label, snap)| snap.recent.into_iter().map(move |r| (label.clone(), r)))
            .collect();
        Some(crate::telemetry::recent::newest(rows, capacity))
    }

    fn metrics_path(&self) -> Option<(&str, &str)> {
        let p = self.config.prometheus.as_ref()?;
        Some((p.path.as_str(), p.prefix.as_str()))
    }

    fn delegate(
        &self,
        router: Option<&str>,
        path: &str,
        dtab: &str,
    ) -> Result<serde_json::Value, String> {
        let plan = match router {
            Some(label) => self
                .routers
                .iter()
                .find(|r| r.label == label)
                .ok_or_else(|| format!("no router labelled `{label}`"))?,
            None => self.routers.first().ok_or("no routers configured")?,
        };
        let namers = self
            .namers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        plan.delegate_json(path, dtab, &namers)
    }

    fn config_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or(serde_json::Value::Null)
    }

    fn shutdown(&self) {
        if let Some(tx) = &*self.shutdown.lock().unwrap_or_else(|p| p.into_inner()) {
            let _ = tx.send(ShutdownEvent::Drain);
        }
    }
}
