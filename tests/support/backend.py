#!/usr/bin/env python3
"""A real HTTP/1.1 origin server for hawser's integration tests.

Answers every request with a JSON description of what it received (method,
target, version, headers in order, body length and SHA-256), plus these
behaviours chosen by path:
  /status/NNN          answer with status NNN
  /bytes/N             stream N bytes (Content-Length), generated, not stored
  /chunked/N           stream N bytes with Transfer-Encoding: chunked (+ a trailer)
  /close/N             N bytes, close-delimited (no length, HTTP/1.1 Connection: close)
  /closehdr            JSON with `Connection: close`, but the socket stays open 3 s
  /upgrade             101 Switching Protocols to `echo`, then echo bytes back
  /slow/MS             wait MS milliseconds before answering
  /early417            answer 417 without reading the body (for Expect tests)
  /_count              how many other requests this backend has seen (not counted)
With the environment variable BACKEND_STATUS=NNN every other request is answered with NNN;
with BACKEND_DELAY_MS=MS every other request waits MS milliseconds before its answer.
The JSON includes `peer_port`, the client port of the connection, so tests
can tell whether the proxy reused an upstream connection.
Request bodies may be Content-Length or chunked; they are hashed as they
stream, never stored. Prints "READY <port>" once listening.
"""
import hashlib
import json
import os
import socket
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler

NAME = "backend"
ALWAYS = int(os.environ.get("BACKEND_STATUS", "0") or 0)
DELAY = int(os.environ.get("BACKEND_DELAY_MS", "0") or 0) / 1000.0
COUNT = 0
COUNT_LOCK = threading.Lock()
BLOCK = b"x" * 65536


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def read_body(self):
        h = hashlib.sha256()
        n = 0
        te = self.headers.get("Transfer-Encoding", "")
        if "chunked" in te.lower():
            while True:
                line = self.rfile.readline(1024)
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                left = size
                while left:
                    data = self.rfile.read(min(left, 65536))
                    if not data:
                        raise ConnectionError("eof in chunk")
                    h.update(data)
                    n += len(data)
                    left -= len(data)
                self.rfile.read(2)
        else:
            left = int(self.headers.get("Content-Length", "0") or 0)
            while left:
                data = self.rfile.read(min(left, 65536))
                if not data:
                    raise ConnectionError("eof in body")
                h.update(data)
                n += len(data)
                left -= len(data)
        return n, h.hexdigest()

    def describe(self, n, digest):
        return json.dumps({
            "backend": NAME,
            "method": self.command,
            "target": self.path,
            "version": self.request_version,
            "headers": [[k, v] for k, v in self.headers.items()],
            "body_len": n,
            "body_sha256": digest,
            "peer_port": self.client_address[1],
        }).encode()

    def send_json(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-backend", NAME)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def stream(self, total):
        left = total
        while left:
            k = min(left, len(BLOCK))
            self.wfile.write(BLOCK[:k])
            left -= k

    def handle_any(self):
        global COUNT
        if self.path == "/_count":
            body = str(COUNT).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        with COUNT_LOCK:
            COUNT += 1
        parts = self.path.split("?")[0].strip("/").split("/")
        kind = parts[0] if parts else ""
        arg = parts[1] if len(parts) > 1 else ""
        if kind == "early417":
            self.send_response(417)
            self.send_header("Content-Length", "0")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            return
        n, digest = self.read_body()
        if DELAY:
            time.sleep(DELAY)
        if ALWAYS:
            self.send_json(ALWAYS, self.describe(n, digest))
        elif kind == "status":
            self.send_json(int(arg), self.describe(n, digest))
        elif kind == "closehdr":
            # Says `Connection: close` but keeps the socket open for 3 s: a
            # proxy that reused it anyway would hang.
            body = self.describe(n, digest)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            time.sleep(3)
            self.close_connection = True
        elif kind == "slow":
            time.sleep(int(arg) / 1000.0)
            self.send_json(200, self.describe(n, digest))
        elif kind == "bytes":
            self.send_response(200)
            self.send_header("Content-Length", arg)
            self.send_header("x-backend", NAME)
            self.end_headers()
            self.stream(int(arg))
        elif kind == "chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Trailer", "x-checksum")
            self.send_header("x-backend", NAME)
            self.end_headers()
            left = int(arg)
            while left:
                k = min(left, len(BLOCK))
                self.wfile.write(b"%x\r\n" % k + BLOCK[:k] + b"\r\n")
                left -= k
            self.wfile.write(b"0\r\nx-checksum: done\r\n\r\n")
        elif kind == "close":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.send_header("x-backend", NAME)
            self.end_headers()
            self.stream(int(arg))
            self.close_connection = True
        elif kind == "upgrade":
            self.send_response(101)
            self.send_header("Connection", "Upgrade")
            self.send_header("Upgrade", "echo")
            self.end_headers()
            self.wfile.flush()
            sock = self.connection
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                sock.sendall(data)
            self.close_connection = True
        else:
            self.send_json(200, self.describe(n, digest))

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_PATCH = handle_any


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default accept queue is 5: a proxy opening several
    # upstream connections at once on a busy machine would see SYNs dropped
    # and its connects time out.
    request_queue_size = 1024


def main():
    global NAME
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    NAME = sys.argv[2] if len(sys.argv) > 2 else "backend"
    ip = sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1"
    srv = Server((ip, port), Handler)
    print("READY", srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
