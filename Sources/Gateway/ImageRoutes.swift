import AuthTokens
import EditAPI
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RPCCore
import StorageAPI

/// `/api/images/images/…`: upload + edit, list, get, download, patch/put, delete — and
/// `/blobs/…`, which serves local-store objects to holders of a signed URL.
struct ImageRoutes {
    let settings: GatewaySettings
    let dependencies: GatewayDependencies
    let auth: AuthRoutes
    /// Uploads in progress (``GatewaySettings/maxConcurrentUploads``).
    let uploads: ConcurrencyLimit

    init(settings: GatewaySettings, dependencies: GatewayDependencies, auth: AuthRoutes) {
        self.settings = settings
        self.dependencies = dependencies
        self.auth = auth
        self.uploads = ConcurrencyLimit(limit: max(1, settings.maxConcurrentUploads))
    }

    static let defaultPrompt = "Generate an image based on this uploaded image"

    func register(on router: Router<GatewayRequestContext>) {
        let base = "/api/images/images"
        router.post(RouterPath(base)) { request, context in try await self.create(request, context) }
        router.get(RouterPath(base)) { request, context in try await self.list(request, context) }
        router.get(RouterPath("\(base)/:id")) { request, context in try await self.show(request, context) }
        router.get(RouterPath("\(base)/:id/original")) { request, context in try await self.download(request, context, version: .original) }
        router.get(RouterPath("\(base)/:id/edited")) { request, context in try await self.download(request, context, version: .edited) }
        router.patch(RouterPath("\(base)/:id")) { request, context in try await self.update(request, context) }
        router.put(RouterPath("\(base)/:id")) { request, context in try await self.update(request, context) }
        router.delete(RouterPath("\(base)/:id")) { request, context in try await self.remove(request, context) }
        router.get("/blobs/**") { request, context in try await self.signedBlob(request, context) }
    }

    // MARK: Routes

    func create(_ request: Request, _ context: GatewayRequestContext) async throws -> Response {
        var context = context
        let user = try await auth.authenticate(request, &context)
        return try await withUploadedForm(request) { form in
            guard let image = form["image"], !image.data.isEmpty else {
                throw APIError.badRequest(form["image"] == nil ? "image is required (a multipart file field named `image`)" : "image is empty")
            }
            let prompt = try prompt(from: form) ?? Self.defaultPrompt
            let edited = try await edit(image.data, form: form, prompt: prompt, user: user, context: context)
            let created = try await dependencies.storage.createImage(
                CreateImageRequest(original: content(edited.original, data: image.data), edited: content(edited.edited, data: edited.editedImage),
                                   prompt: prompt, backend: edited.backend, model: edited.model, appliedOperations: edited.appliedOperations),
                context: rpcContext(context, settings: settings, bearer: user.accessToken))
            return JSONResponse.make(.created, body(for: created.image, request: request, note: edited.note))
        }
    }

    /// Collects a multipart body (at most `MAX_UPLOAD_BYTES`), then, holding one of the upload
    /// slots (`MAX_CONCURRENT_UPLOADS`), parses it and runs `body` with the form. The raw body
    /// is freed as soon as it is parsed: the parts are copies.
    private func withUploadedForm(_ request: Request, _ body: (MultipartForm) async throws -> Response) async throws -> Response {
        let boundary = try MultipartForm.boundary(of: request)
        var pending: ByteBuffer? = try await collectBody(request, limit: settings.maxUploadBytes)
        return try await uploads.run {
            // `take()` leaves no binding to the raw body: it is freed once parsed, before `body`
            // edits and stores.
            let form = try MultipartForm.parse(pending.take() ?? ByteBuffer(), boundary: boundary)
            return try await body(form)
        }
    }

