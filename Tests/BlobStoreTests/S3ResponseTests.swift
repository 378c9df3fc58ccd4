@testable import BlobStore
import RPCCore
import Testing

/// Pure parts of the S3 store: XML, error mapping, list pages, addressing, retry delays.
@Suite struct S3ResponseTests {
    static func errorXML(_ code: String, message: String = "m") -> [UInt8] {
        Array("""
            <?xml version="1.0" encoding="UTF-8"?>
            <Error><Code>\(code)</Code><Message>\(message)</Message><RequestId>R1</RequestId><HostId>h</HostId></Error>
            """.utf8)
    }

    @Test(arguments: [
        ("NoSuchKey", 404, BlobStoreError.Kind.notFound),
        ("NoSuchBucket", 404, .unavailable),
        ("AccessDenied", 403, .denied),
        ("SignatureDoesNotMatch", 403, .denied),
        ("InvalidAccessKeyId", 403, .denied),
        ("ExpiredToken", 400, .denied),
        ("RequestTimeTooSkewed", 403, .denied),
        ("InternalError", 500, .unavailable),
        ("SlowDown", 503, .unavailable),
        ("PermanentRedirect", 301, .unavailable),
        ("InvalidArgument", 400, .internal),
        ("EntityTooLarge", 400, .internal),
    ])
    func s3ErrorCodesMapToKinds(code: String, status: Int, kind: BlobStoreError.Kind) {
        let error = S3ErrorMapping.error(status: status, body: Self.errorXML(code), what: "GET k")
        #expect(error.kind == kind)
        #expect(error.detail.contains(code))
        #expect(error.detail.contains("R1"))
    }

    @Test(arguments: [
        (404, BlobStoreError.Kind.notFound), (403, .denied), (401, .denied), (500, .unavailable), (502, .unavailable),
        (307, .unavailable), (400, .internal), (409, .internal),
    ])
    func bodilessAnswersMapByStatus(status: Int, kind: BlobStoreError.Kind) {
        #expect(S3ErrorMapping.error(status: status, body: [], what: "HEAD k").kind == kind)
        #expect(S3ErrorMapping.error(status: status, body: Array("<html>proxy</html>".utf8), what: "HEAD k").kind == kind)
    }

    @Test(arguments: [
        (BlobStoreError.Kind.notFound, StatusCode.notFound, "Object not found"),
        (.unavailable, .unavailable, "Blob storage unavailable"),
        (.denied, .internalError, "Internal error"),
        (.internal, .internalError, "Internal error"),
        (.invalidKey, .invalidArgument, "Invalid object key"),
        (.invalidArgument, .invalidArgument, "Invalid argument"),
    ])
    func kindsMapToRPCStatusesWithoutDetail(kind: BlobStoreError.Kind, code: StatusCode, message: String) {
        let error = BlobStoreError(kind, detail: "bucket secret-bucket key images/1 AccessDenied")
        #expect(error.rpcError.code == code)
        #expect(error.rpcError.message == message)
        #expect(!error.rpcError.message.contains("secret-bucket"))
        #expect(RPCError(mapping: error) == error.rpcError)
        #expect("\(error)".contains("secret-bucket"))  // the detail is for logs
    }

    @Test func listPageReadsKeysTokensAndEntities() throws {
        let body = Array("""
            <?xml version="1.0" encoding="UTF-8"?>
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Name>b</Name><Prefix>images/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>
              <IsTruncated>true</IsTruncated>
              <Contents><Key>images/a&amp;b.png</Key><Size>3</Size><ETag>&quot;x&quot;</ETag></Contents>
              <Contents><Key>images/&#x41;&#66;</Key><Owner><ID>o</ID></Owner></Contents>
              <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
            </ListBucketResult>
            """.utf8)
        let page = try ListPage(body)
        #expect(page.keys == ["images/a&b.png", "images/AB"])
        #expect(page.nextToken == "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=")
        let last = try ListPage(Array("<ListBucketResult><IsTruncated>false</IsTruncated><KeyCount>0</KeyCount></ListBucketResult>".utf8))
        #expect(last == ListPage(keys: [], nextToken: nil))
    }

    @Test(arguments: [
        "",
        "<Error><Code>x</Code></Error>",
        "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
        "<ListBucketResult><Contents><Key>a</Key></ListBucketResult>",
        "<ListBucketResult>",
    ])
    func unreadableListPagesAreInternalErrors(body: String) {
        #expect(throws: BlobStoreError.self) { try ListPage(Array(body.utf8)) }
    }

    @Test func xmlParserHandlesTheSyntaxS3Uses() {
        let xml = XMLElement.parse(Array("""
            <?xml version="1.0"?><!-- c --><a:Root x="1>2" y='z'><b>t<![CDATA[<raw&>]]>u</b><c/><b>&lt;&gt;&apos;</b></a:Root>
            """.utf8))
        #expect(xml?.name == "Root")
        #expect(xml?.children("b").map(\.text) == ["t<raw&>u", "<>'"])
        #expect(xml?.child("c") == XMLElement(name: "c"))
    }

