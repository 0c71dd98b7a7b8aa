import CSTA
import NIOCore
import Testing

@testable import Simulator

/// The simulator's ECMA-354 application session as AES runs it: the configured log-in is checked
/// (`SessionLoginInfo`), and a session whose timer is not reset within its duration is terminated.
@Suite(.timeLimit(.minutes(1))) struct DMCCSessionTests {
    static let login = DMCCLogin(user: "cti", password: "s3cret")

    func start(login: DMCCLogin? = nil) async throws -> SimulatorServer {
        try await SimulatorServer.start(
            configuration: SimulatorConfiguration(encoding: .xml, framing: .ecma323, flavor: .dmcc, dmccLogin: login),
            group: simulatorTestGroup)
    }

    static func startSession(
        user: String? = nil, password: String? = nil, duration: Int64 = 60
    ) -> [String: CSTARecord.Value] {
        var r: [String: CSTARecord.Value] = [
            "service": .string("StartApplicationSession"), "applicationID": .string("test"), "sessionDuration": .int(duration),
        ]
        if let user { r["authenticationName"] = .string(user) }
        if let password { r["authenticationPassword"] = .string(password) }
        return r
    }

    @Test func aWrongLogInIsRefusedWithANegResponseAndTheRightOneAccepted() async throws {
        let server = try await start(login: Self.login)
        try await LoopbackClient.connect(to: server).talk { c in
            for (user, password) in [("cti", "wrong"), ("other", "s3cret"), ("cti", nil)] as [(String, String?)] {
                let refused = try await c.request(Self.startSession(user: user, password: password), invokeId: 1)
                #expect(refused.string("pdu") == "returnError", "\(user)/\(password ?? "none")")
                #expect(refused.string("service") == "StartApplicationSession")
                #expect(refused.string("errorCategory") == "definedError")
                #expect(refused.string("errorValue") == "invalidApplicationInfo")
            }
            let none = try await c.request(Self.startSession(), invokeId: 2)
            #expect(none.string("errorValue") == "invalidApplicationInfo")
            // Refused: still no session, so requests are refused too.
            let early = try await c.request(["service": .string("MonitorStart"), "monitorObject": .string("4001")], invokeId: 3)
            #expect(early.string("pdu") == "returnError")
            let accepted = try await c.request(Self.startSession(user: "cti", password: "s3cret"), invokeId: 4)
            #expect(accepted.string("pdu") == "returnResult" && accepted.string("sessionID") != nil)
            let monitor = try await c.request(["service": .string("MonitorStart"), "monitorObject": .string("4001")], invokeId: 5)
            #expect(monitor.string("monitorCrossRefID") != nil)
        }
        try await server.shutdown()
    }

    @Test func withoutAConfiguredLogInAnyLogInIsAccepted() async throws {
        let server = try await start()
        try await LoopbackClient.connect(to: server).talk { c in
            let accepted = try await c.request(Self.startSession(user: "anyone", password: "anything"), invokeId: 1)
            #expect(accepted.string("pdu") == "returnResult" && accepted.string("sessionID") != nil)
        }
        try await server.shutdown()
    }

    /// Reads until the answer to `invokeId`; any ApplicationSessionTerminated on the way is returned as well.
    static func answer(
        _ c: inout Conversation, invokeId: Int
    ) async throws -> (answer: CSTARecord?, terminated: CSTARecord?) {
        var terminated: CSTARecord?
        while let r = try await c.next() {
            if r.string("service") == "ApplicationSessionTerminated" { terminated = r }
            if ["returnResult", "returnError"].contains(r.string("pdu") ?? ""), r.int("invokeId") == Int64(invokeId) {
                return (r, terminated)
            }
        }
        return (nil, terminated)
    }

    /// ResetApplicationSessionTimer with the session's id keeps a 3 s session alive for more than twice its duration;
    /// a wrong id is refused and resets nothing. Then the resets stop while other requests keep coming: per ECMA-354
    /// only the reset restarts the timer, so the switch sends ApplicationSessionTerminated about one duration after the
    /// last reset and closes the link. (Resets every 0.5 s: a loaded machine may stall the test 2.5 s before it
    /// matters.)
    @Test func resetsKeepTheSessionAliveAndOnlyResetsDo() async throws {
        let server = try await start()
        try await LoopbackClient.connect(to: server, deadline: .seconds(30)).talk { c in
            let session = try await c.request(Self.startSession(duration: 3), invokeId: 1)
            let id = try #require(session.string("sessionID"))
            #expect(session.int("sessionDuration") == 3)
            let wrong = try await c.request(
                ["service": .string("ResetApplicationSessionTimer"), "sessionID": .string("nope"), "sessionDuration": .int(3)],
                invokeId: 2)
            #expect(wrong.string("pdu") == "returnError" && wrong.string("errorValue") == "invalidSessionID")
            #expect(wrong.string("service") == "ResetApplicationSessionTimer")

            let started = ContinuousClock.now
            var invokeId = 3
            while ContinuousClock.now - started < .milliseconds(7000) {
                try await Task.sleep(for: .milliseconds(500))
                try await c.send(
                    ["pdu": .string("invoke"), "service": .string("ResetApplicationSessionTimer"), "sessionID": .string(id),
                     "sessionDuration": .int(3)], invokeId: invokeId)
                let (answer, terminated) = try await Self.answer(&c, invokeId: invokeId)
                #expect(terminated == nil, "terminated \(ContinuousClock.now - started) into the resets")
                #expect(answer?.string("pdu") == "returnResult" && answer?.int("sessionDuration") == 3)
                guard answer != nil, terminated == nil else { return }
                invokeId += 1
            }
            let lastReset = ContinuousClock.now

            // Traffic without resets: snapshots every 300 ms until the switch ends the session.
            var terminated: CSTARecord?
            while terminated == nil, ContinuousClock.now - lastReset < .seconds(8) {
                try await Task.sleep(for: .milliseconds(300))
                try? await c.send(
                    ["pdu": .string("invoke"), "service": .string("SnapshotDevice"), "device": .string("4001")], invokeId: invokeId)
                let (answer, seen) = try await Self.answer(&c, invokeId: invokeId)
                terminated = seen
                if answer == nil { break }
                invokeId += 1
            }
            let after = ContinuousClock.now - lastReset
            let message = try #require(terminated, "no ApplicationSessionTerminated \(after) after the last reset")
            #expect(message.string("pdu") == "invoke" && message.string("sessionID") == id)
            #expect(message.string("reason") == "sessionTimerExpired")
            // The 3 s timer runs from when the switch took the last reset; `lastReset` is when its answer arrived here,
            // which a loaded machine delays — so the lower bound leaves room for that.
            #expect(after >= .milliseconds(1500) && after < .seconds(6), "terminated \(after) after the last reset")
            // …and the switch closed the link.
            #expect(try await c.next() == nil)
        }
        try await server.shutdown()
    }

    /// A session that is never reset ends after its duration.
    @Test func aSessionThatIsNeverResetIsTerminated() async throws {
        let server = try await start()
        let started = ContinuousClock.now
        try await LoopbackClient.connect(to: server, deadline: .seconds(10)).talk { c in
            let session = try await c.request(Self.startSession(duration: 1), invokeId: 1)
            let terminated = try await c.next { $0.string("service") == "ApplicationSessionTerminated" }
            #expect(terminated.string("sessionID") == session.string("sessionID"))
            #expect(try await c.next() == nil)
        }
        let elapsed = ContinuousClock.now - started
        #expect(elapsed >= .milliseconds(900) && elapsed < .seconds(5), "\(elapsed)")
        try await server.shutdown()
    }
}
