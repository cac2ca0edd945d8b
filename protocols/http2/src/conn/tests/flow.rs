//! Flow control (RFC 9113 sections 5.2, 6.9) and SETTINGS (6.5) in both directions.

use bytes::Bytes;

use super::{Raw, drain, goaway, out_frames, raw_client, raw_server, raw_server_with, rst};
use crate::{
    Config, Connection, Data, ErrorCode, Event, Frame, MAX_WINDOW_SIZE, SendError, Settings,
    WindowUpdate,
};

fn data(raw: &mut Raw, id: u32, len: usize, padding: Option<u8>) {
    raw.frame(Frame::Data(Data {
        padding,
        ..Data::new(id, Bytes::from(vec![b'x'; len]), false)
    }));
}

fn small_windows() -> Config {
    Config {
        initial_window_size: 16_384,
        ..Config::default()
    }
}

#[test]
fn sec6_9_1_stream_window_exceeded_is_stream_flow_control_error() {
    let (mut s, mut raw) = raw_server_with(small_windows());
    raw.request(1, false);
    data(&mut raw, 1, 10_000, None);
    data(&mut raw, 1, 6_385, None);
    raw.send(&mut s).unwrap();
    assert_eq!(
        rst(&out_frames(&mut s), 1),
        Some(ErrorCode::FlowControlError)
    );
}

#[test]
fn sec6_1_padding_counts_against_the_window() {
    let (mut s, mut raw) = raw_server_with(small_windows());
    raw.request(1, false);
    raw.request(3, false);
    // 16200 bytes fit the 16384-byte window; with 255 bytes of padding (and the Pad Length
    // byte) on the first frame they do not.
    for (id, padding) in [(1, None), (3, Some(255))] {
        data(&mut raw, id, 16_000, padding);
        data(&mut raw, id, 100, None);
        data(&mut raw, id, 100, None);
    }
    raw.send(&mut s).unwrap();
    let frames = out_frames(&mut s);
    assert_eq!(rst(&frames, 1), None);
    assert_eq!(rst(&frames, 3), Some(ErrorCode::FlowControlError));
}

#[test]
fn sec6_1_padding_is_released_at_once() {
    let (mut s, mut raw) = raw_server_with(small_windows());
    raw.request(1, false);
    // 7936 data bytes + Pad Length + 255 padding = 8192, half the 16 KiB window.
    data(&mut raw, 1, 7_936, Some(255));
    raw.send(&mut s).unwrap();
    assert!(out_frames(&mut s).is_empty());
    // Releasing the data is enough: the padding's 256 bytes were released by the connection.
    s.release_received(1, 7_936);
    assert_eq!(
        out_frames(&mut s),
        vec![Frame::WindowUpdate(WindowUpdate::new(1, 8_192))]
    );
}

#[test]
fn sec6_9_1_connection_window_exceeded_is_connection_flow_control_error() {
    let (mut s, mut raw) = raw_server_with(Config {
        initial_window_size: 1 << 20,
        connection_window_size: 65_535,
        ..Config::default()
    });
    raw.request(1, false);
    for _ in 0..3 {
        data(&mut raw, 1, 16_384, None);
    }
    data(&mut raw, 1, 16_383, None);
    raw.send(&mut s).unwrap();
    data(&mut raw, 1, 1, None);
    let e = raw.send(&mut s).unwrap_err();
    assert_eq!(e.code, ErrorCode::FlowControlError);
    assert_eq!(
        goaway(&out_frames(&mut s)),
        Some(ErrorCode::FlowControlError)
    );
}

#[test]
fn sec6_9_window_update_of_zero_is_protocol_error() {
    let (mut s, mut raw) = raw_server();
    raw.request(1, false);
    raw.frame(Frame::WindowUpdate(WindowUpdate::new(1, 0)));
    raw.send(&mut s).unwrap();
    assert_eq!(rst(&out_frames(&mut s), 1), Some(ErrorCode::ProtocolError));
    raw.frame(Frame::WindowUpdate(WindowUpdate::new(0, 0)));
    assert_eq!(raw.send(&mut s).unwrap_err().code, ErrorCode::ProtocolError);
}

