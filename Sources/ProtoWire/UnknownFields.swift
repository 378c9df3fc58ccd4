/// Fields a message did not recognise when it was decoded, kept as their raw wire bytes.
///
/// Decoding keeps every field whose number (or wire type) the message does not know, tag and
/// all, in arrival order; encoding writes them back after the known fields. So a service that
/// decodes and re-encodes a message from a newer peer passes the newer fields on unchanged.
/// Unknown fields take part in `==`, like every other stored property.
public struct UnknownFields: Sendable, Hashable {
    /// The raw fields, each a tag followed by its value, concatenated.
    public private(set) var bytes: [UInt8] = []

    public init() {}

    /// Unknown fields holding `bytes`, which must be whole, well-formed fields.
    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// True when nothing unknown was kept.
    @inlinable
    public var isEmpty: Bool { bytes.isEmpty }

    /// The number of bytes they take on the wire.
    @inlinable
    public var count: Int { bytes.count }

    @usableFromInline
    mutating func append(_ raw: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: raw)
    }
}
