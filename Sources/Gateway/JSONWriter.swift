import Foundation

/// Writes JSON response bodies without Foundation's `JSONSerialization`: the typed
/// ``JSONValue``s of the image routes, and the bodies the other routes build as
/// `[String: Any]`. `JSONSerialization` boxes every value, and on Linux its `.sortedKeys`
/// compares keys with a locale-aware (ICU) collation, which was once the largest cost of a list
/// response.
///
/// The output is what `JSONSerialization` with `[.sortedKeys, .withoutEscapingSlashes]` writes
/// for the same values, except for the key order of keys that differ only in ways a collation
/// and a byte order disagree about (upper/lower case, punctuation): here keys are sorted by
/// their UTF-8 bytes, which is stable and locale-free. Strings are escaped per RFC 8259: `"`
/// and `\`, the C0 controls (`\b \f \n \r \t`, others as `\u00XX`); everything else, `/` and
/// non-ASCII included, is written as its UTF-8 bytes.
///
/// Supported values: `String`, `Substring`, `Bool`, any `BinaryInteger`, finite `Double`
/// and `Float`, `NSNull`, `[String: Any]`, `[Any]` (and so `[String]`, `[Int]`, ...). Anything
/// else (an `NSNumber` from a parsed body, a `Date`, a non-finite number) makes ``encode(_:)``
/// answer `nil`, so the caller can fall back to `JSONSerialization` and keep its behaviour.
/// Pure and thread-safe.
enum JSONWriter {
    /// The UTF-8 JSON text of `value`, or `nil` when it holds an unsupported value.
    static func encode(_ value: Any) -> [UInt8]? {
        var output: [UInt8] = []
        output.reserveCapacity(1024)
        guard write(value, into: &output) else { return nil }
        return output
    }