    func list(_ request: Request, _ context: GatewayRequestContext) async throws -> Response {
        var context = context
        let user = try await auth.authenticate(request, &context)
        let page = try positiveInteger(request.uri.queryParameters["page"].map(String.init), name: "page") ?? 1
        let pageSize = try positiveInteger(request.uri.queryParameters["page_size"].map(String.init), name: "page_size") ?? 10
        guard pageSize <= 100 else { throw APIError.badRequest("page_size must be at most 100") }
        // A page far past any real one (up to Int.max) must not overflow the multiplication.
        let (offset, overflow) = (page - 1).multipliedReportingOverflow(by: pageSize)
        guard !overflow, offset <= Int(UInt32.max) else { throw APIError.invalidPage }
        let response = try await dependencies.storage.listImages(
            ListImagesRequest(pageSize: UInt32(pageSize), offset: UInt32(offset)),
            context: rpcContext(context, settings: settings, bearer: user.accessToken))
        let total = Int(response.totalCount)
        if page > 1 && offset >= total { throw APIError.invalidPage }
        let path = request.uri.path
        func link(_ number: Int) -> String {
            absolute("\(path)?page=\(number)&page_size=\(pageSize)", request: request)
        }
        return JSONResponse.make(.ok, .object(sorted: [
            .init("count", .integer(Int64(total))),
            .init("next", .string(offset + pageSize < total ? link(page + 1) : nil)),
            .init("previous", .string(page > 1 ? link(page - 1) : nil)),
            .init("results", .array(response.images.map { imageData($0, request: request) })),
        ]))
    }

    func show(_ request: Request, _ context: GatewayRequestContext) async throws -> Response {
        var context = context
        let user = try await auth.authenticate(request, &context)
        let response = try await dependencies.storage.getImage(
            GetImageRequest(id: try imageID(context)), context: rpcContext(context, settings: settings, bearer: user.accessToken))
        return JSONResponse.make(.ok, imageData(response.image ?? Image(), request: request))
    }

    func download(_ request: Request, _ context: GatewayRequestContext, version: ImageVersion) async throws -> Response {
        var context = context
        let user = try await auth.authenticate(request, &context)
        let response = try await dependencies.storage.getImageContent(
            GetImageContentRequest(id: try imageID(context), version: version),
            context: rpcContext(context, settings: settings, bearer: user.accessToken))
        let content = response.content ?? ImageContent()
        return bytes(content.data, contentType: content.contentType)
    }

    func update(_ request: Request, _ context: GatewayRequestContext) async throws -> Response {
        var context = context
        let user = try await auth.authenticate(request, &context)
        let id = try imageID(context)
        return try await withUploadedForm(request) { form in
            let newImage = form["image"]
            let newPrompt = try prompt(from: form)
            guard newImage != nil || newPrompt != nil else { throw APIError.badRequest("Send a new image, a new prompt, or both") }
            if let newImage, newImage.data.isEmpty { throw APIError.badRequest("image is empty") }
            let rpc = rpcContext(context, settings: settings, bearer: user.accessToken)
            // Ownership first: another user's id is a 404 before any work is done.
            guard let current = try await dependencies.storage.getImage(GetImageRequest(id: id), context: rpc).image else { throw APIError.notFound }
            let source: [UInt8]
            if let newImage {
                source = newImage.data
            } else {
                source = try await dependencies.storage.getImageContent(GetImageContentRequest(id: id, version: .original), context: rpc).content?.data ?? []
            }
            let prompt = newPrompt ?? current.prompt
            let edited = try await edit(source, form: form, prompt: prompt, user: user, context: context)
            let updated = try await dependencies.storage.updateImage(
                UpdateImageRequest(
                    id: id, original: newImage.map { content(edited.original, data: $0.data) }, edited: content(edited.edited, data: edited.editedImage),
                    prompt: newPrompt, backend: edited.backend, model: edited.model, appliedOperations: edited.appliedOperations),
                context: rpcContext(context, settings: settings, bearer: user.accessToken))
            return JSONResponse.make(.ok, body(for: updated.image, request: request, note: edited.note))
        }
    }

    func remove(_ request: Request, _ context: GatewayRequestContext) async throws -> Response {
        var context = context
        let user = try await auth.authenticate(request, &context)
        _ = try await dependencies.storage.deleteImage(
            DeleteImageRequest(id: try imageID(context)), context: rpcContext(context, settings: settings, bearer: user.accessToken))
        return Response(status: .noContent)
    }

    func signedBlob(_ request: Request, _ context: GatewayRequestContext) async throws -> Response {
        let key = context.parameters.getCatchAll().joined(separator: "/")
        guard let expiresText = request.uri.queryParameters["expires"], let expires = Int64(String(expiresText)),
              let signature = request.uri.queryParameters["signature"]
        else { throw APIError(status: .forbidden, code: "permission_denied", message: "The link is invalid or has expired") }
        let response = try await dependencies.storage.getSignedBlob(
            GetSignedBlobRequest(key: key, expires: expires, signature: String(signature)),
            context: rpcContext(context, settings: settings))
        return bytes(response.data, contentType: response.contentType)
    }

    // MARK: Helpers

