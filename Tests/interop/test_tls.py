"""TLS interop, both directions: stock grpcio against our TLS server, our TLS client against a
grpcio TLS server. Certificates are made at test time (tls_certs.py); clients verify the server
against the CA and the host they dial, ALPN is h2, and mutual TLS refuses clients without a
certificate from the client CA.
"""

from __future__ import annotations

import re
import subprocess

import grpc
import pytest

import tls_certs
from battery import MIB, GrpcioClientBattery
from conftest import grpcio_server_command, rpc_interop_path, start_peer

CLIENT_TIMEOUT_S = 300
SERVICE = "imageedit.testing.v1.InteropService"


@pytest.fixture(scope="session")
def certs(tmp_path_factory) -> tls_certs.Certificates:
    return tls_certs.generate(tmp_path_factory.mktemp("tls"))


def credentials(certs: tls_certs.Certificates, ca: str = "ca", client: str | None = None) -> grpc.ChannelCredentials:
    """grpcio channel credentials trusting `ca`, presenting the `client` certificate if named."""
    if client is None:
        return grpc.ssl_channel_credentials(root_certificates=certs.read(ca))
    return grpc.ssl_channel_credentials(
        root_certificates=certs.read(ca), private_key=certs.read(client, "key"), certificate_chain=certs.read(client))


def health_check(target: str, creds: grpc.ChannelCredentials, pb, timeout: float = 10):
    with grpc.secure_channel(target, creds) as channel:
        stub = pb.health_pb2_grpc.HealthStub(channel)
        return stub.Check(pb.health_pb2.HealthCheckRequest(service=""), timeout=timeout)


def swift_serve(certs, log_dir, name: str, mutual: bool = False):
    command = [str(rpc_interop_path()), "serve", "--port", "0", "--tls-cert", certs.path("server"), "--tls-key", certs.path("server", "key")]
    if mutual:
        command += ["--tls-client-ca", certs.path("ca")]
    return start_peer(name, command, log_dir)


# --- grpcio client → our TLS server ------------------------------------------------------------


class TestSwiftServerOverTLS(GrpcioClientBattery):
    """The whole grpcio battery against `rpc-interop serve` with TLS."""

    server_max_message_bytes = 32 * MIB

    @pytest.fixture(scope="class")
    def peer(self, certs, log_dir):
        peer = swift_serve(certs, log_dir, "rpc-interop-serve-tls")
        yield peer
        peer.stop()
        assert peer.process.returncode == 0, f"rpc-interop serve did not exit cleanly (code {peer.process.returncode})\n{peer.log()}"

    @pytest.fixture(scope="class")
    def channel(self, peer, certs):
        options = [("grpc.max_receive_message_length", 64 * MIB), ("grpc.max_send_message_length", 64 * MIB)]
        with grpc.secure_channel(peer.target, credentials(certs), options=options) as channel:
            grpc.channel_ready_future(channel).result(timeout=10)
            yield channel

    def test_non_grpc_content_type_is_http_415(self, peer):
        pytest.skip("the raw nghttp check speaks cleartext h2c; test_grpcio_client_to_swift_server.py runs it")


@pytest.fixture(scope="module")
def swift_tls_server(certs, log_dir):
    peer = swift_serve(certs, log_dir, "rpc-interop-serve-tls-checks")
    yield peer
    peer.stop()


@pytest.fixture(scope="module")
def swift_mtls_server(certs, log_dir):
    peer = swift_serve(certs, log_dir, "rpc-interop-serve-mtls", mutual=True)
    yield peer
    peer.stop()


def test_grpcio_reaches_our_server_by_host_name(swift_tls_server, certs, pb):
    response = health_check(f"localhost:{swift_tls_server.port}", credentials(certs), pb)
    assert response.status == pb.health_pb2.HealthCheckResponse.SERVING


def test_grpcio_refuses_our_server_when_it_trusts_another_ca(swift_tls_server, certs, pb):
    with pytest.raises(grpc.RpcError) as error:
        health_check(swift_tls_server.target, credentials(certs, ca="other-ca"), pb, timeout=5)
    assert error.value.code() == grpc.StatusCode.UNAVAILABLE
    # The server survives the refused handshake.
    assert health_check(swift_tls_server.target, credentials(certs), pb).status == pb.health_pb2.HealthCheckResponse.SERVING


def test_grpcio_cleartext_client_cannot_call_our_tls_server(swift_tls_server, pb):
    with grpc.insecure_channel(swift_tls_server.target) as channel:
        stub = pb.health_pb2_grpc.HealthStub(channel)
        with pytest.raises(grpc.RpcError) as error:
            stub.Check(pb.health_pb2.HealthCheckRequest(service=""), timeout=5)
    assert error.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


