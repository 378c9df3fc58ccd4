"""Shared fixtures for the interop suite: generated stubs, and peer servers as subprocesses.

Environment:
  RPC_INTEROP          path of our rpc-interop executable (default: .build/debug/rpc-interop)
  INTEROP_STUBS_DIR    keep the generated Python stubs in this folder (default: a temp dir)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
# battery.py holds the shared tests but is not a test_*.py file: ask pytest to rewrite its
# asserts too, so failures show both sides.
pytest.register_assert_rewrite("battery")

import stubs  # noqa: E402

REPO_ROOT = stubs.REPO_ROOT
STARTUP_TIMEOUT_S = 30.0


def rpc_interop_path() -> Path:
    """Our interop executable; fails the test (never skips) when it has not been built."""
    path = Path(os.environ.get("RPC_INTEROP", REPO_ROOT / ".build" / "debug" / "rpc-interop"))
    if not path.is_file():
        pytest.fail(f"{path} does not exist: build it first (make build, or swift build --product rpc-interop)")
    return path


@dataclass
class PeerProcess:
    """A server started as a subprocess that announced `PORT <n>` on its first stdout line."""

    name: str
    process: subprocess.Popen
    port: int
    log_path: Path
    output: list[str] = field(default_factory=list)

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def log(self) -> str:
        """Everything the process wrote so far (stdout after the PORT line, and stderr)."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start_peer(name: str, command: list[str], log_dir: Path) -> PeerProcess:
    """Starts `command`, waits for its `PORT <n>` line, and returns the running peer.

    stderr and any later stdout go to a log file, shown when startup fails.
    """
    log_path = log_dir / f"{name}.log"
    log_file = open(log_path, "w")
    process = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=log_file,
        text=True,
        bufsize=1,
    )
    first_line: list[str] = []
    reader = threading.Thread(target=lambda: first_line.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(STARTUP_TIMEOUT_S)
    line = first_line[0].strip() if first_line else ""
    if not line.startswith("PORT "):
        if process.poll() is None:
            process.kill()
        process.wait(timeout=5)
        log_file.close()
        pytest.fail(
            f"{name} did not print 'PORT <n>' within {STARTUP_TIMEOUT_S:.0f}s "
            f"(first line: {line!r}, exit code: {process.returncode})\n"
            f"command: {' '.join(map(str, command))}\n--- log ---\n{log_path.read_text(errors='replace')}"
        )
    port = int(line.split()[1])

    # Keep draining stdout into the log so the process never blocks on a full pipe.
    def drain() -> None:
        for rest in process.stdout:
            log_file.write(rest)
            log_file.flush()
        log_file.close()

    threading.Thread(target=drain, daemon=True).start()
    return PeerProcess(name=name, process=process, port=port, log_path=log_path)


@pytest.fixture(scope="session")
def pb():
    """The generated stubs: pb.interop_pb2(_grpc), pb.health_pb2(_grpc), pb.auth_pb2(_grpc)."""
    return stubs.load()


@pytest.fixture(scope="session")
def log_dir():
    with tempfile.TemporaryDirectory(prefix="interop-logs-") as path:
        yield Path(path)


def grpcio_server_command(*extra: str) -> list[str]:
    return [sys.executable, str(HERE / "grpcio_interop_server.py"), "0", *extra]


def wait_until(predicate, timeout_s: float = 5.0, interval_s: float = 0.05):
    """Polls `predicate` until it returns a truthy value or the timeout passes; returns the last value."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval_s)
