import CallModel
import Foundation

/// Decides which agent's desktop gets which screen-pop message (issue 6, contract §7). Pure: no I/O, no clock.
///
/// Fed with the bus's ``CallEvent``s in order, it follows every interaction and each device's state in it, and sends
/// messages only to the agents logged on at the device an event is about:
/// - `pop` when the call reaches the agent's device (``PopTrigger``: ringing there, or answered there);
/// - `update` on answered, held, retrieved, conferenced at that device, and when customer data is attached;
/// - on a transfer, the transferred-to agent gets a `pop` of the same interaction (same id, customer and data) and
///   the transferring agent its `end`;
/// - `end` when the call leaves the device (diverted away on no answer, cleared, transferred) or the interaction ends.
///
/// An agent's devices are the ones its desktops logged on with plus the one the switch reports its ACD agent logged on
/// at. Messages for an agent the switch names but who has no desktop open are dropped and counted
/// (``droppedMessages``). A desktop that (re)connects asks ``currentState(agentID:)`` first.
public struct PopRouter: Sendable {
    public struct Configuration: Sendable, Hashable {
        public var trigger: PopTrigger
        /// An interaction with no event for this long is dropped by ``PopRouter/expire(now:)`` (a lost callEnded).
        public var maxAge: TimeInterval

        public init(trigger: PopTrigger = .alerting, maxAge: TimeInterval = 12 * 3600) {
            self.trigger = trigger
            self.maxAge = maxAge
        }
    }

    /// An agent's state as the switch last reported it.
    struct AgentState: Sendable, Hashable {
        var state: String
        var reason: String?
        var device: String?
        var at: Date
        var resynced: Bool
    }

    public let configuration: Configuration
    var sessions = PopDesktopSessions()
    var interactions: [String: PopInteraction] = [:]
    /// device → the agent the switch reports logged on there.
    var switchAgents: [String: String] = [:]
    var agentStates: [String: AgentState] = [:]
    var lookups: [CustomerLookup] = []
    /// Messages for agents with no desktop open.
    public internal(set) var droppedMessages = 0

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Interactions being followed.
    public var openInteractionCount: Int { interactions.count }

    // MARK: Desktops

    /// A desktop of `agentID` opened, at `devices`. Send it ``currentState(agentID:)`` first.
    public mutating func login(agentID: String, devices: some Sequence<String>) -> DesktopSessionID {
        sessions.login(agentID: agentID, devices: devices)
    }

    /// One desktop closed; the agent's other desktops keep their pops.
    @discardableResult
    public mutating func logout(_ session: DesktopSessionID) -> Bool { sessions.logout(session) }

    /// Every desktop of `agentID` closed.
    public mutating func logout(agentID: String) { sessions.logout(agentID: agentID) }

    public func isLoggedOn(_ agentID: String) -> Bool { sessions.hasSession(agentID) }

    /// The desktops `agentID` has open, oldest first (each gets every message to the agent).
    public func desktops(of agentID: String) -> [DesktopSessionID] { sessions.sessions(of: agentID) }

    /// The devices whose calls `agentID` sees: its desktops' devices and where the switch has it logged on.
    public func devices(of agentID: String) -> Set<String> {
        var devices = sessions.devicesByAgent[agentID] ?? []
        for (device, agent) in switchAgents where agent == agentID { devices.insert(device) }
        return devices
    }

    // MARK: Customer data

    /// The caller numbers to look up since the last call (one per new interaction with a known calling number).
    public mutating func takeLookups() -> [CustomerLookup] {
        defer { lookups = [] }
        // An interaction may have ended while its lookup waited.
        return lookups.filter { interactions[$0.interactionID] != nil }
    }

    /// The lookup's answer for an interaction: later messages carry it, and every agent already popped gets an
    /// `update` with it. Ignored for an interaction that has ended.
    public mutating func attach(
        interactionID: String, customer: CustomerCard?, recentCalls: [RecentCall] = [],
        openWorkOrders: [WorkOrderSummary] = []
    ) -> [PopDelivery] {
        guard var interaction = interactions[interactionID] else { return [] }
        interaction.data = PopAttachedData(
            customer: customer, recentCalls: recentCalls, openWorkOrders: openWorkOrders)
        interactions[interactionID] = interaction
        var out: [PopDelivery] = []
        for device in interaction.parties.keys.sorted() where interaction.parties[device]?.popped == true {
            out += send(.update, interaction, device: device, event: "attached", now: interaction.lastEventAt)
        }
        return out
    }

