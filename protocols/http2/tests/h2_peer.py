#!/usr/bin/env python3
"""Cross-check peer for hawser-http2's tests, using the Python h2 package (hyper-h2).

`emit`: writes to stdout, as hex, the bytes an h2 client connection produces: the preface and
SETTINGS, a HEADERS with END_STREAM, a POST whose header block is large enough to need a
CONTINUATION, padded and plain DATA, a PING, a WINDOW_UPDATE, a RST_STREAM and a GOAWAY.
`hpack-decode HEX...`: decodes header blocks, in order, with the hpack package h2 uses, and prints
each as `name: value` lines followed by an empty line.
"""
import sys

import h2.config
import h2.connection
import hpack

if sys.argv[1] == "emit":
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    conn.send_headers(1, [(":method", "GET"), (":scheme", "http"), (":authority", "users"),
                          (":path", "/a")], end_stream=True)
    big = "".join(chr(ord("a") + (i * 7919) % 26) for i in range(30000))
    conn.send_headers(3, [(":method", "POST"), (":scheme", "http"), (":authority", "users"),
                          (":path", "/b"), ("x-big", big)])
    conn.send_data(3, b"hello", pad_length=5)
    conn.send_data(3, b" world", end_stream=True)
    conn.ping(b"12345678")
    conn.increment_flow_control_window(1000)
    conn.send_headers(5, [(":method", "GET"), (":scheme", "http"), (":authority", "users"),
                          (":path", "/c")])
    conn.reset_stream(5, error_code=8)
    conn.close_connection(error_code=0, additional_data=b"bye")
    sys.stdout.write(conn.data_to_send().hex())
elif sys.argv[1] == "hpack-decode":
    # The three blocks share one HPACK context, as on the connection.
    dec = hpack.Decoder()
    dec.max_header_list_size = 1 << 20
    for h in sys.argv[2:]:
        for name, value in dec.decode(bytes.fromhex(h)):
            print(f"{name}: {value}")
        print()
