//! The `hawser-bench` command line: the comparison runner (default), the backend, a single load
//! run and the idle-connection memory check.

#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use hawser_bench::backend::{BackendSpec, start_backend};
use hawser_bench::idle::IdleArgs;
use hawser_bench::load::{LoadSpec, Mode, run_load};
use hawser_bench::procstat::{allowed_cpus, parse_cpu_list};
use hawser_bench::scenario::RunArgs;
use hawser_bench::shape::{Protocol, RequestShape};

/// hawser's load harness.
///
/// Without a subcommand it runs the comparison: the same HTTP/1.1 keep-alive workload direct to
/// a built-in backend, then through hawser, nginx and HAProxy (each pinned with taskset to the
/// same proxy cores; generator and backend on the other cores). For each: the maximum rate
/// (closed loop), p50/p99/p99.9 latency at 25/50/75% of the direct maximum (open loop,
/// coordinated-omission corrected), proxy CPU µs per request and RSS. Writes OUT/results.md,
/// OUT/results.json and OUT/latency.svg. On a noisy machine add --repeat N: every system is
/// measured N times, interleaved, and reported as means with 95% confidence intervals, with
/// ratios paired by round.
///
/// Request shapes (--protocol): http1 (default), thrift (framed transport, binary protocol:
/// one call of method "echo" per exchange, answered by a REPLY with a success binary of --size
/// bytes; compared direct, through hawser's thrift router, through HAProxy in TCP mode and
/// through nginx's stream module when nginx has it) and h2 (HTTP/2
/// cleartext with prior knowledge, --streams concurrent streams per connection; compared direct
/// and through hawser's h2 router, HAProxy and nginx).
///
/// Quick start: cargo run --release -p hawser-bench -- --quick --out /tmp/bench
#[derive(Parser, Debug)]
#[command(name = "hawser-bench", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Run the fast backend until killed: every HTTP/1.1 request gets 200 with SIZE bytes;
    /// every Thrift call a REPLY with a success binary of SIZE bytes; every HTTP/2 stream (h2c,
    /// prior knowledge) :status 200 with SIZE bytes of DATA.
    Backend {
        /// Port on 127.0.0.1 (every shard binds it with SO_REUSEPORT).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// What the backend speaks.
        #[arg(long, value_enum, default_value = "http1")]
        protocol: Protocol,
        /// Response body size in bytes (Thrift: the success binary's size).
        #[arg(long, default_value_t = 64, value_name = "BYTES")]
        size: usize,
        /// Latency added before each response, in microseconds.
        #[arg(long, default_value_t = 0, value_name = "US")]
        latency_us: u64,
        /// CPUs to run shards on, one shard each (e.g. 1 or 2-3). Default: every allowed CPU.
        #[arg(long, value_name = "LIST")]
        cpus: Option<String>,
    },
    /// One load run against an address; prints rate, errors and latency percentiles.
    Load {
        /// Target address, e.g. 127.0.0.1:4140.
        #[arg(long)]
        addr: SocketAddr,
        /// Open loop at this many requests per second (coordinated-omission corrected).
        /// Without it: closed loop, as fast as responses come back.
        #[arg(long, value_name = "RPS")]
        rate: Option<f64>,
        /// Keep-alive connections.
        #[arg(long, default_value_t = 64, value_name = "N")]
        connections: usize,
        /// Seconds measured.
        #[arg(long, default_value_t = 10.0, value_name = "SECS")]
        duration: f64,
        /// Seconds of load before measuring.
        #[arg(long, default_value_t = 1.0, value_name = "SECS")]
        warmup: f64,
        /// Generator CPUs, one shard each. Default: every allowed CPU.
        #[arg(long, value_name = "LIST")]
        cpus: Option<String>,
        /// Host header (the logical name a proxy routes on).
        #[arg(long, default_value = "web")]
        host: String,
        /// Thrift method name called (with --protocol thrift).
        #[arg(long, default_value = "echo")]
        method: String,
        /// Request body size in bytes (0: GET, otherwise POST); Thrift: the call's binary
        /// argument size.
        #[arg(long, default_value_t = 0, value_name = "BYTES")]
        request_size: usize,
        /// Expected response body size (Thrift: success binary size); a different size counts
        /// as an error.
        #[arg(long, value_name = "BYTES")]
        expect_size: Option<u64>,
        /// Request shape: http1, thrift (framed, binary) or h2 (HTTP/2 cleartext with prior
        /// knowledge; --host is its :authority).
        #[arg(long, value_enum, default_value = "http1")]
        protocol: Protocol,
        /// HTTP/2 only: concurrent streams per connection. Each of the connections x streams
        /// slots follows the schedule as a connection does for HTTP/1.1 (open loop: its share
        /// of --rate; closed loop: its next request as soon as its response is complete).
        #[arg(long, default_value_t = 8, value_name = "N")]
        streams: usize,
    },
    /// Idle-connection memory: N keep-alive connections through each proxy, one request each,
    /// then idle; reports each proxy's RSS growth per connection.
    Idle(IdleArgs),
}

