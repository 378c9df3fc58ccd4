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
/// `INTERNAL` for a bad flag byte. A message that follows a bad header is never delivered.
///
/// Copies: each message's bytes are copied once, from the appended pieces into the array
/// ``next()`` returns. Once a header has arrived, the message's array is sized from it (up to
/// ``maxReservation``), so a large message does not grow by doubling.
public struct GRPCDeframer: Sendable {
    /// The largest message accepted.
    public let maxMessageSize: Int
    /// The most memory reserved ahead from a length prefix alone: the default HTTP/2 stream
    /// window, which a peer may fill without waiting anyway. Larger messages grow past it.
    public static let maxReservation = 4 * 1024 * 1024

    /// Messages complete but not yet returned by ``next()``, oldest first.
    private var ready: [[UInt8]] = []
    /// The current message's header: how many of its five bytes arrived, and their values.
    private var headerCount = 0
    private var flag: UInt8 = 0
    private var length = 0
    /// The current message's body so far (once its header is complete and valid).
    private var body: [UInt8] = []
    /// The current header was refused; thrown once the messages before it are taken.
    private var failure: RPCError?

    public init(maxMessageSize: Int = GRPCFraming.defaultMaxMessageSize) {
        self.maxMessageSize = maxMessageSize
    }

    /// Bytes received but not yet returned as a message (headers included).
    public var bufferedByteCount: Int {
        var count = headerCount + body.count
        for message in ready { count += GRPCFraming.headerSize + message.count }
        return count
    }

    /// Adds received bytes.
    public mutating func append<Bytes: Collection>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        let appended: Void? = bytes.withContiguousStorageIfAvailable { append(UnsafeRawBufferPointer($0)) }
        if appended == nil {
            Array(bytes).withUnsafeBytes { append($0) }
        }
    }

    /// Adds received bytes from raw memory (only read during the call).
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < bytes.count, failure == nil {
            if headerCount < GRPCFraming.headerSize {
                let byte = bytes[offset]
                offset += 1
                if headerCount == 0 {
                    flag = byte
                    length = 0
                } else {
                    length = length << 8 | Int(byte)
                }
                headerCount += 1
                if headerCount == GRPCFraming.headerSize { startBody() }
                continue
            }
            let count = min(bytes.count - offset, length - body.count)
            let piece = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
            if body.isEmpty && count == length {
                body = [UInt8](piece)  // the whole body in this piece: one exact allocation
            } else {
                if body.isEmpty { body.reserveCapacity(min(length, Self.maxReservation)) }
                body.append(contentsOf: piece)
            }
            offset += count
            if body.count == length { finishMessage() }
        }
    }

    /// Checks the header at the front (the oldest message not yet returned), if its five bytes
    /// are there, and returns the announced length. Lets a caller refuse an oversized message
    /// as soon as its prefix arrives.
    public func pendingMessageLength() throws(RPCError) -> Int? {
        if let first = ready.first { return first.count }
        if let failure { throw failure }
        return headerCount == GRPCFraming.headerSize ? length : nil
    }

    /// The next whole message, or `nil` if more bytes are needed.
    public mutating func next() throws(RPCError) -> [UInt8]? {
        if !ready.isEmpty { return ready.removeFirst() }
        if let failure { throw failure }
        return nil
    }

    /// The header is complete: check it, then expect its body.
    private mutating func startBody() {
        switch flag {
        case 0: break
        case 1:
            failure = RPCError(code: .unimplemented, message: "Compressed messages are not supported")
            return
        default:
            failure = RPCError(code: .internalError, message: "Invalid message flag byte")
            return
        }
        if length > maxMessageSize {
            failure = RPCError(
                code: .resourceExhausted,
                message: "Message of \(length) bytes exceeds the limit of \(maxMessageSize) bytes")
            return
        }
        body = []
        if length == 0 {
            finishMessage()
        }
    }

    private mutating func finishMessage() {
        ready.append(body)
        body = []
        headerCount = 0
    }
}
