/// Loads a `.proto` file and its imports, and resolves type names across them.
public struct ProtoSet: Sendable {
    /// What a fully-qualified proto name refers to.
    public struct Symbol: Sendable, Hashable {
        public enum Kind: Sendable, Hashable { case message, enumeration }
        public var kind: Kind
        /// The Swift type name, e.g. `HealthCheckResponse.ServingStatus`.
        public var swiftName: String
        /// The file that declares it.
        public var file: String
    }

    /// Every parsed file, by path relative to the proto root.
    public private(set) var files: [String: ProtoFile] = [:]
    /// Every message and enum, by fully-qualified name without the leading dot.
    public private(set) var symbols: [String: Symbol] = [:]
    /// Every message declaration, by fully-qualified name.
    public private(set) var messages: [String: MessageDecl] = [:]

    public init() {}

    /// Parses `path` and, recursively, everything it imports.
    ///
    /// - Parameter load: returns a file's source given its path relative to the proto root, or
    ///   `nil` when there is no such file.
    /// - Throws: ``ProtoGenError`` for a missing import, a parse error, or a name declared twice.
    public mutating func load(_ path: String, importedFrom: (file: String, line: Int)? = nil, using load: (String) -> String?) throws(ProtoGenError) {
        if files[path] != nil { return }
        guard let source = load(path) else {
            if let importedFrom {
                throw ProtoGenError(file: importedFrom.file, line: importedFrom.line, message: "import \"\(path)\" not found under the proto root")
            }
            throw ProtoGenError(file: path, line: 0, message: "file not found under the proto root")
        }
        var parser = try ProtoParser(source: source, path: path)
        let file = try parser.parse()
        files[path] = file
        let prefix = file.package.isEmpty ? "" : file.package + "."
        for message in file.messages { try register(message, protoPrefix: prefix, swiftPrefix: "", file: path) }
        for decl in file.enums { try register(decl, protoPrefix: prefix, swiftPrefix: "", file: path) }
        for imported in file.imports {
            try self.load(imported, importedFrom: (path, 0), using: load)
        }
    }

    private mutating func register(_ message: MessageDecl, protoPrefix: String, swiftPrefix: String, file: String) throws(ProtoGenError) {
        let fullName = protoPrefix + message.name
        let swiftName = swiftPrefix + Naming.typeName(message.name)
        try add(fullName, Symbol(kind: .message, swiftName: swiftName, file: file), line: message.line)
        messages[fullName] = message
        for nested in message.messages { try register(nested, protoPrefix: fullName + ".", swiftPrefix: swiftName + ".", file: file) }
        for nested in message.enums { try register(nested, protoPrefix: fullName + ".", swiftPrefix: swiftName + ".", file: file) }
    }

    private mutating func register(_ decl: EnumDecl, protoPrefix: String, swiftPrefix: String, file: String) throws(ProtoGenError) {
        try add(protoPrefix + decl.name, Symbol(kind: .enumeration, swiftName: swiftPrefix + Naming.typeName(decl.name), file: file), line: decl.line)
    }

    private mutating func add(_ name: String, _ symbol: Symbol, line: Int) throws(ProtoGenError) {
        if let existing = symbols[name] {
            throw ProtoGenError(file: symbol.file, line: line, message: "\(name) is already declared in \(existing.file)")
        }
        symbols[name] = symbol
    }

    /// Resolves `name` as written inside `scope` (a fully-qualified message or package name),
    /// searching from the innermost scope outwards, as protoc does.
    ///
    /// Only files `file` can see (itself and its imports) are searched.
    public func resolve(_ name: String, scope: String, from file: String) -> (fullName: String, symbol: Symbol)? {
        let visible = Set([file] + (files[file]?.imports ?? []))
        if name.hasPrefix(".") {
            let fullName = String(name.dropFirst())
            guard let symbol = symbols[fullName], visible.contains(symbol.file) else { return nil }
            return (fullName, symbol)
        }
        var scopeParts = scope.isEmpty ? [] : scope.split(separator: ".").map(String.init)
        while true {
            let candidate = (scopeParts + [name]).joined(separator: ".")
            if let symbol = symbols[candidate], visible.contains(symbol.file) { return (candidate, symbol) }
            if scopeParts.isEmpty { return nil }
            scopeParts.removeLast()
        }
    }

    /// True when a message of type `start` holds, through singular, optional or oneof message
    /// fields (not repeated or map ones), a message of type `target`: such a field must be boxed.
    public func reaches(from start: String, to target: String) -> Bool {
        var seen: Set<String> = []
        var stack = [start]
        while let name = stack.popLast() {
            if name == target { return true }
            guard seen.insert(name).inserted, let message = messages[name], let file = symbols[name]?.file else { continue }
            for field in message.fields {
                switch field.label {
                case .repeated, .map: continue
                case .singular, .optional: break
                }
                guard case .named(let typeName) = field.type,
                      let (fullName, symbol) = resolve(typeName, scope: name, from: file), symbol.kind == .message else { continue }
                stack.append(fullName)
            }
        }
        return false
    }
}
