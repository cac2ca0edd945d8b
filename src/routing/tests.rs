//! Cross-module tests: the examples from Finagle's Names.rst and NamerTest, linkerd's docs and
//! delegator test, binding edge cases, identifiers and the weighted pick.

use super::*;

/// Stacks the worst-case binding must fit in, with debug-build frames (release frames are
/// several times smaller): shard threads and the admin thread use std's 2 MiB default.
const SHARD_STACK: usize = 1024 * 1024;
const ADMIN_STACK: usize = 2 * 1024 * 1024;

fn p(s: &str) -> Path {
    Path::read(s).unwrap()
}
fn d(s: &str) -> Dtab {
    Dtab::read(s).unwrap()
}
fn b(id: &str, residual: &str) -> Bound {
    Bound {
        id: p(id),
        residual: p(residual),
    }
}

/// A file-system-like namer under `/#/io.l5d.fs` knowing a few services, a serverset-like
/// namer under `/#/zk/<ensemble>` knowing a few paths, and a failing one under `/#/error`.
fn namers(path: &Path) -> NamerResult {
    let known_fs = ["users", "web", "users-v2"];
    if path.starts_with(&p("/#/io.l5d.fs")) {
        return match path.segment_str(2) {
            Some(svc) if known_fs.contains(&svc) => NamerResult::Bound(Bound {
                id: path.take(3),
                residual: path.drop(3),
            }),
            _ => NamerResult::Neg,
        };
    }
    if path.starts_with(&p("/#/zk/zk.local.twitter.com:2181")) {
        let known = [p("/prod/crawler"), p("/staging/indexer")];
        let rest = path.drop(3);
        return match known.iter().find(|k| rest.starts_with(k)) {
            Some(k) => NamerResult::Bound(Bound {
                id: path.take(3 + k.len()),
                residual: rest.drop(k.len()),
            }),
            None => NamerResult::Neg,
        };
    }
    if path.starts_with(&p("/#/error")) {
        return NamerResult::Failed(format!("error naming {path}"));
    }
    NamerResult::Neg
}

fn res(dtab: &str, path: &str) -> Resolution {
    resolve(&d(dtab), &p(path), &namers)
}

fn single(bound: Bound) -> Resolution {
    Resolution::Weighted(vec![(1.0, Some(bound))])
}

#[test]
fn finagle_names_rst_rewrites_through_handlers() {
    // Names.rst, with /$/com.twitter.serverset replaced by a configured namer.
    let base = "
        /zk#  => /#/zk;
        /zk   => /zk#;
        /s##  => /zk/zk.local.twitter.com:2181;
        /s#   => /s##/prod;
        /s    => /s#;
    ";
    assert_eq!(
        res(base, "/s/crawler"),
        single(b("/#/zk/zk.local.twitter.com:2181/prod/crawler", "/"))
    );
    // Adding `/s# => /s##/staging` prefers staging but falls back to prod when staging has
    // no crawler, exactly as the backtracking walk-through in Names.rst.
    let staged = format!("{base} /s# => /s##/staging;");
    assert_eq!(
        res(&staged, "/s/crawler"),
        single(b("/#/zk/zk.local.twitter.com:2181/prod/crawler", "/"))
    );
    assert_eq!(
        res(&staged, "/s/indexer/x"),
        single(b("/#/zk/zk.local.twitter.com:2181/staging/indexer", "/x"))
    );
}

#[test]
fn later_dentries_win_and_fall_back_on_neg() {
    // /b binds to nothing, so the earlier /a entry is used.
    assert_eq!(
        res("/s => /#/io.l5d.fs; /s => /#/io.l5d.fs/nothing", "/s/users"),
        single(b("/#/io.l5d.fs/users", "/"))
    );
    // Both bind: the later one wins.
    assert_eq!(
        res(
            "/svc => /#/io.l5d.fs; /svc/users => /#/io.l5d.fs/users-v2",
            "/svc/users"
        ),
        single(b("/#/io.l5d.fs/users-v2", "/"))
    );
    // `~` is explicit "not here": fall back.
    assert_eq!(
        res("/s => /$/inet/10.0.0.1/80; /s => ~", "/s/x"),
        single(b("/$/inet/10.0.0.1/80", "/x"))
    );
    // Nothing at all.
    assert_eq!(res("/s => /a", "/t/x"), Resolution::Neg);
    assert_eq!(res("", "/svc/users"), Resolution::Neg);
}

