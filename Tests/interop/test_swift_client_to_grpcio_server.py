"""Our Swift client (`rpc-interop client`) calls the stock grpcio server: the whole battery.

rpc-interop runs the checks itself, prints one line per check and a final
`N passed, N failed` line, and exits 0 only when every check passed.
"""

import re
import subprocess

import pytest

from conftest import grpcio_server_command, rpc_interop_path, start_peer

CLIENT_TIMEOUT_S = 300


@pytest.fixture(scope="module")
def grpcio_server(log_dir):
    # The reference server's default limit (64 MiB) is above our client's (32 MiB), so the
    # client's own receive limit is what the over-limit check exercises.
    peer = start_peer("grpcio-server", grpcio_server_command(), log_dir)
    yield peer
    peer.stop()


def test_swift_client_battery_passes_against_grpcio(grpcio_server):
    command = [str(rpc_interop_path()), "client", "--target", grpcio_server.target]
    result = subprocess.run(command, capture_output=True, text=True, timeout=CLIENT_TIMEOUT_S)
    output = f"$ {' '.join(command)}\n{result.stdout}\n--- stderr ---\n{result.stderr}\n--- grpcio server log ---\n{grpcio_server.log()}"
    summary = re.search(r"^(\d+) passed, (\d+) failed$", result.stdout, re.MULTILINE)
    assert summary, f"no 'N passed, N failed' line in the client's output\n{output}"
    assert result.returncode == 0, f"rpc-interop client exited {result.returncode}\n{output}"
    passed, failed = map(int, summary.groups())
    assert failed == 0 and passed > 0, output
    assert grpcio_server.process.poll() is None, f"the grpcio server exited\n{output}"
