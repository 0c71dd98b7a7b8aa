import CallModel
import Foundation
import Simulator
import Testing

@Suite("Call model: random walks through every switch operation")
struct CallModelPropertyTests {
    /// One random operation on the switch, chosen among those that make sense now.
    static func randomStep(_ d: inout SwitchDriver, _ random: inout SeededGenerator) {
        let agents = d.numbering.agentExtensions
        let calls = d.model.calls.values.sorted { $0.id < $1.id }
        let external = "+4989" + String(Int.random(in: 1_000_000...9_999_999, using: &random))
        let roll = Int.random(in: 0..<100, using: &random)
        let agent = agents.randomElement(using: &random)!
        let other = agents.randomElement(using: &random)!
        switch roll {
        case 0..<12:
            d.step { (m, now) throws(SwitchError) in try m.placeInboundCall(from: external, to: m.numbering.hotline, now: now) }
        case 12..<15:
            d.step { (m, now) throws(SwitchError) in try m.placeInboundCall(from: external, to: m.numbering.routePoint, now: now) }
        case 15..<20:
            d.step { (m, now) throws(SwitchError) in try m.makeCall(calling: agent, called: external, now: now) }
        case 20..<21:
            d.step { (m, now) throws(SwitchError) in try m.makeCall(calling: agent, called: other, now: now) }
        case 21..<40:
            // Answer something that rings.
            let ringing = calls.flatMap { call in call.connections.filter { $0.state == .alerting }.map { (call.id, $0.device) } }
            guard let (call, device) = ringing.randomElement(using: &random) else { return }
            d.step { (m, now) throws(SwitchError) in try m.answerCall(callID: call, device: device, now: now) }
        case 40..<52:
            // Somebody hangs up.
            let parties = calls.flatMap { call in call.connections.filter { $0.state != .queued }.map { (call.id, $0.device) } }
            guard let (call, device) = parties.randomElement(using: &random) else { return }
            d.step { (m, now) throws(SwitchError) in try m.clearConnection(callID: call, device: device, now: now) }
        case 52..<57:
            // A queued caller gives up.
            let queued = calls.filter { $0.state(of: d.numbering.acdGroup) == .queued }
            guard let call = queued.randomElement(using: &random) else { return }
            d.step { (m, now) throws(SwitchError) in try m.clearConnection(callID: call.id, device: call.calling, now: now) }
        case 57..<63:
            let talking = calls.flatMap { call in call.connections.filter { $0.state == .connected && agents.contains($0.device) }.map { (call.id, $0.device) } }
            guard let (call, device) = talking.randomElement(using: &random) else { return }
            d.step { (m, now) throws(SwitchError) in try m.holdCall(callID: call, device: device, now: now) }
        case 63..<68:
            let held = calls.flatMap { call in call.connections.filter { $0.state == .hold }.map { (call.id, $0.device) } }
            guard let (call, device) = held.randomElement(using: &random) else { return }
            d.step { (m, now) throws(SwitchError) in try m.retrieveCall(callID: call, device: device, now: now) }
        case 68..<75:
            let talking = calls.flatMap { call in call.connections.filter { $0.state == .connected && agents.contains($0.device) }.map { (call.id, $0.device) } }
            guard let (call, device) = talking.randomElement(using: &random) else { return }
            let target = Bool.random(using: &random) ? other : external
            d.step { (m, now) throws(SwitchError) in try m.consultationCall(callID: call, device: device, consulted: target, now: now) }
        case 75..<82:
            // Transfer or conference a held call with the device's active one.
            for device in agents.shuffled(using: &random) {
                guard let held = calls.first(where: { $0.state(of: device) == .hold }),
                    let active = calls.first(where: { $0.state(of: device) == .connected && $0.id != held.id })
                else { continue }
                let conference = Int.random(in: 0..<3, using: &random) == 0
                d.step { (m, now) throws(SwitchError) in
                    conference
                        ? try m.conferenceCall(heldCallID: held.id, activeCallID: active.id, device: device, now: now)
                        : try m.transferCall(heldCallID: held.id, activeCallID: active.id, device: device, now: now)
                }
                return
            }
        case 82..<85:
            let talking = calls.flatMap { call in call.connections.filter { $0.state == .connected && agents.contains($0.device) }.map { (call.id, $0.device) } }
            guard let (call, device) = talking.randomElement(using: &random) else { return }
            let target = Bool.random(using: &random) ? other : d.numbering.acdGroup
            d.step { (m, now) throws(SwitchError) in try m.singleStepTransfer(callID: call, device: device, to: target, now: now) }
        case 85..<89:
            let ringing = calls.flatMap { call in call.connections.filter { $0.state == .alerting && agents.contains($0.device) }.map { (call.id, $0.device) } }
            guard let (call, device) = ringing.randomElement(using: &random) else { return }
            if Bool.random(using: &random) {
                d.step { (m, now) throws(SwitchError) in try m.redirectOnNoAnswer(callID: call, device: device, now: now) }
            } else {
                d.step { (m, now) throws(SwitchError) in try m.deflectCall(callID: call, device: device, to: other, now: now) }
            }
        case 89..<92:
            guard let route = d.pendingRoutes.popLast() else { return }
            let target = Bool.random(using: &random) ? other : d.numbering.acdGroup
            d.step { (m, now) throws(SwitchError) in try m.routeSelect(routeingCrossRefID: route.routeingCrossRefID, destination: target, now: now) }
        case 92..<97:
            let state = ["ready", "ready", "notReady", "loggedOff", "loggedOn", "workingAfterCall"].randomElement(using: &random)!
            d.step { (m, now) throws(SwitchError) in try m.setAgentState(device: agent, requested: state, now: now) }
        default:
            guard let call = calls.randomElement(using: &random) else { return }
            d.step { (m, now) throws(SwitchError) in try m.clearCall(callID: call.id, now: now) }
        }
    }

