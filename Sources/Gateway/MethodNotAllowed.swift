import HTTPTypes
import Hummingbird

/// Answers `405 Method Not Allowed`, with `Allow`, when a request's path is a route's but its
/// method is not one the route takes (Hummingbird's router answers 404 then). It is added after
/// every route, so it runs only in front of the router's not-found responder.
struct MethodNotAllowedMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext
    /// Each registered path, with its methods.
    let routes: [(path: RouterPath, methods: Set<HTTPRequest.Method>)]

    init(routes: [Router<GatewayRequestContext>.RouteDescription]) {
        var byPath: [String: (path: RouterPath, methods: Set<HTTPRequest.Method>)] = [:]
        for route in routes {
            byPath[route.path.description, default: (route.path, [])].methods.insert(route.method)
        }
        self.routes = Array(byPath.values)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let allowed = allowedMethods(path: request.uri.path)
            guard !allowed.isEmpty else { throw error }
            return JSONResponse.error(.methodNotAllowed(request.method), headers: [.allow: allowed.joined(separator: ", ")])
        }
    }

    /// The methods of every route whose path matches `path`, sorted; `HEAD` wherever `GET` is
    /// (the router generates it).
    func allowedMethods(path: String) -> [String] {
        let segments = path.split(separator: "/")
        var methods: Set<HTTPRequest.Method> = []
        for route in routes where Self.matches(route.path, segments) { methods.formUnion(route.methods) }
        if methods.contains(.get) { methods.insert(.head) }
        return methods.map(\.rawValue).sorted()
    }

    /// Whether `segments` (the request path split on `/`, empty parts dropped, as the router
    /// does) is an instance of `path`: literal parts equal, captures any one part, `**` one or
    /// more trailing parts.
    static func matches(_ path: RouterPath, _ segments: [Substring]) -> Bool {
        var index = 0
        for element in path {
            if element.description == "**" { return index < segments.count }
            guard index < segments.count, element ~= segments[index] else { return false }
            index += 1
        }
        return index == segments.count
    }
}
