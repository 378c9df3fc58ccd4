"""The real services over TLS: `imageedit auth` and `imageedit storage` as processes with the
TLS_* variables, called by stock grpcio with `grpc.ssl_channel_credentials`; storage verifies
auth's certificate on its own calls (TLS_CA_FILE), and both require client certificates
(TLS_CLIENT_CA_FILE). Also: TLS settings that cannot work stop a service at start with one line
naming the variable.
"""

from __future__ import annotations

import subprocess
import tempfile

import grpc
import pytest

from test_grpcio_client_to_auth_service import (  # noqa: F401  (fixtures are used by name)
    CRASH_MARKERS, RPC_TIMEOUT_S, database_url, free_port, login, register, run_to_exit, service_environment, start_imageedit,
    stop_process,
)
from test_tls import certs, credentials  # noqa: F401

AUTH_SERVICE = "imageedit.auth.v1.AuthService"
STORAGE_SERVICE = "imageedit.storage.v1.StorageService"


def tls_environment(certs) -> dict[str, str]:
    return {
        "TLS_CERT_FILE": certs.path("server"), "TLS_KEY_FILE": certs.path("server", "key"), "TLS_CA_FILE": certs.path("ca"),
        "TLS_CLIENT_CA_FILE": certs.path("ca"),
        "TLS_CLIENT_CERT_FILE": certs.path("client"), "TLS_CLIENT_KEY_FILE": certs.path("client", "key"),
    }


def start(pb, name: str, service: str, environment: dict[str, str], port: int, creds, log_dir, cwd: str) -> subprocess.Popen:
    return start_imageedit(pb, name, environment, port, service, log_dir / f"imageedit-{name}-tls.log", cwd, creds)


@pytest.fixture(scope="module")
def tls_services(pb, database_url, certs, log_dir):  # noqa: F811
    with tempfile.TemporaryDirectory(prefix="tls-services-") as data_dir:
        auth_port, storage_port = free_port(), free_port()
        mtls = credentials(certs, client="client")
        auth = start(pb, "auth", AUTH_SERVICE,
                     service_environment(database_url, data_dir, AUTH_PORT=str(auth_port), **tls_environment(certs)),
                     auth_port, mtls, log_dir, data_dir)
        try:
            storage = start(pb, "storage", STORAGE_SERVICE,
                            service_environment(database_url, data_dir, STORAGE_PORT=str(storage_port), AUTH_ADDRESS=f"localhost:{auth_port}",
                                                STORAGE_DIR=f"{data_dir}/blobs", **tls_environment(certs)),
                            storage_port, mtls, log_dir, data_dir)
            yield auth_port, storage_port
            stop_process(storage)
            assert storage.returncode == 0
        finally:
            stop_process(auth)
        assert auth.returncode == 0


def test_register_login_and_an_authenticated_storage_call_over_mutual_tls(pb, certs, tls_services):
    auth_port, storage_port = tls_services
    mtls = credentials(certs, client="client")
    with grpc.secure_channel(f"127.0.0.1:{auth_port}", mtls) as channel:
        stub = pb.auth_pb2_grpc.AuthServiceStub(channel)
        account = register(pb, stub)
        token = login(pb, stub, account).tokens.access_token
    # Storage checks the token with keys it fetches from auth over (mutual) TLS.
    with grpc.secure_channel(f"localhost:{storage_port}", mtls) as channel:
        storage = pb.storage_pb2_grpc.StorageServiceStub(channel)
        reply = storage.ListImages(pb.storage_pb2.ListImagesRequest(page_size=5), metadata=[("authorization", f"Bearer {token}")],
                                   timeout=RPC_TIMEOUT_S)
        assert reply.total_count == 0


@pytest.mark.parametrize("client", [None, "other-client"], ids=["no-certificate", "untrusted-certificate"])
def test_services_refuse_clients_without_a_trusted_certificate(pb, certs, tls_services, client):
    auth_port, _ = tls_services
    with grpc.secure_channel(f"127.0.0.1:{auth_port}", credentials(certs, client=client)) as channel:
        health = pb.health_pb2_grpc.HealthStub(channel)
        with pytest.raises(grpc.RpcError) as error:
            health.Check(pb.health_pb2.HealthCheckRequest(service=""), timeout=5)
    assert error.value.code() == grpc.StatusCode.UNAVAILABLE


@pytest.mark.parametrize(
    "command, settings, variable",
    [
        ("auth", {"TLS_CERT_FILE": "/nonexistent/server.pem", "TLS_KEY_FILE": "/nonexistent/server.key"}, "TLS_CERT_FILE"),
        ("auth", {"TLS_CERT_FILE": "server"}, "TLS_KEY_FILE"),
        ("auth", {"TLS_CERT_FILE": "server", "TLS_KEY_FILE": "client.key"}, "TLS_KEY_FILE"),
        # Only callers load the CA file: storage calls auth.
        ("storage", {"TLS_CA_FILE": "server.key"}, "TLS_CA_FILE"),
    ],
    ids=["missing-certificate", "key-not-set", "key-of-another-certificate", "ca-file-not-a-certificate"],
)
def test_unusable_tls_settings_stop_the_service_with_one_line(database_url, certs, command, settings, variable):  # noqa: F811
    resolved = {}
    for key, value in settings.items():
        if value.startswith("/"):
            resolved[key] = value
        elif "." in value:
            stem, suffix = value.split(".")
            resolved[key] = certs.path(stem, suffix)
        else:
            resolved[key] = certs.path(value)
    with tempfile.TemporaryDirectory(prefix="tls-config-") as data_dir:
        environment = service_environment(database_url, data_dir, AUTH_PORT=str(free_port()), STORAGE_PORT=str(free_port()),
                                          STORAGE_DIR=f"{data_dir}/blobs", **resolved)
        result = run_to_exit(environment, data_dir, command=command)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"imageedit {command}: configuration error: {variable} "), result.stderr
    assert not any(marker in result.stderr for marker in CRASH_MARKERS), result.stderr
    assert "BEGIN" not in result.stderr, "no file contents in the message"
