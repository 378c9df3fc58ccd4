import FuzzSupport
import RPCCore

/// Feeds GRPCDeframer the input's body in pieces at fuzzer-chosen points, pulling messages
/// between pieces, and checks the byte accounting against a reference parse of the same bytes:
/// the same messages come out in the same order, an error appears exactly where the reference
/// finds a bad header, and buffered + consumed always equals appended (up to a bad header's
/// end: what follows it is dropped).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDeframer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    // Small limits make RESOURCE_EXHAUSTED reachable; large ones the normal path.
    let limits = [0, 1, 5, 64, 1024, GRPCFraming.defaultMaxMessageSize]
    let maxMessageSize = limits[input.int(below: limits.count)]
    let pieceCount = 1 + input.int(below: 16)
    var cuts = (0..<pieceCount).map { _ in input.int(below: 256) }
    let body = input.rest()
    cuts = cuts.map { body.isEmpty ? 0 : $0 * body.count / 255 }.sorted()
    cuts.append(body.count)

    let expected = referenceParse(body, maxMessageSize: maxMessageSize)
    // Bytes after a refused header are dropped, not buffered: "A message that follows a bad
    // header is never delivered." So the accounting covers the bytes up to that header's end.
    let accountedLimit = expected.failure == nil ? Int.max : expected.consumed + GRPCFraming.headerSize
    var deframer = GRPCDeframer(maxMessageSize: maxMessageSize)
    var messages: [[UInt8]] = []
    var consumed = 0
    var appended = 0
    var failure: RPCError?
    var start = 0
    pieces: for (index, end) in cuts.enumerated() {
        let piece = body[start..<end]
        if index % 2 == 0 {
            deframer.append(piece)
        } else {
            piece.withUnsafeBytes { deframer.append($0) }
        }
        appended += piece.count
        start = end
        while true {
            do {
                let announced = try deframer.pendingMessageLength()
                guard let message = try deframer.next() else {
                    if let announced {
                        fuzzCheck(deframer.bufferedByteCount < GRPCFraming.headerSize + announced,
                                  "next() returned nil with a whole message buffered")
                    }
                    break
                }
                fuzzCheck(announced == message.count, "pendingMessageLength \(String(describing: announced)) != message length \(message.count)")
                messages.append(message)
                consumed += GRPCFraming.headerSize + message.count
            } catch {
                failure = error
                break pieces
            }
            fuzzCheck(consumed + deframer.bufferedByteCount == min(appended, accountedLimit), "consumed + buffered != appended")
        }
        fuzzCheck(consumed + deframer.bufferedByteCount == min(appended, accountedLimit), "consumed + buffered != appended")
    }

    fuzzCheck(messages == Array(expected.messages.prefix(messages.count)), "messages differ from the reference parse")
    if let failure {
        fuzzCheck(expected.failure == failure.code, "unexpected error \(failure.code); reference: \(String(describing: expected.failure))")
        fuzzCheck(messages.count == expected.messages.count, "error before the reference's last message")
    } else {
        fuzzCheck(messages == expected.messages, "missing messages after all input: \(messages.count) of \(expected.messages.count)")
        fuzzCheck(deframer.bufferedByteCount == body.count - expected.consumed, "buffered bytes disagree with the reference")
        // A header the reference rejects must be rejected once its five bytes are in.
        fuzzCheck(expected.failure == nil, "reference found \(String(describing: expected.failure)), deframer did not")
    }
    return 0
}

/// The obvious parse of a whole buffer: messages, bytes they take, and the error code of the
/// first bad header (if its five bytes are present).
func referenceParse(_ bytes: [UInt8], maxMessageSize: Int) -> (messages: [[UInt8]], consumed: Int, failure: StatusCode?) {
    var messages: [[UInt8]] = []
    var index = 0
    while bytes.count - index >= 5 {
        let flag = bytes[index]
        let length = Int(bytes[index + 1]) << 24 | Int(bytes[index + 2]) << 16 | Int(bytes[index + 3]) << 8 | Int(bytes[index + 4])
        if flag == 1 { return (messages, index, .unimplemented) }
        if flag != 0 { return (messages, index, .internalError) }
        if length > maxMessageSize { return (messages, index, .resourceExhausted) }
        guard bytes.count - index - 5 >= length else { break }
        messages.append(Array(bytes[(index + 5)..<(index + 5 + length)]))
        index += 5 + length
    }
    return (messages, index, nil)
}
