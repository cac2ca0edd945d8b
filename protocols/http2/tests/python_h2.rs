//! Cross-check with another implementation: the Python `h2` package (hyper-h2) plays an HTTP/2
//! client, and hawser's server decoder must read exactly the frames it meant to send. The
//! HPACK blocks are opaque to this crate; the test hands the reassembled blocks back to
//! Python's `hpack` to show the fragments were cut and joined correctly.
//!
//! Skipped (with a note) when `python3 -c "import h2"` fails; `.ci/run` installs it.

use std::process::Command;

use bytes::{Bytes, BytesMut};
use hawser_http2::{Data, Decoder, ErrorCode, Frame, GoAway, Ping, Settings, WindowUpdate};

const PEER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/h2_peer.py");

fn have_h2() -> bool {
    Command::new("python3")
        .args(["-c", "import h2"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn python(args: &[&str]) -> String {
    let out = Command::new("python3")
        .arg(PEER)
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn decode(wire: &[u8], step: usize) -> Vec<Frame> {
    let mut dec = Decoder::server();
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    for piece in wire.chunks(step) {
        buf.extend_from_slice(piece);
        while let Some(f) = dec.decode(&mut buf).expect("h2's bytes decode") {
            frames.push(f);
        }
    }
    assert!(buf.is_empty());
    frames
}

#[test]
fn frames_from_python_h2_client() {
    if !have_h2() {
        eprintln!("skipped: python3 with the h2 package is not available (pip install h2)");
        return;
    }
    let wire = unhex(python(&["emit"]).trim());
    let frames = decode(&wire, wire.len());
    for step in [1, 7, 100, 4096] {
        assert_eq!(decode(&wire, step), frames, "read size {step}");
    }

    // Field blocks per stream, from HEADERS + CONTINUATION; every other frame checked whole.
    let mut blocks: Vec<(u32, Vec<u8>)> = Vec::new();
    let mut rest = Vec::new();
    let mut continuations = 0;
    for f in &frames {
        match f {
            Frame::Headers(h) => {
                assert!(h.priority.is_none() && h.padding.is_none());
                assert_eq!(h.end_stream, h.stream_id == 1);
                blocks.push((h.stream_id, h.fragment.to_vec()));
            }
            Frame::Continuation(c) => {
                let last = blocks.last_mut().expect("a block is open");
                assert_eq!(last.0, c.stream_id);
                last.1.extend_from_slice(&c.fragment);
                continuations += 1;
            }
            other => rest.push(other.clone()),
        }
    }
    assert_eq!(
        blocks.iter().map(|b| b.0).collect::<Vec<_>>(),
        [1, 3, 5],
        "{frames:?}"
    );
    assert!(
        continuations >= 1,
        "the 30000-byte header needs a CONTINUATION"
    );
    assert_eq!(
        rest,
        vec![
            // h2's client SETTINGS; its ENABLE_CONNECT_PROTOCOL (0x8, RFC 8441) is not RFC
            // 9113's and is dropped.
            Frame::Settings(Settings {
                header_table_size: Some(4096),
                enable_push: Some(true),
                max_concurrent_streams: Some(100),
                initial_window_size: Some(65_535),
                max_frame_size: Some(16_384),
                max_header_list_size: Some(65_536),
                ..Settings::default()
            }),
            Frame::Data(Data {
                padding: Some(5),
                ..Data::new(3, Bytes::from_static(b"hello"), false)
            }),
            Frame::Data(Data::new(3, Bytes::from_static(b" world"), true)),
            Frame::Ping(Ping::new(*b"12345678")),
            Frame::WindowUpdate(WindowUpdate::new(0, 1000)),
            Frame::RstStream(hawser_http2::RstStream::new(5, ErrorCode::Cancel)),
            Frame::GoAway(GoAway {
                last_stream_id: 0,
                code: ErrorCode::NoError,
                debug_data: Bytes::from_static(b"bye"),
            }),
        ]
    );

    let args: Vec<String> = std::iter::once("hpack-decode".to_string())
        .chain(blocks.iter().map(|b| hex(&b.1)))
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let big: String = (0..30_000u32)
        .map(|i| char::from(b'a' + ((i * 7919) % 26) as u8))
        .collect();
    let expected = format!(
        ":method: GET\n:scheme: http\n:authority: users\n:path: /a\n\n\
         :method: POST\n:scheme: http\n:authority: users\n:path: /b\nx-big: {big}\n\n\
         :method: GET\n:scheme: http\n:authority: users\n:path: /c\n\n"
    );
    assert!(python(&args) == expected, "header blocks differ");
}
