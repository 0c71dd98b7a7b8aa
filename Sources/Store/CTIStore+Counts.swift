import GRDB

extension CTIStore {
    /// How many call records the store holds.
    public func callCount() throws -> Int {
        try read("callCount") { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM calls") ?? 0 }
    }

    /// How many call records the store holds.
    public func callCount() async throws -> Int {
        try await read("callCount") { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM calls") ?? 0 }
    }
}

extension CTIStore {
    /// Which of these interactions already have a `callEnded` event in the journal (a checkpoint that outlived its
    /// call must not be restored).
    public func interactionsEnded(among ids: [String]) throws -> Set<String> {
        try read("interactionsEnded") { db in
            var ended: Set<String> = []
            let statement = try db.cachedStatement(
                sql: "SELECT 1 FROM journal WHERE interaction_id = ? AND kind = 'callEnded' LIMIT 1")
            for id in ids where try Bool.fetchOne(statement, arguments: [id]) != nil {
                ended.insert(id)
            }
            return ended
        }
    }
}
