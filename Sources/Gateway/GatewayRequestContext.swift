public import Hummingbird
import Logging

/// Per-request state: Hummingbird's core storage plus the request id that travels to every
/// downstream call and into the logs.
public struct GatewayRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// From the client's `X-Request-ID` when it sent a sane one, else generated.
    public var requestID: String = ""
    /// The authenticated user, once known (for logs).
    public var userID: Int64?

    public init(source: Source) {
        self.coreContext = .init(source: source)
    }

    /// Uploads go through the image routes' own limit; JSON routes use ``GatewaySettings``.
    public var maxUploadSize: Int { 64 * 1024 * 1024 }
}
