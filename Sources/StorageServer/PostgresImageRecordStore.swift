public import Postgres

/// The ``ImageRecordStore`` in PostgreSQL: tables `storage_images` and `storage_object_gc`,
/// owned by the storage service, migrated at start.
public struct PostgresImageRecordStore: ImageRecordStore {
    private let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    public static let migrations = [
        Migration(version: 1, name: "images and object outbox", sql: """
            CREATE TABLE storage_images (
                id bigserial PRIMARY KEY,
                user_id bigint NOT NULL,
                prompt text NOT NULL,
                original_key text NOT NULL,
                edited_key text NOT NULL,
                original_content_type text NOT NULL,
                edited_content_type text NOT NULL,
                width integer NOT NULL,
                height integer NOT NULL,
                edited_width integer NOT NULL,
                edited_height integer NOT NULL,
                original_size_bytes bigint NOT NULL,
                edited_size_bytes bigint NOT NULL,
                backend text NOT NULL DEFAULT '',
                model text NOT NULL DEFAULT '',
                applied_operations text NOT NULL DEFAULT '',
                created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
                edited_at timestamptz NOT NULL DEFAULT clock_timestamp()
            );
            CREATE INDEX storage_images_user_newest ON storage_images (user_id, created_at DESC, id DESC);
            CREATE TABLE storage_object_gc (
                key text PRIMARY KEY,
                not_before timestamptz NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX storage_object_gc_due ON storage_object_gc (not_before);
            """),
    ]

    public func migrate(deadline: ContinuousClock.Instant? = nil) async throws {
        try await pool.migrate(service: "storage", Self.migrations, deadline: deadline)
    }

    private static let columns = """
        id, user_id, prompt, original_key, edited_key, original_content_type, edited_content_type, width, height, \
        edited_width, edited_height, original_size_bytes, edited_size_bytes, backend, model, applied_operations, \
        extract(epoch FROM created_at)::bigint AS created, extract(epoch FROM edited_at)::bigint AS edited
        """

    public func scheduleCollection(keys: [String], notBefore: Int64, deadline: ContinuousClock.Instant?) async throws {
        guard !keys.isEmpty else { return }
        try await pool.withConnection(deadline: deadline) { connection in
            for key in keys {
                try connection.query("""
                    INSERT INTO storage_object_gc (key, not_before) VALUES ($1, to_timestamp($2))
                    ON CONFLICT (key) DO UPDATE SET not_before = excluded.not_before
                    """, [.text(key), .int(notBefore)])
            }
        }
    }

    public func cancelCollection(keys: [String], deadline: ContinuousClock.Instant?) async throws {
        guard !keys.isEmpty else { return }
        try await pool.withConnection(deadline: deadline) { connection in
            for key in keys { try connection.query("DELETE FROM storage_object_gc WHERE key = $1", [.text(key)]) }
        }
    }

    public func insert(_ record: ImageRecord, releasing keys: [String], deadline: ContinuousClock.Instant?) async throws -> ImageRecord {
        try await pool.transaction(deadline: deadline) { connection in
            let rows = try connection.query("""
                INSERT INTO storage_images (user_id, prompt, original_key, edited_key, original_content_type, edited_content_type,
                    width, height, edited_width, edited_height, original_size_bytes, edited_size_bytes, backend, model, applied_operations)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
                RETURNING \(Self.columns)
                """, Self.values(record))
            for key in keys { try connection.query("DELETE FROM storage_object_gc WHERE key = $1", [.text(key)]) }
            return try Self.records(rows)[0]
        }
    }

    public func list(userID: Int64, limit: Int, offset: Int, deadline: ContinuousClock.Instant?) async throws -> (records: [ImageRecord], total: Int) {
        try await pool.withConnection(deadline: deadline) { connection in
            // One round trip: the total comes with the page, from an uncorrelated subquery that
            // PostgreSQL runs once (an index-only count on storage_images_user_newest). (A
            // `count(*) OVER ()` would read every row of the user before the LIMIT.) Only a page
            // past the end, which has no row to carry the total, needs a second query.
            let rows = try connection.query("""
                SELECT \(Self.columns), (SELECT count(*) FROM storage_images WHERE user_id = $1) AS total
                FROM storage_images WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3
                """, [.int(userID), .int(Int64(limit)), .int(Int64(offset))])
            if rows.isEmpty {
                guard offset > 0 else { return ([], 0) }
                let count = try connection.query("SELECT count(*) AS n FROM storage_images WHERE user_id = $1", [.int(userID)])
                return ([], Int(count.value("n") ?? "0") ?? 0)
            }
            return (try Self.records(rows), Int(rows.value("total") ?? "0") ?? 0)
        }
    }

