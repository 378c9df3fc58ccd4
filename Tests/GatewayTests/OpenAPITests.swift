import AuthTokens
import Foundation
import Gateway
import Hummingbird
import Logging
import OpenSSLCrypto
import Testing
import TestSupport

/// The OpenAPI document (Sources/Gateway/OpenAPI/openapi.yaml) against the gateway: the embedded
/// copy is current, it parses, it lists exactly the routes the router registers, its error
/// responses have the error shape, and `GET /api/schema/` serves it. (Whether the live gateway
/// answers as it says is schemathesis's part: scripts/schemathesis.sh, run by `make test`.)
@Suite struct OpenAPITests {
    static let sourceURL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/Gateway/OpenAPI/openapi.yaml")

    /// The JSON form, parsed.
    static func document() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json.utf8)) as? [String: Any])
    }

    /// Every operation: (method in upper case, path as written, operation object).
    static func operations() throws -> [(method: String, path: String, operation: [String: Any])] {
        let paths = try #require(try document()["paths"] as? [String: Any])
        var result: [(String, String, [String: Any])] = []
        for (path, item) in paths {
            for (key, value) in try #require(item as? [String: Any]) {
                guard ["get", "put", "post", "delete", "patch", "head", "options", "trace"].contains(key) else { continue }
                result.append((key.uppercased(), path, try #require(value as? [String: Any])))
            }
        }
        return result
    }

    /// A response object, following a `$ref` into components.
    static func resolve(_ response: Any) throws -> [String: Any] {
        let object = try #require(response as? [String: Any])
        guard let reference = object["$ref"] as? String else { return object }
        let name = try #require(reference.split(separator: "/").last.map(String.init))
        let components = try #require(try document()["components"] as? [String: Any])
        let responses = try #require(components["responses"] as? [String: Any])
        return try #require(responses[name] as? [String: Any], "unresolved \(reference)")
    }

    /// The router's form of a documented path: no trailing slash (it is optional on every route),
    /// `{name}` captures, and the one catch-all, whose key spans several segments.
    static func routerPath(_ documented: String) -> String {
        if documented == "/blobs/{key}" { return "/blobs/**" }
        return documented.count > 1 && documented.hasSuffix("/") ? String(documented.dropLast()) : documented
    }

    @Test func theEmbeddedCopyIsCurrent() throws {
        let source = try String(contentsOf: Self.sourceURL, encoding: .utf8)
        #expect(source == OpenAPIDocument.yaml, "openapi.yaml changed: run scripts/gen-openapi.py")
    }

    @Test func theJSONFormParsesAsOpenAPI3() throws {
        let document = try Self.document()
        #expect((document["openapi"] as? String)?.hasPrefix("3.") == true)
        let components = try #require(document["components"] as? [String: Any])
        let schemes = try #require(components["securitySchemes"] as? [String: Any])
        let bearer = try #require(schemes["bearerAuth"] as? [String: Any])
        #expect(bearer["type"] as? String == "http")
        #expect(bearer["scheme"] as? String == "bearer")
        #expect(bearer["bearerFormat"] as? String == "JWT")
        #expect(try Self.operations().count >= 17)
    }

    @Test func everyRegisteredRouteIsDocumentedAndNothingElse() throws {
        let dependencies = GatewayDependencies(
            auth: UnavailableAuthService(), storage: UnavailableStorageService(), edit: UnavailableEditService(),
            authenticator: AccessAuthenticator(verifier: TokenVerifier(keys: [try Ed25519.PrivateKey().publicKey])),
            metricsText: { [] })  // as the live gateway has: GET /metrics is registered only with it
        let router = buildGatewayRouter(settings: GatewaySettings(), dependencies: dependencies, logger: Logger(label: "openapi-test"))
        // HEAD is generated for every GET when the responder is built; the document says so once.
        let registered = Set(router.routes.filter { $0.method != .head }.map { "\($0.method.rawValue) \($0.path.description)" })
        let documented = Set(try Self.operations().map { "\($0.method) \(Self.routerPath($0.path))" })
        #expect(registered.count >= 18)
        #expect(registered.contains("GET /metrics"))
        #expect(registered.subtracting(documented).sorted() == [], "registered but not in openapi.yaml")
        #expect(documented.subtracting(registered).sorted() == [], "in openapi.yaml but not registered")
    }

    @Test func everyOperationIsNamedAndEveryErrorHasTheErrorShape() throws {
        var operationIDs: Set<String> = []
        for (method, path, operation) in try Self.operations() {
            let id = try #require(operation["operationId"] as? String, "\(method) \(path) has no operationId")
            #expect(operationIDs.insert(id).inserted, "operationId \(id) is used twice")
            let responses = try #require(operation["responses"] as? [String: Any])
            for (status, response) in responses {
                let code = try #require(Int(status), "\(method) \(path): status \(status) is not a number")
                let resolved = try Self.resolve(response)
                let headers = try #require(resolved["headers"] as? [String: Any], "\(method) \(path) \(status): no headers")
                #expect(headers["X-Request-ID"] != nil, "\(method) \(path) \(status) does not document X-Request-ID")
                guard code >= 400, path != "/readyz" else { continue }
                let content = try #require(resolved["content"] as? [String: Any])
                let json = try #require(content["application/json"] as? [String: Any], "\(method) \(path) \(status) is not JSON")
                let schema = try #require(json["schema"] as? [String: Any])
                #expect(schema["$ref"] as? String == "#/components/schemas/Error", "\(method) \(path) \(status)")
            }
            if operation["security"] != nil {
                #expect(responses["401"] != nil, "\(method) \(path) is authenticated but does not document 401")
            }
            if operation["requestBody"] != nil {
                for status in ["400", "413", "415"] {
                    #expect(responses[status] != nil, "\(method) \(path) takes a body but does not document \(status)")
                }
            }
        }
    }

    @Test func theGatewayServesItAsYAMLOrJSON() async throws {
        let (app, http) = try await inMemoryGateway()
        defer { Task { await app.stop() } }

        for path in ["/api/schema/", "/api/schema", "/api/schema/?format=yaml"] {
            let yaml = try await http.send("GET", path)
            #expect(yaml.status == 200, "\(path)")
            #expect(yaml.header("content-type") == "application/vnd.oai.openapi")
            #expect(String(decoding: yaml.body, as: UTF8.self) == OpenAPIDocument.yaml)
        }
        let byQuery = try await http.send("GET", "/api/schema/?format=json")
        #expect(byQuery.status == 200)
        #expect(byQuery.header("content-type") == "application/vnd.oai.openapi+json")
        #expect(byQuery.json["openapi"] as? String == "3.0.3")
        let byAccept = try await http.send("GET", "/api/schema/", headers: [("Accept", "application/json")])
        #expect(byAccept.header("content-type") == "application/vnd.oai.openapi+json")
        let yamlWins = try await http.send("GET", "/api/schema/", headers: [("Accept", "application/json, application/vnd.oai.openapi;q=0.9")])
        #expect(yamlWins.header("content-type") == "application/vnd.oai.openapi")

        let unknown = try await http.send("GET", "/api/schema/?format=xml")
        #expect(unknown.status == 400)
        #expect(unknown.json["code"] as? String == "invalid_argument")
    }
}