    private func edit(_ image: [UInt8], form: MultipartForm, prompt: String, user: AuthenticatedUser, context: GatewayRequestContext) async throws -> EditImageResponse {
        var rpc = rpcContext(context, settings: settings, bearer: user.accessToken)
        rpc.deadline = .now + settings.editTimeout
        return try await dependencies.edit.editImage(
            EditImageRequest(image: image, mask: form["mask"]?.data ?? [], prompt: prompt, size: try form.text("size") ?? ""),
            context: rpc)
    }

    private func prompt(from form: MultipartForm) throws -> String? {
        guard let prompt = try form.text("prompt") else { return nil }
        guard prompt.count <= 1000 else { throw APIError.badRequest("prompt must be at most 1000 characters") }
        return prompt.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : prompt
    }

    private func content(_ info: ImageInfo?, data: [UInt8]) -> ImageContent {
        ImageContent(data: data, contentType: info?.contentType ?? "", width: info?.width ?? 0, height: info?.height ?? 0)
    }

    private func imageID(_ context: GatewayRequestContext) throws -> Int64 {
        guard let text = context.parameters.get("id"), let id = Int64(text), id > 0 else { throw APIError.notFound }
        return id
    }

    private func positiveInteger(_ text: String?, name: String) throws -> Int? {
        guard let text else { return nil }
        guard let value = Int(text), value >= 1 else { throw APIError.badRequest("\(name) must be a positive integer") }
        return value
    }

    private func bytes(_ data: [UInt8], contentType: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.cacheControl] = "private, max-age=300"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The POST/PATCH answer, as the original service shaped it.
    private func body(for image: Image?, request: Request, note: String) -> JSONValue {
        Self.editedJSON(image ?? Image(), note: note) { absolute($0, request: request) }
    }

    /// One image's metadata (the `image_data` object).
    func imageData(_ image: Image, request: Request) -> JSONValue {
        Self.imageJSON(image) { absolute($0, request: request) }
    }

    /// The POST/PATCH answer for `image`; `absolute` makes a stored URL absolute.
    static func editedJSON(_ image: Image, note: String, absolute: (String) -> String) -> JSONValue {
        var data = imageJSON(image, absolute: absolute)
        if !note.isEmpty { data = data.setting("note", to: .string(note)) }
        return .object(sorted: [
            .init("dalle_edited_image_url", data["edited_image_url"] ?? .string("")),
            .init("image_data", data),
            .init("original_image_url", data["s3_image_url"] ?? .string("")),
            .init("prompt", .string(image.prompt)),
        ])
    }

    /// One image's metadata, members in key order; `absolute` makes a stored URL absolute.
    static func imageJSON(_ image: Image, absolute: (String) -> String) -> JSONValue {
        .object(sorted: [
            .init("applied_operations", .strings(image.appliedOperations)),
            .init("backend", .string(image.backend)),
            .init("content_type", .string(image.originalContentType)),
            .init("edited_at", .string(Timestamps.iso8601(image.editedAt))),
            .init("edited_content_type", .string(image.editedContentType)),
            .init("edited_height", .unsigned(UInt64(image.editedHeight))),
            .init("edited_image_url", .string(absolute(image.editedUrl))),
            .init("edited_size_bytes", .unsigned(UInt64(image.editedSizeBytes))),
            .init("edited_url", .string("/api/images/images/\(image.id)/edited")),
            .init("edited_width", .unsigned(UInt64(image.editedWidth))),
            .init("height", .unsigned(UInt64(image.height))),
            .init("id", .integer(image.id)),
            .init("model", .string(image.model)),
            .init("original_url", .string("/api/images/images/\(image.id)/original")),
            .init("prompt", .string(image.prompt)),
            .init("s3_image_url", .string(absolute(image.originalUrl))),
            .init("size_bytes", .unsigned(UInt64(image.originalSizeBytes))),
            .init("uploaded_at", .string(Timestamps.iso8601(image.createdAt))),
            .init("urls_expire_at", .string(Timestamps.iso8601(image.urlsExpireAt))),
            .init("user", .integer(image.userId)),
            .init("width", .unsigned(UInt64(image.width))),
        ])
    }

    /// Relative local-store URLs become absolute on the gateway's public address.
    private func absolute(_ url: String, request: Request) -> String {
        guard url.hasPrefix("/") else { return url }
        if let base = settings.publicBaseURL { return base + url }
        let host = request.head.authority ?? "\(settings.host):\(settings.port)"
        return "http://\(host)\(url)"
    }
}
