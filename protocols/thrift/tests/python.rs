//! Cross-check against Apache Thrift's Python library: `py_vectors.py` writes messages with
//! `TBinaryProtocol` over `TFramedTransport(TMemoryBuffer())`; every one must decode here, and
//! the single-binary-field ones must re-encode to identical bytes. Skipped, with a note, when
//! `python3 -c "import thrift"` fails (CI installs it: see `.ci/run`).

use std::process::Command;

use bytes::BytesMut;
use hawser_thrift::{
    ApplicationErrorKind, ApplicationException, Decoded, Limits, Message, MessageType,
    decode_frame, encode_application_exception, encode_framed_binary, find_binary_field,
};

fn vectors() -> Option<Vec<(String, Vec<u8>)>> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/py_vectors.py");
    let out = Command::new("python3").arg(script).output().ok()?;
    if !out.status.success() {
        eprintln!(
            "skipped: python3 thrift unavailable: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        );
        return None;
    }
    let text = String::from_utf8(out.stdout).expect("hex output");
    Some(
        text.lines()
            .map(|l| {
                let (name, hex) = l.split_once(' ').expect("name hex");
                let bytes = (0..hex.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
                    .collect();
                (name.to_string(), bytes)
            })
            .collect(),
    )
}

#[test]
fn python_library_agrees() {
    let Some(vectors) = vectors() else {
        return;
    };
    assert_eq!(vectors.len(), 6);
    let limits = Limits::default();
    for (name, wire) in &vectors {
        let Ok(Decoded::Done(frame)) = decode_frame(wire, &limits) else {
            panic!("{name}: not one complete frame");
        };
        assert_eq!(frame.len() + 4, wire.len(), "{name}");
        let m = Message::load(frame, &limits).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (field, kind, seqid, strict) = match name.as_str() {
            "strict_call" => (1, MessageType::Call, 7, true),
            "old_call" => (1, MessageType::Call, 7, false),
            "strict_reply" => (0, MessageType::Reply, i32::MAX, true),
            "oneway" => (1, MessageType::Oneway, 0, true),
            "nested" => {
                assert_eq!(m.header.name, b"all");
                assert_eq!((m.header.kind, m.header.seqid), (MessageType::Reply, -5));
                let (ok, len) = find_binary_field(m.body, 0, &limits).unwrap();
                assert_eq!((ok, len), (Some(&b"ok"[..]), m.body.len()));
                continue;
            }
            "app_exception" => {
                let h = m.header;
                assert_eq!(
                    (h.name, h.kind, h.seqid),
                    (&b"echo"[..], MessageType::Exception, 9)
                );
                let e = ApplicationException::load(m.body, &limits).unwrap();
                assert_eq!(e.kind, ApplicationErrorKind::InternalError);
                assert_eq!(e.message, b"No hosts are available");
                // Ours, for the same call, is byte for byte what the library writes.
                let mut out = BytesMut::new();
                encode_application_exception(h.name, 9, true, e.kind, e.message, &mut out).unwrap();
                assert_eq!(&out[..], &wire[..], "{name}: our exception differs");
                continue;
            }
            other => panic!("unknown case {other}"),
        };
        let h = m.header;
        assert_eq!((h.kind, h.seqid, h.strict), (kind, seqid, strict), "{name}");
        let (value, _) = find_binary_field(m.body, field, &limits).unwrap();
        let value = value.unwrap_or_else(|| panic!("{name}: no field {field}"));
        let mut out = BytesMut::new();
        encode_framed_binary(&h, field, value, &mut out).unwrap();
        assert_eq!(&out[..], &wire[..], "{name}: re-encoded bytes differ");
    }
}
