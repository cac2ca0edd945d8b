//! The receive path: frames from the decoder applied to the connection's state, each RFC 9113
//! rule answered with the stream or connection error it calls for, events queued for the
//! application. Returning credit (WINDOW_UPDATE) is in `flow`.

use bytes::{Bytes, BytesMut};
use hawser_hpack::Field;

/// Streams a peer may have open before it acknowledged our SETTINGS, when our limit is lower
/// (RFC 9113 section 6.5.2 recommends no limit below 100).
pub(crate) const PRE_ACK_STREAMS: u32 = 100;

use super::fields::{self, Malformed};
use super::stream::{Closed, RemoteHead, Stream};
use super::{Connection, ConnectionError, Event, Fault, MAX_CONTINUATIONS, PendingBlock, Side};
use crate::{
    Continuation, Data, Error, ErrorCode, Frame, GoAway, Headers, Ping, RstStream, Settings,
    StreamId, WindowUpdate,
};

fn malformed(id: StreamId, m: Malformed) -> Fault {
    Fault::Stream(id, ErrorCode::ProtocolError, m.reason())
}

impl Connection {
    /// Decodes every complete frame in `buf` (consuming it), applies each, queues events and
    /// the replies the protocol requires. Stream errors are answered with RST_STREAM and do
    /// not stop the loop. Bytes of an incomplete frame stay in `buf`.
    ///
    /// # Errors
    /// A connection error: GOAWAY is queued; write the output and close. Every later call
    /// returns the same error.
    pub fn receive(&mut self, buf: &mut BytesMut) -> Result<(), ConnectionError> {
        loop {
            if let Some(e) = self.failed {
                return Err(e);
            }
            let r = match self.decoder.decode(buf) {
                Ok(None) => return Ok(()),
                Ok(Some(frame)) => self.on_frame(frame),
                Err(Error::Stream(id, kind)) => Err(Fault::Stream(id, kind.code(), kind.reason())),
                Err(Error::Connection(kind)) => Err(Fault::Conn(kind.code(), kind.reason())),
            };
            if let Err(f) = r {
                self.fault(f)?;
            }
        }
    }

    fn on_frame(&mut self, frame: Frame) -> Result<(), Fault> {
        match frame {
            Frame::Data(d) => self.on_data(d),
            Frame::Headers(h) => self.on_headers(h),
            Frame::Continuation(c) => self.on_continuation(c),
            Frame::Priority(_) => Ok(()),
            Frame::RstStream(r) => self.on_rst(r),
            Frame::Settings(s) => self.on_settings(s),
            // "PUSH_PROMISE MUST NOT be sent if the SETTINGS_ENABLE_PUSH setting of the peer
            // endpoint is set to 0. ... A receiver ... MUST treat the receipt of a PUSH_PROMISE
            // frame as a connection error of type PROTOCOL_ERROR" (section 6.6). Our client
            // always sends ENABLE_PUSH 0; the server's decoder refuses PUSH_PROMISE itself.
            Frame::PushPromise(_) => Err(Fault::Conn(
                ErrorCode::ProtocolError,
                "PUSH_PROMISE with push disabled",
            )),
            Frame::Ping(p) => self.on_ping(p),
            Frame::GoAway(g) => {
                self.on_goaway(g);
                Ok(())
            }
            Frame::WindowUpdate(w) => self.on_window_update(w),
        }
    }

