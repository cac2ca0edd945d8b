//! The admin server and the command line, against the real binary: ping,
//! `/delegator.json` (default router, `namespace`, a request dtab),
//! `/config.json`, the embedded quick start, `--version`/`--help`, `check`
//! exit statuses and `file:line:col:` diagnostics, and start-up failures
//! (bad config, `--cores 0`, a port already taken, a locked-memory limit
//! too low) that must end in a clear message and a non-zero exit, not a panic.

mod support;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use support::*;

const QUICK: Duration = Duration::from_secs(20);

/// Percent-encodes a query parameter value.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Every `bound.id` of a leaf in a delegator tree, depth first.
fn bound_ids(tree: &Value, out: &mut Vec<String>) {
    match tree {
        Value::Object(m) => {
            if m.get("type").and_then(Value::as_str) == Some("leaf")
                && let Some(id) = m
                    .get("bound")
                    .and_then(|b| b.get("id"))
                    .and_then(Value::as_str)
            {
                out.push(id.to_string());
            }
            for v in m.values() {
                bound_ids(v, out);
            }
        }
        Value::Array(vs) => vs.iter().for_each(|v| bound_ids(v, out)),
        _ => {}
    }
}

fn leaves(tree: &Value) -> Vec<String> {
    let mut out = Vec::new();
    bound_ids(tree, &mut out);
    out
}

/// Two routers (`out` first, `in`) over one fs namer directory.
fn two_routers() -> (Hawser, u16, PathBuf) {
    let disco = temp_dir("disco");
    write_service(&disco, "web", "127.0.0.1 8080\n");
    write_service(&disco, "api", "127.0.0.1 8081\n");
    let (admin, p_out, p_in) = (unique_port(), unique_port(), unique_port());
    let yaml = format!(
        "admin:
  ip: 127.0.0.1
  port: {admin}
namers:
- kind: io.l5d.fs
  rootDir: {disco}
routers:
- protocol: http
  label: out
  dtab: |
    /svc => /#/io.l5d.fs;
  servers:
  - ip: 127.0.0.1
    port: {p_out}
- protocol: http
  label: in
  dtab: |
    /svc/web => /#/io.l5d.fs/api;
  servers:
  - ip: 127.0.0.1
    port: {p_in}
    clearContext: true
",
        disco = disco.display()
    );
    let h = Hawser::start(&yaml, admin, 1);
    (h, admin, disco)
}

