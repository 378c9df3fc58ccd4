#!/usr/bin/env python3
"""Writes a photo-like noisy PNG for images-bench.sh, in pure Python (zlib + struct, no Pillow).

    make_noise_png.py OUT.png [--side 512] [--noise 48] [--alpha] [--seed 1]

The picture is a smooth two-axis colour gradient plus uniform per-channel noise of +-noise/2
(deterministic for a seed), 8-bit RGB (or RGBA with --alpha, alpha also noisy), non-interlaced,
each row with the Sub filter, zlib level 6: what a camera photo looks like to a PNG codec,
roughly (little exact repetition, so it barely compresses). Prints the file's size in bytes.
At 512x512: --noise 48 gives about 0.6 MB, --noise 255 --alpha about 1.05 MB (pure noise).
"""
import argparse
import random
import struct
import zlib


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--side", type=int, default=512)
    parser.add_argument("--noise", type=int, default=48)
    parser.add_argument("--alpha", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    side, channels = args.side, 4 if args.alpha else 3
    rng = random.Random(args.seed)
    noise = rng.randbytes(side * side * channels)
    half = args.noise // 2
    raw = bytearray()
    for y in range(side):
        row = bytearray(side * channels)
        base = y * side * channels
        for x in range(side):
            gradient = (x * 255 // side, y * 255 // side, (x + y) * 127 // side, 255 - (x * 200 // side))
            for c in range(channels):
                value = gradient[c] + noise[base + x * channels + c] * args.noise // 255 - half
                row[x * channels + c] = 0 if value < 0 else 255 if value > 255 else value
        # Sub filter: each byte minus the same channel of the pixel to its left.
        filtered = bytearray(row)
        for i in range(len(row) - 1, channels - 1, -1):
            filtered[i] = (row[i] - row[i - channels]) & 0xFF
        raw += b"\x01" + filtered
    header = struct.pack(">IIBBBBB", side, side, 8, 6 if args.alpha else 2, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(raw), 6)) + chunk(b"IEND", b"")
    with open(args.out, "wb") as file:
        file.write(png)
    print(len(png))


if __name__ == "__main__":
    main()
