/// Parses the proto3 subset this project uses into a ``ProtoFile``.
///
/// Supported: `syntax = "proto3"`, `package`, `import` (and `import public`), messages with
/// nested messages and enums, scalar/message/enum fields, `repeated`, `map<,>`, `oneof`,
/// `optional`, `reserved`, enums, services with rpcs (streaming ones are parsed and later
/// skipped). Options are parsed and ignored, except `[packed = false]`. Comments directly
/// above a declaration (or after it on the same line) become its documentation.
/// Everything else (proto2, groups, extensions, `required`) is an error.
public struct ProtoParser {
    private var tokens: [Token]
    private var position = 0
    private let file: String

    /// A parser for `source`; `path` (relative to the proto root) names it in errors.
    public init(source: String, path: String) throws(ProtoGenError) {
        var tokenizer = Tokenizer(source: source, file: path)
        self.tokens = try tokenizer.tokenize()
        self.file = path
    }

    /// Parses the whole file.
    ///
    /// - Throws: ``ProtoGenError`` at the first problem, located by line.
    public mutating func parse() throws(ProtoGenError) -> ProtoFile {
        var result = ProtoFile(path: file)
        var sawSyntax = false
        while current.kind != .end {
            if consumeSymbol(";") { continue }
            let keyword = current
            guard keyword.kind == .identifier else { throw error("expected a declaration, found '\(keyword.text)'") }
            switch keyword.text {
            case "syntax":
                advance()
                try expectSymbol("=")
                let value = try expect(.string, "a string")
                guard value.text == "proto3" else {
                    throw error("only syntax = \"proto3\" is supported, found \"\(value.text)\"", at: value)
                }
                try expectSymbol(";")
                sawSyntax = true
            case "edition":
                throw error("editions are not supported; use syntax = \"proto3\"")
            case "package":
                advance()
                guard result.package.isEmpty else { throw error("more than one package statement", at: keyword) }
                result.package = try expect(.identifier, "a package name").text
                try expectSymbol(";")
            case "import":
                advance()
                if current.kind == .identifier, current.text == "public" || current.text == "weak" { advance() }
                result.imports.append(try expect(.string, "an import path").text)
                try expectSymbol(";")
            case "option":
                try skipOptionStatement()
            case "message":
                result.messages.append(try parseMessage())
            case "enum":
                result.enums.append(try parseEnum())
            case "service":
                result.services.append(try parseService())
            case "extend":
                throw error("extensions are not supported")
            default:
                throw error("unexpected '\(keyword.text)' at top level")
            }
        }
        guard sawSyntax else {
            throw ProtoGenError(file: file, line: 1, message: "missing syntax = \"proto3\"; (proto2 is not supported)")
        }
        return result
    }

    // MARK: Declarations

    private mutating func parseMessage() throws(ProtoGenError) -> MessageDecl {
        let keyword = advance()
        let name = try expectSimpleName("a message name")
        var message = MessageDecl(name: name.text, doc: keyword.leadingComment, line: keyword.line)
        try expectSymbol("{")
        while !consumeSymbol("}") {
            if current.kind == .end { throw error("message \(message.name) is not closed with '}'") }
            if consumeSymbol(";") { continue }
            let token = current
            switch (token.kind, token.text) {
            case (.identifier, "message"): message.messages.append(try parseMessage())
            case (.identifier, "enum"): message.enums.append(try parseEnum())
            case (.identifier, "option"): try skipOptionStatement()
            case (.identifier, "reserved"): try parseReserved(into: &message)
            case (.identifier, "oneof"): try parseOneof(into: &message)
            case (.identifier, "extensions"), (.identifier, "extend"): throw error("extensions are not supported")
            case (.identifier, "required"): throw error("'required' is not allowed in proto3")
            case (.identifier, "group"): throw error("groups are not supported")
            case (.identifier, "map") where peek(1).text == "<":
                message.fields.append(try parseMapField())
            case (.identifier, _):
                message.fields.append(try parseField(oneofIndex: nil))
            default:
                throw error("expected a field, found '\(token.text)'")
            }
        }
        try validate(message)
        return message
    }

