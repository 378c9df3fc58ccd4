import Glibc
import NIOConcurrencyHelpers
import OpenSSLCrypto
import RPCCore
import RPCNIO
import Testing
import TestSupport

/// Our client and our server over TLS on real loopback sockets.
@Suite struct TLSLoopbackTests {
    let certificates: TestCertificates

    init() throws {
        certificates = try TestCertificates.shared()
    }

    func serverConfiguration(certificate: String? = nil, key: String? = nil, clientCA: String? = nil) throws -> RPCServer.Configuration {
        var configuration = RPCServer.Configuration()
        configuration.tls = try TLSContext(.server(
            certificateChainFile: certificate ?? certificates.serverCertificateFile, privateKeyFile: key ?? certificates.serverKeyFile,
            clientCAFile: clientCA))
        return configuration
    }

    func clientConfiguration(ca: String? = nil, certificate: String? = nil, key: String? = nil) throws -> HTTP2ClientTransport.Configuration {
        var configuration = HTTP2ClientTransport.Configuration()
        configuration.tls = try TLSContext(.client(caFile: ca ?? certificates.caFile, certificateChainFile: certificate, privateKeyFile: key))
        return configuration
    }

    @Test(arguments: ["127.0.0.1", "localhost"])
    func callsSucceedOverTLS(host: String) async throws {
        let server = RPCServer(configuration: try serverConfiguration(), registry: RawMethods.registry(cancellations: NIOLockedValueBox(0)))
        let port = try await server.start()
        let client = HTTP2ClientTransport(host: host, port: port, configuration: try clientConfiguration())
        #expect(try await client.unary(path: RawMethods.echo, request: [1, 2, 3], context: RPCContext()).message == [1, 2, 3])
        // Many calls at once on the one connection, and a message bigger than a TLS record.
        let big = [UInt8](repeating: 7, count: 3 * 1024 * 1024)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<20 {
                group.addTask {
                    let request = index == 0 ? big : [UInt8(index)]
                    let response = try await client.unary(path: RawMethods.echo, request: request, context: RPCContext())
                    #expect(response.message == request)
                }
            }
            try await group.waitForAll()
        }
        // Errors and metadata travel as over h2c.
        let failure = await expectRPCError(.invalidArgument) {
            _ = try await client.unary(path: RawMethods.fail, request: [], context: RPCContext())
        }
        #expect(failure?.message == "Ungültig: 100% falsch ✗")
        await client.close()
        await server.shutdown(gracePeriod: .seconds(1))
    }

    /// A client whose verification must fail, and the words its error must carry.
    struct Mismatch: Sendable, CustomTestStringConvertible {
        let testDescription: String
        let host: String
        let useMismatchedCertificate: Bool
        let trustOtherCA: Bool
        let expected: String
    }

    @Test(arguments: [
        Mismatch(testDescription: "untrusted CA", host: "127.0.0.1", useMismatchedCertificate: false, trustOtherCA: true,
                 expected: "certificate verify failed (unable to get local issuer certificate)"),
        Mismatch(testDescription: "IP not in the certificate", host: "127.0.0.1", useMismatchedCertificate: true, trustOtherCA: false,
                 expected: "certificate verify failed (IP address mismatch)"),
        Mismatch(testDescription: "host name not in the certificate", host: "localhost", useMismatchedCertificate: true, trustOtherCA: false,
                 expected: "certificate verify failed (hostname mismatch)"),
    ])
    func unverifiedServersFailUnavailableWithTheReason(mismatch: Mismatch) async throws {
        let server = RPCServer(
            configuration: try serverConfiguration(
                certificate: mismatch.useMismatchedCertificate ? certificates.mismatchedCertificateFile : nil,
                key: mismatch.useMismatchedCertificate ? certificates.mismatchedKeyFile : nil),
            registry: RawMethods.registry(cancellations: NIOLockedValueBox(0)))
        let port = try await server.start()
        let client = HTTP2ClientTransport(
            host: mismatch.host, port: port, configuration: try clientConfiguration(ca: mismatch.trustOtherCA ? certificates.otherCAFile : nil))
        let error = await expectRPCError(.unavailable) {
            _ = try await client.unary(path: RawMethods.echo, request: [1], context: RPCContext())
        }
        #expect(error?.message == "TLS handshake with \(mismatch.host):\(port) failed: \(mismatch.expected)")
        await client.close()

        // The server is unharmed: a client that trusts it gets through.
        let good = HTTP2ClientTransport(host: "localhost", port: port, configuration: try clientConfiguration())
        if !mismatch.useMismatchedCertificate {
            #expect(try await good.unary(path: RawMethods.echo, request: [9], context: RPCContext()).message == [9])
        }
        await good.close()
        await server.shutdown(gracePeriod: .seconds(1))
    }

    @Test func cleartextClientOfATLSServerIsUnavailable() async throws {
        let server = RPCServer(configuration: try serverConfiguration(), registry: RawMethods.registry(cancellations: NIOLockedValueBox(0)))
        let port = try await server.start()
        let client = HTTP2ClientTransport(host: "127.0.0.1", port: port)
        _ = await expectRPCError(.unavailable) {
            _ = try await client.unary(path: RawMethods.echo, request: [1], context: RPCContext.timeout(.seconds(20)))
        }
        await client.close()
        await server.shutdown(gracePeriod: .seconds(1))
    }

    @Test func tlsClientOfACleartextServerIsUnavailable() async throws {
        let server = RPCServer(configuration: RPCServer.Configuration(), registry: RawMethods.registry(cancellations: NIOLockedValueBox(0)))
        let port = try await server.start()
        let client = HTTP2ClientTransport(host: "127.0.0.1", port: port, configuration: try clientConfiguration())
        let error = await expectRPCError(.unavailable) {
            _ = try await client.unary(path: RawMethods.echo, request: [1], context: RPCContext.timeout(.seconds(20)))
        }
        #expect(error?.message.hasPrefix("TLS handshake with 127.0.0.1:\(port) failed: ") == true, "\(String(describing: error?.message))")
        await client.close()
        await server.shutdown(gracePeriod: .seconds(1))
    }

    @Test func mutualTLSAcceptsTrustedClientCertificatesOnly() async throws {
        let failures = NIOLockedValueBox<[String]>([])
        var configuration = try serverConfiguration(clientCA: certificates.caFile)
        configuration.onTLSHandshakeFailure = { peer, error in
            failures.withLockedValue { $0.append("\(peer.hasPrefix("127.0.0.1:")) \(error.reason)") }
        }
        let server = RPCServer(configuration: configuration, registry: RawMethods.registry(cancellations: NIOLockedValueBox(0)))
        let port = try await server.start()

        let trusted = HTTP2ClientTransport(
            host: "127.0.0.1", port: port,
            configuration: try clientConfiguration(certificate: certificates.clientCertificateFile, key: certificates.clientKeyFile))
        #expect(try await trusted.unary(path: RawMethods.echo, request: [1], context: RPCContext()).message == [1])

        for (certificate, key) in [(nil, nil), (certificates.otherClientCertificateFile, certificates.otherClientKeyFile)] as [(String?, String?)] {
            let refused = HTTP2ClientTransport(
                host: "127.0.0.1", port: port, configuration: try clientConfiguration(certificate: certificate, key: key))
            let error = await expectRPCError(.unavailable) {
                _ = try await refused.unary(path: RawMethods.echo, request: [2], context: RPCContext.timeout(.seconds(20)))
            }
            // TLS 1.3: the client's handshake ends before the server checks its certificate, so
            // the refusal arrives as the server's alert on the established connection.
            // The alert can be lost when the server's kernel answers our already-sent request
            // with a reset, so a plain connection failure is accepted too.
            let message = error?.message ?? ""
            let toldWhy = message.hasPrefix("TLS error from 127.0.0.1:\(port): ") && message.contains("alert")
            #expect(toldWhy || ["Connection closed", "Connection failed"].contains(message), "\(message)")
            await refused.close()
        }

        // The server reports each refusal with the peer and the reason (the client may have
        // reconnected once, so at least one each).
        try await waitUntil { failures.withLockedValue { $0.count >= 2 } }
        let reported = failures.withLockedValue { $0 }
        #expect(reported.contains("true peer did not return a certificate"), "\(reported)")
        #expect(reported.contains { $0.hasPrefix("true certificate verify failed") }, "\(reported)")

        // The trusted client's connection is unaffected.
        #expect(try await trusted.unary(path: RawMethods.echo, request: [3], context: RPCContext()).message == [3])
        await trusted.close()
        await server.shutdown(gracePeriod: .seconds(1))
    }

    @Test func aSilentClientIsDisconnectedAfterTheHandshakeTimeout() async throws {
        var configuration = try serverConfiguration()
        configuration.tlsHandshakeTimeout = .milliseconds(300)
        let server = RPCServer(configuration: configuration, registry: RawMethods.registry(cancellations: NIOLockedValueBox(0)))
        let port = try await server.start()
        // Connect and say nothing: the server must hang up (read returns 0) well before our
        // own 20-second receive timeout.
        let started = ContinuousClock.now
        let result = try await Task.detached { try silentConnectionRead(port: port, timeoutSeconds: 20) }.value
        #expect(result == 0, "the server should close the connection, read returned \(result)")
        #expect(ContinuousClock.now - started < .seconds(19))
        await server.shutdown(gracePeriod: .seconds(1))
    }
}

/// Connects to 127.0.0.1:`port`, sends nothing, and returns what the first blocking read
/// returns (0: the server closed; -1: error or timeout).
func silentConnectionRead(port: Int, timeoutSeconds: Int) throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw RPCError(code: .internalError, message: "socket failed") }
    defer { close(fd) }
    var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw RPCError(code: .unavailable, message: "connect failed") }
    var buffer = [UInt8](repeating: 0, count: 1024)
    while true {
        let count = read(fd, &buffer, buffer.count)
        if count > 0 { continue }  // a TLS server sends nothing first, but tolerate it
        return count
    }
}