def test_openssl_client_without_alpn_h2_is_refused(swift_tls_server, certs):
    """ALPN must agree on h2: a client offering only http/1.1 gets no connection."""
    result = subprocess.run(
        ["openssl", "s_client", "-connect", swift_tls_server.target, "-CAfile", certs.path("ca"), "-alpn", "http/1.1", "-brief"],
        input="", capture_output=True, text=True, timeout=30)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "no application protocol" in output, output


def test_mutual_tls_serves_a_client_with_a_trusted_certificate(swift_mtls_server, certs, pb):
    response = health_check(swift_mtls_server.target, credentials(certs, client="client"), pb)
    assert response.status == pb.health_pb2.HealthCheckResponse.SERVING


@pytest.mark.parametrize("client", [None, "other-client"], ids=["no-certificate", "untrusted-certificate"])
def test_mutual_tls_refuses_other_clients(swift_mtls_server, certs, pb, client):
    with pytest.raises(grpc.RpcError) as error:
        health_check(swift_mtls_server.target, credentials(certs, client=client), pb, timeout=5)
    assert error.value.code() == grpc.StatusCode.UNAVAILABLE
    assert swift_mtls_server.process.poll() is None, swift_mtls_server.log()


# --- our TLS client → grpcio TLS server --------------------------------------------------------


@pytest.fixture(scope="module")
def grpcio_tls_server(certs, log_dir):
    peer = start_peer("grpcio-server-tls", grpcio_server_command("--tls-cert", certs.path("server"), "--tls-key", certs.path("server", "key")), log_dir)
    yield peer
    peer.stop()


@pytest.fixture(scope="module")
def grpcio_mtls_server(certs, log_dir):
    peer = start_peer(
        "grpcio-server-mtls",
        grpcio_server_command("--tls-cert", certs.path("server"), "--tls-key", certs.path("server", "key"), "--tls-client-ca", certs.path("ca")),
        log_dir)
    yield peer
    peer.stop()


def run_swift_client(target: str, *tls: str) -> tuple[subprocess.CompletedProcess, str, tuple[int, int] | None]:
    command = [str(rpc_interop_path()), "client", "--target", target, *tls]
    result = subprocess.run(command, capture_output=True, text=True, timeout=CLIENT_TIMEOUT_S)
    output = f"$ {' '.join(command)}\n{result.stdout}\n--- stderr ---\n{result.stderr}"
    summary = re.search(r"^(\d+) passed, (\d+) failed$", result.stdout, re.MULTILINE)
    return result, output, tuple(map(int, summary.groups())) if summary else None


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_swift_client_battery_passes_against_grpcio_over_tls(grpcio_tls_server, certs, host):
    result, output, summary = run_swift_client(f"{host}:{grpcio_tls_server.port}", "--tls-ca", certs.path("ca"))
    output += f"\n--- grpcio server log ---\n{grpcio_tls_server.log()}"
    assert summary, f"no 'N passed, N failed' line\n{output}"
    passed, failed = summary
    assert result.returncode == 0 and failed == 0 and passed > 0, output


def test_swift_client_refuses_a_server_from_an_untrusted_ca(grpcio_tls_server, certs):
    result, output, summary = run_swift_client(grpcio_tls_server.target, "--tls-ca", certs.path("other-ca"))
    assert result.returncode == 1, output
    assert summary and summary[0] == 0, output
    assert f"TLS handshake with {grpcio_tls_server.target} failed: certificate verify failed" in output, output


def test_swift_client_with_a_certificate_passes_grpcio_mutual_tls(grpcio_mtls_server, certs):
    result, output, summary = run_swift_client(
        grpcio_mtls_server.target, "--tls-ca", certs.path("ca"), "--tls-cert", certs.path("client"), "--tls-key", certs.path("client", "key"))
    output += f"\n--- grpcio server log ---\n{grpcio_mtls_server.log()}"
    assert summary, output
    passed, failed = summary
    assert result.returncode == 0 and failed == 0 and passed > 0, output


def test_swift_client_without_a_certificate_is_refused_by_grpcio_mutual_tls(grpcio_mtls_server, certs):
    result, output, summary = run_swift_client(grpcio_mtls_server.target, "--tls-ca", certs.path("ca"))
    assert result.returncode == 1, output
    assert summary and summary[0] == 0, output
    assert "UNAVAILABLE" in output, output
