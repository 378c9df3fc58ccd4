extension SwiftGenerator {
    /// Emits, for one service: the protocol clients and servers share, the method paths, the
    /// server's method table (an extension on the protocol), and the client over a transport.
    func emitService(_ service: ServiceDecl, into out: inout CodeWriter) throws(ProtoGenError) {
        let serviceName = Naming.typeName(service.name)
        let fullName = file.package.isEmpty ? service.name : file.package + "." + service.name
        struct Method {
            var decl: MethodDecl
            var swiftName: String
            var input: String
            var output: String
        }
        var methods: [Method] = []
        var skipped: [MethodDecl] = []
        for decl in service.methods {
            guard decl.isUnary else {
                skipped.append(decl)
                continue
            }
            let input = try resolve(decl.inputType, scope: file.package, line: decl.line)
            let output = try resolve(decl.outputType, scope: file.package, line: decl.line)
            guard input.kind == .message, output.kind == .message else {
                throw fail(decl.line, "rpc \(decl.name) must take and return messages")
            }
            methods.append(Method(decl: decl, swiftName: Naming.memberName(Naming.lowerCamel(Naming.upperSnake(decl.name).lowercased())), input: input.swiftName, output: output.swiftName))
        }
        let methodsEnum = "\(serviceName)Methods"

        // The shared interface.
        out.line("// MARK: - \(service.name)")
        out.line()
        out.doc(service.doc.isEmpty ? ["The `\(fullName)` service."] : service.doc)
        out.doc([
            "",
            "Servers implement this protocol and mount ``serverMethods``; clients call it through",
            "``\(serviceName)Client``. Both share this interface, so code that calls the service can be",
            "handed an in-memory implementation in tests.",
        ])
        try out.block("public protocol \(serviceName): Sendable") { (out: inout CodeWriter) throws(ProtoGenError) in
            for (index, method) in methods.enumerated() {
                if index > 0 { out.line() }
                out.doc(method.decl.doc)
                out.line("func \(method.swiftName)(_ request: \(method.input), context: RPCContext) async throws -> \(method.output)")
            }
            for decl in skipped {
                if !methods.isEmpty { out.line() }
                let kind = decl.clientStreaming && decl.serverStreaming ? "bidirectional-streaming" : decl.clientStreaming ? "client-streaming" : "server-streaming"
                out.line("// \(decl.name) is \(kind): not generated (this project serves unary methods only); servers")
                out.line("// answer it with UNIMPLEMENTED.")
            }
        }

        // Paths.
        out.line()
        out.line("/// The name and method paths of `\(fullName)`, as sent in the HTTP/2 `:path`.")
        try out.block("public enum \(methodsEnum)") { (out: inout CodeWriter) throws(ProtoGenError) in
            out.line("public static let serviceName = \(Naming.stringLiteral(fullName))")
            for method in methods {
                out.line("public static let \(method.swiftName) = \(Naming.stringLiteral("/\(fullName)/\(method.decl.name)"))")
            }
            out.line("/// Every unary method's path, in declaration order.")
            out.line("public static let all: [String] = [\(methods.map { $0.swiftName }.joined(separator: ", "))]")
        }

        // Conveniences and the server's method table.
        out.line()
        try out.block("extension \(serviceName)") { (out: inout CodeWriter) throws(ProtoGenError) in
            for method in methods {
                out.line("/// Calls `\(method.decl.name)` with an empty context: no metadata, no deadline.")
                out.line("public func \(method.swiftName)(_ request: \(method.input)) async throws -> \(method.output) {")
                out.line("    try await \(method.swiftName)(request, context: RPCContext())")
                out.line("}")
                out.line()
            }
            out.line("/// The methods to mount on a server, one per unary rpc.")
            out.line("///")
            out.line("/// A request that fails to decode is answered with INTERNAL \"Could not decode the request")
            out.line("/// message\". Errors the implementation throws are mapped by the transport")
            out.line("/// (``RPCError/init(mapping:)``).")
            try out.block("public var serverMethods: [ServerMethod]") { (out: inout CodeWriter) throws(ProtoGenError) in
                if methods.isEmpty {
                    out.line("[]")
                    return
                }
                out.line("[")
                out.indent()
                for method in methods {
                    out.line("ServerMethod(path: \(methodsEnum).\(method.swiftName)) { bytes, context in")
                    out.line("    let request: \(method.input) = try decodeRequest(bytes)")
                    out.line("    return try await self.\(method.swiftName)(request, context: context).serializedBytes()")
                    out.line("},")
                }
                out.outdent()
                out.line("]")
            }
        }

        // The client.
        out.line()
        out.line("/// Calls `\(fullName)` over a ``ClientTransport``.")
        out.line("///")
        out.line("/// Every method throws ``RPCError``: the server's status, or the transport's failure, or")
        out.line("/// INTERNAL \"Could not decode the response message\".")
        try out.block("public struct \(serviceName)Client: \(serviceName)") { (out: inout CodeWriter) throws(ProtoGenError) in
            out.line("private let transport: any ClientTransport")
            out.line()
            out.line("/// A client that sends its calls through `transport`.")
            out.line("public init(transport: any ClientTransport) {")
            out.line("    self.transport = transport")
            out.line("}")
            for method in methods {
                out.line()
                out.doc(method.decl.doc)
                try out.block("public func \(method.swiftName)(_ request: \(method.input), context: RPCContext) async throws(RPCError) -> \(method.output)") { (out: inout CodeWriter) throws(ProtoGenError) in
                    out.line("let response = try await transport.unary(path: \(methodsEnum).\(method.swiftName), request: request.serializedBytes(), context: context)")
                    out.line("return try decodeResponse(response.message)")
                }
            }
        }
    }

    /// The decoding helpers the services of one file share.
    func emitServiceHelpers(into out: inout CodeWriter) {
        out.line("private func decodeRequest<Message: ProtoMessage>(_ bytes: [UInt8]) throws(RPCError) -> Message {")
        out.line("    do {")
        out.line("        return try Message(serializedBytes: bytes)")
        out.line("    } catch {")
        out.line("        throw RPCError(code: .internalError, message: \"Could not decode the request message\")")
        out.line("    }")
        out.line("}")
        out.line()
        out.line("private func decodeResponse<Message: ProtoMessage>(_ bytes: [UInt8]) throws(RPCError) -> Message {")
        out.line("    do {")
        out.line("        return try Message(serializedBytes: bytes)")
        out.line("    } catch {")
        out.line("        throw RPCError(code: .internalError, message: \"Could not decode the response message\")")
        out.line("    }")
        out.line("}")
    }
}
