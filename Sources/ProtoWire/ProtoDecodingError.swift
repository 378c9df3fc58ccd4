/// Why a message could not be decoded.
///
/// Decoding never traps: every malformed, truncated or hostile input ends in one of these.
public enum ProtoDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The input ended inside a tag, a value, or a length-delimited field.
    case truncated
    /// A varint ran over ten bytes.
    case malformedVarint
    /// A tag carried wire type 6 or 7, which protobuf does not define.
    case invalidWireType(UInt8)
    /// A tag carried wire type 3 or 4 (proto2 groups), which this codec does not support.
    case groupsNotSupported
    /// A tag carried field number 0 or a number above 2^29 - 1.
    case invalidFieldNumber
    /// The input, or one length-delimited field in it, is larger than ``DecodingLimits/maxMessageSize``.
    case messageTooLarge
    /// A `string` field held bytes that are not valid UTF-8.
    case invalidUTF8
    /// Messages were nested deeper than ``DecodingLimits/maxDepth``.
    case nestingTooDeep
    /// A packed repeated field's length is not a multiple of its element size.
    case invalidPackedLength

    public var description: String {
        switch self {
        case .truncated: "truncated protobuf message"
        case .malformedVarint: "malformed varint (over 10 bytes)"
        case .invalidWireType(let type): "invalid wire type \(type)"
        case .groupsNotSupported: "groups (wire types 3 and 4) are not supported"
        case .invalidFieldNumber: "invalid field number"
        case .messageTooLarge: "message or field exceeds the size limit"
        case .invalidUTF8: "string field is not valid UTF-8"
        case .nestingTooDeep: "messages nested too deeply"
        case .invalidPackedLength: "packed field length is not a multiple of the element size"
        }
    }
}

/// Limits that bound the work and memory a decode may take, whatever the input.
public struct DecodingLimits: Sendable, Hashable {
    /// The largest input, and the largest single length-delimited field, accepted in bytes.
    public var maxMessageSize: Int
    /// How deeply messages (including map entries) may nest; the top-level message is depth 0.
    public var maxDepth: Int

    public init(maxMessageSize: Int = Int(Int32.max), maxDepth: Int = 100) {
        self.maxMessageSize = maxMessageSize
        self.maxDepth = maxDepth
    }

    /// 2 GiB - 1 (protobuf's own limit) and a depth of 100 (the default of the C++ and Python
    /// implementations). The transport bounds messages more tightly before they get here.
    public static let `default` = DecodingLimits()
}
