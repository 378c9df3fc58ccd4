internal import CLibPQ

/// A value bound to a statement parameter. Parameters are always sent separately from the SQL
/// text (`PQexecPrepared`/`PQexecParams`), never interpolated.
public enum PostgresValue: Sendable, Hashable {
    case text(String)
    case int(Int64)
    case bool(Bool)
    case bytes([UInt8])
    case null
}

/// Rows returned by a statement, in PostgreSQL's text format.
public struct PostgresRows: Sendable {
    /// Column names, in order.
    public let columns: [String]
    /// Each row's values; `nil` is SQL NULL.
    public let rows: [[String?]]
    /// Rows affected by INSERT/UPDATE/DELETE.
    public let affectedRows: Int

    /// The value of `column` in row `index`.
    public func value(_ column: String, row index: Int = 0) -> String? {
        guard index < rows.count, let position = columns.firstIndex(of: column) else { return nil }
        return rows[index][position]
    }

    public var isEmpty: Bool { rows.isEmpty }
    public var count: Int { rows.count }
}

/// One libpq connection. Every call blocks its thread: use it only from a pool's worker
/// thread (see ``PostgresPool``), never from an event loop. Not thread-safe.
///
/// Statements are prepared on first use and kept for the connection's life (up to
/// ``preparedStatementLimit`` distinct SQL texts; past that, statements run unprepared), so a
/// repeated statement is parsed and planned once per connection rather than on every call.
/// The services' SQL texts are constants: values always travel as parameters.
public final class PostgresConnection {
    private let raw: OpaquePointer
    /// SQL text → the name it was prepared under on this connection.
    private var prepared: [String: String] = [:]
    /// Names are never reused on a connection, even after a statement is forgotten.
    private var preparedCount = 0
    /// Forgotten statements still to be deallocated on the server.
    private var forgotten: [String] = []
    /// How many distinct statements one connection keeps prepared.
    public static let preparedStatementLimit = 128

    /// Connects (blocking). Throws ``PostgresError`` of kind `.connection` when it cannot.
    public init(url: String, connectTimeoutSeconds: Int = 5) throws(PostgresError) {
        let separator = url.contains("?") ? "&" : "?"
        let conninfo = url.hasPrefix("postgres") ? "\(url)\(separator)connect_timeout=\(connectTimeoutSeconds)" : url
        guard let connection = PQconnectdb(conninfo) else {
            throw PostgresError(kind: .connection, message: "out of memory")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = Self.trimmed(PQerrorMessage(connection))
            PQfinish(connection)
            throw PostgresError(kind: .connection, message: message)
        }
        // Server NOTICEs ("relation already exists, skipping") are not errors: keep them out of
        // stderr, where they would interleave with the structured logs.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        raw = connection
    }

    deinit {
        PQfinish(raw)
    }

    /// Whether the connection is still usable.
    public var isHealthy: Bool {
        PQstatus(raw) == CONNECTION_OK && PQtransactionStatus(raw) != PQTRANS_UNKNOWN
    }

    /// Whether a transaction is open (or failed and awaiting ROLLBACK).
    public var isInTransaction: Bool {
        let status = PQtransactionStatus(raw)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR
    }

    /// Runs one statement with `$1`, `$2`, … bound to `parameters`.
    ///
    /// A `.text` parameter holding a NUL character is refused (a `.query` error with SQLSTATE
    /// 22021, as the server reports it): PostgreSQL text cannot hold NUL, and libpq would read
    /// the C string only up to it, silently binding a shorter value. Callers validate first.
    @discardableResult
    public func query(_ sql: String, _ parameters: [PostgresValue] = []) throws(PostgresError) -> PostgresRows {
        var storage: [[UInt8]?] = []
        var formats: [Int32] = []
        storage.reserveCapacity(parameters.count)
        for (index, parameter) in parameters.enumerated() {
            switch parameter {
            case .text(let text):
                guard !text.utf8.contains(0) else {
                    throw PostgresError(kind: .query, sqlState: "22021", message: "text parameter $\(index + 1) contains a NUL character")
                }
                storage.append(Array(text.utf8) + [0]); formats.append(0)
            case .int(let value): storage.append(Array(String(value).utf8) + [0]); formats.append(0)
            case .bool(let value): storage.append(Array((value ? "t" : "f").utf8) + [0]); formats.append(0)
            case .bytes(let bytes): storage.append(bytes); formats.append(1)
            case .null: storage.append(nil); formats.append(0)
            }
        }
        let lengths = storage.map { Int32($0?.count ?? 0) }
        deallocateForgotten()
        return try run(sql, storage: storage, lengths: lengths, formats: formats, mayRetry: true)
    }