    private static func write(_ value: Any, into output: inout [UInt8]) -> Bool {
        // Containers first, and no cast to a class (`as NSNull`) for Swift values: on Linux such
        // a cast bridges the value to Foundation first (a whole dictionary, recursively), which
        // cost more than the writing itself. Metatype checks do not bridge.
        switch value {
        case let object as [String: Any]:
            return writeObject(object, into: &output)
        case let array as [Any]:
            output.append(UInt8(ascii: "["))
            for (index, element) in array.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                guard write(element, into: &output) else { return false }
            }
            output.append(UInt8(ascii: "]"))
        case let text as String:
            writeString(text, into: &output)
        case _ where type(of: value) is NSNumber.Type:
            // An actual NSNumber (from a parsed body): whether it is a Bool is not reliably
            // visible through casts on every platform, so leave it to JSONSerialization. (A
            // Swift Int's dynamic type is Int, so this does not catch Swift numbers.)
            return false
        case _ where type(of: value) is NSNull.Type:
            output.append(contentsOf: nullBytes)
        case let text as Substring:
            writeString(String(text), into: &output)
        case let flag as Bool:
            output.append(contentsOf: flag ? trueBytes : falseBytes)
        case let number as any BinaryInteger:
            // Every fixed-width integer (Int, Int8 ... UInt64): the existential opens onto the
            // generic writer.
            writeInteger(number, into: &output)
        case let number as Double:
            return writeDouble(number, into: &output)
        case let number as Float:
            return writeDouble(Double(number), into: &output)
        default:
            return false
        }
        return true
    }

    private static func writeObject(_ object: [String: Any], into output: inout [UInt8]) -> Bool {
        output.append(UInt8(ascii: "{"))
        let keys = object.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        for (index, key) in keys.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            writeString(key, into: &output)
            output.append(UInt8(ascii: ":"))
            guard write(object[key]!, into: &output) else { return false }
        }
        output.append(UInt8(ascii: "}"))
        return true
    }

    /// A JSON string: RFC 8259's required escapes, the short forms where JSON has them. Runs of
    /// bytes that need no escape (nearly all of them) are copied in one go.
    static func writeString(_ text: String, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { bytes in
            var runStart = 0
            for index in bytes.indices {
                let byte = bytes[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                runStart = index + 1
                switch byte {
                case UInt8(ascii: "\""): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
                case UInt8(ascii: "\\"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
                case 0x08: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
                case 0x0C: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
                case 0x0A: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
                case 0x0D: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
                case 0x09: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
                default:
                    output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                               hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]])
                }
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        }
        output.append(UInt8(ascii: "\""))
    }

    /// Decimal digits, written in place (no intermediate `String`).
    static func writeInteger<T: BinaryInteger>(_ value: T, into output: inout [UInt8]) {
        if value < 0 { output.append(UInt8(ascii: "-")) }
        let start = output.count
        var rest = value.magnitude
        repeat {
            let (quotient, digit) = rest.quotientAndRemainder(dividingBy: 10)
            output.append(UInt8(ascii: "0") + UInt8(digit))
            rest = quotient
        } while rest != 0
        output[start...].reverse()
    }

    // MARK: Typed values

    /// The UTF-8 JSON text of `value`.
    static func encode(_ value: JSONValue) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(1024)
        write(value, into: &output)
        return output
    }

    static func write(_ value: JSONValue, into output: inout [UInt8]) {
        switch value {
        case .string(let text):
            writeString(text, into: &output)
        case .integer(let number):
            writeInteger(number, into: &output)
        case .unsigned(let number):
            writeInteger(number, into: &output)
        case .bool(let flag):
            output.append(contentsOf: flag ? trueBytes : falseBytes)
        case .null:
            output.append(contentsOf: nullBytes)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                write(element, into: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                writeString(member.key, into: &output)
                output.append(UInt8(ascii: ":"))
                write(member.value, into: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// Integral values within ±2^53 as integers (as `JSONSerialization` writes them), others in
    /// Swift's shortest round-tripping form; `false` for infinities and NaN, which JSON lacks.
    private static func writeDouble(_ value: Double, into output: inout [UInt8]) -> Bool {
        guard value.isFinite else { return false }
        if value == value.rounded(), abs(value) < 9_007_199_254_740_992 {
            output.append(contentsOf: String(Int64(value)).utf8)
        } else {
            output.append(contentsOf: "\(value)".utf8)
        }
        return true
    }

    private static let trueBytes = Array("true".utf8)
    private static let falseBytes = Array("false".utf8)
    private static let nullBytes = Array("null".utf8)
    private static let hexDigits = Array("0123456789abcdef".utf8)
}

/// A JSON value whose shape is known where it is built: what the image routes answer with,
/// written by ``JSONWriter`` with no dynamic casts (for a list page, casting every value of a
/// `[String: Any]` cost more than writing the text). Object members are written in the order
/// given. The routes list them sorted by their UTF-8 bytes (``object(sorted:)``, checked in
/// debug builds; ``setting(_:to:)`` keeps that order), so a body reads exactly as the same object
/// built as `[String: Any]` did.
enum JSONValue: Sendable, Equatable {
    case string(String)
    case integer(Int64)
    case unsigned(UInt64)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([Member])

    struct Member: Sendable, Equatable {
        var key: String
        var value: JSONValue

        init(_ key: String, _ value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// An object whose members the caller lists sorted by key bytes, with no repeated key.
    static func object(sorted members: [Member]) -> JSONValue {
        assert(zip(members, members.dropFirst()).allSatisfy { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }, "members not sorted")
        return .object(members)
    }

    /// `value` as a string, or null.
    static func string(_ value: String?) -> JSONValue {
        value.map { .string($0) } ?? .null
    }

    static func strings(_ values: [String]) -> JSONValue {
        .array(values.map { .string($0) })
    }

    /// The object's members, or none for any other value.
    var members: [Member] {
        if case .object(let members) = self { return members }
        return []
    }

    /// This object with `key` set to `value`, in its sorted place.
    func setting(_ key: String, to value: JSONValue) -> JSONValue {
        var members = self.members.filter { $0.key != key }
        let index = members.firstIndex { key.utf8.lexicographicallyPrecedes($0.key.utf8) } ?? members.endIndex
        members.insert(Member(key, value), at: index)
        return .object(members)
    }

    /// A member's value, for tests and the rare route that reads its own body back.
    subscript(key: String) -> JSONValue? {
        members.first { $0.key == key }?.value
    }
}