    private mutating func parseField(oneofIndex: Int?) throws(ProtoGenError) -> FieldDecl {
        let first = current
        var label = FieldLabel.singular
        if first.text == "repeated" || first.text == "optional" {
            if oneofIndex != nil { throw error("fields in a oneof cannot be '\(first.text)'") }
            label = first.text == "repeated" ? .repeated : .optional
            advance()
        } else if first.text == "required" {
            throw error("'required' is not allowed in proto3")
        }
        let typeToken = try expect(.identifier, "a field type")
        if typeToken.text == "group" { throw error("groups are not supported", at: typeToken) }
        if typeToken.text == "map" { throw error("map fields cannot be repeated or optional", at: typeToken) }
        let type = ScalarType(rawValue: typeToken.text).map(TypeRef.scalar) ?? .named(typeToken.text)
        let name = try expectSimpleName("a field name")
        try expectSymbol("=")
        let number = try parseFieldNumber()
        var field = FieldDecl(name: name.text, number: number, label: label, type: type, oneofIndex: oneofIndex, line: first.line)
        field.packed = try parseFieldOptions()
        let semicolon = try expectSymbol(";")
        field.doc = first.leadingComment.isEmpty ? semicolon.trailingComment : first.leadingComment
        return field
    }

    private mutating func parseMapField() throws(ProtoGenError) -> FieldDecl {
        let first = advance()
        try expectSymbol("<")
        let keyToken = try expect(.identifier, "a map key type")
        guard let key = ScalarType(rawValue: keyToken.text), key != .double, key != .float, key != .bytes else {
            throw error("map keys must be an integer type, bool or string, not '\(keyToken.text)'", at: keyToken)
        }
        try expectSymbol(",")
        let valueToken = try expect(.identifier, "a map value type")
        let value = ScalarType(rawValue: valueToken.text).map(TypeRef.scalar) ?? .named(valueToken.text)
        if valueToken.text == "map" { throw error("map values cannot be maps", at: valueToken) }
        try expectSymbol(">")
        let name = try expectSimpleName("a field name")
        try expectSymbol("=")
        let number = try parseFieldNumber()
        var field = FieldDecl(name: name.text, number: number, label: .map(key: key), type: value, line: first.line)
        _ = try parseFieldOptions()
        let semicolon = try expectSymbol(";")
        field.doc = first.leadingComment.isEmpty ? semicolon.trailingComment : first.leadingComment
        return field
    }

    private mutating func parseOneof(into message: inout MessageDecl) throws(ProtoGenError) {
        let keyword = advance()
        let name = try expectSimpleName("a oneof name")
        let index = message.oneofs.count
        message.oneofs.append(OneofDecl(name: name.text, doc: keyword.leadingComment))
        try expectSymbol("{")
        var count = 0
        while !consumeSymbol("}") {
            if current.kind == .end { throw error("oneof \(name.text) is not closed with '}'") }
            if consumeSymbol(";") { continue }
            if current.text == "option" {
                try skipOptionStatement()
                continue
            }
            if current.text == "map" { throw error("map fields are not allowed in a oneof") }
            message.fields.append(try parseField(oneofIndex: index))
            count += 1
        }
        if count == 0 { throw error("oneof \(name.text) has no fields", at: keyword) }
    }

    private mutating func parseReserved(into message: inout MessageDecl) throws(ProtoGenError) {
        advance()
        repeat {
            if current.kind == .string {
                message.reservedNames.append(advance().text)
            } else {
                let low = try parseFieldNumber(allowReservedRange: true)
                var high = low
                if current.text == "to" {
                    advance()
                    if current.text == "max" {
                        advance()
                        high = ProtoLimits.maxFieldNumber
                    } else {
                        high = try parseFieldNumber(allowReservedRange: true)
                    }
                }
                guard low <= high else { throw error("reserved range \(low) to \(high) is empty") }
                message.reservedNumbers.append(low...high)
            }
        } while consumeSymbol(",")
        try expectSymbol(";")
    }