    public func get(id: Int64, userID: Int64, deadline: ContinuousClock.Instant?) async throws -> ImageRecord? {
        let rows = try await pool.query(
            "SELECT \(Self.columns) FROM storage_images WHERE id = $1 AND user_id = $2", [.int(id), .int(userID)], deadline: deadline)
        return try Self.records(rows).first
    }

    public func update(_ record: ImageRecord, releasing: [String], collecting: [String], deadline: ContinuousClock.Instant?) async throws -> ImageRecord? {
        try await pool.transaction(deadline: deadline) { connection in
            var values = Self.values(record)
            values.append(.int(record.id))
            let rows = try connection.query("""
                UPDATE storage_images SET user_id = $1, prompt = $2, original_key = $3, edited_key = $4, original_content_type = $5,
                    edited_content_type = $6, width = $7, height = $8, edited_width = $9, edited_height = $10,
                    original_size_bytes = $11, edited_size_bytes = $12, backend = $13, model = $14, applied_operations = $15,
                    edited_at = clock_timestamp()
                WHERE id = $16 AND user_id = $1
                RETURNING \(Self.columns)
                """, values)
            guard let updated = try Self.records(rows).first else { return nil }
            for key in releasing { try connection.query("DELETE FROM storage_object_gc WHERE key = $1", [.text(key)]) }
            for key in collecting {
                try connection.query("""
                    INSERT INTO storage_object_gc (key, not_before) VALUES ($1, now())
                    ON CONFLICT (key) DO UPDATE SET not_before = now()
                    """, [.text(key)])
            }
            return updated
        }
    }

    public func delete(id: Int64, userID: Int64, deadline: ContinuousClock.Instant?) async throws -> ImageRecord? {
        try await pool.transaction(deadline: deadline) { connection in
            let rows = try connection.query(
                "DELETE FROM storage_images WHERE id = $1 AND user_id = $2 RETURNING \(Self.columns)", [.int(id), .int(userID)])
            guard let deleted = try Self.records(rows).first else { return nil }
            for key in deleted.keys {
                try connection.query("""
                    INSERT INTO storage_object_gc (key, not_before) VALUES ($1, now())
                    ON CONFLICT (key) DO UPDATE SET not_before = now()
                    """, [.text(key)])
            }
            return deleted
        }
    }

    public func dueCollections(now: Int64, limit: Int, deadline: ContinuousClock.Instant?) async throws -> [String] {
        let rows = try await pool.query(
            "SELECT key FROM storage_object_gc WHERE not_before <= to_timestamp($1) ORDER BY not_before LIMIT $2",
            [.int(now), .int(Int64(limit))], deadline: deadline)
        return rows.rows.compactMap { $0[0] }
    }

    public func checkReachable(deadline: ContinuousClock.Instant?) async throws {
        try await pool.query("SELECT 1", deadline: deadline)
    }

    private static func values(_ record: ImageRecord) -> [PostgresValue] {
        [.int(record.userID), .text(record.prompt), .text(record.originalKey), .text(record.editedKey),
         .text(record.originalContentType), .text(record.editedContentType), .int(Int64(record.width)), .int(Int64(record.height)),
         .int(Int64(record.editedWidth)), .int(Int64(record.editedHeight)), .int(Int64(record.originalSizeBytes)),
         .int(Int64(record.editedSizeBytes)), .text(record.backend), .text(record.model),
         .text(record.appliedOperations.joined(separator: ","))]
    }

    private static func records(_ rows: PostgresRows) throws -> [ImageRecord] {
        try rows.rows.indices.map { index in
            func text(_ column: String) throws -> String {
                guard let value = rows.value(column, row: index) else {
                    throw PostgresError(kind: .decoding, message: "storage_images.\(column) is null")
                }
                return value
            }
            func int(_ column: String) throws -> Int64 {
                guard let value = Int64(try text(column)) else { throw PostgresError(kind: .decoding, message: "storage_images.\(column) is not an integer") }
                return value
            }
            let operations = try text("applied_operations")
            return ImageRecord(
                id: try int("id"), userID: try int("user_id"), prompt: try text("prompt"),
                originalKey: try text("original_key"), editedKey: try text("edited_key"),
                originalContentType: try text("original_content_type"), editedContentType: try text("edited_content_type"),
                width: Int(try int("width")), height: Int(try int("height")),
                editedWidth: Int(try int("edited_width")), editedHeight: Int(try int("edited_height")),
                originalSizeBytes: Int(try int("original_size_bytes")), editedSizeBytes: Int(try int("edited_size_bytes")),
                backend: try text("backend"), model: try text("model"),
                appliedOperations: operations.isEmpty ? [] : operations.split(separator: ",").map(String.init),
                createdAt: try int("created"), editedAt: try int("edited"))
        }
    }
}
