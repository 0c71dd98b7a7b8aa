import CallModel
import Foundation
import GRDB
import Testing

@testable import Store

@Suite(.timeLimit(.minutes(1))) struct CTIStoreTests {
    @Test func migratesAFreshFileAndReopens() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("nested/deeper/bridge.sqlite")

        var store: CTIStore? = try openStore(path)
        #expect(FileManager.default.fileExists(atPath: path))
        #expect(try store?.lastJournalSeq() == 0)
        #expect(try store?.journalCount() == 0)
        #expect(try store?.openCalls() == [:])
        #expect(try store?.integrityCheck() == ["ok"])
        #expect(try store!.databaseBytes() > 0)
        try store?.appendJournal(sampleEvents(), firstSeq: 1, openCalls: OpenCallsDelta(upserts: ["I-2": "{}"]))
        try store?.close()
        store = nil

        let reopened = try openStore(path)
        #expect(try reopened.lastJournalSeq() == Int64(sampleEvents().count))
        #expect(try reopened.openCalls() == ["I-2": "{}"])
        let (applicationID, migrations, journalMode) = try reopened.pool.read { db in
            (
                try Int32.fetchOne(db, sql: "PRAGMA application_id"),
                try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations"),
                try String.fetchOne(db, sql: "PRAGMA journal_mode")
            )
        }
        #expect(applicationID == CTIStore.applicationID)
        #expect(migrations == ["v1", "v2"])
        #expect(CTIStore.schemaVersion == "v2")
        #expect(journalMode == "wal")
    }

    @Test(arguments: [(JournalSync.full, 2), (.normal, 1), (.off, 0)])
    func appliesTheSyncPolicyToTheWriter(sync: JournalSync, pragma: Int) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try openStore(directory.path("sync.sqlite"), sync: sync)
        let value = try store.pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
        #expect(value == pragma)
    }

    @Test func appendsAndReadsBackEqualEvents() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try openStore(directory.path("journal.sqlite"))
        let events = sampleEvents()
        try await store.appendJournal(Array(events.prefix(3)), firstSeq: 1, openCalls: .none)
        try await store.appendJournal(Array(events.dropFirst(3)), firstSeq: 4, openCalls: .none)

        let all = try await store.readJournal(after: 0, limit: 100)
        #expect(all.map(\.seq) == Array(1...Int64(events.count)))
        #expect(all.map(\.event) == events)
        let page = try await store.readJournal(after: 2, limit: 2)
        #expect(page.map(\.seq) == [3, 4])
        #expect(page.map(\.event) == Array(events[2...3]))
        #expect(try await store.readJournal(after: Int64(events.count), limit: 10).isEmpty)
        #expect(try await store.readJournal(after: 0, limit: 0).isEmpty)
        #expect(try store.journalCount() == events.count)
        #expect(try await store.lastJournalSeq() == Int64(events.count))

        // The payload is the event's JSON: a default JSONDecoder reads it, and the SQL columns match it.
        let rows = try store.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT seq, at_ms, kind, interaction_id, payload FROM journal ORDER BY seq")
        }
        for (row, event) in zip(rows, events) {
            let payload: String = row["payload"]
            #expect(try JSONDecoder().decode(CallEvent.self, from: Data(payload.utf8)) == event)
            #expect(row["kind"] == event.kind.rawValue)
            #expect(row["interaction_id"] == event.interactionID)
            #expect(row["at_ms"] == Int64((event.at.timeIntervalSince1970 * 1000).rounded()))
        }
    }

    @Test func appendKeepsTheJournalGapFree() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try openStore(directory.path("gapfree.sqlite"))
        let events = sampleEvents()

        #expect { try store.appendJournal(events, firstSeq: 0, openCalls: .none) } throws: {
            ($0 as? CTIStoreError)?.code == .invalidArgument
        }
        #expect { try store.appendJournal(events, firstSeq: 2, openCalls: .none) } throws: {
            ($0 as? CTIStoreError)?.code == .sequenceConflict
        }
        try store.appendJournal(events, firstSeq: 1, openCalls: .none)
        // A conflicting append changes nothing, not even the checkpoint that came with it.
        let error = #expect(throws: CTIStoreError.self) {
            try store.appendJournal(events, firstSeq: 3, openCalls: OpenCallsDelta(upserts: ["I-9": "x"]))
        }
        #expect(error?.code == .sequenceConflict)
        #expect(error?.path == store.path)
        #expect(error?.operation == "appendJournal")
        #expect(try store.journalCount() == events.count)
        #expect(try store.openCalls().isEmpty)
        #expect(try store.journalGaps().isEmpty)
    }

    @Test func offsetsDefaultToZeroAndNeverMoveBackwards() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("offsets.sqlite")
        do {
            let store = try openStore(path)
            #expect(try await store.offset(of: "calls") == 0)
            try await store.setOffset(5, for: "calls")
            #expect(try await store.offset(of: "calls") == 5)
            try await store.setOffset(3, for: "calls")
            #expect(try await store.offset(of: "calls") == 5)
            try await store.setOffset(9, for: "agents")
            #expect(try await store.offset(of: "agents") == 9)
        }
        let reopened = try openStore(path)
        #expect(try await reopened.offset(of: "calls") == 5)
        #expect(try await reopened.offset(of: "agents") == 9)
        #expect(try await reopened.offset(of: "nobody") == 0)
    }

    @Test func recordCallAppliesEachSequenceNumberOnce() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try openStore(directory.path("calls.sqlite"))
        let first = record("I-1", callIDs: ["10", "11"], start: 0)

        #expect(try await store.recordCall(first, journalSeq: 10, consumer: "calls"))
        #expect(try await store.recordCall(first, journalSeq: 10, consumer: "calls") == false)
        var changed = first
        changed.outcome = "abandoned"
        #expect(try await store.recordCall(changed, journalSeq: 7, consumer: "calls") == false)
        #expect(try await store.offset(of: "calls") == 10)
        #expect(try await store.call(interactionID: "I-1") == first)
        let counts = try await store.pool.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT count(*) FROM calls"),
                try Int.fetchOne(db, sql: "SELECT count(*) FROM call_ids"),
                try Int.fetchOne(db, sql: "SELECT count(*) FROM segments"),
                try Int64.fetchOne(db, sql: "SELECT journal_seq FROM calls")
            )
        }
        #expect(counts.0 == 1 && counts.1 == 2 && counts.2 == 3 && counts.3 == 10)

        // A later event for the same interaction replaces the call, its call ids and its segments.
        changed.callIDs = ["12"]
        changed.segments = Array(changed.segments.prefix(1))
        #expect(try await store.recordCall(changed, journalSeq: 11, consumer: "calls"))
        #expect(try await store.call(interactionID: "I-1") == changed)
        #expect(try await store.calls(byCallID: "10").isEmpty)
        #expect(try await store.calls(byCallID: "12") == [changed])
        let segments = try await store.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM segments") }
        #expect(segments == 1)

        // Another consumer has its own offset.
        #expect(try await store.recordCall(first, journalSeq: 10, consumer: "backfill"))
        #expect(try await store.offset(of: "calls") == 11)
    }

    @Test func applyExactlyOnceCommitsEffectsWithTheOffset() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try openStore(directory.path("once.sqlite"))
        let applied = try await store.applyExactlyOnce(consumer: "agents", seq: 3) { db in
            try store.upsertAgent(agentID: "A1", device: "4001", state: "ready", reason: nil, at: time(0), in: db)
        }
        #expect(applied)
        let again = try await store.applyExactlyOnce(consumer: "agents", seq: 3) { db in
            try store.upsertAgent(agentID: "A1", device: "4001", state: "busy", reason: nil, at: time(1), in: db)
        }
        #expect(again == false)
        #expect(try store.agents().map(\.state) == ["ready"])

        // A body that throws rolls back its effects and leaves the offset.
        struct Boom: Error {}
        #expect(throws: CTIStoreError.self) {
            try store.applyExactlyOnce(consumer: "agents", seq: 4) { db in
                try store.upsertAgent(agentID: "A2", device: nil, state: "ready", reason: nil, at: time(2), in: db)
                throw Boom()
            }
        }
        #expect(try await store.offset(of: "agents") == 3)
        #expect(try store.agents().map(\.agentID) == ["A1"])
    }

    @Test func callsQueriesByTimeAndCallID() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try openStore(directory.path("query.sqlite"))
        let a = record("I-a", callIDs: ["100"], start: 100)
        let b = record("I-b", callIDs: ["200", "201"], start: 200, calling: "4002")
        let c = record("I-c", callIDs: ["100", "300"], start: 300)  // the switch reused call id 100
        try store.recordCall(c, journalSeq: 3, consumer: "calls")
        try store.recordCall(a, journalSeq: 4, consumer: "calls")
        try store.recordCall(b, journalSeq: 5, consumer: "calls")

        #expect(try store.calls(since: nil, until: nil, limit: nil) == [a, b, c])
        #expect(try store.calls(since: time(200), until: nil, limit: nil) == [b, c])
        #expect(try store.calls(since: time(150), until: time(300), limit: nil) == [b])
        #expect(try store.calls(since: nil, until: nil, limit: 2) == [a, b])
        #expect(try store.calls(since: time(301), until: nil, limit: 10) == [])
        #expect(try store.calls(byCallID: "100") == [a, c])
        #expect(try store.calls(byCallID: "201") == [b])
        #expect(try store.calls(byCallID: "999").isEmpty)
        #expect(try store.call(interactionID: "I-b") == b)
        #expect(try store.call(interactionID: "I-x") == nil)
    }

    @Test func openCallDeltasMergeAndApplyInOrder() async throws {
        var delta = OpenCallsDelta()
        delta.upsert("A", state: "a1")
        delta.upsert("B", state: "b1")
        delta.merge(OpenCallsDelta(upserts: ["A": "a2", "C": "c1"], deletes: ["B"]))
        #expect(delta == OpenCallsDelta(upserts: ["A": "a2", "C": "c1"], deletes: ["B"]))
        delta.merge(OpenCallsDelta(upserts: ["B": "b2"], deletes: ["C"]))
        #expect(delta == OpenCallsDelta(upserts: ["A": "a2", "B": "b2"], deletes: ["C"]))
        #expect(OpenCallsDelta.none.isEmpty && !delta.isEmpty)

        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try openStore(directory.path("open.sqlite"))
        let events = sampleEvents()
        try await store.appendJournal([events[0]], firstSeq: 1, openCalls: OpenCallsDelta(upserts: ["X": "x1", "Y": "y1"]))
        try await store.appendJournal(
            [events[1]], firstSeq: 2, openCalls: OpenCallsDelta(upserts: ["Y": "y2", "Z": "z1"], deletes: ["X"])
        )
        #expect(try await store.openCalls() == ["Y": "y2", "Z": "z1"])
        // A key in both sets of a hand-made delta: deletes apply first, the upsert wins. Deleting an unknown key is fine.
        try await store.appendJournal([], firstSeq: 3, openCalls: OpenCallsDelta(upserts: ["Z": "z2"], deletes: ["Z", "Q"]))
        #expect(try await store.openCalls() == ["Y": "y2", "Z": "z2"])
        #expect(try await store.lastJournalSeq() == 2)
    }

    @Test func agentsAndDevicesKeepTheNewestState() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try openStore(directory.path("directory.sqlite"))
        try store.upsertAgent(agentID: "A1", device: "4001", state: "ready", reason: nil, at: time(10))
        try store.upsertAgent(agentID: "A1", device: nil, state: "notReady", reason: "lunch", at: time(20))
        try store.upsertAgent(agentID: "A1", device: "4999", state: "busy", reason: nil, at: time(15))  // older: ignored
        #expect(
            try store.agents()
                == [StoredAgent(agentID: "A1", device: "4001", state: "notReady", reason: "lunch", updatedAt: time(20))]
        )
        try store.upsertDevice("4001", kind: "station", monitored: true, at: time(1))
        try store.upsertDevice("4001", kind: nil, monitored: false, at: time(2))
        try store.upsertDevice("8001", kind: "acdGroup", monitored: true, at: time(2))
        #expect(
            try store.devices() == [
                StoredDevice(device: "4001", kind: "station", monitored: false, updatedAt: time(2)),
                StoredDevice(device: "8001", kind: "acdGroup", monitored: true, updatedAt: time(2)),
            ]
        )
    }

    @Test func integrityIsOkAndGapsAreFound() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try openStore(directory.path("gaps.sqlite"))
        let events = sampleEvents()
        var seq: Int64 = 1
        for _ in 0..<20 {
            try store.appendJournal(events, firstSeq: seq, openCalls: .none)
            seq += Int64(events.count)
        }
        try store.recordCall(record("I-1", callIDs: ["1"], start: 0), journalSeq: 6, consumer: "calls")
        #expect(try store.integrityCheck() == ["ok"])
        #expect(try store.journalGaps().isEmpty)

        try store.pool.write { db in
            try db.execute(sql: "DELETE FROM journal WHERE seq BETWEEN 10 AND 12 OR seq = 20 OR seq = 1")
        }
        #expect(try store.journalGaps() == [10...12, 20...20])
    }

    @Test func refusesAFileThatIsNotSQLite() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("notes.txt")
        try Data(String(repeating: "this is not a database\n", count: 100).utf8).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: CTIStoreError.self) { try openStore(path) }
        #expect(error?.code == .notADatabase)
        #expect(error?.path == path)
        #expect(error?.description.contains(path) == true)
    }

    @Test func refusesAnotherProgramsDatabase() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("other.sqlite")
        do {
            let queue = try DatabaseQueue(path: path)
            try queue.write { db in try db.execute(sql: "CREATE TABLE inventory (id INTEGER PRIMARY KEY)") }
        }
        let error = #expect(throws: CTIStoreError.self) { try openStore(path) }
        #expect(error?.code == .notACTIBridgeDatabase)
    }

    @Test func refusesASchemaFromANewerBinary() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("newer.sqlite")
        do {
            let store = try openStore(path)
            try store.pool.write { db in try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99')") }
            try store.close()
        }
        let error = #expect(throws: CTIStoreError.self) { try openStore(path) }
        #expect(error?.code == .schemaTooNew)
        #expect(error?.message.contains("v99") == true)
    }

    @Test func closedStoreFailsWithATypedError() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try openStore(directory.path("closed.sqlite"))
        try store.close()
        let error = #expect(throws: CTIStoreError.self) { try store.lastJournalSeq() }
        #expect(error?.code == .databaseError)
        #expect(error?.operation == "lastJournalSeq")
    }
}
