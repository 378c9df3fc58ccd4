"""The grpcio client battery against the grpcio reference server.

Proves the battery and the reference server agree with stock gRPC before either is used to
judge our code. Started with our server's default message limit, so the limit checks match.
"""

import pytest

from battery import MIB, GrpcioClientBattery
from conftest import grpcio_server_command, start_peer


class TestGrpcioReferenceServer(GrpcioClientBattery):
    server_max_message_bytes = 32 * MIB
    rejects_non_grpc_content_type = False

    @pytest.fixture(scope="class")
    def peer(self, log_dir):
        peer = start_peer(
            "grpcio-reference-server",
            grpcio_server_command("--max-message-bytes", str(self.server_max_message_bytes)),
            log_dir,
        )
        yield peer
        peer.stop()
