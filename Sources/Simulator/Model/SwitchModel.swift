import Foundation

/// The simulated switch's state and every operation that changes it: a pure value, no I/O, no clock of its own
/// (each operation is told the time). An operation either changes the state and queues the ECMA-269 events it
/// raises (``takeEffects()``), or throws a ``SwitchError`` and changes nothing.
public struct SwitchModel: Sendable {
    /// One agent: the phone's extension, the agent id, the state and since when it has been idle.
    public struct Agent: Sendable, Hashable {
        public var ext: String
        public var agentID: String
        public var state: AgentState
        public var idleSince: Date
    }

    /// What the operations since the last ``takeEffects()`` produced.
    public struct Effects: Sendable {
        public var events: [SwitchEvent] = []
        public var routeRequests: [RouteRequestNotice] = []
        public var finishedCalls: [CallTruthRecord] = []
    }

    public let numbering: SwitchNumbering
    /// When an ACD call ends, the agent goes to `workingAfterCall` (else straight back to `ready`).
    public var afterCallWork: Bool
    public private(set) var agents: [String: Agent] = [:]
    public private(set) var calls: [String: SwitchCall] = [:]
    /// Call ids waiting in the ACD group, first come first served.
    public private(set) var queue: [String] = []
    /// Routeing cross-reference id → call waiting at the route point.
    public private(set) var pendingRoutes: [String: String] = [:]
    var interactions: [String: InteractionTracker] = [:]
    private var nextCallNumber = 1
    private var nextInteractionNumber = 1
    private var nextRouteNumber = 1
    private var effects = Effects()

    /// A switch whose agents are logged off, or (`agentsReady`) logged on and ready since `now`.
    public init(numbering: SwitchNumbering, afterCallWork: Bool = false, agentsReady: Bool = false, now: Date) {
        self.numbering = numbering
        self.afterCallWork = afterCallWork
        for ext in numbering.agentExtensions {
            agents[ext] = Agent(
                ext: ext, agentID: numbering.agentID(forExtension: ext), state: agentsReady ? .ready : .loggedOff,
                idleSince: now)
        }
    }

    /// Returns and clears what the operations since the last call produced.
    public mutating func takeEffects() -> Effects {
        defer { effects = Effects() }
        return effects
    }

    public func kind(of device: String) -> DeviceKind {
        if agents[device] != nil { return .agentPhone }
        if device == numbering.acdGroup || device == numbering.hotline { return .acdGroup }
        if device == numbering.routePoint { return .routePoint }
        return .external
    }

    /// Whether `device` belongs to this switch (and so can be monitored).
    public func isInternal(_ device: String) -> Bool { kind(of: device) != .external }

    // MARK: Calls started by callers and phones

    /// An external caller on a trunk dials `dialed` (the hotline, the route point or an extension).
    @discardableResult
    public mutating func placeInboundCall(from caller: String, to dialed: String, now: Date) throws(SwitchError) -> String {
        guard kind(of: caller) == .external else { throw .invalidCallingDevice("\(caller) is not an external number") }
        guard kind(of: dialed) != .external else { throw .invalidDeviceID("\(dialed) is not on this switch") }
        let call = newCall(calling: caller, called: dialed, now: now)
        appendConnection(call, caller, .connected, now: now)
        route(call, to: dialed, from: caller, lastRedirection: nil, now: now)
        return call
    }

    /// MakeCall: `calling` (an agent phone) goes off hook and dials `called`. Returns the new call id.
    @discardableResult
    public mutating func makeCall(calling: String, called: String, now: Date) throws(SwitchError) -> String {
        guard kind(of: calling) == .agentPhone else { throw .invalidCallingDevice("\(calling) is not a phone") }
        guard called != calling, !called.isEmpty else { throw .invalidDeviceID("cannot call '\(called)'") }
        let call = newCall(calling: calling, called: called, now: now)
        originate(call, from: calling, to: called, cause: "makeCall", now: now)
        return call
    }

    /// The far end of an outbound call (or an alerting phone) answers.
    public mutating func answerCall(callID: String, device: String, now: Date) throws(SwitchError) {
        let state = try connectionState(callID, device)
        guard state == .alerting else { throw .invalidObjectState("\(device) is \(state.rawValue) in call \(callID)") }
        setState(callID, device, .connected, now: now)
        interactions[calls[callID]!.interactionID]?.answered(at: now)
        if let agent = agents[device], agent.state == .ready { setAgentState(device, .busy, cause: nil, now: now) }
        let call = calls[callID]!
        emit(callEvent("established", call, subject: device, cause: "normal"))
    }

