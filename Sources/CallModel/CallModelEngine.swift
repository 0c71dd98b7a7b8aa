import Foundation

/// The call model: a state machine fed by CSTA event reports (ECMA-269 semantics), producing normalized
/// ``CallEvent``s and, when an interaction ends, its ``CallRecord``.
///
/// Calls are keyed by call id; each has one connection per device with its ECMA-269 connection state. Calls belong to
/// an *interaction* that survives consultation, transfer and conference: the consultation leg joins the held call's
/// interaction, and a transfer or conference merges the legs (the switch may give the result a new call id; every id
/// is kept in ``CallRecord/callIDs``).
///
/// The same event usually arrives once per monitored party (each monitor reports it), so every step is idempotent:
/// a state already reached is not entered again, a call already cleared is not cleared twice, and only events that
/// begin or show a call in progress create one.
///
/// A call is over when the switch clears it, or when no party the bridge observes is left in it (the switch does not
/// report a call's end to monitors that are no longer in it). After a link failure, ``linkDown(at:reason:)``,
/// ``snapshot(device:callIDs:states:at:)`` and ``linkUp(at:reason:)`` reconcile the model with the switch: calls that
/// vanished are closed and marked `resynced`, calls that appeared are opened.
public struct CallModelEngine: Sendable {
    public struct Configuration: Sendable, Hashable {
        /// Which numbers are extensions of the switch (the rest are callers beyond a trunk).
        public var dialPlan: DialPlan
        /// Devices the bridge monitors; a call with none of them left in it is over for the bridge.
        public var monitoredDevices: Set<String>
        /// ACD groups and route points (their snapshot calls are queued, not answered).
        public var queueDevices: Set<String>

        public init(dialPlan: DialPlan = DialPlan(), monitoredDevices: Set<String> = [], queueDevices: Set<String> = []) {
            self.dialPlan = dialPlan
            self.monitoredDevices = Set(monitoredDevices.map(DialPlan.normalize))
            self.queueDevices = Set(queueDevices.map(DialPlan.normalize))
        }
    }

    public internal(set) var configuration: Configuration
    var calls: [String: CallLeg] = [:]
    var interactions: [String: Interaction] = [:]
    public internal(set) var agents: [String: AgentStatus] = [:]
    var resync = ResyncState()
    var checkpoint = CheckpointState()
    /// Orders holds, so a consultation joins the call its device held last.
    var holdCounter: UInt64 = 0

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Interactions in progress.
    public var openInteractionCount: Int { interactions.count }
    /// Calls (call ids) in progress.
    public var openCallCount: Int { calls.count }

    /// Adds devices the bridge monitors (from configuration, or learnt as their monitors report).
    public mutating func addMonitoredDevices(_ devices: some Sequence<String>) {
        for device in devices { configuration.monitoredDevices.insert(DialPlan.normalize(device)) }
    }

    /// Whether the bridge sees `device` (a monitored device; without any monitor, every extension).
    func isObserved(_ device: String) -> Bool {
        configuration.monitoredDevices.isEmpty
            ? configuration.dialPlan.isInternal(device) : configuration.monitoredDevices.contains(device)
    }

    func isInternal(_ device: String) -> Bool {
        configuration.monitoredDevices.contains(device) || configuration.dialPlan.isInternal(device)
    }

    // MARK: Applying events

    /// Applies one CSTA event report received at `at`; returns the normalized events it gave (often none for a
    /// repeat from another monitor).
    public mutating func apply(_ input: CSTAEventInput, at: Date) -> [CallEvent] {
        var e = EventContext(input: input, at: at)
        if let monitored = input.monitoredDevice { configuration.monitoredDevices.insert(DialPlan.normalize(monitored)) }
        switch input.event {
        case "serviceInitiated": originate(&e, state: .initiated, kind: .originated)
        case "originated": originate(&e, state: .connected, kind: .originated)
        case "delivered": offer(&e, state: .alerting, kind: .ringing)
        case "queued": offer(&e, state: .queued, kind: .queued)
        case "networkReached": networkReached(&e)
        case "established": established(&e)
        case "held": changeState(&e, to: .hold, kind: .held)
        case "retrieved": changeState(&e, to: .connected, kind: .retrieved)
        case "failed": failed(&e)
        case "diverted": diverted(&e)
        case "transferred": transferred(&e)
        case "conferenced": conferenced(&e)
        case "connectionCleared": connectionCleared(&e)
        case "callCleared": callCleared(&e)
        case "agentLoggedOn": agentEvent(&e, state: "loggedOn")
        case "agentLoggedOff": agentEvent(&e, state: "loggedOff")
        case "agentReady": agentEvent(&e, state: "ready")
        case "agentNotReady": agentEvent(&e, state: "notReady")
        case "agentBusy": agentEvent(&e, state: "busy")
        case "agentWorkingAfterCall": agentEvent(&e, state: "workingAfterCall")
        default: fillParties(&e)
        }
        if resync.reconnecting, let call = e.callID, calls[call] != nil {
            resync.touched.insert(call)
            if let device = e.device { resync.touchedParties.insert(Interaction.segmentKey(call, device)) }
        }
        return e.out
    }

