public import Imaging
public import OpenAIImages

/// Edits through OpenAI's images API: the image (and mask) are first normalised to what the
/// model accepts — for dall-e-2 a square RGBA PNG of at most the requested side, padded with
/// transparency, under 4 MB (see ``ImageProcessor/normalizedForModel(_:side:maxBytes:)``).
public struct OpenAIEditBackend: EditBackend {
    private let editor: OpenAIImageEditor
    private let model: String
    private let workers: ImageWorkers

    public init(editor: OpenAIImageEditor, model: String, workers: ImageWorkers) {
        self.editor = editor
        self.model = model
        self.workers = workers
    }

    public func edit(image: [UInt8], header: ImageHeader, mask: [UInt8]?, prompt: String, side: Int, deadline: ContinuousClock.Instant) async throws -> EditOutcome {
        let (normalised, normalisedMask) = try await workers.run { processor -> ([UInt8], [UInt8]?) in
            (try processor.normalizedForModel(image, side: side), try mask.map { try processor.normalizedForModel($0, side: side) })
        }
        let dimensions = try ImageProbe.inspect(normalised)
        let size = "\(dimensions.width)x\(dimensions.height)"
        let allowed = ["256x256", "512x512", "1024x1024"]
        let png = try await editor.edit(
            ImageEditRequest(image: normalised, mask: normalisedMask, prompt: prompt, size: allowed.contains(size) ? size : "\(side)x\(side)"),
            deadline: deadline)
        return EditOutcome(png: png, backend: "openai", model: model)
    }
}
