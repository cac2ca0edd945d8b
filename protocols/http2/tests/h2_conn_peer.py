#!/usr/bin/env python3
"""Interactive HTTP/2 peer for hawser-http2's connection tests, on the Python h2 package.

`h2_conn_peer.py client` or `h2_conn_peer.py server`. Each stdin line is hex of bytes from
hawser (possibly empty); the peer feeds them to its h2 connection, reacts, and answers with
event lines (`EV ...`) followed by one `OUT <hex>` line of what it wants to send. `DONE` is
printed before `OUT` once every stream the script cares about has finished.

client: opens GET /small, POST /echo (1000-byte body, then trailers), GET /big, and GET
/cancel which it resets at once. Reports each finished stream as `EV END <id> <status>
<len> <body-hex-if-short> <trailers>`; /big's body must be 300000 bytes of i % 251.
server: answers /small with "ok", /echo with the request body and grpc-status 0 trailers,
/big with 300000 bytes of i % 251, within flow control.
"""
import sys

import h2.config
import h2.connection
import h2.events

BIG = bytes(i % 251 for i in range(300000))


def hdrs(pairs):
    return ";".join(f"{n.decode()}={v.decode()}" for n, v in pairs)


def main():
    side = sys.argv[1]
    conn = h2.connection.H2Connection(
        h2.config.H2Configuration(client_side=(side == "client"), header_encoding=None))
    conn.initiate_connection()
    bodies, status, trailers, ended, pending, paths = {}, {}, {}, set(), {}, {}
    if side == "client":
        base = [(b":scheme", b"http"), (b":authority", b"hawser")]
        conn.send_headers(1, [(b":method", b"GET"), (b":path", b"/small")] + base, end_stream=True)
        conn.send_headers(3, [(b":method", b"POST"), (b":path", b"/echo")] + base +
                          [(b"content-type", b"application/grpc"), (b"te", b"trailers")])
        conn.send_data(3, bytes(range(200)) * 5)
        conn.send_headers(3, [(b"x-client-trailer", b"yes")], end_stream=True)
        conn.send_headers(5, [(b":method", b"GET"), (b":path", b"/big")] + base, end_stream=True)
        conn.send_headers(7, [(b":method", b"GET"), (b":path", b"/cancel")] + base)
        conn.reset_stream(7, error_code=8)
        ended.add(7)
    for line in sys.stdin:
        data = bytes.fromhex(line.strip())
        events = conn.receive_data(data) if data else []
        for ev in events:
            sid = getattr(ev, "stream_id", None)
            if isinstance(ev, h2.events.RequestReceived):
                headers = dict(ev.headers)
                paths[sid] = headers[b":path"]
                print(f"EV REQ {sid} {headers[b':method'].decode()} {paths[sid].decode()} "
                      f"{hdrs(ev.headers)}")
            elif isinstance(ev, h2.events.ResponseReceived):
                status[sid] = dict(ev.headers)[b":status"].decode()
            elif isinstance(ev, h2.events.DataReceived):
                bodies[sid] = bodies.get(sid, b"") + ev.data
                conn.acknowledge_received_data(ev.flow_controlled_length, sid)
            elif isinstance(ev, h2.events.TrailersReceived):
                trailers[sid] = hdrs(ev.headers)
                print(f"EV TRAILERS {sid} {trailers[sid]}")
            elif isinstance(ev, h2.events.StreamReset):
                print(f"EV RESET {sid} {int(ev.error_code)}")
                ended.add(sid)
            elif isinstance(ev, h2.events.ConnectionTerminated):
                print(f"EV GOAWAY {int(ev.error_code)}")
            elif isinstance(ev, h2.events.StreamEnded):
                ended.add(sid)
                body = bodies.get(sid, b"")
                if side == "client":
                    shown = body.hex() if len(body) <= 2000 else ("big-ok" if body == BIG else "big-bad")
                    print(f"EV END {sid} {status.get(sid)} {len(body)} {shown or '-'} "
                          f"{trailers.get(sid, '-')}")
                else:
                    print(f"EV END {sid} {len(body)} {body.hex() or '-'}")
                    path = paths.get(sid)
                    if path == b"/echo":
                        conn.send_headers(sid, [(b":status", b"200"),
                                                (b"content-type", b"application/grpc")])
                        pending[sid] = (body, [(b"grpc-status", b"0")])
                    elif path == b"/big":
                        conn.send_headers(sid, [(b":status", b"200")])
                        pending[sid] = (BIG, None)
                    else:
                        conn.send_headers(sid, [(b":status", b"200")])
                        pending[sid] = (b"ok", None)
        for sid in list(pending):
            body, trail = pending[sid]
            while body:
                n = min(len(body), conn.local_flow_control_window(sid),
                        conn.max_outbound_frame_size)
                if n <= 0:
                    break
                conn.send_data(sid, body[:n])
                body = body[n:]
            if body:
                pending[sid] = (body, trail)
                continue
            del pending[sid]
            if trail:
                conn.send_headers(sid, trail, end_stream=True)
            else:
                conn.end_stream(sid)
        if side == "client" and {1, 3, 5, 7} <= ended:
            print("DONE")
        print("OUT " + conn.data_to_send().hex(), flush=True)


main()
