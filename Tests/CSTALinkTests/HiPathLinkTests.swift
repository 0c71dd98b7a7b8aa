import CSTA
import Testing

@testable import CSTALink

@Suite(.timeLimit(.minutes(1))) struct HiPathLinkTests {
    @Test func associatesMonitorsAndReceivesEvents() async throws {
        let sw = try await FakeSwitch.start(mode: .hipath, framing: .hipath)
        var config = testConfig(.hipathBER, port: sw.port)
        // Short, to test the timeout below, but long enough for start-up on a loaded machine.
        config.requestTimeout = .seconds(1)
        let link = CSTALinkClient(configuration: config, logger: quietLogger())
        let log = EventLog(link)
        await link.addMonitors(["4001", "4002"])
        await link.start()
        #expect(await link.waitUntilUp(timeout: .seconds(5)))

        // AARQ with HiPath's defaults, the switch's SystemStatus answered, two monitors and two snapshots.
        let aarq = sw.state.with { $0.requests.first { $0.string("pdu") == "aarq" } }
        #expect(aarq?.string("authenticationName") == "AMHOST")
        #expect(aarq?.string("applicationContext") == "1.3.12.0.218")
        #expect(await eventually { sw.state.with { $0.systemStatusAnswers } == 1 })
        #expect(sw.state.requests("MonitorStart").count == 2)
        #expect(sw.state.requests("SnapshotDevice").count == 2)
        #expect(await link.acceptedVersions == ["versionFive"])
        let up = await log.first { $0.linkState == .up }?.1.stateChange
        #expect(up?.monitors == 2)
        #expect(await log.first { $0.snapshotDevice == "4002" } != nil)

        // A request, its answer and the event it causes, mapped to the monitored device.
        let made = try await link.makeCall(from: "4001", to: "4711")
        #expect(made.record.string("callID") == "0101")
        let event = await log.first { $0.cstaMessage?.record.string("event") == "originated" }?.1.cstaMessage
        #expect(event?.device == "4001")
        #expect(event?.record.string("callID") == "0101")

        // returnError → a typed error.
        do {
            _ = try await link.makeCall(from: "4001", to: "99999")
            Issue.record("expected an error")
        } catch let error as CSTAServiceError {
            #expect(error.kind == .returnError && error.category == "operation" && error.value == "3")
            #expect(error.service == "MakeCall")
        }

        // reject → a typed error too.
        do {
            _ = try await link.makeCall(from: "4001", to: "88888")
            Issue.record("expected a reject")
        } catch let error as CSTAServiceError {
            #expect(error.kind == .reject && error.rejectProblem == 1 && error.rejectValue == 2)
        }

        // No answer → timeout, and the link stays usable.
        let start = ContinuousClock.now
        await #expect(throws: CSTALinkError(.timeout)) { _ = try await link.makeCall(from: "4001", to: "00000") }
        #expect(ContinuousClock.now - start < .seconds(3))
        _ = try await link.snapshotDevice("4001")

        // The switch's SystemStatus is answered at any time, not only during start-up.
        sw.sendSystemStatus()
        #expect(await eventually { sw.state.with { $0.systemStatusAnswers } == 2 })
        await link.shutdown()
        await sw.shutdown()
    }

    /// The switch sends an event on a monitor right behind the MonitorStart answer: the event names its device (the
    /// cross-reference is mapped when the answer arrives, not when the task that asked resumes).
    @Test func anEventRightBehindTheMonitorStartAnswerNamesItsDevice() async throws {
        let sw = try await FakeSwitch.start(mode: .hipath, framing: .hipath)
        sw.state.with { $0.eventAfterMonitorStart = true }
        let link = CSTALinkClient(configuration: testConfig(.hipathBER, port: sw.port), logger: quietLogger())
        let log = EventLog(link)
        let devices = (4001...4040).map(String.init)
        await link.addMonitors(devices)
        await link.start()
        #expect(await link.waitUntilUp(timeout: .seconds(10)))
        #expect(await eventually { await log.events.compactMap(\.cstaMessage).count >= devices.count })
        let events = await log.events.compactMap(\.cstaMessage).filter { $0.record.string("event") == "originated" }
        #expect(events.count == devices.count)
        for event in events {
            #expect(event.device == event.record.string("device"), "event on \(event.record.string("device") ?? "?") mapped to \(event.device ?? "nothing")")
        }
        await link.shutdown()
        await sw.shutdown()
    }

    @Test func everyServiceReachesTheSwitch() async throws {
        let sw = try await FakeSwitch.start(mode: .hipath, framing: .hipath)
        let link = CSTALinkClient(configuration: testConfig(.hipathBER, port: sw.port), logger: quietLogger())
        await link.start()
        #expect(await link.waitUntilUp(timeout: .seconds(5)))
        let xref = try await link.monitorStart("4005")
        #expect(await link.crossReference(for: "4005") == xref)
        _ = try await link.answerCall(callID: "0101", device: "4005")
        _ = try await link.clearConnection(callID: "0101", device: "4005", reason: "normalClearing")
        _ = try await link.clearCall(callID: "0101")
        _ = try await link.holdCall(callID: "0101", device: "4005")
        _ = try await link.retrieveCall(callID: "0101", device: "4005")
        _ = try await link.consultationCall(callID: "0101", device: "4005", to: "4006")
        _ = try await link.transferCall(heldCallID: "0101", device: "4005", activeCallID: "0102")
        _ = try await link.conferenceCall(heldCallID: "0101", device: "4005", activeCallID: "0102")
        _ = try await link.singleStepTransfer(callID: "0101", device: "4005", to: "4007")
        _ = try await link.deflectCall(callID: "0101", device: "4005", to: "4008")
        _ = try await link.setAgentState(device: "4005", state: "ready", agentID: "42", group: "8001")
        _ = try await link.getAgentState(device: "4005")
        _ = try await link.snapshotCall(callID: "0101")
        _ = try await link.escape(privateData: "deadbeef")
        try await link.monitorStop("4005")
        let services = sw.state.with { $0.requests.compactMap { $0.string("pdu") == "invoke" ? $0.string("service") : nil } }
        for s in ["AnswerCall", "ClearConnection", "ClearCall", "HoldCall", "RetrieveCall", "ConsultationCall", "TransferCall",
            "ConferenceCall", "SingleStepTransferCall", "DeflectCall", "SetAgentState", "GetAgentState", "SnapshotCall",
            "Escape", "MonitorStop"]
        {
            #expect(services.contains(s), "\(s) not seen by the switch")
        }
        let consult = sw.state.requests("ConsultationCall").first
        #expect(consult?.string("called") == "4006")
        #expect(await link.monitoredDevices.isEmpty)
        await link.shutdown()
        await sw.shutdown()
    }

    @Test func oneByteWritesFromTheSwitch() async throws {
        let sw = try await FakeSwitch.start(mode: .hipath, framing: .hipath)
        sw.state.with { $0.oneByteWrites = true }
        let link = CSTALinkClient(configuration: testConfig(.hipathBER, port: sw.port), logger: quietLogger())
        let log = EventLog(link)
        await link.addMonitors(["4001"])
        await link.start()
        #expect(await link.waitUntilUp(timeout: .seconds(5)))
        let made = try await link.makeCall(from: "4001", to: "4711")
        #expect(made.record.string("callID") == "0101")
        #expect(await log.first { $0.cstaMessage?.device == "4001" } != nil)
        #expect(sw.state.with { $0.systemStatusAnswers } == 1)
        await link.shutdown()
        await sw.shutdown()
    }

    @Test func boundOnRequestsInFlight() async throws {
        let sw = try await FakeSwitch.start(mode: .hipath, framing: .hipath)
        var config = testConfig(.hipathBER, port: sw.port)
        config.maxRequestsInFlight = 1
        config.whenFull = .fail
        config.requestTimeout = .milliseconds(500)
        let link = CSTALinkClient(configuration: config, logger: quietLogger())
        await link.start()
        #expect(await link.waitUntilUp(timeout: .seconds(5)))
        let hanging = Task { try await link.makeCall(from: "4001", to: "00000") }
        try await Task.sleep(for: .milliseconds(100))
        await #expect(throws: CSTALinkError(.tooManyRequests)) { _ = try await link.makeCall(from: "4001", to: "4711") }
        await #expect(throws: CSTALinkError(.timeout)) { _ = try await hanging.value }
        _ = try await link.makeCall(from: "4001", to: "4711")  // the slot is free again
        await link.shutdown()
        await sw.shutdown()
    }

    @Test func callersWaitForAFreeSlot() async throws {
        let sw = try await FakeSwitch.start(mode: .hipath, framing: .hipath)
        var config = testConfig(.hipathBER, port: sw.port)
        config.maxRequestsInFlight = 2
        config.whenFull = .wait
        let link = CSTALinkClient(configuration: config, logger: quietLogger())
        await link.start()
        #expect(await link.waitUntilUp(timeout: .seconds(5)))
        let calls = try await withThrowingTaskGroup(of: String?.self) { group in
            for _ in 0..<20 { group.addTask { try await link.makeCall(from: "4001", to: "4711").record.string("callID") } }
            return try await group.reduce(into: [String?]()) { $0.append($1) }
        }
        #expect(calls.count == 20 && calls.allSatisfy { $0 == "0101" })
        #expect(await link.peakRequestsInFlight == 2)
        await link.shutdown()
        await sw.shutdown()
    }

    @Test func thousandsOfMonitorsArePipelined() async throws {
        let sw = try await FakeSwitch.start(mode: .hipath, framing: .hipath)
        var config = testConfig(.hipathBER, port: sw.port)
        config.maxRequestsInFlight = 256
        let link = CSTALinkClient(configuration: config, logger: quietLogger())
        let devices = try DeviceList.parse("10000-14999")
        await link.addMonitors(devices)
        let start = ContinuousClock.now
        await link.start()
        #expect(await link.waitUntilUp(timeout: .seconds(30)))
        let elapsed = ContinuousClock.now - start
        #expect(sw.state.requests("MonitorStart").count == 5000)
        #expect(await link.crossReference(for: "14999") != nil)
        let peak = await link.peakRequestsInFlight
        #expect(peak > 1 && peak <= 256, "peak in flight \(peak)")
        print("5000 monitors + 5000 snapshots from a cold start: \(elapsed)")
        await link.shutdown()
        await sw.shutdown()
    }
}
