#!/usr/bin/env python3
"""Writes the small test images under Tests/ImagingTests/Fixtures (pip install pillow).

Committed, so tests need no Pillow: regenerate only to change them.
"""
import io
import os
import struct
import zlib

from PIL import Image

out = os.path.join(os.path.dirname(__file__), "..", "Tests", "ImagingTests", "Fixtures")
os.makedirs(out, exist_ok=True)


def gradient(width, height, mode="RGB"):
    image = Image.new(mode, (width, height))
    pixels = image.load()
    for y in range(height):
        for x in range(width):
            red, green, blue = (x * 255 // max(1, width - 1), y * 255 // max(1, height - 1), 64)
            pixels[x, y] = (red, green, blue, 255 if x < width // 2 else 128) if mode == "RGBA" else (red, green, blue)
    return image


def save(name, image, fmt, **options):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    with open(os.path.join(out, name), "wb") as handle:
        handle.write(buffer.getvalue())
    return buffer.getvalue()


png = save("gradient-64x48.png", gradient(64, 48), "PNG")
save("gradient-rgba-40x40.png", gradient(40, 40, "RGBA"), "PNG")
save("gradient-64x48.jpg", gradient(64, 48), "JPEG", quality=90)
save("gradient-32x32-lossy.webp", gradient(32, 32), "WEBP", quality=80)
save("gradient-30x20-lossless.webp", gradient(30, 20), "WEBP", lossless=True)
checker = Image.new("RGB", (32, 32))
for y in range(32):
    for x in range(32):
        checker.putpixel((x, y), (230, 230, 230) if (x // 4 + y // 4) % 2 else (20, 40, 60))
save("checker-32x32.png", checker, "PNG")
save("mask-64x48.png", Image.new("RGBA", (64, 48), (0, 0, 0, 0)), "PNG")
save("gradient-512x512.png", gradient(512, 512), "PNG")
with open(os.path.join(out, "truncated.png"), "wb") as handle:
    handle.write(png[: len(png) // 2])
with open(os.path.join(out, "text-named.png"), "wb") as handle:
    handle.write(b"This is a text file, not an image.\n")


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


# A PNG whose header claims 100000 x 100000 pixels: a decompression bomb in 60 bytes.
bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)) \
    + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
with open(os.path.join(out, "bomb-100000x100000.png"), "wb") as handle:
    handle.write(bomb)
print("wrote fixtures to", os.path.normpath(out))
