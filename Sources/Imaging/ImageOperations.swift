internal import CVips

/// One edit the local engine can apply.
public enum ImageOperation: Sendable, Hashable, CustomStringConvertible {
    case grayscale
    case invert
    /// Left–right.
    case mirror
    /// Upside down.
    case flip
    /// Clockwise, in degrees: 90, 180 or 270.
    case rotate(Int)
    case blur
    case sharpen
    case brighten
    case darken

    public var description: String {
        switch self {
        case .grayscale: "grayscale"
        case .invert: "invert"
        case .mirror: "mirror"
        case .flip: "flip"
        case .rotate(let degrees): "rotate:\(degrees)"
        case .blur: "blur"
        case .sharpen: "sharpen"
        case .brighten: "brighten"
        case .darken: "darken"
        }
    }

    /// Whether the operation reads its input's rows top to bottom, so the source can be
    /// decoded as a stream (libvips' sequential access). Rotations and vertical flips read
    /// the last row first; blur and sharpen read a few rows around each output row, which
    /// libvips buffers.
    var readsRowsInOrder: Bool {
        switch self {
        case .rotate, .flip: false
        case .grayscale, .invert, .mirror, .blur, .sharpen, .brighten, .darken: true
        }
    }

    /// Applies the operation. Grayscale makes a 1-band image (2 with alpha), and the other
    /// operations keep it 1-band, so its PNG has a third of an RGB one's bytes to compress.
    func apply(to image: VipsImage) throws -> VipsImage {
        switch self {
        case .grayscale:
            let gray = try image.apply("colourspace") { ie_vips_colourspace($0, $1, VIPS_INTERPRETATION_B_W) }
            return try gray.eightBit()
        case .invert:
            return try image.onColourBands("invert") { try $0.apply("invert") { ie_vips_invert($0, $1) } }
        case .mirror:
            return try image.apply("flip") { ie_vips_flip($0, $1, VIPS_DIRECTION_HORIZONTAL) }
        case .flip:
            return try image.apply("flip") { ie_vips_flip($0, $1, VIPS_DIRECTION_VERTICAL) }
        case .rotate(let degrees):
            let angle = degrees == 180 ? VIPS_ANGLE_D180 : degrees == 270 ? VIPS_ANGLE_D270 : VIPS_ANGLE_D90
            return try image.apply("rot") { ie_vips_rot($0, $1, angle) }
        case .blur:
            let sigma = max(1.5, Double(max(image.width, image.height)) / 200)
            return try image.onColourBands("blur") { try $0.apply("gaussblur") { ie_vips_gaussblur($0, $1, sigma) } }.eightBit()
        case .sharpen:
            return try image.onColourBands("sharpen") { try $0.apply("sharpen") { ie_vips_sharpen($0, $1) } }.eightBit()
        case .brighten:
            return try image.onColourBands("linear") { try $0.apply("linear") { ie_vips_linear1($0, $1, 1.25, 10) } }.eightBit()
        case .darken:
            return try image.onColourBands("linear") { try $0.apply("linear") { ie_vips_linear1($0, $1, 0.75, 0) } }.eightBit()
        }
    }
}

/// Reads a prompt for the words the local engine knows. See README, "Local edit engine".
public enum PromptInterpreter {
    /// The vocabulary, for documentation and the "no known word" note.
    public static let vocabulary = [
        "grayscale (greyscale, gray, grey, black and white, monochrome)", "invert (negative)",
        "mirror (horizontal)", "flip (upside down, vertical)",
        "rotate / turn (left, counterclockwise, right, clockwise, 180)", "blur (soften, blurry)",
        "sharpen", "brighten (brighter, lighter)", "darken (darker)",
    ]

    /// The operations named in `prompt`, in the order they appear; each at most once.
    public static func operations(in prompt: String) -> [ImageOperation] {
        let words = prompt.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init)
        var found: [ImageOperation] = []
        func add(_ operation: ImageOperation) {
            if !found.contains(operation) { found.append(operation) }
        }
        var index = 0
        while index < words.count {
            let word = words[index]
            let next = index + 1 < words.count ? words[index + 1] : ""
            let nextTwo = index + 2 < words.count ? words[index + 2] : ""
            switch word {
            case "grayscale", "greyscale", "gray", "grey", "monochrome", "bw":
                add(.grayscale)
            case "black" where next == "and" && nextTwo == "white":
                add(.grayscale)
                index += 2
            case "invert", "inverted", "negative":
                add(.invert)
            case "mirror", "mirrored", "horizontal", "horizontally":
                add(.mirror)
            case "flip", "flipped", "vertical", "vertically":
                if next == "horizontally" || next == "horizontal" {
                    add(.mirror)
                    index += 1
                } else {
                    add(.flip)
                }
            case "upside" where next == "down":
                add(.flip)
                index += 1
            case "rotate", "rotated", "turn", "turned":
                let window = words[(index + 1)..<min(words.count, index + 5)]
                if window.contains("180") || window.contains("around") {
                    add(.rotate(180))
                } else if window.contains(where: { ["left", "counterclockwise", "anticlockwise", "270"].contains($0) }) {
                    add(.rotate(270))
                } else {
                    add(.rotate(90))
                }
            case "blur", "blurred", "blurry", "soften", "soft":
                add(.blur)
            case "sharpen", "sharper", "crisp":
                add(.sharpen)
            case "brighten", "brighter", "lighter", "lighten":
                add(.brighten)
            case "darken", "darker":
                add(.darken)
            default:
                break
            }
            index += 1
        }
        return found
    }
}