    // MARK: Reconnect and expiry

    /// What a desktop of `agentID` shows now: its agent state, then one `pop` per open interaction that reached one
    /// of its devices, with the current state and data (oldest first).
    public func currentState(agentID: String) -> [PopMessage] {
        var out: [PopMessage] = []
        if let state = agentStates[agentID] { out.append(stateMessage(agentID: agentID, state)) }
        let devices = devices(of: agentID)
        guard !devices.isEmpty else { return out }
        let open = interactions.values.sorted { ($0.startedAt, $0.id) < ($1.startedAt, $1.id) }
        for interaction in open {
            // The agent's busiest device in the interaction, should it be at two.
            let mine = interaction.parties.filter { devices.contains($0.key) && $0.value.popped }
            let best = mine.max { a, b in
                ((a.value.state?.rank ?? -1), b.key) < ((b.value.state?.rank ?? -1), a.key)
            }
            guard let (device, party) = best else { continue }
            out.append(
                message(
                    .pop, interaction, device: device, agentID: agentID, callState: party.state?.rawValue,
                    event: "reconnect", now: interaction.lastEventAt))
        }
        return out
    }

    /// Drops the interactions with no event for ``Configuration/maxAge`` (their callEnded was lost); the agents they
    /// were popped to get an `end`.
    public mutating func expire(now: Date) -> [PopDelivery] {
        let stale = interactions.values.filter { now.timeIntervalSince($0.lastEventAt) > configuration.maxAge }
        var out: [PopDelivery] = []
        for interaction in stale.sorted(by: { $0.id < $1.id }) {
            interactions[interaction.id] = nil
            for device in interaction.parties.keys.sorted() where interaction.parties[device]?.popped == true {
                out += send(.end, interaction, device: device, callState: "ended", event: "expired", now: now)
            }
        }
        return out
    }

    // MARK: Messages

    func message(
        _ type: PopMessage.Kind, _ interaction: PopInteraction, device: String, agentID: String, callState: String?,
        event: String, now: Date
    ) -> PopMessage {
        PopMessage(
            type: type, interactionID: interaction.id, callIDs: interaction.callIDs, calling: interaction.calling,
            called: interaction.called, device: device, agentID: agentID, queue: interaction.queue,
            waitSeconds: interaction.waitSeconds(now: now), callState: callState,
            customer: interaction.data?.customer, openWorkOrders: interaction.data?.openWorkOrders ?? [],
            recentCalls: interaction.data?.recentCalls ?? [], event: event, enriched: interaction.data != nil,
            resynced: interaction.resynced ? true : nil)
    }

    func stateMessage(agentID: String, _ state: AgentState) -> PopMessage {
        PopMessage(
            type: .state, device: state.device, agentID: agentID, agentState: state.state, reason: state.reason,
            event: "agentState", resynced: state.resynced ? true : nil)
    }

    /// The agents a message about `device` goes to: the desktops at it, and the switch's agent there when it has one
    /// open. The switch's agent without a desktop counts as a dropped message.
    mutating func recipients(of device: String) -> [String] {
        var agents = sessions.agentsByDevice[device] ?? []
        if let agent = switchAgents[device], !agents.contains(agent) {
            if sessions.hasSession(agent) {
                agents.insert(agent)
            } else {
                droppedMessages += 1
            }
        }
        return agents.sorted()
    }

    /// The message about `device` in `interaction`, to each of its agents.
    mutating func send(
        _ type: PopMessage.Kind, _ interaction: PopInteraction, device: String, callState: String? = nil,
        event: String, now: Date
    ) -> [PopDelivery] {
        let state = callState ?? interaction.parties[device]?.state?.rawValue
        return recipients(of: device).map { agent in
            PopDelivery(
                recipient: agent,
                message: message(type, interaction, device: device, agentID: agent, callState: state, event: event, now: now))
        }
    }
}