    @Test(arguments: [
        "<a><b></a></b>", "<a>", "</a>", "<a></a><b></b>", "text<a/>", "<!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>",
        "<a>&unknown;</a>", "<a>&#0;</a>", "<a>&#xD800;</a>", "<a>&amp</a>",
    ])
    func xmlParserRefusesMalformedDocuments(text: String) {
        #expect(XMLElement.parse(Array(text.utf8)) == nil)
    }

    @Test func errorBodyNeedsACode() {
        #expect(S3ErrorBody(S3ResponseTests.errorXML("NoSuchKey"))?.code == "NoSuchKey")
        #expect(S3ErrorBody(Array("<Error><Message>m</Message></Error>".utf8)) == nil)
        #expect(S3ErrorBody(Array("<Other><Code>x</Code></Other>".utf8)) == nil)
    }

    @Test(arguments: [
        ("http://127.0.0.1:54340", "http", "127.0.0.1:54340", "/bucket-1"),
        ("https://minio.example:9000/", "https", "minio.example:9000", "/bucket-1"),
        ("http://gw.example/s3/", "http", "gw.example", "/s3/bucket-1"),
    ])
    func endpointURLsUsePathStyle(url: String, scheme: String, host: String, bucketPath: String) throws {
        let endpoint = try S3BlobStore.endpoint(for: S3Configuration(bucket: "bucket-1", accessKeyID: "a", secretAccessKey: "s", endpointURL: url))
        #expect(endpoint == S3BlobStore.Endpoint(scheme: scheme, host: host, bucketPath: bucketPath))
    }

    @Test func awsUsesVirtualHostsExceptForDottedBuckets() throws {
        let plain = try S3BlobStore.endpoint(for: S3Configuration(bucket: "images", region: "eu-west-3", accessKeyID: "a", secretAccessKey: "s"))
        #expect(plain == S3BlobStore.Endpoint(scheme: "https", host: "images.s3.eu-west-3.amazonaws.com", bucketPath: ""))
        let dotted = try S3BlobStore.endpoint(for: S3Configuration(bucket: "my.images", accessKeyID: "a", secretAccessKey: "s"))
        #expect(dotted == S3BlobStore.Endpoint(scheme: "https", host: "s3.us-east-1.amazonaws.com", bucketPath: "/my.images"))
    }

    @Test(arguments: [("ab", nil), ("Upper", nil), ("has_underscore", nil), ("ok-bucket", "ftp://x"), ("ok-bucket", "http://"),
                      ("ok-bucket", "http://user:pw@host"), ("ok-bucket", "127.0.0.1:9000"), ("ok-bucket", "http://h/?q")] as [(String, String?)])
    func malformedBucketsAndEndpointsAreRefused(bucket: String, endpoint: String?) {
        #expect(throws: BlobStoreError.self) {
            try S3BlobStore.endpoint(for: S3Configuration(bucket: bucket, accessKeyID: "a", secretAccessKey: "s", endpointURL: endpoint))
        }
    }

    @Test func retryDelaysGrowWithJitterUpToTheCap() {
        let policy = S3RetryPolicy(maxAttempts: 6, baseDelay: .milliseconds(100), maxDelay: .milliseconds(500))
        for _ in 0..<50 {
            let first = policy.delay(after: 1)
            #expect(first >= .milliseconds(50) && first <= .milliseconds(100))
            let second = policy.delay(after: 2)
            #expect(second >= .milliseconds(100) && second <= .milliseconds(200))
            let late = policy.delay(after: 10)
            #expect(late >= .milliseconds(250) && late <= .milliseconds(500))
        }
        // Jitter: not every wait is the same.
        #expect(Set((0..<20).map { _ in policy.delay(after: 3) }).count > 1)
        #expect(S3RetryPolicy(maxAttempts: 0).maxAttempts == 1)
    }

    @Test func configurationNeverPrintsTheSecret() {
        let configuration = S3Configuration(bucket: "b-1", accessKeyID: "AKIA1", secretAccessKey: "very-secret", sessionToken: "tok")
        #expect(!"\(configuration)".contains("very-secret"))
        #expect(!"\(configuration)".contains("tok"))
    }

    @Test func presignedLifetimeMustBeOneSecondToSevenDays() throws {
        let store = try S3BlobStore(configuration: S3Configuration(bucket: "b-1", accessKeyID: "a", secretAccessKey: "s",
                                                                   endpointURL: "http://127.0.0.1:1"),
                                    httpClient: SharedHTTP.client)
        let url = try #require(try store.presignedGetURL(key: "images/a-b", expiresIn: .seconds(604_800)))
        #expect(url.hasPrefix("http://127.0.0.1:1/b-1/images/a-b?X-Amz-Algorithm=AWS4-HMAC-SHA256&"))
        #expect(url.contains("X-Amz-Expires=604800&"))
        #expect(try store.presignedGetURL(key: "images/x", expiresIn: .milliseconds(1500))?.contains("X-Amz-Expires=2&") == true)
        for bad in [Duration.zero, .seconds(604_801), .seconds(-5)] {
            #expect(throws: BlobStoreError.self) { try store.presignedGetURL(key: "images/x", expiresIn: bad) }
        }
        #expect(throws: BlobStoreError.self) { try store.presignedGetURL(key: "../x", expiresIn: .seconds(5)) }
    }
}
