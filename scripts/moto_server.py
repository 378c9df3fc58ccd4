#!/usr/bin/env python3
"""moto's S3 for the test suite, with real authentication.

Plain `moto_server` accepts any request, signed or not, and never checks a presigned URL's
signature or expiry. This runs the same moto application with two additions, so the Swift S3
tests can fail on a wrong signature:

  * IAM authentication from the first request (INITIAL_NO_AUTH_ACTION_COUNT=0): moto checks every
    header-signed request's SigV4 signature with botocore and the caller's IAM policy.
  * Presigned GET URLs (X-Amz-Signature in the query, no Authorization header) are verified here,
    with botocore's S3SigV4QueryAuth, against the IAM secret of the key in X-Amz-Credential, and
    refused after X-Amz-Date + X-Amz-Expires; a valid one is answered from moto's S3 backend.

One correction to moto's own check: it rebuilds the signed query from werkzeug's decoded URL, so
a value holding an encoded "/" (prefix=a%2F, as botocore and AWS encode it) fails even from boto3.
Here it checks the request target exactly as sent, as AWS does.

At start it creates, in process, a bucket, a user allowed s3:* and a user with no permissions,
then writes their names and keys to --env-file as TEST_S3_* lines (mode 0600) for the tests.

    python3 scripts/moto_server.py --port 54340 --env-file .data/moto/env
"""
import argparse
import datetime
import json
import os
import sys
import threading
from urllib.parse import parse_qsl, unquote
from xml.sax.saxutils import escape

os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "0"  # read by moto.settings at import
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from botocore.auth import S3SigV4QueryAuth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402
from moto.core import DEFAULT_ACCOUNT_ID  # noqa: E402
from moto.iam import access_control  # noqa: E402
from moto.iam.models import iam_backends  # noqa: E402
from moto.s3.models import s3_backends  # noqa: E402
from moto.server import DomainDispatcherApplication, create_backend_app  # noqa: E402
from werkzeug.serving import run_simple  # noqa: E402

BUCKET = "imageedit-test"
REGION = "us-east-1"


# The request target as sent (path and query, still percent-encoded), per request thread.
request_target = threading.local()
_create_aws_request = access_control.IAMRequestBase._create_aws_request


def _create_aws_request_as_sent(self):
    raw = getattr(request_target, "value", None)
    if raw:
        self._path = raw
    return _create_aws_request(self)


access_control.IAMRequestBase._create_aws_request = _create_aws_request_as_sent


def iam():
    return iam_backends[DEFAULT_ACCOUNT_ID]["aws"]


def s3():
    return s3_backends[DEFAULT_ACCOUNT_ID]["aws"]


