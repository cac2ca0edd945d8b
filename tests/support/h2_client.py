#!/usr/bin/env python3
"""A real HTTP/2 client (cleartext, prior knowledge) for hawser's h2 tests: ONE connection
carrying a list of requests as concurrent streams, on the `h2` package (Python hyper-h2).

Usage: h2_client.py PORT PLAN_FILE. The plan is JSON:
  {"requests": [REQUEST...], "timeout_ms": 20000, "window": 65535}
where each REQUEST is
  {"method": "GET", "path": "/", "authority": "web",
   "headers": [[name, value]...],   regular headers to send
   "body_size": N,                  a body of N pseudo-random bytes (seeded by N), sent
                                    within the server's flow-control windows
   "trailers": [[name, value]...],  request trailers (after the body)
   "cancel_after_ms": MS,           send RST_STREAM (CANCEL) MS after the stream opened
   "after": I}                      open this stream only once request I has finished
Streams open once the server's SETTINGS arrived, as soon as allowed (`after`, and the
server's SETTINGS_MAX_CONCURRENT_STREAMS; the rest wait their turn). `window` is this client's initial stream window (SETTINGS) and
connection window, so a small one makes the server wait for WINDOW_UPDATEs.
The whole plan is bounded by `timeout_ms`. Prints one JSON object:
  {"responses": [RESPONSE...], "max_concurrent_streams": the server's setting (null if
   unset), "goaway": error code name or null, "error": text or null, "timed_out": bool}
with, per request in plan order,
  {"status", "headers": [[name, value]...], "trailers": [...], "body_len", "body_sha256",
   "pattern_ok": whether byte i of the body is i % 251 (h2_backend.py's /bytes/N),
   "json": the body parsed as JSON when it is JSON and under 1 MiB (else null),
   "body_text": the body as text when under 4 KiB, "ended": the stream ended cleanly
   (END_STREAM), "reset": the RST_STREAM error code name received (null if none),
   "cancelled": this client reset the stream (`cancel_after_ms`),
   "stream_id", "request_body_sha256": sha256 of the body sent (null without a body)}
"""
import hashlib
import json
import random
import select
import socket
import sys
import time

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings


def code_name(code):
    try:
        return h2.errors.ErrorCodes(code).name
    except ValueError:
        return str(code)


