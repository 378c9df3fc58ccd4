public import AuthTokens
public import EditAPI
import Imaging
public import RPCCore

/// The edit service's logic, behind the generated ``EditService`` protocol: validates uploads
/// by content, then hands them to the configured ``EditBackend``.
public final class EditServiceProvider: EditService {
    public static let defaultPrompt = "Generate an image based on this uploaded image"
    public static let maxPromptLength = 1000
    static let sizes = ["256x256": 256, "512x512": 512, "1024x1024": 1024]

    private let authenticator: AccessAuthenticator
    private let backend: any EditBackend
    private let workers: ImageWorkers

    public init(authenticator: AccessAuthenticator, backend: any EditBackend, workers: ImageWorkers) {
        self.authenticator = authenticator
        self.backend = backend
        self.workers = workers
    }

    public func editImage(_ request: EditImageRequest, context: RPCContext) async throws -> EditImageResponse {
        _ = try await authenticator.authenticate(context)
        let prompt = request.prompt.unicodeScalars.allSatisfy(\.properties.isWhitespace) ? Self.defaultPrompt : request.prompt
        guard prompt.count <= Self.maxPromptLength else {
            throw RPCError(code: .invalidArgument, message: "prompt must be at most \(Self.maxPromptLength) characters")
        }
        var side: Int?
        if !request.size.isEmpty {
            guard let value = Self.sizes[request.size] else {
                throw RPCError(code: .invalidArgument, message: "size must be 256x256, 512x512 or 1024x1024")
            }
            side = value
        }
        let image = request.image
        let mask = request.mask.isEmpty ? nil : request.mask
        // The header is checked here (format, dimensions, pixel limit: pure Swift, no pixels
        // decoded); the backend then decodes the image once and refuses truncated or corrupt
        // data as `ImageError.undecodable` (both backends go through `ImageProcessor`, which
        // does so before any network call). A mask is decoded in full here: the local engine
        // never reads it.
        let header = try ImageProbe.inspect(image, limits: workers.processor.limits)
        if let mask {
            try await workers.run { try $0.validateMask(mask, matching: header) }
        }
        let outputSide = side ?? Self.sizes.values.sorted().first { $0 >= max(header.width, header.height) } ?? 1024
        let deadline = context.deadline ?? .now + .seconds(120)
        let outcome = try await backend.edit(image: image, header: header, mask: mask, prompt: prompt, side: outputSide, deadline: deadline)
        let edited = try ImageProbe.inspect(outcome.png, limits: workers.processor.limits)
        guard edited.format == .png else { throw RPCError(code: .internalError, message: "Internal error") }
        return EditImageResponse(
            editedImage: outcome.png,
            edited: ImageInfo(contentType: "image/png", width: UInt32(edited.width), height: UInt32(edited.height), sizeBytes: UInt64(outcome.png.count)),
            original: ImageInfo(contentType: header.format.contentType, width: UInt32(header.width), height: UInt32(header.height), sizeBytes: UInt64(image.count)),
            backend: outcome.backend, model: outcome.model, appliedOperations: outcome.operations, note: outcome.note)
    }

    public func inspectImage(_ request: InspectImageRequest, context: RPCContext) async throws -> InspectImageResponse {
        _ = try await authenticator.authenticate(context)
        let image = request.image
        let header = try await workers.run { try $0.validate(image) }
        return InspectImageResponse(info: ImageInfo(
            contentType: header.format.contentType, width: UInt32(header.width), height: UInt32(header.height), sizeBytes: UInt64(image.count)))
    }
}
