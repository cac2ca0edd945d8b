//! Tests of the fs namer against real temporary directories.

use super::*;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "hawser-fs-{tag}-{}-{n}-{}",
            std::process::id(),
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        fs::create_dir_all(&path).expect("create temp dir");
        Self(path)
    }

    fn write(&self, name: &str, text: &str) {
        fs::write(self.0.join(name), text).expect("write");
    }

    fn remove(&self, name: &str) {
        fs::remove_file(self.0.join(name)).expect("remove");
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn authorities(snap: &FsSnapshot, name: &str) -> Option<Vec<String>> {
    snap.lookup(name)
        .map(|s| s.endpoints.iter().map(Endpoint::authority).collect())
}

fn names(snap: &FsSnapshot) -> Vec<String> {
    let mut names: Vec<String> = snap.services.keys().cloned().collect();
    names.sort();
    names
}

#[test]
fn initial_load_serves_regular_files_and_ignores_editor_files() {
    let dir = TempDir::new("init");
    dir.write("users", "10.0.0.1 8080\n10.0.0.2 8080 * 2.0\n");
    dir.write("web", "web.internal 80\n");
    dir.write("empty", "");
    for junk in [
        ".users.swp",
        ".#users",
        "#users#",
        "users~",
        "users.swp",
        "x.tmp",
    ] {
        dir.write(junk, "not an address line at all\n");
    }
    fs::create_dir(dir.0.join("subdir")).expect("mkdir");
    fs::create_dir(dir.0.join("..data")).expect("mkdir");

    let mut namer = FsNamer::new(&dir.0, "/io.l5d.fs");
    let snap = namer.load_initial().expect("load");
    assert_eq!(names(&snap), ["empty", "users", "web"]);
    assert_eq!(
        authorities(&snap, "users").expect("users"),
        ["10.0.0.1:8080", "10.0.0.2:8080"]
    );
    assert_eq!(
        snap.lookup("users").expect("users").endpoints[1].weight,
        2.0
    );
    assert_eq!(authorities(&snap, "empty"), Some(vec![]));
    assert!(snap.problems.is_empty(), "{:?}", snap.problems);
    assert_eq!(namer.current(), Some(snap));
    assert_eq!(namer.poll(), None, "nothing changed");
    assert_eq!(namer.poll(), None, "still nothing changed");
}

#[test]
fn added_modified_and_deleted_files_are_seen() {
    let dir = TempDir::new("change");
    dir.write("users", "10.0.0.1 8080\n");
    let mut namer = FsNamer::new(&dir.0, "io.l5d.fs");
    namer.load_initial().expect("load");

    dir.write("web", "10.0.1.1 80\n");
    let snap = namer.poll().expect("web added");
    assert_eq!(authorities(&snap, "web").expect("web"), ["10.0.1.1:80"]);

    // Same size, written straight after the last read: must still be noticed.
    dir.write("users", "10.0.0.9 8080\n");
    let snap = namer.poll().expect("users modified");
    assert_eq!(
        authorities(&snap, "users").expect("users"),
        ["10.0.0.9:8080"]
    );

    dir.remove("users");
    let snap = namer.poll().expect("users deleted");
    assert_eq!(
        authorities(&snap, "users").expect("a deleted file keeps its last good set"),
        ["10.0.0.9:8080"]
    );
    assert!(
        snap.problems
            .iter()
            .any(|p| p.contains("users") && p.contains("file removed")),
        "the removal is reported: {:?}",
        snap.problems
    );
    assert_eq!(namer.poll(), None);

    // Back again: served from the file, the report clears.
    dir.write("users", "10.0.0.7 8080\n");
    let snap = namer.poll().expect("users back");
    assert_eq!(
        authorities(&snap, "users").expect("users"),
        ["10.0.0.7:8080"]
    );
    assert!(snap.problems.is_empty(), "{:?}", snap.problems);

    // Emptying the file is how a service is taken out of rotation.
    dir.write("users", "");
    let snap = namer.poll().expect("users emptied");
    assert_eq!(
        authorities(&snap, "users").expect("bound"),
        Vec::<String>::new()
    );

    // A name that never had a good set is simply forgotten when removed.
    dir.write("broken", "not a line\n");
    let snap = namer.poll().expect("broken seen");
    assert_eq!(snap.lookup("broken"), None);
    dir.remove("broken");
    let snap = namer.poll().expect("broken gone");
    assert!(
        snap.problems.iter().all(|p| !p.contains("broken")),
        "{:?}",
        snap.problems
    );
}

#[test]
fn rewrite_with_identical_content_is_not_a_change() {
    let dir = TempDir::new("same");
    dir.write("users", "10.0.0.1 8080\n");
    let mut namer = FsNamer::new(&dir.0, "io.l5d.fs");
    namer.load_initial().expect("load");
    dir.write("users", "10.0.0.1   8080 # same endpoint\n");
    assert_eq!(namer.poll(), None);
}

#[test]
fn broken_line_keeps_last_good_set_and_reports_the_line() {
    let dir = TempDir::new("broken");
    dir.write("users", "10.0.0.1 8080\n10.0.0.2 8080\n");
    let mut namer = FsNamer::new(&dir.0, "io.l5d.fs");
    namer.load_initial().expect("load");

    dir.write("users", "10.0.0.3 8080\n10.0.0.4:8080\n");
    let snap = namer.poll().expect("problem reported");
    assert_eq!(
        authorities(&snap, "users").expect("kept"),
        ["10.0.0.1:8080", "10.0.0.2:8080"]
    );
    assert_eq!(snap.problems.len(), 1, "{:?}", snap.problems);
    let problem = &snap.problems[0];
    assert!(problem.contains("users: line 2: missing port"), "{problem}");
    assert!(
        problem.contains("keeping the last good set (2 endpoints)"),
        "{problem}"
    );
    assert_eq!(namer.poll(), None, "same problem is not a change");

    dir.write("users", "10.0.0.3 8080\n10.0.0.4 8080\n");
    let snap = namer.poll().expect("fixed");
    assert_eq!(
        authorities(&snap, "users").expect("fixed"),
        ["10.0.0.3:8080", "10.0.0.4:8080"]
    );
    assert!(snap.problems.is_empty(), "{:?}", snap.problems);
}

#[test]
fn malformed_file_seen_first_is_not_bound() {
    let dir = TempDir::new("firstbad");
    dir.write("good", "10.0.0.1 80\n");
    dir.write("bad", "# header\nhost port\n");
    let mut namer = FsNamer::new(&dir.0, "io.l5d.fs");
    let snap = namer.load_initial().expect("load");
    assert_eq!(names(&snap), ["good"]);
    assert_eq!(snap.problems.len(), 1);
    assert!(snap.problems[0].contains("bad: line 2: port is not a number"));
    assert!(
        snap.problems[0].ends_with("; not bound"),
        "{}",
        snap.problems[0]
    );

    dir.remove("bad");
    let snap = namer.poll().expect("problem gone with the file");
    assert!(snap.problems.is_empty());
}

#[test]
fn unreadable_file_keeps_last_good_set() {
    // A dangling symlink cannot be read even by root, unlike a chmod 000 file.
    let dir = TempDir::new("unreadable");
    dir.write("users", "10.0.0.1 8080\n");
    let mut namer = FsNamer::new(&dir.0, "io.l5d.fs");
    namer.load_initial().expect("load");

    dir.remove("users");
    std::os::unix::fs::symlink(dir.0.join("missing-target"), dir.0.join("users")).expect("ln");
    let snap = namer.poll().expect("problem reported");
    assert_eq!(
        authorities(&snap, "users").expect("kept"),
        ["10.0.0.1:8080"]
    );
    assert!(
        snap.problems[0].contains("users: cannot stat"),
        "{:?}",
        snap.problems
    );

    dir.write("missing-target", "10.0.0.2 8080\n");
    let snap = namer.poll().expect("target appeared");
    assert_eq!(
        authorities(&snap, "users").expect("users"),
        ["10.0.0.2:8080"]
    );
    assert_eq!(
        authorities(&snap, "missing-target").expect("itself a service"),
        ["10.0.0.2:8080"]
    );
    assert!(snap.problems.is_empty(), "{:?}", snap.problems);
}

#[test]
fn configmap_style_symlinks_are_followed_and_swaps_seen() {
    let dir = TempDir::new("configmap");
    let v1 = dir.0.join("..v1");
    let v2 = dir.0.join("..v2");
    fs::create_dir(&v1).expect("mkdir");
    fs::create_dir(&v2).expect("mkdir");
    fs::write(v1.join("users"), "10.0.0.1 80\n").expect("write");
    fs::write(v2.join("users"), "10.0.0.2 80\n").expect("write");
    std::os::unix::fs::symlink("..v1", dir.0.join("..data")).expect("ln");
    std::os::unix::fs::symlink("..data/users", dir.0.join("users")).expect("ln");
    let mut namer = FsNamer::new(&dir.0, "io.l5d.fs");
    let snap = namer.load_initial().expect("load");
    assert_eq!(names(&snap), ["users"]);
    assert_eq!(authorities(&snap, "users").expect("users"), ["10.0.0.1:80"]);

    // Kubernetes updates by swapping the ..data link atomically.
    std::os::unix::fs::symlink("..v2", dir.0.join("..data_tmp")).expect("ln");
    fs::rename(dir.0.join("..data_tmp"), dir.0.join("..data")).expect("rename");
    let snap = namer.poll().expect("swapped");
    assert_eq!(authorities(&snap, "users").expect("users"), ["10.0.0.2:80"]);
}

#[test]
fn invalid_file_names_are_reported_not_served() {
    let dir = TempDir::new("names");
    dir.write("has space", "10.0.0.1 80\n");
    dir.write("ok-name_1.v2", "10.0.0.1 80\n");
    let mut namer = FsNamer::new(&dir.0, "io.l5d.fs");
    let snap = namer.load_initial().expect("load");
    assert_eq!(names(&snap), ["ok-name_1.v2"]);
    assert_eq!(snap.problems.len(), 1);
    assert!(snap.problems[0].contains("\"has space\" is not a valid path segment"));
}

#[test]
fn file_count_limit_serves_first_names_and_reports() {
    let dir = TempDir::new("count");
    for name in ["e", "d", "c", "b", "a"] {
        dir.write(name, "10.0.0.1 80\n");
    }
    let limits = FsLimits {
        max_files: 3,
        ..FsLimits::default()
    };
    let mut namer = FsNamer::new(&dir.0, "io.l5d.fs").with_limits(limits);
    let snap = namer.load_initial().expect("load");
    assert_eq!(names(&snap), ["a", "b", "c"]);
    assert_eq!(snap.problems.len(), 1);
    assert!(
        snap.problems[0].contains("5 service files exceed the limit of 3"),
        "{:?}",
        snap.problems
    );
}

#[test]
fn dir_entry_limit_is_reported() {
    let dir = TempDir::new("entries");
    for i in 0..10 {
        dir.write(&format!(".junk{i}"), "");
    }
    let limits = FsLimits {
        max_dir_entries: 4,
        ..FsLimits::default()
    };
    let mut namer = FsNamer::new(&dir.0, "io.l5d.fs").with_limits(limits);
    let snap = namer.load_initial().expect("load");
    assert!(snap.problems[0].contains("more than 4 directory entries"));
}

#[test]
fn file_size_limit_keeps_last_good_or_leaves_unbound() {
    let dir = TempDir::new("size");
    dir.write("users", "10.0.0.1 80\n");
    dir.write("huge", &"# padding\n".repeat(20));
    let limits = FsLimits {
        max_file_bytes: 64,
        ..FsLimits::default()
    };
    let mut namer = FsNamer::new(&dir.0, "io.l5d.fs").with_limits(limits);
    let snap = namer.load_initial().expect("load");
    assert_eq!(names(&snap), ["users"]);
    assert!(snap.problems[0].contains("huge: file is larger than the 64-byte limit; not bound"));

    dir.write("users", &format!("10.0.0.2 80\n{}", "#".repeat(100)));
    let snap = namer.poll().expect("grew");
    assert_eq!(authorities(&snap, "users").expect("kept"), ["10.0.0.1:80"]);
    assert!(
        snap.problems
            .iter()
            .any(|p| p.contains("users: file is larger than the 64-byte limit; keeping")),
        "{:?}",
        snap.problems
    );
}

#[test]
fn vanished_root_keeps_services_and_reports() {
    let parent = TempDir::new("root");
    let root = parent.0.join("disco");
    fs::create_dir(&root).expect("mkdir");
    fs::write(root.join("users"), "10.0.0.1 80\n").expect("write");
    let mut namer = FsNamer::new(&root, "io.l5d.fs");
    namer.load_initial().expect("load");

    fs::rename(&root, parent.0.join("moved")).expect("mv");
    let snap = namer.poll().expect("problem");
    assert_eq!(authorities(&snap, "users").expect("kept"), ["10.0.0.1:80"]);
    assert!(
        snap.problems[0].contains("cannot list rootDir"),
        "{:?}",
        snap.problems
    );

    fs::rename(parent.0.join("moved"), &root).expect("mv back");
    let snap = namer.poll().expect("recovered");
    assert!(snap.problems.is_empty());
    assert_eq!(names(&snap), ["users"]);
}

#[test]
fn load_initial_fails_clearly_without_a_directory() {
    let dir = TempDir::new("missing");
    let missing = dir.0.join("nope");
    let err = FsNamer::new(&missing, "io.l5d.fs")
        .load_initial()
        .expect_err("missing dir");
    assert!(err.to_string().contains("rootDir"), "{err}");
    assert!(err.to_string().contains("nope"), "{err}");

    dir.write("file", "");
    let err = FsNamer::new(dir.0.join("file"), "io.l5d.fs")
        .load_initial()
        .expect_err("a file");
    assert!(err.to_string().ends_with("not a directory"), "{err}");
}

#[test]
fn prefix_and_bound_id() {
    let a = FsNamer::new("/tmp", "io.l5d.fs");
    let b = FsNamer::new("/tmp", "/disco");
    assert_eq!(a.prefix(), "/io.l5d.fs");
    assert_eq!(a.bound_id("users"), "/#/io.l5d.fs/users");
    assert_eq!(b.bound_id("web"), "/#/disco/web");
}

#[test]
fn watcher_delivers_changes_and_stops() {
    let dir = TempDir::new("watch");
    dir.write("users", "10.0.0.1 80\n");
    let mut namer = FsNamer::new(&dir.0, "io.l5d.fs");
    namer.load_initial().expect("load");
    let (tx, rx) = mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    let handle = spawn_fs_watcher(
        namer,
        Duration::from_millis(20),
        move |snap| {
            if let Some(snap) = snap {
                let _ = tx.send(snap);
            }
        },
        Arc::clone(&stop),
    )
    .expect("spawn");

    dir.write("web", "10.0.1.1 80\n");
    let snap = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("change delivered");
    assert_eq!(names(&snap), ["users", "web"]);

    stop.store(true, Ordering::Release);
    let started = std::time::Instant::now();
    handle.join().expect("watcher thread");
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn recently_modified_files_are_re_read_until_settled() {
    let now = SystemTime::now();
    let stamp = |mtime| Stamp {
        len: 1,
        mtime,
        ctime: (0, 0),
        ino: 1,
        dev: 1,
    };
    assert!(stamp(Some(now)).is_racy(now));
    assert!(stamp(Some(now - Duration::from_millis(1900))).is_racy(now));
    assert!(!stamp(Some(now - Duration::from_secs(3))).is_racy(now));
    assert!(stamp(Some(now + Duration::from_secs(1))).is_racy(now));
    assert!(
        !stamp(Some(now + Duration::from_secs(60))).is_racy(now),
        "a far-future mtime must not force a re-read on every poll"
    );
    assert!(stamp(None).is_racy(now));
}

#[test]
fn subdirectories_are_walked_like_linkerd() {
    let dir = TempDir::new("subdirs");
    fs::create_dir_all(dir.0.join("prod/eu")).expect("mkdir");
    fs::create_dir_all(dir.0.join("empty-dir")).expect("mkdir");
    dir.write("users", "10.0.0.1 80\n");
    dir.write("prod/users", "10.0.1.1 80\n");
    dir.write("prod/eu/users", "10.0.2.1 80\n");
    let mut namer = FsNamer::new(&dir.0, "/io.l5d.fs");
    let snap = namer.load_initial().expect("load");
    assert_eq!(names(&snap), ["prod/eu/users", "prod/users", "users"]);
    assert!(snap.problems.is_empty(), "{:?}", snap.problems);
    let took = |segs: &[&str]| {
        snap.lookup_path(segs)
            .map(|(n, s)| (n, s.endpoints[0].authority()))
    };
    // A file binds; what follows it is the residual.
    assert_eq!(took(&["users"]), Some((1, "10.0.0.1:80".into())));
    assert_eq!(took(&["users", "x", "y"]), Some((1, "10.0.0.1:80".into())));
    assert_eq!(took(&["prod", "users"]), Some((2, "10.0.1.1:80".into())));
    assert_eq!(
        took(&["prod", "eu", "users", "v1"]),
        Some((3, "10.0.2.1:80".into()))
    );
    // A directory itself, a missing file in it, an empty directory: negative.
    for neg in [
        &["prod"][..],
        &["prod", "nope"],
        &["prod", "eu"],
        &["empty-dir"],
        &["nope"],
    ] {
        assert_eq!(took(neg), None, "{neg:?}");
    }

    // A file in a subdirectory that changes is seen; one that is deleted keeps its set.
    dir.write("prod/users", "10.0.1.2 80\n");
    let snap = namer.poll().expect("changed");
    assert_eq!(
        authorities(&snap, "prod/users").expect("bound"),
        ["10.0.1.2:80"]
    );
    dir.remove("prod/eu/users");
    let snap = namer.poll().expect("reported");
    assert_eq!(
        authorities(&snap, "prod/eu/users").expect("kept"),
        ["10.0.2.1:80"]
    );
    assert!(
        snap.problems
            .iter()
            .any(|p| p.contains("eu/users") && p.contains("file removed"))
    );
}

#[test]
fn nesting_is_bounded_and_symlinked_directories_are_followed() {
    let dir = TempDir::new("deep");
    let deep: PathBuf = (0..=MAX_DEPTH).map(|i| format!("d{i}")).collect();
    fs::create_dir_all(dir.0.join(&deep)).expect("mkdir");
    fs::write(dir.0.join(&deep).join("svc"), "10.0.0.9 80\n").expect("write");
    fs::create_dir_all(dir.0.join("real")).expect("mkdir");
    dir.write("real/api", "10.0.0.7 80\n");
    std::os::unix::fs::symlink(dir.0.join("real"), dir.0.join("linked")).expect("symlink");
    let mut namer = FsNamer::new(&dir.0, "/io.l5d.fs");
    let snap = namer.load_initial().expect("load");
    assert!(
        names(&snap).contains(&"linked/api".to_string()),
        "{:?}",
        names(&snap)
    );
    assert!(
        !names(&snap).iter().any(|n| n.ends_with("/svc")),
        "{:?}",
        names(&snap)
    );
    assert!(
        snap.problems
            .iter()
            .any(|p| p.contains(&format!("deeper than {MAX_DEPTH}"))),
        "{:?}",
        snap.problems
    );
}
