#!/usr/bin/env python3
"""The reference peer: InteropService and grpc.health.v1.Health on stock grpcio.

Usage: grpcio_interop_server.py PORT [--max-message-bytes N] [--tls-cert PEM --tls-key PEM [--tls-client-ca PEM]]

Serves on 127.0.0.1:PORT (0 picks a free port) and prints `PORT <n>` as its first stdout
line, then runs until SIGTERM or SIGINT. The semantics follow the comments in
proto/imageedit/testing/v1/interop.proto; our Swift client runs its battery against this
server (test_swift_client_to_grpcio_server.py), and the grpcio client battery runs against
it too (test_grpcio_reference.py), which proves the battery itself. With --tls-cert and
--tls-key it serves TLS (grpcio negotiates ALPN h2); --tls-client-ca makes it require client
certificates signed by that CA (test_tls.py).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from concurrent import futures
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parent))
import stubs  # noqa: E402

pb = stubs.load()
interop_pb2, interop_pb2_grpc = pb.interop_pb2, pb.interop_pb2_grpc
health_pb2, health_pb2_grpc = pb.health_pb2, pb.health_pb2_grpc

SERVICE_NAME = "imageedit.testing.v1.InteropService"
DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024
CODES = {code.value[0]: code for code in grpc.StatusCode}
_PATTERN = bytes(range(251))


def pattern(size: int) -> bytes:
    """size bytes, byte i equal to i mod 251."""
    repeats = size // len(_PATTERN) + 1
    return (_PATTERN * repeats)[:size]


class InteropServicer(interop_pb2_grpc.InteropServiceServicer):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cancelled_calls = 0

    def Echo(self, request, context):
        return interop_pb2.EchoResponse(payload=request.payload, text=request.text)

    def Fail(self, request, context):
        if request.code == 0:
            return interop_pb2.FailResponse()
        code = CODES.get(request.code)
        if code is None:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"code {request.code} is outside 0..16")
        context.abort(code, request.message)

    def Slow(self, request, context):
        deadline = time.monotonic() + request.delay_ms / 1000
        while True:
            if not context.is_active():
                with self._lock:
                    self._cancelled_calls += 1
                return interop_pb2.SlowResponse(cancelled=True)
            left = deadline - time.monotonic()
            if left <= 0:
                return interop_pb2.SlowResponse(cancelled=False)
            time.sleep(min(left, 0.01))

    def Large(self, request, context):
        return interop_pb2.LargeResponse(
            payload=pattern(request.size_bytes),
            received_checksum=sum(request.payload) & 0xFFFFFFFF,
            received_bytes=len(request.payload),
        )

    def EchoMetadata(self, request, context):
        entries = []
        for key, value in context.invocation_metadata():
            if not key.startswith("x-"):
                continue
            data = value if isinstance(value, bytes) else value.encode("utf-8")
            entries.append(interop_pb2.MetadataEntry(key=key, value=data))
        return interop_pb2.EchoMetadataResponse(entries=entries)

    def GetCancellations(self, request, context):
        with self._lock:
            return interop_pb2.GetCancellationsResponse(cancelled_calls=self._cancelled_calls)


class HealthServicer(health_pb2_grpc.HealthServicer):
    """Check by hand; Watch is left to the generated base class (UNIMPLEMENTED)."""

    def __init__(self) -> None:
        serving = health_pb2.HealthCheckResponse.SERVING
        self._statuses = {"": serving, SERVICE_NAME: serving}

    def Check(self, request, context):
        status = self._statuses.get(request.service)
        if status is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"unknown service {request.service!r}")
        return health_pb2.HealthCheckResponse(status=status)


def make_server(port: int, max_message_bytes: int, credentials: grpc.ServerCredentials | None = None) -> tuple[grpc.Server, int]:
    options = [
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.max_send_message_length", max_message_bytes),
    ]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=100), options=options)
    interop_pb2_grpc.add_InteropServiceServicer_to_server(InteropServicer(), server)
    health_pb2_grpc.add_HealthServicer_to_server(HealthServicer(), server)
    if credentials is None:
        bound = server.add_insecure_port(f"127.0.0.1:{port}")
    else:
        bound = server.add_secure_port(f"127.0.0.1:{port}", credentials)
    if bound == 0:
        raise SystemExit(f"grpcio_interop_server: could not bind 127.0.0.1:{port}")
    return server, bound


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int, help="port to listen on; 0 picks a free one")
    parser.add_argument("--max-message-bytes", type=int, default=DEFAULT_MAX_MESSAGE_BYTES)
    parser.add_argument("--tls-cert", help="PEM certificate chain: serve TLS")
    parser.add_argument("--tls-key", help="PEM private key of --tls-cert")
    parser.add_argument("--tls-client-ca", help="PEM CA: require client certificates it signed")
    args = parser.parse_args(argv)

    credentials = None
    if args.tls_cert or args.tls_key:
        if not (args.tls_cert and args.tls_key):
            parser.error("--tls-cert and --tls-key go together")
        pair = (Path(args.tls_key).read_bytes(), Path(args.tls_cert).read_bytes())
        client_ca = Path(args.tls_client_ca).read_bytes() if args.tls_client_ca else None
        credentials = grpc.ssl_server_credentials([pair], root_certificates=client_ca, require_client_auth=client_ca is not None)
    server, port = make_server(args.port, args.max_message_bytes, credentials)
    server.start()
    print(f"PORT {port}", flush=True)

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    server.stop(grace=1).wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
