import Foundation

extension CallModelEngine {
    /// transferred: the transferring device leaves; the other parties of the primary (held) and secondary
    /// (consultation) calls meet in the resulting call, and every leg is one interaction.
    /// A single-step transfer names only the primary call and the device it goes to.
    mutating func transferred(_ e: inout EventContext) {
        guard let result = rearrange(&e, leaving: e.device) else { return }
        interactions[calls[result]!.interactionID]?.transferred = true
        if let next = e.otherDevice, isObserved(next), calls[result]?.state(of: next) == nil {
            // Single-step: the call is on its way to the transferred-to device, which reports it next.
            setConnection(result, next, .alerting, at: e.at, pending: true)
        }
        e.out.append(callEvent(.transferred, e, call: result, device: e.device))
        endIfUnobserved(result, &e)
    }

    /// conferenced: the held and the consultation call become one call with every party, the conferencing device
    /// connected in it.
    mutating func conferenced(_ e: inout EventContext) {
        guard let result = rearrange(&e, leaving: nil) else { return }
        interactions[calls[result]!.interactionID]?.conferenced = true
        if let device = e.device, calls[result]?.state(of: device) != .connected {
            setConnection(result, device, .connected, at: e.at)
        }
        e.out.append(callEvent(.conferenced, e, call: result, device: e.device))
        endIfUnobserved(result, &e)
    }

    /// Merges the calls a transfer or conference names into one interaction and one resulting call; `leaving`
    /// leaves every one of them. Returns the resulting call id, or `nil` when the event names no call.
    mutating func rearrange(_ e: inout EventContext, leaving: String?) -> String? {
        let primary = e.callID
        let secondary = e.input.secondaryCallID.flatMap { $0.isEmpty ? nil : $0 }
        var named: [String] = []
        for id in [primary, secondary].compactMap({ $0 }) + e.input.newCallIDs where !id.isEmpty && !named.contains(id) {
            named.append(id)
        }
        guard let result = e.input.newCallIDs.first(where: { !$0.isEmpty }) ?? primary ?? secondary else { return nil }
        let known = named.filter { calls[$0] != nil }
        // A repeat of the event from another monitor: the legs are already one call.
        if known == [result] || (known.allSatisfy({ $0 == result }) && !known.isEmpty),
            leaving.map({ calls[result]?.state(of: $0) == nil }) ?? true
        {
            return nil
        }
        // The interaction to keep: the primary (held) call's, else the oldest among the legs.
        let interactionIDs = known.compactMap { calls[$0]?.interactionID }
        let target =
            primary.flatMap { calls[$0]?.interactionID }
            ?? interactionIDs.min { (interactions[$0]?.startedAt ?? e.at) < (interactions[$1]?.startedAt ?? e.at) }
        let interactionID: String
        if let target {
            interactionID = target
        } else {
            // None of the legs was seen (the bridge came up in the middle): start from the result.
            _ = leg(result, create: true, at: e.at, resynced: true)
            interactionID = calls[result]!.interactionID
        }
        for other in Set(interactionIDs) where other != interactionID { merge(other, into: interactionID) }

        // Gather the parties of every named leg under the resulting call id.
        var parties: [Connection] = []
        for id in named where id != result {
            guard let leg = calls[id] else { continue }
            for connection in leg.connections { removeConnection(id, connection.device, at: e.at) }
            parties += leg.connections
            calls[id] = nil
            interactions[interactionID]?.liveCalls.remove(id)
            resync.touched.remove(id)
            // Gone into the result: a snapshot taken before the merge must not open it again.
            if resync.reconnecting { resync.ended.insert(id) }
        }
        if calls[result] == nil { calls[result] = CallLeg(id: result, interactionID: interactionID) }
        calls[result]!.interactionID = interactionID
        for id in named where !(interactions[interactionID]?.callIDs.contains(id) ?? true) {
            interactions[interactionID]!.callIDs.append(id)
        }
        interactions[interactionID]?.liveCalls.insert(result)
        for party in parties where calls[result]?.state(of: party.device) == nil {
            setConnection(result, party.device, party.state, at: e.at, holdCause: party.holdCause)
        }
        if let leaving { removeConnection(result, leaving, at: e.at) }
        resync.touched.insert(result)
        checkpoint.dirty.insert(interactionID)
        return result
    }

    /// Moves every call and segment of interaction `source` into `target`.
    mutating func merge(_ source: String, into target: String) {
        guard source != target, let other = interactions.removeValue(forKey: source) else { return }
        checkpoint.dirty.remove(source)
        checkpoint.ended.insert(source)
        guard var kept = interactions[target] else { return }
        for id in other.callIDs where !kept.callIDs.contains(id) { kept.callIDs.append(id) }
        kept.liveCalls.formUnion(other.liveCalls)
        kept.closedSegments += other.closedSegments
        kept.openSegments.merge(other.openSegments) { mine, _ in mine }
        if kept.answeredAt == nil || (other.answeredAt.map { $0 < kept.answeredAt! } ?? false) {
            if other.answeredAt != nil {
                kept.answeredAt = other.answeredAt
                kept.answeredDevice = other.answeredDevice
                kept.answeredBy = other.answeredBy
            }
        }
        kept.transferred = kept.transferred || other.transferred
        kept.conferenced = kept.conferenced || other.conferenced
        kept.resynced = kept.resynced || other.resynced
        interactions[target] = kept
        for id in other.liveCalls { calls[id]?.interactionID = target }
        checkpoint.dirty.insert(target)
    }
}