    /// The working set of one `apply`: the input with device ids normalized, and the events produced.
    struct EventContext {
        let input: CSTAEventInput
        let at: Date
        let callID: String?
        let device: String?
        let otherDevice: String?
        let calling: String?
        let called: String?
        var out: [CallEvent] = []

        init(input: CSTAEventInput, at: Date) {
            self.input = input
            self.at = at
            self.callID = input.callID.flatMap { $0.isEmpty ? nil : $0 }
            self.device = (input.device ?? input.connDevice).map(DialPlan.normalize)
            self.otherDevice = input.otherDevice.map(DialPlan.normalize)
            self.calling = input.calling.map(DialPlan.normalize).flatMap(Self.known)
            self.called = input.called.map(DialPlan.normalize).flatMap(Self.known)
        }

        /// `<notKnown>`, `<restricted>`, … carry no number.
        static func known(_ device: String) -> String? { device.hasPrefix("<") || device.isEmpty ? nil : device }
    }

    /// The call `id`, opened (with a new interaction) when unknown and `create` is set.
    mutating func leg(_ id: String, create: Bool, at: Date, resynced: Bool = false) -> CallLeg? {
        if let leg = calls[id] { return leg }
        guard create else { return nil }
        let interactionID = Self.interactionID(call: id, at: at)
        var interaction = Interaction(id: interactionID, firstCall: id, startedAt: at)
        interaction.resynced = resynced
        interactions[interactionID] = interaction
        let leg = CallLeg(id: id, interactionID: interactionID)
        calls[id] = leg
        checkpoint.dirty.insert(interactionID)
        return leg
    }

    /// Unique and deterministic for the same input: the first call id and when it was first seen.
    static func interactionID(call: String, at: Date) -> String {
        let ms = Int64((at.timeIntervalSince1970 * 1000).rounded())
        return "ix-\(String(ms, radix: 36))-\(call)"
    }

    /// Sets `device`'s state in call `id` (adding the connection), keeping segments.
    mutating func setConnection(
        _ id: String, _ device: String, _ state: ConnectionState, at: Date, holdCause: String? = nil,
        pending: Bool = false
    ) {
        guard var leg = calls[id] else { return }
        if state == .hold { holdCounter += 1 }
        if let index = leg.index(of: device) {
            if state == .hold && leg.connections[index].state != .hold {
                leg.connections[index].heldOrder = holdCounter
            }
            leg.connections[index].state = state
            leg.connections[index].holdCause = state == .hold ? holdCause : nil
            leg.connections[index].pending = pending ? true : nil
        } else {
            leg.connections.append(
                Connection(device: device, state: state, holdCause: holdCause, pending: pending ? true : nil))
        }
        calls[id] = leg
        interactions[leg.interactionID]?.enter(
            call: id, device: device, agentID: agents[device]?.agentID, state: state, at: at)
        checkpoint.dirty.insert(leg.interactionID)
    }

    mutating func removeConnection(_ id: String, _ device: String, at: Date) {
        guard var leg = calls[id], let index = leg.index(of: device) else { return }
        leg.connections.remove(at: index)
        calls[id] = leg
        interactions[leg.interactionID]?.leave(call: id, device: device, at: at)
        checkpoint.dirty.insert(leg.interactionID)
    }

    /// Takes the first call's calling and called numbers when the interaction does not know them yet.
    mutating func fillParties(_ e: inout EventContext) {
        guard let id = e.callID, let leg = calls[id], var interaction = interactions[leg.interactionID],
            interaction.callIDs.first == id
        else { return }
        var changed = false
        if interaction.calling == nil, let calling = e.calling {
            interaction.calling = calling
            changed = true
        }
        if interaction.called == nil, let called = e.called {
            interaction.called = called
            changed = true
        }
        guard changed else { return }
        interactions[leg.interactionID] = interaction
        checkpoint.dirty.insert(leg.interactionID)
    }

