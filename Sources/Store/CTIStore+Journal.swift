import CallModel
import Foundation
import GRDB

extension CTIStore {
    /// Appends events to the journal with the sequence numbers `firstSeq`, `firstSeq + 1`, … and applies the
    /// open-call checkpoint delta, in one transaction: either all of it is committed or none.
    ///
    /// The journal stays gap-free: `firstSeq` must be ``lastJournalSeq()`` + 1.
    ///
    /// - Parameters:
    ///   - events: The events, in order. An empty array only applies `openCalls`.
    ///   - firstSeq: The first event's sequence number (≥ 1).
    ///   - openCalls: Changes to the open-call checkpoint that go with these events.
    /// - Throws: ``CTIStoreError`` (``CTIStoreError/Code/sequenceConflict`` when `firstSeq` does not continue the
    ///   journal).
    public func appendJournal(_ events: [CallEvent], firstSeq: Int64, openCalls: OpenCallsDelta) throws {
        try write("appendJournal") { db in try Self.append(events, firstSeq: firstSeq, openCalls: openCalls, in: db) }
    }

    /// Appends events to the journal on GRDB's writer queue (see the blocking ``appendJournal(_:firstSeq:openCalls:)``).
    public func appendJournal(_ events: [CallEvent], firstSeq: Int64, openCalls: OpenCallsDelta) async throws {
        try await write("appendJournal") { db in
            try Self.append(events, firstSeq: firstSeq, openCalls: openCalls, in: db)
        }
    }

    static func append(_ events: [CallEvent], firstSeq: Int64, openCalls: OpenCallsDelta, in db: Database) throws {
        guard firstSeq >= 1 else {
            throw CTIStoreError(.invalidArgument, path: "", operation: "appendJournal", "firstSeq \(firstSeq) < 1")
        }
        let last = try lastSeq(db)
        guard firstSeq == last + 1 else {
            throw CTIStoreError(
                .sequenceConflict, path: "", operation: "appendJournal",
                "firstSeq \(firstSeq) does not continue the journal (last seq \(last))"
            )
        }
        if !events.isEmpty {
            let insert = try db.cachedStatement(
                sql: "INSERT INTO journal (seq, at_ms, kind, interaction_id, payload) VALUES (?, ?, ?, ?, ?)"
            )
            var writer = EventJSONWriter()
            var seq = firstSeq
            for event in events {
                let payload = try writer.encode(event)
                insert.setUncheckedArguments([
                    seq, milliseconds(event.at), event.kind.rawValue, event.interactionID, payload,
                ])
                try insert.execute()
                seq += 1
            }
        }
        if !openCalls.deletes.isEmpty {
            let delete = try db.cachedStatement(sql: "DELETE FROM open_calls WHERE interaction_id = ?")
            for id in openCalls.deletes {
                delete.setUncheckedArguments([id])
                try delete.execute()
            }
        }
        if !openCalls.upserts.isEmpty {
            let upsert = try db.cachedStatement(
                sql: """
                    INSERT INTO open_calls (interaction_id, state) VALUES (?, ?)
                    ON CONFLICT (interaction_id) DO UPDATE SET state = excluded.state
                    """
            )
            for (id, state) in openCalls.upserts {
                upsert.setUncheckedArguments([id, state])
                try upsert.execute()
            }
        }
    }

    /// The journal's last sequence number, 0 when it is empty.
    public func lastJournalSeq() throws -> Int64 {
        try read("lastJournalSeq") { db in try Self.lastSeq(db) }
    }

    /// The journal's last sequence number, 0 when it is empty.
    public func lastJournalSeq() async throws -> Int64 {
        try await read("lastJournalSeq") { db in try Self.lastSeq(db) }
    }

    static func lastSeq(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT max(seq) FROM journal")) ?? 0
    }

    /// Up to `limit` journalled events with a sequence number above `seq`, in order.
    ///
    /// - Throws: ``CTIStoreError`` (``CTIStoreError/Code/corruptRow`` names the sequence number whose payload does
    ///   not decode).
    public func readJournal(after seq: Int64, limit: Int) throws -> [SequencedEvent] {
        try read("readJournal") { db in try Self.readJournal(after: seq, limit: limit, in: db) }
    }

    /// Up to `limit` journalled events with a sequence number above `seq`, in order, read on a reader connection.
    public func readJournal(after seq: Int64, limit: Int) async throws -> [SequencedEvent] {
        try await read("readJournal") { db in try Self.readJournal(after: seq, limit: limit, in: db) }
    }

    static func readJournal(after seq: Int64, limit: Int, in db: Database) throws -> [SequencedEvent] {
        guard limit > 0 else { return [] }
        let statement = try db.cachedStatement(
            sql: "SELECT seq, payload FROM journal WHERE seq > ? ORDER BY seq LIMIT ?"
        )
        let rows = try Row.fetchCursor(statement, arguments: [seq, limit])
        let decoder = JSONDecoder()
        var events: [SequencedEvent] = []
        events.reserveCapacity(min(limit, 4096))
        while let row = try rows.next() {
            let seq: Int64 = row[0]
            let payload: Data = row[1]
            do {
                events.append(SequencedEvent(seq: seq, event: try decoder.decode(CallEvent.self, from: payload)))
            } catch {
                throw CTIStoreError(.corruptRow, path: "", operation: "readJournal", "journal seq \(seq): \(error)")
            }
        }
        return events
    }

    /// The number of events in the journal.
    public func journalCount() throws -> Int {
        try read("journalCount") { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM journal") ?? 0 }
    }

    /// The size of the database file in bytes (`page_count × page_size`; the WAL file is not included). Cheap: for
    /// metrics.
    public func databaseBytes() throws -> Int64 {
        try read("databaseBytes") { db in
            let pages = try Int64.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            let pageSize = try Int64.fetchOne(db, sql: "PRAGMA page_size") ?? 0
            return pages * pageSize
        }
    }

    /// Missing sequence numbers between the journal's first and last event; empty when the journal is whole.
    ///
    /// - Complexity: One scan of the journal's primary key.
    public func journalGaps() throws -> [ClosedRange<Int64>] {
        try read("journalGaps") { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT previous + 1, seq - 1
                    FROM (SELECT seq, lag(seq) OVER (ORDER BY seq) AS previous FROM journal)
                    WHERE seq - previous > 1
                    ORDER BY seq
                    """
            )
            return rows.map { row in (row[0] as Int64)...(row[1] as Int64) }
        }
    }

    /// The open-call checkpoint: interaction id → the call model's opaque state.
    public func openCalls() throws -> [String: String] {
        try read("openCalls") { db in try Self.openCalls(db) }
    }

    /// The open-call checkpoint: interaction id → the call model's opaque state.
    public func openCalls() async throws -> [String: String] {
        try await read("openCalls") { db in try Self.openCalls(db) }
    }

    static func openCalls(_ db: Database) throws -> [String: String] {
        var result: [String: String] = [:]
        let rows = try Row.fetchCursor(db, sql: "SELECT interaction_id, state FROM open_calls")
        while let row = try rows.next() {
            result[row[0]] = row[1] as String
        }
        return result
    }

    /// `PRAGMA integrity_check`: `["ok"]` when the file is sound, otherwise SQLite's findings.
    public func integrityCheck() throws -> [String] {
        try read("integrityCheck") { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
    }
}
