import CFuzzerDriver

#if canImport(Glibc)
import Glibc
#endif

/// Splits a fuzzer's input into typed choices, front to back, like LLVM's FuzzedDataProvider
/// in miniature. When the input runs out every read returns zero or empty, so a target never
/// needs to check for exhaustion.
public struct FuzzInput {
    private let bytes: [UInt8]
    private var index = 0

    /// Wraps `bytes`; reads consume them from the front.
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Wraps libFuzzer's buffer (copied once).
    public init(_ data: UnsafePointer<UInt8>?, _ size: Int) {
        self.bytes = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    }

    /// Bytes not yet consumed.
    public var remainingCount: Int { bytes.count - index }

    /// Whether everything has been consumed.
    public var isEmpty: Bool { index >= bytes.count }

    /// The next byte, or 0 at the end.
    public mutating func byte() -> UInt8 {
        guard index < bytes.count else { return 0 }
        defer { index += 1 }
        return bytes[index]
    }

    /// A value in `0..<bound` (`bound` at most 65 536), or 0 at the end.
    public mutating func int(below bound: Int) -> Int {
        precondition(bound > 0 && bound <= 65_536)
        if bound <= 256 { return Int(byte()) % bound }
        return (Int(byte()) << 8 | Int(byte())) % bound
    }

    /// A coin flip.
    public mutating func bool() -> Bool { byte() & 1 == 1 }

    /// Up to `maxCount` bytes, the count chosen by the input.
    public mutating func bytes(upTo maxCount: Int) -> [UInt8] {
        let count = min(int(below: maxCount + 1), remainingCount)
        return take(count)
    }

    /// Exactly `count` bytes, or fewer if the input ends.
    public mutating func take(_ count: Int) -> [UInt8] {
        let count = min(count, remainingCount)
        defer { index += count }
        return Array(bytes[index..<(index + count)])
    }

    /// Everything not yet consumed.
    public mutating func rest() -> [UInt8] { take(remainingCount) }

    /// A string of up to `maxCount` bytes (invalid UTF-8 repaired, as HPACK strings arrive).
    public mutating func string(upTo maxCount: Int) -> String {
        String(decoding: bytes(upTo: maxCount), as: UTF8.self)
    }

    /// One of `choices`, or (when `allowOther`) sometimes an arbitrary short string instead.
    public mutating func pick(_ choices: [String], allowOther: Bool = true) -> String {
        let slot = int(below: choices.count + (allowOther ? 1 : 0))
        return slot < choices.count ? choices[slot] : string(upTo: 24)
    }
}

/// Stops the process with a message libFuzzer records as a crash; used for oracle failures so
/// they are reported like traps.
public func fuzzCheck(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                      file: StaticString = #fileID, line: UInt = #line) {
    if !condition() {
        fatalError("oracle failed: \(message())", file: file, line: line)
    }
}

/// Runs libFuzzer on `test` with the process's arguments (`-max_total_time=60 corpus/`, ...),
/// then exits with libFuzzer's status. Call it from a target's main.swift.
public func runLibFuzzer(_ test: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    let status = LLVMFuzzerRunDriver(&argc, &argv, test)
    exit(status)
}
