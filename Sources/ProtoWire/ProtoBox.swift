/// Immutable heap storage for a message field whose type contains the message itself
/// (directly or through other messages), which a Swift struct cannot hold inline.
///
/// Generated code uses it behind a computed property of the plain optional type; callers never
/// see it. Equality and hashing are the value's.
public final class ProtoBox<Value: ProtoMessage>: Sendable, Hashable {
    /// The boxed message.
    public let value: Value

    @inlinable
    public init(_ value: Value) {
        self.value = value
    }

    public static func == (lhs: ProtoBox, rhs: ProtoBox) -> Bool {
        lhs === rhs || lhs.value == rhs.value
    }

    public func hash(into hasher: inout Hasher) {
        value.hash(into: &hasher)
    }
}
