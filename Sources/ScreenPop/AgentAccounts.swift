import Foundation
import HummingbirdBcrypt
import Logging
import Store
import Synchronization

/// The desktop agents' accounts: adding and changing them with bcrypt-hashed passwords, and checking a login with
/// lock-out after repeated failures. Passwords and hashes are never logged.
///
/// ```swift
/// let accounts = AgentAccounts(store: store, logger: logger)
/// try accounts.add(agentID: "A1", device: "4001", name: "Li Na", password: secret)
/// switch try await accounts.verify(agentID: "A1", password: typed) { case .ok(let agent): … }
/// ```
public final class AgentAccounts: Sendable {
    /// How passwords are hashed and how hard a wrong password is punished.
    public struct Policy: Sendable, Hashable {
        /// bcrypt's cost (log2 rounds, clamped to 4…31); 10 takes tens of milliseconds.
        public var bcryptCost: Int
        /// Consecutive failures that lock an account.
        public var lockAfterFailures: Int
        /// How long a locked account stays locked.
        public var lockDuration: TimeInterval

        public init(bcryptCost: Int = 10, lockAfterFailures: Int = 5, lockDuration: TimeInterval = 15 * 60) {
            self.bcryptCost = bcryptCost
            self.lockAfterFailures = lockAfterFailures
            self.lockDuration = lockDuration
        }
    }

    /// What a login attempt comes to.
    public enum Verdict: Sendable, Hashable {
        case ok(StoredDesktopAgent)
        case wrongPassword
        case unknownAgent
        /// Refused without looking at the password until then.
        case locked(until: Date)
    }

    /// Why an account change was refused.
    public enum AccountError: Error, Sendable, Hashable, CustomStringConvertible {
        case unknownAgent(String)
        case duplicateAgent(String)
        case emptyAgentID
        case emptyPassword
        case nothingToChange

        public var description: String {
            switch self {
            case .unknownAgent(let id): "no desktop agent '\(id)'"
            case .duplicateAgent(let id): "desktop agent '\(id)' already exists"
            case .emptyAgentID: "the agent id is empty"
            case .emptyPassword: "the password is empty"
            case .nothingToChange: "nothing to change (give --device, --name or a new password)"
            }
        }
    }

    public let store: CTIStore
    public let policy: Policy
    private let logger: Logger
    /// A hash of nothing anyone types, compared against for unknown agents so that they take as long as known ones
    /// (made on first use: the command line's `agents list` never needs it).
    private let dummyHash = Mutex<String?>(nil)

    public init(store: CTIStore, policy: Policy = Policy(), logger: Logger) {
        self.store = store
        self.policy = policy
        self.logger = logger
    }

    // MARK: - Managing accounts

    /// Adds an agent with a freshly hashed password.
    @discardableResult
    public func add(agentID: String, device: String?, name: String?, password: String, at: Date = Date()) throws -> StoredDesktopAgent {
        guard !agentID.isEmpty else { throw AccountError.emptyAgentID }
        guard !password.isEmpty else { throw AccountError.emptyPassword }
        let agent = StoredDesktopAgent(
            agentID: agentID, device: device, name: name, passwordHash: hash(password), createdAt: at, updatedAt: at)
        do {
            try store.addDesktopAgent(agent)
        } catch let error as CTIStoreError where error.code == .alreadyExists {
            throw AccountError.duplicateAgent(agentID)
        }
        logger.info("desktop agent added", metadata: ["agent": "\(agentID)"])
        return agent
    }

    /// Changes an agent's device, name and/or password (`nil`: unchanged; a new password clears any lock-out).
    @discardableResult
    public func set(
        agentID: String, device: String?? = nil, name: String?? = nil, password: String? = nil, at: Date = Date()
    ) throws -> StoredDesktopAgent {
        if let password, password.isEmpty { throw AccountError.emptyPassword }
        let change = DesktopAgentChange(device: device, name: name, passwordHash: password.map(hash))
        guard !change.isEmpty else { throw AccountError.nothingToChange }
        guard let agent = try store.setDesktopAgent(agentID, change, at: at) else {
            throw AccountError.unknownAgent(agentID)
        }
        logger.info(
            "desktop agent changed",
            metadata: ["agent": "\(agentID)", "password": "\(password == nil ? "unchanged" : "changed")"])
        return agent
    }

