import Foundation
import GRDB

/// A desktop agent: who may log in to the desktop API and receive screen pops (the `desktop_agents` table).
///
/// The password is only ever stored as a hash made by the caller (ScreenPop's `AgentAccounts` uses bcrypt).
public struct StoredDesktopAgent: Sendable, Hashable {
    public var agentID: String
    /// The agent's usual device (extension), if fixed.
    public var device: String?
    public var name: String?
    public var passwordHash: String
    /// Consecutive failed logins since the last success or lock-out.
    public var failedLogins: Int
    /// Logins are refused until then.
    public var lockedUntil: Date?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        agentID: String, device: String? = nil, name: String? = nil, passwordHash: String, failedLogins: Int = 0,
        lockedUntil: Date? = nil, createdAt: Date = Date(), updatedAt: Date = Date()
    ) {
        self.agentID = agentID
        self.device = device
        self.name = name
        self.passwordHash = passwordHash
        self.failedLogins = failedLogins
        self.lockedUntil = lockedUntil
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// What to change with ``CTIStore/setDesktopAgent(_:_:at:)``: `nil` fields stay as they are.
public struct DesktopAgentChange: Sendable, Hashable {
    /// A new device; `.some(nil)` clears it.
    public var device: String??
    /// A new name; `.some(nil)` clears it.
    public var name: String??
    /// A new password hash (clears failures and any lock).
    public var passwordHash: String?

    public init(device: String?? = nil, name: String?? = nil, passwordHash: String? = nil) {
        self.device = device
        self.name = name
        self.passwordHash = passwordHash
    }

    public var isEmpty: Bool { device == nil && name == nil && passwordHash == nil }
}

extension CTIStore {
    /// Migration "v2" (desktop agents part).
    static func createDesktopAgentTables(_ db: Database) throws {
        try db.execute(
            sql: """
                -- Agents who log in to the desktop API; password_hash is a bcrypt hash, never the password.
                CREATE TABLE desktop_agents (
                    agent_id TEXT PRIMARY KEY,
                    device TEXT,
                    name TEXT,
                    password_hash TEXT NOT NULL,
                    failed_logins INTEGER NOT NULL DEFAULT 0,
                    locked_until_ms INTEGER,
                    created_at_ms INTEGER NOT NULL,
                    updated_at_ms INTEGER NOT NULL
                );
                """
        )
    }

    /// Adds a desktop agent.
    ///
    /// - Throws: ``CTIStoreError/Code/alreadyExists`` when the id is taken, ``CTIStoreError/Code/invalidArgument``
    ///   when it is empty.
    public func addDesktopAgent(_ agent: StoredDesktopAgent) throws {
        try write("addDesktopAgent") { db in try Self.addDesktopAgent(agent, in: db) }
    }

    /// Adds a desktop agent, on GRDB's writer queue.
    public func addDesktopAgent(_ agent: StoredDesktopAgent) async throws {
        try await write("addDesktopAgent") { db in try Self.addDesktopAgent(agent, in: db) }
    }

    /// Changes an agent's device, name or password hash (a new hash also clears failures and lock-out).
    ///
    /// - Returns: The agent as stored now, `nil` when there is no such agent.
    @discardableResult
    public func setDesktopAgent(_ agentID: String, _ change: DesktopAgentChange, at: Date = Date()) throws -> StoredDesktopAgent? {
        try write("setDesktopAgent") { db in try Self.setDesktopAgent(agentID, change, at: at, in: db) }
    }

    /// Changes an agent's device, name or password hash, on GRDB's writer queue.
    @discardableResult
    public func setDesktopAgent(
        _ agentID: String, _ change: DesktopAgentChange, at: Date = Date()
    ) async throws -> StoredDesktopAgent? {
        try await write("setDesktopAgent") { db in try Self.setDesktopAgent(agentID, change, at: at, in: db) }
    }

    /// Removes an agent. - Returns: whether there was one.
    @discardableResult
    public func removeDesktopAgent(_ agentID: String) throws -> Bool {
        try write("removeDesktopAgent") { db in try Self.removeDesktopAgent(agentID, in: db) }
    }

    /// Removes an agent, on GRDB's writer queue. - Returns: whether there was one.
    @discardableResult
    public func removeDesktopAgent(_ agentID: String) async throws -> Bool {
        try await write("removeDesktopAgent") { db in try Self.removeDesktopAgent(agentID, in: db) }
    }

    /// Every desktop agent, by id.
    public func desktopAgents() throws -> [StoredDesktopAgent] {
        try read("desktopAgents") { db in try Self.fetchDesktopAgents(db, "ORDER BY agent_id", []) }
    }

    /// Every desktop agent, by id.
    public func desktopAgents() async throws -> [StoredDesktopAgent] {
        try await read("desktopAgents") { db in try Self.fetchDesktopAgents(db, "ORDER BY agent_id", []) }
    }

    /// The desktop agent with this id, or `nil`.
    public func desktopAgent(_ agentID: String) throws -> StoredDesktopAgent? {
        try read("desktopAgent") { db in try Self.fetchDesktopAgents(db, "WHERE agent_id = ?", [agentID]).first }
    }

    /// The desktop agent with this id, or `nil`.
    public func desktopAgent(_ agentID: String) async throws -> StoredDesktopAgent? {
        try await read("desktopAgent") { db in try Self.fetchDesktopAgents(db, "WHERE agent_id = ?", [agentID]).first }
    }

    /// Counts a failed login in one transaction; the `lockAfter`-th consecutive failure locks the agent out until
    /// `at + lockFor` and restarts the count (so after the lock expires the agent has `lockAfter` tries again).
    ///
    /// - Returns: The agent as stored now, `nil` when there is no such agent.
    @discardableResult
    public func recordFailedLogin(
        _ agentID: String, lockAfter: Int, lockFor: TimeInterval, at: Date
    ) throws -> StoredDesktopAgent? {
        try write("recordFailedLogin") { db in
            try Self.recordFailedLogin(agentID, lockAfter: lockAfter, lockFor: lockFor, at: at, in: db)
        }
    }

    /// Counts a failed login, on GRDB's writer queue.
    @discardableResult
    public func recordFailedLogin(
        _ agentID: String, lockAfter: Int, lockFor: TimeInterval, at: Date
    ) async throws -> StoredDesktopAgent? {
        try await write("recordFailedLogin") { db in
            try Self.recordFailedLogin(agentID, lockAfter: lockAfter, lockFor: lockFor, at: at, in: db)
        }
    }

    /// Clears failures and any lock (after a successful login).
    public func clearFailedLogins(_ agentID: String) throws {
        try write("clearFailedLogins") { db in try Self.clearFailedLogins(agentID, in: db) }
    }

    /// Clears failures and any lock, on GRDB's writer queue.
    public func clearFailedLogins(_ agentID: String) async throws {
        try await write("clearFailedLogins") { db in try Self.clearFailedLogins(agentID, in: db) }
    }

    // MARK: - Implementation

    private static func addDesktopAgent(_ agent: StoredDesktopAgent, in db: Database) throws {
        guard !agent.agentID.isEmpty else {
            throw CTIStoreError(.invalidArgument, path: "", operation: "addDesktopAgent", "empty agent id")
        }
        guard try fetchDesktopAgents(db, "WHERE agent_id = ?", [agent.agentID]).isEmpty else {
            throw CTIStoreError(
                .alreadyExists, path: "", operation: "addDesktopAgent", "agent \(agent.agentID) already exists")
        }
        try db.execute(
            sql: """
                INSERT INTO desktop_agents (agent_id, device, name, password_hash, failed_logins, locked_until_ms,
                                            created_at_ms, updated_at_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                agent.agentID, agent.device, agent.name, agent.passwordHash, agent.failedLogins,
                agent.lockedUntil.map(milliseconds), milliseconds(agent.createdAt), milliseconds(agent.updatedAt),
            ]
        )
    }

    private static func setDesktopAgent(
        _ agentID: String, _ change: DesktopAgentChange, at: Date, in db: Database
    ) throws -> StoredDesktopAgent? {
        guard var agent = try fetchDesktopAgents(db, "WHERE agent_id = ?", [agentID]).first else { return nil }
        if let device = change.device { agent.device = device }
        if let name = change.name { agent.name = name }
        if let hash = change.passwordHash {
            agent.passwordHash = hash
            agent.failedLogins = 0
            agent.lockedUntil = nil
        }
        agent.updatedAt = at
        try db.execute(
            sql: """
                UPDATE desktop_agents SET device = ?, name = ?, password_hash = ?, failed_logins = ?,
                    locked_until_ms = ?, updated_at_ms = ?
                WHERE agent_id = ?
                """,
            arguments: [
                agent.device, agent.name, agent.passwordHash, agent.failedLogins, agent.lockedUntil.map(milliseconds),
                milliseconds(at), agentID,
            ]
        )
        return agent
    }

    private static func removeDesktopAgent(_ agentID: String, in db: Database) throws -> Bool {
        try db.execute(sql: "DELETE FROM desktop_agents WHERE agent_id = ?", arguments: [agentID])
        return db.changesCount > 0
    }

    private static func recordFailedLogin(
        _ agentID: String, lockAfter: Int, lockFor: TimeInterval, at: Date, in db: Database
    ) throws -> StoredDesktopAgent? {
        guard var agent = try fetchDesktopAgents(db, "WHERE agent_id = ?", [agentID]).first else { return nil }
        agent.failedLogins += 1
        if agent.failedLogins >= max(1, lockAfter) {
            agent.failedLogins = 0
            agent.lockedUntil = at.addingTimeInterval(max(0, lockFor))
        }
        try db.execute(
            sql: "UPDATE desktop_agents SET failed_logins = ?, locked_until_ms = ? WHERE agent_id = ?",
            arguments: [agent.failedLogins, agent.lockedUntil.map(milliseconds), agentID]
        )
        return agent
    }

    private static func clearFailedLogins(_ agentID: String, in db: Database) throws {
        try db.execute(
            sql: "UPDATE desktop_agents SET failed_logins = 0, locked_until_ms = NULL WHERE agent_id = ?",
            arguments: [agentID]
        )
    }

    private static func fetchDesktopAgents(
        _ db: Database, _ clause: String, _ arguments: StatementArguments
    ) throws -> [StoredDesktopAgent] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT agent_id, device, name, password_hash, failed_logins, locked_until_ms, created_at_ms,
                       updated_at_ms
                FROM desktop_agents \(clause)
                """,
            arguments: arguments
        ).map { row in
            StoredDesktopAgent(
                agentID: row[0], device: row[1], name: row[2], passwordHash: row[3], failedLogins: (row[4] as Int?) ?? 0,
                lockedUntil: (row[5] as Int64?).map(date(milliseconds:)),
                createdAt: date(milliseconds: (row[6] as Int64?) ?? 0),
                updatedAt: date(milliseconds: (row[7] as Int64?) ?? 0)
            )
        }
    }
}
