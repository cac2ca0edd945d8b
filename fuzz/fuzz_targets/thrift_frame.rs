//! Thrift framed stream: cutting frames, reading message headers and skipping struct bodies never
//! panics; feeding the input in two reads (cut where the first byte says) gives exactly what one
//! read gives, frame by frame, error included; a header that loads re-encodes to its bytes; and a
//! `TApplicationException` body that loads survives our encoding.
#![no_main]

use bytes::BytesMut;
use hawser_thrift::{
    ApplicationException, Decoded, Error, Limits, Message, MessageHeader,
    encode_application_exception, find_binary_field, take_frame,
};
use libfuzzer_sys::fuzz_target;

/// Per frame: the header's fields and body length, or the message's error.
type Frame = Result<(Vec<u8>, u8, i32, bool, usize), Error>;
/// How the stream ended: "need n more" or the framing error.
type End = Result<usize, Error>;

fn decode(input: &[u8], cut: usize, limits: &Limits) -> (Vec<Frame>, End) {
    let mut buf = BytesMut::from(&input[..cut]);
    let mut fed_all = cut == input.len();
    let mut frames = Vec::new();
    loop {
        match take_frame(&mut buf, limits) {
            Ok(Decoded::Done(payload)) => frames.push(message(&payload, limits)),
            Ok(Decoded::NeedMore(n)) if fed_all => return (frames, Ok(n)),
            Ok(Decoded::NeedMore(_)) => {
                buf.extend_from_slice(&input[cut..]);
                fed_all = true;
            }
            Err(e) => return (frames, Err(e)),
        }
    }
}

fn message(payload: &[u8], limits: &Limits) -> Frame {
    // Headers alone: a loaded header re-encodes to the bytes it came from, except the strict
    // form's "unused" third byte, which the spec says is ignored (and we write as zero).
    if let Ok((h, at)) = MessageHeader::load(payload, limits) {
        let mut out = BytesMut::new();
        h.encode(&mut out).expect("a loaded header encodes");
        let mut original = payload[..at].to_vec();
        if h.strict {
            original[2] = 0;
        }
        assert_eq!(&out[..], &original[..]);
        let rest = &payload[at..];
        // Finding a field validates the same struct skipping does.
        let skipped = hawser_thrift::skip_struct(rest, limits);
        let found = find_binary_field(rest, 0, limits).map(|(_, n)| n);
        assert_eq!(skipped, found);
        // A TApplicationException reads wherever the struct is valid, and what it read
        // re-encodes to a message that reads back the same.
        let app = ApplicationException::load(rest, limits);
        assert_eq!(app.is_ok(), skipped.is_ok());
        if let Ok(e) = app {
            let mut out = BytesMut::new();
            encode_application_exception(h.name, h.seqid, h.strict, e.kind, e.message, &mut out)
                .expect("encodes");
            let m = Message::load(&out[4..], limits).expect("our exception loads");
            assert_eq!(ApplicationException::load(m.body, limits), Ok(e));
        }
    }
    let m = Message::load(payload, limits)?;
    let h = m.header;
    Ok((
        h.name.to_vec(),
        h.kind.as_u8(),
        h.seqid,
        h.strict,
        m.body.len(),
    ))
}

fuzz_target!(|data: &[u8]| {
    let Some((&cut, input)) = data.split_first() else {
        return;
    };
    let limits = Limits {
        max_frame: 4096,
        max_name: 64,
        max_depth: 8,
    };
    let whole = decode(input, input.len(), &limits);
    let cut = usize::from(cut).min(input.len());
    let split = decode(input, cut, &limits);
    assert_eq!(whole, split);
});
