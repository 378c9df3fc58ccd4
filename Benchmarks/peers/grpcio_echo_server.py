#!/usr/bin/env python3
"""grpcio peer for the Echo benchmark.

Serves /imageedit.testing.v1.InteropService/Echo over cleartext HTTP/2 and answers with
the request message's bytes unchanged. EchoRequest and EchoResponse have the same field
layout, so the echoed bytes are a correct EchoResponse; no generated code is needed: the
method is registered with a generic handler whose (de)serializers are the identity.

    python3 grpcio_echo_server.py --port N [--host 127.0.0.1] [--aio] [--workers W]

--aio uses grpc.aio (asyncio) instead of the thread-pool server. Message limits are
64 MiB both ways, so multi-MiB payloads work. Runs until SIGINT/SIGTERM.
"""

import argparse
import asyncio
import signal
import sys
from concurrent import futures

import grpc

SERVICE = "imageedit.testing.v1.InteropService"
MAX_MESSAGE = 64 * 1024 * 1024
OPTIONS = [
    ("grpc.max_receive_message_length", MAX_MESSAGE),
    ("grpc.max_send_message_length", MAX_MESSAGE),
]


def echo(request: bytes, context) -> bytes:
    return request


async def echo_async(request: bytes, context) -> bytes:
    return request


def handler(fn) -> grpc.GenericRpcHandler:
    # None as (de)serializer means the raw message bytes are passed through.
    method = grpc.unary_unary_rpc_method_handler(
        fn, request_deserializer=None, response_serializer=None
    )
    return grpc.method_handlers_generic_handler(SERVICE, {"Echo": method})


def serve_sync(address: str, workers: int) -> None:
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=workers),
        handlers=[handler(echo)],
        options=OPTIONS,
    )
    if server.add_insecure_port(address) == 0:
        sys.exit(f"grpcio_echo_server: cannot bind {address}")
    server.start()
    print(f"grpcio_echo_server (sync, {workers} workers) listening on {address}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: server.stop(0))
    try:
        server.wait_for_termination()
    except KeyboardInterrupt:
        server.stop(0)


async def serve_aio(address: str) -> None:
    server = grpc.aio.server(handlers=[handler(echo_async)], options=OPTIONS)
    if server.add_insecure_port(address) == 0:
        sys.exit(f"grpcio_echo_server: cannot bind {address}")
    await server.start()
    print(f"grpcio_echo_server (aio) listening on {address}", flush=True)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lambda: asyncio.ensure_future(server.stop(0)))
    await server.wait_for_termination()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--aio", action="store_true", help="use grpc.aio instead of threads")
    parser.add_argument("--workers", type=int, default=16, help="thread pool size (sync)")
    args = parser.parse_args()
    address = f"{args.host}:{args.port}"
    if args.aio:
        asyncio.run(serve_aio(address))
    else:
        serve_sync(address, args.workers)


if __name__ == "__main__":
    main()
