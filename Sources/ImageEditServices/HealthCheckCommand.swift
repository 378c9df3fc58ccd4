import Foundation
import GRPCHealth
import RPCCore
import RPCNIO

/// `imageedit healthcheck HOST:PORT [SERVICE]`: one `grpc.health.v1.Health/Check` call, for
/// container health checks (compose/docker-compose.yml).
///
/// Prints one line (`SERVING`, or why not) and returns 0 only when the server answers
/// `SERVING` for `service` (empty: the server as a whole) within two seconds; 1 when it
/// answers anything else or cannot be reached; 2 on a malformed address.
func healthCheckCommand(_ arguments: [String]) async -> Int32 {
    guard let address = arguments.first, arguments.count <= 2,
          let transport = HTTP2ClientTransport(address: address)
    else {
        FileHandle.standardError.write(Data("usage: imageedit healthcheck HOST:PORT [SERVICE]\n".utf8))
        return 2
    }
    let service = arguments.count == 2 ? arguments[1] : ""
    let code: Int32
    do {
        let response = try await HealthClient(transport: transport)
            .check(HealthCheckRequest(service: service), context: .timeout(.seconds(2)))
        print(response.status == .serving ? "SERVING" : "not serving: \(response.status)")
        code = response.status == .serving ? 0 : 1
    } catch {
        print("unhealthy: \(error.code.name): \(error.message)")
        code = 1
    }
    await transport.close()
    return code
}
