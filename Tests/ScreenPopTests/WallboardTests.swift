import CallModel
import Foundation
import ScreenPop
import Testing

/// The test switch and the real call model feeding one or more wallboards (one per configuration under test).
struct WallboardBench {
    var sw: PopTestSwitch
    var boards: [Wallboard]

    init(agents: Int = 4, configurations: [Wallboard.Configuration] = [.init()]) {
        sw = PopTestSwitch(agents: agents)
        boards = configurations.map { Wallboard(configuration: $0) }
        feed()
    }

    mutating func run(_ body: (inout PopTestSwitch) -> Void) {
        body(&sw)
        feed()
    }

    mutating func feed() {
        for event in sw.drain() {
            for index in boards.indices { boards[index].apply(event) }
        }
    }

    func snapshot(_ board: Int = 0, after seconds: TimeInterval = 0) -> WallboardSnapshot {
        boards[board].snapshot(now: sw.now + seconds)
    }
}

/// A caller beyond the trunk.
private func dialer(_ n: Int) -> String { "+8613800000\(String(format: "%03d", n))" }

@Suite("Wallboard: agents, queues and today's service level from the call model's events")
struct WallboardTests {
    let acd = "8001"

    /// Answered within and after the threshold, abandoned short, within and after the threshold.
    static func mixedTraffic(_ b: inout WallboardBench) {
        b.run { sw in
            let quick = sw.inbound(from: dialer(1), to: "4001", wait: 5)  // answered after 6 s
            sw.answer(quick, at: "4001")
            sw.tick(60)
            sw.clear(quick, at: dialer(1))
            let slow = sw.inbound(from: dialer(2), to: "4002", wait: 30)  // answered after 31 s
            sw.answer(slow, at: "4002")
            sw.tick(60)
            sw.clear(slow, at: "4002")
            for (n, wait) in [(3, 2.0), (4, 11.0), (5, 39.0)] {  // abandoned after 3, 12 and 40 s
                let call = sw.inbound(from: dialer(n), to: nil)
                sw.tick(wait)
                sw.clear(call, at: dialer(n))
            }
        }
    }

    @Test func countsWaitsAndServiceLevelUnderBothFormulas() throws {
        var b = WallboardBench(configurations: [.init(), .init(serviceLevelFormula: .offered)])
        Self.mixedTraffic(&b)
        let standard = b.snapshot(0)
        let queue = try #require(standard.queues.first)
        #expect(standard.queues.map(\.queue) == [acd])
        #expect(queue.offered == 5 && queue.answered == 2 && queue.answeredWithinThreshold == 1)
        #expect(queue.abandoned == 3 && queue.shortAbandoned == 1 && queue.left == 0 && queue.waiting == 0)
        #expect(queue.averageAnswerWaitSeconds == 18.5, "(6 + 31) / 2")
        #expect(queue.longestWaitSeconds == 40)
        // 1 within 20 s ÷ (2 answered + 1 abandoned after 20 s)
        #expect(queue.serviceLevel == 0.3333)
        #expect(standard.today.serviceLevel == 0.3333 && standard.today.offered == 5)
        #expect(standard.today.answered == 2 && standard.today.abandoned == 3 && standard.today.longestWaitSeconds == 40)
        // 1 within 20 s ÷ (5 offered − 1 short abandon)
        let offered = b.snapshot(1)
        #expect(offered.queues.first?.serviceLevel == 0.25 && offered.today.serviceLevel == 0.25)
        #expect(offered.serviceLevelRule.formula == .offered && standard.serviceLevelRule.thresholdSeconds == 20)
    }

    @Test func thresholdAndShortAbandonLimitAreConfigurable() {
        var b = WallboardBench(configurations: [.init(serviceLevelThreshold: 40, shortAbandonLimit: 15)])
        Self.mixedTraffic(&b)
        let queue = b.snapshot().queues.first
        #expect(queue?.answeredWithinThreshold == 2 && queue?.shortAbandoned == 2)
        #expect(queue?.serviceLevel == 1, "both answered within 40 s; no abandon after 40 s")
    }

