/// Just enough XML for S3's answers: elements, text, the five named entities and numeric
/// character references, CDATA, comments and the `<?xml ...?>` prolog. Attributes and namespace
/// prefixes are read past and dropped; a DOCTYPE is refused (no entity expansion, ever).
struct XMLElement: Sendable, Equatable {
    /// The local name (any `prefix:` removed).
    var name: String
    /// The element's own text, entities decoded, concatenated across its children.
    var text: String = ""
    var children: [XMLElement] = []

    /// The first child named `name`.
    func child(_ name: String) -> XMLElement? { children.first { $0.name == name } }
    /// Every child named `name`, in order.
    func children(_ name: String) -> [XMLElement] { children.filter { $0.name == name } }

    /// Parses a document; nil when it is not well-formed enough to trust.
    static func parse(_ bytes: [UInt8]) -> XMLElement? {
        var parser = Parser(bytes: bytes)
        return parser.document()
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func document() -> XMLElement? {
            var stack: [XMLElement] = []
            var root: XMLElement?
            while index < bytes.count {
                if bytes[index] != UInt8(ascii: "<") {
                    let start = index
                    while index < bytes.count, bytes[index] != UInt8(ascii: "<") { index += 1 }
                    guard let text = decode(bytes[start..<index]) else { return nil }
                    if stack.isEmpty {
                        guard text.utf8.allSatisfy({ [0x20, 0x09, 0x0A, 0x0D].contains($0) }) else { return nil }
                    } else {
                        stack[stack.count - 1].text += text
                    }
                    continue
                }
                if starts(with: "<?") {
                    guard skip(past: "?>") else { return nil }
                } else if starts(with: "<!--") {
                    guard skip(past: "-->") else { return nil }
                } else if starts(with: "<![CDATA[") {
                    index += 9
                    let start = index
                    guard skip(past: "]]>"), !stack.isEmpty else { return nil }
                    stack[stack.count - 1].text += String(decoding: bytes[start..<(index - 3)], as: UTF8.self)
                } else if starts(with: "<!") {
                    return nil
                } else if starts(with: "</") {
                    index += 2
                    guard let name = readName(), let open = stack.popLast(), open.name == name else { return nil }
                    skipSpace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: ">") else { return nil }
                    index += 1
                    if stack.isEmpty {
                        guard root == nil else { return nil }
                        root = open
                    } else {
                        stack[stack.count - 1].children.append(open)
                    }
                } else {
                    index += 1
                    guard let name = readName() else { return nil }
                    guard let selfClosing = skipAttributes() else { return nil }
                    let element = XMLElement(name: name)
                    if selfClosing {
                        if stack.isEmpty {
                            guard root == nil else { return nil }
                            root = element
                        } else {
                            stack[stack.count - 1].children.append(element)
                        }
                    } else {
                        guard root == nil else { return nil }
                        stack.append(element)
                    }
                }
            }
            return stack.isEmpty ? root : nil
        }

        func starts(with literal: String) -> Bool {
            let literal = Array(literal.utf8)
            return bytes.count - index >= literal.count && bytes[index..<(index + literal.count)].elementsEqual(literal)
        }

        mutating func skip(past literal: String) -> Bool {
            while index < bytes.count {
                if starts(with: literal) {
                    index += literal.utf8.count
                    return true
                }
                index += 1
            }
            return false
        }

        mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }

        /// Reads a tag name and returns its local part.
        mutating func readName() -> String? {
            let start = index
            while index < bytes.count {
                let byte = bytes[index]
                if [0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: ">"), UInt8(ascii: "/")].contains(byte) { break }
                index += 1
            }
            guard index > start else { return nil }
            let name = bytes[start..<index]
            let local = name.lastIndex(of: UInt8(ascii: ":")).map { name[($0 + 1)...] } ?? name
            return local.isEmpty ? nil : String(decoding: local, as: UTF8.self)
        }

        /// Skips attributes up to `>` or `/>`; returns whether the tag closes itself.
        mutating func skipAttributes() -> Bool? {
            var quote: UInt8?
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                if let open = quote {
                    if byte == open { quote = nil }
                } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                    quote = byte
                } else if byte == UInt8(ascii: ">") {
                    return index >= 2 && bytes[index - 2] == UInt8(ascii: "/")
                }
            }
            return nil
        }

        func decode(_ raw: ArraySlice<UInt8>) -> String? {
            guard raw.contains(UInt8(ascii: "&")) else { return String(decoding: raw, as: UTF8.self) }
            var out: [UInt8] = []
            var position = raw.startIndex
            while position < raw.endIndex {
                let byte = raw[position]
                guard byte == UInt8(ascii: "&") else {
                    out.append(byte)
                    position += 1
                    continue
                }
                guard let semicolon = raw[position...].firstIndex(of: UInt8(ascii: ";")), semicolon - position <= 10 else { return nil }
                let entity = String(decoding: raw[(position + 1)..<semicolon], as: UTF8.self)
                switch entity {
                case "lt": out.append(UInt8(ascii: "<"))
                case "gt": out.append(UInt8(ascii: ">"))
                case "amp": out.append(UInt8(ascii: "&"))
                case "quot": out.append(UInt8(ascii: "\""))
                case "apos": out.append(UInt8(ascii: "'"))
                default:
                    let value: UInt32?
                    if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                        value = UInt32(entity.dropFirst(2), radix: 16)
                    } else if entity.hasPrefix("#") {
                        value = UInt32(entity.dropFirst(), radix: 10)
                    } else {
                        value = nil
                    }
                    guard let value, let scalar = Unicode.Scalar(value), value != 0 else { return nil }
                    out += Array(String(Character(scalar)).utf8)
                }
                position = semicolon + 1
            }
            return String(decoding: out, as: UTF8.self)
        }
    }
}
