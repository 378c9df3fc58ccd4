import CVips
import Foundation
@testable import Imaging
import RPCCore
import Testing

func fixture(_ name: String) throws -> [UInt8] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)")
    return Array(try Data(contentsOf: url))
}

@Suite struct ImageProbeTests {
    @Test(arguments: [
        ("gradient-64x48.png", ImageFormat.png, 64, 48), ("gradient-rgba-40x40.png", .png, 40, 40),
        ("gradient-64x48.jpg", .jpeg, 64, 48), ("gradient-32x32-lossy.webp", .webp, 32, 32),
        ("gradient-30x20-lossless.webp", .webp, 30, 20),
    ])
    func recognisesFormatsAndDimensionsByContent(name: String, format: ImageFormat, width: Int, height: Int) throws {
        let header = try ImageProbe.inspect(try fixture(name))
        #expect(header == ImageHeader(format: format, width: width, height: height))
    }

    @Test func refusesWhatIsNotAnImage() throws {
        #expect(throws: ImageError.unsupportedFormat) { try ImageProbe.inspect(try fixture("text-named.png")) }
        #expect(throws: ImageError.empty) { try ImageProbe.inspect([]) }
        #expect(throws: ImageError.malformedHeader) { try ImageProbe.inspect([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0]) }
        #expect(throws: ImageError.malformedHeader) { try ImageProbe.inspect([0xFF, 0xD8, 0xFF, 0xD9]) }
    }

    @Test func refusesDecompressionBombsFromTheHeader() throws {
        #expect(throws: ImageError.tooManyPixels(width: 100_000, height: 100_000, limit: 40_000_000)) {
            try ImageProbe.inspect(try fixture("bomb-100000x100000.png"))
        }
        var limits = ImageLimits()
        limits.maxBytes = 100
        #expect(throws: ImageError.tooManyBytes(limit: 100)) { try ImageProbe.inspect(try fixture("gradient-64x48.jpg"), limits: limits) }
    }

    @Test func everyPrefixOfAnImageIsRefusedOrParsedNeverACrash() throws {
        for name in ["gradient-64x48.png", "gradient-64x48.jpg", "gradient-32x32-lossy.webp", "gradient-30x20-lossless.webp"] {
            let bytes = try fixture(name)
            for length in 0..<bytes.count {
                _ = try? ImageProbe.inspect(Array(bytes[0..<length]))
            }
        }
    }

    @Test func errorsAreInvalidArgumentWithUserMessages() {
        let error = ImageError.tooManyPixels(width: 100_000, height: 100_000, limit: 40_000_000).rpcError
        #expect(error.code == .invalidArgument)
        #expect(error.message.contains("100000×100000"))
    }
}

@Suite struct ImageProcessorTests {
    let processor = ImageProcessor()

    @Test(arguments: ["gradient-64x48.png", "gradient-rgba-40x40.png", "gradient-64x48.jpg", "gradient-32x32-lossy.webp", "gradient-30x20-lossless.webp"])
    func validImagesValidate(name: String) throws {
        _ = try processor.validate(try fixture(name))
    }

    @Test func truncatedImagesAreUndecodable() throws {
        #expect(throws: ImageError.undecodable) { try processor.validate(try fixture("truncated.png")) }
    }

    @Test func normalisedForDallE2IsASquareRGBAPNG() throws {
        for name in ["gradient-64x48.png", "gradient-64x48.jpg", "gradient-32x32-lossy.webp"] {
            let png = try processor.normalizedForModel(try fixture(name))
            let header = try ImageProbe.inspect(png)
            #expect(header.format == .png)
            #expect(header.width == header.height)
            #expect(png[25] == 6, "colour type 6 is RGBA")  // IHDR: colour type at offset 25
        }
        // Scaled down, never up; padded to the longer side.
        let small = try ImageProbe.inspect(try processor.normalizedForModel(try fixture("gradient-64x48.png")))
        #expect(small.width == 64)
        let large = try ImageProbe.inspect(try processor.normalizedForModel(try fixture("gradient-512x512.png"), side: 256))
        #expect(large.width == 256)
    }

