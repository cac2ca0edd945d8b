//! The real binary's `tune check` and `--profile`: exit statuses scripts rely on, the
//! documented one-line format, a real seccomp filter that blocks io_uring, and diagnostics
//! that name the profile file.

use std::os::unix::process::CommandExt;
use std::process::{Command, Output};

fn hawser(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hawser"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("hawser runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `NAME: current VALUE, recommended [>= |<= ]VALUE` with NAME a key of `keys`.
fn assert_documented_format(line: &str, keys: &[String]) {
    let (name, rest) = line
        .split_once(": current ")
        .unwrap_or_else(|| panic!("{line}"));
    assert!(keys.iter().any(|k| k == name), "unknown name in {line:?}");
    let (current, recommended) = rest
        .rsplit_once(", recommended ")
        .unwrap_or_else(|| panic!("{line}"));
    assert!(!current.is_empty() && !recommended.is_empty(), "{line:?}");
}

fn keys(profile: hawser::tune::HostProfile) -> Vec<String> {
    let mut keys: Vec<String> = profile
        .settings()
        .unwrap()
        .into_iter()
        .map(|s| s.key)
        .collect();
    keys.extend(
        [
            "RLIMIT_NOFILE",
            "RLIMIT_MEMLOCK",
            "kernel.io_uring_group",
            "seccomp",
            "io_uring_setup",
        ]
        .map(String::from),
    );
    keys
}

#[test]
fn tune_check_service_exits_0_or_1_with_one_documented_line_per_difference() {
    let out = hawser(&["tune", "check", "--profile", "service"]);
    let code = out.status.code().expect("an exit status");
    let text = stdout(&out);
    let keys = keys(hawser::tune::HostProfile::Service);
    match code {
        0 => assert_eq!(text, "", "exit 0 means nothing differs"),
        1 => assert!(!text.is_empty(), "exit 1 means something differs"),
        other => panic!("exit {other}: {}", String::from_utf8_lossy(&out.stderr)),
    }
    for line in text.lines() {
        assert_documented_format(line, &keys);
    }
}

#[test]
fn tune_check_reads_this_process_limits() {
    // A lowered soft limit is always allowed, so the check must report exactly it.
    let bin = env!("CARGO_BIN_EXE_hawser");
    let out = Command::new("sh")
        .args([
            "-c",
            &format!("ulimit -S -n 512 && exec '{bin}' tune check --profile edge"),
        ])
        .output()
        .expect("sh runs");
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.lines()
            .any(|l| l == "RLIMIT_NOFILE: current 512, recommended >= 1048576"),
        "{text}"
    );
    for line in text.lines() {
        assert_documented_format(line, &keys(hawser::tune::HostProfile::Edge));
    }
}

