// swift-tools-version: 6.1
//
// Benchmarks for ImageEditApi's internal RPC layer, kept in their own package so the main
// build never pays for the peers (grpc-swift-2 pulls in swift-nio-ssl and BoringSSL).
//
//   grpc-swift-echo   grpc-swift-2 server for /imageedit.testing.v1.InteropService/Echo over
//                     h2c, echoing the raw request bytes: the stock Swift gRPC reference.
//   codec-bench       swift-protobuf encode/decode of representative messages; the place where
//                     our own codec (ProtoWire) is compared once it lands.
//
// Build once, in release: `nice -n 19 swift build -c release` (10-20 min on 2 cores).
// Not built in CI. See README.md.
import PackageDescription

let package = Package(
    name: "ImageEditApiBenchmarks",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "grpc-swift-echo", targets: ["grpc-swift-echo"]),
        .executable(name: "codec-bench", targets: ["codec-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/grpc/grpc-swift-2.git", exact: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", exact: "2.9.2"),
        .package(url: "https://github.com/apple/swift-protobuf.git", exact: "1.39.0"),
        .package(url: "https://github.com/apple/swift-nio.git", exact: "2.101.3"),
    ],
    targets: [
        .executableTarget(
            name: "grpc-swift-echo",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]),
        .executableTarget(
            name: "codec-bench",
            dependencies: [
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            exclude: ["Generated/README.md"]),
    ]
)
