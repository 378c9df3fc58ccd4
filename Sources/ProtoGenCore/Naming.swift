/// Swift names for proto names.
enum Naming {
    /// Swift keywords and names that need care as identifiers.
    static let keywords: Set<String> = [
        "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init",
        "inout", "internal", "let", "open", "operator", "private", "precedencegroup", "protocol", "public",
        "rethrows", "static", "struct", "subscript", "typealias", "var", "break", "case", "catch", "continue",
        "default", "defer", "do", "else", "fallthrough", "for", "guard", "if", "in", "repeat", "return",
        "throw", "switch", "where", "while", "Any", "as", "await", "false", "is", "nil", "self", "Self",
        "super", "throws", "true", "try", "Type", "Protocol", "some", "any",
    ]

    /// Names a generated message already uses for its own members.
    static let reservedMembers: Set<String> = [
        "unknownFields", "protoMessageName", "serializedSize", "encodeFields", "decodeFields",
        "serializedBytes", "merge", "hashValue", "hash",
    ]

    /// `delay_ms` → `delayMs`, `HTTPPort` → `httpport`-free: only underscores split words.
    static func lowerCamel(_ snake: String) -> String {
        var result = ""
        var upperNext = false
        for character in snake {
            if character == "_" {
                upperNext = !result.isEmpty
                continue
            }
            if upperNext {
                result += character.uppercased()
                upperNext = false
            } else {
                result.append(character)
            }
        }
        guard let first = result.first else { return "_" }
        return first.lowercased() + result.dropFirst()
    }

    /// `my_oneof` → `MyOneof`.
    static func upperCamel(_ snake: String) -> String {
        let lower = lowerCamel(snake)
        guard let first = lower.first else { return lower }
        return first.uppercased() + lower.dropFirst()
    }

    /// `NOT_SERVING` → `notServing`.
    static func enumCase(_ upperSnake: String) -> String {
        lowerCamel(upperSnake.lowercased())
    }

    /// `ServingStatus` → `SERVING_STATUS`.
    static func upperSnake(_ camel: String) -> String {
        var result = ""
        var previousWasLower = false
        for character in camel {
            if character.isUppercase, previousWasLower { result += "_" }
            result += character.uppercased()
            previousWasLower = character.isLowercase || character.isNumber
        }
        return result
    }

    /// A Swift enum-case-style name for an enum value, with the enum's prefix stripped
    /// (`COLOR_RED` in `Color` → `red`) when what is left is a valid name.
    static func enumValueName(_ value: String, enumName: String) -> String {
        let prefix = upperSnake(enumName) + "_"
        var stripped = value
        if value.hasPrefix(prefix), value.count > prefix.count {
            let rest = String(value.dropFirst(prefix.count))
            if let first = rest.first, !first.isNumber { stripped = rest }
        }
        return memberName(enumCase(stripped))
    }

    /// A property or case name that is safe to declare: keywords get backquotes; names Swift
    /// cannot backquote, and those a message uses itself, get a trailing underscore.
    static func memberName(_ name: String) -> String {
        if ["self", "Type", "Protocol", "init", "Self"].contains(name) || reservedMembers.contains(name) {
            return name + "_"
        }
        if let first = name.first, first.isNumber { return "_" + name }
        return keywords.contains(name) ? "`\(name)`" : name
    }

    /// A type name that is safe to declare.
    static func typeName(_ name: String) -> String {
        ["Type", "Protocol", "Self", "Any"].contains(name) ? name + "_" : (keywords.contains(name) ? "`\(name)`" : name)
    }

    /// A Swift string literal for `text`.
    static func stringLiteral(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
