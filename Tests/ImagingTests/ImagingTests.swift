import Foundation
import Imaging
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
        let edited = try processor.edit(try fixture("gradient-rgba-40x40.png"), operations: [.invert, .grayscale])
        #expect(edited.png[25] == 6)
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
