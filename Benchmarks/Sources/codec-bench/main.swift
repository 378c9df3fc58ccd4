// codec-bench: protobuf encode/decode times for messages shaped like the services' ones.
//
// Today it measures swift-protobuf 1.39 (types generated once from
// proto/imageedit/testing/v1/interop.proto and Benchmarks/proto/imageedit/bench/v1/
// codec_bench.proto, committed under Generated/). Our codec, ProtoWire, joins at the
// TODO(ProtoWire) markers below: the same messages, the same input bytes, side by side.
//
//   codec-bench [--seconds S] [--filter SUBSTRING]
//
// Each case is run in samples of about S/5 seconds (default S = 1) and the median sample is
// reported as ns per operation and MB/s of wire bytes. Pin it for steadier numbers:
// `taskset -c 0 .build/release/codec-bench`.

import Foundation
import SwiftProtobuf

#if canImport(Glibc)
import Glibc
#endif

// MARK: - Sample messages

/// Deterministic filler bytes (i mod 251), as the RPC benchmark's payloads.
func filler(_ count: Int) -> Data {
    Data((0..<count).map { UInt8($0 % 251) })
}

func echoRequest(payloadBytes: Int) -> Imageedit_Testing_V1_EchoRequest {
    var m = Imageedit_Testing_V1_EchoRequest()
    m.payload = filler(payloadBytes)
    m.text = "bench"
    return m
}

func tokenClaims() -> Imageedit_Bench_V1_TokenClaims {
    var m = Imageedit_Bench_V1_TokenClaims()
    m.userID = "7f3c2a9e-51d4-4c8b-9a0e-2b6f1d8c4e71"
    m.username = "ada.lovelace"
    m.email = "ada.lovelace@example.com"
    m.issuedAtUnixS = 1_795_939_200
    m.expiresAtUnixS = 1_795_940_100
    m.scopes = ["images:read", "images:write", "user:read"]
    m.tokenID = filler(32)
    m.isRefresh = false
    return m
}

func imageMetadata(id: Int64) -> Imageedit_Bench_V1_ImageMetadata {
    var m = Imageedit_Bench_V1_ImageMetadata()
    m.id = id
    m.userID = 4_211
    m.originalURL = "http://localhost:8000/blobs/originals/\(id)/9b2e4f1c8d7a6e5b.png?expires=1795942800&sig=3f9a1c0b7e6d5a4f3e2d1c0b9a8f7e6d"
    m.editedURL = "http://localhost:8000/blobs/edited/\(id)/1c8d7a6e5b9b2e4f.png?expires=1795942800&sig=0b7e6d5a4f3e2d1c0b9a8f7e6d3f9a1c"
    m.prompt = "Make it look like a watercolor painting of a harbour at dawn, soft light, mirrored"
    m.uploadedAtUnixMs = 1_795_939_200_123
    m.editedAtUnixMs = 1_795_939_203_456
    m.dimensions.widthPx = 1024
    m.dimensions.heightPx = 1024
    m.contentType = "image/png"
    m.sizeBytes = 1_482_113
    m.state = .done
    m.tags = ["watercolor", "harbour"]
    return m
}

func imagePage(count: Int) -> Imageedit_Bench_V1_ImageMetadataPage {
    var m = Imageedit_Bench_V1_ImageMetadataPage()
    m.images = (0..<count).map { imageMetadata(id: 10_000 + Int64($0)) }
    m.totalCount = 1_234
    m.nextPageToken = "eyJvZmZzZXQiOjUwfQ"
    return m
}

func blob(bytes: Int) -> Imageedit_Bench_V1_Blob {
    var m = Imageedit_Bench_V1_Blob()
    m.data = filler(bytes)
    m.contentType = "image/png"
    return m
}

// MARK: - Cases

/// One codec on one message: closures that encode the prepared message and decode the
/// prepared bytes, each returning a number that depends on the work (kept, so the
/// optimizer cannot drop it).
struct Case {
    var message: String
    var codec: String
    var wireBytes: Int
    var encode: () throws -> Int
    var decode: () throws -> Int
}

