import ProtoGenCore
import Testing

@Suite struct ParserTests {
    func parse(_ source: String) throws(ProtoGenError) -> ProtoFile {
        var parser = try ProtoParser(source: source, path: "test.proto")
        return try parser.parse()
    }

    @Test func parsesTheSubset() throws {
        let file = try parse("""
            // File comment, detached.

            syntax = "proto3";
            package demo.v1;
            import "other/common.proto";
            option go_package = "example.com/demo";

            // A thing.
            // Two lines.
            message Thing {
              /* Block doc. */
              int64 size_bytes = 1 [deprecated = true, json_name = "sizeBytes"];
              repeated string tags = 2;
              map<string, Thing> children = 3;
              optional bool flag = 4;
              oneof kind {
                string name = 5;  // Trailing doc.
                int32 number = 6;
              }
              enum State { STATE_UNSPECIFIED = 0; STATE_ON = 1; }
              message Inner { State state = 1; }
              reserved 10, 12 to 14, 100 to max;
              reserved "old";
              repeated int32 loose = 7 [packed = false];
            }

            service Things {
              // Gets one.
              rpc GetThing(Thing) returns (Thing);
              rpc WatchThings(Thing) returns (stream Thing) { option deprecated = true; }
            }
            """)
        #expect(file.package == "demo.v1")
        #expect(file.imports == ["other/common.proto"])
        let thing = try #require(file.messages.first)
        #expect(thing.doc == ["A thing.", "Two lines."])
        #expect(thing.fields.map(\.name) == ["size_bytes", "tags", "children", "flag", "name", "number", "loose"])
        #expect(thing.fields[0].doc == ["Block doc."])
        #expect(thing.fields[1].label == .repeated)
        #expect(thing.fields[2].label == .map(key: .string))
        #expect(thing.fields[2].type == .named("Thing"))
        #expect(thing.fields[3].label == .optional)
        #expect(thing.fields[4].oneofIndex == 0)
        #expect(thing.fields[4].doc == ["Trailing doc."])
        #expect(thing.fields[6].packed == false)
        #expect(thing.oneofs.map(\.name) == ["kind"])
        #expect(thing.enums.first?.values.map(\.number) == [0, 1])
        #expect(thing.messages.first?.name == "Inner")
        #expect(thing.reservedNumbers == [10...10, 12...14, 100...536_870_911])
        #expect(thing.reservedNames == ["old"])
        let service = try #require(file.services.first)
        #expect(service.methods.map(\.name) == ["GetThing", "WatchThings"])
        #expect(service.methods[0].doc == ["Gets one."])
        #expect(service.methods[0].isUnary)
        #expect(service.methods[1].serverStreaming && !service.methods[1].isUnary)
    }

    struct BadProto: Sendable, CustomStringConvertible {
        var description: String
        var source: String
        var line: Int
        var message: String
    }

