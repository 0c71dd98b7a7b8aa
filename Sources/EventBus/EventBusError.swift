import Store

/// A failure of the bus: it was shut down, or its journal failed.
///
/// Equality compares the ``code`` only, so tests can write `error.code == .shutDown`.
public struct EventBusError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, extensible without breaking API.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// ``EventBus/shutdown()`` was called: the bus takes no more events.
        public static let shutDown = Code("shutDown")
        /// Appending a batch to the journal failed. The bus stops (fail-stop): the batch and everything published
        /// after it are not journalled and were never delivered. ``storeError`` says why.
        public static let journalFailed = Code("journalFailed")
        /// The journal does not hold events the bus committed (rows deleted behind its back).
        public static let journalInconsistent = Code("journalInconsistent")
    }

    /// What went wrong.
    public var code: Code
    /// Details for logs.
    public var message: String
    /// The store's error, for ``Code/journalFailed``.
    public var storeError: CTIStoreError?

    /// An error with a code and details.
    public init(_ code: Code, _ message: String = "", storeError: CTIStoreError? = nil) {
        self.code = code
        self.message = message
        self.storeError = storeError
    }

    public var description: String { message.isEmpty ? "event bus: \(code)" : "event bus: \(code): \(message)" }

    public static func == (a: Self, b: Self) -> Bool { a.code == b.code }
    public func hash(into h: inout Hasher) { h.combine(code) }
}