    fn on_settings(&mut self, s: Settings) -> Result<(), Fault> {
        if s.ack {
            if !self.settings_acked {
                self.settings_acked = true;
                self.decoder.set_max_frame_size(self.config.max_frame_size);
                self.hpack_dec
                    .set_max_table_size(self.config.header_table_size as usize);
                let (old, new) = (self.recv_initial, self.config.initial_window_size);
                for st in self.streams.values_mut() {
                    // A decrease (or nothing): cannot overflow.
                    let _ = st.recv.apply_initial_window_change(old, new);
                }
                self.recv_initial = new;
                self.events.push_back(Event::SettingsAcked);
            }
            return Ok(());
        }
        // "A client MUST treat receipt of a SETTINGS frame with SETTINGS_ENABLE_PUSH set to 1
        // as a connection error ... PROTOCOL_ERROR." (section 6.5.2)
        if self.side == Side::Client && s.enable_push == Some(true) {
            return Err(Fault::Conn(
                ErrorCode::ProtocolError,
                "server sent SETTINGS_ENABLE_PUSH 1",
            ));
        }
        if let Some(v) = s.header_table_size {
            self.hpack_enc.set_peer_max_table_size(v as usize);
        }
        if let Some(v) = s.max_concurrent_streams {
            self.peer.max_concurrent_streams = v;
        }
        if let Some(v) = s.max_frame_size {
            self.peer.max_frame_size = v;
        }
        if let Some(v) = s.max_header_list_size {
            self.peer.max_header_list_size = v;
        }
        if let Some(new) = s.initial_window_size {
            let old = self.peer.initial_window_size;
            // Section 6.9.2: every stream's send window moves by the difference, possibly
            // below zero; past 2^31-1 is a connection FLOW_CONTROL_ERROR.
            for st in self.streams.values_mut() {
                if st.send.apply_initial_window_change(old, new).is_err() {
                    return Err(Fault::Conn(
                        ErrorCode::FlowControlError,
                        "SETTINGS_INITIAL_WINDOW_SIZE overflows a window",
                    ));
                }
            }
            self.peer.initial_window_size = new;
            if new > old {
                let open: Vec<StreamId> = self
                    .streams
                    .iter()
                    .filter(|(_, st)| st.local_head && !st.local_end && st.send.available() > 0)
                    .map(|(&id, _)| id)
                    .collect();
                for id in open {
                    self.events
                        .push_back(Event::WindowOpen { stream: Some(id) });
                }
            }
        }
        self.reply(|out| Settings::ack().encode(out))?;
        self.events.push_back(Event::Settings(s));
        Ok(())
    }

    fn on_ping(&mut self, p: Ping) -> Result<(), Fault> {
        if p.ack {
            self.events.push_back(Event::PingAck(p.payload));
            return Ok(());
        }
        self.reply(|out| p.to_ack().encode(out))
    }

    fn on_goaway(&mut self, g: GoAway) {
        let last = self
            .goaway_received
            .map_or(g.last_stream_id, |l| l.min(g.last_stream_id));
        self.goaway_received = Some(last);
        // Streams we opened above last_stream_id were not processed: retryable (section 6.8).
        let refused: Vec<StreamId> = self
            .streams
            .range(last.saturating_add(1)..)
            .filter(|(_, s)| !s.peer_opened)
            .map(|(&id, _)| id)
            .collect();
        for id in refused {
            self.streams.remove(&id);
            self.closed.push(id, Closed::ResetByUs);
            self.events.push_back(Event::Reset {
                stream: id,
                code: ErrorCode::RefusedStream,
                remote: true,
            });
        }
        self.events.push_back(Event::GoAway {
            last_stream_id: g.last_stream_id,
            code: g.code,
            debug: g.debug_data,
        });
    }

    fn on_rst(&mut self, r: RstStream) -> Result<(), Fault> {
        let id = r.stream_id;
        let Some(s) = self.streams.remove(&id) else {
            // "If a RST_STREAM frame identifying an idle stream is received, the recipient
            // MUST treat this as a connection error ... PROTOCOL_ERROR." (section 6.4).
            // On a closed stream it is ignored (section 5.1).
            if self.is_idle(id) {
                return Err(Fault::Conn(
                    ErrorCode::ProtocolError,
                    "RST_STREAM on an idle stream",
                ));
            }
            return Ok(());
        };
        self.closed.push(id, Closed::ResetByPeer);
        if s.surfaced {
            self.events.push_back(Event::Reset {
                stream: id,
                code: r.code,
                remote: true,
            });
        }
        // Rapid reset: a stream the peer opened and reset before we finished it.
        if s.peer_opened && !s.local_end {
            self.add_reset_debt()?;
        }
        Ok(())
    }