    @Test func waitingCallsAndOldestWaitAtNow() throws {
        var b = WallboardBench()
        var first = "", second = ""
        b.run { sw in
            first = sw.inbound(from: dialer(1), to: nil)
            sw.tick(10)
            second = sw.inbound(from: dialer(2), to: nil)
        }
        var queue = try #require(b.snapshot(after: 5).queues.first)
        #expect(queue.waiting == 2 && queue.oldestWaitSeconds == 16, "first queued 11 s before, plus 5")
        #expect(b.snapshot(after: 5).today.oldestWaitSeconds == 16 && b.snapshot().today.waiting == 2)
        // Distributed to an agent that does not answer and back: still waiting, the wait runs on.
        b.run { sw in
            sw.divert(first, from: sw.acd, to: "4001", cause: "distributed")
            sw.tick(8)
            sw.redirectOnNoAnswer(first, at: "4001")
        }
        queue = try #require(b.snapshot().queues.first)
        #expect(queue.waiting == 2 && queue.oldestWaitSeconds == 20 && queue.answered == 0)
        #expect(b.snapshot().agents.first { $0.device == "4001" }?.reason == "callNotAnswered")
        b.run { sw in
            sw.divert(first, from: sw.acd, to: "4002", cause: "distributed")
            sw.answer(first, at: "4002")
        }
        queue = try #require(b.snapshot().queues.first)
        #expect(queue.waiting == 1 && queue.oldestWaitSeconds == 10, "the second call is the oldest now")
        #expect(queue.answered == 1 && queue.averageAnswerWaitSeconds == 21, "from the first queueing to the answer")
        b.run { sw in sw.clear(second, at: dialer(2)) }
        #expect(b.snapshot().queues.first?.waiting == 0 && b.snapshot().queues.first?.oldestWaitSeconds == 0)
    }

    @Test func callerHangingUpWhileTheAgentRingsIsAbandoned() {
        var b = WallboardBench()
        b.run { sw in
            let call = sw.inbound(from: dialer(1), to: "4001", wait: 25)
            sw.tick(4)
            sw.clear(call, at: dialer(1))
        }
        let queue = b.snapshot().queues.first
        #expect(queue?.abandoned == 1 && queue?.waiting == 0 && queue?.left == 0)
        #expect(queue?.serviceLevel == 0, "abandoned after 30 s, nothing answered")
        #expect(b.snapshot().agents.first { $0.device == "4001" }?.state == .ready)
    }

    @Test func divertedOutOfTheQueueLeavesUnanswered() {
        var b = WallboardBench(configurations: [.init(), .init(serviceLevelFormula: .offered)])
        b.run { sw in
            let overflow = sw.inbound(from: dialer(1), to: nil)
            sw.tick(25)
            // To a voice mailbox the bridge does not monitor: the call is over for the bridge.
            sw.divert(overflow, from: sw.acd, to: "79999", cause: "callForwardNoAnswer")
            let answered = sw.inbound(from: dialer(2), to: "4001", wait: 3)
            sw.answer(answered, at: "4001")
        }
        let queue = b.snapshot(0).queues.first
        #expect(queue?.offered == 2 && queue?.left == 1 && queue?.abandoned == 0 && queue?.waiting == 0)
        #expect(queue?.serviceLevel == 1, "a call that left does not count in the default formula")
        #expect(b.snapshot(1).queues.first?.serviceLevel == 0.5, "it counts as offered in the other")
        #expect(queue?.longestWaitSeconds == 4, "only answered, abandoned and waiting calls make the longest wait")
    }

    @Test func consultedTransferCountsOnceAndMovesTheBusyAgent() throws {
        var b = WallboardBench()
        var call = ""
        b.run { sw in
            call = sw.inbound(from: dialer(1), to: "4001", wait: 3)
            sw.answer(call, at: "4001")
            let consultation = sw.consult(call, from: "4001", to: "4002")
            sw.answer(consultation, at: "4002")
        }
        var agents = b.snapshot().agents
        #expect(agents.filter(\.onCall).map(\.device) == ["4001", "4002"])
        b.run { sw in sw.transfer(held: call, active: sw.calls.keys.first { $0 != call } ?? "", by: "4001") }
        agents = b.snapshot().agents
        #expect(agents.filter(\.onCall).map(\.device) == ["4002"])
        #expect(agents.first { $0.device == "4001" }?.state == .ready)
        #expect(b.snapshot().agentCounts.busy == 1 && b.snapshot().agentCounts.ready == 3)
        b.run { sw in
            sw.tick(30)
            sw.clear(call, at: "4002")
        }
        let snapshot = b.snapshot()
        #expect(snapshot.agentCounts.busy == 0 && snapshot.agentCounts.ready == 4)
        #expect(snapshot.agents.first { $0.device == "4002" }?.since == b.sw.now, "ready again since the call ended")
        #expect(snapshot.queues.first?.offered == 1 && snapshot.queues.first?.answered == 1)
        #expect(snapshot.queues.first?.averageAnswerWaitSeconds == 4)
        #expect(b.boards[0].trackedCallCount == 0)
    }