    /// The normalized event for call `id`, with the interaction's ids and parties.
    func callEvent(_ kind: CallEventKind, _ e: EventContext, call id: String, device: String?) -> CallEvent {
        let interaction = calls[id].flatMap { interactions[$0.interactionID] }
        return CallEvent(
            kind: kind, at: e.at, interactionID: interaction?.id, callID: id, callIDs: interaction?.callIDs,
            device: device, agentID: device.flatMap { agents[$0]?.agentID }, calling: interaction?.calling ?? e.calling,
            called: interaction?.called ?? e.called, otherDevice: e.otherDevice, queue: interaction?.queue,
            cause: e.input.cause, resynced: interaction?.resynced == true ? true : nil)
    }

    // MARK: Call set-up

    mutating func originate(_ e: inout EventContext, state: ConnectionState, kind: CallEventKind) {
        guard let id = e.callID, let device = e.device ?? e.calling else { return }
        let isNew = calls[id] == nil
        if isNew, let held = consultedCall(by: device, cause: e.input.cause) {
            joinInteraction(newCall: id, interactionOf: held, at: e.at)
        }
        guard let leg = leg(id, create: true, at: e.at) else { return }
        fillParties(&e)
        let previous = leg.state(of: device)
        setConnection(id, device, state, at: e.at)
        if previous != state { e.out.append(callEvent(kind, e, call: id, device: device)) }
    }

    /// The call `device` holds for a consultation, when the new call it makes is one.
    func consultedCall(by device: String, cause: String?) -> String? {
        // The call the device put on hold last.
        func lastHeld(_ legs: [CallLeg]) -> String? {
            legs.max { a, b in
                (a.connections.first { $0.device == device }?.heldOrder ?? 0)
                    < (b.connections.first { $0.device == device }?.heldOrder ?? 0)
            }?.id
        }
        let held = calls.values.filter { leg in
            leg.connections.contains { $0.device == device && $0.state == .hold }
        }
        guard !held.isEmpty else { return nil }
        let forConsultation = held.filter { leg in
            leg.connections.contains { $0.device == device && $0.holdCause == "consultation" }
        }
        if cause == "consultation" { return lastHeld(forConsultation.isEmpty ? held : forConsultation) }
        // A switch that gives no cause: a call made while one is held for consultation is the consultation.
        return cause == nil && forConsultation.count == 1 ? forConsultation[0].id : nil
    }

    /// Opens call `newCall` in the interaction of call `other`.
    mutating func joinInteraction(newCall: String, interactionOf other: String, at: Date) {
        guard let interactionID = calls[other]?.interactionID, interactions[interactionID] != nil else { return }
        calls[newCall] = CallLeg(id: newCall, interactionID: interactionID)
        interactions[interactionID]!.callIDs.append(newCall)
        interactions[interactionID]!.liveCalls.insert(newCall)
        checkpoint.dirty.insert(interactionID)
    }

    /// delivered / queued: the call is offered to `device` (alerting) or waits at it (queued).
    mutating func offer(_ e: inout EventContext, state: ConnectionState, kind: CallEventKind) {
        guard let id = e.callID, let device = e.device else { return }
        guard leg(id, create: true, at: e.at) != nil else { return }
        fillParties(&e)
        addCallingParty(&e, call: id)
        let previous = calls[id]?.state(of: device)
        let wasPending = calls[id].flatMap { leg in leg.index(of: device).map { leg.connections[$0].pending == true } }
        setConnection(id, device, state, at: e.at)
        if state == .queued, let interactionID = calls[id]?.interactionID, interactions[interactionID]?.queue == nil {
            interactions[interactionID]?.queue = device
        }
        if previous != state || wasPending == true { e.out.append(callEvent(kind, e, call: id, device: device)) }
    }

    /// An external caller that the switch names as calling party is in the call from its start.
    mutating func addCallingParty(_ e: inout EventContext, call id: String) {
        guard let calling = e.calling, !isInternal(calling), let leg = calls[id], leg.state(of: calling) == nil,
            let interaction = interactions[leg.interactionID], interaction.callIDs.first == id
        else { return }
        setConnection(id, calling, .connected, at: interaction.startedAt)
    }

