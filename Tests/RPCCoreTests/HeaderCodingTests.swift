import RPCCore
import Testing

@Suite struct TimeoutTests {
    @Test(arguments: [
        ("1S", Duration.seconds(1)), ("100m", .milliseconds(100)), ("5u", .microseconds(5)), ("7n", .nanoseconds(7)),
        ("2M", .seconds(120)), ("1H", .seconds(3600)), ("99999999S", .seconds(99_999_999)), ("0n", .zero),
    ] as [(String, Duration)])
    func parses(_ text: String, _ duration: Duration) {
        #expect(GRPCTimeout.parse(text) == duration)
    }

    @Test(arguments: ["", "S", "1", "123456789S", "1x", "-1S", "1.5S", " 1S", "1s"])
    func rejectsMalformed(_ text: String) {
        #expect(GRPCTimeout.parse(text) == nil)
    }

    @Test(arguments: [
        (Duration.milliseconds(1), "1000000n"), (.seconds(1), "1000000u"), (.seconds(30), "30000000u"),
        (.seconds(1000), "1000000m"), (.zero, "0n"), (.seconds(-5), "0n"), (.seconds(10_000_000_000), "2777778H"),
    ] as [(Duration, String)])
    func encodes(_ duration: Duration, _ text: String) {
        #expect(GRPCTimeout.encode(duration) == text)
    }

    @Test(arguments: [Duration.nanoseconds(1), .microseconds(1500), .milliseconds(2500), .seconds(123_456), .seconds(86_400 * 400)])
    func encodingNeverShortensTheDeadline(_ duration: Duration) throws {
        let text = GRPCTimeout.encode(duration)
        #expect(text.utf8.count <= 9)
        let parsed = try #require(GRPCTimeout.parse(text))
        #expect(parsed >= duration)
    }
}

@Suite struct MessageEncodingTests {
    @Test(arguments: [
        ("hello", "hello"), ("50%", "50%25"), ("\u{e9}", "%C3%A9"), ("a\nb", "a%0Ab"), ("", ""), ("~ ", "~%20"),
        // HTTP/2 forbids whitespace at either end of a field value: spaces there are encoded.
        (" ", "%20"), ("  ", "%20%20"), (" a b ", "%20a b%20"),
    ] as [(String, String)])
    func encodes(_ message: String, _ encoded: String) {
        #expect(GRPCMessageEncoding.encode(message) == encoded)
        #expect(GRPCMessageEncoding.decode(encoded) == message)
    }

    @Test(arguments: ["plain", "\u{1F600} emoji", "tab\tand 100% \u{65E5}\u{672C}", "\0nul", " padded "])
    func roundTrips(_ message: String) {
        let encoded = GRPCMessageEncoding.encode(message)
        #expect(encoded.utf8.allSatisfy { $0 >= 0x20 && $0 <= 0x7E })
        #expect(encoded.first != " " && encoded.last != " ")
        #expect(GRPCMessageEncoding.decode(encoded) == message)
    }

    @Test(arguments: [("%zz", "%zz"), ("%4", "%4"), ("100%", "100%"), ("%41%4", "A%4")] as [(String, String)])
    func decodesMalformedSequencesLeniently(_ text: String, _ decoded: String) {
        #expect(GRPCMessageEncoding.decode(text) == decoded)
    }
}

@Suite struct ErrorMappingTests {
    struct DatabaseExploded: Error {
        var secret = "password=hunter2"
    }

    struct UserMissing: RPCErrorConvertible {
        var rpcError: RPCError { RPCError(code: .notFound, message: "No such user") }
    }

    @Test func aForeignErrorBecomesAGenericInternalError() {
        let error = RPCError(mapping: DatabaseExploded())
        #expect(error.code == .internalError)
        #expect(error.message == "Internal error")
        #expect(!error.description.contains("hunter2"))
    }

    @Test func rpcErrorsAndConvertiblesPassThrough() {
        let original = RPCError(code: .permissionDenied, message: "No")
        #expect(RPCError(mapping: original) == original)
        #expect(RPCError(mapping: UserMissing()).code == .notFound)
        #expect(RPCError(mapping: CancellationError()).code == .cancelled)
    }

    @Test func statusCodesOutsideTheSpecAreUnknown() {
        #expect(StatusCode(rawValue: 17) == .unknown)
        #expect(StatusCode(rawValue: -1) == .unknown)
        #expect(StatusCode.allCases.count == 17)
        #expect(StatusCode.internalError.name == "INTERNAL")
    }
}
