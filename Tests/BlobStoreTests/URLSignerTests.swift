import BlobStore
import Testing

@Suite struct URLSignerTests {
    let signer = try! URLSigner(secret: Array(repeating: 7, count: 32))
    let key = "images/42/abc/original.png"

    func parts(_ query: String) -> (expires: String, signature: String) {
        var fields: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            fields[String(kv[0])] = String(kv[1])
        }
        return (fields["expires"]!, fields["signature"]!)
    }

    @Test func signedURLVerifiesUntilItExpires() {
        let query = signer.sign(key: key, expiresAt: 2_000_000_000)
        let (expires, signature) = parts(query)
        #expect(expires == "2000000000")
        #expect(signature.count == 64)
        #expect(signer.verify(key: key, expires: expires, signature: signature, now: 1_999_999_999))
        #expect(!signer.verify(key: key, expires: expires, signature: signature, now: 2_000_000_000))
        #expect(!signer.verify(key: key, expires: expires, signature: signature, now: 2_100_000_000))
    }

    @Test func pathFormCarriesTheKeyAndTheQuery() {
        let url = signer.sign(path: "/blobs/", key: key, expiresAt: 1_800_000_000)
        #expect(url == "/blobs/\(key)?" + signer.sign(key: key, expiresAt: 1_800_000_000))
    }

    @Test func signatureIsTheDocumentedHMAC() {
        // HMAC-SHA256 of "k\n1" under 32 bytes of 0x07, computed independently with Python's hmac.
        let (_, signature) = parts(signer.sign(key: "k", expiresAt: 1))
        #expect(signature == "1f3adb7612c76f66ff91d04e0fc5503e06a337c12ddf6db77196e66526fdbe76")
    }

    @Test func anyChangeBreaksTheSignature() {
        let (expires, signature) = parts(signer.sign(key: key, expiresAt: 2_000_000_000))
        let now = 1_000
        #expect(!signer.verify(key: key + "x", expires: expires, signature: signature, now: now))
        #expect(!signer.verify(key: key, expires: "2000000001", signature: signature, now: now))
        #expect(!signer.verify(key: key, expires: "02000000000", signature: signature, now: now))
        #expect(!signer.verify(key: key, expires: "+2000000000", signature: signature, now: now))
        #expect(!signer.verify(key: key, expires: "", signature: signature, now: now))
        #expect(!signer.verify(key: key, expires: "99999999999999999999999", signature: signature, now: now))
        #expect(!signer.verify(key: key, expires: expires, signature: signature.uppercased(), now: now))
        #expect(!signer.verify(key: key, expires: expires, signature: String(signature.dropLast()), now: now))
        #expect(!signer.verify(key: key, expires: expires, signature: "", now: now))
        let other = try! URLSigner(secret: Array(repeating: 8, count: 32))
        #expect(!other.verify(key: key, expires: expires, signature: signature, now: now))
    }

    @Test func shortSecretsAreRefusedAndSecretsNeverPrinted() {
        #expect(throws: BlobStoreError.self) { try URLSigner(secret: Array(repeating: 1, count: 31)) }
        #expect(!"\(signer)".contains("7"))
    }
}