    fn on_window_update(&mut self, w: WindowUpdate) -> Result<(), Fault> {
        let id = w.stream_id;
        if id == 0 {
            if self.conn_send.apply_window_update(w.increment).is_err() {
                return Err(Fault::Conn(
                    ErrorCode::FlowControlError,
                    "connection window overflow",
                ));
            }
            if self.conn_send.available() > 0 {
                self.events.push_back(Event::WindowOpen { stream: None });
            }
            return Ok(());
        }
        let Some(s) = self.streams.get_mut(&id) else {
            if self.is_idle(id) {
                return Err(Fault::Conn(
                    ErrorCode::ProtocolError,
                    "WINDOW_UPDATE on an idle stream",
                ));
            }
            return Ok(());
        };
        if s.send.apply_window_update(w.increment).is_err() {
            return Err(Fault::Stream(
                id,
                ErrorCode::FlowControlError,
                "stream window overflow",
            ));
        }
        if s.local_head && !s.local_end && s.send.available() > 0 {
            self.events
                .push_back(Event::WindowOpen { stream: Some(id) });
        }
        Ok(())
    }

    fn on_data(&mut self, d: Data) -> Result<(), Fault> {
        let id = d.stream_id;
        let flow = d.flow_len();
        let len = d.data.len() as u32;
        // "The entire DATA frame payload is included in flow control, including the Pad
        // Length and Padding fields if present." (section 6.1)
        if self.conn_recv.consume(flow).is_err() {
            return Err(Fault::Conn(
                ErrorCode::FlowControlError,
                "connection window exceeded",
            ));
        }
        self.conn_unreleased += u64::from(flow);
        let Some(s) = self.streams.get_mut(&id) else {
            self.give_back_conn(u64::from(flow));
            return self.data_without_stream(id);
        };
        if s.remote_end {
            self.give_back_conn(u64::from(flow));
            return Err(Fault::Stream(
                id,
                ErrorCode::StreamClosed,
                "DATA after END_STREAM",
            ));
        }
        if s.recv.consume(flow).is_err() {
            self.give_back_conn(u64::from(flow));
            return Err(Fault::Stream(
                id,
                ErrorCode::FlowControlError,
                "stream window exceeded",
            ));
        }
        if s.remote_head != RemoteHead::Final {
            self.give_back_conn(u64::from(flow));
            return Err(malformed(id, Malformed::DataBeforeHeaders));
        }
        s.received += u64::from(len);
        if let Some(cl) = s.content_length
            && (s.received > cl || (d.end_stream && s.received != cl))
        {
            self.give_back_conn(u64::from(flow));
            return Err(malformed(id, Malformed::ContentLengthMismatch));
        }
        s.unreleased += u64::from(len);
        let discard = s.discard;
        if d.end_stream {
            s.remote_end = true;
        }
        // Padding is never the application's to release.
        let auto = if discard { flow } else { flow - len };
        self.release_stream(id, auto);
        self.give_back_conn(u64::from(auto));
        if let Some(s) = self.streams.get_mut(&id)
            && discard
        {
            s.unreleased = 0;
        }
        if !discard && (len > 0 || d.end_stream) {
            self.events.push_back(Event::Data {
                stream: id,
                data: d.data,
                end_stream: d.end_stream,
            });
        }
        if d.end_stream {
            self.close_if_done(id);
        }
        Ok(())
    }

    /// DATA on a stream not in the table (section 5.1).
    fn data_without_stream(&mut self, id: StreamId) -> Result<(), Fault> {
        if self.is_idle(id) {
            return Err(Fault::Conn(
                ErrorCode::ProtocolError,
                "DATA on an idle stream",
            ));
        }
        match self.closed.get(id) {
            // "An endpoint MUST ignore frames that it receives on closed streams after it has
            // sent a RST_STREAM frame."
            Some(Closed::ResetByUs) => Ok(()),
            // "... receives any frames after receiving a frame with the END_STREAM flag set
            // MUST treat that as a connection error ... STREAM_CLOSED"
            Some(Closed::Ended) => Err(Fault::Conn(
                ErrorCode::StreamClosed,
                "DATA on a closed stream",
            )),
            Some(Closed::ResetByPeer) | None => Err(Fault::Stream(
                id,
                ErrorCode::StreamClosed,
                "DATA on a closed stream",
            )),
        }
    }

