import CallModel
import Foundation
import ScreenPop
import Testing

@Suite("Pop router: calls through the call model to the right desktop")
struct PopRouterTests {
    let caller = "+498912345678"
    let card = CustomerCard(customerID: "C-1", name: "Wang Fang", accountNumber: "1002003", numbers: ["+498912345678"])

    @Test func popOnAlertingThenAnswerThenEnd() throws {
        var b = PopBench(agents: 2)
        var call = ""
        b.run { call = $0.inbound(from: caller, to: "4001", wait: 5) }
        let pop = try #require(b.messages(to: "A4001").first)
        #expect(pop.type == .pop && pop.event == "ringing" && pop.callState == "ringing")
        #expect(pop.interactionID == b.interaction(ofCall: call) && pop.callIDs == [call])
        #expect(pop.device == "4001" && pop.agentID == "A4001")
        #expect(pop.calling == caller && pop.called == "96510")
        #expect(pop.queue == "8001" && pop.waitSeconds == 5)
        #expect(pop.customer == nil && pop.enriched == false)
        b.run { $0.answer(call, at: "4001") }
        b.run { $0.clear(call, at: caller) }
        #expect(PopBench.kinds(b.messages(to: "A4001")) == ["pop:ringing", "update:answered", "end:ended"])
        let answered = b.messages(to: "A4001")[1]
        #expect(answered.callState == "talking" && answered.waitSeconds == 6, "queued at t, answered at t+6")
        #expect(b.messages(to: "A4001")[2].callState == "ended")
        #expect(b.messages(to: "A4002").isEmpty)
        #expect(b.router.openInteractionCount == 0)
    }

    @Test func popOnAnswerWhenConfigured() throws {
        var b = PopBench(agents: 2, trigger: .answer)
        var call = ""
        b.run { call = $0.inbound(from: caller, to: "4001", wait: 2) }
        #expect(b.messages(to: "A4001").isEmpty, "ringing does not pop on answer")
        b.run { $0.answer(call, at: "4001") }
        let pop = try #require(b.messages(to: "A4001").first)
        #expect(pop.type == .pop && pop.event == "answered" && pop.callState == "talking")
        b.run { $0.clear(call, at: "4001") }
        #expect(PopBench.kinds(b.messages(to: "A4001")) == ["pop:answered", "end:cleared"])
    }

