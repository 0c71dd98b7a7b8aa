import CallModel
import Foundation
import Simulator
import Testing

@Suite("Call model: scenarios against the simulator's switch model")
struct CallModelScenarioTests {
    let caller = "+498912345678"

    @Test func inboundQueuedAnsweredAndCleared() throws {
        var d = SwitchDriver(agents: 2)
        let call = try #require(d.step { (m, now) throws(SwitchError) in
            try m.placeInboundCall(from: caller, to: m.numbering.hotline, now: now)
        })
        let ringing = try #require(d.events.last { $0.kind == .ringing })
        #expect(ringing.calling == caller && ringing.called == "96510")
        #expect(ringing.agentID == d.agentAt(ringing.device!))
        let agent = try #require(ringing.device)
        d.step { (m, now) throws(SwitchError) in try m.answerCall(callID: call, device: agent, now: now) }
        d.step { (m, now) throws(SwitchError) in try m.clearConnection(callID: call, device: caller, now: now) }
        let record = try #require(d.records.first)
        #expect(d.records.count == 1)
        #expect(record.callIDs == [call])
        #expect(record.outcome == "answered")
        #expect(record.direction == "inbound")
        #expect(record.queue == "8001")
        #expect(record.answeredBy == d.agentAt(agent))
        #expect(record.talkSeconds == 1)
        let kinds = d.events.filter { $0.callID == call }.map(\.kind)
        #expect(kinds == [.queued, .diverted, .ringing, .answered, .partyCleared, .callEnded])
        let comparison = TruthComparison(truth: d.truth, records: d.records)
        #expect(comparison.matched == 1, "\(comparison)")
    }

    @Test func abandonedWhileQueued() throws {
        var d = SwitchDriver(agents: 1)
        d.step { (m, now) throws(SwitchError) in try m.setAgentState(device: "4001", requested: "notReady", now: now) }
        let call = try #require(d.step { (m, now) throws(SwitchError) in
            try m.placeInboundCall(from: caller, to: m.numbering.hotline, now: now)
        })
        d.now += 5
        d.step { (m, now) throws(SwitchError) in try m.clearConnection(callID: call, device: caller, now: now) }
        let record = try #require(d.records.first)
        #expect(record.outcome == "abandoned")
        #expect(record.waitSeconds == 6)
        #expect(record.answeredAt == nil)
        let comparison = TruthComparison(truth: d.truth, records: d.records)
        #expect(comparison.matched == 1, "\(comparison)")
    }

    @Test func consultationThenTransferIsOneInteraction() throws {
        var d = SwitchDriver(agents: 2)
        let (call, first, colleague, consulted) = try d.inboundCall(from: caller, consult: true)
        let consultation = try #require(consulted)
        let interactionID = try #require(d.events.first { $0.callID == call }?.interactionID)
        #expect(d.events.last { $0.callID == consultation }?.interactionID == interactionID)
        d.step { (m, now) throws(SwitchError) in
            try m.transferCall(heldCallID: call, activeCallID: consultation, device: first, now: now)
        }
        let transferred = try #require(d.events.first { $0.kind == .transferred })
        #expect(transferred.interactionID == interactionID)
        #expect(Set(transferred.callIDs ?? []) == [call, consultation])
        #expect(transferred.device == first && transferred.otherDevice == colleague)
        d.step { (m, now) throws(SwitchError) in try m.clearConnection(callID: call, device: colleague, now: now) }
        #expect(d.records.count == 1)
        let record = try #require(d.records.first)
        #expect(record.interactionID == interactionID)
        #expect(record.outcome == "transferred")
        #expect(Set(record.callIDs) == [call, consultation])
        #expect(record.segments.contains { $0.device == colleague && $0.state == "talking" })
        let comparison = TruthComparison(truth: d.truth, records: d.records)
        #expect(comparison.matched == 1, "\(comparison)")
    }

    @Test func conference() throws {
        var d = SwitchDriver(agents: 2)
        let (call, first, colleague, consulted) = try d.inboundCall(from: caller, consult: true)
        let consultation = try #require(consulted)
        d.step { (m, now) throws(SwitchError) in
            try m.conferenceCall(heldCallID: call, activeCallID: consultation, device: first, now: now)
        }
        #expect(d.events.contains { $0.kind == .conferenced && $0.otherDevice == colleague })
        d.step { (m, now) throws(SwitchError) in try m.clearConnection(callID: call, device: first, now: now) }
        #expect(d.records.isEmpty, "two parties are still talking")
        d.step { (m, now) throws(SwitchError) in try m.clearConnection(callID: call, device: caller, now: now) }
        let record = try #require(d.records.first)
        #expect(record.outcome == "conferenced")
        let comparison = TruthComparison(truth: d.truth, records: d.records)
        #expect(comparison.matched == 1, "\(comparison)")
    }

    @Test func outboundCall() throws {
        var d = SwitchDriver(agents: 1)
        let call = try #require(d.step { (m, now) throws(SwitchError) in
            try m.makeCall(calling: "4001", called: caller, now: now)
        })
        #expect(d.events.contains { $0.kind == .networkReached && $0.device == caller })
        d.step { (m, now) throws(SwitchError) in try m.answerCall(callID: call, device: caller, now: now) }
        d.step { (m, now) throws(SwitchError) in try m.clearConnection(callID: call, device: "4001", now: now) }
        let record = try #require(d.records.first)
        #expect(record.direction == "outbound")
        #expect(record.calling == "4001" && record.called == caller)
        #expect(record.outcome == "answered")
        #expect(record.answeredBy == "A4001")
        let comparison = TruthComparison(truth: d.truth, records: d.records)
        #expect(comparison.matched == 1, "\(comparison)")
    }

    @Test func noAnswerGoesBackToTheQueueAndIsAnsweredElsewhere() throws {
        var d = SwitchDriver(agents: 2)
        let call = try #require(d.step { (m, now) throws(SwitchError) in
            try m.placeInboundCall(from: caller, to: m.numbering.hotline, now: now)
        })
        let first = try #require(d.events.last { $0.kind == .ringing }?.device)
        d.step { (m, now) throws(SwitchError) in try m.redirectOnNoAnswer(callID: call, device: first, now: now) }
        let second = try #require(d.events.last { $0.kind == .ringing }?.device)
        #expect(second != first)
        #expect(d.engine.agents[first]?.state == "notReady")
        d.step { (m, now) throws(SwitchError) in try m.answerCall(callID: call, device: second, now: now) }
        d.step { (m, now) throws(SwitchError) in try m.clearConnection(callID: call, device: second, now: now) }
        let record = try #require(d.records.first)
        #expect(record.answeredBy == d.agentAt(second))
        let comparison = TruthComparison(truth: d.truth, records: d.records)
        #expect(comparison.matched == 1, "\(comparison)")
    }

    @Test func routePointSingleStepTransferAndDeflect() throws {
        var d = SwitchDriver(agents: 3)
        let call = try #require(d.step { (m, now) throws(SwitchError) in
            try m.placeInboundCall(from: caller, to: m.numbering.routePoint, now: now)
        })
        let route = try #require(d.pendingRoutes.first)
        d.step { (m, now) throws(SwitchError) in
            try m.routeSelect(routeingCrossRefID: route.routeingCrossRefID, destination: "4003", now: now)
        }
        #expect(d.events.last?.kind == .ringing && d.events.last?.device == "4003")
        d.step { (m, now) throws(SwitchError) in try m.deflectCall(callID: call, device: "4003", to: "4002", now: now) }
        #expect(d.events.last?.kind == .ringing && d.events.last?.device == "4002")
        d.step { (m, now) throws(SwitchError) in try m.answerCall(callID: call, device: "4002", now: now) }
        d.step { (m, now) throws(SwitchError) in try m.singleStepTransfer(callID: call, device: "4002", to: "4001", now: now) }
        #expect(d.events.last?.kind == .ringing && d.events.last?.device == "4001", "the transferred-to agent gets its pop")
        d.step { (m, now) throws(SwitchError) in try m.answerCall(callID: call, device: "4001", now: now) }
        d.step { (m, now) throws(SwitchError) in try m.clearConnection(callID: call, device: caller, now: now) }
        let record = try #require(d.records.first)
        #expect(record.queue == "8100")
        #expect(record.outcome == "transferred")
        #expect(record.answeredBy == "A4002")
        let comparison = TruthComparison(truth: d.truth, records: d.records)
        #expect(comparison.matched == 1, "\(comparison)")
    }

    @Test func repeatedEventsFromSeveralMonitorsCountOnce() throws {
        var d = SwitchDriver(agents: 2)
        let call = try #require(d.step { (m, now) throws(SwitchError) in
            try m.placeInboundCall(from: caller, to: m.numbering.hotline, now: now)
        })
        let agent = try #require(d.events.last { $0.kind == .ringing }?.device)
        d.step { (m, now) throws(SwitchError) in try m.answerCall(callID: call, device: agent, now: now) }
        // Feed every event of the call a second time, as a second monitor of the same party would.
        let before = d.events.count
        let record = SwitchEvent(name: "established", device: agent).record(
            monitorCrossRefID: "y", observer: agent, invokeId: 9999)
        var input = try #require(CSTAEventInput(record: record, monitoredDevice: agent))
        input.callID = call
        d.take(d.engine.apply(input, at: d.now))
        #expect(d.events.count == before)
    }
}

