//! Receive-side flow control: the application returns credit as it consumes DATA, and
//! WINDOW_UPDATE goes out once half a window's worth is due (see the module docs of
//! [`super`]). Sending-side windows live with the send path.

use super::Connection;
use crate::{StreamId, WindowUpdate};

impl Connection {
    /// The application consumed `n` bytes of DATA received on `stream`: credit returns to the
    /// peer, with a WINDOW_UPDATE once half a window's worth is due (module docs). Calls for
    /// streams since closed still return connection credit; `n` beyond what was received and
    /// not yet released is ignored.
    pub fn release_received(&mut self, stream: StreamId, n: usize) {
        if self.failed.is_some() {
            return;
        }
        let n = n as u64;
        if let Some(s) = self.streams.get_mut(&stream) {
            let m = n.min(s.unreleased);
            s.unreleased -= m;
            self.release_stream(stream, m as u32);
        }
        self.give_back_conn(n);
    }

    /// Returns stream credit (when the peer may still send on it).
    pub(super) fn release_stream(&mut self, id: StreamId, n: u32) {
        let threshold = (self.recv_initial / 2).max(1);
        let Some(s) = self.streams.get_mut(&id) else {
            return;
        };
        if s.remote_end || n == 0 {
            return;
        }
        s.pending_update = s.pending_update.saturating_add(n);
        if s.pending_update >= threshold && s.recv.release(s.pending_update).is_ok() {
            WindowUpdate::new(id, s.pending_update).encode(&mut self.out);
            s.pending_update = 0;
        }
    }

    /// Returns connection credit, at most what is outstanding.
    pub(super) fn give_back_conn(&mut self, n: u64) {
        let n = n.min(self.conn_unreleased);
        if n == 0 {
            return;
        }
        self.conn_unreleased -= n;
        self.conn_pending_update = self.conn_pending_update.saturating_add(n as u32);
        let threshold = (self
            .config
            .connection_window_size
            .max(crate::DEFAULT_INITIAL_WINDOW_SIZE)
            / 2)
        .max(1);
        if self.conn_pending_update >= threshold
            && self.conn_recv.release(self.conn_pending_update).is_ok()
        {
            WindowUpdate::new(0, self.conn_pending_update).encode(&mut self.out);
            self.conn_pending_update = 0;
        }
    }
}
