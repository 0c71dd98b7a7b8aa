/// A failure of the store: which file, which operation, what went wrong.
///
/// Equality compares the ``code`` only, so tests can write `error.code == .notADatabase`.
public struct CTIStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, extensible without breaking API.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The database's folder could not be created.
        public static let cannotCreateDirectory = Code("cannotCreateDirectory")
        /// SQLite could not open the file (permissions, a directory in the way, WAL not possible …).
        public static let cannotOpen = Code("cannotOpen")
        /// The file is not an SQLite database (or is encrypted).
        public static let notADatabase = Code("notADatabase")
        /// The file is an SQLite database of some other program.
        public static let notACTIBridgeDatabase = Code("notACTIBridgeDatabase")
        /// The file was migrated by a newer ctibridge: this binary does not know its schema.
        public static let schemaTooNew = Code("schemaTooNew")
        /// A migration failed; the file is left at the last migration that succeeded.
        public static let migrationFailed = Code("migrationFailed")
        /// An append would reuse a sequence number that is already in the journal.
        public static let sequenceConflict = Code("sequenceConflict")
        /// A stored JSON value (journal payload, call record, checkpoint) could not be decoded.
        public static let corruptRow = Code("corruptRow")
        /// A value could not be encoded for storage.
        public static let encodeFailed = Code("encodeFailed")
        /// An argument was out of range (a sequence number below 1, a negative limit …).
        public static let invalidArgument = Code("invalidArgument")
        /// A row with this key is already there (a desktop agent id).
        public static let alreadyExists = Code("alreadyExists")
        /// Any other SQLite failure (I/O error, disk full, busy beyond the timeout, closed store …).
        public static let databaseError = Code("databaseError")
    }

    /// What went wrong.
    public var code: Code
    /// The database file.
    public var path: String
    /// The store operation that failed (`open`, `appendJournal`, `recordCall` …).
    public var operation: String
    /// Details for logs: SQLite's message, the offending sequence number …
    public var message: String

    /// An error with a code, the file, the operation and details.
    public init(_ code: Code, path: String, operation: String, _ message: String = "") {
        self.code = code
        self.path = path
        self.operation = operation
        self.message = message
    }

    public var description: String {
        "ctibridge store \(path): \(operation) failed: \(code)" + (message.isEmpty ? "" : ": \(message)")
    }

    public static func == (a: Self, b: Self) -> Bool { a.code == b.code }
    public func hash(into h: inout Hasher) { h.combine(code) }
}
