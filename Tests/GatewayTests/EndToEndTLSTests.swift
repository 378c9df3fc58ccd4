import Foundation
import ImageEditServices
import Logging
import ServiceConfig
import Testing
import TestSupport

/// All four services in this process, every internal call over TLS (optionally mutual).
struct LiveTLSStack {
    let auth: RunningAuthService
    let storage: RunningStorageService
    let edit: RunningEditService
    let gateway: RunningApp
    let http: HTTPTestClient

    /// `serverTLS` goes to the three services, `gatewayTLS` to the gateway (its client half).
    static func start(serverTLS: [String: String], gatewayTLS: [String: String]) async throws -> LiveTLSStack {
        var logger = Logger(label: "e2e-tls")
        logger.logLevel = .error
        let data = NSTemporaryDirectory() + "imageedit-e2e-tls-\(UUID().uuidString)"
        let database = ["DATABASE_URL": testDatabaseURL!, "DATA_DIR": data, "DATABASE_POOL_SIZE": "4"]
        let auth = try await startAuthService(
            ConfigEnvironment(database.merging(serverTLS) { $1 }.merging(["PASSWORD_HASH_ITERATIONS": "1000"]) { $1 }), port: 0, logger: logger)
        // Storage dials auth by IP (the certificate's IP SAN), edit by name (DNS SAN and SNI).
        let storage = try await startStorageService(
            ConfigEnvironment(database.merging(serverTLS) { $1 }.merging(["AUTH_ADDRESS": "127.0.0.1:\(auth.port)", "STORAGE_DIR": data + "/blobs"]) { $1 }),
            port: 0, logger: logger)
        let edit = try await startEditService(
            ConfigEnvironment(serverTLS.merging(["AUTH_ADDRESS": "localhost:\(auth.port)"]) { $1 }), port: 0, logger: logger)
        let gatewayEnvironment = ConfigEnvironment(gatewayTLS.merging([
            "AUTH_ADDRESS": "127.0.0.1:\(auth.port)", "STORAGE_ADDRESS": "localhost:\(storage.port)", "EDIT_ADDRESS": "127.0.0.1:\(edit.port)",
            "RPC_TIMEOUT_MS": "5000", "EDIT_TIMEOUT_MS": "10000",
        ]) { $1 })
        let gateway = try await RunningApp.start { onRunning in try makeGateway(gatewayEnvironment, port: 0, logger: logger, onRunning: onRunning) }
        return LiveTLSStack(auth: auth, storage: storage, edit: edit, gateway: gateway, http: HTTPTestClient(port: gateway.port))
    }

    func stop() async {
        await gateway.stop()
        await edit.shutdown(gracePeriod: .seconds(1))
        await storage.shutdown(gracePeriod: .seconds(1))
        await auth.shutdown(gracePeriod: .seconds(1))
    }
}

@Suite(.enabled(if: testDatabaseURL != nil, "needs TEST_DATABASE_URL (run `make test`)"), .serialized)
struct EndToEndTLSTests {
    let certificates: TestCertificates

    init() throws {
        certificates = try TestCertificates.shared()
    }

    var serverTLS: [String: String] {
        ["TLS_CERT_FILE": certificates.serverCertificateFile, "TLS_KEY_FILE": certificates.serverKeyFile, "TLS_CA_FILE": certificates.caFile]
    }

    var mutualServerTLS: [String: String] {
        serverTLS.merging([
            "TLS_CLIENT_CA_FILE": certificates.caFile,
            "TLS_CLIENT_CERT_FILE": certificates.clientCertificateFile, "TLS_CLIENT_KEY_FILE": certificates.clientKeyFile,
        ]) { $1 }
    }

    var gatewayClientTLS: [String: String] {
        ["TLS_CA_FILE": certificates.caFile,
         "TLS_CLIENT_CERT_FILE": certificates.clientCertificateFile, "TLS_CLIENT_KEY_FILE": certificates.clientKeyFile]
    }

    @Test(arguments: [false, true])
    func registerLoginUploadAndDownloadThroughTheGatewayOverTLS(mutual: Bool) async throws {
        let stack = try await LiveTLSStack.start(serverTLS: mutual ? mutualServerTLS : serverTLS, gatewayTLS: gatewayClientTLS)
        do {
            try await exerciseTheAPI(stack.http)
        } catch {
            await stack.stop()
            throw error
        }
        await stack.stop()
    }