#[test]
fn admin_ping_delegator_and_config_json() {
    let (h, admin, disco) = two_routers();
    let ping = get(admin, "/admin/ping").unwrap();
    assert_eq!((ping.status, ping.body_str().trim()), (200, "pong"));

    // Default router (the first): /svc/web binds to the fs name.
    let r = get(admin, "/delegator.json?path=/svc/web").unwrap();
    assert_eq!(r.status, 200, "{}", r.body_str());
    let tree = r.json();
    assert_eq!(tree["path"], "/svc/web");
    assert_eq!(leaves(&tree), ["/#/io.l5d.fs/web"], "{tree}");
    // The leaf shows the namer's current addresses, as linkerd's delegator does.
    let leaf = &tree["delegate"];
    assert_eq!(leaf["type"], "leaf", "{tree}");
    assert_eq!(leaf["bound"]["addr"]["type"], "bound", "{tree}");
    assert_eq!(
        leaf["bound"]["addr"]["addrs"][0]["ip"], "127.0.0.1",
        "{tree}"
    );
    assert_eq!(leaf["bound"]["addr"]["addrs"][0]["port"], 8080, "{tree}");

    // A dtab parameter is appended to the router's.
    let dtab = enc("/svc/alias => /#/io.l5d.fs/web");
    let r = get(
        admin,
        &format!("/delegator.json?path=/svc/alias&dtab={dtab}"),
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.body_str());
    assert_eq!(leaves(&r.json()), ["/#/io.l5d.fs/web"], "{}", r.body_str());
    // ...and it wins over the router's dentries for the same prefix.
    let dtab = enc("/svc/web => /#/io.l5d.fs/api");
    let r = get(admin, &format!("/delegator.json?path=/svc/web&dtab={dtab}")).unwrap();
    assert!(
        leaves(&r.json()).contains(&"/#/io.l5d.fs/api".to_string()),
        "{}",
        r.body_str()
    );

    // namespace selects a router by label.
    let r = get(admin, "/delegator.json?path=/svc/web&namespace=in").unwrap();
    assert_eq!(r.status, 200, "{}", r.body_str());
    assert_eq!(leaves(&r.json()), ["/#/io.l5d.fs/api"], "{}", r.body_str());
    // A name nothing binds has no leaf.
    let r = get(admin, "/delegator.json?path=/svc/nowhere&namespace=in").unwrap();
    assert_eq!(r.status, 200);
    assert!(leaves(&r.json()).is_empty(), "{}", r.body_str());

    // Unknown label, bad path, bad dtab: 400 with a JSON error that says why.
    let r = get(admin, "/delegator.json?path=/svc/web&namespace=nope").unwrap();
    assert_eq!(r.status, 400);
    assert!(
        r.json()["error"].as_str().unwrap().contains("nope"),
        "{}",
        r.body_str()
    );
    let r = get(admin, "/delegator.json?path=svc").unwrap();
    assert_eq!(r.status, 400, "{}", r.body_str());
    let r = get(
        admin,
        &format!("/delegator.json?path=/svc/web&dtab={}", enc("/a =>")),
    )
    .unwrap();
    assert_eq!(r.status, 400, "{}", r.body_str());

    // /config.json reflects what was loaded.
    let r = get(admin, "/config.json").unwrap();
    assert_eq!(r.status, 200);
    let cfg = r.json();
    assert_eq!(cfg["admin"]["port"], admin);
    let labels: Vec<&str> = cfg["routers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["out", "in"]);
    assert!(
        cfg["routers"][1]["dtab"]
            .as_str()
            .unwrap()
            .contains("/#/io.l5d.fs/api")
    );
    assert_eq!(cfg["routers"][1]["servers"][0]["clearContext"], true);
    assert_eq!(cfg["namers"][0]["kind"], "io.l5d.fs");
    assert_eq!(
        cfg["namers"][0]["rootDir"].as_str(),
        Some(disco.to_str().unwrap()),
        "linkerd's key names: {}",
        cfg["namers"][0]
    );
    drop(h);
}

fn port_is_free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

#[test]
fn run_without_config_serves_the_quick_start() {
    if !port_is_free(4140) || !port_is_free(9990) {
        println!("note: 127.0.0.1:4140 or :9990 is busy; skipping the quick-start test");
        return;
    }
    let child = Command::new(hawser_bin())
        .args(["run", "--cores", "1"])
        .spawn()
        .unwrap();
    let mut h = Hawser {
        child,
        admin: 9990,
        dir: temp_dir("quick"),
        config: PathBuf::new(),
    };
    let up = eventually(QUICK, || {
        if let Ok(Some(status)) = h.child.try_wait() {
            panic!("hawser run (quick start) exited: {status}");
        }
        get(9990, "/admin/ping").is_ok_and(|r| r.status == 200)
    });
    assert!(up, "the quick start's admin server did not come up");
    let out = curl(&["-H", "Host: x", "http://127.0.0.1:4140/admin/ping"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "pong");
    assert!(
        h.terminate(Duration::from_secs(15))
            .is_some_and(|s| s.success())
    );
}

#[test]
fn version_and_help() {
    let v = hawser_cmd(&["--version"], QUICK);
    assert_eq!(v.code(), 0);
    assert!(v.stdout.starts_with("hawser "), "{}", v.stdout);
    assert!(v.stdout.contains(env!("CARGO_PKG_VERSION")));
    for args in [
        &["--help"][..],
        &["-h"],
        &["run", "--help"],
        &["check", "--help"],
    ] {
        let h = hawser_cmd(args, QUICK);
        assert_eq!(h.code(), 0, "{args:?}");
        assert!(
            h.stdout.contains("run") && h.stdout.contains("check"),
            "{}",
            h.stdout
        );
    }
    let bad = hawser_cmd(&["frobnicate"], QUICK);
    assert_ne!(bad.code(), 0);
    assert!(bad.stderr.contains("frobnicate"), "{}", bad.stderr);
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const GOOD: &str = "admin:
  ip: 127.0.0.1
  port: 9990
routers:
- protocol: http
  label: out
  dtab: |
    /svc => /$/inet/127.0.0.1/8080;
  servers:
  - ip: 127.0.0.1
    port: 4140
";

#[test]
fn check_exit_statuses_and_positions() {
    let dir = temp_dir("check");
    let good = write(&dir, "good.yaml", GOOD);
    let r = hawser_cmd(&["check", good.to_str().unwrap()], QUICK);
    assert_eq!(r.code(), 0, "{}", r.all());
    let quick = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart.yaml");
    assert_eq!(
        hawser_cmd(&["check", quick.to_str().unwrap()], QUICK).code(),
        0
    );

    // An unknown key on line 12: exit 2, `file:12:col:` naming the key.
    let bad = write(
        &dir,
        "unknown.yaml",
        &GOOD.replace("    port: 4140\n", "    port: 4140\n    bogusKey: 1\n"),
    );
    let r = hawser_cmd(&["check", bad.to_str().unwrap()], QUICK);
    assert_eq!(r.code(), 2, "{}", r.all());
    let want = format!("{}:12:5:", bad.display());
    assert!(
        r.stdout.contains(&want) && r.stdout.contains("bogusKey"),
        "want {want}: {}",
        r.all()
    );

    // A dtab syntax error is reported at its own line (line 9, the second dentry).
    let dtab = write(
        &dir,
        "dtab.yaml",
        &GOOD.replace(
            "    /svc => /$/inet/127.0.0.1/8080;\n",
            "    /svc => /$/inet/127.0.0.1/8080;\n    /svc/x => => /y;\n",
        ),
    );
    let r = hawser_cmd(&["check", dtab.to_str().unwrap()], QUICK);
    assert_eq!(r.code(), 2, "{}", r.all());
    let want = format!("{}:9:", dtab.display());
    assert!(
        r.stdout.contains(&want) && r.stdout.contains("dtab"),
        "want {want}: {}",
        r.all()
    );

    // A real linkerd 1.x config using features hawser lacks: exit 1, each with a position.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = ["../shared", "../../shared"]
        .iter()
        .map(|rel| {
            root.join(rel)
                .join("compat/linkerd-examples/consul__linkerd.yml")
        })
        .find(|p| p.is_file());
    match corpus {
        None => {
            println!("note: shared/compat/linkerd-examples is absent; skipping the linkerd file")
        }
        Some(consul) => {
            let r = hawser_cmd(&["check", consul.to_str().unwrap()], QUICK);
            assert_eq!(r.code(), 1, "{}", r.all());
            let want = format!("{}:6:9:", consul.display());
            assert!(
                r.stdout.contains(&want) && r.stdout.contains("io.l5d.consul"),
                "{}",
                r.all()
            );
            assert!(r.stdout.contains("not support"), "{}", r.all());
        }
    }
}

#[test]
fn run_refuses_bad_configs_and_options() {
    let dir = temp_dir("run-bad");
    let bad = write(
        &dir,
        "bad.yaml",
        &GOOD.replace("  label: out\n", "  label: out\n  colour: blue\n"),
    );
    let r = hawser_cmd(&["run", bad.to_str().unwrap()], QUICK);
    assert_ne!(r.code(), 0);
    let want = format!("{}:7:3:", bad.display());
    assert!(
        r.stderr.contains(&want) && r.stderr.contains("colour"),
        "want {want}: {}",
        r.all()
    );
    assert!(!r.all().contains("panicked"), "{}", r.all());

    let missing = dir.join("no-such.yaml");
    let r = hawser_cmd(&["run", missing.to_str().unwrap()], QUICK);
    assert_ne!(r.code(), 0);
    assert!(r.stderr.contains("no-such.yaml"), "{}", r.all());

    let good = write(&dir, "good.yaml", GOOD);
    for cores in ["0", "-1", "many"] {
        let r = hawser_cmd(&["run", good.to_str().unwrap(), "--cores", cores], QUICK);
        assert_ne!(r.code(), 0, "--cores {cores}");
        assert!(r.stderr.contains("--cores"), "{}", r.all());
    }
}

/// A config on `admin` and `port` with an fs-free dtab.
fn config_on(admin: u16, port: u16) -> String {
    GOOD.replace("port: 9990", &format!("port: {admin}"))
        .replace("port: 4140", &format!("port: {port}"))
}

#[test]
fn start_up_fails_clearly_when_a_port_is_taken() {
    let dir = temp_dir("taken");
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();

    let cfg = write(&dir, "router.yaml", &config_on(unique_port(), port));
    let r = hawser_cmd(&["run", cfg.to_str().unwrap(), "--cores", "1"], QUICK);
    assert!(
        r.status.is_some(),
        "hawser must exit, not hang: {}",
        r.all()
    );
    assert_ne!(r.code(), 0);
    assert!(
        r.stderr.contains(&format!("127.0.0.1:{port}")),
        "{}",
        r.all()
    );
    assert!(!r.all().contains("panicked"), "{}", r.all());

    let cfg = write(&dir, "admin.yaml", &config_on(port, unique_port()));
    let r = hawser_cmd(&["run", cfg.to_str().unwrap(), "--cores", "1"], QUICK);
    assert_ne!(r.code(), 0);
    assert!(
        r.stderr.contains(&format!("127.0.0.1:{port}")) && r.stderr.contains("admin"),
        "{}",
        r.all()
    );
    drop(taken);
}

#[test]
fn start_up_fails_clearly_when_locked_memory_is_too_low() {
    if Command::new("prlimit").arg("--version").output().is_err() {
        println!("note: prlimit (util-linux) is absent; skipping the memlock test");
        return;
    }
    let dir = temp_dir("memlock");
    let cfg = write(&dir, "c.yaml", &config_on(unique_port(), unique_port()));
    let mut cmd = Command::new("prlimit");
    cmd.args(["--memlock=65536:65536", hawser_bin(), "run"])
        .arg(&cfg)
        .args(["--cores", "1"]);
    let r = run_bounded(cmd, QUICK);
    assert!(r.status.is_some(), "must exit, not hang: {}", r.all());
    assert_ne!(r.code(), 0, "{}", r.all());
    assert!(r.stderr.contains("ulimit -l"), "names the fix: {}", r.all());
    assert!(!r.all().contains("panicked"), "{}", r.all());
}

#[test]
fn default_io_memory_starts_every_shard_under_the_stock_8_mib_limit() {
    if Command::new("prlimit").arg("--version").output().is_err() {
        println!("note: prlimit (util-linux) is absent; skipping the memlock test");
        return;
    }
    let dir = temp_dir("memlock8");
    let (admin, port) = (unique_port(), unique_port());
    let cfg = write(&dir, "c.yaml", &config_on(admin, port));
    let cores = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(2);
    let mut child = Command::new("prlimit")
        .args(["--memlock=8388608:8388608", hawser_bin(), "run"])
        .arg(&cfg)
        .args(["--cores", &cores.to_string()])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let up = eventually(Duration::from_secs(10), || {
        get(admin, "/admin/ping").is_ok_and(|r| r.status == 200)
    });
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    assert!(
        up,
        "hawser with {cores} shard(s) did not start under an 8 MiB memlock limit: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
