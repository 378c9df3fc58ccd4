import Foundation
import Hummingbird
import StorageAPI
@testable import Gateway
import Testing

/// The gateway's own JSON writer must write what `JSONSerialization` (sorted keys, slashes
/// unescaped) wrote before it, and what any JSON parser reads back as the same values.
@Suite struct JSONWriterTests {
    static func foundation(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
    }

    static func written(_ object: [String: Any]) throws -> String {
        let bytes = try #require(JSONWriter.encode(object))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// One image's metadata, as the routes build it.
    static var imageData: [String: Any] { [
        "id": Int64(42), "user": Int64(7), "prompt": "make it \"grayscale\" / please",
        "s3_image_url": "http://127.0.0.1:8000/blobs/images/7/x/original-ab12.png?expires=1795858461&signature=abc",
        "edited_image_url": "http://127.0.0.1:8000/blobs/images/7/x/edited-cd34.png?expires=1795858461&signature=def",
        "original_url": "/api/images/images/42/original", "edited_url": "/api/images/images/42/edited",
        "urls_expire_at": "2026-11-29T12:34:21Z", "uploaded_at": "2026-11-29T10:34:21Z", "edited_at": "2026-11-29T10:34:21Z",
        "width": UInt32(512), "height": UInt32(512), "content_type": "image/png", "size_bytes": UInt64(625_953),
        "edited_width": UInt32(512), "edited_height": UInt32(512), "edited_content_type": "image/png", "edited_size_bytes": UInt64(199_596),
        "backend": "local", "model": "local", "applied_operations": ["grayscale", "rotate:90"],
    ] }

    /// A response body by name (test arguments must be Sendable; `[String: Any]` is not).
    struct Body: Sendable, CustomTestStringConvertible {
        let name: String
        let make: @Sendable () -> [String: Any]
        var testDescription: String { name }
    }

    @Test(arguments: [
        Body(name: "health") { ["status": "ok"] },
        Body(name: "empty") { [:] },
        Body(name: "register") { ["id": 1, "username": "ann", "email": "ann@example.com", "last_login": NSNull()] },
        Body(name: "login") { ["access_token": "a.b.c", "refresh_token": "d.e.f", "token_type": "Bearer", "expires_in": 900, "access": "a.b.c", "refresh": "d.e.f"] },
        Body(name: "user") { ["user": ["id": Int64(3), "email": "x@example.com", "username": "x"]] },
        Body(name: "list") { ["count": 11, "next": "http://h/api/images/images/?page=2&page_size=10", "previous": NSNull(), "results": [imageData, imageData]] },
        Body(name: "create") { ["original_image_url": "http://h/o", "dalle_edited_image_url": "http://h/e", "image_data": imageData, "prompt": "p"] },
        Body(name: "error") { ["error": "Image not found", "code": "not_found"] },
        Body(name: "scalars") {
            ["flags": [true, false], "numbers": [Int8(-8), Int16(-16), Int32(-32), Int64.min, UInt64.max, UInt8(255), Int.max] as [Any],
             "empty": [Any](), "nested": [[String: Any]()]]
        },
        Body(name: "doubles") { ["doubles": [1.5, -0.25, 3.0, 1e-7, 123_456_789.125]] },
    ])
    func matchesJSONSerialization(body: Body) throws {
        let object = body.make()
        #expect(try Self.written(object) == Self.foundation(object))
    }

    /// Escaping per RFC 8259: every control character, quotes and backslashes; `/` and
    /// non-ASCII (accents, CJK, emoji, U+2028) pass through as UTF-8. Checked by reading the
    /// output back with two parsers.
    @Test func escapesWhatJSONRequiresAndNothingElse() throws {
        let controls = String(decoding: (0..<0x20).map { UInt8($0) }, as: UTF8.self)
        let samples = [controls, "quote \" backslash \\ slash / end", "é ü ß 日本語 🙂 \u{2028}\u{2029} \u{7F}", "", "\u{0}"]
        for sample in samples {
            let object: [String: Any] = ["text": sample, sample: "as key"]
            let bytes = try #require(JSONWriter.encode(object))
            let parsed = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
            #expect(parsed["text"] as? String == sample)
            #expect(parsed[sample] as? String == "as key")
            let decoded = try JSONDecoder().decode([String: String].self, from: Data(bytes))
            #expect(decoded == ["text": sample, sample: "as key"])
            // Raw control characters never appear; non-ASCII is not \u-escaped.
            #expect(!bytes.contains { $0 < 0x20 })
        }
        let text = try Self.written(["s": "\u{8}\u{C}\n\r\t\u{1}\u{1F}\"\\/é"])
        #expect(text == #"{"s":"\b\f\n\r\t\u0001\u001f\"\\/é"}"#)
    }

    /// Keys are sorted by their UTF-8 bytes, at every level.
    @Test func sortsKeysByBytes() throws {
        let object: [String: Any] = ["b": 1, "a_b": 2, "a": ["z": 1, "y": 2], "A": 3, "é": 4, "ab": 5, "a0": 6]
        #expect(try Self.written(object) == #"{"A":3,"a":{"y":2,"z":1},"a0":6,"a_b":2,"ab":5,"b":1,"é":4}"#)
    }

    /// What it cannot write, it declines, so the caller falls back to JSONSerialization.
    @Test(arguments: [
        Body(name: "nan") { ["n": Double.nan] }, Body(name: "infinity") { ["n": Double.infinity] },
        Body(name: "date") { ["d": Date(timeIntervalSince1970: 0)] }, Body(name: "NSNumber") { ["n": NSNumber(value: true)] },
        Body(name: "nested NSNumber") { ["nested": ["n": NSNumber(value: 1)]] }, Body(name: "URL in a list") { ["list": [URL(fileURLWithPath: "/")]] },
    ])
    func declinesUnsupportedValues(body: Body) {
        #expect(JSONWriter.encode(body.make()) == nil)
    }

    /// The response helper uses the writer, and falls back to JSONSerialization (then `{}`)
    /// for what the writer declines.
    @Test func responseBodiesFallBack() {
        func text(_ object: [String: Any]) -> String { String(decoding: JSONResponse.encode(object).readableBytesView, as: UTF8.self) }
        #expect(text(["a": 1, "b": [true]]) == #"{"a":1,"b":[true]}"#)
        #expect(text(["n": NSNumber(value: 2)]) == #"{"n":2}"#)
        #expect(text(["n": Double.nan]) == "{}")
        #expect(JSONResponse.make(.ok, [:]).headers[.contentType] == "application/json")
    }

    // MARK: Typed values

    /// The same value as Foundation objects, for `JSONSerialization`.
    static func foundationValue(_ value: JSONValue) -> Any {
        switch value {
        case .string(let text): text
        case .integer(let number): number
        case .unsigned(let number): number
        case .bool(let flag): flag
        case .null: NSNull()
        case .array(let elements): elements.map(foundationValue)
        case .object(let members): Dictionary(uniqueKeysWithValues: members.map { ($0.key, foundationValue($0.value)) })
        }
    }

    static func written(_ value: JSONValue) -> String {
        String(decoding: JSONWriter.encode(value), as: UTF8.self)
    }

    /// One image's metadata as the image routes type it (members in key order).
    static let typedImageData = JSONValue.sortedObject([
        .init("id", .integer(42)), .init("user", .integer(7)), .init("prompt", .string("make it \"grayscale\" / please\n\u{1} é 🙂")),
        .init("s3_image_url", .string("http://127.0.0.1:8000/blobs/images/7/x/original-ab12.png?expires=1795858461&signature=abc")),
        .init("edited_url", .string("/api/images/images/42/edited")), .init("uploaded_at", .string("2026-11-29T10:34:21Z")),
        .init("width", .unsigned(512)), .init("size_bytes", .unsigned(UInt64.max)), .init("height", .integer(Int64.min)),
        .init("applied_operations", .strings(["grayscale", "rotate:90"])), .init("empty", .array([])), .init("nested", .object([])),
        .init("flags", .array([.bool(true), .bool(false), .null])),
    ])

    /// A typed body is written exactly as `JSONSerialization` writes the same object (keys
    /// sorted, slashes unescaped), nested, with escapes and the integer extremes.
    @Test func typedValuesMatchJSONSerialization() throws {
        let list = JSONValue.object(sorted: [
            .init("count", .integer(11)), .init("next", .string("http://h/api/images/images/?page=2&page_size=10")),
            .init("previous", .string(nil)), .init("results", .array([Self.typedImageData, Self.typedImageData])),
        ])
        for value in [Self.typedImageData, list, .object([]), .sortedObject([.init("", .string(""))])] {
            let object = try #require(Self.foundationValue(value) as? [String: Any])
            #expect(Self.written(value) == (try Self.foundation(object)))
        }
        #expect(Self.written(.array([.integer(0), .integer(-7), .unsigned(0), .integer(1_000_000)])) == "[0,-7,0,1000000]")
    }

    /// `sortedObject(_:)` sorts by key bytes; `setting` replaces or inserts in the sorted place.
    @Test func objectMembersAreSortedAndSettable() {
        let value = JSONValue.sortedObject([.init("b", .integer(1)), .init("a_b", .integer(2)), .init("A", .integer(3)), .init("é", .integer(4)), .init("ab", .integer(5))])
        #expect(Self.written(value) == #"{"A":3,"a_b":2,"ab":5,"b":1,"é":4}"#)
        #expect(Self.written(value.setting("note", to: .string("n"))) == #"{"A":3,"a_b":2,"ab":5,"b":1,"note":"n","é":4}"#)
        #expect(Self.written(value.setting("b", to: .null)) == #"{"A":3,"a_b":2,"ab":5,"b":null,"é":4}"#)
        #expect(value["ab"] == .integer(5))
        #expect(value["zz"] == nil)
        #expect(JSONValue.string(nil) == .null)
    }

    /// Typed response bodies carry the JSON content type.
    @Test func typedResponses() {
        let response = JSONResponse.make(.created, .object(sorted: [.init("a", .integer(1))]))
        #expect(response.status == .created)
        #expect(response.headers[.contentType] == "application/json")
    }

    /// The image routes' bodies, built member by member in key order, are exactly what
    /// `JSONSerialization` (sorted keys) writes for the same objects, with and without a note,
    /// and carry every field of the API.
    @Test func imageRouteBodiesMatchJSONSerialization() throws {
        let image = Image(
            id: 42, userId: 7, prompt: "make it \"grey\" é", originalUrl: "/blobs/images/7/x/original.png?expires=1&signature=ab",
            editedUrl: "https://bucket.s3/edited.png?X-Amz-Signature=cd", urlsExpireAt: 1_795_858_461, originalContentType: "image/jpeg",
            editedContentType: "image/png", width: 512, height: 384, originalSizeBytes: 625_953, editedSizeBytes: 199_596,
            createdAt: 1_795_850_000, editedAt: 1_795_850_001, editedWidth: 384, editedHeight: 512, backend: "local", model: "local",
            appliedOperations: ["grayscale", "rotate:90"])
        let absolute: (String) -> String = { $0.hasPrefix("/") ? "http://gateway:8000" + $0 : $0 }
        let bodies = [
            ImageRoutes.imageJSON(image, absolute: absolute), ImageRoutes.editedJSON(image, note: "", absolute: absolute),
            ImageRoutes.editedJSON(image, note: "The local engine found no edit it knows", absolute: absolute),
            ImageRoutes.imageJSON(Image(), absolute: absolute),
        ]
        for body in bodies {
            let object = try #require(Self.foundationValue(body) as? [String: Any])
            #expect(Self.written(body) == (try Self.foundation(object)))
        }
        #expect(Set(bodies[0].members.map(\.key)) == [
            "applied_operations", "backend", "content_type", "edited_at", "edited_content_type", "edited_height", "edited_image_url",
            "edited_size_bytes", "edited_url", "edited_width", "height", "id", "model", "original_url", "prompt", "s3_image_url",
            "size_bytes", "uploaded_at", "urls_expire_at", "user", "width",
        ])
        #expect(bodies[0]["s3_image_url"] == .string("http://gateway:8000/blobs/images/7/x/original.png?expires=1&signature=ab"))
        #expect(bodies[0]["uploaded_at"] == .string("2026-11-28T07:13:20Z"))
        #expect(bodies[1]["image_data"] == bodies[0])
        #expect(bodies[1]["original_image_url"] == bodies[0]["s3_image_url"])
        #expect(bodies[2]["image_data"]?["note"] == .string("The local engine found no edit it knows"))
    }
}

extension JSONValue {
    /// An object whose members are sorted here, by their UTF-8 bytes.
    static func sortedObject(_ members: [Member]) -> JSONValue {
        .object(members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) })
    }
}
