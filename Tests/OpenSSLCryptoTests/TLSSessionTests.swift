import Foundation
import OpenSSLCrypto
import Testing
import TestSupport

/// A client and a server session joined in memory: whatever one outputs, the other receives.
struct TLSPair {
    let client: TLSSession
    let server: TLSSession
    var toClient: [UInt8] = []
    var toServer: [UInt8] = []
    var clientError: TLSError?
    var serverError: TLSError?

    init(server: TLSConfiguration, client: TLSConfiguration, serverName: String = "127.0.0.1") throws {
        self.server = try TLSSession(context: TLSContext(server))
        self.client = try TLSSession(context: TLSContext(client), serverName: serverName)
    }

    /// Starts the client's handshake and passes bytes both ways until neither side has more.
    mutating func run() {
        do { try client.startHandshake() } catch { clientError = error }
        pump()
    }

    mutating func pump() {
        for _ in 0..<50 {
            let fromClient = client.takeOutput()
            let fromServer = server.takeOutput()
            if fromClient.isEmpty && fromServer.isEmpty { return }
            if !fromClient.isEmpty && serverError == nil {
                do { toServer += try server.receive(fromClient) } catch { serverError = error }
            }
            if !fromServer.isEmpty && clientError == nil {
                do { toClient += try client.receive(fromServer) } catch { clientError = error }
            }
        }
        Issue.record("the sessions kept talking after 50 rounds")
    }
}

@Suite struct TLSSessionTests {
    let certificates: TestCertificates

    init() throws {
        certificates = try TestCertificates.shared()
    }

    var server: TLSConfiguration {
        .server(certificateChainFile: certificates.serverCertificateFile, privateKeyFile: certificates.serverKeyFile)
    }

    var client: TLSConfiguration { .client(caFile: certificates.caFile) }

    @Test(arguments: ["127.0.0.1", "localhost"])
    func handshakeAgreesOnH2AndCarriesDataBothWays(serverName: String) throws {
        var pair = try TLSPair(server: server, client: client, serverName: serverName)
        // Written before the handshake: held, then sent once it completes.
        try pair.client.send(Array("PRI * HTTP/2.0".utf8))
        #expect(pair.client.state == .handshaking)
        pair.run()
        #expect(pair.clientError == nil && pair.serverError == nil, "\(String(describing: pair.clientError)) \(String(describing: pair.serverError))")
        #expect(pair.client.state == .established && pair.server.state == .established)
        #expect(pair.client.negotiatedProtocol == "h2" && pair.server.negotiatedProtocol == "h2")
        #expect(pair.client.peerCertificateVerified)
        #expect(pair.client.peerSubject?.contains("CN=localhost") == true)
        #expect(!pair.server.peerCertificateVerified, "no client certificate was asked for")
        #expect(pair.client.protocolVersion == "TLSv1.3")
        #expect(pair.toServer == Array("PRI * HTTP/2.0".utf8))

        // A megabyte each way: many records, reassembled in order.
        let big = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try pair.server.send(big)
        try pair.client.send(big.reversed())
        pair.pump()
        #expect(pair.toClient == big)
        #expect(pair.toServer == Array("PRI * HTTP/2.0".utf8) + big.reversed())
    }

    @Test func ciphertextDripFedOneByteAtATimeStillHandshakes() throws {
        var pair = try TLSPair(server: server, client: client)
        try pair.client.startHandshake()
        for _ in 0..<20 {
            for byte in pair.client.takeOutput() { pair.toServer += try pair.server.receive([byte]) }
            for byte in pair.server.takeOutput() { pair.toClient += try pair.client.receive([byte]) }
            if pair.client.state == .established && pair.server.state == .established && !pair.client.hasOutput && !pair.server.hasOutput { break }
        }
        try pair.server.send(Array("hello".utf8))
        for byte in pair.server.takeOutput() { pair.toClient += try pair.client.receive([byte]) }
        #expect(pair.toClient == Array("hello".utf8))
    }

    @Test func serverSignedByAnUntrustedCAIsRefused() throws {
        var pair = try TLSPair(server: server, client: .client(caFile: certificates.otherCAFile))
        try pair.client.send([1, 2, 3])
        pair.run()
        let error = try #require(pair.clientError)
        #expect(error.kind == .handshake)
        #expect(error.reason.contains("certificate verify failed"), "\(error.reason)")
        #expect(error.reason.contains("unable to get local issuer certificate"), "\(error.reason)")
        #expect(pair.client.state == .failed)
        #expect(!pair.client.peerCertificateVerified)
        #expect(pair.toServer.isEmpty, "nothing the client wrote may reach an unverified server")
        // The client's alert reached the server, which fails too.
        #expect(pair.serverError?.kind == .handshake)
        #expect(throws: TLSError.self) { try pair.client.send([4]) }
    }

    @Test(arguments: [("elsewhere.example", "hostname mismatch"), ("127.0.0.2", "IP address mismatch"), ("::1", "IP address mismatch")])
    func certificateNotNamingTheDialledHostIsRefused(serverName: String, verifyResult: String) throws {
        var pair = try TLSPair(server: server, client: client, serverName: serverName)
        pair.run()
        let error = try #require(pair.clientError)
        #expect(error.kind == .handshake)
        #expect(error.reason == "certificate verify failed (\(verifyResult))")
    }

