//! The connection preface (section 3.4): the client magic a server decoder checks, and the
//! SETTINGS frame that must come first from either side.

use super::support::{raw, run};
use crate::{Decoder, Error, ErrorKind, Frame, PREFACE, Settings};

fn settings() -> Vec<u8> {
    raw(0x4, 0, 0, &[0, 3, 0, 0, 0, 100])
}

#[test]
fn server_reads_magic_then_settings() {
    let mut b = PREFACE.to_vec();
    b.extend(settings());
    b.extend(raw(0x6, 0, 0, &[0; 8]));
    let mut dec = Decoder::server();
    assert!(!dec.preface_received());
    let out = run(&mut dec, &[&b]);
    assert_eq!(
        out[0],
        Ok(Frame::Settings(Settings {
            max_concurrent_streams: Some(100),
            ..Settings::default()
        }))
    );
    assert!(matches!(out[1], Ok(Frame::Ping(_))));
    assert!(dec.preface_received());
}

#[test]
fn magic_arrives_byte_by_byte() {
    let mut b = PREFACE.to_vec();
    b.extend(settings());
    let pieces: Vec<&[u8]> = b.chunks(1).collect();
    let mut dec = Decoder::server();
    let out = run(&mut dec, &pieces);
    assert_eq!(out.len(), 1);
    assert!(out[0].is_ok());
}

#[test]
fn a_wrong_magic_fails_at_the_first_wrong_byte() {
    let bad = Error::Connection(ErrorKind::InvalidPreface);
    // An HTTP/1.1 request: fails on the first byte, without waiting for 24.
    assert_eq!(run(&mut Decoder::server(), &[b"G"]), vec![Err(bad)]);
    assert_eq!(
        run(&mut Decoder::server(), &[b"GET / HTTP/1.1\r\n\r\n"]),
        vec![Err(bad)]
    );
    for i in 0..PREFACE.len() {
        let mut b = PREFACE.to_vec();
        b[i] ^= 0x20;
        // The prefix before byte i is accepted ("need more"), byte i fails.
        assert_eq!(run(&mut Decoder::server(), &[&b[..i]]), vec![]);
        assert_eq!(run(&mut Decoder::server(), &[&b[..i + 1]]), vec![Err(bad)]);
    }
    // A bare-frame or client decoder does not expect the magic.
    let out = run(&mut Decoder::client(), &[PREFACE]);
    assert_eq!(
        out,
        vec![Err(Error::Connection(ErrorKind::PrefaceNotSettings))]
    );
}

#[test]
fn the_first_frame_must_be_settings_without_ack() {
    let not = Error::Connection(ErrorKind::PrefaceNotSettings);
    for first in [
        raw(0x6, 0, 0, &[0; 8]),
        raw(0x4, 0x1, 0, &[]),
        raw(0x8, 0, 0, &[0, 0, 0, 1]),
        raw(0xbb, 0, 0, &[]),
    ] {
        assert_eq!(run(&mut Decoder::client(), &[&first]), vec![Err(not)]);
        let mut b = PREFACE.to_vec();
        b.extend(&first);
        assert_eq!(run(&mut Decoder::server(), &[&b]), vec![Err(not)]);
    }
    // A client decoder: SETTINGS first, then anything.
    let mut b = settings();
    b.extend(raw(0x4, 0x1, 0, &[]));
    let mut dec = Decoder::client();
    assert_eq!(run(&mut dec, &[&b]).len(), 2);
    assert!(dec.preface_received());
    // The bare decoder has no preface.
    assert!(Decoder::new().preface_received());
}
