//! The send path: requests, responses, DATA within the flow-control windows, trailers, resets,
//! GOAWAY and PING. Every method checks the stream's state and the message's validity before
//! queuing anything, so a refused call leaves the connection as it was.

use bytes::Bytes;
use hawser_hpack::{Field, Header};

use super::fields::{self, Malformed, RequestHead};
use super::stream::{Closed, Stream};
use super::{Connection, SendError, Side};
use crate::frame::{flags, put_header};
use crate::{
    ErrorCode, FrameType, GoAway, Headers, MAX_WINDOW_SIZE, Ping, RstStream, StreamId,
    encode_headers,
};

impl Connection {
    fn check_usable(&self) -> Result<(), SendError> {
        if self.failed.is_some() {
            return Err(SendError::Closed);
        }
        Ok(())
    }

    /// Encodes a field section and queues it as HEADERS (+ CONTINUATION).
    fn queue_headers(
        &mut self,
        id: StreamId,
        headers: Vec<Header<'_>>,
        end_stream: bool,
    ) -> Result<(), SendError> {
        let size = fields::list_size(headers.iter().copied());
        if size > self.peer.max_header_list_size as usize {
            return Err(SendError::HeaderListTooLarge);
        }
        let block = fields::encode_block(&mut self.hpack_enc, headers);
        encode_headers(
            &Headers::new(id, block, end_stream),
            self.peer.max_frame_size,
            &mut self.out,
        );
        Ok(())
    }

    /// Client: opens a stream with a request. `end_stream`: no body follows.
    ///
    /// # Errors
    /// [`SendError::WrongSide`] on a server; [`SendError::GoingAway`] after GOAWAY either way;
    /// [`SendError::ConcurrencyLimit`] at the peer's SETTINGS_MAX_CONCURRENT_STREAMS;
    /// [`SendError::StreamIdsExhausted`]; [`SendError::Malformed`] for a request HTTP/2 cannot
    /// carry; [`SendError::HeaderListTooLarge`] over the peer's advertised limit.
    pub fn send_request(
        &mut self,
        head: &RequestHead,
        end_stream: bool,
    ) -> Result<StreamId, SendError> {
        if self.side != Side::Client {
            return Err(SendError::WrongSide);
        }
        self.check_usable()?;
        if self.goaway_sent.is_some() || self.goaway_received.is_some() {
            return Err(SendError::GoingAway);
        }
        let limit = self.peer.max_concurrent_streams;
        let active = self.streams.values().filter(|s| !s.peer_opened).count();
        if active >= limit as usize {
            return Err(SendError::ConcurrencyLimit { limit });
        }
        let id = self.next_local_id;
        if id > MAX_WINDOW_SIZE {
            return Err(SendError::StreamIdsExhausted);
        }
        let headers = fields::request_headers(head).map_err(SendError::Malformed)?;
        self.queue_headers(id, headers, end_stream)?;
        let mut s = Stream::new(false, self.peer.initial_window_size, self.recv_initial);
        s.local_head = true;
        s.local_end = end_stream;
        s.head_request = head.method.as_ref() == b"HEAD";
        self.streams.insert(id, s);
        self.next_local_id += 2;
        Ok(id)
    }

    /// Server: sends a response's HEADERS. A 1xx status (not 101) is informational and may be
    /// sent before the final one; `end_stream`: no body follows (not allowed with 1xx).
    ///
    /// # Errors
    /// [`SendError::WrongSide`] on a client, [`SendError::UnknownStream`],
    /// [`SendError::StreamEnded`], [`SendError::WrongState`] after the final response,
    /// [`SendError::Malformed`] for a bad status or fields, [`SendError::HeaderListTooLarge`].
    pub fn send_response(
        &mut self,
        stream: StreamId,
        status: u16,
        fields: &[Field],
        end_stream: bool,
    ) -> Result<(), SendError> {
        if self.side != Side::Server {
            return Err(SendError::WrongSide);
        }
        self.check_usable()?;
        let s = self.streams.get(&stream).ok_or(SendError::UnknownStream)?;
        if s.local_end {
            return Err(SendError::StreamEnded);
        }
        if s.local_head {
            return Err(SendError::WrongState);
        }
        if !(100..=999).contains(&status) || status == 101 {
            return Err(SendError::Malformed(Malformed::InvalidStatus));
        }
        let informational = status < 200;
        if informational && end_stream {
            return Err(SendError::Malformed(Malformed::InformationalEndStream));
        }
        let digits = status.to_string();
        let mut headers = vec![Header::new(b":status", digits.as_bytes())];
        fields::push_regular(fields, &mut headers).map_err(SendError::Malformed)?;
        self.queue_headers(stream, headers, end_stream)?;
        if let Some(s) = self.streams.get_mut(&stream)
            && !informational
        {
            s.local_head = true;
            s.local_end = end_stream;
        }
        self.close_if_done(stream);
        Ok(())
    }