#[test]
fn tune_usage_errors_exit_2() {
    for args in [
        &["tune"][..],
        &["tune", "list"],
        &["tune", "check", "--profile"],
        &["tune", "check", "--profile", "laptop"],
        &["tune", "check", "extra"],
    ] {
        let out = hawser(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(stdout(&out), "", "{args:?}");
    }
}

#[test]
fn check_with_shipped_profiles_over_the_quickstart_is_clean() {
    let out = hawser(&[
        "check",
        "examples/quickstart.yaml",
        "--profile",
        "tuning/profiles/throughput.yaml",
        "--profile",
        "tuning/profiles/small-memory.yaml",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn check_names_the_profile_file_line_and_column() {
    let dir = std::env::temp_dir().join(format!("hawser-profile-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let profile = dir.join("p.yaml");
    std::fs::write(&profile, "runtime:\n  maxHeaderCount: 0\n").unwrap();
    let p = profile.to_str().unwrap();
    let out = hawser(&["check", "examples/quickstart.yaml", "--profile", p]);
    assert_eq!(out.status.code(), Some(2));
    let text = stdout(&out);
    assert!(text.starts_with(&format!("{p}:2:19: ")), "{text}");
    // An unreadable profile is an error too, naming it.
    let missing = dir.join("missing.yaml");
    let m = missing.to_str().unwrap();
    let out = hawser(&["check", "examples/quickstart.yaml", "--profile", m]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).starts_with(&format!("{m}: cannot read the profile")));
    // `run` refuses the same profile before starting anything.
    let out = hawser(&["run", "examples/quickstart.yaml", "--profile", p]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{p}:2:19: ")), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `hawser tune check` under a seccomp filter (installed in the child before exec, as a
/// container runtime or systemd does) that answers `io_uring_setup` with `action`.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn tune_check_under_seccomp(action: u32) -> Output {
    #[cfg(target_arch = "x86_64")]
    const AUDIT_ARCH: u32 = 0xc000_003e;
    #[cfg(target_arch = "aarch64")]
    const AUDIT_ARCH: u32 = 0xc000_00b7;
    const LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
    const JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
    const RET_K: u16 = 0x06; // BPF_RET | BPF_K
    let op = |code, jt, jf, k| libc::sock_filter { code, jt, jf, k };
    let filter = [
        // seccomp_data.arch: another ABI's numbers mean other calls; let those through.
        op(LD_W_ABS, 0, 0, 4),
        op(JEQ_K, 0, 3, AUDIT_ARCH),
        // seccomp_data.nr
        op(LD_W_ABS, 0, 0, 0),
        op(
            JEQ_K,
            0,
            1,
            u32::try_from(libc::SYS_io_uring_setup).unwrap(),
        ),
        op(RET_K, 0, 0, action),
        op(RET_K, 0, 0, libc::SECCOMP_RET_ALLOW),
    ];
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hawser"));
    cmd.args(["tune", "check"]);
    // SAFETY: the closure runs in the forked child before exec and makes only prctl calls
    // (async-signal-safe) on memory that outlives it (`filter`, captured by value).
    unsafe {
        cmd.pre_exec(move || {
            let prog = libc::sock_fprog {
                len: u16::try_from(filter.len()).unwrap(),
                filter: filter.as_ptr().cast_mut(),
            };
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                || libc::prctl(
                    libc::PR_SET_SECCOMP,
                    libc::SECCOMP_MODE_FILTER,
                    &raw const prog,
                ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.output().expect("hawser runs under the filter")
}

#[test]
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn tune_check_names_a_seccomp_filter_that_blocks_io_uring() {
    // Where the kernel setting already keeps this process out, that is what gets reported
    // (the unit tests cover it); this test needs io_uring allowed.
    let disabled = std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "0".into());
    if disabled != "0" {
        eprintln!("skipped: kernel.io_uring_disabled={disabled}");
        return;
    }
    let eperm = libc::SECCOMP_RET_ERRNO | u32::try_from(libc::EPERM).unwrap();
    for (action, blocked) in [
        (eperm, "fails (EPERM: Operation not permitted)"),
        // A filter that kills (systemd's SystemCallFilter= without SystemCallErrorNumber=):
        // the probe runs in a child, so the check itself survives to say so.
        (libc::SECCOMP_RET_KILL_PROCESS, "killed by SIGSYS"),
    ] {
        let out = tune_check_under_seccomp(action);
        let text = stdout(&out);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{text}{err}");
        let line = text
            .lines()
            .find(|l| l.starts_with("seccomp: "))
            .unwrap_or_else(|| panic!("no seccomp line: {text}{err}"));
        assert!(
            line.starts_with(&format!(
                "seccomp: current a filter (1 attached) that blocks io_uring_setup: {blocked}, \
                 recommended a profile that allows io_uring_setup, io_uring_enter and \
                 io_uring_register"
            )),
            "{line}"
        );
        for line in text.lines() {
            assert_documented_format(line, &keys(hawser::tune::HostProfile::Service));
        }
    }
    // The same filter allowing the call: io_uring works, and the filter is only a note.
    let out = tune_check_under_seccomp(libc::SECCOMP_RET_ALLOW);
    let text = stdout(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !text.contains("seccomp") && !text.contains("io_uring_setup"),
        "{text}"
    );
    assert!(
        err.contains(
            "note: seccomp: a filter (1 attached) is in force and lets io_uring_setup through"
        ),
        "{err}"
    );
}
