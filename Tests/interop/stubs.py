"""Python stubs for the interop and service protos, generated at run time from proto/ (never committed).

`load()` runs grpc_tools.protoc once per process into a temporary folder, puts that folder
on sys.path and returns the generated modules. Set INTEROP_STUBS_DIR to generate into (and
keep) a fixed folder instead.

Each proto is compiled with its own folder as the include path, so the modules are the
top-level `interop_pb2`, `health_pb2` and `auth_pb2`: with `-I proto` the health stubs would be
`grpc.health.v1.health_pb2`, a name inside the installed grpcio package. The proto package
names, and so the method paths on the wire (/grpc.health.v1.Health/Check), are unchanged.
"""

from __future__ import annotations

import atexit
import importlib
import os
import shutil
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

REPO_ROOT = Path(__file__).resolve().parents[2]
PROTO_DIR = REPO_ROOT / "proto"
PROTO_FILES = (
    PROTO_DIR / "imageedit" / "testing" / "v1" / "interop.proto",
    PROTO_DIR / "grpc" / "health" / "v1" / "health.proto",
    PROTO_DIR / "imageedit" / "auth" / "v1" / "auth.proto",
    PROTO_DIR / "imageedit" / "storage" / "v1" / "storage.proto",
    PROTO_DIR / "imageedit" / "edit" / "v1" / "edit.proto",
)

_loaded: SimpleNamespace | None = None


def generate(out_dir: Path) -> None:
    """Writes interop_pb2(_grpc).py, health_pb2(_grpc).py and auth_pb2(_grpc).py into out_dir."""
    from grpc_tools import protoc  # imported here so a missing grpcio-tools fails clearly

    for proto in PROTO_FILES:
        args = [
            "grpc_tools.protoc",
            f"-I{proto.parent}",
            f"--python_out={out_dir}",
            f"--grpc_python_out={out_dir}",
            str(proto),
        ]
        if protoc.main(args) != 0:
            raise RuntimeError(f"protoc failed: {' '.join(args)}")


def load() -> SimpleNamespace:
    """Generates (once per process) and imports the stubs.

    Returns a namespace with `interop_pb2`, `interop_pb2_grpc`, `health_pb2`, `health_pb2_grpc`,
    `auth_pb2`, `auth_pb2_grpc`.
    """
    global _loaded
    if _loaded is not None:
        return _loaded
    fixed = os.environ.get("INTEROP_STUBS_DIR")
    if fixed:
        out_dir = Path(fixed)
        out_dir.mkdir(parents=True, exist_ok=True)
    else:
        out_dir = Path(tempfile.mkdtemp(prefix="interop-stubs-"))
        atexit.register(shutil.rmtree, out_dir, ignore_errors=True)
    generate(out_dir)
    sys.path.insert(0, str(out_dir))
    names = ("interop_pb2", "interop_pb2_grpc", "health_pb2", "health_pb2_grpc", "auth_pb2", "auth_pb2_grpc",
             "storage_pb2", "storage_pb2_grpc", "edit_pb2", "edit_pb2_grpc")
    _loaded = SimpleNamespace(**{name: importlib.import_module(name) for name in names})
    return _loaded
