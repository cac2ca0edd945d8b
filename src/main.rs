//! The `hawser` command line. Everything else lives in the library.

use std::path::PathBuf;
use std::process::ExitCode;

use mimalloc::MiMalloc;

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

const HELP: &str = "\
hawser: a linker for the datacenter (linkerd 1.x config, thread-per-core io_uring engine)

USAGE:
    hawser run [CONFIG] [--profile FILE]... [--cores N] [--log-level LEVEL]
    hawser check CONFIG... [--profile FILE]...
    hawser tune check [--profile edge|service]
    hawser --version
    hawser --help

COMMANDS:
    run      Serve the routers of CONFIG (linkerd 1.x YAML). Without CONFIG, serve the
             embedded quick-start config (examples/quickstart.yaml): a router on
             127.0.0.1:4140 that routes every request to the admin server on 127.0.0.1:9990.
    check    Validate each CONFIG. Prints `file:line:col: message` per problem.
             Exit status: 0 valid and fully supported; 1 valid linkerd 1.x but it uses
             features hawser does not support yet; 2 invalid (syntax, unknown key, bad value).
    tune check
             Compare this host's kernel settings (/proc/sys) and this process's limits
             (RLIMIT_NOFILE, RLIMIT_MEMLOCK) with a host profile (tuning/sysctl/*.conf and
             the limits of tuning/hawser.service, built into the binary), and check that
             this process may create an io_uring (kernel.io_uring_group when
             kernel.io_uring_disabled=1, a seccomp filter, a test ring). Prints one line
             per difference, `NAME: current VALUE, recommended [>= |<= ]VALUE`.
             Exit status: 0 all match; 1 some differ; 2 usage error.

OPTIONS (run, check):
    --profile FILE     A partial config merged onto CONFIG before it is checked
                       (repeatable, applied in order; see tuning/profiles/ and
                       tuning/README.md). Mappings merge key by key; scalars and lists
                       replace; a `routers:` entry with `label` merges into that router,
                       one without `label` into every router.

OPTIONS (run):
    --cores N          Shards to start, one pinned per CPU (overrides runtime.cores;
                       default: every CPU this process may run on).
    --log-level LEVEL  error | warn | info | debug (default info).

OPTIONS (tune check):
    --profile NAME     edge (many clients) or service (low latency; the default).

OPTIONS (all):
    -h, --help         Print this help.
    -V, --version      Print the version.

SIGNALS:
    SIGTERM/SIGINT drain: stop accepting, finish in-flight requests, close idle connections,
    exit within runtime.drainTimeoutMs (default 10000). A second signal exits at once.
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("-h" | "--help" | "help") => {
            print!("{HELP}");
            if args.is_empty() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            }
        }
        Some("-V" | "--version") => {
            println!("hawser {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Some("check") => check(&args[1..]),
        Some("run") => run(&args[1..]),
        Some("tune") => tune(&args[1..]),
        Some(other) => {
            eprintln!("hawser: unknown command `{other}` (try `hawser --help`)");
            ExitCode::from(2)
        }
    }
}

fn check(args: &[String]) -> ExitCode {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        print!("{HELP}");
        return ExitCode::SUCCESS;
    }
    let mut configs = Vec::new();
    let mut profiles = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--profile" => match it.next() {
                Some(p) => profiles.push(PathBuf::from(p)),
                None => {
                    eprintln!("hawser check: --profile needs a FILE");
                    return ExitCode::from(2);
                }
            },
            s if s.starts_with('-') => {
                eprintln!("hawser check: unknown option `{s}` (try `hawser --help`)");
                return ExitCode::from(2);
            }
            s => configs.push(PathBuf::from(s)),
        }
    }
    if configs.is_empty() {
        eprintln!("hawser check: give at least one CONFIG file");
        return ExitCode::from(2);
    }
    let mut worst = 0u8;
    for c in &configs {
        let code = hawser::runtime::check_file_with_profiles(c, &profiles);
        worst = worst.max(code);
    }
    ExitCode::from(worst)
}

fn tune(args: &[String]) -> ExitCode {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        print!("{HELP}");
        return ExitCode::SUCCESS;
    }
    if args.first().map(String::as_str) != Some("check") {
        eprintln!("hawser tune: the subcommand is `hawser tune check [--profile edge|service]`");
        return ExitCode::from(2);
    }
    let mut profile = hawser::tune::HostProfile::default();
    let mut it = args[1..].iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--profile" => match it.next().and_then(|p| hawser::tune::HostProfile::parse(p)) {
                Some(p) => profile = p,
                None => {
                    eprintln!("hawser tune check: --profile needs `edge` or `service`");
                    return ExitCode::from(2);
                }
            },
            other => {
                eprintln!("hawser tune check: unexpected `{other}` (try `hawser --help`)");
                return ExitCode::from(2);
            }
        }
    }
    let host = hawser::tune::Host::current();
    match hawser::tune::check(profile, &host) {
        Ok(report) => {
            for f in &report.findings {
                println!("{f}");
            }
            for n in &report.notes {
                eprintln!("hawser tune check: note: {n}");
            }
            let source = format!("{} and tuning/hawser.service", profile.conf_path());
            if report.findings.is_empty() {
                eprintln!(
                    "hawser tune check: all {} settings match the {} profile ({source})",
                    report.checked,
                    profile.name()
                );
            } else {
                eprintln!(
                    "hawser tune check: {} of {} settings differ from the {} profile ({source}); \
                     see tuning/README.md",
                    report.findings.len(),
                    report.checked,
                    profile.name()
                );
            }
            ExitCode::from(report.exit_code())
        }
        Err(e) => {
            eprintln!("hawser tune check: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &[String]) -> ExitCode {
    let mut config: Option<PathBuf> = None;
    let mut opts = hawser::RunOptions::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-h" | "--help" => {
                print!("{HELP}");
                return ExitCode::SUCCESS;
            }
            "--cores" => match it.next().map(|v| v.parse::<usize>()) {
                Some(Ok(n)) if n > 0 => opts.cores = Some(n),
                _ => {
                    eprintln!("hawser run: --cores needs a positive number");
                    return ExitCode::from(2);
                }
            },
            "--profile" => match it.next() {
                Some(p) => opts.profiles.push(PathBuf::from(p)),
                None => {
                    eprintln!("hawser run: --profile needs a FILE");
                    return ExitCode::from(2);
                }
            },
            "--log-level" => match it.next().and_then(|v| hawser::LogLevel::parse(v)) {
                Some(l) => opts.log_level = l,
                None => {
                    eprintln!("hawser run: --log-level needs one of error, warn, info, debug");
                    return ExitCode::from(2);
                }
            },
            s if s.starts_with('-') => {
                eprintln!("hawser run: unknown option `{s}` (try `hawser --help`)");
                return ExitCode::from(2);
            }
            s => {
                if config.is_some() {
                    eprintln!("hawser run: only one CONFIG may be given");
                    return ExitCode::from(2);
                }
                config = Some(PathBuf::from(s));
            }
        }
    }
    match hawser::run(config.as_deref(), opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hawser: {e}");
            ExitCode::from(1)
        }
    }
}
