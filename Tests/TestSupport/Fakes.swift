public import AuthAPI
public import EditAPI
public import StorageAPI
public import RPCCore

/// An auth service whose every method fails with UNAVAILABLE, as when it is down.
public struct UnavailableAuthService: AuthService {
    public init() {}
    static let error = RPCError(code: .unavailable, message: "auth is down")
    public func register(_ request: RegisterRequest, context: RPCContext) async throws -> RegisterResponse { throw Self.error }
    public func login(_ request: LoginRequest, context: RPCContext) async throws -> LoginResponse { throw Self.error }
    public func refreshToken(_ request: RefreshTokenRequest, context: RPCContext) async throws -> RefreshTokenResponse { throw Self.error }
    public func verifyToken(_ request: VerifyTokenRequest, context: RPCContext) async throws -> VerifyTokenResponse { throw Self.error }
    public func logout(_ request: LogoutRequest, context: RPCContext) async throws -> LogoutResponse { throw Self.error }
    public func getUser(_ request: GetUserRequest, context: RPCContext) async throws -> GetUserResponse { throw Self.error }
    public func getVerificationKeys(_ request: GetVerificationKeysRequest, context: RPCContext) async throws -> GetVerificationKeysResponse { throw Self.error }
}

/// An auth service that never answers before the caller's deadline; records what it received.
public struct SlowAuthService: AuthService {
    public init() {}
    func stall(_ context: RPCContext) async throws -> Never {
        try await Task.sleep(for: .seconds(60))
        throw RPCError(code: .internalError, message: "unreachable")
    }
    public func register(_ request: RegisterRequest, context: RPCContext) async throws -> RegisterResponse { try await stall(context) }
    public func login(_ request: LoginRequest, context: RPCContext) async throws -> LoginResponse {
        // Honour the deadline the gateway set, as a real transport would.
        let result: Result<LoginResponse, RPCError> = await withDeadline(context.deadline) { try await stall(context) }
        return try result.get()
    }
    public func refreshToken(_ request: RefreshTokenRequest, context: RPCContext) async throws -> RefreshTokenResponse { try await stall(context) }
    public func verifyToken(_ request: VerifyTokenRequest, context: RPCContext) async throws -> VerifyTokenResponse { try await stall(context) }
    public func logout(_ request: LogoutRequest, context: RPCContext) async throws -> LogoutResponse { try await stall(context) }
    public func getUser(_ request: GetUserRequest, context: RPCContext) async throws -> GetUserResponse { try await stall(context) }
    public func getVerificationKeys(_ request: GetVerificationKeysRequest, context: RPCContext) async throws -> GetVerificationKeysResponse { try await stall(context) }
}

/// An auth service that crashes with a non-RPC error carrying a secret, to prove nothing leaks.
public struct CrashingAuthService: AuthService {
    public init() {}
    struct Secret: Error { let detail = "postgres://admin:hunter2@db" }
    public func register(_ request: RegisterRequest, context: RPCContext) async throws -> RegisterResponse {
        throw RPCError(code: .internalError, message: "pq: password authentication failed for postgres://admin:hunter2@db")
    }
    public func login(_ request: LoginRequest, context: RPCContext) async throws -> LoginResponse { throw Secret() }
    public func refreshToken(_ request: RefreshTokenRequest, context: RPCContext) async throws -> RefreshTokenResponse { throw Secret() }
    public func verifyToken(_ request: VerifyTokenRequest, context: RPCContext) async throws -> VerifyTokenResponse { throw Secret() }
    public func logout(_ request: LogoutRequest, context: RPCContext) async throws -> LogoutResponse { throw Secret() }
    public func getUser(_ request: GetUserRequest, context: RPCContext) async throws -> GetUserResponse { throw Secret() }
    public func getVerificationKeys(_ request: GetVerificationKeysRequest, context: RPCContext) async throws -> GetVerificationKeysResponse { throw Secret() }
}

/// A storage service whose every method fails with UNAVAILABLE, as when it is down.
public struct UnavailableStorageService: StorageService {
    public init() {}
    static let error = RPCError(code: .unavailable, message: "storage is down")
    public func createImage(_ request: CreateImageRequest, context: RPCContext) async throws -> CreateImageResponse { throw Self.error }
    public func listImages(_ request: ListImagesRequest, context: RPCContext) async throws -> ListImagesResponse { throw Self.error }
    public func getImage(_ request: GetImageRequest, context: RPCContext) async throws -> GetImageResponse { throw Self.error }
    public func getImageContent(_ request: GetImageContentRequest, context: RPCContext) async throws -> GetImageContentResponse { throw Self.error }
    public func updateImage(_ request: UpdateImageRequest, context: RPCContext) async throws -> UpdateImageResponse { throw Self.error }
    public func deleteImage(_ request: DeleteImageRequest, context: RPCContext) async throws -> DeleteImageResponse { throw Self.error }
    public func getSignedBlob(_ request: GetSignedBlobRequest, context: RPCContext) async throws -> GetSignedBlobResponse { throw Self.error }
}

/// An edit service whose every method fails with UNAVAILABLE, as when it is down.
public struct UnavailableEditService: EditService {
    public init() {}
    static let error = RPCError(code: .unavailable, message: "edit is down")
    public func editImage(_ request: EditImageRequest, context: RPCContext) async throws -> EditImageResponse { throw Self.error }
    public func inspectImage(_ request: InspectImageRequest, context: RPCContext) async throws -> InspectImageResponse { throw Self.error }
}