    @Test func transferToTheQueueIsOfferedAgain() {
        var b = WallboardBench()
        b.run { sw in
            let call = sw.inbound(from: dialer(1), to: "4001", wait: 2)
            sw.answer(call, at: "4001")
            sw.blindTransfer(call, by: "4001", to: sw.acd)
            sw.tick(5)
            sw.divert(call, from: sw.acd, to: "4003", cause: "distributed")
            sw.answer(call, at: "4003")
        }
        let queue = b.snapshot().queues.first
        #expect(queue?.offered == 2 && queue?.answered == 2 && queue?.waiting == 0)
        #expect(b.snapshot().agents.filter(\.onCall).map(\.device) == ["4003"])
    }

    @Test func agentStatesWithReasonsAndOnCallOverride() throws {
        var b = WallboardBench()
        let start = b.sw.now
        b.run { sw in
            sw.tick()
            sw.agentEvent("agentNotReady", device: "4002", cause: "lunch")
            sw.agentEvent("agentWorkingAfterCall", device: "4003")
            sw.agentEvent("agentLoggedOff", device: "4004")
        }
        var snapshot = b.snapshot()
        #expect(snapshot.agentCounts == .init(ready: 1, notReady: 1, busy: 0, workingAfterCall: 1, loggedOff: 1))
        let lunch = try #require(snapshot.agents.first { $0.agentID == "A4002" })
        #expect(lunch.state == .notReady && lunch.reason == "lunch" && lunch.device == "4002")
        #expect(lunch.since == start + 1)
        #expect(snapshot.agents.map(\.agentID) == ["A4001", "A4002", "A4003", "A4004"])
        // The switch sends no agent state for the call: 4001 is busy while talking, and an outbound call counts too.
        var inbound = ""
        b.run { sw in
            inbound = sw.inbound(from: dialer(1), to: "4001", wait: 1)
            sw.answer(inbound, at: "4001")
            _ = sw.makeCall(from: "4003", to: "+861088888888")
        }
        snapshot = b.snapshot()
        let talking = try #require(snapshot.agents.first { $0.device == "4001" })
        #expect(talking.state == .busy && talking.onCall && talking.reason == nil && talking.since == b.sw.now - 1)
        #expect(snapshot.agents.first { $0.device == "4003" }?.state == .busy)
        #expect(snapshot.agentCounts.busy == 2 && snapshot.agentCounts.ready == 0)
        b.run { sw in sw.clear(inbound, at: "4001") }
        #expect(b.snapshot().agents.first { $0.device == "4001" }?.state == .ready)
        // An agent that logs on at another phone leaves its old one.
        b.run { sw in
            let input = CSTAEventInput(event: "agentLoggedOn", monitoredDevice: "4009", device: "4009", agentID: "A4004")
            sw.events += sw.engine.apply(input, at: sw.now)
        }
        let moved = b.snapshot().agents.filter { $0.agentID == "A4004" }
        #expect(moved.map(\.device) == ["4009"] && moved.first?.state == .notReady)
    }

    @Test func dayRolloverInShanghaiAndInUTC() throws {
        var b = WallboardBench(configurations: [.init(), .init(timeZone: .gmt)])
        // 2027-01-15 08:00 UTC is 16:00 in Shanghai.
        b.run { sw in
            let call = sw.inbound(from: dialer(1), to: "4001", wait: 2)
            sw.answer(call, at: "4001")
            sw.clear(call, at: dialer(1))
        }
        #expect(b.snapshot(0).day == "2027-01-15" && b.snapshot(0).today.answered == 1)
        let shanghaiMidnight = Date(timeIntervalSince1970: 1_800_000_000 + 8 * 3600)
        // No event yet on the new day: the snapshot alone starts it.
        let quiet = b.boards[0].snapshot(now: shanghaiMidnight + 1)
        #expect(quiet.day == "2027-01-16" && quiet.today.offered == 0 && quiet.today.answered == 0)
        #expect(quiet.dayStart == shanghaiMidnight && quiet.timeZone == "Asia/Shanghai")
        // A call waits across midnight in Shanghai; another comes after it.
        b.sw.now = shanghaiMidnight - 10
        b.run { sw in
            let overnight = sw.inbound(from: dialer(2), to: nil)
            sw.tick(15)
            sw.divert(overnight, from: sw.acd, to: "4002", cause: "distributed")
            sw.answer(overnight, at: "4002")
            sw.tick(600)
            let late = sw.inbound(from: dialer(3), to: nil)
            sw.tick(45)
            sw.clear(late, at: dialer(3))
        }
        let shanghai = b.snapshot(0)
        #expect(shanghai.day == "2027-01-16")
        #expect(shanghai.today.offered == 2, "the call waiting at midnight is offered again")
        #expect(shanghai.today.answered == 1 && shanghai.today.abandoned == 1)
        #expect(shanghai.today.averageAnswerWaitSeconds == 16, "its wait runs from before midnight")
        #expect(shanghai.today.serviceLevel == 0.5)
        let utc = b.snapshot(1)
        #expect(utc.day == "2027-01-15" && utc.timeZone == "GMT")
        #expect(utc.today.offered == 3 && utc.today.answered == 2 && utc.today.abandoned == 1)
        // UTC midnight resets the UTC board.
        let utcMidnight = Date(timeIntervalSince1970: 1_800_000_000 + 16 * 3600)
        #expect(b.boards[1].snapshot(now: utcMidnight).today.offered == 0)
        #expect(b.boards[1].snapshot(now: utcMidnight).day == "2027-01-16")
    }

