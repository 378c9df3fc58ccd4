"""The fake OpenAI images server (Tests/fakes/fake_openai.py) checks requests the way OpenAI does.

The Swift OpenAIImages tests trust this fake; these tests keep it honest: each validation rule
answers OpenAI's error shape, and a success is a real PNG of the requested size.
"""

from __future__ import annotations

import base64
import json
import struct
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
import zlib
from pathlib import Path

import pytest

FAKE = Path(__file__).resolve().parent.parent / "fakes" / "fake_openai.py"
KEY = "sk-pytest-key"


def png(width, height, color_type=6, rgba=(10, 20, 30, 255)):
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[color_type]
    pixel = bytes(rgba[:3] if channels == 3 else rgba[:1] if channels == 1 else rgba[:1] + rgba[3:] if channels == 2 else rgba)
    raw = b"".join(b"\x00" + pixel * width for _ in range(height))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def multipart(fields, files):
    boundary = uuid.uuid4().hex
    body = b""
    for name, value in fields.items():
        body += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    for name, data in files.items():
        body += (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{name}.png"\r\n'
                 f"Content-Type: image/png\r\n\r\n").encode() + data + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.fixture(scope="module")
def fake():
    process = subprocess.Popen([sys.executable, str(FAKE), "0", "--api-key", KEY, "--exit-on-stdin-eof"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    assert line.startswith("PORT "), line
    yield f"http://127.0.0.1:{int(line.split()[1])}"
    process.stdin.close()
    process.wait(timeout=10)


def call(base, method, path, body=None, headers=None):
    request = urllib.request.Request(base + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def edit(base, fields=None, files=None, key=KEY):
    fields = {"model": "dall-e-2", "prompt": "invert it", "size": "256x256", "response_format": "b64_json",
              **(fields or {})}
    fields = {k: v for k, v in fields.items() if v is not None}
    files = {"image": png(64, 64), **(files or {})}
    files = {k: v for k, v in files.items() if v is not None}
    body, content_type = multipart(fields, files)
    headers = {"Content-Type": content_type}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    status, headers, raw = call(base, "POST", "/v1/images/edits", body, headers)
    return status, headers, json.loads(raw) if raw.startswith(b"{") else raw


def test_success_is_an_inverted_png_of_the_requested_size(fake):
    status, _, body = edit(fake)
    assert status == 200
    image = base64.b64decode(body["data"][0]["b64_json"])
    assert image.startswith(b"\x89PNG\r\n\x1a\n")
    width, height, depth, color_type = struct.unpack(">IIBB", image[16:26])
    assert (width, height, depth, color_type) == (256, 256, 8, 6)
    raw = zlib.decompress(image[image.index(b"IDAT") + 4:])
    assert raw[1:5] == bytes((245, 235, 225, 255))  # 255 - (10, 20, 30), alpha kept


def test_url_answer_is_served_by_the_fake(fake):
    status, _, body = edit(fake, {"response_format": "url"})
    assert status == 200 and "b64_json" not in body["data"][0]
    url = body["data"][0]["url"]
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read().startswith(b"\x89PNG")


@pytest.mark.parametrize("key, fragment, code", [
    (None, "You didn't provide an API key", None),
    ("sk-wrong-key-123456", "Incorrect API key provided", "invalid_api_key"),
])
def test_key_is_required(fake, key, fragment, code):
    status, _, body = edit(fake, key=key)
    assert status == 401
    assert fragment in body["error"]["message"] and body["error"]["code"] == code
    assert "sk-wrong-key-123456" not in body["error"]["message"]


@pytest.mark.parametrize("fields, files, param, fragment", [
    ({"prompt": None}, {}, "prompt", "Missing required parameter: 'prompt'"),
    ({"prompt": "x" * 1001}, {}, "prompt", "maximum length 1000"),
    ({"model": None}, {}, "model", "Missing required parameter: 'model'"),
    ({"model": "dall-e-9"}, {}, "model", "Invalid value: 'dall-e-9'"),
    ({"n": "11"}, {}, "n", "Expected a value <= 10"),
    ({"n": "0"}, {}, "n", "Expected a value >= 1"),
    ({"size": "300x300"}, {}, "size", "Invalid value: '300x300'"),
    ({"response_format": "jpeg"}, {}, "response_format", "Invalid value: 'jpeg'"),
    ({"model": "gpt-image-1", "size": None}, {}, "response_format", "Unknown parameter: 'response_format'"),
    ({}, {"image": None}, "image", "Missing required parameter: 'image'"),
    ({}, {"image": b"GIF89a not a png"}, "image", "must be a PNG and less than 4 MB"),
    ({}, {"image": png(64, 32)}, "image", "must be square"),
    ({}, {"image": png(64, 64, color_type=2)}, "image", "format must be in ['RGBA', 'LA', 'L'], got RGB"),
    ({}, {"mask": png(32, 32)}, "mask", "same dimensions"),
])
def test_invalid_requests_are_400_with_openai_shape(fake, fields, files, param, fragment):
    status, _, body = edit(fake, fields, files)
    assert status == 400, body
    error = body["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param
    assert fragment in error["message"]


def test_gpt_image_1_always_answers_b64_json(fake):
    status, _, body = edit(fake, {"model": "gpt-image-1", "response_format": None, "size": "1024x1024"},
                           {"image": png(16, 16)})
    assert status == 200 and "b64_json" in body["data"][0]


@pytest.mark.parametrize("word, status, code", [
    ("FAKE_CONTENT_POLICY", 400, "content_policy_violation"),
    ("FAKE_RATE_LIMIT", 429, "rate_limit_exceeded"),
    ("FAKE_QUOTA", 429, "insufficient_quota"),
    ("FAKE_SERVER_ERROR", 500, None),
])
def test_magic_words(fake, word, status, code):
    got, _, body = edit(fake, {"prompt": f"please {word}"})
    assert got == status and body["error"]["code"] == code


def test_script_and_recorded_requests(fake):
    call(fake, "POST", "/_fake/reset")
    script = {"responses": [{"status": 429, "error": {"code": "rate_limit_exceeded"}, "headers": {"Retry-After": "0"}},
                            {"pass": True}]}
    call(fake, "POST", "/_fake/next", json.dumps(script).encode(), {"Content-Type": "application/json"})
    first, headers, _ = edit(fake)
    second, _, _ = edit(fake)
    assert (first, second) == (429, 200) and headers.get("Retry-After") == "0"
    _, _, raw = call(fake, "GET", "/_fake/requests")
    recorded = json.loads(raw)
    assert [r["status"] for r in recorded] == [429, 200]
    assert recorded[1]["fields"]["model"] == "dall-e-2"
    image = recorded[1]["files"]["image"]
    assert image["png"]["width"] == 64 and image["content_type"] == "image/png" and "bytes" not in image
