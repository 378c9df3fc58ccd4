/// A parsed `.proto` file: the proto3 subset this project uses.
public struct ProtoFile: Sendable, Hashable {
    /// The path relative to the proto root, e.g. `grpc/health/v1/health.proto`.
    public var path: String
    public var package: String = ""
    /// Imported paths, relative to the proto root.
    public var imports: [String] = []
    public var messages: [MessageDecl] = []
    public var enums: [EnumDecl] = []
    public var services: [ServiceDecl] = []

    public init(path: String) {
        self.path = path
    }
}

/// A scalar field type.
public enum ScalarType: String, Sendable, Hashable, CaseIterable {
    case double, float, int32, int64, uint32, uint64, sint32, sint64
    case fixed32, fixed64, sfixed32, sfixed64, bool, string, bytes
}

/// The type a field names: a scalar, or a message or enum resolved later.
public enum TypeRef: Sendable, Hashable {
    case scalar(ScalarType)
    /// The name as written (`Foo`, `Outer.Inner`, `.pkg.Foo`).
    case named(String)
}

/// How a field holds its values.
public enum FieldLabel: Sendable, Hashable {
    /// proto3 implicit presence: the default value is not sent.
    case singular
    /// proto3 `optional`: explicit presence.
    case optional
    case repeated
    /// `map<key, value>`; the field's ``FieldDecl/type`` is the value type.
    case map(key: ScalarType)
}

public struct FieldDecl: Sendable, Hashable {
    public var name: String
    public var number: Int
    public var label: FieldLabel
    public var type: TypeRef
    /// Index into the message's ``MessageDecl/oneofs`` for a oneof member.
    public var oneofIndex: Int?
    /// `[packed = false]` turns packing off for a repeated scalar.
    public var packed: Bool = true
    public var doc: [String] = []
    public var line: Int
}

public struct OneofDecl: Sendable, Hashable {
    public var name: String
    public var doc: [String] = []
}

public struct MessageDecl: Sendable, Hashable {
    public var name: String
    public var fields: [FieldDecl] = []
    public var oneofs: [OneofDecl] = []
    public var messages: [MessageDecl] = []
    public var enums: [EnumDecl] = []
    public var reservedNumbers: [ClosedRange<Int>] = []
    public var reservedNames: [String] = []
    public var doc: [String] = []
    public var line: Int
}

public struct EnumValueDecl: Sendable, Hashable {
    public var name: String
    public var number: Int32
    public var doc: [String] = []
    public var line: Int
}

public struct EnumDecl: Sendable, Hashable {
    public var name: String
    public var values: [EnumValueDecl] = []
    public var doc: [String] = []
    public var line: Int
}

public struct MethodDecl: Sendable, Hashable {
    public var name: String
    public var inputType: String
    public var outputType: String
    public var clientStreaming = false
    public var serverStreaming = false
    public var doc: [String] = []
    public var line: Int

    /// True for a plain request/response method, the only kind this project serves.
    public var isUnary: Bool { !clientStreaming && !serverStreaming }
}

public struct ServiceDecl: Sendable, Hashable {
    public var name: String
    public var methods: [MethodDecl] = []
    public var doc: [String] = []
    public var line: Int
}

/// An error in a `.proto` file or in the generator's input, located as `file:line: message`.
public struct ProtoGenError: Error, Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var message: String

    public init(file: String, line: Int, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)"
    }
}