    @Test func mutualTLSWithAClientCertificateSucceeds() throws {
        var pair = try TLSPair(
            server: .server(certificateChainFile: certificates.serverCertificateFile, privateKeyFile: certificates.serverKeyFile,
                            clientCAFile: certificates.caFile),
            client: .client(caFile: certificates.caFile, certificateChainFile: certificates.clientCertificateFile,
                            privateKeyFile: certificates.clientKeyFile))
        try pair.client.send(Array("ping".utf8))
        pair.run()
        #expect(pair.clientError == nil && pair.serverError == nil)
        #expect(pair.server.state == .established)
        #expect(pair.server.peerCertificateVerified)
        #expect(pair.server.peerSubject?.contains("CN=imageedit-test-client") == true)
        #expect(pair.toServer == Array("ping".utf8))
    }

    /// A client that a mutual-TLS server must refuse.
    struct RefusedClient: Sendable, CustomTestStringConvertible {
        /// The stem of the client's certificate and key files, or nil for none.
        let stem: String?
        /// What the server's error says.
        let serverReason: String
        var testDescription: String { stem.map { "certificate \($0)" } ?? "no certificate" }
    }

    @Test(arguments: [
        RefusedClient(stem: nil, serverReason: "peer did not return a certificate"),
        RefusedClient(stem: "other-client", serverReason: "certificate verify failed"),
    ])
    func mutualTLSRefusesClientsWithoutAGoodCertificate(refused: RefusedClient) throws {
        let label = refused.testDescription
        let clientConfiguration: TLSConfiguration = refused.stem.map {
            .client(caFile: certificates.caFile, certificateChainFile: certificates.directory + "/\($0).pem",
                    privateKeyFile: certificates.directory + "/\($0).key")
        } ?? .client(caFile: certificates.caFile)
        var pair = try TLSPair(
            server: .server(certificateChainFile: certificates.serverCertificateFile, privateKeyFile: certificates.serverKeyFile,
                            clientCAFile: certificates.caFile),
            client: clientConfiguration)
        try pair.client.send(Array("ping".utf8))
        pair.run()
        let serverError = try #require(pair.serverError, "\(label)")
        #expect(serverError.kind == .handshake)
        #expect(serverError.reason.contains(refused.serverReason), "\(label): \(serverError.reason)")
        #expect(pair.toServer.isEmpty, "\(label): no application data from a refused client")
        // With TLS 1.3 the client finishes first; the server's alert then fails it.
        let clientError = try #require(pair.clientError, "\(label)")
        #expect(clientError.reason.contains("alert"), "\(label): \(clientError.reason)")
    }

    @Test func bytesThatAreNotTLSFailTheServerHandshake() throws {
        let session = try TLSSession(context: TLSContext(server))
        #expect(throws: TLSError.self) { _ = try session.receive(Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)) }
        #expect(session.state == .failed)
        #expect(session.failure?.kind == .handshake)
        #expect(session.failure?.reason.isEmpty == false)
    }

    @Test func closeNotifyClosesThePeer() throws {
        var pair = try TLSPair(server: server, client: client)
        pair.run()
        pair.client.close()
        #expect(pair.client.state == .closed)
        _ = try pair.server.receive(pair.client.takeOutput())
        #expect(pair.server.state == .closed)
        #expect(throws: TLSError.self) { try pair.server.send([1]) }
    }

    @Test func aClientNeedsTheServerName() throws {
        let context = try TLSContext(client)
        #expect(throws: TLSError(.configuration, "a TLS client needs the server's host name or IP address")) {
            _ = try TLSSession(context: context, serverName: nil)
        }
    }
}

@Suite struct TLSContextTests {
    let certificates: TestCertificates

    init() throws {
        certificates = try TestCertificates.shared()
    }

    @Test func missingFilesAreNamed() {
        #expect(throws: TLSError(.certificateChain, "/nonexistent/cert.pem does not exist")) {
            _ = try TLSContext(.server(certificateChainFile: "/nonexistent/cert.pem", privateKeyFile: certificates.serverKeyFile))
        }
        #expect(throws: TLSError(.privateKey, "/nonexistent/key.pem does not exist")) {
            _ = try TLSContext(.server(certificateChainFile: certificates.serverCertificateFile, privateKeyFile: "/nonexistent/key.pem"))
        }
        #expect(throws: TLSError(.trustRoots, "/nonexistent/ca.pem does not exist")) {
            _ = try TLSContext(.client(caFile: "/nonexistent/ca.pem"))
        }
    }

    @Test func aKeyThatDoesNotMatchTheCertificateIsRefused() throws {
        let error = try #require(throws: TLSError.self) {
            _ = try TLSContext(.server(certificateChainFile: certificates.serverCertificateFile, privateKeyFile: certificates.clientKeyFile))
        }
        #expect(error.kind == .privateKey)
        #expect(error.reason.contains("mismatch"), "\(error.reason)")
    }

    @Test(arguments: [TLSError.Kind.certificateChain, .privateKey, .trustRoots])
    func filesThatAreNotPEMAreRefused(kind: TLSError.Kind) throws {
        let junk = certificates.directory + "/junk-\(kind).pem"
        try Data("not a certificate\n".utf8).write(to: URL(fileURLWithPath: junk))
        let configuration: TLSConfiguration = switch kind {
        case .certificateChain: .server(certificateChainFile: junk, privateKeyFile: certificates.serverKeyFile)
        case .privateKey: .server(certificateChainFile: certificates.serverCertificateFile, privateKeyFile: junk)
        default: .client(caFile: junk)
        }
        let error = try #require(throws: TLSError.self) { _ = try TLSContext(configuration) }
        #expect(error.kind == kind)
        #expect(!error.reason.contains("not a certificate"), "file contents never appear in errors")
    }

    @Test func aServerNeedsACertificate() {
        #expect(throws: TLSError.self) { _ = try TLSContext(TLSConfiguration(role: .server)) }
    }
}