#[test]
fn fail_stops_fallback_and_empty_is_not_negative() {
    assert_eq!(
        res("/s => /$/inet/10.0.0.1/80; /s => !", "/s/x"),
        Resolution::Fail
    );
    assert_eq!(
        res("/s => /$/inet/10.0.0.1/80; /s => /$/fail", "/s/x"),
        Resolution::Fail
    );
    assert_eq!(
        res("/s => /$/inet/10.0.0.1/80; /s => $", "/s/x"),
        Resolution::Empty
    );
    assert_eq!(
        res("/s => /$/inet/10.0.0.1/80; /s => /$/nil", "/s/x"),
        Resolution::Empty
    );
    // Finagle's NamerTest "Alt with Fail/Empty".
    let ns = "/test/1 => /$/inet/10.0.0.1/1; /test/2 => /$/inet/10.0.0.2/2;";
    assert_eq!(
        res(&format!("{ns} /t => (! | /test/1 | /test/2)"), "/t"),
        Resolution::Fail
    );
    assert_eq!(
        res(&format!("{ns} /t => (~ | /$/fail | /test/1)"), "/t"),
        Resolution::Fail
    );
    assert_eq!(
        res(&format!("{ns} /t => (/$/nil | /$/fail | /test/1)"), "/t"),
        Resolution::Empty
    );
    // Alternation inside a dentry: the first non-negative branch.
    assert_eq!(
        res("/svc => /#/io.l5d.fs/missing | /#/io.l5d.fs/web", "/svc"),
        single(b("/#/io.l5d.fs/web", "/"))
    );
}

#[test]
fn weighted_union_splits_traffic() {
    let r = res(
        "/svc => 0.7 * /#/io.l5d.fs/users & 0.3 * /#/io.l5d.fs/users-v2",
        "/svc/x",
    );
    let (a, v2) = (
        b("/#/io.l5d.fs/users", "/x"),
        b("/#/io.l5d.fs/users-v2", "/x"),
    );
    assert_eq!(
        r,
        Resolution::Weighted(vec![(0.7, Some(a.clone())), (0.3, Some(v2.clone()))])
    );
    assert_eq!(r.pick(0.0), Some(&a));
    assert_eq!(r.pick(0.6999), Some(&a));
    assert_eq!(r.pick(0.7), Some(&v2));
    assert_eq!(r.pick(0.9999999), Some(&v2));
    assert_eq!(r.pick(1.5), Some(&v2));
    assert_eq!(r.pick(-1.0), Some(&a));
    assert_eq!(r.pick(f64::NAN), Some(&a));
    // 10 000 evenly spaced samples land 70/30.
    let n = 10_000;
    let to_a = (0..n)
        .filter(|i| r.pick(f64::from(*i) / f64::from(n)) == Some(&a))
        .count();
    assert_eq!(to_a, 7_000);
    assert_eq!(r.bounds().count(), 2);
}

#[test]
fn union_branches_drop_neg_and_fail_but_keep_empty() {
    let users = b("/#/io.l5d.fs/users", "/");
    assert_eq!(
        res("/svc => /#/io.l5d.fs/users & /#/io.l5d.fs/nope", "/svc"),
        single(users.clone())
    );
    assert_eq!(
        res("/svc => 3 * /#/io.l5d.fs/users & 1 * !", "/svc"),
        single(users.clone())
    );
    assert_eq!(
        res("/svc => /#/io.l5d.fs/nope & ~", "/svc"),
        Resolution::Neg
    );
    let half = res("/svc => /#/io.l5d.fs/users & $", "/svc");
    assert_eq!(
        half,
        Resolution::Weighted(vec![(0.5, Some(users.clone())), (0.5, None)])
    );
    assert_eq!(half.pick(0.75), None);
    assert_eq!(res("/svc => $ & /$/nil", "/svc"), Resolution::Empty);
    // Nested unions multiply.
    let nested = res(
        "/svc => 1 * (/$/inet/h/1 & 3 * /$/inet/h/2) & 1 * /$/inet/h/3",
        "/svc",
    );
    assert_eq!(
        nested,
        Resolution::Weighted(vec![
            (0.125, Some(b("/$/inet/h/1", "/"))),
            (0.375, Some(b("/$/inet/h/2", "/"))),
            (0.5, Some(b("/$/inet/h/3", "/"))),
        ])
    );
    // All-zero weights split evenly.
    let zero = res("/svc => 0*/$/inet/h/1 & 0*/$/inet/h/2", "/svc");
    assert_eq!(zero.pick(0.25), Some(&b("/$/inet/h/1", "/")));
    assert_eq!(zero.pick(0.75), Some(&b("/$/inet/h/2", "/")));
}

