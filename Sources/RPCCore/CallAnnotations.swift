import Synchronization

/// What a handler learns about the call it serves and wants in the call's log line: today the
/// user it acts for. The server creates one per call and binds it to ``current`` for the
/// handler's task (and its child tasks); when the call ends it reads it back for its
/// ``CallRecord``-style report. Outside a server call ``current`` is `nil` and annotating is
/// a no-op, so library code may annotate unconditionally.
public final class CallAnnotations: Sendable {
    private let state = Mutex<String?>(nil)

    public init() {}

    /// The id of the user the call acts for, once the handler has authenticated it.
    public var userID: String? {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }

    /// The annotations of the server call running in this task, if any.
    @TaskLocal public static var current: CallAnnotations?

    /// Records `userID` on the current call (no-op outside a server call).
    public static func setUser(_ userID: String) {
        current?.userID = userID
    }
}

/// A value from a peer made safe for a log line: at most 128 visible ASCII characters
/// (anything else, such as a line break that would forge a log line, becomes `?`).
/// `nil` for a missing or empty value.
public func loggable(_ value: String?) -> String? {
    guard let value, !value.isEmpty else { return nil }
    let bytes = value.utf8.prefix(128).map { $0 > 0x20 && $0 < 0x7F ? $0 : UInt8(ascii: "?") }
    return String(decoding: bytes, as: UTF8.self)
}
