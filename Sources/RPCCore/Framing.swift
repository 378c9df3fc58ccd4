/// The gRPC length-prefixed message envelope: a 1-byte compressed flag, a 4-byte big-endian
/// length, then the message.
public enum GRPCFraming {
    /// The default largest message accepted or sent: 32 MiB.
    public static let defaultMaxMessageSize = 32 * 1024 * 1024

    /// Size of the envelope header.
    public static let headerSize = 5

    /// Writes the envelope header for an uncompressed message of `length` bytes.
    @inlinable
    public static func appendHeader(length: Int, to bytes: inout [UInt8]) {
        bytes.append(0)
        bytes.append(UInt8(truncatingIfNeeded: length >> 24))
        bytes.append(UInt8(truncatingIfNeeded: length >> 16))
        bytes.append(UInt8(truncatingIfNeeded: length >> 8))
        bytes.append(UInt8(truncatingIfNeeded: length))
    }

    /// `message` wrapped in its envelope.
    public static func frame(_ message: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(message.count + headerSize)
        appendHeader(length: message.count, to: &bytes)
        bytes.append(contentsOf: message)
        return bytes
    }
}

/// Reassembles length-prefixed messages from DATA bytes arriving in arbitrary pieces.
///
/// Feed it bytes with ``append(_:)`` and take whole messages with ``next()``. It enforces the
/// size limit from the length prefix, before buffering the body, so an oversized message costs
/// no memory. Errors are ``RPCError``s ready to send: `RESOURCE_EXHAUSTED` for a message over
/// the limit, `UNIMPLEMENTED` for a compressed message (no `grpc-encoding` is negotiated),
/// `INTERNAL` for a bad flag byte.
public struct GRPCDeframer: Sendable {
    /// The largest message accepted.
    public let maxMessageSize: Int
    private var buffer: [UInt8] = []
    private var readIndex = 0

    public init(maxMessageSize: Int = GRPCFraming.defaultMaxMessageSize) {
        self.maxMessageSize = maxMessageSize
    }

    /// Bytes received but not yet returned as a message.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// Adds received bytes.
    public mutating func append<Bytes: Collection>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        if readIndex > 0 && readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Adds received bytes from raw memory.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if readIndex > 0 && readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Checks the header at the front of the buffer, if five bytes are there, and returns the
    /// announced length. Lets a caller refuse an oversized message as soon as its prefix arrives.
    public func pendingMessageLength() throws(RPCError) -> Int? {
        guard bufferedByteCount >= GRPCFraming.headerSize else { return nil }
        return try headerLength(at: readIndex)
    }

    /// The next whole message, or `nil` if more bytes are needed.
    public mutating func next() throws(RPCError) -> [UInt8]? {
        guard bufferedByteCount >= GRPCFraming.headerSize else { return nil }
        let length = try headerLength(at: readIndex)
        let start = readIndex + GRPCFraming.headerSize
        guard buffer.count - start >= length else { return nil }
        let message: [UInt8]
        if readIndex == 0 && start + length == buffer.count && length > 0 {
            // The buffer holds exactly one message: hand over its storage without copying it again.
            buffer.removeFirst(GRPCFraming.headerSize)
            message = buffer
            buffer = []
            readIndex = 0
            return message
        }
        message = Array(buffer[start..<(start + length)])
        readIndex = start + length
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
        } else if readIndex > 65_536 && readIndex > buffer.count / 2 {
            buffer.removeFirst(readIndex)
            readIndex = 0
        }
        return message
    }

    private func headerLength(at index: Int) throws(RPCError) -> Int {
        let flag = buffer[index]
        let length = Int(buffer[index + 1]) << 24 | Int(buffer[index + 2]) << 16
            | Int(buffer[index + 3]) << 8 | Int(buffer[index + 4])
        switch flag {
        case 0: break
        case 1:
            throw RPCError(code: .unimplemented, message: "Compressed messages are not supported")
        default:
            throw RPCError(code: .internalError, message: "Invalid message flag byte")
        }
        if length > maxMessageSize {
            throw RPCError(
                code: .resourceExhausted,
                message: "Message of \(length) bytes exceeds the limit of \(maxMessageSize) bytes")
        }
        return length
    }
}
