#!/usr/bin/env bash
# Installs what building and testing need, and nothing when it is already there.
#
#   system (apt):  C libraries the shims link (nghttp2, curl, libpq, OpenSSL), pkg-config,
#                  the nghttp CLI (raw HTTP/2 requests in the interop suite), PostgreSQL,
#                  the openssl CLI (the TLS tests make their certificates with it),
#                  docker-compose (make compose-config validates compose/docker-compose.yml)
#   Python (pip):  grpcio and grpcio-tools (the stock gRPC peer of the interop suite),
#                  protobuf, pytest, moto[server] (the local S3 of the Swift tests, scripts/moto.sh),
#                  cryptography (Ed25519: the suite checks token signatures),
#                  schemathesis (scripts/schemathesis.sh: the live gateway against its OpenAPI document)
#
# Idempotent and quick on a machine that has everything: each part is checked first
# (dpkg -s, a Python import), apt-get update runs only when a package is missing.
# Runs as root (CI, a fresh Debian 12) or through sudo when available.
set -euo pipefail

APT_PACKAGES=(
    libnghttp2-dev
    libcurl4-openssl-dev
    libpq-dev
    libssl-dev
    openssl
    pkg-config
    nghttp2-client
    postgresql
    libvips-dev
    libdeflate-dev
    docker-compose
)

# Minimum versions, not pins: the suite generates its Python stubs at test time with whatever
# grpcio-tools is installed, and grpcio-tools itself requires a matching protobuf. 1.60 and
# 4.25 are a floor old enough for any recent Debian/pip and new enough for the APIs used.
PIP_REQUIREMENTS=(
    "grpcio>=1.60"
    "grpcio-tools>=1.60"
    "protobuf>=4.25"
    "pytest>=7.4"
    "moto[server]>=5.0"
    "cryptography>=41"
    # Pinned: its checks and CLI options change between minor versions (4.32.5 runs on Python 3.11).
    "schemathesis==4.32.5"
)

log() { printf 'install-deps: %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        log "need root to run: $*"
        exit 1
    fi
}

# --- Swift ---------------------------------------------------------------------------------
if ! command -v swift >/dev/null 2>&1; then
    if [ -x /opt/swift/usr/bin/swift ]; then
        log "swift is at /opt/swift/usr/bin but not on PATH; add it: export PATH=/opt/swift/usr/bin:\$PATH"
    else
        log "warning: no Swift toolchain found (expected swift on PATH or /opt/swift/usr/bin)"
    fi
fi

# --- apt -----------------------------------------------------------------------------------
missing=()
for package in "${APT_PACKAGES[@]}"; do
    if ! dpkg -s "$package" 2>/dev/null | grep -q '^Status: install ok installed'; then
        missing+=("$package")
    fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    log "apt: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
    log "apt: all packages present"
fi

# --- pip -----------------------------------------------------------------------------------
PYTHON="${PYTHON:-python3}"
if ! command -v "$PYTHON" >/dev/null 2>&1; then
    log "apt: installing python3 and pip"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3 python3-pip
fi

# Exits 0 when every requirement is importable at a satisfying version.
python_ready() {
    "$PYTHON" - "${PIP_REQUIREMENTS[@]}" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version, PackageNotFoundError

def parse(text):
    return tuple(int(part) for part in text.split(".")[:3] if part.isdigit())

for requirement in sys.argv[1:]:
    exact = "==" in requirement
    name, _, wanted = requirement.partition("==" if exact else ">=")
    name = name.split("[")[0]  # "moto[server]": the extra's own packages are checked by import below
    try:
        installed = version(name)
    except PackageNotFoundError:
        sys.exit(1)
    if parse(installed) < parse(wanted) or (exact and parse(installed) != parse(wanted)):
        sys.exit(1)
import grpc, grpc_tools.protoc, google.protobuf, pytest  # noqa: F401  (they must import, too)
import botocore, moto.server, werkzeug  # noqa: F401,E401  (moto.server needs the [server] extra)
from cryptography.hazmat.primitives.asymmetric import ed25519  # noqa: F401
import schemathesis, yaml  # noqa: F401,E401
PY
}

if python_ready; then
    log "pip: all packages present"
else
    if ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
        log "apt: installing python3-pip"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-pip
    fi
    log "pip: installing ${PIP_REQUIREMENTS[*]}"
    pip_args=(install --quiet --disable-pip-version-check)
    # Debian's own Python refuses pip installs outside a venv (PEP 668); the packages here are
    # test tools for this machine, so install them anyway.
    if "$PYTHON" -c 'import sys, sysconfig, os; sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")) else 1)'; then
        pip_args+=(--break-system-packages)
    fi
    "$PYTHON" -m pip "${pip_args[@]}" "${PIP_REQUIREMENTS[@]}"
    python_ready || { log "pip: packages still not importable after install"; exit 1; }
fi

log "done"