    // MARK: Requests that end or rearrange calls

    /// ClearConnection: `device` leaves the call; a call with one party left ends.
    public mutating func clearConnection(callID: String, device: String, now: Date) throws(SwitchError) {
        _ = try connectionState(callID, device)
        let before = calls[callID]!
        let observers = observersOf(before)
        removeConnection(callID, device, now: now)
        var event = callEvent("connectionCleared", calls[callID]!, subject: device, cause: "normalClearing")
        event.observers = observers.merging(observersOf(calls[callID]!)) { _, new in new }
        event.observers[device] = .some(.null)
        emit(event)
        if before.state(of: numbering.acdGroup) == .queued || before.state(of: numbering.routePoint) == .queued,
            kind(of: device) == .external
        {
            interactions[before.interactionID]?.abandoned = true
        }
        if calls[callID]!.connections.count <= 1 { endCall(callID, cause: "normalClearing", now: now) }
        afterLeaving(device, now: now)
    }

    /// ClearCall: every party leaves.
    public mutating func clearCall(callID: String, now: Date) throws(SwitchError) {
        guard calls[callID] != nil else { throw .invalidCallID("no call \(callID)") }
        endCall(callID, cause: "normalClearing", now: now)
    }

    public mutating func holdCall(callID: String, device: String, now: Date) throws(SwitchError) {
        let state = try connectionState(callID, device)
        guard state == .connected else { throw .invalidObjectState("\(device) is \(state.rawValue), not connected") }
        setState(callID, device, .hold, now: now)
        emit(callEvent("held", calls[callID]!, subject: device, cause: "normal"))
    }

    public mutating func retrieveCall(callID: String, device: String, now: Date) throws(SwitchError) {
        let state = try connectionState(callID, device)
        guard state == .hold else { throw .invalidObjectState("\(device) is \(state.rawValue), not held") }
        setState(callID, device, .connected, now: now)
        emit(callEvent("retrieved", calls[callID]!, subject: device, cause: "normal"))
    }

    /// ConsultationCall: `device` holds `callID` and calls `consulted`. Returns the consultation call's id.
    @discardableResult
    public mutating func consultationCall(
        callID: String, device: String, consulted: String, now: Date
    ) throws(SwitchError) -> String {
        let state = try connectionState(callID, device)
        guard state == .connected else { throw .invalidObjectState("\(device) is \(state.rawValue), not connected") }
        guard kind(of: device) == .agentPhone else { throw .invalidDeviceID("\(device) is not a phone") }
        guard consulted != device, !consulted.isEmpty else { throw .invalidDeviceID("cannot consult '\(consulted)'") }
        setState(callID, device, .hold, now: now)
        emit(callEvent("held", calls[callID]!, subject: device, cause: "consultation"))
        let interaction = calls[callID]!.interactionID
        let consultation = newCall(calling: device, called: consulted, now: now, interaction: interaction)
        originate(consultation, from: device, to: consulted, cause: "consultation", now: now)
        return consultation
    }

    /// TransferCall: `device` leaves both calls; the held call's other parties join the active call's, under the
    /// held call's id (returned).
    @discardableResult
    public mutating func transferCall(
        heldCallID: String, activeCallID: String, device: String, now: Date
    ) throws(SwitchError) -> String {
        try checkHeldAndActive(heldCallID, activeCallID, device)
        let active = calls[activeCallID]!
        let transferredTo = active.connections.first(where: { $0.device != device })?.device ?? "<notKnown>"
        let observers = observersOf(calls[heldCallID]!).merging(observersOf(active)) { a, _ in a }
        mergeInteractions(into: calls[heldCallID]!.interactionID, from: active.interactionID)
        interactions[calls[heldCallID]!.interactionID]?.transferred = true
        removeConnection(heldCallID, device, now: now)
        removeConnection(activeCallID, device, now: now)
        moveConnections(from: activeCallID, to: heldCallID, now: now)
        var event = callEvent("transferred", calls[heldCallID]!, subject: device, cause: "transfer")
        event.connDevice = device
        event.otherDevice = transferredTo
        event.secondaryCallID = activeCallID
        event.newCallIDs = [heldCallID]
        event.observers = observers.merging(observersOf(calls[heldCallID]!)) { _, new in new }
        event.observers[device] = .some(.null)
        emit(event)
        afterLeaving(device, now: now)
        if calls[heldCallID]!.connections.count <= 1 { endCall(heldCallID, cause: "normalClearing", now: now) }
        return heldCallID
    }

