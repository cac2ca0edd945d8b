#!/usr/bin/env python3
"""A real Thrift client (Apache Thrift's Python library: framed transport, binary protocol)
holding ONE connection, driven line by line: each JSON step read on stdin is answered by one
JSON line on stdout. Usage: thrift_client.py PORT [TIMEOUT_MS]; prints {"kind": "connected"}
(or {"kind": "error", ...}) first. Every socket operation is bounded by TIMEOUT_MS (10 s).

Steps:
  {"op": "send", "method": "echo", "seqid": 7, ...}   one message, then its reply unless it
      is oneway. Optional: "type" (call | oneway | reply | exception; default call),
      "payload" (text, sent as binary field 1), "size" (instead: that many pseudo-random
      bytes), "delay_ms" (i32 field 2), "old" (true: the old non-strict binary header).
  {"op": "pipeline", "messages": [send steps...]}     all frames written in one socket write
      before any reply is read; then one reply is read per non-oneway message, in order.

Answers: {"kind": "reply", "name", "seqid", "from", "body", "len", "intact"} where the reply's
binary field 0 is split at its first ':' into `from` (the backend's name) and the rest (`body`,
text, only when at most 4096 bytes; `len`, its length; `intact`, whether it equals the payload
sent); {"kind": "exception", "name", "seqid", "type", "message"} for an EXCEPTION message
(a TApplicationException); {"kind": "sent"} for a oneway; {"kind": "pipeline", "replies": [...]};
{"kind": "error", "eof": bool, "message"} when the transport fails (closed, timed out).
"""
import json
import random
import sys

from thrift.protocol.TBinaryProtocol import TBinaryProtocol
from thrift.Thrift import TApplicationException, TMessageType, TType
from thrift.transport.TSocket import TSocket
from thrift.transport.TTransport import TFramedTransport, TMemoryBuffer, TTransportException

TYPES = {
    "call": TMessageType.CALL,
    "reply": TMessageType.REPLY,
    "exception": TMessageType.EXCEPTION,
    "oneway": TMessageType.ONEWAY,
}


def payload_of(step):
    if "size" in step:
        return random.Random(step["size"]).randbytes(step["size"])
    if "payload" in step:
        return step["payload"].encode()
    return None


def encode(step):
    """One framed message, as bytes."""
    mem = TMemoryBuffer()
    framed = TFramedTransport(mem)
    proto = TBinaryProtocol(framed, strictWrite=not step.get("old", False))
    proto.writeMessageBegin(step["method"], TYPES[step.get("type", "call")], step.get("seqid", 0))
    proto.writeStructBegin("args")
    payload = payload_of(step)
    if payload is not None:
        proto.writeFieldBegin("payload", TType.STRING, 1)
        proto.writeBinary(payload)
        proto.writeFieldEnd()
    if "delay_ms" in step:
        proto.writeFieldBegin("delay_ms", TType.I32, 2)
        proto.writeI32(step["delay_ms"])
        proto.writeFieldEnd()
    proto.writeFieldStop()
    proto.writeStructEnd()
    proto.writeMessageEnd()
    framed.flush()
    return mem.getvalue()


def expects_reply(step):
    return step.get("type", "call") != "oneway"


def read_reply(proto, sent):
    name, mtype, seqid = proto.readMessageBegin()
    if mtype == TMessageType.EXCEPTION:
        x = TApplicationException()
        x.read(proto)
        proto.readMessageEnd()
        return {"kind": "exception", "name": name, "seqid": seqid, "type": x.type,
                "message": x.message}
    if mtype != TMessageType.REPLY:
        return {"kind": "unexpected", "name": name, "seqid": seqid, "type": mtype}
    value = None
    proto.readStructBegin()
    while True:
        _, ftype, fid = proto.readFieldBegin()
        if ftype == TType.STOP:
            break
        if fid == 0 and ftype == TType.STRING:
            value = proto.readBinary()
        else:
            proto.skip(ftype)
        proto.readFieldEnd()
    proto.readStructEnd()
    proto.readMessageEnd()
    out = {"kind": "reply", "name": name, "seqid": seqid}
    if value is None:
        out["from"] = None
        return out
    who, _, body = value.partition(b":")
    out["from"] = who.decode("utf-8", "replace")
    out["len"] = len(body)
    if len(body) <= 4096:
        out["body"] = body.decode("utf-8", "replace")
    payload = payload_of(sent)
    if payload is not None:
        out["intact"] = body == payload
    return out


def run(sock, reader, step):
    op = step.get("op")
    if op == "send":
        sock.write(encode(step))
        sock.flush()
        return read_reply(reader, step) if expects_reply(step) else {"kind": "sent"}
    if op == "pipeline":
        messages = step["messages"]
        sock.write(b"".join(encode(m) for m in messages))
        sock.flush()
        replies = [read_reply(reader, m) for m in messages if expects_reply(m)]
        return {"kind": "pipeline", "replies": replies}
    return {"kind": "error", "eof": False, "message": "unknown op %r" % op}


def say(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    port = int(sys.argv[1])
    timeout_ms = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    sock = TSocket("127.0.0.1", port)
    sock.setTimeout(timeout_ms)
    try:
        sock.open()
    except TTransportException as e:
        say({"kind": "error", "eof": False, "message": "connect: %s" % e})
        return
    say({"kind": "connected"})
    reader = TBinaryProtocol(TFramedTransport(sock), strictRead=False)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            say(run(sock, reader, json.loads(line)))
        except TTransportException as e:
            say({"kind": "error", "eof": e.type == TTransportException.END_OF_FILE,
                 "message": str(e)})
        except (OSError, EOFError) as e:
            say({"kind": "error", "eof": False, "message": repr(e)})
    sock.close()


if __name__ == "__main__":
    main()
