public import Imaging
import NIOPosix

/// What a backend made of one edit.
public struct EditOutcome: Sendable {
    /// The edited image, PNG.
    public var png: [UInt8]
    /// "openai" or "local".
    public var backend: String
    /// The model, or "local".
    public var model: String
    /// The local engine's operations, in order.
    public var operations: [String]
    /// A remark for the user.
    public var note: String

    public init(png: [UInt8], backend: String, model: String, operations: [String] = [], note: String = "") {
        self.png = png
        self.backend = backend
        self.model = model
        self.operations = operations
        self.note = note
    }
}

/// An image editor: OpenAI's images API or the local engine.
public protocol EditBackend: Sendable {
    /// Edits an image whose header passed ``ImageProbe/inspect(_:limits:)`` (format,
    /// dimensions, pixel limit); its pixels have not been decoded yet, so the backend must
    /// refuse truncated or corrupt data as ``ImageError/undecodable`` before doing anything
    /// costly (``ImageProcessor``'s `edit` and `normalizedForModel` do). `side` is the requested
    /// output size (256, 512 or 1024). Throws ``RPCError``s or errors convertible to them.
    func edit(image: [UInt8], header: ImageHeader, mask: [UInt8]?, prompt: String, side: Int, deadline: ContinuousClock.Instant) async throws -> EditOutcome
}

/// Runs CPU-bound image work on a few dedicated threads, off the event loops and the Swift
/// task pool. Shared by the service for validation and by the local engine.
public final class ImageWorkers: Sendable {
    public let processor: ImageProcessor
    private let threads: NIOThreadPool

    public init(processor: ImageProcessor = ImageProcessor(), threads: Int) {
        self.processor = processor
        self.threads = NIOThreadPool(numberOfThreads: max(1, threads))
        self.threads.start()
    }

    /// Runs `work` with the processor on a worker thread.
    public func run<T: Sendable>(_ work: @escaping @Sendable (ImageProcessor) throws -> T) async throws -> T {
        let processor = self.processor
        return try await threads.runIfActive { try work(processor) }
    }

    public func shutdown() async {
        try? await threads.shutdownGracefully()
    }
}

/// The local engine: a real edit driven by the prompt's words, with no network. See
/// ``PromptInterpreter`` for the vocabulary. A prompt with none of its words returns the image
/// unchanged (scaled to the requested size) with a note listing the words it knows.
public struct LocalEditBackend: EditBackend {
    private let workers: ImageWorkers

    public init(workers: ImageWorkers) {
        self.workers = workers
    }

    public static let unknownPromptNote = "The local engine found no edit it knows in the prompt and returned the image unchanged. "
        + "It understands: " + PromptInterpreter.vocabulary.joined(separator: "; ") + "."

    public func edit(image: [UInt8], header: ImageHeader, mask: [UInt8]?, prompt: String, side: Int, deadline: ContinuousClock.Instant) async throws -> EditOutcome {
        let operations = PromptInterpreter.operations(in: prompt)
        let result = try await workers.run { try $0.edit(image, operations: operations, maxSide: side) }
        return EditOutcome(
            png: result.png, backend: "local", model: "local", operations: operations.map(\.description),
            note: operations.isEmpty ? Self.unknownPromptNote : "")
    }
}
