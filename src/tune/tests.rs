//! Tests for `hawser tune check`: the shipped files parse, the parser's rules, and the
//! comparison against a fake `/proc` directory.

use std::path::{Path, PathBuf};

use super::*;

/// A fresh empty directory under the target's temp dir, standing in for `/proc`.
fn fake_proc(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hawser-tune-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `value` as `/proc/sys/<key>` under `root`.
fn put(root: &Path, key: &str, value: &str) {
    let path = root.join("sys").join(key.replace('.', "/"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, value).unwrap();
}

/// A fake host that has every setting of `profile` at its recommended value (as the kernel
/// writes it: numbers separated by tabs, a trailing newline) and generous limits.
fn matching_host(name: &str, profile: HostProfile) -> Host {
    let root = fake_proc(name);
    for s in profile.settings().unwrap() {
        put(&root, &s.key, &format!("{}\n", s.value.replace(' ', "\t")));
    }
    Host {
        proc_root: root,
        nofile: Some(LimitValue::Finite(1 << 20)),
        memlock: Some(LimitValue::Infinity),
    }
}

#[test]
fn shipped_profiles_and_unit_parse() {
    let edge = HostProfile::Edge.settings().unwrap();
    let service = HostProfile::Service.settings().unwrap();
    let find = |s: &[Setting], k: &str| s.iter().find(|x| x.key == k).cloned().unwrap();
    let somaxconn = find(&edge, "net.core.somaxconn");
    assert_eq!(somaxconn.value, "65535");
    assert_eq!(somaxconn.rule, Rule::AtLeast);
    assert_eq!(
        find(&edge, "net.ipv4.ip_local_port_range").value,
        "1024 65535"
    );
    assert_eq!(find(&edge, "net.ipv4.tcp_fin_timeout").rule, Rule::AtMost);
    assert!(find(&service, "kernel.io_uring_disabled").absent_ok);
    assert_eq!(find(&service, "net.ipv4.tcp_autocorking").rule, Rule::Equal);
    let limits = unit_limits().unwrap();
    assert_eq!(limits.nofile, LimitValue::Finite(1_048_576));
    assert_eq!(limits.memlock, LimitValue::Finite(64 << 20));
}

#[test]
fn sysctl_parser_reads_the_sysctl_d_format() {
    let text = "# c\n; c\n\n-net.core.somaxconn=  4096\nnet/ipv4/tcp_rmem = 1\t2  3\n";
    let s = parse_sysctl(text).unwrap();
    assert_eq!(s.len(), 2);
    assert_eq!(
        (s[0].key.as_str(), s[0].value.as_str(), s[0].line),
        ("net.core.somaxconn", "4096", 4)
    );
    assert_eq!(s[1].key, "net.ipv4.tcp_rmem");
    assert_eq!(s[1].value, "1 2 3");
    assert_eq!(s[1].rule, Rule::Equal);
}

#[test]
fn check_lines_apply_to_the_next_setting_only() {
    let text = "# hawser-check: at-least, absent-ok\na.b = 1\nc.d = 2\n";
    let s = parse_sysctl(text).unwrap();
    assert_eq!((s[0].rule, s[0].absent_ok), (Rule::AtLeast, true));
    assert_eq!((s[1].rule, s[1].absent_ok), (Rule::Equal, false));
}

#[test]
fn sysctl_parser_rejects_what_it_cannot_compare() {
    let err = |t: &str| parse_sysctl(t).unwrap_err();
    assert_eq!(err("a.b = 1\nnonsense\n").line, 2);
    assert_eq!(err("a.b =\n").line, 1);
    assert!(err("a.b = 1\na.b = 2\n").message.contains("line 1"));
    assert!(
        err("# hawser-check: bigger\na.b = 1\n")
            .message
            .contains("bigger")
    );
    assert!(
        err("# hawser-check: at-least\na.b = x\n")
            .message
            .contains("not a number")
    );
    assert_eq!(err("a.b = 1\n# hawser-check: at-most\n").line, 2);
}

#[test]
fn unit_limits_read_sizes_soft_limits_and_infinity() {
    let u = parse_unit_limits("[Service]\nLimitNOFILE=1024:4096\nLimitMEMLOCK=infinity\n").unwrap();
    assert_eq!(u.nofile, LimitValue::Finite(1024));
    assert_eq!(u.memlock, LimitValue::Infinity);
    let u = parse_unit_limits("LimitNOFILE=10\nLimitMEMLOCK=8K\n").unwrap();
    assert_eq!(u.memlock, LimitValue::Finite(8192));
    assert!(parse_unit_limits("LimitNOFILE=10\n").is_err());
    assert_eq!(
        parse_unit_limits("LimitNOFILE=ten\nLimitMEMLOCK=1\n")
            .unwrap_err()
            .line,
        1
    );
    assert!(parse_unit_limits("LimitNOFILE=1\nLimitMEMLOCK=99999999999T\n").is_err());
}

#[test]
fn a_host_at_the_recommended_values_matches() {
    for profile in [HostProfile::Edge, HostProfile::Service] {
        let host = matching_host(profile.name(), profile);
        let report = check(profile, &host).unwrap();
        assert_eq!(report.findings, [], "{profile:?}");
        assert_eq!(report.exit_code(), 0);
        assert_eq!(report.checked, profile.settings().unwrap().len() + 2);
        std::fs::remove_dir_all(&host.proc_root).unwrap();
    }
}

#[test]
fn differences_are_reported_one_line_each_with_the_recommended_value() {
    let mut host = matching_host("diff", HostProfile::Edge);
    put(&host.proc_root, "net.core.somaxconn", "4096\n");
    put(&host.proc_root, "net.ipv4.tcp_tw_reuse", "2\n");
    put(&host.proc_root, "net.ipv4.tcp_fin_timeout", "60\n");
    put(
        &host.proc_root,
        "net.ipv4.tcp_rmem",
        "4096\t87380\t6291456\n",
    );
    host.nofile = Some(LimitValue::Finite(1024));
    host.memlock = Some(LimitValue::Finite(8 << 20));
    let report = check(HostProfile::Edge, &host).unwrap();
    let lines: Vec<String> = report.findings.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "net.core.somaxconn: current 4096, recommended >= 65535",
            "net.ipv4.tcp_tw_reuse: current 2, recommended 1",
            "net.ipv4.tcp_fin_timeout: current 60, recommended <= 15",
            "net.ipv4.tcp_rmem: current 4096 87380 6291456, recommended >= 4096 131072 16777216",
            "RLIMIT_NOFILE: current 1024, recommended >= 1048576",
            "RLIMIT_MEMLOCK: current 8388608, recommended >= 67108864",
        ]
    );
    assert_eq!(report.exit_code(), 1);
    std::fs::remove_dir_all(&host.proc_root).unwrap();
}

