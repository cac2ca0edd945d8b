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

/// `/proc/self/status` of an unprivileged process (uid and gid 1000, in groups 1000 and 27,
/// no capabilities) with seccomp mode `seccomp` and `filters` filters, as Linux 6.x writes it.
fn status_text(seccomp: u8, filters: u32) -> String {
    format!(
        "Name:\thawser\nUmask:\t0022\nState:\tR (running)\nUid:\t1000\t1000\t1000\t1000\n\
         Gid:\t1000\t1000\t1000\t1000\nFDSize:\t64\nGroups:\t27 1000 \nCapInh:\t0000000000000000\n\
         CapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nNoNewPrivs:\t0\n\
         Seccomp:\t{seccomp}\nSeccomp_filters:\t{filters}\nSpeculation_Store_Bypass:\tthread vulnerable\n"
    )
}

/// Writes `text` as `/proc/self/status` under `root`.
fn put_status(root: &Path, text: &str) {
    std::fs::create_dir_all(root.join("self")).unwrap();
    std::fs::write(root.join("self/status"), text).unwrap();
}

/// A fake host that has every setting of `profile` at its recommended value (as the kernel
/// writes it: numbers separated by tabs, a trailing newline), generous limits, an
/// unprivileged process without seccomp, and io_uring that works.
fn matching_host(name: &str, profile: HostProfile) -> Host {
    let root = fake_proc(name);
    for s in profile.settings().unwrap() {
        put(&root, &s.key, &format!("{}\n", s.value.replace(' ', "\t")));
    }
    put_status(&root, &status_text(0, 0));
    Host {
        proc_root: root,
        nofile: Some(LimitValue::Finite(1 << 20)),
        memlock: Some(LimitValue::Infinity),
        io_uring_probe: || Probe::Works,
    }
}

