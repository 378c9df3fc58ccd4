import AuthTokens
import Foundation
import OpenSSLCrypto
import ServiceConfig

/// Where the auth service's signing key comes from, in order: `AUTH_SIGNING_KEY` (base64url of
/// a 32-byte Ed25519 seed, as `imageedit keygen` prints), `AUTH_SIGNING_KEY_FILE` (a file holding
/// that), or — in development only — a key generated once and kept in `<DATA_DIR>/auth-signing-key`
/// (mode 0600). In production with neither variable set, the service refuses to start.
enum SigningKeyLoader {
    static func load(_ environment: ConfigEnvironment, common: CommonSettings) throws -> Ed25519.PrivateKey {
        if let text = environment["AUTH_SIGNING_KEY"] {
            return try parse(text, variable: "AUTH_SIGNING_KEY")
        }
        if let path = environment["AUTH_SIGNING_KEY_FILE"] {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ConfigError("AUTH_SIGNING_KEY_FILE", "cannot be read: \(path)")
            }
            return try parse(text, variable: "AUTH_SIGNING_KEY_FILE")
        }
        if common.isProduction {
            throw ConfigError("AUTH_SIGNING_KEY", "is required when IMAGEEDIT_ENV=production (generate one with `imageedit keygen`)")
        }
        return try developmentKey(in: common.dataDirectory)
    }

    static func parse(_ text: String, variable: String) throws -> Ed25519.PrivateKey {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let seed = Base64URL.decode(Array(trimmed.utf8)), seed.count == 32, let key = try? Ed25519.PrivateKey(rawRepresentation: seed) else {
            throw ConfigError(variable, "must be the base64url encoding of a 32-byte Ed25519 seed (see `imageedit keygen`)")
        }
        return key
    }

    /// The development key under `directory`, made on first use.
    static func developmentKey(in directory: String) throws -> Ed25519.PrivateKey {
        let text = try developmentSecret(named: "auth-signing-key", in: directory) {
            Base64URL.encode(try Ed25519.PrivateKey().rawRepresentation)
        }
        return try parse(text, variable: "DATA_DIR/auth-signing-key")
    }

    /// A fresh key, printed for `imageedit keygen`.
    static func generate() throws -> String {
        Base64URL.encode(try Ed25519.PrivateKey().rawRepresentation)
    }
}

/// A development secret kept in `<directory>/<name>` (mode 0600), made with `make` the first
/// time. When two processes race to make it, whichever file lands first wins and both use it.
func developmentSecret(named name: String, in directory: String, make: () throws -> String) throws -> String {
    let path = (directory as NSString).appendingPathComponent(name)
    if let text = try? String(contentsOfFile: path, encoding: .utf8) {
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
    do {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    } catch {
        throw ConfigError("DATA_DIR", "cannot be created: \(directory)")
    }
    let value = try make()
    let temporary = path + ".tmp-\(getpid())"
    guard FileManager.default.createFile(atPath: temporary, contents: Data((value + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
        throw ConfigError("DATA_DIR", "is not writable: \(directory)")
    }
    defer { unlink(temporary) }
    if link(temporary, path) != 0 {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ConfigError("DATA_DIR", "is not readable: \(directory)") }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
    return value
}