@Suite("Call model: reconnect races")
struct CallModelReconnectTests {
    @Test func aCallThatEndsAfterItsSnapshotIsNotOpenedAgain() throws {
        var d = SwitchDriver(agents: 1)
        let caller = "+498912345678"
        let call = try #require(d.step { (m, now) throws(SwitchError) in
            try m.placeInboundCall(from: caller, to: m.numbering.hotline, now: now)
        })
        d.step { (m, now) throws(SwitchError) in try m.answerCall(callID: call, device: "4001", now: now) }
        // The link drops; on the way back the snapshot of 4001 still shows the call …
        d.take(d.engine.linkDown(at: d.now, reason: "test"))
        d.engine.snapshot(device: "4001", callIDs: [call], states: ["connected"], at: d.now)
        // … then the call ends (its events arrive before link-up is published) …
        d.step { (m, now) throws(SwitchError) in try m.clearConnection(callID: call, device: caller, now: now) }
        d.take(d.engine.linkUp(at: d.now, reason: "test"))
        // … and the stale snapshot must not open it a second time.
        #expect(d.records.count == 1)
        #expect(d.engine.openCallCount == 0)
        let comparison = TruthComparison(truth: d.truth, records: d.records)
        #expect(comparison.matched == 1, "\(comparison)")
    }
}

