import Foundation
public import HTTPClient

/// JSON over HTTP against a live server, for gateway tests.
public struct HTTPTestClient: Sendable {
    public let baseURL: String
    public let client: CurlHTTPClient

    public init(port: Int) {
        baseURL = "http://127.0.0.1:\(port)"
        client = CurlHTTPClient(threads: 4)
    }

    /// Sends a request; `json` is serialised as the body with `Content-Type: application/json`.
    public func send(_ method: String, _ path: String, json: [String: Any]? = nil, body: [UInt8]? = nil,
                     headers: [(String, String)] = [], bearer: String? = nil) async throws -> HTTPResponse {
        var allHeaders = headers.map { (name: $0.0, value: $0.1) }
        var payload: [UInt8] = body ?? []
        if let json {
            payload = Array(try JSONSerialization.data(withJSONObject: json))
            allHeaders.append((name: "Content-Type", value: "application/json"))
        }
        if let bearer { allHeaders.append((name: "Authorization", value: "Bearer \(bearer)")) }
        return try await client.send(HTTPRequest(method: method, url: baseURL + path, headers: allHeaders, body: payload, timeout: .seconds(30)))
    }
}

extension HTTPResponse {
    /// The body as a JSON object (empty when it is not one).
    public var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
    }
}
