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
        // As the daemon does: SnapshotCall for the calls no device snapshot can show.
        for id in engine.callsToVerify() {
            guard let parties = try? model.snapshotCall(id) else { continue }
            take(engine.callSnapshot(callID: id, devices: parties.map(\.device), states: parties.map { $0.state.rawValue }, at: now))
        }
    }

    func agentAt(_ ext: String) -> String { numbering.agentID(forExtension: ext) }

    struct DriverError: Error {}

    /// `caller` dials the hotline and the agent it rings answers (not yet a consultation); with `consult`, that agent
    /// then consults the other of the first two agents, who answers.
    mutating func inboundCall(from caller: String, consult: Bool = false) throws -> (
        call: String, first: String, colleague: String, consultation: String?
    ) {
        guard let call = step({ (m, now) throws(SwitchError) in
            try m.placeInboundCall(from: caller, to: m.numbering.hotline, now: now)
        }), let first = events.last(where: { $0.kind == .ringing })?.device else { throw DriverError() }
        let colleague = first == "4001" ? "4002" : "4001"
        step { (m, now) throws(SwitchError) in try m.answerCall(callID: call, device: first, now: now) }
        guard consult else { return (call, first, colleague, nil) }
        guard let consultation = step({ (m, now) throws(SwitchError) in
            try m.consultationCall(callID: call, device: first, consulted: colleague, now: now)
        }) else { throw DriverError() }
        step { (m, now) throws(SwitchError) in try m.answerCall(callID: consultation, device: colleague, now: now) }
        return (call, first, colleague, consultation)
    }
}

/// The model's records compared with the switch's truth (strict: direction and queue too).
struct TruthComparison: CustomStringConvertible {
    let base: CallRecordComparison

    init(truth: [CallTruthRecord], records: [CallRecord]) {
        base = CallRecordComparison(expected: truth, actual: records, strict: true)
    }

    var matched: Int { base.matched }
    var mismatches: [String] { base.mismatches }
    var missing: [CallRecord] { base.missing }
    var extra: [CallRecord] { base.extra }
    var description: String { base.description }
}