@Suite("Call model: agents learnt late")
struct CallModelLateAgentTests {
    @Test func anAgentNamedAfterTheCallBeganIsOnItsRecord() throws {
        // A bridge that starts while the agent is logged on and a switch that names agents only in agent events.
        var engine = CallModelEngine(configuration: .init(monitoredDevices: ["4001", "8001"], queueDevices: ["8001"]))
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        let caller = "+498912345678"
        func apply(_ input: CSTAEventInput, _ seconds: Double) -> [CallEvent] { engine.apply(input, at: t0 + seconds) }
        _ = apply(.init(event: "delivered", monitoredDevice: "4001", callID: "c1", device: "4001", calling: caller, called: "96510"), 0)
        _ = apply(.init(event: "established", monitoredDevice: "4001", callID: "c1", device: "4001", calling: caller, called: "96510"), 2)
        _ = apply(.init(event: "agentBusy", monitoredDevice: "4001", device: "4001", agentID: "A17"), 3)
        let out = apply(.init(event: "connectionCleared", monitoredDevice: "4001", callID: "c1", device: "4001"), 20)
        let record = try #require(out.compactMap(\.record).first)
        #expect(record.answeredBy == "A17")
        #expect(record.segments.filter { $0.device == "4001" }.allSatisfy { $0.agentID == "A17" })
        #expect(CallRecordComparison.takingAgent(record) == "A17")
    }
}

@Suite("Call model: outbound answer inside a link gap")
struct CallModelOutboundGapTests {
    @Test func theFarEndsAnswerIsFoundBySnapshotCall() throws {
        var d = SwitchDriver(agents: 1)
        let far = "+498912345678"
        let call = try #require(d.step { (m, now) throws(SwitchError) in try m.makeCall(calling: "4001", called: far, now: now) })
        d.outage { inner in
            inner.step { (m, now) throws(SwitchError) in try m.answerCall(callID: call, device: far, now: now) }
        }
        #expect(d.events.contains { $0.kind == .answered && $0.device == far && $0.resynced == true })
        d.step { (m, now) throws(SwitchError) in try m.clearConnection(callID: call, device: "4001", now: now) }
        let record = try #require(d.records.first)
        #expect(record.outcome == "answered" && record.resynced)
        let comparison = TruthComparison(truth: d.truth, records: d.records)
        #expect(comparison.matched == 1, "\(comparison)")
    }
}