    static let errors: [BadProto] = [
        BadProto(description: "proto2", source: "syntax = \"proto2\";", line: 1, message: "only syntax = \"proto3\" is supported"),
        BadProto(description: "no syntax", source: "package a;", line: 1, message: "missing syntax"),
        BadProto(description: "missing semicolon", source: "syntax = \"proto3\";\nmessage A {\n  int32 a = 1\n}", line: 4, message: "expected ';', found '}'"),
        BadProto(description: "field number 0", source: "syntax = \"proto3\";\nmessage A { int32 a = 0; }", line: 2, message: "field number 0 is outside"),
        BadProto(description: "field number too large", source: "syntax = \"proto3\";\nmessage A { int32 a = 536870912; }", line: 2, message: "is outside"),
        BadProto(description: "reserved range 19000", source: "syntax = \"proto3\";\nmessage A { int32 a = 19500; }", line: 2, message: "reserved by protobuf"),
        BadProto(description: "duplicate number", source: "syntax = \"proto3\";\nmessage A {\n int32 a = 1;\n string b = 1;\n}", line: 4, message: "already used by a"),
        BadProto(description: "duplicate name", source: "syntax = \"proto3\";\nmessage A {\n int32 a = 1;\n string a = 2;\n}", line: 4, message: "duplicate field name a"),
        BadProto(description: "reserved number used", source: "syntax = \"proto3\";\nmessage A {\n reserved 5;\n int32 a = 5;\n}", line: 4, message: "reserved number 5"),
        BadProto(description: "reserved name used", source: "syntax = \"proto3\";\nmessage A {\n reserved \"a\";\n int32 a = 5;\n}", line: 4, message: "field name a is reserved"),
        BadProto(description: "required", source: "syntax = \"proto3\";\nmessage A {\n required int32 a = 1;\n}", line: 3, message: "'required' is not allowed"),
        BadProto(description: "group", source: "syntax = \"proto3\";\nmessage A {\n repeated group G = 1 {}\n}", line: 3, message: "groups are not supported"),
        BadProto(description: "extensions", source: "syntax = \"proto3\";\nmessage A {\n extensions 100 to 200;\n}", line: 3, message: "extensions are not supported"),
        BadProto(description: "float map key", source: "syntax = \"proto3\";\nmessage A {\n map<float, int32> m = 1;\n}", line: 3, message: "map keys must be"),
        BadProto(description: "enum first value", source: "syntax = \"proto3\";\nenum E {\n  E_A = 1;\n}", line: 3, message: "first value of enum E must be 0"),
        BadProto(description: "unclosed message", source: "syntax = \"proto3\";\nmessage A {\n int32 a = 1;\n", line: 4, message: "not closed"),
        BadProto(description: "unterminated comment", source: "syntax = \"proto3\";\n/* open\n", line: 2, message: "unterminated /* comment"),
        BadProto(description: "unterminated string", source: "syntax = \"proto3;\n", line: 1, message: "unterminated string"),
        BadProto(description: "stray character", source: "syntax = \"proto3\";\nmessage A { int32 a = 1; } @", line: 2, message: "unexpected character '@'"),
        BadProto(description: "repeated in oneof", source: "syntax = \"proto3\";\nmessage A {\n oneof o {\n  repeated int32 a = 1;\n }\n}", line: 4, message: "cannot be 'repeated'"),
        BadProto(description: "rpc without returns", source: "syntax = \"proto3\";\nservice S {\n rpc M(A) (B);\n}", line: 3, message: "expected 'returns'"),
    ]

    @Test(arguments: errors)
    func reportsErrorsWithTheirLine(_ bad: BadProto) {
        do {
            _ = try parse(bad.source)
            Issue.record("parsed without error")
        } catch {
            #expect(error.file == "test.proto")
            #expect(error.line == bad.line, "\(error)")
            #expect(error.message.contains(bad.message), "\(error)")
            #expect(error.description.hasPrefix("test.proto:\(bad.line): "))
        }
    }

    @Test func reportsUnknownTypesAndMissingImports() throws {
        let sources = [
            "a.proto": "syntax = \"proto3\";\nimport \"b.proto\";\nmessage A {\n  Missing m = 1;\n}\n",
            "b.proto": "syntax = \"proto3\";\nmessage B {}\n",
            "c.proto": "syntax = \"proto3\";\nimport \"nowhere.proto\";\n",
        ]
        let manifestA = try GenerationManifest(text: "a.proto Sources/A/Generated", path: "m")
        #expect(throws: ProtoGenError(file: "a.proto", line: 4, message: "unknown type Missing")) {
            try ProtoGen.generate(manifest: manifestA) { sources[$0] }
        }
        let manifestC = try GenerationManifest(text: "c.proto Sources/C/Generated", path: "m")
        #expect(throws: ProtoGenError(file: "c.proto", line: 0, message: "import \"nowhere.proto\" not found under the proto root")) {
            try ProtoGen.generate(manifest: manifestC) { sources[$0] }
        }
    }

    @Test func malformedManifestLinesAreReported() {
        #expect(throws: ProtoGenError(file: "m", line: 2, message: "expected '<file>.proto <output directory>'")) {
            try GenerationManifest(text: "# comment\nfoo.proto\n", path: "m")
        }
        #expect(throws: ProtoGenError(file: "m", line: 2, message: "a.proto is listed twice")) {
            try GenerationManifest(text: "a.proto Sources/A/Generated\na.proto Sources/B/Generated\n", path: "m")
        }
    }
}
