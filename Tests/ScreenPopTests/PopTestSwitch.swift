import CallModel
import Foundation

/// A small switch for the pop router tests: it reports each step as ECMA-269 says a switch reports it (the event
/// sequences of the simulator's `SwitchModel`: queued at the ACD group, diverted to the agent, delivered,
/// established, held/retrieved, serviceInitiated + originated + delivered for a consultation, transferred and
/// conferenced with the secondary call, connectionCleared and callCleared), one copy per monitored party, to the real
/// ``CallModelEngine``; the router is fed with what the engine normalizes.
///
/// (The test target cannot use the `Simulator` module itself: it is not one of its dependencies.)
struct PopTestSwitch {
    struct Connection {
        var device: String
        var state: String
    }

    struct Call {
        var calling: String
        var called: String
        var connections: [Connection]

        func state(of device: String) -> String? { connections.first { $0.device == device }?.state }
        var devices: [String] { connections.map(\.device) }
    }

    let acd = "8001"
    let hotline = "96510"
    var engine: CallModelEngine
    var now = Date(timeIntervalSince1970: 1_800_000_000)
    var calls: [String: Call] = [:]
    /// Every event the engine gave, in order; ``drain()`` hands out the new ones.
    var events: [CallEvent] = []
    var delivered = 0
    var monitored: Set<String>
    var nextCall = 1
    /// While set, the switch's reports are lost (a CTI link outage).
    var linkIsDown = false

    /// `agents` phones `4001`… with ACD agents `A4001`… logged on and ready.
    init(agents: Int) {
        let extensions = (1...agents).map { String(4000 + $0) }
        monitored = Set(extensions + [acd])
        engine = CallModelEngine(
            configuration: .init(dialPlan: DialPlan(), monitoredDevices: monitored, queueDevices: [acd]))
        for ext in extensions {
            agentEvent("agentLoggedOn", device: ext)
            agentEvent("agentReady", device: ext)
        }
    }

    static func agentID(_ ext: String) -> String { "A" + ext }

    /// The engine's events since the last call.
    mutating func drain() -> [CallEvent] {
        defer { delivered = events.count }
        return Array(events[delivered...])
    }

    // MARK: Reporting

    /// Reports `name` about `subject` in `call` to the monitor of each observer (the call's parties unless given).
    mutating func report(
        _ name: String, call id: String, subject: String, observers: [String]? = nil, otherDevice: String? = nil,
        cause: String? = nil, lastRedirection: String? = nil, secondaryCallID: String? = nil,
        newCallIDs: [String] = []
    ) {
        guard !linkIsDown else { return }
        let call = calls[id]
        for observer in Set(observers ?? call?.devices ?? []).sorted() where monitored.contains(observer) {
            let input = CSTAEventInput(
                event: name, monitoredDevice: observer, callID: id, connDevice: subject, device: subject,
                otherDevice: otherDevice, calling: call?.calling, called: call?.called,
                lastRedirection: lastRedirection, cause: cause, secondaryCallID: secondaryCallID,
                newCallIDs: newCallIDs)
            events += engine.apply(input, at: now)
        }
    }

    mutating func agentEvent(_ name: String, device: String, cause: String? = nil) {
        guard !linkIsDown else { return }
        let input = CSTAEventInput(
            event: name, monitoredDevice: device, device: device, cause: cause, agentID: Self.agentID(device))
        events += engine.apply(input, at: now)
    }

    mutating func tick(_ seconds: TimeInterval = 1) { now += seconds }

    mutating func set(_ id: String, _ device: String, _ state: String) {
        if let index = calls[id]?.connections.firstIndex(where: { $0.device == device }) {
            calls[id]?.connections[index].state = state
        } else {
            calls[id]?.connections.append(Connection(device: device, state: state))
        }
    }

    mutating func remove(_ id: String, _ device: String) { calls[id]?.connections.removeAll { $0.device == device } }

    mutating func newCall(calling: String, called: String) -> String {
        let id = String(format: "%04x", nextCall)
        nextCall += 1
        calls[id] = Call(calling: calling, called: called, connections: [])
        return id
    }

    // MARK: Calls

    /// A caller beyond the trunk dials the hotline: the call queues at the ACD group, then (when `agent` is given,
    /// after `wait` seconds) is distributed to the agent's phone, which rings.
    @discardableResult
    mutating func inbound(from caller: String, to agent: String?, wait: TimeInterval = 0) -> String {
        tick()
        let id = newCall(calling: caller, called: hotline)
        set(id, caller, "connected")
        set(id, acd, "queued")
        report("queued", call: id, subject: acd, cause: "enteringDistribution")
        if let agent {
            tick(wait)
            divert(id, from: acd, to: agent, cause: "distributed")
        }
        return id
    }

    /// The call leaves `from` for `to` (ACD distribution, deflection, no answer), which rings or queues.
    mutating func divert(_ id: String, from: String, to: String, cause: String) {
        let observers = calls[id]?.devices ?? []
        remove(id, from)
        report("diverted", call: id, subject: from, observers: observers, otherDevice: to, cause: cause, lastRedirection: from)
        offer(id, to: to, lastRedirection: from)
    }

    mutating func offer(_ id: String, to device: String, lastRedirection: String?) {
        if device == acd {
            set(id, acd, "queued")
            report("queued", call: id, subject: acd, cause: "enteringDistribution", lastRedirection: lastRedirection)
        } else {
            set(id, device, "alerting")
            report("delivered", call: id, subject: device, cause: "newCall", lastRedirection: lastRedirection)
        }
    }