    /// ConferenceCall: the held call's and the active call's parties meet in one call (the held call's id).
    @discardableResult
    public mutating func conferenceCall(
        heldCallID: String, activeCallID: String, device: String, now: Date
    ) throws(SwitchError) -> String {
        try checkHeldAndActive(heldCallID, activeCallID, device)
        let active = calls[activeCallID]!
        let added = active.connections.first(where: { $0.device != device })?.device ?? "<notKnown>"
        let observers = observersOf(calls[heldCallID]!).merging(observersOf(active)) { a, _ in a }
        mergeInteractions(into: calls[heldCallID]!.interactionID, from: active.interactionID)
        interactions[calls[heldCallID]!.interactionID]?.conferenced = true
        removeConnection(activeCallID, device, now: now)
        moveConnections(from: activeCallID, to: heldCallID, now: now)
        setState(heldCallID, device, .connected, now: now)
        var event = callEvent("conferenced", calls[heldCallID]!, subject: device, cause: "conference")
        event.otherDevice = added
        event.secondaryCallID = activeCallID
        event.newCallIDs = [heldCallID]
        event.observers = observers.merging(observersOf(calls[heldCallID]!)) { _, new in new }
        emit(event)
        return heldCallID
    }

    /// SingleStepTransferCall: `device` leaves and the call goes on to `to`.
    public mutating func singleStepTransfer(callID: String, device: String, to: String, now: Date) throws(SwitchError) {
        let state = try connectionState(callID, device)
        guard state == .connected || state == .hold else { throw .invalidObjectState("\(device) is \(state.rawValue)") }
        guard to != device, !to.isEmpty else { throw .invalidDeviceID("cannot transfer to '\(to)'") }
        guard calls[callID]!.connections.count == 2 else { throw .invalidObjectState("call \(callID) is not two-party") }
        let observers = observersOf(calls[callID]!)
        interactions[calls[callID]!.interactionID]?.transferred = true
        removeConnection(callID, device, now: now)
        var event = callEvent("transferred", calls[callID]!, subject: device, cause: "singleStepTransfer")
        event.connDevice = device
        event.otherDevice = to
        event.newCallIDs = [callID]
        event.observers = observers.merging(observersOf(calls[callID]!)) { _, new in new }
        event.observers[device] = .some(.null)
        emit(event)
        afterLeaving(device, now: now)
        let remaining = calls[callID]!.connections.first?.device
        route(callID, to: to, from: remaining ?? device, lastRedirection: device, now: now)
    }

    /// DeflectCall: an alerting `device` sends the call on to `to`.
    public mutating func deflectCall(callID: String, device: String, to: String, now: Date) throws(SwitchError) {
        let state = try connectionState(callID, device)
        guard state == .alerting else { throw .invalidObjectState("\(device) is \(state.rawValue), not alerting") }
        guard to != device, !to.isEmpty else { throw .invalidDeviceID("cannot deflect to '\(to)'") }
        divert(callID, from: device, to: to, cause: "redirected", now: now)
    }

    /// No answer: the alerting agent's call goes back to the ACD group and the agent is made not ready.
    public mutating func redirectOnNoAnswer(callID: String, device: String, now: Date) throws(SwitchError) {
        let state = try connectionState(callID, device)
        guard state == .alerting else { throw .invalidObjectState("\(device) is \(state.rawValue), not alerting") }
        if agents[device] != nil { setAgentState(device, .notReady, cause: "callNotAnswered", now: now) }
        divert(callID, from: device, to: numbering.acdGroup, cause: "callForwardNoAnswer", now: now)
    }

