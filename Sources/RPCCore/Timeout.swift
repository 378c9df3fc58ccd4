/// The `grpc-timeout` header: up to eight ASCII digits and a unit (`H M S m u n`).
public enum GRPCTimeout {
    /// Parses a `grpc-timeout` value; `nil` when malformed.
    public static func parse(_ text: String) -> Duration? {
        let utf8 = Array(text.utf8)
        guard utf8.count >= 2, utf8.count <= 9 else { return nil }
        var value: Int64 = 0
        for byte in utf8.dropLast() {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int64(byte - UInt8(ascii: "0"))
        }
        switch utf8.last! {
        case UInt8(ascii: "H"): return .seconds(value * 3600)
        case UInt8(ascii: "M"): return .seconds(value * 60)
        case UInt8(ascii: "S"): return .seconds(value)
        case UInt8(ascii: "m"): return .milliseconds(value)
        case UInt8(ascii: "u"): return .microseconds(value)
        case UInt8(ascii: "n"): return .nanoseconds(value)
        default: return nil
        }
    }

    /// Encodes a duration with the finest unit that fits in eight digits, rounding up so a
    /// deadline is never shortened by the encoding. Negative durations encode as `0n`.
    public static func encode(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        if seconds < 0 || (seconds == 0 && attoseconds <= 0) { return "0n" }
        let nanos = Double(seconds) * 1e9 + Double(attoseconds) / 1e9
        let units: [(Character, Double)] = [("n", 1), ("u", 1e3), ("m", 1e6), ("S", 1e9), ("M", 60e9), ("H", 3600e9)]
        for (unit, scale) in units {
            let value = (nanos / scale).rounded(.up)
            if value < 100_000_000 { return "\(Int64(value))\(unit)" }
        }
        return "99999999H"
    }
}

/// Percent-encoding of `grpc-message`, as PROTOCOL-HTTP2 specifies: bytes outside
/// 0x20...0x7E, and `%` itself, become `%XX` of the UTF-8 encoding.
public enum GRPCMessageEncoding {
    /// Encodes `message` for the `grpc-message` field. A space at either end is encoded too
    /// (`%20`): HTTP/2 (RFC 9113 §8.2.1) forbids a field value that starts or ends with
    /// whitespace, and nghttp2 rejects the whole header block, status and all, if one does.
    public static func encode(_ message: String) -> String {
        var out = ""
        out.reserveCapacity(message.utf8.count)
        let hex = Array("0123456789ABCDEF")
        let last = message.utf8.count - 1
        for (index, byte) in message.utf8.enumerated() {
            let spaceAtAnEnd = byte == UInt8(ascii: " ") && (index == 0 || index == last)
            if byte >= 0x20 && byte <= 0x7E && byte != UInt8(ascii: "%") && !spaceAtAnEnd {
                out.append(Character(Unicode.Scalar(byte)))
            } else {
                out.append("%")
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            }
        }
        return out
    }

    /// Decodes leniently: a malformed `%` sequence is kept as is, as the spec asks.
    public static func decode(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
               let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) {
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