    fn on_headers(&mut self, h: Headers) -> Result<(), Fault> {
        if h.end_headers {
            return self.on_block(h.stream_id, h.end_stream, h.fragment);
        }
        self.block = Some(PendingBlock {
            stream: h.stream_id,
            end_stream: h.end_stream,
            buf: BytesMut::from(&h.fragment[..]),
            continuations: 0,
        });
        Ok(())
    }

    fn on_continuation(&mut self, c: Continuation) -> Result<(), Fault> {
        let Some(mut b) = self.block.take() else {
            return Err(Fault::Conn(
                ErrorCode::ProtocolError,
                "unexpected CONTINUATION",
            ));
        };
        b.continuations += 1;
        if b.continuations > MAX_CONTINUATIONS {
            return Err(Fault::Conn(
                ErrorCode::EnhanceYourCalm,
                "too many CONTINUATION frames",
            ));
        }
        b.buf.extend_from_slice(&c.fragment);
        if c.end_headers {
            return self.on_block(b.stream, b.end_stream, b.buf.freeze());
        }
        self.block = Some(b);
        Ok(())
    }

    /// A complete field block on stream `id`.
    fn on_block(&mut self, id: StreamId, end_stream: bool, block: Bytes) -> Result<(), Fault> {
        // Always decoded, whatever the stream's state, to keep the HPACK context in step.
        let mut list = Vec::new();
        let too_large = match self.hpack_dec.decode_bytes(&block, |f| list.push(f)) {
            Ok(()) => false,
            Err(e) if e.is_compression_error() => {
                return Err(Fault::Conn(
                    ErrorCode::CompressionError,
                    "HPACK decoding failed",
                ));
            }
            Err(_) => {
                list.clear();
                true
            }
        };
        if self.streams.contains_key(&id) {
            return self.headers_on_stream(id, end_stream, list, too_large);
        }
        if self.is_peer_id(id) && self.side == Side::Server && id > self.last_peer_id {
            return self.new_peer_stream(id, end_stream, list, too_large);
        }
        if self.is_idle(id) {
            // Our own unused id, or a server opening a stream without a PUSH_PROMISE.
            return Err(Fault::Conn(
                ErrorCode::ProtocolError,
                "HEADERS on an idle stream",
            ));
        }
        match self.closed.get(id) {
            Some(Closed::ResetByUs) => Ok(()),
            Some(Closed::ResetByPeer) => Err(Fault::Stream(
                id,
                ErrorCode::StreamClosed,
                "HEADERS on a reset stream",
            )),
            Some(Closed::Ended) => Err(Fault::Conn(
                ErrorCode::StreamClosed,
                "HEADERS on a closed stream",
            )),
            // "The identifier of a newly established stream MUST be numerically greater than
            // all streams that the initiating endpoint has opened" (section 5.1.1).
            None if self.is_peer_id(id) => Err(Fault::Conn(
                ErrorCode::ProtocolError,
                "stream id not increasing",
            )),
            None => Err(Fault::Stream(
                id,
                ErrorCode::StreamClosed,
                "HEADERS on a closed stream",
            )),
        }
    }

