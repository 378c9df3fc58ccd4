import Foundation
import RPCCore

/// What one answer from `POST /images/edits` means. Pure: no I/O, tested by table.
enum EditOutcome: Sendable {
    /// The edited image, inline (`b64_json`, decoded, not yet checked to be a PNG).
    case image([UInt8])
    /// The edited image is to be downloaded from this URL.
    case download(String)
    /// Worth another attempt, after `after` when OpenAI said how long to wait.
    case retry(OpenAIError, after: Duration?)
    /// Final.
    case fail(OpenAIError)
}

/// Parsing and classification of OpenAI's answers.
enum OpenAIResponse {
    /// The longest OpenAI message passed on to a caller.
    static let maxClientMessageLength = 500

    /// Classifies an answer by status and OpenAI's `{"error": {message, type, param, code}}`.
    ///
    /// 200 is parsed as a success; 429 is retried unless the code is `insufficient_quota`; 5xx
    /// is retried; 400 is the caller's input (content policy singled out by its code); 401,
    /// 403, 404 and any other status are this service's problem and never retried.
    static func classify(status: Int, body: [UInt8], retryAfter: Duration?) -> EditOutcome {
        if status == 200 { return parseSuccess(body) }
        let error = parseError(body)
        let code = error?.code
        let detail = error?.message ?? ""
        switch status {
        case 400:
            if let code, contentPolicyCodes.contains(code) {
                return .fail(OpenAIError(kind: .contentPolicy, httpStatus: status, code: code, message: detail))
            }
            return .fail(OpenAIError(kind: .invalidRequest, httpStatus: status, code: code, message: clientMessage(detail)))
        case 413:
            return .fail(OpenAIError(kind: .invalidRequest, httpStatus: status, message: "The image is too large for the image service"))
        case 401, 403:
            // OpenAI's message echoes part of the key: keep only the type and code.
            let what = [error?.type, code].compactMap { $0 }.joined(separator: "/")
            return .fail(OpenAIError(kind: .misconfigured, httpStatus: status, code: code,
                                     message: "authentication with OpenAI failed\(what.isEmpty ? "" : " (\(what))"); check OPENAI_API_KEY"))
        case 429:
            if code == "insufficient_quota" || error?.type == "insufficient_quota" {
                return .fail(OpenAIError(kind: .quotaExhausted, httpStatus: status, code: code, message: detail))
            }
            return .retry(OpenAIError(kind: .rateLimited, httpStatus: status, code: code, message: detail), after: retryAfter)
        case 500...599:
            return .retry(OpenAIError(kind: .unavailable, httpStatus: status, code: code, message: detail), after: retryAfter)
        default:
            return .fail(OpenAIError(kind: .misconfigured, httpStatus: status, code: code,
                                     message: detail.isEmpty ? "unexpected HTTP status" : detail))
        }
    }

    /// Codes OpenAI uses when its safety system refuses a prompt or image (dall-e-2 and the
    /// GPT image models).
    static let contentPolicyCodes: Set<String> = ["content_policy_violation", "moderation_blocked"]

    static func parseSuccess(_ body: [UInt8]) -> EditOutcome {
        guard let answer = try? JSONDecoder().decode(SuccessBody.self, from: Data(body)), let first = answer.data.first else {
            return .fail(OpenAIError(kind: .badResponse, httpStatus: 200, message: "success body is not {\"data\": [...]} JSON"))
        }
        if let encoded = first.b64Json {
            guard let bytes = Base64.decode(encoded) else {
                return .fail(OpenAIError(kind: .badResponse, httpStatus: 200, message: "b64_json is not base64"))
            }
            return .image(bytes)
        }
        if let url = first.url, url.hasPrefix("https://") || url.hasPrefix("http://") {
            return .download(url)
        }
        return .fail(OpenAIError(kind: .badResponse, httpStatus: 200, message: "data[0] has neither b64_json nor an http(s) url"))
    }

    /// OpenAI's error object, or `nil` when the body is not one (an HTML page from a proxy).
    static func parseError(_ body: [UInt8]) -> ErrorBody.Detail? {
        try? JSONDecoder().decode(ErrorBody.self, from: Data(body)).error
    }

    /// `Retry-After-Ms` (milliseconds) or `Retry-After` (seconds; an HTTP date is ignored).
    static func retryAfter(milliseconds: String?, seconds: String?) -> Duration? {
        if let text = milliseconds?.trimmingCharacters(in: .whitespaces), let value = Double(text), value.isFinite, value >= 0 {
            return .milliseconds(Int64(value.rounded(.up)))
        }
        if let text = seconds?.trimmingCharacters(in: .whitespaces), let value = Double(text), value.isFinite, value >= 0 {
            return .milliseconds(Int64((value * 1000).rounded(.up)))
        }
        return nil
    }

    /// OpenAI's message made safe to show: control characters become spaces, length is capped.
    static func clientMessage(_ raw: String) -> String {
        let cleaned = String(String.UnicodeScalarView(raw.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : $0 }))
            .trimmingCharacters(in: .whitespaces)
        guard cleaned.count > maxClientMessageLength else { return cleaned }
        return String(cleaned.prefix(maxClientMessageLength - 1)) + "…"
    }

    /// Whether `bytes` start with the PNG signature.
    static func isPNG(_ bytes: [UInt8]) -> Bool {
        bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    }

    struct SuccessBody: Decodable {
        struct Item: Decodable {
            let b64Json: String?
            let url: String?
            enum CodingKeys: String, CodingKey {
                case b64Json = "b64_json"
                case url
            }
        }
        let data: [Item]
    }

    struct ErrorBody: Decodable {
        struct Detail: Decodable {
            let message: String?
            let type: String?
            let code: String?

            enum CodingKeys: String, CodingKey { case message, type, code }

            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                // Tolerant: OpenAI sends null for absent values, and has sent numbers as codes.
                message = try? container.decodeIfPresent(String.self, forKey: .message)
                type = try? container.decodeIfPresent(String.self, forKey: .type)
                code = (try? container.decodeIfPresent(String.self, forKey: .code))
                    ?? (try? container.decodeIfPresent(Int.self, forKey: .code)).map { String($0) }
            }
        }
        let error: Detail
    }
}