    @Test func localEditsChangePixelsAndShape() throws {
        let source = try fixture("gradient-64x48.png")
        let rotated = try processor.edit(source, operations: [.rotate(90)])
        #expect(rotated.width == 48 && rotated.height == 64)
        let same = try processor.edit(source, operations: [])
        for operation in [ImageOperation.grayscale, .invert, .mirror, .flip, .blur, .brighten, .darken, .rotate(180)] {
            let edited = try processor.edit(source, operations: [operation])
            let changed = edited.png != same.png
            #expect(changed, "\(operation) should change the image")
            #expect(try ImageProbe.inspect(edited.png).format == .png)
        }
        // A smooth gradient has no edges to sharpen; a checkerboard does.
        let checker = try fixture("checker-32x32.png")
        let blurred = try processor.edit(checker, operations: [])
        let sharpened = try processor.edit(checker, operations: [.sharpen])
        let sharpenChanged = sharpened.png != blurred.png
        #expect(sharpenChanged)
        // Inverting twice restores the image.
        let twice = try processor.edit(try processor.edit(source, operations: [.invert]).png, operations: [.invert])
        let restored = twice.png == same.png
        #expect(restored)
    }

    @Test func alphaSurvivesColourEdits() throws {
        let inverted = try processor.edit(try fixture("gradient-rgba-40x40.png"), operations: [.invert, .brighten])
        #expect(inverted.png[25] == 6, "colour type 6 is RGBA")
        let gray = try processor.edit(try fixture("gradient-rgba-40x40.png"), operations: [.invert, .grayscale])
        #expect(gray.png[25] == 4, "colour type 4 is grayscale with alpha")
    }

    /// Grayscale results are written as 1-band PNGs (colour type 0, 8 bits), whatever comes
    /// after: a third of the bytes an RGB grey image has to compress.
    @Test(arguments: [
        [ImageOperation.grayscale], [.grayscale, .invert], [.grayscale, .mirror], [.grayscale, .flip], [.grayscale, .rotate(90)],
        [.grayscale, .blur], [.grayscale, .sharpen], [.grayscale, .brighten], [.grayscale, .darken], [.blur, .grayscale],
    ])
    func grayscaleStaysOneBand(operations: [ImageOperation]) throws {
        for name in ["gradient-64x48.png", "gradient-64x48.jpg", "checker-32x32.png"] {
            let edited = try processor.edit(try fixture(name), operations: operations)
            #expect(edited.png[24] == 8 && edited.png[25] == 0, "\(name) \(operations): bit depth 8, colour type 0")
            let header = try ImageProbe.inspect(edited.png)
            #expect(header.width == edited.width && header.height == edited.height)
            // Still decodable: a full validation decodes every pixel.
            #expect(try processor.validate(edited.png) == header)
        }
    }

    /// The edit path checks the header and decodes once; every refusal `validate` makes, it
    /// makes too, with the same error.
    @Test(arguments: [
        ("truncated.png", ImageError.undecodable), ("text-named.png", .unsupportedFormat),
        ("bomb-100000x100000.png", .tooManyPixels(width: 100_000, height: 100_000, limit: 40_000_000)),
    ])
    func editRefusesWhatValidateRefuses(name: String, error: ImageError) throws {
        let bytes = try fixture(name)
        #expect(throws: error) { try processor.validate(bytes) }
        for operations in [[ImageOperation](), [.grayscale], [.rotate(90)], [.blur, .flip]] {
            #expect(throws: error) { try processor.edit(bytes, operations: operations) }
        }
        #expect(throws: error) { try processor.normalizedForModel(bytes) }
    }

