/// How the generator reads, writes and sizes one kind of value.
struct ValueType {
    enum Kind { case scalar(ScalarType), enumeration, message }

    var kind: Kind
    /// The Swift type, e.g. `Int32`, `[UInt8]`, `HealthCheckResponse.ServingStatus`.
    var swiftType: String
    /// The proto3 default, as a Swift expression.
    var defaultValue: String
    /// The `WireType` case, e.g. `varint`.
    var wireType: String
    var wireTypeNumber: Int
    /// The `ProtoReader`/`ProtoWriter` method suffix, e.g. `Int32`, `String`, `Enum`.
    var method: String
    /// Bytes per value for fixed-width types.
    var fixedSize: Int?

    init(scalar: ScalarType) {
        kind = .scalar(scalar)
        switch scalar {
        case .double: (swiftType, defaultValue, wireType, wireTypeNumber, method, fixedSize) = ("Double", "0", "fixed64", 1, "Double", 8)
        case .float: (swiftType, defaultValue, wireType, wireTypeNumber, method, fixedSize) = ("Float", "0", "fixed32", 5, "Float", 4)
        case .int32: (swiftType, defaultValue, wireType, wireTypeNumber, method, fixedSize) = ("Int32", "0", "varint", 0, "Int32", nil)
        case .int64: (swiftType, defaultValue, wireType, wireTypeNumber, method, fixedSize) = ("Int64", "0", "varint", 0, "Int64", nil)
        case .uint32: (swiftType, defaultValue, wireType, wireTypeNumber, method, fixedSize) = ("UInt32", "0", "varint", 0, "UInt32", nil)
        case .uint64: (swiftType, defaultValue, wireType, wireTypeNumber, method, fixedSize) = ("UInt64", "0", "varint", 0, "UInt64", nil)
        case .sint32: (swiftType, defaultValue, wireType, wireTypeNumber, method, fixedSize) = ("Int32", "0", "varint", 0, "SInt32", nil)
        case .sint64: (swiftType, defaultValue, wireType, wireTypeNumber, method, fixedSize) = ("Int64", "0", "varint", 0, "SInt64", nil)
        case .fixed32: (swiftType, defaultValue, wireType, wireTypeNumber, method, fixedSize) = ("UInt32", "0", "fixed32", 5, "Fixed32", 4)
        case .fixed64: (swiftType, defaultValue, wireType, wireTypeNumber, method, fixedSize) = ("UInt64", "0", "fixed64", 1, "Fixed64", 8)
        case .sfixed32: (swiftType, defaultValue, wireType, wireTypeNumber, method, fixedSize) = ("Int32", "0", "fixed32", 5, "SFixed32", 4)
        case .sfixed64: (swiftType, defaultValue, wireType, wireTypeNumber, method, fixedSize) = ("Int64", "0", "fixed64", 1, "SFixed64", 8)
        case .bool: (swiftType, defaultValue, wireType, wireTypeNumber, method, fixedSize) = ("Bool", "false", "varint", 0, "Bool", 1)
        case .string: (swiftType, defaultValue, wireType, wireTypeNumber, method, fixedSize) = ("String", "\"\"", "lengthDelimited", 2, "String", nil)
        case .bytes: (swiftType, defaultValue, wireType, wireTypeNumber, method, fixedSize) = ("[UInt8]", "[]", "lengthDelimited", 2, "Bytes", nil)
        }
    }

    init(enumeration swiftName: String) {
        kind = .enumeration
        swiftType = swiftName
        defaultValue = "\(swiftName)()"
        wireType = "varint"
        wireTypeNumber = 0
        method = "Enum"
        fixedSize = nil
    }

    init(message swiftName: String) {
        kind = .message
        swiftType = swiftName
        defaultValue = "\(swiftName)()"
        wireType = "lengthDelimited"
        wireTypeNumber = 2
        method = "Message"
        fixedSize = nil
    }

    var isMessage: Bool {
        if case .message = kind { return true }
        return false
    }

    /// Numeric, bool and enum values are packed when repeated.
    var isPackable: Bool {
        switch kind {
        case .scalar(let scalar): scalar != .string && scalar != .bytes
        case .enumeration: true
        case .message: false
        }
    }

    /// An expression that reads one value (not for messages).
    var readExpression: String { "try reader.read\(method)()" }

    /// A statement that writes `value` (no tag).
    func writeStatement(_ value: String) -> String { "writer.write\(method)(\(value))" }

    /// An expression for the encoded size of `value` (no tag).
    func sizeExpression(_ value: String) -> String {
        if let fixedSize { return "\(fixedSize)" }
        switch kind {
        case .scalar(let scalar): return "ProtoSize.\(scalar.rawValue)(\(value))"
        case .enumeration: return "ProtoSize.enumValue(\(value))"
        case .message: return "ProtoSize.message(\(value))"
        }
    }

    /// A condition that is true when `value` differs from the default and must be sent.
    func nonDefaultCondition(_ value: String) -> String {
        switch kind {
        case .scalar(.double), .scalar(.float): "\(value).bitPattern != 0"
        case .scalar(.bool): value
        case .scalar(.string), .scalar(.bytes): "!\(value).isEmpty"
        case .scalar: "\(value) != 0"
        case .enumeration: "\(value).rawValue != 0"
        case .message: "\(value) != nil"
        }
    }

    /// The payload size of packed `values` (no tag or length prefix).
    func packedSizeExpression(_ values: String) -> String {
        if let fixedSize { return fixedSize == 1 ? "\(values).count" : "\(values).count * \(fixedSize)" }
        switch kind {
        case .scalar(let scalar): return "ProtoSize.packed\(ValueType(scalar: scalar).method)(\(values))"
        default: return "ProtoSize.packedEnum(\(values))"
        }
    }

    func tag(_ number: Int) -> UInt32 {
        UInt32(number) << 3 | UInt32(wireTypeNumber)
    }

    static func tagSize(_ tag: UInt32) -> Int {
        var size = 1
        var value = tag >> 7
        while value > 0 {
            size += 1
            value >>= 7
        }
        return size
    }
}
