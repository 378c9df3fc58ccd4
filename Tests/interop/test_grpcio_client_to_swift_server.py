"""A stock grpcio client calls our Swift server (`rpc-interop serve`): the whole battery."""

import pytest

from battery import MIB, GrpcioClientBattery
from conftest import rpc_interop_path, start_peer


class TestSwiftServer(GrpcioClientBattery):
    server_max_message_bytes = 32 * MIB  # RPCServer.Configuration's default
    rejects_non_grpc_content_type = True

    @pytest.fixture(scope="class")
    def peer(self, log_dir):
        peer = start_peer("rpc-interop-serve", [str(rpc_interop_path()), "serve", "--port", "0"], log_dir)
        yield peer
        peer.stop()
        assert peer.process.returncode == 0, (
            f"rpc-interop serve did not exit cleanly on SIGTERM (code {peer.process.returncode})\n{peer.log()}"
        )
