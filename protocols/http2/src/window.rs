//! Flow-control window arithmetic (RFC 9113 sections 6.9.1 and 6.9.2), with no I/O and no
//! policy about when to send WINDOW_UPDATE.

use crate::{ErrorKind, MAX_WINDOW_SIZE};

/// One flow-control window: a stream's or the connection's, on the sending side (credit the
/// peer granted us) or the receiving side (credit we granted the peer).
///
/// The size may be negative after a SETTINGS_INITIAL_WINDOW_SIZE decrease (section 6.9.2); it
/// never exceeds 2^31-1. Methods that fail leave the window unchanged and return the
/// [`ErrorKind`] to report; the caller decides the scope (a stream window's overflow is a
/// stream error, the connection window's a connection error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    size: i64,
}

impl Window {
    /// A window of `initial` bytes (65535 for every new window until SETTINGS say otherwise).
    ///
    /// # Panics
    /// If `initial` exceeds 2^31-1.
    pub fn new(initial: u32) -> Self {
        assert!(
            initial <= MAX_WINDOW_SIZE,
            "flow-control window above 2^31-1"
        );
        Window {
            size: i64::from(initial),
        }
    }

    /// The current size in bytes; negative after an initial-window decrease.
    pub fn size(&self) -> i64 {
        self.size
    }

    /// How many flow-controlled bytes may be sent (or accepted) now: the size, or 0 when it is
    /// negative.
    pub fn available(&self) -> u32 {
        self.size.clamp(0, i64::from(MAX_WINDOW_SIZE)) as u32
    }

    /// Takes `n` bytes of a DATA frame's [`crate::Data::flow_len`] out of the window.
    /// Zero-length frames are always allowed.
    ///
    /// # Errors
    /// [`ErrorKind::WindowExceeded`] when `n` is more than the window holds: on the receiving
    /// side the peer broke flow control (FLOW_CONTROL_ERROR); on the sending side the caller
    /// tried to send too much.
    pub fn consume(&mut self, n: u32) -> Result<(), ErrorKind> {
        if n == 0 {
            return Ok(());
        }
        if i64::from(n) > self.size {
            return Err(ErrorKind::WindowExceeded);
        }
        self.size -= i64::from(n);
        Ok(())
    }

    /// Gives `n` bytes back to a receiving window (the application consumed data and a
    /// WINDOW_UPDATE of `n` is going out).
    ///
    /// # Errors
    /// [`ErrorKind::WindowOverflow`] if the window would exceed 2^31-1.
    pub fn release(&mut self, n: u32) -> Result<(), ErrorKind> {
        self.grow(i64::from(n))
    }

    /// Applies a received WINDOW_UPDATE increment to a sending window.
    ///
    /// # Errors
    /// [`ErrorKind::WindowOverflow`]: "A sender MUST NOT allow a flow-control window to exceed
    /// 2^31-1 octets. If a sender receives a WINDOW_UPDATE that causes a flow-control window to
    /// exceed this maximum, it MUST terminate either the stream or the connection, as
    /// appropriate." (section 6.9.1: RST_STREAM or GOAWAY with FLOW_CONTROL_ERROR)
    pub fn apply_window_update(&mut self, increment: u32) -> Result<(), ErrorKind> {
        self.grow(i64::from(increment))
    }

    /// Applies a change of SETTINGS_INITIAL_WINDOW_SIZE from `old` to `new` to an open
    /// stream's window: "the receiver MUST adjust the size of all stream flow-control windows
    /// that it maintains by the difference between the new value and the old value." The
    /// result may be negative (section 6.9.2). Never apply it to the connection window.
    ///
    /// # Errors
    /// [`ErrorKind::WindowOverflow`]: "An endpoint MUST treat a change to
    /// SETTINGS_INITIAL_WINDOW_SIZE that causes any flow-control window to exceed the maximum
    /// size as a connection error ... FLOW_CONTROL_ERROR."
    pub fn apply_initial_window_change(&mut self, old: u32, new: u32) -> Result<(), ErrorKind> {
        self.grow(i64::from(new) - i64::from(old))
    }

    fn grow(&mut self, delta: i64) -> Result<(), ErrorKind> {
        let size = self.size.saturating_add(delta);
        if size > i64::from(MAX_WINDOW_SIZE) {
            return Err(ErrorKind::WindowOverflow);
        }
        self.size = size;
        Ok(())
    }
}

impl Default for Window {
    /// The initial window of every stream and of the connection: 65535 bytes.
    fn default() -> Self {
        Window::new(crate::DEFAULT_INITIAL_WINDOW_SIZE)
    }
}
