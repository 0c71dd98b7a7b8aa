import Foundation

/// What the model gathers between a link failure and the link coming back.
struct ResyncState: Sendable {
    /// Set from link-down to link-up.
    var reconnecting = false
    /// Device → the calls its snapshot listed (with their states, when the switch gave them).
    var snapshots: [String: [String: ConnectionState?]] = [:]
    /// Calls an event touched since the link went down (they are alive whatever the snapshots say).
    var touched: Set<String> = []
    /// `callID|device` pairs an event touched since the link went down.
    var touchedParties: Set<String> = []
    /// Calls that ended (or were merged into another by a transfer or conference) since the link went down: a snapshot
    /// taken before must not open them again.
    var ended: Set<String> = []
}

/// Which open interactions changed since the last checkpoint.
struct CheckpointState: Sendable {
    var dirty: Set<String> = []
    var ended: Set<String> = []
    var lastWritten: Date? = nil
}

/// The model's open interactions as the store keeps them between runs: interaction id → JSON.
public struct CallModelCheckpoint: Sendable, Hashable {
    /// Interactions that changed (their current state as JSON).
    public var upserts: [String: String]
    /// Interactions that ended or were merged away.
    public var deletes: Set<String>

    public var isEmpty: Bool { upserts.isEmpty && deletes.isEmpty }
}

/// One open interaction with its calls, as checkpointed.
struct InteractionSnapshot: Codable {
    var interaction: Interaction
    var calls: [CallLeg]
    var agents: [AgentStatus]
}

extension CallModelEngine {
    // MARK: Link failures and snapshots

    /// The link went down: every open call may now miss events, so each is marked `resynced`.
    public mutating func linkDown(at: Date, reason: String) -> [CallEvent] {
        resync = ResyncState()
        resync.reconnecting = true
        for id in interactions.keys where !interactions[id]!.resynced {
            interactions[id]!.resynced = true
            checkpoint.dirty.insert(id)
        }
        return [CallEvent(kind: .link, at: at, linkState: "down", reason: reason)]
    }

    /// A SnapshotDevice result taken after (re)connecting: the calls at `device`, with their local states when the
    /// switch reported them (`states[i]` for `callIDs[i]`).
    public mutating func snapshot(device: String, callIDs: [String], states: [String?] = [], at: Date) {
        var entry: [String: ConnectionState?] = [:]
        for (index, id) in callIDs.enumerated() where !id.isEmpty {
            entry[id] = index < states.count ? states[index].flatMap(ConnectionState.init(cstaName:)) : nil
        }
        resync.snapshots[DialPlan.normalize(device), default: [:]].merge(entry) { $1 }
    }

    /// The link is up again (monitors restarted, snapshots taken): closes the calls the snapshots no longer show and
    /// opens the ones they show that the model did not know.
    public mutating func linkUp(at: Date, reason: String) -> [CallEvent] {
        var out: [CallEvent] = []
        let snapshots = resync.snapshots
        var listed: Set<String> = []
        for entries in snapshots.values { listed.formUnion(entries.keys) }
        for (id, leg) in calls.sorted(by: { $0.key < $1.key }) {
            let observed = leg.connections.map(\.device).filter { isObserved($0) }
            let checked = observed.filter { snapshots[$0] != nil }
            // Parties whose snapshot does not show the call left it while events were lost.
            let gone = checked.filter {
                snapshots[$0]?[id] == nil && !resync.touchedParties.contains(Interaction.segmentKey(id, $0))
            }
            // An event since the link went down shows the call alive (a call that ended left `calls`); a party the
            // call was diverted or transferred to may not have reported it yet, so a pending party is kept.
            if listed.contains(id) || resync.touched.contains(id) {
                for device in gone where leg.connections.first(where: { $0.device == device })?.pending != true {
                    removeConnection(id, device, at: at)
                }
                continue
            }
            // Vanished: no snapshot shows it (a party whose snapshot failed keeps it until the next chance).
            if checked.count == observed.count {
                endCall(id, at: at, cause: "resync", out: &out)
            }
        }
        // Calls that appeared, and states the snapshots correct.
        for (device, entries) in snapshots.sorted(by: { $0.key < $1.key }) {
            for (id, reported) in entries.sorted(by: { $0.key < $1.key }) {
                let state = reported ?? (configuration.queueDevices.contains(device) ? .queued : .connected)
                var e = EventContext(
                    input: CSTAEventInput(event: "snapshot", callID: id, device: device, cause: "resync"), at: at)
                let isNew = calls[id] == nil
                if isNew && resync.ended.contains(id) { continue }
                // An event about this party since the link went down is newer than any snapshot.
                if resync.touchedParties.contains(Interaction.segmentKey(id, device)) { continue }
                if isNew {
                    _ = leg(id, create: true, at: at, resynced: true)
                    if state == .queued, let interactionID = calls[id]?.interactionID {
                        interactions[interactionID]?.queue = device
                    }
                }
                let previous = calls[id]?.state(of: device)
                guard previous != state, !(reported == nil && previous != nil) else { continue }
                setConnection(id, device, state, at: at)
                if state == .connected, let interactionID = calls[id]?.interactionID,
                    interactions[interactionID]?.answeredAt == nil, !configuration.queueDevices.contains(device)
                {
                    interactions[interactionID]?.answeredAt = at
                    interactions[interactionID]?.answeredDevice = device
                    interactions[interactionID]?.answeredBy = agents[device]?.agentID
                }
                let kind: CallEventKind =
                    switch state {
                    case .initiated: .originated
                    case .alerting: .ringing
                    case .connected: .answered
                    case .hold: .held
                    case .queued: .queued
                    case .fail: .failed
                    }
                var event = callEvent(kind, e, call: id, device: device)
                event.resynced = true
                e.out.append(event)
                out += e.out
            }
        }
        // Ends that waited for the snapshots: calls with no observed party left.
        for (id, leg) in calls.sorted(by: { $0.key < $1.key })
        where !leg.connections.contains(where: { isObserved($0.device) }) {
            endCall(id, at: at, cause: "resync", out: &out)
        }
        resync = ResyncState()
        out.append(CallEvent(kind: .link, at: at, linkState: "up", reason: reason))
        return out
    }

