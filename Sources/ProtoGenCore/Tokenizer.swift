/// One lexical token of a `.proto` file, with the comments that document it.
struct Token: Sendable, Hashable {
    enum Kind: Sendable, Hashable {
        /// An identifier, possibly dotted (`foo`, `pkg.Msg`, `.pkg.Msg`).
        case identifier
        case integer
        case float
        case string
        /// One punctuation character.
        case symbol
        case end
    }

    var kind: Kind
    /// The text: an identifier, the number as written, a string's decoded value, a symbol.
    var text: String
    var line: Int
    /// The comment block directly above the token (no blank line between), one entry a line.
    var leadingComment: [String] = []
    /// A comment after the token on the same line.
    var trailingComment: [String] = []
}

/// Splits `.proto` source into tokens, keeping comments for documentation.
struct Tokenizer {
    private let bytes: [UInt8]
    private let file: String
    private var index = 0
    private var line = 1

    init(source: String, file: String) {
        self.bytes = Array(source.utf8)
        self.file = file
    }

    mutating func tokenize() throws(ProtoGenError) -> [Token] {
        var tokens: [Token] = []
        var pending: [String] = []
        var pendingEndLine = -10
        while true {
            skipWhitespace()
            guard index < bytes.count else {
                tokens.append(Token(kind: .end, text: "", line: line))
                return tokens
            }
            let byte = bytes[index]
            if byte == UInt8(ascii: "/"), index + 1 < bytes.count,
               bytes[index + 1] == UInt8(ascii: "/") || bytes[index + 1] == UInt8(ascii: "*") {
                let startLine = line
                let text = try readComment()
                if let last = tokens.last, last.line == startLine, last.kind != .end {
                    tokens[tokens.count - 1].trailingComment += text
                    continue
                }
                if startLine > pendingEndLine + 1 { pending = [] }
                pending += text
                pendingEndLine = line - (bytes[index - 1] == UInt8(ascii: "\n") ? 1 : 0)
                continue
            }
            var token = try readToken()
            if !pending.isEmpty, pendingEndLine >= token.line - 1 {
                token.leadingComment = pending
            }
            pending = []
            tokens.append(token)
        }
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\n"):
                line += 1
                index += 1
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), 0x0C, 0x0B:
                index += 1
            default:
                return
            }
        }
    }

    /// Reads a `//` comment (through its newline) or a `/* */` comment; returns its lines.
    private mutating func readComment() throws(ProtoGenError) -> [String] {
        if bytes[index + 1] == UInt8(ascii: "/") {
            index += 2
            let start = index
            while index < bytes.count, bytes[index] != UInt8(ascii: "\n") { index += 1 }
            var text = String(decoding: bytes[start..<index], as: UTF8.self)
            if index < bytes.count {
                index += 1
                line += 1
            }
            if text.hasPrefix(" ") { text.removeFirst() }
            return [trimTrailing(text)]
        }
        let startLine = line
        index += 2
        let start = index
        while index + 1 < bytes.count, !(bytes[index] == UInt8(ascii: "*") && bytes[index + 1] == UInt8(ascii: "/")) {
            if bytes[index] == UInt8(ascii: "\n") { line += 1 }
            index += 1
        }
        guard index + 1 < bytes.count else {
            throw ProtoGenError(file: file, line: startLine, message: "unterminated /* comment")
        }
        let body = String(decoding: bytes[start..<index], as: UTF8.self)
        index += 2
        var lines: [String] = []
        for raw in body.split(separator: "\n", omittingEmptySubsequences: false) {
            var text = Substring(raw)
            while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
            if text.hasPrefix("*") {
                text.removeFirst()
                if text.hasPrefix(" ") { text.removeFirst() }
            }
            lines.append(trimTrailing(String(text)))
        }
        while lines.first?.isEmpty == true { lines.removeFirst() }
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines
    }

    private func trimTrailing(_ text: String) -> String {
        var text = Substring(text)
        while let last = text.last, last == " " || last == "\t" || last == "\r" { text.removeLast() }
        return String(text)
    }

    private static func isIdentifierStart(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || byte == UInt8(ascii: "_")
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private mutating func readToken() throws(ProtoGenError) -> Token {
        let start = index
        let byte = bytes[index]
        if Self.isIdentifierStart(byte) || (byte == UInt8(ascii: ".") && index + 1 < bytes.count && Self.isIdentifierStart(bytes[index + 1])) {
            index += 1
            while index < bytes.count,
                  Self.isIdentifierStart(bytes[index]) || Self.isDigit(bytes[index])
                    || (bytes[index] == UInt8(ascii: ".") && index + 1 < bytes.count && Self.isIdentifierStart(bytes[index + 1])) {
                index += 1
            }
            return Token(kind: .identifier, text: String(decoding: bytes[start..<index], as: UTF8.self), line: line)
        }
        if Self.isDigit(byte) || (byte == UInt8(ascii: ".") && index + 1 < bytes.count && Self.isDigit(bytes[index + 1])) {
            var isFloat = false
            while index < bytes.count {
                let next = bytes[index]
                if Self.isDigit(next) || Self.isIdentifierStart(next) {
                    if next == UInt8(ascii: "e") || next == UInt8(ascii: "E"), !String(decoding: bytes[start..<index], as: UTF8.self).lowercased().hasPrefix("0x") {
                        isFloat = true
                        index += 1
                        if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") { index += 1 }
                        continue
                    }
                    index += 1
                } else if next == UInt8(ascii: ".") {
                    isFloat = true
                    index += 1
                } else {
                    break
                }
            }
            return Token(kind: isFloat ? .float : .integer, text: String(decoding: bytes[start..<index], as: UTF8.self), line: line)
        }
        if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
            return try readString(quote: byte)
        }
        let symbols = Array("{}()[]<>;=,-+:.".utf8)
        if symbols.contains(byte) {
            index += 1
            return Token(kind: .symbol, text: String(UnicodeScalar(byte)), line: line)
        }
        throw ProtoGenError(file: file, line: line, message: "unexpected character '\(String(UnicodeScalar(byte)))'")
    }

    private mutating func readString(quote: UInt8) throws(ProtoGenError) -> Token {
        let startLine = line
        index += 1
        var value: [UInt8] = []
        while true {
            guard index < bytes.count, bytes[index] != UInt8(ascii: "\n") else {
                throw ProtoGenError(file: file, line: startLine, message: "unterminated string literal")
            }
            let byte = bytes[index]
            index += 1
            if byte == quote { break }
            if byte == UInt8(ascii: "\\"), index < bytes.count {
                let escaped = bytes[index]
                index += 1
                switch escaped {
                case UInt8(ascii: "n"): value.append(UInt8(ascii: "\n"))
                case UInt8(ascii: "t"): value.append(UInt8(ascii: "\t"))
                case UInt8(ascii: "r"): value.append(UInt8(ascii: "\r"))
                case UInt8(ascii: "0"): value.append(0)
                default: value.append(escaped)
                }
            } else {
                value.append(byte)
            }
        }
        return Token(kind: .string, text: String(decoding: value, as: UTF8.self), line: startLine)
    }
}