func swiftProtobufCases<M: SwiftProtobuf.Message>(_ name: String, _ message: M) throws -> [Case] {
    let bytes: [UInt8] = try message.serializedBytes()
    // Sanity: the bytes round-trip.
    let decoded = try M(serializedBytes: bytes)
    precondition(decoded.isEqualTo(message: message), "\(name): swift-protobuf round trip differs")
    return [
        Case(
            message: name, codec: "swift-protobuf", wireBytes: bytes.count,
            encode: { let out: [UInt8] = try message.serializedBytes(); return out.count },
            decode: { let m = try M(serializedBytes: bytes); return m.isInitialized ? 1 : 0 })
    ]
}

// TODO(ProtoWire): add `protoWireCases(name, message)` returning Case(codec: "ProtoWire")
// for the same messages once the codec lands (branch `codec`, worktree /work/wt-codec):
//   1. The main package must export ProtoWire (and the generated InteropAPI types) as a
//      library product; then add `.package(path: "..")` here and depend on the product.
//   2. Build our types for interop.proto's EchoRequest and for proto/imageedit/bench/v1/
//      codec_bench.proto with our generator (protogen), into Sources/codec-bench/Ours/.
//   3. For each sample below, build the equivalent ProtoWire message, check that
//      `ours.serializedBytes()` == swift-protobuf's bytes (proto3 canonical field order, so
//      they must be byte-identical) and that both decode each other's output, then time
//      `ours.serializedBytes()` and `OurType(serializedBytes: bytes)` (ProtoWire's API:
//      `init(serializedBytes: [UInt8], limits:) throws(ProtoDecodingError)`).
func allCases() throws -> [Case] {
    var cases: [Case] = []
    cases += try swiftProtobufCases("EchoRequest 64 B", echoRequest(payloadBytes: 64))
    cases += try swiftProtobufCases("TokenClaims", tokenClaims())
    cases += try swiftProtobufCases("ImageMetadata", imageMetadata(id: 42))
    cases += try swiftProtobufCases("ImageMetadataPage x50", imagePage(count: 50))
    cases += try swiftProtobufCases("EchoRequest 1 MiB", echoRequest(payloadBytes: 1 << 20))
    cases += try swiftProtobufCases("Blob 1 MiB", blob(bytes: 1 << 20))
    return cases
}

// MARK: - Timing

var sink = 0

/// Median nanoseconds per call of `body`, over 5 samples of about `sampleSeconds` each.
@MainActor
func measure(sampleSeconds: Double, _ body: () throws -> Int) rethrows -> Double {
    let clock = ContinuousClock()
    // Calibrate: double the batch until one batch takes at least 1/20 of a sample.
    var batch = 1
    while true {
        let elapsed = try clock.measure { for _ in 0..<batch { sink &+= try body() } }
        if elapsed >= .seconds(sampleSeconds / 20) || batch >= 1 << 30 { break }
        batch *= 2
    }
    var samples: [Double] = []
    for _ in 0..<5 {
        var calls = 0
        let start = clock.now
        while clock.now - start < .seconds(sampleSeconds) {
            for _ in 0..<batch { sink &+= try body() }
            calls += batch
        }
        let elapsed = clock.now - start
        let ns = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
        samples.append(ns / Double(calls))
    }
    return samples.sorted()[samples.count / 2]
}

// MARK: - Main

var seconds = 1.0
var filter: String?
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    switch (flag, arguments.popFirst()) {
    case ("--seconds", let value?): seconds = Double(value) ?? seconds
    case ("--filter", let value?): filter = value
    default:
        let usage = "usage: codec-bench [--seconds S] [--filter SUBSTRING]\n"
        _ = usage.withCString { write(2, $0, strlen($0)) }
        exit(2)
    }
}

let cases = try allCases().filter { filter == nil || $0.message.contains(filter!) || $0.codec.contains(filter!) }
func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
print(pad("message", 24), pad("codec", 16), pad("bytes", 9), pad("op", 7), pad("ns/op", 12), "MB/s")
for c in cases {
    for (op, body) in [("encode", c.encode), ("decode", c.decode)] {
        let ns = try measure(sampleSeconds: seconds / 5, body)
        let mbps = Double(c.wireBytes) / ns * 1e3
        print(pad(c.message, 24), pad(c.codec, 16), pad(String(c.wireBytes), 9), pad(op, 7),
              pad(String(format: "%.1f", ns), 12), String(format: "%.1f", mbps))
    }
}
if sink == 42 { print("") }  // keeps `sink` observable