    /// RouteSelectRequest: the application sends the call waiting at the route point to `destination`.
    public mutating func routeSelect(routeingCrossRefID: String, destination: String, now: Date) throws(SwitchError) {
        guard let callID = pendingRoutes[routeingCrossRefID] else {
            throw .invalidCrossRefID("no route request \(routeingCrossRefID)")
        }
        guard !destination.isEmpty, destination != numbering.routePoint else {
            throw .invalidDeviceID("cannot route to '\(destination)'")
        }
        pendingRoutes[routeingCrossRefID] = nil
        guard calls[callID]?.state(of: numbering.routePoint) != nil else { return }
        divert(callID, from: numbering.routePoint, to: destination, cause: "redirected", now: now)
    }

    /// RouteEndRequest (or no application to ask): the call waiting at the route point goes to the default
    /// destination, the ACD group.
    public mutating func routeEnd(routeingCrossRefID: String, now: Date) throws(SwitchError) {
        guard pendingRoutes[routeingCrossRefID] != nil else { throw .invalidCrossRefID("no route request \(routeingCrossRefID)") }
        try routeSelect(routeingCrossRefID: routeingCrossRefID, destination: numbering.acdGroup, now: now)
    }

    // MARK: Agents

    /// SetAgentState with ECMA-285 `ReqAgentState` semantics.
    public mutating func setAgentState(device: String, requested: String, now: Date) throws(SwitchError) {
        guard let agent = agents[device] else { throw .invalidDeviceID("\(device) has no agent") }
        switch requested {
        case "loggedOn":
            if agent.state == .loggedOff { setAgentState(device, .notReady, cause: nil, now: now, loggingOn: true) }
        case "loggedOff":
            if agent.state != .loggedOff { setAgentState(device, .loggedOff, cause: nil, now: now) }
        case "ready", "notReady", "workingAfterCall":
            guard agent.state != .loggedOff else { throw .invalidObjectState("agent at \(device) is logged off") }
            let target: AgentState = requested == "ready" ? .ready : requested == "notReady" ? .notReady : .workingAfterCall
            if agent.state != target { setAgentState(device, target, cause: nil, now: now) }
        default:
            throw .valueOutOfRange("unknown agent state '\(requested)'")
        }
        distribute(now: now)
    }

    public func agentState(device: String) throws(SwitchError) -> Agent {
        guard let agent = agents[device] else { throw .invalidDeviceID("\(device) has no agent") }
        return agent
    }

    // MARK: Snapshots

    /// SnapshotDevice: the calls at `device` and its state in each, oldest call first.
    public func snapshotDevice(_ device: String) throws(SwitchError) -> [(callID: String, state: LocalConnectionState)] {
        guard isInternal(device) else { throw .invalidDeviceID("\(device) is not on this switch") }
        let device = kind(of: device) == .acdGroup ? numbering.acdGroup : device
        return calls.values.compactMap { call in call.state(of: device).map { (call.id, $0) } }
            .sorted { ($0.callID.count, $0.callID) < ($1.callID.count, $1.callID) }
    }

    /// SnapshotCall: every party of `callID` and its state.
    public func snapshotCall(_ callID: String) throws(SwitchError) -> [SwitchConnection] {
        guard let call = calls[callID] else { throw .invalidCallID("no call \(callID)") }
        return call.connections
    }

    // MARK: Internals

    private func connectionState(_ callID: String, _ device: String) throws(SwitchError) -> LocalConnectionState {
        guard let call = calls[callID] else { throw .invalidConnectionID("no call \(callID)") }
        guard let state = call.state(of: device) else { throw .invalidConnectionID("\(device) is not in call \(callID)") }
        return state
    }

    private func checkHeldAndActive(_ held: String, _ active: String, _ device: String) throws(SwitchError) {
        guard held != active else { throw .invalidConnectionID("held and active call are the same") }
        let heldState = try connectionState(held, device)
        guard heldState == .hold else { throw .invalidObjectState("\(device) has not held call \(held)") }
        let activeState = try connectionState(active, device)
        guard activeState == .connected else { throw .invalidObjectState("\(device) is not connected in \(active)") }
    }

    private mutating func newCall(calling: String, called: String, now: Date, interaction: String? = nil) -> String {
        let id = Self.hexID(nextCallNumber, digits: 4)
        nextCallNumber += 1
        let interactionID: String
        if let interaction {
            interactionID = interaction
        } else {
            interactionID = "I" + Self.hexID(nextInteractionNumber, digits: 6)
            nextInteractionNumber += 1
            let direction =
                kind(of: calling) == .external ? "inbound" : kind(of: called) == .external ? "outbound" : "internal"
            interactions[interactionID] = InteractionTracker(
                id: interactionID, calling: calling, called: called, direction: direction, startedAt: now)
        }
        interactions[interactionID]?.callIDs.append(id)
        calls[id] = SwitchCall(id: id, interactionID: interactionID, calling: calling, called: called, connections: [])
        return id
    }

