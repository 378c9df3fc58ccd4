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
        .executable(name: "imageedit", targets: ["imageedit"]),
        .executable(name: "protogen", targets: ["protogen"]),
        .executable(name: "rpc-interop", targets: ["rpc-interop"]),
        // For the packages beside this one, which depend on it by path: Benchmarks/ (codec-bench
        // compares ProtoWire with swift-protobuf) and Fuzz/ (libFuzzer targets).
        .library(name: "ProtoWire", targets: ["ProtoWire"]),
        .library(name: "RPCCore", targets: ["RPCCore"]),
        .library(name: "HTTP2", targets: ["HTTP2"]),
        .library(name: "RPCNIO", targets: ["RPCNIO"]),
        .library(name: "InteropAPI", targets: ["InteropAPI"]),
        .library(name: "AuthAPI", targets: ["AuthAPI"]),
        .library(name: "WireTestMessages", targets: ["WireTestMessages"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", exact: "2.101.3"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", exact: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log.git", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", exact: "1.8.0"),
        .package(url: "https://github.com/vapor/multipart-kit.git", exact: "4.7.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", exact: "2.4.1"),
    ],
    targets: [
        // C shims.
        .systemLibrary(name: "CNGHTTP2", pkgConfig: "libnghttp2", providers: [.apt(["libnghttp2-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CVips", pkgConfig: "vips", providers: [.apt(["libvips-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),

        // Pure code, no I/O.
        .target(name: "ProtoWire", swiftSettings: strictSettings),
        .target(name: "RPCCore", swiftSettings: strictSettings),
        .target(name: "HTTP2", dependencies: ["CNGHTTP2"], swiftSettings: strictSettings),
        .target(name: "ProtoGenCore", swiftSettings: strictSettings),
        .target(name: "OpenSSLCrypto", dependencies: ["COpenSSL"], swiftSettings: strictSettings),
        .target(name: "ServiceConfig", swiftSettings: strictSettings),
        .target(name: "Imaging", dependencies: ["CVips", "RPCCore"], swiftSettings: strictSettings),

        // I/O.
        .target(
            name: "RPCNIO",
            dependencies: [
                "RPCCore", "HTTP2", "OpenSSLCrypto",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings),

        .target(
            name: "Postgres",
            dependencies: [
                "CLibPQ", "RPCCore",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: strictSettings),

        .target(
            name: "HTTPClient",
            dependencies: [
                "CCurl",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings),
        .target(name: "AuthTokens", dependencies: ["OpenSSLCrypto", "RPCCore"], swiftSettings: strictSettings),
        .target(
            name: "OpenAIImages",
            dependencies: ["HTTPClient", "RPCCore", "ServiceConfig", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings),
        .target(
            name: "BlobStore",
            dependencies: [
                "HTTPClient", "OpenSSLCrypto", "RPCCore", "ServiceConfig",
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings),
        // GET /metrics (and /healthz) on a port of its own, for the internal services.
        .target(
            name: "MetricsEndpoint",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strictSettings),

        // Service APIs generated from proto/.
        .target(name: "GRPCHealth", dependencies: ["ProtoWire", "RPCCore"], swiftSettings: strictSettings),
        .target(name: "InteropAPI", dependencies: ["ProtoWire", "RPCCore"], swiftSettings: strictSettings),
        .target(name: "AuthAPI", dependencies: ["ProtoWire", "RPCCore"], swiftSettings: strictSettings),
        .target(name: "StorageAPI", dependencies: ["ProtoWire", "RPCCore"], swiftSettings: strictSettings),
        .target(name: "EditAPI", dependencies: ["ProtoWire", "RPCCore"], swiftSettings: strictSettings),

        // Services.
        .target(
            name: "AuthServer",
            dependencies: [
                "AuthAPI", "AuthTokens", "OpenSSLCrypto", "Postgres", "RPCCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings),

        .target(
            name: "Gateway",
            dependencies: [
                "AuthAPI", "AuthTokens", "EditAPI", "RPCCore", "StorageAPI",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // The OpenAPI source; scripts/gen-openapi.py embeds it in OpenAPIDocument+Generated.swift.
            exclude: ["OpenAPI/openapi.yaml"],
            swiftSettings: strictSettings),

        .target(
            name: "ImageEditServices",
            dependencies: [
                "AuthAPI", "AuthServer", "AuthTokens", "BlobStore", "EditAPI", "EditServer", "Gateway", "GRPCHealth", "HTTPClient",
                "Imaging", "MetricsEndpoint", "OpenAIImages", "OpenSSLCrypto", "Postgres", "RPCCore", "RPCNIO", "ServiceConfig",
                "StorageAPI", "StorageServer",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings),

        .target(
            name: "StorageServer",
            dependencies: [
                "AuthTokens", "BlobStore", "OpenSSLCrypto", "Postgres", "RPCCore", "StorageAPI",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings),
        .target(
            name: "EditServer",
            dependencies: [
                "AuthTokens", "EditAPI", "Imaging", "OpenAIImages", "RPCCore",
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings),

        // Executables.
        .executableTarget(name: "imageedit", dependencies: ["ImageEditServices"], swiftSettings: strictSettings),
        .executableTarget(name: "protogen", dependencies: ["ProtoGenCore"], swiftSettings: strictSettings),
        .executableTarget(
            name: "rpc-interop",
            dependencies: ["RPCNIO", "RPCCore", "InteropAPI", "GRPCHealth", "OpenSSLCrypto"],
            swiftSettings: strictSettings),

        // Test support: messages generated from proto/imageedit/testing/v1/wire_test.proto.
        .target(
            name: "TestSupport",
            dependencies: [
                "AuthAPI", "BlobStore", "EditAPI", "HTTPClient", "RPCCore", "StorageAPI",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: strictSettings),
        .target(name: "WireTestMessages", dependencies: ["ProtoWire"], swiftSettings: strictSettings),

        // Tests.
        .testTarget(name: "ProtoWireTests", dependencies: ["ProtoWire", "InteropAPI", "WireTestMessages"], exclude: ["Fixtures"]),
        .testTarget(name: "ProtoGenTests", dependencies: ["ProtoGenCore"]),
        .testTarget(name: "RPCCoreTests", dependencies: ["RPCCore", "ProtoWire", "GRPCHealth", "InteropAPI"]),
        .testTarget(name: "HTTP2Tests", dependencies: ["HTTP2"]),
        .testTarget(name: "OpenSSLCryptoTests", dependencies: ["OpenSSLCrypto", "TestSupport"]),
        .testTarget(
            name: "BlobStoreTests",
            dependencies: [
                "BlobStore", "HTTPClient", "RPCCore", "ServiceConfig", .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            exclude: ["Fixtures"]),
        .testTarget(name: "AuthTokensTests", dependencies: ["AuthTokens", "OpenSSLCrypto", "RPCCore"]),
        .testTarget(name: "AuthServerTests", dependencies: ["AuthServer", "AuthAPI", "AuthTokens", "OpenSSLCrypto", "Postgres", "RPCCore"]),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "Gateway", "AuthAPI", "AuthServer", "AuthTokens", "BlobStore", "EditAPI", "StorageAPI", "GRPCHealth", "HTTPClient",
                "ImageEditServices", "OpenSSLCrypto", "Postgres", "RPCCore", "RPCNIO", "ServiceConfig", "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "RPCCore"], exclude: ["Fixtures"]),
        .testTarget(
            name: "StorageServerTests",
            dependencies: ["StorageServer", "StorageAPI", "AuthTokens", "BlobStore", "OpenSSLCrypto", "Postgres", "RPCCore", "TestSupport"]),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "RPCCore"]),
        .testTarget(name: "MetricsEndpointTests", dependencies: ["MetricsEndpoint", "HTTPClient", .product(name: "NIOHTTP1", package: "swift-nio")]),
        .testTarget(
            name: "OpenAIImagesTests",
            dependencies: [
                "OpenAIImages", "HTTPClient", "RPCCore", "ServiceConfig", "TestSupport",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]),
        .testTarget(
            name: "RPCNIOTests",
            dependencies: [
                "RPCNIO", "RPCCore", "HTTP2", "InteropAPI", "GRPCHealth", "OpenSSLCrypto", "TestSupport",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]),
    ]
)
