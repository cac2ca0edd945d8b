//! Routing end to end against the real binary: the proxy-generated outcomes
//! (status and `l5d-err`) when a name does not bind, dtab semantics with
//! several named echo backends (alternation, fallback between dentries, `~`,
//! `!`, `$`, weighted unions, wildcards, `/$/inet`), per-request dtabs and
//! their propagation, `clearContext`, every identifier kind, and `io.l5d.fs`
//! changes picked up without a restart.

mod support;

use std::collections::HashMap;
use std::io::Write;
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::Duration;

use support::*;

/// Three named echo backends, an fs namer directory and one hawser.
struct Setup {
    _hawser: Hawser,
    admin: u16,
    port: u16,
    /// A second server of the same router with `clearContext: true`.
    edge_port: u16,
    disco: PathBuf,
    /// Backends `a` and `b`, kept alive.
    _ab: (Backend, Backend),
    c: Backend,
}

/// The router dtab the semantics tests rely on (`{c}` is backend c's port).
fn main_dtab(c_port: u16) -> String {
    format!(
        "/svc => /#/io.l5d.fs;
/svc/failme => !;
/svc/nothing => $;
/svc/alt => /#/io.l5d.fs/missing | /#/io.l5d.fs/b;
/svc/w => 3 * /#/io.l5d.fs/a & 1 * /#/io.l5d.fs/b;
/svc/direct => /$/inet/127.0.0.1/{c_port};
/svc/res => /#/io.l5d.fs/a/extra/bits;
# later dentries win...
/svc/shadowed => /#/io.l5d.fs/a;
/svc/shadowed => /#/io.l5d.fs/b;
# ...but fall back to earlier ones when they come to nothing
/svc/fallback => /#/io.l5d.fs/a;
/svc/fallback => /#/io.l5d.fs/missing;
/svc/tilde => /#/io.l5d.fs/c;
/svc/tilde => ~;
"
    )
}

fn setup() -> Setup {
    let (a, b, c) = (
        Backend::start("a"),
        Backend::start("b"),
        Backend::start("c"),
    );
    let disco = temp_dir("disco");
    for (name, be) in [("a", &a), ("b", &b), ("c", &c)] {
        write_service(&disco, name, &format!("127.0.0.1 {}\n", be.port));
    }
    // Files that would bind if `!` or `$` fell back to `/svc => /#/io.l5d.fs`.
    write_service(&disco, "failme", &format!("127.0.0.1 {}\n", a.port));
    write_service(&disco, "nothing", &format!("127.0.0.1 {}\n", a.port));
    write_service(&disco, "emptyfile", "");
    // A file pointing at a port nobody listens on.
    let closed = unique_port();
    write_service(&disco, "dead", &format!("127.0.0.1 {closed}\n"));
    let (admin, port, edge_port) = (unique_port(), unique_port(), unique_port());
    let mut yaml = fs_config_dtab(admin, port, &disco, &main_dtab(c.port), "");
    yaml.push_str(&format!(
        "  - ip: 127.0.0.1\n    port: {edge_port}\n    clearContext: true\n"
    ));
    let hawser = Hawser::start(&yaml, admin, 1);
    Setup {
        _hawser: hawser,
        admin,
        port,
        edge_port,
        disco,
        _ab: (a, b),
        c,
    }
}

fn assert_proxy_error(r: &Response, status: u16, must_mention: &[&str]) -> String {
    let err = l5d_err(r).unwrap_or_else(|| panic!("no l5d-err on {r:?}"));
    assert_eq!(r.status, status, "l5d-err: {err}");
    assert_eq!(served_by(r), None, "a proxy-generated response");
    for m in must_mention {
        assert!(err.contains(m), "l5d-err {err:?} should mention {m:?}");
    }
    err
}

