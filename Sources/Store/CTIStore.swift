import Foundation
import GRDB
import Logging

/// The bridge's SQLite database: the event journal, consumer offsets, call records, agent and device states and the
/// open-call checkpoint, in one file opened as a GRDB `DatabasePool` in WAL mode (one writer, concurrent readers).
///
/// Every operation has a blocking variant (for the command line and set-up code) and, where tasks call it, an `async`
/// variant that runs on GRDB's queues without blocking a Swift concurrency thread. In `async` code the compiler picks
/// the `async` variant: write `try await store.lastJournalSeq()`.
///
/// ```swift
/// let store = try CTIStore(path: "/var/lib/ctibridge/bridge.sqlite", logger: logger)
/// try await store.appendJournal(events, firstSeq: try await store.lastJournalSeq() + 1, openCalls: .none)
/// for record in try store.calls(since: yesterday, until: nil, limit: 100) { … }
/// ```
///
/// Every failure is a ``CTIStoreError`` naming the file and the operation.
public final class CTIStore: Sendable {
    /// How the file is opened.
    public struct Configuration: Sendable {
        /// `PRAGMA synchronous` of the writer connection (see ``JournalSync`` for the trade-off).
        public var sync: JournalSync
        /// How long a statement waits for a lock held by another connection or process before it fails.
        public var busyTimeout: Duration
        /// The most reader connections the pool opens.
        public var maximumReaderCount: Int

        /// A configuration; the defaults suit the daemon (`normal` sync, 5 s busy timeout, 4 readers).
        public init(sync: JournalSync = .normal, busyTimeout: Duration = .seconds(5), maximumReaderCount: Int = 4) {
            self.sync = sync
            self.busyTimeout = busyTimeout
            self.maximumReaderCount = maximumReaderCount
        }
    }

    /// The database file.
    public let path: String
    /// The configuration the file was opened with.
    public let configuration: Configuration
    let pool: DatabasePool
    let logger: Logger

    /// Opens (or creates) the database at `path`, creating its folder, switching it to WAL and migrating its schema.
    ///
    /// - Parameters:
    ///   - path: The database file. Its `-wal` and `-shm` companions live next to it.
    ///   - configuration: Sync policy, busy timeout, readers.
    ///   - logger: Where the store logs opening and migrations.
    /// - Throws: ``CTIStoreError`` with code ``CTIStoreError/Code/notADatabase`` (not SQLite),
    ///   ``CTIStoreError/Code/notACTIBridgeDatabase`` (another program's database),
    ///   ``CTIStoreError/Code/schemaTooNew`` (written by a newer ctibridge), ``CTIStoreError/Code/cannotOpen``,
    ///   ``CTIStoreError/Code/cannotCreateDirectory`` or ``CTIStoreError/Code/migrationFailed``.
    public init(path: String, configuration: Configuration = Configuration(), logger: Logger) throws {
        self.path = path
        self.configuration = configuration
        self.logger = logger

        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw CTIStoreError(.cannotCreateDirectory, path: path, operation: "open", "\(folder): \(error)")
        }

        var grdb = GRDB.Configuration()
        grdb.label = "ctibridge.store"
        grdb.busyMode = .timeout(Self.seconds(configuration.busyTimeout))
        grdb.maximumReaderCount = max(1, configuration.maximumReaderCount)
        do {
            pool = try DatabasePool(path: path, configuration: grdb)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB {
            throw CTIStoreError(.notADatabase, path: path, operation: "open", "not an SQLite database")
        } catch {
            throw CTIStoreError(.cannotOpen, path: path, operation: "open", "\(error)")
        }

        // GRDB sets `synchronous = NORMAL` when it switches the file to WAL, after any `prepareDatabase` hook: set the
        // policy on the writer connection now. Readers never write, so their setting does not matter.
        let sync = configuration.sync
        do {
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = \(sync.pragmaValue)") }
        } catch {
            throw CTIStoreError(.cannotOpen, path: path, operation: "open", "PRAGMA synchronous: \(error)")
        }

        try checkOwnership()
        do {
            try Self.migrator.migrate(pool)
        } catch {
            throw CTIStoreError(.migrationFailed, path: path, operation: "migrate", "\(error)")
        }
        logger.debug(
            "store opened",
            metadata: ["path": "\(path)", "sync": "\(configuration.sync.rawValue)", "schema": "\(Self.schemaVersion)"]
        )
    }

