import Foundation
import ScreenPop
import Store
import Testing

@Suite("Desktop agent accounts")
struct AgentAccountsTests {
    /// Cost 4: bcrypt's cheapest, so the tests stay fast.
    static let policy = AgentAccounts.Policy(bcryptCost: 4, lockAfterFailures: 3, lockDuration: 15 * 60)

    @Test("passwords are stored as bcrypt hashes and verified")
    func verify() async throws {
        let temp = try TemporaryStore()
        defer { temp.remove() }
        let accounts = AgentAccounts(store: temp.store, policy: Self.policy, logger: quietLogger)
        try accounts.add(agentID: "A1", device: "4001", name: "李娜", password: "s3cret 密码")
        let stored = try #require(try await temp.store.desktopAgent("A1"))
        #expect(stored.passwordHash.hasPrefix("$2"))
        #expect(!stored.passwordHash.contains("s3cret"))
        #expect(stored.device == "4001")
        #expect(stored.name == "李娜")

        guard case .ok(let agent) = try await accounts.verify(agentID: "A1", password: "s3cret 密码") else {
            Issue.record("the right password was refused")
            return
        }
        #expect(agent.agentID == "A1")
        #expect(try await accounts.verify(agentID: "A1", password: "s3cret 密码") == .ok(stored))
        #expect(try await accounts.verify(agentID: "A1", password: "S3CRET 密码") == .wrongPassword)
        #expect(try await accounts.verify(agentID: "A1", password: "") == .wrongPassword)
        #expect(try await accounts.verify(agentID: "nobody", password: "s3cret 密码") == .unknownAgent)
        #expect(try await accounts.verify(agentID: "nobody", password: "x") == .unknownAgent)
    }

    @Test("consecutive failures lock the account until the lock expires; success clears the count")
    func lockOut() async throws {
        let temp = try TemporaryStore()
        defer { temp.remove() }
        let accounts = AgentAccounts(store: temp.store, policy: Self.policy, logger: quietLogger)
        try accounts.add(agentID: "A1", device: nil, name: nil, password: "right")
        let t0 = Date(timeIntervalSince1970: 1_790_000_000)

        // Two failures, then a success: the count starts again.
        #expect(try await accounts.verify(agentID: "A1", password: "wrong", now: t0) == .wrongPassword)
        #expect(try await accounts.verify(agentID: "A1", password: "wrong", now: t0) == .wrongPassword)
        #expect(try await temp.store.desktopAgent("A1")?.failedLogins == 2)
        if case .ok = try await accounts.verify(agentID: "A1", password: "right", now: t0) {} else { Issue.record("not ok") }
        #expect(try await temp.store.desktopAgent("A1")?.failedLogins == 0)

        // Three in a row lock it for 15 minutes, even for the right password.
        #expect(try await accounts.verify(agentID: "A1", password: "wrong", now: t0) == .wrongPassword)
        #expect(try await accounts.verify(agentID: "A1", password: "wrong", now: t0) == .wrongPassword)
        let until = t0.addingTimeInterval(15 * 60)
        #expect(try await accounts.verify(agentID: "A1", password: "wrong", now: t0) == .locked(until: until))
        #expect(try await accounts.verify(agentID: "A1", password: "right", now: t0.addingTimeInterval(60)) == .locked(until: until))
        #expect(try await accounts.verify(agentID: "A1", password: "right", now: until.addingTimeInterval(-1)) == .locked(until: until))

        // After the lock: the right password works and clears the lock.
        if case .ok = try await accounts.verify(agentID: "A1", password: "right", now: until) {} else { Issue.record("not ok") }
        let agent = try #require(try await temp.store.desktopAgent("A1"))
        #expect(agent.lockedUntil == nil)
        #expect(agent.failedLogins == 0)
    }

    @Test("a new password lifts a lock; add, set, remove and their errors")
    func manage() throws {
        let temp = try TemporaryStore()
        defer { temp.remove() }
        let accounts = AgentAccounts(store: temp.store, policy: Self.policy, logger: quietLogger)
        try accounts.add(agentID: "A2", device: "4002", name: "Bob", password: "one")
        try accounts.add(agentID: "A1", device: "4001", name: nil, password: "one")
        #expect(throws: AgentAccounts.AccountError.duplicateAgent("A1")) {
            try accounts.add(agentID: "A1", device: nil, name: nil, password: "x")
        }
        #expect(throws: AgentAccounts.AccountError.emptyPassword) {
            try accounts.add(agentID: "A3", device: nil, name: nil, password: "")
        }
        #expect(throws: AgentAccounts.AccountError.emptyAgentID) {
            try accounts.add(agentID: "", device: nil, name: nil, password: "x")
        }
        #expect(throws: AgentAccounts.AccountError.unknownAgent("A9")) { try accounts.set(agentID: "A9", name: "x") }
        #expect(throws: AgentAccounts.AccountError.nothingToChange) { try accounts.set(agentID: "A1") }
        #expect(throws: AgentAccounts.AccountError.unknownAgent("A9")) { try accounts.remove(agentID: "A9") }
        #expect(try accounts.list().map(\.agentID) == ["A1", "A2"])

        let now = Date()
        for _ in 0..<3 { _ = try accounts.verify(agentID: "A1", password: "bad", now: now) }
        #expect(try temp.store.desktopAgent("A1")?.lockedUntil != nil)
        let changed = try accounts.set(agentID: "A1", device: .some(nil), name: "Ann", password: "two")
        #expect(changed.device == nil)
        #expect(changed.name == "Ann")
        #expect(changed.lockedUntil == nil)
        #expect(try accounts.verify(agentID: "A1", password: "one", now: now) == .wrongPassword)
        if case .ok = try accounts.verify(agentID: "A1", password: "two", now: now) {} else { Issue.record("not ok") }

        try accounts.remove(agentID: "A2")
        #expect(try accounts.list().map(\.agentID) == ["A1"])
        #expect(try accounts.verify(agentID: "A2", password: "one") == .unknownAgent)
    }
}
