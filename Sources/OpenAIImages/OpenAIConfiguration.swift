public import ServiceConfig

/// How ``OpenAIImageEditor`` reaches OpenAI's images API. Defaults live here and only here.
///
/// `description` never shows ``apiKey``; do not log the key any other way.
public struct OpenAIConfiguration: Sendable, CustomStringConvertible {
    public static let defaultBaseURL = "https://api.openai.com/v1"
    public static let defaultModel = "dall-e-2"

    /// The secret sent as `Authorization: Bearer <key>`. Never logged.
    public var apiKey: String
    /// The API root, e.g. `https://api.openai.com/v1`; edits go to `<baseURL>/images/edits`.
    public var baseURL: String
    /// The model sent with every edit (the `model` field is always sent).
    public var model: String
    /// Attempts per edit, the first included, when OpenAI answers 429 or 5xx or cannot be
    /// reached. At least 1. Every attempt and every wait also stays within the edit's deadline.
    public var maxAttempts: Int
    /// The wait before the second attempt; it doubles for each further attempt, up to
    /// ``maxBackoff``, and each wait is scaled by a random factor in 0.5...1 (jitter). A
    /// `Retry-After` (or `retry-after-ms`) header from OpenAI replaces the computed wait.
    public var initialBackoff: Duration
    /// The longest computed wait between attempts.
    public var maxBackoff: Duration

    public init(
        apiKey: String,
        baseURL: String = OpenAIConfiguration.defaultBaseURL,
        model: String = OpenAIConfiguration.defaultModel,
        maxAttempts: Int = 4,
        initialBackoff: Duration = .milliseconds(500),
        maxBackoff: Duration = .seconds(8)
    ) {
        self.apiKey = apiKey
        self.baseURL = baseURL
        self.model = model
        self.maxAttempts = max(1, maxAttempts)
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
    }

    /// Reads `OPENAI_API_KEY`, `OPENAI_BASE_URL` and `OPENAI_IMAGE_MODEL`; `nil` when
    /// `OPENAI_API_KEY` is unset (the edit service then uses its local engine).
    ///
    /// - Throws: ``ConfigError`` naming the variable when the base URL is not an http(s) URL
    ///   or the model is blank.
    public init?(_ environment: ConfigEnvironment) throws(ConfigError) {
        guard let apiKey = environment.values["OPENAI_API_KEY"] else { return nil }
        let baseURL = environment.string("OPENAI_BASE_URL", default: Self.defaultBaseURL)
        guard baseURL.hasPrefix("https://") || baseURL.hasPrefix("http://"), baseURL.count > "https://".count else {
            throw ConfigError("OPENAI_BASE_URL", "must be an http:// or https:// URL, got \"\(baseURL)\"")
        }
        let model = environment.string("OPENAI_IMAGE_MODEL", default: Self.defaultModel)
        guard !model.allSatisfy(\.isWhitespace) else { throw ConfigError("OPENAI_IMAGE_MODEL", "must not be blank") }
        self.init(apiKey: apiKey, baseURL: baseURL, model: model)
    }

    /// Whether ``model`` takes `response_format` (the DALL·E models). GPT image models always
    /// answer base64 and reject the field, so it is left out for them.
    public var modelTakesResponseFormat: Bool { model.hasPrefix("dall-e") }

    /// `<baseURL>/images/edits`, with exactly one slash between.
    var editsURL: String {
        var base = Substring(baseURL)
        while base.hasSuffix("/") { base = base.dropLast() }
        return base + "/images/edits"
    }

    public var description: String {
        "OpenAIConfiguration(baseURL: \(baseURL), model: \(model), maxAttempts: \(maxAttempts), apiKey: <redacted>)"
    }
}
