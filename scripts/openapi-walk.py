#!/usr/bin/env python3
"""Walks every REST route once on its happy path (and its usual failures) against a live
gateway, and checks each answer against the gateway's own OpenAPI document.

    scripts/openapi-walk.py BASE_URL      (scripts/schemathesis.sh runs it before schemathesis)

Schemathesis generates data from the schema, so it never uploads a real image: the 201/200
answers of the image routes, the downloads and the signed links would go unchecked. This walk
makes them happen (a real PNG, JPEG and WebP from Tests/ImagingTests/Fixtures) and checks, for
every response: the status is the expected one and documented for the operation, the
Content-Type is documented for that status, and the body matches its schema (schemathesis's own
validator). Exits 1 on the first mismatch, naming the request.
"""
import pathlib
import sys
import uuid

import requests
import schemathesis

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "Tests/ImagingTests/Fixtures"


class Walk:
    def __init__(self, base: str):
        self.base = base.rstrip("/")
        self.http = requests.Session()
        self.document = self.http.get(f"{self.base}/api/schema/?format=json", timeout=30).json()
        self.schema = schemathesis.openapi.from_url(f"{self.base}/api/schema/")
        self.checked = 0

    def response_object(self, path: str, method: str, status: int):
        operation = self.document["paths"][path][method.lower()]
        response = operation["responses"].get(str(status))
        if response is None:
            return None
        if "$ref" in response:
            response = self.document["components"]["responses"][response["$ref"].split("/")[-1]]
        return response

    def call(self, method: str, documented_path: str, url_path: str, expect: int, token: str | None = None, **kwargs):
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        url = url_path if url_path.startswith("http") else f"{self.base}{url_path}"
        response = self.http.request(method, url, headers=headers, timeout=120, **kwargs)
        where = f"{method} {url_path} (documented as {documented_path})"
        if response.status_code != expect:
            fail(f"{where}: expected {expect}, got {response.status_code}: {response.text[:300]}")
        documented = self.response_object(documented_path, method, response.status_code)
        if documented is None:
            fail(f"{where}: status {response.status_code} is not documented")
        content = documented.get("content")
        media_type = (response.headers.get("Content-Type") or "").split(";")[0].strip()
        if content is None:
            if response.content:
                fail(f"{where}: {response.status_code} documents no body, got {len(response.content)} bytes")
        elif media_type not in content:
            fail(f"{where}: Content-Type {media_type!r} is not documented for {response.status_code} ({', '.join(content)})")
        for header in documented.get("headers", {}):
            if header not in response.headers:
                fail(f"{where}: documented header {header} is missing")
        try:
            self.schema[documented_path][method.upper()].validate_response(response)
        except (Exception, BaseExceptionGroup) as error:  # schemathesis raises a FailureGroup (an exception group)
            details = [str(e).splitlines()[0] for e in getattr(error, "exceptions", [error])]
            fail(f"{where}: the response does not match the document: {'; '.join(details)}")
        self.checked += 1
        return response


