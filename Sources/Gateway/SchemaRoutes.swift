import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /api/schema/`: the OpenAPI document (``OpenAPIDocument``), YAML by default, JSON with
/// `?format=json` or an `Accept` header that asks for JSON and not YAML.
struct SchemaRoutes {
    static let yamlBody = ByteBuffer(string: OpenAPIDocument.yaml)
    static let jsonBody = ByteBuffer(string: OpenAPIDocument.json)

    func register(on router: Router<GatewayRequestContext>) {
        router.get("/api/schema") { request, _ in try Self.schema(request) }
    }

    static func schema(_ request: Request) throws -> Response {
        let wantsJSON: Bool
        switch request.uri.queryParameters["format"].map(String.init) {
        case "json"?: wantsJSON = true
        case "yaml"?: wantsJSON = false
        case nil: wantsJSON = prefersJSON(accept: request.headers[.accept])
        case _?: throw APIError.badRequest("format must be yaml or json")
        }
        var headers = HTTPFields()
        headers[.contentType] = wantsJSON ? OpenAPIDocument.jsonContentType : OpenAPIDocument.yamlContentType
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: wantsJSON ? jsonBody : yamlBody))
    }

    /// An `Accept` header that names a JSON type (`application/json`,
    /// `application/vnd.oai.openapi+json`) and no YAML one; anything else, or none, gets YAML.
    static func prefersJSON(accept: String?) -> Bool {
        guard let accept else { return false }
        let types = accept.lowercased().split(separator: ",").map {
            $0.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        }
        if types.contains(where: { $0 == OpenAPIDocument.yamlContentType || $0.hasSuffix("yaml") }) { return false }
        return types.contains { $0.hasSuffix("/json") || $0.hasSuffix("+json") }
    }
}
