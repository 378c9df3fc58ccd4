import Foundation
import Postgres
import RPCCore
import Testing

/// The database `make test` starts (scripts/pg.sh start pg-test). Without it these tests are
/// skipped locally, and fail under CI, where skipping would hide a broken set-up.
let testDatabaseURL = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"]

@Suite(.enabled(if: testDatabaseURL != nil, "needs TEST_DATABASE_URL (run `make test`)"), .serialized)
struct PostgresPoolTests {
    let pool = PostgresPool(url: testDatabaseURL ?? "", size: 4)

    @Test func parameterisedQueriesRoundTripValues() async throws {
        let tricky = "Robert'); DROP TABLE students;-- ✓"
        let rows = try await pool.query(
            "SELECT $1::text AS t, $2::bigint AS i, $3::boolean AS b, $4::bytea AS y, $5::text AS n",
            [.text(tricky), .int(-42), .bool(true), .bytes([0, 1, 255]), .null])
        #expect(rows.value("t") == tricky)
        #expect(rows.value("i") == "-42")
        #expect(rows.value("b") == "t")
        #expect(rows.value("y") == "\\x0001ff")
        #expect(rows.value("n") == nil)
        await pool.close()
    }

    /// libpq reads text parameters as C strings: a NUL would silently cut the value short.
    @Test func aTextParameterWithANulIsRefusedNotTruncated() async throws {
        do {
            try await pool.query("SELECT $1::text AS t", [.text("ab\u{0}cd")])
            Issue.record("expected the NUL to be refused")
        } catch let error as PostgresError {
            #expect(error.kind == .query)
            #expect(error.sqlState == "22021")
            #expect(error.rpcError.code == .internalError)
        }
        // The connection is still good.
        #expect(try await pool.query("SELECT $1::text AS t", [.text("abcd")]).value("t") == "abcd")
        await pool.close()
    }

    /// The statements this session keeps prepared.
    static func preparedStatements(_ connection: PostgresConnection) throws -> [String] {
        try connection.query("SELECT statement FROM pg_prepared_statements ORDER BY prepare_time, name").rows.map { $0[0] ?? "" }
    }

