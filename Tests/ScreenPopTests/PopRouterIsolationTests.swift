import CallModel
import Foundation
import ScreenPop
import Testing

/// SplitMix64: a seeded generator, so a failing run can be repeated.
struct PopTestRandom: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Pop router: many agents, random calls, every message to the agent at the device only")
struct PopRouterIsolationTests {
    /// What a random call does after it rings at its first agent.
    enum Plan: CaseIterable {
        case answerAndCallerHangsUp, agentHangsUp, holdRetrieve, noAnswerThenOther, consultTransfer, blindTransfer
        case callerAbandonsWhileRinging, consultCancelled, conference
    }

    /// One call in progress: its plan and how far it got.
    struct Script {
        var plan: Plan
        var caller: String
        var first: String
        var second: String
        var call = ""
        var consultation = ""
        var step = 0
    }

    @Test(arguments: [PopTrigger.alerting, .answer])
    func twoHundredAgentsRandomInboundCalls(trigger: PopTrigger) throws {
        let agents = 200
        var b = PopBench(agents: agents, trigger: trigger)
        var random = PopTestRandom(state: trigger == .alerting ? 42 : 4242)
        var idle = Set((1...agents).map { String(4000 + $0) })
        var running: [Script] = []
        var started = 0
        let total = 1500

        while started < total || !running.isEmpty {
            // Keep up to 60 calls going at once, interleaving their steps at random.
            if started < total, running.count < 60, idle.count >= 2, Bool.random(using: &random) {
                let first = try #require(idle.randomElement(using: &random))
                idle.remove(first)
                let second = try #require(idle.randomElement(using: &random))
                idle.remove(second)
                let plan = try #require(Plan.allCases.randomElement(using: &random))
                var script = Script(plan: plan, caller: "+49301\(100_000 + started)", first: first, second: second)
                b.run { script.call = $0.inbound(from: script.caller, to: first, wait: Double(started % 7)) }
                running.append(script)
                started += 1
                continue
            }
            guard !running.isEmpty else { continue }
            let index = Int.random(in: 0..<running.count, using: &random)
            var script = running[index]
            let done = b.advance(&script)
            if done {
                running.remove(at: index)
                idle.insert(script.first)
                idle.insert(script.second)
            } else {
                running[index] = script
            }
        }

        #expect(b.router.openInteractionCount == 0)
        #expect(b.router.droppedMessages == 0)
        var popped: [String: Set<String>] = [:]
        var ended: [String: Set<String>] = [:]
        for delivery in b.deliveries {
            let message = delivery.message
            let agent = delivery.recipient
            // Each agent's desktop is at its own phone: the message is about that phone and no other.
            #expect(message.agentID == agent)
            if message.type == .state {
                #expect(message.device == String(agent.dropFirst()))
                continue
            }
            let device = try #require(message.device)
            #expect(agent == PopTestSwitch.agentID(device), "message about \(device) went to \(agent)")
            let interactionID = try #require(message.interactionID)
            #expect(b.devicesNamed[interactionID]?.contains(device) == true, "\(interactionID) never reached \(device)")
            if message.type == .pop { popped[agent, default: []].insert(interactionID) }
            if message.type == .end { ended[agent, default: []].insert(interactionID) }
            if message.type == .update {
                #expect(popped[agent]?.contains(interactionID) == true, "update before pop")
            }
        }
        // Every pop was closed, and every agent that rang (or answered, with pop on answer) was popped.
        #expect(popped == ended)
        var reached: [String: Set<String>] = [:]
        let triggerKind: CallEventKind = trigger == .alerting ? .ringing : .answered
        for event in b.sw.events where event.kind == triggerKind {
            guard let device = event.device, device.hasPrefix("4"), let id = event.interactionID else { continue }
            reached[PopTestSwitch.agentID(device), default: []].insert(id)
        }
        #expect(reached == popped)
        #expect(popped.values.reduce(0) { $0 + $1.count } > total / 2, "most calls reached an agent")
    }
}

extension PopBench {
    /// Runs the next step of `script`; returns whether the call is over.
    mutating func advance(_ s: inout PopRouterIsolationTests.Script) -> Bool {
        let step = s.step
        s.step += 1
        let script = s
        switch (script.plan, step) {
        case (.answerAndCallerHangsUp, 0), (.agentHangsUp, 0), (.holdRetrieve, 0), (.consultTransfer, 0),
            (.blindTransfer, 0), (.consultCancelled, 0), (.conference, 0):
            run { $0.answer(script.call, at: script.first) }
        case (.answerAndCallerHangsUp, _):
            run { $0.clear(script.call, at: script.caller) }
            return true
        case (.agentHangsUp, _):
            run { $0.clear(script.call, at: script.first) }
            return true
        case (.holdRetrieve, 1): run { $0.hold(script.call, at: script.first) }
        case (.holdRetrieve, 2): run { $0.retrieve(script.call, at: script.first) }
        case (.holdRetrieve, _):
            run { $0.clear(script.call, at: script.caller) }
            return true
        case (.noAnswerThenOther, 0):
            run { $0.redirectOnNoAnswer(script.call, at: script.first) }
            // The agent made not ready by the switch is ready again for the next call.
            run { $0.agentEvent("agentReady", device: script.first) }
        case (.noAnswerThenOther, 1):
            run {
                $0.tick()
                $0.divert(script.call, from: $0.acd, to: script.second, cause: "distributed")
            }
        case (.noAnswerThenOther, 2): run { $0.answer(script.call, at: script.second) }
        case (.noAnswerThenOther, _):
            run { $0.clear(script.call, at: script.second) }
            return true
        case (.consultTransfer, 1):
            var consultation = ""
            run { consultation = $0.consult(script.call, from: script.first, to: script.second) }
            s.consultation = consultation
        case (.consultTransfer, 2): run { $0.answer(script.consultation, at: script.second) }
        case (.consultTransfer, 3): run { $0.transfer(held: script.call, active: script.consultation, by: script.first) }
        case (.consultTransfer, _):
            run { $0.clear(script.call, at: script.caller) }
            return true
        case (.blindTransfer, 1): run { $0.blindTransfer(script.call, by: script.first, to: script.second) }
        case (.blindTransfer, 2): run { $0.answer(script.call, at: script.second) }
        case (.blindTransfer, _):
            run { $0.clear(script.call, at: script.second) }
            return true
        case (.consultCancelled, 1), (.conference, 1):
            var consultation = ""
            run { consultation = $0.consult(script.call, from: script.first, to: script.second) }
            s.consultation = consultation
        case (.consultCancelled, 2):
            // The colleague answers or not before the consultation is given up.
            if script.call.hasSuffix("1") || script.call.hasSuffix("5") {
                run { $0.answer(script.consultation, at: script.second) }
            }
        case (.consultCancelled, 3): run { $0.clear(script.consultation, at: script.first) }
        case (.consultCancelled, 4): run { $0.retrieve(script.call, at: script.first) }
        case (.consultCancelled, _):
            run { $0.clear(script.call, at: script.caller) }
            return true
        case (.conference, 2): run { $0.answer(script.consultation, at: script.second) }
        case (.conference, 3): run { $0.conference(held: script.call, active: script.consultation, by: script.first) }
        case (.conference, 4): run { $0.clear(script.call, at: script.first) }
        case (.conference, _):
            run { $0.clear(script.call, at: script.caller) }
            return true
        case (.callerAbandonsWhileRinging, _):
            run { $0.clear(script.call, at: script.caller) }
            return true
        }
        return false
    }
}
