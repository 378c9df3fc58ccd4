import InteropAPI
import RPCCore
import Synchronization

/// InteropService with the semantics its proto comments give, the same as the grpcio
/// reference server in Tests/interop/grpcio_interop_server.py.
final class ReferenceInteropService: InteropService {
    /// How often Slow looks for cancellation while it waits.
    private static let pollInterval: Duration = .milliseconds(10)

    private let cancelledCalls = Atomic<UInt64>(0)

    func echo(_ request: EchoRequest, context: RPCContext) async throws -> EchoResponse {
        var response = EchoResponse()
        response.payload = request.payload
        response.text = request.text
        return response
    }

    func fail(_ request: FailRequest, context: RPCContext) async throws -> FailResponse {
        switch request.code {
        case 0:
            return FailResponse()
        case 1...16:
            throw RPCError(code: StatusCode(rawValue: Int(request.code)), message: request.message)
        default:
            throw RPCError(code: .invalidArgument, message: "code \(request.code) is outside 0..16")
        }
    }

    func slow(_ request: SlowRequest, context: RPCContext) async throws -> SlowResponse {
        let end = ContinuousClock.now + .milliseconds(Int64(request.delayMs))
        var response = SlowResponse()
        while true {
            if Task.isCancelled {
                cancelledCalls.add(1, ordering: .relaxed)
                response.cancelled = true
                return response
            }
            let left = end - .now
            if left <= .zero { return response }
            // A cancelled sleep throws; the loop then records the cancellation above.
            try? await Task.sleep(for: min(left, Self.pollInterval))
        }
    }

    func large(_ request: LargeRequest, context: RPCContext) async throws -> LargeResponse {
        var response = LargeResponse()
        response.payload = Self.pattern(count: Int(request.sizeBytes))
        response.receivedChecksum = Self.checksum(request.payload)
        response.receivedBytes = UInt64(request.payload.count)
        return response
    }

    func echoMetadata(_ request: EchoMetadataRequest, context: RPCContext) async throws -> EchoMetadataResponse {
        var response = EchoMetadataResponse()
        for (key, value) in context.metadata where key.hasPrefix("x-") {
            var entry = MetadataEntry()
            entry.key = key
            switch value {
            case .string(let text): entry.value = Array(text.utf8)
            case .binary(let bytes): entry.value = bytes
            }
            response.entries.append(entry)
        }
        return response
    }

    func getCancellations(_ request: GetCancellationsRequest, context: RPCContext) async throws -> GetCancellationsResponse {
        var response = GetCancellationsResponse()
        response.cancelledCalls = cancelledCalls.load(ordering: .relaxed)
        return response
    }

    /// `count` bytes, byte i equal to i mod 251.
    static func pattern(count: Int) -> [UInt8] {
        let block = (0..<251).map { UInt8($0) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        while bytes.count < count {
            bytes.append(contentsOf: block.prefix(count - bytes.count))
        }
        return bytes
    }

    /// The sum of the bytes, mod 2^32.
    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { buffer in
            var sum: UInt32 = 0
            for byte in buffer { sum &+= UInt32(byte) }
            return sum
        }
    }
}
