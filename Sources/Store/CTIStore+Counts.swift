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
