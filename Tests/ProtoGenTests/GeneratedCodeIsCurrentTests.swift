import Foundation
import ProtoGenCore
import Testing

/// The checked-in generated code must be what protogen makes from the protos today.
@Suite struct GeneratedCodeIsCurrentTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func read(_ relativePath: String) -> String? {
        try? String(contentsOf: repositoryRoot.appendingPathComponent(relativePath), encoding: .utf8)
    }

    @Test func everyGeneratedFileIsCurrent() throws {
        let manifestText = try #require(Self.read("proto/protogen.txt"))
        let manifest = try GenerationManifest(text: manifestText, path: "proto/protogen.txt")
        #expect(manifest.entries.count >= 3)
        let files = try ProtoGen.generate(manifest: manifest) { Self.read("proto/" + $0) }
        #expect(files.count == manifest.entries.count)
        for file in files {
            let checkedIn = Self.read(file.path)
            #expect(checkedIn == file.contents, "\(file.path) is stale: run scripts/generate.sh")
        }
    }

    @Test func everyProtoIsInTheManifest() throws {
        let manifest = try GenerationManifest(text: try #require(Self.read("proto/protogen.txt")), path: "proto/protogen.txt")
        let protoRoot = Self.repositoryRoot.appendingPathComponent("proto")
        let enumerator = try #require(FileManager.default.enumerator(atPath: protoRoot.path))
        let protos = enumerator.compactMap { $0 as? String }.filter { $0.hasSuffix(".proto") }
        #expect(Set(protos) == Set(manifest.entries.map(\.proto)))
    }
}