    private mutating func parseEnum() throws(ProtoGenError) -> EnumDecl {
        let keyword = advance()
        let name = try expectSimpleName("an enum name")
        var decl = EnumDecl(name: name.text, doc: keyword.leadingComment, line: keyword.line)
        try expectSymbol("{")
        while !consumeSymbol("}") {
            if current.kind == .end { throw error("enum \(decl.name) is not closed with '}'") }
            if consumeSymbol(";") { continue }
            if current.text == "option" {
                try skipOptionStatement()
                continue
            }
            if current.text == "reserved" {
                advance()
                while !consumeSymbol(";") {
                    if current.kind == .end { throw error("unterminated reserved statement") }
                    advance()
                }
                continue
            }
            let valueName = try expectSimpleName("an enum value name")
            try expectSymbol("=")
            let negative = consumeSymbol("-")
            let numberToken = try expect(.integer, "an enum value number")
            guard let magnitude = Self.parseInteger(numberToken.text),
                  let number = Int32(exactly: negative ? -magnitude : magnitude) else {
                throw error("enum value \(valueName.text) is out of the int32 range", at: numberToken)
            }
            _ = try parseFieldOptions()
            let semicolon = try expectSymbol(";")
            let doc = valueName.leadingComment.isEmpty ? semicolon.trailingComment : valueName.leadingComment
            decl.values.append(EnumValueDecl(name: valueName.text, number: number, doc: doc, line: valueName.line))
        }
        guard let first = decl.values.first else { throw error("enum \(decl.name) has no values", at: keyword) }
        guard first.number == 0 else {
            throw ProtoGenError(file: file, line: first.line, message: "the first value of enum \(decl.name) must be 0 in proto3")
        }
        return decl
    }

    private mutating func parseService() throws(ProtoGenError) -> ServiceDecl {
        let keyword = advance()
        let name = try expectSimpleName("a service name")
        var service = ServiceDecl(name: name.text, doc: keyword.leadingComment, line: keyword.line)
        try expectSymbol("{")
        while !consumeSymbol("}") {
            if current.kind == .end { throw error("service \(service.name) is not closed with '}'") }
            if consumeSymbol(";") { continue }
            if current.text == "option" {
                try skipOptionStatement()
                continue
            }
            guard current.text == "rpc" else { throw error("expected 'rpc', found '\(current.text)'") }
            let rpc = advance()
            let methodName = try expectSimpleName("a method name")
            var method = MethodDecl(name: methodName.text, inputType: "", outputType: "", doc: rpc.leadingComment, line: rpc.line)
            try expectSymbol("(")
            if current.text == "stream", peek(1).kind == .identifier {
                advance()
                method.clientStreaming = true
            }
            method.inputType = try expect(.identifier, "a request type").text
            try expectSymbol(")")
            guard current.text == "returns" else { throw error("expected 'returns', found '\(current.text)'") }
            advance()
            try expectSymbol("(")
            if current.text == "stream", peek(1).kind == .identifier {
                advance()
                method.serverStreaming = true
            }
            method.outputType = try expect(.identifier, "a response type").text
            try expectSymbol(")")
            if consumeSymbol("{") {
                while !consumeSymbol("}") {
                    if current.kind == .end { throw error("rpc \(method.name) is not closed with '}'") }
                    if consumeSymbol(";") { continue }
                    guard current.text == "option" else { throw error("expected 'option' in rpc body, found '\(current.text)'") }
                    try skipOptionStatement()
                }
            } else {
                let semicolon = try expectSymbol(";")
                if method.doc.isEmpty { method.doc = semicolon.trailingComment }
            }
            if service.methods.contains(where: { $0.name == method.name }) {
                throw error("duplicate method \(method.name) in service \(service.name)", at: rpc)
            }
            service.methods.append(method)
        }
        return service
    }

    // MARK: Options

    private mutating func skipOptionStatement() throws(ProtoGenError) {
        advance()
        try skipOptionName()
        try expectSymbol("=")
        try skipConstant()
        try expectSymbol(";")
    }

    private mutating func skipOptionName() throws(ProtoGenError) {
        repeat {
            if consumeSymbol("(") {
                _ = try expect(.identifier, "an option name")
                try expectSymbol(")")
                if current.kind == .identifier, current.text.hasPrefix(".") { advance() }
            } else {
                _ = try expect(.identifier, "an option name")
            }
        } while consumeSymbol(".")
    }

    private mutating func skipConstant() throws(ProtoGenError) {
        if consumeSymbol("{") {
            var depth = 1
            while depth > 0 {
                if current.kind == .end { throw error("unterminated option value") }
                if current.text == "{", current.kind == .symbol { depth += 1 }
                if current.text == "}", current.kind == .symbol { depth -= 1 }
                advance()
            }
            return
        }
        _ = consumeSymbol("-") || consumeSymbol("+")
        switch current.kind {
        case .identifier, .integer, .float: advance()
        case .string: while current.kind == .string { advance() }
        default: throw error("expected an option value, found '\(current.text)'")
        }
    }

