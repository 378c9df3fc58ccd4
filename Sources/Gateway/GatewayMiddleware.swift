import Foundation
import HTTPTypes
import Hummingbird
import Logging
import RPCCore

extension HTTPField.Name {
    static let requestID = HTTPField.Name("X-Request-ID")!
}

/// Runs around every request: assigns the request id (kept from a client's sane `X-Request-ID`,
/// else generated) and echoes it, turns every error into the JSON error shape with the right
/// status (internals are logged, never sent), and writes one log line per request.
struct GatewayMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.requestID = Self.requestID(from: request.headers[.requestID])
        let started = ContinuousClock.now
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as APIError {
            response = JSONResponse.error(error)
        } catch let error as RPCError {
            if error.code == .internalError || error.code == .unknown {
                logger.error("downstream internal error", metadata: ["request_id": .string(context.requestID), "error": .string(error.description)])
            }
            response = JSONResponse.error(APIError(error))
        } catch let error as HTTPError {
            response = JSONResponse.error(Self.apiError(for: error))
        } catch {
            logger.error("unhandled error", metadata: ["request_id": .string(context.requestID), "error": .string(String(describing: error))])
            response = JSONResponse.error(APIError(status: .internalServerError, code: "internal", message: "Internal error"))
        }
        response.headers[.requestID] = context.requestID
        let elapsed = ContinuousClock.now - started
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        var metadata: Logger.Metadata = [
            "request_id": .string(context.requestID),
            "method": .string(request.method.rawValue),
            "route": .string(context.endpointPath ?? request.uri.path),
            "status": .stringConvertible(response.status.code),
            "duration_ms": .string(String(format: "%.2f", milliseconds)),
        ]
        if let user = context.userID { metadata["user_id"] = .stringConvertible(user) }
        logger.info("request", metadata: metadata)
        return response
    }

    static func apiError(for error: HTTPError) -> APIError {
        switch error.status {
        case .notFound: return .notFound
        case .contentTooLarge: return APIError(status: .contentTooLarge, code: "payload_too_large", message: "Request body is too large")
        default:
            let code = error.status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "_")
            return APIError(status: error.status, code: code, message: error.body ?? error.status.reasonPhrase)
        }
    }

    /// A client's id is kept when it is 1–128 visible ASCII characters, else replaced.
    static func requestID(from header: String?) -> String {
        if let header, !header.isEmpty, header.utf8.count <= 128, header.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
            return header
        }
        return randomUUID()
    }

    /// A random (version 4) UUID in lower case, from the system generator (`getrandom`, no file
    /// descriptor). Foundation's `UUID()` on Linux opens, reads and closes /dev/urandom on every
    /// call: three system calls per request on the gateway's hottest path.
    static func randomUUID() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = (generator.next() as UInt64) & ~0xF000 | 0x4000  // version 4
        let low = (generator.next() as UInt64) & ~(0xC0 << 56) | (0x80 << 56)  // RFC 4122 variant
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(36)
        for (index, word) in [high, low].enumerated() {
            for nibble in 0..<16 {
                let position = index * 16 + nibble
                if position == 8 || position == 12 || position == 16 || position == 20 { text.append(UInt8(ascii: "-")) }
                text.append(digits[Int(word >> UInt64(60 - 4 * nibble) & 0xF)])
            }
        }
        return String(decoding: text, as: UTF8.self)
    }
}
