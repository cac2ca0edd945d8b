#!/usr/bin/env python3
"""A real HTTP/2 origin server (cleartext, prior knowledge only) for hawser's h2 tests.

Built on the `h2` package (Python hyper-h2, sans-IO): one thread reads each connection and
feeds its bytes to the h2 state machine; each request, once its body has ended, is answered
on a thread of its own, so streams of one connection are served concurrently and a slow one
never holds up the rest. Request bodies are hashed as they arrive and their flow-control
credit is given back at once (never stored); response bodies are sent within the peer's
flow-control windows, waiting for WINDOW_UPDATEs.

Every request is answered with a JSON description of what arrived (unless its path says
otherwise): `backend` (this server's name), `method`, `path`, `authority`, `scheme`,
`headers` (the regular ones, in order, as [name, value] pairs), `trailers` (the request's
trailers, same form), `body_len`, `body_sha256`, `stream_id`, `peer_port` (the client port of
the connection, so tests can tell which upstream connection carried a request). Every
response carries `x-backend: NAME`. By path:
  /bytes/N      N bytes, byte i being i % 251, with content-length
  /status/N     status N, the JSON as body
  /trailers     the JSON, then trailers `x-trailer-one: 1` and `x-body-sha256: <its sha256>`
  /slow/MS      waits MS milliseconds, then the JSON (a reset stream stops the wait)
  /reset        200 headers and 1000 bytes of body, then RST_STREAM (INTERNAL_ERROR) after
                100 ms, never ending the stream
  /_stats       JSON {requests, resets, reset_paths, connections} (not counted itself):
                `resets` counts RST_STREAMs received from clients, `reset_paths` their paths
Anything that is not HTTP/2 with prior knowledge (an HTTP/1.1 request, say) ends its
connection. Usage: h2_backend.py PORT NAME; prints "READY <port>" once listening.
"""
import hashlib
import json
import socket
import sys
import threading
import time

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions

NAME = "backend"
STATS_LOCK = threading.Lock()
STATS = {"requests": 0, "resets": 0, "reset_paths": [], "connections": 0}
# Bounds a connection the proxy forgot, so its thread does not outlive every test.
IDLE_TIMEOUT_S = 120
# How long a response waits for flow-control credit before giving up on the stream.
SEND_TIMEOUT_S = 30
PATTERN = bytes(i % 251 for i in range(251 * 261))  # 65511 bytes, a whole number of periods


class Stream:
    def __init__(self, stream_id, headers):
        self.id = stream_id
        self.pseudo = {}
        self.headers = []
        for k, v in headers:
            k, v = k.decode("latin-1"), v.decode("latin-1")
            if k.startswith(":"):
                self.pseudo[k] = v
            else:
                self.headers.append([k, v])
        self.trailers = []
        self.sha = hashlib.sha256()
        self.body_len = 0
        self.reset = threading.Event()