def fail(message: str) -> None:
    print(f"openapi-walk: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def main() -> int:
    walk = Walk(sys.argv[1])
    call = walk.call
    name = f"walk{uuid.uuid4().hex[:10]}"
    password = "walk the walk " + uuid.uuid4().hex[:6]

    # Accounts and tokens.
    call("POST", "/api/register/", "/api/register/", 201, json={"username": name, "email": f"{name}@example.com", "password": password})
    call("POST", "/api/register/", "/api/register", 409, json={"username": name, "email": f"{name}@example.com", "password": password})
    call("POST", "/api/register/", "/api/register/", 400, json={"username": name})
    call("POST", "/api/register/", "/api/register/", 415, data="x", headers={"Content-Type": "application/xml"})
    call("POST", "/api/login/", "/api/login/", 401, json={"username": name, "password": "not the password"})
    login = call("POST", "/api/login/", "/api/login/", 200, data={"email": f"{name}@example.com", "password": password}).json()
    refreshed = call("POST", "/api/token/refresh/", "/api/token/refresh/", 200, json={"refresh": login["refresh"]}).json()
    call("POST", "/api/token/refresh/", "/api/token/refresh/", 401, json={"refresh": login["refresh"]})
    token = refreshed["access"]
    call("POST", "/api/token/verify/", "/api/token/verify/", 200, json={"token": token})
    call("POST", "/api/token/verify/", "/api/token/verify/", 401, json={"token": token + "x"})
    call("GET", "/api/user/", "/api/user", 200, token=token)
    call("GET", "/api/user/", "/api/user/", 401)

    # Images: upload (PNG with a mask and a size, JPEG, WebP), list, show, download, links.
    png = (FIXTURES / "gradient-64x48.png").read_bytes()
    mask = (FIXTURES / "mask-64x48.png").read_bytes()
    created = call("POST", "/api/images/images/", "/api/images/images/", 201, token=token,
                   files={"image": ("a.png", png, "image/png"), "mask": ("m.png", mask, "image/png")},
                   data={"prompt": "grayscale and mirror", "size": "256x256"}).json()
    for fixture, content_type in (("gradient-64x48.jpg", "image/jpeg"), ("gradient-30x20-lossless.webp", "image/webp")):
        call("POST", "/api/images/images/", "/api/images/images", 201, token=token,
             files={"image": (fixture, (FIXTURES / fixture).read_bytes(), content_type)})
    call("POST", "/api/images/images/", "/api/images/images/", 400, token=token, files={"image": ("x.png", b"not an image", "image/png")})
    call("POST", "/api/images/images/", "/api/images/images/", 400, token=token, files={"prompt": (None, "no image")})
    call("POST", "/api/images/images/", "/api/images/images/", 415, token=token, json={"prompt": "json is not multipart"})
    call("POST", "/api/images/images/", "/api/images/images/", 401, files={"image": ("a.png", png, "image/png")})
    image_id = created["image_data"]["id"]
    page = call("GET", "/api/images/images/", "/api/images/images/?page_size=2", 200, token=token).json()
    if page["count"] < 3 or page["next"] is None:
        fail(f"the list should have 3 images and a next page: {page}")
    call("GET", "/api/images/images/", "/api/images/images/?page=2&page_size=2", 200, token=token)
    call("GET", "/api/images/images/", "/api/images/images/?page=9&page_size=2", 404, token=token)
    call("GET", "/api/images/images/", "/api/images/images/?page_size=101", 400, token=token)
    call("GET", "/api/images/images/{id}/", f"/api/images/images/{image_id}/", 200, token=token)
    call("GET", "/api/images/images/{id}/", "/api/images/images/999999999/", 404, token=token)
    call("GET", "/api/images/images/{id}/original", f"/api/images/images/{image_id}/original", 200, token=token)
    call("GET", "/api/images/images/{id}/edited", f"/api/images/images/{image_id}/edited", 200, token=token)
    call("GET", "/blobs/{key}", created["original_image_url"], 200)
    call("GET", "/blobs/{key}", created["dalle_edited_image_url"], 200)
    call("GET", "/blobs/{key}", created["original_image_url"].replace("signature=", "signature=0"), 403)

    # Someone else sees none of it.
    other = f"{name}b"
    call("POST", "/api/register/", "/api/register/", 201, json={"username": other, "email": f"{other}@example.com", "password": password})
    other_token = call("POST", "/api/login/", "/api/login/", 200, json={"username": other, "password": password}).json()["access"]
    call("GET", "/api/images/images/{id}/", f"/api/images/images/{image_id}/", 404, token=other_token)
    call("DELETE", "/api/images/images/{id}/", f"/api/images/images/{image_id}/", 404, token=other_token)

    # Update, replace, delete.
    call("PATCH", "/api/images/images/{id}/", f"/api/images/images/{image_id}/", 200, token=token, files={"prompt": (None, "rotate it")})
    call("PUT", "/api/images/images/{id}/", f"/api/images/images/{image_id}", 200, token=token, files={"image": ("a.png", png, "image/png")})
    call("PATCH", "/api/images/images/{id}/", f"/api/images/images/{image_id}/", 400, token=token, files={"size": (None, "256x256")})
    call("DELETE", "/api/images/images/{id}/", f"/api/images/images/{image_id}/", 204, token=token)
    call("GET", "/api/images/images/{id}/original", f"/api/images/images/{image_id}/original", 404, token=token)

    # Logout, operations, the document itself.
    call("POST", "/api/logout/", "/api/logout/", 200, json={"refresh": refreshed["refresh"]})
    call("POST", "/api/token/refresh/", "/api/token/refresh/", 401, json={"refresh": refreshed["refresh"]})
    call("GET", "/healthz", "/healthz", 200)
    call("GET", "/readyz", "/readyz", 200)
    call("GET", "/metrics", "/metrics", 200)
    call("GET", "/api/schema/", "/api/schema/", 200)
    call("GET", "/api/schema/", "/api/schema?format=json", 200)
    call("GET", "/api/schema/", "/api/schema/?format=xml", 400)
    print(f"openapi-walk: {walk.checked} responses match the document", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
