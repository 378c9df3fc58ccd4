public import ServiceConfig

/// Which ``BlobStore`` the storage service uses, read from the environment:
/// `AWS_STORAGE_BUCKET_NAME` set means S3 (with `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// optional `AWS_SESSION_TOKEN`, `AWS_S3_REGION_NAME` (default us-east-1) and
/// `AWS_ENDPOINT_URL`); unset means the local store under `STORAGE_DIR` (default `.data/blobs`).
public enum BlobStoreConfiguration: Sendable {
    case s3(S3Configuration)
    case local(root: String)

    public static let defaultStorageDirectory = ".data/blobs"

    /// Throws a ``ConfigError`` naming the first missing or malformed variable.
    public init(_ environment: ConfigEnvironment) throws(ConfigError) {
        guard let bucket = environment.values["AWS_STORAGE_BUCKET_NAME"] else {
            self = .local(root: environment.string("STORAGE_DIR", default: Self.defaultStorageDirectory))
            return
        }
        guard let accessKeyID = environment.values["AWS_ACCESS_KEY_ID"] else {
            throw ConfigError("AWS_ACCESS_KEY_ID", "is required when AWS_STORAGE_BUCKET_NAME is set")
        }
        guard let secret = environment.values["AWS_SECRET_ACCESS_KEY"] else {
            throw ConfigError("AWS_SECRET_ACCESS_KEY", "is required when AWS_STORAGE_BUCKET_NAME is set")
        }
        let configuration = S3Configuration(
            bucket: bucket,
            region: environment.string("AWS_S3_REGION_NAME", default: S3Configuration.defaultRegion),
            accessKeyID: accessKeyID, secretAccessKey: secret,
            sessionToken: environment.values["AWS_SESSION_TOKEN"],
            endpointURL: environment.values["AWS_ENDPOINT_URL"])
        do {
            _ = try S3BlobStore.endpoint(for: configuration)
        } catch {
            let variable = error.detail.hasPrefix("bucket") ? "AWS_STORAGE_BUCKET_NAME" : "AWS_ENDPOINT_URL"
            throw ConfigError(variable, error.detail.replacingFirst("bucket name ", with: "").replacingFirst("endpoint URL ", with: ""))
        }
        self = .s3(configuration)
    }
}

extension String {
    fileprivate func replacingFirst(_ prefix: String, with replacement: String) -> String {
        hasPrefix(prefix) ? replacement + dropFirst(prefix.count) : self
    }
}
