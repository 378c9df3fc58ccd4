import CoreMetrics
import HTTPTypes
import Hummingbird
import Synchronization

/// Counts, times and tracks in flight every request the gateway answers, through swift-metrics.
///
/// Series (see README, "Operations"):
/// - `imageedit_http_requests_total{method, route, status}`
/// - `imageedit_http_request_duration_seconds{method, route}` (a histogram)
/// - `imageedit_http_requests_in_flight`
///
/// `route` is the matched route's pattern (`/api/images/images/{id}`), never the raw path, so
/// ids cannot multiply the series; a request no route matches is `unmatched`. `method` is one of
/// the standard methods or `other`, for the same reason. Added to the
/// router before every route (and outside ``GatewayMiddleware``, so it sees the final status).
struct GatewayMetricsMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext
    let metrics: HTTPMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        metrics.inFlight.increment()
        let started = ContinuousClock.now
        defer { metrics.inFlight.decrement() }
        do {
            let response = try await next(request, context)
            metrics.record(method: Self.method(request.method), route: Self.route(context.endpointPath), status: response.status.code,
                           duration: .now - started)
            return response
        } catch {
            // GatewayMiddleware answers every error; this is only reached if it is not installed.
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.record(method: Self.method(request.method), route: Self.route(context.endpointPath), status: status, duration: .now - started)
            throw error
        }
    }

    /// The method label: a standard method's name, or `other` (clients can send any token).
    static func method(_ method: HTTPRequest.Method) -> String {
        switch method {
        case .get, .head, .post, .put, .patch, .delete, .options: method.rawValue
        default: "other"
        }
    }

    /// The route label: the pattern, or `unmatched`.
    static func route(_ endpointPath: String?) -> String {
        guard let endpointPath, endpointPath != "NotFound" else { return "unmatched" }
        return endpointPath
    }
}

/// The gateway's request series, with their handles cached per label set (the hot path pays
/// one dictionary lookup, not a registry lookup). Thread-safe.
final class HTTPMetrics: Sendable {
    private struct Key: Hashable {
        var method: String
        var route: String
        var status: Int
    }

    private let factory: any MetricsFactory
    private let handles = Mutex<[Key: (count: Counter, latency: CoreMetrics.Timer)]>([:])
    /// Requests being answered now.
    let inFlight: Meter

    init(factory: any MetricsFactory) {
        self.factory = factory
        inFlight = Meter(label: "imageedit_http_requests_in_flight", factory: factory)
    }

    func record(method: String, route: String, status: Int, duration: Duration) {
        let key = Key(method: method, route: route, status: status)
        let factory = self.factory
        let (count, latency) = handles.withLock { handles in
            if let found = handles[key] { return found }
            let made = (
                count: Counter(label: "imageedit_http_requests_total",
                               dimensions: [("method", method), ("route", route), ("status", String(status))], factory: factory),
                latency: CoreMetrics.Timer(label: "imageedit_http_request_duration_seconds",
                                           dimensions: [("method", method), ("route", route)], factory: factory))
            handles[key] = made
            return made
        }
        count.increment()
        let (seconds, attoseconds) = duration.components
        latency.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

/// `GET /metrics`: the process's metrics in the Prometheus text format.
struct MetricsRoute {
    let render: @Sendable () -> [UInt8]

    func register(on router: Router<GatewayRequestContext>) {
        router.get("/metrics") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: render())))
        }
    }
}