#[test]
fn residuals_and_system_paths() {
    assert_eq!(
        res("/svc => /$/inet/127.0.0.1/8080", "/svc/users/v1"),
        single(b("/$/inet/127.0.0.1/8080", "/users/v1"))
    );
    assert_eq!(
        res("", "/$/inet/1234/foobar"),
        single(b("/$/inet/1234", "/foobar"))
    );
    assert_eq!(
        res("", "/$/fixedinet/h/1"),
        single(b("/$/fixedinet/h/1", "/"))
    );
    assert!(matches!(
        res("", "/$/inet/h/99999"),
        Resolution::Error(BindError::InvalidPort { .. })
    ));
    assert!(matches!(
        res("", "/$/inet"),
        Resolution::Error(BindError::UnknownNamer { .. })
    ));
    let Resolution::Error(e) = res("", "/$/com.twitter.serverset/zk/x") else {
        panic!()
    };
    assert_eq!(
        e.to_string(),
        "Unknown namer: com.twitter.serverset for path: /$/com.twitter.serverset/zk/x"
    );
    // A /#/ path no namer knows is negative.
    assert_eq!(res("", "/#/io.l5d.k8s/x"), Resolution::Neg);
    let id = p("/$/inet/127.0.0.1/8080");
    assert_eq!(
        InetName::from_id(&id),
        Some(InetName {
            host: "127.0.0.1",
            port: 8080,
            fixed: false
        })
    );
    let short = p("/$/inet/9000");
    assert_eq!(
        InetName::from_id(&short).map(|n| (n.host, n.port)),
        Some(("127.0.0.1", 9000))
    );
    assert_eq!(InetName::from_id(&p("/#/io.l5d.fs/x")), None);
}

#[test]
fn dtab_is_consulted_before_namers() {
    // linkerd looks a path up in the dtab first, even a /#/ or /$/ path.
    let dtab = "/#/io.l5d.fs/users => /$/inet/10.1.1.1/80";
    assert_eq!(
        res(dtab, "/#/io.l5d.fs/users/a"),
        single(b("/$/inet/10.1.1.1/80", "/a"))
    );
    assert_eq!(
        res("/$/inet => /#/io.l5d.fs", "/$/inet/web"),
        single(b("/#/io.l5d.fs/web", "/"))
    );
}

#[test]
fn loops_hit_the_depth_limit() {
    let r = res("/s => /s/srv", "/s/foo/bar");
    assert_eq!(r, Resolution::Error(BindError::MaxDepth { limit: 100 }));
    // Finagle's NamerTest with namerMaxDepth = 2.
    let limits = BindLimits {
        max_depth: 2,
        ..BindLimits::default()
    };
    let err =
        bind_with_limits(&d("/s => /s/srv"), &p("/s/foo/bar"), &NoNamers, limits).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Max recursion level: 2 reached in Namer lookup"
    );
    // With a limit of 2: one rewrite then the system namer fits, two rewrites do not.
    let ok = bind_with_limits(&d("/a => /$/inet/h/1"), &p("/a"), &NoNamers, limits);
    assert_eq!(ok, Ok(NameTree::Leaf(b("/$/inet/h/1", "/"))));
    let two = bind_with_limits(
        &d("/a => /b; /b => /$/inet/h/1"),
        &p("/a"),
        &NoNamers,
        limits,
    );
    assert_eq!(two, Err(BindError::MaxDepth { limit: 2 }));
    // An error in the first alternative stops the alternation.
    assert!(matches!(
        res("/a => /a/x; /s => /a | /$/inet/h/1", "/s"),
        Resolution::Error(_)
    ));
    // A union drops a failing branch when another one binds.
    assert_eq!(
        res("/a => /a/x; /s => /a & /$/inet/h/1", "/s"),
        single(b("/$/inet/h/1", "/"))
    );
}

#[test]
fn namer_failures() {
    assert_eq!(
        res("/s => /#/error", "/s/x"),
        Resolution::Error(BindError::Namer {
            path: p("/#/error/x"),
            message: "error naming /#/error/x".into()
        })
    );
    assert_eq!(
        res("/s => /#/error & /#/io.l5d.fs/web", "/s"),
        single(b("/#/io.l5d.fs/web", "/"))
    );
}

