public import RPCCore

/// The account rules, as written on the proto fields. Each check throws INVALID_ARGUMENT with a
/// message naming the field and the rule.
public enum AccountRules {
    public static let maxUsernameLength = 50
    public static let maxEmailLength = 254
    public static let minPasswordLength = 8
    public static let maxPasswordLength = 128

    /// The username, trimmed, if it follows Django's rule (1–50 of letters, digits, `@.+-_`).
    public static func username(_ raw: String) throws(RPCError) -> String {
        let username = raw.trimmingWhitespace()
        guard !username.isEmpty else { throw invalid("username is required") }
        guard username.count <= maxUsernameLength else { throw invalid("username must be at most \(maxUsernameLength) characters") }
        let allowed = username.unicodeScalars.allSatisfy { scalar in
            scalar.properties.isAlphabetic || scalar.properties.numericType != nil || "@.+-_".unicodeScalars.contains(scalar)
        }
        guard allowed else { throw invalid("username may contain only letters, digits and @ . + - _") }
        return username
    }

    /// The email, trimmed and lower-cased, if it looks like `local@domain.tld`.
    public static func email(_ raw: String) throws(RPCError) -> String {
        let email = raw.trimmingWhitespace().lowercased()
        guard !email.isEmpty else { throw invalid("email is required") }
        guard email.count <= maxEmailLength else { throw invalid("email must be at most \(maxEmailLength) characters") }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].count <= 64 else { throw invalid("email is not a valid address") }
        let domain = parts[1]
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty && $0.count <= 63 && !$0.hasPrefix("-") && !$0.hasSuffix("-") }),
              domain.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic || $0.properties.numericType != nil || $0 == "-" || $0 == "." }),
              parts[0].unicodeScalars.allSatisfy({
                  !$0.properties.isWhitespace && $0.properties.generalCategory != .control && $0 != "," && $0 != "<" && $0 != ">" && $0 != "\""
              }),
              !parts[0].hasPrefix("."), !parts[0].hasSuffix("."), !parts[0].contains("..")
        else { throw invalid("email is not a valid address") }
        return email
    }

    /// Checks a new password against the stated rule. The password is used exactly as given:
    /// outer spaces are kept and login compares the same exact string, so nothing is stored that
    /// could never be typed again.
    public static func newPassword(_ password: String, username: String, email: String) throws(RPCError) {
        let length = password.unicodeScalars.count
        guard length >= minPasswordLength else { throw invalid("password must be at least \(minPasswordLength) characters") }
        guard length <= maxPasswordLength else { throw invalid("password must be at most \(maxPasswordLength) characters") }
        guard !password.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) }) else { throw invalid("password must not be entirely numeric") }
        guard !password.trimmingWhitespace().isEmpty else { throw invalid("password must not be only white space") }
        let lowered = password.lowercased()
        guard lowered != username.lowercased(), lowered != email.lowercased() else {
            throw invalid("password must differ from the username and the email")
        }
    }

    static func invalid(_ message: String) -> RPCError {
        RPCError(code: .invalidArgument, message: message)
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.unicodeScalars.first, first.properties.isWhitespace { scalars = scalars.dropFirst() }
        while let last = scalars.unicodeScalars.last, last.properties.isWhitespace { scalars = scalars.dropLast() }
        return String(scalars)
    }
}
