//! Flow-control window arithmetic (sections 6.9.1 and 6.9.2).

use crate::{ErrorKind, MAX_WINDOW_SIZE, Window};

#[test]
fn consume_and_release() {
    let mut w = Window::default();
    assert_eq!(w.size(), 65_535);
    assert_eq!(w.consume(65_535), Ok(()));
    assert_eq!(w.size(), 0);
    assert_eq!(w.available(), 0);
    // Zero-length frames are always allowed, even on an empty window.
    assert_eq!(w.consume(0), Ok(()));
    assert_eq!(w.consume(1), Err(ErrorKind::WindowExceeded));
    assert_eq!(w.size(), 0, "a failed call leaves the window unchanged");
    assert_eq!(w.release(10), Ok(()));
    assert_eq!(w.consume(11), Err(ErrorKind::WindowExceeded));
    assert_eq!(w.consume(10), Ok(()));
    assert_eq!(
        ErrorKind::WindowExceeded.code(),
        crate::ErrorCode::FlowControlError
    );
}

#[test]
fn window_update_overflow_is_detected_at_the_limit() {
    let mut w = Window::new(0);
    assert_eq!(w.apply_window_update(MAX_WINDOW_SIZE), Ok(()));
    assert_eq!(w.size(), i64::from(MAX_WINDOW_SIZE));
    assert_eq!(w.apply_window_update(1), Err(ErrorKind::WindowOverflow));
    assert_eq!(w.release(1), Err(ErrorKind::WindowOverflow));
    assert_eq!(w.size(), i64::from(MAX_WINDOW_SIZE));
    // Increments may be anything a frame can carry; sums past the limit fail.
    let mut w = Window::new(65_535);
    assert_eq!(w.apply_window_update(MAX_WINDOW_SIZE - 65_535), Ok(()));
    assert_eq!(
        w.apply_window_update(MAX_WINDOW_SIZE),
        Err(ErrorKind::WindowOverflow)
    );
    assert_eq!(
        w.apply_window_update(u32::MAX),
        Err(ErrorKind::WindowOverflow)
    );
}

#[test]
fn initial_window_changes_may_go_negative() {
    // Section 6.9.2's example: 60000 bytes sent against the initial 65535, then the initial
    // size drops to 16384: the window becomes 16384 - 60000 = -43616.
    let mut w = Window::new(65_535);
    w.consume(60_000).unwrap();
    assert_eq!(w.apply_initial_window_change(65_535, 16_384), Ok(()));
    assert_eq!(w.size(), 5_535 - (65_535 - 16_384));
    assert!(w.size() < 0);
    assert_eq!(w.available(), 0);
    // Nothing can be sent until updates bring it above zero.
    assert_eq!(w.consume(1), Err(ErrorKind::WindowExceeded));
    assert_eq!(w.consume(0), Ok(()));
    w.apply_window_update(43_616).unwrap();
    assert_eq!(w.size(), 0);
    w.apply_window_update(1).unwrap();
    assert_eq!(w.consume(1), Ok(()));
    // An increase restores the room.
    let mut w = Window::new(0);
    w.apply_initial_window_change(0, MAX_WINDOW_SIZE).unwrap();
    assert_eq!(w.available(), MAX_WINDOW_SIZE);
    // Down to the lowest value a change can produce from an empty window.
    let mut w = Window::new(MAX_WINDOW_SIZE);
    w.consume(MAX_WINDOW_SIZE).unwrap();
    w.apply_initial_window_change(MAX_WINDOW_SIZE, 0).unwrap();
    assert_eq!(w.size(), -i64::from(MAX_WINDOW_SIZE));
}

#[test]
fn initial_window_increase_past_the_limit_is_a_flow_control_error() {
    let mut w = Window::new(65_535);
    w.apply_window_update(MAX_WINDOW_SIZE - 65_535).unwrap();
    assert_eq!(
        w.apply_initial_window_change(65_535, 65_536),
        Err(ErrorKind::WindowOverflow)
    );
    assert_eq!(w.size(), i64::from(MAX_WINDOW_SIZE));
    assert_eq!(w.apply_initial_window_change(65_535, 65_535), Ok(()));
}

#[test]
#[should_panic(expected = "above 2^31-1")]
fn a_window_cannot_start_above_the_limit() {
    let _ = Window::new(MAX_WINDOW_SIZE + 1);
}