class Connection:
    def __init__(self, sock, peer_port):
        self.sock = sock
        self.peer_port = peer_port
        self.conn = h2.connection.H2Connection(
            config=h2.config.H2Configuration(client_side=False, header_encoding=None)
        )
        # Guards self.conn and socket writes; `credit` is signalled on every WINDOW_UPDATE
        # and on every reset, so a waiting sender re-checks its window.
        self.lock = threading.Lock()
        self.credit = threading.Condition(self.lock)
        self.streams = {}
        self.closed = False

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def run(self):
        with self.lock:
            self.conn.initiate_connection()
            self.flush()
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    break
                with self.lock:
                    events = self.conn.receive_data(data)
                    for ev in events:
                        self.handle(ev)
                    self.flush()
        except (OSError, h2.exceptions.ProtocolError) as e:
            if not isinstance(e, (socket.timeout, ConnectionResetError, BrokenPipeError)):
                sys.stderr.write("h2_backend %s: connection ended: %r\n" % (NAME, e))
        finally:
            with self.lock:
                self.closed = True
                for s in self.streams.values():
                    s.reset.set()
                self.credit.notify_all()
            self.sock.close()

    def handle(self, ev):
        """Called with the lock held."""
        if isinstance(ev, h2.events.RequestReceived):
            self.streams[ev.stream_id] = Stream(ev.stream_id, ev.headers)
            if ev.stream_ended is not None:
                self.start(ev.stream_id)
        elif isinstance(ev, h2.events.DataReceived):
            s = self.streams.get(ev.stream_id)
            if s is not None:
                s.sha.update(ev.data)
                s.body_len += len(ev.data)
            if ev.flow_controlled_length:
                try:
                    self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                except h2.exceptions.StreamClosedError:
                    pass
            if ev.stream_ended is not None:
                self.start(ev.stream_id)
        elif isinstance(ev, h2.events.TrailersReceived):
            s = self.streams.get(ev.stream_id)
            if s is not None:
                s.trailers = [[k.decode("latin-1"), v.decode("latin-1")] for k, v in ev.headers]
            if ev.stream_ended is not None:
                self.start(ev.stream_id)
        elif isinstance(ev, h2.events.StreamEnded):
            self.start(ev.stream_id)
        elif isinstance(ev, h2.events.StreamReset):
            s = self.streams.pop(ev.stream_id, None)
            if s is not None:
                s.reset.set()
                with STATS_LOCK:
                    STATS["resets"] += 1
                    STATS["reset_paths"].append(s.pseudo.get(":path", ""))
            self.credit.notify_all()
        elif isinstance(ev, (h2.events.WindowUpdated, h2.events.RemoteSettingsChanged)):
            self.credit.notify_all()
        elif isinstance(ev, h2.events.ConnectionTerminated):
            self.closed = True
            self.credit.notify_all()

    def start(self, stream_id):
        s = self.streams.get(stream_id)
        if s is None or getattr(s, "started", False):
            return
        s.started = True
        threading.Thread(target=self.respond, args=(s,), daemon=True).start()

    # ---- responding (on the stream's own thread) ----

    def describe(self, s):
        return {
            "backend": NAME,
            "method": s.pseudo.get(":method"),
            "path": s.pseudo.get(":path"),
            "authority": s.pseudo.get(":authority"),
            "scheme": s.pseudo.get(":scheme"),
            "headers": s.headers,
            "trailers": s.trailers,
            "body_len": s.body_len,
            "body_sha256": s.sha.hexdigest(),
            "stream_id": s.id,
            "peer_port": self.peer_port,
        }

    def send_headers(self, s, status, extra=(), end=False):
        headers = [(":status", str(status)), ("x-backend", NAME)] + list(extra)
        with self.lock:
            self.conn.send_headers(s.id, headers, end_stream=end)
            self.flush()

    def send_body(self, s, chunks, end=True):
        """Sends the byte strings of `chunks` within the flow-control windows."""
        deadline = time.monotonic() + SEND_TIMEOUT_S
        with self.lock:
            for chunk in chunks:
                view = memoryview(chunk)
                while view:
                    if s.reset.is_set() or self.closed:
                        return False
                    window = min(self.conn.local_flow_control_window(s.id),
                                 self.conn.max_outbound_frame_size)
                    if window <= 0:
                        left = deadline - time.monotonic()
                        if left <= 0:
                            sys.stderr.write("h2_backend %s: stream %d starved\n" % (NAME, s.id))
                            return False
                        self.credit.wait(min(left, 1.0))
                        continue
                    n = min(window, len(view))
                    self.conn.send_data(s.id, view[:n].tobytes())
                    view = view[n:]
                    self.flush()
            if end:
                self.conn.end_stream(s.id)
                self.flush()
        return True

    def respond(self, s):
        path = s.pseudo.get(":path", "")
        try:
            if path != "/_stats":
                with STATS_LOCK:
                    STATS["requests"] += 1
            self.route(s, path)
        except (OSError, h2.exceptions.StreamClosedError, h2.exceptions.ProtocolError):
            pass
        finally:
            with self.lock:
                self.streams.pop(s.id, None)

    def send_json(self, s, status, obj, trailers=None):
        body = json.dumps(obj).encode()
        extra = [("content-type", "application/json")]
        if trailers is None:
            extra.append(("content-length", str(len(body))))
        self.send_headers(s, status, extra)
        if self.send_body(s, [body], end=trailers is None) and trailers is not None:
            with self.lock:
                self.conn.send_headers(s.id, trailers, end_stream=True)
                self.flush()

    def route(self, s, path):
        parts = path.split("?")[0].strip("/").split("/")
        head = parts[0]
        arg = parts[1] if len(parts) > 1 else ""
        if head == "_stats":
            with STATS_LOCK:
                body = dict(STATS)
            self.send_json(s, 200, body)
        elif head == "bytes" and arg.isdigit():
            n = int(arg)
            self.send_headers(s, 200, [("content-type", "application/octet-stream"),
                                       ("content-length", str(n))])
            self.send_body(s, pattern_chunks(n))
        elif head == "status" and arg.isdigit():
            self.send_json(s, int(arg), self.describe(s))
        elif head == "trailers":
            obj = self.describe(s)
            sha = hashlib.sha256(json.dumps(obj).encode()).hexdigest()
            self.send_json(s, 200, obj, [("x-trailer-one", "1"), ("x-body-sha256", sha)])
        elif head == "slow" and arg.isdigit():
            if not s.reset.wait(min(int(arg), 60000) / 1000.0):
                self.send_json(s, 200, self.describe(s))
        elif head == "early-hints":
            # A 103 Early Hints before the final response (RFC 8297).
            self.send_headers(s, 103, [("link", "</style.css>; rel=preload")])
            self.send_json(s, 200, self.describe(s))
        elif head == "reset":
            self.send_headers(s, 200, [("content-type", "application/octet-stream")])
            self.send_body(s, [PATTERN[:1000]], end=False)
            time.sleep(0.1)
            with self.lock:
                self.conn.reset_stream(s.id, h2.errors.ErrorCodes.INTERNAL_ERROR)
                self.flush()
        else:
            self.send_json(s, 200, self.describe(s))


def pattern_chunks(n):
    while n > 0:
        chunk = PATTERN if n >= len(PATTERN) else PATTERN[:n]
        n -= len(chunk)
        yield chunk


def serve(sock, addr):
    with STATS_LOCK:
        STATS["connections"] += 1
    sock.settimeout(IDLE_TIMEOUT_S)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    Connection(sock, addr[1]).run()


def main():
    global NAME
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    NAME = sys.argv[2] if len(sys.argv) > 2 else "backend"
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", port))
    lsock.listen(1024)
    print("READY", lsock.getsockname()[1], flush=True)
    while True:
        sock, addr = lsock.accept()
        threading.Thread(target=serve, args=(sock, addr), daemon=True).start()


if __name__ == "__main__":
    main()
