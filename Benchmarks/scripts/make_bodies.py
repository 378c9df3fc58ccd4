#!/usr/bin/env python3
"""Writes gRPC request bodies for the Echo benchmark: one length-prefixed EchoRequest.

    python3 make_bodies.py OUTDIR SIZE [SIZE...]

For each SIZE (bytes; suffixes k and M are powers of 1024) writes OUTDIR/echo-SIZE.grpc:
the 5-byte gRPC prefix (flag 0 = uncompressed, 4-byte big-endian length) followed by an
EchoRequest{payload = SIZE bytes (i mod 251), text = ""} in protobuf wire format. The
echoed response has exactly the same bytes, so the same file also serves as the static
response body for nghttpd. Prints "name body_bytes message_bytes" per file.
"""

import os
import struct
import sys


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def echo_request(payload: bytes, text: str = "") -> bytes:
    message = b""
    if payload:
        message += b"\x0a" + varint(len(payload)) + payload  # field 1, length-delimited
    if text:
        raw = text.encode("utf-8")
        message += b"\x12" + varint(len(raw)) + raw  # field 2, length-delimited
    return message


def grpc_frame(message: bytes) -> bytes:
    return struct.pack(">BI", 0, len(message)) + message


def parse_size(text: str) -> int:
    units = {"k": 1024, "K": 1024, "M": 1024 * 1024}
    if text[-1] in units:
        return int(text[:-1]) * units[text[-1]]
    return int(text)


def main() -> None:
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    for label in sys.argv[2:]:
        size = parse_size(label)
        payload = bytes(i % 251 for i in range(size))
        message = echo_request(payload)
        body = grpc_frame(message)
        path = os.path.join(outdir, f"echo-{label}.grpc")
        with open(path, "wb") as f:
            f.write(body)
        print(f"echo-{label}.grpc {len(body)} {len(message)}")


if __name__ == "__main__":
    main()
