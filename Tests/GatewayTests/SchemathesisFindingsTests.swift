import Foundation
@testable import Gateway
import NIOCore
import Testing
import TestSupport

/// Regressions for what schemathesis (scripts/schemathesis.sh) found against the live gateway,
/// each pinned here in-process so it cannot come back unnoticed.
@Suite struct SchemathesisFindingsTests {
    /// Registers and logs in a user on the in-memory gateway; returns its access token.
    static func token(_ http: HTTPTestClient) async throws -> String {
        let registered = try await http.send("POST", "/api/register/", json: ["username": "grace", "email": "grace@example.com", "password": "correct horse"])
        #expect(registered.status == 201)
        let login = try await http.send("POST", "/api/login/", json: ["username": "grace", "password": "correct horse"])
        return try #require(login.json["access"] as? String)
    }

    /// `(page - 1) * page_size` overflowed Int and trapped: one request took the gateway down.
    @Test(arguments: ["2432902008176640001", "9223372036854775807", "922337203685477581"])
    func aHugePageIsA404NotACrash(_ page: String) async throws {
        let (app, http) = try await inMemoryGateway()
        defer { Task { await app.stop() } }
        let token = try await Self.token(http)
        let response = try await http.send("GET", "/api/images/images/?page=\(page)&page_size=100", bearer: token)
        #expect(response.status == 404)
        #expect(response.json["error"] as? String == "Invalid page")
        // Still up.
        #expect(try await http.send("GET", "/healthz").status == 200)
    }

    /// Past Int's range the number does not parse: a 400, as for any malformed page.
    @Test func aPageBeyondIntIsA400() async throws {
        let (app, http) = try await inMemoryGateway()
        defer { Task { await app.stop() } }
        let token = try await Self.token(http)
        let response = try await http.send("GET", "/api/images/images/?page=99999999999999999999999", bearer: token)
        #expect(response.status == 400)
        #expect(response.json["code"] as? String == "invalid_argument")
    }

    /// A NUL in a JSON string reached PostgreSQL, which read it as the end of the string:
    /// `a\0b@x.co` registered as the address `a`. Now a 400, as Django REST framework answers.
    @Test(arguments: [
        ("/api/register/", ["username": "nul", "email": "a\u{0}b@example.com", "password": "correct horse"]),
        ("/api/login/", ["email": "grace@example.com\u{0}", "password": "correct horse"]),
        ("/api/token/verify/", ["token": "a\u{0}b"]),
    ] as [(String, [String: String])])
    func aNulInAStringFieldIsA400(_ path: String, _ body: [String: String]) async throws {
        let (app, http) = try await inMemoryGateway()
        defer { Task { await app.stop() } }
        _ = try await Self.token(http)
        let response = try await http.send("POST", path, json: body)
        #expect(response.status == 400)
        #expect((response.json["error"] as? String)?.hasSuffix("must not contain NUL characters") == true)
    }

    /// The same for a multipart text field: a prompt with a NUL would have been stored cut short.
    @Test func aNulInAMultipartPromptIsA400() async throws {
        let (app, http) = try await inMemoryGateway()
        defer { Task { await app.stop() } }
        let token = try await Self.token(http)
        let boundary = "nul-boundary"
        var body = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n".utf8)
        body += TestPNG.make(width: 4, height: 4)
        body += Array("\r\n--\(boundary)\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\ngray\u{0}scale\r\n--\(boundary)--\r\n".utf8)
        let response = try await http.send("POST", "/api/images/images/", body: body,
                                           headers: [("Content-Type", "multipart/form-data; boundary=\(boundary)")], bearer: token)
        #expect(response.status == 400)
        #expect(response.json["error"] as? String == "prompt must not contain NUL characters")
    }

