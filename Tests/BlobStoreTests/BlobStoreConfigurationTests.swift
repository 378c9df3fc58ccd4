import BlobStore
import ServiceConfig
import Testing

@Suite struct BlobStoreConfigurationTests {
    @Test func withoutABucketTheLocalStoreIsUsed() throws {
        guard case .local(let root) = try BlobStoreConfiguration(ConfigEnvironment([:])) else {
            Issue.record("expected the local store")
            return
        }
        #expect(root == ".data/blobs")
        guard case .local(let custom) = try BlobStoreConfiguration(ConfigEnvironment(["STORAGE_DIR": "/srv/blobs", "AWS_STORAGE_BUCKET_NAME": ""])) else {
            Issue.record("an empty bucket name counts as unset")
            return
        }
        #expect(custom == "/srv/blobs")
    }

    @Test func aBucketSelectsS3WithDefaults() throws {
        let environment = ConfigEnvironment([
            "AWS_STORAGE_BUCKET_NAME": "images-prod", "AWS_ACCESS_KEY_ID": "AKIA1", "AWS_SECRET_ACCESS_KEY": "s",
        ])
        guard case .s3(let configuration) = try BlobStoreConfiguration(environment) else {
            Issue.record("expected S3")
            return
        }
        #expect(configuration.bucket == "images-prod")
        #expect(configuration.region == "us-east-1")
        #expect(configuration.endpointURL == nil)
        #expect(configuration.sessionToken == nil)
    }

    @Test func everyS3VariableIsRead() throws {
        let environment = ConfigEnvironment([
            "AWS_STORAGE_BUCKET_NAME": "b-1", "AWS_ACCESS_KEY_ID": "AKIA1", "AWS_SECRET_ACCESS_KEY": "s",
            "AWS_SESSION_TOKEN": "t", "AWS_S3_REGION_NAME": "eu-west-3", "AWS_ENDPOINT_URL": "http://127.0.0.1:9000",
        ])
        guard case .s3(let configuration) = try BlobStoreConfiguration(environment) else {
            Issue.record("expected S3")
            return
        }
        #expect(configuration.region == "eu-west-3")
        #expect(configuration.sessionToken == "t")
        #expect(configuration.endpointURL == "http://127.0.0.1:9000")
    }

    @Test(arguments: [
        (["AWS_STORAGE_BUCKET_NAME": "b-1", "AWS_SECRET_ACCESS_KEY": "s"], "AWS_ACCESS_KEY_ID"),
        (["AWS_STORAGE_BUCKET_NAME": "b-1", "AWS_ACCESS_KEY_ID": "a"], "AWS_SECRET_ACCESS_KEY"),
        (["AWS_STORAGE_BUCKET_NAME": "Bad_Bucket", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s"], "AWS_STORAGE_BUCKET_NAME"),
        (["AWS_STORAGE_BUCKET_NAME": "b-1", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s", "AWS_ENDPOINT_URL": "localhost:9000"],
         "AWS_ENDPOINT_URL"),
    ])
    func missingOrMalformedValuesNameTheVariable(values: [String: String], variable: String) {
        do {
            _ = try BlobStoreConfiguration(ConfigEnvironment(values))
            Issue.record("expected a ConfigError for \(variable)")
        } catch {
            #expect(error.variable == variable)
            #expect(!error.description.contains("\"s\""))
        }
    }
}
