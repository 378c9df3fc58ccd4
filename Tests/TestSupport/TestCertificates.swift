import Foundation

/// Throwaway PEM certificates for TLS tests, made with the `openssl` command at test time (no
/// private key is ever committed): a CA, a server certificate it signs for `IP:127.0.0.1` and
/// `DNS:localhost`, a client certificate it signs, and the same again from a second,
/// untrusted CA. EC P-256 keys, valid for two days.
public struct TestCertificates: Sendable {
    /// The folder holding every file.
    public let directory: String

    /// The trusted CA.
    public var caFile: String { directory + "/ca.pem" }
    /// Server certificate (SAN `IP:127.0.0.1`, `DNS:localhost`) signed by the trusted CA.
    public var serverCertificateFile: String { directory + "/server.pem" }
    public var serverKeyFile: String { directory + "/server.key" }
    /// Client certificate (`CN=imageedit-test-client`, clientAuth) signed by the trusted CA.
    public var clientCertificateFile: String { directory + "/client.pem" }
    public var clientKeyFile: String { directory + "/client.key" }
    /// A server certificate signed by the trusted CA for `DNS:elsewhere.example` only.
    public var mismatchedCertificateFile: String { directory + "/mismatched.pem" }
    public var mismatchedKeyFile: String { directory + "/mismatched.key" }
    /// A CA nobody trusts, and a server and a client certificate it signed (same names as above).
    public var otherCAFile: String { directory + "/other-ca.pem" }
    public var otherServerCertificateFile: String { directory + "/other-server.pem" }
    public var otherServerKeyFile: String { directory + "/other-server.key" }
    public var otherClientCertificateFile: String { directory + "/other-client.pem" }
    public var otherClientKeyFile: String { directory + "/other-client.key" }

    /// One set per test process, made on first use.
    public static func shared() throws -> TestCertificates {
        try cache.get()
    }

    private static let cache = Result { try TestCertificates.generate() }

    /// Makes a fresh set in a new temporary folder. Throws when `openssl` fails (its stderr
    /// is in the error).
    public static func generate() throws -> TestCertificates {
        let directory = NSTemporaryDirectory() + "imageedit-tls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let certificates = TestCertificates(directory: directory)
        try certificates.makeCA("ca", name: "ImageEdit Test CA")
        try certificates.makeCA("other-ca", name: "Untrusted Test CA")
        let server = "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=critical,CA:FALSE\n"
        let client = "extendedKeyUsage=clientAuth\nbasicConstraints=critical,CA:FALSE\n"
        let mismatched = "subjectAltName=DNS:elsewhere.example\nextendedKeyUsage=serverAuth\nbasicConstraints=critical,CA:FALSE\n"
        try certificates.makeLeaf("server", name: "localhost", ca: "ca", extensions: server)
        try certificates.makeLeaf("client", name: "imageedit-test-client", ca: "ca", extensions: client)
        try certificates.makeLeaf("mismatched", name: "elsewhere.example", ca: "ca", extensions: mismatched)
        try certificates.makeLeaf("other-server", name: "localhost", ca: "other-ca", extensions: server)
        try certificates.makeLeaf("other-client", name: "imageedit-test-client", ca: "other-ca", extensions: client)
        return certificates
    }

    private func makeCA(_ stem: String, name: String) throws {
        try Self.openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "\(directory)/\(stem).key", "-out", "\(directory)/\(stem).pem", "-days", "2", "-subj", "/CN=\(name)",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ])
    }

    private func makeLeaf(_ stem: String, name: String, ca: String, extensions: String) throws {
        let extensionsFile = "\(directory)/\(stem).ext"
        try extensions.write(toFile: extensionsFile, atomically: true, encoding: .utf8)
        try Self.openssl([
            "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "\(directory)/\(stem).key", "-out", "\(directory)/\(stem).csr", "-subj", "/CN=\(name)",
        ])
        try Self.openssl([
            "x509", "-req", "-in", "\(directory)/\(stem).csr", "-CA", "\(directory)/\(ca).pem", "-CAkey", "\(directory)/\(ca).key",
            "-set_serial", String(UInt32.random(in: 1...UInt32.max)), "-days", "2", "-extfile", extensionsFile,
            "-out", "\(directory)/\(stem).pem",
        ])
    }

    private static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let output = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CertificateGenerationError(command: "openssl " + arguments.prefix(2).joined(separator: " "),
                                             output: String(decoding: output, as: UTF8.self))
        }
    }
}

/// `openssl` failed while making test certificates.
public struct CertificateGenerationError: Error, CustomStringConvertible {
    public let command: String
    public let output: String
    public var description: String { "\(command) failed: \(output)" }
}