#[test]
fn routing_outcomes_are_proxy_responses_with_l5d_err() {
    let s = setup();
    // A name that binds nowhere (no such file: negative).
    let r = send(s.port, "/", Some("nowhere"), &[]);
    assert_proxy_error(&r, 502, &["/svc/nowhere", "No hosts are available"]);

    // `!` in the router dtab fails without falling back (a `failme` file exists).
    let r = send(s.port, "/", Some("failme"), &[]);
    assert_proxy_error(&r, 502, &["/svc/failme"]);

    // `!` from the request's l5d-dtab: `a` binds without it.
    assert_eq!(
        served_by(&send(s.port, "/", Some("a"), &[])).as_deref(),
        Some("a")
    );
    let r = send(s.port, "/", Some("a"), &[("l5d-dtab", "/svc/a => !")]);
    let err = assert_proxy_error(&r, 502, &["/svc/a", "Dtab.local=["]);
    assert!(err.contains('!'), "the local dtab is shown: {err}");

    // `$` (empty): the name exists with no endpoints; no fallback either.
    let r = send(s.port, "/", Some("nothing"), &[]);
    assert_proxy_error(&r, 502, &["/svc/nothing"]);
    // An empty service file: bound, but no endpoints.
    let r = send(s.port, "/", Some("emptyfile"), &[]);
    assert_proxy_error(&r, 502, &["/svc/emptyfile", "No hosts are available"]);

    // Connect failure names the address.
    let dead = std::fs::read_to_string(s.disco.join("dead")).unwrap();
    let dead_port = dead.split_whitespace().nth(1).unwrap().to_string();
    let r = send(s.port, "/", Some("dead"), &[]);
    assert_proxy_error(&r, 502, &[&format!("127.0.0.1:{dead_port}")]);

    // A malformed l5d-dtab is the client's fault.
    let r = send(s.port, "/", Some("a"), &[("l5d-dtab", "/svc/a => => /x")]);
    assert_proxy_error(&r, 400, &["dtab"]);
    let r = send(s.port, "/", Some("a"), &[("l5d-ctx-dtab", "not a dtab")]);
    assert_proxy_error(&r, 400, &["dtab"]);

    // Unidentifiable: HTTP/1.0 without Host, and an empty Host.
    let r = send_raw(s.port, b"GET /x HTTP/1.0\r\n\r\n");
    assert_proxy_error(&r, 400, &["Unknown destination", "Host"]);
    let r = send_raw(
        s.port,
        b"GET /x HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n",
    );
    assert_proxy_error(&r, 400, &["Unknown destination"]);
}

#[test]
fn a_routing_error_keeps_a_bodiless_keep_alive_connection_usable() {
    let s = setup();
    let mut c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    for (host, want) in [("nowhere", 502), ("a", 200), ("failme", 502), ("b", 200)] {
        write!(c, "GET / HTTP/1.1\r\nHost: {host}\r\n\r\n").unwrap();
        let r = read_response(&mut c);
        assert_eq!(r.status, want, "{host}: {:?}", l5d_err(&r));
    }
}

fn route(s: &Setup, host: &str, headers: &[(&str, &str)]) -> (Response, serde_json::Value) {
    let r = send(s.port, "/", Some(host), headers);
    assert_eq!(r.status, 200, "{host}: {:?} {}", l5d_err(&r), r.body_str());
    let echo = r.json();
    (r, echo)
}

#[test]
fn dtab_alternation_fallback_neg_and_direct_addresses() {
    let s = setup();
    let by = |host: &str| served_by(&route(&s, host, &[]).0).unwrap();
    assert_eq!(by("alt"), "b", "alternation skips the negative branch");
    assert_eq!(by("shadowed"), "b", "the later dentry wins");
    assert_eq!(by("fallback"), "a", "a negative later dentry falls back");
    assert_eq!(by("tilde"), "c", "`~` falls back to the earlier dentry");
    let (_, echo) = route(&s, "direct", &[]);
    assert_eq!(echo["backend"], "c");
    assert_eq!(
        seen_header(&echo, "l5d-dst-client"),
        Some(format!("/$/inet/127.0.0.1/{}", s.c.port))
    );
    assert_eq!(
        seen_header(&echo, "l5d-dst-service").as_deref(),
        Some("/svc/direct")
    );

    // A residual left by the dtab is passed on.
    let (_, echo) = route(&s, "res", &[]);
    assert_eq!(echo["backend"], "a");
    assert_eq!(
        seen_header(&echo, "l5d-dst-client").as_deref(),
        Some("/#/io.l5d.fs/a")
    );
    assert_eq!(
        seen_header(&echo, "l5d-dst-residual").as_deref(),
        Some("/extra/bits")
    );
    // ...and absent when there is none.
    let (_, echo) = route(&s, "a", &[]);
    assert_eq!(seen_header(&echo, "l5d-dst-residual"), None);
}

