/// One image edit for ``OpenAIImageEditor``.
///
/// The caller normalises the image for the model first: for dall-e-2 a square RGBA PNG under
/// 4 MB. This type does not check that; OpenAI does, and its answer becomes
/// ``OpenAIError/Kind/invalidRequest`` with OpenAI's message.
public struct ImageEditRequest: Sendable {
    /// The image, PNG bytes.
    public var image: [UInt8]
    /// An optional mask, a PNG of the image's size whose transparent pixels mark what to edit.
    public var mask: [UInt8]?
    /// What to do to the image (dall-e-2: at most 1000 characters).
    public var prompt: String
    /// The output size (dall-e-2: `256x256`, `512x512` or `1024x1024`); `nil` sends none and
    /// OpenAI picks its default.
    public var size: String?

    public init(image: [UInt8], mask: [UInt8]? = nil, prompt: String, size: String? = nil) {
        self.image = image
        self.mask = mask
        self.prompt = prompt
        self.size = size
    }
}