/// The report's lines, as printed.
fn lines(report: &Report) -> Vec<String> {
    report.findings.iter().map(ToString::to_string).collect()
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
    assert!(find(&edge, "kernel.io_uring_disabled").absent_ok);
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
        // The profile's sysctls, two limits, io_uring group access and the test ring.
        assert_eq!(report.checked, profile.settings().unwrap().len() + 4);
        assert_eq!(report.notes, Vec::<String>::new());
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

// io_uring availability: kernel.io_uring_disabled / kernel.io_uring_group, seccomp, the probe.

const GROUP_FIX: &str = "a group of this process: add the service user to group 1001 and \
                         restart it, or set kernel.io_uring_disabled=0";
const SECCOMP_FIX: &str = "a profile that allows io_uring_setup, io_uring_enter and \
                           io_uring_register (Docker 25+ and containerd 2 block them by \
                           default: --security-opt seccomp=PROFILE; systemd: \
                           SystemCallFilter=io_uring_setup io_uring_enter io_uring_register)";

/// A service-profile host with io_uring restricted to `group` (kernel.io_uring_disabled=1).
fn restricted_host(name: &str, group: &str) -> Host {
    let host = matching_host(name, HostProfile::Service);
    put(&host.proc_root, "kernel.io_uring_disabled", "1\n");
    put(
        &host.proc_root,
        "kernel.io_uring_group",
        &format!("{group}\n"),
    );
    host
}

const DISABLED_1: &str = "kernel.io_uring_disabled: current 1, recommended 0";

#[test]
fn proc_status_fields_are_read() {
    let st = parse_status(&status_text(2, 3));
    assert_eq!(
        st,
        ProcStatus {
            fsgid: Some(1000),
            groups: vec![27, 1000],
            cap_sys_admin: Some(false),
            seccomp: Some(2),
            seccomp_filters: Some(3),
        }
    );
    // The fs gid is the fourth number; no groups; root's capabilities; a kernel before 5.9
    // (no Seccomp_filters line).
    let st = parse_status("Gid:\t0\t5\t6\t7\nGroups:\t\nCapEff:\t000001ffffffffff\nSeccomp:\t0\n");
    assert_eq!(st.fsgid, Some(7));
    assert_eq!(st.groups, Vec::<u32>::new());
    assert_eq!(st.cap_sys_admin, Some(true));
    assert_eq!((st.seccomp, st.seccomp_filters), (Some(0), None));
    // CAP_SYS_ADMIN is bit 21: everything but it is not enough.
    let st = parse_status("CapEff:\t000001ffffdfffff\n");
    assert_eq!(st.cap_sys_admin, Some(false));
    assert_eq!(parse_status(""), ProcStatus::default());
}

#[test]
fn restricted_io_uring_with_this_process_in_the_group_is_a_note() {
    // 27 is a supplementary group of the fake process.
    let host = restricted_host("uring-member", "27");
    let report = check(HostProfile::Service, &host).unwrap();
    // The profile still recommends 0; the group line is not there.
    assert_eq!(lines(&report), [DISABLED_1]);
    assert_eq!(
        report.notes,
        [
            "kernel.io_uring_disabled=1 lets only kernel.io_uring_group and CAP_SYS_ADMIN \
          create rings; this process may (it is in group 27)"
        ]
    );
    // Its own gid counts too.
    put(&host.proc_root, "kernel.io_uring_group", "1000\n");
    let report = check(HostProfile::Service, &host).unwrap();
    assert_eq!(lines(&report), [DISABLED_1]);
    assert!(report.notes[0].ends_with("(it is in group 1000)"));
    std::fs::remove_dir_all(&host.proc_root).unwrap();
}

#[test]
fn restricted_io_uring_with_this_process_outside_the_group_is_reported() {
    let mut host = restricted_host("uring-outsider", "1001");
    // The kernel refuses the ring; that is the restriction reported, not another line.
    host.io_uring_probe = || Probe::Fails(libc::EPERM);
    let report = check(HostProfile::Service, &host).unwrap();
    assert_eq!(
        lines(&report),
        [
            DISABLED_1.to_string(),
            format!(
                "kernel.io_uring_group: current 1001 (this process: gid 1000, groups 27 1000), \
                 recommended {GROUP_FIX}"
            ),
        ]
    );
    assert_eq!(report.notes, Vec::<String>::new());
    assert_eq!(report.exit_code(), 1);
    std::fs::remove_dir_all(&host.proc_root).unwrap();
}

#[test]
fn restricted_io_uring_with_group_minus_1_lets_only_cap_sys_admin_in() {
    let host = restricted_host("uring-nogroup", "-1");
    let report = check(HostProfile::Service, &host).unwrap();
    assert_eq!(
        lines(&report),
        [
            DISABLED_1,
            "kernel.io_uring_group: current -1 (no group may create rings, only \
             CAP_SYS_ADMIN), recommended the gid of a group of the service user (sysctl -w \
             kernel.io_uring_group=GID), or kernel.io_uring_disabled=0",
        ]
    );
    // A process with CAP_SYS_ADMIN (root, usually) may.
    put_status(
        &host.proc_root,
        &status_text(0, 0).replace("CapEff:\t0000000000000000", "CapEff:\t000001ffffffffff"),
    );
    let report = check(HostProfile::Service, &host).unwrap();
    assert_eq!(lines(&report), [DISABLED_1]);
    assert!(
        report.notes[0].ends_with("(it has CAP_SYS_ADMIN)"),
        "{:?}",
        report.notes
    );
    std::fs::remove_dir_all(&host.proc_root).unwrap();
}

#[test]
fn io_uring_disabled_2_is_the_one_line_whatever_the_group() {
    let mut host = restricted_host("uring-off", "27");
    put(&host.proc_root, "kernel.io_uring_disabled", "2\n");
    host.io_uring_probe = || Probe::Fails(libc::EPERM);
    let report = check(HostProfile::Service, &host).unwrap();
    assert_eq!(
        lines(&report),
        ["kernel.io_uring_disabled: current 2, recommended 0"]
    );
    assert_eq!(report.notes, Vec::<String>::new());
    std::fs::remove_dir_all(&host.proc_root).unwrap();
}

#[test]
fn group_membership_unknown_or_group_odd_is_reported() {
    let host = restricted_host("uring-odd", "1001");
    std::fs::remove_file(host.proc_root.join("self/status")).unwrap();
    let report = check(HostProfile::Service, &host).unwrap();
    let group_line = &lines(&report)[1];
    assert!(
        group_line.starts_with(
            "kernel.io_uring_group: current 1001 (this process's groups are unknown: "
        ),
        "{group_line}"
    );
    assert!(
        group_line.ends_with(&format!("recommended {GROUP_FIX}")),
        "{group_line}"
    );
    let status = Ok(parse_status(&status_text(0, 0)));
    assert!(matches!(
        group_access(&Current::Absent, &status),
        GroupAccess::Denied { current, .. } if current == "(absent)"
    ));
    assert!(matches!(
        group_access(&Current::Value("wheel".into()), &status),
        GroupAccess::Denied { current, .. } if current == "wheel (not a group id)"
    ));
    std::fs::remove_dir_all(&host.proc_root).unwrap();
}

#[test]
fn a_seccomp_filter_that_fails_io_uring_setup_is_reported_with_the_fix() {
    let mut host = matching_host("seccomp-eperm", HostProfile::Service);
    put_status(&host.proc_root, &status_text(2, 1));
    host.io_uring_probe = || Probe::Fails(libc::EPERM);
    let report = check(HostProfile::Service, &host).unwrap();
    assert_eq!(
        lines(&report),
        [format!(
            "seccomp: current a filter (1 attached) that blocks io_uring_setup: fails (EPERM: \
             Operation not permitted), recommended {SECCOMP_FIX}"
        )]
    );
    assert_eq!(report.exit_code(), 1);
    // ENOSYS is what some profiles return instead.
    host.io_uring_probe = || Probe::Fails(libc::ENOSYS);
    let report = check(HostProfile::Service, &host).unwrap();
    assert_eq!(report.findings[0].name, "seccomp");
    assert!(report.findings[0].current.contains("fails (ENOSYS: "));
    std::fs::remove_dir_all(&host.proc_root).unwrap();
}

#[test]
fn a_seccomp_filter_that_kills_is_reported_and_several_filters_counted() {
    let mut host = matching_host("seccomp-kill", HostProfile::Service);
    put_status(&host.proc_root, &status_text(2, 3));
    host.io_uring_probe = || Probe::Killed(libc::SIGSYS);
    let report = check(HostProfile::Service, &host).unwrap();
    assert_eq!(
        lines(&report),
        [format!(
            "seccomp: current a filter (3 attached) that blocks io_uring_setup: killed by \
             SIGSYS, recommended {SECCOMP_FIX}"
        )]
    );
    std::fs::remove_dir_all(&host.proc_root).unwrap();
}

#[test]
fn a_seccomp_filter_that_lets_io_uring_through_is_a_note() {
    let host = matching_host("seccomp-ok", HostProfile::Service);
    put_status(&host.proc_root, &status_text(2, 1));
    let report = check(HostProfile::Service, &host).unwrap();
    assert_eq!(report.findings, []);
    assert_eq!(report.exit_code(), 0);
    assert_eq!(
        report.notes,
        ["seccomp: a filter (1 attached) is in force and lets io_uring_setup through"]
    );
    std::fs::remove_dir_all(&host.proc_root).unwrap();
}

#[test]
fn without_seccomp_a_working_probe_says_nothing_and_a_failing_one_is_reported() {
    let mut host = matching_host("probe", HostProfile::Service);
    let report = check(HostProfile::Service, &host).unwrap();
    assert_eq!((report.findings.len(), report.notes.len()), (0, 0));
    host.io_uring_probe = || Probe::Fails(libc::ENOSYS);
    assert_eq!(
        lines(&check(HostProfile::Service, &host).unwrap()),
        [
            "io_uring_setup: current fails (ENOSYS: Function not implemented), recommended works \
          (a kernel with io_uring (Linux 5.8 or newer, CONFIG_IO_URING=y))"
        ]
    );
    host.io_uring_probe = || Probe::Fails(libc::EPERM);
    assert_eq!(
        lines(&check(HostProfile::Service, &host).unwrap()),
        [
            "io_uring_setup: current fails (EPERM: Operation not permitted), recommended works \
          (no seccomp filter is in force: a security module (SELinux, AppArmor) or a sandbox \
          denies it)"
        ]
    );
    host.io_uring_probe = || Probe::NotRun("fork: Resource temporarily unavailable".into());
    assert_eq!(
        lines(&check(HostProfile::Service, &host).unwrap()),
        [
            "io_uring_setup: current (not run: fork: Resource temporarily unavailable), \
          recommended works (see tuning/README.md)"
        ]
    );
    std::fs::remove_dir_all(&host.proc_root).unwrap();
}

#[test]
fn a_failure_a_filter_does_not_explain_is_not_blamed_on_it() {
    let mut host = matching_host("seccomp-enomem", HostProfile::Service);
    put_status(&host.proc_root, &status_text(2, 1));
    host.io_uring_probe = || Probe::Fails(libc::ENOMEM);
    assert_eq!(
        lines(&check(HostProfile::Service, &host).unwrap()),
        [
            "io_uring_setup: current fails (ENOMEM: Cannot allocate memory), recommended works \
          (raise RLIMIT_MEMLOCK)"
        ]
    );
    std::fs::remove_dir_all(&host.proc_root).unwrap();
}

#[test]
fn a_group_member_behind_a_blocking_filter_gets_the_seccomp_line() {
    let mut host = restricted_host("uring-member-seccomp", "27");
    put_status(&host.proc_root, &status_text(2, 1));
    host.io_uring_probe = || Probe::Fails(libc::EPERM);
    let report = check(HostProfile::Service, &host).unwrap();
    let names: Vec<&str> = report.findings.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["kernel.io_uring_disabled", "seccomp"]);
    std::fs::remove_dir_all(&host.proc_root).unwrap();
}

#[test]
fn the_live_probe_agrees_with_the_kernel_setting() {
    // On this machine: a ring can be created unless the kernel or a filter forbids it; the
    // probe must come back (not kill the test) either way.
    let probe = probe_io_uring();
    let disabled = std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    if disabled == "2" {
        assert_eq!(probe, Probe::Fails(libc::EPERM));
    } else {
        assert!(
            matches!(probe, Probe::Works | Probe::Fails(_) | Probe::Killed(_)),
            "{probe:?}"
        );
    }
}
