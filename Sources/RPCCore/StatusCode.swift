/// A gRPC status code, as carried in the `grpc-status` trailer.
///
/// A struct over the raw value rather than an enum, so that codes a peer sends which this
/// version does not know (anything outside 0...16) survive decoding as `.unknown`-class values
/// without a crash. The seventeen codes of the gRPC specification are static members.
public struct StatusCode: Hashable, Sendable, CustomStringConvertible {
    /// The numeric value sent on the wire.
    public let rawValue: Int

    /// Makes a code from its wire value; values outside 0...16 become ``unknown``.
    public init(rawValue: Int) {
        self.rawValue = (0...16).contains(rawValue) ? rawValue : 2
    }

    public static let ok = StatusCode(rawValue: 0)
    public static let cancelled = StatusCode(rawValue: 1)
    public static let unknown = StatusCode(rawValue: 2)
    public static let invalidArgument = StatusCode(rawValue: 3)
    public static let deadlineExceeded = StatusCode(rawValue: 4)
    public static let notFound = StatusCode(rawValue: 5)
    public static let alreadyExists = StatusCode(rawValue: 6)
    public static let permissionDenied = StatusCode(rawValue: 7)
    public static let resourceExhausted = StatusCode(rawValue: 8)
    public static let failedPrecondition = StatusCode(rawValue: 9)
    public static let aborted = StatusCode(rawValue: 10)
    public static let outOfRange = StatusCode(rawValue: 11)
    public static let unimplemented = StatusCode(rawValue: 12)
    public static let internalError = StatusCode(rawValue: 13)
    public static let unavailable = StatusCode(rawValue: 14)
    public static let dataLoss = StatusCode(rawValue: 15)
    public static let unauthenticated = StatusCode(rawValue: 16)

    /// Every code defined by the gRPC specification, in wire order.
    public static let allCases: [StatusCode] = (0...16).map { StatusCode(rawValue: $0) }

    /// The specification's upper-snake-case name, e.g. `INVALID_ARGUMENT`.
    public var name: String {
        Self.names[rawValue]
    }

    public var description: String { name }

    private static let names = [
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
        "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
        "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
        "UNAUTHENTICATED",
    ]
}