    /// MultipartKit 4.7.1 trapped (index out of range) on a part header name with a byte
    /// >= 0x80: one POST or PATCH took the gateway down (schemathesis, CI run of 12:45). Now a
    /// 400, on both routes and in any part; a UTF-8 filename in a header value still works.
    @Test(arguments: [
        ("POST", "/api/images/images/", "Cont\u{E9}nt-Disposition: form-data; name=\"image\"\r\n"),
        ("PATCH", "/api/images/images/1/", "\u{FF}: x\r\nContent-Disposition: form-data; name=\"prompt\"\r\n"),
        ("POST", "/api/images/images/", "Content-Disposition: form-data; name=\"prompt\"\r\nX-\u{1F600}\r\n"),
    ])
    func aNonASCIIPartHeaderNameIsA400NotACrash(method: String, path: String, headers: String) async throws {
        let (app, http) = try await inMemoryGateway()
        defer { Task { await app.stop() } }
        let token = try await Self.token(http)
        let boundary = "b-0x80"
        var body = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n\r\n".utf8)
        body += TestPNG.make(width: 4, height: 4)
        body += Array("\r\n--\(boundary)\r\n\(headers)\r\nvalue\r\n--\(boundary)--\r\n".utf8)
        let response = try await http.send(method, path, body: body,
                                           headers: [("Content-Type", "multipart/form-data; boundary=\(boundary)")], bearer: token)
        #expect(response.status == 400)
        #expect(response.json["error"] as? String == "Malformed multipart body: a part header name is not ASCII")
        #expect(try await http.send("GET", "/healthz").status == 200)
    }

    /// The check refuses only non-ASCII header names; a UTF-8 filename in a header value, and
    /// high bytes in a part's body (any image), pass to the parser.
    @Test func aUTF8FilenameAndBinaryBodiesStillParse() throws {
        let boundary = "b-utf8"
        var bytes = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"image\"; filename=\"caf\u{E9}-\u{1F600}.png\"\r\n\r\n".utf8)
        let binary: [UInt8] = [0xFF, 0x80, 0xC3, 0x0D, 0x0A, 0xFE, 0x3A, 0x0D, 0x0A, 0x0D, 0x0A, 0x99]
        bytes += binary
        bytes += Array("\r\n--\(boundary)--\r\n".utf8)
        let buffer = ByteBuffer(bytes: bytes)
        #expect(MultipartForm.partHeaderNamesAreASCII(buffer, boundary: boundary))
        let form = try MultipartForm.parse(buffer, boundary: boundary)
        #expect(form["image"]?.filename == "caf\u{E9}-\u{1F600}.png")
        #expect(form["image"]?.data == binary)
    }

    @Test(arguments: [
        ("--b\r\nN\u{E9}: v\r\n\r\nx", false),          // the first part
        ("pre\r\n--b\r\nA: v\r\n\u{FF}\r\n\r\nx", false),  // a later header line, no colon
        ("--b\r\nA: \u{E9}\r\n\r\n\u{E9}\u{FF}: x", true),     // values and bodies are not names
        ("--b\r\nA: v\rX\u{E9}: v\r\n\r\n", true),           // CR without LF ends the block (the parser stops there)
        ("--b", true), ("", true), ("--b\r\n", true),
    ])
    func headerNameCheck(body: String, expected: Bool) {
        #expect(MultipartForm.partHeaderNamesAreASCII(ByteBuffer(string: body), boundary: "b") == expected)
    }

    /// A login field of the wrong type was ignored when the other identifier was there.
    @Test(arguments: [
        ["email": "grace@example.com", "username": ["x"], "password": "correct horse"] as [String: any Sendable],
        ["email": 5, "username": "grace", "password": "correct horse"],
    ])
    func aMistypedLoginFieldIsA400(_ body: [String: any Sendable]) async throws {
        let (app, http) = try await inMemoryGateway()
        defer { Task { await app.stop() } }
        _ = try await Self.token(http)
        let response = try await http.send("POST", "/api/login/", json: body)
        #expect(response.status == 400)
        #expect(response.json["code"] as? String == "invalid_argument")
    }
}
