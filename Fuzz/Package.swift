// swift-tools-version: 6.1
//
// Fuzz targets for ImageEditApi's untrusted-input paths, built with libFuzzer:
//   swift build -c release -Xswiftc -sanitize=fuzzer -Xswiftc -sanitize=address -Xswiftc -enable-testing
// (scripts/fuzz.sh does this and runs each target). A separate package, so the main build and
// `swift test` never compile these. See README.md.
import PackageDescription

let package = Package(
    name: "ImageEditApiFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "ImageEditApi", path: ".."),
    ],
    targets: [
        // libFuzzer's driver entry point, and input splitting shared by the targets.
        .target(name: "CFuzzerDriver"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzerDriver"]),
        // A ServerConnection with a recording host (uses RPCNIO internals: @testable).
        .target(
            name: "ServerHarness",
            dependencies: [
                "FuzzSupport",
                .product(name: "RPCNIO", package: "ImageEditApi"),
                .product(name: "RPCCore", package: "ImageEditApi"),
                .product(name: "HTTP2", package: "ImageEditApi"),
            ]),

        // ProtoWire: decode as several generated messages; round-trip oracle.
        .executableTarget(
            name: "fuzz-protowire",
            dependencies: [
                "FuzzSupport",
                .product(name: "ProtoWire", package: "ImageEditApi"),
                .product(name: "WireTestMessages", package: "ImageEditApi"),
                .product(name: "InteropAPI", package: "ImageEditApi"),
                .product(name: "AuthAPI", package: "ImageEditApi"),
            ]),
        // RPCCore.GRPCDeframer: pieces at fuzzer-chosen points; byte accounting oracle.
        .executableTarget(
            name: "fuzz-deframer",
            dependencies: ["FuzzSupport", .product(name: "RPCCore", package: "ImageEditApi")]),
        // RPCNIO.ServerConnection fed raw bytes (with and without a client preface).
        .executableTarget(
            name: "fuzz-server-raw",
            dependencies: [
                "FuzzSupport", "ServerHarness",
                .product(name: "RPCCore", package: "ImageEditApi"),
                .product(name: "HTTP2", package: "ImageEditApi"),
            ]),
        // RPCNIO.ServerConnection fed valid-then-mutated requests from an nghttp2 client session.
        .executableTarget(
            name: "fuzz-server-h2",
            dependencies: [
                "FuzzSupport", "ServerHarness",
                .product(name: "RPCCore", package: "ImageEditApi"),
                .product(name: "HTTP2", package: "ImageEditApi"),
            ]),
    ]
)
