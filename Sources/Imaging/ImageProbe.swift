public import RPCCore

/// The image formats accepted for upload, recognised by their bytes.
public enum ImageFormat: String, Sendable, Hashable, CaseIterable {
    case png, jpeg, webp

    /// The MIME type stored and served.
    public var contentType: String {
        switch self {
        case .png: "image/png"
        case .jpeg: "image/jpeg"
        case .webp: "image/webp"
        }
    }

    /// The file extension used in object keys.
    public var fileExtension: String {
        switch self {
        case .png: "png"
        case .jpeg: "jpg"
        case .webp: "webp"
        }
    }
}

/// What an image's header says, read without decoding any pixels.
public struct ImageHeader: Sendable, Hashable {
    public let format: ImageFormat
    public let width: Int
    public let height: Int

    public init(format: ImageFormat, width: Int, height: Int) {
        self.format = format
        self.width = width
        self.height = height
    }
}

/// Why an upload was refused. Every case is the client's input, so every case is
/// `INVALID_ARGUMENT` with a message meant for the user.
public enum ImageError: Error, Sendable, Hashable, RPCErrorConvertible {
    case empty
    case tooManyBytes(limit: Int)
    case unsupportedFormat
    case malformedHeader
    case tooManyPixels(width: Int, height: Int, limit: Int)
    case undecodable
    case maskMismatch

    public var rpcError: RPCError {
        RPCError(code: .invalidArgument, message: message)
    }

    public var message: String {
        switch self {
        case .empty: "The image is empty"
        case .tooManyBytes(let limit): "The image is larger than \(limit / (1024 * 1024)) MiB"
        case .unsupportedFormat: "The file is not a PNG, JPEG or WebP image"
        case .malformedHeader: "The image header is malformed"
        case .tooManyPixels(let width, let height, let limit):
            "The image is \(width)×\(height) pixels, more than the limit of \(limit / 1_000_000) megapixels"
        case .undecodable: "The image could not be decoded: it is truncated or corrupt"
        case .maskMismatch: "The mask must be a PNG with the same dimensions as the image"
        }
    }
}

/// Limits applied to every upload, before any pixel is decoded.
public struct ImageLimits: Sendable {
    /// Largest accepted file.
    public var maxBytes = 20 * 1024 * 1024
    /// Largest accepted width × height: a decompression-bomb guard checked from the header.
    public var maxPixels = 40_000_000

    public init() {}
}

/// Recognises PNG, JPEG and WebP by content and reads their dimensions from the header.
/// Pure Swift: nothing is decoded, so a hostile header costs nothing.
public enum ImageProbe {
    /// The format and dimensions of `bytes`, checked against `limits`.
    public static func inspect(_ bytes: [UInt8], limits: ImageLimits = ImageLimits()) throws(ImageError) -> ImageHeader {
        guard !bytes.isEmpty else { throw .empty }
        guard bytes.count <= limits.maxBytes else { throw .tooManyBytes(limit: limits.maxBytes) }
        let header: ImageHeader
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            header = try png(bytes)
        } else if bytes.starts(with: [0xFF, 0xD8, 0xFF]) {
            header = try jpeg(bytes)
        } else if bytes.count >= 12, bytes.starts(with: Array("RIFF".utf8)), Array(bytes[8..<12]) == Array("WEBP".utf8) {
            header = try webp(bytes)
        } else {
            throw .unsupportedFormat
        }
        guard header.width > 0, header.height > 0 else { throw .malformedHeader }
        guard header.width.multipliedReportingOverflow(by: header.height).partialValue <= limits.maxPixels,
              header.width <= 1_000_000, header.height <= 1_000_000
        else { throw .tooManyPixels(width: header.width, height: header.height, limit: limits.maxPixels) }
        return header
    }

    static func png(_ bytes: [UInt8]) throws(ImageError) -> ImageHeader {
        // Signature (8), then the IHDR chunk: length (4), "IHDR", width (4), height (4).
        guard bytes.count >= 24, Array(bytes[12..<16]) == Array("IHDR".utf8) else { throw .malformedHeader }
        return ImageHeader(format: .png, width: bigEndian32(bytes, 16), height: bigEndian32(bytes, 20))
    }

    static func jpeg(_ bytes: [UInt8]) throws(ImageError) -> ImageHeader {
        var index = 2
        while index + 4 <= bytes.count {
            guard bytes[index] == 0xFF else { throw .malformedHeader }
            let marker = bytes[index + 1]
            if marker == 0xFF { index += 1; continue }  // fill byte
            if marker == 0xD8 || (0xD0...0xD7).contains(marker) || marker == 0x01 { index += 2; continue }
            if marker == 0xD9 || marker == 0xDA { break }  // end of image / start of scan: no frame header found
            let length = Int(bytes[index + 2]) << 8 | Int(bytes[index + 3])
            guard length >= 2 else { throw .malformedHeader }
            let isStartOfFrame = (0xC0...0xCF).contains(marker) && marker != 0xC4 && marker != 0xC8 && marker != 0xCC
            if isStartOfFrame {
                guard index + 9 <= bytes.count else { throw .malformedHeader }
                let height = Int(bytes[index + 5]) << 8 | Int(bytes[index + 6])
                let width = Int(bytes[index + 7]) << 8 | Int(bytes[index + 8])
                return ImageHeader(format: .jpeg, width: width, height: height)
            }
            index += 2 + length
        }
        throw .malformedHeader
    }

    static func webp(_ bytes: [UInt8]) throws(ImageError) -> ImageHeader {
        guard bytes.count >= 30 else { throw .malformedHeader }
        switch String(decoding: bytes[12..<16], as: UTF8.self) {
        case "VP8 ":
            guard bytes[23] == 0x9D, bytes[24] == 0x01, bytes[25] == 0x2A else { throw .malformedHeader }
            let width = (Int(bytes[26]) | Int(bytes[27]) << 8) & 0x3FFF
            let height = (Int(bytes[28]) | Int(bytes[29]) << 8) & 0x3FFF
            return ImageHeader(format: .webp, width: width, height: height)
        case "VP8L":
            guard bytes[20] == 0x2F else { throw .malformedHeader }
            let bits = Int(bytes[21]) | Int(bytes[22]) << 8 | Int(bytes[23]) << 16 | Int(bytes[24]) << 24
            return ImageHeader(format: .webp, width: (bits & 0x3FFF) + 1, height: ((bits >> 14) & 0x3FFF) + 1)
        case "VP8X":
            let width = (Int(bytes[24]) | Int(bytes[25]) << 8 | Int(bytes[26]) << 16) + 1
            let height = (Int(bytes[27]) | Int(bytes[28]) << 8 | Int(bytes[29]) << 16) + 1
            return ImageHeader(format: .webp, width: width, height: height)
        default:
            throw .malformedHeader
        }
    }

    private static func bigEndian32(_ bytes: [UInt8], _ offset: Int) -> Int {
        Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
    }
}
