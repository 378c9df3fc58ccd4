import Foundation

/// Writes the JSON response bodies the routes build as `[String: Any]`, without Foundation's
/// `JSONSerialization`: that one boxes every value, and on Linux its `.sortedKeys` compares
/// keys with a locale-aware (ICU) collation, which was the largest cost of a list response.
///
/// The output is what `JSONSerialization` with `[.sortedKeys, .withoutEscapingSlashes]` writes
/// for the same values, except for the key order of keys that differ only in ways a collation
/// and a byte order disagree about (upper/lower case, punctuation): here keys are sorted by
/// their UTF-8 bytes, which is stable and locale-free. Strings are escaped per RFC 8259: `"`
/// and `\`, the C0 controls (`\b \f \n \r \t`, others as `\u00XX`); everything else, `/` and
/// non-ASCII included, is written as its UTF-8 bytes.
///
/// Supported values: `String`, `Substring`, `Bool`, the fixed-width integers, finite `Double`
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
        case let number as Int:
            writeInteger(number, into: &output)
        case let number as Int64:
            writeInteger(number, into: &output)
        case let number as UInt64:
            writeInteger(number, into: &output)
        case let number as Int32:
            writeInteger(number, into: &output)
        case let number as UInt32:
            writeInteger(number, into: &output)
        case let number as UInt:
            writeInteger(number, into: &output)
        case let number as Int16:
            writeInteger(number, into: &output)
        case let number as UInt16:
            writeInteger(number, into: &output)
        case let number as Int8:
            writeInteger(number, into: &output)
        case let number as UInt8:
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

    /// A JSON string: RFC 8259's required escapes, the short forms where JSON has them.
    static func writeString(_ text: String, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x08: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x0A: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x00..<0x20:
                output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                           hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]])
            default:
                output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    private static func writeInteger(_ value: some BinaryInteger, into output: inout [UInt8]) {
        output.append(contentsOf: String(value).utf8)
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
