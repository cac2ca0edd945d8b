#!/usr/bin/env python3
"""A real gRPC server (grpcio, insecure: cleartext HTTP/2) for hawser's h2 tests.

There is no protoc here: every method is a generic handler on raw bytes (no serializers).
The same methods are served under two services, `pkg.Echo` and `pkg.Other`, so a test can
route the two to different servers and tell from the reply who answered. Each reply starts
with "NAME:" (this server's name). Methods (under either service):
  Echo     unary: "NAME:" + the request
  Meta     unary: "NAME:" + JSON of the invocation metadata as [key, value] pairs
  Fail     unary: aborts with NOT_FOUND, details "nope from NAME"
  Slow     unary: the request is a number of milliseconds to wait before answering
           "NAME:done"; stops waiting as soon as the call is cancelled, counting it
  Count    server streaming: the request is "N:SIZE"; N replies, reply i being
           "NAME:i:" + SIZE bytes of "x"
  Sum      client streaming: "NAME:" + JSON {count, bytes, sha256} of the requests
           (sha256 of their concatenation)
  Chat     bidi streaming: "NAME:" + each request, as it arrives
  Stats    unary: "NAME:" + JSON {calls, cancelled} (Stats itself not counted in `calls`)
Messages up to 64 MiB are accepted both ways. Usage: grpc_peer.py PORT NAME; prints
"READY <port>" once listening.
"""
import hashlib
import json
import sys
import threading
import time
from concurrent import futures

import grpc

NAME = "peer"
LOCK = threading.Lock()
STATS = {"calls": 0, "cancelled": 0}
MAX_MESSAGE = 64 << 20


def tagged(value):
    return NAME.encode() + b":" + value


def counted(fn):
    def wrapper(request, context):
        with LOCK:
            STATS["calls"] += 1
        return fn(request, context)
    return wrapper


@counted
def echo(request, context):
    return tagged(request)


@counted
def meta(request, context):
    pairs = [[k, v if isinstance(v, str) else v.decode("latin-1")]
             for k, v in context.invocation_metadata()]
    return tagged(json.dumps(pairs).encode())


@counted
def fail(request, context):
    context.abort(grpc.StatusCode.NOT_FOUND, "nope from %s" % NAME)


@counted
def slow(request, context):
    try:
        ms = int(request.decode() or "0")
    except ValueError:
        ms = 0
    deadline = time.monotonic() + min(ms, 60000) / 1000.0
    while time.monotonic() < deadline:
        if not context.is_active():
            with LOCK:
                STATS["cancelled"] += 1
            return b""
        time.sleep(0.01)
    return tagged(b"done")


@counted
def count(request, context):
    n, _, size = request.decode().partition(":")
    for i in range(int(n)):
        yield tagged(b"%d:" % i + b"x" * int(size or "0"))


def sum_(requests, context):
    with LOCK:
        STATS["calls"] += 1
    h, n, total = hashlib.sha256(), 0, 0
    for r in requests:
        h.update(r)
        n += 1
        total += len(r)
    return tagged(json.dumps({"count": n, "bytes": total, "sha256": h.hexdigest()}).encode())


def chat(requests, context):
    with LOCK:
        STATS["calls"] += 1
    for r in requests:
        yield tagged(r)


def stats(request, context):
    with LOCK:
        return tagged(json.dumps(STATS).encode())


def handlers():
    u = grpc.unary_unary_rpc_method_handler
    return {
        "Echo": u(echo),
        "Meta": u(meta),
        "Fail": u(fail),
        "Slow": u(slow),
        "Stats": u(stats),
        "Count": grpc.unary_stream_rpc_method_handler(count),
        "Sum": grpc.stream_unary_rpc_method_handler(sum_),
        "Chat": grpc.stream_stream_rpc_method_handler(chat),
    }


def main():
    global NAME
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    NAME = sys.argv[2] if len(sys.argv) > 2 else "peer"
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=32),
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE),
            ("grpc.max_send_message_length", MAX_MESSAGE),
            ("grpc.so_reuseport", 0),
        ],
    )
    server.add_generic_rpc_handlers((
        grpc.method_handlers_generic_handler("pkg.Echo", handlers()),
        grpc.method_handlers_generic_handler("pkg.Other", handlers()),
    ))
    bound = server.add_insecure_port("127.0.0.1:%d" % port)
    if bound == 0:
        sys.stderr.write("grpc_peer %s: cannot bind port %d\n" % (NAME, port))
        sys.exit(1)
    server.start()
    print("READY", bound, flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    main()
