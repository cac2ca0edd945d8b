//! Cross-check of the connection layer with another implementation: the Python `h2` package
//! (hyper-h2) drives `tests/h2_conn_peer.py` as the other end, interactively over pipes.
//! A Python client's requests (a GET, a POST with body and trailers, a 300 KB download that
//! needs WINDOW_UPDATEs, a stream reset at once) against our server `Connection`, and our
//! client `Connection` against a Python server doing the same.
//!
//! Skipped (with a note) when `python3 -c "import h2"` fails; `.ci/run` installs it.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdout, Command, Stdio};

use bytes::BytesMut;
use hawser_http2::{Config, Connection, ErrorCode, Event, Field, RequestHead, Side};

const PEER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/h2_conn_peer.py");

fn have_h2() -> bool {
    Command::new("python3")
        .args(["-c", "import h2"])
        .output()
        .is_ok_and(|o| o.status.success())
}

struct Peer {
    child: Child,
    out: BufReader<ChildStdout>,
}

impl Peer {
    fn spawn(side: &str) -> Peer {
        let mut child = Command::new("python3")
            .arg(PEER)
            .arg(side)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let out = BufReader::new(child.stdout.take().expect("stdout"));
        Peer { child, out }
    }

    /// Sends our bytes; returns the peer's event lines, whether it is done, and its bytes.
    fn exchange(&mut self, bytes: &[u8]) -> (Vec<String>, bool, BytesMut) {
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let stdin = self.child.stdin.as_mut().expect("stdin");
        writeln!(stdin, "{hex}").expect("peer alive");
        stdin.flush().expect("flush");
        let (mut events, mut done) = (Vec::new(), false);
        loop {
            let mut line = String::new();
            assert!(
                self.out.read_line(&mut line).expect("read") > 0,
                "peer exited"
            );
            let line = line.trim_end();
            if let Some(h) = line.strip_prefix("OUT ").or(line.strip_prefix("OUT")) {
                let h = h.trim();
                let out = (0..h.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&h[i..i + 2], 16).expect("hex"))
                    .collect::<Vec<u8>>();
                return (events, done, BytesMut::from(&out[..]));
            }
            if line == "DONE" {
                done = true;
            } else {
                events.push(line.to_string());
            }
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn big() -> Vec<u8> {
    (0..300_000u32).map(|i| (i % 251) as u8).collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn python_h2_client_against_our_server() {
    if !have_h2() {
        eprintln!("skipped: python3 with the h2 package is not available (pip install h2)");
        return;
    }
    let mut peer = Peer::spawn("client");
    let mut server = Connection::new(Side::Server, Config::default());
    let mut paths: HashMap<u32, String> = HashMap::new();
    let mut bodies: HashMap<u32, Vec<u8>> = HashMap::new();
    let mut trailers: HashMap<u32, Vec<Field>> = HashMap::new();
    let mut resets = Vec::new();
    let mut sending: HashMap<u32, (Vec<u8>, usize)> = HashMap::new();
    let mut python_events = Vec::new();
    let mut done = false;
    for _ in 0..200 {
        let ours = server.take_output();
        let (ev, d, mut theirs) = peer.exchange(&ours);
        python_events.extend(ev);
        if d && ours.is_empty() {
            done = true;
            break;
        }
        server
            .receive(&mut theirs)
            .expect("python's bytes are valid");
        let mut ended = Vec::new();
        while let Some(e) = server.poll_event() {
            match e {
                Event::Request {
                    stream,
                    head,
                    end_stream,
                } => {
                    paths.insert(
                        stream,
                        String::from_utf8(head.path.unwrap().to_vec()).unwrap(),
                    );
                    if end_stream {
                        ended.push(stream);
                    }
                }
                Event::Data {
                    stream,
                    data,
                    end_stream,
                } => {
                    bodies.entry(stream).or_default().extend_from_slice(&data);
                    server.release_received(stream, data.len());
                    if end_stream {
                        ended.push(stream);
                    }
                }
                Event::Trailers { stream, fields } => {
                    trailers.insert(stream, fields);
                    ended.push(stream);
                }
                Event::Reset { stream, code, .. } => resets.push((stream, code)),
                _ => {}
            }
        }
        for id in ended {
            match paths[&id].as_str() {
                "/echo" => {
                    let ct = [Field::new("content-type", "application/grpc")];
                    server.send_response(id, 200, &ct, false).unwrap();
                    sending.insert(id, (bodies.get(&id).cloned().unwrap_or_default(), 0));
                }
                "/big" => {
                    server.send_response(id, 200, &[], false).unwrap();
                    sending.insert(id, (big(), 0));
                }
                _ => {
                    server.send_response(id, 200, &[], false).unwrap();
                    sending.insert(id, (b"hello from hawser".to_vec(), 0));
                }
            }
        }
        let mut finished = Vec::new();
        for (&id, (body, at)) in sending.iter_mut() {
            *at += server
                .send_data(id, &body[*at..], paths[&id] != "/echo")
                .unwrap();
            if *at == body.len() {
                if paths[&id] == "/echo" {
                    server
                        .send_trailers(id, &[Field::new("grpc-status", "0")])
                        .unwrap();
                }
                finished.push(id);
            }
        }
        for id in finished {
            sending.remove(&id);
        }
    }
    assert!(done, "python client did not finish: {python_events:?}");
    let echo: Vec<u8> = (0..200u8).cycle().take(1000).collect();
    assert_eq!(paths.get(&1).map(String::as_str), Some("/small"));
    assert_eq!(bodies.get(&3), Some(&echo));
    assert_eq!(
        trailers.get(&3),
        Some(&vec![Field::new("x-client-trailer", "yes")])
    );
    assert_eq!(paths.get(&7).map(String::as_str), Some("/cancel"));
    assert_eq!(resets, [(7, ErrorCode::Cancel)]);
    let expect = [
        format!("EV END 1 200 17 {} -", hex(b"hello from hawser")),
        format!("EV END 3 200 1000 {} grpc-status=0", hex(&echo)),
        "EV END 5 200 300000 big-ok -".to_string(),
    ];
    for line in &expect {
        assert!(
            python_events.contains(line),
            "{line} not in {python_events:?}"
        );
    }
    assert!(python_events.contains(&"EV TRAILERS 3 grpc-status=0".to_string()));
    assert_eq!(server.active_streams(), 0);
}

#[test]
fn our_client_against_python_h2_server() {
    if !have_h2() {
        eprintln!("skipped: python3 with the h2 package is not available (pip install h2)");
        return;
    }
    let mut peer = Peer::spawn("server");
    let mut client = Connection::new(Side::Client, Config::default());
    let small = client
        .send_request(&RequestHead::new("GET", "http", "python", "/small"), true)
        .unwrap();
    let mut post = RequestHead::new("POST", "http", "python", "/echo");
    post.fields
        .push(Field::new("content-type", "application/grpc"));
    let echo_id = client.send_request(&post, false).unwrap();
    let echo: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
    assert_eq!(client.send_data(echo_id, &echo, false), Ok(1000));
    client
        .send_trailers(echo_id, &[Field::new("x-client-trailer", "yes")])
        .unwrap();
    let big_id = client
        .send_request(&RequestHead::new("GET", "http", "python", "/big"), true)
        .unwrap();
    let mut bodies: HashMap<u32, Vec<u8>> = HashMap::new();
    let mut status = HashMap::new();
    let mut trailers = HashMap::new();
    let mut ended = Vec::new();
    let mut python_events = Vec::new();
    for _ in 0..200 {
        let ours = client.take_output();
        let (ev, _, mut theirs) = peer.exchange(&ours);
        python_events.extend(ev);
        client
            .receive(&mut theirs)
            .expect("python's bytes are valid");
        while let Some(e) = client.poll_event() {
            match e {
                Event::Response {
                    stream,
                    status: s,
                    end_stream,
                    ..
                } => {
                    status.insert(stream, s);
                    if end_stream {
                        ended.push(stream);
                    }
                }
                Event::Data {
                    stream,
                    data,
                    end_stream,
                } => {
                    bodies.entry(stream).or_default().extend_from_slice(&data);
                    client.release_received(stream, data.len());
                    if end_stream {
                        ended.push(stream);
                    }
                }
                Event::Trailers { stream, fields } => {
                    trailers.insert(stream, fields);
                    ended.push(stream);
                }
                Event::Reset { stream, code, .. } => panic!("stream {stream} reset: {code}"),
                _ => {}
            }
        }
        if ended.len() == 3 && client.output_len() == 0 {
            break;
        }
    }
    assert_eq!(ended.len(), 3, "{python_events:?}");
    assert!(
        python_events.contains(
            &"EV REQ 1 GET /small :method=GET;:scheme=http;:path=/small;:authority=python"
                .to_string()
        ),
        "{python_events:?}"
    );
    assert!(python_events.contains(&"EV TRAILERS 3 x-client-trailer=yes".to_string()));
    assert!(python_events.contains(&format!("EV END 3 1000 {}", hex(&echo))));
    assert_eq!(status.get(&small), Some(&200));
    assert_eq!(bodies.get(&small).map(Vec::as_slice), Some(&b"ok"[..]));
    assert_eq!(bodies.get(&echo_id), Some(&echo));
    assert_eq!(
        trailers.get(&echo_id),
        Some(&vec![Field::new("grpc-status", "0")])
    );
    assert!(bodies.get(&big_id) == Some(&big()));
    assert_eq!(client.active_streams(), 0);
}
