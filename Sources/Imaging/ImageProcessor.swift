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
    /// so a truncated or corrupt file is refused here rather than later. The edit path does not
    /// need this: ``edit(_:operations:maxSide:)`` and ``normalizedForModel(_:side:maxBytes:)``
    /// check the header and refuse undecodable images themselves, decoding only once.
    public func validate(_ bytes: [UInt8]) throws(ImageError) -> ImageHeader {
        let header = try ImageProbe.inspect(bytes, limits: limits)
        try decodingErrors {
            try withExtendedLifetime(bytes) {
                let image = try VipsImage.decode(bytes, sequential: true)
                try Self.check(image, against: header)
                var average = 0.0
                guard ie_vips_avg(image.pointer, &average) == 0 else { throw VipsError("avg") }
            }
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
    /// away, and the transparent border is where the model may paint. The PNG is written with
    /// the fast setting first, then, when that is over `maxBytes`, with the thorough one; when
    /// both are too large, the side is reduced until it fits.
    ///
    /// - Throws: ``ImageError`` when the header is refused (as ``ImageProbe/inspect(_:limits:)``)
    ///   or the image cannot be decoded (``ImageError/undecodable``).
    public func normalizedForModel(_ bytes: [UInt8], side: Int = 1024, maxBytes: Int = 4 * 1024 * 1024 - 1) throws -> [UInt8] {
        let header = try ImageProbe.inspect(bytes, limits: limits)
        return try decodingErrors {
            var side = side
            while true {
                var png = try squareRGBA(bytes, header: header, side: side, encoding: .fast)
                if png.count > maxBytes { png = try squareRGBA(bytes, header: header, side: side, encoding: .small) }
                if png.count <= maxBytes || side <= 256 { return png }
                side = side * 3 / 4
            }
        }
    }

    /// Applies `operations` (the local engine) after scaling the longer side down to at most
    /// `maxSide`. Returns a PNG (written with ``PNGEncoding/fast``) and its dimensions. The
    /// header is checked first (format, pixel limit) and the image is decoded once, as a
    /// stream when every operation reads rows in order.
    ///
    /// - Throws: ``ImageError`` when the header is refused or the image cannot be decoded
    ///   (``ImageError/undecodable``: truncated or corrupt data).
    public func edit(_ bytes: [UInt8], operations: [ImageOperation], maxSide: Int = 1024) throws -> (png: [UInt8], width: Int, height: Int) {
        let header = try ImageProbe.inspect(bytes, limits: limits)
        return try decodingErrors {
            try withExtendedLifetime(bytes) {
                let source = try VipsImage.decode(bytes, sequential: operations.allSatisfy(\.readsRowsInOrder))
                try Self.check(source, against: header)
                var image = try scaledDown(try source.srgb8(), maxSide: maxSide)
                for operation in operations {
                    image = try operation.apply(to: image)
                }
                return (try image.pngData(.fast), image.width, image.height)
            }
        }
    }

    /// The dimensions of a PNG, from its header.
    public func pngDimensions(_ png: [UInt8]) throws(ImageError) -> (width: Int, height: Int) {
        let header = try ImageProbe.inspect(png, limits: limits)
        guard header.format == .png else { throw .unsupportedFormat }
        return (header.width, header.height)
    }

    // MARK: Helpers

    private func squareRGBA(_ bytes: [UInt8], header: ImageHeader, side: Int, encoding: PNGEncoding) throws -> [UInt8] {
        try withExtendedLifetime(bytes) {
            let source = try VipsImage.decode(bytes, sequential: true)
            try Self.check(source, against: header)
            let image = try scaledDown(try source.srgb8().withAlpha(), maxSide: side)
            let square = max(image.width, image.height)
            let x = Int32((square - image.width) / 2)
            let y = Int32((square - image.height) / 2)
            let padded = square == image.width && square == image.height
                ? image
                : try image.apply("embed") { ie_vips_embed_transparent($0, $1, x, y, Int32(square), Int32(square)) }
            return try padded.pngData(encoding)
        }
    }

    /// libvips must agree with the header we checked the limits on.
    private static func check(_ image: VipsImage, against header: ImageHeader) throws(ImageError) {
        guard image.width == header.width, image.height == header.height else { throw .malformedHeader }
    }

    /// Runs `body`, reporting libvips' failures as ``ImageError/undecodable``: they come from
    /// images that passed the header checks but whose data is truncated or corrupt (libvips'
    /// error text does not tell those apart from its rare internal failures, and neither
    /// should reach the client).
    private func decodingErrors<T>(_ body: () throws -> T) throws(ImageError) -> T {
        do {
            return try body()
        } catch let error as ImageError {
            throw error
        } catch {
            throw .undecodable
        }
    }

    private func scaledDown(_ image: VipsImage, maxSide: Int) throws -> VipsImage {
        let longer = max(image.width, image.height)
        guard longer > maxSide else { return image }
        let scale = Double(maxSide) / Double(longer)
        return try image.apply("resize") { ie_vips_resize($0, $1, scale) }
    }
}