    /// Sends trailers, ending the stream (either side; after the request or final response).
    ///
    /// # Errors
    /// [`SendError::UnknownStream`], [`SendError::StreamEnded`], [`SendError::WrongState`]
    /// before the headers, [`SendError::Malformed`] (pseudo-headers are not allowed),
    /// [`SendError::HeaderListTooLarge`].
    pub fn send_trailers(&mut self, stream: StreamId, fields: &[Field]) -> Result<(), SendError> {
        self.check_usable()?;
        let s = self.streams.get(&stream).ok_or(SendError::UnknownStream)?;
        if s.local_end {
            return Err(SendError::StreamEnded);
        }
        if !s.local_head {
            return Err(SendError::WrongState);
        }
        let mut headers = Vec::with_capacity(fields.len());
        fields::push_regular(fields, &mut headers).map_err(SendError::Malformed)?;
        self.queue_headers(stream, headers, true)?;
        if let Some(s) = self.streams.get_mut(&stream) {
            s.local_end = true;
        }
        self.close_if_done(stream);
        Ok(())
    }

    /// Sends as much of `data` as the stream's and the connection's send windows allow, in
    /// frames of at most the peer's SETTINGS_MAX_FRAME_SIZE, and returns how many bytes were
    /// taken. With `end_stream`, the stream ends if all of `data` was taken (empty `data`
    /// always can be). Send the rest after an [`super::Event::WindowOpen`].
    ///
    /// # Errors
    /// [`SendError::UnknownStream`], [`SendError::StreamEnded`], [`SendError::WrongState`]
    /// before the request or final response.
    pub fn send_data(
        &mut self,
        stream: StreamId,
        data: &[u8],
        end_stream: bool,
    ) -> Result<usize, SendError> {
        self.check_usable()?;
        let conn_avail = self.conn_send.available() as usize;
        let max = self.peer.max_frame_size as usize;
        let s = self
            .streams
            .get_mut(&stream)
            .ok_or(SendError::UnknownStream)?;
        if s.local_end {
            return Err(SendError::StreamEnded);
        }
        if !s.local_head {
            return Err(SendError::WrongState);
        }
        let n = data.len().min(s.send.available() as usize).min(conn_avail);
        let end = end_stream && n == data.len();
        if n == 0 && !end {
            return Ok(0);
        }
        let mut chunks = data[..n].chunks(max).peekable();
        if n == 0 {
            put_header(&mut self.out, 0, FrameType::Data, flags::END_STREAM, stream);
        }
        while let Some(chunk) = chunks.next() {
            let last = chunks.peek().is_none();
            let f = if last && end { flags::END_STREAM } else { 0 };
            put_header(&mut self.out, chunk.len(), FrameType::Data, f, stream);
            self.out.extend_from_slice(chunk);
        }
        // Within both windows by construction.
        let _ = s.send.consume(n as u32);
        let _ = self.conn_send.consume(n as u32);
        if end {
            s.local_end = true;
            self.close_if_done(stream);
        }
        Ok(n)
    }

    /// Ends the stream with an empty DATA frame carrying END_STREAM.
    ///
    /// # Errors
    /// As [`Connection::send_data`].
    pub fn end_stream(&mut self, stream: StreamId) -> Result<(), SendError> {
        self.send_data(stream, &[], true).map(|_| ())
    }

    /// Resets a stream (RST_STREAM with `code`): CANCEL to abandon a request, NO_ERROR after a
    /// complete response when the request body is not wanted (section 8.1). Streams not open
    /// are left alone.
    pub fn reset(&mut self, stream: StreamId, code: ErrorCode) {
        if self.failed.is_some() || self.streams.remove(&stream).is_none() {
            return;
        }
        RstStream::new(stream, code).encode(&mut self.out);
        self.closed.push(stream, Closed::ResetByUs);
    }

    /// Starts a graceful shutdown: GOAWAY with the highest stream the peer opened, so streams
    /// already accepted finish and new ones are refused. May be sent again (with a new code,
    /// the same last stream). `debug` is cut to what fits one frame.
    pub fn go_away(&mut self, code: ErrorCode, debug: &[u8]) {
        if self.failed.is_some() {
            return;
        }
        let last = self.goaway_sent.unwrap_or(self.last_peer_id);
        // The frame must fit the peer's SETTINGS_MAX_FRAME_SIZE: longer debug data is cut.
        let keep = debug.len().min(self.peer.max_frame_size as usize - 8);
        GoAway {
            last_stream_id: last,
            code,
            debug_data: Bytes::copy_from_slice(&debug[..keep]),
        }
        .encode(&mut self.out);
        self.goaway_sent = Some(last);
    }

    /// Sends a PING; its acknowledgement arrives as [`super::Event::PingAck`].
    pub fn ping(&mut self, payload: [u8; 8]) {
        if self.failed.is_none() {
            Ping::new(payload).encode(&mut self.out);
        }
    }
}