class Request:
    def __init__(self, index, spec):
        self.index = index
        self.spec = spec
        size = spec.get("body_size")
        self.body = random.Random(size).randbytes(size) if size is not None else None
        self.sent = 0
        self.stream_id = None
        self.opened_at = None
        self.cancelled = False
        self.done = False
        self.status = None
        self.headers = []
        self.trailers = []
        self.chunks = []
        self.ended = False
        self.reset = None

    def result(self):
        body = b"".join(self.chunks)
        parsed = None
        if len(body) < (1 << 20):
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
        pattern = bytes(i % 251 for i in range(251)) * (len(body) // 251 + 1)
        return {
            "status": self.status,
            "headers": self.headers,
            "trailers": self.trailers,
            "body_len": len(body),
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "pattern_ok": body == pattern[: len(body)],
            "json": parsed,
            "body_text": body.decode("utf-8", "replace") if len(body) < 4096 else None,
            "ended": self.ended,
            "reset": self.reset,
            "cancelled": self.cancelled,
            "stream_id": self.stream_id,
            "request_body_sha256": hashlib.sha256(self.body).hexdigest()
            if self.body is not None else None,
        }


def pairs(headers):
    return [[k.decode("latin-1"), v.decode("latin-1")] for k, v in headers]


class Client:
    def __init__(self, port, plan):
        self.requests = [Request(i, r) for i, r in enumerate(plan["requests"])]
        self.deadline = time.monotonic() + plan.get("timeout_ms", 20000) / 1000.0
        self.window = plan.get("window", 65535)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.conn = h2.connection.H2Connection(
            config=h2.config.H2Configuration(client_side=True, header_encoding=None)
        )
        self.by_stream = {}
        self.goaway = None
        self.error = None
        self.closed = False
        # Streams open only once the server's SETTINGS arrived, so its
        # SETTINGS_MAX_CONCURRENT_STREAMS is known before the first one.
        self.settled = False

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def can_open(self, r):
        if not self.settled or r.stream_id is not None or r.done:
            return False
        after = r.spec.get("after")
        if after is not None and not self.requests[after].done:
            return False
        limit = self.conn.remote_settings.max_concurrent_streams
        return self.conn.open_outbound_streams < limit

    def open(self, r):
        s = r.spec
        authority = s.get("authority", "127.0.0.1")
        headers = [
            (":method", s.get("method", "GET")),
            (":scheme", "http"),
            (":authority", authority),
            (":path", s.get("path", "/")),
        ] + [tuple(kv) for kv in s.get("headers", [])]
        r.stream_id = self.conn.get_next_available_stream_id()
        self.by_stream[r.stream_id] = r
        no_body = r.body is None and not s.get("trailers")
        self.conn.send_headers(r.stream_id, headers, end_stream=no_body)
        r.opened_at = time.monotonic()
        if no_body:
            r.sent = None

    def pump_body(self, r):
        """Sends what the windows allow of `r`'s body, then its trailers / END_STREAM."""
        if r.stream_id is None or r.sent is None or r.done:
            return
        body = r.body or b""
        while r.sent < len(body):
            window = min(self.conn.local_flow_control_window(r.stream_id),
                         self.conn.max_outbound_frame_size)
            if window <= 0:
                return
            n = min(window, len(body) - r.sent)
            self.conn.send_data(r.stream_id, body[r.sent:r.sent + n])
            r.sent += n
        trailers = r.spec.get("trailers")
        if trailers:
            self.conn.send_headers(r.stream_id, [tuple(kv) for kv in trailers], end_stream=True)
        else:
            self.conn.end_stream(r.stream_id)
        r.sent = None

    def handle(self, ev):
        r = self.by_stream.get(getattr(ev, "stream_id", None))
        if isinstance(ev, h2.events.ResponseReceived) and r:
            r.headers = []
            for k, v in pairs(ev.headers):
                if k == ":status":
                    r.status = int(v)
                else:
                    r.headers.append([k, v])
        elif isinstance(ev, h2.events.RemoteSettingsChanged):
            self.settled = True
        elif isinstance(ev, h2.events.TrailersReceived) and r:
            r.trailers = pairs(ev.headers)
        elif isinstance(ev, h2.events.DataReceived):
            if r:
                r.chunks.append(ev.data)
            if ev.flow_controlled_length:
                try:
                    self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                except h2.exceptions.StreamClosedError:
                    pass
        elif isinstance(ev, h2.events.StreamEnded) and r:
            r.ended = True
            r.done = True
        elif isinstance(ev, h2.events.StreamReset) and r:
            r.reset = code_name(ev.error_code)
            r.done = True
        elif isinstance(ev, h2.events.ConnectionTerminated):
            self.goaway = code_name(ev.error_code)
            last = ev.last_stream_id if ev.last_stream_id is not None else 0
            for q in self.requests:
                if q.stream_id is not None and q.stream_id > last and not q.done:
                    q.done = True

    def step(self):
        now = time.monotonic()
        for r in self.requests:
            if self.goaway is None and self.can_open(r):
                self.open(r)
            self.pump_body(r)
            ms = r.spec.get("cancel_after_ms")
            if (ms is not None and r.stream_id is not None and not r.done
                    and not r.cancelled and now - r.opened_at >= ms / 1000.0):
                self.conn.reset_stream(r.stream_id, h2.errors.ErrorCodes.CANCEL)
                r.cancelled = True
                r.done = True
        self.flush()

    def next_wakeup(self):
        t = self.deadline
        for r in self.requests:
            ms = r.spec.get("cancel_after_ms")
            if ms is not None and r.opened_at is not None and not r.done:
                t = min(t, r.opened_at + ms / 1000.0)
        return max(0.0, min(t - time.monotonic(), 0.5))

    def run(self):
        self.conn.initiate_connection()
        if self.window != 65535:
            self.conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: self.window})
        if self.window > 65535:
            self.conn.increment_flow_control_window(self.window - 65535)
        self.flush()
        while not all(r.done for r in self.requests):
            if time.monotonic() >= self.deadline:
                return True
            if self.closed:
                self.error = "the server closed the connection"
                for r in self.requests:
                    r.done = True
                break
            self.step()
            readable, _, _ = select.select([self.sock], [], [], self.next_wakeup())
            if readable:
                data = self.sock.recv(1 << 20)
                if not data:
                    self.closed = True
                    continue
                for ev in self.conn.receive_data(data):
                    self.handle(ev)
                self.flush()
            if self.goaway is not None:
                # Streams the server will still answer go on; unopened ones never open.
                for r in self.requests:
                    if r.stream_id is None:
                        r.done = True
        return False


def main():
    port = int(sys.argv[1])
    with open(sys.argv[2]) as f:
        plan = json.load(f)
    out = {"responses": [], "max_concurrent_streams": None, "goaway": None, "error": None,
           "timed_out": False}
    c = None
    try:
        c = Client(port, plan)
        out["timed_out"] = c.run()
        out["error"] = c.error
    except (OSError, h2.exceptions.ProtocolError) as e:
        out["error"] = repr(e)
    if c is not None:
        out["responses"] = [r.result() for r in c.requests]
        settings = c.conn.remote_settings
        if h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS in settings:
            out["max_concurrent_streams"] = settings[h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS]
        out["goaway"] = c.goaway
    print(json.dumps(out))


if __name__ == "__main__":
    main()