#[test]
fn sec6_9_1_window_overflow_is_flow_control_error() {
    let (mut s, mut raw) = raw_server();
    raw.request(1, false);
    raw.frame(Frame::WindowUpdate(WindowUpdate::new(1, MAX_WINDOW_SIZE)));
    raw.send(&mut s).unwrap();
    assert_eq!(
        rst(&out_frames(&mut s), 1),
        Some(ErrorCode::FlowControlError)
    );
    raw.frame(Frame::WindowUpdate(WindowUpdate::new(0, MAX_WINDOW_SIZE)));
    assert_eq!(
        raw.send(&mut s).unwrap_err().code,
        ErrorCode::FlowControlError
    );
}

#[test]
fn sec6_9_2_initial_window_change_moves_open_streams_even_below_zero() {
    let (mut c, mut raw) = raw_client(false);
    raw.frame(Frame::WindowUpdate(WindowUpdate::new(0, 1_000_000)));
    raw.send(&mut c).unwrap();
    assert_eq!(c.send_data(1, &[1; 60_000], false), Ok(60_000));
    assert_eq!(c.send_capacity(1), 5_535);
    raw.frame(Frame::Settings(Settings {
        initial_window_size: Some(1_000),
        ..Settings::default()
    }));
    raw.send(&mut c).unwrap();
    // 5535 - 64535 = -59000: nothing may be sent.
    assert_eq!(c.send_capacity(1), 0);
    assert_eq!(c.send_data(1, b"x", false), Ok(0));
    raw.frame(Frame::Settings(Settings {
        initial_window_size: Some(70_000),
        ..Settings::default()
    }));
    raw.send(&mut c).unwrap();
    assert_eq!(c.send_capacity(1), 10_000);
    assert!(drain(&mut c).contains(&Event::WindowOpen { stream: Some(1) }));
    let acks = out_frames(&mut c)
        .iter()
        .filter(|f| matches!(f, Frame::Settings(s) if s.ack))
        .count();
    assert_eq!(acks, 2, "section 6.5.3: every SETTINGS is acknowledged");
}

#[test]
fn sec6_9_2_initial_window_change_past_max_is_connection_error() {
    let (mut c, mut raw) = raw_client(false);
    raw.frame(Frame::WindowUpdate(WindowUpdate::new(
        1,
        MAX_WINDOW_SIZE - 65_535,
    )));
    raw.frame(Frame::Settings(Settings {
        initial_window_size: Some(65_536),
        ..Settings::default()
    }));
    assert_eq!(
        raw.send(&mut c).unwrap_err().code,
        ErrorCode::FlowControlError
    );
}

#[test]
fn sec6_5_2_peer_max_frame_size_bounds_our_data_frames() {
    let (mut c, mut raw) = raw_client(false);
    raw.frame(Frame::WindowUpdate(WindowUpdate::new(0, 1_000_000)));
    raw.frame(Frame::WindowUpdate(WindowUpdate::new(1, 1_000_000)));
    raw.send(&mut c).unwrap();
    c.send_data(1, &[0; 40_000], false).unwrap();
    let lens: Vec<usize> = out_frames(&mut c)
        .iter()
        .filter_map(|f| match f {
            Frame::Data(d) => Some(d.data.len()),
            _ => None,
        })
        .collect();
    assert_eq!(lens, [16_384, 16_384, 7_232]);
    raw.frame(Frame::Settings(Settings {
        max_frame_size: Some(32_768),
        ..Settings::default()
    }));
    raw.send(&mut c).unwrap();
    c.send_data(1, &[0; 40_000], false).unwrap();
    let lens: Vec<usize> = out_frames(&mut c)
        .iter()
        .filter_map(|f| match f {
            Frame::Data(d) => Some(d.data.len()),
            _ => None,
        })
        .collect();
    assert_eq!(lens, [32_768, 7_232]);
}

