// protogen: generates Swift from the .proto files listed in proto/protogen.txt.
//
//   swift run protogen [--root <repository root>] [--check]
//
// Writes each generated file (or, with --check, exits 1 naming every file that is out of date).
import Foundation
import ProtoGenCore

var root = FileManager.default.currentDirectoryPath
var check = false
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--root":
        guard let value = arguments.popFirst() else { fatalError("--root needs a directory") }
        root = value
    case "--check":
        check = true
    case "-h", "--help":
        print("usage: protogen [--root <repository root>] [--check]")
        exit(0)
    default:
        FileHandle.standardError.write(Data("protogen: unknown argument \(argument)\n".utf8))
        exit(2)
    }
}

func read(_ path: String) -> String? {
    try? String(contentsOfFile: path, encoding: .utf8)
}

let manifestPath = "proto/protogen.txt"
do {
    guard let manifestText = read(root + "/" + manifestPath) else {
        throw ProtoGenError(file: manifestPath, line: 0, message: "not found under \(root)")
    }
    let manifest = try GenerationManifest(text: manifestText, path: manifestPath)
    let files = try ProtoGen.generate(manifest: manifest) { read(root + "/proto/" + $0) }
    var stale: [String] = []
    for file in files {
        let path = root + "/" + file.path
        if read(path) == file.contents { continue }
        stale.append(file.path)
        if !check {
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try file.contents.write(toFile: path, atomically: true, encoding: .utf8)
            print("protogen: wrote \(file.path)")
        }
    }
    if check, !stale.isEmpty {
        for path in stale { print("protogen: out of date: \(path)") }
        exit(1)
    }
} catch let error as ProtoGenError {
    FileHandle.standardError.write(Data("\(error)\n".utf8))
    exit(1)
} catch {
    FileHandle.standardError.write(Data("protogen: \(error)\n".utf8))
    exit(1)
}
