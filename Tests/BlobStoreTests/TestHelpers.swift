import BlobStore
import HTTPClient
import Testing

/// One HTTP client for the whole test process (its threads live as long as the process).
enum SharedHTTP {
    static let client = CurlHTTPClient(threads: 8)
}

/// Expects `body` to throw a ``BlobStoreError`` of `kind`; returns it for further checks.
@discardableResult
func expectBlobError<T>(_ kind: BlobStoreError.Kind, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation,
                        _ body: () async throws -> T) async -> BlobStoreError? {
    do {
        _ = try await body()
        Issue.record("expected BlobStoreError.\(kind), got success. \(comment?.description ?? "")", sourceLocation: sourceLocation)
    } catch let error as BlobStoreError {
        #expect(error.kind == kind, "\(error). \(comment?.description ?? "")", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected BlobStoreError.\(kind), got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