    /// Ends everything still up, so every interaction has its truth.
    static func drain(_ d: inout SwitchDriver) {
        for call in d.model.calls.keys.sorted() {
            d.step { (m, now) throws(SwitchError) in try m.clearCall(callID: call, now: now) }
        }
    }

    @Test(arguments: [UInt64(1), 2, 3, 4])
    func everyInteractionMatchesTheTruth(seed: UInt64) {
        var d = SwitchDriver(agents: 5)
        var random = SeededGenerator(seed: seed)
        for _ in 0..<3000 { Self.randomStep(&d, &random) }
        Self.drain(&d)
        #expect(d.truth.count > 300)
        let comparison = TruthComparison(truth: d.truth, records: d.records)
        #expect(comparison.missing.isEmpty && comparison.extra.isEmpty, "\(comparison)")
        // Segments follow ECMA-269 per call and device; the simulator's truth keeps one segment per device, so the
        // first agent talking can differ in a tangle of consultations (about one interaction in 500).
        #expect(comparison.mismatches.count <= d.truth.count / 200, "\(comparison)")
        #expect(d.engine.openCallCount == 0 && d.engine.openInteractionCount == 0)
    }

    @Test(arguments: [UInt64(7), 8])
    func linkOutagesAreReconciledFromSnapshots(seed: UInt64) {
        var d = SwitchDriver(agents: 5)
        var random = SeededGenerator(seed: seed)
        var outages = 0
        for round in 0..<60 {
            for _ in 0..<50 { Self.randomStep(&d, &random) }
            if round % 6 == 5 {
                outages += 1
                d.outage { inner in
                    for _ in 0..<3 { Self.randomStep(&inner, &random) }
                }
            }
        }
        Self.drain(&d)
        let comparison = TruthComparison(truth: d.truth, records: d.records)
        // Calls that began and ended inside an outage are never seen, and a consultation made inside one is a call of
        // its own; but no call is recorded twice.
        let callIDs = d.records.flatMap(\.callIDs)
        #expect(Set(callIDs).count == callIDs.count, "a call id in two records")
        #expect(comparison.extra.count <= 2 * outages, "\(comparison)")
        let total = d.truth.count
        #expect(Double(comparison.matched) >= 0.9 * Double(total), "\(comparison)")
        #expect(d.records.contains { $0.resynced })
        #expect(d.engine.openCallCount == 0 && d.engine.openInteractionCount == 0)
        let ids = d.records.map(\.interactionID)
        #expect(Set(ids).count == ids.count, "no interaction recorded twice")
    }

    @Test func checkpointRestoresOpenInteractions() throws {
        var d = SwitchDriver(agents: 3)
        var random = SeededGenerator(seed: 42)
        for _ in 0..<400 { Self.randomStep(&d, &random) }
        let open = d.engine.openInteractionCount
        try #require(open > 0)
        var saved: [String: String] = [:]
        let delta = d.engine.takeCheckpoint(at: d.now, interval: 0)
        saved.merge(delta.upserts) { $1 }
        // A restarted bridge: a fresh engine restored from the checkpoint, then reconciled by a link-up.
        var restarted = CallModelEngine(configuration: d.engine.configuration)
        #expect(restarted.restore(saved).isEmpty)
        #expect(restarted.openInteractionCount == open)
        d.engine = restarted
        d.outage { _ in }
        for _ in 0..<400 { Self.randomStep(&d, &random) }
        Self.drain(&d)
        let comparison = TruthComparison(truth: d.truth, records: d.records)
        #expect(comparison.extra.isEmpty && comparison.missing.isEmpty, "\(comparison)")
        #expect(Double(comparison.matched) >= 0.95 * Double(d.truth.count), "\(comparison)")
    }
}