    mutating func networkReached(_ e: inout EventContext) {
        guard let id = e.callID else { return }
        guard leg(id, create: true, at: e.at) != nil else { return }
        fillParties(&e)
        // The far end: the called number when the switch names it, else the network interface used.
        guard let far = e.called.flatMap({ isInternal($0) ? nil : $0 }) ?? e.device else { return }
        let previous = calls[id]?.state(of: far)
        if previous == nil { setConnection(id, far, .alerting, at: e.at) }
        if previous == nil { e.out.append(callEvent(.networkReached, e, call: id, device: far)) }
    }

    mutating func established(_ e: inout EventContext) {
        guard let id = e.callID, let device = e.device else { return }
        let known = calls[id] != nil
        guard leg(id, create: true, at: e.at, resynced: !known) != nil else { return }
        fillParties(&e)
        addCallingParty(&e, call: id)
        let previous = calls[id]?.state(of: device)
        if previous == .connected { return }
        // The far end of a network call may answer under another id than the one networkReached named.
        if !isInternal(device), let leg = calls[id],
            let far = leg.connections.first(where: { !isInternal($0.device) && $0.state == .alerting })
        {
            removeConnection(id, far.device, at: e.at)
        }
        setConnection(id, device, .connected, at: e.at)
        if let interactionID = calls[id]?.interactionID, interactions[interactionID]?.answeredAt == nil {
            interactions[interactionID]?.answeredAt = e.at
            interactions[interactionID]?.answeredDevice = device
            // For a call answered beyond a trunk, the agent who took it is the one who made it.
            let maker = interactions[interactionID]?.calling.flatMap { agents[$0]?.agentID }
            let taker = agents[device]?.agentID ?? (isInternal(device) ? nil : maker)
            interactions[interactionID]?.answeredBy = taker
        }
        e.out.append(callEvent(.answered, e, call: id, device: device))
    }

    mutating func changeState(_ e: inout EventContext, to state: ConnectionState, kind: CallEventKind) {
        guard let id = e.callID, let device = e.device else { return }
        let known = calls[id] != nil
        guard leg(id, create: true, at: e.at, resynced: !known) != nil else { return }
        fillParties(&e)
        if calls[id]?.state(of: device) == state { return }
        setConnection(id, device, state, at: e.at, holdCause: e.input.cause)
        e.out.append(callEvent(kind, e, call: id, device: device))
    }

    mutating func failed(_ e: inout EventContext) {
        guard let id = e.callID, let device = e.device, calls[id] != nil else { return }
        fillParties(&e)
        if calls[id]?.state(of: device) == .fail { return }
        setConnection(id, device, .fail, at: e.at)
        if let interactionID = calls[id]?.interactionID, interactions[interactionID]?.failureCause == nil {
            interactions[interactionID]?.failureCause = e.input.cause ?? "failed"
        }
        e.out.append(callEvent(.failed, e, call: id, device: device))
    }

    /// The call left `device` for `otherDevice` without being answered there.
    mutating func diverted(_ e: inout EventContext) {
        guard let id = e.callID, let device = e.device, let leg = calls[id] else { return }
        fillParties(&e)
        let wasThere = leg.state(of: device) != nil
        removeConnection(id, device, at: e.at)
        if let next = e.otherDevice, isObserved(next), calls[id]?.state(of: next) == nil {
            setConnection(id, next, .alerting, at: e.at, pending: true)
        }
        if wasThere { e.out.append(callEvent(.diverted, e, call: id, device: device)) }
        endIfUnobserved(id, &e)
    }

    mutating func connectionCleared(_ e: inout EventContext) {
        guard let id = e.callID, let device = e.device, let leg = calls[id] else { return }
        let interactionID = leg.interactionID
        // A caller beyond the trunk hanging up while the call waits in a queue abandons it. (After a reconnect the
        // caller's connection may not be known; the queue's is.)
        if !isInternal(device), leg.connections.contains(where: { $0.state == .queued }),
            interactions[interactionID]?.answeredAt == nil
        {
            interactions[interactionID]?.abandoned = true
        }
        guard leg.state(of: device) != nil else { return }
        let event = callEvent(.partyCleared, e, call: id, device: device)
        removeConnection(id, device, at: e.at)
        e.out.append(event)
        endIfUnobserved(id, &e)
    }

