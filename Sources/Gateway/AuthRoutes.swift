import AuthAPI
import AuthTokens
import Foundation
import HTTPTypes
import Hummingbird
import RPCCore

/// `/api/register/`, `/api/login/`, `/api/token/refresh/`, `/api/token/verify/`, `/api/logout/`
/// and `/api/user/`, compatible with the original Django service (simplejwt's field names).
struct AuthRoutes {
    let settings: GatewaySettings
    let dependencies: GatewayDependencies

    func register(on router: Router<GatewayRequestContext>) {
        router.post("/api/register") { request, context in try await self.registerUser(request, context) }
        router.post("/api/login") { request, context in try await self.login(request, context) }
        router.post("/api/token/refresh") { request, context in try await self.refresh(request, context) }
        router.post("/api/token/verify") { request, context in try await self.verify(request, context) }
        router.post("/api/logout") { request, context in try await self.logout(request, context) }
        router.get("/api/user") { request, context in try await self.currentUser(request, context) }
    }

    func registerUser(_ request: Request, _ context: GatewayRequestContext) async throws -> Response {
        let body = try await JSONObject.read(request, limit: settings.maxJSONBodyBytes)
        let rpc = RegisterRequest(
            username: try body.requiredString("username"), email: try body.requiredString("email"),
            password: try body.requiredString("password"))
        let response = try await dependencies.auth.register(rpc, context: rpcContext(context, settings: settings))
        let user = response.user ?? User()
        return JSONResponse.make(.created, ["id": user.id, "username": user.username, "email": user.email, "last_login": NSNull()])
    }

    func login(_ request: Request, _ context: GatewayRequestContext) async throws -> Response {
        let body = try await JSONObject.read(request, limit: settings.maxJSONBodyBytes)
        let password = try body.requiredString("password")
        // Both are read (and type-checked) before choosing: a malformed field is a 400 even when
        // the other one would do.
        let email = try body.string("email")
        let username = try body.string("username")
        let identifier: LoginRequest.Identifier
        if let email, !email.isEmpty {
            identifier = .email(email)
        } else if let username, !username.isEmpty {
            identifier = .username(username)
        } else {
            throw APIError.badRequest("email or username is required")
        }
        let response = try await dependencies.auth.login(LoginRequest(identifier: identifier, password: password), context: rpcContext(context, settings: settings))
        let tokens = response.tokens ?? TokenPair()
        let user = response.user ?? User()
        return JSONResponse.make(.ok, [
            "access_token": tokens.accessToken, "refresh_token": tokens.refreshToken,
            "access": tokens.accessToken, "refresh": tokens.refreshToken,
            "token_type": "Bearer", "expires_in": tokens.accessExpiresInSeconds,
            "user": ["id": user.id, "username": user.username, "email": user.email],
        ])
    }

    func refresh(_ request: Request, _ context: GatewayRequestContext) async throws -> Response {
        let body = try await JSONObject.read(request, limit: settings.maxJSONBodyBytes)
        let token = try body.requiredString("refresh")
        let response = try await dependencies.auth.refreshToken(RefreshTokenRequest(refreshToken: token), context: rpcContext(context, settings: settings))
        let tokens = response.tokens ?? TokenPair()
        return JSONResponse.make(.ok, [
            "access": tokens.accessToken, "access_token": tokens.accessToken,
            "refresh": tokens.refreshToken, "refresh_token": tokens.refreshToken,
            "token_type": "Bearer", "expires_in": tokens.accessExpiresInSeconds,
        ])
    }

    /// Verified locally with the auth service's public keys: signature, expiry and type
    /// (access or refresh), as simplejwt's verify view does, with no RPC for a known token.
    func verify(_ request: Request, _ context: GatewayRequestContext) async throws -> Response {
        let body = try await JSONObject.read(request, limit: settings.maxJSONBodyBytes)
        let token = try body.requiredString("token")
        do {
            _ = try await dependencies.authenticator.authenticate(token: token)
        } catch let error where error.code == .unavailable {
            throw error
        } catch {
            // Not a valid access token: it may still be a valid refresh token.
            do {
                _ = try await dependencies.auth.verifyToken(VerifyTokenRequest(token: token), context: rpcContext(context, settings: settings))
            } catch let error as RPCError where error.code == .unauthenticated {
                throw APIError(status: .unauthorized, code: "token_not_valid", message: "Token is invalid or expired")
            }
        }
        return JSONResponse.make(.ok, [:])
    }

    func logout(_ request: Request, _ context: GatewayRequestContext) async throws -> Response {
        let body = try await JSONObject.read(request, limit: settings.maxJSONBodyBytes)
        let token = try body.requiredString("refresh")
        _ = try await dependencies.auth.logout(LogoutRequest(refreshToken: token), context: rpcContext(context, settings: settings))
        return JSONResponse.make(.ok, [:])
    }

    func currentUser(_ request: Request, _ context: GatewayRequestContext) async throws -> Response {
        var context = context
        let user = try await authenticate(request, &context)
        let response = try await dependencies.auth.getUser(GetUserRequest(), context: rpcContext(context, settings: settings, bearer: user.accessToken))
        let record = response.user ?? User()
        return JSONResponse.make(.ok, ["user": ["id": record.id, "email": record.email, "username": record.username]])
    }

    /// The caller's access token, verified locally; 401 otherwise.
    func authenticate(_ request: Request, _ context: inout GatewayRequestContext) async throws -> AuthenticatedUser {
        guard let token = AccessAuthenticator.bearerToken(from: request.headers[.authorization]) else { throw APIError.unauthenticated }
        do {
            let user = try await dependencies.authenticator.authenticate(token: token)
            context.userID = user.id
            return user
        } catch let error where error.code == .unauthenticated {
            throw APIError.unauthenticated
        }
    }
}

