/// The gateway's OpenAPI 3 document, served at `GET /api/schema/`.
///
/// `openapi.yaml` beside this file is the source of truth, written by hand;
/// `scripts/gen-openapi.py` embeds it (and its JSON form) as ``yaml`` and ``json`` in
/// `OpenAPIDocument+Generated.swift`, so a release binary carries it with no resource bundle.
public enum OpenAPIDocument {
    /// The media type of ``yaml``, as drf-spectacular serves it.
    public static let yamlContentType = "application/vnd.oai.openapi"
    /// The media type of ``json``.
    public static let jsonContentType = "application/vnd.oai.openapi+json"
}
