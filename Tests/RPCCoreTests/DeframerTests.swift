import RPCCore
import Testing

@Suite struct DeframerTests {
    static let messages: [[UInt8]] = [[1, 2, 3], [], Array(repeating: 7, count: 300), [0]]
    static let stream: [UInt8] = messages.flatMap { GRPCFraming.frame($0) }

    @Test func dripFedOneByteAtATime() throws {
        var deframer = GRPCDeframer()
        var received: [[UInt8]] = []
        for byte in Self.stream {
            deframer.append([byte])
            while let message = try deframer.next() { received.append(message) }
        }
        #expect(received == Self.messages)
        #expect(deframer.bufferedByteCount == 0)
    }

    @Test func severalMessagesInOneAppend() throws {
        var deframer = GRPCDeframer()
        Self.stream.withUnsafeBytes { deframer.append($0) }
        var received: [[UInt8]] = []
        while let message = try deframer.next() { received.append(message) }
        #expect(received == Self.messages)
    }

    @Test func aPartialMessageWaitsForTheRest() throws {
        var deframer = GRPCDeframer()
        let frame = GRPCFraming.frame([9, 8, 7, 6])
        deframer.append(frame.prefix(7))
        #expect(try deframer.next() == nil)
        #expect(try deframer.pendingMessageLength() == 4)
        deframer.append(frame.dropFirst(7))
        #expect(try deframer.next() == [9, 8, 7, 6])
        #expect(try deframer.next() == nil)
    }

    @Test func anOversizedMessageIsRefusedFromItsHeader() throws {
        var deframer = GRPCDeframer(maxMessageSize: 10)
        // Only the five header bytes of an 11-byte message have arrived.
        deframer.append([0, 0, 0, 0, 11])
        #expect(throws: RPCError.self) { try deframer.pendingMessageLength() }
        do {
            _ = try deframer.next()
            Issue.record("no error")
        } catch {
            #expect(error.code == .resourceExhausted)
        }
        var fits = GRPCDeframer(maxMessageSize: 10)
        fits.append(GRPCFraming.frame(Array(repeating: 1, count: 10)))
        #expect(try fits.next()?.count == 10)
    }

    @Test(arguments: [(UInt8(1), StatusCode.unimplemented), (2, .internalError), (0x80, .internalError)] as [(UInt8, StatusCode)])
    func aBadFlagIsRefused(_ flag: UInt8, _ code: StatusCode) {
        var deframer = GRPCDeframer()
        deframer.append([flag, 0, 0, 0, 1, 42])
        do {
            _ = try deframer.next()
            Issue.record("no error")
        } catch {
            #expect(error.code == code)
        }
    }

    @Test(arguments: [7, 999, 16_384, 70_000, Int.max])
    func aLargeMessageInPiecesIsReassembledExactly(piece: Int) throws {
        let message = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
        let frame = GRPCFraming.frame(message) + GRPCFraming.frame([5])
        var deframer = GRPCDeframer()
        var received: [[UInt8]] = []
        var start = 0
        while start < frame.count {
            let end = min(frame.count, start + min(piece, frame.count))
            deframer.append(frame[start..<end])
            start = end
            while let next = try deframer.next() { received.append(next) }
        }
        #expect(received == [message, [5]])
        #expect(deframer.bufferedByteCount == 0)
    }

    @Test func aMessageBeforeABadHeaderIsStillDelivered() throws {
        var deframer = GRPCDeframer()
        deframer.append(GRPCFraming.frame([1, 2]) + [7, 0, 0, 0, 1, 9])
        #expect(try deframer.pendingMessageLength() == 2)
        #expect(try deframer.next() == [1, 2])
        #expect(throws: RPCError.self) { try deframer.pendingMessageLength() }
        #expect(throws: RPCError.self) { try deframer.next() }
    }

    @Test func framingWritesTheFiveByteHeader() {
        #expect(GRPCFraming.frame([0xAA, 0xBB]) == [0, 0, 0, 0, 2, 0xAA, 0xBB])
        var bytes: [UInt8] = []
        GRPCFraming.appendHeader(length: 0x0102_0304, to: &bytes)
        #expect(bytes == [0, 1, 2, 3, 4])
    }
}
