//! The real binary's `tune check` and `--profile`: exit statuses scripts rely on, the
//! documented one-line format, and diagnostics that name the profile file.

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
    keys.extend(["RLIMIT_NOFILE".to_string(), "RLIMIT_MEMLOCK".to_string()]);
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
