internal import CVips

/// Decodes, edits and re-encodes images with libvips. CPU-bound and blocking: call it from a
/// worker thread (the edit service's pool), never from an event loop. Thread-safe: each call
/// works on its own images.
public struct ImageProcessor: Sendable {
    public let limits: ImageLimits

    public init(limits: ImageLimits = ImageLimits()) {
        self.limits = limits
    }

    /// Checks `bytes` by content — format, header, pixel limit — and then decodes every pixel,
    /// so a truncated or corrupt file is refused here rather than later.
    public func validate(_ bytes: [UInt8]) throws(ImageError) -> ImageHeader {
        let header = try ImageProbe.inspect(bytes, limits: limits)
        do {
            let image = try VipsImage.decode(bytes)
            guard image.width == header.width, image.height == header.height else { throw ImageError.malformedHeader }
            var average = 0.0
            guard ie_vips_avg(image.pointer, &average) == 0 else { throw VipsError("avg") }
        } catch let error as ImageError {
            throw error
        } catch {
            throw .undecodable
        }
        return header
    }

    /// A mask must be a PNG of the image's dimensions.
    public func validateMask(_ mask: [UInt8], matching header: ImageHeader) throws(ImageError) {
        let maskHeader: ImageHeader
        do {
            maskHeader = try validate(mask)
        } catch {
            throw .maskMismatch
        }
        guard maskHeader.format == .png, maskHeader.width == header.width, maskHeader.height == header.height else {
            throw .maskMismatch
        }
    }

    /// The image as OpenAI's dall-e-2 wants it: a square RGBA PNG of at most `side` pixels and
    /// under `maxBytes`. The image is scaled down (never up) so its longer side fits, then
    /// **padded** with transparent pixels to a square — nothing of the original is cropped
    /// away, and the transparent border is where the model may paint. When the PNG comes out
    /// too large, the side is reduced until it fits.
    public func normalizedForModel(_ bytes: [UInt8], side: Int = 1024, maxBytes: Int = 4 * 1024 * 1024 - 1) throws -> [UInt8] {
        var side = side
        while true {
            let png = try squareRGBA(bytes, side: side)
            if png.count <= maxBytes || side <= 256 { return png }
            side = side * 3 / 4
        }
    }

    /// Applies `operations` (the local engine) after scaling the longer side down to at most
    /// `maxSide`. Returns a PNG and its dimensions.
    public func edit(_ bytes: [UInt8], operations: [ImageOperation], maxSide: Int = 1024) throws -> (png: [UInt8], width: Int, height: Int) {
        var image = try scaledDown(try VipsImage.decode(bytes).srgb8(), maxSide: maxSide)
        for operation in operations {
            image = try operation.apply(to: image)
        }
        return (try image.pngData(), image.width, image.height)
    }

    /// The dimensions of a PNG, from its header.
    public func pngDimensions(_ png: [UInt8]) throws(ImageError) -> (width: Int, height: Int) {
        let header = try ImageProbe.inspect(png, limits: limits)
        guard header.format == .png else { throw .unsupportedFormat }
        return (header.width, header.height)
    }

    // MARK: Helpers

    private func squareRGBA(_ bytes: [UInt8], side: Int) throws -> [UInt8] {
        let image = try scaledDown(try VipsImage.decode(bytes).srgb8().withAlpha(), maxSide: side)
        let square = max(image.width, image.height)
        let x = Int32((square - image.width) / 2)
        let y = Int32((square - image.height) / 2)
        let padded = square == image.width && square == image.height
            ? image
            : try image.apply("embed") { ie_vips_embed_transparent($0, $1, x, y, Int32(square), Int32(square)) }
        return try padded.pngData()
    }

    private func scaledDown(_ image: VipsImage, maxSide: Int) throws -> VipsImage {
        let longer = max(image.width, image.height)
        guard longer > maxSide else { return image }
        let scale = Double(maxSide) / Double(longer)
        return try image.apply("resize") { ie_vips_resize($0, $1, scale) }
    }
}
