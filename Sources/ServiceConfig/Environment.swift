import Foundation

/// A configuration problem, reported as one line naming the variable, then the service stops.
public struct ConfigError: Error, Sendable, CustomStringConvertible, Hashable {
    public let variable: String
    public let problem: String

    public init(_ variable: String, _ problem: String) {
        self.variable = variable
        self.problem = problem
    }

    public var description: String { "configuration error: \(variable) \(problem)" }
}

/// The configuration source: the process environment over a `.env` file.
///
/// A struct over `[String: String]` so tests pass a dictionary. Typed getters report bad values
/// as ``ConfigError``s naming the variable. Empty values count as unset.
public struct ConfigEnvironment: Sendable {
    public let values: [String: String]

    public init(_ values: [String: String]) {
        self.values = values.filter { !$0.value.isEmpty }
    }

    /// The process environment over `.env` in the working directory (the environment wins).
    public static func load(dotEnvPath: String = ".env") throws(ConfigError) -> ConfigEnvironment {
        var merged: [String: String] = [:]
        if FileManager.default.fileExists(atPath: dotEnvPath) {
            guard let text = try? String(contentsOfFile: dotEnvPath, encoding: .utf8) else {
                throw ConfigError(".env", "cannot be read")
            }
            merged = try parseDotEnv(text)
        }
        for (key, value) in ProcessInfo.processInfo.environment { merged[key] = value }
        return ConfigEnvironment(merged)
    }

    /// Parses `KEY=value` lines; `#` comments, blank lines and `export ` prefixes allowed;
    /// values may be single- or double-quoted.
    public static func parseDotEnv(_ text: String) throws(ConfigError) -> [String: String] {
        var result: [String: String] = [:]
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
            guard let equals = line.firstIndex(of: "=") else {
                throw ConfigError(".env", "line \(number + 1) is not KEY=value")
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
            }
            result[key] = value
        }
        return result
    }

    public subscript(_ name: String) -> String? { values[name] }

    public func string(_ name: String, default fallback: String) -> String {
        values[name] ?? fallback
    }

    public func int(_ name: String, default fallback: Int, range: ClosedRange<Int>) throws(ConfigError) -> Int {
        guard let text = values[name] else { return fallback }
        guard let value = Int(text) else { throw ConfigError(name, "must be a whole number, got \"\(text)\"") }
        guard range.contains(value) else {
            throw ConfigError(name, "must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
        }
        return value
    }

    public func port(_ name: String, default fallback: Int) throws(ConfigError) -> Int {
        try int(name, default: fallback, range: 1...65535)
    }

    /// A `host:port` address.
    public func address(_ name: String, default fallback: String) throws(ConfigError) -> (host: String, port: Int) {
        let text = values[name] ?? fallback
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port),
              colon != text.startIndex
        else { throw ConfigError(name, "must be host:port, got \"\(text)\"") }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }

    public func bool(_ name: String, default fallback: Bool) throws(ConfigError) -> Bool {
        guard let text = values[name]?.lowercased() else { return fallback }
        switch text {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ConfigError(name, "must be true or false, got \"\(text)\"")
        }
    }

    /// `development` (the default: dev conveniences such as a generated signing key) or
    /// `production` (every secret must be configured).
    public func isProduction() throws(ConfigError) -> Bool {
        switch values["IMAGEEDIT_ENV"]?.lowercased() ?? "development" {
        case "development", "dev": return false
        case "production", "prod": return true
        case let other: throw ConfigError("IMAGEEDIT_ENV", "must be development or production, got \"\(other)\"")
        }
    }
}
