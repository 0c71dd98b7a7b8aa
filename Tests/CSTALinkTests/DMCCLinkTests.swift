import CSTA
import Logging
import Simulator
import Testing

@testable import CSTALink

/// The DMCC start-up against the simulator configured as AES would be: the log-in (`SessionLoginInfo` user name and
/// password from ``LinkConfiguration/credentials``) is checked, and the application session expires unless its timer
/// is reset.
@Suite(.serialized, .timeLimit(.minutes(1))) struct DMCCLinkTests {
    static let login = DMCCLogin(user: "cti", password: "pa55-Word")

    static func credentials(user: String, password: String) -> (inout LinkConfiguration) -> Void {
        { c in
            c.credentials.dmccUser = user
            c.credentials.dmccPassword = password
            c.sessionCleanupDelay = 30
        }
    }

    /// No log line of either side, at any level, carries a password.
    static func expectNoPasswordLogged(_ h: SimulatorLink, _ passwords: [String]) {
        let lines = h.linkLogs.all + h.simulatorLogs.all
        #expect(!lines.isEmpty)
        for password in passwords {
            let leaks = lines.filter { $0.text.contains(password) }
            #expect(leaks.isEmpty, "password logged: \(leaks.map(\.text))")
        }
    }

    @Test func theRightLogInBringsTheLinkUp() async throws {
        let h = try await SimulatorLink.start(
            .dmcc, monitors: ["4001", "8001"], dmccLogin: Self.login, linkLogLevel: .trace,
            configure: Self.credentials(user: "cti", password: "pa55-Word"))
        #expect(await h.link.linkIsUp)
        #expect(await h.link.sessionID != nil)
        #expect(await h.link.lastStartUpError == nil)
        #expect(h.simulatorLogs.lines(startingWith: "DMCC log-in refused").isEmpty)
        let up = await h.log.stateChanges().first?.change
        #expect(up?.state == .up && up?.monitors == 2)
        // The configuration itself never prints the password either.
        let config = h.link.configuration
        #expect(!"\(config)".contains("pa55-Word") && !String(reflecting: config.credentials).contains("pa55-Word"))
        Self.expectNoPasswordLogged(h, ["pa55-Word"])
        await h.shutdown()
    }

    /// A wrong password: the switch answers StartApplicationSessionNegResponse (`invalidApplicationInfo`); the link
    /// reports each attempt as link-down with ``CSTALinkError/Code/authenticationFailed`` and a reason that says so,
    /// never comes up, and retries on its exponential back-off rather than in a loop.
    @Test func aWrongPasswordIsAnAuthenticationFailureAndBacksOff() async throws {
        let h = try await SimulatorLink.start(
            .dmcc, monitors: ["4001"], dmccLogin: Self.login, waitForUp: false, linkLogLevel: .trace,
            configure: { c in
                Self.credentials(user: "cti", password: "wrong-Pass")(&c)
                c.backoff = .init(initial: .milliseconds(200), maximum: .seconds(1), jitter: 0)
            })
        let first = try #require(await h.log.first(within: .seconds(5)) { $0.linkState == .down })
        let down = try #require(first.entry.event.stateChange)
        #expect(down.error == .authenticationFailed)
        #expect(down.reason.hasPrefix("authentication failed"), "\(down.reason)")
        #expect(down.reason.contains("invalidApplicationInfo") && down.reason.contains("\"cti\""), "\(down.reason)")
        #expect(down.json.contains("\"error\":\"authenticationFailed\""), "\(down.json)")
        #expect(await h.link.lastStartUpError?.code == .authenticationFailed)

        // Watch the retries for 2.5 s: back-off 0.2, 0.4, 0.8, 1 s means about four more attempts, not hundreds.
        try await Task.sleep(for: .milliseconds(2500))
        let refusals = h.simulatorLogs.lines(startingWith: "DMCC log-in refused").map(\.at)
        #expect(refusals.count >= 3 && refusals.count <= 6, "\(refusals.count) log-in attempts in 2.5 s")
        for (a, b) in zip(refusals, refusals.dropFirst()) {
            #expect(b - a >= .milliseconds(150), "attempts \(b - a) apart")
        }
        let changes = await h.log.stateChanges().map(\.change)
        #expect(!changes.contains { $0.state == .up })
        #expect(changes.allSatisfy { $0.error == .authenticationFailed }, "\(changes.map(\.reason))")
        #expect(!(await h.link.linkIsUp))
        Self.expectNoPasswordLogged(h, ["wrong-Pass", "pa55-Word"])
        await h.shutdown()
    }

    /// ECMA-354 session timer: with a 3 s session the link resets the timer (every second) often enough that the
    /// switch never terminates the session, over more than three durations; the link stays up on one connection and
    /// still gets events.
    @Test func theLinksTimerResetsKeepAShortSessionAlive() async throws {
        let h = try await SimulatorLink.start(
            .dmcc, monitors: ["4001", "4002", "8001"], agentsReady: true,
            configure: { c in
                c.sessionDuration = 3
                c.heartbeatInterval = .seconds(1)
                c.deadLinkInterval = .seconds(4)
            })
        let sessionID = await h.link.sessionID
        #expect(sessionID != nil)
        #expect(await h.link.sessionDuration == 3)
        try await Task.sleep(for: .milliseconds(9500))
        #expect(h.simulatorLogs.lines(startingWith: "DMCC session expired").isEmpty)
        #expect(await h.log.stateChanges().map(\.change.state) == [.up], "state changes while the session should live")
        #expect(await h.link.sessionID == sessionID)
        let mark = await h.log.count
        let call = try await h.placeInboundCall()
        #expect(await h.log.event("queued", device: "8001", callID: call, from: mark) != nil)
        await h.shutdown()
    }
}