#[test]
fn sec6_5_2_peer_header_table_size_reaches_our_encoder() {
    let (mut c, mut raw) = raw_client(false);
    raw.frame(Frame::Settings(Settings {
        header_table_size: Some(0),
        ..Settings::default()
    }));
    raw.send(&mut c).unwrap();
    let _ = c.take_output();
    let head = crate::RequestHead::new("GET", "https", "example.com", "/x");
    c.send_request(&head, true).unwrap();
    let frames = out_frames(&mut c);
    let Some(Frame::Headers(h)) = frames.first() else {
        panic!("{frames:?}")
    };
    // RFC 7541 section 6.3: a dynamic table size update to 0 opens the block.
    assert_eq!(h.fragment.first(), Some(&0x20));
}

#[test]
fn sec6_5_2_peer_max_concurrent_streams_limits_send_request() {
    let (mut c, mut raw) = raw_client(false);
    raw.frame(Frame::Settings(Settings {
        max_concurrent_streams: Some(1),
        ..Settings::default()
    }));
    raw.send(&mut c).unwrap();
    let head = crate::RequestHead::new("GET", "https", "example.com", "/x");
    assert_eq!(
        c.send_request(&head, true),
        Err(SendError::ConcurrencyLimit { limit: 1 })
    );
}

#[test]
fn sec6_5_our_max_frame_size_applies_once_acknowledged() {
    let config = Config {
        max_frame_size: 32_768,
        ..Config::default()
    };
    let mut s = Connection::new(crate::Side::Server, config);
    let mut raw = Raw::new();
    raw.wire.extend_from_slice(crate::PREFACE);
    raw.frame(Frame::Settings(Settings::default()));
    raw.send(&mut s).unwrap();
    raw.frame(Frame::Settings(Settings::ack()));
    raw.request(1, false);
    data(&mut raw, 1, 20_000, None);
    raw.send(&mut s).unwrap();
    assert!(drain(&mut s).contains(&Event::SettingsAcked));
    assert_eq!(rst(&out_frames(&mut s), 1), None);
    // Without the ACK the same frame is too large (section 4.2).
    let mut s = Connection::new(crate::Side::Server, config);
    raw.wire.extend_from_slice(crate::PREFACE);
    raw.frame(Frame::Settings(Settings::default()));
    data(&mut raw, 1, 20_000, None);
    assert_eq!(
        raw.send(&mut s).unwrap_err().code,
        ErrorCode::FrameSizeError
    );
}

#[test]
fn sec6_9_window_update_policy_half_the_window() {
    let (mut s, mut raw) = raw_server();
    raw.request(1, false);
    for _ in 0..8 {
        data(&mut raw, 1, 16_384, None);
    }
    raw.send(&mut s).unwrap();
    drain(&mut s);
    s.release_received(1, 131_071);
    assert!(out_frames(&mut s).is_empty(), "below half of 256 KiB");
    s.release_received(1, 1);
    let frames = out_frames(&mut s);
    assert_eq!(
        frames,
        vec![Frame::WindowUpdate(WindowUpdate::new(1, 131_072))],
        "the connection's half is 512 KiB"
    );
    // Releasing more than was received is ignored.
    s.release_received(1, 1 << 30);
    assert!(out_frames(&mut s).is_empty());
}

#[test]
fn sec3_4_preface_settings_and_connection_window() {
    let mut c = Connection::new(crate::Side::Client, Config::default());
    assert!(c.take_output().starts_with(crate::PREFACE));
    let mut c = Connection::new(crate::Side::Client, Config::default());
    let frames = out_frames(&mut c);
    assert_eq!(
        frames,
        vec![
            Frame::Settings(Settings {
                header_table_size: Some(4096),
                enable_push: Some(false),
                max_concurrent_streams: Some(100),
                initial_window_size: Some(256 * 1024),
                max_frame_size: Some(16_384),
                max_header_list_size: Some(16 * 1024),
                ..Settings::default()
            }),
            Frame::WindowUpdate(WindowUpdate::new(0, 1024 * 1024 - 65_535)),
        ]
    );
    let mut s = Connection::new(crate::Side::Server, Config::default());
    assert!(matches!(&out_frames(&mut s)[0], Frame::Settings(st) if st.enable_push.is_none()));
}
