import CSTA
import Testing

@testable import CSTALink

@Suite(.timeLimit(.minutes(1))) struct XMLLinkTests {
    @Test func openScapeStartUp() async throws {
        let sw = try await FakeSwitch.start(mode: .osv, framing: .ecma323)
        let link = CSTALinkClient(configuration: testConfig(.openScapeXML, port: sw.port), logger: quietLogger())
        let log = EventLog(link)
        await link.addMonitors(["4001"])
        await link.start()
        #expect(await link.waitUntilUp(timeout: .seconds(5)))
        // The switch spoke first; its SystemStatus was answered, then SystemRegister.
        #expect(sw.state.with { $0.systemStatusAnswers } == 1)
        #expect(sw.state.requests("SystemRegister").count == 1)
        #expect(await link.sysStatRegisterID == "0042")
        let made = try await link.makeCall(from: "4001", to: "4711")
        #expect(made.record.string("callID") == "0101")
        #expect(await log.first { $0.cstaMessage?.device == "4001" } != nil)
        do {
            _ = try await link.makeCall(from: "4001", to: "99999")
            Issue.record("expected CSTAErrorCode")
        } catch let error as CSTAServiceError {
            #expect(error.value == "invalidDeviceID")
        }
        // Invoke ids stay in 1…9998.
        let ids = sw.state.with { $0.requests.compactMap { $0.string("pdu") == "invoke" ? $0.int("invokeId") : nil } }
        #expect(ids.allSatisfy { (1...9998).contains($0) })
        await link.shutdown()
        await sw.shutdown()
    }

    @Test func openScapeWithOneByteWrites() async throws {
        let sw = try await FakeSwitch.start(mode: .osv, framing: .ecma323)
        sw.state.with { $0.oneByteWrites = true }
        let link = CSTALinkClient(configuration: testConfig(.openScapeXML, port: sw.port), logger: quietLogger())
        let log = EventLog(link)
        await link.addMonitors(["4001"])
        await link.start()
        #expect(await link.waitUntilUp(timeout: .seconds(5)))
        _ = try await link.makeCall(from: "4001", to: "4711")
        #expect(await log.first { $0.cstaMessage?.device == "4001" } != nil)
        await link.shutdown()
        await sw.shutdown()
    }

    @Test func dmccSessionDeviceIdsAndTimerReset() async throws {
        let sw = try await FakeSwitch.start(mode: .dmcc, framing: .ecma323)
        var config = testConfig(.dmccXML, port: sw.port)
        config.credentials.dmccUser = "cti"
        config.sessionDuration = 3
        let link = CSTALinkClient(configuration: config, logger: quietLogger())
        let log = EventLog(link)
        await link.addMonitors(["4001"])
        await link.start()
        #expect(await link.waitUntilUp(timeout: .seconds(5)))
        #expect(await link.sessionID == "S-1")
        #expect(sw.state.requests("StartApplicationSession").first?.string("authenticationName") == "cti")
        #expect(sw.state.requests("MonitorStart").first?.string("monitorObject") == "other:4001:CM1:10.0.0.1:0")
        _ = try await link.makeCall(from: "4001", to: "4711")
        #expect(await log.first { $0.cstaMessage?.device == "4001" } != nil)
        // actualSessionDuration 3 s → ResetApplicationSessionTimer every second, well before expiry.
        #expect(await eventually(within: .seconds(3)) { sw.state.with { $0.sessionResets } >= 1 })
        await link.shutdown()
        await sw.shutdown()
    }
}