    /// Removes an agent.
    public func remove(agentID: String) throws {
        guard try store.removeDesktopAgent(agentID) else { throw AccountError.unknownAgent(agentID) }
        logger.info("desktop agent removed", metadata: ["agent": "\(agentID)"])
    }

    /// Every agent, by id.
    public func list() throws -> [StoredDesktopAgent] { try store.desktopAgents() }

    // MARK: - Logging in

    /// Checks a login. A locked account is refused without looking at the password (a dummy hash is checked instead,
    /// as for an unknown agent, so every answer takes about as long); a wrong password counts
    /// towards the lock-out (and the failure that locks it returns ``Verdict/locked(until:)``); success clears the
    /// count. Blocking: bcrypt takes a while, call it off the cooperative pool or use the `async` variant.
    public func verify(agentID: String, password: String, now: Date = Date()) throws -> Verdict {
        guard let agent = try store.desktopAgent(agentID) else {
            _ = Bcrypt.verify(password, hash: dummy())
            logger.notice("desktop login for unknown agent", metadata: ["agent": "\(agentID)"])
            return .unknownAgent
        }
        if let until = agent.lockedUntil, until > now {
            _ = Bcrypt.verify(password, hash: dummy())  // a refusal takes as long as a check
            return .locked(until: until)
        }
        if !password.isEmpty, Bcrypt.verify(password, hash: agent.passwordHash) {
            if agent.failedLogins > 0 || agent.lockedUntil != nil { try store.clearFailedLogins(agentID) }
            return .ok(agent)
        }
        let updated = try store.recordFailedLogin(
            agentID, lockAfter: policy.lockAfterFailures, lockFor: policy.lockDuration, at: now)
        return failureVerdict(agentID, updated, now: now)
    }

    /// Checks a login (see the blocking ``verify(agentID:password:now:)``); bcrypt runs on a thread of its own so it
    /// does not hold up other tasks.
    public func verify(agentID: String, password: String, now: Date = Date()) async throws -> Verdict {
        guard let agent = try await store.desktopAgent(agentID) else {
            let dummy = dummy()
            _ = await Self.offPool { Bcrypt.verify(password, hash: dummy) }
            logger.notice("desktop login for unknown agent", metadata: ["agent": "\(agentID)"])
            return .unknownAgent
        }
        if let until = agent.lockedUntil, until > now {
            let dummy = dummy()
            _ = await Self.offPool { Bcrypt.verify(password, hash: dummy) }  // a refusal takes as long as a check
            return .locked(until: until)
        }
        let hash = agent.passwordHash
        if !password.isEmpty, await Self.offPool({ Bcrypt.verify(password, hash: hash) }) {
            if agent.failedLogins > 0 || agent.lockedUntil != nil { try await store.clearFailedLogins(agentID) }
            return .ok(agent)
        }
        let updated = try await store.recordFailedLogin(
            agentID, lockAfter: policy.lockAfterFailures, lockFor: policy.lockDuration, at: now)
        return failureVerdict(agentID, updated, now: now)
    }

    private func failureVerdict(_ agentID: String, _ updated: StoredDesktopAgent?, now: Date) -> Verdict {
        guard let updated else { return .unknownAgent }  // removed in between
        if let until = updated.lockedUntil, until > now {
            logger.warning("desktop agent locked out", metadata: ["agent": "\(agentID)", "until": "\(until)"])
            return .locked(until: until)
        }
        logger.notice("desktop login with a wrong password", metadata: ["agent": "\(agentID)"])
        return .wrongPassword
    }

    // MARK: - Hashing

    private var cost: UInt8 { UInt8(min(31, max(4, policy.bcryptCost))) }

    private func hash(_ password: String) -> String { Bcrypt.hash(password, cost: cost) }

    private func dummy() -> String {
        if let hash = dummyHash.withLock({ $0 }) { return hash }
        let hash = Bcrypt.hash(UUID().uuidString, cost: cost)
        return dummyHash.withLock { stored in
            if stored == nil { stored = hash }
            return stored ?? hash
        }
    }

    /// Runs CPU-heavy work on a fresh thread and resumes when it is done.
    private static func offPool(_ work: @escaping @Sendable () -> Bool) async -> Bool {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: work()) }
        }
    }
}
