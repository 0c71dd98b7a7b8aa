import CallModel
import CSTA
import Foundation
import NIOCore
import Simulator
import Synchronization
import Testing

@testable import CSTALink

/// The link against the real simulator over loopback (issue 3, item 9): both encodings, the hipath, u16, tpkt and
/// ecma323 framings (also with every frame written in 1-byte pieces), the OpenScape and DMCC start-ups, requests that
/// really change the switch, and every fault kind.
///
/// Serialized, and on their own event loops: the fault tests measure time, and the machine is shared.
@Suite(.serialized, .timeLimit(.minutes(1))) struct LinkAgainstSimulatorTests {
    static let agents = ["4001", "4002", "4003"]
    static let monitored = agents + ["8001"]

    // MARK: Calls from the load generator

    /// Inbound calls placed by the simulator's load generator (seeded, time-scaled) reach the link's event stream,
    /// each mapped to the monitored device whose cross-reference id it carries, in ECMA-269 order: queued and
    /// diverted at the ACD group, then delivered → established → connectionCleared at the answering agent.
    /// Run in every encoding/framing/flavour, and with the `split:1` and `garbage` faults on.
    @Test(arguments: [
        LinkVariant.hipath, .berU16, .berTPKT, .osv, .dmcc,
        LinkVariant.hipath.with([.split(bytes: 1)], "split:1"), LinkVariant.osv.with([.split(bytes: 1)], "split:1"),
        LinkVariant.berTPKT.with([.split(bytes: 1)], "split:1"), LinkVariant.dmcc.with([.split(bytes: 1)], "split:1"),
        LinkVariant.hipath.with([.garbage(every: .milliseconds(100))], "garbage:100ms"),
        LinkVariant.osv.with([.garbage(every: .milliseconds(100))], "garbage:100ms"),
        LinkVariant.berU16.with([.garbage(every: .milliseconds(100))], "garbage:100ms"),
    ])
    func inboundCallsFromTheLoadGeneratorArriveInOrder(_ variant: LinkVariant) async throws {
        let finished = Mutex<[CallTruthRecord]>([])
        let h = try await SimulatorLink.start(
            variant, monitors: Self.monitored, truth: { record in finished.withLock { $0.append(record) } })
        let changes = await h.log.stateChanges().map(\.change)
        let up = changes.first
        #expect(up?.state == .up, "state changes: \(changes.map(\.json))")
        #expect(up?.monitors == Self.monitored.count && up?.failedMonitors == 0)
        #expect(Set(await h.log.snapshots()) == Set(Self.monitored))
        let xrefs = await h.crossReferences(Self.monitored)
        #expect(xrefs.count == Self.monitored.count)

        try await h.server.startLoad(plainInboundLoad(rate: 20, calls: 3, seed: 7, timeScale: 0.005))
        let allFinished = await eventually(within: .seconds(8)) { finished.withLock { $0.count } >= 3 }
        #expect(allFinished, "calls finished: \(finished.withLock { $0.count })")
        let callIDs = finished.withLock { $0.flatMap(\.callIDs) }
        #expect(Set(callIDs).count == 3)

        // The last event of each call reaches the link after the switch finished it: wait for it per call.
        for call in callIDs {
            _ = await h.log.first { e in
                e.cstaMessage?.record.string("event") == "connectionCleared" && e.cstaMessage?.record.string("callID") == call
                    && Self.agents.contains(e.cstaMessage?.device ?? "")
            }
        }
        let events = await h.log.callEvents()
        for call in callIDs {
            let mine = events.filter { $0.callID == call }
            let atGroup = mine.filter { $0.device == "8001" }.map(\.name)
            #expect(atGroup.starts(with: ["queued", "diverted"]), "call \(call) at 8001: \(atGroup)")
            guard let delivered = mine.first(where: { $0.name == "delivered" && Self.agents.contains($0.device ?? "") }) else {
                Issue.record("no delivered event for call \(call) at an agent: \(mine.map { "\($0.name)@\($0.device ?? "-")" })")
                continue
            }
            let agent = delivered.device!
            let atAgent = mine.filter { $0.device == agent }
            let names = atAgent.map(\.name)
            let iDelivered = names.firstIndex(of: "delivered")
            let iEstablished = names.firstIndex(of: "established")
            let iCleared = names.firstIndex(of: "connectionCleared")
            #expect(iDelivered != nil && iEstablished != nil && iCleared != nil, "call \(call) at \(agent): \(names)")
            if let iDelivered, let iEstablished, let iCleared {
                #expect(iDelivered < iEstablished && iEstablished < iCleared, "call \(call) at \(agent): \(names)")
            }
            // Each event carries the cross-reference id of the device it was mapped to.
            for e in mine {
                #expect(e.message.record.string("monitorCrossRefID") == xrefs[e.device ?? ""], "\(e.name) mapped to \(e.device ?? "nil")")
            }
            // The ACD group hands the call over before the agent's phone rings.
            if let diverted = mine.first(where: { $0.name == "diverted" && $0.device == "8001" }) {
                #expect(diverted.index < delivered.index)
            }
        }
        // No event for an unmonitored device, none unmapped.
        #expect(events.allSatisfy { $0.device != nil && Self.monitored.contains($0.device!) })

        switch variant.faults.first {
        case .garbage?:
            // The garbage was skipped and logged; the link never went down.
            #expect(!h.simulatorLogs.lines(startingWith: "fault: sending garbage").isEmpty)
            #expect(!h.linkLogs.lines(startingWith: "bad frame skipped").isEmpty, "no bad frame logged")
        default:
            break
        }
        #expect(await h.log.stateChanges().map(\.change.state) == [.up], "link state changes during the test")
        #expect(await h.link.linkIsUp)
        await h.shutdown()
    }

    // MARK: Requests

    /// Every TSAPI-style request that the simulator implements, sent through the link's API, really changes the
    /// switch's model, and the events it raises arrive for the right monitored devices; refused requests throw
    /// ``CSTAServiceError``.
    @Test(arguments: [
        LinkVariant.hipath, .berU16, .berTPKT, .osv, .dmcc,
        LinkVariant.hipath.with([.split(bytes: 1)], "split:1"), LinkVariant.dmcc.with([.split(bytes: 1)], "split:1"),
        LinkVariant.berTPKT.with([.split(bytes: 1)], "split:1"),
    ])
    func requestsChangeTheSwitch(_ variant: LinkVariant) async throws {
        let h = try await SimulatorLink.start(variant, monitors: Self.monitored)
        let link = h.link

        // Agent state: log on, ready; the switch's agent is ready, GetAgentState says so.
        var mark = await h.log.count
        _ = try await link.setAgentState(device: "4001", state: "loggedOn", agentID: "A4001", group: "8001")
        #expect(await h.log.event("agentLoggedOn", device: "4001", from: mark) != nil)
        _ = try await link.setAgentState(device: "4001", state: "ready")
        #expect(await h.log.event("agentReady", device: "4001", from: mark) != nil)
        #expect(try await h.server.snapshot().agents["4001"]?.state == .ready)
        let agentState = try await link.getAgentState(device: "4001")
        #expect(agentState.record.string("agentState") == "agentReady")

        // MakeCall 4001 → 4002: originated at 4001, delivered at 4002 (and seen by 4001), the switch has the call.
        mark = await h.log.count
        let made = try await link.makeCall(from: "4001", to: "4002")
        let call = try #require(made.record.string("callID"))
        let originated = await h.log.event("originated", device: "4001", callID: call, from: mark)
        let delivered = await h.log.event("delivered", device: "4002", callID: call, from: mark)
        #expect(originated != nil && delivered != nil)
        if let originated, let delivered { #expect(originated.index < delivered.index) }
        var model = try await h.server.snapshot()
        #expect(model.calls[call]?.state(of: "4001") == .connected)
        #expect(model.calls[call]?.state(of: "4002") == .alerting)

        // AnswerCall at 4002 → established.
        mark = await h.log.count
        _ = try await link.answerCall(callID: call, device: "4002")
        #expect(await h.log.event("established", device: "4002", callID: call, from: mark) != nil)
        #expect(try await h.server.snapshot().calls[call]?.state(of: "4002") == .connected)

        // HoldCall → held (4001 on hold in the switch), RetrieveCall → retrieved.
        mark = await h.log.count
        _ = try await link.holdCall(callID: call, device: "4001")
        let held = await h.log.event("held", device: "4001", callID: call, from: mark)
        #expect(held?.message.record.string("localConnectionInfo") == "hold")
        #expect(try await h.server.snapshot().calls[call]?.state(of: "4001") == .hold)
        _ = try await link.retrieveCall(callID: call, device: "4001")
        #expect(await h.log.event("retrieved", device: "4001", callID: call, from: mark) != nil)
        #expect(try await h.server.snapshot().calls[call]?.state(of: "4001") == .connected)

        // Snapshots tell the truth.
        #expect(try await link.snapshotDevice("4001").record.strings("snapshotCallIDs") == [call])
        let parties = try await link.snapshotCall(callID: call).record.strings("snapshotDevices") ?? []
        #expect(Set(parties.compactMap { SimulatorDevice.number($0) }) == ["4001", "4002"])

        // Consultation 4002 → 4003, answered, then transfer: 4001 and 4003 are left talking on the held call's id.
        mark = await h.log.count
        let consultation = try await link.consultationCall(callID: call, device: "4002", to: "4003")
        let consultCall = try #require(consultation.record.string("callID"))
        #expect(await h.log.event("held", device: "4002", callID: call, from: mark) != nil)
        #expect(await h.log.event("delivered", device: "4003", callID: consultCall, from: mark) != nil)
        _ = try await link.answerCall(callID: consultCall, device: "4003")
        mark = await h.log.count
        _ = try await link.transferCall(heldCallID: call, device: "4002", activeCallID: consultCall)
        #expect(await h.log.event("transferred", device: "4003", from: mark) != nil)
        model = try await h.server.snapshot()
        let remaining = model.calls.values.filter { $0.state(of: "4001") != nil }
        #expect(remaining.count == 1)
        #expect(Set(remaining.first?.connections.map(\.device) ?? []) == ["4001", "4003"])
        #expect(!model.calls.values.contains { $0.state(of: "4002") != nil })
        let transferred = try #require(remaining.first?.id)

        // ClearConnection at 4003 → connectionCleared there; the call ends in the switch.
        mark = await h.log.count
        _ = try await link.clearConnection(callID: transferred, device: "4003")
        #expect(await h.log.event("connectionCleared", device: "4003", callID: transferred, from: mark) != nil)
        #expect(await h.log.event("connectionCleared", device: "4001", callID: transferred, from: mark) != nil)
        #expect(try await h.server.snapshot().calls.isEmpty)

        // Conference: 4001 calls 4002, consults 4003, joins all three; ClearCall ends it.
        let confCall = try #require(try await link.makeCall(from: "4001", to: "4002").record.string("callID"))
        _ = try await link.answerCall(callID: confCall, device: "4002")
        let confConsult = try #require(
            try await link.consultationCall(callID: confCall, device: "4001", to: "4003").record.string("callID"))
        _ = try await link.answerCall(callID: confConsult, device: "4003")
        mark = await h.log.count
        _ = try await link.conferenceCall(heldCallID: confCall, device: "4001", activeCallID: confConsult)
        for device in ["4001", "4002", "4003"] {
            #expect(await h.log.event("conferenced", device: device, callID: confCall, from: mark) != nil, "conferenced at \(device)")
        }
        #expect(Set(try await h.server.snapshot().calls[confCall]?.connections.map(\.device) ?? []) == ["4001", "4002", "4003"])
        mark = await h.log.count
        _ = try await link.clearCall(callID: confCall, device: "4001")
        #expect(await h.log.event("callCleared", device: "4002", callID: confCall, from: mark) != nil)
        #expect(try await h.server.snapshot().calls.isEmpty)

        // Deflect a ringing call 4001 → 4002 to 4003, answer it, then single-step transfer it back to 4002.
        let ringing = try #require(try await link.makeCall(from: "4001", to: "4002").record.string("callID"))
        mark = await h.log.count
        _ = try await link.deflectCall(callID: ringing, device: "4002", to: "4003")
        #expect(await h.log.event("diverted", device: "4002", callID: ringing, from: mark) != nil)
        #expect(await h.log.event("delivered", device: "4003", callID: ringing, from: mark) != nil)
        #expect(try await h.server.snapshot().calls[ringing]?.state(of: "4003") == .alerting)
        _ = try await link.answerCall(callID: ringing, device: "4003")
        mark = await h.log.count
        _ = try await link.singleStepTransfer(callID: ringing, device: "4003", to: "4002")
        #expect(await h.log.event("transferred", device: "4003", callID: ringing, from: mark) != nil)
        #expect(await h.log.event("delivered", device: "4002", callID: ringing, from: mark) != nil)
        model = try await h.server.snapshot()
        #expect(model.calls[ringing]?.state(of: "4003") == nil && model.calls[ringing]?.state(of: "4002") == .alerting)
        _ = try await link.clearCall(callID: ringing)
        #expect(try await h.server.snapshot().calls.isEmpty)

        // Escape with private data is accepted.
        #expect(try await link.escape(privateData: "0102").record.string("pdu") == "returnResult")

        // A call to an external number, then ClearCall.
        mark = await h.log.count
        let outbound = try #require(try await link.makeCall(from: "4003", to: "+498912345678").record.string("callID"))
        #expect(await h.log.event("networkReached", device: "4003", callID: outbound, from: mark) != nil)
        _ = try await link.clearCall(callID: outbound)
        #expect(await h.log.event("callCleared", device: "4003", callID: outbound, from: mark) != nil)
        #expect(try await h.server.snapshot().calls[outbound] == nil)

        // Refused requests are typed errors, and change nothing.
        let before = try await h.server.snapshot()
        let noCall = await #expect(throws: CSTAServiceError.self) {
            _ = try await link.holdCall(callID: call, device: "4001")
        }
        #expect(noCall?.kind == .returnError && noCall?.service == "HoldCall")
        #expect(noCall?.category != nil)
        let badCaller = await #expect(throws: CSTAServiceError.self) {
            _ = try await link.makeCall(from: "+498912345678", to: "4001")
        }
        #expect(badCaller?.category == "operation")
        #expect(["invalidCallingDevice", "5"].contains(badCaller?.value ?? ""), "value \(badCaller?.value ?? "nil")")
        let badMonitor = await #expect(throws: CSTAServiceError.self) { try await link.monitorStart("+498912345678") }
        #expect(badMonitor?.kind == .returnError)
        let after = try await h.server.snapshot()
        #expect(after.calls == before.calls && after.agents == before.agents)

        #expect(await h.log.stateChanges().map(\.change.state) == [.up])
        await h.shutdown()
    }

    /// A request the switch answers too late fails with ``CSTALinkError/Code/timeout``; the link stays up.
    @Test func slowAnswerTimesOut() async throws {
        let variant = LinkVariant.hipath.with([.slow(delay: .milliseconds(600))], "slow:600ms")
        let h = try await SimulatorLink.start(
            variant, monitors: ["4001"], configure: { c in c.requestTimeout = .seconds(3) })  // start-up, just slowly
        let error = await #expect(throws: CSTALinkError.self) {
            _ = try await h.link.request(
                ["service": .string("SnapshotDevice"), "op": .int(74), "device": .string("4001")], timeout: .milliseconds(150))
        }
        #expect(error?.code == .timeout)
        #expect(await h.link.linkIsUp)
        // With enough time the same request is answered.
        let answer = try await h.link.request(
            ["service": .string("SnapshotDevice"), "op": .int(74), "device": .string("4001")], timeout: .seconds(3))
        #expect(answer.record.string("pdu") == "returnResult")
        await h.shutdown()
    }

    // MARK: Faults (issue 3, item 9 and "Must show": link-up again within twice the heartbeat plus the back-off,
    // every monitor back, calls started afterwards seen)

    static let heartbeat: Duration = .milliseconds(500)
    static let backoffMaximum: Duration = .milliseconds(200)
    /// Scheduling slack on a shared two-core machine.
    static let slack: Duration = .milliseconds(1500)

    static func faultConfig(_ c: inout LinkConfiguration) {
        c.heartbeatInterval = heartbeat
        c.deadLinkInterval = nil  // twice the heartbeat
        c.backoff = .init(initial: .milliseconds(50), maximum: backoffMaximum, jitter: 0.2)
    }

    /// After a recovery: every monitor is back under a new cross-reference id, each device had a snapshot, and a
    /// call started now is seen by the link on the new ids.
    func checkRecovered(
        _ h: SimulatorLink, downIndex: Int, before: [String: String], up: LinkStateChange?
    ) async throws {
        #expect(up?.monitors == Self.monitored.count && up?.failedMonitors == 0)
        let after = await h.crossReferences(Self.monitored)
        #expect(after.count == Self.monitored.count, "monitors back: \(after.keys.sorted())")
        #expect(Set(after.values).isDisjoint(with: Set(before.values)), "cross-reference ids reused")
        #expect(await h.log.snapshots(from: downIndex).sorted() == Self.monitored.sorted())

        let mark = await h.log.count
        let call = try await h.placeInboundCall()
        let queued = await h.log.event("queued", device: "8001", callID: call, from: mark, within: .seconds(2))
        #expect(queued?.message.record.string("monitorCrossRefID") == after["8001"])
        let delivered = await h.log.first(from: mark, within: .seconds(2)) { e in
            e.cstaMessage?.record.string("event") == "delivered" && e.cstaMessage?.record.string("callID") == call
        }
        let agent = delivered?.entry.event.cstaMessage?.device
        #expect(agent.map { Self.agents.contains($0) } == true, "delivered after the recovery: \(agent ?? "none")")
        #expect(delivered?.entry.event.cstaMessage?.record.string("monitorCrossRefID") == after[agent ?? ""])
    }

    /// `drop`: the switch closes the connection; the link reports down, reconnects after its back-off, restores all
    /// monitors with new cross-reference ids, snapshots every device and reports up within twice the heartbeat plus
    /// the back-off; a call started afterwards is seen.
    @Test func dropFaultRecoversWithMonitorsAndSnapshots() async throws {
        let variant = LinkVariant.hipath.with([.drop(every: .milliseconds(2000))], "drop:2s")
        let h = try await SimulatorLink.start(variant, monitors: Self.monitored, agentsReady: true,
            systemStatusInterval: .milliseconds(300), systemStatusMissesAllowed: 4, configure: Self.faultConfig)
        let before = await h.crossReferences(Self.monitored)
        let down = try #require(await h.log.first(within: .seconds(4)) { $0.linkState == .down })
        // A close with unread bytes in the switch's socket arrives as a reset: either way, seen at once, not as silence.
        let reason = down.entry.event.stateChange?.reason ?? ""
        #expect(reason == "closed by peer" || reason.hasPrefix("read failed"), "down: \(reason)")
        let dropped = try #require(h.simulatorLogs.lines(startingWith: "fault: dropping the link").first?.at)
        let up = try #require(await h.log.first(from: down.index, within: .seconds(3)) { $0.linkState == .up })
        let recovery = up.entry.at - dropped
        #expect(recovery <= Self.heartbeat * 2 + Self.backoffMaximum + Self.slack, "link-up \(recovery) after the drop")
        #expect(up.entry.event.stateChange?.attempt == 2)
        try await checkRecovered(h, downIndex: down.index, before: before, up: up.entry.event.stateChange)
        let stats = try await h.server.linkStatistics()
        #expect(stats.links == 1 && stats.monitors == Self.monitored.count, "switch side: \(stats)")
        await h.shutdown()
    }

    /// `halfopen`: the switch stops reading and writing without closing; the link declares it dead within twice the
    /// heartbeat, reconnects and recovers everything.
    @Test func halfOpenFaultIsDetectedAndRecovered() async throws {
        let variant = LinkVariant.hipath.with([.halfOpen(every: .milliseconds(1500))], "halfopen:1.5s")
        let h = try await SimulatorLink.start(variant, monitors: Self.monitored, agentsReady: true,
            systemStatusInterval: .milliseconds(300), systemStatusMissesAllowed: 4, configure: Self.faultConfig)
        let before = await h.crossReferences(Self.monitored)
        let down = try #require(await h.log.first(within: .seconds(4)) { $0.linkState == .down })
        #expect(down.entry.event.stateChange?.reason.hasPrefix("dead link") == true, "\(down.entry.event.stateChange?.reason ?? "")")
        let silent = try #require(h.simulatorLogs.lines(startingWith: "fault: going half-open").first?.at)
        let detection = down.entry.at - silent
        #expect(detection <= Self.heartbeat * 2 + Self.slack, "dead link seen \(detection) after the switch went half-open")
        let up = try #require(await h.log.first(from: down.index, within: .seconds(3)) { $0.linkState == .up })
        let recovery = up.entry.at - silent
        #expect(
            recovery <= Self.heartbeat * 2 + Self.backoffMaximum + Self.slack,
            "link-up \(recovery) after the switch went half-open")
        try await checkRecovered(h, downIndex: down.index, before: before, up: up.entry.event.stateChange)
        await h.shutdown()
    }

    /// The same drop recovery on an XML link (OpenScape start-up, ecma323 framing).
    @Test func dropFaultRecoversOnXML() async throws {
        let variant = LinkVariant.osv.with([.drop(every: .milliseconds(2000))], "drop:2s")
        let h = try await SimulatorLink.start(variant, monitors: Self.monitored, agentsReady: true,
            systemStatusInterval: .milliseconds(300), systemStatusMissesAllowed: 4, configure: Self.faultConfig)
        let before = await h.crossReferences(Self.monitored)
        let down = try #require(await h.log.first(within: .seconds(4)) { $0.linkState == .down })
        let dropped = try #require(h.simulatorLogs.lines(startingWith: "fault: dropping the link").first?.at)
        let up = try #require(await h.log.first(from: down.index, within: .seconds(3)) { $0.linkState == .up })
        #expect(up.entry.at - dropped <= Self.heartbeat * 2 + Self.backoffMaximum + Self.slack)
        try await checkRecovered(h, downIndex: down.index, before: before, up: up.entry.event.stateChange)
        await h.shutdown()
    }
}

/// Device strings as the switch writes them in snapshots (`4001`, or DMCC's `other:4001:SIM:…`).
enum SimulatorDevice {
    static func number(_ text: String) -> String? {
        guard let colon = text.firstIndex(of: ":") else { return text }
        return text[text.index(after: colon)...].split(separator: ":").first.map(String.init)
    }
}
