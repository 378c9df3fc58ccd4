internal import CVips
import Foundation

/// An error inside libvips. Raised for images that passed the header checks but failed to
/// decode, or for an internal failure; callers turn the former into ``ImageError/undecodable``.
struct VipsError: Error, CustomStringConvertible {
    let operation: String
    let detail: String
    var description: String { "libvips \(operation) failed: \(detail)" }

    init(operation: String, detail: String) {
        self.operation = operation
        self.detail = detail
    }

    /// Takes and clears libvips' (thread-local) error buffer.
    init(_ operation: String) {
        self.operation = operation
        self.detail = String(cString: vips_error_buffer()).trimmingCharacters(in: .whitespacesAndNewlines)
        vips_error_clear()
    }
}

/// Starts libvips once per process. Thread-safe.
enum Vips {
    static let started: Bool = {
        guard ie_vips_init() == 0 else { return false }
        // Memory-bound work only: no operation cache (every request is a new image), and
        // concurrency comes from our own worker threads rather than libvips' pool.
        vips_cache_set_max(0)
        vips_concurrency_set(1)
        return true
    }()
}

/// How a PNG is written.
enum PNGEncoding {
    /// The project's writer (`ie_png_write`): the `Sub` filter on every row, libdeflate level
    /// 1. For the local engine's results and the model's input. On the benchmark's photo-like
    /// 512x512 image, a 1-band result takes ~2 ms and 192 KB, where libpng with zlib level 2
    /// and the same filter (the setting before it) took ~6 ms and 200 KB; on smooth images it
    /// is as small as libpng's (a 512x512 gradient: 2.8 KB). See Benchmarks/README.md, "Image routes".
    case fast
    /// libpng through libvips, zlib level 6 with libpng choosing the best filter for each row:
    /// the smallest file, several times ``fast``'s time. For the model's input when ``fast``
    /// is over its size limit.
    case small
}

/// An owned libvips image. Operations return new images; the wrapper unrefs on release.
/// Not shared across threads (each request processes its own images on one worker thread).
final class VipsImage {
    let pointer: UnsafeMutablePointer<CVips.VipsImage>

    init(_ pointer: UnsafeMutablePointer<CVips.VipsImage>) {
        self.pointer = pointer
    }

    deinit {
        ie_vips_unref(pointer)
    }

    /// Decodes lazily: pixels are read when a later step (the PNG writer, `avg`) pulls them.
    /// `sequential` streams rows top to bottom instead of keeping a decoded copy of the whole
    /// image; only for pipelines that read rows in order (see ``ImageOperation/readsRowsInOrder``).
    /// `bytes` must stay alive as long as the image: libvips reads from them without a copy.
    static func decode(_ bytes: [UInt8], sequential: Bool = false) throws -> VipsImage {
        precondition(Vips.started, "libvips failed to start")
        let access = sequential ? VIPS_ACCESS_SEQUENTIAL : VIPS_ACCESS_RANDOM
        let image = bytes.withUnsafeBytes { ie_vips_load_buffer($0.baseAddress, $0.count, access) }
        guard let image else { throw VipsError("load") }
        return VipsImage(image)
    }

    var width: Int { Int(vips_image_get_width(pointer)) }
    var height: Int { Int(vips_image_get_height(pointer)) }
    var bands: Int { Int(vips_image_get_bands(pointer)) }
    var hasAlpha: Bool { vips_image_hasalpha(pointer) != 0 }

    /// Applies a libvips operation that writes one output image.
    func apply(_ name: String, _ operation: (UnsafeMutablePointer<CVips.VipsImage>, UnsafeMutablePointer<UnsafeMutablePointer<CVips.VipsImage>?>) -> Int32) throws -> VipsImage {
        var output: UnsafeMutablePointer<CVips.VipsImage>?
        guard operation(pointer, &output) == 0, let output else { throw VipsError(name) }
        return VipsImage(output)
    }

    /// Encodes as PNG. This is where the pixels are actually computed, so decode errors of a
    /// truncated file surface here. ``PNGEncoding/fast`` writes 8-bit grey or sRGB pixels
    /// (what ``srgb8()`` and ``eightBit()`` give); other images are converted first.
    func pngData(_ encoding: PNGEncoding) throws -> [UInt8] {
        var buffer: UnsafeMutableRawPointer?
        var length = 0
        switch encoding {
        case .fast:
            // The writer takes 8-bit grey or sRGB bands as they are: anything else (CMYK, Lab,
            // 16-bit) is converted first, as libvips' own PNG writer would.
            let image = ie_vips_interpretation(pointer) == VIPS_INTERPRETATION_sRGB ? try uchar() : try eightBit()
            var png: UnsafeMutablePointer<UInt8>?
            let status = withExtendedLifetime(image) { ie_png_write(image.pointer, &png, &length) }
            guard status == 0, let png else {
                throw status == -1 ? VipsError("pngsave") : VipsError(operation: "pngsave", detail: "PNG writer failed (\(status))")
            }
            defer { free(png) }
            return Array(UnsafeBufferPointer(start: png, count: length))
        case .small:
            guard ie_vips_pngsave_small(pointer, &buffer, &length) == 0, let buffer else {
                throw VipsError("pngsave")
            }
            defer { ie_vips_free(buffer) }
            return Array(UnsafeRawBufferPointer(start: buffer, count: length))
        }
    }

    // MARK: Operations

    /// sRGB with 8-bit channels, alpha kept if present.
    func srgb8() throws -> VipsImage {
        let colour = try apply("colourspace") { ie_vips_colourspace($0, $1, VIPS_INTERPRETATION_sRGB) }
        return try colour.apply("cast") { ie_vips_cast_uchar($0, $1) }
    }

    /// 8-bit channels in the image's own colour space: grayscale (1 band, or 2 with alpha)
    /// stays grayscale, anything else becomes sRGB. The step after an operation that may
    /// widen the pixel format (blur, sharpen, linear).
    func eightBit() throws -> VipsImage {
        guard ie_vips_interpretation(pointer) == VIPS_INTERPRETATION_B_W else { return try srgb8() }
        return try uchar()
    }

    /// The same bands with 8-bit channels (cast when they are wider).
    func uchar() throws -> VipsImage {
        vips_image_get_format(pointer) == VIPS_FORMAT_UCHAR ? self : try apply("cast") { ie_vips_cast_uchar($0, $1) }
    }

    /// The same image with an opaque alpha band added when it has none.
    func withAlpha() throws -> VipsImage {
        hasAlpha ? self : try apply("addalpha") { ie_vips_addalpha($0, $1) }
    }

    /// Runs `transform` on the colour bands only, keeping alpha as it is.
    func onColourBands(_ name: String, _ transform: (VipsImage) throws -> VipsImage) throws -> VipsImage {
        guard hasAlpha else { return try transform(self) }
        let colourCount = Int32(bands - 1)
        let colour = try apply("extract_band") { ie_vips_extract_bands($0, $1, 0, colourCount) }
        let alpha = try apply("extract_band") { ie_vips_extract_bands($0, $1, colourCount, 1) }
        let changed = try transform(colour)
        var output: UnsafeMutablePointer<CVips.VipsImage>?
        guard ie_vips_bandjoin2(changed.pointer, alpha.pointer, &output) == 0, let output else { throw VipsError(name) }
        return VipsImage(output)
    }
}