#[test]
fn exponential_dtabs_are_cut_off() {
    let mut text = String::new();
    for c in b'a'..b'y' {
        text.push_str(&format!(
            "/{} => /{} | /{};",
            char::from(c),
            char::from(c + 1),
            char::from(c + 1)
        ));
    }
    assert_eq!(
        res(&text, "/a"),
        Resolution::Error(BindError::TooManyLookups { limit: MAX_LOOKUPS })
    );
    let explained = delegate(&d(&text), &p("/a"), &namers);
    assert!(matches!(explained, DelegateTree::Exception { .. }));
}

#[test]
fn request_dtab_overrides_router_dtab() {
    let base = d("/svc => /#/io.l5d.fs");
    let local =
        parse_header_dtab([&b"/svc/users => /#/io.l5d.fs/users-v2"[..]].into_iter()).unwrap();
    let all = base.concat(&local);
    assert_eq!(
        resolve(&all, &p("/svc/users"), &namers),
        single(b("/#/io.l5d.fs/users-v2", "/"))
    );
    assert_eq!(
        resolve(&all, &p("/svc/web"), &namers),
        single(b("/#/io.l5d.fs/web", "/"))
    );
}

#[test]
fn delegator_json_matches_linkerd() {
    // linkerd's DelegateApiHandlerTest.
    let dtab = d("
        /beh => /#/error ;
        /bah/humbug => /$/inet/127.1/8080 ;
        /foo => /bah | /beh | /$/fail ;
        /foo => /bar ;
        /boo => /foo ;
        /meh => /heh ;
    ");
    let mut tree = delegate(&dtab, &p("/boo/humbug"), &namers);
    tree.for_each_bound_mut(&mut |leaf| {
        leaf.addr = Some(DelegateAddr::Bound {
            addrs: vec![DelegateAddress {
                ip: "127.0.0.1".into(),
                port: 8080,
                meta: Default::default(),
            }],
            meta: Default::default(),
        });
    });
    let expected = concat!(
        r#"{"type":"delegate","path":"/boo/humbug","delegate":{"#,
        r#""type":"alt","path":"/foo/humbug","dentry":{"prefix":"/boo","dst":"/foo"},"alt":["#,
        r#"{"type":"neg","path":"/bar/humbug","dentry":{"prefix":"/foo","dst":"/bar"}},"#,
        r#"{"type":"delegate","path":"/bah/humbug","#,
        r#""dentry":{"prefix":"/foo","dst":"/bah | /beh | /$/fail"},"delegate":{"#,
        r#""type":"leaf","path":"/$/inet/127.1/8080","dentry":{"prefix":"/bah/humbug","#,
        r#""dst":"/$/inet/127.1/8080"},"#,
        r#""bound":{"addr":{"type":"bound","addrs":[{"ip":"127.0.0.1","port":8080}],"meta":{}},"#,
        r#""id":"/$/inet/127.1/8080","path":"/"}}},"#,
        r#"{"type":"delegate","path":"/beh/humbug","#,
        r#""dentry":{"prefix":"/foo","dst":"/bah | /beh | /$/fail"},"delegate":{"#,
        r#""type":"exception","path":"/#/error/humbug","dentry":{"prefix":"/beh","dst":"/#/error"},"#,
        r#""message":"error naming /#/error/humbug"}},"#,
        r#"{"type":"fail","path":"/$/fail/humbug","#,
        r#""dentry":{"prefix":"/foo","dst":"/bah | /beh | /$/fail"}}]}}"#,
    );
    assert_eq!(serde_json::to_string(&tree).unwrap(), expected);
}

#[test]
fn delegator_two_step_binding_and_unions() {
    let dtab = d("/svc => /host; /host => 0.8*/#/io.l5d.fs & 0.2*~");
    let json = serde_json::to_value(delegate(&dtab, &p("/svc/web"), &namers)).unwrap();
    let expected = serde_json::json!({
        "type": "delegate", "path": "/svc/web",
        "delegate": {
            "type": "union", "path": "/host/web",
            "dentry": {"prefix": "/svc", "dst": "/host"},
            "union": [
                {"weight": 0.8, "tree": {
                    "type": "leaf", "path": "/#/io.l5d.fs/web",
                    "dentry": {"prefix": "/host", "dst": "0.8*/#/io.l5d.fs & 0.2*~"},
                    "bound": {"id": "/#/io.l5d.fs/web", "path": "/"}}},
                {"weight": 0.2, "tree": {
                    "type": "neg", "path": "~",
                    "dentry": {"prefix": "/host", "dst": "0.8*/#/io.l5d.fs & 0.2*~"}}}
            ]
        }
    });
    assert_eq!(json, expected);
    // A path nothing matches, and an explicit `!`.
    let neg = serde_json::to_value(delegate(&Dtab::empty(), &p("/x"), &namers)).unwrap();
    assert_eq!(neg, serde_json::json!({"type": "neg", "path": "/x"}));
    let fail = serde_json::to_value(delegate(&d("/x => !"), &p("/x/y"), &namers)).unwrap();
    assert_eq!(
        fail,
        serde_json::json!({"type": "delegate", "path": "/x/y", "delegate":
            {"type": "fail", "path": "!", "dentry": {"prefix": "/x", "dst": "!"}}})
    );
    // A loop is reported, not a panic or a hang.
    let looped = serde_json::to_value(delegate(&d("/s => /s/x"), &p("/s"), &namers)).unwrap();
    assert_eq!(looped["type"], "exception");
}

struct Req {
    method: &'static str,
    target: &'static str,
    http10: bool,
    headers: Vec<(&'static str, &'static [u8])>,
}

impl RequestView for Req {
    fn method(&self) -> &str {
        self.method
    }
    fn target(&self) -> &str {
        self.target
    }
    fn is_http10(&self) -> bool {
        self.http10
    }
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

fn get(target: &'static str, headers: Vec<(&'static str, &'static [u8])>) -> Req {
    Req {
        method: "GET",
        target,
        http10: false,
        headers,
    }
}

fn svc() -> Path {
    p(DEFAULT_DST_PREFIX)
}

#[test]
fn header_token_identifier() {
    let id = Identifier::default_http();
    assert_eq!(id.kind(), "io.l5d.header.token");
    let ok = |req: Req| id.identify(&req).map(|i| i.path.to_string());
    assert_eq!(
        ok(get("/", vec![("host", b"users")])),
        Ok("/svc/users".into())
    );
    // Verbatim: port kept, case kept.
    assert_eq!(
        ok(get("/", vec![("Host", b"Web:8080")])),
        Ok("/svc/Web:8080".into())
    );
    // Bytes that are not path characters are kept, shown escaped.
    assert_eq!(
        ok(get("/", vec![("Host", b"a b")])),
        Ok(r"/svc/\x61\x20\x62".into())
    );
    let absent = IdentifyError::Unidentified("Host header is absent".into());
    assert_eq!(id.identify(&get("/", vec![])), Err(absent.clone()));
    assert_eq!(
        id.identify(&get("/", vec![("Host", b"")])),
        Err(absent.clone())
    );
    assert_eq!(absent.status(), 400);
    assert_eq!(
        absent.l5d_err("GET", "/x"),
        "Unknown destination: Request(\"GET /x\") / Host header is absent"
    );
    let custom = Identifier::HeaderToken {
        prefix: p("/http"),
        header: "x-svc".into(),
    };
    assert_eq!(
        custom
            .identify(&get("/", vec![("X-Svc", b"api")]))
            .unwrap()
            .path,
        p("/http/api")
    );
}

#[test]
fn method_and_host_identifier() {
    let id = Identifier::MethodAndHost {
        prefix: svc(),
        uri_in_dst: false,
    };
    let r = get("/a/b?q=1", vec![("Host", b"Web.Example:8080")]);
    assert_eq!(
        id.identify(&r).unwrap().path,
        p("/svc/1.1/GET/web.example:8080")
    );
    let old = Req {
        method: "POST",
        target: "/a",
        http10: true,
        headers: vec![],
    };
    assert_eq!(id.identify(&old).unwrap().path, p("/svc/1.0/POST"));
    assert_eq!(
        id.identify(&get("/", vec![])),
        Err(IdentifyError::Unidentified(
            "HTTP/1.1 request missing hostname".into()
        ))
    );
    let uri = Identifier::MethodAndHost {
        prefix: svc(),
        uri_in_dst: true,
    };
    assert_eq!(
        uri.identify(&r).unwrap().path,
        p("/svc/1.1/GET/web.example:8080/a/b")
    );
    assert_eq!(
        uri.identify(&get("/", vec![("Host", b"h")])).unwrap().path,
        p("/svc/1.1/GET/h")
    );
    assert!(matches!(
        uri.identify(&get("/a/", vec![("Host", b"h")])),
        Err(IdentifyError::Invalid(_))
    ));
    let old_uri = Req {
        method: "GET",
        target: "http://h/x/y",
        http10: true,
        headers: vec![],
    };
    assert_eq!(uri.identify(&old_uri).unwrap().path, p("/svc/1.0/GET/x/y"));
}

#[test]
fn path_identifier() {
    // linkerd's docs: `/true/love/waits.php` with segments 2 and consume.
    let id = Identifier::Path {
        prefix: p("/http"),
        segments: 2,
        consume: true,
    };
    let out = id
        .identify(&get("/true/love/waits.php?x=1&y=2", vec![]))
        .unwrap();
    assert_eq!(out.path, p("/http/true/love"));
    assert_eq!(out.new_target.as_deref(), Some("/waits.php?x=1&y=2"));
    let out = id.identify(&get("/a/b/c/", vec![])).unwrap();
    assert_eq!(out.new_target.as_deref(), Some("/c/"));
    let out = id.identify(&get("/a/b", vec![])).unwrap();
    assert_eq!(out.new_target.as_deref(), Some("/"));
    assert_eq!(
        id.identify(&get("/a", vec![])),
        Err(IdentifyError::Unidentified(
            "not enough segments in path".into()
        ))
    );
    assert!(matches!(
        id.identify(&get("/a//b", vec![])),
        Err(IdentifyError::Invalid(_))
    ));
    let one = Identifier::Path {
        prefix: svc(),
        segments: 1,
        consume: false,
    };
    let out = one
        .identify(&get("http://proxy:4140/users/1", vec![]))
        .unwrap();
    assert_eq!((out.path, out.new_target), (p("/svc/users"), None));
    assert!(one.identify(&get("/", vec![])).is_err());
}

#[test]
fn header_path_identifier_and_chains() {
    let id = Identifier::Header {
        prefix: svc(),
        header: DEFAULT_NAME_HEADER.into(),
    };
    assert_eq!(
        id.identify(&get("/", vec![("l5d-name", b"/users/v2")]))
            .unwrap()
            .path,
        p("/svc/users/v2")
    );
    let bad = id.identify(&get("/", vec![("l5d-name", b"users")]));
    assert!(matches!(bad, Err(IdentifyError::Invalid(_))), "{bad:?}");
    let chain = IdentifierChain::new(vec![id, Identifier::default_http()]);
    // The first is unidentified (no l5d-name), so the second decides.
    assert_eq!(
        chain
            .identify(&get("/", vec![("Host", b"web")]))
            .unwrap()
            .path,
        p("/svc/web")
    );
    // An invalid value stops the chain.
    assert!(matches!(
        chain.identify(&get("/", vec![("l5d-name", b"nope"), ("Host", b"web")])),
        Err(IdentifyError::Invalid(_))
    ));
    // All unidentified: the last reason.
    assert_eq!(
        chain.identify(&get("/", vec![])),
        Err(IdentifyError::Unidentified("Host header is absent".into()))
    );
    assert_eq!(
        IdentifierChain::default().identifiers(),
        &[Identifier::default_http()]
    );
    let fixed = Identifier::Static {
        prefix: svc(),
        path: p("/foo/bar"),
    };
    assert_eq!(
        fixed.identify(&get("/", vec![])).unwrap().path,
        p("/svc/foo/bar")
    );
}

#[test]
fn routing_data_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Dtab>();
    assert_send_sync::<Path>();
    assert_send_sync::<Resolution>();
    assert_send_sync::<IdentifierChain>();
    assert_send_sync::<DelegateTree>();
    assert_send_sync::<BindCache>();
}

#[test]
fn fuzz_entry_handles_odd_inputs() {
    for input in [
        &b""[..],
        b"/a=>/b;/c=>/d|/e&0.5*(/f|~)",
        b"/=>!",
        b"/s => /s/x",
        b"/a => /b; /b => /a",
        b"/\\x00/* => 00000.5*/$/inet/h/1 & $",
        b"\xff\xfe",
        b"(((((((((((((((((((((/a",
        b"/a => /b # c\n; /c => /d;",
    ] {
        fuzz_dtab(input);
    }
}

#[test]
fn deep_rewrites_fit_thread_stacks() {
    // 98 hops between /n0 and /n98, then /$/inet: the most the default limit allows.
    let chain_of = |hops: usize| {
        let mut text = String::new();
        for i in 0..hops {
            text.push_str(&format!("/n{i} => /n{};", i + 1));
        }
        text.push_str(&format!("/n{hops} => /$/inet/h/1"));
        d(&text)
    };
    assert!(matches!(
        resolve(&chain_of(99), &p("/n0"), &namers),
        Resolution::Error(_)
    ));
    let chain = chain_of(98);
    let looped = d("/s => /s/x");
    // Binding runs on shards, delegation on the admin thread.
    let (c, l) = (chain.clone(), looped.clone());
    let shard = move || {
        assert_eq!(
            resolve(&c, &p("/n0"), &namers),
            single(b("/$/inet/h/1", "/"))
        );
        assert!(matches!(
            resolve(&l, &p("/s"), &namers),
            Resolution::Error(_)
        ));
    };
    std::thread::Builder::new()
        .stack_size(SHARD_STACK)
        .spawn(shard)
        .unwrap()
        .join()
        .unwrap();
    let admin = move || {
        assert!(matches!(
            delegate(&chain, &p("/n0"), &namers),
            DelegateTree::Delegate { .. }
        ));
        assert!(matches!(
            delegate(&looped, &p("/s"), &namers),
            DelegateTree::Exception { .. }
        ));
    };
    std::thread::Builder::new()
        .stack_size(ADMIN_STACK)
        .spawn(admin)
        .unwrap()
        .join()
        .unwrap();
}

/// Random dtabs from a fixed seed: every shape the grammar can produce, with odd bytes in
/// labels and extreme weights.
struct Gen(fastrand::Rng);

impl Gen {
    fn label(&mut self) -> Vec<u8> {
        let len = self.0.usize(1..6);
        (0..len)
            .map(|_| {
                if self.0.u8(0..10) == 0 {
                    self.0.u8(..)
                } else {
                    *self.0.choice(b"abcXYZ019_:.#$%-").unwrap_or(&b'a')
                }
            })
            .collect()
    }

    fn path(&mut self) -> Path {
        let n = self.0.usize(0..4);
        Path::from_segments((0..n).map(|_| self.label())).unwrap()
    }

    fn weight(&mut self) -> f64 {
        match self.0.u8(0..5) {
            0 => 1.0,
            1 => 0.0,
            2 => 1e-9 * self.0.f64(),
            3 => 1e15 * self.0.f64(),
            _ => (self.0.f64() * 100.0).round() / 10.0,
        }
    }

    fn tree(&mut self, depth: usize) -> NameTree<Path> {
        if depth == 0 || self.0.u8(0..10) < 4 {
            return match self.0.u8(0..6) {
                0 => NameTree::Fail,
                1 => NameTree::Neg,
                2 => NameTree::Empty,
                _ => NameTree::Leaf(self.path()),
            };
        }
        let n = self.0.usize(2..4);
        if self.0.bool() {
            NameTree::Alt((0..n).map(|_| self.tree(depth - 1)).collect())
        } else {
            NameTree::Union(
                (0..n)
                    .map(|_| Weighted {
                        weight: self.weight(),
                        tree: self.tree(depth - 1),
                    })
                    .collect(),
            )
        }
    }

    fn dtab(&mut self) -> Dtab {
        let n = self.0.usize(0..5);
        Dtab::new(
            (0..n)
                .map(|_| {
                    let elems = (0..self.0.usize(0..3))
                        .map(|_| {
                            if self.0.u8(0..3) == 0 {
                                PrefixElem::Any
                            } else {
                                PrefixElem::Label(self.label().into_boxed_slice())
                            }
                        })
                        .collect();
                    Dentry {
                        prefix: Prefix::new(elems),
                        dst: self.tree(4),
                    }
                })
                .collect(),
        )
    }
}

#[test]
fn random_dtabs_round_trip_and_never_panic() {
    let mut g = Gen(fastrand::Rng::with_seed(0x5eed));
    for i in 0..2_000 {
        let dtab = g.dtab();
        let shown = dtab.to_string();
        assert_eq!(Dtab::read(&shown), Ok(dtab.clone()), "{shown}");
        if i % 20 != 0 {
            continue;
        }
        fuzz_dtab(shown.as_bytes());
        // Damaged copies must parse or fail cleanly.
        let mut bytes = shown.into_bytes();
        for _ in 0..3 {
            if !bytes.is_empty() {
                let i = g.0.usize(..bytes.len());
                bytes[i] = g.0.u8(..);
            }
            fuzz_dtab(&bytes);
        }
    }
}

#[test]
fn hostile_nesting_is_cut_off_within_small_stacks() {
    // `/` matches every path and each rewrite nests 15 alternations deep before recursing.
    let mut tree = String::from("/x");
    for _ in 0..15 {
        tree = format!("(~ | {tree})");
    }
    let hostile = d(&format!("/ => {tree}"));
    let shard = {
        let hostile = hostile.clone();
        move || {
            let r = resolve(&hostile, &p("/svc"), &namers);
            assert_eq!(
                r,
                Resolution::Error(BindError::TooComplex {
                    limit: MAX_NESTING_STEPS
                })
            );
        }
    };
    std::thread::Builder::new()
        .stack_size(SHARD_STACK)
        .spawn(shard)
        .unwrap()
        .join()
        .unwrap();
    let admin = move || {
        // Each alternation reports the failure of its deepest branch as an exception node.
        let explained = serde_json::to_string(&delegate(&hostile, &p("/svc"), &namers)).unwrap();
        let expected = format!("binding nested deeper than {MAX_DELEGATE_NESTING_STEPS} steps");
        assert!(explained.contains(&expected), "{explained}");
    };
    std::thread::Builder::new()
        .stack_size(ADMIN_STACK)
        .spawn(admin)
        .unwrap()
        .join()
        .unwrap();
}

/// A dtab that doubles the number of names at each of `depth` levels, each level appending a
/// segment of `width` bytes (what a hostile `l5d-dtab` can do in a few KiB).
fn doubling_dtab(depth: usize, width: usize) -> Dtab {
    let seg = "A".repeat(width);
    let mut text = String::from("/svc => /p0 & /p0;");
    for i in 0..depth {
        text.push_str(&format!("/p{i} => /p{}/{seg} & /p{}/{seg};", i + 1, i + 1));
    }
    text.push_str(&format!("/p{depth} => /$/inet/127.0.0.1/8080;"));
    d(&text)
}

#[test]
fn bindings_that_materialise_too_many_path_bytes_fail_as_a_whole() {
    // Small: 32 names of ~1 KiB, well within the budget.
    let ok = resolve(&doubling_dtab(4, 200), &p("/svc/web"), &namers);
    let n = match &ok {
        Resolution::Weighted(b) => b.len(),
        _ => 0,
    };
    assert_eq!(n, 32, "a small doubling dtab binds");
    // Hostile: 256 names of ~1.6 KiB plus every level's rewrites: over 1 MiB.
    let big = resolve(&doubling_dtab(8, 200), &p("/svc/web"), &namers);
    assert_eq!(
        big,
        Resolution::Error(BindError::TooLarge {
            limit: MAX_PATH_BYTES
        })
    );
    assert!(big.heap_bytes() < 100, "the error holds no names");
    // A union with one branch over budget does not route to the others.
    let mixed = d(&format!(
        "{};/svc/web => /$/inet/127.0.0.1/9090 & /svc;",
        doubling_dtab(8, 200)
    ));
    assert!(matches!(
        resolve(&mixed, &p("/svc/web"), &namers),
        Resolution::Error(BindError::TooLarge { .. })
    ));
    // The budget is a limit like the others: a small one cuts a small binding.
    let limits = BindLimits {
        max_path_bytes: 2_000,
        ..BindLimits::default()
    };
    assert_eq!(
        bind_with_limits(&doubling_dtab(4, 200), &p("/svc/web"), &namers, limits),
        Err(BindError::TooLarge { limit: 2_000 })
    );
}

#[test]
fn explaining_a_too_large_binding_reports_the_budget() {
    let explained =
        serde_json::to_string(&delegate(&doubling_dtab(8, 200), &p("/svc/web"), &namers)).unwrap();
    assert!(
        explained.contains(&format!(
            "binding built more than {MAX_PATH_BYTES} bytes of names"
        )),
        "{}",
        &explained[..explained.len().min(300)]
    );
    assert!(
        explained.len() < 4 * MAX_PATH_BYTES,
        "{} bytes",
        explained.len()
    );
    // A small one is explained in full.
    let small =
        serde_json::to_string(&delegate(&doubling_dtab(2, 10), &p("/svc/web"), &namers)).unwrap();
    assert!(!small.contains("bytes of names") && small.contains("/$/inet/127.0.0.1/8080"));
}
