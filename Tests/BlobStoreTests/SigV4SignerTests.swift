import BlobStore
import Testing

/// AWS's worked examples for S3 (Signature Version 4, "Signature Calculations for the
/// Authorization Header" and "Query Parameters"): examplebucket, us-east-1, 2013-05-24.
enum AWSExample {
    static let credentials = SigV4Credentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE",
                                              secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    static let signer = SigV4Signer(credentials: credentials, region: "us-east-1")
    static let time = SigV4Timestamp(unixSeconds: 1_369_353_600)
    static let host = "examplebucket.s3.amazonaws.com"
    static let emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
}

@Suite struct SigV4SignerTests {
    @Test func getObjectExampleMatchesEveryPublishedStep() {
        let signed = AWSExample.signer.sign(
            SigV4Request(method: "GET", host: AWSExample.host, path: "/test.txt", headers: [(name: "Range", value: "bytes=0-9")]),
            at: AWSExample.time)
        #expect(signed.canonicalRequest == """
            GET
            /test.txt

            host:examplebucket.s3.amazonaws.com
            range:bytes=0-9
            x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            x-amz-date:20130524T000000Z

            host;range;x-amz-content-sha256;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        #expect(signed.stringToSign == """
            AWS4-HMAC-SHA256
            20130524T000000Z
            20130524/us-east-1/s3/aws4_request
            7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972
            """)
        #expect(signed.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(signed.authorization == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        let sent = Dictionary(uniqueKeysWithValues: signed.headers.map { ($0.name.lowercased(), $0.value) })
        #expect(sent["x-amz-date"] == "20130524T000000Z")
        #expect(sent["x-amz-content-sha256"] == AWSExample.emptyHash)
        #expect(sent["authorization"] == signed.authorization)
        #expect(sent["host"] == AWSExample.host)
        #expect(sent["x-amz-security-token"] == nil)
    }

    @Test func putObjectExampleEncodesTheDollarAndSignsThePayload() {
        let body = Array("Welcome to Amazon S3.".utf8)
        let hash = SigV4Signer.payloadHash(body)
        #expect(hash == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        let signed = AWSExample.signer.sign(
            SigV4Request(method: "PUT", host: AWSExample.host, path: "/test$file.text",
                         headers: [(name: "Date", value: "Fri, 24 May 2013 00:00:00 GMT"),
                                   (name: "x-amz-storage-class", value: "REDUCED_REDUNDANCY")],
                         payloadHash: hash),
            at: AWSExample.time)
        #expect(signed.canonicalRequest == """
            PUT
            /test%24file.text

            date:Fri, 24 May 2013 00:00:00 GMT
            host:examplebucket.s3.amazonaws.com
            x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072
            x-amz-date:20130524T000000Z
            x-amz-storage-class:REDUCED_REDUNDANCY

            date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class
            44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072
            """)
        #expect(signed.stringToSign.hasSuffix("\n9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d"))
        #expect(signed.signature == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
    }

    @Test func listObjectsExampleSortsTheQuery() {
        let signed = AWSExample.signer.sign(
            SigV4Request(method: "GET", host: AWSExample.host, path: "/", query: [(name: "prefix", value: "J"), (name: "max-keys", value: "2")]),
            at: AWSExample.time)
        #expect(signed.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)[2] == "max-keys=2&prefix=J")
        #expect(signed.signature == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    @Test func getBucketLifecycleExampleSignsABareParameterAsNameEquals() {
        let signed = AWSExample.signer.sign(
            SigV4Request(method: "GET", host: AWSExample.host, path: "/", query: [(name: "lifecycle", value: "")]),
            at: AWSExample.time)
        #expect(signed.signature == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
    }

    @Test func presignedURLExampleMatchesEveryPublishedStep() {
        let presigned = AWSExample.signer.presign(
            SigV4Request(method: "GET", host: AWSExample.host, path: "/test.txt"), expiresInSeconds: 86_400, at: AWSExample.time)
        #expect(presigned.canonicalRequest == """
            GET
            /test.txt
            X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host
            host:examplebucket.s3.amazonaws.com

            host
            UNSIGNED-PAYLOAD
            """)
        #expect(presigned.stringToSign == """
            AWS4-HMAC-SHA256
            20130524T000000Z
            20130524/us-east-1/s3/aws4_request
            3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04
            """)
        #expect(presigned.signature == "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
        #expect("https://\(AWSExample.host)/test.txt?\(presigned.query)" == "https://examplebucket.s3.amazonaws.com/test.txt?"
            + "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            + "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
            + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }

    @Test func sessionTokenIsSignedInHeadersAndInPresignedQueries() {
        let temporary = SigV4Signer(
            credentials: SigV4Credentials(accessKeyID: "ASIAEXAMPLE", secretAccessKey: "secret", sessionToken: "token/with+chars="),
            region: "eu-west-1")
        let signed = temporary.sign(SigV4Request(method: "GET", host: "h", path: "/k"), at: AWSExample.time)
        #expect(signed.canonicalRequest.contains("\nx-amz-security-token:token/with+chars=\n"))
        #expect(signed.authorization.contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,"))
        #expect(signed.headers.contains { $0.name == "x-amz-security-token" && $0.value == "token/with+chars=" })
        let presigned = temporary.presign(SigV4Request(method: "GET", host: "h", path: "/k"), expiresInSeconds: 60, at: AWSExample.time)
        #expect(presigned.query.contains("&X-Amz-Security-Token=token%2Fwith%2Bchars%3D&"))
        #expect(presigned.canonicalRequest.contains("X-Amz-Security-Token=token%2Fwith%2Bchars%3D"))
        // Without the token, the same request signs differently.
        let plain = SigV4Signer(credentials: SigV4Credentials(accessKeyID: "ASIAEXAMPLE", secretAccessKey: "secret"), region: "eu-west-1")
        #expect(plain.sign(SigV4Request(method: "GET", host: "h", path: "/k"), at: AWSExample.time).signature != signed.signature)
    }

    @Test func signingKeyFollowsTheHMACChain() {
        // The derived key for the example day, as every published walkthrough shows it.
        let key = AWSExample.signer.signingKey(dateStamp: "20130524")
        #expect(key.count == 32)
        #expect(key != AWSExample.signer.signingKey(dateStamp: "20130525"))
        let otherRegion = SigV4Signer(credentials: AWSExample.credentials, region: "eu-west-1")
        #expect(key != otherRegion.signingKey(dateStamp: "20130524"))
    }

    @Test(arguments: [
        ("aA9-_.~", false, "aA9-_.~"),
        ("a b", false, "a%20b"),
        ("a+b=c&d", true, "a%2Bb%3Dc%26d"),
        ("a/b", false, "a/b"),
        ("a/b", true, "a%2Fb"),
        ("100%", false, "100%25"),
        ("!'()*$", false, "%21%27%28%29%2A%24"),
        ("é", false, "%C3%A9"),
        ("", false, ""),
    ])
    func uriEncodingKeepsOnlyUnreservedCharacters(input: String, encodeSlash: Bool, expected: String) {
        #expect(SigV4Signer.uriEncode(input, encodeSlash: encodeSlash) == expected)
    }

    @Test func canonicalQuerySortsByEncodedNameThenValue() {
        let query = SigV4Signer.canonicalQuery([
            (name: "b", value: "2"), (name: "a", value: "z"), (name: "a", value: "y y"), (name: "A", value: ""),
            (name: "continuation-token", value: "1/2+3="),
        ])
        #expect(query == "A=&a=y%20y&a=z&b=2&continuation-token=1%2F2%2B3%3D")
    }

    @Test func canonicalHeadersTrimCollapseAndMerge() {
        let canonical = SigV4Signer.canonicalHeaders([
            (name: "X-Amz-Meta-B", value: "  two   words "), (name: "Host", value: "h"), (name: "x-amz-meta-b", value: "again"),
        ])
        #expect(canonical.text == "host:h\nx-amz-meta-b:two words,again\n")
        #expect(canonical.signed == "host;x-amz-meta-b")
    }

    @Test(arguments: [
        (0, "19700101T000000Z"),
        (1_369_353_600, "20130524T000000Z"),
        (951_782_400, "20000229T000000Z"),
        (1_709_164_800 + 86_399, "20240229T235959Z"),
        (4_102_444_799, "20991231T235959Z"),
        (-1, "19691231T235959Z"),
    ])
    func timestampsFormatInUTC(seconds: Int, expected: String) {
        let time = SigV4Timestamp(unixSeconds: seconds)
        #expect(time.amzDate == expected)
        #expect(time.dateStamp == String(expected.prefix(8)))
    }

    @Test func credentialsNeverPrintTheSecret() {
        let credentials = SigV4Credentials(accessKeyID: "AKIA1", secretAccessKey: "s3cr3t-value", sessionToken: "tok3n-value")
        #expect(!"\(credentials)".contains("s3cr3t"))
        #expect(!"\(credentials)".contains("tok3n"))
    }
}
