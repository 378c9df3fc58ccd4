"""The grpcio client battery: every interop check, written once, run against any server.

Subclasses (in the test_*.py files) provide a class-scoped `peer` fixture (a running server,
see conftest.PeerProcess) and say what differs about that server. The same battery runs
against our Swift server and against the grpcio reference server, which proves the battery.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import time

import grpc
import pytest

from conftest import wait_until

SERVICE = "imageedit.testing.v1.InteropService"
MIB = 1024 * 1024
_PATTERN = bytes(range(251))

# Unicode with characters from several planes, and a '%' that must survive percent-encoding.
UNICODE_TEXT = "héllo wörld ✓ — 日本語 🚀 100% sure"


def pattern(size: int) -> bytes:
    """size bytes, byte i equal to i mod 251 (what Large answers)."""
    return (_PATTERN * (size // len(_PATTERN) + 1))[:size]


def checksum(data: bytes) -> int:
    return sum(data) & 0xFFFFFFFF


class GrpcioClientBattery:
    """Tests shared by every server under test. Not collected itself (no Test prefix)."""

    #: The server's largest accepted message; the suite sends one byte-heavy message over it.
    server_max_message_bytes = 32 * MIB
    #: Whether the server answers a non-gRPC content-type with HTTP 415 (the gRPC spec's
    #: SHOULD). grpc-core accepts any content-type, so the reference server says False.
    rejects_non_grpc_content_type = True

    # --- fixtures ----------------------------------------------------------------------------

    @pytest.fixture(scope="class")
    def channel(self, peer):
        options = [
            ("grpc.max_receive_message_length", 64 * MIB),
            ("grpc.max_send_message_length", 64 * MIB),
        ]
        with grpc.insecure_channel(peer.target, options=options) as channel:
            grpc.channel_ready_future(channel).result(timeout=10)
            yield channel

    @pytest.fixture(scope="class")
    def stub(self, channel, pb):
        return pb.interop_pb2_grpc.InteropServiceStub(channel)

    @pytest.fixture(scope="class")
    def health(self, channel, pb):
        return pb.health_pb2_grpc.HealthStub(channel)

    @pytest.fixture(autouse=True)
    def _peer_still_running(self, peer):
        """Fails a test after which the server under test is no longer running (a crash)."""
        yield
        if peer.process.poll() is not None:
            pytest.fail(f"{peer.name} exited with code {peer.process.returncode}\n--- log ---\n{peer.log()}")

    def cancellations(self, stub, pb) -> int:
        return stub.GetCancellations(pb.interop_pb2.GetCancellationsRequest(), timeout=5).cancelled_calls

    # --- health ------------------------------------------------------------------------------

    @pytest.mark.parametrize("service", ["", SERVICE], ids=["server", "interop-service"])
    def test_health_check_serving(self, health, pb, service):
        response = health.Check(pb.health_pb2.HealthCheckRequest(service=service), timeout=5)
        assert response.status == pb.health_pb2.HealthCheckResponse.SERVING

    def test_health_check_unknown_service_is_not_found(self, health, pb):
        with pytest.raises(grpc.RpcError) as error:
            health.Check(pb.health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=5)
        assert error.value.code() == grpc.StatusCode.NOT_FOUND

    def test_health_watch_is_unimplemented(self, health, pb):
        with pytest.raises(grpc.RpcError) as error:
            next(iter(health.Watch(pb.health_pb2.HealthCheckRequest(service=""), timeout=5)))
        assert error.value.code() == grpc.StatusCode.UNIMPLEMENTED

    # --- Echo --------------------------------------------------------------------------------

    @pytest.mark.parametrize(
        "payload, text",
        [
            (b"hello", "small"),
            (b"", ""),
            (b"", UNICODE_TEXT),
            (bytes(range(256)), UNICODE_TEXT),
        ],
        ids=["small", "empty", "unicode", "all-bytes"],
    )
    def test_echo(self, stub, pb, payload, text):
        response = stub.Echo(pb.interop_pb2.EchoRequest(payload=payload, text=text), timeout=5)
        assert response.payload == payload
        assert response.text == text

    def test_fifty_concurrent_echoes_on_one_channel(self, stub, pb):
        requests = [pb.interop_pb2.EchoRequest(payload=bytes([i]) * (i + 1), text=f"call {i}") for i in range(50)]
        # All 50 are started before any result is read, so they are in flight together.
        futures = [stub.Echo.future(request, timeout=30) for request in requests]
        for request, future in zip(requests, futures):
            response = future.result(timeout=30)
            assert (response.payload, response.text) == (request.payload, request.text)

    # --- Fail --------------------------------------------------------------------------------

    @pytest.mark.parametrize("code", [c for c in grpc.StatusCode if c != grpc.StatusCode.OK], ids=lambda c: c.name)
    def test_fail_round_trips_code_and_unicode_message(self, stub, pb, code):
        message = f"{code.name}: {UNICODE_TEXT}"
        with pytest.raises(grpc.RpcError) as error:
            stub.Fail(pb.interop_pb2.FailRequest(code=code.value[0], message=message), timeout=5)
        assert error.value.code() == code
        assert error.value.details() == message

    def test_fail_with_code_zero_answers_ok(self, stub, pb):
        response = stub.Fail(pb.interop_pb2.FailRequest(code=0, message="ignored"), timeout=5)
        assert response == pb.interop_pb2.FailResponse()

    # --- Slow and cancellation ---------------------------------------------------------------

    def test_slow_answers_after_its_delay(self, stub, pb):
        response = stub.Slow(pb.interop_pb2.SlowRequest(delay_ms=50), timeout=10)
        assert response.cancelled is False

    def test_deadline_exceeded_reaches_the_handler(self, stub, pb):
        before = self.cancellations(stub, pb)
        with pytest.raises(grpc.RpcError) as error:
            stub.Slow(pb.interop_pb2.SlowRequest(delay_ms=5000), timeout=0.3)
        assert error.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        after = wait_until(lambda: self.cancellations(stub, pb) > before and self.cancellations(stub, pb), 5)
        assert after, "the server never observed the expired deadline (GetCancellations did not grow)"

    def test_client_cancellation_reaches_the_handler(self, stub, pb):
        before = self.cancellations(stub, pb)
        future = stub.Slow.future(pb.interop_pb2.SlowRequest(delay_ms=5000), timeout=30)
        # Give the request time to reach the handler; a cancel before that may never be seen.
        time.sleep(0.5)
        assert future.cancel(), "grpcio refused to cancel a running call"
        assert future.cancelled()
        after = wait_until(lambda: self.cancellations(stub, pb) > before and self.cancellations(stub, pb), 5)
        assert after, "the server never observed the client's cancellation (GetCancellations did not grow)"

    # --- Large messages ----------------------------------------------------------------------

    def test_large_eight_mib_both_directions(self, stub, pb):
        size = 8 * MIB
        sent = bytes(reversed(pattern(size)))
        response = stub.Large(pb.interop_pb2.LargeRequest(size_bytes=size, payload=sent), timeout=60)
        assert response.received_bytes == size
        assert response.received_checksum == checksum(sent)
        assert len(response.payload) == size
        assert response.payload == pattern(size)

    def test_request_over_the_server_limit_is_resource_exhausted(self, stub, pb):
        payload = bytes(self.server_max_message_bytes + MIB)
        with pytest.raises(grpc.RpcError) as error:
            stub.Large(pb.interop_pb2.LargeRequest(size_bytes=0, payload=payload), timeout=60)
        assert error.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED

    def test_response_over_the_server_limit_is_resource_exhausted(self, stub, pb):
        with pytest.raises(grpc.RpcError) as error:
            stub.Large(pb.interop_pb2.LargeRequest(size_bytes=self.server_max_message_bytes + MIB), timeout=60)
        assert error.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED

    def test_server_still_serves_after_oversized_messages(self, stub, pb):
        response = stub.Echo(pb.interop_pb2.EchoRequest(text="still here"), timeout=5)
        assert response.text == "still here"

    # --- metadata ----------------------------------------------------------------------------

    def test_echo_metadata_text_and_binary(self, stub, pb):
        sent = [
            ("x-text", "hello, world"),
            ("x-bytes-bin", bytes([0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF])),
            ("x-repeated", "first"),
            ("x-repeated", "second"),
            ("x-empty-bin", b""),
            ("other-key", "not echoed: no x- prefix"),
        ]
        response = stub.EchoMetadata(pb.interop_pb2.EchoMetadataRequest(), metadata=sent, timeout=5)
        received = [(entry.key, entry.value) for entry in response.entries]
        expected = [(k, v if isinstance(v, bytes) else v.encode()) for k, v in sent if k.startswith("x-")]
        assert received == expected

    # --- protocol errors ---------------------------------------------------------------------

    @pytest.mark.parametrize(
        "path",
        [f"/{SERVICE}/Nope", "/no.such.v1.Service/Echo"],
        ids=["unknown-method", "unknown-service"],
    )
    def test_unknown_method_is_unimplemented(self, channel, path):
        call = channel.unary_unary(path)  # no serializers: raw bytes in and out
        with pytest.raises(grpc.RpcError) as error:
            call(b"", timeout=5)
        assert error.value.code() == grpc.StatusCode.UNIMPLEMENTED

    def test_non_grpc_content_type_is_http_415(self, peer):
        if not self.rejects_non_grpc_content_type:
            pytest.skip("this server accepts any content-type (grpc-core does)")
        status = raw_http2_status(peer.target, f"/{SERVICE}/Echo", content_type="text/plain", body=b"\0\0\0\0\0")
        assert status == 415


def raw_http2_status(target: str, path: str, content_type: str, body: bytes) -> int:
    """Sends one POST over cleartext HTTP/2 (prior knowledge) with the nghttp CLI; returns :status."""
    with tempfile.NamedTemporaryFile(suffix=".body") as file:
        file.write(body)
        file.flush()
        result = subprocess.run(
            ["nghttp", "-v", "-n", "-t", "10", "-H", f"content-type: {content_type}", "-H", "te: trailers",
             "-d", file.name, f"http://{target}{path}"],
            capture_output=True,
            timeout=30,
        )
    output = result.stdout.decode(errors="replace") + result.stderr.decode(errors="replace")
    match = re.search(r"recv \(stream_id=\d+\) :status: (\d+)", output)
    assert match, f"no :status in nghttp's output (exit {result.returncode}):\n{output}"
    return int(match.group(1))