def set_up():
    """The bucket and two users; returns the TEST_S3_* variables (without the endpoint)."""
    allow_all = json.dumps({"Version": "2012-10-17",
                            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    iam().create_user(REGION, "imageedit-test")
    iam().put_user_policy("imageedit-test", "s3-all", allow_all)
    writer = iam().create_access_key("imageedit-test")
    iam().create_user(REGION, "imageedit-no-access")
    outsider = iam().create_access_key("imageedit-no-access")
    s3().create_bucket(BUCKET, REGION)
    return {
        "TEST_S3_BUCKET": BUCKET,
        "TEST_S3_REGION": REGION,
        "TEST_S3_ACCESS_KEY_ID": writer.access_key_id,
        "TEST_S3_SECRET_ACCESS_KEY": writer.secret_access_key,
        "TEST_S3_NO_ACCESS_KEY_ID": outsider.access_key_id,
        "TEST_S3_NO_ACCESS_SECRET_ACCESS_KEY": outsider.secret_access_key,
    }


def s3_error(start_response, status, code, message):
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{escape(code)}</Code>'
            f"<Message>{escape(message)}</Message><RequestId>moto-presign</RequestId></Error>").encode()
    start_response(status, [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
    return [body]


class PresignedURLs:
    """WSGI middleware: checks presigned GETs, passes everything else to moto."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        query = environ.get("QUERY_STRING", "")
        params = parse_qsl(query, keep_blank_values=True)
        if "HTTP_AUTHORIZATION" not in environ and any(name == "X-Amz-Signature" for name, _ in params):
            return self.presigned(environ, start_response, dict(params), query)
        request_target.value = environ.get("RAW_URI") or environ.get("REQUEST_URI")
        try:
            return self.app(environ, start_response)
        finally:
            request_target.value = None

    def presigned(self, environ, start_response, params, query):
        if environ["REQUEST_METHOD"] != "GET":
            return s3_error(start_response, "403 Forbidden", "AccessDenied", "only presigned GETs are supported here")
        try:
            access_key, date, region, service, terminator = params["X-Amz-Credential"].split("/")
            stamp = params["X-Amz-Date"]
            issued = datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
            expires = int(params["X-Amz-Expires"])
            signature = params["X-Amz-Signature"]
            if (params["X-Amz-Algorithm"] != "AWS4-HMAC-SHA256" or service != "s3" or terminator != "aws4_request"
                    or date != stamp[:8] or not 1 <= expires <= 604800):
                raise ValueError
        except (KeyError, ValueError):
            return s3_error(start_response, "400 Bad Request", "AuthorizationQueryParametersError",
                            "malformed presigned URL parameters")
        secret = next((key.secret_access_key for key in iam().get_all_access_keys_for_all_users()
                       if key.access_key_id == access_key and key.status == "Active"), None)
        if secret is None:
            return s3_error(start_response, "403 Forbidden", "InvalidAccessKeyId",
                            "The AWS Access Key Id you provided does not exist in our records.")
        now = datetime.datetime.now(datetime.timezone.utc)
        if now > issued + datetime.timedelta(seconds=expires):
            return s3_error(start_response, "403 Forbidden", "AccessDenied", "Request has expired")

        # Recompute the signature with botocore over the path as sent and the query without it.
        host = environ["HTTP_HOST"]
        raw_path = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ["PATH_INFO"]
        raw_path = raw_path.split("?", 1)[0]
        unsigned_query = "&".join(part for part in query.split("&") if not part.startswith("X-Amz-Signature="))
        request = AWSRequest(method="GET", url=f"http://{host}{raw_path}?{unsigned_query}", headers={"host": host})
        request.context["timestamp"] = stamp
        auth = S3SigV4QueryAuth(Credentials(access_key, secret), "s3", region, expires=expires)
        canonical = auth.canonical_request(request)
        expected = auth.signature(auth.string_to_sign(request, canonical), request)
        if expected != signature:
            return s3_error(start_response, "403 Forbidden", "SignatureDoesNotMatch",
                            "The request signature we calculated does not match the signature you provided.")

        # Path-style only: /<bucket>/<key>.
        bucket, _, key_name = unquote(raw_path).lstrip("/").partition("/")
        obj = s3().get_object(bucket, key_name) if bucket in s3().buckets else None
        if obj is None:
            return s3_error(start_response, "404 Not Found", "NoSuchKey", "The specified key does not exist.")
        body = obj.value
        start_response("200 OK", [("Content-Type", obj.metadata.get("Content-Type", "binary/octet-stream")),
                                  ("Content-Length", str(len(body)))])
        return [body]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=54340)
    parser.add_argument("--env-file", required=True)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))

    variables = {"TEST_S3_ENDPOINT": f"http://{args.host}:{args.port}", **set_up()}
    temporary = args.env_file + ".tmp"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.writelines(f"{name}={value}\n" for name, value in variables.items())
    os.replace(temporary, args.env_file)

    app = PresignedURLs(DomainDispatcherApplication(create_backend_app))
    print(f"moto_server.py: S3 on http://{args.host}:{args.port}, bucket {BUCKET}", file=sys.stderr, flush=True)
    run_simple(args.host, args.port, app, threaded=True)


if __name__ == "__main__":
    main()
