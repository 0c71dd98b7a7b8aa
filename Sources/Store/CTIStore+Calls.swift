import CallModel
import Foundation
import GRDB

extension CTIStore {
    /// Stores a finished call exactly once for `consumer`: in one transaction, skipped when the consumer's offset is
    /// already `journalSeq` or more, otherwise the call is written (``upsertCall(_:journalSeq:in:)``) and the offset
    /// becomes `journalSeq`.
    ///
    /// - Parameters:
    ///   - record: The call record (contract §5).
    ///   - journalSeq: The sequence number of the `callEnded` event that carried it.
    ///   - consumer: The durable consumer applying the journal.
    /// - Returns: `true` when the call was written, `false` when it had been applied before.
    @discardableResult
    public func recordCall(_ record: CallRecord, journalSeq: Int64, consumer: String) throws -> Bool {
        let json = try encode(record, "recordCall")
        return try write("recordCall") { db in
            guard try Self.offset(of: consumer, in: db) < journalSeq else { return false }
            try Self.upsertCall(record, json: json, journalSeq: journalSeq, in: db)
            try self.setOffset(journalSeq, for: consumer, in: db)
            return true
        }
    }

    /// Stores a finished call exactly once for `consumer`, on GRDB's writer queue (see the blocking
    /// ``recordCall(_:journalSeq:consumer:)``).
    @discardableResult
    public func recordCall(_ record: CallRecord, journalSeq: Int64, consumer: String) async throws -> Bool {
        let json = try encode(record, "recordCall")
        return try await write("recordCall") { db in
            guard try Self.offset(of: consumer, in: db) < journalSeq else { return false }
            try Self.upsertCall(record, json: json, journalSeq: journalSeq, in: db)
            try self.setOffset(journalSeq, for: consumer, in: db)
            return true
        }
    }

    /// Inserts or replaces a call (the `calls` row, its call ids and segments) inside the caller's transaction, e.g.
    /// from `applyExactlyOnce(consumer:seq:_:)`.
    public func upsertCall(_ record: CallRecord, journalSeq: Int64, in db: Database) throws {
        try Self.upsertCall(record, json: encode(record, "upsertCall"), journalSeq: journalSeq, in: db)
    }

    private func encode(_ record: CallRecord, _ operation: String) throws -> String {
        do { return try record.jsonLine() } catch { throw failure(error, operation) }
    }

    static func upsertCall(_ record: CallRecord, json: String, journalSeq: Int64, in db: Database) throws {
        let id = record.interactionID
        let call = try db.cachedStatement(
            sql: """
                INSERT OR REPLACE INTO calls (
                    interaction_id, started_at_ms, ended_at_ms, answered_at_ms, calling, called, direction, outcome,
                    queue, answered_by, answered_device, wait_s, talk_s, hold_s, resynced, journal_seq, record
                ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        )
        call.setUncheckedArguments([
            id, milliseconds(record.startedAt), milliseconds(record.endedAt), record.answeredAt.map(milliseconds),
            record.calling, record.called, record.direction, record.outcome, record.queue, record.answeredBy,
            record.answeredDevice, record.waitSeconds, record.talkSeconds, record.holdSeconds, record.resynced,
            journalSeq, json,
        ])
        try call.execute()

        try db.cachedStatement(sql: "DELETE FROM call_ids WHERE interaction_id = ?").execute(arguments: [id])
        let callID = try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO call_ids (call_id, interaction_id) VALUES (?, ?)"
        )
        for value in record.callIDs {
            callID.setUncheckedArguments([value, id])
            try callID.execute()
        }

        try db.cachedStatement(sql: "DELETE FROM segments WHERE interaction_id = ?").execute(arguments: [id])
        let segment = try db.cachedStatement(
            sql: """
                INSERT INTO segments (interaction_id, idx, device, agent_id, from_ms, to_ms, state)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """
        )
        for (index, value) in record.segments.enumerated() {
            segment.setUncheckedArguments([
                id, index, value.device, value.agentID, milliseconds(value.from), milliseconds(value.to), value.state,
            ])
            try segment.execute()
        }
    }

    /// Calls that started in `since ..< until`, oldest first (`ctibridge calls --since …`).
    ///
    /// - Parameters:
    ///   - since: Earliest start time (inclusive); `nil` for no lower bound.
    ///   - until: Latest start time (exclusive); `nil` for no upper bound.
    ///   - limit: At most this many records; `nil` for all.
    public func calls(since: Date?, until: Date?, limit: Int?) throws -> [CallRecord] {
        let query = Self.callsQuery(since: since, until: until, limit: limit)
        return try read("calls") { db in try Self.records(db, query.sql, query.arguments) }
    }

    /// Calls that started in `since ..< until`, oldest first, read on a reader connection.
    public func calls(since: Date?, until: Date?, limit: Int?) async throws -> [CallRecord] {
        let query = Self.callsQuery(since: since, until: until, limit: limit)
        return try await read("calls") { db in try Self.records(db, query.sql, query.arguments) }
    }

    /// The call with this interaction id, or `nil`.
    public func call(interactionID: String) throws -> CallRecord? {
        try read("call") { db in
            try Self.records(db, "SELECT record FROM calls WHERE interaction_id = ?", [interactionID]).first
        }
    }

    /// The call with this interaction id, or `nil`.
    public func call(interactionID: String) async throws -> CallRecord? {
        try await read("call") { db in
            try Self.records(db, "SELECT record FROM calls WHERE interaction_id = ?", [interactionID]).first
        }
    }

    /// The calls one of whose legs had this call id (a switch reuses call ids), oldest first.
    public func calls(byCallID callID: String) throws -> [CallRecord] {
        try read("calls(byCallID:)") { db in try Self.records(db, Self.byCallIDSQL, [callID]) }
    }

    /// The calls one of whose legs had this call id, oldest first.
    public func calls(byCallID callID: String) async throws -> [CallRecord] {
        try await read("calls(byCallID:)") { db in try Self.records(db, Self.byCallIDSQL, [callID]) }
    }

    private static let byCallIDSQL = """
        SELECT calls.record FROM call_ids JOIN calls USING (interaction_id)
        WHERE call_ids.call_id = ? ORDER BY calls.started_at_ms, calls.interaction_id
        """

    private static func callsQuery(since: Date?, until: Date?, limit: Int?) -> (sql: String, arguments: StatementArguments) {
        var sql = "SELECT record FROM calls"
        var conditions: [String] = []
        var arguments = StatementArguments()
        if let since {
            conditions.append("started_at_ms >= ?")
            arguments += [milliseconds(since)]
        }
        if let until {
            conditions.append("started_at_ms < ?")
            arguments += [milliseconds(until)]
        }
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        sql += " ORDER BY started_at_ms, interaction_id"
        if let limit {
            sql += " LIMIT ?"
            arguments += [max(0, limit)]
        }
        return (sql, arguments)
    }

    private static func records(_ db: Database, _ sql: String, _ arguments: StatementArguments) throws -> [CallRecord] {
        let decoder = JSONDecoder()
        let rows = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
        var records: [CallRecord] = []
        while let row = try rows.next() {
            let json: Data = row[0]
            do {
                records.append(try decoder.decode(CallRecord.self, from: json))
            } catch {
                throw CTIStoreError(.corruptRow, path: "", operation: "calls", "call record: \(error)")
            }
        }
        return records
    }
}