#[test]
fn larger_or_smaller_values_pass_their_rules() {
    let host = matching_host("bounds", HostProfile::Edge);
    put(&host.proc_root, "net.core.somaxconn", "4194304\n");
    put(&host.proc_root, "fs.file-max", "9223372036854775807\n");
    put(&host.proc_root, "net.ipv4.tcp_fin_timeout", "5\n");
    put(
        &host.proc_root,
        "net.ipv4.tcp_rmem",
        "4096 131072 33554432\n",
    );
    let report = check(HostProfile::Edge, &host).unwrap();
    assert_eq!(report.findings, []);
    std::fs::remove_dir_all(&host.proc_root).unwrap();
}

#[test]
fn absent_settings_differ_unless_marked_absent_ok() {
    let host = matching_host("absent", HostProfile::Service);
    let sys = host.proc_root.join("sys");
    std::fs::remove_file(sys.join("kernel/io_uring_disabled")).unwrap();
    std::fs::remove_file(sys.join("net/ipv4/tcp_autocorking")).unwrap();
    let report = check(HostProfile::Service, &host).unwrap();
    let lines: Vec<String> = report.findings.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        ["net.ipv4.tcp_autocorking: current (absent), recommended 0"]
    );
    std::fs::remove_dir_all(&host.proc_root).unwrap();
}

#[test]
fn unreadable_limits_and_values_that_do_not_compare_differ() {
    let mut host = matching_host("odd", HostProfile::Edge);
    // A different count of numbers than the profile's is not "at least".
    put(&host.proc_root, "net.ipv4.tcp_wmem", "4096 16384\n");
    host.nofile = None;
    let report = check(HostProfile::Edge, &host).unwrap();
    let names: Vec<&str> = report.findings.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["net.ipv4.tcp_wmem", "RLIMIT_NOFILE"]);
    assert_eq!(report.findings[1].current, "(unreadable)");
    std::fs::remove_dir_all(&host.proc_root).unwrap();
}

#[test]
fn keys_cannot_climb_out_of_the_proc_root() {
    let host = matching_host("climb", HostProfile::Service);
    assert_eq!(host.sysctl("..etc.passwd"), Current::Absent);
    assert_eq!(host.sysctl("net..core"), Current::Absent);
    assert_eq!(host.sysctl("sys/../../../etc/passwd"), Current::Absent);
    std::fs::remove_dir_all(&host.proc_root).unwrap();
}

#[test]
fn profiles_parse_by_name() {
    assert_eq!(HostProfile::parse("edge"), Some(HostProfile::Edge));
    assert_eq!(HostProfile::parse("service"), Some(HostProfile::Service));
    assert_eq!(HostProfile::parse("Edge"), None);
    assert_eq!(HostProfile::default(), HostProfile::Service);
}
