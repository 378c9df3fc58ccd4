/// A client transport that calls a ``ServiceRegistry`` in the same process, with no sockets.
///
/// It keeps the semantics tests rely on: request and response bytes are passed through (so the
/// codec runs), unknown paths are `UNIMPLEMENTED`, non-RPC errors become a generic `INTERNAL`,
/// and the deadline is enforced by cancelling the handler.
public struct InProcessTransport: ClientTransport {
    private let registry: ServiceRegistry

    public init(registry: ServiceRegistry) {
        self.registry = registry
    }

    public init(methods: [ServerMethod]) {
        self.registry = ServiceRegistry(methods)
    }

    public func unary(path: String, request: [UInt8], context: RPCContext) async throws(RPCError) -> ClientResponse {
        guard let method = registry.method(for: path) else {
            throw RPCError(code: .unimplemented, message: "Method not found: \(path)")
        }
        try context.checkDeadline()
        let result: Result<[UInt8], RPCError> = await withDeadline(context.deadline) {
            try await method.handler(request, context)
        }
        return ClientResponse(message: try result.get())
    }
}

/// Runs `body`, cancelling it and answering `DEADLINE_EXCEEDED` if `deadline` passes first.
/// Errors from `body` are mapped with ``RPCError/init(mapping:)``.
public func withDeadline<T: Sendable>(
    _ deadline: ContinuousClock.Instant?,
    _ body: @escaping @Sendable () async throws -> T
) async -> Result<T, RPCError> {
    guard let deadline else {
        do { return .success(try await body()) } catch { return .failure(RPCError(mapping: error)) }
    }
    return await withTaskGroup(of: Result<T, RPCError>?.self) { group in
        group.addTask {
            do { return .success(try await body()) } catch { return .failure(RPCError(mapping: error)) }
        }
        group.addTask {
            try? await Task.sleep(until: deadline, clock: .continuous)
            if Task.isCancelled { return nil }
            return .failure(RPCError(code: .deadlineExceeded, message: "Deadline exceeded"))
        }
        var outcome: Result<T, RPCError> = .failure(RPCError(code: .deadlineExceeded, message: "Deadline exceeded"))
        for await result in group {
            if let result {
                outcome = result
                break
            }
        }
        group.cancelAll()
        return outcome
    }
}
