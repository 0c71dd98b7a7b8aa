import CallModel
import Foundation

extension PopRouter {
    /// Applies one bus event (in bus order) and returns the messages it gives. Resynced events (after a link failure)
    /// are applied like the others; link up and down change nothing (the state is kept across them).
    public mutating func apply(_ event: CallEvent) -> [PopDelivery] {
        switch event.kind {
        case .link: return []
        case .agentState: return agentStateChanged(event)
        case .callEnded: return interactionEnded(event)
        default: break
        }
        guard let id = event.interactionID else { return [] }
        var interaction = interactions[id] ?? PopInteraction(id: id, at: event.at)
        interaction.absorb(
            CallEventFields(
                at: event.at, callIDs: event.callIDs ?? event.callID.map { [$0] } ?? [], calling: event.calling,
                called: event.called, queue: event.queue, resynced: event.resynced == true))
        if !interaction.lookupRequested, let number = interaction.calling {
            interaction.lookupRequested = true
            // Bounded even when nobody takes them: lookups of ended interactions go first.
            if lookups.count >= 4096 { lookups.removeAll { interactions[$0.interactionID] == nil } }
            lookups.append(CustomerLookup(interactionID: id, number: number))
        }
        // A leg key for events that name no call id (they all do when they come from the call model).
        let call = event.callID ?? id
        var out: [PopDelivery] = []
        switch event.kind {
        case .originated, .ringing, .networkReached, .queued, .answered, .held, .retrieved, .failed:
            guard let device = event.device, let state = Self.partyState(after: event.kind) else { break }
            if event.kind == .queued, interaction.queuedAt == nil {
                interaction.queuedAt = event.at
                if interaction.queue == nil { interaction.queue = device }
            }
            if event.kind == .answered, interaction.answeredAt == nil { interaction.answeredAt = event.at }
            interaction.setLeg(device, call: call, state)
            if event.kind == .answered { interaction.parties[device]?.answered = true }
            if event.kind == .originated { interaction.madeCalls.insert(call) }
            let announce = [.answered, .held, .retrieved, .failed].contains(event.kind)
            out += reconcile(&interaction, device, event: event.kind.rawValue, announce: announce, at: event.at)
        case .diverted, .partyCleared:
            guard let device = event.device else { break }
            interaction.removeLeg(device, call: call)
            let cause = event.kind == .diverted ? "diverted" : "cleared"
            out += reconcile(&interaction, device, event: cause, announce: false, at: event.at)
            if event.kind == .partyCleared, let alone = interaction.aloneInMadeCall(call) {
                interaction.removeLeg(alone, call: call)
                interaction.madeCalls.remove(call)
                out += reconcile(&interaction, alone, event: "cleared", announce: false, at: event.at)
            }
        case .transferred:
            out += transferred(&interaction, event, call: call)
        case .conferenced:
            interaction.collapseLegs(into: call)
            if let device = event.device { interaction.setLeg(device, call: call, .talking) }
            for device in Self.unique([event.device, event.otherDevice]) {
                out += reconcile(&interaction, device, event: "conferenced", announce: true, at: event.at)
            }
        case .link, .agentState, .callEnded:
            break
        }
        interactions[id] = interaction
        return out
    }

    /// The transferring device leaves (its agent gets `end`); the transferred-to device's agent gets the pop of the
    /// same interaction, now its call, as soon as the trigger is met there (at once for a consultation it answered).
    mutating func transferred(_ interaction: inout PopInteraction, _ event: CallEvent, call: String) -> [PopDelivery] {
        var out: [PopDelivery] = []
        interaction.collapseLegs(into: call)
        if let leaving = event.device, let party = interaction.parties.removeValue(forKey: leaving), party.popped {
            out += send(.end, interaction, device: leaving, callState: "ended", event: "transferred", now: event.at)
        }
        guard let target = event.otherDevice, target != event.device else {
            // A switch that does not name the transferred-to device: the agents left in the call take it over.
            for device in interaction.parties.keys.sorted() where interaction.parties[device]?.popped == true {
                out += reconcile(&interaction, device, event: "transferred", announce: false, repop: true, at: event.at)
            }
            return out
        }
        // A single-step transfer: the call is on its way to the target, which reports it ringing next.
        if interaction.parties[target]?.state == nil { interaction.setLeg(target, call: call, .ringing) }
        interaction.parties[target]?.offered = true
        out += reconcile(&interaction, target, event: "transferred", announce: false, repop: true, at: event.at)
        return out
    }

