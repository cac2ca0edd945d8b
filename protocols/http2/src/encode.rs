//! Writing a whole field block as HEADERS (or PUSH_PROMISE) plus as many CONTINUATION frames as
//! the peer's SETTINGS_MAX_FRAME_SIZE requires. Single frames of every type encode themselves
//! ([`crate::Frame::encode`] and each frame type's `encode`).

use bytes::{Bytes, BytesMut};

use crate::frame::{Continuation, Headers, PushPromise, padding_len};
use crate::{MAX_MAX_FRAME_SIZE, MIN_MAX_FRAME_SIZE};

fn check_max(max_frame_size: u32) -> usize {
    assert!(
        (MIN_MAX_FRAME_SIZE..=MAX_MAX_FRAME_SIZE).contains(&max_frame_size),
        "max_frame_size must be within 16384..=16777215"
    );
    max_frame_size as usize
}

/// Appends CONTINUATION frames carrying `rest`, each at most `max` bytes, the last with
/// END_HEADERS.
fn encode_continuations(stream_id: u32, mut rest: Bytes, max: usize, dst: &mut BytesMut) {
    while !rest.is_empty() {
        let take = rest.len().min(max);
        let fragment = rest.split_to(take);
        Continuation {
            stream_id,
            fragment,
            end_headers: rest.is_empty(),
        }
        .encode(dst);
    }
}

/// Appends `head` as a HEADERS frame followed by CONTINUATION frames when its field block
/// (`head.fragment`, the whole HPACK-encoded block) does not fit in one frame of
/// `max_frame_size` bytes (the peer's SETTINGS_MAX_FRAME_SIZE). Priority fields and padding go
/// in the HEADERS frame; `head.end_headers` is ignored (set on the last frame written).
///
/// # Panics
/// If `max_frame_size` is outside 16384..=16777215.
pub fn encode_headers(head: &Headers, max_frame_size: u32, dst: &mut BytesMut) {
    let max = check_max(max_frame_size);
    let fixed = if head.priority.is_some() { 5 } else { 0 } + padding_len(head.padding);
    let first = head.fragment.len().min(max - fixed);
    let mut frame = head.clone();
    let rest = frame.fragment.split_off(first);
    frame.end_headers = rest.is_empty();
    frame.encode(dst);
    encode_continuations(head.stream_id, rest, max, dst);
}

/// Appends `promise` as a PUSH_PROMISE frame followed by CONTINUATION frames as needed, as
/// [`encode_headers`] does.
///
/// # Panics
/// If `max_frame_size` is outside 16384..=16777215.
pub fn encode_push_promise(promise: &PushPromise, max_frame_size: u32, dst: &mut BytesMut) {
    let max = check_max(max_frame_size);
    let fixed = 4 + padding_len(promise.padding);
    let first = promise.fragment.len().min(max - fixed);
    let mut frame = promise.clone();
    let rest = frame.fragment.split_off(first);
    frame.end_headers = rest.is_empty();
    frame.encode(dst);
    encode_continuations(promise.stream_id, rest, max, dst);
}
