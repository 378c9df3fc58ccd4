import OpenSSLCrypto

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Parses the command line and runs one role. Returns the process exit status.
enum InteropCommand {
    static let usage = """
        usage: rpc-interop serve [--host HOST] [--port PORT] [--tls-cert PEM --tls-key PEM [--tls-client-ca PEM]]
               rpc-interop client --target HOST:PORT [--tls-ca PEM [--tls-cert PEM --tls-key PEM]]
        With --tls-cert and --tls-key the server speaks TLS (ALPN h2); --tls-client-ca makes it
        require client certificates. With --tls-ca the client dials with TLS and verifies the
        server against that CA and HOST; --tls-cert/--tls-key are then its client certificate.
        """

    static func run(arguments: [String]) async -> Int32 {
        guard let role = arguments.first else { return fail(usage) }
        var options: [String: String] = [:]
        var rest = arguments.dropFirst()
        while let flag = rest.popFirst() {
            guard flag.hasPrefix("--"), let value = rest.popFirst() else {
                return fail("unexpected argument '\(flag)'\n\(usage)")
            }
            options[String(flag.dropFirst(2))] = value
        }
        switch role {
        case "serve":
            let host = options.removeValue(forKey: "host") ?? "127.0.0.1"
            guard let port = Int(options.removeValue(forKey: "port") ?? "0"), (0...65_535).contains(port) else {
                return fail("--port must be a number from 0 to 65535")
            }
            let tls: TLSContext?
            switch loadTLS(role: .server, &options) {
            case .success(let context): tls = context
            case .failure(let failure): return fail(failure.message)
            }
            guard options.isEmpty else { return fail("unknown option --\(options.keys.sorted()[0])\n\(usage)") }
            return await serve(host: host, port: port, tls: tls)
        case "client":
            guard let target = options.removeValue(forKey: "target"), let (host, port) = parseTarget(target) else {
                return fail("client needs --target HOST:PORT\n\(usage)")
            }
            let tls: TLSContext?
            switch loadTLS(role: .client, &options) {
            case .success(let context): tls = context
            case .failure(let failure): return fail(failure.message)
            }
            guard options.isEmpty else { return fail("unknown option --\(options.keys.sorted()[0])\n\(usage)") }
            return await ClientBattery(host: host, port: port, tls: tls).run()
        case "-h", "--help", "help":
            emit(usage)
            return 0
        default:
            return fail("unknown command '\(role)'\n\(usage)")
        }
    }

    /// Splits `host:port` at the last colon (so `[::1]:50051` works); `nil` when malformed.
    static func parseTarget(_ target: String) -> (String, Int)? {
        guard let colon = target.lastIndex(of: ":"), let port = Int(target[target.index(after: colon)...]),
              (1...65_535).contains(port) else { return nil }
        var host = String(target[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }

    /// A failure worth one line on stderr.
    struct Failure: Error { let message: String }

    /// The TLS context the flags describe, `nil` when they name none; removes the flags it reads.
    /// A server's context needs --tls-cert and --tls-key (--tls-client-ca optional); a client's
    /// needs --tls-ca (--tls-cert and --tls-key optional).
    static func loadTLS(role: TLSConfiguration.Role, _ options: inout [String: String]) -> Result<TLSContext?, Failure> {
        let certificate = options.removeValue(forKey: "tls-cert")
        let key = options.removeValue(forKey: "tls-key")
        let configuration: TLSConfiguration
        switch role {
        case .server:
            let clientCA = options.removeValue(forKey: "tls-client-ca")
            guard certificate != nil || key != nil || clientCA != nil else { return .success(nil) }
            guard let certificate, let key else { return .failure(Failure(message: "serve needs both --tls-cert and --tls-key for TLS")) }
            configuration = .server(certificateChainFile: certificate, privateKeyFile: key, clientCAFile: clientCA)
        case .client:
            let ca = options.removeValue(forKey: "tls-ca")
            guard ca != nil || certificate != nil || key != nil else { return .success(nil) }
            guard let ca else { return .failure(Failure(message: "client needs --tls-ca for TLS")) }
            configuration = .client(caFile: ca, certificateChainFile: certificate, privateKeyFile: key)
        }
        do throws(TLSError) {
            return .success(try TLSContext(configuration))
        } catch {
            return .failure(Failure(message: "cannot load the TLS files: \(error.reason)"))
        }
    }

    private static func fail(_ message: String) -> Int32 {
        emitError("rpc-interop: \(message)")
        return 2
    }
}

/// Writes a line to stdout at once, unbuffered, so a parent reading the pipe sees it now.
func emit(_ line: String) {
    writeAll(fd: 1, line + "\n")
}

/// Writes a line to stderr at once.
func emitError(_ line: String) {
    writeAll(fd: 2, line + "\n")
}

private func writeAll(fd: Int32, _ text: String) {
    var bytes = Array(text.utf8)
    bytes.withUnsafeMutableBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += written
        }
    }
}

/// Ends the process with `status`.
func exitProcess(_ status: Int32) -> Never {
    exit(status)
}
