/// Custom call metadata: ordered key/value pairs sent as HTTP/2 headers or trailers.
///
/// Keys are lower-case ASCII (the transport lower-cases them). Keys ending in `-bin` carry
/// binary values, base64-encoded on the wire; every other key carries printable ASCII.
/// Reserved keys (those starting with `:` or `grpc-`, and the transport's own headers such as
/// `content-type` and `te`) are never taken from user metadata.
public struct Metadata: Sendable, Hashable, Sequence {
    /// A metadata value: text for ordinary keys, bytes for `-bin` keys.
    public enum Value: Sendable, Hashable {
        case string(String)
        case binary([UInt8])
    }

    public typealias Element = (key: String, value: Value)

    private var storage: [(key: String, value: Value)] = []

    public init() {}

    /// Metadata holding the given text pairs, in order.
    public init(_ pairs: [(String, String)]) {
        for (key, value) in pairs { add(key, value) }
    }

    /// Appends a text value. The key is lower-cased.
    public mutating func add(_ key: String, _ value: String) {
        storage.append((key.lowercased(), .string(value)))
    }

    /// Appends a binary value; the key should end in `-bin`. The key is lower-cased.
    public mutating func add(_ key: String, binary value: [UInt8]) {
        storage.append((key.lowercased(), .binary(value)))
    }

    /// Appends a value as is.
    public mutating func add(_ key: String, value: Value) {
        storage.append((key.lowercased(), value))
    }

    /// Removes every value stored under `key`.
    public mutating func removeAll(_ key: String) {
        let key = key.lowercased()
        storage.removeAll { $0.key == key }
    }

    /// Replaces every value stored under `key` with one text value.
    public mutating func replace(_ key: String, _ value: String) {
        removeAll(key)
        add(key, value)
    }

    /// The first text value stored under `key`.
    public subscript(_ key: String) -> String? {
        let key = key.lowercased()
        for entry in storage where entry.key == key {
            if case .string(let text) = entry.value { return text }
        }
        return nil
    }

    /// The first binary value stored under `key`.
    public func binary(_ key: String) -> [UInt8]? {
        let key = key.lowercased()
        for entry in storage where entry.key == key {
            if case .binary(let bytes) = entry.value { return bytes }
        }
        return nil
    }

    public var isEmpty: Bool { storage.isEmpty }
    public var count: Int { storage.count }

    public func makeIterator() -> IndexingIterator<[(key: String, value: Value)]> {
        storage.makeIterator()
    }

    public static func == (lhs: Metadata, rhs: Metadata) -> Bool {
        lhs.storage.elementsEqual(rhs.storage) { $0.key == $1.key && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        for entry in storage {
            hasher.combine(entry.key)
            hasher.combine(entry.value)
        }
    }

    /// Whether `key` is one the transport owns and user metadata may not set.
    public static func isReserved(_ key: String) -> Bool {
        key.hasPrefix(":") || key.hasPrefix("grpc-")
            || ["content-type", "te", "user-agent", "content-length", "connection", "host",
                "transfer-encoding", "upgrade", "keep-alive", "proxy-connection"].contains(key)
    }
}