    @Test func staleWhileTheLinkIsDownAndResyncedEventsApplied() {
        var b = WallboardBench()
        b.run { sw in
            _ = sw.inbound(from: dialer(1), to: nil)
            sw.tick(30)
        }
        #expect(!b.snapshot().stale && b.snapshot().queues.first?.waiting == 1)
        b.run { sw in sw.linkDown() }
        let down = b.sw.now
        #expect(b.snapshot().stale && b.snapshot().staleSince == down)
        // The caller hangs up while the link is down; the snapshots at link-up show the call gone.
        b.run { sw in
            sw.tick(5)
            if let id = sw.calls.keys.first { sw.clear(id, at: dialer(1)) }
            sw.linkUp()
        }
        let up = b.snapshot()
        #expect(!up.stale && up.staleSince == nil)
        #expect(up.queues.first?.waiting == 0 && up.queues.first?.abandoned == 1)
        #expect(b.boards[0].trackedCallCount == 0)
    }

    @Test func callsThatNeverEndExpire() {
        var b = WallboardBench(configurations: [.init(maxCallAge: 3600)])
        b.run { sw in
            _ = sw.inbound(from: dialer(1), to: nil)
            let talking = sw.inbound(from: dialer(2), to: "4001", wait: 1)
            sw.answer(talking, at: "4001")
        }
        #expect(b.snapshot(after: 3500).queues.first?.waiting == 1)
        #expect(b.snapshot(after: 3500).agents.first { $0.device == "4001" }?.onCall == true)
        let later = b.snapshot(after: 3700)
        #expect(later.queues.first?.waiting == 0 && later.queues.first?.left == 1)
        #expect(later.agents.first { $0.device == "4001" }?.onCall == false)
        #expect(b.boards[0].trackedCallCount == 2, "a snapshot does not change the wallboard")
        b.boards[0].expire(now: b.sw.now + 3700)
        #expect(b.boards[0].trackedCallCount == 0)
        // Events later on expire what is old by themselves.
        b.run { sw in
            sw.tick(3700)
            _ = sw.inbound(from: dialer(3), to: nil)
            sw.tick(3700)
            sw.agentEvent("agentNotReady", device: "4003", cause: "meeting")
        }
        #expect(b.boards[0].trackedCallCount == 0)
    }

    @Test func jsonIsCompactStableAndReadsBack() throws {
        var b = WallboardBench(agents: 1)
        b.run { sw in
            let call = sw.inbound(from: dialer(1), to: "4001", wait: 4)
            sw.answer(call, at: "4001")
        }
        let snapshot = b.snapshot(after: 0.04)
        let data = try snapshot.json()
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.hasPrefix(#"{"agentCounts":{"busy":1,"loggedOff":0,"notReady":0,"ready":0,"workingAfterCall":0}"#))
        #expect(text.contains(#""generatedAt":"2027-01-15T08:00:06Z""#))
        #expect(text.contains(#""day":"2027-01-15","dayStart":"2027-01-14T16:00:00Z""#))
        #expect(text.contains(#""serviceLevelRule":{"formula":"answeredAndLateAbandoned","shortAbandonSeconds":5,"thresholdSeconds":20}"#))
        #expect(text.contains(#""averageAnswerWaitSeconds":5,"#))
        #expect(!text.contains("staleSince") && !text.contains("\n") && !text.contains("\\/"))
        #expect(try snapshot.json() == data, "the same snapshot gives the same bytes")
        let back = try WallboardSnapshot.decode(json: data)
        #expect(try back.json() == data)
    }
}
