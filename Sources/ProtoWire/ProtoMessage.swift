/// A protobuf message: a value type the generated code conforms to `ProtoMessage`.
///
/// Generated messages are plain structs with `var` properties, so `==` compares every field,
/// including ``unknownFields``. Use ``init(serializedBytes:limits:)`` to decode and
/// ``serializedBytes()`` to encode; the other requirements are the generated code's half of
/// the codec and are rarely called directly.
public protocol ProtoMessage: Sendable, Hashable {
    /// The fully-qualified protobuf name, e.g. `grpc.health.v1.HealthCheckRequest`.
    static var protoMessageName: String { get }

    /// A message with every field at its default.
    init()

    /// Fields the message did not recognise when decoded; re-emitted when encoded.
    var unknownFields: UnknownFields { get set }

    /// Reads fields until the reader's end, merging them into `self` as protobuf specifies:
    /// scalars overwrite, repeated fields and maps append, nested messages merge.
    ///
    /// - Throws: ``ProtoDecodingError`` for malformed input; `self` is then partly updated.
    mutating func decodeFields(from reader: inout ProtoReader) throws(ProtoDecodingError)

    /// The number of bytes ``encodeFields(to:)`` writes.
    func serializedSize() -> Int

    /// Writes every field; the writer must have room for exactly ``serializedSize()`` bytes.
    func encodeFields(to writer: inout ProtoWriter)
}

extension ProtoMessage {
    /// Decodes a message from its wire bytes.
    ///
    /// Unknown fields are kept in ``unknownFields``. A known field that arrives with a wire
    /// type other than its own is treated as unknown, as the reference implementations do.
    /// A `bytes` field is copied out of `bytes` once.
    ///
    /// - Throws: ``ProtoDecodingError`` for truncated, malformed or over-limit input.
    @inlinable
    public init(serializedBytes bytes: [UInt8], limits: DecodingLimits = .default) throws(ProtoDecodingError) {
        self.init()
        try merge(serializedBytes: bytes, limits: limits)
    }

    /// Decodes a message from wire bytes in raw memory, which is only read during the call.
    ///
    /// - Throws: ``ProtoDecodingError`` for truncated, malformed or over-limit input.
    @inlinable
    public init(serializedBytes buffer: UnsafeRawBufferPointer, limits: DecodingLimits = .default) throws(ProtoDecodingError) {
        self.init()
        try merge(serializedBytes: buffer, limits: limits)
    }

    /// Merges the fields encoded in `bytes` into this message.
    ///
    /// - Throws: ``ProtoDecodingError``; the message is then partly updated.
    @inlinable
    public mutating func merge(serializedBytes bytes: [UInt8], limits: DecodingLimits = .default) throws(ProtoDecodingError) {
        var failure: ProtoDecodingError?
        bytes.withUnsafeBytes { buffer in
            do throws(ProtoDecodingError) {
                try merge(serializedBytes: buffer, limits: limits)
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
    }

    /// Merges the fields encoded in `buffer` into this message.
    ///
    /// - Throws: ``ProtoDecodingError``; the message is then partly updated.
    @inlinable
    public mutating func merge(serializedBytes buffer: UnsafeRawBufferPointer, limits: DecodingLimits = .default) throws(ProtoDecodingError) {
        guard buffer.count <= limits.maxMessageSize else { throw .messageTooLarge }
        guard buffer.count > 0, let base = buffer.baseAddress else { return }
        var reader = ProtoReader(start: base, count: buffer.count, limits: limits)
        try decodeFields(from: &reader)
    }

    /// The message's wire bytes: known fields in field-number order, then unknown fields.
    ///
    /// The size is computed first and the bytes written into one exact allocation. Map entries
    /// are written sorted by key, so equal messages always encode to equal bytes.
    @inlinable
    public func serializedBytes() -> [UInt8] {
        let size = serializedSize()
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, initializedCount in
            guard size > 0, let base = buffer.baseAddress else {
                initializedCount = 0
                return
            }
            var writer = ProtoWriter(start: UnsafeMutableRawPointer(base), count: size)
            encodeFields(to: &writer)
            precondition(writer.isFull, "\(Self.protoMessageName): serializedSize() disagrees with encodeFields(to:)")
            initializedCount = size
        }
    }
}

/// A protobuf enum. Protobuf enums are open: a value this version does not name is kept, so
/// generated enums are structs over their raw `Int32` value with a static member per case.
public protocol ProtoEnum: RawRepresentable, Sendable, Hashable where RawValue == Int32 {
    /// The enum with the given wire value, named or not.
    init(rawValue: Int32)
}

extension ProtoEnum {
    /// The enum's default, the value 0.
    @inlinable
    public init() { self.init(rawValue: 0) }
}