fn cpus_or_all(list: Option<&str>) -> Result<Vec<usize>, String> {
    list.map_or_else(|| Ok(allowed_cpus()), parse_cpu_list)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.cmd {
        None => {
            let line = std::env::args().collect::<Vec<_>>().join(" ");
            hawser_bench::scenario::run(&cli.run, &line).map(|_| {
                let md = cli.run.out.join("results.md");
                if let Ok(text) = std::fs::read_to_string(&md) {
                    println!("{text}");
                }
                println!("wrote {}", cli.run.out.display());
            })
        }
        Some(Cmd::Backend {
            port,
            protocol,
            size,
            latency_us,
            cpus,
        }) => cpus_or_all(cpus.as_deref()).and_then(|cpus| {
            let b = start_backend(&BackendSpec {
                port,
                protocol,
                size,
                latency: Duration::from_micros(latency_us),
                cpus,
                stall: None,
            })?;
            eprintln!(
                "hawser-bench {} backend listening on {}",
                protocol.as_str(),
                b.addr()
            );
            b.wait();
            Ok(())
        }),
        Some(Cmd::Load {
            addr,
            rate,
            connections,
            duration,
            warmup,
            cpus,
            host,
            method,
            request_size,
            expect_size,
            protocol,
            streams,
        }) => cpus_or_all(cpus.as_deref()).and_then(|cpus| {
            let shape = match protocol {
                Protocol::Http1 => RequestShape::http1(&host, request_size),
                Protocol::Thrift => RequestShape::thrift(&method, request_size),
                Protocol::H2 => RequestShape::h2(&host, request_size),
            };
            let mode = rate.map_or(Mode::Closed, |rate| Mode::Open { rate });
            let r = run_load(&LoadSpec {
                addr,
                shape,
                mode,
                connections,
                streams,
                duration: Duration::from_secs_f64(duration.max(0.1)),
                warmup: Duration::from_secs_f64(warmup.max(0.0)),
                cpus,
                expect_body: expect_size,
                timeout: Duration::from_secs(5),
            })?;
            println!(
                "{:.0} req/s ({} completed, {} errors {:?}, {} reconnects, at most {} in flight per connection)",
                r.rps(mode),
                r.completed,
                r.error_count(),
                r.errors,
                r.reconnects,
                r.max_in_flight
            );
            for q in [0.5, 0.9, 0.99, 0.999, 1.0] {
                println!(
                    "p{:<6} {:>9} µs corrected {:>9} µs uncorrected",
                    q * 100.0,
                    r.corrected.value_at_quantile(q),
                    r.uncorrected.value_at_quantile(q)
                );
            }
            Ok(())
        }),
        Some(Cmd::Idle(args)) => hawser_bench::idle::run(&args).map(|_| ()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hawser-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
