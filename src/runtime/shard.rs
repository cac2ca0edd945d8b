//! One shard: a pinned executor (`exec`) that binds every server with
//! `SO_REUSEPORT`, serves connections, and applies control messages
//! between requests.

use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use futures_lite::future;

use super::exec::{sleep, spawn_local};
use super::{COARSE_TICK, CoarseTimers, Drain};
use crate::discovery::NamerTable;
use crate::net::{Scratch, bind_reuseport};
use crate::server::{ConnEnv, Router, RouterPlan, serve_h2, serve_http1, serve_thrift};

/// How often a shard looks at its control channel.
const CONTROL_TICK: Duration = Duration::from_millis(50);
/// How often idle upstream connections are swept.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// Messages from the control thread to every shard.
#[derive(Debug, Clone)]
pub enum ShardMsg {
    /// A namer's address sets changed.
    Namer(crate::discovery::NamerUpdate),
    /// Stop accepting, finish in-flight requests, close idle connections,
    /// and stop after `deadline` at the latest.
    Drain { deadline: Instant },
    /// Send a copy of every router's counters (in config order).
    Stats(Sender<Vec<crate::telemetry::RouterSnap>>),
}

/// What a shard is started with.
pub struct ShardSpec {
    /// Index among shards.
    pub index: usize,
    /// The routers, shared read-only by all shards.
    pub routers: Arc<Vec<RouterPlan>>,
    /// Initial namer state.
    pub namers: Vec<crate::discovery::NamerUpdate>,
    /// Control messages.
    pub rx: Receiver<ShardMsg>,
    /// Start-up result: Ok once every listener is bound.
    pub ready: Sender<Result<usize, String>>,
}

/// The shard's main future: runs until drained.
pub async fn run_shard(spec: ShardSpec) {
    let scratch = Rc::new(Scratch::default());
    let drain = Rc::new(Drain::default());
    let timers = Rc::new(CoarseTimers::default());
    {
        let timers = timers.clone();
        spawn_local(async move {
            loop {
                sleep(COARSE_TICK).await;
                timers.fire(Instant::now());
            }
        })
        .detach();
    }
    let namers = Rc::new(NamerTable::new(spec.namers));
    let mut routers = Vec::new();
    let mut accept_tasks = Vec::new();
    for plan in spec.routers.iter() {
        let router = Rc::new(Router::new(plan, namers.clone()));
        for server in &plan.servers {
            let listener = match bind_reuseport(server.addr) {
                Ok(l) => l,
                Err(e) => {
                    let _ = spec.ready.send(Err(format!(
                        "router `{}`: cannot listen on {}: {e}",
                        plan.label, server.addr
                    )));
                    return;
                }
            };
            let env = Rc::new(ConnEnv {
                router: router.clone(),
                clear_context: server.clear_context,
                scratch: scratch.clone(),
                drain: drain.clone(),
                timers: timers.clone(),
                h2: server.h2,
                server: server.addr,
            });
            let drain = drain.clone();
            let thrift = plan.thrift.is_some();
            let h2 = plan.h2.is_some();
            accept_tasks.push(spawn_local(async move {
                loop {
                    let accepted = future::or(async { Some(listener.accept().await) }, async {
                        drain.wait().await;
                        None
                    })
                    .await;
                    match accepted {
                        None => break,
                        Some(Ok((stream, peer))) if h2 => {
                            spawn_local(serve_h2(stream, peer, env.clone())).detach();
                        }
                        Some(Ok((stream, peer))) if thrift => {
                            spawn_local(serve_thrift(stream, peer, env.clone())).detach();
                        }
                        Some(Ok((stream, peer))) => {
                            spawn_local(serve_http1(stream, peer, env.clone())).detach();
                        }
                        Some(Err(e)) => {
                            // EMFILE and friends: back off briefly instead of spinning.
                            eprintln!(
                                "hawser: accept on {}: {e}",
                                listener
                                    .local_addr()
                                    .map(|a| a.to_string())
                                    .unwrap_or_default()
                            );
                            sleep(Duration::from_millis(10)).await;
                        }
                    }
                }
                // The listener drops here: this shard accepts no more.
            }));
        }
        routers.push(router);
    }
    let _ = spec.ready.send(Ok(spec.index));

    let mut last_sweep = Instant::now();
    let deadline = loop {
        sleep(CONTROL_TICK).await;
        let mut drain_at = None;
        while let Ok(msg) = spec.rx.try_recv() {
            match msg {
                ShardMsg::Namer(update) => namers.update(update),
                ShardMsg::Drain { deadline } => drain_at = Some(deadline),
                ShardMsg::Stats(reply) => {
                    let snap = routers
                        .iter()
                        .map(|r| {
                            let h2 = r.h2_pool.as_ref().map_or(0, |p| p.connects());
                            r.stats.snapshot(r.pool.connects() + h2)
                        })
                        .collect();
                    let _ = reply.send(snap);
                }
            }
        }
        if let Some(d) = drain_at {
            break d;
        }
        let now = Instant::now();
        if now.duration_since(last_sweep) >= SWEEP_EVERY {
            last_sweep = now;
            for r in &routers {
                r.pool.sweep(now);
                if let Some(p) = &r.h2_pool {
                    p.sweep(now);
                }
            }
            release_freed_memory();
        }
    };
    drain.start();
    for t in accept_tasks {
        t.await;
    }
    let left = deadline.saturating_duration_since(Instant::now());
    future::or(drain.idle(), sleep(left)).await;
    if drain.open_connections() > 0 {
        eprintln!(
            "hawser: shard {}: drain timeout with {} connection(s) open; closing them",
            spec.index,
            drain.open_connections()
        );
    }
}

/// Hands memory this shard freed back to the OS. mimalloc purges freed pages
/// lazily, on a later allocation; a shard that goes quiet after a burst (say,
/// thousands of first requests on connections that then idle) would keep the
/// burst's pages resident indefinitely. Once a second is cheap next to that.
fn release_freed_memory() {
    // SAFETY: mi_collect only walks and purges the calling thread's own
    // mimalloc heap (hawser's global allocator); it has no preconditions.
    unsafe { libmimalloc_sys::mi_collect(true) };
}