    @Test func holdAndRetrieveAreUpdates() {
        var b = PopBench(agents: 2)
        var call = ""
        b.run { call = $0.inbound(from: caller, to: "4002") }
        b.run { $0.answer(call, at: "4002") }
        b.run { $0.hold(call, at: "4002") }
        b.run { $0.retrieve(call, at: "4002") }
        b.run { $0.clear(call, at: caller) }
        let messages = b.messages(to: "A4002")
        #expect(
            PopBench.kinds(messages)
                == ["pop:ringing", "update:answered", "update:held", "update:retrieved", "end:ended"])
        #expect(messages.map { $0.callState ?? "" } == ["ringing", "talking", "held", "talking", "ended"])
        #expect(b.messages(to: "A4001").isEmpty)
    }

    @Test func consultationThenTransferHandsTheInteractionAndItsDataOver() throws {
        var b = PopBench(agents: 3)
        var call = ""
        var consultation = ""
        b.run { call = $0.inbound(from: caller, to: "4001") }
        b.run { $0.answer(call, at: "4001") }
        let interactionID = try #require(b.interaction(ofCall: call))
        #expect(b.router.takeLookups() == [CustomerLookup(interactionID: interactionID, number: caller)])
        let attached = b.attach(interactionID, customer: card)
        #expect(attached.map(\.recipient) == ["A4001"] && attached.first?.message.type == .update)
        b.run { consultation = $0.consult(call, from: "4001", to: "4002") }
        b.run { $0.answer(consultation, at: "4002") }
        b.run { $0.transfer(held: call, active: consultation, by: "4001") }
        b.run { $0.clear(call, at: "4002") }

        #expect(
            PopBench.kinds(b.messages(to: "A4001"))
                == ["pop:ringing", "update:answered", "update:attached", "update:held", "end:transferred"])
        #expect(
            PopBench.kinds(b.messages(to: "A4002"))
                == ["pop:ringing", "update:answered", "pop:transferred", "end:cleared"])
        let handedOver = try #require(b.messages(to: "A4002").first { $0.event == "transferred" })
        #expect(handedOver.interactionID == interactionID)
        #expect(handedOver.customer == card && handedOver.enriched == true)
        #expect(handedOver.calling == caller && handedOver.device == "4002" && handedOver.callState == "talking")
        #expect(Set(handedOver.callIDs) == [call, consultation])
        #expect(b.messages(to: "A4003").isEmpty)
        #expect(b.router.openInteractionCount == 0)
    }

    @Test func transferNamingNoTargetHandsOverToTheAgentLeftInTheCall() throws {
        var b = PopBench(agents: 2)
        var call = ""
        var consultation = ""
        b.run { call = $0.inbound(from: caller, to: "4001") }
        b.run { $0.answer(call, at: "4001") }
        b.run { consultation = $0.consult(call, from: "4001", to: "4002") }
        b.run { $0.answer(consultation, at: "4002") }
        b.run { $0.transfer(held: call, active: consultation, by: "4001", namesTarget: false) }
        #expect(PopBench.kinds(b.messages(to: "A4001")).last == "end:transferred")
        #expect(PopBench.kinds(b.messages(to: "A4002")) == ["pop:ringing", "update:answered", "pop:transferred"])
    }

    @Test func cancelledConsultationEndsTheColleaguesPopAndKeepsTheCustomerHeld() {
        var b = PopBench(agents: 2)
        var call = ""
        var consultation = ""
        b.run { call = $0.inbound(from: caller, to: "4001") }
        b.run { $0.answer(call, at: "4001") }
        b.run { consultation = $0.consult(call, from: "4001", to: "4002") }
        b.run { $0.clear(consultation, at: "4001") }
        #expect(PopBench.kinds(b.messages(to: "A4002")) == ["pop:ringing", "end:cleared"])
        #expect(b.router.currentState(agentID: "A4001").last?.callState == "held")
        b.run { $0.retrieve(call, at: "4001") }
        b.run { $0.hold(call, at: "4001") }
        let first = b.messages(to: "A4001")
        #expect(
            PopBench.kinds(first)
                == ["pop:ringing", "update:answered", "update:held", "update:retrieved", "update:held"])
        #expect(first.last?.callState == "held")
        #expect(b.router.currentState(agentID: "A4002").map(\.type) == [.state])
    }

    @Test func outboundCallsTheAgentMakesDoNotPop() {
        var b = PopBench(agents: 1)
        var call = ""
        b.run { call = $0.makeCall(from: "4001", to: "+4930555666") }
        b.run { $0.answer(call, at: "+4930555666") }
        b.run { $0.hold(call, at: "4001") }
        b.run { $0.retrieve(call, at: "4001") }
        b.run { $0.clear(call, at: "4001") }
        #expect(b.deliveries.isEmpty)
        #expect(b.router.openInteractionCount == 0)
    }

    @Test func blindTransferPopsTheTargetWithTheSameInteraction() throws {
        var b = PopBench(agents: 2)
        var call = ""
        b.run { call = $0.inbound(from: caller, to: "4001") }
        b.run { $0.answer(call, at: "4001") }
        let interactionID = try #require(b.interaction(ofCall: call))
        b.attach(interactionID, customer: card)
        b.run { $0.blindTransfer(call, by: "4001", to: "4002") }
        b.run { $0.answer(call, at: "4002") }
        b.run { $0.clear(call, at: caller) }
        #expect(
            PopBench.kinds(b.messages(to: "A4001"))
                == ["pop:ringing", "update:answered", "update:attached", "end:transferred"])
        #expect(PopBench.kinds(b.messages(to: "A4002")) == ["pop:transferred", "update:answered", "end:ended"])
        let pop = try #require(b.messages(to: "A4002").first)
        #expect(pop.interactionID == interactionID && pop.customer == card && pop.callState == "ringing")
    }

    @Test func blindTransferWithPopOnAnswerWaitsForTheAnswer() {
        var b = PopBench(agents: 2, trigger: .answer)
        var call = ""
        b.run { call = $0.inbound(from: caller, to: "4001") }
        b.run { $0.answer(call, at: "4001") }
        b.run { $0.blindTransfer(call, by: "4001", to: "4002") }
        #expect(b.messages(to: "A4002").isEmpty, "still ringing there")
        b.run { $0.answer(call, at: "4002") }
        #expect(PopBench.kinds(b.messages(to: "A4001")) == ["pop:answered", "end:transferred"])
        #expect(PopBench.kinds(b.messages(to: "A4002")) == ["pop:answered"])
    }

    @Test func ringNoAnswerEndsThePopAndTheNextAgentGetsIt() {
        var b = PopBench(agents: 2)
        var call = ""
        b.run { call = $0.inbound(from: caller, to: "4001") }
        b.run { $0.redirectOnNoAnswer(call, at: "4001") }
        b.run {
            $0.tick()
            $0.divert(call, from: $0.acd, to: "4002", cause: "distributed")
        }
        b.run { $0.answer(call, at: "4002") }
        let first = b.messages(to: "A4001")
        #expect(PopBench.kinds(first) == ["pop:ringing", "state:agentState", "end:diverted"])
        #expect(first[1].agentState == "notReady" && first[1].reason == "callNotAnswered")
        #expect(PopBench.kinds(b.messages(to: "A4002")) == ["pop:ringing", "update:answered"])
        #expect(b.messages(to: "A4002").first?.interactionID == first.first?.interactionID)
    }

    @Test func ringNoAnswerWithPopOnAnswerNeverBothersTheFirstAgent() {
        var b = PopBench(agents: 2, trigger: .answer)
        var call = ""
        b.run { call = $0.inbound(from: caller, to: "4001") }
        b.run { $0.redirectOnNoAnswer(call, at: "4001") }
        #expect(PopBench.kinds(b.messages(to: "A4001")) == ["state:agentState"])
    }

    @Test func conferenceUpdatesBothAgentsAndEndsEachOnLeaving() {
        var b = PopBench(agents: 3)
        var call = ""
        var consultation = ""
        b.run { call = $0.inbound(from: caller, to: "4001") }
        b.run { $0.answer(call, at: "4001") }
        b.run { consultation = $0.consult(call, from: "4001", to: "4002") }
        b.run { $0.answer(consultation, at: "4002") }
        b.run { $0.conference(held: call, active: consultation, by: "4001") }
        b.run { $0.clear(call, at: "4001") }
        b.run { $0.clear(call, at: caller) }
        #expect(
            PopBench.kinds(b.messages(to: "A4001"))
                == ["pop:ringing", "update:answered", "update:held", "update:conferenced", "end:cleared"])
        #expect(
            PopBench.kinds(b.messages(to: "A4002"))
                == ["pop:ringing", "update:answered", "update:conferenced", "end:ended"])
        #expect(b.messages(to: "A4001")[3].callState == "talking")
        #expect(b.messages(to: "A4003").isEmpty)
    }

    @Test func agentWithTwoDesktopsGetsEachMessageOnceForTheServerToFanOut() {
        var b = PopBench(agents: 2)
        let second = b.router.login(agentID: "A4001", devices: ["4001"])
        #expect(b.router.desktops(of: "A4001").count == 2)
        var call = ""
        b.run { call = $0.inbound(from: caller, to: "4001") }
        #expect(PopBench.kinds(b.messages(to: "A4001")) == ["pop:ringing"])
        let closed = b.router.logout(second)
        #expect(closed)
        b.run { $0.answer(call, at: "4001") }
        #expect(PopBench.kinds(b.messages(to: "A4001")) == ["pop:ringing", "update:answered"])
        #expect(b.router.droppedMessages == 0)
    }

    @Test func agentWithoutDesktopGetsNothingAndTheMessagesAreCounted() {
        var b = PopBench(agents: 2, loginAll: false)
        _ = b.router.login(agentID: "A4002", devices: ["4002"])
        let droppedBefore = b.router.droppedMessages
        var call = ""
        b.run { call = $0.inbound(from: caller, to: "4001") }
        b.run { $0.answer(call, at: "4001") }
        b.run { $0.clear(call, at: caller) }
        #expect(b.deliveries.isEmpty)
        #expect(b.router.droppedMessages - droppedBefore == 3, "pop, update and end for A4001")
    }

    @Test func desktopAgentIDNeedNotBeTheSwitchAgentID() {
        var b = PopBench(agents: 2, loginAll: false)
        // Logged on with the switch's own form of the device id (Avaya DMCC), compared normalized.
        _ = b.router.login(agentID: "alice", devices: ["4001:CM1:10.0.0.1:0"])
        b.run { _ = $0.inbound(from: caller, to: "4001") }
        #expect(PopBench.kinds(b.messages(to: "alice")) == ["pop:ringing"])
        #expect(b.messages(to: "alice").first?.agentID == "alice")
        #expect(b.router.devices(of: "alice") == ["4001"])
    }

    @Test func loggingOffEndsDeliveriesAndLoggingOnAgainStartsThem() {
        var b = PopBench(agents: 2)
        b.router.logout(agentID: "A4001")
        var call = ""
        b.run { call = $0.inbound(from: caller, to: "4001") }
        #expect(b.messages(to: "A4001").isEmpty)
        _ = b.router.login(agentID: "A4001", devices: ["4001"])
        // What the new desktop is sent first: the call ringing at its device.
        let now = b.router.currentState(agentID: "A4001")
        #expect(now.map(\.type) == [.state, .pop])
        #expect(now.last?.callState == "ringing" && now.last?.event == "reconnect")
        b.run { $0.answer(call, at: "4001") }
        #expect(PopBench.kinds(b.messages(to: "A4001")) == ["update:answered"])
    }

    @Test func reconnectGetsTheCurrentStateOfItsCallsOnly() throws {
        var b = PopBench(agents: 3)
        var first = ""
        var other = ""
        b.run { first = $0.inbound(from: caller, to: "4001") }
        b.run { $0.answer(first, at: "4001") }
        b.run { $0.hold(first, at: "4001") }
        b.run { other = $0.inbound(from: "+4930111222", to: "4002") }
        b.run { $0.answer(other, at: "4002") }
        b.run { $0.agentEvent("agentBusy", device: "4001") }
        let interactionID = try #require(b.interaction(ofCall: first))
        b.attach(interactionID, customer: card)

        let state = b.router.currentState(agentID: "A4001")
        #expect(state.map(\.type) == [.state, .pop])
        #expect(state[0].agentState == "busy" && state[0].agentID == "A4001")
        let pop = state[1]
        #expect(pop.interactionID == interactionID && pop.callState == "held" && pop.customer == card)
        #expect(pop.device == "4001" && pop.agentID == "A4001" && pop.calling == caller)
        #expect(b.router.currentState(agentID: "A4003").map(\.type) == [.state])
        #expect(b.router.currentState(agentID: "nobody").isEmpty)

        b.run { $0.clear(first, at: caller) }
        #expect(b.router.currentState(agentID: "A4001").map(\.type) == [.state])
    }

    @Test func agentStatesGoToThatAgentOnly() {
        var b = PopBench(agents: 3)
        b.run { $0.agentEvent("agentNotReady", device: "4002", cause: "lunch") }
        b.run { $0.agentEvent("agentReady", device: "4002") }
        #expect(b.deliveries.allSatisfy { $0.recipient == "A4002" })
        let states = b.messages(to: "A4002")
        #expect(states.map(\.type) == [.state, .state])
        #expect(states.map { $0.agentState ?? "" } == ["notReady", "ready"])
        #expect(states[0].reason == "lunch" && states[0].device == "4002")
    }

    @Test func dataAttachedBeforeThePopTravelsWithIt() throws {
        var b = PopBench(agents: 2)
        var call = ""
        b.run { call = $0.inbound(from: caller, to: nil) }
        let lookup = try #require(b.router.takeLookups().first)
        #expect(lookup.number == caller)
        let order = WorkOrderSummary(
            workOrderID: "W1", category: "outage", status: "open", createdAt: b.sw.now, title: "no power")
        let recent = RecentCall(
            interactionID: "ix-old", startedAt: b.sw.now - 86_400, direction: "inbound", outcome: "answered",
            agentID: "A4002", talkSeconds: 63)
        let early = b.attach(lookup.interactionID, customer: card, recentCalls: [recent], openWorkOrders: [order])
        #expect(early.isEmpty, "nobody was popped yet")
        b.run {
            $0.tick(4)
            $0.divert(call, from: $0.acd, to: "4001", cause: "distributed")
        }
        let pop = try #require(b.messages(to: "A4001").first)
        #expect(pop.type == .pop && pop.customer == card && pop.enriched == true)
        #expect(pop.recentCalls == [recent] && pop.openWorkOrders == [order])
        #expect(pop.waitSeconds == 4)
        #expect(b.router.takeLookups().isEmpty, "one lookup per interaction")
    }

    @Test func unknownCallerAttachedLaterIsAnUpdateWithExplicitNoCustomer() throws {
        var b = PopBench(agents: 1)
        b.run { _ = $0.inbound(from: caller, to: "4001") }
        let lookup = try #require(b.router.takeLookups().first)
        let update = b.attach(lookup.interactionID, customer: nil)
        #expect(update.count == 1)
        let message = try #require(update.first?.message)
        #expect(message.type == .update && message.event == "attached" && message.enriched == true)
        #expect(message.customer == nil)
        #expect(b.router.attach(interactionID: "ix-unknown", customer: card).isEmpty)
    }

    @Test func expiryDropsStaleInteractionsAndEndsTheirPops() {
        var b = PopBench(agents: 2, maxAge: 3600)
        b.run { _ = $0.inbound(from: caller, to: "4001") }
        #expect(b.router.expire(now: b.sw.now + 1800).isEmpty)
        #expect(b.router.openInteractionCount == 1)
        let ended = b.router.expire(now: b.sw.now + 3601)
        #expect(ended.map(\.recipient) == ["A4001"])
        #expect(ended.first?.message.type == .end && ended.first?.message.event == "expired")
        #expect(b.router.openInteractionCount == 0)
        #expect(b.router.currentState(agentID: "A4001").map(\.type) == [.state])
    }

    @Test func callsSurviveALinkFailureAndResyncedEndsReachTheAgent() {
        var b = PopBench(agents: 2)
        var kept = ""
        var lost = ""
        b.run { kept = $0.inbound(from: caller, to: "4001") }
        b.run { $0.answer(kept, at: "4001") }
        b.run { lost = $0.inbound(from: "+4930111222", to: "4002") }
        b.run { $0.answer(lost, at: "4002") }
        b.run { $0.linkDown() }
        b.run { $0.clear(lost, at: "+4930111222") }
        b.run { $0.linkUp() }
        #expect(PopBench.kinds(b.messages(to: "A4001")) == ["pop:ringing", "update:answered"])
        let second = b.messages(to: "A4002")
        #expect(PopBench.kinds(second).last == "end:ended" || PopBench.kinds(second).last == "end:cleared")
        #expect(second.last?.resynced == true)
        // The call that lived through the outage goes on as before.
        b.run { $0.hold(kept, at: "4001") }
        #expect(b.messages(to: "A4001").last?.type == .update && b.messages(to: "A4001").last?.resynced == true)
        #expect(b.router.currentState(agentID: "A4001").last?.callState == "held")
    }
}
