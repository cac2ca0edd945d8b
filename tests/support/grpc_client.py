#!/usr/bin/env python3
"""A real gRPC client (grpcio, an insecure channel: cleartext HTTP/2 with prior knowledge)
holding ONE channel, driven line by line: each JSON step read on stdin is answered by one JSON
line on stdout. Usage: grpc_client.py PORT; prints {"kind": "ready"} first. Methods are called
on raw bytes (no serializers); messages up to 64 MiB are accepted.

Every step names a "method" ("/pkg.Echo/Echo") and may set "timeout_ms" (the call's
deadline; default 20000, so no call can hang) and "metadata" ([[key, value]...]).
  {"op": "unary", "payload": TEXT | "size": N}          one request, one reply
  {"op": "server_stream", "payload": TEXT}              one request, the replies
  {"op": "client_stream", "messages": [TEXT...]}        the requests, one reply
  {"op": "bidi", "messages": [TEXT...]}                 each request, then the next one
                                                        only after its reply arrived
  {"op": "cancel", "payload": TEXT, "after_ms": MS}     a unary call cancelled by the client
                                                        MS after it started
A payload of "size": N is N pseudo-random bytes (seeded by N).
Answers: {"ok": true, "replies": [...], "initial_metadata", "trailing_metadata", "code": "OK"}
where each reply is {"from", "body" (text, when under 4 KiB), "len", "intact" (a unary or
bidi reply: whether the body after "NAME:" is the request)}, or {"ok": false, "code": status
name, "details", "initial_metadata", "trailing_metadata"} for an RpcError. Metadata are
[key, value] pairs. {"kind": "error", "message"} when the step itself is malformed.
"""
import json
import random
import sys
import threading
import time

import grpc

MAX_MESSAGE = 64 << 20


def pairs(md):
    if md is None:
        return []
    return [[k, v if isinstance(v, str) else v.decode("latin-1")] for k, v in md]


def payload_of(step):
    if "size" in step:
        return random.Random(step["size"]).randbytes(step["size"])
    return step.get("payload", "").encode()


def reply(value, sent=None):
    who, _, body = value.partition(b":")
    out = {"from": who.decode("utf-8", "replace"), "len": len(body)}
    if len(body) < 4096:
        out["body"] = body.decode("utf-8", "replace")
    if sent is not None:
        out["intact"] = body == sent
    return out


def failed(e):
    return {
        "ok": False,
        "code": e.code().name if e.code() is not None else None,
        "details": e.details(),
        "initial_metadata": pairs(e.initial_metadata()),
        "trailing_metadata": pairs(e.trailing_metadata()),
    }


def succeeded(replies, call):
    return {
        "ok": True,
        "code": "OK",
        "replies": replies,
        "initial_metadata": pairs(call.initial_metadata()),
        "trailing_metadata": pairs(call.trailing_metadata()),
    }


def run(channel, step):
    op = step.get("op")
    method = step["method"]
    timeout = step.get("timeout_ms", 20000) / 1000.0
    metadata = [tuple(kv) for kv in step.get("metadata", [])]
    kw = {"timeout": timeout, "metadata": metadata or None}
    try:
        if op == "unary":
            sent = payload_of(step)
            value, call = channel.unary_unary(method).with_call(sent, **kw)
            return succeeded([reply(value, sent)], call)
        if op == "server_stream":
            call = channel.unary_stream(method)(payload_of(step), **kw)
            replies = [reply(v) for v in call]
            return succeeded(replies, call)
        if op == "client_stream":
            msgs = [m.encode() for m in step["messages"]]
            value, call = channel.stream_unary(method).with_call(iter(msgs), **kw)
            return succeeded([reply(value)], call)
        if op == "bidi":
            return bidi(channel, method, [m.encode() for m in step["messages"]], kw)
        if op == "cancel":
            future = channel.unary_unary(method).future(payload_of(step), **kw)
            time.sleep(step.get("after_ms", 100) / 1000.0)
            future.cancel()
            try:
                future.result(timeout=10)
            except grpc.FutureCancelledError:
                return {"ok": False, "code": "CANCELLED", "details": "cancelled by the client",
                        "initial_metadata": [], "trailing_metadata": []}
            except grpc.RpcError as e:
                return failed(e)
            return {"ok": True, "code": "OK", "replies": [], "initial_metadata": [],
                    "trailing_metadata": [], "note": "finished before the cancel"}
    except grpc.RpcError as e:
        return failed(e)
    return {"kind": "error", "message": "unknown op %r" % op}


def bidi(channel, method, msgs, kw):
    """Lock-step: the next request goes only after the previous one's reply arrived, so the
    exchange proves both directions stream (a proxy buffering a whole side would stall)."""
    turn = threading.Semaphore(0)
    done = threading.Event()

    def requests():
        for i, m in enumerate(msgs):
            if i > 0 and not (turn.acquire(timeout=10) and not done.is_set()):
                return
            yield m

    call = channel.stream_stream(method)(requests(), **kw)
    replies = []
    try:
        for v, m in zip(call, msgs):
            replies.append(reply(v, m))
            turn.release()
            if len(replies) == len(msgs):
                break
        # Drains the end of the call (its status), now that every request was sent.
        for v in call:
            replies.append(reply(v))
    finally:
        done.set()
        turn.release()
    return succeeded(replies, call)


def say(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    port = int(sys.argv[1])
    channel = grpc.insecure_channel(
        "127.0.0.1:%d" % port,
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE),
            ("grpc.max_send_message_length", MAX_MESSAGE),
            ("grpc.enable_retries", 0),
        ],
    )
    say({"kind": "ready"})
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            say(run(channel, json.loads(line)))
        except (KeyError, ValueError, TypeError) as e:
            say({"kind": "error", "message": repr(e)})
    channel.close()


if __name__ == "__main__":
    main()