    /// Parses `[name = value, ...]` if present; returns the `packed` option (default true).
    private mutating func parseFieldOptions() throws(ProtoGenError) -> Bool {
        var packed = true
        guard consumeSymbol("[") else { return packed }
        repeat {
            let nameToken = current
            try skipOptionName()
            try expectSymbol("=")
            let valueToken = current
            try skipConstant()
            if nameToken.text == "packed" {
                guard valueToken.text == "true" || valueToken.text == "false" else {
                    throw error("packed must be true or false", at: valueToken)
                }
                packed = valueToken.text == "true"
            }
        } while consumeSymbol(",")
        try expectSymbol("]")
        return packed
    }

    // MARK: Validation

    private func validate(_ message: MessageDecl) throws(ProtoGenError) {
        var numbers: [Int: String] = [:]
        var names: Set<String> = []
        for field in message.fields {
            if let other = numbers[field.number] {
                throw ProtoGenError(file: file, line: field.line, message: "field number \(field.number) of \(field.name) is already used by \(other) in \(message.name)")
            }
            numbers[field.number] = field.name
            if !names.insert(field.name).inserted {
                throw ProtoGenError(file: file, line: field.line, message: "duplicate field name \(field.name) in \(message.name)")
            }
            if message.reservedNumbers.contains(where: { $0.contains(field.number) }) {
                throw ProtoGenError(file: file, line: field.line, message: "field \(field.name) uses reserved number \(field.number)")
            }
            if message.reservedNames.contains(field.name) {
                throw ProtoGenError(file: file, line: field.line, message: "field name \(field.name) is reserved")
            }
            if !field.packed, case .repeated = field.label {} else if !field.packed {
                throw ProtoGenError(file: file, line: field.line, message: "[packed] applies only to repeated fields")
            }
        }
    }

    // MARK: Token helpers

    private var current: Token { tokens[position] }

    private func peek(_ offset: Int) -> Token {
        tokens[min(position + offset, tokens.count - 1)]
    }

    @discardableResult
    private mutating func advance() -> Token {
        let token = tokens[position]
        if position < tokens.count - 1 { position += 1 }
        return token
    }

    private mutating func consumeSymbol(_ symbol: String) -> Bool {
        guard current.kind == .symbol, current.text == symbol else { return false }
        advance()
        return true
    }

    @discardableResult
    private mutating func expectSymbol(_ symbol: String) throws(ProtoGenError) -> Token {
        guard current.kind == .symbol, current.text == symbol else {
            throw error("expected '\(symbol)', found \(describe(current))")
        }
        return advance()
    }

    private mutating func expect(_ kind: Token.Kind, _ what: String) throws(ProtoGenError) -> Token {
        guard current.kind == kind else { throw error("expected \(what), found \(describe(current))") }
        return advance()
    }

    private mutating func expectSimpleName(_ what: String) throws(ProtoGenError) -> Token {
        let token = try expect(.identifier, what)
        guard !token.text.contains(".") else { throw error("\(what) cannot contain '.': \(token.text)", at: token) }
        return token
    }

    private mutating func parseFieldNumber(allowReservedRange: Bool = false) throws(ProtoGenError) -> Int {
        let token = try expect(.integer, "a field number")
        guard let number = Self.parseInteger(token.text), number >= 1, number <= ProtoLimits.maxFieldNumber else {
            throw error("field number \(token.text) is outside 1...\(ProtoLimits.maxFieldNumber)", at: token)
        }
        if !allowReservedRange, (19000...19999).contains(number) {
            throw error("field numbers 19000 to 19999 are reserved by protobuf", at: token)
        }
        return number
    }

    static func parseInteger(_ text: String) -> Int? {
        let lower = text.lowercased()
        if lower.hasPrefix("0x") { return Int(lower.dropFirst(2), radix: 16) }
        if lower.count > 1, lower.hasPrefix("0") { return Int(lower.dropFirst(), radix: 8) }
        return Int(lower)
    }

    private func describe(_ token: Token) -> String {
        switch token.kind {
        case .end: "end of file"
        case .string: "\"\(token.text)\""
        default: "'\(token.text)'"
        }
    }

    private func error(_ message: String, at token: Token? = nil) -> ProtoGenError {
        ProtoGenError(file: file, line: (token ?? current).line, message: message)
    }
}

enum ProtoLimits {
    static let maxFieldNumber = (1 << 29) - 1
}