    /// Every prefix of a PNG is refused by the edit path exactly when full validation refuses
    /// it — which is every prefix cut before the end of the pixel data (the last IDAT chunk's
    /// CRC, then the 12-byte IEND chunk, are not needed to decode).
    @Test func truncatedPNGsAreRefusedByTheEditPathAsByValidation() throws {
        let bytes = try fixture("gradient-64x48.png")
        for length in 0..<bytes.count {
            let prefix = Array(bytes[0..<length])
            let validated = (try? processor.validate(prefix)) != nil
            let edited = (try? processor.edit(prefix, operations: [.grayscale])) != nil
            #expect(validated == edited, "prefix of \(length) bytes")
            if length < bytes.count - 16 { #expect(!edited, "prefix of \(length) bytes") }
        }
    }

    /// Streamed (sequential) and random-access decoding give the same pixels: `mirror` alone
    /// streams the source, `rotate(180)` then `flip` (the same transformation) reads it at random.
    @Test(arguments: ["gradient-64x48.png", "gradient-64x48.jpg", "gradient-rgba-40x40.png", "gradient-32x32-lossy.webp"])
    func streamedAndRandomAccessEditsAgree(name: String) throws {
        let source = try fixture(name)
        let streamed = try processor.edit(source, operations: [.mirror, .grayscale])
        let random = try processor.edit(source, operations: [.rotate(180), .flip, .grayscale])
        #expect(streamed.png == random.png)
        #expect(streamed.png != (try processor.edit(source, operations: [.grayscale])).png, "a mirrored gradient differs")
    }

    /// Over the size limit with the fast PNG setting, the thorough one is tried, then smaller
    /// sides; the result always fits and stays a square RGBA PNG.
    @Test(arguments: [4 * 1024 * 1024 - 1, 20_000, 6_000, 100])
    func normalisedPNGFitsTheByteLimit(maxBytes: Int) throws {
        let png = try processor.normalizedForModel(try fixture("gradient-512x512.png"), side: 512, maxBytes: maxBytes)
        let header = try ImageProbe.inspect(png)
        #expect(header.format == .png && header.width == header.height && png[25] == 6)
        if header.width > 256 { #expect(png.count <= maxBytes) }
        #expect(try processor.validate(png) == header)
    }

    @Test func masksMustMatch() throws {
        let header = try processor.validate(try fixture("gradient-64x48.png"))
        try processor.validateMask(try fixture("mask-64x48.png"), matching: header)
        #expect(throws: ImageError.maskMismatch) { try processor.validateMask(try fixture("gradient-rgba-40x40.png"), matching: header) }
        #expect(throws: ImageError.maskMismatch) { try processor.validateMask(try fixture("gradient-64x48.jpg"), matching: header) }
    }
}

@Suite struct PromptInterpreterTests {
    @Test(arguments: [
        ("Make it black and white", [ImageOperation.grayscale]),
        ("greyscale please, then invert", [.grayscale, .invert]),
        ("Rotate left and blur", [.rotate(270), .blur]),
        ("turn it 180 degrees", [.rotate(180)]),
        ("rotate", [.rotate(90)]),
        ("flip horizontally", [.mirror]),
        ("turn it upside down", [.rotate(90), .flip]),
        ("mirror mirror on the wall", [.mirror]),
        ("make it brighter and sharper", [.brighten, .sharpen]),
        ("Generate an image based on this uploaded image", []),
        ("", []),
    ])
    func findsTheKnownWordsInOrder(prompt: String, expected: [ImageOperation]) {
        #expect(PromptInterpreter.operations(in: prompt) == expected)
    }
}

/// The project's PNG writer (``PNGEncoding/fast``) against libpng: what it writes decodes, through
/// libpng, to exactly the pixels it was given, in each of PNG's four 8-bit layouts it writes, at
/// the sizes where rows are a single pixel or the image a single row.
@Suite struct PNGWriterTests {
    /// The source image in the layout `bands` asks for: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA.
    static func image(_ name: String, bands: Int, maxSide: Int) throws -> Imaging.VipsImage {
        try inMemory(try fixture(name)) { try shaped($0, bands: bands, maxSide: maxSide) }
    }

    /// Decodes `bytes` into an image that owns its pixels (decoding reads the bytes lazily), and
    /// runs `body` with it while the bytes are alive.
    static func inMemory<T>(_ bytes: [UInt8], _ body: (Imaging.VipsImage) throws -> T) throws -> T {
        try withExtendedLifetime(bytes) {
            let decoded = try Imaging.VipsImage.decode(bytes)
            guard let copy = vips_image_copy_memory(decoded.pointer) else { throw VipsError("copy_memory") }
            return try body(Imaging.VipsImage(copy))
        }
    }

    static func shaped(_ decoded: Imaging.VipsImage, bands: Int, maxSide: Int) throws -> Imaging.VipsImage {
        var image = try decoded.srgb8()
        if image.hasAlpha && bands % 2 == 1 {
            let colourBands = Int32(image.bands - 1)
            image = try image.apply("extract_band") { ie_vips_extract_bands($0, $1, 0, colourBands) }
        }
        if !image.hasAlpha && bands % 2 == 0 { image = try image.withAlpha() }
        if bands <= 2 { image = try image.onColourBands("grey") { try $0.apply("colourspace") { ie_vips_colourspace($0, $1, VIPS_INTERPRETATION_B_W) } } }
        if max(image.width, image.height) > maxSide {
            image = try image.apply("resize") { ie_vips_resize($0, $1, Double(maxSide) / Double(max(image.width, image.height))) }
        }
        return try inMemory(try image.pngData(.small)) { $0 }  // the pixels as libpng reads them
    }

    @Test(arguments: [1, 2, 3, 4], ["gradient-64x48.png", "gradient-rgba-40x40.png", "checker-32x32.png", "gradient-64x48.jpg"])
    func writesWhatLibpngReadsBackExactly(bands: Int, name: String) throws {
        for maxSide in [1, 7, 1000] {
            let image = try Self.image(name, bands: bands, maxSide: maxSide)
            #expect(image.bands == bands)
            let png = try image.pngData(.fast)
            let header = try ImageProbe.inspect(png)
            #expect(header.format == .png && header.width == image.width && header.height == image.height)
            #expect(png[24] == 8 && png[25] == [0, 0, 4, 2, 6][bands], "bit depth 8 and the colour type of \(bands) bands")
            let decoded = try Self.inMemory(png) { $0 }
            #expect(decoded.bands == bands)
            #expect(try decoded.pixels() == image.pixels(), "\(name), \(bands) bands, side \(maxSide)")
            // Whole and well-formed: full validation decodes every pixel and checks the CRCs.
            #expect(try ImageProcessor().validate(png) == header)
        }
    }

    /// A noisy image compresses no worse than libpng's thorough setting allows by much, and a
    /// smooth one compresses well: the writer is fast, not careless.
    @Test func compressesSmoothImagesWell() throws {
        let gradient = try Self.inMemory(try fixture("gradient-512x512.png")) { $0 }
        let fast = try gradient.pngData(.fast)
        let small = try gradient.pngData(.small)
        let raw = gradient.width * gradient.height * gradient.bands
        #expect(fast.count < raw / 20, "\(fast.count) bytes for \(raw) bytes of pixels")
        #expect(fast.count < small.count * 4, "fast \(fast.count) B, small \(small.count) B")
    }

    /// An image that is not 8-bit is cast before writing; a truncated source fails as a decode
    /// error, never as a short PNG.
    @Test func castsWideFormatsAndReportsDecodeErrors() throws {
        let wide = try Self.inMemory(try fixture("gradient-64x48.png")) { try $0.apply("linear") { ie_vips_linear1($0, $1, 1.0, 0.0) } }
        let png = try wide.pngData(.fast)
        #expect(try ImageProbe.inspect(png).width == 64)
        let truncated = try fixture("truncated.png")
        #expect(throws: VipsError.self) { try withExtendedLifetime(truncated) { try Imaging.VipsImage.decode(truncated).pngData(.fast) } }
    }
}

extension Imaging.VipsImage {
    /// The computed pixels, band-interleaved rows top to bottom.
    func pixels() throws -> [UInt8] {
        var length = 0
        guard let memory = vips_image_write_to_memory(pointer, &length) else { throw VipsError("write_to_memory") }
        defer { g_free(memory) }
        return Array(UnsafeRawBufferPointer(start: memory, count: length))
    }
}
