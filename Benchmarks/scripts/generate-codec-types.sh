#!/usr/bin/env bash
# Regenerates Sources/codec-bench/Generated/*.pb.swift with protoc + protoc-gen-swift 1.39.0.
# Run from Benchmarks/ only when a .proto changes; the output is committed so nobody else
# needs protoc or the plugin (whose first build takes minutes here).
#   apt-get install -y protobuf-compiler
#   nice -n 19 swift build -c release --product protoc-gen-swift   # from the swift-protobuf dependency
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
plugin=${PROTOC_GEN_SWIFT:-.build/release/protoc-gen-swift}
out=Sources/codec-bench/Generated
# interop.proto is the main package's source of truth; fall back to a sibling checkout.
main_proto=${MAIN_PROTO_DIR:-../proto}
protoc --plugin=protoc-gen-swift="$plugin" --swift_out="$out" --swift_opt=Visibility=Internal \
    -I "$main_proto" imageedit/testing/v1/interop.proto
protoc --plugin=protoc-gen-swift="$plugin" --swift_out="$out" --swift_opt=Visibility=Internal \
    -I proto imageedit/bench/v1/codec_bench.proto
find "$out" -name '*.pb.swift' | sort