    /// Lower-case hex: what a BER decoder shows of the id's octets, so the ids the switch records (truth, its own
    /// tables) are the ids the application sees and sends back, in either encoding.
    static func hexID(_ n: Int, digits: Int) -> String {
        let text = String(n, radix: 16, uppercase: false)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    private mutating func originate(_ call: String, from device: String, to called: String, cause: String, now: Date) {
        appendConnection(call, device, .initiated, now: now)
        emit(callEvent("serviceInitiated", calls[call]!, subject: device, cause: cause == "makeCall" ? "newCall" : cause))
        setState(call, device, .connected, now: now)
        emit(callEvent("originated", calls[call]!, subject: device, cause: cause))
        route(call, to: called, from: device, lastRedirection: nil, now: now)
    }

    /// Offers `call` to `destination`: an agent phone alerts, the ACD group queues, the route point asks the
    /// application, an external number is reached over a trunk.
    private mutating func route(_ call: String, to destination: String, from caller: String, lastRedirection: String?, now: Date) {
        switch kind(of: destination) {
        case .agentPhone:
            appendConnection(call, destination, .alerting, now: now)
            var event = callEvent("delivered", calls[call]!, subject: destination, cause: "newCall")
            event.lastRedirection = lastRedirection
            emit(event)
        case .acdGroup:
            appendConnection(call, numbering.acdGroup, .queued, now: now)
            queue.append(call)
            interactions[calls[call]!.interactionID]?.enqueued(numbering.acdGroup, at: now)
            var event = callEvent("queued", calls[call]!, subject: numbering.acdGroup, cause: "enteringDistribution")
            event.numberQueued = queue.count
            event.lastRedirection = lastRedirection
            emit(event)
            distribute(now: now)
        case .routePoint:
            appendConnection(call, numbering.routePoint, .queued, now: now)
            interactions[calls[call]!.interactionID]?.enqueued(numbering.routePoint, at: now)
            var event = callEvent("queued", calls[call]!, subject: numbering.routePoint, cause: "distributionDelay")
            event.lastRedirection = lastRedirection
            emit(event)
            let crossRef = Self.hexID(nextRouteNumber, digits: 4)
            nextRouteNumber += 1
            pendingRoutes[crossRef] = call
            effects.routeRequests.append(
                RouteRequestNotice(
                    routeingCrossRefID: crossRef, callID: call, routePoint: numbering.routePoint,
                    calling: calls[call]!.calling))
        case .external:
            appendConnection(call, destination, .alerting, now: now)
            var event = callEvent("networkReached", calls[call]!, subject: destination, cause: "networkSignal")
            event.lastRedirection = lastRedirection
            emit(event)
        }
    }

    private mutating func divert(_ call: String, from device: String, to destination: String, cause: String, now: Date) {
        var event = callEvent("diverted", calls[call]!, subject: device, cause: cause)
        event.otherDevice = destination
        event.lastRedirection = device
        removeConnection(call, device, now: now)
        event.observers[device] = .some(.null)
        emit(event)
        afterLeaving(device, now: now)
        route(call, to: destination, from: calls[call]!.calling, lastRedirection: device, now: now)
    }

    /// Hands queued calls to the longest-idle ready agents that have no call.
    mutating func distribute(now: Date) {
        while let call = queue.first {
            let idle = agents.values.filter { agent in
                agent.state == .ready && !calls.values.contains(where: { $0.state(of: agent.ext) != nil })
            }
            guard let agent = idle.min(by: { ($0.idleSince, $0.ext) < ($1.idleSince, $1.ext) }) else { return }
            setAgentState(agent.ext, .busy, cause: nil, now: now)
            divert(call, from: numbering.acdGroup, to: agent.ext, cause: "distributed", now: now)
        }
    }

    /// After an agent phone leaves a call: with no call left, a busy agent goes to after-call work or ready.
    private mutating func afterLeaving(_ device: String, now: Date) {
        queue.removeAll { id in calls[id]?.state(of: numbering.acdGroup) == nil }
        guard let agent = agents[device], agent.state == .busy else { return }
        guard !calls.values.contains(where: { $0.state(of: device) != nil }) else { return }
        setAgentState(device, afterCallWork ? .workingAfterCall : .ready, cause: nil, now: now)
        distribute(now: now)
    }

    private mutating func endCall(_ callID: String, cause: String, now: Date) {
        guard let call = calls[callID] else { return }
        var event = SwitchEvent(name: "callCleared", device: call.connections.first?.device ?? "<notKnown>")
        event.callID = callID
        event.cause = cause
        event.observers = observersOf(call).mapValues { _ in .some(.null) }
        for connection in call.connections { removeConnection(callID, connection.device, now: now) }
        calls[callID] = nil
        emit(event)
        for connection in call.connections { afterLeaving(connection.device, now: now) }
        finishInteractionIfDone(call.interactionID, now: now)
    }

    private mutating func setAgentState(_ device: String, _ state: AgentState, cause: String?, now: Date, loggingOn: Bool = false) {
        guard var agent = agents[device] else { return }
        let eventName: String
        switch state {
        case .loggedOff: eventName = "agentLoggedOff"
        case .notReady: eventName = loggingOn ? "agentLoggedOn" : "agentNotReady"
        case .ready: eventName = "agentReady"
        case .busy: eventName = "agentBusy"
        case .workingAfterCall: eventName = "agentWorkingAfterCall"
        }
        if state == .ready { agent.idleSince = now }
        agent.state = state
        agents[device] = agent
        var event = SwitchEvent(name: eventName, device: device, observers: [device: .none])
        event.agentID = agent.agentID
        event.acdGroup = numbering.acdGroup
        event.cause = cause
        emit(event)
    }

    private mutating func appendConnection(_ call: String, _ device: String, _ state: LocalConnectionState, now: Date) {
        calls[call]!.connections.append(SwitchConnection(device: device, state: state))
        interactions[calls[call]!.interactionID]?.enter(device, agentID: agents[device]?.agentID, state, at: now)
    }

    private mutating func setState(_ call: String, _ device: String, _ state: LocalConnectionState, now: Date) {
        guard let index = calls[call]!.connections.firstIndex(where: { $0.device == device }) else { return }
        calls[call]!.connections[index].state = state
        interactions[calls[call]!.interactionID]?.enter(device, agentID: agents[device]?.agentID, state, at: now)
    }

    private mutating func removeConnection(_ call: String, _ device: String, now: Date) {
        calls[call]!.connections.removeAll { $0.device == device }
        interactions[calls[call]!.interactionID]?.leave(device, at: now)
        if device == numbering.acdGroup { queue.removeAll { $0 == call } }
        if device == numbering.routePoint { pendingRoutes = pendingRoutes.filter { $0.value != call } }
    }

    private mutating func moveConnections(from source: String, to target: String, now: Date) {
        guard let moved = calls[source]?.connections else { return }
        for connection in moved {
            removeConnection(source, connection.device, now: now)
            appendConnection(target, connection.device, connection.state, now: now)
        }
        calls[source] = nil
    }

    private mutating func mergeInteractions(into target: String, from source: String) {
        guard target != source, let other = interactions.removeValue(forKey: source) else { return }
        interactions[target]?.absorb(other)
        for id in other.callIDs where calls[id] != nil { calls[id]!.interactionID = target }
    }

    private mutating func finishInteractionIfDone(_ interactionID: String, now: Date) {
        guard let tracker = interactions[interactionID] else { return }
        guard !calls.values.contains(where: { $0.interactionID == interactionID }) else { return }
        interactions[interactionID] = nil
        effects.finishedCalls.append(tracker.truth(endedAt: now))
    }

    private func observersOf(_ call: SwitchCall) -> [String: LocalConnectionState?] {
        Dictionary(call.connections.map { ($0.device, .some($0.state)) }, uniquingKeysWith: { a, _ in a })
    }

    private func callEvent(_ name: String, _ call: SwitchCall, subject: String, cause: String) -> SwitchEvent {
        var event = SwitchEvent(name: name, device: subject, observers: observersOf(call))
        event.callID = call.id
        event.connDevice = subject
        event.calling = call.calling
        event.called = call.called
        event.cause = cause
        return event
    }

    private mutating func emit(_ event: SwitchEvent) { effects.events.append(event) }
}