#[test]
fn weighted_union_splits_traffic_by_weight() {
    let s = setup();
    // 400 requests over 8 keep-alive connections (the Python backend answers
    // one connection's requests ~40 ms apart).
    let port = s.port;
    let workers: Vec<_> = (0..8)
        .map(|_| {
            std::thread::spawn(move || {
                let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
                c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                (0..50)
                    .map(|_| {
                        c.write_all(b"GET / HTTP/1.1\r\nHost: w\r\n\r\n").unwrap();
                        let r = read_response(&mut c);
                        assert_eq!(r.status, 200, "l5d-err: {:?}", l5d_err(&r));
                        served_by(&r).unwrap()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut counts: HashMap<String, u32> = HashMap::new();
    for w in workers {
        for name in w.join().unwrap() {
            *counts.entry(name).or_default() += 1;
        }
    }
    let a = counts.get("a").copied().unwrap_or(0);
    let b = counts.get("b").copied().unwrap_or(0);
    assert_eq!(a + b, 400, "only a and b serve /svc/w: {counts:?}");
    let share = f64::from(a) / 400.0;
    assert!((0.60..=0.90).contains(&share), "3:1 split, got a={a} b={b}");
}

#[test]
fn per_request_dtabs_override_fall_back_and_propagate() {
    let s = setup();
    // l5d-dtab wins over the router dtab and travels on as l5d-ctx-dtab.
    let (_, echo) = route(&s, "a", &[("l5d-dtab", "/svc/a => /#/io.l5d.fs/c")]);
    assert_eq!(echo["backend"], "c");
    let ctx = seen_header(&echo, "l5d-ctx-dtab").expect("l5d-ctx-dtab upstream");
    assert!(
        ctx.contains("/svc/a") && ctx.contains("/#/io.l5d.fs/c"),
        "{ctx}"
    );
    assert_eq!(
        seen_header(&echo, "l5d-dtab"),
        None,
        "l5d-dtab is not forwarded"
    );

    // A request dentry that comes to nothing falls back to the router's.
    let (_, echo) = route(
        &s,
        "shadowed",
        &[("l5d-dtab", "/svc/shadowed => /#/io.l5d.fs/missing")],
    );
    assert_eq!(echo["backend"], "b");

    // Wildcards: `/x/*/y` matches any middle segment.
    let wild = "/x/*/y => /#/io.l5d.fs/c; /svc => /x/mid";
    let (_, echo) = route(&s, "y", &[("l5d-dtab", wild)]);
    assert_eq!(echo["backend"], "c");
    let (_, echo) = route(&s, "a", &[("l5d-dtab", wild)]);
    assert_eq!(echo["backend"], "a", "/x/mid/a matches nothing: fall back");

    // An incoming l5d-ctx-dtab is honoured and propagated.
    let (_, echo) = route(&s, "a", &[("l5d-ctx-dtab", "/svc/a => /#/io.l5d.fs/b")]);
    assert_eq!(echo["backend"], "b");
    assert!(
        seen_header(&echo, "l5d-ctx-dtab")
            .unwrap()
            .contains("/#/io.l5d.fs/b")
    );

    // Both: l5d-dtab comes after l5d-ctx-dtab, so it wins; both propagate.
    let (_, echo) = route(
        &s,
        "a",
        &[
            ("l5d-ctx-dtab", "/svc/a => /#/io.l5d.fs/b"),
            ("l5d-dtab", "/svc/a => /#/io.l5d.fs/c"),
            ("l5d-ctx-trace", "abc"),
        ],
    );
    assert_eq!(echo["backend"], "c");
    let ctx = seen_header(&echo, "l5d-ctx-dtab").unwrap();
    assert!(
        ctx.contains("/#/io.l5d.fs/b") && ctx.contains("/#/io.l5d.fs/c"),
        "{ctx}"
    );
    assert_eq!(seen_header(&echo, "l5d-ctx-trace").as_deref(), Some("abc"));
}

#[test]
fn clear_context_server_ignores_and_strips_context() {
    let s = setup();
    let r = send(
        s.edge_port,
        "/",
        Some("a"),
        &[
            ("l5d-dtab", "/svc/a => /#/io.l5d.fs/c"),
            ("l5d-ctx-dtab", "/svc/a => /#/io.l5d.fs/b"),
            ("l5d-ctx-trace", "abc"),
            ("l5d-ctx-deadline", "1 2"),
        ],
    );
    assert_eq!(r.status, 200, "{:?}", l5d_err(&r));
    let echo = r.json();
    assert_eq!(echo["backend"], "a", "the router dtab alone decides");
    for h in [
        "l5d-dtab",
        "l5d-ctx-dtab",
        "l5d-ctx-trace",
        "l5d-ctx-deadline",
    ] {
        assert_eq!(
            seen_header(&echo, h),
            None,
            "{h} must be stripped at the edge"
        );
    }
    // Even a malformed override is ignored there, not a 400.
    let r = send(s.edge_port, "/", Some("a"), &[("l5d-dtab", "=> nonsense")]);
    assert_eq!(r.status, 200);
    // The trusted server still honours it.
    let r = send(
        s.port,
        "/",
        Some("a"),
        &[("l5d-dtab", "/svc/a => /#/io.l5d.fs/c")],
    );
    assert_eq!(served_by(&r).as_deref(), Some("c"));
}

/// One hawser with a router per identifier kind, each on its own port.
#[test]
fn identifiers_from_config() {
    let (a, b, c) = (
        Backend::start("a"),
        Backend::start("b"),
        Backend::start("c"),
    );
    let disco = temp_dir("disco");
    for (name, be) in [("a", &a), ("b", &b), ("c", &c)] {
        write_service(&disco, name, &format!("127.0.0.1 {}\n", be.port));
    }
    let admin = unique_port();
    let ports: Vec<u16> = (0..4).map(|_| unique_port()).collect();
    let server = |p: u16| format!("  servers:\n  - ip: 127.0.0.1\n    port: {p}\n");
    let yaml = format!(
        "admin:\n  ip: 127.0.0.1\n  port: {admin}\nnamers:\n- kind: io.l5d.fs\n  rootDir: {disco}\nrouters:
- protocol: http
  label: mah
  identifier:
    kind: io.l5d.methodAndHost
  dtab: |
    /svc/1.1/GET/web => /#/io.l5d.fs/a;
    /svc/1.1/POST/web => /#/io.l5d.fs/b;
    /svc/1.0 => /#/io.l5d.fs/c;
{s0}- protocol: http
  label: path
  identifier:
    kind: io.l5d.path
    segments: 2
    consume: true
  dtab: |
    /svc/api/v1 => /#/io.l5d.fs/a;
{s1}- protocol: http
  label: hdr
  identifier:
    kind: io.l5d.header
  dtab: |
    /svc/web => /#/io.l5d.fs/b;
{s2}- protocol: http
  label: tok
  dstPrefix: /custom
  identifier:
    kind: io.l5d.header.token
    header: x-service
  dtab: |
    /custom => /#/io.l5d.fs;
{s3}",
        disco = disco.display(),
        s0 = server(ports[0]),
        s1 = server(ports[1]),
        s2 = server(ports[2]),
        s3 = server(ports[3]),
    );
    let _h = Hawser::start(&yaml, admin, 1);
    let svc = |r: &Response| seen_header(&r.json(), "l5d-dst-service");

    // io.l5d.methodAndHost
    let r = send(ports[0], "/", Some("WEB"), &[]);
    assert_eq!((r.status, served_by(&r).as_deref()), (200, Some("a")));
    assert_eq!(
        svc(&r).as_deref(),
        Some("/svc/1.1/GET/web"),
        "host lower-cased"
    );
    let r = send_method(
        ports[0],
        "POST",
        "/",
        Some("web"),
        &[("content-length", "0")],
    );
    assert_eq!(served_by(&r).as_deref(), Some("b"));
    let r = send_raw(ports[0], b"GET / HTTP/1.0\r\nHost: web\r\n\r\n");
    assert_eq!(
        served_by(&r).as_deref(),
        Some("c"),
        "HTTP/1.0 is /svc/1.0/GET"
    );

    // io.l5d.path with segments 2 and consume
    let r = send(ports[1], "/api/v1/users/7?q=1", Some("anything"), &[]);
    assert_eq!((r.status, served_by(&r).as_deref()), (200, Some("a")));
    assert_eq!(
        r.json()["target"],
        "/users/7?q=1",
        "the two segments are consumed"
    );
    assert_eq!(svc(&r).as_deref(), Some("/svc/api/v1"));
    let r = send(ports[1], "/api", Some("anything"), &[]);
    assert_proxy_error(&r, 400, &["Unknown destination"]);

    // io.l5d.header (l5d-name holds a path)
    let r = send(ports[2], "/p", Some("ignored"), &[("l5d-name", "/web")]);
    assert_eq!((r.status, served_by(&r).as_deref()), (200, Some("b")));
    assert_eq!(svc(&r).as_deref(), Some("/svc/web"));
    assert_eq!(r.json()["target"], "/p");
    let r = send(ports[2], "/p", Some("x"), &[("l5d-name", "web")]);
    assert_proxy_error(&r, 400, &["Unknown destination", "l5d-name"]);
    let r = send(ports[2], "/p", Some("x"), &[]);
    assert_proxy_error(&r, 400, &["l5d-name"]);

    // io.l5d.header.token on a custom header, with dstPrefix /custom
    let r = send(ports[3], "/", Some("a"), &[("x-service", "c")]);
    assert_eq!((r.status, served_by(&r).as_deref()), (200, Some("c")));
    assert_eq!(svc(&r).as_deref(), Some("/custom/c"));
    let r = send(ports[3], "/", Some("a"), &[]);
    assert_proxy_error(&r, 400, &["x-service"]);
}

/// Polls routing of `host` until `pred` holds on the response, for at most `within`.
fn eventually_routes(
    port: u16,
    host: &str,
    within: Duration,
    pred: impl Fn(&Response) -> bool,
) -> bool {
    eventually(within, || pred(&send(port, "/", Some(host), &[])))
}

#[test]
fn fs_namer_changes_apply_without_restart() {
    let (a, b) = (Backend::start("a"), Backend::start("b"));
    let disco = temp_dir("disco");
    let (admin, port) = (unique_port(), unique_port());
    let _h = Hawser::start(&fs_config(admin, port, &disco, ""), admin, 1);
    let via = |want: &'static str| move |r: &Response| served_by(r).as_deref() == Some(want);
    let window = Duration::from_secs(3);

    // Not there yet: negative.
    assert_eq!(send(port, "/", Some("late"), &[]).status, 502);
    // Added: routable within the window.
    write_service(&disco, "late", &format!("127.0.0.1 {}\n", a.port));
    assert!(
        eventually_routes(port, "late", window, via("a")),
        "new file not picked up"
    );
    // Changed: traffic moves.
    write_service(&disco, "late", &format!("127.0.0.1 {}\n", b.port));
    assert!(
        eventually_routes(port, "late", window, via("b")),
        "change not picked up"
    );
    // Broken: the last good set keeps serving (watch it for longer than a poll or two).
    write_service(&disco, "late", "this is not a host and port line\n");
    assert!(
        !eventually_routes(port, "late", Duration::from_millis(2500), |r| !via("b")(r)),
        "a malformed file must keep the last good endpoints"
    );
    // Fixed again: a new good set applies.
    write_service(&disco, "late", &format!("127.0.0.1 {}\n", a.port));
    assert!(eventually_routes(port, "late", window, via("a")));
    // Removed: as issue 2 asks, the last good set keeps serving (the removal
    // is reported); watch it for longer than a few polls.
    std::fs::remove_file(disco.join("late")).unwrap();
    assert!(
        !eventually_routes(port, "late", Duration::from_millis(2500), |r| !via("a")(r)),
        "a deleted file must keep the last good endpoints"
    );
    // Emptied: the way to take a service out of rotation.
    write_service(&disco, "late", "");
    assert!(
        eventually_routes(port, "late", window, |r| r.status == 502
            && l5d_err(r).is_some_and(|e| e.contains("/svc/late"))),
        "an empty file leaves the service without endpoints"
    );
}

#[test]
fn fs_endpoint_weights_split_traffic_and_zero_takes_an_endpoint_out() {
    let s = setup();
    // One service file, three endpoints: a at weight 1, b at weight 3, c at 0.
    let (a, b) = (&s._ab.0, &s._ab.1);
    write_service(
        &s.disco,
        "weighted",
        &format!(
            "127.0.0.1 {} * 1\n127.0.0.1 {} * 3\n127.0.0.1 {} * 0\n",
            a.port, b.port, s.c.port
        ),
    );
    let mut c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // The namer polls the directory: wait until the new file binds.
    let mut bound = false;
    for _ in 0..100 {
        c.write_all(b"GET / HTTP/1.1\r\nHost: weighted\r\n\r\n")
            .unwrap();
        if read_response(&mut c).status == 200 {
            bound = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(bound, "the weighted service file was not picked up");
    // One request at a time: nothing is outstanding, so each pick is the
    // weighted draw itself.
    let mut counts: HashMap<String, u32> = HashMap::new();
    for _ in 0..400 {
        c.write_all(b"GET / HTTP/1.1\r\nHost: weighted\r\n\r\n")
            .unwrap();
        let r = read_response(&mut c);
        assert_eq!(r.status, 200, "l5d-err: {:?}", l5d_err(&r));
        *counts.entry(served_by(&r).unwrap()).or_default() += 1;
    }
    let (na, nb) = (
        counts.get("a").copied().unwrap_or(0),
        counts.get("b").copied().unwrap_or(0),
    );
    assert_eq!(
        counts.get("c"),
        None,
        "weight 0 gets no traffic: {counts:?}"
    );
    assert_eq!(na + nb, 400);
    // Binomial(400, 0.75): mean 300, sd 8.7; allow five sd.
    assert!(
        (257..=343).contains(&nb),
        "1:3 split expected, got a={na} b={nb}"
    );
    // The delegator shows the non-default weights as linkerd's endpoint metadata.
    let d = get(s.admin, "/delegator.json?path=/svc/weighted")
        .unwrap()
        .body_str();
    assert!(
        d.contains("\"endpoint_addr_weight\":3.0") && d.contains("\"endpoint_addr_weight\":0.0"),
        "delegator: {d}"
    );
}

#[test]
fn fs_subdirectories_bind_like_linkerd() {
    let s = setup();
    let team = s.disco.join("team");
    std::fs::create_dir_all(&team).unwrap();
    write_service(&team, "api", &format!("127.0.0.1 {}\n", s.c.port));
    let dtab = ("l5d-dtab", "/svc/sub => /#/io.l5d.fs/team/api/v1");
    // The namer polls the directory: wait until the new file binds.
    assert!(
        eventually(Duration::from_secs(10), || {
            send(s.port, "/", Some("sub"), &[dtab]).status == 200
        }),
        "team/api was not picked up"
    );
    let (_, echo) = route(&s, "sub", &[dtab]);
    assert_eq!(echo["backend"], "c");
    assert_eq!(
        seen_header(&echo, "l5d-dst-client").as_deref(),
        Some("/#/io.l5d.fs/team/api")
    );
    assert_eq!(
        seen_header(&echo, "l5d-dst-residual").as_deref(),
        Some("/v1")
    );
    // The directory's own name is negative.
    let r = send(
        s.port,
        "/",
        Some("dir"),
        &[("l5d-dtab", "/svc/dir => /#/io.l5d.fs/team")],
    );
    assert_proxy_error(&r, 502, &["/svc/dir"]);
}

/// A request dtab that doubles the names at each of `depth` levels, appending a `width`-byte
/// segment per level, and ends at backend `port`; `k` makes each one a distinct cache key.
fn doubling_dtab(depth: usize, width: usize, port: u16, k: usize) -> String {
    let seg = "A".repeat(width);
    let mut parts = vec!["/svc/web => /p0 & /p0".to_string()];
    for i in 0..depth {
        parts.push(format!("/p{i} => /p{}/{seg} & /p{}/{seg}", i + 1, i + 1));
    }
    parts.push(format!("/p{depth} => /$/inet/127.0.0.1/{port}"));
    parts.push(format!("/unused{k} => /x"));
    parts.join("; ")
}

#[test]
fn hostile_request_dtabs_are_refused_or_cached_within_a_memory_budget() {
    let s = setup();
    // Over the per-binding budget: refused as a whole, with the reason.
    let r = send(
        s.port,
        "/",
        Some("web"),
        &[("l5d-dtab", &doubling_dtab(8, 200, s.c.port, 0))],
    );
    assert_proxy_error(&r, 502, &["bytes of names"]);

    // Within it, but every request a new ~100 KiB binding: the shard's cache keeps to its
    // byte budget (16 MiB) instead of holding all of them (~60 MB here before the budget).
    let before = s._hawser.rss_kib();
    for k in 0..600 {
        let dtab = doubling_dtab(7, 60, s.c.port, k);
        let r = send(s.port, "/", Some("web"), &[("l5d-dtab", &dtab)]);
        assert_eq!(r.status, 200, "{:?}", l5d_err(&r));
    }
    // Freed memory goes back to the OS within a second (mi_collect).
    std::thread::sleep(Duration::from_millis(2500));
    let grown = s._hawser.rss_kib().saturating_sub(before);
    assert!(grown < 40 * 1024, "RSS grew {grown} KiB");
}

#[test]
fn interpreter_transformers_filter_and_reroute_addresses() {
    // Two hosts for `web`; io.l5d.specificHost keeps 127.0.0.2's.
    let one = Backend::start_on("one", "127.0.0.1", 0);
    let two = Backend::start_on("two", "127.0.0.2", 0);
    let disco = temp_dir("disco");
    write_service(
        &disco,
        "web",
        &format!("127.0.0.1 {}\n127.0.0.2 {}\n", one.port, two.port),
    );
    let (admin, port) = (free_port(), free_port());
    let extra = "  interpreter:\n    transformers:\n    - kind: io.l5d.specificHost\n      host: 127.0.0.2\n";
    let _h = Hawser::start(&fs_config(admin, port, &disco, extra), admin, 1);
    for i in 0..10 {
        let r = send(port, &format!("/{i}"), Some("web"), &[]);
        assert_eq!(r.status, 200);
        assert_eq!(r.header("x-backend"), Some("two"), "{r:?}");
    }
    // io.l5d.port: the namer lists a port nothing listens on; every address gets the
    // backend's port instead (a per-host proxy's port, in linkerd's use of it).
    let dead = free_port();
    write_service(&disco, "api", &format!("127.0.0.1 {dead}\n"));
    let (admin2, port2) = (free_port(), free_port());
    let extra = format!(
        "  interpreter:\n    transformers:\n    - kind: io.l5d.port\n      port: {}\n",
        one.port
    );
    let _h2 = Hawser::start(&fs_config(admin2, port2, &disco, &extra), admin2, 1);
    let r = send(port2, "/", Some("api"), &[]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("x-backend"), Some("one"));
    assert_eq!(
        r.json()["headers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h[0] == "l5d-dst-client")
            .map(|h| h[1].clone()),
        Some(serde_json::json!("/#/io.l5d.fs/api")),
        "the concrete name is the namer's, the address the transformer's"
    );
}

#[test]
fn replace_and_const_transformers_rebind_names() {
    let one = Backend::start("one");
    let disco = temp_dir("disco");
    // `web` exists (at a port nothing listens on); `nowhere` does not.
    write_service(&disco, "web", &format!("127.0.0.1 {}\n", free_port()));
    let target = format!("/$/inet/127.0.0.1/{}", one.port);
    let start = |kind: &str| {
        let (admin, port) = (free_port(), free_port());
        let extra = format!(
            "  interpreter:\n    transformers:\n    - kind: {kind}\n      path: {target}\n"
        );
        (
            Hawser::start(&fs_config(admin, port, &disco, &extra), admin, 1),
            port,
        )
    };
    // replace: a name that binds goes to the path instead; one that does not stays unbound.
    let (_h, port) = start("io.l5d.replace");
    let r = send(port, "/", Some("web"), &[]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("x-backend"), Some("one"));
    assert_eq!(send(port, "/", Some("nowhere"), &[]).status, 502);
    // const: every name goes to the path.
    let (_h2, port2) = start("io.l5d.const");
    for name in ["web", "nowhere"] {
        let r = send(port2, "/", Some(name), &[]);
        assert_eq!(r.status, 200, "{name}: {r:?}");
        assert_eq!(r.header("x-backend"), Some("one"));
    }
}
