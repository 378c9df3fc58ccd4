@testable import AuthServer
import RPCCore
import Testing

/// Hashes made by Django 5.2's own `PBKDF2PasswordHasher` (pip install django; see
/// scripts/django-hash-vectors.py), so accounts carried over from the original service log in.
let djangoVectors: [(password: String, encoded: String)] = [
    ("correct horse battery staple", "pbkdf2_sha256$600000$Q9fXyTmGvU2bN8aR$9oQOk0dlcatOTrJqXUgIsjRp+piffcol2q+t8Ar/a/4="),
    ("pässwörd ✓", "pbkdf2_sha256$870000$abcdefghijklmnop$k4XgbCXnmBwS2l+X25qodGpjk5+LI8fi3XFAVJDdDQw="),
    (" spaced out ", "pbkdf2_sha256$1000$saltsaltsaltsalt$2qC4sGTIXWYX7vG4k3wdyE1ulGiQ7W6hVwpaj/zXFBA="),
    (String(repeating: "x", count: 128), "pbkdf2_sha256$260000$0123456789abcdef$d8XnF7/SxDYMV2NSCZuaAx82Q2IzM0Z/XKwcmsatVeo="),
    ("hunter22", "pbkdf2_sha256$1000000$kExewFfqCdyWHypYBZwVNO$MN4Wv4Zgl/GDEsHX8Ew1CFQ+ErEw0v9werct3nIMyIA="),
]

@Suite struct PasswordTests {
    let hasher = DjangoPasswordHasher(iterations: 1000)

    @Test(arguments: djangoVectors.map { $0.password }, djangoVectors.map { $0.encoded })
    func djangoHashesVerifyOnlyWithTheirOwnPassword(password: String, encoded: String) {
        let expected = djangoVectors.first { $0.encoded == encoded }!.password
        #expect(hasher.verify(password, against: encoded) == (password == expected))
    }

    @Test func weProduceDjangosBytes() throws {
        #expect(try hasher.encode(" spaced out ", salt: "saltsaltsaltsalt", iterations: 1000) == djangoVectors[2].encoded)
    }

    @Test func newHashesHaveDjangosShapeAndVerify() throws {
        let encoded = try DjangoPasswordHasher().hash("a new password")
        let parts = encoded.split(separator: "$")
        #expect(parts.count == 4)
        #expect(parts[0] == "pbkdf2_sha256")
        #expect(parts[1] == "600000")
        #expect(parts[2].count == 22)
        #expect(DjangoPasswordHasher().verify("a new password", against: encoded))
        #expect(!DjangoPasswordHasher().verify("a new passwore", against: encoded))
    }

    @Test(arguments: ["", "md5$1$a$b", "pbkdf2_sha256$x$salt$hash", "pbkdf2_sha256$1000$salt$!!!", "pbkdf2_sha256$0$s$aGk=",
                      "pbkdf2_sha256$1000$$aGk=", "pbkdf2_sha256$1000$salt"])
    func malformedHashesNeverVerify(encoded: String) {
        #expect(!hasher.verify("anything", against: encoded))
    }

    @Test func upgradeIsNeededBelowTheConfiguredCount() {
        #expect(DjangoPasswordHasher(iterations: 600_000).needsUpgrade(djangoVectors[2].encoded))
        #expect(!DjangoPasswordHasher(iterations: 600_000).needsUpgrade(djangoVectors[1].encoded))
    }

    @Test func poolAnswersFalseForTheDecoy() async throws {
        let pool = try PasswordHashingPool(hasher: hasher, threads: 1)
        #expect(try await pool.verify("whatever", against: nil) == false)
        let hash = try await pool.hash("whatever!")
        #expect(try await pool.verify("whatever!", against: hash))
        await pool.shutdown()
    }
}

@Suite struct ValidationTests {
    @Test(arguments: [("ada", "ada"), ("  ada  ", "ada"), ("a.b+c-d_e@f", "a.b+c-d_e@f"), ("Ünïcödé", "Ünïcödé"),
                      (String(repeating: "a", count: 50), String(repeating: "a", count: 50))])
    func validUsernames(raw: String, normalised: String) throws {
        #expect(try AccountRules.username(raw) == normalised)
    }

    @Test(arguments: ["", "   ", String(repeating: "a", count: 51), "has space", "semi;colon", "<script>"])
    func invalidUsernames(raw: String) {
        #expect(throws: RPCError.self) { try AccountRules.username(raw) }
    }

    @Test(arguments: [("Ada@Example.COM", "ada@example.com"), (" a.b+tag@sub.example.org ", "a.b+tag@sub.example.org")])
    func validEmails(raw: String, normalised: String) throws {
        #expect(try AccountRules.email(raw) == normalised)
    }

    @Test(arguments: ["", "plain", "@example.com", "a@", "a@b", "a@@b.com", "a b@c.com", "a@b..com", ".a@b.com", "a@-b.com",
                      String(repeating: "a", count: 250) + "@b.com", "a\u{0}b@c.com", "a\u{7}b@c.com"])
    func invalidEmails(raw: String) {
        #expect(throws: RPCError.self) { try AccountRules.email(raw) }
    }

    @Test(arguments: [
        ("short1!", false), ("12345678901", false), ("ada-lovelace", false), ("ADA@example.com", false),
        ("        ", false), (String(repeating: "p", count: 129), false),
        ("correct horse", true), (" outer spaces ", true), ("12345678a", true),
    ])
    func passwordRule(password: String, valid: Bool) {
        let result = Result { () throws(RPCError) in try AccountRules.newPassword(password, username: "ada-lovelace", email: "ada@example.com") }
        let accepted = (try? result.get()) != nil
        #expect(accepted == valid)
    }
}