    /// Closes calls no event has touched for `maxAge` (a switch that never reported their end), marked `resynced`.
    public mutating func closeStale(olderThan maxAge: TimeInterval, at: Date) -> [CallEvent] {
        var out: [CallEvent] = []
        for (id, leg) in calls.sorted(by: { $0.key < $1.key }) {
            guard let interaction = interactions[leg.interactionID] else { continue }
            let last = ([interaction.startedAt] + interaction.openSegments.values.map(\.from)).max() ?? at
            guard at.timeIntervalSince(last) > maxAge else { continue }
            interactions[leg.interactionID]?.resynced = true
            endCall(id, at: at, cause: "stale", out: &out)
        }
        return out
    }

    // MARK: Checkpoints

    /// What changed since the last checkpoint. Ended interactions are always returned (so a restart never revives
    /// them); changed open ones at most every `interval` seconds.
    public mutating func takeCheckpoint(at: Date, interval: TimeInterval) -> CallModelCheckpoint {
        var delta = CallModelCheckpoint(upserts: [:], deletes: checkpoint.ended)
        checkpoint.ended = []
        if checkpoint.lastWritten.map({ at.timeIntervalSince($0) >= interval }) ?? true {
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .millisecondsSince1970
            for id in checkpoint.dirty {
                guard let interaction = interactions[id] else { continue }
                let legs = interaction.liveCalls.sorted().compactMap { calls[$0] }
                let devices = Set(legs.flatMap { $0.connections.map(\.device) })
                let snapshot = InteractionSnapshot(
                    interaction: interaction, calls: legs, agents: devices.sorted().compactMap { agents[$0] })
                if let data = try? encoder.encode(snapshot) {
                    delta.upserts[id] = String(decoding: data, as: UTF8.self)
                }
            }
            checkpoint.dirty = []
            checkpoint.lastWritten = at
        }
        return delta
    }

    /// Restores the open interactions of a previous run (from ``takeCheckpoint(at:interval:)``). They are marked
    /// `resynced` and reconciled at the next ``linkUp(at:reason:)``. Returns the ids that could not be read.
    @discardableResult
    public mutating func restore(_ saved: [String: String]) -> [String] {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        var unreadable: [String] = []
        for (id, json) in saved.sorted(by: { $0.key < $1.key }) {
            guard var snapshot = try? decoder.decode(InteractionSnapshot.self, from: Data(json.utf8)) else {
                unreadable.append(id)
                continue
            }
            snapshot.interaction.resynced = true
            interactions[snapshot.interaction.id] = snapshot.interaction
            for leg in snapshot.calls { calls[leg.id] = leg }
            for agent in snapshot.agents where agents[agent.device] == nil { agents[agent.device] = agent }
        }
        resync.reconnecting = true
        return unreadable
    }

    /// Agents as the bridge last learnt them (restored by the daemon from the store at start-up).
    public mutating func restoreAgents(_ saved: [AgentStatus]) {
        for agent in saved where agents[agent.device] == nil { agents[agent.device] = agent }
    }
}

extension CallModelEngine {
    /// Calls whose progress no SnapshotDevice can show: after a link failure, a call still offered to a party the
    /// bridge does not monitor (the far end of an outbound call) may have been answered meanwhile. The daemon asks the
    /// switch for each with SnapshotCall and hands the answer to ``callSnapshot(callID:devices:states:at:)``.
    public func callsToVerify() -> [String] {
        calls.values.filter { leg in
            guard let interaction = interactions[leg.interactionID], interaction.resynced else { return false }
            return leg.connections.contains { $0.state == .alerting && !isObserved($0.device) }
        }.map(\.id).sorted()
    }

    /// A SnapshotCall result: every party of `callID` and its state (`states[i]` for `devices[i]`, names as in
    /// ``ConnectionState/init(cstaName:)``; unknown ones are left as they are).
    public mutating func callSnapshot(callID: String, devices: [String], states: [String], at: Date) -> [CallEvent] {
        guard calls[callID] != nil, devices.count == states.count else { return [] }
        var out: [CallEvent] = []
        for (raw, name) in zip(devices, states) {
            let device = DialPlan.normalize(raw)
            guard let state = ConnectionState(cstaName: name), let previous = calls[callID]?.state(of: device),
                previous != state
            else { continue }
            setConnection(callID, device, state, at: at)
            var kind = CallEventKind.retrieved
            switch state {
            case .connected:
                kind = .answered
                if let interactionID = calls[callID]?.interactionID, interactions[interactionID]?.answeredAt == nil {
                    let maker = interactions[interactionID]?.calling.flatMap { agents[$0]?.agentID }
                    let taker = agents[device]?.agentID ?? (isInternal(device) ? nil : maker)
                    interactions[interactionID]?.answeredAt = at
                    interactions[interactionID]?.answeredDevice = device
                    interactions[interactionID]?.answeredBy = taker
                }
            case .hold: kind = .held
            case .alerting: kind = .ringing
            case .queued: kind = .queued
            case .initiated: kind = .originated
            case .fail: kind = .failed
            }
            let e = EventContext(input: CSTAEventInput(event: "snapshot", callID: callID, device: device, cause: "resync"), at: at)
            var event = callEvent(kind, e, call: callID, device: device)
            event.resynced = true
            out.append(event)
        }
        return out
    }
}
