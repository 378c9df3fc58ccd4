import Foundation
import Testing
import TestSupport

/// A known path with a method it does not take is a 405 naming the methods it does take; an
/// unknown path stays a 404.
@Suite struct MethodNotAllowedTests {
    static let cases: [(method: String, path: String, status: Int, allow: String?)] = [
        ("GET", "/api/login/", 405, "POST"),
        ("PUT", "/api/register", 405, "POST"),
        ("DELETE", "/healthz", 405, "GET, HEAD"),
        ("POST", "/api/images/images/5/original", 405, "GET, HEAD"),
        ("PATCH", "/api/images/images/", 405, "GET, HEAD, POST"),
        ("POST", "/api/images/images/5/", 405, "DELETE, GET, HEAD, PATCH, PUT"),
        ("DELETE", "/blobs/images/1/a/original-b.png", 405, "GET, HEAD"),
        ("GET", "/api/nothing-here/", 404, nil),
        ("DELETE", "/api/images/images/5/original/extra", 404, nil),
    ]

    @Test(arguments: cases)
    func aWrongMethodIs405WithAllow(_ probe: (method: String, path: String, status: Int, allow: String?)) async throws {
        let (app, http) = try await inMemoryGateway()
        defer { Task { await app.stop() } }
        let response = try await http.send(probe.method, probe.path)
        #expect(response.status == probe.status)
        #expect(response.header("allow") == probe.allow)
        #expect(response.json["code"] as? String == (probe.status == 405 ? "method_not_allowed" : "not_found"))
        #expect(response.header("x-request-id") != nil)
    }
}