    mutating func answer(_ id: String, at device: String) {
        tick()
        set(id, device, "connected")
        report("established", call: id, subject: device, cause: "normal")
    }

    mutating func hold(_ id: String, at device: String, cause: String = "normal") {
        tick()
        set(id, device, "hold")
        report("held", call: id, subject: device, cause: cause)
    }

    mutating func retrieve(_ id: String, at device: String) {
        tick()
        set(id, device, "connected")
        report("retrieved", call: id, subject: device, cause: "normal")
    }

    /// ConsultationCall: `device` holds `id` and calls `colleague`, whose phone rings. Returns the consultation call.
    mutating func consult(_ id: String, from device: String, to colleague: String) -> String {
        hold(id, at: device, cause: "consultation")
        let consultation = newCall(calling: device, called: colleague)
        set(consultation, device, "initiated")
        report("serviceInitiated", call: consultation, subject: device, cause: "consultation")
        set(consultation, device, "connected")
        report("originated", call: consultation, subject: device, cause: "consultation")
        offer(consultation, to: colleague, lastRedirection: nil)
        return consultation
    }

    /// MakeCall: `device` calls `number` beyond the trunk, which the network reports reached.
    mutating func makeCall(from device: String, to number: String) -> String {
        tick()
        let id = newCall(calling: device, called: number)
        set(id, device, "initiated")
        report("serviceInitiated", call: id, subject: device, cause: "newCall")
        set(id, device, "connected")
        report("originated", call: id, subject: device, cause: "makeCall")
        set(id, number, "alerting")
        report("networkReached", call: id, subject: number, cause: "networkSignal")
        return id
    }

    /// TransferCall: `device` leaves both calls; the parties meet under the held call's id. Without `namesTarget`
    /// the switch leaves the transferred-to device out of the event (some do).
    mutating func transfer(held: String, active: String, by device: String, namesTarget: Bool = true) {
        tick()
        let target = namesTarget ? calls[active]?.connections.first { $0.device != device }?.device : nil
        let observers = (calls[held]?.devices ?? []) + (calls[active]?.devices ?? [])
        remove(held, device)
        remove(active, device)
        for connection in calls[active]?.connections ?? [] { set(held, connection.device, connection.state) }
        calls[active] = nil
        report(
            "transferred", call: held, subject: device, observers: observers, otherDevice: target, cause: "transfer",
            secondaryCallID: active, newCallIDs: [held])
        if (calls[held]?.connections.count ?? 0) <= 1 { clearCall(held) }
    }

    /// ConferenceCall: the held and the active call's parties meet in the held call.
    mutating func conference(held: String, active: String, by device: String) {
        tick()
        let added = calls[active]?.connections.first { $0.device != device }?.device
        let observers = (calls[held]?.devices ?? []) + (calls[active]?.devices ?? [])
        remove(active, device)
        for connection in calls[active]?.connections ?? [] { set(held, connection.device, connection.state) }
        calls[active] = nil
        set(held, device, "connected")
        report(
            "conferenced", call: held, subject: device, observers: observers, otherDevice: added, cause: "conference",
            secondaryCallID: active, newCallIDs: [held])
    }

    /// SingleStepTransferCall: `device` leaves and the call goes on to `target`, which rings.
    mutating func blindTransfer(_ id: String, by device: String, to target: String) {
        tick()
        let observers = calls[id]?.devices ?? []
        remove(id, device)
        report(
            "transferred", call: id, subject: device, observers: observers, otherDevice: target,
            cause: "singleStepTransfer", newCallIDs: [id])
        offer(id, to: target, lastRedirection: device)
    }

    /// No answer: the ringing agent is made not ready and the call goes back to the ACD group.
    mutating func redirectOnNoAnswer(_ id: String, at device: String) {
        tick()
        agentEvent("agentNotReady", device: device, cause: "callNotAnswered")
        divert(id, from: device, to: acd, cause: "callForwardNoAnswer")
    }

    /// ClearConnection: `device` leaves; a call with one party left ends.
    mutating func clear(_ id: String, at device: String) {
        tick()
        let observers = calls[id]?.devices ?? []
        remove(id, device)
        report("connectionCleared", call: id, subject: device, observers: observers, cause: "normalClearing")
        if (calls[id]?.connections.count ?? 0) <= 1 { clearCall(id) }
    }

    mutating func clearCall(_ id: String) {
        let subject = calls[id]?.connections.first?.device ?? "<notKnown>"
        report("callCleared", call: id, subject: subject, cause: "normalClearing")
        calls[id] = nil
    }

    // MARK: Link

    mutating func linkDown() {
        events += engine.linkDown(at: now, reason: "test")
        linkIsDown = true
    }

    /// Link up again: every monitored device is snapshot with the calls it is in (the states the switch shows).
    mutating func linkUp() {
        linkIsDown = false
        tick()
        for device in monitored.sorted() {
            let mine = calls.filter { $0.value.state(of: device) != nil }.sorted { $0.key < $1.key }
            engine.snapshot(
                device: device, callIDs: mine.map(\.key), states: mine.map { $0.value.state(of: device) }, at: now)
        }
        events += engine.linkUp(at: now, reason: "test")
    }
}
