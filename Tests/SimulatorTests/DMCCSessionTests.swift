import CSTA
import NIOCore
import Testing

@testable import Simulator

/// The simulator's ECMA-354 application session as AES runs it: the configured log-in is checked
/// (`SessionLoginInfo`).
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
}
