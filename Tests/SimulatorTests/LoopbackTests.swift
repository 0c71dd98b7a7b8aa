import CallModel
import CSTA
import Foundation
import NIOCore
import Synchronization
import Testing

@testable import Simulator

@Suite(.timeLimit(.minutes(1))) struct LoopbackTests {
    static let caller = "+498912345678"

    func start(_ configuration: SimulatorConfiguration, truth: (@Sendable (CallTruthRecord) -> Void)? = nil) async throws -> SimulatorServer {
        try await SimulatorServer.start(configuration: configuration, group: simulatorTestGroup, truthSink: truth)
    }

    func associate(_ c: inout Conversation) async throws {
        try await c.send(["pdu": .string("aarq"), "applicationContext": .string("1.3.12.0.218"), "cstaVersions": .strings(["versionFour"])])
        let aare = try await c.next { $0.string("pdu") == "aare" }
        #expect(aare.string("result") == "accepted")
        let status = try await c.next { $0.string("service") == "SystemStatus" }
        try await c.answerSystemStatus(status)
    }

    @Test func berAssociationMonitorsAndAnInboundCallSeenOnlyByMonitoredDevices() async throws {
        let finished = Mutex<[CallTruthRecord]>([])
        let server = try await start(SimulatorConfiguration(encoding: .ber, framing: .hipath)) { record in
            finished.withLock { $0.append(record) }
        }
        let client = try await LoopbackClient.connect(to: server)
        try await client.talk { c in
            try await associate(&c)
            let m1 = try await c.request(["op": .int(71), "monitorObject": .string("4001")], invokeId: 2)
            let m8 = try await c.request(["op": .int(71), "monitorObject": .string("8001")], invokeId: 3)
            let agentXref = try #require(m1.string("monitorCrossRefID"))
            let queueXref = try #require(m8.string("monitorCrossRefID"))
            // Agent 4002 logs on through the switch itself: not monitored, so the link sees nothing of it.
            try await server.perform { (m, now) throws(SwitchError) in
                try m.setAgentState(device: "4002", requested: "loggedOn", now: now)
            }
            let loggedOn = try await c.request(
                ["op": .int(312), "device": .string("4001"), "requestedAgentState": .string("loggedOn"), "agentID": .string("A4001")],
                invokeId: 4)
            #expect(loggedOn.string("pdu") == "returnResult")
            let onEvent = try await c.event()
            #expect(onEvent.string("event") == "agentLoggedOn" && onEvent.string("monitorCrossRefID") == agentXref)
            _ = try await c.request(["op": .int(312), "device": .string("4001"), "requestedAgentState": .string("ready")], invokeId: 5)
            #expect(try await c.event().string("event") == "agentReady")
            let call = try await server.perform { (m, now) throws(SwitchError) in
                try m.placeInboundCall(from: Self.caller, to: "96510", now: now)
            }
            var seen: [(String, String)] = []
            for _ in 0..<4 {
                let e = try await c.event()
                seen.append((e.string("event") ?? "?", e.string("monitorCrossRefID") ?? "?"))
            }
            #expect(seen.map(\.0) == ["queued", "agentBusy", "diverted", "delivered"])
            #expect(seen.map(\.1) == [queueXref, agentXref, queueXref, agentXref])
            let answered = try await c.request(["op": .int(2), "callID": .string(call), "connDevice": .string("4001")], invokeId: 6)
            #expect(answered.string("pdu") == "returnResult")
            let established = try await c.event()
            #expect(established.string("event") == "established" && established.string("callID") == call)
            #expect(established.string("localConnectionInfo") == "connected")
            _ = try await c.request(["op": .int(9), "callID": .string(call), "connDevice": .string("4001")], invokeId: 7)
            #expect(try await c.event().string("event") == "held")
            let snapshot = try await c.request(["op": .int(74), "device": .string("4001")], invokeId: 8)
            #expect(snapshot.strings("snapshotCallIDs") == [call])
            #expect(try await server.snapshot().calls[call]?.state(of: "4001") == .hold)
            _ = try await c.request(["op": .int(14), "callID": .string(call), "connDevice": .string("4001")], invokeId: 9)
            #expect(try await c.event().string("event") == "retrieved")
            let bad = try await c.request(["op": .int(9), "callID": .string(call), "connDevice": .string("4002")], invokeId: 10)
            #expect(bad.string("pdu") == "returnError" && bad.string("errorCategory") == "stateIncompatibility")
            _ = try await c.request(["op": .int(5), "callID": .string(call), "connDevice": .string("4001")], invokeId: 11)
            #expect(try await c.event().string("event") == "connectionCleared")
            // 4001 left the call, so its monitor sees no callCleared; the agent is ready again.
            #expect(try await c.event().string("event") == "agentReady")
            #expect(try await server.snapshot().calls.isEmpty)
        }
        #expect(finished.withLock { $0.map(\.outcome) } == ["answered"])
        try await server.shutdown()
    }

    /// BER shows an id's octets as lower-case hex and XML keeps the text, so an application may send an id back in the
    /// other case than the switch wrote it: the switch takes it either way.
    @Test func idsAreTakenBackInEitherCase() async throws {
        let server = try await start(SimulatorConfiguration(encoding: .xml, framing: .ecma323))
        var calls: [String] = []
        for _ in 0..<11 {
            calls.append(try await server.perform { (m, now) throws(SwitchError) in
                try m.placeInboundCall(from: Self.caller, to: "96510", now: now)
            })
        }
        let call = try #require(calls.first { $0.contains { $0.isLetter } }, "no call id with a hex letter: \(calls)")
        let flipped = String(call.map { $0.isUppercase ? Character($0.lowercased()) : Character($0.uppercased()) })
        try await LoopbackClient.connect(to: server).talk { c in
            let status = try await c.next { $0.string("service") == "SystemStatus" }
            try await c.answerSystemStatus(status)
            _ = try await c.request(["service": .string("SystemRegister")], invokeId: 1)
            let cleared = try await c.request(["service": .string("ClearCall"), "callID": .string(flipped)], invokeId: 2)
            #expect(cleared.string("pdu") == "returnResult", "ClearCall \(flipped) for \(call): \(cleared.values)")
        }
        #expect(try await server.snapshot().calls[call] == nil)
        try await server.shutdown()
    }

    @Test func wrongApplicationContextIsRejectedAndRequestsBeforeAssociationFail() async throws {
        let server = try await start(SimulatorConfiguration(encoding: .ber, framing: .u16))
        try await LoopbackClient.connect(to: server).talk { c in
            let early = try await c.request(["op": .int(71), "monitorObject": .string("4001")], invokeId: 1)
            #expect(early.string("pdu") == "returnError")
            try await c.send(["pdu": .string("aarq"), "applicationContext": .string("1.3.12.0.180.1")])
            let aare = try await c.next { $0.string("pdu") == "aare" }
            #expect(aare.string("result") == "rejectedPermanent")
            #expect(try await c.next() == nil)
        }
        try await server.shutdown()
    }

    @Test func xmlOpenScapeStartUpMakeCallAndErrors() async throws {
        let server = try await start(SimulatorConfiguration(encoding: .xml, framing: .ecma323))
        try await LoopbackClient.connect(to: server).talk { c in
            let status = try await c.next { $0.string("service") == "SystemStatus" }
            #expect(status.string("pdu") == "invoke")
            let early = try await c.request(["service": .string("MonitorStart"), "monitorObject": .string("4001")], invokeId: 1)
            #expect(early.string("pdu") == "returnError")
            try await c.answerSystemStatus(status)
            let register = try await c.request(["service": .string("SystemRegister")], invokeId: 2)
            #expect(register.string("sysStatRegisterID") != nil)
            let monitor = try await c.request(["service": .string("MonitorStart"), "monitorObject": .string("4001")], invokeId: 3)
            #expect(monitor.int("invokeId") == 3 && monitor.string("monitorCrossRefID") != nil)
            let made = try await c.request(
                ["service": .string("MakeCall"), "calling": .string("4001"), "called": .string("4002")], invokeId: 4)
            let call = try #require(made.string("callID"))
            let events = [try await c.event(), try await c.event(), try await c.event()]
            #expect(events.map { $0.string("event") } == ["serviceInitiated", "originated", "delivered"])
            #expect(events.allSatisfy { $0.int("invokeId") == 9999 })
            let wrong = try await c.request(
                ["service": .string("AnswerCall"), "callID": .string(call), "connDevice": .string("4003")], invokeId: 5)
            #expect(wrong.string("pdu") == "returnError" && wrong.string("errorValue") == "invalidConnectionID")
            let cleared = try await c.request(["service": .string("ClearCall"), "callID": .string(call)], invokeId: 6)
            #expect(cleared.string("pdu") == "returnResult")
            #expect(try await c.event().string("event") == "callCleared")
        }
        try await server.shutdown()
    }

    @Test func dmccApplicationSession() async throws {
        let server = try await start(SimulatorConfiguration(encoding: .xml, framing: .ecma323, flavor: .dmcc))
        try await LoopbackClient.connect(to: server).talk { c in
            let session = try await c.request(
                ["service": .string("StartApplicationSession"), "applicationID": .string("test"), "sessionDuration": .int(60)],
                invokeId: 1)
            let sessionID = try #require(session.string("sessionID"))
            #expect(session.int("sessionDuration") == 60)
            let reset = try await c.request(
                ["service": .string("ResetApplicationSessionTimer"), "sessionID": .string(sessionID), "sessionDuration": .int(60)],
                invokeId: 2)
            #expect(reset.string("pdu") == "returnResult")
            let id = try await c.request(["service": .string("GetDeviceId"), "device": .string("4002")], invokeId: 3)
            let device = try #require(id.string("device"))
            let monitor = try await c.request(["service": .string("MonitorStart"), "monitorObject": .string(device)], invokeId: 4)
            #expect(monitor.string("monitorCrossRefID") != nil)
            _ = try await server.perform { (m, now) throws(SwitchError) in try m.makeCall(calling: "4001", called: "4002", now: now) }
            let delivered = try await c.event()
            #expect(delivered.string("event") == "delivered")
        }
        try await server.shutdown()
    }

    @Test func dropFaultClosesTheLink() async throws {
        // Faults run on the switch's clock from its start, so time from before the start.
        let started = ContinuousClock.now
        let server = try await start(SimulatorConfiguration(encoding: .ber, framing: .hipath, faults: [.drop(every: .milliseconds(500))]))
        try await LoopbackClient.connect(to: server).talk { c in
            // The drop may come before the association when the machine is busy: only the close is checked.
            try? await c.send(["pdu": .string("aarq"), "applicationContext": .string("1.3.12.0.218")])
            // A close with our AARQ still unread arrives as a reset: either way the switch ended the link.
            do {
                while try await c.next() != nil {}
            } catch let error as IOError where error.errnoCode == ECONNRESET {}
        }
        let elapsed = ContinuousClock.now - started
        #expect(elapsed >= .milliseconds(450) && elapsed < .seconds(5))
        try await server.shutdown()
    }

    @Test func halfOpenFaultStopsAnsweringWithoutClosing() async throws {
        let server = try await start(SimulatorConfiguration(encoding: .ber, framing: .hipath, faults: [.halfOpen(every: .milliseconds(1000))]))
        let started = ContinuousClock.now
        try await LoopbackClient.connect(to: server, deadline: .seconds(5)).talk { c in
            try await c.send(["pdu": .string("aarq"), "applicationContext": .string("1.3.12.0.218")])
            try await Task.sleep(for: .milliseconds(1500))
            try await c.send(["pdu": .string("invoke"), "op": .int(71), "monitorObject": .string("4001")], invokeId: 2)
            var answers = 0
            while let record = try await c.next() { if record.string("pdu") == "returnResult" { answers += 1 } }
            #expect(answers == 0)
        }
        // Only the client's own deadline ended the link: the switch neither answered nor closed.
        #expect(ContinuousClock.now - started >= .milliseconds(4950))
        try await server.shutdown()
    }

    @Test func garbageFaultArrivesAsABadFrameAndSplitFramesStillDecode() async throws {
        let server = try await start(SimulatorConfiguration(
            encoding: .xml, framing: .ecma323, faults: [.garbage(every: .milliseconds(100)), .split(bytes: 1)]))
        try await LoopbackClient.connect(to: server).talk { c in
            let status = try await c.next { $0.string("service") == "SystemStatus" }
            #expect(status.string("pdu") == "invoke")
            _ = try await c.next { $0["error"] != nil }
        }
        try await server.shutdown()
    }

    @Test func rejectFaultAnswersWithReturnError() async throws {
        let server = try await start(SimulatorConfiguration(encoding: .ber, framing: .hipath, faults: [.reject(share: 1)]))
        try await LoopbackClient.connect(to: server).talk { c in
            try await associate(&c)
            let answer = try await c.request(["op": .int(71), "monitorObject": .string("4001")], invokeId: 2)
            #expect(answer.string("pdu") == "returnError" && answer.string("errorCategory") == "systemResourceAvailability")
        }
        try await server.shutdown()
    }

    @Test func inboundLoadProducesTruthRecords() async throws {
        let finished = Mutex<[CallTruthRecord]>([])
        let server = try await start(SimulatorConfiguration(numbering: SwitchNumbering(agentCount: 3), afterCallWork: true)) { record in
            finished.withLock { $0.append(record) }
        }
        var load = LoadScenario(kind: .inbound, rate: 50, calls: 6, seed: 7)
        load.timeScale = 0.005
        try await server.startLoad(load)
        for _ in 0..<200 where finished.withLock({ $0.count }) < 6 { try await Task.sleep(for: .milliseconds(25)) }
        let records = finished.withLock { $0 }
        #expect(records.count == 6)
        if records.count < 6 {
            let model = try await server.snapshot()
            Issue.record("left over: \(model.calls.values.map { "\($0.id) \($0.connections)" }) agents \(model.agents.values.map { "\($0.ext) \($0.state)" })")
        }
        #expect(records.allSatisfy { $0.direction == "inbound" && $0.queue == "8001" })
        try await server.shutdown()
    }
}
