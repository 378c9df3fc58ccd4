"""`imageedit healthcheck HOST:PORT [SERVICE]`, the probe compose/docker-compose.yml runs as the
internal services' health check, against a stock grpcio server's grpc.health.v1.Health: exit 0
only on SERVING, 1 on any other status, an error answer or nobody listening, 2 on bad usage.
"""

from __future__ import annotations

import subprocess
from concurrent import futures

import grpc
import pytest

from test_grpcio_client_to_auth_service import free_port, imageedit_path

PROBE_TIMEOUT_S = 30


@pytest.fixture(scope="module")
def health_server(pb):
    """A grpcio Health service: "" and "up" SERVING, "down" NOT_SERVING, anything else NOT_FOUND."""
    statuses = {
        "": pb.health_pb2.HealthCheckResponse.SERVING,
        "up": pb.health_pb2.HealthCheckResponse.SERVING,
        "down": pb.health_pb2.HealthCheckResponse.NOT_SERVING,
    }

    class Health(pb.health_pb2_grpc.HealthServicer):
        def Check(self, request, context):
            if request.service not in statuses:
                context.abort(grpc.StatusCode.NOT_FOUND, "unknown service")
            return pb.health_pb2.HealthCheckResponse(status=statuses[request.service])

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    pb.health_pb2_grpc.add_HealthServicer_to_server(Health(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop(grace=None)


def probe(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(imageedit_path()), "healthcheck", *arguments],
                          capture_output=True, text=True, timeout=PROBE_TIMEOUT_S)


@pytest.mark.parametrize("service", [None, "up"])
def test_serving_exits_0(health_server, service):
    result = probe(health_server, *([service] if service else []))
    assert result.returncode == 0, result
    assert result.stdout.strip() == "SERVING"


@pytest.mark.parametrize("service, expected_output", [
    ("down", "not serving"),
    ("unknown", "NOT_FOUND"),
])
def test_not_serving_or_unknown_exits_1(health_server, service, expected_output):
    result = probe(health_server, service)
    assert result.returncode == 1, result
    assert expected_output in result.stdout


def test_nobody_listening_exits_1():
    result = probe(f"127.0.0.1:{free_port()}")
    assert result.returncode == 1, result
    assert "UNAVAILABLE" in result.stdout


@pytest.mark.parametrize("arguments", [(), ("no-port",), ("127.0.0.1:50051", "a", "b")])
def test_bad_usage_exits_2(arguments):
    result = probe(*arguments)
    assert result.returncode == 2, result
    assert "usage: imageedit healthcheck" in result.stderr
