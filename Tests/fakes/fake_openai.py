#!/usr/bin/env python3
"""A fake of OpenAI's `POST /v1/images/edits`, faithful enough to test a client against.

Standard library only. Usage:

    fake_openai.py PORT [--api-key KEY] [--host HOST] [--exit-on-stdin-eof]

PORT 0 picks a free port. The first stdout line is always `PORT <n>`. The server stops on
SIGTERM or SIGINT, and with `--exit-on-stdin-eof` when its stdin reaches end of file (so it
dies with the test process holding the pipe, even when that process crashes).

What it checks, as OpenAI does (the messages follow OpenAI's wording; exact text may drift):

- `Authorization: Bearer <KEY>` (default key `sk-fake-test-key`): 401 `invalid_api_key` otherwise.
- `Content-Type: multipart/form-data`, parsed strictly (boundary, part headers).
- `model` present (this fake requires it, the real API defaults it) and one of `dall-e-2`,
  `gpt-image-1`; `prompt` present, at most 1000 characters for dall-e-2, 32000 for gpt-image-1;
  `n` an integer 1-10; `size` one of the model's sizes; `response_format` `url` or `b64_json`
  for dall-e-2 and absent for gpt-image-1 (`unknown_parameter`).
- `image`: for dall-e-2 a PNG (signature and IHDR decoded) under 4 MB, square, in mode
  RGBA, LA or L; for gpt-image-1 a PNG, JPEG or WebP under 25 MB. `mask`, when present, a PNG
  with the image's dimensions.

On success it answers `{"created": <unix>, "data": [{"b64_json": ...}]}` (or `{"url": ...}` for
`response_format=url`, the URL served by this fake without authentication). The image is a real
RGBA PNG of the requested size (default 1024x1024; gpt-image-1 `auto` keeps the input's size):
the input with its colours inverted, scaled by nearest neighbour (a solid colour when the
input is not an 8-bit non-interlaced PNG, e.g. JPEG for gpt-image-1).

Test controls, without restarting:

- Magic words in the prompt: `FAKE_CONTENT_POLICY` (400 `content_policy_violation`),
  `FAKE_RATE_LIMIT` (429 `rate_limit_exceeded`, `Retry-After: 0`), `FAKE_QUOTA` (429
  `insufficient_quota`), `FAKE_SERVER_ERROR` (500 `server_error`), `FAKE_OVERLOADED` (503),
  `FAKE_SLOW:<ms>` (answers after that delay), `FAKE_URL` (answers with `url` whatever was
  asked), `FAKE_BAD_JSON` (200 with a body that is not JSON), `FAKE_NOT_PNG` (200 with base64
  that is not a PNG).
- `POST /_fake/next` with `{"responses": [item, ...]}` queues scripted answers for the next edit
  requests (validated requests or not, after the key check). An item is
  `{"status": 429, "error": {"message":..., "type":..., "code":...}, "headers": {...},
  "body": <JSON or string>, "delay_ms": 0}` or `{"pass": true, "delay_ms": 0}` (handle normally).
- `GET /_fake/requests`: every edit request received, oldest first, as JSON: method, path,
  whether the key matched, content type, text fields, and for each file part its filename,
  content type, size and decoded PNG header (never the bytes), plus the status answered.
- `POST /_fake/reset`: forget recorded requests and the script.
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import os
import re
import signal
import struct
import sys
import threading
import time
import zlib
from itertools import accumulate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MB = 1024 * 1024
MODELS = {
    "dall-e-2": {
        "prompt_max": 1000,
        "sizes": ["256x256", "512x512", "1024x1024"],
        "default_size": "1024x1024",
        "max_bytes": 4 * MB,
    },
    "gpt-image-1": {
        "prompt_max": 32000,
        "sizes": ["1024x1024", "1536x1024", "1024x1536", "auto"],
        "default_size": "auto",
        "max_bytes": 25 * MB,
    },
}
COLOR_TYPE_NAMES = {0: "L", 2: "RGB", 3: "P", 4: "LA", 6: "RGBA"}
CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}


class FakeError(Exception):
    """An OpenAI error answer."""

    def __init__(self, status, message, type_="invalid_request_error", param=None, code=None, headers=None):
        super().__init__(message)
        self.status = status
        self.body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
        self.headers = headers or {}


def invalid(message, param=None, code=None):
    return FakeError(400, message, param=param, code=code)


def quote_list(values):
    quoted = [f"'{v}'" for v in values]
    return ", ".join(quoted[:-1]) + ", and " + quoted[-1] if len(quoted) > 2 else " and ".join(quoted)


# --- PNG ---------------------------------------------------------------------------------------

class PNGInfo:
    def __init__(self, width, height, bit_depth, color_type, interlace):
        self.width, self.height = width, height
        self.bit_depth, self.color_type, self.interlace = bit_depth, color_type, interlace

    def summary(self):
        return {"width": self.width, "height": self.height, "bit_depth": self.bit_depth,
                "color_type": self.color_type, "mode": COLOR_TYPE_NAMES.get(self.color_type, "?")}


def png_header(data):
    """Decodes signature and IHDR; None when `data` is not a PNG."""
    if len(data) < 33 or not data.startswith(PNG_SIGNATURE):
        return None
    length, kind = struct.unpack(">I4s", data[8:16])
    if kind != b"IHDR" or length != 13:
        return None
    width, height, depth, color, _compression, _filter, interlace = struct.unpack(">IIBBBBB", data[16:29])
    if zlib.crc32(data[12:29]) != struct.unpack(">I", data[29:33])[0]:
        return None
    if width == 0 or height == 0 or color not in COLOR_TYPE_NAMES:
        return None
    return PNGInfo(width, height, depth, color, interlace)


def png_chunks(data):
    offset = 8
    while offset + 12 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        yield kind, data[offset + 8:offset + 8 + length]
        offset += 12 + length
        if kind == b"IEND":
            return


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


MASK_BYTE = (0xFF).__and__


def decode_rgba(data, info):
    """Pixels as RGBA rows (list of bytes), or None for PNGs this fake does not decode."""
    if info.bit_depth != 8 or info.interlace != 0 or info.color_type not in CHANNELS:
        return None
    channels = CHANNELS[info.color_type]
    try:
        raw = zlib.decompress(b"".join(body for kind, body in png_chunks(data) if kind == b"IDAT"))
    except zlib.error:
        return None
    stride = info.width * channels
    if len(raw) < (stride + 1) * info.height:
        return None
    rows, previous = [], bytearray(stride)
    for y in range(info.height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:
            # Sub: a running sum per channel, mod 256 (summed and masked in C, not per byte in
            # Python: the edit service writes Sub-filtered PNGs, and a Python loop here was
            # the slowest step of the benchmark's upload-remote load).
            for channel in range(channels):
                line[channel::channels] = bytes(map(MASK_BYTE, accumulate(line[channel::channels])))
        elif kind == 2:
            for i in range(stride):
                line[i] = (line[i] + previous[i]) & 0xFF
        elif kind == 3:
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                up_left = previous[i - channels] if i >= channels else 0
                line[i] = (line[i] + paeth(left, previous[i], up_left)) & 0xFF
        elif kind != 0:
            return None
        previous = line
        rows.append(to_rgba(bytes(line), info.color_type))
    return rows


def to_rgba(line, color_type):
    if color_type == 6:
        return line
    out = bytearray(len(line) // CHANNELS[color_type] * 4)
    if color_type == 2:
        out[0::4], out[1::4], out[2::4], out[3::4] = line[0::3], line[1::3], line[2::3], b"\xff" * (len(line) // 3)
    elif color_type == 0:
        out[0::4] = out[1::4] = out[2::4] = line
        out[3::4] = b"\xff" * len(line)
    elif color_type == 4:
        out[0::4] = out[1::4] = out[2::4] = line[0::2]
        out[3::4] = line[1::2]
    return bytes(out)


def encode_png(width, height, rows):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    raw = b"".join(b"\x00" + row for row in rows)
    return PNG_SIGNATURE + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")


INVERT = bytes(255 - i for i in range(256))


def edited_png(image, info, width, height):
    """The input, inverted (alpha kept) and scaled to width x height; a solid tint when undecodable."""
    rows = decode_rgba(image, info) if info else None
    if rows is None:
        solid = bytes((40, 120, 200, 255)) * width
        return encode_png(width, height, [solid] * height)
    inverted = []
    for row in rows:
        line = bytearray(row.translate(INVERT))
        line[3::4] = row[3::4]
        inverted.append(bytes(line))
    if (info.width, info.height) != (width, height):
        xs = [(x * info.width // width) * 4 for x in range(width)]
        scaled_rows = {}
        out = []
        for y in range(height):
            source_y = y * info.height // height
            if source_y not in scaled_rows:
                src = inverted[source_y]
                scaled_rows[source_y] = b"".join(src[x:x + 4] for x in xs)
            out.append(scaled_rows[source_y])
        inverted = out
    return encode_png(width, height, inverted)


# --- multipart ---------------------------------------------------------------------------------

def parse_content_type(value):
    main, _, params = value.partition(";")
    result = {}
    for param in params.split(";"):
        name, _, val = param.strip().partition("=")
        if name:
            result[name.lower()] = val.strip().strip('"')
    return main.strip().lower(), result


def parse_multipart(body, boundary):
    """[(name, filename or None, content type or None, bytes)]; raises ValueError when malformed."""
    delimiter = b"--" + boundary.encode("latin-1")
    if not body.startswith(delimiter):
        raise ValueError("body does not start with the boundary")
    parts = []
    position = len(delimiter)
    while True:
        if body[position:position + 2] == b"--":
            return parts
        if body[position:position + 2] != b"\r\n":
            raise ValueError("malformed boundary line")
        position += 2
        header_end = body.find(b"\r\n\r\n", position)
        if header_end < 0:
            raise ValueError("part headers do not end")
        headers = {}
        for line in body[position:header_end].split(b"\r\n"):
            name, colon, value = line.decode("latin-1").partition(":")
            if not colon:
                raise ValueError("malformed part header")
            headers[name.strip().lower()] = value.strip()
        content_start = header_end + 4
        next_delimiter = body.find(b"\r\n" + delimiter, content_start)
        if next_delimiter < 0:
            raise ValueError("part does not end")
        disposition, params = parse_content_type(headers.get("content-disposition", ""))
        if disposition != "form-data" or "name" not in params:
            raise ValueError("part without form-data name")
        parts.append((params["name"], params.get("filename"), headers.get("content-type"),
                      body[content_start:next_delimiter]))
        position = next_delimiter + 2 + len(delimiter)


# --- server ------------------------------------------------------------------------------------

class State:
    def __init__(self, api_key):
        self.api_key = api_key
        self.lock = threading.Lock()
        self.requests = []
        self.script = []
        self.images = {}
        self.ids = itertools.count(1)

    def next_scripted(self):
        with self.lock:
            return self.script.pop(0) if self.script else None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-openai/1"
    state: State = None  # set by main

    def log_message(self, format, *args):  # quiet unless asked
        if os.environ.get("FAKE_OPENAI_VERBOSE"):
            super().log_message(format, *args)

    # -- plumbing --

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send(self, status, body, content_type="application/json", headers=None):
        if not isinstance(body, (bytes, bytearray)):
            body = json.dumps(body).encode() if not isinstance(body, str) else body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, str(value))
        self.end_headers()
        self.wfile.write(body)

    def send_error_json(self, error):
        self.send(error.status, error.body, headers=error.headers)

    # -- routes --

    def do_GET(self):
        if self.path == "/_fake/requests":
            with self.state.lock:
                self.send(200, list(self.state.requests))
        elif m := re.fullmatch(r"/_fake/images/(\d+)\.png", self.path):
            with self.state.lock:
                image = self.state.images.get(int(m.group(1)))
            if image is None:
                self.send(404, "not found", content_type="text/plain")
            else:
                self.send(200, image, content_type="image/png")
        else:
            self.send(404, {"error": {"message": f"Invalid URL (GET {self.path})", "type": "invalid_request_error",
                                      "param": None, "code": None}})

    def do_POST(self):
        body = self.read_body()
        if self.path == "/_fake/next":
            items = json.loads(body or b"{}").get("responses", [])
            with self.state.lock:
                self.state.script.extend(items)
            self.send(200, {"queued": len(items)})
        elif self.path == "/_fake/reset":
            with self.state.lock:
                self.state.requests.clear()
                self.state.script.clear()
            self.send(200, {})
        elif self.path.rstrip("/") == "/v1/images/edits":
            self.images_edits(body)
        else:
            self.send(404, {"error": {"message": f"Invalid URL (POST {self.path})", "type": "invalid_request_error",
                                      "param": None, "code": None}})

    def images_edits(self, body):
        record = {"method": "POST", "path": self.path, "content_type": self.headers.get("Content-Type", ""),
                  "key_ok": False, "fields": {}, "files": {}, "status": None}
        with self.state.lock:
            self.state.requests.append(record)
        status, payload, headers, content_type, delay_ms = 200, None, {}, "application/json", 0
        try:
            self.check_key(record)
            scripted = self.state.next_scripted()
            try:
                parsed, parse_error = self.parse(body, record), None
            except FakeError as error:
                parsed, parse_error = None, error
            if scripted is not None:
                delay_ms = int(scripted.get("delay_ms", 0))
            if scripted is not None and not scripted.get("pass"):
                status = int(scripted.get("status", 200))
                headers = scripted.get("headers", {})
                if "error" in scripted:
                    error = {"message": "", "type": "invalid_request_error", "param": None, "code": None}
                    error.update(scripted["error"])
                    payload = {"error": error}
                else:
                    payload = scripted.get("body", {})
            else:
                if parse_error is not None:
                    raise parse_error
                status, payload, headers, content_type, magic_delay = self.edit(parsed)
                delay_ms += magic_delay
        except FakeError as error:
            status, payload, headers = error.status, error.body, error.headers
        if delay_ms:
            time.sleep(delay_ms / 1000)
        record["status"] = status
        self.send(status, payload, content_type=content_type, headers=headers)

    def check_key(self, record):
        auth = self.headers.get("Authorization")
        if not auth:
            raise FakeError(401, "You didn't provide an API key. You need to provide your API key in an "
                                 "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or "
                                 "as the password field (with blank username) if you're accessing the API from your "
                                 "browser and are prompted for a username and password. You can obtain an API key "
                                 "from https://platform.openai.com/account/api-keys.")
        scheme, _, key = auth.partition(" ")
        if scheme.lower() != "bearer" or key.strip() != self.state.api_key:
            key = key.strip()
            masked = (key[:3] + "*" * 10 + key[-4:]) if len(key) > 8 else "*" * len(key)
            raise FakeError(401, f"Incorrect API key provided: {masked}. You can find your API key at "
                                 "https://platform.openai.com/account/api-keys.", code="invalid_api_key")
        record["key_ok"] = True

    def parse(self, body, record):
        content_type, params = parse_content_type(self.headers.get("Content-Type", ""))
        if content_type != "multipart/form-data" or not params.get("boundary"):
            raise invalid(f"Invalid Content-Type header ({self.headers.get('Content-Type', '')}), expected "
                          "multipart/form-data. (HINT: If you're using curl, you can pass -H 'Content-Type: "
                          "multipart/form-data')")
        try:
            parts = parse_multipart(body, params["boundary"])
        except ValueError as error:
            raise invalid(f"Could not parse multipart form: {error}.")
        fields, files = {}, {}
        for name, filename, part_type, content in parts:
            if filename is None:
                fields[name] = content.decode("utf-8", errors="replace")
            else:
                info = png_header(content)
                files[name] = {"filename": filename, "content_type": part_type, "size": len(content),
                               "png": info.summary() if info else None, "bytes": content, "info": info}
        record["fields"] = dict(fields)
        record["files"] = {name: {k: v for k, v in f.items() if k not in ("bytes", "info")} for name, f in files.items()}
        return fields, files

    def edit(self, parsed):
        fields, files = parsed
        model = fields.get("model")
        if model is None:
            raise invalid("Missing required parameter: 'model'.", param="model", code="missing_required_parameter")
        if model not in MODELS:
            raise invalid(f"Invalid value: '{model}'. Supported values are: {quote_list(list(MODELS))}.",
                          param="model", code="invalid_value")
        spec = MODELS[model]
        prompt = fields.get("prompt")
        if prompt is None:
            raise invalid("Missing required parameter: 'prompt'.", param="prompt", code="missing_required_parameter")
        if len(prompt) > spec["prompt_max"]:
            raise invalid(f"Invalid 'prompt': string too long. Expected a string with maximum length "
                          f"{spec['prompt_max']}, but got a string with length {len(prompt)} instead.",
                          param="prompt", code="string_above_max_length")
        n_text = fields.get("n", "1")
        if not re.fullmatch(r"-?\d+", n_text):
            raise invalid(f"Invalid type for 'n': expected an integer, but got a string instead.",
                          param="n", code="invalid_type")
        n = int(n_text)
        if n < 1:
            raise invalid(f"Invalid 'n': integer below minimum value. Expected a value >= 1, but got {n} instead.",
                          param="n", code="integer_below_min_value")
        if n > 10:
            raise invalid(f"Invalid 'n': integer above maximum value. Expected a value <= 10, but got {n} instead.",
                          param="n", code="integer_above_max_value")
        size = fields.get("size", spec["default_size"])
        if size not in spec["sizes"]:
            raise invalid(f"Invalid value: '{size}'. Supported values are: {quote_list(spec['sizes'])}.",
                          param="size", code="invalid_value")
        response_format = fields.get("response_format")
        if model != "dall-e-2" and response_format is not None:
            raise invalid("Unknown parameter: 'response_format'.", param="response_format", code="unknown_parameter")
        if response_format is not None and response_format not in ("url", "b64_json"):
            raise invalid(f"Invalid value: '{response_format}'. Supported values are: 'url' and 'b64_json'.",
                          param="response_format", code="invalid_value")
        image = files.get("image")
        if image is None:
            raise invalid("Missing required parameter: 'image'.", param="image", code="missing_required_parameter")
        info = image["info"]
        if model == "dall-e-2":
            if info is None or image["size"] >= spec["max_bytes"]:
                raise invalid("Uploaded image must be a PNG and less than 4 MB.", param="image")
            if info.width != info.height:
                raise invalid("Uploaded image must be square.", param="image")
            if info.color_type not in (0, 4, 6):
                raise invalid(f"Invalid input image - format must be in ['RGBA', 'LA', 'L'], got "
                              f"{COLOR_TYPE_NAMES[info.color_type]}.", param="image")
        else:
            data = image["bytes"]
            is_jpeg = data.startswith(b"\xff\xd8\xff")
            is_webp = data[:4] == b"RIFF" and data[8:12] == b"WEBP"
            if (info is None and not is_jpeg and not is_webp) or image["size"] >= spec["max_bytes"]:
                raise invalid("Invalid image file or mode for image 1, please check your image file.", param="image")
        mask = files.get("mask")
        if mask is not None:
            mask_info = mask["info"]
            if mask_info is None or mask["size"] >= 4 * MB:
                raise invalid("Uploaded mask must be a PNG and less than 4 MB.", param="mask")
            if info is not None and (mask_info.width, mask_info.height) != (info.width, info.height):
                raise invalid("Invalid mask image - mask and image must have the same dimensions.", param="mask")

        delay_ms = 0
        if m := re.search(r"FAKE_SLOW:(\d+)", prompt):
            delay_ms = int(m.group(1))
        if "FAKE_CONTENT_POLICY" in prompt:
            raise FakeError(400, "Your request was rejected as a result of our safety system. Your prompt may contain "
                                 "text that is not allowed by our safety system.", code="content_policy_violation")
        if "FAKE_RATE_LIMIT" in prompt:
            raise FakeError(429, "Rate limit exceeded for images per minute in organization org-fake. Limit: 5/1min. "
                                 "Current: 6/1min. Please try again in 1s.", type_="requests",
                            code="rate_limit_exceeded", headers={"Retry-After": "0"})
        if "FAKE_QUOTA" in prompt:
            raise FakeError(429, "You exceeded your current quota, please check your plan and billing details.",
                            type_="insufficient_quota", code="insufficient_quota")
        if "FAKE_SERVER_ERROR" in prompt:
            raise FakeError(500, "The server had an error while processing your request. Sorry about that!",
                            type_="server_error")
        if "FAKE_OVERLOADED" in prompt:
            raise FakeError(503, "The engine is currently overloaded, please try again later.", type_="server_error")
        if "FAKE_BAD_JSON" in prompt:
            return 200, '{"created": 1, "data": [', {}, "application/json", delay_ms

        if size == "auto":
            width, height = (info.width, info.height) if info else (1024, 1024)
        else:
            width, height = (int(v) for v in size.split("x"))
        data = []
        for _ in range(n):
            png = b"not a png at all" if "FAKE_NOT_PNG" in prompt else edited_png(image["bytes"], info, width, height)
            wants_url = model == "dall-e-2" and (response_format in (None, "url") or "FAKE_URL" in prompt)
            if wants_url:
                with self.state.lock:
                    image_id = next(self.state.ids)
                    self.state.images[image_id] = png
                host = self.headers.get("Host", f"127.0.0.1:{self.server.server_address[1]}")
                data.append({"url": f"http://{host}/_fake/images/{image_id}.png"})
            else:
                data.append({"b64_json": base64.b64encode(png).decode("ascii")})
        return 200, {"created": int(time.time()), "data": data}, {}, "application/json", delay_ms


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("port", type=int)
    parser.add_argument("--api-key", default="sk-fake-test-key")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--exit-on-stdin-eof", action="store_true",
                        help="stop when stdin closes (the parent that holds the pipe exited)")
    args = parser.parse_args()

    Handler.state = State(args.api_key)
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    print(f"PORT {server.server_address[1]}", flush=True)

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def watch_stdin():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except (OSError, ValueError):
            pass
        stop()

    if args.exit_on_stdin_eof:
        threading.Thread(target=watch_stdin, daemon=True).start()
    server.serve_forever(poll_interval=0.1)
    server.server_close()


if __name__ == "__main__":
    main()