    /// Runs `body`, which must fail with a query error of SQLSTATE `state` (`expected`: why).
    static func expectFailure(_ state: String, _ expected: String, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected \(expected) (\(state))")
        } catch let error as PostgresError {
            #expect(error.kind == .query)
            #expect(error.sqlState == state)
        } catch {
            Issue.record("expected \(expected) (\(state)), got \(error)")
        }
    }

    /// A statement is prepared once per connection and reused with other values.
    @Test func statementsArePreparedOnceAndReused() async throws {
        let pool = PostgresPool(url: testDatabaseURL ?? "", size: 1)
        try await pool.withConnection { (connection: PostgresConnection) throws in
            let sql = "SELECT $1::bigint * 2 AS doubled"
            for value in Int64(1)...5 {
                #expect(try connection.query(sql, [.int(value)]).value("doubled") == String(value * 2))
            }
            #expect(try Self.preparedStatements(connection).filter { $0 == sql }.count == 1)
        }
        await pool.close()
    }

    /// A statement that fails to prepare is an error like any other and is not remembered: the
    /// connection goes on working, and a statement refused inside an aborted transaction works
    /// once the transaction is over.
    @Test func aStatementThatFailsToPrepareIsNotRemembered() async throws {
        let pool = PostgresPool(url: testDatabaseURL ?? "", size: 1)
        try await pool.withConnection { (connection: PostgresConnection) throws in
            #expect(throws: PostgresError.self) { try connection.query("SELEC $1::int", [.int(1)]) }
            Self.expectFailure("42601", "a syntax error") { _ = try connection.query("SELEC 1") }
            try connection.query("BEGIN")
            #expect(throws: PostgresError.self) { try connection.query("SELECT 1/0") }
            let sql = "SELECT $1::int + 1 AS n"
            Self.expectFailure("25P02", "the aborted transaction to refuse the statement") { _ = try connection.query(sql, [.int(1)]) }
            try connection.query("ROLLBACK")
            #expect(try connection.query(sql, [.int(1)]).value("n") == "2")
            #expect(try Self.preparedStatements(connection).contains(sql))
        }
        await pool.close()
    }

    /// A table that changes shape under a prepared statement makes PostgreSQL refuse the old
    /// plan (0A000). Outside a transaction the statement is prepared again and run, unseen by
    /// the caller; inside one the error reaches the caller (the transaction is aborted anyway),
    /// and after the rollback the next call works. Either way the server keeps one copy.
    @Test func aStatementIsPreparedAgainAfterItsTableChanges() async throws {
        let pool = PostgresPool(url: testDatabaseURL ?? "", size: 1)
        let table = "t_\(UInt32.random(in: 0...UInt32.max))"
        try await pool.withConnection { (connection: PostgresConnection) throws in
            try connection.query("CREATE TABLE \(table) (id int)")
            try connection.query("INSERT INTO \(table) VALUES (7)")
            let sql = "SELECT * FROM \(table) WHERE id = $1"
            #expect(try connection.query(sql, [.int(7)]).columns == ["id"])

            try connection.query("ALTER TABLE \(table) ADD COLUMN note text")
            #expect(try connection.query(sql, [.int(7)]).columns == ["id", "note"])
            #expect(try Self.preparedStatements(connection).filter { $0 == sql }.count == 1)

            try connection.query("ALTER TABLE \(table) ADD COLUMN size int")
            try connection.query("BEGIN")
            Self.expectFailure("0A000", "the changed table inside the transaction") { _ = try connection.query(sql, [.int(7)]) }
            try connection.query("ROLLBACK")
            #expect(try connection.query(sql, [.int(7)]).columns == ["id", "note", "size"])
            #expect(try Self.preparedStatements(connection).filter { $0 == sql }.count == 1)
            try connection.query("DROP TABLE \(table)")
        }
        await pool.close()
    }

    /// Past the limit, statements still run, unprepared.
    @Test func statementsPastTheLimitRunUnprepared() async throws {
        let pool = PostgresPool(url: testDatabaseURL ?? "", size: 1)
        try await pool.withConnection { (connection: PostgresConnection) throws in
            let limit = PostgresConnection.preparedStatementLimit
            for index in 0..<(limit + 5) {
                #expect(try connection.query("SELECT $1::int + \(index) AS n", [.int(1)]).value("n") == String(index + 1))
            }
            #expect(try Self.preparedStatements(connection).count == limit)
        }
        await pool.close()
    }

    @Test func queryErrorsCarrySQLStateAndMapToGenericInternal() async throws {
        let table = "t_\(UInt32.random(in: 0...UInt32.max))"
        try await pool.query("CREATE TABLE \(table) (id int PRIMARY KEY)")
        try await pool.query("INSERT INTO \(table) VALUES ($1)", [.int(1)])
        do {
            try await pool.query("INSERT INTO \(table) VALUES ($1)", [.int(1)])
            Issue.record("expected a unique violation")
        } catch let error as PostgresError {
            #expect(error.isUniqueViolation)
            #expect(error.kind == .query)
            #expect(error.rpcError.code == .internalError)
            #expect(error.rpcError.message == "Internal error")
        }
        try await pool.query("DROP TABLE \(table)")
        await pool.close()
    }

    @Test func transactionsCommitOrRollBack() async throws {
        let table = "t_\(UInt32.random(in: 0...UInt32.max))"
        try await pool.query("CREATE TABLE \(table) (id int)")
        try await pool.transaction { try $0.query("INSERT INTO \(table) VALUES (1)") }
        struct Boom: Error {}
        await #expect(throws: Boom.self) {
            try await pool.transaction { connection in
                try connection.query("INSERT INTO \(table) VALUES (2)")
                throw Boom()
            }
        }
        let rows = try await pool.query("SELECT id FROM \(table) ORDER BY id")
        #expect(rows.rows.map { $0[0] } == ["1"])
        try await pool.query("DROP TABLE \(table)")
        await pool.close()
    }

    @Test func callersWaitForAFreeConnectionThenTimeOut() async throws {
        let small = PostgresPool(url: testDatabaseURL!, size: 1)
        let holder = Task { try await small.query("SELECT pg_sleep(2)") }
        // Wait until the holder has the only connection (polling, not guessing a delay).
        for _ in 0..<500 where !(small.usage.open == 1 && small.usage.idle == 0) {
            try await Task.sleep(for: .milliseconds(10))
        }
        do {
            try await small.query("SELECT 1", deadline: .now + .milliseconds(200))
            Issue.record("expected a pool timeout")
        } catch let error as PostgresError {
            #expect(error.kind == .poolTimeout)
            #expect(error.rpcError.code == .unavailable)
        }
        _ = try await holder.value
        // With patience, the same call succeeds once the connection is free.
        #expect(try await small.query("SELECT 1 AS one").value("one") == "1")
        await small.close()
    }

    @Test func unreachableDatabaseIsUnavailable() async throws {
        let nowhere = PostgresPool(url: "postgres://x:y@127.0.0.1:1/none", size: 1)
        do {
            try await nowhere.query("SELECT 1")
            Issue.record("expected a connection error")
        } catch let error as PostgresError {
            #expect(error.kind == .connection)
            #expect(error.rpcError.code == .unavailable)
            #expect(error.rpcError.message == "Database unavailable")
        }
        await nowhere.close()
    }

    @Test func migrationsAreIdempotentAndSafeConcurrently() async throws {
        let service = "test_\(UInt32.random(in: 0...UInt32.max))"
        let table = "m_\(service)"
        let migrations = [
            Migration(version: 1, name: "create", sql: "CREATE TABLE \(table) (id int); CREATE INDEX ON \(table) (id)"),
            Migration(version: 2, name: "column", sql: "ALTER TABLE \(table) ADD COLUMN name text"),
        ]
        let other = PostgresPool(url: testDatabaseURL!, size: 1)
        async let first = pool.migrate(service: service, migrations)
        async let second = other.migrate(service: service, migrations)
        let applied = try await [first, second]
        #expect(applied.flatMap { $0 }.sorted() == [1, 2])
        #expect(try await pool.migrate(service: service, migrations).isEmpty)
        try await pool.query("INSERT INTO \(table) (id, name) VALUES (1, 'x')")
        try await pool.query("DROP TABLE \(table)")
        try await pool.query("DELETE FROM schema_migrations WHERE service = $1", [.text(service)])
        await other.close()
        await pool.close()
    }

    @Test func aFailedMigrationLeavesNoTrace() async throws {
        let service = "test_\(UInt32.random(in: 0...UInt32.max))"
        let table = "f_\(service)"
        let migrations = [Migration(version: 1, name: "half", sql: "CREATE TABLE \(table) (id int); SELECT no_such_function()")]
        do {
            try await pool.migrate(service: service, migrations)
            Issue.record("the migration should fail")
        } catch let error as PostgresError {
            #expect(error.sqlState == "42883")  // undefined_function: the second statement ran and failed
        }
        let exists = try await pool.query("SELECT to_regclass($1) IS NOT NULL AS e", [.text(table)])
        #expect(exists.value("e") == "f")
        let recorded = try await pool.query("SELECT count(*) AS c FROM schema_migrations WHERE service = $1", [.text(service)])
        #expect(recorded.value("c") == "0")
        await pool.close()
    }
}

@Test func databaseIsConfiguredUnderCI() {
    if ProcessInfo.processInfo.environment["CI"] != nil {
        #expect(testDatabaseURL != nil, "CI must run the PostgreSQL tests: make test sets TEST_DATABASE_URL")
    }
}