    private func run(_ sql: String, storage: [[UInt8]?], lengths: [Int32], formats: [Int32], mayRetry: Bool) throws(PostgresError) -> PostgresRows {
        let outsideTransaction = PQtransactionStatus(raw) == PQTRANS_IDLE
        let name = try preparedName(for: sql, parameterCount: storage.count)
        let result = withPointers(storage) { pointers in
            if let name {
                PQexecPrepared(raw, name, Int32(storage.count), pointers, lengths, formats, 0)
            } else {
                PQexecParams(raw, sql, Int32(storage.count), nil, pointers, lengths, formats, 0)
            }
        }
        guard let result else {
            throw PostgresError(kind: .connection, message: Self.trimmed(PQerrorMessage(raw)))
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK:
            return Self.rows(from: result)
        default:
            let error = failure(result)
            // 0A000 from a prepared statement ("cached plan must not change result type"): a
            // table it reads changed shape since it was prepared. Forget it. Outside a
            // transaction the failed statement changed nothing, so prepare it again and run it
            // once more (a second failure is thrown); inside one, the transaction is aborted
            // and the caller rolls back, and the next call prepares it anew.
            if let name, error.sqlState == "0A000" {
                forget(sql, name: name)
                if outsideTransaction && mayRetry {
                    return try run(sql, storage: storage, lengths: lengths, formats: formats, mayRetry: false)
                }
            }
            throw error
        }
    }

    /// The name `sql` is prepared under on this connection, preparing it now if it is new;
    /// `nil` when the connection already keeps ``preparedStatementLimit`` statements. A
    /// statement that fails to prepare (a syntax error, an aborted transaction) throws that
    /// error and is not remembered.
    private func preparedName(for sql: String, parameterCount: Int) throws(PostgresError) -> String? {
        if let name = prepared[sql] { return name }
        guard prepared.count < Self.preparedStatementLimit else { return nil }
        let name = "ie_\(preparedCount + 1)"
        guard let result = PQprepare(raw, name, sql, Int32(parameterCount), nil) else {
            throw PostgresError(kind: .connection, message: Self.trimmed(PQerrorMessage(raw)))
        }
        defer { PQclear(result) }
        guard PQresultStatus(result) == PGRES_COMMAND_OK else { throw failure(result) }
        prepared[sql] = name
        preparedCount += 1
        return name
    }

    /// Drops a statement from the cache; the server's copy is deallocated as soon as no
    /// transaction is open (inside an aborted one, DEALLOCATE would fail).
    private func forget(_ sql: String, name: String) {
        prepared[sql] = nil
        forgotten.append(name)
        deallocateForgotten()
    }

    private func deallocateForgotten() {
        guard !forgotten.isEmpty, PQtransactionStatus(raw) == PQTRANS_IDLE else { return }
        for name in forgotten {
            if let result = PQexec(raw, "DEALLOCATE \(name)") { PQclear(result) }
        }
        forgotten.removeAll()
    }

    /// The error a failed result reports. A statement that failed because the connection died
    /// is a connection error.
    private func failure(_ result: OpaquePointer) -> PostgresError {
        let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
        let message = Self.trimmed(PQresultErrorMessage(result))
        if PQstatus(raw) != CONNECTION_OK || state == nil || state!.hasPrefix("08") || state == "57P01" {
            return PostgresError(kind: .connection, sqlState: state, message: message)
        }
        return PostgresError(kind: .query, sqlState: state, message: message)
    }

    /// Runs a script of one or more statements with no parameters (`PQexec`), e.g. a migration.
    /// Never pass user input here: it has no parameter binding.
    public func execute(script: String) throws(PostgresError) {
        guard let result = PQexec(raw, script) else {
            throw PostgresError(kind: .connection, message: Self.trimmed(PQerrorMessage(raw)))
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return
        default:
            throw failure(result)
        }
    }

    private static func rows(from result: OpaquePointer) -> PostgresRows {
        let columnCount = Int(PQnfields(result))
        let rowCount = Int(PQntuples(result))
        let columns = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
        var rows: [[String?]] = []
        rows.reserveCapacity(rowCount)
        for row in 0..<rowCount {
            var values: [String?] = []
            values.reserveCapacity(columnCount)
            for column in 0..<columnCount {
                if PQgetisnull(result, Int32(row), Int32(column)) == 1 {
                    values.append(nil)
                } else {
                    values.append(String(cString: PQgetvalue(result, Int32(row), Int32(column))))
                }
            }
            rows.append(values)
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        return PostgresRows(columns: columns, rows: rows, affectedRows: affected)
    }

    private static func trimmed(_ message: UnsafePointer<CChar>?) -> String {
        guard let message else { return "" }
        var text = String(cString: message)
        while text.last == "\n" || text.last == " " { text.removeLast() }
        return text
    }
}

private func withPointers<R>(_ values: [[UInt8]?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    var pointers: [UnsafePointer<CChar>?] = []
    pointers.reserveCapacity(values.count)
    var allocations: [UnsafeMutablePointer<UInt8>] = []
    defer { allocations.forEach { $0.deallocate() } }
    for value in values {
        guard let value else { pointers.append(nil); continue }
        let copy = UnsafeMutablePointer<UInt8>.allocate(capacity: max(value.count, 1))
        copy.initialize(from: value, count: value.count)
        allocations.append(copy)
        pointers.append(UnsafeRawPointer(copy).assumingMemoryBound(to: CChar.self))
    }
    return body(pointers)
}