@Suite("Call model: a party that leaves after its snapshot")
struct CallModelStalePartyTests {
    @Test func aHangUpAfterTheSnapshotEndsTheCall() throws {
        var d = SwitchDriver(agents: 1)
        let far = "+498912345678"
        let call = try #require(d.step { (m, now) throws(SwitchError) in try m.makeCall(calling: "4001", called: far, now: now) })
        d.step { (m, now) throws(SwitchError) in try m.answerCall(callID: call, device: far, now: now) }
        d.take(d.engine.linkDown(at: d.now, reason: "test"))
        // The snapshot still shows the agent in the call; then the agent hangs up before link-up.
        d.engine.snapshot(device: "4001", callIDs: [call], states: ["connected"], at: d.now)
        d.step { (m, now) throws(SwitchError) in try m.clearConnection(callID: call, device: "4001", now: now) }
        d.take(d.engine.linkUp(at: d.now, reason: "test"))
        #expect(d.engine.openCallCount == 0, "the call has no observed party left")
        #expect(d.records.count == 1)
        #expect(!d.events.contains { $0.kind == .answered && $0.device == "4001" && $0.resynced == true })
    }
}

@Suite("Call model: a transfer between a snapshot and link-up")
struct CallModelTransferDuringResyncTests {
    @Test func theMergedConsultationIsNotOpenedAgain() throws {
        var d = SwitchDriver(agents: 2)
        let caller = "+498912345678"
        let call = try #require(d.step { (m, now) throws(SwitchError) in
            try m.placeInboundCall(from: caller, to: m.numbering.hotline, now: now)
        })
        let first = try #require(d.events.last { $0.kind == .ringing }?.device)
        let colleague = first == "4001" ? "4002" : "4001"
        d.step { (m, now) throws(SwitchError) in try m.answerCall(callID: call, device: first, now: now) }
        let consultation = try #require(d.step { (m, now) throws(SwitchError) in
            try m.consultationCall(callID: call, device: first, consulted: colleague, now: now)
        })
        d.step { (m, now) throws(SwitchError) in try m.answerCall(callID: consultation, device: colleague, now: now) }
        d.take(d.engine.linkDown(at: d.now, reason: "test"))
        // Snapshots from before the transfer …
        for device in [first, colleague] {
            let listed = (try? d.model.snapshotDevice(device)) ?? []
            d.engine.snapshot(device: device, callIDs: listed.map(\.callID), states: listed.map { $0.state.rawValue }, at: d.now)
        }
        // … then the transfer's events, then link-up.
        d.step { (m, now) throws(SwitchError) in
            try m.transferCall(heldCallID: call, activeCallID: consultation, device: first, now: now)
        }
        d.take(d.engine.linkUp(at: d.now, reason: "test"))
        d.step { (m, now) throws(SwitchError) in try m.clearConnection(callID: call, device: caller, now: now) }
        let comparison = TruthComparison(truth: d.truth, records: d.records)
        #expect(comparison.base.duplicateCallIDs.isEmpty, "\(comparison)")
        #expect(d.records.count == 1, "\(d.records.map(\.callIDs))")
        #expect(d.engine.openCallCount == 0, "the consultation lives on only inside the transferred call")
    }
}

@Suite("Call model: a call diverted while the link comes back")
struct CallModelDivertDuringResyncTests {
    @Test func aCallOnItsWayToAnAgentIsNotClosed() throws {
        // The queue's call is distributed after the agent's snapshot was taken: the diverted event arrives before
        // link-up, the agent's delivered after it.
        var engine = CallModelEngine(configuration: .init(monitoredDevices: ["4001", "8001"], queueDevices: ["8001"]))
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        let caller = "+498912345678"
        _ = engine.apply(.init(event: "queued", monitoredDevice: "8001", callID: "c1", device: "8001", calling: caller, called: "96510"), at: t0)
        _ = engine.linkDown(at: t0 + 1, reason: "test")
        engine.snapshot(device: "4001", callIDs: [], states: [], at: t0 + 2)
        _ = engine.apply(.init(event: "diverted", monitoredDevice: "8001", callID: "c1", device: "8001", otherDevice: "4001"), at: t0 + 2)
        engine.snapshot(device: "8001", callIDs: [], states: [], at: t0 + 2)
        let up = engine.linkUp(at: t0 + 3, reason: "test")
        #expect(!up.contains { $0.kind == .callEnded }, "the call is on its way to 4001")
        let ringing = engine.apply(.init(event: "delivered", monitoredDevice: "4001", callID: "c1", device: "4001", calling: caller, called: "96510"), at: t0 + 3)
        #expect(ringing.first?.kind == .ringing)
        #expect(engine.openInteractionCount == 1, "still the one interaction, not a second one for the same call")
    }
}
