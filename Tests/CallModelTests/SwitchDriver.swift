import CSTA
import CallModel
import Foundation
import Simulator

/// Drives the simulator's pure switch model and feeds its events to a call model the way the link would: one copy
/// per monitored observer, as key-set records. Collects the switch's truth and the model's records.
struct SwitchDriver {
    var model: SwitchModel
    var engine: CallModelEngine
    var now: Date
    var monitored: Set<String>
    var truth: [CallTruthRecord] = []
    var records: [CallRecord] = []
    var events: [CallEvent] = []
    var pendingRoutes: [RouteRequestNotice] = []
    /// While set, events are not delivered (a link outage).
    var linkDown = false

    init(agents: Int = 6, monitorAll: Bool = true) {
        let numbering = SwitchNumbering(agentCount: agents)
        now = Date(timeIntervalSince1970: 1_800_000_000)
        model = SwitchModel(numbering: numbering, afterCallWork: false, agentsReady: false, now: now)
        monitored = Set(numbering.agentExtensions + [numbering.acdGroup, numbering.routePoint])
        engine = CallModelEngine(
            configuration: .init(
                dialPlan: DialPlan(), monitoredDevices: monitorAll ? monitored : [],
                queueDevices: [numbering.acdGroup, numbering.routePoint]))
        for ext in numbering.agentExtensions {
            step { (m, now) throws(SwitchError) in
                try m.setAgentState(device: ext, requested: "loggedOn", now: now)
                try m.setAgentState(device: ext, requested: "ready", now: now)
            }
        }
    }

    var numbering: SwitchNumbering { model.numbering }

    /// Runs one switch operation one second after the previous one and delivers what it raised.
    @discardableResult
    mutating func step<T>(_ operation: (inout SwitchModel, Date) throws(SwitchError) -> T) -> T? {
        now += 1
        let result: T?
        do {
            result = try operation(&model, now)
        } catch {
            result = nil
        }
        deliver(model.takeEffects())
        return result
    }

    mutating func deliver(_ effects: SwitchModel.Effects) {
        truth += effects.finishedCalls
        pendingRoutes += effects.routeRequests
        guard !linkDown else { return }
        for event in effects.events {
            for observer in event.observers.keys.sorted() where monitored.contains(observer) {
                let record = event.record(monitorCrossRefID: "x" + observer, observer: observer, invokeId: 9999)
                guard let input = CSTAEventInput(record: record, monitoredDevice: observer) else { continue }
                take(engine.apply(input, at: now))
            }
        }
    }

    mutating func take(_ out: [CallEvent]) {
        events += out
        records += out.compactMap(\.record)
    }

    /// A link outage: events stop; at the end each monitored device is snapshot and the link comes back.
    mutating func outage(_ body: (inout SwitchDriver) -> Void) {
        take(engine.linkDown(at: now, reason: "test"))
        linkDown = true
        body(&self)
        linkDown = false
        now += 1
        for device in monitored.sorted() {
            let calls = (try? model.snapshotDevice(device)) ?? []
            engine.snapshot(device: device, callIDs: calls.map(\.callID), states: calls.map { $0.state.rawValue }, at: now)
        }
        take(engine.linkUp(at: now, reason: "test"))
    }

    func agentAt(_ ext: String) -> String { numbering.agentID(forExtension: ext) }
}

/// Compares records with the truth the way the acceptance check does: the same interaction is the one with the
/// same set of call ids; then calling, called, answering agent and outcome must agree.
struct TruthComparison: CustomStringConvertible {
    var matched = 0
    var missing: [CallTruthRecord] = []
    var extra: [CallRecord] = []
    var mismatches: [String] = []

    init(truth: [CallTruthRecord], records: [CallRecord]) {
        var byIDs: [Set<String>: [CallRecord]] = [:]
        for record in records { byIDs[Set(record.callIDs), default: []].append(record) }
        for t in truth {
            guard var candidates = byIDs[Set(t.callIDs)], !candidates.isEmpty else {
                missing.append(t)
                continue
            }
            let r = candidates.removeFirst()
            byIDs[Set(t.callIDs)] = candidates
            let answeringAgent = t.segments.first { $0.state == "talking" && $0.agentID != nil }?.agentID
            var problems: [String] = []
            if r.calling != t.calling { problems.append("calling \(r.calling) ≠ \(t.calling)") }
            if r.called != t.called { problems.append("called \(r.called) ≠ \(t.called)") }
            if r.outcome != t.outcome { problems.append("outcome \(r.outcome) ≠ \(t.outcome)") }
            if r.direction != t.direction { problems.append("direction \(r.direction) ≠ \(t.direction)") }
            if r.queue != t.queue { problems.append("queue \(r.queue ?? "nil") ≠ \(t.queue ?? "nil")") }
            if r.answeredBy != answeringAgent {
                problems.append("answeredBy \(r.answeredBy ?? "nil") ≠ \(answeringAgent ?? "nil")")
            }
            if problems.isEmpty {
                matched += 1
            } else {
                mismatches.append("\(t.callIDs): " + problems.joined(separator: ", "))
            }
        }
        extra = byIDs.values.flatMap { $0 }
    }

    var description: String {
        "matched \(matched), mismatched \(mismatches.count), missing \(missing.count), extra \(extra.count)"
            + (mismatches.prefix(5).map { "\n  " + $0 }.joined())
            + (missing.prefix(3).map { "\n  missing \($0.callIDs) \($0.outcome)" }.joined())
            + (extra.prefix(3).map { "\n  extra \($0.callIDs) \($0.outcome)" }.joined())
    }
}