    /// Server side: HEADERS opening a new stream.
    fn new_peer_stream(
        &mut self,
        id: StreamId,
        end_stream: bool,
        list: Vec<Field>,
        too_large: bool,
    ) -> Result<(), Fault> {
        // Every lower idle id of the peer's is now closed (section 5.1.1).
        self.last_peer_id = id;
        if self.goaway_sent.is_some() {
            // After our GOAWAY, new streams are not processed (section 6.8): refused, so the
            // client knows it may retry them elsewhere.
            self.closed.push(id, Closed::ResetByUs);
            return self.reply(|out| RstStream::new(id, ErrorCode::RefusedStream).encode(out));
        }
        let active = self.streams.values().filter(|s| s.peer_opened).count();
        // Until the peer acknowledged our SETTINGS it cannot know our limit ("initially there
        // is no limit", section 6.5.2), so streams it opened with its preface are accepted up
        // to the 100 that section recommends as the smallest limit, if ours is lower.
        let limit = if self.settings_acked {
            self.config.max_concurrent_streams
        } else {
            self.config.max_concurrent_streams.max(PRE_ACK_STREAMS)
        };
        if active >= limit as usize {
            // "An endpoint that receives a HEADERS frame that causes its advertised concurrent
            // stream limit to be exceeded MUST treat this as a stream error ... of type
            // PROTOCOL_ERROR or REFUSED_STREAM." (section 5.1.2)
            return Err(Fault::Stream(
                id,
                ErrorCode::RefusedStream,
                "concurrent stream limit",
            ));
        }
        let mut s = Stream::new(true, self.peer.initial_window_size, self.recv_initial);
        s.remote_head = RemoteHead::Final;
        s.remote_end = end_stream;
        s.surfaced = true;
        let event = if too_large {
            s.discard = true;
            Event::HeadersTooLarge { stream: id }
        } else {
            let head = fields::parse_request(list).map_err(|m| malformed(id, m))?;
            s.content_length =
                fields::content_length(&head.fields).map_err(|m| malformed(id, m))?;
            if end_stream && s.content_length.is_some_and(|n| n != 0) {
                return Err(malformed(id, Malformed::ContentLengthMismatch));
            }
            Event::Request {
                stream: id,
                head,
                end_stream,
            }
        };
        self.streams.insert(id, s);
        self.events.push_back(event);
        Ok(())
    }

    /// HEADERS on a stream in the table: a response (client), or trailers.
    fn headers_on_stream(
        &mut self,
        id: StreamId,
        end_stream: bool,
        list: Vec<Field>,
        too_large: bool,
    ) -> Result<(), Fault> {
        let Some(s) = self.streams.get_mut(&id) else {
            return Ok(());
        };
        // Half-closed (remote): "If an endpoint receives additional frames, other than
        // WINDOW_UPDATE, PRIORITY, or RST_STREAM, for a stream that is in this state, it MUST
        // respond with a stream error ... STREAM_CLOSED." (section 5.1)
        if s.remote_end {
            return Err(Fault::Stream(
                id,
                ErrorCode::StreamClosed,
                "HEADERS after END_STREAM",
            ));
        }
        let event = if too_large {
            s.discard = true;
            s.surfaced = true;
            s.remote_head = RemoteHead::Final;
            Event::HeadersTooLarge { stream: id }
        } else if s.remote_head == RemoteHead::Final {
            // Trailers: "... MUST contain END_STREAM" and no pseudo-headers (section 8.1).
            if !end_stream {
                return Err(malformed(id, Malformed::TrailersWithoutEndStream));
            }
            fields::check_trailers(&list).map_err(|m| malformed(id, m))?;
            if s.content_length.is_some_and(|n| n != s.received) {
                return Err(malformed(id, Malformed::ContentLengthMismatch));
            }
            Event::Trailers {
                stream: id,
                fields: list,
            }
        } else {
            let (status, fields) = fields::parse_response(list).map_err(|m| malformed(id, m))?;
            if status < 200 {
                if end_stream {
                    return Err(malformed(id, Malformed::InformationalEndStream));
                }
                s.remote_head = RemoteHead::Informational;
                s.surfaced = true;
                Event::Informational {
                    stream: id,
                    status,
                    fields,
                }
            } else {
                let cl = fields::content_length(&fields).map_err(|m| malformed(id, m))?;
                // A response to HEAD, and a 304, describe a body they do not carry.
                if !(s.head_request || status == 304) {
                    s.content_length = cl;
                }
                if end_stream && s.content_length.is_some_and(|n| n != 0) {
                    return Err(malformed(id, Malformed::ContentLengthMismatch));
                }
                s.remote_head = RemoteHead::Final;
                s.surfaced = true;
                Event::Response {
                    stream: id,
                    status,
                    fields,
                    end_stream,
                }
            }
        };
        if end_stream {
            s.remote_end = true;
        }
        self.events.push_back(event);
        if end_stream {
            self.close_if_done(id);
        }
        Ok(())
    }
}
