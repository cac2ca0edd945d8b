//! Connection tests: a client [`Connection`] against a server one in memory (full exchanges),
//! and a server or client fed hand-built frames (one rule of RFC 9113 per test, named by its
//! section, checked by the RST_STREAM or GOAWAY code that comes back). Shared helpers here.

mod exchange;
mod fields;
mod flow;
mod limits;
mod states;

use bytes::{Bytes, BytesMut};
use hawser_hpack::{Encoder, Header};

use crate::{
    Config, Connection, Data, Decoder, ErrorCode, Event, Frame, Headers, PREFACE, Settings, Side,
    StreamId,
};

/// Moves output between the two until both are quiet; panics on a connection error.
pub fn pump(a: &mut Connection, b: &mut Connection) {
    for _ in 0..1000 {
        let mut ab = a.take_output();
        let mut ba = b.take_output();
        if ab.is_empty() && ba.is_empty() {
            return;
        }
        b.receive(&mut ab).expect("b receives");
        a.receive(&mut ba).expect("a receives");
    }
    panic!("pump did not settle");
}

/// A client and a server with the given configs, prefaces exchanged and SETTINGS acknowledged.
pub fn pair_with(client: Config, server: Config) -> (Connection, Connection) {
    let mut c = Connection::new(Side::Client, client);
    let mut s = Connection::new(Side::Server, server);
    pump(&mut c, &mut s);
    drain(&mut c);
    drain(&mut s);
    (c, s)
}

pub fn pair() -> (Connection, Connection) {
    pair_with(Config::default(), Config::default())
}

pub fn drain(c: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

/// The frames in a connection's output (the client magic skipped).
pub fn out_frames(c: &mut Connection) -> Vec<Frame> {
    let mut buf = c.take_output();
    if buf.starts_with(PREFACE) {
        let _ = buf.split_to(PREFACE.len());
    }
    let mut dec = Decoder::new();
    dec.set_max_frame_size(crate::MAX_MAX_FRAME_SIZE);
    let mut frames = Vec::new();
    while let Some(f) = dec.decode(&mut buf).expect("our output decodes") {
        frames.push(f);
    }
    assert!(buf.is_empty());
    frames
}

/// The code of the RST_STREAM sent on `id`, if any.
pub fn rst(frames: &[Frame], id: StreamId) -> Option<ErrorCode> {
    frames.iter().find_map(|f| match f {
        Frame::RstStream(r) if r.stream_id == id => Some(r.code),
        _ => None,
    })
}

/// The code of the GOAWAY sent, if any.
pub fn goaway(frames: &[Frame]) -> Option<ErrorCode> {
    frames.iter().find_map(|f| match f {
        Frame::GoAway(g) => Some(g.code),
        _ => None,
    })
}

/// A hand-driven peer: writes frames with the crate's encoders and its own HPACK context.
pub struct Raw {
    pub enc: Encoder,
    pub wire: BytesMut,
}

impl Raw {
    pub fn new() -> Self {
        Raw {
            enc: Encoder::default(),
            wire: BytesMut::new(),
        }
    }

    pub fn block(&mut self, fields: &[(&str, &str)]) -> Bytes {
        let mut b = BytesMut::new();
        self.enc.encode(
            fields
                .iter()
                .map(|(n, v)| Header::new(n.as_bytes(), v.as_bytes())),
            &mut b,
        );
        b.freeze()
    }

    pub fn headers(&mut self, id: StreamId, fields: &[(&str, &str)], end_stream: bool) {
        let block = self.block(fields);
        Headers::new(id, block, end_stream).encode(&mut self.wire);
    }

    pub fn request(&mut self, id: StreamId, end_stream: bool) {
        self.headers(id, GET, end_stream);
    }

    pub fn data(&mut self, id: StreamId, data: &'static [u8], end_stream: bool) {
        Data::new(id, Bytes::from_static(data), end_stream).encode(&mut self.wire);
    }

    pub fn frame(&mut self, f: Frame) {
        f.encode(&mut self.wire);
    }

    /// Feeds everything written so far to `c`.
    pub fn send(&mut self, c: &mut Connection) -> Result<(), crate::ConnectionError> {
        let mut w = self.wire.split();
        c.receive(&mut w)
    }
}

pub const GET: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "https"),
    (":authority", "example.com"),
    (":path", "/"),
];

/// A server (default config unless given) that has read a client preface and SETTINGS, and
/// the raw client; the server's own preface and ACK already taken.
pub fn raw_server_with(config: Config) -> (Connection, Raw) {
    let mut s = Connection::new(Side::Server, config);
    let mut raw = Raw::new();
    raw.wire.extend_from_slice(PREFACE);
    Settings::default().encode(&mut raw.wire);
    Settings::ack().encode(&mut raw.wire);
    raw.send(&mut s).expect("preface accepted");
    let _ = s.take_output();
    drain(&mut s);
    (s, raw)
}

pub fn raw_server() -> (Connection, Raw) {
    raw_server_with(Config::default())
}

/// A client that has read a server's SETTINGS and sent one GET on stream 1 (END_STREAM as
/// given); its output taken.
pub fn raw_client(end_stream: bool) -> (Connection, Raw) {
    let mut c = Connection::new(Side::Client, Config::default());
    let mut raw = Raw::new();
    Settings::default().encode(&mut raw.wire);
    Settings::ack().encode(&mut raw.wire);
    raw.send(&mut c).expect("server preface accepted");
    let head = crate::RequestHead::new("GET", "https", "example.com", "/");
    assert_eq!(c.send_request(&head, end_stream), Ok(1));
    let _ = c.take_output();
    drain(&mut c);
    (c, raw)
}