    /// Closes the connections. Later calls fail with ``CTIStoreError/Code/databaseError``. Dropping the last
    /// reference closes them too.
    public func close() throws {
        do { try pool.close() } catch { throw failure(error, "close") }
    }

    /// Refuses files that belong to another program or to a newer ctibridge.
    private func checkOwnership() throws {
        let verdict: (CTIStoreError.Code, String)?
        do {
            verdict = try pool.read { db -> (CTIStoreError.Code, String)? in
                let applicationID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
                if applicationID != 0 && applicationID != Self.applicationID {
                    return (.notACTIBridgeDatabase, "application_id is \(applicationID), not ctibridge's")
                }
                if try db.tableExists("grdb_migrations") {
                    if try Self.migrator.hasBeenSuperseded(db) {
                        let known = Set(Self.migrator.migrations)
                        let unknown = try Self.migrator.appliedIdentifiers(db).subtracting(known).sorted()
                        return (.schemaTooNew, "unknown migrations \(unknown): written by a newer ctibridge")
                    }
                    let applied = try Self.migrator.appliedIdentifiers(db)
                    if applicationID == 0 && !applied.isEmpty {
                        return (.notACTIBridgeDatabase, "migrated by another GRDB program (no ctibridge application_id)")
                    }
                    return nil
                }
                let tables = try String.fetchAll(
                    db,
                    sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                )
                if !tables.isEmpty {
                    return (.notACTIBridgeDatabase, "holds other tables (\(tables.prefix(5).joined(separator: ", ")))")
                }
                return nil
            }
        } catch {
            throw failure(error, "open")
        }
        if let (code, message) = verdict {
            throw CTIStoreError(code, path: path, operation: "open", message)
        }
    }

    // MARK: - Access helpers: every operation goes through these, so every error names the file and the operation.

    func read<T>(_ operation: String, _ body: (Database) throws -> T) throws -> T {
        do { return try pool.read(body) } catch { throw failure(error, operation) }
    }

    func read<T: Sendable>(_ operation: String, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do { return try await pool.read(body) } catch { throw failure(error, operation) }
    }

    func write<T>(_ operation: String, _ body: (Database) throws -> T) throws -> T {
        do { return try pool.write(body) } catch { throw failure(error, operation) }
    }

    func write<T: Sendable>(_ operation: String, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do { return try await pool.write(body) } catch { throw failure(error, operation) }
    }

    /// Maps any error thrown inside an operation to a ``CTIStoreError`` for this file (errors the operations throw
    /// themselves inside a database closure leave `path` empty; it is filled in here).
    func failure(_ error: any Error, _ operation: String) -> CTIStoreError {
        switch error {
        case let error as CTIStoreError:
            var named = error
            named.path = path
            return named
        case let error as DatabaseError where error.resultCode == .SQLITE_NOTADB:
            return CTIStoreError(.notADatabase, path: path, operation: operation, error.description)
        case let error as DatabaseError:
            return CTIStoreError(.databaseError, path: path, operation: operation, error.description)
        case is DecodingError:
            return CTIStoreError(.corruptRow, path: path, operation: operation, "\(error)")
        case is EncodingError:
            return CTIStoreError(.encodeFailed, path: path, operation: operation, "\(error)")
        default:
            return CTIStoreError(.databaseError, path: path, operation: operation, "\(error)")
        }
    }

    static func seconds(_ duration: Duration) -> TimeInterval {
        let (seconds, attoseconds) = duration.components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }

    static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }
}
