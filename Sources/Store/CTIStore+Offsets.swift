import Foundation
import GRDB

extension CTIStore {
    /// The last journal sequence number `consumer` has applied, 0 when the consumer is unknown. A durable consumer
    /// resumes at `offset + 1`.
    public func offset(of consumer: String) throws -> Int64 {
        try read("offset") { db in try Self.offset(of: consumer, in: db) }
    }

    /// The last journal sequence number `consumer` has applied, 0 when the consumer is unknown.
    public func offset(of consumer: String) async throws -> Int64 {
        try await read("offset") { db in try Self.offset(of: consumer, in: db) }
    }

    static func offset(of consumer: String, in db: Database) throws -> Int64 {
        try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT seq FROM consumer_offsets WHERE consumer = ?"),
            arguments: [consumer]
        ) ?? 0
    }

    /// Stores `consumer`'s offset inside a transaction the caller already has open, so it commits (or rolls back)
    /// together with the consumer's own writes. An offset never moves backwards: a lower `seq` leaves it unchanged.
    public func setOffset(_ seq: Int64, for consumer: String, in db: Database) throws {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO consumer_offsets (consumer, seq, updated_at_ms) VALUES (?, ?, ?)
                ON CONFLICT (consumer) DO UPDATE
                SET seq = max(seq, excluded.seq), updated_at_ms = excluded.updated_at_ms
                """
        )
        statement.setUncheckedArguments([consumer, seq, Self.milliseconds(Date())])
        try statement.execute()
    }

    /// Stores `consumer`'s offset in its own transaction (never moving it backwards).
    public func setOffset(_ seq: Int64, for consumer: String) throws {
        try write("setOffset") { db in try self.setOffset(seq, for: consumer, in: db) }
    }

    /// Stores `consumer`'s offset in its own transaction (never moving it backwards).
    public func setOffset(_ seq: Int64, for consumer: String) async throws {
        try await write("setOffset") { db in try self.setOffset(seq, for: consumer, in: db) }
    }

    /// Applies the effects of journal event `seq` for `consumer` exactly once.
    ///
    /// In one write transaction: when the consumer's offset is already `seq` or more, nothing happens and `false` is
    /// returned; otherwise `body` runs and the offset becomes `seq`. A crash anywhere leaves either both the effects
    /// and the offset or neither, so a consumer that resumes at `offset + 1` applies every event once.
    ///
    /// ```swift
    /// try store.applyExactlyOnce(consumer: "agents", seq: event.seq) { db in
    ///     try store.upsertAgent(agentID: id, device: device, state: state, reason: nil, at: at, in: db)
    /// }
    /// ```
    ///
    /// - Returns: `true` when `body` ran.
    @discardableResult
    public func applyExactlyOnce(consumer: String, seq: Int64, _ body: (Database) throws -> Void) throws -> Bool {
        try write("applyExactlyOnce") { db in
            guard try Self.offset(of: consumer, in: db) < seq else { return false }
            try body(db)
            try self.setOffset(seq, for: consumer, in: db)
            return true
        }
    }

    /// Applies the effects of journal event `seq` for `consumer` exactly once, on GRDB's writer queue (see the
    /// blocking `applyExactlyOnce(consumer:seq:_:)`).
    ///
    /// - Returns: `true` when `body` ran.
    @discardableResult
    public func applyExactlyOnce(
        consumer: String, seq: Int64, _ body: @escaping @Sendable (Database) throws -> Void
    ) async throws -> Bool {
        try await write("applyExactlyOnce") { db in
            guard try Self.offset(of: consumer, in: db) < seq else { return false }
            try body(db)
            try self.setOffset(seq, for: consumer, in: db)
            return true
        }
    }
}