    mutating func callCleared(_ e: inout EventContext) {
        guard let id = e.callID, calls[id] != nil else { return }
        endCall(id, at: e.at, cause: e.input.cause, out: &e.out)
    }

    /// Ends call `id` when none of the parties left in it is one the bridge observes.
    ///
    /// While the link is coming back, the model's parties may be stale (the call may have moved on while events were
    /// lost), so the decision waits for the snapshots at link-up.
    mutating func endIfUnobserved(_ id: String, _ e: inout EventContext) {
        guard !resync.reconnecting else { return }
        guard let leg = calls[id], !leg.connections.contains(where: { isObserved($0.device) }) else { return }
        endCall(id, at: e.at, cause: e.input.cause, out: &e.out)
    }

    /// Ends call `id`; its interaction ends with its last call, giving the call record.
    mutating func endCall(_ id: String, at: Date, cause: String?, out: inout [CallEvent]) {
        guard let leg = calls.removeValue(forKey: id) else { return }
        resync.touched.remove(id)
        if resync.reconnecting { resync.ended.insert(id) }
        guard var interaction = interactions[leg.interactionID] else { return }
        for connection in leg.connections { interaction.leave(call: id, device: connection.device, at: at) }
        interaction.liveCalls.remove(id)
        guard interaction.liveCalls.isEmpty else {
            interactions[leg.interactionID] = interaction
            checkpoint.dirty.insert(leg.interactionID)
            return
        }
        interactions[leg.interactionID] = nil
        checkpoint.dirty.remove(leg.interactionID)
        checkpoint.ended.insert(leg.interactionID)
        let record = interaction.record(endedAt: at, direction: direction(of: interaction))
        out.append(
            CallEvent(
                kind: .callEnded, at: at, interactionID: interaction.id, callID: id, callIDs: interaction.callIDs,
                device: record.answeredDevice, agentID: record.answeredBy, calling: record.calling,
                called: record.called, queue: record.queue, cause: cause, record: record,
                resynced: interaction.resynced ? true : nil))
    }

    func direction(of interaction: Interaction) -> String {
        if let calling = interaction.calling, !isInternal(calling) { return "inbound" }
        if let called = interaction.called, !isInternal(called) { return "outbound" }
        if interaction.calling == nil, interaction.queue != nil { return "inbound" }
        return "internal"
    }

    // MARK: Agents

    mutating func agentEvent(_ e: inout EventContext, state: String) {
        guard let device = e.device ?? e.input.connDevice.map(DialPlan.normalize) else { return }
        let agentID = e.input.agentID ?? agents[device]?.agentID
        let reason = state == "notReady" ? e.input.cause : nil
        if let current = agents[device], current.state == state, current.agentID == agentID, current.reason == reason {
            return
        }
        if let agentID, agents[device]?.agentID == nil { fillAgentID(agentID, at: device) }
        agents[device] = AgentStatus(agentID: agentID, device: device, state: state, reason: reason, since: e.at)
        e.out.append(
            CallEvent(
                kind: .agentState, at: e.at, device: device, agentID: agentID, agentState: state, reason: reason))
    }

    /// The agent at `device` became known (a switch that names agents only in agent events, or after a restart): the
    /// calls in progress there get it on their segments and as the answering agent.
    mutating func fillAgentID(_ agentID: String, at device: String) {
        for id in interactions.keys {
            var interaction = interactions[id]!
            var changed = false
            for (key, segment) in interaction.openSegments where segment.device == device && segment.agentID == nil {
                interaction.openSegments[key]?.agentID = agentID
                changed = true
            }
            for index in interaction.closedSegments.indices
            where interaction.closedSegments[index].device == device && interaction.closedSegments[index].agentID == nil {
                interaction.closedSegments[index].agentID = agentID
                changed = true
            }
            if interaction.answeredDevice == device, interaction.answeredBy == nil {
                interaction.answeredBy = agentID
                changed = true
            }
            if changed {
                interactions[id] = interaction
                checkpoint.dirty.insert(id)
            }
        }
    }

    /// Records an agent's state the bridge learnt otherwise (GetAgentState after link-up).
    public mutating func setAgent(device: String, agentID: String?, state: String, at: Date) -> [CallEvent] {
        var e = EventContext(input: CSTAEventInput(event: "agentState", device: device, agentID: agentID), at: at)
        agentEvent(&e, state: state)
        return e.out
    }
}
