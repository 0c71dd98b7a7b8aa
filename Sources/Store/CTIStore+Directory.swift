import Foundation
import GRDB

/// An agent's last known state (the `agents` table).
public struct StoredAgent: Sendable, Hashable {
    public var agentID: String
    /// The device the agent is logged on at.
    public var device: String?
    /// `loggedOff`, `notReady`, `ready`, `busy`, `workingAfterCall`.
    public var state: String?
    /// The not-ready reason, if any.
    public var reason: String?
    public var updatedAt: Date?
}

/// A device's last known state (the `devices` table).
public struct StoredDevice: Sendable, Hashable {
    public var device: String
    /// What the device is (`station`, `acdGroup`, `routePoint`, …), when known.
    public var kind: String?
    /// Whether the bridge monitors it.
    public var monitored: Bool
    public var updatedAt: Date?
}

extension CTIStore {
    /// Records an agent's state inside the caller's transaction. An update older than the stored one is ignored; a
    /// `nil` device keeps the stored device.
    public func upsertAgent(
        agentID: String, device: String?, state: String, reason: String?, at: Date, in db: Database
    ) throws {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO agents (agent_id, device, state, reason, updated_at_ms) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (agent_id) DO UPDATE SET
                    device = coalesce(excluded.device, agents.device), state = excluded.state,
                    reason = excluded.reason, updated_at_ms = excluded.updated_at_ms
                WHERE excluded.updated_at_ms >= coalesce(agents.updated_at_ms, 0)
                """
        )
        statement.setUncheckedArguments([agentID, device, state, reason, Self.milliseconds(at)])
        try statement.execute()
    }

    /// Records an agent's state in its own transaction.
    public func upsertAgent(agentID: String, device: String?, state: String, reason: String?, at: Date) throws {
        try write("upsertAgent") { db in
            try self.upsertAgent(agentID: agentID, device: device, state: state, reason: reason, at: at, in: db)
        }
    }

    /// Records an agent's state in its own transaction, on GRDB's writer queue.
    public func upsertAgent(
        agentID: String, device: String?, state: String, reason: String?, at: Date
    ) async throws {
        try await write("upsertAgent") { db in
            try self.upsertAgent(agentID: agentID, device: device, state: state, reason: reason, at: at, in: db)
        }
    }

    /// Records a device inside the caller's transaction. An update older than the stored one is ignored.
    public func upsertDevice(_ device: String, kind: String?, monitored: Bool, at: Date, in db: Database) throws {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO devices (device, kind, monitored, updated_at_ms) VALUES (?, ?, ?, ?)
                ON CONFLICT (device) DO UPDATE SET
                    kind = coalesce(excluded.kind, devices.kind), monitored = excluded.monitored,
                    updated_at_ms = excluded.updated_at_ms
                WHERE excluded.updated_at_ms >= coalesce(devices.updated_at_ms, 0)
                """
        )
        statement.setUncheckedArguments([device, kind, monitored, Self.milliseconds(at)])
        try statement.execute()
    }

    /// Records a device in its own transaction.
    public func upsertDevice(_ device: String, kind: String?, monitored: Bool, at: Date) throws {
        try write("upsertDevice") { db in try self.upsertDevice(device, kind: kind, monitored: monitored, at: at, in: db) }
    }

    /// Records a device in its own transaction, on GRDB's writer queue.
    public func upsertDevice(_ device: String, kind: String?, monitored: Bool, at: Date) async throws {
        try await write("upsertDevice") { db in
            try self.upsertDevice(device, kind: kind, monitored: monitored, at: at, in: db)
        }
    }

    /// Every agent's last known state, by agent id.
    public func agents() throws -> [StoredAgent] {
        try read("agents") { db in
            try Row.fetchAll(db, sql: "SELECT agent_id, device, state, reason, updated_at_ms FROM agents ORDER BY agent_id")
                .map { row in
                    StoredAgent(
                        agentID: row[0], device: row[1], state: row[2], reason: row[3],
                        updatedAt: (row[4] as Int64?).map(Self.date(milliseconds:))
                    )
                }
        }
    }

    /// Every known device, by name.
    public func devices() throws -> [StoredDevice] {
        try read("devices") { db in
            try Row.fetchAll(db, sql: "SELECT device, kind, monitored, updated_at_ms FROM devices ORDER BY device")
                .map { row in
                    StoredDevice(
                        device: row[0], kind: row[1], monitored: (row[2] as Bool?) ?? false,
                        updatedAt: (row[3] as Int64?).map(Self.date(milliseconds:))
                    )
                }
        }
    }

    static func date(milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: TimeInterval(milliseconds) / 1000)
    }
}
