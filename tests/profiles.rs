//! The shipped config profiles (`tuning/profiles/*.yaml`) against the real binary: each one
//! passes `hawser check` over the quick-start config, and a server started with
//! `hawser run CONFIG --profile tuning/profiles/throughput.yaml` enforces the profile's
//! `maxHeadersKB: 32` (default 8) on a real connection, not just in the merged config, and
//! its `runtime.spinBeforeParkUs` spins only after work: an idle server parks.

mod support;

use std::path::Path;
use std::time::Duration;

use support::*;

const THROUGHPUT: &str = "tuning/profiles/throughput.yaml";

fn manifest(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(rel)
        .to_str()
        .unwrap()
        .to_string()
}

/// A GET for `Host: web` whose header section (field lines and the final CRLF) is exactly
/// `len` bytes, as `maxHeadersKB` counts it.
fn section_of(len: usize) -> Vec<u8> {
    // "Host: web\r\n" (11) + "X-Fill: " v "\r\n" (10 + v) + "Connection: close\r\n" (19)
    // + "\r\n" (2).
    let fill = "v".repeat(len - 42);
    format!("GET /x HTTP/1.1\r\nHost: web\r\nX-Fill: {fill}\r\nConnection: close\r\n\r\n")
        .into_bytes()
}

/// The status of the one response to `req`, and whether hawser (not the backend) wrote it.
fn status_of(port: u16, req: &[u8]) -> (u16, bool) {
    let raw = raw_exchange(port, req, Duration::from_secs(10)).unwrap();
    let r = parse_responses(&raw)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no response: {}", String::from_utf8_lossy(&raw)));
    (r.status, r.header("l5d-err").is_some())
}

#[test]
fn each_shipped_profile_passes_check_over_the_quickstart() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tuning/profiles");
    let mut profiles: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| p.to_str().unwrap().to_string())
        .collect();
    profiles.sort();
    assert_eq!(profiles.len(), 3, "{profiles:?}");
    for p in &profiles {
        let out = hawser_cmd(
            &[
                "check",
                &manifest("examples/quickstart.yaml"),
                "--profile",
                p,
            ],
            Duration::from_secs(20),
        );
        assert_eq!(out.code(), 0, "{p}: {}", out.all());
    }
}

#[test]
fn a_running_server_enforces_the_profiles_header_limit() {
    let backend = Backend::start("web");
    let disco = temp_dir("disco");
    write_service(&disco, "web", &format!("127.0.0.1 {}\n", backend.port));
    // The bare config: the default 8 KiB limit.
    let (admin, port) = (free_port(), free_port());
    let yaml = fs_config(admin, port, &disco, "");
    let mut plain = Hawser::start(&yaml, admin, 1);
    // (The byte count is exact: one more than the limit is refused.)
    assert_eq!(status_of(port, &section_of(8192)), (200, false));
    assert_eq!(status_of(port, &section_of(8193)), (431, true));
    assert_eq!(status_of(port, &section_of(16384)), (431, true));
    plain.terminate(Duration::from_secs(10));
    // The same config with the throughput profile: 32 KiB.
    let (admin, port) = (free_port(), free_port());
    let yaml = fs_config(admin, port, &disco, "");
    let _h = Hawser::start_with(&yaml, admin, 1, &["--profile", &manifest(THROUGHPUT)]);
    assert_eq!(status_of(port, &section_of(16384)), (200, false));
    assert_eq!(status_of(port, &section_of(32768)), (200, false));
    assert_eq!(status_of(port, &section_of(32769)), (431, true));
    // And the profile says so, so this test follows it if the value changes.
    let text = std::fs::read_to_string(manifest(THROUGHPUT)).unwrap();
    assert!(text.contains("\n  maxHeadersKB: 32\n"), "{text}");
}

/// CPU time (user + system) `pid` has used so far, from /proc.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The fields after the command (which is in parentheses and may hold spaces).
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the command.
    let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    // SAFETY: sysconf has no preconditions.
    let hz = u64::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) }).unwrap();
    Duration::from_millis(ticks * 1000 / hz)
}

#[test]
fn the_throughput_profiles_spinning_stops_when_the_server_is_idle() {
    let text = std::fs::read_to_string(manifest(THROUGHPUT)).unwrap();
    assert!(text.contains("\n  spinBeforeParkUs: 200\n"), "{text}");
    let backend = Backend::start("web");
    let disco = temp_dir("disco");
    write_service(&disco, "web", &format!("127.0.0.1 {}\n", backend.port));
    let (admin, port) = (free_port(), free_port());
    let yaml = fs_config(admin, port, &disco, "");
    let h = Hawser::start_with(&yaml, admin, 1, &["--profile", &manifest(THROUGHPUT)]);
    // Requests work while the shard spins between them.
    for i in 0..200 {
        let r = send(port, &format!("/{i}"), Some("web"), &[]);
        assert_eq!(r.status, 200, "request {i}");
    }
    std::thread::sleep(Duration::from_millis(300));
    // Idle now: the shard must have parked. A shard that kept spinning would use a whole
    // CPU second per second here; parked, hawser wakes only for its timers (a few ms).
    let pid = h.child.id();
    let before = cpu_time(pid);
    std::thread::sleep(Duration::from_secs(2));
    let used = cpu_time(pid) - before;
    assert!(
        used < Duration::from_millis(300),
        "idle hawser used {used:?} of CPU in 2 s"
    );
}
