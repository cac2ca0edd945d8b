#!/usr/bin/env python3
"""A real Thrift server (framed transport, binary protocol) for hawser's thrift tests.

Written by hand with Apache Thrift's Python library (there is no IDL compiler here). It speaks
this service, one call at a time per connection, each connection on its own thread:

    service Peer {
      binary echo(1: binary payload, 2: i32 delay_ms)   // "NAME:" + payload, after delay_ms
      binary ping(1: binary payload, 2: i32 delay_ms)   // the same (a second method to route)
      binary peer()          // "NAME:" + the client port of this connection
      binary badseq(1: binary payload)  // like echo, but the reply's seqid is the call's + 1
      binary hangup()        // closes the connection without replying
      binary stats()         // "NAME:" + JSON {calls, oneway, misdirected, connections}
    }

Any ONEWAY message, whatever its method, is recorded (its payload appended to `oneway`) and
gets no reply. A CALL of any other method gets the library's TApplicationException
UNKNOWN_METHOD (1), as a generated processor would send. A message of type REPLY or EXCEPTION
(which a proxy should never forward) is counted in `misdirected` and the connection closed.
`stats` itself is not counted in `calls`; `connections` counts every connection accepted,
the one `stats` came on included. Usage: thrift_peer.py PORT NAME [IP]; prints
"READY <port>" once listening.
"""
import json
import socket
import socketserver
import sys
import threading
import time

from thrift.protocol.TBinaryProtocol import TBinaryProtocol
from thrift.Thrift import TApplicationException, TMessageType, TType
from thrift.transport.TSocket import TSocket
from thrift.transport.TTransport import TFramedTransport, TTransportException

NAME = "peer"
LOCK = threading.Lock()
STATS = {"calls": 0, "oneway": [], "misdirected": 0, "connections": 0}
# A pooled upstream connection may sit idle between tests' calls; this only bounds a
# connection the proxy forgot, so the thread does not outlive every test.
IDLE_TIMEOUT_MS = 120000


def read_args(proto):
    """Reads an argument struct: field 1 binary payload, field 2 i32 delay_ms; skips others."""
    payload, delay_ms = b"", 0
    proto.readStructBegin()
    while True:
        _, ftype, fid = proto.readFieldBegin()
        if ftype == TType.STOP:
            break
        if fid == 1 and ftype == TType.STRING:
            payload = proto.readBinary()
        elif fid == 2 and ftype == TType.I32:
            delay_ms = proto.readI32()
        else:
            proto.skip(ftype)
        proto.readFieldEnd()
    proto.readStructEnd()
    proto.readMessageEnd()
    return payload, delay_ms


def write_reply(proto, name, seqid, value):
    proto.writeMessageBegin(name, TMessageType.REPLY, seqid)
    proto.writeStructBegin("result")
    proto.writeFieldBegin("success", TType.STRING, 0)
    proto.writeBinary(value)
    proto.writeFieldEnd()
    proto.writeFieldStop()
    proto.writeStructEnd()
    proto.writeMessageEnd()
    proto.trans.flush()


def write_exception(proto, name, seqid, kind, message):
    proto.writeMessageBegin(name, TMessageType.EXCEPTION, seqid)
    TApplicationException(kind, message).write(proto)
    proto.writeMessageEnd()
    proto.trans.flush()


def tagged(value):
    return NAME.encode() + b":" + value


def serve_one(proto, port):
    """Handles one message; returns False when the connection must close."""
    name, mtype, seqid = proto.readMessageBegin()
    payload, delay_ms = read_args(proto)
    if mtype == TMessageType.ONEWAY:
        with LOCK:
            STATS["oneway"].append(payload.decode("utf-8", "replace"))
        return True
    if mtype != TMessageType.CALL:
        with LOCK:
            STATS["misdirected"] += 1
        return False
    if name != "stats":
        with LOCK:
            STATS["calls"] += 1
    if name in ("echo", "ping"):
        if delay_ms > 0:
            time.sleep(min(delay_ms, 10000) / 1000.0)
        write_reply(proto, name, seqid, tagged(payload))
    elif name == "peer":
        write_reply(proto, name, seqid, tagged(str(port).encode()))
    elif name == "badseq":
        write_reply(proto, name, (seqid + 1 + 2**31) % 2**32 - 2**31, tagged(payload))
    elif name == "hangup":
        return False
    elif name == "stats":
        with LOCK:
            body = json.dumps(STATS).encode()
        write_reply(proto, name, seqid, tagged(body))
    else:
        write_exception(proto, name, seqid, TApplicationException.UNKNOWN_METHOD,
                        "%s has no method %s" % (NAME, name))
    return True


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        with LOCK:
            STATS["connections"] += 1
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock = TSocket()
        sock.setHandle(self.request)
        sock.setTimeout(IDLE_TIMEOUT_MS)
        proto = TBinaryProtocol(TFramedTransport(sock), strictRead=False)
        try:
            while serve_one(proto, self.client_address[1]):
                pass
        except (TTransportException, OSError, EOFError, UnicodeDecodeError):
            pass
        except Exception as e:  # a malformed message: drop the connection, keep serving
            sys.stderr.write("thrift_peer %s: %r\n" % (NAME, e))


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024


def main():
    global NAME
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    NAME = sys.argv[2] if len(sys.argv) > 2 else "peer"
    ip = sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1"
    srv = Server((ip, port), Handler)
    print("READY", srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
