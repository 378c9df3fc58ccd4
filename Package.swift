// swift-tools-version: 6.1
//
// ImageEditApi: gRPC-compatible microservices over nghttp2, with a REST gateway.
// Layers, bottom to top (see README.md, "Layout"):
//   C shims (C*)            system libraries, each imported by exactly one Swift module
//   pure code               ProtoWire (protobuf wire codec), RPCCore (status, metadata, framing),
//                           HTTP2 (sans-I/O nghttp2 session), ProtoGenCore (proto parser/generator)
//   I/O                     RPCNIO (HTTP/2 gRPC server and client on SwiftNIO)
//   service APIs            generated from proto/ (GRPCHealth, InteropAPI, ...)
//   executables             thin wiring
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "ImageEditApi",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "protogen", targets: ["protogen"]),
        .executable(name: "rpc-interop", targets: ["rpc-interop"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", exact: "2.101.3"),
    ],
    targets: [
        // C shims.
        .systemLibrary(name: "CNGHTTP2", pkgConfig: "libnghttp2", providers: [.apt(["libnghttp2-dev"])]),

        // Pure code, no I/O.
        .target(name: "ProtoWire", swiftSettings: strictSettings),
        .target(name: "RPCCore", swiftSettings: strictSettings),
        .target(name: "HTTP2", dependencies: ["CNGHTTP2"], swiftSettings: strictSettings),
        .target(name: "ProtoGenCore", swiftSettings: strictSettings),

        // I/O.
        .target(
            name: "RPCNIO",
            dependencies: [
                "RPCCore", "HTTP2",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings),

        // Service APIs generated from proto/.
        .target(name: "GRPCHealth", dependencies: ["ProtoWire", "RPCCore"], swiftSettings: strictSettings),
        .target(name: "InteropAPI", dependencies: ["ProtoWire", "RPCCore"], swiftSettings: strictSettings),

        // Executables.
        .executableTarget(name: "protogen", dependencies: ["ProtoGenCore"], swiftSettings: strictSettings),
        .executableTarget(
            name: "rpc-interop",
            dependencies: ["RPCNIO", "RPCCore", "InteropAPI", "GRPCHealth"],
            swiftSettings: strictSettings),

        // Test support: messages generated from proto/imageedit/testing/v1/wire_test.proto.
        .target(name: "WireTestMessages", dependencies: ["ProtoWire"], swiftSettings: strictSettings),

        // Tests.
        .testTarget(name: "ProtoWireTests", dependencies: ["ProtoWire", "InteropAPI", "WireTestMessages"], exclude: ["Fixtures"]),
        .testTarget(name: "ProtoGenTests", dependencies: ["ProtoGenCore"]),
        .testTarget(name: "RPCCoreTests", dependencies: ["RPCCore", "GRPCHealth", "InteropAPI"]),
        .testTarget(name: "HTTP2Tests", dependencies: ["HTTP2"]),
        .testTarget(
            name: "RPCNIOTests",
            dependencies: [
                "RPCNIO", "RPCCore", "HTTP2", "InteropAPI", "GRPCHealth",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]),
    ]
)