    /// The messages after `device`'s state in `interaction` changed: `end` when it left the interaction, `pop` when
    /// the trigger is met for the first time (or again, with `repop`), `update` when `announce` and already popped.
    mutating func reconcile(
        _ interaction: inout PopInteraction, _ device: String, event: String, announce: Bool, repop: Bool = false,
        at: Date
    ) -> [PopDelivery] {
        guard var party = interaction.parties[device] else { return [] }
        if party.legs.isEmpty {
            interaction.parties[device] = nil
            guard party.popped else { return [] }
            return send(.end, interaction, device: device, callState: "ended", event: event, now: at)
        }
        if party.meets(configuration.trigger) && (!party.popped || repop) {
            party.popped = true
            interaction.parties[device] = party
            return send(.pop, interaction, device: device, event: event, now: at)
        }
        guard party.popped, announce else { return [] }
        return send(.update, interaction, device: device, event: event, now: at)
    }

    /// callEnded: every agent still popped gets `end`, and the interaction is forgotten.
    mutating func interactionEnded(_ event: CallEvent) -> [PopDelivery] {
        guard let id = event.interactionID, var interaction = interactions.removeValue(forKey: id) else { return [] }
        interaction.absorb(
            CallEventFields(
                at: event.at, callIDs: event.callIDs ?? [], calling: event.calling, called: event.called,
                queue: event.queue, resynced: event.resynced == true))
        var out: [PopDelivery] = []
        for device in interaction.parties.keys.sorted() where interaction.parties[device]?.popped == true {
            out += send(.end, interaction, device: device, callState: "ended", event: "ended", now: event.at)
        }
        return out
    }

    /// agentState: the agent's own `state` message, to that agent only; the switch's agent-to-device table follows.
    mutating func agentStateChanged(_ event: CallEvent) -> [PopDelivery] {
        let device = event.device
        if let device {
            if event.agentState == "loggedOff" {
                if event.agentID == nil || switchAgents[device] == event.agentID { switchAgents[device] = nil }
            } else if let agentID = event.agentID {
                switchAgents[device] = agentID
            }
        }
        // The switch names the agent; when it does not, the desktops at the device are the agent's.
        let agents = event.agentID.map { [$0] } ?? device.flatMap { sessions.agentsByDevice[$0]?.sorted() } ?? []
        guard let state = event.agentState else { return [] }
        var out: [PopDelivery] = []
        for agentID in agents {
            let status = AgentState(
                state: state, reason: event.reason, device: device, at: event.at, resynced: event.resynced == true)
            agentStates[agentID] = status
            guard sessions.hasSession(agentID) else {
                droppedMessages += 1
                continue
            }
            out.append(PopDelivery(recipient: agentID, message: stateMessage(agentID: agentID, status)))
        }
        return out
    }

    static func partyState(after kind: CallEventKind) -> PopPartyState? {
        switch kind {
        case .originated: .dialing
        case .ringing, .networkReached: .ringing
        case .queued: .queued
        case .answered, .retrieved: .talking
        case .held: .held
        case .failed: .failed
        default: nil
        }
    }

    static func unique(_ devices: [String?]) -> [String] {
        var seen: [String] = []
        for case let device? in devices where !seen.contains(device) { seen.append(device) }
        return seen
    }
}
