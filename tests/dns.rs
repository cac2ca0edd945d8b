//! Host names resolved again: `/$/inet/HOST/PORT` (the shard resolves it on
//! first use and again every `DNS_REFRESH`, 5 s, while requests keep flowing)
//! and `io.l5d.fs` service files (the watcher thread, every 5 s), swapping the
//! endpoints when the answer changes and keeping the last good set when a
//! lookup fails. The proxy runs in its own mount namespace with a
//! private /etc/hosts, so the test changes what its getaddrinfo sees without
//! touching the machine's.

mod support;

use std::time::Duration;

use support::*;

const NAME: &str = "dnstest.hawser.test";

fn hosts_with(line: &str) -> String {
    let base = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    format!("{base}\n{line}\n")
}

fn served(port: u16) -> Option<String> {
    let r = send(port, "/", Some("web"), &[]);
    (r.status == 200).then(|| served_by(&r)).flatten()
}

#[test]
fn inet_host_names_are_resolved_again_and_the_last_good_answer_is_kept() {
    if !Hawser::can_use_private_hosts() {
        // Without CAP_SYS_ADMIN there is no private /etc/hosts; say so loudly.
        eprintln!("SKIPPED: `unshare -m` is not permitted here (needs root / CAP_SYS_ADMIN)");
        return;
    }
    // Two backends on the same port of two loopback addresses.
    let old = Backend::start_on("old", "127.0.0.2", 0);
    let new = Backend::start_on("new", "127.0.0.3", old.port);
    let dir = temp_dir("dns");
    let hosts = dir.join("hosts");
    std::fs::write(&hosts, hosts_with(&format!("127.0.0.2 {NAME}"))).unwrap();
    let (admin, port) = (unique_port(), unique_port());
    let yaml = format!(
        "admin: {{ip: 127.0.0.1, port: {admin}}}\nrouters:\n- protocol: http\n  \
         dtab: /svc => /$/inet/{NAME}/{};\n  servers: [{{ip: 127.0.0.1, port: {port}}}]\n",
        old.port
    );
    let _h = Hawser::start_with_hosts(&yaml, admin, &hosts);
    assert_eq!(served(port).as_deref(), Some("old"));

    // The name moves: rewritten in place (same inode, so the bind mount sees it).
    std::fs::write(&hosts, hosts_with(&format!("127.0.0.3 {NAME}"))).unwrap();
    // Until the refresh the old answer is still used...
    assert_eq!(served(port).as_deref(), Some("old"));
    // ...and within DNS_REFRESH plus a margin, traffic follows the new one.
    assert!(
        eventually(Duration::from_secs(12), || served(port).as_deref()
            == Some("new")),
        "the new address was never used"
    );

    // The name disappears: lookups fail, the last good set keeps serving.
    std::fs::write(&hosts, hosts_with("")).unwrap();
    std::thread::sleep(Duration::from_secs(6));
    for _ in 0..20 {
        assert_eq!(served(port).as_deref(), Some("new"));
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(new);
}

#[test]
fn fs_service_host_names_are_resolved_again_and_the_last_good_address_is_kept() {
    if !Hawser::can_use_private_hosts() {
        eprintln!("SKIPPED: `unshare -m` is not permitted here (needs root / CAP_SYS_ADMIN)");
        return;
    }
    let old = Backend::start_on("old", "127.0.0.2", 0);
    let new = Backend::start_on("new", "127.0.0.3", old.port);
    let dir = temp_dir("fsdns");
    let hosts = dir.join("hosts");
    std::fs::write(&hosts, hosts_with(&format!("127.0.0.2 {NAME}"))).unwrap();
    let disco = dir.join("disco");
    std::fs::create_dir_all(&disco).unwrap();
    write_service(&disco, "web", &format!("{NAME} {}\n", old.port));
    let (admin, port) = (unique_port(), unique_port());
    let yaml = fs_config(admin, port, &disco, "");
    let _h = Hawser::start_with_hosts(&yaml, admin, &hosts);
    assert_eq!(served(port).as_deref(), Some("old"));

    // The service file does not change; only what its host name resolves to.
    std::fs::write(&hosts, hosts_with(&format!("127.0.0.3 {NAME}"))).unwrap();
    assert!(
        eventually(Duration::from_secs(12), || served(port).as_deref()
            == Some("new")),
        "the new address was never used"
    );
    // The name stops resolving: the last good address keeps serving.
    std::fs::write(&hosts, hosts_with("")).unwrap();
    std::thread::sleep(Duration::from_secs(7));
    for _ in 0..10 {
        assert_eq!(served(port).as_deref(), Some("new"));
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(new);
}