    /// Readiness, register, login, upload, list, download, delete.
    func exerciseTheAPI(_ http: HTTPTestClient) async throws {

        let ready = try await http.send("GET", "/readyz")
        #expect(ready.status == 200, "\(ready.text)")

        let name = "tls\(UInt32.random(in: 0...UInt32.max))"
        let registered = try await http.send("POST", "/api/register/", json: ["username": name, "email": "\(name)@example.com", "password": "over tls please"])
        #expect(registered.status == 201, "\(registered.text)")
        let login = try await http.send("POST", "/api/login/", json: ["username": name, "password": "over tls please"])
        #expect(login.status == 200, "\(login.text)")
        let token = try #require(login.json["access"] as? String)

        let png = try imageFixture("gradient-64x48.png")
        var form = Multipart()
        form.file("image", png)
        form.field("prompt", "invert it")
        let created = try await http.send("POST", "/api/images/images/", body: form.finished, headers: [Multipart.header], bearer: token)
        #expect(created.status == 201, "\(created.text)")
        let id = try #require((created.json["image_data"] as? [String: Any])?["id"] as? Int)

        let list = try await http.send("GET", "/api/images/images/", bearer: token)
        #expect(list.json["count"] as? Int == 1)
        let original = try await http.send("GET", "/api/images/images/\(id)/original", bearer: token)
        #expect(original.status == 200 && original.body == png)
        let deleted = try await http.send("DELETE", "/api/images/images/\(id)/", bearer: token)
        #expect(deleted.status == 204)
    }

    /// A gateway configured for cleartext, or for TLS without the client certificate that
    /// mutual TLS needs, cannot use the services: not ready, and calls fail as unavailable.
    @Test(arguments: ["cleartext", "no client certificate"])
    func aGatewayTheServicesRefuseIsNotReady(variant: String) async throws {
        let gatewayTLS = variant == "cleartext" ? [:] : ["TLS_CA_FILE": certificates.caFile]
        let stack = try await LiveTLSStack.start(serverTLS: mutualServerTLS, gatewayTLS: gatewayTLS)
        let ready = try await stack.http.send("GET", "/readyz")
        #expect(ready.status == 503, "\(ready.text)")
        let login = try await stack.http.send("POST", "/api/login/", json: ["username": "nobody", "password": "whatever it is"])
        #expect(login.status == 503, "\(login.text)")
        await stack.stop()
    }
}

/// TLS settings that cannot work stop a service at start with one line naming the variable.
@Suite struct TLSConfigurationTests {
    let certificates: TestCertificates

    init() throws {
        certificates = try TestCertificates.shared()
    }

    @Test func missingOrUnpairedFilesNameTheVariable() {
        #expect(throws: ConfigError("TLS_CERT_FILE", "names a file that does not exist: /nonexistent.pem")) {
            _ = try TLSSettings(ConfigEnvironment(["TLS_CERT_FILE": "/nonexistent.pem", "TLS_KEY_FILE": certificates.serverKeyFile]))
        }
        #expect(throws: ConfigError("TLS_KEY_FILE", "must be set when TLS_CERT_FILE is")) {
            _ = try TLSSettings(ConfigEnvironment(["TLS_CERT_FILE": certificates.serverCertificateFile]))
        }
        #expect(throws: ConfigError("TLS_CLIENT_CERT_FILE", "must be set when TLS_CLIENT_KEY_FILE is")) {
            _ = try TLSSettings(ConfigEnvironment(["TLS_CA_FILE": certificates.caFile, "TLS_CLIENT_KEY_FILE": certificates.clientKeyFile]))
        }
        #expect(throws: ConfigError("TLS_CLIENT_CA_FILE", "needs TLS_CERT_FILE and TLS_KEY_FILE (mutual TLS is TLS)")) {
            _ = try TLSSettings(ConfigEnvironment(["TLS_CLIENT_CA_FILE": certificates.caFile]))
        }
        #expect(throws: ConfigError("TLS_CA_FILE", "names a file that does not exist: /etc/nothing-here.pem")) {
            _ = try TLSSettings(ConfigEnvironment(["TLS_CA_FILE": "/etc/nothing-here.pem"]))
        }
        #expect(throws: Never.self) {
            let settings = try TLSSettings(ConfigEnvironment([:]))
            #expect(!settings.serverEnabled && !settings.clientEnabled)
        }
    }

    @Test func filesOpenSSLCannotUseNameTheVariable() async throws {
        var logger = Logger(label: "tls-config")
        logger.logLevel = .critical
        // A key that is not the certificate's: the edit service (no database) refuses to start.
        do {
            _ = try await startEditService(
                ConfigEnvironment(["TLS_CERT_FILE": certificates.serverCertificateFile, "TLS_KEY_FILE": certificates.clientKeyFile]),
                port: 0, logger: logger)
            Issue.record("the edit service started with a mismatched key")
        } catch let error as ConfigError {
            #expect(error.variable == "TLS_KEY_FILE", "\(error)")
            #expect(error.problem.hasPrefix("cannot be used: "), "\(error)")
        }
        // A CA file that is not PEM: the gateway refuses to start.
        let junk = certificates.directory + "/junk-ca.pem"
        try Data("not a certificate\n".utf8).write(to: URL(fileURLWithPath: junk))
        do {
            _ = try makeGateway(ConfigEnvironment(["TLS_CA_FILE": junk]), port: 0, logger: logger)
            Issue.record("the gateway started with a junk CA file")
        } catch let error as ConfigError {
            #expect(error.variable == "TLS_CA_FILE", "\(error)")
            #expect(!error.description.contains("not a certificate"))
        }
    }
}
