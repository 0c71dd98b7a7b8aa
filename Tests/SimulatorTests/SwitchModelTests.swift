import CallModel
import Foundation
import NIOCore
import Testing

@testable import Simulator

@Suite struct SwitchModelTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }

    func makeModel(ready: Bool = true, agents: Int = 3) -> SwitchModel {
        SwitchModel(numbering: SwitchNumbering(agentCount: agents), agentsReady: ready, now: t0)
    }

    func names(_ effects: SwitchModel.Effects, seenBy device: String) -> [String] {
        effects.events.filter { $0.observers[device] != nil }.map(\.name)
    }

    @Test func inboundCallQueuesIsDeliveredToTheLongestIdleAgentAndIsAnswered() throws {
        var model = makeModel()
        let call = try model.placeInboundCall(from: "+498912345678", to: "96510", now: at(0))
        let effects = model.takeEffects()
        #expect(names(effects, seenBy: "8001") == ["queued", "diverted"])
        #expect(names(effects, seenBy: "4001") == ["agentBusy", "delivered"])
        #expect(names(effects, seenBy: "4002").isEmpty)
        let delivered = try #require(effects.events.first { $0.name == "delivered" })
        #expect(delivered.device == "4001" && delivered.lastRedirection == "8001" && delivered.callID == call)
        #expect(delivered.observers["4001"] == .some(.alerting))
        #expect(model.calls[call]?.state(of: "4001") == .alerting)

        try model.answerCall(callID: call, device: "4001", now: at(3))
        let answered = model.takeEffects()
        #expect(answered.events.map(\.name) == ["established"])
        #expect(Set(answered.events[0].observers.keys) == ["+498912345678", "4001"])
        #expect(try model.snapshotDevice("4001").map(\.state) == [.connected])
        #expect(try model.snapshotCall(call).map(\.device) == ["+498912345678", "4001"])
    }

    @Test func holdRetrieveAndClearYieldEventsAndATruthRecord() throws {
        var model = makeModel()
        let call = try model.placeInboundCall(from: "+498912345678", to: "96510", now: at(0))
        try model.answerCall(callID: call, device: "4001", now: at(4))
        _ = model.takeEffects()
        try model.holdCall(callID: call, device: "4001", now: at(10))
        #expect(model.takeEffects().events.map(\.name) == ["held"])
        #expect(model.calls[call]?.state(of: "4001") == .hold)
        try model.retrieveCall(callID: call, device: "4001", now: at(15))
        #expect(model.takeEffects().events.map(\.name) == ["retrieved"])
        try model.clearConnection(callID: call, device: "+498912345678", now: at(30))
        let end = model.takeEffects()
        #expect(end.events.map(\.name) == ["connectionCleared", "callCleared", "agentReady"])
        #expect(model.calls.isEmpty)
        let truth = try #require(end.finishedCalls.first)
        #expect(truth.outcome == "answered" && truth.direction == "inbound" && truth.queue == "8001")
        #expect(truth.callIDs == [call] && truth.calling == "+498912345678" && truth.called == "96510")
        #expect(truth.waitSeconds == 0 && truth.holdSeconds == 5 && truth.talkSeconds == 21)
        #expect(truth.answeredAt == at(4) && truth.endedAt == at(30))
        #expect(truth.segments.map(\.state).contains("held"))
        let json = try truth.jsonLine()
        #expect(json.contains(#""outcome":"answered""#) && json.contains(#""interactionID":"I000001""#))
    }

    @Test func wrongRequestsFailWithTypedErrorsAndChangeNothing() throws {
        var model = makeModel()
        let call = try model.placeInboundCall(from: "+498912345678", to: "96510", now: at(0))
        _ = model.takeEffects()
        #expect(throws: SwitchError.self) { try model.answerCall(callID: call, device: "4002", now: at(1)) }
        do {
            try model.holdCall(callID: call, device: "4001", now: at(1))
            Issue.record("hold of an alerting connection succeeded")
        } catch {
            #expect(error.name == "invalidObjectState" && error.category == "stateIncompatibility")
        }
        do {
            try model.answerCall(callID: "FFFF", device: "4001", now: at(1))
        } catch {
            #expect(error.name == "invalidConnectionID")
        }
        #expect(throws: SwitchError.self) { try model.makeCall(calling: "+4930", called: "4001", now: at(1)) }
        #expect(throws: SwitchError.self) { try model.snapshotCall("FFFF") }
        #expect(model.takeEffects().events.isEmpty)
        #expect(model.calls[call]?.state(of: "4001") == .alerting)
    }

    @Test func consultationThenTransferJoinsCallerAndColleagueInOneInteraction() throws {
        var model = makeModel()
        let call = try model.placeInboundCall(from: "+498912345678", to: "96510", now: at(0))
        try model.answerCall(callID: call, device: "4001", now: at(2))
        let consult = try model.consultationCall(callID: call, device: "4001", consulted: "4003", now: at(10))
        #expect(model.calls[call]?.state(of: "4001") == .hold)
        #expect(model.calls[consult]?.state(of: "4003") == .alerting)
        try model.answerCall(callID: consult, device: "4003", now: at(12))
        _ = model.takeEffects()
        let resulting = try model.transferCall(heldCallID: call, activeCallID: consult, device: "4001", now: at(20))
        let effects = model.takeEffects()
        let transferred = try #require(effects.events.first { $0.name == "transferred" })
        #expect(transferred.secondaryCallID == consult && transferred.newCallIDs == [resulting])
        #expect(transferred.otherDevice == "4003" && transferred.observers["4001"] == .some(.null))
        #expect(Set(transferred.observers.keys) == ["+498912345678", "4001", "4003"])
        #expect(model.calls[resulting]?.connections.map(\.device).sorted() == ["+498912345678", "4003"])
        #expect(model.calls[consult] == nil)
        try model.clearCall(callID: resulting, now: at(40))
        let truth = try #require(model.takeEffects().finishedCalls.first)
        #expect(truth.outcome == "transferred" && truth.callIDs == [call, consult])
    }

    @Test func conferenceSingleStepTransferAndDeflect() throws {
        var model = makeModel()
        let call = try model.makeCall(calling: "4001", called: "4002", now: at(0))
        #expect(model.takeEffects().events.map(\.name) == ["serviceInitiated", "originated", "delivered"])
        try model.deflectCall(callID: call, device: "4002", to: "4003", now: at(1))
        #expect(model.takeEffects().events.map(\.name) == ["diverted", "delivered"])
        try model.answerCall(callID: call, device: "4003", now: at(2))
        let consult = try model.consultationCall(callID: call, device: "4001", consulted: "+4930123456", now: at(5))
        #expect(model.takeEffects().events.map(\.name).suffix(2) == ["originated", "networkReached"])
        try model.answerCall(callID: consult, device: "+4930123456", now: at(7))
        try model.conferenceCall(heldCallID: call, activeCallID: consult, device: "4001", now: at(9))
        #expect(model.takeEffects().events.last?.name == "conferenced")
        #expect(model.calls[call]?.connections.count == 3)
        try model.clearConnection(callID: call, device: "+4930123456", now: at(9.5))
        _ = model.takeEffects()
        try model.singleStepTransfer(callID: call, device: "4001", to: "4002", now: at(10))
        #expect(model.takeEffects().events.map(\.name).prefix(2) == ["transferred", "delivered"])
        #expect(throws: SwitchError.self) { try model.clearConnection(callID: call, device: "4001", now: at(11)) }
    }

    @Test func agentStatesAndQueueDistributionFollowReadiness() throws {
        var model = makeModel(ready: false)
        let call = try model.placeInboundCall(from: "+498912345678", to: "8001", now: at(0))
        #expect(model.queue == [call])
        #expect(throws: SwitchError.self) { try model.setAgentState(device: "4002", requested: "ready", now: at(1)) }
        try model.setAgentState(device: "4002", requested: "loggedOn", now: at(1))
        #expect(try model.agentState(device: "4002").state == .notReady)
        _ = model.takeEffects()
        try model.setAgentState(device: "4002", requested: "ready", now: at(2))
        #expect(names(model.takeEffects(), seenBy: "4002") == ["agentReady", "agentBusy", "delivered"])
        #expect(model.queue.isEmpty)
        try model.redirectOnNoAnswer(callID: call, device: "4002", now: at(14))
        #expect(try model.agentState(device: "4002").state == .notReady)
        #expect(model.queue == [call])
        try model.clearConnection(callID: call, device: "+498912345678", now: at(20))
        let truth = try #require(model.takeEffects().finishedCalls.first)
        #expect(truth.outcome == "abandoned" && truth.answeredAt == nil)
        #expect(throws: SwitchError.self) { try model.setAgentState(device: "9999", requested: "ready", now: at(21)) }
    }

    @Test func routePointCallWaitsForRouteSelect() throws {
        var model = makeModel()
        let call = try model.placeInboundCall(from: "+498912345678", to: "8100", now: at(0))
        let effects = model.takeEffects()
        let request = try #require(effects.routeRequests.first)
        #expect(request.callID == call && request.routePoint == "8100")
        #expect(throws: SwitchError.self) { try model.routeSelect(routeingCrossRefID: "FFFF", destination: "4001", now: at(1)) }
        try model.routeSelect(routeingCrossRefID: request.routeingCrossRefID, destination: "4002", now: at(1))
        #expect(model.calls[call]?.state(of: "4002") == .alerting)
        #expect(model.pendingRoutes.isEmpty)
    }

    @Test func routeEndSendsTheCallToTheACDGroup() throws {
        var model = makeModel(ready: false)
        let call = try model.placeInboundCall(from: "+498912345678", to: "8100", now: at(0))
        let request = try #require(model.takeEffects().routeRequests.first)
        #expect(throws: SwitchError.self) { try model.routeEnd(routeingCrossRefID: "FFFF", now: at(1)) }
        try model.routeEnd(routeingCrossRefID: request.routeingCrossRefID, now: at(1))
        let effects = model.takeEffects()
        #expect(names(effects, seenBy: "8100") == ["diverted"])
        let queued = try #require(effects.events.first { $0.name == "queued" })
        #expect(queued.device == "8001" && queued.lastRedirection == "8100" && queued.callID == call)
        #expect(model.calls[call]?.state(of: "8001") == .queued && model.calls[call]?.state(of: "8100") == nil)
        #expect(model.queue == [call] && model.pendingRoutes.isEmpty)
        // Answered once: a second RouteEnd or RouteSelect for the same request is refused.
        #expect(throws: SwitchError.self) { try model.routeEnd(routeingCrossRefID: request.routeingCrossRefID, now: at(2)) }
    }
}

@Suite("Fault schedule syntax")
struct FaultScheduleParsingTests {
    @Test func timedFaultsTakeALimit() {
        #expect(FaultSchedule(parsing: "drop:13s*3") == .drop(every: .seconds(13), times: 3))
        #expect(FaultSchedule(parsing: "drop:13s") == .drop(every: .seconds(13)))
        #expect(FaultSchedule(parsing: "halfopen:500ms*1")?.description == "halfopen:500ms*1")
        #expect(FaultSchedule(parsing: "drop:13s*0") == nil)
        #expect(FaultSchedule(parsing: "split:1*2") == nil)
    }
}
