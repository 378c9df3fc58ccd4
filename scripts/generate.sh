#!/usr/bin/env bash
# Regenerates the Swift code for every .proto listed in proto/protogen.txt (the one table
# mapping each proto to its module's Generated/ directory), with the project's own protogen.
# Usage: scripts/generate.sh [--check]   (--check: exit 1 if any generated file is stale)
set -euo pipefail
cd "$(dirname "$0")/.."
exec swift run protogen --root "$PWD" "$@"
