/// The table of `.proto` files to generate and where each one's Swift goes: the one place
/// that maps protos to modules (`proto/protogen.txt`), read by `protogen` and by the test
/// that checks the generated code is current.
///
/// Format: one entry a line, `<proto path relative to the proto root>  <output directory
/// relative to the repository root>`; `#` starts a comment. The output directory must be
/// `Sources/<Module>/Generated` (or `Tests/<Module>/Generated`); `<Module>` is the Swift
/// module the generated code lives in.
public struct GenerationManifest: Sendable, Hashable {
    public struct Entry: Sendable, Hashable {
        public var proto: String
        public var outputDirectory: String

        /// The Swift module: the directory component after `Sources/` or `Tests/`.
        public var module: String {
            let parts = outputDirectory.split(separator: "/")
            guard parts.count >= 2 else { return String(parts.first ?? "") }
            return String(parts[1])
        }

        /// The generated file's path relative to the repository root: `<dir>/<basename>.swift`.
        public var outputPath: String {
            let base = proto.split(separator: "/").last.map(String.init) ?? proto
            let stem = base.hasSuffix(".proto") ? String(base.dropLast(6)) : base
            return outputDirectory + "/" + stem + ".swift"
        }
    }

    public var entries: [Entry]

    /// Parses a manifest; `path` names it in errors.
    ///
    /// - Throws: ``ProtoGenError`` for a malformed line or a proto listed twice.
    public init(text: String, path: String) throws(ProtoGenError) {
        entries = []
        var seen: Set<String> = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if words.isEmpty { continue }
            guard words.count == 2, words[0].hasSuffix(".proto") else {
                throw ProtoGenError(file: path, line: index + 1, message: "expected '<file>.proto <output directory>'")
            }
            let entry = Entry(proto: String(words[0]), outputDirectory: String(words[1]))
            let parts = entry.outputDirectory.split(separator: "/")
            guard parts.count >= 2, parts[0] == "Sources" || parts[0] == "Tests" else {
                throw ProtoGenError(file: path, line: index + 1, message: "output directory must be Sources/<Module>/... or Tests/<Module>/...")
            }
            guard seen.insert(entry.proto).inserted else {
                throw ProtoGenError(file: path, line: index + 1, message: "\(entry.proto) is listed twice")
            }
            entries.append(entry)
        }
    }
}

/// One generated file.
public struct GeneratedFile: Sendable, Hashable {
    /// Path relative to the repository root.
    public var path: String
    public var contents: String
}

/// The whole generator: every proto in a manifest to its Swift file.
public enum ProtoGen {
    /// Generates the Swift for every entry of `manifest`.
    ///
    /// - Parameter loadProto: a file's source by path relative to the proto root, or `nil`.
    /// - Throws: ``ProtoGenError`` (file:line: message) at the first problem.
    public static func generate(manifest: GenerationManifest, loadProto: (String) -> String?) throws(ProtoGenError) -> [GeneratedFile] {
        var protoSet = ProtoSet()
        for entry in manifest.entries {
            try protoSet.load(entry.proto, using: loadProto)
        }
        var modules: [String: String] = [:]
        for entry in manifest.entries { modules[entry.proto] = entry.module }
        var result: [GeneratedFile] = []
        for entry in manifest.entries {
            let generator = try SwiftGenerator(path: entry.proto, protoSet: protoSet, moduleOf: { modules[$0] })
            result.append(GeneratedFile(path: entry.outputPath, contents: try generator.generate()))
        }
        return result
    }
}
